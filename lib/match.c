/* The matcher (match.h): which route serves (host, method, path).
 *
 * The walk is written once, over a small table of accessors (struct
 * match_src), so that the very same code runs on a loaded blob in gwd and
 * `gwc match`, and on the in-memory trie of gw_trie_build() in the unit tests
 * (tests/lib/match.c), which is how the compile-time analysis of lib/trie.c is
 * checked against what the matcher actually does.
 *
 * The walk is a depth-first search with an explicit stack of fixed size: one
 * frame per path segment consumed, each frame going through the states
 *
 *   ARRIVE -> LITERAL -> PARAM -> WILD -> (popped)
 *
 * i.e. try the node's term group when the path is used up; else the literal
 * edge equal to the next segment (binary search), then the {param} child,
 * then the node's wild group with the rest of the path.  Backtracking is
 * popping a frame.  The blob is hostile even after verification: its trie
 * could be a DAG that a naive walk would explore exponentially, or deeper
 * than any pattern gwc accepts, so a walk refuses to descend past
 * MATCH_MAX_DEPTH frames or GW_MAX_PARAMS parameters, and stops after
 * visiting as many nodes as the blob has (a tree walk never visits a node
 * twice, so only a corrupt blob hits that bound).
 *
 * The walk's functions are forced inline into gw_match(), whose accessor
 * table is a constant: the compiler then calls gw_blob_node() and friends
 * directly instead of through pointers, on the one path where it matters.
 */
#include "lib/match.h"

#include <string.h>

#include "lib/blob-t.h"

#define MATCH_MAX_DEPTH 65 /* the root + the 64 segments lib/trie.c accepts */

/* Where the walk reads the trie from: a blob in production, gw_trie_build()'s
 * arrays in the unit tests.  Each accessor returns 0, or -1 for an index out
 * of range (the walk then treats the item as absent). */
struct match_src {
	const void *ctx;
	uint32_t nhosts; /* host table size, the any-host entry 0 included */
	uint32_t nnodes; /* the most nodes one match may visit */
	int (*host)(const void *ctx, uint32_t i, struct gw_str *name, uint32_t *root);
	int (*node)(const void *ctx, uint32_t i, struct gw_trie_node *out);
	int (*edge)(const void *ctx, uint32_t i, struct gw_trie_edge *out);
	int (*methods)(const void *ctx, uint32_t route, unsigned *out); /* route's mask */
};

enum { ST_ARRIVE, ST_LITERAL, ST_PARAM, ST_WILD };

struct match_frame {
	struct gw_trie_node n; /* decoded once, kept for backtracking */
	uint32_t pos;          /* path[pos..len) is left: empty or "/seg..." */
	uint32_t end;          /* end of the next segment */
	uint8_t state;
	uint8_t nparams;       /* parameters bound on the way here */
};

/* Find the route for <method> in the group of <count> routes at <first>.
 * Adds every route's methods to <*allow> (for a 405).  A route naming
 * <method> wins; for HEAD, failing that, the group's GET route.  Returns 1
 * and sets <*route>, or 0. */
static inline __attribute__((always_inline)) int
match_group(const struct match_src *s, uint32_t first, uint32_t count, unsigned method,
	    uint16_t *allow, uint32_t *route)
{
	uint32_t get = GW_NONE;

	for (uint32_t i = 0; i < count; i++) {
		unsigned mm;

		if (s->methods(s->ctx, first + i, &mm) < 0)
			continue;
		*allow = (uint16_t)(*allow | mm);
		if (mm & method) {
			*route = first + i;
			return 1;
		}
		if (method == GW_M_HEAD && (mm & GW_M_GET) && get == GW_NONE)
			get = first + i;
	}
	if (get != GW_NONE) {
		*route = get;
		return 1;
	}
	return 0;
}

/* Binary search the literal edges of <n> for <seg> (<slen> bytes), ordered as
 * lib/trie.c sorts them: label bytes by memcmp, then length.  Returns the
 * child node, or GW_NONE. */
static inline __attribute__((always_inline)) uint32_t
match_edge(const struct match_src *s, const struct gw_trie_node *n, const char *seg, uint32_t slen)
{
	uint32_t lo = 0, hi = n->lit_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct gw_trie_edge e;
		int c;

		if (s->edge(s->ctx, n->lit_first + mid, &e) < 0)
			return GW_NONE;
		/* Most probes differ in the first byte: decide those without a
		 * call to memcmp (labels are never empty; <seg> may be). */
		if (slen && e.label.len && (unsigned char)seg[0] != (unsigned char)e.label.p[0])
			c = (unsigned char)seg[0] < (unsigned char)e.label.p[0] ? -1 : 1;
		else if ((c = memcmp(seg, e.label.p, slen < e.label.len ? slen : e.label.len)) == 0)
			c = slen < e.label.len ? -1 : slen > e.label.len;
		if (c == 0)
			return e.child;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return GW_NONE;
}

