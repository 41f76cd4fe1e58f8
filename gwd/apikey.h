/* The `api_key` auth policy: machine clients present a key made by
 * `gwd keys add NAME` in a header the route file names (X-API-Key by default).
 * The key's SHA-256 is looked up in a bounded cache, then in the store; the
 * policy yields the key's NAME, handed on like a session's user name.
 *
 * Keys do not expire; `gwd keys del NAME` bumps the store's revision and a
 * running daemon empties this cache at its next store poll (about a second).
 */
#ifndef GWD_APIKEY_H
#define GWD_APIKEY_H

#include <stdint.h>

#include "gwd/session.h"
#include "gwd/store.h"

struct gwd_apikeys; /* opaque */

/* Create the key checker over <st> (borrowed, must outlive it) caching at most
 * <cache_entries> keys (0: 4096).  Returns 0 and sets <*out>, or -1 when memory
 * runs out.  Free with gwd_apikey_free(). */
int gwd_apikey_new(struct gwd_apikeys **out, struct gwd_store *st,
                   uint32_t cache_entries);

/* Free <ak>; NULL ignored. */
void gwd_apikey_free(struct gwd_apikeys *ak);

/* Check the key header value <value> (NUL-terminated, NULL when the header is
 * absent; surrounding blanks ignored).  Returns 1 and fills <*who> (kind
 * GWD_SESSION_PRINCIPAL_KEY, name = the key's name, a copy) when the key is known; 0
 * when absent, malformed or unknown -> 401; -1 when the store is unavailable
 * -> 503.  A cache hit touches no SQLite and allocates nothing. */
int gwd_apikey_check(struct gwd_apikeys *ak, const char *value,
                    struct gwd_session_principal *who);

/* Make a new key named <name>: stores its digest and writes the key into <key>
 * (printed once by `gwd keys add`; never stored).  Returns 1, 0 when the name
 * is taken or invalid, -1 on a store or generator error. */
int gwd_apikey_create(struct gwd_store *st, const char *name,
                     char key[GWD_TOKEN_LEN + 1]);

#endif
