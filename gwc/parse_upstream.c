/* gwc's front end, part two: the `settings` and `upstreams` sections
 * (docs/routes.md, "settings" and "upstreams") into conf.settings,
 * conf.upstreams and conf.targets, with the documented defaults. */
#include "gwc/parse_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwc/units.h"
#include "lib/diag.h"
#include "lib/http.h"
#include "lib/uptls.h"

/* trusted_proxies: a list of CIDRs into conf.cidrs.  0, or -1 OOM. */
static int trusted(struct gwc_file *f, const struct ynode *n)
{
	struct gw_settings *s = &f->conf->settings;
	uint32_t first = f->conf->cidrs.n;

	if (gwc_is_null(n))
		return 0;
	if (gwc_want_seq(f, n, "'trusted_proxies'"))
		return 0;
	for (uint32_t i = 0; i < n->n; i++)
		if (gwc_push_cidr(f, n->kids[i], "an item of 'trusted_proxies'"))
			return -1;
	s->trusted_first = first;
	s->trusted_count = f->conf->cidrs.n - first;
	return 0;
}

/* settings.sessions.  0, or -1 OOM. */
static int sessions(struct gwc_file *f, const struct ynode *n)
{
	static const char *const keys[] = { "cookie", "idle_timeout", "lifetime", "secure", NULL };
	/* in enum gw_secure's order */
	static const char *const secure[] = { "auto", "always", "never", NULL };
	struct gw_settings *s = &f->conf->settings;
	const struct ynode *c;
	char b[80];
	int i;

	if (gwc_is_null(n) || gwc_want_map(f, n, "'sessions'"))
		return 0;
	gwc_check_keys(f, n, keys, "'sessions'");
	c = gwc_get(n, "cookie");
	if (c && gwc_want_str(f, c, "'cookie'") == 0) {
		/* RFC 6265: cookie-name is a token. */
		if (!gw_http_is_token(c->s, c->len))
			gwc_err(f, c, "bad cookie name %s (a token: letters, digits and "
				"!#$%%&'*+-.^_`|~)", gwc_show(c, b, sizeof b));
		else if (gwc_copy(f, c, &s->session_cookie))
			return -1;
	}
	gwc_get_dur_ms(f, n, "idle_timeout", 1, &s->session_idle_ms);
	gwc_get_dur_ms(f, n, "lifetime", 1, &s->session_lifetime_ms);
	c = gwc_get(n, "secure");
	if (c && gwc_enum(f, c, "'secure'", secure, &i) == 0)
		s->session_secure = (uint8_t)i;
	return 0;
}

/* settings.limits.  0 (nothing here allocates). */
static int limits(struct gwc_file *f, const struct ynode *n)
{
	static const char *const keys[] = {
		"max_header_bytes", "header_timeout", "idle_timeout", "max_connections",
		"max_connections_per_ip", "websocket_idle_timeout", NULL,
	};
	struct gw_settings *s = &f->conf->settings;
	const struct ynode *v;
	uint64_t size;
	uint32_t ws_idle;

	if (gwc_is_null(n) || gwc_want_map(f, n, "'limits'"))
		return 0;
	gwc_check_keys(f, n, keys, "'limits'");
	v = gwc_get(n, "max_header_bytes");
	if (v && gwc_size(f, v, "'max_header_bytes'", 1, UINT32_MAX, &size) == 0)
		s->max_header_bytes = (uint32_t)size;
	gwc_get_dur_ms(f, n, "header_timeout", 1, &s->header_timeout_ms);
	gwc_get_dur_ms(f, n, "idle_timeout", 1, &s->idle_timeout_ms);
	gwc_get_u32(f, n, "max_connections", 1, UINT32_MAX, &s->max_conns);
	gwc_get_u32(f, n, "max_connections_per_ip", 1, UINT32_MAX, &s->max_conns_per_ip);
	/* whole seconds in the blob: at least 1 s, at most 65535 s */
	v = gwc_get(n, "websocket_idle_timeout");
	if (v && gwc_dur_ms(f, v, "'websocket_idle_timeout'", 1000, &ws_idle) == 0) {
		if (ws_idle > 65535000u)
			gwc_err(f, v, "'websocket_idle_timeout' is at most 65535s (about 18 hours)");
		else
			s->websocket_idle_s = (uint16_t)((ws_idle + 999) / 1000);
	}
	return 0;
}

