/* test_validate.c - irn_text_check, identifier checks and irn_header_validate. */
#include "helpers.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
setup(void **state)
{
	(void)state;
	th_init();
	return 0;
}

/* Check a byte string of explicit length (may contain NUL). */
static const char *
chk(const char *s, size_t len, int flags)
{
	return irn_text_check(s, len, IRN_MAX_SHORT_TEXT, flags);
}
#define CHK(lit, flags) chk((lit), sizeof(lit) - 1, (flags))

static void
assert_ok(const char *why, const char *what)
{
	if (why)
		print_error("%s refused: %s\n", what, why);
	assert_null(why);
}

static void
test_text_vietnamese(void **state)
{
	(void)state;
	assert_ok(CHK("Sở Thông tin và Truyền thông", IRN_TEXT_LINE), "So TTTT");
	assert_ok(CHK("Đà Nẵng", IRN_TEXT_LINE), "Da Nang");
	assert_ok(CHK("Máy chủ bị nhiễm mã độc", IRN_TEXT_MULTILINE), "summary");
	/* Decomposed form (combining marks) and 4-byte characters are fine too. */
	assert_ok(CHK("Đa\xcc\x80 N\xe1\xba\xb5ng \xf0\x9f\x94\x92", IRN_TEXT_LINE), "NFD + emoji");
	/* Largest code point, last before the surrogates, first after them. */
	assert_ok(CHK("\xf4\x8f\xbf\xbf \xed\x9f\xbf \xee\x80\x80", IRN_TEXT_LINE), "edges");
	assert_ok(CHK("", IRN_TEXT_LINE), "empty");
	assert_ok(CHK("DEL-free ~ ASCII", IRN_TEXT_LINE), "ascii");
	/* Only len bytes are examined: bad bytes after len do not matter. */
	assert_ok(chk("abc\xff", 3, IRN_TEXT_LINE), "prefix");
	assert_non_null(irn_text_check(NULL, 0, 10, IRN_TEXT_LINE));
}

static void
test_text_bad_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t len;
		const char *what;
	} bad[] = {
#define B(lit, what) { lit, sizeof(lit) - 1, what }
		B("\x80", "lone continuation 0x80"),
		B("ab\x80" "cd", "continuation inside ASCII"),
		B("\xc0\xaf", "overlong C0 AF ('/')"),
		B("\xc1\xbf", "overlong C1 BF"),
		B("\xe0\x80\xaf", "overlong 3-byte '/'"),
		B("\xf0\x80\x80\xaf", "overlong 4-byte '/'"),
		B("\xed\xa0\x80", "surrogate U+D800"),
		B("\xed\xbf\xbf", "surrogate U+DFFF"),
		B("\xf4\x90\x80\x80", "U+110000"),
		B("\xf7\xbf\xbf\xbf", "U+1FFFFF"),
		B("\xf8\x88\x80\x80\x80", "5-byte form"),
		B("\xfe", "0xFE"),
		B("\xff", "0xFF"),
		B("\xe1\xba", "truncated E1 BA"),
		B("N\xe1\xba", "truncated at end"),
		B("\xe1\xba" "a", "truncated then ASCII"),
		B("\xc3", "truncated 2-byte"),
		B("\xf0\x9f\x94", "truncated 4-byte"),
#undef B
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = chk(bad[i].s, bad[i].len, IRN_TEXT_MULTILINE);
		if (why == NULL)
			print_error("accepted: %s\n", bad[i].what);
		assert_non_null(why);
		assert_string_equal(why, "invalid UTF-8");
	}
	/* A truncated sequence is judged by len, not by a later NUL: E1 BA
	 * followed by a byte outside the length must not be read. */
	assert_non_null(chk("\xe1\xba\xb5", 2, IRN_TEXT_LINE));
	assert_null(chk("\xe1\xba\xb5", 3, IRN_TEXT_LINE));
}

