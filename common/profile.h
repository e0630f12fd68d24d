/* profile.h - Forms 01/02 (TT20 annex): a member's profile, payload of
 * KIND_PROFILE: organisation, primary and backup 24/7 contacts, and the
 * systems it runs with their security levels. A newer signed profile
 * replaces the older one (a contact change is just that). */
#ifndef IRNET_PROFILE_H
#define IRNET_PROFILE_H
#include "irnet.h"
#include "irnet.pb-c.h"
#include <jansson.h>

#define IRN_MAX_PROFILE_SYSTEMS 64

/* Structure and text checks of a packed MemberProfile. NULL if fine. */
const char *irn_profile_validate(const uint8_t *p, size_t len);
/* JSON form (docs/FORMS.md "Forms 01/02") -> packed payload; effective_ms
 * defaults to now_ms. On error IRN_ERR_INVALID and a message in err. */
irn_err irn_profile_from_json(const json_t *form, int64_t now_ms, uint8_t **out, size_t *outlen,
			      char *err, size_t errsz) IRN_MUST_CHECK;
/* Packed payload -> the same JSON shape (new reference), NULL on error. */
json_t *irn_profile_to_json(const uint8_t *p, size_t len);
#endif
