/* helpers.h - shared fixtures for the cmocka unit tests.
 *
 * Everything here builds real, signed objects through the library's own
 * encoders (protobuf-c) and signing (irn_domain_sign): nothing is canned.
 * Helpers assert with cmocka on failure, so they may only be called from
 * inside a running test, setup or teardown.
 */
#ifndef IRNET_TEST_HELPERS_H
#define IRNET_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "irnet.h"
#include "crypto.h"
#include "envelope.h"
#include "keys.h"
#include "roster.h"
#include "irnet.pb-c.h"

#define TH_NET "kontum"
#define TH_HOUR_MS  (3600LL * 1000)
#define TH_DAY_MS   (24 * TH_HOUR_MS)

/* irn_global_init, asserting success. Safe to call repeatedly. */
void th_init(void);

/* Remove a directory tree (no symlink following). Returns 0 on success. */
int th_rmrf(const char *path);

/* A fresh key pair, asserting success (free with irn_keys_free). */
irn_keys *th_keys(void);

typedef struct th_member {
	const char *id;
	const irn_keys *keys;
	uint32_t roles[4];        /* Irnet__Role values; 0 ends the list */
	bool revoked;
	int64_t valid_from_ms;    /* 0: now - 1 day */
	int64_t valid_until_ms;   /* 0: now + 365 days */
} th_member;

typedef struct th_roster_spec {
	const char *network;      /* NULL: TH_NET */
	uint64_t version;         /* 0: 1 */
	int64_t issued_ms;        /* 0: now - 1 hour */
	int64_t expires_ms;       /* 0: now + 30 days */
	const irn_keys *signer;   /* signs the RosterBody (IRN_DOMAIN_ROSTER) */
	const uint8_t *authority_pk; /* RosterBody.authority_pk; NULL: signer's */
	const th_member *members;
	size_t n_members;
	const Irnet__AuthorityRotation *const *rotations; /* oldest first */
	size_t n_rotations;
} th_roster_spec;

/* Encoded RosterBody (malloc'ed). */
uint8_t *th_roster_body(const th_roster_spec *s, size_t *len);
/* Encoded SignedRoster (malloc'ed) for the spec. */
uint8_t *th_roster(const th_roster_spec *s, size_t *len);
/* SignedRoster around given body bytes and signature. */
uint8_t *th_signed_roster_pack(const uint8_t *body, size_t blen, const uint8_t sig[IRN_SIG_LEN],
			       const Irnet__AuthorityRotation *const *rot, size_t nrot,
			       size_t *len);
/* Parse with the given pin and TH_NET (or network), asserting IRN_OK. */
irn_roster *th_roster_parse_ok(const uint8_t *buf, size_t len, const uint8_t pin[IRN_PK_LEN],
			       const char *network);

/* Fill an AuthorityRotation old->new signed by signer_sk (sig is storage). */
void th_rotation(Irnet__AuthorityRotation *ar, uint8_t sig[IRN_SIG_LEN], const char *network,
		 const uint8_t old_pk[IRN_PK_LEN], const uint8_t new_pk[IRN_PK_LEN],
		 const uint8_t signer_sk[64]);

/* A valid packed Form 03 payload built from the JSON form (malloc'ed). */
uint8_t *th_report_payload(size_t *len);

/* A complete header: version 1, fresh msgid (stored in msgid), created now,
 * addressed to the coordinator role. Strings are borrowed. */
void th_header(Irnet__Header *h, uint8_t msgid[IRN_MSGID_LEN], const char *sender,
	       unsigned kind, uint64_t seq);

/* irn_envelope_build, asserting success (malloc'ed). */
uint8_t *th_envelope(const irn_keys *k, const char *network, const Irnet__Header *h,
		     const uint8_t *payload, size_t plen, size_t *len);
/* A signed initial report from sender/k, sequence seq. */
uint8_t *th_report_envelope(const irn_keys *k, const char *network, const char *sender,
			    uint64_t seq, uint8_t msgid[IRN_MSGID_LEN], size_t *len);

/* Pack an Envelope from its three parts (malloc'ed). */
uint8_t *th_envelope_pack(const uint8_t kid[IRN_KEYID_LEN], const uint8_t *body, size_t blen,
			  const uint8_t sig[IRN_SIG_LEN], size_t *len);
#endif
