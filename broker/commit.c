/* commit.c - the commit thread: the only user of the broker's database.
 *
 * For each checked submission: duplicate (sender, id) -> sequence -> append
 * held for the batch (receipts.c). Everything read in one round shares one
 * transaction (group commit); before COMMIT the batch is sealed: one signed
 * Merkle root, each message appended with its receipt (leaf, path, root).
 * Receipts leave only after COMMIT returned
 * (synchronous=FULL: the WAL is fsynced). Then delivery, routed at commit
 * time: each committed message goes, by its recipient roles and members,
 * into the queue of every live session it addresses ("live": caught up
 * with the ledger), and only those sessions are pumped. A session that is
 * behind (just connected, or its queue overflowed) catches up with a cursor
 * over an in-memory index of recent entries, or over the ledger in SQL for
 * what is older; the envelope and receipt are read only for rows that are
 * sent. Up to a window of deliveries per member are unacknowledged.
 *
 * Acknowledgements do not open a commit round: they are written to ack_log
 * with the next transaction, or once a second; only acknowledgements that
 * advance are kept (the first time each index was acknowledged), and each
 * member's history is bounded (older rows coalesce into the oldest kept).
 */
#include "internal.h"
#include "receipts.h"
#include "authz.h"
#include "wire.h"
#include "crypto.h"
#include "hmap.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define MAX_WINDOW 1024
#define RECENT_MAX 65536   /* committed messages kept in the routing index */
#define QUEUE_MAX 4096     /* routed, unsent deliveries per live session */
#define ACK_KEEP 2048      /* ack_log rows kept per member */
#define ACK_WRITE_MS 1000  /* pending acknowledgements written at least this often */
#define ROUND_US 1000      /* a commit round takes jobs for at most this long */
/* ... and, while more than one member's submissions are coming in (this
 * round or the one before took from several), at most this many of any
 * one member's: a round's commit (its fsync and its pages) grows with its
 * size, and a message that arrives meanwhile waits for the round to end,
 * then for its own. Under a flood by one member within its window, the
 * others' messages waited for rounds of ~44 of the flooder's. */
#define ROUND_MEMBER_MAX 16
#define ROUND_SAMPLES 4096 /* round times kept for the exit log */
#define N_ROLE_BITS 32
#define STR_(x) #x
#define IRN_STR(x) STR_(x)

typedef struct csess {
	char member[IRN_MAX_ID + 1];
	uint64_t gen;
	bool ready;             /* Hello received on this generation */
	bool live;              /* caught up: new messages are routed to q */
	bool dirty;             /* on the list of sessions to pump */
	uint64_t live_epoch;    /* which role-list entries are current */
	uint32_t roles;         /* roles when it became live */
	uint64_t scan_upto;     /* not live: every index <= this was considered */
	uint64_t last_routed;   /* live: last index put in q (de-duplication) */
	uint64_t *q;            /* live: routed indexes not yet sent, in order */
	size_t qh, qn, qcap;
	uint64_t last_sent;     /* index of the last Deliver (prev_index of the next) */
	uint64_t acked;
	uint64_t ack_logged;    /* highest upto in ack_log (UINT64_MAX: not read yet) */
	unsigned ack_rows;      /* rows written since this member's last prune */
	unsigned in_flight;     /* deliveries not yet acknowledged ... */
	unsigned wcap;
	uint64_t *ring;         /* ... their indexes, oldest first */
	int64_t *ring_ms;       /* ... and when they were sent */
	unsigned ring_head;
	double err_tokens;      /* error replies this member may get now */
	int64_t err_ms;
	job *cq_head, *cq_tail; /* checked submissions waiting for a batch, in order */
	bool cq_in_rr;          /* on the committer's round-robin list */
	uint64_t cq_round;      /* the round cq_taken counts for */
	unsigned cq_taken;      /* taken into that round */
	struct csess *cq_next;
	struct csess *next;
} csess;

/* A committed (or, in pend, about to be committed) message: what routing
 * needs. The envelope and receipt stay in the ledger. */
typedef struct rent {
	uint64_t idx;
	uint32_t roles;
	char *sender;
	char *members;          /* "\nid\nid\n" as in the ledger's to_members */
} rent;

/* Indexes (increasing) of the recent messages addressed to one role bit
 * or member: a session catches up over these, not over every message. */
typedef struct klist {
	uint64_t *v;
	size_t h, n, cap;
} klist;

typedef struct role_ref {
	csess *s;
	uint64_t epoch;
} role_ref;

typedef struct pending_ack {
	char member[IRN_MAX_ID + 1];
	uint64_t upto;
	int64_t at_ms;
} pending_ack;

static bool grow_array(void **v, size_t *cap, size_t need, size_t size);

typedef struct seq_ent {
	uint64_t last;
	bool dirty;
	char sender[IRN_MAX_ID + 1];
} seq_ent;

typedef struct committer {
	commit_ctx *cx;
	shared *sh;
	irn_home *h;
	csess *sessions;
	hmap by_member;         /* member id -> csess */
	bool in_tx;
	job **out;              /* replies waiting for the commit */
	size_t n_out, cap_out;
	uint64_t accepted, refused;
	receipts rb;            /* accepted this round, sealed before COMMIT */
	/* routing index */
	rent *pend;             /* appended in the open transaction */
	size_t n_pend, cap_pend;
	bool pend_lost;         /* a message of the batch could not be noted */
	rent *recent;           /* ring of committed messages, index order */
	size_t r_start, r_n;
	uint64_t r_floor;       /* every message >= this index is in recent */
	hmap by_key;            /* recipient key (role bit, member id) -> klist of
				 * the indexes in recent addressed to it */
	size_t pushes;          /* since the last trim of the klists */
	role_ref *by_role[N_ROLE_BITS]; /* live sessions per role bit */
	size_t n_role[N_ROLE_BITS], cap_role[N_ROLE_BITS];
	uint64_t roster_version;
	csess **dirty;          /* sessions to pump after this round */
	size_t n_dirty, cap_dirty;
	/* acknowledgements not yet written */
	pending_ack *acks;
	size_t n_acks, cap_acks;
	int64_t acks_written_ms;
	uint64_t sql_scans;     /* catch-up reads from SQL (diagnostics) */
	/* jobs from the verify threads, put back into io's order (vseq) */
	job **ro;               /* ring: job with vseq v at ro[v % ro_cap] */
	size_t ro_cap, ro_n;
	uint64_t ro_next;       /* vseq to handle next */
	unsigned stops;         /* J_STOPs seen (one per verify thread) */
	/* checked submissions by member, taken into batches round robin */
	csess *cq_rr_head, *cq_rr_tail;
	size_t cq_n;
	size_t cq_rr_n;         /* sessions on that list */
	uint64_t round_id;      /* commit rounds begun */
	unsigned round_members, prev_round_members; /* members taken from */
	/* round times (diagnostics, logged at exit): the last ROUND_SAMPLES */
	float take_us[ROUND_SAMPLES], flush_us[ROUND_SAMPLES];
	uint64_t rounds;
	/* each sender's last used sequence number, as the sequences table
	 * holds it plus this round's changes, which are written once per
	 * sender just before the commit (not a row rewrite per message) */
	hmap seqs;              /* sender -> seq_ent */
	bool seq_imported;      /* seq_import() done: no row means nothing used */
	int64_t seq_import_ms;  /* its last failed try */
	seq_ent **seq_dirty;
	size_t n_seq_dirty, cap_seq_dirty;
} committer;

static csess *
sess_get(committer *c, const char *member, bool create)
{
	csess *s = hmap_gets(&c->by_member, member);
	if (s || !create)
		return s;
	s = calloc(1, sizeof *s);
	unsigned w = (unsigned)c->sh->o->window;
	w = w < 1 ? 1 : w > MAX_WINDOW ? MAX_WINDOW : w;
	if (s) {
		s->err_tokens = 2.0 * c->h->cfg.error_rate;
		s->err_ms = irn_now_ms();
		s->wcap = w;
		s->ring = calloc(w, sizeof *s->ring);
		s->ring_ms = calloc(w, sizeof *s->ring_ms);
		s->ack_logged = UINT64_MAX;
	}
	if (s == NULL || s->ring == NULL || s->ring_ms == NULL) {
		if (s) {
			free(s->ring);
			free(s->ring_ms);
		}
		free(s);
		return NULL;
	}
	snprintf(s->member, sizeof s->member, "%s", member);
	if (!hmap_puts(&c->by_member, s->member, s)) {
		free(s->ring);
		free(s->ring_ms);
		free(s);
		return NULL;
	}
	s->next = c->sessions;
	c->sessions = s;
	return s;
}

static void note_pending(committer *c, uint64_t idx, const char *sender, uint32_t roles,
			 const char *members);
static int send_one(committer *c, csess *s, uint64_t idx);
static void drop_pending(committer *c);