/* Walk the tree at <root> for <method> and <path> (<len> bytes, normalised;
 * "/" is the root).  <*budget> is the number of nodes this walk may still
 * visit (decremented).  Returns 1 and fills <m> (route, params, rest) when a
 * route answers; else 0, having added the methods of every route that matched
 * the path to <*allow>.  <m>'s params may be scribbled on either way. */
static inline __attribute__((always_inline)) int
match_walk(const struct match_src *s, uint32_t root, unsigned method, const char *path,
	   uint32_t len, struct gw_match *m, uint16_t *allow, uint32_t *budget)
{
	struct match_frame fr[MATCH_MAX_DEPTH];
	int top = 0;
	uint32_t route;

	if (len == 0 || path[0] != '/' || *budget == 0)
		return 0;
	if (len == 1)
		len = 0; /* "/": no segment */
	if (s->node(s->ctx, root, &fr[0].n) < 0)
		return 0;
	(*budget)--;
	fr[0].pos = 0;
	fr[0].state = ST_ARRIVE;
	fr[0].nparams = 0;
	while (top >= 0) {
		struct match_frame *f = &fr[top];
		uint32_t child;

		switch (f->state) {
		case ST_ARRIVE:
			if (f->pos == len) {
				/* The path ends here: only the term group can take it
				 * (a star needs one segment or more). */
				if (f->n.term_count &&
				    match_group(s, f->n.route_first, f->n.term_count, method, allow,
						&route)) {
					m->route = route;
					m->nparams = f->nparams;
					m->rest_off = m->rest_len = 0;
					return 1;
				}
				top--;
				continue;
			}
			f->end = f->pos + 1;
			while (f->end < len && path[f->end] != '/')
				f->end++;
			f->state = ST_LITERAL;
			/* fall through */
		case ST_LITERAL:
			f->state = ST_PARAM;
			if (!f->n.lit_count)
				continue;
			child = match_edge(s, &f->n, path + f->pos + 1, f->end - f->pos - 1);
			if (child == GW_NONE || top + 1 >= MATCH_MAX_DEPTH || *budget == 0 ||
			    s->node(s->ctx, child, &fr[top + 1].n) < 0)
				continue;
			(*budget)--;
			fr[top + 1].pos = f->end;
			fr[top + 1].state = ST_ARRIVE;
			fr[top + 1].nparams = f->nparams;
			top++;
			continue;
		case ST_PARAM:
			f->state = ST_WILD;
			if (f->n.param_child == GW_NONE || f->nparams >= GW_MAX_PARAMS ||
			    top + 1 >= MATCH_MAX_DEPTH || *budget == 0 ||
			    s->node(s->ctx, f->n.param_child, &fr[top + 1].n) < 0)
				continue;
			(*budget)--;
			m->params[f->nparams].off = f->pos + 1;
			m->params[f->nparams].len = f->end - f->pos - 1;
			fr[top + 1].pos = f->end;
			fr[top + 1].state = ST_ARRIVE;
			fr[top + 1].nparams = (uint8_t)(f->nparams + 1);
			top++;
			continue;
		default: /* ST_WILD */
			if (f->n.wild_count &&
			    match_group(s, f->n.route_first + f->n.term_count, f->n.wild_count, method,
					allow, &route)) {
				m->route = route;
				m->nparams = f->nparams;
				m->rest_off = f->pos + 1;
				m->rest_len = len - f->pos - 1;
				return 1;
			}
			top--;
			continue;
		}
	}
	return 0;
}

/* Compare request host <h> (<hlen> bytes, any case) with conf host <c>
 * (lower-case): bytes after folding <h> to lower case, then length. */
static int match_hostcmp(const char *h, size_t hlen, const struct gw_str *c)
{
	size_t n = hlen < c->len ? hlen : c->len;

	for (size_t i = 0; i < n; i++) {
		unsigned char a = (unsigned char)h[i], b = (unsigned char)c->p[i];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a + ('a' - 'A'));
		if (a != b)
			return a < b ? -1 : 1;
	}
	return hlen < c->len ? -1 : hlen > c->len;
}

/* Binary search <s>'s host table (sorted by bytes; entry 0, the any-host
 * tree, left out) for <h> (<hlen> bytes, any case).  Returns the host index,
 * or 0 when absent. */
