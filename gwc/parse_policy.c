/* gwc's front end, part three: the `policies` section (docs/routes.md,
 * "policies") into conf.policies and the kind tables (ratelimits, auths,
 * body_limits, cors, hdrpols, ipfilters), each policy with its identity hash.
 *
 * The identity (gw_policy.ident) lets gwd keep a policy's state (rate-limit
 * buckets) across a reload when the policy did not change: it is FNV-1a 64 over
 * the name, the kind and the parameters in a canonical byte form built from the
 * decoded values, so it does not move when the file is reordered or reformatted.
 */
#include "gwc/parse_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "gwc/units.h"
#include "lib/http.h"

uint64_t gwc_fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- canonical form for the identity ---- */

/* Feed <v> to hash <h> as 4 bytes little-endian; returns the new hash. */
static uint64_t h_u32(uint64_t h, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	return gwc_fnv(h, b, 4);
}

/* Feed <v> as 8 bytes little-endian. */
static uint64_t h_u64(uint64_t h, uint64_t v)
{
	return h_u32(h_u32(h, (uint32_t)v), (uint32_t)(v >> 32));
}

/* A string as its length then its bytes, so that ("ab","c") != ("a","bc"). */
static uint64_t h_str(uint64_t h, const struct gw_str *s)
{
	return gwc_fnv(h_u32(h, s->len), s->p, s->len);
}

/* Feed <n> name/value pairs of conf.headers from <first>, count first. */
static uint64_t h_headers(uint64_t h, const struct gw_conf *c, uint32_t first, uint32_t n)
{
	h = h_u32(h, n);
	for (uint32_t i = 0; i < n; i++)
		h = h_str(h_str(h, &c->headers.v[first + i].name), &c->headers.v[first + i].value);
	return h;
}

/* Feed <n> strings of conf.strlist from <first>, count first. */
static uint64_t h_strs(uint64_t h, const struct gw_conf *c, uint32_t first, uint32_t n)
{
	h = h_u32(h, n);
	for (uint32_t i = 0; i < n; i++)
		h = h_str(h, &c->strlist.v[first + i]);
	return h;
}

/* Feed <n> CIDRs of conf.cidrs from <first>, count first. */
static uint64_t h_cidrs(uint64_t h, const struct gw_conf *c, uint32_t first, uint32_t n)
{
	h = h_u32(h, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct gw_cidr *x = &c->cidrs.v[first + i];

		h = gwc_fnv(h, &x->family, 1);
		h = gwc_fnv(h, &x->prefix, 1);
		h = gwc_fnv(h, x->addr, sizeof x->addr);
	}
	return h;
}

