/* Session tokens and API keys: 256 random bits from GnuTLS' key-grade
 * generator (gnutls_rnd(GNUTLS_RND_KEY)), written base64url without padding:
 * 43 characters of [A-Za-z0-9_-].
 *
 * Only the SHA-256 digest of a token is stored (SQLite) or cached (memory), so
 * a copy of the database or a core dump of the cache yields no live token.  A
 * token is never logged; nothing in gwd/ prints one except `gwd keys add`,
 * which prints the new key once, to its owner.
 */
#ifndef GWD_TOKEN_H
#define GWD_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define GWD_TOKEN_BYTES 32  /* random bytes in a token */
#define GWD_TOKEN_LEN 43    /* its base64url length, without NUL */

/* Write a new token into <out> (GWD_TOKEN_LEN + 1 bytes, NUL-terminated) and,
 * when <digest> is not NULL, its SHA-256 into <digest> (32 bytes).  Returns 0,
 * or -1 when the generator fails (then <out> holds an empty string). */
int gwd_token_new(char out[GWD_TOKEN_LEN + 1], uint8_t *digest);

/* 1 when <s> (<len> bytes) has the shape of a token (exactly GWD_TOKEN_LEN
 * base64url characters), 0 otherwise.  Lets a policy refuse garbage without a
 * digest or a database read. */
int gwd_token_shape_ok(const char *s, size_t len);

/* SHA-256 of <s> (<len> bytes) into <digest> (32 bytes).  Returns 0 or -1. */
int gwd_token_digest(const char *s, size_t len, uint8_t digest[32]);

/* Encode <n> bytes of <in> as base64url without padding into <out> (<cap>
 * bytes, NUL-terminated).  Returns the length written, or -1 when <cap> is too
 * small. */
int gwd_token_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap);

#endif
