/* libFuzzer harness for the Cookie header parsing gwd does today: the token
 * lookup of the session policy in gwd/session.c (its static find_token(),
 * reached by including the module, as unit tests may).
 *
 * The parser under test is called from one function, cookie_value() below:
 * when cookie parsing moves to a module of its own, re-point that function
 * (and the #include) and the rest stays.
 *
 * Input: the first byte picks the cookie name (low 2 bits) and whether the
 * rest is also tried as an Authorization value (bit 2); the rest, cut at its
 * first NUL as libmicrohttpd hands header values over, is the Cookie value,
 * in a malloc of exactly its length + 1.
 *
 *   - the cookie found (or not) must be the one a reference finds that splits
 *     the header at ';' first, then trims and unquotes each "name=value";
 *   - a Bearer token must lie inside the Authorization value, trimmed;
 *   - request_digest() (token shape check and SHA-256) runs on both.
 *
 * Seeds: tests/fuzz/corpus/fuzz_cookie/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/session.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

/* The cookie parser under test: the value of cookie <name> (<nlen> bytes) in
 * the Cookie header value <hdr> (NUL-terminated).  Returns 1 and sets <*v>
 * and <*vlen> (inside <hdr>), or 0 when there is none. */
static int cookie_value(const char *hdr, const char *name, size_t nlen, const char **v,
			size_t *vlen)
{
	return find_token(NULL, hdr, name, nlen, v, vlen);
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
	uint8_t digest[GW_DIGEST_LEN];
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
	if (got != want || (got && (v != rv || vlen != rvlen)))
		abort();
	sink += (unsigned)request_digest(NULL, NULL, hdr, digest);

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
