/* The jwt auth policy (jwt.h). */
#include "gwd/jwt.h"

#include <gnutls/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "gwd/authcache.h"
#include "gwd/jwks.h"
#include "gwd/problem.h"
#include "gwd/reqctx.h"

#define MAX_HDR_BYTES 2048u   /* decoded JOSE header */
#define MAX_SIG_BYTES 1024u   /* decoded signature (RSA 8192) */
#define MAX_BODY_BYTES 6144u  /* decoded payload: 8 KiB of base64url */

/* 1 when <c> is in the base64url alphabet. */
static int b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int gwd_jwt_split(const char *tok, size_t len, struct gwd_jwt_parts *p)
{
	size_t dot[2], nd = 0;

	for (size_t i = 0; i < len; i++) {
		if (tok[i] == '.') {
			if (nd == 2)
				return -1; /* five parts: a JWE, or garbage */
			dot[nd++] = i;
		} else if (!b64url_char((unsigned char)tok[i])) {
			return -1;
		}
	}
	if (nd != 2 || dot[0] == 0 || dot[1] == dot[0] + 1 || dot[1] + 1 == len)
		return -1; /* an empty signature is alg none's: never */
	p->hdr = tok;
	p->hdr_len = dot[0];
	p->payload = tok + dot[0] + 1;
	p->payload_len = dot[1] - dot[0] - 1;
	p->sig = tok + dot[1] + 1;
	p->sig_len = len - dot[1] - 1;
	return 0;
}

int gwd_jwt_decode_json(const char *s, size_t n, uint8_t *buf, size_t cap, json_t **out)
{
	long k = gwd_token_b64url_decode(s, n, buf, cap);
	json_t *j;

	*out = NULL;
	if (k <= 0)
		return -1;
	j = json_loadb((const char *)buf, (size_t)k, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return -1;
	}
	*out = j;
	return 0;
}

/* ---- policy set-up -------------------------------------------------------- */

int gwd_jwt_pol_init(struct gwd_jwt_pol *pol, const struct gw_blob *b, uint32_t i,
		     const struct gw_str *strlist, const struct gw_header *headers, char *why,
		     size_t cap)
{
	struct gw_jwt *c = &pol->cfg;
	char kwhy[96];

	memset(pol, 0, sizeof *pol);
	if (gw_blob_jwt(b, i, c) < 0) {
		snprintf(why, cap, "JWTS[%u] missing", i);
		return -1;
	}
	pol->strlist = strlist;
	pol->headers = headers;
	if (c->key_count) {
		pol->keys = calloc(c->key_count, sizeof *pol->keys);
		if (!pol->keys)
			goto nomem;
	}
	for (uint32_t k = 0; k < c->key_count; k++) {
		struct gw_jwk j;

		if (gw_blob_jwk(b, c->key_first + k, &j) < 0) {
			snprintf(why, cap, "JWKEYS[%u] missing", c->key_first + k);
			return -1;
		}
		/* the verifier checked the fields; GnuTLS judges the key */
		if (gw_jwk_import(&j, &pol->keys[k].key, kwhy, sizeof kwhy)) {
			snprintf(why, cap, "JWKEYS[%u]: %s", c->key_first + k, kwhy);
			return -1;
		}
		pol->keys[k].kid = strndup(j.kid.p, j.kid.len);
		pol->nkeys++;
		if (!pol->keys[k].kid)
			goto nomem;
	}
	if (c->jwks_url.len) {
		pol->src = gwd_jwks_acquire(c->jwks_url.p, c->refresh_min_s, c->refresh_max_s,
					    c->refetch_s);
		if (!pol->src)
			goto nomem;
	}
	if (gwd_authcache_new(&pol->cache, GWD_JWT_CACHE_ENTRIES))
		goto nomem;
	pol->www_len = (size_t)c->realm.len + 15;
	pol->www = malloc(pol->www_len + 1);
	if (!pol->www)
		goto nomem;
	snprintf(pol->www, pol->www_len + 1, "Bearer realm=\"%s\"", c->realm.p);
	{
		size_t n = 1, o = 0;

		for (uint32_t k = 0; k < c->scope_count; k++)
			n += strlist[c->scope_first + k].len + 1;
		pol->scopes = malloc(n);
		if (!pol->scopes)
			goto nomem;
		for (uint32_t k = 0; k < c->scope_count; k++) {
			const struct gw_str *x = &strlist[c->scope_first + k];

			if (k)
				pol->scopes[o++] = ' ';
			memcpy(pol->scopes + o, x->p, x->len);
			o += x->len;
		}
		pol->scopes[o] = '\0';
	}
	return 0;
nomem:
	snprintf(why, cap, "out of memory");
	return -1;
}

