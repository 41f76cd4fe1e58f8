/* Unit tests of gwc's front end (gwc/parse*.c): every construct of
 * docs/routes.md parsed into the model values it means (defaults included),
 * cross-file names, hosts, places, fingerprint and policy identities, and every
 * error class with its exact message and place. */
#include <CUnit/CUnit.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwc/parse.h"
#include "lib/diag.h"
#include "lib/error.h"
#include "lib/model.h"

int gw_suite_gwc_parse(void);

/* One parse: the conf, its diagnostics, the state owning its strings. */
struct fx {
	struct gw_conf conf;
	struct gw_diag d;
	struct gwc_state *st;
	int rc;      /* worst of the parse and finish return values */
	char *errs;  /* gw_diag_print output, malloc'd */
};

/* Parse <n> in-memory files (<names>, <texts>) and finish; fill <x>. */
static void run(struct fx *x, int n, const char *const *names, const char *const *texts)
{
	size_t len = 0;
	FILE *m;
	int r;

	memset(x, 0, sizeof *x);
	CU_ASSERT_EQUAL_FATAL(gw_conf_init(&x->conf), 0);
	x->st = gwc_state_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(x->st);
	for (int i = 0; i < n; i++) {
		r = gwc_parse_mem(&x->conf, names[i], texts[i], strlen(texts[i]), &x->d, x->st);
		CU_ASSERT(r == 0 || r == 1);
		if (r > x->rc)
			x->rc = r;
	}
	r = gwc_parse_finish(&x->conf, &x->d, x->st);
	CU_ASSERT(r == 0 || r == 1);
	if (r > x->rc)
		x->rc = r;
	m = open_memstream(&x->errs, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	gw_diag_print(&x->d, x->conf.files.v, x->conf.files.n, m);
	fclose(m);
}

/* Parse <text> as the one file t.yaml and finish; fill <x>. */
static void run1(struct fx *x, const char *text)
{
	const char *name = "t.yaml";

	run(x, 1, &name, &text);
}

/* Free everything <x> holds. */
static void done(struct fx *x)
{
	free(x->errs);
	gw_diag_free(&x->d);
	gw_conf_free(&x->conf);
	gwc_state_free(x->st);
	memset(x, 0, sizeof *x);
}

/* Parse <text> as t.yaml and compare the printed errors with <want>. */
static void expect(const char *text, const char *want)
{
	struct fx x;

	run1(&x, text);
	if (strcmp(x.errs, want) != 0)
		fprintf(stderr, "\n--- input:\n%s--- want:\n%s--- got:\n%s", text, want, x.errs);
	CU_ASSERT_STRING_EQUAL(x.errs, want);
	CU_ASSERT_EQUAL(x.rc, want[0] ? 1 : 0);
	done(&x);
}

/* 1 when <s> holds exactly <want>, NUL-terminated as the model promises. */
static int str_is(const struct gw_str *s, const char *want)
{
	return s->p && s->len == strlen(want) && memcmp(s->p, want, s->len) == 0 &&
	       s->p[s->len] == '\0';
}

#define CU_ASSERT_STR(s, want) CU_ASSERT_TRUE(str_is(&(s), (want)))

/* ---- values ---- */

static const char full[] =
	"version: 1\n"
	"settings:\n"
	"  trusted_proxies: [10.0.0.0/8, \"::1\"]\n"
	"  sessions: {cookie: sid, idle_timeout: 10m, lifetime: 1d}\n"
	"  limits: {max_header_bytes: 8KiB, header_timeout: 5s, idle_timeout: 30s,\n"
	"           max_connections: 100, max_connections_per_ip: 10}\n"
	"upstreams:\n"
	"  users:\n"
	"    targets:\n"
	"      - address: 127.0.0.1:9001\n"
	"        weight: 2\n"
	"      - address: \"[::1]:9002\"\n"
	"    balance: hash\n"
	"    hash_key: header\n"
	"    hash_header: X-Tenant\n"
	"    connect_timeout: 2s\n"
	"    timeout: 5s\n"
	"    max_connections: 8\n"
	"    retries: 0\n"
	"    health_check: {path: /health, interval: 2s}\n"
	"    circuit_breaker: {failures: 5, cooldown: 10s}\n"
	"  plain:\n"
	"    targets: [{address: \"svc.local:80\"}]\n"
	"policies:\n"
	"  api:\n"
	"    rate_limit: {rate: 600/min, burst: 50, key: header, header: X-Tenant, max_keys: 10}\n"
	"  tiered:\n"
	"    rate_limit:\n"
	"      - {name: per-second, rate: 10/s}\n"
	"      - {rate: 1000/h, burst: 1000, key: route}\n"
	"  keys:\n"
	"    auth: {type: api_key, user_header: X-Gw-Client}\n"
	"  session:\n"
	"    auth: {type: session}\n"
	"  small: {body_limit: 1MiB}\n"
	"  web:\n"
	"    cors:\n"
	"      origins: [\"https://app.example.com\", \"http://localhost:5173\"]\n"
	"      methods: [GET, POST]\n"
	"      headers: [Content-Type, Authorization]\n"
	"      expose: [X-Request-ID]\n"
	"      credentials: true\n"
	"      max_age: 10m\n"
	"  tidy:\n"
	"    headers:\n"
	"      request: {add: {X-Gateway: gw}, remove: [X-Debug]}\n"
	"      response: {add: {Cache-Control: no-store, X-Frame-Options: DENY}, remove: [X-Powered-By]}\n"
	"  office:\n"
	"    ip: {allow: [10.0.0.0/8, \"2001:db8::/32\"], deny: [10.0.13.0/24]}\n"
	"routes:\n"
	"  - name: user\n"
	"    path: /api/users/{id}\n"
	"    methods: [GET, PUT]\n"
	"    host: API.Example.com\n"
	"    policies: [session, small]\n"
	"    proxy: {upstream: users, rewrite: '/users/${path.id}'}\n"
	"  - path: /hello\n"
	"    methods: [GET]\n"
	"    respond:\n"
	"      headers: {Content-Type: application/json}\n"
	"      body: '{\"m\":\"hi${query.name:+, }${query.name}\"}'\n"
	"  - path: /static/*\n"
	"    methods: [GET, HEAD]\n"
	"    proxy: {upstream: plain, strip_prefix: /static}\n"
	"  - path: /\n"
	"    methods: [GET]\n"
	"    host: b.example.com\n"
	"    echo: {}\n"
	"  - path: /x\n"
	"    methods: [POST, DELETE, PATCH, OPTIONS]\n"
	"    host: api.example.com\n"
	"    login:\n";

/* settings: every key decoded, and the documented defaults without them. */
static void test_settings(void)
{
	struct fx x;
	const struct gw_settings *s;

	run1(&x, full);
	CU_ASSERT_STRING_EQUAL(x.errs, "");
	CU_ASSERT_EQUAL(x.rc, 0);
	s = &x.conf.settings;
	CU_ASSERT_EQUAL(s->trusted_count, 2);
	CU_ASSERT_EQUAL_FATAL(x.conf.cidrs.n >= s->trusted_first + 2, 1);
	CU_ASSERT_EQUAL(x.conf.cidrs.v[s->trusted_first].family, 4);
	CU_ASSERT_EQUAL(x.conf.cidrs.v[s->trusted_first].prefix, 8);
	CU_ASSERT_EQUAL(x.conf.cidrs.v[s->trusted_first + 1].family, 6);
	CU_ASSERT_EQUAL(x.conf.cidrs.v[s->trusted_first + 1].prefix, 128);
	CU_ASSERT_STR(s->session_cookie, "sid");
	CU_ASSERT_EQUAL(s->session_idle_ms, 600000);
	CU_ASSERT_EQUAL(s->session_lifetime_ms, 86400000);
	CU_ASSERT_EQUAL(s->max_header_bytes, 8192);
	CU_ASSERT_EQUAL(s->header_timeout_ms, 5000);
	CU_ASSERT_EQUAL(s->idle_timeout_ms, 30000);
	CU_ASSERT_EQUAL(s->max_conns, 100);
	CU_ASSERT_EQUAL(s->max_conns_per_ip, 10);
	done(&x);

	/* No settings at all: the documented defaults stay. */
	run1(&x, "version: 1\n");
	CU_ASSERT_EQUAL(x.rc, 0);
	s = &x.conf.settings;
	CU_ASSERT_STR(s->session_cookie, "gw_session");
	CU_ASSERT_EQUAL(s->session_idle_ms, 30u * 60 * 1000);
	CU_ASSERT_EQUAL(s->session_lifetime_ms, 12u * 3600 * 1000);
	CU_ASSERT_EQUAL(s->max_header_bytes, 16384);
	CU_ASSERT_EQUAL(s->header_timeout_ms, 10000);
	CU_ASSERT_EQUAL(s->idle_timeout_ms, 60000);
	CU_ASSERT_EQUAL(s->max_conns, 4096);
	CU_ASSERT_EQUAL(s->max_conns_per_ip, 1024);
	CU_ASSERT_EQUAL(s->trusted_count, 0);
	CU_ASSERT_EQUAL(x.conf.routes.n, 0);
	done(&x);
}

/* upstreams: targets, balance, timeouts, checks; defaults of docs/routes.md. */
static void test_upstreams(void)
{
	struct fx x;
	const struct gw_upstream *u;
	const struct gw_target *t;

	run1(&x, full);
	CU_ASSERT_EQUAL_FATAL(x.conf.upstreams.n, 2);
	u = &x.conf.upstreams.v[0];
	CU_ASSERT_STR(u->name, "users");
	CU_ASSERT_EQUAL(u->place.line, 8);
	CU_ASSERT_EQUAL(u->place.col, 3);
	CU_ASSERT_EQUAL(u->place.file, 0);
	CU_ASSERT_EQUAL_FATAL(u->tgt_count, 2);
	t = &x.conf.targets.v[u->tgt_first];
	CU_ASSERT_STR(t[0].host, "127.0.0.1");
	CU_ASSERT_EQUAL(t[0].port, 9001);
	CU_ASSERT_EQUAL(t[0].weight, 2);
	CU_ASSERT_STR(t[1].host, "::1");
	CU_ASSERT_EQUAL(t[1].port, 9002);
	CU_ASSERT_EQUAL(t[1].weight, 1);
	CU_ASSERT_EQUAL(u->balance, GW_LB_HASH);
	CU_ASSERT_EQUAL(u->hash_key, GW_HK_HEADER);
	CU_ASSERT_STR(u->hash_header, "X-Tenant");
	CU_ASSERT_EQUAL(u->connect_timeout_ms, 2000);
	CU_ASSERT_EQUAL(u->timeout_ms, 5000);
	CU_ASSERT_EQUAL(u->max_conns, 8);
	CU_ASSERT_EQUAL(u->retries, 0);
	CU_ASSERT_STR(u->hc_path, "/health");
	CU_ASSERT_EQUAL(u->hc_interval_ms, 2000);
	CU_ASSERT_EQUAL(u->hc_timeout_ms, 1000);
	CU_ASSERT_EQUAL(u->hc_healthy, 2);
	CU_ASSERT_EQUAL(u->hc_unhealthy, 3);
	CU_ASSERT_EQUAL(u->cb_failures, 5);
	CU_ASSERT_EQUAL(u->cb_cooldown_ms, 10000);
	/* Defaults: docs/routes.md "upstreams". */
	u = &x.conf.upstreams.v[1];
	CU_ASSERT_STR(u->name, "plain");
	CU_ASSERT_EQUAL_FATAL(u->tgt_count, 1);
	CU_ASSERT_STR(x.conf.targets.v[u->tgt_first].host, "svc.local");
	CU_ASSERT_EQUAL(x.conf.targets.v[u->tgt_first].port, 80);
	CU_ASSERT_EQUAL(u->balance, GW_LB_ROUND_ROBIN);
	CU_ASSERT_EQUAL(u->hash_key, GW_HK_NONE);
	CU_ASSERT_STR(u->hash_header, "");
	CU_ASSERT_EQUAL(u->connect_timeout_ms, 1000);
	CU_ASSERT_EQUAL(u->timeout_ms, 30000);
	CU_ASSERT_EQUAL(u->max_conns, 64);
	CU_ASSERT_EQUAL(u->retries, 1);
	CU_ASSERT_STR(u->hc_path, "");
	CU_ASSERT_EQUAL(u->cb_failures, 0);
	done(&x);

	/* health_check defaults, and hash defaulting to the client address. */
	run1(&x, "version: 1\nupstreams:\n  u:\n    targets: [{address: 'a:1'}]\n"
		 "    balance: hash\n    health_check: {path: /hc}\n");
	CU_ASSERT_STRING_EQUAL(x.errs, "");
	CU_ASSERT_EQUAL_FATAL(x.conf.upstreams.n, 1);
	u = &x.conf.upstreams.v[0];
	CU_ASSERT_EQUAL(u->hash_key, GW_HK_IP);
	CU_ASSERT_EQUAL(u->hc_interval_ms, 5000);
	CU_ASSERT_EQUAL(u->hc_timeout_ms, 1000);
	CU_ASSERT_EQUAL(u->hc_healthy, 2);
	CU_ASSERT_EQUAL(u->hc_unhealthy, 3);
	done(&x);
}

/* Each policy kind into its table, with its defaults. */
static void test_policies(void)
{
	struct fx x;
	const struct gw_policy *p;
	const struct gw_ratelimit *r;

	run1(&x, full);
	CU_ASSERT_EQUAL_FATAL(x.conf.policies.n, 8);
	p = x.conf.policies.v;
	CU_ASSERT_STR(p[0].name, "api");
	CU_ASSERT_EQUAL(p[0].kind, GW_P_RATE_LIMIT);
	CU_ASSERT_EQUAL(p[0].count, 1);
	CU_ASSERT_EQUAL(p[0].place.line, 25);
	CU_ASSERT_EQUAL(p[0].place.col, 3);
	r = &x.conf.ratelimits.v[p[0].index];
	CU_ASSERT_STR(r->name, "api");
	CU_ASSERT_EQUAL(r->quota, 600);
	CU_ASSERT_EQUAL(r->period_ms, 60000);
	CU_ASSERT_EQUAL(r->burst, 50);
	CU_ASSERT_EQUAL(r->key, GW_RLK_HEADER);
	CU_ASSERT_STR(r->header, "X-Tenant");
	CU_ASSERT_EQUAL(r->max_keys, 10);

	CU_ASSERT_EQUAL(p[1].kind, GW_P_RATE_LIMIT);
	CU_ASSERT_EQUAL_FATAL(p[1].count, 2);
	r = &x.conf.ratelimits.v[p[1].index];
	CU_ASSERT_STR(r[0].name, "per-second");
	CU_ASSERT_EQUAL(r[0].quota, 10);
	CU_ASSERT_EQUAL(r[0].period_ms, 1000);
	CU_ASSERT_EQUAL(r[0].burst, 10); /* default: the quota */
	CU_ASSERT_EQUAL(r[0].key, GW_RLK_IP);
	CU_ASSERT_EQUAL(r[0].max_keys, 100000);
	CU_ASSERT_STR(r[0].header, "");
	CU_ASSERT_STR(r[1].name, "tiered-2");
	CU_ASSERT_EQUAL(r[1].quota, 1000);
	CU_ASSERT_EQUAL(r[1].period_ms, 3600000);
	CU_ASSERT_EQUAL(r[1].key, GW_RLK_ROUTE);

	CU_ASSERT_EQUAL(p[2].kind, GW_P_AUTH);
	CU_ASSERT_EQUAL(x.conf.auths.v[p[2].index].type, GW_AUTH_API_KEY);
	CU_ASSERT_STR(x.conf.auths.v[p[2].index].header, "X-API-Key");
	CU_ASSERT_STR(x.conf.auths.v[p[2].index].user_header, "X-Gw-Client");
	CU_ASSERT_EQUAL(p[3].kind, GW_P_AUTH);
	CU_ASSERT_EQUAL(x.conf.auths.v[p[3].index].type, GW_AUTH_SESSION);
	CU_ASSERT_STR(x.conf.auths.v[p[3].index].header, "");
	CU_ASSERT_STR(x.conf.auths.v[p[3].index].user_header, "");

	CU_ASSERT_EQUAL(p[4].kind, GW_P_BODY_LIMIT);
	CU_ASSERT_EQUAL(x.conf.body_limits.v[p[4].index], 1048576);

	CU_ASSERT_EQUAL(p[5].kind, GW_P_CORS);
	{
		const struct gw_cors *c = &x.conf.cors.v[p[5].index];

		CU_ASSERT_EQUAL_FATAL(c->origin_count, 2);
		CU_ASSERT_STR(x.conf.strlist.v[c->origin_first], "https://app.example.com");
		CU_ASSERT_STR(x.conf.strlist.v[c->origin_first + 1], "http://localhost:5173");
		CU_ASSERT_EQUAL(c->methods, GW_M_GET | GW_M_POST);
		CU_ASSERT_STR(c->allow_headers, "Content-Type, Authorization");
		CU_ASSERT_STR(c->expose_headers, "X-Request-ID");
		CU_ASSERT_EQUAL(c->credentials, 1);
		CU_ASSERT_EQUAL(c->max_age_s, 600);
	}
	CU_ASSERT_EQUAL(p[6].kind, GW_P_HEADERS);
	{
		const struct gw_hdrpol *h = &x.conf.hdrpols.v[p[6].index];

		CU_ASSERT_EQUAL_FATAL(h->req_add_count, 1);
		CU_ASSERT_STR(x.conf.headers.v[h->req_add_first].name, "X-Gateway");
		CU_ASSERT_STR(x.conf.headers.v[h->req_add_first].value, "gw");
		CU_ASSERT_EQUAL_FATAL(h->req_del_count, 1);
		CU_ASSERT_STR(x.conf.strlist.v[h->req_del_first], "X-Debug");
		CU_ASSERT_EQUAL_FATAL(h->resp_add_count, 2);
		CU_ASSERT_STR(x.conf.headers.v[h->resp_add_first].name, "Cache-Control");
		CU_ASSERT_STR(x.conf.headers.v[h->resp_add_first].value, "no-store");
		CU_ASSERT_STR(x.conf.headers.v[h->resp_add_first + 1].name, "X-Frame-Options");
		CU_ASSERT_EQUAL_FATAL(h->resp_del_count, 1);
		CU_ASSERT_STR(x.conf.strlist.v[h->resp_del_first], "X-Powered-By");
	}
	CU_ASSERT_EQUAL(p[7].kind, GW_P_IP);
	{
		const struct gw_ipfilter *f = &x.conf.ipfilters.v[p[7].index];
		const struct gw_cidr *c = x.conf.cidrs.v;

		CU_ASSERT_EQUAL_FATAL(f->allow_count, 2);
		CU_ASSERT_EQUAL(c[f->allow_first].family, 4);
		CU_ASSERT_EQUAL(c[f->allow_first].addr[0], 10);
		CU_ASSERT_EQUAL(c[f->allow_first + 1].family, 6);
		CU_ASSERT_EQUAL(c[f->allow_first + 1].prefix, 32);
		CU_ASSERT_EQUAL_FATAL(f->deny_count, 1);
		CU_ASSERT_EQUAL(c[f->deny_first].prefix, 24);
		CU_ASSERT_EQUAL(c[f->deny_first].addr[2], 13);
	}
	done(&x);
}

/* Routes, their handlers and resolved policies; hosts sorted and remapped. */
static void test_routes(void)
{
	struct fx x;
	const struct gw_route *r;
	const struct gw_tpl *t;

	run1(&x, full);
	CU_ASSERT_EQUAL_FATAL(x.conf.routes.n, 5);
	r = x.conf.routes.v;
	CU_ASSERT_STR(r[0].name, "user");
	CU_ASSERT_STR(r[0].pattern, "/api/users/{id}");
	CU_ASSERT_EQUAL(r[0].methods, GW_M_GET | GW_M_PUT);
	CU_ASSERT_EQUAL(r[0].nparams, 1);
	CU_ASSERT_EQUAL(r[0].handler, GW_H_PROXY);
	CU_ASSERT_EQUAL(r[0].place.line, 51);
	CU_ASSERT_EQUAL(r[0].place.col, 5);
	CU_ASSERT_EQUAL_FATAL(r[0].pol_count, 2);
	CU_ASSERT_EQUAL(x.conf.polrefs.v[r[0].pol_first], 3);     /* session */
	CU_ASSERT_EQUAL(x.conf.polrefs.v[r[0].pol_first + 1], 4); /* small */
	{
		const struct gw_proxy *p = &x.conf.proxies.v[r[0].handler_index];

		CU_ASSERT_EQUAL(p->upstream, 0);
		CU_ASSERT_STR(p->strip_prefix, "");
		CU_ASSERT_EQUAL_FATAL(p->rewrite_count, 2);
		t = &x.conf.tpls.v[p->rewrite_first];
		CU_ASSERT_EQUAL(t[0].kind, GW_TPL_LITERAL);
		CU_ASSERT_STR(t[0].text, "/users/");
		CU_ASSERT_EQUAL(t[1].kind, GW_TPL_PARAM);
		CU_ASSERT_EQUAL(t[1].param, 0);
		CU_ASSERT_EQUAL(t[1].mode, GW_TPL_PLAIN);
	}
	CU_ASSERT_STR(r[1].name, ""); /* unnamed: the pattern names it */
	CU_ASSERT_EQUAL(r[1].handler, GW_H_RESPOND);
	CU_ASSERT_EQUAL(r[1].pol_count, 0);
	{
		const struct gw_respond *s = &x.conf.responds.v[r[1].handler_index];

		CU_ASSERT_EQUAL(s->status, 200);
		CU_ASSERT_EQUAL_FATAL(s->hdr_count, 1);
		CU_ASSERT_STR(x.conf.headers.v[s->hdr_first].name, "Content-Type");
		CU_ASSERT_STR(x.conf.headers.v[s->hdr_first].value, "application/json");
		CU_ASSERT_EQUAL_FATAL(s->body_count, 4);
		t = &x.conf.tpls.v[s->body_first];
		CU_ASSERT_EQUAL(t[0].kind, GW_TPL_LITERAL);
		CU_ASSERT_STR(t[0].text, "{\"m\":\"hi");
		CU_ASSERT_EQUAL(t[1].kind, GW_TPL_QUERY);
		CU_ASSERT_STR(t[1].text, "name");
		CU_ASSERT_EQUAL(t[1].mode, GW_TPL_ALT);
		CU_ASSERT_STR(t[1].alt, ", ");
		CU_ASSERT_EQUAL(t[2].kind, GW_TPL_QUERY);
		CU_ASSERT_EQUAL(t[2].mode, GW_TPL_PLAIN);
		CU_ASSERT_STR(t[2].alt, "");
		CU_ASSERT_STR(t[3].text, "\"}");
	}
	CU_ASSERT_EQUAL(r[2].methods, GW_M_GET | GW_M_HEAD);
	CU_ASSERT_EQUAL(r[2].nparams, 0);
	{
		const struct gw_proxy *p = &x.conf.proxies.v[r[2].handler_index];

		CU_ASSERT_EQUAL(p->upstream, 1);
		CU_ASSERT_STR(p->strip_prefix, "/static");
		CU_ASSERT_EQUAL(p->rewrite_count, 0);
	}
	CU_ASSERT_EQUAL(r[3].handler, GW_H_ECHO);
	CU_ASSERT_STR(r[3].pattern, "/");
	CU_ASSERT_EQUAL(r[4].handler, GW_H_LOGIN);
	CU_ASSERT_EQUAL(r[4].methods, GW_M_POST | GW_M_DELETE | GW_M_PATCH | GW_M_OPTIONS);
	/* Hosts: lower-cased, unique, sorted, [0] = any; routes remapped. */
	CU_ASSERT_EQUAL_FATAL(x.conf.hosts.n, 3);
	CU_ASSERT_STR(x.conf.hosts.v[0], "");
	CU_ASSERT_STR(x.conf.hosts.v[1], "api.example.com");
	CU_ASSERT_STR(x.conf.hosts.v[2], "b.example.com");
	CU_ASSERT_EQUAL(r[0].host, 1);
	CU_ASSERT_EQUAL(r[1].host, 0);
	CU_ASSERT_EQUAL(r[2].host, 0);
	CU_ASSERT_EQUAL(r[3].host, 2);
	CU_ASSERT_EQUAL(r[4].host, 1);
	done(&x);
}

/* Templates compile into parts: $$, params by index, rest, query, :- and :+. */
static void test_templates(void)
{
	struct fx x;
	const struct gw_tpl *t;
	const struct gw_respond *s;

	run1(&x, "version: 1\nroutes:\n"
		 "  - path: /f/{a}/{b}/*\n    methods: [GET]\n"
		 "    respond: {body: \"$$${path.b}-${path.a:-none}$$x${path.*}${query.q-1:+yes}$$\"}\n"
		 "  - path: /e\n    methods: [GET]\n    respond: {status: 204, body: ''}\n");
	CU_ASSERT_STRING_EQUAL(x.errs, "");
	CU_ASSERT_EQUAL_FATAL(x.conf.routes.n, 2);
	CU_ASSERT_EQUAL(x.conf.routes.v[0].nparams, 2);
	s = &x.conf.responds.v[x.conf.routes.v[0].handler_index];
	CU_ASSERT_EQUAL_FATAL(s->body_count, 8);
	t = &x.conf.tpls.v[s->body_first];
	CU_ASSERT_EQUAL(t[0].kind, GW_TPL_LITERAL);
	CU_ASSERT_STR(t[0].text, "$");
	CU_ASSERT_EQUAL(t[1].kind, GW_TPL_PARAM);
	CU_ASSERT_EQUAL(t[1].param, 1);
	CU_ASSERT_STR(t[2].text, "-");
	CU_ASSERT_EQUAL(t[3].kind, GW_TPL_PARAM);
	CU_ASSERT_EQUAL(t[3].param, 0);
	CU_ASSERT_EQUAL(t[3].mode, GW_TPL_DEFAULT);
	CU_ASSERT_STR(t[3].alt, "none");
	CU_ASSERT_STR(t[4].text, "$x");
	CU_ASSERT_EQUAL(t[5].kind, GW_TPL_REST);
	CU_ASSERT_EQUAL(t[6].kind, GW_TPL_QUERY);
	CU_ASSERT_STR(t[6].text, "q-1");
	CU_ASSERT_EQUAL(t[6].mode, GW_TPL_ALT);
	CU_ASSERT_STR(t[6].alt, "yes");
	CU_ASSERT_EQUAL(t[7].kind, GW_TPL_LITERAL);
	CU_ASSERT_STR(t[7].text, "$");
	s = &x.conf.responds.v[x.conf.routes.v[1].handler_index];
	CU_ASSERT_EQUAL(s->status, 204);
	CU_ASSERT_EQUAL(s->body_count, 0);
	done(&x);
}

static const char file_a[] =
	"version: 1\n"
	"upstreams:\n"
	"  svc:\n"
	"    targets: [{address: 'h:1'}]\n"
	"policies:\n"
	"  auth1:\n"
	"    auth: {type: api_key, header: X-Key}\n";
static const char file_b[] =
	"version: 1\n"
	"routes:\n"
	"  - path: /k\n"
	"    methods: [GET]\n"
	"    policies: [auth1, perkey]\n"
	"    proxy: {upstream: svc}\n"
	"policies:\n"
	"  perkey:\n"
	"    rate_limit: {rate: 5/s, key: api_key}\n";

/* Several files: names across files, auth order, second definitions. */
static void test_files(void)
{
	const char *names[] = { "a.yaml", "b.yaml" };
	const char *texts[] = { file_a, file_b };
	struct fx x;

	/* Names resolve across files, in either order. */
	run(&x, 2, names, texts);
	CU_ASSERT_STRING_EQUAL(x.errs, "");
	CU_ASSERT_EQUAL_FATAL(x.conf.files.n, 2);
	CU_ASSERT_STR(x.conf.files.v[0], "a.yaml");
	CU_ASSERT_STR(x.conf.files.v[1], "b.yaml");
	CU_ASSERT_EQUAL_FATAL(x.conf.routes.n, 1);
	CU_ASSERT_EQUAL(x.conf.routes.v[0].place.file, 1);
	CU_ASSERT_EQUAL(x.conf.routes.v[0].place.line, 3);
	CU_ASSERT_EQUAL(x.conf.policies.v[1].place.file, 1);
	CU_ASSERT_EQUAL(x.conf.polrefs.v[0], 0);
	CU_ASSERT_EQUAL(x.conf.polrefs.v[1], 1);
	CU_ASSERT_EQUAL(x.conf.proxies.v[0].upstream, 0);
	CU_ASSERT_STR(x.conf.auths.v[0].header, "X-Key");
	done(&x);

	/* The auth must come first on the route, wherever it is defined. */
	texts[1] = "version: 1\nroutes:\n  - path: /k\n    methods: [GET]\n"
		   "    policies: [perkey, auth1]\n    echo: {}\n"
		   "policies:\n  perkey:\n    rate_limit: {rate: 5/s, key: api_key}\n";
	run(&x, 2, names, texts);
	CU_ASSERT_STRING_EQUAL(x.errs, "b.yaml:5:16: error: policy 'perkey' limits by api_key: "
				       "it needs an auth policy of type api_key before it on the route\n");
	done(&x);

	/* Names defined twice, settings twice: the second place, naming the first. */
	texts[0] = "version: 1\nsettings: {}\nupstreams:\n  svc: {targets: [{address: 'h:1'}]}\n"
		   "policies:\n  p: {body_limit: 1}\n"
		   "routes:\n  - {name: r1, path: /a, methods: [GET], echo: {}}\n";
	texts[1] = "version: 1\nsettings: {}\nupstreams:\n  svc: {targets: [{address: 'h:2'}]}\n"
		   "policies:\n  p: {body_limit: 2}\n"
		   "routes:\n  - {name: r1, path: /b, methods: [GET], echo: {}}\n";
	run(&x, 2, names, texts);
	CU_ASSERT_STRING_EQUAL(x.errs,
		"b.yaml:2:1: error: settings may appear in one file only; already given at a.yaml:2:1\n"
		"b.yaml:4:3: error: upstream 'svc' is already defined at a.yaml:4:3\n"
		"b.yaml:6:3: error: policy 'p' is already defined at a.yaml:6:3\n"
		"b.yaml:8:12: error: route 'r1' is already defined at a.yaml:8:12\n");
	done(&x);
}

/* The fingerprint is SHA-256 over path, NUL, u64le length, bytes per file. */
static void test_fingerprint(void)
{
	const char *names[] = { "one.yaml", "dir/two.yaml" };
	const char *texts[] = { "version: 1\n", "version: 1 # two\n" };
	uint8_t want[32], buf[256];
	size_t o = 0;
	struct fx x;

	/* docs/blob-format.md: per file, path, NUL, length as u64le, bytes. */
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(texts[i]);

		memcpy(buf + o, names[i], strlen(names[i]) + 1);
		o += strlen(names[i]) + 1;
		for (int k = 0; k < 8; k++)
			buf[o++] = (uint8_t)((uint64_t)n >> (8 * k));
		memcpy(buf + o, texts[i], n);
		o += n;
	}
	CU_ASSERT_EQUAL_FATAL(gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, o, want), 0);
	run(&x, 2, names, texts);
	CU_ASSERT_EQUAL(x.rc, 0);
	CU_ASSERT_EQUAL(memcmp(x.conf.fingerprint, want, 32), 0);
	done(&x);
	/* Order matters. */
	const char *rn[] = { names[1], names[0] }, *rt[] = { texts[1], texts[0] };
	run(&x, 2, rn, rt);
	CU_ASSERT_NOT_EQUAL(memcmp(x.conf.fingerprint, want, 32), 0);
	done(&x);
}

