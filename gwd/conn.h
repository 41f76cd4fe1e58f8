/* Connection tracking: limits per client address and in total, and the
 * deadline for the request head.
 *
 * libmicrohttpd's own connection limits drop the socket without a word, and
 * its timeout is idle-only (a client trickling a byte a second keeps a slot
 * forever).  So gwd counts connections itself (NOTIFY_CONNECTION started /
 * closed), marks those past a limit so their first request is answered 503
 * with Retry-After and Connection: close, and gives every connection a head
 * deadline that a reaper thread enforces by shutdown(2) of the socket.
 *
 *   worker w (one per pool thread)          reaper thread (every 100 ms)
 *     conn_lock -- conns: c1 <-> c2 <-> ...   locks each worker's list in
 *       c.deadline_ms (atomic, 0 = none)      turn; shuts down the sockets
 *                                             whose deadline passed
 *   per-address counts: 64 striped tables (a lock per stripe, taken only
 *   when a connection opens or closes, never per request)
 *
 * A connection is removed from its list in the CLOSED notification, under the
 * same lock the reaper holds, and libmicrohttpd closes the descriptor only
 * after that notification: the reaper never shuts down a reused descriptor.
 *
 * Deadlines: at accept, now + header_timeout; when a response completes and
 * the connection stays open, now + idle_timeout; when the next request line
 * arrives, min(current, now + header_timeout); when the head is complete, none,
 * unless a body follows: then now + header_timeout, pushed back by 1 ms for
 * each GWD_CONN_BODY_MIN_RATE / 1000 bytes received (but never past now +
 * idle_timeout), and none again once the body is complete.  libmicrohttpd's
 * idle timeout alone would let a body trickled a byte a second hold the
 * connection (and a connection slot) for ever.
 */
#ifndef GWD_CONN_H
#define GWD_CONN_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "gwd/clock.h"

struct gwd_worker;

struct gwd_conn {
	struct gwd_conn *prev, *next;  /* in the worker's list */
	struct gwd_worker *w;
	int fd;
	_Atomic uint64_t deadline_ms;  /* CLOCK_MONOTONIC ms; 0: none */
	struct sockaddr_storage addr;
	uint8_t family;                /* 4, 6, or 0 (unknown) */
	uint8_t over_limit;            /* past a connection limit: answer 503 and close */
	uint8_t counted;               /* holds a per-address count */
	uint8_t addr_bytes[16];        /* address, network order (IPv4 in [0..3]) */
	char ip[46];                   /* text form, "" when unknown */
	uint32_t nreq;                 /* requests served on this connection */
};

/* The limits conn.c enforces; set from the blob's settings at start and at
 * each reload (atomic: read without a lock by every thread). */
#define GWD_CONN_DEFAULT_MAX 4096u
#define GWD_CONN_DEFAULT_MAX_IP 1024u

struct gwd_conn_limits {
	_Atomic uint32_t max_conns, max_conns_per_ip;
	_Atomic uint32_t header_timeout_ms, idle_timeout_ms;
};
extern struct gwd_conn_limits gwd_conn_limits;

/* Set the limits from <max_conns> ... (0 max means unlimited). */
void gwd_conn_set_limits(uint32_t max_conns, uint32_t max_conns_per_ip,
			 uint32_t header_timeout_ms, uint32_t idle_timeout_ms);

/* A connection opened on the calling thread: socket <fd>, peer <sa> (<salen>
 * bytes; may be NULL).  Returns the tracking record (never NULL unless memory
 * runs out), counted and listed; its <over_limit> says whether a limit was
 * passed.  Release with gwd_conn_closed. */
struct gwd_conn *gwd_conn_opened(int fd, const struct sockaddr *sa, socklen_t salen);

/* The connection <c> closed: unlist it, uncount it, free it. */
void gwd_conn_closed(struct gwd_conn *c);

/* Deadline transitions (see above) at monotonic time <now_ms> (the caller
 * has read the clock already).  <c> may be NULL (no-op). */
void gwd_conn_request_line(struct gwd_conn *c, uint64_t now_ms);
void gwd_conn_head_done(struct gwd_conn *c);
void gwd_conn_response_done(struct gwd_conn *c, uint64_t now_ms);

/* The slowest average rate, in bytes per second, at which a request body may
 * arrive once its first header_timeout has passed. */
#define GWD_CONN_BODY_MIN_RATE 1024u

/* A body follows the head: its deadline starts (see above). */
void gwd_conn_body_start(struct gwd_conn *c, uint64_t now_ms);
/* <n> body bytes arrived: the deadline moves back for them, at most to now +
 * idle_timeout.  No-op when no deadline is set (the body is complete, or the
 * reaper acted already). */
void gwd_conn_body_data(struct gwd_conn *c, uint64_t n, uint64_t now_ms);

/* Connections open now, all addresses. */
uint64_t gwd_conn_active(void);
/* Connections open now from the address of <c> (tests, metrics). */
uint32_t gwd_conn_count_for(const struct gwd_conn *c);
/* Sockets shut down by the reaper since start. */
uint64_t gwd_conn_reaped(void);

/* Start / stop the reaper thread. gwd_conn_reaper_start returns 0 or -1. */
int gwd_conn_reaper_start(void);
void gwd_conn_reaper_stop(void);

/* One reaper pass at monotonic time <now_ms>: shut down overdue sockets.
 * Returns how many. (The thread calls it; tests call it directly.) */
unsigned gwd_conn_reap(uint64_t now_ms);

#endif
