/* The Redis store (gwd/redis_store.h): the Lua scripts that keep each write
 * atomic, the reads, and the subscriber thread that carries invalidations
 * between instances and reconnects with backoff. */
#include "gwd/redis_store.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gwd/clock.h"

#include "lib/model.h"

#define POOL_SLOTS 4u
#define CHANNEL "gw:inval"
#define HEX_LEN (2 * GWD_STORE_DIGEST_LEN)
#define MAX_EVICT 4
#define BACKOFF_MIN_MS 50u
#define BACKOFF_MAX_MS 1000u
#define IDLE_GRACE_MS 5000u /* Redis keeps a session this long past its idle end:
                               the instances' caches know better (last_seen
                               reaches Redis once a flush period) */
#define SCAN_COUNT "1000"
#define CLI_TIMEOUT_MS 5000u /* the store timeout of the commands */

static const char LUA_USER_ADD[] =
	"if redis.call('EXISTS',KEYS[1])==1 then return 0 end\n"
	"local id=redis.call('INCR','gw:uid')\n"
	"redis.call('HSET',KEYS[1],'id',id,'pw',ARGV[2],'ct',ARGV[3])\n"
	"redis.call('SET','gw:un:'..id,ARGV[1])\n"
	"redis.call('ZADD','gw:users',0,ARGV[1])\n"
	"return 1";

static const char LUA_USER_DEL[] =
	"local id=redis.call('HGET',KEYS[1],'id')\n"
	"if not id then return 0 end\n"
	"for _,h in ipairs(redis.call('SMEMBERS',KEYS[2])) do\n"
	"  redis.call('DEL','gw:s:'..h)\n"
	"  redis.call('PUBLISH','" CHANNEL "','s '..h)\n"
	"end\n"
	"redis.call('DEL',KEYS[1],KEYS[2],'gw:un:'..id)\n"
	"redis.call('ZREM','gw:users',ARGV[1])\n"
	"return 1";

static const char LUA_USER_SETHASH[] =
	"local n=redis.call('GET','gw:un:'..ARGV[1])\n"
	"if not n then return 0 end\n"
	"local k='gw:u:'..n\n"
	"if redis.call('HGET',k,'pw')~=ARGV[2] then return 0 end\n"
	"redis.call('HSET',k,'pw',ARGV[3])\n"
	"return 1";

static const char LUA_SESS_ADD[] =
	"if redis.call('HGET',KEYS[1],'id')~=ARGV[1] then return 0 end\n"
	"if ARGV[7]=='1' and redis.call('EXISTS',KEYS[2])==1 then return 0 end\n"
	"redis.call('HSET',KEYS[2],'u',ARGV[2],'c',ARGV[3],'e',ARGV[4],'l',ARGV[8])\n"
	"redis.call('PEXPIREAT',KEYS[2],ARGV[5])\n"
	"redis.call('SADD',KEYS[3],ARGV[6])\n"
	"return 1";

static const char LUA_SESS_DEL[] =
	"local u=redis.call('HGET',KEYS[1],'u')\n"
	"if not u then return 0 end\n"
	"redis.call('DEL',KEYS[1])\n"
	"redis.call('SREM','gw:us:'..u,ARGV[1])\n"
	"redis.call('PUBLISH','" CHANNEL "','s '..ARGV[1])\n"
	"return 1";

static const char LUA_SESS_TOUCH[] =
	"local v=redis.call('HMGET',KEYS[1],'l','e')\n"
	"if not v[1] then return 0 end\n"
	"local l=tonumber(ARGV[1])\n"
	"if tonumber(v[1])>=l then return 0 end\n"
	"redis.call('HSET',KEYS[1],'l',ARGV[1])\n"
	"local x=l+tonumber(ARGV[2])\n"
	"local e=tonumber(v[2])\n"
	"if e<x then x=e end\n"
	"redis.call('PEXPIREAT',KEYS[1],x)\n"
	"return 1";

static const char LUA_SWEEP_SET[] =
	"local n=0\n"
	"for _,h in ipairs(redis.call('SMEMBERS',KEYS[1])) do\n"
	"  if redis.call('EXISTS','gw:s:'..h)==0 then redis.call('SREM',KEYS[1],h) n=n+1 end\n"
	"end\n"
	"return n";

