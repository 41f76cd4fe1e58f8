/* Unit tests of lib/match.c, the matcher, and of the agreement between the
 * matcher and the compile-time analysis of lib/trie.c.
 *
 * The matcher's walk reads the trie through a table of accessors (struct
 * match_src); here it runs on the arrays gw_trie_build() produces, the very
 * ones the blob writer serialises.  gw_match()
 * itself is run on blobs written from the same tries by gw_blob_write_mem(),
 * and must say what the walk says; tests/integration/match_vectors.sh runs it
 * from YAML to `gwc match`.
 *
 * Three kinds of test:
 *   - a table of requests on a hand-written route set, one per rule of
 *     docs/routes.md "Matching";
 *   - a reference matcher written straight from docs/routes.md (no trie:
 *     every route against the path, ordered by priority), run against the
 *     walk and against the analysis on many random route sets: same route,
 *     same parameters, same 405 Allow list for every request; and exactly the
 *     (route, method) pairs the reference never selects are the ones
 *     gw_trie_build() reports as unreachable;
 *   - hostile tries (a DAG that would take 2^n steps, a cycle, deeper than
 *     64): the walk stops, within its bounds.
 */
#include "lib/match.c"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diag.h"
#include "lib/trie.h"

int gw_suite_lib_match(void);

/* ---- the in-memory source ----------------------------------------------- */

struct mt_mem {
	const struct gw_conf *c;
	const struct gw_trie *t;
};

static int mt_host(const void *ctx, uint32_t i, struct gw_str *name, uint32_t *root)
{
	const struct mt_mem *mm = ctx;

	if (i >= mm->t->nroots || i >= mm->c->hosts.n)
		return -1;
	*name = mm->c->hosts.v[i];
	*root = mm->t->roots[i];
	return 0;
}

static int mt_methods(const void *ctx, uint32_t i, unsigned *out)
{
	const struct mt_mem *mm = ctx;

	if (i >= mm->t->nroutes)
		return -1;
	*out = mm->c->routes.v[mm->t->order[i]].methods;
	return 0;
}

/* The union of the methods of routes <first>..+<count> (those in range). */
static uint8_t mt_group(const struct mt_mem *mm, uint32_t first, uint32_t count)
{
	unsigned m = 0, x;

	for (uint32_t k = first; k < first + count; k++)
		if (mt_methods(mm, k, &x) == 0)
			m |= x;
	return (uint8_t)m;
}

/* Node <i> of the trie, with the group masks the blob writer computes. */
static int mt_node(const void *ctx, uint32_t i, struct match_node *out)
{
	const struct mt_mem *mm = ctx;
	const struct gw_trie_node *n;

	if (i >= mm->t->nnodes)
		return -1;
	n = &mm->t->nodes[i];
	out->lit_first = n->lit_first;
	out->lit_count = n->lit_count;
	out->param_child = n->param_child;
	out->route_first = n->route_first;
	out->term_count = n->term_count;
	out->wild_count = n->wild_count;
	out->term_methods = mt_group(mm, n->route_first, n->term_count);
	out->wild_methods = mt_group(mm, n->route_first + n->term_count, n->wild_count);
	return 0;
}

/* Edge <i> of the trie, with its key computed from the label. */
static int mt_edge(const void *ctx, uint32_t i, struct match_edge *out)
{
	const struct mt_mem *mm = ctx;

	if (i >= mm->t->nedges)
		return -1;
	out->label = mm->t->edges[i].label;
	out->child = mm->t->edges[i].child;
	out->key = match_key(out->label.p, out->label.len);
	return 0;
}

/* The key of edge <i> (below nedges). */
static uint64_t mt_key(const void *ctx, uint32_t i)
{
	const struct mt_mem *mm = ctx;

	return match_key(mm->t->edges[i].label.p, mm->t->edges[i].label.len);
}

static const struct match_acc mt_acc = {
	.host = mt_host,
	.node = mt_node,
	.edge = mt_edge,
	.key = mt_key,
	.methods = mt_methods,
};

/* A source reading <mm> (no hash slots: every node is binary searched). */
static struct match_src mt_src(const struct mt_mem *mm)
{
	struct match_src s = {
		.acc = &mt_acc,
		.ctx = mm,
		.nhosts = mm->t->nroots,
		.nnodes = mm->t->nnodes,
		.nedges = mm->t->nedges,
	};
	return s;
}

/* match_run() on a copy of <path> (<len> bytes) in a buffer of its own: the
 * walk reads the path a word at a time where its length allows, which the
 * compiler cannot tell from a string literal's size. */
static int mt_run(const struct match_src *s, const char *host, size_t hlen, unsigned method,
		  const char *path, size_t len, struct gw_match *m)
{
	static char buf[1024];

	CU_ASSERT_FATAL(len < sizeof buf);
	memcpy(buf, path, len);
	return match_run(s, host, hlen, method, buf, len, m);
}

/* ---- conf helpers (as in tests/lib/trie.c) ------------------------------- */

static void mt_init(struct gw_conf *c)
{
	struct gw_str *f;

	CU_ASSERT_FATAL(gw_conf_init(c) == 0);
	f = GW_VEC_PUSH(c->files);
	CU_ASSERT_FATAL(f != NULL);
	f->p = "routes.yaml";
	f->len = 11;
	c->files.n++;
}

static uint32_t mt_hostadd(struct gw_conf *c, const char *h)
{
	struct gw_str *s = GW_VEC_PUSH(c->hosts);

	CU_ASSERT_FATAL(s != NULL);
	s->p = h;
	s->len = (uint32_t)strlen(h);
	return c->hosts.n++;
}

/* Add a route named <name> (NULL: unnamed) for <methods> on <pattern> (kept
 * by reference), on host index <host>, at line <line>. */
