/* The proxy engine: one thread, one libcurl multi handle, every upstream
 * exchange of the process (see proxy.h for the flow).
 *
 * Why one thread: libcurl's multi interface drives thousands of transfers
 * from one loop, keeps the connection pool in the multi handle (so keep-alive
 * connections are shared by all requests), and a pool thread of
 * libmicrohttpd must never block on an upstream.
 */
#include "gwd/proxy.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_POLL_FDS 1024 /* client sockets watched for hang-up per loop */

static struct {
	CURLM *multi;
	pthread_t thread;
	_Atomic int live; /* the engine thread should run */
	_Atomic unsigned submitting; /* gwd_proxy_submit calls between their check
	                                of <live> and their wake-up: stop waits
	                                for them before draining <inbox> */
	_Atomic(struct gwd_pcall *) inbox; /* lock-free stack of submitted calls */
	struct gwd_pcall *running;         /* engine thread only */
	int started;
} eng;

static void run_add(struct gwd_pcall *c)
{
	c->rprev = NULL;
	c->rnext = eng.running;
	if (eng.running)
		eng.running->rprev = c;
	eng.running = c;
}

static void run_del(struct gwd_pcall *c)
{
	if (c->rprev)
		c->rprev->rnext = c->rnext;
	else if (eng.running == c)
		eng.running = c->rnext;
	if (c->rnext)
		c->rnext->rprev = c->rprev;
	c->rnext = c->rprev = NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int gwd_proxy_hop_header(const char *name, size_t len)
{
	static const char *const hop[] = {
		"connection", "keep-alive", "te", "trailer", "transfer-encoding",
		"upgrade", "content-length", "host", "expect", "proxy-connection",
	};

	if (len >= 6 && strncasecmp(name, "proxy-", 6) == 0)
		return 1;
	for (size_t i = 0; i < sizeof hop / sizeof *hop; i++)
		if (strlen(hop[i]) == len && strncasecmp(hop[i], name, len) == 0)
			return 1;
	return 0;
}

long gwd_proxy_encode_path(const char *s, size_t len, int keep_slash, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		/* RFC 3986 pchar: unreserved / sub-delims / ":" / "@", but for
		 * ';': Tomcat, Jetty and Spring cut a segment's ";params" off
		 * (and take "..;x" for ".."), while the matcher saw the whole
		 * segment; encoded, it is data to them too. */
		int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			    (ch >= '0' && ch <= '9') || strchr("-._~!$&'()*+,=:@", ch) ||
			    (ch == '/' && keep_slash);

		if (ch == 0)
			plain = 0;
		if (plain) {
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)ch;
		} else {
			if (o + 3 >= cap)
				return -1;
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (o >= cap)
		return -1;
	out[o] = '\0';
	return (long)o;
}

struct gwd_pcall *gwd_pcall_new(void)
{
	struct gwd_pcall *c = calloc(1, sizeof *c);

	if (c) {
		c->client_fd = -1;
		c->target = -1;
	}
	return c;
}

void gwd_pcall_free(struct gwd_pcall *c)
{
	if (!c)
		return;
	/* finish() already let the easy handle go; one is left only when the
	 * call never ran */
	if (c->easy)
		curl_easy_cleanup(c->easy);
	free(c->resp_body);
	free(c);
}

int gwd_pcall_header(const struct gwd_pcall *c, size_t *pos, const char **name,
		     const char **value)
{
	size_t p = *pos;

	if (p >= c->hdrlen)
		return 0;
	*name = c->hdrbuf + p;
	p += strlen(*name) + 1;
	*value = c->hdrbuf + p;
	p += strlen(*value) + 1;
	*pos = p;
	return 1;
}

/* ---- libcurl callbacks (engine thread) ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct gwd_pcall *c = arg;
	size_t len = size * n;

	if (c->head)
		return len;
	if (c->resp_len + len > c->max_resp_body) {
		c->error = GWD_PX_TOO_BIG;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (c->resp_len + len > c->resp_cap) {
		size_t cap = c->resp_cap ? c->resp_cap * 2 : 16384;
		char *nb;

		while (cap < c->resp_len + len)
			cap *= 2;
		if (cap > c->max_resp_body)
			cap = c->max_resp_body;
		nb = realloc(c->resp_body, cap);
		if (!nb) {
			c->error = GWD_PX_INTERNAL;
			return 0;
		}
		c->resp_body = nb;
		c->resp_cap = cap;
	}
	memcpy(c->resp_body + c->resp_len, p, len);
	c->resp_len += len;
	return len;
}

/* Whether <ch> may appear in a field name (RFC 9110 5.6.2 tchar). */
static int tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Whether the <n> bytes at <p> may be a field value: no control byte but
 * HTAB (so no CR, LF or NUL), no DEL (RFC 9110 5.5). */
static int value_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* Header lines arrive one per call, for every response (1xx included), and
 * then the trailer lines of a chunked body: a status line opens a head, its
 * empty line closes it, and only the fields of the final (non-1xx) head are
 * kept -- trailer fields are never merged into it (RFC 9110 6.5.1).  Lines
 * that are not a well-formed field (a name that is no token, a control byte
 * in the value, obs-fold) are dropped, so that nothing an upstream sends
 * can break the response head we build from these fields.  Returns the
 * bytes consumed (always all: a bad line is dropped, not fatal). */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct gwd_pcall *c = arg;
	size_t len = size * n, nlen, vstart, vend;
	const char *colon;

	if (c->in_headers == 0) {
		const char *sp = memchr(p, ' ', len);

		if (len < 5 || memcmp(p, "HTTP/", 5) != 0)
			return size * n; /* libcurl sends a status line first */
		c->hdrlen = 0;
		c->head_overflow = 0;
		c->conn_tokens[0] = '\0';
		c->in_headers = sp && (size_t)(sp - p) + 1 < len && sp[1] == '1' ? 2 : 1;
		return size * n;
	}
	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len == 0) {
		/* a 1xx head ends: the next status line opens another; the
		 * final head ends: what follows are trailers */
		c->in_headers = c->in_headers == 2 ? 0 : 3;
		return size * n;
	}
	if (c->in_headers != 1)
		return size * n; /* a 1xx head's field, or a trailer */
	colon = memchr(p, ':', len);
	if (!colon || colon == p)
		return size * n; /* libcurl validated framing; skip oddities */
	nlen = (size_t)(colon - p);
	for (size_t i = 0; i < nlen; i++)
		if (!tchar((unsigned char)p[i]))
			return size * n; /* obs-fold (leading white space) too */
	vstart = nlen + 1;
	while (vstart < len && (p[vstart] == ' ' || p[vstart] == '\t'))
		vstart++;
	vend = len;
	while (vend > vstart && (p[vend - 1] == ' ' || p[vend - 1] == '\t'))
		vend--;
	if (!value_ok(p + vstart, vend - vstart))
		return size * n;
	if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
		size_t have = strlen(c->conn_tokens), add = vend - vstart;

		if (have + add + 2 < sizeof c->conn_tokens) {
			if (have)
				c->conn_tokens[have++] = ',';
			memcpy(c->conn_tokens + have, p + vstart, add);
			c->conn_tokens[have + add] = '\0';
		} else {
			/* a field it names could pass as end-to-end: the head
			 * cannot be relayed faithfully */
			c->head_overflow = 1;
		}
	}
	if (gwd_proxy_hop_header(p, nlen))
		return size * n;
	if (c->hdrlen + nlen + 1 + (vend - vstart) + 1 > sizeof c->hdrbuf) {
		c->head_overflow = 1;
		return size * n;
	}
	memcpy(c->hdrbuf + c->hdrlen, p, nlen);
	c->hdrlen += nlen;
	c->hdrbuf[c->hdrlen++] = '\0';
	memcpy(c->hdrbuf + c->hdrlen, p + vstart, vend - vstart);
	c->hdrlen += vend - vstart;
	c->hdrbuf[c->hdrlen++] = '\0';
	return size * n;
}

