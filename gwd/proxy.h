/* The proxy engine: upstream HTTP exchanges driven on event loops, so that
 * no libmicrohttpd pool thread ever waits for an upstream.
 *
 * The pool thread prepares a struct gwd_proxy_call (target URL path, headers,
 * body), suspends its connection and submits the call to its engine (one
 * engine thread per pool thread); the engine runs its calls on its libcurl
 * multi handle (keep-alive pooling, timeouts and framing are libcurl's),
 * retries idempotent requests on another target, and when a call ends
 * invokes its <done> callback on the engine thread -- which resumes the
 * connection.  The pool thread then reads the result.
 *
 *   pool thread:  gwd_proxy_call_new -> fill -> MHD_suspend -> gwd_proxy_submit
 *   engine:       pick target -> curl -> (retry) -> result -> done()
 *   pool thread:  resumed: build the response from result; gwd_proxy_call_free
 *                 at request completion
 *
 * Submission is a lock-free stack per engine (producers CAS, the engine takes
 * all at once), then an eventfd wake-up only when the engine sleeps: no lock
 * shared by pool threads, no system call while the engine is busy.
 * While a call runs, the engine also polls the client's socket (every 50 ms):
 * a client that goes away cancels its upstream exchange.
 *
 * Streaming.  The response body goes through a bounded buffer per call
 * (GWD_PCALL_BUF bytes at most, grown from 16 KiB as needed).  When the
 * upstream's whole answer fits and arrives with its head (the usual small
 * reply), done() reports a finished call as above.  Otherwise done() runs as
 * soon as the head is complete, with <streaming> set: the call stays on the
 * engine, and the pool thread drains its buffer with gwd_proxy_call_read while the
 * engine fills it.  Backpressure both ways: a full buffer pauses the upstream
 * transfer (CURL_WRITEFUNC_PAUSE) until the reader has made room; an empty
 * one makes the reader suspend its connection, and <on_data> (engine thread)
 * resumes it when bytes, the end, or a failure arrive.
 *
 *   engine:  head complete -> done(streaming) -> on_body fills the ring
 *            (full: pause) ... transfer ends -> on_data
 *   pool:    response from a callback -> gwd_proxy_call_read (empty: suspend;
 *            made room: kick the engine, which unpauses)
 *
 * A streaming call is shared: the engine, the request and the response each
 * hold a reference (gwd_proxy_call_retain / gwd_proxy_call_release); the request's
 * release cancels a transfer still running.
 */
#ifndef GWD_PROXY_H
#define GWD_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include "gwd/upstream.h"

#define GWD_PCALL_HDRBUF 16384 /* upstream response head kept per call */
#define GWD_PCALL_BUF (128u * 1024u) /* body buffer per call and direction, at most,
                                        unless the upstream sets `buffer` */
#define GWD_PCALL_MAX_TRIES 4

enum gwd_proxy_call_error {
	GWD_PX_OK = 0,        /* the upstream answered: result status/headers/body */
	GWD_PX_REFUSED = 1,   /* connect refused / broken response: 502 */
	GWD_PX_TIMEOUT = 2,   /* connect or response timeout: 504 */
	GWD_PX_TOO_BIG = 3,   /* response larger than max_resp_body: 502 */
	GWD_PX_NO_TARGET = 4, /* no available target: 503 */
	GWD_PX_CANCELLED = 5, /* the client went away */
	GWD_PX_INTERNAL = 6,  /* out of memory, engine stopped: 500 */
};

/* what a suspended connection waits for (gwd_proxy_call_wait) */
#define GWD_PW_RESULT 1 /* done: the result or the stream's head */
#define GWD_PW_ROOM 2   /* room in the upload buffer */

/* gwd_proxy_call_read's answers besides a byte count */
#define GWD_PCALL_WAIT 0   /* nothing yet: suspend, on_data will resume */
#define GWD_PCALL_EOF (-1) /* the body ended whole */
#define GWD_PCALL_CUT (-2) /* the exchange failed mid-body: cut the response */

struct engine;

