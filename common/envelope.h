/* envelope.h - build, sign, decode and check envelopes.
 *
 * Check order (docs/PROTOCOL.md "Receiving"): cheap, stateless checks first,
 * the Ed25519 verification last, so a flood of junk costs no signature work:
 *   1. envelope decodes, sizes are within limits
 *   2. signer key id names a roster member (UNKNOWN_MEMBER)
 *   3. that member is the one authenticated on the connection (SIGNER_MISMATCH)
 *   4. the member is current: not revoked, within validity (REVOKED)
 *   5. body decodes and validates (MALFORMED), header.sender == signer
 *      (SENDER_MISMATCH), not from the future (FUTURE)
 *   6. the member's roles may send header.kind (FORBIDDEN_KIND)
 *   7. the signature verifies over domain || network || body (BAD_SIGNATURE)
 *   8. the payload decodes and validates for its kind (MALFORMED)
 * Duplicate and sequence checks need state and belong to the caller.
 */
#ifndef IRNET_ENVELOPE_H
#define IRNET_ENVELOPE_H
#include "irnet.h"
#include "roster.h"
#include "keys.h"
#include "irnet.pb-c.h"

typedef struct irn_msg {
	Irnet__Envelope *env;  /* owned */
	Irnet__Body *body;     /* owned */
	Irnet__Header *h;      /* = body->header */
	uint8_t hash[IRN_HASH_LEN]; /* BLAKE2b-256 of the exact envelope bytes */
	const irn_member *signer;   /* points into the roster used for the check */
} irn_msg;

typedef struct irn_refusal {
	unsigned code;        /* Irnet__ErrorCode */
	const char *reason;   /* static, English, for logs */
} irn_refusal;

/*
 * Sign and encode. hdr must be complete except nothing; payload is copied.
 * *out is malloc'ed (caller frees).
 */
irn_err irn_envelope_build(const irn_keys *k, const char *network, const Irnet__Header *hdr,
			   const uint8_t *payload, size_t plen, uint8_t **out, size_t *outlen)
	IRN_MUST_CHECK;

/*
 * Run checks 1-8 above. conn_member is the ZAP-authenticated member id (NULL
 * when the envelope arrives relayed, as at a node). now_ms is the receiver's
 * clock for the future check; member currency is judged at at_ms (the
 * broker's acceptance time). On success *out (free with irn_msg_free) holds
 * the decoded message; on refusal why says why and 0 is returned as -1.
 */
int irn_envelope_check(const irn_roster *r, const char *network, const uint8_t *buf,
		       size_t len, const char *conn_member, int64_t now_ms, int64_t at_ms,
		       irn_msg **out, irn_refusal *why) IRN_MUST_CHECK;
void irn_msg_free(irn_msg **m);

/* Header validation alone (used by the fuzzers and the checker). NULL if ok. */
const char *irn_header_validate(const Irnet__Header *h, int64_t now_ms);
/* Payload validation by kind. NULL if ok, else a static reason. */
const char *irn_payload_validate(unsigned kind, const uint8_t *p, size_t len);

/* The message id of an envelope that may not pass the checks (for error
 * replies the author can match). false if it does not decode that far. */
bool irn_envelope_peek_id(const uint8_t *buf, size_t len, uint8_t id[IRN_MSGID_LEN]);

/* True if the member (id + roles) is among the message's recipients. */
bool irn_msg_addressed_to(const Irnet__Header *h, const char *id, uint32_t roles);

const char *irn_error_code_name(unsigned code);
#endif
