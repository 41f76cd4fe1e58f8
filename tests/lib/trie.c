/* Unit tests of lib/trie.c: the shape of the built trie, and the compile-time
 * analysis (conflicts, unreachable routes, limits) with its exact messages.
 *
 * Every built trie goes through trie_check_shape(), which re-derives from the
 * conf alone what trie.h promises (one root per host, children above their
 * parent, sorted edges, each node with one parent, groups tiling order[], and
 * each route found by following its own pattern), so that a wrong trie fails
 * here rather than in the matcher.  That the analysis agrees with what the
 * matcher really does is checked against a reference matcher in
 * tests/lib/match.c.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diag.h"
#include "lib/match.h"
#include "lib/model.h"
#include "lib/trie.h"

int gw_suite_lib_trie(void);

/* ---- conf building helpers ---------------------------------------------- */

/* A conf with one source file, "routes.yaml", and the any-host entry. */
static void tt_init(struct gw_conf *c)
{
	struct gw_str *f;

	CU_ASSERT_FATAL(gw_conf_init(c) == 0);
	f = GW_VEC_PUSH(c->files);
	CU_ASSERT_FATAL(f != NULL);
	f->p = "routes.yaml";
	f->len = 11;
	c->files.n++;
}

/* Add host <h> (callers add them in sorted order, as the parser does);
 * returns its index. */
static uint32_t tt_host(struct gw_conf *c, const char *h)
{
	struct gw_str *s = GW_VEC_PUSH(c->hosts);

	CU_ASSERT_FATAL(s != NULL);
	s->p = h;
	s->len = (uint32_t)strlen(h);
	return c->hosts.n++;
}

/* Add a route for <methods> on <pattern> (a string literal: it must outlive
 * the conf), host index <host>, written at line <line>, column 5; <name> may
 * be NULL.  Returns its conf index. */
static uint32_t tt_route(struct gw_conf *c, const char *name, unsigned methods,
			 const char *pattern, uint32_t host, uint32_t line)
{
	struct gw_route *r = GW_VEC_PUSH(c->routes);

	CU_ASSERT_FATAL(r != NULL);
	r->name.p = name ? name : "";
	r->name.len = name ? (uint32_t)strlen(name) : 0;
	r->pattern.p = pattern;
	r->pattern.len = (uint32_t)strlen(pattern);
	r->host = host;
	r->methods = (uint16_t)methods;
	r->handler = GW_H_RESPOND;
	for (const char *p = pattern; *p; p++)
		r->nparams = (uint8_t)(r->nparams + (*p == '{'));
	r->place.file = 0;
	r->place.line = line;
	r->place.col = 5;
	return c->routes.n++;
}

/* ---- shape check ----------------------------------------------------------- */

/* Follow conf route <ri>'s pattern from its host's root in <t>.  Returns the
 * node where it ends (setting <*wild>), or GW_NONE when the path is missing. */
static uint32_t tt_follow(const struct gw_conf *c, const struct gw_trie *t, uint32_t ri, int *wild)
{
	const struct gw_route *r = &c->routes.v[ri];
	const char *p = r->pattern.p, *end = p + r->pattern.len;
	uint32_t x = t->roots[r->host];

	*wild = 0;
	if (r->pattern.len == 1)
		return x;
	while (p < end) {
		const char *s = p + 1, *e = s;

		while (e < end && *e != '/')
			e++;
		if (e - s == 1 && *s == '*') {
			*wild = 1;
			return x;
		}
		if (*s == '{') {
			x = t->nodes[x].param_child;
		} else {
			uint32_t k, found = GW_NONE;

			for (k = 0; k < t->nodes[x].lit_count; k++) {
				const struct gw_trie_edge *ed = &t->edges[t->nodes[x].lit_first + k];

				if (ed->label.len == (uint32_t)(e - s) && memcmp(ed->label.p, s, ed->label.len) == 0)
					found = ed->child;
			}
			x = found;
		}
		if (x == GW_NONE)
			return GW_NONE;
		p = e;
	}
	return x;
}

