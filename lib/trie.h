/* The route trie: built by gwc from the model, stored in the blob, walked by
 * the matcher.
 *
 * One tree per host (index 0: routes without a host).  Each node is one path
 * segment; a node has sorted literal children (edges), at most one {param}
 * child, and the routes that end at it:
 *
 *   root "/" --"api"--> n1 --"users"--> n2 --{param}--> n3   [GET route 4, PUT route 5]
 *                        \--"hello"--> n4   [GET route 0]
 *   n5 "/static" ...  wild: [GET route 7]   (trailing "*", one or more segments)
 *
 * Routes are stored grouped by node: node.route_first .. +term_count are the
 * routes whose pattern ends at the node; the wild_count routes after them end
 * in "*" at the node.  Within a group no two routes share a method.
 * Children always have a larger index than their parent, so a walk terminates
 * on any blob the loader accepted.
 */
#ifndef GW_TRIE_H
#define GW_TRIE_H

#include <stdint.h>
#include "lib/model.h"

struct gw_trie_node {
	uint32_t lit_first, lit_count; /* edges, sorted by label bytes */
	uint32_t param_child;          /* node index, or GW_NONE */
	uint32_t route_first;          /* first route of the node's groups */
	uint8_t term_count;            /* routes ending here */
	uint8_t wild_count;            /* routes ending here with a trailing "*" */
};

struct gw_trie_edge {
	struct gw_str label; /* the segment; in the blob: a slice of a route's pattern,
	                        not NUL-terminated */
	uint32_t child;      /* node index */
};

/* The in-memory result of gw_trie_build(), as the writer serialises it. */
struct gw_trie {
	struct gw_trie_node *nodes;
	uint32_t nnodes;
	struct gw_trie_edge *edges; /* labels point into conf route patterns */
	uint32_t nedges;
	uint32_t *order;  /* order[i]: conf index of the i-th route in trie order */
	uint32_t nroutes;
	uint32_t *roots;  /* roots[h]: root node of conf host h */
	uint32_t nroots;
};

struct gw_diag;

/* Build the trie of <conf>'s routes, and check them: two routes that can match
 * the same request, and routes that can never be reached, are reported to <d>
 * naming both places and an example path.  Returns 0 with <t> filled (free with
 * gw_trie_free), 1 when errors were reported to <d> (<t> is then empty), or
 * GW_ENOMEM. */
int gw_trie_build(const struct gw_conf *conf, struct gw_trie *t, struct gw_diag *d);

void gw_trie_free(struct gw_trie *t);

#endif
