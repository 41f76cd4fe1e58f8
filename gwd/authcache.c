/* The credential cache (gwd/authcache.h): fixed pools of entries per shard,
 * chained hash buckets, CLOCK eviction, a generation per shard.  Everything is
 * allocated at creation, so lookups and inserts never allocate. */
#include "gwd/authcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
#define MAX_SHARDS 64u

struct ac_entry {
	uint8_t digest[GWD_STORE_DIGEST_LEN];
	struct gwd_authcache_val v;
	uint32_t next;  /* bucket chain when used, free list when not */
	uint8_t used, dirty, ref;
};

struct ac_shard {
	pthread_mutex_t mu;
	uint64_t gen;
	uint32_t cap, count, mask, hand, free_head;
	uint32_t *buckets;      /* mask + 1 heads */
	struct ac_entry *ents;  /* cap entries */
} __attribute__((aligned(64))); /* one shard per cache line: no false sharing */

struct gwd_authcache {
	uint32_t nshards, capacity;
	_Atomic uint64_t revision;
	struct ac_shard *shards;
};

/* The first 8 digest bytes as an integer: a SHA-256 output is uniform, so any
 * bits do for the shard and the bucket. */
static uint64_t dhash(const uint8_t *d)
{
	uint64_t h;

	memcpy(&h, d, sizeof h);
	return h;
}

/* The shard of digest <d>: its low bits. */
static struct ac_shard *shard_of(struct gwd_authcache *c, const uint8_t *d)
{
	return &c->shards[dhash(d) & (c->nshards - 1)];
}

/* The bucket of <d> in shard <s>: bits the shard choice did not use. */
static uint32_t bucket_of(const struct ac_shard *s, const uint8_t *d)
{
	return (uint32_t)(dhash(d) >> 32) & s->mask;
}

/* See authcache.h. */
int gwd_authcache_new(struct gwd_authcache **out, uint32_t max_entries)
{
	struct gwd_authcache *c = NULL;
	uint32_t per;

	*out = NULL;
	if (max_entries == 0)
		max_entries = 1;
	c = calloc(1, sizeof *c);
	if (!c)
		goto fail;
	/* Enough shards to spread the threads, few enough that every shard holds
	 * at least 16 entries (small caches stay exactly bounded). */
	c->nshards = 1;
	while (c->nshards < MAX_SHARDS && max_entries / (c->nshards * 2) >= 16)
		c->nshards *= 2;
	per = max_entries / c->nshards;
	c->capacity = per * c->nshards;
	c->shards = aligned_alloc(64, sizeof *c->shards * c->nshards);
	if (!c->shards)
		goto fail;
	memset(c->shards, 0, sizeof *c->shards * c->nshards);
	for (uint32_t i = 0; i < c->nshards; i++) {
		struct ac_shard *s = &c->shards[i];
		uint32_t nb = 1;
		while (nb < per)
			nb *= 2;
		pthread_mutex_init(&s->mu, NULL);
		s->cap = per;
		s->mask = nb - 1;
		s->buckets = malloc(sizeof *s->buckets * nb);
		s->ents = calloc(per, sizeof *s->ents);
		if (!s->buckets || !s->ents) {
			c->nshards = i + 1;
			goto fail;
		}
		for (uint32_t b = 0; b < nb; b++)
			s->buckets[b] = NIL;
		for (uint32_t e = 0; e < per; e++)
			s->ents[e].next = e + 1 < per ? e + 1 : NIL;
		s->free_head = 0;
	}
	*out = c;
	return 0;
fail:
	gwd_authcache_free(c);
	return -1;
}

/* See authcache.h. */
void gwd_authcache_free(struct gwd_authcache *c)
{
	if (!c)
		return;
	if (c->shards) {
		for (uint32_t i = 0; i < c->nshards; i++) {
			struct ac_shard *s = &c->shards[i];
			if (s->ents)
				explicit_bzero(s->ents, sizeof *s->ents * s->cap);
			free(s->buckets);
			free(s->ents);
			pthread_mutex_destroy(&s->mu);
		}
		free(c->shards);
	}
	free(c);
}

/* Find <d> in <s> (locked).  Returns its index and sets <*prev> to the index
 * of the entry before it in its chain (NIL: it is the head), or NIL. */
