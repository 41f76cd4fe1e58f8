/* Writing the compiled blob (blob.h; layout in docs/blob-format.md).
 *
 * The writer turns a struct gw_conf and its trie into the bytes gwd maps.  Two
 * goals shape it: the same input gives the same bytes (so that a compile is
 * reproducible and `gwc diff` of two identical blobs is empty), and a route
 * set costs little per route (docs/blob-format.md, "Size"):
 *   - every string is stored once in STRS, and a short edge label is a slice
 *     of the route pattern it came from rather than a copy;
 *   - the range tables (TPLS, HEADERS, STRLIST, POLREFS, CIDRS, TARGETS) hold
 *     each distinct sequence that a record refers to once, so a hundred
 *     routes with policies [public] share one POLREFS entry;
 *   - identical RESPONDS, PROXIES and RATTRS records are stored once, so a
 *     route record is its name, pattern, place and one index.
 * And a lookup costs few cache misses (docs/blob-format.md, NODES, EDGES,
 * EHASH): edges carry 8-byte keys and where their child's edges start,
 * nodes their groups' method masks, wide nodes a hash index.
 * Everything else keeps the conf's order, so policy, upstream, host and kind
 * table indexes in the conf are the blob's too.  ROUTES are written in trie
 * order (trie->order), which is what node.route_first counts in.
 *
 * All output goes through one context whose <err> is sticky: the encoders
 * run on after a failure without effect, and the result is checked once.
 */
#include "lib/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/blob-t.h"
#include "lib/bytes.h"
#include "lib/crc32c.h"

struct buf {
	uint8_t *p;
	size_t n, cap;
};

/* A section being built; with <slots>, also a set of the byte runs already
 * stored in it, so that an equal run is found instead of stored again. */
struct intern {
	struct buf out;
	unsigned unit;   /* record size; 1 for STRS */
	uint32_t *slots; /* open addressing: entry number + 1, 0 = empty */
	uint32_t nslots; /* power of two, or 0 before the first insertion */
	struct run { uint32_t off, len, hash; } *runs;
	uint32_t nruns, capruns;
};

/* A route pattern as stored in STRS, to find edge labels in. */
struct patref {
	uintptr_t start;
	uint32_t len, off;
};

struct w {
	const struct gw_conf *c;
	const struct gw_trie *t; /* NULL: no trie (routes in conf order) */
	int err;                 /* first error, sticky */
	struct intern strs;
	struct intern tab[GW_BLOB_NTABLES];
	struct buf scratch;      /* one range being encoded */
	uint32_t *resp_map;      /* conf respond -> blob respond */
	uint32_t *prox_map;      /* conf proxy -> blob proxy */
	struct patref *pats;     /* by conf route index, then sorted by start */
	uint32_t npats;
};

/* Append <n> zero bytes to <b>; returns them, or NULL with w->err set. */
static uint8_t *grow(struct w *w, struct buf *b, size_t n)
{
	if (w->err)
		return NULL;
	if (n > UINT32_MAX - b->n) {
		w->err = GW_ETOOBIG;
		return NULL;
	}
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap < b->n + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			w->err = GW_ENOMEM;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	memset(b->p + b->n, 0, n);
	b->n += n;
	return b->p + b->n - n;
}

/* The interner's hash of <n> bytes at <p>: eight bytes a step, multiplied
 * in and folded (what it places where never shows in the output, which
 * follows the order of insertion; only its speed and spread matter). */
static uint32_t run_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
	}
	if (n) {
		w = 0;
		memcpy(&w, p, n);
		h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
	}
	h = (h ^ (h >> 29)) * 0x94D049BB133111EBull;
	return (uint32_t)(h ^ (h >> 32));
}

/* Double the slot table of <in> (or create it) and re-insert every run.
 * Returns 0, or -1 with w->err set. */
static int rehash(struct w *w, struct intern *in)
{
	uint32_t ns = in->nslots ? in->nslots * 2 : 1024;
	uint32_t *slots = calloc(ns, sizeof *slots);

	if (!slots || ns < in->nslots) {
		free(slots);
		w->err = GW_ENOMEM;
		return -1;
	}
	for (uint32_t k = 0; k < in->nruns; k++) {
		uint32_t h = in->runs[k].hash & (ns - 1);

		while (slots[h])
			h = (h + 1) & (ns - 1);
		slots[h] = k + 1;
	}
	free(in->slots);
	in->slots = slots;
	in->nslots = ns;
	return 0;
}

/* Store the <len> bytes at <p> in <in> once: returns the byte offset of an
 * equal run stored earlier, or of the new copy (followed by a NUL when <nul>).
 * On error returns 0 with w->err set.  <p> must not point into in->out. */
static uint32_t intern(struct w *w, struct intern *in, const void *p, uint32_t len, int nul)
{
	uint32_t full, h, off;
	uint8_t *dst;

	if (w->err)
		return 0;
	if ((uint64_t)in->nruns * 2 >= in->nslots && rehash(w, in))
		return 0;
	full = run_hash(p, len);
	h = full & (in->nslots - 1);
	for (; in->slots[h]; h = (h + 1) & (in->nslots - 1)) {
		const struct run *r = &in->runs[in->slots[h] - 1];

		if (r->hash == full && r->len == len && memcmp(in->out.p + r->off, p, len) == 0)
			return r->off;
	}
	if (in->nruns == in->capruns) {
		uint32_t cap = in->capruns ? in->capruns * 2 : 64;
		struct run *runs = cap > in->capruns ? realloc(in->runs, cap * sizeof *runs) : NULL;

		if (!runs) {
			w->err = GW_ENOMEM;
			return 0;
		}
		in->runs = runs;
		in->capruns = cap;
	}
	off = (uint32_t)in->out.n;
	dst = grow(w, &in->out, (size_t)len + (nul ? 1 : 0));
	if (!dst)
		return 0;
	if (len)
		memcpy(dst, p, len);
	in->runs[in->nruns].off = off;
	in->runs[in->nruns].len = len;
	in->runs[in->nruns].hash = full;
	in->slots[h] = ++in->nruns;
	return off;
}

