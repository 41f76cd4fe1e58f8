/* Cluster-wide rate limits by leases (gwd/cluster_rl.h): the lease tables,
 * the request path that spends them, and the lease thread that fills and
 * returns them in pipelined rounds. */
#include "gwd/cluster_rl.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "gwd/clock.h"
#include "gwd/metrics.h"
#include "gwd/ratelimit.h"
#include "gwd/redis.h"
#include "gwd/store.h"

#define LEASE_MS 10u           /* a slice: this long of the limit's rate */
#define LEASE_IDLE_NS 200000000ull /* an unused lease goes back after 200 ms */
#define TICK_NS 100000000ll     /* the lease thread's sleep when nobody kicks it */
#define NSHARDS 16u
#define MAX_ENTRIES 65536u      /* leases per limit (keys held at once) */
#define PROBES 16u              /* linear probes before a key takes the fallback */
#define MAX_BATCH 512u          /* scripts per pipeline */

/* The lease script.  KEYS[1] the bucket; ARGV: T (us per token), tolerance
 * (burst * T, us), N (> 0 take up to N, < 0 give -N back).  Returns
 * {granted, us until the next token when fewer than N were granted,
 * remaining}.  Redis's clock, so the instances' clocks do not matter. */
static const char LUA_LEASE[] =
	"local t=redis.call('TIME')\n"
	"local now=tonumber(t[1])*1000000+tonumber(t[2])\n"
	"local T=tonumber(ARGV[1]) local tol=tonumber(ARGV[2]) local n=tonumber(ARGV[3])\n"
	"local tat=tonumber(redis.call('GET',KEYS[1]) or '0')\n"
	"if tat<now then tat=now end\n"
	"local got=0\n"
	"if n<0 then tat=tat+n*T if tat<now then tat=now end\n"
	"else local room=math.floor((now+tol-tat)/T)\n"
	"  if room>n then room=n end\n"
	"  if room>0 then got=room tat=tat+room*T end end\n"
	"if tat>now then redis.call('SET',KEYS[1],string.format('%.0f',tat),'PX',"
	"math.floor((tat-now)/1000)+1000) else redis.call('DEL',KEYS[1]) end\n"
	"local wait=0\n"
	"if n>0 and got<n then wait=tat+T-tol-now if wait<0 then wait=0 end end\n"
	"return {got,math.floor(wait),math.floor((now+tol-tat)/T)}";

struct lease {
	uint64_t k0, k1;
	int64_t tokens;        /* taken from Redis, not yet spent */
	uint64_t empty_until;  /* ns (CLOCK_MONOTONIC): Redis has none before */
	uint64_t failed_at;    /* ns: the last round for it failed */
	uint64_t last_use;     /* ns */
	uint32_t remote;       /* Redis's remaining after the last round */
	uint32_t demand;       /* requests since its last round was asked */
	uint16_t waiters;      /* requests waiting for its round */
	uint8_t used, queued;
};

struct lshard {
	pthread_mutex_t mu;
	pthread_cond_t cv;     /* a round ended (waiters) */
	uint32_t mask;         /* entries - 1 */
	struct lease *ents;
	uint32_t *queue;       /* indices of queued leases */
	uint32_t nq;
} __attribute__((aligned(64)));

struct gwd_cluster_lim {
	struct gwd_ratelimit_table *t;  /* the table it belongs to (borrowed) */
	char prefix[64];        /* gw:rl:IDENT:INDEX: */
	char t_us[32], tol_us[32];
	int64_t slice;
	int64_t max_take;       /* most tokens one round asks for */
	struct lshard shards[NSHARDS];
	struct gwd_cluster_lim *next; /* all lims, under lims_mu */
};

static int configured;
#define LEASE_TIMEOUT_MS 500u   /* the lease thread's own store timeout: it
                                   blocks no request, and a slow round must
                                   not be mistaken for a dead store */

static struct gwd_store *store;
static struct gwd_redis_pool *pool;      /* the lease thread's own connection */
static pthread_mutex_t lims_mu = PTHREAD_MUTEX_INITIALIZER; /* list + rounds */
static struct gwd_cluster_lim *lims;
static pthread_t thr;
static int running;
static _Atomic int stopping;
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv;
static int kicked;               /* under wake_mu: a lease was queued */
static uint64_t timeout_ns = (uint64_t)GWD_REDIS_TIMEOUT_MS * 1000000u;
static _Atomic uint64_t n_rounds, n_scripts, n_waits, n_fallbacks, n_denied;


