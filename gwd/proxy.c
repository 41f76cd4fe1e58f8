/* The proxy engines: one thread per libmicrohttpd pool thread, each with its
 * own epoll set and libcurl multi handle (see proxy.h for the flow).
 *
 * Why so: libcurl's multi interface drives thousands of transfers from one
 * loop (curl_multi_socket_action: the work per event does not grow with the
 * transfers in flight), keeps the keep-alive pool in the multi handle, and a
 * pool thread of libmicrohttpd must never block on an upstream.  One engine
 * per pool thread, each pool thread always submitting to the same one, means
 * no two pool threads share an inbox, and the engines share nothing but the
 * upstream counters (atomics).  Easy handles are recycled per engine:
 * curl_easy_init and its 10 KiB of zeroing per request showed in profiles.
 */
#include "gwd/proxy.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "gwd/clock.h"
#include "gwd/upstream_tls.h"
#include "lib/http.h"

#define MAX_POLL_FDS 1024  /* client sockets watched for hang-up per scan */
#define MAX_ENGINES 64     /* engine threads at most (one per pool thread) */
#define EASY_POOL 256      /* idle easy handles kept per engine */
#define HANGUP_SCAN_MS 50  /* how often running calls' clients are polled */
#define MAX_EVENTS 128

/* One engine: a thread, its epoll set, its libcurl multi handle (and so its
 * own keep-alive pool), and the calls it runs.  Every field but <inbox>,
 * <asleep> and <wakefd> belongs to the engine's thread alone. */
struct engine {
	CURLM *multi;
	CURLSH *share;                     /* TLS sessions of this engine's handles */
	pthread_t thread;
	int epfd;
	int wakefd;                        /* eventfd: submissions and stop */
	_Atomic int asleep;                /* in (or about to enter) epoll_wait */
	_Atomic(struct gwd_proxy_call *) inbox; /* lock-free stack of submitted calls */
	_Atomic(struct gwd_proxy_call *) kicks; /* streaming calls a reader poked */
	struct gwd_proxy_call *running;
	struct gwd_proxy_call *hready;          /* heads complete, not yet handed over */
	int64_t timer_ns;                  /* libcurl's timeout, -1: none */
	uint64_t next_scan_ns;             /* next hang-up scan */
	CURL *idle[EASY_POOL];             /* easy handles between transfers */
	unsigned nidle;
	struct pollfd pfds[MAX_POLL_FDS];
	struct gwd_proxy_call *owner[MAX_POLL_FDS];
	struct epoll_event evs[MAX_EVENTS];
};

static struct {
	struct engine *e;
	unsigned n;
	_Atomic int live; /* the engine threads should run */
	_Atomic unsigned submitting; /* gwd_proxy_submit calls between their check
	                                of <live> and their wake-up: stop waits
	                                for them before draining the inboxes */
	_Atomic unsigned next;       /* hands engines to submitting threads */
	int started;
} eng;

/* The bytes of <c>'s rings, each direction: its upstream's `buffer`, or
 * GWD_PCALL_BUF; a power of two. */
static inline size_t ring_size(const struct gwd_proxy_call *c)
{
	return c->u && c->u->cfg.buffer ? c->u->cfg.buffer : GWD_PCALL_BUF;
}

static void run_add(struct engine *g, struct gwd_proxy_call *c)
{
	c->rprev = NULL;
	c->rnext = g->running;
	if (g->running)
		g->running->rprev = c;
	g->running = c;
}

static void run_del(struct engine *g, struct gwd_proxy_call *c)
{
	if (c->rprev)
		c->rprev->rnext = c->rnext;
	else if (g->running == c)
		g->running = c->rnext;
	if (c->rnext)
		c->rnext->rprev = c->rprev;
	c->rnext = c->rprev = NULL;
}

static void hready_add(struct engine *g, struct gwd_proxy_call *c)
{
	if (c->in_hready)
		return;
	c->in_hready = 1;
	c->hprev = NULL;
	c->hnext = g->hready;
	if (g->hready)
		g->hready->hprev = c;
	g->hready = c;
}

