/* WebSocket routes: handshake, upstream upgrade, relay (websocket.h). */
#include "gwd/websocket.h"

#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gwd/buf.h"
#include "gwd/clock.h"
#include "gwd/cors.h"
#include "gwd/metrics.h"
#include "gwd/problem.h"
#include "gwd/proxy.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/upstream.h"
#include "gwd/websocket_head.h"

#define WS_BODY_MAX (1024u * 1024u) /* a non-101 answer relayed */
#define WS_CAP_SLOTS 256            /* upstream names counted for max_websockets */
#define WS_REQ_MAX 65536            /* the upgrade request written upstream */

enum ws_outcome {
	WS_PENDING = 0,
	WS_UPGRADED,   /* 101 with a valid accept */
	WS_ANSWERED,   /* another answer, relayed as it came */
	WS_BAD,        /* refused, broken, malformed: 502 */
	WS_TIMEOUT,    /* 504 */
	WS_STOPPING,   /* gwd is stopping: 503 */
};

enum ws_reason { WR_CLIENT, WR_UPSTREAM, WR_IDLE, WR_ERROR, WR_SHUTDOWN, WR_COUNT };
static const char *const reason_name[WR_COUNT] = {
	"client", "upstream", "idle", "error", "shutdown",
};

struct ws;

/* One side of a relayed WebSocket, the epoll cookie. */
struct ws_end {
	struct ws *ws;
	int side; /* 0 client, 1 upstream */
};

/* A relay direction: bytes read from one side, waiting for the other. */
struct ws_pipe {
	char *b;
	size_t cap, off, len;
};

struct ws {
	struct ws *next, *prev;          /* the relay's list */
	struct gwd_req *r;
	struct gwd_upstream_state *u;
	int target, cap_slot;
	CURL *easy;
	int ufd, cfd;
	struct MHD_UpgradeResponseHandle *urh;
	char key[GWD_WS_KEY_LEN + 1];
	char *req;                       /* the upgrade request */
	size_t req_len;
	_Atomic int outcome;             /* enum ws_outcome */
	char *rbuf;                      /* the answer: head, then body */
	size_t rlen, head_len, body_len;
	struct gwd_wshead head;
	const char *detail;              /* for a 502 */
	struct ws_pipe c2u, u2c;
	struct ws_end end[2];
	uint32_t ev[2];                  /* epoll interest now, per side */
	uint8_t eof[2], shut[2];
	int first_eof;                   /* the side that closed first, or -1 */
	uint64_t bytes[2];               /* relayed from client (0) and upstream (1) */
	uint64_t last_io_ms, idle_ms;
	struct ws *dead_next;            /* ended in this loop turn */
	uint8_t dead;
};

/* ---- counters (/metrics) ---- */

static _Atomic uint64_t m_open, m_opened, m_bytes[2], m_closes[WR_COUNT];

static void render_metrics(struct gwd_buf *b, void *ctx)
{
	char line[160];

	(void)ctx;
	snprintf(line, sizeof line,
		 "# HELP gateway_websockets_open WebSockets relayed now.\n"
		 "# TYPE gateway_websockets_open gauge\ngateway_websockets_open %llu\n",
		 (unsigned long long)atomic_load(&m_open));
	gwd_buf_puts(b, line);
	snprintf(line, sizeof line,
		 "# HELP gateway_websockets_opened_total WebSockets upgraded.\n"
		 "# TYPE gateway_websockets_opened_total counter\n"
		 "gateway_websockets_opened_total %llu\n",
		 (unsigned long long)atomic_load(&m_opened));
	gwd_buf_puts(b, line);
	gwd_buf_puts(b, "# HELP gateway_websocket_bytes_total Bytes relayed, by the side that "
		     "sent them.\n# TYPE gateway_websocket_bytes_total counter\n");
	for (int s = 0; s < 2; s++) {
		snprintf(line, sizeof line, "gateway_websocket_bytes_total{from=\"%s\"} %llu\n",
			 s ? "upstream" : "client", (unsigned long long)atomic_load(&m_bytes[s]));
		gwd_buf_puts(b, line);
	}
	gwd_buf_puts(b, "# HELP gateway_websocket_closes_total WebSockets ended, by reason.\n"
		     "# TYPE gateway_websocket_closes_total counter\n");
	for (int i = 0; i < WR_COUNT; i++) {
		snprintf(line, sizeof line, "gateway_websocket_closes_total{reason=\"%s\"} %llu\n",
			 reason_name[i], (unsigned long long)atomic_load(&m_closes[i]));
		gwd_buf_puts(b, line);
	}
}

/* ---- the cap: open WebSockets per upstream name, across generations ---- */

static pthread_mutex_t cap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char name[65];
	unsigned open;
} caps[WS_CAP_SLOTS];

