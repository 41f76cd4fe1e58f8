/* Blob generations and their hazard-pointer style reclamation (reload.h). */
#include "gwd/reload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "gwd/cluster_rl.h"
#include "gwd/jwks.h"
#include "gwd/jwt.h"
#include "gwd/metrics.h"
#include "gwd/ratelimit.h"
#include "gwd/reqctx.h"
#include "gwd/upstream_tls.h"
#include "lib/blob-t.h"

static _Atomic(struct gwd_gen *) current;
/* hazard[w]: the generation worker w is about to count itself in, or NULL */
static _Atomic(struct gwd_gen *) hazard[GWD_MAX_WORKERS];
static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gwd_gen *retired;
static uint64_t next_serial = 1;
static struct gwd_ratelimit_registry *rl_registry;
static _Atomic uint64_t reloads_ok, reloads_err;
static pthread_mutex_t refused_lock = PTHREAD_MUTEX_INITIALIZER;
static char refused_why[256];
static int64_t refused_at;

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void (*fn)(const struct gwd_gen *g, void *ctx);
	void *ctx;
} hooks[8];
static unsigned nhooks;

/* ---- building a generation ------------------------------------------------- */

void gwd_reload_set_rl_registry(struct gwd_ratelimit_registry *reg)
{
	rl_registry = reg;
}

void gwd_reload_free(struct gwd_gen *g)
{
	if (!g)
		return;
	if (g->rl_tables) {
		for (uint32_t i = 0; i < g->nratelimits; i++)
			if (g->rl_tables[i])
				gwd_ratelimit_registry_release(rl_registry, g->rl_tables[i]);
		free(g->rl_tables);
	}
	free(g->ratelimits);
	for (uint32_t i = 0; g->jwts && i < g->njwts; i++)
		gwd_jwt_pol_free(&g->jwts[i]);
	free(g->jwts);
	free(g->auths);
	free(g->routes);
	free(g->policies);
	free(g->polrefs);
	free(g->headers);
	free(g->tpls);
	free(g->strlist);
	free(g->cors);
	free(g->hdrpols);
	free(g->ipfilters);
	free(g->cidrs);
	free(g->body_limits);
	free(g->static_bodies);
	gwd_upstreams_free(&g->ups);
	gw_blob_close(g->blob);
	free(g);
}

/* Decode table <table> of <b> into a new array of <size>-byte elements with
 * <dec> (a gw_blob_* accessor taking an element pointer).  Returns 0 and sets
 * <*out>, <*n>; -1 on a decode failure or out of memory. */
#define DECODE(b, table, arr, cnt, fn)                                        \
	do {                                                                  \
		(cnt) = gw_blob_count((b), (table));                          \
		(arr) = calloc((cnt) ? (cnt) : 1, sizeof *(arr));             \
		if (!(arr))                                                   \
			goto fail_nomem;                                      \
		for (uint32_t i_ = 0; i_ < (cnt); i_++)                       \
			if (fn((b), i_, &(arr)[i_]) != 0)                     \
				goto fail_corrupt;                            \
	} while (0)

/* Fold the body_limit policies of <rt> (its pols set) into <rt->body_limit>:
 * the smallest; GW_BODY_LIMIT_NONE when each is `none`; without one the
 * default, so that no route reads bodies without bound unless it says so.
 * Returns 0 or -1 (corrupt). */
static int route_body_limit(const struct gwd_gen *g, struct gwd_route *rt)
{
	int limited = 0;

	rt->body_limit = GW_BODY_LIMIT_NONE;
	for (uint16_t k = 0; k < rt->npols; k++) {
		const struct gw_policy *p;

		if (rt->pols[k] >= g->npolicies)
			return -1;
		p = &g->policies[rt->pols[k]];
		if (p->kind != GW_P_BODY_LIMIT)
			continue;
		if (p->index >= g->nbody_limits)
			return -1;
		if (g->body_limits[p->index] < rt->body_limit)
			rt->body_limit = g->body_limits[p->index];
		limited = 1;
	}
	if (!limited)
		rt->body_limit = GWD_BODY_DEFAULT_LIMIT;
	return 0;
}

/* Precompute route <i> of <g> into <rt>, appending multi-part literal bodies
 * to <g->static_bodies> at <*body_off>.  Returns 0 or -1 (corrupt). */
