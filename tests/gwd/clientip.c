/* Unit tests of gwd/clientip.c: who the client is.
 *
 * The spoofing test is the point: a client that is not a trusted proxy and
 * rotates X-Forwarded-For on every request must still land in one rate-limit
 * bucket, its own peer address; it is run through a real rate-limit table.
 * Then trusted chains are walked from the right, across several fields,
 * stopping at malformed entries; IPv4, IPv6 and v4-mapped peers; strict
 * parsing of hostile entries.
 */
#include "gwd/clientip.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/ratelimit.h"

int gw_suite_gwd_clientip(void);

/* A socket address for the literal <text> (IPv4 or IPv6), in <ss>. */
static const struct sockaddr *peer_of(struct sockaddr_storage *ss, const char *text)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(40000);
	} else {
		CU_ASSERT_FATAL(inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(40000);
	}
	return (const struct sockaddr *)ss;
}

/* A CIDR from <text> ("10.0.0.0/8", "2001:db8::/32"), as gwc stores it. */
static struct gw_cidr cidr(const char *text)
{
	struct gw_cidr c;
	char buf[64];
	char *slash;

	memset(&c, 0, sizeof c);
	snprintf(buf, sizeof buf, "%s", text);
	slash = strchr(buf, '/');
	CU_ASSERT_FATAL(slash != NULL);
	*slash = '\0';
	c.prefix = (uint8_t)atoi(slash + 1);
	if (inet_pton(AF_INET, buf, c.addr) == 1) {
		c.family = 4;
	} else {
		CU_ASSERT_FATAL(inet_pton(AF_INET6, buf, c.addr) == 1);
		c.family = 6;
	}
	return c;
}

/* The client of a request from <peer> with the X-Forwarded-For fields
 * <f0> and <f1> (NULL: absent), formatted into <out>. */
static const char *client(char out[GWD_CLIENTIP_STRLEN], const char *peer, const char *f0,
			  const char *f1, const struct gw_cidr *trusted, uint32_t ntrusted)
{
	struct sockaddr_storage ss;
	const char *fields[2];
	size_t lens[2];
	unsigned n = 0;
	struct gwd_clientip ip;

	if (f0) {
		fields[n] = f0;
		lens[n++] = strlen(f0);
	}
	if (f1) {
		fields[n] = f1;
		lens[n++] = strlen(f1);
	}
	CU_ASSERT_EQUAL(gwd_clientip(&ip, peer_of(&ss, peer), fields, lens, n, trusted, ntrusted),
			0);
	gwd_clientip_format(&ip, out);
	return out;
}

#define CU_ASSERT_CLIENT(want, ...)                                          \
	do {                                                                 \
		char got_[GWD_CLIENTIP_STRLEN];                                     \
		client(got_, __VA_ARGS__);                                   \
		if (strcmp(got_, want) != 0) {                               \
			fprintf(stderr, "\n  line %d: got %s, want %s\n", __LINE__, got_, want); \
			CU_FAIL("client address");                           \
		}                                                            \
	} while (0)

/* An untrusted peer rotating X-Forwarded-For: always the peer, and so one
 * bucket of a real 10/s table: 10 admitted out of 1000, whatever it claims. */
