/* The request-time code of the policies that are not a module of their own
 * (policy.h): the client address, `ip`, and the dispatch to the rate limiter
 * (gwd/ratelimit.h) and to sessions and API keys (gwd/session.h,
 * gwd/apikey.h). */
#include "gwd/policy.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>
#include "gwd/apikey.h"
#include "gwd/conn.h"
#include "gwd/jwt.h"
#include "gwd/problem.h"
#include "gwd/ratelimit.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "gwd/session.h"

/* Answer with problem <p>; returns 1 ("answered") for the callers' flow. */
static int refuse(struct gwd_req *r, enum gwd_problem p, const char *detail)
{
	gwd_problem(r, p, detail);
	return 1;
}

/* Collects X-Forwarded-For values for the client address. */
struct xff {
	const char *v[16];
	size_t len[16];
	unsigned n;
};

/* Record one X-Forwarded-For value in <cls> (struct xff), at most 16. */
static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
				   size_t klen, const char *val, size_t vlen)
{
	struct xff *x = cls;

	(void)kind;
	if (klen == 15 && strncasecmp(key, "x-forwarded-for", 15) == 0) {
		/* The walk starts from the last field, which the trusted proxy
		 * appended: keep the last 16, never the first (a client sending
		 * 16 of its own would otherwise pick its address). */
		if (x->n == 16) {
			memmove(x->v, x->v + 1, 15 * sizeof *x->v);
			memmove(x->len, x->len + 1, 15 * sizeof *x->len);
			x->n = 15;
		}
		x->v[x->n] = val;
		x->len[x->n++] = vlen;
	}
	return MHD_YES;
}

const struct gwd_clientip *gwd_clientip_of(struct gwd_req *r)
{
	const struct gw_settings *s = &r->gen->settings;
	struct xff x = { .n = 0 };

	if (r->cip_set)
		return &r->cip;
	if (!r->conn || !r->conn->family) {
		memset(&r->cip, 0, sizeof r->cip);
	} else {
		if (s->trusted_count && r->mhd)
			MHD_get_connection_values_n(r->mhd, MHD_HEADER_KIND, collect_xff, &x);
		gwd_clientip(&r->cip, (const struct sockaddr *)&r->conn->addr, x.v, x.len, x.n,
			    s->trusted_first + s->trusted_count <= r->gen->ncidrs
				    ? r->gen->cidrs + s->trusted_first : NULL,
			    s->trusted_first + s->trusted_count <= r->gen->ncidrs
				    ? s->trusted_count : 0);
	}
	r->cip_set = 1;
	return &r->cip;
}

int gwd_policy_ip(struct gwd_req *r, const struct gw_policy *p)
{
	const struct gwd_gen *g = r->gen;
	const struct gw_ipfilter *f = &g->ipfilters[p->index];
	const struct gwd_clientip *ip = gwd_clientip_of(r);
	/* deny wins over allow; no allow list lets everyone else in */
	int denied = f->deny_first + f->deny_count <= g->ncidrs &&
		     gwd_clientip_in_cidrs(ip, g->cidrs + f->deny_first, f->deny_count);
	int allowed = f->allow_count == 0 ||
		      (f->allow_first + f->allow_count <= g->ncidrs &&
		       gwd_clientip_in_cidrs(ip, g->cidrs + f->allow_first, f->allow_count));

	if (denied || !allowed)
		return refuse(r, GWD_PB_FORBIDDEN, "client address not allowed");
	return 0;
}

/* The key of request <r> for limit <rl>. */
static void rl_key(struct gwd_req *r, const struct gw_ratelimit *rl, struct gwd_ratelimit_keyval *k)
{
	const char *v;
	size_t n = 0;

	switch (rl->key) {
	case GW_RLK_USER:
	case GW_RLK_API_KEY:
		gwd_ratelimit_key_bytes(k, r->user, r->user_len);
		break;
	case GW_RLK_HEADER:
		v = gwd_req_header(r, rl->header.p, &n);
		gwd_ratelimit_key_bytes(k, v, v ? n : 0);
		break;
	case GW_RLK_ROUTE:
		gwd_ratelimit_key_bytes(k, NULL, 0);
		break;
	default:
		gwd_ratelimit_key_ip(k, gwd_clientip_of(r)->b);
		break;
	}
}

