/* Tests of gwd/conn.c: connection counts per address and in total against
 * the limits, and the head-deadline reaper shutting down a real socket (a
 * socketpair: the peer sees end-of-file) only once its deadline passed. */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gwd/conn.h"

int gw_suite_gwd_conn(void);

static struct sockaddr_in addr4(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1234) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static void test_limits(void)
{
	struct sockaddr_in a = addr4("192.0.2.1"), b = addr4("192.0.2.2");
	struct sockaddr_in6 m = { .sin6_family = AF_INET6 };
	struct gwd_conn *c[6];
	uint64_t base = gwd_conn_active();

	gwd_conn_set_limits(base + 5, 2, 10000, 60000);
	c[0] = gwd_conn_opened(-1, (struct sockaddr *)&a, sizeof a);
	c[1] = gwd_conn_opened(-1, (struct sockaddr *)&a, sizeof a);
	c[2] = gwd_conn_opened(-1, (struct sockaddr *)&a, sizeof a);
	CU_ASSERT_FALSE(c[0]->over_limit);
	CU_ASSERT_FALSE(c[1]->over_limit);
	CU_ASSERT_TRUE(c[2]->over_limit); /* third from one address, limit 2 */
	CU_ASSERT_STRING_EQUAL(c[0]->ip, "192.0.2.1");
	CU_ASSERT_EQUAL(gwd_conn_count_for(c[0]), 3);
	/* an IPv4-mapped IPv6 peer is the same address */
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &m.sin6_addr);
	c[3] = gwd_conn_opened(-1, (struct sockaddr *)&m, sizeof m);
	CU_ASSERT_EQUAL(c[3]->family, 4);
	CU_ASSERT_STRING_EQUAL(c[3]->ip, "192.0.2.1");
	CU_ASSERT_EQUAL(gwd_conn_count_for(c[0]), 4);
	CU_ASSERT_TRUE(c[3]->over_limit);
	c[4] = gwd_conn_opened(-1, (struct sockaddr *)&b, sizeof b);
	CU_ASSERT_FALSE(c[4]->over_limit);
	c[5] = gwd_conn_opened(-1, (struct sockaddr *)&b, sizeof b);
	CU_ASSERT_TRUE(c[5]->over_limit); /* sixth in total, limit base + 5 */
	CU_ASSERT_EQUAL(gwd_conn_active(), base + 6);
	for (int i = 5; i >= 0; i--)
		gwd_conn_closed(c[i]);
	CU_ASSERT_EQUAL(gwd_conn_active(), base);
	c[0] = gwd_conn_opened(-1, (struct sockaddr *)&a, sizeof a);
	CU_ASSERT_FALSE(c[0]->over_limit); /* counts went back down */
	CU_ASSERT_EQUAL(gwd_conn_count_for(c[0]), 1);
	gwd_conn_closed(c[0]);
	gwd_conn_set_limits(4096, 1024, 10000, 60000);
}

static void test_reaper(void)
{
	int sv[2];
	struct sockaddr_in a = addr4("198.51.100.7");
	struct gwd_conn *c;
	uint64_t now, reaped = gwd_conn_reaped();
	char byte;

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	gwd_conn_set_limits(0, 0, 1000, 5000);
	c = gwd_conn_opened(sv[0], (struct sockaddr *)&a, sizeof a);
	now = gwd_clock_ms();
	/* before the deadline: nothing */
	CU_ASSERT_EQUAL(gwd_conn_reap(now + 500), 0);
	/* the head completed: no deadline at all */
	gwd_conn_head_done(c);
	CU_ASSERT_EQUAL(gwd_conn_reap(now + 100000), 0);
	/* the response went out: the idle timeout runs; a new request line
	 * tightens it to the header timeout */
	gwd_conn_response_done(c, gwd_clock_ms());
	CU_ASSERT_EQUAL(gwd_conn_reap(gwd_clock_ms() + 4000), 0);
	gwd_conn_request_line(c, gwd_clock_ms());
	CU_ASSERT_EQUAL(gwd_conn_reap(gwd_clock_ms() + 1500), 1);
	CU_ASSERT_EQUAL(gwd_conn_reaped(), reaped + 1);
	/* the peer sees the socket shut down */
	CU_ASSERT_EQUAL(read(sv[1], &byte, 1), 0);
	/* reaped once only */
	CU_ASSERT_EQUAL(gwd_conn_reap(gwd_clock_ms() + 100000), 0);
	gwd_conn_closed(c);
	close(sv[0]);
	close(sv[1]);
	gwd_conn_set_limits(4096, 1024, 10000, 60000);
}

