/* Tests of gwd/metrics.c: per-thread counters summed at scrape, the
 * Prometheus text (parsed back line by line), label escaping, the histogram's
 * cumulative buckets, and families added by other modules. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/metrics.h"
#include "gwd/worker.h"
#include "lib/model.h"

int gw_suite_gwd_metrics(void);

#define PER_THREAD 20000

static uint32_t slot_a;

static void *count_thread(void *arg)
{
	struct gwd_worker *w = gwd_worker_self();

	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		gwd_metrics_request(w, slot_a, GW_M_GET, i % 4 ? 200 : 503, 300000 /* 0.3 ms */);
	return NULL;
}

/* The value of the sample line starting with <prefix> in <text>, or -1. */
static double sample(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while ((p = strstr(p, prefix)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

static void test_threads_sum(void)
{
	pthread_t t[4];
	size_t cap = 1 << 20;
	char *mem = malloc(cap);
	struct gwd_buf b;

	slot_a = gwd_metrics_route_slot("metrics-test-a", 14);
	CU_ASSERT(slot_a > 0);
	CU_ASSERT_EQUAL(gwd_metrics_route_slot("metrics-test-a", 14), slot_a);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, count_thread, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(gwd_metrics_count(slot_a, GW_M_GET, 200), 4 * PER_THREAD * 3 / 4);
	CU_ASSERT_EQUAL(gwd_metrics_count(slot_a, GW_M_GET, 503), 4 * PER_THREAD / 4);
	CU_ASSERT_EQUAL(gwd_metrics_count(slot_a, GW_M_POST, 200), 0);
	gwd_buf_init(&b, mem, cap - 1);
	CU_ASSERT_EQUAL_FATAL(gwd_metrics_render(&b, NULL), 0);
	mem[b.len] = '\0';
	CU_ASSERT_EQUAL(sample(mem, "gateway_requests_total{route=\"metrics-test-a\",method=\"GET\",code=\"200\"}"),
			4 * PER_THREAD * 3 / 4);
	CU_ASSERT_EQUAL(sample(mem, "gateway_requests_total{route=\"metrics-test-a\",method=\"GET\",code=\"503\"}"),
			4 * PER_THREAD / 4);
	/* 0.3 ms lands in le=0.0005 and every bucket above; not in le=0.00025 */
	CU_ASSERT_EQUAL(sample(mem, "gateway_request_duration_seconds_bucket{route=\"metrics-test-a\",le=\"0.00025\"}"), 0);
	CU_ASSERT_EQUAL(sample(mem, "gateway_request_duration_seconds_bucket{route=\"metrics-test-a\",le=\"0.0005\"}"),
			4 * PER_THREAD);
	CU_ASSERT_EQUAL(sample(mem, "gateway_request_duration_seconds_bucket{route=\"metrics-test-a\",le=\"+Inf\"}"),
			4 * PER_THREAD);
	CU_ASSERT_EQUAL(sample(mem, "gateway_request_duration_seconds_count{route=\"metrics-test-a\"}"),
			4 * PER_THREAD);
	{
		double s = sample(mem, "gateway_request_duration_seconds_sum{route=\"metrics-test-a\"}");
		CU_ASSERT(s > 23.99 && s < 24.01); /* 80000 x 0.3 ms */
	}
	CU_ASSERT(sample(mem, "process_resident_memory_bytes") > 0);
	CU_ASSERT(sample(mem, "process_open_fds") >= 3);
	CU_ASSERT(sample(mem, "gateway_active_connections") >= 0);
	CU_ASSERT(sample(mem, "gateway_reloads_total{result=\"error\"}") >= 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(mem, "# TYPE gateway_request_duration_seconds histogram\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(mem, "# TYPE gateway_requests_total counter\n"));
	/* every line is a comment or "name{labels} value" */
	for (char *line = strtok(mem, "\n"); line; line = strtok(NULL, "\n"))
		CU_ASSERT(line[0] == '#' || (strchr(line, ' ') && strncmp(line, "gateway_", 8) == 0) ||
			  strncmp(line, "process_", 8) == 0);
	free(mem);
}

static void test_too_small_buffer(void)
{
	char mem[64];
	struct gwd_buf b;

	gwd_buf_init(&b, mem, sizeof mem);
	CU_ASSERT_EQUAL(gwd_metrics_render(&b, NULL), -1);
	CU_ASSERT_TRUE(b.full);
	CU_ASSERT(b.len <= sizeof mem);
}

static void test_label_escape(void)
{
	char mem[64];
	struct gwd_buf b;

	gwd_buf_init(&b, mem, sizeof mem);
	CU_ASSERT_EQUAL(gwd_metrics_label(&b, "a\"b\\c\nd", 7), 0);
	CU_ASSERT_EQUAL(b.len, 10);
	CU_ASSERT_EQUAL(memcmp(mem, "a\\\"b\\\\c\\nd", 10), 0);
}

static void render_extra(struct gwd_buf *b, void *ctx)
{
	gwd_buf_printf(b, "# TYPE test_extra_total counter\ntest_extra_total %d\n", *(int *)ctx);
}

static void test_family(void)
{
	static int v = 42;
	size_t cap = 1 << 20;
	char *mem = malloc(cap);
	struct gwd_buf b;

	CU_ASSERT_EQUAL(gwd_metrics_add_family(render_extra, &v), 0);
	gwd_buf_init(&b, mem, cap - 1);
	CU_ASSERT_EQUAL(gwd_metrics_render(&b, NULL), 0);
	mem[b.len] = '\0';
	CU_ASSERT_EQUAL(sample(mem, "test_extra_total"), 42);
	free(mem);
}

int gw_suite_gwd_metrics(void)
{
	CU_pSuite s = CU_add_suite("gwd/metrics", NULL, NULL);

	if (!s || !CU_add_test(s, "per-thread counters summed at scrape", test_threads_sum) ||
	    !CU_add_test(s, "a small buffer is reported", test_too_small_buffer) ||
	    !CU_add_test(s, "label escaping", test_label_escape) ||
	    !CU_add_test(s, "families of other modules", test_family))
		return -1;
	return 0;
}
