/* CRC-32C in software, slicing-by-8 (crc32c.h).
 *
 * The tables are computed once, on first use, under pthread_once: gwd may
 * verify a blob from its reload thread while another thread verifies a second
 * one, and a constant table of 8 KiB in the source would hide nothing worth
 * reading.  Eight bytes per step keeps the check of a blob of a few hundred KiB
 * well under a millisecond.
 */
#include "lib/crc32c.h"

#include <pthread.h>

#define POLY 0x82F63B78u /* Castagnoli, reflected */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* Fill table[k][b]: the CRC of byte <b> followed by <k> zero bytes. */
static void table_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xFF];
}

/* crc32c.h. */
uint32_t gw_crc32c(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *s = p;

	pthread_once(&table_once, table_init);
	crc = ~crc;
	while (len >= 8) {
		/* Byte by byte assembly: <p> has any alignment. */
		uint32_t lo = crc ^ ((uint32_t)s[0] | (uint32_t)s[1] << 8 |
				     (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24);
		crc = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^
		      table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
		      table[3][s[4]] ^ table[2][s[5]] ^ table[1][s[6]] ^ table[0][s[7]];
		s += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *s++) & 0xFF];
	return ~crc;
}
