/* fuzz_report - an InitialReport payload: validation, JSON rendering, and
 * the rendered JSON fed back through irn_report_from_json. */
#include "fuzz_common.h"
#include "envelope.h"
#include "report.h"

#include <stdlib.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bad = irn_payload_validate(IRNET__KIND__KIND_INITIAL_REPORT, data, size);
	json_t *j = irn_report_to_json(data, size);
	/* every payload that validates renders (to_json may be more lenient:
	 * it shows stored messages and checks no size or canonical form) */
	if (bad == NULL)
		FUZZ_CHECK(j != NULL);
	if (j != NULL) {
		char *s = json_dumps(j, JSON_COMPACT);
		FUZZ_CHECK(s != NULL);
		free(s);
		uint8_t *out = NULL;
		size_t outlen = 0;
		char err[256];
		if (irn_report_from_json(j, FUZZ_NOW_MS, &out, &outlen, err, sizeof err) == IRN_OK) {
			FUZZ_CHECK(irn_payload_validate(IRNET__KIND__KIND_INITIAL_REPORT, out, outlen) == NULL);
			free(out);
		}
		json_decref(j);
	}
	return 0;
}
