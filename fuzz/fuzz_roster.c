/* fuzz_roster - SignedRoster decoding: verified against the fixed pin and
 * unverified; the lookups a node and a broker make on the result. */
#include "fuzz_common.h"
#include "validate.h"
#include "irnet.pb-c.h"

#include <string.h>

static uint8_t pin[IRN_PK_LEN];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	fuzz_pin(pin);
	(void)fuzz_roster();
	return 0;
}

static void
exercise(const irn_roster *r)
{
	FUZZ_CHECK(r->n_members <= IRN_MAX_ROSTER_MEMBERS && r->bytes != NULL);
	FUZZ_CHECK(irn_network_id_ok(r->network) && r->expires_ms > r->issued_ms);
	for (size_t i = 0; i < r->n_members; i++) {
		const irn_member *m = &r->members[i];
		FUZZ_CHECK(irn_member_id_ok(m->id) && m->roles != 0);
		FUZZ_CHECK(m->display_name != NULL && m->organisation != NULL);
		FUZZ_CHECK(i == 0 || strcmp(r->members[i - 1].id, m->id) < 0);
		FUZZ_CHECK(irn_roster_find(r, m->id) == m);
		FUZZ_CHECK(irn_roster_find_key_id(r, m->key_id) == m);
		FUZZ_CHECK(irn_roster_find_transport(r, m->transport_pk, 0) == m);
		(void)irn_member_current(m, FUZZ_NOW_MS);
		(void)irn_member_has_role(m, IRNET__ROLE__ROLE_BROKER);
	}
	(void)irn_roster_find(r, FUZZ_ID_OPERATOR);
	(void)irn_roster_newer(fuzz_roster(), r);
	(void)irn_roster_newer(r, fuzz_roster());
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	irn_roster *r = NULL;
	uint8_t np[IRN_PK_LEN];
	if (irn_roster_parse(data, size, pin, FUZZ_NETWORK, FUZZ_NOW_MS, &r, np) == IRN_OK) {
		FUZZ_CHECK(r != NULL && strcmp(r->network, FUZZ_NETWORK) == 0);
		FUZZ_CHECK(memcmp(r->authority_pk, np, IRN_PK_LEN) == 0);
		exercise(r);
		irn_roster_free(&r);
	} else {
		FUZZ_CHECK(r == NULL);
	}
	if (irn_roster_parse_unverified(data, size, &r) == IRN_OK) {
		FUZZ_CHECK(r != NULL);
		exercise(r);
		irn_roster_free(&r);
	} else {
		FUZZ_CHECK(r == NULL);
	}
	return 0;
}
