/* The request pipeline (pipeline.h): one request's journey, top to bottom.
 *
 * libmicrohttpd 0.9.75 calls the access handler once when the head is
 * complete, once per body chunk, then again when the body is complete (or at
 * once for a request without a body).  A response queued in the first call
 * makes it close the connection when a body was announced, so everything but
 * refusals that should close anyway (400 framing, 413, 431, 503 over a
 * connection limit) is answered in a later call: that keeps keep-alive.
 *
 * Response bodies are handed to libmicrohttpd with MHD_RESPMEM_PERSISTENT:
 * the bytes live in the blob mapping, the generation, the request arena or
 * the request body buffer, all of which outlive the response because the
 * request holds them until libmicrohttpd reports it completed.
 */
#include "gwd/pipeline.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "gwd/accesslog.h"
#include "gwd/clock.h"
#include "gwd/conn.h"
#include "gwd/cors.h"
#include "gwd/echo.h"
#include "gwd/edge.h"
#include "gwd/hdrpol.h"
#include "gwd/health.h"
#include "gwd/login.h"
#include "gwd/metrics.h"
#include "gwd/problem.h"
#include "gwd/proxy_handler.h"
#include "gwd/policy.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/reqid.h"
#include "gwd/respond.h"
#include "gwd/status.h"
#include "gwd/websocket.h"
#include "gwd/worker.h"
#include "lib/path.h"

#define MAX_FIELDS 100 /* request header fields; more is answered 431 */

static struct gwd_services svc;
static int draining;

void gwd_pipeline_init(const struct gwd_services *s)
{
	svc = *s;
}

void gwd_pipeline_drain(void)
{
	__atomic_store_n(&draining, 1, __ATOMIC_RELAXED);
}

/* ==== step 1: the request line ============================================= */

struct gwd_req *gwd_pipeline_begin(struct MHD_Connection *mhd, struct gwd_conn *conn,
				   const char *uri)
{
	struct gwd_worker *w = gwd_worker_self();
	struct gwd_req *r = gwd_req_get(w);
	size_t len = uri ? strlen(uri) : 0;

	if (!r)
		return NULL;
	atomic_fetch_add_explicit(&w->req_begun, 1, memory_order_relaxed);
	r->mhd = mhd;
	r->conn = conn;
	r->t_start_ns = gwd_clock_ns();
	if (gwd_accesslog_enabled())
		clock_gettime(CLOCK_REALTIME, &r->t_wall);
	r->gen = gwd_reload_acquire(w);
	gwd_conn_request_line(conn, r->t_start_ns / 1000000u);
	/* libmicrohttpd cut the request line in place: the target ends where it
	 * wrote a NUL over the space before "HTTP/1.x".  Another NUL first means
	 * the client sent a raw NUL inside the target. */
	if (uri && strncmp(uri + len + 1, "HTTP/", 5) != 0)
		r->edge_nul = 1;
	/* copy: libmicrohttpd decodes its own copy in place after this call */
	r->target = gwd_req_strdup(r, uri ? uri : "", len);
	r->target_len = (uint32_t)len;
	return r;
}

/* ==== step 2: the head ======================================================= */

/* Collects header fields for the edge checks (MHD_KeyValueIteratorN). */
struct fields {
	size_t n;
	int overflow;
	int upgrade;                         /* an Upgrade field is there */
	const char *reqid, *origin, *acrm;
	size_t reqid_len, origin_len, acrm_len;
	struct gwd_edge_field f[MAX_FIELDS]; /* last: not cleared */
};

/* Record one header field in <cls> (struct fields); stops the walk past
 * MAX_FIELDS.  Notes X-Request-ID, Origin, Access-Control-Request-Method
 * and whether Upgrade is there on the way (one walk of the list, not one
 * lookup each). */
static enum MHD_Result collect_field(void *cls, enum MHD_ValueKind kind, const char *key,
				     size_t klen, const char *val, size_t vlen)
{
	struct fields *fs = cls;

	(void)kind;
	if (fs->n == MAX_FIELDS) {
		fs->overflow = 1;
		return MHD_NO;
	}
	fs->f[fs->n++] = (struct gwd_edge_field){ key, klen, val, vlen };
	if (klen == 12 && strncasecmp(key, "x-request-id", 12) == 0) {
		fs->reqid = val;
		fs->reqid_len = vlen;
	} else if (klen == 6 && strncasecmp(key, "origin", 6) == 0) {
		fs->origin = val;
		fs->origin_len = vlen;
	} else if (klen == 29 && strncasecmp(key, "access-control-request-method", 29) == 0) {
		fs->acrm = val;
		fs->acrm_len = vlen;
	} else if (klen == 7 && strncasecmp(key, "upgrade", 7) == 0) {
		fs->upgrade = 1;
	}
	return MHD_YES;
}

