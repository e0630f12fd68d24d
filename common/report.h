/* report.h - Form 03 (initial report): JSON <-> payload, validation, severity. */
#ifndef IRNET_REPORT_H
#define IRNET_REPORT_H
#include "irnet.h"
#include "irnet.pb-c.h"
#include <jansson.h>

const char *irn_report_validate(const Irnet__InitialReport *r); /* NULL if ok */

/* Build a packed InitialReport from the JSON form (docs/FORMS.md). On error
 * returns IRN_ERR_INVALID and writes a message into err. *out malloc'ed. */
irn_err irn_report_from_json(const json_t *form, int64_t now_ms, uint8_t **out, size_t *outlen,
			     char *err, size_t errsz) IRN_MUST_CHECK;
/* Decode a payload into the same JSON shape (new reference), NULL on error. */
json_t *irn_report_to_json(const uint8_t *p, size_t len);

const char *irn_category_name(unsigned cat);  /* "attack.ransomware", NULL if unknown */
const char *irn_category_label(unsigned cat); /* translated human label */
int irn_category_parse(const char *name);

/* QD05 art. 9: true when all three conditions hold. */
bool irn_report_serious(const Irnet__InitialReport *r);
#endif
