/* Password hashing with PBKDF2-HMAC-SHA256 (gwd/kdf.h): the stored string
 * carries its algorithm, cost and salt, so verification reads everything it
 * needs from the string and the default cost can rise between releases. */
#include "gwd/kdf.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KDF_PREFIX "$pbkdf2-sha256$i="

static const char b64std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode <n> bytes of <in> as standard base64 without padding (the PHC string
 * format's "B64") into <out> (<cap> bytes, NUL-terminated).  Returns the length
 * or -1 when <cap> is too small. */
static int b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			if (o + 1 >= cap)
				return -1;
			bits -= 6;
			out[o++] = b64std[acc >> bits & 63];
		}
	}
	if (bits > 0) {
		if (o + 1 >= cap)
			return -1;
		out[o++] = b64std[acc << (6 - bits) & 63];
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* Decode exactly <want> bytes from the <len> base64 characters at <s> (no
 * padding) into <out>.  Returns 0, or -1 when a character is outside the
 * alphabet, the length does not encode exactly <want> bytes, or the unused low
 * bits are not zero (one canonical string per value). */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t want)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	if (len != (want * 8 + 5) / 6)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *p = s[i] ? strchr(b64std, s[i]) : NULL;
		if (!p)
			return -1;
		acc = acc << 6 | (uint32_t)(p - b64std);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= want)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (o != want || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

/* See kdf.h. */
int gwd_kdf_pbkdf2(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                  unsigned iter, void *out, size_t outlen)
{
	/* gnutls_datum_t wants non-const pointers; GnuTLS only reads them.  A union
	 * drops the qualifier without a cast that would silence a warning. */
	union { const void *c; void *m; } k = { .c = pw }, sl = { .c = salt };
	gnutls_datum_t key = { .data = k.m, .size = (unsigned)pwlen };
	gnutls_datum_t sd = { .data = sl.m, .size = (unsigned)saltlen };

	if (pwlen > 1u << 20 || saltlen > 1u << 20 || iter == 0)
		return -1;
	return gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &sd, iter, out, outlen) < 0 ? -1 : 0;
}

/* See kdf.h. */
int gwd_kdf_hash(const char *pw, size_t len, unsigned iter, char *out, size_t cap)
{
	uint8_t salt[GWD_KDF_SALT_LEN], dk[GWD_KDF_HASH_LEN];
	char s64[32], h64[48];
	int rc = -1, n;

	if (iter == 0)
		iter = GWD_KDF_ITER;
	if (iter < GWD_KDF_MIN_ITER || iter > GWD_KDF_MAX_ITER)
		goto fail;
	/* A salt only has to be unique, not secret: the nonce generator is enough. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof salt) < 0)
		goto fail;
	if (gwd_kdf_pbkdf2(pw, len, salt, sizeof salt, iter, dk, sizeof dk) < 0)
		goto fail;
	if (b64_encode(salt, sizeof salt, s64, sizeof s64) < 0 ||
	    b64_encode(dk, sizeof dk, h64, sizeof h64) < 0)
		goto fail;
	n = snprintf(out, cap, KDF_PREFIX "%u$%s$%s", iter, s64, h64);
	if (n < 0 || (size_t)n >= cap)
		goto fail;
	rc = 0;
fail:
	if (rc < 0 && cap)
		out[0] = '\0';
	explicit_bzero(dk, sizeof dk);
	return rc;
}

/* Split stored string <s> into its cost, salt and hash.  Returns 0, or -1 when
 * it is not a "$pbkdf2-sha256$i=N$SALT$HASH" string with N in bounds, a 16-byte
 * salt and a 32-byte hash (the database is not trusted to hold sane values). */
static int parse(const char *s, unsigned *iter, uint8_t salt[GWD_KDF_SALT_LEN],
                 uint8_t hash[GWD_KDF_HASH_LEN])
{
	const char *p, *d1, *d2;
	unsigned long v = 0;

	if (strncmp(s, KDF_PREFIX, sizeof KDF_PREFIX - 1) != 0)
		return -1;
	p = s + sizeof KDF_PREFIX - 1;
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > GWD_KDF_MAX_ITER)
			return -1;
	}
	if (v < GWD_KDF_MIN_ITER || *p != '$')
		return -1;
	d1 = p + 1;
	d2 = strchr(d1, '$');
	if (!d2)
		return -1;
	if (b64_decode(d1, (size_t)(d2 - d1), salt, GWD_KDF_SALT_LEN) < 0 ||
	    b64_decode(d2 + 1, strlen(d2 + 1), hash, GWD_KDF_HASH_LEN) < 0)
		return -1;
	*iter = (unsigned)v;
	return 0;
}

/* See kdf.h.  gnutls_memcmp compares in constant time, so the time taken does
 * not tell how many leading bytes of a guess were right. */
int gwd_kdf_verify(const char *stored, const char *pw, size_t len)
{
	uint8_t salt[GWD_KDF_SALT_LEN], want[GWD_KDF_HASH_LEN], got[GWD_KDF_HASH_LEN];
	unsigned iter;
	int rc = -1;

	if (!stored || parse(stored, &iter, salt, want) < 0)
		goto fail;
	if (gwd_kdf_pbkdf2(pw, len, salt, sizeof salt, iter, got, sizeof got) < 0)
		goto fail;
	rc = gnutls_memcmp(got, want, sizeof got) == 0 ? 1 : 0;
fail:
	explicit_bzero(got, sizeof got);
	return rc;
}

static char dummy_hash[GWD_KDF_STR_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* Make the dummy hash once: a random password at the default cost, so that
 * nobody can log in with it and verifying against it costs what verifying a
 * real default-cost hash costs.  On failure the string stays empty and the
 * dummy falls back to deriving directly (same cost). */
static void dummy_init(void)
{
	char pw[16];

	if (gnutls_rnd(GNUTLS_RND_NONCE, pw, sizeof pw) < 0 ||
	    gwd_kdf_hash(pw, sizeof pw, GWD_KDF_ITER, dummy_hash,
	                sizeof dummy_hash) < 0)
		dummy_hash[0] = '\0';
	explicit_bzero(pw, sizeof pw);
}

/* See kdf.h.  The result is thrown away: only the time matters. */
void gwd_kdf_dummy_verify(const char *pw, size_t len)
{
	pthread_once(&dummy_once, dummy_init);
	if (dummy_hash[0]) {
		(void)gwd_kdf_verify(dummy_hash, pw, len);
	} else {
		uint8_t out[GWD_KDF_HASH_LEN];
		(void)gwd_kdf_pbkdf2(pw, len, "gw-dummy-salt-00", 16, GWD_KDF_ITER, out,
		                    sizeof out);
	}
}

/* See kdf.h. */
int gwd_kdf_needs_rehash(const char *stored)
{
	uint8_t salt[GWD_KDF_SALT_LEN], hash[GWD_KDF_HASH_LEN];
	unsigned iter;

	if (!stored || parse(stored, &iter, salt, hash) < 0)
		return 1;
	return iter < GWD_KDF_ITER;
}
