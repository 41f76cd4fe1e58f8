/* The per-request context: everything gwd knows about one request, from its
 * request line to the end of its response, and the memory it uses.
 *
 * A context is taken from the serving thread's freelist when libmicrohttpd
 * reports the request line (server.c's URI-log callback: it becomes the
 * request's *con_cls) and goes back when libmicrohttpd reports the request
 * completed, so the steady state allocates nothing.  Request-scoped memory
 * comes from the context's arena (h2o's memory pool): a block inside the
 * context, then 16 KiB chunks from the thread's freelist; all of it is
 * released at once with the context.
 *
 *   struct gwd_req
 *     request:  method, raw target (copied: libmicrohttpd decodes its own copy
 *               in place), normalised path, query, host, framing facts
 *     routing:  generation (blob reference held), route, match, policies' state
 *     response: status, body, content type, extra headers (arena list)
 *     log:      times, request id, user, bytes
 *     arena:    arena0[] then chunks
 *
 * Other modules (policies, handlers) use the accessors below rather than the
 * fields where one exists.
 */
#ifndef GWD_REQCTX_H
#define GWD_REQCTX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "gwd/clientip.h"
#include "gwd/edge.h"
#include "lib/match.h"

struct MHD_Connection;
struct MHD_Response;
struct gwd_worker;
struct gwd_conn;
struct gwd_gen;
struct gwd_route;

#define GWD_REQ_ARENA 3072      /* bytes inside the context itself */
#define GWD_CHUNK_SIZE 16384    /* arena chunk size */
#define GWD_REQID_MAX 64
/* The body limit of a route without a body_limit policy, and of a request
 * that matched no route (its body is read and dropped): larger bodies get 413. */
#define GWD_BODY_DEFAULT_LIMIT (1024u * 1024u)

/* A header name/value pair in request memory (both NUL-terminated). */
struct gwd_hdr {
	struct gwd_hdr *next;
	const char *name, *value;
	uint32_t nlen, vlen;
};

/* What a handler or a refusing policy answers.  <body> must outlive the
 * response: it lives in the blob mapping (held by the request's generation
 * reference), in the generation, in the request arena or in the request's body
 * buffer, all released only at completion, after libmicrohttpd has sent it
 * (MHD_RESPMEM_PERSISTENT, no copy). */
struct gwd_resp {
	uint16_t status;      /* 0: nothing decided yet */
	uint8_t close;        /* add Connection: close */
	uint8_t problem;      /* body is problem+json (set by problem.c) */
	uint8_t upstream;     /* status, fields and body are an upstream's */
	uint8_t upgrade;      /* 101: the connection becomes a WebSocket (websocket.h) */
	const char *ctype;    /* Content-Type, or NULL */
	const char *body;
	size_t len;
	/* a streamed body instead (proxy): libmicrohttpd pulls it through
	 * <stream_read> (MHD_ContentReaderCallback) from <stream>, and frees
	 * <stream> with <stream_free> when done; <stream_size> is the length,
	 * or MHD_SIZE_UNKNOWN (chunked, or close-delimited for HTTP/1.0) */
	void *stream;
	ssize_t (*stream_read)(void *cls, uint64_t pos, char *buf, size_t max);
	void (*stream_free)(void *cls);
	uint64_t stream_size;
};

enum gwd_req_stage {
	GWD_ST_LINE = 0,     /* request line seen, head not complete */
	GWD_ST_BODY = 1,     /* head processed, body (if any) arriving */
	GWD_ST_ASYNC = 2,    /* suspended: a job will fill <resp> and resume */
	GWD_ST_QUEUED = 3,   /* response queued to libmicrohttpd */
};

struct gwd_req {
	struct gwd_req *next_free;
	struct gwd_worker *w;          /* the thread that owns the context */
	struct MHD_Connection *mhd;
	struct gwd_conn *conn;         /* connection facts (client address), may be NULL */
	struct gwd_gen *gen;           /* blob generation, referenced until completion */
	uint64_t t_start_ns;           /* CLOCK_MONOTONIC at the request line */
	struct timespec t_wall;        /* CLOCK_REALTIME at the request line (log) */
	uint8_t stage;                 /* enum gwd_req_stage */
	uint8_t edge_nul;              /* raw NUL seen in the request target */
	uint8_t chunked;               /* Transfer-Encoding: chunked */
	uint8_t body_keep;             /* the handler wants the body (echo) */
	uint8_t body_over;             /* the body passed its limit */
	uint8_t cip_set;               /* <cip> computed */
	uint8_t is_head;               /* HEAD request */
	uint8_t http11;                /* HTTP/1.1 (Host required) */
	uint8_t body_stream;           /* the body streams to the handler (proxy) */
	uint8_t websocket;             /* a valid WebSocket handshake (websocket.h) */
	struct gwd_clientip cip;              /* client address (clientip.h), once computed */

