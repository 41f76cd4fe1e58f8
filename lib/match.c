/* The matcher (match.h): which route serves (host, method, path).
 *
 * The walk is written once, over struct match_src, so that the very same code
 * runs on a loaded blob in gwd and `gwc match` (read directly from the
 * verified sections) and on the in-memory trie of gw_trie_build() in the unit
 * tests (read through a table of accessors, tests/lib/match.c), which is how
 * the compile-time analysis of lib/trie.c is checked against what the matcher
 * actually does.
 *
 * The walk is a depth-first search: at each node, try the term group when
 * the path is used up; else the literal edge equal to the next segment, then
 * the {param} child, then the node's wild group with the rest of the path,
 *
 *   ARRIVE -> (literal child) -> PARAM -> (param child) -> WILD -> back up
 *
 * with an explicit stack of fixed size holding the ancestors still to be
 * resumed.  The blob is hostile even after verification: its trie could be a
 * DAG that a naive walk would explore exponentially, or deeper than any
 * pattern gwc accepts, so a walk refuses to descend past MATCH_MAX_DEPTH
 * levels or GW_MAX_PARAMS parameters, and stops after entering as many nodes
 * as the blob has (a tree walk never enters a node twice, so only a corrupt
 * blob hits that bound).
 *
 * What a lookup costs at 100k routes is cache misses, the blob being larger
 * than the caches, and then instructions; docs/blob-format.md lays the trie
 * out for this walk, and the walk uses all of it:
 *   - a segment is read a word at a time, and its 8-byte key made on the way;
 *   - edges are compared by key, one integer, and a label is read only on a
 *     tie with a label or segment longer than its key;
 *   - a node of 16 edges or more is looked up in the EHASH slots (two lines
 *     read) instead of binary searched (five or six), and a binary search
 *     over many edges prefetches both halves it may look at next;
 *   - found an edge, the child's record and the child's edges are fetched at
 *     once (the edge says where those start);
 *   - a group of one route is decided by the node's method masks, without
 *     reading ROUTES.
 * Everything is forced inline into gw_match(), so a probe is a few loads,
 * not a call.  No allocation: the stack is an array on the C stack.
 */
#include "lib/match.h"

#include <string.h>

#include "lib/blob-t.h"
#include "lib/bytes.h"

#define MATCH_MAX_DEPTH 65 /* the root + the 64 segments lib/trie.c accepts */
#define MATCH_KEY_LEN 8    /* bytes of a label in its edge's key */

/* A node as the walk needs it: the trie's node, and the union of the methods
 * of each of its two route groups. */
struct match_node {
	uint32_t lit_first, lit_count; /* edges, sorted by label bytes */
	uint32_t param_child;          /* node index, or GW_NONE */
	uint32_t route_first;          /* first route of the node's groups */
	uint8_t term_count, wild_count;
	uint8_t term_methods, wild_methods; /* unions of the groups' methods */
};

/* An edge: its label, and the label's first MATCH_KEY_LEN bytes, zero-padded,
 * read as a big-endian number (match_key), so that keys order as labels do
 * wherever they differ. */
struct match_edge {
	uint64_t key;
	struct gw_str label;
	uint32_t child; /* node index */
};

/* How the unit tests feed the walk gw_trie_build()'s arrays (tests/lib/
 * match.c): each accessor returns 0, or -1 for an index out of range (the
 * walk then treats the item as absent). */
struct match_acc {
	int (*host)(const void *ctx, uint32_t i, struct gw_str *name, uint32_t *root);
	int (*node)(const void *ctx, uint32_t i, struct match_node *out);
	int (*edge)(const void *ctx, uint32_t i, struct match_edge *out);
	uint64_t (*key)(const void *ctx, uint32_t i); /* edge <i>'s key; i < nedges */
	uint32_t (*slot)(const void *ctx, uint32_t i); /* hash slot <i> < nslots */
	int (*methods)(const void *ctx, uint32_t route, unsigned *out); /* route's mask */
};

/* Where the walk reads the trie from: a blob in production, read directly
 * (<t>, its verified sections, gw_blob_sections); else through <acc> on
 * <ctx>.  Small, and set in full by its users: no zeroing per match. */
