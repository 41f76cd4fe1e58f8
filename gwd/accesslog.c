/* The buffered JSON access log (accesslog.h). */
#include "gwd/accesslog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gwd/buf.h"
#include "gwd/clientip.h"
#include "gwd/json.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"

#define ALOG_BUF (64 * 1024)
/* Bytes of the raw target and of the method written to a line: escaped, at
 * most 6 times as many (control bytes), so that a line always fits a buffer.
 * A longer target (max_header_bytes may be far above 64 KiB / 3) would make
 * the line too long for any buffer and drop it: a client could keep its
 * requests out of the log.  Cut, the line says so ("truncated":true). */
#define ALOG_TARGET_MAX 4096
#define ALOG_METHOD_MAX 32

struct gwd_walog {
	pthread_mutex_t lock;
	char *cur, *spare;     /* the buffer being filled, the empty one */
	size_t cur_len;
	char *full;            /* a full buffer handed to the flusher, or NULL */
	size_t full_len;
	/* the formatted second of the last line, to avoid gmtime per request */
	time_t sec;
	char secbuf[24];       /* "YYYY-MM-DDTHH:MM:SS" */
};

static _Atomic int alog_on;
static _Atomic int alog_fd = -1; /* read unlocked by gwd_accesslog_flush; swapped under fd_lock */
static char *alog_path;          /* NULL for stdout */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER; /* writes and reopen */
static pthread_t flusher;
static pthread_mutex_t fl_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fl_cond = PTHREAD_COND_INITIALIZER;
static int fl_stop, fl_kick, fl_running;
static _Atomic uint64_t dropped;

int gwd_accesslog_enabled(void)
{
	return atomic_load_explicit(&alog_on, memory_order_relaxed);
}

uint64_t gwd_accesslog_dropped(void)
{
	return atomic_load_explicit(&dropped, memory_order_relaxed);
}