/* Take a place for a WebSocket through upstream <u>: the slot index, -1
 * when its max_websockets are open, -2 when the table is full. */
static int cap_take(const struct gwd_upstream_state *u)
{
	unsigned max = u->cfg.max_websockets ? u->cfg.max_websockets : GWD_WS_DEFAULT_MAX;
	size_t nl = u->cfg.name.len < 64 ? u->cfg.name.len : 64;
	int slot = -2, freeslot = -1;

	pthread_mutex_lock(&cap_lock);
	for (int i = 0; i < WS_CAP_SLOTS; i++) {
		if (caps[i].name[0] && strlen(caps[i].name) == nl &&
		    memcmp(caps[i].name, u->cfg.name.p, nl) == 0) {
			slot = i;
			break;
		}
		if (!caps[i].open && freeslot < 0)
			freeslot = i;
	}
	if (slot < 0 && freeslot >= 0) {
		slot = freeslot;
		memcpy(caps[slot].name, u->cfg.name.p, nl);
		caps[slot].name[nl] = '\0';
	}
	if (slot >= 0 && caps[slot].open >= max)
		slot = -1;
	if (slot >= 0)
		caps[slot].open++;
	pthread_mutex_unlock(&cap_lock);
	return slot;
}

static void cap_give(int slot)
{
	if (slot < 0)
		return;
	pthread_mutex_lock(&cap_lock);
	caps[slot].open--;
	pthread_mutex_unlock(&cap_lock);
}

/* ---- the handshake, on the pool thread ---- */

struct field_q {
	const char *name;
	size_t nlen;
	const char *v;
	size_t vlen;
	int n;
};

static enum MHD_Result count_field(void *cls, enum MHD_ValueKind kind, const char *key,
				   size_t klen, const char *val, size_t vlen)
{
	struct field_q *q = cls;

	(void)kind;
	if (key && val && klen == q->nlen && strncasecmp(key, q->name, klen) == 0 && !q->n++) {
		q->v = val;
		q->vlen = vlen;
	}
	return MHD_YES;
}

/* The first value of request field <name> (NULL when absent) and its
 * length in <*len>; <*n> gets how many fields have that name. */
static const char *req_field(struct gwd_req *r, const char *name, size_t *len, int *n)
{
	struct field_q q = { name, strlen(name), NULL, 0, 0 };

	MHD_get_connection_values_n(r->mhd, MHD_HEADER_KIND, count_field, &q);
	*len = q.vlen;
	*n = q.n;
	return q.v;
}

/* Refuse a handshake with <p> and <detail>; the connection closes (the
 * client may have sent frames after its head). */
static int refuse(struct gwd_req *r, enum gwd_problem p, const char *detail)
{
	gwd_problem(r, p, detail);
	r->resp.close = 1;
	return 1;
}

/* Whether a cors policy of the route refuses the handshake's Origin.  A
 * browser applies no CORS check to a WebSocket (it only sends Origin), so
 * the gateway does: a page of another origin must not open a WebSocket
 * with the user's cookies.  1 or 0. */
static int origin_refused(struct gwd_req *r)
{
	const struct gwd_gen *g = r->gen;
	const char *o;
	size_t ol;
	int n, wild;

	o = req_field(r, "Origin", &ol, &n);
	if (!o)
		return 0;
	for (uint16_t i = 0; i < r->route->npols; i++) {
		const struct gw_policy *p = &g->policies[r->route->pols[i]];

		if (p->kind == GW_P_CORS &&
		    !gwd_cors_origin_ok(&g->cors[p->index], g->strlist, g->nstrlist, o, ol, &wild))
			return 1;
	}
	return 0;
}

