/* irnet-keys - the authority's tool: authority key, roster editing and
 * signing, authority key rotation. Members' own keys are made by
 * `irnet-node init` / `irnet-broker init` on their own machines. */
#include "cli.h"
#include "crypto.h"
#include "keys.h"
#include "roster.h"
#include "validate.h"
#include "irnet.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include <sodium.h>

static const char *prog = "irnet-keys";

static void
usage(FILE *f)
{
	fputs(_("usage: irnet-keys COMMAND [ARGS]\n"
		"\n"
		"The authority's tool for irnet identities and the roster.\n"
		"\n"
		"Commands:\n"
		"  authority-init --dir DIR\n"
		"      make the authority's Ed25519 key in DIR (sign.key, mode 0600)\n"
		"      and print its public key: every member pins it at init\n"
		"  roster-add --roster FILE.json --request MEMBER.json --roles R1,R2\n"
		"             --name NAME --org ORG [--endpoint URL] [--network NET]\n"
		"             [--valid-days N] [--overlap-seconds N]\n"
		"      add a member (from its `whoami` output) to the roster draft;\n"
		"      roles: operator owner coordinator responder steering national\n"
		"      authority broker. Raises the draft's version. Adding a member\n"
		"      again with new keys rotates them: the old ones stay valid for the\n"
		"      overlap (default 7 days).\n"
		"  roster-revoke --roster FILE.json --id ID\n"
		"      mark a member revoked from now on. Raises the draft's version.\n"
		"  roster-sign --authority DIR --roster FILE.json --out FILE\n"
		"              [--valid-days N] [--rotation CERT]...\n"
		"      sign the draft into a roster every broker and node can verify\n"
		"  roster-show FILE [--json]\n"
		"      print a signed roster (not verified: use roster-import for that)\n"
		"  rotate --old DIR --new DIR --network NET --out CERT\n"
		"      certify a new authority key with the old one\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n"), f);
}

static const char *
arg(int argc, char **argv, const char *name)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

static int IRN_PRINTF(1, 2)
fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int
cmd_authority_init(int argc, char **argv)
{
	const char *dir = arg(argc, argv, "--dir");
	if (!dir)
		return usage(stderr), 2;
	if (irn_mkdir_p(dir, 0700) != IRN_OK)
		return fail(_("cannot create %s"), dir);
	irn_keys *k = NULL;
	if (irn_keys_generate(&k) != IRN_OK)
		return 1;
	irn_err e = irn_keys_save(k, dir);
	char hex[65];
	irn_hex(hex, k->sign_pk, IRN_PK_LEN);
	irn_keys_free(&k);
	if (e != IRN_OK)
		return fail(_("cannot write keys: %s"), irn_strerror(e));
	printf("%s\n", hex);
	return 0;
}

static json_t *
load_draft(const char *path, bool create, const char *network)
{
	json_error_t err;
	json_t *r = json_load_file(path, 0, &err);
	if (r == NULL && create) {
		if (network == NULL || !irn_network_id_ok(network)) {
			fail(_("%s does not exist: give --network to start a new roster"), path);
			return NULL;
		}
		return json_pack("{s:s,s:i,s:[]}", "network", network, "version", 0, "members");
	}
	if (r == NULL)
		fail(_("cannot read the roster draft: %s"), err.text);
	return r;
}

static int
save_draft(const char *path, json_t *r)
{
	json_object_set_new(r, "version",
			    json_integer(json_integer_value(json_object_get(r, "version")) + 1));
	if (json_dump_file(r, path, JSON_INDENT(2)) != 0)
		return fail(_("cannot write %s"), path);
	return 0;
}

