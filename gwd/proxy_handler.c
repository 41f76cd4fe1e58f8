/* The proxy handler: turns a matched request into an upstream exchange on the
 * proxy engine (proxy.h) and the engine's result into the response.
 *
 * On the pool thread (dispatch): the upstream path (rewrite template, prefix
 * strip, or the normalised path, percent-encoded), the query as sent, and the
 * request headers minus hop-by-hop and spoofable ones, plus X-Forwarded-*,
 * X-Request-ID and the authenticated user — all in request memory (libcurl's
 * header list nodes included), so nothing is allocated per request but the
 * call itself.  Then the connection is suspended and the call submitted.
 * On the engine thread (done): status, headers and body become <r->resp>
 * (the pool thread does not touch <r> while suspended), and the connection is
 * resumed; the pipeline queues the response.
 * A WebSocket handshake (gwd_ws_check passed it) gets the same target and
 * header lines, and goes to websocket.h instead of the engine.
 */
#include "gwd/proxy_handler.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gwd/clientip.h"
#include "gwd/conn.h"
#include "gwd/cookie.h"
#include "gwd/echo.h"
#include "gwd/edge.h"
#include "gwd/pipeline.h"
#include "gwd/problem.h"
#include "gwd/proxy.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/respond.h"
#include "gwd/services.h"
#include "gwd/websocket.h"
#include "lib/path.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define PROXY_DEFAULT_BODY_MAX (1024u * 1024u)
#define PROXY_PATH_MAX 8192
/* request bodies up to this size are collected (and retried when
 * idempotent); larger or chunked ones stream */
#define PROXY_COLLECT_MAX (64u * 1024u)

/* Names a client may not send upstream: the gateway sets them itself. */
static int gateway_owned(const char *name, size_t len)
{
	static const char *const own[] = {
		"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id",
		"forwarded", "accept-encoding",
	};

	for (size_t i = 0; i < sizeof own / sizeof *own; i++)
		if (strlen(own[i]) == len && strncasecmp(own[i], name, len) == 0)
			return 1;
	return 0;
}

/* Whether <name> is listed as a token of the client's Connection header
 * <conn> (such headers are hop-by-hop too, RFC 9110 7.6.1). */
static int named_by_connection(const char *conn, const char *name, size_t len)
{
	const char *p = conn;

	while (p && *p) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ", \t");
		if (n == len && strncasecmp(p, name, len) == 0)
			return 1;
		p += n;
	}
	return 0;
}

struct hdr_walk {
	struct gwd_req *r;
	struct curl_slist *head, **tail;
	const char *conn;          /* the client's Connection header, or NULL */
	const struct gw_str *drop; /* user headers of the route's auth policies */
	unsigned ndrop;
	const char *xff;           /* the client's X-Forwarded-For lines joined by ", " */
	size_t xff_len;
	struct gw_str cookie;      /* the session cookie's name */
	int session_auth;          /* a session policy guards the route */
	int underscores;           /* enum gw_underscore */
	int saw_accept;
	int oom;
};

static int append(struct hdr_walk *w, const char *name, size_t nlen, const char *value,
		  size_t vlen)
{
	struct curl_slist *node = gwd_req_alloc(w->r, sizeof *node);
	char *line = gwd_req_alloc(w->r, nlen + 2 + vlen + 1);

	if (!node || !line) {
		w->oom = 1;
		return -1;
	}
	memcpy(line, name, nlen);
	memcpy(line + nlen, ": ", 2);
	memcpy(line + nlen + 2, value, vlen);
	line[nlen + 2 + vlen] = '\0';
	node->data = line;
	node->next = NULL;
	*w->tail = node;
	w->tail = &node->next;
	return 0;
}

/* Add the X-Forwarded-For field line <value> (<vlen> bytes) to the chain
 * read so far: a proxy in front may have added its own line rather than
 * extend the client's (HAProxy's `option forwardfor` does), and every line
 * belongs to the chain, as the client-address walk (clientip.h) reads it.
 * Returns 0, or -1 on OOM. */