static void
test_text_controls(void **state)
{
	(void)state;
	/* NUL inside the length, in either mode. */
	assert_string_equal(CHK("ab\0cd", IRN_TEXT_LINE), "NUL character");
	assert_string_equal(CHK("ab\0cd", IRN_TEXT_MULTILINE), "NUL character");
	assert_string_equal(CHK("\0", IRN_TEXT_MULTILINE), "NUL character");
	/* C0 controls (and DEL), refused in both modes. */
	static const char *const c0[] = { "a\x01z", "a\x1b[31mz", "a\x7fz", "a\x0bz", "a\x0cz",
					  "a\x1fz" };
	for (size_t i = 0; i < sizeof c0 / sizeof c0[0]; i++) {
		assert_string_equal(chk(c0[i], strlen(c0[i]), IRN_TEXT_LINE), "control character");
		assert_string_equal(chk(c0[i], strlen(c0[i]), IRN_TEXT_MULTILINE),
				    "control character");
	}
	/* C1: U+0080, U+0085 (NEL), U+009B (CSI), U+009F. */
	static const char *const c1[] = { "a\xc2\x80z", "a\xc2\x85z", "a\xc2\x9bz", "a\xc2\x9fz" };
	for (size_t i = 0; i < sizeof c1 / sizeof c1[0]; i++) {
		assert_string_equal(chk(c1[i], strlen(c1[i]), IRN_TEXT_LINE), "control character");
		assert_string_equal(chk(c1[i], strlen(c1[i]), IRN_TEXT_MULTILINE),
				    "control character");
	}
	/* U+00A0 just after C1 is an ordinary character. */
	assert_null(CHK("a\xc2\xa0z", IRN_TEXT_LINE));
	/* TAB, LF, CR: only in multi-line text. */
	static const char *const ws[] = { "a\tb", "dòng 1\ndòng 2", "a\r\nb" };
	for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
		assert_string_equal(chk(ws[i], strlen(ws[i]), IRN_TEXT_LINE), "control character");
		assert_null(chk(ws[i], strlen(ws[i]), IRN_TEXT_MULTILINE));
	}
}

static void
test_text_bidi(void **state)
{
	(void)state;
	/* U+202A..U+202E embeddings/overrides, U+2066..U+2069 isolates. */
	static const char *const bidi[] = {
		"abc\xe2\x80\xaa", "abc\xe2\x80\xab", "abc\xe2\x80\xac", "abc\xe2\x80\xad",
		"invoice\xe2\x80\xaetxt.exe", /* U+202E RLO */
		"\xe2\x81\xa6x\xe2\x81\xa9", /* U+2066 LRI ... U+2069 PDI */
		"x\xe2\x81\xa7", "x\xe2\x81\xa8",
	};
	for (size_t i = 0; i < sizeof bidi / sizeof bidi[0]; i++) {
		assert_string_equal(chk(bidi[i], strlen(bidi[i]), IRN_TEXT_LINE),
				    "bidirectional override character");
		assert_string_equal(chk(bidi[i], strlen(bidi[i]), IRN_TEXT_MULTILINE),
				    "bidirectional override character");
	}
	/* Neighbours of the ranges are ordinary text: U+2029 ... U+202F, U+2065, U+206A. */
	assert_null(CHK("\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa", IRN_TEXT_MULTILINE));
}

static void
test_text_length(void **state)
{
	(void)state;
	const size_t max = 40;
	char buf[128];
	memset(buf, 'a', sizeof buf);
	assert_null(irn_text_check(buf, max, max, IRN_TEXT_LINE));
	assert_string_equal(irn_text_check(buf, max + 1, max, IRN_TEXT_LINE), "text too long");
	/* The limit is in bytes: 14 x "ễ" (3 bytes) = 42 bytes > 40. */
	size_t n = 0;
	for (int i = 0; i < 14; i++) {
		memcpy(buf + n, "\xe1\xbb\x85", 3);
		n += 3;
	}
	assert_int_equal(n, 42);
	assert_null(irn_text_check(buf, 39, max, IRN_TEXT_LINE));
	assert_string_equal(irn_text_check(buf, n, max, IRN_TEXT_LINE), "text too long");
	/* The project limits themselves. */
	char *big = malloc(IRN_MAX_LONG_TEXT + 1);
	assert_non_null(big);
	memset(big, 'x', IRN_MAX_LONG_TEXT + 1);
	assert_null(irn_text_check(big, IRN_MAX_SHORT_TEXT, IRN_MAX_SHORT_TEXT, 0));
	assert_non_null(irn_text_check(big, IRN_MAX_SHORT_TEXT + 1, IRN_MAX_SHORT_TEXT, 0));
	assert_null(irn_text_check(big, IRN_MAX_LONG_TEXT, IRN_MAX_LONG_TEXT, IRN_TEXT_MULTILINE));
	assert_non_null(irn_text_check(big, IRN_MAX_LONG_TEXT + 1, IRN_MAX_LONG_TEXT,
				       IRN_TEXT_MULTILINE));
	free(big);
}