/* Encode string <s> as a STR at <r>: interned, NUL-terminated in STRS. */
static void put_str(struct w *w, uint8_t *r, const struct gw_str *s)
{
	uint32_t off;

	if (!s->p && s->len) {
		if (!w->err)
			w->err = GW_ECORRUPT;
		return;
	}
	off = intern(w, &w->strs, s->p ? s->p : "", s->len, 1);
	if (w->err)
		return;
	gw_put_u32le(r + GW_BLOB_STR_OFF, off);
	gw_put_u32le(r + GW_BLOB_STR_LEN, s->len);
}

/* Encode place <pl> as a PLACE at <r>. */
static void put_place(uint8_t *r, const struct gw_place *pl)
{
	gw_put_u32le(r + GW_BLOB_PLACE_LINE, pl->line);
	gw_put_u16le(r + GW_BLOB_PLACE_FILE, pl->file);
	gw_put_u16le(r + GW_BLOB_PLACE_COL, pl->col);
}

/* ---- record encoders: element <i> of the conf table into <r> -------------- */

typedef void encode_fn(struct w *w, uint8_t *r, uint32_t i);

/* The encoders: conf element <i> of their table into the zeroed record <r>;
 * failures land in w->err. */
static void enc_tpl(struct w *w, uint8_t *r, uint32_t i)
{
	const struct gw_tpl *t = &w->c->tpls.v[i];

	r[GW_BLOB_TPL_KIND] = t->kind;
	r[GW_BLOB_TPL_MODE] = t->mode;
	gw_put_u16le(r + GW_BLOB_TPL_PARAM, t->param);
	put_str(w, r + GW_BLOB_TPL_TEXT, &t->text);
	put_str(w, r + GW_BLOB_TPL_ALT, &t->alt);
}

static void enc_header(struct w *w, uint8_t *r, uint32_t i)
{
	put_str(w, r + GW_BLOB_HEADER_NAME, &w->c->headers.v[i].name);
	put_str(w, r + GW_BLOB_HEADER_VALUE, &w->c->headers.v[i].value);
}

static void enc_strlist(struct w *w, uint8_t *r, uint32_t i)
{
	put_str(w, r + GW_BLOB_STRLIST_STR, &w->c->strlist.v[i]);
}

static void enc_jwk(struct w *w, uint8_t *r, uint32_t i)
{
	const struct gw_jwk *k = &w->c->jwks.v[i];

	put_str(w, r + GW_BLOB_JWK_KID, &k->kid);
	r[GW_BLOB_JWK_KTY] = k->kty;
	r[GW_BLOB_JWK_CRV] = k->crv;
	gw_put_u16le(r + GW_BLOB_JWK_ALGS, k->algs);
	put_str(w, r + GW_BLOB_JWK_A, &k->a);
	put_str(w, r + GW_BLOB_JWK_B, &k->b);
}

static void enc_polref(struct w *w, uint8_t *r, uint32_t i)
{
	gw_put_u32le(r + GW_BLOB_POLREF_POLICY, w->c->polrefs.v[i]);
}

static void enc_cidr(struct w *w, uint8_t *r, uint32_t i)
{
	const struct gw_cidr *c = &w->c->cidrs.v[i];

	r[GW_BLOB_CIDR_FAMILY] = c->family;
	r[GW_BLOB_CIDR_PREFIX] = c->prefix;
	memcpy(r + GW_BLOB_CIDR_ADDR, c->addr, sizeof c->addr);
}

static void enc_target(struct w *w, uint8_t *r, uint32_t i)
{
	const struct gw_target *t = &w->c->targets.v[i];

	put_str(w, r + GW_BLOB_TGT_HOST, &t->host);
	gw_put_u16le(r + GW_BLOB_TGT_PORT, t->port);
	gw_put_u32le(r + GW_BLOB_TGT_WEIGHT, t->weight);
}

/* Store conf elements <first>..+<count> (of <n> in the conf) as one sequence
 * of table <t>, shared with an equal sequence stored before.  Returns the
 * blob index of its first record; 0 for an empty range.  A range outside the
 * conf is GW_ECORRUPT (the writer never reads past a conf array). */
static uint32_t range_first(struct w *w, unsigned t, uint32_t first, uint32_t count, uint32_t n,
			    encode_fn *enc)
{
	unsigned rs = gw_blob_record_size(t);

	if (w->err)
		return 0;
	if ((uint64_t)first + count > n) {
		w->err = GW_ECORRUPT;
		return 0;
	}
	if (count == 0)
		return 0;
	w->scratch.n = 0;
	if (!grow(w, &w->scratch, (size_t)count * rs))
		return 0;
	for (uint32_t k = 0; k < count; k++)
		enc(w, w->scratch.p + (size_t)k * rs, first + k);
	return intern(w, &w->tab[t], w->scratch.p, (uint32_t)w->scratch.n, 0) / rs;
}

/* range_first(), then the blob's <first, count> as two u32 at <r>: the
 * layout of every range field but a route's policies. */
static void put_range(struct w *w, uint8_t *r, unsigned t, uint32_t first, uint32_t count,
		      uint32_t n, encode_fn *enc)
{
	gw_put_u32le(r, range_first(w, t, first, count, n, enc));
	gw_put_u32le(r + 4, count);
}

#define RANGE(w, r, T, vec, first, count, enc) \
	put_range(w, r, T, first, count, (w)->c->vec.n, enc)

/* Append one record to plain table <t>; NULL on error. */
static uint8_t *add(struct w *w, unsigned t)
{
	return grow(w, &w->tab[t].out, gw_blob_record_size(t));
}

/* ---- tables --------------------------------------------------------------- */

