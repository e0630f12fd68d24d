/* irnet-node - command line. */
#include "node.h"
#include "forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(FILE *f)
{
	fputs(_("usage: irnet-node [--home DIR] [--json] [--log-level LEVEL] COMMAND [ARGS]\n"
		"\n"
		"An agency's node in the irnet incident-response network. The daemon ('run')\n"
		"holds this member's keys, keeps the connection to the provincial broker,\n"
		"verifies everything it receives and keeps the ledger. The other commands\n"
		"talk to it over a local socket only this OS user can open, or read the\n"
		"ledger directly.\n"
		"\n"
		"Commands:\n"
		"  init --id ID --network NET --authority-key HEX --broker URL --broker-id ID\n"
		"                        create this node's home, keys and ledger\n"
		"  whoami                print this member's public keys (for the roster)\n"
		"  roster-import FILE    verify and store a signed roster\n"
		"  rotate-keys           make new keys; switch when the roster names them\n"
		"  run                   the daemon (foreground; stop with SIGTERM)\n"
		"  report ...            sign and send an initial incident report (Form 03)\n"
		"  message ...           sign and send a note (free text)\n"
		"  progress ID ...       a progress report on an incident\n"
		"  plan ID ...           a response plan\n"
		"  direction ID ...      a request for direction\n"
		"  support ID ...        a support request\n"
		"  end-report ID ...     the end-of-response report (Form 04): resolves it\n"
		"  alert ...             an alert or advisory to a role group or everyone\n"
		"  ack ID                acknowledge a message by hand (the daemon already does)\n"
		"  acks ID               who has acknowledged a message sent here, who not yet\n"
		"  alerts                alerts sent and received, with acknowledgements\n"
		"  drill start NAME|stop mark everything signed here as an exercise\n"
		"  classify ID ...       classify an incident (severity and why)\n"
		"  transition ID --to S  move an incident along its lifecycle\n"
		"  task ID --assign ...  a coordination order (Form 06) with deadlines\n"
		"  task-status ...       the assignee accepts, declines, reports progress\n"
		"  tasks                 tasks and their state; OVERDUE past the deadline\n"
		"  due [--days N]        what is overdue or due soon (reports, tasks, Form 05)\n"
		"  incidents             list incidents reported and received\n"
		"  show ID               one report as the official form, with its signature\n"
		"  form ID [--lang en]   any message as its official form (vi/en), signature checked\n"
		"  periodic --from --to  Form 05 periodic report (text, JSON, CSV); drills excluded\n"
		"  profile set|show      Forms 01/02: this member's profile and 24/7 contacts\n"
		"  attach --incident ID FILE...   send files (chunked, hashed, stored inert)\n"
		"  attachment ID|HASH --out FILE  export an attachment's original bytes\n"
		"  search TEXT           incidents by text, with or without Vietnamese diacritics\n"
		"  rebuild               rebuild the derived tables from the ledger (daemon)\n"
		"  state-hash [ID]       hash of the incidents' derived state, to compare nodes\n"
		"  outbox                messages signed here and their delivery state\n"
		"  delivery ID           where a message stands with each recipient\n"
		"  members               who is online (coordinators; asks the broker)\n"
		"  events                security events (refused messages)\n"
		"  status                the daemon's connection and queue\n"
		"  ledger verify         verify the whole ledger\n"
		"  ledger audit          compare the ledger with the broker's copy of its history\n"
		"\n"
		"Options:\n"
		"  --home DIR            home directory (default $IRNET_HOME or ~/.irnet)\n"
		"  --json                machine-readable output\n"
		"  --log-level LEVEL     error, warn, info (default) or debug\n"
		"  --help, --version     'irnet-node COMMAND --help' describes a command\n"
		"\n"
		"Environment: IRNET_HOME, LANGUAGE/LANG (vi or en), TZ.\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n"), f);
}

