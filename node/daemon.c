#define _GNU_SOURCE 1 /* accept4, struct ucred */
/* daemon.c - `irnet-node run`: the only process holding the node's secret
 * keys and writing its database. One zmq_poll loop over the broker
 * connection, its monitor and the local control socket. */
#include "node.h"
#include "rosterdelta.h"
#include "forms.h"
#include "authz.h"
#include "crypto.h"
#include "validate.h"
#include "envelope.h"
#include "flow.h"
#include "payloads.h"
#include "report.h"
#include "seal.h"
#include "workflow.h"
#include "wire.h"
#include "merkle.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

typedef struct node {
	irn_home *h;
	void *ctx, *dealer, *mon;
	int ctl;
	bool welcomed;
	int64_t session_refused_ms; /* broker said ERR_SESSION_EXISTS (0: never) */
	int64_t last_hb_ms, last_resend_ms, last_cp_ms;
	int64_t retry_at_ms;      /* outbox: resend all pending then (a transient refusal) */
	uint64_t last_cp_idx;     /* ledger head named by our last checkpoint */
	uint64_t delivered_upto;  /* stored, maybe not yet committed */
	uint64_t committed_upto;  /* committed: what we acknowledge */
	uint64_t next_seq;
	uint64_t sent_seq;        /* outbox: highest sequence sent this session */
	unsigned inflight;        /* outbox: sent, no receipt or error yet */
	struct pending_query {
		int fd;              /* the waiting command's connection, -1: free */
		uint64_t nonce;
		int64_t deadline_ms;
	} queries[16];
	uint64_t next_nonce;
	bool warned_roster;       /* stale or forked broker roster reported */
	char endpoint[256];
	uint8_t server_pk[IRN_PK_LEN];
	unsigned connections;
	uint64_t seen_roster_idx;
	bool in_batch, batch_failed;
	bool replaying;           /* 'rebuild': derived tables from the ledger, no new events */
	bool sync_full;           /* the ledger fsyncs every commit (not the bench's control run) */
	unsigned batch_stored, batch_receipts, batch_deliveries;
	irn_root_cache *roots;    /* batch roots whose signature was checked */
} node;

static volatile sig_atomic_t stop_flag;
static void on_signal(int s) { (void)s; stop_flag = 1; }

irn_err
node_schema(irn_ledger *l)
{
	static const char sql[] =
		"CREATE TABLE IF NOT EXISTS outbox(message_id BLOB PRIMARY KEY,"
		" sequence INTEGER NOT NULL, envelope BLOB NOT NULL, created_ms INTEGER NOT NULL,"
		" state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
		" last_try_ms INTEGER, last_error TEXT, receipt_idx INTEGER, broker_index INTEGER,"
		" accepted_ms INTEGER);"
		"CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(sequence) WHERE state = 'pending';"
		"CREATE TABLE IF NOT EXISTS incidents(message_id BLOB PRIMARY KEY,"
		" ledger_idx INTEGER NOT NULL, sender TEXT NOT NULL, direction TEXT NOT NULL,"
		" system TEXT, category INTEGER, summary TEXT, severity TEXT, state TEXT,"
		" detected_ms INTEGER, reported_ms INTEGER, accepted_ms INTEGER, exercise INTEGER,"
		" tlp INTEGER, broker_index INTEGER, decided_severity TEXT, decided_by TEXT,"
		" decided_reason TEXT, merged_into BLOB);"
		"CREATE TABLE IF NOT EXISTS transitions(message_id BLOB PRIMARY KEY,"
		" incident BLOB NOT NULL, reporter TEXT NOT NULL, sender TEXT NOT NULL,"
		" sender_roles INTEGER NOT NULL, broker_index INTEGER, from_state INTEGER NOT NULL,"
		" to_state INTEGER NOT NULL, severity INTEGER, reason TEXT, merged_into BLOB,"
		" created_ms INTEGER NOT NULL, applied INTEGER, refusal TEXT);"
		"CREATE INDEX IF NOT EXISTS transitions_incident ON transitions(incident, broker_index);"
		"CREATE TABLE IF NOT EXISTS tasks(tasking BLOB NOT NULL, number INTEGER NOT NULL,"
		" incident BLOB NOT NULL, coordinator TEXT NOT NULL, assignee TEXT NOT NULL,"
		" instructions TEXT NOT NULL, deadline_ms INTEGER NOT NULL, state INTEGER NOT NULL,"
		" note TEXT, updated_ms INTEGER NOT NULL, exercise INTEGER NOT NULL DEFAULT 0,"
		" PRIMARY KEY(tasking, number));"
		"CREATE TABLE IF NOT EXISTS sealed_plain(message_id BLOB PRIMARY KEY,"
		" payload BLOB NOT NULL);"
		"CREATE TABLE IF NOT EXISTS security_events(id INTEGER PRIMARY KEY,"
		" time_ms INTEGER NOT NULL, member TEXT, reason TEXT NOT NULL, detail TEXT);";
	irn_err e = irn_sqlite_err(sqlite3_exec(irn_ledger_db(l), sql, NULL, NULL, NULL));
	if (e == IRN_OK)
		e = forms_schema(irn_ledger_db(l));
	return e == IRN_OK ? flow_schema(l) : e;
}

static void
record_event(node *n, const char *member, const char *reason, const char *detail)
{
	if (n->replaying)
		return; /* recorded when it first happened */
	irn_security_event(member, reason, "%s", detail);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(n->h->ledger),
			       "INSERT INTO security_events(time_ms, member, reason, detail)"
			       " VALUES(?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, irn_now_ms());
	sqlite3_bind_text(st, 2, member, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static bool begin_batch(node *n);
static irn_err replay_incident(node *n, const uint8_t incident[IRN_MSGID_LEN]);
static void handle_answer(node *n, const Irnet__Answer *a);
static void end_batch(node *n);

/* ---- sending ---- */

static void
send_packet(node *n, Irnet__Packet *p)
{
	if (irn_packet_send(n->dealer, NULL, 0, p) != 0)
		log_debug("send: %s", zmq_strerror(errno));
}

static void
send_hello(node *n)
{
	Irnet__Hello hl = IRNET__HELLO__INIT;
	hl.version = IRN_PROTOCOL_VERSION;
	hl.roster_version = n->h->roster->version;
	hl.delivered_upto = n->delivered_upto;
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_HELLO;
	p.hello = &hl;
	send_packet(n, &p);
}

static void
send_ack(node *n, uint64_t upto)
{
	Irnet__Ack a = IRNET__ACK__INIT;
	a.upto = upto;
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_ACK;
	p.ack = &a;
	send_packet(n, &p);
}

/* Count one burst of sends (the pending messages numbered first..last, all
 * just handed to the socket) in the outbox: attempts + 1, last_try_ms now.
 * One UPDATE per burst, never one per message: the send path is hot. Inside
 * a transaction if one is open; else (the usual case: flush_outbox runs
 * after the caller's commit) in its own, committed without an fsync
 * (synchronous=NORMAL for this commit alone: WAL keeps it atomic, the next
 * fsynced commit makes it durable with everything before it; the other
 * commits keep synchronous=FULL). The counters are advisory: a crash may
 * lose the last bursts' increments, never anything else, and an fsync per
 * burst would cost more than the sending it counts. */
static void
count_attempts(node *n, uint64_t first, uint64_t last)
{
	static const char q_relax[] = "PRAGMA synchronous=NORMAL";
	static const char q_full[] = "PRAGMA synchronous=FULL";
	static const char q_count[] =
		"UPDATE outbox SET attempts = attempts + 1, last_try_ms = ?"
		" WHERE state = 'pending' AND sequence BETWEEN ? AND ?";
	irn_ledger *l = n->h->ledger;
	bool relax = n->sync_full && sqlite3_get_autocommit(irn_ledger_db(l));
	sqlite3_stmt *st;
	if (relax && (st = irn_ledger_cached(l, q_relax)) != NULL) {
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	if ((st = irn_ledger_cached(l, q_count)) != NULL) {
		sqlite3_bind_int64(st, 1, irn_now_ms());
		sqlite3_bind_int64(st, 2, (sqlite3_int64)first);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)last);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) /* a full disk, a lock: only the counters lag */
			log_debug("outbox attempts not counted: %s", sqlite3_errstr(rc));
	}
	if (relax && (st = irn_ledger_cached(l, q_full)) != NULL) {
		sqlite3_step(st);
		sqlite3_reset(st);
	}
}

/* Send pending messages in sequence order, at most OUTBOX_WINDOW without a
 * receipt (credit-based: a backlog never overflows a socket). all: start
 * again from the oldest pending message (after a reconnect or a silence). */
#define OUTBOX_WINDOW 1000
static void
flush_outbox(node *n, bool all)
{
	if (!n->welcomed)
		return;
	if (all) {
		n->sent_seq = 0;
		n->inflight = 0;
	}
	if (n->inflight >= OUTBOX_WINDOW)
		return;
	sqlite3 *db = irn_ledger_db(n->h->ledger);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT sequence, envelope FROM outbox WHERE state = 'pending'"
			       " AND sequence > ? ORDER BY sequence LIMIT ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n->sent_seq);
	sqlite3_bind_int(st, 2, (int)(OUTBOX_WINDOW - n->inflight));
	int sent = 0;
	uint64_t first = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (irn_packet_send_bytes(n->dealer, NULL, 0, IRNET__PACKET__P_SUBMIT,
					  sqlite3_column_blob(st, 1),
					  (size_t)sqlite3_column_bytes(st, 1)) != 0)
			break;
		n->sent_seq = (uint64_t)sqlite3_column_int64(st, 0);
		if (sent == 0)
			first = n->sent_seq;
		n->inflight++;
		sent++;
	}
	sqlite3_finalize(st);
	if (sent) {
		log_debug("sent %d pending message(s) to the broker", sent);
		count_attempts(n, first, n->sent_seq);
	}
	if (all || sent)
		n->last_resend_ms = irn_now_ms();
}

/* ---- receiving ---- */

/* A broker-signed envelope of the given kind: check it like any other
 * message, and that its signer is our broker. */
static irn_msg *
broker_envelope(node *n, const uint8_t *b, size_t len, unsigned kind)
{
	irn_msg *m = NULL;
	irn_refusal why;
	int64_t now = irn_now_ms();
	if (irn_envelope_check(n->h->roster, n->h->cfg.network, b, len, NULL, now, now, &m, &why)) {
		record_event(n, n->h->cfg.broker_id, irn_error_code_name(why.code), why.reason);
		return NULL;
	}
	if (m->h->kind != kind || strcmp(m->signer->id, n->h->cfg.broker_id) != 0 ||
	    !irn_member_has_role(m->signer, IRNET__ROLE__ROLE_BROKER)) {
		record_event(n, m->signer->id, "not-our-broker", "broker reply not from our broker");
		irn_msg_free(&m);
	}
	return m;
}

/* A broker receipt (batch-signed, merkle.h): its path leads to a batch root
 * signed by our broker. Each batch root's signature is checked once (cache).
 * NULL (and a security event) if not; else the decoded receipt. */
static Irnet__Receipt *
broker_receipt(node *n, const uint8_t *b, size_t len)
{
	Irnet__Receipt *r = NULL;
	irn_refusal why;
	int64_t now = irn_now_ms();
	switch (irn_receipt_check(n->h->roster, n->h->cfg.network, n->h->cfg.broker_id, b, len, now,
				  now, n->roots, &r, &why)) {
	case IRN_RECEIPT_OK:
		return r;
	case IRN_RECEIPT_REFUSED:
		record_event(n, n->h->cfg.broker_id, irn_error_code_name(why.code), why.reason);
		break;
	case IRN_RECEIPT_NOT_BROKER:
		record_event(n, n->h->cfg.broker_id, "not-our-broker", "broker reply not from our broker");
		break;
	case IRN_RECEIPT_BAD:
		record_event(n, n->h->cfg.broker_id, "bad-receipt", why.reason);
		break;
	}
	return NULL;
}

/* The broker names the roster it works with in receipts and its Welcome:
 * an older one than ours means it withholds a roster (maybe a revocation);
 * the same version with other bytes means two rosters are going round. */
static void
check_broker_roster(node *n, uint64_t version, bool has_hash, const uint8_t *hash, size_t hlen)
{
	const irn_roster *r = n->h->roster;
	char d[160];
	if (version < r->version) {
		snprintf(d, sizeof d, "the broker works with roster %llu, older than our %llu: "
			 "it may be withholding a revocation", (unsigned long long)version,
			 (unsigned long long)r->version);
		if (!n->warned_roster)
			record_event(n, n->h->cfg.broker_id, "stale-roster", d);
		n->warned_roster = true;
	} else if (version == r->version && has_hash &&
		   (hlen != IRN_HASH_LEN || memcmp(hash, r->hash, IRN_HASH_LEN) != 0)) {
		snprintf(d, sizeof d, "the broker's roster %llu differs from ours with the same version",
			 (unsigned long long)version);
		if (!n->warned_roster)
			record_event(n, n->h->cfg.broker_id, "roster-fork", d);
		n->warned_roster = true;
	}
}