static int add_xff(struct hdr_walk *w, const char *value, size_t vlen)
{
	char *j;

	if (!w->xff) {
		w->xff = value;
		w->xff_len = vlen;
		return 0;
	}
	j = gwd_req_alloc(w->r, w->xff_len + 2 + vlen + 1);
	if (!j) {
		w->oom = 1;
		return -1;
	}
	memcpy(j, w->xff, w->xff_len);
	memcpy(j + w->xff_len, ", ", 2);
	memcpy(j + w->xff_len + 2, value, vlen);
	w->xff_len += 2 + vlen;
	j[w->xff_len] = '\0';
	w->xff = j;
	return 0;
}

/* Append the Cookie header <value> without the session cookie's pairs
 * (gwd/cookie.h, the authenticator's own parser); no header at all when
 * nothing else is left.  Returns 0, or -1 on OOM. */
static int copy_cookie(struct hdr_walk *w, const char *key, size_t klen, const char *value,
		       size_t vlen)
{
	char *out = gwd_req_alloc(w->r, 2 * vlen + 1);
	size_t o;

	if (!out) {
		w->oom = 1;
		return -1;
	}
	o = gwd_cookie_strip(value, vlen, w->cookie.p, w->cookie.len, out);
	return o ? append(w, key, klen, out, o) : 0;
}

/* Whether a client field named <name> (<len> bytes) is withheld from the
 * upstream: hop-by-hop (also when the client's Connection names it), set by
 * the gateway itself, an auth policy's user or key header, the bearer token
 * behind a session policy, or removed or set by a headers policy (additions
 * are sent apart).  1 or 0. */
static int withheld(const struct hdr_walk *w, const char *name, size_t len)
{
	if (gwd_proxy_hop_header(name, len) || gateway_owned(name, len) ||
	    (w->conn && named_by_connection(w->conn, name, len)))
		return 1;
	for (unsigned i = 0; i < w->ndrop; i++)
		if (w->drop[i].len == len && strncasecmp(w->drop[i].p, name, len) == 0)
			return 1;
	/* The gateway's own credentials stop here: an upstream behind a session
	 * policy never sees the bearer token (a copy in an upstream's logs
	 * would be a live credential). */
	if (w->session_auth && len == 13 && strncasecmp(name, "authorization", 13) == 0)
		return 1;
	for (const struct gwd_hdr *h = w->r->req_del; h; h = h->next)
		if (h->nlen == len && strncasecmp(h->name, name, len) == 0)
			return 1;
	for (const struct gwd_hdr *h = w->r->req_add; h; h = h->next)
		if (h->nlen == len && strncasecmp(h->name, name, len) == 0)
			return 1;
	return 0;
}

int gwd_proxy_lookalike(const char *name, size_t len, char *folded)
{
	int any = 0;

	for (size_t i = 0; i < len; i++) {
		folded[i] = name[i] == '_' ? '-' : name[i];
		any |= name[i] == '_';
	}
	return any;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   size_t klen, const char *value, size_t vlen)
{
	struct hdr_walk *w = cls;

	(void)kind;
	if (!key || !value)
		return MHD_YES;
	if (klen == 15 && strncasecmp(key, "x-forwarded-for", 15) == 0)
		return add_xff(w, value, vlen) ? MHD_NO : MHD_YES;
	if (klen == 6 && strncasecmp(key, "accept", 6) == 0)
		w->saw_accept = 1;
	if (withheld(w, key, klen))
		return MHD_YES;
	/* "X_Gw_User" is "X-Gw-User" to a CGI, WSGI or PHP upstream (both
	 * become HTTP_X_GW_USER): a name that is withheld once '_' is read as
	 * '-' is withheld too (settings.underscore_headers) */
	if (w->underscores != GW_US_ALLOW && memchr(key, '_', klen)) {
		char *folded;

		if (w->underscores == GW_US_DROP)
			return MHD_YES;
		folded = gwd_req_alloc(w->r, klen);
		if (!folded) {
			w->oom = 1;
			return MHD_NO;
		}
		gwd_proxy_lookalike(key, klen, folded);
		if (withheld(w, folded, klen) ||
		    (klen == 6 && strncasecmp(folded, "cookie", 6) == 0))
			return MHD_YES;
	}
	/* The session cookie never goes upstream, whatever the route's
	 * policies: the browser attaches it to every request (Path=/), and a
	 * copy in an upstream's logs would be a live credential. */
	if (klen == 6 && strncasecmp(key, "cookie", 6) == 0)
		return copy_cookie(w, key, klen, value, vlen) ? MHD_NO : MHD_YES;
	return append(w, key, klen, value, vlen) ? MHD_NO : MHD_YES;
}

