/* helpers.c - shared fixtures for the cmocka unit tests. */
#include "helpers.h"
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

void
th_init(void)
{
	assert_int_equal(irn_global_init(), 0);
}

int
th_rmrf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char sub[4096];
		if (irn_snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < 0 || th_rmrf(sub) != 0)
			rc = -1;
	}
	closedir(d);
	if (rmdir(path) != 0)
		rc = -1;
	return rc;
}

irn_keys *
th_keys(void)
{
	irn_keys *k = NULL;
	assert_int_equal(irn_keys_generate(&k), IRN_OK);
	assert_non_null(k);
	return k;
}

uint8_t *
th_roster_body(const th_roster_spec *s, size_t *len)
{
	int64_t now = irn_now_ms();
	Irnet__RosterBody rb = IRNET__ROSTER_BODY__INIT;
	rb.network = (char *)(s->network ? s->network : TH_NET);
	rb.version = s->version ? s->version : 1;
	rb.issued_ms = s->issued_ms ? s->issued_ms : now - TH_HOUR_MS;
	rb.expires_ms = s->expires_ms ? s->expires_ms : now + 30 * TH_DAY_MS;
	rb.authority_pk.data = (uint8_t *)(s->authority_pk ? s->authority_pk : s->signer->sign_pk);
	rb.authority_pk.len = IRN_PK_LEN;

	Irnet__Member *pm = calloc(s->n_members ? s->n_members : 1, sizeof *pm);
	Irnet__Member **pp = calloc(s->n_members ? s->n_members : 1, sizeof *pp);
	uint32_t(*roles)[4] = calloc(s->n_members ? s->n_members : 1, sizeof *roles);
	assert_non_null(pm);
	assert_non_null(pp);
	assert_non_null(roles);
	for (size_t i = 0; i < s->n_members; i++) {
		const th_member *m = &s->members[i];
		irnet__member__init(&pm[i]);
		pm[i].id = (char *)m->id;
		pm[i].display_name = (char *)m->id;
		pm[i].organisation = (char *)"Sở Thông tin và Truyền thông";
		size_t nr = 0;
		while (nr < 4 && m->roles[nr] != 0) {
			roles[i][nr] = m->roles[nr];
			nr++;
		}
		pm[i].roles = roles[i];
		pm[i].n_roles = nr;
		pm[i].sign_pk.data = (uint8_t *)m->keys->sign_pk;
		pm[i].sign_pk.len = IRN_PK_LEN;
		pm[i].transport_pk.data = (uint8_t *)m->keys->box_pk;
		pm[i].transport_pk.len = IRN_PK_LEN;
		pm[i].valid_from_ms = m->valid_from_ms ? m->valid_from_ms : now - TH_DAY_MS;
		pm[i].valid_until_ms = m->valid_until_ms ? m->valid_until_ms : now + 365 * TH_DAY_MS;
		pm[i].revoked = m->revoked;
		if (m->revoked) {
			pm[i].has_revoked_ms = true;
			pm[i].revoked_ms = now - TH_HOUR_MS;
		}
		pp[i] = &pm[i];
	}
	rb.members = pp;
	rb.n_members = s->n_members;
	size_t n = irnet__roster_body__get_packed_size(&rb);
	uint8_t *out = malloc(n ? n : 1);
	assert_non_null(out);
	assert_int_equal(irnet__roster_body__pack(&rb, out), n);
	free(roles);
	free(pp);
	free(pm);
	*len = n;
	return out;
}

uint8_t *
th_signed_roster_pack(const uint8_t *body, size_t blen, const uint8_t sig[IRN_SIG_LEN],
		      const Irnet__AuthorityRotation *const *rot, size_t nrot, size_t *len)
{
	Irnet__SignedRoster sr = IRNET__SIGNED_ROSTER__INIT;
	sr.body.data = (uint8_t *)body;
	sr.body.len = blen;
	sr.signature.data = (uint8_t *)sig;
	sr.signature.len = IRN_SIG_LEN;
	sr.rotations = (Irnet__AuthorityRotation **)rot;
	sr.n_rotations = nrot;
	size_t n = irnet__signed_roster__get_packed_size(&sr);
	uint8_t *out = malloc(n);
	assert_non_null(out);
	assert_int_equal(irnet__signed_roster__pack(&sr, out), n);
	*len = n;
	return out;
}

uint8_t *
th_roster(const th_roster_spec *s, size_t *len)
{
	size_t blen;
	uint8_t *body = th_roster_body(s, &blen);
	uint8_t sig[IRN_SIG_LEN];
	assert_int_equal(irn_domain_sign(sig, IRN_DOMAIN_ROSTER, s->network ? s->network : TH_NET,
					 body, blen, s->signer->sign_sk),
			 IRN_OK);
	uint8_t *out = th_signed_roster_pack(body, blen, sig, s->rotations, s->n_rotations, len);
	free(body);
	return out;
}

