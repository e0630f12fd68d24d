/* flow.c - the response workflow in the daemon (issue 5): typed reports
 * routed from irnet.conf, end reports (Form 04) that resolve incidents,
 * acknowledgements sent at once by every receiver, alerts and drills. */
#include "flow.h"
#include "authz.h"
#include "payloads.h"
#include "workflow.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K(x) IRNET__KIND__KIND_##x
#define ROLE(x) IRNET__ROLE__ROLE_##x

irn_err
flow_schema(irn_ledger *l)
{
	static const char sql[] =
		/* kinds 2-6: which incident each report is about */
		"CREATE TABLE IF NOT EXISTS reports(message_id BLOB PRIMARY KEY, kind INTEGER NOT NULL,"
		" incident BLOB NOT NULL, reporter TEXT NOT NULL, sender TEXT NOT NULL,"
		" direction TEXT NOT NULL, created_ms INTEGER NOT NULL,"
		" exercise INTEGER NOT NULL DEFAULT 0, refusal TEXT);"
		"CREATE INDEX IF NOT EXISTS reports_incident ON reports(incident);"
		"CREATE TABLE IF NOT EXISTS alerts(message_id BLOB PRIMARY KEY, sender TEXT NOT NULL,"
		" direction TEXT NOT NULL, level INTEGER NOT NULL, title TEXT NOT NULL,"
		" created_ms INTEGER NOT NULL, exercise INTEGER NOT NULL DEFAULT 0);"
		/* at the author: who should acknowledge (the roster when it was
		 * signed) and who has */
		"CREATE TABLE IF NOT EXISTS expected_acks(message_id BLOB NOT NULL, member TEXT NOT NULL,"
		" kind INTEGER NOT NULL, created_ms INTEGER NOT NULL, expected INTEGER NOT NULL DEFAULT 1,"
		" acked_ms INTEGER, ack_id BLOB, exercise INTEGER NOT NULL DEFAULT 0,"
		" PRIMARY KEY(message_id, member));"
		/* at a receiver: acknowledgements owed, and the ones signed */
		"CREATE TABLE IF NOT EXISTS ack_queue(message_id BLOB PRIMARY KEY, sender TEXT NOT NULL,"
		" kind INTEGER NOT NULL, exercise INTEGER NOT NULL DEFAULT 0,"
		" state TEXT NOT NULL DEFAULT 'pending', ack_id BLOB, error TEXT);";
	sqlite3 *db = irn_ledger_db(l);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return irn_sqlite_err(rc);
	/* columns added to the tables of the walking skeleton */
	static const char *const alters[] = {
		"ALTER TABLE transitions ADD COLUMN kind INTEGER",   /* 6: an end report */
		"ALTER TABLE incidents ADD COLUMN end_report BLOB",  /* the one that resolved it */
	};
	for (size_t i = 0; i < sizeof alters / sizeof alters[0]; i++) {
		char *msg = NULL;
		rc = sqlite3_exec(db, alters[i], NULL, NULL, &msg);
		bool dup = rc != SQLITE_OK && msg && strstr(msg, "duplicate column");
		sqlite3_free(msg);
		if (rc != SQLITE_OK && !dup)
			return irn_sqlite_err(rc);
	}
	return IRN_OK;
}

/* ---- drills ---- */

static bool
drill_name(irn_home *h, char *out, size_t n, int64_t *since)
{
	sqlite3_stmt *st;
	bool on = false;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger),
			       "SELECT CAST(v AS TEXT), (SELECT v FROM meta WHERE k = 'drill_since')"
			       " FROM meta WHERE k = 'drill'", -1, &st, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		on = true;
		if (out)
			snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
		if (since)
			*since = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return on;
}

bool
flow_exercise(irn_home *h, json_t *req)
{
	json_t *x = json_object_get(req, "exercise");
	if (json_is_boolean(x))
		return json_is_true(x);
	return drill_name(h, NULL, 0, NULL);
}

/* sql (one parameter, id) gives the drill flag held here, or NULL if none:
 * does exercise contradict it? */
static bool
flag_mismatch(irn_home *h, const char *sql, const uint8_t id[IRN_MSGID_LEN], bool exercise)
{
	sqlite3_stmt *st;
	bool mismatch = false;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		mismatch = (sqlite3_column_int(st, 0) != 0) != exercise;
	sqlite3_finalize(st);
	return mismatch;
}

bool
flow_exercise_mismatch(irn_home *h, const uint8_t incident[IRN_MSGID_LEN], bool exercise)
{
	return flag_mismatch(h, "SELECT exercise FROM incidents WHERE message_id = ?1", incident, exercise);
}

