/* The route trie builder and its compile-time analysis (trie.h).
 *
 * Why build it at compile time: gwd then walks a ready-made, verified tree in
 * the mapping and never allocates; and gwc can prove two things about the
 * route set before it is deployed (docs/routes.md, "Compile-time checks"):
 * no two routes can take the same request, and every route can be reached.
 *
 * How (one sort, one pass, one breadth-first numbering):
 *   1. each pattern is cut into segments (literal / {param}) plus a flag for a
 *      trailing star; too many segments or parameters is an error;
 *   2. the routes are sorted by (host, segments, shorter first, term before
 *      wild, conf index), literal < {param} at each segment and literals by
 *      bytes, so that every node's subtree is one run of the sorted list and
 *      its children come in edge order: the tree is built in one pass, each
 *      route sharing the nodes of its prefix with the route sorted before it,
 *      and nodes are created in depth-first pre-order;
 *   3. the analysis runs on that build-time tree;
 *   4. only when it found nothing, the tree is numbered breadth first (roots
 *      first, in host order, so roots[h] == h), which gives every node its
 *      edges contiguously and children indexes above their parent's, and
 *      order[] lists the routes node by node (term group, then wild group,
 *      each by conf index).
 * The same conf always yields the same trie: the sort is a total order.
 *
 * The analysis, under the matching rules of lib/match.h (a literal beats a
 * {param}, which beats a trailing star; depth-first with backtracking; the
 * first node holding a route for the method wins; HEAD is served by a GET
 * route of the group unless a route of the group names HEAD):
 *
 *   Conflict.  Two routes of one host whose patterns are equivalent ({param}
 *   names do not matter) end in the same node and the same group (both with
 *   or both without a trailing star); when their methods overlap, the matcher
 *   would pick one arbitrarily: an error at the later one (conf order).
 *   A GET route and a HEAD route in one group do not conflict: the HEAD route
 *   takes HEAD requests, by rule.
 *
 *   Unreachable.  Let "eff(r)" be the methods route r answers: its own, plus
 *   HEAD when it has GET.  A request for method m reaches node N by choosing,
 *   for every {param} segment, a value no literal sibling has (there are
 *   infinitely many), so that no literal branch and no wildcard above N is
 *   tried first; therefore
 *     - a route without a trailing star is always reachable (through the
 *       path with fresh values, the walk arrives at its node before any
 *       wildcard above it is tried, and the node's term group answers);
 *     - a route W with a trailing star at node N, for method m, receives
 *       N/s1/.../sk (k >= 1) unless something deeper takes it first.  With
 *       fresh segments only the {param} chain under N can: C1 = N's {param}
 *       child, C2 = C1's, ...  Path length k is taken iff C_k has a term
 *       route answering m, or some C_j (j < k) has a wild route answering
 *       m.  So W is unreachable for m iff C1 exists, C1's term group answers
 *       m, and full(C1, m), where full(X, m) = X's wild group answers m, or
 *       X's {param} child Y exists, Y's term group answers m and full(Y, m).
 *       Every path W accepts is then taken by the chain, since fresh values
 *       are the only ones W could ever get.
 *     - HEAD via GET enters only through eff(): a HEAD-only wildcard route
 *       under a chain of GET routes is unreachable; a GET wildcard route
 *       shadowed for GET is shadowed for its implicit HEAD too.
 *     - Trees of different hosts never shadow each other: the any-host tree
 *       is tried for every host (and for requests without one) after the
 *       host's own tree, so a host-specific duplicate of an any-host route is
 *       neither a conflict nor makes the any-host route unreachable.
 *   There is no other way for a route to be unreachable: a route is
 *   reported when any of its methods is.
 */
#include "lib/trie.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/diag.h"
#include "lib/error.h"
#include "lib/match.h" /* GW_MAX_PARAMS */

#define TRIE_MAX_SEGS 64 /* segments per pattern, a trailing star included */

enum { SEG_LIT = 0, SEG_PARAM = 1 };

