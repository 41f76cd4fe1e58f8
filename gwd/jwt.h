/* The jwt auth policy: bearer tokens from an identity provider, verified at
 * the edge (docs/auth.md, docs/routes.md "jwt").
 *
 *   request --token (Authorization: Bearer, or the policy's cookie)-->
 *     cache (gwd/authcache.h, keyed by SHA-256 of the token, until exp)
 *       hit:  user = sub; claim headers from the payload
 *       miss: split, decode, header checks (alg, crit, typ), key by kid
 *             (the blob's JWKS file keys, then the URL's set: gwd/jwks.h),
 *             signature (lib/jwk.h), claims (iss, aud, exp, nbf, iat,
 *             required and equal claims), scopes; cached when all pass
 *   refusals (RFC 6750): 401 Bearer realm=... (no token), 401
 *   error="invalid_token" (any fault), 403 error="insufficient_scope";
 *   503 while a URL-only policy has no key set yet
 *
 * Always refused whatever the policy says: alg none, an HMAC algorithm
 * verified with a public key's bytes, a kid naming a key of another type,
 * tokens over GWD_JWT_MAX_TOKEN bytes, any crit header (gw understands no
 * extension).  Reasons never quote the token.
 */
#ifndef GWD_JWT_H
#define GWD_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/blob.h"
#include "lib/jwk.h"
#include "lib/model.h"

#define GWD_JWT_MAX_TOKEN 8192u
#define GWD_JWT_CACHE_ENTRIES 16384u /* verified tokens remembered per policy */

struct gwd_req;
struct gwd_jwks;
struct gwd_authcache;

/* A token cut at its dots: each part borrowed from the token text. */
struct gwd_jwt_parts {
	const char *hdr, *payload, *sig;
	size_t hdr_len, payload_len, sig_len;
};

/* The outcome of gwd_jwt_verify. */
enum gwd_jwt_result {
	GWD_JWT_OK = 0,
	GWD_JWT_INVALID = 1,     /* 401 invalid_token */
	GWD_JWT_SCOPE = 2,       /* 403 insufficient_scope: valid, scopes missing */
	GWD_JWT_UNAVAILABLE = 3, /* 503: no key set yet (URL not fetched) */
	GWD_JWT_NOMEM = 4,       /* 500 */
};

/* One jwt policy at run time: its record, its file keys, its URL source and
 * its cache. */
struct gwd_jwt_pol {
	struct gw_jwt cfg;               /* strings borrow from the blob */
	const struct gw_str *strlist;    /* the blob's STRLIST, decoded */
	const struct gw_header *headers; /* the blob's HEADERS, decoded */
	uint32_t nkeys;
	struct gwd_jwks_key *keys;       /* the JWKS file's, imported */
	struct gwd_jwks *src;            /* the JWKS URL's, or NULL */
	struct gwd_authcache *cache;
	_Atomic uint64_t seen_serial;    /* the source's serial the cache matches */
	char *www;                       /* "Bearer realm=\"...\"" */
	size_t www_len;
	char *scopes;                    /* the scopes, space-separated ("" none) */
};

/* Split <tok> (<len> bytes) at its two dots into <p>.  Returns 0, or -1 when
 * there are not exactly three non-empty parts of base64url characters. */
int gwd_jwt_split(const char *tok, size_t len, struct gwd_jwt_parts *p);

/* Decode part <s> (<n> bytes) of a token as a JSON object (duplicate member
 * names refused) into <*out> (json_decref it).  <buf> (<cap> bytes) is
 * scratch for the decoded bytes.  0, or -1. */
int gwd_jwt_decode_json(const char *s, size_t n, uint8_t *buf, size_t cap, json_t **out);

/* Build policy <pol> from jwt record <i> of <b> (decoded tables <strlist>,
 * <headers> of the generation, which outlive it).  0, or -1 with a reason in
 * <why>.  Free with gwd_jwt_pol_free (also after a failure). */
int gwd_jwt_pol_init(struct gwd_jwt_pol *pol, const struct gw_blob *b, uint32_t i,
		     const struct gw_str *strlist, const struct gw_header *headers, char *why,
		     size_t cap);
void gwd_jwt_pol_free(struct gwd_jwt_pol *pol);

/* Verify token <tok> (<len> bytes) for <pol> at unix time <now_s>.  Returns an
 * enum gwd_jwt_result; <*reason> gets a static explanation (never the token)
 * unless OK; on OK and SCOPE <*claims> holds the payload (json_decref it), and
 * <*exp_s> its exp. */
int gwd_jwt_verify(struct gwd_jwt_pol *pol, const char *tok, size_t len, int64_t now_s,
		   json_t **claims, int64_t *exp_s, const char **reason);

/* The policy at request time: find, check and remember the token of <r>;
 * set the user (sub) and the claim headers, remove the client's copies of
 * those headers and, unless the policy forwards it, the Authorization header.
 * Returns 0 when the request goes on, 1 when answered (401, 403, 503, 500). */
int gwd_jwt_check(struct gwd_req *r, struct gwd_jwt_pol *pol);

#endif