static const char LUA_KEY_ADD[] =
	"if redis.call('EXISTS',KEYS[1])==1 or redis.call('EXISTS',KEYS[2])==1 then return 0 end\n"
	"redis.call('SET',KEYS[2],ARGV[1])\n"
	"redis.call('HSET',KEYS[1],'h',ARGV[2],'ct',ARGV[3])\n"
	"redis.call('ZADD','gw:keys',0,ARGV[1])\n"
	"return 1";

static const char LUA_KEY_DEL[] =
	"local h=redis.call('HGET',KEYS[1],'h')\n"
	"if not h then return 0 end\n"
	"redis.call('DEL',KEYS[1],'gw:k:'..h)\n"
	"redis.call('ZREM','gw:keys',ARGV[1])\n"
	"redis.call('PUBLISH','" CHANNEL "','k '..h)\n"
	"return 1";

struct evict_hook {
	char kind;
	void (*fn)(void *arg, const uint8_t digest[GWD_STORE_DIGEST_LEN]);
	void *arg;
};

struct gwd_redis_store {
	struct gwd_redis_pool *pool;
	unsigned flags;
	_Atomic uint32_t idle_ms;
	_Atomic uint64_t revision;  /* moves on every (re)subscribe */
	_Atomic int subscribed;     /* the daemon's subscriber is connected */
	int daemon;                 /* a subscriber thread runs */
	struct evict_hook hooks[MAX_EVICT];
	_Atomic int nhooks;
	/* the subscriber thread */
	pthread_t thr;
	_Atomic int stopping;
};

/* "PREFIX" followed by <s> into <out> (<cap> bytes).  Returns its length. */
static size_t key_of(char *out, size_t cap, const char *prefix, const char *s)
{
	int n = snprintf(out, cap, "%s%s", prefix, s);

	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* Run script <lua> with <nkeys> keys then arguments: <argv> (<argc> items,
 * keys first).  Returns the integer it answered (>= 0), or -1 on failure. */
static long long eval(struct gwd_redis_store *rs, const char *lua, int nkeys, int argc,
                      const char *const *argv)
{
	const char *a[16];
	char nk[8];
	redisReply *r;
	long long v = -1;

	if (argc + 3 > (int)(sizeof a / sizeof *a))
		return -1;
	snprintf(nk, sizeof nk, "%d", nkeys);
	a[0] = "EVAL";
	a[1] = lua;
	a[2] = nk;
	for (int i = 0; i < argc; i++)
		a[3 + i] = argv[i];
	r = gwd_redis_cmd(rs->pool, argc + 3, a, NULL);
	if (r && r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	if (r)
		freeReplyObject(r);
	return v;
}

/* ---- the subscriber ---- */

/* Hand message <msg> (<len> bytes) of gw:inval to the hooks: "s HEX" to the
 * session hooks, "k HEX" to the key hooks. */
static void dispatch(struct gwd_redis_store *rs, const char *msg, size_t len)
{
	uint8_t d[GWD_STORE_DIGEST_LEN];
	int n = atomic_load(&rs->nhooks);

	if (len != 2 + HEX_LEN || msg[1] != ' ')
		return;
	for (size_t i = 0; i < GWD_STORE_DIGEST_LEN; i++) {
		unsigned v;
		if (sscanf(msg + 2 + 2 * i, "%2x", &v) != 1)
			return;
		d[i] = (uint8_t)v;
	}
	for (int i = 0; i < n; i++)
		if (rs->hooks[i].kind == msg[0])
			rs->hooks[i].fn(rs->hooks[i].arg, d);
}

/* Handle one reply <r> read on the subscription. */
static void on_reply(struct gwd_redis_store *rs, redisReply *r)
{
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "message") == 0 &&
	    r->element[2]->type == REDIS_REPLY_STRING)
		dispatch(rs, r->element[2]->str, r->element[2]->len);
}

/* Sleep <ms> milliseconds unless stopping (in 10 ms steps). */
static void nap(struct gwd_redis_store *rs, unsigned ms)
{
	struct timespec ts = { 0, 10 * 1000000L };

	for (unsigned t = 0; t < ms && !atomic_load(&rs->stopping); t += 10)
		nanosleep(&ts, NULL);
}

/* The subscriber thread: connect and SUBSCRIBE gw:inval (backoff between
 * failures), then read messages, waking every 100 ms to look at <stopping>
 * and to heal the pool when a request marked it unavailable. */
