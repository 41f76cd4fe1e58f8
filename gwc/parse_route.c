/* gwc's front end, part four: the `routes` section (docs/routes.md,
 * "routes", "Path patterns", "Handlers", "Templates") into conf.routes,
 * conf.polrefs, conf.responds, conf.proxies, conf.tpls and conf.headers, and
 * the checks that need a route's whole, resolved policy list.
 *
 * A route whose path, methods or host is unusable is checked in full but not
 * added to conf.routes, so that gw_trie_build can still look for conflicts
 * among the others and one run reports everything.
 */
#include "gwc/parse_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwc/units.h"
#include "lib/match.h"
#include "lib/path.h"

/* What a template may refer to: the parameters of the route's path. */
struct pat {
	int known;  /* 0: the path was unusable (reported); references are not checked */
	unsigned nparams;
	int wild; /* ends in "*" */
	struct {
		const char *p;
		uint32_t len;
	} params[GW_MAX_PARAMS];
};

static const char *const name_rule =
	"a letter or digit, then letters, digits, '_', '.' or '-', at most 64 bytes";

int gwc_methods(struct gwc_file *f, const struct ynode *n, const char *what, uint16_t *mask)
{
	char item[96], b[80];

	*mask = 0;
	if (gwc_want_seq(f, n, what))
		return 0;
	if (n->n == 0)
		gwc_err(f, n, "%s lists no method", what);
	for (uint32_t i = 0; i < n->n; i++) {
		const struct ynode *m = n->kids[i];
		unsigned bit;
		char up[16];

		/* The message's words only when there is a message. */
		if (m->type != YN_SCALAR || gwc_is_null(m)) {
			snprintf(item, sizeof item, "an item of %s", what);
			gwc_want_str(f, m, item);
			continue;
		}
		bit = gw_method_bit(m->s, m->len);
		if (!bit) {
			size_t k;

			for (k = 0; k < m->len && k < sizeof up - 1; k++)
				up[k] = (char)toupper((unsigned char)m->s[k]);
			up[k] = '\0';
			if (m->len < sizeof up && gw_method_bit(up, m->len))
				gwc_err(f, m, "unknown method %s (methods are upper-case: %s)",
					gwc_show(m, b, sizeof b), up);
			else
				gwc_err(f, m, "unknown method %s (expected GET, HEAD, POST, PUT, DELETE, "
					"PATCH or OPTIONS)", gwc_show(m, b, sizeof b));
			continue;
		}
		if (*mask & bit) {
			gwc_err(f, m, "method %s is listed twice", gwc_show(m, b, sizeof b));
			continue;
		}
		*mask = (uint16_t)(*mask | bit);
	}
	return 0;
}

/* ---- path patterns ---- */