struct trie_seg {
	uint32_t off, len; /* into the route's pattern */
	uint8_t kind;
};

/* A route's parsed pattern. */
struct trie_rt {
	uint32_t seg_first; /* into trie_build.segs */
	uint16_t nseg;      /* segments before a trailing star */
	uint8_t wild;       /* ends in a star */
	uint8_t ok;         /* parsed within limits: part of the tree */
};

/* A build-time node: literal children as a sorted linked list. */
struct trie_mnode {
	uint32_t first_child, last_child, next_sibling;
	uint32_t param_child;
	uint32_t parent;       /* GW_NONE for a root */
	const char *label;     /* literal: slice of a pattern; NULL: {param} or root */
	uint32_t label_len;
	uint32_t route_start;  /* into trie_build.sorted */
	uint32_t nterm, nwild; /* routes ending here, without / with a star */
};

struct trie_build {
	const struct gw_conf *conf;
	struct gw_diag *d;
	struct trie_seg *segs;
	uint32_t nsegs, capsegs;
	struct trie_rt *rts;   /* one per conf route */
	uint32_t *sorted;      /* conf indexes of the routes in the tree */
	uint32_t nsorted;
	struct trie_mnode *mn;
	uint32_t nmn, capmn;
	int errors;
};

/* ---- parsing ------------------------------------------------------------ */

/* Append a segment to <b>.  0, or -1 when memory runs out. */
static int trie_push_seg(struct trie_build *b, uint32_t off, uint32_t len, uint8_t kind)
{
	struct trie_seg *s = gw_vec_push((void **)&b->segs, b->nsegs, &b->capsegs, sizeof *s);

	if (!s)
		return -1;
	s->off = off;
	s->len = len;
	s->kind = kind;
	b->nsegs++;
	return 0;
}

/* Print route <r> as the messages name it: "GET,PUT /u/{id}", or with its
 * name first when it has one other than its pattern. */
static void trie_put_route(FILE *f, const struct gw_route *r)
{
	int named = r->name.len && !(r->name.len == r->pattern.len &&
				     memcmp(r->name.p, r->pattern.p, r->name.len) == 0);
	const char *sep = "";

	fputs("route \"", f);
	if (named)
		fprintf(f, "%.*s\" (", (int)r->name.len, r->name.p);
	for (unsigned bit = 1; bit <= GW_M_ALL; bit <<= 1)
		if (r->methods & bit) {
			fprintf(f, "%s%s", sep, gw_method_name(bit));
			sep = ",";
		}
	fprintf(f, " %.*s%s", (int)r->pattern.len, r->pattern.p, named ? ")" : "\"");
}

/* Print the place of conf route <r> as FILE:LINE:COL. */
static void trie_put_place(FILE *f, const struct gw_conf *conf, const struct gw_route *r)
{
	const char *file = r->place.file < conf->files.n ? conf->files.v[r->place.file].p : "?";

	fprintf(f, "%s:%u:%u", file, (unsigned)r->place.line, (unsigned)r->place.col);
}

/* Report a formatted error at route <ri> of <b>'s conf: the message is
 * "<route> " then <what> (already formatted).  Counts it in b->errors. */
static void trie_error(struct trie_build *b, uint32_t ri, const char *what)
{
	const struct gw_route *r = &b->conf->routes.v[ri];
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	b->errors++;
	if (!f) {
		gw_diag_error(b->d, &r->place, "%s", what);
		return;
	}
	trie_put_route(f, r);
	fprintf(f, " %s", what);
	if (fclose(f) != 0) {
		free(buf);
		gw_diag_error(b->d, &r->place, "%s", what);
		return;
	}
	gw_diag_error(b->d, &r->place, "%s", buf);
	free(buf);
}

/* Cut the pattern of conf route <ri> into segments.  Returns 0 (rts[ri].ok
 * tells whether the route joins the tree: a refused pattern is reported to
 * the diag), or -1 when memory runs out. */
