/* The compiled blob: loading and reading it (lib/blob.c), verifying it
 * (lib/blob_verify.c), and writing it (lib/blob_write.c).  The byte layout
 * is docs/blob-format.md and lib/blob-t.h.
 *
 * gw_blob_open() reads a file into read-only memory of its own (an anonymous
 * mapping: a file rewritten in place later cannot change what was verified)
 * and verifies all of it once; after that
 * every accessor below is a bounds-free decode of records the verifier already
 * checked, so the request path never re-validates and never allocates.
 * Accessors decode into the structs of lib/model.h; their strings point into
 * the mapping and live as long as it.
 */
#ifndef GW_BLOB_H
#define GW_BLOB_H

#include <stddef.h>
#include <stdint.h>
#include "lib/error.h"
#include "lib/model.h"
#include "lib/trie.h"

struct gw_blob; /* opaque */

/* Read <path> into read-only memory and verify it.  Returns GW_OK and sets <*out> (close with
 * gw_blob_close), or a gw_err; on error <why> (if not NULL, <whylen> bytes) gets
 * a one-line explanation naming the section or record at fault. */
int gw_blob_open(const char *path, struct gw_blob **out, char *why, size_t whylen);

/* The same over <len> bytes at <mem>, which the caller keeps alive and unchanged
 * while the blob is open (used by tests and the fuzzer). */
int gw_blob_open_mem(const void *mem, size_t len, struct gw_blob **out, char *why, size_t whylen);

void gw_blob_close(struct gw_blob *b);

/* Header facts. */
const uint8_t *gw_blob_fingerprint(const struct gw_blob *b); /* 32 bytes */
uint64_t gw_blob_size(const struct gw_blob *b);
unsigned gw_blob_version(const struct gw_blob *b);

/* Counts of each table (enum gw_blob_table in blob-t.h). */
uint32_t gw_blob_count(const struct gw_blob *b, unsigned table);

/* Decoders: <i> must be below the table's count (checked by the caller; out of
 * range returns -1 and leaves <out> untouched, never reads outside). 0 on success. */
int gw_blob_file(const struct gw_blob *b, uint32_t i, struct gw_str *out);
int gw_blob_host(const struct gw_blob *b, uint32_t i, struct gw_str *out, uint32_t *root);
int gw_blob_node(const struct gw_blob *b, uint32_t i, struct gw_trie_node *out);
int gw_blob_edge(const struct gw_blob *b, uint32_t i, struct gw_trie_edge *out);
int gw_blob_route(const struct gw_blob *b, uint32_t i, struct gw_route *out);
int gw_blob_respond(const struct gw_blob *b, uint32_t i, struct gw_respond *out);
int gw_blob_proxy(const struct gw_blob *b, uint32_t i, struct gw_proxy *out);
int gw_blob_tpl(const struct gw_blob *b, uint32_t i, struct gw_tpl *out);
int gw_blob_header(const struct gw_blob *b, uint32_t i, struct gw_header *out);
int gw_blob_strlist(const struct gw_blob *b, uint32_t i, struct gw_str *out);
int gw_blob_polref(const struct gw_blob *b, uint32_t i, uint32_t *out);
int gw_blob_policy(const struct gw_blob *b, uint32_t i, struct gw_policy *out);
int gw_blob_ratelimit(const struct gw_blob *b, uint32_t i, struct gw_ratelimit *out);
int gw_blob_auth(const struct gw_blob *b, uint32_t i, struct gw_auth *out);
int gw_blob_jwt(const struct gw_blob *b, uint32_t i, struct gw_jwt *out);
int gw_blob_jwk(const struct gw_blob *b, uint32_t i, struct gw_jwk *out);
int gw_blob_body_limit(const struct gw_blob *b, uint32_t i, uint64_t *out);
int gw_blob_cors(const struct gw_blob *b, uint32_t i, struct gw_cors *out);
int gw_blob_hdrpol(const struct gw_blob *b, uint32_t i, struct gw_hdrpol *out);
int gw_blob_ipfilter(const struct gw_blob *b, uint32_t i, struct gw_ipfilter *out);
int gw_blob_cidr(const struct gw_blob *b, uint32_t i, struct gw_cidr *out);
int gw_blob_upstream(const struct gw_blob *b, uint32_t i, struct gw_upstream *out);
int gw_blob_target(const struct gw_blob *b, uint32_t i, struct gw_target *out);
/* An upstream's TLS settings: <i> is gw_upstream.tls (GW_NONE: plain HTTP,
 * -1 then as for any index out of range).  Strings borrow from <b>. */
int gw_blob_uptls(const struct gw_blob *b, uint32_t i, struct gw_uptls *out);
void gw_blob_settings(const struct gw_blob *b, struct gw_settings *out);

/* Serialise <conf> (its trie built by gw_trie_build) to <path> atomically:
 * write <path>.tmp, fsync, rename, fsync the directory.  Same conf, same bytes.
 * Returns GW_OK or a gw_err (errno kept for GW_EIO). */
int gw_blob_write(const struct gw_conf *conf, const struct gw_trie *trie, const char *path);

/* The same into memory: <*out> (malloc'd, caller frees) of <*len> bytes. */
int gw_blob_write_mem(const struct gw_conf *conf, const struct gw_trie *trie,
		      uint8_t **out, size_t *len);

#endif
