/* problem+json error responses (problem.h). */
#include "gwd/problem.h"

#include <string.h>
#include "gwd/buf.h"
#include "gwd/json.h"
#include "gwd/reqctx.h"

static const struct gwd_problem_info table[GWD_PB_COUNT] = {
	[GWD_PB_BAD_TARGET] = { 400, "bad-target", "Malformed request target" },
	[GWD_PB_BAD_ESCAPE] = { 400, "bad-escape", "Invalid percent-escape in path" },
	[GWD_PB_ENCODED_SLASH] = { 400, "encoded-slash", "Encoded slash in path" },
	[GWD_PB_BACKSLASH] = { 400, "backslash", "Backslash in path" },
	[GWD_PB_NUL_IN_PATH] = { 400, "nul-in-path", "NUL byte in path" },
	[GWD_PB_CTL_IN_PATH] = { 400, "control-in-path", "Control character in path" },
	[GWD_PB_ABOVE_ROOT] = { 400, "path-above-root", "Path climbs above the root" },
	[GWD_PB_DUP_CONTENT_LENGTH] = { 400, "duplicate-content-length", "Duplicate Content-Length" },
	[GWD_PB_CL_AND_TE] = { 400, "content-length-and-transfer-encoding",
			       "Content-Length with Transfer-Encoding" },
	[GWD_PB_BAD_TE] = { 400, "bad-transfer-encoding", "Unsupported Transfer-Encoding" },
	[GWD_PB_DUP_HOST] = { 400, "duplicate-host", "Duplicate Host header" },
	[GWD_PB_BAD_HEADER] = { 400, "bad-header", "Malformed header field" },
	[GWD_PB_HEADERS_TOO_LARGE] = { 431, "headers-too-large", "Request header fields too large" },
	[GWD_PB_BODY_TOO_LARGE] = { 413, "body-too-large", "Request body too large" },
	[GWD_PB_NOT_FOUND] = { 404, "not-found", "Not Found" },
	[GWD_PB_METHOD_NOT_ALLOWED] = { 405, "method-not-allowed", "Method Not Allowed" },
	[GWD_PB_FORBIDDEN] = { 403, "forbidden", "Forbidden" },
	[GWD_PB_CORS_REFUSED] = { 403, "cors-refused", "CORS request not allowed" },
	[GWD_PB_UNAUTHORIZED] = { 401, "unauthorized", "Unauthorized" },
	[GWD_PB_RATE_LIMITED] = { 429, "quota-exceeded", "Too Many Requests" },
	[GWD_PB_BAD_BODY] = { 400, "bad-body", "Malformed request body" },
	[GWD_PB_TOO_MANY_CONNECTIONS] = { 503, "too-many-connections", "Too many connections" },
	[GWD_PB_UNAVAILABLE] = { 503, "unavailable", "Service Unavailable" },
	[GWD_PB_SHUTTING_DOWN] = { 503, "shutting-down", "Server shutting down" },
	[GWD_PB_POLICY_UNAVAILABLE] = { 500, "policy-not-available", "Policy not available" },
	[GWD_PB_HANDLER_UNAVAILABLE] = { 501, "handler-not-available", "Handler not available" },
	[GWD_PB_INTERNAL] = { 500, "internal", "Internal Server Error" },
	[GWD_PB_BAD_GATEWAY] = { 502, "bad-gateway", "Bad Gateway" },
	[GWD_PB_UPSTREAM_UNAVAILABLE] = { 503, "upstream-unavailable", "No upstream target available" },
	[GWD_PB_UPSTREAM_TIMEOUT] = { 504, "upstream-timeout", "Upstream timed out" },
	[GWD_PB_URI_TOO_LONG] = { 414, "uri-too-long", "URI Too Long" },
	[GWD_PB_UNSUPPORTED_MEDIA] = { 415, "unsupported-media-type", "Unsupported Media Type" },
	[GWD_PB_BAD_WEBSOCKET] = { 400, "bad-websocket-handshake", "Malformed WebSocket handshake" },
	[GWD_PB_WEBSOCKET_VERSION] = { 426, "websocket-version", "Unsupported WebSocket version" },
	[GWD_PB_NO_WEBSOCKET] = { 400, "websocket-not-accepted", "Route does not accept WebSocket" },
	[GWD_PB_WEBSOCKET_LIMIT] = { 503, "websocket-limit", "Too many WebSockets" },
};

const struct gwd_problem_info *gwd_problem_info(enum gwd_problem p)
{
	return (unsigned)p < GWD_PB_COUNT ? &table[p] : NULL;
}

/* Whether answering <p> must close the connection: the head or the framing
 * could not be trusted, or the client is over a connection limit. */
static int closes(enum gwd_problem p)
{
	return p <= GWD_PB_BODY_TOO_LARGE || p == GWD_PB_TOO_MANY_CONNECTIONS;
}

int gwd_problem(struct gwd_req *r, enum gwd_problem p, const char *detail)
{
	const struct gwd_problem_info *pi = gwd_problem_info(p);
	size_t cap;
	char *mem;
	struct gwd_buf b;

	if (!pi)
		pi = &table[GWD_PB_INTERNAL];
	cap = 160 + strlen(pi->slug) + strlen(pi->title) + r->reqid_len +
	      (detail ? 6 * strlen(detail) : 0);
	mem = gwd_req_alloc(r, cap);
	r->resp.status = pi->status;
	r->resp.ctype = "application/problem+json";
	r->resp.problem = 1;
	r->resp.close = (uint8_t)closes(p);
	if (!mem) {
		r->resp.body = "{\"type\":\"urn:gw:problem:internal\",\"title\":\"Internal Server Error\"}";
		r->resp.len = strlen(r->resp.body);
		return 0;
	}
	gwd_buf_init(&b, mem, cap);
	gwd_buf_puts(&b, "{\"type\":\"urn:gw:problem:");
	gwd_buf_puts(&b, pi->slug);
	gwd_buf_puts(&b, "\",\"title\":");
	gwd_json_str(&b, pi->title, strlen(pi->title));
	gwd_buf_puts(&b, ",\"status\":");
	gwd_buf_u64(&b, pi->status);
	if (detail) {
		gwd_buf_puts(&b, ",\"detail\":");
		gwd_json_str(&b, detail, strlen(detail));
	}
	if (r->reqid_len) {
		gwd_buf_puts(&b, ",\"request_id\":");
		gwd_json_str(&b, r->reqid, r->reqid_len);
	}
	gwd_buf_putc(&b, '}');
	r->resp.body = mem;
	r->resp.len = b.len;
	return 0;
}