/* Answer with problem <p>; returns 1 ("answered") for the callers' flow. */
static int refuse(struct gwd_req *r, enum gwd_problem p, const char *detail)
{
	gwd_problem(r, p, detail);
	return 1;
}

/* The Allow value of mask <m> in request memory ("GET, HEAD, POST"). */
static const char *allow_list(struct gwd_req *r, unsigned m)
{
	char *s = gwd_req_alloc(r, 64), *p = s;

	if (!s)
		return "";
	if (m & GW_M_GET)
		m |= GW_M_HEAD; /* a GET route serves HEAD */
	*p = '\0';
	for (unsigned b = 1; b <= GW_M_OPTIONS; b <<= 1)
		if (m & b)
			p += sprintf(p, "%s%s", p == s ? "" : ", ", gw_method_name(b));
	return s;
}

/* The route's policy of kind <kind>, or NULL. */
static const struct gw_policy *route_policy(const struct gwd_gen *g, const struct gwd_route *rt,
					    unsigned kind)
{
	for (uint16_t i = 0; i < rt->npols; i++)
		if (g->policies[rt->pols[i]].kind == kind)
			return &g->policies[rt->pols[i]];
	return NULL;
}

/* The policies of the route, in their declared order.  Returns 0 when the
 * request goes on to the handler, 1 when a policy answered. */
static int run_policies(struct gwd_req *r, const char *origin, size_t olen)
{
	const struct gwd_gen *g = r->gen;
	const struct gwd_route *rt = r->route;

	for (uint16_t i = 0; i < rt->npols; i++) {
		const struct gw_policy *p = &g->policies[rt->pols[i]];

		switch (p->kind) {
		case GW_P_BODY_LIMIT:
			/* the smallest limit was folded into rt->body_limit */
			if (r->content_length != UINT64_MAX && r->content_length > r->body_limit)
				return refuse(r, GWD_PB_BODY_TOO_LARGE, NULL);
			break;
		case GW_P_IP:
			if (gwd_policy_ip(r, p))
				return 1;
			break;
		case GW_P_CORS:
			if (origin && gwd_cors_actual(r, &g->cors[p->index], g->strlist, g->nstrlist,
						      origin, olen) < 0)
				return refuse(r, GWD_PB_INTERNAL, NULL);
			break;
		case GW_P_HEADERS:
			if (gwd_hdrpol_request(r, g, &g->hdrpols[p->index]) < 0)
				return refuse(r, GWD_PB_INTERNAL, NULL);
			if (r->nhdrpols < sizeof r->hdrpols / sizeof *r->hdrpols)
				r->hdrpols[r->nhdrpols++] = p->index;
			break;
		case GW_P_RATE_LIMIT: /* dispatch point: the rate limiter (gwd/ratelimit.h) */
			if (gwd_policy_rate_limit(r, p))
				return 1;
			break;
		case GW_P_AUTH: /* dispatch point: sessions and API keys (gwd/session.h) */
			if (gwd_policy_auth(r, p, &svc))
				return 1;
			break;
		default:
			return refuse(r, GWD_PB_POLICY_UNAVAILABLE, NULL);
		}
	}
	return 0;
}

/* The stages of the head, in order.  Each returns 0 when the request goes on
 * to the next stage, 1 when it has answered (<r->resp> is set).  head() below
 * reads as the list of them. */

/* Request id, method and version of <r>; the fields are walked once into <fs>. */
static void identify(struct gwd_req *r, struct fields *fs, const char *method,
		     const char *version)
{
	memset(fs, 0, offsetof(struct fields, f)); /* the field array needs no clearing */
	MHD_get_connection_values_n(r->mhd, MHD_HEADER_KIND, collect_field, fs);
	if (fs->reqid && gwd_reqid_valid(fs->reqid, fs->reqid_len)) {
		memcpy(r->reqid, fs->reqid, fs->reqid_len);
		r->reqid[fs->reqid_len] = '\0';
		r->reqid_len = (uint8_t)fs->reqid_len;
	} else {
		r->reqid_len = (uint8_t)gwd_reqid_make(r->w, r->reqid);
	}
	r->method_name = method;
	r->method = gw_method_bit(method, strlen(method));
	r->is_head = r->method == GW_M_HEAD;
	r->http11 = version && strcmp(version, "HTTP/1.0") != 0;
}

