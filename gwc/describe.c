/* Blob records as attribute lists (describe.h), for `gwc inspect` and
 * `gwc diff`.  Every value is built with open_memstream, so that a template
 * or a target list of any length needs no size guess. */
#include "gwc/describe.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/blob-t.h"
#include "lib/jwk.h"

/* describe.h. */
void gwc_desc_add(struct gwc_desc *d, const char *key, const char *fmt, ...)
{
	struct gwc_attr *a;
	char *val = NULL, *k = strdup(key);
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&val, fmt, ap) < 0)
		val = NULL;
	va_end(ap);
	a = k && val ? gw_vec_push((void **)&d->v, d->n, &d->cap, sizeof *d->v) : NULL;
	if (!a) {
		free(k);
		free(val);
		d->oom = 1;
		return;
	}
	a->key = k;
	a->val = val;
	d->n++;
}

/* describe.h. */
void gwc_desc_free(struct gwc_desc *d)
{
	for (uint32_t i = 0; i < d->n; i++) {
		free(d->v[i].key);
		free(d->v[i].val);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}

/* Take the text written to <f> (an open_memstream of <*buf>) as attribute
 * <key>.  Closes <f>; frees the buffer. */
static void add_stream(struct gwc_desc *d, const char *key, FILE *f, char **buf)
{
	if (!f) {
		d->oom = 1;
		return;
	}
	if (fclose(f) != 0 || !*buf)
		d->oom = 1;
	else
		gwc_desc_add(d, key, "%s", *buf);
	free(*buf);
	*buf = NULL;
}

/* describe.h: the largest unit that divides <ms> exactly. */
void gwc_fmt_ms(char *buf, unsigned len, uint32_t ms)
{
	static const struct { uint32_t ms; const char *unit; } units[] = {
		{ 86400000u, "d" }, { 3600000u, "h" }, { 60000u, "m" }, { 1000u, "s" },
	};

	for (size_t k = 0; k < sizeof units / sizeof *units; k++)
		if (ms && ms % units[k].ms == 0) {
			snprintf(buf, len, "%u%s", ms / units[k].ms, units[k].unit);
			return;
		}
	snprintf(buf, len, "%ums", ms);
}

/* A size as the route language writes it: "1MiB", "16KiB", "1000B". */
static void fmt_size(char *buf, unsigned len, uint64_t n)
{
	static const char *const units[] = { "GiB", "MiB", "KiB" };

	for (int k = 0; k < 3; k++) {
		uint64_t u = 1ull << (10 * (3 - k));

		if (n && n % u == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(n / u), units[k]);
			return;
		}
	}
	snprintf(buf, len, "%lluB", (unsigned long long)n);
}

/* Method names of <mask>, joined with <sep>. */
static void put_methods(FILE *f, unsigned mask, const char *sep)
{
	const char *s = "";

	for (unsigned bit = 1; bit <= GW_M_ALL; bit <<= 1)
		if (mask & bit) {
			fprintf(f, "%s%s", s, gw_method_name(bit));
			s = sep;
		}
}

/* FILE:LINE:COL of <pl>, "-" without a place. */
static void put_place(FILE *f, const struct gw_blob *b, struct gw_place pl)
{
	struct gw_str file;

	if (!pl.line)
		fputs("-", f);
	else if (gw_blob_file(b, pl.file, &file) == 0)
		fprintf(f, "%s:%u:%u", file.p, pl.line, pl.col);
	else
		fprintf(f, "file %u:%u:%u", pl.file, pl.line, pl.col);
}

/* The "source" attribute: where the record was written. */
static void add_place(struct gwc_desc *d, const struct gw_blob *b, struct gw_place pl)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f)
		put_place(f, b, pl);
	add_stream(d, "source", f, &buf);
}

/* The name of the <n>th {param} of <pattern>, for ${path.NAME}; "#n" when
 * the pattern has fewer. */
static void put_param_name(FILE *f, const struct gw_str *pattern, unsigned n)
{
	const char *p = pattern->p, *end = p + pattern->len;

	for (; p < end; p++) {
		const char *close;

		if (*p != '{')
			continue;
		close = memchr(p, '}', (size_t)(end - p));
		if (!close)
			break;
		if (n-- == 0) {
			fprintf(f, "%.*s", (int)(close - p - 1), p + 1);
			return;
		}
		p = close;
	}
	fprintf(f, "#%u", n);
}

