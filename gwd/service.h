/* gwd under a service manager (systemd): readiness and state notifications,
 * and listening sockets passed by socket activation.
 *
 * Both go through libsystemd (sd_notify(3), sd_listen_fds(3)); outside
 * systemd (no NOTIFY_SOCKET, no LISTEN_FDS in the environment) every call
 * here does nothing and costs nothing.  Only the main thread calls them, at
 * start, around a reload and at shutdown: never the request path.
 *
 *   start      READY=1      STATUS=serving FILE (fingerprint F, N routes) ...
 *   SIGHUP     RELOADING=1  STATUS=reloading FILE
 *              READY=1      STATUS=reloaded FILE (fingerprint F, N routes) |
 *                           STATUS=reload refused (WHY); serving fingerprint F
 *   SIGTERM    STOPPING=1   STATUS=draining N requests in flight
 *
 * Socket activation (a .socket unit, or any manager speaking the same
 * protocol): the manager binds, passes the socket as descriptor 3 with
 * LISTEN_FDS=1 and LISTEN_PID=<gwd's pid>; gwd serves it instead of binding
 * --listen.  The manager keeps its own copy of the socket, so that
 * connections arriving while gwd restarts wait in its backlog.
 */
#ifndef GWD_SERVICE_H
#define GWD_SERVICE_H

#include <stddef.h>

/* The listening socket passed by the service manager.  Returns 1 and sets
 * <*fd> (made non-blocking; gwd owns it) when exactly one listening stream
 * socket was passed; 0 when none was (LISTEN_FDS unset, or meant for another
 * process); -1 with a reason in <why> when what was passed cannot be served
 * (several sockets, or not a listening TCP socket).  The LISTEN_* variables
 * are removed from the environment either way. */
int gwd_service_listen_fd(int *fd, char *why, size_t whylen);

/* The local address of socket <fd> as "ADDR:PORT" or "[ADDR]:PORT" in <buf>
 * (<cap> bytes; "?" when it cannot be read): what a passed socket serves. */
void gwd_service_sockname(int fd, char *buf, size_t cap);

/* Tell the service manager that gwd is ready: STATUS=<status>. */
void gwd_service_ready(const char *status);

/* A reload begins (RELOADING=1). */
void gwd_service_reloading(const char *status);

/* A reload ended (READY=1 again): STATUS=<status>, its result. */
void gwd_service_reloaded(const char *status);

/* Shutdown begins: STOPPING=1, STATUS=<status>. */
void gwd_service_stopping(const char *status);

#endif
