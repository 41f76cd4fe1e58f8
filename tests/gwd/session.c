/* Tests of gwd/session.c over a real SQLite file: login (right and wrong
 * password, unknown user, malformed bodies), the token by header and by
 * cookie, logout (also seen at once by other threads, and racing with a
 * cache miss), idle and absolute expiry with an injected clock, sliding
 * renewal written in batches, the sweep, the cache bound, a cache hit that
 * does not read SQLite, users deleted by the CLI, an unavailable database,
 * and the background thread. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gwd/kdf.h"
#include "gwd/session.h"
#include "gwd/store.h"
#include "tests/gwd/db_fixture.h"

int gw_suite_gwd_session(void);

#define T0 1700000000000ull /* the injected clock's start, unix ms */
#define IDLE_MS 600000u     /* 10 min */
#define LIFE_MS 3600000u    /* 1 h */

static _Atomic uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return atomic_load(&fake_now);
}

/* A test's world: a fresh database with user alice (password "wonderland",
 * stored at a low cost so that login upgrades it), a session service on the
 * fake clock, and the settings served. */
struct world {
	char path[512];
	struct gwd_store *st;
	struct gwd_sessions *ss;
	struct gw_settings set;
	int64_t alice;
};

static int world_open(struct world *w, const char *name, uint32_t cache_entries)
{
	char err[256], h[GWD_KDF_STR_MAX], ph[GWD_STORE_PWHASH_MAX + 1];
	struct gwd_session_opts o = { 0 };

	memset(w, 0, sizeof *w);
	snprintf(w->path, sizeof w->path, "%s", fxdb_path(name));
	/* a short busy timeout: a test holds the write lock on purpose */
	if (gwd_store_open(&w->st, w->path, GWD_STORE_CREATE, 200, err, sizeof err) < 0)
		return -1;
	o.cache_entries = cache_entries;
	o.clock_ms = fake_clock;
	atomic_store(&fake_now, T0);
	if (gwd_session_new(&w->ss, w->st, &o) < 0)
		return -1;
	w->set.session_cookie.p = "gw_session";
	w->set.session_cookie.len = 10;
	w->set.session_idle_ms = IDLE_MS;
	w->set.session_lifetime_ms = LIFE_MS;
	gwd_session_configure(w->ss, &w->set);
	if (gwd_kdf_hash("wonderland", 10, 1000, h, sizeof h) < 0 ||
	    gwd_store_user_add(w->st, "alice", h, 1) != 1 ||
	    gwd_store_user_get(w->st, "alice", &w->alice, ph, sizeof ph) != 1)
		return -1;
	return 0;
}

static void world_close(struct world *w)
{
	gwd_session_free(w->ss);
	gwd_store_close(w->st);
	w->ss = NULL;
	w->st = NULL;
}

/* Log in <user>/<pass> through the JSON body path.  Returns the login result
 * (1/0/-1) or -2 when the body did not parse. */
static int login(struct world *w, const char *user, const char *pass, struct gwd_session_grant *out)
{
	struct gwd_session_login_req req;
	char body[512];
	int r;

	snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, pass);
	if (!gwd_session_login_parse(body, strlen(body), &req))
		return -2;
	r = gwd_session_login(w->ss, &w->set, &req, out);
	gwd_session_login_req_wipe(&req);
	return r;
}

/* Check a bearer token. */
static int bearer(struct world *w, const char *tok, struct gwd_session_principal *who)
{
	char hdr[128];

	snprintf(hdr, sizeof hdr, "Bearer %.60s", tok);
	return gwd_session_check(w->ss, &w->set, hdr, NULL, who);
}

/* A session for alice made straight in the store (no KDF: fast), created at
 * <created>: its token into <tok>. */
static int mk_session(struct world *w, uint64_t created, char tok[GWD_TOKEN_LEN + 1])
{
	uint8_t d[32];

	if (gwd_token_new(tok, d) < 0)
		return -1;
	return gwd_store_session_add(w->st, d, w->alice, "alice", created,
	                            created + LIFE_MS);
}

