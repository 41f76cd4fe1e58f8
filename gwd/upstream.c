/* Upstream target state, balancing, circuit breaking and active health checks
 * (see upstream.h for the picture). */
#include "gwd/upstream.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwd/upstream_tls.h"

/* FNV-1a 64, then a final avalanche: a client address or user name must spread
 * across targets, and the weights below make it weighted rendezvous hashing. */
static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

int gwd_upstreams_init(struct gwd_upstreams *ups, const struct gw_blob *b)
{
	uint32_t n = gw_blob_count(b, GW_BLOB_UPSTREAMS);

	memset(ups, 0, sizeof *ups);
	if (n == 0)
		return 0;
	ups->u = calloc(n, sizeof *ups->u);
	if (!ups->u)
		goto fail;
	ups->n = n;
	for (uint32_t i = 0; i < n; i++) {
		struct gwd_upstream_state *u = &ups->u[i];

		if (gw_blob_upstream(b, i, &u->cfg) != 0)
			goto fail;
		u->t = calloc(u->cfg.tgt_count ? u->cfg.tgt_count : 1, sizeof *u->t);
		if (!u->t)
			goto fail;
		u->n = u->cfg.tgt_count;
		for (uint32_t j = 0; j < u->n; j++) {
			struct gwd_upstream_target_state *t = &u->t[j];
			struct gw_target tg;

			if (gw_blob_target(b, u->cfg.tgt_first + j, &tg) != 0)
				goto fail;
			t->weight = tg.weight ? tg.weight : 1;
			u->total_weight += t->weight;
			atomic_init(&t->healthy, 1);
			/* An IPv6 literal needs brackets in a URL and in Host. */
			snprintf(t->hostport, sizeof t->hostport,
				 memchr(tg.host.p, ':', tg.host.len) ? "[%s]:%u" : "%s:%u",
				 tg.host.p, (unsigned)tg.port);
		}
	}
	return 0;
fail:
	gwd_upstreams_free(ups);
	return -1;
}

void gwd_upstreams_free(struct gwd_upstreams *ups)
{
	if (ups->u)
		for (uint32_t i = 0; i < ups->n; i++) {
			gwd_upstream_tls_free(ups->u[i].tls);
			free(ups->u[i].t);
		}
	free(ups->u);
	ups->u = NULL;
	ups->n = 0;
}

/* The upstream of <ups> named like <name>, or NULL. */
static struct gwd_upstream_state *find_upstream(const struct gwd_upstreams *ups,
						struct gw_str name)
{
	for (uint32_t i = 0; i < ups->n; i++)
		if (ups->u[i].cfg.name.len == name.len &&
		    memcmp(ups->u[i].cfg.name.p, name.p, name.len) == 0)
			return &ups->u[i];
	return NULL;
}

#define CARRY(dst, src) \
	atomic_store_explicit(&(dst), atomic_load_explicit(&(src), memory_order_relaxed), \
			      memory_order_relaxed)

void gwd_upstreams_inherit(struct gwd_upstreams *ups, const struct gwd_upstreams *prev)
{
	for (uint32_t i = 0; i < ups->n; i++) {
		struct gwd_upstream_state *u = &ups->u[i];
		struct gwd_upstream_state *o = find_upstream(prev, u->cfg.name);
		int same_check;

		if (!o)
			continue;
		same_check = u->cfg.hc_path.len && u->cfg.hc_path.len == o->cfg.hc_path.len &&
			     memcmp(u->cfg.hc_path.p, o->cfg.hc_path.p, u->cfg.hc_path.len) == 0;
		for (size_t c = 0; c < sizeof u->codes / sizeof *u->codes; c++)
			CARRY(u->codes[c], o->codes[c]);
		for (size_t b = 0; b < sizeof u->dur_bucket / sizeof *u->dur_bucket; b++)
			CARRY(u->dur_bucket[b], o->dur_bucket[b]);
		CARRY(u->dur_sum_us, o->dur_sum_us);
		CARRY(u->dur_count, o->dur_count);
		for (size_t s = 0; s < sizeof u->aborted / sizeof *u->aborted; s++)
			CARRY(u->aborted[s], o->aborted[s]);
		for (uint32_t j = 0; j < u->n; j++) {
			struct gwd_upstream_target_state *t = &u->t[j];

			for (uint32_t k = 0; k < o->n; k++) {
				const struct gwd_upstream_target_state *ot = &o->t[k];

				if (strcmp(ot->hostport, t->hostport) != 0)
					continue;
				/* an ejection stands only while ejections are on,
				 * and a check's verdict only while the same check
				 * runs: nothing else would ever clear them */
				if (u->cfg.cb_failures && o->cfg.cb_failures) {
					CARRY(t->fails, ot->fails);
					CARRY(t->ejected_until, ot->ejected_until);
				}
				if (same_check) {
					CARRY(t->healthy, ot->healthy);
					CARRY(t->last_check_ms, ot->last_check_ms);
					CARRY(t->last_check_ok, ot->last_check_ok);
				}
				CARRY(t->requests, ot->requests);
				CARRY(t->failures, ot->failures);
				/* the checker's streaks are its own (no atomics):
				 * they restart from the verdict */
				break;
			}
		}
	}
}