/* The connection's limits: a connection past one is answered 503 at once. */
static int check_connection(struct gwd_req *r)
{
	if (r->conn && r->conn->over_limit) {
		gwd_req_add_resp_header_ref(r, "Retry-After", 11, "1", 1);
		return refuse(r, GWD_PB_TOO_MANY_CONNECTIONS, NULL);
	}
	if (!r->gen || !r->target)
		return refuse(r, GWD_PB_INTERNAL, NULL);
	return 0;
}

/* The raw head (edge.h): field count, a NUL in the target, the fields
 * themselves, Host, the head's size.  Notes the body's framing in <r>. */
static int check_head(struct gwd_req *r, const struct fields *fs, const char *method,
		      struct gwd_edge_facts *facts)
{
	enum gwd_problem why;

	if (fs->overflow)
		return refuse(r, GWD_PB_HEADERS_TOO_LARGE, "too many header fields");
	if (r->edge_nul)
		return refuse(r, GWD_PB_NUL_IN_PATH, NULL);
	if (gwd_edge_headers(fs->f, fs->n, &r->layout, facts, &why) < 0)
		return refuse(r, why, NULL);
	if (!facts->host && r->http11)
		return refuse(r, GWD_PB_BAD_HEADER, "HTTP/1.1 request without Host");
	if (facts->head_bytes + r->target_len + strlen(method) + 11 >
	    r->gen->settings.max_header_bytes)
		return refuse(r, GWD_PB_HEADERS_TOO_LARGE, NULL);
	r->content_length = facts->content_length;
	r->chunked = facts->chunked;
	return 0;
}

/* The raw target: split into path and query, the host taken from an
 * absolute-form target or else Host; then the one normaliser (lib/path.h)
 * on the raw path. */
static int read_target(struct gwd_req *r, const struct gwd_edge_facts *facts)
{
	const char *path, *query, *auth;
	size_t plen, qlen, alen, outlen;
	int rc;

	if (gwd_edge_split_target(r->target, r->target_len, &path, &plen, &query, &qlen, &auth,
				  &alen) < 0)
		return refuse(r, GWD_PB_BAD_TARGET, NULL);
	r->path_raw_len = (uint32_t)(path + plen - r->target);
	r->query = query;
	r->query_len = (uint32_t)qlen;
	r->host = auth ? auth : facts->host;
	r->host_len = auth ? alen : facts->host_len;
	r->path = gwd_req_alloc(r, plen + 2);
	if (!r->path)
		return refuse(r, GWD_PB_INTERNAL, NULL);
	rc = gw_path_normalize(path, plen, r->path, plen + 2, &outlen);
	if (rc != GW_PATH_OK)
		return refuse(r, gwd_edge_path_problem(rc), gw_path_strerror(rc));
	r->path_len = (uint32_t)outlen;
	return 0;
}

/* A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method)
 * is matched with the method it asks for; a route with a cors policy answers
 * it.  Returns 0 when it is not such a preflight (or no cors route takes it):
 * the request is then matched as itself. */
static int preflight(struct gwd_req *r, const struct fields *fs)
{
	const struct gwd_gen *g = r->gen;
	unsigned want;
	struct gw_match pm;
	const struct gwd_route *rt;
	const struct gw_policy *cp;

	if (r->method != GW_M_OPTIONS || !fs->origin || !fs->acrm)
		return 0;
	want = gw_method_bit(fs->acrm, fs->acrm_len);
	if (!want || gw_match(g->blob, r->host, r->host_len, want, r->path, r->path_len, &pm) !=
			     GW_MATCH_FOUND)
		return 0;
	rt = &g->routes[pm.route];
	cp = route_policy(g, rt, GW_P_CORS);
	if (!cp)
		return 0;
	r->route = rt;
	r->m = pm;
	/* An ip policy keeps the route from other addresses, its preflight
	 * included (the answer names the allowed origins, methods and headers).
	 * Rate limits do not count preflights (docs/routes.md, "cors"). */
	for (uint16_t i = 0; i < rt->npols; i++) {
		const struct gw_policy *ip = &g->policies[rt->pols[i]];

		if (ip->kind == GW_P_IP && gwd_policy_ip(r, ip))
			return 1;
	}
	if (gwd_cors_preflight(r, &g->cors[cp->index], g->strlist, g->nstrlist, rt->r.methods,
			       fs->origin, fs->origin_len, fs->acrm, fs->acrm_len) < 0)
		return refuse(r, GWD_PB_INTERNAL, NULL);
	return 1;
}

