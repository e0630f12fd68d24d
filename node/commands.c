/* commands.c - irnet-node commands that talk to the daemon or read the
 * database in short read-only transactions. */
#include "node.h"
#include "fold.h"
#include "forms.h"
#include "authz.h"
#include "envelope.h"
#include "flow.h"
#include "payloads.h"
#include "keys.h"
#include "report.h"
#include "workflow.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

int
node_frame_write(int fd, const char *s, size_t n)
{
	uint8_t hdr[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	if (write(fd, hdr, 4) != 4)
		return -1;
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, s + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

char *
node_frame_read(int fd, size_t max)
{
	uint8_t hdr[4];
	if (irn_read_full(fd, hdr, 4) != 0)
		return NULL;
	size_t n = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
	if (n > max)
		return NULL;
	char *s = malloc(n + 1);
	if (s == NULL || irn_read_full(fd, s, n) != 0) {
		free(s);
		return NULL;
	}
	s[n] = 0;
	return s;
}

irn_err
node_ctl_call(const char *home, json_t *req, json_t **resp, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (irn_snprintf(sa.sun_path, sizeof sa.sun_path, "%s/node.sock", home) < 0)
		return IRN_ERR_INVALID;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return IRN_ERR_IO;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return IRN_ERR_NOTFOUND;
	}
	char *s = json_dumps(req, JSON_COMPACT);
	irn_err e = IRN_ERR_IO;
	if (s && node_frame_write(fd, s, strlen(s)) == 0) {
		char *r = node_frame_read(fd, 1 << 24);
		json_error_t jerr;
		*resp = r ? json_loads(r, 0, &jerr) : NULL;
		e = *resp ? IRN_OK : IRN_ERR_TIMEOUT;
		free(r);
		/* The daemon's refusal reasons come in English, the language of
		 * the protocol and the logs; every command hears the daemon here,
		 * so this is where they turn into the user's language. A text the
		 * daemon composed (in its own locale) is no msgid: unchanged. */
		const char *es = *resp && !json_is_true(json_object_get(*resp, "ok"))
					 ? json_string_value(json_object_get(*resp, "error")) : NULL;
		if (es && *es)
			json_object_set_new(*resp, "error", json_string(_(es)));
	}
	free(s);
	close(fd);
	return e;
}

void
print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_INDENT(2));
	if (s)
		puts(s);
	free(s);
}

/* ---- report ---- */

static const char report_help[] = N_(
"usage: irnet-node report [--form FILE.json] [field options] [--to LIST]\n"
"                         [--exercise] [--tlp clear|green|amber|red]\n"
"                         [--person NAME] [--wait SECONDS]\n"
"\n"
"Sign and send an initial incident report (Form 03, TT20 annex). The form\n"
"comes from a JSON file (docs/FORMS.md) and/or the options below, which\n"
"override the file. The command returns once the signed report is stored\n"
"durably at this node; the daemon delivers it and records the broker's\n"
"signed receipt. With --wait it also waits for that receipt.\n"
"\n"
"  --system NAME            affected information system (required)\n"
"  --security-level 1..5    the system's security level (required)\n"
"  --category NAME          e.g. attack.ransomware, fault.power (required)\n"
"  --summary TEXT           what happened (required)\n"
"  --detected-at TIME       RFC 3339, e.g. 2026-11-25T08:30:00+07:00 (required)\n"
"  --organisation NAME      reporting organisation\n"
"  --contact NAME           contact person; --phone, --email\n"
"  --handled                the incident has been handled already\n"
"  --to LIST                recipients (default from irnet.conf report_to),\n"
"                           member ids and role:NAME, comma-separated\n"
"  --exercise               drill traffic: marked end to end, never counted as real\n"
"  --attach FILE            attach a file (log, malware sample; repeatable): the\n"
"                           report names it (name, size, BLAKE2b-256) and the file\n"
"                           follows as inert chunks (see 'irnet-node attach')\n"
"\n"
"Categories: attack.{dos,phishing,malware,intrusion,defacement,ransomware,\n"
"destruction,espionage,combined,other}, fault.{power,link,software,overload,\n"
"other}, error.{hardware-config,software-config,policy,forced-stop,other},\n"
"disaster.{storm,flood,earthquake,fire,other}.\n"
"\n"
"Exit status: 0 stored (and, with --wait, received by the broker), 1 refused\n"
"or failed, 2 usage error, 3 --wait timed out (the report stays queued).\n");

static int
wait_receipt(const char *home, const char *hexid, int seconds)
{
	uint8_t id[IRN_MSGID_LEN];
	if (irn_unhex(id, sizeof id, hexid) != IRN_OK)
		return 1;
	for (int i = 0; i < seconds * 10; i++) {
		irn_home *h = NULL;
		if (irn_home_open(home, false, true, &h) != IRN_OK)
			return 1;
		sqlite3_stmt *st;
		const char *state = NULL;
		char buf[32] = "";
		if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
				       "SELECT state, broker_index FROM outbox WHERE message_id = ?", -1, &st,
				       NULL) == SQLITE_OK) {
			sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW) {
				snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(st, 0));
				state = buf;
			}
			sqlite3_finalize(st);
		}
		irn_home_close(&h);
		if (state && !strcmp(state, "done"))
			return 0;
		if (state && !strcmp(state, "refused"))
			return 1;
		usleep(100000);
	}
	return 3;
}

int
node_cmd_report(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(report_help)))
		return 0;
	json_t *form = NULL;
	json_t *req = json_pack("{s:s}", "op", "report");
	json_t *refs = json_array(); /* --attach: the files the report names */
	char *attach[IRN_MAX_LIST];
	int nattach = 0, wait = 0, rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--exercise")) {
			json_object_set_new(req, "exercise", json_true());
			continue;
		}
		if (!strcmp(a, "--handled")) {
			if (!form)
				form = json_object();
			json_object_set_new(form, "handled", json_true());
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, _("irnet-node report: %s needs a value (see --help)\n"), a);
			goto out;
		}
		i++;
		if (!strcmp(a, "--form")) {
			json_error_t err;
			json_t *f = json_load_file(v, 0, &err);
			if (f == NULL) {
				fprintf(stderr, _("irnet-node report: %s: line %d: %s\n"), v, err.line, err.text);
				rc = 1;
				goto out;
			}
			if (form)
				json_object_update_missing(form, f);
			else
				form = json_incref(f);
			json_decref(f);
			continue;
		}
		if (!form)
			form = json_object();
		if (!strcmp(a, "--system"))
			json_object_set_new(form, "system", json_string(v));
		else if (!strcmp(a, "--security-level"))
			json_object_set_new(form, "security_level", json_integer(strtol(v, NULL, 10)));
		else if (!strcmp(a, "--category"))
			json_object_set_new(form, "category", json_string(v));
		else if (!strcmp(a, "--summary"))
			json_object_set_new(form, "summary", json_string(v));
		else if (!strcmp(a, "--detected-at"))
			json_object_set_new(form, "detected_at", json_string(v));
		else if (!strcmp(a, "--organisation"))
			json_object_set_new(form, "organisation", json_pack("{s:s}", "name", v));
		else if (!strcmp(a, "--contact") || !strcmp(a, "--phone") || !strcmp(a, "--email")) {
			json_t *ct = json_object_get(form, "contact");
			if (!ct)
				json_object_set_new(form, "contact", ct = json_object());
			json_object_set_new(ct, a + 2 + (a[2] == 'c' ? 0 : 0), json_string(v));
			if (!strcmp(a, "--contact")) {
				json_object_del(ct, "contact");
				json_object_set_new(ct, "name", json_string(v));
			}
		} else if (!strcmp(a, "--to"))
			json_object_set_new(req, "to", json_string(v));
		else if (!strcmp(a, "--person"))
			json_object_set_new(req, "person", json_string(v));
		else if (!strcmp(a, "--tlp")) {
			static const char *const t[] = { "clear", "green", "amber", "red" };
			int k = -1;
			for (int j = 0; j < 4; j++)
				if (!strcmp(v, t[j]))
					k = j;
			if (k < 0) {
				fprintf(stderr, _("irnet-node report: --tlp is clear, green, amber or red\n"));
				goto out;
			}
			json_object_set_new(req, "tlp", json_integer(k));
		} else if (!strcmp(a, "--wait"))
			wait = atoi(v);
		else if (!strcmp(a, "--attach") && nattach < IRN_MAX_LIST) {
			json_t *ref = NULL;
			if (forms_attach_ref(c, v, &ref) != 0) {
				rc = 1;
				goto out;
			}
			json_array_append_new(refs, ref);
			attach[nattach++] = (char *)v;
		} else {
			fprintf(stderr, _("irnet-node report: unknown option %s (see --help)\n"), a);
			goto out;
		}
	}
	if (form && nattach) {
		json_t *af = json_object_get(form, "attachment_files");
		if (!json_is_array(af))
			json_object_set_new(form, "attachment_files", af = json_array());
		json_array_extend(af, refs);
	}
	if (form == NULL) {
		fprintf(stderr, _("irnet-node report: give --form FILE or the field options (see --help)\n"));
		goto out;
	}
	json_object_set(req, "form", form);
	json_t *resp = NULL;
	irn_err e = node_ctl_call(c->home, req, &resp, 10000);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node report: the daemon is not answering at %s/node.sock (%s); start it with 'irnet-node run'\n"),
			c->home, irn_strerror(e));
		rc = 1;
		goto out;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, _("irnet-node report: refused: %s\n"),
			json_string_value(json_object_get(resp, "error")));
		json_decref(resp);
		rc = 1;
		goto out;
	}
	const char *hex = json_string_value(json_object_get(resp, "message_id"));
	rc = 0;
	if (nattach && forms_attach_files(c, hex, attach, nattach, NULL, refs) != 0) {
		fprintf(stderr, _("irnet-node report: the report %s is stored, but not all its files"
				  " (send them with 'irnet-node attach --incident %s')\n"), hex, hex);
		json_decref(resp);
		rc = 1;
		goto out;
	}
	if (wait > 0) {
		rc = wait_receipt(c->home, hex, wait);
		json_object_set_new(resp, "receipt", json_boolean(rc == 0));
	}
	if (c->json)
		print_json(resp);
	else {
		printf(_("report %s stored and signed (sequence %lld)\n"), hex,
		       (long long)json_integer_value(json_object_get(resp, "sequence")));
		if (wait > 0)
			printf(rc == 0 ? _("the broker acknowledged it with a signed receipt\n")
				       : rc == 3 ? _("no receipt yet: the report stays queued and will be sent\n")
						 : _("the broker refused it: see 'irnet-node outbox'\n"));
	}
	json_decref(resp);
