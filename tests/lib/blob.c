/* Tests of lib/blob.c (loader, verifier, accessors) and lib/blob_write.c.
 *
 *   - round trip: hand-built confs (tests/lib/blob_fixture.h) written with
 *     gw_blob_write_mem and opened again; every accessor gives back what the
 *     conf said, through the references (ranges may be shared in the blob);
 *   - determinism and size: same conf, same bytes; the per-route cost of a
 *     simple respond route set (docs/blob-format.md, "Size");
 *   - hostile input: truncation at every length, every single-byte flip, and
 *     structural corruption with the CRC recomputed, so that the checks past
 *     the checksum run; each refused with the gw_err and the message expected;
 *   - files: atomic write, open of missing, empty, directory, FIFO and text;
 *   - the fixtures of tests/corpus/blob/ (EXPECTED lists the answer of each).
 *     `GW_GEN_CORPUS=1 bin/unit blob` rewrites them and the fuzzer's seeds
 *     (tests/fuzz/corpus/fuzz_blob/) from the cases below.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/blob-t.h"
#include "lib/blob.h"
#include "lib/bytes.h"
#include "lib/crc32c.h"
#include "tests/lib/blob_fixture.h"

#define CORPUS_DIR "tests/corpus/blob"
#define SEED_DIR "tests/fuzz/corpus/fuzz_blob"

/* ---- helpers ------------------------------------------------------------- */

/* Write <f> to memory; the test fails (and returns NULL) when it cannot. */
static uint8_t *write_fx(const struct fx *f, size_t *len)
{
	uint8_t *p = NULL;
	int rc = gw_blob_write_mem(&f->c, &f->t, &p, len);

	CU_ASSERT_EQUAL(rc, GW_OK);
	return rc ? NULL : p;
}

static int str_eq(struct gw_str a, struct gw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* A blob string is a C string: the NUL the model promises is there. */
static int cstr_eq(struct gw_str blob, struct gw_str conf)
{
	return str_eq(blob, conf) && blob.p[blob.len] == '\0';
}

static int place_eq(struct gw_place a, struct gw_place b)
{
	return a.file == b.file && a.line == b.line && a.col == b.col;
}

static int tpls_eq(const struct gw_blob *b, uint32_t bf, uint32_t bc, const struct gw_conf *c,
		   uint32_t cf, uint32_t cc)
{
	if (bc != cc)
		return 0;
	for (uint32_t k = 0; k < cc; k++) {
		struct gw_tpl t;
		const struct gw_tpl *u = &c->tpls.v[cf + k];

		if (gw_blob_tpl(b, bf + k, &t) || t.kind != u->kind || t.mode != u->mode ||
		    t.param != u->param || !cstr_eq(t.text, u->text) || !cstr_eq(t.alt, u->alt))
			return 0;
	}
	return 1;
}

static int headers_eq(const struct gw_blob *b, uint32_t bf, uint32_t bc, const struct gw_conf *c,
		      uint32_t cf, uint32_t cc)
{
	if (bc != cc)
		return 0;
	for (uint32_t k = 0; k < cc; k++) {
		struct gw_header h;

		if (gw_blob_header(b, bf + k, &h) || !cstr_eq(h.name, c->headers.v[cf + k].name) ||
		    !cstr_eq(h.value, c->headers.v[cf + k].value))
			return 0;
	}
	return 1;
}

static int strlist_eq(const struct gw_blob *b, uint32_t bf, uint32_t bc, const struct gw_conf *c,
		      uint32_t cf, uint32_t cc)
{
	if (bc != cc)
		return 0;
	for (uint32_t k = 0; k < cc; k++) {
		struct gw_str s;

		if (gw_blob_strlist(b, bf + k, &s) || !cstr_eq(s, c->strlist.v[cf + k]))
			return 0;
	}
	return 1;
}

static int cidrs_eq(const struct gw_blob *b, uint32_t bf, uint32_t bc, const struct gw_conf *c,
		    uint32_t cf, uint32_t cc)
{
	if (bc != cc)
		return 0;
	for (uint32_t k = 0; k < cc; k++) {
		struct gw_cidr x;
		const struct gw_cidr *y = &c->cidrs.v[cf + k];

		if (gw_blob_cidr(b, bf + k, &x) || x.family != y->family || x.prefix != y->prefix ||
		    memcmp(x.addr, y->addr, 16) != 0)
			return 0;
	}
	return 1;
}

/* Every accessor of <b> against <f>: counts, then each record and what it
 * refers to. */
static void check_roundtrip(const struct fx *f, const struct gw_blob *b)
{
	const struct gw_conf *c = &f->c;
	const struct gw_trie *t = &f->t;
	struct gw_settings s;

	CU_ASSERT(memcmp(gw_blob_fingerprint(b), c->fingerprint, 32) == 0);
	CU_ASSERT_EQUAL(gw_blob_version(b), GW_BLOB_WRITE_VERSION);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_FILES), c->files.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_HOSTS), c->hosts.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_NODES), t->nnodes);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_EDGES), t->nedges);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_ROUTES), c->routes.n);
	CU_ASSERT(gw_blob_count(b, GW_BLOB_PROXIES) <= c->proxies.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_POLICIES), c->policies.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_RATELIMITS), c->ratelimits.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_AUTHS), c->auths.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_BODYLIMITS), c->body_limits.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_CORS), c->cors.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_HDRPOLS), c->hdrpols.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_IPFILTERS), c->ipfilters.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_UPSTREAMS), c->upstreams.n);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_SETTINGS), 1);
	CU_ASSERT(gw_blob_count(b, GW_BLOB_RESPONDS) <= c->responds.n);
	CU_ASSERT(gw_blob_count(b, GW_BLOB_RATTRS) <= c->routes.n);

	for (uint32_t i = 0; i < c->files.n; i++) {
		struct gw_str x;

		CU_ASSERT(gw_blob_file(b, i, &x) == 0 && cstr_eq(x, c->files.v[i]));
	}
	for (uint32_t i = 0; i < c->hosts.n; i++) {
		struct gw_str x;
		uint32_t root;

		CU_ASSERT(gw_blob_host(b, i, &x, &root) == 0 && cstr_eq(x, c->hosts.v[i]) &&
			  root == t->roots[i]);
	}
	for (uint32_t i = 0; i < t->nnodes; i++) {
		struct gw_trie_node n;

		CU_ASSERT(gw_blob_node(b, i, &n) == 0 && n.lit_first == t->nodes[i].lit_first &&
			  n.lit_count == t->nodes[i].lit_count &&
			  n.param_child == t->nodes[i].param_child &&
			  n.route_first == t->nodes[i].route_first &&
			  n.term_count == t->nodes[i].term_count &&
			  n.wild_count == t->nodes[i].wild_count);
	}
	for (uint32_t i = 0; i < t->nedges; i++) {
		struct gw_trie_edge e;

		CU_ASSERT(gw_blob_edge(b, i, &e) == 0 && str_eq(e.label, t->edges[i].label) &&
			  e.child == t->edges[i].child);
	}
	for (uint32_t i = 0; i < c->routes.n; i++) {
		const struct gw_route *u = &c->routes.v[t->order[i]];
		struct gw_route r;
		int ok;

		CU_ASSERT_FATAL(gw_blob_route(b, i, &r) == 0);
		CU_ASSERT(cstr_eq(r.name, u->name) && cstr_eq(r.pattern, u->pattern));
		CU_ASSERT(r.host == u->host && r.methods == u->methods && r.handler == u->handler &&
			  r.nparams == u->nparams && place_eq(r.place, u->place));
		ok = r.pol_count == u->pol_count;
		for (uint32_t k = 0; ok && k < u->pol_count; k++) {
			uint32_t p;

			ok = gw_blob_polref(b, r.pol_first + k, &p) == 0 &&
			     p == c->polrefs.v[u->pol_first + k];
		}
		CU_ASSERT(ok);
		if (u->handler == GW_H_RESPOND) {
			const struct gw_respond *y = &c->responds.v[u->handler_index];
			struct gw_respond x;

			CU_ASSERT_FATAL(gw_blob_respond(b, r.handler_index, &x) == 0);
			CU_ASSERT(x.status == y->status);
			CU_ASSERT(headers_eq(b, x.hdr_first, x.hdr_count, c, y->hdr_first, y->hdr_count));
			CU_ASSERT(tpls_eq(b, x.body_first, x.body_count, c, y->body_first, y->body_count));
		} else if (u->handler == GW_H_PROXY) {
			const struct gw_proxy *y = &c->proxies.v[u->handler_index];
			struct gw_proxy x;

			CU_ASSERT_FATAL(gw_blob_proxy(b, r.handler_index, &x) == 0);
			CU_ASSERT(x.upstream == y->upstream && cstr_eq(x.strip_prefix, y->strip_prefix));
			CU_ASSERT(tpls_eq(b, x.rewrite_first, x.rewrite_count, c, y->rewrite_first,
					  y->rewrite_count));
		} else {
			CU_ASSERT_EQUAL(r.handler_index, 0);
		}
	}
	for (uint32_t i = 0; i < c->policies.n; i++) {
		const struct gw_policy *y = &c->policies.v[i];
		struct gw_policy x;

		CU_ASSERT(gw_blob_policy(b, i, &x) == 0 && cstr_eq(x.name, y->name) &&
			  x.kind == y->kind && x.count == y->count && x.index == y->index &&
			  x.ident == y->ident && place_eq(x.place, y->place));
	}
	for (uint32_t i = 0; i < c->ratelimits.n; i++) {
		const struct gw_ratelimit *y = &c->ratelimits.v[i];
		struct gw_ratelimit x;

		CU_ASSERT(gw_blob_ratelimit(b, i, &x) == 0 && cstr_eq(x.name, y->name) &&
			  x.key == y->key && cstr_eq(x.header, y->header) && x.quota == y->quota &&
			  x.period_ms == y->period_ms && x.burst == y->burst &&
			  x.max_keys == y->max_keys);
	}
	for (uint32_t i = 0; i < c->auths.n; i++) {
		struct gw_auth x;

		CU_ASSERT(gw_blob_auth(b, i, &x) == 0 && x.type == c->auths.v[i].type &&
			  cstr_eq(x.header, c->auths.v[i].header) &&
			  cstr_eq(x.user_header, c->auths.v[i].user_header) &&
			  (x.type != GW_AUTH_JWT || x.jwt == c->auths.v[i].jwt));
	}
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_JWTS), c->jwts.n);
	for (uint32_t i = 0; i < c->jwts.n; i++) {
		const struct gw_jwt *w = &c->jwts.v[i];
		struct gw_jwt x;

		CU_ASSERT_FATAL(gw_blob_jwt(b, i, &x) == 0);
		CU_ASSERT(x.auth == w->auth && x.algs == w->algs && cstr_eq(x.issuer, w->issuer) &&
			  x.aud_count == w->aud_count && x.hdr_count == w->hdr_count &&
			  x.key_count == w->key_count && cstr_eq(x.realm, w->realm) &&
			  cstr_eq(x.jwks_url, w->jwks_url) && x.leeway_s == w->leeway_s &&
			  x.refresh_max_s == w->refresh_max_s && x.refetch_s == w->refetch_s);
		for (uint32_t k = 0; k < x.key_count; k++) {
			struct gw_jwk y;
			const struct gw_jwk *z = &c->jwks.v[w->key_first + k];

			CU_ASSERT(gw_blob_jwk(b, x.key_first + k, &y) == 0 && cstr_eq(y.kid, z->kid) &&
				  y.kty == z->kty && y.crv == z->crv && y.algs == z->algs &&
				  cstr_eq(y.a, z->a) && cstr_eq(y.b, z->b));
		}
	}
	for (uint32_t i = 0; i < c->body_limits.n; i++) {
		uint64_t x;

		CU_ASSERT(gw_blob_body_limit(b, i, &x) == 0 && x == c->body_limits.v[i]);
	}
	for (uint32_t i = 0; i < c->cors.n; i++) {
		const struct gw_cors *y = &c->cors.v[i];
		struct gw_cors x;

		CU_ASSERT_FATAL(gw_blob_cors(b, i, &x) == 0);
		CU_ASSERT(x.methods == y->methods && x.credentials == y->credentials &&
			  cstr_eq(x.allow_headers, y->allow_headers) &&
			  cstr_eq(x.expose_headers, y->expose_headers) && x.max_age_s == y->max_age_s);
		CU_ASSERT(strlist_eq(b, x.origin_first, x.origin_count, c, y->origin_first,
				     y->origin_count));
	}
	for (uint32_t i = 0; i < c->hdrpols.n; i++) {
		const struct gw_hdrpol *y = &c->hdrpols.v[i];
		struct gw_hdrpol x;

		CU_ASSERT_FATAL(gw_blob_hdrpol(b, i, &x) == 0);
		CU_ASSERT(headers_eq(b, x.req_add_first, x.req_add_count, c, y->req_add_first,
				     y->req_add_count));
		CU_ASSERT(strlist_eq(b, x.req_del_first, x.req_del_count, c, y->req_del_first,
				     y->req_del_count));
		CU_ASSERT(headers_eq(b, x.resp_add_first, x.resp_add_count, c, y->resp_add_first,
				     y->resp_add_count));
		CU_ASSERT(strlist_eq(b, x.resp_del_first, x.resp_del_count, c, y->resp_del_first,
				     y->resp_del_count));
	}
	for (uint32_t i = 0; i < c->ipfilters.n; i++) {
		const struct gw_ipfilter *y = &c->ipfilters.v[i];
		struct gw_ipfilter x;

		CU_ASSERT_FATAL(gw_blob_ipfilter(b, i, &x) == 0);
		CU_ASSERT(cidrs_eq(b, x.allow_first, x.allow_count, c, y->allow_first, y->allow_count));
		CU_ASSERT(cidrs_eq(b, x.deny_first, x.deny_count, c, y->deny_first, y->deny_count));
	}
	for (uint32_t i = 0; i < c->upstreams.n; i++) {
		const struct gw_upstream *y = &c->upstreams.v[i];
		struct gw_upstream x;
		int ok;

		CU_ASSERT_FATAL(gw_blob_upstream(b, i, &x) == 0);
		CU_ASSERT(cstr_eq(x.name, y->name) && x.balance == y->balance &&
			  x.hash_key == y->hash_key && cstr_eq(x.hash_header, y->hash_header) &&
			  x.connect_timeout_ms == y->connect_timeout_ms &&
			  x.timeout_ms == y->timeout_ms && x.max_conns == y->max_conns &&
			  x.retries == y->retries && cstr_eq(x.hc_path, y->hc_path) &&
			  x.hc_interval_ms == y->hc_interval_ms && x.hc_timeout_ms == y->hc_timeout_ms &&
			  x.hc_healthy == y->hc_healthy && x.hc_unhealthy == y->hc_unhealthy &&
			  x.cb_failures == y->cb_failures && x.cb_cooldown_ms == y->cb_cooldown_ms &&
			  place_eq(x.place, y->place));
		ok = x.tgt_count == y->tgt_count;
		for (uint32_t k = 0; ok && k < y->tgt_count; k++) {
			const struct gw_target *v = &c->targets.v[y->tgt_first + k];
			struct gw_target u;

			ok = gw_blob_target(b, x.tgt_first + k, &u) == 0 && cstr_eq(u.host, v->host) &&
			     u.port == v->port && u.weight == v->weight;
		}
		CU_ASSERT(ok);
	}
	gw_blob_settings(b, &s);
	CU_ASSERT(cidrs_eq(b, s.trusted_first, s.trusted_count, c, c->settings.trusted_first,
			   c->settings.trusted_count));
	CU_ASSERT(cstr_eq(s.session_cookie, c->settings.session_cookie));
	CU_ASSERT(s.session_idle_ms == c->settings.session_idle_ms &&
		  s.session_lifetime_ms == c->settings.session_lifetime_ms &&
		  s.max_header_bytes == c->settings.max_header_bytes &&
		  s.header_timeout_ms == c->settings.header_timeout_ms &&
		  s.idle_timeout_ms == c->settings.idle_timeout_ms &&
		  s.max_conns == c->settings.max_conns &&
		  s.max_conns_per_ip == c->settings.max_conns_per_ip);
}

