/* Unit tests of lib/path.c, the canonical request-path normaliser.
 *
 * One table of raw paths, as a client could send them, with the status and
 * output expected; every status of enum gw_path_status appears.  Each case is
 * also run with an output buffer exactly one byte too small (and exactly big
 * enough), so that the capacity checks are exercised on every shape of input.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "lib/path.h"

int gw_suite_lib_path(void);

struct path_case {
	const char *raw;
	size_t len; /* 0: strlen(raw) */
	int status;
	const char *out; /* when status is GW_PATH_OK */
};

static const struct path_case path_cases[] = {
	/* plain and canonical */
	{ "/", 0, GW_PATH_OK, "/" },
	{ "/a", 0, GW_PATH_OK, "/a" },
	{ "/api/users/42", 0, GW_PATH_OK, "/api/users/42" },
	{ "/Api/USERS", 0, GW_PATH_OK, "/Api/USERS" }, /* case kept */
	/* trailing slash */
	{ "/a/", 0, GW_PATH_OK, "/a" },
	{ "/a/b//", 0, GW_PATH_OK, "/a/b" },
	/* empty segments */
	{ "//", 0, GW_PATH_OK, "/" },
	{ "//a///b/", 0, GW_PATH_OK, "/a/b" },
	/* dot segments */
	{ "/a/./b", 0, GW_PATH_OK, "/a/b" },
	{ "/.", 0, GW_PATH_OK, "/" },
	{ "/./", 0, GW_PATH_OK, "/" },
	{ "/a/.", 0, GW_PATH_OK, "/a" },
	{ "/a/..", 0, GW_PATH_OK, "/" },
	{ "/a/b/../c", 0, GW_PATH_OK, "/a/c" },
	{ "/a/b/c/../../d", 0, GW_PATH_OK, "/a/d" },
	{ "/a/%2e/b", 0, GW_PATH_OK, "/a/b" },
	{ "/a/b/%2e%2e/c", 0, GW_PATH_OK, "/a/c" },
	{ "/a/b/%2E%2e", 0, GW_PATH_OK, "/a" },
	{ "/a/b/.%2E/", 0, GW_PATH_OK, "/a" },
	{ "/a/...", 0, GW_PATH_OK, "/a/..." },   /* not a dot segment */
	{ "/a/..b", 0, GW_PATH_OK, "/a/..b" },
	{ "/a/.b", 0, GW_PATH_OK, "/a/.b" },
	{ "/..", 0, GW_PATH_ABOVE_ROOT, NULL },
	{ "/../a", 0, GW_PATH_ABOVE_ROOT, NULL },
	{ "/a/../..", 0, GW_PATH_ABOVE_ROOT, NULL },
	{ "/a/../../b", 0, GW_PATH_ABOVE_ROOT, NULL },
	{ "/%2e%2e", 0, GW_PATH_ABOVE_ROOT, NULL },
	{ "/a/%2E%2E/%2e%2e/etc/passwd", 0, GW_PATH_ABOVE_ROOT, NULL },
	/* percent-decoding */
	{ "/%41", 0, GW_PATH_OK, "/A" },
	{ "/caf%C3%A9", 0, GW_PATH_OK, "/caf\xC3\xA9" },
	{ "/a%20b", 0, GW_PATH_OK, "/a b" },
	{ "/%3F%23", 0, GW_PATH_OK, "/?#" },
	{ "/%25", 0, GW_PATH_OK, "/%" },        /* decoded once only */
	{ "/%25zz", 0, GW_PATH_OK, "/%zz" },
	{ "/%254", 0, GW_PATH_OK, "/%4" },
	{ "/%25/41", 0, GW_PATH_OK, "/%/41" },
	{ "/%", 0, GW_PATH_BAD_ESCAPE, NULL },
	{ "/%0", 0, GW_PATH_BAD_ESCAPE, NULL },
	{ "/a%0/b", 0, GW_PATH_BAD_ESCAPE, NULL },
	{ "/%G0", 0, GW_PATH_BAD_ESCAPE, NULL },
	{ "/%0G", 0, GW_PATH_BAD_ESCAPE, NULL },
	{ "/%%41", 0, GW_PATH_BAD_ESCAPE, NULL },
	/* encoded slash, backslash */
	{ "/a%2Fb", 0, GW_PATH_ENC_SLASH, NULL },
	{ "/a%2fb", 0, GW_PATH_ENC_SLASH, NULL },
	{ "/..%2F..", 0, GW_PATH_ENC_SLASH, NULL },
	{ "/a\\b", 0, GW_PATH_BACKSLASH, NULL },
	{ "/a%5Cb", 0, GW_PATH_BACKSLASH, NULL },
	{ "/a%5cb", 0, GW_PATH_BACKSLASH, NULL },
	{ "/..\\..", 0, GW_PATH_BACKSLASH, NULL },
	/* NUL and control characters */
	{ "/a%00", 0, GW_PATH_NUL, NULL },
	{ "/a\0b", 4, GW_PATH_NUL, NULL },
	{ "/a%01", 0, GW_PATH_CTL, NULL },
	{ "/a%0A", 0, GW_PATH_CTL, NULL },
	{ "/a%0d%0a", 0, GW_PATH_CTL, NULL },
	{ "/a%1F", 0, GW_PATH_CTL, NULL },
	{ "/a%7F", 0, GW_PATH_CTL, NULL },
	{ "/a\tb", 0, GW_PATH_CTL, NULL },
	{ "/a\x7f", 0, GW_PATH_CTL, NULL },
	{ "/a\r\n", 0, GW_PATH_CTL, NULL },
	/* UTF-8 and other high bytes pass through undecoded and unchecked */
	{ "/\xC3\xA9t\xC3\xA9", 0, GW_PATH_OK, "/\xC3\xA9t\xC3\xA9" },
	{ "/\xE2\x82\xAC/%E2%82%AC", 0, GW_PATH_OK, "/\xE2\x82\xAC/\xE2\x82\xAC" },
	{ "/\xFF", 0, GW_PATH_OK, "/\xFF" },
	{ "/%80", 0, GW_PATH_OK, "/\x80" },
	/* Valid UTF-8 of every length passes; so do bytes that cannot start
	 * an overlong form */
	{ "/%C2%80%DF%BF", 0, GW_PATH_OK, "/\xC2\x80\xDF\xBF" },
	{ "/%E0%A0%80", 0, GW_PATH_OK, "/\xE0\xA0\x80" },
	{ "/%F0%90%80%80", 0, GW_PATH_OK, "/\xF0\x90\x80\x80" },
	{ "/\xE0/\x80", 0, GW_PATH_OK, "/\xE0/\x80" },
	/* Overlong UTF-8: what a lenient decoder (a backend's, not ours) takes
	 * for '.', '/' or '\': "%C0%AE%C0%AE" would be ".." there, and the
	 * matcher saw a literal segment */
	{ "/a/%C0%AE%C0%AE/admin", 0, GW_PATH_OVERLONG, NULL },
	{ "/a/%c0%af", 0, GW_PATH_OVERLONG, NULL },
	{ "/a/\xC0\xAE", 0, GW_PATH_OVERLONG, NULL },
	{ "/a/\xC0%AE", 0, GW_PATH_OVERLONG, NULL },
	{ "/%C1%9C", 0, GW_PATH_OVERLONG, NULL },
	{ "/%E0%80%AE", 0, GW_PATH_OVERLONG, NULL },
	{ "/\xE0%9F%BF", 0, GW_PATH_OVERLONG, NULL },
	{ "/%F0%80%80%AE", 0, GW_PATH_OVERLONG, NULL },
	{ "/%F0%8F%BF%BF", 0, GW_PATH_OVERLONG, NULL },
	{ "/%F8%80%80%80%AE", 0, GW_PATH_OVERLONG, NULL },
	{ "/%FC%80%80%80%80%AE", 0, GW_PATH_OVERLONG, NULL },
	/* Double encoding: decoded once, "%252e" is "%2e", which a backend
	 * decoding twice takes for "." -- refused, raw or encoded digits */
	{ "/a/%252e%252e/admin", 0, GW_PATH_DOUBLE_ESCAPE, NULL },
	{ "/%2541", 0, GW_PATH_DOUBLE_ESCAPE, NULL },
	{ "/%252F", 0, GW_PATH_DOUBLE_ESCAPE, NULL },
	{ "/%25%32%65", 0, GW_PATH_DOUBLE_ESCAPE, NULL },
	{ "/x%25%34" "1", 0, GW_PATH_DOUBLE_ESCAPE, NULL },
	/* not starting with '/' */
	{ "", 0, GW_PATH_EMPTY, NULL },
	{ "a/b", 0, GW_PATH_EMPTY, NULL },
	{ "%2Fa", 0, GW_PATH_EMPTY, NULL },
	{ "*", 0, GW_PATH_EMPTY, NULL },
	{ "http://x/a", 0, GW_PATH_EMPTY, NULL },
};