static void hready_del(struct engine *g, struct gwd_proxy_call *c)
{
	if (!c->in_hready)
		return;
	if (c->hprev)
		c->hprev->hnext = c->hnext;
	else
		g->hready = c->hnext;
	if (c->hnext)
		c->hnext->hprev = c->hprev;
	c->hnext = c->hprev = NULL;
	c->in_hready = 0;
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

struct gwd_proxy_call *gwd_proxy_call_new(void)
{
	/* Only the fields ahead of the buffers are zeroed: <hdrbuf> is read
	 * up to <hdrlen>, and a 16 KiB memset per request was a tenth of a
	 * proxied request's instructions. */
	struct gwd_proxy_call *c = malloc(sizeof *c);

	if (c) {
		memset(c, 0, offsetof(struct gwd_proxy_call, hdrbuf));
		c->client_fd = -1;
		c->target = -1;
		c->content_length = -1;
		atomic_init(&c->refs, 1);
		pthread_mutex_init(&c->mu, NULL);
	}
	return c;
}

/* Free <c>: its last reference is gone. */
static void pcall_destroy(struct gwd_proxy_call *c)
{
	if (c->on_free)
		c->on_free(c->free_ctx, c->free_ctx2);
	/* finish() already let the easy handle go; one is left only when the
	 * call never ran */
	if (c->easy)
		curl_easy_cleanup(c->easy);
	pthread_mutex_destroy(&c->mu);
	free(c->ubuf);
	free(c->resp_body);
	free(c);
}

static void unref(struct gwd_proxy_call *c)
{
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		pcall_destroy(c);
}

void gwd_proxy_call_retain(struct gwd_proxy_call *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

static void kick(struct gwd_proxy_call *c);

void gwd_proxy_call_release(struct gwd_proxy_call *c)
{
	int cancel = 0;

	if (!c)
		return;
	if (c->eng_ref) {
		/* a transfer still running is aborted -- unless every byte its
		 * Content-Length announced is in already: then it is about to end
		 * on its own and its connection stays reusable */
		pthread_mutex_lock(&c->mu);
		if (!c->ended && !c->cancel &&
		    !(c->streaming && c->content_length >= 0 && c->w >= (uint64_t)c->content_length)) {
			c->cancel = 1;
			cancel = 1;
		}
		pthread_mutex_unlock(&c->mu);
		if (cancel)
			kick(c);
	}
	unref(c);
}

void gwd_proxy_call_free(struct gwd_proxy_call *c)
{
	gwd_proxy_call_release(c);
}

int gwd_proxy_call_wait(struct gwd_proxy_call *c, int what)
{
	int wait;

	pthread_mutex_lock(&c->mu);
	if (what == GWD_PW_RESULT)
		wait = !c->done_ran;
	else
		wait = !c->ended && ring_size(c) - (c->uw - c->urd) < ring_size(c) / 2;
	if (wait)
		c->pwait = (uint8_t)what;
	pthread_mutex_unlock(&c->mu);
	return wait;
}

long gwd_proxy_call_feed(struct gwd_proxy_call *c, const char *p, size_t n)
{
	size_t room, off, first;
	int poke = 0;

	if (!c->ubuf) {
		c->ubuf = malloc(ring_size(c));
		if (!c->ubuf)
			return -1;
	}
	pthread_mutex_lock(&c->mu);
	if (c->ended) {
		pthread_mutex_unlock(&c->mu);
		return (long)n;
	}
	room = ring_size(c) - (size_t)(c->uw - c->urd);
	if (n > room)
		n = room;
	if (n > LONG_MAX)
		n = LONG_MAX;
	off = (size_t)(c->uw % ring_size(c));
	first = ring_size(c) - off < n ? ring_size(c) - off : n;
	memcpy(c->ubuf + off, p, first);
	memcpy(c->ubuf, p + first, n - first);
	c->uw += n;
	if (n && c->up_paused && !c->up_unpause) {
		c->up_unpause = 1;
		poke = 1;
	}
	pthread_mutex_unlock(&c->mu);
	if (poke)
		kick(c);
	return (long)n;
}

void gwd_proxy_call_feed_end(struct gwd_proxy_call *c)
{
	int poke = 0;

	pthread_mutex_lock(&c->mu);
	c->up_eof = 1;
	if (c->up_paused && !c->up_unpause) {
		c->up_unpause = 1;
		poke = 1;
	}
	pthread_mutex_unlock(&c->mu);
	if (poke)
		kick(c);
}

void gwd_proxy_call_cancel(struct gwd_proxy_call *c)
{
	int poke = 0;

	pthread_mutex_lock(&c->mu);
	if (c->eng_ref && !c->ended && !c->cancel)
		c->cancel = poke = 1;
	pthread_mutex_unlock(&c->mu);
	if (poke)
		kick(c);
}

long gwd_proxy_call_read(struct gwd_proxy_call *c, char *out, size_t max)
{
	uint64_t avail;
	size_t n, off, first;
	int poke = 0;

	pthread_mutex_lock(&c->mu);
	avail = c->w - c->rd;
	if (avail == 0) {
		long rc = GWD_PCALL_WAIT;

		if (c->ended)
			rc = c->end_error == GWD_PX_OK ? GWD_PCALL_EOF : GWD_PCALL_CUT;
		else
			c->waiting = 1;
		pthread_mutex_unlock(&c->mu);
		return rc;
	}
	n = avail < max ? (size_t)avail : max;
	if (n > LONG_MAX)
		n = LONG_MAX;
	off = (size_t)(c->rd % c->resp_cap);
	first = c->resp_cap - off < n ? c->resp_cap - off : n;
	memcpy(out, c->resp_body + off, first);
	memcpy(out + first, c->resp_body, n - first);
	c->rd += n;
	/* room for any write libcurl may hand over (16 KiB at most): let the
	 * paused transfer go on */
	if (c->paused && !c->unpause && c->resp_cap - (c->w - c->rd) >= c->resp_cap / 2) {
		c->unpause = 1;
		poke = 1;
	}
	pthread_mutex_unlock(&c->mu);
	if (poke)
		kick(c);
	return (long)n;
}

int gwd_proxy_call_header(const struct gwd_proxy_call *c, size_t *pos, const char **name,
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

/* libcurl asks for the body of a call that must not be sent twice (POST,
 * PATCH): the submitter's bytes, read once. */
static size_t on_read_once(char *out, size_t size, size_t n, void *arg)
{
	struct gwd_proxy_call *c = arg;
	size_t got = c->body_len - c->body_sent;

	if (got > size * n)
		got = size * n;
	if (!got)
		return 0; /* also for no body at all (<body> NULL) */
	memcpy(out, c->body + c->body_sent, got);
	c->body_sent += got;
	return got;
}

/* libcurl wants to send a body again: on a kept connection found closed it
 * resends the request by itself.  Refused for a body that must not be sent
 * twice (and for a streamed one): libcurl then ends the transfer with
 * CURLE_SEND_FAIL_REWIND, a 502, rather than deliver it a second time. */
static int on_seek_refuse(void *arg, curl_off_t offset, int origin)
{
	(void)arg;
	(void)offset;
	(void)origin;
	return CURL_SEEKFUNC_CANTSEEK;
}

/* libcurl asks for request body bytes of an upload-streaming call: what the
 * pool thread fed, the end once the client's body is all in, or a pause
 * until more comes (gwd_proxy_call_feed kicks the engine).  Room made for a
 * connection waiting to feed resumes it. */
static size_t on_read(char *out, size_t size, size_t n, void *arg)
{
	struct gwd_proxy_call *c = arg;
	size_t max = size * n, got, off, first;
	void (*wake)(struct gwd_proxy_call *, void *) = NULL;
	void *warg = c->arg;

	pthread_mutex_lock(&c->mu);
	got = (size_t)(c->uw - c->urd);
	if (got == 0) {
		size_t rc = 0;

		if (!c->up_eof) {
			c->up_paused = 1;
			rc = CURL_READFUNC_PAUSE;
		}
		pthread_mutex_unlock(&c->mu);
		return rc;
	}
	if (got > max)
		got = max;
	off = (size_t)(c->urd % ring_size(c));
	first = ring_size(c) - off < got ? ring_size(c) - off : got;
	memcpy(out, c->ubuf + off, first);
	memcpy(out + first, c->ubuf, got - first);
	c->urd += got;
	if (c->pwait == GWD_PW_ROOM && ring_size(c) - (c->uw - c->urd) >= ring_size(c) / 2) {
		c->pwait = 0;
		wake = c->on_data;
	}
	pthread_mutex_unlock(&c->mu);
	c->last_ns = gwd_clock_ns();
	if (wake)
		wake(c, warg);
	return got;
}

/* The body as libcurl decodes it (16 KiB at most per call).  Before the
 * call streams, the engine alone touches the buffer: it fills it from 0 and
 * grows it up to ring_size().  Once it streams, the buffer is a ring shared
 * with the reader under <mu>.  Either way a write that does not fit pauses
 * the transfer (libcurl keeps the bytes and hands them over again once
 * unpaused): nothing buffers without bound. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct gwd_proxy_call *c = arg;
	size_t len = size * n, off, first;
	int wake;

	if (c->head)
		return len;
	c->last_ns = gwd_clock_ns();
	if (!c->streaming) {
		if (c->w + len > ring_size(c)) {
			c->paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
		if (c->w + len > c->resp_cap) {
			size_t cap = c->resp_cap ? c->resp_cap * 2 : 16384;
			char *nb;

			while (cap < c->w + len)
				cap *= 2;
			if (cap > ring_size(c))
				cap = ring_size(c);
			nb = realloc(c->resp_body, cap);
			if (!nb) {
				c->error = GWD_PX_INTERNAL;
				return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
			}
			c->resp_body = nb;
			c->resp_cap = cap;
		}
		memcpy(c->resp_body + c->w, p, len);
		c->w += len;
		c->resp_len = (size_t)c->w;
		return len;
	}
	pthread_mutex_lock(&c->mu);
	if (c->resp_cap - (c->w - c->rd) < len) {
		c->paused = 1;
		pthread_mutex_unlock(&c->mu);
		return CURL_WRITEFUNC_PAUSE;
	}
	off = (size_t)(c->w % c->resp_cap);
	first = c->resp_cap - off < len ? c->resp_cap - off : len;
	memcpy(c->resp_body + off, p, first);
	memcpy(c->resp_body, p + first, len - first);
	c->w += len;
	wake = c->waiting;
	c->waiting = 0;
	pthread_mutex_unlock(&c->mu);
	if (wake)
		c->on_data(c, c->arg);
	return len;
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
	struct gwd_proxy_call *c = arg;
	size_t len = size * n, nlen, vstart, vend;
	const char *colon;

	if (c->in_headers == 0) {
		const char *sp = memchr(p, ' ', len);

		if (len < 5 || memcmp(p, "HTTP/", 5) != 0)
			return size * n; /* libcurl sends a status line first */
		c->hdrlen = 0;
		c->head_overflow = 0;
		c->framing = 0;
		c->conn_tokens[0] = '\0';
		c->in_headers = sp && (size_t)(sp - p) + 1 < len && sp[1] == '1' ? 2 : 1;
		return size * n;
	}
	while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len == 0) {
		/* a 1xx head ends: the next status line opens another; the
		 * final head ends: what follows are trailers */
		if (c->in_headers == 1) {
			/* a head that cannot be relayed faithfully ends the
			 * transfer here (502, its connection discarded); so
			 * does one framed both ways (RFC 9112 6.3: a sign of
			 * a broken upstream or of request smuggling) */
			if (c->framing == 3)
				c->head_overflow = 1;
			if (c->head_overflow)
				return 0;
			c->head_done = 1;
			c->last_ns = gwd_clock_ns();
			hready_add(c->eng, c);
		}
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
		if (!gw_http_is_tchar((unsigned char)p[i]))
			return size * n; /* obs-fold (leading white space) too */
	vstart = nlen + 1;
	while (vstart < len && (p[vstart] == ' ' || p[vstart] == '\t'))
		vstart++;
	vend = len;
	while (vend > vstart && (p[vend - 1] == ' ' || p[vend - 1] == '\t'))
		vend--;
	if (!gw_http_is_field_value(p + vstart, vend - vstart))
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
	if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0)
		c->framing |= 1;
	if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0)
		c->framing |= 2;
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

