/* The scalar syntaxes of the route language (docs/routes.md, "Units"):
 * integers, durations, sizes, rates, CIDRs, HOST:PORT addresses and host
 * names (header-name tokens: lib/http.h).
 *
 * Each parser takes <len> bytes at <s> (not necessarily NUL-terminated, never
 * trimmed: YAML already removed the blanks around a plain scalar) and returns
 * GWC_U_OK with the value, or one negative status saying what is wrong.  They
 * only decode: whether a value fits its field (a quota of at least 1, a timeout
 * of at most 2^32-1 ms) is the caller's check, so that the message can name the
 * field.
 */
#ifndef GWC_UNITS_H
#define GWC_UNITS_H

#include <stddef.h>
#include <stdint.h>
#include "lib/model.h"

enum gwc_unit_status {
	GWC_U_OK = 0,
	GWC_U_SYNTAX = -1,   /* not of the form at all */
	GWC_U_RANGE = -2,    /* well-formed, but overflows 64 bits */
	GWC_U_UNIT = -3,     /* number fine, unit missing or unknown */
	GWC_U_PREFIX = -4,   /* CIDR: prefix not a number or too long for the family */
	GWC_U_HOSTBITS = -5, /* CIDR: bits set beyond the prefix */
	GWC_U_PORT = -6,     /* address: port missing, not a number, 0 or > 65535 */
	GWC_U_HOST = -7,     /* address: host part not an IP literal nor a host name */
};

/* Decimal integer without sign or leading zeros ("0" itself is fine: YAML 1.1
 * readers would take "010" for octal, so it is refused rather than guessed). */
int gwc_parse_uint(const char *s, size_t len, uint64_t *out);

/* Integer + unit ms, s, m, h or d, the unit required ("500ms", "2s", "1d").
 * <*ms> gets milliseconds.  GWC_U_UNIT when the unit is missing or unknown. */
int gwc_parse_duration(const char *s, size_t len, uint64_t *ms);

/* Integer, optionally + B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB
 * (powers of 1024).  Units are case-sensitive.  <*bytes> gets the size. */
int gwc_parse_size(const char *s, size_t len, uint64_t *bytes);

/* QUOTA/PERIOD where PERIOD is s, min, h, d or a duration ("10/s", "600/min",
 * "100/10s").  <*quota> and <*period_ms> may be 0: the caller refuses that. */
int gwc_parse_rate(const char *s, size_t len, uint64_t *quota, uint64_t *period_ms);

/* ADDR/PREFIX or a bare ADDR (then /32 or /128), IPv4 or IPv6.  Fills <out>.
 * GWC_U_SYNTAX for a bad address, GWC_U_PREFIX for a bad prefix, and
 * GWC_U_HOSTBITS when bits beyond the prefix are set (<out> is then filled with
 * the address masked to the prefix, to suggest the intended network). */
int gwc_parse_cidr(const char *s, size_t len, struct gw_cidr *out);

/* HOST:PORT or [V6]:PORT.  On success <*host_off>/<*host_len> delimit the host
 * inside <s> without brackets, and <*port> is 1..65535.  HOST is an IPv4
 * literal or a host name (gwc_is_hostname); [V6] an IPv6 literal. */
int gwc_parse_hostport(const char *s, size_t len, size_t *host_off, size_t *host_len,
		       uint16_t *port);

/* 1 when <s> is a DNS host name (RFC 1123 labels of letters, digits and inner
 * hyphens, 1..63 bytes each, 253 in all, no trailing dot) or an IPv4 literal,
 * else 0.  Case is not checked. */
int gwc_is_hostname(const char *s, size_t len);

#endif
