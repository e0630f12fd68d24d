/* cli.c - shared commands: init, roster-import, ledger verify, whoami. */
#include "cli.h"
#include "validate.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

int
irn_cli_globals(irn_cli *c, int argc, char **argv, void (*usage)(FILE *))
{
	c->home = irn_default_home();
	c->level = IRN_LOG_INFO;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--version")) {
			printf("%s %s\n", c->prog, IRNET_VERSION);
			exit(0);
		} else if (!strcmp(a, "--json")) {
			c->json = true;
		} else if (!strcmp(a, "--home") && i + 1 < argc) {
			c->home = argv[++i];
		} else if (!strncmp(a, "--home=", 7)) {
			c->home = a + 7;
		} else if (!strcmp(a, "--log-level") && i + 1 < argc) {
			if (irn_log_parse_level(argv[++i], &c->level) != 0) {
				fprintf(stderr, _("%s: unknown log level '%s' (error, warn, info, debug)\n"),
					c->prog, argv[i]);
				return -1;
			}
			c->level_set = true;
		} else if (!strcmp(a, "-v")) {
			c->level = IRN_LOG_DEBUG;
			c->level_set = true;
		} else {
			fprintf(stderr, _("%s: unknown option '%s'\n"), c->prog, a);
			usage(stderr);
			return -1;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return -1;
	}
	irn_log_init(c->prog, c->level, false);
	return i;
}

bool
irn_cli_wants_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(text, stdout);
			return true;
		}
	return false;
}

static const char init_help[] = N_(
"init --id ID --network NET --authority-key HEX [options]\n"
"\n"
"Create a new irnet home (default $IRNET_HOME or ~/.irnet): configuration,\n"
"a fresh Ed25519 signing key and X25519 transport key (mode 0600, never\n"
"leaving this machine), and a ledger pinned to the authority's key.\n"
"Prints this member's public keys: send them to the authority.\n"
"\n"
"  --id ID              member id, \"<authority>/<name>\", e.g. kontum/so-tttt\n"
"  --network NET        network id, e.g. kontum (a drill network: kontum-drill)\n"
"  --authority-key HEX  the authority's Ed25519 public key (64 hex digits)\n"
"  --broker URL         node: broker endpoint, e.g. tcp://10.0.0.1:7700\n"
"  --broker-id ID       node: the broker's member id\n"
"  --listen URL         broker: endpoint to bind\n"
"  --person NAME        the authorised person who signs this member's reports\n"
"  --report-to LIST     node: default recipients, e.g. role:coordinator,kontum/ubnd\n"
"  --timezone TZ        time zone for display (default Asia/Ho_Chi_Minh)\n");

int
irn_cli_init(irn_cli *c, int argc, char **argv, bool is_broker)
{
	char help[8192];
	snprintf(help, sizeof help, "%s %s %s", _("usage:"), c->prog, _(init_help));
	if (irn_cli_wants_help(argc, argv, help))
		return 0;
	irn_config cfg;
	irn_config_defaults(&cfg);
	const char *akey = NULL;
	static const struct option opts[] = {
		{ "id", required_argument, 0, 'i' }, { "network", required_argument, 0, 'n' },
		{ "authority-key", required_argument, 0, 'a' }, { "broker", required_argument, 0, 'b' },
		{ "broker-id", required_argument, 0, 'B' }, { "listen", required_argument, 0, 'l' },
		{ "person", required_argument, 0, 'p' }, { "report-to", required_argument, 0, 'r' },
		{ "timezone", required_argument, 0, 't' }, { 0, 0, 0, 0 } };
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *dst = NULL;
		size_t dsz = 0;
		switch (ch) {
		case 'i': dst = cfg.id; dsz = sizeof cfg.id; break;
		case 'n': dst = cfg.network; dsz = sizeof cfg.network; break;
		case 'a': akey = optarg; break;
		case 'b': dst = cfg.broker; dsz = sizeof cfg.broker; break;
		case 'B': dst = cfg.broker_id; dsz = sizeof cfg.broker_id; break;
		case 'l': dst = cfg.listen; dsz = sizeof cfg.listen; break;
		case 'p': dst = cfg.person; dsz = sizeof cfg.person; break;
		case 'r': dst = cfg.report_to; dsz = sizeof cfg.report_to; break;
		case 't': dst = cfg.timezone; dsz = sizeof cfg.timezone; break;
		default:
			fputs(help, stderr);
			return 2;
		}
		if (dst && irn_snprintf(dst, dsz, "%s", optarg) < 0) {
			fprintf(stderr, _("%s: value too long: %s\n"), c->prog, optarg);
			return 2;
		}
	}
	uint8_t apk[IRN_PK_LEN];
	if (!irn_member_id_ok(cfg.id) || !irn_network_id_ok(cfg.network) || akey == NULL ||
	    irn_unhex(apk, sizeof apk, akey) != IRN_OK) {
		fprintf(stderr, _("%s init: --id (like kontum/so-tttt), --network and --authority-key (64 hex digits) are required\n"),
			c->prog);
		return 2;
	}
	if (irn_text_check(cfg.person, strlen(cfg.person), IRN_MAX_SHORT_TEXT, 0)) {
		fprintf(stderr, _("%s init: --person must be valid UTF-8 text\n"), c->prog);
		return 2;
	}
	(void)is_broker;
	irn_err e = irn_home_create(c->home, &cfg, apk);
	if (e != IRN_OK) {
		fprintf(stderr, _("%s init: cannot create %s: %s\n"), c->prog, c->home, irn_strerror(e));
		return 1;
	}
	return irn_cli_whoami(c, 0, NULL);
}

