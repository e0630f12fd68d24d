/* test_display.c - terminal display width and table cells (fold.h): the
 * columns a terminal gives UTF-8 text, whatever the process locale, and
 * cells padded or cut by those columns rather than by bytes. */
#include "helpers.h"
#include "fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What irn_print_cell prints, as a malloc'ed string. */
static char *
cell(const char *s, int width, bool right)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	irn_print_cell(f, s, width, right);
	fclose(f);
	return buf;
}

static void
cell_is(const char *s, int width, bool right, const char *want)
{
	char *got = cell(s, width, right);
	if (strcmp(got, want) != 0)
		print_error("cell('%s', %d, %d) = '%s', want '%s'\n", s ? s : "(null)", width, right,
			    got, want);
	assert_string_equal(got, want);
	free(got);
}

/* Strictly valid UTF-8 (no overlong forms, surrogates or cut sequences). */
static bool
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		int n = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3
			: c >= 0xF0 && c < 0xF5 ? 4 : 0;
		if (n == 0)
			return false;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xC0) != 0x80)
				return false;
		if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) ||
		    (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
			return false;
		p += n;
	}
	return true;
}

static void
test_ascii(void **state)
{
	(void)state;
	assert_int_equal(irn_display_width("abc"), 3);
	assert_int_equal(irn_display_width("kontum/so-tttt"), 14);
	assert_int_equal(irn_display_width("a\tb\n"), 2); /* controls move nothing visible */
	cell_is("abc", 5, false, "abc  ");
	cell_is("abc", 5, true, "  abc");
	cell_is("abc", 3, false, "abc");
	cell_is("abcdef", 4, false, "abc\xe2\x80\xa6");
	cell_is("abcdef", 4, true, "abc\xe2\x80\xa6");
	cell_is("abcdef", 1, false, "\xe2\x80\xa6");
	cell_is("abcdef", 0, false, "abcdef"); /* no width: as it is */
}

static void
test_vietnamese_precomposed(void **state)
{
	(void)state;
	/* NFC, as typed on Vietnamese keyboards: one code point per column */
	assert_int_equal(strlen("Cảnh báo"), 11);
	assert_int_equal(irn_display_width("Cảnh báo"), 8);
	assert_int_equal(irn_display_width("Sở Thông tin và Truyền thông"), 28);
	assert_int_equal(irn_display_width("THÀNH VIÊN ĐƯỢC GIAO"), 20);
	assert_int_equal(irn_display_width("Đ"), 1);
	cell_is("Cảnh báo", 10, false, "Cảnh báo  ");
	cell_is("Cảnh báo", 10, true, "  Cảnh báo");
	cell_is("Cảnh báo", 8, false, "Cảnh báo");
	cell_is("Sở Thông tin và Truyền thông", 10, false, "Sở Thông \xe2\x80\xa6");
	cell_is("Sở Thông tin và Truyền thông", 12, true, "Sở Thông ti\xe2\x80\xa6");
}

static void
test_vietnamese_decomposed(void **state)
{
	(void)state;
	/* NFD: base letter + combining marks (U+0309 hook, U+0301 acute) */
	const char *nfd = "Ca\xcc\x89nh ba\xcc\x81o";
	assert_int_equal(irn_display_width(nfd), 8);
	/* two marks on one letter: ệ = e + U+0323 dot below + U+0302 circumflex */
	assert_int_equal(irn_display_width("Vie\xcc\xa3\xcc\x82t"), 4);
	/* the other combining blocks and zero-width characters */
	assert_int_equal(irn_display_width("a\xe1\xaa\xb0"), 1);  /* U+1AB0 */
	assert_int_equal(irn_display_width("a\xe1\xb7\x80"), 1);  /* U+1DC0 */
	assert_int_equal(irn_display_width("a\xe2\x83\x90"), 1);  /* U+20D0 */
	assert_int_equal(irn_display_width("a\xef\xb8\xa0"), 1);  /* U+FE20 */
	assert_int_equal(irn_display_width("a\xe2\x80\x8b" "b"), 2); /* U+200B zero width space */
	assert_int_equal(irn_display_width("a\xe2\x80\x8d" "b"), 2); /* U+200D joiner */
	assert_int_equal(irn_display_width("a\xe2\x81\xa0" "b"), 2); /* U+2060 word joiner */
	assert_int_equal(irn_display_width("\xef\xbb\xbf" "ab"), 2); /* U+FEFF BOM */
	/* padding counts the marks as nothing */
	char want[64];
	snprintf(want, sizeof want, "%s  ", nfd);
	cell_is(nfd, 10, false, want);
	/* cutting keeps each mark with its letter, and a mark never alone */
	cell_is(nfd, 4, false, "Ca\xcc\x89n\xe2\x80\xa6");
	cell_is(nfd, 3, false, "Ca\xcc\x89\xe2\x80\xa6");
	cell_is(nfd, 2, false, "C\xe2\x80\xa6");
}