/* ---- the engine ---- */

static void observe(struct gwd_pcall *c, unsigned code)
{
	struct gwd_upstream_state *u = c->u;
	static const double bounds[GWD_UP_NBUCKETS] = {
		0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
	};
	double s;
	unsigned b;

	c->t_end_ns = now_ns();
	if (!u)
		return;
	if (code < 600)
		atomic_fetch_add_explicit(&u->codes[code], 1, memory_order_relaxed);
	s = (double)(c->t_end_ns - c->t_start_ns) / 1e9;
	for (b = 0; b < GWD_UP_NBUCKETS && s > bounds[b]; b++)
		;
	atomic_fetch_add_explicit(&u->dur_bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&u->dur_sum_us, (c->t_end_ns - c->t_start_ns) / 1000,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&u->dur_count, 1, memory_order_relaxed);
}

/* End call <c> with <error>: account it, let go of its easy handle (out of
 * the multi handle by now; the call itself is the submitter's, and would
 * take the handle with it to gwd_pcall_free otherwise, on another thread),
 * and run done() last -- <c> may be freed as soon as it starts. */
static void finish(struct gwd_pcall *c, int error)
{
	static const unsigned code_of[] = {0, 502, 504, 502, 503, 499, 500};

	c->error = error;
	observe(c, error == GWD_PX_OK ? (unsigned)c->status : code_of[error]);
	if (c->easy) {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
	}
	c->done(c, c->arg);
}