/* Run <sql> on a separate connection (another process, in effect). */
static int side_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void test_parse(void)
{
	static const char *bad[] = {
		"",
		"{",
		"[]",
		"\"x\"",
		"null",
		"{}",
		"{\"username\":\"a\"}",
		"{\"password\":\"b\"}",
		"{\"username\":1,\"password\":\"b\"}",
		"{\"username\":\"a\",\"password\":null}",
		"{\"username\":\"a\",\"password\":[\"b\"]}",
		"{\"username\":\"\",\"password\":\"b\"}",
		"{\"username\":\"a\",\"password\":\"\"}",
		"{\"username\":\"a\",\"password\":\"b\"} trailing",
		"{\"username\":\"a\",\"username\":\"c\",\"password\":\"b\"}",
		"{\"username\":\"a\\u0000b\",\"password\":\"b\"}",
		"{\"username\":\"a\",\"password\":\"b\\u0000\"}",
		"{'username':'a','password':'b'}",
		"{\"username\":\"a\",\"password\":\"\xff\xfe\"}",
	};
	struct gwd_session_login_req req;
	char big[GWD_SESSION_LOGIN_BODY_MAX + 64];

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CU_ASSERT_EQUAL(gwd_session_login_parse(bad[i], strlen(bad[i]), &req), 0);
		CU_ASSERT_EQUAL(req.pass[0], '\0');
	}
	CU_ASSERT_EQUAL(gwd_session_login_parse(NULL, 0, &req), 0);
	const char *ok = "{ \"password\" : \"p\\\"w\", \"username\":\"alice\", \"x\":[1] }";
	CU_ASSERT_EQUAL(gwd_session_login_parse(ok, strlen(ok), &req), 1);
	CU_ASSERT_STRING_EQUAL(req.user, "alice");
	CU_ASSERT_EQUAL(req.user_len, 5);
	CU_ASSERT_STRING_EQUAL(req.pass, "p\"w");
	CU_ASSERT_EQUAL(req.pass_len, 3);
	gwd_session_login_req_wipe(&req);
	CU_ASSERT_EQUAL(req.pass[0], '\0');
	/* the length is the body's, not up to a NUL */
	CU_ASSERT_EQUAL(gwd_session_login_parse(ok, 10, &req), 0);
	/* too long: a password over the bound, and a body over the bound */
	snprintf(big, sizeof big, "{\"username\":\"a\",\"password\":\"");
	size_t n = strlen(big);
	memset(big + n, 'x', GWD_SESSION_LOGIN_PASS_MAX + 1);
	strcpy(big + n + GWD_SESSION_LOGIN_PASS_MAX + 1, "\"}");
	CU_ASSERT_EQUAL(gwd_session_login_parse(big, strlen(big), &req), 0);
	strcpy(big + n + GWD_SESSION_LOGIN_PASS_MAX, "\"}");
	CU_ASSERT_EQUAL(gwd_session_login_parse(big, strlen(big), &req), 1);
	CU_ASSERT_EQUAL(req.pass_len, GWD_SESSION_LOGIN_PASS_MAX);
	memset(big, ' ', sizeof big);
	memcpy(big, ok, strlen(ok));
	CU_ASSERT_EQUAL(gwd_session_login_parse(big, GWD_SESSION_LOGIN_BODY_MAX, &req), 1);
	CU_ASSERT_EQUAL(gwd_session_login_parse(big, GWD_SESSION_LOGIN_BODY_MAX + 1, &req), 0);
}

/* A free function for jansson that looks for <spy_secret> in every block it
 * is handed, before giving it back to malloc. */
static const char *spy_secret;
static int spy_frees, spy_found;

static void spy_free(void *p)
{
	if (p) {
		spy_frees++;
		if (memmem(p, malloc_usable_size(p), spy_secret, strlen(spy_secret)))
			spy_found++;
	}
	free(p);
}

/* jansson keeps copies of the password (the decoded string, the lexer's
 * buffer): none may go back to the heap readable, whether the body parses or
 * is refused half-way. */
static void test_parse_wipes_jansson(void)
{
	static const char *bodies[] = {
		"{\"username\":\"alice\",\"password\":\"Sw0rdfish-and-chips\"}",
		"{\"username\":\"alice\",\"password\":\"Sw0rdfish-and-chips",
		"{\"username\":\"alice\",\"password\":\"Sw0rdfish-and-chips\",\"x\":}",
		"{\"username\":\"alice\",\"password\":[\"Sw0rdfish-and-chips\"]}",
	};
	struct gwd_session_login_req req;
	struct world w;

	json_set_alloc_funcs(malloc, spy_free);
	spy_secret = "Sw0rdfish-and-chips";
	spy_frees = spy_found = 0;
	CU_ASSERT_EQUAL_FATAL(world_open(&w, "wipe.db", 0), 0);
	for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
		CU_ASSERT_EQUAL(gwd_session_login_parse(bodies[i], strlen(bodies[i]), &req), i == 0);
		gwd_session_login_req_wipe(&req);
	}
	CU_ASSERT(spy_frees > 0);
	CU_ASSERT_EQUAL(spy_found, 0);
	world_close(&w);
	json_set_alloc_funcs(malloc, free);
}

