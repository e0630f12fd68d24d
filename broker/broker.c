/* broker.c - the io thread (ZAP, ROUTER, sessions, presence) and start-up.
 * See internal.h for the thread layout.
 *
 * Identity on a connection is the ZAP User-Id (the roster member whose
 * CURVE key completed the handshake), never the ROUTER routing id. One live
 * session per member: a second connection with the same key while the first
 * is up gets ERR_SESSION_EXISTS, is cut and is logged as a possible stolen key.
 */
#include "internal.h"
#include "authz.h"
#include "wire.h"
#include "rosterdelta.h"
#include "hmap.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

/* ---- jobs ---- */

job *
job_new(job_type t, const char *member, uint64_t gen)
{
	job *j = calloc(1, sizeof *j);
	if (j) {
		j->type = t;
		snprintf(j->member, sizeof j->member, "%s", member);
		j->gen = gen;
		j->at_ms = irn_now_ms();
	}
	return j;
}

void
job_free(job *j)
{
	if (j == NULL)
		return;
	free(j->bytes);
	irn_msg_free(&j->msg);
	if (j->pkt)
		irnet__packet__free_unpacked(j->pkt, NULL);
	free(j);
}

int
job_send(void *sock, job *j)
{
	if (j == NULL)
		return -1;
	if (zmq_send(sock, &j, sizeof j, 0) != (int)sizeof j) {
		job_free(j);
		return -1;
	}
	return 0;
}

job *
job_recv(void *sock, int flags)
{
	job *j = NULL;
	if (zmq_recv(sock, &j, sizeof j, flags) != (int)sizeof j)
		return NULL;
	return j;
}

void
broker_event(void *sock, const char *member, const char *reason, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	irn_security_event(member, reason, "%s", detail);
	if (sock == NULL)
		return;
	job *j = job_new(J_EVENT, member ? member : "", 0);
	if (j == NULL)
		return;
	size_t rl = strlen(reason), dl = strlen(detail);
	j->bytes = malloc(rl + dl + 2);
	if (j->bytes == NULL) {
		job_free(j);
		return;
	}
	memcpy(j->bytes, reason, rl + 1);
	memcpy(j->bytes + rl + 1, detail, dl + 1);
	j->len = rl + dl + 2;
	job_send(sock, j);
}

uint8_t *
packet_pack(const Irnet__Packet *p, size_t *len)
{
	size_t n = irnet__packet__get_packed_size(p);
	uint8_t *b = malloc(n ? n : 1);
	if (b) {
		irnet__packet__pack(p, b);
		*len = n;
	}
	return b;
}

uint8_t *
broker_error_packet(shared *sh, const char *member, unsigned code, const uint8_t *msgid,
		    const char *detail, bool exercise, size_t *len)
{
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
		return NULL;
	irnet__error_reply__pack(&er, pl);
	uint8_t *env = NULL;
	size_t elen = 0;
	if (irn_broker_reply(sh->h->keys, sh->h->cfg.network, sh->h->cfg.id, member,
			     IRNET__KIND__KIND_ERROR, atomic_fetch_add(&sh->self_seq, 1) + 1, msgid,
			     exercise, pl, pn, &env, &elen) != IRN_OK)
		return NULL;
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_ERROR;
	p.error.data = env;
	p.error.len = elen;
	uint8_t *out = packet_pack(&p, len);
	free(env);
	return out;
}

/* ---- the io thread ---- */

typedef struct isess {
	char member[IRN_MAX_ID + 1];
	uint8_t rid[256];
	size_t ridlen;
	uint64_t gen;
	int fd;                 /* TCP descriptor of the live connection */
	bool alive;
	int64_t last_seen_ms;
	uint64_t hb_roster_version;
	int64_t skew_ms;
	bool has_hb;
	double tokens;          /* error replies allowed now */
	int64_t tok_ms;
	double sub_tokens;      /* submissions allowed now (flood limit) */
	int64_t sub_ms;
	uint64_t dropped;       /* submissions refused by the flood limit ... */
	int64_t flood_logged_ms; /* ... reported once a second */
	job *fq_head, *fq_tail; /* submissions waiting for the verify thread */
	unsigned fq_n;
	bool in_rr;             /* on the round-robin list */
	_Atomic unsigned inpipe; /* submissions in the pipeline (MEMBER_PIPE_MAX) */
	uint64_t gap_from;      /* a refused submission's sequence: later ones wait for it */
	uint64_t fq_refused;    /* refused because the queues were full ... */
	int64_t fq_logged_ms;   /* ... reported once a second */
	struct isess *rr_next;
	struct isess *next;
} isess;

typedef struct io {
	shared *sh;
	void *router, *zap, *mon, *to_commit, *from_commit, *from_verify;
	void *to_verify[VERIFY_MAX];
	uint64_t next_vseq;     /* order number of the next job for the verify threads */
	isess *sessions;
	hmap by_member;         /* member id -> isess */
	hmap by_fd;             /* TCP descriptor -> isess */
	hmap by_tpk;            /* transport key (current or rotated out) -> member id */
	uint64_t tpk_version;   /* roster version by_tpk was built from */
	isess *rr_head, *rr_tail; /* members with submissions waiting, in turn */
	size_t rr_n;            /* ... how many */
	size_t fq_total, fq_bytes;
	size_t fq_cap;          /* queue_max: submissions waiting in all */
	bool paused;            /* not reading the ROUTER: the queues are full */
	int64_t paused_ms, resumed_ms, pause_logged_ms;
	uint64_t pauses;        /* times reading paused ... */
	int64_t paused_total_ms; /* ... and for how long in all */
	uint64_t next_gen;
	uint64_t cut_offs;
	uint64_t roster_seen;   /* roster version the sessions were checked against */
	struct { int fd; int64_t due_ms; } late_cut[32]; /* refused second sessions */
	uint8_t *pushed;        /* SignedRoster bytes live sessions hold (base of deltas) */
	size_t pushed_len;
	int n_late_cut;
} io;

static volatile sig_atomic_t stop_flag;
static void on_signal(int s) { (void)s; stop_flag = 1; }