int gwd_ws_check(struct gwd_req *r)
{
	const char *up, *v;
	size_t ul, vl;
	int n, nc;

	up = req_field(r, "Upgrade", &ul, &n);
	if (!up)
		return 0;
	v = req_field(r, "Connection", &vl, &nc);
	/* an upgrade is asked for only with the "upgrade" connection option
	 * (RFC 9110 7.8); without it Upgrade is a stray hop-by-hop field */
	if (!r->route->r.websocket)
		return v && gwd_ws_has_token(v, vl, "upgrade") && gwd_ws_has_token(up, ul, "websocket")
			       ? refuse(r, GWD_PB_NO_WEBSOCKET, "this route does not accept WebSocket")
			       : 0;
	if (n != 1 || ul != 9 || strncasecmp(up, "websocket", 9) != 0)
		return refuse(r, GWD_PB_BAD_WEBSOCKET, "Upgrade must be websocket alone");
	if (!v || !gwd_ws_has_token(v, vl, "upgrade"))
		return refuse(r, GWD_PB_BAD_WEBSOCKET, "Connection must name upgrade");
	if (r->method != GW_M_GET || !r->http11)
		return refuse(r, GWD_PB_BAD_WEBSOCKET, "a handshake is an HTTP/1.1 GET");
	if (r->chunked || (r->content_length != UINT64_MAX && r->content_length > 0))
		return refuse(r, GWD_PB_BAD_WEBSOCKET, "a handshake has no body");
	v = req_field(r, "Sec-WebSocket-Version", &vl, &n);
	if (n != 1 || vl != 2 || memcmp(v, "13", 2) != 0) {
		gwd_req_add_resp_header_ref(r, "Sec-WebSocket-Version", 21, "13", 2);
		return refuse(r, GWD_PB_WEBSOCKET_VERSION, "Sec-WebSocket-Version must be 13");
	}
	v = req_field(r, "Sec-WebSocket-Key", &vl, &n);
	if (n != 1 || !gwd_ws_key_valid(v, vl))
		return refuse(r, GWD_PB_BAD_WEBSOCKET,
			      "Sec-WebSocket-Key must be one base64 value of 16 bytes");
	if (origin_refused(r))
		return refuse(r, GWD_PB_CORS_REFUSED, "the Origin is not allowed to open a WebSocket");
	r->websocket = 1;
	return 0;
}

/* ---- the session's memory ---- */

static void ws_free(struct ws *ws)
{
	if (ws->easy)
		curl_easy_cleanup(ws->easy);
	cap_give(ws->cap_slot);
	free(ws->req);
	free(ws->rbuf);
	free(ws->c2u.b);
	free(ws->u2c.b);
	free(ws);
}

/* The request context let go (the WebSocket ended, or never opened). */
static void req_free(struct gwd_req *r)
{
	if (r->hctx)
		ws_free(r->hctx);
	r->hctx = NULL;
}

/* The upgrade request: request line, Host, the upgrade fields, <headers>.
 * 0, or -1 when it does not fit. */
