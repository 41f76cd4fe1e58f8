/* gwc's front end: what the construct walkers share (parse_int.h) — error
 * recording with the cap, describing values in messages, typed access to
 * YAML nodes with range checks, the validations several constructs need
 * (names, header names and values, CIDRs) and the name tables.
 *
 * Every message about a value goes through these helpers, so that one kind of
 * mistake reads the same wherever it is made.
 */
#include "gwc/parse_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwc/units.h"
#include "lib/http.h"

/* ---- errors ------------------------------------------------------------- */

/* Record a message at <at> for <st> with the cap of GWC_MAX_ERRORS: past it,
 * one message says the rest was dropped (a hostile file could otherwise make
 * millions). */
__attribute__((format(printf, 4, 0)))
static void verr(struct gw_diag *d, struct gwc_state *st, const struct gw_place *at,
		 const char *fmt, va_list ap)
{
	char *text = NULL;

	if (st->nerrors > GWC_MAX_ERRORS)
		return;
	if (st->nerrors++ == GWC_MAX_ERRORS) {
		gw_diag_error(d, NULL, "too many errors (more than %u); stopped reporting",
			      GWC_MAX_ERRORS);
		return;
	}
	if (vasprintf(&text, fmt, ap) < 0) {
		d->oom = 1;
		return;
	}
	gw_diag_error(d, at, "%s", text);
	free(text);
}

void gwc_err(struct gwc_file *f, const struct ynode *n, const char *fmt, ...)
{
	struct gw_place at = gwc_place(f, n);
	va_list ap;

	va_start(ap, fmt);
	verr(f->d, f->st, &at, fmt, ap);
	va_end(ap);
}

void gwc_err_at(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st,
		const struct gw_place *at, const char *fmt, ...)
{
	va_list ap;

	(void)conf;
	va_start(ap, fmt);
	verr(d, st, at, fmt, ap);
	va_end(ap);
}

struct gw_place gwc_place(const struct gwc_file *f, const struct ynode *n)
{
	struct gw_place p = { .file = f->file, .line = 1, .col = 1 };

	if (n) {
		p.line = n->line;
		p.col = n->col > UINT16_MAX ? UINT16_MAX : (uint16_t)n->col;
	}
	return p;
}

const char *gwc_place_str(const struct gw_conf *conf, const struct gw_place *p, char *buf,
			  size_t cap)
{
	const char *file = p->file < conf->files.n ? conf->files.v[p->file].p : "?";

	snprintf(buf, cap, "%s:%u:%u", file, (unsigned)p->line, (unsigned)p->col);
	return buf;
}

const char *gwc_show_bytes(const char *s, size_t len, char *buf, size_t cap)
{
	size_t o = 0, max = 48;

	if (cap < 16) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '\'';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == max || o + 8 >= cap) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, cap - o, c == '\\' ? "\\\\" : "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

const char *gwc_show(const struct ynode *n, char *buf, size_t cap)
{
	const char *what = NULL;

	if (n->type == YN_MAP)
		what = "a mapping";
	else if (n->type == YN_SEQ)
		what = "a sequence";
	else if (n->type == YN_BAD || gwc_is_null(n))
		what = "an empty value";
	if (what) {
		snprintf(buf, cap, "%s", what);
		return buf;
	}
	return gwc_show_bytes(n->s, n->len, buf, cap);
}

/* ---- typed access -------------------------------------------------------- */

int gwc_is_null(const struct ynode *n)
{
	if (n->type != YN_SCALAR || !n->plain)
		return 0;
	return n->len == 0 || strcmp(n->s, "~") == 0 || strcmp(n->s, "null") == 0 ||
	       strcmp(n->s, "Null") == 0 || strcmp(n->s, "NULL") == 0;
}

/* Index of the pair of <key> in mapping <map>, or -1. */
static long find_pair(const struct ynode *map, const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != YN_MAP)
		return -1;
	for (uint32_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->kids[2 * (size_t)i];

		if (k->len == klen && memcmp(k->s, key, klen) == 0)
			return (long)i;
	}
	return -1;
}

const struct ynode *gwc_key(const struct ynode *map, const char *key)
{
	long i = find_pair(map, key);

	return i < 0 ? NULL : map->kids[2 * (size_t)i];
}

const struct ynode *gwc_get(const struct ynode *map, const char *key)
{
	long i = find_pair(map, key);

	return i < 0 ? NULL : map->kids[2 * (size_t)i + 1];
}