int gwd_policy_rate_limit(struct gwd_req *r, const struct gw_policy *p)
{
	const struct gwd_gen *g = r->gen;
	struct gwd_ratelimit_check c[GWD_RATELIMIT_MAX_LIMITS];
	struct gwd_ratelimit_decision d;
	struct gwd_ratelimit_headers h;
	unsigned n = p->count < GWD_RATELIMIT_MAX_LIMITS ? p->count : GWD_RATELIMIT_MAX_LIMITS;
	struct gwd_hdr *hs;
	size_t cap;
	unsigned first;
	uint8_t mode;

	for (unsigned i = 0; i < n; i++) {
		c[i].table = g->rl_tables[p->index + i];
		if (!c[i].table)
			return refuse(r, GWD_PB_POLICY_UNAVAILABLE, "rate limiter not running");
		rl_key(r, &g->ratelimits[p->index + i], &c[i].key);
	}
	/* the request line's clock reading (same clock as gwd_clock_ns), a few
	 * microseconds old: one clock read less per request */
	if (gwd_ratelimit_admit_all(c, n, r->t_start_ns, &d) < 0)
		return refuse(r, GWD_PB_INTERNAL, NULL);
	/* The policy's choice of fields (docs/ratelimit.md): all five, the IETF
	 * pair, or none -- a refusal's Retry-After is sent whatever it is. */
	mode = n ? g->ratelimits[p->index].headers : GW_RLH_ALL;
	first = mode == GW_RLH_IETF ? GWD_RATELIMIT_H_IETF :
		mode == GW_RLH_NONE ? GWD_RATELIMIT_H_RETRY : 0;
	if (mode == GW_RLH_NONE && d.admitted)
		return 0;
	/* One piece of request memory holds the list entries and the numbers;
	 * the text fixed per limit stays in the tables, which the request's
	 * generation holds until the request completes, after libmicrohttpd
	 * copied the fields.  The entries are linked here rather than one
	 * gwd_req_add_resp_header_ref each, because a rate-limited route pays
	 * this on every request and should cost about what an unlimited one
	 * does. */
	cap = gwd_ratelimit_headers_size(&d);
	hs = gwd_req_alloc(r, GWD_RATELIMIT_HEADERS * sizeof *hs + cap);
	if (hs && gwd_ratelimit_headers_render(&d, (char *)(hs + GWD_RATELIMIT_HEADERS), cap,
					       &h) == 0 && h.n > first) {
		for (unsigned i = first; i < h.n; i++)
			hs[i] = (struct gwd_hdr){ i + 1 < h.n ? &hs[i + 1] : NULL, h.name[i],
						  h.value[i], h.nlen[i], h.vlen[i] };
		*r->resp_tail = &hs[first];
		r->resp_tail = &hs[h.n - 1].next;
	}
	if (!d.admitted)
		return refuse(r, GWD_PB_RATE_LIMITED, NULL);
	return 0;
}

int gwd_policy_auth(struct gwd_req *r, const struct gw_policy *p, const struct gwd_services *svc)
{
	const struct gw_auth *a;
	struct gwd_session_principal *who;
	int rc;

	if (p->index >= r->gen->nauths)
		return refuse(r, GWD_PB_INTERNAL, NULL);
	a = &r->gen->auths[p->index];
	if (a->type == GW_AUTH_JWT)
		return a->jwt < r->gen->njwts ? gwd_jwt_check(r, &r->gen->jwts[a->jwt])
					      : refuse(r, GWD_PB_INTERNAL, NULL);
	who = gwd_req_alloc(r, sizeof *who);
	if (!who)
		return refuse(r, GWD_PB_INTERNAL, NULL);
	if (a->type == GW_AUTH_API_KEY) {
		const char *hdr = a->header.len ? a->header.p : "X-API-Key";

		if (!svc->apikeys)
			return refuse(r, GWD_PB_UNAVAILABLE, "api keys not available");
		rc = gwd_apikey_check(svc->apikeys, gwd_req_header(r, hdr, NULL), who);
	} else {
		if (!svc->sessions)
			return refuse(r, GWD_PB_UNAVAILABLE, "sessions not available");
		rc = gwd_session_check(svc->sessions, &r->gen->settings,
				      gwd_req_header(r, "Authorization", NULL),
				      gwd_req_header(r, "Cookie", NULL), who);
	}
	if (rc < 0)
		return refuse(r, GWD_PB_UNAVAILABLE, "credential store unavailable");
	if (rc == 0) {
		gwd_req_add_resp_header_ref(r, "WWW-Authenticate", 16,
					    a->type == GW_AUTH_API_KEY ? "ApiKey" : "Bearer",
					    a->type == GW_AUTH_API_KEY ? 6 : 6);
		return refuse(r, GWD_PB_UNAUTHORIZED, NULL);
	}
	r->who = who;
	gwd_req_set_user(r, who->name, who->len);
	if (a->user_header.len) {
		/* the upstream's copy is ours: a client-sent one is replaced */
		struct gwd_hdr *h = gwd_req_alloc(r, sizeof *h);

		if (!h)
			return refuse(r, GWD_PB_INTERNAL, NULL);
		h->name = a->user_header.p;
		h->nlen = a->user_header.len;
		h->value = r->user;
		h->vlen = r->user_len;
		h->next = r->req_add;
		r->req_add = h;
	}
	return 0;
}

