/* The proxy service (proxy_service.h): what runs beside the requests for
 * proxy routes -- the engine threads started and stopped, the active health
 * checker thread (which also ticks the status page's sampler), the
 * "upstreams" health check and the upstream metric families.
 */
#include "gwd/proxy_service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gwd/buf.h"
#include "gwd/clock.h"
#include "gwd/health.h"
#include "gwd/metrics.h"
#include "gwd/proxy.h"
#include "gwd/reload.h"
#include "gwd/status.h"
#include "gwd/upstream.h"
#include "gwd/worker.h"

static struct {
	pthread_t checker;
	_Atomic int live;
	int started;
} svc_state;

/* The active health checker: every 100 ms, the targets of the current
 * generation that are due are probed (gwd_upstream_health_round).  It holds the
 * generation only for the round, so a reload's old blob is freed soon after.
 * It also ticks the status page's sampler (off the request path). */
static void *checker(void *arg)
{
	struct gwd_worker *w = gwd_worker_self();

	(void)arg;
	while (atomic_load(&svc_state.live)) {
		struct timespec tick = { 0, 100 * 1000000L };
		struct gwd_gen *g = gwd_reload_acquire(w);

		if (g) {
			gwd_upstream_health_round(&g->ups, gwd_clock_ns());
			gwd_reload_release(g, w);
		}
		gwd_status_tick(gwd_clock_ns());
		nanosleep(&tick, NULL);
	}
	return NULL;
}