static int build_request(struct ws *ws, const char *path, const struct curl_slist *headers)
{
	struct gwd_buf b;

	ws->req = malloc(WS_REQ_MAX);
	if (!ws->req)
		return -1;
	gwd_buf_init(&b, ws->req, WS_REQ_MAX);
	gwd_buf_puts(&b, "GET ");
	gwd_buf_puts(&b, path);
	gwd_buf_puts(&b, " HTTP/1.1\r\nHost: ");
	gwd_buf_puts(&b, ws->u->t[ws->target].hostport);
	gwd_buf_puts(&b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
	for (const struct curl_slist *h = headers; h; h = h->next) {
		gwd_buf_puts(&b, h->data);
		gwd_buf_puts(&b, "\r\n");
	}
	gwd_buf_puts(&b, "\r\n");
	if (b.full)
		return -1;
	ws->req_len = b.len;
	return 0;
}

/* ---- the handshake thread ---- */

static _Atomic int stopping;          /* gwd_ws_close_all ran */
static _Atomic unsigned handshakes;    /* handshake threads running */

/* Wait until the upstream socket is ready for <events> or <deadline_ms>
 * passes (checking for a stop every 100 ms).  1 ready, 0 timed out, -1
 * stopping or failed. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = gwd_clock_ms();
		struct pollfd p = { .fd = fd, .events = events };
		int rc;

		if (atomic_load(&stopping))
			return -1;
		if (now >= deadline_ms)
			return 0;
		rc = poll(&p, 1, deadline_ms - now > 100 ? 100 : (int)(deadline_ms - now));
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* Connect to the target (libcurl: name resolution, the connect timeout;
 * an HTTPS upstream would add its TLS options here).  0, or an outcome. */
static int hs_connect(struct ws *ws)
{
	char url[GWD_HOSTPORT_MAX + 16];
	curl_socket_t fd = CURL_SOCKET_BAD;
	CURLcode rc;

	ws->easy = curl_easy_init();
	if (!ws->easy)
		return WS_BAD;
	snprintf(url, sizeof url, "http://%s/", ws->u->t[ws->target].hostport);
	curl_easy_setopt(ws->easy, CURLOPT_URL, url);
	curl_easy_setopt(ws->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(ws->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ws->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)ws->u->cfg.connect_timeout_ms);
	rc = curl_easy_perform(ws->easy);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return WS_TIMEOUT;
	if (rc != CURLE_OK || curl_easy_getinfo(ws->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		ws->detail = "cannot connect to the upstream";
		return WS_BAD;
	}
	ws->ufd = fd;
	return 0;
}

/* Write the upgrade request.  0, or an outcome. */
static int hs_send(struct ws *ws, uint64_t deadline)
{
	size_t off = 0;

	while (off < ws->req_len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(ws->easy, ws->req + off, ws->req_len - off, &n);
		int w;

		if (rc == CURLE_OK) {
			off += n;
			continue;
		}
		if (rc != CURLE_AGAIN)
			return WS_BAD;
		w = wait_fd(ws->ufd, POLLOUT, deadline);
		if (w <= 0)
			return w < 0 ? (atomic_load(&stopping) ? WS_STOPPING : WS_BAD) : WS_TIMEOUT;
	}
	return 0;
}

/* Read more of the answer into <ws->rbuf> (up to <want> bytes in all).
 * 1 read some, 0 EOF, or a negative outcome. */
static int hs_recv(struct ws *ws, size_t want, uint64_t deadline)
{
	for (;;) {
		size_t n = 0;
		CURLcode rc = curl_easy_recv(ws->easy, ws->rbuf + ws->rlen, want - ws->rlen, &n);
		int w;

		if (rc == CURLE_OK) {
			ws->rlen += n;
			return n ? 1 : 0;
		}
		if (rc != CURLE_AGAIN)
			return -WS_BAD;
		w = wait_fd(ws->ufd, POLLIN, deadline);
		if (w <= 0)
			return w < 0 ? -(atomic_load(&stopping) ? WS_STOPPING : WS_BAD) : -WS_TIMEOUT;
	}
}

/* Read the answer's head.  0 with <ws->head> parsed, or an outcome. */
static int hs_head(struct ws *ws, uint64_t deadline)
{
	long hl;

	ws->rbuf = malloc(GWD_WSHEAD_MAX);
	if (!ws->rbuf)
		return WS_BAD;
	for (;;) {
		int rc = hs_recv(ws, GWD_WSHEAD_MAX, deadline);

		if (rc < 0)
			return -rc;
		hl = gwd_wshead_parse(ws->rbuf, ws->rlen, &ws->head);
		if (hl > 0)
			break;
		if (hl < 0 || rc == 0) {
			ws->detail = "the upstream's answer is not a valid HTTP/1.1 response head";
			return WS_BAD;
		}
	}
	ws->head_len = (size_t)hl;
	return 0;
}

/* A 101: the upstream's accept must be the key's (RFC 6455 4.1, the
 * client's step 4); what it sent past the head is the first of the relay. */
static int hs_upgraded(struct ws *ws)
{
	char want[GWD_WS_ACCEPT_LEN + 1];
	const char *v;
	size_t vl = 0;
	unsigned n;

	v = gwd_wshead_get(&ws->head, "Upgrade", &vl, NULL);
	if (!v || !gwd_ws_has_token(v, vl, "websocket")) {
		ws->detail = "the upstream's 101 does not upgrade to websocket";
		return WS_BAD;
	}
	v = gwd_wshead_get(&ws->head, "Sec-WebSocket-Accept", &vl, &n);
	if (gwd_ws_accept(ws->key, strlen(ws->key), want) < 0 || n != 1 ||
	    vl != GWD_WS_ACCEPT_LEN || memcmp(v, want, vl) != 0) {
		ws->detail = "the upstream's Sec-WebSocket-Accept does not match the key";
		return WS_BAD;
	}
	return WS_UPGRADED;
}

/* Another answer: its body, by Content-Length or up to the close, at most
 * WS_BODY_MAX (a chunked one is refused: an answer to an upgrade is small,
 * and this is not the general proxy). */
static int hs_answer(struct ws *ws, uint64_t deadline)
{
	const char *v;
	size_t vl = 0, want = WS_BODY_MAX;
	unsigned n;
	char *nb;

	if (gwd_wshead_get(&ws->head, "Transfer-Encoding", &vl, NULL)) {
		ws->detail = "a chunked answer to a WebSocket handshake";
		return WS_BAD;
	}
	v = gwd_wshead_get(&ws->head, "Content-Length", &vl, &n);
	if (v) {
		char num[24];
		char *end;
		unsigned long long cl;

		if (n != 1 || vl == 0 || vl >= sizeof num || strspn(v, "0123456789") < vl)
			return WS_BAD;
		memcpy(num, v, vl);
		num[vl] = '\0';
		cl = strtoull(num, &end, 10);
		if (cl > WS_BODY_MAX)
			return WS_BAD;
		want = (size_t)cl;
	}
	nb = realloc(ws->rbuf, ws->head_len + want + 1);
	if (!nb)
		return WS_BAD;
	ws->rbuf = nb;
	/* re-parse: the fields point into the buffer that moved */
	gwd_wshead_parse(ws->rbuf, ws->head_len, &ws->head);
	while (ws->rlen < ws->head_len + want) {
		int rc = hs_recv(ws, ws->head_len + want, deadline);

		if (rc < 0)
			return -rc;
		if (rc == 0) {
			if (v)
				return WS_BAD; /* cut short */
			break;
		}
	}
	ws->body_len = ws->rlen - ws->head_len;
	return WS_ANSWERED;
}

/* Connect, write, read; the outcome. */
static int hs_run(struct ws *ws)
{
	uint64_t deadline;
	int rc = hs_connect(ws);

	if (rc)
		return rc;
	deadline = gwd_clock_ms() + ws->u->cfg.timeout_ms;
	rc = hs_send(ws, deadline);
	free(ws->req); /* sent: its 64 KiB are not kept for the WebSocket's life */
	ws->req = NULL;
	if (!rc)
		rc = hs_head(ws, deadline);
	if (rc)
		return rc;
	if (ws->head.status == 101)
		return hs_upgraded(ws);
	if (ws->head.status < 200) {
		ws->detail = "an interim answer to a WebSocket handshake";
		return WS_BAD;
	}
	return hs_answer(ws, deadline);
}

static void *hs_thread(void *arg)
{
	struct ws *ws = arg;
	int out = hs_run(ws);

	gwd_upstream_done(ws->u, (uint32_t)ws->target, out == WS_UPGRADED || out == WS_ANSWERED,
			  gwd_clock_ns());
	atomic_store(&ws->outcome, out);
	MHD_resume_connection(ws->r->mhd);
	atomic_fetch_sub(&handshakes, 1);
	return NULL;
}

/* ---- on the pool thread: start, result, response ---- */

int gwd_ws_start(struct gwd_req *r, struct gwd_upstream_state *u, const char *path,
		 const struct curl_slist *headers)
{
	struct ws *ws;
	const char *key;
	size_t kl;
	int n, t;
	pthread_t th;
	pthread_attr_t at;

	if (atomic_load(&stopping))
		return gwd_problem(r, GWD_PB_SHUTTING_DOWN, NULL);
	ws = calloc(1, sizeof *ws);
	if (!ws)
		return -1;
	ws->cap_slot = -1;
	ws->ufd = ws->cfd = -1;
	ws->first_eof = -1;
	r->hctx = ws;
	r->hctx_free = req_free;
	ws->r = r;
	ws->u = u;
	key = req_field(r, "Sec-WebSocket-Key", &kl, &n);
	memcpy(ws->key, key, GWD_WS_KEY_LEN); /* checked by gwd_ws_check */
	ws->cap_slot = cap_take(u);
	if (ws->cap_slot < 0) {
		gwd_req_add_resp_header_ref(r, "Retry-After", 11, "1", 1);
		return gwd_problem(r, GWD_PB_WEBSOCKET_LIMIT, "the upstream's max_websockets are open");
	}
	t = gwd_upstream_pick(u, NULL, 0, NULL, 0, gwd_clock_ns());
	if (t < 0) {
		gwd_req_add_resp_header_ref(r, "Retry-After", 11, "1", 1);
		return gwd_problem(r, GWD_PB_UPSTREAM_UNAVAILABLE, NULL);
	}
	ws->target = t;
	if (build_request(ws, path, headers) < 0)
		return gwd_problem(r, GWD_PB_HEADERS_TOO_LARGE, "the upgrade request does not fit");
	r->stage = GWD_ST_ASYNC;
	MHD_suspend_connection(r->mhd);
	atomic_fetch_add(&handshakes, 1);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	if (pthread_create(&th, &at, hs_thread, ws) != 0) {
		atomic_fetch_sub(&handshakes, 1);
		MHD_resume_connection(r->mhd);
		r->stage = GWD_ST_BODY;
		pthread_attr_destroy(&at);
		return gwd_problem(r, GWD_PB_UNAVAILABLE, "no thread for the handshake");
	}
	pthread_attr_destroy(&at);
	return 0;
}

/* Copy field <name> of the upstream's 101 into the response, if present. */
static void pass_field(struct gwd_req *r, struct ws *ws, const char *name)
{
	size_t vl = 0;
	const char *v = gwd_wshead_get(&ws->head, name, &vl, NULL);
	char *c;

	if (v && (c = gwd_req_strdup(r, v, vl)) != NULL)
		gwd_req_add_resp_header_ref(r, name, strlen(name), c, vl);
}

/* The upstream's other answer, as it came but for hop-by-hop fields. */
static void pass_answer(struct gwd_req *r, struct ws *ws)
{
	r->resp.upstream = 1;
	r->resp.status = (uint16_t)ws->head.status;
	r->resp.body = ws->rbuf + ws->head_len;
	r->resp.len = ws->body_len;
	for (unsigned i = 0; i < ws->head.nfields; i++) {
		const struct gwd_wshead_field *f = &ws->head.f[i];
		char *name, *value;

		if (gwd_proxy_hop_header(f->name, f->nlen) ||
		    (f->nlen == 12 && strncasecmp(f->name, "x-request-id", 12) == 0) ||
		    (f->nlen == 4 && strncasecmp(f->name, "date", 4) == 0))
			continue;
		name = gwd_req_strdup(r, f->name, f->nlen);
		value = gwd_req_strdup(r, f->value, f->vlen);
		if (!name || !value)
			continue;
		if (f->nlen == 12 && strcasecmp(name, "content-type") == 0)
			r->resp.ctype = value;
		else
			gwd_req_add_resp_header_ref(r, name, f->nlen, value, f->vlen);
	}
}

void gwd_ws_result(struct gwd_req *r)
{
	struct ws *ws = r->hctx;

	if (!ws || r->resp.status)
		return;
	switch (atomic_load(&ws->outcome)) {
	case WS_UPGRADED:
		r->resp.status = 101;
		r->resp.upgrade = 1;
		r->resp.upstream = 1;
		pass_field(r, ws, "Sec-WebSocket-Accept");
		pass_field(r, ws, "Sec-WebSocket-Protocol");
		pass_field(r, ws, "Sec-WebSocket-Extensions");
		break;
	case WS_ANSWERED:
		pass_answer(r, ws);
		break;
	case WS_TIMEOUT:
		gwd_problem(r, GWD_PB_UPSTREAM_TIMEOUT, NULL);
		break;
	case WS_STOPPING:
		gwd_problem(r, GWD_PB_SHUTTING_DOWN, NULL);
		break;
	default:
		gwd_problem(r, GWD_PB_BAD_GATEWAY, ws->detail);
		break;
	}
}

static void relay_add(struct ws *ws);

/* libmicrohttpd sent the 101: the socket is the relay's now.  Bytes the
 * client sent after its head (<extra>) go upstream first. */
static void on_upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
			size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct ws *ws = cls;
	size_t cap = extra_len > GWD_WS_BUF ? extra_len : GWD_WS_BUF;

	(void)c;
	(void)con_cls;
	ws->cfd = sock;
	ws->urh = urh;
	ws->c2u.b = malloc(cap);
	ws->u2c.b = malloc(GWD_WS_BUF);
	if (!ws->c2u.b || !ws->u2c.b) {
		ws->first_eof = -2; /* ended at once, below */
		cap = 0;
	}
	ws->c2u.cap = cap;
	ws->u2c.cap = GWD_WS_BUF;
	if (extra_len && cap) {
		memcpy(ws->c2u.b, extra, extra_len);
		ws->c2u.len = extra_len;
	}
	/* what the upstream sent behind its 101 goes to the client first */
	if (cap && ws->rlen > ws->head_len) {
		size_t n = ws->rlen - ws->head_len;

		if (n > GWD_WS_BUF)
			n = GWD_WS_BUF; /* cannot be: the head buffer is that size */
		memcpy(ws->u2c.b, ws->rbuf + ws->head_len, n);
		ws->u2c.len = n;
	}
	free(ws->rbuf); /* the 101's fields were copied into the response */
	ws->rbuf = NULL;
	relay_add(ws);
}

struct MHD_Response *gwd_ws_response(struct gwd_req *r)
{
	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgraded, r->hctx);

	if (!resp)
		return NULL;
	MHD_add_response_header(resp, "Upgrade", "websocket");
	MHD_add_response_header(resp, "Connection", "Upgrade");
	return resp;
}

