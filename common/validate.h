/* validate.h - post-decode checks on untrusted text and identifiers. */
#ifndef IRNET_VALIDATE_H
#define IRNET_VALIDATE_H
#include "irnet.h"

enum { IRN_TEXT_LINE = 0, IRN_TEXT_MULTILINE = 1 };

/*
 * Accepts only well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF),
 * no NUL, no C0/C1 control characters (TAB, LF, CR allowed when multiline),
 * no bidi overrides/embeddings/isolates (U+202A-U+202E, U+2066-U+2069) and
 * at most max bytes. Returns NULL if fine, else a static reason string.
 */
const char *irn_text_check(const char *s, size_t len, size_t max, int flags);

/* Member id: "<authority>/<name>", each part [a-z0-9][a-z0-9._-]*, total
 * at most IRN_MAX_ID bytes. Network ids: one such part, IRN_MAX_NETWORK. */
bool irn_member_id_ok(const char *s);
bool irn_network_id_ok(const char *s);
#endif