/* 1 when <s> is a parameter name: [A-Za-z_][A-Za-z0-9_]*. */
static int param_name(const char *s, size_t len)
{
	if (len == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* Check path pattern <n> (docs/routes.md, "Path patterns") and collect its
 * parameters into <pt>.  0 when valid; else the first problem is reported
 * and -1 returned. */
static int pattern(struct gwc_file *f, const struct ynode *n, struct pat *pt)
{
	const char *s = n->s;
	size_t len = n->len, i = 1;
	char b[80], c[80];

	memset(pt, 0, sizeof *pt);
	if (len == 0 || s[0] != '/') {
		gwc_err(f, n, "bad path %s: a path starts with '/'", gwc_show(n, b, sizeof b));
		return -1;
	}
	if (len == 1)
		return 0;
	if (s[len - 1] == '/') {
		gwc_err(f, n, "bad path %s: no trailing '/' (the path without it also matches "
			"requests with it)", gwc_show(n, b, sizeof b));
		return -1;
	}
	while (i <= len) {
		size_t start = i, slen;

		while (i < len && s[i] != '/')
			i++;
		slen = i - start;
		const char *seg = s + start;
		if (slen == 0) {
			gwc_err(f, n, "bad path %s: empty segment ('//')", gwc_show(n, b, sizeof b));
			return -1;
		}
		if (pt->wild) {
			gwc_err(f, n, "bad path %s: '*' must be the last segment",
				gwc_show(n, b, sizeof b));
			return -1;
		}
		if (slen == 1 && seg[0] == '*') {
			pt->wild = 1;
		} else if (seg[0] == '{' && seg[slen - 1] == '}' && slen >= 2) {
			const char *name = seg + 1;
			size_t nlen = slen - 2;

			if (!param_name(name, nlen)) {
				gwc_err(f, n, "bad path %s: bad parameter name %s (letters, digits and "
					"'_', not starting with a digit)", gwc_show(n, b, sizeof b),
					gwc_show_bytes(name, nlen, c, sizeof c));
				return -1;
			}
			for (unsigned k = 0; k < pt->nparams; k++) {
				if (pt->params[k].len == nlen && memcmp(pt->params[k].p, name, nlen) == 0) {
					gwc_err(f, n, "bad path %s: parameter {%.*s} appears twice",
						gwc_show(n, b, sizeof b), (int)nlen, name);
					return -1;
				}
			}
			if (pt->nparams == GW_MAX_PARAMS) {
				gwc_err(f, n, "bad path %s: more than %u parameters",
					gwc_show(n, b, sizeof b), GW_MAX_PARAMS);
				return -1;
			}
			pt->params[pt->nparams].p = name;
			pt->params[pt->nparams++].len = (uint32_t)nlen;
		} else {
			if ((slen == 1 && seg[0] == '.') || (slen == 2 && seg[0] == '.' && seg[1] == '.')) {
				gwc_err(f, n, "bad path %s: '.' and '..' segments never match (requests "
					"are normalised first)", gwc_show(n, b, sizeof b));
				return -1;
			}
			for (size_t k = 0; k < slen; k++) {
				unsigned char ch = (unsigned char)seg[k];

				if (ch == '{' || ch == '}' || ch == '*') {
					gwc_err(f, n, "bad path %s: '%c' in a literal segment ({param} "
						"and '*' are whole segments)", gwc_show(n, b, sizeof b), ch);
					return -1;
				}
				if (ch < 0x20 || ch == 0x7f || ch == '\\' || ch == '?' || ch == '#' ||
				    ch == '%') {
					gwc_err(f, n, "bad path %s: character %s is not allowed in a "
						"literal segment (write literals decoded; '\\', '?', '#', "
						"'%%' and control characters never reach the matcher)",
						gwc_show(n, b, sizeof b),
						gwc_show_bytes(seg + k, 1, c, sizeof c));
					return -1;
				}
			}
		}
		i++;
	}
	return 0;
}

/* ---- templates ---- */

/* Append a part to conf.tpls.  Returns it, or NULL on OOM. */
static struct gw_tpl *tpl_push(struct gw_conf *c)
{
	struct gw_tpl *t = GW_VEC_PUSH(c->tpls);

	if (!t)
		return NULL;
	c->tpls.n++;
	t->text = t->alt = (struct gw_str){ "", 0 };
	return t;
}

/* Add the literal <lit> (<*llen> bytes) as a part if not empty, and empty it.
 * 0, or -1 OOM. */
static int flush(struct gwc_file *f, char *lit, size_t *llen)
{
	struct gw_tpl *t;

	if (*llen == 0)
		return 0;
	t = tpl_push(f->conf);
	if (!t || gwc_copy_bytes(f->st, lit, *llen, &t->text))
		return -1;
	t->kind = GW_TPL_LITERAL;
	*llen = 0;
	return 0;
}

/* The substitution ${<in>} (<ilen> bytes between the braces) of template <n>
 * (<what>) into a part.  0 (bad ones reported), or -1 OOM. */
static int subst(struct gwc_file *f, const struct ynode *n, const char *what,
		 const struct pat *pt, const char *in, size_t ilen)
{
	const char *colon = memchr(in, ':', ilen), *name;
	size_t hlen = colon ? (size_t)(colon - in) : ilen, nlen;
	struct gw_tpl t = { .text = { "", 0 }, .alt = { "", 0 } }, *e;
	char b[80];

	if (colon) {
		const char *alt = colon + 2;
		size_t alen;

		if (hlen + 2 > ilen || (colon[1] != '-' && colon[1] != '+'))
			goto bad;
		alen = ilen - hlen - 2;
		if (memchr(alt, '$', alen)) {
			gwc_err(f, n, "%s: '$' is not allowed in the TEXT of ${X:-TEXT} or ${X:+TEXT}",
				what);
			return 0;
		}
		t.mode = colon[1] == '-' ? GW_TPL_DEFAULT : GW_TPL_ALT;
		if (gwc_copy_bytes(f->st, alt, alen, &t.alt))
			return -1;
	}
	if (hlen > 5 && memcmp(in, "path.", 5) == 0) {
		name = in + 5;
		nlen = hlen - 5;
		if (nlen == 1 && name[0] == '*') {
			if (!pt->wild && pt->known) {
				gwc_err(f, n, "%s refers to ${path.*} but the path does not end in '*'", what);
				return 0;
			}
			t.kind = GW_TPL_REST;
		} else {
			unsigned k;

			if (!param_name(name, nlen))
				goto bad;
			for (k = 0; k < pt->nparams; k++)
				if (pt->params[k].len == nlen && memcmp(pt->params[k].p, name, nlen) == 0)
					break;
			if (k == pt->nparams && pt->known) {
				gwc_err(f, n, "%s refers to ${path.%.*s} but the path has no {%.*s}", what,
					(int)nlen, name, (int)nlen, name);
				return 0;
			}
			t.kind = GW_TPL_PARAM;
			t.param = (uint16_t)(k < pt->nparams ? k : 0);
		}
	} else if (hlen > 6 && memcmp(in, "query.", 6) == 0) {
		name = in + 6;
		nlen = hlen - 6;
		for (size_t k = 0; k < nlen; k++)
			if (!isalnum((unsigned char)name[k]) && !strchr("_.~-", name[k]))
				goto bad;
		t.kind = GW_TPL_QUERY;
		if (gwc_copy_bytes(f->st, name, nlen, &t.text))
			return -1;
	} else {
		goto bad;
	}
	e = tpl_push(f->conf);
	if (!e)
		return -1;
	*e = t;
	return 0;
bad:
	gwc_err(f, n, "%s: bad substitution %s (expected ${path.NAME}, ${path.*} or "
		"${query.NAME}, optionally with :-TEXT or :+TEXT)", what,
		gwc_show_bytes(in - 2, ilen + 3, b, sizeof b));
	return 0;
}

/* Compile template <n> (<what>: "'body'", "'rewrite'") against the path
 * parameters <pt> into conf.tpls at <*first>, <*count> parts.  0 (errors
 * reported), or -1 OOM. */
static int tpl(struct gwc_file *f, const struct ynode *n, const char *what,
	       const struct pat *pt, uint32_t *first, uint32_t *count)
{
	char *lit = malloc(n->len + 1);
	size_t llen = 0, i = 0;
	int rc = -1;

	*first = f->conf->tpls.n;
	*count = 0;
	if (!lit)
		return -1;
	while (i < n->len) {
		const char *s = n->s;

		if (s[i] != '$') {
			lit[llen++] = s[i++];
			continue;
		}
		if (i + 1 < n->len && s[i + 1] == '$') {
			lit[llen++] = '$';
			i += 2;
			continue;
		}
		if (i + 1 >= n->len || s[i + 1] != '{') {
			gwc_err(f, n, "%s: a '$' starts ${...} (write $$ for a literal '$')", what);
			break;
		}
		const char *end = memchr(s + i + 2, '}', n->len - i - 2);
		if (!end) {
			gwc_err(f, n, "%s: '${' without its closing '}'", what);
			break;
		}
		if (flush(f, lit, &llen) ||
		    subst(f, n, what, pt, s + i + 2, (size_t)(end - (s + i + 2))))
			goto fail;
		i = (size_t)(end - s) + 1;
	}
	if (flush(f, lit, &llen))
		goto fail;
	*count = f->conf->tpls.n - *first;
	rc = 0;
fail:
	free(lit);
	return rc;
}

/* ---- handlers ---- */

/* Whether gwd's template escaping (JSON string escaping) is right for a
 * body of media type <v> (<len> bytes, a Content-Type value): JSON
 * (application/json, application/...+json) and text/plain, parameters
 * allowed.  An HTML, XML or script body would need escaping of its own,
 * so templates there are refused.  1 or 0. */
static int escapable_type(const char *v, size_t len)
{
	size_t n = 0;

	while (n < len && v[n] != ';' && v[n] != ' ' && v[n] != '\t')
		n++;
	if ((n == 16 && strncasecmp(v, "application/json", 16) == 0) ||
	    (n == 10 && strncasecmp(v, "text/plain", 10) == 0))
		return 1;
	return n > 17 && strncasecmp(v, "application/", 12) == 0 &&
	       strncasecmp(v + n - 5, "+json", 5) == 0;
}

/* Whether the literal parts of rewrite <s> (<len> bytes) pass gwd's check of
 * rendered paths (lib/path.h, gw_path_check_target): "${X:-TEXT}" and
 * "${X:+TEXT}" stand for their TEXT (sent as written), any other "${...}"
 * for a plain value, "$$" for '$'.  Without this a rewrite such as
 * "/a/../b" would compile and then be refused on every request.  Returns
 * GW_PATH_OK or the status. */
static int rewrite_literal_ok(const char *s, size_t len)
{
	char buf[1024], scratch[1024];
	size_t o = 0;

	if (len >= sizeof buf)
		return GW_PATH_OK; /* long rewrites are checked at run time only */
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			const char *e = memchr(s + i, '}', len - i), *m;

			if (!e)
				return GW_PATH_OK; /* tpl() reports it */
			m = memchr(s + i, ':', (size_t)(e - (s + i)));
			if (m && m + 1 < e && (m[1] == '-' || m[1] == '+')) {
				memcpy(buf + o, m + 2, (size_t)(e - (m + 2)));
				o += (size_t)(e - (m + 2));
			} else {
				buf[o++] = 'x';
			}
			i = (size_t)(e - s);
		} else if (s[i] == '$' && i + 1 < len && s[i + 1] == '$') {
			buf[o++] = '$';
			i++;
		} else {
			buf[o++] = s[i];
		}
	}
	return gw_path_check_target(buf, o, scratch, sizeof scratch);
}