/* The ident of policy <name> in <text>, or 0. */
static uint64_t ident_of(const char *text, const char *name)
{
	struct fx x;
	uint64_t id = 0;

	run1(&x, text);
	CU_ASSERT_STRING_EQUAL(x.errs, "");
	for (uint32_t i = 0; i < x.conf.policies.n; i++)
		if (str_is(&x.conf.policies.v[i].name, name))
			id = x.conf.policies.v[i].ident;
	done(&x);
	return id;
}

/* Policy identity: stable across reordering and spelling, moved by any change. */
static void test_ident(void)
{
	uint64_t a, b;

	a = ident_of("version: 1\npolicies:\n  x: {body_limit: 5}\n"
		     "  rl: {rate_limit: {rate: 10/s, burst: 5, key: ip}}\n", "rl");
	CU_ASSERT_NOT_EQUAL(a, 0);
	/* Reordered, reformatted, defaults spelled out: the same policy. */
	b = ident_of("version: 1\npolicies:\n  rl:\n    rate_limit:\n      burst: 5\n"
		     "      rate: 600/min\n      max_keys: 100000\n", "rl");
	CU_ASSERT_NOT_EQUAL(a, b); /* 600/min is not 10/s: other quota and period */
	b = ident_of("version: 1\npolicies:\n  rl:\n    rate_limit:\n      burst: 5\n"
		     "      rate: 10/1000ms\n      max_keys: 100000\n  x: {body_limit: 7}\n", "rl");
	CU_ASSERT_EQUAL(a, b);
	b = ident_of("version: 1\npolicies:\n  rl: {rate_limit: {rate: 10/s, burst: 6}}\n", "rl");
	CU_ASSERT_NOT_EQUAL(a, b);
	b = ident_of("version: 1\npolicies:\n  rl2: {rate_limit: {rate: 10/s, burst: 5}}\n", "rl2");
	CU_ASSERT_NOT_EQUAL(a, b);
	a = ident_of("version: 1\npolicies:\n  h: {headers: {request: {add: {A: b}}}}\n", "h");
	b = ident_of("version: 1\npolicies:\n  h: {headers: {response: {add: {A: b}}}}\n", "h");
	CU_ASSERT_NOT_EQUAL(a, b);
	a = ident_of("version: 1\npolicies:\n  i: {ip: {allow: [10.0.0.0/8]}}\n", "i");
	b = ident_of("version: 1\npolicies:\n  i: {ip: {deny: [10.0.0.0/8]}}\n", "i");
	CU_ASSERT_NOT_EQUAL(a, b);
}

