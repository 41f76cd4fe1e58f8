/* Sessions: the login and logout handlers' logic and the `session` auth policy.
 *
 * What the pipeline calls, and where:
 *
 *   start-up   gwd_store_open(&st, db, GWD_STORE_CREATE | GWD_STORE_LAZY, 0, ..)
 *              gwd_session_new(&ss, st, NULL); gwd_apikey_new(&ak, st, 0)
 *              gwd_session_configure(ss, &settings)   (again after each reload)
 *              gwd_session_start(ss)                  (flusher/sweeper thread)
 *   login      MHD thread:   gwd_session_login_parse(body, len, &req)  -> 0: answer 400
 *              worker pool:  gwd_session_login(ss, set, &req, &res)   (slow: KDF)
 *                            gwd_session_login_req_wipe(&req)
 *                            1: 200 gwd_session_login_body() + Set-Cookie
 *                               gwd_session_cookie();  0: 401;  -1: 503
 *   policy     gwd_session_check(ss, set, authorization, cookie, &who)
 *                            1: go on, who.name is the user;  0: 401;  -1: 503
 *   logout     gwd_session_logout(ss, &who)   (who from the policy before it)
 *                            1 or 0: 204 + Set-Cookie gwd_session_cookie_clear();
 *                           -1: 503
 *   /health    gwd_store_available(st)
 *   shutdown   gwd_session_stop(ss) (last flush); gwd_apikey_free(ak);
 *              gwd_session_free(ss); gwd_store_close(st)
 *
 * Every function here is thread-safe.  gwd_session_check and gwd_session_logout
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
 * Database unavailable (gwd_store_available() == 0): the policy answers -1 (503)
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

struct gwd_sessions; /* opaque */

/* Who an auth policy admitted; filled by gwd_session_check and gwd_apikey_check,
 * owned by the caller (a request-lifetime struct, no allocation inside).  The
 * pipeline hands <name> to rate limits keyed by user/api_key and to the route's
 * user_header. */
enum gwd_session_principal_kind {
	GWD_SESSION_PRINCIPAL_USER = 1,
	GWD_SESSION_PRINCIPAL_KEY = 2,
};
struct gwd_session_principal {
	uint8_t kind;                   /* enum gwd_session_principal_kind */
	uint8_t len;                    /* strlen(name) */
	char name[GWD_STORE_NAME_MAX + 1];     /* NUL-terminated, [A-Za-z0-9._@-] only */
	uint8_t digest[GWD_STORE_DIGEST_LEN];  /* SHA-256 of the token or key (never the
	                                   token itself): what logout ends */
};

