/* Unit tests of gwc/units.c: each scalar syntax of docs/routes.md "Units",
 * accepted forms with their exact values, and the refused forms with the
 * status that tells the caller what to say. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "gwc/units.h"

int gw_suite_gwc_units(void);

#define S(x) x, strlen(x)

/* Decimal integers: no sign, no leading zero, overflow detected. */
static void test_uint(void)
{
	uint64_t v = 7;

	CU_ASSERT_EQUAL(gwc_parse_uint(S("0"), &v), GWC_U_OK);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("4294967296"), &v), GWC_U_OK);
	CU_ASSERT_EQUAL(v, 4294967296ull);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("18446744073709551615"), &v), GWC_U_OK);
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("18446744073709551616"), &v), GWC_U_RANGE);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("99999999999999999999999"), &v), GWC_U_RANGE);
	CU_ASSERT_EQUAL(gwc_parse_uint(S(""), &v), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("010"), &v), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("-1"), &v), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("+1"), &v), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("1 "), &v), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_uint(S("0x10"), &v), GWC_U_SYNTAX);
	/* Not NUL-terminated: only <len> bytes count. */
	CU_ASSERT_EQUAL(gwc_parse_uint("123abc", 3, &v), GWC_U_OK);
	CU_ASSERT_EQUAL(v, 123);
}

/* Durations: a unit is required; ms, s, m, h, d only. */
static void test_duration(void)
{
	uint64_t ms = 0;

	CU_ASSERT_EQUAL(gwc_parse_duration(S("500ms"), &ms), GWC_U_OK);
	CU_ASSERT_EQUAL(ms, 500);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("2s"), &ms), GWC_U_OK);
	CU_ASSERT_EQUAL(ms, 2000);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("30m"), &ms), GWC_U_OK);
	CU_ASSERT_EQUAL(ms, 1800000);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("12h"), &ms), GWC_U_OK);
	CU_ASSERT_EQUAL(ms, 43200000);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("1d"), &ms), GWC_U_OK);
	CU_ASSERT_EQUAL(ms, 86400000);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("0s"), &ms), GWC_U_OK);
	CU_ASSERT_EQUAL(ms, 0);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("5"), &ms), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("5 s"), &ms), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("5S"), &ms), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("5min"), &ms), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("1h30m"), &ms), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("s"), &ms), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("-1s"), &ms), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("1.5s"), &ms), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("05s"), &ms), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_duration(S("999999999999999999d"), &ms), GWC_U_RANGE);
}

/* Sizes: bare bytes or a case-sensitive decimal or binary unit. */
static void test_size(void)
{
	uint64_t b = 0;

	CU_ASSERT_EQUAL(gwc_parse_size(S("512"), &b), GWC_U_OK);
	CU_ASSERT_EQUAL(b, 512);
	CU_ASSERT_EQUAL(gwc_parse_size(S("512B"), &b), GWC_U_OK);
	CU_ASSERT_EQUAL(b, 512);
	CU_ASSERT_EQUAL(gwc_parse_size(S("16KiB"), &b), GWC_U_OK);
	CU_ASSERT_EQUAL(b, 16384);
	CU_ASSERT_EQUAL(gwc_parse_size(S("16KB"), &b), GWC_U_OK);
	CU_ASSERT_EQUAL(b, 16000);
	CU_ASSERT_EQUAL(gwc_parse_size(S("1MiB"), &b), GWC_U_OK);
	CU_ASSERT_EQUAL(b, 1048576);
	CU_ASSERT_EQUAL(gwc_parse_size(S("2MB"), &b), GWC_U_OK);
	CU_ASSERT_EQUAL(b, 2000000);
	CU_ASSERT_EQUAL(gwc_parse_size(S("3GiB"), &b), GWC_U_OK);
	CU_ASSERT_EQUAL(b, 3ull << 30);
	CU_ASSERT_EQUAL(gwc_parse_size(S("1GB"), &b), GWC_U_OK);
	CU_ASSERT_EQUAL(b, 1000000000);
	CU_ASSERT_EQUAL(gwc_parse_size(S("16kb"), &b), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_size(S("16 KiB"), &b), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_size(S("1TB"), &b), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_size(S("KiB"), &b), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_size(S("18446744073709551615GiB"), &b), GWC_U_RANGE);
}

