/* The slow paths of gwd's rate limiter: making tables, inserting a new key,
 * evicting an expired one, rolling back, the per-route decision, and the
 * registry that keeps tables across reloads (the header fields are
 * ratelimit_hdr.c's).
 *
 * The fast path (ratelimit.h) never locks.  Everything here that changes a
 * chain runs under the shard's lock, so at most one thread re-keys cells of
 * a shard at a time, and a walk under the lock sees consistent chains.
 *
 * When a shard is full: a key whose TAT has passed is equivalent to an absent
 * key, so its cell is re-keyed for the newcomer without losing anything.  When
 * no cell of the shard has expired, the newcomer is charged to the table's
 * shared fallback bucket (same quota and burst) rather than refused: clients
 * already tracked keep their own buckets, and all untracked clients together
 * get at most one client's worth of traffic until cells expire.
 */
#include "gwd/ratelimit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

uint64_t gwd_ratelimit_seed[4];
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

/* Fill gwd_ratelimit_seed from the kernel's random source.  The hashes are a defence
 * against chosen keys, not a secret: when getrandom() and /dev/urandom both
 * fail, the clock and the pid still make the seed differ per process. */
static void seed_init(void)
{
	uint8_t buf[sizeof gwd_ratelimit_seed];
	size_t got = 0;

	while (got < sizeof buf) {
		ssize_t n = getrandom(buf + got, sizeof buf - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof buf) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof buf);

			got = n == (ssize_t)sizeof buf ? sizeof buf : 0;
			close(fd);
		}
	}
	memcpy(gwd_ratelimit_seed, buf, got == sizeof buf ? sizeof buf : 0);
	if (got < sizeof buf) {
		uint64_t x = gwd_clock_ns() ^ ((uint64_t)getpid() << 32);

		for (int i = 0; i < 4; i++) {
			/* splitmix64 */
			x += 0x9e3779b97f4a7c15ULL;
			uint64_t z = x;
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			gwd_ratelimit_seed[i] = z ^ (z >> 31);
		}
	}
}

/* Make sure gwd_ratelimit_seed is filled.  Cheap after the first call. */
static void seed(void)
{
	pthread_once(&seed_once, seed_init);
}

const struct gwd_ratelimit_cluster_ops *gwd_ratelimit_cluster;

void gwd_ratelimit_set_cluster_ops(const struct gwd_ratelimit_cluster_ops *ops)
{
	gwd_ratelimit_cluster = ops;
}

void gwd_ratelimit_set_key_seed(uint64_t k0, uint64_t k1)
{
	seed();
	gwd_ratelimit_seed[2] = k0;
	gwd_ratelimit_seed[3] = k1;
}

/* ---- keys ---------------------------------------------------------------- */

void gwd_ratelimit_key_ip(struct gwd_ratelimit_keyval *k, const uint8_t ip[16])
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memcpy(k->w, ip, 16);
	/* An IPv6 client holds a /64 at least and may pick any address in it
	 * (privacy addresses do so on their own): keyed per address, it would
	 * get a fresh bucket per request, and fill the table for everyone.
	 * IPv4 (v4-mapped) stays whole. */
	if (memcmp(ip, v4_mapped, sizeof v4_mapped) != 0)
		memset((uint8_t *)k->w + 8, 0, 8);
}

