/* rebuild.c - `irnet-node rebuild` and `irnet-node state-hash`. */
#include "forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rebuild_help[] = N_(
"usage: irnet-node [--json] rebuild\n"
"\n"
"Drop every derived table (incidents, transitions, tasks, profiles,\n"
"attachments, the search index) and rebuild them by replaying the ledger in\n"
"order through the same code that applied each entry when it arrived, in one\n"
"transaction (on any failure nothing changes). Prints the number of messages\n"
"and receipts replayed and the state hash (see 'state-hash'), which must\n"
"equal the one before the rebuild.\n"
"\n"
"The running daemon does the work: it holds this member's keys, needed to\n"
"open TLP:RED content again. Without the daemon the command refuses.\n"
"Exit status: 0 rebuilt, 1 failed or no daemon, 2 usage error.\n");

int
node_cmd_rebuild(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(rebuild_help)))
		return 0;
	if (argc != 1) {
		fprintf(stderr, "%s", _("usage: irnet-node rebuild\n"));
		return 2;
	}
	json_t *req = json_pack("{s:s}", "op", "rebuild"), *resp = NULL;
	irn_err e = node_ctl_call(c->home, req, &resp, 600000);
	json_decref(req);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node rebuild: the daemon is not running at %s/node.sock (%s);"
				  " start it ('irnet-node run'): it holds the keys that open TLP:RED"
				  " content\n"), c->home, irn_strerror(e));
		return 1;
	}
	int rc = 0;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, _("irnet-node rebuild: %s\n"),
			json_string_value(json_object_get(resp, "error")));
		rc = 1;
	} else if (c->json) {
		json_object_del(resp, "ok");
		char *s = json_dumps(resp, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s)
			puts(s);
		free(s);
	} else {
		printf(_("rebuilt from the ledger: %lld messages, %lld receipts replayed"),
		       (long long)json_integer_value(json_object_get(resp, "messages")),
		       (long long)json_integer_value(json_object_get(resp, "receipts")));
		json_int_t bad = json_integer_value(json_object_get(resp, "unreadable"));
		if (bad)
			printf(_(" (%lld not readable here)"), (long long)bad);
		printf("\n%s %s\n", _("state hash:"), json_string_value(json_object_get(resp, "state_hash")));
	}
	json_decref(resp);
	return rc;
}

static const char state_hash_help[] = N_(
"usage: irnet-node [--json] state-hash [ID]\n"
"\n"
"Print a BLAKE2b-256 hash of this node's derived incident state: every\n"
"incident (state, severity and who decided it), the transitions applied or\n"
"refused in the broker's order, and the Form 06 tasks, serialised\n"
"canonically and sorted by id; nothing local (ledger positions, arrival\n"
"times, sent/received) is included. Two nodes that hold the same incidents\n"
"print the same hash. With ID (a message id or unique prefix of an\n"
"incident), only that incident and its transitions, which every member that\n"
"took part in it holds alike (tasks go only to coordinators and assignees).\n"
"Reads the database; no daemon needed.\n"
"Exit status: 0 printed, 1 failed, 2 usage error.\n");

int
node_cmd_state_hash(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(state_hash_help)))
		return 0;
	if (argc > 2) {
		fprintf(stderr, "%s", _("usage: irnet-node state-hash [ID]\n"));
		return 2;
	}
	irn_home *h = forms_open_ro(c);
	if (!h)
		return 1;
	uint8_t id[IRN_MSGID_LEN];
	if (argc == 2) {
		int f = forms_find_message(h, argv[1], id);
		if (f != 1) {
			fprintf(stderr, _("irnet-node state-hash: no single message %s\n"), argv[1]);
			forms_close_ro(&h);
			return f == 0 ? 1 : 2;
		}
	}
	char hex[65];
	irn_err e = forms_state_hash(irn_ledger_db(h->ledger), argc == 2 ? id : NULL, hex);
	forms_close_ro(&h);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node state-hash: %s\n"), irn_strerror(e));
		return 1;
	}
	if (c->json)
		printf("{\"state_hash\": \"%s\"}\n", hex);
	else
		puts(hex);
	return 0;
}
