/* Verifying the compiled blob (blob.h, gw_blob_open): the blob is hostile
 * input (tinycdb's and SQLite's stance): gwd loads whatever file it is
 * pointed at, so every byte that a later read depends on is checked, once,
 * before the blob is handed out: the header, the trailer and its CRC, the
 * section table, and then every record of every section against the clauses
 * of docs/blob-format.md ("Verification"), which the checks below name as
 * [V1]..[V11].  A refusal is a gw_err with a one-line <why> naming the
 * section and record; nothing asserts, nothing reads outside the bytes given.
 */
#include "lib/blob_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/blob.h"
#include "lib/crc32c.h"
#include "lib/jwk.h"
#include "lib/match.h"

/* The verifier's state: the blob being checked and where to explain. */
struct vctx {
	struct gw_blob *b;
	char *why;
	size_t whylen;
};

/* Plural nouns of each table for "out of range (8 policies)". */
static const char *const table_noun[GW_BLOB_NTABLES] = {
	"string bytes", "files", "hosts", "nodes", "edges", "routes", "responds",
	"proxies", "template parts", "headers", "list strings", "policy refs",
	"policies", "rate limits", "auths", "body limits", "cors records",
	"header policies", "ip filters", "cidrs", "upstreams", "targets", "settings",
	"route attributes", "hash slots", "jwt policies", "jwks keys",
	"upstream tls", "upstream websocket caps",
};

/* Every check reads `return bad(v, GW_ECORRUPT, ...)`. */
#define bad(v, err, ...) gw_explain((v)->why, (v)->whylen, (err), __VA_ARGS__)

/* ---- record checks ------------------------------------------------------ */

/* [V6] The string reference at <p>, field <field> of <t>[<i>], lies within
 * STRS; a C-string (<cstr>) also has its NUL at offset + length.  Returns 0 or
 * GW_ECORRUPT. */
static int check_str(struct vctx *v, unsigned t, uint32_t i, const char *field,
		     const uint8_t *p, int cstr)
{
	uint32_t off = gw_get_u32le(p + GW_BLOB_STR_OFF);
	uint32_t len = gw_get_u32le(p + GW_BLOB_STR_LEN);
	uint32_t n = v->b->t[GW_BLOB_STRS].n;

	if (off > n || len > n - off)
		return bad(v, GW_ECORRUPT, "%s[%u]: %s string %u+%u outside STRS (%u bytes)",
			   gw_blob_table_name(t), i, field, off, len, n);
	if (cstr && (len == n - off || v->b->t[GW_BLOB_STRS].p[off + len] != 0))
		return bad(v, GW_ECORRUPT, "%s[%u]: %s string at %u+%u not NUL-terminated",
			   gw_blob_table_name(t), i, field, off, len);
	return 0;
}

/* [V7] <idx>, field <field> of <t>[<i>], indexes table <target>; GW_NONE passes
 * only when <none_ok>.  Returns 0 or GW_ECORRUPT. */
static int check_index(struct vctx *v, unsigned t, uint32_t i, const char *field,
		       uint32_t idx, unsigned target, int none_ok)
{
	uint32_t n = v->b->t[target].n;

	if (idx == GW_NONE && none_ok)
		return 0;
	if (idx >= n)
		return bad(v, GW_ECORRUPT, "%s[%u]: %s %u out of range (%u %s)",
			   gw_blob_table_name(t), i, field, idx, n, table_noun[target]);
	return 0;
}

/* [V7] The range <first>+<count>, field <field> of <t>[<i>], lies within table
 * <target>, without overflow.  Returns 0 or GW_ECORRUPT. */
static int check_range(struct vctx *v, unsigned t, uint32_t i, const char *field,
		       uint32_t first, uint32_t count, unsigned target)
{
	uint32_t n = v->b->t[target].n;

	if ((uint64_t)first + count > n)
		return bad(v, GW_ECORRUPT, "%s[%u]: %s %u+%u out of range (%u %s)",
			   gw_blob_table_name(t), i, field, first, count, n, table_noun[target]);
	return 0;
}

/* [V8] <val>, field <field> of <t>[<i>], lies in [<lo>, <hi>]. */
static int check_enum(struct vctx *v, unsigned t, uint32_t i, const char *field,
		      uint32_t val, uint32_t lo, uint32_t hi)
{
	if (val < lo || val > hi)
		return bad(v, GW_ECORRUPT, "%s[%u]: %s %u not in %u..%u",
			   gw_blob_table_name(t), i, field, val, lo, hi);
	return 0;
}

/* [V8] Reserved bytes <p>[0..n) are zero, so that a later version may give
 * them a meaning without old files saying something by accident. */
static int check_reserved(struct vctx *v, unsigned t, uint32_t i, const uint8_t *p, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		if (p[k])
			return bad(v, GW_ECORRUPT, "%s[%u]: reserved byte %u is not zero",
				   gw_blob_table_name(t), i, k);
	return 0;
}

/* [V7] A place names a file unless its line is 0 (no place). */
static int check_place(struct vctx *v, unsigned t, uint32_t i, const uint8_t *p)
{
	struct gw_place pl = place_at(p);

	if (pl.line && pl.file >= v->b->t[GW_BLOB_FILES].n)
		return bad(v, GW_ECORRUPT, "%s[%u]: place file %u out of range (%u files)",
			   gw_blob_table_name(t), i, pl.file, v->b->t[GW_BLOB_FILES].n);
	return 0;
}

/* Byte order of labels and host names: memcmp, a proper prefix first.
 * Returns <0, 0, >0. */
static int slice_cmp(const struct gw_str *a, const struct gw_str *b)
{
	uint32_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->p, b->p, n) : 0;

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

#define TRY(x) do { int rc_ = (x); if (rc_) return rc_; } while (0)

/* [V6] File names are C strings.  Each verify_* below checks every record
 * of its section and returns 0 or the gw_err of the first fault. */
static int verify_files(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_FILES].n; i++)
		TRY(check_str(v, GW_BLOB_FILES, i, "name", rec(v->b, GW_BLOB_FILES, i), 1));
	return 0;
}

/* [V9] Host 0 is "" (any host); the others are non-empty, lower-case, sorted
 * and unique, so that gw_match can binary-search them. */
static int verify_hosts(struct vctx *v)
{
	const struct gw_blob *b = v->b;
	struct gw_str prev = { "", 0 };

	if (b->t[GW_BLOB_HOSTS].n == 0)
		return bad(v, GW_ECORRUPT, "HOSTS: empty (host 0, any host, is required)");
	for (uint32_t i = 0; i < b->t[GW_BLOB_HOSTS].n; i++) {
		const uint8_t *r = rec(b, GW_BLOB_HOSTS, i);
		struct gw_str h;

		TRY(check_str(v, GW_BLOB_HOSTS, i, "name", r + GW_BLOB_HOST_NAME, 1));
		TRY(check_index(v, GW_BLOB_HOSTS, i, "root node",
				gw_get_u32le(r + GW_BLOB_HOST_ROOT), GW_BLOB_NODES, 1));
		h = str_at(b, r + GW_BLOB_HOST_NAME);
		if (i == 0) {
			if (h.len)
				return bad(v, GW_ECORRUPT, "HOSTS[0]: not the empty name");
			continue;
		}
		for (uint32_t k = 0; k < h.len; k++)
			if (h.p[k] >= 'A' && h.p[k] <= 'Z')
				return bad(v, GW_ECORRUPT, "HOSTS[%u]: not lower-case", i);
		if (slice_cmp(&prev, &h) >= 0)
			return bad(v, GW_ECORRUPT, "HOSTS[%u]: not sorted after HOSTS[%u], or duplicate",
				   i, i - 1);
		prev = h;
	}
	return 0;
}

/* [V6][V7][V8] Labels are non-empty slices of STRS (no NUL needed); the key
 * is the label's first 8 bytes, zero-padded, for the matcher compares keys
 * and reads the label only when two keys are equal; children are nodes.
 * Order and parenthood are checked per node (verify_nodes). */