static uint32_t match_find_host(const struct match_src *s, const char *h, size_t hlen)
{
	uint32_t lo = 1, hi = s->nhosts;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, root;
		struct gw_str name;
		int c;

		if (s->host(s->ctx, mid, &name, &root) < 0)
			return 0;
		c = match_hostcmp(h, hlen, &name);
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* The host index for the Host header value <h>: its ":port" is ignored, and
 * "[v6]:port" is looked up as "[v6]", then as "v6"; one trailing '.' (the
 * DNS root, "api.example.com." is "api.example.com" to resolvers and to
 * backends routing by Host) is ignored too, or such a request would leave
 * its host's routes for the any-host ones.  0 when no tree. */
static uint32_t match_host(const struct match_src *s, const char *h, size_t hlen)
{
	uint32_t hi;

	if (hlen == 0)
		return 0;
	if (h[0] == '[') {
		size_t close = 1;

		while (close < hlen && h[close] != ']')
			close++;
		if (close == hlen)
			return 0; /* no ']': not a host we could have */
		hi = match_find_host(s, h, close + 1);
		return hi ? hi : match_find_host(s, h + 1, close - 1);
	}
	for (size_t i = 0; i < hlen; i++)
		if (h[i] == ':') {
			hlen = i;
			break;
		}
	if (hlen > 1 && h[hlen - 1] == '.' && h[hlen - 2] != '.')
		hlen--;
	return match_find_host(s, h, hlen);
}

/* gw_match() over any source: the host's tree, then the any-host tree; the
 * 405 Allow list is the union over both.  Returns an enum gw_match_result. */
static inline __attribute__((always_inline)) int
match_run(const struct match_src *s, const char *host, size_t hlen, unsigned method,
	  const char *path, size_t len, struct gw_match *m)
{
	uint32_t budget = s->nnodes, hi, root;
	uint16_t allow = 0;
	struct gw_str name;

	m->route = GW_NONE;
	m->allow = 0;
	m->nparams = 0;
	m->rest_off = m->rest_len = 0;
	if (len > UINT32_MAX - 1 || s->nhosts == 0)
		return GW_MATCH_NOT_FOUND;
	hi = match_host(s, host, hlen);
	if (hi && s->host(s->ctx, hi, &name, &root) == 0 && root != GW_NONE &&
	    match_walk(s, root, method, path, (uint32_t)len, m, &allow, &budget))
		return GW_MATCH_FOUND;
	if (s->host(s->ctx, 0, &name, &root) == 0 && root != GW_NONE &&
	    match_walk(s, root, method, path, (uint32_t)len, m, &allow, &budget))
		return GW_MATCH_FOUND;
	m->nparams = 0;
	if (!allow)
		return GW_MATCH_NOT_FOUND;
	if (allow & GW_M_GET)
		allow |= GW_M_HEAD;
	m->allow = allow;
	return GW_MATCH_NO_METHOD;
}

/* ---- on a blob ----------------------------------------------------------- */

/* The four adapters below turn lib/blob.h's accessors into struct
 * match_src's: <ctx> is the struct gw_blob; each returns what the accessor
 * does (0, or -1 for an index out of range). */

/* Host <i>: its name and root node. */
static int match_blob_host(const void *ctx, uint32_t i, struct gw_str *name, uint32_t *root)
{
	return gw_blob_host(ctx, i, name, root);
}

/* Node <i>. */
static int match_blob_node(const void *ctx, uint32_t i, struct gw_trie_node *out)
{
	return gw_blob_node(ctx, i, out);
}

/* Edge <i>. */
static int match_blob_edge(const void *ctx, uint32_t i, struct gw_trie_edge *out)
{
	return gw_blob_edge(ctx, i, out);
}

/* The methods mask of route <i> (blob order, i.e. trie order). */
static int match_blob_methods(const void *ctx, uint32_t i, unsigned *out)
{
	struct gw_route r;

	if (gw_blob_route(ctx, i, &r) < 0)
		return -1;
	*out = r.methods;
	return 0;
}

/* Match (match.h) on blob <b>.  A path of 4 GiB or more cannot be described
 * by <m>'s offsets and is not found. */
int gw_match(const struct gw_blob *b, const char *host, size_t hlen, unsigned method,
	     const char *path, size_t len, struct gw_match *m)
{
	const struct match_src s = {
		.ctx = b,
		.nhosts = gw_blob_count(b, GW_BLOB_HOSTS),
		.nnodes = gw_blob_count(b, GW_BLOB_NODES),
		.host = match_blob_host,
		.node = match_blob_node,
		.edge = match_blob_edge,
		.methods = match_blob_methods,
	};

	return match_run(&s, host, hlen, method, path, len, m);
}