static void test_login(void)
{
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	char buf[256], h[GWD_STORE_PWHASH_MAX + 1];
	int64_t id;

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "login.db", 0), 0);
	CU_ASSERT_EQUAL(login(&w, "alice", "wrong", &l), 0);
	CU_ASSERT_EQUAL(l.token[0], '\0');
	CU_ASSERT_EQUAL(login(&w, "nobody", "wonderland", &l), 0);
	CU_ASSERT_EQUAL(login(&w, "not a name", "wonderland", &l), 0);
	CU_ASSERT_EQUAL(login(&w, "Alice", "wonderland", &l), 0);
	CU_ASSERT_EQUAL(gwd_store_session_count(w.st), 0);

	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	CU_ASSERT(gwd_token_shape_ok(l.token, strlen(l.token)));
	CU_ASSERT_EQUAL(l.expires_at, (int64_t)((T0 + LIFE_MS) / 1000));
	CU_ASSERT_EQUAL(l.max_age_s, LIFE_MS / 1000);
	CU_ASSERT_EQUAL(gwd_store_session_count(w.st), 1);
	/* the low-cost hash was upgraded to the default cost */
	CU_ASSERT_EQUAL(gwd_store_user_get(w.st, "alice", &id, h, sizeof h), 1);
	CU_ASSERT_EQUAL(gwd_kdf_needs_rehash(h), 0);
	CU_ASSERT_EQUAL(gwd_kdf_verify(h, "wonderland", 10), 1);

	/* the token works */
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 1);
	CU_ASSERT_STRING_EQUAL(who.name, "alice");
	CU_ASSERT_EQUAL(who.len, 5);
	CU_ASSERT_EQUAL(who.kind, GWD_SESSION_PRINCIPAL_USER);

	/* the body and the cookies */
	CU_ASSERT(gwd_session_login_body(&l, buf, sizeof buf) > 0);
	json_t *j = json_loads(buf, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "token")), l.token);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "expires_at")), l.expires_at);
	CU_ASSERT_EQUAL(json_object_size(j), 2);
	json_decref(j);
	CU_ASSERT_EQUAL(gwd_session_login_body(&l, buf, 20), -1);
	char want[256];
	snprintf(want, sizeof want, "gw_session=%s; Path=/; Max-Age=3600; HttpOnly; "
	         "SameSite=Strict", l.token);
	CU_ASSERT(gwd_session_cookie(&w.set, &l, 0, buf, sizeof buf) > 0);
	CU_ASSERT_STRING_EQUAL(buf, want);
	strcat(want, "; Secure");
	CU_ASSERT(gwd_session_cookie(&w.set, &l, 1, buf, sizeof buf) > 0);
	CU_ASSERT_STRING_EQUAL(buf, want);
	CU_ASSERT_EQUAL(gwd_session_cookie(&w.set, &l, 1, buf, 30), -1);
	CU_ASSERT(gwd_session_cookie_clear(&w.set, 1, buf, sizeof buf) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "gw_session=; Path=/; Max-Age=0; HttpOnly; "
	                       "SameSite=Strict; Secure");
	/* two logins: two sessions with different tokens */
	struct gwd_session_grant l2;
	CU_ASSERT_EQUAL(login(&w, "alice", "wonderland", &l2), 1);
	CU_ASSERT_STRING_NOT_EQUAL(l.token, l2.token);
	CU_ASSERT_EQUAL(gwd_store_session_count(w.st), 2);
	world_close(&w);
}

