/* JSON string escaping (json.h).  One pass, no allocation: runs of bytes that
 * need no escaping are copied at once. */
#include "gwd/json.h"

#include <stdint.h>

/* Length of the valid UTF-8 sequence starting at <s> (<n> bytes left) whose
 * first byte is >= 0x80, or 0 when it is invalid (overlong, surrogate, beyond
 * U+10FFFF, truncated: RFC 3629 section 4). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && s[1] > 0x9F)
			return 0; /* surrogates */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xF4 && s[1] > 0x8F)
			return 0; /* beyond U+10FFFF */
		return 4;
	}
	return 0;
}

/* 1 for the ASCII bytes that go out as they are: the common case, tested
 * with one load per byte. */
static const uint8_t plain[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5B] = 1, [0x5D ... 0x7E] = 1,
};

int gwd_json_escape(struct gwd_buf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t start_len = b->len, i = 0, run = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;

		if (plain[c]) {
			i++;
			continue;
		}
		if (c >= 0x80 && (k = utf8_seq(s + i, n - i)) != 0) {
			i += k;
			continue;
		}
		/* flush the clean run before this byte */
		if (gwd_buf_add(b, s + run, i - run) < 0)
			goto fail;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			if (gwd_buf_add(b, e, 2) < 0)
				goto fail;
		} else if (c == '\n') {
			if (gwd_buf_add(b, "\\n", 2) < 0)
				goto fail;
		} else if (c == '\r') {
			if (gwd_buf_add(b, "\\r", 2) < 0)
				goto fail;
		} else if (c == '\t') {
			if (gwd_buf_add(b, "\\t", 2) < 0)
				goto fail;
		} else if (c < 0x80) { /* other control characters and DEL */
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			if (gwd_buf_add(b, e, 6) < 0)
				goto fail;
		} else { /* a byte of invalid UTF-8 */
			if (gwd_buf_add(b, "\xEF\xBF\xBD", 3) < 0)
				goto fail;
		}
		i++;
		run = i;
	}
	if (gwd_buf_add(b, s + run, n - run) < 0)
		goto fail;
	return 0;
fail:
	b->len = start_len;
	b->full = 1;
	return -1;
}

int gwd_json_str(struct gwd_buf *b, const char *s, size_t n)
{
	size_t start_len = b->len;

	if (gwd_buf_putc(b, '"') < 0 || gwd_json_escape(b, s, n) < 0 || gwd_buf_putc(b, '"') < 0) {
		b->len = start_len;
		b->full = 1;
		return -1;
	}
	return 0;
}
