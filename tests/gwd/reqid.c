/* Tests of gwd/reqid.c: which client ids are accepted, and that generated
 * ids are well-formed, distinct across threads and within one. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/reqid.h"
#include "gwd/worker.h"

int gw_suite_gwd_reqid(void);

static void test_valid(void)
{
	static const struct {
		const char *s;
		int ok;
	} c[] = {
		{ "a", 1 }, { "abc-DEF_123.x", 1 }, { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1 },
		{ "", 0 }, { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", 0 },
		{ "a b", 0 }, { "a\"b", 0 }, { "a/b", 0 }, { "a\nb", 0 }, { "\xc3\xa9", 0 }, { "a:b", 0 },
		{ "a,b", 0 }, { "<script>", 0 },
	};

	for (size_t i = 0; i < sizeof c / sizeof *c; i++)
		CU_ASSERT_EQUAL(gwd_reqid_valid(c[i].s, strlen(c[i].s)), c[i].ok);
	CU_ASSERT_EQUAL(gwd_reqid_valid("ab\0c", 4), 0);
}

#define N 1000
static char ids[2][N][65];

static void *make_ids(void *arg)
{
	char (*mine)[65] = arg;
	struct gwd_worker *w = gwd_worker_self();

	for (int i = 0; i < N; i++)
		gwd_reqid_make(w, mine[i]);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_make(void)
{
	pthread_t t[2];
	char all[2 * N][65];

	CU_ASSERT_EQUAL(gwd_reqid_init(), 0);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, make_ids, ids[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < N; i++) {
			CU_ASSERT_TRUE(gwd_reqid_valid(ids[k][i], strlen(ids[k][i])));
			memcpy(all[k * N + i], ids[k][i], 65);
		}
	/* one process prefix for all */
	CU_ASSERT_EQUAL(memcmp(ids[0][0], ids[1][0], 17), 0);
	qsort(all, 2 * N, 65, cmp);
	for (int i = 1; i < 2 * N; i++)
		CU_ASSERT_NOT_EQUAL(strcmp(all[i - 1], all[i]), 0);
}

int gw_suite_gwd_reqid(void)
{
	CU_pSuite s = CU_add_suite("gwd/reqid", NULL, NULL);

	if (!s || !CU_add_test(s, "client ids accepted or not", test_valid) ||
	    !CU_add_test(s, "generated ids: valid and unique", test_make))
		return -1;
	return 0;
}
