/* Tests of gwd/login.c, the login and logout handlers, over a real SQLite
 * file, the real session service and the real job pool: refusals made on the
 * HTTP thread (sessions unavailable 503, a body that is not JSON 415, a
 * malformed body 400), a wrong password 401 and a right one 200 (token body,
 * Set-Cookie, Cache-Control: no-store) decided on a job thread, the request
 * body holding the password wiped when the request ends, and a logout that
 * ends the session (204, the cookie cleared, the token refused after).
 *
 * The requests have no libmicrohttpd connection: the headers a client would
 * send are given as request headers added by a policy (reqctx.h), the body as
 * the collected body, as the pipeline leaves them for a handler.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gwd/jobs.h"
#include "gwd/kdf.h"
#include "gwd/login.h"
#include "gwd/reqctx.h"
#include "gwd/session.h"
#include "gwd/store.h"
#include "gwd/worker.h"
#include "tests/gwd/db_fixture.h"
#include "tests/gwd/gen_fixture.h"

int gw_suite_gwd_login(void);

static const char *yaml =
	"version: 1\n"
	"settings:\n"
	"  sessions: { cookie: sid, idle_timeout: 30m, lifetime: 1h }\n"
	"routes:\n"
	"  - path: /auth/login\n"
	"    methods: [POST]\n"
	"    login: {}\n"
	"  - path: /auth/logout\n"
	"    methods: [POST]\n"
	"    logout: {}\n";

/* The services of a test: a fresh database with user alice (password
 * "wonderland" at a low cost: the wrong-password check stays cheap), the
 * session service, the generation served, the job pool. */
struct world {
	struct gwd_store *st;
	struct gwd_sessions *ss;
	struct gwd_services svc;
	struct fxg f;
};

static int world_open(struct world *w, const char *name)
{
	char err[256], h[GWD_KDF_STR_MAX];

	memset(w, 0, sizeof *w);
	fxdb_unlink(fxdb_path(name));
	if (gwd_store_open(&w->st, fxdb_path(name), GWD_STORE_CREATE, 200, err, sizeof err) < 0 ||
	    gwd_session_new(&w->ss, w->st, NULL) < 0 || fxg_build(&w->f, yaml) != 0)
		return -1;
	gwd_session_configure(w->ss, &w->f.g->settings);
	if (gwd_kdf_hash("wonderland", 10, 1000, h, sizeof h) < 0 ||
	    gwd_store_user_add(w->st, "alice", h, (int64_t)time(NULL)) != 1)
		return -1;
	w->svc.store = w->st;
	w->svc.sessions = w->ss;
	return gwd_jobs_start(1);
}

static void world_close(struct world *w)
{
	gwd_jobs_stop();
	fxg_free(&w->f);
	gwd_session_free(w->ss);
	gwd_store_close(w->st);
}

/* A request over <w>'s generation with Content-Type <ctype> (NULL: none),
 * Authorization <authz> (NULL: none) and body <body> (NULL: none), copied to
 * the request's body buffer as the pipeline collects it. */
static struct gwd_req *req(struct world *w, const char *ctype, const char *authz,
			   const char *body)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());
	const char *names[2] = { "Content-Type", "Authorization" };
	const char *vals[2] = { ctype, authz };

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	r->gen = w->f.g;
	for (int i = 0; i < 2; i++) {
		struct gwd_hdr *h;

		if (!vals[i])
			continue;
		h = gwd_req_alloc(r, sizeof *h);
		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		*h = (struct gwd_hdr){ r->req_add, names[i], vals[i], (uint32_t)strlen(names[i]),
				       (uint32_t)strlen(vals[i]) };
		r->req_add = h;
	}
	if (body) {
		CU_ASSERT_EQUAL_FATAL(gwd_req_body_reserve(r, strlen(body)), 0);
		memcpy(r->body, body, strlen(body));
		r->body_len = strlen(body);
	}
	return r;
}

/* Wait (bounded) until the job pool has run what was submitted. */
static void wait_jobs(void)
{
	struct timespec ts = { 0, 10 * 1000000L };

	for (int k = 0; k < 6000 && gwd_jobs_pending(); k++)
		nanosleep(&ts, NULL);
	CU_ASSERT_EQUAL(gwd_jobs_pending(), 0);
}

