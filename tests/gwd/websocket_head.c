/* Tests of gwd/websocket_head.c: the strict parser of an upstream's answer
 * to a WebSocket handshake (complete, incomplete, malformed heads), the key
 * check and the accept value (RFC 6455's own example), the token lists. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "gwd/websocket_head.h"

int gw_suite_gwd_websocket_head(void);

static long parse(const char *s, struct gwd_wshead *h)
{
	return gwd_wshead_parse(s, strlen(s), h);
}

/* <in> as a chunked body: <want> (its span, 0, -1) and, when complete, the
 * data <data>, decoded both into a copy and in place. */
static void chunked_is(const char *in, long want, const char *data)
{
	char buf[256], out[256];
	size_t len = strlen(in), olen = 0;

	memcpy(buf, in, len);
	CU_ASSERT_EQUAL(gwd_wshead_chunked(buf, len, NULL, NULL), want);
	if (want <= 0)
		return;
	CU_ASSERT_EQUAL(gwd_wshead_chunked(buf, len, out, &olen), want);
	CU_ASSERT(olen == strlen(data) && memcmp(out, data, olen) == 0);
	CU_ASSERT_EQUAL(gwd_wshead_chunked(buf, len, buf, &olen), want);
	CU_ASSERT(olen == strlen(data) && memcmp(buf, data, olen) == 0);
	for (size_t k = 0; k < (size_t)want; k++) /* every prefix: incomplete */
		CU_ASSERT_EQUAL(gwd_wshead_chunked(in, k, NULL, NULL), 0);
}

static void test_chunked(void)
{
	chunked_is("0\r\n\r\n", 5, "");
	chunked_is("5\r\nhello\r\n0\r\n\r\n", 15, "hello");
	chunked_is("3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", 40,
		   "abc0123456789");
	chunked_is("5\r\nhello\r\n0\r\n\r\nextra", 15, "hello");
	chunked_is("5\r\nhello", 0, NULL);
	chunked_is("\r\n", -1, NULL);                   /* no size */
	chunked_is("5\nhello\r\n0\r\n\r\n", -1, NULL); /* bare LF */
	chunked_is("5\r\nhelloXX0\r\n\r\n", -1, NULL); /* data longer than said */
	chunked_is("0\r\nX-T: 1\n\r\n", -1, NULL);       /* bare LF in the trailer */
	chunked_is("g\r\n", -1, NULL);
	chunked_is("fffffffffffffffff\r\n", -1, NULL);  /* over 64 bits */
}

static void test_complete(void)
{
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				 "Connection: Upgrade\r\nSec-WebSocket-Accept:  \t s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n"
				 "\r\nFRAMES";
	struct gwd_wshead h;
	const char *v;
	size_t vl = 0;
	unsigned n = 0;

	CU_ASSERT_EQUAL(parse(ok, &h), (long)(strlen(ok) - 6));
	CU_ASSERT_EQUAL(h.status, 101);
	CU_ASSERT_EQUAL(h.nfields, 3);
	v = gwd_wshead_get(&h, "sec-websocket-accept", &vl, &n);
	CU_ASSERT_TRUE_FATAL(v != NULL);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(vl, 28);
	CU_ASSERT_EQUAL(memcmp(v, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28), 0);
	CU_ASSERT_PTR_NULL(gwd_wshead_get(&h, "Sec-WebSocket-Protocol", &vl, &n));
	CU_ASSERT_EQUAL(n, 0);
	/* no reason phrase at all; HTTP/1.0; an empty value; a repeated field */
	CU_ASSERT_TRUE(parse("HTTP/1.1 403\r\n\r\n", &h) > 0 && h.status == 403);
	CU_ASSERT_TRUE(parse("HTTP/1.0 200 OK\r\nX-Empty:\r\nA: 1\r\na: 2\r\n\r\n", &h) > 0);
	v = gwd_wshead_get(&h, "A", &vl, &n);
	CU_ASSERT_TRUE(v && vl == 1 && v[0] == '1' && n == 2);
	v = gwd_wshead_get(&h, "x-empty", &vl, &n);
	CU_ASSERT_TRUE(v && vl == 0);
}