static void roundtrip(void (*build)(struct fx *))
{
	struct fx f;
	struct gw_blob *b = NULL;
	char why[256];
	uint8_t *p;
	size_t len;

	build(&f);
	p = write_fx(&f, &len);
	if (p) {
		int rc = gw_blob_open_mem(p, len, &b, why, sizeof why);

		CU_ASSERT_EQUAL(rc, GW_OK);
		if (rc)
			fprintf(stderr, "\nroundtrip: %s: %s\n", gw_strerror(rc), why);
		if (b) {
			CU_ASSERT_EQUAL(gw_blob_size(b), len);
			check_roundtrip(&f, b);
		}
		gw_blob_close(b);
	}
	free(p);
	fx_free(&f);
}

static void test_roundtrip_default(void)
{
	roundtrip(fx_default);
}

static void test_roundtrip_full(void)
{
	roundtrip(fx_full);
}

static void fx_empty(struct fx *f)
{
	fx_init(f);
	fx_trie(f);
}

static void test_roundtrip_empty(void)
{
	roundtrip(fx_empty);
}

/* A node of 40 edges: looked up through EHASH, which holds each of them. */
static void fx_wide40(struct fx *f)
{
	fx_simple(f, 40);
}

static void test_roundtrip_wide(void)
{
	roundtrip(fx_wide40);
}

/* The layout fx_trie gives the default set: the corruption cases below name
 * records by these indexes, so a change of layout must fail here first. */
static void test_default_layout(void)
{
	static const char *const want[] = {
		"/health", "/metrics", "/api/echo", "/api/hello", "/api/items", "/api/limited",
		"/auth/login", "/auth/logout", "/api/users/{id}",
	};
	struct gw_blob *b = NULL;
	struct gw_trie_node n;
	struct gw_trie_edge e;
	struct fx f;
	uint8_t *p;
	size_t len;

	fx_default(&f);
	p = write_fx(&f, &len);
	CU_ASSERT_FATAL(p && gw_blob_open_mem(p, len, &b, NULL, 0) == GW_OK);
	for (uint32_t i = 0; i < 9; i++) {
		struct gw_route r;

		CU_ASSERT(gw_blob_route(b, i, &r) == 0 && strcmp(r.pattern.p, want[i]) == 0);
	}
	CU_ASSERT(gw_blob_node(b, 0, &n) == 0 && n.lit_first == 0 && n.lit_count == 4);
	CU_ASSERT(gw_blob_edge(b, 0, &e) == 0 && e.label.len == 3 && memcmp(e.label.p, "api", 3) == 0);
	CU_ASSERT(gw_blob_node(b, 9, &n) == 0 && n.param_child == 12 && n.lit_count == 0);
	gw_blob_close(b);
	free(p);
	fx_free(&f);
}

/* Out-of-range indexes: -1, <out> untouched, nothing read. */
static void test_accessor_range(void)
{
	struct gw_blob *b = NULL;
	struct fx f;
	uint8_t *p;
	size_t len;
	union {
		struct gw_route r;
		struct gw_upstream u;
		struct gw_str s;
		uint64_t x;
		unsigned char raw[256];
	} out, ref;
	uint32_t root = 7;

	fx_full(&f);
	p = write_fx(&f, &len);
	CU_ASSERT_FATAL(p && gw_blob_open_mem(p, len, &b, NULL, 0) == GW_OK);
	memset(&out, 0x5A, sizeof out);
	ref = out;
#define OOR(fn, table, ...) \
	CU_ASSERT_EQUAL(fn(b, gw_blob_count(b, table), __VA_ARGS__), -1); \
	CU_ASSERT_EQUAL(fn(b, UINT32_MAX, __VA_ARGS__), -1)
	OOR(gw_blob_file, GW_BLOB_FILES, &out.s);
	OOR(gw_blob_host, GW_BLOB_HOSTS, &out.s, &root);
	OOR(gw_blob_node, GW_BLOB_NODES, (struct gw_trie_node *)(void *)out.raw);
	OOR(gw_blob_edge, GW_BLOB_EDGES, (struct gw_trie_edge *)(void *)out.raw);
	OOR(gw_blob_route, GW_BLOB_ROUTES, &out.r);
	OOR(gw_blob_respond, GW_BLOB_RESPONDS, (struct gw_respond *)(void *)out.raw);
	OOR(gw_blob_proxy, GW_BLOB_PROXIES, (struct gw_proxy *)(void *)out.raw);
	OOR(gw_blob_tpl, GW_BLOB_TPLS, (struct gw_tpl *)(void *)out.raw);
	OOR(gw_blob_header, GW_BLOB_HEADERS, (struct gw_header *)(void *)out.raw);
	OOR(gw_blob_strlist, GW_BLOB_STRLIST, &out.s);
	OOR(gw_blob_polref, GW_BLOB_POLREFS, (uint32_t *)(void *)out.raw);
	OOR(gw_blob_policy, GW_BLOB_POLICIES, (struct gw_policy *)(void *)out.raw);
	OOR(gw_blob_ratelimit, GW_BLOB_RATELIMITS, (struct gw_ratelimit *)(void *)out.raw);
	OOR(gw_blob_auth, GW_BLOB_AUTHS, (struct gw_auth *)(void *)out.raw);
	OOR(gw_blob_body_limit, GW_BLOB_BODYLIMITS, &out.x);
	OOR(gw_blob_cors, GW_BLOB_CORS, (struct gw_cors *)(void *)out.raw);
	OOR(gw_blob_hdrpol, GW_BLOB_HDRPOLS, (struct gw_hdrpol *)(void *)out.raw);
	OOR(gw_blob_ipfilter, GW_BLOB_IPFILTERS, (struct gw_ipfilter *)(void *)out.raw);
	OOR(gw_blob_cidr, GW_BLOB_CIDRS, (struct gw_cidr *)(void *)out.raw);
	OOR(gw_blob_upstream, GW_BLOB_UPSTREAMS, &out.u);
	OOR(gw_blob_target, GW_BLOB_TARGETS, (struct gw_target *)(void *)out.raw);
#undef OOR
	CU_ASSERT(memcmp(&out, &ref, sizeof out) == 0);
	CU_ASSERT_EQUAL(root, 7);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_NTABLES), 0);
	CU_ASSERT_EQUAL(gw_blob_count(b, 1000), 0);
	gw_blob_close(b);
	free(p);
	fx_free(&f);
}

/* Same conf, same bytes, even when every string lives elsewhere in memory
 * (fx_simple allocates its patterns, so two builds differ in addresses). */
static void test_deterministic(void)
{
	struct fx f, g;
	uint8_t *p, *q;
	size_t lp, lq;

	fx_simple(&f, 50);
	fx_simple(&g, 50);
	CU_ASSERT_PTR_NOT_EQUAL(f.c.routes.v[0].pattern.p, g.c.routes.v[0].pattern.p);
	p = write_fx(&f, &lp);
	q = write_fx(&g, &lq);
	CU_ASSERT(p && q && lp == lq && memcmp(p, q, lp) == 0);
	free(p);
	free(q);
	fx_free(&f);
	fx_free(&g);
	fx_full(&f);
	p = write_fx(&f, &lp);
	q = write_fx(&f, &lq);
	CU_ASSERT(p && q && lp == lq && memcmp(p, q, lp) == 0);
	free(p);
	free(q);
	fx_free(&f);
}