static void
emit(committer *c, const char *member, uint64_t gen, uint8_t *bytes, size_t len, bool is_error)
{
	job *j = job_new(J_OUT, member, gen);
	if (j == NULL) {
		free(bytes);
		return;
	}
	j->bytes = bytes;
	j->len = len;
	j->is_error = is_error;
	job_send(c->cx->to_io, j);
}

static csess *sess_get(committer *c, const char *member, bool create);

/* The io thread passes a member at most error_rate error replies a second:
 * do not sign more than that here (a flood of refused submissions would
 * otherwise cost one signature each). */
static bool
error_allowed(committer *c, const char *member)
{
	csess *s = sess_get(c, member, true);
	if (s == NULL)
		return true;
	int64_t now = irn_now_ms();
	double rate = c->h->cfg.error_rate;
	s->err_tokens += (double)(now - s->err_ms) * rate / 1000.0;
	if (s->err_tokens > 2 * rate)
		s->err_tokens = 2 * rate;
	s->err_ms = now;
	if (s->err_tokens < 1)
		return false;
	s->err_tokens -= 1;
	return true;
}

static void
emit_error(committer *c, const char *member, uint64_t gen, unsigned code, const uint8_t *msgid,
	   const char *detail, bool exercise)
{
	if (!error_allowed(c, member))
		return;
	size_t len;
	uint8_t *p = broker_error_packet(c->sh, member, code, msgid, detail, exercise, &len);
	if (p)
		emit(c, member, gen, p, len, true);
}

/* Hold a reply until the batch commits. */
static void
hold(committer *c, job *j)
{
	if (c->n_out == c->cap_out) {
		size_t nc = c->cap_out ? 2 * c->cap_out : 256;
		job **n = realloc(c->out, nc * sizeof *n);
		if (n == NULL) {
			job_free(j);
			return;
		}
		c->out = n;
		c->cap_out = nc;
	}
	c->out[c->n_out++] = j;
}

static bool
begin(committer *c)
{
	if (c->in_tx)
		return true;
	pthread_rwlock_wrlock(&c->sh->roster_lock); /* a newer roster may load */
	irn_err e = irn_home_begin(c->h);
	pthread_rwlock_unlock(&c->sh->roster_lock);
	if (e != IRN_OK) {
		log_error(_("cannot start a ledger transaction: %s"), irn_strerror(e));
		return false;
	}
	c->in_tx = true;
	return true;
}

/* The last sequence number of each sender that is used up: by an accepted
 * message, or by a validly signed one that was refused for good. The broker
 * takes each sender's messages strictly in order, so a message lost to a
 * transient failure can never be overtaken and then refused as a replay. */
static uint64_t
last_sequence(committer *c, const char *sender)
{
	seq_ent *se = hmap_gets(&c->seqs, sender);
	if (se)
		return se->last;
	static const char q[] = "SELECT last FROM sequences WHERE sender = ?";
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q);
	uint64_t v = 0;
	if (st == NULL)
		return UINT64_MAX;
	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	bool have = rc == SQLITE_ROW;
	if (have)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!have && rc != SQLITE_DONE)
		return UINT64_MAX; /* unreadable: not cached, nothing taken */
	if (!have && !c->seq_imported)
		return UINT64_MAX; /* unknown until seq_import() has run */
	/* no row: nothing used yet (seq_import() filled in older ledgers) */
	if (strlen(sender) <= IRN_MAX_ID && (se = calloc(1, sizeof *se)) != NULL) {
		se->last = v;
		snprintf(se->sender, sizeof se->sender, "%s", sender);
		if (!hmap_puts(&c->seqs, sender, se))
			free(se);
	}
	return v;
}

/* A ledger from before the sequences table (or from a broker that kept
 * only part of it) holds accepted messages whose senders have no row
 * there: give each its highest accepted sequence, once (a scan of the
 * ledger), so that last_sequence() never has to look in the ledger. */
static void
seq_import(committer *c)
{
	sqlite3 *db = irn_ledger_db(c->h->ledger);
	if (irn_meta_get_int(c->h->ledger, "sequences_imported", 0) == 1) {
		c->seq_imported = true;
		return;
	}
	c->seq_import_ms = irn_now_ms();
	int rc = sqlite3_exec(db,
			      "BEGIN IMMEDIATE;"
			      "INSERT OR IGNORE INTO sequences(sender, last)"
			      " SELECT sender, max(sequence) FROM ledger WHERE type = 2 GROUP BY sender;"
			      "INSERT OR REPLACE INTO meta(k, v) VALUES('sequences_imported', 1);"
			      "COMMIT;",
			      NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		/* until it succeeds, a sender without a row gets ERR_STORAGE
		 * (retry) rather than a sequence count from 0 */
		log_error(_("cannot fill the sequences table from the ledger: %s"), sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	} else {
		c->seq_imported = true;
	}
}

/* Take sequence number seq of sender (after last_sequence() said what was
 * last): in memory now, in the sequences table by seq_write() in the same
 * transaction as the round's ledger rows. */
static irn_err
use_sequence(committer *c, const char *sender, uint64_t seq)
{
	seq_ent *se = hmap_gets(&c->seqs, sender);
	if (se == NULL)
		return IRN_ERR_DB; /* last_sequence() could not read it */
	if (!se->dirty) {
		if (!grow_array((void **)&c->seq_dirty, &c->cap_seq_dirty, c->n_seq_dirty + 1,
				sizeof *c->seq_dirty))
			return IRN_ERR_NOMEM;
		c->seq_dirty[c->n_seq_dirty++] = se;
		se->dirty = true;
	}
	se->last = seq;
	return IRN_OK;
}

/* This round's sequence numbers into the open transaction. */
static irn_err
seq_write(committer *c)
{
	static const char q[] = "INSERT OR REPLACE INTO sequences(sender, last) VALUES(?, ?)";
	if (c->n_seq_dirty == 0)
		return IRN_OK;
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q);
	if (st == NULL)
		return IRN_ERR_DB;
	irn_err e = IRN_OK;
	for (size_t i = 0; i < c->n_seq_dirty && e == IRN_OK; i++) {
		seq_ent *se = c->seq_dirty[i];
		sqlite3_bind_text(st, 1, se->sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)se->last);
		e = irn_sqlite_err(sqlite3_step(st));
		sqlite3_reset(st);
	}
	return e;
}

/* After a commit: the cache is what the table holds. */
static void
seq_clean(committer *c)
{
	for (size_t i = 0; i < c->n_seq_dirty; i++)
		c->seq_dirty[i]->dirty = false;
	c->n_seq_dirty = 0;
}

/* After a rollback: forget everything (read again from the table). */
static void
seq_forget(committer *c)
{
	hmap_free_values(&c->seqs);
	c->n_seq_dirty = 0;
}

/* For a refused envelope: is it really the connection member's, signed by
 * it? Then its sequence number is used up (so what follows is not stuck). */
static bool
signed_sequence(committer *c, const job *j, uint64_t *seq)
{
	bool ok = false;
	Irnet__Envelope *e = irnet__envelope__unpack(NULL, j->len, j->bytes);
	Irnet__Body *b = e && e->signer_key_id.len == IRN_KEYID_LEN && e->signature.len == IRN_SIG_LEN
				 ? irnet__body__unpack(NULL, e->body.len, e->body.data) : NULL;
	const uint8_t *pk = NULL;
	const irn_member *m = b && b->header ? irn_roster_find_signer(c->h->roster, e->signer_key_id.data,
								      irn_now_ms(), &pk) : NULL;
	if (m && !strcmp(m->id, j->member) && b->header->sender && !strcmp(b->header->sender, j->member) &&
	    irn_domain_verify(e->signature.data, IRN_DOMAIN_ENVELOPE, c->h->cfg.network, e->body.data,
			      e->body.len, pk) == IRN_OK) {
		*seq = b->header->sequence;
		ok = true;
	}
	if (b)
		irnet__body__free_unpacked(b, NULL);
	if (e)
		irnet__envelope__free_unpacked(e, NULL);
	return ok;
}

/* Security events are kept in the broker's database (not the ledger) for
 * coordinators to list; they ride in the current batch transaction. */
