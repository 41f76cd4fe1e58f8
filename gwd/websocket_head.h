/* The upstream's answer to a WebSocket handshake: a strict parser of an
 * HTTP/1.1 response head, and the RFC 6455 key and accept values.
 *
 * libcurl cannot upgrade a connection here (7.88's WebSocket support is
 * experimental and not built in Debian), so the handshake goes over a
 * CONNECT_ONLY connection and its answer is read by this parser: the one
 * place gwd reads an upstream's HTTP itself.  It accepts only what RFC 9112
 * allows, and less:
 *
 *   status-line = "HTTP/1." DIGIT SP 3DIGIT SP reason CRLF
 *   field-line  = token ":" OWS value OWS CRLF   (no obs-fold, no bare LF,
 *                                                 no control byte but HTAB)
 *   head        = status-line *field-line CRLF
 *
 * at most GWD_WSHEAD_FIELDS fields in at most GWD_WSHEAD_MAX bytes.
 */
#ifndef GWD_WEBSOCKET_HEAD_H
#define GWD_WEBSOCKET_HEAD_H

#include <stddef.h>

#define GWD_WSHEAD_FIELDS 64
#define GWD_WSHEAD_MAX 16384
#define GWD_WS_KEY_LEN 24    /* base64 of 16 bytes */
#define GWD_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 digest */

struct gwd_wshead_field {
	const char *name, *value; /* borrowed from the parsed bytes, not NUL-terminated */
	size_t nlen, vlen;
};

struct gwd_wshead {
	unsigned status;
	unsigned nfields;
	struct gwd_wshead_field f[GWD_WSHEAD_FIELDS];
};

/* Parse the response head at the start of <buf> (<len> bytes) into <h>.
 * Returns the head's length (bytes up to and including the empty line) when
 * complete, 0 when more bytes are needed (<len> below GWD_WSHEAD_MAX), -1
 * when the bytes cannot begin a valid head or it is too large.  <h> borrows
 * from <buf>. */
long gwd_wshead_parse(const char *buf, size_t len, struct gwd_wshead *h);

/* The value of the field <name> (case-insensitive) in <h> and its length in
 * <*vlen>; NULL when absent.  <*count> (when not NULL) gets the number of
 * fields of that name. */
const char *gwd_wshead_get(const struct gwd_wshead *h, const char *name, size_t *vlen,
			   unsigned *count);

/* The chunked body (RFC 9112 7.1) at <p> (<len> bytes): -1 when the bytes
 * cannot be one, 0 when more are needed, else the bytes it spans, its last
 * chunk and trailer section included.  When complete and <out> is not
 * NULL, the chunks' data goes to <out> (which may be <p>: the writing never
 * runs ahead of the reading) and its length to <*outlen>.  Chunk extensions
 * and trailer fields are skipped. */
long gwd_wshead_chunked(const char *p, size_t len, char *out, size_t *outlen);

/* Whether <key> (<len> bytes) is a Sec-WebSocket-Key: the base64 of 16
 * bytes, canonical (RFC 6455 4.2.1 item 5).  1 or 0. */
int gwd_ws_key_valid(const char *key, size_t len);

/* The Sec-WebSocket-Accept for <key> (<len> bytes): base64(SHA-1(key +
 * "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) into <out> (NUL-terminated).
 * Returns 0, or -1 when hashing fails. */
int gwd_ws_accept(const char *key, size_t len, char out[GWD_WS_ACCEPT_LEN + 1]);

/* Whether the comma-separated list <v> (<len> bytes) holds the token <tok>
 * (case-insensitive), as in "Connection: keep-alive, Upgrade".  1 or 0. */
int gwd_ws_has_token(const char *v, size_t len, const char *tok);

#endif
