/* flow_cmd.c - the workflow commands (issue 5): progress, plan, direction,
 * support, end-report, alert, ack, acks, alerts and drill. */
#include "fold.h"
#include "node.h"
#include "flow.h"
#include "payloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { O_STR, O_INT, O_BOOL, O_LIST, O_STEP };

typedef struct opt {
	const char *flag, *key;
	enum opt_type type;
} opt;

typedef struct typed_cmd {
	const char *name, *kind;
	bool needs_incident;
	const char *help;
	const opt *opts;
} typed_cmd;

static const char common_help[] = N_(
"Common options:\n"
"  --form FILE        the form as JSON (docs/FORMS.md); options override it\n"
"  --to LIST          recipients: member ids and role:NAME, comma-separated;\n"
"                     default: route.KIND in irnet.conf, else the plan's flow\n"
"                     (docs/CONFIG.md)\n"
"  --person NAME      the authorised person who signs (default: person in\n"
"                     irnet.conf); the OS account is recorded as well\n"
"  --exercise         mark it as drill traffic (also while 'drill start' runs)\n"
"  --tlp LEVEL        clear, green, amber (default) or red (sealed)\n"
"\n"
"INCIDENT is the initial report's id or a unique prefix (see 'incidents').\n"
"Every receiver verifies the message and acknowledges it at once; see\n"
"'irnet-node acks ID'. Prints the new message id ('--json': the daemon's reply).\n"
"Exit status: 0 signed and stored, 1 refused or failed, 2 usage error.\n");

static const opt progress_opts[] = {
	{ "--summary", "summary", O_STR }, { "--actions", "actions_taken", O_STR },
	{ "--next", "next_steps", O_STR }, { "--percent", "percent_done", O_INT },
	{ "--contained", "contained", O_BOOL }, { NULL, NULL, 0 } };
static const opt plan_opts[] = {
	{ "--objective", "objective", O_STR }, { "--step", "steps", O_STEP },
	{ "--resources", "resources", O_STR }, { "--support-needed", "support_needed", O_STR },
	{ NULL, NULL, 0 } };
static const opt direction_opts[] = {
	{ "--question", "question", O_STR }, { "--option", "options", O_LIST },
	{ "--needed-by", "needed_by", O_STR }, { NULL, NULL, 0 } };
static const opt support_opts[] = {
	{ "--needed", "needed", O_STR }, { "--from", "from", O_STR },
	{ "--needed-by", "needed_by", O_STR }, { "--reason", "reason", O_STR }, { NULL, NULL, 0 } };
static const opt end_opts[] = {
	{ "--outcome", "outcome", O_STR }, { "--cause", "cause", O_STR },
	{ "--damage", "damage", O_STR }, { "--damage-vnd", "damage_vnd", O_INT },
	{ "--lessons", "lessons", O_STR }, { "--handling", "handling", O_STR },
	{ "--national-help", "national_help_requested", O_BOOL }, { "--ended-at", "ended_at", O_STR },
	{ NULL, NULL, 0 } };
static const opt alert_opts[] = {
	{ "--level", "level", O_STR }, { "--title", "title", O_STR }, { "--text", "text", O_STR },
	{ "--valid-until", "valid_until", O_STR }, { "--indicator", "indicators", O_LIST },
	{ NULL, NULL, 0 } };

