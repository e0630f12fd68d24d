/* fuzz_receipt - batch-signed receipts (common/merkle.c), three ways:
 *  1. the input as a Receipt: decode (form), then the whole check against
 *     the fixed roster (inclusion path to the batch root, the root's
 *     envelope checks and broker signature) with and without a cache, which
 *     must agree; a receipt that verifies must re-encode to its leaf + path +
 *     root and stay inside its batch;
 *  2. the input as a BatchRoot payload (the kind RECEIPT validator);
 *  3. the input as a Merkle tree description: n leaves derived from it, the
 *     tree built, every path must verify, and the input's tail read as a
 *     forged (position, path) for leaf 0 must not verify unless it is the
 *     genuine one.
 * Seeds: fuzz/corpus/receipt (fuzz/gen_seeds.c writes a real batch). */
#include "fuzz_common.h"
#include "merkle.h"
#include "crypto.h"

#include <string.h>

static irn_root_cache *cache;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	(void)fuzz_roster();
	cache = irn_root_cache_new(8);
	if (cache == NULL)
		abort();
	return 0;
}

static void
as_receipt(const uint8_t *data, size_t size)
{
	Irnet__Receipt *d = NULL;
	const char *bad = irn_receipt_decode(data, size, &d);
	FUZZ_CHECK((bad == NULL) == (d != NULL));
	irn_refusal why, why2;
	Irnet__Receipt *r = NULL, *r2 = NULL;
	irn_receipt_status st = irn_receipt_check(fuzz_roster(), FUZZ_NETWORK, FUZZ_ID_BROKER, data, size,
						  FUZZ_NOW_MS, FUZZ_NOW_MS, NULL, &r, &why);
	irn_receipt_status st2 = irn_receipt_check(fuzz_roster(), FUZZ_NETWORK, NULL, data, size, 0, 0,
						   cache, &r2, &why2);
	FUZZ_CHECK((st == IRN_RECEIPT_OK) == (r != NULL));
	FUZZ_CHECK((st2 == IRN_RECEIPT_OK) == (r2 != NULL));
	if (bad)
		FUZZ_CHECK(st == IRN_RECEIPT_BAD && st2 == IRN_RECEIPT_BAD);
	if (st == IRN_RECEIPT_OK) {
		/* the only broker in the roster signed it: any-broker agrees */
		FUZZ_CHECK(st2 == IRN_RECEIPT_OK);
		FUZZ_CHECK(r->n_path <= IRN_MERKLE_MAX_PATH && r->has_batch_root);
		uint8_t *leaf = NULL;
		size_t ll = 0;
		FUZZ_CHECK(irn_receipt_leaf(r, &leaf, &ll) == IRN_OK);
		/* canonical: the leaf is the receipt's prefix */
		FUZZ_CHECK(ll < size && memcmp(leaf, data, ll) == 0);
		free(leaf);
		size_t n = irnet__receipt__get_packed_size(r);
		FUZZ_CHECK(n == size);
	}
	if (r)
		irnet__receipt__free_unpacked(r, NULL);
	if (r2)
		irnet__receipt__free_unpacked(r2, NULL);
	if (d)
		irnet__receipt__free_unpacked(d, NULL);
}

static void
as_tree(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	size_t n = 1 + ((size_t)data[0] | ((size_t)(data[1] & 0x03) << 8)); /* 1..1024 */
	uint8_t (*lv)[IRN_HASH_LEN] = malloc(n * IRN_HASH_LEN);
	if (lv == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		uint8_t b[8 + 1];
		memcpy(b, &i, sizeof i < 8 ? sizeof i : 8);
		b[8] = size > 2 ? data[2 + i % (size - 2)] : 0;
		irn_merkle_leaf(lv[i], b, sizeof b);
	}
	irn_merkle t;
	FUZZ_CHECK(irn_merkle_build(&t, (const uint8_t (*)[IRN_HASH_LEN])lv, n) == IRN_OK);
	const uint8_t *root = irn_merkle_root(&t);
	uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
	const uint8_t *pp[IRN_MERKLE_MAX_PATH];
	for (size_t m = 0; m < n; m += 1 + m / 4) {
		size_t pl = irn_merkle_path(&t, m, path);
		for (size_t k = 0; k < pl; k++)
			pp[k] = path[k];
		FUZZ_CHECK(irn_merkle_verify(root, lv[m], m, n, pp, pl));
		if (n > 1)
			FUZZ_CHECK(!irn_merkle_verify(root, lv[m], (m + 1) % n, n, pp, pl));
	}
	/* a forged claim from the input: position, count and path */
	if (size >= 8) {
		uint64_t pos = data[2] | (uint64_t)data[3] << 8;
		uint64_t cnt = data[4] | (uint64_t)data[5] << 8 | (uint64_t)data[6] << 16;
		size_t pl = (size - 8) / IRN_HASH_LEN;
		if (pl > IRN_MERKLE_MAX_PATH)
			pl = IRN_MERKLE_MAX_PATH;
		for (size_t k = 0; k < pl; k++)
			pp[k] = data + 8 + k * IRN_HASH_LEN;
		if (irn_merkle_verify(root, lv[0], pos, cnt, pp, pl)) {
			/* only the genuine claim can hold (BLAKE2b collisions aside) */
			size_t gl = irn_merkle_path(&t, 0, path);
			FUZZ_CHECK(pos == 0 && gl == pl);
			for (size_t k = 0; k < pl; k++)
				FUZZ_CHECK(memcmp(pp[k], path[k], IRN_HASH_LEN) == 0);
		}
	}
	irn_merkle_free(&t);
	free(lv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_receipt(data, size);
	(void)irn_batch_root_validate(data, size);
	as_tree(data, size);
	return 0;
}