/* /health's "upstreams": degraded when an upstream has no available target. */
static int check_upstreams(void *ctx, char *detail, size_t cap)
{
	struct gwd_worker *w = gwd_worker_self();
	struct gwd_gen *g = gwd_reload_acquire(w);
	uint64_t now = gwd_clock_ns();
	int ok = 1;
	size_t o = 0;

	(void)ctx;
	detail[0] = '\0';
	if (!g)
		return GWD_HEALTH_OK;
	for (uint32_t i = 0; i < g->ups.n; i++) {
		const struct gwd_upstream_state *u = &g->ups.u[i];
		unsigned avail = 0;
		int n;

		for (uint32_t j = 0; j < u->n; j++)
			avail += (unsigned)gwd_upstream_target_available(&u->t[j], now);
		if (avail)
			continue;
		ok = 0;
		n = snprintf(detail + o, cap - o, "%s%s: 0 of %u targets available", o ? "; " : "",
			     u->cfg.name.p, u->n);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
	gwd_reload_release(g, w);
	return ok ? GWD_HEALTH_OK : GWD_HEALTH_DEGRADED;
}

static void render_upstreams(struct gwd_buf *b, void *ctx)
{
	static const char *const le[GWD_UP_NBUCKETS] = {
		"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
		"0.5", "1", "5",
	};
	struct gwd_worker *w = gwd_worker_self();
	struct gwd_gen *g = gwd_reload_acquire(w);
	uint64_t now = gwd_clock_ns();

	(void)ctx;
	if (!g)
		return;
	gwd_buf_puts(b, "# HELP gateway_upstream_requests_total "
			"Upstream exchanges by the status answered (502/503/504 for failures).\n"
			"# TYPE gateway_upstream_requests_total counter\n");
	for (uint32_t i = 0; i < g->ups.n; i++)
		for (unsigned code = 100; code < 600; code++) {
			uint64_t v = atomic_load_explicit(&g->ups.u[i].codes[code], memory_order_relaxed);

			if (!v)
				continue;
			gwd_buf_puts(b, "gateway_upstream_requests_total{upstream=\"");
			gwd_metrics_label(b, g->ups.u[i].cfg.name.p, g->ups.u[i].cfg.name.len);
			gwd_buf_printf(b, "\",code=\"%u\"} %llu\n", code, (unsigned long long)v);
		}
	gwd_buf_puts(b, "# HELP gateway_upstream_duration_seconds "
			"Upstream exchange time, retries included.\n"
			"# TYPE gateway_upstream_duration_seconds histogram\n");
	for (uint32_t i = 0; i < g->ups.n; i++) {
		const struct gwd_upstream_state *u = &g->ups.u[i];
		uint64_t cum = 0;

		for (unsigned k = 0; k <= GWD_UP_NBUCKETS; k++) {
			cum += atomic_load_explicit(&u->dur_bucket[k], memory_order_relaxed);
			gwd_buf_puts(b, "gateway_upstream_duration_seconds_bucket{upstream=\"");
			gwd_metrics_label(b, u->cfg.name.p, u->cfg.name.len);
			gwd_buf_printf(b, "\",le=\"%s\"} %llu\n", k < GWD_UP_NBUCKETS ? le[k] : "+Inf",
				       (unsigned long long)cum);
		}
		gwd_buf_puts(b, "gateway_upstream_duration_seconds_sum{upstream=\"");
		gwd_metrics_label(b, u->cfg.name.p, u->cfg.name.len);
		gwd_buf_printf(b, "\"} %.6f\n",
			       (double)atomic_load_explicit(&u->dur_sum_us, memory_order_relaxed) / 1e6);
		gwd_buf_puts(b, "gateway_upstream_duration_seconds_count{upstream=\"");
		gwd_metrics_label(b, u->cfg.name.p, u->cfg.name.len);
		gwd_buf_printf(b, "\"} %llu\n", (unsigned long long)cum);
	}
	gwd_buf_puts(b, "# HELP gateway_upstream_aborted_total "
			"Streaming exchanges cut mid-body, by the side that failed or left.\n"
			"# TYPE gateway_upstream_aborted_total counter\n");
	for (uint32_t i = 0; i < g->ups.n; i++)
		for (unsigned side = 0; side < 2; side++) {
			gwd_buf_puts(b, "gateway_upstream_aborted_total{upstream=\"");
			gwd_metrics_label(b, g->ups.u[i].cfg.name.p, g->ups.u[i].cfg.name.len);
			gwd_buf_printf(b, "\",side=\"%s\"} %llu\n", side ? "client" : "upstream",
				       (unsigned long long)atomic_load_explicit(&g->ups.u[i].aborted[side],
										memory_order_relaxed));
		}
	gwd_buf_puts(b, "# HELP gateway_upstream_target_up "
			"Whether a target may take requests (healthy and not ejected).\n"
			"# TYPE gateway_upstream_target_up gauge\n");
	for (uint32_t i = 0; i < g->ups.n; i++)
		for (uint32_t j = 0; j < g->ups.u[i].n; j++) {
			const struct gwd_upstream_target_state *t = &g->ups.u[i].t[j];

			gwd_buf_puts(b, "gateway_upstream_target_up{upstream=\"");
			gwd_metrics_label(b, g->ups.u[i].cfg.name.p, g->ups.u[i].cfg.name.len);
			gwd_buf_puts(b, "\",target=\"");
			gwd_metrics_label(b, t->hostport, strlen(t->hostport));
			gwd_buf_printf(b, "\"} %d\n", gwd_upstream_target_available(t, now));
		}
	gwd_reload_release(g, w);
}

int gwd_proxy_service_start(unsigned engines)
{
	if (svc_state.started)
		return 0;
	if (gwd_proxy_start(engines) != 0)
		return -1;
	atomic_store(&svc_state.live, 1);
	if (pthread_create(&svc_state.checker, NULL, checker, NULL) != 0) {
		gwd_proxy_stop();
		return -1;
	}
	svc_state.started = 1;
	gwd_health_register("upstreams", check_upstreams, NULL);
	gwd_metrics_add_family(render_upstreams, NULL);
	return 0;
}

void gwd_proxy_service_stop(void)
{
	if (!svc_state.started)
		return;
	atomic_store(&svc_state.live, 0);
	pthread_join(svc_state.checker, NULL);
	gwd_proxy_stop();
	svc_state.started = 0;
}
