/* commit.c - the commit thread: the only user of the broker's database.
 *
 * For each checked submission: duplicate (sender, id) -> sequence -> held
 * for the batch (receipts.c). Everything read in one round shares one
 * transaction (group commit); before COMMIT the batch is sealed: one signed
 * Merkle root, each message appended with its receipt (leaf, path, root).
 * Receipts leave only after COMMIT returned
 * (synchronous=FULL: the WAL is fsynced). Then the delivery pump: for each
 * member with a live session, a cursor over the ledger finds what is
 * addressed to it, up to a window of unacknowledged deliveries.
 */
#include "internal.h"
#include "receipts.h"
#include "authz.h"
#include "wire.h"
#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define MAX_WINDOW 1024

typedef struct csess {
	char member[IRN_MAX_ID + 1];
	uint64_t gen;
	bool ready;             /* Hello received on this generation */
	uint64_t scan_upto;     /* every index <= this was considered */
	uint64_t last_sent;     /* index of the last Deliver (prev_index of the next) */
	uint64_t acked;
	unsigned in_flight;     /* deliveries not yet acknowledged ... */
	uint64_t ring[MAX_WINDOW];    /* ... their indexes, oldest first */
	int64_t ring_ms[MAX_WINDOW];  /* ... and when they were sent */
	unsigned ring_head;
	struct csess *next;
} csess;

typedef struct committer {
	commit_ctx *cx;
	shared *sh;
	irn_home *h;
	csess *sessions;
	bool in_tx;
	job **out;              /* replies waiting for the commit */
	size_t n_out, cap_out;
	uint64_t accepted, refused;
	receipts rb;            /* accepted this round, sealed before COMMIT */
} committer;

static csess *
sess_get(committer *c, const char *member, bool create)
{
	for (csess *s = c->sessions; s; s = s->next)
		if (!strcmp(s->member, member))
			return s;
	if (!create)
		return NULL;
	csess *s = calloc(1, sizeof *s);
	if (s) {
		snprintf(s->member, sizeof s->member, "%s", member);
		s->next = c->sessions;
		c->sessions = s;
	}
	return s;
}

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