/* Literal text in template syntax: "$" written "$$". */
static void put_literal(FILE *f, const struct gw_str *s)
{
	for (uint32_t k = 0; k < s->len; k++) {
		if (s->p[k] == '$')
			fputc('$', f);
		fputc(s->p[k], f);
	}
}

/* Template parts <first>..+<count> back in the route language's syntax;
 * parameter names come from <pattern>, the route using the template. */
static void put_tpl(FILE *f, const struct gw_blob *b, uint32_t first, uint32_t count,
		    const struct gw_str *pattern)
{
	for (uint32_t k = 0; k < count; k++) {
		struct gw_tpl t;

		if (gw_blob_tpl(b, first + k, &t) < 0)
			return;
		if (t.kind == GW_TPL_LITERAL) {
			put_literal(f, &t.text);
			continue;
		}
		fputs("${", f);
		if (t.kind == GW_TPL_PARAM) {
			fputs("path.", f);
			put_param_name(f, pattern, t.param);
		} else if (t.kind == GW_TPL_REST) {
			fputs("path.*", f);
		} else {
			fprintf(f, "query.%s", t.text.p);
		}
		if (t.mode == GW_TPL_DEFAULT || t.mode == GW_TPL_ALT) {
			fputs(t.mode == GW_TPL_DEFAULT ? ":-" : ":+", f);
			put_literal(f, &t.alt);
		}
		fputs("}", f);
	}
}

/* "Name: value" pairs <first>..+<count>, joined with "; ". */
static void put_headers(FILE *f, const struct gw_blob *b, uint32_t first, uint32_t count)
{
	for (uint32_t k = 0; k < count; k++) {
		struct gw_header h;

		if (gw_blob_header(b, first + k, &h) == 0)
			fprintf(f, "%s%s: %s", k ? "; " : "", h.name.p, h.value.p);
	}
}

/* List strings <first>..+<count>, joined with ", ". */
static void put_strlist(FILE *f, const struct gw_blob *b, uint32_t first, uint32_t count)
{
	for (uint32_t k = 0; k < count; k++) {
		struct gw_str s;

		if (gw_blob_strlist(b, first + k, &s) == 0)
			fprintf(f, "%s%s", k ? ", " : "", s.p);
	}
}

/* CIDRs <first>..+<count> as ADDR/PREFIX, joined with ", "; "-" for none. */
static void put_cidrs(FILE *f, const struct gw_blob *b, uint32_t first, uint32_t count)
{
	char text[INET6_ADDRSTRLEN];

	for (uint32_t k = 0; k < count; k++) {
		struct gw_cidr c;

		if (gw_blob_cidr(b, first + k, &c) < 0)
			continue;
		if (!inet_ntop(c.family == 4 ? AF_INET : AF_INET6, c.addr, text, sizeof text))
			strcpy(text, "?");
		fprintf(f, "%s%s/%u", k ? ", " : "", text, c.prefix);
	}
	if (!count)
		fputs("-", f);
}

/* Add attribute <key> whose value <stmt> writes to the stream <f>. */
#define ADD_WITH(d, key, stmt) \
	do { \
		char *buf_ = NULL; \
		size_t len_; \
		FILE *f = open_memstream(&buf_, &len_); \
		if (f) { \
			stmt; \
		} \
		add_stream(d, key, f, &buf_); \
	} while (0)

/* The names of route <r>'s policies, in order, or "-". */
static void put_policies(FILE *f, const struct gw_blob *b, const struct gw_route *r)
{
	for (uint32_t k = 0; k < r->pol_count; k++) {
		struct gw_policy p;
		uint32_t pi;

		if (gw_blob_polref(b, r->pol_first + k, &pi) == 0 && gw_blob_policy(b, pi, &p) == 0)
			fprintf(f, "%s%s", k ? ", " : "", p.name.p);
	}
	if (!r->pol_count)
		fputs("-", f);
}

/* Upstream <u>'s targets as HOST:PORT (IPv6 in brackets) with weights. */
static void put_targets(FILE *f, const struct gw_blob *b, const struct gw_upstream *u)
{
	for (uint32_t k = 0; k < u->tgt_count; k++) {
		struct gw_target t;

		if (gw_blob_target(b, u->tgt_first + k, &t) < 0)
			continue;
		fprintf(f, strchr(t.host.p, ':') ? "%s[%s]:%u weight %u" : "%s%s:%u weight %u",
			k ? ", " : "", t.host.p, t.port, t.weight);
	}
}