/* The identity of policy <p>, whose records are in <c>. */
static uint64_t ident(const struct gw_conf *c, const struct gw_policy *p)
{
	uint64_t h = h_str(GWC_FNV_INIT, &p->name);

	h = gwc_fnv(h, &p->kind, 1);
	switch (p->kind) {
	case GW_P_RATE_LIMIT:
		h = h_u32(h, p->count);
		for (uint32_t i = 0; i < p->count; i++) {
			const struct gw_ratelimit *r = &c->ratelimits.v[p->index + i];

			h = h_str(h, &r->name);
			h = gwc_fnv(h, &r->key, 1);
			h = h_str(h, &r->header);
			h = h_u32(h_u32(h, r->quota), r->period_ms);
			h = h_u32(h_u32(h, r->burst), r->max_keys);
			/* fed only when not the default, so that the identities
			 * of limits written before these settings stay the same */
			if (r->scope != GW_RLS_LOCAL || r->on_store_error != GW_RLE_ALLOW) {
				h = gwc_fnv(h, &r->scope, 1);
				h = gwc_fnv(h, &r->on_store_error, 1);
			}
		}
		break;
	case GW_P_AUTH: {
		const struct gw_auth *a = &c->auths.v[p->index];

		h = gwc_fnv(h, &a->type, 1);
		h = h_str(h_str(h, &a->header), &a->user_header);
		if (a->jwt < c->jwts.n) {
			const struct gw_jwt *j = &c->jwts.v[a->jwt];

			h = h_u32(h_u32(h, j->algs), (uint32_t)j->scope_any << 8 | j->forward_auth);
			h = h_str(h_str(h_str(h_str(h, &j->issuer), &j->cookie), &j->realm),
				  &j->jwks_url);
			h = h_strs(h, c, j->aud_first, j->aud_count);
			h = h_strs(h, c, j->scope_first, j->scope_count);
			h = h_strs(h, c, j->has_first, j->has_count);
			h = h_headers(h, c, j->eq_first, j->eq_count);
			h = h_headers(h, c, j->hdr_first, j->hdr_count);
			h = h_u32(h_u32(h, j->leeway_s), j->refetch_s);
			h = h_u32(h_u32(h, j->refresh_min_s), j->refresh_max_s);
			h = h_u32(h, j->key_count);
			for (uint32_t k = 0; k < j->key_count; k++) {
				const struct gw_jwk *x = &c->jwks.v[j->key_first + k];

				h = h_u32(h, (uint32_t)x->kty << 24 | (uint32_t)x->crv << 16 | x->algs);
				h = h_str(h_str(h_str(h, &x->kid), &x->a), &x->b);
			}
		}
		break;
	}
	case GW_P_BODY_LIMIT:
		h = h_u64(h, c->body_limits.v[p->index]);
		break;
	case GW_P_CORS: {
		const struct gw_cors *x = &c->cors.v[p->index];

		h = h_strs(h, c, x->origin_first, x->origin_count);
		h = h_u32(h, x->methods);
		h = gwc_fnv(h, &x->credentials, 1);
		h = h_str(h_str(h, &x->allow_headers), &x->expose_headers);
		h = h_u32(h, x->max_age_s);
		break;
	}
	case GW_P_HEADERS: {
		const struct gw_hdrpol *x = &c->hdrpols.v[p->index];

		h = h_headers(h, c, x->req_add_first, x->req_add_count);
		h = h_strs(h, c, x->req_del_first, x->req_del_count);
		h = h_headers(h, c, x->resp_add_first, x->resp_add_count);
		h = h_strs(h, c, x->resp_del_first, x->resp_del_count);
		break;
	}
	case GW_P_IP: {
		const struct gw_ipfilter *x = &c->ipfilters.v[p->index];

		h = h_cidrs(h, c, x->allow_first, x->allow_count);
		h = h_cidrs(h, c, x->deny_first, x->deny_count);
		break;
	}
	default:
		break;
	}
	return h;
}

/* ---- helpers ---- */

/* Note <n> (a scalar) in <seen>, case-insensitively when <fold>; when it was
 * there already, report "<what> ... twice".  0, or -1 OOM.  Keys live in the
 * file's tree arena. */
static int once(struct gwc_file *f, struct gwc_names *seen, const struct ynode *n, int fold,
		const char *what)
{
	const struct gwc_name *old;
	struct gw_place at = gwc_place(f, n);
	char *k, b[80], pl[512];

	k = gwc_arena_strndup(&f->tree, n->s, n->len);
	if (!k)
		return -1;
	for (uint32_t i = 0; fold && i < n->len; i++)
		k[i] = (char)tolower((unsigned char)k[i]);
	old = gwc_names_find(seen, k, n->len);
	if (old) {
		gwc_err(f, n, "%s %s is listed twice (first at %s)", what, gwc_show(n, b, sizeof b),
			gwc_place_str(f->conf, &old->at, pl, sizeof pl));
		return 0;
	}
	return gwc_names_add(seen, k, n->len, 0, &at);
}

/* ---- rate_limit ---- */

/* One limit <n> of policy <pname> into conf.ratelimits; <dflt> is its name
 * when it gives none.  Names go to <seen>.  0, or -1 OOM. */