struct match_src {
	const struct gw_blob_sec *t; /* or NULL: <acc> */
	const struct match_acc *acc;
	const void *ctx;
	uint32_t nhosts; /* host table size, the any-host entry 0 included */
	uint32_t nnodes; /* the most nodes one match may visit */
	uint32_t nedges; /* edges: the indexes key() may be given are below */
	uint32_t nslots; /* hash slots: 0, or a power of two */
};

enum { ST_ARRIVE, ST_PARAM, ST_WILD };

/* gw_get_u32le and gw_get_u64le (lib/bytes.h), forced inline: in a function
 * as large as gw_match() the compiler may otherwise call them, and each is a
 * single load.  The 4 bytes at <p>, little-endian. */
static inline __attribute__((always_inline)) uint32_t match_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The 8 bytes at <p>, little-endian. */
static inline __attribute__((always_inline)) uint64_t match_u64le(const uint8_t *p)
{
	return (uint64_t)match_u32le(p) | (uint64_t)match_u32le(p + 4) << 32;
}

/* ---- reading a blob ------------------------------------------------------- */

/* The accessors below read the verified sections <t> of a blob straight
 * from the mapping; each returns 0, or -1 for an index past its table.
 * Indexes found inside verified records are within their tables, but the
 * checks cost nothing next to a cache miss and keep a caller's bug from
 * reading outside. */

/* Host <i>: its name and root node. */
static inline __attribute__((always_inline)) int
match_blob_host(const struct gw_blob_sec *t, uint32_t i, struct gw_str *name, uint32_t *root)
{
	const uint8_t *r;

	if (i >= t[GW_BLOB_HOSTS].n)
		return -1;
	r = t[GW_BLOB_HOSTS].p + (size_t)i * GW_BLOB_HOST_SIZE;
	name->p = (const char *)t[GW_BLOB_STRS].p + match_u32le(r + GW_BLOB_HOST_NAME);
	name->len = match_u32le(r + GW_BLOB_HOST_NAME + GW_BLOB_STR_LEN);
	*root = match_u32le(r + GW_BLOB_HOST_ROOT);
	return 0;
}

/* Node <i>; its edges end where the next node's begin. */
static inline __attribute__((always_inline)) int
match_blob_node(const struct gw_blob_sec *t, uint32_t i, struct match_node *out)
{
	const uint8_t *r;
	uint32_t end;

	if (i >= t[GW_BLOB_NODES].n)
		return -1;
	r = t[GW_BLOB_NODES].p + (size_t)i * GW_BLOB_NODE_SIZE;
	end = i + 1 < t[GW_BLOB_NODES].n ? match_u32le(r + GW_BLOB_NODE_SIZE) : t[GW_BLOB_EDGES].n;
	out->lit_first = match_u32le(r + GW_BLOB_NODE_LIT_FIRST);
	out->lit_count = end - out->lit_first;
	out->param_child = match_u32le(r + GW_BLOB_NODE_PARAM_CHILD);
	out->route_first = match_u32le(r + GW_BLOB_NODE_ROUTE_FIRST);
	out->term_count = r[GW_BLOB_NODE_TERM_COUNT];
	out->wild_count = r[GW_BLOB_NODE_WILD_COUNT];
	out->term_methods = r[GW_BLOB_NODE_TERM_METHODS];
	out->wild_methods = r[GW_BLOB_NODE_WILD_METHODS];
	return 0;
}

/* Edge <i>: the key's bytes are the label's, read big-endian. */
static inline __attribute__((always_inline)) int
match_blob_edge(const struct gw_blob_sec *t, uint32_t i, struct match_edge *out)
{
	const uint8_t *r;

	if (i >= t[GW_BLOB_EDGES].n)
		return -1;
	r = t[GW_BLOB_EDGES].p + (size_t)i * GW_BLOB_EDGE_SIZE;
	out->key = __builtin_bswap64(match_u64le(r + GW_BLOB_EDGE_KEY));
	out->label.p = (const char *)t[GW_BLOB_STRS].p +
		       match_u32le(r + GW_BLOB_EDGE_LABEL + GW_BLOB_STR_OFF);
	out->label.len = match_u32le(r + GW_BLOB_EDGE_LABEL + GW_BLOB_STR_LEN);
	out->child = match_u32le(r + GW_BLOB_EDGE_CHILD);
	return 0;
}