/* A body must keep coming (conn.h): header_timeout at first, then credit at
 * GWD_CONN_BODY_MIN_RATE, at most idle_timeout ahead; none once complete. */
static void test_body_deadline(void)
{
	int sv[2];
	struct sockaddr_in a = addr4("198.51.100.8");
	struct gwd_conn *c;
	uint64_t t0;
	char byte;

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	gwd_conn_set_limits(0, 0, 1000, 5000);
	c = gwd_conn_opened(sv[0], (struct sockaddr *)&a, sizeof a);
	t0 = gwd_clock_ms();
	gwd_conn_head_done(c);
	gwd_conn_body_start(c, t0);
	/* a byte a second earns 1 ms each: still cut at about header_timeout */
	for (unsigned i = 1; i <= 5; i++)
		gwd_conn_body_data(c, 1, t0 + i * 100);
	CU_ASSERT_EQUAL(gwd_conn_reap(t0 + 900), 0);
	CU_ASSERT_EQUAL(gwd_conn_reap(t0 + 1100), 1);
	CU_ASSERT_EQUAL(read(sv[1], &byte, 1), 0);
	/* after the reaper acted, data no longer sets a deadline */
	gwd_conn_body_data(c, 1 << 20, t0 + 1200);
	CU_ASSERT_EQUAL(gwd_conn_reap(t0 + 100000), 0);
	gwd_conn_closed(c);
	close(sv[0]);
	close(sv[1]);

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = gwd_conn_opened(sv[0], (struct sockaddr *)&a, sizeof a);
	t0 = gwd_clock_ms();
	gwd_conn_head_done(c);
	gwd_conn_body_start(c, t0);
	/* a fast body earns time, but never more than idle_timeout from now */
	gwd_conn_body_data(c, 64u << 20, t0 + 10);
	CU_ASSERT_EQUAL(gwd_conn_reap(t0 + 4000), 0);
	CU_ASSERT_EQUAL(gwd_conn_reap(t0 + 5100), 1);
	gwd_conn_closed(c);
	close(sv[0]);
	close(sv[1]);

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = gwd_conn_opened(sv[0], (struct sockaddr *)&a, sizeof a);
	t0 = gwd_clock_ms();
	gwd_conn_body_start(c, t0);
	/* the body complete: no deadline while the handler works */
	gwd_conn_head_done(c);
	CU_ASSERT_EQUAL(gwd_conn_reap(t0 + 100000), 0);
	gwd_conn_closed(c);
	close(sv[0]);
	close(sv[1]);
	gwd_conn_set_limits(4096, 1024, 10000, 60000);
}

static void test_reaper_thread(void)
{
	int sv[2];
	struct gwd_conn *c;
	char byte;
	struct timeval tv = { 2, 0 };

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	gwd_conn_set_limits(0, 0, 200, 5000);
	CU_ASSERT_EQUAL_FATAL(gwd_conn_reaper_start(), 0);
	c = gwd_conn_opened(sv[0], NULL, 0);
	/* within 200 ms + one 100 ms pass, not the 2 s receive timeout */
	CU_ASSERT_EQUAL(read(sv[1], &byte, 1), 0);
	gwd_conn_reaper_stop();
	gwd_conn_closed(c);
	close(sv[0]);
	close(sv[1]);
	gwd_conn_set_limits(4096, 1024, 10000, 60000);
}

int gw_suite_gwd_conn(void)
{
	CU_pSuite s = CU_add_suite("gwd/conn", NULL, NULL);

	if (!s || !CU_add_test(s, "limits per address and in total", test_limits) ||
	    !CU_add_test(s, "head deadlines", test_reaper) ||
	    !CU_add_test(s, "body deadlines", test_body_deadline) ||
	    !CU_add_test(s, "the reaper thread", test_reaper_thread))
		return -1;
	return 0;
}