/* A coordination order carries the incident's id, a task status only the
 * order's: the incident's flag is its initial report's if held here, else
 * that of the orders about it already applied here (an assignee need not
 * hold the report; an order with the other flag is never applied, so they
 * all agree). For an order, the sender's flow_follow_incident looks it up
 * the same way. */
bool
flow_task_exercise_mismatch(irn_home *h, const uint8_t id[IRN_MSGID_LEN], bool is_order, bool exercise)
{
	const char *sql = is_order
		? "SELECT coalesce((SELECT i.exercise FROM incidents i JOIN tasks t ON t.incident = i.message_id"
		  " WHERE t.tasking = ?1 LIMIT 1), (SELECT max(exercise) FROM tasks WHERE tasking = ?1))"
		: "SELECT coalesce((SELECT exercise FROM incidents WHERE message_id = ?1),"
		  " (SELECT max(exercise) FROM tasks WHERE incident = ?1))";
	return flag_mismatch(h, sql, id, exercise);
}

/* An explicit flag (--exercise, or "exercise" in a control request) against
 * the incident's is not signed: every receiver would keep the message and
 * never apply it (exercise-mismatch). The refusal, naming the incident, is
 * left in req's "exercise_conflict"; the daemon's author() answers with it
 * before signing anything (flow.h's interface stays as it is). */
void
flow_follow_incident(irn_home *h, json_t *req, const uint8_t id[IRN_MSGID_LEN], bool is_order)
{
	sqlite3_stmt *st;
	/* the incident's flag, and its id (an order's incident) */
	const char *sql = is_order ? "SELECT max(exercise), incident FROM tasks WHERE tasking = ?1"
				   : "SELECT exercise, message_id FROM incidents WHERE message_id = ?1"
				     " UNION ALL SELECT max(exercise), incident FROM tasks WHERE incident = ?1"
				     " AND NOT EXISTS (SELECT 1 FROM incidents WHERE message_id = ?1)";
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
	int drill = -1; /* unknown here: the request's flag, or the running drill's */
	char inc[2 * IRN_MSGID_LEN + 1] = "";
	while (sqlite3_step(st) == SQLITE_ROW)
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			drill = sqlite3_column_int(st, 0) != 0;
			if (sqlite3_column_bytes(st, 1) == IRN_MSGID_LEN)
				irn_hex(inc, sqlite3_column_blob(st, 1), IRN_MSGID_LEN);
			break;
		}
	sqlite3_finalize(st);
	if (drill < 0)
		return;
	json_t *x = json_object_get(req, "exercise");
	if (!json_is_boolean(x)) {
		json_object_set_new(req, "exercise", json_boolean(drill));
		return;
	}
	if (json_is_true(x) == (drill == 1))
		return;
	char why[512];
	if (drill)
		snprintf(why, sizeof why,
			 _("incident %s is a drill (exercise), but this message is marked real: every "
			   "receiver would keep it without applying it; nothing was signed (without a "
			   "flag, a message follows its incident)"), inc);
	else
		snprintf(why, sizeof why,
			 _("incident %s is real, not a drill, but this message is marked as drill traffic "
			   "(--exercise): every receiver would keep it without applying it; nothing was "
			   "signed (send it without --exercise)"), inc);
	json_object_set_new(req, "exercise_conflict", json_string(why));
}

static json_t *
op_drill(struct node *n, json_t *req)
{
	irn_home *h = nd_home(n);
	sqlite3 *db = irn_ledger_db(h->ledger);
	const char *action = json_string_value(json_object_get(req, "action"));
	const char *name = json_string_value(json_object_get(req, "name"));
	char cur[IRN_MAX_SHORT_TEXT + 1] = "";
	int64_t since = 0;
	bool on = drill_name(h, cur, sizeof cur, &since);
	if (action && !strcmp(action, "start")) {
		if (name == NULL || !name[0] || irn_text_check(name, strlen(name), IRN_MAX_SHORT_TEXT, 0))
			return nd_ctl_error(_("give the drill a name (one line of text)"));
		if (on)
			return nd_ctl_error(_("a drill is already running; stop it first"));
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(k, v) VALUES('drill', ?),"
					    " ('drill_since', ?)", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, irn_now_ms());
			rc = sqlite3_step(st);
			sqlite3_finalize(st);
		}
		if (rc != SQLITE_DONE)
			return nd_ctl_error(irn_strerror(IRN_ERR_DB));
		log_warn(_("drill '%s' started: every message signed here is marked as an exercise"), name);
		return json_pack("{s:b,s:b,s:s}", "ok", 1, "drill", 1, "name", name);
	}
	if (action && !strcmp(action, "stop")) {
		if (!on)
			return nd_ctl_error(_("no drill is running"));
		if (sqlite3_exec(db, "DELETE FROM meta WHERE k IN ('drill', 'drill_since')", NULL, NULL,
				 NULL) != SQLITE_OK)
			return nd_ctl_error(irn_strerror(IRN_ERR_DB));
		log_warn(_("drill '%s' stopped: messages are real again"), cur);
		return json_pack("{s:b,s:b,s:s}", "ok", 1, "drill", 0, "name", cur);
	}
	json_t *o = json_pack("{s:b,s:b}", "ok", 1, "drill", on);
	if (on) {
		json_object_set_new(o, "name", json_string(cur));
		json_object_set_new(o, "since_ms", json_integer(since));
	}
	return o;
}

