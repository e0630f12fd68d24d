/* test_merkle.c - batch-signed receipts (common/merkle.c): the tree over
 * 1..1000 leaves, every inclusion path, every kind of tampering, receipts
 * checked against a real roster (broker and non-broker signers), the cache,
 * and the PROTOCOL.md 16 vector that tests/hostile/irnet_wire.py also
 * reproduces. */
#include "helpers.h"
#include "merkle.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define BROKER "kontum/broker"
#define OP     "kontum/so-tttt"
#define EVIL   "kontum/mallory"

static void
hex(uint8_t *out, const char *h)
{
	size_t n = strlen(h) / 2, got = 0;
	assert_int_equal(sodium_hex2bin(out, n, h, strlen(h), NULL, &got, NULL), 0);
	assert_int_equal(got, n);
}

static void
leaves_for(uint8_t (*lv)[IRN_HASH_LEN], size_t n, uint32_t salt)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b[8];
		memcpy(b, &salt, 4);
		uint32_t x = (uint32_t)i;
		memcpy(b + 4, &x, 4);
		irn_merkle_leaf(lv[i], b, sizeof b);
	}
}

static bool
verify_path(const uint8_t *root, const uint8_t *leaf, size_t m, size_t n,
	    uint8_t (*path)[IRN_HASH_LEN], size_t plen)
{
	const uint8_t *pp[IRN_MERKLE_MAX_PATH];
	for (size_t i = 0; i < plen; i++)
		pp[i] = path[i];
	return irn_merkle_verify(root, leaf, m, n, pp, plen);
}

/* A reference root, written the RFC 9162 way (split at the largest power of
 * two below n), to pin the bottom-up build to that shape. */
static void
rfc_root(uint8_t out[IRN_HASH_LEN], uint8_t (*lv)[IRN_HASH_LEN], size_t n)
{
	if (n == 1) {
		memcpy(out, lv[0], IRN_HASH_LEN);
		return;
	}
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	uint8_t l[IRN_HASH_LEN], r[IRN_HASH_LEN];
	rfc_root(l, lv, k);
	rfc_root(r, lv + k, n - k);
	irn_merkle_node(out, l, r);
}