static uint32_t mt_route(struct gw_conf *c, const char *name, unsigned methods, const char *pattern,
			 uint32_t host, uint32_t line)
{
	struct gw_route *r = GW_VEC_PUSH(c->routes);

	CU_ASSERT_FATAL(r != NULL);
	r->name.p = name ? name : "";
	r->name.len = name ? (uint32_t)strlen(name) : 0;
	r->pattern.p = pattern;
	r->pattern.len = (uint32_t)strlen(pattern);
	r->host = host;
	r->methods = (uint16_t)methods;
	r->handler = GW_H_ECHO; /* needs no handler record in the blob */
	for (const char *p = pattern; *p; p++)
		r->nparams = (uint8_t)(r->nparams + (*p == '{'));
	r->place.line = line;
	r->place.col = 5;
	return c->routes.n++;
}

/* The <k>-th {param} name of <pattern> into <out> (<cap> bytes). */
static void mt_param_name(const struct gw_str *pattern, unsigned k, char *out, size_t cap)
{
	unsigned seen = 0;

	for (uint32_t i = 0; i < pattern->len; i++)
		if (pattern->p[i] == '{' && seen++ == k) {
			uint32_t j = i + 1;

			while (j < pattern->len && pattern->p[j] != '}')
				j++;
			snprintf(out, cap, "%.*s", (int)(j - i - 1), pattern->p + i + 1);
			return;
		}
	snprintf(out, cap, "?");
}

/* Describe a match result the way tests/vectors/match.txt does:
 * "200 NAME k=v... *=rest", "404", "405 allow=GET,HEAD". */
static void mt_describe(const struct gw_conf *c, const struct gw_trie *t, int res,
			const struct gw_match *m, const char *path, char *out, size_t cap)
{
	size_t o = 0;

	if (res == GW_MATCH_NOT_FOUND) {
		snprintf(out, cap, "404");
		return;
	}
	if (res == GW_MATCH_NO_METHOD) {
		const char *sep = "";

		o += (size_t)snprintf(out, cap, "405 allow=");
		for (unsigned bit = 1; bit <= GW_M_ALL; bit <<= 1)
			if (m->allow & bit) {
				o += (size_t)snprintf(out + o, cap - o, "%s%s", sep, gw_method_name(bit));
				sep = ",";
			}
		return;
	}
	const struct gw_route *r = &c->routes.v[t->order[m->route]];

	o += (size_t)snprintf(out, cap, "200 %.*s", (int)r->name.len, r->name.p);
	for (unsigned k = 0; k < m->nparams && o < cap; k++) {
		char name[64];

		mt_param_name(&r->pattern, k, name, sizeof name);
		o += (size_t)snprintf(out + o, cap - o, " %s=%.*s", name, (int)m->params[k].len,
				      path + m->params[k].off);
	}
	if (m->rest_len && o < cap)
		snprintf(out + o, cap - o, " *=%.*s", (int)m->rest_len, path + m->rest_off);
}

/* Serialise <c> with its trie <t> and open the bytes as a blob, as gwd
 * would.  Returns the blob (gw_blob_close it, then free <*mem>), or NULL
 * after failing the test. */
static struct gw_blob *mt_blob(const struct gw_conf *c, const struct gw_trie *t, uint8_t **mem)
{
	struct gw_blob *b = NULL;
	size_t len = 0;
	char why[256] = "";
	int rc;

	*mem = NULL;
	rc = gw_blob_write_mem(c, t, mem, &len);
	CU_ASSERT_EQUAL(rc, GW_OK);
	if (rc != GW_OK)
		return NULL;
	rc = gw_blob_open_mem(*mem, len, &b, why, sizeof why);
	if (rc != GW_OK)
		fprintf(stderr, "\nblob refused: %s", why);
	CU_ASSERT_EQUAL(rc, GW_OK);
	return rc == GW_OK ? b : NULL;
}

/* Whether two match results say the same (status, route, params, rest,
 * Allow). */
static int mt_same(int r1, const struct gw_match *a, int r2, const struct gw_match *b)
{
	if (r1 != r2)
		return 0;
	if (r1 == GW_MATCH_NO_METHOD)
		return a->allow == b->allow;
	if (r1 == GW_MATCH_NOT_FOUND)
		return 1;
	if (a->route != b->route || a->nparams != b->nparams || a->rest_off != b->rest_off ||
	    a->rest_len != b->rest_len)
		return 0;
	for (unsigned k = 0; k < a->nparams; k++)
		if (a->params[k].off != b->params[k].off || a->params[k].len != b->params[k].len)
			return 0;
	return 1;
}

/* ---- the rules, one request each ----------------------------------------- */

struct mt_case {
	const char *method, *host, *path, *want;
};

