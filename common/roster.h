/* roster.h - the authority-signed list of members, their keys and roles. */
#ifndef IRNET_ROSTER_H
#define IRNET_ROSTER_H
#include "irnet.h"

/* Role bits: 1u << Irnet__Role value. */
#define IRN_ROLE_BIT(r) (1u << (unsigned)(r))

#define IRN_MAX_PREVIOUS_KEYS 4

typedef struct irn_prev_keys {
	uint8_t sign_pk[IRN_PK_LEN];
	uint8_t key_id[IRN_KEYID_LEN];
	uint8_t transport_pk[IRN_PK_LEN];
	int64_t until_ms;
} irn_prev_keys;

typedef struct irn_member {
	char id[IRN_MAX_ID + 1];
	char *display_name;
	char *organisation;
	char *endpoint; /* may be NULL */
	uint32_t roles;
	uint8_t sign_pk[IRN_PK_LEN];
	uint8_t key_id[IRN_KEYID_LEN];
	uint8_t transport_pk[IRN_PK_LEN];
	int64_t valid_from_ms, valid_until_ms, revoked_ms;
	bool revoked;
	size_t n_prev;
	irn_prev_keys prev[IRN_MAX_PREVIOUS_KEYS]; /* rotated out, valid until */
} irn_member;

/* One signing key of the roster (a member's current key or a rotated-out
 * one), for lookups by key id in O(log n). */
typedef struct irn_keyref {
	uint8_t key_id[IRN_KEYID_LEN];
	uint32_t member;  /* index in members */
	int32_t prev;     /* -1: the current key; else index in members[member].prev */
} irn_keyref;

typedef struct irn_roster {
	char network[IRN_MAX_NETWORK + 1];
	uint64_t version;
	int64_t issued_ms, expires_ms;
	uint8_t authority_pk[IRN_PK_LEN];
	size_t n_members;
	irn_member *members;  /* sorted by id */
	uint8_t *bytes;       /* exact SignedRoster bytes */
	size_t len;
	uint8_t hash[IRN_HASH_LEN]; /* BLAKE2b-256 of bytes */
	irn_keyref *by_key;   /* every signing key, sorted by (key id, member, prev) */
	size_t n_keys;
} irn_roster;

/*
 * Decode and verify a SignedRoster. pinned is the authority key the caller
 * trusts; rotations in the roster may lead from it to a new key, each signed
 * by the previous one. On success *out (caller frees with irn_roster_free)
 * holds the roster and new_pinned the key that signed it (equal to pinned
 * when no rotation applies). network must match. A roster whose expiry is
 * before now_ms is refused with IRN_ERR_EXPIRED (pass now_ms = 0 to skip:
 * used only when re-verifying history).
 */
irn_err irn_roster_parse(const uint8_t *buf, size_t len, const uint8_t pinned[IRN_PK_LEN],
			 const char *network, int64_t now_ms, irn_roster **out,
			 uint8_t new_pinned[IRN_PK_LEN]) IRN_MUST_CHECK;
/* Decode without verifying (for display of a file the caller does not trust yet). */
irn_err irn_roster_parse_unverified(const uint8_t *buf, size_t len, irn_roster **out) IRN_MUST_CHECK;
void irn_roster_free(irn_roster **r);

/* Newer-than check: IRN_OK if cand may replace held (held may be NULL),
 * IRN_ERR_STALE if older, IRN_ERR_EXISTS if it is the same roster. */
irn_err irn_roster_newer(const irn_roster *held, const irn_roster *cand);

const irn_member *irn_roster_find(const irn_roster *r, const char *id);
const irn_member *irn_roster_find_key_id(const irn_roster *r, const uint8_t kid[IRN_KEYID_LEN]);
/* By current transport key, or a previous one still within its overlap at now_ms. */
const irn_member *irn_roster_find_transport(const irn_roster *r, const uint8_t pk[IRN_PK_LEN],
					    int64_t now_ms);
/* The member whose current signing key, or a previous one valid at at_ms,
 * has this key id; *pk receives the key to verify with. */
const irn_member *irn_roster_find_signer(const irn_roster *r, const uint8_t kid[IRN_KEYID_LEN],
					 int64_t at_ms, const uint8_t **pk);
/* Within [valid_from, valid_until) and not revoked at now_ms (a revocation
 * with revoked_ms counts from then on; without it, at all times). */
bool irn_member_current(const irn_member *m, int64_t now_ms);
bool irn_member_has_role(const irn_member *m, unsigned role);

const char *irn_role_name(unsigned role);      /* "operator", NULL if unknown */
int irn_role_parse(const char *name);          /* -1 if unknown */
#endif