const char *gwd_proxy_strip_prefix(const char *path, size_t len, const char *prefix,
				   size_t plen, size_t *rest_len)
{
	/* at a segment boundary only (gwc checks that the prefix is a path):
	 * "/api" strips "/api/x" and "/api", not "/apix" */
	if (plen && len >= plen && memcmp(path, prefix, plen) == 0 &&
	    (len == plen || path[plen] == '/')) {
		path += plen;
		len -= plen;
	}
	if (len == 0) {
		path = "/";
		len = 1;
	}
	*rest_len = len;
	return path;
}

int gwd_proxy_render(const struct gw_tpl *t, uint32_t n, const struct gwd_respond_tpl_ctx *c,
		     char *out, size_t cap, size_t *outlen)
{
	/* Templates render values JSON-escaped for bodies; for a path each
	 * value is percent-encoded here instead, literal parts (and the
	 * operator's TEXT of ${X:-TEXT} and ${X:+TEXT}) kept as written. */
	size_t o = 0;
	long k;

	if (cap < 2)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const char *v = NULL;
		size_t vlen = 0;
		int keep_slash = 0;

		if (t[i].kind == GW_TPL_LITERAL) {
			if (o + t[i].text.len >= cap)
				return -1;
			memcpy(out + o, t[i].text.p, t[i].text.len);
			o += t[i].text.len;
			continue;
		}
		/* <scratch> is reused: each value is encoded before the next */
		switch (gwd_respond_tpl_part(&t[i], c, &v, &vlen)) {
		case GWD_RESPOND_TPL_VALUE:
			keep_slash = t[i].kind == GW_TPL_REST;
			break;
		case GWD_RESPOND_TPL_TEXT:
			keep_slash = 1;
			break;
		default:
			continue;
		}
		if (!v || !vlen)
			continue;
		k = gwd_proxy_encode_path(v, vlen, keep_slash, out + o, cap - o);
		if (k < 0)
			return -1;
		o += (size_t)k;
	}
	out[o] = '\0';
	if (o == 0 || out[0] != '/') {
		if (o + 1 >= cap)
			return -1;
		memmove(out + 1, out, ++o);
		out[0] = '/';
	}
	*outlen = o;
	return 0;
}

/* The upstream request target: rewrite, strip_prefix or the normalised
 * path, percent-encoded, then '?' and the query as the client sent it.
 * Returns it in request memory, or NULL: too long (<*bad> untouched), or a
 * rendered rewrite that a client could not have sent as a path (<*bad> set
 * to the gw_path status, see below). */
static char *upstream_target(struct gwd_req *r, const struct gw_proxy *px, int *bad)
{
	char *out = gwd_req_alloc(r, PROXY_PATH_MAX);

	if (!out)
		return NULL;
	if (px->rewrite_count) {
		char *scratch = gwd_req_alloc(r, r->query_len + 1);
		struct gwd_respond_tpl_ctx c = {
			.path = r->path, .m = &r->m, .query = r->query, .qlen = r->query_len,
			.scratch = scratch,
		};
		size_t o;

		if (!scratch || gwd_proxy_render(&r->gen->tpls[px->rewrite_first], px->rewrite_count,
						 &c, out, PROXY_PATH_MAX, &o) < 0)
			return NULL;
		/* Values from the query are the client's and skipped the
		 * normaliser: the rendered path obeys a client path's rules ("%00",
		 * "%0D%0A", "%252e", "%2F" refused) and holds no dot segment, so
		 * that "?account=.." cannot climb out of "/accounts/..." upstream. */
		{
			char *check = gwd_req_alloc(r, o + 1);
			int st;

			if (!check)
				return NULL;
			st = gw_path_check_target(out, o, check, o + 1);
			if (st != GW_PATH_OK) {
				*bad = st;
				return NULL;
			}
		}
	} else {
		size_t len;
		const char *p = gwd_proxy_strip_prefix(r->path, r->path_len, px->strip_prefix.p,
						       px->strip_prefix.len, &len);

		if (gwd_proxy_encode_path(p, len, 1, out, PROXY_PATH_MAX) < 0)
			return NULL;
	}
	if (r->query) {
		size_t o = strlen(out);

		if (o + 1 + r->query_len >= PROXY_PATH_MAX)
			return NULL;
		out[o++] = '?';
		memcpy(out + o, r->query, r->query_len);
		out[o + r->query_len] = '\0';
	}
	return out;
}