int gwc_parse_settings(struct gwc_file *f, const struct ynode *n)
{
	static const char *const keys[] = {
		"trusted_proxies", "sessions", "limits", "underscore_headers", NULL,
	};
	/* in enum gw_underscore's order */
	static const char *const underscores[] = { "drop_lookalikes", "drop", "allow", NULL };
	const struct ynode *v;
	int i;

	if (gwc_is_null(n) || gwc_want_map(f, n, "'settings'"))
		return 0;
	gwc_check_keys(f, n, keys, "'settings'");
	v = gwc_get(n, "trusted_proxies");
	if (v && trusted(f, v))
		return -1;
	v = gwc_get(n, "sessions");
	if (v && sessions(f, v))
		return -1;
	v = gwc_get(n, "limits");
	if (v && limits(f, v))
		return -1;
	v = gwc_get(n, "underscore_headers");
	if (v && gwc_enum(f, v, "'underscore_headers'", underscores, &i) == 0)
		f->conf->settings.underscore_headers = (uint8_t)i;
	return 0;
}

/* One item of an upstream's targets into conf.targets.  0, or -1 OOM. */
static int target(struct gwc_file *f, const struct ynode *n)
{
	static const char *const keys[] = { "address", "weight", NULL };
	const struct ynode *a;
	struct gw_target t = { .weight = 1 }, *e;
	size_t hoff, hlen;
	char b[80];
	int r;

	if (gwc_want_map(f, n, "an item of 'targets'"))
		return 0;
	gwc_check_keys(f, n, keys, "a target");
	gwc_get_u32(f, n, "weight", 1, UINT32_MAX, &t.weight);
	a = gwc_get(n, "address");
	if (!a) {
		gwc_err(f, n, "missing required key 'address' in a target");
		return 0;
	}
	if (gwc_want_str(f, a, "'address'"))
		return 0;
	r = gwc_parse_hostport(a->s, a->len, &hoff, &hlen, &t.port);
	if (r == GWC_U_PORT) {
		gwc_err(f, a, "bad address %s: expected HOST:PORT or [IPV6]:PORT with a port "
			"from 1 to 65535", gwc_show(a, b, sizeof b));
		return 0;
	}
	if (r) {
		gwc_err(f, a, "bad address %s: the host is not an IP address nor a host name "
			"(IPv6 goes in brackets: [::1]:8080)", gwc_show(a, b, sizeof b));
		return 0;
	}
	if (gwc_copy_bytes(f->st, a->s + hoff, hlen, &t.host))
		return -1;
	e = GW_VEC_PUSH(f->conf->targets);
	if (!e)
		return -1;
	*e = t;
	f->conf->targets.n++;
	return 0;
}

/* An upstream's health_check into <u>.  0, or -1 OOM. */
static int health_check(struct gwc_file *f, const struct ynode *n, struct gw_upstream *u)
{
	static const char *const keys[] = {
		"path", "interval", "timeout", "healthy", "unhealthy", NULL,
	};
	const struct ynode *p;
	uint32_t v;
	char b[80];

	if (gwc_want_map(f, n, "'health_check'"))
		return 0;
	gwc_check_keys(f, n, keys, "'health_check'");
	u->hc_interval_ms = 5000;
	u->hc_timeout_ms = 1000;
	u->hc_healthy = 2;
	u->hc_unhealthy = 3;
	gwc_get_dur_ms(f, n, "interval", 1, &u->hc_interval_ms);
	gwc_get_dur_ms(f, n, "timeout", 1, &u->hc_timeout_ms);
	if (gwc_get_u32(f, n, "healthy", 1, UINT16_MAX, &v) == 1)
		u->hc_healthy = (uint16_t)v;
	if (gwc_get_u32(f, n, "unhealthy", 1, UINT16_MAX, &v) == 1)
		u->hc_unhealthy = (uint16_t)v;
	p = gwc_get(n, "path");
	if (!p) {
		gwc_err(f, n, "missing required key 'path' in 'health_check'");
		return 0;
	}
	if (gwc_want_str(f, p, "'path'"))
		return 0;
	/* The path goes into a request line: no blanks, controls or fragment. */
	int ok = p->s[0] == '/';
	for (uint32_t i = 0; i < p->len && ok; i++) {
		unsigned char c = (unsigned char)p->s[i];

		ok = c > 0x20 && c != 0x7f && c != '#';
	}
	if (!ok) {
		gwc_err(f, p, "bad health check path %s: it starts with '/' and holds no "
			"blanks, control characters or '#'", gwc_show(p, b, sizeof b));
		return 0;
	}
	return gwc_copy(f, p, &u->hc_path);
}

