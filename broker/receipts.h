/* receipts.h - the commit thread's batch-signed receipts (common/merkle.h).
 *
 * Accepted messages of a batch are held here, not appended at once: their
 * receipts name the batch's Merkle root, known only when the batch closes.
 * receipts_seal(), called once per round just before COMMIT, builds the tree
 * over the batch's receipt leaves, signs ONE batch-root envelope, and appends
 * every message with its receipt (leaf + path + signed root) to the ledger in
 * index order. The replies are handed to the caller to hold until COMMIT.
 */
#ifndef IRNET_BROKER_RECEIPTS_H
#define IRNET_BROKER_RECEIPTS_H
#include "internal.h"

typedef struct rc_entry rc_entry;
typedef struct rc_waiter rc_waiter;

typedef struct receipts {
	rc_entry *e;          /* accepted, not yet appended, in ledger index order */
	size_t n, cap;
	rc_waiter *w;         /* resends of a held message: its receipt goes to them too */
	size_t nw, capw;
	uint64_t batches, leaves; /* sealed so far (for the log) */
} receipts;

typedef enum { RC_NONE, RC_SAME, RC_CONFLICT } rc_dup;

void receipts_init(receipts *rb);
void receipts_free(receipts *rb);

/* A message already held in this batch? RC_SAME (same bytes: its receipt
 * will also go to member/gen), RC_CONFLICT (same id, other bytes), RC_NONE. */
rc_dup receipts_duplicate(receipts *rb, const char *sender, const uint8_t id[IRN_MSGID_LEN],
			  const uint8_t *bytes, size_t len, const char *member, uint64_t gen);

/* Hold the checked message of j (its envelope and decoded message are taken
 * from j) for the next seal. It gets ledger index *idx = the ledger's next
 * index + what is already held; accepted at now_ms under roster r;
 * expected != 0 when its sequence skipped numbers. */
irn_err receipts_add(receipts *rb, irn_ledger *l, job *j, int64_t now_ms, const irn_roster *r,
		     uint64_t expected, uint64_t *idx) IRN_MUST_CHECK;

/* Close the batch (inside the open transaction, before COMMIT): one signed
 * batch root, every held message appended with its receipt, each reply
 * packet passed to hold(ctx, job). Nothing held: IRN_OK, nothing done. On
 * failure nothing is handed out; the caller rolls back and calls
 * receipts_abort. */
irn_err receipts_seal(receipts *rb, shared *sh, void (*hold)(void *ctx, job *j), void *ctx)
	IRN_MUST_CHECK;

/* Forget the held batch (rolled back): each held message's author is named
 * once through each(ctx, member, gen, message id, exercise). */
void receipts_abort(receipts *rb, void (*each)(void *ctx, const char *member, uint64_t gen,
					       const uint8_t *msgid, bool exercise), void *ctx);
/* The header's member recipients as "\nid\nid\n" (malloc'ed; "\n" when none). */
char *join_members(const Irnet__Header *h);
#endif