/* Compare two edge labels as trie.h orders them. */
static int tt_labelcmp(const struct gw_str *a, const struct gw_str *b)
{
	int c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Check every promise of trie.h about <t> built from <c> (all of whose routes
 * are expected in the trie). */
static void tt_check_shape(const struct gw_conf *c, const struct gw_trie *t)
{
	uint32_t *parents = calloc(t->nnodes ? t->nnodes : 1, sizeof *parents);
	uint32_t *seen = calloc(c->routes.n ? c->routes.n : 1, sizeof *seen);
	uint32_t next_route = 0;

	CU_ASSERT_FATAL(parents && seen);
	CU_ASSERT_EQUAL(t->nroots, c->hosts.n);
	for (uint32_t h = 0; h < t->nroots; h++)
		CU_ASSERT_EQUAL(t->roots[h], h);
	CU_ASSERT_EQUAL(t->nroutes, c->routes.n);
	for (uint32_t i = 0; i < t->nnodes; i++) {
		const struct gw_trie_node *n = &t->nodes[i];

		CU_ASSERT(n->lit_first + n->lit_count <= t->nedges);
		for (uint32_t k = 0; k < n->lit_count && n->lit_first + k < t->nedges; k++) {
			const struct gw_trie_edge *e = &t->edges[n->lit_first + k];

			CU_ASSERT(e->child > i && e->child < t->nnodes);
			CU_ASSERT(e->label.len > 0);
			CU_ASSERT(memchr(e->label.p, '/', e->label.len) == NULL);
			if (k)
				CU_ASSERT(tt_labelcmp(&t->edges[n->lit_first + k - 1].label, &e->label) < 0);
			if (e->child < t->nnodes)
				parents[e->child]++;
		}
		if (n->param_child != GW_NONE) {
			CU_ASSERT(n->param_child > i && n->param_child < t->nnodes);
			if (n->param_child < t->nnodes)
				parents[n->param_child]++;
		}
		/* Groups tile order[] in node order. */
		CU_ASSERT_EQUAL(n->route_first, next_route);
		next_route += n->term_count + n->wild_count;
	}
	CU_ASSERT_EQUAL(next_route, t->nroutes);
	for (uint32_t i = 0; i < t->nnodes; i++)
		CU_ASSERT_EQUAL(parents[i], i < t->nroots ? 0u : 1u);
	for (uint32_t k = 0; k < t->nroutes; k++) {
		CU_ASSERT_FATAL(t->order[k] < c->routes.n);
		seen[t->order[k]]++;
	}
	for (uint32_t ri = 0; ri < c->routes.n; ri++) {
		int wild;
		uint32_t x = tt_follow(c, t, ri, &wild), first, count, hit = 0;

		CU_ASSERT_EQUAL(seen[ri], 1);
		CU_ASSERT_FATAL(x != GW_NONE);
		first = t->nodes[x].route_first + (wild ? t->nodes[x].term_count : 0);
		count = wild ? t->nodes[x].wild_count : t->nodes[x].term_count;
		for (uint32_t k = 0; k < count; k++)
			hit += t->order[first + k] == ri;
		CU_ASSERT_EQUAL(hit, 1);
		/* Within a group: conf order, no shared method. */
		for (uint32_t k = 1; k < count; k++) {
			CU_ASSERT(t->order[first + k - 1] < t->order[first + k]);
			CU_ASSERT((c->routes.v[t->order[first + k - 1]].methods &
				   c->routes.v[t->order[first + k]].methods) == 0);
		}
	}
	free(parents);
	free(seen);
}

/* Print <d>'s messages to stderr (when a test is about to fail on them). */
static void tt_dump(const struct gw_diag *d)
{
	for (uint32_t i = 0; i < d->n; i++)
		fprintf(stderr, "\n  diag line %u: %s", (unsigned)d->v[i].at.line, d->v[i].text);
}

/* Build <c>; expect success and a sound shape. */
static void tt_build_ok(const struct gw_conf *c, struct gw_trie *t)
{
	struct gw_diag d = { 0 };
	int rc = gw_trie_build(c, t, &d);

	if (rc != 0 || d.n)
		tt_dump(&d);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(d.n, 0);
	gw_diag_free(&d);
	if (rc == 0)
		tt_check_shape(c, t);
}

/* Build <c>, expecting errors: returns how many, with the trie left empty.
 * Messages stay in <d> (caller frees). */
static unsigned tt_build_fail(const struct gw_conf *c, struct gw_diag *d)
{
	struct gw_trie t;
	int rc = gw_trie_build(c, &t, d);

	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(t.nodes == NULL && t.nnodes == 0 && t.order == NULL);
	gw_trie_free(&t);
	return d->n;
}

/* Whether <d> holds exactly one message, at <line>, equal to <text>. */
static void tt_expect_one(struct gw_diag *d, uint32_t line, const char *text)
{
	CU_ASSERT_EQUAL(d->n, 1);
	if (d->n != 1 || d->v[0].at.line != line || strcmp(d->v[0].text, text) != 0) {
		tt_dump(d);
		fprintf(stderr, "\n  wanted line %u: %s\n", (unsigned)line, text);
		CU_FAIL("unexpected diagnostics");
	}
}

/* ---- tests ---------------------------------------------------------------- */

/* The gateway's own routes and a few more: shape, edges, groups. */
static void test_trie_shape(void)
{
	struct gw_conf c;
	struct gw_trie t;
	uint32_t hello, users, me, items, stat, root, n_api, n_users;
	int wild;

	tt_init(&c);
	hello = tt_route(&c, NULL, GW_M_GET, "/api/hello", 0, 1);
	users = tt_route(&c, "user", GW_M_GET | GW_M_PUT, "/api/users/{id}", 0, 2);
	me = tt_route(&c, NULL, GW_M_GET, "/api/users/me", 0, 3);
	items = tt_route(&c, NULL, GW_M_POST, "/api/items", 0, 4);
	stat = tt_route(&c, NULL, GW_M_GET, "/static/*", 0, 5);
	root = tt_route(&c, NULL, GW_M_GET, "/", 0, 6);
	tt_route(&c, NULL, GW_M_DELETE, "/api/users/{uid}", 0, 7); /* same node as "user" */
	tt_route(&c, NULL, GW_M_GET, "/static", 0, 8);
	tt_route(&c, NULL, GW_M_GET, "/api/it", 0, 9);
	tt_route(&c, NULL, GW_M_GET, "/api/ite", 0, 10);
	tt_route(&c, NULL, GW_M_GET, "/api/B", 0, 11);
	tt_build_ok(&c, &t);
	if (!t.nodes)
		goto out;
	/* root: edges "api" < "static", routes: "/" */
	CU_ASSERT_EQUAL(t.nodes[0].lit_count, 2);
	CU_ASSERT_EQUAL(t.nodes[0].term_count, 1);
	CU_ASSERT_EQUAL(t.order[t.nodes[0].route_first], root);
	CU_ASSERT_EQUAL(t.edges[t.nodes[0].lit_first].label.len, 3);
	CU_ASSERT_EQUAL(memcmp(t.edges[t.nodes[0].lit_first].label.p, "api", 3), 0);
	n_api = t.edges[t.nodes[0].lit_first].child;
	/* /api: "B" < "hello" < "it" < "ite" < "items" < "users" */
	CU_ASSERT_EQUAL(t.nodes[n_api].lit_count, 6);
	/* labels are slices of the patterns, not copies */
	CU_ASSERT_PTR_EQUAL(t.edges[t.nodes[n_api].lit_first + 1].label.p,
			    c.routes.v[hello].pattern.p + 5);
	n_users = tt_follow(&c, &t, me, &wild);
	CU_ASSERT(n_users != GW_NONE);
	n_users = tt_follow(&c, &t, users, &wild);
	CU_ASSERT_EQUAL(t.nodes[n_users].term_count, 2);
	CU_ASSERT_EQUAL(t.nodes[n_users].param_child, GW_NONE);
	CU_ASSERT_EQUAL(t.order[t.nodes[n_users].route_first], users);
	CU_ASSERT_EQUAL(tt_follow(&c, &t, stat, &wild), tt_follow(&c, &t, c.routes.n - 4, &wild));
	CU_ASSERT_EQUAL(t.nodes[tt_follow(&c, &t, stat, &wild)].wild_count, 1);
	(void)items;
out:
	gw_trie_free(&t);
	gw_conf_free(&c);
}

/* Host trees: one root per host, routes under their host's root only. */
static void test_trie_hosts(void)
{
	struct gw_conf c;
	struct gw_trie t;
	uint32_t ha, hb;

	tt_init(&c);
	ha = tt_host(&c, "a.example");
	hb = tt_host(&c, "b.example");
	tt_route(&c, NULL, GW_M_GET, "/x", ha, 1);
	tt_route(&c, NULL, GW_M_GET, "/x", 0, 2); /* a duplicate in another tree: fine */
	tt_route(&c, NULL, GW_M_GET, "/y/{id}", hb, 3);
	tt_build_ok(&c, &t);
	if (t.nodes) {
		CU_ASSERT_EQUAL(t.nroots, 3);
		CU_ASSERT_EQUAL(t.nodes[t.roots[0]].lit_count, 1);
		CU_ASSERT_EQUAL(t.nodes[t.roots[ha]].lit_count, 1);
		CU_ASSERT_EQUAL(t.nodes[t.roots[hb]].lit_count, 1);
	}
	gw_trie_free(&t);
	gw_conf_free(&c);
}

/* Same conf, same trie; and an empty conf gives bare roots. */
static void test_trie_deterministic(void)
{
	struct gw_conf c;
	struct gw_trie t1, t2;
	static const char *const pats[] = {
		"/a/{x}/b", "/a/b/c", "/z", "/a/{y}", "/a/*", "/a/b/*", "/m/n/o/p", "/a/b",
		"/\xC3\xA9t\xC3\xA9", "/A", "/a/{x}/{y}/*",
	};

	tt_init(&c);
	tt_build_ok(&c, &t1);
	CU_ASSERT_EQUAL(t1.nnodes, 1);
	CU_ASSERT_EQUAL(t1.nroutes, 0);
	gw_trie_free(&t1);
	for (uint32_t i = 0; i < sizeof pats / sizeof *pats; i++)
		tt_route(&c, NULL, GW_M_GET, pats[i], 0, i + 1);
	tt_build_ok(&c, &t1);
	tt_build_ok(&c, &t2);
	CU_ASSERT_EQUAL(t1.nnodes, t2.nnodes);
	CU_ASSERT_EQUAL(t1.nedges, t2.nedges);
	if (t1.nodes && t2.nodes && t1.nnodes == t2.nnodes && t1.nedges == t2.nedges) {
		CU_ASSERT_EQUAL(memcmp(t1.nodes, t2.nodes, t1.nnodes * sizeof *t1.nodes), 0);
		CU_ASSERT_EQUAL(memcmp(t1.edges, t2.edges, t1.nedges * sizeof *t1.edges), 0);
		CU_ASSERT_EQUAL(memcmp(t1.order, t2.order, t1.nroutes * sizeof *t1.order), 0);
	}
	gw_trie_free(&t1);
	gw_trie_free(&t2);
	gw_conf_free(&c);
}

/* The conflict message of docs and brief, verbatim. */
static void test_trie_conflict(void)
{
	struct gw_conf c;
	struct gw_diag d = { 0 };

	tt_init(&c);
	tt_route(&c, NULL, GW_M_GET, "/u/{id}", 0, 12);
	tt_route(&c, NULL, GW_M_GET, "/u/{uid}", 0, 20);
	tt_build_fail(&c, &d);
	tt_expect_one(&d, 20, "route \"GET /u/{uid}\" conflicts with route \"GET /u/{id}\" at "
			      "routes.yaml:12:5: both match GET /u/x");
	gw_diag_free(&d);
	gw_conf_free(&c);

	/* Named routes, several methods, a literal sibling "x": the example
	 * value avoids it; the shared method is named. */
	tt_init(&c);
	tt_route(&c, NULL, GW_M_GET, "/u/x", 0, 1);
	tt_route(&c, "users", GW_M_GET | GW_M_PUT, "/u/{id}", 0, 2);
	tt_route(&c, "users2", GW_M_PUT | GW_M_POST, "/u/{uid}", 0, 3);
	tt_build_fail(&c, &d);
	tt_expect_one(&d, 3, "route \"users2\" (POST,PUT /u/{uid}) conflicts with route \"users\" "
			     "(GET,PUT /u/{id}) at routes.yaml:2:5: both match PUT /u/x2");
	gw_diag_free(&d);
	gw_conf_free(&c);

	/* Two wildcards on one node, on a host. */
	tt_init(&c);
	tt_host(&c, "a.example");
	tt_route(&c, NULL, GW_M_DELETE, "/f/*", 1, 4);
	tt_route(&c, NULL, GW_M_DELETE | GW_M_GET, "/f/*", 1, 9);
	tt_build_fail(&c, &d);
	tt_expect_one(&d, 9, "route \"GET,DELETE /f/*\" conflicts with route \"DELETE /f/*\" at "
			     "routes.yaml:4:5: both match DELETE /f/x (host a.example)");
	gw_diag_free(&d);
	gw_conf_free(&c);

	/* Three on one node: each later one is reported once. */
	tt_init(&c);
	tt_route(&c, NULL, GW_M_GET, "/", 0, 1);
	tt_route(&c, NULL, GW_M_GET, "/", 0, 2);
	tt_route(&c, NULL, GW_M_GET, "/", 0, 3);
	CU_ASSERT_EQUAL(tt_build_fail(&c, &d), 2);
	if (d.n == 2) {
		CU_ASSERT_STRING_EQUAL(d.v[1].text, "route \"GET /\" conflicts with route \"GET /\" "
						    "at routes.yaml:1:5: both match GET /");
		CU_ASSERT_EQUAL(d.v[1].at.line, 3);
	}
	gw_diag_free(&d);
	gw_conf_free(&c);
}

/* What is not a conflict. */
static void test_trie_no_conflict(void)
{
	struct gw_conf c;
	struct gw_trie t;

	tt_init(&c);
	tt_host(&c, "a.example");
	tt_route(&c, NULL, GW_M_GET, "/u/{id}", 0, 1);
	tt_route(&c, NULL, GW_M_POST, "/u/{uid}", 0, 2);    /* other method */
	tt_route(&c, NULL, GW_M_HEAD, "/u/{id}", 0, 3);     /* HEAD beside GET: by rule */
	tt_route(&c, NULL, GW_M_GET, "/u/{id}", 1, 4);      /* other host */
	tt_route(&c, NULL, GW_M_GET, "/u/{id}/*", 0, 5);    /* wild vs term */
	tt_route(&c, NULL, GW_M_GET, "/u/me", 0, 6);        /* literal vs param */
	tt_route(&c, NULL, GW_M_GET, "/u/{id}/{x}", 0, 7);  /* deeper */
	tt_route(&c, NULL, GW_M_GET, "/U/{id}", 0, 8);      /* case differs */
	tt_build_ok(&c, &t);
	gw_trie_free(&t);
	gw_conf_free(&c);
}

/* The unreachable wildcard of docs/routes.md, with its message. */
static void test_trie_unreachable(void)
{
	struct gw_conf c;
	struct gw_diag d = { 0 };

	tt_init(&c);
	tt_route(&c, NULL, GW_M_GET, "/f/{x}", 0, 3);
	tt_route(&c, NULL, GW_M_GET, "/f/{x}/*", 0, 6);
	tt_route(&c, NULL, GW_M_GET, "/f/*", 0, 9);
	tt_route(&c, NULL, GW_M_GET, "/f/x", 0, 10);
	tt_build_fail(&c, &d);
	tt_expect_one(&d, 9, "route \"GET /f/*\" can never be reached: every path it matches is "
			     "taken first by route \"GET /f/{x}\" at routes.yaml:3:5 and route "
			     "\"GET /f/{x}/*\" at routes.yaml:6:5, e.g. GET /f/x2");
	gw_diag_free(&d);
	gw_conf_free(&c);

	/* A longer chain, one method of two, HEAD through GET. */
	tt_init(&c);
	tt_route(&c, NULL, GW_M_GET, "/g/{a}", 0, 1);
	tt_route(&c, NULL, GW_M_GET | GW_M_POST, "/g/{a}/{b}", 0, 2);
	tt_route(&c, NULL, GW_M_GET, "/g/{a}/{b}/*", 0, 3);
	tt_route(&c, NULL, GW_M_HEAD | GW_M_POST, "/g/*", 0, 4);
	tt_build_fail(&c, &d);
	tt_expect_one(&d, 4, "route \"HEAD,POST /g/*\" can never be reached for HEAD: every path "
			     "it matches is taken first by route \"GET /g/{a}\" at routes.yaml:1:5, "
			     "route \"GET,POST /g/{a}/{b}\" at routes.yaml:2:5 and route "
			     "\"GET /g/{a}/{b}/*\" at routes.yaml:3:5, e.g. HEAD /g/x");
	gw_diag_free(&d);
	gw_conf_free(&c);

	/* Both methods dead, on a host: the whole route is. */
	tt_init(&c);
	tt_host(&c, "h.example");
	tt_route(&c, NULL, GW_M_GET | GW_M_PUT, "/{a}", 1, 1);
	tt_route(&c, NULL, GW_M_GET | GW_M_PUT, "/{a}/*", 1, 2);
	tt_route(&c, "all", GW_M_GET | GW_M_PUT, "/*", 1, 3);
	tt_build_fail(&c, &d);
	tt_expect_one(&d, 3, "route \"all\" (GET,PUT /*) can never be reached: every path it "
			     "matches is taken first by route \"GET,PUT /{a}\" at routes.yaml:1:5 "
			     "and route \"GET,PUT /{a}/*\" at routes.yaml:2:5, e.g. GET /x "
			     "(host h.example)");
	gw_diag_free(&d);
	gw_conf_free(&c);
}

/* Wildcards that look shadowed but are not. */
static void test_trie_reachable(void)
{
	struct gw_conf c;
	struct gw_trie t;

	tt_init(&c);
	tt_host(&c, "h.example");
	/* The /a wildcard: /a/x/y reaches it (no wildcard under the param). */
	tt_route(&c, NULL, GW_M_GET, "/a/{x}", 0, 1);
	tt_route(&c, NULL, GW_M_GET, "/a/*", 0, 2);
	/* The /b wildcard: /b/x (the param has no GET term route). */
	tt_route(&c, NULL, GW_M_POST, "/b/{x}", 0, 3);
	tt_route(&c, NULL, GW_M_GET, "/b/{x}/*", 0, 4);
	tt_route(&c, NULL, GW_M_GET, "/b/*", 0, 5);
	/* The /c wildcard: a gap in the chain (/c/x/y). */
	tt_route(&c, NULL, GW_M_GET, "/c/{a}", 0, 6);
	tt_route(&c, NULL, GW_M_GET, "/c/{a}/{b}/*", 0, 7);
	tt_route(&c, NULL, GW_M_GET, "/c/*", 0, 8);
	/* The /d wildcard: the shadow is on another host. */
	tt_route(&c, NULL, GW_M_GET, "/d/{x}", 1, 9);
	tt_route(&c, NULL, GW_M_GET, "/d/{x}/*", 1, 10);
	tt_route(&c, NULL, GW_M_GET, "/d/*", 0, 11);
	/* The /e wildcard: literal siblings never shadow (fresh values avoid them). */
	tt_route(&c, NULL, GW_M_GET, "/e/x", 0, 12);
	tt_route(&c, NULL, GW_M_GET, "/e/x/*", 0, 13);
	tt_route(&c, NULL, GW_M_GET, "/e/*", 0, 14);
	/* The /f wildcard: a chain of HEAD routes does not answer GET. */
	tt_route(&c, NULL, GW_M_HEAD, "/f/{x}", 0, 15);
	tt_route(&c, NULL, GW_M_HEAD, "/f/{x}/*", 0, 16);
	tt_route(&c, NULL, GW_M_GET, "/f/*", 0, 17);
	tt_build_ok(&c, &t);
	gw_trie_free(&t);
	gw_conf_free(&c);
}

/* At most 64 segments (the star counts) and GW_MAX_PARAMS parameters. */
static void test_trie_limits(void)
{
	static char p64[64 * 2 + 1], p65[65 * 2 + 1], w65[65 * 2 + 1];
	static char q32[GW_MAX_PARAMS * 5 + 1], q33[(GW_MAX_PARAMS + 1) * 5 + 1];
	struct gw_conf c;
	struct gw_trie t;
	struct gw_diag d = { 0 };
	char *o;

	for (int i = 0; i < 64; i++)
		memcpy(p64 + 2 * i, "/a", 2);
	for (int i = 0; i < 65; i++)
		memcpy(p65 + 2 * i, "/b", 2);
	memcpy(w65, p64, sizeof p64 - 1);
	memcpy(w65 + 128, "/*", 2);
	o = q32;
	for (int i = 0; i < GW_MAX_PARAMS; i++)
		o += sprintf(o, "/{%c%c}", 'a' + i / 26, 'a' + i % 26);
	o = q33;
	for (int i = 0; i <= GW_MAX_PARAMS; i++)
		o += sprintf(o, "/{%c%c}", 'a' + i / 26, 'a' + i % 26);

	tt_init(&c);
	tt_route(&c, NULL, GW_M_GET, p64, 0, 1);
	tt_route(&c, NULL, GW_M_GET, q32, 0, 2);
	tt_build_ok(&c, &t);
	gw_trie_free(&t);
	tt_route(&c, NULL, GW_M_GET, p65, 0, 3);
	tt_route(&c, NULL, GW_M_GET, w65, 0, 4);
	tt_route(&c, NULL, GW_M_GET, q33, 0, 5);
	CU_ASSERT_EQUAL(tt_build_fail(&c, &d), 3);
	if (d.n == 3) {
		CU_ASSERT_EQUAL(d.v[0].at.line, 3);
		CU_ASSERT(strstr(d.v[0].text, "has 65 path segments; at most 64 are allowed") != NULL);
		CU_ASSERT(strstr(d.v[1].text, "has 65 path segments") != NULL);
		CU_ASSERT(strstr(d.v[2].text, "has 33 path parameters; at most 32 are allowed") != NULL);
	}
	gw_diag_free(&d);
	gw_conf_free(&c);
}

/* Malformed patterns the parser should have refused are still refused,
 * never crash the builder. */
static void test_trie_malformed(void)
{
	static const char *const bad[] = { "", "a", "//", "/a//b", "/a/", "/*/a", "/{", "/{}", "/{x" };
	struct gw_conf c;
	struct gw_diag d = { 0 };

	tt_init(&c);
	for (uint32_t i = 0; i < sizeof bad / sizeof *bad; i++)
		tt_route(&c, NULL, GW_M_GET, bad[i], 0, i + 1);
	tt_route(&c, NULL, GW_M_GET, "/ok", 7, 99); /* no such host */
	CU_ASSERT_EQUAL(tt_build_fail(&c, &d), sizeof bad / sizeof *bad + 1);
	gw_diag_free(&d);
	gw_conf_free(&c);
}

/* Many routes: the builder's one-pass construction keeps the shape right. */
static void test_trie_many(void)
{
	static char pats[3000][40];
	struct gw_conf c;
	struct gw_trie t;
	uint32_t n = 0;

	tt_init(&c);
	tt_host(&c, "api.example");
	for (int i = 0; i < 500; i++) {
		snprintf(pats[n], sizeof pats[n], "/v%d/r%d/{id}", i % 7, i);
		tt_route(&c, NULL, GW_M_GET | GW_M_PUT, pats[n], 0, n + 1);
		n++;
		snprintf(pats[n], sizeof pats[n], "/v%d/r%d/{id}/s%d", i % 7, i, i % 3);
		tt_route(&c, NULL, GW_M_GET, pats[n], 0, n + 1);
		n++;
		snprintf(pats[n], sizeof pats[n], "/v%d/r%d", i % 7, i);
		tt_route(&c, NULL, GW_M_POST, pats[n], (uint32_t)(i % 2), n + 1);
		n++;
		snprintf(pats[n], sizeof pats[n], "/s/%d/*", i);
		tt_route(&c, NULL, GW_M_GET, pats[n], 0, n + 1);
		n++;
	}
	tt_build_ok(&c, &t);
	gw_trie_free(&t);
	gw_conf_free(&c);
}

/* The routes of a built trie come in the order of lib/trie.c's file comment
 * (step 2), which the builder reaches through byte keys: compared here with
 * that order written out directly, segment by segment, on random route sets
 * whose literals use bytes the keys escape (0x01, 0x02), bytes above 0x7F,
 * prefixes of one another, and {param}s and stars at every place. */
static int tt_ref_seg(const char *p, uint32_t *i, uint32_t len, const char **seg, uint32_t *slen)
{
	if (*i >= len)
		return 0;
	*seg = p + *i + 1;
	for (*slen = 0; *i + 1 + *slen < len && p[*i + 1 + *slen] != '/'; (*slen)++)
		;
	*i += 1 + *slen;
	return 1;
}

static int tt_ref_cmp(const struct gw_conf *c, uint32_t a, uint32_t b)
{
	const struct gw_route *x = &c->routes.v[a], *y = &c->routes.v[b];
	uint32_t i = 0, j = 0, xl, yl;
	const char *xs, *ys;
	int wx = x->pattern.len > 1 && x->pattern.p[x->pattern.len - 1] == '*';
	int wy = y->pattern.len > 1 && y->pattern.p[y->pattern.len - 1] == '*';
	uint32_t lx = wx ? x->pattern.len - 2 : x->pattern.len;
	uint32_t ly = wy ? y->pattern.len - 2 : y->pattern.len;

	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	for (;;) {
		int hx = lx > 1 && tt_ref_seg(x->pattern.p, &i, lx, &xs, &xl);
		int hy = ly > 1 && tt_ref_seg(y->pattern.p, &j, ly, &ys, &yl);
		int px, py, c2;

		if (!hx || !hy) {
			if (hx != hy)
				return hx ? 1 : -1; /* fewer segments first */
			break;
		}
		px = xs[0] == '{';
		py = ys[0] == '{';
		if (px != py)
			return px ? 1 : -1; /* literal before {param} */
		if (px)
			continue;
		c2 = memcmp(xs, ys, xl < yl ? xl : yl);
		if (c2)
			return c2 < 0 ? -1 : 1;
		if (xl != yl)
			return xl < yl ? -1 : 1;
	}
	if (wx != wy)
		return wx ? 1 : -1;
	return a < b ? -1 : a > b;
}

static void test_trie_sort_order(void)
{
	static const char *const segs[] = {
		"a", "ab", "a\x01", "a\x02", "\x01", "\x01\x01", "\x02", "b", "\xC3\xA9", "\xFF",
		"ab\xFF", "{p}", "{q}", "z",
	};
	static char pats[400][64];
	unsigned rng = 99;

	for (int iter = 0; iter < 20; iter++) {
		struct gw_conf c;
		struct gw_trie t;
		struct gw_diag d = { 0 };
		int n = 0;

		tt_init(&c);
		tt_host(&c, "h.example");
		while (n < 400) {
			size_t o = 0;
			int depth;

			rng = rng * 1103515245u + 12345u;
			depth = 1 + (int)((rng >> 16) % 4);
			for (int k = 0; k < depth; k++) {
				rng = rng * 1103515245u + 12345u;
				o += (size_t)snprintf(pats[n] + o, sizeof pats[n] - o, "/%s",
						      segs[(rng >> 16) % (sizeof segs / sizeof *segs)]);
			}
			/* A last literal of its own: no two routes can conflict
			 * and no star is shadowed, so the set always builds. */
			o += (size_t)snprintf(pats[n] + o, sizeof pats[n] - o, "/%d%s", n,
					      (rng >> 8) % 4 == 0 ? "/*" : "");
			tt_route(&c, NULL, GW_M_GET, pats[n], (uint32_t)(rng >> 20) % 2,
				 (uint32_t)n + 1);
			n++;
		}
		if (gw_trie_build(&c, &t, &d) == 0) {
			int bad = 0;

			for (uint32_t k = 1; k < t.nroutes && !bad; k++)
				if (tt_ref_cmp(&c, t.order[k - 1], t.order[k]) >= 0) {
					fprintf(stderr, "\nsort: %s before %s",
						c.routes.v[t.order[k - 1]].pattern.p,
						c.routes.v[t.order[k]].pattern.p);
					bad = 1;
				}
			CU_ASSERT_FALSE(bad);
			CU_ASSERT_EQUAL(t.nroutes, c.routes.n);
			gw_trie_free(&t);
		} else {
			tt_dump(&d);
			CU_FAIL("random route set refused");
		}
		gw_diag_free(&d);
		gw_conf_free(&c);
	}
}

/* Register the suite (runner contract: 0 on success). */
int gw_suite_lib_trie(void)
{
	CU_pSuite s = CU_add_suite("lib/trie", NULL, NULL);

	if (!s || !CU_add_test(s, "shape", test_trie_shape) ||
	    !CU_add_test(s, "host trees", test_trie_hosts) ||
	    !CU_add_test(s, "deterministic", test_trie_deterministic) ||
	    !CU_add_test(s, "conflicts", test_trie_conflict) ||
	    !CU_add_test(s, "not conflicts", test_trie_no_conflict) ||
	    !CU_add_test(s, "unreachable wildcards", test_trie_unreachable) ||
	    !CU_add_test(s, "reachable wildcards", test_trie_reachable) ||
	    !CU_add_test(s, "limits", test_trie_limits) ||
	    !CU_add_test(s, "malformed patterns", test_trie_malformed) ||
	    !CU_add_test(s, "many routes", test_trie_many) ||
	    !CU_add_test(s, "sort order of the routes", test_trie_sort_order))
		return -1;
	return 0;
}