static int
cmd_roster_add(int argc, char **argv)
{
	const char *path = arg(argc, argv, "--roster"), *req = arg(argc, argv, "--request");
	const char *roles = arg(argc, argv, "--roles"), *name = arg(argc, argv, "--name");
	const char *org = arg(argc, argv, "--org"), *ep = arg(argc, argv, "--endpoint");
	const char *days = arg(argc, argv, "--valid-days");
	if (!path || !req || !roles || !name || !org)
		return usage(stderr), 2;
	json_t *r = load_draft(path, true, arg(argc, argv, "--network"));
	if (!r)
		return 1;
	json_error_t err;
	json_t *q = json_load_file(req, 0, &err);
	if (!q) {
		json_decref(r);
		return fail(_("cannot read the member request: %s"), err.text);
	}
	const char *id = json_string_value(json_object_get(q, "id"));
	json_t *rl = json_array();
	char buf[256];
	snprintf(buf, sizeof buf, "%s", roles);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (irn_role_parse(t) < 0) {
			json_decref(r);
			json_decref(q);
			json_decref(rl);
			return fail(_("unknown role %s"), t);
		}
		json_array_append_new(rl, json_string(t));
	}
	int64_t now = irn_now_ms();
	long vd = days ? strtol(days, NULL, 10) : 365;
	json_t *m = json_pack("{s:s?,s:s,s:s,s:o,s:O?,s:O?,s:I,s:I,s:b}", "id", id, "display_name", name,
			      "organisation", org, "roles", rl, "sign_pk", json_object_get(q, "sign_pk"),
			      "transport_pk", json_object_get(q, "transport_pk"), "valid_from_ms",
			      (json_int_t)(now - 60000), "valid_until_ms",
			      (json_int_t)(now + (int64_t)vd * 86400000), "revoked", 0);
	if (m && ep)
		json_object_set_new(m, "endpoint", json_string(ep));
	if (!m || !irn_member_id_ok(id)) {
		json_decref(r);
		json_decref(q);
		return fail(_("the member request %s lacks a valid id or keys"), req);
	}
	json_t *ms = json_object_get(r, "members");
	size_t i;
	json_t *v;
	json_array_foreach(ms, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "id")) ?: "", id) != 0)
			continue;
		/* The member rotated its keys: the old ones stay valid for the
		 * overlap, so it can switch without a gap. */
		json_t *prev = json_object_get(v, "previous");
		prev = prev ? json_incref(prev) : json_array();
		const char *os = json_string_value(json_object_get(v, "sign_pk"));
		const char *ns = json_string_value(json_object_get(m, "sign_pk"));
		if (os && ns && strcmp(os, ns) != 0) {
			const char *ov = arg(argc, argv, "--overlap-seconds");
			long overlap = ov ? strtol(ov, NULL, 10) : 7 * 86400;
			json_array_append_new(prev, json_pack("{s:O,s:O,s:I}", "sign_pk",
				json_object_get(v, "sign_pk"), "transport_pk", json_object_get(v, "transport_pk"),
				"until_ms", (json_int_t)(now + (int64_t)overlap * 1000)));
			while (json_array_size(prev) > IRN_MAX_PREVIOUS_KEYS)
				json_array_remove(prev, 0);
			printf(_("%s: new keys; the old ones stay valid for %ld seconds\n"), id, overlap);
		}
		if (json_array_size(prev))
			json_object_set(m, "previous", prev);
		json_decref(prev);
		json_array_remove(ms, i);
		break;
	}
	json_array_append_new(ms, m);
	json_decref(q);
	int rc = save_draft(path, r);
	json_decref(r);
	return rc;
}

static int
cmd_roster_revoke(int argc, char **argv)
{
	const char *path = arg(argc, argv, "--roster"), *id = arg(argc, argv, "--id");
	if (!path || !id)
		return usage(stderr), 2;
	json_t *r = load_draft(path, false, NULL);
	if (!r)
		return 1;
	size_t i;
	json_t *v;
	bool found = false;
	json_array_foreach(json_object_get(r, "members"), i, v) {
		if (!strcmp(json_string_value(json_object_get(v, "id")) ?: "", id)) {
			json_object_set_new(v, "revoked", json_true());
			json_object_set_new(v, "revoked_ms", json_integer(irn_now_ms()));
			found = true;
		}
	}
	int rc = found ? save_draft(path, r) : fail(_("no member %s in the roster"), id);
	json_decref(r);
	return rc;
}

static int
hexfield(json_t *o, const char *k, uint8_t out[IRN_PK_LEN])
{
	return irn_unhex(out, IRN_PK_LEN, json_string_value(json_object_get(o, k))) == IRN_OK ? 0 : -1;
}

