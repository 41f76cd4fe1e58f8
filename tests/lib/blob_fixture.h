/* Configurations built by hand in C, with their tries, for the blob tests
 * (tests/lib/blob.c, tests/gwc/inspect.c, tests/gwc/diff.c).
 *
 * Tests of the blob must not depend on the YAML front end or on gw_trie_build
 * (written concurrently, and tested on their own), so this header builds a
 * struct gw_conf field by field and lays out its trie with a small builder
 * that follows trie.h's layout: one tree per host, nodes breadth-first so that
 * children come after their parents, edges of a node sorted by label bytes,
 * each node's terminal routes then its "*" routes, in conf order.  It checks
 * nothing about conflicts: that is gw_trie_build's job.
 *
 *   fx_default()  the route set of routes/gateway.yaml, as gwc would read it
 *   fx_full()     every table of the model used at least once
 *   fx_tls()      fx_full with an HTTPS upstream (UPTLS) and a buffer
 *   fx_simple()   <n> GET routes /r/<i> answering the same fixed response
 *
 * Everything is static (marked unused: each test file uses a part); a file
 * includes it once.  Strings are string literals or owned by the struct fx,
 * freed by fx_free().
 */
#ifndef GW_TESTS_BLOB_FIXTURE_H
#define GW_TESTS_BLOB_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/model.h"
#include "lib/trie.h"

#define FX_UNUSED __attribute__((unused))

struct fx {
	struct gw_conf c;
	struct gw_trie t;
	char **owned; /* strings to free */
	uint32_t nowned, capowned;
	int oom;
};

/* Abort the test binary: a fixture that cannot be built makes every
 * assertion after it meaningless. */
static FX_UNUSED void fx_die(const char *what)
{
	fprintf(stderr, "blob fixture: %s\n", what);
	abort();
}

#define FX_PUSH(vec) \
	(*(GW_VEC_PUSH(vec) ? &(vec).v[(vec).n++] : (fx_die("out of memory"), (vec).v)))

static FX_UNUSED struct gw_str fx_s(const char *s)
{
	struct gw_str r = { s, (uint32_t)strlen(s) };
	return r;
}

/* A printf-formatted string owned by <f>. */
__attribute__((format(printf, 2, 3)))
static FX_UNUSED struct gw_str fx_fmt(struct fx *f, const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		fx_die("out of memory");
	va_end(ap);
	if (f->nowned == f->capowned) {
		f->capowned = f->capowned ? f->capowned * 2 : 64;
		f->owned = realloc(f->owned, f->capowned * sizeof *f->owned);
		if (!f->owned)
			fx_die("out of memory");
	}
	f->owned[f->nowned++] = p;
	return fx_s(p);
}

static FX_UNUSED void fx_init(struct fx *f)
{
	memset(f, 0, sizeof *f);
	if (gw_conf_init(&f->c))
		fx_die("gw_conf_init");
	for (int i = 0; i < 32; i++)
		f->c.fingerprint[i] = (uint8_t)(0xA0 + i);
}

static FX_UNUSED void fx_free(struct fx *f)
{
	gw_conf_free(&f->c);
	free(f->t.nodes);
	free(f->t.edges);
	free(f->t.order);
	free(f->t.roots);
	for (uint32_t i = 0; i < f->nowned; i++)
		free(f->owned[i]);
	free(f->owned);
	memset(f, 0, sizeof *f);
}

static FX_UNUSED struct gw_place fx_at(uint16_t file, uint32_t line, uint16_t col)
{
	struct gw_place p = { file, col, line };
	return p;
}

