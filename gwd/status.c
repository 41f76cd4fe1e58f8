/* The status page, its JSON feed and the ring of per-second samples (status.h). */
#include "gwd/status.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "gwd/cluster_rl.h"
#include "gwd/conn.h"
#include "gwd/health.h"
#include "gwd/json.h"
#include "gwd/metrics.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/services.h"
#include "gwd/store.h"
#include "gwd/upstream.h"
#include "gwd/worker.h"
#include "lib/blob.h"

struct sample {
	int64_t t_ms;       /* CLOCK_REALTIME ms at the end of the interval */
	uint32_t dt_ms;     /* the interval's length */
	uint32_t req, c4xx, c5xx, c429;
	int32_t p50_us, p95_us, p99_us; /* -1: no request in the interval */
	uint32_t conns, inflight;
};

/* The ring: written by the ticking thread, read by feeds, both under <lock>
 * (never taken on the request path). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sample ring[GWD_STATUS_SAMPLES];
static unsigned ring_head, ring_n;      /* next write; samples held */
/* the ticking thread's own: the totals at the previous sample */
static struct gwd_metrics_sum prev;
static uint64_t prev_ns;

/* Microseconds of <ms> (a quantile, -1 when none), saturated. */
static int32_t to_us(double ms)
{
	if (ms < 0)
		return -1;
	return ms * 1000 > 2e9 ? 2000000000 : (int32_t)(ms * 1000 + 0.5);
}

