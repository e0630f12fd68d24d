/* payloads.h - the typed workflow payloads of issue 5 (QĐ05 art. 11.2):
 * progress report, response plan, request for direction, support request,
 * end-of-response report (Form 04), alert and acknowledgement.
 *
 * Each has a validator (decode, canonical form, sizes, text checks) that
 * irn_payload_validate calls for its kind, a builder from a JSON form (the
 * commands and `--form FILE`, docs/FORMS.md) and a decoder back to JSON. */
#ifndef IRNET_PAYLOADS_H
#define IRNET_PAYLOADS_H
#include "irnet.h"
#include "irnet.pb-c.h"
#include <jansson.h>

/* Is kind one of the typed kinds handled here (2-6, 13, 14)? */
bool irn_typed_kind(unsigned kind);
/* Validate a payload of a typed kind. NULL if fine, else a static reason. */
const char *irn_typed_validate(unsigned kind, const uint8_t *p, size_t len);

/* Build a packed payload of a typed kind from a JSON form. The form names
 * the incident as "incident" (32 hex digits) and "reporter" (member id);
 * times are RFC 3339 strings. now_ms fills defaults ("ended_at").
 * On error returns IRN_ERR_INVALID with a message in err. *out malloc'ed. */
irn_err irn_typed_from_json(unsigned kind, const json_t *form, int64_t now_ms, uint8_t **out,
			    size_t *outlen, char *err, size_t errsz) IRN_MUST_CHECK;
/* Decode a valid payload into the same JSON shape; NULL if it does not validate. */
json_t *irn_typed_to_json(unsigned kind, const uint8_t *p, size_t len);

/* The incident a typed payload is about (kinds 2-6, and an alert that names
 * one). false if it names none. reporter gets at most IRN_MAX_ID+1 bytes. */
bool irn_typed_incident(unsigned kind, const uint8_t *p, size_t len, uint8_t inc[IRN_MSGID_LEN],
			char reporter[IRN_MAX_ID + 1]);

/* Enumerations by name, as used in forms and displays. -1/NULL if unknown. */
int irn_alert_level_parse(const char *s);     /* advisory, warning, urgent */
const char *irn_alert_level_name(unsigned l);
int irn_handling_parse(const char *s);        /* self, with-help, foreign-help */
const char *irn_handling_name(unsigned h);
int irn_support_from_parse(const char *s);    /* provincial, national, foreign, other */
const char *irn_support_from_name(unsigned s);
#endif
