/* Tests of gwd/accesslog.c: the line format (parsed back with jansson), and
 * the buffered writer: lines from several threads all reach the file, whole,
 * one per line, after the flusher's period or at close. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gwd/accesslog.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"

int gw_suite_gwd_accesslog(void);

/* A request as the pipeline leaves it at completion. */
static struct gwd_req *fake_req(const char *target, const char *user)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());

	r->t_wall.tv_sec = 1795000000; /* 2026-11-18T11:06:40Z */
	r->t_wall.tv_nsec = 123456789;
	r->method_name = "GET";
	r->target = gwd_req_strdup(r, target, strlen(target));
	r->target_len = (uint32_t)strlen(target);
	strcpy(r->reqid, "id-1");
	r->reqid_len = 4;
	r->status_sent = 200;
	r->bytes_sent = 19;
	if (user)
		gwd_req_set_user(r, user, strlen(user));
	return r;
}

static void test_format(void)
{
	char line[1024];
	struct gwd_req *r = fake_req("/api/hello?name=\"x\"\x01", "alice");
	size_t n = gwd_accesslog_format(line, sizeof line, r, "/api/hello", 10, 85);
	json_t *j;

	CU_ASSERT(n > 0);
	j = json_loadb(line, n, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "time")), "2026-11-18T11:06:40.123Z");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "id")), "id-1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "client")), "");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "method")), "GET");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "path")), "/api/hello?name=\"x\"\x01");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "route")), "/api/hello");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "status")), 200);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "bytes")), 19);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "duration_us")), 85);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "user")), "alice");
	CU_ASSERT_PTR_NULL(memchr(line, '\n', n));
	json_decref(j);
	/* no user: no "user" key; no route: "" */
	gwd_req_put(r);
	r = fake_req("/x", NULL);
	n = gwd_accesslog_format(line, sizeof line, r, NULL, 0, 1);
	j = json_loadb(line, n, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_PTR_NULL(json_object_get(j, "user"));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "route")), "");
	json_decref(j);
	/* too small: 0, never a cut line */
	CU_ASSERT_EQUAL(gwd_accesslog_format(line, 20, r, NULL, 0, 1), 0);
	gwd_req_put(r);
}

/* A target far longer than a log buffer could hold once escaped (invalid
 * UTF-8 triples, a header limit raised to 1 MiB) is cut, not dropped: the
 * request still shows in the log, marked truncated. */
static void test_long_target_logged(void)
{
	static char line[64 * 1024];
	size_t tlen = 200 * 1024;
	char *target = malloc(tlen + 1);
	struct gwd_req *r;
	json_t *j;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(target);
	memcpy(target, "/x/", 3);
	memset(target + 3, 0xFF, tlen - 3);
	target[tlen] = '\0';
	r = fake_req(target, NULL);
	n = gwd_accesslog_format(line, sizeof line, r, "/x/{a}", 6, 1);
	CU_ASSERT(n > 0);
	j = json_loadb(line, n, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT(json_is_true(json_object_get(j, "truncated")));
	CU_ASSERT_EQUAL(strncmp(json_string_value(json_object_get(j, "path")), "/x/\xEF\xBF\xBD", 6), 0);
	json_decref(j);
	gwd_req_put(r);
	/* a short one carries no "truncated" key */
	r = fake_req("/x", NULL);
	n = gwd_accesslog_format(line, sizeof line, r, NULL, 0, 1);
	j = json_loadb(line, n, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_PTR_NULL(json_object_get(j, "truncated"));
	json_decref(j);
	gwd_req_put(r);
	free(target);
}

#define LINES 30000 /* per thread: several 64 KiB buffers each */

static void *log_thread(void *arg)
{
	struct gwd_req *r = fake_req((const char *)arg, NULL);

	for (int i = 0; i < LINES; i++) {
		r->bytes_sent = (uint64_t)i;
		gwd_accesslog_request(r, "/r", 2, (uint64_t)i);
	}
	gwd_req_put(r);
	return NULL;
}

static void test_buffered_file(void)
{
	char path[] = "/tmp/gwd-alog-XXXXXX";
	int fd = mkstemp(path);
	pthread_t t[2];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	long lines = 0, bad = 0, a = 0, b = 0;

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(gwd_accesslog_open(path), 0);
	CU_ASSERT_TRUE(gwd_accesslog_enabled());
	pthread_create(&t[0], NULL, log_thread, "/thread-a");
	pthread_create(&t[1], NULL, log_thread, "/thread-b");
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	/* the flusher writes within a second, without a close */
	{
		struct timespec ts = { 1, 200 * 1000000L };
		nanosleep(&ts, NULL);
	}
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (getline(&line, &cap, f) > 0)
		lines++;
	fclose(f);
	CU_ASSERT_EQUAL(lines, 2 * LINES);
	gwd_accesslog_close();
	CU_ASSERT_FALSE(gwd_accesslog_enabled());
	lines = 0;
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);

		lines++;
		if (!j) {
			bad++;
			continue;
		}
		if (strcmp(json_string_value(json_object_get(j, "path")), "/thread-a") == 0)
			a++;
		else
			b++;
		json_decref(j);
	}
	fclose(f);
	free(line);
	CU_ASSERT_EQUAL(lines, 2 * LINES);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(a, LINES);
	CU_ASSERT_EQUAL(b, LINES);
	CU_ASSERT_EQUAL(gwd_accesslog_dropped(), 0);
	unlink(path);
}

int gw_suite_gwd_accesslog(void)
{
	CU_pSuite s = CU_add_suite("gwd/accesslog", NULL, NULL);

	if (!s || !CU_add_test(s, "line format", test_format) ||
	    !CU_add_test(s, "buffered lines from threads reach the file", test_buffered_file) ||
	    !CU_add_test(s, "an overlong target is logged cut, not dropped", test_long_target_logged))
		return -1;
	return 0;
}