/* docs/blob-format.md, "Size": under 100 bytes per route for a simple
 * respond route set; identical responds, bodies, headers and policy lists
 * stored once; edge labels sharing the pattern bytes. */
static void test_size_per_route(void)
{
	struct gw_blob *b = NULL;
	struct fx f, g;
	uint8_t *p, *q;
	size_t lp, lq;
	double per;

	fx_simple(&f, 1000);
	fx_simple(&g, 0);
	p = write_fx(&f, &lp);
	q = write_fx(&g, &lq);
	CU_ASSERT_FATAL(p && q && gw_blob_open_mem(p, lp, &b, NULL, 0) == GW_OK);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_RESPONDS), 1);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_TPLS), 1);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_HEADERS), 1);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_POLREFS), 1);
	/* Labels are slices of the patterns: "/r/999" adds 7 bytes to STRS, its
	 * label "999" nothing. */
	CU_ASSERT(gw_blob_count(b, GW_BLOB_STRS) < 1000 * 8 + 200);
	per = (double)(lp - lq) / 1000;
	printf("\n  blob size: %zu bytes for 1000 simple routes, %zu for none: %.1f bytes/route "
	       "(%.1f overall)\n", lp, lq, per, (double)lp / 1000);
	CU_ASSERT(per < 100);
	CU_ASSERT((double)lp / 1000 < 100);
	gw_blob_close(b);
	free(p);
	free(q);
	fx_free(&f);
	fx_free(&g);
}

/* 200 routes proxied alike (each with its own proxy record, as the front end
 * makes them) and 200 more to a second upstream, with two method sets:
 * PROXIES and RATTRS hold each distinct record once, and every route still
 * reads back its own proxy, methods and policies. */
static void fx_proxied(struct fx *f)
{
	uint32_t u[2], pub;
	const uint32_t none[] = { GW_NONE };

	fx_init(f);
	fx_file(f, "proxied.yaml");
	pub = fx_rl_policy(f, "public", 100, 1000, 100, fx_at(0, 3, 3));
	for (int k = 0; k < 2; k++) {
		uint32_t t = fx_target(f, k ? "10.0.0.2" : "10.0.0.1", 8080, 1);

		u[k] = fx_upstream(f, k ? "b" : "a", t, 1, fx_at(0, 1, 1 + k));
	}
	for (uint32_t i = 0; i < 400; i++) {
		const uint32_t pols[] = { pub, GW_NONE };

		fx_route(f, i % 3 ? GW_M_GET : GW_M_GET | GW_M_POST, 0, fx_fmt(f, "/p/%u", i).p,
			 GW_H_PROXY, fx_proxy(f, u[i / 200], 0, 0, NULL), i % 2 ? pols : none,
			 fx_at(0, 10 + i, 5));
	}
	fx_trie(f);
}

static void test_shared_records(void)
{
	struct gw_blob *b = NULL;
	struct fx f;
	uint8_t *p;
	size_t len;

	roundtrip(fx_proxied);
	fx_proxied(&f);
	p = write_fx(&f, &len);
	CU_ASSERT_FATAL(p && gw_blob_open_mem(p, len, &b, NULL, 0) == GW_OK);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_PROXIES), 2);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_RATTRS), 2 * 2 * 2); /* upstream x methods x policies */
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_ROUTES), 400);
	gw_blob_close(b);
	free(p);
	fx_free(&f);
}

/* ---- hostile input --------------------------------------------------------- */

static uint32_t sec_field(const uint8_t *p, unsigned t, unsigned field)
{
	uint32_t n = gw_get_u32le(p + GW_BLOB_HDR_SECTION_COUNT);

	for (uint32_t k = 0; k < n; k++) {
		const uint8_t *e = p + GW_BLOB_HDR_SIZE + k * GW_BLOB_SEC_ENTRY_SIZE;

		if (gw_get_u32le(e + GW_BLOB_SEC_ID) == t)
			return gw_get_u32le(e + field);
	}
	return 0;
}

/* Record <i> of table <t> in the raw bytes <p>. */
static uint8_t *recp(uint8_t *p, unsigned t, uint32_t i)
{
	return p + sec_field(p, t, GW_BLOB_SEC_OFFSET) + (size_t)i * gw_blob_record_size(t);
}

/* Section table entry of table <t>. */
static uint8_t *secp(uint8_t *p, unsigned t)
{
	return p + GW_BLOB_HDR_SIZE + t * GW_BLOB_SEC_ENTRY_SIZE;
}

/* The RATTRS record of route <i> in the raw bytes <p> (shared with every
 * route alike: a change to it is a change to them all). */
static uint8_t *attrp(uint8_t *p, uint32_t i)
{
	return recp(p, GW_BLOB_RATTRS, gw_get_u32le(recp(p, GW_BLOB_ROUTES, i) + GW_BLOB_ROUTE_ATTRS));
}

static void fix_crc(uint8_t *p, size_t len)
{
	gw_put_u32le(p + len - GW_BLOB_TRAILER_SIZE, gw_crc32c(0, p, len - GW_BLOB_TRAILER_SIZE));
}

/* Open <len> bytes; CUnit failure with the details unless the answer is
 * <code> with <want> in the message. */
static void expect(const char *name, const uint8_t *p, size_t len, int code, const char *want)
{
	struct gw_blob *b = NULL;
	char why[256] = "";
	int rc = gw_blob_open_mem(p, len, &b, why, sizeof why);

	if (rc != code || (want && !strstr(why, want))) {
		fprintf(stderr, "\n%s: got %d (%s) \"%s\", want %d \"%s\"\n", name, rc,
			gw_strerror(rc), why, code, want ? want : "");
		CU_FAIL("unexpected answer from gw_blob_open_mem");
	} else {
		CU_PASS(name);
	}
	CU_ASSERT_EQUAL(b == NULL, rc != GW_OK);
	gw_blob_close(b);
}