static int trie_parse(struct trie_build *b, uint32_t ri)
{
	const struct gw_route *r = &b->conf->routes.v[ri];
	struct trie_rt *rt = &b->rts[ri];
	const char *p = r->pattern.p;
	uint32_t len = r->pattern.len, i = 1, nparams = 0, total = 0;
	char msg[96];

	rt->seg_first = b->nsegs;
	if (r->host >= b->conf->hosts.n) {
		trie_error(b, ri, "names a host that is not in the host table");
		return 0;
	}
	if (len == 0 || p[0] != '/') {
		trie_error(b, ri, "has a path that does not start with '/'");
		return 0;
	}
	if (len == 1) {
		rt->ok = 1; /* "/": the root itself */
		return 0;
	}
	while (i <= len) {
		uint32_t start = i, slen;

		while (i < len && p[i] != '/')
			i++;
		slen = i - start;
		total++;
		/* The parser enforces the pattern grammar; what is checked here
		 * is what the tree's shape depends on. */
		if (slen == 0) {
			trie_error(b, ri, "has an empty path segment");
			return 0;
		}
		if (slen == 1 && p[start] == '*') {
			if (i < len) {
				trie_error(b, ri, "has a '*' segment that is not the last one");
				return 0;
			}
			rt->wild = 1;
		} else if (p[start] == '{') {
			if (slen < 3 || p[i - 1] != '}') {
				trie_error(b, ri, "has a malformed {param} segment");
				return 0;
			}
			nparams++;
			if (trie_push_seg(b, start, slen, SEG_PARAM) < 0)
				return -1;
		} else if (trie_push_seg(b, start, slen, SEG_LIT) < 0) {
			return -1;
		}
		i++; /* past the '/' (or the end) */
	}
	if (total > TRIE_MAX_SEGS) {
		snprintf(msg, sizeof msg, "has %u path segments; at most %u are allowed",
			 (unsigned)total, (unsigned)TRIE_MAX_SEGS);
		trie_error(b, ri, msg);
		return 0;
	}
	if (nparams > GW_MAX_PARAMS) {
		snprintf(msg, sizeof msg, "has %u path parameters; at most %u are allowed",
			 (unsigned)nparams, (unsigned)GW_MAX_PARAMS);
		trie_error(b, ri, msg);
		return 0;
	}
	rt->nseg = (uint16_t)(b->nsegs - rt->seg_first);
	rt->ok = 1;
	return 0;
}

/* ---- sorting and building ---------------------------------------------- */

/* Compare segment <x> of pattern <px> with segment <y> of pattern <py>:
 * literal before {param}; literals by bytes (memcmp, then length); all
 * {param}s are equal. */
static int trie_cmp_seg(const char *px, const struct trie_seg *x, const char *py,
			const struct trie_seg *y)
{
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->kind == SEG_PARAM)
		return 0;
	c = memcmp(px + x->off, py + y->off, x->len < y->len ? x->len : y->len);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* The sort of step 2 compares each route with some seventeen others at 100k
 * routes: segment by segment, with a call per segment, that is most of a
 * build.  So each route gets a sort key once, bytes whose memcmp order is
 * the order of the file comment:
 *
 *   host (4 bytes, big-endian)
 *   per segment: a literal as 0x01, its bytes, 0x00; a {param} as 0x02
 *   0x00 (no more segments: fewer segments sort first)
 *   the trailing star, 0 or 1
 *   the conf index (4 bytes, big-endian)
 *
 * A literal byte 0x00 or 0x01 is written 0x01 then itself plus one, so that
 * the 0x00 ending a literal sorts before any byte of a longer one.  Keys are
 * prefix-free (each part ends where its format says), so memcmp over the
 * shorter length decides. */
struct trie_key {
	uint32_t off, len; /* in trie_build.keys */
	uint32_t ri;       /* conf route index */
};

/* Append byte <c> to the key being written at <*p>. */
#define TRIE_PUT(p, c) (*(p)++ = (uint8_t)(c))

/* Write the sort key of conf route <ri> (parsed, ok) at <p>, which has room
 * for trie_key_room(); returns the end. */
