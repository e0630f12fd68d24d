/* seal.h - TLP:RED payloads: encrypted once, the key sealed per recipient. */
#ifndef IRNET_SEAL_H
#define IRNET_SEAL_H
#include "irnet.h"
#include "keys.h"
#include "roster.h"

#define IRN_MAX_SEALED_KEYS (IRN_MAX_RECIPIENTS + 1)

/* Encrypt payload for the members named in ids (n of them, the sender's
 * own id first so it can read its own message later). *out malloc'ed. */
irn_err irn_seal(const irn_roster *r, const char *sender, const uint8_t msgid[IRN_MSGID_LEN],
		 const char *const *ids, size_t n, const uint8_t *payload, size_t plen,
		 uint8_t **out, size_t *outlen) IRN_MUST_CHECK;
/* Structure checks only (what a broker can check): NULL if fine. */
const char *irn_sealed_validate(const uint8_t *p, size_t len);
/* Decrypt with this member's transport keys. NOTFOUND: not a recipient;
 * SIGNATURE: does not open (tampered). *out malloc'ed, caller wipes+frees. */
irn_err irn_unseal(const irn_keys *k, const char *member, const char *sender,
		   const uint8_t msgid[IRN_MSGID_LEN], const uint8_t *p, size_t len, uint8_t **out,
		   size_t *outlen) IRN_MUST_CHECK;
#endif
