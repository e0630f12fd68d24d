/* irnet-probe - a test client that speaks to a broker the way an attacker
 * or a broken client would: wrong keys, forged signatures, impersonation,
 * forbidden kinds, garbage, oversized and multi-frame messages. Used by the
 * integration tests; never installed.
 *
 *   irnet-probe --home NODEHOME [--endpoint URL] ACTION [ARGS]
 *   actions: handshake [--random-key] | report [--id-hex HEX] | forged |
 *            impersonate OTHERHOME | replay | garbage | oversize | multiframe |
 *            flood COUNT [bad] | flood-for SECONDS [bad|presigned] | latency COUNT | second
 * flood-for SECONDS presigned signs 25 000 messages per second of flood
 * first (printing FLOODING on stderr when it starts sending) and sends them
 * as fast as the broker answers, 1 000 in flight, so that the
 * flood costs the probe no CPU for signatures and the broker gets the
 * machine: the broker is then the bottleneck, as in a real attack.
 * Prints one result word per reply: CONNECTED, AUTH-FAILED, RECEIPT,
 * ERR_<code>, DISCONNECTED, TIMEOUT.
 */
#include "envelope.h"
#include "home.h"
#include "report.h"
#include "wire.h"
#include "merkle.h"
#include "seal.h"
#include "crypto.h"
#include <time.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

static void *ctx, *sock, *mon;
static uint64_t next_seq = 1; /* from the broker's Welcome: it takes sequences strictly in order */
static irn_home *home;
static const irn_member *broker;

static int
mon_event(int timeout_ms)
{
	zmq_pollitem_t it = { mon, 0, ZMQ_POLLIN, 0 };
	if (zmq_poll(&it, 1, timeout_ms) <= 0)
		return -1;
	zmq_msg_t a, b;
	zmq_msg_init(&a);
	zmq_msg_init(&b);
	zmq_msg_recv(&a, mon, 0);
	zmq_msg_recv(&b, mon, 0);
	uint16_t ev = 0;
	memcpy(&ev, zmq_msg_data(&a), 2);
	zmq_msg_close(&a);
	zmq_msg_close(&b);
	return ev;
}

/* Wait for the handshake result: 1 connected, 0 auth failed, -1 timeout. */
static int
wait_handshake(void)
{
	for (int i = 0; i < 50; i++) {
		int ev = mon_event(200);
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
			return 1;
		if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
			return 0;
	}
	return -1;
}

static bool
wait_disconnect(int ms)
{
	for (int t = 0; t < ms; t += 100) {
		int ev = mon_event(100);
		if (ev == ZMQ_EVENT_DISCONNECTED)
			return true;
	}
	return false;
}

/* Print the kind of the next broker reply. */
static void
print_reply(void)
{
	zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
	for (;;) {
		if (zmq_poll(&it, 1, 5000) <= 0) {
			puts("TIMEOUT");
			return;
		}
		zmq_msg_t m;
		zmq_msg_init(&m);
		zmq_msg_recv(&m, sock, 0);
		Irnet__Packet *p = irnet__packet__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
		zmq_msg_close(&m);
		if (p == NULL) {
			puts("MALFORMED-REPLY");
			return;
		}
		if (p->p_case == IRNET__PACKET__P_RECEIPT || p->p_case == IRNET__PACKET__P_ERROR) {
			const ProtobufCBinaryData *d = p->p_case == IRNET__PACKET__P_RECEIPT ? &p->receipt : &p->error;
			irn_msg *em = NULL;
			irn_refusal why = { 0, NULL };
			int64_t now = irn_now_ms();
			if (p->p_case == IRNET__PACKET__P_RECEIPT) {
				/* batch-signed: path to the root, the root signed by our broker */
				Irnet__Receipt *rc = NULL;
				if (irn_receipt_check(home->roster, home->cfg.network, broker->id, d->data,
						      d->len, now, now, NULL, &rc, &why) != IRN_RECEIPT_OK)
					printf("UNVERIFIED-REPLY %s\n", why.reason ? why.reason : "");
				else
					puts("RECEIPT");
				if (rc)
					irnet__receipt__free_unpacked(rc, NULL);
			} else if (irn_envelope_check(home->roster, home->cfg.network, d->data, d->len, NULL,
						      now, now, &em, &why) != 0 ||
				   strcmp(em->signer->id, broker->id)) {
				printf("UNVERIFIED-REPLY %s\n", why.reason ? why.reason : "");
			} else {
				Irnet__ErrorReply *er = irnet__error_reply__unpack(NULL, em->body->payload.len,
										   em->body->payload.data);
				printf("%s\n", er ? irn_error_code_name(er->code) : "ERR_?");
				if (er)
					irnet__error_reply__free_unpacked(er, NULL);
			}
			irn_msg_free(&em);
			irnet__packet__free_unpacked(p, NULL);
			fflush(stdout);
			return;
		}
		irnet__packet__free_unpacked(p, NULL); /* welcome, deliveries: skip */
	}
}