static int verify_edges(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_EDGES].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_EDGES, i);
		struct gw_str l;

		TRY(check_str(v, GW_BLOB_EDGES, i, "label", r + GW_BLOB_EDGE_LABEL, 0));
		l = str_at(v->b, r + GW_BLOB_EDGE_LABEL);
		if (l.len == 0)
			return bad(v, GW_ECORRUPT, "EDGES[%u]: empty label", i);
		for (uint32_t k = 0; k < GW_BLOB_EDGE_KEY_LEN; k++)
			if (r[GW_BLOB_EDGE_KEY + k] != (k < l.len ? (uint8_t)l.p[k] : 0))
				return bad(v, GW_ECORRUPT, "EDGES[%u]: key byte %u is not the label's",
					   i, k);
		TRY(check_index(v, GW_BLOB_EDGES, i, "child", gw_get_u32le(r + GW_BLOB_EDGE_CHILD),
				GW_BLOB_NODES, 0));
	}
	return 0;
}

/* [V7] EHASH: a power of two of slots (or none), each an edge or empty; that
 * every edge of a large node can be found is checked per node
 * (check_hashed). */
static int verify_ehash(struct vctx *v)
{
	uint32_t n = v->b->t[GW_BLOB_EHASH].n;

	if (n & (n - 1))
		return bad(v, GW_ECORRUPT, "EHASH: %u slots, not a power of two", n);
	for (uint32_t i = 0; i < n; i++)
		TRY(check_index(v, GW_BLOB_EHASH, i, "edge",
				gw_get_u32le(rec(v->b, GW_BLOB_EHASH, i) + GW_BLOB_EHASH_EDGE),
				GW_BLOB_EDGES, 1));
	return 0;
}

/* [V9] Node <node>, with <count> edges from <first> (GW_BLOB_HASH_MIN or
 * more): the matcher looks them up in EHASH, probing from each one's home
 * slot until an empty slot, GW_BLOB_HASH_PROBES slots at most; so each must
 * be there, within that many slots and with no empty slot before it. */
static int check_hashed(struct vctx *v, uint32_t node, uint32_t first, uint32_t count)
{
	const struct gw_blob *b = v->b;
	uint32_t n = b->t[GW_BLOB_EHASH].n;

	for (uint32_t e = first; e < first + count; e++) {
		const uint8_t *er = rec(b, GW_BLOB_EDGES, e);
		uint64_t key = 0;
		uint32_t h, k;

		if (n == 0)
			return bad(v, GW_ECORRUPT, "NODES[%u]: %u edges, and no EHASH table", node,
				   count);
		for (unsigned j = 0; j < GW_BLOB_EDGE_KEY_LEN; j++)
			key = key << 8 | er[GW_BLOB_EDGE_KEY + j];
		h = gw_blob_edge_home(first, key, n);
		for (k = 0; k < GW_BLOB_HASH_PROBES && k < n; k++) {
			uint32_t x = gw_get_u32le(rec(b, GW_BLOB_EHASH, (h + k) & (n - 1)));

			if (x == e || x == GW_NONE)
				break;
		}
		if (k == GW_BLOB_HASH_PROBES || k == n ||
		    gw_get_u32le(rec(b, GW_BLOB_EHASH, (h + k) & (n - 1))) != e)
			return bad(v, GW_ECORRUPT, "NODES[%u]: edge %u not in EHASH within %d slots "
				   "of slot %u", node, e, GW_BLOB_HASH_PROBES, h);
	}
	return 0;
}

/* The methods of route <r>, through its RATTRS record (both verified). */
static unsigned route_methods(const struct gw_blob *b, uint32_t r)
{
	uint32_t a = gw_get_u32le(rec(b, GW_BLOB_ROUTES, r) + GW_BLOB_ROUTE_ATTRS);

	return gw_get_u16le(rec(b, GW_BLOB_RATTRS, a) + GW_BLOB_RATTR_METHODS);
}

/* [V9] Two routes of one node group may not share a method (trie.h): the
 * first would silently win.  The node's mask <mask> of the group (field
 * <what>) is the union of their methods: the matcher trusts it to skip the
 * routes. */
static int check_group(struct vctx *v, uint32_t node, uint32_t first, uint32_t count,
		       unsigned mask, const char *what)
{
	unsigned seen = 0;

	for (uint32_t r = first; r < first + count; r++) {
		unsigned m = route_methods(v->b, r);

		if (seen & m)
			return bad(v, GW_ECORRUPT, "NODES[%u]: route %u shares a method with an "
				   "earlier route of its group", node, r);
		seen |= m;
	}
	if (seen != mask)
		return bad(v, GW_ECORRUPT, "NODES[%u]: %s methods 0x%x are not its routes' 0x%x",
			   node, what, mask, seen);
	return 0;
}

/* Edges <e-1> and <e> in label order: keys first (verify_edges made them
 * agree with the labels), the labels on a tie.  Returns <0, 0, >0. */
static int edge_cmp(const struct gw_blob *b, uint32_t e)
{
	const uint8_t *x = rec(b, GW_BLOB_EDGES, e - 1), *y = rec(b, GW_BLOB_EDGES, e);
	int c = memcmp(x + GW_BLOB_EDGE_KEY, y + GW_BLOB_EDGE_KEY, GW_BLOB_EDGE_KEY_LEN);
	struct gw_str a, l;

	if (c)
		return c;
	a = str_at(b, x + GW_BLOB_EDGE_LABEL);
	l = str_at(b, y + GW_BLOB_EDGE_LABEL);
	return slice_cmp(&a, &l);
}

/* [V9] Nodes: edge ranges (a node's edges run up to the next node's first
 * edge) and route ranges within their tables, every child (edge or param) of
 * a larger index than its parent, so that any walk terminates; the edges of a
 * node strictly sorted; the method masks true; at most GW_MAX_PARAMS {param}
 * steps on any walk, so that a matcher's parameter array cannot overflow. */
static int verify_nodes(struct vctx *v)
{
	const struct gw_blob *b = v->b;
	uint32_t n = b->t[GW_BLOB_NODES].n, ne = b->t[GW_BLOB_EDGES].n;
	uint8_t *pdepth = NULL;
	int rc = 0;

	if (n && !(pdepth = calloc(n, 1)))
		return bad(v, GW_ENOMEM, "out of memory verifying NODES");
	for (uint32_t i = 0; i < n && !rc; i++) {
		const uint8_t *r = rec(b, GW_BLOB_NODES, i);
		uint32_t lf = gw_get_u32le(r + GW_BLOB_NODE_LIT_FIRST);
		uint32_t le = i + 1 < n ? gw_get_u32le(r + GW_BLOB_NODE_SIZE + GW_BLOB_NODE_LIT_FIRST)
					: ne;
		uint32_t pc = gw_get_u32le(r + GW_BLOB_NODE_PARAM_CHILD);
		uint32_t rf = gw_get_u32le(r + GW_BLOB_NODE_ROUTE_FIRST);
		uint32_t tc = r[GW_BLOB_NODE_TERM_COUNT], wc = r[GW_BLOB_NODE_WILD_COUNT];

		if (lf > ne || le > ne) {
			rc = bad(v, GW_ECORRUPT, "NODES[%u]: edges %u..%u out of range (%u edges)",
				 i, lf, le, ne);
			break;
		}
		if (lf > le) {
			rc = bad(v, GW_ECORRUPT, "NODES[%u]: first edge %u after the next node's %u",
				 i, lf, le);
			break;
		}
		if ((rc = check_range(v, GW_BLOB_NODES, i, "routes", rf, tc + wc, GW_BLOB_ROUTES)) ||
		    (rc = check_index(v, GW_BLOB_NODES, i, "param child", pc, GW_BLOB_NODES, 1)) ||
		    (rc = check_group(v, i, rf, tc, r[GW_BLOB_NODE_TERM_METHODS], "term")) ||
		    (rc = check_group(v, i, rf + tc, wc, r[GW_BLOB_NODE_WILD_METHODS], "wild")) ||
		    (le - lf >= GW_BLOB_HASH_MIN && (rc = check_hashed(v, i, lf, le - lf))))
			break;
		if (pc != GW_NONE) {
			if (pc <= i) {
				rc = bad(v, GW_ECORRUPT, "NODES[%u]: param child %u not after its parent",
					 i, pc);
				break;
			}
			if (pdepth[i] + 1 > GW_MAX_PARAMS) {
				rc = bad(v, GW_ECORRUPT, "NODES[%u]: more than %d {param} steps deep",
					 pc, GW_MAX_PARAMS);
				break;
			}
			if (pdepth[pc] < pdepth[i] + 1)
				pdepth[pc] = (uint8_t)(pdepth[i] + 1);
		}
		for (uint32_t e = lf; e < le; e++) {
			const uint8_t *er = rec(b, GW_BLOB_EDGES, e);
			uint32_t child = gw_get_u32le(er + GW_BLOB_EDGE_CHILD);

			if (child <= i) {
				rc = bad(v, GW_ECORRUPT, "NODES[%u]: edge %u child %u not after its parent",
					 i, e, child);
				break;
			}
			if (gw_get_u32le(er + GW_BLOB_EDGE_CHILD_EDGES) !=
			    gw_get_u32le(rec(b, GW_BLOB_NODES, child) + GW_BLOB_NODE_LIT_FIRST)) {
				rc = bad(v, GW_ECORRUPT, "EDGES[%u]: child edges %u are not NODES[%u]'s",
					 e, gw_get_u32le(er + GW_BLOB_EDGE_CHILD_EDGES), child);
				break;
			}
			if (pdepth[child] < pdepth[i])
				pdepth[child] = pdepth[i];
			if (e > lf && edge_cmp(b, e) >= 0) {
				rc = bad(v, GW_ECORRUPT, "NODES[%u]: edges %u and %u not sorted "
					 "or duplicate", i, e - 1, e);
				break;
			}
		}
	}
	free(pdepth);
	return rc;
}