/* What a broker receipt for one of our messages changes in the derived
 * tables: its broker position, and the incident it moves (at receipt time
 * and in 'rebuild'). */
static irn_err
apply_receipt(node *n, const uint8_t message_id[IRN_MSGID_LEN], uint64_t broker_index,
	      int64_t accepted_ms)
{
	static const char q_inc[] = "UPDATE incidents SET broker_index = ?, accepted_ms = ? WHERE message_id = ?";
	static const char q_tr[] = "UPDATE transitions SET broker_index = ? WHERE message_id = ?";
	static const char q_tri[] = "SELECT incident FROM transitions WHERE message_id = ?";
	sqlite3 *db = irn_ledger_db(n->h->ledger);
	sqlite3_stmt *st;
	irn_err e = IRN_OK;
	/* the hot paths' statements stay prepared in the ledger's cache */
	if (e == IRN_OK && (st = irn_ledger_cached(n->h->ledger, q_inc)) != NULL) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)broker_index);
		sqlite3_bind_int64(st, 2, accepted_ms);
		sqlite3_bind_blob(st, 3, message_id, IRN_MSGID_LEN, SQLITE_STATIC);
		e = irn_sqlite_err(sqlite3_step(st));
		sqlite3_reset(st);
	}
	if (e == IRN_OK && (st = irn_ledger_cached(n->h->ledger, q_tr)) != NULL) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)broker_index);
		sqlite3_bind_blob(st, 2, message_id, IRN_MSGID_LEN, SQLITE_STATIC);
		e = irn_sqlite_err(sqlite3_step(st));
		int changed = sqlite3_changes(db);
		sqlite3_reset(st);
		if (e == IRN_OK && changed > 0) {
			uint8_t inc[IRN_MSGID_LEN];
			sqlite3_stmt *q;
			bool found = false;
			if ((q = irn_ledger_cached(n->h->ledger, q_tri)) != NULL) {
				sqlite3_bind_blob(q, 1, message_id, IRN_MSGID_LEN, SQLITE_STATIC);
				if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == IRN_MSGID_LEN) {
					memcpy(inc, sqlite3_column_blob(q, 0), IRN_MSGID_LEN);
					found = true;
				}
				sqlite3_reset(q);
			}
			if (found)
				e = replay_incident(n, inc);
		}
	}
	return e;
}

static void
handle_receipt(node *n, const uint8_t *b, size_t len)
{
	Irnet__Receipt *r = broker_receipt(n, b, len);
	if (r == NULL)
		return;
	uint8_t *env = NULL;
	size_t elen = 0;
	irn_err e = IRN_ERR_INVALID;
	if (r && !strcmp(r->sender, n->h->cfg.id))
		e = irn_ledger_find(n->h->ledger, r->sender, r->message_id.data, NULL, &env, &elen,
				    NULL, NULL);
	uint8_t hash[IRN_HASH_LEN];
	if (e == IRN_OK)
		irn_hash(hash, env, elen);
	if (e != IRN_OK || memcmp(hash, r->envelope_hash.data, IRN_HASH_LEN) != 0) {
		record_event(n, n->h->cfg.broker_id, "bad-receipt", "receipt names no message of ours");
		goto out;
	}
	check_broker_roster(n, r->roster_version, r->has_roster_hash, r->roster_hash.data,
			    r->roster_hash.len);
	static const char q_out[] = "SELECT state, sequence FROM outbox WHERE message_id = ?";
	sqlite3_stmt *st = irn_ledger_cached(n->h->ledger, q_out);
	if (st == NULL)
		goto out;
	sqlite3_bind_blob(st, 1, r->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
	bool pending = sqlite3_step(st) == SQLITE_ROW &&
		       !strcmp((const char *)sqlite3_column_text(st, 0), "pending");
	uint64_t outbox_seq = pending ? (uint64_t)sqlite3_column_int64(st, 1) : 0;
	sqlite3_reset(st);
	if (!pending)
		goto out; /* a repeated receipt: already recorded */
	if (n->inflight)
		n->inflight--;
	n->last_resend_ms = irn_now_ms(); /* progress */
	if (r->has_expected_sequence)
		log_warn(_("the broker reports a sequence gap: message #%llu, expected #%llu"),
			 (unsigned long long)outbox_seq, (unsigned long long)r->expected_sequence);
	irn_crash_point("node-after-receipt-before-dequeue");
	if (!begin_batch(n))
		goto out;
	uint64_t idx = 0;
	irn_entry ent = { .type = IRN_ENTRY_RECEIPT, .accepted_ms = irn_now_ms(),
			  .roster_version = n->h->roster->version, .message_id = r->message_id.data,
			  .kind = IRNET__KIND__KIND_RECEIPT, .data = b, .len = len,
			  .remote_index = r->ledger_index };
	e = irn_ledger_append(n->h->ledger, &ent, &idx);
	static const char q_done[] =
		"UPDATE outbox SET state = 'done', receipt_idx = ?, broker_index = ?, accepted_ms = ?"
		" WHERE message_id = ?";
	if (e == IRN_OK && (st = irn_ledger_cached(n->h->ledger, q_done)) != NULL) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)idx);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)r->ledger_index);
		sqlite3_bind_int64(st, 3, r->accepted_ms);
		sqlite3_bind_blob(st, 4, r->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
		e = irn_sqlite_err(sqlite3_step(st));
		sqlite3_reset(st);
	}
	if (e == IRN_OK)
		e = apply_receipt(n, r->message_id.data, r->ledger_index, r->accepted_ms);
	if (e == IRN_OK) {
		n->batch_receipts++;
	} else {
		n->batch_failed = true;
		log_error(_("cannot store a receipt: %s (it will come again)"), irn_strerror(e));
	}
out:
	free(env);
	irnet__receipt__free_unpacked(r, NULL);
}