static uint8_t *trie_key_write(const struct trie_build *b, uint32_t ri, uint8_t *p)
{
	const struct gw_route *r = &b->conf->routes.v[ri];
	const struct trie_rt *rt = &b->rts[ri];

	for (int k = 3; k >= 0; k--)
		TRIE_PUT(p, r->host >> (8 * k));
	for (uint32_t i = 0; i < rt->nseg; i++) {
		const struct trie_seg *sg = &b->segs[rt->seg_first + i];

		if (sg->kind == SEG_PARAM) {
			TRIE_PUT(p, 0x02);
			continue;
		}
		TRIE_PUT(p, 0x01);
		for (uint32_t j = 0; j < sg->len; j++) {
			uint8_t c = (uint8_t)r->pattern.p[sg->off + j];

			if (c <= 0x01) {
				TRIE_PUT(p, 0x01);
				TRIE_PUT(p, c + 1);
			} else {
				TRIE_PUT(p, c);
			}
		}
		TRIE_PUT(p, 0x00);
	}
	TRIE_PUT(p, 0x00);
	TRIE_PUT(p, rt->wild);
	for (int k = 3; k >= 0; k--)
		TRIE_PUT(p, ri >> (8 * k));
	return p;
}

/* The most bytes trie_key_write() may write for conf route <ri>. */
static size_t trie_key_room(const struct trie_build *b, uint32_t ri)
{
	return 4 + 2 * (size_t)b->conf->routes.v[ri].pattern.len + 2 * b->rts[ri].nseg + 2 + 4;
}

/* qsort order of struct trie_key: their bytes (see above). */
static int trie_cmp_key(const void *a, const void *b, void *arg)
{
	const struct trie_key *x = a, *y = b;
	const uint8_t *keys = arg;
	int c = memcmp(keys + x->off, keys + y->off, x->len < y->len ? x->len : y->len);

	return c ? c : x->len < y->len ? -1 : x->len > y->len;
}

/* Sort b->sorted (b->nsorted conf indexes) in the order of the file comment,
 * step 2, through sort keys.  0, or -1 when memory runs out. */
static int trie_sort(struct trie_build *b)
{
	struct trie_key *k = NULL;
	uint8_t *keys = NULL, *p;
	size_t room = 0;
	int rc = -1;

	for (uint32_t i = 0; i < b->nsorted; i++)
		room += trie_key_room(b, b->sorted[i]);
	if (room > UINT32_MAX)
		return -1; /* offsets are u32: more than 4 GiB of keys */
	k = malloc((b->nsorted ? b->nsorted : 1) * sizeof *k);
	keys = malloc(room ? room : 1);
	if (!k || !keys)
		goto fail;
	p = keys;
	for (uint32_t i = 0; i < b->nsorted; i++) {
		uint8_t *e = trie_key_write(b, b->sorted[i], p);

		k[i].off = (uint32_t)(p - keys);
		k[i].len = (uint32_t)(e - p);
		k[i].ri = b->sorted[i];
		p = e;
	}
	qsort_r(k, b->nsorted, sizeof *k, trie_cmp_key, keys);
	for (uint32_t i = 0; i < b->nsorted; i++)
		b->sorted[i] = k[i].ri;
	rc = 0;
fail:
	free(k);
	free(keys);
	return rc;
}

/* A new build-time node under <parent> (GW_NONE: a root).  Returns its index,
 * or GW_NONE when memory runs out.  Pointers into b->mn are invalidated. */
static uint32_t trie_new_node(struct trie_build *b, uint32_t parent)
{
	struct trie_mnode *n = gw_vec_push((void **)&b->mn, b->nmn, &b->capmn, sizeof *n);

	if (!n)
		return GW_NONE;
	n->first_child = n->last_child = n->next_sibling = GW_NONE;
	n->param_child = GW_NONE;
	n->parent = parent;
	n->route_start = GW_NONE;
	return b->nmn++;
}