/* libmicrohttpd's content reader of a streamed response (pool thread):
 * what the engine buffered, or suspend until there is more (never a busy
 * loop: an empty buffer suspends the connection, and the engine resumes it
 * with stream_data).  A failed exchange ends the response with an error:
 * libmicrohttpd closes the connection before the announced length or the
 * final chunk, so the client can tell the body is cut. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gwd_proxy_call *c = cls;
	struct gwd_req *r = c->arg;
	long n = gwd_proxy_call_read(c, buf, max);

	(void)pos;
	if (n > 0) {
		r->bytes_sent += (uint64_t)n;
		return (ssize_t)n;
	}
	if (n == GWD_PCALL_WAIT) {
		/* if the engine resumed us in between, libmicrohttpd skips this
		 * suspension and calls again */
		MHD_suspend_connection(r->mhd);
		return 0;
	}
	return n == GWD_PCALL_EOF ? MHD_CONTENT_READER_END_OF_STREAM
				  : MHD_CONTENT_READER_END_WITH_ERROR;
}

/* The response let go of the stream. */
static void stream_free(void *cls)
{
	gwd_proxy_call_release(cls);
}

/* Engine thread: a suspended reader has bytes, or the end, to read. */
static void stream_data(struct gwd_proxy_call *c, void *arg)
{
	struct gwd_req *r = arg;

	(void)c;
	MHD_resume_connection(r->mhd);
}

void gwd_proxy_result(struct gwd_req *r)
{
	struct gwd_proxy_call *c = r->hctx;
	const char *name, *value;
	size_t pos = 0;
	char ra[16];

	if (r->websocket) {
		gwd_ws_result(r);
		return;
	}
	if (!c || r->resp.status)
		return;
	switch (c->error) {
	case GWD_PX_OK:
		r->resp.upstream = 1;
		r->resp.status = (uint16_t)c->status;
		r->resp.body = c->resp_body ? c->resp_body : "";
		r->resp.len = c->resp_len;
		if (c->streaming) {
			r->resp.body = "";
			r->resp.len = 0;
			gwd_proxy_call_retain(c); /* the response's reference */
			r->resp.stream = c;
			r->resp.stream_read = stream_read;
			r->resp.stream_free = stream_free;
			r->resp.stream_size = c->content_length >= 0 ? (uint64_t)c->content_length
								     : MHD_SIZE_UNKNOWN;
		}
		while (gwd_proxy_call_header(c, &pos, &name, &value)) {
			if (strcasecmp(name, "content-type") == 0) {
				r->resp.ctype = value;
				continue;
			}
			/* X-Request-ID is the gateway's; Date and Server are libmicrohttpd's */
			if (strcasecmp(name, "x-request-id") == 0 || strcasecmp(name, "date") == 0)
				continue;
			if (named_by_connection(c->conn_tokens, name, strlen(name)))
				continue;
			gwd_req_add_resp_header_ref(r, name, strlen(name), value, strlen(value));
		}
		break;
	case GWD_PX_TIMEOUT:
		gwd_problem(r, GWD_PB_UPSTREAM_TIMEOUT, NULL);
		break;
	case GWD_PX_NO_TARGET:
		snprintf(ra, sizeof ra, "%u", c->retry_after ? c->retry_after : 1);
		gwd_problem(r, GWD_PB_UPSTREAM_UNAVAILABLE, NULL);
		gwd_req_add_resp_header(r, "Retry-After", ra);
		break;
	case GWD_PX_CANCELLED:
		r->resp.status = 499; /* logged only: the client is gone */
		r->resp.close = 1;
		break;
	case GWD_PX_INTERNAL:
		gwd_problem(r, GWD_PB_INTERNAL, NULL);
		break;
	default: /* refused, broken, too big; a TLS upstream's failure named */
		gwd_problem(r, GWD_PB_BAD_GATEWAY, c->tls_detail);
		break;
	}
}

