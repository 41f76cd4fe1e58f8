/* Blob generations: the blob being served, everything gwd derives from it,
 * and the swap on SIGHUP without dropping a request.
 *
 * A generation is one loaded blob plus its decoded tables and per-route
 * precomputed data (policies in order, body limit, respond bodies that need
 * no substitution, the metrics slot).  Requests read only their generation:
 *
 *   current ---> gen 7 (serving)        retired: gen 6 -> gen 5
 *                 refs[w] per worker              each freed (blob unmapped)
 *                                                 when no request holds it
 *
 * Acquire (at the request line) is hazard-pointer style, with no global lock
 * and no shared counter: the thread publishes the generation it is about to
 * use in its own hazard slot, re-checks <current>, then counts the request in
 * the generation's slot for that thread (its own cache line).  Release (at
 * completion) uncounts it.  The reclaimer frees a retired generation when no
 * hazard slot names it and every per-thread count is zero.
 */
#ifndef GWD_RELOAD_H
#define GWD_RELOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/blob.h"
#include "lib/model.h"
#include "gwd/upstream.h"
#include "gwd/worker.h"

/* What gwd precomputes for each route of a generation. */
struct gwd_route {
	uint32_t index;            /* blob route index */
	struct gw_route r;
	struct gw_str label;       /* name, or the pattern when unnamed */
	uint32_t metric_slot;      /* metrics.c slot of <label> */
	/* the smallest body_limit policy; GWD_BODY_DEFAULT_LIMIT without one;
	 * GW_BODY_LIMIT_NONE when each is `none` (proxy routes only) */
	uint64_t body_limit;
	const uint32_t *pols;      /* policy indexes, in the declared order */
	uint16_t npols;
	/* respond handler */
	uint16_t status;
	const struct gw_header *hdrs;
	uint32_t nhdrs;
	const struct gw_tpl *tpls;
	uint32_t ntpls;
	uint8_t body_static;       /* the body needs no substitution: */
	const char *static_body;   /*   its bytes, in the mapping or the generation */
	size_t static_len;
};

struct gwd_reload_ref {
	_Atomic long n;
	char pad[64 - sizeof(long)];
};

struct gwd_gen {
	struct gw_blob *blob;
	uint64_t serial;           /* 1 for the first generation, +1 per reload */
	int64_t loaded_unix;       /* when it was loaded (CLOCK_REALTIME s) */
	int64_t compiled_unix;     /* the blob file's modification time (gwc writes
	                              it once, atomically; the bytes hold no time,
	                              so that a compile is reproducible); 0: unknown */
	char fp_hex[65];           /* blob fingerprint, lower-case hex */
	struct gw_settings settings;
	uint32_t nroutes;
	struct gwd_route *routes;  /* indexed by blob route index */
	/* decoded tables (strings point into the mapping) */
	struct gw_policy *policies;  uint32_t npolicies;
	uint32_t *polrefs;           uint32_t npolrefs;
	struct gw_header *headers;   uint32_t nheaders;
	struct gw_tpl *tpls;         uint32_t ntpls;
	struct gw_str *strlist;      uint32_t nstrlist;
	struct gw_cors *cors;        uint32_t ncors;
	struct gw_hdrpol *hdrpols;   uint32_t nhdrpols;
	struct gw_ipfilter *ipfilters; uint32_t nipfilters;
	struct gw_cidr *cidrs;       uint32_t ncidrs;
	uint64_t *body_limits;       uint32_t nbody_limits;
	struct gw_ratelimit *ratelimits; uint32_t nratelimits;
	struct gw_auth *auths;       uint32_t nauths;
	struct gwd_jwt_pol *jwts;    uint32_t njwts; /* jwt policies (gwd/jwt.h) */
	struct gwd_ratelimit_table **rl_tables; /* per ratelimit record: its live table, or
	                                   NULL (no registry: --check, tests) */
	char *static_bodies;         /* concatenated multi-part literal bodies */
	struct gwd_upstreams ups;    /* upstream targets' state (proxy routes) */
	struct gwd_gen *next_retired;
	struct gwd_reload_ref refs[GWD_MAX_WORKERS];
};

/* Load the blob at <path>, verify it and build a generation.  Returns 0 and
 * sets <*out> (free with gwd_reload_free), or -1 with a one-line reason in <why>
 * (<whylen> bytes).  Used by start-up, SIGHUP and `gwd --check`. */
int gwd_reload_load(const char *path, struct gwd_gen **out, char *why, size_t whylen);

/* The same over an already opened blob <b> (ownership passes to the result,
 * also on failure). Tests use it with gw_blob_open_mem. */
int gwd_reload_build(struct gw_blob *b, struct gwd_gen **out, char *why, size_t whylen);

/* The rate-limit registry (gwd/ratelimit.h) from which generations built
 * from now on take their tables; NULL (the default): none. */
struct gwd_ratelimit_registry;
void gwd_reload_set_rl_registry(struct gwd_ratelimit_registry *reg);

/* Free <g> and close its blob. NULL is ignored. */
void gwd_reload_free(struct gwd_gen *g);

/* Serve <g> from now on (start-up: there is no current generation yet; on
 * reload the old one is retired).  Takes ownership of <g>. */
void gwd_reload_publish(struct gwd_gen *g);

/* The current generation, counted for the calling worker <w>: it stays valid
 * until gwd_reload_release(g, w) with the same worker.  NULL before the first
 * publish. */
struct gwd_gen *gwd_reload_acquire(struct gwd_worker *w);
void gwd_reload_release(struct gwd_gen *g, struct gwd_worker *w);

/* SIGHUP: load <path> again; on success publish it and return 0; on failure
 * keep the current one, write the reason to <why> and return -1.  Either way
 * the outcome is counted (gateway_reloads_total{result}). */
int gwd_reload(const char *path, char *why, size_t whylen);

/* Free the retired generations that no request holds any more. Returns how
 * many are still waiting. Called periodically (signal thread) and at exit. */
unsigned gwd_reload_reclaim(void);

/* Free every generation (at exit, after the server stopped). */
void gwd_reload_shutdown(void);

/* Reloads done since start: <ok> non-zero for successes, zero for failures. */
uint64_t gwd_reload_count(int ok);

/* The last refused reload: returns 1 and copies its reason into <why> (<cap>
 * bytes, NUL-terminated) and its time (CLOCK_REALTIME s) into <*when>; 0 when
 * no reload was refused. */
int gwd_reload_last_refused(char *why, size_t cap, int64_t *when);

/* Register <fn> to be called with each newly published generation (on the
 * reloading thread, before the old one is retired); for modules that keep
 * state derived from the settings (sessions, rate limits).  At most 8.
 * Returns 0 or -1 when full. */
int gwd_reload_on_publish(void (*fn)(const struct gwd_gen *g, void *ctx), void *ctx);

#endif