/* [V6][V8] Template parts: kind, mode, parameter number, strings. */
static int verify_tpls(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_TPLS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_TPLS, i);

		TRY(check_enum(v, GW_BLOB_TPLS, i, "kind", r[GW_BLOB_TPL_KIND], GW_TPL_LITERAL,
			       GW_TPL_REST));
		TRY(check_enum(v, GW_BLOB_TPLS, i, "mode", r[GW_BLOB_TPL_MODE], GW_TPL_PLAIN,
			       GW_TPL_ALT));
		if (r[GW_BLOB_TPL_KIND] == GW_TPL_PARAM)
			TRY(check_enum(v, GW_BLOB_TPLS, i, "param", gw_get_u16le(r + GW_BLOB_TPL_PARAM),
				       0, GW_MAX_PARAMS - 1));
		TRY(check_str(v, GW_BLOB_TPLS, i, "text", r + GW_BLOB_TPL_TEXT, 1));
		TRY(check_str(v, GW_BLOB_TPLS, i, "alt", r + GW_BLOB_TPL_ALT, 1));
	}
	return 0;
}

/* [V6] Header names and values are C strings. */
static int verify_headers(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_HEADERS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_HEADERS, i);

		TRY(check_str(v, GW_BLOB_HEADERS, i, "name", r + GW_BLOB_HEADER_NAME, 1));
		TRY(check_str(v, GW_BLOB_HEADERS, i, "value", r + GW_BLOB_HEADER_VALUE, 1));
	}
	return 0;
}

/* [V6] List strings are C strings. */
static int verify_strlist(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_STRLIST].n; i++)
		TRY(check_str(v, GW_BLOB_STRLIST, i, "string", rec(v->b, GW_BLOB_STRLIST, i), 1));
	return 0;
}

/* [V8] Family 4 or 6, prefix within the address, host bits zero. */
static int verify_cidrs(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_CIDRS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_CIDRS, i);
		const uint8_t *a = r + GW_BLOB_CIDR_ADDR;
		unsigned fam = r[GW_BLOB_CIDR_FAMILY], pfx = r[GW_BLOB_CIDR_PREFIX];
		unsigned bits;

		if (fam != 4 && fam != 6)
			return bad(v, GW_ECORRUPT, "CIDRS[%u]: family %u is neither 4 nor 6", i, fam);
		TRY(check_reserved(v, GW_BLOB_CIDRS, i, r + GW_BLOB_CIDR_RESERVED, 2));
		bits = fam == 4 ? 32 : 128;
		if (pfx > bits)
			return bad(v, GW_ECORRUPT, "CIDRS[%u]: prefix /%u longer than the address", i, pfx);
		for (unsigned k = pfx; k < 128; k++)
			if (a[k / 8] & (0x80u >> (k % 8)))
				return bad(v, GW_ECORRUPT, "CIDRS[%u]: host bits set past /%u", i, pfx);
	}
	return 0;
}

/* [V6][V8] Targets: a host, a port, a weight. */
static int verify_targets(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_TARGETS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_TARGETS, i);

		TRY(check_str(v, GW_BLOB_TARGETS, i, "host", r + GW_BLOB_TGT_HOST, 1));
		if (gw_get_u32le(r + GW_BLOB_TGT_HOST + GW_BLOB_STR_LEN) == 0)
			return bad(v, GW_ECORRUPT, "TARGETS[%u]: empty host", i);
		if (gw_get_u16le(r + GW_BLOB_TGT_PORT) == 0)
			return bad(v, GW_ECORRUPT, "TARGETS[%u]: port 0", i);
		TRY(check_reserved(v, GW_BLOB_TARGETS, i, r + GW_BLOB_TGT_RESERVED, 2));
		if (gw_get_u32le(r + GW_BLOB_TGT_WEIGHT) == 0)
			return bad(v, GW_ECORRUPT, "TARGETS[%u]: weight 0", i);
	}
	return 0;
}

/* [V7] Each policy ref names a policy. */
static int verify_polrefs(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_POLREFS].n; i++)
		TRY(check_index(v, GW_BLOB_POLREFS, i, "policy",
				gw_get_u32le(rec(v->b, GW_BLOB_POLREFS, i)), GW_BLOB_POLICIES, 0));
	return 0;
}

/* [V8] Every rate limit can admit something: quota, period, burst and the
 * key bound are at least 1 (a zero period would divide by zero). */
static int verify_ratelimits(struct vctx *v)
{
	static const struct { unsigned off; const char *name; } pos[] = {
		{ GW_BLOB_RL_QUOTA, "quota" }, { GW_BLOB_RL_PERIOD_MS, "period" },
		{ GW_BLOB_RL_BURST, "burst" }, { GW_BLOB_RL_MAX_KEYS, "max_keys" },
	};

	for (uint32_t i = 0; i < v->b->t[GW_BLOB_RATELIMITS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_RATELIMITS, i);

		TRY(check_str(v, GW_BLOB_RATELIMITS, i, "name", r + GW_BLOB_RL_NAME, 1));
		TRY(check_str(v, GW_BLOB_RATELIMITS, i, "header", r + GW_BLOB_RL_HEADER, 1));
		TRY(check_enum(v, GW_BLOB_RATELIMITS, i, "key", r[GW_BLOB_RL_KEY], GW_RLK_IP,
			       GW_RLK_ROUTE));
		if (r[GW_BLOB_RL_KEY] == GW_RLK_HEADER &&
		    gw_get_u32le(r + GW_BLOB_RL_HEADER + GW_BLOB_STR_LEN) == 0)
			return bad(v, GW_ECORRUPT, "RATELIMITS[%u]: header key without a header name", i);
		TRY(check_enum(v, GW_BLOB_RATELIMITS, i, "headers", r[GW_BLOB_RL_HEADERS], GW_RLH_ALL,
			       GW_RLH_NONE));
		TRY(check_enum(v, GW_BLOB_RATELIMITS, i, "scope", r[GW_BLOB_RL_SCOPE], GW_RLS_LOCAL,
			       GW_RLS_CLUSTER));
		TRY(check_enum(v, GW_BLOB_RATELIMITS, i, "on_store_error", r[GW_BLOB_RL_ONERR],
			       GW_RLE_ALLOW, GW_RLE_DENY));
		for (size_t k = 0; k < sizeof pos / sizeof *pos; k++)
			if (gw_get_u32le(r + pos[k].off) == 0)
				return bad(v, GW_ECORRUPT, "RATELIMITS[%u]: %s is 0", i, pos[k].name);
	}
	return 0;
}

/* [V6][V8] Auth policies: type and header names. */
static int verify_auths(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_AUTHS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_AUTHS, i);

		TRY(check_enum(v, GW_BLOB_AUTHS, i, "type", r[GW_BLOB_AUTH_TYPE], GW_AUTH_SESSION,
			       GW_AUTH_JWT));
		TRY(check_reserved(v, GW_BLOB_AUTHS, i, r + GW_BLOB_AUTH_RESERVED, 3));
		TRY(check_str(v, GW_BLOB_AUTHS, i, "header", r + GW_BLOB_AUTH_HEADER, 1));
		TRY(check_str(v, GW_BLOB_AUTHS, i, "user_header", r + GW_BLOB_AUTH_USER_HEADER, 1));
	}
	return 0;
}

/* 1 when the <len> bytes at <p> are an HTTP token (RFC 9110 tchar), non-empty. */
static int is_token(const char *p, uint32_t len)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!len)
		return 0;
	for (uint32_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)p[k];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c && strchr(extra, c))))
			return 0;
	}
	return 1;
}