/* ---- deriving ---- */

/* Kinds the receiver acknowledges at once (PRODUCT.md rule 5). */
static bool
acked_kind(unsigned kind)
{
	return (kind >= K(INITIAL_REPORT) && kind <= K(END_REPORT)) || kind == K(ALERT) ||
	       kind == K(TASKING) || kind == K(PROFILE);
}

const char *
flow_end_report_allowed(unsigned state, uint32_t roles, bool is_reporter)
{
	if (state != IRNET__INCIDENT_STATE__STATE_CLASSIFIED &&
	    state != IRNET__INCIDENT_STATE__STATE_RESPONDING && state != IRNET__INCIDENT_STATE__STATE_RESOLVED)
		return "an end report needs a classified, responding or resolved incident";
	if (!is_reporter && !(roles & (IRN_ROLE_BIT(ROLE(OWNER)) | IRN_ROLE_BIT(ROLE(COORDINATOR)))))
		return "only the reporter, an owner or a coordinator may end the response";
	return NULL;
}

const char *
flow_close_refusal(irn_home *h, const uint8_t incident[IRN_MSGID_LEN])
{
	sqlite3_stmt *st;
	bool held = false;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT end_report IS NOT NULL FROM incidents"
			       " WHERE message_id = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, incident, IRN_MSGID_LEN, SQLITE_STATIC);
		held = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return held ? NULL : _("closing needs the end-of-response report (Form 04), which this node does not hold");
}

/* The initial report this node holds for (incident, reporter): its
 * reported_ms, or 0 when it holds none. */
static int64_t
initial_report(irn_home *h, const uint8_t inc[IRN_MSGID_LEN], const char *reporter)
{
	sqlite3_stmt *st;
	int64_t t = 0;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), "SELECT reported_ms FROM incidents"
			       " WHERE message_id = ? AND sender = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, inc, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, reporter, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			t = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return t;
}

static int
exec_bind(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(db, sql, -1, st, NULL);
}

/* Our own message: who is expected to acknowledge it, from the roster now. */
static irn_err
expect_acks(irn_home *h, const irn_msg *m)
{
	sqlite3_stmt *st;
	int rc = exec_bind(irn_ledger_db(h->ledger),
			   "INSERT OR IGNORE INTO expected_acks(message_id, member, kind, created_ms, exercise)"
			   " VALUES(?,?,?,?,?)", &st);
	if (rc != SQLITE_OK)
		return irn_sqlite_err(rc);
	const irn_roster *r = h->roster;
	for (size_t i = 0; rc == SQLITE_OK && i < r->n_members; i++) {
		const irn_member *mb = &r->members[i];
		if (!strcmp(mb->id, h->cfg.id) || irn_member_has_role(mb, ROLE(BROKER)) ||
		    !irn_member_current(mb, m->h->created_ms) ||
		    !irn_msg_addressed_to(m->h, mb->id, mb->roles))
			continue;
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, mb->id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)m->h->kind);
		sqlite3_bind_int64(st, 4, m->h->created_ms);
		sqlite3_bind_int(st, 5, m->h->exercise);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	}
	sqlite3_finalize(st);
	return irn_sqlite_err(rc);
}

