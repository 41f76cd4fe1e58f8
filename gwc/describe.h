/* Blob records as text for people: what `gwc inspect` prints and what `gwc
 * diff` compares.
 *
 * A route, policy, upstream or the settings is described as an ordered list
 * of attributes (key, value), both strings:
 *
 *   route GET /api/hello     handler   respond
 *                            status    200
 *                            headers   Content-Type: application/json
 *                            body      {"message":"hello${query.name:+, }${query.name}"}
 *                            policies  public
 *                            source    routes/gateway.yaml:72:5
 *
 * Sharing one description makes the two commands agree: diff reports a change
 * exactly when inspect would print something different (the "source" place
 * aside, which moves when unrelated lines are edited).  Templates are printed
 * back in the route language's syntax, durations and sizes in its units.
 */
#ifndef GWC_DESCRIBE_H
#define GWC_DESCRIBE_H

#include <stdint.h>

#include "lib/blob.h"

struct gwc_attr {
	char *key; /* owned */
	char *val; /* owned */
};

struct gwc_desc {
	struct gwc_attr *v;
	uint32_t n, cap;
	int oom; /* an attribute could not be stored: the description is incomplete */
};

/* Append the attribute <key> = printf(<fmt>, ...) to <d>; on memory
 * exhaustion sets d->oom and drops it. */
void gwc_desc_add(struct gwc_desc *d, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Free every attribute of <d> and empty it. */
void gwc_desc_free(struct gwc_desc *d);

/* Describe record <i> of <b> into <d> (which the caller emptied).  Return 0,
 * or -1 when <i> is out of range or memory ran out (d->oom). */
int gwc_describe_route(const struct gw_blob *b, uint32_t i, struct gwc_desc *d);
int gwc_describe_policy(const struct gw_blob *b, uint32_t i, struct gwc_desc *d);
int gwc_describe_upstream(const struct gw_blob *b, uint32_t i, struct gwc_desc *d);
int gwc_describe_settings(const struct gw_blob *b, struct gwc_desc *d);

/* "GET,PUT /api/users/{id}" or "GET api.example.com/v1/login": route <i>'s
 * methods, host and pattern, malloc'd (caller frees); NULL when out of
 * memory or range. */
char *gwc_route_title(const struct gw_blob *b, uint32_t i);

/* <ms> in the route language's units: "1500ms", "2s", "30m", "12h", "1d". */
void gwc_fmt_ms(char *buf, unsigned len, uint32_t ms);

#endif