struct gwd_proxy_call {
	/* --- set by the submitter --- */
	struct gwd_upstream_state *u;
	const char *method;          /* request method as sent */
	uint8_t idempotent;          /* may be retried on another target */
	uint8_t head;                /* HEAD: no response body */
	const char *path;            /* "/users/7?x=1": encoded path and query */
	struct curl_slist *headers;  /* request headers to send, owned by the submitter */
	const char *body;            /* request body (may be NULL), owned by the submitter */
	size_t body_len;
	uint8_t up_stream;           /* the body streams: gwd_proxy_call_feed, then
	                                gwd_proxy_call_feed_end (not retried) */
	int64_t up_len;              /* its length (Content-Length), -1: chunked */
	const void *hash_key;        /* for balance: hash */
	size_t hash_keylen;
	size_t max_resp_body;        /* unused (responses stream); kept for callers */
	int client_fd;               /* polled for hang-up; -1: not polled */
	void (*done)(struct gwd_proxy_call *c, void *arg); /* engine thread, may be NULL */
	void (*on_data)(struct gwd_proxy_call *c, void *arg); /* engine thread: resume
	                                the connection that waits for <c> (see
	                                gwd_proxy_call_wait) */
	void *arg;
	void (*on_free)(void *ctx, void *ctx2); /* when <c> is freed, on whichever
	                                thread lets go last (the engine may
	                                outlive the request), or NULL */
	void *free_ctx, *free_ctx2;

	/* --- result, valid once done() ran --- */
	int error;                   /* enum gwd_proxy_call_error */
	long status;                 /* upstream status when GWD_PX_OK */
	uint8_t streaming;           /* done() ran at the head: read the body
	                                with gwd_proxy_call_read */
	int64_t content_length;      /* the upstream's, -1 when it sent none */
	char *resp_body;             /* the body when not streaming; freed with <c> */
	size_t resp_len;
	size_t hdrlen;               /* bytes of <hdrbuf> in use */
	char conn_tokens[256];       /* the upstream's Connection header: the fields
	                                it names are hop-by-hop too (RFC 9110 7.6.1) */
	int target;                  /* last target tried, or -1 */
	unsigned retry_after;        /* GWD_PX_NO_TARGET: seconds */
	const char *tls_detail;      /* GWD_PX_REFUSED by a TLS upstream's
	                                handshake or certificate: which failure
	                                (a static string), else NULL */
	uint64_t t_start_ns, t_end_ns;

	/* --- engine private --- */
	struct engine *eng;
	struct gwd_proxy_call *next;        /* inbox stack */
	struct gwd_proxy_call *knext;       /* kick stack */
	struct gwd_proxy_call *hnext, *hprev; /* heads complete, done() not yet run */
	_Atomic int refs;            /* streaming: engine, request, response */
	_Atomic int kicked;          /* on the engine's kick stack */
	uint8_t in_hready;
	uint8_t head_done;           /* the final head is complete */
	uint64_t last_ns;            /* last progress (idle timeout) */
	size_t body_sent;            /* bytes of <body> handed to libcurl (on_read_once) */
	/* the ring: bytes [rd, w) of the body are in <resp_body> at
	 * offset % resp_cap; under <mu> once streaming */
	pthread_mutex_t mu;
	uint64_t w, rd;
	uint8_t paused;              /* the transfer is paused: ring full */
	uint8_t unpause;             /* the reader made room: unpause it */
	uint8_t waiting;             /* the reader is suspended for data */
	uint8_t ended;               /* the engine is done with the transfer */
	uint8_t done_ran;            /* the result (or the stream) is there */
	uint8_t pwait;               /* the connection waits: GWD_PW_* */
	uint8_t eng_ref;             /* the engine holds a reference */
	/* the upload ring: bytes [urd, uw) at offset % GWD_PCALL_BUF */
	char *ubuf;
	uint64_t uw, urd;
	uint8_t up_eof;              /* the client's body is all in */
	uint8_t up_paused;           /* the transfer waits for body bytes */
	uint8_t up_unpause;          /* bytes came: unpause the upload */
	uint8_t cancel;              /* the request let go: abort */
	int end_error;               /* GWD_PX_* the transfer ended with */
	struct gwd_proxy_call *rnext, *rprev; /* running list */
	CURL *easy;
	size_t resp_cap;
	uint32_t tried[GWD_PCALL_MAX_TRIES];
	unsigned ntried;
	uint8_t head_overflow;       /* the head did not fit: 502, not retried */
	uint8_t framing;             /* 1: Content-Length in the head, 2:
	                                Transfer-Encoding; both: 502 */
	uint8_t in_headers;          /* 0: a status line is due (first, or after
	                                a 1xx head), 1: in the final head, 2: in
	                                a 1xx head, 3: past the final head (what
	                                comes now are trailers) */
	struct curl_slist pre[3];    /* "Expect:", "Content-Type:" ahead of
	                                <headers>: what libcurl must not add;
	                                "Transfer-Encoding: chunked" ahead of
	                                them for a body of unknown length */
	char url[GWD_HOSTPORT_MAX + 8];