/* An upstream's circuit_breaker into <u>: both keys required (no default
 * ejection policy is documented).  0. */
static int circuit_breaker(struct gwc_file *f, const struct ynode *n, struct gw_upstream *u)
{
	static const char *const keys[] = { "failures", "cooldown", NULL };

	if (gwc_want_map(f, n, "'circuit_breaker'"))
		return 0;
	gwc_check_keys(f, n, keys, "'circuit_breaker'");
	if (gwc_get_u32(f, n, "failures", 1, UINT32_MAX, &u->cb_failures) == 0)
		gwc_err(f, n, "missing required key 'failures' in 'circuit_breaker'");
	if (gwc_get_dur_ms(f, n, "cooldown", 1, &u->cb_cooldown_ms) == 0)
		gwc_err(f, n, "missing required key 'cooldown' in 'circuit_breaker'");
	return 0;
}

/* The balance and hash keys of upstream <n> into <u>.  0, or -1 OOM. */
static int balance(struct gwc_file *f, const struct ynode *n, struct gw_upstream *u)
{
	static const char *const balances[] = { "round_robin", "least_conn", "hash", NULL };
	static const char *const hkeys[] = { "ip", "user", "header", NULL };
	const struct ynode *bal = gwc_get(n, "balance"), *hk = gwc_get(n, "hash_key"),
			   *hh = gwc_get(n, "hash_header");
	int i, bal_bad = 0, hk_bad = 0;

	/* A key that was itself bad says nothing about the others: no cascades. */
	u->balance = GW_LB_ROUND_ROBIN;
	if (bal && gwc_enum(f, bal, "'balance'", balances, &i) == 0)
		u->balance = (uint8_t)(GW_LB_ROUND_ROBIN + i);
	else if (bal)
		bal_bad = 1;
	if (u->balance == GW_LB_HASH)
		u->hash_key = GW_HK_IP;
	if (hk && u->balance != GW_LB_HASH) {
		hk_bad = 1;
		if (!bal_bad)
			gwc_err(f, gwc_key(n, "hash_key"),
				"'hash_key' applies only with 'balance: hash'");
	} else if (hk && gwc_enum(f, hk, "'hash_key'", hkeys, &i) == 0) {
		u->hash_key = (uint8_t)(GW_HK_IP + i);
	} else if (hk) {
		hk_bad = 1;
	}
	if (hh && u->hash_key != GW_HK_HEADER) {
		if (!hk_bad && !bal_bad)
			gwc_err(f, gwc_key(n, "hash_header"),
				"'hash_header' applies only with 'hash_key: header'");
	} else if (hh) {
		if (gwc_check_header_name(f, hh, "'hash_header'", 0) == 0 &&
		    gwc_copy(f, hh, &u->hash_header))
			return -1;
	} else if (u->hash_key == GW_HK_HEADER) {
		gwc_err(f, hk, "missing required key 'hash_header' (hash_key is header)");
	}
	return 0;
}

/* Path scalar <n> of the route file <f> made absolute into <*out>: a
 * relative path is taken from the route file's directory (gwd may run
 * elsewhere), made absolute from the working directory when the route file's
 * name is relative.  Symbolic links are kept (a certificate renewed by
 * swapping a link is read anew at a reload).  0, 1 when reported, -1 OOM. */
static int abs_path(struct gwc_file *f, const struct ynode *n, const char *what,
		    struct gw_str *out)
{
	const char *file = f->conf->files.v[f->file].p, *slash = strrchr(file, '/');
	char cwd[PATH_MAX], buf[2 * PATH_MAX + 2], b[80];
	int len;

	if (gwc_want_str(f, n, what))
		return 1;
	if (n->len == 0 || memchr(n->s, '\0', n->len) || n->len >= PATH_MAX) {
		gwc_err(f, n, "bad path %s for %s", gwc_show(n, b, sizeof b), what);
		return 1;
	}
	if (n->s[0] == '/')
		return gwc_copy(f, n, out) ? -1 : 0;
	cwd[0] = '\0';
	if (file[0] != '/' && !getcwd(cwd, sizeof cwd)) {
		gwc_err(f, n, "cannot resolve relative path %s: no working directory",
			gwc_show(n, b, sizeof b));
		return 1;
	}
	len = snprintf(buf, sizeof buf, "%s%s%.*s%s", cwd, cwd[0] ? "/" : "",
		       slash ? (int)(slash - file + 1) : 0, file, n->s);
	if (len < 0 || (size_t)len >= sizeof buf) {
		gwc_err(f, n, "path %s too long", gwc_show(n, b, sizeof b));
		return 1;
	}
	return gwc_copy_bytes(f->st, buf, (size_t)len, out) ? -1 : 0;
}