/* The key of edge <i>, below the EDGES count. */
static inline __attribute__((always_inline)) uint64_t
match_blob_key(const struct gw_blob_sec *t, uint32_t i)
{
	return __builtin_bswap64(match_u64le(t[GW_BLOB_EDGES].p + (size_t)i * GW_BLOB_EDGE_SIZE +
					      GW_BLOB_EDGE_KEY));
}

/* EHASH slot <i>, below the slot count. */
static inline __attribute__((always_inline)) uint32_t
match_blob_slot(const struct gw_blob_sec *t, uint32_t i)
{
	return match_u32le(t[GW_BLOB_EHASH].p + (size_t)i * GW_BLOB_EHASH_SIZE);
}

/* The methods mask of route <i> (blob order, i.e. trie order), from its
 * attributes. */
static inline __attribute__((always_inline)) int
match_blob_methods(const struct gw_blob_sec *t, uint32_t i, unsigned *out)
{
	uint32_t a;

	if (i >= t[GW_BLOB_ROUTES].n)
		return -1;
	a = match_u32le(t[GW_BLOB_ROUTES].p + (size_t)i * GW_BLOB_ROUTE_SIZE + GW_BLOB_ROUTE_ATTRS);
	if (a >= t[GW_BLOB_RATTRS].n)
		return -1;
	*out = gw_get_u16le(t[GW_BLOB_RATTRS].p + (size_t)a * GW_BLOB_RATTR_SIZE +
			    GW_BLOB_RATTR_METHODS);
	return 0;
}

/* ---- the source: a blob, or accessors ------------------------------------ */

/* Each helper reads item <i> of <s> as its accessor of struct match_acc
 * would: directly from the blob when there is one. */
static inline __attribute__((always_inline)) int
src_host(const struct match_src *s, uint32_t i, struct gw_str *name, uint32_t *root)
{
	return s->t ? match_blob_host(s->t, i, name, root) : s->acc->host(s->ctx, i, name, root);
}

static inline __attribute__((always_inline)) int
src_node(const struct match_src *s, uint32_t i, struct match_node *out)
{
	return s->t ? match_blob_node(s->t, i, out) : s->acc->node(s->ctx, i, out);
}

static inline __attribute__((always_inline)) int
src_edge(const struct match_src *s, uint32_t i, struct match_edge *out)
{
	return s->t ? match_blob_edge(s->t, i, out) : s->acc->edge(s->ctx, i, out);
}

static inline __attribute__((always_inline)) uint64_t src_key(const struct match_src *s, uint32_t i)
{
	return s->t ? match_blob_key(s->t, i) : s->acc->key(s->ctx, i);
}

static inline __attribute__((always_inline)) uint32_t
src_slot(const struct match_src *s, uint32_t i)
{
	return s->t ? match_blob_slot(s->t, i) : s->acc->slot(s->ctx, i);
}

static inline __attribute__((always_inline)) int
src_methods(const struct match_src *s, uint32_t i, unsigned *out)
{
	return s->t ? match_blob_methods(s->t, i, out) : s->acc->methods(s->ctx, i, out);
}

/* Prefetch edge <i> (below nedges): only a blob is worth it. */
static inline __attribute__((always_inline)) void src_prefetch_edge(const struct match_src *s,
								     uint32_t i)
{
	if (s->t)
		__builtin_prefetch(s->t[GW_BLOB_EDGES].p + (size_t)i * GW_BLOB_EDGE_SIZE);
}

/* An ancestor of the node being tried, to resume when its subtree fails. */
struct match_frame {
	uint32_t node;    /* node index */
	uint32_t pos;     /* path[pos..len) was left there: empty or "/seg..." */
	uint32_t end;     /* end of the segment after pos */
	uint8_t state;    /* what to try next there: ST_PARAM or ST_WILD */
	uint8_t nparams;  /* parameters bound on the way there */
};

/* The key of the <len> bytes at <p>: their first MATCH_KEY_LEN bytes,
 * zero-padded, as a big-endian number.  Any <len>; reads no byte past
 * p[len - 1]. */
