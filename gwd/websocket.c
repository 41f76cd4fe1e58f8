/* WebSocket routes: the handshake checked, forwarded and answered
 * (websocket.h); the relay is websocket_relay.c's. */
#include "gwd/websocket.h"
#include "gwd/websocket_int.h"

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
#include "gwd/upstream_tls.h"
#include "gwd/websocket_head.h"

#define WS_BODY_MAX (1024u * 1024u) /* a non-101 answer relayed */
#define WS_CAP_SLOTS 256            /* upstream names counted for max_websockets */
#define WS_REQ_MAX 65536            /* the upgrade request written upstream */

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

void gwd_ws_cap_give(int slot)
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

static void ws_free(struct gwd_ws *ws)
{
	if (ws->easy)
		curl_easy_cleanup(ws->easy);
	gwd_ws_cap_give(ws->cap_slot);
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
static int build_request(struct gwd_ws *ws, const char *path, const struct curl_slist *headers)
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
static _Atomic int draining;          /* gwd_ws_drain ran */
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
static int hs_connect(struct gwd_ws *ws)
{
	char url[GWD_HOSTPORT_MAX + 16];
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_socket_t fd = CURL_SOCKET_BAD;
	CURLcode rc;

	ws->easy = curl_easy_init();
	if (!ws->easy)
		return GWD_WS_BAD;
	/* An HTTPS upstream: its tls settings on this handle, the same the
	 * proxy engine applies (URL, SNI, verification, client certificate);
	 * the relay then reads and writes through libcurl's TLS. */
	if (ws->u->tls) {
		if (gwd_upstream_tls_apply(ws->easy, ws->u->tls, (uint32_t)ws->target, NULL))
			return GWD_WS_BAD;
	} else {
		snprintf(url, sizeof url, "http://%s/", ws->u->t[ws->target].hostport);
		curl_easy_setopt(ws->easy, CURLOPT_URL, url);
	}
	curl_easy_setopt(ws->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(ws->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ws->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)ws->u->cfg.connect_timeout_ms);
	curl_easy_setopt(ws->easy, CURLOPT_ERRORBUFFER, errbuf);
	/* curl_easy_recv reads into the relay's buffer: libcurl's own receive
	 * buffer (16 KiB by default, for the WebSocket's whole life) is unused */
	curl_easy_setopt(ws->easy, CURLOPT_BUFFERSIZE, 1024L);
	rc = curl_easy_perform(ws->easy);
	curl_easy_setopt(ws->easy, CURLOPT_ERRORBUFFER, NULL); /* errbuf ends here */
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return GWD_WS_TIMEOUT;
	if (rc != CURLE_OK || curl_easy_getinfo(ws->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		ws->detail = ws->u->tls ? gwd_upstream_tls_failure(ws->easy, rc, errbuf) : NULL;
		if (ws->detail)
			fprintf(stderr, "gwd: upstream %s target %s: TLS: %s (%s)\n",
				ws->u->cfg.name.p, ws->u->t[ws->target].hostport, ws->detail,
				errbuf[0] ? errbuf : curl_easy_strerror(rc));
		else
			ws->detail = "cannot connect to the upstream";
		return GWD_WS_BAD;
	}
	ws->ufd = fd;
	return 0;
}

/* Write the upgrade request.  0, or an outcome. */
static int hs_send(struct gwd_ws *ws, uint64_t deadline)
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
			return GWD_WS_BAD;
		w = wait_fd(ws->ufd, POLLOUT, deadline);
		if (w <= 0)
			return w < 0 ? (atomic_load(&stopping) ? GWD_WS_STOPPING : GWD_WS_BAD) : GWD_WS_TIMEOUT;
	}
	return 0;
}

/* Read more of the answer into <ws->rbuf> (up to <want> bytes in all).
 * 1 read some, 0 EOF, or a negative outcome. */
static int hs_recv(struct gwd_ws *ws, size_t want, uint64_t deadline)
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
			return -GWD_WS_BAD;
		w = wait_fd(ws->ufd, POLLIN, deadline);
		if (w <= 0)
			return w < 0 ? -(atomic_load(&stopping) ? GWD_WS_STOPPING : GWD_WS_BAD) : -GWD_WS_TIMEOUT;
	}
}

