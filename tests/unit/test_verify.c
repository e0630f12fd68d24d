/* test_verify.c - irn_ledger_verify on a broker-like ledger of 2 600 messages
 * with batch-signed receipts (batches of 100, as broker/receipts.c writes
 * them): the pool of threads must name exactly the entry and reason a serial
 * walk names, across chunks, whatever the number of threads; every kind of
 * receipt tampering is caught. */
#define _GNU_SOURCE /* memmem */
#include "helpers.h"
#include "home.h"
#include "ledger.h"
#include "merkle.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sqlite3.h>

#define OP     "kontum/op-benhvien"
#define SELF   "kontum/broker"
#define N_MSG  2600
#define BATCH  100
#define LAST   (1 + N_MSG)

typedef struct fx {
	char tmp[64], home[128], db[160];
	irn_keys *auth, *op;
	irn_home *h;
} fx;

static int
setup(void **state)
{
	th_init();
	fx *f = calloc(1, sizeof *f);
	snprintf(f->tmp, sizeof f->tmp, "/tmp/irnet-unit.XXXXXX");
	if (f == NULL || mkdtemp(f->tmp) == NULL)
		return -1;
	snprintf(f->home, sizeof f->home, "%s/home", f->tmp);
	snprintf(f->db, sizeof f->db, "%s/ledger.db", f->home);
	f->auth = th_keys();
	f->op = th_keys();
	irn_config cfg;
	irn_config_defaults(&cfg);
	snprintf(cfg.id, sizeof cfg.id, "%s", SELF);
	snprintf(cfg.network, sizeof cfg.network, "%s", TH_NET);
	assert_int_equal(irn_home_create(f->home, &cfg, f->auth->sign_pk), IRN_OK);
	assert_int_equal(irn_home_open(f->home, true, false, &f->h), IRN_OK);
	th_member m[] = {
		{ .id = OP, .keys = f->op, .roles = { IRNET__ROLE__ROLE_OPERATOR } },
		{ .id = SELF, .keys = f->h->keys, .roles = { IRNET__ROLE__ROLE_BROKER } },
	};
	th_roster_spec s = { .version = 2, .signer = f->auth, .members = m, .n_members = 2 };
	size_t rlen;
	uint8_t *rb = th_roster(&s, &rlen);
	char why[256] = "";
	assert_int_equal(irn_home_accept_roster(f->h, rb, rlen, why, sizeof why), IRN_OK);
	free(rb);
	/* batches of BATCH messages, each sealed like broker/receipts.c does */
	const irn_roster *r = f->h->roster;
	for (uint64_t first = 2; first <= LAST; first += BATCH) {
		size_t n = BATCH;
		uint8_t *env[BATCH], eh[BATCH][IRN_HASH_LEN], ids[BATCH][IRN_MSGID_LEN],
			lv[BATCH][IRN_HASH_LEN];
		size_t elen[BATCH];
		Irnet__Receipt rc[BATCH];
		int64_t now = irn_now_ms();
		for (size_t i = 0; i < n; i++) {
			env[i] = th_report_envelope(f->op, TH_NET, OP, first - 1 + i, ids[i], &elen[i]);
			irn_hash(eh[i], env[i], elen[i]);
			irnet__receipt__init(&rc[i]);
			rc[i].envelope_hash.data = eh[i];
			rc[i].envelope_hash.len = IRN_HASH_LEN;
			rc[i].message_id.data = ids[i];
			rc[i].message_id.len = IRN_MSGID_LEN;
			rc[i].sender = (char *)OP;
			rc[i].accepted_ms = now;
			rc[i].ledger_index = first + i;
			rc[i].roster_version = r->version;
			rc[i].has_roster_hash = true;
			rc[i].roster_hash.data = (uint8_t *)r->hash;
			rc[i].roster_hash.len = IRN_HASH_LEN;
			uint8_t *leaf;
			size_t ll;
			assert_int_equal(irn_receipt_leaf(&rc[i], &leaf, &ll), IRN_OK);
			irn_merkle_leaf(lv[i], leaf, ll);
			free(leaf);
		}
		irn_merkle t;
		assert_int_equal(irn_merkle_build(&t, (const uint8_t (*)[IRN_HASH_LEN])lv, n), IRN_OK);
		Irnet__BatchRoot br = IRNET__BATCH_ROOT__INIT;
		br.root.data = (uint8_t *)irn_merkle_root(&t);
		br.root.len = IRN_HASH_LEN;
		br.first_index = first;
		br.count = (uint32_t)n;
		br.roster_version = r->version;
		uint8_t bp[128], *root_env = NULL;
		size_t bl = irnet__batch_root__pack(&br, bp), root_len = 0;
		assert_int_equal(irn_broker_reply(f->h->keys, TH_NET, SELF, NULL, IRNET__KIND__KIND_RECEIPT,
						  first, NULL, false, bp, bl, &root_env, &root_len),
				 IRN_OK);
		assert_int_equal(irn_ledger_begin(f->h->ledger), IRN_OK);
		for (size_t i = 0; i < n; i++) {
			uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
			ProtobufCBinaryData pb[IRN_MERKLE_MAX_PATH];
			size_t pl = irn_merkle_path(&t, i, path);
			for (size_t k = 0; k < pl; k++) {
				pb[k].data = path[k];
				pb[k].len = IRN_HASH_LEN;
			}
			rc[i].n_path = pl;
			rc[i].path = pb;
			rc[i].has_batch_root = true;
			rc[i].batch_root.data = root_env;
			rc[i].batch_root.len = root_len;
			size_t rl = irnet__receipt__get_packed_size(&rc[i]);
			uint8_t *rcb = malloc(rl);
			irnet__receipt__pack(&rc[i], rcb);
			irn_entry e = { .type = IRN_ENTRY_MESSAGE, .accepted_ms = now,
					.roster_version = r->version, .sender = OP, .message_id = ids[i],
					.kind = IRNET__KIND__KIND_INITIAL_REPORT, .sequence = first - 1 + i,
					.data = env[i], .len = elen[i], .receipt = rcb, .rlen = rl };
			uint64_t idx = 0;
			assert_int_equal(irn_ledger_append(f->h->ledger, &e, &idx), IRN_OK);
			assert_int_equal(idx, first + i);
			free(rcb);
			free(env[i]);
		}
		assert_int_equal(irn_ledger_commit(f->h->ledger), IRN_OK);
		free(root_env);
		irn_merkle_free(&t);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	irn_home_close(&f->h);
	irn_keys_free(&f->auth);
	irn_keys_free(&f->op);
	assert_int_equal(th_rmrf(f->tmp), 0);
	free(f);
	unsetenv("IRNET_VERIFY_THREADS");
	return 0;
}

/* ---- tampering through a raw connection ---- */

static sqlite3 *
raw(fx *f)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_exec(db, "DROP TRIGGER IF EXISTS ledger_no_update;", NULL, NULL, NULL);
	return db;
}

