/* The Redis client layer (gwd/redis.h): URL parsing, connecting with AUTH
 * and SELECT under a timeout, the connection pool, and the store counters. */
#include "gwd/redis.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "gwd/clock.h"
#include "lib/error.h"

#define MAX_SLOTS 16u
#define NLAT 10 /* latency buckets below +Inf */

/* Upper bounds of the latency buckets, microseconds. */
static const uint64_t lat_us[NLAT] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
};

static _Atomic uint64_t n_ops, n_errors, lat_sum_us, lat_hist[NLAT + 1];

struct slot {
	pthread_mutex_t mu;
	redisContext *ctx; /* NULL: dead, gwd_redis_pool_heal reconnects it */
};

struct gwd_redis_pool {
	struct gwd_redis_conf conf;
	unsigned n;
	_Atomic unsigned next; /* where the next trylock round starts */
	_Atomic int avail;
	struct slot slots[MAX_SLOTS];
};

/* Count one round trip of <us> microseconds. */
static void count_latency(uint64_t us)
{
	unsigned i = 0;

	while (i < NLAT && us > lat_us[i])
		i++;
	atomic_fetch_add_explicit(&lat_hist[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&lat_sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&n_ops, 1, memory_order_relaxed);
}

/* See redis.h. */
void gwd_redis_count_error(void)
{
	atomic_fetch_add_explicit(&n_errors, 1, memory_order_relaxed);
}

/* See redis.h. */
int gwd_redis_is_url(const char *url)
{
	return url && strncmp(url, "redis://", 8) == 0;
}

/* Read the first line of file <path> into <out> (<cap> bytes).  Returns 0, or
 * -1 with errno set (ENAMETOOLONG: the line does not fit). */
static int read_first_line(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	if (!fgets(out, (int)cap, f)) {
		out[0] = '\0';
	}
	fclose(f);
	n = strlen(out);
	if (n + 1 >= cap && out[n - 1] != '\n') {
		explicit_bzero(out, cap);
		errno = ENAMETOOLONG;
		return -1;
	}
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

/* See redis.h. */
int gwd_redis_parse_url(const char *url, struct gwd_redis_conf *c, char *err,
                        size_t errlen)
{
	const char *p, *at, *host, *colon, *slash, *env;
	char *end;
	long v;
	size_t hl;

	memset(c, 0, sizeof *c);
	c->port = 6379;
	c->timeout_ms = GWD_REDIS_TIMEOUT_MS;
	if (!gwd_redis_is_url(url)) {
		gw_explain(err, errlen, 0, "a store URL is redis://[:password@]host:port[/db]");
		return -1;
	}
	p = url + 8;
	at = strrchr(p, '@');
	if (at) {
		const char *pw = p;
		size_t pl;
		if (*pw == ':')
			pw++;
		pl = (size_t)(at - pw);
		if (pl > GWD_REDIS_PASS_MAX) {
			gw_explain(err, errlen, 0, "store URL: password too long");
			return -1;
		}
		memcpy(c->password, pw, pl);
		c->password[pl] = '\0';
		p = at + 1;
	}
	host = p;
	slash = strchr(host, '/');
	if (host[0] == '[') { /* [IPv6]:port */
		const char *rb = strchr(host, ']');
		if (!rb || (slash && rb > slash)) {
			gw_explain(err, errlen, 0, "store URL: unterminated [address]");
			return -1;
		}
		colon = rb[1] == ':' ? rb + 1 : NULL;
		host++;
		hl = (size_t)(rb - host);
	} else {
		colon = strchr(host, ':');
		if (colon && slash && colon > slash)
			colon = NULL;
		hl = colon ? (size_t)(colon - host) : slash ? (size_t)(slash - host) : strlen(host);
	}
	if (hl == 0 || hl > GWD_REDIS_HOST_MAX) {
		gw_explain(err, errlen, 0, "store URL: bad host");
		return -1;
	}
	memcpy(c->host, host, hl);
	c->host[hl] = '\0';
	if (colon) {
		errno = 0;
		v = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || v < 1 || v > 65535 || (*end && *end != '/')) {
			gw_explain(err, errlen, 0, "store URL: bad port");
			return -1;
		}
		c->port = (int)v;
	}
	if (slash && slash[1]) {
		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (errno || *end || v < 0 || v > 1000000) {
			gw_explain(err, errlen, 0, "store URL: bad database number");
			return -1;
		}
		c->db = (int)v;
	}
	if (!c->password[0] && (env = getenv("GWD_STORE_PASSWORD_FILE")) && *env) {
		if (read_first_line(env, c->password, sizeof c->password) < 0) {
			gw_explain(err, errlen, 0, "GWD_STORE_PASSWORD_FILE %s: %s", env, strerror(errno));
			return -1;
		}
	}
	if (!c->password[0] && (env = getenv("GWD_STORE_PASSWORD")) && *env) {
		if (strlen(env) > GWD_REDIS_PASS_MAX) {
			gw_explain(err, errlen, 0, "GWD_STORE_PASSWORD: too long");
			return -1;
		}
		snprintf(c->password, sizeof c->password, "%s", env);
	}
	if ((env = getenv("GWD_STORE_TIMEOUT_MS")) && *env) {
		v = strtol(env, &end, 10);
		if (*end || v < 1 || v > 60000) {
			gw_explain(err, errlen, 0, "GWD_STORE_TIMEOUT_MS: 1 to 60000");
			return -1;
		}
		c->timeout_ms = (unsigned)v;
	}
	return 0;
}

/* The timeout of <c> as a struct timeval. */
static struct timeval tv_of(const struct gwd_redis_conf *c)
{
	struct timeval tv = { (time_t)(c->timeout_ms / 1000u),
	                      (suseconds_t)(c->timeout_ms % 1000u) * 1000 };
	return tv;
}

/* See redis.h. */
redisContext *gwd_redis_connect(const struct gwd_redis_conf *c, char *err,
                                size_t errlen)
{
	redisContext *ctx = redisConnectWithTimeout(c->host, c->port, tv_of(c));
	redisReply *r = NULL;

	if (!ctx) {
		gw_explain(err, errlen, 0, "%s:%d: out of memory", c->host, c->port);
		return NULL;
	}
	if (ctx->err) {
		gw_explain(err, errlen, 0, "%s:%d: %s", c->host, c->port, ctx->errstr);
		goto fail;
	}
	if (redisSetTimeout(ctx, tv_of(c)) != REDIS_OK) {
		gw_explain(err, errlen, 0, "%s:%d: cannot set the timeout", c->host, c->port);
		goto fail;
	}
	redisEnableKeepAlive(ctx);
	if (c->password[0]) {
		r = redisCommand(ctx, "AUTH %s", c->password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			gw_explain(err, errlen, 0, "%s:%d: AUTH: %s", c->host, c->port,
			        r ? r->str : ctx->errstr);
			goto fail;
		}
		freeReplyObject(r);
		r = NULL;
	}
	if (c->db) {
		r = redisCommand(ctx, "SELECT %d", c->db);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			gw_explain(err, errlen, 0, "%s:%d: SELECT %d: %s", c->host, c->port, c->db,
			        r ? r->str : ctx->errstr);
			goto fail;
		}
		freeReplyObject(r);
		r = NULL;
	}
	return ctx;
fail:
	if (r)
		freeReplyObject(r);
	redisFree(ctx);
	return NULL;
}