static void
test_every_size_every_path(void **state)
{
	(void)state;
	static uint8_t lv[1000][IRN_HASH_LEN], other[1000][IRN_HASH_LEN];
	leaves_for(lv, 1000, 1);
	leaves_for(other, 1000, 2);
	for (size_t n = 1; n <= 1000; n = n < 70 ? n + 1 : n + 37 + (n % 3)) {
		irn_merkle t, t2;
		assert_int_equal(irn_merkle_build(&t, (const uint8_t (*)[IRN_HASH_LEN])lv, n), IRN_OK);
		assert_int_equal(irn_merkle_build(&t2, (const uint8_t (*)[IRN_HASH_LEN])other, n), IRN_OK);
		uint8_t ref[IRN_HASH_LEN];
		rfc_root(ref, lv, n);
		assert_memory_equal(irn_merkle_root(&t), ref, IRN_HASH_LEN);
		const uint8_t *root = irn_merkle_root(&t);
		for (size_t m = 0; m < n; m++) {
			uint8_t path[IRN_MERKLE_MAX_PATH + 1][IRN_HASH_LEN], p2[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
			memset(path, 0, sizeof path);
			size_t plen = irn_merkle_path(&t, m, path);
			assert_true(plen <= 10);
			assert_true(verify_path(root, lv[m], m, n, path, plen));
			/* only every few leaves for the costly negative cases */
			if (n > 70 && m % 17 != 0 && m != n - 1)
				continue;
			uint8_t bad[IRN_HASH_LEN];
			/* a flipped bit in the leaf */
			memcpy(bad, lv[m], IRN_HASH_LEN);
			bad[m % IRN_HASH_LEN] ^= 0x01;
			assert_false(verify_path(root, bad, m, n, path, plen));
			/* ... in the root */
			memcpy(bad, root, IRN_HASH_LEN);
			bad[31] ^= 0x80;
			assert_false(verify_path(bad, lv[m], m, n, path, plen));
			/* ... in each hash of the path */
			for (size_t k = 0; k < plen; k++) {
				path[k][k % IRN_HASH_LEN] ^= 0x04;
				assert_false(verify_path(root, lv[m], m, n, path, plen));
				path[k][k % IRN_HASH_LEN] ^= 0x04;
			}
			/* ... in the position, and a wrong tree size */
			for (unsigned bit = 0; bit < 10; bit++) {
				size_t mm = m ^ ((size_t)1 << bit);
				if (mm < n && mm != m)
					assert_false(verify_path(root, lv[m], mm, n, path, plen));
			}
			/* a path one hash short or one too long */
			if (plen)
				assert_false(verify_path(root, lv[m], m, n, path, plen - 1));
			memcpy(path[plen], path[0], IRN_HASH_LEN);
			assert_false(verify_path(root, lv[m], m, n, path, plen + 1));
			/* the same position's path in another batch of the same size */
			size_t plen2 = irn_merkle_path(&t2, m, p2);
			assert_int_equal(plen2, plen);
			if (plen2) /* one leaf: the root is the leaf, there is no path */
				assert_false(verify_path(root, lv[m], m, n, p2, plen2));
			assert_false(verify_path(irn_merkle_root(&t2), lv[m], m, n, path, plen));
		}
		/* out of range */
		uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
		size_t plen = irn_merkle_path(&t, 0, path);
		assert_false(verify_path(root, lv[0], n, n, path, plen));
		assert_false(verify_path(root, lv[0], 0, 0, path, plen));
		irn_merkle_free(&t);
		irn_merkle_free(&t2);
	}
	irn_merkle t;
	assert_int_equal(irn_merkle_build(&t, (const uint8_t (*)[IRN_HASH_LEN])lv, 0), IRN_ERR_INVALID);
}

static void
test_wrong_size_fails(void **state)
{
	(void)state;
	static uint8_t lv[64][IRN_HASH_LEN];
	leaves_for(lv, 64, 3);
	for (size_t n = 2; n <= 64; n++) {
		irn_merkle t;
		assert_int_equal(irn_merkle_build(&t, (const uint8_t (*)[IRN_HASH_LEN])lv, n), IRN_OK);
		for (size_t m = 0; m < n; m++) {
			uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
			size_t plen = irn_merkle_path(&t, m, path);
			/* a claim about a tree of another size never holds with this
			 * path unless that tree has the same shape above this leaf */
			for (size_t n2 = m + 1; n2 <= 64; n2++) {
				if (n2 == n)
					continue;
				uint8_t r2[IRN_HASH_LEN];
				rfc_root(r2, lv, n2);
				if (memcmp(r2, irn_merkle_root(&t), IRN_HASH_LEN) != 0)
					assert_false(verify_path(r2, lv[m], m, n2, path, plen));
			}
		}
		irn_merkle_free(&t);
	}
}

/* ---- receipts against a roster ---- */

typedef struct fx {
	irn_keys *auth, *broker, *op, *evil;
	irn_roster *r;
} fx;

static int
setup(void **state)
{
	th_init();
	fx *f = calloc(1, sizeof *f);
	f->auth = th_keys();
	f->broker = th_keys();
	f->op = th_keys();
	f->evil = th_keys();
	th_member m[] = {
		{ .id = BROKER, .keys = f->broker, .roles = { IRNET__ROLE__ROLE_BROKER } },
		{ .id = OP, .keys = f->op, .roles = { IRNET__ROLE__ROLE_OPERATOR } },
		{ .id = EVIL, .keys = f->evil, .roles = { IRNET__ROLE__ROLE_COORDINATOR } },
	};
	th_roster_spec s = { .signer = f->auth, .members = m, .n_members = 3 };
	size_t len;
	uint8_t *rb = th_roster(&s, &len);
	f->r = th_roster_parse_ok(rb, len, f->auth->sign_pk, NULL);
	free(rb);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	irn_roster_free(&f->r);
	irn_keys_free(&f->auth);
	irn_keys_free(&f->broker);
	irn_keys_free(&f->op);
	irn_keys_free(&f->evil);
	free(f);
	return 0;
}

typedef struct batch {
	size_t n;
	uint8_t **rc;
	size_t *rlen;
	uint8_t (*eh)[IRN_HASH_LEN];
} batch;

/* A batch of n receipts from first_index, its root signed by k/signer_id
 * with kind (KIND_RECEIPT normally). */
static void
make_batch(fx *f, batch *b, size_t n, uint64_t first, const irn_keys *k, const char *signer_id,
	   unsigned kind)
{
	b->n = n;
	b->rc = calloc(n, sizeof *b->rc);
	b->rlen = calloc(n, sizeof *b->rlen);
	b->eh = calloc(n, IRN_HASH_LEN);
	uint8_t (*lv)[IRN_HASH_LEN] = calloc(n, IRN_HASH_LEN);
	Irnet__Receipt *rc = calloc(n, sizeof *rc);
	uint8_t (*ids)[IRN_MSGID_LEN] = calloc(n, IRN_MSGID_LEN);
	for (size_t i = 0; i < n; i++) {
		randombytes_buf(b->eh[i], IRN_HASH_LEN);
		randombytes_buf(ids[i], IRN_MSGID_LEN);
		irnet__receipt__init(&rc[i]);
		rc[i].envelope_hash.data = b->eh[i];
		rc[i].envelope_hash.len = IRN_HASH_LEN;
		rc[i].message_id.data = ids[i];
		rc[i].message_id.len = IRN_MSGID_LEN;
		rc[i].sender = (char *)OP;
		rc[i].accepted_ms = irn_now_ms();
		rc[i].ledger_index = first + i;
		rc[i].roster_version = f->r->version;
		rc[i].has_roster_hash = true;
		rc[i].roster_hash.data = f->r->hash;
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
	br.roster_version = f->r->version;
	uint8_t bp[128];
	size_t bl = irnet__batch_root__pack(&br, bp);
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	irn_header_fill(&h, id, signer_id, kind, 1, false);
	size_t elen;
	uint8_t *env = th_envelope(k, TH_NET, &h, bp, bl, &elen);
	for (size_t i = 0; i < n; i++) {
		uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
		ProtobufCBinaryData pb[IRN_MERKLE_MAX_PATH];
		size_t pl = irn_merkle_path(&t, i, path);
		for (size_t x = 0; x < pl; x++) {
			pb[x].data = path[x];
			pb[x].len = IRN_HASH_LEN;
		}
		rc[i].n_path = pl;
		rc[i].path = pb;
		rc[i].has_batch_root = true;
		rc[i].batch_root.data = env;
		rc[i].batch_root.len = elen;
		b->rlen[i] = irnet__receipt__get_packed_size(&rc[i]);
		b->rc[i] = malloc(b->rlen[i]);
		irnet__receipt__pack(&rc[i], b->rc[i]);
	}
	irn_merkle_free(&t);
	free(env);
	free(lv);
	free(rc);
	free(ids);
}

static void
free_batch(batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->rc[i]);
	free(b->rc);
	free(b->rlen);
	free(b->eh);
}

static irn_receipt_status
check(fx *f, const uint8_t *rc, size_t len, const char *broker_id, irn_root_cache *c,
      irn_refusal *why)
{
	Irnet__Receipt *out = NULL;
	int64_t now = irn_now_ms();
	irn_receipt_status st = irn_receipt_check(f->r, TH_NET, broker_id, rc, len, now, now, c, &out, why);
	if (st == IRN_RECEIPT_OK) {
		assert_non_null(out);
		irnet__receipt__free_unpacked(out, NULL);
	} else {
		assert_null(out);
	}
	return st;
}

static void
test_receipts_verify(void **state)
{
	fx *f = *state;
	irn_refusal why;
	irn_root_cache *c = irn_root_cache_new(16);
	for (size_t n = 1; n <= 33; n += (n < 9 ? 1 : 8)) {
		batch b;
		make_batch(f, &b, n, 100, f->broker, BROKER, IRNET__KIND__KIND_RECEIPT);
		uint64_t before = irn_root_cache_verified(c);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(check(f, b.rc[i], b.rlen[i], BROKER, c, &why), IRN_RECEIPT_OK);
			assert_int_equal(check(f, b.rc[i], b.rlen[i], NULL, NULL, &why), IRN_RECEIPT_OK);
		}
		/* the batch signature was verified once for the whole batch */
		assert_int_equal(irn_root_cache_verified(c) - before, 1);
		free_batch(&b);
	}
	irn_root_cache_free(&c);
}