void gwd_jwt_pol_free(struct gwd_jwt_pol *pol)
{
	for (uint32_t k = 0; k < pol->nkeys; k++) {
		gw_jwk_key_free(&pol->keys[k].key);
		free(pol->keys[k].kid);
	}
	free(pol->keys);
	pol->keys = NULL;
	pol->nkeys = 0;
	gwd_jwks_release(pol->src);
	pol->src = NULL;
	gwd_authcache_free(pol->cache);
	pol->cache = NULL;
	free(pol->www);
	pol->www = NULL;
	free(pol->scopes);
	pol->scopes = NULL;
}

/* ---- verification --------------------------------------------------------- */

/* The key of <keys> (<n>) for <kid> (NULL: the token names none) and <alg>.
 * Returns 1 and sets <*out>; 0 when no key has the kid (or, without a kid,
 * none serves the algorithm); -1 when the kid names a key that does not
 * serve <alg> (another type: never tried). */
static int find_key(const struct gwd_jwks_key *keys, uint32_t n, const char *kid, unsigned alg,
		    const struct gw_jwk_key **out)
{
	for (uint32_t i = 0; i < n; i++) {
		if (kid ? strcmp(keys[i].kid, kid) != 0 : !(keys[i].key.algs & alg))
			continue;
		if (!(keys[i].key.algs & alg))
			return -1;
		*out = &keys[i].key;
		return 1;
	}
	return 0;
}

/* The text of a scalar claim <v> for comparison and headers, into <buf>
 * (<cap> bytes); sets <*len>.  NULL for objects, arrays and null. */
static const char *claim_text(json_t *v, char *buf, size_t cap, size_t *len)
{
	int n;

	if (json_is_string(v)) {
		*len = json_string_length(v);
		return json_string_value(v);
	}
	if (json_is_true(v) || json_is_false(v)) {
		*len = json_is_true(v) ? 4 : 5;
		return json_is_true(v) ? "true" : "false";
	}
	if (json_is_integer(v)) {
		n = snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
		*len = n > 0 ? (size_t)n : 0;
		return buf;
	}
	return NULL;
}

/* 1 when the token's scopes (<claims>' "scope", space-separated, or "scp",
 * an array or a string) hold <want> (<wlen> bytes). */
static int has_scope(json_t *claims, const char *want, size_t wlen)
{
	const char *names[2] = { "scope", "scp" };

	for (int k = 0; k < 2; k++) {
		json_t *v = json_object_get(claims, names[k]);

		if (json_is_array(v)) {
			size_t i;
			json_t *x;

			json_array_foreach(v, i, x)
				if (json_is_string(x) && json_string_length(x) == wlen &&
				    memcmp(json_string_value(x), want, wlen) == 0)
					return 1;
		} else if (json_is_string(v)) {
			const char *s = json_string_value(v), *e = s + json_string_length(v);

			while (s < e) {
				const char *sp = memchr(s, ' ', (size_t)(e - s));
				size_t l = (size_t)((sp ? sp : e) - s);

				if (l == wlen && memcmp(s, want, wlen) == 0)
					return 1;
				s += l + 1;
			}
		}
	}
	return 0;
}

/* The claim checks of <pol> on <claims> at <now>.  GWD_JWT_OK, _INVALID or
 * _SCOPE with <*reason>; <*exp> set. */