/* Build the tree of the sorted routes: one root per conf host (mnodes
 * 0..hosts.n-1), then the nodes each route adds to its predecessor's prefix.
 * 0, or -1 when memory runs out. */
static int trie_grow(struct trie_build *b)
{
	const struct gw_conf *conf = b->conf;
	uint32_t stack[TRIE_MAX_SEGS + 1];
	uint32_t prev = GW_NONE;

	for (uint32_t h = 0; h < conf->hosts.n; h++)
		if (trie_new_node(b, GW_NONE) == GW_NONE)
			return -1;
	for (uint32_t k = 0; k < b->nsorted; k++) {
		uint32_t ri = b->sorted[k], common = 0, node;
		const struct gw_route *r = &conf->routes.v[ri];
		const struct trie_rt *rt = &b->rts[ri];
		struct trie_mnode *nm;

		if (prev != GW_NONE && conf->routes.v[prev].host == r->host) {
			const struct trie_rt *pt = &b->rts[prev];
			const char *pp = conf->routes.v[prev].pattern.p;

			while (common < rt->nseg && common < pt->nseg &&
			       trie_cmp_seg(r->pattern.p, &b->segs[rt->seg_first + common], pp,
					    &b->segs[pt->seg_first + common]) == 0)
				common++;
		} else {
			stack[0] = r->host;
		}
		/* The sort makes <r> the first route below stack[common] with
		 * its next segment: the nodes past <common> are new. */
		for (uint32_t i = common; i < rt->nseg; i++) {
			const struct trie_seg *s = &b->segs[rt->seg_first + i];
			uint32_t c = trie_new_node(b, stack[i]);
			struct trie_mnode *pn;

			if (c == GW_NONE)
				return -1;
			pn = &b->mn[stack[i]];
			if (s->kind == SEG_PARAM) {
				pn->param_child = c;
			} else {
				if (pn->last_child == GW_NONE)
					pn->first_child = c;
				else
					b->mn[pn->last_child].next_sibling = c;
				pn->last_child = c;
				b->mn[c].label = r->pattern.p + s->off;
				b->mn[c].label_len = s->len;
			}
			stack[i + 1] = c;
		}
		node = stack[rt->nseg];
		nm = &b->mn[node];
		if (nm->route_start == GW_NONE)
			nm->route_start = k;
		if (rt->wild)
			nm->nwild++;
		else
			nm->nterm++;
		prev = ri;
	}
	return 0;
}

/* ---- analysis ------------------------------------------------------------ */

/* The methods route <r> answers: its own, and HEAD when it has GET. */
static unsigned trie_eff(const struct gw_route *r)
{
	return r->methods | (r->methods & GW_M_GET ? GW_M_HEAD : 0u);
}

/* The route (conf index) of group <first>..+<count> of sorted[] that the
 * matcher would pick for <m>: the one naming <m>, else (HEAD) the GET one;
 * or GW_NONE. */
static uint32_t trie_answers(const struct trie_build *b, uint32_t first, uint32_t count,
			     unsigned m)
{
	uint32_t via_get = GW_NONE;

	for (uint32_t i = 0; i < count; i++) {
		const struct gw_route *r = &b->conf->routes.v[b->sorted[first + i]];

		if (r->methods & m)
			return b->sorted[first + i];
		if ((trie_eff(r) & m) && via_get == GW_NONE)
			via_get = b->sorted[first + i];
	}
	return via_get;
}

/* The route of <node>'s term group answering <m>, or GW_NONE. */
static uint32_t trie_term_for(const struct trie_build *b, uint32_t node, unsigned m)
{
	const struct trie_mnode *n = &b->mn[node];

	return n->nterm ? trie_answers(b, n->route_start, n->nterm, m) : GW_NONE;
}

/* The route of <node>'s wild group answering <m>, or GW_NONE. */
static uint32_t trie_wild_for(const struct trie_build *b, uint32_t node, unsigned m)
{
	const struct trie_mnode *n = &b->mn[node];

	return n->nwild ? trie_answers(b, n->route_start + n->nterm, n->nwild, m) : GW_NONE;
}