static void test_headers(void)
{
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	char a[256], c[256];

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "headers.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	snprintf(a, sizeof a, "  bearer \t%s  ", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, a, NULL, &who), 1);
	snprintf(a, sizeof a, "BEARER %s", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, a, NULL, &who), 1);
	/* cookie, among others, plain and quoted */
	snprintf(c, sizeof c, "theme=dark; gw_session=%s; x=y", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, c, &who), 1);
	CU_ASSERT_STRING_EQUAL(who.name, "alice");
	snprintf(c, sizeof c, "gw_session=\"%s\"", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, c, &who), 1);
	/* another scheme in Authorization: the cookie still counts */
	snprintf(c, sizeof c, "gw_session=%s", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, "Basic YTpi", c, &who), 1);
	/* a bearer token, when given, is the one used */
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, "Bearer nope", c, &who), 0);
	/* the cookie name comes from the settings */
	snprintf(c, sizeof c, "xgw_session=%s; gw_sessionx=%s", l.token, l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, c, &who), 0);
	struct gw_settings other = w.set;
	other.session_cookie.p = "sid";
	other.session_cookie.len = 3;
	snprintf(c, sizeof c, "sid=%s", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &other, NULL, c, &who), 1);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, c, &who), 0);
	/* named twice: the first one counts (the same rule for logout), so a
	 * second copy cannot override the first */
	snprintf(c, sizeof c, "gw_session=%s; gw_session=junk", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, c, &who), 1);
	snprintf(c, sizeof c, "gw_session=junk; gw_session=%s", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, c, &who), 0);
	/* blanks around the name, the '=' and the value */
	snprintf(c, sizeof c, "\ta=b ;  gw_session = %s \t; c=d", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, c, &who), 1);
	/* a very long header: the cookie at its end is still found */
	{
		size_t big = 64 * 1024, n = 0;
		char *h = malloc(big + 128);
		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		while (n + 8 < big) {
			memcpy(h + n, "a=bcd; ", 7);
			n += 7;
		}
		snprintf(h + n, 128, "gw_session=%s", l.token);
		CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, h, &who), 1);
		memset(h, 'x', big); /* one 64 KiB value, no '=' for ours */
		h[big] = '\0';
		CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, h, &who), 0);
		free(h);
	}
	/* nothing, garbage, a near miss, an unknown well-formed token */
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, NULL, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, "Bearer", NULL, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, "Bearer ", NULL, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, "Bearerx y", NULL, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, "gw_session=", &who), 0);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, ";;;=;", &who), 0);
	snprintf(a, sizeof a, "Bearer %.42s", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, a, NULL, &who), 0);
	snprintf(a, sizeof a, "Bearer %sA", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, a, NULL, &who), 0);
	char tok[GWD_TOKEN_LEN + 1];
	gwd_token_new(tok, NULL);
	CU_ASSERT_EQUAL(bearer(&w, tok, &who), 0);
	world_close(&w);
}

/* A cached session is answered without SQLite: its row deleted behind the
 * cache's back still passes, until the cache is told (here by a fresh
 * service over the same file, which must read the store). */
static void test_cache_hit_skips_sqlite(void)
{
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	struct gwd_sessions *ss2 = NULL;
	struct gwd_session_opts o = { .clock_ms = fake_clock };

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "hit.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	CU_ASSERT_EQUAL(gwd_session_cached(w.ss), 1);
	CU_ASSERT_EQUAL_FATAL(side_exec(w.path, "DELETE FROM sessions"), 0);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 1);
	CU_ASSERT_EQUAL_FATAL(gwd_session_new(&ss2, w.st, &o), 0);
	char a[128];
	snprintf(a, sizeof a, "Bearer %s", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(ss2, &w.set, a, NULL, &who), 0);
	gwd_session_free(ss2);
	world_close(&w);
}

static void test_logout(void)
{
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	struct gwd_store_session row;
	char c[128];

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "logout.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	CU_ASSERT_EQUAL_FATAL(bearer(&w, l.token, &who), 1);
	CU_ASSERT_EQUAL(gwd_session_logout(w.ss, &who), 1);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(w.st, who.digest, &row), 0);
	CU_ASSERT_EQUAL(gwd_session_logout(w.ss, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_cached(w.ss), 0);
	/* by headers, with the cookie */
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	snprintf(c, sizeof c, "gw_session=%s", l.token);
	CU_ASSERT_EQUAL(gwd_session_logout_headers(w.ss, &w.set, NULL, c), 1);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.set, NULL, c, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_logout_headers(w.ss, &w.set, NULL, c), 0);
	CU_ASSERT_EQUAL(gwd_session_logout_headers(w.ss, &w.set, NULL, NULL), 0);
	CU_ASSERT_EQUAL(gwd_store_session_count(w.st), 0);
	world_close(&w);
}

/* Threads hammer a cached token; once logout returns, no check that starts
 * afterwards may pass, on any thread. */
struct hammer {
	struct world *w;
	const char *tok;
	_Atomic int *logged_out;
	_Atomic int *stop;
	_Atomic long ok_before, ok_after, refused_after;
};