static void
test_wide(void **state)
{
	(void)state;
	assert_int_equal(irn_display_width("\xe4\xb8\xad\xe6\x96\x87"), 4);     /* 中文 */
	assert_int_equal(irn_display_width("\xea\xb0\x80"), 2);                 /* U+AC00 Hangul */
	assert_int_equal(irn_display_width("\xe1\x84\x80"), 2);                 /* U+1100 Jamo */
	assert_int_equal(irn_display_width("\xef\xbc\xa1"), 2);                 /* U+FF21 fullwidth A */
	assert_int_equal(irn_display_width("\xef\xbd\xa1"), 1);                 /* U+FF61 halfwidth */
	assert_int_equal(irn_display_width("\xef\xbf\xa0"), 2);                 /* U+FFE0 */
	assert_int_equal(irn_display_width("\xef\xb8\xb0"), 2);                 /* U+FE30 */
	assert_int_equal(irn_display_width("\xef\xa4\x80"), 2);                 /* U+F900 */
	assert_int_equal(irn_display_width("\xf0\x9f\x94\x92"), 2);             /* U+1F512 */
	assert_int_equal(irn_display_width("\xf0\x9f\xa4\x94"), 2);             /* U+1F914 */
	assert_int_equal(irn_display_width("\xf0\xa0\x80\x80"), 2);             /* U+20000 */
	assert_int_equal(irn_display_width("\xe2\x82\xac"), 1);                 /* U+20AC euro */
	cell_is("\xe4\xb8\xad\xe6\x96\x87", 6, false, "\xe4\xb8\xad\xe6\x96\x87  ");
	/* a wide character that would straddle the edge is left out: the cell
	 * is still exactly its width */
	cell_is("\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", 4, false, "\xe4\xb8\xad\xe2\x80\xa6 ");
	cell_is("\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", 5, false, "\xe4\xb8\xad\xe6\x96\x87\xe2\x80\xa6");
	cell_is("\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97", 4, true, " \xe4\xb8\xad\xe2\x80\xa6");
}

/* Every width from 1 up: the cut never splits a UTF-8 sequence and the
 * cell always takes exactly its width. */
static void
test_truncation_boundaries(void **state)
{
	(void)state;
	const char *texts[] = {
		"Sở Thông tin và Truyền thông",
		"Ca\xcc\x89nh ba\xcc\x81o \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x94\x92 Vie\xcc\xa3\xcc\x82t",
		"\xe4\xb8\xad" "a\xe4\xb8\xad" "bb\xe4\xb8\xad",
		"\xf0\xa0\x80\x80\xf0\xa0\x80\x80\xf0\xa0\x80\x80",
	};
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
		size_t full = irn_display_width(texts[t]);
		for (int w = 1; w <= (int)full + 2; w++) {
			for (int right = 0; right < 2; right++) {
				char *got = cell(texts[t], w, right);
				if (!valid_utf8(got) || irn_display_width(got) != (size_t)w)
					print_error("text %zu width %d: '%s'\n", t, w, got);
				assert_true(valid_utf8(got));
				assert_int_equal(irn_display_width(got), w);
				if ((size_t)w < full)
					assert_non_null(strstr(got, "\xe2\x80\xa6"));
				else
					assert_null(strstr(got, "\xe2\x80\xa6"));
				free(got);
			}
		}
	}
}

static void
test_invalid(void **state)
{
	(void)state;
	/* each invalid byte is one column (one replacement character) */
	assert_int_equal(irn_display_width("\xff"), 1);
	assert_int_equal(irn_display_width("a\xff" "b"), 3);
	assert_int_equal(irn_display_width("\xc0\xaf"), 2);          /* overlong '/' */
	assert_int_equal(irn_display_width("\xed\xa0\x80"), 3);      /* a surrogate */
	assert_int_equal(irn_display_width("\xf8\x88\x80\x80\x80"), 5); /* 5-byte form */
	assert_int_equal(irn_display_width("\x80\x80"), 2);          /* stray continuations */
	assert_int_equal(irn_display_width("ab\xe1\xbb"), 4);         /* cut at the end */
	/* a sequence cut by the terminating NUL: nothing past it is read (the
	 * bytes after the NUL would complete it); exact-size heap copies let
	 * AddressSanitizer catch any read beyond */
	static const char cut3[] = { 'a', (char)0xE1, '\0', (char)0xBB, (char)0x87, '\0' };
	assert_int_equal(irn_display_width(cut3), 2);
	static const char *const cuts[] = { "\xe1", "\xe1\xbb", "\xf0", "\xf0\x9f", "\xf0\x9f\x94",
					    "x\xc3" };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		size_t n = strlen(cuts[i]);
		char *h = malloc(n + 1);
		assert_non_null(h);
		memcpy(h, cuts[i], n + 1);
		assert_int_equal(irn_display_width(h), n);
		char *got = cell(h, (int)n + 1, false);
		assert_int_equal(strlen(got), n + 1);
		free(got);
		if (n > 1) {
			got = cell(h, 1, false); /* cut: one column, the ellipsis */
			assert_string_equal(got, "\xe2\x80\xa6");
			free(got);
		}
		free(h);
	}
	/* cutting invalid bytes keeps whole bytes, one column each */
	cell_is("\xff\xff\xff\xff", 3, false, "\xff\xff\xe2\x80\xa6");
	cell_is("\xff", 3, true, "  \xff");
}

static void
test_empty(void **state)
{
	(void)state;
	assert_int_equal(irn_display_width(""), 0);
	cell_is("", 3, false, "   ");
	cell_is("", 3, true, "   ");
	cell_is(NULL, 2, false, "  ");
	cell_is("", 0, false, "");
	/* only zero-width characters: nothing to cut */
	cell_is("\xe2\x80\x8b", 1, false, "\xe2\x80\x8b ");
}

static void
test_width_fit(void **state)
{
	(void)state;
	/* a column as wide as its translated header and words */
	const char *words[] = { "TRẠNG THÁI", NULL, "đang thực hiện", "đã giao" };
	assert_int_equal(irn_width_fit(12, words, 4), 14);
	assert_int_equal(irn_width_fit(20, words, 4), 20);
	assert_int_equal(irn_width_fit(0, NULL, 0), 0);
}

int
main(void)
{
	th_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_vietnamese_precomposed),
		cmocka_unit_test(test_vietnamese_decomposed),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_truncation_boundaries),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_width_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
