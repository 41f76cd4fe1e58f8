/* Password hashing: PBKDF2-HMAC-SHA256 through GnuTLS (gnutls_pbkdf2).
 *
 * A hash is stored as a self-describing string in the PHC string format, so the
 * algorithm and cost travel with each hash and the default cost can rise later
 * without invalidating old hashes (they are rehashed at the next login):
 *
 *   $pbkdf2-sha256$i=ITERATIONS$SALT$HASH
 *
 *   ITERATIONS  decimal, GWD_KDF_MIN_ITER .. GWD_KDF_MAX_ITER
 *   SALT        16 random bytes (GnuTLS' nonce generator), base64 without padding
 *   HASH        32 bytes of derived key, base64 without padding
 *
 * The default iteration count, GWD_KDF_ITER, costs tens of milliseconds on the
 * reference machine (2 cores; the figure is in docs/sessions.md and measured by
 * tests/gwd/kdf.c), which is the point: a stolen database is slow to attack.
 * Because a check is that slow, the daemon runs logins off its HTTP threads.
 */
#ifndef GWD_KDF_H
#define GWD_KDF_H

#include <stddef.h>

#define GWD_KDF_ITER 200000u      /* default cost of new hashes: ~31 ms here */
#define GWD_KDF_MIN_ITER 1000u    /* weaker stored hashes are refused */
#define GWD_KDF_MAX_ITER 10000000u/* bound on a (possibly tampered) stored cost */
#define GWD_KDF_SALT_LEN 16
#define GWD_KDF_HASH_LEN 32
#define GWD_KDF_STR_MAX 128       /* longest string gwd_kdf_hash writes, NUL included */

/* Hash password <pw> (<len> bytes, any bytes) with <iter> iterations (0: the
 * default) and a fresh random salt into the NUL-terminated string <out> (<cap>
 * bytes, GWD_KDF_STR_MAX is enough).  Returns 0, or -1 when <cap> is too small,
 * <iter> is out of bounds or GnuTLS fails. */
int gwd_kdf_hash(const char *pw, size_t len, unsigned iter, char *out, size_t cap);

/* Check password <pw> (<len> bytes) against stored string <stored>.  The digest
 * comparison is constant-time.  Returns 1 on a match, 0 on a mismatch, -1 when
 * <stored> is malformed (a cost out of bounds included) or GnuTLS fails. */
int gwd_kdf_verify(const char *stored, const char *pw, size_t len);

/* Burn the time of one gwd_kdf_verify() at the default cost for a user that does
 * not exist, so that a 401 takes similar time whether the user exists or not.
 * Always "fails"; returns nothing.  Thread-safe. */
void gwd_kdf_dummy_verify(const char *pw, size_t len);

/* 1 when <stored> was made with fewer iterations than the default (or another
 * algorithm) and should be rehashed after a successful login; 0 otherwise. */
int gwd_kdf_needs_rehash(const char *stored);

/* Derive <outlen> bytes of PBKDF2-HMAC-SHA256(<pw>, <salt>, <iter>) into <out>:
 * the raw primitive, exposed for the published test vectors.  Returns 0 or -1. */
int gwd_kdf_pbkdf2(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
                  unsigned iter, void *out, size_t outlen);

#endif