/* FNV-1a 64 of <s>: a stand-in for the front end's policy identity. */
static FX_UNUSED uint64_t fx_ident(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

static FX_UNUSED uint32_t fx_file(struct fx *f, const char *name)
{
	FX_PUSH(f->c.files) = fx_s(name);
	return f->c.files.n - 1;
}

/* Hosts must be added in sorted order (the model keeps them sorted). */
static FX_UNUSED uint32_t fx_host(struct fx *f, const char *name)
{
	FX_PUSH(f->c.hosts) = fx_s(name);
	return f->c.hosts.n - 1;
}

static FX_UNUSED uint32_t fx_policy(struct fx *f, const char *name, uint8_t kind, uint16_t count,
				    uint32_t index, struct gw_place at)
{
	struct gw_policy *p = &FX_PUSH(f->c.policies);

	p->name = fx_s(name);
	p->kind = kind;
	p->count = count;
	p->index = index;
	p->ident = fx_ident(name);
	p->place = at;
	return f->c.policies.n - 1;
}

static FX_UNUSED uint32_t fx_ratelimit(struct fx *f, const char *name, uint32_t quota,
				       uint32_t period_ms, uint32_t burst, uint8_t key,
				       const char *header)
{
	struct gw_ratelimit *r = &FX_PUSH(f->c.ratelimits);

	r->name = fx_s(name);
	r->key = key;
	r->header = fx_s(header ? header : "");
	r->quota = quota;
	r->period_ms = period_ms;
	r->burst = burst;
	r->max_keys = 100000;
	return f->c.ratelimits.n - 1;
}

/* A rate-limit policy with one limit named after it. */
static FX_UNUSED uint32_t fx_rl_policy(struct fx *f, const char *name, uint32_t quota,
				       uint32_t period_ms, uint32_t burst, struct gw_place at)
{
	uint32_t rl = fx_ratelimit(f, name, quota, period_ms, burst, GW_RLK_IP, NULL);

	return fx_policy(f, name, GW_P_RATE_LIMIT, 1, rl, at);
}

static FX_UNUSED uint32_t fx_tpl(struct fx *f, uint8_t kind, uint8_t mode, uint16_t param,
				 const char *text, const char *alt)
{
	struct gw_tpl *t = &FX_PUSH(f->c.tpls);

	t->kind = kind;
	t->mode = mode;
	t->param = param;
	t->text = fx_s(text ? text : "");
	t->alt = fx_s(alt ? alt : "");
	return f->c.tpls.n - 1;
}

static FX_UNUSED uint32_t fx_header(struct fx *f, const char *name, const char *value)
{
	struct gw_header *h = &FX_PUSH(f->c.headers);

	h->name = fx_s(name);
	h->value = fx_s(value);
	return f->c.headers.n - 1;
}

/* A respond record whose body is the template parts <body_first>.. added just
 * before, with one Content-Type header when <ctype> is not NULL. */
static FX_UNUSED uint32_t fx_respond(struct fx *f, uint16_t status, const char *ctype,
				     uint32_t body_first, uint32_t body_count)
{
	struct gw_respond r = { 0 };

	r.status = status;
	if (ctype) {
		r.hdr_first = fx_header(f, "Content-Type", ctype);
		r.hdr_count = 1;
	}
	r.body_first = body_first;
	r.body_count = body_count;
	FX_PUSH(f->c.responds) = r;
	return f->c.responds.n - 1;
}

static FX_UNUSED uint32_t fx_proxy(struct fx *f, uint32_t upstream, uint32_t rw_first,
				   uint32_t rw_count, const char *strip)
{
	struct gw_proxy *p = &FX_PUSH(f->c.proxies);

	p->upstream = upstream;
	p->rewrite_first = rw_first;
	p->rewrite_count = rw_count;
	p->strip_prefix = fx_s(strip ? strip : "");
	return f->c.proxies.n - 1;
}

static FX_UNUSED uint32_t fx_target(struct fx *f, const char *host, uint16_t port, uint32_t weight)
{
	struct gw_target *t = &FX_PUSH(f->c.targets);

	t->host = fx_s(host);
	t->port = port;
	t->weight = weight;
	return f->c.targets.n - 1;
}

/* An upstream with the defaults of docs/routes.md and the targets added just
 * before it, from <tgt_first>. */
static FX_UNUSED uint32_t fx_upstream(struct fx *f, const char *name, uint32_t tgt_first,
				      uint32_t tgt_count, struct gw_place at)
{
	struct gw_upstream *u = &FX_PUSH(f->c.upstreams);

	u->name = fx_s(name);
	u->tgt_first = tgt_first;
	u->tgt_count = tgt_count;
	u->balance = GW_LB_ROUND_ROBIN;
	u->hash_header = fx_s("");
	u->connect_timeout_ms = 1000;
	u->timeout_ms = 30000;
	u->max_conns = 64;
	u->retries = 1;
	u->hc_path = fx_s("");
	u->place = at;
	return f->c.upstreams.n - 1;
}

static FX_UNUSED uint32_t fx_cidr(struct fx *f, uint8_t family, uint8_t prefix, const uint8_t *addr)
{
	struct gw_cidr *c = &FX_PUSH(f->c.cidrs);

	c->family = family;
	c->prefix = prefix;
	memcpy(c->addr, addr, family == 4 ? 4 : 16);
	return f->c.cidrs.n - 1;
}

/* A route; <pols> is a list of policy indexes ending with GW_NONE.  The
 * number of {param} segments is counted from the pattern. */
static FX_UNUSED uint32_t fx_route(struct fx *f, unsigned methods, uint32_t host, const char *pattern,
				   uint8_t handler, uint32_t handler_index, const uint32_t *pols,
				   struct gw_place at)
{
	struct gw_route *r = &FX_PUSH(f->c.routes);

	r->name = fx_s("");
	r->pattern = fx_s(pattern);
	r->host = host;
	r->methods = (uint16_t)methods;
	r->handler = handler;
	r->handler_index = handler_index;
	for (const char *p = pattern; *p; p++)
		r->nparams += *p == '{';
	r->pol_first = f->c.polrefs.n;
	for (; pols && *pols != GW_NONE; pols++, r->pol_count++)
		FX_PUSH(f->c.polrefs) = *pols;
	r->place = at;
	return f->c.routes.n - 1;
}

/* ---- the trie builder ---------------------------------------------------- */

struct fx_tnode {
	struct gw_str label;  /* literal segment (slice of a pattern) */
	uint32_t *lit;        /* literal children, by tmp index */
	uint32_t nlit;
	uint32_t param;       /* tmp index, or GW_NONE */
	uint32_t *term, nterm, *wild, nwild; /* conf route indexes */
	uint32_t final;       /* index in the laid out trie */
};

struct fx_tb {
	struct fx_tnode *v;
	uint32_t n, cap;
};

static FX_UNUSED uint32_t fx_tb_new(struct fx_tb *tb, struct gw_str label)
{
	struct fx_tnode *n;

	if (tb->n == tb->cap) {
		tb->cap = tb->cap ? tb->cap * 2 : 64;
		tb->v = realloc(tb->v, tb->cap * sizeof *tb->v);
		if (!tb->v)
			fx_die("out of memory");
	}
	n = &tb->v[tb->n];
	memset(n, 0, sizeof *n);
	n->label = label;
	n->param = GW_NONE;
	return tb->n++;
}

static FX_UNUSED void fx_u32_push(uint32_t **v, uint32_t *n, uint32_t x)
{
	*v = realloc(*v, (*n + 1) * sizeof **v);
	if (!*v)
		fx_die("out of memory");
	(*v)[(*n)++] = x;
}

static FX_UNUSED int fx_label_cmp(const struct gw_str *a, const struct gw_str *b)
{
	uint32_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->p, b->p, n) : 0;

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static struct fx_tb *fx_sort_tb; /* qsort has no context argument */

static FX_UNUSED int fx_child_cmp(const void *a, const void *b)
{
	return fx_label_cmp(&fx_sort_tb->v[*(const uint32_t *)a].label,
			    &fx_sort_tb->v[*(const uint32_t *)b].label);
}

/* Insert route <ri> into the tree at tmp node <root>. */
static FX_UNUSED void fx_tb_insert(struct fx_tb *tb, uint32_t root, const struct gw_route *r, uint32_t ri)
{
	const char *p = r->pattern.p, *end = p + r->pattern.len;
	uint32_t cur = root;

	while (p < end) {
		const char *s = p + 1, *e = s;
		struct gw_str seg;
		uint32_t k;

		while (e < end && *e != '/')
			e++;
		p = e;
		seg.p = s;
		seg.len = (uint32_t)(e - s);
		if (seg.len == 0)
			break; /* the pattern "/" */
		if (seg.len == 1 && *s == '*') {
			fx_u32_push(&tb->v[cur].wild, &tb->v[cur].nwild, ri);
			return;
		}
		if (*s == '{') {
			if (tb->v[cur].param == GW_NONE) {
				uint32_t c = fx_tb_new(tb, seg);
				tb->v[cur].param = c;
			}
			cur = tb->v[cur].param;
			continue;
		}
		for (k = 0; k < tb->v[cur].nlit; k++)
			if (fx_label_cmp(&tb->v[tb->v[cur].lit[k]].label, &seg) == 0)
				break;
		if (k == tb->v[cur].nlit) {
			uint32_t c = fx_tb_new(tb, seg);
			fx_u32_push(&tb->v[cur].lit, &tb->v[cur].nlit, c);
		}
		cur = tb->v[cur].lit[k];
	}
	fx_u32_push(&tb->v[cur].term, &tb->v[cur].nterm, ri);
}

/* Build f->t from f->c's routes (see the top of this file). */
static FX_UNUSED void fx_trie(struct fx *f)
{
	const struct gw_conf *c = &f->c;
	struct gw_trie *t = &f->t;
	struct fx_tb tb = { 0 };
	uint32_t *roots = calloc(c->hosts.n, sizeof *roots), *queue, qn = 0;

	if (!roots)
		fx_die("out of memory");
	for (uint32_t h = 0; h < c->hosts.n; h++)
		roots[h] = fx_tb_new(&tb, fx_s(""));
	for (uint32_t i = 0; i < c->routes.n; i++)
		fx_tb_insert(&tb, roots[c->routes.v[i].host], &c->routes.v[i], i);
	queue = calloc(tb.n, sizeof *queue);
	t->nodes = calloc(tb.n, sizeof *t->nodes);
	t->edges = calloc(tb.n, sizeof *t->edges);
	t->order = calloc(c->routes.n + 1, sizeof *t->order);
	t->roots = calloc(c->hosts.n, sizeof *t->roots);
	if (!queue || !t->nodes || !t->edges || !t->order || !t->roots)
		fx_die("out of memory");
	t->nnodes = t->nedges = t->nroutes = 0;
	t->nroots = c->hosts.n;
	fx_sort_tb = &tb;
	for (uint32_t h = 0; h < c->hosts.n; h++) {
		uint32_t head = qn;

		tb.v[roots[h]].final = t->nnodes++;
		t->roots[h] = tb.v[roots[h]].final;
		queue[qn++] = roots[h];
		while (head < qn) {
			struct fx_tnode *n = &tb.v[queue[head++]];
			struct gw_trie_node *o = &t->nodes[n->final];

			if (n->nlit)
				qsort(n->lit, n->nlit, sizeof *n->lit, fx_child_cmp);
			o->lit_first = t->nedges;
			o->lit_count = n->nlit;
			for (uint32_t k = 0; k < n->nlit; k++) {
				struct fx_tnode *ch = &tb.v[n->lit[k]];

				ch->final = t->nnodes++;
				t->edges[t->nedges].label = ch->label;
				t->edges[t->nedges++].child = ch->final;
				queue[qn++] = n->lit[k];
			}
			o->param_child = GW_NONE;
			if (n->param != GW_NONE) {
				tb.v[n->param].final = t->nnodes++;
				o->param_child = tb.v[n->param].final;
				queue[qn++] = n->param;
			}
			o->route_first = t->nroutes;
			o->term_count = (uint8_t)n->nterm;
			o->wild_count = (uint8_t)n->nwild;
			for (uint32_t k = 0; k < n->nterm; k++)
				t->order[t->nroutes++] = n->term[k];
			for (uint32_t k = 0; k < n->nwild; k++)
				t->order[t->nroutes++] = n->wild[k];
		}
	}
	for (uint32_t i = 0; i < tb.n; i++) {
		free(tb.v[i].lit);
		free(tb.v[i].term);
		free(tb.v[i].wild);
	}
	free(tb.v);
	free(queue);
	free(roots);
}

/* ---- the configurations ------------------------------------------------ */

/* routes/gateway.yaml, as the front end reads it (places are its lines). */
static FX_UNUSED void fx_default(struct fx *f)
{
	uint32_t up, tg, pub, login, strict, body, sess, b1, b2, r1, r2, px1, px2;

	fx_init(f);
	fx_file(f, "routes/gateway.yaml");
	tg = fx_target(f, "127.0.0.1", 8081, 1);
	up = fx_upstream(f, "demo", tg, 1, fx_at(0, 22, 3));
	f->c.upstreams.v[up].timeout_ms = 5000;
	f->c.upstreams.v[up].max_conns = 256;
	f->c.upstreams.v[up].hc_path = fx_s("/health");
	f->c.upstreams.v[up].hc_interval_ms = 2000;
	f->c.upstreams.v[up].hc_timeout_ms = 1000;
	f->c.upstreams.v[up].hc_healthy = 2;
	f->c.upstreams.v[up].hc_unhealthy = 3;
	f->c.upstreams.v[up].cb_failures = 5;
	f->c.upstreams.v[up].cb_cooldown_ms = 10000;
	pub = fx_rl_policy(f, "public", 5000, 1000, 10000, fx_at(0, 41, 3));
	login = fx_rl_policy(f, "login", 5, 1000, 20, fx_at(0, 46, 3));
	strict = fx_rl_policy(f, "strict", 10, 1000, 10, fx_at(0, 51, 3));
	FX_PUSH(f->c.body_limits) = 1048576;
	body = fx_policy(f, "body-1m", GW_P_BODY_LIMIT, 1, 0, fx_at(0, 56, 3));
	{
		struct gw_auth *a = &FX_PUSH(f->c.auths);

		a->type = GW_AUTH_SESSION;
		a->header = fx_s("");
		a->user_header = fx_s("X-Gw-User");
	}
	sess = fx_policy(f, "session", GW_P_AUTH, 1, 0, fx_at(0, 58, 3));

	b1 = fx_tpl(f, GW_TPL_LITERAL, 0, 0, "{\"message\":\"hello", NULL);
	fx_tpl(f, GW_TPL_QUERY, GW_TPL_ALT, 0, "name", ", ");
	fx_tpl(f, GW_TPL_QUERY, GW_TPL_PLAIN, 0, "name", NULL);
	fx_tpl(f, GW_TPL_LITERAL, 0, 0, "\"}", NULL);
	r1 = fx_respond(f, 200, "application/json", b1, 4);
	b2 = fx_tpl(f, GW_TPL_LITERAL, 0, 0, "{\"message\":\"ok\"}", NULL);
	r2 = fx_respond(f, 200, "application/json", b2, 1);
	px1 = fx_proxy(f, up, fx_tpl(f, GW_TPL_LITERAL, 0, 0, "/users/", NULL), 2, NULL);
	fx_tpl(f, GW_TPL_PARAM, 0, 0, NULL, NULL);
	px2 = fx_proxy(f, up, fx_tpl(f, GW_TPL_LITERAL, 0, 0, "/items", NULL), 1, NULL);

	{
		const uint32_t none[] = { GW_NONE }, p_pub[] = { pub, GW_NONE },
			       p_echo[] = { pub, body, GW_NONE }, p_login[] = { login, GW_NONE },
			       p_sess[] = { sess, GW_NONE }, p_sb[] = { sess, body, GW_NONE },
			       p_strict[] = { strict, GW_NONE };

		fx_route(f, GW_M_GET, 0, "/health", GW_H_HEALTH, 0, none, fx_at(0, 64, 5));
		fx_route(f, GW_M_GET, 0, "/metrics", GW_H_METRICS, 0, none, fx_at(0, 68, 5));
		fx_route(f, GW_M_GET, 0, "/api/hello", GW_H_RESPOND, r1, p_pub, fx_at(0, 72, 5));
		fx_route(f, GW_M_POST, 0, "/api/echo", GW_H_ECHO, 0, p_echo, fx_at(0, 81, 5));
		fx_route(f, GW_M_POST, 0, "/auth/login", GW_H_LOGIN, 0, p_login, fx_at(0, 86, 5));
		fx_route(f, GW_M_POST, 0, "/auth/logout", GW_H_LOGOUT, 0, p_sess, fx_at(0, 91, 5));
		fx_route(f, GW_M_GET | GW_M_PUT, 0, "/api/users/{id}", GW_H_PROXY, px1, p_sb,
			 fx_at(0, 96, 5));
		fx_route(f, GW_M_POST, 0, "/api/items", GW_H_PROXY, px2, p_sb, fx_at(0, 103, 5));
		fx_route(f, GW_M_GET, 0, "/api/limited", GW_H_RESPOND, r2, p_strict, fx_at(0, 110, 5));
	}
	fx_trie(f);
}

/* Every table at least once: hosts, tiered and header-keyed limits, api-key
 * auth, cors, header and ip policies, IPv4 and IPv6 cidrs, trusted proxies,
 * a hashed upstream of two targets, strip_prefix, wildcard routes and every
 * template kind and mode. */
static FX_UNUSED void fx_full(struct fx *f)
{
	static const uint8_t v4net[4] = { 10, 0, 0, 0 }, v4host[4] = { 10, 0, 13, 0 },
			     v6lo[16] = { [15] = 1 }, v6net[16] = { 0xfd, 0x12 };
	uint32_t api, www, t1, up1, up2, rl, tiered, keyp, cors, hdr, ip, body, sess, h0, s0;
	uint32_t b, r_hello, r_json, px_api, px_static;

	fx_init(f);
	fx_file(f, "a.yaml");
	fx_file(f, "b.yaml");
	api = fx_host(f, "api.example.com");
	www = fx_host(f, "www.example.com");

	t1 = fx_target(f, "10.0.0.5", 9001, 2);
	fx_target(f, "backend.internal", 9002, 1);
	up1 = fx_upstream(f, "users", t1, 2, fx_at(0, 3, 3));
	f->c.upstreams.v[up1].balance = GW_LB_HASH;
	f->c.upstreams.v[up1].hash_key = GW_HK_HEADER;
	f->c.upstreams.v[up1].hash_header = fx_s("X-Tenant");
	up2 = fx_upstream(f, "static", fx_target(f, "::1", 8080, 1), 1, fx_at(1, 4, 3));
	f->c.upstreams.v[up2].balance = GW_LB_LEAST_CONN;

	rl = fx_rl_policy(f, "api", 600, 60000, 50, fx_at(0, 20, 3));
	fx_ratelimit(f, "per-second", 10, 1000, 10, GW_RLK_HEADER, "X-Tenant");
	fx_ratelimit(f, "per-hour", 1000, 3600000, 1000, GW_RLK_API_KEY, NULL);
	tiered = fx_policy(f, "tiered", GW_P_RATE_LIMIT, 2, f->c.ratelimits.n - 2, fx_at(0, 25, 3));
	{
		struct gw_auth *a = &FX_PUSH(f->c.auths);

		a->type = GW_AUTH_API_KEY;
		a->header = fx_s("X-API-Key");
		a->user_header = fx_s("X-Gw-Client");
		a = &FX_PUSH(f->c.auths);
		a->type = GW_AUTH_SESSION;
		a->header = fx_s("");
		a->user_header = fx_s("");
	}
	keyp = fx_policy(f, "machines", GW_P_AUTH, 1, 0, fx_at(0, 30, 3));
	sess = fx_policy(f, "session", GW_P_AUTH, 1, 1, fx_at(0, 34, 3));
	{
		/* a jwt auth: one Ed25519 key (RFC 8037 A.2), a JWKS URL, a claim header */
		struct gw_auth *a = &FX_PUSH(f->c.auths);
		struct gw_jwt *j;
		struct gw_jwk *k;

		f->c.auths.v[0].jwt = f->c.auths.v[1].jwt = GW_NONE;
		a->type = GW_AUTH_JWT;
		a->header = fx_s("");
		a->user_header = fx_s("");
		a->jwt = 0;
		j = &FX_PUSH(f->c.jwts);
		j->auth = 2;
		j->algs = GW_JWA_EDDSA | GW_JWA_RS256;
		j->issuer = fx_s("https://idp.example.com/");
		j->aud_first = f->c.strlist.n;
		FX_PUSH(f->c.strlist) = fx_s("api");
		j->aud_count = 1;
		j->hdr_first = fx_header(f, "sub", "X-User-Id");
		j->hdr_count = 1;
		j->key_first = f->c.jwks.n;
		j->key_count = 1;
		j->cookie = fx_s("");
		j->realm = fx_s("api");
		j->jwks_url = fx_s("https://idp.example.com/jwks");
		j->leeway_s = 30;
		j->refresh_min_s = 60;
		j->refresh_max_s = 3600;
		j->refetch_s = 30;
		k = &FX_PUSH(f->c.jwks);
		k->kid = fx_s("ed-1");
		k->kty = GW_KTY_OKP;
		k->crv = GW_CRV_ED25519;
		k->algs = GW_JWA_EDDSA;
		k->a = fx_s("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
		k->b = fx_s("");
		fx_policy(f, "idp", GW_P_AUTH, 1, 2, fx_at(0, 36, 3));
	}
	{
		struct gw_cors *c = &FX_PUSH(f->c.cors);

		c->origin_first = f->c.strlist.n;
		FX_PUSH(f->c.strlist) = fx_s("https://app.example.com");
		FX_PUSH(f->c.strlist) = fx_s("https://admin.example.com");
		c->origin_count = 2;
		c->methods = GW_M_GET | GW_M_POST;
		c->credentials = 1;
		c->allow_headers = fx_s("Content-Type, Authorization");
		c->expose_headers = fx_s("X-Request-ID");
		c->max_age_s = 600;
	}
	cors = fx_policy(f, "web", GW_P_CORS, 1, 0, fx_at(0, 40, 3));
	{
		struct gw_hdrpol *h = &FX_PUSH(f->c.hdrpols);

		h->req_add_first = fx_header(f, "X-Gateway", "gw");
		h->req_add_count = 1;
		h->req_del_first = f->c.strlist.n;
		FX_PUSH(f->c.strlist) = fx_s("X-Internal-Debug");
		h->req_del_count = 1;
		h->resp_add_first = fx_header(f, "Cache-Control", "no-store");
		fx_header(f, "X-Frame-Options", "DENY");
		h->resp_add_count = 2;
		h->resp_del_first = f->c.strlist.n;
		FX_PUSH(f->c.strlist) = fx_s("X-Powered-By");
		FX_PUSH(f->c.strlist) = fx_s("Server");
		h->resp_del_count = 2;
	}
	hdr = fx_policy(f, "tidy", GW_P_HEADERS, 1, 0, fx_at(1, 10, 3));
	{
		struct gw_ipfilter *p = &FX_PUSH(f->c.ipfilters);

		p->allow_first = fx_cidr(f, 4, 8, v4net);
		fx_cidr(f, 6, 128, v6lo);
		p->allow_count = 2;
		p->deny_first = fx_cidr(f, 4, 24, v4host);
		p->deny_count = 1;
	}
	ip = fx_policy(f, "office", GW_P_IP, 1, 0, fx_at(1, 15, 3));
	FX_PUSH(f->c.body_limits) = 4096;
	body = fx_policy(f, "small", GW_P_BODY_LIMIT, 1, 0, fx_at(1, 20, 3));

	f->c.settings.trusted_first = fx_cidr(f, 6, 16, v6net);
	f->c.settings.trusted_count = 1;
	f->c.settings.session_cookie = fx_s("sid");
	f->c.settings.max_conns = 100;
	f->c.settings.max_conns_per_ip = 10;

	b = fx_tpl(f, GW_TPL_LITERAL, 0, 0, "{\"user\":\"", NULL);
	fx_tpl(f, GW_TPL_PARAM, 0, 0, NULL, NULL);
	fx_tpl(f, GW_TPL_LITERAL, 0, 0, "\",\"page\":\"", NULL);
	fx_tpl(f, GW_TPL_QUERY, GW_TPL_DEFAULT, 0, "page", "1");
	fx_tpl(f, GW_TPL_LITERAL, 0, 0, "\",\"rest\":\"", NULL);
	fx_tpl(f, GW_TPL_REST, GW_TPL_PLAIN, 0, NULL, NULL);
	fx_tpl(f, GW_TPL_LITERAL, 0, 0, "\"}", NULL);
	r_hello = fx_respond(f, 200, "application/json", b, 7);
	r_json = fx_respond(f, 204, NULL, 0, 0);
	h0 = fx_tpl(f, GW_TPL_LITERAL, 0, 0, "/v2/", NULL);
	fx_tpl(f, GW_TPL_PARAM, 0, 1, NULL, NULL);
	px_api = fx_proxy(f, up1, h0, 2, NULL);
	px_static = fx_proxy(f, up2, 0, 0, "/static");
	s0 = f->c.routes.n;
	{
		const uint32_t none[] = { GW_NONE }, p_api[] = { keyp, rl, tiered, GW_NONE },
			       p_web[] = { cors, hdr, ip, GW_NONE }, p_sb[] = { sess, body, GW_NONE };

		fx_route(f, GW_M_GET | GW_M_HEAD, 0, "/", GW_H_RESPOND, r_json, none, fx_at(0, 50, 5));
		fx_route(f, GW_M_GET, 0, "/u/{id}/x/*", GW_H_RESPOND, r_hello, p_web, fx_at(0, 54, 5));
		fx_route(f, GW_M_GET, 0, "/u/me", GW_H_HEALTH, 0, none, fx_at(0, 60, 5));
		fx_route(f, GW_M_POST, 0, "/u/me", GW_H_ECHO, 0, p_sb, fx_at(0, 64, 5));
		fx_route(f, GW_M_DELETE | GW_M_PATCH, api, "/v1/{org}/{repo}", GW_H_PROXY, px_api,
			 p_api, fx_at(1, 30, 5));
		fx_route(f, GW_M_GET, api, "/v1/login", GW_H_LOGIN, 0, none, fx_at(1, 35, 5));
		fx_route(f, GW_M_GET | GW_M_OPTIONS, www, "/static/*", GW_H_PROXY, px_static, p_web,
			 fx_at(1, 40, 5));
		fx_route(f, GW_M_POST, www, "/logout", GW_H_LOGOUT, 0, p_sb, fx_at(1, 45, 5));
		fx_route(f, GW_M_GET, 0, "/metrics", GW_H_METRICS, 0, none, fx_at(0, 70, 5));
	}
	f->c.routes.v[s0 + 2].name = fx_s("me");
	fx_trie(f);
}

/* <n> routes GET /r/<i>, each with its own respond record, body and header
 * (as the front end produces them) answering the same thing, and policy
 * [public]: the "simple respond route set" of docs/blob-format.md, "Size". */
static FX_UNUSED void fx_simple(struct fx *f, uint32_t n)
{
	uint32_t pub;

	fx_init(f);
	fx_file(f, "simple.yaml");
	pub = fx_rl_policy(f, "public", 100, 1000, 100, fx_at(0, 3, 3));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t b = fx_tpl(f, GW_TPL_LITERAL, 0, 0, "{\"ok\":true}", NULL);
		uint32_t r = fx_respond(f, 200, "application/json", b, 1);
		const uint32_t pols[] = { pub, GW_NONE };
		struct gw_str pat = fx_fmt(f, "/r/%u", i);

		fx_route(f, GW_M_GET, 0, pat.p, GW_H_RESPOND, r, pols, fx_at(0, 10 + 5 * i, 5));
	}
	fx_trie(f);
}

/* fx_full with its second upstream ("static") on HTTPS with a client
 * certificate and a 1 MiB buffer. */
static FX_UNUSED void fx_tls(struct fx *f)
{
	struct gw_uptls *t;

	fx_full(f);
	f->c.upstreams.v[1].buffer = 1024 * 1024;
	t = &FX_PUSH(f->c.uptls);
	t->upstream = 1;
	t->verify = 1;
	t->server_name = fx_s("static.internal");
	t->ca_file = fx_s("/etc/gw/ca.pem");
	t->cert = fx_s("/etc/gw/client.pem");
	t->key = fx_s("/etc/gw/client.key");
	t->place = fx_at(1, 5, 5);
}

/* fx_full with a WebSocket cap on both its upstreams. */
static FX_UNUSED void fx_ws(struct fx *f)
{
	fx_full(f);
	f->c.upstreams.v[0].max_websockets = 7;
	f->c.upstreams.v[1].max_websockets = 65535;
}

#endif