static void *hammer_main(void *p)
{
	struct hammer *h = p;
	struct gwd_session_principal who;

	while (!atomic_load(h->stop)) {
		int after = atomic_load(h->logged_out);
		int r = bearer(h->w, h->tok, &who);
		if (!after && r == 1)
			atomic_fetch_add(&h->ok_before, 1);
		else if (after && r == 1)
			atomic_fetch_add(&h->ok_after, 1);
		else if (after)
			atomic_fetch_add(&h->refused_after, 1);
	}
	return NULL;
}

/* Wait (at most 10 s) until every hammer's counter <which> is positive. */
static int wait_all(struct hammer *h, int n, int which)
{
	for (int t = 0; t < 1000; t++) {
		int all = 1;
		for (int i = 0; i < n; i++)
			all &= (which ? atomic_load(&h[i].refused_after)
			              : atomic_load(&h[i].ok_before)) > 0;
		if (all)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void test_logout_threads(void)
{
	enum { N = 4 };
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	struct hammer h[N];
	pthread_t th[N];
	_Atomic int logged_out = 0, stop = 0;

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "threads.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	CU_ASSERT_EQUAL_FATAL(bearer(&w, l.token, &who), 1);
	for (int i = 0; i < N; i++) {
		h[i].w = &w;
		h[i].tok = l.token;
		h[i].logged_out = &logged_out;
		h[i].stop = &stop;
		atomic_init(&h[i].ok_before, 0);
		atomic_init(&h[i].ok_after, 0);
		atomic_init(&h[i].refused_after, 0);
		pthread_create(&th[i], NULL, hammer_main, &h[i]);
	}
	CU_ASSERT(wait_all(h, N, 0)); /* every thread has it cached and passing */
	CU_ASSERT_EQUAL(gwd_session_logout(w.ss, &who), 1);
	atomic_store(&logged_out, 1);
	CU_ASSERT(wait_all(h, N, 1));
	atomic_store(&stop, 1);
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(atomic_load(&h[i].ok_after), 0);
	}
	world_close(&w);
}

/* The miss path (read the store, then cache) racing with logout must never
 * leave the ended session in the cache. */
struct racer {
	struct world *w;
	const char *tok;
	pthread_barrier_t *bar;
};

static void *racer_main(void *p)
{
	struct racer *r = p;
	struct gwd_session_principal who;

	pthread_barrier_wait(r->bar);
	(void)bearer(r->w, r->tok, &who);
	return NULL;
}

static void test_logout_races_miss(void)
{
	struct world w;
	struct gwd_session_principal who;
	pthread_barrier_t bar;
	char tok[GWD_TOKEN_LEN + 1], a[128];
	int leaked = 0;

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "race.db", 0), 0);
	pthread_barrier_init(&bar, NULL, 2);
	for (int i = 0; i < 300; i++) {
		struct racer r = { &w, tok, &bar };
		pthread_t th;
		uint8_t d[32];

		/* a session in the store only: the racer's check is a miss */
		CU_ASSERT_EQUAL_FATAL(mk_session(&w, T0, tok), 0);
		gwd_token_digest(tok, GWD_TOKEN_LEN, d);
		pthread_create(&th, NULL, racer_main, &r);
		pthread_barrier_wait(&bar);
		snprintf(a, sizeof a, "Bearer %s", tok);
		CU_ASSERT_EQUAL(gwd_session_logout_headers(w.ss, &w.set, a, NULL), 1);
		pthread_join(th, NULL);
		if (bearer(&w, tok, &who) != 0)
			leaked++;
	}
	CU_ASSERT_EQUAL(leaked, 0);
	CU_ASSERT_EQUAL(gwd_session_cached(w.ss), 0);
	pthread_barrier_destroy(&bar);
	world_close(&w);
}