/* Read file <path> (the value of node <n>) and check it: a CA bundle when
 * <key> is NULL, else a certificate with that key file.  Reported at <n>. */
static void check_files(struct gwc_file *f, const struct ynode *n, const struct gw_str *path,
			const struct ynode *kn, const struct gw_str *key)
{
	unsigned char *p = NULL, *k = NULL;
	size_t len, klen;
	char why[PATH_MAX + 200];

	if (gw_uptls_read(path->p, &p, &len, why, sizeof why)) {
		gwc_err(f, n, "%s", why);
	} else if (!key) {
		if (gw_uptls_check_ca(p, len, why, sizeof why) < 0)
			gwc_err(f, n, "%s: %s", path->p, why);
	} else if (gw_uptls_read(key->p, &k, &klen, why, sizeof why)) {
		gwc_err(f, kn, "%s", why);
	} else if (gw_uptls_check_pair(p, len, k, klen, why, sizeof why)) {
		gwc_err(f, n, "%s with key %s: %s", path->p, key->p, why);
	}
	if (k)
		memset(k, 0, klen);
	free(k);
	free(p);
}

/* An upstream's `tls` into conf.uptls for upstream <index>; <u>.tls set.
 * 0, or -1 OOM. */
static int tls(struct gwc_file *f, const struct ynode *name, const struct ynode *key,
	       const struct ynode *n, struct gw_upstream *u, uint32_t index)
{
	static const char *const keys[] = {
		"verify", "ca_file", "server_name", "cert", "key", NULL,
	};
	struct gw_uptls t = { .upstream = index, .verify = 1 }, *e;
	const struct ynode *v, *cn, *kn;
	char b[80];
	int r = 0;

	t.place = gwc_place(f, key);
	if (gwc_want_map(f, n, "'tls' (a mapping; {} for the defaults)"))
		return 0;
	gwc_check_keys(f, n, keys, "'tls'");
	v = gwc_get(n, "verify");
	if (v)
		gwc_bool(f, v, "'verify'", &t.verify);
	if (v && !t.verify) {
		struct gw_place at = gwc_place(f, v);

		gw_diag_warning(f->d, &at, "upstream %s: 'verify: false' accepts any "
				"certificate: the connection can be read and changed by anyone "
				"on the path", gwc_show(name, b, sizeof b));
	}
	v = gwc_get(n, "server_name");
	if (v && gwc_want_str(f, v, "'server_name'") == 0) {
		int ok = v->len > 0 && v->len <= 253;

		for (uint32_t i = 0; i < v->len && ok; i++) {
			unsigned char c = (unsigned char)v->s[i];

			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.';
		}
		if (!ok)
			gwc_err(f, v, "bad server_name %s: a DNS name (letters, digits, '-' "
				"and '.')", gwc_show(v, b, sizeof b));
		else if (gwc_copy(f, v, &t.server_name))
			return -1;
	}
	v = gwc_get(n, "ca_file");
	if (v && (r = abs_path(f, v, "'ca_file'", &t.ca_file)) < 0)
		return -1;
	if (v && r == 0)
		check_files(f, v, &t.ca_file, NULL, NULL);
	cn = gwc_get(n, "cert");
	kn = gwc_get(n, "key");
	if (!cn != !kn) {
		gwc_err(f, cn ? cn : kn, "'cert' and 'key' go together (mutual TLS): "
			"give both or neither");
	} else if (cn) {
		int rc = abs_path(f, cn, "'cert'", &t.cert), rk = abs_path(f, kn, "'key'", &t.key);

		if (rc < 0 || rk < 0)
			return -1;
		if (rc == 0 && rk == 0)
			check_files(f, cn, &t.cert, kn, &t.key);
	}
	e = GW_VEC_PUSH(f->conf->uptls);
	if (!e)
		return -1;
	*e = t;
	u->tls = f->conf->uptls.n++;
	return 0;
}

/* An upstream's `buffer` into <u>: a power of two, 32 KiB (twice the
 * largest piece libcurl hands over: a half-empty ring always takes one) to
 * 16 MiB. */
