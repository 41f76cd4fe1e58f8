/* The client address of a request, as rate limits and logs see it.
 *
 * It is the socket's peer, unless the peer is one of the route file's
 * trusted proxies (settings.trusted_proxies): then X-Forwarded-For is walked
 * from the right, skipping trusted addresses; the first untrusted one is the
 * client, or the leftmost when all are trusted.  A malformed entry stops the
 * walk and the last good address stands.  Believing X-Forwarded-For from
 * anyone else would let a client pick its own rate-limit bucket per request.
 *
 * Addresses are 16 bytes in network order: IPv6 as is, IPv4 v4-mapped
 * (::ffff:a.b.c.d), so that one comparison and one rate-limit key serve both
 * families.  Nothing here allocates.
 */
#ifndef GWD_CLIENTIP_H
#define GWD_CLIENTIP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/model.h"

struct gwd_clientip {
	uint8_t b[16];
};

/* Buffer size that fits any address formatted by gwd_clientip_format, NUL included. */
#define GWD_CLIENTIP_STRLEN 46

/* Set <ip> from socket address <sa> (AF_INET or AF_INET6).  Returns 0, or -1
 * for another family (<ip> is then ::). */
int gwd_clientip_from_sockaddr(struct gwd_clientip *ip, const struct sockaddr *sa);

/* Parse the <len> bytes at <s> as one address: dotted IPv4 (four decimal
 * octets, no leading zeros beyond "0"), or IPv6 (RFC 4291 text, optional
 * dotted tail), optionally in brackets.  No port, no zone, no spaces.
 * Returns 0 and sets <ip>, or -1 when malformed. */
int gwd_clientip_parse(struct gwd_clientip *ip, const char *s, size_t len);

/* Whether <ip> lies in <c> (a v4 CIDR matches v4-mapped addresses).
 * Returns 1 or 0. */
int gwd_clientip_in_cidr(const struct gwd_clientip *ip, const struct gw_cidr *c);

/* Whether <ip> lies in any of the <n> CIDRs at <cidrs>.  Returns 1 or 0. */
int gwd_clientip_in_cidrs(const struct gwd_clientip *ip, const struct gw_cidr *cidrs, uint32_t n);

/* Write <ip> as text into <out> (GWD_CLIENTIP_STRLEN bytes): dotted for v4-mapped,
 * RFC 5952 for IPv6.  Returns the length written (without the NUL). */
size_t gwd_clientip_format(const struct gwd_clientip *ip, char out[GWD_CLIENTIP_STRLEN]);

/* The client address of a request from <peer> whose X-Forwarded-For fields
 * are <xff>[0..<nxff>) (values in the order received, <xff_len>[i] bytes
 * each, need not be NUL-terminated; several fields are one list, RFC 9110
 * 5.3), with the <ntrusted> trusted-proxy CIDRs at <trusted>.  Sets <out>.
 * Returns 0, or -1 when <peer> is not AF_INET/AF_INET6 (<out> is then ::). */
int gwd_clientip(struct gwd_clientip *out, const struct sockaddr *peer,
		const char *const *xff, const size_t *xff_len, unsigned nxff,
		const struct gw_cidr *trusted, uint32_t ntrusted);

#endif
