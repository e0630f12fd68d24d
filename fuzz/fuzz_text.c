/* fuzz_text - irn_text_check (both modes), irn_member_id_ok and
 * irn_network_id_ok, each checked against an independent statement of the
 * rule (jansson's UTF-8 check; a plain character-class scan for ids). */
#include "fuzz_common.h"
#include "validate.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool
id_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (!first && (c == '.' || c == '_' || c == '-'));
}

/* One part: [a-z0-9][a-z0-9._-]* */
static bool
part_ref(const char *s, size_t n)
{
	if (n == 0 || !id_char(s[0], true))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!id_char(s[i], false))
			return false;
	return true;
}

static bool
member_ref(const char *s)
{
	size_t n = strlen(s);
	const char *slash = strchr(s, '/');
	if (n > IRN_MAX_ID || slash == NULL)
		return false;
	size_t a = (size_t)(slash - s);
	return part_ref(s, a) && part_ref(slash + 1, n - a - 1);
}

static bool
network_ref(const char *s)
{
	size_t n = strlen(s);
	return n <= IRN_MAX_NETWORK && part_ref(s, n);
}

static bool
forbidden_cp(const char *s, size_t len, bool multiline)
{
	/* the text is valid UTF-8 here: decode without checks */
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		unsigned char c = p[i];
		size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
		for (size_t k = 1; k < n; k++)
			cp = (cp << 6) | (p[i + k] & 0x3F);
		i += n;
		if (cp == 0 || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
			return true;
		if ((cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) &&
		    !(multiline && (cp == '\n' || cp == '\t' || cp == '\r')))
			return true;
	}
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	/* jansson accepts exactly the well-formed UTF-8 strings (NUL allowed) */
	json_t *js = json_stringn(s, size);
	bool utf8 = js != NULL;
	json_decref(js);
	for (int flags = IRN_TEXT_LINE; flags <= IRN_TEXT_MULTILINE; flags++) {
		const char *why = irn_text_check(s, size, IRN_MAX_LONG_TEXT, flags);
		if (size <= IRN_MAX_LONG_TEXT) {
			bool expect = utf8 && !forbidden_cp(s, size, flags == IRN_TEXT_MULTILINE);
			FUZZ_CHECK((why == NULL) == expect);
		} else {
			FUZZ_CHECK(why != NULL);
		}
		const char *why2 = irn_text_check(s, size, size, flags);
		FUZZ_CHECK(size > IRN_MAX_LONG_TEXT || (why == NULL) == (why2 == NULL));
	}
	FUZZ_CHECK(irn_member_id_ok(s) == member_ref(s));
	FUZZ_CHECK(irn_network_id_ok(s) == network_ref(s));
	free(s);
	return 0;
}