static void test_truncation(void)
{
	struct fx f;
	uint8_t *p;
	size_t len;

	fx_default(&f);
	p = write_fx(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	for (size_t n = 0; n < len; n++) {
		/* A copy of exactly <n> bytes, so ASan sees a read past it. */
		uint8_t *q = malloc(n ? n : 1);
		struct gw_blob *b = NULL;
		int rc;

		memcpy(q, p, n);
		rc = gw_blob_open_mem(q, n, &b, NULL, 0);
		CU_ASSERT_EQUAL(rc, GW_ETRUNC);
		CU_ASSERT_PTR_NULL(b);
		free(q);
	}
	free(p);
	fx_free(&f);
}

/* Every byte flipped, two ways: refused every time, by the checksum except
 * where an earlier check (magic, version, size, trailer) speaks first. */
static void test_byte_flips(void)
{
	static const uint8_t masks[] = { 0xFF, 0x01, 0x80 };
	struct fx f;
	uint8_t *p;
	size_t len;
	unsigned wrong = 0;

	fx_full(&f);
	p = write_fx(&f, &len);
	CU_ASSERT_FATAL(p != NULL);
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof masks; m++) {
			struct gw_blob *b = NULL;
			int rc, ok;

			p[i] ^= masks[m];
			rc = gw_blob_open_mem(p, len, &b, NULL, 0);
			p[i] ^= masks[m];
			if (i < GW_BLOB_MAGIC_LEN)
				ok = rc == GW_EMAGIC;
			else if (i < GW_BLOB_HDR_READ_VERSION + 2)
				ok = rc == GW_EVERSION || rc == GW_ECHECKSUM;
			else if (i >= GW_BLOB_HDR_FILE_SIZE && i < GW_BLOB_HDR_FILE_SIZE + 8)
				ok = rc == GW_ETRUNC || rc == GW_ECORRUPT;
			else if (i >= len - 4)
				ok = rc == GW_ECORRUPT;
			else
				ok = rc == GW_ECHECKSUM;
			if (!ok && wrong++ < 5)
				fprintf(stderr, "\nflip 0x%02x at %zu: %d\n", masks[m], i, rc);
			CU_ASSERT_PTR_NULL(b);
			gw_blob_close(b);
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	free(p);
	fx_free(&f);
}

/* A structural corruption: a change to a valid blob of fixture <base>, then
 * the CRC recomputed, and the answer expected.  <fixture>: also kept as a
 * file in tests/corpus/blob/. */
struct corruption {
	const char *name;
	void (*build)(struct fx *);
	void (*apply)(uint8_t *p, size_t *len);
	int code;
	const char *why;
	const char *fixture;
	int keep_crc; /* the change is to the CRC's coverage itself: leave it */
};

/* One-field patches; each names what it breaks. */
#define P32(p, t, i, off, v) gw_put_u32le(recp(p, t, i) + (off), v)
#define P16(p, t, i, off, v) gw_put_u16le(recp(p, t, i) + (off), v)
#define P8(p, t, i, off, v) (recp(p, t, i)[off] = (v))
#define A32(p, route, off, v) gw_put_u32le(attrp(p, route) + (off), v)
#define A16(p, route, off, v) gw_put_u16le(attrp(p, route) + (off), v)
#define A8(p, route, off, v) (attrp(p, route)[off] = (v))

static void c_rv0(uint8_t *p, size_t *l) { (void)l; gw_put_u16le(p + GW_BLOB_HDR_READ_VERSION, 0); }
static void c_rv1(uint8_t *p, size_t *l) { (void)l; gw_put_u16le(p + GW_BLOB_HDR_READ_VERSION, 1); }
static void c_rv2(uint8_t *p, size_t *l) { (void)l; gw_put_u16le(p + GW_BLOB_HDR_READ_VERSION, 2); }
static void c_rv4(uint8_t *p, size_t *l) { (void)l; gw_put_u16le(p + GW_BLOB_HDR_READ_VERSION, 4); }
static void c_flags(uint8_t *p, size_t *l) { (void)l; gw_put_u32le(p + GW_BLOB_HDR_FLAGS, 1); }
static void c_hsize_small(uint8_t *p, size_t *l) { (void)l; gw_put_u32le(p + GW_BLOB_HDR_HEADER_SIZE, 60); }
static void c_hsize_big(uint8_t *p, size_t *l) { (void)l; gw_put_u32le(p + GW_BLOB_HDR_HEADER_SIZE, 1u << 20); }
static void c_nsec_65(uint8_t *p, size_t *l) { (void)l; gw_put_u32le(p + GW_BLOB_HDR_SECTION_COUNT, 65); }
static void c_nsec_huge(uint8_t *p, size_t *l) { (void)l; gw_put_u32le(p + GW_BLOB_HDR_SECTION_COUNT, 0x10000000); }
static void c_nsec_over(uint8_t *p, size_t *l) { (void)l; gw_put_u32le(p + GW_BLOB_HDR_SECTION_COUNT, GW_BLOB_NTABLES + 1); }
static void c_sec_past_end(uint8_t *p, size_t *l)
{
	gw_put_u32le(secp(p, GW_BLOB_ROUTES) + GW_BLOB_SEC_OFFSET, (uint32_t)*l);
}
static void c_sec_size_huge(uint8_t *p, size_t *l)
{
	(void)l;
	gw_put_u32le(secp(p, GW_BLOB_STRS) + GW_BLOB_SEC_SIZE, 0xFFFFFFF8u);
}
static void c_sec_misaligned(uint8_t *p, size_t *l)
{
	uint8_t *e = secp(p, GW_BLOB_NODES) + GW_BLOB_SEC_OFFSET;

	(void)l;
	gw_put_u32le(e, gw_get_u32le(e) + 4);
}
static void c_sec_overlap(uint8_t *p, size_t *l)
{
	(void)l;
	gw_put_u32le(secp(p, GW_BLOB_ROUTES) + GW_BLOB_SEC_OFFSET,
		     gw_get_u32le(secp(p, GW_BLOB_NODES) + GW_BLOB_SEC_OFFSET));
}
static void c_sec_count(uint8_t *p, size_t *l)
{
	uint8_t *e = secp(p, GW_BLOB_NODES) + GW_BLOB_SEC_COUNT;

	(void)l;
	gw_put_u32le(e, gw_get_u32le(e) + 1);
}
static void c_sec_count_wrap(uint8_t *p, size_t *l)
{
	/* count * 16 wraps to the real size in 32 bits: must still refuse. */
	uint8_t *e = secp(p, GW_BLOB_NODES);

	(void)l;
	gw_put_u32le(e + GW_BLOB_SEC_COUNT, gw_get_u32le(e + GW_BLOB_SEC_COUNT) + 0x40000000u);
}
static void c_sec_dup(uint8_t *p, size_t *l)
{
	/* FILES and STRLIST have 8-byte records: only the id gives it away. */
	(void)l;
	gw_put_u32le(secp(p, GW_BLOB_FILES) + GW_BLOB_SEC_ID, GW_BLOB_STRLIST);
}
static void c_sec_missing(uint8_t *p, size_t *l) { (void)l; gw_put_u32le(secp(p, GW_BLOB_POLREFS) + GW_BLOB_SEC_ID, 99); }
static void c_trailing(uint8_t *p, size_t *l) { p[*l] = 0; (*l)++; }
static void c_trailer(uint8_t *p, size_t *l) { p[*l - 1] = 'X'; }

/* default: routes 0 /health, 2 /api/echo, 3 /api/hello, 8 /api/users/{id};
 * node 0 root with edges 0..3, node 9 "users" -> param child 12. */
static void c_str_off(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_ROUTES, 0, GW_BLOB_ROUTE_PATTERN, sec_field(p, GW_BLOB_STRS, GW_BLOB_SEC_COUNT)); }
static void c_str_len(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_ROUTES, 0, GW_BLOB_ROUTE_PATTERN + 4, 0xFFFFFFFF); }
static void c_str_nonul(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_ROUTES, 0, GW_BLOB_ROUTE_PATTERN + 4, 8); }
static void c_polref(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_POLREFS, 0, 0, 9); }
static void c_polrange(uint8_t *p, size_t *l) { (void)l; A32(p, 2, GW_BLOB_RATTR_POL_FIRST, 0xFFFFFFFF); }
static void c_host(uint8_t *p, size_t *l) { (void)l; A32(p, 0, GW_BLOB_RATTR_HOST, 1); }
static void c_handler(uint8_t *p, size_t *l) { (void)l; A8(p, 0, GW_BLOB_RATTR_HANDLER, 9); }
static void c_methods0(uint8_t *p, size_t *l) { (void)l; A16(p, 0, GW_BLOB_RATTR_METHODS, 0); }
static void c_methods80(uint8_t *p, size_t *l) { (void)l; A16(p, 0, GW_BLOB_RATTR_METHODS, 0x81); }
static void c_respond(uint8_t *p, size_t *l) { (void)l; A32(p, 3, GW_BLOB_RATTR_HANDLER_INDEX, 50); }
static void c_hindex(uint8_t *p, size_t *l) { (void)l; A32(p, 0, GW_BLOB_RATTR_HANDLER_INDEX, 1); }
static void c_nparams(uint8_t *p, size_t *l) { (void)l; A8(p, 8, GW_BLOB_RATTR_NPARAMS, 33); }
static void c_tplparam(uint8_t *p, size_t *l) { (void)l; A8(p, 8, GW_BLOB_RATTR_NPARAMS, 0); }
static void c_attrs(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_ROUTES, 0, GW_BLOB_ROUTE_ATTRS, 50); }
static void c_pattern(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_ROUTES, 0, GW_BLOB_ROUTE_PATTERN, 0); P32(p, GW_BLOB_ROUTES, 0, GW_BLOB_ROUTE_PATTERN + 4, 0); }
static void c_bodynone(uint8_t *p, size_t *l)
{
	(void)l; /* the echo route's body-1m: none */
	gw_put_u64le(recp(p, GW_BLOB_BODYLIMITS, 0) + GW_BLOB_BODYLIMIT_BYTES, GW_BODY_LIMIT_NONE);
}
static void c_reserved(uint8_t *p, size_t *l) { (void)l; A8(p, 0, GW_BLOB_RATTR_RESERVED, 1); }
static void c_ws_enum(uint8_t *p, size_t *l) { (void)l; A8(p, 0, GW_BLOB_RATTR_WEBSOCKET, 2); }
static void c_ws_route(uint8_t *p, size_t *l) { (void)l; A8(p, 0, GW_BLOB_RATTR_WEBSOCKET, 1); }
static void c_place(uint8_t *p, size_t *l) { (void)l; P16(p, GW_BLOB_ROUTES, 0, GW_BLOB_ROUTE_PLACE + GW_BLOB_PLACE_FILE, 5); }
static void c_cycle(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_EDGES, 0, GW_BLOB_EDGE_CHILD, 0); }
static void c_backedge(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_EDGES, 4, GW_BLOB_EDGE_CHILD, 1); }
static void c_param_self(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_NODES, 9, GW_BLOB_NODE_PARAM_CHILD, 9); }
static void c_param_range(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_NODES, 9, GW_BLOB_NODE_PARAM_CHILD, 13); }
static void c_edge_child(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_EDGES, 0, GW_BLOB_EDGE_CHILD, 99); }
static void c_edge_label(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_EDGES, 0, GW_BLOB_EDGE_LABEL, 0xFFFFFFF0u); }
static void c_edge_empty(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_EDGES, 0, GW_BLOB_EDGE_LABEL + 4, 0); }
/* Key and label move together, so that only the order is wrong. */
static void c_edge_swap(uint8_t *p, size_t *l)
{
	uint8_t a[GW_BLOB_EDGE_CHILD];

	(void)l;
	memcpy(a, recp(p, GW_BLOB_EDGES, 0), sizeof a);
	memcpy(recp(p, GW_BLOB_EDGES, 0), recp(p, GW_BLOB_EDGES, 1), sizeof a);
	memcpy(recp(p, GW_BLOB_EDGES, 1), a, sizeof a);
}
static void c_edge_dup(uint8_t *p, size_t *l)
{
	(void)l;
	memcpy(recp(p, GW_BLOB_EDGES, 1), recp(p, GW_BLOB_EDGES, 0), GW_BLOB_EDGE_CHILD);
}
/* Keys that are not the label's: a matcher trusting them would go astray. */
static void c_edge_key(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_EDGES, 0, GW_BLOB_EDGE_KEY + 1, 'q'); }
static void c_edge_key_pad(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_EDGES, 0, GW_BLOB_EDGE_KEY + 7, 'q'); }
static void c_node_edges(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_NODES, 1, GW_BLOB_NODE_LIT_FIRST, 0xFFFFFFFF); }
static void c_node_edges_back(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_NODES, 0, GW_BLOB_NODE_LIT_FIRST, 5); }
/* An edge that says its child's edges start elsewhere: a matcher would
 * prefetch the wrong place, and nothing else, but the record lies. */
static void c_edge_child_edges(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_EDGES, 0, GW_BLOB_EDGE_CHILD_EDGES, 9); }
/* A method mask that hides a route, or names one there is not. */
static void c_node_term_mask(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_NODES, 12, GW_BLOB_NODE_TERM_METHODS, GW_M_POST); }
static void c_node_wild_mask(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_NODES, 12, GW_BLOB_NODE_WILD_METHODS, GW_M_GET); }
static void c_node_routes(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_NODES, 12, GW_BLOB_NODE_TERM_COUNT, 255); }
static void c_host_root(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_HOSTS, 0, GW_BLOB_HOST_ROOT, 13); }
static void c_tpl_kind(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_TPLS, 0, GW_BLOB_TPL_KIND, 9); }
static void c_tpl_mode(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_TPLS, 0, GW_BLOB_TPL_MODE, 3); }
static void c_set_conns(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_SETTINGS, 0, GW_BLOB_SET_MAX_CONNS, 0); }
static void c_set_cookie(uint8_t *p, size_t *l)
{
	(void)l;
	P32(p, GW_BLOB_SETTINGS, 0, GW_BLOB_SET_SESSION_COOKIE, 0);
	P32(p, GW_BLOB_SETTINGS, 0, GW_BLOB_SET_SESSION_COOKIE + 4, 0);
}
static void c_set_trusted(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_SETTINGS, 0, GW_BLOB_SET_TRUSTED_COUNT, 1); }
static void c_rl_period(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_RATELIMITS, 1, GW_BLOB_RL_PERIOD_MS, 0); }
static void c_rl_key(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_RATELIMITS, 1, GW_BLOB_RL_KEY, 0); }
static void c_rl_headers(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_RATELIMITS, 1, GW_BLOB_RL_HEADERS, 3); }
static void c_rl_scope(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_RATELIMITS, 1, GW_BLOB_RL_SCOPE, 2); }
static void c_rl_onerr(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_RATELIMITS, 1, GW_BLOB_RL_ONERR, 2); }
static void c_pol_kind(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_POLICIES, 0, GW_BLOB_POLICY_KIND, 7); }
static void c_pol_count(uint8_t *p, size_t *l) { (void)l; P16(p, GW_BLOB_POLICIES, 0, GW_BLOB_POLICY_COUNT, 0); }
static void c_pol_index(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_POLICIES, 3, GW_BLOB_POLICY_INDEX, 1); }
static void c_up_tgt0(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_UPSTREAMS, 0, GW_BLOB_UP_TGT_COUNT, 0); }
static void c_up_balance(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_UPSTREAMS, 0, GW_BLOB_UP_BALANCE, 4); }
static void c_tgt_port(uint8_t *p, size_t *l) { (void)l; P16(p, GW_BLOB_TARGETS, 0, GW_BLOB_TGT_PORT, 0); }
static void c_proxy_up(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_PROXIES, 0, GW_BLOB_PROXY_UPSTREAM, 1); }
static void c_resp_status(uint8_t *p, size_t *l) { (void)l; P16(p, GW_BLOB_RESPONDS, 0, GW_BLOB_RESPOND_STATUS, 600); }
static void c_resp_body(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_RESPONDS, 0, GW_BLOB_RESPOND_BODY_COUNT, 0x7FFFFFFF); }

/* full: hosts 1 api.example.com, 2 www.example.com; node 3 "me" holds
 * routes 2 (GET) and 3 (POST); route 4 is /u/{id}/x/<star> (1 param); cidr 0 is
 * 10.0.0.0/8. */