static isess *
isess_get(io *x, const char *member, bool create)
{
	isess *s = hmap_gets(&x->by_member, member);
	if (s || !create)
		return s;
	s = calloc(1, sizeof *s);
	if (s) {
		snprintf(s->member, sizeof s->member, "%s", member);
		s->fd = -1;
		s->tokens = x->sh->h->cfg.error_rate;
		s->sub_tokens = 2.0 * x->sh->h->cfg.member_rate;
		s->tok_ms = s->sub_ms = irn_now_ms();
		if (!hmap_puts(&x->by_member, s->member, s)) {
			free(s);
			return NULL;
		}
		s->next = x->sessions;
		x->sessions = s;
	}
	return s;
}

static void
set_fd(io *x, isess *s, int fd)
{
	if (s->fd >= 0 && hmap_get(&x->by_fd, &s->fd, sizeof s->fd) == s)
		hmap_del(&x->by_fd, &s->fd, sizeof s->fd);
	s->fd = fd;
	if (fd >= 0)
		hmap_put(&x->by_fd, &fd, sizeof fd, s);
}

static void
tpk_clear(io *x)
{
	hmap_free_values(&x->by_tpk);
}

/* The member a CURVE key belongs to, by hash (the roster's own lookup is a
 * scan: 10 000 members reconnecting at once made that quadratic). Called
 * with the roster read-locked. */
static const irn_member *
find_transport(io *x, const uint8_t pk[IRN_PK_LEN], int64_t now)
{
	const irn_roster *r = x->sh->h->roster;
	if (x->tpk_version != r->version || x->by_tpk.n == 0) {
		tpk_clear(x);
		x->tpk_version = r->version;
		for (size_t i = 0; i < r->n_members; i++) {
			const irn_member *m = &r->members[i];
			char *id = strdup(m->id);
			if (id == NULL || !hmap_put(&x->by_tpk, m->transport_pk, IRN_PK_LEN, id)) {
				free(id);
				tpk_clear(x);
				return irn_roster_find_transport(r, pk, now);
			}
			for (size_t k = 0; k < m->n_prev; k++) {
				char *pid = strdup(m->id);
				if (pid == NULL || !hmap_put(&x->by_tpk, m->prev[k].transport_pk, IRN_PK_LEN, pid)) {
					free(pid);
					tpk_clear(x);
					return irn_roster_find_transport(r, pk, now);
				}
			}
		}
	}
	const char *id = hmap_get(&x->by_tpk, pk, IRN_PK_LEN);
	const irn_member *m = id ? irn_roster_find(r, id) : NULL;
	if (m == NULL)
		return NULL;
	if (sodium_memcmp(m->transport_pk, pk, IRN_PK_LEN) == 0)
		return m;
	for (size_t k = 0; k < m->n_prev; k++)
		if (now < m->prev[k].until_ms && sodium_memcmp(m->prev[k].transport_pk, pk, IRN_PK_LEN) == 0)
			return m;
	return NULL;
}