/* The call let go of the generation it holds (see gwd_proxy_handle). */
static void gen_drop(void *gen, void *worker)
{
	gwd_reload_release(gen, worker);
}

static void proxy_free(struct gwd_req *r)
{
	/* a stream handed over but never queued keeps the response's reference */
	if (r->resp.stream && r->stage != GWD_ST_QUEUED) {
		gwd_proxy_call_release(r->resp.stream);
		r->resp.stream = NULL;
	}
	gwd_proxy_call_release(r->hctx);
	r->hctx = NULL;
}

int gwd_proxy_prepare(struct gwd_req *r)
{
	/* A body that may be large streams upstream as it arrives; a small one
	 * (the usual API call) is collected exactly as echo's is -- bounded,
	 * reserved once -- so that an idempotent request can be retried. */
	if (r->chunked || (r->content_length != UINT64_MAX && r->content_length > PROXY_COLLECT_MAX)) {
		r->body_stream = 1;
		return 0;
	}
	return gwd_echo_prepare(r);
}

int gwd_proxy_body(struct gwd_req *r, const char *data, size_t *size)
{
	struct gwd_proxy_call *c = r->hctx;

	if (r->body_seen + *size > r->body_limit) {
		/* a chunked body crossing the limit: the exchange is aborted, and
		 * 413 answers once the rest is read (or dropped) */
		gwd_proxy_call_cancel(c);
		gwd_problem(r, GWD_PB_BODY_TOO_LARGE, NULL);
		r->resp.close = 1;
		r->body_over = 1;
		r->body_seen += *size;
		*size = 0;
		return 0;
	}
	while (*size) {
		long n = gwd_proxy_call_feed(c, data, *size);

		if (n < 0)
			return -1;
		r->body_seen += (uint64_t)n;
		data += n;
		*size -= (size_t)n;
		/* the upload buffer is full: libmicrohttpd offers the rest again
		 * once the engine made room and resumed us */
		if (*size && gwd_proxy_call_wait(c, GWD_PW_ROOM)) {
			MHD_suspend_connection(r->mhd);
			break;
		}
	}
	return 0;
}

int gwd_proxy_body_end(struct gwd_req *r)
{
	struct gwd_proxy_call *c = r->hctx;

	gwd_proxy_call_feed_end(c);
	r->stage = GWD_ST_ASYNC;
	if (gwd_proxy_call_wait(c, GWD_PW_RESULT)) {
		MHD_suspend_connection(r->mhd);
		return 1;
	}
	gwd_proxy_result(r);
	return 0;
}

/* The auth policies' user headers are the gateway's to set (the policy put
 * the user's in r->req_add, sent after the client's fields); a client copy
 * never passes, nor an API key, nor (behind a session policy) the bearer
 * token.  Fills <w>'s drop list in <drop> (8 names at most). */
static void gateway_credentials(struct gwd_req *r, struct hdr_walk *w, struct gw_str *drop)
{
	for (uint16_t i = 0; i < r->route->npols && w->ndrop < 8; i++) {
		const struct gw_policy *p = &r->gen->policies[r->route->pols[i]];
		struct gw_auth a;

		if (p->kind != GW_P_AUTH || gw_blob_auth(r->gen->blob, p->index, &a) != 0)
			continue;
		if (a.user_header.len)
			drop[w->ndrop++] = a.user_header;
		if (a.type == GW_AUTH_API_KEY && a.header.len && w->ndrop < 8)
			drop[w->ndrop++] = a.header; /* the key itself */
		if (a.type == GW_AUTH_SESSION)
			w->session_auth = 1;
	}
	w->drop = drop;
}

