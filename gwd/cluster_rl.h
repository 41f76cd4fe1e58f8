/* Cluster-wide rate limits (`scope: cluster`): one budget per limit and key
 * shared by every gwd pointed at the same Redis, without a Redis round trip
 * per request.
 *
 * Leases.  Redis keeps the budget as a GCRA TAT per (limit, key), changed
 * only by one Lua script (take N, or give N back) that reads Redis's own
 * clock.  Each instance holds a lease per key: tokens taken from Redis in
 * slices, spent locally under a shard mutex.  A background thread tops
 * leases up before they run dry (when a lease falls to half a slice) and
 * gives back those unused for LEASE_IDLE, all the requests of one round in
 * one pipeline:
 *
 *   request (pool thread)            lease thread             Redis
 *   tokens > 0: take one ----------> (below half a slice:
 *                                     queued)  -- EVAL take S --> TAT += S*T
 *   tokens = 0, Redis empty: 429                <-- granted, wait, remaining
 *   tokens = 0, unknown: wait for the round trip (at most the store timeout)
 *
 * A slice is LEASE_MS of the limit's rate (at least 1, at most a quarter of
 * the burst); a round asks for a slice, or for as many requests as came
 * since the last round when a round trip outlasts a slice (at most a quarter
 * of the burst), so that a slow round trip does not cap an instance at a
 * slice per round trip.  What an instance holds unused is about 1.5 times
 * that; the cluster never admits more than Redis granted (docs/cluster.md).
 *
 * When Redis cannot be reached (the pool unavailable, a round trip failed or
 * timed out), `on_store_error: allow` falls back to the same limit kept by
 * this instance alone (the table's own local GCRA), `deny` refuses (429).
 *
 * Keys hashed from bytes (user, api_key, header) must hash alike on every
 * instance: gwd_cluster_start shares one hash seed through Redis
 * (gw:rlseed, set once by whichever instance starts first).
 */
#ifndef GWD_CLUSTER_RL_H
#define GWD_CLUSTER_RL_H

#include <stddef.h>
#include <stdint.h>

#include "gwd/ratelimit-t.h"

struct gwd_store;
struct gwd_cluster_lim; /* opaque: the leases of one cluster table */

/* Say whether gwd runs with a Redis store (<store_url> from --store, NULL
 * when none), before any blob loads.  A blob with cluster limits is refused
 * unless it does (gwd_cluster_configured). */
void gwd_cluster_configure(const char *store_url);

/* 1 when gwd_cluster_configure was given a Redis URL, 0 otherwise. */
int gwd_cluster_configured(void);

/* Bind the cluster limits to store <st> (borrowed until gwd_cluster_stop):
 * when it is a Redis store, share the key-hash seed, start the lease thread
 * and add the store families to /metrics.  Nothing for SQLite.  Returns 0,
 * or -1 with a message in <err> when the thread cannot start. */
int gwd_cluster_start(struct gwd_store *st, char *err, size_t errlen);

/* Stop the lease thread (unused leases are given back).  Safe when not
 * started. */
void gwd_cluster_stop(void);

/* The lease table of cluster table <t> (its ident, index and parameters
 * set).  Returns NULL when memory runs out. */
struct gwd_cluster_lim *gwd_cluster_lim_new(const struct gwd_ratelimit_table *t);

/* Free <cl> (NULL ignored); waits for a lease round in progress. */
void gwd_cluster_lim_free(struct gwd_cluster_lim *cl);

/* One request of key <k> against cluster table <t> at <now> (gwd_clock_ns()):
 * as gwd_ratelimit_admit.  Fills <r> (remaining: this lease plus Redis's remaining
 * as of the last round).  May wait for a lease round trip, at most the
 * store timeout. */
int gwd_cluster_admit(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k,
		      uint64_t now, struct gwd_ratelimit_result *r);

/* Give back to its lease the request that gwd_cluster_admit counted in <r>. */
void gwd_cluster_rollback(const struct gwd_ratelimit_keyval *k, struct gwd_ratelimit_result *r);

#endif
