/* libFuzzer harness for gwd's raw request checks (gwd/edge.c): the bytes are
 * a request head as a client sends it.
 *
 * The head is laid out as libmicrohttpd leaves it in its read buffer before
 * the access handler runs: the empty line ends it, each line is cut in place
 * (its CR and LF replaced by NUL), the request line split at its spaces and
 * each field at its ':' (the value after the blanks that follow, and cut at
 * the first NUL, as libmicrohttpd reports it).  The buffer ends right after
 * the empty line (a malloc of exactly that size: ASan sees a byte too far).
 * A head libmicrohttpd refuses itself (no version, a line without ':') is
 * skipped.  Then, as gwd/pipeline.c does:
 *
 *   gwd_edge_headers      with the exact layout, with the request line's end
 *                         only, and without a layout: each layout may only
 *                         add refusals, and what is learnt must agree and
 *                         point into the fields;
 *   gwd_edge_split_target on the target (up to its first NUL, as the
 *                         URI-log callback sees it): path, query and
 *                         authority must lie inside it, the path start '/';
 *   gw_path_normalize     on the path, into plen + 2 bytes as the pipeline
 *                         gives it, and gwd_edge_path_problem on a refusal.
 *
 * Seeds: tests/fuzz/corpus/fuzz_edge/ (requests of tests/corpus/http/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/edge.h"
#include "lib/http.h"
#include "lib/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 100 /* gwd/pipeline.c answers 431 past it */

static volatile unsigned sink;

/* Whether [p, p + n) lies inside [base, base + len].  Returns 1 or 0. */
static int inside(const char *p, size_t n, const char *base, size_t len)
{
	return p >= base && p <= base + len && n <= (size_t)(base + len - p);
}

/* The head in <data>: copied with "\r\n\r\n" appended (so that there is an
 * empty line), then cut after the first empty line into a buffer of exactly
 * that size.  Returns it (free it) and sets <*len>. */
static char *head_of(const uint8_t *data, size_t size, size_t *len)
{
	char *all = malloc(size + 4), *head = NULL;
	size_t s = 0;

	if (!all)
		abort();
	memcpy(all, data, size);
	memcpy(all + size, "\r\n\r\n", 4);
	for (;;) {
		char *lf = memchr(all + s, '\n', size + 4 - s);
		size_t e = (size_t)(lf - all);

		if (s > 0 && (e == s || (e == s + 1 && all[s] == '\r'))) {
			*len = e + 1;
			break;
		}
		s = e + 1;
	}
	head = malloc(*len);
	if (!head)
		abort();
	memcpy(head, all, *len);
	free(all);
	return head;
}

/* Cut the line at <s> in place: its terminator (LF or CRLF, before <end>:
 * the head ends with one) replaced by NUL.  Returns where its content ends;
 * sets <*next> to the next line. */
static char *cut_line(char *s, char *end, char **next)
{
	char *lf = memchr(s, '\n', (size_t)(end - s));
	char *eol = lf > s && lf[-1] == '\r' ? lf - 1 : lf;

	memset(eol, 0, (size_t)(lf - eol) + 1);
	*next = lf + 1;
	return eol;
}

/* Whether the line at <s> (before <end>) is the empty one.  Returns 1 or 0. */
static int empty_line(const char *s, const char *end)
{
	return s[0] == '\n' || (s[0] == '\r' && s + 1 < end && s[1] == '\n');
}

/* Check what the header checks learnt against the fields. */
static void check_facts(const struct gwd_edge_field *f, size_t n,
			const struct gwd_edge_facts *facts)
{
	size_t bytes = 0;
	int host = facts->host == NULL;

	for (size_t i = 0; i < n; i++) {
		bytes += f[i].klen + f[i].vlen + 4;
		if (facts->host == f[i].val && facts->host_len == f[i].vlen)
			host = 1;
	}
	if (bytes != facts->head_bytes || !host)
		abort();
	if (facts->host && !gwd_edge_host_ok(facts->host, facts->host_len))
		abort();
	if (facts->chunked && facts->content_length != UINT64_MAX)
		abort(); /* Content-Length with Transfer-Encoding is refused */
}