/* Every rule of docs/routes.md "Matching" on a small route set. */
static void test_match_rules(void)
{
	static const struct mt_case cases[] = {
		/* literal beats param beats star */
		{ "GET", "", "/u/me", "200 me" },
		{ "GET", "", "/u/42", "200 user id=42" },
		{ "GET", "", "/u/42/posts/7", "200 post id=42 pid=7" },
		{ "GET", "", "/u/42/posts", "200 u-any *=42/posts" },
		{ "GET", "", "/u", "404" },
		/* backtracking out of a literal branch */
		{ "GET", "", "/a/b/d", "200 abd" },
		{ "GET", "", "/a/b/c", "200 axc x=b" },
		{ "GET", "", "/a/z/c", "200 axc x=z" },
		{ "GET", "", "/a/b/e", "404" },
		/* method-aware: the first node with a route for the method */
		{ "PUT", "", "/u/me", "200 user id=me" },
		{ "DELETE", "", "/u/me", "405 allow=GET,HEAD,PUT" },
		{ "GET", "", "/s/x", "200 static *=x" },
		{ "POST", "", "/s/x", "200 s-post x=x" },
		{ "POST", "", "/s/x/y", "405 allow=GET,HEAD" },
		{ "GET", "", "/s/x/y/z", "200 static *=x/y/z" },
		{ "GET", "", "/s", "404" },
		/* HEAD: named route first, else GET */
		{ "HEAD", "", "/h", "200 h-head" },
		{ "GET", "", "/h", "200 h-get" },
		{ "HEAD", "", "/g", "200 g" },
		{ "POST", "", "/g", "405 allow=GET,HEAD" },
		{ "HEAD", "", "/u/me", "200 me" },
		{ "OPTIONS", "", "/h", "405 allow=GET,HEAD" },
		/* root */
		{ "GET", "", "/", "200 root" },
		{ "POST", "", "/", "405 allow=GET,HEAD" },
		/* star needs one segment; a deeper star wins over a shallower one */
		{ "GET", "", "/w/a", "200 w *=a" },
		{ "GET", "", "/w/a/b", "200 wx x=a *=b" },
		{ "GET", "", "/w/a/b/c", "200 wx x=a *=b/c" },
		/* hosts: own tree first, then any-host; case and port ignored */
		{ "GET", "a.example", "/u/me", "200 a-me" },
		{ "GET", "A.Example:8080", "/u/me", "200 a-me" },
		{ "GET", "a.example:", "/u/me", "200 a-me" },
		{ "GET", "b.example", "/u/me", "200 me" },
		{ "GET", "a.example.", "/u/me", "200 a-me" }, /* the DNS root label: same host */
		{ "PUT", "a.example", "/u/me", "200 user id=me" },
		{ "GET", "a.example", "/only-a", "405 allow=POST" },
		{ "POST", "a.example", "/only-a", "200 a-only" },
		{ "POST", "", "/only-a", "404" },
		{ "DELETE", "a.example", "/u/me", "405 allow=GET,HEAD,PUT" },
		{ "GET", "[::1]:8080", "/v6", "200 v6" },
		{ "GET", "[::1]", "/v6", "200 v6" },
		{ "GET", "[::1", "/v6", "404" },
		{ "GET", "::1", "/v6", "404" },
		/* case-sensitive paths */
		{ "GET", "", "/U/me", "404" },
		{ "GET", "", "/caf\xC3\xA9", "200 cafe" },
		/* one segment too many for "post": back to the star of /u */
		{ "GET", "", "/u/1/posts/2/3", "200 u-any *=1/posts/2/3" },
	};
	struct gw_conf c;
	struct gw_trie t;
	struct gw_diag d = { 0 };
	uint32_t ha, h6;

	mt_init(&c);
	h6 = mt_hostadd(&c, "[::1]");
	ha = mt_hostadd(&c, "a.example");
	mt_route(&c, "me", GW_M_GET, "/u/me", 0, 1);
	mt_route(&c, "user", GW_M_GET | GW_M_PUT, "/u/{id}", 0, 2);
	mt_route(&c, "post", GW_M_GET, "/u/{id}/posts/{pid}", 0, 3);
	mt_route(&c, "u-any", GW_M_GET, "/u/*", 0, 4);
	mt_route(&c, "abd", GW_M_GET, "/a/b/d", 0, 5);
	mt_route(&c, "axc", GW_M_GET, "/a/{x}/c", 0, 6);
	mt_route(&c, "static", GW_M_GET, "/s/*", 0, 7);
	mt_route(&c, "s-post", GW_M_POST, "/s/{x}", 0, 8);
	mt_route(&c, "h-head", GW_M_HEAD, "/h", 0, 9);
	mt_route(&c, "h-get", GW_M_GET, "/h", 0, 10);
	mt_route(&c, "g", GW_M_GET, "/g", 0, 11);
	mt_route(&c, "root", GW_M_GET, "/", 0, 12);
	mt_route(&c, "wx", GW_M_GET, "/w/{x}/*", 0, 13);
	mt_route(&c, "w", GW_M_GET, "/w/*", 0, 14);
	mt_route(&c, "a-me", GW_M_GET, "/u/me", ha, 15);
	mt_route(&c, "a-only", GW_M_POST, "/only-a", ha, 16);
	mt_route(&c, "v6", GW_M_GET, "/v6", h6, 17);
	mt_route(&c, "cafe", GW_M_GET, "/caf\xC3\xA9", 0, 18);
	CU_ASSERT_EQUAL_FATAL(gw_trie_build(&c, &t, &d), 0);
	{
		struct mt_mem mm = { &c, &t };
		struct match_src s = mt_src(&mm);
		uint8_t *mem;
		struct gw_blob *b = mt_blob(&c, &t, &mem);

		for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
			const struct mt_case *x = &cases[k];
			unsigned method = gw_method_bit(x->method, strlen(x->method));
			struct gw_match m;
			char got[256];
			int res = match_run(&s, x->host, strlen(x->host), method, x->path,
					    strlen(x->path), &m);

			mt_describe(&c, &t, res, &m, x->path, got, sizeof got);
			if (strcmp(got, x->want) != 0) {
				fprintf(stderr, "\n%s %s %s: got \"%s\", want \"%s\"", x->method,
					x->host, x->path, got, x->want);
				CU_FAIL("match differs");
			}
			/* The same through the blob: gw_match() itself. */
			if (b) {
				res = gw_match(b, x->host, strlen(x->host), method, x->path,
					       strlen(x->path), &m);
				mt_describe(&c, &t, res, &m, x->path, got, sizeof got);
				if (strcmp(got, x->want) != 0) {
					fprintf(stderr, "\nblob: %s %s %s: got \"%s\", want \"%s\"",
						x->method, x->host, x->path, got, x->want);
					CU_FAIL("gw_match differs");
				}
			}
		}
		gw_blob_close(b);
		free(mem);
	}
	gw_trie_free(&t);
	gw_diag_free(&d);
	gw_conf_free(&c);
}

/* A conf host written without brackets answers "[v6]:port" too. */
static void test_match_v6_bare(void)
{
	struct gw_conf c;
	struct gw_trie t;
	struct gw_diag d = { 0 };
	struct gw_match m;

	mt_init(&c);
	mt_hostadd(&c, "::1");
	mt_route(&c, "v6", GW_M_GET, "/", 1, 1);
	CU_ASSERT_EQUAL_FATAL(gw_trie_build(&c, &t, &d), 0);
	{
		struct mt_mem mm = { &c, &t };
		struct match_src s = mt_src(&mm);

		CU_ASSERT_EQUAL(mt_run(&s, "[::1]:80", 8, GW_M_GET, "/", 1, &m), GW_MATCH_FOUND);
		CU_ASSERT_EQUAL(mt_run(&s, "[::2]:80", 8, GW_M_GET, "/", 1, &m), GW_MATCH_NOT_FOUND);
		CU_ASSERT_EQUAL(mt_run(&s, "", 0, GW_M_GET, "/", 1, &m), GW_MATCH_NOT_FOUND);
	}
	gw_trie_free(&t);
	gw_conf_free(&c);
}

