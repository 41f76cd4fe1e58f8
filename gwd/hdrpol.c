/* The headers policy (hdrpol.h). */
#include "gwd/hdrpol.h"

#include <strings.h>
#include "gwd/reload.h"
#include "gwd/reqctx.h"

/* A header record borrowing <name>/<value> (blob strings), or NULL. */
static struct gwd_hdr *hdr_ref(struct gwd_req *r, const struct gw_str *name,
			       const struct gw_str *value)
{
	struct gwd_hdr *h = gwd_req_alloc(r, sizeof *h);

	if (!h)
		return NULL;
	h->next = NULL;
	h->name = name->p;
	h->nlen = name->len;
	h->value = value ? value->p : "";
	h->vlen = value ? value->len : 0;
	return h;
}

int gwd_hdrpol_request(struct gwd_req *r, const struct gwd_gen *g, const struct gw_hdrpol *h)
{
	for (uint32_t i = 0; i < h->req_del_count; i++) {
		struct gwd_hdr *d, **pp;

		if (h->req_del_first + i >= g->nstrlist)
			break;
		d = hdr_ref(r, &g->strlist[h->req_del_first + i], NULL);
		if (!d)
			return -1;
		/* a removal also cancels what an earlier policy added */
		for (pp = &r->req_add; *pp;)
			if (strcasecmp((*pp)->name, d->name) == 0)
				*pp = (*pp)->next;
			else
				pp = &(*pp)->next;
		d->next = r->req_del;
		r->req_del = d;
	}
	for (uint32_t i = 0; i < h->req_add_count; i++) {
		const struct gw_header *src;
		struct gwd_hdr *a;

		if (h->req_add_first + i >= g->nheaders)
			break;
		src = &g->headers[h->req_add_first + i];
		a = hdr_ref(r, &src->name, &src->value);
		if (!a)
			return -1;
		a->next = r->req_add;
		r->req_add = a;
	}
	return 0;
}

int gwd_hdrpol_response(struct gwd_req *r, const struct gwd_gen *g, const struct gw_hdrpol *h)
{
	for (uint32_t i = 0; i < h->resp_del_count; i++) {
		const struct gw_str *name;

		if (h->resp_del_first + i >= g->nstrlist)
			break;
		name = &g->strlist[h->resp_del_first + i];
		if (name->len == 12 && strcasecmp(name->p, "content-type") == 0)
			r->resp.ctype = NULL;
		gwd_req_del_resp_header(r, name->p);
	}
	for (uint32_t i = 0; i < h->resp_add_count; i++) {
		const struct gw_header *src;

		if (h->resp_add_first + i >= g->nheaders)
			break;
		src = &g->headers[h->resp_add_first + i];
		if (src->name.len == 12 && strcasecmp(src->name.p, "content-type") == 0) {
			r->resp.ctype = src->value.p;
			continue;
		}
		if (gwd_req_add_resp_header_ref(r, src->name.p, src->name.len, src->value.p,
						src->value.len) < 0)
			return -1;
	}
	return 0;
}