/* Whether <a> and <b> say the same.  Returns 1 or 0. */
static int facts_eq(const struct gwd_edge_facts *a, const struct gwd_edge_facts *b)
{
	return a->content_length == b->content_length && a->chunked == b->chunked &&
	       a->host == b->host && a->host_len == b->host_len && a->head_bytes == b->head_bytes;
}

/* The target checks and the normaliser on the target <t>. */
static void target(const char *t)
{
	size_t len = strlen(t), plen, qlen, alen, outlen;
	const char *path, *query, *auth;
	char *out;
	int rc, st;

	rc = gwd_edge_split_target(t, len, &path, &plen, &query, &qlen, &auth, &alen);
	if (rc != 0) {
		if (rc != -1)
			abort();
		return;
	}
	if (!inside(path, plen, t, len) || plen == 0 || path[0] != '/')
		abort();
	if (query && (query != path + plen + 1 || query + qlen != t + len || path[plen] != '?'))
		abort();
	if (!query && path + plen != t + len)
		abort();
	if (auth && (!inside(auth, alen, t, len) || !gwd_edge_host_ok(auth, alen)))
		abort();
	out = malloc(plen + 2);
	if (!out)
		abort();
	st = gw_path_normalize(path, plen, out, plen + 2, &outlen);
	if (st == GW_PATH_OK) {
		if (outlen == 0 || outlen > plen || out[0] != '/' || out[outlen] != '\0')
			abort();
	} else {
		sink += (unsigned)gwd_edge_path_problem(st);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gwd_edge_field f[MAX_FIELDS];
	struct gwd_edge_facts fx, fl, fn;
	struct gwd_edge_layout exact, line_only;
	size_t len, n = 0;
	char *head = head_of(data, size, &len), *end = head + len, *eol, *next, *sp, *tgt;
	int rx, rl, rn;
	enum gwd_problem why;

	/* the request line: METHOD SP TARGET SP VERSION */
	eol = cut_line(head, end, &next);
	sp = memchr(head, ' ', (size_t)(eol - head));
	if (!sp)
		goto done;
	*sp = '\0';
	tgt = sp + 1;
	sp = memchr(tgt, ' ', (size_t)(eol - tgt));
	if (!sp)
		goto done; /* HTTP/0.9: libmicrohttpd refuses it */
	*sp = '\0';
	exact.line_end = sp + 1 + strlen(sp + 1); /* as gwd/server.c finds it */
	exact.head_end = end;
	line_only.line_end = exact.line_end;
	line_only.head_end = NULL;

	/* the fields, up to the empty line */
	while (!empty_line(next, end)) {
		char *line = next, *colon, *val;

		eol = cut_line(line, end, &next);
		if (n == MAX_FIELDS)
			goto done;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			goto done; /* libmicrohttpd refuses the head */
		*colon = '\0';
		for (val = colon + 1; *val == ' ' || *val == '\t'; val++)
			;
		f[n++] = (struct gwd_edge_field){ line, strlen(line), val, strlen(val) };
	}

	rx = gwd_edge_headers(f, n, &exact, &fx, &why);
	rl = gwd_edge_headers(f, n, &line_only, &fl, &why);
	rn = gwd_edge_headers(f, n, NULL, &fn, &why);
	if ((rx == 0 && rn != 0) || (rl == 0 && rn != 0))
		abort(); /* a layout check only adds refusals */
	if (rx == 0)
		check_facts(f, n, &fx);
	if (rl == 0)
		check_facts(f, n, &fl);
	if (rn == 0)
		check_facts(f, n, &fn);
	if (rx == 0 && !facts_eq(&fx, &fn))
		abort();
	target(tgt);
	for (size_t i = 0; i < n; i++)
		sink += (unsigned)gw_http_is_token(f[i].key, f[i].klen);
done:
	free(head);
	return 0;
}
