/* ledger.h - the append-only, hash-chained SQLite ledger.
 *
 * One database per process (WAL, synchronous=FULL). Entry hash:
 *   H_i = BLAKE2b-256("IRNET-LEDGER-V1" || 0x00 || u64be(i) || H_{i-1} ||
 *                     u8(type) || i64be(accepted_ms) || u64be(roster_version) ||
 *                     u32be(len(data)) || data || u32be(len(receipt)) || receipt)
 * with H_0 = 32 zero bytes. Columns not in the hash are derived from data.
 */
#ifndef IRNET_LEDGER_H
#define IRNET_LEDGER_H
#include "irnet.h"
#include <sqlite3.h>

enum { IRN_ENTRY_ROSTER = 1, IRN_ENTRY_MESSAGE = 2, IRN_ENTRY_RECEIPT = 3 };

typedef struct irn_entry {
	int type;
	int64_t accepted_ms;
	uint64_t roster_version;
	const char *sender;          /* MESSAGE: header sender */
	const uint8_t *message_id;   /* MESSAGE/RECEIPT: 16 bytes */
	unsigned kind;
	uint64_t sequence;
	const uint8_t *data;         /* exact envelope / SignedRoster bytes */
	size_t len;
	const uint8_t *receipt;      /* broker receipt envelope, may be NULL */
	size_t rlen;
	uint32_t to_roles;           /* derived routing (broker) */
	const char *to_members;      /* derived routing: "\n"-separated, may be NULL */
	uint64_t remote_index;       /* node: index in the broker's ledger */
} irn_entry;

typedef struct irn_ledger irn_ledger;

irn_err irn_ledger_open(const char *path, bool readonly, irn_ledger **out) IRN_MUST_CHECK;
void irn_ledger_close(irn_ledger **l);
sqlite3 *irn_ledger_db(irn_ledger *l);
irn_err irn_ledger_begin(irn_ledger *l) IRN_MUST_CHECK;  /* BEGIN IMMEDIATE */
irn_err irn_ledger_commit(irn_ledger *l) IRN_MUST_CHECK;
void irn_ledger_rollback(irn_ledger *l);
/* Append inside a transaction; *idx receives the new entry's index. */
irn_err irn_ledger_append(irn_ledger *l, const irn_entry *e, uint64_t *idx) IRN_MUST_CHECK;
void irn_ledger_head(irn_ledger *l, uint64_t *idx, uint8_t hash[IRN_HASH_LEN]);
/* The index the next append will get. */
uint64_t irn_ledger_next_index(irn_ledger *l);

/* Find a MESSAGE by (sender, id). Returns NOTFOUND or OK; *data and *receipt
 * (may be NULL) are malloc'ed copies the caller frees. Any out may be NULL. */
irn_err irn_ledger_find(irn_ledger *l, const char *sender, const uint8_t id[IRN_MSGID_LEN],
			uint64_t *idx, uint8_t **data, size_t *len, uint8_t **receipt,
			size_t *rlen) IRN_MUST_CHECK;

/* Small key/value store beside the ledger (not hash-chained). */
irn_err irn_meta_set_blob(irn_ledger *l, const char *k, const void *v, size_t n) IRN_MUST_CHECK;
irn_err irn_meta_get_blob(irn_ledger *l, const char *k, void *v, size_t n) IRN_MUST_CHECK;
irn_err irn_meta_set_int(irn_ledger *l, const char *k, int64_t v) IRN_MUST_CHECK;
int64_t irn_meta_get_int(irn_ledger *l, const char *k, int64_t dflt);

/* Latest roster stored in the ledger (exact SignedRoster bytes), malloc'ed. */
irn_err irn_ledger_latest_roster(irn_ledger *l, uint8_t **data, size_t *len) IRN_MUST_CHECK;

typedef struct irn_verify_result {
	uint64_t entries;        /* entries checked */
	uint64_t first_bad;      /* 0 if none */
	char reason[256];
	uint64_t checkpoints;    /* this member's checkpoints found and matched */
	uint64_t countersigned;  /* ... of which the broker countersigned */
} irn_verify_result;

/*
 * Walk the whole ledger: contiguous indexes from 1, hash chain, the recorded
 * head, every roster (chained from the initial pinned authority key, versions
 * rising), every message's signature and authority against the roster in
 * force when it was accepted, every broker receipt. Returns IRN_OK when all
 * holds, IRN_ERR_INVALID with res->first_bad and res->reason otherwise.
 */
irn_err irn_ledger_verify(irn_ledger *l, const char *network, irn_verify_result *res);

irn_err irn_sqlite_err(int rc);
/* A prepared statement for sql (a string literal: cached by its address),
 * reset and with bindings cleared. Do not finalize it; sqlite3_reset it when
 * done so it holds no read transaction. NULL if it cannot be prepared or
 * the cache is full (logged: the set of literals outgrew STMT_CACHE). */
sqlite3_stmt *irn_ledger_cached(irn_ledger *l, const char *sql);
/* The entry hash formula above (for tools and tests that rebuild a chain). */
void irn_ledger_entry_hash(uint8_t out[IRN_HASH_LEN], uint64_t idx, const uint8_t prev[IRN_HASH_LEN],
			   int type, int64_t accepted_ms, uint64_t roster_version, const uint8_t *data,
			   size_t len, const uint8_t *receipt, size_t rlen);
#endif
