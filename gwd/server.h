/* The HTTP server: libmicrohttpd in thread-pool mode on epoll, and the
 * callbacks that connect it to conn.c (connection tracking, limits, head
 * deadline) and pipeline.c (the request journey).
 *
 *   MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG
 *   (| MHD_USE_TLS), MHD_OPTION_THREAD_POOL_SIZE = --threads (online CPUs)
 *
 *   NOTIFY_CONNECTION started/closed -> gwd_conn_opened / gwd_conn_closed
 *   URI_LOG_CALLBACK (request line)  -> gwd_pipeline_begin  (its result is the
 *                                                           request's context)
 *   access handler                   -> gwd_pipeline_access, after noting
 *                                       where the head lies (edge.h's exact
 *                                       layout check) and moving the body's
 *                                       deadline (conn.h)
 *   NOTIFY_COMPLETED                 -> gwd_pipeline_end
 *
 * libmicrohttpd's own connection limit is set above gwd's (so that gwd, not
 * the library, answers 503), its per-connection memory to the header limit
 * plus 6 KiB for its bookkeeping (so that gwd answers 431 with problem+json
 * for heads a little past the limit; beyond, the library answers 431 itself,
 * or 414 for an overlong request line: it zeroes the whole pool after every
 * request, so a larger pool costs every request), and its idle timeout to the
 * settings' idle_timeout.  These three are read from the blob at start only.
 */
#ifndef GWD_SERVER_H
#define GWD_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct gwd_server_opts {
	const char *listen;          /* "ADDR:PORT", "[V6]:PORT"; port 0: any */
	int listen_fd;               /* a listening socket to serve instead of
	                                binding <listen> (socket activation:
	                                service.h; >= 3), or 0: bind <listen> */
	unsigned threads;            /* pool threads, >= 1 */
	const char *tls_cert;        /* PEM text, or NULL for plain HTTP */
	const char *tls_key;
	const char *tls_priorities;
	uint32_t max_header_bytes;
	uint32_t idle_timeout_ms;
	uint32_t max_conns;
};

/* Parse "ADDR:PORT" / "[V6]:PORT" into <ss>. Returns 0 or -1. */
struct sockaddr_storage;
int gwd_server_parse_listen(const char *s, struct sockaddr_storage *ss);

/* Start serving. Returns 0, or -1 with a reason in <why>. */
int gwd_server_start(const struct gwd_server_opts *o, char *why, size_t whylen);

/* The port bound (useful with port 0). */
uint16_t gwd_server_port(void);

/* Stop accepting new connections (the listening socket is closed); the
 * connections open keep being served. */
void gwd_server_quiesce(void);

/* Stop the daemon: every connection is closed, every thread joined. */
void gwd_server_stop(void);

#endif