out:
	json_decref(refs);
	json_decref(form);
	json_decref(req);
	return rc;
}

/* ---- message (the other kinds, text payloads for now) ---- */

static const char message_help[] = N_(
"usage: irnet-node message --kind note --text TEXT [--to LIST] [--count N]\n"
"                          [--exercise] [--tlp clear|green|amber|red] [--person NAME]\n"
"       irnet-node message --kind KIND --payload-hex HEX|--payload-file FILE ...\n"
"\n"
"Sign and send a note: free text between members (kind 'note'). The typed\n"
"reports have their own commands: report (Form 03), progress, plan,\n"
"direction, support, end-report (Form 04), alert, ack, classify, transition,\n"
"task, task-status. Without --to the note goes to route.note, else report_to\n"
"(irnet.conf). With --count N, N messages are signed and stored in one\n"
"transaction; the command returns once all N are durable at this node and\n"
"prints their ids, one per line (a JSON list with --json).\n"
"--payload-hex and --payload-file send a typed payload (the encoded protobuf\n"
"message of the kind, in hex or as a binary file; for tools and tests),\n"
"checked like every receiver will.\n"
"Exit status: 0 stored, 1 refused or failed, 2 usage error.\n");

int
node_cmd_message(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(message_help)))
		return 0;
	json_t *req = json_pack("{s:s}", "op", "send");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--exercise")) {
			json_object_set_new(req, "exercise", json_true());
			continue;
		}
		if (v == NULL || strncmp(a, "--", 2) != 0) {
			fprintf(stderr, _("irnet-node message: bad argument %s (see --help)\n"), a);
			json_decref(req);
			return 2;
		}
		i++;
		if (!strcmp(a, "--count"))
			json_object_set_new(req, "count", json_integer(strtol(v, NULL, 10)));
		else if (!strcmp(a, "--tlp")) {
			static const char *const t[] = { "clear", "green", "amber", "red" };
			for (int j = 0; j < 4; j++)
				if (!strcmp(v, t[j]))
					json_object_set_new(req, "tlp", json_integer(j));
		} else if (!strcmp(a, "--kind") || !strcmp(a, "--text") || !strcmp(a, "--to") ||
			   !strcmp(a, "--person"))
			json_object_set_new(req, a + 2, json_string(v));
		else if (!strcmp(a, "--payload-hex")) {
			json_object_set_new(req, "op", json_string("send-payload"));
			json_object_set_new(req, "payload", json_string(v));
		} else if (!strcmp(a, "--payload-file")) {
			uint8_t *p = NULL;
			size_t plen = 0;
			char *hex = NULL;
			if (irn_read_file(v, IRN_MAX_PAYLOAD, &p, &plen) != IRN_OK ||
			    (hex = malloc(2 * plen + 1)) == NULL) {
				fprintf(stderr, _("irnet-node message: cannot read %s (at most 192 KiB)\n"), v);
				free(p);
				json_decref(req);
				return 1;
			}
			irn_hex(hex, p, plen);
			free(p);
			json_object_set_new(req, "op", json_string("send-payload"));
			json_object_set_new(req, "payload", json_string(hex));
			free(hex);
		}
		else {
			fprintf(stderr, _("irnet-node message: unknown option %s (see --help)\n"), a);
			json_decref(req);
			return 2;
		}
	}
	json_t *resp = NULL;
	irn_err e = node_ctl_call(c->home, req, &resp, 60000);
	json_decref(req);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node message: the daemon is not answering at %s/node.sock (%s)\n"),
			c->home, irn_strerror(e));
		return 1;
	}
	int rc = 0;
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, _("irnet-node message: refused: %s\n"),
			json_string_value(json_object_get(resp, "error")));
		rc = 1;
	} else if (c->json) {
		print_json(json_object_get(resp, "message_ids"));
	} else {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(resp, "message_ids"), i, v)
			puts(json_string_value(v));
	}
	json_decref(resp);
	return rc;
}

/* ---- questions to the broker ---- */

/* Send req to the daemon (req is consumed); print why on stderr and return
 * NULL when it does not answer or refuses, else its reply (caller frees). */
json_t *
node_ask(irn_cli *c, json_t *req, const char *cmd)
{
	json_t *resp = NULL;
	irn_err e = node_ctl_call(c->home, req, &resp, 10000);
	json_decref(req);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node %s: the daemon is not answering at %s/node.sock (%s)\n"),
			cmd, c->home, irn_strerror(e));
		return NULL;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, "irnet-node %s: %s\n", cmd,
			json_string_value(json_object_get(resp, "error")));
		json_decref(resp);
		return NULL;
	}
	return resp;
}

static void
fmt_ms(char *out, size_t n, json_t *v, const char *tz)
{
	if (json_is_integer(v))
		irn_fmt_time(out, n, json_integer_value(v), tz);
	else
		snprintf(out, n, "-");
}

int
node_cmd_members(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] members\nAsk the broker which members are online, when each was last seen, the\nroster version each holds and its clock skew. For coordinators, the steering\ncommittee, national members and the authority.\n")))
		return 0;
	json_t *resp = node_ask(c, json_pack("{s:s}", "op", "members"), "members");
	if (resp == NULL)
		return 1;
	irn_config cfg;
	char path[1100];
	snprintf(path, sizeof path, "%s/irnet.conf", c->home);
	if (irn_config_load(path, &cfg) != IRN_OK)
		snprintf(cfg.timezone, sizeof cfg.timezone, "Asia/Ho_Chi_Minh");
	if (c->json) {
		print_json(json_object_get(resp, "members"));
	} else {
		const char *head[] = { _("MEMBER"), _("STATE"), _("LAST SEEN"), _("ROSTER"),
				       _("CLOCK SKEW") };
		size_t w[] = { 30, 8, 26, 7, 0 };
		irn_fit_heads(w, head, 4);
		w[1] = irn_width_fit(w[1], (const char *[]){ _("online"), _("offline") }, 2);
		irn_fput_row(stdout, head, w, 5);
		size_t i;
		json_t *m;
		json_array_foreach(json_object_get(resp, "members"), i, m) {
			char t[64], skew[32] = "-", rv[24];
			fmt_ms(t, sizeof t, json_object_get(m, "last_seen_ms"), cfg.timezone);
			if (json_object_get(m, "clock_skew_ms"))
				snprintf(skew, sizeof skew, "%+lld ms",
					 (long long)json_integer_value(json_object_get(m, "clock_skew_ms")));
			snprintf(rv, sizeof rv, "%lld",
				 (long long)json_integer_value(json_object_get(m, "roster_version")));
			const char *row[] = { json_string_value(json_object_get(m, "id")),
					      json_is_true(json_object_get(m, "online")) ? _("online") : _("offline"),
					      t, rv, skew };
			irn_fput_row(stdout, row, w, 5);
		}
	}
	json_decref(resp);
	return 0;
}

