/* The request pipeline: the whole journey of a request through gwd, in one
 * file (pipeline.c), calling the modules that each do one step:
 *
 *   request line   gwd_pipeline_begin     context, blob generation, raw target copy
 *   head complete  gwd_pipeline_access    raw-target checks -> normalise -> match
 *                  (first call)           (404 / 405 + Allow) -> policies in their
 *                                         declared order
 *   body           gwd_pipeline_access    counted against the limit, kept if wanted
 *   body complete  gwd_pipeline_access    handler (maybe on a job thread) ->
 *                  (later call)           response headers -> queue
 *   completed      gwd_pipeline_end       access log + metrics, release
 *
 * server.c owns libmicrohttpd and calls these from its callbacks; the
 * deadlines of the head and the body (conn.h) move here, as the journey goes.
 */
#ifndef GWD_PIPELINE_H
#define GWD_PIPELINE_H

#include <microhttpd.h>
#include <stddef.h>

#include "gwd/services.h"

struct gwd_req;
struct gwd_conn;

/* The services the pipeline dispatches to (copied), set once before serving. */
void gwd_pipeline_init(const struct gwd_services *svc);

/* Draining for shutdown: every response from now on carries Connection:
 * close, so keep-alive clients go away. */
void gwd_pipeline_drain(void);

/* A request line arrived on <mhd> (connection record <conn>, may be NULL) with
 * raw target <uri> (NUL-terminated by libmicrohttpd, NULL when absent).
 * Returns the request context, or NULL when memory runs out (libmicrohttpd
 * then calls the access handler with a NULL context: answered 500). */
struct gwd_req *gwd_pipeline_begin(struct MHD_Connection *mhd, struct gwd_conn *conn,
				   const char *uri);

/* The access handler for request <r> (<*rp> may be NULL: then one is made).
 * Arguments as libmicrohttpd's MHD_AccessHandlerCallback. */
enum MHD_Result gwd_pipeline_access(struct gwd_req **rp, struct MHD_Connection *mhd,
				    const char *method, const char *version, const char *upload_data,
				    size_t *upload_data_size);

/* The request completed (<ok> non-zero) or was aborted: log, count, release. */
void gwd_pipeline_end(struct gwd_req *r, int ok);

#endif