/* ---- the relay thread ---- */

static pthread_t relay_th;
static int relay_running, epfd = -1, wakefd = -1;
static pthread_mutex_t relay_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ws *incoming;          /* handed over, not yet in the loop */
static struct ws *open_list;         /* the relay thread's own */
static struct ws *dead_list;         /* ended, to give back after the turn */
static _Atomic int close_all_req, close_all_done;

/* Wake the relay thread. */
static void relay_add_wake(void)
{
	uint64_t one = 1;

	if (write(wakefd, &one, sizeof one) < 0) {
		/* the counter is full only when the relay is gone: it reads it every wake */
	}
}

static void relay_add(struct ws *ws)
{
	atomic_fetch_add(&m_open, 1);
	atomic_fetch_add(&m_opened, 1);
	pthread_mutex_lock(&relay_lock);
	ws->next = incoming;
	incoming = ws;
	pthread_mutex_unlock(&relay_lock);
	relay_add_wake();
}

/* End <ws>: out of the loop, the upstream closed, the client's connection
 * given back to libmicrohttpd to close (which completes the request, on its
 * thread: <ws> is freed there).  Nothing touches <ws> after. */
static void relay_end(struct ws *ws, int reason)
{
	struct gwd_req *r = ws->r;

	if (ws->ev[0])
		epoll_ctl(epfd, EPOLL_CTL_DEL, ws->cfd, NULL);
	if (ws->ev[1])
		epoll_ctl(epfd, EPOLL_CTL_DEL, ws->ufd, NULL);
	if (ws->prev)
		ws->prev->next = ws->next;
	else
		open_list = ws->next;
	if (ws->next)
		ws->next->prev = ws->prev;
	curl_easy_cleanup(ws->easy);
	ws->easy = NULL;
	cap_give(ws->cap_slot);
	ws->cap_slot = -1;
	atomic_fetch_sub(&m_open, 1);
	atomic_fetch_add(&m_closes[reason], 1);
	r->bytes_sent = ws->bytes[1];
	ws->dead = 1;
	ws->dead_next = dead_list;
	dead_list = ws;
}