int
node_cmd_delivery(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] delivery ID [--sender MEMBER]\nAsk the broker where a message stands with each recipient: accepted (in\nthe broker's ledger), delivered (sent, not yet acknowledged) or\nacknowledged (stored by the recipient), with times. ID is the full message\nid; --sender is for coordinators asking about another member's message.\n")))
		return 0;
	if (argc < 2) {
		fprintf(stderr, _("usage: irnet-node delivery ID [--sender MEMBER]\n"));
		return 2;
	}
	json_t *req = json_pack("{s:s,s:s}", "op", "delivery", "id", argv[1]);
	if (argc >= 4 && !strcmp(argv[2], "--sender"))
		json_object_set_new(req, "sender", json_string(argv[3]));
	json_t *resp = node_ask(c, req, "delivery");
	if (resp == NULL)
		return 1;
	if (c->json) {
		print_json(resp);
	} else {
		irn_config cfg;
		char path[1100], t[64];
		snprintf(path, sizeof path, "%s/irnet.conf", c->home);
		if (irn_config_load(path, &cfg) != IRN_OK)
			snprintf(cfg.timezone, sizeof cfg.timezone, "Asia/Ho_Chi_Minh");
		fmt_ms(t, sizeof t, json_object_get(resp, "accepted_ms"), cfg.timezone);
		printf(_("message %s: accepted by the broker at %s (ledger %lld)\n"), argv[1], t,
		       (long long)json_integer_value(json_object_get(resp, "ledger_index")));
		size_t i, w[] = { 30, 13 };
		w[1] = irn_width_fit(w[1], (const char *[]){ _("acknowledged"), _("delivered"),
							     _("accepted") }, 3);
		json_t *r;
		json_array_foreach(json_object_get(resp, "recipients"), i, r) {
			const char *st = json_string_value(json_object_get(r, "state"));
			json_t *when = json_object_get(r, !strcmp(st, "acknowledged") ? "acked_ms" : "delivered_ms");
			fmt_ms(t, sizeof t, when, cfg.timezone);
			const char *row[] = { json_string_value(json_object_get(r, "member")),
					      !strcmp(st, "acknowledged") ? _("acknowledged") :
					      !strcmp(st, "delivered") ? _("delivered") : _("accepted") };
			fputs("  ", stdout);
			irn_fput_cells(stdout, row, w, 2);
			printf("%s\n", when ? t : "");
		}
	}
	json_decref(resp);
	return 0;
}

static irn_home *open_ro(irn_cli *c);
static void close_ro(irn_home **h);

/* The end of every listing command: JSON for scripts, then close. */
static int
list_done(irn_cli *c, sqlite3_stmt *st, json_t *arr, irn_home **h)
{
	sqlite3_finalize(st);
	if (c->json)
		print_json(arr);
	json_decref(arr);
	close_ro(h);
	return 0;
}

/* ---- the incident lifecycle ---- */

/* Full incident id from a unique prefix of at least 6 hex digits. */
/* The one row of `sql` (?1 = prefix length, ?2 = the prefix, upper case hex
 * compared, lower(hex(id)) selected) that a unique prefix of at least 6 hex
 * digits names: its full lower-case id in out. 0 found, -1 none or several. */
int
node_find_by_prefix(irn_cli *c, const char *sql, const char *prefix, char out[33])
{
	irn_home *h = NULL;
	size_t pl = strlen(prefix);
	if (pl < 6 || pl > 32 || irn_home_open(c->home, false, true, &h) != IRN_OK)
		return -1;
	sqlite3_stmt *st;
	int found = 0;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, (int)pl);
		sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW)
			if (found++ == 0)
				snprintf(out, 33, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	irn_home_close(&h);
	return found == 1 ? 0 : -1;
}

static int
resolve_incident(irn_cli *c, const char *prefix, char out[33])
{
	return node_find_by_prefix(c, "SELECT lower(hex(message_id)) FROM incidents"
				      " WHERE substr(hex(message_id), 1, ?1) = upper(?2) LIMIT 2",
				   prefix, out);
}

static const char transition_help[] = N_(
"usage: irnet-node transition ID --to STATE [--reason TEXT]\n"
"                             [--severity normal|serious] [--merged-into ID]\n"
"       irnet-node classify ID --severity normal|serious --reason TEXT\n"
"\n"
"Move an incident to another state of its lifecycle:\n"
"  reported -> acknowledged -> classified -> responding -> resolved -> closed,\n"
"  withdrawn (the reporter or a coordinator, before classification),\n"
"  merged (into another incident: --merged-into), and reopening a resolved\n"
"  or closed incident (-> responding). Classification (QD05 art. 9) names the\n"
"severity and why; the steering committee decides on serious incidents.\n"
"The change is signed, names the state this node holds now, and goes to the\n"
"coordinators, the reporter and the report's recipients. Every node applies\n"
"changes in the broker's order: one that no longer starts from the current\n"
"state is refused the same way everywhere (see 'show ID').\n");

int
node_cmd_transition(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv, _(transition_help)))
		return 0;
	bool classify = !strcmp(argv[0], "classify");
	char id[33];
	if (argc < 2 || resolve_incident(c, argv[1], id) != 0) {
		fprintf(stderr, _("irnet-node %s: give the id (or a unique prefix) of an incident this node holds\n"),
			argv[0]);
		return 2;
	}
	json_t *req = json_pack("{s:s,s:s}", "op", "transition", "incident", id);
	if (classify)
		json_object_set_new(req, "to_state", json_string("classified"));
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		const char *key = !strcmp(a, "--to") ? "to_state" : !strcmp(a, "--reason") ? "reason"
				: !strcmp(a, "--severity") ? "severity" : !strcmp(a, "--merged-into") ? "merged_into"
				: !strcmp(a, "--person") ? "person" : NULL;
		if (key == NULL) {
			fprintf(stderr, _("irnet-node %s: unknown option %s (see --help)\n"), argv[0], a);
			json_decref(req);
			return 2;
		}
		char full[33];
		if (!strcmp(key, "merged_into") && resolve_incident(c, v, full) == 0)
			v = full;
		json_object_set_new(req, key, json_string(v));
	}
	if ((argc % 2) != 0) {
		fprintf(stderr, _("irnet-node %s: an option lacks its value (see --help)\n"), argv[0]);
		json_decref(req);
		return 2;
	}
	json_t *resp = node_ask(c, req, argv[0]);
	if (resp == NULL)
		return 1;
	if (c->json)
		print_json(resp);
	else
		printf(_("change %s signed and stored; it takes effect when the broker has ordered it\n"),
		       json_string_value(json_object_get(resp, "message_id")));
	json_decref(resp);
	return 0;
}

/* ---- coordination orders (Form 06) ---- */

static int
send_ctl(irn_cli *c, json_t *req, const char *cmd)
{
	json_t *resp = node_ask(c, req, cmd);
	if (resp == NULL)
		return 1;
	if (c->json)
		print_json(resp);
	else
		printf(_("%s signed and stored; the daemon sends it\n"),
		       json_string_value(json_object_get(resp, "message_id")));
	json_decref(resp);
	return 0;
}