/* A received acknowledgement of one of our messages. */
static irn_err
record_ack(struct node *n, const irn_msg *m, const uint8_t *p, size_t len)
{
	irn_home *h = nd_home(n);
	Irnet__Acknowledgement *a = irnet__acknowledgement__unpack(NULL, len, p);
	if (a == NULL)
		return IRN_ERR_DECODE;
	irn_err e = IRN_OK;
	if (!strcmp(a->sender, h->cfg.id)) {
		sqlite3 *db = irn_ledger_db(h->ledger);
		sqlite3_stmt *st;
		int rc = exec_bind(db, "UPDATE expected_acks SET acked_ms = ?, ack_id = ?"
				   " WHERE message_id = ? AND member = ? AND acked_ms IS NULL", &st);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, m->h->created_ms);
			sqlite3_bind_blob(st, 2, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_bind_blob(st, 3, a->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, m->h->sender, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			sqlite3_finalize(st);
		}
		if (rc == SQLITE_DONE && sqlite3_changes(db) == 0) {
			/* not expected (joined later, or reached through a role
			 * list): counted apart; a repeated one changes nothing */
			rc = exec_bind(db, "INSERT OR IGNORE INTO expected_acks(message_id, member, kind,"
				       " created_ms, expected, acked_ms, ack_id) SELECT ?, ?, kind, created_ms,"
				       " 0, ?, ? FROM expected_acks WHERE message_id = ? LIMIT 1", &st);
			if (rc == SQLITE_OK) {
				sqlite3_bind_blob(st, 1, a->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 3, m->h->created_ms);
				sqlite3_bind_blob(st, 4, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
				sqlite3_bind_blob(st, 5, a->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
				rc = sqlite3_step(st);
				sqlite3_finalize(st);
			}
		}
		e = rc == SQLITE_DONE ? IRN_OK : irn_sqlite_err(rc);
	}
	irnet__acknowledgement__free_unpacked(a, NULL);
	return e;
}

static irn_err
insert_report(irn_home *h, const irn_msg *m, const uint8_t inc[IRN_MSGID_LEN], const char *reporter,
	      bool ours, const char *refusal)
{
	sqlite3_stmt *st;
	int rc = exec_bind(irn_ledger_db(h->ledger),
			   "INSERT OR IGNORE INTO reports(message_id, kind, incident, reporter, sender,"
			   " direction, created_ms, exercise, refusal) VALUES(?,?,?,?,?,?,?,?,?)", &st);
	if (rc != SQLITE_OK)
		return irn_sqlite_err(rc);
	sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)m->h->kind);
	sqlite3_bind_blob(st, 3, inc, IRN_MSGID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reporter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->h->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ours ? "sent" : "received", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, m->h->created_ms);
	sqlite3_bind_int(st, 8, m->h->exercise);
	if (refusal)
		sqlite3_bind_text(st, 9, refusal, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return irn_sqlite_err(rc);
}

/* Form 04 joins the incident's transitions (kind 6): replayed in the
 * broker's order with them, it resolves the incident and allows closing. */
static irn_err
end_report_transition(struct node *n, const irn_msg *m, const Irnet__EndReport *r,
		      uint32_t sender_roles, uint64_t broker_index)
{
	sqlite3_stmt *st;
	int rc = exec_bind(irn_ledger_db(nd_home(n)->ledger),
		"INSERT OR IGNORE INTO transitions(message_id, incident, reporter, sender, sender_roles,"
		" broker_index, from_state, to_state, reason, created_ms, kind)"
		" VALUES(?,?,?,?,?,?,0,?,?,?,?)", &st);
	if (rc != SQLITE_OK)
		return irn_sqlite_err(rc);
	sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, r->ref->incident.data, IRN_MSGID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->ref->reporter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->h->sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, sender_roles);
	if (broker_index)
		sqlite3_bind_int64(st, 6, (sqlite3_int64)broker_index);
	sqlite3_bind_int(st, 7, IRNET__INCIDENT_STATE__STATE_RESOLVED);
	sqlite3_bind_text(st, 8, r->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, m->h->created_ms);
	sqlite3_bind_int(st, 10, K(END_REPORT));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	irn_err e = irn_sqlite_err(rc);
	if (e == IRN_OK && broker_index)
		e = nd_replay_incident(n, r->ref->incident.data);
	return e;
}

