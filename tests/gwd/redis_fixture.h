/* A real redis-server for the unit suites of the Redis modules: started on a
 * free 127.0.0.1 port in a temporary directory (never the system service),
 * append-only file on, stopped (SIGTERM, then SIGKILL) by the suite. */
#ifndef GW_TESTS_REDIS_FIXTURE_H
#define GW_TESTS_REDIS_FIXTURE_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct redis_fx {
	pid_t pid;
	int port;
	char dir[256];
	char url[64];
};

/* A TCP port on 127.0.0.1 nothing listens on now (0 on failure). */
static int fx_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* 1 when a Redis on 127.0.0.1:<port> answers PING with PONG (not LOADING:
 * a restart reads its append-only file first). */
static int fx_listening(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 1, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;
	char buf[16] = "";

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		ok = write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof buf - 1) > 0 &&
		     strncmp(buf, "+PONG", 5) == 0;
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Start redis-server in <fx> (on fx->port when set, else a free one; in
 * fx->dir when set, else a fresh temporary one).  Returns 0 once it accepts
 * connections, -1 otherwise. */
static int fx_redis_start(struct redis_fx *fx)
{
	char port[16];

	if (!fx->dir[0]) {
		snprintf(fx->dir, sizeof fx->dir, "%s/gwredis.XXXXXX",
		         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(fx->dir))
			return -1;
	}
	if (!fx->port)
		fx->port = fx_free_port();
	snprintf(port, sizeof port, "%d", fx->port);
	snprintf(fx->url, sizeof fx->url, "redis://127.0.0.1:%d", fx->port);
	fx->pid = fork();
	if (fx->pid < 0)
		return -1;
	if (fx->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--dir", fx->dir, "--save", "", "--appendonly", "yes",
		       "--appendfsync", "always", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 25 * 1000000L };
		if (fx_listening(fx->port))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* Stop the server of <fx> with <sig> (SIGTERM: clean, SIGKILL: a crash) and
 * reap it.  The directory stays (a restart reads its append-only file). */
static void fx_redis_stop(struct redis_fx *fx, int sig)
{
	if (fx->pid <= 0)
		return;
	kill(fx->pid, sig);
	waitpid(fx->pid, NULL, 0);
	fx->pid = 0;
}

/* Stop the server and remove its directory. */
static void fx_redis_clean(struct redis_fx *fx)
{
	char cmd[320];

	fx_redis_stop(fx, SIGKILL);
	if (fx->dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", fx->dir);
	}
}

#endif