/* Read the answer's head.  0 with <ws->head> parsed, or an outcome. */
static int hs_head(struct gwd_ws *ws, uint64_t deadline)
{
	long hl;

	ws->rbuf = malloc(GWD_WSHEAD_MAX);
	if (!ws->rbuf)
		return GWD_WS_BAD;
	for (;;) {
		int rc = hs_recv(ws, GWD_WSHEAD_MAX, deadline);

		if (rc < 0)
			return -rc;
		hl = gwd_wshead_parse(ws->rbuf, ws->rlen, &ws->head);
		if (hl > 0)
			break;
		if (hl < 0 || rc == 0) {
			ws->detail = "the upstream's answer is not a valid HTTP/1.1 response head";
			return GWD_WS_BAD;
		}
	}
	ws->head_len = (size_t)hl;
	return 0;
}

/* A 101: the upstream's accept must be the key's (RFC 6455 4.1, the
 * client's step 4); what it sent past the head is the first of the relay. */
static int hs_upgraded(struct gwd_ws *ws)
{
	char want[GWD_WS_ACCEPT_LEN + 1];
	const char *v;
	size_t vl = 0;
	unsigned n;

	v = gwd_wshead_get(&ws->head, "Upgrade", &vl, NULL);
	if (!v || !gwd_ws_has_token(v, vl, "websocket")) {
		ws->detail = "the upstream's 101 does not upgrade to websocket";
		return GWD_WS_BAD;
	}
	v = gwd_wshead_get(&ws->head, "Sec-WebSocket-Accept", &vl, &n);
	if (gwd_ws_accept(ws->key, strlen(ws->key), want) < 0 || n != 1 ||
	    vl != GWD_WS_ACCEPT_LEN || memcmp(v, want, vl) != 0) {
		ws->detail = "the upstream's Sec-WebSocket-Accept does not match the key";
		return GWD_WS_BAD;
	}
	return GWD_WS_UPGRADED;
}

/* The body of an answer of <want> bytes (<sized>: Content-Length said so;
 * otherwise up to the close, at most WS_BODY_MAX).  An outcome. */
static int hs_answer_sized(struct gwd_ws *ws, size_t want, int sized, uint64_t deadline)
{
	while (ws->rlen < ws->head_len + want) {
		int rc = hs_recv(ws, ws->head_len + want, deadline);

		if (rc < 0)
			return -rc;
		if (rc == 0) {
			if (sized)
				return GWD_WS_BAD; /* cut short */
			break;
		}
	}
	ws->body_len = ws->rlen - ws->head_len;
	return GWD_WS_ANSWERED;
}

/* The body of a chunked answer, decoded in place, at most WS_BODY_MAX bytes
 * as sent.  An outcome. */
static int hs_answer_chunked(struct gwd_ws *ws, uint64_t deadline)
{
	char *body = ws->rbuf + ws->head_len;
	long done;

	while ((done = gwd_wshead_chunked(body, ws->rlen - ws->head_len, NULL, NULL)) == 0) {
		int rc = ws->rlen < ws->head_len + WS_BODY_MAX ?
			hs_recv(ws, ws->head_len + WS_BODY_MAX, deadline) : 0;

		if (rc < 0)
			return -rc;
		if (rc == 0) {
			ws->detail = "a chunked answer cut short or over 1 MiB";
			return GWD_WS_BAD;
		}
	}
	if (done < 0) {
		ws->detail = "a malformed chunked answer to a WebSocket handshake";
		return GWD_WS_BAD;
	}
	gwd_wshead_chunked(body, ws->rlen - ws->head_len, body, &ws->body_len);
	return GWD_WS_ANSWERED;
}

/* Another answer: its body, by Content-Length, chunked, or up to the
 * close, at most WS_BODY_MAX (an answer to an upgrade is small, and this is
 * not the streaming proxy).  An outcome. */
static int hs_answer(struct gwd_ws *ws, uint64_t deadline)
{
	const char *v, *te;
	size_t vl = 0, tel = 0, want = WS_BODY_MAX;
	unsigned n;
	char *nb;

	te = gwd_wshead_get(&ws->head, "Transfer-Encoding", &tel, &n);
	if (te && (n != 1 || tel != 7 || strncasecmp(te, "chunked", 7) != 0)) {
		ws->detail = "an answer to a WebSocket handshake coded other than chunked";
		return GWD_WS_BAD;
	}
	v = gwd_wshead_get(&ws->head, "Content-Length", &vl, &n);
	if (v && te) {
		ws->detail = "an answer with both Content-Length and Transfer-Encoding";
		return GWD_WS_BAD;
	}
	if (v) {
		char num[24];
		char *end;
		unsigned long long cl;

		if (n != 1 || vl == 0 || vl >= sizeof num || strspn(v, "0123456789") < vl)
			return GWD_WS_BAD;
		memcpy(num, v, vl);
		num[vl] = '\0';
		cl = strtoull(num, &end, 10);
		if (cl > WS_BODY_MAX)
			return GWD_WS_BAD;
		want = (size_t)cl;
	}
	nb = realloc(ws->rbuf, ws->head_len + want + 1);
	if (!nb)
		return GWD_WS_BAD;
	ws->rbuf = nb;
	/* re-parse: the fields point into the buffer that moved */
	gwd_wshead_parse(ws->rbuf, ws->head_len, &ws->head);
	return te ? hs_answer_chunked(ws, deadline) : hs_answer_sized(ws, want, v != NULL, deadline);
}

