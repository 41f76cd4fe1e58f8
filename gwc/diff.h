/* `gwc diff`: what changed between two compiled blobs (gwc/diff.c).  The
 * printer is apart from the command so that tests can read its output. */
#ifndef GWC_DIFF_H
#define GWC_DIFF_H

#include <stdio.h>

#include "lib/blob.h"

/* Print to <out> the routes, policies, upstreams and settings that differ
 * between <a> (old) and <b> (new).  Returns the number of differences (0:
 * the blobs mean the same), or -1 when memory ran out. */
int gwc_diff_print(const struct gw_blob *a, const struct gw_blob *b, FILE *out);

#endif