/* FILES and HOSTS in conf order; a host's root from the trie, or GW_NONE. */
static void emit_files_hosts(struct w *w)
{
	const struct gw_conf *c = w->c;

	for (uint32_t i = 0; i < c->files.n; i++) {
		uint8_t *r = add(w, GW_BLOB_FILES);

		if (r)
			put_str(w, r + GW_BLOB_FILE_NAME, &c->files.v[i]);
	}
	for (uint32_t i = 0; i < c->hosts.n; i++) {
		uint8_t *r = add(w, GW_BLOB_HOSTS);
		uint32_t root = w->t && i < w->t->nroots ? w->t->roots[i] : GW_NONE;

		if (!r)
			return;
		put_str(w, r + GW_BLOB_HOST_NAME, &c->hosts.v[i]);
		gw_put_u32le(r + GW_BLOB_HOST_ROOT, root);
	}
}

/* Responds are interned whole: routes answering the same thing share one. */
static void emit_responds(struct w *w)
{
	const struct gw_conf *c = w->c;

	if (c->responds.n && !(w->resp_map = calloc(c->responds.n, sizeof *w->resp_map))) {
		w->err = GW_ENOMEM;
		return;
	}
	for (uint32_t i = 0; i < c->responds.n && !w->err; i++) {
		const struct gw_respond *s = &c->responds.v[i];
		uint8_t r[GW_BLOB_RESPOND_SIZE] = { 0 };

		gw_put_u16le(r + GW_BLOB_RESPOND_STATUS, s->status);
		RANGE(w, r + GW_BLOB_RESPOND_HDR_FIRST, GW_BLOB_HEADERS, headers, s->hdr_first,
		      s->hdr_count, enc_header);
		RANGE(w, r + GW_BLOB_RESPOND_BODY_FIRST, GW_BLOB_TPLS, tpls, s->body_first,
		      s->body_count, enc_tpl);
		w->resp_map[i] = intern(w, &w->tab[GW_BLOB_RESPONDS], r, sizeof r, 0) /
				 GW_BLOB_RESPOND_SIZE;
	}
}

/* Proxies are interned whole too: a hundred routes proxied to one upstream
 * the same way share one record. */
static void emit_proxies(struct w *w)
{
	const struct gw_conf *c = w->c;

	if (c->proxies.n && !(w->prox_map = calloc(c->proxies.n, sizeof *w->prox_map))) {
		w->err = GW_ENOMEM;
		return;
	}
	for (uint32_t i = 0; i < c->proxies.n && !w->err; i++) {
		const struct gw_proxy *s = &c->proxies.v[i];
		uint8_t r[GW_BLOB_PROXY_SIZE] = { 0 };

		gw_put_u32le(r + GW_BLOB_PROXY_UPSTREAM, s->upstream);
		RANGE(w, r + GW_BLOB_PROXY_REWRITE_FIRST, GW_BLOB_TPLS, tpls, s->rewrite_first,
		      s->rewrite_count, enc_tpl);
		put_str(w, r + GW_BLOB_PROXY_STRIP_PREFIX, &s->strip_prefix);
		w->prox_map[i] = intern(w, &w->tab[GW_BLOB_PROXIES], r, sizeof r, 0) /
				 GW_BLOB_PROXY_SIZE;
	}
}

/* POLICIES in conf order. */
static void emit_policy_records(struct w *w)
{
	const struct gw_conf *c = w->c;

	for (uint32_t i = 0; i < c->policies.n; i++) {
		const struct gw_policy *s = &c->policies.v[i];
		uint8_t *r = add(w, GW_BLOB_POLICIES);

		if (!r)
			return;
		put_str(w, r + GW_BLOB_POLICY_NAME, &s->name);
		r[GW_BLOB_POLICY_KIND] = s->kind;
		gw_put_u16le(r + GW_BLOB_POLICY_COUNT, s->count);
		gw_put_u32le(r + GW_BLOB_POLICY_INDEX, s->index);
		gw_put_u64le(r + GW_BLOB_POLICY_IDENT, s->ident);
		put_place(r + GW_BLOB_POLICY_PLACE, &s->place);
	}
}

/* RATELIMITS and AUTHS in conf order. */
static void emit_ratelimits_auths(struct w *w)
{
	const struct gw_conf *c = w->c;

	for (uint32_t i = 0; i < c->ratelimits.n; i++) {
		const struct gw_ratelimit *s = &c->ratelimits.v[i];
		uint8_t *r = add(w, GW_BLOB_RATELIMITS);

		if (!r)
			return;
		put_str(w, r + GW_BLOB_RL_NAME, &s->name);
		put_str(w, r + GW_BLOB_RL_HEADER, &s->header);
		r[GW_BLOB_RL_KEY] = s->key;
		r[GW_BLOB_RL_HEADERS] = s->headers;
		r[GW_BLOB_RL_SCOPE] = s->scope;
		r[GW_BLOB_RL_ONERR] = s->on_store_error;
		gw_put_u32le(r + GW_BLOB_RL_QUOTA, s->quota);
		gw_put_u32le(r + GW_BLOB_RL_PERIOD_MS, s->period_ms);
		gw_put_u32le(r + GW_BLOB_RL_BURST, s->burst);
		gw_put_u32le(r + GW_BLOB_RL_MAX_KEYS, s->max_keys);
	}
	for (uint32_t i = 0; i < c->auths.n; i++) {
		const struct gw_auth *s = &c->auths.v[i];
		uint8_t *r = add(w, GW_BLOB_AUTHS);

		if (!r)
			return;
		r[GW_BLOB_AUTH_TYPE] = s->type;
		put_str(w, r + GW_BLOB_AUTH_HEADER, &s->header);
		put_str(w, r + GW_BLOB_AUTH_USER_HEADER, &s->user_header);
	}
}

/* JWTS in conf order, which is AUTHS order: gwc adds a jwt record when it
 * adds its auth. */