int
node_cmd_task(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node task INCIDENT --assign MEMBER --deadline TIME --instructions TEXT\n"
		  "                       [--assign ... --deadline ... --instructions ...]...\n"
		  "                       [--person NAME] [--exercise]\n"
		  "A coordination order (Form 06): assign named members to response tasks with\n"
		  "a deadline (RFC 3339). Tasks are numbered in the order given. Each assignee\n"
		  "answers with 'task-status'; 'tasks' shows where every task stands.\n"
		  "--person names the authorised person who signs (default: person in\n"
		  "irnet.conf); --exercise marks the order as drill traffic.\n")))
		return 0;
	char id[33];
	if (argc < 2 || resolve_incident(c, argv[1], id) != 0) {
		fprintf(stderr, _("irnet-node task: give the id (or a unique prefix) of an incident this node holds\n"));
		return 2;
	}
	json_t *tasks = json_array(), *cur = NULL;
	json_t *req = json_pack("{s:s,s:s}", "op", "task", "incident", id);
	for (int i = 2; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--exercise")) {
			json_object_set_new(req, "exercise", json_true());
			i--;
		} else if (v == NULL) {
			fprintf(stderr, _("irnet-node task: unexpected %s (each task starts with --assign)\n"), a);
			json_decref(tasks);
			json_decref(req);
			return 2;
		} else if (!strcmp(a, "--person")) {
			json_object_set_new(req, "person", json_string(v));
		} else if (!strcmp(a, "--assign")) {
			cur = json_pack("{s:s}", "assignee", v);
			json_array_append_new(tasks, cur);
		} else if (cur && (!strcmp(a, "--deadline") || !strcmp(a, "--instructions"))) {
			json_object_set_new(cur, a + 2, json_string(v));
		} else {
			fprintf(stderr, _("irnet-node task: unexpected %s (each task starts with --assign)\n"), a);
			json_decref(tasks);
			json_decref(req);
			return 2;
		}
	}
	json_object_set_new(req, "tasks", tasks);
	return send_ctl(c, req, "task");
}

int
node_cmd_task_status(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node task-status ORDER NUMBER accepted|declined|progress|done\n"
		  "                              [--note TEXT] [--person NAME]\n"
		  "Answer a task assigned to this member. ORDER is the coordination order's id\n"
		  "(or a unique prefix, see 'tasks'). --person names the authorised person who\n"
		  "signs (default: person in irnet.conf).\n")))
		return 0;
	if (argc < 4) {
		fprintf(stderr, _("usage: irnet-node task-status ORDER NUMBER STATE [--note TEXT]\n"));
		return 2;
	}
	char order[33] = "";
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, true, &h) == IRN_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT DISTINCT lower(hex(tasking)) FROM tasks"
				       " WHERE substr(hex(tasking), 1, ?) = upper(?)", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int(st, 1, (int)strlen(argv[1]));
			sqlite3_bind_text(st, 2, argv[1], -1, SQLITE_STATIC);
			int found = 0;
			while (sqlite3_step(st) == SQLITE_ROW)
				if (found++ == 0)
					snprintf(order, sizeof order, "%s", (const char *)sqlite3_column_text(st, 0));
			if (found != 1)
				order[0] = '\0';
			sqlite3_finalize(st);
		}
		irn_home_close(&h);
	}
	if (!order[0]) {
		fprintf(stderr, _("irnet-node task-status: no single coordination order matches %s\n"), argv[1]);
		return 2;
	}
	json_t *req = json_pack("{s:s,s:s,s:I,s:s}", "op", "task-status", "tasking", order, "number",
				(json_int_t)strtol(argv[2], NULL, 10), "state", argv[3]);
	for (int i = 4; i < argc; i += 2) {
		if (i + 1 >= argc || (strcmp(argv[i], "--note") && strcmp(argv[i], "--person"))) {
			fprintf(stderr, _("usage: irnet-node task-status ORDER NUMBER STATE [--note TEXT]\n"));
			json_decref(req);
			return 2;
		}
		json_object_set_new(req, argv[i] + 2, json_string(argv[i + 1]));
	}
	return send_ctl(c, req, "task-status");
}

int
node_cmd_tasks(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] tasks [--open]\nTasks of coordination orders this node holds: who, what, the deadline and\nthe state. OVERDUE marks an open task past its deadline. --open hides done\nand declined tasks.\n")))
		return 0;
	bool open_only = argc >= 2 && !strcmp(argv[1], "--open");
	irn_home *h = open_ro(c);
	if (!h)
		return 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
		"SELECT lower(hex(tasking)), number, lower(hex(incident)), coordinator, assignee,"
		" instructions, deadline_ms, state, note, exercise FROM tasks ORDER BY deadline_ms", -1, &st,
		NULL) != SQLITE_OK) {
		close_ro(&h);
		return 1;
	}
	int64_t now = irn_now_ms();
	json_t *arr = json_array();
	const char *head[] = { _("ORDER"), _("#"), _("INCIDENT"), _("ASSIGNEE"), _("STATE"),
			       _("DEADLINE"), _("INSTRUCTIONS") };
	size_t w[] = { 10, 3, 10, 24, 12, 26, 0 };
	irn_fit_heads(w, head, 6);
	for (unsigned s = IRNET__TASK_STATE__TASK_ASSIGNED; s <= IRNET__TASK_STATE__TASK_DONE; s++)
		w[4] = irn_width_fit(w[4], (const char *[]){ _(irn_task_state_name(s)) }, 1);
	if (!c->json)
		irn_fput_row(stdout, head, w, 7);
	while (sqlite3_step(st) == SQLITE_ROW) {
		unsigned state = (unsigned)sqlite3_column_int(st, 7);
		bool open = state != IRNET__TASK_STATE__TASK_DONE && state != IRNET__TASK_STATE__TASK_DECLINED;
		if (open_only && !open)
			continue;
		bool overdue = open && sqlite3_column_int64(st, 6) < now;
		char dl[64];
		irn_fmt_time(dl, sizeof dl, sqlite3_column_int64(st, 6), h->cfg.timezone);
		json_t *o = json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b}",
			"order", sqlite3_column_text(st, 0), "number", sqlite3_column_int(st, 1),
			"incident", sqlite3_column_text(st, 2), "coordinator", sqlite3_column_text(st, 3),
			"assignee", sqlite3_column_text(st, 4), "instructions", sqlite3_column_text(st, 5),
			"deadline", dl, "state", irn_task_state_name(state), "overdue", overdue,
			"exercise", sqlite3_column_int(st, 9));
		if (sqlite3_column_text(st, 8))
			json_object_set_new(o, "note", json_string((const char *)sqlite3_column_text(st, 8)));
		if (!c->json) {
			char ord[9], inc[9], num[16];
			snprintf(ord, sizeof ord, "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(inc, sizeof inc, "%s", (const char *)sqlite3_column_text(st, 2));
			snprintf(num, sizeof num, "%d", sqlite3_column_int(st, 1));
			const char *row[] = { ord, num, inc, (const char *)sqlite3_column_text(st, 4),
					      _(irn_task_state_name(state)), dl };
			irn_fput_cells(stdout, row, w, 6);
			printf("%s%s%s\n", sqlite3_column_text(st, 5), overdue ? _("  OVERDUE") : "",
			       sqlite3_column_int(st, 9) ? "  " FLOW_EXERCISE_MARK : "");
		}
		json_array_append_new(arr, o);
	}
	return list_done(c, st, arr, &h);
}

/* ---- deadlines ---- */

typedef struct due_item {
	int64_t due_ms;
	const char *what;
	char ref[40];
	char who[IRN_MAX_ID + 1];
	char detail[300];
	bool ours;              /* about a message this node sent: always shown */
} due_item;

/* Whose duties 'due' shows: everyone's at a coordinator or national member
 * (or with --all), else only this member's own (by id or role). */
static struct { bool everyone; const char *self; uint32_t roles; } due_scope;
/* Its columns (STATUS, DUE, WHAT, WHO, REF), by display width, set with the
 * header: as wide as the translated headers and status words. */
static size_t due_w[5];

static void
due_add(json_t *arr, int64_t now, int64_t soon_ms, const due_item *d, const char *tz, bool json)
{
	if (!due_scope.everyone && !d->ours && strcmp(d->who, due_scope.self) != 0) {
		int role = !strncmp(d->who, "role:", 5) ? irn_role_parse(d->who + 5) : -1;
		if (role <= 0 || !(due_scope.roles & IRN_ROLE_BIT((unsigned)role)))
			return;
	}
	bool overdue = d->due_ms < now;
	if (!overdue && d->due_ms - now > soon_ms)
		return;
	char t[64];
	irn_fmt_time(t, sizeof t, d->due_ms, tz);
	if (json) {
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "what", d->what, "ref",
						     d->ref, "who", d->who, "due", t, "detail", d->detail,
						     "overdue", overdue));
	} else {
		char ref[11];
		snprintf(ref, sizeof ref, "%.10s", d->ref); /* a prefix, as the ids are typed */
		irn_fput_cells(stdout, (const char *[]){ overdue ? _("OVERDUE") : _("due soon"), t }, due_w, 2);
		/* a translation wider than its column is cut ("…") rather than
		 * pushing the member ids out of line */
		irn_print_cell(stdout, _(d->what), (int)due_w[2], false);
		fputc(' ', stdout);
		irn_fput_cells(stdout, (const char *[]){ d->who, ref }, due_w + 3, 2);
		printf("%s\n", d->detail);
	}
}

