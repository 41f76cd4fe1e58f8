/* Sessions: the login and logout handlers' logic and the `session` auth policy.
 *
 * What the pipeline calls, and where:
 *
 *   start-up   gw_store_open(&st, db, GW_STORE_CREATE | GW_STORE_LAZY, 0, ..)
 *              gw_sessions_new(&ss, st, NULL); gw_apikeys_new(&ak, st, 0)
 *              gw_sessions_configure(ss, &settings)   (again after each reload)
 *              gw_sessions_start(ss)                  (flusher/sweeper thread)
 *   login      MHD thread:   gw_login_parse(body, len, &req)  -> 0: answer 400
 *              worker pool:  gw_session_login(ss, set, &req, &res)   (slow: KDF)
 *                            gw_login_req_wipe(&req)
 *                            1: 200 gw_session_login_body() + Set-Cookie
 *                               gw_session_cookie();  0: 401;  -1: 503
 *   policy     gw_session_check(ss, set, authorization, cookie, &who)
 *                            1: go on, who.name is the user;  0: 401;  -1: 503
 *   logout     gw_session_logout(ss, &who)   (who from the policy before it)
 *                            1 or 0: 204 + Set-Cookie gw_session_cookie_clear();
 *                           -1: 503
 *   /health    gw_store_available(st)
 *   shutdown   gw_sessions_stop(ss) (last flush); gw_apikeys_free(ak);
 *              gw_sessions_free(ss); gw_store_close(st)
 *
 * Every function here is thread-safe.  gw_session_check and gw_session_logout
 * allocate nothing; a cache hit touches no SQLite and takes one shard mutex.
 *
 * The cache (gwd/authcache.h) maps the SHA-256 of a token to its user and
 * times.  It is the authority while an entry lives: logout removes the entry
 * under its shard lock before the 204, so a request that starts after the 204
 * is refused on every thread.  Idle and absolute expiry are checked on every
 * hit against <set>.  A hit records last_seen in memory only; the flusher
 * thread writes those in batches every flush interval (sliding renewal, never a
 * write per request) and sweeps ended sessions from the database every sweep
 * interval.
 *
 * Database unavailable (gw_store_available() == 0): the policy answers -1 (503)
 * even for cached sessions, login answers -1 (503); routes without the policy
 * are not affected.  The flusher thread reopens the store when the file comes
 * back.
 */
#ifndef GWD_SESSION_H
#define GWD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "gwd/store.h"
#include "gwd/token.h"
#include "lib/model.h"

struct gw_sessions; /* opaque */

/* Who an auth policy admitted; filled by gw_session_check and gw_apikey_check,
 * owned by the caller (a request-lifetime struct, no allocation inside).  The
 * pipeline hands <name> to rate limits keyed by user/api_key and to the route's
 * user_header. */
enum gw_principal_kind {
	GW_PRINCIPAL_USER = 1,
	GW_PRINCIPAL_KEY = 2,
};
struct gw_principal {
	uint8_t kind;                   /* enum gw_principal_kind */
	uint8_t len;                    /* strlen(name) */
	char name[GW_NAME_MAX + 1];     /* NUL-terminated, [A-Za-z0-9._@-] only */
	uint8_t digest[GW_DIGEST_LEN];  /* SHA-256 of the token or key (never the
	                                   token itself): what logout ends */
};

/* Options of gw_sessions_new(); a zero field takes its default. */
struct gw_sessions_opts {
	uint32_t cache_entries; /* bound on cached sessions (default 65536) */
	uint32_t flush_ms;      /* last_seen batch + store poll period (1000) */
	uint32_t sweep_ms;      /* expired-session sweep period (60000) */
	/* The clock: unix milliseconds (default CLOCK_REALTIME).  Tests inject one
	 * to reach idle and absolute expiry without sleeping. */
	uint64_t (*clock_ms)(void *arg);
	void *clock_arg;
};

/* Create the session service over <st> (borrowed: it must outlive the result)
 * with <o> (NULL: defaults).  Returns 0 and sets <*out>, or -1 when memory
 * runs out.  The idle/lifetime used by the sweeper are the model's defaults
 * until gw_sessions_configure().  Free with gw_sessions_free().  Also makes
 * jansson wipe every block it frees (it holds copies of the passwords that
 * gw_login_parse reads): call it before other threads use jansson. */
int gw_sessions_new(struct gw_sessions **out, struct gw_store *st,
                    const struct gw_sessions_opts *o);

/* Tell the sweeper the idle timeout of the settings now served (<set> is only
 * read during the call).  Call at start-up and after each reload. */
void gw_sessions_configure(struct gw_sessions *ss, const struct gw_settings *set);

/* Start the background thread (store poll + last_seen flush every flush_ms,
 * sweep every sweep_ms).  Returns 0, or -1 when the thread cannot start.
 * Without it the service still works (the CLI, tests): nothing is flushed or
 * swept unless gw_sessions_flush/gw_sessions_sweep are called. */
int gw_sessions_start(struct gw_sessions *ss);

/* Stop the thread if it runs, then flush pending last_seen updates once. */
void gw_sessions_stop(struct gw_sessions *ss);

/* Stop (if needed) and free <ss>; the store is not closed.  NULL ignored. */
void gw_sessions_free(struct gw_sessions *ss);