static void emit_jwts(struct w *w)
{
	const struct gw_conf *c = w->c;

	for (uint32_t i = 0; i < c->jwts.n; i++) {
		const struct gw_jwt *s = &c->jwts.v[i];
		uint8_t *r = add(w, GW_BLOB_JWTS);

		if (!r)
			return;
		gw_put_u32le(r + GW_BLOB_JWT_AUTH, s->auth);
		gw_put_u16le(r + GW_BLOB_JWT_ALGS, s->algs);
		r[GW_BLOB_JWT_SCOPE_ANY] = s->scope_any;
		r[GW_BLOB_JWT_FORWARD_AUTH] = s->forward_auth;
		put_str(w, r + GW_BLOB_JWT_ISSUER, &s->issuer);
		RANGE(w, r + GW_BLOB_JWT_AUD_FIRST, GW_BLOB_STRLIST, strlist, s->aud_first,
		      s->aud_count, enc_strlist);
		RANGE(w, r + GW_BLOB_JWT_SCOPE_FIRST, GW_BLOB_STRLIST, strlist, s->scope_first,
		      s->scope_count, enc_strlist);
		RANGE(w, r + GW_BLOB_JWT_HAS_FIRST, GW_BLOB_STRLIST, strlist, s->has_first,
		      s->has_count, enc_strlist);
		RANGE(w, r + GW_BLOB_JWT_EQ_FIRST, GW_BLOB_HEADERS, headers, s->eq_first,
		      s->eq_count, enc_header);
		RANGE(w, r + GW_BLOB_JWT_HDR_FIRST, GW_BLOB_HEADERS, headers, s->hdr_first,
		      s->hdr_count, enc_header);
		RANGE(w, r + GW_BLOB_JWT_KEY_FIRST, GW_BLOB_JWKEYS, jwks, s->key_first,
		      s->key_count, enc_jwk);
		put_str(w, r + GW_BLOB_JWT_COOKIE, &s->cookie);
		put_str(w, r + GW_BLOB_JWT_REALM, &s->realm);
		put_str(w, r + GW_BLOB_JWT_JWKS_URL, &s->jwks_url);
		gw_put_u32le(r + GW_BLOB_JWT_LEEWAY_S, s->leeway_s);
		gw_put_u32le(r + GW_BLOB_JWT_REFRESH_MIN_S, s->refresh_min_s);
		gw_put_u32le(r + GW_BLOB_JWT_REFRESH_MAX_S, s->refresh_max_s);
		gw_put_u32le(r + GW_BLOB_JWT_REFETCH_S, s->refetch_s);
	}
}

/* BODYLIMITS, CORS, HDRPOLS and IPFILTERS in conf order. */
static void emit_request_policies(struct w *w)
{
	const struct gw_conf *c = w->c;

	for (uint32_t i = 0; i < c->body_limits.n; i++) {
		uint8_t *r = add(w, GW_BLOB_BODYLIMITS);

		if (!r)
			return;
		gw_put_u64le(r + GW_BLOB_BODYLIMIT_BYTES, c->body_limits.v[i]);
	}
	for (uint32_t i = 0; i < c->cors.n; i++) {
		const struct gw_cors *s = &c->cors.v[i];
		uint8_t *r = add(w, GW_BLOB_CORS);

		if (!r)
			return;
		RANGE(w, r + GW_BLOB_CORS_ORIGIN_FIRST, GW_BLOB_STRLIST, strlist, s->origin_first,
		      s->origin_count, enc_strlist);
		gw_put_u16le(r + GW_BLOB_CORS_METHODS, s->methods);
		r[GW_BLOB_CORS_CREDENTIALS] = s->credentials;
		put_str(w, r + GW_BLOB_CORS_ALLOW_HEADERS, &s->allow_headers);
		put_str(w, r + GW_BLOB_CORS_EXPOSE_HEADERS, &s->expose_headers);
		gw_put_u32le(r + GW_BLOB_CORS_MAX_AGE_S, s->max_age_s);
	}
	for (uint32_t i = 0; i < c->hdrpols.n; i++) {
		const struct gw_hdrpol *s = &c->hdrpols.v[i];
		uint8_t *r = add(w, GW_BLOB_HDRPOLS);

		if (!r)
			return;
		RANGE(w, r + GW_BLOB_HDRPOL_REQ_ADD_FIRST, GW_BLOB_HEADERS, headers,
		      s->req_add_first, s->req_add_count, enc_header);
		RANGE(w, r + GW_BLOB_HDRPOL_REQ_DEL_FIRST, GW_BLOB_STRLIST, strlist,
		      s->req_del_first, s->req_del_count, enc_strlist);
		RANGE(w, r + GW_BLOB_HDRPOL_RESP_ADD_FIRST, GW_BLOB_HEADERS, headers,
		      s->resp_add_first, s->resp_add_count, enc_header);
		RANGE(w, r + GW_BLOB_HDRPOL_RESP_DEL_FIRST, GW_BLOB_STRLIST, strlist,
		      s->resp_del_first, s->resp_del_count, enc_strlist);
	}
	for (uint32_t i = 0; i < c->ipfilters.n; i++) {
		const struct gw_ipfilter *s = &c->ipfilters.v[i];
		uint8_t *r = add(w, GW_BLOB_IPFILTERS);

		if (!r)
			return;
		RANGE(w, r + GW_BLOB_IPF_ALLOW_FIRST, GW_BLOB_CIDRS, cidrs, s->allow_first,
		      s->allow_count, enc_cidr);
		RANGE(w, r + GW_BLOB_IPF_DENY_FIRST, GW_BLOB_CIDRS, cidrs, s->deny_first,
		      s->deny_count, enc_cidr);
	}
}

/* POLICIES and the kind tables in conf order, so that policy.index and the
 * policy indexes of POLREFS need no remapping.  A failure is left in w->err,
 * and every later record refused with it. */
static void emit_policies(struct w *w)
{
	emit_policy_records(w);
	emit_ratelimits_auths(w);
	emit_jwts(w);
	emit_request_policies(w);
}