static int limit(struct gwc_file *f, const struct ynode *n, const struct gw_str *pname,
		 const char *dflt, struct gwc_names *seen)
{
	static const char *const keys[] = {
		"name", "rate", "burst", "key", "header", "max_keys", "headers", "scope",
		"on_store_error", NULL,
	};
	static const char *const scopes[] = { "local", "cluster", NULL };
	static const char *const onerrs[] = { "allow", "deny", NULL };
	static const char *const kinds[] = { "ip", "user", "api_key", "header", "route", NULL };
	static const char *const hmodes[] = { "all", "ietf", "none", NULL };
	struct gw_ratelimit r = {
		.key = GW_RLK_IP, .max_keys = 100000, .name = { "", 0 }, .header = { "", 0 },
	}, *e;
	const struct ynode *v, *hdr;
	uint64_t quota = 1, period = 1000;
	int k, rate_ok = 0;
	char b[80];

	(void)pname;
	if (gwc_want_map(f, n, "a rate limit"))
		return 0;
	gwc_check_keys(f, n, keys, "a rate limit");
	v = gwc_get(n, "name");
	if (v && gwc_want_str(f, v, "'name'") == 0) {
		if (!gwc_valid_name(v->s, v->len))
			gwc_err(f, v, "bad rate limit name %s (a letter or digit, then letters, "
				"digits, '_', '.' or '-', at most 64 bytes)", gwc_show(v, b, sizeof b));
		if (once(f, seen, v, 0, "rate limit name") || gwc_copy(f, v, &r.name))
			return -1;
	} else if (!v && gwc_copy_bytes(f->st, dflt, strlen(dflt), &r.name)) {
		return -1;
	}
	v = gwc_get(n, "rate");
	if (!v) {
		gwc_err(f, n, "missing required key 'rate' in a rate limit (as in rate: 10/s)");
	} else if (gwc_want_str(f, v, "'rate'") == 0) {
		int rc = gwc_parse_rate(v->s, v->len, &quota, &period);

		if (rc == GWC_U_RANGE || (rc == 0 && quota > UINT32_MAX))
			gwc_err(f, v, "the quota of 'rate' must be at most 4294967295");
		else if (rc)
			gwc_err(f, v, "bad rate %s (expected QUOTA/PERIOD, as in 10/s, 600/min or "
				"100/10s; periods: s, min, h, d or a duration)", gwc_show(v, b, sizeof b));
		else if (quota == 0)
			gwc_err(f, v, "the quota of 'rate' must be at least 1");
		else if (period == 0)
			gwc_err(f, v, "the period of 'rate' must be at least 1ms");
		else if (period > UINT32_MAX)
			gwc_err(f, v, "the period of 'rate' must be at most 4294967295ms (about 49 days)");
		else
			rate_ok = 1;
	}
	if (rate_ok) {
		r.quota = (uint32_t)quota;
		r.period_ms = (uint32_t)period;
		r.burst = r.quota;
	}
	gwc_get_u32(f, n, "burst", 1, UINT32_MAX, &r.burst);
	gwc_get_u32(f, n, "max_keys", 1, UINT32_MAX, &r.max_keys);
	v = gwc_get(n, "headers");
	if (v && gwc_enum(f, v, "'headers'", hmodes, &k) == 0)
		r.headers = (uint8_t)(GW_RLH_ALL + k);
	v = gwc_get(n, "scope");
	if (v && gwc_enum(f, v, "'scope'", scopes, &k) == 0)
		r.scope = (uint8_t)(GW_RLS_LOCAL + k);
	v = gwc_get(n, "on_store_error");
	if (v && gwc_enum(f, v, "'on_store_error'", onerrs, &k) == 0) {
		r.on_store_error = (uint8_t)(GW_RLE_ALLOW + k);
		if (r.scope != GW_RLS_CLUSTER)
			gwc_err(f, gwc_key(n, "on_store_error"),
				"'on_store_error' applies only with 'scope: cluster'");
	}
	v = gwc_get(n, "key");
	if (v && gwc_enum(f, v, "'key'", kinds, &k) == 0)
		r.key = (uint8_t)(GW_RLK_IP + k);
	hdr = gwc_get(n, "header");
	if (hdr && r.key != GW_RLK_HEADER) {
		gwc_err(f, gwc_key(n, "header"), "'header' applies only with 'key: header'");
	} else if (hdr) {
		if (gwc_check_header_name(f, hdr, "'header'", 0) == 0 && gwc_copy(f, hdr, &r.header))
			return -1;
	} else if (r.key == GW_RLK_HEADER) {
		gwc_err(f, v, "missing required key 'header' (key is header)");
	}
	e = GW_VEC_PUSH(f->conf->ratelimits);
	if (!e)
		return -1;
	*e = r;
	f->conf->ratelimits.n++;
	return 0;
}