void gwc_check_keys(struct gwc_file *f, const struct ynode *map, const char *const *keys,
		    const char *ctx)
{
	char b[80];

	if (!map || map->type != YN_MAP)
		return;
	for (uint32_t i = 0; i < map->n; i++) {
		const struct ynode *k = map->kids[2 * (size_t)i];
		int known = 0;

		for (unsigned j = 0; keys[j] && !known; j++)
			known = keys[j][0] == k->s[0] && strlen(keys[j]) == k->len &&
				memcmp(keys[j], k->s, k->len) == 0;
		if (!known)
			gwc_err(f, k, "unknown key %s in %s", gwc_show(k, b, sizeof b), ctx);
	}
}

/* Report that <n> is not <kind> (unless it is YN_BAD: already reported). */
static int wrong(struct gwc_file *f, const struct ynode *n, const char *kind, const char *what)
{
	char b[80];

	if (n->type != YN_BAD)
		gwc_err(f, n, "expected %s for %s, got %s", kind, what, gwc_show(n, b, sizeof b));
	return -1;
}

int gwc_want_map(struct gwc_file *f, const struct ynode *n, const char *what)
{
	return n->type == YN_MAP ? 0 : wrong(f, n, "a mapping", what);
}

int gwc_want_seq(struct gwc_file *f, const struct ynode *n, const char *what)
{
	return n->type == YN_SEQ ? 0 : wrong(f, n, "a sequence", what);
}

int gwc_want_str(struct gwc_file *f, const struct ynode *n, const char *what)
{
	return n->type == YN_SCALAR && !gwc_is_null(n) ? 0 : wrong(f, n, "a string", what);
}

/* Report <v> outside [<min>, <max>] for <what> in the clearest words. */
static void range_err(struct gwc_file *f, const struct ynode *n, const char *what,
		      uint64_t min, uint64_t max, uint64_t cap, const char *unit)
{
	if (min > 0 && max < cap)
		gwc_err(f, n, "%s must be between %llu%s and %llu%s", what,
			(unsigned long long)min, unit, (unsigned long long)max, unit);
	else if (min > 0)
		gwc_err(f, n, "%s must be at least %llu%s", what, (unsigned long long)min, unit);
	else
		gwc_err(f, n, "%s must be at most %llu%s", what, (unsigned long long)max, unit);
}

/* 1 when scalar <n> is a minus sign and digits: a negative number, worth its
 * own message rather than "not an integer". */
static int negative(const struct ynode *n)
{
	if (n->len < 2 || n->s[0] != '-')
		return 0;
	for (uint32_t i = 1; i < n->len; i++)
		if (n->s[i] < '0' || n->s[i] > '9')
			return 0;
	return 1;
}