static int check_claims(const struct gwd_jwt_pol *pol, json_t *claims, int64_t now,
			int64_t *exp, const char **reason)
{
	const struct gw_jwt *c = &pol->cfg;
	json_t *v = json_object_get(claims, "iss"), *aud;
	int64_t lw = c->leeway_s;
	char buf[32];
	int found = 0;

	if (!json_is_string(v) || json_string_length(v) != c->issuer.len ||
	    memcmp(json_string_value(v), c->issuer.p, c->issuer.len) != 0)
		return *reason = "wrong issuer", GWD_JWT_INVALID;
	aud = json_object_get(claims, "aud");
	for (uint32_t i = 0; i < c->aud_count && !found; i++) {
		const struct gw_str *a = &pol->strlist[c->aud_first + i];

		if (json_is_string(aud)) {
			found = json_string_length(aud) == a->len &&
				memcmp(json_string_value(aud), a->p, a->len) == 0;
		} else if (json_is_array(aud)) {
			size_t k;
			json_t *x;

			json_array_foreach(aud, k, x)
				if (json_is_string(x) && json_string_length(x) == a->len &&
				    memcmp(json_string_value(x), a->p, a->len) == 0)
					found = 1;
		}
	}
	if (!found)
		return *reason = "wrong audience", GWD_JWT_INVALID;
	v = json_object_get(claims, "exp");
	if (!json_is_number(v))
		return *reason = "no expiry (exp)", GWD_JWT_INVALID;
	if (json_number_value(v) > 4e12 || json_number_value(v) < 0)
		return *reason = "expiry out of range", GWD_JWT_INVALID;
	*exp = (int64_t)json_number_value(v);
	if (now >= *exp + lw)
		return *reason = "token expired", GWD_JWT_INVALID;
	/* nbf and iat in the range exp has, before the conversion: a double past
	 * INT64_MAX does not convert (on x86-64 it became INT64_MIN, "valid") */
	v = json_object_get(claims, "nbf");
	if (v && (!json_is_number(v) || json_number_value(v) > 4e12 || json_number_value(v) < 0 ||
		  now + lw < (int64_t)json_number_value(v)))
		return *reason = "token not yet valid (nbf)", GWD_JWT_INVALID;
	v = json_object_get(claims, "iat");
	if (v && (!json_is_number(v) || json_number_value(v) > 4e12 || json_number_value(v) < 0 ||
		  now + lw < (int64_t)json_number_value(v)))
		return *reason = "token issued in the future (iat)", GWD_JWT_INVALID;
	for (uint32_t i = 0; i < c->has_count; i++)
		if (!json_object_get(claims, pol->strlist[c->has_first + i].p))
			return *reason = "a required claim is missing", GWD_JWT_INVALID;
	for (uint32_t i = 0; i < c->eq_count; i++) {
		const struct gw_header *h = &pol->headers[c->eq_first + i];
		size_t l = 0;
		const char *t = claim_text(json_object_get(claims, h->name.p), buf, sizeof buf, &l);

		if (!t || l != h->value.len || memcmp(t, h->value.p, l) != 0)
			return *reason = "a claim does not have the required value", GWD_JWT_INVALID;
	}
	if (c->scope_count) {
		uint32_t have = 0;

		for (uint32_t i = 0; i < c->scope_count; i++) {
			const struct gw_str *s = &pol->strlist[c->scope_first + i];

			have += (uint32_t)has_scope(claims, s->p, s->len);
		}
		if (c->scope_any ? have == 0 : have != c->scope_count)
			return *reason = "insufficient scope", GWD_JWT_SCOPE;
	}
	return GWD_JWT_OK;
}