/* See redis.h. */
int gwd_redis_pool_new(struct gwd_redis_pool **out, const struct gwd_redis_conf *c,
                       unsigned n)
{
	struct gwd_redis_pool *p = calloc(1, sizeof *p);

	*out = NULL;
	if (!p)
		return -1;
	p->conf = *c;
	p->n = n < 1 ? 1 : n > MAX_SLOTS ? MAX_SLOTS : n;
	for (unsigned i = 0; i < p->n; i++)
		pthread_mutex_init(&p->slots[i].mu, NULL);
	(void)gwd_redis_pool_heal(p);
	*out = p;
	return 0;
}

/* See redis.h. */
void gwd_redis_pool_free(struct gwd_redis_pool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n; i++) {
		if (p->slots[i].ctx)
			redisFree(p->slots[i].ctx);
		pthread_mutex_destroy(&p->slots[i].mu);
	}
	explicit_bzero(p->conf.password, sizeof p->conf.password);
	free(p);
}

/* See redis.h. */
int gwd_redis_pool_available(const struct gwd_redis_pool *p)
{
	return atomic_load_explicit(&p->avail, memory_order_acquire);
}

/* See redis.h. */
void gwd_redis_pool_fail(struct gwd_redis_pool *p)
{
	atomic_store_explicit(&p->avail, 0, memory_order_release);
}