/* <ns> from now on CLOCK_MONOTONIC, as a timespec for timed waits. */
static struct timespec deadline_in(uint64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000u);
	ts.tv_nsec += (long)(ns % 1000000000u);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Init <cv> on CLOCK_MONOTONIC. */
static void cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

static const struct gwd_ratelimit_cluster_ops ops = {
	.lim_new = gwd_cluster_lim_new,
	.lim_free = gwd_cluster_lim_free,
	.admit = gwd_cluster_admit,
	.rollback = gwd_cluster_rollback,
};

/* See cluster_rl.h. */
void gwd_cluster_configure(const char *store_url)
{
	configured = gwd_redis_is_url(store_url);
	gwd_ratelimit_set_cluster_ops(&ops);
}

/* See cluster_rl.h. */
int gwd_cluster_configured(void)
{
	return configured;
}

/* ---- the lease tables ---- */

/* See cluster_rl.h. */
struct gwd_cluster_lim *gwd_cluster_lim_new(const struct gwd_ratelimit_table *t)
{
	struct gwd_cluster_lim *cl = NULL;
	uint32_t per = MAX_ENTRIES / NSHARDS;
	double rate_per_ms, t_us;
	int64_t slice;

	if (posix_memalign((void **)&cl, 64, sizeof *cl) != 0)
		return NULL;
	memset(cl, 0, sizeof *cl);
	while (per > 16 && (uint64_t)per * NSHARDS / 2 >= (uint64_t)t->max_keys * 2)
		per /= 2;
	cl->t = (struct gwd_ratelimit_table *)t;
	snprintf(cl->prefix, sizeof cl->prefix, "gw:rl:%016" PRIx64 ":%" PRIu32 ":", t->ident,
	         t->index);
	t_us = (double)t->period_ms * 1000.0 / (double)t->quota;
	snprintf(cl->t_us, sizeof cl->t_us, "%.6f", t_us);
	snprintf(cl->tol_us, sizeof cl->tol_us, "%.6f", t_us * (double)t->burst);
	rate_per_ms = (double)t->quota / (double)t->period_ms;
	slice = (int64_t)(rate_per_ms * LEASE_MS);
	if (slice > (int64_t)t->burst / 4)
		slice = (int64_t)t->burst / 4;
	cl->slice = slice < 1 ? 1 : slice;
	cl->max_take = (int64_t)t->burst / 4 > cl->slice ? (int64_t)t->burst / 4 : cl->slice;
	for (unsigned i = 0; i < NSHARDS; i++) {
		struct lshard *s = &cl->shards[i];
		pthread_mutex_init(&s->mu, NULL);
		cond_init_mono(&s->cv);
		s->mask = per - 1;
		s->ents = calloc(per, sizeof *s->ents);
		s->queue = calloc(per, sizeof *s->queue);
		if (!s->ents || !s->queue) {
			gwd_cluster_lim_free(cl);
			return NULL;
		}
	}
	pthread_mutex_lock(&lims_mu);
	cl->next = lims;
	lims = cl;
	pthread_mutex_unlock(&lims_mu);
	return cl;
}

/* See cluster_rl.h.  Leases still held are not given back: Redis forgets
 * them when their bucket's TTL ends (a reload that drops the limit). */
void gwd_cluster_lim_free(struct gwd_cluster_lim *cl)
{
	if (!cl)
		return;
	pthread_mutex_lock(&lims_mu);
	for (struct gwd_cluster_lim **l = &lims; *l; l = &(*l)->next)
		if (*l == cl) {
			*l = cl->next;
			break;
		}
	pthread_mutex_unlock(&lims_mu);
	for (unsigned i = 0; i < NSHARDS; i++) {
		free(cl->shards[i].ents);
		free(cl->shards[i].queue);
		pthread_mutex_destroy(&cl->shards[i].mu);
		pthread_cond_destroy(&cl->shards[i].cv);
	}
	free(cl);
}

/* The shard and the home slot of key <k>. */
static struct lshard *shard_of(struct gwd_cluster_lim *cl, const struct gwd_ratelimit_keyval *k,
                               uint32_t *home)
{
	uint64_t h = gwd_ratelimit_hash(k);

	*home = (uint32_t)(h >> 32);
	return &cl->shards[h & (NSHARDS - 1)];
}