	/* --- result, last: gwd_proxy_call_new zeroes only what comes before --- */
	char hdrbuf[GWD_PCALL_HDRBUF]; /* "Name\0Value\0" pairs, hop-by-hop removed */
	char errbuf[CURL_ERROR_SIZE];  /* libcurl's message, TLS upstreams only */
};

/* Start <engines> engine threads (1 when 0, at most 64).  Returns 0, or -1
 * (libcurl, descriptor or thread failure). */
int gwd_proxy_start(unsigned engines);

/* Stop it: calls in flight end with GWD_PX_INTERNAL (their done() runs).
 * Waits for the thread.  Safe when never started. */
void gwd_proxy_stop(void);

/* A new call: every field zero (client_fd and target -1) but <hdrbuf>, whose
 * bytes past <hdrlen> are undefined; NULL when memory runs out. */
struct gwd_proxy_call *gwd_proxy_call_new(void);

/* Free <c> and its response body.  NULL is ignored.  Only after done() ran.
 * For a streaming call this is gwd_proxy_call_release. */
void gwd_proxy_call_free(struct gwd_proxy_call *c);

/* Another reference to streaming call <c> (the response's). */
void gwd_proxy_call_retain(struct gwd_proxy_call *c);

/* Drop a reference to <c>; the last one frees it.  A streaming call whose
 * transfer still runs is cancelled (the engine aborts it and does not keep
 * its connection). */
void gwd_proxy_call_release(struct gwd_proxy_call *c);

/* Pool thread, before suspending its connection for <c>: 1 when it must
 * suspend now (<on_data> will resume it once <what> -- GWD_PW_RESULT or
 * GWD_PW_ROOM -- holds, or the exchange ends), 0 when <what> already holds.
 * A call not yet submitted may set <pwait> directly instead. */
int gwd_proxy_call_wait(struct gwd_proxy_call *c, int what);

/* Pool thread: hand <n> request body bytes at <p> to upload-streaming call
 * <c>.  Returns the bytes taken (fewer than <n> when the upload buffer is
 * full: wait for GWD_PW_ROOM and offer the rest again), all of them when the
 * exchange already ended (they are dropped), or -1 when the upload buffer
 * cannot be had. */
long gwd_proxy_call_feed(struct gwd_proxy_call *c, const char *p, size_t n);

/* Pool thread: the client's body of <c> is complete. */
void gwd_proxy_call_feed_end(struct gwd_proxy_call *c);

/* Pool thread: abort <c>'s exchange if it still runs (a body over the
 * route's limit). */
void gwd_proxy_call_cancel(struct gwd_proxy_call *c);

/* Pool thread: copy up to <max> body bytes of streaming call <c> into <out>.
 * Returns the count (>0), GWD_PCALL_WAIT when the buffer is empty (the
 * caller suspends its connection at once; <on_data> will run), GWD_PCALL_EOF
 * when the body ended whole, GWD_PCALL_CUT when it failed. */
long gwd_proxy_call_read(struct gwd_proxy_call *c, char *out, size_t max);

/* Hand <c> to the engine.  done() will run exactly once, on the engine
 * thread (possibly before this returns).  Returns 0, or -1 when the engine is
 * not running (done() does not run then). */
int gwd_proxy_submit(struct gwd_proxy_call *c);

/* Iterate the response headers of a finished call: returns the next
 * name/value after <*pos> (start with 0), or 0 when there are no more. */
int gwd_proxy_call_header(const struct gwd_proxy_call *c, size_t *pos, const char **name,
		     const char **value);

/* Whether the hop-by-hop or framing header <name> (<len> bytes) must not be
 * forwarded in either direction (RFC 9110 7.6.1, plus framing that libcurl
 * and libmicrohttpd regenerate). */
int gwd_proxy_hop_header(const char *name, size_t len);

/* Percent-encode <len> bytes of decoded path <s> into <out> (<cap> bytes):
 * pchar bytes but ';' pass, '/' passes when <keep_slash>, everything else
 * is %XX (';' too: some backends take it for a path-parameter start).
 * Returns the length written (NUL-terminated), or -1 when it does not fit. */
long gwd_proxy_encode_path(const char *s, size_t len, int keep_slash, char *out, size_t cap);

#endif