/* Options of gwd_session_new(); a zero field takes its default. */
struct gwd_session_opts {
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
 * until gwd_session_configure().  Free with gwd_session_free().  Also makes
 * jansson wipe every block it frees (it holds copies of the passwords that
 * gwd_session_login_parse reads): call it before other threads use jansson. */
int gwd_session_new(struct gwd_sessions **out, struct gwd_store *st,
                    const struct gwd_session_opts *o);

/* Tell the sweeper the idle timeout of the settings now served (<set> is only
 * read during the call).  Call at start-up and after each reload. */
void gwd_session_configure(struct gwd_sessions *ss, const struct gw_settings *set);

/* Start the background thread (store poll + last_seen flush every flush_ms,
 * sweep every sweep_ms).  Returns 0, or -1 when the thread cannot start.
 * Without it the service still works (the CLI, tests): nothing is flushed or
 * swept unless gwd_session_flush/gwd_session_sweep are called. */
int gwd_session_start(struct gwd_sessions *ss);

/* Stop the thread if it runs, then flush pending last_seen updates once. */
void gwd_session_stop(struct gwd_sessions *ss);

/* Stop (if needed) and free <ss>; the store is not closed.  NULL ignored. */
void gwd_session_free(struct gwd_sessions *ss);

/* Write the pending last_seen updates now, in batches of one transaction each.
 * Returns the number written, or -1 when the store failed (they stay pending). */
long gwd_session_flush(struct gwd_sessions *ss);

/* Flush, then delete ended sessions from the database.  Returns the number
 * deleted, or -1 on a store error. */
long gwd_session_sweep(struct gwd_sessions *ss);

/* ---- login ---- */

#define GWD_SESSION_LOGIN_BODY_MAX 8192  /* a larger login body is malformed */
#define GWD_SESSION_LOGIN_USER_MAX 255
#define GWD_SESSION_LOGIN_PASS_MAX 1024

/* A parsed login body.  Holds the password: wipe it with gwd_session_login_req_wipe(). */
struct gwd_session_login_req {
	size_t user_len, pass_len;
	char user[GWD_SESSION_LOGIN_USER_MAX + 1]; /* NUL-terminated */
	char pass[GWD_SESSION_LOGIN_PASS_MAX + 1]; /* NUL-terminated; may hold no NUL inside */
};

/* Parse the login body <body> (<len> bytes, not NUL-terminated) with jansson:
 * a JSON object with string members "username" (1..255 bytes) and "password"
 * (1..1024 bytes); other members are ignored.  Returns 1 and fills <*req>, or
 * 0 when the body is malformed (not JSON, not an object, a member missing or
 * not a string, too long, a NUL inside, over GWD_SESSION_LOGIN_BODY_MAX): answer 400.
 * Cheap: fine on the HTTP thread.  jansson's own copies of the password are
 * wiped once gwd_session_new() has run. */
int gwd_session_login_parse(const char *body, size_t len, struct gwd_session_login_req *req);

/* Overwrite the password in <req> (explicit_bzero). */
void gwd_session_login_req_wipe(struct gwd_session_login_req *req);

/* What a successful login yields. */
struct gwd_session_grant {
	char token[GWD_TOKEN_LEN + 1]; /* the bearer token: never log it */
	int64_t expires_at;           /* unix seconds: the absolute end */
	uint32_t max_age_s;           /* cookie Max-Age: the lifetime */
};

/* Log in: check <req>'s password against the store (PBKDF2: tens of ms, by
 * design; a dummy check of the same cost runs for an unknown user), then
 * create a session of <set>'s lifetime, committed to the database before this
 * returns, and cache it.  Blocking and thread-safe: run it off the HTTP
 * threads.  Returns 1 and fills <*out>; 0 when the user or password is wrong
 * (401); -1 when the store is unavailable or fails (503).  <req> is not wiped. */
int gwd_session_login(struct gwd_sessions *ss, const struct gw_settings *set,
                     const struct gwd_session_login_req *req, struct gwd_session_grant *out);

/* Write the 200 body {"token":"...","expires_at":N} of <l> into <buf> (<cap>
 * bytes, NUL-terminated; 128 is enough).  Returns its length, or -1 when <cap>
 * is too small. */
int gwd_session_login_body(const struct gwd_session_grant *l, char *buf, size_t cap);

/* Write the Set-Cookie value for <l> into <buf> (<cap> bytes, NUL-terminated):
 * NAME=TOKEN; Path=/; Max-Age=N; HttpOnly; SameSite=Strict[; Secure]
 * with NAME = <set>->session_cookie and Secure when <tls> is non-zero (the
 * caller decides: settings.sessions.secure).  Returns
 * its length, or -1 when <cap> is too small (128 + the name's length is
 * enough). */
int gwd_session_cookie(const struct gw_settings *set, const struct gwd_session_grant *l,
                      int tls, char *buf, size_t cap);

/* The Set-Cookie value that removes the cookie (logout): same attributes,
 * empty value, Max-Age=0.  Returns its length or -1 as above. */
int gwd_session_cookie_clear(const struct gw_settings *set, int tls, char *buf,
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
int gwd_session_check(struct gwd_sessions *ss, const struct gw_settings *set,
                     const char *authorization, const char *cookie,
                     struct gwd_session_principal *who);

/* End the session <who> (filled by gwd_session_check) in the database and the
 * cache: once this returns, every thread refuses its token.  Returns 1 when
 * ended, 0 when it was already gone, -1 when the store failed (503; the cache
 * entry is dropped all the same, the row stays). */
int gwd_session_logout(struct gwd_sessions *ss, const struct gwd_session_principal *who);

/* Logout for a route without a session policy before it: takes the token from
 * the headers like gwd_session_check.  Returns 1 ended, 0 no token or no such
 * session, -1 store failure. */
int gwd_session_logout_headers(struct gwd_sessions *ss, const struct gw_settings *set,
                              const char *authorization, const char *cookie);

/* The number of sessions in the cache (tests, metrics). */
uint32_t gwd_session_cached(struct gwd_sessions *ss);

#endif
