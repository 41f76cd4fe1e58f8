/* CRC-32C (Castagnoli), the checksum of the blob trailer (docs/blob-format.md).
 *
 * Castagnoli rather than the zlib polynomial because it detects more error
 * patterns at the blob's sizes and is what iSCSI, ext4 and LevelDB use, so a
 * reader in another language finds it in its standard library.
 */
#ifndef GW_CRC32C_H
#define GW_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend <crc> (0 to start) with <len> bytes at <p>; returns the new CRC.
 * Chains: gw_crc32c(gw_crc32c(0, a, n), b, m) is the CRC of a then b.
 * crc32c("123456789") == 0xE3069283.  Thread-safe, no allocation. */
uint32_t gw_crc32c(uint32_t crc, const void *p, size_t len);

#endif