int gwd_jwt_verify(struct gwd_jwt_pol *pol, const char *tok, size_t len, int64_t now_s,
		   json_t **claims, int64_t *exp_s, const char **reason)
{
	uint8_t hbuf[MAX_HDR_BYTES], sig[MAX_SIG_BYTES], body[MAX_BODY_BYTES];
	struct gwd_jwt_parts p;
	json_t *hdr = NULL, *v, *pl = NULL;
	const struct gw_jwk_key *key = NULL;
	struct gwd_jwks_set *set = NULL;
	const char *kid = NULL;
	unsigned alg;
	long siglen;
	int rc = GWD_JWT_INVALID, found;

	*claims = NULL;
	*reason = NULL;
	if (len > GWD_JWT_MAX_TOKEN)
		return *reason = "token too large", GWD_JWT_INVALID;
	if (gwd_jwt_split(tok, len, &p) ||
	    gwd_jwt_decode_json(p.hdr, p.hdr_len, hbuf, sizeof hbuf, &hdr))
		return *reason = "malformed token", GWD_JWT_INVALID;
	v = json_object_get(hdr, "alg");
	if (!json_is_string(v)) {
		*reason = "malformed token";
		goto out;
	}
	alg = gw_jwa_bit(json_string_value(v), json_string_length(v));
	if (!alg) {
		/* "none" among them: never accepted */
		*reason = "algorithm not supported";
		goto out;
	}
	if (!(alg & pol->cfg.algs)) {
		*reason = "algorithm not allowed";
		goto out;
	}
	/* RFC 7515 4.1.11: gw implements no extension, so any crit is refused */
	if (json_object_get(hdr, "crit")) {
		*reason = "critical header not understood";
		goto out;
	}
	v = json_object_get(hdr, "typ");
	if (v && !(json_is_string(v) && (strcasecmp(json_string_value(v), "JWT") == 0 ||
					 strcasecmp(json_string_value(v), "at+jwt") == 0 ||
					 strcasecmp(json_string_value(v), "application/at+jwt") == 0))) {
		*reason = "not a JWT (typ)";
		goto out;
	}
	v = json_object_get(hdr, "kid");
	if (v && !json_is_string(v)) {
		*reason = "malformed token";
		goto out;
	}
	kid = v ? json_string_value(v) : NULL;
	found = find_key(pol->keys, pol->nkeys, kid, alg, &key);
	if (found == 0 && pol->src) {
		set = gwd_jwks_get(pol->src);
		if (set)
			found = find_key(set->keys, set->n, kid, alg, &key);
		if (found == 0 && !set && !pol->nkeys) {
			gwd_jwks_want(pol->src);
			rc = GWD_JWT_UNAVAILABLE;
			*reason = "signing keys not available yet";
			goto out;
		}
		if (found == 0 && kid)
			gwd_jwks_want(pol->src); /* a rotation, perhaps: fetch again */
	}
	if (found < 0) {
		*reason = "key does not fit the algorithm";
		goto out;
	}
	if (found == 0) {
		*reason = kid ? "unknown key id" : "no key for the algorithm";
		goto out;
	}
	siglen = gwd_token_b64url_decode(p.sig, p.sig_len, sig, sizeof sig);
	if (siglen <= 0 || gw_jwk_verify(key, alg, tok, p.hdr_len + 1 + p.payload_len, sig,
					 (size_t)siglen)) {
		*reason = "bad signature";
		goto out;
	}
	if (gwd_jwt_decode_json(p.payload, p.payload_len, body, sizeof body, &pl)) {
		*reason = "malformed claims";
		goto out;
	}
	rc = check_claims(pol, pl, now_s, exp_s, reason);
	if (rc == GWD_JWT_OK || rc == GWD_JWT_SCOPE) {
		*claims = pl;
		pl = NULL;
	}
out:
	gwd_jwks_set_put(set);
	json_decref(pl);
	json_decref(hdr);
	return rc;
}

/* ---- request time --------------------------------------------------------- */

/* The token of <r> for <pol>: "Authorization: Bearer <token>", else the
 * policy's cookie.  Sets <*len>; NULL when there is none. */
