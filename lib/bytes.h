/* Fixed little-endian accessors for the blob format.
 *
 * The blob is read straight from a read-only mapping whose records sit at any
 * byte offset, so nothing casts the mapping to structs: every field is read
 * through these helpers (tinycdb's cdb_unpack does the same).  They compile to
 * single loads on little-endian machines.
 */
#ifndef GW_BYTES_H
#define GW_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t gw_get_u16le(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t gw_get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t gw_get_u64le(const uint8_t *p)
{
	return (uint64_t)gw_get_u32le(p) | (uint64_t)gw_get_u32le(p + 4) << 32;
}

static inline void gw_put_u16le(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void gw_put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void gw_put_u64le(uint8_t *p, uint64_t v)
{
	gw_put_u32le(p, (uint32_t)v);
	gw_put_u32le(p + 4, (uint32_t)(v >> 32));
}

#endif
