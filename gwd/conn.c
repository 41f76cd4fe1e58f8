/* Connection tracking, limits and the head-deadline reaper (conn.h). */
#include "gwd/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gwd/worker.h"

struct gwd_conn_limits gwd_conn_limits = {
	GWD_CONN_DEFAULT_MAX, GWD_CONN_DEFAULT_MAX_IP, 10000, 60000,
};

/* ---- per-address counts: striped hash tables ------------------------------ */

#define NSTRIPES 64
#define STRIPE_BUCKETS 64

struct ipcount {
	struct ipcount *next;
	uint8_t family;
	uint8_t addr[16];
	uint32_t n;
};

static struct stripe {
	pthread_mutex_t lock;
	struct ipcount *b[STRIPE_BUCKETS];
} stripes[NSTRIPES];
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t total_conns;
static _Atomic uint64_t reaped;

/* Initialise the stripe locks (once). */
static void stripes_init(void)
{
	for (unsigned i = 0; i < NSTRIPES; i++)
		pthread_mutex_init(&stripes[i].lock, NULL);
}

/* FNV-1a over the address of <c>. */
static uint32_t addr_hash(const struct gwd_conn *c)
{
	uint32_t h = 2166136261u;
	unsigned n = c->family == 4 ? 4 : 16;

	for (unsigned i = 0; i < n; i++)
		h = (h ^ c->addr_bytes[i]) * 16777619u;
	return h;
}

