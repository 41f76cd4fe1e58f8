/* gwd's clock: CLOCK_MONOTONIC, read through the vDSO (no system call), in
 * nanoseconds or milliseconds.  Every deadline, duration and rate in gwd is
 * measured on it: the request's start (pipeline.c), connection deadlines
 * (conn.h), rate limits (ratelimit.h: the <now> every call expects), uptime
 * (health.c).  A wall-clock reading (CLOCK_REALTIME) is taken only where a
 * date is shown: the access log, session expiry in the database.
 */
#ifndef GWD_CLOCK_H
#define GWD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Now, in nanoseconds since an unspecified start (boot). */
static inline uint64_t gwd_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Now, in milliseconds on the same clock. */
static inline uint64_t gwd_clock_ms(void)
{
	return gwd_clock_ns() / 1000000u;
}

#endif