static void buffer(struct gwc_file *f, const struct ynode *v, struct gw_upstream *u)
{
	uint64_t size;
	char b[80];

	if (gwc_size(f, v, "'buffer'", 1, UINT32_MAX, &size))
		return;
	if (size < 32 * 1024 || size > 16 * 1024 * 1024 || (size & (size - 1)))
		gwc_err(f, v, "bad buffer %s: a power of two from 32KiB to 16MiB (32KiB, "
			"64KiB, 128KiB, ... 16MiB)", gwc_show(v, b, sizeof b));
	else
		u->buffer = (uint32_t)size;
}

/* Upstream <name> (a key node) defined as <n>.  0, or -1 OOM. */
static int upstream(struct gwc_file *f, const struct ynode *name, const struct ynode *n)
{
	static const char *const keys[] = {
		"targets", "balance", "hash_key", "hash_header", "connect_timeout", "timeout",
		"max_connections", "retries", "health_check", "circuit_breaker", "tls", "buffer",
		"max_websockets", NULL,
	};
	struct gw_upstream u = {
		.connect_timeout_ms = 1000, .timeout_ms = 30000, .max_conns = 64, .retries = 1,
		.balance = GW_LB_ROUND_ROBIN, .hash_header = { "", 0 }, .hc_path = { "", 0 },
		.tls = GW_NONE,
	}, *e;
	const struct ynode *t;
	char ctx[96], b[80];
	uint32_t ws_max;

	u.place = gwc_place(f, name);
	if (gwc_copy(f, name, &u.name))
		return -1;
	snprintf(ctx, sizeof ctx, "upstream %s", gwc_show(name, b, sizeof b));
	u.tgt_first = f->conf->targets.n;
	if (gwc_want_map(f, n, ctx) == 0) {
		gwc_check_keys(f, n, keys, ctx);
		t = gwc_get(n, "targets");
		if (!t) {
			gwc_err(f, n, "missing required key 'targets' in %s", ctx);
		} else if (gwc_want_seq(f, t, "'targets'") == 0) {
			if (t->n == 0)
				gwc_err(f, t, "%s needs at least one target", ctx);
			for (uint32_t i = 0; i < t->n; i++)
				if (target(f, t->kids[i]))
					return -1;
		}
		u.tgt_count = f->conf->targets.n - u.tgt_first;
		if (balance(f, n, &u))
			return -1;
		gwc_get_dur_ms(f, n, "connect_timeout", 1, &u.connect_timeout_ms);
		gwc_get_dur_ms(f, n, "timeout", 1, &u.timeout_ms);
		gwc_get_u32(f, n, "max_connections", 1, UINT32_MAX, &u.max_conns);
		gwc_get_u32(f, n, "retries", 0, UINT32_MAX, &u.retries);
		if (gwc_get_u32(f, n, "max_websockets", 1, UINT16_MAX, &ws_max) == 1)
			u.max_websockets = ws_max;
		t = gwc_get(n, "health_check");
		if (t && health_check(f, t, &u))
			return -1;
		t = gwc_get(n, "circuit_breaker");
		if (t && circuit_breaker(f, t, &u))
			return -1;
		t = gwc_get(n, "buffer");
		if (t)
			buffer(f, t, &u);
		t = gwc_get(n, "tls");
		if (t && tls(f, name, gwc_key(n, "tls"), t, &u, f->conf->upstreams.n))
			return -1;
	}
	e = GW_VEC_PUSH(f->conf->upstreams);
	if (!e)
		return -1;
	*e = u;
	f->conf->upstreams.n++;
	return 0;
}

int gwc_parse_upstreams(struct gwc_file *f, const struct ynode *n)
{
	char b[80];

	if (gwc_is_null(n) || gwc_want_map(f, n, "'upstreams'"))
		return 0;
	for (uint32_t i = 0; i < n->n; i++) {
		const struct ynode *name = n->kids[2 * (size_t)i];

		if (!gwc_valid_name(name->s, name->len))
			gwc_err(f, name, "bad upstream name %s (a letter or digit, then letters, "
				"digits, '_', '.' or '-', at most 64 bytes)", gwc_show(name, b, sizeof b));
		if (gwc_define(f, &f->st->upstreams, name, "upstream", f->conf->upstreams.n) ||
		    upstream(f, name, n->kids[2 * (size_t)i + 1]))
			return -1;
	}
	return 0;
}