/* See redis.h. */
const struct gwd_redis_conf *gwd_redis_pool_conf(const struct gwd_redis_pool *p)
{
	return &p->conf;
}

/* See redis.h.  Connecting happens outside the slot's mutex: a request that
 * meets a dead slot fails at once instead of waiting for the connect.  Every
 * live slot is PINGed: a Redis restart leaves each idle connection broken. */
int gwd_redis_pool_heal(struct gwd_redis_pool *p)
{
	int ok = 1;

	for (unsigned i = 0; i < p->n; i++) {
		struct slot *s = &p->slots[i];
		redisContext *fresh;
		int dead;

		pthread_mutex_lock(&s->mu);
		dead = s->ctx == NULL;
		if (!dead) {
			uint64_t t0 = (gwd_clock_ns() / 1000u);
			redisReply *r = redisCommand(s->ctx, "PING");
			if (!r || r->type == REDIS_REPLY_ERROR) {
				if (!r) {
					redisFree(s->ctx);
					s->ctx = NULL;
					dead = 1;
				}
				gwd_redis_count_error();
				ok = 0;
			} else {
				count_latency((gwd_clock_ns() / 1000u) - t0);
			}
			if (r)
				freeReplyObject(r);
		}
		pthread_mutex_unlock(&s->mu);
		if (!dead)
			continue;
		fresh = gwd_redis_connect(&p->conf, NULL, 0);
		if (!fresh) {
			gwd_redis_count_error();
			ok = 0;
			continue;
		}
		pthread_mutex_lock(&s->mu);
		if (s->ctx)
			redisFree(fresh);
		else
			s->ctx = fresh;
		pthread_mutex_unlock(&s->mu);
	}
	atomic_store_explicit(&p->avail, ok, memory_order_release);
	return ok;
}

/* Take a slot of <p>: a trylock round from a rotating start, then a wait on
 * one.  Returns the slot, locked. */
static struct slot *take(struct gwd_redis_pool *p)
{
	unsigned start = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);

	for (unsigned k = 0; k < p->n; k++) {
		struct slot *s = &p->slots[(start + k) % p->n];
		if (pthread_mutex_trylock(&s->mu) == 0)
			return s;
	}
	pthread_mutex_lock(&p->slots[start % p->n].mu);
	return &p->slots[start % p->n];
}

/* Close the connection of slot <s> (locked) after an I/O failure or a
 * timeout and mark <p> unavailable: hiredis leaves a context unusable after
 * an error, and a Redis that timed out once would make the next caller wait
 * as long. */
static void kill_slot(struct gwd_redis_pool *p, struct slot *s)
{
	if (s->ctx)
		redisFree(s->ctx);
	s->ctx = NULL;
	gwd_redis_count_error();
	gwd_redis_pool_fail(p);
}

/* 1 when the failure of <c> was its timeout (the socket's EAGAIN), 0 for a
 * connection refused, reset or closed. */