/* The value of response header <name> of <r>, or NULL. */
static const char *resp_header(struct gwd_req *r, const char *name)
{
	for (struct gwd_hdr *h = r->resp_hdrs; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

/* End <r> as the pipeline does: the handler's state freed, then the context. */
static void end(struct gwd_req *r)
{
	if (r->hctx_free)
		r->hctx_free(r);
	gwd_req_put(r);
}

static const char *good = "{\"username\":\"alice\",\"password\":\"wonderland\"}";

/* Refusals decided on the HTTP thread, before any job. */
static void test_refusals(void)
{
	struct world w;
	struct gwd_services none = { 0 };
	struct gwd_req *r;

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "refuse.db"), 0);
	r = req(&w, "application/json", NULL, good);
	CU_ASSERT_EQUAL(gwd_login_handle(r, &none), 0);
	CU_ASSERT_EQUAL(r->resp.status, 503);
	end(r);
	/* an HTML form can post text/plain across sites: refused (login CSRF) */
	r = req(&w, "text/plain", NULL, good);
	CU_ASSERT_EQUAL(gwd_login_handle(r, &w.svc), 0);
	CU_ASSERT_EQUAL(r->resp.status, 415);
	end(r);
	r = req(&w, NULL, NULL, good);
	CU_ASSERT_EQUAL(gwd_login_handle(r, &w.svc), 0);
	CU_ASSERT_EQUAL(r->resp.status, 415);
	end(r);
	r = req(&w, "application/jsonx", NULL, good);
	CU_ASSERT_EQUAL(gwd_login_handle(r, &w.svc), 0);
	CU_ASSERT_EQUAL(r->resp.status, 415);
	end(r);
	r = req(&w, "application/json; charset=utf-8", NULL, "{\"username\":\"alice\"}");
	CU_ASSERT_EQUAL(gwd_login_handle(r, &w.svc), 0);
	CU_ASSERT_EQUAL(r->resp.status, 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->resp.body, "urn:gw:problem:bad-body"));
	end(r);
	r = req(&w, "application/json", NULL, NULL);
	CU_ASSERT_EQUAL(gwd_login_handle(r, &w.svc), 0);
	CU_ASSERT_EQUAL(r->resp.status, 400);
	end(r);
	CU_ASSERT_EQUAL(gwd_jobs_pending(), 0);
	world_close(&w);
}

/* A wrong password, then the right one, then logout with the token. */
static void test_login_logout(void)
{
	struct world w;
	struct gwd_req *r;
	struct gwd_session_principal who;
	char token[GWD_TOKEN_LEN + 1] = "", authz[96];
	const char *tok, *cookie;
	char *body;
	size_t blen;

	CU_ASSERT_EQUAL_FATAL(world_open(&w, "login.db"), 0);
	r = req(&w, "application/json", NULL,
		"{\"username\":\"alice\",\"password\":\"wonderlans\"}");
	CU_ASSERT_EQUAL(gwd_login_handle(r, &w.svc), 0);
	CU_ASSERT_EQUAL(r->stage, GWD_ST_ASYNC);
	wait_jobs();
	CU_ASSERT_EQUAL(r->resp.status, 401);
	end(r);

	r = req(&w, "application/json", NULL, good);
	body = r->body;
	blen = r->body_len;
	CU_ASSERT_EQUAL(gwd_login_handle(r, &w.svc), 0);
	wait_jobs();
	CU_ASSERT_EQUAL_FATAL(r->resp.status, 200);
	CU_ASSERT_STRING_EQUAL(r->resp.ctype, "application/json");
	CU_ASSERT_STRING_EQUAL(resp_header(r, "Cache-Control"), "no-store");
	tok = strstr(r->resp.body, "\"token\":\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	memcpy(token, tok + 9, GWD_TOKEN_LEN);
	cookie = resp_header(r, "Set-Cookie");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cookie);
	CU_ASSERT_EQUAL(strncmp(cookie, "sid=", 4), 0);
	CU_ASSERT_EQUAL(strncmp(cookie + 4, token, GWD_TOKEN_LEN), 0);
	/* the request ends: the body that held the password is wiped */
	r->hctx_free(r);
	r->hctx_free = NULL;
	for (size_t i = 0; i < blen; i++)
		CU_ASSERT_EQUAL_FATAL(body[i], 0);
	end(r);

	snprintf(authz, sizeof authz, "Bearer %s", token);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.f.g->settings, authz, NULL, &who), 1);
	CU_ASSERT_STRING_EQUAL(who.name, "alice");
	r = req(&w, NULL, authz, NULL);
	CU_ASSERT_EQUAL(gwd_login_logout_handle(r, &w.svc), 0);
	wait_jobs();
	CU_ASSERT_EQUAL(r->resp.status, 204);
	cookie = resp_header(r, "Set-Cookie");
	CU_ASSERT_PTR_NOT_NULL(cookie);
	if (cookie)
		CU_ASSERT_EQUAL(strncmp(cookie, "sid=;", 5), 0);
	end(r);
	CU_ASSERT_EQUAL(gwd_session_check(w.ss, &w.f.g->settings, authz, NULL, &who), 0);
	world_close(&w);
}

int gw_suite_gwd_login(void)
{
	CU_pSuite s = CU_add_suite("gwd/login", fxdb_init, fxdb_clean);

	if (!s || !CU_add_test(s, "refusals on the HTTP thread", test_refusals) ||
	    !CU_add_test(s, "login, wrong then right, and logout", test_login_logout))
		return -1;
	return 0;
}