	/* request */
	unsigned method;               /* enum gw_method bit; 0 for other methods */
	const char *method_name;       /* as sent (libmicrohttpd's string) */
	char *target;                  /* raw request target, NUL-terminated copy */
	uint32_t target_len;
	uint32_t path_raw_len;         /* bytes of <target> before '?' */
	const char *query;             /* after '?' in <target>, or NULL */
	uint32_t query_len;
	char *path;                    /* normalised path (arena), NUL-terminated */
	uint32_t path_len;
	const char *host;              /* Host header value or NULL */
	size_t host_len;
	uint64_t content_length;       /* UINT64_MAX: none */
	struct gwd_edge_layout layout; /* where the head lies (pipeline.c sets it) */

	/* routing */
	const struct gwd_route *route; /* NULL when none matched */
	struct gw_match m;

	/* body (echo) */
	char *body;
	size_t body_len, body_cap;
	uint64_t body_limit;           /* the route's; GW_BODY_LIMIT_NONE: none */
	uint64_t body_seen;

	/* response */
	struct gwd_resp resp;
	struct gwd_hdr *resp_hdrs, **resp_tail; /* extra response headers, in order */
	struct gwd_hdr *req_add;       /* request headers added by policies */
	struct gwd_hdr *req_del;       /* request header names removed (value unused) */
	uint32_t cors_index;           /* conf.cors record answering this request, or GW_NONE */
	uint32_t hdrpols[8];           /* headers policies whose response part applies */
	uint8_t nhdrpols;
	uint16_t status_sent;          /* status queued, for log and metrics */
	uint64_t bytes_sent;           /* body bytes queued */

	/* identity */
	char reqid[GWD_REQID_MAX + 1];
	uint8_t reqid_len;
	char user[65];
	uint8_t user_len;
	void *who;                     /* struct gwd_session_principal an auth policy admitted, or NULL */
	void *hctx;                    /* handler state (login, proxy), freed by its owner */
	void (*hctx_free)(struct gwd_req *r); /* called at completion when set */

	/* arena */
	struct gwd_chunk *chunks;
	char *arena_p;
	size_t arena_left;
	char arena0[GWD_REQ_ARENA];
};

/* Take a cleared context from <w>'s freelist (or allocate one when it is
 * empty). Returns NULL only when memory runs out. Release with gwd_req_put on
 * the same thread. */
struct gwd_req *gwd_req_get(struct gwd_worker *w);

/* Release <r>, its arena chunks and body buffer to its worker's freelists
 * (freed outright when called on another thread or when the lists are full).
 * The generation reference is not dropped here (reload.c's job). */
void gwd_req_put(struct gwd_req *r);

/* <n> bytes of request memory, 16-byte aligned, valid until gwd_req_put.
 * Returns NULL when memory runs out. */
void *gwd_req_alloc(struct gwd_req *r, size_t n);

/* A NUL-terminated copy of <n> bytes of <s> in request memory, or NULL. */
char *gwd_req_strdup(struct gwd_req *r, const char *s, size_t n);

/* Make room for <n> more body bytes (grows the body buffer, reusing the
 * thread's cached buffers).  Returns 0, or -1 when memory runs out. */
int gwd_req_body_reserve(struct gwd_req *r, size_t n);

/* Add a response header <name>: <value> (copied), after those already added.
 * Returns 0, or -1 when memory runs out. */
int gwd_req_add_resp_header(struct gwd_req *r, const char *name, const char *value);

/* The same without copying: <name> and <value> (NUL-terminated) must outlive
 * the request (blob strings, string literals). */
int gwd_req_add_resp_header_ref(struct gwd_req *r, const char *name, size_t nlen,
				const char *value, size_t vlen);

/* Remove every added response header named <name> (case-insensitive). */
void gwd_req_del_resp_header(struct gwd_req *r, const char *name);

/* The request header <name> (case-insensitive) as policies have left it:
 * added values first, removed names absent.  Returns the value and sets
 * <*len> (when not NULL), or NULL when absent. */
const char *gwd_req_header(struct gwd_req *r, const char *name, size_t *len);

/* Record the authenticated user (or API key name) for the access log and for
 * rate limits keyed by user; truncated to 64 bytes. */
void gwd_req_set_user(struct gwd_req *r, const char *name, size_t len);

/* The client's address as text ("127.0.0.1", "::1"), never NULL ("" when
 * unknown). */
const char *gwd_req_peer_ip(const struct gwd_req *r);

/* Whether the socket peer of <r> is one of the settings' trusted proxies:
 * 1 or 0. */
int gwd_req_peer_trusted(const struct gwd_req *r);

/* Whether the client of <r> reached the gateway over HTTPS: <tls> (gwd
 * serves TLS itself), or a trusted proxy's last X-Forwarded-Proto says
 * "https".  1 or 0. */
int gwd_req_https(struct gwd_req *r, int tls);

#endif
