/* Sessions (gwd/session.h): login, the session policy, logout, and the
 * background thread that writes sliding renewals in batches, sweeps ended
 * sessions and keeps the store probed (and reopened). */
#include "gwd/session.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gwd/authcache.h"
#include "gwd/cookie.h"
#include "gwd/kdf.h"

#define DEFAULT_CACHE 65536u
#define DEFAULT_FLUSH_MS 1000u
#define DEFAULT_SWEEP_MS 60000u
#define FLUSH_BATCH 512  /* last_seen updates per transaction */

struct gwd_sessions {
	struct gwd_store *st;
	struct gwd_authcache *cache;
	uint32_t flush_ms, sweep_ms;
	uint64_t (*clock_ms)(void *arg);
	void *clock_arg;
	_Atomic uint32_t idle_ms, lifetime_ms; /* for the sweeper (configure) */
	pthread_mutex_t flush_mu;              /* one flush at a time */
	/* the background thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thr;
	int running, stopping;
};

/* The default clock: unix milliseconds from CLOCK_REALTIME (sessions outlive
 * the process, so the clock must mean the same after a restart). */
static uint64_t realtime_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The service clock (injected in tests), unix ms. */
static uint64_t now_ms(const struct gwd_sessions *ss)
{
	return ss->clock_ms(ss->clock_arg);
}

/* The idle timeout of <set> (may be NULL), the model's default where zero. */
static uint32_t idle_of(const struct gw_settings *set)
{
	return set && set->session_idle_ms ? set->session_idle_ms
	                                   : GW_DEFAULT_SESSION_IDLE_MS;
}

/* The lifetime of <set> (may be NULL), the model's default where zero. */
static uint32_t lifetime_of(const struct gw_settings *set)
{
	return set && set->session_lifetime_ms ? set->session_lifetime_ms
	                                       : GW_DEFAULT_SESSION_LIFETIME_MS;
}

/* The free function jansson had before wiping_free was put in front of it. */
static json_free_t next_free = free;

/* jansson's free function in gwd: overwrite a block before handing it back.
 * Parsing a login body leaves copies of the password in jansson's memory (the
 * decoded string, the lexer's buffer, which grows by copying); wiping every
 * block jansson frees is the only way to reach them all. */
static void wiping_free(void *p)
{
	if (p)
		explicit_bzero(p, malloc_usable_size(p));
	next_free(p);
}

/* Put wiping_free in front of jansson's free function, unless it is there
 * already (every gwd_session_new calls this).  Only blocks
 * from malloc can be measured, so an allocator other than malloc is left
 * alone.  jansson's functions are process globals: this runs at start-up,
 * before the threads that parse. */
static void install_wiping_free(void)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;

	json_get_alloc_funcs(&m, &f);
	if (f == wiping_free || (m && m != malloc))
		return;
	next_free = f ? f : free;
	json_set_alloc_funcs(malloc, wiping_free);
}

/* Store hook: another instance ended session <digest> (gwd_store_on_evict). */
static void evict_session(void *arg, const uint8_t digest[GWD_STORE_DIGEST_LEN])
{
	struct gwd_sessions *ss = arg;

	(void)gwd_authcache_remove(ss->cache, digest);
}