/* Match host, method and path (lib/match.h): 404, or 405 with Allow, or the
 * route and its body limit. */
static int match_route(struct gwd_req *r)
{
	const struct gwd_gen *g = r->gen;

	switch (gw_match(g->blob, r->host, r->host_len, r->method, r->path, r->path_len, &r->m)) {
	case GW_MATCH_FOUND:
		break;
	case GW_MATCH_NO_METHOD: {
		const char *allow = allow_list(r, r->m.allow);

		gwd_req_add_resp_header_ref(r, "Allow", 5, allow, strlen(allow));
		return refuse(r, GWD_PB_METHOD_NOT_ALLOWED, NULL);
	}
	default:
		return refuse(r, GWD_PB_NOT_FOUND, NULL);
	}
	r->route = &g->routes[r->m.route];
	r->body_limit = r->route->body_limit;
	return 0;
}

/* Ready the route's handler for the body (what it keeps, its limit), then
 * refuse an announced body over the limit. */
static int prepare_handler(struct gwd_req *r)
{
	switch (r->route->r.handler) {
	case GW_H_ECHO:
		if (gwd_echo_prepare(r) < 0)
			return refuse(r, GWD_PB_INTERNAL, NULL);
		break;
	case GW_H_PROXY:
		gwd_proxy_prepare(r);
		break;
	case GW_H_LOGIN:
		if (r->body_limit > GWD_LOGIN_BODY_MAX)
			r->body_limit = GWD_LOGIN_BODY_MAX;
		r->body_keep = 1;
		break;
	default:
		break;
	}
	if (r->content_length != UINT64_MAX && r->content_length > r->body_limit)
		return refuse(r, GWD_PB_BODY_TOO_LARGE, NULL);
	/* a streaming body goes upstream as it arrives: the exchange starts now */
	if (r->body_stream) {
		if (gwd_proxy_handle(r, &svc) < 0)
			return refuse(r, GWD_PB_INTERNAL, NULL);
		return r->resp.status != 0;
	}
	return 0;
}

/* Everything decided when the head is complete, stage by stage.  Returns 1
 * when <r->resp> holds an answer already, 0 when the handler will run once
 * the body is in. */
static int head(struct gwd_req *r, const char *method, const char *version)
{
	struct fields fs;
	struct gwd_edge_facts facts;

	identify(r, &fs, method, version);
	return check_connection(r) || check_head(r, &fs, method, &facts) ||
	       read_target(r, &facts) || preflight(r, &fs) || match_route(r) ||
	       run_policies(r, fs.origin, fs.origin_len) || (fs.upgrade && gwd_ws_check(r)) ||
	       prepare_handler(r);
}

/* ==== step 3: the body ======================================================== */

#define BODY_DISCARD_MAX (8u * 1024 * 1024) /* bytes read past a body limit */

/* Count <n> body bytes of <r> against its limit, keeping them when the handler
 * wants them.  A chunked body that passes the limit cannot be answered at
 * once (libmicrohttpd 0.9.75 accepts no response while a body arrives), so
 * its remainder is read and dropped, and 413 goes out with Connection: close
 * when it ends; past BODY_DISCARD_MAX more bytes the connection is simply
 * closed.  Returns 0, or -1 to close the connection now. */
static int body(struct gwd_req *r, const char *data, size_t n)
{
	/* a refused request's body is dropped: never without bound, even on a
	 * route of `body_limit: none` */
	uint64_t limit = r->body_limit == GW_BODY_LIMIT_NONE && r->resp.status
				 ? GWD_BODY_DEFAULT_LIMIT : r->body_limit;

	r->body_seen += n;
	if (r->body_seen > limit) {
		if (!r->body_over) {
			r->body_over = 1;
			if (r->resp.status)
				r->resp.close = 1; /* refused already: keep that answer */
			else
				gwd_problem(r, GWD_PB_BODY_TOO_LARGE, NULL);
		}
		return r->body_seen - limit > BODY_DISCARD_MAX ? -1 : 0;
	}
	if (r->body_keep && !r->resp.status && gwd_echo_data(r, data, n) < 0)
		return -1;
	return 0;
}