static int timed_out(const redisContext *c)
{
	return c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* See redis.h.  A connection found broken (Redis restarted, the peer closed
 * it) is replaced and the commands sent once more, right away: a restart of
 * Redis costs no failed request.  A timeout is not retried: nobody waits
 * twice. */
int gwd_redis_pipeline(struct gwd_redis_pool *p, size_t n, const int *argc,
                       const char *const *const *argv, const size_t *const *lens,
                       redisReply **replies)
{
	struct slot *s;
	uint64_t t0;
	size_t i;
	int retried = 0;

	for (i = 0; i < n; i++)
		replies[i] = NULL;
	if (!gwd_redis_pool_available(p))
		return -1;
	s = take(p);
	if (!s->ctx) {
		/* closed after a timeout: one connect, bounded by the timeout */
		s->ctx = gwd_redis_connect(&p->conf, NULL, 0);
		if (!s->ctx) {
			pthread_mutex_unlock(&s->mu);
			gwd_redis_count_error();
			gwd_redis_pool_fail(p);
			return -1;
		}
	}
again:
	t0 = (gwd_clock_ns() / 1000u);
	for (i = 0; i < n; i++)
		if (redisAppendCommandArgv(s->ctx, argc[i], (const char **)argv[i],
		                           lens ? lens[i] : NULL) != REDIS_OK)
			goto fail;
	for (i = 0; i < n; i++) {
		void *r = NULL;
		if (redisGetReply(s->ctx, &r) != REDIS_OK || !r)
			goto fail;
		replies[i] = r;
		if (replies[i]->type == REDIS_REPLY_ERROR)
			gwd_redis_count_error();
	}
	count_latency((gwd_clock_ns() / 1000u) - t0);
	pthread_mutex_unlock(&s->mu);
	return 0;
fail:
	for (i = 0; i < n; i++) {
		if (replies[i])
			freeReplyObject(replies[i]);
		replies[i] = NULL;
	}
	if (timed_out(s->ctx)) {
		/* slow, not gone: this connection is spent (hiredis cannot use it
		 * after an error), the pool stays available */
		redisFree(s->ctx);
		s->ctx = NULL;
		gwd_redis_count_error();
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (!retried) {
		redisContext *fresh = gwd_redis_connect(&p->conf, NULL, 0);
		gwd_redis_count_error();
		if (fresh) {
			redisFree(s->ctx);
			s->ctx = fresh;
			retried = 1;
			goto again;
		}
	}
	kill_slot(p, s);
	pthread_mutex_unlock(&s->mu);
	return -1;
}

/* See redis.h. */
redisReply *gwd_redis_cmd(struct gwd_redis_pool *p, int argc, const char *const *argv,
                          const size_t *lens)
{
	redisReply *r = NULL;
	const size_t *l[1] = { lens };
	const char *const *a[1] = { argv };

	if (gwd_redis_pipeline(p, 1, &argc, a, l, &r) < 0)
		return NULL;
	if (r->type == REDIS_REPLY_ERROR) {
		static _Atomic int64_t last_log;
		int64_t now = (int64_t)time(NULL);
		if (now - atomic_load(&last_log) >= 60) {
			atomic_store(&last_log, now);
			fprintf(stderr, "gwd: store: %s: %s\n", argv[0], r->str);
		}
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* See redis.h. */
int gwd_redis_failed(const redisReply *r)
{
	return !r || r->type == REDIS_REPLY_ERROR;
}

/* See redis.h. */
void gwd_redis_metrics(struct gwd_buf *b, void *ctx)
{
	uint64_t cum = 0;

	(void)ctx;
	gwd_buf_puts(b, "# HELP gateway_store_errors_total Store (Redis) calls that failed: "
	                "connection refused or lost, timeout, error reply.\n"
	                "# TYPE gateway_store_errors_total counter\n"
	                "gateway_store_errors_total ");
	gwd_buf_u64(b, atomic_load(&n_errors));
	gwd_buf_puts(b, "\n# HELP gateway_store_operations_total Store round trips (a pipeline "
	                "counts once).\n# TYPE gateway_store_operations_total counter\n"
	                "gateway_store_operations_total ");
	gwd_buf_u64(b, atomic_load(&n_ops));
	gwd_buf_puts(b, "\n# HELP gateway_store_latency_seconds Store round-trip time.\n"
	                "# TYPE gateway_store_latency_seconds histogram\n");
	for (unsigned i = 0; i <= NLAT; i++) {
		cum += atomic_load(&lat_hist[i]);
		if (i < NLAT)
			gwd_buf_printf(b, "gateway_store_latency_seconds_bucket{le=\"%g\"} ",
			               (double)lat_us[i] / 1e6);
		else
			gwd_buf_puts(b, "gateway_store_latency_seconds_bucket{le=\"+Inf\"} ");
		gwd_buf_u64(b, cum);
		gwd_buf_putc(b, '\n');
	}
	gwd_buf_printf(b, "gateway_store_latency_seconds_sum %.6f\n",
	               (double)atomic_load(&lat_sum_us) / 1e6);
	gwd_buf_puts(b, "gateway_store_latency_seconds_count ");
	gwd_buf_u64(b, cum);
	gwd_buf_putc(b, '\n');
}

/* See redis.h. */
void gwd_redis_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}