static int
cmd_roster_sign(int argc, char **argv)
{
	const char *adir = arg(argc, argv, "--authority"), *path = arg(argc, argv, "--roster");
	const char *out = arg(argc, argv, "--out"), *days = arg(argc, argv, "--valid-days");
	if (!adir || !path || !out)
		return usage(stderr), 2;
	json_t *r = load_draft(path, false, NULL);
	if (!r)
		return 1;
	char p[4096];
	snprintf(p, sizeof p, "%s/sign.key", adir);
	uint8_t *sk = sodium_malloc(64);
	uint8_t apk[IRN_PK_LEN];
	int rc = 1;
	if (sk == NULL || irn_secret_read(p, sk, 64) != IRN_OK) {
		fail(_("cannot read the authority key in %s"), adir);
		goto out;
	}
	crypto_sign_ed25519_sk_to_pk(apk, sk);
	const char *network = json_string_value(json_object_get(r, "network"));
	json_t *ms = json_object_get(r, "members");
	size_t n = json_array_size(ms);
	if (!irn_network_id_ok(network) || n == 0 || n > IRN_MAX_ROSTER_MEMBERS) {
		fail(_("%s: bad network or no members"), path);
		goto out;
	}
	Irnet__Member *mem = calloc(n, sizeof *mem);
	Irnet__Member **mp = calloc(n, sizeof *mp);
	uint8_t (*keys)[2][IRN_PK_LEN] = calloc(n, sizeof *keys);
	uint32_t (*roles)[IRN_MAX_ROLES_IN_LIST] = calloc(n, sizeof *roles);
	Irnet__PreviousKeys **prevs = calloc(n, sizeof *prevs);
	uint8_t (**prevkeys)[2][IRN_PK_LEN] = calloc(n, sizeof *prevkeys);
	bool ok = mem && mp && keys && roles && prevs && prevkeys;
	for (size_t i = 0; ok && i < n; i++) {
		json_t *m = json_array_get(ms, i);
		irnet__member__init(&mem[i]);
		mp[i] = &mem[i];
		mem[i].id = (char *)json_string_value(json_object_get(m, "id"));
		mem[i].display_name = (char *)json_string_value(json_object_get(m, "display_name"));
		mem[i].organisation = (char *)json_string_value(json_object_get(m, "organisation"));
		mem[i].endpoint = (char *)json_string_value(json_object_get(m, "endpoint"));
		json_t *rl = json_object_get(m, "roles");
		if (!mem[i].id || !mem[i].display_name || !mem[i].organisation ||
		    hexfield(m, "sign_pk", keys[i][0]) || hexfield(m, "transport_pk", keys[i][1]) ||
		    json_array_size(rl) == 0 || json_array_size(rl) > IRN_MAX_ROLES_IN_LIST) {
			fail(_("member entry %s is incomplete"), mem[i].id ? mem[i].id : "?");
			ok = false;
			break;
		}
		for (size_t j = 0; j < json_array_size(rl); j++) {
			int ro = irn_role_parse(json_string_value(json_array_get(rl, j)) ?: "");
			if (ro < 0) {
				fail(_("member %s has an unknown role"), mem[i].id);
				ok = false;
			}
			roles[i][j] = (uint32_t)ro;
		}
		json_t *pv = json_object_get(m, "previous");
		size_t np = json_array_size(pv);
		if (np > IRN_MAX_PREVIOUS_KEYS) {
			fail(_("member %s has too many previous keys"), mem[i].id);
			ok = false;
			break;
		}
		if (np) {
			mem[i].previous = calloc(np, sizeof *mem[i].previous);
			prevs[i] = calloc(np, sizeof *prevs[i]);
			prevkeys[i] = calloc(np, sizeof *prevkeys[i]);
			if (!mem[i].previous || !prevs[i] || !prevkeys[i]) {
				ok = false;
				break;
			}
			for (size_t k = 0; k < np; k++) {
				json_t *pk = json_array_get(pv, k);
				irnet__previous_keys__init(&prevs[i][k]);
				if (hexfield(pk, "sign_pk", prevkeys[i][k][0]) ||
				    hexfield(pk, "transport_pk", prevkeys[i][k][1])) {
					fail(_("member %s has a bad previous key"), mem[i].id);
					ok = false;
					break;
				}
				prevs[i][k].sign_pk = (ProtobufCBinaryData){ IRN_PK_LEN, prevkeys[i][k][0] };
				prevs[i][k].transport_pk = (ProtobufCBinaryData){ IRN_PK_LEN, prevkeys[i][k][1] };
				prevs[i][k].until_ms = json_integer_value(json_object_get(pk, "until_ms"));
				mem[i].previous[k] = &prevs[i][k];
			}
			mem[i].n_previous = np;
		}
		mem[i].roles = roles[i];
		mem[i].n_roles = json_array_size(rl);
		mem[i].sign_pk = (ProtobufCBinaryData){ IRN_PK_LEN, keys[i][0] };
		mem[i].transport_pk = (ProtobufCBinaryData){ IRN_PK_LEN, keys[i][1] };
		mem[i].valid_from_ms = json_integer_value(json_object_get(m, "valid_from_ms"));
		mem[i].valid_until_ms = json_integer_value(json_object_get(m, "valid_until_ms"));
		mem[i].revoked = json_is_true(json_object_get(m, "revoked"));
		if (json_object_get(m, "revoked_ms")) {
			mem[i].has_revoked_ms = true;
			mem[i].revoked_ms = json_integer_value(json_object_get(m, "revoked_ms"));
		}
	}
	if (ok) {
		Irnet__RosterBody rb = IRNET__ROSTER_BODY__INIT;
		int64_t now = irn_now_ms();
		long vd = days ? strtol(days, NULL, 10) : 30;
		rb.network = (char *)network;
		rb.version = (uint64_t)json_integer_value(json_object_get(r, "version"));
		rb.issued_ms = now;
		rb.expires_ms = now + (int64_t)vd * 86400000;
		rb.authority_pk = (ProtobufCBinaryData){ IRN_PK_LEN, apk };
		rb.members = mp;
		rb.n_members = n;
		size_t bl = irnet__roster_body__get_packed_size(&rb);
		uint8_t *body = malloc(bl);
		uint8_t sig[IRN_SIG_LEN];
		Irnet__SignedRoster sr = IRNET__SIGNED_ROSTER__INIT;
		Irnet__AuthorityRotation *rots[IRN_MAX_ROTATIONS];
		size_t nrot = 0;
		for (int i = 1; i + 1 < argc && nrot < IRN_MAX_ROTATIONS; i++) {
			if (strcmp(argv[i], "--rotation"))
				continue;
			uint8_t *cb = NULL;
			size_t cl = 0;
			if (irn_read_file(argv[i + 1], 4096, &cb, &cl) == IRN_OK) {
				rots[nrot] = irnet__authority_rotation__unpack(NULL, cl, cb);
				if (rots[nrot])
					nrot++;
				else
					ok = false;
				free(cb);
			} else {
				ok = false;
			}
			if (!ok)
				fail(_("cannot read rotation certificate %s"), argv[i + 1]);
		}
		if (ok && body) {
			irnet__roster_body__pack(&rb, body);
			if (irn_domain_sign(sig, IRN_DOMAIN_ROSTER, network, body, bl, sk) == IRN_OK) {
				sr.body = (ProtobufCBinaryData){ bl, body };
				sr.signature = (ProtobufCBinaryData){ IRN_SIG_LEN, sig };
				sr.rotations = rots;
				sr.n_rotations = nrot;
				size_t sl = irnet__signed_roster__get_packed_size(&sr);
				uint8_t *sb = malloc(sl);
				if (sb) {
					irnet__signed_roster__pack(&sr, sb);
					/* Check what we made the way every receiver will. */
					irn_roster *chk = NULL;
					irn_err e = irn_roster_parse_unverified(sb, sl, &chk);
					if (e != IRN_OK)
						fail(_("the roster does not pass validation: %s"), irn_strerror(e));
					else if (irn_write_file(out, sb, sl, 0644) == IRN_OK) {
						printf(_("roster %s version %llu: %zu members, valid %ld days\n"),
						       network, (unsigned long long)rb.version, n, vd);
						rc = 0;
					}
					irn_roster_free(&chk);
					free(sb);
				}
			}
		}
		for (size_t i = 0; i < nrot; i++)
			irnet__authority_rotation__free_unpacked(rots[i], NULL);
		free(body);
	}
	for (size_t i = 0; mem && prevs && prevkeys && i < n; i++) {
		free(mem[i].previous);
		free(prevs[i]);
		free(prevkeys[i]);
	}
	free(prevs);
	free(prevkeys);
	free(mem);
	free(mp);
	free(keys);
	free(roles);
out:
	if (sk)
		sodium_free(sk);
	json_decref(r);
	return rc;
}

