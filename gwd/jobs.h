/* A small pool of threads for slow handlers (password checks, logouts), so
 * that no slow handler stalls the other connections of its HTTP thread.
 *
 *   HTTP thread                         job thread
 *   gwd_jobs_submit(r, fn, arg)
 *     MHD_suspend_connection  ----->    fn(r, arg)   fills r->resp
 *     (returns; serves others)          MHD_resume_connection
 *   access handler called again  <----
 *     queues r->resp
 *
 * <fn> may use the request's arena (gwd_req_alloc) and read its fields; it
 * must not touch libmicrohttpd's connection other than through the request's
 * accessors that copy (gwd_req_header is safe: the connection is suspended).
 */
#ifndef GWD_JOBS_H
#define GWD_JOBS_H

struct gwd_req;

typedef void (*gwd_job_fn)(struct gwd_req *r, void *arg);

/* Start <nthreads> job threads (0: 2). Returns 0 or -1. */
int gwd_jobs_start(unsigned nthreads);

/* Stop the threads: the jobs running finish, those still queued are not run
 * but answered 503 (shutting down) and resumed, so that stopping takes one
 * job's time, not the whole queue's. */
void gwd_jobs_stop(void);

/* Suspend <r>'s connection and run <fn>(r, <arg>) on a job thread, which
 * resumes the connection when <fn> returns.  Call from the access handler.
 * Returns 0 (the request is now GWD_ST_ASYNC), or -1 when the pool is not
 * running or its queue is full (nothing suspended: answer 503). */
int gwd_jobs_submit(struct gwd_req *r, gwd_job_fn fn, void *arg);

/* The same for a short job (a logout's one write): queued ahead of the jobs
 * waiting, so that a queue of password checks (a login storm) does not
 * delay it by their whole time. */
int gwd_jobs_submit_quick(struct gwd_req *r, gwd_job_fn fn, void *arg);

/* Jobs waiting or running (tests, metrics). */
unsigned gwd_jobs_pending(void);

#endif