static size_t
get(sqlite3 *db, const char *col, int64_t idx, uint8_t *buf, size_t cap)
{
	char q[128];
	snprintf(q, sizeof q, "SELECT %s FROM ledger WHERE idx = ?", col);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, idx);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	size_t n = (size_t)sqlite3_column_bytes(st, 0);
	assert_true(n <= cap);
	memcpy(buf, sqlite3_column_blob(st, 0), n);
	sqlite3_finalize(st);
	return n;
}

static void
put(sqlite3 *db, const char *col, int64_t idx, const uint8_t *buf, size_t n)
{
	char q[128];
	snprintf(q, sizeof q, "UPDATE ledger SET %s = ? WHERE idx = ?", col);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, buf, (int)n, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, idx);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Re-chain everything (the formula is public) and move the recorded head. */
static void
rechain(sqlite3 *db)
{
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	sqlite3_stmt *sel, *upd;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT idx, type, accepted_ms, roster_version, data,"
					    " receipt FROM ledger ORDER BY idx", -1, &sel, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE ledger SET prev_hash = ?, hash = ? WHERE idx = ?",
					    -1, &upd, NULL), SQLITE_OK);
	uint8_t prev[IRN_HASH_LEN] = { 0 }, h[IRN_HASH_LEN];
	while (sqlite3_step(sel) == SQLITE_ROW) {
		int64_t idx = sqlite3_column_int64(sel, 0);
		irn_ledger_entry_hash(h, (uint64_t)idx, prev, sqlite3_column_int(sel, 1),
				      sqlite3_column_int64(sel, 2), (uint64_t)sqlite3_column_int64(sel, 3),
				      sqlite3_column_blob(sel, 4), (size_t)sqlite3_column_bytes(sel, 4),
				      sqlite3_column_blob(sel, 5), (size_t)sqlite3_column_bytes(sel, 5));
		sqlite3_reset(upd);
		sqlite3_bind_blob(upd, 1, prev, IRN_HASH_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(upd, 2, h, IRN_HASH_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int64(upd, 3, idx);
		assert_int_equal(sqlite3_step(upd), SQLITE_DONE);
		memcpy(prev, h, IRN_HASH_LEN);
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_stmt *m;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(k, v) VALUES('head_hash', ?)",
					    -1, &m, NULL), SQLITE_OK);
	sqlite3_bind_blob(m, 1, prev, IRN_HASH_LEN, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(m), SQLITE_DONE);
	sqlite3_finalize(m);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

/* Verify with 1 and 2 threads: the same outcome every time. */
static void
expect(fx *f, uint64_t first_bad, const char *reason_part)
{
	static const char *threads[] = { "1", "2" };
	for (size_t i = 0; i < 2; i++) {
		setenv("IRNET_VERIFY_THREADS", threads[i], 1);
		irn_verify_result res;
		irn_err e = irn_ledger_verify(f->h->ledger, TH_NET, &res);
		if (first_bad == 0) {
			if (e != IRN_OK)
				print_error("threads %s: entry %llu: %s\n", threads[i],
					    (unsigned long long)res.first_bad, res.reason);
			assert_int_equal(e, IRN_OK);
			assert_int_equal(res.entries, LAST);
			continue;
		}
		assert_int_equal(e, IRN_ERR_INVALID);
		if (res.first_bad != first_bad || strstr(res.reason, reason_part) == NULL)
			print_error("threads %s: entry %llu: %s (wanted %llu: %s)\n", threads[i],
				    (unsigned long long)res.first_bad, res.reason,
				    (unsigned long long)first_bad, reason_part);
		assert_int_equal(res.first_bad, first_bad);
		assert_non_null(strstr(res.reason, reason_part));
		assert_int_equal(res.entries, first_bad); /* rows read up to the bad one */
	}
}

static void
test_clean(void **state)
{
	fx *f = *state;
	expect(f, 0, NULL);
}

/* A bad signature late, a bad receipt earlier in another chunk, a broken
 * link after both: always the earliest, with its own reason. */
static void
test_first_bad_across_chunks(void **state)
{
	fx *f = *state;
	sqlite3 *db = raw(f);
	uint8_t buf[IRN_MAX_RECEIPT], orig_env[8192], orig_rc[IRN_MAX_RECEIPT];
	/* 1. entry 2300: one bit of the envelope's signature */
	size_t en = get(db, "data", 2300, orig_env, sizeof orig_env);
	memcpy(buf, orig_env, en);
	buf[en - 5] ^= 0x10;
	put(db, "data", 2300, buf, en);
	rechain(db);
	expect(f, 2300, "message does not verify: signature does not verify");
	/* 2. plus a broken link at 2500 (after it): still 2300 */
	uint8_t ph[IRN_HASH_LEN];
	get(db, "prev_hash", 2500, ph, sizeof ph);
	ph[0] ^= 1;
	put(db, "prev_hash", 2500, ph, sizeof ph);
	expect(f, 2300, "message does not verify");
	/* 3. plus entry 1100's receipt: one bit of its inclusion path */
	size_t rn = get(db, "receipt", 1100, orig_rc, sizeof orig_rc);
	Irnet__Receipt *r = NULL;
	assert_null(irn_receipt_decode(orig_rc, rn, &r));
	assert_true(r->n_path > 0);
	const uint8_t *at = memmem(orig_rc, rn, r->path[0].data, IRN_HASH_LEN);
	assert_non_null(at);
	size_t off = (size_t)(at - orig_rc) + 3; /* inside the first path hash */
	irnet__receipt__free_unpacked(r, NULL);
	memcpy(buf, orig_rc, rn);
	buf[off] ^= 0x01;
	put(db, "receipt", 1100, buf, rn);
	rechain(db); /* also repairs 2500's link */
	expect(f, 1100, "receipt does not verify: inclusion path does not lead to the signed batch root");
	/* 4. and a broken link at 50, before everything: 50 */
	get(db, "prev_hash", 50, ph, sizeof ph);
	ph[3] ^= 1;
	put(db, "prev_hash", 50, ph, sizeof ph);
	expect(f, 50, "previous-hash link broken");
	/* all undone */
	put(db, "data", 2300, orig_env, en);
	put(db, "receipt", 1100, orig_rc, rn);
	rechain(db);
	expect(f, 0, NULL);
	sqlite3_close(db);
}

static void
test_receipt_tampering(void **state)
{
	fx *f = *state;
	sqlite3 *db = raw(f);
	uint8_t a[IRN_MAX_RECEIPT], b[IRN_MAX_RECEIPT];
	/* two receipts of the same batch swapped: each is a genuine receipt
	 * (path and batch root verify), of another envelope */
	size_t an = get(db, "receipt", 1500, a, sizeof a), bn = get(db, "receipt", 1501, b, sizeof b);
	put(db, "receipt", 1500, b, bn);
	put(db, "receipt", 1501, a, an);
	rechain(db);
	expect(f, 1500, "receipt names another envelope");
	put(db, "receipt", 1500, a, an);
	put(db, "receipt", 1501, b, bn);
	/* a genuine receipt from another batch: it names another envelope */
	size_t cn = get(db, "receipt", 1400, b, sizeof b);
	put(db, "receipt", 1500, b, cn);
	rechain(db);
	expect(f, 1500, "receipt names another envelope");
	/* the batch root re-signed by the operator (not a broker) */
	Irnet__Receipt *r = NULL;
	assert_null(irn_receipt_decode(a, an, &r));
	Irnet__Envelope *env = irnet__envelope__unpack(NULL, r->batch_root.len, r->batch_root.data);
	Irnet__Body *body = irnet__body__unpack(NULL, env->body.len, env->body.data);
	char *real_sender = body->header->sender;
	body->header->sender = (char *)OP;
	uint8_t *forged;
	size_t flen;
	assert_int_equal(irn_envelope_build(f->op, TH_NET, body->header, body->payload.data,
					    body->payload.len, &forged, &flen), IRN_OK);
	body->header->sender = real_sender; /* protobuf-c frees its own */
	Irnet__Receipt x = *r;
	x.batch_root.data = forged;
	x.batch_root.len = flen;
	size_t xl = irnet__receipt__get_packed_size(&x);
	uint8_t *xb = malloc(xl);
	irnet__receipt__pack(&x, xb);
	put(db, "receipt", 1500, xb, xl);
	rechain(db);
	expect(f, 1500, "receipt does not verify: role may not send this kind");
	free(xb);
	free(forged);
	irnet__body__free_unpacked(body, NULL);
	irnet__envelope__free_unpacked(env, NULL);
	irnet__receipt__free_unpacked(r, NULL);
	/* garbage */
	put(db, "receipt", 1500, (const uint8_t *)"\x0a\x20junk", 6);
	rechain(db);
	expect(f, 1500, "receipt does not verify: receipt does not decode");
	put(db, "receipt", 1500, a, an);
	rechain(db);
	expect(f, 0, NULL);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_first_bad_across_chunks),
		cmocka_unit_test(test_receipt_tampering),
	};
	/* one ledger for the group (2 600 signatures to build) */
	return cmocka_run_group_tests(tests, setup, teardown);
}
