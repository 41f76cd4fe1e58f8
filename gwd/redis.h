/* gwd's Redis client layer over hiredis 0.14 (blocking API): the store URL,
 * a small pool of connections with a short timeout, and the counters that
 * /metrics shows.  gwd/redis_store.c (users, keys, sessions) and
 * gwd/cluster_rl.c (cluster-wide rate limits) talk to Redis through it.
 *
 *   pool
 *    |- conf          host, port, db, password, timeout (docs/cluster.md)
 *    |- avail         0 once Redis refuses connections: calls fail at once
 *    |                until gwd_redis_pool_heal() reconnects every slot
 *    '- slot[0..n)    mutex + redisContext (NULL: dead); a call trylocks
 *                     the slots in turn and waits on one only when all are busy
 *
 * Every command carries the pool's timeout (connect, send, receive): no
 * caller waits longer than that for one round trip.  hiredis 0.14 speaks no
 * TLS: Redis belongs on a private network (docs/cluster.md).
 */
#ifndef GWD_REDIS_H
#define GWD_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis.h>

#include "gwd/buf.h"

#define GWD_REDIS_TIMEOUT_MS 50u   /* default store timeout */
#define GWD_REDIS_HOST_MAX 255
#define GWD_REDIS_PASS_MAX 512

/* Where the store is: redis://[:password@]host:port[/db]. */
struct gwd_redis_conf {
	char host[GWD_REDIS_HOST_MAX + 1];
	int port;
	int db;
	char password[GWD_REDIS_PASS_MAX + 1]; /* "" for none */
	unsigned timeout_ms;
};

struct gwd_redis_pool; /* opaque */

/* 1 when <url> names a Redis store (starts with "redis://"), 0 otherwise. */
int gwd_redis_is_url(const char *url);

/* Parse <url> into <*c> (timeout GWD_REDIS_TIMEOUT_MS, or the environment's
 * GWD_STORE_TIMEOUT_MS).  The password comes from the URL, else from the file
 * named by the environment variable GWD_STORE_PASSWORD_FILE (first line),
 * else from GWD_STORE_PASSWORD: the last two keep it out of `ps`.  Returns 0,
 * or -1 with a message in <err> (<errlen> bytes). */
int gwd_redis_parse_url(const char *url, struct gwd_redis_conf *c, char *err,
                        size_t errlen);

/* Connect to <c> with its timeout for the connection and every later
 * command, then AUTH and SELECT as configured.  Returns the context, or NULL
 * with a message in <err>.  The caller frees it with redisFree(). */
redisContext *gwd_redis_connect(const struct gwd_redis_conf *c, char *err,
                                size_t errlen);

/* Make a pool of <n> (1..16) connections to <c> (copied) and try to connect
 * them once.  Returns 0 and sets <*out> even when Redis is down (the pool is
 * then unavailable until gwd_redis_pool_heal succeeds), -1 when memory runs
 * out.  Free with gwd_redis_pool_free(). */
int gwd_redis_pool_new(struct gwd_redis_pool **out, const struct gwd_redis_conf *c,
                       unsigned n);

/* Close every connection and free <p>; NULL ignored. */
void gwd_redis_pool_free(struct gwd_redis_pool *p);

/* 1 when the pool is usable, 0 after a failure not yet healed.  An atomic
 * load: cheap anywhere. */
int gwd_redis_pool_available(const struct gwd_redis_pool *p);

/* Mark <p> unavailable (a failure seen elsewhere, e.g. by the subscriber). */
void gwd_redis_pool_fail(struct gwd_redis_pool *p);

/* Reconnect the dead slots of <p> (each connect bounded by the timeout) and
 * PING one live slot.  Returns 1 when every slot is connected and the PING
 * answered (the pool is then available), 0 otherwise. */
int gwd_redis_pool_heal(struct gwd_redis_pool *p);

/* The configuration <p> was made with. */
const struct gwd_redis_conf *gwd_redis_pool_conf(const struct gwd_redis_pool *p);

/* Run the <n> commands <argc>[i]/<argv>[i]/<lens>[i] pipelined on one
 * connection of <p> and store their replies in <replies> (freed by the
 * caller with freeReplyObject).  Returns 0 when every reply arrived (some
 * may be REDIS_REPLY_ERROR: gwd_redis_failed says), or -1 when the pool is
 * unavailable, timed out (the connection is closed, the pool stays
 * available: Redis is slow, not gone) or the connection broke and a new one
 * cannot be made (the pool is marked unavailable); <replies> are then NULL.
 * A connection found broken is replaced and the commands sent once more. */
int gwd_redis_pipeline(struct gwd_redis_pool *p, size_t n, const int *argc,
                       const char *const *const *argv, const size_t *const *lens,
                       redisReply **replies);

/* One command: <argc> strings <argv> of <lens> bytes (lens NULL: strlen).
 * Returns the reply (caller frees it), or NULL on failure as above or when
 * Redis answered an error (counted, logged once per minute). */
redisReply *gwd_redis_cmd(struct gwd_redis_pool *p, int argc, const char *const *argv,
                          const size_t *lens);

/* 1 when <r> is NULL or an error reply (counted as a store error), else 0. */
int gwd_redis_failed(const redisReply *r);

/* Count a failure seen outside the functions above (the subscriber's). */
void gwd_redis_count_error(void);

/* Append the store families to <b>: gateway_store_errors_total,
 * gateway_store_operations_total, gateway_store_latency_seconds (histogram
 * of round trips).  A gwd_metrics_add_family renderer (<ctx> unused). */
void gwd_redis_metrics(struct gwd_buf *b, void *ctx);

/* Lowercase hex of the <n> bytes at <p> into <out> (2n + 1 bytes). */
void gwd_redis_hex(const uint8_t *p, size_t n, char *out);

#endif
