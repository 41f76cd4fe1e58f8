/* Per-thread worker registry (worker.h).  Slots are appended under a mutex the
 * first time a thread asks, which happens once per thread, never per request;
 * after that the thread reaches its slot through a thread-local pointer. */
#include "gwd/worker.h"

#include <stdio.h>
#include <stdlib.h>

static struct gwd_worker *workers[GWD_MAX_WORKERS];
static _Atomic unsigned nworkers;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local struct gwd_worker *tl_self;

/* Create and publish the calling thread's worker. Returns it; aborts when out
 * of memory or slots, which gwd cannot serve without. */
static struct gwd_worker *worker_register(void)
{
	struct gwd_worker *w = calloc(1, sizeof *w);
	unsigned n;

	if (!w) {
		fprintf(stderr, "gwd: out of memory creating a worker\n");
		abort();
	}
	pthread_mutex_init(&w->conn_lock, NULL);
	pthread_mutex_lock(&reg_lock);
	n = atomic_load_explicit(&nworkers, memory_order_relaxed);
	if (n >= GWD_MAX_WORKERS) {
		pthread_mutex_unlock(&reg_lock);
		fprintf(stderr, "gwd: more than %d threads\n", GWD_MAX_WORKERS);
		abort();
	}
	w->id = n;
	workers[n] = w;
	/* release: a reader that sees the count sees the slot filled */
	atomic_store_explicit(&nworkers, n + 1, memory_order_release);
	pthread_mutex_unlock(&reg_lock);
	tl_self = w;
	return w;
}

struct gwd_worker *gwd_worker_self(void)
{
	struct gwd_worker *w = tl_self;

	return w ? w : worker_register();
}

unsigned gwd_worker_count(void)
{
	return atomic_load_explicit(&nworkers, memory_order_acquire);
}

struct gwd_worker *gwd_worker_get(unsigned i)
{
	return i < gwd_worker_count() ? workers[i] : NULL;
}

uint64_t gwd_worker_inflight(void)
{
	uint64_t begun = 0, ended = 0;
	unsigned n = gwd_worker_count();

	/* read ended first: a request ending between the two reads is then counted
	 * as still in flight, never as a negative number */
	for (unsigned i = 0; i < n; i++)
		ended += atomic_load_explicit(&workers[i]->req_ended, memory_order_acquire);
	for (unsigned i = 0; i < n; i++)
		begun += atomic_load_explicit(&workers[i]->req_begun, memory_order_acquire);
	return begun > ended ? begun - ended : 0;
}
