/* irnet-broker - command line. */
#include "broker.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(FILE *f)
{
	fputs(_("usage: irnet-broker [--home DIR] [--json] [--log-level LEVEL] COMMAND [ARGS]\n"
		"\n"
		"The provincial broker of irnet: admits roster members over CURVE, verifies\n"
		"every signed message, keeps it in its ledger and forwards it to its\n"
		"recipients, returning a signed receipt to the author.\n"
		"\n"
		"Commands:\n"
		"  init --id ID --network NET --authority-key HEX --listen URL\n"
		"                        create the broker's home and keys\n"
		"  whoami                print the broker's public keys (for the roster)\n"
		"  roster-import FILE    verify and store a signed roster\n"
		"  run [--listen URL]    serve until SIGINT or SIGTERM\n"
		"  ledger verify         verify the broker's ledger\n"
		"\n"
		"Options:\n"
		"  --home DIR            home directory (default $IRNET_HOME or ~/.irnet)\n"
		"  --json                machine-readable output where offered\n"
		"  --log-level LEVEL     error, warn, info (default) or debug\n"
		"  --help, --version\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n"), f);
}

int
main(int argc, char **argv)
{
	if (irn_global_init() != 0) {
		fprintf(stderr, "irnet-broker: libsodium failed to initialise\n");
		return 1;
	}
	irn_cli c = { .prog = "irnet-broker" };
	int i = irn_cli_globals(&c, argc, argv, usage);
	if (i < 0)
		return 2;
	const char *cmd = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "init"))
		return irn_cli_init(&c, argc, argv, true);
	if (!strcmp(cmd, "whoami"))
		return irn_cli_whoami(&c, argc, argv);
	if (!strcmp(cmd, "roster-import"))
		return irn_cli_roster_import(&c, argc, argv);
	if (!strcmp(cmd, "ledger") && argc >= 2 && !strcmp(argv[1], "verify"))
		return irn_cli_ledger_verify(&c, argc - 1, argv + 1);
	if (!strcmp(cmd, "run")) {
		broker_opts o = { .batch_max = 512, .window = 256 };
		for (int k = 1; k < argc; k++) {
			if (!strcmp(argv[k], "--help")) {
				puts(_("usage: irnet-broker run [--listen URL]\nServe until SIGINT or SIGTERM. Prints READY URL on stdout when listening."));
				return 0;
			} else if (!strcmp(argv[k], "--listen") && k + 1 < argc) {
				o.listen = argv[++k];
			} else {
				fprintf(stderr, _("irnet-broker run: unknown argument '%s'\n"), argv[k]);
				return 2;
			}
		}
		irn_home *h = NULL;
		if (irn_home_open(c.home, true, false, &h) != IRN_OK)
			return 1;
		irn_log_init(c.prog, c.level_set ? c.level : h->cfg.log_level, c.json);
		int rc = broker_run(h, &o);
		irn_home_close(&h);
		return rc;
	}
	fprintf(stderr, _("irnet-broker: unknown command '%s' (see --help)\n"), cmd);
	return 2;
}