/* Whether <c>'s method, request target and header lines can go on the wire
 * as they are: libcurl copies them into the request head verbatim, so a CR
 * or LF in any of them (or a space or control byte in the target) would
 * split the upstream request.  The pool thread builds them from what the
 * client sent: a bug there must not become request smuggling.  1 or 0. */
static int request_ok(const struct gwd_pcall *c)
{
	const unsigned char *p = (const unsigned char *)c->path;

	if (!c->method || !*c->method || !p || *p == '\0')
		return 0;
	for (const char *m = c->method; *m; m++)
		if (!tchar((unsigned char)*m))
			return 0;
	for (; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return 0;
	for (const struct curl_slist *h = c->headers; h; h = h->next)
		if (!h->data || strpbrk(h->data, "\r\n"))
			return 0;
	return 1;
}

/* Start (or restart, for a retry) <c> on a newly picked target.  Returns 0
 * when the transfer is running, -1 when <c> was finished instead. */
static int launch(struct gwd_pcall *c)
{
	static char no_expect[] = "Expect:", no_ctype[] = "Content-Type:";
	struct gwd_upstream_state *u = c->u;
	int t;
	CURL *e;

	if (!request_ok(c)) {
		finish(c, GWD_PX_INTERNAL);
		return -1;
	}
	t = gwd_upstream_pick(u, c->hash_key, c->hash_keylen, c->tried, c->ntried, now_ns());
	if (t < 0) {
		c->retry_after = gwd_upstream_retry_after(u, now_ns());
		finish(c, c->ntried ? c->error : GWD_PX_NO_TARGET);
		return -1;
	}
	c->target = t;
	if (c->ntried < GWD_PCALL_MAX_TRIES)
		c->tried[c->ntried++] = (uint32_t)t;
	atomic_fetch_add_explicit(&u->t[t].active, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&u->t[t].requests, 1, memory_order_relaxed);
	c->resp_len = 0;
	c->hdrlen = 0;
	c->conn_tokens[0] = '\0';
	c->head_overflow = 0;
	c->in_headers = 0;
	c->error = GWD_PX_OK;
	snprintf(c->url, sizeof c->url, "http://%s", u->t[t].hostport);

	e = c->easy ? c->easy : curl_easy_init();
	if (!e) {
		atomic_fetch_sub_explicit(&u->t[t].active, 1, memory_order_relaxed);
		finish(c, GWD_PX_INTERNAL);
		return -1;
	}
	c->easy = e;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	/* The path is already encoded: CURLOPT_REQUEST_TARGET sends it as is,
	 * the URL only names scheme and authority. */
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, c->path);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(u->cfg.connect_timeout_ms ? u->cfg.connect_timeout_ms : 1000));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(u->cfg.timeout_ms ? u->cfg.timeout_ms : 30000));
	/* Empty "Name:" lines only stop libcurl from adding its own field
	 * (they are not sent), and a later line of the same name is still
	 * sent: no Expect: 100-continue (the whole body is here already, and
	 * libcurl would wait a second for the 100), and no made-up
	 * Content-Type: application/x-www-form-urlencoded for a body the
	 * client sent without one. */
	c->pre[0].data = no_expect;
	c->pre[0].next = &c->pre[1];
	c->pre[1].data = no_ctype;
	c->pre[1].next = c->headers;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, &c->pre[0]);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
	if (c->head) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(c->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		/* A body, even empty, for every other method: Content-Length is then
		 * always sent by libcurl, never copied from the client. */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	}
	if (curl_multi_add_handle(eng.multi, e) != CURLM_OK) {
		atomic_fetch_sub_explicit(&u->t[t].active, 1, memory_order_relaxed);
		finish(c, GWD_PX_INTERNAL);
		return -1;
	}
	run_add(c);
	return 0;
}