static void *sub_main(void *arg)
{
	struct gwd_redis_store *rs = arg;
	unsigned backoff = BACKOFF_MIN_MS;

	while (!atomic_load(&rs->stopping)) {
		redisContext *c = gwd_redis_connect(gwd_redis_pool_conf(rs->pool), NULL, 0);
		redisReply *r = NULL;
		uint64_t healed_at = 0;
		int announced;

		if (c) {
			r = redisCommand(c, "SUBSCRIBE " CHANNEL);
			if (!r || r->type != REDIS_REPLY_ARRAY) {
				redisFree(c);
				c = NULL;
			}
			if (r)
				freeReplyObject(r);
		}
		if (!c) {
			gwd_redis_count_error();
			gwd_redis_pool_fail(rs->pool);
			nap(rs, backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		announced = 0;
		while (!atomic_load(&rs->stopping)) {
			/* Messages may have been missed while unsubscribed: whatever
			 * the caches hold is suspect, and the revision tells them
			 * so -- once the pool answers (a Redis still loading its
			 * file does not), so that the emptied caches can refill. */
			if (!announced && gwd_clock_ms() - healed_at >= backoff) {
				healed_at = gwd_clock_ms();
				if (gwd_redis_pool_heal(rs->pool)) {
					atomic_fetch_add(&rs->revision, 1);
					atomic_store(&rs->subscribed, 1);
					announced = 1;
					backoff = BACKOFF_MIN_MS;
				} else if (backoff * 2 <= BACKOFF_MAX_MS) {
					backoff *= 2;
				}
			}
			struct pollfd pfd = { c->fd, POLLIN, 0 };
			int pr = poll(&pfd, 1, 100);
			void *rep = NULL;

			if (pr < 0)
				continue;
			if (pr > 0) {
				if (redisBufferRead(c) != REDIS_OK)
					break;
				while (redisGetReplyFromReader(c, &rep) == REDIS_OK && rep) {
					on_reply(rs, rep);
					freeReplyObject(rep);
					rep = NULL;
				}
				if (c->err)
					break;
			}
			if (announced && !gwd_redis_pool_available(rs->pool) &&
			    gwd_clock_ms() - healed_at >= backoff) {
				healed_at = gwd_clock_ms();
				if (gwd_redis_pool_heal(rs->pool))
					backoff = BACKOFF_MIN_MS;
				else
					backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			}
		}
		atomic_store(&rs->subscribed, 0);
		gwd_redis_count_error();
		gwd_redis_pool_fail(rs->pool);
		redisFree(c);
	}
	return NULL;
}

/* ---- open, close, state ---- */

/* See redis_store.h. */
int gwd_redis_store_open(struct gwd_redis_store **out, const char *url, unsigned flags,
                         char *err, size_t errlen)
{
	struct gwd_redis_store *rs = NULL;
	struct gwd_redis_conf conf;

	*out = NULL;
	if (gwd_redis_parse_url(url, &conf, err, errlen) < 0)
		return -1;
	/* the commands (users, keys, store copy) keep no request waiting: they
	 * may wait for a busy Redis longer than the daemon's requests do */
	if (!(flags & GWD_STORE_LAZY) && !getenv("GWD_STORE_TIMEOUT_MS"))
		conf.timeout_ms = CLI_TIMEOUT_MS;
	rs = calloc(1, sizeof *rs);
	if (!rs || gwd_redis_pool_new(&rs->pool, &conf, POOL_SLOTS) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rs->flags = flags;
	atomic_store(&rs->idle_ms, GW_DEFAULT_SESSION_IDLE_MS);
	if (!(flags & GWD_STORE_LAZY)) {
		redisContext *c = gwd_redis_connect(&conf, err, errlen);
		if (!c)
			goto fail;
		redisFree(c);
		if (!gwd_redis_pool_available(rs->pool) && !gwd_redis_pool_heal(rs->pool)) {
			snprintf(err, errlen, "%s:%d: not answering", conf.host, conf.port);
			goto fail;
		}
	} else {
		if (pthread_create(&rs->thr, NULL, sub_main, rs) != 0) {
			snprintf(err, errlen, "cannot start the store thread");
			goto fail;
		}
		rs->daemon = 1;
	}
	explicit_bzero(&conf, sizeof conf);
	*out = rs;
	return 0;
fail:
	explicit_bzero(&conf, sizeof conf);
	if (rs)
		gwd_redis_pool_free(rs->pool);
	free(rs);
	return -1;
}

/* See redis_store.h. */
void gwd_redis_store_close(struct gwd_redis_store *rs)
{
	if (!rs)
		return;
	if (rs->daemon) {
		atomic_store(&rs->stopping, 1);
		pthread_join(rs->thr, NULL);
	}
	gwd_redis_pool_free(rs->pool);
	free(rs);
}

/* See redis_store.h. */
struct gwd_redis_pool *gwd_redis_store_pool(struct gwd_redis_store *rs)
{
	return rs->pool;
}

/* See store.h: for a daemon, usable means the pool works and the
 * subscription is up (without it a logout elsewhere would go unseen). */
int gwd_redis_store_available(const struct gwd_redis_store *rs)
{
	return gwd_redis_pool_available(rs->pool) &&
	       (!rs->daemon || atomic_load_explicit(&rs->subscribed, memory_order_acquire));
}

/* See store.h. */
int gwd_redis_store_poll(struct gwd_redis_store *rs)
{
	(void)gwd_redis_pool_heal(rs->pool);
	return gwd_redis_store_available(rs);
}

/* See store.h. */
uint64_t gwd_redis_store_revision(const struct gwd_redis_store *rs)
{
	return atomic_load_explicit(&rs->revision, memory_order_acquire);
}

/* See store.h. */
void gwd_redis_store_set_idle(struct gwd_redis_store *rs, uint32_t idle_ms)
{
	atomic_store(&rs->idle_ms, idle_ms);
}

/* See store.h. */
int gwd_redis_store_on_evict(struct gwd_redis_store *rs, char kind,
                             void (*fn)(void *arg, const uint8_t digest[GWD_STORE_DIGEST_LEN]),
                             void *arg)
{
	int n = atomic_load(&rs->nhooks);

	if (n >= MAX_EVICT)
		return -1;
	rs->hooks[n].kind = kind;
	rs->hooks[n].fn = fn;
	rs->hooks[n].arg = arg;
	atomic_store(&rs->nhooks, n + 1);
	return 0;
}

/* ---- users ---- */

/* See store.h. */
int gwd_redis_store_user_add(struct gwd_redis_store *rs, const char *name,
                             const char *pwhash, int64_t now_s)
{
	char k[96], ct[24];
	long long r;

	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	key_of(k, sizeof k, "gw:u:", name);
	snprintf(ct, sizeof ct, "%" PRId64, now_s);
	r = eval(rs, LUA_USER_ADD, 1, 4, (const char *const[]){ k, name, pwhash, ct });
	return r < 0 ? -1 : r > 0;
}

/* See store.h. */
int gwd_redis_store_user_del(struct gwd_redis_store *rs, const char *name)
{
	char k[96], ks[96];
	long long r;

	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	key_of(k, sizeof k, "gw:u:", name);
	key_of(ks, sizeof ks, "gw:us:", name);
	r = eval(rs, LUA_USER_DEL, 2, 3, (const char *const[]){ k, ks, name });
	return r < 0 ? -1 : r > 0;
}

/* See store.h. */
int gwd_redis_store_user_get(struct gwd_redis_store *rs, const char *name, int64_t *id,
                             char *pwhash, size_t cap)
{
	char k[96];
	redisReply *r;
	int found = 0;

	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	key_of(k, sizeof k, "gw:u:", name);
	r = gwd_redis_cmd(rs->pool, 4, (const char *const[]){ "HMGET", k, "id", "pw" }, NULL);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING) {
		*id = strtoll(r->element[0]->str, NULL, 10);
		if (r->element[1]->len < cap)
			memcpy(pwhash, r->element[1]->str, r->element[1]->len + 1);
		else if (cap)
			pwhash[0] = '\0'; /* too long to be ours: the KDF refuses it */
		found = 1;
	}
	freeReplyObject(r);
	return found;
}

/* See store.h. */
int gwd_redis_store_user_set_hash(struct gwd_redis_store *rs, int64_t id, const char *old,
                                  const char *pwhash)
{
	char ids[24];
	long long r;

	snprintf(ids, sizeof ids, "%" PRId64, id);
	r = eval(rs, LUA_USER_SETHASH, 0, 3, (const char *const[]){ ids, old, pwhash });
	return r < 0 ? -1 : r > 0;
}

/* Shared body of the list functions: names of zset <zkey>, each hash
 * <prefix>NAME's field ct, in name order. */
static int list_named(struct gwd_redis_store *rs, const char *zkey, const char *prefix,
                      int (*fn)(const char *name, int64_t created_s, void *arg), void *arg)
{
	redisReply *names, **cts = NULL;
	int n = 0, *argc = NULL, rc = -1;
	const char *const **argv = NULL;
	const char **flat = NULL;
	char *keys = NULL;
	size_t m;

	names = gwd_redis_cmd(rs->pool, 4, (const char *const[]){ "ZRANGE", zkey, "0", "-1" },
	                      NULL);
	if (!names || names->type != REDIS_REPLY_ARRAY)
		goto fail;
	m = names->elements;
	if (m == 0) {
		rc = 0;
		goto fail;
	}
	cts = calloc(m, sizeof *cts);
	argc = calloc(m, sizeof *argc);
	argv = calloc(m, sizeof *argv);
	flat = calloc(3 * m, sizeof *flat);
	keys = calloc(m, 96);
	if (!cts || !argc || !argv || !flat || !keys)
		goto fail;
	for (size_t i = 0; i < m; i++) {
		key_of(keys + 96 * i, 96, prefix, names->element[i]->str ? names->element[i]->str : "");
		flat[3 * i] = "HGET";
		flat[3 * i + 1] = keys + 96 * i;
		flat[3 * i + 2] = "ct";
		argv[i] = flat + 3 * i;
		argc[i] = 3;
	}
	if (gwd_redis_pipeline(rs->pool, m, argc, argv, NULL, cts) < 0)
		goto fail;
	for (size_t i = 0; i < m; i++) {
		int64_t ct = cts[i]->type == REDIS_REPLY_STRING ? strtoll(cts[i]->str, NULL, 10) : 0;
		n++;
		if (names->element[i]->type == REDIS_REPLY_STRING &&
		    fn(names->element[i]->str, ct, arg) != 0)
			break;
	}
	rc = n;
fail:
	for (size_t i = 0; cts && names && i < names->elements; i++)
		if (cts[i])
			freeReplyObject(cts[i]);
	free(cts);
	free(argc);
	free(argv);
	free(flat);
	free(keys);
	if (names)
		freeReplyObject(names);
	return rc;
}

/* See store.h. */
int gwd_redis_store_user_list(struct gwd_redis_store *rs,
                              int (*fn)(const char *name, int64_t created_s, void *arg),
                              void *arg)
{
	return list_named(rs, "gw:users", "gw:u:", fn, arg);
}

/* ---- sessions ---- */

/* Shared body of session_add and session_put. */
static int sess_write(struct gwd_redis_store *rs, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                      int64_t uid, const char *name, uint64_t created_ms,
                      uint64_t expires_ms, uint64_t last_seen_ms, int only_new)
{
	char hex[HEX_LEN + 1], ku[96], ks[96], kus[96], ids[24], c[24], e[24], px[24], l[24];
	uint64_t ttl_end = last_seen_ms + atomic_load(&rs->idle_ms) + IDLE_GRACE_MS;
	long long r;

	if (ttl_end > expires_ms)
		ttl_end = expires_ms;
	gwd_redis_hex(hash, GWD_STORE_DIGEST_LEN, hex);
	key_of(ku, sizeof ku, "gw:u:", name);
	key_of(ks, sizeof ks, "gw:s:", hex);
	key_of(kus, sizeof kus, "gw:us:", name);
	snprintf(ids, sizeof ids, "%" PRId64, uid);
	snprintf(c, sizeof c, "%" PRIu64, created_ms);
	snprintf(e, sizeof e, "%" PRIu64, expires_ms);
	snprintf(px, sizeof px, "%" PRIu64, ttl_end);
	snprintf(l, sizeof l, "%" PRIu64, last_seen_ms);
	r = eval(rs, LUA_SESS_ADD, 3, 11,
	         (const char *const[]){ ku, ks, kus, ids, name, c, e, px, hex,
	                                only_new ? "1" : "0", l });
	return r < 0 ? -1 : (int)r;
}

/* See store.h. */
int gwd_redis_store_session_add(struct gwd_redis_store *rs,
                                const uint8_t hash[GWD_STORE_DIGEST_LEN], int64_t user_id,
                                const char *name, uint64_t created_ms, uint64_t expires_ms)
{
	if (!gwd_store_name_ok(name, strlen(name)))
		return -1;
	return sess_write(rs, hash, user_id, name, created_ms, expires_ms, created_ms, 0) == 1
	       ? 0 : -1;
}

/* See redis_store.h. */
int gwd_redis_store_session_put(struct gwd_redis_store *rs,
                                const uint8_t hash[GWD_STORE_DIGEST_LEN], const char *name,
                                const struct gwd_store_session *row)
{
	char pw[GWD_STORE_PWHASH_MAX + 1];
	int64_t uid = 0;
	int r = gwd_redis_store_user_get(rs, name, &uid, pw, sizeof pw);

	explicit_bzero(pw, sizeof pw);
	if (r <= 0)
		return r;
	return sess_write(rs, hash, uid, name, row->created_ms, row->expires_ms,
	                  row->last_seen_ms, 1);
}

/* See store.h. */
int gwd_redis_store_session_get(struct gwd_redis_store *rs,
                                const uint8_t hash[GWD_STORE_DIGEST_LEN],
                                struct gwd_store_session *out)
{
	char hex[HEX_LEN + 1], k[96];
	redisReply *r, **e;
	int found = 0;

	gwd_redis_hex(hash, GWD_STORE_DIGEST_LEN, hex);
	key_of(k, sizeof k, "gw:s:", hex);
	r = gwd_redis_cmd(rs->pool, 6, (const char *const[]){ "HMGET", k, "u", "c", "e", "l" },
	                  NULL);
	if (!r)
		return -1;
	e = r->element;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
	    e[0]->type == REDIS_REPLY_STRING && e[1]->type == REDIS_REPLY_STRING &&
	    e[2]->type == REDIS_REPLY_STRING && e[3]->type == REDIS_REPLY_STRING &&
	    gwd_store_name_ok(e[0]->str, e[0]->len)) {
		memcpy(out->name, e[0]->str, e[0]->len + 1);
		out->created_ms = strtoull(e[1]->str, NULL, 10);
		out->expires_ms = strtoull(e[2]->str, NULL, 10);
		out->last_seen_ms = strtoull(e[3]->str, NULL, 10);
		found = 1;
	}
	freeReplyObject(r);
	return found;
}

/* See store.h. */
int gwd_redis_store_session_del(struct gwd_redis_store *rs,
                                const uint8_t hash[GWD_STORE_DIGEST_LEN])
{
	char hex[HEX_LEN + 1], k[96];
	long long r;

	gwd_redis_hex(hash, GWD_STORE_DIGEST_LEN, hex);
	key_of(k, sizeof k, "gw:s:", hex);
	r = eval(rs, LUA_SESS_DEL, 1, 2, (const char *const[]){ k, hex });
	return r < 0 ? -1 : r > 0;
}

/* See store.h: one pipeline of one script per session. */
int gwd_redis_store_session_touch(struct gwd_redis_store *rs,
                                  const struct gwd_store_touch *t, size_t n)
{
	enum { W = 6 };
	char grace[24], *text = NULL;
	const char **flat = NULL;
	const char *const **argv = NULL;
	redisReply **rep = NULL;
	int *argc = NULL, rc = -1;

	if (n == 0)
		return 0;
	snprintf(grace, sizeof grace, "%" PRIu32,
	         atomic_load(&rs->idle_ms) + (uint32_t)IDLE_GRACE_MS);
	text = calloc(n, 96 + 24);
	flat = calloc(n * W, sizeof *flat);
	argv = calloc(n, sizeof *argv);
	argc = calloc(n, sizeof *argc);
	rep = calloc(n, sizeof *rep);
	if (!text || !flat || !argv || !argc || !rep)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char hex[HEX_LEN + 1], *k = text + i * 120, *l = k + 96;
		gwd_redis_hex(t[i].hash, GWD_STORE_DIGEST_LEN, hex);
		key_of(k, 96, "gw:s:", hex);
		snprintf(l, 24, "%" PRIu64, t[i].last_seen_ms);
		flat[i * W + 0] = "EVAL";
		flat[i * W + 1] = LUA_SESS_TOUCH;
		flat[i * W + 2] = "1";
		flat[i * W + 3] = k;
		flat[i * W + 4] = l;
		flat[i * W + 5] = grace;
		argv[i] = flat + i * W;
		argc[i] = W;
	}
	if (gwd_redis_pipeline(rs->pool, n, argc, argv, NULL, rep) == 0)
		rc = 0;
	for (size_t i = 0; i < n; i++)
		if (rep[i]) {
			if (rep[i]->type == REDIS_REPLY_ERROR)
				rc = -1;
			freeReplyObject(rep[i]);
		}
fail:
	free(text);
	free(flat);
	free(argv);
	free(argc);
	free(rep);
	return rc;
}

