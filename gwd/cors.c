/* The cors policy (cors.h). */
#include "gwd/cors.h"

#include <stdio.h>
#include <string.h>
#include "gwd/problem.h"
#include "gwd/reqctx.h"

int gwd_cors_origin_ok(const struct gw_cors *c, const struct gw_str *strlist, uint32_t nstr,
		       const char *origin, size_t olen, int *wildcard)
{
	*wildcard = 0;
	for (uint32_t i = 0; i < c->origin_count; i++) {
		const struct gw_str *s;

		if (c->origin_first + i >= nstr)
			break;
		s = &strlist[c->origin_first + i];
		if (s->len == 1 && s->p[0] == '*') {
			*wildcard = 1;
			return 1;
		}
		/* origins compare byte for byte (RFC 6454 serialisation) */
		if (s->len == olen && memcmp(s->p, origin, olen) == 0)
			return 1;
	}
	return 0;
}

/* Add Access-Control-Allow-Origin (+ Vary, + credentials) for <origin>. */
static int allow_origin(struct gwd_req *r, const struct gw_cors *c, const char *origin,
			size_t olen, int wildcard)
{
	if (wildcard && !c->credentials)
		return gwd_req_add_resp_header_ref(r, "Access-Control-Allow-Origin", 27, "*", 1);
	char *o = gwd_req_strdup(r, origin, olen);

	if (!o || gwd_req_add_resp_header_ref(r, "Access-Control-Allow-Origin", 27, o, olen) < 0 ||
	    gwd_req_add_resp_header_ref(r, "Vary", 4, "Origin", 6) < 0)
		return -1;
	if (c->credentials &&
	    gwd_req_add_resp_header_ref(r, "Access-Control-Allow-Credentials", 32, "true", 4) < 0)
		return -1;
	return 0;
}

int gwd_cors_preflight(struct gwd_req *r, const struct gw_cors *c, const struct gw_str *strlist,
		       uint32_t nstr, uint16_t route_methods, const char *origin, size_t olen,
		       const char *acrm, size_t acrm_len)
{
	unsigned allowed = c->methods ? c->methods : route_methods;
	unsigned m = gw_method_bit(acrm, acrm_len);
	int wildcard;
	char *list, *p;

	if (!gwd_cors_origin_ok(c, strlist, nstr, origin, olen, &wildcard))
		return gwd_problem(r, GWD_PB_CORS_REFUSED, "origin not allowed");
	if (!m || !(allowed & m))
		return gwd_problem(r, GWD_PB_CORS_REFUSED, "method not allowed");
	list = gwd_req_alloc(r, 64);
	if (!list)
		return -1;
	p = list;
	for (unsigned b = 1; b <= GW_M_OPTIONS; b <<= 1)
		if (allowed & b)
			p += sprintf(p, "%s%s", p == list ? "" : ", ", gw_method_name(b));
	r->resp.status = 204;
	if (allow_origin(r, c, origin, olen, wildcard) < 0 ||
	    gwd_req_add_resp_header_ref(r, "Access-Control-Allow-Methods", 28, list,
					(size_t)(p - list)) < 0)
		return -1;
	if (c->allow_headers.len &&
	    gwd_req_add_resp_header_ref(r, "Access-Control-Allow-Headers", 28, c->allow_headers.p,
					c->allow_headers.len) < 0)
		return -1;
	if (c->max_age_s) {
		char *age = gwd_req_alloc(r, 12);

		if (!age)
			return -1;
		snprintf(age, 12, "%u", c->max_age_s);
		if (gwd_req_add_resp_header_ref(r, "Access-Control-Max-Age", 22, age, strlen(age)) < 0)
			return -1;
	}
	return 0;
}

int gwd_cors_actual(struct gwd_req *r, const struct gw_cors *c, const struct gw_str *strlist,
		    uint32_t nstr, const char *origin, size_t olen)
{
	int wildcard;

	if (!gwd_cors_origin_ok(c, strlist, nstr, origin, olen, &wildcard))
		return 0;
	if (allow_origin(r, c, origin, olen, wildcard) < 0)
		return -1;
	if (c->expose_headers.len &&
	    gwd_req_add_resp_header_ref(r, "Access-Control-Expose-Headers", 29, c->expose_headers.p,
					c->expose_headers.len) < 0)
		return -1;
	return 0;
}