/* Find or make the lease of <k> in <s> (locked) at <now>.  A slot is free
 * when unused, or holding no tokens, no waiter, no queued round and idle
 * past LEASE_IDLE.  Returns it, or NULL when its probe window is full. */
static struct lease *lease_get(struct lshard *s, uint32_t home,
			       const struct gwd_ratelimit_keyval *k, uint64_t now)
{
	struct lease *free_slot = NULL;

	for (uint32_t p = 0; p < PROBES && p <= s->mask; p++) {
		struct lease *e = &s->ents[(home + p) & s->mask];
		if (e->used && e->k0 == k->w[0] && e->k1 == k->w[1])
			return e;
		if (!free_slot && (!e->used || (e->tokens == 0 && !e->waiters && !e->queued &&
		                                now - e->last_use > LEASE_IDLE_NS)))
			free_slot = e;
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof *free_slot);
		free_slot->used = 1;
		free_slot->k0 = k->w[0];
		free_slot->k1 = k->w[1];
	}
	return free_slot;
}

/* Wake the lease thread for a round now.  Once per slice of a key (or per
 * wait), so the global mutex stays off the common path. */
static void kick(void)
{
	pthread_mutex_lock(&wake_mu);
	kicked = 1;
	pthread_cond_signal(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
}

/* Queue lease <e> of <s> (locked) for the next round and wake the thread. */
static void enqueue(struct lshard *s, struct lease *e)
{
	if (e->queued)
		return;
	e->queued = 1;
	s->queue[s->nq++] = (uint32_t)(e - s->ents);
	kick();
}

/* Fill <r> for a request of table <t> from a lease holding <tokens> after
 * it, Redis having <remote> more; <ok> admitted; <wait_ns> until Redis has
 * one again when refused. */
static void fill(struct gwd_ratelimit_table *t, int ok, int64_t tokens, uint32_t remote,
                 uint64_t wait_ns, struct gwd_ratelimit_result *r)
{
	uint64_t rem = (uint64_t)(tokens > 0 ? tokens : 0) + remote;

	r->table = t;
	r->cell = NULL;
	r->fallback = 0;
	r->cluster = (uint8_t)ok;
	r->admitted = (uint8_t)ok;
	r->limit = t->quota;
	r->remaining = rem > UINT32_MAX ? UINT32_MAX : (uint32_t)rem;
	r->reset_s = rem >= t->burst ? 0 : gwd_ratelimit_ceil_s((t->burst - rem) * t->t_ns);
	if (ok) {
		r->next_s = rem ? 0 : gwd_ratelimit_ceil_s(t->t_ns);
		r->retry_after_s = 0;
	} else {
		r->next_s = gwd_ratelimit_ceil_s(wait_ns ? wait_ns : t->t_ns);
		r->retry_after_s = r->next_s ? r->next_s : 1;
	}
}

/* The store cannot answer: what `on_store_error` says. */
static int store_error(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k,
		       uint64_t now, struct gwd_ratelimit_result *r)
{
	atomic_fetch_add_explicit(&n_fallbacks, 1, memory_order_relaxed);
	if (t->on_err == GW_RLE_DENY) {
		atomic_fetch_add_explicit(&n_denied, 1, memory_order_relaxed);
		fill(t, 0, 0, 0, 1000000000u, r);
		return 0;
	}
	return gwd_ratelimit_admit_local(t, k, now, r);
}

/* See cluster_rl.h. */
int gwd_cluster_admit(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k,
		      uint64_t now, struct gwd_ratelimit_result *r)
{
	struct gwd_cluster_lim *cl = t->cl;
	struct lshard *s;
	struct lease *e;
	uint64_t deadline = now + timeout_ns;
	uint32_t home;
	int waited = 0;

	if (!pool || !gwd_redis_pool_available(pool))
		return store_error(t, k, now, r);
	s = shard_of(cl, k, &home);
	pthread_mutex_lock(&s->mu);
	e = lease_get(s, home, k, now);
	if (!e) {
		/* more keys at once than the lease table holds: this one is
		 * limited by this instance alone */
		pthread_mutex_unlock(&s->mu);
		return gwd_ratelimit_admit_local(t, k, now, r);
	}
	e->demand++;
	for (;;) {
		e->last_use = now;
		if (e->tokens > 0) {
			e->tokens--;
			if (e->tokens * 2 <= cl->slice)
				enqueue(s, e);
			fill(t, 1, e->tokens, e->remote, 0, r);
			pthread_mutex_unlock(&s->mu);
			return 1;
		}
		if (now < e->empty_until) {
			fill(t, 0, 0, 0, e->empty_until - now, r);
			pthread_mutex_unlock(&s->mu);
			return 0;
		}
		if ((waited && e->failed_at >= now - timeout_ns) || now >= deadline ||
		    !gwd_redis_pool_available(pool)) {
			pthread_mutex_unlock(&s->mu);
			return store_error(t, k, now, r);
		}
		/* nothing leased and Redis not known to be empty: wait for a
		 * round (it runs at once: the thread is woken) */
		enqueue(s, e);
		e->waiters++;
		atomic_fetch_add_explicit(&n_waits, 1, memory_order_relaxed);
		struct timespec dl = deadline_in(deadline - now);
		pthread_cond_timedwait(&s->cv, &s->mu, &dl);
		e->waiters--;
		waited = 1;
		now = gwd_clock_ns();
	}
}

/* See cluster_rl.h. */
void gwd_cluster_rollback(const struct gwd_ratelimit_keyval *k, struct gwd_ratelimit_result *r)
{
	struct gwd_cluster_lim *cl = r->table->cl;
	struct lshard *s;
	struct lease *e;
	uint32_t home;

	r->cluster = 0;
	if (!cl)
		return;
	s = shard_of(cl, k, &home);
	pthread_mutex_lock(&s->mu);
	e = lease_get(s, home, k, gwd_clock_ns());
	if (e)
		e->tokens++;
	pthread_mutex_unlock(&s->mu);
}

/* ---- the lease thread ---- */

/* One script of a round: which lease, how many asked. */
struct job {
	struct gwd_cluster_lim *cl;
	uint32_t shard, idx;
	uint64_t k0, k1;
	int64_t n;
	char key[96], n_s[24];
};

/* Collect into <jobs> (room <cap>) the queued leases and, when <sweep>, the
 * leases unused for LEASE_IDLE (their tokens to give back), at <now>.
 * lims_mu held.  Returns the number collected. */
static size_t collect(struct job *jobs, size_t cap, uint64_t now, int sweep)
{
	size_t n = 0;

	for (struct gwd_cluster_lim *cl = lims; cl && n < cap; cl = cl->next) {
		for (unsigned si = 0; si < NSHARDS && n < cap; si++) {
			struct lshard *s = &cl->shards[si];
			uint32_t keep = 0;
			pthread_mutex_lock(&s->mu);
			for (uint32_t q = 0; q < s->nq; q++) {
				struct lease *e = &s->ents[s->queue[q]];
				if (n == cap) {
					s->queue[keep++] = s->queue[q];
					continue;
				}
				jobs[n].cl = cl;
				jobs[n].shard = si;
				jobs[n].idx = s->queue[q];
				jobs[n].k0 = e->k0;
				jobs[n].k1 = e->k1;
				/* a slice, or what was asked for since the last
				 * round when that is more (a round trip slower than
				 * the slice lasts): a lease keeps up with demand */
				jobs[n].n = e->demand > cl->slice ? e->demand : cl->slice;
				if (jobs[n].n > cl->max_take)
					jobs[n].n = cl->max_take;
				e->demand = 0;
				n++;
			}
			s->nq = keep;
			for (uint32_t i = 0; sweep && i <= s->mask && n < cap; i++) {
				struct lease *e = &s->ents[i];
				if (!e->used || e->queued || e->waiters || e->tokens <= 0 ||
				    now - e->last_use <= LEASE_IDLE_NS)
					continue;
				jobs[n].cl = cl;
				jobs[n].shard = si;
				jobs[n].idx = i;
				jobs[n].k0 = e->k0;
				jobs[n].k1 = e->k1;
				jobs[n].n = -e->tokens;
				e->tokens = 0;
				e->queued = 1;
				n++;
			}
			pthread_mutex_unlock(&s->mu);
		}
	}
	return n;
}

/* Run the <n> scripts of <jobs> in one pipeline and apply the answers (or
 * the failure) to their leases.  lims_mu held. */
static void run_round(struct job *jobs, size_t n)
{
	static const char *flat[MAX_BATCH][7];
	static const char *const *argv[MAX_BATCH];
	static int argc[MAX_BATCH];
	static redisReply *rep[MAX_BATCH];
	uint64_t now;
	int ok;

	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		char hex[33];
		uint8_t kb[16];
		memcpy(kb, &j->k0, 8);
		memcpy(kb + 8, &j->k1, 8);
		gwd_redis_hex(kb, 16, hex);
		snprintf(j->key, sizeof j->key, "%s%s", j->cl->prefix, hex);
		snprintf(j->n_s, sizeof j->n_s, "%" PRId64, j->n);
		flat[i][0] = "EVAL";
		flat[i][1] = LUA_LEASE;
		flat[i][2] = "1";
		flat[i][3] = j->key;
		flat[i][4] = j->cl->t_us;
		flat[i][5] = j->cl->tol_us;
		flat[i][6] = j->n_s;
		argv[i] = flat[i];
		argc[i] = 7;
	}
	ok = gwd_redis_pipeline(pool, n, argc, argv, NULL, rep) == 0;
	atomic_fetch_add_explicit(&n_rounds, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&n_scripts, n, memory_order_relaxed);
	now = gwd_clock_ns();
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		struct lshard *s = &j->cl->shards[j->shard];
		struct lease *e = &s->ents[j->idx];
		redisReply *r = ok ? rep[i] : NULL;
		int good = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		           r->element[0]->type == REDIS_REPLY_INTEGER;

		pthread_mutex_lock(&s->mu);
		if (e->used && e->k0 == j->k0 && e->k1 == j->k1) {
			e->queued = 0;
			if (good && j->n > 0) {
				long long got = r->element[0]->integer;
				long long wait_us = r->element[1]->integer;
				long long rem = r->element[2]->integer;
				e->tokens += got;
				e->remote = rem > 0 ? (uint32_t)(rem > UINT32_MAX ? UINT32_MAX : rem) : 0;
				if (e->tokens == 0)
					e->empty_until = now + (uint64_t)(wait_us > 0 ? wait_us : 1) * 1000u;
			} else if (!good) {
				e->failed_at = now;
				if (j->n < 0)
					e->tokens += -j->n; /* not given back: keep them */
			}
			pthread_cond_broadcast(&s->cv);
		}
		pthread_mutex_unlock(&s->mu);
		if (rep[i])
			freeReplyObject(rep[i]);
		rep[i] = NULL;
	}
}

