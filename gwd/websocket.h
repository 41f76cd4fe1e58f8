/* WebSocket routes: the handshake checked, forwarded to a target of the
 * route's upstream, and the upgraded connection relayed both ways.
 *
 *   pool thread   gwd_ws_check      after the route's policies: is this a
 *                                   valid handshake (RFC 6455 4.2.1)?
 *                 gwd_ws_start      (proxy handler) cap, suspend, and hand
 *                                   the upstream request to a handshake thread
 *   handshake     one short thread per handshake: libcurl connects
 *   thread        (CURLOPT_CONNECT_ONLY; TLS is more options on the same easy
 *                 handle), writes the upgrade request, reads the answer
 *                 (websocket_head.h), checks Sec-WebSocket-Accept, resumes
 *   pool thread   gwd_ws_result     101 with the upstream's fields, its other
 *                                   answer as it came, or a problem
 *                 gwd_ws_response   the 101 response (MHD_create_response_for_upgrade);
 *                                   libmicrohttpd then hands over the socket
 *   relay thread  one epoll loop for every open WebSocket: a fixed buffer per
 *                 direction, a side read only while its peer's buffer has
 *                 room (backpressure), an EOF passed on as shutdown(SHUT_WR),
 *                 the idle timeout, the close at shutdown
 *
 * No pool thread is held: the connection is suspended during the handshake,
 * and after the 101 it belongs to the relay.  The request context lives on
 * until the WebSocket ends (libmicrohttpd reports it completed then), so the
 * generation stays referenced, and the access log line and the request
 * metrics are written at the end, with the WebSocket's duration.
 */
#ifndef GWD_WEBSOCKET_H
#define GWD_WEBSOCKET_H

#include <curl/curl.h>

struct gwd_req;
struct gwd_upstream_state;
struct MHD_Response;

#define GWD_WS_DEFAULT_MAX 1024      /* max_websockets of an upstream without one */
#define GWD_WS_DEFAULT_IDLE_S 300    /* settings.limits.websocket_idle_timeout */
#define GWD_WS_BUF (16u * 1024u)     /* relay buffer per direction */

/* After the route's policies: an `Upgrade` request.  On a route with
 * `websocket: true`, a handshake that is not valid is answered 400 (426 for
 * a version other than 13) and a valid one sets <r->websocket>; on another
 * route an upgrade to websocket (with `Connection: upgrade`) is answered
 * 400, any other upgrade ignored (served as HTTP/1.1, as RFC 9110 7.8
 * allows).  Returns 0 to go on, 1 when answered. */
int gwd_ws_check(struct gwd_req *r);

/* The proxy handler of a handshake: target <path> and header lines
 * <headers> (request memory) for upstream <u>, whose hash mode (if any)
 * hashes <key> (<keylen> bytes; may be NULL).  Returns 0 with <r> answered
 * (503 past the cap, no target) or suspended (GWD_ST_ASYNC: resumed when the
 * handshake is done), -1 when memory runs out. */
int gwd_ws_start(struct gwd_req *r, struct gwd_upstream_state *u, const char *path,
		 const struct curl_slist *headers, const char *key, size_t keylen);

/* Pool thread, once resumed: the handshake's outcome becomes <r->resp>. */
void gwd_ws_result(struct gwd_req *r);

/* The 101 response of <r> (<r->resp.upgrade> set), or NULL. */
struct MHD_Response *gwd_ws_response(struct gwd_req *r);

/* gwd is draining: new handshakes are answered 503 (shutting-down). */
void gwd_ws_drain(void);

/* Start and stop the relay thread; close every WebSocket (at the drain
 * deadline: both sides see the TCP close) and wait for running handshakes
 * to give up.  Returns 0 or -1. */
int gwd_ws_service_start(void);
void gwd_ws_close_all(void);
void gwd_ws_service_stop(void);

#endif