/* Whether the {param} chain below <node> takes every path of one segment or
 * more for method <m> (the file comment's "C1 answers m and full(C1, m)").
 * When it does and <who> is not NULL, the routes that do it are appended to
 * who[*nwho] (at most <cap>, no duplicates).  1 or 0. */
static int trie_shadowed(const struct trie_build *b, uint32_t node, unsigned m, uint32_t *who,
			 uint32_t *nwho, uint32_t cap)
{
	uint32_t chain[TRIE_MAX_SEGS + 1], nchain = 0;
	uint32_t x = b->mn[node].param_child, r;

	if (x == GW_NONE || (r = trie_term_for(b, x, m)) == GW_NONE)
		return 0;
	chain[nchain++] = r;
	for (;;) {
		uint32_t y;

		if ((r = trie_wild_for(b, x, m)) != GW_NONE) {
			chain[nchain++] = r;
			break;
		}
		y = b->mn[x].param_child;
		if (y == GW_NONE || (r = trie_term_for(b, y, m)) == GW_NONE)
			return 0;
		if (nchain == TRIE_MAX_SEGS) /* deeper than any accepted pattern */
			return 0;
		chain[nchain++] = r;
		x = y;
	}
	for (uint32_t i = 0; who && i < nchain; i++) {
		uint32_t j = 0;

		while (j < *nwho && who[j] != chain[i])
			j++;
		if (j == *nwho && *nwho < cap)
			who[(*nwho)++] = chain[i];
	}
	return 1;
}

/* Write to <f> a value for a {param} (or star) segment under <parent> that
 * none of its literal children has: "x", "x2", "x3", ... */
static void trie_put_fresh(FILE *f, const struct trie_build *b, uint32_t parent)
{
	char v[16];

	for (unsigned k = 1;; k++) {
		uint32_t c;

		if (k == 1)
			snprintf(v, sizeof v, "x");
		else
			snprintf(v, sizeof v, "x%u", k);
		for (c = b->mn[parent].first_child; c != GW_NONE; c = b->mn[c].next_sibling)
			if (b->mn[c].label_len == strlen(v) && memcmp(b->mn[c].label, v, strlen(v)) == 0)
				break;
		if (c == GW_NONE)
			break;
	}
	fputs(v, f);
}

/* Write to <f> an example request path reaching <node>; with <extra>, one
 * more segment below it (for a star).  {param} values avoid literal siblings. */
static void trie_put_path(FILE *f, const struct trie_build *b, uint32_t node, int extra)
{
	uint32_t up[TRIE_MAX_SEGS + 2], n = 0;

	for (uint32_t x = node; b->mn[x].parent != GW_NONE && n < TRIE_MAX_SEGS + 1;
	     x = b->mn[x].parent)
		up[n++] = x;
	if (n == 0 && !extra)
		fputc('/', f);
	while (n--) {
		const struct trie_mnode *x = &b->mn[up[n]];

		fputc('/', f);
		if (x->label)
			fprintf(f, "%.*s", (int)x->label_len, x->label);
		else
			trie_put_fresh(f, b, x->parent);
	}
	if (extra) {
		fputc('/', f);
		trie_put_fresh(f, b, node);
	}
}

/* Write " (host H)" to <f> for conf route <ri> of a host tree. */
static void trie_put_host(FILE *f, const struct trie_build *b, uint32_t ri)
{
	const struct gw_str *h = &b->conf->hosts.v[b->conf->routes.v[ri].host];

	if (h->len)
		fprintf(f, " (host %.*s)", (int)h->len, h->p);
}

/* Report route <later> of the group at <node> (wild: <wild>) conflicting with
 * <earlier> for methods <both>. */