static const char *find_token(struct gwd_req *r, const struct gwd_jwt_pol *pol, size_t *len)
{
	size_t n = 0;
	const char *v = gwd_req_header(r, "Authorization", &n);

	if (v && n > 7 && strncasecmp(v, "Bearer ", 7) == 0) {
		v += 7;
		n -= 7;
		while (n && *v == ' ')
			v++, n--;
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		*len = n;
		return n ? v : NULL;
	}
	if (pol->cfg.cookie.len && (v = gwd_req_header(r, "Cookie", &n))) {
		const char *e = v + n, *s = v;
		size_t cl = pol->cfg.cookie.len;

		while (s < e) {
			const char *semi = memchr(s, ';', (size_t)(e - s)), *end = semi ? semi : e;

			while (s < end && *s == ' ')
				s++;
			if ((size_t)(end - s) > cl && memcmp(s, pol->cfg.cookie.p, cl) == 0 &&
			    s[cl] == '=') {
				*len = (size_t)(end - s) - cl - 1;
				return *len ? s + cl + 1 : NULL;
			}
			s = end + 1;
		}
	}
	return NULL;
}

/* Answer <r> with 401/403 per RFC 6750 for result <rc>, <reason> in the
 * problem's detail.  Returns 1. */
static int refuse(struct gwd_req *r, const struct gwd_jwt_pol *pol, int rc, const char *reason)
{
	const char *err = rc == GWD_JWT_SCOPE ? "insufficient_scope" : "invalid_token";
	size_t cap = pol->www_len + 80 + (reason ? strlen(reason) : 0) + strlen(pol->scopes);
	char *w;

	if (rc == GWD_JWT_UNAVAILABLE) {
		gwd_req_add_resp_header_ref(r, "Retry-After", 11, "1", 1);
		gwd_problem(r, GWD_PB_UNAVAILABLE, reason);
		return 1;
	}
	if (rc == GWD_JWT_NOMEM) {
		gwd_problem(r, GWD_PB_INTERNAL, NULL);
		return 1;
	}
	if (!reason) {
		/* no token: the challenge alone (RFC 6750 3.1) */
		gwd_req_add_resp_header_ref(r, "WWW-Authenticate", 16, pol->www, pol->www_len);
		gwd_problem(r, GWD_PB_UNAUTHORIZED, "bearer token required");
		return 1;
	}
	w = gwd_req_alloc(r, cap);
	if (w) {
		int n = snprintf(w, cap, "%s, error=\"%s\", error_description=\"%s\"%s%s%s", pol->www,
				 err, reason, rc == GWD_JWT_SCOPE ? ", scope=\"" : "",
				 rc == GWD_JWT_SCOPE ? pol->scopes : "", rc == GWD_JWT_SCOPE ? "\"" : "");

		if (n > 0 && (size_t)n < cap)
			gwd_req_add_resp_header_ref(r, "WWW-Authenticate", 16, w, (size_t)n);
	}
	gwd_problem(r, rc == GWD_JWT_SCOPE ? GWD_PB_FORBIDDEN : GWD_PB_UNAUTHORIZED, reason);
	return 1;
}

/* A removal of request header <name> (a blob string) for <r>.  0 / -1. */
static int drop_header(struct gwd_req *r, const struct gw_str *name)
{
	struct gwd_hdr *d = gwd_req_alloc(r, sizeof *d);

	if (!d)
		return -1;
	*d = (struct gwd_hdr){ r->req_del, name->p, "", name->len, 0 };
	r->req_del = d;
	return 0;
}

/* Queue request header <h>.value: <t> (<l> bytes, copied into the request's
 * arena) for the upstream.  0, or -1 out of memory. */
static int add_claim_header(struct gwd_req *r, const struct gw_header *h, const char *t, size_t l)
{
	struct gwd_hdr *a = gwd_req_alloc(r, sizeof *a);

	if (!a)
		return -1;
	*a = (struct gwd_hdr){ r->req_add, h->value.p, gwd_req_strdup(r, t, l), h->value.len, l };
	if (!a->value)
		return -1;
	r->req_add = a;
	return 0;
}

/* The claim headers of <pol> from <claims>: the client's copies removed, the
 * token's values added.  0; 1 when a value is not a valid header value
 * (control characters); -1 OOM. */
