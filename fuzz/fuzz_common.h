/* fuzz_common.h - fixed keys, roster and clock shared by the fuzz targets
 * and the seed generator (fuzz/gen_seeds.c), so that the committed seeds
 * verify against the roster every target builds in LLVMFuzzerInitialize.
 *
 * Everything here is deterministic: keys come from fixed seeds, the clock is
 * FUZZ_NOW_MS, so regenerating the seeds gives the same bytes.
 */
#ifndef IRNET_FUZZ_COMMON_H
#define IRNET_FUZZ_COMMON_H
#include "irnet.h"
#include "keys.h"
#include "roster.h"

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_NETWORK    "kontum"
#define FUZZ_NOW_MS     INT64_C(1795570200000) /* 2026-11-25T01:30:00Z */
#define FUZZ_ISSUED_MS  INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define FUZZ_EXPIRES_MS INT64_C(1924992000000) /* 2031-01-01T00:00:00Z */

/* Key slots: two authority keys (the second certified by the first, for the
 * rotated roster), then one per roster member. */
enum {
	FUZZ_KEY_AUTHORITY = 0,
	FUZZ_KEY_AUTHORITY2,
	FUZZ_KEY_BROKER,
	FUZZ_KEY_OPERATOR,
	FUZZ_KEY_OWNER,
	FUZZ_KEY_COORDINATOR,
	FUZZ_KEY_RESPONDER,
	FUZZ_KEY_REVOKED,
	FUZZ_KEY__COUNT
};

#define FUZZ_ID_BROKER      "kontum/broker"
#define FUZZ_ID_OPERATOR    "kontum/benhvien"
#define FUZZ_ID_OWNER       "kontum/syt"
#define FUZZ_ID_COORDINATOR "kontum/sotttt"
#define FUZZ_ID_RESPONDER   "kontum/ungcuu"
#define FUZZ_ID_REVOKED     "kontum/cu"

/* Abort with a message: a broken invariant is a finding, like a crash. The
 * message goes through the sanitizers' report channel, which libFuzzer keeps
 * open when -close_fd_mask=2 discards the target's own stderr. */
#define FUZZ_CHECK(cond)                                                         \
	do {                                                                     \
		if (!(cond))                                                     \
			fuzz_check_failed(__FILE__, __LINE__, #cond);            \
	} while (0)
__attribute__((noreturn)) void fuzz_check_failed(const char *file, int line, const char *what);

/* sodium_init once; aborts if it fails. */
void fuzz_init(void);
/* Deterministic keys for a slot (fills the caller's struct; nothing to free). */
void fuzz_keys(unsigned slot, irn_keys *k);
/* The authority key the roster is pinned to. */
void fuzz_pin(uint8_t pk[IRN_PK_LEN]);
/* SignedRoster bytes (malloc'ed, caller frees). rotated: version 2, signed by
 * AUTHORITY2 and carrying the rotation AUTHORITY -> AUTHORITY2. */
uint8_t *fuzz_roster_bytes(bool rotated, size_t *len);
/* The version 1 roster, parsed with irn_roster_parse once and kept. */
const irn_roster *fuzz_roster(void);
#endif
