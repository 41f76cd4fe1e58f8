/* Upstream state: which targets of an upstream may take a request now, and
 * which one should.
 *
 * The route file describes upstreams (lib/model.h struct gw_upstream); this
 * module keeps what the configuration cannot: per target, the requests in
 * flight, the passive circuit breaker (consecutive failures, ejection until a
 * deadline) and the active health-check verdict.  Everything a request touches
 * is an atomic on the target, so choosing a target takes no lock.
 *
 *   struct gwd_upstreams (one per blob generation)
 *     u[i]: struct gwd_upstream_state    cfg (decoded from the blob), rr cursor
 *        t[j]: struct gwd_upstream_target_state   active, fails, ejected_until, healthy
 *
 * A target is available when it is healthy (or has no active check) and not
 * ejected.  The active checker (one thread, gwd_health_*) probes each target
 * of an upstream with a health_check every interval and flips <healthy> after
 * hc_healthy successes or hc_unhealthy failures in a row.
 */
#ifndef GWD_UPSTREAM_H
#define GWD_UPSTREAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/blob.h"
#include "lib/blob-t.h"

#define GWD_HOSTPORT_MAX 280 /* "[" v6 or name (255) "]:" port */

struct gwd_upstream_target_state {
	_Atomic uint32_t active;        /* requests in flight */
	_Atomic uint32_t fails;         /* consecutive failures (passive) */
	_Atomic uint64_t ejected_until; /* CLOCK_MONOTONIC ns; 0: not ejected */
	_Atomic uint32_t healthy;       /* active check verdict; 1 without checks */
	_Atomic uint64_t requests;      /* sent to this target */
	_Atomic uint64_t failures;      /* failed (connect, broken, timeout) */
	_Atomic int64_t last_check_ms;  /* last active check (CLOCK_REALTIME ms); 0: none */
	_Atomic uint32_t last_check_ok; /* its outcome: 1 answered 2xx/3xx */
	uint32_t weight;
	uint32_t hc_ok, hc_bad;         /* health thread only: current streaks */
	char hostport[GWD_HOSTPORT_MAX];/* for URLs and metrics labels */
};

#define GWD_UP_NBUCKETS 12 /* duration histogram buckets (proxy.c) */

struct gwd_upstream_tls;

struct gwd_upstream_state {
	struct gw_upstream cfg;         /* strings borrow from the blob mapping */
	struct gwd_upstream_tls *tls;   /* HTTPS (gwd/upstream_tls.h); NULL: plain HTTP */
	/* written by the proxy engine thread only, read by scrapes */
	_Atomic uint64_t codes[600];    /* answers by status (502/504 for failures) */
	_Atomic uint64_t dur_bucket[GWD_UP_NBUCKETS + 1];
	_Atomic uint64_t dur_sum_us, dur_count;
	_Atomic uint64_t aborted[2];    /* streams cut mid-body: [0] by the
	                                   upstream side, [1] by the client side */
	struct gwd_upstream_target_state *t;
	uint32_t n;
	uint64_t total_weight;          /* sum of weights (each < 2^32: no wrap) */
	_Atomic uint64_t rr;            /* round-robin cursor */
	uint64_t next_check_ns;         /* health thread only */
};

struct gwd_upstreams {
	struct gwd_upstream_state *u;
	uint32_t n;
};

/* Build the state of every upstream of <b> into <ups>.  Returns 0, or -1 when
 * memory runs out (<ups> is then empty).  Free with gwd_upstreams_free. */
int gwd_upstreams_init(struct gwd_upstreams *ups, const struct gw_blob *b);
void gwd_upstreams_free(struct gwd_upstreams *ups);

/* Carry the state of <prev> (the generation being replaced) into <ups> (the
 * one about to serve): for every upstream of the same name, every target of
 * the same address keeps its counters, its passive failures and ejection
 * (when both have ejections on) and its active-check verdict (when both run
 * the same check path), and the upstream its answer and duration counters.  A reload
 * thus neither sends traffic back to a target known dead nor restarts the
 * metrics.  What the old generation still counts after this (requests in
 * flight there) is not carried; neither are requests in flight (<active>). */
void gwd_upstreams_inherit(struct gwd_upstreams *ups, const struct gwd_upstreams *prev);

/* Whether target <t> may take a request at <now_ns>. */
int gwd_upstream_target_available(const struct gwd_upstream_target_state *t, uint64_t now_ns);

/* Choose a target of <u> for a request: by the upstream's balance mode, among
 * available targets not listed in <tried> (<ntried> indexes: targets a retry
 * must avoid).  <key>/<keylen> feed the hash mode (client address, user or
 * header value; may be empty: then round robin).  Returns the target index,
 * or -1 when no target is available.  Lock-free. */
int gwd_upstream_pick(struct gwd_upstream_state *u, const void *key, size_t keylen,
		      const uint32_t *tried, unsigned ntried, uint64_t now_ns);

/* Account the end of a request to target <i> of <u>: <ok> 1 when the target
 * answered (any status), 0 when it failed (refused, broken, timed out).  A
 * failure streak reaching cfg.cb_failures ejects the target for
 * cfg.cb_cooldown_ms. */
void gwd_upstream_done(struct gwd_upstream_state *u, uint32_t i, int ok, uint64_t now_ns);

/* Seconds until some target of <u> may become available again (for
 * Retry-After on a 503), at least 1. */
unsigned gwd_upstream_retry_after(const struct gwd_upstream_state *u, uint64_t now_ns);

/* 1 when every upstream has at least one available target (for /health). */
int gwd_upstreams_ok(struct gwd_upstreams *ups, uint64_t now_ns);

/* Run one round of active health checks on the targets of <ups> that are due
 * at <now_ns> (blocking HTTP GETs, each bounded by the check's timeout).
 * Called by the checker thread; exposed for tests. */
void gwd_upstream_health_round(struct gwd_upstreams *ups, uint64_t now_ns);

#endif