/* Call <fn> on each key matching <pattern> (SCAN).  Returns the number of
 * keys seen, or -1 on a store error. */
static long scan(struct gwd_redis_store *rs, const char *pattern,
                 void (*fn)(struct gwd_redis_store *rs, const char *key, long *acc),
                 long *acc)
{
	char cursor[32] = "0";
	long seen = 0;

	do {
		redisReply *r = gwd_redis_cmd(rs->pool, 6,
		        (const char *const[]){ "SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT },
		        NULL);
		if (!r)
			return -1;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return -1;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			seen++;
			if (fn)
				fn(rs, r->element[1]->element[i]->str, acc);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return seen;
}

/* scan() callback of the sweep: drop ended sessions from one user's set. */
static void sweep_set(struct gwd_redis_store *rs, const char *key, long *acc)
{
	long long r = eval(rs, LUA_SWEEP_SET, 1, 1, (const char *const[]){ key });

	if (r > 0)
		*acc += (long)r;
}

/* See store.h: Redis expires the sessions themselves (PEXPIREAT); the sweep
 * drops their digests from the per-user sets and counts those. */
long gwd_redis_store_session_sweep(struct gwd_redis_store *rs)
{
	long n = 0;

	if (scan(rs, "gw:us:*", sweep_set, &n) < 0)
		return -1;
	return n;
}

/* See store.h. */
long gwd_redis_store_session_count(struct gwd_redis_store *rs)
{
	return scan(rs, "gw:s:*", NULL, NULL);
}

/* ---- API keys ---- */

/* See store.h. */
int gwd_redis_store_key_add(struct gwd_redis_store *rs, const char *name,
                            const uint8_t hash[GWD_STORE_DIGEST_LEN], int64_t now_s)
{
	char hex[HEX_LEN + 1], kn[96], kk[96], ct[24];
	long long r;

	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	gwd_redis_hex(hash, GWD_STORE_DIGEST_LEN, hex);
	key_of(kn, sizeof kn, "gw:kn:", name);
	key_of(kk, sizeof kk, "gw:k:", hex);
	snprintf(ct, sizeof ct, "%" PRId64, now_s);
	r = eval(rs, LUA_KEY_ADD, 2, 5, (const char *const[]){ kn, kk, name, hex, ct });
	return r < 0 ? -1 : r > 0;
}

/* See store.h. */
int gwd_redis_store_key_del(struct gwd_redis_store *rs, const char *name)
{
	char kn[96];
	long long r;

	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	key_of(kn, sizeof kn, "gw:kn:", name);
	r = eval(rs, LUA_KEY_DEL, 1, 2, (const char *const[]){ kn, name });
	return r < 0 ? -1 : r > 0;
}

/* See store.h. */
int gwd_redis_store_key_get(struct gwd_redis_store *rs, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                            char name[GWD_STORE_NAME_MAX + 1])
{
	char hex[HEX_LEN + 1], k[96];
	redisReply *r;
	int found = 0;

	gwd_redis_hex(hash, GWD_STORE_DIGEST_LEN, hex);
	key_of(k, sizeof k, "gw:k:", hex);
	r = gwd_redis_cmd(rs->pool, 2, (const char *const[]){ "GET", k }, NULL);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_STRING && gwd_store_name_ok(r->str, r->len)) {
		memcpy(name, r->str, r->len + 1);
		found = 1;
	}
	freeReplyObject(r);
	return found;
}

/* See store.h. */
int gwd_redis_store_key_list(struct gwd_redis_store *rs,
                             int (*fn)(const char *name, int64_t created_s, void *arg),
                             void *arg)
{
	return list_named(rs, "gw:keys", "gw:kn:", fn, arg);
}