static void observe(struct gwd_proxy_call *c, unsigned code)
{
	struct gwd_upstream_state *u = c->u;
	static const double bounds[GWD_UP_NBUCKETS] = {
		0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
	};
	double s;
	unsigned b;

	c->t_end_ns = gwd_clock_ns();
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

/* An easy handle for a transfer: an idle one of <g>'s, reset to libcurl's
 * defaults, or a new one.  NULL when memory runs out. */
static CURL *easy_get(struct engine *g)
{
	CURL *e;

	if (g->nidle == 0)
		return curl_easy_init();
	e = g->idle[--g->nidle];
	curl_easy_reset(e);
	return e;
}

/* Keep <e> (out of the multi handle) for the next transfer of <g>. */
static void easy_put(struct engine *g, CURL *e)
{
	if (g->nidle < EASY_POOL)
		g->idle[g->nidle++] = e;
	else
		curl_easy_cleanup(e);
}

/* End call <c> with <error>: account it, let go of its easy handle (out of
 * the multi handle by now; the call itself is the submitter's, and would
 * take the handle with it to gwd_proxy_call_free otherwise, on another thread),
 * and run done() last -- <c> may be freed as soon as it starts. */
static void finish(struct engine *g, struct gwd_proxy_call *c, int error)
{
	static const unsigned code_of[] = {0, 502, 504, 502, 503, 499, 500};
	int wake;

	hready_del(g, c);
	if (!c->streaming) {
		void (*done)(struct gwd_proxy_call *, void *) = c->done;
		void (*resume)(struct gwd_proxy_call *, void *) = NULL;
		void *arg = c->arg;
		int eng_ref = c->eng_ref;

		c->error = error;
		observe(c, error == GWD_PX_OK ? (unsigned)c->status : code_of[error]);
		if (c->up_stream && error == GWD_PX_CANCELLED)
			atomic_fetch_add_explicit(&c->u->aborted[1], 1, memory_order_relaxed);
		if (c->easy) {
			easy_put(g, c->easy);
			c->easy = NULL;
		}
		/* the connection waiting for the result (or for room to feed
		 * a body that will not be sent now) is resumed; unless the
		 * engine holds a reference, <c> may be freed as soon as it is */
		pthread_mutex_lock(&c->mu);
		c->done_ran = 1;
		c->ended = 1;
		c->end_error = error;
		if (c->pwait) {
			c->pwait = 0;
			resume = c->on_data;
		}
		pthread_mutex_unlock(&c->mu);
		if (resume)
			resume(c, arg);
		else if (done)
			done(c, arg);
		if (eng_ref)
			unref(c);
		return;
	}
	/* A streaming call: its head went out with the upstream's status; a
	 * failure now can only cut the response.  Counted by the side that
	 * ended it, and logged. */
	observe(c, (unsigned)c->status);
	if (c->easy) {
		easy_put(g, c->easy);
		c->easy = NULL;
	}
	if (error != GWD_PX_OK) {
		int client = error == GWD_PX_CANCELLED;

		atomic_fetch_add_explicit(&c->u->aborted[client], 1, memory_order_relaxed);
		if (!client)
			fprintf(stderr, "gwd: upstream %s target %s: %s after %llu body bytes: response cut\n",
				c->u->cfg.name.p, c->target >= 0 ? c->u->t[c->target].hostport : "-",
				error == GWD_PX_TIMEOUT ? "idle timeout" : "failed",
				(unsigned long long)c->w);
	}
	pthread_mutex_lock(&c->mu);
	c->ended = 1;
	c->end_error = error;
	wake = c->waiting;
	c->waiting = 0;
	pthread_mutex_unlock(&c->mu);
	if (wake)
		c->on_data(c, c->arg);
	unref(c); /* the engine's reference */
}

/* The final head of <c> is complete and the transfer goes on: hand the call
 * over as a stream (done() with <streaming> set).  The buffer becomes a ring
 * of ring_size() bytes; what arrived so far lies at its start. */
static void start_stream(struct engine *g, struct gwd_proxy_call *c)
{
	void (*resume)(struct gwd_proxy_call *, void *);
	curl_off_t cl = -1;

	if (c->resp_cap < ring_size(c)) {
		char *nb = realloc(c->resp_body, ring_size(c));

		if (!nb) {
			curl_multi_remove_handle(g->multi, c->easy);
			run_del(g, c);
			atomic_fetch_sub_explicit(&c->u->t[c->target].active, 1, memory_order_relaxed);
			finish(g, c, GWD_PX_INTERNAL);
			return;
		}
		c->resp_body = nb;
		c->resp_cap = ring_size(c);
	}
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
	if (curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0)
		c->content_length = cl;
	c->error = GWD_PX_OK;
	if (!c->eng_ref) {
		gwd_proxy_call_retain(c); /* the engine's, beside the request's */
		c->eng_ref = 1;
	}
	pthread_mutex_lock(&c->mu);
	c->streaming = 1;
	c->done_ran = 1;
	resume = c->pwait == GWD_PW_RESULT ? c->on_data : NULL;
	if (resume)
		c->pwait = 0;
	pthread_mutex_unlock(&c->mu);
	if (resume)
		resume(c, c->arg);
	else if (c->done && !c->up_stream)
		c->done(c, c->arg);
}

/* Hand over the calls whose head completed during this round and whose
 * transfer did not end in it (those were finished whole by reap). */
static void start_streams(struct engine *g)
{
	struct gwd_proxy_call *c;

	while ((c = g->hready)) {
		hready_del(g, c);
		start_stream(g, c);
	}
}

/* Whether <c>'s method, request target and header lines can go on the wire
 * as they are: libcurl copies them into the request head verbatim, so a CR
 * or LF in any of them (or a space or control byte in the target) would
 * split the upstream request.  The pool thread builds them from what the
 * client sent: a bug there must not become request smuggling.  1 or 0. */
static int request_ok(const struct gwd_proxy_call *c)
{
	const unsigned char *p = (const unsigned char *)c->path;

	if (!c->method || !*c->method || !p || *p == '\0')
		return 0;
	for (const char *m = c->method; *m; m++)
		if (!gw_http_is_tchar((unsigned char)*m))
			return 0;
	for (; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return 0;
	for (const struct curl_slist *h = c->headers; h; h = h->next)
		if (!h->data || strpbrk(h->data, "\r\n"))
			return 0;
	return 1;
}

/* Pick a target for <c>'s next try and reset what a try fills.  Returns the
 * target, or -1 when <c> was finished instead (a bad request, a client gone,
 * no target). */
static int pick(struct engine *g, struct gwd_proxy_call *c)
{
	struct gwd_upstream_state *u = c->u;
	int t;

	if (!request_ok(c)) {
		finish(g, c, GWD_PX_INTERNAL);
		return -1;
	}
	pthread_mutex_lock(&c->mu);
	t = c->cancel;
	pthread_mutex_unlock(&c->mu);
	if (t) {
		finish(g, c, GWD_PX_CANCELLED); /* the client left before it started */
		return -1;
	}
	t = gwd_upstream_pick(u, c->hash_key, c->hash_keylen, c->tried, c->ntried, gwd_clock_ns());
	if (t < 0) {
		c->retry_after = gwd_upstream_retry_after(u, gwd_clock_ns());
		finish(g, c, c->ntried ? c->error : GWD_PX_NO_TARGET);
		return -1;
	}
	c->target = t;
	if (c->ntried < GWD_PCALL_MAX_TRIES)
		c->tried[c->ntried++] = (uint32_t)t;
	atomic_fetch_add_explicit(&u->t[t].active, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&u->t[t].requests, 1, memory_order_relaxed);
	c->resp_len = 0;
	c->w = c->rd = 0;
	c->paused = 0;
	c->head_done = 0;
	c->last_ns = gwd_clock_ns();
	c->hdrlen = 0;
	c->conn_tokens[0] = '\0';
	c->head_overflow = 0;
	c->framing = 0;
	c->in_headers = 0;
	c->error = GWD_PX_OK;
	c->tls_detail = NULL;
	return t;
}

/* Where <e> goes for <c>'s target <t>: the URL (authority only: the path is
 * already encoded, and CURLOPT_REQUEST_TARGET sends it as is), the scheme,
 * TLS for an HTTPS upstream, the connect timeout, the callbacks.  0, or -1
 * when libcurl refuses a TLS option. */
static int set_transport(struct engine *g, CURL *e, struct gwd_proxy_call *c, int t)
{
	struct gwd_upstream_state *u = c->u;

	curl_easy_setopt(e, CURLOPT_PRIVATE, c);
	if (u->tls) {
		c->errbuf[0] = '\0';
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
		if (gwd_upstream_tls_apply(e, u->tls, (uint32_t)t, g->share) != 0)
			return -1;
	} else {
		snprintf(c->url, sizeof c->url, "http://%s", u->t[t].hostport);
		curl_easy_setopt(e, CURLOPT_URL, c->url);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	}
	curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, c->path);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(u->cfg.connect_timeout_ms ? u->cfg.connect_timeout_ms : 1000));
	/* no CURLOPT_TIMEOUT_MS: a stream may last for hours; the engine's scan
	 * applies the upstream's timeout to the head, then between reads */
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
	return 0;
}

