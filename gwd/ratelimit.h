/* gwd's in-process rate limiter: GCRA per key, exact across threads.
 *
 * Each limit (struct gw_ratelimit of lib/model.h) gets a table mapping keys to
 * one 64-bit TAT, updated by compare-and-swap (see ratelimit-t.h for the
 * layout).  The fast path below -- hash, lock-free chain walk, CAS -- is
 * static inline, as HAProxy keeps its freq_ctr updates inline; the rare paths
 * (inserting a new key, evicting an expired one, the registry, the headers)
 * live in ratelimit.c.
 *
 * GCRA, with T = period / quota (ns) and a tolerance of burst * T:
 *   on a request at <now> with stored TAT (0 for a key never seen):
 *     new = max(TAT, now) + T
 *     admit iff new - now <= burst * T, then TAT := new
 * A full bucket (TAT <= now) therefore admits exactly <burst> requests at the
 * same instant, and the sustained rate is one per T = quota per period.  A key
 * whose TAT has passed is indistinguishable from an absent key, which is what
 * makes evicting it lossless.
 *
 * How the daemon uses it, per request (the clock is read once):
 *   struct gwd_ratelimit_check c[n] = { {table, key}, ... };   key from gwd_ratelimit_key_*()
 *   struct gwd_ratelimit_decision d;
 *   gwd_ratelimit_admit_all(c, n, gwd_clock_ns(), &d);
 *   size_t cap = gwd_ratelimit_headers_size(&d); char *buf = <cap bytes>;
 *   struct gwd_ratelimit_headers h;
 *   gwd_ratelimit_headers_render(&d, buf, cap, &h);  -> h.name[i]: h.value[i]
 *   d.admitted ? go on : 429 (d.refused says which limit, for the metrics)
 * and at blob load / retirement:
 *   t = gwd_ratelimit_registry_acquire(reg, policy->ident, i, &conf.ratelimits[...])
 *   gwd_ratelimit_registry_release(reg, t)
 */
#ifndef GWD_RATELIMIT_H
#define GWD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gwd/clock.h"
#include "gwd/ratelimit-t.h"
#include "lib/model.h"

/* Bytes of a header buffer that always suffices for gwd_ratelimit_headers_render
 * of a decision over <n> limits (each limit's name may appear twice, every
 * byte escaped in the worst case), and for any decision. */
#define GWD_RATELIMIT_HDR_BUF_N(n) ((size_t)(n) * (4 * GWD_RATELIMIT_NAME_MAX + 128) + 256)
#define GWD_RATELIMIT_HDR_BUF GWD_RATELIMIT_HDR_BUF_N(GWD_RATELIMIT_MAX_LIMITS)

/* The process's random hash seed: [0..1] index the tables, [2..3] key the
 * 128-bit hashes of gwd_ratelimit_key_bytes.  Filled from getrandom() by the first
 * gwd_ratelimit_table_new, gwd_ratelimit_registry_new or gwd_ratelimit_key_bytes. */
extern uint64_t gwd_ratelimit_seed[4];

/* ---- clock and keys --------------------------------------------------- */

/* The <now> every call below expects: gwd_clock_ns() (gwd/clock.h). */

/* Replace the key of gwd_ratelimit_key_bytes's hashes by <k0>, <k1>: instances of a
 * cluster share it, so that a user's cluster bucket is the same everywhere
 * (gwd/cluster_rl.h).  Call before serving. */
void gwd_ratelimit_set_key_seed(uint64_t k0, uint64_t k1);

/* Fill <k> with the 16-byte address <ip> (IPv6, or IPv4 v4-mapped as
 * gwd_clientip produces it): an IPv4 address as is, an IPv6 one by its /64
 * (the least a site or a home gets: its hosts pick addresses in it at will). */
void gwd_ratelimit_key_ip(struct gwd_ratelimit_keyval *k, const uint8_t ip[16]);

/* Fill <k> with a keyed 128-bit hash (SipHash-2-4-128 under a per-process
 * random key) of the <len> bytes at <p>: for user names, API key names and
 * header values.  <p> may be NULL when <len> is 0; an absent header and an
 * empty one share a bucket. */