static void
test_receipt_tampering(void **state)
{
	fx *f = *state;
	irn_refusal why;
	batch b, other;
	make_batch(f, &b, 7, 40, f->broker, BROKER, IRNET__KIND__KIND_RECEIPT);
	make_batch(f, &other, 7, 40, f->broker, BROKER, IRNET__KIND__KIND_RECEIPT);
	for (size_t i = 0; i < b.n; i++) {
		Irnet__Receipt *r = NULL;
		assert_null(irn_receipt_decode(b.rc[i], b.rlen[i], &r));
		/* every single bit of the receipt: nothing verifies but the original
		 * (bits inside the batch root's signature, key id, body or the
		 * leaf, the path, the position (ledger_index), lengths, tags) */
		for (size_t byte = 0; byte < b.rlen[i]; byte += (i == 0 ? 1 : 5)) {
			for (unsigned bit = 0; bit < 8; bit += (i == 0 ? 1 : 3)) {
				b.rc[i][byte] ^= (uint8_t)(1u << bit);
				irn_root_cache *c = irn_root_cache_new(4);
				irn_receipt_status st = check(f, b.rc[i], b.rlen[i], BROKER, c, &why);
				irn_root_cache_free(&c);
				b.rc[i][byte] ^= (uint8_t)(1u << bit);
				if (st == IRN_RECEIPT_OK)
					print_error("receipt %zu byte %zu bit %u: still verifies\n", i, byte, bit);
				assert_int_not_equal(st, IRN_RECEIPT_OK);
			}
		}
		/* the path of another batch (same positions, same size) */
		Irnet__Receipt *o = NULL;
		assert_null(irn_receipt_decode(other.rc[i], other.rlen[i], &o));
		if (r->n_path) {
			Irnet__Receipt mix = *r;
			mix.path = o->path;
			mix.n_path = o->n_path;
			size_t ml = irnet__receipt__get_packed_size(&mix);
			uint8_t *mb = malloc(ml);
			irnet__receipt__pack(&mix, mb);
			assert_int_equal(check(f, mb, ml, BROKER, NULL, &why), IRN_RECEIPT_BAD);
			assert_string_equal(why.reason, "inclusion path does not lead to the signed batch root");
			free(mb);
			/* our leaf and path under the other batch's (genuinely signed) root */
			mix = *r;
			mix.batch_root = o->batch_root;
			ml = irnet__receipt__get_packed_size(&mix);
			mb = malloc(ml);
			irnet__receipt__pack(&mix, mb);
			assert_int_equal(check(f, mb, ml, BROKER, NULL, &why), IRN_RECEIPT_BAD);
			free(mb);
		}
		/* a receipt claiming another position (ledger index) */
		Irnet__Receipt moved = *r;
		moved.ledger_index = r->ledger_index + 1 < 47 ? r->ledger_index + 1 : 40;
		size_t ml = irnet__receipt__get_packed_size(&moved);
		uint8_t *mb = malloc(ml);
		irnet__receipt__pack(&moved, mb);
		assert_int_equal(check(f, mb, ml, BROKER, NULL, &why), IRN_RECEIPT_BAD);
		free(mb);
		/* outside the batch */
		moved.ledger_index = 47;
		ml = irnet__receipt__get_packed_size(&moved);
		mb = malloc(ml);
		irnet__receipt__pack(&moved, mb);
		assert_int_equal(check(f, mb, ml, BROKER, NULL, &why), IRN_RECEIPT_BAD);
		assert_string_equal(why.reason, "receipt outside its batch");
		free(mb);
		/* a path longer than 32 */
		ProtobufCBinaryData longp[IRN_MERKLE_MAX_PATH + 1];
		uint8_t z[IRN_HASH_LEN] = { 0 };
		for (size_t k = 0; k <= IRN_MERKLE_MAX_PATH; k++) {
			longp[k].data = z;
			longp[k].len = IRN_HASH_LEN;
		}
		Irnet__Receipt lp = *r;
		lp.path = longp;
		lp.n_path = IRN_MERKLE_MAX_PATH + 1;
		ml = irnet__receipt__get_packed_size(&lp);
		mb = malloc(ml);
		irnet__receipt__pack(&lp, mb);
		assert_int_equal(check(f, mb, ml, BROKER, NULL, &why), IRN_RECEIPT_BAD);
		assert_string_equal(why.reason, "inclusion path too long");
		free(mb);
		irnet__receipt__free_unpacked(o, NULL);
		irnet__receipt__free_unpacked(r, NULL);
	}
	free_batch(&b);
	free_batch(&other);
}