/* ==== step 4: the handler ===================================================== */

/* Run the route's handler.  It fills <r->resp> now, or goes asynchronous
 * (r->stage == GWD_ST_ASYNC) and a job fills it later. */
static void run_handler(struct gwd_req *r)
{
	int rc;

	switch (r->route->r.handler) {
	case GW_H_RESPOND:
		rc = gwd_respond_handle(r);
		break;
	case GW_H_ECHO:
		rc = gwd_echo_handle(r);
		break;
	case GW_H_HEALTH:
		rc = gwd_health_handle(r);
		break;
	case GW_H_METRICS:
		rc = gwd_metrics_handle(r);
		break;
	case GW_H_STATUS:
		rc = gwd_status_handle(r, &svc);
		break;
	case GW_H_LOGIN: /* dispatch point: sessions (gwd/session.h) */
		rc = gwd_login_handle(r, &svc);
		break;
	case GW_H_LOGOUT: /* dispatch point: sessions (gwd/session.h) */
		rc = gwd_login_logout_handle(r, &svc);
		break;
	case GW_H_PROXY: /* the upstream engine (gwd/proxy_handler.h) */
		rc = gwd_proxy_handle(r, &svc);
		break;
	default:
		rc = gwd_problem(r, GWD_PB_HANDLER_UNAVAILABLE, NULL);
		break;
	}
	if (rc < 0)
		gwd_problem(r, GWD_PB_INTERNAL, NULL);
}

/* ==== step 5: response headers, queue ========================================= */

/* Build the libmicrohttpd response of <r> and queue it. Returns the queue's
 * result (MHD_NO closes the connection). */
static enum MHD_Result send_response(struct gwd_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!r->resp.status)
		gwd_problem(r, GWD_PB_INTERNAL, NULL);
	/* the route's headers policies edit the response last */
	for (unsigned i = 0; i < r->nhdrpols; i++)
		gwd_hdrpol_response(r, r->gen, &r->gen->hdrpols[r->hdrpols[i]]);
	/* persistent: the bytes outlive the response (see the file comment);
	 * a streamed body is pulled by libmicrohttpd as the client reads */
	if (r->resp.upgrade) /* 101: the socket goes to the relay (websocket.h) */
		resp = gwd_ws_response(r);
	else if (r->resp.stream)
		resp = MHD_create_response_from_callback(r->resp.stream_size, 16384,
							 r->resp.stream_read,
							 r->resp.stream, r->resp.stream_free);
	else
		resp = MHD_create_response_from_buffer(r->resp.len, (void *)(uintptr_t)r->resp.body,
						       MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (r->resp.stream)
			r->resp.stream_free(r->resp.stream);
		r->resp.stream = NULL;
		return MHD_NO;
	}
	if (r->resp.ctype)
		MHD_add_response_header(resp, "Content-Type", r->resp.ctype);
	/* gwd's own answers may reflect request text (templates, echo): a
	 * browser must take them for the type they name, never sniff HTML in
	 * them.  An upstream's answer is sent as it came. */
	if (!r->resp.upstream)
		MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Request-ID", r->reqid);
	for (struct gwd_hdr *h = r->resp_hdrs; h; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	if ((r->resp.close || __atomic_load_n(&draining, __ATOMIC_RELAXED)) && !r->resp.upgrade)
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(r->mhd, r->resp.status, resp);
	MHD_destroy_response(resp);
	r->stage = GWD_ST_QUEUED;
	r->status_sent = r->resp.status;
	if (!r->resp.stream && !r->resp.upgrade)
		r->bytes_sent = r->is_head ? 0 : r->resp.len;
	return ret;
}

/* ==== the access handler: steps 2 to 5 in libmicrohttpd's calls =============== */

/* Where libmicrohttpd left the head of <r> in its read buffer, for the exact
 * layout check (edge.h): it cut the head in place, the request line starting
 * at <method>, and counts the head's bytes from there to after the empty
 * line. */