static inline uint64_t match_key(const char *p, uint32_t len)
{
	uint64_t k = 0;

	for (uint32_t i = 0; i < MATCH_KEY_LEN; i++)
		k = k << 8 | (i < len ? (unsigned char)p[i] : 0u);
	return k;
}

#define MATCH_ONES 0x0101010101010101ull
#define MATCH_HIGHS 0x8080808080808080ull
#define MATCH_SLASHES 0x2f2f2f2f2f2f2f2full

/* The high bit of each byte of <w> that is '/', and possibly of bytes
 * above such a byte (a borrow runs upwards), never below: the lowest flag
 * is exact (the classic has-zero-byte test on w ^ "////////"). */
static inline uint64_t match_slashes(uint64_t w)
{
	uint64_t x = w ^ MATCH_SLASHES;

	return (x - MATCH_ONES) & ~x & MATCH_HIGHS;
}

/* The key of the first <n> (0..7) bytes of little-endian word <w>: those
 * bytes, first byte highest, the rest zero. */
static inline uint64_t match_word_key(uint64_t w, uint32_t n)
{
	return __builtin_bswap64(w) & ~(~(uint64_t)0 >> (8 * n));
}

/* The segment of <path> (<len> bytes) that starts after the '/' at <pos>:
 * returns where it ends (the next '/', or <len>) and sets <*key> to its key.
 * Reads a word at a time, never outside path[0..len): a segment near the end
 * is read through the last 8 bytes of the path, shifted into place. */
static inline __attribute__((always_inline)) uint32_t
match_segment(const char *path, uint32_t pos, uint32_t len, uint64_t *key)
{
	const uint8_t *seg = (const uint8_t *)path + pos + 1;
	uint32_t avail = len - pos - 1, end;
	uint64_t w, t;

	if (avail >= 8) {
		w = match_u64le(seg);
		t = match_slashes(w);
		if (t) {
			uint32_t n = (uint32_t)__builtin_ctzll(t) / 8;

			*key = match_word_key(w, n);
			return pos + 1 + n;
		}
		*key = __builtin_bswap64(w);
		/* A segment of more than 8 bytes: on to its end. */
		for (end = pos + 9; end + 8 <= len; end += 8) {
			t = match_slashes(match_u64le((const uint8_t *)path + end));
			if (t)
				return end + (uint32_t)__builtin_ctzll(t) / 8;
		}
		while (end < len && path[end] != '/')
			end++;
		return end;
	}
	if (len >= 8 && avail) {
		/* The path's last 8 bytes, the segment's first byte moved to the
		 * bottom; the bytes shifted in are zero, never '/'. */
		w = match_u64le((const uint8_t *)path + len - 8) >> (8 * (8 - avail));
		t = match_slashes(w);
		end = t ? (uint32_t)__builtin_ctzll(t) / 8 : avail;
		*key = match_word_key(w, end);
		return pos + 1 + end;
	}
	for (end = pos + 1; end < len && path[end] != '/'; end++)
		;
	*key = match_key(path + pos + 1, end - pos - 1);
	return end;
}

/* Find the route for <method> in the group of <count> routes at <first>,
 * whose methods together are <mask>; adds them to <*allow> (for a 405).  A
 * route naming <method> wins; for HEAD, failing that, the group's GET route.
 * A group of one route is decided by <mask> alone.  Returns 1 and sets
 * <*route>, or 0. */