/* The lease thread: a round as soon as a lease is queued (kick), else every
 * 100 ms for the sweep of idle leases; everything given back at the stop. */
static void *lease_main(void *arg)
{
	static struct job jobs[MAX_BATCH];
	uint64_t last_sweep = 0, healed_at = 0, backoff = 50000000u;

	(void)arg;
	for (;;) {
		int stop = atomic_load(&stopping);
		uint64_t now = gwd_clock_ns();
		int sweep = stop || now - last_sweep >= 100000000u;
		size_t n;

		/* reconnect with backoff (50 ms doubling to 1 s) */
		if (!gwd_redis_pool_available(pool) && now - healed_at >= backoff) {
			healed_at = now;
			if (gwd_redis_pool_heal(pool))
				backoff = 50000000u;
			else if (backoff < 1000000000u)
				backoff *= 2;
		}
		pthread_mutex_lock(&lims_mu);
		do {
			n = collect(jobs, MAX_BATCH, stop ? UINT64_MAX : now, sweep);
			if (n) /* a pool down fails the round: waiters are let go */
				run_round(jobs, n);
		} while (n == MAX_BATCH);
		pthread_mutex_unlock(&lims_mu);
		if (sweep)
			last_sweep = now;
		if (stop)
			break;
		pthread_mutex_lock(&wake_mu);
		if (!kicked && !atomic_load(&stopping)) {
			struct timespec dl = deadline_in((uint64_t)TICK_NS);
			pthread_cond_timedwait(&wake_cv, &wake_mu, &dl);
		}
		kicked = 0;
		pthread_mutex_unlock(&wake_mu);
	}
	return NULL;
}