static void
test_receipt_wrong_signer(void **state)
{
	fx *f = *state;
	irn_refusal why;
	batch b;
	/* a batch root signed by a member without the broker role (it may not
	 * even send kind RECEIPT: refused by the envelope checks) */
	make_batch(f, &b, 5, 1, f->evil, EVIL, IRNET__KIND__KIND_RECEIPT);
	for (size_t i = 0; i < b.n; i++) {
		irn_receipt_status st = check(f, b.rc[i], b.rlen[i], NULL, NULL, &why);
		assert_int_equal(st, IRN_RECEIPT_REFUSED);
		assert_int_equal(why.code, IRNET__ERROR_CODE__ERR_FORBIDDEN_KIND);
	}
	free_batch(&b);
	/* signed with an unknown key, claiming to be the broker */
	irn_keys *stranger = th_keys();
	make_batch(f, &b, 3, 1, stranger, BROKER, IRNET__KIND__KIND_RECEIPT);
	for (size_t i = 0; i < b.n; i++) {
		assert_int_equal(check(f, b.rc[i], b.rlen[i], BROKER, NULL, &why), IRN_RECEIPT_REFUSED);
		assert_int_equal(why.code, IRNET__ERROR_CODE__ERR_UNKNOWN_MEMBER);
	}
	free_batch(&b);
	irn_keys_free(&stranger);
	/* the real broker, but the caller expects another broker id */
	make_batch(f, &b, 3, 1, f->broker, BROKER, IRNET__KIND__KIND_RECEIPT);
	assert_int_equal(check(f, b.rc[0], b.rlen[0], "kontum/other-broker", NULL, &why),
			 IRN_RECEIPT_NOT_BROKER);
	free_batch(&b);
	/* a batch root of another kind (an error reply) */
	make_batch(f, &b, 3, 1, f->broker, BROKER, IRNET__KIND__KIND_ERROR);
	assert_int_equal(check(f, b.rc[0], b.rlen[0], BROKER, NULL, &why), IRN_RECEIPT_BAD);
	free_batch(&b);
}