static void
keep_event(committer *c, const char *member, const char *reason, const char *detail)
{
	if (!begin(c))
		return;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(c->h->ledger),
			       "INSERT INTO security_events(time_ms, member, reason, detail)"
			       " VALUES(?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, irn_now_ms());
	if (member && *member)
		sqlite3_bind_text(st, 2, member, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static void
refuse(committer *c, job *j, unsigned code, const uint8_t *msgid, const char *reason, bool ex)
{
	c->refused++;
	broker_event(NULL, j->member, irn_error_code_name(code), "submission refused: %s", reason);
	keep_event(c, j->member, irn_error_code_name(code), reason);
	emit_error(c, j->member, j->gen, code, msgid, reason, ex);
}

static void
storage_error(void *ctx, const char *member, uint64_t gen, const uint8_t *msgid, bool exercise)
{
	emit_error(ctx, member, gen, IRNET__ERROR_CODE__ERR_STORAGE, msgid,
		   "broker cannot store now; retry later", exercise);
}

/* The batch is unusable: roll back and ask every author in it to retry
 * (held messages by id, held replies without one). */
static void
fail_batch(committer *c)
{
	irn_ledger_rollback(c->h->ledger);
	c->in_tx = false;
	seq_forget(c);
	drop_pending(c);
	receipts_abort(&c->rb, storage_error, c);
	for (size_t i = 0; i < c->n_out; i++) {
		emit_error(c, c->out[i]->member, c->out[i]->gen, IRNET__ERROR_CODE__ERR_STORAGE, NULL,
			   "broker cannot store now; retry later", false);
		job_free(c->out[i]);
	}
	c->n_out = 0;
}

static void
hold_cb(void *ctx, job *j)
{
	hold(ctx, j);
}

static void
handle_submit(committer *c, job *j)
{
	if (j->refused) {
		uint8_t pid[IRN_MSGID_LEN];
		const uint8_t *idp = irn_envelope_peek_id(j->bytes, j->len, pid) ? pid : NULL;
		uint64_t seq;
		if (j->why.code != IRNET__ERROR_CODE__ERR_BAD_SIGNATURE && signed_sequence(c, j, &seq) &&
		    begin(c)) {
			uint64_t last = last_sequence(c, j->member);
			if (seq > last + 1) { /* refuse it in its turn, not before */
				emit_error(c, j->member, j->gen, IRNET__ERROR_CODE__ERR_SEQUENCE_GAP, idp,
					   "an earlier message is missing; resend in order", false);
				return;
			}
			if (seq == last + 1 && use_sequence(c, j->member, seq) != IRN_OK)
				log_error(_("cannot record a used sequence number"));
		}
		refuse(c, j, j->why.code, idp, j->why.reason, false);
		return;
	}
	const Irnet__Header *hd = j->msg->h;
	if (hd->kind == IRNET__KIND__KIND_RECEIPT || hd->kind == IRNET__KIND__KIND_ERROR) {
		refuse(c, j, IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND, hd->message_id.data,
		       "receipts and errors are written by the broker, not submitted", hd->exercise);
		return;
	}
	if (!begin(c)) {
		emit_error(c, j->member, j->gen, IRNET__ERROR_CODE__ERR_STORAGE, hd->message_id.data,
			   "broker cannot store now; retry later", hd->exercise);
		return;
	}
	/* Duplicate: same id and bytes -> the same receipt again; other bytes -> attack. */
	switch (receipts_duplicate(&c->rb, hd->sender, hd->message_id.data, j->bytes, j->len, j->member,
				   j->gen)) {
	case RC_SAME: return; /* held in this batch: its receipt goes here too */
	case RC_CONFLICT:
		refuse(c, j, IRNET__ERROR_CODE__ERR_DUPLICATE_CONFLICT, hd->message_id.data,
		       "message id reused with different content", hd->exercise);
		return;
	case RC_NONE: break;
	}
	uint8_t *old = NULL, *oldrc = NULL;
	size_t oldlen = 0, oldrclen = 0;
	if (irn_ledger_find(c->h->ledger, hd->sender, hd->message_id.data, NULL, &old, &oldlen,
			    &oldrc, &oldrclen) == IRN_OK) {
		if (oldlen == j->len && !memcmp(old, j->bytes, j->len) && oldrc) {
			Irnet__Packet p = IRNET__PACKET__INIT;
			p.p_case = IRNET__PACKET__P_RECEIPT;
			p.receipt.data = oldrc;
			p.receipt.len = oldrclen;
			size_t pl;
			uint8_t *pb = packet_pack(&p, &pl);
			if (pb) {
				job *o = job_new(J_OUT, j->member, j->gen);
				if (o) {
					o->bytes = pb;
					o->len = pl;
					hold(c, o);
				} else {
					free(pb);
				}
			}
		} else {
			refuse(c, j, IRNET__ERROR_CODE__ERR_DUPLICATE_CONFLICT, hd->message_id.data,
			       "message id reused with different content", hd->exercise);
		}
		free(old);
		free(oldrc);
		return;
	}
	uint64_t last = last_sequence(c, hd->sender);
	if (last == UINT64_MAX) { /* unreadable now: nothing is taken or refused */
		emit_error(c, j->member, j->gen, IRNET__ERROR_CODE__ERR_STORAGE, hd->message_id.data,
			   "broker cannot store now; retry later", hd->exercise);
		return;
	}
	if (hd->sequence <= last) {
		char d[96];
		snprintf(d, sizeof d, "sequence %llu is not above the last used %llu",
			 (unsigned long long)hd->sequence, (unsigned long long)last);
		refuse(c, j, IRNET__ERROR_CODE__ERR_REPLAY, hd->message_id.data, d, hd->exercise);
		return;
	}
	if (hd->sequence > last + 1) {
		/* transient: the author resends from the missing one */
		emit_error(c, j->member, j->gen, IRNET__ERROR_CODE__ERR_SEQUENCE_GAP, hd->message_id.data,
			   "an earlier message is missing; resend in order", hd->exercise);
		return;
	}
	uint64_t expected = 0;
	if (hd->sequence != last + 1) { /* not reached: gaps are refused above (kept for relays) */
		expected = last + 1;
		log_warn(_("%s skipped sequence numbers: got %llu, expected %llu (reported to it)"),
			 hd->sender, (unsigned long long)hd->sequence, (unsigned long long)last + 1);
	}
	uint64_t seq = hd->sequence, idx = 0;
	bool exercise = hd->exercise;
	unsigned kind = hd->kind;
	uint8_t msgid[IRN_MSGID_LEN];
	memcpy(msgid, hd->message_id.data, IRN_MSGID_LEN);
	char sender[IRN_MAX_ID + 1];
	snprintf(sender, sizeof sender, "%s", hd->sender);
	/* for the routing index, while hd lives */
	uint32_t roles = 0;
	for (size_t i = 0; i < hd->n_to_roles; i++)
		roles |= IRN_ROLE_BIT(hd->to_roles[i]);
	char *members = join_members(hd);
	/* held for the batch: j gives its envelope and message away (hd dies) */
	irn_err e = members ? receipts_add(&c->rb, c->h->ledger, j, irn_now_ms(), c->h->roster,
					   expected, &idx)
			    : IRN_ERR_NOMEM;
	if (e != IRN_OK)
		free(members);
	if (e != IRN_OK) {
		log_error(_("cannot append to the ledger: %s"), irn_strerror(e));
		emit_error(c, j->member, j->gen, IRNET__ERROR_CODE__ERR_STORAGE, msgid,
			   "broker cannot store now; retry later", exercise);
		return;
	}
	e = use_sequence(c, sender, seq);
	if (e == IRN_OK)
		note_pending(c, idx, sender, roles, members); /* indexed once committed */
	free(members);
	if (e != IRN_OK) {
		log_error(_("cannot append to the ledger: %s"), irn_strerror(e));
		fail_batch(c); /* this message too: it is held in the batch */
		return;
	}
	c->accepted++;
	irn_crash_point("broker-mid-batch");
	log_debug("accepted %s #%llu from %s (%s) at ledger %llu", irn_kind_name(kind),
		  (unsigned long long)seq, sender, exercise ? "EXERCISE" : "real",
		  (unsigned long long)idx);
}

/* ---- delivery ---- */

static bool
addressed(const char *to_members, uint32_t to_roles, const irn_member *m)
{
	if (to_roles & m->roles)
		return true;
	if (to_members == NULL)
		return false;
	size_t l = strlen(m->id);
	for (const char *p = strstr(to_members, m->id); p; p = strstr(p + 1, m->id))
		if (p[-1] == '\n' && p[l] == '\n')
			return true;
	return false;
}

static bool
grow_array(void **v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 64;
	while (nc < need)
		nc *= 2;
	void *n = realloc(*v, nc * size);
	if (n == NULL)
		return false;
	*v = n;
	*cap = nc;
	return true;
}

/* A session to pump after this round's commit. */
static void
mark_dirty(committer *c, csess *s)
{
	if (s->dirty || !grow_array((void **)&c->dirty, &c->cap_dirty, c->n_dirty + 1, sizeof *c->dirty))
		return;
	s->dirty = true;
	c->dirty[c->n_dirty++] = s;
}

static void
rent_free(rent *e)
{
	free(e->sender);
	free(e->members);
}

/* handle_submit: a message appended in the open transaction. If it cannot
 * be noted (no memory), it cannot be routed either: after the commit every
 * live session falls back to its cursor (deliver()). */
static void
note_pending(committer *c, uint64_t idx, const char *sender, uint32_t roles, const char *members)
{
	if (!grow_array((void **)&c->pend, &c->cap_pend, c->n_pend + 1, sizeof *c->pend)) {
		c->pend_lost = true;
		return;
	}
	rent e = { .idx = idx, .roles = roles, .sender = strdup(sender),
		   .members = strdup(members ? members : "\n") };
	if (e.sender == NULL || e.members == NULL) {
		rent_free(&e);
		e.sender = e.members = NULL; /* not indexed: see deliver() */
	}
	c->pend[c->n_pend++] = e;
}

static void
drop_pending(committer *c)
{
	for (size_t i = 0; i < c->n_pend; i++)
		rent_free(&c->pend[i]);
	c->n_pend = 0;
	c->pend_lost = false;
}

static rent *
recent_at(committer *c, size_t i)
{
	return &c->recent[(c->r_start + i) % RECENT_MAX];
}

/* First position in recent with an index above `after`. */
static size_t
recent_after(committer *c, uint64_t after)
{
	size_t lo = 0, hi = c->r_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (recent_at(c, mid)->idx <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t
role_key(char *k, unsigned bit)
{
	k[0] = 1;
	k[1] = (char)bit;
	return 2;
}

static size_t
member_key(char *k, const char *id, size_t l)
{
	k[0] = 2;
	memcpy(k + 1, id, l);
	return l + 1;
}

/* Drop what fell out of recent from the front of a list. */
static void
klist_trim(committer *c, klist *L)
{
	while (L->n > 0 && L->v[L->h] < c->r_floor) {
		L->h++;
		L->n--;
	}
	if (L->n == 0)
		L->h = 0;
}

static void
klist_push(committer *c, const char *key, size_t klen, uint64_t idx)
{
	klist *L = hmap_get(&c->by_key, key, klen);
	if (L == NULL) {
		L = calloc(1, sizeof *L);
		if (L == NULL || !hmap_put(&c->by_key, key, klen, L)) {
			free(L);
			c->r_floor = idx + 1; /* the index is incomplete below the next */
			return;
		}
	}
	klist_trim(c, L);
	if (L->h + L->n == L->cap) {
		if (L->h > 0 && L->h >= L->n) {
			memmove(L->v, L->v + L->h, L->n * sizeof *L->v);
			L->h = 0;
		} else if (!grow_array((void **)&L->v, &L->cap, L->h + L->n + 1, sizeof *L->v)) {
			c->r_floor = idx + 1;
			return;
		}
	}
	L->v[L->h + L->n++] = idx;
}

/* Index a message by every key it addresses. */
static void
klist_add(committer *c, const rent *e)
{
	char k[IRN_MAX_ID + 2];
	for (unsigned b = 0; b < N_ROLE_BITS; b++)
		if (e->roles & (1u << b))
			klist_push(c, k, role_key(k, b), e->idx);
	for (const char *p = e->members; p && *p;) {
		const char *q = strchr(p + 1, '\n');
		if (q == NULL)
			break;
		size_t l = (size_t)(q - p - 1);
		if (l > 0 && l <= IRN_MAX_ID)
			klist_push(c, k, member_key(k, p + 1, l), e->idx);
		p = q;
	}
	if (++c->pushes >= RECENT_MAX) { /* now and then: lists no longer pushed to */
		c->pushes = 0;
		for (size_t i = 0; i < c->by_key.nb; i++)
			for (hmap_node *n = c->by_key.b[i]; n; n = hmap_node_next(n))
				klist_trim(c, hmap_node_val(n));
	}
}

static void
recent_push(committer *c, rent *e)
{
	if (c->recent == NULL)
		c->recent = calloc(RECENT_MAX, sizeof *c->recent);
	if (c->recent == NULL || e->sender == NULL) { /* index incomplete below the next */
		rent_free(e);
		for (size_t i = 0; i < c->r_n; i++)
			rent_free(recent_at(c, i));
		c->r_n = c->r_start = 0;
		c->r_floor = e->idx + 1;
		return;
	}
	if (c->r_n == RECENT_MAX) {
		rent *old = recent_at(c, 0);
		if (c->r_floor < old->idx + 1)
			c->r_floor = old->idx + 1;
		rent_free(old);
		c->r_start = (c->r_start + 1) % RECENT_MAX;
		c->r_n--;
	}
	*recent_at(c, c->r_n++) = *e;
	klist_add(c, e);
}

static rent *
recent_find(committer *c, uint64_t idx)
{
	size_t i = recent_after(c, idx - 1);
	return i < c->r_n && recent_at(c, i)->idx == idx ? recent_at(c, i) : NULL;
}

/* Catch up over the recipient lists of s (its role bits, its id): only the
 * indexes addressed to it are visited. */
static int
catch_up_mem(committer *c, csess *s, const irn_member *mem, uint64_t head)
{
	klist *L[N_ROLE_BITS + 1];
	size_t pos[N_ROLE_BITS + 1];
	int nl = 0;
	char k[IRN_MAX_ID + 2];
	for (unsigned b = 0; b <= N_ROLE_BITS; b++) {
		klist *l;
		if (b < N_ROLE_BITS)
			l = (mem->roles & (1u << b)) ? hmap_get(&c->by_key, k, role_key(k, b)) : NULL;
		else
			l = hmap_get(&c->by_key, k, member_key(k, s->member, strlen(s->member)));
		if (l == NULL || l->n == 0)
			continue;
		size_t lo = l->h, hi = l->h + l->n; /* first index above scan_upto */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (l->v[mid] <= s->scan_upto)
				lo = mid + 1;
			else
				hi = mid;
		}
		L[nl] = l;
		pos[nl++] = lo;
	}
	while (s->in_flight < s->wcap) {
		uint64_t next = UINT64_MAX;
		for (int i = 0; i < nl; i++)
			if (pos[i] < L[i]->h + L[i]->n && L[i]->v[pos[i]] < next)
				next = L[i]->v[pos[i]];
		if (next == UINT64_MAX) {
			s->scan_upto = head;
			return 0;
		}
		for (int i = 0; i < nl; i++)
			if (pos[i] < L[i]->h + L[i]->n && L[i]->v[pos[i]] == next)
				pos[i]++;
		const rent *e = recent_find(c, next);
		if (e && strcmp(e->sender, s->member) != 0 && send_one(c, s, next) < 0)
			return -1;
		s->scan_upto = next;
	}
	return 0;
}

/* At start: the routing index gets the last RECENT_MAX messages of the
 * ledger, so that members reconnecting after a restart catch up from
 * memory, over only what is addressed to them. */
static void
recent_load(committer *c)
{
	uint64_t head;
	irn_ledger_head(c->h->ledger, &head, NULL);
	c->r_floor = head + 1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(c->h->ledger),
			       "SELECT idx, sender, to_roles, to_members FROM (SELECT idx, sender,"
			       " to_roles, to_members FROM ledger WHERE type = 2 ORDER BY idx DESC"
			       " LIMIT " IRN_STR(RECENT_MAX) ") ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
		return;
	size_t n = 0;
	uint64_t first = 0;
	c->r_floor = 0; /* while loading: a failure raises it (klist_trim keeps all) */
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *snd = (const char *)sqlite3_column_text(st, 1);
		const char *mem = (const char *)sqlite3_column_text(st, 3);
		rent e = { .idx = (uint64_t)sqlite3_column_int64(st, 0),
			   .roles = (uint32_t)sqlite3_column_int64(st, 2),
			   .sender = snd ? strdup(snd) : NULL, .members = strdup(mem ? mem : "\n") };
		if (e.members == NULL) {
			free(e.sender);
			e.sender = NULL;
		}
		if (n++ == 0)
			first = e.idx;
		recent_push(c, &e);
	}
	sqlite3_finalize(st);
	uint64_t floor = n == RECENT_MAX ? first : 1;
	if (c->r_floor < floor) /* else something was dropped on the way */
		c->r_floor = floor;
	if (rc != SQLITE_DONE)
		c->r_floor = head + 1; /* a read error: trust only what comes next */
	log_info("routing index: %zu recent messages (from ledger index %llu)", c->r_n,
		 (unsigned long long)c->r_floor);
}

/* Leave live routing: the cursor takes over from the last delivery (every
 * addressed index up to it was sent; the queue held only later ones). */
static void
go_behind(csess *s)
{
	s->live = false;
	s->scan_upto = s->last_sent;
	s->qh = s->qn = 0;
}

static bool
role_add(committer *c, unsigned bit, csess *s)
{
	if (c->n_role[bit] == c->cap_role[bit]) { /* drop stale references first */
		size_t k = 0;
		for (size_t i = 0; i < c->n_role[bit]; i++) {
			role_ref r = c->by_role[bit][i];
			if (r.s->live && r.epoch == r.s->live_epoch)
				c->by_role[bit][k++] = r;
		}
		c->n_role[bit] = k;
	}
	if (!grow_array((void **)&c->by_role[bit], &c->cap_role[bit], c->n_role[bit] + 1,
			sizeof(role_ref)))
		return false;
	c->by_role[bit][c->n_role[bit]++] = (role_ref){ s, s->live_epoch };
	return true;
}

static void
go_live(committer *c, csess *s, const irn_member *mem)
{
	s->live = true;
	s->live_epoch++;
	s->roles = mem->roles;
	s->last_routed = 0;
	s->qh = s->qn = 0;
	for (unsigned b = 0; b < N_ROLE_BITS; b++)
		if ((s->roles & (1u << b)) && !role_add(c, b, s)) {
			s->live = false; /* its references are stale now */
			return;
		}
}

static void
enqueue(committer *c, csess *s, const rent *e)
{
	if (!s->live || s->last_routed == e->idx || !strcmp(s->member, e->sender))
		return;
	s->last_routed = e->idx;
	if (s->qn == QUEUE_MAX) { /* far behind: its cursor catches up instead */
		go_behind(s);
		mark_dirty(c, s);
		return;
	}
	if (s->qh + s->qn == s->qcap) {
		if (s->qh > 0) {
			memmove(s->q, s->q + s->qh, s->qn * sizeof *s->q);
			s->qh = 0;
		} else if (!grow_array((void **)&s->q, &s->qcap, s->qn + 1, sizeof *s->q)) {
			go_behind(s);
			mark_dirty(c, s);
			return;
		}
	}
	s->q[s->qh + s->qn++] = e->idx;
	mark_dirty(c, s);
}

/* A committed message goes to the queue of each live session it addresses. */
static void
route(committer *c, const rent *e)
{
	for (unsigned b = 0; b < N_ROLE_BITS; b++) {
		if (!(e->roles & (1u << b)))
			continue;
		size_t k = 0;
		for (size_t i = 0; i < c->n_role[b]; i++) {
			role_ref r = c->by_role[b][i];
			if (!r.s->live || r.epoch != r.s->live_epoch)
				continue; /* stale: dropped */
			c->by_role[b][k++] = r;
			enqueue(c, r.s, e);
		}
		c->n_role[b] = k;
	}
	for (const char *p = e->members; p && *p;) {
		const char *q = strchr(p + 1, '\n');
		if (q == NULL)
			break;
		size_t l = (size_t)(q - p - 1);
		csess *s = l ? hmap_get(&c->by_member, p + 1, l) : NULL;
		if (s)
			enqueue(c, s, e);
		p = q;
	}
}

/* Send ledger entry idx to s. 0 sent, 1 nothing to send there, -1 error. */
static int
send_one(committer *c, csess *s, uint64_t idx)
{
	static const char q[] = "SELECT data, receipt FROM ledger WHERE idx = ? AND type = 2";
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)idx);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 1 : -1;
	}
	Irnet__Packet p = IRNET__PACKET__INIT;
	Irnet__Deliver d = IRNET__DELIVER__INIT;
	d.ledger_index = idx;
	d.prev_index = s->last_sent;
	d.envelope.data = (uint8_t *)sqlite3_column_blob(st, 0);
	d.envelope.len = (size_t)sqlite3_column_bytes(st, 0);
	d.receipt.data = (uint8_t *)sqlite3_column_blob(st, 1);
	d.receipt.len = (size_t)sqlite3_column_bytes(st, 1);
	p.p_case = IRNET__PACKET__P_DELIVER;
	p.deliver = &d;
	size_t pl;
	uint8_t *pb = packet_pack(&p, &pl);
	sqlite3_reset(st);
	if (pb == NULL)
		return -1;
	emit(c, s->member, s->gen, pb, pl, false);
	s->last_sent = idx;
	unsigned slot = (s->ring_head + s->in_flight) % s->wcap;
	s->ring[slot] = idx;
	s->ring_ms[slot] = irn_now_ms();
	s->in_flight++;
	return 0;
}