irn_err
flow_derive(struct node *n, const irn_msg *m, const uint8_t *payload, size_t plen, uint32_t sender_roles,
	    uint64_t broker_index, bool ours, char *err, size_t errsz)
{
	irn_home *h = nd_home(n);
	unsigned kind = m->h->kind;
	irn_err e = IRN_OK;
	bool refused = false;
	if (kind == K(ACKNOWLEDGEMENT))
		return ours ? IRN_OK : record_ack(n, m, payload, plen);
	uint8_t inc[IRN_MSGID_LEN];
	char reporter[IRN_MAX_ID + 1];
	if (kind >= K(PROGRESS_REPORT) && kind <= K(END_REPORT) &&
	    irn_typed_incident(kind, payload, plen, inc, reporter)) {
		const char *refusal = NULL;
		Irnet__EndReport *r = NULL;
		if (kind == K(END_REPORT)) {
			r = irnet__end_report__unpack(NULL, plen, payload);
			if (r == NULL)
				return IRN_ERR_DECODE;
			int64_t at = initial_report(h, inc, reporter);
			if (at == 0)
				refusal = "end report without an initial report: this node holds no such incident";
			else if (at != r->initial_reported_ms)
				refusal = "the end report names another date than its initial report's";
		}
		if (refusal && ours) {
			if (err)
				snprintf(err, errsz, _("refused: %s"), refusal);
			irnet__end_report__free_unpacked(r, NULL);
			return IRN_ERR_INVALID;
		}
		if (refusal == NULL && flow_exercise_mismatch(h, inc, m->h->exercise)) {
			/* a drill never changes a real incident, nor the reverse:
			 * kept in the ledger and shown, never applied */
			refusal = m->h->exercise ? "a drill message about a real incident: not applied"
						 : "a real message about a drill incident: not applied";
			if (!ours) {
				char hex[2 * IRN_MSGID_LEN + 1], detail[300];
				irn_hex(hex, m->h->message_id.data, IRN_MSGID_LEN);
				snprintf(detail, sizeof detail, "%s %s: %s", irn_kind_name(kind), hex, refusal);
				nd_record_event(n, m->h->sender, "exercise-mismatch", detail);
			}
			refused = true;
		} else if (refusal) {
			/* signed and kept in the ledger, never applied nor acknowledged */
			char detail[300];
			char hex[2 * IRN_MSGID_LEN + 1];
			irn_hex(hex, m->h->message_id.data, IRN_MSGID_LEN);
			snprintf(detail, sizeof detail, "end report %s refused: %s", hex, refusal);
			nd_record_event(n, m->h->sender, "end-report-refused", detail);
			refused = true;
		}
		e = insert_report(h, m, inc, reporter, ours, refusal);
		if (e == IRN_OK && r && !refused)
			e = end_report_transition(n, m, r, sender_roles, broker_index);
		if (r)
			irnet__end_report__free_unpacked(r, NULL);
	} else if (kind == K(TASKING) && !ours) {
		/* an order derive_tasks did not apply (exercise-mismatch, recorded
		 * there) is not acknowledged either, like a refused report; it
		 * inserted nothing, so the same lookup gives the same answer */
		Irnet__Tasking *t = irnet__tasking__unpack(NULL, plen, payload);
		if (t == NULL)
			return IRN_ERR_DECODE;
		refused = flow_task_exercise_mismatch(h, t->incident.data, false, m->h->exercise);
		irnet__tasking__free_unpacked(t, NULL);
	} else if (kind == K(ALERT)) {
		Irnet__Alert *a = irnet__alert__unpack(NULL, plen, payload);
		if (a == NULL)
			return IRN_ERR_DECODE;
		sqlite3_stmt *st;
		int rc = exec_bind(irn_ledger_db(h->ledger),
				   "INSERT OR IGNORE INTO alerts(message_id, sender, direction, level, title,"
				   " created_ms, exercise) VALUES(?,?,?,?,?,?,?)", &st);
		if (rc == SQLITE_OK) {
			sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, ours ? "sent" : "received", -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 4, (int)a->level);
			sqlite3_bind_text(st, 5, a->title, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 6, m->h->created_ms);
			sqlite3_bind_int(st, 7, m->h->exercise);
			rc = sqlite3_step(st);
			sqlite3_finalize(st);
		}
		irnet__alert__free_unpacked(a, NULL);
		e = irn_sqlite_err(rc);
	}
	if (e != IRN_OK || !acked_kind(kind))
		return e;
	if (ours)
		return expect_acks(h, m);
	if (refused || nd_replaying(n))
		return IRN_OK; /* a rebuild owes nothing: the acknowledgements went out */
	/* owed: signed right after this batch commits (flow_send_acks) */
	sqlite3_stmt *st;
	int rc = exec_bind(irn_ledger_db(h->ledger), "INSERT OR IGNORE INTO ack_queue(message_id, sender,"
			   " kind, exercise) VALUES(?,?,?,?)", &st);
	if (rc == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, m->h->sender, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)kind);
		sqlite3_bind_int(st, 4, m->h->exercise);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return irn_sqlite_err(rc);
}

/* ---- acknowledgements ---- */

static json_t *
sign_ack(struct node *n, const char *account, const uint8_t id[IRN_MSGID_LEN], const char *sender,
	 bool exercise, const char *note, bool by_person, const char *person)
{
	char hex[2 * IRN_MSGID_LEN + 1], err[256];
	irn_hex(hex, id, IRN_MSGID_LEN);
	json_t *form = json_pack("{s:s,s:s,s:b}", "message_id", hex, "sender", sender, "by_person", by_person);
	if (note)
		json_object_set_new(form, "note", json_string(note));
	uint8_t *p = NULL;
	size_t len = 0;
	irn_err e = irn_typed_from_json(K(ACKNOWLEDGEMENT), form, irn_now_ms(), &p, &len, err, sizeof err);
	json_decref(form);
	if (e != IRN_OK)
		return nd_ctl_error(err);
	/* to the author only; the exercise flag is the acknowledged message's */
	json_t *req = json_pack("{s:s,s:b}", "to", sender, "exercise", exercise);
	if (person)
		json_object_set_new(req, "person", json_string(person));
	json_t *resp = nd_author(n, req, account, K(ACKNOWLEDGEMENT), p, len, sender);
	json_decref(req);
	free(p);
	return resp;
}