/* The method, header fields and body of <c> on <e>. */
static void set_request(CURL *e, struct gwd_proxy_call *c)
{
	static char no_expect[] = "Expect:", no_ctype[] = "Content-Type:",
		    chunked[] = "Transfer-Encoding: chunked";

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
	c->pre[2].data = chunked;
	c->pre[2].next = &c->pre[0];
	/* GET and HEAD carry no body: libcurl adds neither field for them,
	 * and each line of the list costs it a scan per field it checks */
	if (c->head) {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(c->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (c->up_stream) {
		/* the body as it arrives: its length when the client gave one,
		 * chunked otherwise */
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->up_len >= 0 ? &c->pre[0] : &c->pre[2]);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, c);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek_refuse);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->up_len);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, &c->pre[0]);
		/* A body, even empty, for every other method: Content-Length is then
		 * always sent by libcurl, never copied from the client.  One that
		 * must not be sent twice is read once (on_read_once): libcurl
		 * cannot resend it on a kept connection that turns out closed. */
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
		if (c->idempotent) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
		} else {
			c->body_sent = 0;
			curl_easy_setopt(e, CURLOPT_POST, 1L);
			curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read_once);
			curl_easy_setopt(e, CURLOPT_READDATA, c);
			curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek_refuse);
		}
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method);
	}
}

