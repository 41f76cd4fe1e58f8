/* Raw request checks: what gwd refuses before routing, because libmicrohttpd
 * 0.9.75 would let it through.
 *
 * libmicrohttpd hands the access handler a path it already percent-decoded
 * ("/admin%2Fx" arrives as "/admin/x", "/admin%00/x" as "/admin"), accepts
 * two Content-Length headers, Content-Length with Transfer-Encoding, two Host
 * headers, and keeps a NUL inside a header value by cutting the value short.
 * So gwd reads the raw target (URI-log callback) and the headers as parsed in
 * place, and answers 400 (431 for size) before matching:
 *
 *   target   not origin-form or absolute-form, control bytes, '#', an
 *            authority that is not a valid host (userinfo), and everything
 *            lib/path.c refuses (bad escape, %2F, backslash, NUL, climbing)
 *   headers  duplicate Content-Length; Content-Length + Transfer-Encoding;
 *            duplicate Transfer-Encoding or one other than "chunked";
 *            duplicate Host; an invalid Host value (userinfo, blanks);
 *            a name that is not a token; CR or another
 *            control byte (but HTAB) in a value; a NUL inside a value or an
 *            obsolete line folding (seen as a field not where its line is);
 *            request line + fields larger than max_header_bytes (431)
 *
 * The functions are pure (no libmicrohttpd): pipeline.c feeds them what the
 * library parsed, the unit tests feed them tables.
 */
#ifndef GWD_EDGE_H
#define GWD_EDGE_H

#include <stddef.h>
#include <stdint.h>
#include "gwd/problem.h"

/* One request header as libmicrohttpd parsed it, in arrival order.  <key> and
 * <val> point into the connection's read buffer, where each line was
 * NUL-terminated in place (CR and LF replaced by NUL). */
struct gwd_edge_field {
	const char *key;
	size_t klen;
	const char *val;
	size_t vlen;
};

/* What the header checks learnt. */
struct gwd_edge_facts {
	uint64_t content_length; /* UINT64_MAX: none */
	uint8_t chunked;
	const char *host;        /* NULL: none */
	size_t host_len;
	size_t head_bytes;       /* fields counted as "Name: value\r\n" */
};

/* Split raw target <t> (<len> bytes) into path and query.  Origin-form
 * ("/p?q") and absolute-form ("http://host/p?q", RFC 9112 section 3.2.2: the
 * authority then replaces Host; returned in <*auth>, else NULL).  Returns 0,
 * or -1 when the target is refused (control bytes, other forms): the answer
 * is then GWD_PB_BAD_TARGET. */
int gwd_edge_split_target(const char *t, size_t len, const char **path, size_t *plen,
			  const char **query, size_t *qlen, const char **auth, size_t *alen);

/* Map a lib/path.c status (< 0) to the problem it answers. */
enum gwd_problem gwd_edge_path_problem(int path_status);

/* Where the head lies in libmicrohttpd's read buffer, for the layout check:
 * <line_end> is the end of the request line's version (the NUL written over
 * its CR or LF), <head_end> the first byte after the empty line that ends the
 * head (the request line's start + MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE).
 * Either may be NULL when unknown. */
struct gwd_edge_layout {
	const char *line_end;
	const char *head_end;
};

/* Check <n> header fields <f>.  <layout> not NULL: also check that each
 * field sits right after the previous line in the read buffer (only true for
 * fields libmicrohttpd parsed in place; a test may build such a buffer), which
 * exposes a NUL inside a value (libmicrohttpd cuts the value there) and
 * obsolete line folding.  With both of <layout>'s ends known the check is
 * exact: every line must end the same way (all CRLF or all bare LF) and the
 * last field must end right before the empty line, so that a NUL just before
 * a line end is refused too; without them it cannot see that case.
 * Fills <facts>.  Returns 0 when the fields are accepted, -1 when they are
 * refused: then <*why> holds the problem to answer. */
int gwd_edge_headers(const struct gwd_edge_field *f, size_t n,
		     const struct gwd_edge_layout *layout, struct gwd_edge_facts *facts,
		     enum gwd_problem *why);

/* Whether <s> (<n> bytes) is a valid Host value or absolute-form authority
 * (RFC 9110 section 7.2, RFC 3986 section 3.2.2): reg-name, IPv4 or
 * [IP-literal], then an optional ":" and digits.  Empty is valid (Host may
 * be empty); userinfo ('@'), blanks and other delimiters are not. */
int gwd_edge_host_ok(const char *s, size_t n);

#endif
