/* broker.c - one zmq_poll loop: ZAP, ROUTER, group commit, delivery pump.
 *
 * Order of checks for each submission (docs/PROTOCOL.md "Broker"):
 * ZAP admitted the CURVE key -> the ZAP User-Id names the member ->
 * irn_envelope_check (signer = that member, current, role, signature,
 * body, payload) -> duplicate (sender, id) -> sequence -> ledger append ->
 * commit (fsync) -> receipt -> deliveries.
 */
#include "broker.h"
#include "authz.h"
#include "crypto.h"
#include "envelope.h"
#include "wire.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sodium.h>
#include <zmq.h>

#define IRN_MAX_WINDOW 1024

typedef struct session {
	char member[IRN_MAX_ID + 1];
	uint8_t rid[256];
	size_t ridlen;
	int64_t last_seen_ms;
	uint64_t scan_upto;   /* every index <= this was considered */
	uint64_t last_sent;   /* index of the last Deliver (prev_index of the next) */
	uint64_t acked;
	unsigned in_flight;   /* deliveries not yet acknowledged ... */
	uint64_t ring[IRN_MAX_WINDOW]; /* ... their indexes, oldest first */
	unsigned ring_head;
	bool ready;           /* Hello received */
	double tokens;        /* error replies allowed now */
	int64_t tok_ms;
	struct session *next;
} session;

typedef struct reply {
	char member[IRN_MAX_ID + 1];
	uint8_t *bytes;
	size_t len;
	Irnet__Packet__PCase which;
} reply;

typedef struct broker {
	irn_home *h;
	const broker_opts *o;
	void *ctx, *router, *zap;
	session *sessions;
	uint64_t self_seq;
	reply *replies;       /* receipts waiting for the batch commit */
	size_t n_replies, cap_replies;
	bool in_tx;
	uint64_t accepted, refused;
} broker;

static volatile sig_atomic_t stop_flag;
static void on_signal(int s) { (void)s; stop_flag = 1; }

static session *
session_get(broker *b, const char *member, bool create)
{
	for (session *s = b->sessions; s; s = s->next)
		if (strcmp(s->member, member) == 0)
			return s;
	if (!create)
		return NULL;
	session *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	snprintf(s->member, sizeof s->member, "%s", member);
	s->tokens = b->h->cfg.error_rate;
	s->tok_ms = irn_now_ms();
	s->next = b->sessions;
	b->sessions = s;
	return s;
}

/* ---- ZAP: admit only current roster members, by CURVE public key ---- */

