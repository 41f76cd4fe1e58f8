/* Decoders of the route language's scalar syntaxes (units.h, docs/routes.md
 * "Units").  Kept apart from the YAML walk so that each syntax has one strict
 * definition, tested on its own (tests/gwc/units.c). */
#include "gwc/units.h"

#include <arpa/inet.h>
#include <string.h>

int gwc_parse_uint(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || (len > 1 && s[0] == '0'))
		return GWC_U_SYNTAX;
	for (size_t i = 0; i < len; i++) {
		unsigned dg;

		if (s[i] < '0' || s[i] > '9')
			return GWC_U_SYNTAX;
		dg = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return GWC_U_RANGE;
		v = v * 10 + dg;
	}
	*out = v;
	return GWC_U_OK;
}

/* Length of the leading run of decimal digits of <s> (<len> bytes). */
static size_t digits(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* Multiply <v> by <m> into <*out>: GWC_U_OK, or GWC_U_RANGE on overflow. */
static int mul(uint64_t v, uint64_t m, uint64_t *out)
{
	if (m && v > UINT64_MAX / m)
		return GWC_U_RANGE;
	*out = v * m;
	return GWC_U_OK;
}

/* Match the unit <u> (<ulen> bytes) against the NULL-terminated <names>;
 * returns the index found, or -1. */
static int unit_index(const char *u, size_t ulen, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == ulen && memcmp(names[i], u, ulen) == 0)
			return i;
	return -1;
}

/* A whole number then one of the units <names> (<mult> their multipliers)
 * in <s> (<len> bytes) into <*out>; a bare number is taken as is when
 * <bare_ok>, else refused.  A GWC_U_* code. */
static int number_unit(const char *s, size_t len, const char *const *names,
		       const uint64_t *mult, int bare_ok, uint64_t *out)
{
	size_t n = digits(s, len);
	uint64_t v;
	int r, u;

	if (n == 0)
		return GWC_U_SYNTAX;
	r = gwc_parse_uint(s, n, &v);
	if (r)
		return r;
	if (n == len) {
		if (!bare_ok)
			return GWC_U_UNIT;
		*out = v;
		return GWC_U_OK;
	}
	u = unit_index(s + n, len - n, names);
	if (u < 0)
		return GWC_U_UNIT;
	return mul(v, mult[u], out);
}

int gwc_parse_duration(const char *s, size_t len, uint64_t *ms)
{
	static const char *const names[] = { "ms", "s", "m", "h", "d", NULL };
	static const uint64_t mult[] = { 1, 1000, 60000, 3600000, 86400000 };

	return number_unit(s, len, names, mult, 0, ms);
}

int gwc_parse_size(const char *s, size_t len, uint64_t *bytes)
{
	static const char *const names[] = { "B", "KB", "MB", "GB", "KiB", "MiB", "GiB", NULL };
	static const uint64_t mult[] = { 1, 1000, 1000000, 1000000000,
					 1u << 10, 1u << 20, 1u << 30 };

	return number_unit(s, len, names, mult, 1, bytes);
}

int gwc_parse_rate(const char *s, size_t len, uint64_t *quota, uint64_t *period_ms)
{
	static const char *const names[] = { "s", "min", "h", "d", NULL };
	static const uint64_t mult[] = { 1000, 60000, 3600000, 86400000 };
	const char *slash = memchr(s, '/', len);
	size_t qlen, plen;
	const char *p;
	int r, u;

	if (!slash)
		return GWC_U_SYNTAX;
	qlen = (size_t)(slash - s);
	p = slash + 1;
	plen = len - qlen - 1;
	if (qlen == 0 || plen == 0)
		return GWC_U_SYNTAX;
	r = gwc_parse_uint(s, qlen, quota);
	if (r)
		return r;
	u = unit_index(p, plen, names);
	if (u >= 0) {
		*period_ms = mult[u];
		return GWC_U_OK;
	}
	if (digits(p, plen) == 0)
		return GWC_U_UNIT;
	return gwc_parse_duration(p, plen, period_ms);
}