/* ---- errors, class by class ---- */

static void test_err_top(void)
{
	expect("", "t.yaml:1:1: error: the file is empty: a route file is a mapping with 'version: 1'\n");
	expect("# only a comment\n",
	       "t.yaml:1:1: error: the file is empty: a route file is a mapping with 'version: 1'\n");
	expect("- a\n", "t.yaml:1:1: error: the top level must be a mapping with 'version: 1'\n");
	expect("routes: []\n", "t.yaml:1:1: error: missing required key 'version' (version: 1)\n");
	expect("version: 2\n", "t.yaml:1:10: error: unsupported version 2 (gwc reads version 1)\n");
	expect("version: '1'\n", "t.yaml:1:10: error: expected an integer for 'version', got "
				 "the string '1' (remove the quotes)\n");
	expect("version: 1\nroute: []\n", "t.yaml:2:1: error: unknown key 'route' in the top level\n");
	expect("version: 1\nversion: 1\n",
	       "t.yaml:2:1: error: duplicate key 'version' (first at t.yaml:1:1)\n");
	expect("version: 1\nroutes: {}\n", "t.yaml:2:9: error: expected a sequence for 'routes', "
					   "got a mapping\n");
	expect("version: 1\npolicies: []\n", "t.yaml:2:11: error: expected a mapping for "
					     "'policies', got a sequence\n");
	/* Empty sections are fine. */
	expect("version: 1\nsettings:\nupstreams:\npolicies:\nroutes:\n", "");
}

