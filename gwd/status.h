/* The status handler: the operators' live page and its JSON feed.
 *
 * GET on a `status: {}` route answers the page (one HTML file with its
 * script, styles and Debian's dygraphs embedded at build time: build/gen/
 * status_page.c, made by gwd/embed.sh); with `Accept: application/json` (and
 * no text/html) or `?format=json` it answers the feed the page polls
 * (schema/status.schema.json, docs/status.md).
 *
 * The charts' history is a ring of per-second samples kept here, in fixed
 * memory, filled by the upstream health checker's thread (gwd_status_tick)
 * from the per-thread counters the request path writes anyway (metrics.h):
 * the request path itself does nothing more for this page.
 *
 *   ring[GWD_STATUS_SAMPLES]   oldest ... newest (head), one per second
 *     t_ms, dt_ms              when, and the time it covers
 *     req, c4xx, c5xx, c429    requests answered in it, by class
 *     p50/p95/p99_us           its latency quantiles (histogram buckets), -1: none
 *     conns, inflight          open connections, requests in flight then
 */
#ifndef GWD_STATUS_H
#define GWD_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include "gwd/buf.h"

#define GWD_STATUS_SAMPLES 900 /* 15 minutes at one per second */

struct gwd_req;
struct gwd_gen;
struct gwd_services;

/* The embedded page (build/gen/status_page.c): <gwd_status_page_len> bytes of
 * HTML, static. */
extern const unsigned char gwd_status_page[];
extern const size_t gwd_status_page_len;

/* Take a sample when a second or more passed since the last one (<now_ns>:
 * CLOCK_MONOTONIC).  Called every ~100 ms by one thread; cheap otherwise. */
void gwd_status_tick(uint64_t now_ns);

/* Render the feed for generation <g> (not NULL) and services <svc> (may be
 * NULL) into <b>.  <sums> is scratch for GWD_METRICS_MAX_ROUTES slots' sums
 * (struct gwd_metrics_sum), owned by the caller.  Returns 0, or -1 when <b>
 * was too small (<b->full> set; retry larger). */
int gwd_status_render(struct gwd_buf *b, const struct gwd_gen *g,
		      const struct gwd_services *svc, void *sums);

/* The handler: the page, or the feed (see above), answered into <r>.
 * Returns 0, or -1 when memory runs out. */
int gwd_status_handle(struct gwd_req *r, const struct gwd_services *svc);

#endif
