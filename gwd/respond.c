/* The respond handler and template rendering (respond.h). */
#include "gwd/respond.h"

#include <string.h>
#include <strings.h>
#include "gwd/json.h"
#include "gwd/reload.h"
#include "gwd/reqctx.h"
#include "lib/http.h"

/* Decode form-encoded <s> (<n> bytes) into <dst>. Returns the decoded length
 * (never more than <n>). */
static size_t form_decode(const char *s, size_t n, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '+') {
			dst[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < n &&
			   (hi = gw_http_hex((unsigned char)s[i + 1])) >= 0 &&
			   (lo = gw_http_hex((unsigned char)s[i + 2])) >= 0) {
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			dst[o++] = s[i];
		}
	}
	return o;
}

int gwd_respond_query_get(const char *query, size_t qlen, const char *name, size_t nlen,
		  char *dst, size_t *vlen)
{
	size_t i = 0;

	if (!query)
		return 0;
	while (i <= qlen) {
		size_t end = i, eq;
		size_t klen;

		while (end < qlen && query[end] != '&')
			end++;
		eq = i;
		while (eq < end && query[eq] != '=')
			eq++;
		/* compare the decoded key: decode it into dst first (dst is large
		 * enough for anything in the query) */
		klen = form_decode(query + i, eq - i, dst);
		if (end > i && klen == nlen && memcmp(dst, name, nlen) == 0) {
			*vlen = eq < end ? form_decode(query + eq + 1, end - eq - 1, dst) : 0;
			return 1;
		}
		i = end + 1;
	}
	return 0;
}

/* The value of template part <t> in <c>: sets <*v>, <*vlen> and returns 1 when
 * present, 0 when absent. */
static int tpl_value(const struct gw_tpl *t, const struct gwd_respond_tpl_ctx *c, const char **v,
		     size_t *vlen)
{
	switch (t->kind) {
	case GW_TPL_PARAM:
		if (!c->m || t->param >= c->m->nparams)
			return 0;
		*v = c->path + c->m->params[t->param].off;
		*vlen = c->m->params[t->param].len;
		return 1;
	case GW_TPL_REST:
		if (!c->m || c->m->rest_len == 0)
			return 0;
		*v = c->path + c->m->rest_off;
		*vlen = c->m->rest_len;
		return 1;
	case GW_TPL_QUERY:
		if (!gwd_respond_query_get(c->query, c->qlen, t->text.p, t->text.len, c->scratch, vlen))
			return 0;
		*v = c->scratch;
		return 1;
	default:
		return 0;
	}
}

enum gwd_respond_tpl_out gwd_respond_tpl_part(const struct gw_tpl *t,
					      const struct gwd_respond_tpl_ctx *c,
					      const char **v, size_t *vlen)
{
	int present = tpl_value(t, c, v, vlen);

	switch (t->mode) {
	case GW_TPL_DEFAULT:
		if (present && *vlen)
			return GWD_RESPOND_TPL_VALUE;
		*v = t->alt.p;
		*vlen = t->alt.len;
		return GWD_RESPOND_TPL_TEXT;
	case GW_TPL_ALT:
		if (!present || !*vlen)
			return GWD_RESPOND_TPL_NONE;
		*v = t->alt.p;
		*vlen = t->alt.len;
		return GWD_RESPOND_TPL_TEXT;
	default:
		return present ? GWD_RESPOND_TPL_VALUE : GWD_RESPOND_TPL_NONE;
	}
}

int gwd_respond_tpl_render(struct gwd_buf *b, const struct gw_tpl *t, uint32_t n,
		   const struct gwd_respond_tpl_ctx *c)
{
	for (uint32_t i = 0; i < n; i++) {
		const char *v = NULL;
		size_t vlen = 0;

		if (t[i].kind == GW_TPL_LITERAL) {
			gwd_buf_add(b, t[i].text.p, t[i].text.len);
			continue;
		}
		switch (gwd_respond_tpl_part(&t[i], c, &v, &vlen)) {
		case GWD_RESPOND_TPL_VALUE:
			gwd_json_escape(b, v, vlen);
			break;
		case GWD_RESPOND_TPL_TEXT:
			gwd_buf_add(b, v, vlen);
			break;
		default:
			break;
		}
	}
	return b->full ? -1 : 0;
}

size_t gwd_respond_tpl_bound(const struct gw_tpl *t, uint32_t n, size_t target_len)
{
	size_t total = 0;

	for (uint32_t i = 0; i < n; i++)
		total += t[i].kind == GW_TPL_LITERAL ? t[i].text.len
						     : t[i].alt.len + 6 * target_len;
	return total;
}

int gwd_respond_handle(struct gwd_req *r)
{
	const struct gwd_route *rt = r->route;

	r->resp.status = rt->status;
	for (uint32_t i = 0; i < rt->nhdrs; i++) {
		const struct gw_header *h = &rt->hdrs[i];

		if (h->name.len == 12 && strcasecmp(h->name.p, "content-type") == 0)
			r->resp.ctype = h->value.p;
		else if (gwd_req_add_resp_header_ref(r, h->name.p, h->name.len, h->value.p,
						     h->value.len) < 0)
			return -1;
	}
	if (rt->body_static) {
		r->resp.body = rt->static_body;
		r->resp.len = rt->static_len;
		if (!r->resp.ctype && r->resp.len)
			r->resp.ctype = GWD_RESPOND_DEFAULT_CTYPE;
		return 0;
	}
	size_t cap = gwd_respond_tpl_bound(rt->tpls, rt->ntpls, r->target_len);
	char *mem = gwd_req_alloc(r, cap + 1);
	char *scratch = gwd_req_alloc(r, r->query_len + 1);
	struct gwd_respond_tpl_ctx c = {
		.path = r->path, .m = &r->m, .query = r->query, .qlen = r->query_len,
		.scratch = scratch,
	};
	struct gwd_buf b;

	if (!mem || !scratch)
		return -1;
	gwd_buf_init(&b, mem, cap + 1);
	if (gwd_respond_tpl_render(&b, rt->tpls, rt->ntpls, &c) < 0)
		return -1;
	r->resp.body = mem;
	r->resp.len = b.len;
	/* a body always says what it is (gwc allows templates only in types
	 * whose escaping gwd applies: JSON and plain text) */
	if (!r->resp.ctype && r->resp.len)
		r->resp.ctype = GWD_RESPOND_DEFAULT_CTYPE;
	return 0;
}
