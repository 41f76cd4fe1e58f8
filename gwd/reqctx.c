/* Per-request contexts, their arenas and body buffers (reqctx.h).
 *
 * Everything here is recycled through the owning thread's freelists: the
 * steady state of a serving thread allocates nothing.  A context released on
 * a thread that does not own it (which libmicrohttpd does not do, but a
 * shutdown path might) is freed outright rather than touching another
 * thread's lists. */
#include "gwd/reqctx.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "gwd/conn.h"
#include "gwd/reload.h"
#include "gwd/worker.h"

#define MAX_FREE_REQS 1024
#define MAX_FREE_CHUNKS 256
#define MAX_FREE_BODIES 8
#define MAX_CACHED_BODY (2u * 1024 * 1024) /* larger body buffers are freed, not kept */

struct gwd_chunk {
	struct gwd_chunk *next;
	size_t cap;            /* data bytes; GWD_CHUNK_SIZE for recyclable chunks */
	_Alignas(16) char data[];
};

/* A cached body buffer: the header sits at the start of the block. */
struct gwd_bodybuf {
	struct gwd_bodybuf *next;
	size_t cap;
};
#define BODY_HDR 16 /* bytes reserved for struct gwd_bodybuf in front of the data */

/* Reset <r> for a new request of worker <w>, keeping nothing of the last. */
static void req_clear(struct gwd_req *r, struct gwd_worker *w)
{
	/* clear the fixed part only: the arena bytes need no clearing */
	memset(r, 0, offsetof(struct gwd_req, arena0));
	r->w = w;
	r->content_length = UINT64_MAX;
	r->body_limit = GWD_BODY_DEFAULT_LIMIT; /* the route's, once matched */
	r->cors_index = UINT32_MAX;
	r->resp_tail = &r->resp_hdrs;
	r->arena_p = r->arena0;
	r->arena_left = sizeof r->arena0;
}

struct gwd_req *gwd_req_get(struct gwd_worker *w)
{
	struct gwd_req *r = w->free_reqs;

	if (r) {
		w->free_reqs = r->next_free;
		w->nfree_reqs--;
	} else {
		/* C17: the size must be a multiple of the alignment */
		r = aligned_alloc(64, (sizeof *r + 63) & ~(size_t)63);
		if (!r)
			return NULL;
	}
	req_clear(r, w);
	return r;
}

/* Give body buffer <p> (data pointer, <cap> bytes) back to <w>, or free it. */
static void body_release(struct gwd_worker *w, char *p, size_t cap, int own)
{
	struct gwd_bodybuf *bc = (struct gwd_bodybuf *)(void *)(p - BODY_HDR);
	unsigned n = 0;

	if (own && cap <= MAX_CACHED_BODY) {
		for (struct gwd_bodybuf *x = w->free_body; x; x = x->next)
			n++;
		if (n < MAX_FREE_BODIES) {
			bc->cap = cap;
			bc->next = w->free_body;
			w->free_body = bc;
			return;
		}
	}
	free(bc);
}

void gwd_req_put(struct gwd_req *r)
{
	struct gwd_worker *w = r->w;
	int own = w == gwd_worker_self();
	struct gwd_chunk *c, *next;

	for (c = r->chunks; c; c = next) {
		next = c->next;
		if (own && c->cap == GWD_CHUNK_SIZE && w->nfree_chunks < MAX_FREE_CHUNKS) {
			c->next = w->free_chunks;
			w->free_chunks = c;
			w->nfree_chunks++;
		} else {
			free(c);
		}
	}
	r->chunks = NULL;
	if (r->body) {
		body_release(w, r->body, r->body_cap, own);
		r->body = NULL;
	}
	if (own && w->nfree_reqs < MAX_FREE_REQS) {
		r->next_free = w->free_reqs;
		w->free_reqs = r;
		w->nfree_reqs++;
	} else {
		free(r);
	}
}

void *gwd_req_alloc(struct gwd_req *r, size_t n)
{
	struct gwd_worker *w = r->w;
	struct gwd_chunk *c;
	size_t pad, need;
	char *p;

	pad = (16 - ((uintptr_t)r->arena_p & 15)) & 15;
	if (n <= r->arena_left && pad <= r->arena_left - n) {
		p = r->arena_p + pad;
		r->arena_p = p + n;
		r->arena_left -= n + pad;
		return p;
	}
	if (n > SIZE_MAX - 64)
		return NULL;
	need = (n + 15) & ~(size_t)15;
	if (need <= GWD_CHUNK_SIZE && w == gwd_worker_self() && w->free_chunks) {
		c = w->free_chunks;
		w->free_chunks = c->next;
		w->nfree_chunks--;
	} else {
		size_t cap = need <= GWD_CHUNK_SIZE ? GWD_CHUNK_SIZE : need;

		c = aligned_alloc(16, (sizeof *c + cap + 15) & ~(size_t)15);
		if (!c)
			return NULL;
		c->cap = cap;
	}
	c->next = r->chunks;
	r->chunks = c;
	/* the rest of a standard chunk becomes the current arena */
	r->arena_p = c->data + need;
	r->arena_left = c->cap - need;
	return c->data;
}