/* Give the sessions ended in this turn back to libmicrohttpd: after this
 * their memory may go at any time (events of the same turn that name them
 * were skipped already). */
static void bury(void)
{
	while (dead_list) {
		struct ws *ws = dead_list;

		dead_list = ws->dead_next;
		MHD_upgrade_action(ws->urh, MHD_UPGRADE_ACTION_CLOSE);
	}
}

/* Read from side <s> into <p>.  1 progress, 0 nothing now, -1 failed. */
static int side_read(struct ws *ws, int s, struct ws_pipe *p)
{
	size_t room, n = 0;

	if (p->off && p->off + p->len == p->cap) {
		memmove(p->b, p->b + p->off, p->len);
		p->off = 0;
	}
	room = p->cap - p->off - p->len;
	if (ws->eof[s] || room == 0)
		return 0;
	if (s == 0) {
		ssize_t k = recv(ws->cfd, p->b + p->off + p->len, room, 0);

		if (k < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		n = (size_t)k;
	} else {
		/* TLS may hold decrypted bytes the socket no longer signals: the
		 * pump reads until CURLE_AGAIN */
		CURLcode rc = curl_easy_recv(ws->easy, p->b + p->off + p->len, room, &n);

		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK)
			return -1;
	}
	if (n == 0) {
		ws->eof[s] = 1;
		if (ws->first_eof < 0)
			ws->first_eof = s;
		return 1;
	}
	p->len += n;
	ws->bytes[s] += n;
	atomic_fetch_add_explicit(&m_bytes[s], n, memory_order_relaxed);
	return 1;
}

