/* Tests of gwd/jobs.c: submitted jobs run on other threads, each exactly
 * once, their answers visible to the submitter afterwards; a job that sets no
 * status is answered 500; submission fails cleanly when the pool is stopped.
 * (Suspend/resume of a real connection is exercised by the integration
 * tests: here requests have no libmicrohttpd connection.) */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "gwd/jobs.h"
#include "gwd/reqctx.h"
#include "gwd/worker.h"

int gw_suite_gwd_jobs(void);

static _Atomic int runs;
static pthread_t submitter;

static void job(struct gwd_req *r, void *arg)
{
	(void)arg;
	if (pthread_equal(pthread_self(), submitter))
		return; /* ran on the wrong thread: no status, so 500 */
	atomic_fetch_add(&runs, 1);
	r->resp.status = 200;
}

static void lazy_job(struct gwd_req *r, void *arg)
{
	(void)r;
	(void)arg;
}

static void test_jobs(void)
{
	struct gwd_req *rs[50];
	struct timespec ts = { 0, 10 * 1000000L };

	submitter = pthread_self();
	CU_ASSERT_EQUAL_FATAL(gwd_jobs_start(2), 0);
	for (int i = 0; i < 50; i++) {
		rs[i] = gwd_req_get(gwd_worker_self());
		CU_ASSERT_EQUAL(gwd_jobs_submit(rs[i], i == 7 ? lazy_job : job, NULL), 0);
		CU_ASSERT_EQUAL(rs[i]->stage, GWD_ST_ASYNC);
	}
	for (int k = 0; k < 300 && gwd_jobs_pending(); k++)
		nanosleep(&ts, NULL);
	CU_ASSERT_EQUAL(gwd_jobs_pending(), 0);
	gwd_jobs_stop();
	CU_ASSERT_EQUAL(atomic_load(&runs), 49);
	for (int i = 0; i < 50; i++) {
		CU_ASSERT_EQUAL(rs[i]->resp.status, i == 7 ? 500 : 200);
		gwd_req_put(rs[i]);
	}
	rs[0] = gwd_req_get(gwd_worker_self());
	CU_ASSERT_EQUAL(gwd_jobs_submit(rs[0], job, NULL), -1);
	CU_ASSERT_NOT_EQUAL(rs[0]->stage, GWD_ST_ASYNC);
	gwd_req_put(rs[0]);
}

/* A job that takes 100 ms (a password check). */
static void slow_job(struct gwd_req *r, void *arg)
{
	struct timespec ts = { 0, 100 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	atomic_fetch_add(&runs, 1);
	r->resp.status = 200;
}

/* A quick job submitted behind a queue of slow ones runs next, not last. */
static _Atomic int order_slow_done, order_quick_after;

static void order_slow(struct gwd_req *r, void *arg)
{
	struct timespec ts = { 0, 30 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	atomic_fetch_add(&order_slow_done, 1);
	r->resp.status = 200;
}

static void order_quick(struct gwd_req *r, void *arg)
{
	(void)arg;
	atomic_store(&order_quick_after, atomic_load(&order_slow_done));
	r->resp.status = 204;
}

static void test_quick_jumps_queue(void)
{
	struct gwd_req *rs[11];
	struct timespec ts = { 0, 10 * 1000000L };

	atomic_store(&order_slow_done, 0);
	atomic_store(&order_quick_after, -1);
	CU_ASSERT_EQUAL_FATAL(gwd_jobs_start(1), 0);
	for (int i = 0; i < 10; i++) {
		rs[i] = gwd_req_get(gwd_worker_self());
		CU_ASSERT_EQUAL(gwd_jobs_submit(rs[i], order_slow, NULL), 0);
	}
	rs[10] = gwd_req_get(gwd_worker_self());
	CU_ASSERT_EQUAL(gwd_jobs_submit_quick(rs[10], order_quick, NULL), 0);
	for (int k = 0; k < 300 && gwd_jobs_pending(); k++)
		nanosleep(&ts, NULL);
	gwd_jobs_stop();
	/* one slow job may have started before the quick one was queued */
	CU_ASSERT(atomic_load(&order_quick_after) >= 0 && atomic_load(&order_quick_after) <= 1);
	CU_ASSERT_EQUAL(atomic_load(&order_slow_done), 10);
	CU_ASSERT_EQUAL(rs[10]->resp.status, 204);
	for (int i = 0; i < 11; i++)
		gwd_req_put(rs[i]);
}

/* Stopping with a long queue takes about one job's time: what has not started
 * is answered 503 (shutting down), never run, never left without an answer. */
static void test_stop_skips_queue(void)
{
	struct gwd_req *rs[30];
	struct timespec ts = { 0, 20 * 1000000L };
	uint64_t t0;
	int ran, skipped = 0;

	atomic_store(&runs, 0);
	CU_ASSERT_EQUAL_FATAL(gwd_jobs_start(1), 0);
	for (int i = 0; i < 30; i++) {
		rs[i] = gwd_req_get(gwd_worker_self());
		CU_ASSERT_EQUAL(gwd_jobs_submit(rs[i], slow_job, NULL), 0);
	}
	nanosleep(&ts, NULL); /* the first one is running */
	t0 = (uint64_t)time(NULL);
	gwd_jobs_stop();
	CU_ASSERT((uint64_t)time(NULL) - t0 <= 1); /* not 30 x 100 ms */
	ran = atomic_load(&runs);
	CU_ASSERT(ran >= 1 && ran <= 3);
	for (int i = 0; i < 30; i++) {
		CU_ASSERT(rs[i]->resp.status == 200 || rs[i]->resp.status == 503);
		skipped += rs[i]->resp.status == 503;
		gwd_req_put(rs[i]);
	}
	CU_ASSERT_EQUAL(skipped, 30 - ran);
}

int gw_suite_gwd_jobs(void)
{
	CU_pSuite s = CU_add_suite("gwd/jobs", NULL, NULL);

	if (!s || !CU_add_test(s, "jobs run once, off the submitting thread", test_jobs) ||
	    !CU_add_test(s, "a quick job runs ahead of the queue", test_quick_jumps_queue) ||
	    !CU_add_test(s, "stopping answers the queued jobs 503", test_stop_skips_queue))
		return -1;
	return 0;
}
