/* Per-thread request counters and their Prometheus rendering (metrics.h). */
#include "gwd/metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "gwd/accesslog.h"
#include "gwd/conn.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"
#include "lib/model.h"

#define CODE_TAB 4096u /* (slot, method, code) entries per worker; power of 2 */
#define OTHER_SLOT (GWD_METRICS_MAX_ROUTES - 1)
#define NMETHODS 8     /* the 7 of enum gw_method, then "OTHER" */

/* Bucket bounds in nanoseconds, and as written in the "le" label. */
static const uint64_t bucket_ns[GWD_METRICS_NBUCKETS] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000,
	50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000u,
	5000000000u, 10000000000u,
};
static const char *const bucket_le[GWD_METRICS_NBUCKETS] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
	"0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};

struct code_ent {
	_Atomic uint32_t key; /* slot << 13 | method index << 10 | code; 0: empty */
	_Atomic uint64_t n;
};

struct gwd_wmetrics {
	struct code_ent codes[CODE_TAB];
	uint32_t ncodes;
	_Atomic uint64_t hist[GWD_METRICS_MAX_ROUTES][GWD_METRICS_NBUCKETS + 1];
	_Atomic uint64_t sum_ns[GWD_METRICS_MAX_ROUTES];
};

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static char *slot_label[GWD_METRICS_MAX_ROUTES];
static uint32_t slot_len[GWD_METRICS_MAX_ROUTES];
static _Atomic uint32_t nslots;

static pthread_mutex_t fam_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	void (*render)(struct gwd_buf *b, void *ctx);
	void *ctx;
} families[16];
static unsigned nfamilies;

uint32_t gwd_metrics_route_slot(const char *label, size_t len)
{
	uint32_t i, n, slot = OTHER_SLOT;

	pthread_mutex_lock(&slot_lock);
	n = atomic_load(&nslots);
	if (n == 0) { /* slot 0: no route; the last: the overflow */
		slot_label[0] = strdup("");
		slot_label[OTHER_SLOT] = strdup("_other");
		slot_len[OTHER_SLOT] = 6;
		n = 1;
	}
	for (i = 0; i < n; i++)
		if (slot_len[i] == len && slot_label[i] && memcmp(slot_label[i], label, len) == 0) {
			slot = i;
			goto out;
		}
	if (n < OTHER_SLOT) {
		char *copy = malloc(len + 1);

		if (copy) {
			memcpy(copy, label, len);
			copy[len] = '\0';
			slot_label[n] = copy;
			slot_len[n] = (uint32_t)len;
			slot = n++;
		}
	}
out:
	atomic_store(&nslots, n);
	pthread_mutex_unlock(&slot_lock);
	return slot;
}

/* The method index (0..6 for enum gw_method bits, 7 for others) of <bit>. */
static unsigned method_index(unsigned bit)
{
	if (bit == 0 || (bit & (bit - 1)) != 0 || bit > GW_M_OPTIONS)
		return NMETHODS - 1;
	return (unsigned)__builtin_ctz(bit);
}

/* Add <v> to a counter only the calling thread writes: a plain load and store,
 * atomic so that a concurrent scrape reads a whole value. */
