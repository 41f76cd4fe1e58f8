/* The Redis store of users, API keys and sessions: what `gwd --store
 * redis://...` puts behind the store interface of gwd/store.h, so that
 * several gwd instances share one set of accounts and sessions
 * (docs/cluster.md).  gwd/store.c dispatches to it; nothing else calls it.
 *
 * Keys (prefix gw:), every write one Lua script (atomic, one round trip):
 *
 *   gw:uid              counter: the next user id
 *   gw:u:NAME           hash  id, pw (PBKDF2 string, gwd/kdf.h), ct (unix s)
 *   gw:un:ID            string NAME (the id's owner, for a rehash by id)
 *   gw:users            zset of NAMEs (score 0: listed in name order)
 *   gw:us:NAME          set of the user's session digests (hex)
 *   gw:s:HEX            hash  u (NAME), c, e, l (created, expires, last seen:
 *                       unix ms); PEXPIREAT min(e, l + idle + grace): Redis
 *                       drops ended sessions itself
 *   gw:k:HEX            string NAME of the API key whose SHA-256 is HEX
 *   gw:kn:NAME          hash  h (HEX), ct
 *   gw:keys             zset of key NAMEs
 *   channel gw:inval    "s HEX" a session ended (logout, its user deleted),
 *                       "k HEX" an API key was deleted
 *
 * Only SHA-256 digests of tokens and keys are stored, as in SQLite.
 *
 * Coherence: a daemon's store (GWD_STORE_LAZY) runs a subscriber thread on
 * gw:inval that removes the named digest from the caches registered with
 * gwd_store_on_evict(); a deletion on any instance thus reaches every
 * instance's cache in one Redis publish (sub-millisecond on a LAN).  When
 * the subscription is lost, messages may be lost with it: on every
 * (re)subscribe the revision moves and the caches start empty.  The same
 * thread reconnects the pool with backoff (50 ms doubling to 1 s).
 */
#ifndef GWD_REDIS_STORE_H
#define GWD_REDIS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "gwd/redis.h"
#include "gwd/store.h"

struct gwd_redis_store; /* opaque */

/* Open the store at <url> (gwd/redis.h) with gwd_store_open's <flags>: with
 * GWD_STORE_LAZY (the daemon) an unreachable Redis still gives a store,
 * unavailable, and the subscriber thread starts; without it Redis must
 * answer now.  Returns 0 and sets <*out>, or -1 with a message in <err>. */
int gwd_redis_store_open(struct gwd_redis_store **out, const char *url, unsigned flags,
                         char *err, size_t errlen);

/* Stop the subscriber, close the connections, free <rs>; NULL ignored. */
void gwd_redis_store_close(struct gwd_redis_store *rs);

/* The pool (borrowed), for gwd/cluster_rl.c. */
struct gwd_redis_pool *gwd_redis_store_pool(struct gwd_redis_store *rs);

/* The store interface (gwd/store.h has the contracts). */
int gwd_redis_store_available(const struct gwd_redis_store *rs);
int gwd_redis_store_poll(struct gwd_redis_store *rs);
uint64_t gwd_redis_store_revision(const struct gwd_redis_store *rs);
void gwd_redis_store_set_idle(struct gwd_redis_store *rs, uint32_t idle_ms);
int gwd_redis_store_on_evict(struct gwd_redis_store *rs, char kind,
                             void (*fn)(void *arg, const uint8_t digest[GWD_STORE_DIGEST_LEN]),
                             void *arg);
int gwd_redis_store_user_add(struct gwd_redis_store *rs, const char *name,
                             const char *pwhash, int64_t now_s);
int gwd_redis_store_user_del(struct gwd_redis_store *rs, const char *name);
int gwd_redis_store_user_get(struct gwd_redis_store *rs, const char *name, int64_t *id,
                             char *pwhash, size_t cap);
int gwd_redis_store_user_set_hash(struct gwd_redis_store *rs, int64_t id, const char *old,
                                  const char *pwhash);
int gwd_redis_store_user_list(struct gwd_redis_store *rs,
                              int (*fn)(const char *name, int64_t created_s, void *arg),
                              void *arg);
int gwd_redis_store_session_add(struct gwd_redis_store *rs,
                                const uint8_t hash[GWD_STORE_DIGEST_LEN], int64_t user_id,
                                const char *name, uint64_t created_ms, uint64_t expires_ms);
int gwd_redis_store_session_get(struct gwd_redis_store *rs,
                                const uint8_t hash[GWD_STORE_DIGEST_LEN],
                                struct gwd_store_session *out);
int gwd_redis_store_session_del(struct gwd_redis_store *rs,
                                const uint8_t hash[GWD_STORE_DIGEST_LEN]);
int gwd_redis_store_session_touch(struct gwd_redis_store *rs,
                                  const struct gwd_store_touch *t, size_t n);
long gwd_redis_store_session_sweep(struct gwd_redis_store *rs);
long gwd_redis_store_session_count(struct gwd_redis_store *rs);
int gwd_redis_store_key_add(struct gwd_redis_store *rs, const char *name,
                            const uint8_t hash[GWD_STORE_DIGEST_LEN], int64_t now_s);
int gwd_redis_store_key_del(struct gwd_redis_store *rs, const char *name);
int gwd_redis_store_key_get(struct gwd_redis_store *rs, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                            char name[GWD_STORE_NAME_MAX + 1]);
int gwd_redis_store_key_list(struct gwd_redis_store *rs,
                             int (*fn)(const char *name, int64_t created_s, void *arg),
                             void *arg);

/* Copy a session row as read from another store (gwd store copy): the user
 * <name> must exist here; idempotent (an existing session is left alone).
 * Returns 1 copied, 0 already there or its user missing, -1 store error. */
int gwd_redis_store_session_put(struct gwd_redis_store *rs,
                                const uint8_t hash[GWD_STORE_DIGEST_LEN], const char *name,
                                const struct gwd_store_session *row);

#endif