/* Every case with a roomy buffer: status and output as in the table. */
static void test_path_table(void)
{
	for (size_t k = 0; k < sizeof path_cases / sizeof *path_cases; k++) {
		const struct path_case *c = &path_cases[k];
		size_t len = c->len ? c->len : strlen(c->raw), outlen = 12345;
		char out[256];
		int st;

		memset(out, 'Z', sizeof out);
		st = gw_path_normalize(c->raw, len, out, sizeof out, &outlen);
		if (st != c->status)
			fprintf(stderr, "\npath case %zu \"%s\": status %d, want %d\n", k, c->raw,
				st, c->status);
		CU_ASSERT_EQUAL(st, c->status);
		if (st == GW_PATH_OK && c->status == GW_PATH_OK) {
			CU_ASSERT_EQUAL(outlen, strlen(c->out));
			CU_ASSERT_EQUAL(out[outlen], '\0');
			CU_ASSERT_EQUAL(memcmp(out, c->out, strlen(c->out) + 1), 0);
		}
		CU_ASSERT_PTR_NOT_NULL(gw_path_strerror(st));
	}
}

/* The exact capacity: output + NUL fits, one byte less is GW_PATH_TOO_LONG,
 * and no byte past <cap> is ever written. */
static void test_path_capacity(void)
{
	for (size_t k = 0; k < sizeof path_cases / sizeof *path_cases; k++) {
		const struct path_case *c = &path_cases[k];
		size_t len = c->len ? c->len : strlen(c->raw), need, outlen;
		char out[256];

		if (c->status != GW_PATH_OK)
			continue;
		need = strlen(c->out) + 1;
		/* Bytes that a later ".." removes may need room for a while:
		 * the contract is only that len + 1 always suffices. */
		memset(out, 'Z', sizeof out);
		CU_ASSERT_EQUAL(gw_path_normalize(c->raw, len, out, len + 1, &outlen), GW_PATH_OK);
		CU_ASSERT_EQUAL(out[len + 1], 'Z');
		memset(out, 'Z', sizeof out);
		CU_ASSERT_EQUAL(gw_path_normalize(c->raw, len, out, need - 1, &outlen),
				GW_PATH_TOO_LONG);
		for (size_t j = need - 1; j < sizeof out; j++)
			if (out[j] != 'Z') {
				CU_FAIL("byte written past cap");
				break;
			}
	}
}

