/* fuzz_common.c - see fuzz_common.h. */
#include "fuzz_common.h"
#include "crypto.h"
#include "irnet.pb-c.h"

#include <string.h>
#include <sodium.h>
#include <sanitizer/common_interface_defs.h>

static const struct {
	const char *id, *name, *org, *endpoint;
	unsigned slot;
	uint32_t roles[2];
	size_t n_roles;
	bool revoked;
} members[] = {
	{ FUZZ_ID_BROKER, "Máy chủ trung gian tỉnh Kon Tum", "Sở Thông tin và Truyền thông",
	  "tcp://127.0.0.1:7700", FUZZ_KEY_BROKER, { IRNET__ROLE__ROLE_BROKER }, 1, false },
	{ FUZZ_ID_OPERATOR, "Bệnh viện Đa khoa tỉnh", "Sở Y tế", NULL, FUZZ_KEY_OPERATOR,
	  { IRNET__ROLE__ROLE_OPERATOR }, 1, false },
	{ FUZZ_ID_OWNER, "Sở Y tế", "UBND tỉnh Kon Tum", NULL, FUZZ_KEY_OWNER,
	  { IRNET__ROLE__ROLE_OWNER }, 1, false },
	{ FUZZ_ID_COORDINATOR, "Đội ứng cứu sự cố tỉnh", "Sở Thông tin và Truyền thông", NULL,
	  FUZZ_KEY_COORDINATOR, { IRNET__ROLE__ROLE_COORDINATOR, IRNET__ROLE__ROLE_STEERING }, 2,
	  false },
	{ FUZZ_ID_RESPONDER, "Thành viên ứng cứu", "Công ty An toàn thông tin", NULL,
	  FUZZ_KEY_RESPONDER, { IRNET__ROLE__ROLE_RESPONDER }, 1, false },
	{ FUZZ_ID_REVOKED, "Cán bộ cũ", "Sở Y tế", NULL, FUZZ_KEY_REVOKED,
	  { IRNET__ROLE__ROLE_OPERATOR }, 1, true },
};
#define N_MEMBERS (sizeof members / sizeof members[0])

void
fuzz_check_failed(const char *file, int line, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof msg, "%s:%d: invariant failed: %s", file, line, what);
	__sanitizer_report_error_summary(msg);
	abort();
}

void
fuzz_init(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "fuzz: sodium_init failed\n");
		abort();
	}
}

void
fuzz_keys(unsigned slot, irn_keys *k)
{
	uint8_t seed[32];
	memset(seed, 0, sizeof seed);
	memcpy(seed, "irnet-fuzz-fixed-seed", 21);
	seed[30] = (uint8_t)slot;
	seed[31] = 's';
	crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
	seed[31] = 't';
	crypto_box_seed_keypair(k->box_pk, k->box_sk, seed);
}

void
fuzz_pin(uint8_t pk[IRN_PK_LEN])
{
	irn_keys k;
	fuzz_keys(FUZZ_KEY_AUTHORITY, &k);
	memcpy(pk, k.sign_pk, IRN_PK_LEN);
	sodium_memzero(&k, sizeof k);
}

static void
must(irn_err e, const char *what)
{
	if (e != IRN_OK) {
		fprintf(stderr, "fuzz: %s: %s\n", what, irn_strerror(e));
		abort();
	}
}