/* Rates: QUOTA/PERIOD with named periods or a duration. */
static void test_rate(void)
{
	uint64_t q = 0, p = 0;

	CU_ASSERT_EQUAL(gwc_parse_rate(S("10/s"), &q, &p), GWC_U_OK);
	CU_ASSERT_EQUAL(q, 10);
	CU_ASSERT_EQUAL(p, 1000);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("600/min"), &q, &p), GWC_U_OK);
	CU_ASSERT_EQUAL(q, 600);
	CU_ASSERT_EQUAL(p, 60000);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("1000/h"), &q, &p), GWC_U_OK);
	CU_ASSERT_EQUAL(p, 3600000);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("5/d"), &q, &p), GWC_U_OK);
	CU_ASSERT_EQUAL(p, 86400000);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("100/10s"), &q, &p), GWC_U_OK);
	CU_ASSERT_EQUAL(q, 100);
	CU_ASSERT_EQUAL(p, 10000);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("7/250ms"), &q, &p), GWC_U_OK);
	CU_ASSERT_EQUAL(p, 250);
	/* The caller refuses zeros; the syntax is fine. */
	CU_ASSERT_EQUAL(gwc_parse_rate(S("0/s"), &q, &p), GWC_U_OK);
	CU_ASSERT_EQUAL(q, 0);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("1/0s"), &q, &p), GWC_U_OK);
	CU_ASSERT_EQUAL(p, 0);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("10/m"), &q, &p), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("10/sec"), &q, &p), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("10/10"), &q, &p), GWC_U_UNIT);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("10"), &q, &p), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("/s"), &q, &p), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("10/"), &q, &p), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("-1/s"), &q, &p), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_rate(S("1/1/s"), &q, &p), GWC_U_UNIT);
}

/* CIDRs: both families, bare addresses, prefixes, host bits. */
static void test_cidr(void)
{
	struct gw_cidr c;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.0.0.0/8"), &c), GWC_U_OK);
	CU_ASSERT_EQUAL(c.family, 4);
	CU_ASSERT_EQUAL(c.prefix, 8);
	CU_ASSERT_EQUAL(c.addr[0], 10);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("192.168.1.7"), &c), GWC_U_OK);
	CU_ASSERT_EQUAL(c.prefix, 32);
	CU_ASSERT_EQUAL(c.addr[3], 7);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("0.0.0.0/0"), &c), GWC_U_OK);
	CU_ASSERT_EQUAL(c.prefix, 0);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("::1"), &c), GWC_U_OK);
	CU_ASSERT_EQUAL(c.family, 6);
	CU_ASSERT_EQUAL(c.prefix, 128);
	CU_ASSERT_EQUAL(c.addr[15], 1);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("2001:db8::/32"), &c), GWC_U_OK);
	CU_ASSERT_EQUAL(memcmp(c.addr, v6, 16), 0);
	CU_ASSERT_EQUAL(c.prefix, 32);
	/* Host bits: refused, with the network filled in for the message. */
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.1.2.3/8"), &c), GWC_U_HOSTBITS);
	CU_ASSERT_EQUAL(c.addr[0], 10);
	CU_ASSERT_EQUAL(c.addr[1], 0);
	CU_ASSERT_EQUAL(c.addr[3], 0);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.0.0.128/25"), &c), GWC_U_OK);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.0.0.64/25"), &c), GWC_U_HOSTBITS);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("2001:db8::1/64"), &c), GWC_U_HOSTBITS);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.0.0.0/33"), &c), GWC_U_PREFIX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("::/129"), &c), GWC_U_PREFIX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.0.0.0/"), &c), GWC_U_PREFIX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.0.0.0/08"), &c), GWC_U_PREFIX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.0.0.0/-1"), &c), GWC_U_PREFIX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("10.0.0/8"), &c), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("010.0.0.0/8"), &c), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("256.0.0.0/8"), &c), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("fe80::1%eth0"), &c), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("example.com"), &c), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_cidr(S("/8"), &c), GWC_U_SYNTAX);
	CU_ASSERT_EQUAL(gwc_parse_cidr("10.0.0.0\0/8", 11, &c), GWC_U_SYNTAX);
}