static int
cmd_roster_show(int argc, char **argv, bool json)
{
	const char *file = NULL;
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--", 2) != 0)
			file = argv[i];
	if (file == NULL)
		return usage(stderr), 2;
	uint8_t *buf = NULL;
	size_t len = 0;
	if (irn_read_file(file, IRN_MAX_ROSTER_BYTES, &buf, &len) != IRN_OK)
		return fail(_("cannot read %s"), file);
	irn_roster *r = NULL;
	irn_err e = irn_roster_parse_unverified(buf, len, &r);
	free(buf);
	if (e != IRN_OK)
		return fail(_("not a valid roster: %s"), irn_strerror(e));
	json_t *o = json_pack("{s:s,s:I,s:I,s:[]}", "network", r->network, "version",
			      (json_int_t)r->version, "expires_ms", (json_int_t)r->expires_ms, "members");
	for (size_t i = 0; i < r->n_members; i++) {
		const irn_member *m = &r->members[i];
		char fp[48];
		irn_fingerprint(fp, m->sign_pk);
		json_t *rl = json_array();
		for (unsigned k = 1; k < 32; k++)
			if (m->roles & IRN_ROLE_BIT(k))
				json_array_append_new(rl, json_string(irn_role_name(k)));
		json_array_append_new(json_object_get(o, "members"),
			json_pack("{s:s,s:s,s:s,s:o,s:s,s:b}", "id", m->id, "display_name",
				  m->display_name, "organisation", m->organisation, "roles", rl,
				  "fingerprint", fp, "revoked", m->revoked));
	}
	if (json) {
		char *s = json_dumps(o, JSON_INDENT(2));
		puts(s);
		free(s);
	} else {
		char t[64];
		irn_fmt_time(t, sizeof t, r->expires_ms, NULL);
		printf(_("roster %s version %llu, expires %s, %zu members\n"), r->network,
		       (unsigned long long)r->version, t, r->n_members);
		for (size_t i = 0; i < r->n_members; i++) {
			const irn_member *m = &r->members[i];
			char fp[48];
			irn_fingerprint(fp, m->sign_pk);
			printf("  %-28s %-40s %s%s\n", m->id, m->display_name, fp,
			       m->revoked ? _(" REVOKED") : "");
		}
	}
	json_decref(o);
	irn_roster_free(&r);
	return 0;
}

