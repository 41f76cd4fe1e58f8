/* The one Cookie header parser: the session authenticator reads the session
 * token with it, and the proxy strips the session cookie with it, so that
 * what one finds the other removes.
 *
 * A Cookie field value is split on ';' into pairs (RFC 6265 5.4 sends
 * "a=1; b=2", but clients also send "a=1;b=2" or "a=1;<TAB>b=2"):
 *
 *   " a = 1 ;\tgw_session=\"T\" ; flag ;"
 *     |-----| |----------------| |--|
 *     name "a"  name "gw_session"  name "flag", no '='
 *     value "1" value "T" (quotes dropped)
 *
 * Blanks (SP and HTAB) around a pair, a name and a value are not part of
 * them; a value in double quotes loses its quotes; empty pairs are skipped.
 * Names compare byte for byte (cookie names are case-sensitive).
 */
#ifndef GWD_COOKIE_H
#define GWD_COOKIE_H

#include <stddef.h>

struct gwd_cookie {
	const char *pair;  /* the pair without surrounding blanks */
	size_t pair_len;
	const char *name;  /* the name, trimmed; the whole pair when it has no '=' */
	size_t name_len;
	const char *value; /* the value, trimmed and unquoted; NULL without '=' */
	size_t value_len;
};

/* The next pair of the Cookie field value <s> (<len> bytes) from <*pos>
 * (0 to start).  Returns 1, fills <c> (borrowing from <s>) and advances
 * <*pos>; 0 when no pair is left. */
int gwd_cookie_next(const char *s, size_t len, size_t *pos, struct gwd_cookie *c);

/* The value of the first pair named <name> (<nlen> bytes) that has a '='
 * in <s> (<len> bytes).  Returns 1 and sets <*value>, <*vlen> (borrowed
 * from <s>), or 0 when there is none. */
int gwd_cookie_find(const char *s, size_t len, const char *name, size_t nlen,
		    const char **value, size_t *vlen);

/* Copy <s> (<len> bytes) into <out> without the pairs named <name> (<nlen>
 * bytes), with or without a '=': the pairs kept are joined by "; ".  <out>
 * needs 2 * <len> + 1 bytes ("a=1;b=2" grows by one byte per separator).
 * Returns the length written (0: nothing left), <out> NUL-terminated. */
size_t gwd_cookie_strip(const char *s, size_t len, const char *name, size_t nlen, char *out);

#endif
