/* JWKS URLs: key sets fetched by gwd from an identity provider, kept fresh by
 * one background thread, read by the jwt policy (gwd/jwt.h) without waiting.
 *
 *   jwt policy --gwd_jwks_acquire(url, bounds)--> source (shared by URL across
 *                                                  generations, refcounted)
 *   source
 *    |- set         the last good key set (immutable, refcounted): requests
 *    |              take a reference under the source's lock, never wait on I/O
 *    |- next_ms     when to fetch again: the response's max-age bounded to
 *    |              [refresh_min, refresh_max]; after a failure, refresh_min
 *    |- want        an unknown kid asked for a refetch; honoured at most once
 *    |              per refetch interval
 *    '- ok/err      fetch counters, the last error (for /health, /metrics)
 *
 * The thread (libcurl easy handles, 5 s timeout, 256 KiB cap, http and https)
 * starts with gwd_jwks_activate(), when a generation is published: `gwd
 * --check` never fetches.  While the provider is down the last good set keeps
 * serving; a source that never fetched has no set, and its routes answer 503.
 */
#ifndef GWD_JWKS_H
#define GWD_JWKS_H

#include <stddef.h>
#include <stdint.h>
#include "lib/jwk.h"

/* One key of a set: its kid (NUL-terminated, maybe empty) and the key. */
struct gwd_jwks_key {
	char *kid;
	struct gw_jwk_key key;
};

/* An immutable key set. */
struct gwd_jwks_set {
	uint32_t n;
	struct gwd_jwks_key *keys;
	_Atomic uint32_t refs;
};

struct gwd_jwks; /* opaque: a source */

/* The source of <url> with the given bounds (seconds), shared with an earlier
 * acquire of the same URL and bounds.  Returns it with a reference, or NULL
 * when memory runs out.  Release with gwd_jwks_release(). */
struct gwd_jwks *gwd_jwks_acquire(const char *url, uint32_t refresh_min_s,
				  uint32_t refresh_max_s, uint32_t refetch_s);
void gwd_jwks_release(struct gwd_jwks *s);

/* The current set of <s> with a reference (drop it with gwd_jwks_set_put), or
 * NULL when no fetch has succeeded yet. */
struct gwd_jwks_set *gwd_jwks_get(struct gwd_jwks *s);
void gwd_jwks_set_put(struct gwd_jwks_set *set);

/* A number that changes whenever the key set of <s> does (not when a refresh
 * brings the same document): the jwt policy forgets its verified tokens then,
 * so that a key removed from the set stops admitting tokens at once. */
uint64_t gwd_jwks_serial(struct gwd_jwks *s);

/* Ask for a refetch of <s> (a token named a kid the set lacks).  Returns at
 * once; the thread fetches unless it did within the refetch interval. */
void gwd_jwks_want(struct gwd_jwks *s);

/* Parse JWKS document <json> (<len> bytes) into a new set (reference 1): every
 * key of a supported type (RSA, EC P-256/P-384, OKP Ed25519) that imports;
 * oct keys and keys that do not parse are skipped (a URL publishes public
 * keys).  Returns 0, or -1 with a reason in <why> (not JSON, duplicate
 * members, no "keys" array, no usable key, duplicate kids). */
int gwd_jwks_parse(const char *json, size_t len, struct gwd_jwks_set **out, char *why,
		   size_t cap);

/* Start the fetch thread (once), the "jwks" health check and the metrics
 * family.  Called when a generation is published.  0, or -1. */
int gwd_jwks_activate(void);

/* Stop the thread (at exit). */
void gwd_jwks_shutdown(void);

#endif