static void test_idle(void)
{
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	struct gwd_store_session row;
	struct gwd_sessions *ss2 = NULL;
	struct gwd_session_opts o = { .clock_ms = fake_clock };
	char a[128];

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "idle.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	snprintf(a, sizeof a, "Bearer %s", l.token);
	/* used just before the idle timeout each time: it slides */
	for (int i = 1; i <= 3; i++) {
		atomic_store(&fake_now, T0 + (uint64_t)i * (IDLE_MS - 1));
		CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 1);
	}
	/* the renewal reached the store only at the flush, in one write */
	CU_ASSERT_EQUAL(gwd_store_session_get(w.st, who.digest, &row), 1);
	CU_ASSERT_EQUAL(row.last_seen_ms, T0);
	CU_ASSERT_EQUAL(gwd_session_flush(w.ss), 1);
	CU_ASSERT_EQUAL(gwd_store_session_get(w.st, who.digest, &row), 1);
	CU_ASSERT_EQUAL(row.last_seen_ms, T0 + 3ull * (IDLE_MS - 1));
	/* a fresh cache reads that last_seen from the store: still alive */
	CU_ASSERT_EQUAL_FATAL(gwd_session_new(&ss2, w.st, &o), 0);
	atomic_store(&fake_now, T0 + 4ull * (IDLE_MS - 1));
	CU_ASSERT_EQUAL(gwd_session_check(ss2, &w.set, a, NULL, &who), 1);
	gwd_session_free(ss2); /* its last flush writes that use */
	/* then idle for exactly the timeout after that last use: refused, by
	 * the cache and by the store (a fresh cache) alike */
	atomic_store(&fake_now, T0 + 4ull * (IDLE_MS - 1) + IDLE_MS);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_cached(w.ss), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_session_new(&ss2, w.st, &o), 0);
	CU_ASSERT_EQUAL(gwd_session_check(ss2, &w.set, a, NULL, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_cached(ss2), 0);
	gwd_session_free(ss2);
	/* a shorter idle timeout served after a reload applies at once */
	atomic_store(&fake_now, T0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	struct gw_settings strict = w.set;
	strict.session_idle_ms = 1000;
	atomic_store(&fake_now, T0 + 999);
	snprintf(a, sizeof a, "Bearer %s", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &strict, a, NULL, &who), 1);
	atomic_store(&fake_now, T0 + 999 + 1000);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &strict, a, NULL, &who), 0);
	world_close(&w);
}

static void test_absolute(void)
{
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	struct gwd_sessions *ss2 = NULL;
	struct gwd_session_opts o = { .clock_ms = fake_clock };
	char a[128];
	uint64_t t;

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "absolute.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	/* used every half idle period: never idle, but the lifetime ends it */
	for (t = T0; t < T0 + LIFE_MS; t += IDLE_MS / 2) {
		atomic_store(&fake_now, t);
		CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 1);
	}
	atomic_store(&fake_now, T0 + LIFE_MS - 1);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 1);
	CU_ASSERT_EQUAL(gwd_session_flush(w.ss), 1);
	atomic_store(&fake_now, T0 + LIFE_MS);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 0);
	/* also when read from the store */
	CU_ASSERT_EQUAL_FATAL(gwd_session_new(&ss2, w.st, &o), 0);
	snprintf(a, sizeof a, "Bearer %s", l.token);
	CU_ASSERT_EQUAL(gwd_session_check(ss2, &w.set, a, NULL, &who), 0);
	gwd_session_free(ss2);
	/* a lifetime shortened by a reload applies to existing sessions */
	atomic_store(&fake_now, T0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	struct gw_settings shorter = w.set;
	shorter.session_lifetime_ms = 60000;
	snprintf(a, sizeof a, "Bearer %s", l.token);
	atomic_store(&fake_now, T0 + 59999);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &shorter, a, NULL, &who), 1);
	atomic_store(&fake_now, T0 + 60000);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &shorter, a, NULL, &who), 0);
	world_close(&w);
}

/* Many requests, one write: sliding renewal is batched. */
static void test_flush_batches(void)
{
	struct world w;
	struct gwd_session_principal who;
	struct gwd_store_session row;
	char tok[50][GWD_TOKEN_LEN + 1];

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "flush.db", 0), 0);
	for (int i = 0; i < 50; i++)
		CU_ASSERT_EQUAL_FATAL(mk_session(&w, T0, tok[i]), 0);
	for (int k = 1; k <= 100; k++) {
		atomic_store(&fake_now, T0 + (uint64_t)k);
		for (int i = 0; i < 50; i++)
			CU_ASSERT_EQUAL(bearer(&w, tok[i], &who), 1);
	}
	/* 5000 checks, 50 sessions: 50 rows written by one flush, then none */
	CU_ASSERT_EQUAL(gwd_session_flush(w.ss), 50);
	CU_ASSERT_EQUAL(gwd_session_flush(w.ss), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(w.st, who.digest, &row), 1);
	CU_ASSERT_EQUAL(row.last_seen_ms, T0 + 100);
	/* a failed write keeps them pending */
	atomic_store(&fake_now, T0 + 200);
	CU_ASSERT_EQUAL(bearer(&w, tok[0], &who), 1);
	sqlite3 *other = NULL;
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(w.path, &other), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	                      SQLITE_OK);
	CU_ASSERT_EQUAL(gwd_session_flush(w.ss), -1);
	CU_ASSERT(gwd_store_available(w.st)); /* busy is not an outage */
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	CU_ASSERT_EQUAL(gwd_session_flush(w.ss), 1);
	CU_ASSERT_EQUAL(gwd_store_session_get(w.st, who.digest, &row), 1);
	CU_ASSERT_EQUAL(row.last_seen_ms, T0 + 200);
	world_close(&w);
}

