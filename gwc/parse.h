/* gwc's front end: route files (docs/routes.md) into a struct gw_conf.
 *
 * A configuration may span several files, so parsing is three steps over one
 * struct gwc_state, which holds what crosses files (names defined so far,
 * references still to resolve, the running fingerprint, the string arena):
 *
 *   st = gwc_state_new();
 *   gwc_parse_file(&conf, "a.yaml", &diag, st);   // each file, command-line order
 *   gwc_parse_file(&conf, "b.yaml", &diag, st);
 *   gwc_parse_finish(&conf, &diag, st);           // names, hosts, fingerprint
 *   ... gw_trie_build(&conf, ...), gw_blob_write(&conf, ...) ...
 *   gw_conf_free(&conf);
 *   gwc_state_free(st);                           // conf strings die here
 *
 * Every error is added to the struct gw_diag with its place (file index, 1-based
 * line and column) and parsing goes on, so that one run reports all of them.
 * Strings in the conf are owned by the state's arena: free the state after the
 * conf, never before.
 */
#ifndef GWC_PARSE_H
#define GWC_PARSE_H

#include <stddef.h>
#include "lib/diag.h"
#include "lib/model.h"

#define GWC_MAX_FILE_BYTES (16u * 1024 * 1024) /* larger route files are refused */
#define GWC_MAX_DEPTH 64                       /* deeper YAML nesting is refused */
#define GWC_MAX_ERRORS 1000                    /* messages recorded per state */

struct gwc_state; /* opaque */

/* A new, empty state.  Returns NULL when memory runs out.  Free it with
 * gwc_state_free() after the conf it filled. */
struct gwc_state *gwc_state_new(void);

/* Free <st> and every string it handed to a conf.  NULL is fine. */
void gwc_state_free(struct gwc_state *st);

/* Read <path> (at most GWC_MAX_FILE_BYTES) and add its upstreams, policies and
 * routes to <conf> (from gw_conf_init()).  <path> is recorded in conf.files as
 * given.  Returns 0 when the file added no error to <d>, 1 when it did (a file
 * that cannot be read is one such error), or GW_ENOMEM. */
int gwc_parse_file(struct gw_conf *conf, const char *path, struct gw_diag *d,
		   struct gwc_state *st);

/* The same over <len> bytes at <buf>, named <name> in conf.files and in
 * messages (the fuzzer's and the unit tests' way in).  <buf> is only read
 * during the call. */
int gwc_parse_mem(struct gw_conf *conf, const char *name, const void *buf, size_t len,
		  struct gw_diag *d, struct gwc_state *st);

/* After the last file: resolve policy and upstream names (an unknown one is an
 * error at the reference), check what depends on a route's whole policy list,
 * sort and remap conf.hosts, and set conf.fingerprint.  Call once.  Returns 0
 * when nothing was reported to <d> by this step, 1 when errors were, or
 * GW_ENOMEM. */
int gwc_parse_finish(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st);

#endif
