/* libFuzzer harness for gwd's one Cookie parser (gwd/cookie.c): the lookup
 * the session policy authenticates with and the stripper that keeps the
 * session cookie from upstreams, and the session policy's token lookup in
 * gwd/session.c (its static find_token(), reached by including the module,
 * as unit tests may).
 *
 * Input: the first byte picks the cookie name (low 2 bits) and whether the
 * rest is also tried as an Authorization value (bit 2); the rest, cut at its
 * first NUL as libmicrohttpd hands header values over, is the Cookie value,
 * in a malloc of exactly its length + 1.
 *
 *   - the cookie found (or not) must be the one a reference finds that splits
 *     the header at ';' first, then trims and unquotes each "name=value";
 *   - a Bearer token must lie inside the Authorization value, trimmed;
 *   - request_digest() (token shape check and SHA-256) runs on both;
 *   - the header stripped of the cookie holds no pair of that name, and every
 *     other pair, in order.
 *
 * Seeds: tests/fuzz/corpus/fuzz_cookie/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/cookie.h"
#include "gwd/session.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

/* The cookie parser under test: the value of cookie <name> (<nlen> bytes) in
 * the Cookie header value <hdr> (NUL-terminated).  Returns 1 and sets <*v>
 * and <*vlen> (inside <hdr>), or 0 when there is none. */
static int cookie_value(const char *hdr, const char *name, size_t nlen, const char **v,
			size_t *vlen)
{
	return gwd_cookie_find(hdr, strlen(hdr), name, nlen, v, vlen);
}

/* gwd_cookie_strip on <hdr>: no pair named <name> is left, and the other
 * pairs are those of <hdr>, in order, with the same names and values. */
static void check_strip(const char *hdr, size_t len, const char *name, size_t nlen)
{
	char *out = malloc(2 * len + 1);
	size_t n, pi = 0, po = 0;
	struct gwd_cookie ci, co;

	if (!out)
		abort();
	n = gwd_cookie_strip(hdr, len, name, nlen, out);
	if (n > 2 * len || out[n] != '\0')
		abort();
	while (gwd_cookie_next(hdr, len, &pi, &ci)) {
		if (ci.name_len == nlen && memcmp(ci.name, name, nlen) == 0)
			continue;
		if (!gwd_cookie_next(out, n, &po, &co) || co.name_len != ci.name_len ||
		    memcmp(co.name, ci.name, ci.name_len) != 0 || !co.value != !ci.value ||
		    (ci.value && (co.value_len != ci.value_len ||
				  memcmp(co.value, ci.value, ci.value_len) != 0)))
			abort();
	}
	if (gwd_cookie_next(out, n, &po, &co))
		abort();
	free(out);
}

/* The reference: split at ';', then trim, find '=', compare, unquote. */
static int ref_cookie(const char *hdr, const char *name, size_t nlen, const char **v,
		      size_t *vlen)
{
	size_t len = strlen(hdr), a = 0;

	while (a < len) {
		const char *semi = memchr(hdr + a, ';', len - a);
		size_t b = semi ? (size_t)(semi - hdr) : len;
		const char *eq = memchr(hdr + a, '=', b - a);

		if (eq) {
			size_t ks = a, ke = (size_t)(eq - hdr), vs = ke + 1, ve = b;

			while (ks < ke && is_blank(hdr[ks]))
				ks++;
			while (ke > ks && is_blank(hdr[ke - 1]))
				ke--;
			while (vs < ve && is_blank(hdr[vs]))
				vs++;
			while (ve > vs && is_blank(hdr[ve - 1]))
				ve--;
			if (ve - vs >= 2 && hdr[vs] == '"' && hdr[ve - 1] == '"') {
				vs++;
				ve--;
			}
			if (ke - ks == nlen && memcmp(hdr + ks, name, nlen) == 0) {
				*v = hdr + vs;
				*vlen = ve - vs;
				return 1;
			}
		}
		a = b + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { GW_DEFAULT_SESSION_COOKIE, "sid", "__Host-s", "a" };
	const char *name, *v = NULL, *rv = NULL;
	size_t len, nlen, vlen = 0, rvlen = 0;
	uint8_t digest[GWD_STORE_DIGEST_LEN];
	char *hdr;
	int got, want;

	if (size == 0)
		return 0;
	name = names[data[0] & 3];
	nlen = strlen(name);
	len = strnlen((const char *)data + 1, size - 1);
	hdr = malloc(len + 1);
	if (!hdr)
		abort();
	memcpy(hdr, data + 1, len);
	hdr[len] = '\0';

	got = cookie_value(hdr, name, nlen, &v, &vlen);
	want = ref_cookie(hdr, name, nlen, &rv, &rvlen);
	/* an empty value has no place to agree on: only its length counts */
	if (got != want || (got && (vlen != rvlen || (vlen && v != rv))))
		abort();
	sink += (unsigned)request_digest(NULL, NULL, hdr, digest);
	check_strip(hdr, len, name, nlen);

	if (data[0] & 4) {
		const char *p = hdr;

		while (is_blank(*p))
			p++;
		got = find_token(hdr, NULL, name, nlen, &v, &vlen);
		if (got != (strncasecmp(p, "Bearer", 6) == 0 && is_blank(p[6])))
			abort();
		if (got && (v < hdr || v + vlen > hdr + len ||
			    (vlen && (is_blank(v[0]) || is_blank(v[vlen - 1])))))
			abort();
		sink += (unsigned)request_digest(NULL, hdr, hdr, digest);
	}
	free(hdr);
	return 0;
}