static void trie_report_conflict(struct trie_build *b, uint32_t node, int wild, uint32_t later,
				 uint32_t earlier, unsigned both)
{
	const struct gw_route *re = &b->conf->routes.v[earlier];
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	if (!f) {
		trie_error(b, later, "conflicts with another route");
		return;
	}
	fputs("conflicts with ", f);
	trie_put_route(f, re);
	fputs(" at ", f);
	trie_put_place(f, b->conf, re);
	fprintf(f, ": both match %s ", gw_method_name(both & -both));
	trie_put_path(f, b, node, wild);
	trie_put_host(f, b, later);
	if (fclose(f) != 0 || !buf)
		trie_error(b, later, "conflicts with another route");
	else
		trie_error(b, later, buf);
	free(buf);
}

/* Check the groups of <node>: pairs of routes sharing a method. */
static void trie_check_conflicts(struct trie_build *b, uint32_t node)
{
	const struct trie_mnode *n = &b->mn[node];

	for (int wild = 0; wild <= 1; wild++) {
		uint32_t first = n->route_start + (wild ? n->nterm : 0);
		uint32_t count = wild ? n->nwild : n->nterm;

		/* A group is sorted by conf index: j is the later route. */
		for (uint32_t j = 1; j < count; j++) {
			uint32_t rj = b->sorted[first + j];

			for (uint32_t i = 0; i < j; i++) {
				uint32_t ri = b->sorted[first + i];
				unsigned both = b->conf->routes.v[ri].methods &
						b->conf->routes.v[rj].methods;

				if (both) {
					trie_report_conflict(b, node, wild, rj, ri, both);
					break;
				}
			}
		}
	}
}

/* Check the wildcard routes of <node> against its {param} chain. */
static void trie_check_reach(struct trie_build *b, uint32_t node)
{
	const struct trie_mnode *n = &b->mn[node];

	if (!n->nwild || n->param_child == GW_NONE)
		return;
	for (uint32_t k = 0; k < n->nwild; k++) {
		uint32_t wi = b->sorted[n->route_start + n->nterm + k];
		const struct gw_route *w = &b->conf->routes.v[wi];
		uint32_t who[8], nwho = 0;
		unsigned dead = 0, first = 0;
		const char *sep = "";
		char *buf = NULL;
		size_t sz = 0;
		FILE *f;

		for (unsigned m = 1; m <= GW_M_ALL; m <<= 1)
			if ((w->methods & m) &&
			    trie_shadowed(b, node, m, who, &nwho, sizeof who / sizeof *who)) {
				dead |= m;
				if (!first)
					first = m;
			}
		if (!dead)
			continue;
		f = open_memstream(&buf, &sz);
		if (!f) {
			trie_error(b, wi, "can never be reached");
			continue;
		}
		fputs("can never be reached", f);
		if (dead != w->methods) {
			fputs(" for", f);
			for (unsigned m = 1; m <= GW_M_ALL; m <<= 1)
				if (dead & m) {
					fprintf(f, "%s %s", sep, gw_method_name(m));
					sep = ",";
				}
		}
		fputs(": every path it matches is taken first by ", f);
		for (uint32_t i = 0; i < nwho; i++) {
			const struct gw_route *s = &b->conf->routes.v[who[i]];

			if (i)
				fputs(i + 1 == nwho ? " and " : ", ", f);
			trie_put_route(f, s);
			fputs(" at ", f);
			trie_put_place(f, b->conf, s);
		}
		fprintf(f, ", e.g. %s ", gw_method_name(first));
		trie_put_path(f, b, node, 1);
		trie_put_host(f, b, wi);
		if (fclose(f) != 0 || !buf)
			trie_error(b, wi, "can never be reached");
		else
			trie_error(b, wi, buf);
		free(buf);
	}
}

/* ---- emission ------------------------------------------------------------ */

/* Lay the tree out into <t> in the order trie_grow() created the nodes: the
 * roots, then each host's tree depth first (pre-order, children in edge
 * order, the {param} child last).  Children thus come after their parent,
 * and a subtree's nodes, edges and routes are contiguous, so that the deep
 * end of a lookup touches a few neighbouring records rather than one per
 * level scattered over the blob; a node's edges are contiguous as trie.h
 * requires.  The sort put the routes in that very order already: order[] is
 * the sorted list.  0, or -1 when memory runs out (<t> then partly filled:
 * the caller frees). */