static void c_hosts_unsorted(uint8_t *p, size_t *l)
{
	uint8_t a[8];

	(void)l;
	memcpy(a, recp(p, GW_BLOB_HOSTS, 1), 8);
	memcpy(recp(p, GW_BLOB_HOSTS, 1), recp(p, GW_BLOB_HOSTS, 2), 8);
	memcpy(recp(p, GW_BLOB_HOSTS, 2), a, 8);
}
static void c_host0(uint8_t *p, size_t *l) { (void)l; memcpy(recp(p, GW_BLOB_HOSTS, 0), recp(p, GW_BLOB_HOSTS, 1), 8); }
static void c_host_upper(uint8_t *p, size_t *l)
{
	(void)l;
	p[sec_field(p, GW_BLOB_STRS, GW_BLOB_SEC_OFFSET) +
	  gw_get_u32le(recp(p, GW_BLOB_HOSTS, 1))] = 'A';
}
static void c_group(uint8_t *p, size_t *l) { (void)l; A16(p, 3, GW_BLOB_RATTR_METHODS, GW_M_GET); }
static void c_cidr_family(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_CIDRS, 0, GW_BLOB_CIDR_FAMILY, 5); }
static void c_cidr_prefix(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_CIDRS, 0, GW_BLOB_CIDR_PREFIX, 33); }
static void c_cidr_bits(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_CIDRS, 0, GW_BLOB_CIDR_ADDR + 1, 1); }
static void c_cors_cred(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_CORS, 0, GW_BLOB_CORS_CREDENTIALS, 2); }
static void c_auth_type(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_AUTHS, 0, GW_BLOB_AUTH_TYPE, 4); }
static void c_ws_max0(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_UPWS, 0, GW_BLOB_UPWS_MAX, 0); }
static void c_ws_max_big(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_UPWS, 1, GW_BLOB_UPWS_MAX, 65536); }
static void c_ws_up(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_UPWS, 0, GW_BLOB_UPWS_UPSTREAM, 9); }
static void c_ws_order(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_UPWS, 1, GW_BLOB_UPWS_UPSTREAM, 0); }
static void c_tls_verify(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_UPTLS, 0, GW_BLOB_UPTLS_VERIFY, 2); }
static void c_tls_flag(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_UPSTREAMS, 0, GW_BLOB_UP_FLAGS, GW_BLOB_UPF_TLS); }
static void c_tls_noflag(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_UPSTREAMS, 1, GW_BLOB_UP_FLAGS, 0); }
static void c_tls_flags(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_UPSTREAMS, 0, GW_BLOB_UP_FLAGS, 0x80); }
static void c_tls_shift(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_UPSTREAMS, 0, GW_BLOB_UP_BUFFER_SHIFT, 14); }
static void c_tls_up(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_UPTLS, 0, GW_BLOB_UPTLS_UPSTREAM, 9); }
static void c_tls_nokey(uint8_t *p, size_t *l)
{
	(void)l;
	P32(p, GW_BLOB_UPTLS, 0, GW_BLOB_UPTLS_KEY, 0); /* "": offset 0 of STRS */
	P32(p, GW_BLOB_UPTLS, 0, GW_BLOB_UPTLS_KEY + 4, 0);
}
static void c_tls_relative(uint8_t *p, size_t *l)
{
	(void)l;
	/* the CA path one byte shorter from the front: "etc/gw/ca.pem" */
	P32(p, GW_BLOB_UPTLS, 0, GW_BLOB_UPTLS_CA_FILE,
	    gw_get_u32le(recp(p, GW_BLOB_UPTLS, 0) + GW_BLOB_UPTLS_CA_FILE) + 1);
	P32(p, GW_BLOB_UPTLS, 0, GW_BLOB_UPTLS_CA_FILE + 4,
	    gw_get_u32le(recp(p, GW_BLOB_UPTLS, 0) + GW_BLOB_UPTLS_CA_FILE + 4) - 1);
}
static void c_tls_name(uint8_t *p, size_t *l)
{
	(void)l;
	/* server_name pointing at the CA path: '/' is no DNS name byte */
	memcpy(recp(p, GW_BLOB_UPTLS, 0) + GW_BLOB_UPTLS_SERVER_NAME,
	       recp(p, GW_BLOB_UPTLS, 0) + GW_BLOB_UPTLS_CA_FILE, 8);
}

/* Upstreams' WebSocket caps through the writer and the decoders; a blob
 * without one has no UPWS section (fx_full in test_roundtrip_tls). */
static void test_roundtrip_ws(void)
{
	struct gw_blob *b = NULL;
	struct gw_upstream u;
	struct fx f;
	uint8_t *p;
	size_t len;

	fx_ws(&f);
	p = write_fx(&f, &len);
	CU_ASSERT_FATAL(p && gw_blob_open_mem(p, len, &b, NULL, 0) == GW_OK);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_UPWS), 2);
	CU_ASSERT_FATAL(gw_blob_upstream(b, 0, &u) == 0);
	CU_ASSERT_EQUAL(u.max_websockets, 7);
	CU_ASSERT_FATAL(gw_blob_upstream(b, 1, &u) == 0);
	CU_ASSERT_EQUAL(u.max_websockets, 65535);
	gw_blob_close(b);
	free(p);
	fx_free(&f);
	fx_full(&f);
	f.c.upstreams.v[1].max_websockets = 3;
	p = write_fx(&f, &len);
	CU_ASSERT_FATAL(p && gw_blob_open_mem(p, len, &b, NULL, 0) == GW_OK);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_UPWS), 1);
	CU_ASSERT_FATAL(gw_blob_upstream(b, 0, &u) == 0);
	CU_ASSERT_EQUAL(u.max_websockets, 0);
	CU_ASSERT_FATAL(gw_blob_upstream(b, 1, &u) == 0);
	CU_ASSERT_EQUAL(u.max_websockets, 3);
	gw_blob_close(b);
	free(p);
	fx_free(&f);
}

/* An upstream's tls and buffer through the writer and the decoders; a blob
 * without tls has no UPTLS section at all. */
static void test_roundtrip_tls(void)
{
	struct gw_blob *b = NULL;
	struct gw_upstream u;
	struct gw_uptls t;
	struct fx f;
	uint8_t *p;
	size_t len;

	fx_tls(&f);
	p = write_fx(&f, &len);
	CU_ASSERT_FATAL(p && gw_blob_open_mem(p, len, &b, NULL, 0) == GW_OK);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_UPTLS), 1);
	CU_ASSERT_FATAL(gw_blob_upstream(b, 0, &u) == 0);
	CU_ASSERT(u.tls == GW_NONE && u.buffer == 0);
	CU_ASSERT_FATAL(gw_blob_upstream(b, 1, &u) == 0);
	CU_ASSERT(u.tls == 0 && u.buffer == 1024 * 1024);
	CU_ASSERT_FATAL(gw_blob_uptls(b, 0, &t) == 0);
	CU_ASSERT(t.upstream == 1 && t.verify == 1 && cstr_eq(t.server_name, f.c.uptls.v[0].server_name) &&
		  cstr_eq(t.ca_file, f.c.uptls.v[0].ca_file) && cstr_eq(t.cert, f.c.uptls.v[0].cert) &&
		  cstr_eq(t.key, f.c.uptls.v[0].key) && place_eq(t.place, f.c.uptls.v[0].place));
	CU_ASSERT(gw_blob_uptls(b, 1, &t) == -1);
	CU_ASSERT(gw_blob_uptls(b, GW_NONE, &t) == -1);
	gw_blob_close(b);
	free(p);
	fx_free(&f);
	fx_full(&f);
	p = write_fx(&f, &len);
	CU_ASSERT(p && gw_get_u32le(p + GW_BLOB_HDR_SECTION_COUNT) == GW_BLOB_FIRST_SPARSE);
	free(p);
	fx_free(&f);
}

static void c_jwt_orphan(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_AUTHS, 2, GW_BLOB_AUTH_TYPE, 1); }
static void c_jwt_auth(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_JWTS, 0, GW_BLOB_JWT_AUTH, 7); }
static void c_jwt_jwt2(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_AUTHS, 0, GW_BLOB_AUTH_TYPE, 3); }
static void c_jwt_algs(uint8_t *p, size_t *l) { (void)l; gw_put_u16le(recp(p, GW_BLOB_JWTS, 0) + GW_BLOB_JWT_ALGS, 0x1000); }
static void c_jwt_noalg(uint8_t *p, size_t *l) { (void)l; gw_put_u16le(recp(p, GW_BLOB_JWTS, 0) + GW_BLOB_JWT_ALGS, 0); }
static void c_jwt_flag(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_JWTS, 0, GW_BLOB_JWT_FORWARD_AUTH, 2); }
static void c_jwt_keys(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_JWTS, 0, GW_BLOB_JWT_KEY_FIRST + 4, 2); }
static void c_jwt_aud(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_JWTS, 0, GW_BLOB_JWT_AUD_FIRST, 0xFFFFFFF0u); }
static void c_jwt_refresh(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_JWTS, 0, GW_BLOB_JWT_REFRESH_MIN_S, 7200); }
static void c_jwt_issuer(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_JWTS, 0, GW_BLOB_JWT_ISSUER + 4, 0xFFFFFFF0u); }
static void c_jwt_hdrname(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_JWTS, 0, GW_BLOB_JWT_HDR_FIRST, 0); }
static void c_jwk_kty(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_JWKEYS, 0, GW_BLOB_JWK_KTY, 5); }
static void c_jwk_crv(uint8_t *p, size_t *l) { (void)l; P8(p, GW_BLOB_JWKEYS, 0, GW_BLOB_JWK_CRV, GW_CRV_P256); }
static void c_jwk_confusion(uint8_t *p, size_t *l) { (void)l; gw_put_u16le(recp(p, GW_BLOB_JWKEYS, 0) + GW_BLOB_JWK_ALGS, GW_JWA_EDDSA | GW_JWA_HS256); }
static void c_jwk_b(uint8_t *p, size_t *l) { (void)l; memcpy(recp(p, GW_BLOB_JWKEYS, 0) + GW_BLOB_JWK_B, recp(p, GW_BLOB_JWKEYS, 0) + GW_BLOB_JWK_A, 8); }
static void c_jwk_alpha(uint8_t *p, size_t *l) { (void)l; memcpy(recp(p, GW_BLOB_JWKEYS, 0) + GW_BLOB_JWK_A, recp(p, GW_BLOB_JWTS, 0) + GW_BLOB_JWT_JWKS_URL, 8); }
static void c_hdrpol(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_HDRPOLS, 0, GW_BLOB_HDRPOL_RESP_DEL_COUNT, 40); }
static void c_ipf(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_IPFILTERS, 0, GW_BLOB_IPF_DENY_FIRST, 4); }
static void c_full_tplparam(uint8_t *p, size_t *l) { (void)l; A8(p, 4, GW_BLOB_RATTR_NPARAMS, 0); }
static void c_tpl_param40(uint8_t *p, size_t *l)
{
	(void)l;
	for (uint32_t i = 0; i < sec_field(p, GW_BLOB_TPLS, GW_BLOB_SEC_COUNT); i++)
		if (recp(p, GW_BLOB_TPLS, i)[GW_BLOB_TPL_KIND] == GW_TPL_PARAM)
			P16(p, GW_BLOB_TPLS, i, GW_BLOB_TPL_PARAM, 40);
}

/* fx_wide40: node 1 ("r") has edges 1..40, so EHASH holds them all. */
static uint32_t ehash_count(uint8_t *p) { return sec_field(p, GW_BLOB_EHASH, GW_BLOB_SEC_COUNT); }
/* The slot holding edge <e>, or the count when none does. */
static uint32_t ehash_find(uint8_t *p, uint32_t e)
{
	uint32_t n = ehash_count(p), i;

	for (i = 0; i < n && gw_get_u32le(recp(p, GW_BLOB_EHASH, i)) != e; i++)
		;
	return i;
}
/* Edge 7 taken out of the table: the matcher would answer 404 for it. */
static void c_ehash_missing(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_EHASH, ehash_find(p, 7), 0, GW_NONE); }
static void c_ehash_range(uint8_t *p, size_t *l) { (void)l; P32(p, GW_BLOB_EHASH, ehash_find(p, GW_NONE), 0, 4000); }
/* 3 slots: a table the home slot's mask cannot index. */
static void c_ehash_pow2(uint8_t *p, size_t *l)
{
	(void)l;
	gw_put_u32le(secp(p, GW_BLOB_EHASH) + GW_BLOB_SEC_COUNT, 3);
	gw_put_u32le(secp(p, GW_BLOB_EHASH) + GW_BLOB_SEC_SIZE, 3 * GW_BLOB_EHASH_SIZE);
}
static void c_ehash_gone(uint8_t *p, size_t *l)
{
	(void)l;
	gw_put_u32le(secp(p, GW_BLOB_EHASH) + GW_BLOB_SEC_COUNT, 0);
	gw_put_u32le(secp(p, GW_BLOB_EHASH) + GW_BLOB_SEC_SIZE, 0);
}
/* Every slot holds edge 1 (node 1's first): the probes for edge 2 never
 * meet an empty slot, and stop after GW_BLOB_HASH_PROBES all the same. */