/* [V10] JWKS keys: a known type and a curve that fits it, algorithms the
 * type serves (so an HMAC algorithm never meets an RSA modulus: the
 * confusion of RFC 8725 3.1 cannot be written), parameters in the base64url
 * alphabet, the second one present exactly for RSA and EC. */
static int verify_jwkeys(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_JWKEYS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_JWKEYS, i);
		unsigned kty = r[GW_BLOB_JWK_KTY], crv = r[GW_BLOB_JWK_CRV];
		unsigned algs = gw_get_u16le(r + GW_BLOB_JWK_ALGS), fits;
		struct gw_str a, b2;

		TRY(check_str(v, GW_BLOB_JWKEYS, i, "kid", r + GW_BLOB_JWK_KID, 1));
		TRY(check_str(v, GW_BLOB_JWKEYS, i, "a", r + GW_BLOB_JWK_A, 1));
		TRY(check_str(v, GW_BLOB_JWKEYS, i, "b", r + GW_BLOB_JWK_B, 1));
		TRY(check_enum(v, GW_BLOB_JWKEYS, i, "kty", kty, GW_KTY_RSA, GW_KTY_OCT));
		TRY(check_enum(v, GW_BLOB_JWKEYS, i, "crv", crv, GW_CRV_NONE, GW_CRV_ED25519));
		fits = gw_jwk_fits(kty, crv);
		if (!fits)
			return bad(v, GW_ECORRUPT, "JWKEYS[%u]: curve %u does not fit key type %u", i,
				   crv, kty);
		if (!algs || (algs & ~fits))
			return bad(v, GW_ECORRUPT, "JWKEYS[%u]: algorithms 0x%x do not fit key type %u",
				   i, algs, kty);
		a = str_at(v->b, r + GW_BLOB_JWK_A);
		b2 = str_at(v->b, r + GW_BLOB_JWK_B);
		if (!a.len || (kty == GW_KTY_RSA || kty == GW_KTY_EC) != (b2.len != 0))
			return bad(v, GW_ECORRUPT, "JWKEYS[%u]: key parameters missing or extra", i);
		for (uint32_t k = 0; k < a.len + b2.len; k++) {
			char c = k < a.len ? a.p[k] : b2.p[k - a.len];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
				return bad(v, GW_ECORRUPT, "JWKEYS[%u]: parameter byte not base64url", i);
		}
	}
	return 0;
}

/* [V10] jwt policies: one per AUTHS record of type jwt, in AUTHS
 * order (so an auth finds its record by binary search and none has two);
 * algorithms known and not none; flags 0 or 1; ranges in their tables;
 * claim names non-empty and upstream header names tokens (they are written
 * into the upstream request); keys from the file or a URL; refresh bounds
 * ordered and at least 1 s. */
static int verify_jwts(struct vctx *v)
{
	const struct gw_blob *b = v->b;
	uint32_t njwt_auths = 0, prev = 0;

	for (uint32_t i = 0; i < b->t[GW_BLOB_AUTHS].n; i++)
		njwt_auths += rec(b, GW_BLOB_AUTHS, i)[GW_BLOB_AUTH_TYPE] == GW_AUTH_JWT;
	if (njwt_auths != b->t[GW_BLOB_JWTS].n)
		return bad(v, GW_ECORRUPT, "JWTS: %u records for %u jwt auths", b->t[GW_BLOB_JWTS].n,
			   njwt_auths);
	for (uint32_t i = 0; i < b->t[GW_BLOB_JWTS].n; i++) {
		const uint8_t *r = rec(b, GW_BLOB_JWTS, i);
		uint32_t auth = gw_get_u32le(r + GW_BLOB_JWT_AUTH);
		unsigned algs = gw_get_u16le(r + GW_BLOB_JWT_ALGS);
		static const struct { unsigned off, target; const char *name; } rg[] = {
			{ GW_BLOB_JWT_AUD_FIRST, GW_BLOB_STRLIST, "audiences" },
			{ GW_BLOB_JWT_SCOPE_FIRST, GW_BLOB_STRLIST, "scopes" },
			{ GW_BLOB_JWT_HAS_FIRST, GW_BLOB_STRLIST, "present claims" },
			{ GW_BLOB_JWT_EQ_FIRST, GW_BLOB_HEADERS, "equal claims" },
			{ GW_BLOB_JWT_HDR_FIRST, GW_BLOB_HEADERS, "claim headers" },
			{ GW_BLOB_JWT_KEY_FIRST, GW_BLOB_JWKEYS, "keys" },
		};
		uint32_t first, count;

		TRY(check_index(v, GW_BLOB_JWTS, i, "auth", auth, GW_BLOB_AUTHS, 0));
		if (rec(b, GW_BLOB_AUTHS, auth)[GW_BLOB_AUTH_TYPE] != GW_AUTH_JWT || (i && auth <= prev))
			return bad(v, GW_ECORRUPT, "JWTS[%u]: auth %u not the next jwt auth", i, auth);
		prev = auth;
		if (!algs || (algs & ~GW_JWA_ALL))
			return bad(v, GW_ECORRUPT, "JWTS[%u]: algorithms 0x%x invalid", i, algs);
		TRY(check_enum(v, GW_BLOB_JWTS, i, "scope_any", r[GW_BLOB_JWT_SCOPE_ANY], 0, 1));
		TRY(check_enum(v, GW_BLOB_JWTS, i, "forward_auth", r[GW_BLOB_JWT_FORWARD_AUTH], 0, 1));
		TRY(check_str(v, GW_BLOB_JWTS, i, "issuer", r + GW_BLOB_JWT_ISSUER, 1));
		TRY(check_str(v, GW_BLOB_JWTS, i, "cookie", r + GW_BLOB_JWT_COOKIE, 1));
		TRY(check_str(v, GW_BLOB_JWTS, i, "realm", r + GW_BLOB_JWT_REALM, 1));
		TRY(check_str(v, GW_BLOB_JWTS, i, "jwks_url", r + GW_BLOB_JWT_JWKS_URL, 1));
		for (size_t k = 0; k < sizeof rg / sizeof *rg; k++)
			TRY(check_range(v, GW_BLOB_JWTS, i, rg[k].name, gw_get_u32le(r + rg[k].off),
					gw_get_u32le(r + rg[k].off + 4), rg[k].target));
		/* a realm is quoted in WWW-Authenticate: no quote, backslash or control */
		{
			struct gw_str realm = str_at(b, r + GW_BLOB_JWT_REALM);

			for (uint32_t k = 0; k < realm.len; k++)
				if ((unsigned char)realm.p[k] < 0x20 || realm.p[k] == '"' ||
				    realm.p[k] == '\\' || realm.p[k] == 0x7f)
					return bad(v, GW_ECORRUPT, "JWTS[%u]: realm byte %u invalid", i, k);
		}
		first = gw_get_u32le(r + GW_BLOB_JWT_HDR_FIRST);
		count = gw_get_u32le(r + GW_BLOB_JWT_HDR_FIRST + 4);
		for (uint32_t k = first; k < first + count; k++) {
			const uint8_t *h = rec(b, GW_BLOB_HEADERS, k);
			struct gw_str claim = str_at(b, h + GW_BLOB_HEADER_NAME);
			struct gw_str name = str_at(b, h + GW_BLOB_HEADER_VALUE);

			if (!claim.len || !is_token(name.p, name.len))
				return bad(v, GW_ECORRUPT, "JWTS[%u]: claim header %u invalid", i, k - first);
		}
		if (gw_get_u32le(r + GW_BLOB_JWT_KEY_FIRST + 4) == 0 &&
		    gw_get_u32le(r + GW_BLOB_JWT_JWKS_URL + GW_BLOB_STR_LEN) == 0)
			return bad(v, GW_ECORRUPT, "JWTS[%u]: no key and no JWKS URL", i);
		if (gw_get_u32le(r + GW_BLOB_JWT_REFRESH_MIN_S) == 0 ||
		    gw_get_u32le(r + GW_BLOB_JWT_REFRESH_MIN_S) >
			    gw_get_u32le(r + GW_BLOB_JWT_REFRESH_MAX_S) ||
		    gw_get_u32le(r + GW_BLOB_JWT_REFETCH_S) == 0)
			return bad(v, GW_ECORRUPT, "JWTS[%u]: refresh bounds invalid", i);
	}
	return 0;
}