static void test_incomplete(void)
{
	static const char full[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
	struct gwd_wshead h;

	/* every proper prefix asks for more, none is taken for a head */
	for (size_t i = 0; i < sizeof full - 1; i++)
		CU_ASSERT_EQUAL(gwd_wshead_parse(full, i, &h), 0);
	CU_ASSERT_EQUAL(gwd_wshead_parse(full, sizeof full - 1, &h), (long)(sizeof full - 1));
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"HTTP/2 101 X\r\n\r\n",                 /* not HTTP/1.x */
		"HTTP/1.1 10 X\r\n\r\n",                /* two digits */
		"HTTP/1.1 1011 X\r\n\r\n",              /* four digits */
		"HTTP/1.1 601 X\r\n\r\n",               /* not a status class */
		"HTTP/1.1 101X\r\n\r\n",                /* no space before the reason */
		"HTTP/1.1 101 X\n\r\n",                 /* bare LF */
		"HTTP/1.1 101 X\r\nA: 1\n\r\n",          /* bare LF in a field */
		"HTTP/1.1 101 X\r\nA: 1\r\r\n\r\n",      /* stray CR */
		"HTTP/1.1 101 X\r\nA: 1\r\n folded\r\n\r\n", /* obs-fold */
		"HTTP/1.1 101 X\r\nA : 1\r\n\r\n",       /* space before the colon */
		"HTTP/1.1 101 X\r\n: 1\r\n\r\n",         /* empty name */
		"HTTP/1.1 101 X\r\nA(b): 1\r\n\r\n",     /* not a token */
		"HTTP/1.1 101 X\r\nNoColon\r\n\r\n",
		"HTTP/1.1 101 X\r\nA: b\x01c\r\n\r\n",   /* control byte */
		"HTTP/1.1 101 X\x7f\r\n\r\n",
		"\r\n",
	};
	struct gwd_wshead h;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (parse(bad[i], &h) != -1)
			fprintf(stderr, "\naccepted: %s\n", bad[i]);
		CU_ASSERT_EQUAL(parse(bad[i], &h), -1);
	}
	{
		/* a NUL inside a value */
		static const char nul[] = "HTTP/1.1 101 X\r\nA: b\0c\r\n\r\n";

		CU_ASSERT_EQUAL(gwd_wshead_parse(nul, sizeof nul - 1, &h), -1);
	}
}

static void test_limits(void)
{
	static char buf[GWD_WSHEAD_MAX + 64];
	struct gwd_wshead h;
	size_t o;

	/* 65 fields: one too many */
	o = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i <= GWD_WSHEAD_FIELDS; i++)
		o += (size_t)sprintf(buf + o, "F%d: v\r\n", i);
	strcpy(buf + o, "\r\n");
	CU_ASSERT_EQUAL(parse(buf, &h), -1);
	/* a head that never ends within the bound */
	o = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\nX: ");
	memset(buf + o, 'a', sizeof buf - o);
	CU_ASSERT_EQUAL(gwd_wshead_parse(buf, sizeof buf, &h), -1);
	CU_ASSERT_EQUAL(gwd_wshead_parse(buf, GWD_WSHEAD_MAX - 1, &h), 0);
}

static void test_key_accept(void)
{
	char acc[GWD_WS_ACCEPT_LEN + 1];

	/* RFC 6455 1.3 */
	CU_ASSERT_TRUE(gwd_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ==", 24));
	CU_ASSERT_EQUAL(gwd_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", 24, acc), 0);
	CU_ASSERT_STRING_EQUAL(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	CU_ASSERT_TRUE(gwd_ws_key_valid("AAAAAAAAAAAAAAAAAAAAAA==", 24));
	CU_ASSERT_TRUE(gwd_ws_key_valid("+/+/+/+/+/+/+/+/+/+/+w==", 24));
	CU_ASSERT_FALSE(gwd_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ=", 23));   /* short */
	CU_ASSERT_FALSE(gwd_ws_key_valid("dGhlIHNhbXBsZSBub25jZQ===", 25)); /* long */
	CU_ASSERT_FALSE(gwd_ws_key_valid("dGhlIHNhbXBsZSBub25jZQAA", 24));  /* no padding: 18 bytes */
	CU_ASSERT_FALSE(gwd_ws_key_valid("dGhlIHNhbXBsZSBub25jZR==", 24));  /* stray low bits */
	CU_ASSERT_FALSE(gwd_ws_key_valid("dGhlIHNhbXBsZSBub25j*Q==", 24));  /* not base64 */
	CU_ASSERT_FALSE(gwd_ws_key_valid("dGhlIHNhbXBsZSBu\0025jZQ==", 24));
	CU_ASSERT_FALSE(gwd_ws_key_valid("hello", 5));
	CU_ASSERT_FALSE(gwd_ws_key_valid(NULL, 0));
}

static void test_tokens(void)
{
	CU_ASSERT_TRUE(gwd_ws_has_token("Upgrade", 7, "upgrade"));
	CU_ASSERT_TRUE(gwd_ws_has_token("keep-alive, Upgrade", 19, "upgrade"));
	CU_ASSERT_TRUE(gwd_ws_has_token(" keep-alive ,\tUPGRADE\t", 22, "upgrade"));
	CU_ASSERT_FALSE(gwd_ws_has_token("upgrades", 8, "upgrade"));
	CU_ASSERT_FALSE(gwd_ws_has_token("keep-alive", 10, "upgrade"));
	CU_ASSERT_FALSE(gwd_ws_has_token("", 0, "upgrade"));
	CU_ASSERT_TRUE(gwd_ws_has_token("h2c, websocket", 14, "websocket"));
}

int gw_suite_gwd_websocket_head(void)
{
	CU_pSuite s = CU_add_suite("gwd/websocket_head", NULL, NULL);

	if (!s || !CU_add_test(s, "complete heads", test_complete) ||
	    !CU_add_test(s, "chunked bodies", test_chunked) ||
	    !CU_add_test(s, "incomplete heads", test_incomplete) ||
	    !CU_add_test(s, "malformed heads", test_malformed) ||
	    !CU_add_test(s, "bounds", test_limits) ||
	    !CU_add_test(s, "key and accept", test_key_accept) ||
	    !CU_add_test(s, "token lists", test_tokens))
		return -1;
	return 0;
}