/* Add <delta> (+1 or -1) to the count of <c>'s address. Returns the new count. */
static uint32_t ip_add(const struct gwd_conn *c, int delta)
{
	uint32_t h = addr_hash(c), n = 0;
	struct stripe *s = &stripes[h % NSTRIPES];
	struct ipcount **pp, *e;
	unsigned alen = c->family == 4 ? 4 : 16;

	pthread_mutex_lock(&s->lock);
	for (pp = &s->b[(h / NSTRIPES) % STRIPE_BUCKETS]; (e = *pp) != NULL; pp = &e->next)
		if (e->family == c->family && memcmp(e->addr, c->addr_bytes, alen) == 0)
			break;
	if (delta > 0) {
		if (!e && (e = calloc(1, sizeof *e)) != NULL) {
			e->family = c->family;
			memcpy(e->addr, c->addr_bytes, alen);
			*pp = e;
		}
		if (e)
			n = ++e->n;
	} else if (e) {
		n = --e->n;
		if (n == 0) {
			*pp = e->next;
			free(e);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint32_t gwd_conn_count_for(const struct gwd_conn *c)
{
	uint32_t h = addr_hash(c), n = 0;
	struct stripe *s = &stripes[h % NSTRIPES];
	unsigned alen = c->family == 4 ? 4 : 16;

	pthread_once(&stripes_once, stripes_init);
	pthread_mutex_lock(&s->lock);
	for (struct ipcount *e = s->b[(h / NSTRIPES) % STRIPE_BUCKETS]; e; e = e->next)
		if (e->family == c->family && memcmp(e->addr, c->addr_bytes, alen) == 0)
			n = e->n;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- open / close -------------------------------------------------------------- */

void gwd_conn_set_limits(uint32_t max_conns, uint32_t max_conns_per_ip,
			 uint32_t header_timeout_ms, uint32_t idle_timeout_ms)
{
	atomic_store(&gwd_conn_limits.max_conns, max_conns);
	atomic_store(&gwd_conn_limits.max_conns_per_ip, max_conns_per_ip);
	atomic_store(&gwd_conn_limits.header_timeout_ms, header_timeout_ms);
	atomic_store(&gwd_conn_limits.idle_timeout_ms, idle_timeout_ms);
}

/* Fill <c>'s address fields from <sa> (<salen> bytes, may be NULL). IPv4-mapped
 * IPv6 addresses count as the IPv4 address they carry. */
static void conn_set_addr(struct gwd_conn *c, const struct sockaddr *sa, socklen_t salen)
{
	c->family = 0;
	c->ip[0] = '\0';
	memset(c->addr_bytes, 0, sizeof c->addr_bytes);
	if (!sa || salen > (socklen_t)sizeof c->addr)
		return;
	memcpy(&c->addr, sa, (size_t)salen);
	if (sa->sa_family == AF_INET && salen >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		c->family = 4;
		memcpy(c->addr_bytes, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 && salen >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			c->family = 4;
			memcpy(c->addr_bytes, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			c->family = 6;
			memcpy(c->addr_bytes, &s6->sin6_addr, 16);
		}
	}
	if (c->family)
		inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr_bytes, c->ip, sizeof c->ip);
}

struct gwd_conn *gwd_conn_opened(int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct gwd_worker *w = gwd_worker_self();
	struct gwd_conn *c = w->free_conns;
	uint64_t total;
	uint32_t per_ip = 0, max, max_ip;

	pthread_once(&stripes_once, stripes_init);
	if (c)
		w->free_conns = c->next;
	else if ((c = malloc(sizeof *c)) == NULL)
		return NULL;
	memset(c, 0, sizeof *c);
	c->w = w;
	c->fd = fd;
	conn_set_addr(c, sa, salen);
	total = atomic_fetch_add(&total_conns, 1) + 1;
	if (c->family) {
		per_ip = ip_add(c, +1);
		c->counted = 1;
	}
	max = atomic_load_explicit(&gwd_conn_limits.max_conns, memory_order_relaxed);
	max_ip = atomic_load_explicit(&gwd_conn_limits.max_conns_per_ip, memory_order_relaxed);
	c->over_limit = (max && total > max) || (max_ip && per_ip > max_ip);
	atomic_store_explicit(&c->deadline_ms,
			      gwd_clock_ms() + atomic_load(&gwd_conn_limits.header_timeout_ms),
			      memory_order_relaxed);
	pthread_mutex_lock(&w->conn_lock);
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	pthread_mutex_unlock(&w->conn_lock);
	return c;
}

void gwd_conn_closed(struct gwd_conn *c)
{
	struct gwd_worker *w = c->w;

	pthread_mutex_lock(&w->conn_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&w->conn_lock);
	if (c->counted)
		ip_add(c, -1);
	atomic_fetch_sub(&total_conns, 1);
	if (w == gwd_worker_self()) {
		c->next = w->free_conns;
		w->free_conns = c;
	} else {
		free(c);
	}
}

uint64_t gwd_conn_active(void)
{
	return atomic_load_explicit(&total_conns, memory_order_relaxed);
}

uint64_t gwd_conn_reaped(void)
{
	return atomic_load_explicit(&reaped, memory_order_relaxed);
}

/* ---- deadlines ----------------------------------------------------------------- */

void gwd_conn_request_line(struct gwd_conn *c, uint64_t now_ms)
{
	uint64_t d, lim;

	if (!c)
		return;
	c->nreq++;
	lim = now_ms + atomic_load_explicit(&gwd_conn_limits.header_timeout_ms,
						  memory_order_relaxed);
	d = atomic_load_explicit(&c->deadline_ms, memory_order_relaxed);
	if (d == 0 || lim < d)
		atomic_store_explicit(&c->deadline_ms, lim, memory_order_relaxed);
}

void gwd_conn_head_done(struct gwd_conn *c)
{
	if (c)
		atomic_store_explicit(&c->deadline_ms, 0, memory_order_relaxed);
}

void gwd_conn_response_done(struct gwd_conn *c, uint64_t now_ms)
{
	if (c)
		atomic_store_explicit(&c->deadline_ms,
				      now_ms + atomic_load_explicit(
						&gwd_conn_limits.idle_timeout_ms, memory_order_relaxed),
				      memory_order_relaxed);
}

void gwd_conn_body_start(struct gwd_conn *c, uint64_t now_ms)
{
	if (c)
		atomic_store_explicit(&c->deadline_ms,
				      now_ms + atomic_load_explicit(
						&gwd_conn_limits.header_timeout_ms, memory_order_relaxed),
				      memory_order_relaxed);
}

void gwd_conn_body_data(struct gwd_conn *c, uint64_t n, uint64_t now_ms)
{
	uint64_t d, nd, cap;

	if (!c)
		return;
	d = atomic_load_explicit(&c->deadline_ms, memory_order_relaxed);
	if (d == 0)
		return;
	/* 1 ms of credit per RATE/1000 bytes; n is at most a read buffer */
	nd = d + n * 1000u / GWD_CONN_BODY_MIN_RATE;
	cap = now_ms + atomic_load_explicit(&gwd_conn_limits.idle_timeout_ms, memory_order_relaxed);
	if (nd > cap)
		nd = cap > d ? cap : d;
	/* the reaper may have cleared it meanwhile: then leave it cleared */
	atomic_compare_exchange_strong_explicit(&c->deadline_ms, &d, nd, memory_order_relaxed,
						memory_order_relaxed);
}

/* ---- the reaper ---------------------------------------------------------------- */

static pthread_t reaper_tid;
static pthread_mutex_t reaper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reaper_cond = PTHREAD_COND_INITIALIZER;
static int reaper_stop, reaper_running;

unsigned gwd_conn_reap(uint64_t now_ms)
{
	unsigned n = gwd_worker_count(), hits = 0;

	for (unsigned i = 0; i < n; i++) {
		struct gwd_worker *w = gwd_worker_get(i);

		pthread_mutex_lock(&w->conn_lock);
		for (struct gwd_conn *c = w->conns; c; c = c->next) {
			uint64_t d = atomic_load_explicit(&c->deadline_ms, memory_order_relaxed);

			if (d && now_ms > d) {
				/* the descriptor is still this connection's: it is closed only
				 * after gwd_conn_closed unlisted it under this lock */
				shutdown(c->fd, SHUT_RDWR);
				atomic_store_explicit(&c->deadline_ms, 0, memory_order_relaxed);
				hits++;
			}
		}
		pthread_mutex_unlock(&w->conn_lock);
	}
	if (hits)
		atomic_fetch_add(&reaped, hits);
	return hits;
}

/* The reaper thread: a pass every 100 ms until stopped. */
static void *reaper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&reaper_lock);
	while (!reaper_stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&reaper_cond, &reaper_lock, &ts);
		if (reaper_stop)
			break;
		pthread_mutex_unlock(&reaper_lock);
		gwd_conn_reap(gwd_clock_ms());
		pthread_mutex_lock(&reaper_lock);
	}
	pthread_mutex_unlock(&reaper_lock);
	return NULL;
}

int gwd_conn_reaper_start(void)
{
	pthread_once(&stripes_once, stripes_init);
	reaper_stop = 0;
	if (pthread_create(&reaper_tid, NULL, reaper_main, NULL) != 0)
		return -1;
	reaper_running = 1;
	return 0;
}

void gwd_conn_reaper_stop(void)
{
	if (!reaper_running)
		return;
	pthread_mutex_lock(&reaper_lock);
	reaper_stop = 1;
	pthread_cond_signal(&reaper_cond);
	pthread_mutex_unlock(&reaper_lock);
	pthread_join(reaper_tid, NULL);
	reaper_running = 0;
}