/* [V6][V7][V8] CORS policies: origins, method mask, flags, strings. */
static int verify_cors(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_CORS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_CORS, i);

		TRY(check_range(v, GW_BLOB_CORS, i, "origins", gw_get_u32le(r + GW_BLOB_CORS_ORIGIN_FIRST),
				gw_get_u32le(r + GW_BLOB_CORS_ORIGIN_COUNT), GW_BLOB_STRLIST));
		TRY(check_enum(v, GW_BLOB_CORS, i, "methods", gw_get_u16le(r + GW_BLOB_CORS_METHODS),
			       0, GW_M_ALL));
		TRY(check_enum(v, GW_BLOB_CORS, i, "credentials", r[GW_BLOB_CORS_CREDENTIALS], 0, 1));
		TRY(check_reserved(v, GW_BLOB_CORS, i, r + GW_BLOB_CORS_RESERVED, 1));
		TRY(check_str(v, GW_BLOB_CORS, i, "allow_headers", r + GW_BLOB_CORS_ALLOW_HEADERS, 1));
		TRY(check_str(v, GW_BLOB_CORS, i, "expose_headers", r + GW_BLOB_CORS_EXPOSE_HEADERS, 1));
	}
	return 0;
}

/* [V7] Header policies: four ranges. */
static int verify_hdrpols(struct vctx *v)
{
	static const struct { unsigned off, target; const char *name; } rg[] = {
		{ GW_BLOB_HDRPOL_REQ_ADD_FIRST, GW_BLOB_HEADERS, "request adds" },
		{ GW_BLOB_HDRPOL_REQ_DEL_FIRST, GW_BLOB_STRLIST, "request removals" },
		{ GW_BLOB_HDRPOL_RESP_ADD_FIRST, GW_BLOB_HEADERS, "response adds" },
		{ GW_BLOB_HDRPOL_RESP_DEL_FIRST, GW_BLOB_STRLIST, "response removals" },
	};

	for (uint32_t i = 0; i < v->b->t[GW_BLOB_HDRPOLS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_HDRPOLS, i);

		for (size_t k = 0; k < sizeof rg / sizeof *rg; k++)
			TRY(check_range(v, GW_BLOB_HDRPOLS, i, rg[k].name, gw_get_u32le(r + rg[k].off),
					gw_get_u32le(r + rg[k].off + 4), rg[k].target));
	}
	return 0;
}

/* [V7] IP policies: allow and deny ranges of CIDRS. */
static int verify_ipfilters(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_IPFILTERS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_IPFILTERS, i);

		TRY(check_range(v, GW_BLOB_IPFILTERS, i, "allow", gw_get_u32le(r + GW_BLOB_IPF_ALLOW_FIRST),
				gw_get_u32le(r + GW_BLOB_IPF_ALLOW_COUNT), GW_BLOB_CIDRS));
		TRY(check_range(v, GW_BLOB_IPFILTERS, i, "deny", gw_get_u32le(r + GW_BLOB_IPF_DENY_FIRST),
				gw_get_u32le(r + GW_BLOB_IPF_DENY_COUNT), GW_BLOB_CIDRS));
	}
	return 0;
}

/* [V7] A policy's <index, count> points into its kind's table: count >= 1 for
 * rate limits, exactly 1 for the other kinds. */
static int verify_policies(struct vctx *v)
{
	static const unsigned kind_table[] = {
		[GW_P_RATE_LIMIT] = GW_BLOB_RATELIMITS, [GW_P_AUTH] = GW_BLOB_AUTHS,
		[GW_P_BODY_LIMIT] = GW_BLOB_BODYLIMITS, [GW_P_CORS] = GW_BLOB_CORS,
		[GW_P_HEADERS] = GW_BLOB_HDRPOLS, [GW_P_IP] = GW_BLOB_IPFILTERS,
	};

	for (uint32_t i = 0; i < v->b->t[GW_BLOB_POLICIES].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_POLICIES, i);
		unsigned kind = r[GW_BLOB_POLICY_KIND];
		unsigned count = gw_get_u16le(r + GW_BLOB_POLICY_COUNT);

		TRY(check_str(v, GW_BLOB_POLICIES, i, "name", r + GW_BLOB_POLICY_NAME, 1));
		TRY(check_enum(v, GW_BLOB_POLICIES, i, "kind", kind, GW_P_RATE_LIMIT, GW_P_IP));
		TRY(check_reserved(v, GW_BLOB_POLICIES, i, r + GW_BLOB_POLICY_RESERVED, 1));
		if (kind == GW_P_RATE_LIMIT ? count == 0 : count != 1)
			return bad(v, GW_ECORRUPT, "POLICIES[%u]: count %u invalid for its kind", i, count);
		TRY(check_range(v, GW_BLOB_POLICIES, i, "records",
				gw_get_u32le(r + GW_BLOB_POLICY_INDEX), count, kind_table[kind]));
		TRY(check_place(v, GW_BLOB_POLICIES, i, r + GW_BLOB_POLICY_PLACE));
	}
	return 0;
}

/* [V6][V7][V8] Upstreams: name, at least one target, enums, place. */
static int verify_upstreams(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_UPSTREAMS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_UPSTREAMS, i);
		uint32_t tc = gw_get_u32le(r + GW_BLOB_UP_TGT_COUNT);

		TRY(check_str(v, GW_BLOB_UPSTREAMS, i, "name", r + GW_BLOB_UP_NAME, 1));
		if (tc == 0)
			return bad(v, GW_ECORRUPT, "UPSTREAMS[%u]: no target", i);
		TRY(check_range(v, GW_BLOB_UPSTREAMS, i, "targets", gw_get_u32le(r + GW_BLOB_UP_TGT_FIRST),
				tc, GW_BLOB_TARGETS));
		TRY(check_enum(v, GW_BLOB_UPSTREAMS, i, "balance", r[GW_BLOB_UP_BALANCE],
			       GW_LB_ROUND_ROBIN, GW_LB_HASH));
		TRY(check_enum(v, GW_BLOB_UPSTREAMS, i, "hash_key", r[GW_BLOB_UP_HASH_KEY],
			       GW_HK_NONE, GW_HK_HEADER));
		/* [V11] flags and the buffer's size */
		if (r[GW_BLOB_UP_FLAGS] & ~GW_BLOB_UPF_ALL)
			return bad(v, GW_ECORRUPT, "UPSTREAMS[%u]: flags 0x%x unknown", i,
				   r[GW_BLOB_UP_FLAGS]);
		if (r[GW_BLOB_UP_BUFFER_SHIFT] &&
		    (r[GW_BLOB_UP_BUFFER_SHIFT] < GW_BLOB_UP_BUFFER_MIN_SHIFT ||
		     r[GW_BLOB_UP_BUFFER_SHIFT] > GW_BLOB_UP_BUFFER_MAX_SHIFT))
			return bad(v, GW_ECORRUPT, "UPSTREAMS[%u]: buffer 2^%u out of range", i,
				   r[GW_BLOB_UP_BUFFER_SHIFT]);
		TRY(check_str(v, GW_BLOB_UPSTREAMS, i, "hash_header", r + GW_BLOB_UP_HASH_HEADER, 1));
		TRY(check_str(v, GW_BLOB_UPSTREAMS, i, "health check path", r + GW_BLOB_UP_HC_PATH, 1));
		TRY(check_place(v, GW_BLOB_UPSTREAMS, i, r + GW_BLOB_UP_PLACE));
	}
	return 0;
}

/* Whether the STR at <p> (checked) is "" or an absolute path. */
static int abs_or_empty(const struct vctx *v, const uint8_t *p)
{
	uint32_t off = gw_get_u32le(p + GW_BLOB_STR_OFF), len = gw_get_u32le(p + GW_BLOB_STR_LEN);

	return len == 0 || v->b->t[GW_BLOB_STRS].p[off] == '/';
}

/* [V11] Upstream TLS: one record per upstream flagged TLS, in UPSTREAMS
 * order; verify 0 or 1; reserved bytes zero; paths absolute or empty, a
 * client certificate and its key both or neither; the server name a DNS
 * name (letters, digits, '-', '.') or empty. */
