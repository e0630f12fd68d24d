/* fuzz_envelope - irn_envelope_check against the fixed roster, relayed (no
 * connection member) and as the broker sees it (authenticated member). */
#include "fuzz_common.h"
#include "envelope.h"
#include "authz.h"

#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	(void)fuzz_roster();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const conn[] = { NULL, FUZZ_ID_OPERATOR };
	const irn_roster *r = fuzz_roster();
	for (size_t i = 0; i < sizeof conn / sizeof conn[0]; i++) {
		irn_msg *m = NULL;
		irn_refusal why;
		int rc = irn_envelope_check(r, FUZZ_NETWORK, data, size, conn[i], FUZZ_NOW_MS,
					    FUZZ_NOW_MS, &m, &why);
		if (rc == 0) {
			FUZZ_CHECK(m != NULL && m->env != NULL && m->body != NULL && m->h != NULL);
			FUZZ_CHECK(m->signer != NULL && irn_roster_find(r, m->signer->id) == m->signer);
			FUZZ_CHECK(irn_authz_may_send(m->signer->roles, m->h->kind));
			FUZZ_CHECK(irn_header_validate(m->h, FUZZ_NOW_MS) == NULL);
			FUZZ_CHECK(conn[i] == NULL || strcmp(conn[i], m->signer->id) == 0);
			(void)irn_msg_addressed_to(m->h, FUZZ_ID_COORDINATOR,
						   IRN_ROLE_BIT(IRNET__ROLE__ROLE_COORDINATOR));
		} else {
			FUZZ_CHECK(rc == -1 && m == NULL && why.reason != NULL);
			FUZZ_CHECK(irn_error_code_name(why.code) != NULL);
		}
		irn_msg_free(&m);
		FUZZ_CHECK(m == NULL);
	}
	return 0;
}