static void
test_member_id(void **state)
{
	(void)state;
	static const char *const good[] = {
		"kontum/so-tttt", "a/b", "kontum/op.benh_vien-1", "0/9", "vn/a..b", "kontum/x-",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (!irn_member_id_ok(good[i]))
			print_error("refused good id %s\n", good[i]);
		assert_true(irn_member_id_ok(good[i]));
	}
	static const char *const bad[] = {
		"", "kontum", "kontum/", "/so-tttt", "/", "Kontum/so", "kontum/So-tttt",
		"kontum/so tttt", "kontum/-so", "kontum/.so", "kontum/_so", "-kontum/so",
		"a/b/c", "kontum//so", "kontum\\so", "kontum/sở", "kontum/so\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (irn_member_id_ok(bad[i]))
			print_error("accepted bad id \"%s\"\n", bad[i]);
		assert_false(irn_member_id_ok(bad[i]));
	}
	assert_false(irn_member_id_ok(NULL));

	/* Length: 64 bytes is the maximum, 65 is refused. */
	char id[IRN_MAX_ID + 2];
	memset(id, 'a', sizeof id);
	memcpy(id, "kontum/", 7);
	id[IRN_MAX_ID] = '\0';
	assert_int_equal(strlen(id), 64);
	assert_true(irn_member_id_ok(id));
	id[IRN_MAX_ID] = 'a';
	id[IRN_MAX_ID + 1] = '\0';
	assert_int_equal(strlen(id), 65);
	assert_false(irn_member_id_ok(id));
}

static void
test_network_id(void **state)
{
	(void)state;
	assert_true(irn_network_id_ok("kontum"));
	assert_true(irn_network_id_ok("kontum-drill"));
	assert_true(irn_network_id_ok("vn.2026_test"));
	static const char *const bad[] = { "", "Kontum", "kontum/drill", "-kontum", "kon tum",
					   "kontum\n", "đà-nẵng" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (irn_network_id_ok(bad[i]))
			print_error("accepted bad network \"%s\"\n", bad[i]);
		assert_false(irn_network_id_ok(bad[i]));
	}
	assert_false(irn_network_id_ok(NULL));
	char n[IRN_MAX_NETWORK + 2];
	memset(n, 'k', sizeof n);
	n[IRN_MAX_NETWORK] = '\0';
	assert_true(irn_network_id_ok(n));
	n[IRN_MAX_NETWORK] = 'k';
	n[IRN_MAX_NETWORK + 1] = '\0';
	assert_false(irn_network_id_ok(n));
}

/* ---- header ---- */

typedef struct hfx {
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	char ids[IRN_MAX_RECIPIENTS + 1][24];
	char *to[IRN_MAX_RECIPIENTS + 1];
	uint32_t roles[IRN_MAX_ROLES_IN_LIST + 1];
	int64_t now;
} hfx;

static int
hsetup(void **state)
{
	th_init();
	hfx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	th_header(&f->h, f->id, "kontum/op-benhvien", IRNET__KIND__KIND_INITIAL_REPORT, 1);
	f->now = f->h.created_ms;
	for (size_t i = 0; i <= IRN_MAX_RECIPIENTS; i++) {
		snprintf(f->ids[i], sizeof f->ids[i], "kontum/member-%zu", i);
		f->to[i] = f->ids[i];
	}
	/* Baseline must be valid or every refusal below proves nothing. */
	assert_null(irn_header_validate(&f->h, f->now));
	*state = f;
	return 0;
}

static int
hteardown(void **state)
{
	free(*state);
	return 0;
}

static void
expect_bad_header(const Irnet__Header *h, int64_t now, const char *reason)
{
	const char *why = irn_header_validate(h, now);
	if (why == NULL || strcmp(why, reason) != 0)
		print_error("expected \"%s\", got \"%s\"\n", reason, why ? why : "(accepted)");
	assert_non_null(why);
	assert_string_equal(why, reason);
}

static void
test_header_version(void **state)
{
	hfx *f = *state;
	f->h.version = 2;
	expect_bad_header(&f->h, f->now, "unsupported protocol version");
	f->h.version = 0;
	expect_bad_header(&f->h, f->now, "unsupported protocol version");
}

static void
test_header_msgid(void **state)
{
	hfx *f = *state;
	f->h.message_id.len = 15;
	expect_bad_header(&f->h, f->now, "message id must be 16 bytes");
	f->h.message_id.len = 0;
	expect_bad_header(&f->h, f->now, "message id must be 16 bytes");
	f->h.message_id.len = 16;
	assert_null(irn_header_validate(&f->h, f->now));
	f->h.has_in_reply_to = true;
	f->h.in_reply_to.data = f->id;
	f->h.in_reply_to.len = 15;
	expect_bad_header(&f->h, f->now, "in-reply-to must be 16 bytes");
	f->h.in_reply_to.len = 16;
	assert_null(irn_header_validate(&f->h, f->now));
}

static void
test_header_sequence_kind(void **state)
{
	hfx *f = *state;
	f->h.sequence = 0;
	expect_bad_header(&f->h, f->now, "sequence must start at 1");
	f->h.sequence = 1;
	static const unsigned unknown[] = { 0, 7, 9, 22, 23, 99, 0xffffffffu };
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		f->h.kind = unknown[i];
		expect_bad_header(&f->h, f->now, "unknown kind");
	}
	f->h.kind = IRNET__KIND__KIND_ALERT;
	assert_null(irn_header_validate(&f->h, f->now));
}

