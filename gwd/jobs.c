/* The job thread pool (jobs.h).  A mutex-and-condition queue: jobs are slow by
 * definition, so the queue's lock is never what limits them. */
#include "gwd/jobs.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include "gwd/problem.h"
#include "gwd/reqctx.h"

#define QCAP 4096
#define MAX_THREADS 64

static struct job {
	struct gwd_req *r;
	gwd_job_fn fn;
	void *arg;
} queue[QCAP];
static unsigned qhead, qlen, running_jobs;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static pthread_t threads[MAX_THREADS];
static unsigned nthreads_started;
static int stopping;

/* A job thread: take jobs until stopped and the queue is empty. */
static void *job_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&qlock);
	for (;;) {
		struct job j;
		int skip;

		while (qlen == 0 && !stopping)
			pthread_cond_wait(&qcond, &qlock);
		if (qlen == 0)
			break;
		j = queue[qhead];
		qhead = (qhead + 1) % QCAP;
		qlen--;
		running_jobs++;
		skip = stopping;
		pthread_mutex_unlock(&qlock);
		/* stopping (shutdown, past the drain deadline): a queue full of
		 * password checks would take minutes; answer what has not started */
		if (skip)
			gwd_problem(j.r, GWD_PB_SHUTTING_DOWN, NULL);
		else
			j.fn(j.r, j.arg);
		if (!j.r->resp.status)
			j.r->resp.status = 500; /* a job must answer; never leave it hanging */
		if (j.r->mhd)
			MHD_resume_connection(j.r->mhd);
		pthread_mutex_lock(&qlock);
		running_jobs--;
	}
	pthread_mutex_unlock(&qlock);
	return NULL;
}

int gwd_jobs_start(unsigned n)
{
	if (n == 0)
		n = 2;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	stopping = 0;
	for (nthreads_started = 0; nthreads_started < n; nthreads_started++)
		if (pthread_create(&threads[nthreads_started], NULL, job_main, NULL) != 0)
			break;
	return nthreads_started ? 0 : -1;
}

void gwd_jobs_stop(void)
{
	pthread_mutex_lock(&qlock);
	stopping = 1;
	pthread_cond_broadcast(&qcond);
	pthread_mutex_unlock(&qlock);
	for (unsigned i = 0; i < nthreads_started; i++)
		pthread_join(threads[i], NULL);
	nthreads_started = 0;
}

/* Queue <fn>(r, arg) at the back, or at the front when <front>. */
static int submit(struct gwd_req *r, gwd_job_fn fn, void *arg, int front)
{
	pthread_mutex_lock(&qlock);
	if (!nthreads_started || stopping || qlen == QCAP) {
		pthread_mutex_unlock(&qlock);
		return -1;
	}
	/* suspend before the job can run, so its resume always pairs with it */
	r->stage = GWD_ST_ASYNC;
	if (r->mhd)
		MHD_suspend_connection(r->mhd);
	if (front) {
		qhead = (qhead + QCAP - 1) % QCAP;
		queue[qhead] = (struct job){ r, fn, arg };
	} else {
		queue[(qhead + qlen) % QCAP] = (struct job){ r, fn, arg };
	}
	qlen++;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qlock);
	return 0;
}

int gwd_jobs_submit(struct gwd_req *r, gwd_job_fn fn, void *arg)
{
	return submit(r, fn, arg, 0);
}

int gwd_jobs_submit_quick(struct gwd_req *r, gwd_job_fn fn, void *arg)
{
	return submit(r, fn, arg, 1);
}

unsigned gwd_jobs_pending(void)
{
	unsigned n;

	pthread_mutex_lock(&qlock);
	n = qlen + running_jobs;
	pthread_mutex_unlock(&qlock);
	return n;
}
