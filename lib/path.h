/* The canonical request-path normaliser: the only one gwc and gwd use.
 *
 * Input: the raw request target's path as sent on the wire (before '?').
 * Output: the decoded, canonical path the matcher sees.  Rules (docs/routes.md,
 * "Path normalisation"):
 *   - must start with '/';
 *   - percent-escapes are decoded; an invalid escape ("%G1", "%4") is refused;
 *   - an encoded '/' ("%2F"), a backslash (raw or "%5C") and NUL (raw or "%00")
 *     are refused, as are control characters (< 0x20, 0x7F) after decoding;
 *   - refused too, after decoding, because a backend could read them
 *     differently from the matcher: an overlong UTF-8 form ("%C0%AE", which a
 *     lenient decoder takes for '.'), and a '%' followed by two hex digits
 *     ("%252e": encoded twice, '.' to a backend that decodes twice);
 *   - empty segments ("//") are collapsed; "." segments are dropped; ".."
 *     removes the previous segment, and refuses when it would climb above "/";
 *     dot segments are recognised after decoding ("%2e%2E" is "..");
 *   - a trailing '/' is dropped (except for "/" itself): "/a/" matches "/a".
 * Case is kept: paths are case-sensitive.
 */
#ifndef GW_PATH_H
#define GW_PATH_H

#include <stddef.h>

enum gw_path_status {
	GW_PATH_OK = 0,
	GW_PATH_EMPTY = -1,       /* not starting with '/' */
	GW_PATH_BAD_ESCAPE = -2,  /* '%' not followed by two hex digits */
	GW_PATH_ENC_SLASH = -3,   /* %2F */
	GW_PATH_BACKSLASH = -4,   /* '\' or %5C */
	GW_PATH_NUL = -5,         /* NUL raw or %00 */
	GW_PATH_CTL = -6,         /* other control character */
	GW_PATH_ABOVE_ROOT = -7,  /* ".." past "/" */
	GW_PATH_TOO_LONG = -8,    /* the output does not fit <cap> */
	GW_PATH_OVERLONG = -9,    /* overlong UTF-8 (C0/C1, E0 80-9F, ...) */
	GW_PATH_DOUBLE_ESCAPE = -10, /* "%25" then two hex digits */
	GW_PATH_DOT_SEGMENT = -11, /* "." or ".." (gw_path_check_target only) */
};

/* Normalise <len> bytes of <raw> into <out> (<cap> bytes, NUL-terminated on
 * success).  Returns GW_PATH_OK and sets <*outlen>, or a negative status; <out>
 * is then undefined.  No allocation.  <out> may not alias <raw>. */
int gw_path_normalize(const char *raw, size_t len, char *out, size_t cap, size_t *outlen);

/* Check a path that gwd renders itself (a proxy route's rewrite, already
 * percent-encoded) against the same rules: every refusal above applies, and
 * a "." or ".." segment (raw or encoded) is refused too, with
 * GW_PATH_DOT_SEGMENT, rather than resolved, since the path is sent as it
 * is.  Empty segments pass.  <scratch> (<cap> bytes, <len> + 1 suffice)
 * receives the normalised form, of no use to the caller.  Returns GW_PATH_OK
 * or a negative status.  No allocation. */
int gw_path_check_target(const char *raw, size_t len, char *scratch, size_t cap);

/* A short English reason for a status. */
const char *gw_path_strerror(int status);

#endif