/* PROTOCOL.md 16 "Batch-signed receipt": the same values as irnet_wire.py. */
static void
test_vector(void **state)
{
	(void)state;
	irn_keys k;
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	crypto_sign_seed_keypair(k.sign_pk, k.sign_sk, seed);
	uint8_t env_hash[IRN_HASH_LEN], rh[IRN_HASH_LEN], ids[3][IRN_MSGID_LEN], lv[3][IRN_HASH_LEN];
	hex(env_hash, "ec39ceb4c55e531609f81f7df3999df481d4d4cac9d036223822cdcf17e5d0cf");
	for (int i = 0; i < 32; i++)
		rh[i] = (uint8_t)(32 + i);
	Irnet__Receipt rc[3];
	uint8_t other[2][IRN_HASH_LEN];
	memset(other[0], 0xe1, IRN_HASH_LEN);
	memset(other[1], 0xe2, IRN_HASH_LEN);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 16; j++)
			ids[i][j] = (uint8_t)(0xa0 + 16 * i + j);
		irnet__receipt__init(&rc[i]);
		rc[i].envelope_hash.data = i == 0 ? env_hash : other[i - 1];
		rc[i].envelope_hash.len = IRN_HASH_LEN;
		rc[i].message_id.data = ids[i];
		rc[i].message_id.len = IRN_MSGID_LEN;
		rc[i].sender = (char *)"kontum/so-tttt";
		rc[i].accepted_ms = 1764057601234LL + i;
		rc[i].ledger_index = 1 + (uint64_t)i;
		rc[i].roster_version = 3;
		rc[i].has_roster_hash = true;
		rc[i].roster_hash.data = rh;
		rc[i].roster_hash.len = IRN_HASH_LEN;
		uint8_t *leaf;
		size_t ll;
		assert_int_equal(irn_receipt_leaf(&rc[i], &leaf, &ll), IRN_OK);
		assert_int_equal(ll, 113);
		irn_merkle_leaf(lv[i], leaf, ll);
		free(leaf);
	}
	uint8_t want[IRN_HASH_LEN];
	hex(want, "65b1d4fba7be37f6807ff842f44359af67f93caed946f94ed9ca8aa628707d06");
	assert_memory_equal(lv[0], want, IRN_HASH_LEN);
	hex(want, "8ff64b6e838a4e4edcde3c80438105507567e775261b7d89b2922290ca36ea41");
	assert_memory_equal(lv[2], want, IRN_HASH_LEN);
	irn_merkle t;
	assert_int_equal(irn_merkle_build(&t, (const uint8_t (*)[IRN_HASH_LEN])lv, 3), IRN_OK);
	hex(want, "ffdbbf520c551d57849f801dbd5ee313bb5890e2c20c9089ecd54872e375eca4");
	assert_memory_equal(irn_merkle_root(&t), want, IRN_HASH_LEN);
	uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
	assert_int_equal(irn_merkle_path(&t, 2, path), 1);
	hex(want, "c195011ae0495d3cc47670a3f51fa5428af79145af77f29d44a587d9e383029e");
	assert_memory_equal(path[0], want, IRN_HASH_LEN);
	Irnet__BatchRoot br = IRNET__BATCH_ROOT__INIT;
	br.root.data = (uint8_t *)irn_merkle_root(&t);
	br.root.len = IRN_HASH_LEN;
	br.first_index = 1;
	br.count = 3;
	br.roster_version = 3;
	br.has_roster_hash = true;
	br.roster_hash.data = rh;
	br.roster_hash.len = IRN_HASH_LEN;
	uint8_t bp[128];
	size_t bl = irnet__batch_root__pack(&br, bp);
	assert_int_equal(bl, 74);
	assert_null(irn_batch_root_validate(bp, bl));
	Irnet__Header h = IRNET__HEADER__INIT;
	uint8_t hid[IRN_MSGID_LEN];
	for (int j = 0; j < 16; j++)
		hid[j] = (uint8_t)(0xd0 + j);
	h.version = 1;
	h.message_id.data = hid;
	h.message_id.len = IRN_MSGID_LEN;
	h.sender = (char *)"kontum/so-tttt";
	h.sequence = 1;
	h.created_ms = 1764057602000LL;
	h.kind = IRNET__KIND__KIND_RECEIPT;
	h.exercise = false;
	h.tlp = IRNET__TLP__TLP_AMBER;
	uint8_t *env;
	size_t elen;
	assert_int_equal(irn_envelope_build(&k, "kontum", &h, bp, bl, &env, &elen), IRN_OK);
	assert_int_equal(elen, 216);
	uint8_t eh[IRN_HASH_LEN];
	irn_hash(eh, env, elen);
	hex(want, "c926af4d1658d9ff931840236e0cd8e53fe0b2460c52a378e68a3bfb6fa49866");
	assert_memory_equal(eh, want, IRN_HASH_LEN);
	ProtobufCBinaryData pb = { IRN_HASH_LEN, path[0] };
	rc[2].n_path = 1;
	rc[2].path = &pb;
	rc[2].has_batch_root = true;
	rc[2].batch_root.data = env;
	rc[2].batch_root.len = elen;
	size_t rl = irnet__receipt__get_packed_size(&rc[2]);
	assert_int_equal(rl, 366);
	uint8_t *rb = malloc(rl);
	irnet__receipt__pack(&rc[2], rb);
	irn_hash(eh, rb, rl);
	hex(want, "d048ed8d992fda8de59356c5b6a27222b815db8668e628be9091e6a6d2c4eae0");
	assert_memory_equal(eh, want, IRN_HASH_LEN);
	Irnet__Receipt *d = NULL;
	assert_null(irn_receipt_decode(rb, rl, &d));
	irnet__receipt__free_unpacked(d, NULL);
	free(rb);
	free(env);
	irn_merkle_free(&t);
}