/* describe.h. */
char *gwc_route_title(const struct gw_blob *b, uint32_t i)
{
	struct gw_route r;
	struct gw_str host;
	uint32_t root;
	char *buf = NULL;
	size_t len;
	FILE *f;

	if (gw_blob_route(b, i, &r) < 0 || !(f = open_memstream(&buf, &len)))
		return NULL;
	put_methods(f, r.methods, ",");
	fputc(' ', f);
	if (r.host && gw_blob_host(b, r.host, &host, &root) == 0)
		fputs(host.p, f);
	fputs(r.pattern.p, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static const char *handler_name(unsigned h)
{
	static const char *const names[] = {
		"?", "respond", "echo", "proxy", "login", "logout", "health", "metrics", "status",
	};
	return h < sizeof names / sizeof *names ? names[h] : "?";
}

/* describe.h: name, handler and its parameters, policies, source. */
int gwc_describe_route(const struct gw_blob *b, uint32_t i, struct gwc_desc *d)
{
	struct gw_route r;

	if (gw_blob_route(b, i, &r) < 0)
		return -1;
	if (r.name.len)
		gwc_desc_add(d, "name", "%s", r.name.p);
	gwc_desc_add(d, "handler", "%s", handler_name(r.handler));
	if (r.handler == GW_H_RESPOND) {
		struct gw_respond s;

		if (gw_blob_respond(b, r.handler_index, &s) == 0) {
			gwc_desc_add(d, "status", "%u", s.status);
			if (s.hdr_count)
				ADD_WITH(d, "headers", put_headers(f, b, s.hdr_first, s.hdr_count));
			if (s.body_count)
				ADD_WITH(d, "body", put_tpl(f, b, s.body_first, s.body_count, &r.pattern));
			else
				gwc_desc_add(d, "body", "(empty)");
		}
	} else if (r.handler == GW_H_PROXY) {
		struct gw_proxy p;
		struct gw_upstream u;

		if (gw_blob_proxy(b, r.handler_index, &p) == 0) {
			if (gw_blob_upstream(b, p.upstream, &u) == 0)
				gwc_desc_add(d, "upstream", "%s", u.name.p);
			if (p.rewrite_count)
				ADD_WITH(d, "rewrite", put_tpl(f, b, p.rewrite_first, p.rewrite_count,
							       &r.pattern));
			if (p.strip_prefix.len)
				gwc_desc_add(d, "strip_prefix", "%s", p.strip_prefix.p);
		}
		if (r.websocket)
			gwc_desc_add(d, "websocket", "true");
	}
	ADD_WITH(d, "policies", put_policies(f, b, &r));
	add_place(d, b, r.place);
	return d->oom ? -1 : 0;
}

static const char *rl_key_name(unsigned k)
{
	static const char *const names[] = { "?", "ip", "user", "api_key", "header", "route" };
	return k < sizeof names / sizeof *names ? names[k] : "?";
}

/* The limits of rate-limit policy <p>: rate, burst, key, max_keys each. */
static void describe_ratelimits(const struct gw_blob *b, const struct gw_policy *p,
				struct gwc_desc *d)
{
	for (uint32_t j = 0; j < p->count; j++) {
		struct gw_ratelimit rl;
		char key[96], period[24];
		const char *pre;

		if (gw_blob_ratelimit(b, p->index + j, &rl) < 0)
			return;
		/* One limit: plain keys.  Several: each key names its limit. */
		pre = p->count > 1 ? rl.name.p : "";
		gwc_fmt_ms(period, sizeof period, rl.period_ms);
		snprintf(key, sizeof key, "%s%srate", pre, *pre ? " " : "");
		gwc_desc_add(d, key, "%u/%s", rl.quota, period);
		snprintf(key, sizeof key, "%s%sburst", pre, *pre ? " " : "");
		gwc_desc_add(d, key, "%u", rl.burst);
		snprintf(key, sizeof key, "%s%skey", pre, *pre ? " " : "");
		if (rl.key == GW_RLK_HEADER)
			gwc_desc_add(d, key, "header %s", rl.header.p);
		else
			gwc_desc_add(d, key, "%s", rl_key_name(rl.key));
		snprintf(key, sizeof key, "%s%smax_keys", pre, *pre ? " " : "");
		gwc_desc_add(d, key, "%u", rl.max_keys);
		/* the default (all) is not shown: descriptions of blobs that do
		 * not choose stay as they were */
		if (rl.headers != GW_RLH_ALL && j == 0)
			gwc_desc_add(d, "headers", "%s", rl.headers == GW_RLH_IETF ? "ietf" : "none");
		/* likewise: local scope is not shown */
		if (rl.scope == GW_RLS_CLUSTER) {
			snprintf(key, sizeof key, "%s%sscope", pre, *pre ? " " : "");
			gwc_desc_add(d, key, "cluster");
			snprintf(key, sizeof key, "%s%son_store_error", pre, *pre ? " " : "");
			gwc_desc_add(d, key, "%s", rl.on_store_error == GW_RLE_DENY ? "deny" : "allow");
		}
	}
}

/* The parameters of jwt record <i>: issuer, audiences, algorithms, claims,
 * scopes, token source, headers, keys (kid, type, algorithms; never the key
 * bytes) and the JWKS URL's timings. */
static void describe_jwt(const struct gw_blob *b, uint32_t i, struct gwc_desc *d)
{
	struct gw_jwt j;
	char buf[64];

	if (gw_blob_jwt(b, i, &j) < 0)
		return;
	gwc_desc_add(d, "issuer", "%s", j.issuer.p);
	ADD_WITH(d, "audiences", put_strlist(f, b, j.aud_first, j.aud_count));
	ADD_WITH(d, "algorithms", for (unsigned k = 0; k < 12; k++)
		if (j.algs & (1u << k))
			fprintf(f, "%s%s", (j.algs & ((1u << k) - 1)) ? ", " : "", gw_jwa_name(1u << k)));
	gwc_fmt_ms(buf, sizeof buf, j.leeway_s * 1000u);
	gwc_desc_add(d, "leeway", "%s", buf);
	if (j.has_count)
		ADD_WITH(d, "required_claims", put_strlist(f, b, j.has_first, j.has_count));
	if (j.eq_count)
		ADD_WITH(d, "claims", put_headers(f, b, j.eq_first, j.eq_count));
	if (j.scope_count) {
		ADD_WITH(d, "scopes", put_strlist(f, b, j.scope_first, j.scope_count));
		gwc_desc_add(d, "scopes_match", "%s", j.scope_any ? "any" : "all");
	}
	gwc_desc_add(d, "token", "%s%s", j.cookie.len ? "cookie " : "Authorization: Bearer",
		     j.cookie.p);
	if (j.hdr_count)
		ADD_WITH(d, "claim_headers", put_headers(f, b, j.hdr_first, j.hdr_count));
	gwc_desc_add(d, "forward_authorization", "%s", j.forward_auth ? "true" : "false");
	gwc_desc_add(d, "realm", "%s", j.realm.p);
	for (uint32_t k = 0; k < j.key_count; k++) {
		struct gw_jwk x;

		if (gw_blob_jwk(b, j.key_first + k, &x) < 0)
			continue;
		ADD_WITH(d, "key", {
			fprintf(f, "kid %s, %s%s%s, ", x.kid.len ? x.kid.p : "(none)",
				gw_jwk_kty_name(x.kty), x.crv ? " " : "", gw_jwk_crv_name(x.crv));
			for (unsigned a = 0; a < 12; a++)
				if (x.algs & (1u << a))
					fprintf(f, "%s%s", (x.algs & ((1u << a) - 1)) ? " " : "",
						gw_jwa_name(1u << a));
		});
	}
	if (j.jwks_url.len) {
		gwc_desc_add(d, "jwks_url", "%s", j.jwks_url.p);
		gwc_desc_add(d, "jwks_refresh", "%us..%us, unknown kid: at most every %us",
			     j.refresh_min_s, j.refresh_max_s, j.refetch_s);
	}
}

/* describe.h: kind, the kind's parameters, ident, source. */
int gwc_describe_policy(const struct gw_blob *b, uint32_t i, struct gwc_desc *d)
{
	static const char *const kinds[] = {
		"?", "rate_limit", "auth", "body_limit", "cors", "headers", "ip",
	};
	struct gw_policy p;
	char buf[64];

	if (gw_blob_policy(b, i, &p) < 0)
		return -1;
	gwc_desc_add(d, "kind", "%s", p.kind < 7 ? kinds[p.kind] : "?");
	switch (p.kind) {
	case GW_P_RATE_LIMIT:
		describe_ratelimits(b, &p, d);
		break;
	case GW_P_AUTH: {
		struct gw_auth a;

		if (gw_blob_auth(b, p.index, &a) < 0)
			break;
		gwc_desc_add(d, "type", "%s", a.type == GW_AUTH_SESSION ? "session" :
			     a.type == GW_AUTH_API_KEY ? "api_key" : "jwt");
		if (a.header.len)
			gwc_desc_add(d, "header", "%s", a.header.p);
		if (a.user_header.len)
			gwc_desc_add(d, "user_header", "%s", a.user_header.p);
		if (a.type == GW_AUTH_JWT && a.jwt != GW_NONE)
			describe_jwt(b, a.jwt, d);
		break;
	}
	case GW_P_BODY_LIMIT: {
		uint64_t n;

		if (gw_blob_body_limit(b, p.index, &n) < 0)
			break;
		if (n == GW_BODY_LIMIT_NONE)
			snprintf(buf, sizeof buf, "none");
		else
			fmt_size(buf, sizeof buf, n);
		gwc_desc_add(d, "max", "%s", buf);
		break;
	}
	case GW_P_CORS: {
		struct gw_cors c;

		if (gw_blob_cors(b, p.index, &c) < 0)
			break;
		ADD_WITH(d, "origins", put_strlist(f, b, c.origin_first, c.origin_count));
		ADD_WITH(d, "methods", c.methods ? put_methods(f, c.methods, ", ")
						 : (void)fputs("(the route's)", f));
		gwc_desc_add(d, "headers", "%s", c.allow_headers.len ? c.allow_headers.p : "-");
		gwc_desc_add(d, "expose", "%s", c.expose_headers.len ? c.expose_headers.p : "-");
		gwc_desc_add(d, "credentials", "%s", c.credentials ? "true" : "false");
		gwc_fmt_ms(buf, sizeof buf, c.max_age_s * 1000u);
		gwc_desc_add(d, "max_age", "%s", buf);
		break;
	}
	case GW_P_HEADERS: {
		struct gw_hdrpol h;

		if (gw_blob_hdrpol(b, p.index, &h) < 0)
			break;
		if (h.req_add_count)
			ADD_WITH(d, "request add", put_headers(f, b, h.req_add_first, h.req_add_count));
		if (h.req_del_count)
			ADD_WITH(d, "request remove",
				 put_strlist(f, b, h.req_del_first, h.req_del_count));
		if (h.resp_add_count)
			ADD_WITH(d, "response add",
				 put_headers(f, b, h.resp_add_first, h.resp_add_count));
		if (h.resp_del_count)
			ADD_WITH(d, "response remove",
				 put_strlist(f, b, h.resp_del_first, h.resp_del_count));
		break;
	}
	case GW_P_IP: {
		struct gw_ipfilter x;

		if (gw_blob_ipfilter(b, p.index, &x) < 0)
			break;
		ADD_WITH(d, "allow", put_cidrs(f, b, x.allow_first, x.allow_count));
		ADD_WITH(d, "deny", put_cidrs(f, b, x.deny_first, x.deny_count));
		break;
	}
	}
	gwc_desc_add(d, "ident", "%016llx", (unsigned long long)p.ident);
	add_place(d, b, p.place);
	return d->oom ? -1 : 0;
}

/* describe.h: targets, balancing, timeouts, checks, source. */
int gwc_describe_upstream(const struct gw_blob *b, uint32_t i, struct gwc_desc *d)
{
	static const char *const balance[] = { "?", "round_robin", "least_conn", "hash" };
	static const char *const hkey[] = { "-", "ip", "user", "header" };
	struct gw_upstream u;
	char t1[24], t2[24];

	if (gw_blob_upstream(b, i, &u) < 0)
		return -1;
	ADD_WITH(d, "targets", put_targets(f, b, &u));
	if (u.balance == GW_LB_HASH)
		gwc_desc_add(d, "balance", "hash by %s%s%s", u.hash_key < 4 ? hkey[u.hash_key] : "?",
			     u.hash_key == GW_HK_HEADER ? " " : "",
			     u.hash_key == GW_HK_HEADER ? u.hash_header.p : "");
	else
		gwc_desc_add(d, "balance", "%s", u.balance < 4 ? balance[u.balance] : "?");
	gwc_fmt_ms(t1, sizeof t1, u.connect_timeout_ms);
	gwc_desc_add(d, "connect_timeout", "%s", t1);
	gwc_fmt_ms(t1, sizeof t1, u.timeout_ms);
	gwc_desc_add(d, "timeout", "%s", t1);
	gwc_desc_add(d, "max_connections", "%u", u.max_conns);
	gwc_desc_add(d, "retries", "%u", u.retries);
	if (u.max_websockets) /* else gwd's default, not shown */
		gwc_desc_add(d, "max_websockets", "%u", u.max_websockets);
	if (u.hc_path.len) {
		gwc_fmt_ms(t1, sizeof t1, u.hc_interval_ms);
		gwc_fmt_ms(t2, sizeof t2, u.hc_timeout_ms);
		gwc_desc_add(d, "health_check", "GET %s every %s, timeout %s, healthy %u, unhealthy %u",
			     u.hc_path.p, t1, t2, u.hc_healthy, u.hc_unhealthy);
	} else {
		gwc_desc_add(d, "health_check", "off");
	}
	if (u.cb_failures) {
		gwc_fmt_ms(t1, sizeof t1, u.cb_cooldown_ms);
		gwc_desc_add(d, "circuit_breaker", "%u failures, cooldown %s", u.cb_failures, t1);
	} else {
		gwc_desc_add(d, "circuit_breaker", "off");
	}
	/* buffer and tls only when set: a plain upstream reads as it always did */
	if (u.buffer) {
		fmt_size(t1, sizeof t1, u.buffer);
		gwc_desc_add(d, "buffer", "%s", t1);
	}
	if (u.tls != GW_NONE) {
		struct gw_uptls t;

		if (gw_blob_uptls(b, u.tls, &t) < 0)
			return -1;
		gwc_desc_add(d, "tls", "verify %s, server_name %s, ca_file %s, client cert %s%s%s",
			     t.verify ? "on" : "OFF",
			     t.server_name.len ? t.server_name.p : "(target host)",
			     t.ca_file.len ? t.ca_file.p : "(system store)",
			     t.cert.len ? t.cert.p : "none", t.cert.len ? " key " : "",
			     t.cert.len ? t.key.p : "");
	}
	add_place(d, b, u.place);
	return d->oom ? -1 : 0;
}

/* describe.h: every setting, in the route language's units. */
int gwc_describe_settings(const struct gw_blob *b, struct gwc_desc *d)
{
	struct gw_settings s;
	char t[24];

	gw_blob_settings(b, &s);
	ADD_WITH(d, "trusted_proxies", put_cidrs(f, b, s.trusted_first, s.trusted_count));
	gwc_desc_add(d, "session cookie", "%s", s.session_cookie.p);
	gwc_fmt_ms(t, sizeof t, s.session_idle_ms);
	gwc_desc_add(d, "session idle_timeout", "%s", t);
	gwc_fmt_ms(t, sizeof t, s.session_lifetime_ms);
	gwc_desc_add(d, "session lifetime", "%s", t);
	fmt_size(t, sizeof t, s.max_header_bytes);
	gwc_desc_add(d, "max_header_bytes", "%s", t);
	gwc_fmt_ms(t, sizeof t, s.header_timeout_ms);
	gwc_desc_add(d, "header_timeout", "%s", t);
	gwc_fmt_ms(t, sizeof t, s.idle_timeout_ms);
	gwc_desc_add(d, "idle_timeout", "%s", t);
	gwc_desc_add(d, "max_connections", "%u", s.max_conns);
	gwc_desc_add(d, "max_connections_per_ip", "%u", s.max_conns_per_ip);
	if (s.websocket_idle_s) { /* else gwd's default, not shown */
		gwc_fmt_ms(t, sizeof t, (uint32_t)s.websocket_idle_s * 1000u);
		gwc_desc_add(d, "websocket_idle_timeout", "%s", t);
	}
	gwc_desc_add(d, "session secure", "%s",
		     s.session_secure == GW_SECURE_ALWAYS  ? "always"
		     : s.session_secure == GW_SECURE_NEVER ? "never"
							   : "auto");
	gwc_desc_add(d, "underscore_headers", "%s",
		     s.underscore_headers == GW_US_DROP    ? "drop"
		     : s.underscore_headers == GW_US_ALLOW ? "allow"
							   : "drop_lookalikes");
	return d->oom ? -1 : 0;
}
