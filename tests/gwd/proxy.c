/* Unit tests of gwd/proxy.c: the pure helpers (path encoding, hop-by-hop
 * names), and the proxy engine itself against a real HTTP/1.1 server on
 * 127.0.0.1 run by a thread of this file, which answers each connection with
 * canned bytes and keeps the request it read, so that both directions are
 * checked on the wire: what libcurl sends upstream, and what of the
 * upstream's head reaches the call's result. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gwd/proxy.h"
#include "gwd/upstream.h"
#include "tests/gwd/upstream_fixture.h"

int gw_suite_gwd_proxy(void);

static void test_encode_path(void)
{
	char out[64];

	CU_ASSERT_EQUAL(gwd_proxy_encode_path("/users/7", 8, 1, out, sizeof out), 8);
	CU_ASSERT_STRING_EQUAL(out, "/users/7");
	CU_ASSERT(gwd_proxy_encode_path("a/b c?#%", 8, 0, out, sizeof out) > 0);
	CU_ASSERT_STRING_EQUAL(out, "a%2Fb%20c%3F%23%25");
	CU_ASSERT(gwd_proxy_encode_path("caf\xc3\xa9", 5, 1, out, sizeof out) > 0);
	CU_ASSERT_STRING_EQUAL(out, "caf%C3%A9");
	CU_ASSERT_EQUAL(gwd_proxy_encode_path("\r\n", 2, 1, out, 6), -1);
	CU_ASSERT_EQUAL(gwd_proxy_encode_path("\r\n", 2, 1, out, 7), 6);
	/* ';' starts path parameters for Tomcat, Jetty and Spring: the matcher
	 * saw "..;" or "admin;x" as a literal segment, so must the backend */
	CU_ASSERT(gwd_proxy_encode_path("/p/..;/admin;x=1", 16, 1, out, sizeof out) > 0);
	CU_ASSERT_STRING_EQUAL(out, "/p/..%3B/admin%3Bx=1");
}

/* Weights add up past 2^32 (gwc accepts any weight up to 2^32 - 1): every
 * target stays pickable and round robin keeps the proportions. */

static void test_hop_headers(void)
{
	CU_ASSERT_TRUE(gwd_proxy_hop_header("Connection", 10));
	CU_ASSERT_TRUE(gwd_proxy_hop_header("keep-alive", 10));
	CU_ASSERT_TRUE(gwd_proxy_hop_header("TE", 2));
	CU_ASSERT_TRUE(gwd_proxy_hop_header("Transfer-Encoding", 17));
	CU_ASSERT_TRUE(gwd_proxy_hop_header("Proxy-Authorization", 19));
	CU_ASSERT_TRUE(gwd_proxy_hop_header("Upgrade", 7));
	CU_ASSERT_FALSE(gwd_proxy_hop_header("Content-Type", 12));
	CU_ASSERT_FALSE(gwd_proxy_hop_header("Tex", 3));
}

/* ---- the engine against a real server ------------------------------------ */

/* The upstream: one listening socket, one thread, one connection at a time.
 * Each connection gets the canned <resp> (then the server closes it), and its
 * request head and body are kept in <req>. */
static struct {
	int lfd;
	uint16_t port;
	pthread_t th;
	_Atomic int stop;
	_Atomic int nconn;
	pthread_mutex_t mu;
	const char *resp;
	size_t resp_len;
	char req[65536];
	size_t req_len;
} srv = { .lfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

/* Read one request from <fd> into srv.req: the head, then a Content-Length
 * body if any (what does not fit srv.req is read and dropped).  Gives up at
 * 5 s or when the peer closes. */
static void srv_read_request(int fd)
{
	size_t n = 0, total = 0, want = 0;
	char *end = NULL, sink[16384];

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;

		if (end && total >= want)
			break;
		if (poll(&p, 1, 5000) <= 0)
			break;
		/* past the buffer, the body is read and dropped */
		if (n < sizeof srv.req - 1)
			r = read(fd, srv.req + n, sizeof srv.req - 1 - n);
		else
			r = read(fd, sink, sizeof sink);
		if (r <= 0)
			break;
		if (n < sizeof srv.req - 1)
			n += (size_t)r;
		total += (size_t)r;
		srv.req[n] = '\0';
		if (!end && (end = strstr(srv.req, "\r\n\r\n"))) {
			const char *cl = strcasestr(srv.req, "\r\ncontent-length:");

			want = (size_t)(end + 4 - srv.req);
			if (cl && cl < end)
				want += strtoul(cl + 17, NULL, 10);
		}
	}
	srv.req_len = n;
}