int gwc_parse_cidr(const char *s, size_t len, struct gw_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	unsigned maxp, prefix;
	int bad = 0;

	memset(out, 0, sizeof *out);
	if (alen == 0 || alen >= sizeof buf || memchr(s, '\0', alen))
		return GWC_U_SYNTAX;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = 4;
		maxp = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = 6;
		maxp = 128;
	} else {
		return GWC_U_SYNTAX;
	}
	prefix = maxp;
	if (slash) {
		uint64_t v;
		size_t plen = len - alen - 1;

		if (gwc_parse_uint(slash + 1, plen, &v) != GWC_U_OK || v > maxp)
			return GWC_U_PREFIX;
		prefix = (unsigned)v;
	}
	out->prefix = (uint8_t)prefix;
	/* Clear the host bits, noting whether any was set: a CIDR whose host bits
	 * are set is most likely a typo for another network (docs/routes.md). */
	for (unsigned bit = prefix; bit < maxp; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));

		if (out->addr[bit / 8] & m) {
			bad = 1;
			out->addr[bit / 8] &= (uint8_t)~m;
		}
	}
	return bad ? GWC_U_HOSTBITS : GWC_U_OK;
}

/* Parse the port of an address: 1..65535, decimal without leading zeros. */
static int parse_port(const char *s, size_t len, uint16_t *port)
{
	uint64_t v;

	if (gwc_parse_uint(s, len, &v) != GWC_U_OK || v == 0 || v > 65535)
		return GWC_U_PORT;
	*port = (uint16_t)v;
	return GWC_U_OK;
}

int gwc_parse_hostport(const char *s, size_t len, size_t *host_off, size_t *host_len,
		       uint16_t *port)
{
	if (len && s[0] == '[') {
		const char *end = memchr(s, ']', len);
		char buf[INET6_ADDRSTRLEN + 1];
		unsigned char addr[16];
		size_t hlen;

		if (!end)
			return GWC_U_HOST;
		hlen = (size_t)(end - s) - 1;
		if (hlen == 0 || hlen >= sizeof buf || memchr(s + 1, '\0', hlen))
			return GWC_U_HOST;
		memcpy(buf, s + 1, hlen);
		buf[hlen] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1)
			return GWC_U_HOST;
		size_t rest = (size_t)(end - s) + 1;
		if (rest >= len || s[rest] != ':')
			return GWC_U_PORT;
		if (parse_port(s + rest + 1, len - rest - 1, port))
			return GWC_U_PORT;
		*host_off = 1;
		*host_len = hlen;
		return GWC_U_OK;
	}
	const char *colon = memchr(s, ':', len);
	if (!colon)
		return GWC_U_PORT;
	size_t hlen = (size_t)(colon - s);
	/* A second colon means an IPv6 literal without brackets, or junk. */
	if (memchr(colon + 1, ':', len - hlen - 1))
		return GWC_U_HOST;
	if (!gwc_is_hostname(s, hlen))
		return GWC_U_HOST;
	if (parse_port(colon + 1, len - hlen - 1, port))
		return GWC_U_PORT;
	*host_off = 0;
	*host_len = hlen;
	return GWC_U_OK;
}

/* 1 when <c> is an ASCII letter or digit. */
static int alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int gwc_is_hostname(const char *s, size_t len)
{
	size_t i = 0;
	int last_numeric = 1;

	if (len == 0 || len > 253)
		return 0;
	while (i <= len) {
		size_t start = i;
		int numeric = 1;

		while (i < len && s[i] != '.') {
			if (!alnum(s[i]) && s[i] != '-')
				return 0;
			if (s[i] < '0' || s[i] > '9')
				numeric = 0;
			i++;
		}
		size_t n = i - start;
		if (n == 0 || n > 63 || s[start] == '-' || s[i - 1] == '-')
			return 0;
		last_numeric = numeric;
		i++; /* past the '.' (or past the end) */
	}
	/* A name ending in an all-digit label reads as an IPv4 address: it must
	 * be a valid one, or "10.0.0.300" would be looked up in DNS. */
	if (last_numeric) {
		char buf[INET_ADDRSTRLEN + 1];
		unsigned char addr[4];

		if (len >= sizeof buf)
			return 0;
		memcpy(buf, s, len);
		buf[len] = '\0';
		return inet_pton(AF_INET, buf, addr) == 1;
	}
	return 1;
}