int gwd_upstream_target_available(const struct gwd_upstream_target_state *t, uint64_t now_ns)
{
	uint64_t until = atomic_load_explicit(&t->ejected_until, memory_order_relaxed);

	if (until && now_ns < until)
		return 0;
	return atomic_load_explicit(&t->healthy, memory_order_relaxed) != 0;
}

static int was_tried(uint32_t i, const uint32_t *tried, unsigned ntried)
{
	for (unsigned k = 0; k < ntried; k++)
		if (tried[k] == i)
			return 1;
	return 0;
}

/* A target may be picked when available, not tried yet, and under its
 * connection cap (cfg.max_conns; 0 means no cap). */
static int eligible(const struct gwd_upstream_state *u, uint32_t i, const uint32_t *tried,
		    unsigned ntried, uint64_t now_ns)
{
	const struct gwd_upstream_target_state *t = &u->t[i];

	if (!gwd_upstream_target_available(t, now_ns) || was_tried(i, tried, ntried))
		return 0;
	return !u->cfg.max_conns ||
	       atomic_load_explicit(&t->active, memory_order_relaxed) < u->cfg.max_conns;
}

/* Weighted round robin: the cursor walks the weight line 0..total-1; the
 * target owning the cursor's slot is tried first, then the next ones, so an
 * unavailable target's share moves to its neighbours. */
static int pick_rr(struct gwd_upstream_state *u, const uint32_t *tried, unsigned ntried,
		   uint64_t now_ns)
{
	uint64_t c = atomic_fetch_add_explicit(&u->rr, 1, memory_order_relaxed);
	uint64_t total = u->total_weight, slot, acc = 0;
	uint32_t start = 0;

	if (total == 0)
		return -1;
	slot = c % total;
	for (uint32_t i = 0; i < u->n; i++) {
		acc += u->t[i].weight;
		if (slot < acc) {
			start = i;
			break;
		}
	}
	for (uint32_t k = 0; k < u->n; k++) {
		uint32_t i = (start + k) % u->n;

		if (eligible(u, i, tried, ntried, now_ns))
			return (int)i;
	}
	return -1;
}

/* Least connections, weighted: smallest active/weight, compared as
 * active_a * weight_b < active_b * weight_a to stay in integers; ties go to the
 * round-robin cursor's order so equal targets share the load. */
static int pick_least(struct gwd_upstream_state *u, const uint32_t *tried, unsigned ntried,
		      uint64_t now_ns)
{
	uint64_t c = atomic_fetch_add_explicit(&u->rr, 1, memory_order_relaxed);
	int best = -1;
	uint64_t best_a = 0, best_w = 1;

	for (uint32_t k = 0; k < u->n; k++) {
		uint32_t i = (uint32_t)((c + k) % u->n);
		uint64_t a, w;

		if (!eligible(u, i, tried, ntried, now_ns))
			continue;
		a = atomic_load_explicit(&u->t[i].active, memory_order_relaxed);
		w = u->t[i].weight;
		if (best < 0 || a * best_w < best_a * w) {
			best = (int)i;
			best_a = a;
			best_w = w;
		}
	}
	return best;
}

/* Weighted rendezvous hashing: every key ranks all targets; the same key keeps
 * its target while that target is available, and only the keys of a target
 * that goes away move. */
