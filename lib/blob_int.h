/* What the loader (lib/blob.c) and the verifier (lib/blob_verify.c) share,
 * and nothing else sees: the open blob, the raw record decoders the verifier
 * has vouched for, and the verifier's entry point.
 */
#ifndef GW_BLOB_INT_H
#define GW_BLOB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/blob-t.h"
#include "lib/bytes.h"
#include "lib/error.h"
#include "lib/model.h"

struct gw_blob {
	const uint8_t *base; /* the whole file */
	size_t len;
	void *map;           /* what to munmap, or NULL (gw_blob_open_mem) */
	struct gw_blob_sec t[GW_BLOB_NTABLES]; /* first record, record count */
};

/* Record <i> of table <t>; <i> must be below its count. */
static inline const uint8_t *rec(const struct gw_blob *b, unsigned t, uint32_t i)
{
	return b->t[t].p + (size_t)i * gw_blob_record_size(t);
}

/* Decode the string reference at <p>; the verifier has checked it. */
static inline struct gw_str str_at(const struct gw_blob *b, const uint8_t *p)
{
	struct gw_str s;

	s.p = (const char *)b->t[GW_BLOB_STRS].p + gw_get_u32le(p + GW_BLOB_STR_OFF);
	s.len = gw_get_u32le(p + GW_BLOB_STR_LEN);
	return s;
}

/* Decode the PLACE at <p>. */
static inline struct gw_place place_at(const uint8_t *p)
{
	struct gw_place pl;

	pl.line = gw_get_u32le(p + GW_BLOB_PLACE_LINE);
	pl.file = gw_get_u16le(p + GW_BLOB_PLACE_FILE);
	pl.col = gw_get_u16le(p + GW_BLOB_PLACE_COL);
	return pl;
}

/* Verify all of <len> bytes at <p> into <b> (zeroed by the caller; its
 * base, len and section table are filled) against every clause of
 * docs/blob-format.md "Verification".  Returns GW_OK, or the gw_err of the
 * first refusal with <why> (<whylen> bytes, may be NULL) saying which. */
int gw_blob_verify(struct gw_blob *b, const uint8_t *p, size_t len, char *why, size_t whylen);

#endif