/* A transfer ended with <rc>: account it, retry when allowed, or finish. */
static void ended(struct gwd_pcall *c, CURLcode rc)
{
	struct gwd_upstream_state *u = c->u;
	int t = c->target, err = GWD_PX_OK, upstream_fault = 0;
	uint64_t now = now_ns();

	curl_multi_remove_handle(eng.multi, c->easy);
	run_del(c);
	atomic_fetch_sub_explicit(&u->t[t].active, 1, memory_order_relaxed);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
		/* The target answered, with a head we cannot relay: 502, but
		 * neither a failure of the target (the head may reflect what the
		 * client sent, and a client must not eject targets) nor a reason
		 * to send the request again. */
		if (c->head_overflow)
			err = GWD_PX_REFUSED;
	} else if (c->error == GWD_PX_TOO_BIG || c->error == GWD_PX_INTERNAL) {
		err = c->error;
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		err = GWD_PX_TIMEOUT;
		upstream_fault = 1;
	} else {
		err = GWD_PX_REFUSED;
		upstream_fault = 1;
	}
	gwd_upstream_done(u, (uint32_t)t, !upstream_fault, now);
	/* Retry on another target only for idempotent methods, only for
	 * failures where the upstream did not answer, and never after a timeout
	 * (the request may still be running there and the client has waited). */
	if (err == GWD_PX_REFUSED && upstream_fault && c->idempotent && c->ntried <= u->cfg.retries &&
	    c->ntried < GWD_PCALL_MAX_TRIES && c->ntried < u->n) {
		c->error = err;
		launch(c);
		return;
	}
	finish(c, err);
}

static void cancel_hung_up(struct pollfd *pfds, struct gwd_pcall **owner, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct gwd_pcall *c = owner[i];

		if (!(pfds[i].revents & (POLLRDHUP | POLLHUP | POLLERR)))
			continue;
		curl_multi_remove_handle(eng.multi, c->easy);
		run_del(c);
		atomic_fetch_sub_explicit(&c->u->t[c->target].active, 1, memory_order_relaxed);
		finish(c, GWD_PX_CANCELLED);
	}
}