void gwd_ratelimit_key_bytes(struct gwd_ratelimit_keyval *k, const void *p, size_t len);

/* ---- tables ----------------------------------------------------------- */

/* Make a table for limit <p> with <nshards> shards (a power of two, 0 for
 * the default of 64, fewer when max_keys is small).  <p>'s strings are
 * copied.  Returns the table, or NULL when memory runs out or <p> is invalid
 * (quota, period_ms, burst or max_keys 0).  Free with gwd_ratelimit_table_free. */
struct gwd_ratelimit_table *gwd_ratelimit_table_new(const struct gw_ratelimit *p, unsigned nshards);

/* Free <t> (NULL is fine).  Nobody may use it any more. */
void gwd_ratelimit_table_free(struct gwd_ratelimit_table *t);

/* Keys currently tracked by <t>, and requests sent so far to its shared
 * fallback bucket because their shard was full of unexpired keys. */
uint64_t gwd_ratelimit_table_keys(const struct gwd_ratelimit_table *t);
uint64_t gwd_ratelimit_table_fallbacks(const struct gwd_ratelimit_table *t);

/* The limit's name as given to gwd_ratelimit_table_new (NUL-terminated). */
static inline const char *gwd_ratelimit_table_name(const struct gwd_ratelimit_table *t)
{
	return t->name;
}

/* ---- the fast path (inline) ------------------------------------------- */

static inline uint64_t gwd_ratelimit_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3)                                   \
	do {                                                             \
		v0 += v1; v1 = gwd_ratelimit_rotl(v1, 13); v1 ^= v0;             \
		v0 = gwd_ratelimit_rotl(v0, 32);                                 \
		v2 += v3; v3 = gwd_ratelimit_rotl(v3, 16); v3 ^= v2;             \
		v0 += v3; v3 = gwd_ratelimit_rotl(v3, 21); v3 ^= v0;             \
		v2 += v1; v1 = gwd_ratelimit_rotl(v1, 17); v1 ^= v2;             \
		v2 = gwd_ratelimit_rotl(v2, 32);                                 \
	} while (0)

/* SipHash-1-3 of the 16 bytes of <k> under gwd_ratelimit_seed[0..1]: the index of a
 * key in a table.  Keyed, so that clients choosing their addresses (IPv6
 * gives them plenty) cannot pile their keys into one chain. */
static inline uint64_t gwd_ratelimit_hash(const struct gwd_ratelimit_keyval *k)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ gwd_ratelimit_seed[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ gwd_ratelimit_seed[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ gwd_ratelimit_seed[0];
	uint64_t v3 = 0x7465646279746573ULL ^ gwd_ratelimit_seed[1];
	uint64_t last = (uint64_t)16 << 56;

	v3 ^= k->w[0]; GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3); v0 ^= k->w[0];
	v3 ^= k->w[1]; GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3); v0 ^= k->w[1];
	v3 ^= last; GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3); v0 ^= last;
	v2 ^= 0xff;
	GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
	GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
	GWD_RATELIMIT_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Read cell <c> as a seqlock whose sequence is the TAT.  Returns 1 and sets
 * <*tat> when <c> holds <k> (the TAT was the same before and after reading
 * the key, so the key read is not torn), 0 when it holds another key or is
 * being re-keyed. */
static inline int gwd_ratelimit_cell_read(struct gwd_ratelimit_cell *c,
					  const struct gwd_ratelimit_keyval *k, uint64_t *tat)
{
	for (;;) {
		uint64_t t1 = atomic_load_explicit(&c->tat, memory_order_acquire);

		if (t1 == GWD_RATELIMIT_LOCKED)
			return 0;
		/* acquire: the second TAT load stays after the key loads, and a
		 * key written after a LOCKED swap shows that swap to the
		 * second load (the writer stores keys with release) */
		if (atomic_load_explicit(&c->k[0], memory_order_acquire) != k->w[0] ||
		    atomic_load_explicit(&c->k[1], memory_order_acquire) != k->w[1])
			return 0;
		if (atomic_load_explicit(&c->tat, memory_order_relaxed) == t1) {
			*tat = t1;
			return 1;
		}
		/* an admission moved the TAT meanwhile: read again */
	}
}