/* Write <n> bytes of <p> to the log descriptor, whole. Returns 0 or -1. */
static int write_all(const char *p, size_t n)
{
	int rc = 0;

	pthread_mutex_lock(&fd_lock);
	while (n > 0) {
		ssize_t k = write(alog_fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		p += k;
		n -= (size_t)k;
	}
	pthread_mutex_unlock(&fd_lock);
	return rc;
}

/* The calling thread's log state, created on first use; NULL when out of
 * memory. */
static struct gwd_walog *walog(struct gwd_worker *w)
{
	struct gwd_walog *a = w->alog;

	if (a)
		return a;
	a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->cur = malloc(ALOG_BUF);
	a->spare = malloc(ALOG_BUF);
	if (!a->cur || !a->spare) {
		free(a->cur);
		free(a->spare);
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	a->sec = (time_t)-1;
	/* published for the flusher with the worker slot itself; the flusher only
	 * touches it under a->lock */
	w->alog = a;
	return a;
}

/* Append the line for <r> (without the newline) to <b>, with the time's
 * seconds already formatted in <sec> ("YYYY-MM-DDTHH:MM:SS"). */
static void fmt_line(struct gwd_buf *b, const char *sec, struct gwd_req *r,
		     const char *route, size_t route_len, uint64_t duration_us)
{
	unsigned ms = (unsigned)(r->t_wall.tv_nsec / 1000000);
	char msb[4] = { '.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10),
			(char)('0' + ms % 10) };

	gwd_buf_puts(b, "{\"time\":\"");
	gwd_buf_puts(b, sec);
	gwd_buf_add(b, msb, 4);
	gwd_buf_puts(b, "Z\",\"id\":\"");
	/* ids are [A-Za-z0-9._-] (reqid.h): nothing to escape */
	gwd_buf_add(b, r->reqid, r->reqid_len);
	gwd_buf_puts(b, "\",\"client\":\"");
	if (r->cip_set && r->gen && r->gen->settings.trusted_count) {
		/* behind a trusted proxy: the address X-Forwarded-For gave */
		char ip[GWD_CLIENTIP_STRLEN];

		gwd_buf_add(b, ip, gwd_clientip_format(&r->cip, ip));
	} else {
		gwd_buf_puts(b, gwd_req_peer_ip(r));
	}
	size_t mlen = r->method_name ? strnlen(r->method_name, ALOG_METHOD_MAX + 1) : 0;
	size_t tlen = r->target ? r->target_len : 0;
	int cut = mlen > ALOG_METHOD_MAX || tlen > ALOG_TARGET_MAX;

	gwd_buf_puts(b, "\",\"method\":");
	gwd_json_str(b, r->method_name ? r->method_name : "",
		     mlen > ALOG_METHOD_MAX ? ALOG_METHOD_MAX : mlen);
	gwd_buf_puts(b, ",\"path\":");
	gwd_json_str(b, r->target ? r->target : "", tlen > ALOG_TARGET_MAX ? ALOG_TARGET_MAX : tlen);
	if (cut)
		gwd_buf_puts(b, ",\"truncated\":true");
	gwd_buf_puts(b, ",\"route\":");
	gwd_json_str(b, route ? route : "", route ? route_len : 0);
	gwd_buf_puts(b, ",\"status\":");
	gwd_buf_u64(b, r->status_sent);
	gwd_buf_puts(b, ",\"bytes\":");
	gwd_buf_u64(b, r->bytes_sent);
	gwd_buf_puts(b, ",\"duration_us\":");
	gwd_buf_u64(b, duration_us);
	if (r->user_len) {
		gwd_buf_puts(b, ",\"user\":");
		gwd_json_str(b, r->user, r->user_len);
	}
	gwd_buf_putc(b, '}');
}

size_t gwd_accesslog_format(char *out, size_t cap, struct gwd_req *r, const char *route,
		       size_t route_len, uint64_t duration_us)
{
	struct gwd_buf b;
	struct tm tm;
	char sec[32];

	gmtime_r(&r->t_wall.tv_sec, &tm);
	strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
	gwd_buf_init(&b, out, cap);
	fmt_line(&b, sec, r, route, route_len, duration_us);
	return b.full ? 0 : b.len;
}

/* Format the line with its newline straight into <a>'s current buffer, using
 * the second cached by the thread (gmtime once a second, not per line).
 * Returns the length, or 0 when it does not fit. */
static size_t format_into(struct gwd_walog *a, struct gwd_req *r, const char *route,
			  size_t route_len, uint64_t duration_us)
{
	struct gwd_buf b;

	if (r->t_wall.tv_sec != a->sec) {
		struct tm tm;

		gmtime_r(&r->t_wall.tv_sec, &tm);
		strftime(a->secbuf, sizeof a->secbuf, "%Y-%m-%dT%H:%M:%S", &tm);
		a->sec = r->t_wall.tv_sec;
	}
	gwd_buf_init(&b, a->cur + a->cur_len, ALOG_BUF - a->cur_len);
	fmt_line(&b, a->secbuf, r, route, route_len, duration_us);
	gwd_buf_putc(&b, '\n');
	return b.full ? 0 : b.len;
}

void gwd_accesslog_request(struct gwd_req *r, const char *route, size_t route_len,
		      uint64_t duration_us)
{
	struct gwd_walog *a;
	size_t n;

	if (!gwd_accesslog_enabled())
		return;
	a = walog(r->w == gwd_worker_self() ? r->w : gwd_worker_self());
	if (!a) {
		atomic_fetch_add(&dropped, 1);
		return;
	}
	pthread_mutex_lock(&a->lock);
	n = format_into(a, r, route, route_len, duration_us);
	if (n == 0 && a->cur_len > 0) {
		/* the buffer is full: hand it over (or write it when the flusher
		 * has not taken the last one yet), then format again */
		if (!a->full && a->spare) {
			a->full = a->cur;
			a->full_len = a->cur_len;
			a->cur = a->spare;
			a->spare = NULL;
			pthread_mutex_lock(&fl_lock);
			fl_kick = 1;
			pthread_cond_signal(&fl_cond);
			pthread_mutex_unlock(&fl_lock);
		} else if (write_all(a->cur, a->cur_len) < 0) {
			atomic_fetch_add(&dropped, 1);
		}
		a->cur_len = 0;
		n = format_into(a, r, route, route_len, duration_us);
	}
	if (n)
		a->cur_len += n;
	else
		atomic_fetch_add(&dropped, 1);
	pthread_mutex_unlock(&a->lock);
}

/* Write out worker <a>'s buffers.  A worker owns two buffers: <cur> and
 * either <spare> (empty) or <full> (handed over).  A handed-over buffer is
 * written and becomes the spare; otherwise a non-empty current buffer is
 * swapped with the spare under the lock and written outside it. */
static int flush_worker(struct gwd_walog *a)
{
	char *out;
	size_t out_len = 0;
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	out = a->full;
	if (out) {
		out_len = a->full_len;
		a->full = NULL;
	} else if (a->cur_len && a->spare) {
		out = a->cur;
		out_len = a->cur_len;
		a->cur = a->spare;
		a->cur_len = 0;
		a->spare = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	if (!out)
		return 0;
	if (out_len && write_all(out, out_len) < 0)
		rc = -1;
	pthread_mutex_lock(&a->lock);
	a->spare = out;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int gwd_accesslog_flush(void)
{
	unsigned n = gwd_worker_count();
	int rc = 0;

	if (alog_fd < 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		struct gwd_walog *a = gwd_worker_get(i)->alog;

		/* twice: a handed-over buffer first, then the current one */
		if (a && (flush_worker(a) < 0 || flush_worker(a) < 0))
			rc = -1;
	}
	return rc;
}

/* The flusher thread: flush every second, or at once when a thread handed a
 * full buffer over. */
static void *flusher_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fl_lock);
	while (!fl_stop) {
		struct timespec ts;

		if (!fl_kick) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 500 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&fl_cond, &fl_lock, &ts);
		}
		fl_kick = 0;
		pthread_mutex_unlock(&fl_lock);
		if (gwd_accesslog_flush() < 0)
			atomic_fetch_add(&dropped, 1);
		pthread_mutex_lock(&fl_lock);
	}
	pthread_mutex_unlock(&fl_lock);
	return NULL;
}

