/* The login and logout handlers: the request side of gwd/session.h.
 *
 * Login parses its JSON body on the HTTP thread (cheap) and checks the
 * password on a job thread (PBKDF2 is slow by design), the connection
 * suspended meanwhile (jobs.h); the answer is 200 with the token and a
 * Set-Cookie, 401, 400 for a malformed body, or 503.  Logout ends the session
 * the route's auth policy admitted (or the one its headers name) and answers
 * 204 with the cookie cleared.
 */
#ifndef GWD_LOGIN_H
#define GWD_LOGIN_H

#include "gwd/services.h"

#define GWD_LOGIN_BODY_MAX 8192 /* = GWD_SESSION_LOGIN_BODY_MAX of session.h */

struct gwd_req;

/* Answer <r> (its body collected) or hand it to a job.  Returns 0, or -1 when
 * memory runs out. */
int gwd_login_handle(struct gwd_req *r, const struct gwd_services *svc);

/* Answer <r>.  Returns 0, or -1 when memory runs out. */
int gwd_login_logout_handle(struct gwd_req *r, const struct gwd_services *svc);

#endif