/* Write <p> to side <s>.  1 progress, 0 nothing now, -1 failed. */
static int side_write(struct ws *ws, int s, struct ws_pipe *p)
{
	size_t n = 0;

	if (!p->len)
		return 0;
	if (s == 0) {
		ssize_t k = send(ws->cfd, p->b + p->off, p->len, MSG_NOSIGNAL);

		if (k < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
		n = (size_t)k;
	} else {
		CURLcode rc = curl_easy_send(ws->easy, p->b + p->off, p->len, &n);

		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK)
			return -1;
	}
	p->off += n;
	p->len -= n;
	if (!p->len)
		p->off = 0;
	return n > 0;
}

/* Pass an EOF on once its direction is flushed: the peer's write side is
 * shut down, so each side sees the other's close. */
static void pass_eof(struct ws *ws)
{
	if (ws->eof[0] && !ws->c2u.len && !ws->shut[1]) {
		shutdown(ws->ufd, SHUT_WR);
		ws->shut[1] = 1;
	}
	if (ws->eof[1] && !ws->u2c.len && !ws->shut[0]) {
		shutdown(ws->cfd, SHUT_WR);
		ws->shut[0] = 1;
	}
}

/* Set the epoll interest of side <s> to <ev>. */
static int watch(struct ws *ws, int s, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = &ws->end[s] };
	int fd = s ? ws->ufd : ws->cfd;

	if (ev == ws->ev[s])
		return 0;
	if (epoll_ctl(epfd, !ws->ev[s] ? EPOLL_CTL_ADD : ev ? EPOLL_CTL_MOD : EPOLL_CTL_DEL, fd,
		      ev ? &e : NULL) < 0)
		return -1;
	ws->ev[s] = ev;
	return 0;
}

/* Move what can move, both ways, then watch for what is blocked: a side is
 * read only while its peer's buffer has room (backpressure).  Ends <ws>
 * when both sides closed, or on an error. */