/* Open <path> for appending, close-on-exec. Returns the descriptor or -1. */
static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int gwd_accesslog_open(const char *path)
{
	if (!path)
		return 0;
	if (strcmp(path, "-") == 0) {
		alog_fd = STDOUT_FILENO;
		alog_path = NULL;
	} else {
		alog_fd = open_log(path);
		if (alog_fd < 0)
			return -1;
		alog_path = strdup(path);
	}
	fl_stop = 0;
	if (pthread_create(&flusher, NULL, flusher_main, NULL) != 0) {
		if (alog_path)
			close(alog_fd);
		alog_fd = -1;
		return -1;
	}
	fl_running = 1;
	atomic_store(&alog_on, 1);
	return 0;
}

int gwd_accesslog_reopen(void)
{
	int fd, old;

	if (!alog_path)
		return 0;
	fd = open_log(alog_path);
	if (fd < 0)
		return -1;
	gwd_accesslog_flush();
	pthread_mutex_lock(&fd_lock);
	old = alog_fd;
	alog_fd = fd;
	pthread_mutex_unlock(&fd_lock);
	close(old);
	return 0;
}

void gwd_accesslog_close(void)
{
	unsigned n;

	if (!fl_running)
		return;
	atomic_store(&alog_on, 0);
	pthread_mutex_lock(&fl_lock);
	fl_stop = 1;
	pthread_cond_signal(&fl_cond);
	pthread_mutex_unlock(&fl_lock);
	pthread_join(flusher, NULL);
	fl_running = 0;
	gwd_accesslog_flush();
	n = gwd_worker_count();
	for (unsigned i = 0; i < n; i++) {
		struct gwd_worker *w = gwd_worker_get(i);
		struct gwd_walog *a = w->alog;

		if (!a)
			continue;
		w->alog = NULL;
		free(a->cur);
		free(a->spare);
		free(a->full);
		pthread_mutex_destroy(&a->lock);
		free(a);
	}
	if (alog_path) {
		close(alog_fd);
		free(alog_path);
		alog_path = NULL;
	}
	alog_fd = -1;
}