/* Catch up from SQL on what is older than the routing index. */
static void
scan_sql(committer *c, csess *s, const irn_member *mem)
{
	static const char q[] = "SELECT idx, sender, to_roles, to_members FROM ledger"
				" WHERE type = 2 AND idx > ? AND idx < ? ORDER BY idx LIMIT 256";
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q);
	if (st == NULL)
		return;
	c->sql_scans++;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)s->scan_upto);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->r_floor);
	int rows = 0, rc;
	while (s->in_flight < s->wcap && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows++;
		uint64_t idx = (uint64_t)sqlite3_column_int64(st, 0);
		const char *sender = (const char *)sqlite3_column_text(st, 1);
		if (sender && strcmp(sender, s->member) != 0 &&
		    addressed((const char *)sqlite3_column_text(st, 3),
			      (uint32_t)sqlite3_column_int64(st, 2), mem) && send_one(c, s, idx) < 0)
			break;
		s->scan_upto = idx;
	}
	if (rows == 0 && rc == SQLITE_DONE)
		s->scan_upto = c->r_floor - 1;
	sqlite3_reset(st);
}

static void
pump(committer *c, csess *s)
{
	const irn_member *mem = irn_roster_find(c->h->roster, s->member);
	if (!s->ready || mem == NULL || !irn_member_current(mem, irn_now_ms()))
		return;
	if (s->live) {
		while (s->in_flight < s->wcap && s->qn > 0) {
			if (send_one(c, s, s->q[s->qh]) < 0)
				return; /* stays queued: tried again at the next pump */
			s->qh++;
			if (--s->qn == 0)
				s->qh = 0;
		}
		return;
	}
	uint64_t head;
	irn_ledger_head(c->h->ledger, &head, NULL);
	while (s->in_flight < s->wcap && s->scan_upto < head) {
		uint64_t before = s->scan_upto;
		if (s->scan_upto + 1 < c->r_floor) {
			scan_sql(c, s, mem);
		} else if (catch_up_mem(c, s, mem, head) < 0) {
			return;
		}
		if (s->scan_upto == before && s->in_flight < s->wcap)
			return; /* a storage error: tried again at the next pump */
	}
	if (s->scan_upto >= head)
		go_live(c, s, mem);
}

