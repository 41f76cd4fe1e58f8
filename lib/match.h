/* The matcher: finds the route for (host, method, path) on a loaded blob.
 *
 * Semantics (docs/routes.md, "Matching", and tests/vectors/match.txt, the one
 * set of test vectors shared by `gwc match` and gwd):
 *   - <path> is already normalised (lib/path.h);
 *   - the tree of the request's host is tried first, then the any-host tree;
 *   - segment by segment a literal beats a {param}, which beats a trailing "*";
 *     the walk backtracks, and the first node (in that order) holding a route
 *     for the method wins;
 *   - a HEAD request is served by a GET route when no route names HEAD;
 *   - when routes match the path but none the method: 405, with the union of
 *     their methods as the Allow list; when none matches the path: 404.
 * No allocation; the work is bounded by the trie (a node is visited at most once).
 */
#ifndef GW_MATCH_H
#define GW_MATCH_H

#include <stddef.h>
#include <stdint.h>
#include "lib/blob.h"

#define GW_MAX_PARAMS 32 /* also the compile-time bound on {param} per route */

struct gw_match {
	uint32_t route;   /* blob route index */
	uint16_t allow;   /* 405: the methods that would match (mask) */
	uint8_t nparams;
	struct {
		uint32_t off, len; /* slice of the normalised path */
	} params[GW_MAX_PARAMS];
	uint32_t rest_off, rest_len; /* what "*" matched (without leading '/'), or 0,0 */
};

enum gw_match_result {
	GW_MATCH_FOUND = 1,
	GW_MATCH_NOT_FOUND = 0,   /* 404 */
	GW_MATCH_NO_METHOD = 2,   /* 405, <m->allow> set */
};

/* Match <method> (one enum gw_method bit) for <path> (<len> bytes, normalised)
 * on <host> (<hlen> bytes, may be empty; compared case-insensitively, a ":port"
 * suffix ignored).  Returns an enum gw_match_result and fills <m>. */
int gw_match(const struct gw_blob *b, const char *host, size_t hlen, unsigned method,
	     const char *path, size_t len, struct gw_match *m);

#endif
