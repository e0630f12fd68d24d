/* fold.h - Vietnamese-aware text folding (search) and display width (tables).
 *
 * Folding: lower case, Latin letters with diacritics reduced to their base
 * letter (U+00C0-U+024F and U+1EA0-U+1EF9 by table, đ/Đ -> d), combining
 * marks U+0300-U+036F dropped, so NFC and NFD input fold alike:
 * "Mã độc Đà Nẵng" -> "ma doc da nang". Other characters pass through.
 *
 * Display width: columns a terminal gives a UTF-8 string (combining marks 0,
 * East Asian wide characters 2, others 1), for padding tables of
 * Vietnamese text by what the eye sees rather than by bytes.
 */
#ifndef IRNET_FOLD_H
#define IRNET_FOLD_H
#include "irnet.h"
#include <stdio.h>

/* Fold s (UTF-8; invalid bytes are dropped). Returns a malloc'ed string the
 * caller frees, NULL only when out of memory. */
char *irn_fold(const char *s);
/* Terminal columns of a UTF-8 string. */
size_t irn_display_width(const char *s);
/* Print s, then spaces up to width columns (nothing if already wider). */
void irn_fput_padded(FILE *f, const char *s, size_t width);
/* One table row: n columns, each but the last padded to its width (display
 * width), separated by one space, then a newline. NULL prints as "". */
void irn_fput_row(FILE *f, const char *const *cols, const size_t *widths, size_t n);
#endif