int gwc_u32(struct gwc_file *f, const struct ynode *n, const char *what, uint32_t min,
	    uint32_t max, uint32_t *out)
{
	char b[80];
	uint64_t v;
	int r;

	if (n->type != YN_SCALAR || gwc_is_null(n))
		return wrong(f, n, "an integer", what);
	if (!n->plain) {
		gwc_err(f, n, "expected an integer for %s, got the string %s (remove the quotes)",
			what, gwc_show(n, b, sizeof b));
		return -1;
	}
	if (negative(n)) {
		if (min)
			gwc_err(f, n, "%s must be at least %u", what, min);
		else
			gwc_err(f, n, "%s cannot be negative", what);
		return -1;
	}
	r = gwc_parse_uint(n->s, n->len, &v);
	if (r == GWC_U_SYNTAX)
		return wrong(f, n, "an integer", what);
	if (r == GWC_U_RANGE || v < min || v > max) {
		range_err(f, n, what, min, max, UINT32_MAX, "");
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int gwc_dur_ms(struct gwc_file *f, const struct ynode *n, const char *what, uint32_t min,
	       uint32_t *out)
{
	char b[80];
	uint64_t v;
	int r;

	if (n->type != YN_SCALAR || gwc_is_null(n))
		return wrong(f, n, "a duration", what);
	r = gwc_parse_duration(n->s, n->len, &v);
	if (r == GWC_U_SYNTAX || r == GWC_U_UNIT) {
		gwc_err(f, n, "bad duration %s for %s (expected an integer and a unit: "
			"ms, s, m, h or d, as in 500ms or 30s)", gwc_show(n, b, sizeof b), what);
		return -1;
	}
	if (r == GWC_U_RANGE || v > UINT32_MAX) {
		gwc_err(f, n, "%s must be at most 4294967295ms (about 49 days)", what);
		return -1;
	}
	if (v < min) {
		gwc_err(f, n, "%s must be at least %ums", what, min);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int gwc_size(struct gwc_file *f, const struct ynode *n, const char *what, uint64_t min,
	     uint64_t max, uint64_t *out)
{
	char b[80];
	uint64_t v;
	int r;

	if (n->type != YN_SCALAR || gwc_is_null(n))
		return wrong(f, n, "a size", what);
	if (negative(n)) {
		if (min)
			gwc_err(f, n, "%s must be at least %llu bytes", what, (unsigned long long)min);
		else
			gwc_err(f, n, "%s cannot be negative", what);
		return -1;
	}
	r = gwc_parse_size(n->s, n->len, &v);
	if (r == GWC_U_SYNTAX || r == GWC_U_UNIT) {
		gwc_err(f, n, "bad size %s for %s (expected an integer, optionally with a unit: "
			"B, KB, MB, GB, KiB, MiB or GiB)", gwc_show(n, b, sizeof b), what);
		return -1;
	}
	if (r == GWC_U_RANGE || v < min || v > max) {
		range_err(f, n, what, min, max, UINT64_MAX, " bytes");
		return -1;
	}
	*out = v;
	return 0;
}

int gwc_bool(struct gwc_file *f, const struct ynode *n, const char *what, uint8_t *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };

	if (n->type == YN_SCALAR && n->plain) {
		for (unsigned i = 0; yes[i]; i++) {
			if (strcmp(n->s, yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcmp(n->s, no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	}
	return wrong(f, n, "true or false", what);
}

int gwc_enum(struct gwc_file *f, const struct ynode *n, const char *what,
	     const char *const *names, int *out)
{
	char b[80], list[256];
	size_t o = 0;

	if (n->type != YN_SCALAR || gwc_is_null(n))
		return wrong(f, n, "a string", what);
	for (int i = 0; names[i]; i++) {
		if (strlen(names[i]) == n->len && memcmp(names[i], n->s, n->len) == 0) {
			*out = i;
			return 0;
		}
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", names[i]);
		if (o >= sizeof list)
			o = sizeof list - 1;
	}
	gwc_err(f, n, "bad value %s for %s (expected one of: %s)", gwc_show(n, b, sizeof b),
		what, list);
	return -1;
}

int gwc_get_u32(struct gwc_file *f, const struct ynode *map, const char *key, uint32_t min,
		uint32_t max, uint32_t *out)
{
	const struct ynode *n = gwc_get(map, key);
	char what[80];

	if (!n)
		return 0;
	snprintf(what, sizeof what, "'%s'", key);
	return gwc_u32(f, n, what, min, max, out) ? -1 : 1;
}

int gwc_get_dur_ms(struct gwc_file *f, const struct ynode *map, const char *key,
		   uint32_t min, uint32_t *out)
{
	const struct ynode *n = gwc_get(map, key);
	char what[80];

	if (!n)
		return 0;
	snprintf(what, sizeof what, "'%s'", key);
	return gwc_dur_ms(f, n, what, min, out) ? -1 : 1;
}

int gwc_copy_bytes(struct gwc_state *st, const char *s, size_t len, struct gw_str *out)
{
	char *p;

	if (len > UINT32_MAX - 1)
		return -1;
	p = gwc_arena_strndup(&st->strings, s, len);
	if (!p)
		return -1;
	out->p = p;
	out->len = (uint32_t)len;
	return 0;
}

int gwc_copy(struct gwc_file *f, const struct ynode *n, struct gw_str *out)
{
	return gwc_copy_bytes(f->st, n->s, n->len, out);
}

/* ---- shared validation --------------------------------------------------- */

int gwc_valid_name(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!ok && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return 0;
	}
	return 1;
}

int gwc_is_hop_header(const char *s, size_t len)
{
	/* Framing (RFC 9112 section 6) and hop-by-hop (RFC 9110 section 7.6.1)
	 * fields: changing them desynchronises the connection or the proxy. */
	static const char *const hop[] = {
		"connection", "content-length", "host", "keep-alive", "proxy-authenticate",
		"proxy-authorization", "proxy-connection", "te", "trailer", "trailers",
		"transfer-encoding", "upgrade", NULL,
	};

	for (unsigned i = 0; hop[i]; i++)
		if (strlen(hop[i]) == len && strncasecmp(hop[i], s, len) == 0)
			return 1;
	return 0;
}

int gwc_check_header_name(struct gwc_file *f, const struct ynode *n, const char *what,
			  int no_hop)
{
	char b[80];

	if (gwc_want_str(f, n, what))
		return -1;
	if (!gw_http_is_token(n->s, n->len)) {
		gwc_err(f, n, "bad header name %s for %s (a token: letters, digits and "
			"!#$%%&'*+-.^_`|~)", gwc_show(n, b, sizeof b), what);
		return -1;
	}
	if (no_hop && gwc_is_hop_header(n->s, n->len)) {
		gwc_err(f, n, "header %s is a framing or hop-by-hop header and cannot be "
			"set or removed", gwc_show(n, b, sizeof b));
		return -1;
	}
	return 0;
}

int gwc_check_header_value(struct gwc_file *f, const struct ynode *n, const char *name)
{
	char what[96];

	snprintf(what, sizeof what, "the value of header '%s'", name);
	if (n->type != YN_SCALAR)
		return wrong(f, n, "a string", what);
	for (uint32_t i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)n->s[i];

		if (!gw_http_is_field_byte(c)) {
			gwc_err(f, n, "the value of header '%s' contains a control character "
				"(0x%02x): CR, LF and NUL would split or end the header", name, c);
			return -1;
		}
	}
	return 0;
}

int gwc_push_cidr(struct gwc_file *f, const struct ynode *n, const char *what)
{
	struct gw_cidr c, *e;
	char b[80], net[INET6_ADDRSTRLEN];
	int r;

	if (gwc_want_str(f, n, what))
		return 0;
	r = gwc_parse_cidr(n->s, n->len, &c);
	switch (r) {
	case GWC_U_OK:
		break;
	case GWC_U_PREFIX:
		gwc_err(f, n, "bad CIDR %s for %s: the prefix must be 0 to %u", gwc_show(n, b, sizeof b),
			what, c.family == 4 ? 32u : 128u);
		return 0;
	case GWC_U_HOSTBITS:
		if (!inet_ntop(c.family == 4 ? AF_INET : AF_INET6, c.addr, net, sizeof net))
			net[0] = '\0';
		gwc_err(f, n, "bad CIDR %s for %s: host bits are set (the network is %s/%u)",
			gwc_show(n, b, sizeof b), what, net, (unsigned)c.prefix);
		return 0;
	default:
		gwc_err(f, n, "bad CIDR %s for %s: not an IPv4 or IPv6 address",
			gwc_show(n, b, sizeof b), what);
		return 0;
	}
	e = GW_VEC_PUSH(f->conf->cidrs);
	if (!e)
		return -1;
	*e = c;
	f->conf->cidrs.n++;
	return 0;
}

/* ---- names --------------------------------------------------------------- */

const struct gwc_name *gwc_names_find(const struct gwc_names *t, const char *p, size_t len)
{
	if (!t->cap)
		return NULL;
	for (uint32_t i = (uint32_t)gwc_fnv(GWC_FNV_INIT, p, len) & (t->cap - 1);;
	     i = (i + 1) & (t->cap - 1)) {
		const struct gwc_name *e = &t->v[i];

		if (!e->p)
			return NULL;
		if (e->len == len && memcmp(e->p, p, len) == 0)
			return e;
	}
}

/* Put <e> into the free slot of its chain in <v> (<cap> a power of two). */
static void names_place(struct gwc_name *v, uint32_t cap, const struct gwc_name *e)
{
	uint32_t i = (uint32_t)gwc_fnv(GWC_FNV_INIT, e->p, e->len) & (cap - 1);

	while (v[i].p)
		i = (i + 1) & (cap - 1);
	v[i] = *e;
}

int gwc_names_add(struct gwc_names *t, const char *p, uint32_t len, uint32_t index,
		  const struct gw_place *at)
{
	struct gwc_name e = { .p = p, .len = len, .index = index, .at = *at };

	if (gwc_names_find(t, p, len))
		return 0;
	if ((t->n + 1) * 2 > t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 16;
		struct gwc_name *nv;

		if (ncap < t->cap)
			return -1;
		nv = calloc(ncap, sizeof *nv);
		if (!nv)
			return -1;
		for (uint32_t i = 0; i < t->cap; i++)
			if (t->v[i].p)
				names_place(nv, ncap, &t->v[i]);
		free(t->v);
		t->v = nv;
		t->cap = ncap;
	}
	names_place(t->v, t->cap, &e);
	t->n++;
	return 0;
}

void gwc_names_free(struct gwc_names *t)
{
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

int gwc_define(struct gwc_file *f, struct gwc_names *t, const struct ynode *name,
	       const char *kind, uint32_t index)
{
	const struct gwc_name *old = gwc_names_find(t, name->s, name->len);
	struct gw_place at = gwc_place(f, name);
	struct gw_str copy;
	char b[80], pl[512];

	if (old) {
		gwc_err(f, name, "%s %s is already defined at %s", kind, gwc_show(name, b, sizeof b),
			gwc_place_str(f->conf, &old->at, pl, sizeof pl));
		return 0;
	}
	if (gwc_copy(f, name, &copy))
		return -1;
	return gwc_names_add(t, copy.p, copy.len, index, &at);
}