static void
zap_handle(io *x)
{
	zmq_msg_t f[7];
	int n = 0, more = 1;
	while (more && n < 7) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], x->zap, 0) < 0) {
			zmq_msg_close(&f[n]);
			break;
		}
		more = zmq_msg_more(&f[n]);
		n++;
	}
	while (more) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		more = zmq_msg_recv(&m, x->zap, 0) >= 0 && zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
	const char *status = "400", *text = "not a current roster member";
	char user[IRN_MAX_ID + 1] = "", addr[64] = "";
	if (n >= 7 && zmq_msg_size(&f[5]) == 5 && !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
	    zmq_msg_size(&f[6]) == IRN_PK_LEN) {
		size_t al = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3]) : sizeof addr - 1;
		memcpy(addr, zmq_msg_data(&f[3]), al);
		pthread_rwlock_rdlock(&x->sh->roster_lock);
		const irn_member *m = find_transport(x, zmq_msg_data(&f[6]), irn_now_ms());
		bool ok = m && irn_member_current(m, irn_now_ms());
		char mid[IRN_MAX_ID + 1] = "";
		if (m)
			snprintf(mid, sizeof mid, "%s", m->id);
		pthread_rwlock_unlock(&x->sh->roster_lock);
		if (ok) {
			status = "200";
			text = "OK";
			snprintf(user, sizeof user, "%s", mid);
		} else {
			char hex[65];
			irn_hex(hex, zmq_msg_data(&f[6]), IRN_PK_LEN);
			broker_event(x->to_commit, mid[0] ? mid : NULL, mid[0] ? "revoked" : "unknown-key",
					   "CURVE handshake refused from %s, transport key %s", addr, hex);
		}
	}
	if (n >= 2) {
		zmq_send(x->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(x->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
		zmq_send(x->zap, status, 3, ZMQ_SNDMORE);
		zmq_send(x->zap, text, strlen(text), ZMQ_SNDMORE);
		zmq_send(x->zap, user, strlen(user), ZMQ_SNDMORE);
		zmq_send(x->zap, "", 0, 0);
	}
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
}

static bool
error_allowed(io *x, isess *s)
{
	int64_t now = irn_now_ms();
	double rate = x->sh->h->cfg.error_rate;
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
send_to(io *x, isess *s, const uint8_t *b, size_t n)
{
	if (zmq_send(x->router, s->rid, s->ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(x->router, b, n, ZMQ_DONTWAIT) < 0)
		log_debug("send to %s dropped: %s", s->member, zmq_strerror(errno));
}

static void
io_error(io *x, isess *s, unsigned code, const char *reason)
{
	broker_event(x->to_commit, s->member, irn_error_code_name(code), "%s", reason);
	if (!error_allowed(x, s))
		return;
	size_t len;
	uint8_t *p = broker_error_packet(x->sh, s->member, code, NULL, reason, false, &len);
	if (p)
		send_to(x, s, p, len);
	free(p);
}

/* Cut a peer off: close its TCP connection (libzmq 4.3 has no per-peer
 * disconnect; the descriptor comes from ZMQ_SRCFD). */
static void
cut_off(io *x, int fd)
{
	if (fd >= 0) {
		shutdown(fd, SHUT_RDWR);
		x->cut_offs++;
	}
}

static void forward(io *x, void *sock, job_type t, isess *s, Irnet__Packet *p, uint8_t *bytes,
		    size_t len);

/* A second connection with a live member's key: tell it why
 * (ERR_SESSION_EXISTS, signed like every error), then cut it once the reply
 * had time to leave (~100 ms; at once when many are pending). Frames that
 * arrive on it meanwhile are dropped without another reply. */
static void
refuse_second_session(io *x, isess *s, const uint8_t *rid, size_t ridlen, int fd)
{
	for (int i = 0; i < x->n_late_cut; i++)
		if (x->late_cut[i].fd == fd)
			return;
	broker_event(x->to_commit, s->member, "second-session",
		     "a second connection with this member's key while the first is "
		     "live: possible stolen key; the new connection is refused and cut");
	if (x->n_late_cut == (int)(sizeof x->late_cut / sizeof x->late_cut[0])) {
		cut_off(x, fd);
		return;
	}
	size_t len;
	uint8_t *p = broker_error_packet(x->sh, s->member, IRNET__ERROR_CODE__ERR_SESSION_EXISTS, NULL,
					 "another connection with this member's key is live", false,
					 &len);
	if (p && (zmq_send(x->router, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
		  zmq_send(x->router, p, len, ZMQ_DONTWAIT) < 0))
		log_debug("second-session reply to %s dropped: %s", s->member, zmq_strerror(errno));
	free(p);
	x->late_cut[x->n_late_cut].fd = fd;
	x->late_cut[x->n_late_cut].due_ms = irn_now_ms() + 100;
	x->n_late_cut++;
}

static void
late_cuts(io *x)
{
	int64_t now = irn_now_ms();
	for (int i = 0; i < x->n_late_cut;)
		if (x->late_cut[i].due_ms <= now) {
			cut_off(x, x->late_cut[i].fd);
			x->late_cut[i] = x->late_cut[--x->n_late_cut];
		} else
			i++;
}

static bool
member_still_current(io *x, isess *s)
{
	pthread_rwlock_rdlock(&x->sh->roster_lock);
	bool ok = irn_member_current(irn_roster_find(x->sh->h->roster, s->member), irn_now_ms());
	pthread_rwlock_unlock(&x->sh->roster_lock);
	return ok;
}

/* Per-member token bucket: one member flooding (a stolen key, a broken
 * script) cannot take the verify thread from the others. Over the limit
 * the submission is refused as transient (the author retries later). */
static bool
submit_allowed(io *x, isess *s)
{
	int64_t now = irn_now_ms();
	double rate = x->sh->h->cfg.member_rate;
	s->sub_tokens += (double)(now - s->sub_ms) * rate / 1000.0;
	if (s->sub_tokens > 2 * rate)
		s->sub_tokens = 2 * rate;
	s->sub_ms = now;
	if (s->sub_tokens >= 1) {
		s->sub_tokens -= 1;
		return true;
	}
	s->dropped++;
	if (now - s->flood_logged_ms >= 1000) {
		broker_event(x->to_commit, s->member, "flood",
				   "more than %d submissions a second: %llu refused so far",
				   x->sh->h->cfg.member_rate, (unsigned long long)s->dropped);
		s->flood_logged_ms = now;
		if (error_allowed(x, s)) {
			size_t len;
			uint8_t *pk = broker_error_packet(x->sh, s->member,
							  IRNET__ERROR_CODE__ERR_RATE_LIMITED, NULL,
							  "rate limit: slow down and retry", false, &len);
			if (pk)
				send_to(x, s, pk, len);
			free(pk);
		}
	}
	return false;
}

/* After a roster change: close the connections of members no longer current. */
static void
sweep_revoked(io *x)
{
	pthread_rwlock_rdlock(&x->sh->roster_lock);
	uint64_t v = x->sh->h->roster->version;
	if (v == x->roster_seen) {
		pthread_rwlock_unlock(&x->sh->roster_lock);
		return;
	}
	x->roster_seen = v;
	int64_t now = irn_now_ms();
	/* Distribute it: every live session gets the new roster at once, as a
	 * delta from the one they hold when that is smaller (a node holding
	 * another version cannot rebuild it and asks again with Hello). */
	const irn_roster *nr = x->sh->h->roster;
	Irnet__Packet rp = IRNET__PACKET__INIT;
	uint8_t *delta = NULL;
	size_t dlen = 0;
	if (x->pushed && irn_roster_delta_make(x->pushed, x->pushed_len, nr->bytes, nr->len, &delta,
					       &dlen) == IRN_OK && dlen < nr->len) {
		rp.p_case = IRNET__PACKET__P_ROSTER_DELTA;
		rp.roster_delta.data = delta;
		rp.roster_delta.len = dlen;
	} else {
		rp.p_case = IRNET__PACKET__P_ROSTER;
		rp.roster.data = nr->bytes;
		rp.roster.len = nr->len;
	}
	size_t rpl = 0, sent = 0;
	uint8_t *rpb = packet_pack(&rp, &rpl);
	for (isess *s = x->sessions; rpb && s; s = s->next)
		if (s->alive) {
			send_to(x, s, rpb, rpl);
			sent++;
		}
	log_info("roster %llu pushed to %zu live sessions as %s of %zu bytes (full roster %zu bytes)",
		 (unsigned long long)v, sent, delta ? "a delta" : "the full roster", rpl, nr->len);
	free(rpb);
	free(delta);
	free(x->pushed);
	x->pushed = malloc(nr->len);
	x->pushed_len = x->pushed ? nr->len : 0;
	if (x->pushed)
		memcpy(x->pushed, nr->bytes, nr->len);
	for (isess *s = x->sessions; s; s = s->next) {
		if (!s->alive || irn_member_current(irn_roster_find(x->sh->h->roster, s->member), now))
			continue;
		broker_event(x->to_commit, s->member, "revoked",
				   "roster %llu revokes this member: its connection is closed",
				   (unsigned long long)v);
		cut_off(x, s->fd);
		s->alive = false;
		forward(x, x->to_commit, J_SESSION_END, s, NULL, NULL, 0);
	}
	pthread_rwlock_unlock(&x->sh->roster_lock);
}

/* Once a second: close the connections of members silent for five
 * heartbeat intervals (a hung peer, or a dead one with data in flight, whose
 * TCP connection still stands; five, not three, so that a node busy for a
 * few seconds is not cut: its libzmq used to answer ZMTP pings for it). */
static void
idle_sweep(io *x, int64_t *last)
{
	int64_t now = irn_now_ms(), limit = 5 * (int64_t)x->sh->h->cfg.heartbeat_ms;
	if (now - *last < 1000 || x->paused) /* paused: nobody is being read */
		return;
	*last = now;
	for (isess *s = x->sessions; s; s = s->next)
		if (s->alive && s->fd >= 0 && now - s->last_seen_ms > limit &&
		    now - x->resumed_ms > limit) {
			log_info("%s silent for %lld ms: connection closed", s->member,
				 (long long)(now - s->last_seen_ms));
			s->last_seen_ms = now; /* once; the monitor ends the session */
			cut_off(x, s->fd);
		}
}

static void
forward(io *x, void *sock, job_type t, isess *s, Irnet__Packet *p, uint8_t *bytes, size_t len)
{
	job *j = job_new(t, s->member, s->gen);
	if (j == NULL) {
		if (p)
			irnet__packet__free_unpacked(p, NULL);
		free(bytes);
		return;
	}
	j->pkt = p;
	j->bytes = bytes;
	j->len = len;
	job_send(sock, j);
}

static void
answer_presence(io *x, isess *s, const Irnet__Query *q)
{
	Irnet__Answer a = IRNET__ANSWER__INIT;
	a.nonce = q->nonce;
	a.broker_time_ms = irn_now_ms();
	pthread_rwlock_rdlock(&x->sh->roster_lock);
	const irn_roster *r = x->sh->h->roster;
	const irn_member *asker = irn_roster_find(r, s->member);
	uint32_t may = IRN_ROLE_BIT(IRNET__ROLE__ROLE_COORDINATOR) | IRN_ROLE_BIT(IRNET__ROLE__ROLE_STEERING) |
		       IRN_ROLE_BIT(IRNET__ROLE__ROLE_NATIONAL) | IRN_ROLE_BIT(IRNET__ROLE__ROLE_AUTHORITY);
	Irnet__MemberPresence *mp = NULL, **mpp = NULL;
	size_t n = 0;
	if (asker == NULL || !(asker->roles & may)) {
		a.status = IRNET__ERROR_CODE__ERR_NOT_ALLOWED;
	} else {
		mp = calloc(r->n_members ? r->n_members : 1, sizeof *mp);
		mpp = calloc(r->n_members ? r->n_members : 1, sizeof *mpp);
		for (size_t i = 0; mp && mpp && i < r->n_members; i++) {
			const irn_member *m = &r->members[i];
			if (irn_member_has_role(m, IRNET__ROLE__ROLE_BROKER))
				continue;
			Irnet__MemberPresence *e = &mp[n];
			irnet__member_presence__init(e);
			e->id = (char *)m->id;
			isess *ms = isess_get(x, m->id, false);
			e->online = ms && ms->alive;
			if (ms && ms->last_seen_ms) {
				e->has_last_seen_ms = true;
				e->last_seen_ms = ms->last_seen_ms;
			}
			if (ms && ms->has_hb) {
				e->has_roster_version = e->has_clock_skew_ms = true;
				e->roster_version = ms->hb_roster_version;
				e->clock_skew_ms = ms->skew_ms;
			}
			mpp[n++] = e;
		}
		a.presence = mpp;
		a.n_presence = n;
	}
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_ANSWER;
	p.answer = &a;
	size_t pl;
	uint8_t *pb = packet_pack(&p, &pl);
	pthread_rwlock_unlock(&x->sh->roster_lock);
	if (pb)
		send_to(x, s, pb, pl);
	free(pb);
	free(mp);
	free(mpp);
}

/* ---- fair queuing in front of the verify thread ---- */

/* The sequence number an envelope claims (not verified: used only to
 * refuse, on the member's own authenticated connection, what the commit
 * thread would refuse anyway). */
static bool
peek_seq(const uint8_t *b, size_t len, uint64_t *seq)
{
	Irnet__Envelope *e = irnet__envelope__unpack(NULL, len, b);
	Irnet__Body *bd = e ? irnet__body__unpack(NULL, e->body.len, e->body.data) : NULL;
	bool ok = bd && bd->header;
	if (ok)
		*seq = bd->header->sequence;
	if (bd)
		irnet__body__free_unpacked(bd, NULL);
	if (e)
		irnet__envelope__free_unpacked(e, NULL);
	return ok;
}

static void
refuse_transient(io *x, isess *s, unsigned code, const uint8_t *b, size_t len, const char *detail)
{
	if (!error_allowed(x, s))
		return;
	uint8_t id[IRN_MSGID_LEN];
	size_t pl;
	uint8_t *pk = broker_error_packet(x->sh, s->member, code,
					  irn_envelope_peek_id(b, len, id) ? id : NULL, detail, false, &pl);
	if (pk)
		send_to(x, s, pk, pl);
	free(pk);
}

/* The queues are full for this member (or for all): refuse the submission
 * as transient, with its message id, so that its author resends it later;
 * report the flood once a second. */
static void
fq_refuse(io *x, isess *s, const uint8_t *b, size_t len, bool member_full)
{
	int64_t now = irn_now_ms();
	s->fq_refused++;
	if (now - s->fq_logged_ms >= 1000) {
		broker_event(x->to_commit, s->member, "flood",
			     "%s: %u of its submissions wait for verification (%zu in all); %llu refused "
			     "so far", member_full ? "its queue is full" : "the broker's queues are full",
			     s->fq_n, x->fq_total, (unsigned long long)s->fq_refused);
		s->fq_logged_ms = now;
	}
	/* What follows it from this member is out of sequence until it comes
	 * again: refused here, without a signature check. */
	uint64_t seq;
	if (peek_seq(b, len, &seq) && (s->gap_from == 0 || seq < s->gap_from))
		s->gap_from = seq;
	refuse_transient(x, s, IRNET__ERROR_CODE__ERR_RATE_LIMITED, b, len,
			 "broker busy: resend this message later");
}

/* The round-robin list of members with submissions waiting: s goes to its end. */
static void
rr_append(io *x, isess *s)
{
	s->rr_next = NULL;
	if (x->rr_tail)
		x->rr_tail->rr_next = s;
	else
		x->rr_head = s;
	x->rr_tail = s;
}

/* Room in io's queues, all members together, for one more submission of
 * len bytes (queue_max submissions, FQ_BYTES_MAX bytes). */
static bool
fq_room(const io *x, size_t len)
{
	return x->fq_total < x->fq_cap && x->fq_bytes + len <= FQ_BYTES_MAX;
}

static void
fq_push(io *x, isess *s, const uint8_t *b, size_t len)
{
	uint64_t seq;
	if (s->gap_from) {
		if (peek_seq(b, len, &seq) && seq > s->gap_from) {
			s->fq_refused++;
			refuse_transient(x, s, IRNET__ERROR_CODE__ERR_SEQUENCE_GAP, b, len,
					 "an earlier message is missing; resend in order");
			return;
		}
		s->gap_from = 0; /* the refused one (or an earlier one) again */
	}
	if (s->fq_n >= FQ_MEMBER_MAX || !fq_room(x, len)) {
		fq_refuse(x, s, b, len, s->fq_n >= FQ_MEMBER_MAX);
		return;
	}
	job *j = job_new(J_SUBMIT, s->member, s->gen);
	uint8_t *c = malloc(len ? len : 1);
	if (j == NULL || c == NULL) {
		free(c);
		job_free(j);
		fq_refuse(x, s, b, len, false);
		return;
	}
	memcpy(c, b, len);
	j->bytes = c;
	j->len = len;
	if (s->fq_tail)
		s->fq_tail->next = j;
	else
		s->fq_head = j;
	s->fq_tail = j;
	s->fq_n++;
	x->fq_total++;
	x->fq_bytes += len;
	if (!s->in_rr) {
		x->rr_n++;
		s->in_rr = true;
		rr_append(x, s);
	}
}

/* Give a job to verify thread `to` (a submission: to the one with the fewest
 * waiting), numbered so that the commit thread takes it back in this order.
 * A job that cannot be passed on is dropped before it is numbered (the
 * member resends). */
static void
verify_send(io *x, job *j, unsigned to)
{
	if (j == NULL)
		return;
	bool sub = j->type == J_SUBMIT;
	unsigned best = to < x->sh->n_verify ? to : 0;
	for (unsigned t = 1; sub && t < x->sh->n_verify; t++)
		if (atomic_load(&x->sh->vqueued[t]) < atomic_load(&x->sh->vqueued[best]))
			best = t;
	j->vseq = x->next_vseq;
	_Atomic unsigned *ip = j->inpipe; /* j is gone if the send fails */
	if (sub) {
		atomic_fetch_add(&x->sh->pipeline, 1);
		atomic_fetch_add(&x->sh->vqueued[best], 1);
	}
	if (job_send(x->to_verify[best], j) != 0) {
		if (sub) {
			atomic_fetch_sub(&x->sh->vqueued[best], 1);
			atomic_fetch_sub(&x->sh->pipeline, 1);
		}
		if (ip)
			atomic_fetch_sub(ip, 1);
		return;
	}
	x->next_vseq++;
}

/* Room at a verify thread (fewer than VERIFY_QMAX waiting there)? */
static bool
verify_room(io *x)
{
	for (unsigned t = 0; t < x->sh->n_verify; t++)
		if (atomic_load(&x->sh->vqueued[t]) < VERIFY_QMAX)
			return true;
	return false;
}

/* Hand submissions to the verify threads, one per member in turn, while the
 * pipeline and a verify thread have room. */
static void
fq_feed(io *x)
{
	size_t capped = 0; /* members passed over in a row: at MEMBER_PIPE_MAX */
	while (x->rr_head && capped < x->rr_n && atomic_load(&x->sh->pipeline) < PIPELINE_MAX &&
	       verify_room(x)) {
		isess *s = x->rr_head;
		x->rr_head = s->rr_next;
		if (x->rr_head == NULL)
			x->rr_tail = NULL;
		if (atomic_load(&s->inpipe) >= MEMBER_PIPE_MAX) { /* its turn passes */
			rr_append(x, s);
			capped++;
			continue;
		}
		capped = 0;
		job *j = s->fq_head;
		s->fq_head = j->next;
		if (s->fq_head == NULL)
			s->fq_tail = NULL;
		j->next = NULL;
		s->fq_n--;
		x->fq_total--;
		x->fq_bytes -= j->len;
		if (s->fq_n > 0) {
			rr_append(x, s);
		} else {
			s->in_rr = false;
			x->rr_n--;
		}
		j->inpipe = &s->inpipe;
		atomic_fetch_add(&s->inpipe, 1);
		verify_send(x, j, 0);
	}
}

/* Back-pressure. When io's queues are full (queue_max submissions, or
 * FQ_BYTES_MAX less one largest frame), io stops reading the ROUTER: libzmq
 * stops reading those TCP connections once each pipe holds ROUTER_RCVHWM
 * messages, and the rest waits in the senders' own queues and kernels.
 * Refusing instead (ERR_RATE_LIMITED) cost a signed error reply each, and
 * the node resent the refused message and everything after it 5 s later:
 * with 1 000 members bursting 64 each the broker answered a third fewer
 * messages a second and some not at all for seconds. Reading starts again
 * once a quarter of the queue has drained (libzmq then reads the pipes in
 * turn, as before). The per-member cap still refuses: one member cannot
 * make the broker stop reading the others. */
static bool
reading_paused(io *x)
{
	int64_t now;
	if (!x->paused) {
		if (fq_room(x, IRN_MAX_FRAME_IN)) /* whatever the next frame is, it fits */
			return false;
		now = irn_now_ms();
		x->paused = true;
		x->paused_ms = now;
		x->pauses++;
		if (now - x->pause_logged_ms >= 10000) {
			log_warn(_("%zu submissions (%zu bytes) wait for verification: reading paused "
				   "until a quarter have been verified (%llu times so far)"),
				 x->fq_total, x->fq_bytes, (unsigned long long)x->pauses);
			x->pause_logged_ms = now;
		}
		return true;
	}
	if (x->fq_total > x->fq_cap / 4 * 3 || x->fq_bytes > FQ_BYTES_MAX / 4 * 3)
		return true;
	now = irn_now_ms();
	x->paused = false;
	x->resumed_ms = now;
	x->paused_total_ms += now - x->paused_ms;
	return false;
}

static void
router_handle(io *x)
{
	zmq_msg_t rid, body;
	zmq_msg_init(&rid);
	zmq_msg_init(&body);
	if (zmq_msg_recv(&rid, x->router, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&rid);
		zmq_msg_close(&body);
		return;
	}
	int more = zmq_msg_more(&rid), frames = 0;
	while (more) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, x->router, 0) < 0) {
			zmq_msg_close(&m);
			break;
		}
		more = zmq_msg_more(&m);
		if (frames++ == 0)
			zmq_msg_move(&body, &m);
		zmq_msg_close(&m);
	}
	const char *user = frames ? zmq_msg_gets(&body, "User-Id") : NULL;
	int fd = frames ? zmq_msg_get(&body, ZMQ_SRCFD) : -1;
	isess *s = user ? isess_get(x, user, true) : NULL;
	if (s == NULL || zmq_msg_size(&rid) > sizeof s->rid)
		goto out;
	bool same = s->ridlen == zmq_msg_size(&rid) && !memcmp(s->rid, zmq_msg_data(&rid), s->ridlen);
	if (!same) {
		if (s->alive && s->fd >= 0 && fd != s->fd) {
			/* The member is already connected: a second live session with
			 * its key is refused, and the first one keeps working. */
			refuse_second_session(x, s, zmq_msg_data(&rid), zmq_msg_size(&rid), fd);
			goto out;
		}
		if (s->alive)
			forward(x, x->to_commit, J_SESSION_END, s, NULL, NULL, 0);
		s->ridlen = zmq_msg_size(&rid);
		memcpy(s->rid, zmq_msg_data(&rid), s->ridlen);
		s->gen = ++x->next_gen;
		set_fd(x, s, fd);
		s->alive = true;
	}
	s->last_seen_ms = irn_now_ms();
	if (frames > 1) {
		io_error(x, s, IRNET__ERROR_CODE__ERR_MALFORMED,
			 "more than one frame in a message; connection closed");
		cut_off(x, fd);
		goto out;
	}
	Irnet__Packet *p = irnet__packet__unpack(NULL, zmq_msg_size(&body), zmq_msg_data(&body));
	if (p == NULL) {
		io_error(x, s, IRNET__ERROR_CODE__ERR_MALFORMED,
			 "frame is not an irnet packet; connection closed");
		cut_off(x, fd);
		goto out;
	}
	switch (p->p_case) {
	case IRNET__PACKET__P_HELLO:
		if (p->hello->version != IRN_PROTOCOL_VERSION) {
			io_error(x, s, IRNET__ERROR_CODE__ERR_MALFORMED, "unsupported protocol version");
			break;
		}
		forward(x, x->to_commit, J_HELLO, s, p, NULL, 0);
		return zmq_msg_close(&rid), zmq_msg_close(&body), (void)0;
	case IRNET__PACKET__P_ACK:
		forward(x, x->to_commit, J_ACK, s, p, NULL, 0);
		return zmq_msg_close(&rid), zmq_msg_close(&body), (void)0;
	case IRNET__PACKET__P_SUBMIT: {
		/* Cheap checks from the ZAP identity before any signature work:
		 * the member is still current, and within its rate. */
		if (!member_still_current(x, s)) {
			io_error(x, s, IRNET__ERROR_CODE__ERR_REVOKED, "member revoked; connection closed");
			cut_off(x, fd);
			break;
		}
		if (!submit_allowed(x, s))
			break;
		fq_push(x, s, p->submit.data, p->submit.len);
		break;
	}
	case IRNET__PACKET__P_HEARTBEAT:
		s->has_hb = true;
		s->hb_roster_version = p->heartbeat->roster_version;
		s->skew_ms = p->heartbeat->time_ms - irn_now_ms();
		break;
	case IRNET__PACKET__P_QUERY:
		if (p->query->what == IRNET__QUERY_WHAT__QUERY_PRESENCE) {
			answer_presence(x, s, p->query);
			break;
		}
		forward(x, x->to_commit, J_QUERY, s, p, NULL, 0);
		return zmq_msg_close(&rid), zmq_msg_close(&body), (void)0;
	default:
		io_error(x, s, IRNET__ERROR_CODE__ERR_MALFORMED, "packet type not accepted from a member");
		break;
	}
	irnet__packet__free_unpacked(p, NULL);
out:
	zmq_msg_close(&rid);
	zmq_msg_close(&body);
}

static void
monitor_handle(io *x)
{
	zmq_msg_t a, b;
	zmq_msg_init(&a);
	zmq_msg_init(&b);
	if (zmq_msg_recv(&a, x->mon, 0) >= 0 && zmq_msg_more(&a) && zmq_msg_recv(&b, x->mon, 0) >= 0 &&
	    zmq_msg_size(&a) >= 6) {
		uint16_t ev;
		int32_t val;
		memcpy(&ev, zmq_msg_data(&a), 2);
		memcpy(&val, (uint8_t *)zmq_msg_data(&a) + 2, 4);
		isess *s = ev == ZMQ_EVENT_DISCONNECTED ? hmap_get(&x->by_fd, &val, sizeof val) : NULL;
		if (s && s->alive && s->fd == val) {
			s->alive = false;
			set_fd(x, s, -1);
			log_info("%s disconnected", s->member);
			forward(x, x->to_commit, J_SESSION_END, s, NULL, NULL, 0);
		}
	}
	zmq_msg_close(&a);
	zmq_msg_close(&b);
}

/* A packet from the commit thread: send it if its session is still the live
 * one. Returns 1 if one was handled, 0 if none was waiting, -1 on STOP. */
static int
out_handle(io *x)
{
	job *j = job_recv(x->from_commit, ZMQ_DONTWAIT);
	if (j == NULL)
		return 0;
	bool stop = j->type == J_STOP;
	isess *s = j->type == J_OUT ? isess_get(x, j->member, false) : NULL;
	if (s && s->alive && (j->gen == 0 || j->gen == s->gen) && (!j->is_error || error_allowed(x, s)))
		send_to(x, s, j->bytes, j->len);
	job_free(j);
	return stop ? -1 : 1;
}

static void *
start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	return pthread_create(t, NULL, fn, arg) == 0 ? t : NULL;
}