/* The X-Forwarded-* fields and X-Request-ID of <r>, appended to <w>. */
static void forwarded_fields(struct gwd_req *r, const struct gwd_services *svc,
			     struct hdr_walk *w)
{
	char xffbuf[1024];
	/* X-Forwarded-For: the client's chain is kept only when the peer is a
	 * trusted proxy (otherwise it could be forged); the peer is appended,
	 * as every proxy in a chain does */
	const char *peer = gwd_req_peer_ip(r);
	int n = w->xff && w->xff_len < sizeof xffbuf && gwd_req_peer_trusted(r)
			? snprintf(xffbuf, sizeof xffbuf, "%.*s, %s", (int)w->xff_len, w->xff, peer)
			: snprintf(xffbuf, sizeof xffbuf, "%s", peer);

	if (n < 0 || (size_t)n >= sizeof xffbuf)
		n = snprintf(xffbuf, sizeof xffbuf, "%s", peer);
	/* copied: <xffbuf> is this frame's */
	append(w, "X-Forwarded-For", 15, xffbuf, (size_t)n);
	/* the scheme the client used: gwd's own, or what a trusted proxy in
	 * front says (the session cookie's Secure follows the same rule) */
	if (gwd_req_https(r, svc->tls))
		append(w, "X-Forwarded-Proto", 17, "https", 5);
	else
		append(w, "X-Forwarded-Proto", 17, "http", 4);
	/* the authority that chose the route: an absolute-form target's, else
	 * Host (a Host that disagrees with the target's authority is ignored,
	 * RFC 9112 3.2.2) */
	if (r->host && r->host_len)
		append(w, "X-Forwarded-Host", 16, r->host, r->host_len);
	append(w, "X-Request-ID", 12, r->reqid, r->reqid_len);
}

/* The upstream request's header lines for <r> into <w> (request memory).
 * Returns 0, or -1 when memory runs out. */
static int upstream_headers(struct gwd_req *r, const struct gwd_services *svc,
			    struct hdr_walk *w, struct gw_str *drop)
{
	gateway_credentials(r, w, drop);
	w->cookie = r->gen->settings.session_cookie;
	w->underscores = r->gen->settings.underscore_headers;
	w->tail = &w->head;
	w->conn = MHD_lookup_connection_value(r->mhd, MHD_HEADER_KIND, "Connection");
	MHD_get_connection_values_n(r->mhd, MHD_HEADER_KIND, copy_header, w);
	for (struct gwd_hdr *h = r->req_add; h && !w->oom; h = h->next)
		append(w, h->name, h->nlen, h->value, h->vlen);
	forwarded_fields(r, svc, w);
	/* libcurl adds this unless told not to (the engine suppresses its
	 * Expect and Content-Type): the upstream sees what the client sent.
	 * (A WebSocket's request is written as is: no libcurl default.) */
	if (!w->saw_accept && !r->websocket)
		append(w, "Accept", 6, "", 0);
	return w->oom ? -1 : 0;
}

/* The hash mode's key of <r> for upstream <u>: user, header or client
 * address.  Returns it (request memory, or NULL) and sets <*len> (0 when
 * none, or when <u> does not balance by hash). */
static const char *hash_key(struct gwd_req *r, const struct gwd_upstream_state *u, size_t *len)
{
	const char *k = NULL;

	*len = 0;
	if (u->cfg.balance != GW_LB_HASH)
		return NULL;
	if (u->cfg.hash_key == GW_HK_USER) {
		k = r->user;
		*len = r->user_len;
	} else if (u->cfg.hash_key == GW_HK_HEADER) {
		k = gwd_req_header(r, u->cfg.hash_header.p, len);
		if (!k)
			*len = 0;
	} else {
		k = gwd_req_peer_ip(r);
		*len = strlen(k);
	}
	return k;
}

