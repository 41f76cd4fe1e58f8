/* X-Request-ID: the client's when well-formed, else one generated without a
 * syscall: a random per-process prefix taken once at start (getrandom), the
 * worker number and the worker's own counter.
 *
 *   "3f9a0c12d45e6b78-02-0000001a"   prefix (16 hex) - worker (hex) - sequence (hex)
 *
 * Unique within a process (worker, sequence) and, with overwhelming
 * probability, across restarts and instances (the 64-bit prefix).
 */
#ifndef GWD_REQID_H
#define GWD_REQID_H

#include <stddef.h>

struct gwd_worker;

/* Take the random prefix. Returns 0, or -1 when no randomness is available. */
int gwd_reqid_init(void);

/* Whether <s> (<n> bytes) is an acceptable client request id: 1 to 64 bytes of
 * [A-Za-z0-9._-]. */
int gwd_reqid_valid(const char *s, size_t n);

/* Write a new id for worker <w> into <out> (at least 65 bytes), NUL-terminated.
 * Returns its length. */
size_t gwd_reqid_make(struct gwd_worker *w, char *out);

#endif