static void
zap_handle(broker *b)
{
	zmq_msg_t f[7];
	int n = 0, more = 1;
	while (more && n < 7) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], b->zap, 0) < 0) {
			zmq_msg_close(&f[n]);
			break;
		}
		more = zmq_msg_more(&f[n]);
		n++;
	}
	while (more) { /* drain anything beyond what we parse */
		zmq_msg_t x;
		zmq_msg_init(&x);
		if (zmq_msg_recv(&x, b->zap, 0) < 0)
			more = 0;
		else
			more = zmq_msg_more(&x);
		zmq_msg_close(&x);
	}
	const char *status = "400", *text = "not a current roster member";
	char user[IRN_MAX_ID + 1] = "";
	char addr[64] = "";
	if (n >= 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
	    zmq_msg_size(&f[6]) == IRN_PK_LEN) {
		size_t al = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3]) : sizeof addr - 1;
		memcpy(addr, zmq_msg_data(&f[3]), al);
		const irn_member *m = irn_roster_find_transport(b->h->roster, zmq_msg_data(&f[6]));
		if (m && irn_member_current(m, irn_now_ms())) {
			status = "200";
			text = "OK";
			snprintf(user, sizeof user, "%s", m->id);
		} else {
			char hex[65];
			irn_hex(hex, zmq_msg_data(&f[6]), IRN_PK_LEN);
			irn_security_event(m ? m->id : NULL, m ? "revoked" : "unknown-key",
					   "CURVE handshake refused from %s, transport key %s", addr, hex);
		}
	}
	if (n >= 2) {
		zmq_send(b->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(b->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
		zmq_send(b->zap, status, 3, ZMQ_SNDMORE);
		zmq_send(b->zap, text, strlen(text), ZMQ_SNDMORE);
		zmq_send(b->zap, user, strlen(user), ZMQ_SNDMORE);
		zmq_send(b->zap, "", 0, 0);
	}
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

/* ---- replies ---- */

static bool
error_allowed(broker *b, session *s)
{
	int64_t now = irn_now_ms();
	double rate = b->h->cfg.error_rate;
	s->tokens += (double)(now - s->tok_ms) * rate / 1000.0;
	if (s->tokens > rate * 2)
		s->tokens = rate * 2;
	s->tok_ms = now;
	if (s->tokens < 1)
		return false;
	s->tokens -= 1;
	return true;
}

static void
send_error(broker *b, session *s, unsigned code, const uint8_t *msgid, const char *detail,
	   bool exercise)
{
	if (!error_allowed(b, s))
		return;
	Irnet__ErrorReply er = IRNET__ERROR_REPLY__INIT;
	er.code = code;
	if (msgid) {
		er.has_message_id = true;
		er.message_id.data = (uint8_t *)msgid;
		er.message_id.len = IRN_MSGID_LEN;
	}
	er.detail = (char *)detail;
	uint8_t pl[512];
	size_t pn = irnet__error_reply__get_packed_size(&er);
	if (pn > sizeof pl)
		return;
	irnet__error_reply__pack(&er, pl);
	uint8_t *env = NULL;
	size_t elen = 0;
	if (irn_broker_reply(b->h->keys, b->h->cfg.network, b->h->cfg.id, s->member,
			     IRNET__KIND__KIND_ERROR, ++b->self_seq, msgid, exercise, pl, pn, &env,
			     &elen) != IRN_OK)
		return;
	irn_packet_send_bytes(b->router, s->rid, s->ridlen, IRNET__PACKET__P_ERROR, env, elen);
	free(env);
}

static void
refuse(broker *b, session *s, unsigned code, const uint8_t *msgid, const char *reason,
       bool exercise)
{
	b->refused++;
	irn_security_event(s->member, irn_error_code_name(code), "submission refused: %s", reason);
	send_error(b, s, code, msgid, reason, exercise);
}

/* Cut a peer off: close its TCP connection (libzmq 4.3 has no per-peer
 * disconnect; the descriptor comes from ZMQ_SRCFD). */
static void
cut_off(zmq_msg_t *m)
{
	int fd = zmq_msg_get(m, ZMQ_SRCFD);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

static void
queue_reply(broker *b, const char *member, Irnet__Packet__PCase which, uint8_t *bytes,
	    size_t len)
{
	if (b->n_replies == b->cap_replies) {
		size_t nc = b->cap_replies ? 2 * b->cap_replies : 64;
		reply *nr = realloc(b->replies, nc * sizeof *nr);
		if (nr == NULL) {
			free(bytes);
			return;
		}
		b->replies = nr;
		b->cap_replies = nc;
	}
	reply *r = &b->replies[b->n_replies++];
	snprintf(r->member, sizeof r->member, "%s", member);
	r->bytes = bytes;
	r->len = len;
	r->which = which;
}

/* ---- submissions ---- */

static char *
join_members(const Irnet__Header *h)
{
	size_t n = 2;
	for (size_t i = 0; i < h->n_to_members; i++)
		n += strlen(h->to_members[i]) + 1;
	char *s = malloc(n);
	if (s == NULL)
		return NULL;
	char *p = s;
	*p++ = '\n';
	for (size_t i = 0; i < h->n_to_members; i++) {
		size_t l = strlen(h->to_members[i]);
		memcpy(p, h->to_members[i], l);
		p += l;
		*p++ = '\n';
	}
	*p = 0;
	return s;
}

static uint64_t
last_sequence(broker *b, const char *sender)
{
	sqlite3_stmt *st;
	uint64_t v = 0;
	if (sqlite3_prepare_v2(irn_ledger_db(b->h->ledger),
			       "SELECT max(sequence) FROM ledger WHERE type = 2 AND sender = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return UINT64_MAX;
	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
handle_submit(broker *b, session *s, const uint8_t *buf, size_t len)
{
	int64_t now = irn_now_ms();
	irn_msg *m = NULL;
	irn_refusal why;
	uint8_t pid[IRN_MSGID_LEN];
	if (!b->in_tx) {
		/* In the transaction first: the roster in force is the one the
		 * ledger holds now (another process may have imported a newer one). */
		irn_err e = irn_home_begin(b->h);
		if (e != IRN_OK) {
			log_error(_("cannot start a ledger transaction: %s"), irn_strerror(e));
			send_error(b, s, IRNET__ERROR_CODE__ERR_STORAGE,
				   irn_envelope_peek_id(buf, len, pid) ? pid : NULL,
				   "broker cannot store now; retry later", false);
			return;
		}
		b->in_tx = true;
	}
	if (irn_envelope_check(b->h->roster, b->h->cfg.network, buf, len, s->member, now, now, &m,
			       &why) != 0) {
		refuse(b, s, why.code, irn_envelope_peek_id(buf, len, pid) ? pid : NULL, why.reason,
		       false);
		return;
	}
	const Irnet__Header *hd = m->h;
	if (hd->kind == IRNET__KIND__KIND_RECEIPT || hd->kind == IRNET__KIND__KIND_ERROR) {
		refuse(b, s, IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND, hd->message_id.data,
		       "receipts and errors are written by the broker, not submitted", hd->exercise);
		irn_msg_free(&m);
		return;
	}
	/* Duplicate: same id and bytes -> same receipt again; other bytes -> attack. */
	uint8_t *old = NULL, *oldrc = NULL;
	size_t oldlen = 0, oldrclen = 0;
	irn_err fe = irn_ledger_find(b->h->ledger, hd->sender, hd->message_id.data, NULL, &old,
				     &oldlen, &oldrc, &oldrclen);
	if (fe == IRN_OK) {
		if (oldlen == len && memcmp(old, buf, len) == 0 && oldrc) {
			log_debug("duplicate of an accepted message from %s: receipt sent again",
				  s->member);
			queue_reply(b, s->member, IRNET__PACKET__P_RECEIPT, oldrc, oldrclen);
			oldrc = NULL;
		} else {
			refuse(b, s, IRNET__ERROR_CODE__ERR_DUPLICATE_CONFLICT, hd->message_id.data,
			       "message id reused with different content", hd->exercise);
		}
		free(old);
		free(oldrc);
		irn_msg_free(&m);
		return;
	}
	uint64_t last = last_sequence(b, hd->sender);
	if (hd->sequence <= last) {
		char d[96];
		snprintf(d, sizeof d, "sequence %llu is not above the last accepted %llu",
			 (unsigned long long)hd->sequence, (unsigned long long)last);
		refuse(b, s, IRNET__ERROR_CODE__ERR_REPLAY, hd->message_id.data, d, hd->exercise);
		irn_msg_free(&m);
		return;
	}
	uint64_t idx = irn_ledger_next_index(b->h->ledger);
	Irnet__Receipt rc = IRNET__RECEIPT__INIT;
	rc.envelope_hash.data = m->hash;
	rc.envelope_hash.len = IRN_HASH_LEN;
	rc.message_id = hd->message_id;
	rc.sender = hd->sender;
	rc.accepted_ms = now;
	rc.ledger_index = idx;
	rc.roster_version = b->h->roster->version;
	uint8_t pl[256];
	size_t pn = irnet__receipt__get_packed_size(&rc);
	uint8_t *renv = NULL;
	size_t rlen = 0;
	irn_err e = IRN_ERR_TOOBIG;
	if (pn <= sizeof pl) {
		irnet__receipt__pack(&rc, pl);
		e = irn_broker_reply(b->h->keys, b->h->cfg.network, b->h->cfg.id, hd->sender,
				     IRNET__KIND__KIND_RECEIPT, ++b->self_seq, hd->message_id.data,
				     hd->exercise, pl, pn, &renv, &rlen);
	}
	char *members = e == IRN_OK ? join_members(hd) : NULL;
	uint32_t roles = 0;
	for (size_t i = 0; i < hd->n_to_roles; i++)
		roles |= IRN_ROLE_BIT(hd->to_roles[i]);
	if (e == IRN_OK && members) {
		irn_entry ent = { .type = IRN_ENTRY_MESSAGE, .accepted_ms = now,
				  .roster_version = b->h->roster->version, .sender = hd->sender,
				  .message_id = hd->message_id.data, .kind = hd->kind,
				  .sequence = hd->sequence, .data = buf, .len = len, .receipt = renv,
				  .rlen = rlen, .to_roles = roles, .to_members = members };
		e = irn_ledger_append(b->h->ledger, &ent, NULL);
	}
	free(members);
	if (e != IRN_OK) {
		log_error(_("cannot append to the ledger: %s"), irn_strerror(e));
		free(renv);
		/* The batch is unusable: roll back and ask every author to retry. */
		irn_ledger_rollback(b->h->ledger);
		b->in_tx = false;
		for (size_t i = 0; i < b->n_replies; i++) {
			session *o = session_get(b, b->replies[i].member, false);
			if (o)
				send_error(b, o, IRNET__ERROR_CODE__ERR_STORAGE, NULL,
					   "broker cannot store now; retry later", false);
			free(b->replies[i].bytes);
		}
		b->n_replies = 0;
		send_error(b, s, IRNET__ERROR_CODE__ERR_STORAGE, hd->message_id.data,
			   "broker cannot store now; retry later", hd->exercise);
		irn_msg_free(&m);
		return;
	}
	b->accepted++;
	irn_crash_point("broker-mid-batch");
	log_info("accepted %s #%llu from %s (%s) at ledger %llu", irn_kind_name(hd->kind),
		 (unsigned long long)hd->sequence, hd->sender, hd->exercise ? "EXERCISE" : "real",
		 (unsigned long long)idx);
	queue_reply(b, s->member, IRNET__PACKET__P_RECEIPT, renv, rlen);
	irn_msg_free(&m);
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
pump(broker *b, session *s)
{
	const irn_member *mem = irn_roster_find(b->h->roster, s->member);
	if (!s->ready || mem == NULL || !irn_member_current(mem, irn_now_ms()))
		return;
	unsigned window = (unsigned)b->o->window;
	if (window > IRN_MAX_WINDOW)
		window = IRN_MAX_WINDOW;
	uint64_t head;
	irn_ledger_head(b->h->ledger, &head, NULL);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(irn_ledger_db(b->h->ledger),
			       "SELECT idx, sender, to_roles, to_members, data, receipt FROM ledger"
			       " WHERE type = 2 AND idx > ? ORDER BY idx LIMIT 256",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	while (s->in_flight < window && s->scan_upto < head) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)s->scan_upto);
		int rc, rows = 0;
		while (s->in_flight < window && (rc = sqlite3_step(st)) == SQLITE_ROW) {
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
				if (irn_packet_send(b->router, s->rid, s->ridlen, &p) != 0) {
					log_debug("deliver to %s paused: %s", s->member, zmq_strerror(errno));
					sqlite3_finalize(st);
					return;
				}
				s->last_sent = idx;
				s->ring[(s->ring_head + s->in_flight) % IRN_MAX_WINDOW] = idx;
				s->in_flight++;
			}
			s->scan_upto = idx;
		}
		if (rows == 0)
			s->scan_upto = head;
	}
	sqlite3_finalize(st);
}

static void
pump_all(broker *b)
{
	for (session *s = b->sessions; s; s = s->next)
		pump(b, s);
}

static void
flush_batch(broker *b)
{
	if (!b->in_tx)
		return;
	irn_err e = irn_meta_set_int(b->h->ledger, "self_seq", (int64_t)b->self_seq);
	if (e == IRN_OK)
		e = irn_ledger_commit(b->h->ledger); /* synchronous=FULL: fsync before return */
	b->in_tx = false;
	if (e == IRN_OK)
		irn_crash_point("broker-after-commit");
	for (size_t i = 0; i < b->n_replies; i++) {
		reply *r = &b->replies[i];
		session *s = session_get(b, r->member, false);
		if (s && e == IRN_OK)
			irn_packet_send_bytes(b->router, s->rid, s->ridlen, r->which, r->bytes, r->len);
		else if (s)
			send_error(b, s, IRNET__ERROR_CODE__ERR_STORAGE, NULL,
				   "broker cannot store now; retry later", false);
		free(r->bytes);
	}
	if (e != IRN_OK)
		log_error(_("ledger commit failed: %s; %zu messages not acknowledged"),
			  irn_strerror(e), b->n_replies);
	b->n_replies = 0;
	if (e == IRN_OK)
		pump_all(b);
}

/* ---- the ROUTER side ---- */

static void
handle_hello(broker *b, session *s, const Irnet__Hello *hl)
{
	s->ready = true;
	s->scan_upto = hl->delivered_upto;
	s->last_sent = hl->delivered_upto;
	s->acked = hl->delivered_upto;
	s->in_flight = 0;
	s->ring_head = 0;
	Irnet__Welcome w = IRNET__WELCOME__INIT;
	w.roster_version = b->h->roster->version;
	w.broker_time_ms = irn_now_ms();
	w.last_sequence = last_sequence(b, s->member);
	if (hl->roster_version < b->h->roster->version) {
		w.has_roster = true;
		w.roster.data = b->h->roster->bytes;
		w.roster.len = b->h->roster->len;
	}
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_WELCOME;
	p.welcome = &w;
	irn_packet_send(b->router, s->rid, s->ridlen, &p);
	log_info("%s connected (roster %llu, delivered up to %llu)", s->member,
		 (unsigned long long)hl->roster_version, (unsigned long long)hl->delivered_upto);
	pump(b, s);
}

static void
handle_ack(broker *b, session *s, uint64_t upto)
{
	if (upto > s->last_sent || upto < s->acked)
		return; /* acknowledges nothing we sent */
	s->acked = upto;
	/* cumulative: every delivery up to upto is stored at the member */
	while (s->in_flight > 0 && s->ring[s->ring_head] <= upto) {
		s->ring_head = (s->ring_head + 1) % IRN_MAX_WINDOW;
		s->in_flight--;
	}
	pump(b, s);
}

static void
router_handle(broker *b)
{
	zmq_msg_t rid, body;
	zmq_msg_init(&rid);
	zmq_msg_init(&body);
	if (zmq_msg_recv(&rid, b->router, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&rid);
		zmq_msg_close(&body);
		return;
	}
	int more = zmq_msg_more(&rid);
	int frames = 0;
	bool overflow = false;
	while (more) {
		zmq_msg_t x;
		zmq_msg_init(&x);
		if (zmq_msg_recv(&x, b->router, 0) < 0) {
			zmq_msg_close(&x);
			break;
		}
		more = zmq_msg_more(&x);
		if (frames++ == 0)
			zmq_msg_move(&body, &x);
		else
			overflow = true;
		zmq_msg_close(&x);
	}
	const char *user = zmq_msg_gets(&body, "User-Id");
	if (user == NULL || frames == 0) {
		zmq_msg_close(&rid);
		zmq_msg_close(&body);
		return;
	}
	session *s = session_get(b, user, true);
	if (s == NULL)
		goto out;
	if (zmq_msg_size(&rid) <= sizeof s->rid) {
		if (s->ridlen != zmq_msg_size(&rid) || memcmp(s->rid, zmq_msg_data(&rid), s->ridlen)) {
			/* A new connection for this member: restart its delivery state. */
			s->ready = false;
			s->ridlen = zmq_msg_size(&rid);
			memcpy(s->rid, zmq_msg_data(&rid), s->ridlen);
		}
	}
	s->last_seen_ms = irn_now_ms();
	if (overflow) {
		refuse(b, s, IRNET__ERROR_CODE__ERR_MALFORMED, NULL,
		       "more than one frame in a message; connection closed", false);
		cut_off(&body);
		goto out;
	}
	Irnet__Packet *p = irnet__packet__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
	if (p == NULL) {
		refuse(b, s, IRNET__ERROR_CODE__ERR_MALFORMED, NULL,
		       "frame is not an irnet packet; connection closed", false);
		cut_off(&body);
		goto out;
	}
	switch (p->p_case) {
	case IRNET__PACKET__P_HELLO:
		handle_hello(b, s, p->hello);
		break;
	case IRNET__PACKET__P_SUBMIT:
		handle_submit(b, s, p->submit.data, p->submit.len);
		break;
	case IRNET__PACKET__P_ACK:
		handle_ack(b, s, p->ack->upto);
		break;
	case IRNET__PACKET__P_HEARTBEAT:
		break;
	default:
		refuse(b, s, IRNET__ERROR_CODE__ERR_MALFORMED, NULL,
		       "packet type not accepted from a member", false);
		break;
	}
	irnet__packet__free_unpacked(p, NULL);
out:
	zmq_msg_close(&rid);
	zmq_msg_close(&body);
}

int
broker_run(irn_home *h, const broker_opts *o)
{
	broker b = { .h = h, .o = o };
	const char *listen = o->listen ? o->listen : h->cfg.listen;
	if (h->roster == NULL) {
		log_error(_("no roster: import one with 'irnet-broker roster-import FILE'"));
		return 1;
	}
	const irn_member *self = irn_roster_find(h->roster, h->cfg.id);
	if (self == NULL || !irn_member_has_role(self, IRNET__ROLE__ROLE_BROKER) ||
	    memcmp(self->sign_pk, h->keys->sign_pk, IRN_PK_LEN) != 0) {
		log_error(_("this broker (%s) is not in the roster with the broker role and these keys"),
			  h->cfg.id);
		return 1;
	}
	if (listen == NULL || !*listen) {
		log_error(_("no endpoint to listen on: set \"listen\" in irnet.conf or use --listen"));
		return 2;
	}
	b.self_seq = (uint64_t)irn_meta_get_int(h->ledger, "self_seq", 0);
	b.ctx = zmq_ctx_new();
	b.zap = zmq_socket(b.ctx, ZMQ_REP);
	if (zmq_bind(b.zap, "inproc://zeromq.zap.01") != 0) {
		log_error("ZAP bind: %s", zmq_strerror(errno));
		return 1;
	}
	b.router = zmq_socket(b.ctx, ZMQ_ROUTER);
	int one = 1, zero = 0, hwm = 100000, hb = h->cfg.heartbeat_ms, hbt = 3 * h->cfg.heartbeat_ms;
	int64_t maxmsg = IRN_MAX_FRAME_IN;
	zmq_setsockopt(b.router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
	zmq_setsockopt(b.router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	zmq_setsockopt(b.router, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(b.router, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(b.router, ZMQ_RCVHWM, &hwm, sizeof hwm);
	zmq_setsockopt(b.router, ZMQ_HEARTBEAT_IVL, &hb, sizeof hb);
	zmq_setsockopt(b.router, ZMQ_HEARTBEAT_TIMEOUT, &hbt, sizeof hbt);
	if (irn_curve_server(b.router, h->keys) != 0 || zmq_bind(b.router, listen) != 0) {
		log_error(_("cannot listen on %s: %s"), listen, zmq_strerror(errno));
		zmq_close(b.router);
		zmq_close(b.zap);
		zmq_ctx_term(b.ctx);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	uint64_t head;
	irn_ledger_head(h->ledger, &head, NULL);
	log_info("broker %s listening on %s (network %s, roster %llu, ledger head %llu)",
		 h->cfg.id, listen, h->cfg.network, (unsigned long long)h->roster->version,
		 (unsigned long long)head);
	/* Tell a supervising script we are ready. */
	fprintf(stdout, "READY %s\n", listen);
	fflush(stdout);
	while (!stop_flag) {
		zmq_pollitem_t items[] = { { b.zap, 0, ZMQ_POLLIN, 0 }, { b.router, 0, ZMQ_POLLIN, 0 } };
		int rc = zmq_poll(items, 2, h->cfg.heartbeat_ms);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", zmq_strerror(errno));
			break;
		}
		if (!b.in_tx && irn_home_sync_roster(h) != IRN_OK)
			log_error(_("cannot reload the roster from the ledger"));
		if (items[0].revents & ZMQ_POLLIN)
			zap_handle(&b);
		if (items[1].revents & ZMQ_POLLIN) {
			/* Drain a batch, commit once (group commit), then reply. */
			for (int i = 0; i < o->batch_max; i++) {
				int ev = 0;
				size_t evl = sizeof ev;
				zmq_getsockopt(b.router, ZMQ_EVENTS, &ev, &evl);
				if (!(ev & ZMQ_POLLIN))
					break;
				router_handle(&b);
			}
			flush_batch(&b);
		}
	}
	flush_batch(&b);
	log_info("broker stopping: %llu accepted, %llu refused", (unsigned long long)b.accepted,
		 (unsigned long long)b.refused);
	for (session *s = b.sessions, *n; s; s = n) {
		n = s->next;
		free(s);
	}
	free(b.replies);
	zmq_close(b.router);
	zmq_close(b.zap);
	zmq_ctx_term(b.ctx);
	return 0;
}