/* An inproc socket with no high-water mark: jobs are small and their
 * producers are throttled upstream. */
static void *
inproc_socket(void *ctx, int type)
{
	void *s = zmq_socket(ctx, type);
	int hwm = 0;
	if (s) {
		zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
		zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
	}
	return s;
}

static int
pair(void *ctx, const char *ep, void **bound, void **connected)
{
	*bound = inproc_socket(ctx, ZMQ_PAIR);
	*connected = inproc_socket(ctx, ZMQ_PAIR);
	return zmq_bind(*bound, ep) == 0 && zmq_connect(*connected, ep) == 0 ? 0 : -1;
}

/* How many verify threads: the config's verify_threads, or one per online CPU. */
static unsigned
verify_count(const irn_home *h)
{
	long n = h->cfg.verify_threads > 0 ? h->cfg.verify_threads : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > VERIFY_MAX ? VERIFY_MAX : (unsigned)n;
}

/* The verify threads' sockets: a PAIR from io to each, a PUSH from each to
 * the commit thread's PULL (checked jobs), and PUSH sockets from them and
 * the commit thread to io's PULL (credits). */
static int
verify_sockets(shared *sh, io *x, verify_ctx *vx, commit_ctx *cx)
{
	cx->from_verify = inproc_socket(sh->ctx, ZMQ_PULL);
	x->from_verify = inproc_socket(sh->ctx, ZMQ_PULL);
	cx->credit = inproc_socket(sh->ctx, ZMQ_PUSH);
	if (zmq_bind(cx->from_verify, "inproc://irn-checked") != 0 ||
	    zmq_bind(x->from_verify, "inproc://irn-credit") != 0 ||
	    zmq_connect(cx->credit, "inproc://irn-credit") != 0)
		return -1;
	for (unsigned t = 0; t < sh->n_verify; t++) {
		char ep[64];
		snprintf(ep, sizeof ep, "inproc://irn-verify-%u", t);
		vx[t].sh = sh;
		vx[t].no = t;
		vx[t].out = inproc_socket(sh->ctx, ZMQ_PUSH);
		vx[t].credit = inproc_socket(sh->ctx, ZMQ_PUSH);
		if (pair(sh->ctx, ep, &vx[t].in, &x->to_verify[t]) ||
		    zmq_connect(vx[t].out, "inproc://irn-checked") != 0 ||
		    zmq_connect(vx[t].credit, "inproc://irn-credit") != 0)
			return -1;
	}
	return 0;
}