int
irn_cli_whoami(irn_cli *c, int argc, char **argv)
{
	if (argc && irn_cli_wants_help(argc, argv,
		_("usage: whoami\nPrint this member's id and public keys as JSON: the request the authority adds to the roster.\n")))
		return 0;
	irn_home *h = NULL;
	if (irn_home_open(c->home, true, true, &h) != IRN_OK)
		return 1;
	char s[65], t[65], fp[48];
	irn_hex(s, h->keys->sign_pk, IRN_PK_LEN);
	irn_hex(t, h->keys->box_pk, IRN_PK_LEN);
	irn_fingerprint(fp, h->keys->sign_pk);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", h->cfg.id, "network", h->cfg.network,
			      "sign_pk", s, "transport_pk", t, "fingerprint", fp);
	char *out = json_dumps(o, JSON_INDENT(2));
	printf("%s\n", out);
	free(out);
	json_decref(o);
	irn_home_close(&h);
	return 0;
}

int
irn_cli_roster_import(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: roster-import FILE\nVerify a signed roster against the pinned authority key and store it\nin the ledger. Refuses a bad signature, an older version or an expired roster.\n")))
		return 0;
	if (argc != 2) {
		fprintf(stderr, _("usage: %s roster-import FILE\n"), c->prog);
		return 2;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	irn_err e = irn_read_file(argv[1], IRN_MAX_ROSTER_BYTES, &buf, &len);
	if (e != IRN_OK) {
		fprintf(stderr, _("%s: cannot read %s: %s\n"), c->prog, argv[1], irn_strerror(e));
		return 1;
	}
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, false, &h) != IRN_OK) {
		free(buf);
		return 1;
	}
	char why[256];
	e = irn_home_accept_roster(h, buf, len, why, sizeof why);
	free(buf);
	irn_home_close(&h);
	if (e == IRN_OK || e == IRN_ERR_EXISTS) {
		printf("%s\n", why);
		return 0;
	}
	fprintf(stderr, "%s: %s\n", c->prog, why);
	return 1;
}

int
irn_cli_ledger_verify(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: ledger verify\nCheck the whole ledger: hash chain, recorded head, rosters, and every\nsignature against the roster in force when it was accepted, including\nthe broker's batch-signed receipts (each batch signature once). Names\nthe first bad entry. Signatures are checked on one thread per CPU; the\nenvironment variable IRNET_VERIFY_THREADS=N sets another number (1-16).\nExit 0 if it verifies, 1 if not.\n")))
		return 0;
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, true, &h) != IRN_OK)
		return 1;
	irn_verify_result r;
	/* one read transaction: a running daemon may append meanwhile, and the
	 * recorded head must be read from the same snapshot as the entries */
	sqlite3_exec(irn_ledger_db(h->ledger), "BEGIN", NULL, NULL, NULL);
	irn_err e = irn_ledger_verify(h->ledger, h->cfg.network, &r);
	sqlite3_exec(irn_ledger_db(h->ledger), "COMMIT", NULL, NULL, NULL);
	if (c->json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:s,s:I,s:I}", "ok", e == IRN_OK, "entries",
				      (json_int_t)r.entries, "first_bad", (json_int_t)r.first_bad,
				      "reason", r.reason, "checkpoints", (json_int_t)r.checkpoints,
				      "countersigned", (json_int_t)r.countersigned);
		char *s = json_dumps(o, JSON_COMPACT);
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else if (e == IRN_OK) {
		printf(_("ledger OK: %llu entries verified, %llu checkpoints (%llu countersigned by the broker)\n"),
		       (unsigned long long)r.entries, (unsigned long long)r.checkpoints,
		       (unsigned long long)r.countersigned);
	} else {
		fprintf(stderr, _("ledger BAD at entry %llu: %s\n"), (unsigned long long)r.first_bad,
			r.reason);
	}
	irn_home_close(&h);
	return e == IRN_OK ? 0 : 1;
}