static int claim_headers(struct gwd_req *r, const struct gwd_jwt_pol *pol, json_t *claims)
{
	char buf[32];

	for (uint32_t i = 0; i < pol->cfg.hdr_count; i++) {
		const struct gw_header *h = &pol->headers[pol->cfg.hdr_first + i];
		size_t l = 0;
		const char *t = claim_text(json_object_get(claims, h->name.p), buf, sizeof buf, &l);

		if (drop_header(r, &h->value))
			return -1;
		if (!t)
			continue;
		for (size_t k = 0; k < l; k++)
			if (((unsigned char)t[k] < 0x20 && t[k] != '\t') || t[k] == 0x7f)
				return 1;
		if (add_claim_header(r, h, t, l))
			return -1;
	}
	return 0;
}

/* What the cache keeps of a verified token, in the 64 name bytes of a
 * struct gwd_authcache_val, so that a hit reads no JSON:
 *
 *   [0] 0: the claim headers' values follow; 1: they did not fit (a hit
 *       decodes the payload again)
 *   [1] length of sub (0: none), then sub's bytes; a sub longer than fits is
 *       "sha256:" and the first LONG_SUB_DIGEST bytes of its digest in hex
 *   per claim header, when [0] is 0: a length byte (0xFF: the token lacks
 *   the claim) and the value's bytes (checked when the token was verified)
 *
 * Returns the record's length. */
#define LONG_SUB_DIGEST 24 /* bytes of SHA-256 naming a sub too long to keep */

static uint8_t pack(const struct gwd_jwt_pol *pol, json_t *claims, char *out)
{
	json_t *sub = json_object_get(claims, "sub");
	size_t o = 2, l = 0;
	char buf[32];

	out[0] = 0;
	out[1] = 0;
	if (json_is_string(sub) && json_string_length(sub) <= GWD_STORE_NAME_MAX - 2) {
		out[1] = (char)json_string_length(sub);
		memcpy(out + 2, json_string_value(sub), (size_t)(uint8_t)out[1]);
		o += (uint8_t)out[1];
	} else if (json_is_string(sub)) {
		/* too long to keep (SPIFFE IDs, some client-credential subjects):
		 * its digest names the user, so that such users stay apart in
		 * user-keyed limits, hashing and the access log */
		uint8_t d[32];

		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, json_string_value(sub),
				     json_string_length(sub), d) == 0) {
			memcpy(out + 2, "sha256:", 7);
			for (size_t i = 0; i < LONG_SUB_DIGEST; i++) {
				out[9 + 2 * i] = "0123456789abcdef"[d[i] >> 4];
				out[10 + 2 * i] = "0123456789abcdef"[d[i] & 15];
			}
			out[1] = (char)(7 + 2 * LONG_SUB_DIGEST);
			o += (uint8_t)out[1];
		}
	}
	for (uint32_t i = 0; i < pol->cfg.hdr_count; i++) {
		const struct gw_header *h = &pol->headers[pol->cfg.hdr_first + i];
		const char *t = claim_text(json_object_get(claims, h->name.p), buf, sizeof buf, &l);

		if (o + 1 + (t ? l : 0) > GWD_STORE_NAME_MAX || (t && l >= 0xFF)) {
			out[0] = 1;
			return (uint8_t)(2 + (uint8_t)out[1]);
		}
		out[o++] = t ? (char)l : (char)0xFF;
		if (t)
			memcpy(out + o, t, l);
		o += t ? l : 0;
	}
	return (uint8_t)o;
}

/* The claim headers of <pol> from a packed cache record <p> (<n> bytes, [0]
 * 0): the client's copies removed, the values added.  0, or -1 OOM. */
static int packed_headers(struct gwd_req *r, const struct gwd_jwt_pol *pol, const char *p,
			  size_t n)
{
	size_t o = 2 + (uint8_t)p[1];

	for (uint32_t i = 0; i < pol->cfg.hdr_count && o < n; i++) {
		const struct gw_header *h = &pol->headers[pol->cfg.hdr_first + i];
		uint8_t l = (uint8_t)p[o++];

		if (drop_header(r, &h->value))
			return -1;
		if (l == 0xFF)
			continue;
		if (o + l > n)
			break;
		if (add_claim_header(r, h, p + o, l))
			return -1;
		o += l;
	}
	return 0;
}

