/* test_fold.c - Vietnamese folding for search, display width for tables. */
#include "helpers.h"
#include "fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
fold_is(const char *in, const char *want)
{
	char *got = irn_fold(in);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		print_error("fold(%s) = '%s', want '%s'\n", in, got, want);
	assert_string_equal(got, want);
	free(got);
}

static void
test_fold_vietnamese(void **state)
{
	(void)state;
	fold_is("mã độc", "ma doc");
	fold_is("MÃ ĐỘC", "ma doc");
	fold_is("Đà Nẵng", "da nang");
	fold_is("đ Đ", "d d");
	fold_is("Sở Thông tin và Truyền thông", "so thong tin va truyen thong");
	fold_is("Mã hóa dữ liệu tống tiền", "ma hoa du lieu tong tien");
	fold_is("Ủy ban nhân dân huyện Đắk Hà", "uy ban nhan dan huyen dak ha");
	fold_is("ưƯơƠăĂâÂêÊôÔ", "uuooaaaaeeoo");
	/* every Vietnamese vowel with every tone, precomposed (U+1EA0..U+1EF9) */
	fold_is("ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
		"aaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy");
}

static void
test_fold_nfd(void **state)
{
	(void)state;
	/* "Đà Nẵng" decomposed: a + U+0300, a + U+0306 + U+0303 */
	fold_is("\xc4\x90" "a\xcc\x80 Na\xcc\x86\xcc\x83ng", "da nang");
	/* "mã độc" NFD: o + U+0323 + U+0302 */
	fold_is("ma\xcc\x83 \xc4\x91o\xcc\x82\xcc\xa3" "c", "ma doc");
	/* the same text in NFC and NFD folds to the same string */
	char *a = irn_fold("Nguyễn Văn Ủy"), *b = irn_fold("Nguye\xcc\x82\xcc\x83n Va\xcc\x86n U\xcc\x89y");
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void
test_fold_other(void **state)
{
	(void)state;
	fold_is("", "");
	fold_is("Crème Brûlée Ångström Øresund Łódź", "creme brulee angstrom oresund lodz");
	fold_is("ABC-123 xyz", "abc-123 xyz");
	/* characters outside the Latin blocks pass through unchanged */
	fold_is("\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x94\x92", "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x94\x92");
	/* invalid UTF-8 is dropped, never copied */
	fold_is("a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d", "abcd");
}

static void
test_display_width(void **state)
{
	(void)state;
	assert_int_equal(irn_display_width(""), 0);
	assert_int_equal(irn_display_width("abc"), 3);
	assert_int_equal(irn_display_width("Đà Nẵng"), 7);                    /* 11 bytes */
	assert_int_equal(irn_display_width("\xc4\x90" "a\xcc\x80 Na\xcc\x86\xcc\x83ng"), 7); /* NFD */
	assert_int_equal(irn_display_width("Mức độ nghiêm trọng:"), 20);
	assert_int_equal(irn_display_width("\xe4\xb8\xad\xe6\x96\x87"), 4);    /* two CJK */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	irn_fput_padded(f, "Đà Nẵng", 10);
	fputc('|', f);
	irn_fput_padded(f, "toolongtext", 4);
	fclose(f);
	assert_string_equal(buf, "Đà Nẵng   |toolongtext");
	free(buf);
	/* a table row: Vietnamese cells line up with ASCII ones */
	buf = NULL;
	f = open_memstream(&buf, &len);
	static const size_t w[] = { 6, 12, 0 };
	const char *r1[] = { "ID", "TRẠNG THÁI", "HỆ THỐNG" }, *r2[] = { "abc", NULL, "x" };
	irn_fput_row(f, r1, w, 3);
	irn_fput_row(f, r2, w, 3);
	fclose(f);
	assert_string_equal(buf, "ID     TRẠNG THÁI   HỆ THỐNG\nabc                 x\n");
	free(buf);
}

int
main(void)
{
	th_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_vietnamese),
		cmocka_unit_test(test_fold_nfd),
		cmocka_unit_test(test_fold_other),
		cmocka_unit_test(test_display_width),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