static int verify_uptls(struct vctx *v)
{
	const struct gw_blob *b = v->b;
	uint32_t nflagged = 0, prev = 0;

	for (uint32_t i = 0; i < b->t[GW_BLOB_UPSTREAMS].n; i++)
		nflagged += (rec(b, GW_BLOB_UPSTREAMS, i)[GW_BLOB_UP_FLAGS] &
			     GW_BLOB_UPF_TLS) != 0;
	if (nflagged != b->t[GW_BLOB_UPTLS].n)
		return bad(v, GW_ECORRUPT, "UPTLS: %u records for %u tls upstreams",
			   b->t[GW_BLOB_UPTLS].n, nflagged);
	for (uint32_t i = 0; i < b->t[GW_BLOB_UPTLS].n; i++) {
		const uint8_t *r = rec(b, GW_BLOB_UPTLS, i);
		uint32_t up = gw_get_u32le(r + GW_BLOB_UPTLS_UPSTREAM);
		uint32_t sn_off, sn_len, cert_len, key_len;

		TRY(check_index(v, GW_BLOB_UPTLS, i, "upstream", up, GW_BLOB_UPSTREAMS, 0));
		if ((i && up <= prev) ||
		    !(rec(b, GW_BLOB_UPSTREAMS, up)[GW_BLOB_UP_FLAGS] & GW_BLOB_UPF_TLS))
			return bad(v, GW_ECORRUPT,
				   "UPTLS[%u]: upstream %u not the next tls upstream", i, up);
		prev = up;
		TRY(check_enum(v, GW_BLOB_UPTLS, i, "verify", r[GW_BLOB_UPTLS_VERIFY], 0, 1));
		TRY(check_reserved(v, GW_BLOB_UPTLS, i, r + GW_BLOB_UPTLS_RESERVED, 3));
		TRY(check_str(v, GW_BLOB_UPTLS, i, "server_name", r + GW_BLOB_UPTLS_SERVER_NAME,
			      1));
		TRY(check_str(v, GW_BLOB_UPTLS, i, "ca_file", r + GW_BLOB_UPTLS_CA_FILE, 1));
		TRY(check_str(v, GW_BLOB_UPTLS, i, "cert", r + GW_BLOB_UPTLS_CERT, 1));
		TRY(check_str(v, GW_BLOB_UPTLS, i, "key", r + GW_BLOB_UPTLS_KEY, 1));
		TRY(check_place(v, GW_BLOB_UPTLS, i, r + GW_BLOB_UPTLS_PLACE));
		if (!abs_or_empty(v, r + GW_BLOB_UPTLS_CA_FILE) ||
		    !abs_or_empty(v, r + GW_BLOB_UPTLS_CERT) ||
		    !abs_or_empty(v, r + GW_BLOB_UPTLS_KEY))
			return bad(v, GW_ECORRUPT, "UPTLS[%u]: a path not absolute", i);
		cert_len = gw_get_u32le(r + GW_BLOB_UPTLS_CERT + GW_BLOB_STR_LEN);
		key_len = gw_get_u32le(r + GW_BLOB_UPTLS_KEY + GW_BLOB_STR_LEN);
		if (!cert_len != !key_len)
			return bad(v, GW_ECORRUPT, "UPTLS[%u]: cert and key not both given", i);
		sn_off = gw_get_u32le(r + GW_BLOB_UPTLS_SERVER_NAME + GW_BLOB_STR_OFF);
		sn_len = gw_get_u32le(r + GW_BLOB_UPTLS_SERVER_NAME + GW_BLOB_STR_LEN);
		if (sn_len > 253)
			return bad(v, GW_ECORRUPT, "UPTLS[%u]: server_name longer than 253", i);
		for (uint32_t k = 0; k < sn_len; k++) {
			unsigned char c = b->t[GW_BLOB_STRS].p[sn_off + k];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '.'))
				return bad(v, GW_ECORRUPT,
					   "UPTLS[%u]: server_name byte %u invalid", i, k);
		}
	}
	return 0;
}

/* [V13] WebSocket caps: in UPSTREAMS order, at most one per upstream, each
 * cap 1..65535. */
static int verify_upws(struct vctx *v)
{
	const struct gw_blob *b = v->b;

	for (uint32_t i = 0; i < b->t[GW_BLOB_UPWS].n; i++) {
		const uint8_t *r = rec(b, GW_BLOB_UPWS, i);
		uint32_t up = gw_get_u32le(r + GW_BLOB_UPWS_UPSTREAM);
		uint32_t max = gw_get_u32le(r + GW_BLOB_UPWS_MAX);

		TRY(check_index(v, GW_BLOB_UPWS, i, "upstream", up, GW_BLOB_UPSTREAMS, 0));
		if (i && up <= gw_get_u32le(rec(b, GW_BLOB_UPWS, i - 1) + GW_BLOB_UPWS_UPSTREAM))
			return bad(v, GW_ECORRUPT, "UPWS[%u]: upstream %u not after the previous "
				   "record's", i, up);
		if (max < 1 || max > UINT16_MAX)
			return bad(v, GW_ECORRUPT, "UPWS[%u]: max_websockets %u not in 1..65535",
				   i, max);
	}
	return 0;
}

/* [V7][V8] Responds: an HTTP status, header and body ranges. */
static int verify_responds(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_RESPONDS].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_RESPONDS, i);

		TRY(check_enum(v, GW_BLOB_RESPONDS, i, "status", gw_get_u16le(r + GW_BLOB_RESPOND_STATUS),
			       100, 599));
		TRY(check_reserved(v, GW_BLOB_RESPONDS, i, r + GW_BLOB_RESPOND_RESERVED, 2));
		TRY(check_range(v, GW_BLOB_RESPONDS, i, "headers", gw_get_u32le(r + GW_BLOB_RESPOND_HDR_FIRST),
				gw_get_u32le(r + GW_BLOB_RESPOND_HDR_COUNT), GW_BLOB_HEADERS));
		TRY(check_range(v, GW_BLOB_RESPONDS, i, "body", gw_get_u32le(r + GW_BLOB_RESPOND_BODY_FIRST),
				gw_get_u32le(r + GW_BLOB_RESPOND_BODY_COUNT), GW_BLOB_TPLS));
	}
	return 0;
}

/* [V6][V7] Proxies: an upstream, a rewrite range, strings. */
static int verify_proxies(struct vctx *v)
{
	for (uint32_t i = 0; i < v->b->t[GW_BLOB_PROXIES].n; i++) {
		const uint8_t *r = rec(v->b, GW_BLOB_PROXIES, i);

		TRY(check_index(v, GW_BLOB_PROXIES, i, "upstream", gw_get_u32le(r + GW_BLOB_PROXY_UPSTREAM),
				GW_BLOB_UPSTREAMS, 0));
		TRY(check_range(v, GW_BLOB_PROXIES, i, "rewrite",
				gw_get_u32le(r + GW_BLOB_PROXY_REWRITE_FIRST),
				gw_get_u32le(r + GW_BLOB_PROXY_REWRITE_COUNT), GW_BLOB_TPLS));
		TRY(check_str(v, GW_BLOB_PROXIES, i, "strip_prefix", r + GW_BLOB_PROXY_STRIP_PREFIX, 1));
	}
	return 0;
}

/* A template used by the routes of RATTRS[<i>] refers only to their own
 * parameters; <first, count> was checked against TPLS already. */
static int check_tpl_params(struct vctx *v, uint32_t i, uint32_t first, uint32_t count,
			    unsigned nparams)
{
	for (uint32_t k = first; k < first + count; k++) {
		const uint8_t *t = rec(v->b, GW_BLOB_TPLS, k);

		if (t[GW_BLOB_TPL_KIND] == GW_TPL_PARAM &&
		    gw_get_u16le(t + GW_BLOB_TPL_PARAM) >= nparams)
			return bad(v, GW_ECORRUPT, "RATTRS[%u]: template part %u uses parameter %u "
				   "of %u", i, k, gw_get_u16le(t + GW_BLOB_TPL_PARAM), nparams);
	}
	return 0;
}

/* [V8] A body limit of none (GW_BODY_LIMIT_NONE) only on a proxy route:
 * RATTRS[<i>], of handler <handler>, whose policy refs <first>+<count> were
 * checked already.  Returns 0 or GW_ECORRUPT. */