/* A rate_limit policy: one limit or a sequence.  0, or -1 OOM. */
static int rate_limit(struct gwc_file *f, const struct ynode *n, struct gw_policy *p)
{
	struct gwc_names seen = { 0 };
	char dflt[96];
	int rc = 0;

	p->index = f->conf->ratelimits.n;
	if (n->type == YN_SEQ) {
		if (n->n == 0)
			gwc_err(f, n, "'rate_limit' lists no limit");
		if (n->n > UINT16_MAX)
			gwc_err(f, n, "'rate_limit' lists more than %u limits", UINT16_MAX);
		for (uint32_t i = 0; i < n->n && i < UINT16_MAX && !rc; i++) {
			snprintf(dflt, sizeof dflt, "%s-%u", p->name.p, i + 1);
			rc = limit(f, n->kids[i], &p->name, dflt, &seen);
		}
	} else if (n->type == YN_MAP) {
		rc = limit(f, n, &p->name, p->name.p, &seen);
	} else if (n->type != YN_BAD) {
		char b[80];

		gwc_err(f, n, "expected a mapping or a sequence of mappings for 'rate_limit', got %s",
			gwc_show(n, b, sizeof b));
	}
	p->count = (uint16_t)(f->conf->ratelimits.n - p->index);
	/* one response, one set of fields: the limits of a policy agree on
	 * which (the first limit's choice is the policy's) */
	for (uint32_t i = 1; !rc && n->type == YN_SEQ && i < p->count && i < n->n; i++) {
		const struct gw_ratelimit *rl = &f->conf->ratelimits.v[p->index];
		const struct ynode *h = gwc_get(n->kids[i], "headers");

		if (rl[i].headers != rl[0].headers)
			gwc_err(f, h ? h : n->kids[i],
				"every limit of a rate_limit policy must have the same 'headers' "
				"(the first limit's is %s)",
				rl[0].headers == GW_RLH_ALL ? "all" : rl[0].headers == GW_RLH_IETF ? "ietf" : "none");
	}
	gwc_names_free(&seen);
	return rc;
}

/* ---- auth ---- */

/* An auth policy <n> into conf.auths (header X-API-Key by default for
 * api_key); sets <p>->index.  0, or -1 OOM. */
static int auth(struct gwc_file *f, const struct ynode *n, struct gw_policy *p)
{
	static const char *const keys[] = { "type", "header", "user_header", NULL };
	static const char *const types[] = { "session", "api_key", "jwt", NULL };
	struct gw_auth a = { .jwt = GW_NONE }, *e;
	const struct ynode *v, *h;
	int t;

	p->index = f->conf->auths.n;
	if (gwc_want_map(f, n, "'auth'") == 0) {
		v = gwc_get(n, "type");
		if (!v)
			gwc_err(f, n, "missing required key 'type' in 'auth' (session, api_key or jwt)");
		else if (gwc_enum(f, v, "'type'", types, &t) == 0)
			a.type = (uint8_t)(GW_AUTH_SESSION + t);
		if (a.type == GW_AUTH_JWT) {
			if (gwc_parse_jwt(f, n, &a, p->index))
				return -1;
			goto add;
		}
		gwc_check_keys(f, n, keys, "'auth'");
		h = gwc_get(n, "header");
		if (h && a.type == GW_AUTH_SESSION) {
			gwc_err(f, gwc_key(n, "header"), "'header' applies only with 'type: api_key'");
		} else if (h) {
			if (gwc_check_header_name(f, h, "'header'", 1) == 0 && gwc_copy(f, h, &a.header))
				return -1;
		} else if (a.type == GW_AUTH_API_KEY &&
			   gwc_copy_bytes(f->st, "X-API-Key", 9, &a.header)) {
			return -1;
		}
		h = gwc_get(n, "user_header");
		if (h && gwc_check_header_name(f, h, "'user_header'", 1) == 0 &&
		    gwc_copy(f, h, &a.user_header))
			return -1;
	}
add:
	if (!a.header.p)
		a.header = (struct gw_str){ "", 0 };
	if (!a.user_header.p)
		a.user_header = (struct gw_str){ "", 0 };
	e = GW_VEC_PUSH(f->conf->auths);
	if (!e)
		return -1;
	*e = a;
	f->conf->auths.n++;
	return 0;
}

