/* gwc's front end, the jwt auth policy (docs/routes.md, "jwt"): its keys
 * into a conf.jwts record, and its JWKS file read, checked and compiled into
 * conf.jwks.
 *
 * A JWKS file is JSON: jansson reads it first (strict JSON, duplicate member
 * names refused, errors at FILE:LINE:COL); then the YAML loader reads the
 * same bytes again (JSON is YAML's flow style) so that a key refused for
 * what it says is reported at its own line and column.  Each key must parse
 * (GnuTLS imports it), kids are unique, each key's type fits the algorithms
 * the policy allows, and private members ("d", ...) are refused: the blob is
 * not a place for a signing key.  The file is a source of the blob: its path
 * and bytes go into the fingerprint like a route file's.
 */
#include "gwc/parse_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/jwk.h"

#define JWKS_MAX_BYTES (1024u * 1024) /* a JWKS file larger than this is refused */
#define JWKS_MAX_KEYS 64u

/* Read <path> whole into a malloc'd <*buf> of <*len> bytes (at most
 * JWKS_MAX_BYTES).  0, or an errno value (EFBIG when too large). */
static int read_all(const char *path, char **buf, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *b = NULL;
	size_t n = 0;
	int err = 0;

	*buf = NULL;
	*len = 0;
	if (!fp)
		return errno;
	b = malloc(JWKS_MAX_BYTES + 1);
	if (!b) {
		err = ENOMEM;
		goto fail;
	}
	n = fread(b, 1, JWKS_MAX_BYTES + 1, fp);
	if (ferror(fp))
		err = EIO;
	else if (n > JWKS_MAX_BYTES)
		err = EFBIG;
fail:
	fclose(fp);
	if (err) {
		free(b);
		return err;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* The path of <name> (as written in file <from>): relative paths are taken
 * from the directory of the route file.  Into <out> (<cap> bytes); 0, or -1
 * when too long. */
static int resolve(const char *from, const char *name, char *out, size_t cap)
{
	const char *slash = strrchr(from, '/');
	int n;

	if (name[0] == '/' || !slash)
		n = snprintf(out, cap, "%s", name);
	else
		n = snprintf(out, cap, "%.*s/%s", (int)(slash - from), from, name);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Scalar member <key> of JSON object node <obj> as a string, or NULL. */
static const struct ynode *member(const struct ynode *obj, const char *key)
{
	const struct ynode *v = gwc_get(obj, key);

	return v && v->type == YN_SCALAR ? v : NULL;
}

/* The kind of key object <k> of the JWKS (file <jf>) into <j>: no private
 * members, a known 'kty', 'use' (when given) 'sig', a known curve for EC and
 * OKP keys.  Returns the algorithms that kind of key fits (non-zero), or 0
 * when refused (reported). */
static unsigned key_kind(struct gwc_file *jf, const struct ynode *k, struct gw_jwk *j)
{
	static const char *const private[] = { "d", "p", "q", "dp", "dq", "qi", "oth", NULL };
	const struct ynode *kty = member(k, "kty"), *crv = member(k, "crv"), *use = member(k, "use");
	char s[80];
	unsigned fits;

	if (gwc_want_map(jf, k, "a JWKS key") < 0)
		return 0;
	for (unsigned i = 0; private[i]; i++)
		if (gwc_get(k, private[i])) {
			gwc_err(jf, gwc_key(k, private[i]), "a JWKS key with private member '%s': "
				"give gw the public keys only", private[i]);
			return 0;
		}
	if (!kty) {
		gwc_err(jf, k, "a JWKS key without 'kty'");
		return 0;
	}
	j->kty = (uint8_t)gw_jwk_kty(kty->s, kty->len);
	if (!j->kty) {
		gwc_err(jf, kty, "unsupported key type %s (RSA, EC, OKP or oct)",
			gwc_show(kty, s, sizeof s));
		return 0;
	}
	if (use && !(use->len == 3 && memcmp(use->s, "sig", 3) == 0)) {
		gwc_err(jf, use, "a key for %s, not for signatures ('use': 'sig')",
			gwc_show(use, s, sizeof s));
		return 0;
	}
	if (j->kty == GW_KTY_EC || j->kty == GW_KTY_OKP) {
		if (!crv || !(j->crv = (uint8_t)gw_jwk_crv(crv->s, crv->len))) {
			gwc_err(jf, crv ? crv : k, "unsupported or missing curve %s (P-256, P-384 "
				"or Ed25519)", crv ? gwc_show(crv, s, sizeof s) : "");
			return 0;
		}
	}
	fits = gw_jwk_fits(j->kty, j->crv);
	if (!fits)
		gwc_err(jf, crv, "curve %s does not fit key type %s", gw_jwk_crv_name(j->crv),
			gw_jwk_kty_name(j->kty));
	return fits;
}

/* The algorithms of key <k> (kind already in <j>, fitting <fits>) for a
 * policy allowing <algs>, into j.algs: its 'alg' when given, else every
 * allowed one that fits.  0, or -1 when refused (reported). */
static int key_algs(struct gwc_file *jf, const struct ynode *k, struct gw_jwk *j, unsigned fits,
		    unsigned algs)
{
	const struct ynode *alg = member(k, "alg");
	char s[80];

	if (alg) {
		unsigned bit = gw_jwa_bit(alg->s, alg->len);

		if (!bit || !(bit & fits)) {
			gwc_err(jf, alg, "algorithm %s does not fit a %s key",
				gwc_show(alg, s, sizeof s), gw_jwk_kty_name(j->kty));
			return -1;
		}
		if (!(bit & algs)) {
			gwc_err(jf, alg, "algorithm %s is not among the policy's 'algorithms'",
				gwc_show(alg, s, sizeof s));
			return -1;
		}
		j->algs = (uint16_t)bit;
		return 0;
	}
	j->algs = (uint16_t)(fits & algs);
	if (!j->algs) {
		gwc_err(jf, member(k, "kty"), "a %s key fits none of the policy's 'algorithms'",
			gw_jwk_kty_name(j->kty));
		return -1;
	}
	return 0;
}

/* The key material of <k> (kind and algorithms already in <j>): 'n' and 'e'
 * (RSA), 'x' and 'y' (EC), 'x' (OKP) or 'k' (oct), into <*a> and <*b> (NULL
 * when the kind has one member) and j.a, j.b borrowing from the nodes; the
 * key must import, and an oct key's algorithms are narrowed to those its
 * length allows.  0, or -1 when refused (reported). */
static int key_material(struct gwc_file *jf, const struct ynode *k, struct gw_jwk *j,
			const struct ynode **a, const struct ynode **b)
{
	int two = j->kty == GW_KTY_RSA || j->kty == GW_KTY_EC;
	struct gw_jwk_key key = { 0 };
	char why[160];

	*a = member(k, j->kty == GW_KTY_RSA ? "n" : j->kty == GW_KTY_OCT ? "k" : "x");
	*b = two ? member(k, j->kty == GW_KTY_RSA ? "e" : "y") : NULL;
	if (!*a || (two && !*b)) {
		gwc_err(jf, k, "a %s key needs %s", gw_jwk_kty_name(j->kty),
			j->kty == GW_KTY_RSA ? "'n' and 'e'" : j->kty == GW_KTY_EC ? "'x' and 'y'" :
			j->kty == GW_KTY_OKP ? "'x'" : "'k'");
		return -1;
	}
	j->a = (struct gw_str){ (*a)->s, (*a)->len };
	j->b = *b ? (struct gw_str){ (*b)->s, (*b)->len } : (struct gw_str){ "", 0 };
	if (gw_jwk_import(j, &key, why, sizeof why)) {
		gwc_err(jf, *a, "the key does not parse: %s", why);
		return -1;
	}
	/* an oct key's "alg"-less default: the HS algorithms its length allows */
	if (j->kty == GW_KTY_OCT) {
		if (key.secret_len < 48)
			j->algs &= (uint16_t)~GW_JWA_HS384;
		if (key.secret_len < 64)
			j->algs &= (uint16_t)~GW_JWA_HS512;
		if (!j->algs) {
			gwc_err(jf, *a, "an HMAC key of %zu bytes is too short for its algorithm",
				key.secret_len);
			gw_jwk_key_free(&key);
			return -1;
		}
	}
	gw_jwk_key_free(&key);
	return 0;
}

/* One key object <k> of the JWKS (file <jf>) for a policy allowing <algs>.
 * Appends it to conf.jwks when it passes.  0 (refusals reported), or -1 OOM. */
static int one_key(struct gwc_file *jf, const struct ynode *k, unsigned algs)
{
	const struct ynode *kid = member(k, "kid"), *a, *b;
	struct gw_jwk j = { 0 }, *e;
	unsigned fits = key_kind(jf, k, &j);

	if (!fits || key_algs(jf, k, &j, fits, algs) || key_material(jf, k, &j, &a, &b))
		return 0;
	e = GW_VEC_PUSH(jf->conf->jwks);
	if (!e || gwc_copy(jf, a, &j.a) || (b && gwc_copy(jf, b, &j.b)) ||
	    (kid && gwc_copy(jf, kid, &j.kid)) || (!kid && gwc_copy_bytes(jf->st, "", 0, &j.kid)))
		return -1;
	if (!b)
		j.b = (struct gw_str){ "", 0 };
	*e = j;
	jf->conf->jwks.n++;
	return 0;
}

/* Read and check JWKS file <name> (node <at> of <f>) for a policy allowing
 * <algs>; its keys are appended to conf.jwks (<*first>, <*count>).  0
 * (refusals reported), or -1 OOM. */
static int jwks_file(struct gwc_file *f, const struct ynode *at, unsigned algs,
		     uint32_t *first, uint32_t *count)
{
	char path[4096], s[80];
	char *buf = NULL;
	size_t len = 0;
	json_error_t je;
	json_t *js = NULL;
	struct gwc_file jf = { .conf = f->conf, .d = f->d, .st = f->st };
	struct ynode *root = NULL;
	const struct ynode *keys;
	long file;
	int err, rc = 0;

	*first = f->conf->jwks.n;
	*count = 0;
	if (resolve(f->conf->files.v[f->file].p, at->s, path, sizeof path)) {
		gwc_err(f, at, "JWKS file path too long");
		return 0;
	}
	err = read_all(path, &buf, &len);
	if (err == ENOMEM)
		return -1;
	if (err) {
		gwc_err(f, at, "cannot read JWKS file %s: %s", path,
			err == EFBIG ? "larger than 1 MiB" : strerror(err));
		return 0;
	}
	file = gwc_add_file(f->conf, f->d, f->st, path, len);
	if (file == -1) {
		rc = -1;
		goto fail;
	}
	if (file < 0)
		goto fail;
	jf.file = (uint16_t)file;
	if (f->st->sha && len && gnutls_hash(f->st->sha, buf, len) < 0) {
		rc = -1;
		goto fail;
	}
	js = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!js) {
		struct gw_place pl = { .file = jf.file, .line = je.line > 0 ? (uint32_t)je.line : 1,
				       .col = (uint16_t)(je.column > 0 ? je.column : 1) };

		gwc_err_at(f->conf, f->d, f->st, &pl, "not a JWKS: %s", je.text);
		goto fail;
	}
	rc = gwc_yaml_load(&jf, buf, len, &root);
	if (rc)
		goto fail; /* reported (1), or OOM (-1) */
	if (!root || root->type != YN_MAP || !(keys = gwc_get(root, "keys")) ||
	    keys->type != YN_SEQ) {
		struct gw_place pl = { .file = jf.file, .line = 1, .col = 1 };

		gwc_err_at(f->conf, f->d, f->st, &pl, "not a JWKS: expected an object with a "
			   "'keys' array");
		goto fail;
	}
	if (keys->n == 0 || keys->n > JWKS_MAX_KEYS) {
		gwc_err(&jf, keys, "a JWKS file holds 1 to %u keys, this one %u", JWKS_MAX_KEYS,
			keys->n);
		goto fail;
	}
	for (uint32_t i = 0; i < keys->n; i++) {
		uint32_t before = f->conf->jwks.n;

		rc = one_key(&jf, keys->kids[i], algs);
		if (rc)
			goto fail;
		if (f->conf->jwks.n == before)
			continue;
		/* kids name keys: two keys of one name would make the choice
		 * the token's, and a key without a kid is only for a lone key */
		for (uint32_t k = *first; k < before; k++) {
			const struct gw_str *x = &f->conf->jwks.v[k].kid, *y = &f->conf->jwks.v[before].kid;

			if (x->len == y->len && memcmp(x->p, y->p, x->len) == 0) {
				const struct ynode *kid = member(keys->kids[i], "kid");

				gwc_err(&jf, kid ? kid : keys->kids[i], "kid %s is used by an "
					"earlier key", kid ? gwc_show(kid, s, sizeof s) : "(none)");
				break;
			}
		}
	}
	*count = f->conf->jwks.n - *first;
fail:
	json_decref(js);
	gwc_arena_free(&jf.tree);
	free(buf);
	return rc < 0 ? -1 : 0;
}

/* A sequence of strings <n> for <what> into conf.strlist (<*first>,
 * <*count>); an empty string is refused.  0, or -1 OOM. */
static int strs(struct gwc_file *f, const struct ynode *n, const char *what, uint32_t *first,
		uint32_t *count)
{
	char w[96];

	*first = f->conf->strlist.n;
	*count = 0;
	if (n->type == YN_SCALAR && !gwc_is_null(n)) {
		struct gw_str *e = GW_VEC_PUSH(f->conf->strlist);

		if (!e || gwc_copy(f, n, e))
			return -1;
		f->conf->strlist.n++;
		*count = 1;
		return 0;
	}
	if (gwc_want_seq(f, n, what))
		return 0;
	for (uint32_t i = 0; i < n->n; i++) {
		struct gw_str *e;

		snprintf(w, sizeof w, "an item of %s", what);
		if (gwc_want_str(f, n->kids[i], w))
			continue;
		e = GW_VEC_PUSH(f->conf->strlist);
		if (!e || gwc_copy(f, n->kids[i], e))
			return -1;
		f->conf->strlist.n++;
	}
	*count = f->conf->strlist.n - *first;
	return 0;
}

/* Whether <url> is plain http to this machine's loopback (a local key
 * service, a test): "http://127.x.y.z", "http://[::1]" or "http://localhost",
 * then ':', '/' or the end. */
static int loopback_http(const char *url)
{
	static const char *const hosts[] = { "[::1]", "localhost" };
	const char *h;

	if (strncmp(url, "http://", 7) != 0)
		return 0;
	h = url + 7;
	if (strncmp(h, "127.", 4) == 0) {
		h += 4;
		while ((*h >= '0' && *h <= '9') || *h == '.')
			h++;
		return *h == ':' || *h == '/' || *h == '\0';
	}
	for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
		size_t n = strlen(hosts[i]);

		if (strncmp(h, hosts[i], n) == 0)
			return h[n] == ':' || h[n] == '/' || h[n] == '\0';
	}
	return 0;
}

/* Whole seconds of duration <key> of <map> into <*out> (kept when absent),
 * at least <min_s>.  0, or -1 when bad (reported). */
static int seconds(struct gwc_file *f, const struct ynode *map, const char *key, uint32_t min_s,
		   uint32_t *out)
{
	uint32_t ms;
	int r = gwc_get_dur_ms(f, map, key, min_s * 1000u, &ms);

	if (r == 1)
		*out = ms / 1000u;
	return r < 0 ? -1 : 0;
}

/* The required keys of jwt policy <n>: 'issuer', 'audiences' and
 * 'algorithms', into <j>.  0 (refusals reported), or -1 OOM. */
static int jwt_required(struct gwc_file *f, const struct ynode *n, struct gw_jwt *j)
{
	const struct ynode *v;
	char s[80];

	v = gwc_get(n, "issuer");
	if (!v)
		gwc_err(f, n, "missing required key 'issuer' in a jwt 'auth'");
	else if (gwc_want_str(f, v, "'issuer'") == 0 && gwc_copy(f, v, &j->issuer))
		return -1;
	v = gwc_get(n, "audiences");
	if (!v)
		gwc_err(f, n, "missing required key 'audiences' in a jwt 'auth'");
	else if (strs(f, v, "'audiences'", &j->aud_first, &j->aud_count))
		return -1;
	else if (!j->aud_count)
		gwc_err(f, v, "'audiences' lists no audience");
	v = gwc_get(n, "algorithms");
	if (!v) {
		gwc_err(f, n, "missing required key 'algorithms' in a jwt 'auth' (RS256, RS384, "
			"RS512, PS256, PS384, PS512, ES256, ES384, EdDSA, HS256, HS384, HS512)");
		return 0;
	}
	if (gwc_want_seq(f, v, "'algorithms'"))
		return 0;
	for (uint32_t i = 0; i < v->n; i++) {
		const struct ynode *x = v->kids[i];
		unsigned bit = x->type == YN_SCALAR ? gw_jwa_bit(x->s, x->len) : 0;

		if (!bit)
			gwc_err(f, x, "unknown algorithm %s (RS256, RS384, RS512, PS256, PS384, "
				"PS512, ES256, ES384, EdDSA, HS256, HS384, HS512; never none)",
				gwc_show(x, s, sizeof s));
		j->algs |= (uint16_t)bit;
	}
	if (!v->n)
		gwc_err(f, v, "'algorithms' lists no algorithm");
	return 0;
}

/* 'required_claims', 'scopes' and 'scopes_match' of jwt policy <n> into
 * <j>.  0 (refusals reported), or -1 OOM. */
static int jwt_scopes(struct gwc_file *f, const struct ynode *n, struct gw_jwt *j)
{
	static const char *const matches[] = { "all", "any", NULL };
	const struct ynode *v;
	char s[80];
	int t;

	v = gwc_get(n, "required_claims");
	if (v && strs(f, v, "'required_claims'", &j->has_first, &j->has_count))
		return -1;
	v = gwc_get(n, "scopes");
	if (v && strs(f, v, "'scopes'", &j->scope_first, &j->scope_count))
		return -1;
	/* RFC 6749 3.3 scope-token: printable, no space, quote or backslash
	 * (they are quoted in WWW-Authenticate) */
	for (uint32_t i = 0; i < j->scope_count; i++) {
		const struct gw_str *x = &f->conf->strlist.v[j->scope_first + i];

		for (uint32_t k = 0; k < x->len; k++)
			if ((unsigned char)x->p[k] <= 0x20 || x->p[k] == '"' || x->p[k] == '\\' ||
			    (unsigned char)x->p[k] >= 0x7f) {
				gwc_err(f, v->type == YN_SEQ ? v->kids[i] : v, "bad scope %s (printable "
					"characters but space, quote and backslash)",
					gwc_show_bytes(x->p, x->len, s, sizeof s));
				break;
			}
	}
	v = gwc_get(n, "scopes_match");
	if (v && gwc_enum(f, v, "'scopes_match'", matches, &t) == 0)
		j->scope_any = (uint8_t)t;
	return 0;
}

/* Map <key> of jwt policy <n> (absent: none), claim name to string, into
 * conf.headers (<*first>, <*count>).  With <as_header>, each value names a
 * request header field (never Authorization).  0 (refusals reported), or -1
 * OOM. */
static int claim_map(struct gwc_file *f, const struct ynode *n, const char *key, int as_header,
		     uint32_t *first, uint32_t *count)
{
	const struct ynode *v = gwc_get(n, key);
	struct gw_conf *c = f->conf;
	char what[64], item[80];

	snprintf(what, sizeof what, "'%s'", key);
	snprintf(item, sizeof item, "a value of '%s'", key);
	*first = c->headers.n;
	if (v && gwc_want_map(f, v, what) == 0) {
		for (uint32_t i = 0; i < v->n; i++) {
			const struct ynode *k = v->kids[2 * i], *x = v->kids[2 * i + 1];
			struct gw_header *h;

			if (gwc_want_str(f, x, item) ||
			    (as_header && gwc_check_header_name(f, x, item, 1)))
				continue;
			if (as_header && x->len == 13 && strncasecmp(x->s, "authorization", 13) == 0) {
				gwc_err(f, x, "a claim cannot be sent as Authorization");
				continue;
			}
			h = GW_VEC_PUSH(c->headers);
			if (!h || gwc_copy(f, k, &h->name) || gwc_copy(f, x, &h->value))
				return -1;
			c->headers.n++;
		}
	}
	*count = c->headers.n - *first;
	return 0;
}

/* 'token_cookie', 'forward_authorization' and 'realm' of jwt policy <n>
 * into <j>.  0 (refusals reported), or -1 OOM. */
static int jwt_request(struct gwc_file *f, const struct ynode *n, struct gw_jwt *j)
{
	const struct ynode *v;

	v = gwc_get(n, "token_cookie");
	if (v && gwc_want_str(f, v, "'token_cookie'") == 0 && gwc_copy(f, v, &j->cookie))
		return -1;
	v = gwc_get(n, "forward_authorization");
	if (v)
		gwc_bool(f, v, "'forward_authorization'", &j->forward_auth);
	v = gwc_get(n, "realm");
	if (v && gwc_want_str(f, v, "'realm'") == 0) {
		for (uint32_t i = 0; i < v->len; i++)
			if ((unsigned char)v->s[i] < 0x20 || v->s[i] == '"' || v->s[i] == '\\' ||
			    v->s[i] == 0x7f) {
				gwc_err(f, v, "'realm' may not hold quotes, backslashes or control "
					"characters");
				break;
			}
		if (gwc_copy(f, v, &j->realm))
			return -1;
	}
	return 0;
}

/* The keys of jwt policy <n>: 'jwks_url' and its refresh times, 'jwks_file'
 * read and checked, into <j>.  0 (refusals reported), or -1 OOM. */
static int jwt_keys(struct gwc_file *f, const struct ynode *n, struct gw_jwt *j)
{
	const struct ynode *v, *file;

	v = gwc_get(n, "jwks_url");
	if (v && gwc_want_str(f, v, "'jwks_url'") == 0) {
		if (!(v->len > 8 && strncmp(v->s, "https://", 8) == 0) && !loopback_http(v->s))
			gwc_err(f, v, "'jwks_url' must be an https:// URL (http:// only to "
				"127.0.0.1, [::1] or localhost): whoever can change the key set "
				"in transit can mint tokens");
		else if (gwc_copy(f, v, &j->jwks_url))
			return -1;
	}
	if (seconds(f, n, "jwks_min_refresh", 1, &j->refresh_min_s) < 0 ||
	    seconds(f, n, "jwks_max_refresh", 1, &j->refresh_max_s) < 0 ||
	    seconds(f, n, "jwks_refetch", 1, &j->refetch_s) < 0)
		; /* reported */
	else if (j->refresh_min_s > j->refresh_max_s)
		gwc_err(f, n, "'jwks_min_refresh' is longer than 'jwks_max_refresh'");
	file = gwc_get(n, "jwks_file");
	if (file && gwc_want_str(f, file, "'jwks_file'") == 0 && j->algs &&
	    jwks_file(f, file, j->algs, &j->key_first, &j->key_count))
		return -1;
	if (!file && !gwc_get(n, "jwks_url"))
		gwc_err(f, n, "a jwt 'auth' needs 'jwks_file' or 'jwks_url' (or both)");
	if ((j->algs & GW_JWA_HMAC) && !file)
		gwc_err(f, gwc_get(n, "algorithms"), "HS algorithms need an oct key in "
			"'jwks_file' (a JWKS URL publishes public keys only)");
	return 0;
}

int gwc_parse_jwt(struct gwc_file *f, const struct ynode *n, struct gw_auth *a, uint32_t auth)
{
	static const char *const keys[] = {
		"type", "issuer", "audiences", "algorithms", "leeway", "claims", "required_claims",
		"scopes", "scopes_match", "token_cookie", "claim_headers", "forward_authorization",
		"realm", "jwks_file", "jwks_url", "jwks_min_refresh", "jwks_max_refresh",
		"jwks_refetch", NULL };
	struct gw_jwt j = { .auth = auth, .leeway_s = 30, .refresh_min_s = 60,
			    .refresh_max_s = 3600, .refetch_s = 30 };
	struct gw_conf *c = f->conf;
	struct gw_jwt *e;

	gwc_check_keys(f, n, keys, "a jwt 'auth'");
	a->header = (struct gw_str){ "", 0 };
	a->user_header = (struct gw_str){ "", 0 };
	if (jwt_required(f, n, &j))
		return -1;
	if (seconds(f, n, "leeway", 0, &j.leeway_s) == 0 && j.leeway_s > 600)
		gwc_err(f, gwc_get(n, "leeway"), "'leeway' must be at most 10m");
	if (jwt_scopes(f, n, &j) ||
	    claim_map(f, n, "claims", 0, &j.eq_first, &j.eq_count) ||
	    claim_map(f, n, "claim_headers", 1, &j.hdr_first, &j.hdr_count) ||
	    jwt_request(f, n, &j) || jwt_keys(f, n, &j))
		return -1;
	if (!j.realm.p && gwc_copy_bytes(f->st, "gw", 2, &j.realm))
		return -1;
	if (!j.issuer.p)
		j.issuer = (struct gw_str){ "", 0 };
	if (!j.cookie.p)
		j.cookie = (struct gw_str){ "", 0 };
	if (!j.jwks_url.p)
		j.jwks_url = (struct gw_str){ "", 0 };
	a->jwt = c->jwts.n;
	e = GW_VEC_PUSH(c->jwts);
	if (!e)
		return -1;
	*e = j;
	c->jwts.n++;
	return 0;
}