/* Seconds in <ns>, rounded up. */
static inline uint32_t gwd_ratelimit_ceil_s(uint64_t ns)
{
	uint64_t s = ns / 1000000000u + (ns % 1000000000u != 0);

	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* Fill <r> from limit <t>'s state at <now>: the key's TAT is <tat> (after
 * this request when it was admitted).  <ok> says whether the request was (or,
 * for a peek, would be) admitted.  Remaining counts the requests admitted at
 * once from here: floor((tol - ahead) / T) where ahead = max(TAT - now, 0). */
static inline void gwd_ratelimit_fill(struct gwd_ratelimit_table *t, int ok, uint64_t tat,
				      uint64_t now, struct gwd_ratelimit_result *r)
{
	uint64_t ahead = tat > now ? tat - now : 0; /* time until the bucket is full */
	uint64_t next;                              /* time until one more unit */

	r->table = t;
	r->limit = t->quota;
	r->admitted = (uint8_t)ok;
	r->reset_s = gwd_ratelimit_ceil_s(ahead);
	if (ahead <= t->tol_ns) {
		uint64_t x = t->tol_ns - ahead, rem = x / t->t_ns;

		r->remaining = rem > UINT32_MAX ? UINT32_MAX : (uint32_t)rem;
		next = ahead ? t->t_ns - x % t->t_ns : 0;
	} else {
		r->remaining = 0;
		next = ahead - t->tol_ns + t->t_ns;
	}
	r->next_s = gwd_ratelimit_ceil_s(next);
	if (ok) {
		r->retry_after_s = 0;
	} else {
		/* admitted again once TAT - now' + T <= tol: that is <next> */
		r->retry_after_s = r->next_s ? r->next_s : 1;
		r->cell = NULL;
	}
}

/* GCRA on cell <c> of table <t>, whose TAT was read as <tat>, at <now>.
 * <k> is the key the cell must still hold (NULL for the shared cell, which
 * is never re-keyed).  Returns 1 admitted, 0 refused (<r> filled either
 * way), -1 when the cell was re-keyed meanwhile (look the key up again). */
static inline int gwd_ratelimit_gcra(struct gwd_ratelimit_table *t, struct gwd_ratelimit_cell *c,
			     const struct gwd_ratelimit_keyval *k, uint64_t tat, uint64_t now,
			     struct gwd_ratelimit_result *r)
{
	for (;;) {
		uint64_t next = (tat > now ? tat : now) + t->t_ns;

		if (next - now > t->tol_ns) {
			gwd_ratelimit_fill(t, 0, tat, now, r);
			return 0;
		}
		if (atomic_compare_exchange_weak_explicit(&c->tat, &tat, next,
							  memory_order_acq_rel,
							  memory_order_acquire)) {
			r->cell = c;
			gwd_ratelimit_fill(t, 1, next, now, r);
			return 1;
		}
		if (k && !gwd_ratelimit_cell_read(c, k, &tat))
			return -1;
	}
}

/* Hops after which a lock-free walk gives up and lets the slow path look
 * under the lock: chains are short, but a walker racing with re-keying may
 * be sent along another chain. */
#define GWD_RATELIMIT_MAX_HOPS 1024

/* Find the cell of <k> in <t> without locking, its hash being <h>.  Returns
 * the cell and sets <*tat>, or NULL when absent (or the walk gave up). */
static inline struct gwd_ratelimit_cell *
gwd_ratelimit_find(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k, uint64_t h,
		   uint64_t *tat)
{
	struct gwd_ratelimit_shard *s = &t->shards[(uint32_t)(h >> 32) & t->smask];
	uint32_t i = atomic_load_explicit(&s->heads[(uint32_t)h & s->bmask],
					  memory_order_acquire);

	for (unsigned hops = 0; i != GWD_RATELIMIT_NIL && hops < GWD_RATELIMIT_MAX_HOPS; hops++) {
		struct gwd_ratelimit_cell *c = &s->cells[i - 1];

		if (gwd_ratelimit_cell_read(c, k, tat))
			return c;
		i = atomic_load_explicit(&c->next, memory_order_acquire);
	}
	return NULL;
}

/* The slow path of gwd_ratelimit_admit (ratelimit.c): under the shard's lock, find
 * <k> again or give it a cell (a fresh one, or an expired one re-keyed), or
 * charge the shared fallback bucket when the shard is full.  Same returns as
 * gwd_ratelimit_admit. */
int gwd_ratelimit_admit_slow(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k,
			     uint64_t h, uint64_t now, struct gwd_ratelimit_result *r);

/* One request of key <k> against table <t>'s own (local) buckets at <now>:
 * gwd_ratelimit_admit for a local table, and a cluster table's fallback while the
 * store cannot be reached.  Same returns as gwd_ratelimit_admit. */
static inline int gwd_ratelimit_admit_local(struct gwd_ratelimit_table *t,
					    const struct gwd_ratelimit_keyval *k, uint64_t now,
					    struct gwd_ratelimit_result *r)
{
	r->fallback = 0;
	r->cluster = 0;
	if (t->nshards == 0) {
		uint64_t tat = atomic_load_explicit(&t->shared.tat, memory_order_acquire);

		return gwd_ratelimit_gcra(t, &t->shared, NULL, tat, now, r);
	}
	uint64_t h = gwd_ratelimit_hash(k);
	uint64_t tat;
	struct gwd_ratelimit_cell *c = gwd_ratelimit_find(t, k, h, &tat);

	if (c) {
		int ret = gwd_ratelimit_gcra(t, c, k, tat, now, r);

		if (ret >= 0)
			return ret;
	}
	return gwd_ratelimit_admit_slow(t, k, h, now, r);
}

/* What cluster tables (scope: cluster) need from gwd/cluster_rl.c, which
 * installs it: a hook table rather than calls, so that the limiter links
 * alone (perf/bench_ratelimit.c) and knows nothing of Redis. */
struct gwd_ratelimit_cluster_ops {
	struct gwd_cluster_lim *(*lim_new)(const struct gwd_ratelimit_table *t);
	void (*lim_free)(struct gwd_cluster_lim *cl);
	int (*admit)(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k, uint64_t now,
		     struct gwd_ratelimit_result *r);
	void (*rollback)(const struct gwd_ratelimit_keyval *k, struct gwd_ratelimit_result *r);
};

/* The installed hooks (NULL: none; a cluster table then cannot be made). */
extern const struct gwd_ratelimit_cluster_ops *gwd_ratelimit_cluster;

/* Install <ops> (static storage) before any cluster table is made. */
void gwd_ratelimit_set_cluster_ops(const struct gwd_ratelimit_cluster_ops *ops);

/* One request of key <k> against table <t> at <now> (gwd_clock_ns()).  Returns
 * 1 when admitted (the request is counted; gwd_ratelimit_rollback can return it), 0
 * when limited (nothing counted).  <r> is filled in both cases.  A cluster
 * table (scope: cluster) answers from its lease (gwd/cluster_rl.h). */
static inline int gwd_ratelimit_admit(struct gwd_ratelimit_table *t,
				      const struct gwd_ratelimit_keyval *k, uint64_t now,
				      struct gwd_ratelimit_result *r)
{
	if (__builtin_expect(t->cl != NULL, 0))
		return gwd_ratelimit_cluster->admit(t, k, now, r);
	return gwd_ratelimit_admit_local(t, k, now, r);
}

/* Give back the request that gwd_ratelimit_admit counted in <r> (key <k>) because a
 * later limit refused it.  Nothing happens when <r> counted nothing, or when
 * the key expired and its cell went to another key meanwhile (an expired key
 * has a full bucket: there is nothing to give back). */
void gwd_ratelimit_rollback(const struct gwd_ratelimit_keyval *k, struct gwd_ratelimit_result *r);

/* What a request of key <k> would get from <t> at <now>, counting nothing:
 * <r> is filled as gwd_ratelimit_admit would (cell NULL).  Returns 1 if it would be
 * admitted, 0 if not. */
int gwd_ratelimit_peek(struct gwd_ratelimit_table *t, const struct gwd_ratelimit_keyval *k,
		       uint64_t now, struct gwd_ratelimit_result *r);

/* ---- a route's limits ------------------------------------------------- */

/* Check the <n> limits <c> (n <= GWD_RATELIMIT_MAX_LIMITS) for one request at
 * <now>, in order.  The request passes only if all admit it; a refusal
 * rolls back the ones already counted, so a refused request counts against
 * none.  Fills <d>: admitted, refused (the first limit refusing, -1), report
 * (the most restrictive limit: the longest Retry-After when refused, else the
 * fewest remaining) and every limit's result (limits after the refusing one
 * are peeked).  Returns 1 admitted, 0 refused, -1 when <n> is out of range. */
int gwd_ratelimit_admit_all(const struct gwd_ratelimit_check *c, unsigned n, uint64_t now,
		    struct gwd_ratelimit_decision *d);

/* Build table <t>'s fixed header text (its policy's quota and window, in the
 * fields its mode sends), once, when the table is made (ratelimit_hdr.c). */
void gwd_ratelimit_hdr_init(struct gwd_ratelimit_table *t);

/* Bytes of buffer that gwd_ratelimit_headers_render needs for decision <d>: a
 * bound from its tables' fixed text and the longest numbers, at most
 * GWD_RATELIMIT_HDR_BUF_N(d->n); 0 when <d> has no limits. */
size_t gwd_ratelimit_headers_size(const struct gwd_ratelimit_decision *d);

/* Render the header fields of decision <d> into <buf> (<cap> bytes;
 * gwd_ratelimit_headers_size(d), or GWD_RATELIMIT_HDR_BUF, suffices): X-RateLimit-Limit,
 * X-RateLimit-Remaining, X-RateLimit-Reset of the most restrictive limit,
 * RateLimit-Policy and RateLimit listing every limit, and Retry-After when
 * refused.  Only the per-request numbers are formatted: the text fixed per
 * limit was rendered by gwd_ratelimit_table_new, and X-RateLimit-Limit (always) and
 * a one-limit RateLimit-Policy point into <d>'s table instead of <buf>, so
 * <h> is valid while <buf> and those tables live.  Names are static.
 * Nothing is allocated.  Returns 0, or -1 when <cap> is below
 * gwd_ratelimit_headers_size(d) or <d> has no limits (<h>->n is then 0, and
 * nothing was written to <buf>). */
int gwd_ratelimit_headers_render(const struct gwd_ratelimit_decision *d, char *buf, size_t cap,
			 struct gwd_ratelimit_headers *h);

/* ---- identity across reloads ------------------------------------------ */

/* A registry of tables by policy identity.  Returns NULL when memory runs
 * out.  Free with gwd_ratelimit_registry_free once every table is released. */
struct gwd_ratelimit_registry *gwd_ratelimit_registry_new(void);
void gwd_ratelimit_registry_free(struct gwd_ratelimit_registry *reg);

/* The table of limit number <index> of the policy whose gw_policy.ident is
 * <ident>, with parameters <p>: the existing one (its counts kept) when a
 * live table has the same ident, index and parameters, else a new one.
 * Takes a reference.  Returns NULL when memory runs out.  Thread-safe. */
struct gwd_ratelimit_table *gwd_ratelimit_registry_acquire(struct gwd_ratelimit_registry *reg,
							   uint64_t ident, uint32_t index,
							   const struct gw_ratelimit *p);

/* Drop the reference a blob generation holds on <t>; the table is freed
 * when no generation refers to it.  Thread-safe; <t> NULL is fine. */
void gwd_ratelimit_registry_release(struct gwd_ratelimit_registry *reg,
				    struct gwd_ratelimit_table *t);

#endif
