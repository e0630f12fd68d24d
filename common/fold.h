/* fold.h - Vietnamese-aware text folding (search) and display width (tables).
 *
 * Folding: lower case, Latin letters with diacritics reduced to their base
 * letter (U+00C0-U+024F and U+1EA0-U+1EF9 by table, đ/Đ -> d), combining
 * marks U+0300-U+036F dropped, so NFC and NFD input fold alike:
 * "Mã độc Đà Nẵng" -> "ma doc da nang". Other characters pass through.
 *
 * Display width: columns a terminal gives a UTF-8 string (combining marks
 * and zero-width characters 0, East Asian wide characters 2, each invalid
 * byte 1, others 1), for padding tables of Vietnamese text by what the eye
 * sees rather than by bytes. The UTF-8 is decoded here, not by the C
 * library: wcwidth() depends on the process locale and gives -1 for every
 * non-ASCII character under LANG=C.
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
/* The larger of width and the display width of each of the n strings (NULL
 * counts 0): a column as wide as its translated header and every translated
 * word it may hold. */
size_t irn_width_fit(size_t width, const char *const *s, size_t n);
/* Widen each of the n column widths w to its header's display width plus
 * one, so that two translated headers never run together. */
void irn_fit_heads(size_t *w, const char *const *head, size_t n);
/* Print s, then spaces up to width columns (nothing if already wider). */
void irn_fput_padded(FILE *f, const char *s, size_t width);
/* n table cells, each padded to its width (display width) and followed by
 * one space; no newline: the caller prints the last, free-width column.
 * NULL prints as "". */
void irn_fput_cells(FILE *f, const char *const *cols, const size_t *widths, size_t n);
/* Print s in exactly width columns: padded with spaces after it (before it
 * if right), or, if wider, cut at a character boundary and ended with
 * U+2026 "…". width <= 0 prints s as it is. NULL prints as "". */
void irn_print_cell(FILE *f, const char *s, int width, bool right);
/* One table row: n columns, each but the last padded to its width (display
 * width), separated by one space, then a newline. NULL prints as "". */
void irn_fput_row(FILE *f, const char *const *cols, const size_t *widths, size_t n);
#endif
