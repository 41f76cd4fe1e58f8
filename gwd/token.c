/* Session tokens and API keys (gwd/token.h): key-grade random bytes, base64url,
 * and the SHA-256 digest that is all the store and the caches ever keep.
 * Nothing here logs or keeps a token. */
#include "gwd/token.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* See token.h.  Groups of 3 bytes become 4 characters; a tail of 1 or 2 bytes
 * becomes 2 or 3 characters (no '=' padding: RFC 4648 section 5 allows leaving
 * it out where the length is known, and it would need escaping in cookies). */
int gwd_token_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	size_t i, o = 0;

	if (cap < need + 1)
		return -1;
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
	return (int)o;
}

/* See token.h.  GNUTLS_RND_KEY is GnuTLS' generator for long-term secrets; the
 * raw bytes are wiped before returning so they do not linger on the stack. */
int gwd_token_new(char out[GWD_TOKEN_LEN + 1], uint8_t *digest)
{
	uint8_t raw[GWD_TOKEN_BYTES];
	int rc = -1;

	out[0] = '\0';
	if (gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof raw) < 0)
		goto fail;
	if (gwd_token_b64url_encode(raw, sizeof raw, out, GWD_TOKEN_LEN + 1) != GWD_TOKEN_LEN)
		goto fail;
	if (digest && gwd_token_digest(out, GWD_TOKEN_LEN, digest) < 0)
		goto fail;
	rc = 0;
fail:
	if (rc < 0)
		explicit_bzero(out, GWD_TOKEN_LEN + 1);
	explicit_bzero(raw, sizeof raw);
	return rc;
}

/* See token.h.  A byte-class test per character: no table lookups that depend
 * on the secret beyond what the digest does anyway. */
int gwd_token_shape_ok(const char *s, size_t len)
{
	if (!s || len != GWD_TOKEN_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* See token.h. */
int gwd_token_digest(const char *s, size_t len, uint8_t digest[32])
{
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, s, len, digest) < 0 ? -1 : 0;
}