/* Bounds of the form checks (no signature). */
static void
test_form(void **state)
{
	(void)state;
	uint8_t junk[16] = { 0x0a, 0x20 };
	assert_non_null(irn_receipt_decode(junk, sizeof junk, NULL));
	assert_non_null(irn_batch_root_validate(junk, sizeof junk));
	Irnet__BatchRoot br = IRNET__BATCH_ROOT__INIT;
	uint8_t root[IRN_HASH_LEN] = { 0 }, bp[128];
	br.root.data = root;
	br.root.len = IRN_HASH_LEN;
	br.first_index = 1;
	br.count = IRN_MERKLE_MAX_LEAVES + 1;
	size_t bl = irnet__batch_root__pack(&br, bp);
	assert_string_equal(irn_batch_root_validate(bp, bl), "bad batch root");
	br.count = 0;
	bl = irnet__batch_root__pack(&br, bp);
	assert_string_equal(irn_batch_root_validate(bp, bl), "bad batch root");
	br.count = 1;
	br.first_index = 0;
	bl = irnet__batch_root__pack(&br, bp);
	assert_string_equal(irn_batch_root_validate(bp, bl), "bad batch root");
	br.first_index = UINT64_MAX;
	bl = irnet__batch_root__pack(&br, bp);
	assert_string_equal(irn_batch_root_validate(bp, bl), "bad batch root");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_size_every_path),
		cmocka_unit_test(test_wrong_size_fails),
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_form),
		cmocka_unit_test_setup_teardown(test_receipts_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receipt_tampering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receipt_wrong_signer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