/* Hand-picked capacity edges. */
static void test_path_too_long(void)
{
	char out[8];
	size_t outlen = 0;

	CU_ASSERT_EQUAL(gw_path_normalize("/", 1, out, 0, &outlen), GW_PATH_TOO_LONG);
	CU_ASSERT_EQUAL(gw_path_normalize("/", 1, out, 1, &outlen), GW_PATH_TOO_LONG);
	CU_ASSERT_EQUAL(gw_path_normalize("/", 1, out, 2, &outlen), GW_PATH_OK);
	CU_ASSERT_EQUAL(outlen, 1);
	CU_ASSERT_EQUAL(gw_path_normalize("/abcdefg", 8, out, 8, &outlen), GW_PATH_TOO_LONG);
	CU_ASSERT_EQUAL(gw_path_normalize("/abcdef", 7, out, 8, &outlen), GW_PATH_OK);
	CU_ASSERT_STRING_EQUAL(out, "/abcdef");
	/* Decoding shrinks: 9 raw bytes, 4 out. */
	CU_ASSERT_EQUAL(gw_path_normalize("/%41%42%43", 10, out, 5, &outlen), GW_PATH_OK);
	CU_ASSERT_STRING_EQUAL(out, "/ABC");
	/* Only the first <len> bytes are read: no NUL needed after them. */
	CU_ASSERT_EQUAL(gw_path_normalize("/ab/cd", 3, out, sizeof out, &outlen), GW_PATH_OK);
	CU_ASSERT_STRING_EQUAL(out, "/ab");
	CU_ASSERT_EQUAL(gw_path_normalize("/a%41", 4, out, sizeof out, &outlen),
			GW_PATH_BAD_ESCAPE);
}