/* UPSTREAMS in conf order, and the one SETTINGS record. */
static void emit_upstreams_settings(struct w *w)
{
	const struct gw_conf *c = w->c;
	const struct gw_settings *s = &c->settings;
	uint32_t k = 0; /* the next conf.uptls record, in upstream order */
	uint8_t *r;

	for (uint32_t i = 0; i < c->upstreams.n; i++) {
		const struct gw_upstream *u = &c->upstreams.v[i];
		unsigned shift = 0;

		if (!(r = add(w, GW_BLOB_UPSTREAMS)))
			return;
		while (u->buffer && (1u << shift) < u->buffer && shift < 31)
			shift++;
		r[GW_BLOB_UP_BUFFER_SHIFT] = (uint8_t)shift;
		if (k < c->uptls.n && c->uptls.v[k].upstream == i) {
			const struct gw_uptls *t = &c->uptls.v[k++];
			uint8_t *x = add(w, GW_BLOB_UPTLS);

			if (!x)
				return;
			r[GW_BLOB_UP_FLAGS] |= GW_BLOB_UPF_TLS;
			gw_put_u32le(x + GW_BLOB_UPTLS_UPSTREAM, i);
			x[GW_BLOB_UPTLS_VERIFY] = t->verify;
			put_str(w, x + GW_BLOB_UPTLS_SERVER_NAME, &t->server_name);
			put_str(w, x + GW_BLOB_UPTLS_CA_FILE, &t->ca_file);
			put_str(w, x + GW_BLOB_UPTLS_CERT, &t->cert);
			put_str(w, x + GW_BLOB_UPTLS_KEY, &t->key);
			put_place(x + GW_BLOB_UPTLS_PLACE, &t->place);
		}
		if (u->max_websockets) {
			uint8_t *x = add(w, GW_BLOB_UPWS);

			if (!x)
				return;
			gw_put_u32le(x + GW_BLOB_UPWS_UPSTREAM, i);
			gw_put_u32le(x + GW_BLOB_UPWS_MAX, u->max_websockets);
		}
		put_str(w, r + GW_BLOB_UP_NAME, &u->name);
		RANGE(w, r + GW_BLOB_UP_TGT_FIRST, GW_BLOB_TARGETS, targets, u->tgt_first,
		      u->tgt_count, enc_target);
		r[GW_BLOB_UP_BALANCE] = u->balance;
		r[GW_BLOB_UP_HASH_KEY] = u->hash_key;
		gw_put_u16le(r + GW_BLOB_UP_HC_HEALTHY, u->hc_healthy);
		gw_put_u16le(r + GW_BLOB_UP_HC_UNHEALTHY, u->hc_unhealthy);
		put_str(w, r + GW_BLOB_UP_HASH_HEADER, &u->hash_header);
		gw_put_u32le(r + GW_BLOB_UP_CONNECT_TIMEOUT_MS, u->connect_timeout_ms);
		gw_put_u32le(r + GW_BLOB_UP_TIMEOUT_MS, u->timeout_ms);
		gw_put_u32le(r + GW_BLOB_UP_MAX_CONNS, u->max_conns);
		gw_put_u32le(r + GW_BLOB_UP_RETRIES, u->retries);
		put_str(w, r + GW_BLOB_UP_HC_PATH, &u->hc_path);
		gw_put_u32le(r + GW_BLOB_UP_HC_INTERVAL_MS, u->hc_interval_ms);
		gw_put_u32le(r + GW_BLOB_UP_HC_TIMEOUT_MS, u->hc_timeout_ms);
		gw_put_u32le(r + GW_BLOB_UP_CB_FAILURES, u->cb_failures);
		gw_put_u32le(r + GW_BLOB_UP_CB_COOLDOWN_MS, u->cb_cooldown_ms);
		put_place(r + GW_BLOB_UP_PLACE, &u->place);
	}
	if (!(r = add(w, GW_BLOB_SETTINGS)))
		return;
	RANGE(w, r + GW_BLOB_SET_TRUSTED_FIRST, GW_BLOB_CIDRS, cidrs, s->trusted_first,
	      s->trusted_count, enc_cidr);
	put_str(w, r + GW_BLOB_SET_SESSION_COOKIE, &s->session_cookie);
	gw_put_u32le(r + GW_BLOB_SET_SESSION_IDLE_MS, s->session_idle_ms);
	gw_put_u32le(r + GW_BLOB_SET_SESSION_LIFETIME_MS, s->session_lifetime_ms);
	gw_put_u32le(r + GW_BLOB_SET_MAX_HEADER_BYTES, s->max_header_bytes);
	gw_put_u32le(r + GW_BLOB_SET_HEADER_TIMEOUT_MS, s->header_timeout_ms);
	gw_put_u32le(r + GW_BLOB_SET_IDLE_TIMEOUT_MS, s->idle_timeout_ms);
	gw_put_u32le(r + GW_BLOB_SET_MAX_CONNS, s->max_conns);
	gw_put_u32le(r + GW_BLOB_SET_MAX_CONNS_PER_IP, s->max_conns_per_ip);
	r[GW_BLOB_SET_SESSION_SECURE] = s->session_secure;
	r[GW_BLOB_SET_UNDERSCORE_HEADERS] = s->underscore_headers;
	gw_put_u16le(r + GW_BLOB_SET_WS_IDLE_S, s->websocket_idle_s);
}

/* Routes in trie order.  The order must be a permutation of the conf's
 * routes (GW_ECORRUPT otherwise): a route written twice or not at all would
 * make node.route_first count wrong.  A route record holds its name,
 * pattern and place; the rest goes to a RATTRS record shared by every route
 * alike.  Records where each pattern went in STRS, for the edge labels. */