uint8_t *
fuzz_roster_bytes(bool rotated, size_t *len)
{
	irn_keys keys[FUZZ_KEY__COUNT];
	for (unsigned i = 0; i < FUZZ_KEY__COUNT; i++)
		fuzz_keys(i, &keys[i]);
	const irn_keys *auth = &keys[rotated ? FUZZ_KEY_AUTHORITY2 : FUZZ_KEY_AUTHORITY];

	Irnet__Member pm[N_MEMBERS], *pmp[N_MEMBERS];
	for (size_t i = 0; i < N_MEMBERS; i++) {
		irnet__member__init(&pm[i]);
		pm[i].id = (char *)members[i].id;
		pm[i].display_name = (char *)members[i].name;
		pm[i].organisation = (char *)members[i].org;
		pm[i].endpoint = (char *)members[i].endpoint;
		pm[i].n_roles = members[i].n_roles;
		pm[i].roles = (uint32_t *)members[i].roles;
		pm[i].sign_pk.data = keys[members[i].slot].sign_pk;
		pm[i].sign_pk.len = IRN_PK_LEN;
		pm[i].transport_pk.data = keys[members[i].slot].box_pk;
		pm[i].transport_pk.len = IRN_PK_LEN;
		pm[i].valid_from_ms = FUZZ_ISSUED_MS;
		pm[i].valid_until_ms = FUZZ_EXPIRES_MS;
		pm[i].revoked = members[i].revoked;
		if (members[i].revoked) {
			pm[i].has_revoked_ms = true;
			pm[i].revoked_ms = FUZZ_ISSUED_MS + 86400000;
		}
		pmp[i] = &pm[i];
	}
	Irnet__RosterBody rb = IRNET__ROSTER_BODY__INIT;
	rb.network = (char *)FUZZ_NETWORK;
	rb.version = rotated ? 2 : 1;
	rb.issued_ms = FUZZ_ISSUED_MS;
	rb.expires_ms = FUZZ_EXPIRES_MS;
	rb.authority_pk.data = (uint8_t *)auth->sign_pk;
	rb.authority_pk.len = IRN_PK_LEN;
	rb.n_members = N_MEMBERS;
	rb.members = pmp;
	size_t blen = irnet__roster_body__get_packed_size(&rb);
	uint8_t *body = malloc(blen);
	if (body == NULL)
		abort();
	irnet__roster_body__pack(&rb, body);

	uint8_t sig[IRN_SIG_LEN], rsig[IRN_SIG_LEN], pair[2 * IRN_PK_LEN];
	must(irn_domain_sign(sig, IRN_DOMAIN_ROSTER, FUZZ_NETWORK, body, blen, auth->sign_sk),
	     "sign roster");
	Irnet__SignedRoster sr = IRNET__SIGNED_ROSTER__INIT;
	sr.body.data = body;
	sr.body.len = blen;
	sr.signature.data = sig;
	sr.signature.len = sizeof sig;
	Irnet__AuthorityRotation rot = IRNET__AUTHORITY_ROTATION__INIT, *rotp = &rot;
	if (rotated) {
		memcpy(pair, keys[FUZZ_KEY_AUTHORITY].sign_pk, IRN_PK_LEN);
		memcpy(pair + IRN_PK_LEN, keys[FUZZ_KEY_AUTHORITY2].sign_pk, IRN_PK_LEN);
		must(irn_domain_sign(rsig, IRN_DOMAIN_ROTATION, FUZZ_NETWORK, pair, sizeof pair,
				     keys[FUZZ_KEY_AUTHORITY].sign_sk),
		     "sign rotation");
		rot.old_pk.data = pair;
		rot.old_pk.len = IRN_PK_LEN;
		rot.new_pk.data = pair + IRN_PK_LEN;
		rot.new_pk.len = IRN_PK_LEN;
		rot.signature.data = rsig;
		rot.signature.len = sizeof rsig;
		sr.n_rotations = 1;
		sr.rotations = &rotp;
	}
	*len = irnet__signed_roster__get_packed_size(&sr);
	uint8_t *out = malloc(*len);
	if (out == NULL)
		abort();
	irnet__signed_roster__pack(&sr, out);
	free(body);
	sodium_memzero(keys, sizeof keys);
	return out;
}

const irn_roster *
fuzz_roster(void)
{
	static irn_roster *r;
	if (r == NULL) {
		size_t len;
		uint8_t *b = fuzz_roster_bytes(false, &len);
		uint8_t pin[IRN_PK_LEN], np[IRN_PK_LEN];
		fuzz_pin(pin);
		must(irn_roster_parse(b, len, pin, FUZZ_NETWORK, FUZZ_NOW_MS, &r, np),
		     "parse the fixed roster");
		free(b);
	}
	return r;
}
