/* The login and logout handlers (login.h). */
#include "gwd/login.h"

#include <string.h>
#include <strings.h>
#include "gwd/jobs.h"
#include "gwd/problem.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/session.h"

_Static_assert(GWD_LOGIN_BODY_MAX == GWD_SESSION_LOGIN_BODY_MAX, "login body limits agree");

/* A login in progress: the parsed body (with the password until the job
 * wipes it) and the answer's buffers, in request memory. */
struct login_job {
	const struct gwd_services *svc;
	int secure; /* the cookie gets Secure */
	struct gwd_session_login_req req;
	char body[128];
	char cookie[256];
};

/* On a job thread: check the password (slow by design) and answer. */
static void login_job(struct gwd_req *r, void *arg)
{
	struct login_job *j = arg;
	struct gwd_session_grant l;
	int rc, n;

	rc = gwd_session_login(j->svc->sessions, &r->gen->settings, &j->req, &l);
	gwd_session_login_req_wipe(&j->req);
	if (rc < 0) {
		gwd_problem(r, GWD_PB_UNAVAILABLE, "credential store unavailable");
		return;
	}
	if (rc == 0) {
		gwd_problem(r, GWD_PB_UNAUTHORIZED, "wrong user name or password");
		return;
	}
	n = gwd_session_login_body(&l, j->body, sizeof j->body);
	if (n < 0 || gwd_session_cookie(&r->gen->settings, &l, j->secure, j->cookie,
				       sizeof j->cookie) < 0) {
		explicit_bzero(&l, sizeof l);
		explicit_bzero(j->body, sizeof j->body);
		gwd_problem(r, GWD_PB_INTERNAL, NULL);
		return;
	}
	explicit_bzero(&l, sizeof l);
	gwd_req_add_resp_header_ref(r, "Set-Cookie", 10, j->cookie, strlen(j->cookie));
	gwd_req_add_resp_header_ref(r, "Cache-Control", 13, "no-store", 8);
	r->resp.status = 200;
	r->resp.ctype = "application/json";
	r->resp.body = j->body;
	r->resp.len = (size_t)n;
}

/* Free the login job's state: the parsed copy of the password was wiped
 * already; the raw body holding it, and the answer holding the token, are
 * wiped here, before their buffers go back to the thread's freelists. */
static void login_free(struct gwd_req *r)
{
	explicit_bzero(r->hctx, sizeof(struct login_job));
	if (r->body)
		explicit_bzero(r->body, r->body_len);
}

/* Whether the session cookie sent to <r>'s client gets Secure
 * (settings.sessions.secure): always, never, or, by default, when the client
 * came over HTTPS: to gwd itself, or to a trusted proxy in front that says
 * so in X-Forwarded-Proto (a TLS-terminating balancer).  Read on the HTTP
 * thread.  1 or 0. */
static int cookie_secure(struct gwd_req *r, const struct gwd_services *svc)
{
	switch (r->gen->settings.session_secure) {
	case GW_SECURE_ALWAYS:
		return 1;
	case GW_SECURE_NEVER:
		return 0;
	default:
		return gwd_req_https(r, svc->tls);
	}
}

/* Whether <r>'s Content-Type is application/json (parameters allowed).  A
 * login refuses anything else: an HTML form can post text/plain across
 * sites, but not application/json without a CORS preflight (login CSRF). */
static int json_body(struct gwd_req *r)
{
	size_t len;
	const char *ct = gwd_req_header(r, "Content-Type", &len);

	return ct && len >= 16 && strncasecmp(ct, "application/json", 16) == 0 &&
	       (len == 16 || ct[16] == ';' || ct[16] == ' ' || ct[16] == '\t');
}

int gwd_login_handle(struct gwd_req *r, const struct gwd_services *svc)
{
	struct login_job *j;

	if (!svc->sessions)
		return gwd_problem(r, GWD_PB_UNAVAILABLE, "sessions not available");
	j = gwd_req_alloc(r, sizeof *j);
	if (!j)
		return gwd_problem(r, GWD_PB_INTERNAL, NULL);
	j->svc = svc;
	j->secure = cookie_secure(r, svc);
	r->hctx = j;
	r->hctx_free = login_free;
	if (!json_body(r))
		return gwd_problem(r, GWD_PB_UNSUPPORTED_MEDIA, "send the login as application/json");
	if (!gwd_session_login_parse(r->body ? r->body : "", r->body_len, &j->req))
		return gwd_problem(r, GWD_PB_BAD_BODY,
				   "expected {\"username\":\"...\",\"password\":\"...\"}");
	if (gwd_jobs_submit(r, login_job, j) < 0) {
		gwd_session_login_req_wipe(&j->req);
		gwd_req_add_resp_header_ref(r, "Retry-After", 11, "1", 1);
		return gwd_problem(r, GWD_PB_UNAVAILABLE, "too many logins in progress");
	}
	return 0;
}

/* A logout in progress: what the job needs from the request, read on the
 * HTTP thread (libmicrohttpd's copies of the headers stay valid while the
 * connection is suspended), and the answer's cookie. */
struct logout_job {
	const struct gwd_services *svc;
	int secure;
	const char *authorization, *cookie_hdr;
	char cookie[256];
};

/* On a job thread: end the session (a SQLite write, which may wait for the
 * database's busy timeout) and answer 204 with the cookie cleared. */
static void logout_job(struct gwd_req *r, void *arg)
{
	struct logout_job *j = arg;
	int rc;

	if (r->who)
		rc = gwd_session_logout(j->svc->sessions, r->who);
	else
		rc = gwd_session_logout_headers(j->svc->sessions, &r->gen->settings,
					       j->authorization, j->cookie_hdr);
	if (rc < 0) {
		gwd_problem(r, GWD_PB_UNAVAILABLE, "credential store unavailable");
		return;
	}
	if (gwd_session_cookie_clear(&r->gen->settings, j->secure, j->cookie, sizeof j->cookie) >= 0)
		gwd_req_add_resp_header_ref(r, "Set-Cookie", 10, j->cookie, strlen(j->cookie));
	r->resp.status = 204;
}

int gwd_login_logout_handle(struct gwd_req *r, const struct gwd_services *svc)
{
	struct logout_job *j = gwd_req_alloc(r, sizeof *j);

	if (!svc->sessions || !j)
		return gwd_problem(r, GWD_PB_UNAVAILABLE, "sessions not available");
	j->svc = svc;
	j->secure = cookie_secure(r, svc);
	j->authorization = gwd_req_header(r, "Authorization", NULL);
	j->cookie_hdr = gwd_req_header(r, "Cookie", NULL);
	/* The write must not stall the HTTP thread's other connections while
	 * SQLite waits for a lock: it runs on the job pool, as logins do,
	 * ahead of the password checks waiting there. */
	if (gwd_jobs_submit_quick(r, logout_job, j) < 0) {
		gwd_req_add_resp_header_ref(r, "Retry-After", 11, "1", 1);
		return gwd_problem(r, GWD_PB_UNAVAILABLE, "too many requests in progress");
	}
	return 0;
}