/* Append the cluster-limit families to <b> (a metrics family renderer). */
static void metrics(struct gwd_buf *b, void *ctx)
{
	gwd_redis_metrics(b, ctx);
	gwd_buf_puts(b, "# HELP gateway_cluster_lease_rounds_total Lease rounds sent to the "
	                "store (one pipeline each).\n"
	                "# TYPE gateway_cluster_lease_rounds_total counter\n"
	                "gateway_cluster_lease_rounds_total ");
	gwd_buf_u64(b, atomic_load(&n_rounds));
	gwd_buf_puts(b, "\n# HELP gateway_cluster_lease_scripts_total Lease scripts run "
	                "(take or give back).\n"
	                "# TYPE gateway_cluster_lease_scripts_total counter\n"
	                "gateway_cluster_lease_scripts_total ");
	gwd_buf_u64(b, atomic_load(&n_scripts));
	gwd_buf_puts(b, "\n# HELP gateway_cluster_lease_waits_total Requests that waited for "
	                "a lease round.\n"
	                "# TYPE gateway_cluster_lease_waits_total counter\n"
	                "gateway_cluster_lease_waits_total ");
	gwd_buf_u64(b, atomic_load(&n_waits));
	gwd_buf_puts(b, "\n# HELP gateway_cluster_store_fallbacks_total Cluster-limited "
	                "requests decided without the store (on_store_error).\n"
	                "# TYPE gateway_cluster_store_fallbacks_total counter\n"
	                "gateway_cluster_store_fallbacks_total ");
	gwd_buf_u64(b, atomic_load(&n_fallbacks));
	gwd_buf_putc(b, '\n');
}