void
flow_send_acks(struct node *n)
{
	irn_home *h = nd_home(n);
	sqlite3 *db = irn_ledger_db(h->ledger);
	if (sqlite3_get_autocommit(db) == 0)
		return; /* inside a batch: after its commit */
	sqlite3_stmt *st;
	if (exec_bind(db, "SELECT message_id, sender, exercise FROM ack_queue WHERE state = 'pending'"
		      " ORDER BY rowid LIMIT 64", &st) != SQLITE_OK)
		return;
	struct { uint8_t id[IRN_MSGID_LEN]; char sender[IRN_MAX_ID + 1]; bool ex; } q[64];
	size_t nq = 0;
	while (nq < 64 && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == IRN_MSGID_LEN) {
		memcpy(q[nq].id, sqlite3_column_blob(st, 0), IRN_MSGID_LEN);
		snprintf(q[nq].sender, sizeof q[nq].sender, "%s", (const char *)sqlite3_column_text(st, 1));
		q[nq].ex = sqlite3_column_int(st, 2);
		nq++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < nq; i++) {
		json_t *resp = sign_ack(n, nd_account(), q[i].id, q[i].sender, q[i].ex, NULL, false, NULL);
		bool ok = json_is_true(json_object_get(resp, "ok"));
		uint8_t aid[IRN_MSGID_LEN];
		const char *ahex = json_string_value(json_object_get(resp, "message_id"));
		bool have = ok && ahex && irn_unhex(aid, sizeof aid, ahex) == IRN_OK;
		if (!ok)
			log_warn(_("cannot acknowledge a message from %s: %s"), q[i].sender,
				 json_string_value(json_object_get(resp, "error")));
		if (exec_bind(db, "UPDATE ack_queue SET state = ?, ack_id = ?, error = ? WHERE message_id = ?",
			      &st) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, ok ? "sent" : "failed", -1, SQLITE_STATIC);
			if (have)
				sqlite3_bind_blob(st, 2, aid, IRN_MSGID_LEN, SQLITE_TRANSIENT);
			if (!ok)
				sqlite3_bind_text(st, 3, json_string_value(json_object_get(resp, "error")), -1,
						  SQLITE_TRANSIENT);
			sqlite3_bind_blob(st, 4, q[i].id, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		json_decref(resp);
	}
}

/* A person acknowledges a received message by hand (by_person). */
static json_t *
op_ack(struct node *n, json_t *req, const char *account)
{
	irn_home *h = nd_home(n);
	const char *hex = json_string_value(json_object_get(req, "id"));
	uint8_t id[IRN_MSGID_LEN];
	if (hex == NULL || irn_unhex(id, sizeof id, hex) != IRN_OK)
		return nd_ctl_error(_("give the full 32-digit message id"));
	sqlite3_stmt *st;
	char sender[IRN_MAX_ID + 1] = "";
	unsigned kind = 0;
	bool ex = false;
	if (exec_bind(irn_ledger_db(h->ledger), "SELECT sender, kind, data FROM ledger WHERE type = 2"
		      " AND message_id = ? AND sender != ?", &st) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, h->cfg.id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(sender, sizeof sender, "%s", (const char *)sqlite3_column_text(st, 0));
			kind = (unsigned)sqlite3_column_int(st, 1);
			Irnet__Envelope *env = irnet__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 2),
								       sqlite3_column_blob(st, 2));
			Irnet__Body *b = env ? irnet__body__unpack(NULL, env->body.len, env->body.data) : NULL;
			ex = b && b->header->exercise;
			if (b)
				irnet__body__free_unpacked(b, NULL);
			if (env)
				irnet__envelope__free_unpacked(env, NULL);
		}
		sqlite3_finalize(st);
	}
	if (!sender[0])
		return nd_ctl_error(_("this node holds no such message from another member"));
	if (kind == K(ACKNOWLEDGEMENT))
		return nd_ctl_error(_("an acknowledgement is never acknowledged"));
	return sign_ack(n, account, id, sender, ex, json_string_value(json_object_get(req, "note")), true,
			json_string_value(json_object_get(req, "person")));
}

/* ---- typed reports and alerts ---- */

/* Add the comma-separated tokens of src to dst (no repeats), expanding
 * "reporter" and "everyone"; skip our own id. Sets *full (never cleared)
 * when a token does not fit: no recipient is ever dropped silently. */
static bool recipients_full;

