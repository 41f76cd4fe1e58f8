/* What the WebSocket handshake (websocket.c) and the relay
 * (websocket_relay.c) share: one WebSocket's state.
 *
 *   struct gwd_ws
 *     handshake: r (the suspended request), u/target, easy (libcurl,
 *                CONNECT_ONLY), req (the upgrade request), rbuf/head (the
 *                answer), outcome
 *     relay:     cfd (the client's socket, libmicrohttpd's) and ufd (the
 *                upstream's, libcurl's), c2u/u2c (one fixed buffer per
 *                direction), eof/shut per side, bytes per side, idle clock
 *
 * Who owns it: the request (its handler context) until libmicrohttpd hands
 * over the upgraded socket; then the relay until the WebSocket ends, when
 * the relay gives the connection back to libmicrohttpd, which completes the
 * request on its thread and frees it there (websocket.c's req_free).
 */
#ifndef GWD_WEBSOCKET_INT_H
#define GWD_WEBSOCKET_INT_H

#include <curl/curl.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>

#include "gwd/websocket_head.h"

struct gwd_req;
struct gwd_upstream_state;

enum gwd_ws_outcome {
	GWD_WS_PENDING = 0,
	GWD_WS_UPGRADED,   /* 101 with a valid accept */
	GWD_WS_ANSWERED,   /* another answer, relayed as it came */
	GWD_WS_BAD,        /* refused, broken, malformed: 502 */
	GWD_WS_TIMEOUT,    /* 504 */
	GWD_WS_STOPPING,   /* gwd is stopping: 503 */
};

/* Why a WebSocket ended (gateway_websocket_closes_total{reason}). */
enum gwd_ws_reason {
	GWD_WR_CLIENT,   /* the client closed first */
	GWD_WR_UPSTREAM, /* the upstream closed first */
	GWD_WR_IDLE,     /* no byte either way for the idle timeout */
	GWD_WR_ERROR,    /* a socket error, or no memory for the buffers */
	GWD_WR_SHUTDOWN, /* gwd stopping */
	GWD_WR_COUNT
};

struct gwd_ws;

/* One side of a relayed WebSocket, the epoll cookie. */
struct gwd_ws_end {
	struct gwd_ws *ws;
	int side; /* 0 client, 1 upstream */
};

/* A relay direction: bytes read from one side, waiting for the other. */
struct gwd_ws_pipe {
	char *b;
	size_t cap, off, len;
};

struct gwd_ws {
	struct gwd_ws *next, *prev;          /* the relay's list */
	struct gwd_req *r;
	struct gwd_upstream_state *u;
	int target, cap_slot;
	CURL *easy;
	int ufd, cfd;
	struct MHD_UpgradeResponseHandle *urh;
	char key[GWD_WS_KEY_LEN + 1];
	char *req;                       /* the upgrade request */
	size_t req_len;
	_Atomic int outcome;             /* enum gwd_ws_outcome */
	char *rbuf;                      /* the answer: head, then body */
	size_t rlen, head_len, body_len;
	struct gwd_wshead head;
	const char *detail;              /* for a 502 */
	struct gwd_ws_pipe c2u, u2c;
	struct gwd_ws_end end[2];
	uint32_t ev[2];                  /* epoll interest now, per side */
	uint8_t eof[2], shut[2];
	uint8_t cpair;                   /* <cfd> is a socket pair (gwd serves TLS) */
	uint8_t pair_wait;               /* ended but for the pair's last bytes */
	int first_eof;                   /* the side that closed first, or -1 */
	uint64_t bytes[2];               /* relayed from client (0) and upstream (1) */
	uint64_t last_io_ms, idle_ms;
	struct gwd_ws *dead_next;            /* ended in this loop turn */
	uint8_t dead;
};

/* Hand the upgraded WebSocket <ws> to the relay thread (any thread). */
void gwd_ws_relay_add(struct gwd_ws *ws);

/* Close every WebSocket the relay holds and wait until it has.  */
void gwd_ws_relay_close_all(void);

/* Give back the place of cap slot <slot> (-1: none) (websocket.c). */
void gwd_ws_cap_give(int slot);

#endif