static const typed_cmd cmds[] = {
	{ "progress", "progress-report", true, N_(
"usage: irnet-node progress INCIDENT --summary TEXT [--actions TEXT] [--next TEXT]\n"
"                           [--percent 0..100] [--contained] [common options]\n"
"\n"
"Sign and send a progress report on an incident (QĐ05 art. 11.2, \"báo cáo\n"
"tiến độ\"): what changed since the last report, what was done, what comes\n"
"next, how far the response is, and whether the spread is stopped.\n"
"Responders may send it about an incident of their coordination order.\n"
"\n"
"  --summary TEXT     what changed since the last report (required)\n"
"  --actions TEXT     actions taken\n"
"  --next TEXT        next steps\n"
"  --percent N        how far the response is, 0 to 100\n"
"  --contained        the spread has been stopped\n"
"\n"), progress_opts },
	{ "plan", "response-plan", true, N_(
"usage: irnet-node plan INCIDENT --objective TEXT [--step 'ACTION[|ASSIGNEE[|DUE]]']...\n"
"                       [--resources TEXT] [--support-needed TEXT] [common options]\n"
"\n"
"Sign and send a response plan (\"phương án ứng cứu\") for an incident: the\n"
"objective and numbered steps, each with an action, who does it (a member id\n"
"or the owner's own staff) and when it is due (RFC 3339).\n"
"\n"
"  --objective TEXT   what the response must achieve (required)\n"
"  --step SPEC        a step, in order: ACTION, or ACTION|ASSIGNEE|DUE\n"
"  --resources TEXT   own forces and means committed\n"
"  --support-needed TEXT  what must come from outside\n"
"\n"), plan_opts },
	{ "direction", "direction-request", true, N_(
"usage: irnet-node direction INCIDENT --question TEXT [--option TEXT]...\n"
"                            [--needed-by TIME] [common options]\n"
"\n"
"Sign and send a request for direction (\"đề nghị chỉ đạo\") to the bodies\n"
"that decide: the question, the options considered, and when the answer is\n"
"needed.\n"
"\n"
"  --question TEXT    the decision asked for (required)\n"
"  --option TEXT      one option considered (repeat for each)\n"
"  --needed-by TIME   when the decision is needed (RFC 3339)\n"
"\n"), direction_opts },
	{ "support", "support-request", true, N_(
"usage: irnet-node support INCIDENT --needed TEXT --from SOURCE [--needed-by TIME]\n"
"                          [--reason TEXT] [common options]\n"
"\n"
"Sign and send a support request (\"đề nghị hỗ trợ\"): the owner responds\n"
"with its own forces first (plan I.2.c) and asks only beyond its capacity.\n"
"\n"
"  --needed TEXT      what help is needed (required)\n"
"  --from SOURCE      provincial, national, foreign or other (required)\n"
"  --needed-by TIME   when it is needed (RFC 3339)\n"
"  --reason TEXT      why own forces are not enough\n"
"\n"), support_opts },
	{ "end-report", "end-report", true, N_(
"usage: irnet-node end-report INCIDENT --outcome TEXT --handling HOW [--cause TEXT]\n"
"                             [--damage TEXT] [--damage-vnd N] [--lessons TEXT]\n"
"                             [--national-help] [--ended-at TIME] [common options]\n"
"\n"
"Sign and send the end-of-response report (Form 04), linked to the initial\n"
"report (its id and date are filled in from it). It is refused here, and by\n"
"every receiver, when the incident's initial report is unknown. Accepted, it\n"
"moves the incident to 'resolved' at every node (in the broker's order); the\n"
"coordinator or a national member may close the incident only once it holds\n"
"this report. It goes to the routed recipients and to every recipient of\n"
"the initial report, so all participants hold it.\n"
"\n"
"  --outcome TEXT     result of the response (required)\n"
"  --handling HOW     self, with-help or foreign-help (required; Form 05 counts it)\n"
"  --cause TEXT       cause of the incident\n"
"  --damage TEXT      damage, in words\n"
"  --damage-vnd N     estimated damage in dong\n"
"  --lessons TEXT     lessons learned\n"
"  --national-help    national help was requested\n"
"  --ended-at TIME    when the response ended (RFC 3339; default now)\n"
"\n"), end_opts },
	{ "alert", "alert", false, N_(
"usage: irnet-node alert --level LEVEL --title TEXT --text TEXT [--incident ID]\n"
"                        [--valid-until TIME] [--indicator X]... [--to LIST]\n"
"                        [common options]\n"
"\n"
"Sign and send an alert or advisory (coordinators and national members) to a\n"
"role group or to everyone (--to everyone, the default unless route.alert is\n"
"set). Every receiver acknowledges it at once; 'irnet-node alerts' shows how\n"
"many have, 'irnet-node acks ID' who has not yet.\n"
"\n"
"  --level LEVEL      advisory, warning or urgent (required)\n"
"  --title TEXT       one line (required)\n"
"  --text TEXT        the advisory itself (required)\n"
"  --incident ID      the incident it is about, if any\n"
"  --valid-until TIME until when it applies (RFC 3339)\n"
"  --indicator X      an IP address, domain, hash or CVE id (repeat)\n"
"\n"), alert_opts },
};

/* An incident this node holds (as a report, or through a task): full id
 * from a unique prefix of at least 6 hex digits. */