/* Fill call <c> of <r>: target, headers, method, body, limits. */
static void call_fill(struct gwd_proxy_call *c, struct gwd_req *r, char *path,
		      struct curl_slist *headers)
{
	const union MHD_ConnectionInfo *ci;

	c->path = path;
	c->headers = headers;
	c->method = r->method_name;
	c->head = r->is_head;
	c->idempotent = (r->method & (GW_M_GET | GW_M_HEAD | GW_M_PUT | GW_M_DELETE | GW_M_OPTIONS)) != 0;
	c->body = r->body;
	c->body_len = r->body_len;
	if (r->body_stream) {
		/* started with the head: the body follows (gwd_proxy_body); a
		 * body that went out cannot be sent again */
		c->up_stream = 1;
		c->up_len = r->chunked ? -1 : (int64_t)r->content_length;
		c->idempotent = 0;
	}
	c->max_resp_body = r->body_limit != UINT64_MAX ? r->body_limit : PROXY_DEFAULT_BODY_MAX;
	c->hash_key = hash_key(r, c->u, &c->hash_keylen);
	ci = MHD_get_connection_info(r->mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
	c->client_fd = ci ? ci->connect_fd : -1;
	c->on_data = stream_data;
	c->arg = r;
	/* The engine may use the upstream's state (in the generation) after the
	 * request completed -- a stream it is still aborting: the call holds
	 * the generation too, in the request's slot, until it is freed.  So a
	 * reload leaves a running stream on its generation until it ends. */
	atomic_fetch_add_explicit(&r->gen->refs[r->w->id].n, 1, memory_order_relaxed);
	c->on_free = gen_drop;
	c->free_ctx = r->gen;
	c->free_ctx2 = r->w;
}

/* Hand call <c> of <r> to the engine: suspended until its result, or (a
 * streaming body) reading on.  Returns 0. */
static int submit(struct gwd_req *r, struct gwd_proxy_call *c)
{
	if (r->body_stream) {
		/* the connection goes on reading the body */
		if (gwd_proxy_submit(c) < 0)
			return gwd_problem(r, GWD_PB_UNAVAILABLE, "proxy engine not running");
		return 0;
	}
	c->pwait = GWD_PW_RESULT; /* not yet shared: no lock needed */
	r->stage = GWD_ST_ASYNC;
	MHD_suspend_connection(r->mhd);
	if (gwd_proxy_submit(c) < 0) {
		MHD_resume_connection(r->mhd);
		r->stage = GWD_ST_BODY;
		return gwd_problem(r, GWD_PB_UNAVAILABLE, "proxy engine not running");
	}
	return 0;
}

int gwd_proxy_handle(struct gwd_req *r, const struct gwd_services *svc)
{
	struct gw_proxy px;
	struct gwd_proxy_call *c;
	struct hdr_walk w = { .r = r };
	struct gw_str drop[8];
	int bad = GW_PATH_OK;
	char *path;

	if (gw_blob_proxy(r->gen->blob, r->route->r.handler_index, &px) != 0 ||
	    px.upstream >= r->gen->ups.n)
		return gwd_problem(r, GWD_PB_INTERNAL, NULL);
	if (upstream_headers(r, svc, &w, drop) < 0)
		return -1;
	path = upstream_target(r, &px, &bad);
	if (!path && bad != GW_PATH_OK)
		return gwd_problem(r, gwd_edge_path_problem(bad), gw_path_strerror(bad));
	if (!path)
		return gwd_problem(r, GWD_PB_URI_TOO_LONG, NULL);
	/* a WebSocket handshake (gwd_ws_check passed it): the upgrade is the
	 * relay's, not the engine's */
	if (r->websocket) {
		struct gwd_upstream_state *u = &r->gen->ups.u[px.upstream];
		size_t kl;
		const char *k = hash_key(r, u, &kl);

		return gwd_ws_start(r, u, path, w.head, k, kl);
	}
	c = gwd_proxy_call_new();
	if (!c)
		return -1;
	r->hctx = c;
	r->hctx_free = proxy_free;
	c->u = &r->gen->ups.u[px.upstream];
	call_fill(c, r, path, w.head);
	return submit(r, c);
}