static void c_ehash_full(uint8_t *p, size_t *l)
{
	(void)l;
	for (uint32_t i = 0; i < ehash_count(p); i++)
		if (gw_get_u32le(recp(p, GW_BLOB_EHASH, i)) != 7)
			P32(p, GW_BLOB_EHASH, i, 0, 1);
	P32(p, GW_BLOB_EHASH, ehash_find(p, 7), 0, 1);
}

/* 33 nested {param} segments: a matcher's parameter array holds 32. */
static void fx_deep(struct fx *f)
{
	char pat[33 * 4 + 1];
	const uint32_t none[] = { GW_NONE };

	fx_init(f);
	for (int i = 0; i < 33; i++)
		memcpy(pat + 4 * i, "/{p}", 4);
	pat[33 * 4] = '\0';
	fx_route(f, GW_M_GET, 0, fx_fmt(f, "%s", pat).p, GW_H_HEALTH, 0, none, fx_at(0, 0, 0));
	fx_trie(f);
}
/* The route's own count is fine (32): only the walk is too deep. */
static void c_deep(uint8_t *p, size_t *l) { (void)l; A8(p, 0, GW_BLOB_RATTR_NPARAMS, 32); }
static void c_truncate(uint8_t *p, size_t *l) { (void)p; *l = 1000; }
static void c_flip(uint8_t *p, size_t *l) { (void)l; p[1000] ^= 0x10; }