int gwd_jwt_check(struct gwd_req *r, struct gwd_jwt_pol *pol)
{
	uint8_t digest[GWD_STORE_DIGEST_LEN];
	struct timespec ts;
	size_t len = 0;
	const char *tok = find_token(r, pol, &len);
	const char *reason = NULL;
	json_t *claims = NULL;
	char name[GWD_STORE_NAME_MAX + 1];
	uint8_t nlen = 0;
	int64_t exp = 0;
	uint64_t gen, now_ms;
	int rc;

	if (!tok)
		return refuse(r, pol, GWD_JWT_INVALID, NULL);
	if (len > GWD_JWT_MAX_TOKEN)
		return refuse(r, pol, GWD_JWT_INVALID, "token too large");
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, tok, len, digest) < 0)
		return refuse(r, pol, GWD_JWT_NOMEM, NULL);
	if (pol->src) {
		/* the key set changed: tokens verified with a removed key go */
		uint64_t serial = gwd_jwks_serial(pol->src);

		if (serial != atomic_load_explicit(&pol->seen_serial, memory_order_relaxed) &&
		    atomic_exchange(&pol->seen_serial, serial) != serial)
			gwd_authcache_clear(pol->cache);
	}
	gen = gwd_authcache_gen(pol->cache, digest);
	rc = 0;
	if (gwd_authcache_get(pol->cache, digest, now_ms, 0, 0, 0, name, &nlen) == GWD_AUTHCACHE_HIT) {
		/* verified before, and not past exp + leeway: the user and the
		 * claim headers' values come from the cache; only values too long
		 * for it make the payload be read again (no signature, no checks) */
		if (nlen < 2 || 2 + (size_t)(uint8_t)name[1] > nlen)
			return refuse(r, pol, GWD_JWT_NOMEM, NULL);
		if (pol->cfg.hdr_count && name[0] == 0) {
			if (packed_headers(r, pol, name, nlen))
				return refuse(r, pol, GWD_JWT_NOMEM, NULL);
		} else if (pol->cfg.hdr_count) {
			struct gwd_jwt_parts p;
			uint8_t body[MAX_BODY_BYTES];

			if (gwd_jwt_split(tok, len, &p) ||
			    gwd_jwt_decode_json(p.payload, p.payload_len, body, sizeof body, &claims))
				return refuse(r, pol, GWD_JWT_INVALID, "malformed claims");
		}
		gwd_req_set_user(r, name + 2, (uint8_t)name[1]);
	} else {
		struct gwd_authcache_val v = { 0 };

		rc = gwd_jwt_verify(pol, tok, len, ts.tv_sec, &claims, &exp, &reason);
		if (rc != GWD_JWT_OK) {
			json_decref(claims);
			return refuse(r, pol, rc, reason);
		}
		rc = claim_headers(r, pol, claims);
		if (rc == 0) {
			/* cached only when its headers are sendable too */
			v.len = pack(pol, claims, v.name);
			v.expires_ms = (uint64_t)(exp + pol->cfg.leeway_s) * 1000u;
			v.created_ms = now_ms;
			v.last_seen_ms = now_ms;
			gwd_authcache_put(pol->cache, digest, gen, &v, 0);
			gwd_req_set_user(r, v.name + 2, (uint8_t)v.name[1]);
		}
		json_decref(claims);
		claims = NULL;
	}
	if (claims) {
		rc = claim_headers(r, pol, claims);
		json_decref(claims);
	}
	if (rc < 0)
		return refuse(r, pol, GWD_JWT_NOMEM, NULL);
	if (rc > 0)
		return refuse(r, pol, GWD_JWT_INVALID, "a claim is not a valid header value");
	if (!pol->cfg.forward_auth) {
		static const struct gw_str authz = { "Authorization", 13 };

		if (drop_header(r, &authz))
			return refuse(r, pol, GWD_JWT_NOMEM, NULL);
	}
	return 0;
}