/* Little-endian 64-bit load of 8 bytes at <p>, any alignment. */
static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void gwd_ratelimit_key_bytes(struct gwd_ratelimit_keyval *k, const void *p, size_t len)
{
	const uint8_t *in = p;
	uint64_t k0, k1, v0, v1, v2, v3, b, m;
	size_t i;

	seed();
	k0 = gwd_ratelimit_seed[2];
	k1 = gwd_ratelimit_seed[3];
	/* SipHash-2-4 with its 128-bit output (the reference's 0xee/0xdd) */
	v0 = 0x736f6d6570736575ULL ^ k0;
	v1 = 0x646f72616e646f6dULL ^ k1 ^ 0xee;
	v2 = 0x6c7967656e657261ULL ^ k0;
	v3 = 0x7465646279746573ULL ^ k1;
	for (i = 0; i + 8 <= len; i += 8) {
		m = load64(in + i);
		v3 ^= m;
		GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
		GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	b = (uint64_t)len << 56;
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
	GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xee;
	for (int r = 0; r < 4; r++)
		GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
	k->w[0] = v0 ^ v1 ^ v2 ^ v3;
	v1 ^= 0xdd;
	for (int r = 0; r < 4; r++)
		GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
	k->w[1] = v0 ^ v1 ^ v2 ^ v3;
}

/* ---- tables -------------------------------------------------------------- */


/* Smallest power of two >= <n> (n >= 1, n <= 2^31). */
static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Give shard <s> <cap> cells and their chain heads in one zeroed, 64-byte
 * aligned allocation (calloc: pages not touched yet cost no memory, so a
 * table's resident size grows with the keys it sees).  Returns 0, or -1 when
 * memory runs out (nothing to free then). */
static int shard_init(struct gwd_ratelimit_shard *s, uint32_t cap)
{
	uint32_t nb = pow2_at_least(cap ? cap : 1);
	size_t hbytes = ((size_t)nb * sizeof *s->heads + 63) & ~(size_t)63;
	size_t size = hbytes + (size_t)cap * sizeof *s->cells + 64;
	uint8_t *mem = calloc(1, size), *base;

	if (!mem)
		return -1;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(mem);
		return -1;
	}
	base = mem + ((64 - ((uintptr_t)mem & 63)) & 63);
	s->mem = mem;
	s->heads = (_Atomic uint32_t *)base;
	s->cells = (struct gwd_ratelimit_cell *)(base + hbytes);
	s->cap = cap;
	s->bmask = nb - 1;
	return 0;
}

struct gwd_ratelimit_table *gwd_ratelimit_table_new(const struct gw_ratelimit *p, unsigned nshards)
{
	struct gwd_ratelimit_table *t = NULL;
	uint64_t period_ns, tol;
	uint32_t done = 0;

	if (!p->quota || !p->period_ms || !p->burst || !p->max_keys)
		return NULL;
	if (nshards & (nshards - 1))
		return NULL;
	seed();
	if (posix_memalign((void **)&t, 64, sizeof *t) != 0)
		return NULL;
	memset(t, 0, sizeof *t);
	period_ns = (uint64_t)p->period_ms * 1000000u;
	t->t_ns = period_ns / p->quota;
	if (t->t_ns == 0)
		t->t_ns = 1; /* rates above 10^9/s are taken as 10^9/s */
	/* burst * T; saturate far beyond any uptime so that sums stay in range */
	if (__builtin_mul_overflow((uint64_t)p->burst, t->t_ns, &tol) || tol > (1ULL << 62))
		tol = 1ULL << 62;
	t->tol_ns = tol;
	t->quota = p->quota;
	t->period_ms = p->period_ms;
	t->burst = p->burst;
	t->max_keys = p->max_keys;
	t->kind = p->key;
	t->scope = p->scope;
	t->on_err = p->on_store_error;
	if (p->name.p)
		snprintf(t->name, sizeof t->name, "%.*s", (int)p->name.len, p->name.p);
	gwd_ratelimit_hdr_init(t);
	if (p->key == GW_RLK_ROUTE)
		return t; /* one bucket: the shared cell, no shards */

	if (nshards == 0) {
		/* 64 shards, but no fewer than 64 cells each for small tables, so
		 * that an unlucky hash spread does not fill one shard early */
		nshards = 64;
		while (nshards > 1 && p->max_keys / nshards < 64)
			nshards >>= 1;
	}
	if (nshards > p->max_keys)
		nshards = pow2_at_least(p->max_keys) == p->max_keys ? p->max_keys
								   : pow2_at_least(p->max_keys) / 2;
	if (posix_memalign((void **)&t->shards, 64, nshards * sizeof *t->shards) != 0) {
		t->shards = NULL;
		goto fail;
	}
	memset(t->shards, 0, nshards * sizeof *t->shards);
	/* the shards' capacities add up to max_keys exactly */
	for (; done < nshards; done++) {
		uint32_t cap = p->max_keys / nshards + (done < p->max_keys % nshards);

		if (shard_init(&t->shards[done], cap) < 0)
			goto fail;
	}
	t->nshards = nshards;
	t->smask = nshards - 1;
	return t;
fail:
	if (t->shards) {
		for (uint32_t i = 0; i < done; i++) {
			pthread_mutex_destroy(&t->shards[i].lock);
			free(t->shards[i].mem);
		}
		free(t->shards);
	}
	free(t);
	return NULL;
}

void gwd_ratelimit_table_free(struct gwd_ratelimit_table *t)
{
	if (!t)
		return;
	if (t->cl)
		gwd_ratelimit_cluster->lim_free(t->cl);
	t->cl = NULL;
	for (uint32_t i = 0; i < t->nshards; i++) {
		pthread_mutex_destroy(&t->shards[i].lock);
		free(t->shards[i].mem);
		t->shards[i].mem = NULL;
	}
	free(t->shards);
	t->shards = NULL;
	free(t);
}

uint64_t gwd_ratelimit_table_keys(const struct gwd_ratelimit_table *t)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < t->nshards; i++)
		n += atomic_load_explicit(&t->shards[i].used, memory_order_relaxed);
	return n;
}

