/* Tests of gwd/service.c: the messages sent to NOTIFY_SOCKET (read back
 * from a datagram socket the test binds), and which LISTEN_FDS hand-overs
 * gwd_service_listen_fd takes or refuses (the sockets put at descriptor 3
 * for the call, whatever was there restored after). */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gwd/service.h"

int gw_suite_gwd_service(void);

/* Bind a datagram socket at a fresh path and name it in NOTIFY_SOCKET.
 * Returns the socket, or -1. <path> receives the path (unlink it). */
static int notify_open(char *path, size_t cap)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(path, cap, "/tmp/gw-unit-notify.%ld", (long)getpid());
	unlink(path);
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	setenv("NOTIFY_SOCKET", path, 1);
	return s;
}

/* The next datagram on <s> into <buf>, NUL-terminated; "" when none came. */
static void notify_read(int s, char *buf, size_t cap)
{
	ssize_t n = recv(s, buf, cap - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
}

static void test_notify(void)
{
	char path[108], m[512];
	int s = notify_open(path, sizeof path);

	CU_ASSERT_FATAL(s >= 0);
	gwd_service_ready("serving x (fingerprint 0123456789abcdef, 3 routes)");
	notify_read(s, m, sizeof m);
	CU_ASSERT_STRING_EQUAL(m, "READY=1\nSTATUS=serving x (fingerprint 0123456789abcdef, 3 routes)");
	gwd_service_reloading("reloading x");
	notify_read(s, m, sizeof m);
	CU_ASSERT_EQUAL(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\nSTATUS=reloading x"));
	gwd_service_reloaded("reload refused (bad magic)");
	notify_read(s, m, sizeof m);
	CU_ASSERT_STRING_EQUAL(m, "READY=1\nSTATUS=reload refused (bad magic)");
	gwd_service_stopping("draining 2 requests in flight");
	notify_read(s, m, sizeof m);
	CU_ASSERT_STRING_EQUAL(m, "STOPPING=1\nSTATUS=draining 2 requests in flight");
	notify_read(s, m, sizeof m);
	CU_ASSERT_STRING_EQUAL(m, "");
	unsetenv("NOTIFY_SOCKET");
	gwd_service_ready("nobody listens"); /* no socket named: nothing, no failure */
	notify_read(s, m, sizeof m);
	CU_ASSERT_STRING_EQUAL(m, "");
	close(s);
	unlink(path);
}

/* Call gwd_service_listen_fd with <fd> at descriptor 3 (when >= 0) and the
 * environment LISTEN_PID=<pid>, LISTEN_FDS=<n>.  Returns its result; <*got>
 * the descriptor it gave, <why> its reason. */
static int listen_with(int fd, long pid, const char *n, int *got, char *why, size_t cap)
{
	int saved = fcntl(3, F_DUPFD_CLOEXEC, 10);
	char p[32];
	int r;

	if (fd >= 0)
		dup2(fd, 3);
	snprintf(p, sizeof p, "%ld", pid);
	setenv("LISTEN_PID", p, 1);
	setenv("LISTEN_FDS", n, 1);
	why[0] = '\0';
	*got = -1;
	r = gwd_service_listen_fd(got, why, cap);
	/* the call unsets the variables in every case */
	CU_ASSERT_PTR_NULL(getenv("LISTEN_FDS"));
	CU_ASSERT_PTR_NULL(getenv("LISTEN_PID"));
	if (saved >= 0) {
		dup2(saved, 3);
		close(saved);
	} else {
		close(3);
	}
	return r;
}

static void test_listen_fd(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int tcp = socket(AF_INET, SOCK_STREAM, 0), udp = socket(AF_INET, SOCK_DGRAM, 0);
	int idle = socket(AF_INET, SOCK_STREAM, 0);
	char why[256];
	int got;

	CU_ASSERT_FATAL(tcp >= 0 && udp >= 0 && idle >= 0);
	CU_ASSERT_FATAL(bind(tcp, (struct sockaddr *)&a, sizeof a) == 0 && listen(tcp, 8) == 0);
	CU_ASSERT_FATAL(bind(udp, (struct sockaddr *)&a, sizeof a) == 0);

	{
		struct sockaddr_in b;
		socklen_t blen = sizeof b;
		char want[64], got_s[64];

		getsockname(tcp, (struct sockaddr *)&b, &blen);
		snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)ntohs(b.sin_port));
		gwd_service_sockname(tcp, got_s, sizeof got_s);
		CU_ASSERT_STRING_EQUAL(got_s, want);
		gwd_service_sockname(-1, got_s, sizeof got_s);
		CU_ASSERT_STRING_EQUAL(got_s, "?");
	}
	/* nothing passed */
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	CU_ASSERT_EQUAL(gwd_service_listen_fd(&got, why, sizeof why), 0);
	/* passed to another process (LISTEN_PID is not ours): not for gwd */
	CU_ASSERT_EQUAL(listen_with(tcp, (long)getpid() + 1, "1", &got, why, sizeof why), 0);
	/* one listening TCP socket: taken, non-blocking */
	CU_ASSERT_EQUAL(listen_with(tcp, (long)getpid(), "1", &got, why, sizeof why), 1);
	CU_ASSERT_EQUAL(got, 3);
	CU_ASSERT_TRUE(fcntl(tcp, F_GETFL) & O_NONBLOCK); /* (shares the file description) */
	/* two: refused */
	CU_ASSERT_EQUAL(listen_with(tcp, (long)getpid(), "2", &got, why, sizeof why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "2 sockets were passed"));
	/* UDP, or TCP not listening: refused */
	CU_ASSERT_EQUAL(listen_with(udp, (long)getpid(), "1", &got, why, sizeof why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not a listening TCP socket"));
	CU_ASSERT_EQUAL(listen_with(idle, (long)getpid(), "1", &got, why, sizeof why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "not a listening TCP socket"));
	close(tcp);
	close(udp);
	close(idle);
}

int gw_suite_gwd_service(void)
{
	CU_pSuite s = CU_add_suite("gwd/service", NULL, NULL);

	if (!s || !CU_add_test(s, "notifications as sent", test_notify) ||
	    !CU_add_test(s, "listening sockets taken or refused", test_listen_fd))
		return -1;
	return 0;
}
