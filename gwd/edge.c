/* Raw request checks (edge.h). */
#include "gwd/edge.h"

#include <string.h>
#include <strings.h>
#include "lib/http.h"
#include "lib/path.h"

int gwd_edge_host_ok(const char *s, size_t n)
{
	/* sub-delims and unreserved punctuation of RFC 3986 reg-name, and '%' of
	 * pct-encoded: no '@' (userinfo), blanks, '/', '?', '#' or '\\' */
	static const char extra[] = "-._~!$&'()*+,;=%";
	size_t i = 0;

	if (n > 0 && s[0] == '[') {
		/* IP-literal: hex digits, ':' and '.' (and IPvFuture's letters) */
		for (i = 1; i < n && s[i] != ']'; i++) {
			unsigned char c = (unsigned char)s[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || c == ':' || c == '.'))
				return 0;
		}
		if (i == n || i == 1)
			return 0; /* no ']', or "[]" */
		i++;
	} else {
		for (; i < n && s[i] != ':'; i++) {
			unsigned char c = (unsigned char)s[i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || (c != 0 && strchr(extra, c))))
				return 0;
		}
	}
	if (i == n)
		return 1;
	/* ":" port, digits only (an empty port is allowed by RFC 3986) */
	if (s[i] != ':')
		return 0;
	for (i++; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int gwd_edge_split_target(const char *t, size_t len, const char **path, size_t *plen,
			  const char **query, size_t *qlen, const char **auth, size_t *alen)
{
	size_t i, start = 0;
	const char *q;

	*auth = NULL;
	*alen = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)t[i];

		/* no control bytes, spaces or DEL anywhere in a target, and no
		 * fragment (RFC 9112 section 3.2: '#' is not part of a request
		 * target; an upstream that drops "#..." would see another path
		 * than the one gwd matched, e.g. "/admin#/../public") */
		if (c <= 0x20 || c == 0x7F || c == '#')
			return -1;
	}
	if (len >= 7 && (strncasecmp(t, "http://", 7) == 0 ||
			 (len >= 8 && strncasecmp(t, "https://", 8) == 0))) {
		size_t a = t[4] == ':' ? 7 : 8, e = a;

		while (e < len && t[e] != '/' && t[e] != '?' && t[e] != '#')
			e++;
		if (e == a || !gwd_edge_host_ok(t + a, e - a))
			return -1; /* no authority, or userinfo, ... */
		*auth = t + a;
		*alen = e - a;
		start = e;
		if (start == len || t[start] != '/')
			return -1; /* "http://h" or "http://h?q" */
	} else if (len == 0 || t[0] != '/') {
		return -1; /* "*", authority-form, relative */
	}
	q = memchr(t + start, '?', len - start);
	*path = t + start;
	*plen = q ? (size_t)(q - (t + start)) : len - start;
	*query = q ? q + 1 : NULL;
	*qlen = q ? len - (size_t)(q + 1 - t) : 0;
	return 0;
}

enum gwd_problem gwd_edge_path_problem(int st)
{
	switch (st) {
	case GW_PATH_BAD_ESCAPE: return GWD_PB_BAD_ESCAPE;
	case GW_PATH_ENC_SLASH: return GWD_PB_ENCODED_SLASH;
	case GW_PATH_BACKSLASH: return GWD_PB_BACKSLASH;
	case GW_PATH_NUL: return GWD_PB_NUL_IN_PATH;
	case GW_PATH_CTL: return GWD_PB_CTL_IN_PATH;
	case GW_PATH_ABOVE_ROOT: return GWD_PB_ABOVE_ROOT;
	default: return GWD_PB_BAD_TARGET;
	}
}

/* Whether <n> bytes of <s> equal the lower-case <lit> ignoring case. */
static int name_is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Parse a Content-Length value: digits only (RFC 9110 section 8.6).  Returns 0
 * and sets <*out>, or -1. */
