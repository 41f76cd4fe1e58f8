/* libFuzzer harness for the login body parser, gwd_session_login_parse() of
 * gwd/session.c (called by gwd/login.c on the HTTP thread, before any
 * password check): the bytes are the POST body, in a malloc of exactly their
 * length (it is not NUL-terminated).
 *
 * When it accepts, the user name and password must be NUL-terminated at
 * their lengths, within bounds, without a NUL inside; when it
 * refuses, the password buffer must hold nothing (it was wiped), and
 * gwd_session_login_req_wipe() must wipe an accepted one.  jansson runs under the
 * same sanitizers and leak check.
 *
 * Seeds: tests/fuzz/corpus/fuzz_login/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether the <n> bytes at <p> are all zero.  Returns 1 or 0. */
static int zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);
	struct gwd_session_login_req *req = malloc(sizeof *req);

	if (!body || !req)
		abort();
	memcpy(body, data, size);
	memset(req, 0xA5, sizeof *req); /* what a reused buffer may hold */
	if (gwd_session_login_parse(body, size, req)) {
		if (req->user_len == 0 || req->user_len > GWD_SESSION_LOGIN_USER_MAX ||
		    strlen(req->user) != req->user_len)
			abort();
		if (req->pass_len == 0 || req->pass_len > GWD_SESSION_LOGIN_PASS_MAX ||
		    strlen(req->pass) != req->pass_len)
			abort();
		if (size > GWD_SESSION_LOGIN_BODY_MAX)
			abort();
		gwd_session_login_req_wipe(req);
	}
	if (req->pass_len != 0 || !zero(req->pass, sizeof req->pass))
		abort();
	free(req);
	free(body);
	return 0;
}
