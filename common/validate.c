/* validate.c - UTF-8 and identifier validation. */
#include "validate.h"

#include <string.h>

/* Decode one UTF-8 sequence; returns its length or 0 if ill-formed. */
static size_t
utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t n;
	uint32_t min, v;
	if ((c & 0xE0) == 0xC0) {
		n = 2; min = 0x80; v = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3; min = 0x800; v = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4; min = 0x10000; v = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

const char *
irn_text_check(const char *s, size_t len, size_t max, int flags)
{
	if (s == NULL)
		return N_("missing text");
	if (len > max)
		return N_("text too long");
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_next(p + i, len - i, &cp);
		if (n == 0)
			return N_("invalid UTF-8");
		if (cp == 0)
			return N_("NUL character");
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
			bool ok = (flags & IRN_TEXT_MULTILINE) &&
				  (cp == '\n' || cp == '\t' || cp == '\r');
			if (!ok)
				return N_("control character");
		}
		if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
			return N_("bidirectional override character");
		i += n;
	}
	return NULL;
}

static bool
part_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool
irn_member_id_ok(const char *s)
{
	if (s == NULL)
		return false;
	size_t n = strnlen(s, IRN_MAX_ID + 1);
	if (n > IRN_MAX_ID)
		return false;
	const char *slash = memchr(s, '/', n);
	if (slash == NULL)
		return false;
	size_t a = (size_t)(slash - s);
	return part_ok(s, a) && part_ok(slash + 1, n - a - 1);
}

bool
irn_network_id_ok(const char *s)
{
	if (s == NULL)
		return false;
	size_t n = strnlen(s, IRN_MAX_NETWORK + 1);
	return n <= IRN_MAX_NETWORK && part_ok(s, n);
}
