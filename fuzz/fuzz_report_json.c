/* fuzz_report_json - the JSON form (docs/FORMS.md) through
 * irn_report_from_json; what it accepts must decode, validate and render. */
#include "fuzz_common.h"
#include "envelope.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

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
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	json_error_t jerr;
	json_t *form = json_loads(s, 0, &jerr);
	free(s);
	if (form == NULL)
		return 0;
	uint8_t *out = NULL;
	size_t outlen = 0;
	char err[256];
	irn_err e = irn_report_from_json(form, FUZZ_NOW_MS, &out, &outlen, err, sizeof err);
	if (e == IRN_OK) {
		FUZZ_CHECK(out != NULL && outlen <= IRN_MAX_PAYLOAD);
		FUZZ_CHECK(irn_payload_validate(IRNET__KIND__KIND_INITIAL_REPORT, out, outlen) == NULL);
		json_t *back = irn_report_to_json(out, outlen);
		FUZZ_CHECK(back != NULL);
		json_decref(back);
		free(out);
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
	}
	json_decref(form);
	return 0;
}