/* Write the pending last_seen updates now, in batches of one transaction each.
 * Returns the number written, or -1 when the store failed (they stay pending). */
long gw_sessions_flush(struct gw_sessions *ss);

/* Flush, then delete ended sessions from the database.  Returns the number
 * deleted, or -1 on a store error. */
long gw_sessions_sweep(struct gw_sessions *ss);

/* ---- login ---- */

#define GW_LOGIN_BODY_MAX 8192  /* a larger login body is malformed */
#define GW_LOGIN_USER_MAX 255
#define GW_LOGIN_PASS_MAX 1024

/* A parsed login body.  Holds the password: wipe it with gw_login_req_wipe(). */
struct gw_login_req {
	size_t user_len, pass_len;
	char user[GW_LOGIN_USER_MAX + 1]; /* NUL-terminated */
	char pass[GW_LOGIN_PASS_MAX + 1]; /* NUL-terminated; may hold no NUL inside */
};

/* Parse the login body <body> (<len> bytes, not NUL-terminated) with jansson:
 * a JSON object with string members "username" (1..255 bytes) and "password"
 * (1..1024 bytes); other members are ignored.  Returns 1 and fills <*req>, or
 * 0 when the body is malformed (not JSON, not an object, a member missing or
 * not a string, too long, a NUL inside, over GW_LOGIN_BODY_MAX): answer 400.
 * Cheap: fine on the HTTP thread.  jansson's own copies of the password are
 * wiped once gw_sessions_new() has run. */
int gw_login_parse(const char *body, size_t len, struct gw_login_req *req);

/* Overwrite the password in <req> (explicit_bzero). */
void gw_login_req_wipe(struct gw_login_req *req);

/* What a successful login yields. */
struct gw_login {
	char token[GW_TOKEN_LEN + 1]; /* the bearer token: never log it */
	int64_t expires_at;           /* unix seconds: the absolute end */
	uint32_t max_age_s;           /* cookie Max-Age: the lifetime */
};

/* Log in: check <req>'s password against the store (PBKDF2: tens of ms, by
 * design; a dummy check of the same cost runs for an unknown user), then
 * create a session of <set>'s lifetime, committed to the database before this
 * returns, and cache it.  Blocking and thread-safe: run it off the HTTP
 * threads.  Returns 1 and fills <*out>; 0 when the user or password is wrong
 * (401); -1 when the store is unavailable or fails (503).  <req> is not wiped. */
int gw_session_login(struct gw_sessions *ss, const struct gw_settings *set,
                     const struct gw_login_req *req, struct gw_login *out);

/* Write the 200 body {"token":"...","expires_at":N} of <l> into <buf> (<cap>
 * bytes, NUL-terminated; 128 is enough).  Returns its length, or -1 when <cap>
 * is too small. */
int gw_session_login_body(const struct gw_login *l, char *buf, size_t cap);

/* Write the Set-Cookie value for <l> into <buf> (<cap> bytes, NUL-terminated):
 * NAME=TOKEN; Path=/; Max-Age=N; HttpOnly; SameSite=Strict[; Secure]
 * with NAME = <set>->session_cookie and Secure when <tls> is non-zero (the
 * caller decides: settings.sessions.secure).  Returns
 * its length, or -1 when <cap> is too small (128 + the name's length is
 * enough). */
int gw_session_cookie(const struct gw_settings *set, const struct gw_login *l,
                      int tls, char *buf, size_t cap);

/* The Set-Cookie value that removes the cookie (logout): same attributes,
 * empty value, Max-Age=0.  Returns its length or -1 as above. */
int gw_session_cookie_clear(const struct gw_settings *set, int tls, char *buf,
                            size_t cap);

/* ---- the session policy and logout ---- */

/* Authenticate a request.  <authorization> and <cookie> are the raw values of
 * the Authorization and Cookie request headers, NUL-terminated, NULL when
 * absent.  "Bearer TOKEN" (scheme case-insensitive) is used when present;
 * otherwise the cookie named <set>->session_cookie.  Returns 1 and fills <*who>
 * (a copy: nothing is borrowed) when the session lives; 0 when there is no
 * token, it is malformed, unknown, logged out or expired (idle or absolute,
 * per <set>) -> 401; -1 when the store is unavailable -> 503.  A cache hit
 * touches no SQLite and allocates nothing. */
int gw_session_check(struct gw_sessions *ss, const struct gw_settings *set,
                     const char *authorization, const char *cookie,
                     struct gw_principal *who);

/* End the session <who> (filled by gw_session_check) in the database and the
 * cache: once this returns, every thread refuses its token.  Returns 1 when
 * ended, 0 when it was already gone, -1 when the store failed (503; the cache
 * entry is dropped all the same, the row stays). */
int gw_session_logout(struct gw_sessions *ss, const struct gw_principal *who);

/* Logout for a route without a session policy before it: takes the token from
 * the headers like gw_session_check.  Returns 1 ended, 0 no token or no such
 * session, -1 store failure. */
int gw_session_logout_headers(struct gw_sessions *ss, const struct gw_settings *set,
                              const char *authorization, const char *cookie);

/* The number of sessions in the cache (tests, metrics). */
uint32_t gw_sessions_cached(struct gw_sessions *ss);

#endif