int
node_cmd_due(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] due [--days N] [--all]\n"
		  "What is overdue or due within N days (default 2), from this node's ledger:\n"
		  "  acknowledgement of a report (due_ack_minutes after it was received),\n"
		  "  acknowledgements of messages sent here that a recipient still owes\n"
		  "  (due_ack_minutes after sending; 'acks ID' lists them),\n"
		  "  the initial report itself (due_notify_days after detection),\n"
		  "  tasks of coordination orders (their deadlines),\n"
		  "  the end-of-response report (due_end_report_days after resolution),\n"
		  "  the periodic reports (before 20 June and 20 December).\n"
		  "At a coordinator or national member this covers everyone's duties that its\n"
		  "ledger holds; elsewhere this member's own duties and what it is owed\n"
		  "(--all: everything this node holds). The rules come from irnet.conf\n"
		  "(docs/CONFIG.md).\n")))
		return 0;
	int days = 2;
	bool all = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--days") && i + 1 < argc)
			days = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--all"))
			all = true;
		else {
			fprintf(stderr, _("irnet-node due: unknown option %s (see --help)\n"), argv[i]);
			return 2;
		}
	}
	irn_home *h = open_ro(c);
	if (!h)
		return 1;
	const irn_member *me = h->roster ? irn_roster_find(h->roster, h->cfg.id) : NULL;
	due_scope.self = h->cfg.id;
	due_scope.roles = me ? me->roles : 0;
	due_scope.everyone = all || (due_scope.roles & (IRN_ROLE_BIT(IRNET__ROLE__ROLE_COORDINATOR) |
							 IRN_ROLE_BIT(IRNET__ROLE__ROLE_NATIONAL)));
	int64_t now = irn_now_ms(), soon = (int64_t)days * 86400000;
	const irn_config *cf = &h->cfg;
	json_t *arr = json_array();
	const char *head[] = { _("STATUS"), _("DUE"), _("WHAT"), _("WHO"), _("REF"), _("DETAIL") };
	static const size_t due_min[] = { 9, 26, 26, 24, 12 };
	memcpy(due_w, due_min, sizeof due_w);
	irn_fit_heads(due_w, head, 5);
	due_w[0] = irn_width_fit(due_w[0], (const char *[]){ _("OVERDUE"), _("due soon") }, 2);
	if (!c->json)
		irn_fput_row(stdout, head, due_w, 6);
	sqlite3 *db = irn_ledger_db(h->ledger);
	sqlite3_stmt *st;
	/* reports not yet acknowledged, and reports filed later than the rule */
	if (sqlite3_prepare_v2(db, "SELECT lower(hex(message_id)), sender, system, state, detected_ms,"
			       " reported_ms, coalesce(accepted_ms, reported_ms), exercise FROM incidents",
			       -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			due_item d = { 0 };
			snprintf(d.ref, sizeof d.ref, "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(d.who, sizeof d.who, "%s", (const char *)sqlite3_column_text(st, 1));
			snprintf(d.detail, sizeof d.detail, "%s%s", (const char *)sqlite3_column_text(st, 2),
				 sqlite3_column_int(st, 7) ? " " FLOW_EXERCISE_MARK : "");
			const char *state = (const char *)sqlite3_column_text(st, 3);
			if (state && !strcmp(state, "reported")) {
				d.what = N_("acknowledge report");
				snprintf(d.who, sizeof d.who, "%s", "role:coordinator");
				d.due_ms = sqlite3_column_int64(st, 6) + (int64_t)cf->due_ack_minutes * 60000;
				due_add(arr, now, soon, &d, cf->timezone, c->json);
			}
			int64_t det = sqlite3_column_int64(st, 4), rep = sqlite3_column_int64(st, 5);
			if (rep - det > (int64_t)cf->due_notify_days * 86400000) {
				d.what = N_("report filed late");
				snprintf(d.who, sizeof d.who, "%s", (const char *)sqlite3_column_text(st, 1));
				d.due_ms = det + (int64_t)cf->due_notify_days * 86400000;
				due_add(arr, now, soon, &d, cf->timezone, c->json);
			}
		}
		sqlite3_finalize(st);
	}
	/* our messages that expected recipients have not acknowledged */
	if (sqlite3_prepare_v2(db, "SELECT lower(hex(message_id)), member, kind, created_ms, exercise"
			       " FROM expected_acks WHERE expected = 1 AND acked_ms IS NULL", -1, &st,
			       NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			due_item d = { .what = N_("acknowledgement of our message"), .ours = true };
			snprintf(d.ref, sizeof d.ref, "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(d.who, sizeof d.who, "%s", (const char *)sqlite3_column_text(st, 1));
			const char *k = irn_kind_name((unsigned)sqlite3_column_int(st, 2));
			snprintf(d.detail, sizeof d.detail, "%s%s", k ? k : "?",
				 sqlite3_column_int(st, 4) ? " " FLOW_EXERCISE_MARK : "");
			d.due_ms = sqlite3_column_int64(st, 3) + (int64_t)cf->due_ack_minutes * 60000;
			due_add(arr, now, soon, &d, cf->timezone, c->json);
		}
		sqlite3_finalize(st);
	}
	/* end-of-response report after resolution */
	if (sqlite3_prepare_v2(db, "SELECT lower(hex(i.message_id)), i.sender, i.system, max(t.created_ms)"
			       " FROM incidents i JOIN transitions t ON t.incident = i.message_id"
			       " WHERE i.state = 'resolved' AND i.end_report IS NULL AND t.to_state = 5"
			       " AND t.applied = 1"
			       " GROUP BY i.message_id", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			due_item d = { .what = N_("end-of-response report") };
			snprintf(d.ref, sizeof d.ref, "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(d.who, sizeof d.who, "%s", (const char *)sqlite3_column_text(st, 1));
			snprintf(d.detail, sizeof d.detail, "%s", (const char *)sqlite3_column_text(st, 2));
			d.due_ms = sqlite3_column_int64(st, 3) + (int64_t)cf->due_end_report_days * 86400000;
			due_add(arr, now, soon, &d, cf->timezone, c->json);
		}
		sqlite3_finalize(st);
	}
	/* tasks */
	if (sqlite3_prepare_v2(db, "SELECT lower(hex(tasking)), number, assignee, instructions, deadline_ms"
			       " FROM tasks WHERE state NOT IN (3, 5)", -1, &st, NULL) == SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			due_item d = { .what = N_("task") };
			snprintf(d.ref, sizeof d.ref, "%.8s#%d", (const char *)sqlite3_column_text(st, 0),
				 sqlite3_column_int(st, 1));
			snprintf(d.who, sizeof d.who, "%s", (const char *)sqlite3_column_text(st, 2));
			snprintf(d.detail, sizeof d.detail, "%s", (const char *)sqlite3_column_text(st, 3));
			d.due_ms = sqlite3_column_int64(st, 4);
			due_add(arr, now, soon, &d, cf->timezone, c->json);
		}
		sqlite3_finalize(st);
	}
	/* periodic reports: before 20 June and 20 December (local time) */
	{
		time_t tt = (time_t)(now / 1000);
		struct tm tm;
		localtime_r(&tt, &tm);
		int y = tm.tm_year + 1900;
		const int cand[3][2] = { { y, 6 }, { y, 12 }, { y + 1, 6 } };
		int64_t due = 0;
		for (int k = 0; k < 3 && due == 0; k++) {
			char when[40];
			int64_t ms;
			snprintf(when, sizeof when, "%04d-%02d-20T00:00:00+07:00", cand[k][0], cand[k][1]);
			if (irn_parse_time(when, &ms) == IRN_OK && ms > now)
				due = ms;
		}
		due_item d = { .what = N_("periodic report (Form 05)"), .due_ms = due };
		snprintf(d.ref, sizeof d.ref, "%s", "form05");
		snprintf(d.who, sizeof d.who, "%s", h->cfg.id);
		snprintf(d.detail, sizeof d.detail, "%s", _("six-month / annual report"));
		if (due)
			due_add(arr, now, soon, &d, cf->timezone, c->json);
	}
	if (c->json)
		print_json(arr);
	json_decref(arr);
	close_ro(&h);
	return 0;
}

/* ---- key rotation ---- */

int
node_cmd_rotate_keys(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node rotate-keys\nMake new signing and transport keys in HOME/keys/next (mode 0600) and\nprint the request for the authority. The daemon switches to them by itself\nas soon as a roster names them; the old keys stay valid for the overlap the\nauthority grants and are kept in HOME/keys/old-TIME for history.\n")))
		return 0;
	char dir[1100];
	snprintf(dir, sizeof dir, "%s/keys/next", c->home);
	irn_keys *k = NULL;
	irn_err e = irn_mkdir_p(dir, 0700);
	if (e == IRN_OK)
		e = irn_keys_generate(&k);
	if (e == IRN_OK)
		e = irn_keys_save(k, dir);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node rotate-keys: cannot make keys in %s: %s\n"), dir,
			e == IRN_ERR_EXISTS ? _("new keys are already waiting there") : irn_strerror(e));
		irn_keys_free(&k);
		return 1;
	}
	irn_config cfg;
	char path[1100];
	snprintf(path, sizeof path, "%s/irnet.conf", c->home);
	if (irn_config_load(path, &cfg) != IRN_OK) {
		irn_keys_free(&k);
		return 1;
	}
	char sp[65], tp[65], fp[48];
	irn_hex(sp, k->sign_pk, IRN_PK_LEN);
	irn_hex(tp, k->box_pk, IRN_PK_LEN);
	irn_fingerprint(fp, k->sign_pk);
	irn_keys_free(&k);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", cfg.id, "network", cfg.network, "sign_pk",
			      sp, "transport_pk", tp, "fingerprint", fp);
	print_json(o);
	json_decref(o);
	return 0;
}