irn_roster *
th_roster_parse_ok(const uint8_t *buf, size_t len, const uint8_t pin[IRN_PK_LEN],
		   const char *network)
{
	irn_roster *r = NULL;
	uint8_t np[IRN_PK_LEN];
	assert_int_equal(irn_roster_parse(buf, len, pin, network ? network : TH_NET, irn_now_ms(),
					  &r, np),
			 IRN_OK);
	assert_non_null(r);
	return r;
}

void
th_rotation(Irnet__AuthorityRotation *ar, uint8_t sig[IRN_SIG_LEN], const char *network,
	    const uint8_t old_pk[IRN_PK_LEN], const uint8_t new_pk[IRN_PK_LEN],
	    const uint8_t signer_sk[64])
{
	uint8_t pair[2 * IRN_PK_LEN];
	memcpy(pair, old_pk, IRN_PK_LEN);
	memcpy(pair + IRN_PK_LEN, new_pk, IRN_PK_LEN);
	assert_int_equal(irn_domain_sign(sig, IRN_DOMAIN_ROTATION, network, pair, sizeof pair,
					 signer_sk),
			 IRN_OK);
	irnet__authority_rotation__init(ar);
	ar->old_pk.data = (uint8_t *)old_pk;
	ar->old_pk.len = IRN_PK_LEN;
	ar->new_pk.data = (uint8_t *)new_pk;
	ar->new_pk.len = IRN_PK_LEN;
	ar->signature.data = sig;
	ar->signature.len = IRN_SIG_LEN;
}

uint8_t *
th_report_payload(size_t *len)
{
	json_error_t jerr;
	json_t *form = json_loads(
		"{\"organisation\": {\"name\": \"Sở Thông tin và Truyền thông tỉnh Kon Tum\"},"
		" \"contact\": {\"name\": \"Nguyễn Văn An\", \"phone\": \"0905 000 111\"},"
		" \"system\": \"Cổng thông tin điện tử tỉnh\","
		" \"security_level\": 3,"
		" \"category\": \"attack.malware\","
		" \"summary\": \"Máy chủ bị nhiễm mã độc\","
		" \"detected_at\": \"2026-11-25T08:00:00+07:00\"}",
		0, &jerr);
	assert_non_null(form);
	uint8_t *p = NULL;
	char err[256] = "";
	irn_err e = irn_report_from_json(form, irn_now_ms(), &p, len, err, sizeof err);
	json_decref(form);
	if (e != IRN_OK)
		print_error("irn_report_from_json: %s\n", err);
	assert_int_equal(e, IRN_OK);
	assert_non_null(p);
	return p;
}

void
th_header(Irnet__Header *h, uint8_t msgid[IRN_MSGID_LEN], const char *sender, unsigned kind,
	  uint64_t seq)
{
	static uint32_t to_coordinator[1] = { IRNET__ROLE__ROLE_COORDINATOR };
	irnet__header__init(h);
	irn_msgid_new(msgid);
	h->version = IRN_PROTOCOL_VERSION;
	h->message_id.data = msgid;
	h->message_id.len = IRN_MSGID_LEN;
	h->sender = (char *)sender;
	h->to_roles = to_coordinator;
	h->n_to_roles = 1;
	h->sequence = seq;
	h->created_ms = irn_now_ms();
	h->kind = kind;
	h->exercise = true;
	h->tlp = IRNET__TLP__TLP_AMBER;
}

uint8_t *
th_envelope(const irn_keys *k, const char *network, const Irnet__Header *h,
	    const uint8_t *payload, size_t plen, size_t *len)
{
	uint8_t *out = NULL;
	assert_int_equal(irn_envelope_build(k, network, h, payload, plen, &out, len), IRN_OK);
	assert_non_null(out);
	return out;
}

uint8_t *
th_report_envelope(const irn_keys *k, const char *network, const char *sender, uint64_t seq,
		   uint8_t msgid[IRN_MSGID_LEN], size_t *len)
{
	size_t plen;
	uint8_t *p = th_report_payload(&plen);
	Irnet__Header h;
	th_header(&h, msgid, sender, IRNET__KIND__KIND_INITIAL_REPORT, seq);
	uint8_t *env = th_envelope(k, network, &h, p, plen, len);
	free(p);
	return env;
}

uint8_t *
th_envelope_pack(const uint8_t kid[IRN_KEYID_LEN], const uint8_t *body, size_t blen,
		 const uint8_t sig[IRN_SIG_LEN], size_t *len)
{
	Irnet__Envelope env = IRNET__ENVELOPE__INIT;
	env.signer_key_id.data = (uint8_t *)kid;
	env.signer_key_id.len = IRN_KEYID_LEN;
	env.body.data = (uint8_t *)body;
	env.body.len = blen;
	env.signature.data = (uint8_t *)sig;
	env.signature.len = IRN_SIG_LEN;
	size_t n = irnet__envelope__get_packed_size(&env);
	uint8_t *out = malloc(n);
	assert_non_null(out);
	assert_int_equal(irnet__envelope__pack(&env, out), n);
	*len = n;
	return out;
}