static void
handle_error(node *n, const uint8_t *b, size_t len)
{
	irn_msg *m = broker_envelope(n, b, len, IRNET__KIND__KIND_ERROR);
	if (m == NULL)
		return;
	Irnet__ErrorReply *r = irnet__error_reply__unpack(NULL, m->body->payload.len,
							  m->body->payload.data);
	if (r == NULL) {
		irn_msg_free(&m);
		return;
	}
	const char *code = irn_error_code_name(r->code);
	if (r->code == IRNET__ERROR_CODE__ERR_SESSION_EXISTS) {
		/* Someone else is connected with this member's key: a copy of
		 * this node, or a stolen key. Say so loudly; keep retrying (the
		 * socket reconnects) so this node takes over once it is gone. */
		if (n->session_refused_ms == 0 || irn_now_ms() - n->session_refused_ms > 60000)
			log_error(_("the broker refused this connection: another connection with this "
				    "member's key is live (a second copy of this node, or a stolen key)"));
		n->session_refused_ms = irn_now_ms();
		record_event(n, n->h->cfg.broker_id, code, r->detail ? r->detail : "");
		irnet__error_reply__free_unpacked(r, NULL);
		irn_msg_free(&m);
		return;
	}
	bool transient = r->code == IRNET__ERROR_CODE__ERR_STORAGE ||
			 r->code == IRNET__ERROR_CODE__ERR_RATE_LIMITED ||
			 r->code == IRNET__ERROR_CODE__ERR_SEQUENCE_GAP;
	log_warn(_("broker refused a message: %s: %s%s"), code, r->detail ? r->detail : "",
		 transient ? _(" (will retry)") : "");
	if (n->inflight)
		n->inflight--;
	/* The message stays pending: resend from the oldest pending one soon,
	 * even if receipts for later messages keep arriving (the 5 s silence
	 * rule alone would never fire then, nor once inflight reached 0). */
	if (transient && n->retry_at_ms == 0) /* a gap is resent sooner than a full disk */
		n->retry_at_ms = irn_now_ms() +
				 (r->code == IRNET__ERROR_CODE__ERR_SEQUENCE_GAP ? 1000 : 5000);
	if (!transient && r->has_message_id) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(irn_ledger_db(n->h->ledger),
				       "UPDATE outbox SET state = 'refused', last_error = ?"
				       " WHERE message_id = ? AND state = 'pending'", -1, &st,
				       NULL) == SQLITE_OK) {
			char msg[300];
			snprintf(msg, sizeof msg, "%s: %s", code, r->detail ? r->detail : "");
			sqlite3_bind_text(st, 1, msg, -1, SQLITE_TRANSIENT);
			sqlite3_bind_blob(st, 2, r->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	irnet__error_reply__free_unpacked(r, NULL);
	irn_msg_free(&m);
}

/* The opened content of a TLP:RED message, kept only at this node. */
static irn_err
keep_plaintext(node *n, const uint8_t id[IRN_MSGID_LEN], const uint8_t *p, size_t len)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(irn_ledger_db(n->h->ledger),
				    "INSERT OR IGNORE INTO sealed_plain(message_id, payload) VALUES(?,?)",
				    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, p, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return irn_sqlite_err(rc);
}

/* Rebuild an incident's state from its transitions in the broker's
 * acceptance order: the same transitions give the same state at every
 * node, whatever order they arrived in. Transitions without a broker index
 * (ours, not yet receipted) do not count yet. */
static irn_err
replay_incident(node *n, const uint8_t incident[IRN_MSGID_LEN])
{
	sqlite3 *db = irn_ledger_db(n->h->ledger);
	sqlite3_stmt *st, *up;
	if (sqlite3_prepare_v2(db, "SELECT message_id, reporter, sender, sender_roles, from_state,"
			       " to_state, severity, reason, merged_into, kind FROM transitions"
			       " WHERE incident = ? AND broker_index IS NOT NULL ORDER BY broker_index",
			       -1, &st, NULL) != SQLITE_OK)
		return IRN_ERR_DB;
	if (sqlite3_prepare_v2(db, "UPDATE transitions SET applied = ?, refusal = ? WHERE message_id = ?",
			       -1, &up, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return IRN_ERR_DB;
	}
	sqlite3_bind_blob(st, 1, incident, IRN_MSGID_LEN, SQLITE_STATIC);
	/* Who reported it is what the signed initial report says, never what a
	 * transition claims: look it up. */
	char real_reporter[IRN_MAX_ID + 1] = "";
	sqlite3_stmt *rq;
	if (sqlite3_prepare_v2(db, "SELECT sender FROM incidents WHERE message_id = ?", -1, &rq,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_blob(rq, 1, incident, IRN_MSGID_LEN, SQLITE_STATIC);
		if (sqlite3_step(rq) == SQLITE_ROW)
			snprintf(real_reporter, sizeof real_reporter, "%s", (const char *)sqlite3_column_text(rq, 0));
		sqlite3_finalize(rq);
	}
	unsigned state = IRNET__INCIDENT_STATE__STATE_REPORTED;
	char sev[16] = "", by[IRN_MAX_ID + 1] = "", reason[512] = "";
	uint8_t merged[IRN_MSGID_LEN], end_report[IRN_MSGID_LEN];
	bool has_merged = false, has_end = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		unsigned from = (unsigned)sqlite3_column_int(st, 4), to = (unsigned)sqlite3_column_int(st, 5);
		const char *reporter = (const char *)sqlite3_column_text(st, 1);
		const char *sender = (const char *)sqlite3_column_text(st, 2);
		uint32_t roles = (uint32_t)sqlite3_column_int64(st, 3);
		bool is_end = sqlite3_column_int(st, 9) == IRNET__KIND__KIND_END_REPORT;
		const char *why = reporter == NULL || strcmp(reporter, real_reporter) != 0
					  ? N_("the transition names another reporter than the report's")
				  : is_end ? flow_end_report_allowed(state, roles, sender && !strcmp(real_reporter, sender))
				  : from != state ? N_("the incident is no longer in the state it names")
				  : to == IRNET__INCIDENT_STATE__STATE_CLOSED && !has_end
					? N_("closing needs the end-of-response report (Form 04), which this node does not hold")
					: irn_transition_allowed(from, to, roles, sender && !strcmp(real_reporter, sender));
		if (why == NULL && is_end) {
			/* Form 04: the incident is resolved; a later close needs it */
			state = IRNET__INCIDENT_STATE__STATE_RESOLVED;
			has_end = true;
			memcpy(end_report, sqlite3_column_blob(st, 0), IRN_MSGID_LEN);
		} else if (why == NULL) {
			if (to == IRNET__INCIDENT_STATE__STATE_RESPONDING)
				has_end = false; /* reopened: a new end report is due */
			state = to;
			if (to == IRNET__INCIDENT_STATE__STATE_CLASSIFIED) {
				snprintf(sev, sizeof sev, "%s", sqlite3_column_int(st, 6) == 2 ? "serious" : "normal");
				snprintf(by, sizeof by, "%s", sender ? sender : "");
				snprintf(reason, sizeof reason, "%s",
					 sqlite3_column_text(st, 7) ? (const char *)sqlite3_column_text(st, 7) : "");
			}
			if (to == IRNET__INCIDENT_STATE__STATE_MERGED && sqlite3_column_bytes(st, 8) == IRN_MSGID_LEN) {
				memcpy(merged, sqlite3_column_blob(st, 8), IRN_MSGID_LEN);
				has_merged = true;
			}
		}
		sqlite3_reset(up);
		sqlite3_bind_int(up, 1, why == NULL);
		if (why)
			sqlite3_bind_text(up, 2, why, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(up, 2);
		sqlite3_bind_blob(up, 3, sqlite3_column_blob(st, 0), IRN_MSGID_LEN, SQLITE_TRANSIENT);
		sqlite3_step(up);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	if (sqlite3_prepare_v2(db, "UPDATE incidents SET state = ?, decided_severity = ?, decided_by = ?,"
			       " decided_reason = ?, merged_into = ?, end_report = ? WHERE message_id = ?",
			       -1, &up, NULL) != SQLITE_OK)
		return IRN_ERR_DB;
	sqlite3_bind_text(up, 1, irn_state_name(state), -1, SQLITE_STATIC);
	if (sev[0]) {
		sqlite3_bind_text(up, 2, sev, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 3, by, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 4, reason, -1, SQLITE_STATIC);
	}
	if (has_merged)
		sqlite3_bind_blob(up, 5, merged, IRN_MSGID_LEN, SQLITE_STATIC);
	if (has_end)
		sqlite3_bind_blob(up, 6, end_report, IRN_MSGID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(up, 7, incident, IRN_MSGID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(up);
	sqlite3_finalize(up);
	return irn_sqlite_err(rc);
}

static irn_err
derive_transition(node *n, const irn_msg *m, const uint8_t *payload, size_t plen,
		  uint32_t sender_roles, uint64_t broker_index)
{
	if (m->h->kind != IRNET__KIND__KIND_CLASSIFICATION && m->h->kind != IRNET__KIND__KIND_TRANSITION)
		return IRN_OK;
	Irnet__Transition *t = irnet__transition__unpack(NULL, plen, payload);
	if (t == NULL)
		return IRN_ERR_DECODE;
	if (flow_exercise_mismatch(n->h, t->incident.data, m->h->exercise)) {
		/* a drill never changes a real incident, nor the reverse */
		char hex[2 * IRN_MSGID_LEN + 1], detail[200];
		irn_hex(hex, m->h->message_id.data, IRN_MSGID_LEN);
		snprintf(detail, sizeof detail, "%s %s: %s", irn_kind_name(m->h->kind), hex,
			 m->h->exercise ? "a drill change of a real incident: not applied"
					: "a real change of a drill incident: not applied");
		record_event(n, m->h->sender, "exercise-mismatch", detail);
		irnet__transition__free_unpacked(t, NULL);
		return IRN_OK;
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(irn_ledger_db(n->h->ledger),
		"INSERT OR IGNORE INTO transitions(message_id, incident, reporter, sender, sender_roles,"
		" broker_index, from_state, to_state, severity, reason, merged_into, created_ms)"
		" VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, t->incident.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, t->reporter, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, m->h->sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, sender_roles);
		if (broker_index)
			sqlite3_bind_int64(st, 6, (sqlite3_int64)broker_index);
		sqlite3_bind_int(st, 7, (int)t->from_state);
		sqlite3_bind_int(st, 8, (int)t->to_state);
		if (t->has_severity)
			sqlite3_bind_int(st, 9, (int)t->severity);
		if (t->reason)
			sqlite3_bind_text(st, 10, t->reason, -1, SQLITE_STATIC);
		if (t->has_merged_into)
			sqlite3_bind_blob(st, 11, t->merged_into.data, (int)t->merged_into.len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 12, m->h->created_ms);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	irn_err e = irn_sqlite_err(rc);
	if (e == IRN_OK && broker_index)
		e = replay_incident(n, t->incident.data);
	irnet__transition__free_unpacked(t, NULL);
	return e;
}

/* A drill order or status never changes a real incident's tasks, nor the
 * reverse (the sender refuses it before signing; a raw or older sender may
 * not): kept in the ledger, never applied. The event is the receiver's, once
 * (not in a rebuild); our own is not applied either, so that a rebuild
 * gives the state a receiver has. */
static bool
task_exercise_refused(node *n, const irn_msg *m, const uint8_t id[IRN_MSGID_LEN], bool is_order,
		      bool ours)
{
	if (!flow_task_exercise_mismatch(n->h, id, is_order, m->h->exercise))
		return false;
	if (!ours) {
		char hex[2 * IRN_MSGID_LEN + 1], ref[2 * IRN_MSGID_LEN + 1], detail[300];
		irn_hex(hex, m->h->message_id.data, IRN_MSGID_LEN);
		irn_hex(ref, id, IRN_MSGID_LEN);
		snprintf(detail, sizeof detail, "%s %s (%s %s): %s", irn_kind_name(m->h->kind), hex,
			 is_order ? "order" : "incident", ref,
			 m->h->exercise ? "a drill task message about a real incident: not applied"
					: "a real task message about a drill incident: not applied");
		record_event(n, m->h->sender, "exercise-mismatch", detail);
	}
	return true;
}

/* Form 06: one row per task; status only from its assignee. */
static irn_err
derive_tasks(node *n, const irn_msg *m, const uint8_t *payload, size_t plen, bool ours)
{
	sqlite3 *db = irn_ledger_db(n->h->ledger);
	sqlite3_stmt *st;
	int rc = SQLITE_OK;
	if (m->h->kind == IRNET__KIND__KIND_TASKING) {
		Irnet__Tasking *t = irnet__tasking__unpack(NULL, plen, payload);
		if (t == NULL)
			return IRN_ERR_DECODE;
		if (task_exercise_refused(n, m, t->incident.data, false, ours)) {
			irnet__tasking__free_unpacked(t, NULL);
			return IRN_OK;
		}
		rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO tasks(tasking, number, incident,"
					" coordinator, assignee, instructions, deadline_ms, state, updated_ms,"
					" exercise) VALUES(?,?,?,?,?,?,?,1,?,?)", -1, &st, NULL);
		for (size_t i = 0; rc == SQLITE_OK && i < t->n_tasks; i++) {
			sqlite3_reset(st);
			sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, (int)t->tasks[i]->number);
			sqlite3_bind_blob(st, 3, t->incident.data, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, m->h->sender, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, t->tasks[i]->assignee, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, t->tasks[i]->instructions, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 7, t->tasks[i]->deadline_ms);
			sqlite3_bind_int64(st, 8, m->h->created_ms);
			sqlite3_bind_int(st, 9, m->h->exercise);
			rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		}
		if (rc == SQLITE_OK)
			sqlite3_finalize(st);
		irnet__tasking__free_unpacked(t, NULL);
		return irn_sqlite_err(rc);
	}
	if (m->h->kind != IRNET__KIND__KIND_TASK_STATUS)
		return IRN_OK;
	Irnet__TaskStatus *ts = irnet__task_status__unpack(NULL, plen, payload);
	if (ts == NULL)
		return IRN_ERR_DECODE;
	if (sqlite3_prepare_v2(db, "SELECT assignee FROM tasks WHERE tasking = ? AND number = ?", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, ts->tasking.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)ts->number);
		bool known = sqlite3_step(st) == SQLITE_ROW;
		bool mine = known && !strcmp((const char *)sqlite3_column_text(st, 0), m->h->sender);
		sqlite3_finalize(st);
		if (!known || !mine) {
			/* Signed and kept in the ledger, never applied. */
			record_event(n, m->h->sender, "task-refused",
				     known ? "task update by a member the task is not assigned to"
					   : "status for a task this node does not know");
		} else if (task_exercise_refused(n, m, ts->tasking.data, true, ours)) {
			/* kept, never applied (the event is recorded) */
		} else if (sqlite3_prepare_v2(db, "UPDATE tasks SET state = ?, note = ?, updated_ms = ?"
					      " WHERE tasking = ? AND number = ?", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int(st, 1, (int)ts->state);
			if (ts->note)
				sqlite3_bind_text(st, 2, ts->note, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, m->h->created_ms);
			sqlite3_bind_blob(st, 4, ts->tasking.data, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_bind_int(st, 5, (int)ts->number);
			rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
			sqlite3_finalize(st);
		}
	}
	irnet__task_status__free_unpacked(ts, NULL);
	return irn_sqlite_err(rc);
}

static irn_err
derive_incident(node *n, const irn_msg *m, const uint8_t *payload, size_t plen, uint64_t idx,
		const char *direction, int64_t accepted_ms, uint64_t broker_index)
{
	if (m->h->kind != IRNET__KIND__KIND_INITIAL_REPORT)
		return IRN_OK;
	Irnet__InitialReport *r = irnet__initial_report__unpack(NULL, plen, payload);
	if (r == NULL)
		return IRN_ERR_DECODE;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(irn_ledger_db(n->h->ledger),
		"INSERT OR IGNORE INTO incidents(message_id, ledger_idx, sender, direction, system,"
		" category, summary, severity, state, detected_ms, reported_ms, accepted_ms, exercise,"
		" tlp, broker_index) VALUES(?,?,?,?,?,?,?,?,'reported',?,?,?,?,?,?)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, m->h->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)idx);
		sqlite3_bind_text(st, 3, m->h->sender, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, direction, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, r->system_name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 6, (int)r->category);
		sqlite3_bind_text(st, 7, r->summary, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, irn_report_serious(r) ? "serious" : "normal", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, r->detected_ms);
		sqlite3_bind_int64(st, 10, r->reported_ms);
		if (accepted_ms)
			sqlite3_bind_int64(st, 11, accepted_ms);
		sqlite3_bind_int(st, 12, m->h->exercise);
		sqlite3_bind_int(st, 13, (int)m->h->tlp);
		if (broker_index)
			sqlite3_bind_int64(st, 14, (sqlite3_int64)broker_index);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	irnet__initial_report__free_unpacked(r, NULL);
	return irn_sqlite_err(rc);
}

/* Every derived table, from one verified message: at authoring, at
 * delivery and in 'rebuild' (the same code, so a rebuilt state is the
 * state the node had). content is the opened payload. */
static irn_err
derive_all(node *n, const irn_msg *m, const uint8_t *content, size_t clen, uint64_t idx,
	   const char *direction, int64_t accepted_ms, uint64_t broker_index, uint32_t signer_roles)
{
	irn_err e = derive_incident(n, m, content, clen, idx, direction, accepted_ms, broker_index);
	if (e == IRN_OK)
		e = derive_transition(n, m, content, clen, signer_roles, broker_index);
	if (e == IRN_OK)
		e = derive_tasks(n, m, content, clen, !strcmp(direction, "sent"));
	if (e == IRN_OK)
		e = forms_derive(n->h, m, content, clen, idx);
	return e;
}

/* Deliveries read in one poll round share one transaction (one fsync) and
 * one cumulative acknowledgement, sent only after the commit returned. */
static bool
begin_batch(node *n)
{
	if (n->in_batch)
		return !n->batch_failed;
	irn_err e = irn_home_begin(n->h);
	if (e != IRN_OK) {
		log_error(_("cannot store a delivery: %s (it will come again)"), irn_strerror(e));
		return false;
	}
	n->in_batch = true;
	n->batch_failed = false;
	n->batch_stored = n->batch_receipts = n->batch_deliveries = 0;
	return true;
}

static void
end_batch(node *n)
{
	if (!n->in_batch)
		return;
	n->in_batch = false;
	irn_err e = n->batch_failed ? IRN_ERR_DB : irn_ledger_commit(n->h->ledger);
	if (e != IRN_OK) {
		irn_ledger_rollback(n->h->ledger);
		log_error(_("cannot store deliveries: %s; asking the broker again"), irn_strerror(e));
		n->delivered_upto = n->committed_upto;
		n->welcomed = false;
		send_hello(n); /* the broker resends from what is committed */
		return;
	}
	n->committed_upto = n->delivered_upto;
	if (n->batch_stored)
		log_info("%u deliveries verified and stored, up to broker index %llu", n->batch_stored,
			 (unsigned long long)n->committed_upto);
	if (n->batch_receipts)
		log_info("%u broker receipts stored", n->batch_receipts);
	if (n->batch_deliveries) {
		irn_crash_point("node-after-store-before-ack");
		send_ack(n, n->committed_upto);
	}
}

static void
handle_deliver(node *n, const Irnet__Deliver *d)
{
	char detail[256];
	uint8_t *plain = NULL;
	size_t plain_len = 0;
	Irnet__Receipt *r = broker_receipt(n, d->receipt.data, d->receipt.len);
	if (r == NULL)
		return; /* not acknowledged: a real broker will send it again */
	irn_msg *m = NULL;
	irn_refusal why;
	uint8_t hash[IRN_HASH_LEN];
	irn_hash(hash, d->envelope.data, d->envelope.len);
	if (memcmp(hash, r->envelope_hash.data, IRN_HASH_LEN) != 0 ||
	    r->ledger_index != d->ledger_index) {
		record_event(n, n->h->cfg.broker_id, "bad-receipt", "delivery whose receipt does not match");
		goto out;
	}
	if (d->prev_index > n->delivered_upto) {
		snprintf(detail, sizeof detail, "gap: broker says previous was %llu, we hold up to %llu",
			 (unsigned long long)d->prev_index, (unsigned long long)n->delivered_upto);
		log_warn("%s; asking again", detail);
		n->welcomed = false;
		send_hello(n);
		goto out;
	}
	if (d->ledger_index <= n->delivered_upto) {
		if (!n->in_batch)
			send_ack(n, n->committed_upto); /* already held */
		goto out;
	}
	/* Never trust the broker: the same checks again, with the member's
	 * currency judged at the broker's signed acceptance time. */
	if (irn_envelope_check(n->h->roster, n->h->cfg.network, d->envelope.data, d->envelope.len,
			       NULL, irn_now_ms(), r->accepted_ms, &m, &why) != 0) {
		snprintf(detail, sizeof detail, "delivery %llu refused: %s",
			 (unsigned long long)d->ledger_index, why.reason);
		record_event(n, r->sender, irn_error_code_name(why.code), detail);
		goto skip;
	}
	uint32_t signer_roles = m->signer->roles; /* the roster may be reloaded below */
	const irn_member *self = irn_roster_find(n->h->roster, n->h->cfg.id);
	if (self == NULL || !irn_msg_addressed_to(m->h, self->id, self->roles)) {
		record_event(n, m->h->sender, "not-addressed", "delivery not addressed to this member");
		goto skip;
	}
	irn_err e = irn_ledger_find(n->h->ledger, m->h->sender, m->h->message_id.data, NULL, NULL,
				    NULL, NULL, NULL);
	if (e == IRN_OK) {
		log_debug("duplicate delivery of a held message: acknowledged again");
		goto skip;
	}
	const uint8_t *content = m->body->payload.data;
	size_t clen = m->body->payload.len;
	if (m->h->tlp == IRNET__TLP__TLP_RED) {
		irn_err ue = irn_unseal(n->h->keys, n->h->cfg.id, m->h->sender, m->h->message_id.data,
					content, clen, &plain, &plain_len);
		const char *bad = ue == IRN_OK ? irn_payload_validate(m->h->kind, plain, plain_len)
					       : ue == IRN_ERR_NOTFOUND ? "no key sealed to this member"
									: "sealed payload does not open";
		if (bad) {
			snprintf(detail, sizeof detail, "TLP:RED delivery %llu refused: %s",
				 (unsigned long long)d->ledger_index, bad);
			record_event(n, m->h->sender, "sealed", detail);
			goto skip;
		}
		content = plain;
		clen = plain_len;
	}
	if (!begin_batch(n))
		goto out;
	uint64_t idx = 0;
	irn_entry ent = { .type = IRN_ENTRY_MESSAGE, .accepted_ms = r->accepted_ms,
			  .roster_version = n->h->roster->version, .sender = m->h->sender,
			  .message_id = m->h->message_id.data, .kind = m->h->kind,
			  .sequence = m->h->sequence, .data = d->envelope.data, .len = d->envelope.len,
			  .receipt = d->receipt.data, .rlen = d->receipt.len,
			  .remote_index = d->ledger_index };
	e = irn_ledger_append(n->h->ledger, &ent, &idx);
	if (e == IRN_OK && plain)
		e = keep_plaintext(n, m->h->message_id.data, plain, plain_len);
	if (e == IRN_OK)
		e = derive_all(n, m, content, clen, idx, "received", r->accepted_ms, d->ledger_index,
			       signer_roles);
	if (e == IRN_OK)
		e = flow_derive(n, m, content, clen, signer_roles, d->ledger_index, false, NULL, 0);
	if (e == IRN_OK)
		e = irn_meta_set_int(n->h->ledger, "delivered_upto", (int64_t)d->ledger_index);
	if (e != IRN_OK) {
		log_error(_("cannot store a delivery: %s (it will come again)"), irn_strerror(e));
		n->batch_failed = true;
		goto out;
	}
	n->delivered_upto = d->ledger_index;
	log_debug("%s from %s verified (ledger %llu, broker %llu)%s", irn_kind_name(m->h->kind),
		  m->h->sender, (unsigned long long)idx, (unsigned long long)d->ledger_index,
		  m->h->exercise ? " [EXERCISE]" : "");
	n->batch_stored++;
	n->batch_deliveries++;
	goto out;
skip:
	/* Refused or duplicate: nothing stored as fact, but the position is
	 * acknowledged so one bad message cannot block the queue. */
	if (begin_batch(n) &&
	    irn_meta_set_int(n->h->ledger, "delivered_upto", (int64_t)d->ledger_index) == IRN_OK) {
		n->delivered_upto = d->ledger_index;
		n->batch_deliveries++;
	}
out:
	if (plain) {
		sodium_memzero(plain, plain_len);
		free(plain);
	}
	irnet__receipt__free_unpacked(r, NULL);
	irn_msg_free(&m);
}

static void
handle_welcome(node *n, const Irnet__Welcome *w)
{
	if (w->has_roster && w->roster_version > n->h->roster->version) {
		char why[256];
		irn_err e = irn_home_accept_roster(n->h, w->roster.data, w->roster.len, why, sizeof why);
		if (e == IRN_OK)
			log_info("%s (from the broker)", why);
		else
			record_event(n, n->h->cfg.broker_id, "roster-refused", why);
	}
	check_broker_roster(n, w->roster_version, w->has_roster_hash, w->roster_hash.data,
			    w->roster_hash.len);
	int64_t skew = w->broker_time_ms - irn_now_ms();
	log_info("connected to broker %s (roster %llu, clock skew %lld ms)", n->h->cfg.broker_id,
		 (unsigned long long)w->roster_version, (long long)skew);
	if (w->last_sequence >= n->next_seq)
		log_warn(_("the broker holds sequence %llu from us, above ours: resynchronising"),
			 (unsigned long long)w->last_sequence);
	if (w->last_sequence >= n->next_seq) {
		n->next_seq = w->last_sequence + 1;
		if (irn_meta_set_int(n->h->ledger, "next_seq", (int64_t)n->next_seq) != IRN_OK)
			log_error(_("cannot store the sequence number"));
	}
	n->welcomed = true;
	flush_outbox(n, true);
}

static void
dealer_handle(node *n)
{
	zmq_msg_t msg;
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, n->dealer, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&msg);
		return;
	}
	bool more = zmq_msg_more(&msg);
	Irnet__Packet *p = more ? NULL : irnet__packet__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
	while (more) { /* a broker never sends several frames: drain and drop */
		zmq_msg_t x;
		zmq_msg_init(&x);
		more = zmq_msg_recv(&x, n->dealer, 0) >= 0 && zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	zmq_msg_close(&msg);
	if (p == NULL) {
		record_event(n, n->h->cfg.broker_id, "malformed", "broker sent a malformed frame");
		return;
	}
	if (p->p_case != IRNET__PACKET__P_DELIVER && p->p_case != IRNET__PACKET__P_RECEIPT)
		end_batch(n); /* the other handlers run their own transactions */
	switch (p->p_case) {
	case IRNET__PACKET__P_WELCOME: handle_welcome(n, p->welcome); break;
	case IRNET__PACKET__P_RECEIPT: handle_receipt(n, p->receipt.data, p->receipt.len); break;
	case IRNET__PACKET__P_ERROR: handle_error(n, p->error.data, p->error.len); break;
	case IRNET__PACKET__P_DELIVER:
		if (n->welcomed)
			handle_deliver(n, p->deliver);
		break;
	case IRNET__PACKET__P_HEARTBEAT: break;
	case IRNET__PACKET__P_ANSWER: handle_answer(n, p->answer); break;
	case IRNET__PACKET__P_ROSTER: {
		char why[256];
		irn_err e = irn_home_accept_roster(n->h, p->roster.data, p->roster.len, why, sizeof why);
		if (e == IRN_OK)
			log_info("%s (pushed by the broker)", why);
		else if (e != IRN_ERR_EXISTS)
			record_event(n, n->h->cfg.broker_id, "roster-refused", why);
		break;
	}
	case IRNET__PACKET__P_ROSTER_DELTA: {
		/* Rebuild the full roster from ours and verify it like any other;
		 * a delta for a version we do not hold: ask for the full one. */
		uint8_t *full = NULL;
		size_t flen = 0;
		irn_err e = irn_roster_delta_apply(n->h->roster->bytes, n->h->roster->len,
						   p->roster_delta.data, p->roster_delta.len, &full, &flen);
		char why[256];
		if (e == IRN_OK) {
			e = irn_home_accept_roster(n->h, full, flen, why, sizeof why);
			if (e == IRN_OK)
				log_info("%s (a delta of %zu bytes pushed by the broker)", why,
					 p->roster_delta.len);
			else if (e != IRN_ERR_EXISTS)
				record_event(n, n->h->cfg.broker_id, "roster-refused", why);
		} else if (e == IRN_ERR_STALE) {
			log_info("roster delta for another base version: asking the broker for the full roster");
			send_hello(n);
		} else {
			snprintf(why, sizeof why, "roster delta does not rebuild a roster: %s", irn_strerror(e));
			record_event(n, n->h->cfg.broker_id, "roster-refused", why);
			send_hello(n);
		}
		free(full);
		break;
	}
	default: record_event(n, n->h->cfg.broker_id, "malformed", "unexpected packet from broker");
	}
	irnet__packet__free_unpacked(p, NULL);
}

static void
monitor_handle(node *n)
{
	zmq_msg_t a, b;
	zmq_msg_init(&a);
	zmq_msg_init(&b);
	if (zmq_msg_recv(&a, n->mon, 0) < 0 || !zmq_msg_more(&a) || zmq_msg_recv(&b, n->mon, 0) < 0) {
		zmq_msg_close(&a);
		zmq_msg_close(&b);
		return;
	}
	uint16_t ev = 0;
	if (zmq_msg_size(&a) >= 2)
		memcpy(&ev, zmq_msg_data(&a), 2);
	switch (ev) {
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
		send_hello(n);
		break;
	case ZMQ_EVENT_DISCONNECTED:
		if (n->welcomed)
			log_warn(_("lost the connection to the broker; reconnecting"));
		n->welcomed = false;
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
		log_error(_("the broker refused our key (not in its roster, or revoked)"));
		break;
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		log_error(_("handshake with the broker failed (wrong broker key?)"));
		break;
	default:
		break;
	}
	zmq_msg_close(&a);
	zmq_msg_close(&b);
}

/* ---- control socket ---- */

static json_t *
ctl_error(const char *msg)
{
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static int
parse_recipients(const char *list, char ***members, size_t *nm, uint32_t **roles, size_t *nr,
		 char *err, size_t errsz)
{
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", list);
	*members = calloc(IRN_MAX_RECIPIENTS, sizeof **members);
	*roles = calloc(IRN_MAX_ROLES_IN_LIST, sizeof **roles);
	*nm = *nr = 0;
	if (!*members || !*roles)
		return -1;
	for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (!strncmp(t, "role:", 5)) {
			int r = irn_role_parse(t + 5);
			if (r < 0 || *nr >= IRN_MAX_ROLES_IN_LIST) {
				snprintf(err, errsz, _("unknown recipient role %s"), t + 5);
				return -1;
			}
			(*roles)[(*nr)++] = (uint32_t)r;
		} else {
			if (!irn_member_id_ok(t) || *nm >= IRN_MAX_RECIPIENTS) {
				snprintf(err, errsz, _("bad recipient %s (a member id or role:NAME)"), t);
				return -1;
			}
			(*members)[(*nm)++] = strdup(t);
		}
	}
	if (*nm + *nr == 0) {
		snprintf(err, errsz, "%s", _("no recipients"));
		return -1;
	}
	return 0;
}

/* Sign one message, check it as every receiver will, and append it (ledger,
 * outbox, derived tables) inside the caller's transaction. On success *env
 * (caller frees) holds the envelope for sending and id its message id. */
static irn_err
author_one(node *n, json_t *req, const char *account, unsigned kind, const uint8_t *payload,
	   size_t plen, char **members, size_t nm, uint32_t *roles, size_t nr, int64_t now,
	   uint8_t id[IRN_MSGID_LEN], uint8_t **env, size_t *elen, char *err, size_t errsz)
{
	Irnet__Header h;
	irn_header_fill(&h, id, n->h->cfg.id, kind, n->next_seq, flow_exercise(n->h, req));
	h.created_ms = now;
	h.to_members = members;
	h.n_to_members = nm;
	h.to_roles = roles;
	h.n_to_roles = nr;
	/* AMBER unless the author chose: json_integer_value(NULL) is 0 (CLEAR) */
	json_t *tj = json_object_get(req, "tlp");
	json_int_t tlp = json_is_integer(tj) ? json_integer_value(tj) : IRNET__TLP__TLP_AMBER;
	h.tlp = tlp >= 0 && tlp <= 3 ? (uint32_t)tlp : IRNET__TLP__TLP_AMBER;
	const char *person = json_string_value(json_object_get(req, "person"));
	h.signed_by_person = (char *)(person && *person ? person : n->h->cfg.person[0] ? n->h->cfg.person : NULL);
	h.local_account = (char *)account;
	uint8_t *sealed = NULL;
	size_t slen = 0;
	irn_err e = IRN_OK;
	if (h.tlp == IRNET__TLP__TLP_RED) {
		/* Encrypt for the recipients known now (by id and by role) and
		 * for ourselves, so the broker can route but never read it. */
		const char *ids[IRN_MAX_SEALED_KEYS];
		size_t nid = 0;
		ids[nid++] = n->h->cfg.id;
		const irn_roster *r = n->h->roster;
		for (size_t i = 0; i < r->n_members; i++) {
			const irn_member *m = &r->members[i];
			if (!strcmp(m->id, n->h->cfg.id) || !irn_msg_addressed_to(&h, m->id, m->roles) ||
			    irn_member_has_role(m, IRNET__ROLE__ROLE_BROKER))
				continue;
			if (nid == IRN_MAX_SEALED_KEYS) {
				snprintf(err, errsz, "%s", _("too many recipients for a TLP:RED message"));
				return IRN_ERR_TOOBIG;
			}
			ids[nid++] = m->id;
		}
		if (nid == 1) {
			snprintf(err, errsz, "%s", _("no recipient in the roster to seal the TLP:RED message to"));
			return IRN_ERR_INVALID;
		}
		e = irn_seal(r, n->h->cfg.id, id, ids, nid, payload, plen, &sealed, &slen);
		if (e != IRN_OK) {
			snprintf(err, errsz, _("cannot seal the message: %s"), irn_strerror(e));
			return e;
		}
	}
	e = irn_envelope_build(n->h->keys, n->h->cfg.network, &h, sealed ? sealed : payload,
			       sealed ? slen : plen, env, elen);
	free(sealed);
	if (e != IRN_OK) {
		snprintf(err, errsz, "%s", irn_strerror(e));
		return e;
	}
	/* Check our own message the way every receiver will, before storing. */
	irn_refusal why;
	irn_msg *chk = NULL;
	if (irn_envelope_check(n->h->roster, n->h->cfg.network, *env, *elen, n->h->cfg.id, now, now,
			       &chk, &why) != 0) {
		snprintf(err, errsz, _("refused before sending: %s (%s)"), _(why.reason),
			 irn_error_code_name(why.code));
		e = IRN_ERR_INVALID;
		goto fail;
	}
	uint64_t idx = 0;
	irn_entry ent = { .type = IRN_ENTRY_MESSAGE, .accepted_ms = now,
			  .roster_version = n->h->roster->version, .sender = h.sender,
			  .message_id = id, .kind = h.kind, .sequence = h.sequence, .data = *env,
			  .len = *elen };
	e = irn_ledger_append(n->h->ledger, &ent, &idx);
	static const char q_ins[] =
		"INSERT INTO outbox(message_id, sequence, envelope, created_ms) VALUES(?,?,?,?)";
	sqlite3_stmt *st;
	if (e == IRN_OK) {
		st = irn_ledger_cached(n->h->ledger, q_ins);
		e = st ? IRN_OK : IRN_ERR_DB;
		if (e == IRN_OK) {
			sqlite3_bind_blob(st, 1, id, IRN_MSGID_LEN, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)h.sequence);
			sqlite3_bind_blob(st, 3, *env, (int)*elen, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, now);
			e = irn_sqlite_err(sqlite3_step(st));
			sqlite3_reset(st);
		}
	}
	if (e == IRN_OK && h.tlp == IRNET__TLP__TLP_RED)
		e = keep_plaintext(n, id, payload, plen);
	if (e == IRN_OK)
		e = derive_all(n, chk, payload, plen, idx, "sent", 0, 0, chk->signer->roles);
	if (e == IRN_OK)
		e = flow_derive(n, chk, payload, plen, chk->signer->roles, 0, true, err, errsz);
	if (e == IRN_OK)
		e = irn_meta_set_int(n->h->ledger, "next_seq", (int64_t)n->next_seq + 1);
	if (e == IRN_OK) {
		n->next_seq++;
		irn_msg_free(&chk);
		return IRN_OK;
	}
	snprintf(err, errsz, _("cannot store the message: %s; nothing was sent"), irn_strerror(e));
fail:
	irn_msg_free(&chk);
	free(*env);
	*env = NULL;
	return e;
}

static void
free_recipients(char **members, size_t nm, uint32_t *roles)
{
	for (size_t i = 0; members && i < nm; i++)
		free(members[i]);
	free(members);
	free(roles);
}

/* Author count messages of one kind and payload in one transaction
 * (one fsync), then send them. Reply lists the ids: each is durable. */
static json_t *
author(node *n, json_t *req, const char *account, unsigned kind, const uint8_t *payload,
       size_t plen, const char *default_to, long count)
{
	/* an explicit exercise flag against the incident's (flow_follow_incident):
	 * refused before anything is signed or stored */
	const char *conflict = json_string_value(json_object_get(req, "exercise_conflict"));
	if (conflict)
		return ctl_error(conflict);
	char err[256] = "";
	char **members = NULL;
	uint32_t *roles = NULL;
	size_t nm = 0, nr = 0;
	const char *to = json_string_value(json_object_get(req, "to"));
	if (parse_recipients(to ? to : default_to, &members, &nm, &roles, &nr, err, sizeof err) != 0) {
		free_recipients(members, nm, roles);
		return ctl_error(err[0] ? err : "out of memory");
	}
	uint64_t seq0 = n->next_seq;
	irn_err e = irn_home_begin(n->h);
	if (e != IRN_OK) {
		free_recipients(members, nm, roles);
		snprintf(err, sizeof err, _("cannot store the message: %s; nothing was sent"),
			 irn_strerror(e));
		return ctl_error(err);
	}
	uint8_t **envs = calloc((size_t)count, sizeof *envs);
	size_t *lens = calloc((size_t)count, sizeof *lens);
	uint8_t (*ids)[IRN_MSGID_LEN] = calloc((size_t)count, sizeof *ids);
	long made = 0;
	int64_t now = irn_now_ms();
	if (!envs || !lens || !ids)
		e = IRN_ERR_NOMEM;
	for (; e == IRN_OK && made < count; made++)
		e = author_one(n, req, account, kind, payload, plen, members, nm, roles, nr, now,
			       ids[made], &envs[made], &lens[made], err, sizeof err);
	if (e == IRN_OK) {
		irn_crash_point("node-before-commit");
		e = irn_ledger_commit(n->h->ledger);
		if (e != IRN_OK)
			snprintf(err, sizeof err, _("cannot store the message: %s; nothing was sent"),
				 irn_strerror(e));
	} else {
		irn_ledger_rollback(n->h->ledger);
	}
	json_t *resp;
	if (e != IRN_OK) {
		n->next_seq = seq0;
		resp = ctl_error(err[0] ? err : irn_strerror(e));
	} else {
		irn_crash_point("node-after-commit");
		json_t *arr = json_array();
		char hex[2 * IRN_MSGID_LEN + 1];
		for (long i = 0; i < count; i++) {
			irn_hex(hex, ids[i], IRN_MSGID_LEN);
			json_array_append_new(arr, json_string(hex));
		}
		irn_hex(hex, ids[0], IRN_MSGID_LEN);
		log_info("%ld %s message(s) signed and stored (#%llu..#%llu); sending", count,
			 irn_kind_name(kind), (unsigned long long)seq0,
			 (unsigned long long)(seq0 + (uint64_t)count - 1));
		resp = json_pack("{s:b,s:s,s:I,s:o}", "ok", 1, "message_id", hex, "sequence",
				 (json_int_t)seq0, "message_ids", arr);
		flush_outbox(n, false);
	}
	for (long i = 0; envs && i < count; i++)
		free(envs[i]);
	free(envs);
	free(lens);
	free(ids);
	free_recipients(members, nm, roles);
	return resp;
}

static json_t *
op_report(node *n, json_t *req, const char *account)
{
	char err[256] = "";
	uint8_t *payload = NULL;
	size_t plen = 0;
	if (irn_report_from_json(json_object_get(req, "form"), irn_now_ms(), &payload, &plen, err,
				 sizeof err) != IRN_OK)
		return ctl_error(err);
	json_t *resp = author(n, req, account, IRNET__KIND__KIND_INITIAL_REPORT, payload, plen,
			      flow_route(n->h, IRNET__KIND__KIND_INITIAL_REPORT), 1);
	free(payload);
	return resp;
}

/* Change an incident's state: the Transition names the state this node
 * holds now; it goes to the coordinators, the reporter and the initial
 * report's recipients, so every participant holds every transition. */
static json_t *
op_transition(node *n, json_t *req, const char *account)
{
	const char *hex = json_string_value(json_object_get(req, "incident"));
	const char *to = json_string_value(json_object_get(req, "to_state"));
	const char *reason = json_string_value(json_object_get(req, "reason"));
	uint8_t inc[IRN_MSGID_LEN];
	if (hex == NULL || irn_unhex(inc, sizeof inc, hex) != IRN_OK)
		return ctl_error(_("give the incident's full 32-digit id"));
	flow_follow_incident(n->h, req, inc, false);
	int to_state = to ? irn_state_parse(to) : -1;
	if (to_state < 0)
		return ctl_error(_("unknown state"));
	sqlite3 *db = irn_ledger_db(n->h->ledger);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT i.sender, i.state, l.data FROM incidents i JOIN ledger l"
			       " ON l.idx = i.ledger_idx WHERE i.message_id = ?", -1, &st, NULL) != SQLITE_OK)
		return ctl_error(irn_strerror(IRN_ERR_DB));
	sqlite3_bind_blob(st, 1, inc, sizeof inc, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return ctl_error(_("this node holds no such incident"));
	}
	char reporter[IRN_MAX_ID + 1], recipients[1024];
	snprintf(reporter, sizeof reporter, "%s", (const char *)sqlite3_column_text(st, 0));
	int from_state = irn_state_parse((const char *)sqlite3_column_text(st, 1));
	/* recipients: coordinators, the reporter and the report's own recipients */
	int off = snprintf(recipients, sizeof recipients, "role:coordinator");
	if (strcmp(reporter, n->h->cfg.id) != 0)
		off += snprintf(recipients + off, sizeof recipients - (size_t)off, ",%s", reporter);
	Irnet__Envelope *env = irnet__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 2),
						       sqlite3_column_blob(st, 2));
	Irnet__Body *b = env ? irnet__body__unpack(NULL, env->body.len, env->body.data) : NULL;
	sqlite3_finalize(st);
	for (size_t i = 0; b && i < b->header->n_to_members && off < (int)sizeof recipients - 80; i++)
		if (strcmp(b->header->to_members[i], n->h->cfg.id) != 0)
			off += snprintf(recipients + off, sizeof recipients - (size_t)off, ",%s",
					b->header->to_members[i]);
	for (size_t i = 0; b && i < b->header->n_to_roles && off < (int)sizeof recipients - 80; i++)
		if (b->header->to_roles[i] != IRNET__ROLE__ROLE_COORDINATOR)
			off += snprintf(recipients + off, sizeof recipients - (size_t)off, ",role:%s",
					irn_role_name(b->header->to_roles[i]));
	if (b)
		irnet__body__free_unpacked(b, NULL);
	if (env)
		irnet__envelope__free_unpacked(env, NULL);
	Irnet__Transition t = IRNET__TRANSITION__INIT;
	t.incident.data = inc;
	t.incident.len = sizeof inc;
	t.reporter = reporter;
	t.from_state = (uint32_t)(from_state < 0 ? 0 : from_state);
	t.to_state = (uint32_t)to_state;
	t.reason = (char *)reason;
	const char *sev = json_string_value(json_object_get(req, "severity"));
	if (sev) {
		t.has_severity = true;
		t.severity = !strcmp(sev, "serious") ? 2 : !strcmp(sev, "normal") ? 1 : 0;
	}
	uint8_t merged[IRN_MSGID_LEN];
	const char *mi = json_string_value(json_object_get(req, "merged_into"));
	if (mi) {
		if (irn_unhex(merged, sizeof merged, mi) != IRN_OK)
			return ctl_error(_("give the other incident's full 32-digit id"));
		t.has_merged_into = true;
		t.merged_into.data = merged;
		t.merged_into.len = sizeof merged;
	}
	unsigned kind = to_state == IRNET__INCIDENT_STATE__STATE_CLASSIFIED ? IRNET__KIND__KIND_CLASSIFICATION
									     : IRNET__KIND__KIND_TRANSITION;
	uint8_t buf[20000];
	size_t len = irnet__transition__get_packed_size(&t);
	if (len > sizeof buf)
		return ctl_error(_("the reason is too long"));
	irnet__transition__pack(&t, buf);
	const char *bad = irn_transition_validate(kind, buf, len);
	if (bad)
		return ctl_error(bad);
	const irn_member *self = irn_roster_find(n->h->roster, n->h->cfg.id);
	bad = self ? irn_transition_allowed(t.from_state, t.to_state, self->roles, !strcmp(reporter, self->id))
		   : N_("not in the roster");
	bad = bad ? _(bad) : NULL; /* in the label's language; flow_close_refusal's is already */
	if (bad == NULL && t.to_state == IRNET__INCIDENT_STATE__STATE_CLOSED)
		bad = flow_close_refusal(n->h, inc);
	if (bad) {
		char err[256];
		snprintf(err, sizeof err, _("refused: %s -> %s: %s"), irn_state_name(t.from_state),
			 irn_state_name(t.to_state), bad);
		return ctl_error(err);
	}
	json_object_set_new(req, "to", json_string(recipients));
	return author(n, req, account, kind, buf, len, recipients, 1);
}

/* Form 06: a coordination order to named members, with deadlines. */
static json_t *
op_task(node *n, json_t *req, const char *account)
{
	const char *hex = json_string_value(json_object_get(req, "incident"));
	json_t *items = json_object_get(req, "tasks");
	uint8_t inc[IRN_MSGID_LEN];
	if (hex == NULL || irn_unhex(inc, sizeof inc, hex) != IRN_OK)
		return ctl_error(_("give the incident's full 32-digit id"));
	flow_follow_incident(n->h, req, inc, false);
	size_t nt = json_array_size(items);
	if (nt == 0 || nt > IRN_MAX_LIST)
		return ctl_error(_("give 1 to 64 tasks"));
	sqlite3_stmt *st;
	char reporter[IRN_MAX_ID + 1] = "";
	if (sqlite3_prepare_v2(irn_ledger_db(n->h->ledger), "SELECT sender FROM incidents WHERE message_id = ?",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, inc, sizeof inc, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(reporter, sizeof reporter, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (!reporter[0])
		return ctl_error(_("this node holds no such incident"));
	Irnet__TaskItem *it = calloc(nt, sizeof *it), **itp = calloc(nt, sizeof *itp);
	char recipients[2048];
	int off = snprintf(recipients, sizeof recipients, "role:coordinator");
	json_t *resp = NULL;
	for (size_t i = 0; it && itp && i < nt; i++) {
		json_t *j = json_array_get(items, i);
		irnet__task_item__init(&it[i]);
		it[i].number = (uint32_t)(i + 1);
		it[i].assignee = (char *)json_string_value(json_object_get(j, "assignee"));
		it[i].instructions = (char *)json_string_value(json_object_get(j, "instructions"));
		const char *dl = json_string_value(json_object_get(j, "deadline"));
		if (!it[i].assignee || !it[i].instructions || !dl ||
		    irn_parse_time(dl, &it[i].deadline_ms) != IRN_OK) {
			resp = ctl_error(_("each task needs an assignee, instructions and a deadline (RFC 3339)"));
			break;
		}
		if (off < (int)sizeof recipients - IRN_MAX_ID - 2 && !strstr(recipients, it[i].assignee))
			off += snprintf(recipients + off, sizeof recipients - (size_t)off, ",%s", it[i].assignee);
		itp[i] = &it[i];
	}
	if (resp == NULL) {
		Irnet__Tasking t = IRNET__TASKING__INIT;
		t.incident.data = inc;
		t.incident.len = sizeof inc;
		t.reporter = reporter;
		t.tasks = itp;
		t.n_tasks = nt;
		size_t len = irnet__tasking__get_packed_size(&t);
		uint8_t *buf = malloc(len ? len : 1);
		if (buf) {
			irnet__tasking__pack(&t, buf);
			const char *bad = irn_tasking_validate(buf, len);
			if (bad) {
				resp = ctl_error(bad);
			} else {
				json_object_set_new(req, "to", json_string(recipients));
				resp = author(n, req, account, IRNET__KIND__KIND_TASKING, buf, len, recipients, 1);
			}
		}
		free(buf);
	}
	free(it);
	free(itp);
	return resp ? resp : ctl_error(irn_strerror(IRN_ERR_NOMEM));
}

/* The assignee answers a task: accept, decline, progress, done. */
static json_t *
op_task_status(node *n, json_t *req, const char *account)
{
	const char *hex = json_string_value(json_object_get(req, "tasking"));
	json_int_t number = json_integer_value(json_object_get(req, "number"));
	const char *state = json_string_value(json_object_get(req, "state"));
	uint8_t tk[IRN_MSGID_LEN];
	if (hex == NULL || irn_unhex(tk, sizeof tk, hex) != IRN_OK || number < 1)
		return ctl_error(_("give the coordination order's id and the task number"));
	flow_follow_incident(n->h, req, tk, true);
	unsigned s = 0;
	for (unsigned k = IRNET__TASK_STATE__TASK_ACCEPTED; state && k <= IRNET__TASK_STATE__TASK_DONE; k++)
		if (!strcmp(state, irn_task_state_name(k)) ||
		    (k == IRNET__TASK_STATE__TASK_PROGRESS && !strcmp(state, "progress")))
			s = k;
	if (s == 0)
		return ctl_error(_("state is accepted, declined, progress or done"));
	sqlite3_stmt *st;
	char coordinator[IRN_MAX_ID + 1] = "", assignee[IRN_MAX_ID + 1] = "";
	if (sqlite3_prepare_v2(irn_ledger_db(n->h->ledger), "SELECT coordinator, assignee FROM tasks"
			       " WHERE tasking = ? AND number = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, tk, sizeof tk, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, number);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(coordinator, sizeof coordinator, "%s", (const char *)sqlite3_column_text(st, 0));
			snprintf(assignee, sizeof assignee, "%s", (const char *)sqlite3_column_text(st, 1));
		}
		sqlite3_finalize(st);
	}
	if (!coordinator[0])
		return ctl_error(_("this node holds no such task"));
	if (strcmp(assignee, n->h->cfg.id) != 0)
		return ctl_error(_("only the member a task is assigned to may answer it"));
	Irnet__TaskStatus ts = IRNET__TASK_STATUS__INIT;
	ts.tasking.data = tk;
	ts.tasking.len = sizeof tk;
	ts.number = (uint32_t)number;
	ts.state = s;
	ts.note = (char *)json_string_value(json_object_get(req, "note"));
	uint8_t buf[20000];
	size_t len = irnet__task_status__get_packed_size(&ts);
	if (len > sizeof buf)
		return ctl_error(_("the note is too long"));
	irnet__task_status__pack(&ts, buf);
	char recipients[200];
	snprintf(recipients, sizeof recipients, "role:coordinator%s%s",
		 strcmp(coordinator, n->h->cfg.id) ? "," : "", strcmp(coordinator, n->h->cfg.id) ? coordinator : "");
	json_object_set_new(req, "to", json_string(recipients));
	return author(n, req, account, IRNET__KIND__KIND_TASK_STATUS, buf, len, recipients, 1);
}

/* Kinds whose typed payloads come with the workflow carry text for now. */
static json_t *
op_send(node *n, json_t *req, const char *account)
{
	const char *kname = json_string_value(json_object_get(req, "kind"));
	const char *text = json_string_value(json_object_get(req, "text"));
	json_int_t count = json_object_get(req, "count") ? json_integer_value(json_object_get(req, "count")) : 1;
	int kind = kname ? irn_kind_parse(kname) : -1;
	if (kind < 0 || kind == IRNET__KIND__KIND_INITIAL_REPORT || kind == IRNET__KIND__KIND_RECEIPT ||
	    kind == IRNET__KIND__KIND_ERROR || kind == IRNET__KIND__KIND_CLASSIFICATION ||
	    kind == IRNET__KIND__KIND_TRANSITION || kind == IRNET__KIND__KIND_CHECKPOINT ||
	    kind == IRNET__KIND__KIND_TASKING || kind == IRNET__KIND__KIND_TASK_STATUS)
		return ctl_error(_("unknown kind (initial reports go through 'report')"));
	if (irn_typed_kind((unsigned)kind))
		return ctl_error(_("this kind has a typed form: use its own command (see irnet-node --help)"));
	if (text == NULL || count < 1 || count > 10000)
		return ctl_error(_("a text and a count from 1 to 10000 are required"));
	const char *why = irn_payload_validate((unsigned)kind, (const uint8_t *)text, strlen(text));
	if (why)
		return ctl_error(why);
	return author(n, req, account, (unsigned)kind, (const uint8_t *)text, strlen(text),
		      flow_route(n->h, (unsigned)kind), (long)count);
}

/* A typed payload built by a command (profile, attachment chunk, end
 * report ...): checked like every receiver will, signed and stored. */
static json_t *
op_send_payload(node *n, json_t *req, const char *account)
{
	const char *kname = json_string_value(json_object_get(req, "kind"));
	const char *hex = json_string_value(json_object_get(req, "payload"));
	int kind = kname ? irn_kind_parse(kname) : -1;
	if (kind < 0 || kind == IRNET__KIND__KIND_INITIAL_REPORT || kind == IRNET__KIND__KIND_RECEIPT ||
	    kind == IRNET__KIND__KIND_ERROR || kind == IRNET__KIND__KIND_CLASSIFICATION ||
	    kind == IRNET__KIND__KIND_TRANSITION || kind == IRNET__KIND__KIND_CHECKPOINT ||
	    kind == IRNET__KIND__KIND_TASKING || kind == IRNET__KIND__KIND_TASK_STATUS)
		return ctl_error(_("this kind has its own command"));
	size_t hl = hex ? strlen(hex) : 0;
	if (hl == 0 || hl % 2 || hl / 2 > IRN_MAX_PAYLOAD)
		return ctl_error(_("a payload (hex, at most 192 KiB) is required"));
	uint8_t *p = malloc(hl / 2);
	if (p == NULL)
		return ctl_error(irn_strerror(IRN_ERR_NOMEM));
	json_t *resp;
	const char *why = NULL;
	if (irn_unhex(p, hl / 2, hex) != IRN_OK)
		why = _("the payload is not hex");
	else
		why = irn_payload_validate((unsigned)kind, p, hl / 2);
	if (why)
		resp = ctl_error(why);
	else
		resp = author(n, req, account, (unsigned)kind, p, hl / 2,
			      kind == IRNET__KIND__KIND_PROFILE ? "role:coordinator,role:authority"
								: n->h->cfg.report_to, 1);
	free(p);
	return resp;
}

/* 'irnet-node rebuild': drop the derived tables and replay the ledger in
 * order through the same code that applied each entry when it came
 * (derive_all, apply_receipt), in one transaction. Sealed (TLP:RED)
 * payloads are opened again with this node's key; the opened copies are
 * kept, so content sealed to a key rotated out stays readable. */
static json_t *
op_rebuild(node *n)
{
	sqlite3 *db = irn_ledger_db(n->h->ledger);
	char err[256] = "";
	irn_err e = irn_home_begin(n->h);
	if (e != IRN_OK) {
		snprintf(err, sizeof err, _("cannot start the rebuild: %s"), irn_strerror(e));
		return ctl_error(err);
	}
	static const char *const core[] = { "incidents", "transitions", "tasks", "reports", "alerts",
					    "expected_acks", NULL };
	char sql[128];
	for (size_t i = 0; e == IRN_OK && core[i]; i++) {
		snprintf(sql, sizeof sql, "DELETE FROM %s", core[i]);
		e = irn_sqlite_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
	}
	for (size_t i = 0; e == IRN_OK && forms_derived_tables[i]; i++) {
		snprintf(sql, sizeof sql, "DELETE FROM %s", forms_derived_tables[i]);
		e = irn_sqlite_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
	}
	sqlite3_stmt *st = NULL;
	if (e == IRN_OK && sqlite3_prepare_v2(db, "SELECT idx, type, accepted_ms, roster_version, data,"
					      " remote_index FROM ledger WHERE type IN (2, 3) ORDER BY idx",
					      -1, &st, NULL) != SQLITE_OK)
		e = IRN_ERR_DB;
	json_int_t messages = 0, receipts = 0, unreadable = 0;
	n->replaying = true;
	while (e == IRN_OK && sqlite3_step(st) == SQLITE_ROW) {
		uint64_t idx = (uint64_t)sqlite3_column_int64(st, 0);
		int type = sqlite3_column_int(st, 1);
		int64_t at = sqlite3_column_int64(st, 2);
		const uint8_t *data = sqlite3_column_blob(st, 4);
		size_t len = (size_t)sqlite3_column_bytes(st, 4);
		if (type == IRN_ENTRY_RECEIPT) {
			/* a batch-signed receipt (checked when it arrived, and by
			 * 'ledger verify'): only its facts are needed here */
			Irnet__Receipt *r = irnet__receipt__unpack(NULL, len, data);
			if (r && r->message_id.len == IRN_MSGID_LEN) {
				e = apply_receipt(n, r->message_id.data, r->ledger_index, r->accepted_ms);
				receipts++;
			}
			if (r)
				irnet__receipt__free_unpacked(r, NULL);
			continue;
		}
		irn_roster *owned = NULL;
		const irn_roster *ro = forms_roster_at(n->h, (uint64_t)sqlite3_column_int64(st, 3), &owned);
		irn_msg *m = NULL;
		irn_refusal why;
		if (ro == NULL || irn_envelope_check(ro, n->h->cfg.network, data, len, NULL, 0, at, &m,
						     &why) != 0) {
			log_warn(_("rebuild: ledger entry %llu does not verify any more; skipped"),
				 (unsigned long long)idx);
			unreadable++;
			irn_roster_free(&owned);
			continue;
		}
		uint32_t roles = m->signer->roles;
		uint8_t *plain = NULL;
		size_t plain_len = 0;
		const uint8_t *content = m->body->payload.data;
		size_t clen = m->body->payload.len;
		if (m->h->tlp == IRNET__TLP__TLP_RED) {
			if (irn_unseal(n->h->keys, n->h->cfg.id, m->h->sender, m->h->message_id.data,
				       content, clen, &plain, &plain_len) == IRN_OK)
				e = keep_plaintext(n, m->h->message_id.data, plain, plain_len);
			else
				plain = forms_content(n->h, m, &plain_len); /* opened before */
			content = plain;
			clen = plain_len;
			if (plain && irn_payload_validate(m->h->kind, plain, plain_len) != NULL)
				content = NULL;
		}
		bool own = !strcmp(m->h->sender, n->h->cfg.id);
		if (e == IRN_OK && content)
			e = derive_all(n, m, content, clen, idx, own ? "sent" : "received", own ? 0 : at,
				       own ? 0 : (uint64_t)sqlite3_column_int64(st, 5), roles);
		if (e == IRN_OK && content)
			e = flow_derive(n, m, content, clen, roles,
					own ? 0 : (uint64_t)sqlite3_column_int64(st, 5), own, NULL, 0);
		else if (content == NULL)
			unreadable++;
		messages++;
		if (plain) {
			sodium_memzero(plain, plain_len);
			free(plain);
		}
		irn_msg_free(&m);
		irn_roster_free(&owned);
	}
	n->replaying = false;
	sqlite3_finalize(st);
	char hash[65] = "";
	if (e == IRN_OK)
		e = forms_state_hash(db, NULL, hash);
	if (e == IRN_OK)
		e = irn_ledger_commit(n->h->ledger);
	else
		irn_ledger_rollback(n->h->ledger);
	if (e != IRN_OK) {
		snprintf(err, sizeof err, _("rebuild failed, nothing changed: %s"), irn_strerror(e));
		return ctl_error(err);
	}
	log_info("rebuilt the derived tables from the ledger: %lld messages, %lld receipts, state %s",
		 (long long)messages, (long long)receipts, hash);
	return json_pack("{s:b,s:I,s:I,s:I,s:s}", "ok", 1, "messages", messages, "receipts", receipts,
			 "unreadable", unreadable, "state_hash", hash);
}

static json_t *
op_status(node *n)
{
	sqlite3_stmt *st;
	json_int_t pending = 0;
	if (sqlite3_prepare_v2(irn_ledger_db(n->h->ledger),
			       "SELECT count(*) FROM outbox WHERE state = 'pending'", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			pending = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	uint64_t head;
	irn_ledger_head(n->h->ledger, &head, NULL);
	return json_pack("{s:b,s:s,s:b,s:I,s:I,s:I,s:I,s:I}", "ok", 1, "id", n->h->cfg.id,
			 "connected", n->welcomed, "roster_version", (json_int_t)n->h->roster->version,
			 "outbox_pending", pending, "ledger_head", (json_int_t)head,
			 "delivered_upto", (json_int_t)n->delivered_upto,
			 "session_refused_ms", (json_int_t)n->session_refused_ms);
}

/* Ask the broker; the command's connection waits in n->queries until the
 * Answer with the same nonce arrives (or 5 s pass). NULL: pending. */
static json_t *
op_query(node *n, json_t *req, int fd)
{
	if (!n->welcomed)
		return ctl_error(_("not connected to the broker"));
	struct pending_query *slot = NULL;
	for (size_t i = 0; i < sizeof n->queries / sizeof n->queries[0]; i++)
		if (n->queries[i].fd < 0)
			slot = &n->queries[i];
	if (slot == NULL)
		return ctl_error(_("too many queries waiting; try again"));
	Irnet__Query q = IRNET__QUERY__INIT;
	uint8_t id[IRN_MSGID_LEN];
	q.nonce = ++n->next_nonce;
	if (!strcmp(json_string_value(json_object_get(req, "op")), "members")) {
		q.what = IRNET__QUERY_WHAT__QUERY_PRESENCE;
	} else if (!strcmp(json_string_value(json_object_get(req, "op")), "broker-events")) {
		q.what = IRNET__QUERY_WHAT__QUERY_EVENTS;
	} else if (!strcmp(json_string_value(json_object_get(req, "op")), "audit")) {
		q.what = IRNET__QUERY_WHAT__QUERY_AUDIT;
	} else {
		const char *hex = json_string_value(json_object_get(req, "id"));
		const char *sender = json_string_value(json_object_get(req, "sender"));
		if (hex == NULL || irn_unhex(id, sizeof id, hex) != IRN_OK)
			return ctl_error(_("give the full 32-digit message id"));
		q.what = IRNET__QUERY_WHAT__QUERY_DELIVERY;
		q.has_message_id = true;
		q.message_id.data = id;
		q.message_id.len = sizeof id;
		q.sender = (char *)(sender ? sender : n->h->cfg.id);
	}
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_QUERY;
	p.query = &q;
	if (irn_packet_send(n->dealer, NULL, 0, &p) != 0)
		return ctl_error(_("cannot reach the broker"));
	slot->fd = fd;
	slot->nonce = q.nonce;
	slot->deadline_ms = irn_now_ms() + 5000;
	return NULL;
}

static void
query_reply(struct pending_query *q, json_t *resp)
{
	char *out = json_dumps(resp, JSON_COMPACT);
	if (out)
		node_frame_write(q->fd, out, strlen(out));
	free(out);
	json_decref(resp);
	close(q->fd);
	q->fd = -1;
}

/* QUERY_AUDIT: the broker's copy of our checkpoints, each checked as our
 * own signed envelope before `ledger audit` compares it with the ledger. */
static json_t *
audit_json(node *n, const Irnet__Answer *a)
{
	json_t *cps = json_array();
	int64_t now = irn_now_ms();
	for (size_t i = 0; i < a->n_checkpoints; i++) {
		irn_msg *m = NULL;
		irn_refusal why;
		json_t *e = json_object();
		if (irn_envelope_check(n->h->roster, n->h->cfg.network, a->checkpoints[i].data,
				       a->checkpoints[i].len, NULL, now, now, &m, &why) != 0 ||
		    strcmp(m->h->sender, n->h->cfg.id) != 0 ||
		    m->h->kind != IRNET__KIND__KIND_CHECKPOINT) {
			json_object_set_new(e, "verified", json_false());
			json_object_set_new(e, "error", json_string(m ? "not this member's checkpoint"
								      : why.reason));
		} else {
			Irnet__Checkpoint *c = irnet__checkpoint__unpack(NULL, m->body->payload.len,
									 m->body->payload.data);
			char hex[2 * IRN_HASH_LEN + 1];
			if (c && c->head_hash.len == IRN_HASH_LEN) {
				irn_hex(hex, c->head_hash.data, IRN_HASH_LEN);
				json_object_set_new(e, "verified", json_true());
				json_object_set_new(e, "ledger_index", json_integer((json_int_t)c->ledger_index));
				json_object_set_new(e, "head_hash", json_string(hex));
				json_object_set_new(e, "created_ms", json_integer(m->h->created_ms));
			} else {
				json_object_set_new(e, "verified", json_false());
				json_object_set_new(e, "error", json_string("checkpoint does not decode"));
			}
			if (c)
				irnet__checkpoint__free_unpacked(c, NULL);
		}
		irn_msg_free(&m);
		json_array_append_new(cps, e);
	}
	return json_pack("{s:o,s:I,s:I}", "checkpoints", cps, "last_sequence",
			 (json_int_t)a->last_sequence, "acked_upto", (json_int_t)a->acked_upto);
}

static void
handle_answer(node *n, const Irnet__Answer *a)
{
	struct pending_query *q = NULL;
	for (size_t i = 0; i < sizeof n->queries / sizeof n->queries[0]; i++)
		if (n->queries[i].fd >= 0 && n->queries[i].nonce == a->nonce)
			q = &n->queries[i];
	if (q == NULL)
		return;
	if (a->status != IRNET__ERROR_CODE__ERR_NONE) {
		query_reply(q, ctl_error(a->status == IRNET__ERROR_CODE__ERR_NOT_ALLOWED
						 ? _("the broker does not allow this member to ask that")
						 : _("the broker does not know that message")));
		return;
	}
	json_t *o = json_pack("{s:b,s:I}", "ok", 1, "broker_time_ms", (json_int_t)a->broker_time_ms);
	json_t *arr = json_array();
	for (size_t i = 0; i < a->n_presence; i++) {
		const Irnet__MemberPresence *m = a->presence[i];
		json_t *e = json_pack("{s:s,s:b}", "id", m->id, "online", m->online);
		if (m->has_last_seen_ms)
			json_object_set_new(e, "last_seen_ms", json_integer(m->last_seen_ms));
		if (m->has_roster_version)
			json_object_set_new(e, "roster_version", json_integer((json_int_t)m->roster_version));
		if (m->has_clock_skew_ms)
			json_object_set_new(e, "clock_skew_ms", json_integer(m->clock_skew_ms));
		json_array_append_new(arr, e);
	}
	static const char *const states[] = { "?", "accepted", "delivered", "acknowledged" };
	for (size_t i = 0; i < a->n_recipients; i++) {
		const Irnet__RecipientStatus *r = a->recipients[i];
		json_t *e = json_pack("{s:s,s:s}", "member", r->member, "state",
				      states[r->state < 4 ? r->state : 0]);
		if (r->has_delivered_ms)
			json_object_set_new(e, "delivered_ms", json_integer(r->delivered_ms));
		if (r->has_acked_ms)
			json_object_set_new(e, "acked_ms", json_integer(r->acked_ms));
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, a->n_recipients || a->has_ledger_index ? "recipients" : "members", arr);
	json_t *evs = json_array();
	for (size_t i = 0; i < a->n_events; i++) {
		const Irnet__SecurityEvent *e = a->events[i];
		json_t *x = json_pack("{s:I,s:s}", "time_ms", (json_int_t)e->time_ms, "reason", e->reason);
		if (e->member)
			json_object_set_new(x, "member", json_string(e->member));
		if (e->detail)
			json_object_set_new(x, "detail", json_string(e->detail));
		json_array_append_new(evs, x);
	}
	json_object_set_new(o, "events", evs);
	if (a->has_ledger_index) {
		json_object_set_new(o, "ledger_index", json_integer((json_int_t)a->ledger_index));
		json_object_set_new(o, "accepted_ms", json_integer(a->accepted_ms));
	}
	if (a->has_last_sequence)
		json_object_set_new(o, "audit", audit_json(n, a));
	query_reply(q, o);
}

static void
expire_queries(node *n)
{
	int64_t now = irn_now_ms();
	for (size_t i = 0; i < sizeof n->queries / sizeof n->queries[0]; i++)
		if (n->queries[i].fd >= 0 && now > n->queries[i].deadline_ms)
			query_reply(&n->queries[i], ctl_error(_("the broker did not answer in time")));
}

static const char *
account_name(void)
{
	static char name[64];
	if (name[0] == '\0') {
		struct passwd pw, *pwp = NULL;
		char buf[1024];
		if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &pwp) == 0 && pwp)
			snprintf(name, sizeof name, "%s", pw.pw_name);
		else
			snprintf(name, sizeof name, "uid%u", (unsigned)geteuid());
	}
	return name;
}

/* Sign our ledger head and send it to the broker, which keeps it and
 * countersigns it with its receipt (tamper evidence, see ledger.h). */
static void
checkpoint(node *n, const char *account)
{
	n->last_cp_ms = irn_now_ms();
	uint64_t head;
	uint8_t hash[IRN_HASH_LEN];
	irn_ledger_head(n->h->ledger, &head, hash);
	if (head == 0 || (n->last_cp_idx && head <= n->last_cp_idx + 1))
		return; /* nothing new but our last checkpoint and its receipt */
	Irnet__Checkpoint cp = IRNET__CHECKPOINT__INIT;
	cp.ledger_index = head;
	cp.head_hash.data = hash;
	cp.head_hash.len = IRN_HASH_LEN;
	uint8_t buf[64];
	size_t len = irnet__checkpoint__pack(&cp, buf);
	json_t *req = json_pack("{s:s}", "to", n->h->cfg.broker_id);
	json_t *resp = author(n, req, account, IRNET__KIND__KIND_CHECKPOINT, buf, len,
			      n->h->cfg.broker_id, 1);
	if (json_is_true(json_object_get(resp, "ok"))) {
		n->last_cp_idx = head + 1; /* the checkpoint entry itself */
		log_info("checkpoint of ledger entry %llu signed and sent", (unsigned long long)head);
	} else {
		log_warn(_("cannot make a checkpoint: %s"), json_string_value(json_object_get(resp, "error")));
	}
	json_decref(resp);
	json_decref(req);
}

static void
ctl_handle(node *n)
{
	int fd = accept4(n->ctl, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct ucred cred;
	socklen_t cl = sizeof cred;
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || cred.uid != geteuid()) {
		record_event(n, NULL, "local-peer", "control socket: peer is another OS user");
		close(fd);
		return;
	}
	char account[64] = "";
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024];
	if (getpwuid_r(cred.uid, &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp)
		snprintf(account, sizeof account, "%s", pw.pw_name);
	else
		snprintf(account, sizeof account, "uid%u", (unsigned)cred.uid);
	char *text = node_frame_read(fd, 1 << 20);
	json_error_t jerr;
	json_t *req = text ? json_loads(text, 0, &jerr) : NULL;
	free(text);
	json_t *resp;
	const char *op = json_string_value(json_object_get(req, "op"));
	if (op == NULL)
		resp = ctl_error("bad request");
	else if (!strcmp(op, "report"))
		resp = op_report(n, req, account);
	else if (!strcmp(op, "send"))
		resp = op_send(n, req, account);
	else if (!strcmp(op, "transition"))
		resp = op_transition(n, req, account);
	else if (!strcmp(op, "task"))
		resp = op_task(n, req, account);
	else if (!strcmp(op, "task-status"))
		resp = op_task_status(n, req, account);
	else if (!strcmp(op, "status"))
		resp = op_status(n);
	else if (!strcmp(op, "send-payload"))
		resp = op_send_payload(n, req, account);
	else if (!strcmp(op, "rebuild"))
		resp = op_rebuild(n);
	else if ((resp = flow_op(n, op, req, account)) != NULL)
		;
	else if (!strcmp(op, "members") || !strcmp(op, "delivery") || !strcmp(op, "broker-events") ||
		 !strcmp(op, "audit")) {
		resp = op_query(n, req, fd);
		if (resp == NULL) { /* the answer comes from the broker later */
			json_decref(req);
			return;
		}
	} else
		resp = ctl_error("unknown operation");
	char *out = json_dumps(resp, JSON_COMPACT);
	if (out)
		node_frame_write(fd, out, strlen(out));
	free(out);
	json_decref(resp);
	json_decref(req);
	close(fd);
}

static int
ctl_listen(node *n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (irn_snprintf(sa.sun_path, sizeof sa.sun_path, "%s/node.sock", n->h->dir) < 0) {
		log_error(_("home path too long for a local socket: %s"), n->h->dir);
		return -1;
	}
	n->ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (n->ctl < 0)
		return -1;
	unlink(sa.sun_path);
	mode_t old = umask(077);
	int rc = bind(n->ctl, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || listen(n->ctl, 16) != 0) {
		log_error(_("cannot listen on %s: %s"), sa.sun_path, strerror(errno));
		return -1;
	}
	chmod(sa.sun_path, 0600);
	return 0;
}

/* The DEALER to the broker (CURVE client with our transport key) and its
 * monitor. Called again after a key rotation. */
static int
connect_broker(node *n, const char *endpoint, const uint8_t server_pk[IRN_PK_LEN])
{
	n->dealer = zmq_socket(n->ctx, ZMQ_DEALER);
	int zero = 0, hb = n->h->cfg.heartbeat_ms, hbt = 3 * n->h->cfg.heartbeat_ms, ivl = 200,
	    ivlmax = 5000, hwm = 100000, imm = 1;
	int64_t maxmsg = IRN_MAX_FRAME_OUT;
	zmq_setsockopt(n->dealer, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(n->dealer, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(n->dealer, ZMQ_RCVHWM, &hwm, sizeof hwm);
	zmq_setsockopt(n->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	zmq_setsockopt(n->dealer, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb);
	zmq_setsockopt(n->dealer, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof hbt);
	zmq_setsockopt(n->dealer, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
	zmq_setsockopt(n->dealer, ZMQ_RECONNECT_IVL_MAX, &ivlmax, sizeof ivlmax);
	zmq_setsockopt(n->dealer, ZMQ_IMMEDIATE, &imm, sizeof imm);
	char monep[64];
	snprintf(monep, sizeof monep, "inproc://monitor-%d-%u", (int)getpid(), ++n->connections);
	zmq_socket_monitor(n->dealer, monep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
			   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
			   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
	n->mon = zmq_socket(n->ctx, ZMQ_PAIR);
	zmq_connect(n->mon, monep);
	if (endpoint != n->endpoint) { /* a reconnect passes our own copies */
		snprintf(n->endpoint, sizeof n->endpoint, "%s", endpoint);
		memcpy(n->server_pk, server_pk, IRN_PK_LEN);
	}
	if (irn_curve_client(n->dealer, n->h->keys, server_pk) != 0 ||
	    zmq_connect(n->dealer, endpoint) != 0) {
		log_error(_("cannot connect to %s: %s"), endpoint, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

static void
disconnect_broker(node *n)
{
	zmq_socket_monitor(n->dealer, NULL, 0);
	zmq_close(n->mon);
	zmq_close(n->dealer);
	n->welcomed = false;
}

/* Key rotation: once the roster in force names the keys waiting in
 * keys/next as ours, switch to them (the old ones move to keys/old-TIME,
 * kept for history) and reconnect with the new transport key. */
static void
maybe_switch_keys(node *n)
{
	const irn_member *self = irn_roster_find(n->h->roster, n->h->cfg.id);
	if (self == NULL || memcmp(self->sign_pk, n->h->keys->sign_pk, IRN_PK_LEN) == 0)
		return;
	char next[1100], cur[1100], old[1100];
	snprintf(next, sizeof next, "%s/keys/next", n->h->dir);
	snprintf(cur, sizeof cur, "%s/keys", n->h->dir);
	irn_keys *nk = NULL;
	if (irn_keys_load(next, &nk) != IRN_OK)
		return;
	if (memcmp(nk->sign_pk, self->sign_pk, IRN_PK_LEN) != 0) {
		irn_keys_free(&nk);
		return;
	}
	/* keys/{sign,transport}.{key,pub} move to keys/old-TIME, those in keys/next to keys */
	snprintf(old, sizeof old, "%s/keys/old-%lld", n->h->dir, (long long)irn_now_ms());
	static const char *const files[] = { "sign.key", "transport.key", "sign.pub", "transport.pub" };
	if (irn_mkdir_p(old, 0700) != IRN_OK) {
		irn_keys_free(&nk);
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		char a[1200], b[1200];
		snprintf(a, sizeof a, "%s/%s", cur, files[i]);
		snprintf(b, sizeof b, "%s/%s", old, files[i]);
		if (rename(a, b) != 0)
			log_error("rename %s: %s", a, strerror(errno));
		snprintf(a, sizeof a, "%s/%s", next, files[i]);
		snprintf(b, sizeof b, "%s/%s", cur, files[i]);
		if (rename(a, b) != 0)
			log_error("rename %s: %s", a, strerror(errno));
	}
	rmdir(next);
	irn_keys_free(&n->h->keys);
	n->h->keys = nk;
	log_warn(_("the roster now names our new keys: switched to them (old keys kept in %s)"), old);
	disconnect_broker(n);
	if (connect_broker(n, n->endpoint, n->server_pk) != 0)
		log_error(_("cannot reconnect with the new keys"));
}

int
node_daemon_run(irn_home *h)
{
	node n = { .h = h, .ctl = -1 };
	if (h->roster == NULL) {
		log_error(_("no roster: import one with 'irnet-node roster-import FILE'"));
		return 1;
	}
	const irn_member *br = irn_roster_find(h->roster, h->cfg.broker_id);
	if (br == NULL || !irn_member_has_role(br, IRNET__ROLE__ROLE_BROKER)) {
		log_error(_("broker %s is not in the roster with the broker role"), h->cfg.broker_id);
		return 1;
	}
	const char *endpoint = h->cfg.broker[0] ? h->cfg.broker : br->endpoint;
	if (endpoint == NULL || !*endpoint) {
		log_error(_("no broker endpoint: set \"broker\" in irnet.conf"));
		return 1;
	}
	if (node_schema(h->ledger) != IRN_OK)
		return 1;
	n.delivered_upto = (uint64_t)irn_meta_get_int(h->ledger, "delivered_upto", 0);
	n.committed_upto = n.delivered_upto;
	n.last_cp_ms = irn_now_ms(); /* the first checkpoint after one period */
	for (size_t i = 0; i < sizeof n.queries / sizeof n.queries[0]; i++)
		n.queries[i].fd = -1;
	n.next_seq = (uint64_t)irn_meta_get_int(h->ledger, "next_seq", 1);
	sqlite3_stmt *sy;
	if (sqlite3_prepare_v2(irn_ledger_db(h->ledger), "PRAGMA synchronous", -1, &sy, NULL) == SQLITE_OK) {
		n.sync_full = sqlite3_step(sy) == SQLITE_ROW && sqlite3_column_int(sy, 0) == 2;
		sqlite3_finalize(sy);
	}
	if (ctl_listen(&n) != 0)
		return 1;
	n.roots = irn_root_cache_new(64);
	n.ctx = zmq_ctx_new();
	if (n.roots == NULL || connect_broker(&n, endpoint, br->transport_pk) != 0) {
		irn_root_cache_free(&n.roots);
		return 1;
	}
	n.seen_roster_idx = h->roster_idx;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	log_info("node %s started: broker %s at %s, roster %llu", h->cfg.id, h->cfg.broker_id,
		 endpoint, (unsigned long long)h->roster->version);
	printf("READY %s\n", h->cfg.id);
	fflush(stdout);
	while (!stop_flag) {
		zmq_pollitem_t items[] = { { n.dealer, 0, ZMQ_POLLIN, 0 }, { n.mon, 0, ZMQ_POLLIN, 0 },
					   { NULL, n.ctl, ZMQ_POLLIN, 0 } };
		int rc = zmq_poll(items, 3, 500);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", zmq_strerror(errno));
			break;
		}
		if (items[1].revents & ZMQ_POLLIN)
			monitor_handle(&n);
		if (items[0].revents & ZMQ_POLLIN)
			for (int i = 0; i < 256; i++) {
				int ev = 0;
				size_t evl = sizeof ev;
				zmq_getsockopt(n.dealer, ZMQ_EVENTS, &ev, &evl);
				if (!(ev & ZMQ_POLLIN))
					break;
				dealer_handle(&n);
			}
		end_batch(&n);
		flow_send_acks(&n); /* acknowledgements of what was just committed */
		if (items[2].revents & ZMQ_POLLIN)
			ctl_handle(&n);
		expire_queries(&n);
		if (h->roster_idx != n.seen_roster_idx) {
			n.seen_roster_idx = h->roster_idx;
			maybe_switch_keys(&n);
		}
		int64_t now = irn_now_ms();
		if (n.welcomed && h->cfg.checkpoint_ms > 0 && now - n.last_cp_ms >= h->cfg.checkpoint_ms)
			checkpoint(&n, account_name());
		if (n.welcomed && ((n.inflight > 0 && now - n.last_resend_ms > 5000) ||
				   (n.retry_at_ms && now >= n.retry_at_ms))) {
			n.retry_at_ms = 0;
			flush_outbox(&n, true); /* no receipt for 5 s, or refused for now: send again */
		} else
			flush_outbox(&n, false);
		if (n.welcomed && now - n.last_hb_ms > h->cfg.heartbeat_ms) {
			Irnet__Heartbeat hbm = IRNET__HEARTBEAT__INIT;
			hbm.time_ms = now;
			hbm.roster_version = h->roster->version;
			Irnet__Packet p = IRNET__PACKET__INIT;
			p.p_case = IRNET__PACKET__P_HEARTBEAT;
			p.heartbeat = &hbm;
			send_packet(&n, &p);
			n.last_hb_ms = now;
		}
	}
	log_info("node %s stopping", h->cfg.id);
	char path[1100];
	snprintf(path, sizeof path, "%s/node.sock", h->dir);
	unlink(path);
	for (size_t i = 0; i < sizeof n.queries / sizeof n.queries[0]; i++)
		if (n.queries[i].fd >= 0)
			query_reply(&n.queries[i], ctl_error(_("the daemon is stopping")));
	close(n.ctl);
	disconnect_broker(&n);
	zmq_ctx_term(n.ctx);
	irn_root_cache_free(&n.roots);
	return 0;
}

/* ---- for node/flow.c ---- */

irn_home *nd_home(node *n) { return n->h; }
bool nd_replaying(node *n) { return n->replaying; }

json_t *
nd_author(node *n, json_t *req, const char *account, unsigned kind, const uint8_t *payload,
	  size_t plen, const char *default_to)
{
	return author(n, req, account, kind, payload, plen, default_to, 1);
}

json_t *nd_ctl_error(const char *msg) { return ctl_error(msg); }
void nd_record_event(node *n, const char *member, const char *reason, const char *detail)
{
	record_event(n, member, reason, detail);
}
irn_err nd_replay_incident(node *n, const uint8_t incident[IRN_MSGID_LEN])
{
	return replay_incident(n, incident);
}
const char *nd_account(void) { return account_name(); }