/* YAML-level refusals, each at libyaml's mark. */
static void test_err_yaml(void)
{
	expect("version: 1\nroutes: [\n",
	       "t.yaml:3:1: error: YAML syntax error: did not find expected node content "
	       "(while parsing a flow node at line 3, column 1)\n");
	expect("version: 1\n x: 1\n",
	       "t.yaml:2:3: error: YAML syntax error: mapping values are not allowed in this context\n");
	expect("version: 1\nx: &a [1]\ny: *a\n",
	       "t.yaml:2:1: error: unknown key 'x' in the top level\n"
	       "t.yaml:2:4: error: YAML anchors are not allowed (&a)\n"
	       "t.yaml:3:1: error: unknown key 'y' in the top level\n"
	       "t.yaml:3:4: error: YAML aliases are not allowed (*a)\n");
	expect("version: !!int 1\n", "t.yaml:1:10: error: YAML tags are not allowed "
				     "(tag:yaml.org,2002:int)\n");
	expect("version: 1\n---\nversion: 1\n",
	       "t.yaml:2:1: error: a route file holds one YAML document; a second one starts here\n");
	expect("version: 1\n? [a]\n: 1\n",
	       "t.yaml:2:3: error: mapping keys must be scalars, not a sequence\n");
	expect("version: 1\nx: \"\xff\"\n",
	       "t.yaml:2:5: error: invalid YAML input: invalid leading UTF-8 octet (0xff)\n");
}