/* The server thread: accept, read, answer, close, until srv.stop. */
static void *srv_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv.stop)) {
		struct pollfd p = { srv.lfd, POLLIN, 0 };
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(srv.lfd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&srv.nconn, 1);
		pthread_mutex_lock(&srv.mu);
		srv_read_request(fd);
		if (srv.resp && write(fd, srv.resp, srv.resp_len) < 0)
			srv.req_len = 0;
		pthread_mutex_unlock(&srv.mu);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

/* Start the server on an ephemeral port of 127.0.0.1, and the engine.
 * Returns 0, or -1. */
static int engine_init(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(srv.lfd, 16) != 0 || getsockname(srv.lfd, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	srv.port = ntohs(a.sin_port);
	atomic_store(&srv.stop, 0);
	if (pthread_create(&srv.th, NULL, srv_main, NULL) != 0)
		return -1;
	return gwd_proxy_start(2);
}

/* Stop the engine and the server. */
static int engine_fini(void)
{
	gwd_proxy_stop();
	atomic_store(&srv.stop, 1);
	pthread_join(srv.th, NULL);
	close(srv.lfd);
	srv.lfd = -1;
	return 0;
}

/* The upstream of the engine tests: <n> targets (up to NT), all the server. */
static void engine_upstream(unsigned n, uint32_t retries)
{
	const uint32_t w[NT] = {1, 1, 1};

	setup(w, GW_LB_ROUND_ROBIN);
	up.n = n;
	up.cfg.retries = retries;
	up.cfg.timeout_ms = 5000;
	for (unsigned i = 0; i < n; i++)
		snprintf(tgt[i].hostport, sizeof tgt[i].hostport, "127.0.0.1:%u", srv.port);
}

/* done() of the engine tests: signal the waiting test. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
} waitr = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };

static void on_done(struct gwd_proxy_call *c, void *arg)
{
	(void)c;
	(void)arg;
	pthread_mutex_lock(&waitr.mu);
	waitr.done = 1;
	pthread_cond_signal(&waitr.cv);
	pthread_mutex_unlock(&waitr.mu);
}

/* on_data of the engine tests: a streaming read may go on. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned n;
} datq = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };

static void on_data(struct gwd_proxy_call *c, void *arg)
{
	(void)c;
	(void)arg;
	pthread_mutex_lock(&datq.mu);
	datq.n++;
	pthread_cond_signal(&datq.cv);
	pthread_mutex_unlock(&datq.mu);
}

/* Run <method> <path> with request headers <hdrs> (NULL-terminated list,
 * may be NULL) and body <body> (NULL: none) against upstream <up>, the
 * server answering <resp>.  Returns the finished call (the caller frees it
 * with gwd_proxy_call_free), or NULL when it did not finish within 10 s. */
static struct gwd_proxy_call *engine_call(const char *method, const char *path,
				     const char *const *hdrs, const char *body, const char *resp)
{
	struct gwd_proxy_call *c = gwd_proxy_call_new();
	struct curl_slist *h = NULL;
	struct timespec dl;
	int ok;

	if (!c)
		return NULL;
	for (unsigned i = 0; hdrs && hdrs[i]; i++)
		h = curl_slist_append(h, hdrs[i]);
	pthread_mutex_lock(&srv.mu);
	srv.resp = resp;
	srv.resp_len = strlen(resp);
	srv.req_len = 0;
	srv.req[0] = '\0';
	pthread_mutex_unlock(&srv.mu);
	atomic_store(&srv.nconn, 0);
	c->u = &up;
	c->method = method;
	c->head = strcmp(method, "HEAD") == 0;
	c->idempotent = strcmp(method, "POST") != 0;
	c->path = path;
	c->headers = h;
	c->body = body;
	c->body_len = body ? strlen(body) : 0;
	c->max_resp_body = 1 << 20;
	c->done = on_done;
	c->on_data = on_data;
	waitr.done = 0;
	if (gwd_proxy_submit(c) != 0) {
		curl_slist_free_all(h);
		gwd_proxy_call_free(c);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 10;
	pthread_mutex_lock(&waitr.mu);
	while (!waitr.done)
		if (pthread_cond_timedwait(&waitr.cv, &waitr.mu, &dl) != 0)
			break;
	ok = waitr.done;
	pthread_mutex_unlock(&waitr.mu);
	/* libcurl reads the list until the transfer ends: free it only now */
	if (ok)
		curl_slist_free_all(h);
	return ok ? c : NULL;
}

/* The value of response header <name> of <c> (case-insensitive), or NULL. */
static const char *resp_header(const struct gwd_proxy_call *c, const char *name)
{
	const char *n, *v;
	size_t pos = 0;

	while (gwd_proxy_call_header(c, &pos, &n, &v))
		if (strcasecmp(n, name) == 0)
			return v;
	return NULL;
}

/* Whether every response header name of <c> is an RFC 9110 token and no
 * value holds a control character other than HTAB. */
static int resp_headers_clean(const struct gwd_proxy_call *c)
{
	const char *n, *v;
	size_t pos = 0;

	while (gwd_proxy_call_header(c, &pos, &n, &v)) {
		if (!*n || n[strspn(n, "!#$%&'*+-.^_`|~0123456789"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")])
			return 0;
		for (const char *p = v; *p; p++)
			if ((*p > 0 && *p < 0x20 && *p != '\t') || *p == 0x7f)
				return 0;
	}
	return 1;
}

/* A plain exchange: status, body, headers; the call owns no libcurl handle
 * once done() ran (it would leak with the call otherwise). */
static void test_engine_basic(void)
{
	struct gwd_proxy_call *c;

	engine_upstream(1, 0);
	c = engine_call("GET", "/hello?x=1", NULL, NULL,
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: 1\r\n\r\nok");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->error, GWD_PX_OK);
	CU_ASSERT_EQUAL(c->status, 200);
	CU_ASSERT_EQUAL(c->resp_len, 2);
	CU_ASSERT(c->resp_body && memcmp(c->resp_body, "ok", 2) == 0);
	CU_ASSERT_STRING_EQUAL(resp_header(c, "x-up") ? resp_header(c, "x-up") : "", "1");
	CU_ASSERT_PTR_NULL(resp_header(c, "content-length"));
	CU_ASSERT(strncmp(srv.req, "GET /hello?x=1 HTTP/1.1\r\n", 25) == 0);
	CU_ASSERT_PTR_NULL(c->easy);
	gwd_proxy_call_free(c);
}

/* An upstream head line with a bare CR inside it (libcurl itself gives up
 * on such a head), or a field name that is no token (libcurl passes those
 * on): nothing of it may reach the client's response. */
static void test_engine_header_names(void)
{
	struct gwd_proxy_call *c;

	engine_upstream(1, 0);
	c = engine_call("GET", "/", NULL, NULL,
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
			"X-A\rSet-Cookie: sid=evil\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_TRUE(resp_headers_clean(c));
	CU_ASSERT_PTR_NULL(resp_header(c, "set-cookie"));
	gwd_proxy_call_free(c);
	c = engine_call("GET", "/", NULL, NULL,
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
			"Bad Name: v\r\n"
			"X-\x01: v\r\n"
			"X-(a): v\r\n"
			"X-Fine: yes\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->error, GWD_PX_OK);
	CU_ASSERT_TRUE(resp_headers_clean(c));
	CU_ASSERT_PTR_NOT_NULL(resp_header(c, "x-fine"));
	gwd_proxy_call_free(c);
}

/* Trailer fields of a chunked response are not header fields (RFC 9110
 * 6.5.1: never merged into the head). */
static void test_engine_trailers(void)
{
	struct gwd_proxy_call *c;

	engine_upstream(1, 0);
	c = engine_call("GET", "/", NULL, NULL,
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n"
			"X-Head: h\r\n\r\n"
			"2\r\nok\r\n0\r\nX-T: t\r\nSet-Cookie: sid=late\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->error, GWD_PX_OK);
	CU_ASSERT_EQUAL(c->resp_len, 2);
	CU_ASSERT_PTR_NOT_NULL(resp_header(c, "x-head"));
	CU_ASSERT_PTR_NULL(resp_header(c, "x-t"));
	CU_ASSERT_PTR_NULL(resp_header(c, "set-cookie"));
	gwd_proxy_call_free(c);
	/* a 1xx head comes first and is forgotten; the final head counts */
	c = engine_call("GET", "/", NULL, NULL,
			"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Final: 1\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->status, 200);
	CU_ASSERT_PTR_NULL(resp_header(c, "link"));
	CU_ASSERT_PTR_NOT_NULL(resp_header(c, "x-final"));
	gwd_proxy_call_free(c);
}

/* The upstream sees the client's headers, not libcurl's inventions: no
 * Content-Type for a body without one, the client's own when it sent one,
 * and no Expect: 100-continue (the client already sent the whole body). */
static void test_engine_request_headers(void)
{
	static const char *const json[] = { "Content-Type: application/json", NULL };
	static char big[1100000];
	struct gwd_proxy_call *c;

	engine_upstream(1, 0);
	c = engine_call("DELETE", "/item/1", NULL, NULL,
			"HTTP/1.1 204 No Content\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->status, 204);
	CU_ASSERT(strncmp(srv.req, "DELETE /item/1 HTTP/1.1\r\n", 25) == 0);
	CU_ASSERT_PTR_NULL(strcasestr(srv.req, "content-type"));
	gwd_proxy_call_free(c);
	c = engine_call("POST", "/item", json, "{}", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->status, 201);
	CU_ASSERT_PTR_NOT_NULL(strstr(srv.req, "\r\nContent-Type: application/json\r\n"));
	CU_ASSERT_PTR_NULL(strcasestr(srv.req, "x-www-form-urlencoded"));
	CU_ASSERT(srv.req_len > 2 && memcmp(srv.req + srv.req_len - 2, "{}", 2) == 0);
	gwd_proxy_call_free(c);
	memset(big, 'a', sizeof big - 1);
	c = engine_call("PUT", "/big", NULL, big, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->status, 200);
	CU_ASSERT_PTR_NULL(strcasestr(srv.req, "expect:"));
	gwd_proxy_call_free(c);
}

/* A request target with CR, LF, space or another control byte would split
 * the upstream request: refused before anything is sent. */
static void test_engine_bad_target(void)
{
	struct gwd_proxy_call *c;

	engine_upstream(1, 0);
	c = engine_call("GET", "/a HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET /b", NULL, NULL,
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->error, GWD_PX_INTERNAL);
	CU_ASSERT_EQUAL(atomic_load(&srv.nconn), 0);
	CU_ASSERT_EQUAL(atomic_load(&tgt[0].active), 0);
	gwd_proxy_call_free(c);
}

/* A head larger than the call keeps is an answer, not a failing target: 502
 * without a retry, and the circuit breaker does not count it (a client that
 * can make the upstream reflect its input into headers must not be able to
 * eject healthy targets). */
static void test_engine_head_overflow(void)
{
	static char resp[GWD_PCALL_HDRBUF + 4096];
	struct gwd_proxy_call *c;
	size_t o;

	o = (size_t)snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
	while (o + 100 < sizeof resp - 4)
		o += (size_t)snprintf(resp + o, sizeof resp - o, "X-Pad-%zu: %080d\r\n", o, 0);
	memcpy(resp + o, "\r\n", 3);
	engine_upstream(2, 1);
	up.cfg.cb_failures = 1;
	c = engine_call("GET", "/", NULL, NULL, resp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->error, GWD_PX_REFUSED);
	CU_ASSERT_EQUAL(atomic_load(&srv.nconn), 1);
	CU_ASSERT_EQUAL(atomic_load(&tgt[0].failures) + atomic_load(&tgt[1].failures), 0);
	CU_ASSERT_TRUE(gwd_upstream_target_available(&tgt[0], 1) && gwd_upstream_target_available(&tgt[1], 1));
	gwd_proxy_call_free(c);
}

/* The upstream's Connection header names fields that are hop-by-hop: a list
 * too long to keep must not let one of them through unnoticed. */
static void test_engine_connection_tokens(void)
{
	static char resp[4096];
	struct gwd_proxy_call *c;
	size_t o;

	o = (size_t)snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: ");
	for (int i = 0; i < 40; i++)
		o += (size_t)snprintf(resp + o, sizeof resp - o, "x-hop-%02d, ", i);
	snprintf(resp + o, sizeof resp - o, "x-secret\r\nX-Secret: internal\r\n\r\n");
	engine_upstream(1, 0);
	c = engine_call("GET", "/", NULL, NULL, resp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* either refused, or the list kept whole for the consumer to filter */
	CU_ASSERT(c->error != GWD_PX_OK || strstr(c->conn_tokens, "x-secret") != NULL);
	gwd_proxy_call_free(c);
}

/* Retries: a refused connection on an idempotent request moves to the next
 * target, counted once per attempt on the target that failed. */
static void test_engine_retry(void)
{
	struct gwd_proxy_call *c;

	engine_upstream(2, 1);
	snprintf(tgt[0].hostport, sizeof tgt[0].hostport, "127.0.0.1:1"); /* refused */
	atomic_store(&up.rr, 0);
	c = engine_call("GET", "/", NULL, NULL, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->error, GWD_PX_OK);
	CU_ASSERT_EQUAL(c->target, 1);
	CU_ASSERT_EQUAL(atomic_load(&tgt[0].failures), 1);
	CU_ASSERT_EQUAL(atomic_load(&tgt[0].requests), 1);
	CU_ASSERT_EQUAL(atomic_load(&tgt[1].requests), 1);
	CU_ASSERT_EQUAL(atomic_load(&tgt[0].active) + atomic_load(&tgt[1].active), 0);
	CU_ASSERT_EQUAL(atomic_load(&up.dur_count), 1);
	gwd_proxy_call_free(c);
}

/* Submissions racing with gwd_proxy_stop(): a call accepted by submit (0)
 * always gets its done(), and none after stop returned. */
struct race {
	_Atomic unsigned accepted, done, late;
	_Atomic int stopped;
};

static void race_done(struct gwd_proxy_call *c, void *arg)
{
	struct race *r = arg;

	(void)c;
	if (atomic_load(&r->stopped))
		atomic_fetch_add(&r->late, 1);
	atomic_fetch_add(&r->done, 1);
}

static void *race_submitter(void *arg)
{
	struct race *r = arg;
	struct gwd_proxy_call *mine[256];
	unsigned n = 0;

	while (n < 256) {
		struct gwd_proxy_call *c = gwd_proxy_call_new();

		if (!c)
			break;
		c->u = &up;
		c->method = "GET";
		c->path = "/";
		c->max_resp_body = 1024;
		c->done = race_done;
		c->arg = r;
		if (gwd_proxy_submit(c) != 0) {
			gwd_proxy_call_free(c);
			break;
		}
		atomic_fetch_add(&r->accepted, 1);
		mine[n++] = c;
	}
	/* every call of ours ended (done ran) once stop returned */
	while (!atomic_load(&r->stopped))
		usleep(100);
	for (unsigned i = 0; i < n; i++)
		gwd_proxy_call_free(mine[i]);
	return NULL;
}

static void test_engine_stop_race(void)
{
	for (int round = 0; round < 20; round++) {
		struct race r = { 0 };
		pthread_t th[4];

		engine_upstream(1, 0);
		snprintf(tgt[0].hostport, sizeof tgt[0].hostport, "127.0.0.1:1");
		CU_ASSERT_EQUAL_FATAL(gwd_proxy_start(2), 0);
		for (int i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, race_submitter, &r);
		usleep((useconds_t)(round * 150));
		gwd_proxy_stop();
		atomic_store(&r.stopped, 1);
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(atomic_load(&r.done), atomic_load(&r.accepted));
		CU_ASSERT_EQUAL(atomic_load(&r.late), 0);
	}
	CU_ASSERT_EQUAL(gwd_proxy_start(2), 0); /* for engine_fini */
}

/* A body larger than the call's buffer streams: done() runs at the head with
 * <streaming> set and the Content-Length, and gwd_proxy_call_read hands over
 * every byte in order through the bounded ring (the upstream paused and
 * resumed on the way), then the end. */
static void test_engine_stream(void)
{
	const size_t blen = 3 * GWD_PCALL_BUF + 12345;
	char *resp = malloc(blen + 128), buf[16384];
	struct gwd_proxy_call *c;
	size_t total = 0, bad = 0;
	long n = 0;
	int h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	h = sprintf(resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", blen);
	for (size_t i = 0; i < blen; i++)
		resp[h + i] = (char)('a' + i % 26);
	resp[h + blen] = '\0';
	engine_upstream(1, 0);
	c = engine_call("GET", "/big", NULL, NULL, resp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->error, GWD_PX_OK);
	CU_ASSERT_TRUE(c->streaming);
	CU_ASSERT_EQUAL(c->content_length, (int64_t)blen);
	for (int spins = 0; spins < 2000;) {
		unsigned seen;

		pthread_mutex_lock(&datq.mu);
		seen = datq.n;
		pthread_mutex_unlock(&datq.mu);
		n = gwd_proxy_call_read(c, buf, sizeof buf);
		if (n > 0) {
			for (long i = 0; i < n; i++)
				bad += buf[i] != (char)('a' + (total + (size_t)i) % 26);
			total += (size_t)n;
			continue;
		}
		if (n != GWD_PCALL_WAIT)
			break;
		/* wait for on_data (or 10 ms: a wake-up between the read and
		 * here was counted in <datq.n>) */
		pthread_mutex_lock(&datq.mu);
		if (datq.n == seen) {
			struct timespec dl;

			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += 10000000;
			if (dl.tv_nsec >= 1000000000) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&datq.cv, &datq.mu, &dl);
		}
		pthread_mutex_unlock(&datq.mu);
		spins++;
	}
	CU_ASSERT_EQUAL(n, GWD_PCALL_EOF);
	CU_ASSERT_EQUAL(total, blen);
	CU_ASSERT_EQUAL(bad, 0);
	gwd_proxy_call_release(c);
	free(resp);
}

int gw_suite_gwd_proxy(void)
{
	CU_pSuite s = CU_add_suite("gwd/proxy", NULL, NULL);
	CU_pSuite e = CU_add_suite("gwd/proxy: engine", engine_init, engine_fini);

	if (!s || !e)
		return -1;
	CU_add_test(s, "proxy path encoding", test_encode_path);
	CU_add_test(s, "hop-by-hop header names", test_hop_headers);
	CU_add_test(e, "a plain exchange", test_engine_basic);
	CU_add_test(e, "upstream header names", test_engine_header_names);
	CU_add_test(e, "trailers and 1xx heads", test_engine_trailers);
	CU_add_test(e, "request headers libcurl would add", test_engine_request_headers);
	CU_add_test(e, "request target with CR LF", test_engine_bad_target);
	CU_add_test(e, "oversized head", test_engine_head_overflow);
	CU_add_test(e, "long Connection list", test_engine_connection_tokens);
	CU_add_test(e, "retry on another target", test_engine_retry);
	CU_add_test(e, "submit racing stop", test_engine_stop_race);
	CU_add_test(e, "a large body streams through the ring", test_engine_stream);
	return 0;
}