/* "api.example.com." is the same DNS name as "api.example.com" (the root
 * label made explicit), and backends that route by Host treat it so: it
 * must find the host's tree, not fall through to the any-host routes (which
 * may carry other policies). */
static void test_match_host_trailing_dot(void)
{
	struct gw_conf c;
	struct gw_trie t;
	struct gw_diag d = { 0 };
	struct gw_match m;

	mt_init(&c);
	mt_hostadd(&c, "api.example.com");
	mt_route(&c, "host", GW_M_GET, "/admin", 1, 1);
	mt_route(&c, "any", GW_M_GET, "/*", 0, 2);
	CU_ASSERT_EQUAL_FATAL(gw_trie_build(&c, &t, &d), 0);
	{
		struct mt_mem mm = { &c, &t };
		struct match_src s = mt_src(&mm);
		static const char *const same[] = {
			"api.example.com", "API.example.com.", "api.example.com.", "api.example.com.:8443",
		};

		for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
			CU_ASSERT_EQUAL(mt_run(&s, same[i], strlen(same[i]), GW_M_GET, "/admin", 6, &m),
					GW_MATCH_FOUND);
			CU_ASSERT_EQUAL(t.order[m.route], 0);
		}
		/* one root label only: ".." is no host name */
		CU_ASSERT_EQUAL(mt_run(&s, "api.example.com..", 17, GW_M_GET, "/admin", 6, &m),
				GW_MATCH_FOUND);
		CU_ASSERT_EQUAL(t.order[m.route], 1);
		CU_ASSERT_EQUAL(mt_run(&s, ".", 1, GW_M_GET, "/admin", 6, &m), GW_MATCH_FOUND);
		CU_ASSERT_EQUAL(t.order[m.route], 1);
	}
	gw_trie_free(&t);
	gw_conf_free(&c);
}

/* Depth: a 64-segment route matches, a 65-segment path does not reach past
 * it, and a star takes any number of segments. */
static void test_match_depth(void)
{
	static char p64[64 * 2 + 1], req[300 * 2 + 1];
	struct gw_conf c;
	struct gw_trie t;
	struct gw_diag d = { 0 };
	struct gw_match m;

	for (int i = 0; i < 64; i++)
		memcpy(p64 + 2 * i, "/a", 2);
	for (int i = 0; i < 300; i++)
		memcpy(req + 2 * i, "/a", 2);
	mt_init(&c);
	mt_route(&c, "deep", GW_M_GET, p64, 0, 1);
	mt_route(&c, "star", GW_M_GET, "/b/*", 0, 2);
	CU_ASSERT_EQUAL_FATAL(gw_trie_build(&c, &t, &d), 0);
	{
		struct mt_mem mm = { &c, &t };
		struct match_src s = mt_src(&mm);

		CU_ASSERT_EQUAL(match_run(&s, "", 0, GW_M_GET, req, 128, &m), GW_MATCH_FOUND);
		CU_ASSERT_EQUAL(match_run(&s, "", 0, GW_M_GET, req, 130, &m), GW_MATCH_NOT_FOUND);
		CU_ASSERT_EQUAL(match_run(&s, "", 0, GW_M_GET, req, 600, &m), GW_MATCH_NOT_FOUND);
		req[1] = 'b';
		CU_ASSERT_EQUAL(match_run(&s, "", 0, GW_M_GET, req, 600, &m), GW_MATCH_FOUND);
		CU_ASSERT_EQUAL(m.rest_off, 3);
		CU_ASSERT_EQUAL(m.rest_len, 597);
		req[1] = 'a';
	}
	gw_trie_free(&t);
	gw_conf_free(&c);
}

/* ---- wide nodes and long labels -------------------------------------------- */

/* Labels for the wide node: every length around the 8-byte key, prefixes of
 * one another, labels equal in their first 8 bytes, and bytes above 0x7F. */
static const char *const mt_wide_labels[] = {
	"a", "ab", "abc", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgh2", "abcdefghij",
	"notification", "notifications", "notificationsx", "notificationz", "zz",
	"\xC3\xA9t\xC3\xA9", "\xFF", "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", "search", "x1", "x2",
	"x10", "users", "users2", "users-x", "u", "customers", "customer", "v1", "v10", "v9",
	"0", "00", "0000000000000000", "m", "mm", "mmmmmmmm", "mmmmmmmmm",
};

/* A node with 36 literal children (hashed in the blob: GW_BLOB_HASH_MIN is
 * 16), a {param} sibling and a star: gw_match() on the blob, which looks the
 * children up in EHASH, says what the walk on the trie says, which binary
 * searches them, for each label, for each label cut short or made longer by
 * a byte, and under a second wide node below the first. */