static void emit_routes(struct w *w)
{
	const struct gw_conf *c = w->c;
	uint32_t n = c->routes.n;
	uint8_t *seen = NULL;

	if (w->t && w->t->nroutes != n) {
		w->err = GW_ECORRUPT;
		return;
	}
	if (n && (!(seen = calloc(n, 1)) || !(w->pats = calloc(n, sizeof *w->pats)))) {
		w->err = GW_ENOMEM;
		goto fail;
	}
	for (uint32_t k = 0; k < n && !w->err; k++) {
		uint32_t ci = w->t ? w->t->order[k] : k;
		uint8_t a[GW_BLOB_RATTR_SIZE] = { 0 };
		const struct gw_route *s;
		uint32_t hi = 0;
		uint8_t *r;

		if (ci >= n || seen[ci]++) {
			w->err = GW_ECORRUPT;
			break;
		}
		s = &c->routes.v[ci];
		if (s->handler == GW_H_RESPOND || s->handler == GW_H_PROXY) {
			const uint32_t *map = s->handler == GW_H_RESPOND ? w->resp_map : w->prox_map;

			if (s->handler_index >= (s->handler == GW_H_RESPOND ? c->responds.n
									    : c->proxies.n)) {
				w->err = GW_ECORRUPT;
				break;
			}
			hi = map[s->handler_index];
		}
		gw_put_u32le(a + GW_BLOB_RATTR_HOST, s->host);
		gw_put_u32le(a + GW_BLOB_RATTR_HANDLER_INDEX, hi);
		gw_put_u32le(a + GW_BLOB_RATTR_POL_FIRST,
			     range_first(w, GW_BLOB_POLREFS, s->pol_first, s->pol_count,
					 c->polrefs.n, enc_polref));
		gw_put_u16le(a + GW_BLOB_RATTR_POL_COUNT, s->pol_count);
		gw_put_u16le(a + GW_BLOB_RATTR_METHODS, s->methods);
		a[GW_BLOB_RATTR_HANDLER] = s->handler;
		a[GW_BLOB_RATTR_NPARAMS] = s->nparams;
		a[GW_BLOB_RATTR_WEBSOCKET] = s->websocket;
		if (!(r = add(w, GW_BLOB_ROUTES)))
			break;
		put_str(w, r + GW_BLOB_ROUTE_NAME, &s->name);
		put_str(w, r + GW_BLOB_ROUTE_PATTERN, &s->pattern);
		gw_put_u32le(r + GW_BLOB_ROUTE_ATTRS,
			     intern(w, &w->tab[GW_BLOB_RATTRS], a, sizeof a, 0) / GW_BLOB_RATTR_SIZE);
		put_place(r + GW_BLOB_ROUTE_PLACE, &s->place);
		w->pats[ci].start = (uintptr_t)s->pattern.p;
		w->pats[ci].len = s->pattern.len;
		w->pats[ci].off = gw_get_u32le(r + GW_BLOB_ROUTE_PATTERN + GW_BLOB_STR_OFF);
	}
	w->npats = n;
fail:
	free(seen);
}