int
broker_run(irn_home *h, const broker_opts *o)
{
	shared sh = { .h = h, .o = o };
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
	atomic_store(&sh.self_seq, (uint64_t)irn_meta_get_int(h->ledger, "self_seq", 0));
	pthread_rwlock_init(&sh.roster_lock, NULL);
	sh.ctx = zmq_ctx_new();
	io x = { .sh = &sh, .fq_cap = (size_t)h->cfg.queue_max };
	verify_ctx vx[VERIFY_MAX] = { 0 };
	commit_ctx cx = { .sh = &sh };
	void *cx_from_io;
	sh.n_verify = verify_count(h);
	if (verify_sockets(&sh, &x, vx, &cx) ||
	    pair(sh.ctx, "inproc://irn-control", &cx_from_io, &x.to_commit) ||
	    pair(sh.ctx, "inproc://irn-out", &x.from_commit, &cx.to_io)) {
		log_error("inproc: %s", zmq_strerror(errno));
		return 1;
	}
	cx.from_io = cx_from_io;
	x.zap = zmq_socket(sh.ctx, ZMQ_REP);
	if (zmq_bind(x.zap, "inproc://zeromq.zap.01") != 0) {
		log_error("ZAP bind: %s", zmq_strerror(errno));
		return 1;
	}
	x.router = zmq_socket(sh.ctx, ZMQ_ROUTER);
	int one = 1, zero = 0, hwm = 100000, hb = h->cfg.heartbeat_ms, hbt = 3 * h->cfg.heartbeat_ms;
	int64_t maxmsg = IRN_MAX_FRAME_IN;
	zmq_setsockopt(x.router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
	zmq_setsockopt(x.router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	zmq_setsockopt(x.router, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(x.router, ZMQ_SNDHWM, &hwm, sizeof hwm);
	/* what libzmq reads ahead per connection while io is paused (reading_paused) */
	int rcvhwm = ROUTER_RCVHWM;
	zmq_setsockopt(x.router, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
	/* No ZMTP heartbeats on the broker's side: libzmq 4.3 cancels a timer
	 * by a linear search over all of its I/O thread's timers, once per
	 * incoming message when heartbeats are on, which made every message
	 * cost O(connections) (10 000 members: a full core for their idle
	 * heartbeats alone). Dead peers are found by TCP keepalive, and silent
	 * ones by idle_sweep (no packet, not even the node's Heartbeat, for
	 * 5 heartbeat intervals). The node still pings the broker. */
	int ka = 1, ka_idle = hbt / 1000 > 1 ? hbt / 1000 : 1, ka_intvl = 1, ka_cnt = 3;
	zmq_setsockopt(x.router, ZMQ_TCP_KEEPALIVE, &ka, sizeof ka);
	zmq_setsockopt(x.router, ZMQ_TCP_KEEPALIVE_IDLE, &ka_idle, sizeof ka_idle);
	zmq_setsockopt(x.router, ZMQ_TCP_KEEPALIVE_INTVL, &ka_intvl, sizeof ka_intvl);
	zmq_setsockopt(x.router, ZMQ_TCP_KEEPALIVE_CNT, &ka_cnt, sizeof ka_cnt);
	(void)hb;
	/* thousands of members reconnect at once after a restart: a short
	 * accept queue drops their SYNs into TCP's 1-3-7 s retry backoff */
	int backlog = 4096;
	zmq_setsockopt(x.router, ZMQ_BACKLOG, &backlog, sizeof backlog);
	zmq_socket_monitor(x.router, "inproc://irn-router-monitor", ZMQ_EVENT_DISCONNECTED);
	x.mon = zmq_socket(sh.ctx, ZMQ_PAIR);
	zmq_connect(x.mon, "inproc://irn-router-monitor");
	if (irn_curve_server(x.router, h->keys) != 0 || zmq_bind(x.router, listen) != 0) {
		log_error(_("cannot listen on %s: %s"), listen, zmq_strerror(errno));
		return 1;
	}
	/* checkpoints of the ledger's WAL, off the commit thread (walckpt.c) */
	static walckpt_ctx wc;
	pthread_t wt;
	const char *lp = sqlite3_db_filename(irn_ledger_db(h->ledger), "main");
	snprintf(wc.path, sizeof wc.path, "%s", lp ? lp : "");
	sh.wal = &wc;
	bool wal_thread = lp && *lp && start_thread(&wt, walckpt_main, &wc);
	atomic_store(&wc.running, wal_thread);
	if (!wal_thread)
		log_warn(_("no WAL checkpoint thread: the commit thread checkpoints itself"));
	pthread_t vt[VERIFY_MAX], ct;
	for (unsigned t = 0; t < sh.n_verify; t++)
		if (!start_thread(&vt[t], verify_main, &vx[t])) {
			log_error("cannot start threads");
			return 1;
		}
	if (!start_thread(&ct, commit_main, &cx)) {
		log_error("cannot start threads");
		return 1;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	uint64_t head;
	irn_ledger_head(h->ledger, &head, NULL);
	log_info("broker %s listening on %s (network %s, roster %llu, ledger head %llu, "
		 "%u verify threads)",
		 h->cfg.id, listen, h->cfg.network, (unsigned long long)h->roster->version,
		 (unsigned long long)head, sh.n_verify);
	fprintf(stdout, "READY %s\n", listen);
	fflush(stdout);
	x.roster_seen = h->roster->version;
	x.pushed = malloc(h->roster->len);
	x.pushed_len = x.pushed ? h->roster->len : 0;
	if (x.pushed)
		memcpy(x.pushed, h->roster->bytes, h->roster->len);
	bool stopping = false, running = true;
	int64_t last_sweep = irn_now_ms();
	int drain_rounds = 0;
	while (running) {
		zmq_pollitem_t items[] = { { x.zap, 0, ZMQ_POLLIN, 0 },
					   { x.router, 0, reading_paused(&x) ? 0 : ZMQ_POLLIN, 0 },
					   { x.from_commit, 0, ZMQ_POLLIN, 0 },
					   { x.mon, 0, ZMQ_POLLIN, 0 },
					   { x.from_verify, 0, ZMQ_POLLIN, 0 } };
		/* submissions waiting and the verify queue full: a J_CREDIT wakes
		 * us, and a short timeout guards against a lost one */
		int rc = zmq_poll(items, stopping ? 0 : 5, stopping ? 0 : x.rr_head ? 10 : x.n_late_cut ? 50 : 200);
		if (stopping) {
			/* Drain what the commit thread still sends, until its STOP. */
			zmq_pollitem_t it = { x.from_commit, 0, ZMQ_POLLIN, 0 };
			if (zmq_poll(&it, 1, 1000) > 0 && out_handle(&x) < 0)
				running = false;
			else if (++drain_rounds > 30000) { /* bounded: ~30 s at most */
				log_error(_("the commit thread did not stop; exiting anyway"));
				_exit(1);
			}
			continue;
		}
		if (rc < 0 && errno != EINTR) {
			log_error("poll: %s", zmq_strerror(errno));
			break;
		}
		if (stop_flag) {
			stopping = true;
			for (unsigned t = 0; t < sh.n_verify; t++) /* the commit thread waits for all */
				verify_send(&x, job_new(J_STOP, "", 0), t);
			continue;
		}
		sweep_revoked(&x);
		late_cuts(&x);
		idle_sweep(&x, &last_sweep);
		if (rc <= 0) {
			fq_feed(&x);
			continue;
		}
		if (items[0].revents & ZMQ_POLLIN)
			zap_handle(&x);
		if (items[3].revents & ZMQ_POLLIN)
			monitor_handle(&x);
		if (items[2].revents & ZMQ_POLLIN)
			for (int i = 0; i < 4096 && out_handle(&x) > 0; i++)
				;
		if (items[4].revents & ZMQ_POLLIN)
			for (job *j; (j = job_recv(x.from_verify, ZMQ_DONTWAIT)) != NULL;)
				job_free(j);
		if (items[1].revents & ZMQ_POLLIN)
			for (int i = 0; i < 1024 && !reading_paused(&x); i++) {
				int ev = 0;
				size_t evl = sizeof ev;
				zmq_getsockopt(x.router, ZMQ_EVENTS, &ev, &evl);
				if (!(ev & ZMQ_POLLIN))
					break;
				router_handle(&x);
			}
		fq_feed(&x);
	}
	for (unsigned t = 0; t < sh.n_verify; t++)
		pthread_join(vt[t], NULL);
	pthread_join(ct, NULL);
	if (wal_thread) {
		atomic_store(&wc.stop, true);
		pthread_join(wt, NULL);
		log_info("WAL checkpoints off the commit thread: %lu (%lu restarting the log)", wc.runs,
			 wc.restarts);
	}
	/* Free anything still queued between the threads. */
	for (job *j; (j = job_recv(x.from_commit, ZMQ_DONTWAIT)) != NULL;)
		job_free(j);
	for (job *j; (j = job_recv(x.from_verify, ZMQ_DONTWAIT)) != NULL;)
		job_free(j);
	if (x.pauses)
		log_info("reading paused %llu times, %lld ms in all: the verify queues were full",
			 (unsigned long long)x.pauses, (long long)x.paused_total_ms);
	log_info("broker stopping (%llu connections cut)", (unsigned long long)x.cut_offs);
	for (isess *s = x.sessions, *n; s; s = n) {
		n = s->next;
		for (job *j = s->fq_head, *jn; j; j = jn) {
			jn = j->next;
			job_free(j);
		}
		free(s);
	}
	free(x.pushed);
	hmap_free(&x.by_member);
	hmap_free(&x.by_fd);
	tpk_clear(&x);
	zmq_socket_monitor(x.router, NULL, 0);
	void *socks[] = { x.router, x.zap, x.mon, x.to_commit, x.from_commit,
			  cx.from_verify, cx_from_io, cx.to_io, x.from_verify, cx.credit };
	for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
		zmq_close(socks[i]);
	for (unsigned t = 0; t < sh.n_verify; t++) {
		zmq_close(x.to_verify[t]);
		zmq_close(vx[t].in);
		zmq_close(vx[t].out);
		zmq_close(vx[t].credit);
	}
	zmq_ctx_term(sh.ctx);
	pthread_rwlock_destroy(&sh.roster_lock);
	return 0;
}