static const struct corruption cases[] = {
	{ "truncated", fx_default, c_truncate, GW_ETRUNC, "header says 2464 bytes, the file has 1000", "truncated.blob", 1 },
	{ "byte flipped", fx_default, c_flip, GW_ECHECKSUM, "stored crc32c", "checksum.blob", 1 },
	{ "read version 0", fx_default, c_rv0, GW_ECORRUPT, "read version 0", NULL, 0 },
	{ "read version 4", fx_default, c_rv4, GW_EVERSION, "read version 4, this reader knows up to 3", "version-4.blob", 1 },
	{ "read version 1", fx_default, c_rv1, GW_EVERSION, "read version 1, an older format: compile the routes again", "version-1.blob", 0 },
	{ "read version 2", fx_default, c_rv2, GW_EVERSION, "read version 2, an older format: compile the routes again", NULL, 0 },
	{ "unknown flag", fx_default, c_flags, GW_EVERSION, "flags 0x1 unknown", NULL, 0 },
	{ "header size < 64", fx_default, c_hsize_small, GW_ECORRUPT, "header size 60 invalid", NULL, 0 },
	{ "header size past end", fx_default, c_hsize_big, GW_ECORRUPT, "header size 1048576 invalid", NULL, 0 },
	{ "65 sections", fx_default, c_nsec_65, GW_ECORRUPT, "65 sections, more than 64", NULL, 0 },
	{ "2^28 sections", fx_default, c_nsec_huge, GW_ECORRUPT, "more than 64", NULL, 0 },
	{ "table over data", fx_default, c_nsec_over, GW_ECORRUPT, "section 0 (STRS): bytes 496+", NULL, 0 },
	{ "section past end", fx_default, c_sec_past_end, GW_ECORRUPT, "section 5 (ROUTES): bytes", NULL, 0 },
	{ "section size 4G", fx_default, c_sec_size_huge, GW_ECORRUPT, "section 0 (STRS): bytes 496+4294967288 outside", NULL, 0 },
	{ "section misaligned", fx_default, c_sec_misaligned, GW_ECORRUPT, "section 3 (NODES): offset", NULL, 0 },
	{ "sections overlap", fx_default, c_sec_overlap, GW_ECORRUPT, "section 5 (ROUTES) overlaps section 3 (NODES)", "sections-overlap.blob", 0 },
	{ "count != size", fx_default, c_sec_count, GW_ECORRUPT, "NODES: size 208 is not count 14 * record size 16", NULL, 0 },
	{ "count * size wraps", fx_default, c_sec_count_wrap, GW_ECORRUPT, "NODES: size 208 is not count", NULL, 0 },
	{ "section twice", fx_default, c_sec_dup, GW_ECORRUPT, "STRLIST: section present twice", NULL, 0 },
	{ "section missing", fx_default, c_sec_missing, GW_ECORRUPT, "POLREFS: section missing", NULL, 0 },
	{ "trailing bytes", fx_default, c_trailing, GW_ECORRUPT, "(trailing bytes)", NULL, 1 },
	{ "trailer magic", fx_default, c_trailer, GW_ECORRUPT, "trailer: end magic", NULL, 0 },
	{ "string past STRS", fx_default, c_str_off, GW_ECORRUPT, "ROUTES[0]: pattern string", NULL, 0 },
	{ "string length 4G", fx_default, c_str_len, GW_ECORRUPT, "ROUTES[0]: pattern string", NULL, 0 },
	{ "string without NUL", fx_default, c_str_nonul, GW_ECORRUPT, "ROUTES[0]: pattern string at", NULL, 0 },
	{ "empty pattern", fx_default, c_pattern, GW_ECORRUPT, "ROUTES[0]: pattern does not start with '/'", NULL, 0 },
	{ "policy ref", fx_default, c_polref, GW_ECORRUPT, "POLREFS[0]: policy 9 out of range (5 policies)", "policy-ref.blob", 0 },
	{ "route policy range", fx_default, c_polrange, GW_ECORRUPT, "RATTRS[2]: policy refs 4294967295+2 out of range", NULL, 0 },
	{ "route host", fx_default, c_host, GW_ECORRUPT, "RATTRS[0]: host 1 out of range (1 hosts)", NULL, 0 },
	{ "route handler", fx_default, c_handler, GW_ECORRUPT, "RATTRS[0]: handler 9 not in 1..8", NULL, 0 },
	{ "route methods 0", fx_default, c_methods0, GW_ECORRUPT, "RATTRS[0]: methods 0 not in 1..127", NULL, 0 },
	{ "route methods 0x81", fx_default, c_methods80, GW_ECORRUPT, "RATTRS[0]: methods 129", NULL, 0 },
	{ "route respond", fx_default, c_respond, GW_ECORRUPT, "RATTRS[3]: respond 50 out of range (2 responds)", NULL, 0 },
	{ "route handler index", fx_default, c_hindex, GW_ECORRUPT, "RATTRS[0]: handler index 1", NULL, 0 },
	{ "route nparams", fx_default, c_nparams, GW_ECORRUPT, "RATTRS[8]: nparams 33 not in 0..32", NULL, 0 },
	{ "route attributes", fx_default, c_attrs, GW_ECORRUPT, "ROUTES[0]: attributes 50 out of range (9 route attributes)", "route-attrs.blob", 0 },
	{ "template parameter", fx_default, c_tplparam, GW_ECORRUPT, "RATTRS[8]: template part", NULL, 0 },
	{ "body limit none off a proxy", fx_default, c_bodynone, GW_ECORRUPT,
	  ": body limit none (policy ", NULL, 0 },
	{ "reserved", fx_default, c_reserved, GW_ECORRUPT, "RATTRS[0]: reserved byte 0 is not zero", NULL, 0 },
	{ "websocket value", fx_default, c_ws_enum, GW_ECORRUPT, "RATTRS[0]: websocket 2 not in 0..1", NULL, 0 },
	{ "websocket off a proxy", fx_default, c_ws_route, GW_ECORRUPT,
	  "RATTRS[0]: websocket on a route that is not a GET-only proxy", NULL, 0 },
	{ "place file", fx_default, c_place, GW_ECORRUPT, "ROUTES[0]: place file 5 out of range (1 files)", NULL, 0 },
	{ "edge to root", fx_default, c_cycle, GW_ECORRUPT, "NODES[0]: edge 0 child 0 not after its parent", "edge-cycle.blob", 0 },
	{ "edge back", fx_default, c_backedge, GW_ECORRUPT, "NODES[1]: edge 4 child 1 not after its parent", NULL, 0 },
	{ "param child self", fx_default, c_param_self, GW_ECORRUPT, "NODES[9]: param child 9 not after its parent", NULL, 0 },
	{ "param child range", fx_default, c_param_range, GW_ECORRUPT, "NODES[9]: param child 13 out of range (13 nodes)", NULL, 0 },
	{ "edge child range", fx_default, c_edge_child, GW_ECORRUPT, "EDGES[0]: child 99 out of range (13 nodes)", NULL, 0 },
	{ "edge label", fx_default, c_edge_label, GW_ECORRUPT, "EDGES[0]: label string", NULL, 0 },
	{ "edge label empty", fx_default, c_edge_empty, GW_ECORRUPT, "EDGES[0]: empty label", NULL, 0 },
	{ "edge key", fx_default, c_edge_key, GW_ECORRUPT, "EDGES[0]: key byte 1 is not the label's", "edge-key.blob", 0 },
	{ "edge key padding", fx_default, c_edge_key_pad, GW_ECORRUPT, "EDGES[0]: key byte 7 is not the label's", NULL, 0 },
	{ "edge child edges", fx_default, c_edge_child_edges, GW_ECORRUPT, "EDGES[0]: child edges 9 are not NODES[1]'s", NULL, 0 },
	{ "edges unsorted", fx_default, c_edge_swap, GW_ECORRUPT, "NODES[0]: edges 0 and 1 not sorted", "edges-unsorted.blob", 0 },
	{ "edges duplicate", fx_default, c_edge_dup, GW_ECORRUPT, "NODES[0]: edges 0 and 1 not sorted or duplicate", NULL, 0 },
	{ "node edges range", fx_default, c_node_edges, GW_ECORRUPT, "NODES[0]: edges 0..4294967295 out of range (11 edges)", NULL, 0 },
	{ "node edges backwards", fx_default, c_node_edges_back, GW_ECORRUPT, "NODES[0]: first edge 5 after the next node's 4", NULL, 0 },
	{ "node term methods", fx_default, c_node_term_mask, GW_ECORRUPT, "NODES[12]: term methods 0x4 are not its routes' 0x9", "node-methods.blob", 0 },
	{ "node wild methods", fx_default, c_node_wild_mask, GW_ECORRUPT, "NODES[12]: wild methods 0x1 are not its routes' 0x0", NULL, 0 },
	{ "node routes range", fx_default, c_node_routes, GW_ECORRUPT, "NODES[12]: routes 8+255 out of range (9 routes)", NULL, 0 },
	{ "host root", fx_default, c_host_root, GW_ECORRUPT, "HOSTS[0]: root node 13 out of range", NULL, 0 },
	{ "template kind", fx_default, c_tpl_kind, GW_ECORRUPT, "TPLS[0]: kind 9 not in 1..4", NULL, 0 },
	{ "template mode", fx_default, c_tpl_mode, GW_ECORRUPT, "TPLS[0]: mode 3 not in 0..2", NULL, 0 },
	{ "settings max conns", fx_default, c_set_conns, GW_ECORRUPT, "SETTINGS[0]: max connections is 0", "settings-zero.blob", 0 },
	{ "settings cookie", fx_default, c_set_cookie, GW_ECORRUPT, "SETTINGS[0]: empty session cookie", NULL, 0 },
	{ "settings trusted", fx_default, c_set_trusted, GW_ECORRUPT, "SETTINGS[0]: trusted proxies 0+1 out of range (0 cidrs)", NULL, 0 },
	{ "rate limit period", fx_default, c_rl_period, GW_ECORRUPT, "RATELIMITS[1]: period is 0", NULL, 0 },
	{ "rate limit key", fx_default, c_rl_key, GW_ECORRUPT, "RATELIMITS[1]: key 0 not in 1..5", NULL, 0 },
	{ "rate limit headers mode", fx_default, c_rl_headers, GW_ECORRUPT, "RATELIMITS[1]: headers 3 not in 0..2", NULL, 0 },
	{ "rate limit scope", fx_default, c_rl_scope, GW_ECORRUPT, "RATELIMITS[1]: scope 2 not in 0..1", NULL, 0 },
	{ "rate limit on_store_error", fx_default, c_rl_onerr, GW_ECORRUPT, "RATELIMITS[1]: on_store_error 2 not in 0..1", NULL, 0 },
	{ "policy kind", fx_default, c_pol_kind, GW_ECORRUPT, "POLICIES[0]: kind 7 not in 1..6", NULL, 0 },
	{ "policy count", fx_default, c_pol_count, GW_ECORRUPT, "POLICIES[0]: count 0 invalid", NULL, 0 },
	{ "policy index", fx_default, c_pol_index, GW_ECORRUPT, "POLICIES[3]: records 1+1 out of range (1 body limits)", NULL, 0 },
	{ "upstream no target", fx_default, c_up_tgt0, GW_ECORRUPT, "UPSTREAMS[0]: no target", NULL, 0 },
	{ "upstream balance", fx_default, c_up_balance, GW_ECORRUPT, "UPSTREAMS[0]: balance 4 not in 1..3", NULL, 0 },
	{ "target port", fx_default, c_tgt_port, GW_ECORRUPT, "TARGETS[0]: port 0", NULL, 0 },
	{ "proxy upstream", fx_default, c_proxy_up, GW_ECORRUPT, "PROXIES[0]: upstream 1 out of range (1 upstreams)", NULL, 0 },
	{ "respond status", fx_default, c_resp_status, GW_ECORRUPT, "RESPONDS[0]: status 600 not in 100..599", NULL, 0 },
	{ "respond body", fx_default, c_resp_body, GW_ECORRUPT, "RESPONDS[0]: body 0+2147483647 out of range", NULL, 0 },
	{ "hosts unsorted", fx_full, c_hosts_unsorted, GW_ECORRUPT, "HOSTS[2]: not sorted after HOSTS[1]", NULL, 0 },
	{ "host 0 named", fx_full, c_host0, GW_ECORRUPT, "HOSTS[0]: not the empty name", NULL, 0 },
	{ "host upper-case", fx_full, c_host_upper, GW_ECORRUPT, "HOSTS[1]: not lower-case", NULL, 0 },
	{ "group shares a method", fx_full, c_group, GW_ECORRUPT, "NODES[3]: route 3 shares a method", NULL, 0 },
	{ "cidr family", fx_full, c_cidr_family, GW_ECORRUPT, "CIDRS[0]: family 5", NULL, 0 },
	{ "cidr prefix", fx_full, c_cidr_prefix, GW_ECORRUPT, "CIDRS[0]: prefix /33", NULL, 0 },
	{ "cidr host bits", fx_full, c_cidr_bits, GW_ECORRUPT, "CIDRS[0]: host bits set past /8", NULL, 0 },
	{ "cors credentials", fx_full, c_cors_cred, GW_ECORRUPT, "CORS[0]: credentials 2 not in 0..1", NULL, 0 },
	{ "auth type", fx_full, c_auth_type, GW_ECORRUPT, "AUTHS[0]: type 4 not in 1..3", NULL, 0 },
	{ "websocket cap 0", fx_ws, c_ws_max0, GW_ECORRUPT, "UPWS[0]: max_websockets 0 not in 1..65535", NULL, 0 },
	{ "websocket cap too big", fx_ws, c_ws_max_big, GW_ECORRUPT, "UPWS[1]: max_websockets 65536 not in 1..65535", NULL, 0 },
	{ "websocket cap upstream out of range", fx_ws, c_ws_up, GW_ECORRUPT, "UPWS[0]: upstream 9 out of range", NULL, 0 },
	{ "websocket caps out of order", fx_ws, c_ws_order, GW_ECORRUPT, "UPWS[1]: upstream 0 not after the previous", NULL, 0 },
	{ "tls verify", fx_tls, c_tls_verify, GW_ECORRUPT, "UPTLS[0]: verify 2 not in 0..1", NULL, 0 },
	{ "tls flag without a record", fx_tls, c_tls_flag, GW_ECORRUPT, "UPTLS: 1 records for 2 tls upstreams", NULL, 0 },
	{ "tls record without its flag", fx_tls, c_tls_noflag, GW_ECORRUPT, "UPTLS: 1 records for 0 tls upstreams", NULL, 0 },
	{ "upstream flags unknown", fx_tls, c_tls_flags, GW_ECORRUPT, "UPSTREAMS[0]: flags 0x80 unknown", NULL, 0 },
	{ "upstream buffer too small", fx_tls, c_tls_shift, GW_ECORRUPT, "UPSTREAMS[0]: buffer 2^14 out of range", NULL, 0 },
	{ "tls upstream out of range", fx_tls, c_tls_up, GW_ECORRUPT, "UPTLS[0]: upstream 9 out of range", NULL, 0 },
	{ "tls cert without key", fx_tls, c_tls_nokey, GW_ECORRUPT, "UPTLS[0]: cert and key not both given", NULL, 0 },
	{ "tls relative path", fx_tls, c_tls_relative, GW_ECORRUPT, "UPTLS[0]: a path not absolute", NULL, 0 },
	{ "tls server name", fx_tls, c_tls_name, GW_ECORRUPT, "UPTLS[0]: server_name byte 0 invalid", NULL, 0 },
	{ "jwt record without its auth", fx_full, c_jwt_orphan, GW_ECORRUPT, "JWTS: 1 records for 0 jwt auths", NULL, 0 },
	{ "jwt auth out of range", fx_full, c_jwt_auth, GW_ECORRUPT, "JWTS[0]: auth 7 out of range", NULL, 0 },
	{ "jwt auth without a record", fx_full, c_jwt_jwt2, GW_ECORRUPT, "JWTS: 1 records for 2 jwt auths", NULL, 0 },
	{ "jwt unknown algorithm", fx_full, c_jwt_algs, GW_ECORRUPT, "JWTS[0]: algorithms 0x1000 invalid", NULL, 0 },
	{ "jwt no algorithm", fx_full, c_jwt_noalg, GW_ECORRUPT, "JWTS[0]: algorithms 0x0 invalid", NULL, 0 },
	{ "jwt flag", fx_full, c_jwt_flag, GW_ECORRUPT, "JWTS[0]: forward_auth 2 not in 0..1", NULL, 0 },
	{ "jwt keys range", fx_full, c_jwt_keys, GW_ECORRUPT, "JWTS[0]: keys 0+2 out of range (1 jwks keys)", NULL, 0 },
	{ "jwt audiences range", fx_full, c_jwt_aud, GW_ECORRUPT, "JWTS[0]: audiences 4294967280+1 out of range", NULL, 0 },
	{ "jwt refresh bounds", fx_full, c_jwt_refresh, GW_ECORRUPT, "JWTS[0]: refresh bounds invalid", NULL, 0 },
	{ "jwt issuer string", fx_full, c_jwt_issuer, GW_ECORRUPT, "JWTS[0]: issuer string", NULL, 0 },
	{ "jwt claim header name", fx_full, c_jwt_hdrname, GW_ECORRUPT, "JWTS[0]: claim header 0 invalid", NULL, 0 },
	{ "jwk type", fx_full, c_jwk_kty, GW_ECORRUPT, "JWKEYS[0]: kty 5 not in 1..4", NULL, 0 },
	{ "jwk curve of another type", fx_full, c_jwk_crv, GW_ECORRUPT, "JWKEYS[0]: curve 1 does not fit key type 3", NULL, 0 },
	{ "jwk HMAC with a public key", fx_full, c_jwk_confusion, GW_ECORRUPT, "JWKEYS[0]: algorithms 0x300 do not fit key type 3", NULL, 0 },
	{ "jwk extra parameter", fx_full, c_jwk_b, GW_ECORRUPT, "JWKEYS[0]: key parameters missing or extra", NULL, 0 },
	{ "jwk parameter alphabet", fx_full, c_jwk_alpha, GW_ECORRUPT, "JWKEYS[0]: parameter byte not base64url", NULL, 0 },
	{ "header policy range", fx_full, c_hdrpol, GW_ECORRUPT, "HDRPOLS[0]: response removals", NULL, 0 },
	{ "ip filter range", fx_full, c_ipf, GW_ECORRUPT, "IPFILTERS[0]: deny 4+1 out of range (4 cidrs)", NULL, 0 },
	{ "wild route parameter", fx_full, c_full_tplparam, GW_ECORRUPT, "RATTRS[4]: template part", NULL, 0 },
	{ "template param 40", fx_full, c_tpl_param40, GW_ECORRUPT, "param 40 not in 0..31", NULL, 0 },
	{ "hash slot emptied", fx_wide40, c_ehash_missing, GW_ECORRUPT, "NODES[1]: edge 7 not in EHASH within 64 slots", "ehash-missing.blob", 0 },
	{ "hash slot range", fx_wide40, c_ehash_range, GW_ECORRUPT, "EHASH[", NULL, 0 },
	{ "hash slots not 2^k", fx_wide40, c_ehash_pow2, GW_ECORRUPT, "EHASH: 3 slots, not a power of two", NULL, 0 },
	{ "hash table gone", fx_wide40, c_ehash_gone, GW_ECORRUPT, "NODES[1]: 40 edges, and no EHASH table", NULL, 0 },
	{ "hash table full", fx_wide40, c_ehash_full, GW_ECORRUPT, "NODES[1]: edge 2 not in EHASH within 64 slots", NULL, 0 },
	{ "33 parameters deep", fx_deep, c_deep, GW_ECORRUPT, "more than 32 {param} steps deep", "params-too-deep.blob", 0 },
};

/* Build the base blob of <c> and apply its corruption; <*len> gets the size.
 * The buffer has one spare byte (for c_trailing).  NULL when the base cannot
 * be written (a test failure). */
static uint8_t *corrupt(const struct corruption *c, size_t *len)
{
	struct fx f;
	uint8_t *p, *q;

	c->build(&f);
	p = write_fx(&f, len);
	fx_free(&f);
	if (!p)
		return NULL;
	q = realloc(p, *len + 1);
	if (!q) {
		free(p);
		return NULL;
	}
	c->apply(q, len);
	if (!c->keep_crc)
		fix_crc(q, *len);
	return q;
}

static void test_structural(void)
{
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		size_t len;
		uint8_t *p = corrupt(&cases[k], &len);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		expect(cases[k].name, p, len, cases[k].code, cases[k].why);
		free(p);
	}
}

/* ---- files ----------------------------------------------------------------- */

static char tmpdir[64];