/* qsort order of struct patref: by start address. */
static int cmp_pat(const void *a, const void *b)
{
	const struct patref *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The STRS offset of the label <s>: inside the stored pattern that holds its
 * bytes (the trie builder points labels into patterns), or, for a label
 * from elsewhere, its own interned copy. */
static uint32_t label_off(struct w *w, const struct gw_str *s)
{
	uintptr_t p = (uintptr_t)s->p;
	uint32_t lo = 0, hi = w->npats;

	/* The last pattern starting at or before <p>. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (w->pats[mid].start <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		const struct patref *pr = &w->pats[lo - 1];

		if (p - pr->start <= pr->len && s->len <= pr->len - (p - pr->start))
			return pr->off + (uint32_t)(p - pr->start);
	}
	return intern(w, &w->strs, s->p ? s->p : "", s->len, 1);
}

/* The union of the methods of the <count> routes of trie order from <first>,
 * or GW_ECORRUPT in w->err for a group outside the routes. */
static uint8_t group_methods(struct w *w, uint32_t first, uint32_t count)
{
	unsigned m = 0;

	if ((uint64_t)first + count > w->t->nroutes) {
		w->err = GW_ECORRUPT;
		return 0;
	}
	for (uint32_t k = first; k < first + count; k++)
		if (w->t->order[k] < w->c->routes.n)
			m |= w->c->routes.v[w->t->order[k]].methods;
	return (uint8_t)m;
}

/* NODES and EDGES as the trie has them (nothing when there is no trie).  A
 * node's edges must follow the previous node's, as gw_trie_build lays them
 * out: the format keeps no count (GW_ECORRUPT otherwise). */
static void emit_trie(struct w *w)
{
	const struct gw_trie *t = w->t;

	if (!t)
		return;
	if (w->npats)
		qsort(w->pats, w->npats, sizeof *w->pats, cmp_pat);
	for (uint32_t i = 0; i < t->nnodes && !w->err; i++) {
		const struct gw_trie_node *s = &t->nodes[i];
		uint32_t end = i + 1 < t->nnodes ? t->nodes[i + 1].lit_first : t->nedges;
		uint8_t *r;

		if ((uint64_t)s->lit_first + s->lit_count != end) {
			w->err = GW_ECORRUPT;
			return;
		}
		if (!(r = add(w, GW_BLOB_NODES)))
			return;
		gw_put_u32le(r + GW_BLOB_NODE_LIT_FIRST, s->lit_first);
		gw_put_u32le(r + GW_BLOB_NODE_PARAM_CHILD, s->param_child);
		gw_put_u32le(r + GW_BLOB_NODE_ROUTE_FIRST, s->route_first);
		r[GW_BLOB_NODE_TERM_COUNT] = s->term_count;
		r[GW_BLOB_NODE_WILD_COUNT] = s->wild_count;
		r[GW_BLOB_NODE_TERM_METHODS] = group_methods(w, s->route_first, s->term_count);
		r[GW_BLOB_NODE_WILD_METHODS] =
			group_methods(w, s->route_first + s->term_count, s->wild_count);
	}
	for (uint32_t i = 0; i < t->nedges && !w->err; i++) {
		const struct gw_trie_edge *s = &t->edges[i];
		uint32_t off;
		uint8_t *r;

		if (!s->label.p && s->label.len) {
			w->err = GW_ECORRUPT;
			return;
		}
		/* A label longer than its key is read on a tie: a copy stored once
		 * (a resource name repeats across versions and services) sits in
		 * a few hot lines of STRS, where slices of patterns would be
		 * scattered over all of it.  Shorter ones are never read by the
		 * matcher: they stay slices and cost nothing. */
		off = s->label.len > GW_BLOB_EDGE_KEY_LEN
			      ? intern(w, &w->strs, s->label.p, s->label.len, 1)
			      : label_off(w, &s->label);
		if (!(r = add(w, GW_BLOB_EDGES)))
			return;
		for (uint32_t k = 0; k < GW_BLOB_EDGE_KEY_LEN && k < s->label.len; k++)
			r[GW_BLOB_EDGE_KEY + k] = (uint8_t)s->label.p[k];
		gw_put_u32le(r + GW_BLOB_EDGE_LABEL + GW_BLOB_STR_OFF, off);
		gw_put_u32le(r + GW_BLOB_EDGE_LABEL + GW_BLOB_STR_LEN, s->label.len);
		gw_put_u32le(r + GW_BLOB_EDGE_CHILD, s->child);
		gw_put_u32le(r + GW_BLOB_EDGE_CHILD_EDGES,
			     s->child < t->nnodes ? t->nodes[s->child].lit_first : 0);
	}
}

/* Fill EHASH (docs/blob-format.md) for the edges of the nodes with
 * GW_BLOB_HASH_MIN edges or more: the smallest power of two of slots that
 * leaves a fifth of them free, each edge in the first free slot from its home; a table where some
 * edge would land more than GW_BLOB_HASH_PROBES slots from home is made twice
 * as large and filled again.  Edges go in in index order: the same trie, the
 * same table.  Nothing when no node is that large. */
static void emit_ehash(struct w *w)
{
	const struct gw_trie *t = w->t;
	const uint8_t *edges = w->tab[GW_BLOB_EDGES].out.p;
	uint64_t want = 0;
	uint32_t n = 16, *slot = NULL;
	int placed = 0;

	if (!t || w->err)
		return;
	for (uint32_t i = 0; i < t->nnodes; i++)
		if (t->nodes[i].lit_count >= GW_BLOB_HASH_MIN)
			want += t->nodes[i].lit_count;
	if (!want)
		return;
	while (n < want + want / 4)
		n *= 2;
	while (!placed) {
		if (n > UINT32_MAX / 2 / GW_BLOB_EHASH_SIZE || !(slot = malloc((size_t)n * sizeof *slot))) {
			w->err = GW_ENOMEM;
			return;
		}
		memset(slot, 0xFF, (size_t)n * sizeof *slot); /* GW_NONE */
		placed = 1;
		for (uint32_t i = 0; i < t->nnodes && placed; i++) {
			const struct gw_trie_node *nd = &t->nodes[i];

			if (nd->lit_count < GW_BLOB_HASH_MIN)
				continue;
			for (uint32_t e = nd->lit_first; e < nd->lit_first + nd->lit_count; e++) {
				const uint8_t *key = edges + (size_t)e * GW_BLOB_EDGE_SIZE + GW_BLOB_EDGE_KEY;
				uint64_t k = 0;
				uint32_t h, d;

				for (unsigned j = 0; j < GW_BLOB_EDGE_KEY_LEN; j++)
					k = k << 8 | key[j];
				h = gw_blob_edge_home(nd->lit_first, k, n);
				for (d = 0; d < GW_BLOB_HASH_PROBES && slot[(h + d) & (n - 1)] != GW_NONE; d++)
					;
				if (d == GW_BLOB_HASH_PROBES) {
					placed = 0;
					break;
				}
				slot[(h + d) & (n - 1)] = e;
			}
		}
		if (!placed) {
			free(slot);
			slot = NULL;
			n *= 2;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *r = add(w, GW_BLOB_EHASH);

		if (!r)
			break;
		gw_put_u32le(r + GW_BLOB_EHASH_EDGE, slot[i]);
	}
	free(slot);
}

/* Lay the sections out after the header and table, in id order, 8-aligned;
 * then the trailer.  Returns the file in <*out> or sets w->err. */
static void assemble(struct w *w, uint8_t **out, size_t *len)
{
	unsigned nsec = 0, k = 0;
	uint64_t off;
	uint8_t *p;

	for (unsigned t = 0; t < GW_BLOB_NTABLES; t++)
		nsec += t < GW_BLOB_FIRST_SPARSE || w->tab[t].out.n;
	off = GW_BLOB_HDR_SIZE + (uint64_t)nsec * GW_BLOB_SEC_ENTRY_SIZE;
	*out = NULL;
	for (unsigned t = 0; t < GW_BLOB_NTABLES; t++)
		off = (off + w->tab[t].out.n + GW_BLOB_ALIGN - 1) & ~(uint64_t)(GW_BLOB_ALIGN - 1);
	off += GW_BLOB_TRAILER_SIZE;
	if (off > UINT32_MAX) {
		w->err = GW_ETOOBIG;
		return;
	}
	if (!(p = calloc(1, (size_t)off))) {
		w->err = GW_ENOMEM;
		return;
	}
	memcpy(p + GW_BLOB_HDR_MAGIC, GW_BLOB_MAGIC, GW_BLOB_MAGIC_LEN);
	gw_put_u16le(p + GW_BLOB_HDR_READ_VERSION, GW_BLOB_READ_VERSION);
	gw_put_u16le(p + GW_BLOB_HDR_WRITE_VERSION, GW_BLOB_WRITE_VERSION);
	gw_put_u32le(p + GW_BLOB_HDR_HEADER_SIZE, GW_BLOB_HDR_SIZE);
	gw_put_u64le(p + GW_BLOB_HDR_FILE_SIZE, off);
	gw_put_u32le(p + GW_BLOB_HDR_SECTION_COUNT, nsec);
	memcpy(p + GW_BLOB_HDR_FINGERPRINT, w->c->fingerprint, sizeof w->c->fingerprint);
	*len = (size_t)off;
	off = GW_BLOB_HDR_SIZE + (uint64_t)nsec * GW_BLOB_SEC_ENTRY_SIZE;
	for (unsigned t = 0; t < GW_BLOB_NTABLES; t++) {
		uint8_t *e = p + GW_BLOB_HDR_SIZE + k * GW_BLOB_SEC_ENTRY_SIZE;
		const struct buf *b = &w->tab[t].out;

		if (t >= GW_BLOB_FIRST_SPARSE && !b->n)
			continue;
		k++;
		gw_put_u32le(e + GW_BLOB_SEC_ID, t);
		gw_put_u32le(e + GW_BLOB_SEC_OFFSET, (uint32_t)off);
		gw_put_u32le(e + GW_BLOB_SEC_SIZE, (uint32_t)b->n);
		gw_put_u32le(e + GW_BLOB_SEC_COUNT, (uint32_t)(b->n / gw_blob_record_size(t)));
		if (b->n)
			memcpy(p + off, b->p, b->n);
		off = (off + b->n + GW_BLOB_ALIGN - 1) & ~(uint64_t)(GW_BLOB_ALIGN - 1);
	}
	gw_put_u32le(p + off + GW_BLOB_TRAILER_CRC, gw_crc32c(0, p, (size_t)off));
	memcpy(p + off + GW_BLOB_TRAILER_MAGIC_OFF, GW_BLOB_TRAILER_MAGIC, 4);
	*out = p;
}

/* blob.h: the blob in a malloc'd buffer.  Returns GW_OK, GW_ENOMEM,
 * GW_ETOOBIG, or GW_ECORRUPT for input that cannot be encoded. */
int gw_blob_write_mem(const struct gw_conf *conf, const struct gw_trie *trie,
		      uint8_t **out, size_t *len)
{
	struct w w;

	memset(&w, 0, sizeof w);
	w.c = conf;
	w.t = trie;
	*out = NULL;
	*len = 0;
	for (unsigned t = 0; t < GW_BLOB_NTABLES; t++)
		w.tab[t].unit = gw_blob_record_size(t);
	/* STRS starts with "": every empty string is offset 0. */
	intern(&w, &w.strs, "", 0, 1);
	emit_files_hosts(&w);
	emit_responds(&w);
	emit_proxies(&w);
	emit_policies(&w);
	emit_upstreams_settings(&w);
	emit_routes(&w);
	emit_trie(&w);
	emit_ehash(&w);
	w.tab[GW_BLOB_STRS].out = w.strs.out;
	w.strs.out.p = NULL;
	if (!w.err)
		assemble(&w, out, len);
	free(w.tab[GW_BLOB_STRS].out.p);
	free(w.strs.slots);
	free(w.strs.runs);
	for (unsigned t = 1; t < GW_BLOB_NTABLES; t++) {
		free(w.tab[t].out.p);
		free(w.tab[t].slots);
		free(w.tab[t].runs);
	}
	free(w.scratch.p);
	free(w.resp_map);
	free(w.prox_map);
	free(w.pats);
	if (w.err) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return w.err;
}

/* Write all <len> bytes of <p> to <fd>, through short writes and EINTR.
 * Returns 0, or -1 with errno set. */
static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* fsync the directory holding <path>, so that the rename survives a crash.
 * Returns 0, or -1 with errno set. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Create the temporary file <tmp> for writing with <mode> (less the umask),
 * never through a link planted at its name and never into a file someone
 * else opened: O_EXCL|O_NOFOLLOW.  A leftover of an interrupted compile (a
 * file, or a link: unlink removes the link, not its target) is removed and
 * the creation tried once more.  Returns the descriptor, or -1 with errno
 * set. */
static int create_tmp(const char *tmp, mode_t mode)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(tmp, flags, mode);

	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, flags, mode);
	return fd;
}

/* Whether <conf> holds a secret: the bytes of an HMAC (oct) key. */
static int holds_secret(const struct gw_conf *conf)
{
	for (uint32_t i = 0; i < conf->jwks.n; i++)
		if (conf->jwks.v[i].kty == GW_KTY_OCT)
			return 1;
	return 0;
}

/* Give the new blob <fd> the mode of the blob it replaces at <path> (owner
 * and group too when we may), so that an operator's `chmod 640` and `chgrp
 * gw` survive the next compile.  A new file keeps the mode it was created
 * with.  Returns 0, or -1 with errno set. */
static int keep_mode(int fd, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)
		return -1;
	return fchmod(fd, st.st_mode & 07777);
}

