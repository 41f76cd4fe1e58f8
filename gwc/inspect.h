/* `gwc inspect`: a compiled blob laid out for people (gwc/inspect.c).
 * The printer is apart from the command so that tests compare its output
 * with the golden files of tests/golden/ without a process. */
#ifndef GWC_INSPECT_H
#define GWC_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/blob.h"

/* Print blob <b> to <out>: header, section table, routes, policies,
 * upstreams, settings and trie statistics.  <raw> is the file's <len> bytes
 * (the same ones <b> verified), read for the header fields and the section
 * table that the accessors do not expose.  Returns 0, or -1 when memory ran
 * out (the output is then incomplete). */
int gwc_inspect_print(const struct gw_blob *b, const uint8_t *raw, size_t len, FILE *out);

#endif
