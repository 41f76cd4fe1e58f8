/* Tests of gwd/reqctx.c: contexts come back cleared from the freelist, the
 * arena aligns and spills into chunks that are recycled (no allocation in the
 * steady state), body buffers grow and are reused, header lists edit. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "gwd/reqctx.h"
#include "gwd/worker.h"

int gw_suite_gwd_reqctx(void);

static void test_recycle(void)
{
	struct gwd_worker *w = gwd_worker_self();
	struct gwd_req *r = gwd_req_get(w), *r2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	r->status_sent = 500;
	r->reqid_len = 3;
	gwd_req_put(r);
	r2 = gwd_req_get(w);
	CU_ASSERT_PTR_EQUAL(r2, r); /* the freelist gave it back */
	CU_ASSERT_EQUAL(r2->status_sent, 0);
	CU_ASSERT_EQUAL(r2->reqid_len, 0);
	CU_ASSERT_EQUAL(r2->content_length, UINT64_MAX);
	CU_ASSERT_PTR_EQUAL(r2->w, w);
	gwd_req_put(r2);
}

static void test_arena(void)
{
	struct gwd_worker *w = gwd_worker_self();
	struct gwd_req *r = gwd_req_get(w);
	void *chunk_first = NULL;
	unsigned free_before;

	/* aligned, distinct, writable, across the inline block and chunks */
	char *prev = NULL;
	for (int i = 0; i < 200; i++) {
		char *p = gwd_req_alloc(r, 100 + (size_t)i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL((uintptr_t)p % 16, 0);
		memset(p, 0xAB, 100 + (size_t)i);
		CU_ASSERT(prev == NULL || p != prev);
		prev = p;
	}
	CU_ASSERT_PTR_NOT_NULL(r->chunks);
	chunk_first = r->chunks;
	/* a large allocation gets its own block */
	CU_ASSERT_PTR_NOT_NULL(gwd_req_alloc(r, 100000));
	gwd_req_put(r);
	free_before = w->nfree_chunks;
	CU_ASSERT(free_before >= 1);
	/* the next request reuses the chunks: the count goes down, not malloc */
	r = gwd_req_get(w);
	for (int i = 0; i < 200; i++)
		gwd_req_alloc(r, 100 + (size_t)i);
	CU_ASSERT(w->nfree_chunks < free_before);
	CU_ASSERT_PTR_NOT_NULL(chunk_first);
	{
		char *s = gwd_req_strdup(r, "abc\0def", 7);
		CU_ASSERT_EQUAL(memcmp(s, "abc\0def\0", 8), 0);
	}
	gwd_req_put(r);
}

static void test_body(void)
{
	struct gwd_worker *w = gwd_worker_self();
	struct gwd_req *r = gwd_req_get(w);
	char *buf;

	CU_ASSERT_EQUAL(gwd_req_body_reserve(r, 10), 0);
	memcpy(r->body, "0123456789", 10);
	r->body_len = 10;
	CU_ASSERT_EQUAL(gwd_req_body_reserve(r, 300000), 0); /* grows, keeps the bytes */
	CU_ASSERT(r->body_cap >= 300010);
	CU_ASSERT_EQUAL(memcmp(r->body, "0123456789", 10), 0);
	buf = r->body;
	gwd_req_put(r);
	/* the next request of this thread gets the cached buffer back */
	r = gwd_req_get(w);
	CU_ASSERT_EQUAL(gwd_req_body_reserve(r, 1000), 0);
	CU_ASSERT_PTR_EQUAL(r->body, buf);
	gwd_req_put(r);
}

static void test_headers(void)
{
	struct gwd_req *r = gwd_req_get(gwd_worker_self());
	struct gwd_hdr *h;
	int n = 0;

	gwd_req_add_resp_header(r, "X-A", "1");
	gwd_req_add_resp_header_ref(r, "X-B", 3, "2", 1);
	gwd_req_add_resp_header(r, "x-a", "3");
	gwd_req_add_resp_header(r, "X-C", "4");
	gwd_req_del_resp_header(r, "X-a");
	for (h = r->resp_hdrs; h; h = h->next, n++)
		CU_ASSERT(strcmp(h->name, "X-B") == 0 || strcmp(h->name, "X-C") == 0);
	CU_ASSERT_EQUAL(n, 2);
	/* the tail is right after a removal: the next add lands last */
	gwd_req_add_resp_header(r, "X-D", "5");
	for (h = r->resp_hdrs; h->next; h = h->next)
		;
	CU_ASSERT_STRING_EQUAL(h->name, "X-D");
	gwd_req_del_resp_header(r, "X-D");
	gwd_req_add_resp_header(r, "X-E", "6");
	for (h = r->resp_hdrs, n = 0; h; h = h->next, n++)
		;
	CU_ASSERT_EQUAL(n, 3);
	/* request overlay: added first, removed absent (no connection here) */
	CU_ASSERT_PTR_NULL(gwd_req_header(r, "X-Gateway", NULL));
	gwd_req_set_user(r, "0123456789012345678901234567890123456789012345678901234567890123456789", 70);
	CU_ASSERT_EQUAL(r->user_len, 64);
	CU_ASSERT_STRING_EQUAL(gwd_req_peer_ip(r), "");
	gwd_req_put(r);
}

int gw_suite_gwd_reqctx(void)
{
	CU_pSuite s = CU_add_suite("gwd/reqctx", NULL, NULL);

	if (!s || !CU_add_test(s, "contexts are recycled cleared", test_recycle) ||
	    !CU_add_test(s, "arena alignment and chunk reuse", test_arena) ||
	    !CU_add_test(s, "body buffers grow and are reused", test_body) ||
	    !CU_add_test(s, "response header list", test_headers))
		return -1;
	return 0;
}
