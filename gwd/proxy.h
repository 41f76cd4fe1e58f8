/* The proxy engine: upstream HTTP exchanges driven on event loops, so that
 * no libmicrohttpd pool thread ever waits for an upstream.
 *
 * The pool thread prepares a struct gwd_pcall (target URL path, headers,
 * body), suspends its connection and submits the call to its engine (one
 * engine thread per pool thread); the engine runs its calls on its libcurl
 * multi handle (keep-alive pooling, timeouts and framing are libcurl's),
 * retries idempotent requests on another target, and when a call ends
 * invokes its <done> callback on the engine thread -- which resumes the
 * connection.  The pool thread then reads the result.
 *
 *   pool thread:  gwd_pcall_new -> fill -> MHD_suspend -> gwd_proxy_submit
 *   engine:       pick target -> curl -> (retry) -> result -> done()
 *   pool thread:  resumed: build the response from result; gwd_pcall_free
 *                 at request completion
 *
 * Submission is a lock-free stack per engine (producers CAS, the engine takes
 * all at once), then an eventfd wake-up only when the engine sleeps: no lock
 * shared by pool threads, no system call while the engine is busy.
 * While a call runs, the engine also polls the client's socket (every 50 ms):
 * a client that goes away cancels its upstream exchange.
 */
#ifndef GWD_PROXY_H
#define GWD_PROXY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include "gwd/upstream.h"

#define GWD_PCALL_HDRBUF 16384 /* upstream response head kept per call */
#define GWD_PCALL_MAX_TRIES 4

enum gwd_pcall_error {
	GWD_PX_OK = 0,        /* the upstream answered: result status/headers/body */
	GWD_PX_REFUSED = 1,   /* connect refused / broken response: 502 */
	GWD_PX_TIMEOUT = 2,   /* connect or response timeout: 504 */
	GWD_PX_TOO_BIG = 3,   /* response larger than max_resp_body: 502 */
	GWD_PX_NO_TARGET = 4, /* no available target: 503 */
	GWD_PX_CANCELLED = 5, /* the client went away */
	GWD_PX_INTERNAL = 6,  /* out of memory, engine stopped: 500 */
};

struct gwd_pcall {
	/* --- set by the submitter --- */
	struct gwd_upstream_state *u;
	const char *method;          /* request method as sent */
	uint8_t idempotent;          /* may be retried on another target */
	uint8_t head;                /* HEAD: no response body */
	const char *path;            /* "/users/7?x=1": encoded path and query */
	struct curl_slist *headers;  /* request headers to send, owned by the submitter */
	const char *body;            /* request body (may be NULL), owned by the submitter */
	size_t body_len;
	const void *hash_key;        /* for balance: hash */
	size_t hash_keylen;
	size_t max_resp_body;        /* larger responses: GWD_PX_TOO_BIG */
	int client_fd;               /* polled for hang-up; -1: not polled */
	void (*done)(struct gwd_pcall *c, void *arg); /* engine thread */
	void *arg;

	/* --- result, valid once done() ran --- */
	int error;                   /* enum gwd_pcall_error */
	long status;                 /* upstream status when GWD_PX_OK */
	char *resp_body;             /* malloc'd, freed by gwd_pcall_free */
	size_t resp_len;
	size_t hdrlen;               /* bytes of <hdrbuf> in use */
	char conn_tokens[256];       /* the upstream's Connection header: the fields
	                                it names are hop-by-hop too (RFC 9110 7.6.1) */
	int target;                  /* last target tried, or -1 */
	unsigned retry_after;        /* GWD_PX_NO_TARGET: seconds */
	uint64_t t_start_ns, t_end_ns;

	/* --- engine private --- */
	struct gwd_pcall *next;        /* inbox stack */
	struct gwd_pcall *rnext, *rprev; /* running list */
	CURL *easy;
	size_t resp_cap;
	uint32_t tried[GWD_PCALL_MAX_TRIES];
	unsigned ntried;
	uint8_t head_overflow;       /* the head did not fit: 502, not retried */
	uint8_t in_headers;          /* 0: a status line is due (first, or after
	                                a 1xx head), 1: in the final head, 2: in
	                                a 1xx head, 3: past the final head (what
	                                comes now are trailers) */
	struct curl_slist pre[2];    /* "Expect:", "Content-Type:" ahead of
	                                <headers>: what libcurl must not add */
	char url[GWD_HOSTPORT_MAX + 8];

	/* --- result, last: gwd_pcall_new zeroes only what comes before --- */
	char hdrbuf[GWD_PCALL_HDRBUF]; /* "Name\0Value\0" pairs, hop-by-hop removed */
};

/* Start <engines> engine threads (1 when 0, at most 64).  Returns 0, or -1
 * (libcurl, descriptor or thread failure). */
int gwd_proxy_start(unsigned engines);

/* Stop it: calls in flight end with GWD_PX_INTERNAL (their done() runs).
 * Waits for the thread.  Safe when never started. */
void gwd_proxy_stop(void);

/* A new call: every field zero (client_fd and target -1) but <hdrbuf>, whose
 * bytes past <hdrlen> are undefined; NULL when memory runs out. */
struct gwd_pcall *gwd_pcall_new(void);

/* Free <c> and its response body.  NULL is ignored.  Only after done() ran. */
void gwd_pcall_free(struct gwd_pcall *c);

/* Hand <c> to the engine.  done() will run exactly once, on the engine
 * thread (possibly before this returns).  Returns 0, or -1 when the engine is
 * not running (done() does not run then). */
int gwd_proxy_submit(struct gwd_pcall *c);

/* Iterate the response headers of a finished call: returns the next
 * name/value after <*pos> (start with 0), or 0 when there are no more. */
int gwd_pcall_header(const struct gwd_pcall *c, size_t *pos, const char **name,
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