/* Take one reply off the socket and count it as a receipt or an error. */
static long limited_with_id; /* ERR_RATE_LIMITED replies naming the message */

static void
count_reply(long *receipts, long *errors)
{
	zmq_msg_t m;
	zmq_msg_init(&m);
	zmq_msg_recv(&m, sock, 0);
	Irnet__Packet *p = irnet__packet__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
	if (p && p->p_case == IRNET__PACKET__P_RECEIPT)
		(*receipts)++;
	else if (p && p->p_case == IRNET__PACKET__P_ERROR) {
		(*errors)++;
		Irnet__Envelope *e = irnet__envelope__unpack(NULL, p->error.len, p->error.data);
		Irnet__Body *b = e ? irnet__body__unpack(NULL, e->body.len, e->body.data) : NULL;
		Irnet__ErrorReply *r = b ? irnet__error_reply__unpack(NULL, b->payload.len,
								       b->payload.data) : NULL;
		if (r && r->code == IRNET__ERROR_CODE__ERR_RATE_LIMITED && r->has_message_id &&
		    r->message_id.len == IRN_MSGID_LEN)
			limited_with_id++;
		if (r)
			irnet__error_reply__free_unpacked(r, NULL);
		if (b)
			irnet__body__free_unpacked(b, NULL);
		if (e)
			irnet__envelope__free_unpacked(e, NULL);
	}
	if (p)
		irnet__packet__free_unpacked(p, NULL);
	zmq_msg_close(&m);
}

static uint8_t *
make_report(const irn_keys *k, const char *sender, unsigned kind, const uint8_t *fixed_id,
	    size_t *len)
{
	const char *form = "{\"organisation\":{\"name\":\"Sở Y tế\"},\"contact\":{\"name\":\"Lê Văn B\"},"
			   "\"system\":\"Cổng thông tin\",\"security_level\":3,\"category\":\"attack.defacement\","
			   "\"summary\":\"Trang chủ bị thay đổi giao diện\",\"detected_at\":\"2026-11-25T08:00:00+07:00\"}";
	json_error_t jerr;
	json_t *j = json_loads(form, 0, &jerr);
	uint8_t *pl = NULL, *env = NULL;
	size_t pn = 0;
	char err[128];
	if (irn_report_from_json(j, irn_now_ms(), &pl, &pn, err, sizeof err) != IRN_OK) {
		fprintf(stderr, "probe: %s\n", err);
		exit(1);
	}
	json_decref(j);
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	uint32_t roles[1] = { IRNET__ROLE__ROLE_COORDINATOR };
	irn_header_fill(&h, id, sender, kind, next_seq, false);
	if (fixed_id)
		memcpy(id, fixed_id, IRN_MSGID_LEN);
	h.to_roles = roles;
	h.n_to_roles = 1;
	if (irn_envelope_build(k, home->cfg.network, &h, pl, pn, &env, len) != IRN_OK)
		exit(1);
	free(pl);
	return env;
}

static int
submit(const uint8_t *env, size_t len)
{
	return irn_packet_send_bytes(sock, NULL, 0, IRNET__PACKET__P_SUBMIT, env, len);
}

/* The flood's envelope number seq: body b with that sequence and a fresh
 * random id, signed (or with one bit of the signature flipped: bad). */