static int
cmd_rotate(int argc, char **argv)
{
	const char *od = arg(argc, argv, "--old"), *nd = arg(argc, argv, "--new");
	const char *net = arg(argc, argv, "--network"), *out = arg(argc, argv, "--out");
	if (!od || !nd || !net || !out)
		return usage(stderr), 2;
	irn_keys *ok = NULL, *nk = NULL;
	char p[4096];
	int rc = 1;
	uint8_t *sk = sodium_malloc(64);
	snprintf(p, sizeof p, "%s/sign.key", od);
	if (!sk || irn_secret_read(p, sk, 64) != IRN_OK) {
		fail(_("cannot read the old authority key in %s"), od);
		goto out;
	}
	uint8_t pair[2 * IRN_PK_LEN], sig[IRN_SIG_LEN];
	crypto_sign_ed25519_sk_to_pk(pair, sk);
	snprintf(p, sizeof p, "%s/sign.pub", nd);
	uint8_t *pub = NULL;
	size_t pl = 0;
	if (irn_read_file(p, 200, &pub, &pl) != IRN_OK || pl < 64) {
		free(pub);
		fail(_("cannot read the new authority public key in %s"), nd);
		goto out;
	}
	pub[64] = 0;
	if (irn_unhex(pair + IRN_PK_LEN, IRN_PK_LEN, (char *)pub) != IRN_OK) {
		free(pub);
		fail(_("bad public key in %s"), p);
		goto out;
	}
	free(pub);
	if (irn_domain_sign(sig, IRN_DOMAIN_ROTATION, net, pair, sizeof pair, sk) != IRN_OK)
		goto out;
	Irnet__AuthorityRotation ar = IRNET__AUTHORITY_ROTATION__INIT;
	ar.old_pk = (ProtobufCBinaryData){ IRN_PK_LEN, pair };
	ar.new_pk = (ProtobufCBinaryData){ IRN_PK_LEN, pair + IRN_PK_LEN };
	ar.signature = (ProtobufCBinaryData){ IRN_SIG_LEN, sig };
	uint8_t buf[256];
	size_t n = irnet__authority_rotation__pack(&ar, buf);
	if (irn_write_file(out, buf, n, 0644) == IRN_OK)
		rc = 0;
out:
	if (sk)
		sodium_free(sk);
	irn_keys_free(&ok);
	irn_keys_free(&nk);
	return rc;
}

int
main(int argc, char **argv)
{
	if (irn_global_init() != 0)
		return 1;
	irn_log_init(prog, IRN_LOG_INFO, false);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json"))
			json = true;
		if (!strcmp(argv[i], "--version")) {
			printf("%s %s\n", prog, IRNET_VERSION);
			return 0;
		}
	}
	const char *c = argv[1];
	argc--;
	argv++;
	if (!strcmp(c, "authority-init"))
		return cmd_authority_init(argc, argv);
	if (!strcmp(c, "roster-add"))
		return cmd_roster_add(argc, argv);
	if (!strcmp(c, "roster-revoke"))
		return cmd_roster_revoke(argc, argv);
	if (!strcmp(c, "roster-sign"))
		return cmd_roster_sign(argc, argv);
	if (!strcmp(c, "roster-show"))
		return cmd_roster_show(argc, argv, json);
	if (!strcmp(c, "rotate"))
		return cmd_rotate(argc, argv);
	fprintf(stderr, _("%s: unknown command '%s' (see --help)\n"), prog, c);
	return 2;
}