static int trie_emit(struct trie_build *b, struct gw_trie *t)
{
	uint32_t nedges = b->nmn - b->conf->hosts.n, ne = 0;

	t->nodes = calloc(b->nmn, sizeof *t->nodes);
	t->edges = calloc(nedges ? nedges : 1, sizeof *t->edges);
	t->order = malloc((b->nsorted ? b->nsorted : 1) * sizeof *t->order);
	t->roots = calloc(b->conf->hosts.n, sizeof *t->roots);
	if (!t->nodes || !t->edges || !t->order || !t->roots)
		return -1;
	for (uint32_t h = 0; h < b->conf->hosts.n; h++)
		t->roots[h] = h;
	for (uint32_t x = 0; x < b->nmn; x++) {
		const struct trie_mnode *m = &b->mn[x];
		struct gw_trie_node *out = &t->nodes[x];

		out->lit_first = ne;
		for (uint32_t c = m->first_child; c != GW_NONE; c = b->mn[c].next_sibling) {
			t->edges[ne].label.p = b->mn[c].label;
			t->edges[ne].label.len = b->mn[c].label_len;
			t->edges[ne].child = c;
			ne++;
		}
		out->lit_count = ne - out->lit_first;
		out->param_child = m->param_child;
		/* No conflict means at most one route per method per group:
		 * both counts are at most 7 here.  A node without routes
		 * points where its routes would be. */
		out->route_first = m->route_start != GW_NONE ? m->route_start
							      : (x ? t->nodes[x - 1].route_first +
								     t->nodes[x - 1].term_count +
								     t->nodes[x - 1].wild_count : 0);
		out->term_count = (uint8_t)m->nterm;
		out->wild_count = (uint8_t)m->nwild;
	}
	memcpy(t->order, b->sorted, b->nsorted * sizeof *t->order);
	t->nnodes = b->nmn;
	t->nedges = ne;
	t->nroutes = b->nsorted;
	t->nroots = b->conf->hosts.n;
	return 0;
}

/* Build and check (trie.h). */
int gw_trie_build(const struct gw_conf *conf, struct gw_trie *t, struct gw_diag *d)
{
	struct trie_build b;
	int rc = GW_ENOMEM;

	memset(t, 0, sizeof *t);
	memset(&b, 0, sizeof b);
	b.conf = conf;
	b.d = d;
	if (conf->hosts.n == 0) {
		gw_diag_error(d, NULL, "no host table (the any-host entry is missing)");
		return 1;
	}
	b.rts = calloc(conf->routes.n ? conf->routes.n : 1, sizeof *b.rts);
	b.sorted = malloc((conf->routes.n ? conf->routes.n : 1) * sizeof *b.sorted);
	if (!b.rts || !b.sorted)
		goto fail;
	for (uint32_t i = 0; i < conf->routes.n; i++) {
		if (trie_parse(&b, i) < 0)
			goto fail;
		if (b.rts[i].ok)
			b.sorted[b.nsorted++] = i;
	}
	if (trie_sort(&b) < 0 || trie_grow(&b) < 0)
		goto fail;
	for (uint32_t x = 0; x < b.nmn; x++) {
		trie_check_conflicts(&b, x);
		trie_check_reach(&b, x);
	}
	if (b.errors) {
		rc = 1;
		goto fail;
	}
	if (trie_emit(&b, t) < 0)
		goto fail;
	rc = 0;
	goto done;
fail:
	gw_trie_free(t);
done:
	free(b.segs);
	free(b.rts);
	free(b.sorted);
	free(b.mn);
	return rc;
}

/* Free what gw_trie_build() allocated in <t> and empty it (safe on an empty or
 * partly filled trie). */
void gw_trie_free(struct gw_trie *t)
{
	free(t->nodes);
	free(t->edges);
	free(t->order);
	free(t->roots);
	memset(t, 0, sizeof *t);
}