/* Share the key-hash seed through Redis: SET gw:rlseed NX, then GET (a
 * few tries while Redis comes up).  Returns 0, or -1 when Redis did not
 * answer (the process's own seed stays: hashed keys are then not shared). */
static int share_seed(void)
{
	uint64_t mine[2];
	char hex[33];

	if (getrandom(mine, sizeof mine, 0) != (ssize_t)sizeof mine)
		return -1;
	gwd_redis_hex((const uint8_t *)mine, sizeof mine, hex);
	for (int attempt = 0; attempt < 20; attempt++) {
		redisReply *r;
		if (!gwd_redis_pool_available(pool)) {
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
			(void)gwd_redis_pool_heal(pool);
			continue;
		}
		r = gwd_redis_cmd(pool, 4, (const char *const[]){ "SET", "gw:rlseed", hex, "NX" },
		                  NULL);
		if (r)
			freeReplyObject(r);
		r = gwd_redis_cmd(pool, 2, (const char *const[]){ "GET", "gw:rlseed" }, NULL);
		if (r && r->type == REDIS_REPLY_STRING && r->len == 32) {
			uint8_t b[16];
			uint64_t k[2];
			for (int i = 0; i < 16; i++) {
				unsigned v;
				sscanf(r->str + 2 * i, "%2x", &v);
				b[i] = (uint8_t)v;
			}
			memcpy(k, b, sizeof k);
			gwd_ratelimit_set_key_seed(k[0], k[1]);
			freeReplyObject(r);
			return 0;
		}
		if (r)
			freeReplyObject(r);
	}
	return -1;
}

/* See cluster_rl.h. */
int gwd_cluster_start(struct gwd_store *st, char *err, size_t errlen)
{
	struct gwd_redis_pool *sp = gwd_store_redis_pool(st);
	struct gwd_redis_conf conf;

	store = st;
	if (!sp)
		return 0;
	conf = *gwd_redis_pool_conf(sp);
	timeout_ns = (uint64_t)conf.timeout_ms * 1000000u;
	if (conf.timeout_ms < LEASE_TIMEOUT_MS)
		conf.timeout_ms = LEASE_TIMEOUT_MS;
	if (gwd_redis_pool_new(&pool, &conf, 1) < 0) {
		explicit_bzero(&conf, sizeof conf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	explicit_bzero(&conf, sizeof conf);
	gwd_metrics_add_family(metrics, NULL);
	if (share_seed() < 0)
		fprintf(stderr, "gwd: store: cannot share the rate-limit key seed yet: limits "
		        "keyed by user, api_key or header are per instance until a restart\n");
	cond_init_mono(&wake_cv);
	atomic_store(&stopping, 0);
	if (pthread_create(&thr, NULL, lease_main, NULL) != 0) {
		snprintf(err, errlen, "cannot start the lease thread");
		return -1;
	}
	running = 1;
	return 0;
}

/* See cluster_rl.h. */
void gwd_cluster_stop(void)
{
	if (!running)
		return;
	atomic_store(&stopping, 1);
	kick();
	pthread_join(thr, NULL);
	running = 0;
	pthread_cond_destroy(&wake_cv);
	gwd_redis_pool_free(pool);
	pool = NULL;
}
