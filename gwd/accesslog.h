/* The access log: one JSON object per line, buffered per thread, written by a
 * background thread (at least once a second) — never a write(2) per request.
 *
 *   {"time":"2026-11-27T07:24:32.123Z","id":"...","client":"127.0.0.1",
 *    "method":"GET","path":"/api/hello?name=x","route":"/api/hello",
 *    "status":200,"bytes":19,"duration_us":85,"user":"alice"}
 *
 * "client" is the peer's address, or the one X-Forwarded-For gave when the
 * peer is a trusted proxy (settings.trusted_proxies).
 * "path" is the raw request target as sent (JSON-escaped; its first 4096
 * bytes, the method's first 32, with "truncated":true when either was cut, so
 * that no request is too long to be logged); "route" is "" when
 * no route matched; "user" appears only when an auth policy named one.
 *
 * Each worker thread appends to its own 64 KiB buffer under its own mutex
 * (uncontended but for the flusher's swap).  The flusher swaps every
 * buffer with an empty spare once a second and writes the full ones; a thread
 * whose buffer fills first hands it to the flusher at once.  If both of a
 * thread's buffers are full (the disk is slower than the traffic), the thread
 * writes its buffer itself, one write per 64 KiB, never per line.
 *
 * --access-log PATH opens PATH for appending; SIGHUP reopens it (log
 * rotation: rename, then SIGHUP).  "-" is standard output (not reopened).
 */
#ifndef GWD_ACCESSLOG_H
#define GWD_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

struct gwd_req;

/* Start logging to <path> ("-": stdout; NULL: logging off).  Starts the
 * flusher thread.  Returns 0, or -1 (errno set) when the file cannot be
 * opened. */
int gwd_accesslog_open(const char *path);

/* Whether logging is on (cheap: one load). */
int gwd_accesslog_enabled(void);

/* Append the line for completed request <r> to the calling thread's buffer.
 * <route> is the route label (NULL or empty: none). */
void gwd_accesslog_request(struct gwd_req *r, const char *route, size_t route_len,
		      uint64_t duration_us);

/* Write everything buffered now (all threads).  Returns 0, or -1 on a write
 * error. */
int gwd_accesslog_flush(void);

/* Reopen the file (SIGHUP).  Returns 0, or -1 when it cannot be opened (the old
 * descriptor keeps being used). */
int gwd_accesslog_reopen(void);

/* Flush, stop the flusher and close. */
void gwd_accesslog_close(void);

/* Lines lost since start (a line longer than a buffer, or a write error). */
uint64_t gwd_accesslog_dropped(void);

/* Format the line for <r> into <out> (<cap> bytes) without the newline.
 * Returns its length, or 0 when it does not fit.  (Exposed for tests.) */
size_t gwd_accesslog_format(char *out, size_t cap, struct gwd_req *r, const char *route,
		       size_t route_len, uint64_t duration_us);

#endif