static void
add_tokens(char *dst, size_t dsz, const char *src, const char *self, const char *reporter)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", src);
	for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(t, "everyone")) {
			add_tokens(dst, dsz, "role:operator,role:owner,role:coordinator,role:responder,"
				   "role:steering,role:national", self, reporter);
			continue;
		}
		const char *v = !strcmp(t, "reporter") ? reporter : t;
		if (v == NULL || !v[0] || !strcmp(v, self))
			continue;
		/* already there? compare whole tokens */
		bool dup = false;
		char cp[2048];
		snprintf(cp, sizeof cp, "%s", dst);
		for (char *s2 = NULL, *u = strtok_r(cp, ",", &s2); u && !dup; u = strtok_r(NULL, ",", &s2))
			dup = !strcmp(u, v);
		size_t l = strlen(dst);
		if (!dup && l + strlen(v) + 2 < dsz)
			snprintf(dst + l, dsz - l, "%s%s", l ? "," : "", v);
		else if (!dup)
			recipients_full = true;
	}
}

/* May this member (or role) receive the kind? For automatic additions only. */
static bool
may_receive(const irn_roster *r, unsigned kind, const char *token)
{
	uint32_t allowed = irn_authz_recipients(kind);
	if (!strncmp(token, "role:", 5)) {
		int role = irn_role_parse(token + 5);
		return role > 0 && (allowed & IRN_ROLE_BIT((unsigned)role));
	}
	const irn_member *m = irn_roster_find(r, token);
	return m && (m->roles & allowed);
}

/* The built-in routing of the plan (PRODUCT.md "Reporting flow"). */
const char *
flow_route(irn_home *h, unsigned kind)
{
	if (kind < IRN_ROUTE_KINDS && h->cfg.route[kind][0])
		return h->cfg.route[kind];
	if (kind == K(INITIAL_REPORT) || kind == K(NOTE))
		return h->cfg.report_to;
	if (kind == K(ALERT))
		return "everyone";
	const irn_member *self = irn_roster_find(h->roster, h->cfg.id);
	uint32_t roles = self ? self->roles : 0;
	if (roles & (IRN_ROLE_BIT(ROLE(COORDINATOR)) | IRN_ROLE_BIT(ROLE(NATIONAL))))
		return "role:owner,role:steering,role:national,reporter";
	if (roles & IRN_ROLE_BIT(ROLE(RESPONDER)))
		return "role:coordinator";
	return "role:owner,role:coordinator,role:national";
}

/* The reporter of an incident this node holds, from its initial report or,
 * at an assignee, from the coordination order naming it. */
static bool
incident_reporter(irn_home *h, const uint8_t inc[IRN_MSGID_LEN], char reporter[IRN_MAX_ID + 1],
		  int64_t *reported_ms)
{
	sqlite3 *db = irn_ledger_db(h->ledger);
	sqlite3_stmt *st;
	bool found = false;
	*reported_ms = 0;
	if (exec_bind(db, "SELECT sender, reported_ms FROM incidents WHERE message_id = ?", &st) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, inc, IRN_MSGID_LEN, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(reporter, IRN_MAX_ID + 1, "%s", (const char *)sqlite3_column_text(st, 0));
			*reported_ms = sqlite3_column_int64(st, 1);
			found = true;
		}
		sqlite3_finalize(st);
	}
	if (found)
		return true;
	if (exec_bind(db, "SELECT l.data FROM tasks t JOIN ledger l ON l.type = 2 AND l.message_id = t.tasking"
		      " WHERE t.incident = ? LIMIT 1", &st) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, inc, IRN_MSGID_LEN, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			Irnet__Envelope *env = irnet__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0),
								       sqlite3_column_blob(st, 0));
			Irnet__Body *b = env ? irnet__body__unpack(NULL, env->body.len, env->body.data) : NULL;
			Irnet__Tasking *t = b ? irnet__tasking__unpack(NULL, b->payload.len, b->payload.data) : NULL;
			if (t) {
				snprintf(reporter, IRN_MAX_ID + 1, "%s", t->reporter);
				found = true;
				irnet__tasking__free_unpacked(t, NULL);
			}
			if (b)
				irnet__body__free_unpacked(b, NULL);
			if (env)
				irnet__envelope__free_unpacked(env, NULL);
		}
		sqlite3_finalize(st);
	}
	return found;
}