static int parse_length(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Whether field <f>'s line ends where its value ends: the value's terminator
 * (CR or LF replaced by NUL) is followed by the next line (<next>, NULL for the
 * last field).  A NUL inside the value, or a folded continuation line, breaks
 * this: the bytes after the cut are not the next line. */
static int layout_ok(const struct gwd_edge_field *f, const char *next)
{
	const char *end = f->val + f->vlen; /* the NUL libmicrohttpd wrote */

	if (*end != '\0')
		return 0;
	if (next)
		return next == end + 1 || (end[1] == '\0' && next == end + 2);
	/* the last field: its LF (CRLF) or the empty line's (bare LF) follows */
	return end[1] == '\0';
}

/* The exact layout check (edge.h): the request line ends at <lay->line_end>
 * with a terminator of t bytes (1: bare LF, 2: CRLF, both replaced by NUL),
 * each field's value ends right before a t-byte terminator followed by the
 * next field's name, and the last one's is followed by the terminator and
 * the empty line (2t bytes) up to <lay->head_end>.  A NUL the client put
 * inside a value or right before its line end, or a folded line, shows as a
 * gap.  Mixed line endings are refused: no client mixes them, and allowing it
 * would make "value NUL LF LF" look like "value CR LF LF".  Returns 1 when the
 * layout holds, 0 when not. */
static int layout_exact(const struct gwd_edge_field *f, size_t n,
			const struct gwd_edge_layout *lay)
{
	const char *prev = lay->line_end;
	size_t t;

	if (n == 0) /* the request line then the empty line */
		return lay->head_end == prev + 2 || lay->head_end == prev + 4;
	if (f[0].key == prev + 1)
		t = 1;
	else if (f[0].key == prev + 2 && prev[1] == '\0')
		t = 2;
	else
		return 0;
	if (prev[0] != '\0')
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *end = f[i].val + f[i].vlen;
		const char *next = i + 1 < n ? f[i + 1].key : lay->head_end - t;

		if (next != end + t)
			return 0;
		for (size_t k = 0; k < t; k++)
			if (end[k] != '\0')
				return 0;
	}
	return 1;
}

/* Set <*why> to <p>; returns -1 (refused) for the caller's return. */
static int refuse(enum gwd_problem *why, enum gwd_problem p)
{
	*why = p;
	return -1;
}

int gwd_edge_headers(const struct gwd_edge_field *f, size_t n,
		     const struct gwd_edge_layout *layout, struct gwd_edge_facts *facts,
		     enum gwd_problem *why)
{
	unsigned ncl = 0, nte = 0, nhost = 0;
	int exact = layout && layout->line_end && layout->head_end;

	facts->content_length = UINT64_MAX;
	facts->chunked = 0;
	facts->host = NULL;
	facts->host_len = 0;
	facts->head_bytes = 0;
	for (size_t i = 0; i < n; i++) {
		const struct gwd_edge_field *h = &f[i];

		facts->head_bytes += h->klen + h->vlen + 4;
		if (!gw_http_is_token(h->key, h->klen))
			return refuse(why, GWD_PB_BAD_HEADER);
		if (!gw_http_is_field_value(h->val, h->vlen))
			return refuse(why, GWD_PB_BAD_HEADER);
		if (layout && !exact && !layout_ok(h, i + 1 < n ? f[i + 1].key : NULL))
			return refuse(why, GWD_PB_BAD_HEADER);
		if (name_is(h->key, h->klen, "content-length")) {
			if (++ncl > 1)
				return refuse(why, GWD_PB_DUP_CONTENT_LENGTH);
			if (parse_length(h->val, h->vlen, &facts->content_length) != 0)
				return refuse(why, GWD_PB_BAD_HEADER);
		} else if (name_is(h->key, h->klen, "transfer-encoding")) {
			size_t a = 0, b = h->vlen;

			if (++nte > 1)
				return refuse(why, GWD_PB_BAD_TE);
			while (a < b && (h->val[a] == ' ' || h->val[a] == '\t'))
				a++;
			while (b > a && (h->val[b - 1] == ' ' || h->val[b - 1] == '\t'))
				b--;
			if (!name_is(h->val + a, b - a, "chunked"))
				return refuse(why, GWD_PB_BAD_TE);
			facts->chunked = 1;
		} else if (name_is(h->key, h->klen, "host")) {
			if (++nhost > 1)
				return refuse(why, GWD_PB_DUP_HOST);
			/* RFC 9110 section 7.2: an invalid Host is answered 400 (it is
			 * what routes match on and what upstreams may be sent) */
			if (!gwd_edge_host_ok(h->val, h->vlen))
				return refuse(why, GWD_PB_BAD_HEADER);
			facts->host = h->val;
			facts->host_len = h->vlen;
		}
	}
	if (exact && !layout_exact(f, n, layout))
		return refuse(why, GWD_PB_BAD_HEADER);
	if (ncl && nte)
		return refuse(why, GWD_PB_CL_AND_TE);
	return 0;
}
