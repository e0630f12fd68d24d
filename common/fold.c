/* fold.c - Vietnamese-aware folding and display width (fold.h). */
#include "fold.h"

#include <stdlib.h>
#include <string.h>

/* Base letters for U+00C0..U+024F ('.' = none), from Unicode NFD plus the
 * letters without a decomposition (đ Đ ð -> d, ø -> o, ł -> l, ħ -> h ...). */
static const char latin[] =
	"aaaaaa.ceeeeiiiidnooooo.ouuuuy.saaaaaa.ceeeeiiiidnooooo.ouuuuy.y"
	"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiii...jjkk.llllll."
	".llnnnnnn...oooooo..rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzz."
	".........d.....e................oo.............uu..............."
	".............aaiioouuuuuuuuuu.aaaa....ggkkoooo..j...gg..nnaa...."
	"aaaaeeeeiiiioooorrrruuuusstt..hh......aaeeooooooooyy............"
	"................";
/* U+1EA0..U+1EF9: Vietnamese letters with tone marks (Latin Extended Additional). */
static const char viet[] =
	"aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeiiiioooooooooooooooooooo"
	"oooouuuuuuuuuuuuuuyyyyyyyy";

/* Decode one UTF-8 sequence at s; *n receives its length (1 for a bad byte,
 * which decodes as -1). Overlong forms and surrogates are refused. */
static long
utf8_next(const unsigned char *s, size_t *n)
{
	unsigned c = s[0];
	*n = 1;
	if (c < 0x80)
		return c;
	int len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
	if (len == 0 || c >= 0xF5)
		return -1;
	long cp = c & (0x3F >> (len - 1));
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*n = (size_t)len;
	return cp;
}

static bool
combining(long cp)
{
	return (cp >= 0x300 && cp <= 0x36F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
	       (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
	       (cp >= 0xFE20 && cp <= 0xFE2F) || (cp >= 0x200B && cp <= 0x200F);
}

char *
irn_fold(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len + 1); /* folding never lengthens */
	if (out == NULL)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	while (*p) {
		size_t n;
		long cp = utf8_next(p, &n);
		char base = 0;
		if (cp < 0 || combining(cp)) {
			/* dropped */
		} else if (cp < 0x80) {
			base = (char)(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp);
		} else if (cp >= 0xC0 && cp <= 0x24F && latin[cp - 0xC0] != '.') {
			base = latin[cp - 0xC0];
		} else if (cp >= 0x1EA0 && cp <= 0x1EF9) {
			base = viet[cp - 0x1EA0];
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
		if (base)
			out[o++] = base;
		p += n;
	}
	out[o] = '\0';
	return out;
}

static bool
wide(long cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF && cp != 0x303F) ||
	       (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	       (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
	       (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

/* Columns of one decoded character. An invalid byte is 1: terminals show
 * each as one replacement character, and counting it 0 would pull the
 * rest of the row left. Controls are 0 (they move nothing visible). Word
 * joiner and BOM are zero-width like the U+200B-200F that combining()
 * already covers. */
static size_t
cp_width(long cp)
{
	if (cp < 0)
		return 1;
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || combining(cp) ||
	    (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF)
		return 0;
	return wide(cp) ? 2 : 1;
}

size_t
irn_display_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t n;
		w += cp_width(utf8_next(p, &n));
		p += n;
	}
	return w;
}

size_t
irn_width_fit(size_t width, const char *const *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t w = s[i] ? irn_display_width(s[i]) : 0;
		if (w > width)
			width = w;
	}
	return width;
}

void
irn_fit_heads(size_t *w, const char *const *head, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t hw = irn_display_width(head[i]) + 1;
		if (hw > w[i])
			w[i] = hw;
	}
}

static void
spaces(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

void
irn_fput_padded(FILE *f, const char *s, size_t width)
{
	fputs(s, f);
	size_t w = irn_display_width(s);
	if (w < width)
		spaces(f, width - w);
}

void
irn_fput_cells(FILE *f, const char *const *cols, const size_t *widths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		irn_fput_padded(f, cols[i] ? cols[i] : "", widths[i]);
		fputc(' ', f);
	}
}

void
irn_print_cell(FILE *f, const char *s, int width, bool right)
{
	if (s == NULL)
		s = "";
	if (width <= 0) {
		fputs(s, f);
		return;
	}
	size_t cols = (size_t)width, w = irn_display_width(s), len = strlen(s);
	bool cut = w > cols;
	if (cut) {
		/* Whole characters (with the marks that combine with them) up to
		 * width - 1 columns, then the ellipsis: never half a UTF-8
		 * sequence, never a mark without its letter. */
		const unsigned char *p = (const unsigned char *)s;
		size_t n, cw;
		for (len = 0, w = 0; p[len]; len += n, w += cw) {
			cw = cp_width(utf8_next(p + len, &n));
			if (w + cw > cols - 1)
				break;
		}
		w++;
	}
	if (right)
		spaces(f, cols - w);
	fwrite(s, 1, len, f);
	if (cut)
		fputs("\xe2\x80\xa6", f); /* U+2026 HORIZONTAL ELLIPSIS, one column */
	if (!right)
		spaces(f, cols - w);
}

void
irn_fput_row(FILE *f, const char *const *cols, const size_t *widths, size_t n)
{
	if (n == 0) {
		fputc('\n', f);
		return;
	}
	irn_fput_cells(f, cols, widths, n - 1);
	fputs(cols[n - 1] ? cols[n - 1] : "", f);
	fputc('\n', f);
}