/* ---- body_limit ---- */

/* A body_limit policy <n> into conf.body_limits: a size, or `none`
 * (GW_BODY_LIMIT_NONE, which gwc_finish_routes allows on proxy routes
 * only); sets <p>->index.  0, or -1 OOM. */
static int body_limit(struct gwc_file *f, const struct ynode *n, struct gw_policy *p)
{
	uint64_t v = 0, *e;

	/* 0 is allowed: a route that takes no body at all.  The largest u64 is
	 * the sentinel of `none`, so a size stops one below it. */
	if (n->type == YN_SCALAR && n->len == 4 && memcmp(n->s, "none", 4) == 0)
		v = GW_BODY_LIMIT_NONE;
	else
		gwc_size(f, n, "'body_limit'", 0, GW_BODY_LIMIT_NONE - 1, &v);
	p->index = f->conf->body_limits.n;
	e = GW_VEC_PUSH(f->conf->body_limits);
	if (!e)
		return -1;
	*e = v;
	f->conf->body_limits.n++;
	return 0;
}

/* ---- cors ---- */

/* 1 when <n> is "*" or a serialised origin: http(s)://HOST[:PORT], lower-case
 * (browsers send it so, and compare bytes). */
static int valid_origin(const struct ynode *n)
{
	const char *s = n->s, *rest;
	size_t len = n->len, rlen, off, hl;
	uint16_t port;

	if (len == 1 && s[0] == '*')
		return 1;
	if (len > 8 && memcmp(s, "https://", 8) == 0)
		rest = s + 8;
	else if (len > 7 && memcmp(s, "http://", 7) == 0)
		rest = s + 7;
	else
		return 0;
	rlen = len - (size_t)(rest - s);
	for (size_t i = 0; i < rlen; i++)
		if (rest[i] >= 'A' && rest[i] <= 'Z')
			return 0;
	if (rest[0] == '[' || memchr(rest, ':', rlen))
		return gwc_parse_hostport(rest, rlen, &off, &hl, &port) == GWC_U_OK;
	return gwc_is_hostname(rest, rlen);
}

/* A list of header names (tokens) <n> for <what>, joined with ", " into <out>.
 * 0, or -1 OOM. */
static int join_tokens(struct gwc_file *f, const struct ynode *n, const char *what,
		       struct gw_str *out)
{
	size_t total = 0, o = 0;
	char *buf, item[96];
	struct gwc_names seen = { 0 };
	int rc = 0;

	*out = (struct gw_str){ "", 0 };
	if (gwc_is_null(n) || gwc_want_seq(f, n, what))
		return 0;
	snprintf(item, sizeof item, "an item of %s", what);
	for (uint32_t i = 0; i < n->n && !rc; i++) {
		const struct ynode *k = n->kids[i];

		if (gwc_check_header_name(f, k, item, 0) == 0) {
			total += k->len + 2;
			rc = once(f, &seen, k, 1, "header");
		}
	}
	gwc_names_free(&seen);
	if (rc || total == 0)
		return rc;
	buf = gwc_arena_alloc(&f->st->strings, total + 1);
	if (!buf || total > UINT32_MAX)
		return -1;
	for (uint32_t i = 0; i < n->n; i++) {
		const struct ynode *k = n->kids[i];

		if (k->type != YN_SCALAR || !gw_http_is_token(k->s, k->len))
			continue;
		if (o) {
			memcpy(buf + o, ", ", 2);
			o += 2;
		}
		memcpy(buf + o, k->s, k->len);
		o += k->len;
	}
	buf[o] = '\0';
	*out = (struct gw_str){ buf, (uint32_t)o };
	return 0;
}

