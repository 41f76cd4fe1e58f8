/* HTTP syntax that gwc and gwd both check: header names (tokens), header
 * values, and the hex digits of percent-escapes.  gwc refuses at compile time
 * what gwd would refuse at run time (a header a route sets, a cookie name, an
 * upstream header), so the two must agree byte for byte: hence one module.
 *
 *   token       = 1*tchar                      (RFC 9110 section 5.6.2)
 *   tchar       = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *                 "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 *   field-value = *( VCHAR / obs-text / SP / HTAB ) (RFC 9110 section 5.5),
 *                 checked byte by byte: no control byte but HTAB (so no CR,
 *                 LF or NUL, which would split or end the field), no DEL
 *   HEXDIG      = DIGIT / "A"-"F" / "a"-"f"   (RFC 3986 section 2.1)
 *
 * The byte tests are static inline: gwd runs them on every header of every
 * request.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stddef.h>

/* 1 for each byte value that is a tchar, else 0 (http.c). */
extern const unsigned char gw_http_tchar[256];

/* 1 when byte <c> is a tchar, else 0. */
static inline int gw_http_is_tchar(unsigned char c)
{
	return gw_http_tchar[c];
}

/* 1 when byte <c> may appear in a field value (see above), else 0. */
static inline int gw_http_is_field_byte(unsigned char c)
{
	return (c >= 0x20 || c == '\t') && c != 0x7F;
}

/* The value 0..15 of hex digit <c>, or -1 when <c> is not one. */
static inline int gw_http_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 when the <n> bytes at <s> are a token (non-empty, tchar only), else 0. */
int gw_http_is_token(const char *s, size_t n);

/* 1 when every one of the <n> bytes at <s> may appear in a field value
 * (empty is valid), else 0. */
int gw_http_is_field_value(const char *s, size_t n);

#endif
