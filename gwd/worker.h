/* Per-thread state of gwd: what lets the request path run without a global lock.
 *
 * Every thread that serves requests (libmicrohttpd's pool threads, the jobs
 * threads) gets one struct gwd_worker the first time it calls gwd_worker_self().
 * The owner thread alone writes most fields; other threads only read them
 * (metrics scrapes sum counters, the reaper walks the connection list under
 * <conn_lock>, the log flusher swaps buffers under the log's own lock).
 *
 *   workers[0..n)  (n only grows; a slot is never freed while gwd runs)
 *     |- id                 index, also the slot in per-generation ref counts
 *     |- conns, conn_lock   connections this thread serves (conn.c, reaper)
 *     |- free_reqs, chunks  request contexts and arena chunks (reqctx.c)
 *     |- metrics            counters summed at scrape (metrics.c)
 *     |- alog               access-log buffers (accesslog.c)
 *     '- reqid_seq          X-Request-ID counter (reqid.c)
 */
#ifndef GWD_WORKER_H
#define GWD_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define GWD_MAX_WORKERS 256 /* pool threads (<= 128) + jobs + helper threads */

struct gwd_conn;
struct gwd_req;
struct gwd_chunk;
struct gwd_wmetrics;
struct gwd_walog;
struct gwd_bodybuf;

struct gwd_worker {
	unsigned id;
	/* connections served by this thread; the reaper reads under the lock */
	pthread_mutex_t conn_lock;
	struct gwd_conn *conns;
	struct gwd_conn *free_conns;  /* owner thread only */
	/* request contexts and arena chunks, owner thread only */
	struct gwd_req *free_reqs;
	unsigned nfree_reqs;
	struct gwd_chunk *free_chunks;
	unsigned nfree_chunks;
	/* large body buffers (echo), owner thread only */
	struct gwd_bodybuf *free_body;
	/* requests begun and ended on this thread: in flight = begun - ended */
	_Atomic uint64_t req_begun, req_ended;
	/* created by the owner on first use; atomic because scrapes and the log
	 * flusher read them from other threads */
	_Atomic(struct gwd_wmetrics *) metrics;
	_Atomic(struct gwd_walog *) alog;
	uint64_t reqid_seq;
};

/* The calling thread's worker, created on first use.  Never NULL: gwd aborts
 * with a message when more than GWD_MAX_WORKERS threads ask (the thread counts
 * are capped well below that). */
struct gwd_worker *gwd_worker_self(void);

/* Number of workers created so far, and worker <i> (< that number).  For
 * readers that sum over all threads (metrics, reaper, drain). */
unsigned gwd_worker_count(void);
struct gwd_worker *gwd_worker_get(unsigned i);

/* Requests begun but not ended on all threads (summed without a lock: a
 * moment's view, exact once traffic stops). */
uint64_t gwd_worker_inflight(void);

#endif
