/* rosterdelta.h - compact roster updates (RosterDelta, docs/PROTOCOL.md §6.5).
 * A delta is only a way to send a SignedRoster: the receiver rebuilds the
 * full roster and verifies it like any other. */
#ifndef IRNET_ROSTERDELTA_H
#define IRNET_ROSTERDELTA_H
#include "irnet.h"

/* From two full SignedRosters of the same network, the delta that rebuilds
 * new_ from base exactly; *out is malloc'ed. IRN_ERR_INVALID when new_
 * cannot be expressed that way (members reordered) or is not newer:
 * send the full roster then. */
irn_err irn_roster_delta_make(const uint8_t *base, size_t blen, const uint8_t *new_, size_t nlen,
			      uint8_t **out, size_t *olen) IRN_MUST_CHECK;

/* Rebuild the full SignedRoster bytes from the held base and a delta; *out
 * is malloc'ed. IRN_ERR_DECODE: the delta is malformed; IRN_ERR_STALE: it
 * is for another base; IRN_ERR_INVALID: the rebuilt bytes do not match
 * result_hash. The result is NOT verified: pass it to the roster import. */
irn_err irn_roster_delta_apply(const uint8_t *base, size_t blen, const uint8_t *delta, size_t dlen,
			       uint8_t **out, size_t *olen) IRN_MUST_CHECK;
#endif
