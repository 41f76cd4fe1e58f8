/* Readiness notifications and socket activation through libsystemd
 * (service.h). */
#include "gwd/service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>

int gwd_service_listen_fd(int *fd, char *why, size_t whylen)
{
	/* 1: LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES are unset, so that nothing
	 * gwd might start later takes them for its own */
	int n = sd_listen_fds(1);
	int flags;

	if (n == 0)
		return 0;
	if (n < 0) {
		snprintf(why, whylen, "LISTEN_FDS: %s", strerror(-n));
		return -1;
	}
	if (n > 1) {
		snprintf(why, whylen,
			 "%d sockets were passed (LISTEN_FDS); gwd serves exactly one", n);
		return -1;
	}
	/* a TCP socket, already listening (a .socket unit with ListenStream=,
	 * not Accept=yes) */
	if (sd_is_socket_inet(SD_LISTEN_FDS_START, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0) {
		snprintf(why, whylen, "the passed descriptor %d is not a listening TCP socket",
			 SD_LISTEN_FDS_START);
		return -1;
	}
	/* every pool thread accepts on it: a blocking accept would hold a
	 * thread when another took the connection first */
	flags = fcntl(SD_LISTEN_FDS_START, F_GETFL);
	if (flags < 0 || fcntl(SD_LISTEN_FDS_START, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(SD_LISTEN_FDS_START, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(why, whylen, "the passed socket: %s", strerror(errno));
		return -1;
	}
	*fd = SD_LISTEN_FDS_START;
	return 1;
}

void gwd_service_sockname(int fd, char *buf, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		snprintf(buf, cap, "?");
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
		snprintf(buf, cap, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
	} else if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
		snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
	} else {
		snprintf(buf, cap, "?");
	}
}

void gwd_service_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void gwd_service_reloading(const char *status)
{
	struct timespec ts;

	/* MONOTONIC_USEC: newer managers (systemd 253+) match the reload to its
	 * request by it; older ones ignore it */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=%s",
		   (unsigned long long)ts.tv_sec * 1000000ull +
			   (unsigned long long)ts.tv_nsec / 1000ull,
		   status);
}

void gwd_service_reloaded(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void gwd_service_stopping(const char *status)
{
	sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status);
}