/* Nesting: 64 levels pass, the 65th is refused where it opens. */
static void test_err_depth(void)
{
	char buf[512];
	int o = snprintf(buf, sizeof buf, "version: 1\nx: ");

	for (int i = 0; i < 65; i++)
		buf[o++] = '[';
	for (int i = 0; i < 65; i++)
		buf[o++] = ']';
	buf[o++] = '\n';
	buf[o] = '\0';
	expect(buf, "t.yaml:2:67: error: YAML nesting deeper than 64 levels\n");
	/* 64 levels is fine (top mapping + 63 sequences): only the unknown key. */
	o = snprintf(buf, sizeof buf, "version: 1\nx: ");
	for (int i = 0; i < 63; i++)
		buf[o++] = '[';
	for (int i = 0; i < 63; i++)
		buf[o++] = ']';
	buf[o++] = '\n';
	buf[o] = '\0';
	expect(buf, "t.yaml:2:1: error: unknown key 'x' in the top level\n");
}

/* settings: CIDRs, cookie name, durations, sizes, counts. */
static void test_err_settings(void)
{
	expect("version: 1\nsettings:\n  trusted_proxies: [10.0.0.1/8, \"::/129\", 1.2.3, 10.0.0.0/08]\n"
	       "  sessions: {cookie: 'a;b', idle_timeout: 5, lifetime: 0s, x: 1}\n"
	       "  limits: {max_header_bytes: 16kb, max_connections: 0, max_connections_per_ip: -3,\n"
	       "           header_timeout: 50d, idle_timeout: 1.5s}\n",
	       "t.yaml:3:21: error: bad CIDR '10.0.0.1/8' for an item of 'trusted_proxies': host bits "
	       "are set (the network is 10.0.0.0/8)\n"
	       "t.yaml:3:33: error: bad CIDR '::/129' for an item of 'trusted_proxies': the prefix "
	       "must be 0 to 128\n"
	       "t.yaml:3:43: error: bad CIDR '1.2.3' for an item of 'trusted_proxies': not an IPv4 "
	       "or IPv6 address\n"
	       "t.yaml:3:50: error: bad CIDR '10.0.0.0/08' for an item of 'trusted_proxies': the "
	       "prefix must be 0 to 32\n"
	       "t.yaml:4:22: error: bad cookie name 'a;b' (a token: letters, digits and "
	       "!#$%&'*+-.^_`|~)\n"
	       "t.yaml:4:43: error: bad duration '5' for 'idle_timeout' (expected an integer and a "
	       "unit: ms, s, m, h or d, as in 500ms or 30s)\n"
	       "t.yaml:4:56: error: 'lifetime' must be at least 1ms\n"
	       "t.yaml:4:60: error: unknown key 'x' in 'sessions'\n"
	       "t.yaml:5:30: error: bad size '16kb' for 'max_header_bytes' (expected an integer, "
	       "optionally with a unit: B, KB, MB, GB, KiB, MiB or GiB)\n"
	       "t.yaml:5:53: error: 'max_connections' must be at least 1\n"
	       "t.yaml:5:80: error: 'max_connections_per_ip' must be at least 1\n"
	       "t.yaml:6:28: error: 'header_timeout' must be at most 4294967295ms (about 49 days)\n"
	       "t.yaml:6:47: error: bad duration '1.5s' for 'idle_timeout' (expected an integer and "
	       "a unit: ms, s, m, h or d, as in 500ms or 30s)\n");
}

/* upstreams: addresses, weights, enums, health checks, hash keys. */
static void test_err_upstreams(void)
{
	expect("version: 1\nupstreams:\n"
	       "  u1:\n"
	       "    targets:\n"
	       "      - address: 127.0.0.1\n"
	       "      - {address: '::1:80', weight: 0}\n"
	       "      - {address: 'h:0'}\n"
	       "      - {weight: 1}\n"
	       "      - address: '[::1]:8'\n"
	       "    balance: random\n"
	       "    hash_key: ip\n"
	       "    retries: -1\n"
	       "    max_connections: 0\n"
	       "    health_check: {interval: 1s, healthy: 70000, path: 'x y'}\n"
	       "    circuit_breaker: {}\n"
	       "  bad name!:\n"
	       "    targets: []\n"
	       "  u3:\n"
	       "    balance: round_robin\n"
	       "    hash_key: ip\n"
	       "    hash_header: X-A\n"
	       "  u4: {targets: [{address: 'h:1'}], balance: hash, hash_key: header}\n",
	       "t.yaml:5:18: error: bad address '127.0.0.1': expected HOST:PORT or [IPV6]:PORT with a "
	       "port from 1 to 65535\n"
	       "t.yaml:6:19: error: bad address '::1:80': the host is not an IP address nor a host "
	       "name (IPv6 goes in brackets: [::1]:8080)\n"
	       "t.yaml:6:37: error: 'weight' must be at least 1\n"
	       "t.yaml:7:19: error: bad address 'h:0': expected HOST:PORT or [IPV6]:PORT with a port "
	       "from 1 to 65535\n"
	       "t.yaml:8:9: error: missing required key 'address' in a target\n"
	       "t.yaml:10:14: error: bad value 'random' for 'balance' (expected one of: round_robin, "
	       "least_conn, hash)\n"
	       "t.yaml:12:14: error: 'retries' cannot be negative\n"
	       "t.yaml:13:22: error: 'max_connections' must be at least 1\n"
	       "t.yaml:14:43: error: 'healthy' must be between 1 and 65535\n"
	       "t.yaml:14:56: error: bad health check path 'x y': it starts with '/' and holds no "
	       "blanks, control characters or '#'\n"
	       "t.yaml:15:22: error: missing required key 'failures' in 'circuit_breaker'\n"
	       "t.yaml:15:22: error: missing required key 'cooldown' in 'circuit_breaker'\n"
	       "t.yaml:16:3: error: bad upstream name 'bad name!' (a letter or digit, then letters, "
	       "digits, '_', '.' or '-', at most 64 bytes)\n"
	       "t.yaml:17:14: error: upstream 'bad name!' needs at least one target\n"
	       "t.yaml:19:5: error: missing required key 'targets' in upstream 'u3'\n"
	       "t.yaml:20:5: error: 'hash_key' applies only with 'balance: hash'\n"
	       "t.yaml:22:62: error: missing required key 'hash_header' (hash_key is header)\n");
}

/* An upstream's tls and buffer: defaults, the warning of verify: false (no
 * error), paths made absolute from the route file's directory, and the
 * errors of each key at its place. */