static void
test_header_recipients(void **state)
{
	hfx *f = *state;
	/* 64 members is the limit, 65 is too many. */
	f->h.n_to_roles = 0;
	f->h.to_members = f->to;
	f->h.n_to_members = IRN_MAX_RECIPIENTS;
	assert_null(irn_header_validate(&f->h, f->now));
	f->h.n_to_members = IRN_MAX_RECIPIENTS + 1;
	expect_bad_header(&f->h, f->now, "too many recipients");
	/* No recipients at all. */
	f->h.n_to_members = 0;
	expect_bad_header(&f->h, f->now, "no recipients");
	/* ...which only broker-authored kinds may do. */
	f->h.kind = IRNET__KIND__KIND_RECEIPT;
	assert_null(irn_header_validate(&f->h, f->now));
	f->h.kind = IRNET__KIND__KIND_INITIAL_REPORT;
	/* A malformed member id among the recipients. */
	f->h.n_to_members = 3;
	f->to[1] = (char *)"Kontum/X";
	expect_bad_header(&f->h, f->now, "bad recipient id");
	f->to[1] = f->ids[1];
	assert_null(irn_header_validate(&f->h, f->now));
}

static void
test_header_roles(void **state)
{
	hfx *f = *state;
	f->h.to_roles = f->roles;
	f->h.n_to_roles = 1;
	for (unsigned r = IRNET__ROLE__ROLE_OPERATOR; r <= IRNET__ROLE__ROLE_BROKER; r++) {
		f->roles[0] = r;
		assert_null(irn_header_validate(&f->h, f->now));
	}
	static const uint32_t bad[] = { IRNET__ROLE__ROLE_UNSPECIFIED, 9, 31, 32, 1000,
					0xffffffffu };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f->roles[0] = bad[i];
		expect_bad_header(&f->h, f->now, "bad recipient role");
	}
	for (size_t i = 0; i <= IRN_MAX_ROLES_IN_LIST; i++)
		f->roles[i] = IRNET__ROLE__ROLE_COORDINATOR;
	f->h.n_to_roles = IRN_MAX_ROLES_IN_LIST;
	assert_null(irn_header_validate(&f->h, f->now));
	f->h.n_to_roles = IRN_MAX_ROLES_IN_LIST + 1;
	expect_bad_header(&f->h, f->now, "too many recipients");
}

static void
test_header_misc(void **state)
{
	hfx *f = *state;
	expect_bad_header(NULL, f->now, "missing header");
	f->h.sender = (char *)"kontum";
	expect_bad_header(&f->h, f->now, "bad sender id");
	f->h.sender = (char *)"kontum/op-benhvien";
	f->h.tlp = IRNET__TLP__TLP_RED + 1;
	expect_bad_header(&f->h, f->now, "bad confidentiality marking");
	f->h.tlp = IRNET__TLP__TLP_RED;
	assert_null(irn_header_validate(&f->h, f->now));
	f->h.created_ms = 0;
	expect_bad_header(&f->h, f->now, "bad creation time");
	f->h.created_ms = -1;
	expect_bad_header(&f->h, f->now, "bad creation time");
	f->h.created_ms = f->now + IRN_MAX_FUTURE_MS + 1;
	expect_bad_header(&f->h, f->now, "creation time in the future");
	assert_null(irn_header_validate(&f->h, 0)); /* no clock: not judged */
	f->h.created_ms = f->now;
	f->h.signed_by_person = (char *)"Nguyễn Văn An";
	assert_null(irn_header_validate(&f->h, f->now));
	f->h.signed_by_person = (char *)"Nguyễn\x1b[2J";
	expect_bad_header(&f->h, f->now, "control character");
	f->h.signed_by_person = NULL;
	f->h.local_account = (char *)"root\xe2\x80\xae";
	expect_bad_header(&f->h, f->now, "bidirectional override character");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_text_vietnamese, setup),
		cmocka_unit_test_setup(test_text_bad_utf8, setup),
		cmocka_unit_test_setup(test_text_controls, setup),
		cmocka_unit_test_setup(test_text_bidi, setup),
		cmocka_unit_test_setup(test_text_length, setup),
		cmocka_unit_test_setup(test_member_id, setup),
		cmocka_unit_test_setup(test_network_id, setup),
		cmocka_unit_test_setup_teardown(test_header_version, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(test_header_msgid, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(test_header_sequence_kind, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(test_header_recipients, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(test_header_roles, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(test_header_misc, hsetup, hteardown),
	};
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