static inline __attribute__((always_inline)) int
match_group(const struct match_src *s, uint32_t first, uint32_t count, unsigned mask,
	    unsigned method, uint16_t *allow, uint32_t *route)
{
	uint32_t get = GW_NONE;

	*allow = (uint16_t)(*allow | mask);
	if (!(mask & method) && !(method == GW_M_HEAD && (mask & GW_M_GET)))
		return 0;
	if (count == 1) {
		*route = first;
		return 1;
	}
	for (uint32_t i = 0; i < count; i++) {
		unsigned mm;

		if (src_methods(s, first + i, &mm) < 0)
			continue;
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

/* Whether edge <i> (below nedges) is <seg> (<slen> bytes, key <key>):
 * returns 0 when it is, else <0 or >0 as <seg> sorts before or after it.  A
 * segment and a label of the same length, at most MATCH_KEY_LEN, with equal
 * keys are equal; a longer tie compares the label. */
static inline __attribute__((always_inline)) int
match_edge_cmp(const struct match_src *s, uint32_t i, const char *seg, uint32_t slen,
	       uint64_t key, uint32_t *child)
{
	struct match_edge e = { 0 }; /* set by s->edge; the zeros cost nothing once inlined */
	uint64_t k = src_key(s, i);
	int c;

	if (key != k)
		return key < k ? -1 : 1;
	if (src_edge(s, i, &e) < 0)
		return -1;
	*child = e.child;
	if (s->t) {
		/* The child's record and its edges: both next, both likely
		 * cold, so both on their way now rather than one after the
		 * other (docs/blob-format.md, "EDGES"). */
		const uint8_t *r = s->t[GW_BLOB_EDGES].p + (size_t)i * GW_BLOB_EDGE_SIZE;

		__builtin_prefetch(s->t[GW_BLOB_EDGES].p +
				   (size_t)match_u32le(r + GW_BLOB_EDGE_CHILD_EDGES) * GW_BLOB_EDGE_SIZE);
	}
	if (slen == e.label.len && slen <= MATCH_KEY_LEN)
		return 0;
	c = memcmp(seg, e.label.p, slen < e.label.len ? slen : e.label.len);
	return c ? c : slen < e.label.len ? -1 : slen > e.label.len;
}

/* Find the literal edge of <n> whose label is <seg> (<slen> bytes, key
 * <key>).  A node with GW_BLOB_HASH_MIN edges or more is looked up in the
 * source's hash slots, when it has them: at most GW_BLOB_HASH_PROBES slots
 * from the home slot, to the first empty one, taking only edges of <n>;
 * where a binary search would read a line per halving, that reads two.
 * Other nodes are binary searched on the keys, in the order lib/trie.c
 * sorts labels (bytes by memcmp, then length), which keys follow wherever
 * two differ (docs/blob-format.md, "EDGES"); a search over many edges
 * prefetches both places its next step may look at.  Returns the child
 * node, or GW_NONE. */
static inline __attribute__((always_inline)) uint32_t
match_edge(const struct match_src *s, const struct match_node *n, const char *seg, uint32_t slen,
	   uint64_t key)
{
	uint32_t first = n->lit_first, lo = 0, hi = n->lit_count, child = GW_NONE;

	/* A verified blob's ranges are within EDGES; accessors' may not be. */
	if (!s->t && (first > s->nedges || hi > s->nedges - first))
		return GW_NONE;
	if (hi >= GW_BLOB_HASH_MIN && s->nslots) {
		uint32_t h = gw_blob_edge_home(first, key, s->nslots);

		for (uint32_t k = 0; k < GW_BLOB_HASH_PROBES && k < s->nslots; k++) {
			uint32_t e = src_slot(s, (h + k) & (s->nslots - 1));

			if (e == GW_NONE)
				break;
			if (e - first < hi && e < s->nedges &&
			    match_edge_cmp(s, e, seg, slen, key, &child) == 0)
				return child;
		}
		return GW_NONE;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c;

		if (hi - lo > 8) {
			src_prefetch_edge(s, first + lo + (mid - lo) / 2);
			src_prefetch_edge(s, first + mid + 1 + (hi - mid - 1) / 2);
		}
		c = match_edge_cmp(s, first + mid, seg, slen, key, &child);
		if (c == 0)
			return child;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return GW_NONE;
}

/* Walk the tree at <root> for <method> and <path> (<len> bytes, normalised;
 * "/" is the root).  <*budget> is the number of nodes this walk may still
 * enter (decremented).  Returns 1 and fills <m> (route, params, rest) when a
 * route answers; else 0, having added the methods of every route that matched
 * the path to <*allow>.  <m>'s params may be scribbled on either way.
 *
 * The node being tried lives in locals; the stack holds only the ancestors
 * still to be resumed (at their {param} child or their wild group), by index:
 * descending stores five words, and the node is decoded again, from the cache,
 * only when the walk backtracks to it. */
static inline __attribute__((always_inline)) int
match_walk(const struct match_src *s, uint32_t root, unsigned method, const char *path,
	   uint32_t len, struct gw_match *m, uint16_t *allow, uint32_t *budget)
{
	struct match_frame fr[MATCH_MAX_DEPTH];
	struct match_node n;
	uint32_t node = root, pos = 0, end = 0, route, child;
	int top = -1; /* fr[0..top]: the ancestors of <node>, deepest last */
	uint8_t state = ST_ARRIVE, np = 0;
	uint64_t key;

	if (len == 0 || path[0] != '/' || *budget == 0 || src_node(s, root, &n) < 0)
		return 0;
	(*budget)--;
	if (len == 1)
		len = 0; /* "/": no segment */
	for (;;) {
		switch (state) {
		case ST_ARRIVE:
			if (pos == len) {
				/* The path ends here: only the term group can take it
				 * (a star needs one segment or more). */
				if (n.term_count &&
				    match_group(s, n.route_first, n.term_count, n.term_methods, method,
						allow, &route)) {
					m->route = route;
					m->nparams = np;
					m->rest_off = m->rest_len = 0;
					return 1;
				}
				break; /* back up */
			}
			end = match_segment(path, pos, len, &key);
			if (n.lit_count && top + 2 < MATCH_MAX_DEPTH && *budget &&
			    (child = match_edge(s, &n, path + pos + 1, end - pos - 1, key)) != GW_NONE &&
			    src_node(s, child, &n) == 0) {
				(*budget)--;
				fr[++top] = (struct match_frame){ node, pos, end, ST_PARAM, np };
				node = child;
				pos = end;
				continue;
			}
			/* fall through */
		case ST_PARAM:
			if (n.param_child != GW_NONE && np < GW_MAX_PARAMS &&
			    top + 2 < MATCH_MAX_DEPTH && *budget) {
				uint32_t pc = n.param_child;

				/* A node that cannot be read is absent; <n> is then
				 * left as it was. */
				if (src_node(s, pc, &n) == 0) {
					(*budget)--;
					m->params[np].off = pos + 1;
					m->params[np].len = end - pos - 1;
					fr[++top] = (struct match_frame){ node, pos, end, ST_WILD, np };
					node = pc;
					pos = end;
					np++;
					state = ST_ARRIVE;
					continue;
				}
			}
			/* fall through */
		case ST_WILD:
			if (n.wild_count &&
			    match_group(s, n.route_first + n.term_count, n.wild_count, n.wild_methods,
					method, allow, &route)) {
				m->route = route;
				m->nparams = np;
				m->rest_off = pos + 1;
				m->rest_len = len - pos - 1;
				return 1;
			}
			break; /* back up */
		}
		/* Back up to the deepest ancestor with a choice left. */
		if (top < 0)
			return 0;
		node = fr[top].node;
		pos = fr[top].pos;
		end = fr[top].end;
		state = fr[top].state;
		np = fr[top].nparams;
		top--;
		if (src_node(s, node, &n) < 0)
			return 0;
	}
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

		if (src_host(s, mid, &name, &root) < 0)
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
	/* The host's tree, then the any-host tree (host 0): one loop, so that
	 * the walk is inlined once. */
	hi = match_host(s, host, hlen);
	for (;;) {
		if (src_host(s, hi, &name, &root) == 0 && root != GW_NONE &&
		    match_walk(s, root, method, path, (uint32_t)len, m, &allow, &budget))
			return GW_MATCH_FOUND;
		if (hi == 0)
			break;
		hi = 0;
	}
	m->nparams = 0;
	if (!allow)
		return GW_MATCH_NOT_FOUND;
	if (allow & GW_M_GET)
		allow |= GW_M_HEAD;
	m->allow = allow;
	return GW_MATCH_NO_METHOD;
}

/* Match (match.h) on blob <b>.  A path of 4 GiB or more cannot be described
 * by <m>'s offsets and is not found. */
int gw_match(const struct gw_blob *b, const char *host, size_t hlen, unsigned method,
	     const char *path, size_t len, struct gw_match *m)
{
	const struct gw_blob_sec *t = gw_blob_sections(b);
	const struct match_src s = {
		t, NULL, NULL, t[GW_BLOB_HOSTS].n, t[GW_BLOB_NODES].n, t[GW_BLOB_EDGES].n,
		t[GW_BLOB_EHASH].n,
	};

	return match_run(&s, host, hlen, method, path, len, m);
}
