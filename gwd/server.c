/* libmicrohttpd set-up and its callbacks (server.h). */
#include "gwd/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "gwd/conn.h"
#include "gwd/pipeline.h"
#include "gwd/reqctx.h"

static struct MHD_Daemon *daemon_;
static uint16_t bound_port;

/* MHD_OPTION_NOTIFY_CONNECTION: track connections (limits, head deadline). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ad =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const struct sockaddr *sa = ad ? ad->client_addr : NULL;
		socklen_t salen = !sa ? 0
				  : sa->sa_family == AF_INET6 ? (socklen_t)sizeof(struct sockaddr_in6)
							      : (socklen_t)sizeof(struct sockaddr_in);

		*socket_context = gwd_conn_opened(fd ? fd->connect_fd : -1, sa, salen);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		gwd_conn_closed(*socket_context);
		*socket_context = NULL;
	}
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line, with the raw target. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *sc =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)cls;
	return gwd_pipeline_begin(c, sc ? sc->socket_context : NULL, uri);
}

/* The access handler: the pipeline's (pipeline.h). */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)url; /* already decoded by libmicrohttpd: the pipeline reads the raw target */
	return gwd_pipeline_access((struct gwd_req **)con_cls, c, method, version, upload_data,
				   upload_data_size);
}

/* MHD_OPTION_NOTIFY_COMPLETED: the response was sent, or the request aborted. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	if (*con_cls) {
		gwd_pipeline_end(*con_cls, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's error log: one line on stderr each. */
__attribute__((format(printf, 2, 0)))
static void on_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("gwd: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int gwd_server_parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hl;

	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof host)
			return -1;
		memcpy(host, s + 1, hl);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
		if (hl >= sizeof host)
			return -1;
		memcpy(host, s, hl);
	}
	host[hl] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port > 65535)
		return -1;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	if (hl == 0)
		return 0; /* ":8080": every address */
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -1;
}

/* Raise the descriptor limit to its hard maximum: each connection is one. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

int gwd_server_start(const struct gwd_server_opts *o, char *why, size_t whylen)
{
	struct sockaddr_storage ss;
	/* upgrade: WebSocket routes (websocket.h) take the socket after a 101 */
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;
	rlim_t nofile = raise_nofile();
	/* the head, plus libmicrohttpd's field records (about 48 bytes each, at
	 * most 100 fields reach gwd) and the response head it builds: no more,
	 * because libmicrohttpd zeroes the whole pool after every request */
	size_t mem = (size_t)o->max_header_bytes + 6144;
	/* libmicrohttpd splits its limit evenly between the pool threads, and a
	 * thread at its share drops new sockets unanswered: give every thread
	 * room for all of gwd's limit, so that gwd's own count decides */
	unsigned long limit = o->max_conns ? ((unsigned long)o->max_conns + 64) * o->threads : 1000000;
	const union MHD_DaemonInfo *di;

	if (o->listen_fd > 0) {
		/* passed by the service manager, bound and listening already */
		struct sockaddr_storage bound;
		socklen_t blen = sizeof bound;

		memset(&ss, 0, sizeof ss);
		if (getsockname(o->listen_fd, (struct sockaddr *)&bound, &blen) == 0 &&
		    bound.ss_family == AF_INET6)
			flags |= MHD_USE_IPv6;
	} else if (gwd_server_parse_listen(o->listen, &ss) != 0) {
		snprintf(why, whylen, "--listen %s: expected ADDR:PORT or [ADDR]:PORT", o->listen);
		return -1;
	}
	if (o->listen_fd <= 0 && ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (o->tls_cert)
		flags |= MHD_USE_TLS;
	if (mem < 8192)
		mem = 8192;
	/* leave descriptors for the log, the database, upstreams */
	if (nofile > 256 && limit > nofile - 128)
		limit = (unsigned long)(nofile - 128);
	/* (no SO_REUSEPORT: a second gwd on the same port must fail to start,
	 * not share the port silently) */
	struct MHD_OptionItem opts[] = {
		/* one thread: libmicrohttpd's single internal thread, no pool */
		{ o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_CONNECTION_LIMIT,
		  o->threads > 1 ? (intptr_t)o->threads : (intptr_t)limit, NULL },
		{ o->listen_fd > 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
		  o->listen_fd > 0 ? (intptr_t)o->listen_fd : 0, o->listen_fd > 0 ? NULL : &ss },
		{ MHD_OPTION_CONNECTION_LIMIT, (intptr_t)limit, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT,
		  (intptr_t)((o->idle_timeout_ms + 999) / 1000), NULL },
		/* lenient: gwd refuses a missing Host and spaces in the target
		 * itself, with problem+json like its other refusals */
		{ MHD_OPTION_STRICT_FOR_CLIENT, 0, NULL },
		{ MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL },
		{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_request_line, NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
		{ o->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0,
		  (void *)(uintptr_t)o->tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)o->tls_key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)o->tls_priorities },
		{ MHD_OPTION_END, 0, NULL },
	};
	/* the logger first: libmicrohttpd logs the options that follow through it */
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_access, NULL,
				   MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
				   MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!daemon_) {
		if (o->listen_fd > 0)
			snprintf(why, whylen, "cannot serve on the passed socket %d (TLS material?)",
				 o->listen_fd);
		else
			snprintf(why, whylen, "cannot serve on %s (address in use? TLS material?)",
				 o->listen);
		return -1;
	}
	di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
	bound_port = di ? di->port : 0;
	return 0;
}

uint16_t gwd_server_port(void)
{
	return bound_port;
}

void gwd_server_quiesce(void)
{
	MHD_socket fd;

	if (!daemon_)
		return;
	fd = MHD_quiesce_daemon(daemon_);
	if (fd != MHD_INVALID_SOCKET)
		close(fd); /* new connections are refused at once, not left queued */
}

void gwd_server_stop(void)
{
	if (daemon_) {
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
	}
}