static int build_route(struct gwd_gen *g, uint32_t i, struct gwd_route *rt, size_t *body_off)
{
	struct gw_route *r = &rt->r;

	if (gw_blob_route(g->blob, i, r) != 0)
		return -1;
	rt->index = i;
	rt->label = r->name.len ? r->name : r->pattern;
	rt->metric_slot = gwd_metrics_route_slot(rt->label.p, rt->label.len);
	if ((uint64_t)r->pol_first + r->pol_count > g->npolrefs)
		return -1;
	rt->pols = g->polrefs + r->pol_first;
	rt->npols = r->pol_count;
	if (route_body_limit(g, rt) < 0)
		return -1;
	if (r->handler == GW_H_RESPOND) {
		struct gw_respond rs;
		size_t total = 0;

		if (gw_blob_respond(g->blob, r->handler_index, &rs) != 0)
			return -1;
		if ((uint64_t)rs.hdr_first + rs.hdr_count > g->nheaders ||
		    (uint64_t)rs.body_first + rs.body_count > g->ntpls)
			return -1;
		rt->status = rs.status;
		rt->hdrs = g->headers + rs.hdr_first;
		rt->nhdrs = rs.hdr_count;
		rt->tpls = g->tpls + rs.body_first;
		rt->ntpls = rs.body_count;
		rt->body_static = 1;
		for (uint32_t k = 0; k < rt->ntpls; k++) {
			if (rt->tpls[k].kind != GW_TPL_LITERAL)
				rt->body_static = 0;
			total += rt->tpls[k].text.len;
		}
		if (rt->body_static) {
			if (rt->ntpls == 1) {
				/* one literal: served straight from the mapping */
				rt->static_body = rt->tpls[0].text.p;
				rt->static_len = rt->tpls[0].text.len;
			} else {
				char *dst = g->static_bodies + *body_off;

				for (uint32_t k = 0; k < rt->ntpls; k++) {
					memcpy(dst, rt->tpls[k].text.p, rt->tpls[k].text.len);
					dst += rt->tpls[k].text.len;
				}
				rt->static_body = g->static_bodies + *body_off;
				rt->static_len = total;
				*body_off += total;
			}
		}
	}
	return 0;
}

/* The jwt policies of <g>: their file keys imported, their JWKS URLs'
 * sources taken (shared across generations: a reload keeps the fetched
 * keys).  0, or -1 with the reason in <why>. */
static int jwts_init(struct gwd_gen *g, struct gw_blob *b, char *why, size_t whylen)
{
	g->njwts = gw_blob_count(b, GW_BLOB_JWTS);
	g->jwts = calloc(g->njwts ? g->njwts : 1, sizeof *g->jwts);
	if (!g->jwts) {
		g->njwts = 0;
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < g->njwts; i++)
		if (gwd_jwt_pol_init(&g->jwts[i], b, i, g->strlist, g->headers, why, whylen)) {
			g->njwts = i + 1;
			return -1;
		}
	return 0;
}

/* The rate-limit tables of <g>, shared across generations by policy
 * identity, so that a reload keeps every client's bucket.  0, or -1 with
 * the reason in <why>. */
static int rl_tables_init(struct gwd_gen *g, char *why, size_t whylen)
{
	g->rl_tables = calloc(g->nratelimits ? g->nratelimits : 1, sizeof *g->rl_tables);
	if (!g->rl_tables) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; rl_registry && i < g->npolicies; i++) {
		const struct gw_policy *p = &g->policies[i];

		if (p->kind != GW_P_RATE_LIMIT)
			continue;
		if ((uint64_t)p->index + p->count > g->nratelimits) {
			snprintf(why, whylen, "a record refers outside its table");
			return -1;
		}
		for (uint32_t k = 0; k < p->count; k++) {
			/* a cluster budget lives in the store: without one there
			 * is nothing to share it through */
			if (g->ratelimits[p->index + k].scope == GW_RLS_CLUSTER &&
			    !gwd_cluster_configured()) {
				snprintf(why, whylen, "policy '%.*s' has a cluster-scope rate limit: "
					 "gwd needs --store redis://... to serve it",
					 (int)p->name.len, p->name.p);
				return -1;
			}
			g->rl_tables[p->index + k] = gwd_ratelimit_registry_acquire(
				rl_registry, p->ident, k, &g->ratelimits[p->index + k]);
			if (!g->rl_tables[p->index + k]) {
				snprintf(why, whylen, "out of memory");
				return -1;
			}
		}
	}
	return 0;
}