static int
find_incident(irn_cli *c, const char *prefix, char out[33])
{
	return node_find_by_prefix(c, "SELECT DISTINCT lower(hex(id)) FROM (SELECT message_id AS id"
				      " FROM incidents UNION SELECT incident FROM tasks)"
				      " WHERE substr(hex(id), 1, ?1) = upper(?2) LIMIT 2",
				   prefix, out);
}

/* A message this node holds: full id from a unique prefix. */
static int
find_message(irn_cli *c, const char *prefix, char out[33])
{
	return node_find_by_prefix(c, "SELECT DISTINCT lower(hex(message_id)) FROM ledger WHERE type = 2"
				      " AND substr(hex(message_id), 1, ?1) = upper(?2) LIMIT 2",
				   prefix, out);
}


/* Send a request to the daemon; print the reply. 0, or 1 when refused. */
static int
call(irn_cli *c, json_t *req, const char *cmd)
{
	json_t *resp = NULL;
	irn_err e = node_ctl_call(c->home, req, &resp, 10000);
	json_decref(req);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node %s: the daemon is not answering at %s/node.sock (%s); start it with 'irnet-node run'\n"),
			cmd, c->home, irn_strerror(e));
		return 1;
	}
	int rc = 0;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, _("irnet-node %s: refused: %s\n"), cmd,
			json_string_value(json_object_get(resp, "error")));
		rc = 1;
	} else if (c->json) {
		print_json(resp);
	} else if (json_object_get(resp, "message_id")) {
		printf(_("%s signed and stored (to %s); the daemon sends it\n"),
		       json_string_value(json_object_get(resp, "message_id")),
		       json_string_value(json_object_get(resp, "to")) ? json_string_value(json_object_get(resp, "to"))
								     : "-");
	}
	json_decref(resp);
	return rc;
}

/* --tlp, --to, --person, --exercise; 1 if consumed (i advanced), -1 bad. */
static int
common_opt(json_t *req, int argc, char **argv, int *i, const char *cmd)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	if (!strcmp(a, "--exercise")) {
		json_object_set_new(req, "exercise", json_true());
		return 1;
	}
	if (strcmp(a, "--to") && strcmp(a, "--person") && strcmp(a, "--tlp"))
		return 0;
	if (v == NULL) {
		fprintf(stderr, _("irnet-node %s: %s needs a value (see --help)\n"), cmd, a);
		return -1;
	}
	(*i)++;
	if (!strcmp(a, "--tlp")) {
		static const char *const t[] = { "clear", "green", "amber", "red" };
		for (int j = 0; j < 4; j++)
			if (!strcmp(v, t[j])) {
				json_object_set_new(req, "tlp", json_integer(j));
				return 1;
			}
		fprintf(stderr, _("irnet-node %s: --tlp is clear, green, amber or red\n"), cmd);
		return -1;
	}
	json_object_set_new(req, a + 2, json_string(v));
	return 1;
}