static void note_layout(struct gwd_req *r, const char *method, const char *version)
{
	const union MHD_ConnectionInfo *hs =
		MHD_get_connection_info(r->mhd, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);

	r->layout.line_end = version ? version + strlen(version) : NULL;
	r->layout.head_end = hs && method && hs->header_size ? method + hs->header_size : NULL;
}

/* The head is complete (the first access call): the head stages, then the
 * body's deadline (conn.h) when a body follows, since it must keep coming. */
static enum MHD_Result on_head(struct gwd_req *r, struct MHD_Connection *mhd,
			       const char *method, const char *version)
{
	r->stage = GWD_ST_BODY;
	r->mhd = mhd;
	gwd_conn_head_done(r->conn);
	note_layout(r, method, version);
	/* refusals that close the connection are queued at once; everything
	 * else waits for the next call (keep-alive, see the file comment) */
	if (head(r, method, version) && r->resp.close)
		return send_response(r);
	if (r->stage == GWD_ST_BODY &&
	    (r->chunked || (r->content_length != UINT64_MAX && r->content_length > 0)))
		gwd_conn_body_start(r->conn, gwd_clock_ms());
	return MHD_YES;
}

enum MHD_Result gwd_pipeline_access(struct gwd_req **rp, struct MHD_Connection *mhd,
				    const char *method, const char *version, const char *upload_data,
				    size_t *upload_data_size)
{
	struct gwd_req *r = *rp;

	if (!r) {
		/* no request-line callback ran (out of memory then): nothing to serve */
		return MHD_NO;
	}
	if (r->stage == GWD_ST_LINE)
		return on_head(r, mhd, method, version);
	if (*upload_data_size) {
		int rc = 0;

		if (r->stage == GWD_ST_BODY) {
			/* the body's deadline moves back for what arrived */
			gwd_conn_body_data(r->conn, *upload_data_size, gwd_clock_ms());
			/* a streaming body goes upstream as it arrives (the
			 * proxy takes what its buffer holds, the rest later) */
			if (r->body_stream && !r->resp.status)
				return gwd_proxy_body(r, upload_data, upload_data_size) < 0 ? MHD_NO
											      : MHD_YES;
			rc = body(r, upload_data, *upload_data_size);
		}
		*upload_data_size = 0;
		return rc < 0 ? MHD_NO : MHD_YES;
	}
	switch (r->stage) {
	case GWD_ST_BODY:
		/* the body is complete: no deadline while the handler works (a
		 * proxy or login may take long) */
		gwd_conn_head_done(r->conn);
		if (r->body_stream && !r->resp.status && gwd_proxy_body_end(r))
			return MHD_YES; /* suspended: called again when resumed */
		if (!r->resp.status)
			run_handler(r);
		if (r->stage == GWD_ST_ASYNC)
			return MHD_YES; /* suspended: called again when resumed */
		return send_response(r);
	case GWD_ST_ASYNC:
		if (r->route && r->route->r.handler == GW_H_PROXY)
			gwd_proxy_result(r);
		return send_response(r);
	default:
		return MHD_YES;
	}
}

/* ==== step 6: access log and metrics ========================================== */

void gwd_pipeline_end(struct gwd_req *r, int ok)
{
	struct gwd_worker *w = gwd_worker_self();
	uint64_t now_ns = gwd_clock_ns(), dur_ns = now_ns - r->t_start_ns;
	const struct gwd_route *rt = r->route;

	(void)ok;
	if (r->status_sent) {
		gwd_metrics_request(w, rt ? rt->metric_slot : 0, r->method, r->status_sent, dur_ns);
		gwd_conn_response_done(r->conn, now_ns / 1000000u);
	}
	if (gwd_accesslog_enabled()) {
		/* behind trusted proxies the log names the client they forwarded
		 * for (the head is still readable: libmicrohttpd reports completion
		 * before it recycles the connection's memory) */
		if (r->gen && r->gen->settings.trusted_count && r->stage != GWD_ST_LINE)
			gwd_clientip_of(r);
		gwd_accesslog_request(r, rt ? rt->label.p : NULL, rt ? rt->label.len : 0, dur_ns / 1000);
	}
	if (r->hctx_free)
		r->hctx_free(r);
	gwd_reload_release(r->gen, r->w);
	atomic_fetch_add_explicit(&r->w->req_ended, 1, memory_order_relaxed);
	gwd_req_put(r);
}