static void *engine(void *arg)
{
	static struct pollfd pfds[MAX_POLL_FDS];
	static struct gwd_pcall *owner[MAX_POLL_FDS];
	(void)arg;

	while (atomic_load(&eng.live)) {
		struct gwd_pcall *in = atomic_exchange(&eng.inbox, NULL), *rev = NULL;
		int still, nmsg;
		unsigned npfd = 0;
		CURLMsg *m;

		/* The stack pops newest first: reverse for submission order. */
		while (in) {
			struct gwd_pcall *next = in->next;

			in->next = rev;
			rev = in;
			in = next;
		}
		while (rev) {
			struct gwd_pcall *next = rev->next;

			rev->next = NULL;
			rev->t_start_ns = now_ns();
			launch(rev);
			rev = next;
		}
		curl_multi_perform(eng.multi, &still);
		while ((m = curl_multi_info_read(eng.multi, &nmsg))) {
			struct gwd_pcall *c = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			ended(c, m->data.result);
		}
		/* Watch the clients of running transfers for hang-up. */
		for (struct gwd_pcall *c = eng.running; c && npfd < MAX_POLL_FDS; c = c->rnext) {
			if (c->client_fd < 0)
				continue;
			pfds[npfd].fd = c->client_fd;
			pfds[npfd].events = POLLRDHUP;
			pfds[npfd].revents = 0;
			owner[npfd++] = c;
		}
		curl_multi_poll(eng.multi, NULL, 0, npfd ? 100 : 1000, NULL);
		if (npfd && poll(pfds, npfd, 0) > 0)
			cancel_hung_up(pfds, owner, npfd);
	}
	return NULL;
}

int gwd_proxy_start(void)
{
	if (eng.started)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	eng.multi = curl_multi_init();
	if (!eng.multi)
		return -1;
	/* Keep-alive pool: enough idle connections for every target's cap. */
	curl_multi_setopt(eng.multi, CURLMOPT_MAXCONNECTS, 1024L);
	atomic_store(&eng.live, 1);
	if (pthread_create(&eng.thread, NULL, engine, NULL) != 0) {
		atomic_store(&eng.live, 0);
		curl_multi_cleanup(eng.multi);
		eng.multi = NULL;
		return -1;
	}
	eng.started = 1;
	return 0;
}

void gwd_proxy_stop(void)
{
	struct gwd_pcall *c;

	if (!eng.started)
		return;
	atomic_store(&eng.live, 0);
	curl_multi_wakeup(eng.multi);
	pthread_join(eng.thread, NULL);
	/* A submitter that saw <live> before it dropped may still be pushing
	 * its call: wait for it, so that the drain below finds the call and
	 * its wake-up does not meet a freed multi handle. */
	while (atomic_load(&eng.submitting))
		sched_yield();
	/* What is still running or waiting ends now, with its done() called. */
	while ((c = eng.running)) {
		curl_multi_remove_handle(eng.multi, c->easy);
		run_del(c);
		atomic_fetch_sub_explicit(&c->u->t[c->target].active, 1, memory_order_relaxed);
		finish(c, GWD_PX_INTERNAL);
	}
	for (c = atomic_exchange(&eng.inbox, NULL); c;) {
		struct gwd_pcall *next = c->next;

		finish(c, GWD_PX_INTERNAL);
		c = next;
	}
	curl_multi_cleanup(eng.multi);
	eng.multi = NULL;
	eng.started = 0;
}

int gwd_proxy_submit(struct gwd_pcall *c)
{
	struct gwd_pcall *head;

	/* Announce ourselves before looking at <live> (both sequentially
	 * consistent, as gwd_proxy_stop's store and load): either we see the
	 * engine stopping and back out, or stop sees us and waits. */
	atomic_fetch_add(&eng.submitting, 1);
	if (!atomic_load(&eng.live)) {
		atomic_fetch_sub(&eng.submitting, 1);
		return -1;
	}
	head = atomic_load_explicit(&eng.inbox, memory_order_relaxed);
	do
		c->next = head;
	while (!atomic_compare_exchange_weak_explicit(&eng.inbox, &head, c, memory_order_release,
						      memory_order_relaxed));
	curl_multi_wakeup(eng.multi);
	atomic_fetch_sub(&eng.submitting, 1);
	return 0;
}