static int suite_init(void)
{
	strcpy(tmpdir, "/tmp/gwblob.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_write_file(void)
{
	char path[128], tmp[140], why[256];
	struct gw_blob *b = NULL;
	struct stat st;
	struct fx f;
	uint8_t *p;
	size_t len;
	int rc;

	fx_full(&f);
	snprintf(path, sizeof path, "%s/out.gwb", tmpdir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	CU_ASSERT_EQUAL(gw_blob_write(&f.c, &f.t, path), GW_OK);
	CU_ASSERT(stat(tmp, &st) != 0 && errno == ENOENT);
	rc = gw_blob_open(path, &b, why, sizeof why);
	CU_ASSERT_EQUAL_FATAL(rc, GW_OK);
	p = write_fx(&f, &len);
	CU_ASSERT(p && gw_blob_size(b) == len);
	check_roundtrip(&f, b);
	gw_blob_close(b);
	free(p);

	/* Rewriting over an existing blob replaces it whole. */
	fx_free(&f);
	fx_default(&f);
	CU_ASSERT_EQUAL(gw_blob_write(&f.c, &f.t, path), GW_OK);
	CU_ASSERT_EQUAL_FATAL(gw_blob_open(path, &b, why, sizeof why), GW_OK);
	check_roundtrip(&f, b);
	gw_blob_close(b);

	/* A trie that breaks the format is refused before anything is
	 * published: the old file stays, no .tmp is left. */
	{
		struct gw_trie_edge e = f.t.edges[0];

		f.t.edges[0] = f.t.edges[1];
		f.t.edges[1] = e;
		CU_ASSERT_EQUAL(gw_blob_write(&f.c, &f.t, path), GW_ECORRUPT);
		CU_ASSERT(stat(tmp, &st) != 0 && errno == ENOENT);
		CU_ASSERT_EQUAL(gw_blob_open(path, &b, why, sizeof why), GW_OK);
		gw_blob_close(b);
		f.t.edges[1] = f.t.edges[0];
		f.t.edges[0] = e;
	}
	snprintf(path, sizeof path, "%s/no/such/dir.gwb", tmpdir);
	errno = 0;
	CU_ASSERT_EQUAL(gw_blob_write(&f.c, &f.t, path), GW_EIO);
	CU_ASSERT_EQUAL(errno, ENOENT);
	fx_free(&f);
}

static void test_open_files(void)
{
	char path[128], why[256];
	struct gw_blob *b = (struct gw_blob *)1;
	int fd;

	snprintf(path, sizeof path, "%s/missing.gwb", tmpdir);
	errno = 0;
	CU_ASSERT_EQUAL(gw_blob_open(path, &b, why, sizeof why), GW_EIO);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT(strstr(why, "cannot open") != NULL);

	CU_ASSERT_EQUAL(gw_blob_open(tmpdir, &b, why, sizeof why), GW_EIO);
	CU_ASSERT_EQUAL(errno, EISDIR);
	CU_ASSERT_STRING_EQUAL(why, "is a directory");

	snprintf(path, sizeof path, "%s/empty.gwb", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(gw_blob_open(path, &b, why, sizeof why), GW_ETRUNC);
	CU_ASSERT_STRING_EQUAL(why, "empty file");

	snprintf(path, sizeof path, "%s/text.gwb", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "version: 1\n", 11), 11);
	close(fd);
	CU_ASSERT_EQUAL(gw_blob_open(path, &b, why, sizeof why), GW_EMAGIC);

	/* A FIFO with no writer: refused at once, not waited on. */
	snprintf(path, sizeof path, "%s/fifo", tmpdir);
	CU_ASSERT_FATAL(mkfifo(path, 0600) == 0);
	CU_ASSERT_EQUAL(gw_blob_open(path, &b, why, sizeof why), GW_EIO);
	CU_ASSERT_STRING_EQUAL(why, "not a regular file");

	/* <why> may be NULL. */
	CU_ASSERT_EQUAL(gw_blob_open(tmpdir, &b, NULL, 0), GW_EIO);
	CU_ASSERT_PTR_NULL(b);
}

/* Inputs the writer cannot encode are refused, not read past. */
static void test_write_refuses(void)
{
	struct fx f;
	uint8_t *p = (uint8_t *)1;
	size_t len = 1;
	uint32_t saved;

	fx_default(&f);
	f.c.responds.v[0].body_count = 1000;
	CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_ECORRUPT);
	CU_ASSERT(p == NULL && len == 0);
	f.c.responds.v[0].body_count = 4;

	saved = f.t.order[1];
	f.t.order[1] = f.t.order[0];
	CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_ECORRUPT);
	f.t.order[1] = 1000;
	CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_ECORRUPT);
	f.t.order[1] = saved;

	f.t.nroutes--;
	CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_ECORRUPT);
	f.t.nroutes++;

	f.c.routes.v[2].handler_index = 7; /* a RESPOND route, 2 responds */
	CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_ECORRUPT);
	f.c.routes.v[2].handler_index = 0;

	/* A proxy index past the proxies: remapping it would read outside. */
	for (uint32_t i = 0; i < f.c.routes.n; i++)
		if (f.c.routes.v[i].handler == GW_H_PROXY) {
			saved = f.c.routes.v[i].handler_index;
			f.c.routes.v[i].handler_index = f.c.proxies.n;
			CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_ECORRUPT);
			f.c.routes.v[i].handler_index = saved;
			break;
		}

	/* A node whose edges do not follow its predecessor's: NODES keeps no
	 * count, so such a trie cannot be written. */
	f.t.nodes[0].lit_count--;
	CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_ECORRUPT);
	f.t.nodes[0].lit_count++;
	CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_OK);
	free(p);
	p = NULL;

	f.c.polrefs.v[0] = 77; /* written as is: the verifier is the judge */
	CU_ASSERT_EQUAL(gw_blob_write_mem(&f.c, &f.t, &p, &len), GW_OK);
	expect("polref written as given", p, len, GW_ECORRUPT, "policy 77 out of range (5 policies)");
	free(p);
	fx_free(&f);
}

static void test_no_trie(void)
{
	struct gw_blob *b = NULL;
	struct fx f;
	uint8_t *p = NULL;
	size_t len;
	uint32_t root;
	struct gw_str h;

	fx_default(&f);
	CU_ASSERT_EQUAL_FATAL(gw_blob_write_mem(&f.c, NULL, &p, &len), GW_OK);
	CU_ASSERT_EQUAL_FATAL(gw_blob_open_mem(p, len, &b, NULL, 0), GW_OK);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_NODES), 0);
	CU_ASSERT_EQUAL(gw_blob_count(b, GW_BLOB_ROUTES), 9);
	CU_ASSERT(gw_blob_host(b, 0, &h, &root) == 0 && root == GW_NONE);
	gw_blob_close(b);
	free(p);
	fx_free(&f);
}

/* ---- the corpus of fixtures -------------------------------------------------- */

static const char *code_name(int rc)
{
	static const char *const names[] = {
		"OK", "EIO", "ENOMEM", "EMAGIC", "EVERSION", "ETRUNC", "ECHECKSUM", "ECORRUPT", "ETOOBIG",
	};
	return rc <= 0 && rc >= -8 ? names[-rc] : "?";
}

static int write_file(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(p, 1, len, f) == len;

	if (f && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* GW_GEN_CORPUS=1: write the corrupt fixtures, their EXPECTED list and the
 * fuzzer's seeds.  Run from the top of the tree. */
static void gen_corpus(void)
{
	static const struct { const char *name; void (*build)(struct fx *); } seeds[] = {
		{ "default", fx_default }, { "full", fx_full }, { "empty", fx_empty },
		{ "wide", fx_wide40 },
	};
	FILE *exp = fopen(CORPUS_DIR "/EXPECTED", "w");
	char path[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
	fprintf(exp, "# Corrupt blobs and the answer of gw_blob_open: FILE CODE MESSAGE.\n"
		     "# Written by GW_GEN_CORPUS=1 bin/unit blob (tests/lib/blob.c).\n");
	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		size_t len;
		uint8_t *p;

		if (!cases[k].fixture)
			continue;
		p = corrupt(&cases[k], &len);
		snprintf(path, sizeof path, "%s/%s", CORPUS_DIR, cases[k].fixture);
		CU_ASSERT(p && write_file(path, p, len) == 0);
		fprintf(exp, "%s %s %s\n", cases[k].fixture, code_name(cases[k].code), cases[k].why);
		free(p);
	}
	fclose(exp);
	for (size_t k = 0; k < sizeof seeds / sizeof *seeds; k++) {
		struct fx f;
		size_t len;
		uint8_t *p;

		seeds[k].build(&f);
		p = write_fx(&f, &len);
		snprintf(path, sizeof path, "%s/%s", SEED_DIR, seeds[k].name);
		CU_ASSERT(p && write_file(path, p, len) == 0);
		free(p);
		fx_free(&f);
	}
}

/* Each fixture of tests/corpus/blob/ opened from its file: the code and the
 * message EXPECTED names. */
static void test_corpus(void)
{
	FILE *exp;
	char line[512];
	unsigned n = 0;

	if (getenv("GW_GEN_CORPUS"))
		gen_corpus();
	exp = fopen(CORPUS_DIR "/EXPECTED", "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
	while (fgets(line, sizeof line, exp)) {
		char file[128], code[16], path[256], why[256] = "";
		struct gw_blob *b = NULL;
		int off = 0, rc;
		char *want;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%127s %15s %n", file, code, &off) != 2 || !off) {
			CU_FAIL("malformed EXPECTED line");
			continue;
		}
		want = line + off;
		snprintf(path, sizeof path, "%s/%s", CORPUS_DIR, file);
		rc = gw_blob_open(path, &b, why, sizeof why);
		if (strcmp(code_name(rc), code) != 0 || !strstr(why, want)) {
			fprintf(stderr, "\n%s: got %s \"%s\", want %s \"%s\"\n", file, code_name(rc),
				why, code, want);
			CU_FAIL("corpus fixture answered otherwise");
		}
		gw_blob_close(b);
		n++;
	}
	fclose(exp);
	CU_ASSERT(n >= 5);
}

int gw_suite_lib_blob(void);
int gw_suite_lib_blob(void)
{
	CU_pSuite s = CU_add_suite("lib/blob", suite_init, suite_clean);

	if (!s)
		return -1;
	if (!CU_add_test(s, "round trip: default routes", test_roundtrip_default) ||
	    !CU_add_test(s, "round trip: every table", test_roundtrip_full) ||
	    !CU_add_test(s, "round trip: upstream tls and buffer", test_roundtrip_tls) ||
	    !CU_add_test(s, "round trip: upstream websocket caps", test_roundtrip_ws) ||
	    !CU_add_test(s, "round trip: empty conf", test_roundtrip_empty) ||
	    !CU_add_test(s, "round trip: a node of 40 edges", test_roundtrip_wide) ||
	    !CU_add_test(s, "default layout", test_default_layout) ||
	    !CU_add_test(s, "accessors refuse out-of-range indexes", test_accessor_range) ||
	    !CU_add_test(s, "same conf, same bytes", test_deterministic) ||
	    !CU_add_test(s, "bytes per route", test_size_per_route) ||
	    !CU_add_test(s, "proxies and route attributes stored once", test_shared_records) ||
	    !CU_add_test(s, "truncation at every length", test_truncation) ||
	    !CU_add_test(s, "every byte flipped", test_byte_flips) ||
	    !CU_add_test(s, "structural corruption, CRC fixed", test_structural) ||
	    !CU_add_test(s, "write to a file, atomically", test_write_file) ||
	    !CU_add_test(s, "open: missing, directory, empty, text, fifo", test_open_files) ||
	    !CU_add_test(s, "writer refuses what it cannot encode", test_write_refuses) ||
	    !CU_add_test(s, "write without a trie", test_no_trie) ||
	    !CU_add_test(s, "corpus of corrupt blobs", test_corpus))
		return -1;
	return 0;
}