static void test_match_wide(void)
{
	enum { NL = sizeof mt_wide_labels / sizeof *mt_wide_labels };
	static char pats[2 * NL + 2][64];
	struct gw_conf c;
	struct gw_trie t;
	struct gw_diag d = { 0 };
	uint32_t line = 1;
	int bad = 0;

	mt_init(&c);
	for (int i = 0; i < NL; i++) {
		snprintf(pats[i], sizeof pats[i], "/w/%s", mt_wide_labels[i]);
		mt_route(&c, mt_wide_labels[i], GW_M_GET, pats[i], 0, line++);
		snprintf(pats[NL + i], sizeof pats[NL + i], "/w/abcdefgh/%s", mt_wide_labels[i]);
		mt_route(&c, NULL, GW_M_POST, pats[NL + i], 0, line++);
	}
	mt_route(&c, "param", GW_M_GET, "/w/{p}", 0, line++);
	mt_route(&c, "star", GW_M_GET | GW_M_POST, "/w/*", 0, line++);
	CU_ASSERT_EQUAL_FATAL(gw_trie_build(&c, &t, &d), 0);
	{
		struct mt_mem mm = { &c, &t };
		struct match_src src = mt_src(&mm);
		uint8_t *mem;
		struct gw_blob *b = mt_blob(&c, &t, &mem);

		CU_ASSERT_FATAL(b != NULL);
		CU_ASSERT(gw_blob_count(b, GW_BLOB_EHASH) >= 2 * NL);
		for (int i = 0; i < NL && !bad; i++)
			for (int form = 0; form < 6 && !bad; form++) {
				const char *l = mt_wide_labels[i];
				size_t ll = strlen(l);
				char path[96];
				struct gw_match m1, m2;
				int r1, r2;
				unsigned method = form >= 3 ? GW_M_POST : GW_M_GET;
				const char *pre = form >= 3 ? "/w/abcdefgh/" : "/w/";

				switch (form % 3) {
				case 0:
					snprintf(path, sizeof path, "%s%s", pre, l);
					break;
				case 1:
					snprintf(path, sizeof path, "%s%.*s", pre, (int)(ll - 1), l);
					if (ll == 1)
						snprintf(path, sizeof path, "%s%s%s", pre, l, l);
					break;
				default:
					snprintf(path, sizeof path, "%s%s\x01", pre, l);
				}
				/* Each path in a buffer of its exact size: ASan sees a
				 * word read past its end. */
				{
					size_t pl = strlen(path);
					char *exact = malloc(pl);

					CU_ASSERT_FATAL(exact != NULL);
					memcpy(exact, path, pl);
					r1 = match_run(&src, "", 0, method, exact, pl, &m1);
					r2 = gw_match(b, "", 0, method, exact, pl, &m2);
					free(exact);
				}
				if (!mt_same(r1, &m1, r2, &m2)) {
					fprintf(stderr, "\nwide: %s: walk %d, blob %d", path, r1, r2);
					bad = 1;
				}
				if (form == 0 && (r1 != GW_MATCH_FOUND ||
						  strcmp(c.routes.v[t.order[m1.route]].pattern.p, path) != 0)) {
					fprintf(stderr, "\nwide: %s: not its own route", path);
					bad = 1;
				}
			}
		gw_blob_close(b);
		free(mem);
	}
	CU_ASSERT_FALSE(bad);
	gw_trie_free(&t);
	gw_diag_free(&d);
	gw_conf_free(&c);
}

/* match_segment() against a byte-by-byte reading, for segments of every
 * length from 0 to 20 at every position in paths of up to 40 bytes, each
 * path in a buffer of its exact size (ASan sees any read past it). */