static void test_upstream_tls(void)
{
	const char *name = "dir/t.yaml";
	const char *text = "version: 1\nupstreams:\n"
			   "  a: {targets: [{address: 'h:1'}], tls: {}, buffer: 1MiB}\n"
			   "  b: {targets: [{address: 'h:2'}]}\n"
			   "  c: {targets: [{address: 'h:3'}], tls: {verify: false, server_name: x.test}}\n";
	char cwd[4096], want[8192];
	struct fx x;

	run1(&x, text);
	CU_ASSERT_EQUAL(x.rc, 0);
	CU_ASSERT_STRING_EQUAL(x.errs, "t.yaml:5:50: warning: upstream 'c': 'verify: false' accepts "
			       "any certificate: the connection can be read and changed by anyone "
			       "on the path\n");
	CU_ASSERT_EQUAL(x.d.nwarn, 1);
	CU_ASSERT_EQUAL_FATAL(x.conf.uptls.n, 2);
	CU_ASSERT_EQUAL(x.conf.upstreams.v[0].tls, 0);
	CU_ASSERT_EQUAL(x.conf.upstreams.v[0].buffer, 1024 * 1024);
	CU_ASSERT_EQUAL(x.conf.upstreams.v[1].tls, GW_NONE);
	CU_ASSERT_EQUAL(x.conf.upstreams.v[1].buffer, 0);
	CU_ASSERT_EQUAL(x.conf.upstreams.v[2].tls, 1);
	CU_ASSERT_EQUAL(x.conf.uptls.v[0].upstream, 0);
	CU_ASSERT_EQUAL(x.conf.uptls.v[0].verify, 1);
	CU_ASSERT_EQUAL(x.conf.uptls.v[0].ca_file.len, 0);
	CU_ASSERT_EQUAL(x.conf.uptls.v[1].upstream, 2);
	CU_ASSERT_EQUAL(x.conf.uptls.v[1].verify, 0);
	CU_ASSERT(str_is(&x.conf.uptls.v[1].server_name, "x.test"));
	done(&x);

	/* relative paths: from the route file's directory, made absolute */
	text = "version: 1\nupstreams:\n"
	       "  a: {targets: [{address: 'h:1'}], tls: {ca_file: no/ca.pem}}\n";
	run(&x, 1, &name, &text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "dir/t.yaml:3:51: error: cannot read %s/dir/no/ca.pem: "
		 "No such file or directory\n", cwd);
	CU_ASSERT_STRING_EQUAL(x.errs, want);
	done(&x);

	expect("version: 1\nupstreams:\n"
	       "  a: {targets: [{address: 'h:1'}], buffer: 16KiB}\n"
	       "  b: {targets: [{address: 'h:1'}], buffer: 96KiB}\n"
	       "  c: {targets: [{address: 'h:1'}], tls: yes}\n"
	       "  d: {targets: [{address: 'h:1'}], tls: {cert: /x.pem, sni: a}}\n"
	       "  e: {targets: [{address: 'h:1'}], tls: {server_name: 'a/b', verify: maybe}}\n"
	       "  f: {targets: [{address: 'h:1'}], tls: {key: /dev/null/k, cert: /dev/null/c}}\n",
	       "t.yaml:3:44: error: bad buffer '16KiB': a power of two from 32KiB to 16MiB "
	       "(32KiB, 64KiB, 128KiB, ... 16MiB)\n"
	       "t.yaml:4:44: error: bad buffer '96KiB': a power of two from 32KiB to 16MiB "
	       "(32KiB, 64KiB, 128KiB, ... 16MiB)\n"
	       "t.yaml:5:41: error: expected a mapping for 'tls' (a mapping; {} for the "
	       "defaults), got 'yes'\n"
	       "t.yaml:6:48: error: 'cert' and 'key' go together (mutual TLS): give both or "
	       "neither\n"
	       "t.yaml:6:56: error: unknown key 'sni' in 'tls'\n"
	       "t.yaml:7:55: error: bad server_name 'a/b': a DNS name (letters, digits, '-' "
	       "and '.')\n"
	       "t.yaml:7:70: error: expected true or false for 'verify', got 'maybe'\n"
	       "t.yaml:8:66: error: cannot read /dev/null/c: Not a directory\n");
}

/* rate_limit, auth, body_limit, ip and policy-shape errors. */
static void test_err_policies(void)
{
	expect("version: 1\npolicies:\n"
	       "  p1: {rate_limit: {rate: 0/s, burst: 0, key: user, foo: 1, max_keys: 0}}\n"
	       "  p2: {rate_limit: {rate: 10/m}}\n"
	       "  p3: {rate_limit: {rate: 99999999999/s}}\n"
	       "  p4: {rate_limit: {burst: 1}}\n"
	       "  p5: {rate_limit: [{name: a, rate: 1/s}, {name: a, rate: 1/0s}]}\n"
	       "  p6: {rate_limit: []}\n"
	       "  p7: {rate_limit: {rate: 1/s, key: header}}\n"
	       "  p8: {rate_limit: {rate: 1/s, header: X-A}}\n"
	       "  p9: {auth: {type: session, header: X-Key}}\n"
	       "  p10: {auth: {user_header: Connection}}\n"
	       "  p11: {auth: {type: oauth}}\n"
	       "  p12: {body_limit: -1}\n"
	       "  p13: {body_limit: 1 MB}\n"
	       "  p14: {}\n"
	       "  p15: {auth: {type: session}, cors: {origins: ['*']}}\n"
	       "  p16: {colour: red}\n"
	       "  p17: {ip: {}}\n"
	       "  p18: {ip: {allow: [300.0.0.1], deny: 10.0.0.0/8}}\n",
	       "t.yaml:3:27: error: the quota of 'rate' must be at least 1\n"
	       "t.yaml:3:39: error: 'burst' must be at least 1\n"
	       "t.yaml:3:53: error: unknown key 'foo' in a rate limit\n"
	       "t.yaml:3:71: error: 'max_keys' must be at least 1\n"
	       "t.yaml:4:27: error: bad rate '10/m' (expected QUOTA/PERIOD, as in 10/s, 600/min or "
	       "100/10s; periods: s, min, h, d or a duration)\n"
	       "t.yaml:5:27: error: the quota of 'rate' must be at most 4294967295\n"
	       "t.yaml:6:20: error: missing required key 'rate' in a rate limit (as in rate: 10/s)\n"
	       "t.yaml:7:50: error: rate limit name 'a' is listed twice (first at t.yaml:7:28)\n"
	       "t.yaml:7:59: error: the period of 'rate' must be at least 1ms\n"
	       "t.yaml:8:20: error: 'rate_limit' lists no limit\n"
	       "t.yaml:9:37: error: missing required key 'header' (key is header)\n"
	       "t.yaml:10:32: error: 'header' applies only with 'key: header'\n"
	       "t.yaml:11:30: error: 'header' applies only with 'type: api_key'\n"
	       "t.yaml:12:15: error: missing required key 'type' in 'auth' (session, api_key or jwt)\n"
	       "t.yaml:12:29: error: header 'Connection' is a framing or hop-by-hop header and "
	       "cannot be set or removed\n"
	       "t.yaml:13:22: error: bad value 'oauth' for 'type' (expected one of: session, api_key, jwt)\n"
	       "t.yaml:14:21: error: 'body_limit' cannot be negative\n"
	       "t.yaml:15:21: error: bad size '1 MB' for 'body_limit' (expected an integer, "
	       "optionally with a unit: B, KB, MB, GB, KiB, MiB or GiB)\n"
	       "t.yaml:16:8: error: policy 'p14' needs one of: rate_limit, auth, body_limit, cors, "
	       "headers, ip\n"
	       "t.yaml:17:32: error: policy 'p15' has more than one kind ('auth' and 'cors'); define "
	       "one policy per kind\n"
	       "t.yaml:18:9: error: unknown key 'colour' in policy 'p16' (a policy is one of: "
	       "rate_limit, auth, body_limit, cors, headers, ip)\n"
	       "t.yaml:19:13: error: an ip policy needs 'allow' or 'deny'\n"
	       "t.yaml:20:22: error: bad CIDR '300.0.0.1' for an item of 'allow': not an IPv4 or "
	       "IPv6 address\n"
	       "t.yaml:20:40: error: expected a sequence for 'deny', got '10.0.0.0/8'\n");
}

/* body_limit: none, on proxy routes only; a size stops below its sentinel. */
static void test_body_limit_none(void)
{
	struct fx x;

	expect("version: 1\n"
	       "upstreams:\n  u: {targets: [{address: 127.0.0.1:9}]}\n"
	       "policies:\n  any: {body_limit: none}\n  big: {body_limit: 1GiB}\n"
	       "routes:\n"
	       "  - {path: /p, methods: [POST], policies: [any, big], proxy: {upstream: u}}\n"
	       "  - {path: /e, methods: [POST], policies: [big, any], echo: {}}\n"
	       "  - {path: /r, methods: [POST], policies: [any], respond: {body: x}}\n",
	       "t.yaml:9:49: error: policy 'any' has body_limit: none, which only a proxy "
	       "route takes (other handlers read the body whole)\n"
	       "t.yaml:10:44: error: policy 'any' has body_limit: none, which only a proxy "
	       "route takes (other handlers read the body whole)\n");
	expect("version: 1\npolicies:\n  p: {body_limit: 18446744073709551615}\n",
	       "t.yaml:3:19: error: 'body_limit' must be at most 18446744073709551614 bytes\n");
	run1(&x, "version: 1\n"
		 "upstreams:\n  u: {targets: [{address: 127.0.0.1:9}]}\n"
		 "policies:\n  any: {body_limit: none}\n"
		 "routes:\n  - {path: /p, methods: [POST], policies: [any], proxy: {upstream: u}}\n");
	CU_ASSERT_EQUAL(x.rc, 0);
	CU_ASSERT_STRING_EQUAL(x.errs, "");
	CU_ASSERT_EQUAL_FATAL(x.conf.body_limits.n, 1);
	CU_ASSERT_EQUAL(x.conf.body_limits.v[0], GW_BODY_LIMIT_NONE);
	done(&x);
}