static void
emit_error(committer *c, const char *member, uint64_t gen, unsigned code, const uint8_t *msgid,
	   const char *detail, bool exercise)
{
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
	static const char q[] = "SELECT last FROM sequences WHERE sender = ?";
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q);
	uint64_t v = 0;
	sqlite3 *db = irn_ledger_db(c->h->ledger);
	if (st == NULL)
		return UINT64_MAX;
	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	bool have = sqlite3_step(st) == SQLITE_ROW;
	if (have)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (have)
		return v;
	/* a ledger from before the table: what it accepted */
	if (sqlite3_prepare_v2(db, "SELECT max(sequence) FROM ledger WHERE type = 2 AND sender = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return UINT64_MAX;
	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static irn_err
use_sequence(committer *c, const char *sender, uint64_t seq)
{
	static const char q[] = "INSERT OR REPLACE INTO sequences(sender, last) VALUES(?, ?)";
	sqlite3_stmt *st = irn_ledger_cached(c->h->ledger, q);
	if (st == NULL)
		return IRN_ERR_DB;
	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return irn_sqlite_err(rc);
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
	/* held for the batch: j gives its envelope and message away (hd dies) */
	irn_err e = receipts_add(&c->rb, c->h->ledger, j, irn_now_ms(), c->h->roster, expected, &idx);
	if (e != IRN_OK) {
		log_error(_("cannot append to the ledger: %s"), irn_strerror(e));
		emit_error(c, j->member, j->gen, IRNET__ERROR_CODE__ERR_STORAGE, msgid,
			   "broker cannot store now; retry later", exercise);
		return;
	}
	e = use_sequence(c, sender, seq);
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

static void
pump(committer *c, csess *s)
{
	const irn_member *mem = irn_roster_find(c->h->roster, s->member);
	if (!s->ready || mem == NULL || !irn_member_current(mem, irn_now_ms()))
		return;
	unsigned window = (unsigned)c->sh->o->window;
	if (window > MAX_WINDOW)
		window = MAX_WINDOW;
	uint64_t head;
	irn_ledger_head(c->h->ledger, &head, NULL);
	sqlite3_stmt *st;
	static const char q[] = "SELECT idx, sender, to_roles, to_members, data, receipt FROM ledger"
				" WHERE type = 2 AND idx > ? ORDER BY idx LIMIT 256";
	if (s->in_flight >= window || s->scan_upto >= head ||
	    (st = irn_ledger_cached(c->h->ledger, q)) == NULL)
		return;
	while (s->in_flight < window && s->scan_upto < head) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)s->scan_upto);
		int rows = 0;
		while (s->in_flight < window && sqlite3_step(st) == SQLITE_ROW) {
			rows++;
			uint64_t idx = (uint64_t)sqlite3_column_int64(st, 0);
			const char *sender = (const char *)sqlite3_column_text(st, 1);
			if (sender && strcmp(sender, s->member) != 0 &&
			    addressed((const char *)sqlite3_column_text(st, 3),
				      (uint32_t)sqlite3_column_int64(st, 2), mem)) {
				Irnet__Packet p = IRNET__PACKET__INIT;
				Irnet__Deliver d = IRNET__DELIVER__INIT;
				d.ledger_index = idx;
				d.prev_index = s->last_sent;
				d.envelope.data = (uint8_t *)sqlite3_column_blob(st, 4);
				d.envelope.len = (size_t)sqlite3_column_bytes(st, 4);
				d.receipt.data = (uint8_t *)sqlite3_column_blob(st, 5);
				d.receipt.len = (size_t)sqlite3_column_bytes(st, 5);
				p.p_case = IRNET__PACKET__P_DELIVER;
				p.deliver = &d;
				size_t pl;
				uint8_t *pb = packet_pack(&p, &pl);
				if (pb == NULL)
					break;
				emit(c, s->member, s->gen, pb, pl, false);
				s->last_sent = idx;
				unsigned slot = (s->ring_head + s->in_flight) % MAX_WINDOW;
				s->ring[slot] = idx;
				s->ring_ms[slot] = irn_now_ms();
				s->in_flight++;
			}
			s->scan_upto = idx;
		}
		if (rows == 0)
			s->scan_upto = head;
	}
	sqlite3_reset(st);
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
		e = irn_meta_set_int(c->h->ledger, "self_seq", (int64_t)atomic_load(&c->sh->self_seq));
		if (e == IRN_OK)
			e = irn_ledger_commit(c->h->ledger); /* synchronous=FULL: fsynced */
		else
			irn_ledger_rollback(c->h->ledger);
		c->in_tx = false;
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
		for (csess *s = c->sessions; s; s = s->next)
			pump(c, s);
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
	s->scan_upto = s->last_sent = s->acked = hl->delivered_upto;
	s->in_flight = 0;
	s->ring_head = 0;
	Irnet__Welcome w = IRNET__WELCOME__INIT;
	w.roster_version = c->h->roster->version;
	w.has_roster_hash = true;
	w.roster_hash.data = c->h->roster->hash;
	w.roster_hash.len = IRN_HASH_LEN;
	w.broker_time_ms = irn_now_ms();
	w.last_sequence = last_sequence(c, j->member);
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

static void
handle_ack(committer *c, job *j)
{
	csess *s = sess_get(c, j->member, false);
	uint64_t upto = j->pkt->ack->upto;
	if (s == NULL || s->gen != j->gen || upto > s->last_sent || upto < s->acked)
		return; /* acknowledges nothing we sent on this session */
	s->acked = upto;
	while (s->in_flight > 0 && s->ring[s->ring_head] <= upto) {
		s->ring_head = (s->ring_head + 1) % MAX_WINDOW;
		s->in_flight--;
	}
	/* Remember when each member acknowledged what, for delivery status. */
	if (begin(c)) {
		sqlite3_stmt *st;
		sqlite3 *db = irn_ledger_db(c->h->ledger);
		if (sqlite3_prepare_v2(db, "INSERT INTO ack_log(member, upto, time_ms) VALUES(?,?,?)",
				       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, j->member, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)upto);
			sqlite3_bind_int64(st, 3, j->at_ms);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	/* the window reopens: flush() pumps after the commit */
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
		a->has_last_sequence = true;
		a->last_sequence = last_sequence(c, j->member);
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
				unsigned slot = (s->ring_head + k) % MAX_WINDOW;
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

static bool
handle(committer *c, job *j)
{
	bool stop = false;
	switch (j->type) {
	case J_SUBMIT: handle_submit(c, j); break;
	case J_HELLO: handle_hello(c, j); break;
	case J_ACK: handle_ack(c, j); break;
	case J_QUERY: handle_query(c, j); break;
	case J_SESSION_END: {
		csess *s = sess_get(c, j->member, false);
		if (s && s->gen == j->gen)
			s->ready = false;
		break;
	}
	case J_EVENT:
		if (j->bytes && j->len >= 2)
			keep_event(c, j->member, (const char *)j->bytes,
				   (const char *)j->bytes + strlen((const char *)j->bytes) + 1);
		break;
	case J_STOP: stop = true; break;
	default: break;
	}
	job_free(j);
	return stop;
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
	bool stop = false;
	int batch_max = cx->sh->o->batch_max;
	while (!stop) {
		zmq_pollitem_t items[] = { { cx->from_verify, 0, ZMQ_POLLIN, 0 },
					   { cx->from_io, 0, ZMQ_POLLIN, 0 } };
		if (zmq_poll(items, 2, 200) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			break;
		}
		/* Drain what is there (up to a batch), commit once, then reply. */
		for (int i = 0; i < batch_max && !stop; i++) {
			job *j = job_recv(cx->from_io, ZMQ_DONTWAIT);
			if (j == NULL)
				j = job_recv(cx->from_verify, ZMQ_DONTWAIT);
			if (j == NULL)
				break;
			stop = handle(&c, j);
		}
		flush(&c);
		if (!c.in_tx) { /* roster imported by another process? */
			pthread_rwlock_wrlock(&c.sh->roster_lock);
			if (irn_home_sync_roster(c.h) != IRN_OK)
				log_error(_("cannot reload the roster from the ledger"));
			pthread_rwlock_unlock(&c.sh->roster_lock);
		}
	}
	flush(&c);
	log_info("broker ledger: %llu accepted, %llu refused", (unsigned long long)c.accepted,
		 (unsigned long long)c.refused);
	for (csess *s = c.sessions, *n; s; s = n) {
		n = s->next;
		free(s);
	}
	receipts_abort(&c.rb, storage_error, &c); /* none: flush() sealed them */
	receipts_free(&c.rb);
	free(c.out);
	job_send(cx->to_io, job_new(J_STOP, "", 0));
	return NULL;
}