static void test_match_segment(void)
{
	unsigned rng = 7, bad = 0;

	for (int iter = 0; iter < 20000 && bad < 5; iter++) {
		char tmp[64];
		uint32_t len = 0, pos;

		tmp[len++] = '/';
		while (len < 40) {
			uint32_t sl;

			rng = rng * 1103515245u + 12345u;
			sl = (rng >> 16) % 21;
			for (uint32_t k = 0; k < sl && len < 40; k++) {
				rng = rng * 1103515245u + 12345u;
				tmp[len++] = (char)(0x21 + (rng >> 16) % 200);
				if (tmp[len - 1] == '/')
					tmp[len - 1] = 'a';
			}
			if (len < 40 && ((rng >> 8) & 3))
				tmp[len++] = '/';
			else
				break;
		}
		char *path = malloc(len);

		CU_ASSERT_FATAL(path != NULL);
		memcpy(path, tmp, len);
		for (pos = 0; pos < len; pos++) {
			uint32_t end, want;
			uint64_t key = 1;

			if (path[pos] != '/')
				continue;
			for (want = pos + 1; want < len && path[want] != '/'; want++)
				;
			end = match_segment(path, pos, len, &key);
			if (end != want || key != match_key(path + pos + 1, want - pos - 1)) {
				fprintf(stderr, "\nsegment at %u of %.*s: end %u (want %u)", pos, (int)len,
					path, end, want);
				bad++;
			}
		}
		free(path);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* ---- hostile tries --------------------------------------------------------- */

static uint32_t mt_count_nodes;

/* Counting wrapper of mt_node: how many nodes a walk decoded. */
static int mt_node_counted(const void *ctx, uint32_t i, struct match_node *out)
{
	mt_count_nodes++;
	return mt_node(ctx, i, out);
}

static const struct match_acc mt_acc_counted = {
	.host = mt_host,
	.node = mt_node_counted,
	.edge = mt_edge,
	.key = mt_key,
	.methods = mt_methods,
};

/* A DAG: node i has a literal edge "a" and a {param} child, both to i+1, for
 * 100 levels; a route at the bottom for POST only.  A naive walk of GET
 * /a/a/... would try 2^100 paths; this one enters at most nnodes nodes, and
 * reads each again at most once, when it backs up to it: 2 * nnodes reads.
 * Then a cycle (a node its own param child), which the loader would refuse
 * but the walk must survive anyway. */
static void test_match_hostile(void)
{
	enum { N = 101 };
	static struct gw_trie_node nodes[N];
	static struct gw_trie_edge edges[N];
	static uint32_t order[1] = { 0 }, roots[1] = { 0 };
	static char path[2 * 100 + 1];
	struct gw_conf c;
	struct gw_trie t = { nodes, N, edges, N - 1, order, 1, roots, 1 };
	struct mt_mem mm = { &c, &t };
	struct match_src s;
	struct gw_match m;

	mt_init(&c);
	mt_route(&c, "bottom", GW_M_POST, "/x", 0, 1);
	for (uint32_t i = 0; i < N; i++) {
		nodes[i].lit_first = i;
		nodes[i].lit_count = i + 1 < N;
		nodes[i].param_child = i + 1 < N ? i + 1 : GW_NONE;
		nodes[i].route_first = 0;
		nodes[i].term_count = i + 1 == N;
		edges[i].label.p = "a";
		edges[i].label.len = 1;
		edges[i].child = i + 1;
	}
	for (int i = 0; i < 100; i++)
		memcpy(path + 2 * i, "/a", 2);
	s = mt_src(&mm);
	s.acc = &mt_acc_counted;
	mt_count_nodes = 0;
	CU_ASSERT_EQUAL(match_run(&s, "", 0, GW_M_GET, path, 200, &m), GW_MATCH_NOT_FOUND);
	CU_ASSERT(mt_count_nodes <= 2 * N);
	/* 64 levels down at most: the route at depth 100 is out of reach. */
	mt_count_nodes = 0;
	CU_ASSERT_EQUAL(match_run(&s, "", 0, GW_M_POST, path, 200, &m), GW_MATCH_NOT_FOUND);
	CU_ASSERT(mt_count_nodes <= 2 * N);
	/* A cycle: node 0 is its own param child. */
	nodes[0].param_child = 0;
	nodes[0].lit_count = 0;
	mt_count_nodes = 0;
	CU_ASSERT_EQUAL(match_run(&s, "", 0, GW_M_GET, path, 200, &m), GW_MATCH_NOT_FOUND);
	CU_ASSERT(mt_count_nodes <= 2 * N);
	/* Out-of-range indexes everywhere: treated as absent. */
	nodes[0].param_child = 5000;
	nodes[0].lit_count = 3;
	nodes[0].lit_first = N - 1;
	nodes[0].route_first = 77;
	nodes[0].term_count = 200;
	nodes[0].wild_count = 200;
	CU_ASSERT_EQUAL(match_run(&s, "", 0, GW_M_GET, path, 200, &m), GW_MATCH_NOT_FOUND);
	CU_ASSERT_EQUAL(mt_run(&s, "", 0, GW_M_GET, "/", 1, &m), GW_MATCH_NOT_FOUND);
	roots[0] = 9999;
	CU_ASSERT_EQUAL(mt_run(&s, "", 0, GW_M_GET, "/", 1, &m), GW_MATCH_NOT_FOUND);
	/* Not a normalised path: not found, never a crash. */
	CU_ASSERT_EQUAL(mt_run(&s, "", 0, GW_M_GET, "", 0, &m), GW_MATCH_NOT_FOUND);
	CU_ASSERT_EQUAL(mt_run(&s, "", 0, GW_M_GET, "a", 1, &m), GW_MATCH_NOT_FOUND);
	gw_conf_free(&c);
}

/* ---- the reference matcher -------------------------------------------------- */

#define REF_MAXSEG 8

struct ref_cand {
	uint32_t ri;
	uint8_t key[REF_MAXSEG + 2]; /* tier, then 0 literal / 1 param per segment, 2 star */
	uint8_t klen;
};

/* Cut <pattern> into at most REF_MAXSEG segments: <segs>/<lens>, returns the
 * count; <*wild> says whether the last one was a star (not counted). */
static int ref_split(const struct gw_str *pattern, const char **segs, uint32_t *lens, int *wild)
{
	int n = 0;
	const char *p = pattern->p, *end = p + pattern->len;

	*wild = 0;
	while (p < end && n < REF_MAXSEG) {
		const char *s = p + 1, *e = s;

		while (e < end && *e != '/')
			e++;
		if (e == s)
			break;
		if (e - s == 1 && *s == '*') {
			*wild = 1;
			break;
		}
		segs[n] = s;
		lens[n++] = (uint32_t)(e - s);
		p = e;
	}
	return n;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_cand *x = a, *y = b;
	int n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, (size_t)n);

	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->ri < y->ri ? -1 : x->ri > y->ri;
}

/* The reference: for host index <hi> (0: none), <method>, and the request
 * segments <req>[0..k), which route of <c> serves it.  Implements
 * docs/routes.md "Matching" literally: every route matching the path,
 * ordered by tier (own host, then any host) and segment by segment literal <
 * param < star, the first group (same key) with a route naming the method,
 * or for HEAD a GET one, wins.  Returns 1 with <*route>, else 0 with <*allow>
 * (HEAD added when GET is in it). */
static int ref_match(const struct gw_conf *c, uint32_t hi, unsigned method, const char *const *req,
		     int k, uint32_t *route, uint16_t *allow)
{
	struct ref_cand cand[64];
	int nc = 0;

	*allow = 0;
	for (uint32_t ri = 0; ri < c->routes.n && nc < 64; ri++) {
		const struct gw_route *r = &c->routes.v[ri];
		const char *segs[REF_MAXSEG];
		uint32_t lens[REF_MAXSEG];
		int wild, n = ref_split(&r->pattern, segs, lens, &wild), ok = 1;
		struct ref_cand *x = &cand[nc];

		if (r->host != 0 && r->host != hi)
			continue;
		if (wild ? n >= k : n != k)
			continue;
		x->ri = ri;
		x->key[0] = r->host ? 0 : 1;
		for (int i = 0; i < n && ok; i++) {
			int param = segs[i][0] == '{';

			ok = param || (strlen(req[i]) == lens[i] && memcmp(req[i], segs[i], lens[i]) == 0);
			x->key[1 + i] = (uint8_t)param;
		}
		if (!ok)
			continue;
		x->klen = (uint8_t)(1 + n);
		if (wild)
			x->key[x->klen++] = 2;
		nc++;
	}
	qsort(cand, (size_t)nc, sizeof *cand, ref_cmp);
	for (int i = 0; i < nc;) {
		int j = i;
		uint32_t get = GW_NONE;

		while (j < nc && cand[j].klen == cand[i].klen &&
		       memcmp(cand[j].key, cand[i].key, cand[i].klen) == 0)
			j++;
		for (int q = i; q < j; q++) {
			unsigned mm = c->routes.v[cand[q].ri].methods;

			*allow = (uint16_t)(*allow | mm);
			if (mm & method) {
				*route = cand[q].ri;
				return 1;
			}
			if (method == GW_M_HEAD && (mm & GW_M_GET) && get == GW_NONE)
				get = cand[q].ri;
		}
		if (get != GW_NONE) {
			*route = get;
			return 1;
		}
		i = j;
	}
	if (*allow & GW_M_GET)
		*allow |= GW_M_HEAD;
	return 0;
}

/* ---- random route sets -------------------------------------------------------- */

static uint32_t mt_rng = 12345;

static uint32_t mt_rand(uint32_t n)
{
	mt_rng = mt_rng * 1103515245u + 12345u;
	return (mt_rng >> 16) % n;
}

#define RT_MAX 14
struct rt_set {
	char pat[RT_MAX][48];
	char canon[RT_MAX][48];
	char name[RT_MAX][8];
	unsigned methods[RT_MAX];
	uint32_t host[RT_MAX];
	int n;
};

/* A random set of routes over the literals "a", "b" and {params}, up to
 * three segments, maybe a trailing star, methods among GET/HEAD/POST, on the
 * any-host tree or "h.example"; equivalent patterns never share a method
 * (a conflict is tested elsewhere, and would leave no trie to walk). */
static void rt_generate(struct rt_set *s)
{
	s->n = 0;
	for (int tries = 0; tries < 40 && s->n < RT_MAX; tries++) {
		char *p = s->pat[s->n], *cn = s->canon[s->n];
		int nseg = (int)mt_rand(4), wild = mt_rand(2) == 0;
		unsigned methods = 1 + mt_rand(7), m = 0;
		uint32_t host = mt_rand(4) == 0;

		/* GET, HEAD, POST are bits 0, 1, 2 of the mask */
		methods = (methods & 1 ? GW_M_GET : 0) | (methods & 2 ? GW_M_HEAD : 0) |
			  (methods & 4 ? GW_M_POST : 0);
		p[0] = cn[0] = '\0';
		for (int i = 0; i < nseg; i++) {
			/* params half the time: shadowing needs {param} chains */
			switch (mt_rand(6)) {
			case 0:
			case 1:
				strcat(p, "/a");
				strcat(cn, "/a");
				break;
			case 2:
				strcat(p, "/b");
				strcat(cn, "/b");
				break;
			default:
				sprintf(p + strlen(p), "/{p%d}", i);
				strcat(cn, "/{}");
			}
		}
		if (wild) {
			strcat(p, "/*");
			strcat(cn, "/*");
		}
		if (!p[0]) {
			strcpy(p, "/");
			strcpy(cn, "/");
		}
		sprintf(cn + strlen(cn), "@%u", (unsigned)host);
		for (int j = 0; j < s->n; j++)
			if (strcmp(s->canon[j], cn) == 0)
				m |= s->methods[j];
		methods &= ~m;
		if (!methods)
			continue;
		s->methods[s->n] = methods;
		s->host[s->n] = host;
		sprintf(s->name[s->n], "r%d", s->n);
		s->n++;
	}
}

/* A conf of the routes of <s> whose mask in <mask> is not 0 (<mask> NULL:
 * all); route conf index i is at line i + 1; <map>[i] gets the set index. */
static void rt_conf(const struct rt_set *s, const unsigned *mask, struct gw_conf *c, uint32_t *map)
{
	mt_init(c);
	mt_hostadd(c, "h.example");
	for (int i = 0; i < s->n; i++) {
		unsigned m = mask ? mask[i] : s->methods[i];

		if (!m)
			continue;
		map[c->routes.n] = (uint32_t)i;
		mt_route(c, s->name[i], m, s->pat[i], s->host[i], c->routes.n + 1);
	}
}

#define REQ_MAXLEN 5
static const char *const req_alpha[] = { "a", "b", "c" };

/* Enumerate request number <q> (of all paths over {a,b,c} up to REQ_MAXLEN
 * segments) into <seg>/<path>.  Returns the segment count, or -1 past the
 * end. */
static int rt_request(unsigned q, const char **seg, char *path)
{
	unsigned count = 1;

	for (int k = 0; k <= REQ_MAXLEN; k++) {
		if (q < count) {
			path[0] = '\0';
			for (int i = 0; i < k; i++) {
				seg[i] = req_alpha[q % 3];
				q /= 3;
				strcat(path, "/");
				strcat(path, seg[i]);
			}
			if (k == 0)
				strcpy(path, "/");
			return k;
		}
		q -= count;
		count *= 3;
	}
	return -1;
}

static const unsigned rt_methods[] = { GW_M_GET, GW_M_HEAD, GW_M_POST };

/* What the analysis said about conf <c>: dead[conf index] = the methods
 * reported unreachable.  Any other kind of message fails the test. */
static void rt_dead_from_diag(const struct gw_conf *c, const struct gw_diag *d, unsigned *dead)
{
	memset(dead, 0, c->routes.n * sizeof *dead);
	for (uint32_t i = 0; i < d->n; i++) {
		uint32_t ri = d->v[i].at.line - 1;
		const char *t = d->v[i].text, *p = strstr(t, "can never be reached");

		CU_ASSERT_FATAL(ri < c->routes.n);
		if (!p) {
			fprintf(stderr, "\nunexpected: %s", t);
			CU_FAIL("not an unreachable message");
			continue;
		}
		p += strlen("can never be reached");
		if (strncmp(p, " for ", 5) != 0) {
			dead[ri] = c->routes.v[ri].methods;
			continue;
		}
		/* " for HEAD, POST: ..." */
		p += 5;
		while (*p && *p != ':') {
			size_t n = strcspn(p, ",:");

			dead[ri] |= gw_method_bit(p, n);
			p += n;
			if (*p == ',')
				p += 2;
		}
	}
}

/* For every request: walk == reference (status, route, params, rest, Allow).
 * <map> turns conf indexes of <c> into set indexes; <ref_c>/<ref_map> is the
 * conf the reference runs on (the same, or the original before dead methods
 * were dropped). */
static void rt_compare(const struct gw_conf *c, const struct gw_trie *t, const uint32_t *map,
		       const struct gw_conf *ref_c, const uint32_t *ref_map, int *bad)
{
	struct mt_mem mm = { c, t };
	struct match_src s = mt_src(&mm);
	const char *seg[REQ_MAXLEN];
	char path[64];
	int k;
	uint8_t *mem;
	struct gw_blob *b = mt_blob(c, t, &mem);

	for (unsigned q = 0; (k = rt_request(q, seg, path)) >= 0 && !*bad; q++)
		for (unsigned hi = 0; hi < 2; hi++)
			for (unsigned mi = 0; mi < 3; mi++) {
				const char *host = hi ? "H.example:1" : "";
				struct gw_match m;
				uint32_t want = GW_NONE;
				uint16_t allow;
				int res = match_run(&s, host, strlen(host), rt_methods[mi], path,
						    strlen(path), &m);
				int found = ref_match(ref_c, hi, rt_methods[mi], seg, k, &want, &allow);
				int ok;

				/* gw_match() on the blob says what the walk says */
				if (b) {
					struct gw_match bm;
					int bres = gw_match(b, host, strlen(host), rt_methods[mi], path,
							    strlen(path), &bm);

					if (!mt_same(res, &m, bres, &bm)) {
						fprintf(stderr, "\nblob and walk differ: %s %s",
							gw_method_name(rt_methods[mi]), path);
						*bad = 1;
					}
				}

				if (found)
					ok = res == GW_MATCH_FOUND &&
					     map[t->order[m.route]] == ref_map[want];
				else
					ok = res == (allow ? GW_MATCH_NO_METHOD : GW_MATCH_NOT_FOUND) &&
					     m.allow == allow;
				if (ok && found) {
					/* params: the request segments at {param} positions */
					const struct gw_route *r = &ref_c->routes.v[want];
					const char *segs[REF_MAXSEG];
					uint32_t lens[REF_MAXSEG];
					int wild, n = ref_split(&r->pattern, segs, lens, &wild), np = 0;
					size_t off = 1;

					for (int i = 0; i < n; i++) {
						if (segs[i][0] == '{') {
							ok = ok && m.params[np].off == off &&
							     m.params[np].len == strlen(seg[i]);
							np++;
						}
						off += strlen(seg[i]) + 1;
					}
					ok = ok && m.nparams == np;
					if (wild)
						ok = ok && m.rest_off == off &&
						     m.rest_len == strlen(path) - off;
					else
						ok = ok && m.rest_len == 0;
				}
				if (!ok) {
					fprintf(stderr, "\n%s %s %s: walk %d route %u allow %u, "
							"reference %d route %u allow %u",
						gw_method_name(rt_methods[mi]), host, path, res,
						res == GW_MATCH_FOUND ? map[t->order[m.route]] : 0u,
						m.allow, found, found ? ref_map[want] : 0u, allow);
					*bad = 1;
				}
			}
	gw_blob_close(b);
	free(mem);
}

/* The random cross-check (see the file comment). */
static void test_match_reference(void)
{
	int bad = 0;

	mt_rng = 20240601;
	for (int iter = 0; iter < 400 && !bad; iter++) {
		struct rt_set s;
		struct gw_conf c, c2;
		struct gw_trie t;
		struct gw_diag d = { 0 };
		uint32_t map[RT_MAX], map2[RT_MAX];
		unsigned dead[RT_MAX], reach[RT_MAX] = { 0 }, alive[RT_MAX];
		const char *seg[REQ_MAXLEN];
		char path[64];
		int rc, k;

		rt_generate(&s);
		rt_conf(&s, NULL, &c, map);
		rc = gw_trie_build(&c, &t, &d);
		CU_ASSERT(rc == 0 || rc == 1);
		rt_dead_from_diag(&c, &d, dead);
		/* Reference reachability of each (route, method it names). */
		for (unsigned q = 0; (k = rt_request(q, seg, path)) >= 0; q++)
			for (unsigned hi = 0; hi < 2; hi++)
				for (unsigned mi = 0; mi < 3; mi++) {
					uint32_t r;
					uint16_t allow;

					if (ref_match(&c, hi, rt_methods[mi], seg, k, &r, &allow) &&
					    (c.routes.v[r].methods & rt_methods[mi]))
						reach[r] |= rt_methods[mi];
				}
		for (uint32_t ri = 0; ri < c.routes.n; ri++) {
			unsigned ref_dead = c.routes.v[ri].methods & ~reach[ri];

			if (ref_dead != dead[ri]) {
				fprintf(stderr, "\niteration %d: route %s %s methods %u: analysis says "
						"dead %u, reference %u",
					iter, s.name[map[ri]], s.pat[map[ri]], c.routes.v[ri].methods,
					dead[ri], ref_dead);
				for (uint32_t j = 0; j < c.routes.n; j++)
					fprintf(stderr, "\n   %s %u %s host %u", s.name[map[j]],
						c.routes.v[j].methods, s.pat[map[j]], c.routes.v[j].host);
				bad = 1;
			}
		}
		if (rc == 0) {
			rt_compare(&c, &t, map, &c, map, &bad);
			gw_trie_free(&t);
		} else if (!bad) {
			/* Drop the dead methods: the rest must build, and match as
			 * the full set did. */
			for (int i = 0; i < s.n; i++)
				alive[i] = s.methods[i];
			for (uint32_t ri = 0; ri < c.routes.n; ri++)
				alive[map[ri]] &= ~dead[ri];
			rt_conf(&s, alive, &c2, map2);
			gw_diag_free(&d);
			CU_ASSERT_EQUAL(gw_trie_build(&c2, &t, &d), 0);
			if (t.nodes)
				rt_compare(&c2, &t, map2, &c, map, &bad);
			gw_trie_free(&t);
			gw_conf_free(&c2);
		}
		gw_diag_free(&d);
		gw_conf_free(&c);
	}
	CU_ASSERT_FALSE(bad);
}

/* Register the suite (runner contract: 0 on success). */
int gw_suite_lib_match(void)
{
	CU_pSuite s = CU_add_suite("lib/match", NULL, NULL);

	if (!s || !CU_add_test(s, "matching rules", test_match_rules) ||
	    !CU_add_test(s, "bare IPv6 host", test_match_v6_bare) ||
	    !CU_add_test(s, "host with a trailing dot", test_match_host_trailing_dot) ||
	    !CU_add_test(s, "depth", test_match_depth) ||
	    !CU_add_test(s, "wide nodes through the hash slots", test_match_wide) ||
	    !CU_add_test(s, "segments read a word at a time", test_match_segment) ||
	    !CU_add_test(s, "hostile tries", test_match_hostile) ||
	    !CU_add_test(s, "walk and analysis vs reference", test_match_reference))
		return -1;
	return 0;
}
