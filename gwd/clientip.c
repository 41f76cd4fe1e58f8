/* The client address of a request: the socket peer, or what trusted proxies
 * say in X-Forwarded-For (see clientip.h for the rule and why).
 *
 * X-Forwarded-For is attacker-controlled text: entries are parsed strictly
 * (a bare IPv4 or IPv6 address, IPv6 optionally in brackets; no ports, no
 * zones, no "unknown"), the walk stops at the first entry that is not one,
 * and nothing is allocated: an entry is copied into a fixed stack buffer only
 * when it is short enough to be an address at all.
 */
#include "gwd/clientip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* The v4-mapped prefix ::ffff:0:0/96. */
static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Whether <ip> is v4-mapped.  Returns 1 or 0. */
static int is_v4(const struct gwd_clientip *ip)
{
	return memcmp(ip->b, v4_prefix, sizeof v4_prefix) == 0;
}

/* Set <ip> to the v4-mapped form of the 4 bytes at <a4>. */
static void set_v4(struct gwd_clientip *ip, const uint8_t a4[4])
{
	memcpy(ip->b, v4_prefix, sizeof v4_prefix);
	memcpy(ip->b + 12, a4, 4);
}

int gwd_clientip_from_sockaddr(struct gwd_clientip *ip, const struct sockaddr *sa)
{
	memset(ip, 0, sizeof *ip);
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof sin);
		set_v4(ip, (const uint8_t *)&sin.sin_addr.s_addr);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof sin6);
		memcpy(ip->b, sin6.sin6_addr.s6_addr, 16);
		return 0;
	}
	return -1;
}

int gwd_clientip_parse(struct gwd_clientip *ip, const char *s, size_t len)
{
	char buf[GWD_CLIENTIP_STRLEN];
	uint8_t a4[4];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
		if (!memchr(s, ':', len))
			return -1; /* brackets are for IPv6 only */
	}
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* glibc's inet_pton takes exactly four decimal octets without leading
	 * zeros for AF_INET, and RFC 4291 text for AF_INET6; it stops at no
	 * NUL byte inside, so refuse those first */
	if (memchr(s, '\0', len))
		return -1;
	if (inet_pton(AF_INET, buf, a4) == 1) {
		set_v4(ip, a4);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, ip->b) == 1)
		return 0;
	return -1;
}

/* Whether the first <bits> bits of <a> and <b> agree.  Returns 1 or 0. */
static int prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int gwd_clientip_in_cidr(const struct gwd_clientip *ip, const struct gw_cidr *c)
{
	if (c->family == 4)
		return is_v4(ip) && c->prefix <= 32 && prefix_eq(ip->b + 12, c->addr, c->prefix);
	if (c->family == 6)
		return c->prefix <= 128 && prefix_eq(ip->b, c->addr, c->prefix);
	return 0;
}

int gwd_clientip_in_cidrs(const struct gwd_clientip *ip, const struct gw_cidr *cidrs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (gwd_clientip_in_cidr(ip, &cidrs[i]))
			return 1;
	return 0;
}

size_t gwd_clientip_format(const struct gwd_clientip *ip, char out[GWD_CLIENTIP_STRLEN])
{
	if (!inet_ntop(is_v4(ip) ? AF_INET : AF_INET6, is_v4(ip) ? ip->b + 12 : ip->b, out,
		       GWD_CLIENTIP_STRLEN))
		out[0] = '\0';
	return strlen(out);
}

/* Whether <c> is optional white space (RFC 9110 5.6.3).  Returns 1 or 0. */
static int ows(char c)
{
	return c == ' ' || c == '\t';
}

int gwd_clientip(struct gwd_clientip *out, const struct sockaddr *peer,
		const char *const *xff, const size_t *xff_len, unsigned nxff,
		const struct gw_cidr *trusted, uint32_t ntrusted)
{
	if (gwd_clientip_from_sockaddr(out, peer) < 0)
		return -1;
	/* only a trusted peer's X-Forwarded-For is believed */
	if (!gwd_clientip_in_cidrs(out, trusted, ntrusted))
		return 0;
	/* the fields form one list (RFC 9110 5.3): walk the last field first,
	 * each from its right end */
	for (unsigned f = nxff; f-- > 0;) {
		const char *s = xff[f];
		size_t end = s ? xff_len[f] : 0;

		for (;;) {
			size_t start = end, a, b;
			struct gwd_clientip ip;

			while (start > 0 && s[start - 1] != ',')
				start--;
			for (a = start; a < end && ows(s[a]); a++)
				;
			for (b = end; b > a && ows(s[b - 1]); b--)
				;
			/* empty list elements are ignored (RFC 9110 5.6.1) */
			if (b > a) {
				if (gwd_clientip_parse(&ip, s + a, b - a) < 0)
					return 0; /* malformed: the last good one stands */
				*out = ip;
				if (!gwd_clientip_in_cidrs(&ip, trusted, ntrusted))
					return 0; /* the first untrusted: the client */
			}
			if (start == 0)
				break;
			end = start - 1;
		}
	}
	return 0; /* every hop trusted: the leftmost stands */
}