/* Start (or restart, for a retry) <c> on <g> with a newly picked target.
 * Returns 0 when the transfer is running, -1 when <c> was finished instead. */
static int launch(struct engine *g, struct gwd_proxy_call *c)
{
	int t = pick(g, c);
	CURL *e;

	if (t < 0)
		return -1;
	e = c->easy;
	if (e)
		curl_easy_reset(e); /* a retry: the handle ran the last try */
	else
		e = easy_get(g);
	c->easy = e;
	if (!e || set_transport(g, e, c, t) != 0)
		goto fail;
	set_request(e, c);
	if (curl_multi_add_handle(g->multi, e) != CURLM_OK)
		goto fail;
	run_add(g, c);
	return 0;
fail:
	atomic_fetch_sub_explicit(&c->u->t[t].active, 1, memory_order_relaxed);
	finish(g, c, GWD_PX_INTERNAL);
	return -1;
}

/* The transfer of <c> to a TLS upstream failed with <rc>: when TLS is why,
 * name it for the 502's detail and log it with the target (libcurl's
 * message names certificates and alerts, never key material). */
static void tls_failed(struct gwd_proxy_call *c, CURLcode rc)
{
	const char *why = gwd_upstream_tls_failure(c->easy, rc, c->errbuf);

	if (!why)
		return;
	c->tls_detail = why;
	fprintf(stderr, "gwd: upstream %s target %s: TLS: %s (%s)\n", c->u->cfg.name.p,
		c->u->t[c->target].hostport, why,
		c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
}

/* A transfer ended with <rc>: account it, retry when allowed, or finish. */
static void ended(struct engine *g, struct gwd_proxy_call *c, CURLcode rc)
{
	struct gwd_upstream_state *u = c->u;
	int t = c->target, err = GWD_PX_OK, upstream_fault = 0;
	uint64_t now = gwd_clock_ns();

	curl_multi_remove_handle(g->multi, c->easy);
	run_del(g, c);
	hready_del(g, c);
	atomic_fetch_sub_explicit(&u->t[t].active, 1, memory_order_relaxed);
	if (c->head_overflow && c->head_done == 0 && c->in_headers == 1) {
		/* on_header stopped it: see there */
		err = GWD_PX_REFUSED;
	} else if (rc == CURLE_OK) {
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
		if (u->tls)
			tls_failed(c, rc);
	}
	gwd_upstream_done(u, (uint32_t)t, !upstream_fault, now);
	/* Retry on another target only for idempotent methods, only for
	 * failures where the upstream did not answer, and never after a timeout
	 * (the request may still be running there and the client has waited). */
	if (err == GWD_PX_REFUSED && upstream_fault && !c->streaming && c->idempotent &&
	    c->ntried <= u->cfg.retries &&
	    c->ntried < GWD_PCALL_MAX_TRIES && c->ntried < u->n) {
		c->error = err;
		launch(g, c);
		return;
	}
	finish(g, c, err);
}

/* Take <c> off <g> before its transfer ended, and finish it with <error>. */
static void abandon(struct engine *g, struct gwd_proxy_call *c, int error)
{
	curl_multi_remove_handle(g->multi, c->easy);
	run_del(g, c);
	atomic_fetch_sub_explicit(&c->u->t[c->target].active, 1, memory_order_relaxed);
	finish(g, c, error);
}

/* The upstream's timeout, for each running call of <g>: from the start to
 * the end of the response head, then between body reads (a paused transfer
 * waits for its reader, not for the upstream, and is not timed). */
static void scan_timeouts(struct engine *g, uint64_t now)
{
	struct gwd_proxy_call *c, *next;

	for (c = g->running; c; c = next) {
		uint64_t limit = (uint64_t)(c->u->cfg.timeout_ms ? c->u->cfg.timeout_ms : 30000) * 1000000u;

		next = c->rnext;
		if (c->paused || c->up_paused || now - c->last_ns <= limit)
			continue;
		curl_multi_remove_handle(g->multi, c->easy);
		run_del(g, c);
		atomic_fetch_sub_explicit(&c->u->t[c->target].active, 1, memory_order_relaxed);
		gwd_upstream_done(c->u, (uint32_t)c->target, 0, now);
		/* a head begun and never ended is broken framing: 502 */
		finish(g, c, c->in_headers == 1 ? GWD_PX_REFUSED : GWD_PX_TIMEOUT);
	}
}

/* A reader poked streaming call <c>: it made room (unpause the transfer) or
 * let go of the call (abort the transfer; an unfinished one's connection is
 * closed by libcurl, never reused). */
static void kicked(struct engine *g, struct gwd_proxy_call *c)
{
	int cancel, unpause;

	int mask;

	/* not launched yet (its kick overtook it): launch sees <cancel> */
	if (!c->easy)
		return;
	pthread_mutex_lock(&c->mu);
	cancel = !c->ended && c->cancel;
	unpause = !c->ended && ((c->unpause && c->paused) || (c->up_unpause && c->up_paused));
	if (c->unpause && c->paused)
		c->paused = c->unpause = 0;
	if (c->up_unpause && c->up_paused)
		c->up_paused = c->up_unpause = 0;
	/* what stays paused stays so: the pause mask is the whole state */
	mask = (c->paused ? CURLPAUSE_RECV : 0) | (c->up_paused ? CURLPAUSE_SEND : 0);
	pthread_mutex_unlock(&c->mu);
	if (cancel) {
		abandon(g, c, GWD_PX_CANCELLED);
	} else if (unpause) {
		c->last_ns = gwd_clock_ns();
		/* may hand kept bytes over (on_body, on_read) before it returns */
		curl_easy_pause(c->easy, mask);
	}
}

/* Handle the kicks of <g>: each held a reference. */
static void take_kicks(struct engine *g)
{
	struct gwd_proxy_call *c = atomic_exchange(&g->kicks, NULL);

	while (c) {
		struct gwd_proxy_call *next = c->knext;

		atomic_store(&c->kicked, 0);
		kicked(g, c);
		unref(c);
		c = next;
	}
}

/* Poll the clients of <g>'s running calls (at most MAX_POLL_FDS of them, the
 * newest) and cancel the calls of those that hung up. */
static void scan_hangups(struct engine *g)
{
	unsigned n = 0;

	for (struct gwd_proxy_call *c = g->running; c && n < MAX_POLL_FDS; c = c->rnext) {
		if (c->client_fd < 0)
			continue;
		g->pfds[n].fd = c->client_fd;
		g->pfds[n].events = POLLRDHUP;
		g->pfds[n].revents = 0;
		g->owner[n++] = c;
	}
	if (n == 0 || poll(g->pfds, n, 0) <= 0)
		return;
	/* abandon() may free a call whose reference count drops: owners are
	 * distinct, and each is looked at once */
	for (unsigned i = 0; i < n; i++)
		if (g->pfds[i].revents & (POLLRDHUP | POLLHUP | POLLERR))
			abandon(g, g->owner[i], GWD_PX_CANCELLED);
}

/* libcurl's socket callback: keep <s> in the engine's epoll set with the
 * events libcurl waits for.  A socket is marked (curl_multi_assign) once
 * it is in the set; a failed ADD or MOD is retried as the other (an fd
 * number reused after a close).  Always 0: a socket that cannot be watched
 * times its transfer out. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct engine *g = userp;
	struct epoll_event ev = { .data.fd = s };

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socketp)
			epoll_ctl(g->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	if (socketp) {
		if (epoll_ctl(g->epfd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
			epoll_ctl(g->epfd, EPOLL_CTL_ADD, s, &ev);
		return 0;
	}
	if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
		epoll_ctl(g->epfd, EPOLL_CTL_MOD, s, &ev);
	curl_multi_assign(g->multi, s, g);
	return 0;
}

/* libcurl's timer callback: when to call it back without socket activity. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct engine *g = userp;

	(void)multi;
	g->timer_ns = timeout_ms < 0 ? -1 : (int64_t)(gwd_clock_ns() + (uint64_t)timeout_ms * 1000000u);
	return 0;
}

/* Hand every finished transfer of <g> to ended(). */
static void reap(struct engine *g)
{
	CURLMsg *m;
	int nmsg;

	while ((m = curl_multi_info_read(g->multi, &nmsg))) {
		struct gwd_proxy_call *c = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		ended(g, c, m->data.result);
	}
}

/* Launch what was submitted to <g>, in submission order (the stack pops
 * newest first). */
static void take_inbox(struct engine *g)
{
	struct gwd_proxy_call *in = atomic_exchange(&g->inbox, NULL), *rev = NULL;

	while (in) {
		struct gwd_proxy_call *next = in->next;

		in->next = rev;
		rev = in;
		in = next;
	}
	while (rev) {
		struct gwd_proxy_call *next = rev->next;

		rev->next = NULL;
		rev->t_start_ns = gwd_clock_ns();
		launch(g, rev);
		rev = next;
	}
}

/* Milliseconds epoll_wait may sleep: until libcurl's timer, the next
 * hang-up scan while calls run, or a second. */
static int wait_ms(const struct engine *g, uint64_t now)
{
	uint64_t until = now + 1000000000u;

	if (g->timer_ns >= 0 && (uint64_t)g->timer_ns < until)
		until = (uint64_t)g->timer_ns;
	if (g->running && g->next_scan_ns < until)
		until = g->next_scan_ns;
	if (until <= now)
		return 0;
	return (int)((until - now + 999999u) / 1000000u);
}

/* Empty <g>'s eventfd (one read resets its counter) and return the wake-ups
 * it counted: 0 when a racing drain emptied it first (EAGAIN: the descriptor
 * is nonblocking). */
static uint64_t drain_wake(struct engine *g)
{
	uint64_t v = 0;

	return read(g->wakefd, &v, sizeof v) == (ssize_t)sizeof v ? v : 0;
}

/* The engine loop: submitted calls, libcurl's timer, socket events, finished
 * transfers, and every HANGUP_SCAN_MS the clients of running calls.  The
 * <asleep> flag lets submitters skip the wake-up write while the loop is
 * busy (see gwd_proxy_submit). */
static void *engine(void *arg)
{
	struct engine *g = arg;

	while (atomic_load(&eng.live)) {
		uint64_t now;
		int n, ms;

		take_inbox(g);
		take_kicks(g);
		now = gwd_clock_ns();
		if (g->timer_ns >= 0 && (uint64_t)g->timer_ns <= now) {
			int still;

			g->timer_ns = -1;
			curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &still);
			reap(g);
			now = gwd_clock_ns();
		}
		if (g->running && now >= g->next_scan_ns) {
			scan_hangups(g);
			scan_timeouts(g, now);
			g->next_scan_ns = now + HANGUP_SCAN_MS * 1000000ull;
		}
		ms = wait_ms(g, now);
		atomic_store(&g->asleep, 1);
		if (g->hready || atomic_load(&g->inbox) || atomic_load(&g->kicks) || !atomic_load(&eng.live))
			ms = 0;
		n = epoll_wait(g->epfd, g->evs, MAX_EVENTS, ms);
		atomic_store(&g->asleep, 0);
		for (int i = 0; i < n; i++) {
			uint32_t ev = g->evs[i].events;
			int fd = g->evs[i].data.fd, still, mask;

			if (fd == g->wakefd) {
				drain_wake(g);
				continue;
			}
			mask = ((ev & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((ev & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
			       ((ev & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
			curl_multi_socket_action(g->multi, fd, mask, &still);
		}
		reap(g);
		start_streams(g);
	}
	return NULL;
}

/* Wake <g>'s thread (eventfd write).  Errors leave it to its next timeout. */
static void wake(struct engine *g)
{
	uint64_t one = 1;

	if (write(g->wakefd, &one, sizeof one) < 0 && errno != EAGAIN)
		return;
}

/* Release what engine_init set up in <g>. */
static void engine_fini(struct engine *g)
{
	while (g->nidle)
		curl_easy_cleanup(g->idle[--g->nidle]);
	if (g->multi)
		curl_multi_cleanup(g->multi);
	if (g->share)
		curl_share_cleanup(g->share);
	g->share = NULL;
	if (g->epfd >= 0)
		close(g->epfd);
	if (g->wakefd >= 0)
		close(g->wakefd);
	g->multi = NULL;
	g->epfd = g->wakefd = -1;
}

/* Set up <g>, one of <nengines> (multi handle, epoll set, wake-up
 * eventfd).  0 or -1. */
static int engine_init(struct engine *g, unsigned nengines)
{
	/* Idle keep-alive connections kept per engine: the process keeps about
	 * the same number whatever the engine count. */
	long maxconnects = 1024 / (long)nengines;

	struct epoll_event ev = { .events = EPOLLIN };

	g->timer_ns = -1;
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	g->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	g->multi = curl_multi_init();
	/* the engine's thread alone uses its share: no lock callbacks */
	g->share = curl_share_init();
	if (g->epfd < 0 || g->wakefd < 0 || !g->multi || !g->share ||
	    curl_share_setopt(g->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
		goto fail;
	ev.data.fd = g->wakefd;
	if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->wakefd, &ev) != 0)
		goto fail;
	curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, maxconnects < 64 ? 64L : maxconnects);
	curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g);
	curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g);
	return 0;
fail:
	engine_fini(g);
	return -1;
}

/* With <live> 0: join the first <nthreads> engine threads, wait for the
 * submitters still pushing (so that the drain finds their calls and their
 * wake-ups do not meet a closed eventfd), end every call still running or
 * waiting on any engine with its done() called, and release the engines. */
static void engines_down(unsigned nthreads)
{
	struct gwd_proxy_call *c;

	for (unsigned i = 0; i < nthreads; i++) {
		wake(&eng.e[i]);
		pthread_join(eng.e[i].thread, NULL);
	}
	while (atomic_load(&eng.submitting))
		sched_yield();
	for (unsigned i = 0; i < eng.n; i++) {
		struct engine *g = &eng.e[i];

		for (c = atomic_exchange(&g->kicks, NULL); c;) {
			struct gwd_proxy_call *next = c->knext;

			atomic_store(&c->kicked, 0);
			unref(c);
			c = next;
		}
		while ((c = g->running))
			abandon(g, c, GWD_PX_INTERNAL);
		for (c = atomic_exchange(&g->inbox, NULL); c;) {
			struct gwd_proxy_call *next = c->next;

			finish(g, c, GWD_PX_INTERNAL);
			c = next;
		}
		engine_fini(g);
	}
	free(eng.e);
	eng.e = NULL;
	eng.n = 0;
}

int gwd_proxy_start(unsigned engines)
{
	unsigned i;

	if (eng.started)
		return 0;
	if (engines == 0)
		engines = 1;
	if (engines > MAX_ENGINES)
		engines = MAX_ENGINES;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	eng.e = calloc(engines, sizeof *eng.e);
	if (!eng.e)
		return -1;
	eng.n = engines;
	for (i = 0; i < engines; i++)
		eng.e[i].epfd = eng.e[i].wakefd = -1;
	for (i = 0; i < engines; i++)
		if (engine_init(&eng.e[i], engines) != 0) {
			engines_down(0);
			return -1;
		}
	/* <n> and the engines are in place before a submitter can see <live> */
	atomic_store(&eng.live, 1);
	for (i = 0; i < engines; i++)
		if (pthread_create(&eng.e[i].thread, NULL, engine, &eng.e[i]) != 0) {
			atomic_store(&eng.live, 0);
			engines_down(i);
			return -1;
		}
	eng.started = 1;
	return 0;
}

void gwd_proxy_stop(void)
{
	if (!eng.started)
		return;
	atomic_store(&eng.live, 0);
	engines_down(eng.n);
	eng.started = 0;
}

/* Put <c> on its engine's kick stack (once: a call already there is
 * looked at anyway), holding a reference, and wake the engine.  Engines
 * going down have ended every call, so a late kick is dropped. */
static void kick(struct gwd_proxy_call *c)
{
	struct engine *g = c->eng;
	struct gwd_proxy_call *head;

	if (atomic_exchange(&c->kicked, 1))
		return;
	gwd_proxy_call_retain(c);
	atomic_fetch_add(&eng.submitting, 1);
	if (!atomic_load(&eng.live)) {
		atomic_fetch_sub(&eng.submitting, 1);
		atomic_store(&c->kicked, 0);
		unref(c);
		return;
	}
	head = atomic_load_explicit(&g->kicks, memory_order_relaxed);
	do
		c->knext = head;
	while (!atomic_compare_exchange_weak_explicit(&g->kicks, &head, c, memory_order_seq_cst,
						      memory_order_relaxed));
	if (atomic_exchange(&g->asleep, 0))
		wake(g);
	atomic_fetch_sub(&eng.submitting, 1);
}

int gwd_proxy_submit(struct gwd_proxy_call *c)
{
	static _Thread_local unsigned mine = UINT_MAX;
	struct gwd_proxy_call *head;
	struct engine *g;

	/* Announce ourselves before looking at <live> (both sequentially
	 * consistent, as gwd_proxy_stop's store and load): either we see the
	 * engine stopping and back out, or stop sees us and waits. */
	atomic_fetch_add(&eng.submitting, 1);
	if (!atomic_load(&eng.live)) {
		atomic_fetch_sub(&eng.submitting, 1);
		return -1;
	}
	if (c->up_stream && !c->eng_ref) {
		/* the body comes later: the engine holds the call meanwhile */
		gwd_proxy_call_retain(c);
		c->eng_ref = 1;
	}
	/* Each submitting thread keeps to one engine: with one engine per pool
	 * thread, no two pool threads share an inbox or a multi handle. */
	if (mine == UINT_MAX)
		mine = atomic_fetch_add_explicit(&eng.next, 1, memory_order_relaxed);
	g = &eng.e[mine % eng.n];
	c->eng = g; /* before it is shared: a kick may come before the engine takes it */
	head = atomic_load_explicit(&g->inbox, memory_order_relaxed);
	do
		c->next = head;
	while (!atomic_compare_exchange_weak_explicit(&g->inbox, &head, c, memory_order_seq_cst,
						      memory_order_relaxed));
	/* Dekker with the engine loop: it stores <asleep> then loads <inbox>;
	 * we store <inbox> then load <asleep> (all sequentially consistent), so
	 * either it sees this call before sleeping or we see it asleep and
	 * wake it.  A busy engine costs no system call. */
	if (atomic_exchange(&g->asleep, 0))
		wake(g);
	atomic_fetch_sub(&eng.submitting, 1);
	return 0;
}