/* See session.h. */
int gwd_session_new(struct gwd_sessions **out, struct gwd_store *st,
                    const struct gwd_session_opts *o)
{
	struct gwd_sessions *ss = calloc(1, sizeof *ss);
	uint32_t entries = o && o->cache_entries ? o->cache_entries : DEFAULT_CACHE;

	*out = NULL;
	if (!ss)
		return -1;
	install_wiping_free();
	if (gwd_authcache_new(&ss->cache, entries) < 0) {
		free(ss);
		return -1;
	}
	ss->st = st;
	ss->flush_ms = o && o->flush_ms ? o->flush_ms : DEFAULT_FLUSH_MS;
	ss->sweep_ms = o && o->sweep_ms ? o->sweep_ms : DEFAULT_SWEEP_MS;
	ss->clock_ms = o && o->clock_ms ? o->clock_ms : realtime_ms;
	ss->clock_arg = o ? o->clock_arg : NULL;
	atomic_store(&ss->idle_ms, GW_DEFAULT_SESSION_IDLE_MS);
	atomic_store(&ss->lifetime_ms, GW_DEFAULT_SESSION_LIFETIME_MS);
	gwd_authcache_sync(ss->cache, gwd_store_revision(st));
	if (gwd_store_on_evict(st, 's', evict_session, ss) < 0) {
		gwd_authcache_free(ss->cache);
		free(ss);
		return -1;
	}
	pthread_mutex_init(&ss->flush_mu, NULL);
	pthread_mutex_init(&ss->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ss->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = ss;
	return 0;
}

/* See session.h. */
void gwd_session_configure(struct gwd_sessions *ss, const struct gw_settings *set)
{
	atomic_store(&ss->idle_ms, idle_of(set));
	atomic_store(&ss->lifetime_ms, lifetime_of(set));
	gwd_store_set_session_idle(ss->st, idle_of(set));
}

/* See session.h.  Batches are collected under one shard lock at a time and
 * written without any: a request never waits for the disk. */
long gwd_session_flush(struct gwd_sessions *ss)
{
	struct gwd_store_touch batch[FLUSH_BATCH];
	struct gwd_authcache_cursor cur = { 0, 0 };
	long total = 0;
	size_t n;

	pthread_mutex_lock(&ss->flush_mu);
	do {
		n = gwd_authcache_collect(ss->cache, &cur, batch, FLUSH_BATCH);
		if (n && gwd_store_session_touch(ss->st, batch, n) < 0) {
			/* Keep them (and the rest of the walk) for the next round. */
			gwd_authcache_redirty(ss->cache, batch, n);
			total = -1;
			break;
		}
		total += (long)n;
	} while (n == FLUSH_BATCH);
	pthread_mutex_unlock(&ss->flush_mu);
	return total;
}

/* See session.h.  The idle cut-off gets a grace of two flush periods plus a
 * second: the database's last_seen lags the cache's by up to a flush period,
 * and the cache, which knows better, decides idle expiry of live sessions. */
long gwd_session_sweep(struct gwd_sessions *ss)
{
	uint64_t now = now_ms(ss);
	uint64_t idle = atomic_load(&ss->idle_ms);
	uint64_t grace = 2ull * ss->flush_ms + 1000u;
	uint64_t before = now > idle + grace ? now - idle - grace : 0;

	(void)gwd_session_flush(ss);
	return gwd_store_session_sweep(ss->st, now, before);
}

/* <t> plus <ms> milliseconds. */
static struct timespec ts_add_ms(struct timespec t, uint32_t ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* 1 when <a> is at or after <b>. */
static int ts_ge(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec >= b.tv_nsec);
}

/* The background thread: every flush period probe the store (reopening it if
 * needed) and write pending last_seen updates; every sweep period sweep.
 * Waits on the monotonic clock so that wall-clock jumps do not stall it. */
static void *bg_main(void *arg)
{
	struct gwd_sessions *ss = arg;
	struct timespec now, next, sweep_at;

	clock_gettime(CLOCK_MONOTONIC, &now);
	next = now;
	sweep_at = ts_add_ms(now, ss->sweep_ms);
	pthread_mutex_lock(&ss->mu);
	while (!ss->stopping) {
		next = ts_add_ms(next, ss->flush_ms);
		while (!ss->stopping &&
		       pthread_cond_timedwait(&ss->cv, &ss->mu, &next) == 0)
			;
		if (ss->stopping)
			break;
		pthread_mutex_unlock(&ss->mu);
		if (gwd_store_poll(ss->st)) {
			gwd_authcache_sync(ss->cache, gwd_store_revision(ss->st));
			(void)gwd_session_flush(ss);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (ts_ge(now, sweep_at)) {
				(void)gwd_session_sweep(ss);
				sweep_at = ts_add_ms(now, ss->sweep_ms);
			}
		}
		/* A slow round (disk) must not make the next ones pile up. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_ge(now, next))
			next = now;
		pthread_mutex_lock(&ss->mu);
	}
	pthread_mutex_unlock(&ss->mu);
	return NULL;
}

/* See session.h. */
int gwd_session_start(struct gwd_sessions *ss)
{
	int rc = 0;

	pthread_mutex_lock(&ss->mu);
	if (!ss->running) {
		ss->stopping = 0;
		if (pthread_create(&ss->thr, NULL, bg_main, ss) != 0)
			rc = -1;
		else
			ss->running = 1;
	}
	pthread_mutex_unlock(&ss->mu);
	return rc;
}

/* See session.h. */
void gwd_session_stop(struct gwd_sessions *ss)
{
	int join;

	pthread_mutex_lock(&ss->mu);
	join = ss->running;
	ss->stopping = 1;
	pthread_cond_broadcast(&ss->cv);
	pthread_mutex_unlock(&ss->mu);
	if (join)
		pthread_join(ss->thr, NULL);
	pthread_mutex_lock(&ss->mu);
	ss->running = 0;
	pthread_mutex_unlock(&ss->mu);
	(void)gwd_session_flush(ss);
}

/* See session.h. */
void gwd_session_free(struct gwd_sessions *ss)
{
	if (!ss)
		return;
	gwd_session_stop(ss);
	gwd_authcache_free(ss->cache);
	pthread_mutex_destroy(&ss->flush_mu);
	pthread_mutex_destroy(&ss->mu);
	pthread_cond_destroy(&ss->cv);
	free(ss);
}

/* See session.h. */
uint32_t gwd_session_cached(struct gwd_sessions *ss)
{
	return gwd_authcache_count(ss->cache);
}

/* ---- login ---- */

/* Copy JSON string member <key> of object <o> into <buf> (<cap> bytes incl.
 * NUL), length into <*len>.  Returns 1, or 0 when it is missing, not a string,
 * empty or longer than <cap> - 1. */
static int member(json_t *o, const char *key, char *buf, size_t cap, size_t *len)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	if (!v || !json_is_string(v))
		return 0;
	n = json_string_length(v);
	if (n == 0 || n >= cap)
		return 0;
	memcpy(buf, json_string_value(v), n);
	buf[n] = '\0';
	*len = n;
	return 1;
}

/* See session.h.  jansson refuses "\u0000" in strings unless asked
 * (JSON_ALLOW_NUL is not given), so a NUL cannot sneak into a name; duplicate
 * keys are refused so that {"username":"a","username":"b"} is not ambiguous. */
int gwd_session_login_parse(const char *body, size_t len, struct gwd_session_login_req *req)
{
	json_error_t jerr;
	json_t *o = NULL;
	int ok = 0;

	memset(req, 0, sizeof *req);
	if (!body || len == 0 || len > GWD_SESSION_LOGIN_BODY_MAX)
		return 0;
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o || !json_is_object(o))
		goto fail;
	if (!member(o, "username", req->user, sizeof req->user, &req->user_len) ||
	    !member(o, "password", req->pass, sizeof req->pass, &req->pass_len))
		goto fail;
	ok = 1;
fail:
	/* jansson's copies of the password are wiped as they are freed (see
	 * wiping_free, installed by gwd_session_new); an error message may
	 * quote the text near the error: wiped here.  Ours is the caller's. */
	json_decref(o);
	explicit_bzero(&jerr, sizeof jerr);
	if (!ok)
		gwd_session_login_req_wipe(req);
	return ok;
}

/* See session.h. */
void gwd_session_login_req_wipe(struct gwd_session_login_req *req)
{
	explicit_bzero(req->pass, sizeof req->pass);
	req->pass_len = 0;
}

/* See session.h.  Timing: an unknown user costs one store read and one
 * dummy KDF run at the default cost; a known one, the same read, the real KDF
 * run (same cost unless the stored cost differs) and, when right, one insert.
 * A wrong password and an unknown user thus take the same time, and a right
 * one only differs after the password has been proven. */
int gwd_session_login(struct gwd_sessions *ss, const struct gw_settings *set,
                     const struct gwd_session_login_req *req, struct gwd_session_grant *out)
{
	char stored[GWD_STORE_PWHASH_MAX + 1];
	uint8_t digest[GWD_STORE_DIGEST_LEN];
	struct gwd_authcache_val v;
	int64_t uid = 0;
	uint64_t now, lifetime = lifetime_of(set);
	int r, rc = 0;

	memset(out, 0, sizeof *out);
	if (!gwd_store_available(ss->st))
		return -1;
	if (!gwd_store_name_ok(req->user, req->user_len)) {
		gwd_kdf_dummy_verify(req->pass, req->pass_len);
		return 0;
	}
	r = gwd_store_user_get(ss->st, req->user, &uid, stored, sizeof stored);
	if (r < 0)
		return -1;
	if (r == 0) {
		gwd_kdf_dummy_verify(req->pass, req->pass_len);
		return 0;
	}
	if (gwd_kdf_verify(stored, req->pass, req->pass_len) != 1)
		goto fail;
	rc = -1;
	if (gwd_token_new(out->token, digest) < 0)
		goto fail;
	now = now_ms(ss);
	if (gwd_store_session_add(ss->st, digest, uid, req->user, now, now + lifetime) < 0)
		goto fail;
	/* Cached at once: the first request with the token is a hit. */
	memset(&v, 0, sizeof v);
	v.created_ms = now;
	v.expires_ms = now + lifetime;
	v.last_seen_ms = now;
	v.len = (uint8_t)req->user_len;
	memcpy(v.name, req->user, req->user_len + 1);
	(void)gwd_authcache_put(ss->cache, digest, gwd_authcache_gen(ss->cache, digest), &v, 0);
	out->expires_at = (int64_t)((now + lifetime) / 1000u);
	out->max_age_s = (uint32_t)(lifetime / 1000u);
	rc = 1;
	/* The cost of new hashes rose since this one was made: upgrade it now
	 * that the password is known.  A failure here costs nothing. */
	if (gwd_kdf_needs_rehash(stored)) {
		char fresh[GWD_KDF_STR_MAX];
		if (gwd_kdf_hash(req->pass, req->pass_len, 0, fresh, sizeof fresh) == 0)
			(void)gwd_store_user_set_hash(ss->st, uid, stored, fresh);
	}
fail:
	if (rc != 1)
		explicit_bzero(out, sizeof *out);
	return rc;
}

/* See session.h. */
int gwd_session_login_body(const struct gwd_session_grant *l, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "{\"token\":\"%s\",\"expires_at\":%lld}", l->token,
	                 (long long)l->expires_at);

	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Shared body of the two cookie writers. */
static int cookie(const struct gw_settings *set, const char *value, uint32_t max_age,
                  int tls, char *buf, size_t cap)
{
	const char *name = set && set->session_cookie.len ? set->session_cookie.p
	                                                  : GW_DEFAULT_SESSION_COOKIE;
	int n = snprintf(buf, cap, "%s=%s; Path=/; Max-Age=%u; HttpOnly; SameSite=Strict%s",
	                 name, value, max_age, tls ? "; Secure" : "");

	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* See session.h. */
int gwd_session_cookie(const struct gw_settings *set, const struct gwd_session_grant *l,
                      int tls, char *buf, size_t cap)
{
	return cookie(set, l->token, l->max_age_s, tls, buf, cap);
}

/* See session.h. */
int gwd_session_cookie_clear(const struct gw_settings *set, int tls, char *buf,
                            size_t cap)
{
	return cookie(set, "", 0, tls, buf, cap);
}

/* ---- the policy ---- */

/* 1 for the blanks HTTP allows around header tokens (SP, HTAB). */
static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Find the token of a request: "Bearer TOKEN" in <authz> when that scheme is
 * used, else the value of cookie <name> (<nlen> bytes) in <cookie>
 * ("a=b; NAME=VALUE; c=d", the value possibly in double quotes).  Sets <*tok>
 * and <*len> (borrowed from the header values).  Returns 1 when one was found,
 * 0 otherwise.  Never allocates. */
static int find_token(const char *authz, const char *cookie_hdr, const char *name,
                      size_t nlen, const char **tok, size_t *len)
{
	if (authz) {
		const char *p = authz;
		while (is_blank(*p))
			p++;
		if (strncasecmp(p, "Bearer", 6) == 0 && is_blank(p[6])) {
			const char *e;
			p += 6;
			while (is_blank(*p))
				p++;
			e = p + strlen(p);
			while (e > p && is_blank(e[-1]))
				e--;
			*tok = p;
			*len = (size_t)(e - p);
			return 1;
		}
	}
	/* the same parser as the proxy's cookie stripper (gwd/cookie.h): what
	 * authenticates here is what never reaches an upstream */
	if (cookie_hdr)
		return gwd_cookie_find(cookie_hdr, strlen(cookie_hdr), name, nlen, tok, len);
	return 0;
}

/* Digest of the request's token into <digest>.  Returns 1 when a well-formed
 * token was presented, 0 otherwise (nothing to look up). */
static int request_digest(const struct gw_settings *set, const char *authz,
                          const char *cookie_hdr, uint8_t digest[GWD_STORE_DIGEST_LEN])
{
	const char *name = set && set->session_cookie.len ? set->session_cookie.p
	                                                  : GW_DEFAULT_SESSION_COOKIE;
	const char *tok;
	size_t len;

	if (!find_token(authz, cookie_hdr, name, strlen(name), &tok, &len))
		return 0;
	if (!gwd_token_shape_ok(tok, len))
		return 0;
	return gwd_token_digest(tok, len, digest) == 0;
}

/* See session.h. */
int gwd_session_check(struct gwd_sessions *ss, const struct gw_settings *set,
                     const char *authorization, const char *cookie_hdr,
                     struct gwd_session_principal *who)
{
	uint32_t idle = idle_of(set), lifetime = lifetime_of(set);
	struct gwd_store_session row;
	struct gwd_authcache_val v;
	uint64_t now, gen;
	int r;

	/* A shared store (Redis) that is unreachable leaves the cached
	 * sessions valid: nobody can end them meanwhile (gwd_store_shared). */
	if (!gwd_store_available(ss->st) && !gwd_store_shared(ss->st))
		return -1;
	if (!request_digest(set, authorization, cookie_hdr, who->digest))
		return 0;
	gwd_authcache_sync(ss->cache, gwd_store_revision(ss->st));
	now = now_ms(ss);
	r = gwd_authcache_get(ss->cache, who->digest, now, idle, lifetime, 1, who->name,
	                  &who->len);
	if (r == GWD_AUTHCACHE_HIT) {
		who->kind = GWD_SESSION_PRINCIPAL_USER;
		return 1;
	}
	if (r == GWD_AUTHCACHE_EXPIRED)
		return 0;
	/* A miss: the generation is read before the store so that a logout
	 * racing with this read keeps the row out of the cache. */
	gen = gwd_authcache_gen(ss->cache, who->digest);
	r = gwd_store_session_get(ss->st, who->digest, &row);
	if (r <= 0)
		return r;
	memset(&v, 0, sizeof v);
	v.created_ms = row.created_ms;
	v.expires_ms = row.expires_ms;
	v.last_seen_ms = row.last_seen_ms;
	v.len = (uint8_t)strlen(row.name);
	memcpy(v.name, row.name, (size_t)v.len + 1);
	if (now >= v.expires_ms || now >= v.created_ms + lifetime ||
	    now >= v.last_seen_ms + idle)
		return 0;
	if (now > v.last_seen_ms)
		v.last_seen_ms = now;
	(void)gwd_authcache_put(ss->cache, who->digest, gen, &v, 1);
	who->kind = GWD_SESSION_PRINCIPAL_USER;
	who->len = v.len;
	memcpy(who->name, v.name, (size_t)v.len + 1);
	return 1;
}

/* End session <digest>: the row first, then the cache entry (and its shard
 * generation), in that order: see gwd/authcache.h. */
static int logout_digest(struct gwd_sessions *ss, const uint8_t digest[GWD_STORE_DIGEST_LEN])
{
	int r = gwd_store_session_del(ss->st, digest);

	(void)gwd_authcache_remove(ss->cache, digest);
	return r;
}

/* See session.h. */
int gwd_session_logout(struct gwd_sessions *ss, const struct gwd_session_principal *who)
{
	return logout_digest(ss, who->digest);
}

/* See session.h. */
int gwd_session_logout_headers(struct gwd_sessions *ss, const struct gw_settings *set,
                              const char *authorization, const char *cookie_hdr)
{
	uint8_t digest[GWD_STORE_DIGEST_LEN];

	if (!request_digest(set, authorization, cookie_hdr, digest))
		return 0;
	return logout_digest(ss, digest);
}