static int check_body_none(struct vctx *v, uint32_t i, unsigned handler, uint32_t first,
			   uint32_t count)
{
	const struct gw_blob *b = v->b;

	for (uint32_t k = first; handler != GW_H_PROXY && k < first + count; k++) {
		uint32_t p = gw_get_u32le(rec(b, GW_BLOB_POLREFS, k) + GW_BLOB_POLREF_POLICY);
		const uint8_t *pol = rec(b, GW_BLOB_POLICIES, p);
		uint32_t bl = gw_get_u32le(pol + GW_BLOB_POLICY_INDEX);

		if (pol[GW_BLOB_POLICY_KIND] == GW_P_BODY_LIMIT &&
		    gw_get_u64le(rec(b, GW_BLOB_BODYLIMITS, bl) + GW_BLOB_BODYLIMIT_BYTES) ==
			    GW_BODY_LIMIT_NONE)
			return bad(v, GW_ECORRUPT, "RATTRS[%u]: body limit none (policy %u) on a "
				   "route that does not proxy", i, p);
	}
	return 0;
}

/* [V7][V8] Route attributes: host, methods, handler and its record,
 * parameters used by its templates, policy refs, a body limit of none only
 * when proxying. */
static int verify_rattrs(struct vctx *v)
{
	const struct gw_blob *b = v->b;

	for (uint32_t i = 0; i < b->t[GW_BLOB_RATTRS].n; i++) {
		const uint8_t *r = rec(b, GW_BLOB_RATTRS, i);
		unsigned methods = gw_get_u16le(r + GW_BLOB_RATTR_METHODS);
		unsigned handler = r[GW_BLOB_RATTR_HANDLER], np = r[GW_BLOB_RATTR_NPARAMS];
		uint32_t hi = gw_get_u32le(r + GW_BLOB_RATTR_HANDLER_INDEX);

		TRY(check_index(v, GW_BLOB_RATTRS, i, "host", gw_get_u32le(r + GW_BLOB_RATTR_HOST),
				GW_BLOB_HOSTS, 0));
		TRY(check_enum(v, GW_BLOB_RATTRS, i, "methods", methods, 1, GW_M_ALL));
		TRY(check_enum(v, GW_BLOB_RATTRS, i, "handler", handler, GW_H_RESPOND, GW_H_STATUS));
		TRY(check_enum(v, GW_BLOB_RATTRS, i, "nparams", np, 0, GW_MAX_PARAMS));
		TRY(check_range(v, GW_BLOB_RATTRS, i, "policy refs",
				gw_get_u32le(r + GW_BLOB_RATTR_POL_FIRST),
				gw_get_u16le(r + GW_BLOB_RATTR_POL_COUNT), GW_BLOB_POLREFS));
		TRY(check_reserved(v, GW_BLOB_RATTRS, i, r + GW_BLOB_RATTR_RESERVED, 1));
		/* [V12] the WebSocket switch: a GET-only proxy route's */
		TRY(check_enum(v, GW_BLOB_RATTRS, i, "websocket", r[GW_BLOB_RATTR_WEBSOCKET], 0, 1));
		if (r[GW_BLOB_RATTR_WEBSOCKET] && (handler != GW_H_PROXY || methods != GW_M_GET))
			return bad(v, GW_ECORRUPT, "RATTRS[%u]: websocket on a route that is not "
				   "a GET-only proxy", i);
		TRY(check_body_none(v, i, handler, gw_get_u32le(r + GW_BLOB_RATTR_POL_FIRST),
				    gw_get_u16le(r + GW_BLOB_RATTR_POL_COUNT)));
		if (handler == GW_H_RESPOND) {
			const uint8_t *h;

			TRY(check_index(v, GW_BLOB_RATTRS, i, "respond", hi, GW_BLOB_RESPONDS, 0));
			h = rec(b, GW_BLOB_RESPONDS, hi);
			TRY(check_tpl_params(v, i, gw_get_u32le(h + GW_BLOB_RESPOND_BODY_FIRST),
					     gw_get_u32le(h + GW_BLOB_RESPOND_BODY_COUNT), np));
		} else if (handler == GW_H_PROXY) {
			const uint8_t *h;

			TRY(check_index(v, GW_BLOB_RATTRS, i, "proxy", hi, GW_BLOB_PROXIES, 0));
			h = rec(b, GW_BLOB_PROXIES, hi);
			TRY(check_tpl_params(v, i, gw_get_u32le(h + GW_BLOB_PROXY_REWRITE_FIRST),
					     gw_get_u32le(h + GW_BLOB_PROXY_REWRITE_COUNT), np));
		} else if (hi != 0) {
			return bad(v, GW_ECORRUPT, "RATTRS[%u]: handler index %u for a handler "
				   "without a record", i, hi);
		}
	}
	return 0;
}

/* [V6][V7] Routes: strings, their attributes, place. */
static int verify_routes(struct vctx *v)
{
	const struct gw_blob *b = v->b;

	for (uint32_t i = 0; i < b->t[GW_BLOB_ROUTES].n; i++) {
		const uint8_t *r = rec(b, GW_BLOB_ROUTES, i);
		struct gw_str pat;

		TRY(check_str(v, GW_BLOB_ROUTES, i, "name", r + GW_BLOB_ROUTE_NAME, 1));
		TRY(check_str(v, GW_BLOB_ROUTES, i, "pattern", r + GW_BLOB_ROUTE_PATTERN, 1));
		pat = str_at(b, r + GW_BLOB_ROUTE_PATTERN);
		if (pat.len == 0 || pat.p[0] != '/')
			return bad(v, GW_ECORRUPT, "ROUTES[%u]: pattern does not start with '/'", i);
		TRY(check_index(v, GW_BLOB_ROUTES, i, "attributes",
				gw_get_u32le(r + GW_BLOB_ROUTE_ATTRS), GW_BLOB_RATTRS, 0));
		TRY(check_place(v, GW_BLOB_ROUTES, i, r + GW_BLOB_ROUTE_PLACE));
	}
	return 0;
}

/* [V8] Settings: the cookie has a name and every limit and timeout is at
 * least 1 (0 would refuse every request or time out at once). */
static int verify_settings(struct vctx *v)
{
	static const struct { unsigned off; const char *name; } pos[] = {
		{ GW_BLOB_SET_SESSION_IDLE_MS, "session idle timeout" },
		{ GW_BLOB_SET_SESSION_LIFETIME_MS, "session lifetime" },
		{ GW_BLOB_SET_MAX_HEADER_BYTES, "max header bytes" },
		{ GW_BLOB_SET_HEADER_TIMEOUT_MS, "header timeout" },
		{ GW_BLOB_SET_IDLE_TIMEOUT_MS, "idle timeout" },
		{ GW_BLOB_SET_MAX_CONNS, "max connections" },
		{ GW_BLOB_SET_MAX_CONNS_PER_IP, "max connections per ip" },
	};
	const uint8_t *r = rec(v->b, GW_BLOB_SETTINGS, 0);

	TRY(check_range(v, GW_BLOB_SETTINGS, 0, "trusted proxies",
			gw_get_u32le(r + GW_BLOB_SET_TRUSTED_FIRST),
			gw_get_u32le(r + GW_BLOB_SET_TRUSTED_COUNT), GW_BLOB_CIDRS));
	TRY(check_str(v, GW_BLOB_SETTINGS, 0, "session cookie", r + GW_BLOB_SET_SESSION_COOKIE, 1));
	if (gw_get_u32le(r + GW_BLOB_SET_SESSION_COOKIE + GW_BLOB_STR_LEN) == 0)
		return bad(v, GW_ECORRUPT, "SETTINGS[0]: empty session cookie name");
	for (size_t k = 0; k < sizeof pos / sizeof *pos; k++)
		if (gw_get_u32le(r + pos[k].off) == 0)
			return bad(v, GW_ECORRUPT, "SETTINGS[0]: %s is 0", pos[k].name);
	if (r[GW_BLOB_SET_SESSION_SECURE] > GW_SECURE_NEVER)
		return bad(v, GW_ECORRUPT, "SETTINGS[0]: session secure %u out of range",
			   r[GW_BLOB_SET_SESSION_SECURE]);
	if (r[GW_BLOB_SET_UNDERSCORE_HEADERS] > GW_US_ALLOW)
		return bad(v, GW_ECORRUPT, "SETTINGS[0]: underscore headers %u out of range",
			   r[GW_BLOB_SET_UNDERSCORE_HEADERS]);
	return 0;
}

/* ---- header, sections, trailer ------------------------------------------- */

/* [V1]..[V4] Check the header and trailer of the <len> bytes at <p>, then the
 * CRC.  Returns 0 or a gw_err. */