static uint32_t find(struct ac_shard *s, const uint8_t *d, uint32_t *prev)
{
	uint32_t p = NIL;

	for (uint32_t i = s->buckets[bucket_of(s, d)]; i != NIL; i = s->ents[i].next) {
		if (memcmp(s->ents[i].digest, d, GWD_STORE_DIGEST_LEN) == 0) {
			if (prev)
				*prev = p;
			return i;
		}
		p = i;
	}
	return NIL;
}

/* Unlink entry <i> (whose chain predecessor is <prev>) of <s> (locked) and put
 * it on the free list. */
static void unlink_entry(struct ac_shard *s, uint32_t i, uint32_t prev)
{
	struct ac_entry *e = &s->ents[i];

	if (prev == NIL)
		s->buckets[bucket_of(s, e->digest)] = e->next;
	else
		s->ents[prev].next = e->next;
	e->used = e->dirty = e->ref = 0;
	e->next = s->free_head;
	s->free_head = i;
	s->count--;
}

/* Remove entry <i> of <s> (locked), finding its predecessor first. */
static void remove_entry(struct ac_shard *s, uint32_t i)
{
	uint32_t prev = NIL;

	if (find(s, s->ents[i].digest, &prev) == i)
		unlink_entry(s, i, prev);
}

/* A free entry of <s> (locked), evicting one by CLOCK when the pool is full:
 * the hand clears reference bits until it meets an entry not used since its
 * last pass.  Returns its index (unlinked, not yet counted). */
static uint32_t take_entry(struct ac_shard *s)
{
	uint32_t i;

	if (s->free_head == NIL) {
		for (uint32_t n = 0; ; n++) {
			struct ac_entry *e = &s->ents[s->hand];
			uint32_t at = s->hand;
			s->hand = s->hand + 1 < s->cap ? s->hand + 1 : 0;
			/* After one full turn every bit is clear, so this ends. */
			if (e->used && e->ref && n < s->cap) {
				e->ref = 0;
				continue;
			}
			if (e->used)
				remove_entry(s, at);
			break;
		}
	}
	i = s->free_head;
	s->free_head = s->ents[i].next;
	return i;
}

/* 1 when <v> has ended at <now> under <idle_ms>/<lifetime_ms> (0: no such
 * limit), 0 when alive. */
static int ended(const struct gwd_authcache_val *v, uint64_t now, uint32_t idle_ms,
                 uint32_t lifetime_ms)
{
	if (now >= v->expires_ms)
		return 1;
	if (lifetime_ms && now >= v->created_ms + lifetime_ms)
		return 1;
	if (idle_ms && now >= v->last_seen_ms + idle_ms)
		return 1;
	return 0;
}