static inline void bump(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

void gwd_metrics_request(struct gwd_worker *w, uint32_t slot, unsigned method,
			 unsigned code, uint64_t dur_ns)
{
	struct gwd_wmetrics *m = w->metrics;
	uint32_t key, h;
	unsigned b;

	if (!m) {
		m = calloc(1, sizeof *m);
		if (!m)
			return;
		w->metrics = m;
	}
	if (slot >= GWD_METRICS_MAX_ROUTES)
		slot = OTHER_SLOT;
	if (code > 999)
		code = 999;
	key = slot << 13 | method_index(method) << 10 | code;
	h = (key * 2654435761u) & (CODE_TAB - 1);
	for (unsigned probe = 0; probe < CODE_TAB; probe++, h = (h + 1) & (CODE_TAB - 1)) {
		uint32_t k = atomic_load_explicit(&m->codes[h].key, memory_order_relaxed);

		if (k == key) {
			bump(&m->codes[h].n, 1);
			break;
		}
		if (k == 0) {
			if (m->ncodes >= CODE_TAB * 3 / 4) {
				/* full enough: fold into the overflow route's entry */
				if (slot != OTHER_SLOT) {
					gwd_metrics_request(w, OTHER_SLOT, method, code, 0);
				}
				break;
			}
			atomic_store_explicit(&m->codes[h].n, 1, memory_order_relaxed);
			/* release: a scrape that sees the key sees the count */
			atomic_store_explicit(&m->codes[h].key, key, memory_order_release);
			m->ncodes++;
			break;
		}
	}
	if (dur_ns == 0 && slot == OTHER_SLOT)
		return; /* the fold above: the duration was counted by the caller */
	for (b = 0; b < GWD_METRICS_NBUCKETS && dur_ns > bucket_ns[b]; b++)
		;
	bump(&m->hist[slot][b], 1);
	bump(&m->sum_ns[slot], dur_ns);
}

uint64_t gwd_metrics_count(uint32_t slot, unsigned method, unsigned code)
{
	uint32_t key = slot << 13 | method_index(method) << 10 | code;
	uint64_t total = 0;
	unsigned nw = gwd_worker_count();

	for (unsigned i = 0; i < nw; i++) {
		struct gwd_wmetrics *m = gwd_worker_get(i)->metrics;

		if (!m)
			continue;
		for (unsigned j = 0; j < CODE_TAB; j++)
			if (atomic_load_explicit(&m->codes[j].key, memory_order_acquire) == key)
				total += atomic_load_explicit(&m->codes[j].n, memory_order_relaxed);
	}
	return total;
}

uint32_t gwd_metrics_nslots(void)
{
	return atomic_load(&nslots);
}

const char *gwd_metrics_slot_label(uint32_t slot)
{
	return slot < GWD_METRICS_MAX_ROUTES && slot < atomic_load(&nslots) && slot_label[slot]
		       ? slot_label[slot] : "";
}

void gwd_metrics_sum(struct gwd_metrics_sum *out, uint32_t n, struct gwd_metrics_sum *total)
{
	unsigned nw = gwd_worker_count();
	uint32_t used = atomic_load(&nslots);

	if (n)
		memset(out, 0, n * sizeof *out);
	if (total)
		memset(total, 0, sizeof *total);
	for (unsigned i = 0; i < nw; i++) {
		struct gwd_wmetrics *m = gwd_worker_get(i)->metrics;

		if (!m)
			continue;
		for (unsigned j = 0; j < CODE_TAB; j++) {
			uint32_t k = atomic_load_explicit(&m->codes[j].key, memory_order_acquire);
			uint32_t slot = k >> 13, code = k & 1023;
			uint64_t v;

			if (!k)
				continue;
			v = atomic_load_explicit(&m->codes[j].n, memory_order_relaxed);
			for (int pass = 0; pass < 2; pass++) {
				struct gwd_metrics_sum *s = pass ? total : slot < n ? &out[slot] : NULL;

				if (!s)
					continue;
				s->requests += v;
				s->c4xx += code >= 400 && code < 500 ? v : 0;
				s->c5xx += code >= 500 && code < 600 ? v : 0;
				s->c429 += code == 429 ? v : 0;
			}
		}
		for (uint32_t s = 0; s < GWD_METRICS_MAX_ROUTES; s++) {
			if (s >= used && s != OTHER_SLOT)
				continue;
			for (unsigned k = 0; k <= GWD_METRICS_NBUCKETS; k++) {
				uint64_t v = atomic_load_explicit(&m->hist[s][k], memory_order_relaxed);

				if (s < n)
					out[s].hist[k] += v;
				if (total)
					total->hist[k] += v;
			}
		}
	}
}

double gwd_metrics_quantile_ms(const uint64_t *hist, double q)
{
	uint64_t total = 0, acc = 0;
	double want;

	for (unsigned k = 0; k <= GWD_METRICS_NBUCKETS; k++)
		total += hist[k];
	if (!total)
		return -1;
	want = q * (double)total;
	for (unsigned k = 0; k < GWD_METRICS_NBUCKETS; k++) {
		double lo = k ? (double)bucket_ns[k - 1] : 0, hi = (double)bucket_ns[k];

		if (hist[k] && (double)(acc + hist[k]) >= want)
			return (lo + (hi - lo) * (want - (double)acc) / (double)hist[k]) / 1e6;
		acc += hist[k];
	}
	return (double)bucket_ns[GWD_METRICS_NBUCKETS - 1] / 1e6;
}

int gwd_metrics_add_family(void (*render)(struct gwd_buf *b, void *ctx), void *ctx)
{
	int rc = -1;

	pthread_mutex_lock(&fam_lock);
	if (nfamilies < sizeof families / sizeof *families) {
		families[nfamilies].render = render;
		families[nfamilies].ctx = ctx;
		nfamilies++;
		rc = 0;
	}
	pthread_mutex_unlock(&fam_lock);
	return rc;
}

int gwd_metrics_label(struct gwd_buf *b, const char *s, size_t n)
{
	size_t start = b->len, run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '"' ? "\\\"" : s[i] == '\n' ? "\\n" : NULL;

		if (!esc)
			continue;
		if (gwd_buf_add(b, s + run, i - run) < 0 || gwd_buf_add(b, esc, 2) < 0)
			goto fail;
		run = i + 1;
	}
	if (gwd_buf_add(b, s + run, n - run) < 0)
		goto fail;
	return 0;
fail:
	b->len = start;
	b->full = 1;
	return -1;
}

