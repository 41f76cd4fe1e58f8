/* The `cors` policy (Fetch standard, "CORS protocol").
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) for a
 * path whose route for the requested method carries a cors policy is answered
 * by gwd itself: 204 with the Access-Control-Allow-* headers when the origin
 * and method are allowed, 403 (cors-refused) otherwise.  Other requests with
 * an allowed Origin get Access-Control-Allow-Origin (the origin itself, or "*"
 * for a wildcard policy without credentials), Vary: Origin, and the
 * credentials and expose headers; a disallowed origin gets none of them, and
 * the browser blocks the response.
 */
#ifndef GWD_CORS_H
#define GWD_CORS_H

#include <stddef.h>
#include <stdint.h>
#include "lib/model.h"

struct gwd_req;

/* Whether <origin> (<olen> bytes) is allowed by <c> (origins in <strlist>).
 * Sets <*wildcard> when allowed through "*". */
int gwd_cors_origin_ok(const struct gw_cors *c, const struct gw_str *strlist, uint32_t nstr,
		       const char *origin, size_t olen, int *wildcard);

/* Answer preflight <r> under policy <c> (route methods <route_methods>):
 * 204 with the CORS headers, or a 403 problem.  <acrm> is the
 * Access-Control-Request-Method value.  Returns 0, or -1 when memory runs
 * out. */
int gwd_cors_preflight(struct gwd_req *r, const struct gw_cors *c, const struct gw_str *strlist,
		       uint32_t nstr, uint16_t route_methods, const char *origin, size_t olen,
		       const char *acrm, size_t acrm_len);

/* Add the response headers of an actual request from <origin> under <c>.
 * Returns 0 (also when the origin is not allowed: no headers), or -1 when
 * memory runs out. */
int gwd_cors_actual(struct gwd_req *r, const struct gw_cors *c, const struct gw_str *strlist,
		    uint32_t nstr, const char *origin, size_t olen);

#endif