/* After the commit: index and route the batch, then pump only the sessions
 * that have something new (routed messages, an acknowledgement, a Hello). */
static void
deliver(committer *c)
{
	bool unrouted = c->pend_lost;
	for (size_t i = 0; i < c->n_pend; i++) {
		if (c->pend[i].sender)
			route(c, &c->pend[i]);
		else
			unrouted = true;
		recent_push(c, &c->pend[i]);
	}
	c->n_pend = 0;
	if (c->pend_lost) { /* the index misses a message: below the head, SQL only */
		uint64_t head;
		irn_ledger_head(c->h->ledger, &head, NULL);
		if (c->r_floor < head + 1)
			c->r_floor = head + 1;
		c->pend_lost = false;
	}
	if (unrouted || c->h->roster->version != c->roster_version) {
		/* a message was not routed, or roles may have changed: every
		 * session catches up with its cursor */
		c->roster_version = c->h->roster->version;
		for (csess *s = c->sessions; s; s = s->next)
			if (s->ready) {
				if (s->live)
					go_behind(s);
				mark_dirty(c, s);
			}
	}
	for (size_t i = 0; i < c->n_dirty; i++) {
		csess *s = c->dirty[i];
		s->dirty = false;
		pump(c, s);
	}
	c->n_dirty = 0;
}

static void
flush(committer *c)
{
	irn_err e = IRN_OK;
	if (c->in_tx && c->rb.n) { /* one signed root for the batch, then its rows */
		e = receipts_seal(&c->rb, c->sh, hold_cb, c);
		if (e != IRN_OK) {
			log_error(_("cannot seal the batch's receipts: %s"), irn_strerror(e));
			fail_batch(c);
			return;
		}
	}
	if (c->in_tx) {
		e = seq_write(c);
		if (e == IRN_OK)
			e = irn_meta_set_int(c->h->ledger, "self_seq",
					     (int64_t)atomic_load(&c->sh->self_seq));
		if (e == IRN_OK)
			e = irn_ledger_commit(c->h->ledger); /* synchronous=FULL: fsynced */
		else
			irn_ledger_rollback(c->h->ledger);
		c->in_tx = false;
		if (e == IRN_OK)
			seq_clean(c);
		else
			seq_forget(c); /* a failed COMMIT rolls back too */
		if (e == IRN_OK)
			irn_crash_point("broker-after-commit");
		else
			log_error(_("ledger commit failed: %s; %zu replies withheld"), irn_strerror(e),
				  c->n_out);
	}
	for (size_t i = 0; i < c->n_out; i++) {
		job *o = c->out[i];
		if (e == IRN_OK) {
			job_send(c->cx->to_io, o);
		} else {
			emit_error(c, o->member, o->gen, IRNET__ERROR_CODE__ERR_STORAGE, NULL,
				   "broker cannot store now; retry later", false);
			job_free(o);
		}
	}
	c->n_out = 0;
	if (e == IRN_OK)
		deliver(c);
	else
		drop_pending(c); /* those rows are not in the ledger */
}