static uint8_t *
flood_envelope(Irnet__Body *b, const Irnet__Envelope *e, uint64_t seq, bool bad, size_t *len)
{
	b->header->sequence = seq;
	randombytes_buf(b->header->message_id.data, IRN_MSGID_LEN);
	size_t bl = irnet__body__get_packed_size(b);
	uint8_t *bb = malloc(bl), sig[IRN_SIG_LEN];
	if (bb == NULL)
		return NULL;
	irnet__body__pack(b, bb);
	if (irn_domain_sign(sig, IRN_DOMAIN_ENVELOPE, home->cfg.network, bb, bl,
			    home->keys->sign_sk) != IRN_OK) {
		free(bb);
		return NULL;
	}
	if (bad)
		sig[5] ^= 1;
	Irnet__Envelope ne = IRNET__ENVELOPE__INIT;
	ne.signer_key_id = e->signer_key_id;
	ne.body.data = bb;
	ne.body.len = bl;
	ne.signature.data = sig;
	ne.signature.len = sizeof sig;
	*len = irnet__envelope__get_packed_size(&ne);
	uint8_t *nb = malloc(*len);
	if (nb)
		irnet__envelope__pack(&ne, nb);
	free(bb);
	return nb;
}

int
main(int argc, char **argv)
{
	irn_global_init();
	irn_log_init("irnet-probe", IRN_LOG_WARN, false);
	const char *hdir = NULL, *endpoint = NULL;
	bool random_key = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--home") && i + 1 < argc)
			hdir = argv[++i];
		else if (!strcmp(argv[i], "--endpoint") && i + 1 < argc)
			endpoint = argv[++i];
		else if (!strcmp(argv[i], "--random-key"))
			random_key = true;
	}
	if (!hdir || i >= argc) {
		fprintf(stderr, "usage: irnet-probe --home DIR [--endpoint URL] [--random-key] ACTION\n");
		return 2;
	}
	const char *action = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
	if (irn_home_open(hdir, true, true, &home) != IRN_OK)
		return 1;
	broker = irn_roster_find(home->roster, home->cfg.broker_id);
	if (!broker)
		return 1;
	if (!endpoint)
		endpoint = home->cfg.broker;
	if (!strcmp(action, "unseal") && i + 1 < argc) {
		/* open a TLP:RED envelope (file) with this member's keys: no network */
		uint8_t *buf = NULL;
		size_t blen = 0, plen = 0;
		uint8_t *plain = NULL;
		if (irn_read_file(argv[i + 1], IRN_MAX_ENVELOPE, &buf, &blen) != IRN_OK)
			return 1;
		Irnet__Envelope *e = irnet__envelope__unpack(NULL, blen, buf);
		Irnet__Body *b = e ? irnet__body__unpack(NULL, e->body.len, e->body.data) : NULL;
		irn_err ue = b ? irn_unseal(home->keys, home->cfg.id, b->header->sender,
					    b->header->message_id.data, b->payload.data, b->payload.len,
					    &plain, &plen) : IRN_ERR_DECODE;
		puts(ue == IRN_OK ? "UNSEALED" : ue == IRN_ERR_NOTFOUND ? "NOT-A-RECIPIENT" : "CANNOT-UNSEAL");
		free(plain);
		if (b)
			irnet__body__free_unpacked(b, NULL);
		if (e)
			irnet__envelope__free_unpacked(e, NULL);
		free(buf);
		irn_home_close(&home);
		return ue == IRN_OK ? 0 : 3;
	}
	if (!strcmp(action, "truncate")) {
		/* An attacker cuts the ledger short: the last K entries go (default
		 * 3), the recorded head moves back. The chain that is left is
		 * intact, so `ledger verify` cannot tell; `ledger audit` can. */
		long k = arg ? strtol(arg, NULL, 10) : 3;
		irn_home_close(&home);
		if (k <= 0 || irn_home_open(hdir, true, false, &home) != IRN_OK)
			return 1;
		sqlite3 *db = irn_ledger_db(home->ledger);
		sqlite3_exec(db, "DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete;"
			     " DROP TRIGGER IF EXISTS ledger_no_replace; BEGIN", NULL, NULL, NULL);
		sqlite3_stmt *st;
		sqlite3_prepare_v2(db, "SELECT idx, hash FROM ledger WHERE idx <= (SELECT max(idx) FROM ledger) - ?"
				   " ORDER BY idx DESC LIMIT 1", -1, &st, NULL);
		sqlite3_bind_int64(st, 1, k);
		if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 1) != IRN_HASH_LEN)
			return 1;
		int64_t head = sqlite3_column_int64(st, 0);
		uint8_t hh[IRN_HASH_LEN];
		memcpy(hh, sqlite3_column_blob(st, 1), IRN_HASH_LEN);
		sqlite3_finalize(st);
		sqlite3_prepare_v2(db, "DELETE FROM ledger WHERE idx > ?", -1, &st, NULL);
		sqlite3_bind_int64(st, 1, head);
		sqlite3_step(st);
		sqlite3_finalize(st);
		if (irn_meta_set_int(home->ledger, "head_idx", head) != IRN_OK ||
		    irn_meta_set_blob(home->ledger, "head_hash", hh, IRN_HASH_LEN) != IRN_OK)
			return 1;
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		printf("TRUNCATED to entry %lld\n", (long long)head);
		irn_home_close(&home);
		return 0;
	}
	if (!strcmp(action, "rewrite")) {
		/* An attacker who holds this member's key rewrites its ledger: the
		 * first message it authored gets new content, re-signed, and every
		 * hash after it and the recorded head are recomputed. */
		irn_home_close(&home);
		if (irn_home_open(hdir, true, false, &home) != IRN_OK)
			return 1;
		sqlite3 *db = irn_ledger_db(home->ledger);
		sqlite3_exec(db, "DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete;"
			     " DROP TRIGGER IF EXISTS ledger_no_replace; BEGIN", NULL, NULL, NULL);
		sqlite3_stmt *st;
		sqlite3_prepare_v2(db, "SELECT idx, data FROM ledger WHERE type = 2 AND sender = ?"
				   " AND kind = 19 ORDER BY idx LIMIT 1", -1, &st, NULL);
		sqlite3_bind_text(st, 1, home->cfg.id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW)
			return 1;
		int64_t first = sqlite3_column_int64(st, 0);
		Irnet__Envelope *e = irnet__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 1),
							     sqlite3_column_blob(st, 1));
		sqlite3_finalize(st);
		Irnet__Body *b = irnet__body__unpack(NULL, e->body.len, e->body.data);
		static uint8_t forged_text[] = "Nội dung đã bị sửa";
		uint8_t *orig = b->payload.data;
		size_t orig_len = b->payload.len;
		b->payload.data = forged_text;
		b->payload.len = sizeof forged_text - 1;
		uint8_t *nenv = NULL;
		size_t nlen = 0;
		if (irn_envelope_build(home->keys, home->cfg.network, b->header, b->payload.data,
				       b->payload.len, &nenv, &nlen) != IRN_OK)
			return 1;
		b->payload.data = orig; /* give back what protobuf-c will free */
		b->payload.len = orig_len;
		sqlite3_prepare_v2(db, "UPDATE ledger SET data = ? WHERE idx = ?", -1, &st, NULL);
		sqlite3_bind_blob(st, 1, nenv, (int)nlen, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, first);
		sqlite3_step(st);
		sqlite3_finalize(st);
		free(nenv);
		/* re-chain everything from there */
		uint8_t prev[IRN_HASH_LEN] = { 0 }, hh[IRN_HASH_LEN];
		sqlite3_stmt *sel, *upd;
		sqlite3_prepare_v2(db, "SELECT idx, type, accepted_ms, roster_version, data, receipt, hash"
				   " FROM ledger ORDER BY idx", -1, &sel, NULL);
		sqlite3_prepare_v2(db, "UPDATE ledger SET prev_hash = ?, hash = ? WHERE idx = ?", -1, &upd, NULL);
		int64_t last = 0;
		while (sqlite3_step(sel) == SQLITE_ROW) {
			int64_t ix = sqlite3_column_int64(sel, 0);
			irn_ledger_entry_hash(hh, (uint64_t)ix, prev, sqlite3_column_int(sel, 1),
					      sqlite3_column_int64(sel, 2), (uint64_t)sqlite3_column_int64(sel, 3),
					      sqlite3_column_blob(sel, 4), (size_t)sqlite3_column_bytes(sel, 4),
					      sqlite3_column_blob(sel, 5), (size_t)sqlite3_column_bytes(sel, 5));
			sqlite3_reset(upd);
			sqlite3_bind_blob(upd, 1, prev, IRN_HASH_LEN, SQLITE_TRANSIENT);
			sqlite3_bind_blob(upd, 2, hh, IRN_HASH_LEN, SQLITE_TRANSIENT);
			sqlite3_bind_int64(upd, 3, ix);
			sqlite3_step(upd);
			memcpy(prev, hh, IRN_HASH_LEN);
			last = ix;
		}
		sqlite3_finalize(sel);
		sqlite3_finalize(upd);
		if (irn_meta_set_int(home->ledger, "head_idx", last) != IRN_OK ||
		    irn_meta_set_blob(home->ledger, "head_hash", prev, IRN_HASH_LEN) != IRN_OK)
			return 1;
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		irnet__body__free_unpacked(b, NULL);
		irnet__envelope__free_unpacked(e, NULL);
		printf("REWRITTEN from entry %lld\n", (long long)first);
		irn_home_close(&home);
		return 0;
	}
	irn_keys *tk = home->keys, *rk = NULL;
	if (random_key) {
		if (irn_keys_generate(&rk) != IRN_OK)
			return 1;
		tk = rk;
	}
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_DEALER);
	int zero = 0;
	zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
	zmq_socket_monitor(sock, "inproc://probe-mon", ZMQ_EVENT_ALL);
	mon = zmq_socket(ctx, ZMQ_PAIR);
	zmq_connect(mon, "inproc://probe-mon");
	irn_curve_client(sock, tk, broker->transport_pk);
	zmq_connect(sock, endpoint);
	int hs = wait_handshake();
	if (!strcmp(action, "handshake")) {
		puts(hs == 1 ? "CONNECTED" : hs == 0 ? "AUTH-FAILED" : "TIMEOUT");
		return hs == 1 ? 0 : hs == 0 ? 3 : 4;
	}
	if (hs != 1) {
		puts(hs == 0 ? "AUTH-FAILED" : "TIMEOUT");
		return 3;
	}
	const char *me = home->cfg.id;
	size_t len;
	if (strcmp(action, "second") != 0 && strcmp(action, "garbage") != 0 &&
	    strcmp(action, "oversize") != 0 && strcmp(action, "multiframe") != 0) {
		/* learn where our sequence stands */
		Irnet__Hello hl = IRNET__HELLO__INIT;
		hl.version = IRN_PROTOCOL_VERSION;
		hl.roster_version = home->roster->version;
		hl.delivered_upto = UINT64_MAX / 2; /* we want no deliveries */
		Irnet__Packet hp = IRNET__PACKET__INIT;
		hp.p_case = IRNET__PACKET__P_HELLO;
		hp.hello = &hl;
		irn_packet_send(sock, NULL, 0, &hp);
		zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
		while (zmq_poll(&it, 1, 3000) > 0) {
			zmq_msg_t m;
			zmq_msg_init(&m);
			zmq_msg_recv(&m, sock, 0);
			Irnet__Packet *p = irnet__packet__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
			zmq_msg_close(&m);
			bool welcome = p && p->p_case == IRNET__PACKET__P_WELCOME;
			if (welcome)
				next_seq = p->welcome->last_sequence + 1;
			if (p)
				irnet__packet__free_unpacked(p, NULL);
			if (welcome)
				break;
		}
	}
	if (!strcmp(action, "report")) {
		uint8_t *env = make_report(home->keys, me, IRNET__KIND__KIND_INITIAL_REPORT, NULL, &len);
		submit(env, len);
		print_reply();
		free(env);
	} else if (!strcmp(action, "forged")) {
		/* a forged signature, then the genuine message with the same id */
		uint8_t *env = make_report(home->keys, me, IRNET__KIND__KIND_INITIAL_REPORT, NULL, &len);
		Irnet__Envelope *e = irnet__envelope__unpack(NULL, len, env);
		e->signature.data[10] ^= 0x01;
		size_t fl = irnet__envelope__get_packed_size(e);
		uint8_t *forged = malloc(fl);
		irnet__envelope__pack(e, forged);
		e->signature.data[10] ^= 0x01;
		irnet__envelope__free_unpacked(e, NULL);
		submit(forged, fl);
		print_reply();
		submit(env, len);
		print_reply();
		free(forged);
		free(env);
	} else if (!strcmp(action, "impersonate") && i + 1 < argc) {
		/* connect as ourselves, sign with another member's key and name */
		irn_home *other = NULL;
		if (irn_home_open(argv[i + 1], true, true, &other) != IRN_OK)
			return 1;
		uint8_t *env = make_report(other->keys, other->cfg.id, IRNET__KIND__KIND_INITIAL_REPORT,
					   NULL, &len);
		submit(env, len);
		print_reply();
		free(env);
		irn_home_close(&other);
	} else if (!strcmp(action, "replay")) {
		/* same envelope twice: the second gets the same receipt again */
		uint8_t *env = make_report(home->keys, me, IRNET__KIND__KIND_INITIAL_REPORT, NULL, &len);
		submit(env, len);
		print_reply();
		submit(env, len);
		print_reply();
		/* same id, other content */
		Irnet__Envelope *e = irnet__envelope__unpack(NULL, len, env);
		Irnet__Body *b = irnet__body__unpack(NULL, e->body.len, e->body.data);
		uint8_t *env2 = make_report(home->keys, me, IRNET__KIND__KIND_INITIAL_REPORT,
					    b->header->message_id.data, &len);
		submit(env2, len);
		print_reply();
		irnet__body__free_unpacked(b, NULL);
		irnet__envelope__free_unpacked(e, NULL);
		free(env);
		free(env2);
	} else if ((!strcmp(action, "flood") || !strcmp(action, "flood-for")) && i + 1 < argc) {
		/* as fast as possible, no window; valid or (bad) forged signatures;
		 * flood COUNT, or flood-for SECONDS */
		bool timed = !strcmp(action, "flood-for");
		long count = timed ? LONG_MAX : strtol(argv[i + 1], NULL, 10);
		int64_t deadline = timed ? irn_now_ms() + (int64_t)(atof(argv[i + 1]) * 1000) : 0;
		bool bad = i + 2 < argc && !strcmp(argv[i + 2], "bad");
		uint8_t *env = make_report(home->keys, me, IRNET__KIND__KIND_INITIAL_REPORT, NULL, &len);
		Irnet__Envelope *e = irnet__envelope__unpack(NULL, len, env);
		Irnet__Body *b = irnet__body__unpack(NULL, e->body.len, e->body.data);
		long receipts = 0, errors = 0;
		uint64_t seq0 = next_seq;
		zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
		long k;
		bool presigned = timed && i + 2 < argc && !strcmp(argv[i + 2], "presigned");
		/* one envelope: sequence seq0 + k (signed, or with a forged signature) */
		uint8_t **pre = NULL;
		size_t *prelen = NULL;
		long npre = 0;
		if (presigned) {
			npre = (long)(atof(argv[i + 1]) * 25000);
			pre = calloc((size_t)npre, sizeof *pre);
			prelen = calloc((size_t)npre, sizeof *prelen);
			if (pre == NULL || prelen == NULL)
				return 1;
		}
		for (long p = 0; p < (presigned ? npre : 0); p++)
			if ((pre[p] = flood_envelope(b, e, seq0 + (uint64_t)p, bad, &prelen[p])) == NULL)
				return 1;
		if (presigned) {
			fprintf(stderr, "FLOODING\n");
			deadline = irn_now_ms() + (int64_t)(atof(argv[i + 1]) * 1000);
		}
		for (k = 0; k < count && (!timed || (k % 64) || irn_now_ms() < deadline); k++) {
			if (presigned && k >= npre)
				break;
			/* presigned: as fast as the broker answers, 1 000 in flight like
			 * a node's window: its queue stays full and never overflows
			 * (an overflow refuses the rest as a sequence gap, which would
			 * end the flood), the worst a member within its rate can do */
			while (presigned && k - (receipts + errors) >= 1000 && irn_now_ms() < deadline &&
			       zmq_poll(&it, 1, 5) >= 0)
				while (zmq_poll(&it, 1, 0) > 0)
					count_reply(&receipts, &errors);
			size_t nl;
			uint8_t *nb = presigned ? pre[k] : flood_envelope(b, e, seq0 + (uint64_t)k, bad, &nl);
			if (nb == NULL)
				return 1;
			/* presigned: a full send queue (the socket's high-water mark)
			 * waits instead of losing the message */
			while (submit(nb, presigned ? prelen[k] : nl) != 0 && presigned &&
			       irn_now_ms() < deadline)
				while (zmq_poll(&it, 1, 1) > 0)
					count_reply(&receipts, &errors);
			free(nb);
			if (presigned)
				pre[k] = NULL;
			while (zmq_poll(&it, 1, 0) > 0) { /* count replies as they come */
				count_reply(&receipts, &errors);
			}
		}
		for (long p = 0; p < npre; p++)
			free(pre[p]);
		free(pre);
		free(prelen);
		int64_t end = irn_now_ms() + 3000;
		while (irn_now_ms() < end && zmq_poll(&it, 1, 200) > 0) {
			count_reply(&receipts, &errors);
		}
		printf("sent %ld receipts %ld errors %ld limited_with_id %ld\n", k, receipts, errors,
		       limited_with_id);
		irnet__body__free_unpacked(b, NULL);
		irnet__envelope__free_unpacked(e, NULL);
		free(env);
	} else if (!strcmp(action, "latency") && i + 1 < argc) {
		/* one report at a time, each waiting for its receipt */
		long count = strtol(argv[i + 1], NULL, 10);
		double *ms = calloc((size_t)count, sizeof *ms);
		long got = 0;
		zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
		for (long k = 0; k < count && got == k; k++) { /* stop at the first timeout */
			uint8_t *env = make_report(home->keys, me, IRNET__KIND__KIND_INITIAL_REPORT, NULL, &len);
			next_seq++;
			struct timespec t0, t1;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			submit(env, len);
			free(env);
			while (zmq_poll(&it, 1, 5000) > 0) {
				zmq_msg_t m;
				zmq_msg_init(&m);
				zmq_msg_recv(&m, sock, 0);
				Irnet__Packet *p = irnet__packet__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
				bool done = p && (p->p_case == IRNET__PACKET__P_RECEIPT || p->p_case == IRNET__PACKET__P_ERROR);
				if (p)
					irnet__packet__free_unpacked(p, NULL);
				zmq_msg_close(&m);
				if (done) {
					clock_gettime(CLOCK_MONOTONIC, &t1);
					ms[got++] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
					break;
				}
			}
		}
		for (long a = 1; a < got; a++) /* insertion sort: small n */
			for (long c = a; c > 0 && ms[c - 1] > ms[c]; c--) {
				double t = ms[c];
				ms[c] = ms[c - 1];
				ms[c - 1] = t;
			}
		if (got == 0)
			puts("TIMEOUT");
		else
			printf("n %ld p50 %.2f p99 %.2f max %.2f p90 %.2f\n", got, ms[got / 2],
			       ms[(long)((double)got * 0.99) < got ? (long)((double)got * 0.99) : got - 1],
			       ms[got - 1], ms[(long)((double)got * 0.9)]);
		free(ms);
	} else if (!strcmp(action, "second")) {
		/* a second session with a key whose member is already connected */
		Irnet__Hello hl = IRNET__HELLO__INIT;
		hl.version = IRN_PROTOCOL_VERSION;
		hl.roster_version = home->roster->version;
		Irnet__Packet p = IRNET__PACKET__INIT;
		p.p_case = IRNET__PACKET__P_HELLO;
		p.hello = &hl;
		irn_packet_send(sock, NULL, 0, &p);
		print_reply(); /* ERR_SESSION_EXISTS, signed by the broker */
		puts(wait_disconnect(3000) ? "DISCONNECTED" : "STILL-CONNECTED");
	} else if (!strcmp(action, "garbage")) {
		uint8_t junk[512];
		randombytes_buf(junk, sizeof junk);
		junk[0] = 0xff; /* never a valid first tag */
		zmq_send(sock, junk, sizeof junk, 0);
		puts(wait_disconnect(3000) ? "DISCONNECTED" : "STILL-CONNECTED");
	} else if (!strcmp(action, "oversize")) {
		size_t n = IRN_MAX_FRAME_IN + 4096;
		uint8_t *big = calloc(1, n);
		zmq_send(sock, big, n, 0);
		free(big);
		puts(wait_disconnect(3000) ? "DISCONNECTED" : "STILL-CONNECTED");
	} else if (!strcmp(action, "multiframe")) {
		uint8_t *env = make_report(home->keys, me, IRNET__KIND__KIND_INITIAL_REPORT, NULL, &len);
		Irnet__Packet p = IRNET__PACKET__INIT;
		p.p_case = IRNET__PACKET__P_SUBMIT;
		p.submit.data = env;
		p.submit.len = len;
		size_t pl = irnet__packet__get_packed_size(&p);
		uint8_t *buf = malloc(pl);
		irnet__packet__pack(&p, buf);
		zmq_send(sock, buf, pl, ZMQ_SNDMORE);
		zmq_send(sock, buf, pl, 0);
		puts(wait_disconnect(3000) ? "DISCONNECTED" : "STILL-CONNECTED");
		free(buf);
		free(env);
	} else {
		fprintf(stderr, "irnet-probe: unknown action %s\n", action);
		return 2;
	}
	zmq_socket_monitor(sock, NULL, 0);
	zmq_close(mon);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	irn_keys_free(&rk);
	irn_home_close(&home);
	return 0;
}
