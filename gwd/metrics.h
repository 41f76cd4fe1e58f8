/* Metrics: per-thread counters, summed into Prometheus text when scraped.
 *
 * The request path only writes its own thread's counters (plain stores of a
 * value it alone writes: no lock, no atomic read-modify-write, no shared cache
 * line); a scrape reads every thread's counters and adds them up.
 *
 *   per worker:  codes[4096]  open-addressed (route slot, method, status) -> count
 *                hist[slot][17 buckets], sum_ns[slot]
 *   global:      route labels by slot (slot 0: "" = no route matched), bounded
 *                by GWD_METRICS_MAX_ROUTES; routes past the bound share "_other"
 *
 * Families: gateway_requests_total{route,method,code},
 * gateway_request_duration_seconds{route} (histogram), gateway_active_connections,
 * gateway_inflight_requests, gateway_reloads_total{result},
 * gateway_blob_info{fingerprint}, gateway_header_timeouts_total,
 * gateway_access_log_dropped_total, process_resident_memory_bytes,
 * process_open_fds, process_cpu_seconds_total —
 * plus whatever other modules add with gwd_metrics_add_family().
 */
#ifndef GWD_METRICS_H
#define GWD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "gwd/buf.h"

#define GWD_METRICS_MAX_ROUTES 1024
#define GWD_METRICS_NBUCKETS 16 /* finite buckets; +Inf is one more */

struct gwd_worker;
struct gwd_gen;

/* The slot for route label <label> (<len> bytes), registering it on first use.
 * Slot 0 is the "" label (no route).  Thread-safe; called when a generation is
 * built, never per request.  Returns the slot (the "_other" slot when full). */
uint32_t gwd_metrics_route_slot(const char *label, size_t len);

/* Count one request on worker <w>: route slot <slot>, method bit <method>
 * (enum gw_method; 0 for others), status <code>, duration <dur_ns>. */
void gwd_metrics_request(struct gwd_worker *w, uint32_t slot, unsigned method,
			 unsigned code, uint64_t dur_ns);

/* Render every family into <b> for generation <g> (NULL: no blob info).
 * Returns 0, or -1 when <b> was too small (<b->full> set; retry larger). */
int gwd_metrics_render(struct gwd_buf *b, const struct gwd_gen *g);

/* The metrics handler: answer <r> with the rendered text (in request memory,
 * grown until it fits).  Returns 0, or -1 when memory runs out. */
struct gwd_req;
int gwd_metrics_handle(struct gwd_req *r);

/* Add a family renderer: <render> appends complete "# HELP", "# TYPE" and
 * sample lines to <b> at each scrape (called under the scrape lock, from an
 * HTTP thread: it must be quick and must not block).  For other modules
 * (rate limiter, upstreams, sessions).  At most 16.  Returns 0 or -1 when full. */
int gwd_metrics_add_family(void (*render)(struct gwd_buf *b, void *ctx), void *ctx);

/* Append a Prometheus label value <s> (<n> bytes) escaped (\\, \", \n). */
int gwd_metrics_label(struct gwd_buf *b, const char *s, size_t n);

/* The counters of one route slot (or of all), summed over every thread. */
struct gwd_metrics_sum {
	uint64_t requests, c4xx, c5xx, c429;
	uint64_t hist[GWD_METRICS_NBUCKETS + 1]; /* durations, by bucket (not cumulative) */
};

/* The number of route slots in use (slot 0 included): slots below it, and
 * GWD_METRICS_MAX_ROUTES - 1 (the overflow), may have counts. */
uint32_t gwd_metrics_nslots(void);

/* The label of <slot> (borrowed: lives as long as gwd), "" for slot 0. */
const char *gwd_metrics_slot_label(uint32_t slot);

/* Sum every thread's counters by slot into <out>[0..<n>) (cleared first; may
 * be NULL when <n> is 0) and over every slot into <total> (may be NULL).
 * Reads without a lock, off the request path (status page, its sampler): a
 * moment's view, each counter whole. */
void gwd_metrics_sum(struct gwd_metrics_sum *out, uint32_t n, struct gwd_metrics_sum *total);

/* The <q> quantile (0 < q < 1) in milliseconds of the duration histogram
 * <hist> (GWD_METRICS_NBUCKETS + 1 counts), interpolated linearly within its
 * bucket; the +Inf bucket answers the last finite bound.  -1 when empty. */
double gwd_metrics_quantile_ms(const uint64_t *hist, double q);

/* The sum over all threads of requests counted with <slot>, <method>, <code>
 * (tests). */
uint64_t gwd_metrics_count(uint32_t slot, unsigned method, unsigned code);

#endif