static void test_sweep(void)
{
	struct world w;
	struct gwd_session_principal who;
	char tok[4][GWD_TOKEN_LEN + 1];

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "sweep.db", 0), 0);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL_FATAL(mk_session(&w, T0, tok[i]), 0);
	/* 0 and 1 stay in use; 2 and 3 go idle */
	for (uint64_t t = T0; t <= T0 + 2 * IDLE_MS; t += IDLE_MS / 4) {
		atomic_store(&fake_now, t);
		CU_ASSERT_EQUAL(bearer(&w, tok[0], &who), 1);
		CU_ASSERT_EQUAL(bearer(&w, tok[1], &who), 1);
	}
	CU_ASSERT_EQUAL(gwd_session_sweep(w.ss), 2);
	CU_ASSERT_EQUAL(gwd_store_session_count(w.st), 2);
	CU_ASSERT_EQUAL(bearer(&w, tok[0], &who), 1);
	CU_ASSERT_EQUAL(bearer(&w, tok[2], &who), 0);
	/* past the lifetime everything goes */
	atomic_store(&fake_now, T0 + LIFE_MS);
	CU_ASSERT_EQUAL(gwd_session_sweep(w.ss), 2);
	CU_ASSERT_EQUAL(gwd_store_session_count(w.st), 0);
	world_close(&w);
}

static void test_cache_bound(void)
{
	enum { N = 300 };
	struct world w;
	struct gwd_session_principal who;
	static char tok[N][GWD_TOKEN_LEN + 1];
	int ok = 0;

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "bound.db", 64), 0);
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL_FATAL(mk_session(&w, T0, tok[i]), 0);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			ok += bearer(&w, tok[i], &who) == 1;
			CU_ASSERT(gwd_session_cached(w.ss) <= 64);
		}
	/* every session still validates (misses go to the store) */
	CU_ASSERT_EQUAL(ok, 2 * N);
	CU_ASSERT(gwd_session_cached(w.ss) > 0);
	world_close(&w);
}

/* `gwd users del` in another process: the daemon's next poll sees the
 * revision move and its cache forgets the user's sessions. */
static void test_user_deleted_elsewhere(void)
{
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	struct gwd_store *cli = NULL;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "deleted.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 1);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&cli, w.path, 0, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_user_del(cli, "alice"), 1);
	gwd_store_close(cli);
	CU_ASSERT_EQUAL(gwd_store_poll(w.st), 1);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 0);
	CU_ASSERT_EQUAL(login(&w, "alice", "wonderland", &l), 0);
	world_close(&w);
}

/* Database gone: the policy and login answer -1 (503), cached or not; back:
 * everything works again, including the sessions made before. */
static void test_unavailable(void)
{
	struct world w;
	struct gwd_session_grant l, l2;
	struct gwd_session_principal who;
	char moved[600];

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "gone.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	CU_ASSERT_EQUAL_FATAL(bearer(&w, l.token, &who), 1);
	snprintf(moved, sizeof moved, "%s.moved", w.path);
	CU_ASSERT_EQUAL_FATAL(rename(w.path, moved), 0);
	CU_ASSERT_EQUAL(gwd_store_poll(w.st), 0);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), -1);
	CU_ASSERT_EQUAL(login(&w, "alice", "wonderland", &l2), -1);
	CU_ASSERT_EQUAL(gwd_session_logout(w.ss, &who), -1);
	CU_ASSERT_EQUAL_FATAL(rename(moved, w.path), 0);
	CU_ASSERT_EQUAL(gwd_store_poll(w.st), 1);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 1);
	CU_ASSERT_EQUAL(login(&w, "alice", "wonderland", &l2), 1);
	world_close(&w);
}

/* The database is deleted and a fresh one made in its place (`rm`, then
 * `gwd users add alice`): the daemon reopens the new file, whose revision
 * counter starts at 0 again, the same number the old one had.  The sessions
 * cached from the old file must not outlive it. */