/* cors origins and credentials; header names, values, hop-by-hop. */
static void test_err_cors_headers(void)
{
	expect("version: 1\npolicies:\n"
	       "  c1: {cors: {origins: ['*', 'https://a.example'], credentials: true}}\n"
	       "  c2: {cors: {origins: ['https://A.example', 'ftp://x', 'https://a.example/'], "
	       "max_age: 1500ms}}\n"
	       "  c3: {cors: {origins: ['*'], credentials: yes, methods: [GET, get, GET]}}\n"
	       "  c4: {cors: {methods: []}}\n"
	       "  c5: {cors: {origins: ['http://a.b:8080', 'http://a.b:8080'], headers: ['a b', A, a]}}\n"
	       "  h1:\n"
	       "    headers:\n"
	       "      request:\n"
	       "        add: {Content-Length: '5', X-A: \"a\\nb\", x-b: c, X-B: d, Host: h}\n"
	       "        remove: [Transfer-Encoding, 'bad header', X-C, x-c]\n"
	       "      response: {add: {X-Z: \"\\0\"}, remove: [te, upgrade, Keep-Alive]}\n"
	       "  h2: {headers: {}}\n"
	       "  h3: {headers: {request: [a], response: {remove: x}}}\n",
	       "t.yaml:3:25: error: origin '*' cannot be combined with other origins\n"
	       "t.yaml:3:65: error: 'credentials: true' cannot be used with origin '*' (browsers "
	       "refuse it)\n"
	       "t.yaml:4:25: error: bad origin 'https://A.example' (expected \"*\" or a lower-case "
	       "scheme://host[:port], as in https://app.example.com)\n"
	       "t.yaml:4:46: error: bad origin 'ftp://x' (expected \"*\" or a lower-case "
	       "scheme://host[:port], as in https://app.example.com)\n"
	       "t.yaml:4:57: error: bad origin 'https://a.example/' (expected \"*\" or a lower-case "
	       "scheme://host[:port], as in https://app.example.com)\n"
	       "t.yaml:4:89: error: 'max_age' must be a whole number of seconds\n"
	       "t.yaml:5:44: error: expected true or false for 'credentials', got 'yes'\n"
	       "t.yaml:5:64: error: unknown method 'get' (methods are upper-case: GET)\n"
	       "t.yaml:5:69: error: method 'GET' is listed twice\n"
	       "t.yaml:6:14: error: missing required key 'origins' in 'cors'\n"
	       "t.yaml:6:24: error: 'methods' lists no method\n"
	       "t.yaml:7:44: error: origin 'http://a.b:8080' is listed twice (first at t.yaml:7:25)\n"
	       "t.yaml:7:74: error: bad header name 'a b' for an item of 'headers' (a token: letters, "
	       "digits and !#$%&'*+-.^_`|~)\n"
	       "t.yaml:7:84: error: header 'a' is listed twice (first at t.yaml:7:81)\n"
	       "t.yaml:11:15: error: header 'Content-Length' is a framing or hop-by-hop header and "
	       "cannot be set or removed\n"
	       "t.yaml:11:41: error: the value of header 'X-A' contains a control character (0x0a): "
	       "CR, LF and NUL would split or end the header\n"
	       "t.yaml:11:57: error: header 'X-B' is listed twice (first at t.yaml:11:49)\n"
	       "t.yaml:11:65: error: header 'Host' is a framing or hop-by-hop header and cannot be "
	       "set or removed\n"
	       "t.yaml:12:18: error: header 'Transfer-Encoding' is a framing or hop-by-hop header "
	       "and cannot be set or removed\n"
	       "t.yaml:12:37: error: bad header name 'bad header' for a header to remove (a token: "
	       "letters, digits and !#$%&'*+-.^_`|~)\n"
	       "t.yaml:12:56: error: header 'x-c' is listed twice (first at t.yaml:12:51)\n"
	       "t.yaml:13:29: error: the value of header 'X-Z' contains a control character (0x00): "
	       "CR, LF and NUL would split or end the header\n"
	       "t.yaml:13:45: error: header 'te' is a framing or hop-by-hop header and cannot be set "
	       "or removed\n"
	       "t.yaml:13:49: error: header 'upgrade' is a framing or hop-by-hop header and cannot "
	       "be set or removed\n"
	       "t.yaml:13:58: error: header 'Keep-Alive' is a framing or hop-by-hop header and "
	       "cannot be set or removed\n"
	       "t.yaml:14:17: error: a headers policy needs 'request' or 'response'\n"
	       "t.yaml:15:27: error: expected a mapping for 'request', got a sequence\n"
	       "t.yaml:15:51: error: expected a sequence for 'remove', got 'x'\n");
}

/* Route shape: paths, methods, hosts, names, handlers. */
static void test_err_routes(void)
{
	expect("version: 1\nroutes:\n"
	       "  - path: api\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /a/\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /a//b\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /a/*/b\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /a/v{id}\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /a/{1d}\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /a/{x}/{x}\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /a/../b\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /a%20b\n    methods: [GET]\n    echo: {}\n"
	       "  - path: \"/a\\tb\"\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /ok\n    methods: [GET, FETCH, POST, POST]\n    echo: {}\n"
	       "  - path: /ok2\n    methods: GET\n    echo: {}\n"
	       "  - path: /ok3\n    echo: {}\n"
	       "  - methods: [GET]\n    echo: {}\n"
	       "  - path: /h\n    methods: [GET]\n    host: 'a.example:80'\n    echo: {}\n"
	       "  - path: /h2\n    methods: [GET]\n    host: '*.example'\n    echo: {}\n"
	       "  - path: /n\n    name: 'has space'\n    methods: [GET]\n    echo: {}\n"
	       "  - path: /none\n    methods: [GET]\n"
	       "  - path: /two\n    methods: [GET]\n    echo: {}\n    health: {}\n"
	       "  - path: /f\n    methods: [GET]\n    metrics: {x: 1}\n"
	       "  - path: /g\n    methods: [GET]\n    logout: 5\n    colour: red\n"
	       "  - just a string\n",
	       "t.yaml:3:11: error: bad path 'api': a path starts with '/'\n"
	       "t.yaml:6:11: error: bad path '/a/': no trailing '/' (the path without it also "
	       "matches requests with it)\n"
	       "t.yaml:9:11: error: bad path '/a//b': empty segment ('//')\n"
	       "t.yaml:12:11: error: bad path '/a/*/b': '*' must be the last segment\n"
	       "t.yaml:15:11: error: bad path '/a/v{id}': '{' in a literal segment ({param} and "
	       "'*' are whole segments)\n"
	       "t.yaml:18:11: error: bad path '/a/{1d}': bad parameter name '1d' (letters, digits "
	       "and '_', not starting with a digit)\n"
	       "t.yaml:21:11: error: bad path '/a/{x}/{x}': parameter {x} appears twice\n"
	       "t.yaml:24:11: error: bad path '/a/../b': '.' and '..' segments never match "
	       "(requests are normalised first)\n"
	       "t.yaml:27:11: error: bad path '/a%20b': character '%' is not allowed in a literal "
	       "segment (write literals decoded; '\\', '?', '#', '%' and control characters never "
	       "reach the matcher)\n"
	       "t.yaml:30:11: error: bad path '/a\\x09b': character '\\x09' is not allowed in a "
	       "literal segment (write literals decoded; '\\', '?', '#', '%' and control "
	       "characters never reach the matcher)\n"
	       "t.yaml:34:20: error: unknown method 'FETCH' (expected GET, HEAD, POST, PUT, DELETE, "
	       "PATCH or OPTIONS)\n"
	       "t.yaml:34:33: error: method 'POST' is listed twice\n"
	       "t.yaml:37:14: error: expected a sequence for 'methods', got 'GET'\n"
	       "t.yaml:39:5: error: missing required key 'methods' in a route (as in methods: [GET])\n"
	       "t.yaml:41:5: error: missing required key 'path' in a route\n"
	       "t.yaml:45:11: error: bad host 'a.example:80': routes match the host name without "
	       "a port\n"
	       "t.yaml:49:11: error: bad host '*.example': expected a DNS name such as "
	       "api.example.com\n"
	       "t.yaml:52:11: error: bad route name 'has space' (a letter or digit, then letters, "
	       "digits, '_', '.' or '-', at most 64 bytes)\n"
	       "t.yaml:55:5: error: a route needs a handler: one of respond, echo, proxy, login, "
	       "logout, health, metrics, status\n"
	       "t.yaml:60:5: error: a route has exactly one handler; 'health' comes after 'echo'\n"
	       "t.yaml:63:15: error: unknown key 'x' in 'metrics' (it takes no fields)\n"
	       "t.yaml:66:13: error: expected {} for 'logout' (it takes no fields), got '5'\n"
	       "t.yaml:67:5: error: unknown key 'colour' in a route\n"
	       "t.yaml:68:5: error: expected a mapping for an item of 'routes', got 'just a string'\n");
	/* An unusable path reports itself once: its templates' references are
	 * not checked against a half-read parameter list. */
	expect("version: 1\nroutes:\n  - path: /a/{id}/\n    methods: [GET]\n"
	       "    respond: {body: '${path.id} ${path.*}'}\n",
	       "t.yaml:3:11: error: bad path '/a/{id}/': no trailing '/' (the path without it "
	       "also matches requests with it)\n");
}