/* A cors policy <n> into conf.cors (origins into conf.strlist); sets
 * <p>->index.  0, or -1 OOM. */
static int cors(struct gwc_file *f, const struct ynode *n, struct gw_policy *p)
{
	static const char *const keys[] = {
		"origins", "methods", "headers", "expose", "credentials", "max_age", NULL,
	};
	struct gw_cors c = { .allow_headers = { "", 0 }, .expose_headers = { "", 0 } }, *e;
	const struct ynode *v, *star = NULL;
	struct gwc_names seen = { 0 };
	char b[80];

	p->index = f->conf->cors.n;
	c.origin_first = f->conf->strlist.n;
	if (gwc_want_map(f, n, "'cors'"))
		goto push;
	gwc_check_keys(f, n, keys, "'cors'");
	v = gwc_get(n, "origins");
	if (!v) {
		gwc_err(f, n, "missing required key 'origins' in 'cors'");
	} else if (gwc_want_seq(f, v, "'origins'") == 0) {
		if (v->n == 0)
			gwc_err(f, v, "'origins' lists no origin");
		for (uint32_t i = 0; i < v->n; i++) {
			const struct ynode *o = v->kids[i];
			struct gw_str *s;

			if (gwc_want_str(f, o, "an item of 'origins'"))
				continue;
			if (!valid_origin(o)) {
				gwc_err(f, o, "bad origin %s (expected \"*\" or a lower-case "
					"scheme://host[:port], as in https://app.example.com)",
					gwc_show(o, b, sizeof b));
				continue;
			}
			if (o->len == 1 && o->s[0] == '*')
				star = o;
			if (once(f, &seen, o, 0, "origin"))
				goto oom;
			s = GW_VEC_PUSH(f->conf->strlist);
			if (!s || gwc_copy(f, o, s))
				goto oom;
			f->conf->strlist.n++;
		}
		c.origin_count = f->conf->strlist.n - c.origin_first;
		if (star && c.origin_count > 1)
			gwc_err(f, star, "origin '*' cannot be combined with other origins");
	}
	v = gwc_get(n, "methods");
	if (v)
		gwc_methods(f, v, "'methods'", &c.methods);
	v = gwc_get(n, "headers");
	if (v && join_tokens(f, v, "'headers'", &c.allow_headers))
		goto oom;
	v = gwc_get(n, "expose");
	if (v && join_tokens(f, v, "'expose'", &c.expose_headers))
		goto oom;
	v = gwc_get(n, "credentials");
	if (v && gwc_bool(f, v, "'credentials'", &c.credentials) == 0 && c.credentials && star)
		gwc_err(f, v, "'credentials: true' cannot be used with origin '*' "
			"(browsers refuse it)");
	v = gwc_get(n, "max_age");
	if (v) {
		uint32_t ms;

		if (gwc_dur_ms(f, v, "'max_age'", 0, &ms) == 0) {
			if (ms % 1000)
				gwc_err(f, v, "'max_age' must be a whole number of seconds");
			c.max_age_s = ms / 1000;
		}
	}
push:
	gwc_names_free(&seen);
	e = GW_VEC_PUSH(f->conf->cors);
	if (!e)
		return -1;
	*e = c;
	f->conf->cors.n++;
	return 0;
oom:
	gwc_names_free(&seen);
	return -1;
}

/* ---- headers ---- */

/* One direction (request or response) of a headers policy: <n>'s add into
 * conf.headers (<*add_first>, <*add_count>), remove into conf.strlist.
 * 0, or -1 OOM. */
