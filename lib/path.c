/* The canonical request-path normaliser (path.h).
 *
 * gwd and `gwc match` must agree byte for byte on what path the matcher sees,
 * or an operator's dry run would lie about production; hence one function, in
 * one pass over the raw bytes, with no allocation so that gwd can run it on
 * every request into a per-request buffer.
 *
 * The output is built in place: each segment is written as "/" + its decoded
 * bytes, then inspected once complete, so that dot segments are recognised
 * after decoding ("%2e%2E" is ".."), and ".." is undone by cutting the output
 * back to the previous '/'.
 *
 * The matcher sees the decoded bytes and gwd forwards them re-encoded, so a
 * backend decoding once sees what the matcher saw.  Two forms are refused
 * because a backend could still read them as something else: an overlong
 * UTF-8 sequence (a lenient decoder turns "%C0%AE" into '.', "%C0%AF" into
 * '/'), and a decoded '%' followed by two hex digits ("%252e" decodes to
 * "%2e", which is "." to a backend that decodes twice).
 */
#include "lib/path.h"

#include "lib/http.h"

/* Whether decoded byte <c>, after the decoded byte <prev> of the same
 * segment (-1 at its start), reveals an overlong UTF-8 sequence: the lead
 * byte and the first continuation byte say that the value would fit a
 * shorter form (C0 and C1 always; E0 80-9F, F0 80-8F, and the obsolete
 * 5- and 6-byte forms F8 80-87, FC 80-83).  Valid UTF-8, and other bytes
 * that are not UTF-8 at all, pass.  Returns 1 or 0. */
static int path_overlong(int prev, unsigned char c)
{
	if (c == 0xC0 || c == 0xC1)
		return 1;
	if (c < 0x80 || c > 0x9F)
		return 0;
	return prev == 0xE0 || (prev == 0xF0 && c <= 0x8F) || (prev == 0xF8 && c <= 0x87) ||
	       (prev == 0xFC && c <= 0x83);
}

/* Normalise <raw> into <out> (path.h).  The output is never longer than the
 * input consumed so far (decoding and collapsing only shrink it), so a <cap> of
 * <len> + 1 always suffices; with less, GW_PATH_TOO_LONG is returned as soon
 * as a byte would land past <cap>, which includes bytes of a segment that a
 * later ".." would have removed. */
static int path_walk(const char *raw, size_t len, char *out, size_t cap, size_t *outlen,
		     int keep_dots)
{
	const unsigned char *r = (const unsigned char *)raw;
	size_t i = 0, o = 0;

	if (len == 0 || r[0] != '/')
		return GW_PATH_EMPTY;
	while (i < len) {
		size_t seg;
		int prev = -1; /* the segment's previous decoded byte */

		/* Empty segments ("//") are collapsed: skip every '/' here. */
		while (i < len && r[i] == '/')
			i++;
		if (i == len)
			break; /* trailing '/': dropped */
		seg = o;
		if (o >= cap)
			return GW_PATH_TOO_LONG;
		out[o++] = '/';
		while (i < len && r[i] != '/') {
			unsigned char c = r[i];

			if (c == '%') {
				int hi, lo;

				if (len - i < 3)
					return GW_PATH_BAD_ESCAPE;
				hi = gw_http_hex(r[i + 1]);
				lo = gw_http_hex(r[i + 2]);
				if (hi < 0 || lo < 0)
					return GW_PATH_BAD_ESCAPE;
				c = (unsigned char)(hi << 4 | lo);
				i += 3;
				/* An encoded '/' would let one segment pose as two
				 * (or hide from a prefix rule): refused, not decoded. */
				if (c == '/')
					return GW_PATH_ENC_SLASH;
			} else {
				i++;
			}
			if (c == '\\')
				return GW_PATH_BACKSLASH;
			if (c == 0)
				return GW_PATH_NUL;
			if (c < 0x20 || c == 0x7F)
				return GW_PATH_CTL;
			if (path_overlong(prev, c))
				return GW_PATH_OVERLONG;
			/* A '%' in the output came from "%25": with two hex
			 * digits after it the path was encoded twice. */
			if (o - seg >= 3 && out[o - 2] == '%' &&
			    gw_http_hex((unsigned char)out[o - 1]) >= 0 && gw_http_hex(c) >= 0)
				return GW_PATH_DOUBLE_ESCAPE;
			prev = c;
			if (o >= cap)
				return GW_PATH_TOO_LONG;
			out[o++] = (char)c;
		}
		/* The segment is out[seg] = '/' then out[seg+1 .. o). */
		if (keep_dots && ((o - seg == 2 && out[seg + 1] == '.') ||
				  (o - seg == 3 && out[seg + 1] == '.' && out[seg + 2] == '.')))
			return GW_PATH_DOT_SEGMENT;
		if (o - seg == 2 && out[seg + 1] == '.') {
			o = seg; /* "." */
		} else if (o - seg == 3 && out[seg + 1] == '.' && out[seg + 2] == '.') {
			/* "..": the previous segment starts at the last '/'
			 * before <seg>; out[0] is '/' whenever seg > 0. */
			if (seg == 0)
				return GW_PATH_ABOVE_ROOT;
			o = seg;
			do
				o--;
			while (out[o] != '/');
		}
	}
	if (o == 0) {
		if (cap < 1)
			return GW_PATH_TOO_LONG;
		out[o++] = '/';
	}
	if (o >= cap)
		return GW_PATH_TOO_LONG;
	out[o] = '\0';
	*outlen = o;
	return GW_PATH_OK;
}

int gw_path_normalize(const char *raw, size_t len, char *out, size_t cap, size_t *outlen)
{
	return path_walk(raw, len, out, cap, outlen, 0);
}

/* The rendered target is checked by the very walk that normalises client
 * paths, so the two sets of rules cannot drift apart; only a dot segment,
 * which the normaliser resolves, is refused here instead: a target that
 * is sent as rendered must not hold one. */
int gw_path_check_target(const char *raw, size_t len, char *scratch, size_t cap)
{
	size_t outlen;

	return path_walk(raw, len, scratch, cap, &outlen, 1);
}

/* A static English reason for <status> (any int: unknown ones get a generic
 * text). */
const char *gw_path_strerror(int status)
{
	switch (status) {
	case GW_PATH_OK:
		return "ok";
	case GW_PATH_EMPTY:
		return "path does not start with '/'";
	case GW_PATH_BAD_ESCAPE:
		return "invalid percent-escape";
	case GW_PATH_ENC_SLASH:
		return "encoded '/' (%2F) in path";
	case GW_PATH_BACKSLASH:
		return "backslash in path";
	case GW_PATH_NUL:
		return "NUL byte in path";
	case GW_PATH_CTL:
		return "control character in path";
	case GW_PATH_ABOVE_ROOT:
		return "'..' climbs above '/'";
	case GW_PATH_TOO_LONG:
		return "path too long";
	case GW_PATH_OVERLONG:
		return "overlong UTF-8 sequence in path";
	case GW_PATH_DOUBLE_ESCAPE:
		return "percent-escape encoded twice (%25 then two hex digits)";
	case GW_PATH_DOT_SEGMENT:
		return "'.' or '..' segment in a rendered path";
	default:
		return "invalid path";
	}
}