/* ---- reads ---- */

static irn_home *
open_ro(irn_cli *c)
{
	irn_home *h = NULL;
	if (irn_home_open(c->home, false, true, &h) != IRN_OK)
		return NULL;
	/* one short read transaction per command */
	sqlite3_exec(irn_ledger_db(h->ledger), "BEGIN", NULL, NULL, NULL);
	return h;
}

static void
close_ro(irn_home **h)
{
	if (*h)
		sqlite3_exec(irn_ledger_db((*h)->ledger), "COMMIT", NULL, NULL, NULL);
	irn_home_close(h);
}

int
node_cmd_incidents(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] incidents\nList the incidents this node has reported or received, newest first.\n")))
		return 0;
	irn_home *h = open_ro(c);
	if (!h)
		return 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
		"SELECT message_id, sender, direction, system, category, summary,"
		" coalesce(decided_severity, severity), state,"
		" detected_ms, accepted_ms, exercise, broker_index, decided_by FROM incidents"
		" ORDER BY ledger_idx DESC", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "irnet-node: %s\n", sqlite3_errmsg(irn_ledger_db(h->ledger)));
		close_ro(&h);
		return 1;
	}
	json_t *arr = json_array();
	size_t w[] = { 32, 9, 22, 20, 8, 12, 0 }; /* display width (fold.h) */
	if (!c->json) {
		const char *head[] = { _("ID"), _("DIR"), _("FROM"), _("CATEGORY"), _("SEVERITY"),
				       _("STATE"), _("SYSTEM") };
		irn_fit_heads(w, head, 6);
		w[1] = irn_width_fit(w[1], (const char *[]){ _("sent"), _("received") }, 2);
		w[4] = irn_width_fit(w[4], (const char *[]){ _("serious"), _("normal") }, 2);
		irn_fput_row(stdout, head, w, 7);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		char hex[33], det[64];
		irn_hex(hex, sqlite3_column_blob(st, 0), IRN_MSGID_LEN);
		irn_fmt_time(det, sizeof det, sqlite3_column_int64(st, 8), h->cfg.timezone);
		const char *cat = irn_category_name((unsigned)sqlite3_column_int(st, 4));
		bool ex = sqlite3_column_int(st, 10);
		if (c->json) {
			json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b}",
				"id", hex, "sender", sqlite3_column_text(st, 1), "direction",
				sqlite3_column_text(st, 2), "system", sqlite3_column_text(st, 3),
				"category", cat ? cat : "?", "summary", sqlite3_column_text(st, 5),
				"severity", sqlite3_column_text(st, 6), "state", sqlite3_column_text(st, 7),
				"detected_at", det, "exercise", ex, "receipt",
				sqlite3_column_type(st, 11) != SQLITE_NULL);
			if (sqlite3_column_text(st, 12))
				json_object_set_new(o, "classified_by",
						    json_string((const char *)sqlite3_column_text(st, 12)));
			json_array_append_new(arr, o);
		} else {
			const char *dir = (const char *)sqlite3_column_text(st, 2);
			const char *sev = (const char *)sqlite3_column_text(st, 6);
			char sys[600];
			snprintf(sys, sizeof sys, "%s%s", sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "",
				 ex ? "  " FLOW_EXERCISE_MARK : "");
			const char *row[] = { hex, !strcmp(dir, "sent") ? _("sent") : _("received"),
					      (const char *)sqlite3_column_text(st, 1), cat ? cat : "?",
					      sev && !strcmp(sev, "serious") ? _("serious") : _("normal"),
					      (const char *)sqlite3_column_text(st, 7), sys };
			irn_fput_row(stdout, row, w, 7);
		}
	}
	return list_done(c, st, arr, &h);
}

static const irn_roster *
roster_at(irn_home *h, uint64_t version, irn_roster **owned)
{
	sqlite3_stmt *st;
	*owned = NULL;
	if (h->roster && h->roster->version == version)
		return h->roster;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT data FROM ledger WHERE type = 1 AND roster_version = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    irn_roster_parse_unverified(sqlite3_column_blob(st, 0),
					(size_t)sqlite3_column_bytes(st, 0), owned) != IRN_OK)
		*owned = NULL;
	sqlite3_finalize(st);
	return *owned;
}

/* The transitions an incident went through, in the broker's order. */
static json_t *
lifecycle(irn_home *h, const uint8_t id[IRN_MSGID_LEN])
{
	json_t *arr = json_array();
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT sender, from_state, to_state, reason, severity, created_ms, applied,"
			       " refusal, broker_index FROM transitions WHERE incident = ?"
			       " ORDER BY broker_index IS NULL, broker_index", -1, &st, NULL) != SQLITE_OK)
		return arr; /* an older database without the table */
	sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *from = irn_state_name((unsigned)sqlite3_column_int(st, 1));
		const char *to = irn_state_name((unsigned)sqlite3_column_int(st, 2));
		json_t *t = json_pack("{s:s,s:s,s:s,s:I}", "by", sqlite3_column_text(st, 0), "from",
				      from ? from : "?", "to", to ? to : "?", "created_ms",
				      (json_int_t)sqlite3_column_int64(st, 5));
		if (sqlite3_column_text(st, 3))
			json_object_set_new(t, "reason", json_string((const char *)sqlite3_column_text(st, 3)));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(t, "severity", json_string(sqlite3_column_int(st, 4) == 2 ? "serious" : "normal"));
		if (sqlite3_column_int(st, 1) == 0) { /* an end report (Form 04), not a Transition */
			json_object_set_new(t, "end_report", json_true());
			json_object_set_new(t, "from", json_string("end-report"));
		}
		if (sqlite3_column_type(st, 8) == SQLITE_NULL)
			json_object_set_new(t, "pending", json_true());
		else if (!sqlite3_column_int(st, 6))
			json_object_set_new(t, "refusal", json_string((const char *)sqlite3_column_text(st, 7)));
		json_array_append_new(arr, t);
	}
	sqlite3_finalize(st);
	return arr;
}

/* For a message this node signed: who acknowledged it, who not yet. */
static json_t *
show_acks(irn_home *h, const uint8_t id[IRN_MSGID_LEN])
{
	json_t *arr = json_array();
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT member, acked_ms, expected FROM expected_acks"
			       " WHERE message_id = ? ORDER BY member", -1, &st, NULL) != SQLITE_OK)
		return arr;
	sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_pack("{s:s,s:b}", "member", sqlite3_column_text(st, 0), "expected",
				      sqlite3_column_int(st, 2));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			char t[64];
			irn_fmt_time(t, sizeof t, sqlite3_column_int64(st, 1), h->cfg.timezone);
			json_object_set_new(o, "acked_at", json_string(t));
		}
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

static void
field(const char *label, const char *v)
{
	if (v && *v) {
		fputs("  ", stdout); /* padded by display width, not bytes */
		irn_fput_padded(stdout, label, 34);
		printf(" %s\n", v);
	}
}