static int verify_header(struct vctx *v, const uint8_t *p, size_t len)
{
	uint64_t fsize;
	uint32_t crc, want;
	unsigned rv;

	if (len == 0)
		return bad(v, GW_ETRUNC, "empty file");
	/* [V1] The magic first: a text file or a PNG gets "not a gw blob", and
	 * a blob whose \r\n or \x1a went through a text-mode copy too. */
	if (memcmp(p, GW_BLOB_MAGIC, len < GW_BLOB_MAGIC_LEN ? len : GW_BLOB_MAGIC_LEN) != 0)
		return bad(v, GW_EMAGIC, "bad magic: not a gw blob, or mangled by a text-mode copy");
	if (len < GW_BLOB_MIN_SIZE)
		return bad(v, GW_ETRUNC, "%zu bytes, shorter than the smallest blob (%d)", len,
			   GW_BLOB_MIN_SIZE);
	/* [V2] Versions before the checksum: a newer format may checksum
	 * differently, and its reader must hear "too new", not "altered". */
	rv = gw_get_u16le(p + GW_BLOB_HDR_READ_VERSION);
	if (rv > GW_BLOB_READ_VERSION)
		return bad(v, GW_EVERSION, "read version %u, this reader knows up to %u", rv,
			   GW_BLOB_READ_VERSION);
	/* Version 1 laid NODES, EDGES and ROUTES out otherwise, and this reader
	 * does not carry its decoder: a blob from an older gwc is refused by
	 * name, so that whoever reloads it knows to compile the routes again. */
	if (rv && rv < GW_BLOB_OLDEST_READ_VERSION)
		return bad(v, GW_EVERSION, "read version %u, an older format: compile the routes "
			   "again (this reader knows %u to %u)", rv, GW_BLOB_OLDEST_READ_VERSION,
			   GW_BLOB_READ_VERSION);
	if (len > UINT32_MAX)
		return bad(v, GW_ETOOBIG, "%zu bytes, more than the format's 4 GiB", len);
	/* [V3] The size the writer meant: truncation is told apart from
	 * garbage appended. */
	fsize = gw_get_u64le(p + GW_BLOB_HDR_FILE_SIZE);
	if (fsize > len)
		return bad(v, GW_ETRUNC, "header says %llu bytes, the file has %zu",
			   (unsigned long long)fsize, len);
	if (fsize < len)
		return bad(v, GW_ECORRUPT, "header says %llu bytes, the file has %zu (trailing bytes)",
			   (unsigned long long)fsize, len);
	if (memcmp(p + len - GW_BLOB_TRAILER_SIZE + GW_BLOB_TRAILER_MAGIC_OFF, GW_BLOB_TRAILER_MAGIC,
		   4) != 0)
		return bad(v, GW_ECORRUPT, "trailer: end magic \"GWND\" missing");
	/* [V4] The CRC covers everything before the trailer. */
	want = gw_get_u32le(p + len - GW_BLOB_TRAILER_SIZE + GW_BLOB_TRAILER_CRC);
	crc = gw_crc32c(0, p, len - GW_BLOB_TRAILER_SIZE);
	if (crc != want)
		return bad(v, GW_ECHECKSUM, "stored crc32c %08x, computed %08x", want, crc);
	if (rv == 0)
		return bad(v, GW_ECORRUPT, "read version 0");
	return 0;
}

/* [V5] Parse the section table of the verified-size file: every entry aligned,
 * within the data area (after the table, before the trailer), not
 * overlapping another, sized count * record size; every known table present
 * once; unknown ids skipped.  Fills v->b->t[].  Returns 0 or a gw_err. */
static int verify_sections(struct vctx *v, const uint8_t *p, size_t len)
{
	uint32_t hsize = gw_get_u32le(p + GW_BLOB_HDR_HEADER_SIZE);
	uint32_t nsec = gw_get_u32le(p + GW_BLOB_HDR_SECTION_COUNT);
	uint32_t flags = gw_get_u32le(p + GW_BLOB_HDR_FLAGS);
	uint64_t data_end = len - GW_BLOB_TRAILER_SIZE, table_end;
	int seen[GW_BLOB_NTABLES] = { 0 };

	if (hsize < GW_BLOB_HDR_SIZE || hsize % GW_BLOB_ALIGN || hsize > data_end)
		return bad(v, GW_ECORRUPT, "header size %u invalid", hsize);
	if (flags)
		return bad(v, GW_EVERSION, "flags 0x%x unknown to this reader", flags);
	if (nsec > GW_BLOB_MAX_SECTIONS)
		return bad(v, GW_ECORRUPT, "%u sections, more than %d", nsec, GW_BLOB_MAX_SECTIONS);
	table_end = hsize + (uint64_t)nsec * GW_BLOB_SEC_ENTRY_SIZE;
	if (table_end > data_end)
		return bad(v, GW_ECORRUPT, "section table (%u entries) runs past the data", nsec);
	for (uint32_t k = 0; k < nsec; k++) {
		const uint8_t *e = p + hsize + (size_t)k * GW_BLOB_SEC_ENTRY_SIZE;
		uint32_t id = gw_get_u32le(e + GW_BLOB_SEC_ID);
		uint32_t off = gw_get_u32le(e + GW_BLOB_SEC_OFFSET);
		uint32_t size = gw_get_u32le(e + GW_BLOB_SEC_SIZE);
		uint32_t count = gw_get_u32le(e + GW_BLOB_SEC_COUNT);
		unsigned rs = gw_blob_record_size(id);
		const char *name = gw_blob_table_name(id);

		if (off % GW_BLOB_ALIGN)
			return bad(v, GW_ECORRUPT, "section %u (%s): offset %u not 8-byte aligned",
				   k, name, off);
		if (off < table_end || (uint64_t)off + size > data_end)
			return bad(v, GW_ECORRUPT, "section %u (%s): bytes %u+%u outside the data "
				   "area [%llu, %llu)", k, name, off, size,
				   (unsigned long long)table_end, (unsigned long long)data_end);
		for (uint32_t j = 0; j < k; j++) {
			const uint8_t *f = p + hsize + (size_t)j * GW_BLOB_SEC_ENTRY_SIZE;
			uint32_t fo = gw_get_u32le(f + GW_BLOB_SEC_OFFSET);
			uint32_t fs = gw_get_u32le(f + GW_BLOB_SEC_SIZE);

			if (size && fs && off < (uint64_t)fo + fs && fo < (uint64_t)off + size)
				return bad(v, GW_ECORRUPT, "section %u (%s) overlaps section %u (%s)",
					   k, name, j, gw_blob_table_name(gw_get_u32le(f + GW_BLOB_SEC_ID)));
		}
		if (!rs)
			continue; /* a later minor version's section: skipped */
		if ((uint64_t)count * rs != size)
			return bad(v, GW_ECORRUPT, "%s: size %u is not count %u * record size %u",
				   name, size, count, rs);
		if (seen[id]++)
			return bad(v, GW_ECORRUPT, "%s: section present twice", name);
		v->b->t[id].p = p + off;
		v->b->t[id].n = count;
	}
	for (unsigned t = 0; t < GW_BLOB_FIRST_OPTIONAL; t++)
		if (!seen[t])
			return bad(v, GW_ECORRUPT, "%s: section missing", gw_blob_table_name(t));
	if (v->b->t[GW_BLOB_SETTINGS].n != 1)
		return bad(v, GW_ECORRUPT, "SETTINGS: %u records, not 1", v->b->t[GW_BLOB_SETTINGS].n);
	return 0;
}

/* blob_int.h.  The record checks run leaves first, so that a check
 * following a reference (a route's respond to its template parts) finds the
 * target already checked. */
int gw_blob_verify(struct gw_blob *b, const uint8_t *p, size_t len, char *why, size_t whylen)
{
	static int (*const steps[])(struct vctx *) = {
		verify_files, verify_hosts, verify_tpls, verify_headers, verify_strlist,
		verify_cidrs, verify_targets, verify_polrefs, verify_ratelimits, verify_auths,
		verify_jwkeys, verify_jwts,
		verify_cors, verify_hdrpols, verify_ipfilters, verify_policies,
		verify_upstreams, verify_uptls, verify_upws, verify_responds, verify_proxies, verify_rattrs,
		verify_routes, verify_edges, verify_ehash, verify_nodes, verify_settings,
	};
	struct vctx v = { b, why, whylen };

	if (why && whylen)
		why[0] = '\0';
	b->base = p;
	b->len = len;
	TRY(verify_header(&v, p, len));
	TRY(verify_sections(&v, p, len));
	for (size_t k = 0; k < sizeof steps / sizeof *steps; k++)
		TRY(steps[k](&v));
	return 0;
}
