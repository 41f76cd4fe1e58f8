/* A bounded, sharded in-memory map from a credential digest (SHA-256 of a
 * session token or API key) to who it is and when it ends: what lets the auth
 * policies answer without touching SQLite on every request.  Used by
 * gwd/session.c and gwd/apikey.c, one cache each.
 *
 *   cache
 *    '- shard[0..S)    S = power of two <= 64; digest bits pick the shard
 *        |- mutex      taken for one lookup: no global lock anywhere
 *        |- gen        bumped by every removal: a miss that read the store
 *        |             before a logout cannot re-insert the ended session
 *        |- buckets[]  heads of chains through ents[].next
 *        '- ents[cap]  fixed pool: digest, name, created/expires/last_seen,
 *                      dirty (last_seen not yet written), ref (CLOCK bit)
 *
 * The bound is exact: sum of shard capacities <= max_entries; a full shard
 * evicts by CLOCK (second chance).  An evicted entry's unflushed last_seen is
 * lost, which at worst makes the database's last_seen one flush interval old.
 *
 * The "miss, read the store, insert" race with logout is closed by the shard
 * generation:  reader: g = gen(d); row = store_get(d); put(d, g, row)
 *              logout: store_del(d); remove(d) (gen++)
 * put() inserts only when gen is still g, so whichever order the two run in,
 * no entry outlives the logout's return.
 */
#ifndef GWD_AUTHCACHE_H
#define GWD_AUTHCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "gwd/store.h"

struct gwd_authcache; /* opaque */

/* What is cached about one credential. */
struct gwd_authcache_val {
	uint64_t created_ms;   /* session start; 0 for keys */
	uint64_t expires_ms;   /* absolute end; UINT64_MAX for keys */
	uint64_t last_seen_ms; /* last use (sliding idle timeout) */
	uint8_t len;           /* strlen(name) */
	char name[GWD_STORE_NAME_MAX + 1];
};

enum gwd_authcache_result {
	GWD_AUTHCACHE_MISS = 0,    /* not cached: ask the store */
	GWD_AUTHCACHE_HIT = 1,     /* cached and alive */
	GWD_AUTHCACHE_EXPIRED = 2, /* cached and ended (now removed): refuse, no store read */
};

/* A position in a walk over the dirty entries (gwd_authcache_collect). */
struct gwd_authcache_cursor {
	uint32_t shard, idx;
};

/* Create a cache of at most <max_entries> (>= 1) entries.  Returns 0 and sets
 * <*out>, or -1 when memory runs out.  Free with gwd_authcache_free(). */
int gwd_authcache_new(struct gwd_authcache **out, uint32_t max_entries);

/* Free <c>; NULL ignored. */
void gwd_authcache_free(struct gwd_authcache *c);

/* Look <digest> up at time <now_ms>.  An entry has ended when now >= expires,
 * or <lifetime_ms> != 0 and now >= created + lifetime, or <idle_ms> != 0 and
 * now >= last_seen + idle; an ended entry is removed.  On GWD_AUTHCACHE_HIT copies the
 * name into <name> (GWD_STORE_NAME_MAX + 1 bytes) and its length into <*len>, and
 * when <touch> is set moves last_seen to <now_ms> (marking it dirty).  Returns
 * an enum gwd_authcache_result. */
int gwd_authcache_get(struct gwd_authcache *c, const uint8_t digest[GWD_STORE_DIGEST_LEN],
                  uint64_t now_ms, uint32_t idle_ms, uint32_t lifetime_ms,
                  int touch, char *name, uint8_t *len);

/* The generation of <digest>'s shard, to pass to gwd_authcache_put after reading
 * the store. */
uint64_t gwd_authcache_gen(struct gwd_authcache *c, const uint8_t digest[GWD_STORE_DIGEST_LEN]);

/* Insert (or replace) <digest> -> <v> unless its shard's generation moved
 * past <gen> since gwd_authcache_gen.  <dirty> marks last_seen as not yet written.
 * Returns 1 when cached, 0 when skipped (a removal happened meanwhile). */
int gwd_authcache_put(struct gwd_authcache *c, const uint8_t digest[GWD_STORE_DIGEST_LEN],
                  uint64_t gen, const struct gwd_authcache_val *v, int dirty);

/* Remove <digest> and bump its shard's generation (even when absent).
 * Returns 1 when an entry was removed, 0 when none was cached. */
int gwd_authcache_remove(struct gwd_authcache *c, const uint8_t digest[GWD_STORE_DIGEST_LEN]);

/* Remove every entry, bumping every generation. */
void gwd_authcache_clear(struct gwd_authcache *c);

/* Clear <c> when <revision> (the store's) differs from the one it last saw:
 * entries deleted by `gwd users|keys del` must not live on in memory. */
void gwd_authcache_sync(struct gwd_authcache *c, uint64_t revision);

/* Copy up to <n> dirty entries, from <*cur> on, into <out> as (digest,
 * last_seen) and mark them clean; advances <*cur> (start it zeroed).  Returns
 * the number copied; fewer than <n> means the walk is complete. */
size_t gwd_authcache_collect(struct gwd_authcache *c, struct gwd_authcache_cursor *cur,
                         struct gwd_store_touch *out, size_t n);

/* Mark the entries of <t> (<n>) dirty again after a failed write, when still
 * cached. */
void gwd_authcache_redirty(struct gwd_authcache *c, const struct gwd_store_touch *t, size_t n);

/* The number of entries cached now, and the bound. */
uint32_t gwd_authcache_count(struct gwd_authcache *c);
uint32_t gwd_authcache_capacity(const struct gwd_authcache *c);

#endif
