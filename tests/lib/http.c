/* Unit tests of lib/http.c, the HTTP syntax checks gwc and gwd share.
 *
 * The byte classes are checked against RFC 9110's grammar written out here a
 * second way (the tchar punctuation as a string, the field-value classes as
 * ranges), for all 256 byte values; then whole tokens and values, including
 * the ones gwc and gwd refuse at their edges (a NUL, CR LF, obs-text in a
 * name).
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/http.h"

int gw_suite_lib_http(void);

#define S(x) x, strlen(x)

/* Every byte value: tchar is exactly ALPHA / DIGIT / the 15 marks. */
static void test_tchar_bytes(void)
{
	static const char marks[] = "!#$%&'*+-.^_`|~";
	unsigned n = 0;

	for (unsigned c = 0; c < 256; c++) {
		int want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c != 0 && memchr(marks, (int)c, 15));

		CU_ASSERT_EQUAL(gw_http_is_tchar((unsigned char)c), want);
		n += gw_http_is_tchar((unsigned char)c) != 0;
	}
	CU_ASSERT_EQUAL(n, 26 + 26 + 10 + 15);
}

/* Every byte value: a field value takes VCHAR, obs-text, SP and HTAB. */
static void test_field_bytes(void)
{
	for (unsigned c = 0; c < 256; c++) {
		int want = c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7E) || c >= 0x80;

		CU_ASSERT_EQUAL(gw_http_is_field_byte((unsigned char)c), want);
	}
}

static void test_tokens(void)
{
	CU_ASSERT_TRUE(gw_http_is_token(S("X-API-Key")));
	CU_ASSERT_TRUE(gw_http_is_token(S("X-Request-ID")));
	CU_ASSERT_TRUE(gw_http_is_token(S("!#$%&'*+-.^_`|~09azAZ")));
	CU_ASSERT_FALSE(gw_http_is_token(S("")));
	CU_ASSERT_FALSE(gw_http_is_token(S("a b")));
	CU_ASSERT_FALSE(gw_http_is_token(S("a:b")));
	CU_ASSERT_FALSE(gw_http_is_token(S("a\"b")));
	CU_ASSERT_FALSE(gw_http_is_token(S("caf\xc3\xa9")));
	CU_ASSERT_FALSE(gw_http_is_token("a\0b", 3));
	CU_ASSERT_FALSE(gw_http_is_token(S("a\r\n")));
	/* only <n> bytes count: not NUL-terminated */
	CU_ASSERT_TRUE(gw_http_is_token("ab c", 2));
}

static void test_field_values(void)
{
	CU_ASSERT_TRUE(gw_http_is_field_value(S("")));
	CU_ASSERT_TRUE(gw_http_is_field_value(S("max-age=0, no-store")));
	CU_ASSERT_TRUE(gw_http_is_field_value(S("a\tb")));
	CU_ASSERT_TRUE(gw_http_is_field_value(S("caf\xc3\xa9")));
	CU_ASSERT_FALSE(gw_http_is_field_value(S("a\r\nX-Evil: 1")));
	CU_ASSERT_FALSE(gw_http_is_field_value(S("a\nb")));
	CU_ASSERT_FALSE(gw_http_is_field_value("a\0b", 3));
	CU_ASSERT_FALSE(gw_http_is_field_value(S("a\x7f")));
	CU_ASSERT_FALSE(gw_http_is_field_value(S("\x01")));
	CU_ASSERT_TRUE(gw_http_is_field_value("ok\r\n", 2));
}

static void test_hex(void)
{
	static const char digits[] = "0123456789abcdef";
	unsigned n = 0;

	for (int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(gw_http_hex((unsigned char)digits[i]), i);
		CU_ASSERT_EQUAL(gw_http_hex((unsigned char)(digits[i] >= 'a' ? digits[i] - 32
									  : digits[i])), i);
	}
	for (unsigned c = 0; c < 256; c++)
		n += gw_http_hex((unsigned char)c) >= 0;
	CU_ASSERT_EQUAL(n, 22); /* 0-9, a-f, A-F: nothing else */
	CU_ASSERT_EQUAL(gw_http_hex('g'), -1);
	CU_ASSERT_EQUAL(gw_http_hex('G'), -1);
	CU_ASSERT_EQUAL(gw_http_hex('/'), -1);
	CU_ASSERT_EQUAL(gw_http_hex(':'), -1);
	CU_ASSERT_EQUAL(gw_http_hex(0xB0), -1);
}

int gw_suite_lib_http(void)
{
	CU_pSuite s = CU_add_suite("lib/http", NULL, NULL);

	if (!s || !CU_add_test(s, "tchar, every byte", test_tchar_bytes) ||
	    !CU_add_test(s, "field-value bytes, every byte", test_field_bytes) ||
	    !CU_add_test(s, "tokens", test_tokens) ||
	    !CU_add_test(s, "field values", test_field_values) ||
	    !CU_add_test(s, "hex digits", test_hex))
		return -1;
	return 0;
}