/* ---- scrape ------------------------------------------------------------------ */

/* The summed code table: an open-addressed table sized for every worker's
 * entries, kept between scrapes (scrapes run under scrape_lock). */
struct agg_ent {
	uint32_t key;
	uint64_t n;
};
static pthread_mutex_t scrape_lock = PTHREAD_MUTEX_INITIALIZER;

/* qsort order of aggregated entries: by key (slot, method, code). */
static int agg_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct agg_ent *)a)->key, y = ((const struct agg_ent *)b)->key;

	return x < y ? -1 : x > y;
}

/* Sum every worker's code table into a sorted array (malloc'd; caller frees).
 * Returns the number of entries and sets <*out>; 0 and NULL when empty or out
 * of memory. */
static size_t sum_codes(struct agg_ent **out)
{
	unsigned nw = gwd_worker_count();
	size_t cap = 0, n = 0, tabsz;
	struct agg_ent *tab, *res;

	*out = NULL;
	for (unsigned i = 0; i < nw; i++)
		if (gwd_worker_get(i)->metrics)
			cap += CODE_TAB;
	if (!cap)
		return 0;
	tabsz = cap * 2;
	tab = calloc(tabsz, sizeof *tab);
	if (!tab)
		return 0;
	for (unsigned i = 0; i < nw; i++) {
		struct gwd_wmetrics *m = gwd_worker_get(i)->metrics;

		if (!m)
			continue;
		for (unsigned j = 0; j < CODE_TAB; j++) {
			uint32_t k = atomic_load_explicit(&m->codes[j].key, memory_order_acquire);
			size_t h;

			if (!k)
				continue;
			h = (k * 2654435761u) % tabsz;
			while (tab[h].key && tab[h].key != k)
				h = (h + 1) % tabsz;
			tab[h].key = k;
			tab[h].n += atomic_load_explicit(&m->codes[j].n, memory_order_relaxed);
		}
	}
	for (size_t i = 0; i < tabsz; i++)
		if (tab[i].key)
			tab[n++] = tab[i];
	qsort(tab, n, sizeof *tab, agg_cmp);
	res = realloc(tab, (n ? n : 1) * sizeof *tab);
	*out = res ? res : tab;
	return n;
}