int
node_cmd_show(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] show ID\nShow one report as the official form (Form 03), with its signer, key\nfingerprint, signature check and the broker's receipt. ID is the message\nid from 'incidents' (a unique prefix of at least 6 hex digits is enough).\n")))
		return 0;
	if (argc != 2 || strlen(argv[1]) < 6 || strlen(argv[1]) > 32) {
		fprintf(stderr, _("usage: irnet-node show ID\n"));
		return 2;
	}
	irn_home *h = open_ro(c);
	if (!h)
		return 1;
	sqlite3_stmt *st;
	int rc = 1;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
		"SELECT data, roster_version, accepted_ms, remote_index, idx FROM ledger WHERE type = 2"
		" AND substr(hex(message_id), 1, ?) = upper(?)", -1, &st, NULL) != SQLITE_OK) {
		close_ro(&h);
		return 1;
	}
	sqlite3_bind_int(st, 1, (int)strlen(argv[1]));
	sqlite3_bind_text(st, 2, argv[1], -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, _("irnet-node show: no message %s\n"), argv[1]);
		goto out;
	}
	const uint8_t *data = sqlite3_column_blob(st, 0);
	size_t len = (size_t)sqlite3_column_bytes(st, 0);
	irn_roster *owned = NULL;
	const irn_roster *r = roster_at(h, (uint64_t)sqlite3_column_int64(st, 1), &owned);
	irn_msg *m = NULL;
	irn_refusal why = { 0, N_("roster not found") };
	bool verified = r && irn_envelope_check(r, h->cfg.network, data, len, NULL, 0,
						sqlite3_column_int64(st, 2), &m, &why) == 0;
	if (!verified) {
		fprintf(stderr, _("irnet-node show: the stored message does NOT verify: %s\n"),
			_(why.reason)); /* English in logs and events, the reader's language here */
		irn_roster_free(&owned);
		goto out;
	}
	/* A TLP:RED payload is sealed in the ledger; its opened content was
	 * kept locally by the daemon when it arrived. */
	const uint8_t *content = m->body->payload.data;
	size_t clen = m->body->payload.len;
	uint8_t *opened = NULL;
	bool red = m->h->tlp == IRNET__TLP__TLP_RED;
	if (red) {
		sqlite3_stmt *ps;
		content = NULL;
		clen = 0;
		if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
				       "SELECT payload FROM sealed_plain WHERE message_id = ?", -1, &ps,
				       NULL) == SQLITE_OK) {
			sqlite3_bind_blob(ps, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
			if (sqlite3_step(ps) == SQLITE_ROW) {
				clen = (size_t)sqlite3_column_bytes(ps, 0);
				opened = malloc(clen ? clen : 1);
				if (opened) {
					memcpy(opened, sqlite3_column_blob(ps, 0), clen);
					content = opened;
				}
			}
			sqlite3_finalize(ps);
		}
	}
	json_t *form = content && m->h->kind == IRNET__KIND__KIND_INITIAL_REPORT
			       ? irn_report_to_json(content, clen) : NULL;
	json_t *typed = content && irn_typed_kind(m->h->kind) ? irn_typed_to_json(m->h->kind, content, clen)
							       : NULL;
	json_t *acks = show_acks(h, m->h->message_id.data);
	const char *state = NULL;
	char state_buf[32] = "";
	{
		sqlite3_stmt *ss;
		if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT state FROM incidents WHERE message_id = ?",
				       -1, &ss, NULL) == SQLITE_OK) {
			sqlite3_bind_blob(ss, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
			if (sqlite3_step(ss) == SQLITE_ROW && sqlite3_column_text(ss, 0)) {
				snprintf(state_buf, sizeof state_buf, "%s", (const char *)sqlite3_column_text(ss, 0));
				state = state_buf;
			}
			sqlite3_finalize(ss);
		}
	}
	json_t *life = lifecycle(h, m->h->message_id.data);
	char fp[48], hex[33], created[64], accepted[64];
	irn_fingerprint(fp, m->signer->sign_pk);
	irn_hex(hex, m->h->message_id.data, IRN_MSGID_LEN);
	irn_fmt_time(created, sizeof created, m->h->created_ms, h->cfg.timezone);
	irn_fmt_time(accepted, sizeof accepted, sqlite3_column_int64(st, 2), h->cfg.timezone);
	if (c->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:b,s:s,s:s}",
			"id", hex, "kind", irn_kind_name(m->h->kind), "sender", m->h->sender,
			"signer_name", m->signer->display_name, "organisation", m->signer->organisation,
			"fingerprint", fp, "verified", 1, "sequence", (json_int_t)m->h->sequence,
			"exercise", m->h->exercise, "created_at", created, "accepted_at", accepted);
		if (m->h->signed_by_person)
			json_object_set_new(o, "person", json_string(m->h->signed_by_person));
		if (m->h->local_account)
			json_object_set_new(o, "local_account", json_string(m->h->local_account));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			json_object_set_new(o, "broker_index", json_integer(sqlite3_column_int64(st, 3)));
		static const char *const tlps[] = { "clear", "green", "amber", "red" };
		json_object_set_new(o, "tlp", json_string(tlps[m->h->tlp <= 3 ? m->h->tlp : 2]));
		if (form)
			json_object_set(o, "form", form);
		if (typed)
			json_object_set(o, "payload", typed);
		if (state)
			json_object_set_new(o, "state", json_string(state));
		if (json_array_size(acks))
			json_object_set(o, "acks", acks);
		json_object_set(o, "lifecycle", life);
		print_json(o);
		json_decref(o);
	} else {
		if (m->h->exercise)
			printf("%s %s\n", FLOW_EXERCISE_MARK, _("*** EXERCISE / DIỄN TẬP: not a real incident ***"));
		if (red)
			printf("%s\n", content ? _("TLP:RED - confidential: for the named recipients only")
						: _("TLP:RED - sealed to other members: not readable here"));
		if (m->h->kind == IRNET__KIND__KIND_INITIAL_REPORT)
			printf("%s\n", _("FORM 03 - INITIAL INCIDENT REPORT"));
		else
			printf("%s: %s\n", _("MESSAGE"), irn_kind_name(m->h->kind));
		field(_("Message id:"), hex);
		field(_("State:"), state);
		const char *key;
		json_t *v;
		json_object_foreach(typed, key, v) {
			char lbl[64], num[32];
			snprintf(lbl, sizeof lbl, "%s:", key);
			if (json_is_string(v))
				field(lbl, json_string_value(v));
			else if (json_is_integer(v) || json_is_boolean(v)) {
				snprintf(num, sizeof num, "%s", json_is_true(v) ? _("yes") : json_is_false(v) ? _("no") : "");
				if (json_is_integer(v))
					snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
				field(lbl, num);
			} else if (json_array_size(v)) {
				char *d = json_dumps(v, JSON_COMPACT);
				field(lbl, d);
				free(d);
			}
		}
		if (form) {
			json_t *org = json_object_get(form, "organisation");
			json_t *ct = json_object_get(form, "contact");
			field(_("Reporting organisation:"), json_string_value(json_object_get(org, "name")));
			field(_("Address:"), json_string_value(json_object_get(org, "address")));
			field(_("Contact person:"), json_string_value(json_object_get(ct, "name")));
			field(_("Phone:"), json_string_value(json_object_get(ct, "phone")));
			field(_("Email:"), json_string_value(json_object_get(ct, "email")));
			field(_("Information system:"), json_string_value(json_object_get(form, "system")));
			char lvl[8];
			snprintf(lvl, sizeof lvl, "%lld", (long long)json_integer_value(json_object_get(form, "security_level")));
			field(_("Security level:"), lvl);
			Irnet__InitialReport *ir = irnet__initial_report__unpack(NULL, clen, content);
			if (ir) {
				char det[64];
				field(_("Category:"), irn_category_label(ir->category));
				irn_fmt_time(det, sizeof det, ir->detected_ms, h->cfg.timezone);
				field(_("Detected at:"), det);
				field(_("Status:"), ir->handled ? _("handled") : _("not handled"));
				field(_("Confidential:"), ir->confidential ? _("yes") : _("no"));
				field(_("Severity (QD05 art. 9):"), irn_report_serious(ir) ? _("serious") : _("normal"));
				irnet__initial_report__free_unpacked(ir, NULL);
			}
			field(_("Summary:"), json_string_value(json_object_get(form, "summary")));
			field(_("Measures taken:"), json_string_value(json_object_get(form, "measures_taken")));
			field(_("Support requested:"), json_string_value(json_object_get(form, "support_requested")));
		}
		printf("%s\n", _("SIGNATURE"));
		field(_("Signed by member:"), m->h->sender);
		field(_("Member name:"), m->signer->display_name);
		field(_("Organisation:"), m->signer->organisation);
		field(_("Authorised person:"), m->h->signed_by_person);
		field(_("Local account:"), m->h->local_account);
		field(_("Key fingerprint:"), fp);
		field(_("Signature:"), _("VERIFIED against the roster in force"));
		field(_("Created at:"), created);
		field(_("Accepted at:"), accepted);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			char bi[32];
			snprintf(bi, sizeof bi, "%lld", (long long)sqlite3_column_int64(st, 3));
			field(_("Broker ledger position:"), bi);
		}
	}
	if (!c->json && json_array_size(life)) {
		printf("%s\n", _("LIFECYCLE (in the broker's order)"));
		size_t i;
		json_t *t;
		json_array_foreach(life, i, t) {
			char when[64];
			irn_fmt_time(when, sizeof when, json_integer_value(json_object_get(t, "created_ms")),
				     h->cfg.timezone);
			const char *refused = json_string_value(json_object_get(t, "refusal"));
			const char *reason = json_string_value(json_object_get(t, "reason"));
			printf("  %s  ", when);
			irn_fput_cells(stdout, (const char *[]){ json_string_value(json_object_get(t, "by")) },
				       (const size_t[]){ 22 }, 1);
			printf("%s -> %s%s%s%s%s\n", json_string_value(json_object_get(t, "from")),
			       json_string_value(json_object_get(t, "to")),
			       reason ? ": " : "", reason ? reason : "",
			       refused ? _("  REFUSED: ") : "", refused && *refused ? _(refused) : "");
		}
	}
	if (!c->json && json_array_size(acks)) {
		printf("%s\n", _("ACKNOWLEDGEMENTS"));
		size_t i;
		json_t *a;
		json_array_foreach(acks, i, a) {
			const char *at = json_string_value(json_object_get(a, "acked_at"));
			fputs("  ", stdout);
			irn_fput_cells(stdout, (const char *[]){ json_string_value(json_object_get(a, "member")) },
				       (const size_t[]){ 30 }, 1);
			printf("%s\n", at ? at : _("NOT YET"));
		}
	}
	json_decref(acks);
	json_decref(typed);
	json_decref(life);
	json_decref(form);
	if (opened) {
		sodium_memzero(opened, clen);
		free(opened);
	}
	irn_msg_free(&m);
	irn_roster_free(&owned);
	rc = 0;