static int
typed_command(irn_cli *c, const typed_cmd *tc, int argc, char **argv)
{
	char help[8192];
	snprintf(help, sizeof help, "%s%s", _(tc->help), _(common_help));
	if (irn_cli_wants_help(argc, argv, help))
		return 0;
	int i = 1;
	char id[33];
	json_t *req = json_pack("{s:s,s:s}", "op", "typed", "kind", tc->kind);
	json_t *form = json_object();
	int rc = 2;
	if (tc->needs_incident) {
		if (argc < 2 || argv[1][0] == '-' || find_incident(c, argv[1], id) != 0) {
			fprintf(stderr, _("irnet-node %s: give the id (or a unique prefix) of an incident this node holds\n"),
				tc->name);
			goto out;
		}
		json_object_set_new(req, "incident", json_string(id));
		i = 2;
	}
	for (; i < argc; i++) {
		int k = common_opt(req, argc, argv, &i, tc->name);
		if (k < 0)
			goto out;
		if (k > 0)
			continue;
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--incident") && !tc->needs_incident && v) {
			if (find_incident(c, v, id) != 0) {
				fprintf(stderr, _("irnet-node %s: no single incident matches %s\n"), tc->name, v);
				goto out;
			}
			json_object_set_new(req, "incident", json_string(id));
			i++;
			continue;
		}
		if (!strcmp(a, "--form") && v) {
			json_error_t jerr;
			json_t *f = json_load_file(v, 0, &jerr);
			if (!json_is_object(f)) {
				fprintf(stderr, _("irnet-node %s: %s: line %d: %s\n"), tc->name, v, jerr.line,
					f ? _("not a JSON object") : jerr.text);
				json_decref(f);
				rc = 1;
				goto out;
			}
			json_object_update_missing(form, f);
			json_decref(f);
			i++;
			continue;
		}
		const opt *o = tc->opts;
		while (o->flag && strcmp(o->flag, a))
			o++;
		if (o->flag == NULL) {
			fprintf(stderr, _("irnet-node %s: unknown option %s (see --help)\n"), tc->name, a);
			goto out;
		}
		if (o->type == O_BOOL) {
			json_object_set_new(form, o->key, json_true());
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, _("irnet-node %s: %s needs a value (see --help)\n"), tc->name, a);
			goto out;
		}
		i++;
		if (o->type == O_STR) {
			json_object_set_new(form, o->key, json_string(v));
		} else if (o->type == O_INT) {
			char *end;
			long long x = strtoll(v, &end, 10);
			if (*v == '\0' || *end != '\0') {
				fprintf(stderr, _("irnet-node %s: %s needs a whole number\n"), tc->name, a);
				goto out;
			}
			json_object_set_new(form, o->key, json_integer(x));
		} else {
			json_t *arr = json_object_get(form, o->key);
			if (!json_is_array(arr))
				json_object_set_new(form, o->key, arr = json_array());
			if (o->type == O_LIST) {
				json_array_append_new(arr, json_string(v));
			} else { /* ACTION|ASSIGNEE|DUE */
				char buf[4096];
				snprintf(buf, sizeof buf, "%s", v);
				char *assignee = strchr(buf, '|'), *due = NULL;
				if (assignee) {
					*assignee++ = '\0';
					if ((due = strchr(assignee, '|')))
						*due++ = '\0';
				}
				json_t *s = json_pack("{s:s}", "action", buf);
				if (assignee && *assignee)
					json_object_set_new(s, "assignee", json_string(assignee));
				if (due && *due)
					json_object_set_new(s, "due", json_string(due));
				json_array_append_new(arr, s);
			}
		}
	}
	json_object_set(req, "form", form);
	rc = call(c, json_incref(req), tc->name);
out:
	json_decref(form);
	json_decref(req);
	return rc;
}

int
node_cmd_typed(irn_cli *c, int argc, char **argv)
{
	for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
		if (!strcmp(argv[0], cmds[k].name))
			return typed_command(c, &cmds[k], argc, argv);
	return 2;
}

bool
node_is_typed_command(const char *name)
{
	for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
		if (!strcmp(name, cmds[k].name))
			return true;
	return false;
}

/* ---- ack, acks, alerts ---- */

int
node_cmd_ack(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node ack ID [--note TEXT] [--person NAME]\n"
		  "\n"
		  "Acknowledge a received message by hand: a signed acknowledgement, marked\n"
		  "as confirmed by a person, goes to its author. The daemon already\n"
		  "acknowledges every report, alert, coordination order and profile it\n"
		  "accepts, at once; this adds a person's confirmation (with a note). An\n"
		  "acknowledgement itself is never acknowledged. ID is the message id or a\n"
		  "unique prefix. The acknowledgement carries the message's exercise flag.\n"
		  "Exit status: 0 signed and stored, 1 refused or failed, 2 usage error.\n")))
		return 0;
	char id[33];
	if (argc < 2 || find_message(c, argv[1], id) != 0) {
		fprintf(stderr, _("irnet-node ack: give the id (or a unique prefix) of a message this node holds\n"));
		return 2;
	}
	json_t *req = json_pack("{s:s,s:s}", "op", "ack", "id", id);
	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && (!strcmp(argv[i], "--note") || !strcmp(argv[i], "--person"))) {
			json_object_set_new(req, argv[i] + 2, json_string(argv[i + 1]));
			i++;
			continue;
		}
		fprintf(stderr, _("irnet-node ack: unknown option %s (see --help)\n"), argv[i]);
		json_decref(req);
		return 2;
	}
	return call(c, req, "ack");
}