static int direction(struct gwc_file *f, const struct ynode *n, const char *dir,
		     uint32_t *add_first, uint32_t *add_count, uint32_t *del_first,
		     uint32_t *del_count)
{
	static const char *const keys[] = { "add", "remove", NULL };
	struct gwc_names seen = { 0 };
	const struct ynode *v;
	char ctx[32];

	*add_first = f->conf->headers.n;
	*del_first = f->conf->strlist.n;
	snprintf(ctx, sizeof ctx, "'%s'", dir);
	if (gwc_is_null(n) || gwc_want_map(f, n, ctx))
		return 0;
	gwc_check_keys(f, n, keys, ctx);
	v = gwc_get(n, "add");
	if (v && !gwc_is_null(v) && gwc_want_map(f, v, "'add'") == 0) {
		for (uint32_t i = 0; i < v->n; i++) {
			const struct ynode *k = v->kids[2 * (size_t)i], *val = v->kids[2 * (size_t)i + 1];
			struct gw_header *h;

			if (gwc_check_header_name(f, k, "a header to add", 1))
				continue;
			if (once(f, &seen, k, 1, "header"))
				goto oom;
			if (gwc_want_str(f, val, "a header value") ||
			    gwc_check_header_value(f, val, k->s))
				continue;
			h = GW_VEC_PUSH(f->conf->headers);
			if (!h || gwc_copy(f, k, &h->name) || gwc_copy(f, val, &h->value))
				goto oom;
			f->conf->headers.n++;
		}
	}
	gwc_names_free(&seen);
	v = gwc_get(n, "remove");
	if (v && !gwc_is_null(v) && gwc_want_seq(f, v, "'remove'") == 0) {
		for (uint32_t i = 0; i < v->n; i++) {
			const struct ynode *k = v->kids[i];
			struct gw_str *s;

			if (gwc_check_header_name(f, k, "a header to remove", 1))
				continue;
			if (once(f, &seen, k, 1, "header"))
				goto oom;
			s = GW_VEC_PUSH(f->conf->strlist);
			if (!s || gwc_copy(f, k, s))
				goto oom;
			f->conf->strlist.n++;
		}
	}
	gwc_names_free(&seen);
	*add_count = f->conf->headers.n - *add_first;
	*del_count = f->conf->strlist.n - *del_first;
	return 0;
oom:
	gwc_names_free(&seen);
	return -1;
}

/* A headers policy <n> into conf.hdrpols; sets <p>->index.  0, or -1 OOM. */
static int headers(struct gwc_file *f, const struct ynode *n, struct gw_policy *p)
{
	static const char *const keys[] = { "request", "response", NULL };
	struct gw_hdrpol h = { 0 }, *e;
	const struct ynode *v;

	p->index = f->conf->hdrpols.n;
	h.req_add_first = h.resp_add_first = f->conf->headers.n;
	h.req_del_first = h.resp_del_first = f->conf->strlist.n;
	if (gwc_want_map(f, n, "'headers'") == 0) {
		gwc_check_keys(f, n, keys, "'headers'");
		if (!gwc_get(n, "request") && !gwc_get(n, "response"))
			gwc_err(f, n, "a headers policy needs 'request' or 'response'");
		v = gwc_get(n, "request");
		if (v && direction(f, v, "request", &h.req_add_first, &h.req_add_count,
				   &h.req_del_first, &h.req_del_count))
			return -1;
		v = gwc_get(n, "response");
		if (v && direction(f, v, "response", &h.resp_add_first, &h.resp_add_count,
				   &h.resp_del_first, &h.resp_del_count))
			return -1;
	}
	e = GW_VEC_PUSH(f->conf->hdrpols);
	if (!e)
		return -1;
	*e = h;
	f->conf->hdrpols.n++;
	return 0;
}

/* ---- ip ---- */

/* A list of CIDRs <n> (<what>) into conf.cidrs from <*first>.  0, or -1 OOM. */
static int cidr_list(struct gwc_file *f, const struct ynode *n, const char *what,
		     uint32_t *first, uint32_t *count)
{
	char item[64];

	*first = f->conf->cidrs.n;
	snprintf(item, sizeof item, "an item of %s", what);
	if (n && !gwc_is_null(n) && gwc_want_seq(f, n, what) == 0)
		for (uint32_t i = 0; i < n->n; i++)
			if (gwc_push_cidr(f, n->kids[i], item))
				return -1;
	*count = f->conf->cidrs.n - *first;
	return 0;
}

/* An ip policy <n> into conf.ipfilters (CIDRs into conf.cidrs); sets
 * <p>->index.  0, or -1 OOM. */
