/* The upstream's WebSocket handshake answer: a strict response-head parser
 * and the RFC 6455 key and accept values (websocket_head.h). */
#include "gwd/websocket_head.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "lib/http.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 9110 5.6.2 tchar. */
static int tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The line at <p> up to <end>: its length before CRLF in <*n>.  Returns the
 * byte after the LF, NULL when the CRLF is not there yet, or <end> + 1 for a
 * bare LF or CR (refused). */
static const char *line(const char *p, const char *end, size_t *n)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	if (!lf)
		return NULL;
	if (lf == p || lf[-1] != '\r' || memchr(p, '\r', (size_t)(lf - 1 - p)))
		return end + 1;
	*n = (size_t)(lf - 1 - p);
	return lf + 1;
}

/* "HTTP/1.x DDD reason": 0 with <h->status> set, or -1. */
static int status_line(const char *p, size_t n, struct gwd_wshead *h)
{
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
		return -1;
	if (n > 12 && p[12] != ' ')
		return -1;
	for (size_t i = 13; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return -1;
	h->status = (unsigned)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	return 0;
}

/* "name: value": 0 with the field added to <h>, or -1. */
static int field_line(const char *p, size_t n, struct gwd_wshead *h)
{
	size_t k = 0, vs, ve;
	struct gwd_wshead_field *f;

	while (k < n && tchar((unsigned char)p[k]))
		k++;
	if (k == 0 || k == n || p[k] != ':' || h->nfields == GWD_WSHEAD_FIELDS)
		return -1;
	for (size_t i = k + 1; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return -1;
	vs = k + 1;
	while (vs < n && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	f = &h->f[h->nfields++];
	f->name = p;
	f->nlen = k;
	f->value = p + vs;
	f->vlen = ve - vs;
	return 0;
}

long gwd_wshead_parse(const char *buf, size_t len, struct gwd_wshead *h)
{
	const char *p = buf, *end = buf + (len > GWD_WSHEAD_MAX ? GWD_WSHEAD_MAX : len), *next;
	size_t n = 0;

	h->status = 0;
	h->nfields = 0;
	for (int first = 1;; first = 0) {
		next = line(p, end, &n);
		if (!next)
			return len >= GWD_WSHEAD_MAX ? -1 : 0;
		if (next > end)
			return -1;
		if (first) {
			if (status_line(p, n, h) < 0)
				return -1;
		} else if (n == 0) {
			return (long)(next - buf);
		} else if (p[0] == ' ' || p[0] == '\t' || field_line(p, n, h) < 0) {
			return -1; /* obs-fold included */
		}
		p = next;
	}
}

const char *gwd_wshead_get(const struct gwd_wshead *h, const char *name, size_t *vlen,
			   unsigned *count)
{
	size_t nl = strlen(name);
	const char *v = NULL;
	unsigned c = 0;

	for (unsigned i = 0; i < h->nfields; i++) {
		if (h->f[i].nlen != nl || strncasecmp(h->f[i].name, name, nl) != 0)
			continue;
		if (!c++) {
			v = h->f[i].value;
			*vlen = h->f[i].vlen;
		}
	}
	if (count)
		*count = c;
	return v;
}

int gwd_ws_key_valid(const char *key, size_t len)
{
	const char *last;

	if (!key || len != GWD_WS_KEY_LEN || key[22] != '=' || key[23] != '=')
		return 0;
	for (size_t i = 0; i < 22; i++)
		if (!key[i] || !strchr(b64, key[i]))
			return 0;
	/* 16 bytes leave 4 bits of the 22nd character unused: zero when canonical */
	last = strchr(b64, key[21]);
	return ((last - b64) & 0x0f) == 0;
}

int gwd_ws_accept(const char *key, size_t len, char out[GWD_WS_ACCEPT_LEN + 1])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char in[64 + sizeof guid], d[21] = { 0 };
	size_t o = 0;

	if (len > 64)
		return -1;
	memcpy(in, key, len);
	memcpy(in + len, guid, sizeof guid - 1);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, in, len + sizeof guid - 1, d) != 0)
		return -1;
	/* 20 bytes: six groups of three, then two bytes and one '=' */
	for (size_t i = 0; i < 21; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = i + 2 < 20 ? b64[v & 63] : '=';
	}
	out[GWD_WS_ACCEPT_LEN] = '\0';
	return 0;
}

int gwd_ws_has_token(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* The trailer section at <p> (<len> bytes) after a last chunk: field lines
 * up to an empty line, each ended by CRLF.  Its length, 0 when incomplete,
 * -1 when malformed. */
static long trailer(const char *p, size_t len)
{
	size_t i = 0;

	for (;;) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t ll;

		if (!nl)
			return 0;
		ll = (size_t)(nl - (p + i));
		if (ll == 0 || p[i + ll - 1] != '\r')
			return -1; /* a bare LF */
		for (size_t k = i; k < i + ll - 1; k++)
			if ((unsigned char)p[k] < 0x20 && p[k] != '\t')
				return -1;
		i += ll + 1;
		if (ll == 1)
			return (long)i;
	}
}

long gwd_wshead_chunked(const char *p, size_t len, char *out, size_t *outlen)
{
	size_t i = 0, o = 0;

	for (;;) {
		size_t size = 0, digits = 0;
		long t;
		int d;

		while (i < len && (d = gw_http_hex((unsigned char)p[i])) >= 0) {
			if (size > (SIZE_MAX >> 4))
				return -1;
			size = size << 4 | (size_t)d;
			i++;
			digits++;
		}
		if (i == len)
			return 0;
		if (!digits)
			return -1;
		/* chunk extensions: visible bytes, spaces and tabs up to the CRLF */
		while (i < len && p[i] != '\r') {
			if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
				return -1;
			i++;
		}
		if (len - i < 2)
			return 0;
		if (p[i + 1] != '\n')
			return -1;
		i += 2;
		if (size == 0) {
			t = trailer(p + i, len - i);
			if (t <= 0)
				return t;
			if (out)
				*outlen = o;
			return (long)(i + (size_t)t);
		}
		if (size > len - i || len - i - size < 2)
			return 0;
		if (p[i + size] != '\r' || p[i + size + 1] != '\n')
			return -1;
		if (out)
			memmove(out + o, p + i, size);
		o += size;
		i += size + 2;
	}
}