/* Every status has its own reason. */
static void test_path_strerror(void)
{
	for (int a = GW_PATH_DOT_SEGMENT; a <= GW_PATH_OK; a++)
		for (int b = a + 1; b <= GW_PATH_OK; b++)
			CU_ASSERT_STRING_NOT_EQUAL(gw_path_strerror(a), gw_path_strerror(b));
	CU_ASSERT_PTR_NOT_NULL(gw_path_strerror(-100));
}

/* gw_path_check_target: a rendered (already encoded) upstream path obeys a
 * client path's rules, and holds no dot segment, raw or encoded. */
static void test_path_check_target(void)
{
	static const struct {
		const char *in;
		int want;
	} c[] = {
		{ "/accounts/alice/profile", GW_PATH_OK },
		{ "/accounts//profile", GW_PATH_OK },         /* empty value: kept */
		{ "/a/%C3%A9t%C3%A9", GW_PATH_OK },           /* UTF-8 */
		{ "/a/x%25y", GW_PATH_OK },                   /* '%' not before 2 hex digits */
		{ "/a/..x/.y/x..", GW_PATH_OK },               /* not dot segments */
		{ "/accounts/../profile", GW_PATH_DOT_SEGMENT },
		{ "/accounts/./profile", GW_PATH_DOT_SEGMENT },
		{ "/accounts/%2e%2E/profile", GW_PATH_DOT_SEGMENT },
		{ "/accounts/.%2e", GW_PATH_DOT_SEGMENT },
		{ "/..", GW_PATH_DOT_SEGMENT },
		{ "/a/..", GW_PATH_DOT_SEGMENT },
		{ "/a/%00/b", GW_PATH_NUL },
		{ "/a/x%0D%0AEvil:%201", GW_PATH_CTL },
		{ "/a/%252e%252e/b", GW_PATH_DOUBLE_ESCAPE },
		{ "/a/x%2F..%2Fy", GW_PATH_ENC_SLASH },
		{ "/a/%5C", GW_PATH_BACKSLASH },
		{ "/a/%C0%AE", GW_PATH_OVERLONG },
		{ "/a/%G0", GW_PATH_BAD_ESCAPE },
		{ "a", GW_PATH_EMPTY },
	};
	char scratch[64];

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		int got = gw_path_check_target(c[i].in, strlen(c[i].in), scratch, sizeof scratch);

		if (got != c[i].want)
			fprintf(stderr, "\n%s: got %d, want %d\n", c[i].in, got, c[i].want);
		CU_ASSERT_EQUAL(got, c[i].want);
	}
	/* the normaliser itself still resolves what the check refuses */
	{
		size_t n;

		CU_ASSERT_EQUAL(gw_path_normalize("/a/../b", 7, scratch, sizeof scratch, &n), GW_PATH_OK);
		CU_ASSERT_STRING_EQUAL(scratch, "/b");
	}
}

/* Register the suite (runner contract: 0 on success). */
int gw_suite_lib_path(void)
{
	CU_pSuite s = CU_add_suite("lib/path", NULL, NULL);

	if (!s || !CU_add_test(s, "table of raw paths", test_path_table) ||
	    !CU_add_test(s, "exact output capacity", test_path_capacity) ||
	    !CU_add_test(s, "output too small", test_path_too_long) ||
	    !CU_add_test(s, "status reasons", test_path_strerror) ||
	    !CU_add_test(s, "rendered targets checked", test_path_check_target))
		return -1;
	return 0;
}
