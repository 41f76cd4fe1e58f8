/* The `headers` policy: request headers added or removed before the handler,
 * response headers added or removed after it.
 *
 * libmicrohttpd offers no way to change the headers of a request, so the
 * request side is an overlay on the request context that gwd_req_header()
 * (and the proxy handler, when it forwards) consults.  The response side
 * edits the request's list of response headers before the response is built;
 * removals run before additions, so "remove X, add X" replaces X.
 */
#ifndef GWD_HDRPOL_H
#define GWD_HDRPOL_H

#include "lib/model.h"

struct gwd_req;
struct gwd_gen;

/* Apply <h>'s request part to <r>. Returns 0, or -1 when memory runs out. */
int gwd_hdrpol_request(struct gwd_req *r, const struct gwd_gen *g, const struct gw_hdrpol *h);

/* Apply <h>'s response part to <r>'s response headers (and content type).
 * Returns 0, or -1 when memory runs out. */
int gwd_hdrpol_response(struct gwd_req *r, const struct gwd_gen *g, const struct gw_hdrpol *h);

#endif