static int pick_hash(struct gwd_upstream_state *u, const void *key, size_t keylen,
		     const uint32_t *tried, unsigned ntried, uint64_t now_ns)
{
	uint64_t kh = hash_bytes(key, keylen, 0);
	int best = -1;
	double best_score = 0;

	for (uint32_t i = 0; i < u->n; i++) {
		uint64_t h;
		double x, score;

		if (!eligible(u, i, tried, ntried, now_ns))
			continue;
		h = hash_bytes(u->t[i].hostport, strlen(u->t[i].hostport), kh);
		/* map h to (0,1] and take -w/ln(x): the score of weighted HRW */
		x = ((double)(h >> 11) + 1.0) / 9007199254740992.0;
		score = -(double)u->t[i].weight / log(x);
		if (best < 0 || score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

int gwd_upstream_pick(struct gwd_upstream_state *u, const void *key, size_t keylen,
		      const uint32_t *tried, unsigned ntried, uint64_t now_ns)
{
	if (u->n == 0)
		return -1;
	switch (u->cfg.balance) {
	case GW_LB_LEAST_CONN:
		return pick_least(u, tried, ntried, now_ns);
	case GW_LB_HASH:
		if (keylen)
			return pick_hash(u, key, keylen, tried, ntried, now_ns);
		return pick_rr(u, tried, ntried, now_ns);
	default:
		return pick_rr(u, tried, ntried, now_ns);
	}
}

void gwd_upstream_done(struct gwd_upstream_state *u, uint32_t i, int ok, uint64_t now_ns)
{
	struct gwd_upstream_target_state *t = &u->t[i];

	if (ok) {
		atomic_store_explicit(&t->fails, 0, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&t->failures, 1, memory_order_relaxed);
	uint32_t f = atomic_fetch_add_explicit(&t->fails, 1, memory_order_relaxed) + 1;
	if (u->cfg.cb_failures && f >= u->cfg.cb_failures) {
		atomic_store_explicit(&t->ejected_until,
				      now_ns + (uint64_t)u->cfg.cb_cooldown_ms * 1000000ull,
				      memory_order_relaxed);
		/* the streak restarts: after the cool-down one more failure is not
		 * enough to eject again, cb_failures are */
		atomic_store_explicit(&t->fails, 0, memory_order_relaxed);
	}
}

unsigned gwd_upstream_retry_after(const struct gwd_upstream_state *u, uint64_t now_ns)
{
	uint64_t soonest = UINT64_MAX;

	for (uint32_t i = 0; i < u->n; i++) {
		uint64_t until = atomic_load_explicit(&u->t[i].ejected_until, memory_order_relaxed);

		if (until > now_ns && until < soonest)
			soonest = until;
	}
	if (soonest == UINT64_MAX) {
		/* unhealthy by active checks: the next check may bring it back */
		uint64_t s = u->cfg.hc_interval_ms ? ((uint64_t)u->cfg.hc_interval_ms + 999) / 1000 : 1;
		return s ? (unsigned)s : 1;
	}
	uint64_t s = (soonest - now_ns + 999999999ull) / 1000000000ull;
	return s ? (unsigned)s : 1;
}

int gwd_upstreams_ok(struct gwd_upstreams *ups, uint64_t now_ns)
{
	for (uint32_t i = 0; i < ups->n; i++) {
		int any = 0;

		for (uint32_t j = 0; j < ups->u[i].n && !any; j++)
			any = gwd_upstream_target_available(&ups->u[i].t[j], now_ns);
		if (!any)
			return 0;
	}
	return 1;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One probe: GET http://<hostport><path> (https, with the upstream's TLS
 * settings, for a tls upstream); healthy when it answers 2xx or 3xx within
 * the check's timeout. */
static int probe(const struct gwd_upstream_state *u, const struct gwd_upstream_target_state *t)
{
	char url[GWD_HOSTPORT_MAX + 1100];
	CURL *c = curl_easy_init();
	long code = 0;
	int ok = 0;

	if (!c)
		return 0;
	snprintf(url, sizeof url, "http://%s%s", t->hostport, u->cfg.hc_path.p);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			 (long)(u->cfg.hc_timeout_ms ? u->cfg.hc_timeout_ms : 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(u->cfg.connect_timeout_ms ? u->cfg.connect_timeout_ms : 1000));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "gwd-health/1");
	if (u->tls &&
	    (gwd_upstream_tls_apply(c, u->tls, (uint32_t)(t - u->t), NULL) != 0 ||
	     curl_easy_setopt(c, CURLOPT_REQUEST_TARGET, u->cfg.hc_path.p) != CURLE_OK)) {
		curl_easy_cleanup(c);
		return 0;
	}
	if (curl_easy_perform(c) == CURLE_OK &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
		ok = code >= 200 && code < 400;
	curl_easy_cleanup(c);
	return ok;
}

void gwd_upstream_health_round(struct gwd_upstreams *ups, uint64_t now_ns)
{
	for (uint32_t i = 0; i < ups->n; i++) {
		struct gwd_upstream_state *u = &ups->u[i];

		if (!u->cfg.hc_path.len || now_ns < u->next_check_ns)
			continue;
		u->next_check_ns = now_ns + (uint64_t)u->cfg.hc_interval_ms * 1000000ull;
		for (uint32_t j = 0; j < u->n; j++) {
			struct gwd_upstream_target_state *t = &u->t[j];
			int ok = probe(u, t);
			struct timespec wall;

			/* when and how it went, for the status page */
			clock_gettime(CLOCK_REALTIME, &wall);
			atomic_store_explicit(&t->last_check_ok, (uint32_t)ok, memory_order_relaxed);
			atomic_store_explicit(&t->last_check_ms,
					      (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000,
					      memory_order_relaxed);
			if (ok) {
				t->hc_bad = 0;
				if (++t->hc_ok >= u->cfg.hc_healthy)
					atomic_store_explicit(&t->healthy, 1, memory_order_relaxed);
			} else {
				t->hc_ok = 0;
				if (++t->hc_bad >= u->cfg.hc_unhealthy)
					atomic_store_explicit(&t->healthy, 0, memory_order_relaxed);
			}
		}
	}
}