uint64_t gwd_ratelimit_table_fallbacks(const struct gwd_ratelimit_table *t)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < t->nshards; i++)
		n += atomic_load_explicit(&t->shards[i].fallbacks, memory_order_relaxed);
	return n;
}

/* ---- insertion and eviction (under the shard's lock) --------------------- */

/* Link cell number <i> of <s> at the head of chain <b>, the cell's key and
 * TAT being written already.  The release store publishes them. */
static void chain_push(struct gwd_ratelimit_shard *s, uint32_t i, uint32_t b)
{
	atomic_store_explicit(&s->cells[i].next,
			      atomic_load_explicit(&s->heads[b], memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&s->heads[b], i + 1, memory_order_release);
}

/* Unlink cell number <i> from chain <b> of <s>.  The cell keeps its next
 * link, so a walker standing on it carries on along the chain. */
static void chain_remove(struct gwd_ratelimit_shard *s, uint32_t i, uint32_t b)
{
	_Atomic uint32_t *link = &s->heads[b];
	uint32_t cur;

	while ((cur = atomic_load_explicit(link, memory_order_relaxed)) != i + 1) {
		if (cur == GWD_RATELIMIT_NIL)
			return; /* not linked: cannot happen under the lock */
		link = &s->cells[cur - 1].next;
	}
	atomic_store_explicit(link, atomic_load_explicit(&s->cells[i].next, memory_order_relaxed),
			      memory_order_release);
}

/* Find an expired cell of full shard <s> at <now> and lock it for re-keying
 * (its TAT set to GWD_RATELIMIT_LOCKED).  The clock hand resumes where the last
 * search stopped, so successive evictions sweep the shard.  When a whole
 * sweep finds none, remember the earliest TAT seen: nothing can expire
 * before it, and the next newcomers go to the fallback without a sweep.
 * Returns the cell number, or -1 when none has expired. */
static int64_t evict_one(struct gwd_ratelimit_shard *s, uint64_t now)
{
	uint64_t earliest = UINT64_MAX;

	if (now < s->quiet_until)
		return -1;
	for (uint32_t n = 0; n < s->cap; n++) {
		uint32_t i = s->hand;
		uint64_t tat = atomic_load_explicit(&s->cells[i].tat, memory_order_relaxed);

		s->hand = i + 1 == s->cap ? 0 : i + 1;
		/* strictly passed: the cell's next TAT, >= now + T, then exceeds
		 * every TAT it held, which is what keeps lock-free readers right */
		while (tat < now) {
			if (atomic_compare_exchange_weak_explicit(&s->cells[i].tat, &tat,
								  GWD_RATELIMIT_LOCKED,
								  memory_order_acq_rel,
								  memory_order_relaxed))
				return i;
		}
		if (tat < earliest)
			earliest = tat;
	}
	s->quiet_until = earliest;
	return -1;
}

int gwd_ratelimit_admit_slow(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k,
			     uint64_t h, uint64_t now, struct gwd_ratelimit_result *r)
{
	struct gwd_ratelimit_shard *s = &t->shards[(uint32_t)(h >> 32) & t->smask];
	uint32_t b = (uint32_t)h & s->bmask;
	uint32_t i, used;
	uint64_t tat;
	int64_t victim;
	int ret;

	pthread_mutex_lock(&s->lock);
	/* Look again: another thread may have inserted <k>, or the lock-free
	 * walk gave up.  Under the lock chains are stable and nothing re-keys,
	 * so the compare-and-swap below cannot lose its cell. */
	for (i = atomic_load_explicit(&s->heads[b], memory_order_acquire); i != GWD_RATELIMIT_NIL;
	     i = atomic_load_explicit(&s->cells[i - 1].next, memory_order_acquire)) {
		if (gwd_ratelimit_cell_read(&s->cells[i - 1], k, &tat)) {
			ret = gwd_ratelimit_gcra(t, &s->cells[i - 1], k, tat, now, r);
			pthread_mutex_unlock(&s->lock);
			return ret;
		}
	}
	used = atomic_load_explicit(&s->used, memory_order_relaxed);
	if (used < s->cap) {
		i = used;
		atomic_store_explicit(&s->used, used + 1, memory_order_relaxed);
	} else {
		victim = evict_one(s, now);
		if (victim < 0) {
			atomic_fetch_add_explicit(&s->fallbacks, 1, memory_order_relaxed);
			pthread_mutex_unlock(&s->lock);
			tat = atomic_load_explicit(&t->shared.tat, memory_order_acquire);
			ret = gwd_ratelimit_gcra(t, &t->shared, NULL, tat, now, r);
			r->fallback = 1;
			return ret;
		}
		i = (uint32_t)victim;
		struct gwd_ratelimit_keyval old = {
			{ atomic_load_explicit(&s->cells[i].k[0], memory_order_relaxed),
			  atomic_load_explicit(&s->cells[i].k[1], memory_order_relaxed) }
		};
		chain_remove(s, i, (uint32_t)gwd_ratelimit_hash(&old) & s->bmask);
	}
	/* A newcomer's first request, from a full bucket, is always admitted:
	 * its TAT becomes now + T (and T <= burst * T).  The key stores are
	 * releases: a reader seeing the new key sees the LOCKED TAT too. */
	atomic_store_explicit(&s->cells[i].k[0], k->w[0], memory_order_release);
	atomic_store_explicit(&s->cells[i].k[1], k->w[1], memory_order_release);
	atomic_store_explicit(&s->cells[i].tat, now + t->t_ns, memory_order_release);
	chain_push(s, i, b);
	pthread_mutex_unlock(&s->lock);
	r->cell = &s->cells[i];
	gwd_ratelimit_fill(t, 1, now + t->t_ns, now, r);
	return 1;
}

/* ---- rollback and peek --------------------------------------------------- */

void gwd_ratelimit_rollback(const struct gwd_ratelimit_keyval *k, struct gwd_ratelimit_result *r)
{
	struct gwd_ratelimit_cell *c = r->cell;
	struct gwd_ratelimit_table *t = r->table;
	uint64_t tat;

	if (r->cluster && r->admitted && gwd_ratelimit_cluster) {
		gwd_ratelimit_cluster->rollback(k, r);
		return;
	}
	if (!c || !r->admitted)
		return;
	r->cell = NULL;
	if (c == &t->shared)
		tat = atomic_load_explicit(&c->tat, memory_order_acquire);
	else if (!gwd_ratelimit_cell_read(c, k, &tat))
		return; /* re-keyed: the key had expired, its bucket is full */
	for (;;) {
		/* TAT >= T here: our own admission added T on top of >= 0 */
		uint64_t back = tat >= t->t_ns ? tat - t->t_ns : 0;

		if (atomic_compare_exchange_weak_explicit(&c->tat, &tat, back,
							  memory_order_acq_rel,
							  memory_order_acquire))
			return;
		if (c != &t->shared && !gwd_ratelimit_cell_read(c, k, &tat))
			return;
	}
}

int gwd_ratelimit_peek(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k,
		       uint64_t now, struct gwd_ratelimit_result *r)
{
	uint64_t tat = 0; /* absent: a full bucket */
	int ok;

	r->fallback = 0;
	r->cluster = 0;
	if (t->nshards == 0)
		tat = atomic_load_explicit(&t->shared.tat, memory_order_acquire);
	else if (!gwd_ratelimit_find(t, k, gwd_ratelimit_hash(k), &tat))
		tat = 0;
	ok = (tat > now ? tat - now : 0) + t->t_ns <= t->tol_ns;
	gwd_ratelimit_fill(t, ok, tat, now, r);
	r->cell = NULL;
	return ok;
}

/* ---- a route's limits ---------------------------------------------------- */

int gwd_ratelimit_admit_all(const struct gwd_ratelimit_check *c, unsigned n, uint64_t now,
		    struct gwd_ratelimit_decision *d)
{
	unsigned i, j, best = 0;

	d->n = 0;
	d->refused = -1;
	d->report = 0;
	d->admitted = 1;
	if (n > GWD_RATELIMIT_MAX_LIMITS)
		return -1;
	d->n = (uint8_t)n;
	for (i = 0; i < n; i++)
		if (!gwd_ratelimit_admit(c[i].table, &c[i].key, now, &d->r[i]))
			break;
	if (i == n) {
		/* most restrictive: fewest remaining, then the longest reset */
		for (j = 1; j < n; j++)
			if (d->r[j].remaining < d->r[best].remaining ||
			    (d->r[j].remaining == d->r[best].remaining &&
			     d->r[j].reset_s > d->r[best].reset_s))
				best = j;
		d->report = (uint8_t)best;
		return 1;
	}
	d->admitted = 0;
	d->refused = (int8_t)i;
	/* a refused request counts against none: return what the earlier
	 * limits took, then report every limit as it stands */
	for (j = 0; j < i; j++) {
		gwd_ratelimit_rollback(&c[j].key, &d->r[j]);
		gwd_ratelimit_peek(c[j].table, &c[j].key, now, &d->r[j]);
	}
	for (j = i + 1; j < n; j++)
		gwd_ratelimit_peek(c[j].table, &c[j].key, now, &d->r[j]);
	/* most restrictive: the longest wait (only waits of limits that would
	 * refuse count), the first refusing limit on a tie */
	best = i;
	for (j = 0; j < n; j++)
		if (d->r[j].remaining == 0 && d->r[j].retry_after_s > d->r[best].retry_after_s)
			best = j;
	d->report = (uint8_t)best;
	return 0;
}

/* ---- registry ------------------------------------------------------------ */

struct gwd_ratelimit_registry *gwd_ratelimit_registry_new(void)
{
	struct gwd_ratelimit_registry *reg = calloc(1, sizeof *reg);

	if (!reg)
		return NULL;
	if (pthread_mutex_init(&reg->lock, NULL) != 0) {
		free(reg);
		return NULL;
	}
	seed();
	return reg;
}

void gwd_ratelimit_registry_free(struct gwd_ratelimit_registry *reg)
{
	struct gwd_ratelimit_table *t, *next;

	if (!reg)
		return;
	/* tables still referenced are freed too: the daemon is going away */
	for (t = reg->tables; t; t = next) {
		next = t->next;
		gwd_ratelimit_table_free(t);
	}
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

/* Whether table <t> was made from parameters equal to <p>: same limit,
 * same key, same name, so reusing it keeps every count meaningful. */
static int same_params(const struct gwd_ratelimit_table *t, const struct gw_ratelimit *p)
{
	char name[GWD_RATELIMIT_NAME_MAX] = "";

	if (p->name.p)
		snprintf(name, sizeof name, "%.*s", (int)p->name.len, p->name.p);
	return t->quota == p->quota && t->period_ms == p->period_ms &&
	       t->burst == p->burst && t->max_keys == p->max_keys && t->kind == p->key &&
	       t->scope == p->scope && t->on_err == p->on_store_error &&
	       strcmp(t->name, name) == 0;
}

struct gwd_ratelimit_table *gwd_ratelimit_registry_acquire(struct gwd_ratelimit_registry *reg,
							   uint64_t ident, uint32_t index,
							   const struct gw_ratelimit *p)
{
	struct gwd_ratelimit_table *t;

	pthread_mutex_lock(&reg->lock);
	for (t = reg->tables; t; t = t->next)
		if (t->ident == ident && t->index == index && same_params(t, p)) {
			t->refs++;
			goto done;
		}
	t = gwd_ratelimit_table_new(p, 0);
	if (t) {
		t->ident = ident;
		t->index = index;
		if (p->scope == GW_RLS_CLUSTER &&
		    (!gwd_ratelimit_cluster || !(t->cl = gwd_ratelimit_cluster->lim_new(t)))) {
			gwd_ratelimit_table_free(t);
			t = NULL;
			goto done;
		}
		t->refs = 1;
		t->next = reg->tables;
		reg->tables = t;
	}
done:
	pthread_mutex_unlock(&reg->lock);
	return t;
}

void gwd_ratelimit_registry_release(struct gwd_ratelimit_registry *reg,
				    struct gwd_ratelimit_table *t)
{
	struct gwd_ratelimit_table **link;

	if (!t)
		return;
	pthread_mutex_lock(&reg->lock);
	if (--t->refs == 0) {
		for (link = &reg->tables; *link; link = &(*link)->next)
			if (*link == t) {
				*link = t->next;
				break;
			}
		gwd_ratelimit_table_free(t);
	}
	pthread_mutex_unlock(&reg->lock);
}
