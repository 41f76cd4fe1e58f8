/* Tests of gwd/edge.c: the raw request checks, table-driven.
 *
 * Header cases are written as the bytes a client sends; mhd_parse() below
 * turns them into fields the way libmicrohttpd 0.9.75 does (lines cut in
 * place: CR and LF replaced by NUL, the colon by NUL, leading blanks of the
 * value skipped, values measured with strlen, a folded line moving the field's
 * name elsewhere), so the layout check sees what it sees in gwd. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "gwd/edge.h"
#include "lib/path.h"

#define MAXF 32

/* a layout without its ends: the in-place check only */
static const struct gwd_edge_layout nolay = { NULL, NULL };

int gw_suite_gwd_edge(void);

struct parsed {
	char buf[1024];
	char moved[8][64]; /* names moved by folding */
	struct gwd_edge_field f[MAXF];
	size_t n;
};

/* Parse head <h> (<len> bytes: header lines and the empty line) into <p> as
 * libmicrohttpd would. Returns 0, or -1 when libmicrohttpd itself would refuse
 * the line (no colon). */
static int mhd_parse_from(struct parsed *p, size_t pos, size_t len, size_t *head_end);

static int mhd_parse(const char *h, size_t len, struct parsed *p)
{
	size_t end;

	memset(p, 0, sizeof *p);
	memcpy(p->buf, h, len);
	return mhd_parse_from(p, 0, len, &end);
}

/* Parse the header lines in <p->buf> from <pos> to <len> as mhd_parse does;
 * sets <*head_end> to the offset after the empty line. */
static int mhd_parse_from(struct parsed *p, size_t pos, size_t len, size_t *head_end)
{
	size_t nmoved = 0;

	*head_end = len;
	while (pos < len) {
		char *line = p->buf + pos, *colon;
		size_t i = pos;

		while (i < len && p->buf[i] != '\n' && !(p->buf[i] == '\r' && i + 1 < len && p->buf[i + 1] == '\n'))
			i++;
		if (p->buf[i] == '\r') {
			p->buf[i] = '\0';
			p->buf[i + 1] = '\0';
			pos = i + 2;
		} else {
			p->buf[i] = '\0';
			pos = i + 1;
		}
		if (line[0] == '\0') {
			*head_end = pos;
			break; /* the empty line */
		}
		if ((line[0] == ' ' || line[0] == '\t') && p->n) {
			/* folding: libmicrohttpd reallocates the previous name */
			struct gwd_edge_field *prev = &p->f[p->n - 1];

			snprintf(p->moved[nmoved], sizeof p->moved[nmoved], "%s", prev->key);
			prev->key = p->moved[nmoved++];
			continue;
		}
		colon = strchr(line, ':');
		if (!colon)
			return -1;
		*colon = '\0';
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		p->f[p->n].key = line;
		p->f[p->n].klen = strlen(line);
		p->f[p->n].val = colon;
		p->f[p->n].vlen = strlen(colon);
		p->n++;
	}
	return 0;
}

/* The edge's verdict on the fields of <p>: ACCEPTED, or the problem it
 * answers. */
#define ACCEPTED (-1)
static int verdict(const struct parsed *p, const struct gwd_edge_layout *lay,
		   struct gwd_edge_facts *facts)
{
	enum gwd_problem why = GWD_PB_COUNT;

	return gwd_edge_headers(p->f, p->n, lay, facts, &why) == 0 ? ACCEPTED : (int)why;
}

/* A head with NUL bytes inside, and its length. */
#define H(s) s, sizeof(s) - 1

