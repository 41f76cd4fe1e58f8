/* Unit tests of gwc/arena.c: alignment, copies with embedded NULs, large
 * objects beside small ones, and reuse after free (leaks show under ASan). */
#include <CUnit/CUnit.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gwc/arena.h"

int gw_suite_gwc_arena(void);

/* Allocations are aligned, survive large neighbours, and free cleanly. */
static void test_alloc(void)
{
	struct gwc_arena a = GWC_ARENA_INIT;
	char *small[1000];

	for (int i = 0; i < 1000; i++) {
		small[i] = gwc_arena_alloc(&a, (size_t)(i % 37) + 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(small[i]);
		CU_ASSERT_EQUAL((uintptr_t)small[i] % alignof(max_align_t), 0);
		memset(small[i], i & 0xff, (size_t)(i % 37) + 1);
	}
	/* A large object between small ones does not disturb them. */
	char *big = gwc_arena_alloc(&a, 1 << 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 0xAB, 1 << 20);
	char *after = gwc_arena_alloc(&a, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	for (int i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL((unsigned char)small[i][i % 37], (unsigned)(i & 0xff));
	CU_ASSERT_PTR_NOT_NULL(gwc_arena_alloc(&a, 0));
	gwc_arena_free(&a);
	CU_ASSERT_PTR_NULL(a.head);
	/* Reusable after free. */
	CU_ASSERT_PTR_NOT_NULL(gwc_arena_alloc(&a, 16));
	gwc_arena_free(&a);
	CU_ASSERT_PTR_NULL(gwc_arena_alloc(&a, SIZE_MAX));
	gwc_arena_free(&a);
}

/* Copies keep embedded NULs and add one. */
static void test_strndup(void)
{
	struct gwc_arena a = GWC_ARENA_INIT;
	char *s = gwc_arena_strndup(&a, "ab\0cd", 5);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(memcmp(s, "ab\0cd", 6), 0); /* and the added NUL */
	s = gwc_arena_strndup(&a, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s[0], '\0');
	s = gwc_arena_strndup(&a, "hello world", 5);
	CU_ASSERT_STRING_EQUAL(s, "hello");
	gwc_arena_free(&a);
}

int gw_suite_gwc_arena(void)
{
	CU_pSuite s = CU_add_suite("gwc/arena", NULL, NULL);

	if (!s || !CU_add_test(s, "alloc", test_alloc) || !CU_add_test(s, "strndup", test_strndup))
		return -1;
	return 0;
}