/* See authcache.h. */
int gwd_authcache_get(struct gwd_authcache *c, const uint8_t digest[GWD_STORE_DIGEST_LEN],
                  uint64_t now_ms, uint32_t idle_ms, uint32_t lifetime_ms,
                  int touch, char *name, uint8_t *len)
{
	struct ac_shard *s = shard_of(c, digest);
	uint32_t i, prev = NIL;
	int r = GWD_AUTHCACHE_MISS;

	pthread_mutex_lock(&s->mu);
	i = find(s, digest, &prev);
	if (i != NIL) {
		struct ac_entry *e = &s->ents[i];
		if (ended(&e->v, now_ms, idle_ms, lifetime_ms)) {
			unlink_entry(s, i, prev);
			r = GWD_AUTHCACHE_EXPIRED;
		} else {
			e->ref = 1;
			if (touch && now_ms > e->v.last_seen_ms) {
				e->v.last_seen_ms = now_ms;
				e->dirty = 1;
			}
			memcpy(name, e->v.name, (size_t)e->v.len + 1);
			*len = e->v.len;
			r = GWD_AUTHCACHE_HIT;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* See authcache.h. */
uint64_t gwd_authcache_gen(struct gwd_authcache *c, const uint8_t digest[GWD_STORE_DIGEST_LEN])
{
	struct ac_shard *s = shard_of(c, digest);
	uint64_t g;

	pthread_mutex_lock(&s->mu);
	g = s->gen;
	pthread_mutex_unlock(&s->mu);
	return g;
}

/* See authcache.h. */
int gwd_authcache_put(struct gwd_authcache *c, const uint8_t digest[GWD_STORE_DIGEST_LEN],
                  uint64_t gen, const struct gwd_authcache_val *v, int dirty)
{
	struct ac_shard *s = shard_of(c, digest);
	struct ac_entry *e;
	uint32_t i;
	int r = 0;

	if (v->len > GWD_STORE_NAME_MAX)
		return 0;
	pthread_mutex_lock(&s->mu);
	if (s->gen != gen || s->cap == 0)
		goto out;
	i = find(s, digest, NULL);
	if (i == NIL) {
		uint32_t b;
		i = take_entry(s);
		e = &s->ents[i];
		memcpy(e->digest, digest, GWD_STORE_DIGEST_LEN);
		b = bucket_of(s, digest);
		e->next = s->buckets[b];
		s->buckets[b] = i;
		e->used = 1;
		/* A new entry starts without its second chance: one that is never
		 * used again goes first, so a burst of one-off sessions (a login
		 * storm) cannot push out the sessions in use. */
		e->ref = 0;
		s->count++;
	}
	e = &s->ents[i];
	e->v = *v;
	e->v.name[e->v.len] = '\0';
	e->dirty = dirty ? 1 : 0;
	r = 1;
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* See authcache.h. */
int gwd_authcache_remove(struct gwd_authcache *c, const uint8_t digest[GWD_STORE_DIGEST_LEN])
{
	struct ac_shard *s = shard_of(c, digest);
	uint32_t i, prev = NIL;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	s->gen++;
	i = find(s, digest, &prev);
	if (i != NIL) {
		unlink_entry(s, i, prev);
		r = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* See authcache.h. */
void gwd_authcache_clear(struct gwd_authcache *c)
{
	for (uint32_t k = 0; k < c->nshards; k++) {
		struct ac_shard *s = &c->shards[k];
		pthread_mutex_lock(&s->mu);
		s->gen++;
		for (uint32_t b = 0; b <= s->mask; b++)
			s->buckets[b] = NIL;
		for (uint32_t e = 0; e < s->cap; e++) {
			s->ents[e].used = s->ents[e].dirty = s->ents[e].ref = 0;
			s->ents[e].next = e + 1 < s->cap ? e + 1 : NIL;
		}
		s->free_head = s->cap ? 0 : NIL;
		s->count = 0;
		s->hand = 0;
		pthread_mutex_unlock(&s->mu);
	}
}

/* See authcache.h.  The exchange elects one thread to do the clearing. */
void gwd_authcache_sync(struct gwd_authcache *c, uint64_t revision)
{
	if (atomic_load_explicit(&c->revision, memory_order_acquire) == revision)
		return;
	if (atomic_exchange(&c->revision, revision) != revision)
		gwd_authcache_clear(c);
}

/* See authcache.h. */
size_t gwd_authcache_collect(struct gwd_authcache *c, struct gwd_authcache_cursor *cur,
                         struct gwd_store_touch *out, size_t n)
{
	size_t got = 0;

	while (got < n && cur->shard < c->nshards) {
		struct ac_shard *s = &c->shards[cur->shard];
		pthread_mutex_lock(&s->mu);
		for (; cur->idx < s->cap && got < n; cur->idx++) {
			struct ac_entry *e = &s->ents[cur->idx];
			if (!e->used || !e->dirty)
				continue;
			memcpy(out[got].hash, e->digest, GWD_STORE_DIGEST_LEN);
			out[got].last_seen_ms = e->v.last_seen_ms;
			e->dirty = 0;
			got++;
		}
		pthread_mutex_unlock(&s->mu);
		if (cur->idx >= s->cap) {
			cur->shard++;
			cur->idx = 0;
		}
	}
	return got;
}

/* See authcache.h. */
void gwd_authcache_redirty(struct gwd_authcache *c, const struct gwd_store_touch *t, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct ac_shard *s = shard_of(c, t[k].hash);
		uint32_t i;
		pthread_mutex_lock(&s->mu);
		i = find(s, t[k].hash, NULL);
		if (i != NIL)
			s->ents[i].dirty = 1;
		pthread_mutex_unlock(&s->mu);
	}
}

/* See authcache.h. */
uint32_t gwd_authcache_count(struct gwd_authcache *c)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < c->nshards; k++) {
		pthread_mutex_lock(&c->shards[k].mu);
		n += c->shards[k].count;
		pthread_mutex_unlock(&c->shards[k].mu);
	}
	return n;
}

/* See authcache.h. */
uint32_t gwd_authcache_capacity(const struct gwd_authcache *c)
{
	return c->capacity;
}