/* The initial report's own recipients, so every participant hears of it. */
static void
add_participants(irn_home *h, const uint8_t inc[IRN_MSGID_LEN], unsigned kind, char *dst, size_t dsz,
		 const char *reporter)
{
	sqlite3_stmt *st;
	if (exec_bind(irn_ledger_db(h->ledger), "SELECT l.data FROM incidents i JOIN ledger l"
		      " ON l.idx = i.ledger_idx WHERE i.message_id = ?", &st) != SQLITE_OK)
		return;
	sqlite3_bind_blob(st, 1, inc, IRN_MSGID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		Irnet__Envelope *env = irnet__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0),
							       sqlite3_column_blob(st, 0));
		Irnet__Body *b = env ? irnet__body__unpack(NULL, env->body.len, env->body.data) : NULL;
		char tok[IRN_MAX_ID + 8];
		for (size_t i = 0; b && i < b->header->n_to_members; i++)
			if (may_receive(h->roster, kind, b->header->to_members[i]))
				add_tokens(dst, dsz, b->header->to_members[i], h->cfg.id, reporter);
		for (size_t i = 0; b && i < b->header->n_to_roles; i++) {
			snprintf(tok, sizeof tok, "role:%s", irn_role_name(b->header->to_roles[i]));
			if (may_receive(h->roster, kind, tok))
				add_tokens(dst, dsz, tok, h->cfg.id, reporter);
		}
		if (b)
			irnet__body__free_unpacked(b, NULL);
		if (env)
			irnet__envelope__free_unpacked(env, NULL);
	}
	sqlite3_finalize(st);
}

static json_t *
op_typed(struct node *n, json_t *req, const char *account)
{
	irn_home *h = nd_home(n);
	const char *kname = json_string_value(json_object_get(req, "kind"));
	int kind = kname ? irn_kind_parse(kname) : -1;
	if (kind < 0 || !irn_typed_kind((unsigned)kind) || kind == K(ACKNOWLEDGEMENT))
		return nd_ctl_error(_("unknown kind of report"));
	json_t *form = json_object_get(req, "form");
	if (!json_is_object(form))
		return nd_ctl_error(_("the form must be a JSON object"));
	const char *hex = json_string_value(json_object_get(req, "incident"));
	uint8_t inc[IRN_MSGID_LEN];
	char reporter[IRN_MAX_ID + 1] = "";
	int64_t reported_ms = 0;
	bool has_inc = hex != NULL;
	if (has_inc && irn_unhex(inc, sizeof inc, hex) != IRN_OK)
		return nd_ctl_error(_("give the incident's full 32-digit id"));
	if (!has_inc && kind != K(ALERT))
		return nd_ctl_error(_("this report needs the incident it is about"));
	if (has_inc && !incident_reporter(h, inc, reporter, &reported_ms))
		return nd_ctl_error(_("this node holds no such incident"));
	if (has_inc)
		flow_follow_incident(h, req, inc, false);
	if (kind == K(END_REPORT) && reported_ms == 0)
		return nd_ctl_error(_("end report without an initial report: this node holds no initial report for that incident"));
	form = json_deep_copy(form);
	if (has_inc) {
		json_object_set_new(form, "incident", json_string(hex));
		json_object_set_new(form, "reporter", json_string(reporter));
	}
	if (kind == K(END_REPORT)) {
		char t[40];
		irn_fmt_time_utc(t, sizeof t, reported_ms);
		json_object_set_new(form, "initial_reported_at", json_string(t));
	}
	char err[256];
	uint8_t *p = NULL;
	size_t plen = 0;
	irn_err e = irn_typed_from_json((unsigned)kind, form, irn_now_ms(), &p, &plen, err, sizeof err);
	json_decref(form);
	if (e != IRN_OK)
		return nd_ctl_error(err);
	/* recipients: --to, else the routing table; the incident's reporter and,
	 * for an end report, every participant of the initial report too */
	char to[1024] = ""; /* what the daemon's recipient parser takes */
	recipients_full = false;
	const char *given = json_string_value(json_object_get(req, "to"));
	add_tokens(to, sizeof to, given ? given : flow_route(h, (unsigned)kind), h->cfg.id,
		   has_inc && may_receive(h->roster, (unsigned)kind, reporter) ? reporter : NULL);
	if (has_inc && !given && may_receive(h->roster, (unsigned)kind, reporter))
		add_tokens(to, sizeof to, reporter, h->cfg.id, reporter);
	if (kind == K(END_REPORT))
		add_participants(h, inc, (unsigned)kind, to, sizeof to, reporter);
	if (recipients_full) {
		free(p);
		return nd_ctl_error(_("too many recipients for one message"));
	}
	if (!to[0]) {
		free(p);
		return nd_ctl_error(_("no recipients (give --to, or set a route in irnet.conf)"));
	}
	json_object_set_new(req, "to", json_string(to));
	json_t *resp = nd_author(n, req, account, (unsigned)kind, p, plen, to);
	free(p);
	if (json_is_true(json_object_get(resp, "ok")))
		json_object_set_new(resp, "to", json_string(to));
	return resp;
}

json_t *
flow_op(struct node *n, const char *op, json_t *req, const char *account)
{
	if (!strcmp(op, "typed"))
		return op_typed(n, req, account);
	if (!strcmp(op, "ack"))
		return op_ack(n, req, account);
	if (!strcmp(op, "drill"))
		return op_drill(n, req);
	return NULL;
}