out:
	sqlite3_finalize(st);
	close_ro(&h);
	return rc;
}

int
node_cmd_outbox(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] outbox\n"
		  "List messages this node signed and their delivery state: pending (no\n"
		  "broker receipt yet), done (receipt held) or refused (with the reason);\n"
		  "how many times the daemon sent each one to the broker (attempts: the first\n"
		  "send, then again after a refusal for now, a reconnection or 5 s without an\n"
		  "answer) and when it last did (last try, local time). The two counters are\n"
		  "advisory: written without an fsync of their own, a crash of the machine may\n"
		  "lose their last increments (never a message or its state).\n")))
		return 0;
	irn_home *h = open_ro(c);
	if (!h)
		return 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
		"SELECT message_id, sequence, state, attempts, last_error, broker_index, accepted_ms,"
		" last_try_ms FROM outbox ORDER BY sequence", -1, &st, NULL) != SQLITE_OK) {
		close_ro(&h);
		return 1;
	}
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		char hex[33];
		irn_hex(hex, sqlite3_column_blob(st, 0), IRN_MSGID_LEN);
		json_t *o = json_pack("{s:s,s:I,s:s,s:I}", "id", hex, "sequence",
			(json_int_t)sqlite3_column_int64(st, 1), "state", sqlite3_column_text(st, 2),
			"attempts", (json_int_t)sqlite3_column_int64(st, 3));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(o, "error", json_string((const char *)sqlite3_column_text(st, 4)));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			json_object_set_new(o, "broker_index", json_integer(sqlite3_column_int64(st, 5)));
		/* NULL: never sent, or sent by a node older than the counters */
		char last[64] = "", tries[128] = "";
		if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
			irn_fmt_time(last, sizeof last, sqlite3_column_int64(st, 7), h->cfg.timezone);
			json_object_set_new(o, "last_try", json_string(last));
			json_object_set_new(o, "last_try_ms", json_integer(sqlite3_column_int64(st, 7)));
			snprintf(tries, sizeof tries, _("attempts %lld, last %s"),
				 (long long)sqlite3_column_int64(st, 3), last);
		} else if (!strcmp((const char *)sqlite3_column_text(st, 2), "pending")) {
			snprintf(tries, sizeof tries, "%s", _("not sent yet"));
		}
		if (!c->json)
			printf("%s #%-5lld %-8s %s%s%s\n", hex, (long long)sqlite3_column_int64(st, 1),
			       sqlite3_column_text(st, 2), tries,
			       tries[0] && sqlite3_column_type(st, 4) != SQLITE_NULL ? "  " : "",
			       sqlite3_column_type(st, 4) != SQLITE_NULL ? (const char *)sqlite3_column_text(st, 4) : "");
		json_array_append_new(arr, o);
	}
	return list_done(c, st, arr, &h);
}

static int
broker_events(irn_cli *c)
{
	json_t *resp = node_ask(c, json_pack("{s:s}", "op", "broker-events"), "events");
	if (resp == NULL)
		return 1;
	if (c->json) {
		print_json(json_object_get(resp, "events"));
	} else {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(resp, "events"), i, e) {
			char t[64];
			irn_fmt_time(t, sizeof t, json_integer_value(json_object_get(e, "time_ms")), NULL);
			const char *m = json_string_value(json_object_get(e, "member"));
			const char *d = json_string_value(json_object_get(e, "detail"));
			printf("%s ", t);
			irn_fput_cells(stdout, (const char *[]){ m ? m : "-",
						 json_string_value(json_object_get(e, "reason")) },
				       (const size_t[]){ 24, 22 }, 2);
			printf("%s\n", d ? d : "");
		}
	}
	json_decref(resp);
	return 0;
}

int
node_cmd_events(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] events [--broker]\nList security events: messages this node refused, and why. With --broker,\nthe broker's: every refusal with member, reason and time (coordinators).\n")))
		return 0;
	if (argc >= 2 && !strcmp(argv[1], "--broker"))
		return broker_events(c);
	irn_home *h = open_ro(c);
	if (!h)
		return 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
		"SELECT time_ms, member, reason, detail FROM security_events ORDER BY id", -1, &st,
		NULL) != SQLITE_OK) {
		close_ro(&h);
		return 1;
	}
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		char t[64];
		irn_fmt_time(t, sizeof t, sqlite3_column_int64(st, 0), h->cfg.timezone);
		const char *mem = (const char *)sqlite3_column_text(st, 1);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "time", t, "member",
			mem ? mem : "-", "reason", sqlite3_column_text(st, 2), "detail",
			sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : ""));
		if (!c->json) {
			printf("%s ", t);
			irn_fput_cells(stdout, (const char *[]){ mem ? mem : "-",
						 (const char *)sqlite3_column_text(st, 2) },
				       (const size_t[]){ 24, 22 }, 2);
			printf("%s\n", sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
		}
	}
	return list_done(c, st, arr, &h);
}

int
node_cmd_status(irn_cli *c, int argc, char **argv)
{
	if (irn_cli_wants_help(argc, argv,
		_("usage: irnet-node [--json] status\nAsk the running daemon for its state. Exit 1 if it is not running.\n")))
		return 0;
	json_t *req = json_pack("{s:s}", "op", "status"), *resp = NULL;
	irn_err e = node_ctl_call(c->home, req, &resp, 3000);
	json_decref(req);
	if (e != IRN_OK) {
		fprintf(stderr, _("irnet-node: the daemon is not running at %s\n"), c->home);
		return 1;
	}
	if (c->json)
		print_json(resp);
	else
		printf(_("%s: %s, roster %lld, %lld pending, ledger head %lld\n"),
		       json_string_value(json_object_get(resp, "id")),
		       json_is_true(json_object_get(resp, "connected")) ? _("connected") : _("not connected"),
		       (long long)json_integer_value(json_object_get(resp, "roster_version")),
		       (long long)json_integer_value(json_object_get(resp, "outbox_pending")),
		       (long long)json_integer_value(json_object_get(resp, "ledger_head")));
	json_int_t refused = json_integer_value(json_object_get(resp, "session_refused_ms"));
	if (!c->json && refused > 0 && irn_now_ms() - refused < 120000)
		fprintf(stderr, _("irnet-node: WARNING: %lld s ago the broker refused this node's connection: "
				  "another connection with this member's key is live (a second copy of this "
				  "node, or a stolen key)\n"),
			(long long)((irn_now_ms() - refused) / 1000));
	json_decref(resp);
	return 0;
}
