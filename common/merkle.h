/* merkle.h - batch-signed receipts: one broker signature per commit batch.
 *
 * The broker commits accepted messages in batches. For each batch it builds a
 * Merkle tree over the batch's receipt *leaves* (the canonical encoding of
 * Receipt fields 1-8, in ledger index order) and signs ONE envelope of kind
 * KIND_RECEIPT whose payload is a BatchRoot {root, first_index, count,
 * roster}. Each author's receipt is its leaf plus the inclusion path plus the
 * signed batch root (Receipt.path, Receipt.batch_root). docs/PROTOCOL.md 6.3.
 *
 * Tree (RFC 9162 2.1.1 shape, BLAKE2b-256 via crypto_generichash):
 *   leaf hash  = H(0x00 || leaf bytes)
 *   node hash  = H(0x01 || left || right)
 * built bottom-up: adjacent nodes are paired; the last node of a level with
 * an odd number of nodes has no sibling and is carried up unchanged (so no
 * leaf is ever duplicated). The path lists the siblings that exist, leaf
 * level first; a leaf's position is ledger_index - BatchRoot.first_index.
 */
#ifndef IRNET_MERKLE_H
#define IRNET_MERKLE_H
#include "irnet.h"
#include "envelope.h"
#include "irnet.pb-c.h"

#define IRN_MERKLE_MAX_PATH   32       /* hashes in an inclusion path */
#define IRN_MERKLE_MAX_LEAVES 65536    /* leaves in one batch (BatchRoot.count) */
#define IRN_MAX_RECEIPT       8192     /* bytes of one encoded Receipt */

void irn_merkle_leaf(uint8_t out[IRN_HASH_LEN], const uint8_t *leaf, size_t len);
void irn_merkle_node(uint8_t out[IRN_HASH_LEN], const uint8_t left[IRN_HASH_LEN],
		     const uint8_t right[IRN_HASH_LEN]);

/* A whole tree over n >= 1 leaf hashes, every level kept, so that the root
 * and every leaf's path come from one build (n - 1 node hashes). */
typedef struct irn_merkle {
	size_t n;                      /* leaves */
	size_t levels;                 /* level 0 = leaves ... levels-1 = root */
	uint8_t (**lv)[IRN_HASH_LEN];  /* lv[k]: the nodes of level k */
	size_t *width;                 /* width[k]: how many */
} irn_merkle;

irn_err irn_merkle_build(irn_merkle *t, const uint8_t (*leaves)[IRN_HASH_LEN], size_t n)
	IRN_MUST_CHECK;
void irn_merkle_free(irn_merkle *t);
const uint8_t *irn_merkle_root(const irn_merkle *t);
/* Path of leaf m into path (room for IRN_MERKLE_MAX_PATH); returns its length. */
size_t irn_merkle_path(const irn_merkle *t, size_t m, uint8_t (*path)[IRN_HASH_LEN]);

/* Does leaf hash `leaf`, at position m of a tree of n leaves, reach root by
 * path? (n in 1..IRN_MERKLE_MAX_LEAVES, m < n, plen <= IRN_MERKLE_MAX_PATH,
 * and every hash of the path used: no more, no fewer.) */
bool irn_merkle_verify(const uint8_t root[IRN_HASH_LEN], const uint8_t leaf[IRN_HASH_LEN],
		       uint64_t m, uint64_t n, const uint8_t *const *path, size_t plen);

/* The leaf bytes of a receipt: Receipt fields 1-8, canonical (path and
 * batch_root cleared). *out is malloc'ed. */
irn_err irn_receipt_leaf(const Irnet__Receipt *rc, uint8_t **out, size_t *len) IRN_MUST_CHECK;

/* Form of a receipt (no signature check): decodes, canonical, fields 1-8 as
 * before, path <= 32 hashes of 32 bytes, batch_root present. NULL if fine,
 * else a static reason; *out (may be NULL) gets the decoded receipt. */
const char *irn_receipt_decode(const uint8_t *b, size_t len, Irnet__Receipt **out);
/* Form of a BatchRoot payload. NULL if fine, else a static reason. */
const char *irn_batch_root_validate(const uint8_t *p, size_t len);

/* Verified batch roots, by BLAKE2b-256 of the batch-root envelope and of the
 * roster they were checked against, so a burst of deliveries or a ledger
 * verify checks each batch signature once. Thread-safe; fixed size (the
 * oldest entry makes room). */
typedef struct irn_root_cache irn_root_cache;
irn_root_cache *irn_root_cache_new(size_t slots);
void irn_root_cache_free(irn_root_cache **c);
/* How many batch-root signatures a check did verify (not from the cache). */
uint64_t irn_root_cache_verified(const irn_root_cache *c);

typedef enum {
	IRN_RECEIPT_OK = 0,
	IRN_RECEIPT_BAD,        /* malformed, or the path does not lead to the signed root */
	IRN_RECEIPT_REFUSED,    /* the batch-root envelope fails the checks of PROTOCOL 10 */
	IRN_RECEIPT_NOT_BROKER, /* signed by a member without the broker role, or not broker_id */
} irn_receipt_status;

/*
 * Check a receipt the way every receiver does: its form, the inclusion path
 * from its leaf to BatchRoot.root (position ledger_index - first_index within
 * count), then the batch-root envelope: PROTOCOL 10 against r with now_ms
 * (future check; 0: none) and currency at at_ms (0: the batch root's own
 * created_ms), kind KIND_RECEIPT, signer with the broker role (and, if
 * broker_id is not NULL, that member), and the batch's roster version equal
 * to the receipt's. cache may be NULL. On success *out (may be NULL) holds
 * the decoded receipt (irnet__receipt__free_unpacked). Otherwise why says
 * why (code: an ErrorCode; reason: static English text).
 */
irn_receipt_status irn_receipt_check(const irn_roster *r, const char *network, const char *broker_id,
				     const uint8_t *b, size_t len, int64_t now_ms, int64_t at_ms,
				     irn_root_cache *cache, Irnet__Receipt **out, irn_refusal *why)
	IRN_MUST_CHECK;
#endif
