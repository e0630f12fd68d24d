/* fuzz_roster_delta - RosterDelta: rebuilding a full roster from the fixed
 * version-1 roster and a delta, then verifying the result like a pushed
 * roster; a rebuilt roster that verifies must be newer than its base. */
#include "fuzz_common.h"
#include "rosterdelta.h"

#include <stdlib.h>
#include <string.h>

static uint8_t pin[IRN_PK_LEN];
static uint8_t *base;
static size_t base_len;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_pin(pin);
	base = fuzz_roster_bytes(false, &base_len);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *full = NULL;
	size_t flen = 0;
	irn_err e = irn_roster_delta_apply(base, base_len, data, size, &full, &flen);
	if (e != IRN_OK) {
		FUZZ_CHECK(full == NULL && flen == 0);
		return 0;
	}
	FUZZ_CHECK(full != NULL && flen > 0 && flen <= IRN_MAX_ROSTER_BYTES);
	irn_roster *r = NULL;
	uint8_t np[IRN_PK_LEN];
	if (irn_roster_parse(full, flen, pin, FUZZ_NETWORK, FUZZ_NOW_MS, &r, np) == IRN_OK) {
		FUZZ_CHECK(r->version > 1);
		/* a delta back from it to the base is never possible */
		uint8_t *back = NULL;
		size_t bl;
		FUZZ_CHECK(irn_roster_delta_make(full, flen, base, base_len, &back, &bl) != IRN_OK);
		FUZZ_CHECK(back == NULL);
		irn_roster_free(&r);
	} else {
		FUZZ_CHECK(r == NULL);
	}
	free(full);
	return 0;
}