static void test_spoofing(void)
{
	struct gw_cidr trusted[1] = { cidr("10.0.0.0/8") };
	struct gw_ratelimit p;
	struct gwd_ratelimit_table *t;
	struct gwd_ratelimit_result r;
	struct sockaddr_storage ss;
	const struct sockaddr *peer = peer_of(&ss, "198.51.100.23");
	unsigned admitted = 0;
	uint64_t now = gwd_clock_ns();

	memset(&p, 0, sizeof p);
	p.name.p = "strict";
	p.name.len = 6;
	p.key = GW_RLK_IP;
	p.quota = 10;
	p.period_ms = 1000;
	p.burst = 10;
	p.max_keys = 100000;
	t = gwd_ratelimit_table_new(&p, 0);
	CU_ASSERT_FATAL(t != NULL);
	for (unsigned i = 0; i < 1000; i++) {
		char xff[128];
		const char *f = xff;
		size_t len;
		struct gwd_clientip ip;
		struct gwd_ratelimit_keyval k;

		/* every kind of lie: a fresh address, a trusted-looking one,
		 * a chain, IPv6 */
		switch (i % 4) {
		case 0: snprintf(xff, sizeof xff, "203.0.%u.%u", i / 256 % 256, i % 256); break;
		case 1: snprintf(xff, sizeof xff, "10.0.0.%u", i % 256); break;
		case 2: snprintf(xff, sizeof xff, "1.2.3.%u, 10.1.1.1", i % 256); break;
		default: snprintf(xff, sizeof xff, "2001:db8::%x", i); break;
		}
		len = strlen(xff);
		CU_ASSERT_EQUAL(gwd_clientip(&ip, peer, &f, &len, 1, trusted, 1), 0);
		gwd_ratelimit_key_ip(&k, ip.b);
		admitted += (unsigned)gwd_ratelimit_admit(t, &k, now, &r);
	}
	CU_ASSERT_EQUAL(admitted, 10);
	CU_ASSERT_EQUAL(gwd_ratelimit_table_keys(t), 1);
	gwd_ratelimit_table_free(t);

	/* no trusted proxies at all: the header is never read */
	CU_ASSERT_CLIENT("10.0.0.1", "10.0.0.1", "203.0.113.7", NULL, NULL, 0);
}

/* Trusted chains: walked from the right, trusted hops skipped. */
static void test_trusted_chain(void)
{
	struct gw_cidr tr[3] = { cidr("10.0.0.0/8"), cidr("2001:db8:ffff::/48"),
				 cidr("192.168.1.1/32") };

	/* no header: the peer */
	CU_ASSERT_CLIENT("10.0.0.1", "10.0.0.1", NULL, NULL, tr, 3);
	/* one hop */
	CU_ASSERT_CLIENT("203.0.113.7", "10.0.0.1", "203.0.113.7", NULL, tr, 3);
	/* the client's own lie on the left is ignored */
	CU_ASSERT_CLIENT("203.0.113.7", "10.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.5", NULL,
			 tr, 3);
	/* every hop trusted: the leftmost */
	CU_ASSERT_CLIENT("10.0.0.9", "10.0.0.1", "10.0.0.9,10.0.0.5", NULL, tr, 3);
	/* malformed entries stop the walk: the last good one stands */
	CU_ASSERT_CLIENT("10.0.0.5", "10.0.0.1", "203.0.113.7, garbage, 10.0.0.5", NULL, tr, 3);
	CU_ASSERT_CLIENT("10.0.0.1", "10.0.0.1", "203.0.113.7, unknown", NULL, tr, 3);
	CU_ASSERT_CLIENT("10.0.0.1", "10.0.0.1", "203.0.113.7:8080", NULL, tr, 3);
	CU_ASSERT_CLIENT("10.0.0.1", "10.0.0.1", "203.0.113.07", NULL, tr, 3);
	CU_ASSERT_CLIENT("10.0.0.1", "10.0.0.1", "203.0.113.7 1.1.1.1", NULL, tr, 3);
	CU_ASSERT_CLIENT("10.0.0.1", "10.0.0.1", "fe80::1%eth0", NULL, tr, 3);
	/* white space and empty elements */
	CU_ASSERT_CLIENT("203.0.113.7", "10.0.0.1", " \t203.0.113.7 ,, 10.0.0.5\t, ", NULL, tr, 3);
	CU_ASSERT_CLIENT("10.0.0.1", "10.0.0.1", " , ,", NULL, tr, 3);
	/* several fields form one list: the last field is the nearest */
	CU_ASSERT_CLIENT("203.0.113.9", "10.0.0.1", "203.0.113.9", "10.0.0.5", tr, 3);
	CU_ASSERT_CLIENT("203.0.113.7", "10.0.0.1", "1.1.1.1", "203.0.113.7, 10.0.0.5", tr, 3);
	CU_ASSERT_CLIENT("10.0.0.5", "10.0.0.1", "bad", "10.0.0.5", tr, 3);
	/* IPv6 peer and hops, brackets accepted, RFC 5952 output */
	CU_ASSERT_CLIENT("2001:db8::42", "2001:db8:ffff::1", "2001:db8::42, 2001:db8:ffff::2",
			 NULL, tr, 3);
	CU_ASSERT_CLIENT("2001:db8::42", "2001:db8:ffff::1", "[2001:DB8:0:0::42]", NULL, tr, 3);
	CU_ASSERT_CLIENT("203.0.113.7", "2001:db8:ffff::1", "203.0.113.7", NULL, tr, 3);
	/* a v4-mapped peer (dual-stack socket) matches the v4 CIDR */
	CU_ASSERT_CLIENT("203.0.113.7", "::ffff:10.0.0.1", "203.0.113.7", NULL, tr, 3);
	CU_ASSERT_CLIENT("203.0.113.7", "::ffff:192.168.1.1", "203.0.113.7", NULL, tr, 3);
	/* ...and a v4-mapped hop is the same client as its IPv4 form */
	CU_ASSERT_CLIENT("203.0.113.7", "10.0.0.1", "::ffff:203.0.113.7", NULL, tr, 3);
	/* /32 is exact */
	CU_ASSERT_CLIENT("192.168.1.2", "192.168.1.2", "203.0.113.7", NULL, tr, 3);
	/* untrusted IPv6 peer */
	CU_ASSERT_CLIENT("2001:db8:1::1", "2001:db8:1::1", "203.0.113.7", NULL, tr, 3);
}

