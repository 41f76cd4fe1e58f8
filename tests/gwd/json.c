/* Tests of gwd/json.c (JSON string escaping) and gwd/buf.c: every output is
 * parsed back with jansson, so "valid JSON" is checked by a real parser, not
 * by comparing with what the escaper was meant to write. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <string.h>

#include "gwd/buf.h"
#include "gwd/json.h"

int gw_suite_gwd_json(void);

/* Escape <n> bytes of <s> as a JSON string, parse it back; returns the
 * decoded string (caller frees with json_decref on <*j>) or NULL. */
static const char *roundtrip(const char *s, size_t n, char *out, size_t cap, json_t **j)
{
	struct gwd_buf b;

	gwd_buf_init(&b, out, cap - 1);
	if (gwd_json_str(&b, s, n) != 0)
		return NULL;
	out[b.len] = '\0';
	*j = json_loads(out, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	return *j ? json_string_value(*j) : NULL;
}

static void test_plain_and_specials(void)
{
	char out[256];
	json_t *j = NULL;
	const char *v;

	v = roundtrip("hello", 5, out, sizeof out, &j);
	CU_ASSERT_STRING_EQUAL(out, "\"hello\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	json_decref(j);
	v = roundtrip("a\"b\\c\nd\te\rf", 11, out, sizeof out, &j);
	CU_ASSERT_STRING_EQUAL(out, "\"a\\\"b\\\\c\\nd\\te\\rf\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(v, "a\"b\\c\nd\te\rf");
	json_decref(j);
	v = roundtrip("x\x01y\x7f", 4, out, sizeof out, &j);
	CU_ASSERT_STRING_EQUAL(out, "\"x\\u0001y\\u007f\"");
	CU_ASSERT_PTR_NOT_NULL(v);
	json_decref(j);
}

static void test_nul_and_utf8(void)
{
	char out[256];
	json_t *j = NULL;
	const char *v;

	/* an embedded NUL is escaped, not a terminator */
	v = roundtrip("a\0b", 3, out, sizeof out, &j);
	CU_ASSERT_STRING_EQUAL(out, "\"a\\u0000b\"");
	CU_ASSERT_PTR_NOT_NULL(v);
	json_decref(j);
	/* valid UTF-8 passes through */
	v = roundtrip("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, out, sizeof out, &j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(v, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	json_decref(j);
	/* invalid: lone continuation, overlong, surrogate, truncated, > U+10FFFF */
	static const char *const bad[] = { "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
					   "\xf4\x90\x80\x80", "\xff" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		v = roundtrip(bad[i], strlen(bad[i]), out, sizeof out, &j);
		CU_ASSERT_PTR_NOT_NULL(v); /* jansson accepts only valid UTF-8 */
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "\xEF\xBF\xBD"));
		json_decref(j);
	}
}

static void test_full_buffer_rolls_back(void)
{
	char out[8];
	struct gwd_buf b;

	gwd_buf_init(&b, out, sizeof out);
	CU_ASSERT_EQUAL(gwd_buf_puts(&b, "ab"), 0);
	CU_ASSERT_EQUAL(gwd_json_str(&b, "\"\"\"\"", 4), -1);
	CU_ASSERT_EQUAL(b.len, 2); /* nothing half-written */
	CU_ASSERT_TRUE(b.full);
	CU_ASSERT_EQUAL(gwd_buf_u64(&b, 123456), 0);
	CU_ASSERT_EQUAL(memcmp(out, "ab123456", 8), 0);
	CU_ASSERT_EQUAL(gwd_buf_u64(&b, 0), -1);
	CU_ASSERT_EQUAL(gwd_buf_printf(&b, "%d", 1), -1);
	CU_ASSERT_EQUAL(b.len, 8);
}

static void test_u64_printf(void)
{
	char out[64];
	struct gwd_buf b;

	gwd_buf_init(&b, out, sizeof out);
	gwd_buf_u64(&b, 0);
	gwd_buf_putc(&b, ' ');
	gwd_buf_u64(&b, UINT64_MAX);
	gwd_buf_printf(&b, " %s=%u", "x", 7u);
	CU_ASSERT_EQUAL(b.full, 0);
	CU_ASSERT_EQUAL(b.len, strlen("0 18446744073709551615 x=7"));
	CU_ASSERT_EQUAL(memcmp(out, "0 18446744073709551615 x=7", b.len), 0);
}

int gw_suite_gwd_json(void)
{
	CU_pSuite s = CU_add_suite("gwd/json", NULL, NULL);

	if (!s || !CU_add_test(s, "plain and special characters", test_plain_and_specials) ||
	    !CU_add_test(s, "NUL and UTF-8 validity", test_nul_and_utf8) ||
	    !CU_add_test(s, "a full buffer rolls back", test_full_buffer_rolls_back) ||
	    !CU_add_test(s, "numbers and printf", test_u64_printf))
		return -1;
	return 0;
}