static int ip(struct gwc_file *f, const struct ynode *n, struct gw_policy *p)
{
	static const char *const keys[] = { "allow", "deny", NULL };
	struct gw_ipfilter x = { .allow_first = f->conf->cidrs.n, .deny_first = f->conf->cidrs.n };
	struct gw_ipfilter *e;

	p->index = f->conf->ipfilters.n;
	if (gwc_want_map(f, n, "'ip'") == 0) {
		gwc_check_keys(f, n, keys, "'ip'");
		if (!gwc_get(n, "allow") && !gwc_get(n, "deny"))
			gwc_err(f, n, "an ip policy needs 'allow' or 'deny'");
		if (cidr_list(f, gwc_get(n, "allow"), "'allow'", &x.allow_first, &x.allow_count) ||
		    cidr_list(f, gwc_get(n, "deny"), "'deny'", &x.deny_first, &x.deny_count))
			return -1;
	}
	e = GW_VEC_PUSH(f->conf->ipfilters);
	if (!e)
		return -1;
	*e = x;
	f->conf->ipfilters.n++;
	return 0;
}

/* ---- the section ---- */

static const char *const kind_names[] = {
	"rate_limit", "auth", "body_limit", "cors", "headers", "ip", NULL,
};

/* Policy <name> (a key node) defined as <n>.  0, or -1 OOM. */
static int policy(struct gwc_file *f, const struct ynode *name, const struct ynode *n)
{
	static int (*const parse[])(struct gwc_file *, const struct ynode *, struct gw_policy *) = {
		rate_limit, auth, body_limit, cors, headers, ip,
	};
	struct gw_policy p = { .count = 1 }, *e;
	const struct ynode *kind = NULL, *body = NULL;
	char ctx[96], b[80];
	int which = -1;

	p.place = gwc_place(f, name);
	if (gwc_copy(f, name, &p.name))
		return -1;
	snprintf(ctx, sizeof ctx, "policy %s", gwc_show(name, b, sizeof b));
	if (gwc_want_map(f, n, ctx) == 0) {
		for (uint32_t i = 0; i < n->n; i++) {
			const struct ynode *k = n->kids[2 * (size_t)i];
			int j;

			for (j = 0; kind_names[j]; j++)
				if (strlen(kind_names[j]) == k->len && memcmp(kind_names[j], k->s, k->len) == 0)
					break;
			if (!kind_names[j]) {
				gwc_err(f, k, "unknown key %s in %s (a policy is one of: rate_limit, "
					"auth, body_limit, cors, headers, ip)", gwc_show(k, b, sizeof b), ctx);
			} else if (kind) {
				gwc_err(f, k, "%s has more than one kind ('%s' and '%s'); define one "
					"policy per kind", ctx, kind->s, k->s);
			} else {
				kind = k;
				body = n->kids[2 * (size_t)i + 1];
				which = j;
			}
		}
		if (!kind && n->n == 0)
			gwc_err(f, n, "%s needs one of: rate_limit, auth, body_limit, cors, headers, ip",
				ctx);
	}
	if (kind) {
		p.kind = (uint8_t)(GW_P_RATE_LIMIT + which);
		if (parse[which](f, body, &p))
			return -1;
	}
	p.ident = ident(f->conf, &p);
	e = GW_VEC_PUSH(f->conf->policies);
	if (!e)
		return -1;
	*e = p;
	f->conf->policies.n++;
	return 0;
}

int gwc_parse_policies(struct gwc_file *f, const struct ynode *n)
{
	char b[80];

	if (gwc_is_null(n) || gwc_want_map(f, n, "'policies'"))
		return 0;
	for (uint32_t i = 0; i < n->n; i++) {
		const struct ynode *name = n->kids[2 * (size_t)i];

		if (!gwc_valid_name(name->s, name->len))
			gwc_err(f, name, "bad policy name %s (a letter or digit, then letters, "
				"digits, '_', '.' or '-', at most 64 bytes)", gwc_show(name, b, sizeof b));
		if (gwc_define(f, &f->st->policies, name, "policy", f->conf->policies.n) ||
		    policy(f, name, n->kids[2 * (size_t)i + 1]))
			return -1;
	}
	return 0;
}
