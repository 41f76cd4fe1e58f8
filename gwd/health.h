/* The health handler: gwd's own state and its dependencies', as JSON.
 *
 *   {"status":"ok","fingerprint":"<64 hex>","blob_age_s":12,"uptime_s":340,
 *    "checks":{"db":{"status":"ok"},"upstreams":{"status":"degraded",
 *              "detail":"demo: 0 of 1 targets healthy"}}}
 *
 * 200 when every check is ok, 503 ("status":"degraded") when one is not.
 * Checks are pluggable: the sessions engineer registers "db", the proxy
 * engineer "upstreams".  Until a module registers one, the check shows
 * {"status":"unknown"} and does not degrade the answer.  Check functions run
 * on an HTTP thread for every /health request: they must report state that a
 * background thread maintains, never do I/O themselves.
 */
#ifndef GWD_HEALTH_H
#define GWD_HEALTH_H

#include <stddef.h>
#include <stdint.h>

struct gwd_req;

enum gwd_health_state {
	GWD_HEALTH_DEGRADED = 0,
	GWD_HEALTH_OK = 1,
};

/* A check: returns enum gwd_health_state; may write a short explanation into
 * <detail> (<cap> bytes, NUL-terminated; left empty when there is none). */
typedef int (*gwd_health_fn)(void *ctx, char *detail, size_t cap);

/* Register check <name> ("db", "upstreams", or another name); a second
 * registration of a name replaces the first.  Call before serving or from a
 * reload hook.  Returns 0, or -1 when the table (8 checks) is full. */
int gwd_health_register(const char *name, gwd_health_fn fn, void *ctx);

/* Record the process start (uptime's origin). */
void gwd_health_start(void);

/* Seconds since gwd_health_start(). */
uint64_t gwd_health_uptime_s(void);

/* Run the registered check <name> now: returns enum gwd_health_state, -1 when
 * no module registered it (or no such name).  <detail> as for a check. */
int gwd_health_check(const char *name, char *detail, size_t cap);

/* Answer <r>.  Returns 0, or -1 when memory runs out. */
int gwd_health_handle(struct gwd_req *r);

#endif