static void pump(struct ws *ws)
{
	int progress, rc;
	uint32_t ev[2];

	do {
		progress = 0;
		if ((rc = side_read(ws, 0, &ws->c2u)) < 0 || (progress |= rc, 0) ||
		    (rc = side_write(ws, 1, &ws->c2u)) < 0 || (progress |= rc, 0) ||
		    (rc = side_read(ws, 1, &ws->u2c)) < 0 || (progress |= rc, 0) ||
		    (rc = side_write(ws, 0, &ws->u2c)) < 0 || (progress |= rc, 0)) {
			relay_end(ws, WR_ERROR);
			return;
		}
		if (progress)
			ws->last_io_ms = gwd_clock_ms();
		pass_eof(ws);
	} while (progress);
	if (ws->eof[0] && ws->eof[1] && !ws->c2u.len && !ws->u2c.len) {
		relay_end(ws, ws->first_eof == 1 ? WR_UPSTREAM : WR_CLIENT);
		return;
	}
	for (int s = 0; s < 2; s++) {
		struct ws_pipe *in = s ? &ws->u2c : &ws->c2u, *out = s ? &ws->c2u : &ws->u2c;

		ev[s] = (!ws->eof[s] && in->off + in->len < in->cap ? EPOLLIN : 0) |
			(out->len ? EPOLLOUT : 0);
	}
	if (watch(ws, 0, ev[0]) < 0 || watch(ws, 1, ev[1]) < 0)
		relay_end(ws, WR_ERROR);
}

/* Take the sessions handed over into the loop. */
static void take_incoming(void)
{
	struct ws *in;
	uint64_t v;

	if (read(wakefd, &v, sizeof v) < 0) {
		/* nothing to read: a spurious wake */
	}
	pthread_mutex_lock(&relay_lock);
	in = incoming;
	incoming = NULL;
	pthread_mutex_unlock(&relay_lock);
	while (in) {
		struct ws *ws = in;

		in = in->next;
		ws->end[0] = (struct ws_end){ ws, 0 };
		ws->end[1] = (struct ws_end){ ws, 1 };
		ws->prev = NULL;
		ws->next = open_list;
		if (open_list)
			open_list->prev = ws;
		open_list = ws;
		ws->last_io_ms = gwd_clock_ms();
		ws->idle_ms = (uint64_t)(ws->r->gen->settings.websocket_idle_s
						 ? ws->r->gen->settings.websocket_idle_s
						 : GWD_WS_DEFAULT_IDLE_S) * 1000u;
		if (ws->first_eof == -2)
			relay_end(ws, WR_ERROR);
		else
			pump(ws);
	}
}

/* End every session idle past its timeout, or all of them (<all>). */
static void sweep(int all)
{
	uint64_t now = gwd_clock_ms();
	struct ws *ws = open_list, *next;

	for (; ws; ws = next) {
		next = ws->next;
		if (all)
			relay_end(ws, WR_SHUTDOWN);
		else if (now - ws->last_io_ms >= ws->idle_ms)
			relay_end(ws, WR_IDLE);
	}
}

static void *relay_main(void *arg)
{
	struct epoll_event ev[64];
	uint64_t next_sweep = gwd_clock_ms() + 1000;

	(void)arg;
	while (__atomic_load_n(&relay_running, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(epfd, ev, 64, 250);

		for (int i = 0; i < n; i++) {
			struct ws_end *e = ev[i].data.ptr;

			if (!e)
				take_incoming();
			else if (!e->ws->dead)
				pump(e->ws);
		}
		if (atomic_load(&close_all_req)) {
			take_incoming();
			sweep(1);
			bury();
			atomic_store(&close_all_done, 1);
		} else if (gwd_clock_ms() >= next_sweep) {
			sweep(0);
			next_sweep = gwd_clock_ms() + 1000;
		}
		bury();
	}
	return NULL;
}

/* ---- start and stop ---- */

int gwd_ws_service_start(void)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };

	epfd = epoll_create1(EPOLL_CLOEXEC);
	wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (epfd < 0 || wakefd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &e) < 0)
		return -1;
	__atomic_store_n(&relay_running, 1, __ATOMIC_RELEASE);
	if (pthread_create(&relay_th, NULL, relay_main, NULL) != 0) {
		relay_running = 0;
		return -1;
	}
	return gwd_metrics_add_family(render_metrics, NULL);
}

void gwd_ws_close_all(void)
{
	struct timespec ts = { 0, 10 * 1000000L };

	atomic_store(&stopping, 1);
	/* running handshakes see <stopping> within 100 ms and resume their
	 * connection (503) */
	while (atomic_load(&handshakes) > 0)
		nanosleep(&ts, NULL);
	if (!__atomic_load_n(&relay_running, __ATOMIC_ACQUIRE))
		return;
	atomic_store(&close_all_req, 1);
	relay_add_wake();
	while (!atomic_load(&close_all_done))
		nanosleep(&ts, NULL);
}

void gwd_ws_service_stop(void)
{
	if (!__atomic_load_n(&relay_running, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&relay_running, 0, __ATOMIC_RELEASE);
	relay_add_wake();
	pthread_join(relay_th, NULL);
	close(epfd);
	close(wakefd);
	epfd = wakefd = -1;
}