/* Connect, write, read; the outcome. */
static int hs_run(struct gwd_ws *ws)
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
		return GWD_WS_BAD;
	}
	return hs_answer(ws, deadline);
}

static void *hs_thread(void *arg)
{
	struct gwd_ws *ws = arg;
	int out = hs_run(ws);

	gwd_upstream_done(ws->u, (uint32_t)ws->target, out == GWD_WS_UPGRADED || out == GWD_WS_ANSWERED,
			  gwd_clock_ns());
	atomic_store(&ws->outcome, out);
	MHD_resume_connection(ws->r->mhd);
	atomic_fetch_sub(&handshakes, 1);
	return NULL;
}

/* ---- on the pool thread: start, result, response ---- */

int gwd_ws_start(struct gwd_req *r, struct gwd_upstream_state *u, const char *path,
		 const struct curl_slist *headers, const char *hkey, size_t hkeylen)
{
	struct gwd_ws *ws;
	const char *key;
	size_t kl;
	int n, t;
	pthread_t th;
	pthread_attr_t at;

	/* draining: no new WebSocket (the open ones close at the deadline) */
	if (atomic_load(&stopping) || atomic_load(&draining))
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
	t = gwd_upstream_pick(u, hkey, hkeylen, NULL, 0, gwd_clock_ns());
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
static void pass_field(struct gwd_req *r, struct gwd_ws *ws, const char *name)
{
	size_t vl = 0;
	const char *v = gwd_wshead_get(&ws->head, name, &vl, NULL);
	char *c;

	if (v && (c = gwd_req_strdup(r, v, vl)) != NULL)
		gwd_req_add_resp_header_ref(r, name, strlen(name), c, vl);
}

/* The upstream's other answer, as it came but for hop-by-hop fields. */
static void pass_answer(struct gwd_req *r, struct gwd_ws *ws)
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
	struct gwd_ws *ws = r->hctx;

	if (!ws || r->resp.status)
		return;
	switch (atomic_load(&ws->outcome)) {
	case GWD_WS_UPGRADED:
		r->resp.status = 101;
		r->resp.upgrade = 1;
		r->resp.upstream = 1;
		pass_field(r, ws, "Sec-WebSocket-Accept");
		pass_field(r, ws, "Sec-WebSocket-Protocol");
		pass_field(r, ws, "Sec-WebSocket-Extensions");
		break;
	case GWD_WS_ANSWERED:
		pass_answer(r, ws);
		break;
	case GWD_WS_TIMEOUT:
		gwd_problem(r, GWD_PB_UPSTREAM_TIMEOUT, NULL);
		break;
	case GWD_WS_STOPPING:
		gwd_problem(r, GWD_PB_SHUTTING_DOWN, NULL);
		break;
	default:
		gwd_problem(r, GWD_PB_BAD_GATEWAY, ws->detail);
		break;
	}
}

/* libmicrohttpd sent the 101: the socket is the relay's now.  Bytes the
 * client sent after its head (<extra>) go upstream first. */
static void on_upgraded(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
			size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct gwd_ws *ws = cls;
	size_t cap = extra_len > GWD_WS_BUF ? extra_len : GWD_WS_BUF;
	int dom = 0;
	socklen_t dl = sizeof dom;

	(void)c;
	(void)con_cls;
	ws->cfd = sock;
	ws->urh = urh;
	ws->cpair = getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &dom, &dl) == 0 && dom == AF_UNIX;
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
	gwd_ws_relay_add(ws);
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

/* ---- stop ---- */

void gwd_ws_drain(void)
{
	atomic_store(&draining, 1);
}

void gwd_ws_close_all(void)
{
	struct timespec ts = { 0, 10 * 1000000L };

	atomic_store(&stopping, 1);
	/* running handshakes see <stopping> within 100 ms and resume their
	 * connection (503) */
	while (atomic_load(&handshakes) > 0)
		nanosleep(&ts, NULL);
	gwd_ws_relay_close_all();
}