/* Strict parsing and CIDR edges. */
static void test_parse_cidr(void)
{
	struct gwd_clientip ip;
	char big[300];
	char out[GWD_CLIENTIP_STRLEN];

	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "255.255.255.255", 15), 0);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "256.1.1.1", 9), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "1.2.3", 5), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "1.2.3.4.5", 9), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "", 0), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "[]", 2), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "[1.2.3.4]", 9), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "1.2.3.4\0junk", 12), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "1.2.3.4", 7), 0);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "1:2:3:4:5:6:7:8:9", 17), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "::1::", 5), -1);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "::", 2), 0);
	memset(big, '1', sizeof big);
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, big, sizeof big), -1);
	/* a length that cuts the text is honoured (no NUL needed) */
	CU_ASSERT_EQUAL(gwd_clientip_parse(&ip, "10.0.0.12345", 8), 0);
	gwd_clientip_format(&ip, out);
	CU_ASSERT_STRING_EQUAL(out, "10.0.0.1");

	struct gw_cidr all4 = cidr("0.0.0.0/0"), all6 = cidr("::/0"), n25 = cidr("10.0.0.128/25");
	struct gw_cidr h128 = cidr("2001:db8::1/128");
	gwd_clientip_parse(&ip, "10.0.0.200", 10);
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &all4), 1);
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &all6), 1); /* ::/0 is everything */
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &n25), 1);
	gwd_clientip_parse(&ip, "10.0.0.127", 10);
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &n25), 0);
	gwd_clientip_parse(&ip, "2001:db8::1", 11);
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &all4), 0); /* not v4 */
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &h128), 1);
	gwd_clientip_parse(&ip, "2001:db8::2", 11);
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &h128), 0);
	struct gw_cidr bad = all4;
	bad.prefix = 33;
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &bad), 0);
	bad.family = 5;
	CU_ASSERT_EQUAL(gwd_clientip_in_cidr(&ip, &bad), 0);

	/* a peer that is no IP socket */
	struct sockaddr sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNIX;
	CU_ASSERT_EQUAL(gwd_clientip(&ip, &sa, NULL, NULL, 0, NULL, 0), -1);
	CU_ASSERT_EQUAL(gwd_clientip(&ip, NULL, NULL, NULL, 0, NULL, 0), -1);
}

int gw_suite_gwd_clientip(void)
{
	CU_pSuite s = CU_add_suite("gwd/clientip", NULL, NULL);

	if (!s || !CU_add_test(s, "spoofing: one bucket", test_spoofing) ||
	    !CU_add_test(s, "trusted chains", test_trusted_chain) ||
	    !CU_add_test(s, "parsing and CIDRs", test_parse_cidr))
		return -1;
	return 0;
}