/* respond, proxy, templates, and references resolved at the end. */
static void test_err_handlers(void)
{
	expect("version: 1\nupstreams:\n  u: {targets: [{address: 'h:1'}]}\n"
	       "policies:\n  s: {auth: {type: session}}\n  k: {auth: {type: api_key}}\n"
	       "  per-user: {rate_limit: {rate: 1/s, key: user}}\n"
	       "routes:\n"
	       "  - path: /a/{id}\n    methods: [GET]\n"
	       "    respond: {status: 99, body: '${path.x}', headers: {Content-Length: '1'}}\n"
	       "  - path: /b/{id}\n    methods: [GET]\n"
	       "    respond: {status: 204, body: x, colour: 1}\n"
	       "  - path: /c/{id}\n    methods: [GET]\n"
	       "    respond: {body: '${path.*} ${query} ${query.a b} $x ${path.id:=a}'}\n"
	       "  - path: /d\n    methods: [GET]\n    respond: {body: '${path.id'}\n"
	       "  - path: /e\n    methods: [GET]\n    respond: {body: '${query.a:-$}'}\n"
	       "  - path: /p/{id}\n    methods: [GET]\n"
	       "    proxy: {upstream: nope, rewrite: /x, strip_prefix: /p}\n"
	       "  - path: /q/{id}\n    methods: [GET]\n    proxy: {rewrite: 'x/${path.id}'}\n"
	       "  - path: /r/{id}\n    methods: [GET]\n    proxy: {upstream: u, strip_prefix: /s}\n"
	       "  - path: /s/{id}\n    methods: [GET]\n    proxy: {upstream: u, strip_prefix: /s/}\n"
	       "  - path: /t/{id}\n    methods: [GET]\n    proxy: {upstream: u, rewrite: '/t/${path.idx}'}\n"
	       "  - path: /u\n    methods: [GET]\n    policies: [per-user, s, missing, k, k]\n    echo:\n"
	       "  - path: /v\n    methods: [GET]\n    policies: [s, per-user]\n    echo:\n",
	       "t.yaml:11:23: error: 'status' must be between 100 and 599\n"
	       "t.yaml:11:33: error: 'body' refers to ${path.x} but the path has no {x}\n"
	       "t.yaml:11:56: error: header 'Content-Length' is a framing or hop-by-hop header and "
	       "cannot be set or removed\n"
	       "t.yaml:14:34: error: a response with status 204 has no body\n"
	       "t.yaml:14:37: error: unknown key 'colour' in 'respond'\n"
	       "t.yaml:17:21: error: 'body' refers to ${path.*} but the path does not end in '*'\n"
	       "t.yaml:17:21: error: 'body': bad substitution '${query}' (expected ${path.NAME}, "
	       "${path.*} or ${query.NAME}, optionally with :-TEXT or :+TEXT)\n"
	       "t.yaml:17:21: error: 'body': bad substitution '${query.a b}' (expected ${path.NAME}, "
	       "${path.*} or ${query.NAME}, optionally with :-TEXT or :+TEXT)\n"
	       "t.yaml:17:21: error: 'body': a '$' starts ${...} (write $$ for a literal '$')\n"
	       "t.yaml:20:21: error: 'body': '${' without its closing '}'\n"
	       "t.yaml:23:21: error: 'body': '$' is not allowed in the TEXT of ${X:-TEXT} or "
	       "${X:+TEXT}\n"
	       "t.yaml:26:23: error: unknown upstream 'nope'\n"
	       "t.yaml:26:42: error: 'rewrite' and 'strip_prefix' exclude each other\n"
	       "t.yaml:29:12: error: missing required key 'upstream' in 'proxy'\n"
	       "t.yaml:29:22: error: bad rewrite 'x/${path.id}': it starts with '/' and holds no "
	       "blanks, control characters or '#'\n"
	       "t.yaml:32:40: error: strip_prefix '/s' is not a leading part of the path '/r/{id}'\n"
	       "t.yaml:35:40: error: bad strip_prefix '/s/': a literal path such as /api, without a "
	       "trailing '/'\n"
	       "t.yaml:38:35: error: 'rewrite' refers to ${path.idx} but the path has no {idx}\n"
	       "t.yaml:41:16: error: policy 'per-user' limits by user: it needs an auth policy of "
	       "type session or jwt before it on the route\n"
	       "t.yaml:41:29: error: unknown policy 'missing'\n"
	       "t.yaml:41:41: error: policy 'k' is listed twice on the route\n");
}

/* Unreadable and oversized files: one message each, without a line. */
static void test_err_files(void)
{
	struct gw_conf conf;
	struct gw_diag d = { 0 };
	struct gwc_state *st = gwc_state_new();
	char *out = NULL, *big;
	size_t len = 0;
	FILE *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(gw_conf_init(&conf), 0);
	CU_ASSERT_EQUAL(gwc_parse_file(&conf, "/nonexistent/gw.yaml", &d, st), 1);
	CU_ASSERT_EQUAL(gwc_parse_file(&conf, "/", &d, st), 1);
	big = malloc(GWC_MAX_FILE_BYTES + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, '#', GWC_MAX_FILE_BYTES + 1);
	CU_ASSERT_EQUAL(gwc_parse_mem(&conf, "big.yaml", big, GWC_MAX_FILE_BYTES + 1, &d, st), 1);
	free(big);
	CU_ASSERT_EQUAL(conf.files.n, 3);
	m = open_memstream(&out, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	gw_diag_print(&d, conf.files.v, conf.files.n, m);
	fclose(m);
	CU_ASSERT_STRING_EQUAL(out,
		"gwc: error: cannot read /nonexistent/gw.yaml: No such file or directory\n"
		"gwc: error: cannot read /: Is a directory\n"
		"gwc: error: big.yaml: file larger than 16777216 bytes (16 MiB)\n");
	free(out);
	gw_diag_free(&d);
	gw_conf_free(&conf);
	gwc_state_free(st);
}

/* A flood of errors stops at GWC_MAX_ERRORS with one last message. */
static void test_err_cap(void)
{
	size_t n = 11 + 2000 * 9 + 1;
	char *text = malloc(n), *p = text;
	struct fx x;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	p += sprintf(p, "version: 1\n");
	for (int i = 0; i < 2000; i++)
		p += sprintf(p, "k%04d: 1\n", i);
	run1(&x, text);
	CU_ASSERT_EQUAL(x.rc, 1);
	CU_ASSERT_EQUAL(x.d.n, GWC_MAX_ERRORS + 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(x.errs, "gwc: error: too many errors (more than 1000); "
					      "stopped reporting\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x.errs, "t.yaml:1001:1: error: unknown key 'k0999'"));
	CU_ASSERT_PTR_NULL(strstr(x.errs, "k1000"));
	done(&x);
	free(text);
}

/* A billion-laughs file is refused at its first anchor and alias, without
 * expanding anything. */
static void test_laughs(void)
{
	struct fx x;

	run1(&x, "version: 1\n"
		 "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		 "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		 "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		 "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n");
	CU_ASSERT_EQUAL(x.rc, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(x.errs, "t.yaml:2:4: error: YAML anchors are not allowed (&a)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x.errs, "t.yaml:3:8: error: YAML aliases are not allowed (*a)\n"));
	done(&x);
}

int gw_suite_gwc_parse(void)
{
	CU_pSuite s = CU_add_suite("gwc/parse", NULL, NULL);

	if (!s)
		return -1;
	if (!CU_add_test(s, "settings", test_settings) ||
	    !CU_add_test(s, "upstreams", test_upstreams) ||
	    !CU_add_test(s, "policies", test_policies) ||
	    !CU_add_test(s, "routes and hosts", test_routes) ||
	    !CU_add_test(s, "templates", test_templates) ||
	    !CU_add_test(s, "several files", test_files) ||
	    !CU_add_test(s, "fingerprint", test_fingerprint) ||
	    !CU_add_test(s, "policy identity", test_ident) ||
	    !CU_add_test(s, "errors: top level", test_err_top) ||
	    !CU_add_test(s, "errors: YAML", test_err_yaml) ||
	    !CU_add_test(s, "errors: nesting", test_err_depth) ||
	    !CU_add_test(s, "errors: settings", test_err_settings) ||
	    !CU_add_test(s, "errors: upstreams", test_err_upstreams) ||
	    !CU_add_test(s, "upstream tls and buffer", test_upstream_tls) ||
	    !CU_add_test(s, "errors: policies", test_err_policies) ||
	    !CU_add_test(s, "body_limit: none", test_body_limit_none) ||
	    !CU_add_test(s, "errors: cors and headers", test_err_cors_headers) ||
	    !CU_add_test(s, "errors: routes", test_err_routes) ||
	    !CU_add_test(s, "errors: handlers and references", test_err_handlers) ||
	    !CU_add_test(s, "errors: files", test_err_files) ||
	    !CU_add_test(s, "errors: cap", test_err_cap) ||
	    !CU_add_test(s, "billion laughs", test_laughs))
		return -1;
	return 0;
}