static void
handle_hello(committer *c, job *j)
{
	const Irnet__Hello *hl = j->pkt->hello;
	csess *s = sess_get(c, j->member, true);
	if (s == NULL)
		return;
	s->gen = j->gen;
	s->ready = true;
	s->live = false;
	s->qh = s->qn = 0;
	s->scan_upto = s->last_sent = s->acked = hl->delivered_upto;
	s->in_flight = 0;
	s->ring_head = 0;
	mark_dirty(c, s);
	Irnet__Welcome w = IRNET__WELCOME__INIT;
	w.roster_version = c->h->roster->version;
	w.has_roster_hash = true;
	w.roster_hash.data = c->h->roster->hash;
	w.roster_hash.len = IRN_HASH_LEN;
	w.broker_time_ms = irn_now_ms();
	uint64_t last = last_sequence(c, j->member);
	w.last_sequence = last == UINT64_MAX ? 0 : last; /* unreadable: the node keeps its own */
	if (hl->roster_version < c->h->roster->version) {
		w.has_roster = true;
		w.roster.data = c->h->roster->bytes;
		w.roster.len = c->h->roster->len;
	}
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_WELCOME;
	p.welcome = &w;
	size_t pl;
	uint8_t *pb = packet_pack(&p, &pl);
	if (pb)
		emit(c, j->member, j->gen, pb, pl, false);
	log_info("%s connected (roster %llu, delivered up to %llu)", j->member,
		 (unsigned long long)hl->roster_version, (unsigned long long)hl->delivered_upto);
	/* deliveries start in flush(), after this round's commit: a delivery
	 * never carries a row that is not yet durable */
}

static uint64_t
ack_max_logged(committer *c, const char *member)
{
	static const char q[] = "SELECT max(upto) FROM ack_log WHERE member = ?";
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q);
	uint64_t v = 0;
	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* Bound a member's acknowledgement history to ACK_KEEP rows: the older ones
 * fold into the oldest row kept (their messages then show that row's, later,
 * acknowledgement time). */
static void
prune_acks(committer *c, const char *member)
{
	static const char q1[] = "SELECT upto FROM ack_log WHERE member = ? ORDER BY upto DESC"
				 " LIMIT 1 OFFSET " IRN_STR(ACK_KEEP);
	static const char q2[] = "DELETE FROM ack_log WHERE member = ? AND upto < ?";
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q1);
	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
	bool have = sqlite3_step(st) == SQLITE_ROW;
	int64_t cut = have ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (!have || (st = irn_ledger_cached(c->h->ledger, q2)) == NULL)
		return;
	sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, cut);
	sqlite3_step(st);
	sqlite3_reset(st);
}

/* Write the pending acknowledgements into the open transaction. */
static void
write_acks(committer *c)
{
	static const char q[] = "INSERT INTO ack_log(member, upto, time_ms) VALUES(?,?,?)";
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q);
	for (size_t i = 0; st && i < c->n_acks; i++) {
		const pending_ack *a = &c->acks[i];
		sqlite3_bind_text(st, 1, a->member, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)a->upto);
		sqlite3_bind_int64(st, 3, a->at_ms);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_warn("ack_log: %s", sqlite3_errmsg(irn_ledger_db(c->h->ledger)));
		sqlite3_reset(st);
		csess *s = sess_get(c, a->member, false);
		if (s && ++s->ack_rows >= ACK_KEEP / 4) {
			s->ack_rows = 0;
			prune_acks(c, a->member);
		}
	}
	c->n_acks = 0;
	c->acks_written_ms = irn_now_ms();
}

static void
handle_ack(committer *c, job *j)
{
	csess *s = sess_get(c, j->member, false);
	uint64_t upto = j->pkt->ack->upto;
	if (s == NULL || s->gen != j->gen || upto > s->last_sent || upto < s->acked)
		return; /* acknowledges nothing we sent on this session */
	s->acked = upto;
	while (s->in_flight > 0 && s->ring[s->ring_head] <= upto) {
		s->ring_head = (s->ring_head + 1) % s->wcap;
		s->in_flight--;
	}
	mark_dirty(c, s); /* the window reopens: pumped after this round */
	/* Remember when each member first acknowledged each index, for
	 * delivery status; written with the next transaction, not in one of
	 * its own (no fsync per acknowledgement). */
	if (s->ack_logged == UINT64_MAX) {
		s->ack_logged = ack_max_logged(c, j->member);
		s->ack_rows = ACK_KEEP / 4 - 1; /* prune at its first write */
	}
	if (upto <= s->ack_logged ||
	    !grow_array((void **)&c->acks, &c->cap_acks, c->n_acks + 1, sizeof *c->acks))
		return;
	s->ack_logged = upto;
	pending_ack *a = &c->acks[c->n_acks++];
	snprintf(a->member, sizeof a->member, "%s", j->member);
	a->upto = upto;
	a->at_ms = j->at_ms;
}

/* The last 200 security events, for coordinators. */
static void
answer_events(committer *c, job *j, Irnet__Answer *a, const irn_member *asker)
{
	Irnet__SecurityEvent ev[200], *evp[200];
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	if (asker == NULL || !irn_member_has_role(asker, IRNET__ROLE__ROLE_COORDINATOR)) {
		a->status = IRNET__ERROR_CODE__ERR_NOT_ALLOWED;
	} else if (sqlite3_prepare_v2(irn_ledger_db(c->h->ledger),
				      "SELECT time_ms, member, reason, detail FROM (SELECT * FROM"
				      " security_events ORDER BY id DESC LIMIT 200) ORDER BY id", -1,
				      &st, NULL) == SQLITE_OK) {
		while (n < 200 && sqlite3_step(st) == SQLITE_ROW) {
			irnet__security_event__init(&ev[n]);
			ev[n].time_ms = sqlite3_column_int64(st, 0);
			/* column pointers die at the next step: copy */
			const char *mem = (const char *)sqlite3_column_text(st, 1);
			const char *det = (const char *)sqlite3_column_text(st, 3);
			ev[n].member = mem ? strdup(mem) : NULL;
			ev[n].reason = strdup((const char *)sqlite3_column_text(st, 2));
			ev[n].detail = det ? strdup(det) : NULL;
			evp[n] = &ev[n];
			n++;
		}
		a->events = evp;
		a->n_events = n;
	}
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_ANSWER;
	p.answer = a;
	size_t pl;
	uint8_t *pb = packet_pack(&p, &pl);
	if (st)
		sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		free(ev[i].member);
		free(ev[i].reason);
		free(ev[i].detail);
	}
	if (pb)
		emit(c, j->member, j->gen, pb, pl, false);
}

/* What the broker holds of the asker's own history, for `irnet-node ledger
 * audit`: its newest checkpoints (as accepted, exact bytes), the last
 * sequence taken from it, and the highest index it acknowledged. A node
 * whose ledger was cut short or rewritten (even with its own key, even with
 * the checkpoint entries removed) disagrees with this. Only about oneself. */
