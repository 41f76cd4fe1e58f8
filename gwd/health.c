/* The health handler and its check registry (health.h). */
#include "gwd/health.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include "gwd/buf.h"
#include "gwd/clock.h"
#include "gwd/json.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"

#define MAX_CHECKS 8

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct check {
	char name[32];
	gwd_health_fn fn;
	void *ctx;
} checks[MAX_CHECKS] = {
	/* always listed; "unknown" until a module registers the function */
	{ "db", NULL, NULL },
	{ "upstreams", NULL, NULL },
};
static unsigned nchecks = 2;
static uint64_t start_ns;

void gwd_health_start(void)
{
	start_ns = gwd_clock_ns();
}

uint64_t gwd_health_uptime_s(void)
{
	return (gwd_clock_ns() - start_ns) / 1000000000u;
}

int gwd_health_check(const char *name, char *detail, size_t cap)
{
	int st = -1;

	detail[0] = '\0';
	pthread_mutex_lock(&reg_lock);
	for (unsigned i = 0; i < nchecks; i++)
		if (strcmp(checks[i].name, name) == 0 && checks[i].fn)
			st = checks[i].fn(checks[i].ctx, detail, cap);
	pthread_mutex_unlock(&reg_lock);
	return st;
}

int gwd_health_register(const char *name, gwd_health_fn fn, void *ctx)
{
	int rc = -1;
	unsigned i;

	pthread_mutex_lock(&reg_lock);
	for (i = 0; i < nchecks; i++)
		if (strcmp(checks[i].name, name) == 0)
			break;
	if (i < MAX_CHECKS && strlen(name) < sizeof checks[i].name) {
		strcpy(checks[i].name, name);
		checks[i].ctx = ctx;
		checks[i].fn = fn;
		if (i == nchecks)
			nchecks++;
		rc = 0;
	}
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

int gwd_health_handle(struct gwd_req *r)
{
	const struct gwd_gen *g = r->gen;
	size_t cap = 2048;
	char *mem = gwd_req_alloc(r, cap);
	struct gwd_buf b, cb;
	char cbmem[1200], detail[160];
	int ok = 1;
	struct timespec now;

	if (!mem)
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	/* the checks first (into their own buffer), to know the overall status */
	gwd_buf_init(&cb, cbmem, sizeof cbmem);
	pthread_mutex_lock(&reg_lock);
	for (unsigned i = 0; i < nchecks; i++) {
		int st = -1;

		detail[0] = '\0';
		if (checks[i].fn)
			st = checks[i].fn(checks[i].ctx, detail, sizeof detail);
		if (st == GWD_HEALTH_DEGRADED)
			ok = 0;
		gwd_buf_puts(&cb, i ? ",\"" : "\"");
		gwd_json_escape(&cb, checks[i].name, strlen(checks[i].name));
		gwd_buf_puts(&cb, "\":{\"status\":\"");
		gwd_buf_puts(&cb, st < 0 ? "unknown" : st == GWD_HEALTH_OK ? "ok" : "degraded");
		gwd_buf_putc(&cb, '"');
		if (detail[0]) {
			gwd_buf_puts(&cb, ",\"detail\":");
			gwd_json_str(&cb, detail, strnlen(detail, sizeof detail));
		}
		gwd_buf_putc(&cb, '}');
	}
	pthread_mutex_unlock(&reg_lock);
	gwd_buf_init(&b, mem, cap);
	gwd_buf_puts(&b, ok ? "{\"status\":\"ok\"" : "{\"status\":\"degraded\"");
	if (g) {
		gwd_buf_puts(&b, ",\"fingerprint\":\"");
		gwd_buf_puts(&b, g->fp_hex);
		gwd_buf_puts(&b, "\",\"blob_age_s\":");
		gwd_buf_u64(&b, now.tv_sec > g->loaded_unix ? (uint64_t)(now.tv_sec - g->loaded_unix) : 0);
	}
	gwd_buf_puts(&b, ",\"uptime_s\":");
	gwd_buf_u64(&b, (gwd_clock_ns() - start_ns) / 1000000000u);
	gwd_buf_puts(&b, ",\"checks\":{");
	gwd_buf_add(&b, cb.p, cb.len);
	gwd_buf_puts(&b, "}}");
	r->resp.status = ok ? 200 : 503;
	r->resp.ctype = "application/json";
	r->resp.body = mem;
	r->resp.len = b.len;
	if (gwd_req_add_resp_header_ref(r, "Cache-Control", 13, "no-store", 8) < 0)
		return -1;
	return b.full ? -1 : 0;
}