static const struct {
	const char *name;
	const char *head; /* NUL bytes written as \0 need explicit lengths: see len */
	size_t len;       /* 0: strlen(head) */
	int expect;       /* ACCEPTED, or the problem answered */
} hcases[] = {
	{ "plain", "Host: x\r\nAccept: */*\r\n\r\n", 0, ACCEPTED },
	{ "bare LF lines", "Host: x\nAccept: */*\n\n", 0, ACCEPTED },
	{ "empty value", "Host: x\r\nX-E:\r\nY: 1\r\n\r\n", 0, ACCEPTED },
	{ "one content-length", "Host: x\r\nContent-Length: 12\r\n\r\n", 0, ACCEPTED },
	{ "chunked", "Host: x\r\nTransfer-Encoding: chunked\r\n\r\n", 0, ACCEPTED },
	{ "chunked, case and blanks", "Host: x\r\nTransfer-Encoding: Chunked  \r\n\r\n", 0, ACCEPTED },
	{ "duplicate content-length", "Host: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 0,
	  GWD_PB_DUP_CONTENT_LENGTH },
	{ "content-length not digits", "Host: x\r\nContent-Length: 1a\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "content-length signed", "Host: x\r\nContent-Length: +1\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "content-length and chunked", "Host: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	  0, GWD_PB_CL_AND_TE },
	{ "chunked and content-length", "Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	  0, GWD_PB_CL_AND_TE },
	{ "duplicate transfer-encoding",
	  "Host: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 0, GWD_PB_BAD_TE },
	{ "gzip", "Host: x\r\nTransfer-Encoding: gzip\r\n\r\n", 0, GWD_PB_BAD_TE },
	{ "gzip, chunked", "Host: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, GWD_PB_BAD_TE },
	{ "identity", "Host: x\r\nTransfer-Encoding: identity\r\n\r\n", 0, GWD_PB_BAD_TE },
	{ "duplicate host", "Host: x\r\nHost: y\r\n\r\n", 0, GWD_PB_DUP_HOST },
	{ "duplicate host, other case", "Host: x\r\nhOST: x\r\n\r\n", 0, GWD_PB_DUP_HOST },
	{ "CR in a value", "Host: x\r\nX-A: a\rb\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "control byte in a value", "Host: x\r\nX-A: a\x01" "b\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "DEL in a value", "Host: x\r\nX-A: a\x7f\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "tab in a value is fine", "Host: x\r\nX-A: a\tb\r\n\r\n", 0, ACCEPTED },
	{ "obs-text is fine", "Host: x\r\nX-A: caf\xc3\xa9\r\n\r\n", 0, ACCEPTED },
	{ "NUL inside a value", H("Host: x\r\nX-A: a\0b\r\nX-B: c\r\n\r\n"), GWD_PB_BAD_HEADER },
	{ "NUL inside the last value", H("Host: x\r\nX-A: a\0b\r\n\r\n"), GWD_PB_BAD_HEADER },
	{ "NUL inside a value, bare LF", H("Host: x\nX-A: a\0b\nX-B: c\n\n"), GWD_PB_BAD_HEADER },
	{ "folded line", "Host: x\r\nX-A: a\r\n b\r\nX-B: c\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "space in a name", "Host: x\r\nBad Name: a\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "space before the colon", "Host: x\r\nX-A : a\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "empty name", "Host: x\r\n: a\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "host with userinfo", "Host: u@x\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "host with a blank", "Host: x y\r\n\r\n", 0, GWD_PB_BAD_HEADER },
	{ "host IPv6 and port", "Host: [::1]:80\r\n\r\n", 0, ACCEPTED },
	{ "empty host", "Host:\r\n\r\n", 0, ACCEPTED },
};

static void test_headers_table(void)
{
	for (size_t i = 0; i < sizeof hcases / sizeof *hcases; i++) {
		struct parsed p;
		struct gwd_edge_facts facts;
		size_t len = hcases[i].len ? hcases[i].len : strlen(hcases[i].head);
		int rc;

		CU_ASSERT_EQUAL_FATAL(mhd_parse(hcases[i].head, len, &p), 0);
		rc = verdict(&p, &nolay, &facts);
		if (rc != hcases[i].expect)
			fprintf(stderr, "\n  case '%s': got %d, expected %d\n", hcases[i].name, rc,
				hcases[i].expect);
		CU_ASSERT_EQUAL(rc, hcases[i].expect);
	}
}

/* A whole request (<len> bytes) as libmicrohttpd leaves it: the request line
 * cut in place, then the fields; fills <lay> with the line's end (after the
 * version) and the head's end. Returns 0 or -1. */
static int mhd_parse_request(const char *req, size_t len, struct parsed *p,
			     struct gwd_edge_layout *lay)
{
	size_t i = 0, end;
	char *ver;

	memset(p, 0, sizeof *p);
	memcpy(p->buf, req, len);
	while (i < len && p->buf[i] != '\n' && p->buf[i] != '\r')
		i++;
	ver = memchr(p->buf, 'H', i); /* "GET / HTTP/1.1": the version */
	if (!ver || i == len)
		return -1;
	lay->line_end = ver + strlen("HTTP/1.1");
	if (p->buf[i] == '\r' && p->buf[i + 1] == '\n') {
		p->buf[i] = p->buf[i + 1] = '\0';
		i += 2;
	} else {
		p->buf[i++] = '\0';
	}
	if (mhd_parse_from(p, i, len, &end) != 0)
		return -1;
	lay->head_end = p->buf + end;
	return 0;
}

/* With the head's two ends known, the layout check is exact: a NUL right
 * before a line end (which the in-place check alone cannot see for the last
 * field) and mixed line endings are refused; ordinary heads pass. */
static void test_layout_exact(void)
{
	static const struct {
		const char *name;
		const char *req;
		size_t len;
		int expect;
	} c[] = {
		{ "CRLF", H("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\r\nbody"), ACCEPTED },
		{ "bare LF", H("GET / HTTP/1.1\nHost: x\nX-A: a\n\n"), ACCEPTED },
		{ "trailing blanks", H("GET / HTTP/1.1\r\nHost: x\r\nX-A: a  \r\n\r\n"), ACCEPTED },
		{ "no fields", H("GET / HTTP/1.1\r\n\r\n"), ACCEPTED },
		{ "body of NULs after the head", H("GET / HTTP/1.1\r\nHost: x\r\n\r\n\0\0\0"), ACCEPTED },
		{ "NUL before the last CRLF", H("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0\r\n\r\n"),
		  GWD_PB_BAD_HEADER },
		{ "NUL before the last LF", H("GET / HTTP/1.1\nHost: x\nX-A: a\0\n\n"),
		  GWD_PB_BAD_HEADER },
		{ "two NULs before the last LF", H("GET / HTTP/1.1\nHost: x\nX-A: a\0\0\n\n"),
		  GWD_PB_BAD_HEADER },
		{ "a NUL as the last value", H("GET / HTTP/1.1\r\nHost: x\r\nX-A: \0\r\n\r\n"),
		  GWD_PB_BAD_HEADER },
		{ "NUL before the only field's CRLF", H("GET / HTTP/1.0\r\nX-A: a\0\r\n\r\n"),
		  GWD_PB_BAD_HEADER },
		{ "NUL after the version", H("GET / HTTP/1.1\0\r\nHost: x\r\n\r\n"),
		  GWD_PB_BAD_HEADER },
		{ "NUL before a middle CRLF", H("GET / HTTP/1.1\r\nX-A: a\0\r\nHost: x\r\n\r\n"),
		  GWD_PB_BAD_HEADER },
		{ "mixed line endings", H("GET / HTTP/1.1\r\nHost: x\nX-A: a\r\n\r\n"),
		  GWD_PB_BAD_HEADER },
		{ "CRLF then a bare LF empty line", H("GET / HTTP/1.1\r\nHost: x\r\n\n"),
		  GWD_PB_BAD_HEADER },
	};

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		struct parsed p;
		struct gwd_edge_layout lay;
		struct gwd_edge_facts facts;
		int rc;

		CU_ASSERT_EQUAL_FATAL(mhd_parse_request(c[i].req, c[i].len, &p, &lay), 0);
		rc = verdict(&p, &lay, &facts);
		if (rc != c[i].expect)
			fprintf(stderr, "\n  case '%s': got %d, expected %d\n", c[i].name, rc,
				c[i].expect);
		CU_ASSERT_EQUAL(rc, c[i].expect);
	}
}

static void test_host_values(void)
{
	static const char *good[] = { "", "example.com", "example.com:8080", "127.0.0.1",
				      "[::1]", "[::1]:443", "a-b_c~d.e", "example.com." };
	static const char *bad[] = { "user@example.com", "a b", "example.com/x", "h?q", "h#f",
				     "[::1", "[]", "h:80x", "h:80:90", "a\\b", "[::1]x" };

	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		CU_ASSERT_TRUE(gwd_edge_host_ok(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CU_ASSERT_FALSE(gwd_edge_host_ok(bad[i], strlen(bad[i])));
		if (gwd_edge_host_ok(bad[i], strlen(bad[i])))
			fprintf(stderr, "\n  host '%s' accepted\n", bad[i]);
	}
}

static void test_header_facts(void)
{
	struct parsed p;
	struct gwd_edge_facts facts;
	const char *h = "Host: example.com:8080\r\nContent-Length: 1234\r\n\r\n";

	CU_ASSERT_EQUAL_FATAL(mhd_parse(h, strlen(h), &p), 0);
	CU_ASSERT_EQUAL(verdict(&p, &nolay, &facts), ACCEPTED);
	CU_ASSERT_EQUAL(facts.content_length, 1234);
	CU_ASSERT_EQUAL(facts.chunked, 0);
	CU_ASSERT_EQUAL(facts.host_len, 16);
	CU_ASSERT_EQUAL(memcmp(facts.host, "example.com:8080", 16), 0);
	CU_ASSERT_EQUAL(facts.head_bytes, strlen(h) - 2); /* the empty line is not counted */
	h = "Accept: x\r\n\r\n";
	CU_ASSERT_EQUAL_FATAL(mhd_parse(h, strlen(h), &p), 0);
	CU_ASSERT_EQUAL(verdict(&p, &nolay, &facts), ACCEPTED);
	CU_ASSERT_PTR_NULL(facts.host);
	CU_ASSERT_EQUAL(facts.content_length, UINT64_MAX);
}

static const struct {
	const char *target;
	int expect;             /* 0, or -1: refused (bad-target) */
	const char *path, *query, *auth;
} tcases[] = {
	{ "/", 0, "/", NULL, NULL },
	{ "/a/b?x=1&y", 0, "/a/b", "x=1&y", NULL },
	{ "/a?", 0, "/a", "", NULL },
	{ "http://h.example/a?q", 0, "/a", "q", "h.example" },
	{ "HTTPS://h.example:8443/", 0, "/", NULL, "h.example:8443" },
	{ "*", -1, NULL, NULL, NULL },
	{ "a/b", -1, NULL, NULL, NULL },
	{ "", -1, NULL, NULL, NULL },
	{ "h.example:443", -1, NULL, NULL, NULL },
	{ "http://", -1, NULL, NULL, NULL },
	{ "http://h.example", -1, NULL, NULL, NULL },
	{ "/a b", -1, NULL, NULL, NULL },
	{ "/a\tb", -1, NULL, NULL, NULL },
	{ "/a?b\x7f", -1, NULL, NULL, NULL },
	{ "/a?b\r", -1, NULL, NULL, NULL },
	{ "/admin#/../api", -1, NULL, NULL, NULL },
	{ "/a?b#c", -1, NULL, NULL, NULL },
	{ "http://u:p@h.example/a", -1, NULL, NULL, NULL },
	{ "http://h example/a", -1, NULL, NULL, NULL },
	{ "http://[::1]:8080/a", 0, "/a", NULL, "[::1]:8080" },
};

static void test_split_target(void)
{
	for (size_t i = 0; i < sizeof tcases / sizeof *tcases; i++) {
		const char *path = NULL, *query = NULL, *auth = NULL;
		size_t plen = 0, qlen = 0, alen = 0;
		const char *t = tcases[i].target;
		int rc = gwd_edge_split_target(t, strlen(t), &path, &plen, &query, &qlen, &auth, &alen);

		CU_ASSERT_EQUAL(rc, tcases[i].expect);
		if (rc != tcases[i].expect)
			fprintf(stderr, "\n  target '%s': got %d\n", t, rc);
		if (rc || tcases[i].expect)
			continue;
		CU_ASSERT(plen == strlen(tcases[i].path) && memcmp(path, tcases[i].path, plen) == 0);
		if (tcases[i].query) {
			CU_ASSERT(query && qlen == strlen(tcases[i].query) &&
				  memcmp(query, tcases[i].query, qlen) == 0);
		} else {
			CU_ASSERT_PTR_NULL(query);
		}
		if (tcases[i].auth) {
			CU_ASSERT(auth && alen == strlen(tcases[i].auth) &&
				  memcmp(auth, tcases[i].auth, alen) == 0);
		} else {
			CU_ASSERT_PTR_NULL(auth);
		}
	}
}

/* The normaliser's refusals map to the problems docs/gwd.md lists, through
 * the real lib/path.c. */
static void test_path_problems(void)
{
	static const struct {
		const char *raw;
		enum gwd_problem p;
	} c[] = {
		{ "/admin%2Fx", GWD_PB_ENCODED_SLASH }, { "/a%2fb", GWD_PB_ENCODED_SLASH },
		{ "/a\\b", GWD_PB_BACKSLASH },          { "/a%5Cb", GWD_PB_BACKSLASH },
		{ "/admin%00/x", GWD_PB_NUL_IN_PATH },  { "/a%zz", GWD_PB_BAD_ESCAPE },
		{ "/a%4", GWD_PB_BAD_ESCAPE },          { "/../x", GWD_PB_ABOVE_ROOT },
		{ "/a/%2e%2E/..", GWD_PB_ABOVE_ROOT },  { "/a%01", GWD_PB_CTL_IN_PATH },
	};
	char out[64];
	size_t n;

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		int st = gw_path_normalize(c[i].raw, strlen(c[i].raw), out, sizeof out, &n);

		CU_ASSERT(st < 0);
		CU_ASSERT_EQUAL(gwd_edge_path_problem(st), c[i].p);
		CU_ASSERT_EQUAL(gwd_problem_info(gwd_edge_path_problem(st))->status, 400);
	}
	CU_ASSERT_EQUAL(gw_path_normalize("/a/./b/../c/", 12, out, sizeof out, &n), GW_PATH_OK);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_STRING_EQUAL(out, "/a/c");
}

int gw_suite_gwd_edge(void)
{
	CU_pSuite s = CU_add_suite("gwd/edge", NULL, NULL);

	if (!s || !CU_add_test(s, "header checks (table)", test_headers_table) ||
	    !CU_add_test(s, "header facts", test_header_facts) ||
	    !CU_add_test(s, "exact head layout (NUL before a line end)", test_layout_exact) ||
	    !CU_add_test(s, "host values", test_host_values) ||
	    !CU_add_test(s, "request target forms (table)", test_split_target) ||
	    !CU_add_test(s, "path refusals map to problems", test_path_problems))
		return -1;
	return 0;
}
