/* The echo handler: 200 with the request body byte for byte and the same
 * Content-Type.  The body is collected into the request's body buffer (the
 * thread's cached buffers, so no allocation in the steady state), within the
 * route's body limit or GWD_ECHO_DEFAULT_LIMIT when the route sets none, and
 * served from there without a copy. */
#ifndef GWD_ECHO_H
#define GWD_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "gwd/reqctx.h"

#define GWD_ECHO_DEFAULT_LIMIT GWD_BODY_DEFAULT_LIMIT

struct gwd_req;

/* Prepare <r> (head complete, route known) to collect its body: sets the limit
 * and reserves the declared length.  Returns 0, or -1 when memory runs out. */
int gwd_echo_prepare(struct gwd_req *r);

/* Append <n> body bytes. Returns 0, or -1 when memory runs out. */
int gwd_echo_data(struct gwd_req *r, const char *data, size_t n);

/* Answer <r> with its body.  Returns 0. */
int gwd_echo_handle(struct gwd_req *r);

#endif