/* Addresses: HOST:PORT and [V6]:PORT, ports 1..65535. */
static void test_hostport(void)
{
	size_t off = 99, len = 99;
	uint16_t port = 0;
	const char *s;

	s = "127.0.0.1:8081";
	CU_ASSERT_EQUAL(gwc_parse_hostport(S(s), &off, &len, &port), GWC_U_OK);
	CU_ASSERT_EQUAL(off, 0);
	CU_ASSERT_EQUAL(len, 9);
	CU_ASSERT_EQUAL(port, 8081);
	s = "[::1]:65535";
	CU_ASSERT_EQUAL(gwc_parse_hostport(S(s), &off, &len, &port), GWC_U_OK);
	CU_ASSERT_EQUAL(off, 1);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT_EQUAL(port, 65535);
	s = "users.internal:80";
	CU_ASSERT_EQUAL(gwc_parse_hostport(S(s), &off, &len, &port), GWC_U_OK);
	CU_ASSERT_EQUAL(len, 14);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("127.0.0.1"), &off, &len, &port), GWC_U_PORT);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("127.0.0.1:0"), &off, &len, &port), GWC_U_PORT);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("127.0.0.1:65536"), &off, &len, &port), GWC_U_PORT);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("127.0.0.1:"), &off, &len, &port), GWC_U_PORT);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("127.0.0.1:http"), &off, &len, &port), GWC_U_PORT);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("[::1]"), &off, &len, &port), GWC_U_PORT);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("::1:80"), &off, &len, &port), GWC_U_HOST);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("[::g]:80"), &off, &len, &port), GWC_U_HOST);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("[::1:80"), &off, &len, &port), GWC_U_HOST);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("10.0.0.300:80"), &off, &len, &port), GWC_U_HOST);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S("bad_host:80"), &off, &len, &port), GWC_U_HOST);
	CU_ASSERT_EQUAL(gwc_parse_hostport(S(":80"), &off, &len, &port), GWC_U_HOST);
}

/* Host names: RFC 1123 labels and lengths, IPv4 literals. */
static void test_hostname(void)
{
	char big[300];

	CU_ASSERT_TRUE(gwc_is_hostname(S("example.com")));
	CU_ASSERT_TRUE(gwc_is_hostname(S("API.Example.COM")));
	CU_ASSERT_TRUE(gwc_is_hostname(S("localhost")));
	CU_ASSERT_TRUE(gwc_is_hostname(S("a-b.c1")));
	CU_ASSERT_TRUE(gwc_is_hostname(S("127.0.0.1")));
	CU_ASSERT_TRUE(gwc_is_hostname(S("3com.net")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("example.com.")));
	CU_ASSERT_FALSE(gwc_is_hostname(S(".example.com")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("a..b")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("-a.com")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("a-.com")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("a_b.com")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("*.example.com")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("10.0.0.256")));
	CU_ASSERT_FALSE(gwc_is_hostname(S("1.2.3")));
	memset(big, 'a', 64);
	CU_ASSERT_FALSE(gwc_is_hostname(big, 64)); /* label over 63 */
	CU_ASSERT_TRUE(gwc_is_hostname(big, 63));
	memset(big, 'a', sizeof big);
	for (int i = 63; i < 300; i += 64)
		big[i] = '.';
	CU_ASSERT_TRUE(gwc_is_hostname(big, 253));
	CU_ASSERT_FALSE(gwc_is_hostname(big, 254));
}

int gw_suite_gwc_units(void)
{
	CU_pSuite s = CU_add_suite("gwc/units", NULL, NULL);

	if (!s)
		return -1;
	if (!CU_add_test(s, "integers", test_uint) || !CU_add_test(s, "durations", test_duration) ||
	    !CU_add_test(s, "sizes", test_size) || !CU_add_test(s, "rates", test_rate) ||
	    !CU_add_test(s, "CIDRs", test_cidr) || !CU_add_test(s, "HOST:PORT", test_hostport) ||
	    !CU_add_test(s, "host names", test_hostname))
		return -1;
	return 0;
}