/* <a> - <b> of a counter that only grows, clamped to 32 bits. */
static uint32_t delta(uint64_t a, uint64_t b)
{
	uint64_t d = a > b ? a - b : 0;

	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

void gwd_status_tick(uint64_t now_ns)
{
	struct gwd_metrics_sum cur, d;
	struct timespec wall;
	struct sample s;

	if (prev_ns && now_ns - prev_ns < 1000000000ull)
		return;
	gwd_metrics_sum(NULL, 0, &cur);
	if (!prev_ns) { /* the first call: the origin of the first interval */
		prev = cur;
		prev_ns = now_ns;
		return;
	}
	for (unsigned k = 0; k <= GWD_METRICS_NBUCKETS; k++)
		d.hist[k] = cur.hist[k] > prev.hist[k] ? cur.hist[k] - prev.hist[k] : 0;
	clock_gettime(CLOCK_REALTIME, &wall);
	s.t_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
	s.dt_ms = (uint32_t)((now_ns - prev_ns) / 1000000u);
	s.req = delta(cur.requests, prev.requests);
	s.c4xx = delta(cur.c4xx, prev.c4xx);
	s.c5xx = delta(cur.c5xx, prev.c5xx);
	s.c429 = delta(cur.c429, prev.c429);
	s.p50_us = to_us(gwd_metrics_quantile_ms(d.hist, 0.50));
	s.p95_us = to_us(gwd_metrics_quantile_ms(d.hist, 0.95));
	s.p99_us = to_us(gwd_metrics_quantile_ms(d.hist, 0.99));
	s.conns = (uint32_t)gwd_conn_active();
	s.inflight = (uint32_t)gwd_worker_inflight();
	prev = cur;
	prev_ns = now_ns;
	pthread_mutex_lock(&lock);
	ring[ring_head] = s;
	ring_head = (ring_head + 1) % GWD_STATUS_SAMPLES;
	if (ring_n < GWD_STATUS_SAMPLES)
		ring_n++;
	pthread_mutex_unlock(&lock);
}

/* ---- the feed ------------------------------------------------------------------ */

/* Append <v> thousandths as a decimal ("12.345"), or null when <v> < 0: no
 * printf per number, so that a thousand routes render in well under 1 ms. */
static void put_milli(struct gwd_buf *b, int64_t v)
{
	char frac[4];

	if (v < 0) {
		gwd_buf_puts(b, "null");
		return;
	}
	gwd_buf_u64(b, (uint64_t)v / 1000);
	frac[0] = '.';
	frac[1] = (char)('0' + v / 100 % 10);
	frac[2] = (char)('0' + v / 10 % 10);
	frac[3] = (char)('0' + v % 10);
	gwd_buf_add(b, frac, 4);
}

/* Append "<key>":<v>. */
static void put_u64(struct gwd_buf *b, const char *key, uint64_t v)
{
	gwd_buf_putc(b, '"');
	gwd_buf_puts(b, key);
	gwd_buf_puts(b, "\":");
	gwd_buf_u64(b, v);
}

/* The route-file spelling of handler kind <h> (static), "?" when unknown. */
static const char *handler_name(unsigned h)
{
	static const char *const names[] = {
		"?", "respond", "echo", "proxy", "login", "logout", "health", "metrics", "status",
	};
	return h < sizeof names / sizeof *names ? names[h] : "?";
}

/* The route-file spelling of policy kind <k> (static), "?" when unknown. */
static const char *policy_kind(unsigned k)
{
	switch (k) {
	case GW_P_RATE_LIMIT: return "rate_limit";
	case GW_P_AUTH: return "auth";
	case GW_P_BODY_LIMIT: return "body_limit";
	case GW_P_CORS: return "cors";
	case GW_P_HEADERS: return "headers";
	case GW_P_IP: return "ip";
	default: return "?";
	}
}

/* The threads of this process (/proc/self/status), 0 when unreadable. */
static unsigned process_threads(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	unsigned n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %u", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* "samples": the ring, oldest first, as columns. */
static void render_samples(struct gwd_buf *b)
{
	static const char *const cols[] = { "t", "dt_ms", "requests", "4xx", "5xx", "429",
					    "p50_ms", "p95_ms", "p99_ms", "connections",
					    "inflight" };

	gwd_buf_puts(b, ",\"samples\":{\"interval_ms\":1000,\"capacity\":");
	gwd_buf_u64(b, GWD_STATUS_SAMPLES);
	pthread_mutex_lock(&lock);
	for (unsigned c = 0; c < sizeof cols / sizeof *cols; c++) {
		gwd_buf_puts(b, ",\"");
		gwd_buf_puts(b, cols[c]);
		gwd_buf_puts(b, "\":[");
		for (unsigned i = 0; i < ring_n; i++) {
			const struct sample *s =
				&ring[(ring_head + GWD_STATUS_SAMPLES - ring_n + i) % GWD_STATUS_SAMPLES];

			if (i)
				gwd_buf_putc(b, ',');
			switch (c) {
			case 0: gwd_buf_u64(b, (uint64_t)s->t_ms); break;
			case 1: gwd_buf_u64(b, s->dt_ms); break;
			case 2: gwd_buf_u64(b, s->req); break;
			case 3: gwd_buf_u64(b, s->c4xx); break;
			case 4: gwd_buf_u64(b, s->c5xx); break;
			case 5: gwd_buf_u64(b, s->c429); break;
			case 6: put_milli(b, s->p50_us); break;
			case 7: put_milli(b, s->p95_us); break;
			case 8: put_milli(b, s->p99_us); break;
			case 9: gwd_buf_u64(b, s->conns); break;
			default: gwd_buf_u64(b, s->inflight); break;
			}
		}
		gwd_buf_putc(b, ']');
	}
	pthread_mutex_unlock(&lock);
	gwd_buf_putc(b, '}');
}

/* "blob", "gateway" and "store". */
static void render_process(struct gwd_buf *b, const struct gwd_gen *g,
			   const struct gwd_services *svc)
{
	uint32_t nfiles = gw_blob_count(g->blob, GW_BLOB_FILES);
	char why[256], detail[160];
	int64_t when = 0;
	int st;

	gwd_buf_puts(b, ",\"blob\":{\"fingerprint\":\"");
	gwd_buf_puts(b, g->fp_hex);
	gwd_buf_puts(b, "\",");
	put_u64(b, "generation", g->serial);
	gwd_buf_putc(b, ',');
	put_u64(b, "loaded_at", (uint64_t)g->loaded_unix);
	gwd_buf_puts(b, ",\"compiled_at\":");
	if (g->compiled_unix > 0)
		gwd_buf_u64(b, (uint64_t)g->compiled_unix);
	else
		gwd_buf_puts(b, "null");
	gwd_buf_puts(b, ",\"files\":[");
	for (uint32_t i = 0; i < nfiles; i++) {
		struct gw_str f;

		if (gw_blob_file(g->blob, i, &f) != GW_OK)
			continue;
		if (i)
			gwd_buf_putc(b, ',');
		gwd_json_str(b, f.p, f.len);
	}
	gwd_buf_puts(b, "],");
	put_u64(b, "routes", g->nroutes);
	gwd_buf_puts(b, ",\"reloads\":{");
	put_u64(b, "ok", gwd_reload_count(1));
	gwd_buf_putc(b, ',');
	put_u64(b, "refused", gwd_reload_count(0));
	gwd_buf_puts(b, ",\"last_refused\":");
	if (gwd_reload_last_refused(why, sizeof why, &when)) {
		gwd_buf_puts(b, "{\"at\":");
		gwd_buf_u64(b, (uint64_t)when);
		gwd_buf_puts(b, ",\"reason\":");
		gwd_json_str(b, why, strnlen(why, sizeof why));
		gwd_buf_putc(b, '}');
	} else {
		gwd_buf_puts(b, "null");
	}
	gwd_buf_puts(b, "}},\"gateway\":{");
	put_u64(b, "pid", (uint64_t)getpid());
	gwd_buf_putc(b, ',');
	put_u64(b, "uptime_s", gwd_health_uptime_s());
	gwd_buf_putc(b, ',');
	put_u64(b, "threads", process_threads());
	gwd_buf_putc(b, ',');
	put_u64(b, "connections", gwd_conn_active());
	gwd_buf_putc(b, ',');
	put_u64(b, "inflight", gwd_worker_inflight());
	gwd_buf_puts(b, "},\"store\":{\"kind\":\"");
	gwd_buf_puts(b, gwd_cluster_configured() ? "redis" : "sqlite");
	gwd_buf_puts(b, "\",\"status\":\"");
	st = svc && svc->store ? gwd_health_check("db", detail, sizeof detail) : -1;
	gwd_buf_puts(b, st < 0 ? "unknown" : st == GWD_HEALTH_OK ? "ok" : "unavailable");
	gwd_buf_puts(b, "\"}");
}

/* "routes": every route as compiled, with its slot's counters. */
static void render_routes(struct gwd_buf *b, const struct gwd_gen *g,
			  const struct gwd_metrics_sum *sums)
{
	gwd_buf_puts(b, ",\"routes\":[");
	for (uint32_t i = 0; i < g->nroutes; i++) {
		const struct gwd_route *rt = &g->routes[i];
		const struct gwd_metrics_sum *s = &sums[rt->metric_slot];
		struct gw_str host = { "", 0 };
		struct gw_proxy px;
		uint32_t root;
		int first = 1;

		gwd_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		gwd_json_str(b, rt->r.name.p, rt->r.name.len);
		gwd_buf_puts(b, ",\"pattern\":");
		gwd_json_str(b, rt->r.pattern.p, rt->r.pattern.len);
		if (rt->r.host && gw_blob_host(g->blob, rt->r.host, &host, &root) != GW_OK)
			host = (struct gw_str){ "", 0 };
		gwd_buf_puts(b, ",\"host\":");
		gwd_json_str(b, host.p, host.len);
		gwd_buf_puts(b, ",\"methods\":[");
		for (unsigned m = 1; m <= GW_M_OPTIONS; m <<= 1)
			if (rt->r.methods & m) {
				gwd_buf_puts(b, first ? "\"" : ",\"");
				gwd_buf_puts(b, gw_method_name(m));
				gwd_buf_putc(b, '"');
				first = 0;
			}
		gwd_buf_puts(b, "],\"handler\":\"");
		gwd_buf_puts(b, handler_name(rt->r.handler));
		gwd_buf_puts(b, "\",\"upstream\":");
		if (rt->r.handler == GW_H_PROXY &&
		    gw_blob_proxy(g->blob, rt->r.handler_index, &px) == GW_OK && px.upstream < g->ups.n)
			gwd_json_str(b, g->ups.u[px.upstream].cfg.name.p,
				     g->ups.u[px.upstream].cfg.name.len);
		else
			gwd_buf_puts(b, "null");
		gwd_buf_puts(b, ",\"policies\":[");
		for (uint16_t k = 0; k < rt->npols; k++) {
			const struct gw_policy *p = &g->policies[rt->pols[k]];

			gwd_buf_puts(b, k ? ",{\"name\":" : "{\"name\":");
			gwd_json_str(b, p->name.p, p->name.len);
			gwd_buf_puts(b, ",\"kind\":\"");
			gwd_buf_puts(b, policy_kind(p->kind));
			gwd_buf_puts(b, "\"}");
		}
		gwd_buf_puts(b, "],");
		put_u64(b, "requests", s->requests);
		gwd_buf_putc(b, ',');
		put_u64(b, "4xx", s->c4xx);
		gwd_buf_putc(b, ',');
		put_u64(b, "5xx", s->c5xx);
		gwd_buf_putc(b, ',');
		put_u64(b, "429", s->c429);
		gwd_buf_puts(b, ",\"p50_ms\":");
		put_milli(b, to_us(gwd_metrics_quantile_ms(s->hist, 0.50)));
		gwd_buf_puts(b, ",\"p95_ms\":");
		put_milli(b, to_us(gwd_metrics_quantile_ms(s->hist, 0.95)));
		gwd_buf_puts(b, ",\"p99_ms\":");
		put_milli(b, to_us(gwd_metrics_quantile_ms(s->hist, 0.99)));
		gwd_buf_putc(b, '}');
	}
	gwd_buf_putc(b, ']');
}

/* "upstreams": every target's state as the proxy sees it now. */
static void render_upstreams(struct gwd_buf *b, const struct gwd_gen *g)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	gwd_buf_puts(b, ",\"upstreams\":[");
	for (uint32_t i = 0; i < g->ups.n; i++) {
		const struct gwd_upstream_state *u = &g->ups.u[i];

		gwd_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		gwd_json_str(b, u->cfg.name.p, u->cfg.name.len);
		gwd_buf_puts(b, ",\"health_check\":");
		if (u->cfg.hc_path.len)
			gwd_json_str(b, u->cfg.hc_path.p, u->cfg.hc_path.len);
		else
			gwd_buf_puts(b, "null");
		gwd_buf_puts(b, ",\"targets\":[");
		for (uint32_t j = 0; j < u->n; j++) {
			const struct gwd_upstream_target_state *t = &u->t[j];
			uint64_t ej = atomic_load_explicit(&t->ejected_until, memory_order_relaxed);
			int64_t lc = atomic_load_explicit(&t->last_check_ms, memory_order_relaxed);
			int healthy = atomic_load_explicit(&t->healthy, memory_order_relaxed) != 0;
			int ejected = ej && ej > now;

			gwd_buf_puts(b, j ? ",{\"address\":" : "{\"address\":");
			gwd_json_str(b, t->hostport, strlen(t->hostport));
			gwd_buf_puts(b, ",\"state\":\"");
			gwd_buf_puts(b, !healthy ? "down" : ejected ? "ejected" : "up");
			gwd_buf_puts(b, "\",\"ejected_for_ms\":");
			gwd_buf_u64(b, ejected ? (ej - now) / 1000000u : 0);
			gwd_buf_putc(b, ',');
			put_u64(b, "in_flight", atomic_load_explicit(&t->active, memory_order_relaxed));
			gwd_buf_putc(b, ',');
			put_u64(b, "requests", atomic_load_explicit(&t->requests, memory_order_relaxed));
			gwd_buf_putc(b, ',');
			put_u64(b, "failures", atomic_load_explicit(&t->failures, memory_order_relaxed));
			gwd_buf_putc(b, ',');
			put_u64(b, "consecutive_failures",
				atomic_load_explicit(&t->fails, memory_order_relaxed));
			gwd_buf_puts(b, ",\"last_check\":");
			if (lc > 0) {
				gwd_buf_puts(b, "{\"at_ms\":");
				gwd_buf_u64(b, (uint64_t)lc);
				gwd_buf_puts(b, atomic_load_explicit(&t->last_check_ok,
								     memory_order_relaxed)
							? ",\"ok\":true}" : ",\"ok\":false}");
			} else {
				gwd_buf_puts(b, "null");
			}
			gwd_buf_putc(b, '}');
		}
		gwd_buf_puts(b, "]}");
	}
	gwd_buf_putc(b, ']');
}

int gwd_status_render(struct gwd_buf *b, const struct gwd_gen *g,
		      const struct gwd_services *svc, void *sums)
{
	struct gwd_metrics_sum *s = sums, total;
	struct timespec wall;

	gwd_metrics_sum(s, GWD_METRICS_MAX_ROUTES, &total);
	clock_gettime(CLOCK_REALTIME, &wall);
	gwd_buf_puts(b, "{\"version\":1,");
	put_u64(b, "now_ms", (uint64_t)wall.tv_sec * 1000 + (uint64_t)wall.tv_nsec / 1000000);
	render_process(b, g, svc);
	gwd_buf_puts(b, ",\"totals\":{");
	put_u64(b, "requests", total.requests);
	gwd_buf_putc(b, ',');
	put_u64(b, "4xx", total.c4xx);
	gwd_buf_putc(b, ',');
	put_u64(b, "5xx", total.c5xx);
	gwd_buf_putc(b, ',');
	put_u64(b, "429", total.c429);
	gwd_buf_putc(b, '}');
	render_samples(b);
	render_routes(b, g, s);
	render_upstreams(b, g);
	gwd_buf_puts(b, "}\n");
	return b->full ? -1 : 0;
}

/* ---- the handler ----------------------------------------------------------------- */

/* Whether <r> asks for the feed: ?format=json, or an Accept naming JSON but
 * not HTML (a browser's navigation names text/html). */
static int wants_json(struct gwd_req *r)
{
	const char *acc;

	if (r->query && r->query_len >= 11 && memmem(r->query, r->query_len, "format=json", 11))
		return 1;
	acc = r->mhd ? MHD_lookup_connection_value(r->mhd, MHD_HEADER_KIND, "Accept") : NULL;
	return acc && strcasestr(acc, "application/json") && !strcasestr(acc, "text/html");
}

int gwd_status_handle(struct gwd_req *r, const struct gwd_services *svc)
{
	void *sums;
	size_t cap;

	if (gwd_req_add_resp_header_ref(r, "Cache-Control", 13, "no-store", 8) < 0 ||
	    gwd_req_add_resp_header_ref(r, "Vary", 4, "Accept", 6) < 0)
		return -1;
	if (!wants_json(r)) {
		/* the page: its script only talks to this origin */
		static const char csp[] = "default-src 'none'; script-src 'unsafe-inline'; "
					  "style-src 'unsafe-inline'; connect-src 'self'; img-src data:";

		if (gwd_req_add_resp_header_ref(r, "Content-Security-Policy", 23, csp,
						sizeof csp - 1) < 0)
			return -1;
		r->resp.status = 200;
		r->resp.ctype = "text/html; charset=utf-8";
		r->resp.body = (const char *)gwd_status_page;
		r->resp.len = gwd_status_page_len;
		return 0;
	}
	sums = gwd_req_alloc(r, GWD_METRICS_MAX_ROUTES * sizeof(struct gwd_metrics_sum));
	if (!sums || !r->gen)
		return -1;
	/* the feed grows with the routes: start at what they likely need */
	cap = 64 * 1024 + (size_t)r->gen->nroutes * 512;
	for (int tries = 0; tries < 4; tries++, cap *= 4) {
		struct gwd_buf b;
		char *mem = gwd_req_alloc(r, cap);

		if (!mem)
			return -1;
		gwd_buf_init(&b, mem, cap);
		if (gwd_status_render(&b, r->gen, svc, sums) == 0) {
			r->resp.status = 200;
			r->resp.ctype = "application/json";
			r->resp.body = mem;
			r->resp.len = b.len;
			return 0;
		}
	}
	return -1;
}