static void test_db_replaced(void)
{
	struct world w;
	struct gwd_session_grant l;
	struct gwd_session_principal who;
	struct gwd_store *cli = NULL;
	char err[256], h[GWD_KDF_STR_MAX];

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "replaced.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(login(&w, "alice", "wonderland", &l), 1);
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 1);
	CU_ASSERT_EQUAL(gwd_session_cached(w.ss), 1);
	fxdb_unlink(w.path);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&cli, w.path, GWD_STORE_CREATE, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_kdf_hash("other", 5, 1000, h, sizeof h), 0);
	CU_ASSERT_EQUAL(gwd_store_user_add(cli, "alice", h, 1), 1);
	gwd_store_close(cli);
	/* the poll notices the new file and reopens it */
	CU_ASSERT_EQUAL(gwd_store_poll(w.st), 1);
	CU_ASSERT_EQUAL(gwd_store_session_count(w.st), 0);
	/* no row for the token in the new file: refused */
	CU_ASSERT_EQUAL(bearer(&w, l.token, &who), 0);
	CU_ASSERT_EQUAL(gwd_session_cached(w.ss), 0);
	world_close(&w);
}

/* The background thread flushes and sweeps on its own. */
static void test_background(void)
{
	struct world w;
	struct gwd_session_principal who;
	struct gwd_store_session row;
	struct gwd_sessions *bg = NULL;
	struct gwd_session_opts o = { .clock_ms = fake_clock, .flush_ms = 20,
	                              .sweep_ms = 50 };
	char tok[2][GWD_TOKEN_LEN + 1], a[128];
	int seen = 0, swept = 0;

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "bg.db", 0), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_session_new(&bg, w.st, &o), 0);
	gwd_session_configure(bg, &w.set);
	CU_ASSERT_EQUAL_FATAL(mk_session(&w, T0, tok[0]), 0);
	CU_ASSERT_EQUAL_FATAL(mk_session(&w, T0, tok[1]), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_session_start(bg), 0);
	atomic_store(&fake_now, T0 + 5000);
	snprintf(a, sizeof a, "Bearer %s", tok[0]);
	CU_ASSERT_EQUAL(gwd_session_check(bg, &w.set, a, NULL, &who), 1);
	for (int i = 0; i < 200 && !seen; i++) {
		usleep(10000);
		seen = gwd_store_session_get(w.st, who.digest, &row) == 1 &&
		       row.last_seen_ms == T0 + 5000;
	}
	CU_ASSERT(seen);
	atomic_store(&fake_now, T0 + LIFE_MS + 1);
	for (int i = 0; i < 200 && !swept; i++) {
		usleep(10000);
		swept = gwd_store_session_count(w.st) == 0;
	}
	CU_ASSERT(swept);
	gwd_session_stop(bg);
	gwd_session_stop(bg); /* twice is harmless */
	gwd_session_free(bg);
	world_close(&w);
}

int gw_suite_gwd_session(void)
{
	CU_pSuite s = CU_add_suite("gwd/session", fxdb_init, fxdb_clean);

	if (!s)
		return -1;
	if (!CU_add_test(s, "login body parsing (malformed bodies)", test_parse) ||
	    !CU_add_test(s, "login parsing leaves no password copy", test_parse_wipes_jansson) ||
	    !CU_add_test(s, "login: right, wrong, unknown; body, cookie", test_login) ||
	    !CU_add_test(s, "token by bearer header and cookie", test_headers) ||
	    !CU_add_test(s, "cache hit reads no SQLite", test_cache_hit_skips_sqlite) ||
	    !CU_add_test(s, "logout", test_logout) ||
	    !CU_add_test(s, "logout seen at once by other threads", test_logout_threads) ||
	    !CU_add_test(s, "logout racing a cache miss", test_logout_races_miss) ||
	    !CU_add_test(s, "idle expiry, sliding renewal", test_idle) ||
	    !CU_add_test(s, "absolute expiry", test_absolute) ||
	    !CU_add_test(s, "renewals written in batches", test_flush_batches) ||
	    !CU_add_test(s, "sweep", test_sweep) ||
	    !CU_add_test(s, "cache bound", test_cache_bound) ||
	    !CU_add_test(s, "user deleted by another process", test_user_deleted_elsewhere) ||
	    !CU_add_test(s, "database unavailable and back", test_unavailable) ||
	    !CU_add_test(s, "database replaced by a fresh one", test_db_replaced) ||
	    !CU_add_test(s, "background flush and sweep", test_background))
		return -1;
	return 0;
}