/* Append the process_* families (Linux /proc and getrusage). */
static void render_process(struct gwd_buf *b)
{
	struct rusage ru;
	long pages = 0, rss = 0, psz = sysconf(_SC_PAGESIZE);
	unsigned fds = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	DIR *d;

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	gwd_buf_printf(b, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
		       "# TYPE process_resident_memory_bytes gauge\n"
		       "process_resident_memory_bytes %ld\n", rss * psz);
	d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				fds++;
		closedir(d);
		fds--; /* the directory's own descriptor */
	}
	gwd_buf_printf(b, "# HELP process_open_fds Number of open file descriptors.\n"
		       "# TYPE process_open_fds gauge\nprocess_open_fds %u\n", fds);
	getrusage(RUSAGE_SELF, &ru);
	gwd_buf_printf(b, "# HELP process_cpu_seconds_total "
		       "Total user and system CPU time spent in seconds.\n"
		       "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.6f\n",
		       (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
			       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6);
}

/* Append the duration histogram of every slot that saw a request. */
static void render_hist(struct gwd_buf *b, uint32_t n)
{
	unsigned nw = gwd_worker_count();

	gwd_buf_puts(b, "# HELP gateway_request_duration_seconds "
		     "Time from the request line to the end of the response, by route.\n"
		     "# TYPE gateway_request_duration_seconds histogram\n");
	for (uint32_t s = 0; s < GWD_METRICS_MAX_ROUTES; s++) {
		uint64_t cnt[GWD_METRICS_NBUCKETS + 1] = { 0 }, sum = 0, total = 0;

		if (s >= n && s != OTHER_SLOT)
			continue;
		for (unsigned i = 0; i < nw; i++) {
			struct gwd_wmetrics *m = gwd_worker_get(i)->metrics;

			if (!m)
				continue;
			for (unsigned k = 0; k <= GWD_METRICS_NBUCKETS; k++)
				cnt[k] += atomic_load_explicit(&m->hist[s][k], memory_order_relaxed);
			sum += atomic_load_explicit(&m->sum_ns[s], memory_order_relaxed);
		}
		for (unsigned k = 0; k <= GWD_METRICS_NBUCKETS; k++)
			total += cnt[k];
		if (!total)
			continue;
		uint64_t acc = 0;
		for (unsigned k = 0; k <= GWD_METRICS_NBUCKETS; k++) {
			acc += cnt[k];
			gwd_buf_puts(b, "gateway_request_duration_seconds_bucket{route=\"");
			gwd_metrics_label(b, slot_label[s], slot_len[s]);
			gwd_buf_printf(b, "\",le=\"%s\"} %llu\n",
				       k < GWD_METRICS_NBUCKETS ? bucket_le[k] : "+Inf",
				       (unsigned long long)acc);
		}
		gwd_buf_puts(b, "gateway_request_duration_seconds_sum{route=\"");
		gwd_metrics_label(b, slot_label[s], slot_len[s]);
		gwd_buf_printf(b, "\"} %.9f\n", (double)sum / 1e9);
		gwd_buf_puts(b, "gateway_request_duration_seconds_count{route=\"");
		gwd_metrics_label(b, slot_label[s], slot_len[s]);
		gwd_buf_printf(b, "\"} %llu\n", (unsigned long long)total);
	}
}