int
main(int argc, char **argv)
{
	if (irn_global_init() != 0) {
		fprintf(stderr, "irnet-node: libsodium failed to initialise\n");
		return 1;
	}
	irn_cli c = { .prog = "irnet-node" };
	int i = irn_cli_globals(&c, argc, argv, usage);
	if (i < 0)
		return 2;
	const char *cmd = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "init")) {
		int rc = irn_cli_init(&c, argc, argv, false);
		irn_home *h = NULL;
		bool help = false;
		for (int k = 1; k < argc; k++)
			help |= !strcmp(argv[k], "--help") || !strcmp(argv[k], "-h");
		if (rc == 0 && !help && irn_home_open(c.home, false, false, &h) == IRN_OK) {
			if (node_schema(h->ledger) != IRN_OK)
				rc = 1;
			irn_home_close(&h);
		}
		return rc;
	}
	if (!strcmp(cmd, "whoami"))
		return irn_cli_whoami(&c, argc, argv);
	if (!strcmp(cmd, "roster-import"))
		return irn_cli_roster_import(&c, argc, argv);
	if (!strcmp(cmd, "ledger") && argc >= 2 && !strcmp(argv[1], "verify"))
		return irn_cli_ledger_verify(&c, argc - 1, argv + 1);
	if (!strcmp(cmd, "ledger") && argc >= 2 && !strcmp(argv[1], "audit"))
		return node_cmd_ledger_audit(&c, argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return node_cmd_report(&c, argc, argv);
	if (!strcmp(cmd, "message"))
		return node_cmd_message(&c, argc, argv);
	if (node_is_typed_command(cmd))
		return node_cmd_typed(&c, argc, argv);
	if (!strcmp(cmd, "ack"))
		return node_cmd_ack(&c, argc, argv);
	if (!strcmp(cmd, "acks"))
		return node_cmd_acks(&c, argc, argv);
	if (!strcmp(cmd, "alerts"))
		return node_cmd_alerts(&c, argc, argv);
	if (!strcmp(cmd, "drill"))
		return node_cmd_drill(&c, argc, argv);
	if (!strcmp(cmd, "transition") || !strcmp(cmd, "classify"))
		return node_cmd_transition(&c, argc, argv);
	if (!strcmp(cmd, "due"))
		return node_cmd_due(&c, argc, argv);
	if (!strcmp(cmd, "task"))
		return node_cmd_task(&c, argc, argv);
	if (!strcmp(cmd, "task-status"))
		return node_cmd_task_status(&c, argc, argv);
	if (!strcmp(cmd, "tasks"))
		return node_cmd_tasks(&c, argc, argv);
	if (!strcmp(cmd, "rotate-keys"))
		return node_cmd_rotate_keys(&c, argc, argv);
	if (!strcmp(cmd, "members"))
		return node_cmd_members(&c, argc, argv);
	if (!strcmp(cmd, "delivery"))
		return node_cmd_delivery(&c, argc, argv);
	if (!strcmp(cmd, "incidents"))
		return node_cmd_incidents(&c, argc, argv);
	if (!strcmp(cmd, "show"))
		return node_cmd_show(&c, argc, argv);
	if (!strcmp(cmd, "form"))
		return node_cmd_form(&c, argc, argv);
	if (!strcmp(cmd, "periodic"))
		return node_cmd_periodic(&c, argc, argv);
	if (!strcmp(cmd, "profile"))
		return node_cmd_profile(&c, argc, argv);
	if (!strcmp(cmd, "attach"))
		return node_cmd_attach(&c, argc, argv);
	if (!strcmp(cmd, "attachment"))
		return node_cmd_attachment(&c, argc, argv);
	if (!strcmp(cmd, "search"))
		return node_cmd_search(&c, argc, argv);
	if (!strcmp(cmd, "rebuild"))
		return node_cmd_rebuild(&c, argc, argv);
	if (!strcmp(cmd, "state-hash"))
		return node_cmd_state_hash(&c, argc, argv);
	if (!strcmp(cmd, "outbox"))
		return node_cmd_outbox(&c, argc, argv);
	if (!strcmp(cmd, "events"))
		return node_cmd_events(&c, argc, argv);
	if (!strcmp(cmd, "status"))
		return node_cmd_status(&c, argc, argv);
	if (!strcmp(cmd, "run")) {
		if (irn_cli_wants_help(argc, argv,
			_("usage: irnet-node run\nRun the daemon in the foreground until SIGINT or SIGTERM. Prints READY ID\non stdout when started. Logs go to stderr.\n")))
			return 0;
		irn_home *h = NULL;
		if (irn_home_open(c.home, true, false, &h) != IRN_OK)
			return 1;
		irn_log_init(c.prog, c.level_set ? c.level : h->cfg.log_level, c.json);
		int rc = node_daemon_run(h);
		irn_home_close(&h);
		return rc;
	}
	fprintf(stderr, _("irnet-node: unknown command '%s' (see --help)\n"), cmd);
	return 2;
}
