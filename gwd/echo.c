/* The echo handler (echo.h). */
#include "gwd/echo.h"

#include <string.h>
#include "gwd/reload.h"
#include "gwd/reqctx.h"

int gwd_echo_prepare(struct gwd_req *r)
{
	if (r->body_limit == UINT64_MAX)
		r->body_limit = GWD_ECHO_DEFAULT_LIMIT;
	r->body_keep = 1;
	if (r->content_length != UINT64_MAX && r->content_length > 0 &&
	    r->content_length <= r->body_limit)
		return gwd_req_body_reserve(r, (size_t)r->content_length);
	return 0;
}

int gwd_echo_data(struct gwd_req *r, const char *data, size_t n)
{
	if (gwd_req_body_reserve(r, n) < 0)
		return -1;
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	return 0;
}

int gwd_echo_handle(struct gwd_req *r)
{
	size_t len;
	const char *ct = gwd_req_header(r, "Content-Type", &len);

	r->resp.status = 200;
	r->resp.ctype = ct; /* libmicrohttpd copies header values when adding them */
	r->resp.body = r->body ? r->body : "";
	r->resp.len = r->body_len;
	return 0;
}
