/* Error responses: application/problem+json (RFC 9457) with a stable type and
 * title per kind of error, so clients and tests can rely on them.
 *
 *   {"type":"urn:gw:problem:encoded-slash","title":"Encoded slash in path",
 *    "status":400,"detail":"...","request_id":"..."}
 *
 * The table in problem.c is the list (also in docs/gwd.md); types never change
 * once released.  Other modules (rate limiter, sessions) answer their errors
 * through gwd_problem() too.
 */
#ifndef GWD_PROBLEM_H
#define GWD_PROBLEM_H

#include <stdint.h>

struct gwd_req;

enum gwd_problem {
	/* the request target (400) */
	GWD_PB_BAD_TARGET = 0,     /* not "/..." or absolute-form, or control bytes */
	GWD_PB_BAD_ESCAPE,         /* '%' not followed by two hex digits */
	GWD_PB_ENCODED_SLASH,      /* %2F */
	GWD_PB_BACKSLASH,          /* '\' or %5C */
	GWD_PB_NUL_IN_PATH,        /* NUL, raw or %00 */
	GWD_PB_CTL_IN_PATH,        /* other control character after decoding */
	GWD_PB_ABOVE_ROOT,         /* ".." climbing above "/" */
	/* the head (400, 431) */
	GWD_PB_DUP_CONTENT_LENGTH, /* more than one Content-Length */
	GWD_PB_CL_AND_TE,          /* Content-Length with Transfer-Encoding */
	GWD_PB_BAD_TE,             /* more than one Transfer-Encoding, or not "chunked" */
	GWD_PB_DUP_HOST,           /* more than one Host */
	GWD_PB_BAD_HEADER,         /* CR, LF, NUL or control byte in a header, bad name, folding */
	GWD_PB_HEADERS_TOO_LARGE,  /* 431 */
	/* routing and policies */
	GWD_PB_BODY_TOO_LARGE,     /* 413 */
	GWD_PB_NOT_FOUND,          /* 404 */
	GWD_PB_METHOD_NOT_ALLOWED, /* 405 */
	GWD_PB_FORBIDDEN,          /* 403: ip policy */
	GWD_PB_CORS_REFUSED,       /* 403: preflight for an origin or method not allowed */
	GWD_PB_UNAUTHORIZED,       /* 401: auth policy */
	GWD_PB_RATE_LIMITED,       /* 429: rate_limit policy */
	GWD_PB_BAD_BODY,           /* 400: a body the handler cannot use */
	/* the server */
	GWD_PB_TOO_MANY_CONNECTIONS, /* 503: connection limits */
	GWD_PB_UNAVAILABLE,        /* 503: a dependency (database, upstream) is down */
	GWD_PB_SHUTTING_DOWN,      /* 503: draining for exit */
	GWD_PB_POLICY_UNAVAILABLE, /* 500: the route uses a policy this build cannot apply */
	GWD_PB_HANDLER_UNAVAILABLE,/* 501: the route's handler is not in this build */
	GWD_PB_INTERNAL,           /* 500: out of memory or a bug */
	/* the upstream (proxy routes) */
	GWD_PB_BAD_GATEWAY,        /* 502: refused connection, broken or oversized response */
	GWD_PB_UPSTREAM_UNAVAILABLE, /* 503: no healthy target (with Retry-After) */
	GWD_PB_UPSTREAM_TIMEOUT,   /* 504: connect or response timeout */
	GWD_PB_URI_TOO_LONG,       /* 414: the upstream target does not fit */
	GWD_PB_UNSUPPORTED_MEDIA,  /* 415: a login body that is not application/json */
	GWD_PB_BAD_WEBSOCKET,      /* 400: a malformed WebSocket handshake */
	GWD_PB_WEBSOCKET_VERSION,  /* 426: Sec-WebSocket-Version other than 13 */
	GWD_PB_NO_WEBSOCKET,       /* 400: a WebSocket handshake on a route without websocket */
	GWD_PB_WEBSOCKET_LIMIT,    /* 503: the upstream's max_websockets are open */
	GWD_PB_COUNT
};

struct gwd_problem_info {
	uint16_t status;
	const char *slug;  /* the type is "urn:gw:problem:" + slug */
	const char *title;
};

/* The table entry of <p> (NULL when out of range). */
const struct gwd_problem_info *gwd_problem_info(enum gwd_problem p);

/* Answer <r> with problem <p>: status, problem+json body in request memory
 * (with <detail> when not NULL, JSON-escaped, and the request id).  Sets
 * <r->resp> and returns 0; on out of memory a static body without detail is
 * used (still 0).  Framing errors (400, 413, 431, 503 limits) also set
 * <resp.close>. */
int gwd_problem(struct gwd_req *r, enum gwd_problem p, const char *detail);

#endif