/* blob.h: verified, then published atomically.  GW_EIO keeps errno. */
int gw_blob_write(const struct gw_conf *conf, const struct gw_trie *trie, const char *path)
{
	struct gw_blob *check = NULL;
	uint8_t *buf = NULL;
	char *tmp = NULL;
	size_t len = 0, plen = strlen(path);
	int fd = -1, rc, err = 0, tmp_exists = 0;

	rc = gw_blob_write_mem(conf, trie, &buf, &len);
	if (rc)
		goto fail;
	/* Never publish a blob that gwd would refuse: the write-side bugs it
	 * catches (an unsorted edge list, a dangling index) surface here, at
	 * compile time, and not at the next reload. */
	rc = gw_blob_open_mem(buf, len, &check, NULL, 0);
	gw_blob_close(check);
	if (rc) {
		rc = rc == GW_ENOMEM ? GW_ENOMEM : GW_ECORRUPT;
		goto fail;
	}
	if (!(tmp = malloc(plen + 5))) {
		rc = GW_ENOMEM;
		goto fail;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	rc = GW_EIO;
	/* a blob holding an HMAC secret is for its owner only: whoever reads
	 * it can mint tokens */
	fd = create_tmp(tmp, holds_secret(conf) ? 0600 : 0644);
	if (fd < 0) {
		err = errno;
		goto fail;
	}
	tmp_exists = 1;
	if (keep_mode(fd, path) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		err = errno;
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		err = errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err = errno;
		goto fail;
	}
	tmp_exists = 0;
	if (sync_dir(path) != 0) {
		err = errno;
		goto fail;
	}
	rc = GW_OK;
fail: /* also the way out on success */
	if (fd >= 0)
		close(fd);
	if (tmp_exists)
		unlink(tmp);
	free(tmp);
	free(buf);
	if (err)
		errno = err;
	return rc;
}
