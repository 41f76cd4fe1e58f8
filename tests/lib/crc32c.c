/* Tests of lib/crc32c.c: the published check value of CRC-32C, chaining, and
 * the slicing-by-8 path against a bit-at-a-time reference on every length
 * and alignment that exercises the 8-byte loop and its tail. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "lib/crc32c.h"

/* The reference: one bit at a time, straight from the definition. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

static void test_check_value(void)
{
	CU_ASSERT_EQUAL(gw_crc32c(0, "123456789", 9), 0xE3069283u);
	CU_ASSERT_EQUAL(gw_crc32c(0, "", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros. */
	{
		uint8_t z[32] = { 0 };

		CU_ASSERT_EQUAL(gw_crc32c(0, z, sizeof z), 0x8A9136AAu);
	}
}

static void test_against_reference(void)
{
	uint8_t buf[80];

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; off + n <= sizeof buf; n++) {
			uint32_t a = gw_crc32c(0, buf + off, n);

			CU_ASSERT_EQUAL(a, crc_bitwise(buf + off, n));
			/* Chained in two pieces, split anywhere. */
			CU_ASSERT_EQUAL(gw_crc32c(gw_crc32c(0, buf + off, n / 3), buf + off + n / 3,
						  n - n / 3), a);
		}
}

int gw_suite_lib_crc32c(void);
int gw_suite_lib_crc32c(void)
{
	CU_pSuite s = CU_add_suite("lib/crc32c", NULL, NULL);

	if (!s || !CU_add_test(s, "check values", test_check_value) ||
	    !CU_add_test(s, "slicing-by-8 = bitwise", test_against_reference))
		return -1;
	return 0;
}