int
node_cmd_acks(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] acks ID\n"
		  "\n"
		  "For a message this node signed: which of its expected recipients (the\n"
		  "members it was addressed to, by id or by role, in the roster when it was\n"
		  "signed) have acknowledged it and when, and who has not yet. Members that\n"
		  "acknowledged without being expected are listed apart. ID is the message id\n"
		  "or a unique prefix. Exit status: 0 everyone expected has acknowledged,\n"
		  "1 someone has not (or no such message), 2 usage error.\n")))
		return 0;
	char id[33];
	if (argc != 2 || find_message(c, argv[1], id) != 0) {
		fprintf(stderr, _("irnet-node acks: give the id (or a unique prefix) of a message this node holds\n"));
		return 2;
	}
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, true, &h) != IRN_OK)
		return 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT member, expected, acked_ms, exercise FROM expected_acks"
			       " WHERE lower(hex(message_id)) = ? ORDER BY member", -1, &st, NULL) != SQLITE_OK) {
		irn_home_close(&h);
		return 1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	json_t *acked = json_array(), *waiting = json_array(), *extra = json_array();
	bool ex = false;
	int total = 0, done = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *mem = (const char *)sqlite3_column_text(st, 0);
		bool expected = sqlite3_column_int(st, 1), has = sqlite3_column_type(st, 2) != SQLITE_NULL;
		ex |= sqlite3_column_int(st, 3) != 0;
		char t[64] = "";
		if (has)
			irn_fmt_time(t, sizeof t, sqlite3_column_int64(st, 2), h->cfg.timezone);
		json_t *o = json_pack("{s:s}", "member", mem);
		if (has)
			json_object_set_new(o, "acked_at", json_string(t));
		total += expected;
		done += expected && has;
		json_array_append_new(!expected ? extra : has ? acked : waiting, o);
	}
	sqlite3_finalize(st);
	int rc = total == 0 ? 1 : done == total ? 0 : 1;
	if (c->json) {
		json_t *o = json_pack("{s:s,s:i,s:i,s:b,s:O,s:O,s:O}", "id", id, "expected", total, "acked",
				      done, "exercise", ex, "acknowledged", acked, "waiting", waiting,
				      "unexpected", extra);
		print_json(o);
		json_decref(o);
	} else if (total == 0 && json_array_size(extra) == 0) {
		fprintf(stderr, _("irnet-node acks: %s is not a message this node signed for others to acknowledge\n"), id);
	} else {
		printf(_("message %s%s%s: %d of %d expected recipients acknowledged\n"), id, ex ? " " : "",
		       ex ? FLOW_EXERCISE_MARK : "", done, total);
		size_t i;
		json_t *o;
		/* display widths: the translated words are wider than their bytes' count suggests */
		const char *words[] = { _("acknowledged"), _("NOT YET"), _("also acknowledged") };
		size_t w[] = { 30, irn_width_fit(16, words, 3), 0 };
		json_array_foreach(acked, i, o) {
			const char *row[] = { json_string_value(json_object_get(o, "member")), words[0],
					      json_string_value(json_object_get(o, "acked_at")) };
			fputs("  ", stdout);
			irn_fput_row(stdout, row, w, 3);
		}
		json_array_foreach(waiting, i, o) {
			const char *row[] = { json_string_value(json_object_get(o, "member")), words[1] };
			fputs("  ", stdout);
			irn_fput_row(stdout, row, w, 2);
		}
		json_array_foreach(extra, i, o) {
			const char *row[] = { json_string_value(json_object_get(o, "member")), words[2],
					      json_string_value(json_object_get(o, "acked_at")) };
			fputs("  ", stdout);
			irn_fput_row(stdout, row, w, 3);
		}
	}
	json_decref(acked);
	json_decref(waiting);
	json_decref(extra);
	irn_home_close(&h);
	return rc;
}

