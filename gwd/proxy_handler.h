/* The proxy handler: what connects the request pipeline to the proxy
 * engine (proxy.h) and the upstream state (upstream.h).  The threads beside
 * it (engines, health checker) are proxy_service.h's.
 *
 *   head():        gwd_proxy_prepare   keep the body, bound it
 *   run_handler(): gwd_proxy_handle    build the upstream request, suspend,
 *                                      submit; the engine resumes
 */
#ifndef GWD_PROXY_HANDLER_H
#define GWD_PROXY_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "gwd/respond.h"

struct gwd_req;
struct gwd_services;

/* Body handling for a proxy route, bounded by the route's body limit (1 MiB
 * when it has none): a body up to 64 KiB is kept for the upstream; a larger
 * or chunked one streams (sets <r->body_stream>: the pipeline then calls
 * gwd_proxy_handle at once, gwd_proxy_body per chunk and gwd_proxy_body_end).
 * Returns 0. */
int gwd_proxy_prepare(struct gwd_req *r);

/* A chunk of a streaming body: takes what fits (*<size> is left with the
 * rest, offered again once the connection, suspended here, is resumed).  A
 * body crossing the limit aborts the exchange and answers 413.  Returns 0,
 * or -1 to close the connection. */
int gwd_proxy_body(struct gwd_req *r, const char *data, size_t *size);

/* The streaming body is complete: 1 when the connection was suspended until
 * the upstream's answer, 0 when <r->resp> holds it already. */
int gwd_proxy_body_end(struct gwd_req *r);

/* Pool thread, once resumed: the engine's result becomes <r->resp>. */
void gwd_proxy_result(struct gwd_req *r);

/* Forward <r> to its route's upstream.  Returns 0 with the request either
 * answered (<r->resp> set: no target, path too long) or suspended
 * (GWD_ST_ASYNC: the engine fills <r->resp> and resumes); -1 when memory runs
 * out. */
int gwd_proxy_handle(struct gwd_req *r, const struct gwd_services *svc);

/* The upstream path of a strip_prefix route: <path> (<len> bytes, the
 * normalised path) without <prefix> (<plen> bytes) when it starts with it at
 * a segment boundary, "/" when nothing is left.  Returns the path (borrowed
 * from <path>, or a static "/") and sets <*rest_len>. */
const char *gwd_proxy_strip_prefix(const char *path, size_t len, const char *prefix,
				   size_t plen, size_t *rest_len);

/* Render the rewrite template <t> (<n> parts) for the request of <c> into
 * <out> (<cap> bytes, NUL-terminated): literal parts as written, values
 * percent-encoded (gwd_proxy_encode_path; "${path.*}" keeps its slashes),
 * the TEXT of ${X:-TEXT} and ${X:+TEXT} as written, and a leading '/' when
 * the result lacks one.  <c->scratch> receives decoded query values.  The
 * result is not checked: see gw_path_check_target (lib/path.h).  Returns 0
 * and sets <*outlen>, or -1 when it does not fit. */
int gwd_proxy_render(const struct gw_tpl *t, uint32_t n, const struct gwd_respond_tpl_ctx *c,
		     char *out, size_t cap, size_t *outlen);

/* Write <name> (<len> bytes) into <folded> (<len> bytes) with every '_'
 * read as '-', the way CGI-style upstreams merge them.  Returns 1 when
 * <name> held a '_', 0 otherwise. */
int gwd_proxy_lookalike(const char *name, size_t len, char *folded);

#endif