/* respond into conf.responds; <*index> gets its index.  0, or -1 OOM. */
static int respond(struct gwc_file *f, const struct ynode *n, const struct pat *pt,
		   uint32_t *index)
{
	static const char *const keys[] = { "status", "headers", "body", NULL };
	struct gw_respond r = { .status = 200 }, *e;
	struct gwc_names seen = { 0 };
	const struct ynode *v;
	uint32_t status;

	r.hdr_first = f->conf->headers.n;
	r.body_first = f->conf->tpls.n;
	if (!gwc_is_null(n) && gwc_want_map(f, n, "'respond'") == 0) {
		gwc_check_keys(f, n, keys, "'respond'");
		if (gwc_get_u32(f, n, "status", 100, 599, &status) == 1)
			r.status = (uint16_t)status;
		v = gwc_get(n, "headers");
		if (v && !gwc_is_null(v) && gwc_want_map(f, v, "'headers'") == 0) {
			for (uint32_t i = 0; i < v->n; i++) {
				const struct ynode *k = v->kids[2 * (size_t)i];
				const struct ynode *val = v->kids[2 * (size_t)i + 1];
				const struct gwc_name *old;
				struct gw_header *h;
				struct gw_place at = gwc_place(f, k);
				char *low, b[80], pl[512];

				if (gwc_check_header_name(f, k, "a response header", 1))
					continue;
				low = gwc_arena_strndup(&f->tree, k->s, k->len);
				if (!low)
					goto oom;
				for (uint32_t j = 0; j < k->len; j++)
					low[j] = (char)tolower((unsigned char)low[j]);
				old = gwc_names_find(&seen, low, k->len);
				if (old) {
					gwc_err(f, k, "header %s is listed twice (first at %s)",
						gwc_show(k, b, sizeof b),
						gwc_place_str(f->conf, &old->at, pl, sizeof pl));
					continue;
				}
				if (gwc_names_add(&seen, low, k->len, 0, &at))
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
		r.hdr_count = f->conf->headers.n - r.hdr_first;
		v = gwc_get(n, "body");
		if (v && v->type == YN_SCALAR && !v->plain && v->len == 0) {
			/* body: '' is an empty body */
		} else if (v && gwc_want_str(f, v, "'body'") == 0) {
			if (tpl(f, v, "'body'", pt, &r.body_first, &r.body_count))
				goto oom;
			for (uint32_t i = 0; i < r.body_count; i++) {
				const struct gw_header *ct = NULL;

				if (f->conf->tpls.v[r.body_first + i].kind == GW_TPL_LITERAL)
					continue;
				for (uint32_t j = 0; j < r.hdr_count; j++) {
					const struct gw_header *h = &f->conf->headers.v[r.hdr_first + j];

					if (h->name.len == 12 && strncasecmp(h->name.p, "content-type", 12) == 0)
						ct = h;
				}
				if (ct && !escapable_type(ct->value.p, ct->value.len))
					gwc_err(f, v, "templates in a body of type '%.*s': values are "
						"escaped for JSON and plain text only (make it "
						"application/json, application/...+json or text/plain, "
						"or drop the templates)",
						(int)(ct->value.len < 64 ? ct->value.len : 64), ct->value.p);
				break;
			}
			/* RFC 9110 6.4.1: these responses never carry content. */
			if (r.status < 200 || r.status == 204 || r.status == 304)
				gwc_err(f, v, "a response with status %u has no body", r.status);
		}
	}
	gwc_names_free(&seen);
	*index = f->conf->responds.n;
	e = GW_VEC_PUSH(f->conf->responds);
	if (!e)
		return -1;
	*e = r;
	f->conf->responds.n++;
	return 0;
oom:
	gwc_names_free(&seen);
	return -1;
}

/* The proxy's `websocket` switch <v> (may be NULL) into <r->websocket>: a
 * WebSocket handshake is a GET (RFC 6455 4.1), so the route serves GET only.
 * Reported when bad. */
static void proxy_websocket(struct gwc_file *f, const struct ynode *v, struct gw_route *r)
{
	if (!v || gwc_bool(f, v, "'websocket'", &r->websocket) != 0 || !r->websocket)
		return;
	if (r->methods && r->methods != GW_M_GET)
		gwc_err(f, v, "'websocket: true' needs methods: [GET] (a WebSocket handshake "
			"is a GET request)");
}

/* proxy into conf.proxies (and its upstream name into st->upnames, resolved
 * at the end); <r->handler_index> gets its index, <r->websocket> the
 * switch.  <path> is the route's pattern node (NULL when unusable).  0, or
 * -1 OOM. */
static int proxy(struct gwc_file *f, const struct ynode *n, const struct pat *pt,
		 const struct ynode *path, struct gw_route *route)
{
	static const char *const keys[] = { "upstream", "rewrite", "strip_prefix", "websocket",
					    NULL };
	struct gw_proxy p = { .upstream = GW_NONE, .strip_prefix = { "", 0 } }, *e;
	struct gwc_ref ref = { .slot = f->conf->proxies.n }, *r;
	const struct ynode *v, *rw, *sp;
	char b[80], c[80];
	int st;

	p.rewrite_first = f->conf->tpls.n;
	if (gwc_want_map(f, n, "'proxy'") == 0) {
		gwc_check_keys(f, n, keys, "'proxy'");
		v = gwc_get(n, "upstream");
		if (!v) {
			gwc_err(f, n, "missing required key 'upstream' in 'proxy'");
		} else if (gwc_want_str(f, v, "'upstream'") == 0) {
			ref.at = gwc_place(f, v);
			if (gwc_copy(f, v, &ref.name))
				return -1;
		}
		rw = gwc_get(n, "rewrite");
		sp = gwc_get(n, "strip_prefix");
		if (rw && sp) {
			const struct ynode *second = NULL;

			/* Keys keep the file's order: blame the one written last. */
			for (uint32_t i = 0; i < n->n; i++) {
				const struct ynode *k = n->kids[2 * (size_t)i];

				if (k == gwc_key(n, "rewrite") || k == gwc_key(n, "strip_prefix"))
					second = k;
			}
			gwc_err(f, second, "'rewrite' and 'strip_prefix' exclude each other");
		} else if (rw && gwc_want_str(f, rw, "'rewrite'") == 0) {
			int ok = rw->s[0] == '/';

			for (uint32_t i = 0; i < rw->len && ok; i++) {
				unsigned char ch = (unsigned char)rw->s[i];

				ok = ch > 0x20 && ch != 0x7f && ch != '#';
			}
			if (!ok)
				gwc_err(f, rw, "bad rewrite %s: it starts with '/' and holds no blanks, "
					"control characters or '#'", gwc_show(rw, b, sizeof b));
			else if ((st = rewrite_literal_ok(rw->s, rw->len)) != GW_PATH_OK)
				gwc_err(f, rw, "bad rewrite %s: %s (gwd sends rendered paths only "
					"when a client could have sent them)", gwc_show(rw, b, sizeof b),
					gw_path_strerror(st));
			else if (tpl(f, rw, "'rewrite'", pt, &p.rewrite_first, &p.rewrite_count))
				return -1;
		} else if (sp && gwc_want_str(f, sp, "'strip_prefix'") == 0) {
			size_t l = sp->len;

			if (l < 2 || sp->s[0] != '/' || sp->s[l - 1] == '/' ||
			    strpbrk(sp->s, "{}*") || memchr(sp->s, '\0', l)) {
				gwc_err(f, sp, "bad strip_prefix %s: a literal path such as /api, "
					"without a trailing '/'", gwc_show(sp, b, sizeof b));
			} else if (path && (path->len < l || memcmp(path->s, sp->s, l) != 0 ||
					    (path->len > l && path->s[l] != '/'))) {
				gwc_err(f, sp, "strip_prefix %s is not a leading part of the path %s",
					gwc_show(sp, b, sizeof b), gwc_show(path, c, sizeof c));
			} else if (gwc_copy(f, sp, &p.strip_prefix)) {
				return -1;
			}
		}
		proxy_websocket(f, gwc_get(n, "websocket"), route);
	}
	route->handler_index = f->conf->proxies.n;
	e = GW_VEC_PUSH(f->conf->proxies);
	if (!e)
		return -1;
	*e = p;
	f->conf->proxies.n++;
	r = GW_VEC_PUSH(f->st->upnames);
	if (!r)
		return -1;
	*r = ref;
	f->st->upnames.n++;
	return 0;
}

static const char *const handler_names[] = {
	"respond", "echo", "proxy", "login", "logout", "health", "metrics", "status", NULL,
};

/* A handler without fields (echo, login, ...): {} or nothing. */
static void no_fields(struct gwc_file *f, const struct ynode *k, const struct ynode *n)
{
	char b[80];

	if (gwc_is_null(n) || n->type == YN_BAD)
		return;
	if (n->type != YN_MAP) {
		gwc_err(f, n, "expected {} for '%s' (it takes no fields), got %s", k->s,
			gwc_show(n, b, sizeof b));
		return;
	}
	for (uint32_t i = 0; i < n->n; i++)
		gwc_err(f, n->kids[2 * (size_t)i], "unknown key %s in '%s' (it takes no fields)",
			gwc_show(n->kids[2 * (size_t)i], b, sizeof b), k->s);
}

/* The host of route <n> lower-cased into <*out> ({"", 0} when none).
 * Returns 0, 1 when the host is unusable (reported), or -1 OOM. */
static int host(struct gwc_file *f, const struct ynode *v, struct gw_str *out)
{
	char b[80];

	*out = (struct gw_str){ "", 0 };
	if (!v)
		return 0;
	if (gwc_want_str(f, v, "'host'"))
		return 1;
	if (v->s[0] == '[') {
		gwc_err(f, v, "bad host %s: IPv6 literals are not supported as route hosts",
			gwc_show(v, b, sizeof b));
		return 1;
	}
	if (memchr(v->s, ':', v->len)) {
		gwc_err(f, v, "bad host %s: routes match the host name without a port",
			gwc_show(v, b, sizeof b));
		return 1;
	}
	if (!gwc_is_hostname(v->s, v->len)) {
		gwc_err(f, v, "bad host %s: expected a DNS name such as api.example.com",
			gwc_show(v, b, sizeof b));
		return 1;
	}
	if (gwc_copy(f, v, out))
		return -1;
	for (uint32_t i = 0; i < out->len; i++)
		((char *)out->p)[i] = (char)tolower((unsigned char)out->p[i]);
	return 0;
}

/* The policies list of route <v> into conf.polrefs (names to resolve at the
 * end).  0, or -1 OOM. */
static int route_policies(struct gwc_file *f, const struct ynode *v, struct gw_route *r)
{
	r->pol_first = f->conf->polrefs.n;
	if (!v || gwc_is_null(v) || gwc_want_seq(f, v, "'policies'"))
		return 0;
	if (v->n > UINT16_MAX) {
		gwc_err(f, v, "a route lists at most %u policies", UINT16_MAX);
		return 0;
	}
	for (uint32_t i = 0; i < v->n; i++) {
		const struct ynode *p = v->kids[i];
		uint32_t *slot;
		struct gwc_ref *ref;

		if (gwc_want_str(f, p, "an item of 'policies'"))
			continue;
		slot = GW_VEC_PUSH(f->conf->polrefs);
		if (!slot)
			return -1;
		*slot = GW_NONE;
		ref = GW_VEC_PUSH(f->st->polnames);
		if (!ref || gwc_copy(f, p, &ref->name))
			return -1;
		ref->slot = f->conf->polrefs.n++;
		ref->at = gwc_place(f, p);
		f->st->polnames.n++;
		r->pol_count++;
	}
	return 0;
}

/* Route <n>, an item of `routes`.  0, or -1 OOM. */
static int route(struct gwc_file *f, const struct ynode *n)
{
	static const char *const keys[] = {
		"name", "path", "methods", "host", "policies", "respond", "echo", "proxy",
		"login", "logout", "health", "metrics", "status", NULL,
	};
	struct gw_route r = { .name = { "", 0 }, .pattern = { "", 0 } }, *e;
	const struct ynode *v, *path = NULL, *hk = NULL, *hv = NULL;
	struct gw_str hostname, *hs;
	struct pat pt = { 0 };
	int usable = 1, rc;
	char b[80];

	if (gwc_want_map(f, n, "an item of 'routes'"))
		return 0;
	r.place = gwc_place(f, n);
	gwc_check_keys(f, n, keys, "a route");
	v = gwc_get(n, "name");
	if (v && gwc_want_str(f, v, "'name'") == 0) {
		if (!gwc_valid_name(v->s, v->len))
			gwc_err(f, v, "bad route name %s (%s)", gwc_show(v, b, sizeof b), name_rule);
		if (gwc_define(f, &f->st->routes, v, "route", f->conf->routes.n) ||
		    gwc_copy(f, v, &r.name))
			return -1;
	}
	v = gwc_get(n, "path");
	if (!v) {
		gwc_err(f, n, "missing required key 'path' in a route");
		usable = 0;
	} else if (gwc_want_str(f, v, "'path'") || pattern(f, v, &pt)) {
		usable = 0;
	} else {
		path = v;
		pt.known = 1;
		r.nparams = (uint8_t)pt.nparams;
		if (gwc_copy(f, v, &r.pattern))
			return -1;
	}
	v = gwc_get(n, "methods");
	if (!v)
		gwc_err(f, n, "missing required key 'methods' in a route (as in methods: [GET])");
	else
		gwc_methods(f, v, "'methods'", &r.methods);
	if (!r.methods)
		usable = 0;
	rc = host(f, gwc_get(n, "host"), &hostname);
	if (rc < 0)
		return -1;
	if (rc)
		usable = 0;
	if (route_policies(f, gwc_get(n, "policies"), &r))
		return -1;
	for (uint32_t i = 0; i < n->n; i++) {
		const struct ynode *k = n->kids[2 * (size_t)i];

		for (int j = 0; handler_names[j]; j++) {
			if (handler_names[j][0] != k->s[0] || strlen(handler_names[j]) != k->len ||
			    memcmp(handler_names[j], k->s, k->len))
				continue;
			if (hk) {
				gwc_err(f, k, "a route has exactly one handler; '%s' comes after '%s'",
					k->s, hk->s);
			} else {
				hk = k;
				hv = n->kids[2 * (size_t)i + 1];
				r.handler = (uint8_t)(GW_H_RESPOND + j);
			}
		}
	}
	if (!hk) {
		gwc_err(f, n, "a route needs a handler: one of respond, echo, proxy, login, "
			"logout, health, metrics, status");
		usable = 0;
	} else if (r.handler == GW_H_RESPOND) {
		if (respond(f, hv, &pt, &r.handler_index))
			return -1;
	} else if (r.handler == GW_H_PROXY) {
		if (proxy(f, hv, &pt, path, &r))
			return -1;
	} else {
		no_fields(f, hk, hv);
	}
	if (!usable)
		return 0;
	e = GW_VEC_PUSH(f->conf->routes);
	hs = e ? GW_VEC_PUSH(f->st->hostnames) : NULL;
	if (!hs)
		return -1;
	*e = r;
	*hs = hostname;
	f->conf->routes.n++;
	f->st->hostnames.n++;
	return 0;
}

int gwc_parse_routes(struct gwc_file *f, const struct ynode *n)
{
	if (gwc_is_null(n) || gwc_want_seq(f, n, "'routes'"))
		return 0;
	for (uint32_t i = 0; i < n->n; i++)
		if (route(f, n->kids[i]))
			return -1;
	return 0;
}

/* docs/routes.md: `body_limit: none` only on a proxy route, which streams
 * the body upstream; every other handler reads it whole.  Reports at the
 * route's reference <ref> to policy <pol> when route <r> breaks that. */
static void check_body_none(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st,
			    const struct gw_route *r, const struct gw_policy *pol,
			    const struct gwc_ref *ref)
{
	char b[80];

	if (pol->kind != GW_P_BODY_LIMIT || r->handler == GW_H_PROXY ||
	    pol->index >= conf->body_limits.n ||
	    conf->body_limits.v[pol->index] != GW_BODY_LIMIT_NONE)
		return;
	gwc_show_bytes(ref->name.p, ref->name.len, b, sizeof b);
	gwc_err_at(conf, d, st, &ref->at, "policy %s has body_limit: none, which only a proxy "
		   "route takes (other handlers read the body whole)", b);
}

int gwc_finish_routes(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st)
{
	uint32_t *mark = malloc((conf->policies.n ? conf->policies.n : 1) * sizeof *mark);
	char b[80];

	if (!mark)
		return -1;
	for (uint32_t i = 0; i < conf->policies.n; i++)
		mark[i] = GW_NONE;
	for (uint32_t i = 0; i < conf->routes.n; i++) {
		const struct gw_route *r = &conf->routes.v[i];
		int session = 0, api_key = 0;

		for (uint32_t j = r->pol_first; j < r->pol_first + r->pol_count; j++) {
			uint32_t p = conf->polrefs.v[j];
			const struct gwc_ref *ref = &st->polnames.v[j];
			const struct gw_policy *pol;

			if (p >= conf->policies.n)
				continue; /* unknown: reported */
			if (mark[p] == i) {
				gwc_show_bytes(ref->name.p, ref->name.len, b, sizeof b);
				gwc_err_at(conf, d, st, &ref->at, "policy %s is listed twice on the route", b);
				continue;
			}
			mark[p] = i;
			pol = &conf->policies.v[p];
			check_body_none(conf, d, st, r, pol, ref);
			if (pol->kind == GW_P_AUTH && pol->index < conf->auths.n) {
				session |= conf->auths.v[pol->index].type == GW_AUTH_SESSION ||
					   conf->auths.v[pol->index].type == GW_AUTH_JWT;
				api_key |= conf->auths.v[pol->index].type == GW_AUTH_API_KEY;
			}
			if (pol->kind != GW_P_RATE_LIMIT)
				continue;
			/* docs/routes.md: key user and key api_key need an auth policy
			 * earlier on the route, which sets the name they count by. */
			for (uint32_t k = 0; k < pol->count && pol->index + k < conf->ratelimits.n; k++) {
				uint8_t key = conf->ratelimits.v[pol->index + k].key;

				if (key == GW_RLK_USER && !session) {
					gwc_show_bytes(ref->name.p, ref->name.len, b, sizeof b);
					gwc_err_at(conf, d, st, &ref->at, "policy %s limits by user: it needs "
						   "an auth policy of type session or jwt before it on the route", b);
					break;
				}
				if (key == GW_RLK_API_KEY && !api_key) {
					gwc_show_bytes(ref->name.p, ref->name.len, b, sizeof b);
					gwc_err_at(conf, d, st, &ref->at, "policy %s limits by api_key: it "
						   "needs an auth policy of type api_key before it on the route",
						   b);
					break;
				}
			}
		}
	}
	free(mark);
	return 0;
}