static void
answer_audit(committer *c, job *j, Irnet__Answer *a)
{
	ProtobufCBinaryData cp[64];
	size_t n = 0;
	sqlite3 *db = irn_ledger_db(c->h->ledger);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT data FROM (SELECT idx, data FROM ledger WHERE type = 2"
			       " AND sender = ? AND kind = ? ORDER BY idx DESC LIMIT 64) ORDER BY idx",
			       -1, &st, NULL) != SQLITE_OK) {
		a->status = IRNET__ERROR_CODE__ERR_STORAGE;
	} else {
		sqlite3_bind_text(st, 1, j->member, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, IRNET__KIND__KIND_CHECKPOINT);
		while (n < 64 && sqlite3_step(st) == SQLITE_ROW) {
			cp[n].len = (size_t)sqlite3_column_bytes(st, 0);
			cp[n].data = malloc(cp[n].len ? cp[n].len : 1);
			if (cp[n].data == NULL)
				break;
			memcpy(cp[n].data, sqlite3_column_blob(st, 0), cp[n].len);
			n++;
		}
		sqlite3_finalize(st);
		a->checkpoints = cp;
		a->n_checkpoints = n;
		uint64_t last = last_sequence(c, j->member);
		if (last == UINT64_MAX)
			a->status = IRNET__ERROR_CODE__ERR_STORAGE;
		a->has_last_sequence = last != UINT64_MAX;
		a->last_sequence = last != UINT64_MAX ? last : 0;
		a->has_acked_upto = true;
		if (sqlite3_prepare_v2(db, "SELECT max(upto) FROM ack_log WHERE member = ?", -1, &st,
				       NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, j->member, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				a->acked_upto = (uint64_t)sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_ANSWER;
	p.answer = a;
	size_t pl;
	uint8_t *pb = packet_pack(&p, &pl);
	for (size_t i = 0; i < n; i++)
		free(cp[i].data);
	if (pb)
		emit(c, j->member, j->gen, pb, pl, false);
}

/* Delivery status of one message: per recipient, accepted / delivered /
 * acknowledged, with times. Only its author or a coordinator may ask. */
static void
handle_query(committer *c, job *j)
{
	const Irnet__Query *q = j->pkt->query;
	Irnet__Answer a = IRNET__ANSWER__INIT;
	a.nonce = q->nonce;
	a.broker_time_ms = irn_now_ms();
	const irn_member *asker = irn_roster_find(c->h->roster, j->member);
	Irnet__RecipientStatus *rs = NULL, **rsp = NULL;
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	if (q->what == IRNET__QUERY_WHAT__QUERY_EVENTS) {
		answer_events(c, j, &a, asker);
		return;
	}
	if (c->n_acks > 0 && begin(c)) /* the answer sees every acknowledgement */
		write_acks(c);
	if (q->what == IRNET__QUERY_WHAT__QUERY_AUDIT) {
		answer_audit(c, j, &a);
		return;
	}
	if (!q->has_message_id || q->message_id.len != IRN_MSGID_LEN || q->sender == NULL ||
	    asker == NULL ||
	    (strcmp(q->sender, j->member) != 0 &&
	     !irn_member_has_role(asker, IRNET__ROLE__ROLE_COORDINATOR))) {
		a.status = IRNET__ERROR_CODE__ERR_NOT_ALLOWED;
		goto send;
	}
	sqlite3 *db = irn_ledger_db(c->h->ledger);
	if (sqlite3_prepare_v2(db, "SELECT idx, accepted_ms, to_roles, to_members FROM ledger"
			       " WHERE type = 2 AND sender = ? AND message_id = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		a.status = IRNET__ERROR_CODE__ERR_STORAGE;
		goto send;
	}
	sqlite3_bind_text(st, 1, q->sender, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, q->message_id.data, IRN_MSGID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		a.status = IRNET__ERROR_CODE__ERR_BAD_RECIPIENT; /* no such message */
		goto send;
	}
	uint64_t idx = (uint64_t)sqlite3_column_int64(st, 0);
	a.has_ledger_index = a.has_accepted_ms = true;
	a.ledger_index = idx;
	a.accepted_ms = sqlite3_column_int64(st, 1);
	uint32_t roles = (uint32_t)sqlite3_column_int64(st, 2);
	const irn_roster *r = c->h->roster;
	rs = calloc(r->n_members ? r->n_members : 1, sizeof *rs);
	rsp = calloc(r->n_members ? r->n_members : 1, sizeof *rsp);
	sqlite3_stmt *ack = NULL;
	if (rs && rsp)
		sqlite3_prepare_v2(db, "SELECT min(time_ms) FROM ack_log WHERE member = ? AND upto >= ?",
				   -1, &ack, NULL);
	for (size_t i = 0; ack && i < r->n_members; i++) {
		const irn_member *m = &r->members[i];
		if (!strcmp(m->id, q->sender) ||
		    !addressed((const char *)sqlite3_column_text(st, 3), roles, m))
			continue;
		Irnet__RecipientStatus *x = &rs[n];
		irnet__recipient_status__init(x);
		x->member = (char *)m->id;
		x->state = IRNET__DELIVERY_STATE__DELIVERY_ACCEPTED;
		sqlite3_reset(ack);
		sqlite3_bind_text(ack, 1, m->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ack, 2, (sqlite3_int64)idx);
		if (sqlite3_step(ack) == SQLITE_ROW && sqlite3_column_type(ack, 0) != SQLITE_NULL) {
			x->state = IRNET__DELIVERY_STATE__DELIVERY_ACKNOWLEDGED;
			x->has_acked_ms = true;
			x->acked_ms = sqlite3_column_int64(ack, 0);
		} else {
			csess *s = sess_get(c, m->id, false);
			for (unsigned k = 0; s && k < s->in_flight; k++) {
				unsigned slot = (s->ring_head + k) % s->wcap;
				if (s->ring[slot] == idx) {
					x->state = IRNET__DELIVERY_STATE__DELIVERY_DELIVERED;
					x->has_delivered_ms = true;
					x->delivered_ms = s->ring_ms[slot];
				}
			}
		}
		rsp[n++] = x;
	}
	if (ack)
		sqlite3_finalize(ack);
	a.recipients = rsp;
	a.n_recipients = n;
send:;
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_ANSWER;
	p.answer = &a;
	size_t pl;
	uint8_t *pb = packet_pack(&p, &pl);
	if (st)
		sqlite3_finalize(st);
	free(rs);
	free(rsp);
	if (pb)
		emit(c, j->member, j->gen, pb, pl, false);
}

/* A job in its turn (the J_STOPs never get here: next_job counts them). */
static void
handle(committer *c, job *j)
{
	switch (j->type) {
	case J_SUBMIT: handle_submit(c, j); break;
	case J_HELLO: handle_hello(c, j); break;
	case J_ACK: handle_ack(c, j); break;
	case J_QUERY: handle_query(c, j); break;
	case J_SESSION_END: {
		csess *s = sess_get(c, j->member, false);
		if (s && s->gen == j->gen) {
			s->ready = s->live = false;
			s->qh = s->qn = 0;
		}
		break;
	}
	case J_EVENT:
		if (j->bytes && j->len >= 2)
			keep_event(c, j->member, (const char *)j->bytes,
				   (const char *)j->bytes + strlen((const char *)j->bytes) + 1);
		break;
	default: break;
	}
	job_free(j);
}

/* Pending acknowledgements go into the round's transaction if there is
 * one, else into one of their own at most once every ACK_WRITE_MS. */
static void
acks_due(committer *c, bool force)
{
	if (c->n_acks == 0 ||
	    !(force || c->in_tx || c->n_acks >= 4096 || irn_now_ms() - c->acks_written_ms >= ACK_WRITE_MS))
		return;
	if (begin(c))
		write_acks(c);
}

/* ---- the verify threads' jobs, back in order ---- */

static bool
ro_put(committer *c, job *j)
{
	if (j->vseq < c->ro_next) { /* cannot happen: io numbers each job once */
		log_error("verify job %llu arrived twice", (unsigned long long)j->vseq);
		job_free(j);
		return true;
	}
	if (j->vseq - c->ro_next >= c->ro_cap) {
		size_t nc = c->ro_cap ? c->ro_cap : 256;
		while (j->vseq - c->ro_next >= nc)
			nc *= 2;
		job **n = calloc(nc, sizeof *n);
		if (n == NULL)
			return false;
		for (size_t i = 0; i < c->ro_cap; i++)
			if (c->ro[i])
				n[c->ro[i]->vseq % nc] = c->ro[i];
		free(c->ro);
		c->ro = n;
		c->ro_cap = nc;
	}
	c->ro[j->vseq % c->ro_cap] = j;
	c->ro_n++;
	return true;
}

static bool
ro_ready(const committer *c)
{
	return c->ro_n && c->ro[c->ro_next % c->ro_cap];
}

/* The next job in io's order, if it has arrived; NULL otherwise. */
static job *
ro_take(committer *c)
{
	for (;;) {
		if (ro_ready(c)) {
			job **slot = &c->ro[c->ro_next % c->ro_cap];
			job *j = *slot;
			*slot = NULL;
			c->ro_n--;
			c->ro_next++;
			return j;
		}
		job *j = job_recv(c->cx->from_verify, ZMQ_DONTWAIT);
		if (j == NULL)
			return NULL;
		if (!ro_put(c, j)) { /* out of memory: take it as it comes */
			log_error(_("out of memory"));
			return j;
		}
	}
}

/* Checked submissions wait in one queue per member and are taken into a
 * batch one member at a time, in turn: when the commit thread is the slowest
 * stage, one member's backlog (a flood within its rate) does not sit in front
 * of the others' messages, as io's fair queue ensures in front of the verify
 * threads. Each member's own order is kept. */
static void
cq_rr_append(committer *c, csess *s)
{
	s->cq_next = NULL;
	if (c->cq_rr_tail)
		c->cq_rr_tail->cq_next = s;
	else
		c->cq_rr_head = s;
	c->cq_rr_tail = s;
}

static bool
cq_push(committer *c, job *j)
{
	csess *s = sess_get(c, j->member, true);
	if (s == NULL)
		return false;
	j->next = NULL;
	if (s->cq_tail)
		s->cq_tail->next = j;
	else
		s->cq_head = j;
	s->cq_tail = j;
	if (!s->cq_in_rr) {
		s->cq_in_rr = true;
		c->cq_rr_n++;
		cq_rr_append(c, s);
	}
	c->cq_n++;
	return true;
}

/* The next member's next job in turn; a member that has had cap jobs in
 * this round waits for the next one (NULL when every waiting member has). */
static job *
cq_pop(committer *c, unsigned cap)
{
	for (size_t k = 0, n = c->cq_rr_n; k < n; k++) {
		csess *s = c->cq_rr_head;
		if (s == NULL)
			return NULL;
		c->cq_rr_head = s->cq_next;
		if (c->cq_rr_head == NULL)
			c->cq_rr_tail = NULL;
		if (s->cq_round != c->round_id) {
			s->cq_round = c->round_id;
			s->cq_taken = 0;
		}
		if (s->cq_taken >= cap) { /* its turn passes */
			cq_rr_append(c, s);
			continue;
		}
		job *j = s->cq_head;
		s->cq_head = j->next;
		if (s->cq_head == NULL)
			s->cq_tail = NULL;
		j->next = NULL;
		if (s->cq_taken++ == 0)
			c->round_members++;
		if (s->cq_head) { /* back in line behind the others */
			cq_rr_append(c, s);
		} else {
			s->cq_in_rr = false;
			c->cq_rr_n--;
		}
		c->cq_n--;
		return j;
	}
	return NULL;
}

/* The next job for this round: io's control jobs first, then a checked
 * submission in turn. Everything the verify threads have passed on is first
 * put back in io's order and sorted into the member queues. */
static job *
next_job(committer *c)
{
	job *j = job_recv(c->cx->from_io, ZMQ_DONTWAIT);
	if (j)
		return j;
	while ((j = ro_take(c)) != NULL) {
		if (j->type != J_SUBMIT) { /* J_STOP: one per verify thread */
			if (j->type == J_STOP)
				c->stops++;
			job_free(j);
			continue;
		}
		if (!cq_push(c, j)) { /* out of memory: take it now */
			log_error(_("out of memory"));
			break;
		}
	}
	if (j == NULL)
		j = cq_pop(c, c->round_members > 1 || c->prev_round_members > 1 ? ROUND_MEMBER_MAX
									  : UINT_MAX);
	if (j == NULL)
		return NULL;
	bool credit = atomic_fetch_sub(&c->sh->pipeline, 1) == PIPELINE_MAX / 2;
	if (j->inpipe && atomic_fetch_sub(j->inpipe, 1) == MEMBER_PIPE_MAX / 2)
		credit = true; /* a member that was at its cap may go on */
	if (credit)
		job_send(c->cx->credit, job_new(J_CREDIT, "", 0)); /* io feeds more */
	return j;
}

static double
mono_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* The ledger is busy while walckpt.c restarts the log (a few ms). SQLite's
 * own busy_timeout sleeps 1, 2, 5, 10 ... 100 ms between tries, which turned
 * each restart into a stall of up to ~100 ms for every member's messages:
 * try again every 100 µs instead, for 5 s at most (the same limit; then the
 * round fails as before and the authors are told to retry). */
static int
busy_wait(void *arg, int tries)
{
	double *since = arg;
	if (tries == 0)
		*since = mono_us();
	else if (mono_us() - *since > 5e6)
		return 0;
	struct timespec ts = { 0, 100000 };
	nanosleep(&ts, NULL);
	return 1;
}

/* After each commit: the log's size for the checkpointer thread. Without
 * that thread, checkpoint here as SQLite's autocheckpoint would (1000
 * frames); with it, only if the log is ever far too long (50 000 frames). */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	walckpt_ctx *w = arg;
	atomic_store(&w->wal_frames, frames);
	if (frames >= (atomic_load(&w->running) ? 50000 : 1000))
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

static int
float_cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* How long the last rounds took: taking jobs, and sealing + committing. */
static void
log_rounds(committer *c)
{
	size_t n = c->rounds < ROUND_SAMPLES ? (size_t)c->rounds : ROUND_SAMPLES;
	if (n == 0)
		return;
	qsort(c->take_us, n, sizeof c->take_us[0], float_cmp);
	qsort(c->flush_us, n, sizeof c->flush_us[0], float_cmp);
	log_info("commit rounds: %llu; of the last %zu, taking jobs p50 %.2f p99 %.2f max %.2f ms, "
		 "sealing and committing p50 %.2f p99 %.2f max %.2f ms",
		 (unsigned long long)c->rounds, n, c->take_us[n / 2] / 1e3, c->take_us[n * 99 / 100] / 1e3,
		 c->take_us[n - 1] / 1e3, c->flush_us[n / 2] / 1e3, c->flush_us[n * 99 / 100] / 1e3,
		 c->flush_us[n - 1] / 1e3);
}

void *
commit_main(void *arg)
{
	commit_ctx *cx = arg;
	committer c = { .cx = cx, .sh = cx->sh, .h = cx->sh->h };
	sqlite3_exec(irn_ledger_db(c.h->ledger),
		     "CREATE TABLE IF NOT EXISTS ack_log(member TEXT NOT NULL, upto INTEGER NOT NULL,"
		     " time_ms INTEGER NOT NULL);"
		     "CREATE INDEX IF NOT EXISTS ack_log_member ON ack_log(member, upto);"
		     "CREATE TABLE IF NOT EXISTS sequences(sender TEXT PRIMARY KEY, last INTEGER NOT NULL);"
		     "CREATE TABLE IF NOT EXISTS security_events(id INTEGER PRIMARY KEY,"
		     " time_ms INTEGER NOT NULL, member TEXT, reason TEXT NOT NULL, detail TEXT);",
		     NULL, NULL, NULL);
	/* walckpt.c checkpoints the WAL on its own thread (this hook tells it
	 * the log's size; it replaces SQLite's own autocheckpoint hook) */
	sqlite3_wal_hook(irn_ledger_db(c.h->ledger), wal_hook, c.sh->wal);
	static double busy_since; /* one commit thread */
	sqlite3_busy_handler(irn_ledger_db(c.h->ledger), busy_wait, &busy_since);
	/* 64 MiB of page cache: the index pages of a ledger of millions stay in
	 * memory (SQLite's default is 2 MiB) */
	sqlite3_exec(irn_ledger_db(c.h->ledger), "PRAGMA cache_size=-65536;", NULL, NULL, NULL);
	seq_import(&c);
	recent_load(&c);
	c.roster_version = c.h->roster->version;
	c.acks_written_ms = irn_now_ms();
	bool stop = false;
	int batch_max = cx->sh->o->batch_max;
	while (!stop) {
		zmq_pollitem_t items[] = { { cx->from_verify, 0, ZMQ_POLLIN, 0 },
					   { cx->from_io, 0, ZMQ_POLLIN, 0 } };
		if (zmq_poll(items, 2, ro_ready(&c) || c.cq_n ? 0 : 200) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			break;
		}
		/* Drain what is there (up to a batch), commit once, then reply. */
		/* A round ends at batch_max jobs or after ROUND_US of work: under a
		 * flood the batches would otherwise grow to batch_max, and a message
		 * arriving meanwhile waits for that whole round, then its own. */
		if (!c.seq_imported && !c.in_tx && irn_now_ms() - c.seq_import_ms >= 1000)
			seq_import(&c); /* it failed at start: once a second until it works */
		double r0 = mono_us();
		c.round_id++;
		if (c.round_members)
			c.prev_round_members = c.round_members;
		c.round_members = 0;
		for (int i = 0; i < batch_max; i++) {
			job *j = next_job(&c);
			if (j == NULL)
				break;
			handle(&c, j);
			if ((i & 7) == 7 && mono_us() - r0 > ROUND_US)
				break;
		}
		/* each verify thread passes a J_STOP on after its last job */
		stop = c.stops >= c.sh->n_verify && c.cq_n == 0;
		double r1 = mono_us();
		bool work = c.in_tx;
		acks_due(&c, stop);
		flush(&c);
		if (work) {
			c.take_us[c.rounds % ROUND_SAMPLES] = (float)(r1 - r0);
			c.flush_us[c.rounds % ROUND_SAMPLES] = (float)(mono_us() - r1);
			c.rounds++;
		}
		if (!c.in_tx) { /* roster imported by another process? */
			pthread_rwlock_wrlock(&c.sh->roster_lock);
			if (irn_home_sync_roster(c.h) != IRN_OK)
				log_error(_("cannot reload the roster from the ledger"));
			pthread_rwlock_unlock(&c.sh->roster_lock);
		}
	}
	acks_due(&c, true);
	flush(&c);
	log_info("broker ledger: %llu accepted, %llu refused; %llu catch-up reads from SQL",
		 (unsigned long long)c.accepted, (unsigned long long)c.refused,
		 (unsigned long long)c.sql_scans);
	log_rounds(&c);
	for (csess *s = c.sessions, *n; s; s = n) {
		n = s->next;
		free(s->ring);
		free(s->ring_ms);
		free(s->q);
		free(s);
	}
	receipts_abort(&c.rb, storage_error, &c); /* none: flush() sealed them */
	receipts_free(&c.rb);
	hmap_free(&c.by_member);
	drop_pending(&c);
	free(c.pend);
	for (size_t i = 0; c.recent && i < c.r_n; i++)
		rent_free(recent_at(&c, i));
	free(c.recent);
	for (size_t i = 0; i < c.by_key.nb; i++)
		for (hmap_node *n = c.by_key.b[i]; n; n = hmap_node_next(n)) {
			klist *l = hmap_node_val(n);
			free(l->v);
			free(l);
		}
	hmap_free(&c.by_key);
	seq_forget(&c);
	free(c.seq_dirty);
	for (unsigned b = 0; b < N_ROLE_BITS; b++)
		free(c.by_role[b]);
	for (size_t i = 0; i < c.ro_cap; i++)
		if (c.ro[i])
			job_free(c.ro[i]);
	for (job *j; (j = cq_pop(&c, UINT_MAX)) != NULL;)
		job_free(j);
	free(c.ro);
	free(c.dirty);
	free(c.acks);
	free(c.out);
	job_send(cx->to_io, job_new(J_STOP, "", 0));
	return NULL;
}