int gwd_reload_build(struct gw_blob *b, struct gwd_gen **out, char *why, size_t whylen)
{
	struct gwd_gen *g = calloc(1, sizeof *g);
	const uint8_t *fp;
	size_t bodies = 0, off = 0;
	struct timespec ts;

	*out = NULL;
	if (!g) {
		gw_blob_close(b);
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	g->blob = b;
	fp = gw_blob_fingerprint(b);
	for (int i = 0; i < 32; i++)
		snprintf(g->fp_hex + 2 * i, 3, "%02x", fp[i]);
	clock_gettime(CLOCK_REALTIME, &ts);
	g->loaded_unix = ts.tv_sec;
	gw_blob_settings(b, &g->settings);
	DECODE(b, GW_BLOB_POLICIES, g->policies, g->npolicies, gw_blob_policy);
	DECODE(b, GW_BLOB_POLREFS, g->polrefs, g->npolrefs, gw_blob_polref);
	DECODE(b, GW_BLOB_HEADERS, g->headers, g->nheaders, gw_blob_header);
	DECODE(b, GW_BLOB_TPLS, g->tpls, g->ntpls, gw_blob_tpl);
	DECODE(b, GW_BLOB_STRLIST, g->strlist, g->nstrlist, gw_blob_strlist);
	DECODE(b, GW_BLOB_CORS, g->cors, g->ncors, gw_blob_cors);
	DECODE(b, GW_BLOB_HDRPOLS, g->hdrpols, g->nhdrpols, gw_blob_hdrpol);
	DECODE(b, GW_BLOB_IPFILTERS, g->ipfilters, g->nipfilters, gw_blob_ipfilter);
	DECODE(b, GW_BLOB_CIDRS, g->cidrs, g->ncidrs, gw_blob_cidr);
	DECODE(b, GW_BLOB_BODYLIMITS, g->body_limits, g->nbody_limits, gw_blob_body_limit);
	DECODE(b, GW_BLOB_RATELIMITS, g->ratelimits, g->nratelimits, gw_blob_ratelimit);
	DECODE(b, GW_BLOB_AUTHS, g->auths, g->nauths, gw_blob_auth);
	if (jwts_init(g, b, why, whylen) != 0 || rl_tables_init(g, why, whylen) != 0)
		goto fail;
	if (gwd_upstreams_init(&g->ups, b) != 0)
		goto fail_nomem;
	/* an HTTPS upstream's files are read now: one that cannot be used
	 * refuses the generation, and a reload leaves the old one serving */
	for (uint32_t i = 0; i < g->ups.n; i++)
		if (g->ups.u[i].cfg.tls != GW_NONE &&
		    gwd_upstream_tls_load(b, &g->ups.u[i], &g->ups.u[i].tls, why, whylen) != 0)
			goto fail;
	g->nroutes = gw_blob_count(b, GW_BLOB_ROUTES);
	g->routes = calloc(g->nroutes ? g->nroutes : 1, sizeof *g->routes);
	if (!g->routes)
		goto fail_nomem;
	/* multi-part literal bodies are concatenated once, here */
	for (uint32_t i = 0; i < g->ntpls; i++)
		bodies += g->tpls[i].text.len;
	g->static_bodies = malloc(bodies ? bodies : 1);
	if (!g->static_bodies)
		goto fail_nomem;
	for (uint32_t i = 0; i < g->nroutes; i++)
		if (build_route(g, i, &g->routes[i], &off) != 0)
			goto fail_corrupt;
	*out = g;
	return 0;
fail_nomem:
	snprintf(why, whylen, "out of memory");
	gwd_reload_free(g);
	return -1;
fail:
	gwd_reload_free(g);
	return -1;
fail_corrupt:
	snprintf(why, whylen, "a record refers outside its table");
	gwd_reload_free(g);
	return -1;
}

int gwd_reload_load(const char *path, struct gwd_gen **out, char *why, size_t whylen)
{
	struct gw_blob *b = NULL;
	char reason[200] = "";
	struct stat st;
	int rc;

	*out = NULL;
	rc = gw_blob_open(path, &b, reason, sizeof reason);
	if (rc != GW_OK) {
		/* the loader's reason names the section or record at fault */
		snprintf(why, whylen, "%s: %s", path, reason[0] ? reason : gw_strerror(rc));
		return -1;
	}
	if (gwd_reload_build(b, out, reason, sizeof reason) != 0) {
		snprintf(why, whylen, "%s: %s", path, reason);
		return -1;
	}
	if (stat(path, &st) == 0)
		(*out)->compiled_unix = (int64_t)st.st_mtim.tv_sec;
	return 0;
}

/* ---- serving and swapping ---------------------------------------------------- */

struct gwd_gen *gwd_reload_acquire(struct gwd_worker *w)
{
	_Atomic(struct gwd_gen *) *hz = &hazard[w->id];
	struct gwd_gen *g;

	for (;;) {
		g = atomic_load(&current);
		if (!g)
			return NULL;
		atomic_store(hz, g);
		/* still current after the hazard is visible: the reclaimer, which
		 * retires before it scans the hazards, cannot free it now */
		if (atomic_load(&current) == g)
			break;
	}
	atomic_fetch_add_explicit(&g->refs[w->id].n, 1, memory_order_relaxed);
	/* release: the count is visible before the hazard is cleared */
	atomic_store_explicit(hz, NULL, memory_order_release);
	return g;
}

void gwd_reload_release(struct gwd_gen *g, struct gwd_worker *w)
{
	if (g)
		atomic_fetch_sub_explicit(&g->refs[w->id].n, 1, memory_order_release);
}

void gwd_reload_publish(struct gwd_gen *g)
{
	struct gwd_gen *old;

	pthread_mutex_lock(&retire_lock);
	g->serial = next_serial++;
	pthread_mutex_unlock(&retire_lock);
	pthread_mutex_lock(&hook_lock);
	for (unsigned i = 0; i < nhooks; i++)
		hooks[i].fn(g, hooks[i].ctx);
	pthread_mutex_unlock(&hook_lock);
	/* Publishing is the main thread's alone: <current> cannot change (nor
	 * be freed) between this load and the exchange, which follow each other
	 * so that what the old generation counts in between is next to nothing
	 * (a scrape then could see a counter step back). */
	old = atomic_load(&current);
	if (old)
		gwd_upstreams_inherit(&g->ups, &old->ups);
	if (g->njwts && gwd_jwks_activate() != 0)
		fprintf(stderr, "gwd: cannot start the JWKS fetch thread\n");
	old = atomic_exchange(&current, g);
	if (old) {
		pthread_mutex_lock(&retire_lock);
		old->next_retired = retired;
		retired = old;
		pthread_mutex_unlock(&retire_lock);
	}
}

/* Whether retired generation <g> is still held: a hazard names it or a
 * per-thread count is not zero. */
static int gen_held(struct gwd_gen *g)
{
	long sum = 0;

	for (unsigned i = 0; i < GWD_MAX_WORKERS; i++)
		if (atomic_load(&hazard[i]) == g)
			return 1;
	for (unsigned i = 0; i < GWD_MAX_WORKERS; i++)
		sum += atomic_load_explicit(&g->refs[i].n, memory_order_acquire);
	return sum != 0;
}

unsigned gwd_reload_reclaim(void)
{
	struct gwd_gen **pp, *g;
	unsigned waiting = 0;

	pthread_mutex_lock(&retire_lock);
	for (pp = &retired; (g = *pp) != NULL;) {
		if (gen_held(g)) {
			waiting++;
			pp = &g->next_retired;
			continue;
		}
		*pp = g->next_retired;
		gwd_reload_free(g);
	}
	pthread_mutex_unlock(&retire_lock);
	return waiting;
}

int gwd_reload(const char *path, char *why, size_t whylen)
{
	struct gwd_gen *g;

	if (gwd_reload_load(path, &g, why, whylen) != 0) {
		pthread_mutex_lock(&refused_lock);
		snprintf(refused_why, sizeof refused_why, "%s", why);
		refused_at = (int64_t)time(NULL);
		pthread_mutex_unlock(&refused_lock);
		atomic_fetch_add(&reloads_err, 1);
		return -1;
	}
	gwd_reload_publish(g);
	atomic_fetch_add(&reloads_ok, 1);
	return 0;
}

void gwd_reload_shutdown(void)
{
	struct gwd_gen *g = atomic_exchange(&current, NULL);

	gwd_jwks_shutdown();

	if (g) {
		pthread_mutex_lock(&retire_lock);
		g->next_retired = retired;
		retired = g;
		pthread_mutex_unlock(&retire_lock);
	}
	/* at exit nothing serves: free even what a lost request might hold */
	pthread_mutex_lock(&retire_lock);
	while ((g = retired) != NULL) {
		retired = g->next_retired;
		gwd_reload_free(g);
	}
	pthread_mutex_unlock(&retire_lock);
}

uint64_t gwd_reload_count(int ok)
{
	return atomic_load(ok ? &reloads_ok : &reloads_err);
}

int gwd_reload_last_refused(char *why, size_t cap, int64_t *when)
{
	int any;

	pthread_mutex_lock(&refused_lock);
	any = refused_at != 0;
	if (any && cap) {
		snprintf(why, cap, "%s", refused_why);
		*when = refused_at;
	}
	pthread_mutex_unlock(&refused_lock);
	return any;
}

int gwd_reload_on_publish(void (*fn)(const struct gwd_gen *g, void *ctx), void *ctx)
{
	int rc = -1;

	pthread_mutex_lock(&hook_lock);
	if (nhooks < sizeof hooks / sizeof *hooks) {
		hooks[nhooks].fn = fn;
		hooks[nhooks].ctx = ctx;
		nhooks++;
		rc = 0;
	}
	pthread_mutex_unlock(&hook_lock);
	return rc;
}