int
node_cmd_alerts(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] alerts\n"
		  "\n"
		  "Alerts and advisories this node sent or received, newest first: level,\n"
		  "title, author and, for those it sent, how many of the expected recipients\n"
		  "have acknowledged (see 'acks ID' for who has not). Drill alerts are marked.\n")))
		return 0;
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, true, &h) != IRN_OK)
		return 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT lower(hex(a.message_id)), a.sender, a.direction, a.level, a.title,"
			       " a.created_ms, a.exercise,"
			       " (SELECT count(*) FROM expected_acks e WHERE e.message_id = a.message_id"
			       "  AND e.expected = 1),"
			       " (SELECT count(*) FROM expected_acks e WHERE e.message_id = a.message_id"
			       "  AND e.expected = 1 AND e.acked_ms IS NOT NULL)"
			       " FROM alerts a ORDER BY a.created_ms DESC", -1, &st, NULL) != SQLITE_OK) {
		irn_home_close(&h);
		return 1;
	}
	json_t *arr = json_array();
	/* columns by display width (translated headers and words) */
	const char *dirs[] = { _("DIR"), _("sent"), _("received") };
	size_t aw[] = { 10, irn_width_fit(9, dirs, 3), irn_width_fit(9, (const char *[]){ _("LEVEL") }, 1),
			irn_width_fit(24, (const char *[]){ _("FROM") }, 1),
			irn_width_fit(26, (const char *[]){ _("TIME") }, 1),
			irn_width_fit(8, (const char *[]){ _("ACKED") }, 1), 0 };
	if (!c->json) {
		const char *hd[] = { _("ID"), _("DIR"), _("LEVEL"), _("FROM"), _("TIME"), _("ACKED"),
				     _("TITLE") };
		irn_fput_row(stdout, hd, aw, 7);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		char t[64], acked[24] = "-";
		irn_fmt_time(t, sizeof t, sqlite3_column_int64(st, 5), h->cfg.timezone);
		const char *dir = (const char *)sqlite3_column_text(st, 2);
		bool sent = !strcmp(dir, "sent"), ex = sqlite3_column_int(st, 6);
		const char *lvl = irn_alert_level_name((unsigned)sqlite3_column_int(st, 3));
		if (sent)
			snprintf(acked, sizeof acked, "%d/%d", sqlite3_column_int(st, 8), sqlite3_column_int(st, 7));
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "id", sqlite3_column_text(st, 0),
				      "sender", sqlite3_column_text(st, 1), "direction", dir, "level",
				      lvl ? lvl : "?", "title", sqlite3_column_text(st, 4), "time", t,
				      "exercise", ex);
		if (sent) {
			json_object_set_new(o, "acked", json_integer(sqlite3_column_int(st, 8)));
			json_object_set_new(o, "total", json_integer(sqlite3_column_int(st, 7)));
		}
		json_array_append_new(arr, o);
		if (!c->json) {
			char id8[9], title[600];
			snprintf(id8, sizeof id8, "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(title, sizeof title, "%s%s", ex ? FLOW_EXERCISE_MARK " " : "",
				 (const char *)sqlite3_column_text(st, 4));
			const char *row[] = { id8, sent ? _("sent") : _("received"), lvl ? lvl : "?",
					      (const char *)sqlite3_column_text(st, 1), t, acked, title };
			irn_fput_row(stdout, row, aw, 7);
		}
	}
	sqlite3_finalize(st);
	if (c->json)
		print_json(arr);
	json_decref(arr);
	irn_home_close(&h);
	return 0;
}

/* ---- drills ---- */

int
node_cmd_drill(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node drill start NAME | stop | status\n"
		  "\n"
		  "Run a drill (plan II.5.a) on the real network. While a drill runs at this\n"
		  "node, every message it signs carries the exercise flag (header.exercise),\n"
		  "end to end: every node shows such traffic marked [DIỄN TẬP / EXERCISE],\n"
		  "and incidents and tasks from it are marked so statistics (Form 05) leave\n"
		  "them out. Acknowledgements always carry the flag of what they acknowledge.\n"
		  "The flag is kept in the node database, so it survives a restart.\n"
		  "Exit status: 0 done, 1 refused (a drill already runs, none runs), 2 usage.\n")))
		return 0;
	json_t *req = json_pack("{s:s}", "op", "drill");
	if (argc == 3 && !strcmp(argv[1], "start")) {
		json_object_set_new(req, "action", json_string("start"));
		json_object_set_new(req, "name", json_string(argv[2]));
	} else if (argc == 2 && (!strcmp(argv[1], "stop") || !strcmp(argv[1], "status"))) {
		json_object_set_new(req, "action", json_string(argv[1]));
	} else {
		fprintf(stderr, _("usage: irnet-node drill start NAME | stop | status\n"));
		json_decref(req);
		return 2;
	}
	json_t *resp = node_ask(c, req, "drill");
	if (resp == NULL)
		return 1;
	if (c->json) {
		print_json(resp);
	} else if (json_is_true(json_object_get(resp, "drill"))) {
		printf(_("%s drill '%s' is running: every message signed here is marked as an exercise\n"),
		       FLOW_EXERCISE_MARK, json_string_value(json_object_get(resp, "name")));
	} else {
		printf("%s\n", _("no drill is running: messages are real"));
	}
	json_decref(resp);
	return 0;
}
