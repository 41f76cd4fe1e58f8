/* The WebSocket relay (websocket.h): one thread, one epoll loop for every
 * open WebSocket, a fixed buffer per direction, backpressure, the close
 * passed on, the idle timeout, the close at shutdown; and the /metrics
 * families of WebSockets. */
#include "gwd/websocket.h"
#include "gwd/websocket_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "gwd/buf.h"
#include "gwd/clock.h"
#include "gwd/metrics.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"

static const char *const reason_name[GWD_WR_COUNT] = {
	"client", "upstream", "idle", "error", "shutdown",
};

/* ---- counters (/metrics) ---- */

static _Atomic uint64_t m_open, m_opened, m_bytes[2], m_closes[GWD_WR_COUNT];

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
	for (int i = 0; i < GWD_WR_COUNT; i++) {
		snprintf(line, sizeof line, "gateway_websocket_closes_total{reason=\"%s\"} %llu\n",
			 reason_name[i], (unsigned long long)atomic_load(&m_closes[i]));
		gwd_buf_puts(b, line);
	}
}

/* ---- the relay thread ---- */

static pthread_t relay_th;
static int relay_running, epfd = -1, wakefd = -1;
static pthread_mutex_t relay_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gwd_ws *incoming;          /* handed over, not yet in the loop */
static struct gwd_ws *open_list;         /* the relay thread's own */
static struct gwd_ws *dead_list;         /* ended, to give back after the turn */
static _Atomic int close_all_req, close_all_done;

/* Wake the relay thread. */
static void relay_add_wake(void)
{
	uint64_t one = 1;

	if (write(wakefd, &one, sizeof one) < 0) {
		/* the counter is full only when the relay is gone: it reads it every wake */
	}
}

void gwd_ws_relay_add(struct gwd_ws *ws)
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
static void relay_end(struct gwd_ws *ws, int reason)
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
	gwd_ws_cap_give(ws->cap_slot);
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
		struct gwd_ws *ws = dead_list;

		dead_list = ws->dead_next;
		MHD_upgrade_action(ws->urh, MHD_UPGRADE_ACTION_CLOSE);
	}
}

/* Read from side <s> into <p>.  1 progress, 0 nothing now, -1 failed. */
static int side_read(struct gwd_ws *ws, int s, struct gwd_ws_pipe *p)
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
static int side_write(struct gwd_ws *ws, int s, struct gwd_ws_pipe *p)
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
static void pass_eof(struct gwd_ws *ws)
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
static int watch(struct gwd_ws *ws, int s, uint32_t ev)
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

/* Whether libmicrohttpd has read everything the relay wrote into the socket
 * pair of <ws> (it forwards it to the client's TLS session): until then
 * ending the WebSocket could lose the last bytes, so the sweep looks again.
 * 1 or 0. */
static int pair_drained(struct gwd_ws *ws)
{
	int q = 0;

	if (ioctl(ws->cfd, SIOCOUTQ, &q) == 0 && q > 0) {
		ws->pair_wait = 1;
		return 0;
	}
	return 1;
}

/* Move what can move, both ways, then watch for what is blocked: a side is
 * read only while its peer's buffer has room (backpressure).  Ends <ws>
 * when both sides closed, or on an error. */
static void pump(struct gwd_ws *ws)
{
	int progress, rc;
	uint32_t ev[2];

	do {
		progress = 0;
		if ((rc = side_read(ws, 0, &ws->c2u)) < 0 || (progress |= rc, 0) ||
		    (rc = side_write(ws, 1, &ws->c2u)) < 0 || (progress |= rc, 0) ||
		    (rc = side_read(ws, 1, &ws->u2c)) < 0 || (progress |= rc, 0) ||
		    (rc = side_write(ws, 0, &ws->u2c)) < 0 || (progress |= rc, 0)) {
			relay_end(ws, GWD_WR_ERROR);
			return;
		}
		if (progress)
			ws->last_io_ms = gwd_clock_ms();
		pass_eof(ws);
	} while (progress);
	/* Over TLS the client's socket is libmicrohttpd's socket pair, and
	 * libmicrohttpd passes no half-close on to the client: once the
	 * upstream closed and its bytes are handed over, end the WebSocket
	 * (libmicrohttpd sends what it holds, then closes the TLS session). */
	if ((ws->eof[0] && ws->eof[1] && !ws->c2u.len && !ws->u2c.len) ||
	    (ws->cpair && ws->eof[1] && !ws->u2c.len && pair_drained(ws))) {
		relay_end(ws, ws->first_eof == 1 ? GWD_WR_UPSTREAM : GWD_WR_CLIENT);
		return;
	}
	for (int s = 0; s < 2; s++) {
		struct gwd_ws_pipe *in = s ? &ws->u2c : &ws->c2u, *out = s ? &ws->c2u : &ws->u2c;

		ev[s] = (!ws->eof[s] && in->off + in->len < in->cap ? EPOLLIN : 0) |
			(out->len ? EPOLLOUT : 0);
	}
	if (watch(ws, 0, ev[0]) < 0 || watch(ws, 1, ev[1]) < 0)
		relay_end(ws, GWD_WR_ERROR);
}

/* Take the sessions handed over into the loop. */
static void take_incoming(void)
{
	struct gwd_ws *in;
	uint64_t v;

	if (read(wakefd, &v, sizeof v) < 0) {
		/* nothing to read: a spurious wake */
	}
	pthread_mutex_lock(&relay_lock);
	in = incoming;
	incoming = NULL;
	pthread_mutex_unlock(&relay_lock);
	while (in) {
		struct gwd_ws *ws = in;

		in = in->next;
		ws->end[0] = (struct gwd_ws_end){ ws, 0 };
		ws->end[1] = (struct gwd_ws_end){ ws, 1 };
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
			relay_end(ws, GWD_WR_ERROR);
		else
			pump(ws);
	}
}

/* End every session idle past its timeout, or all of them (<all>). */
static void sweep(int all)
{
	uint64_t now = gwd_clock_ms();
	struct gwd_ws *ws = open_list, *next;

	for (; ws; ws = next) {
		next = ws->next;
		if (all)
			relay_end(ws, GWD_WR_SHUTDOWN);
		else if (now - ws->last_io_ms >= ws->idle_ms)
			relay_end(ws, GWD_WR_IDLE);
		else if (ws->pair_wait)
			pump(ws); /* the socket pair may be drained now */
	}
}

static void *relay_main(void *arg)
{
	struct epoll_event ev[64];
	uint64_t next_sweep = gwd_clock_ms() + 250;

	(void)arg;
	while (__atomic_load_n(&relay_running, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(epfd, ev, 64, 250);

		for (int i = 0; i < n; i++) {
			struct gwd_ws_end *e = ev[i].data.ptr;

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
			next_sweep = gwd_clock_ms() + 250;
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

void gwd_ws_relay_close_all(void)
{
	struct timespec ts = { 0, 10 * 1000000L };

	if (!__atomic_load_n(&relay_running, __ATOMIC_ACQUIRE))
		return;
	atomic_store(&close_all_req, 1);
	relay_add_wake();
	while (!atomic_load(&close_all_done))
		nanosleep(&ts, NULL);
}