int gwd_metrics_render(struct gwd_buf *b, const struct gwd_gen *g)
{
	struct agg_ent *agg;
	size_t nagg;
	uint32_t n;

	pthread_mutex_lock(&scrape_lock);
	n = atomic_load(&nslots);
	nagg = sum_codes(&agg);
	gwd_buf_puts(b, "# HELP gateway_requests_total "
		     "Requests answered, by route, method and status code.\n"
		     "# TYPE gateway_requests_total counter\n");
	for (size_t i = 0; i < nagg; i++) {
		uint32_t slot = agg[i].key >> 13, midx = agg[i].key >> 10 & 7, code = agg[i].key & 1023;
		const char *mname = midx < NMETHODS - 1 ? gw_method_name(1u << midx) : "OTHER";

		if (slot >= GWD_METRICS_MAX_ROUTES || !slot_label[slot])
			continue;
		gwd_buf_puts(b, "gateway_requests_total{route=\"");
		gwd_metrics_label(b, slot_label[slot], slot_len[slot]);
		gwd_buf_printf(b, "\",method=\"%s\",code=\"%u\"} %llu\n", mname, code,
			       (unsigned long long)agg[i].n);
	}
	free(agg);
	render_hist(b, n);
	gwd_buf_printf(b, "# HELP gateway_active_connections Client connections open now.\n"
		       "# TYPE gateway_active_connections gauge\ngateway_active_connections %llu\n",
		       (unsigned long long)gwd_conn_active());
	gwd_buf_printf(b, "# HELP gateway_inflight_requests Requests begun and not yet completed.\n"
		       "# TYPE gateway_inflight_requests gauge\ngateway_inflight_requests %llu\n",
		       (unsigned long long)gwd_worker_inflight());
	gwd_buf_printf(b, "# HELP gateway_reloads_total Blob reloads (SIGHUP), by result.\n"
		       "# TYPE gateway_reloads_total counter\n"
		       "gateway_reloads_total{result=\"ok\"} %llu\n"
		       "gateway_reloads_total{result=\"error\"} %llu\n",
		       (unsigned long long)gwd_reload_count(1), (unsigned long long)gwd_reload_count(0));
	if (g) {
		gwd_buf_printf(b, "# HELP gateway_blob_info The blob being served (value 1).\n"
			       "# TYPE gateway_blob_info gauge\n"
			       "gateway_blob_info{fingerprint=\"%s\",serial=\"%llu\"} 1\n",
			       g->fp_hex, (unsigned long long)g->serial);
	}
	gwd_buf_printf(b, "# HELP gateway_header_timeouts_total "
		       "Connections shut down for not completing a request head in time, "
		       "or for a request body arriving too slowly.\n"
		       "# TYPE gateway_header_timeouts_total counter\ngateway_header_timeouts_total %llu\n",
		       (unsigned long long)gwd_conn_reaped());
	gwd_buf_printf(b, "# HELP gateway_access_log_dropped_total "
		       "Access log lines lost because the log could not keep up.\n"
		       "# TYPE gateway_access_log_dropped_total counter\n"
		       "gateway_access_log_dropped_total %llu\n",
		       (unsigned long long)gwd_accesslog_dropped());
	pthread_mutex_lock(&fam_lock);
	for (unsigned i = 0; i < nfamilies; i++)
		families[i].render(b, families[i].ctx);
	pthread_mutex_unlock(&fam_lock);
	render_process(b);
	pthread_mutex_unlock(&scrape_lock);
	return b->full ? -1 : 0;
}

int gwd_metrics_handle(struct gwd_req *r)
{
	/* the text grows with the routes seen: start at 64 KiB, retry larger */
	for (size_t cap = 64 * 1024; cap <= 64u * 1024 * 1024; cap *= 4) {
		struct gwd_buf b;
		char *mem = gwd_req_alloc(r, cap);

		if (!mem)
			return -1;
		gwd_buf_init(&b, mem, cap);
		if (gwd_metrics_render(&b, r->gen) == 0) {
			r->resp.status = 200;
			r->resp.ctype = "text/plain; version=0.0.4; charset=utf-8";
			r->resp.body = mem;
			r->resp.len = b.len;
			return 0;
		}
	}
	return -1;
}