char *gwd_req_strdup(struct gwd_req *r, const char *s, size_t n)
{
	char *p = n < SIZE_MAX ? gwd_req_alloc(r, n + 1) : NULL;

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int gwd_req_body_reserve(struct gwd_req *r, size_t n)
{
	struct gwd_worker *w = r->w;
	struct gwd_bodybuf **pp, *bc;
	size_t need, cap;
	char *nb;

	if (n > SIZE_MAX / 2 - r->body_len)
		return -1;
	need = r->body_len + n;
	if (need <= r->body_cap)
		return 0;
	/* a cached buffer that is large enough, from this thread's list */
	if (w == gwd_worker_self()) {
		for (pp = &w->free_body; (bc = *pp) != NULL; pp = &bc->next) {
			if (bc->cap >= need) {
				*pp = bc->next;
				nb = (char *)bc + BODY_HDR;
				cap = bc->cap;
				goto got;
			}
		}
	}
	cap = r->body_cap ? r->body_cap * 2 : 64 * 1024;
	while (cap < need)
		cap *= 2;
	bc = malloc(BODY_HDR + cap);
	if (!bc)
		return -1;
	nb = (char *)bc + BODY_HDR;
got:
	if (r->body) {
		memcpy(nb, r->body, r->body_len);
		body_release(w, r->body, r->body_cap, w == gwd_worker_self());
	}
	r->body = nb;
	r->body_cap = cap;
	return 0;
}

/* A header record for <name>/<value> copied into <r>'s arena, or NULL. */
static struct gwd_hdr *hdr_new(struct gwd_req *r, const char *name, const char *value)
{
	struct gwd_hdr *h = gwd_req_alloc(r, sizeof *h);
	size_t nl = strlen(name), vl = value ? strlen(value) : 0;

	if (!h)
		return NULL;
	h->next = NULL;
	h->name = gwd_req_strdup(r, name, nl);
	h->value = gwd_req_strdup(r, value ? value : "", vl);
	if (!h->name || !h->value)
		return NULL;
	h->nlen = (uint32_t)nl;
	h->vlen = (uint32_t)vl;
	return h;
}

int gwd_req_add_resp_header(struct gwd_req *r, const char *name, const char *value)
{
	struct gwd_hdr *h = hdr_new(r, name, value);

	if (!h)
		return -1;
	*r->resp_tail = h;
	r->resp_tail = &h->next;
	return 0;
}

int gwd_req_add_resp_header_ref(struct gwd_req *r, const char *name, size_t nlen,
				const char *value, size_t vlen)
{
	struct gwd_hdr *h = gwd_req_alloc(r, sizeof *h);

	if (!h)
		return -1;
	h->next = NULL;
	h->name = name;
	h->value = value;
	h->nlen = (uint32_t)nlen;
	h->vlen = (uint32_t)vlen;
	*r->resp_tail = h;
	r->resp_tail = &h->next;
	return 0;
}

void gwd_req_del_resp_header(struct gwd_req *r, const char *name)
{
	struct gwd_hdr **pp = &r->resp_hdrs, *h;

	r->resp_tail = &r->resp_hdrs;
	while ((h = *pp) != NULL) {
		if (strcasecmp(h->name, name) == 0) {
			*pp = h->next;
			continue;
		}
		pp = &h->next;
		r->resp_tail = pp;
	}
}

const char *gwd_req_header(struct gwd_req *r, const char *name, size_t *len)
{
	const char *v = NULL;
	size_t vl = 0;

	for (struct gwd_hdr *h = r->req_add; h; h = h->next)
		if (strcasecmp(h->name, name) == 0) {
			if (len)
				*len = h->vlen;
			return h->value;
		}
	for (struct gwd_hdr *h = r->req_del; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return NULL;
	if (!r->mhd || MHD_lookup_connection_value_n(r->mhd, MHD_HEADER_KIND, name, strlen(name),
						     &v, &vl) != MHD_YES)
		return NULL;
	if (len)
		*len = vl;
	return v;
}

void gwd_req_set_user(struct gwd_req *r, const char *name, size_t len)
{
	if (len > sizeof r->user - 1)
		len = sizeof r->user - 1;
	memcpy(r->user, name, len);
	r->user[len] = '\0';
	r->user_len = (uint8_t)len;
}

const char *gwd_req_peer_ip(const struct gwd_req *r)
{
	return r->conn ? r->conn->ip : "";
}

int gwd_req_peer_trusted(const struct gwd_req *r)
{
	const struct gw_settings *s = &r->gen->settings;
	struct gwd_clientip ip;

	if (!s->trusted_count || !r->conn || !r->conn->family ||
	    s->trusted_first + s->trusted_count > r->gen->ncidrs)
		return 0;
	if (gwd_clientip_from_sockaddr(&ip, (const struct sockaddr *)&r->conn->addr) != 0)
		return 0;
	return gwd_clientip_in_cidrs(&ip, r->gen->cidrs + s->trusted_first, s->trusted_count);
}

/* The last X-Forwarded-Proto field line seen (a header walk). */
static enum MHD_Result last_xfp(void *cls, enum MHD_ValueKind kind, const char *key,
				size_t klen, const char *value, size_t vlen)
{
	struct gw_str *last = cls;

	(void)kind;
	if (key && value && klen == 17 && strncasecmp(key, "x-forwarded-proto", 17) == 0) {
		last->p = value;
		last->len = vlen;
	}
	return MHD_YES;
}

int gwd_req_https(struct gwd_req *r, int tls)
{
	struct gw_str v = { NULL, 0 };
	size_t b;

	if (tls)
		return 1;
	if (!r->mhd || !gwd_req_peer_trusted(r))
		return 0;
	MHD_get_connection_values_n(r->mhd, MHD_HEADER_KIND, last_xfp, &v);
	if (!v.p)
		return 0;
	/* the proxy nearest to gwd speaks last: the last element of a list */
	b = v.len;
	while (b && v.p[b - 1] != ',')
		b--;
	while (b < v.len && (v.p[b] == ' ' || v.p[b] == '\t'))
		b++;
	while (v.len > b && (v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
		v.len--;
	return v.len - b == 5 && strncasecmp(v.p + b, "https", 5) == 0;
}
