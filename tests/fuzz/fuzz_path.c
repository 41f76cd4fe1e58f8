/* libFuzzer harness for the request-path normaliser, gw_path_normalize(),
 * against a reference written differently on purpose.
 *
 * The normaliser works in one pass, in place, cutting its output back on
 * ".."; the reference below splits the raw path on '/', decodes each segment
 * into its own buffer and keeps a stack of segments, which is how RFC 3986
 * section 5.2.4 reads.  Whatever the bytes, the two must agree on the status
 * and, when it is GW_PATH_OK, on the output, byte for byte; the normaliser
 * must also never write past the <cap> it is given (each output buffer is
 * malloc'd at exactly <cap> bytes, so ASan sees a byte too far) and refuse
 * with GW_PATH_TOO_LONG, not succeed, when the output cannot fit.
 *
 * Built and run by tests/fuzz/run.sh (`make fuzz`): clang with
 * -fsanitize=fuzzer,address,undefined, linked with lib/.  Seeds:
 * tests/fuzz/corpus/fuzz_path/ (raw paths as a client could send them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of hex digit <c>, or -1. */
static int ref_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether decoded byte <c> following decoded byte <prev> (-1: none, at the
 * start of a segment) completes the lead of an overlong UTF-8 form of an
 * ASCII character, which a lenient decoder would turn into '.', '/', '\'. */
static int ref_overlong(int prev, unsigned char c)
{
	if (c == 0xC0 || c == 0xC1)
		return 1;
	return (prev == 0xE0 && c >= 0x80 && c <= 0x9F) ||
	       (prev == 0xF0 && c >= 0x80 && c <= 0x8F) ||
	       (prev == 0xF8 && c >= 0x80 && c <= 0x87) ||
	       (prev == 0xFC && c >= 0x80 && c <= 0x83);
}

/* The reference: normalise <len> bytes of <r> into <out> (room for len + 1
 * bytes), the stack way.  Returns a gw_path_status and sets <*outlen>. */
static int ref_normalize(const unsigned char *r, size_t len, char *out, size_t *outlen)
{
	size_t *stack = malloc((len + 1) * sizeof *stack); /* segment starts in <out> */
	unsigned char *seg = malloc(len + 1);
	size_t depth = 0, o = 0, i = 1;
	int st = GW_PATH_OK;

	if (!stack || !seg)
		abort();
	if (len == 0 || r[0] != '/') {
		st = GW_PATH_EMPTY;
		goto done;
	}
	while (i <= len) {
		size_t end = i, n = 0;
		int prev = -1;

		while (end < len && r[end] != '/')
			end++;
		/* decode r[i..end) into seg[0..n) */
		for (size_t k = i; k < end; k++) {
			unsigned char c = r[k];

			if (c == '%') {
				/* '/' is no hex digit: an escape never spans segments */
				if (k + 2 >= len || ref_hex(r[k + 1]) < 0 || ref_hex(r[k + 2]) < 0) {
					st = GW_PATH_BAD_ESCAPE;
					goto done;
				}
				c = (unsigned char)(ref_hex(r[k + 1]) * 16 + ref_hex(r[k + 2]));
				k += 2;
				if (c == '/') {
					st = GW_PATH_ENC_SLASH;
					goto done;
				}
			}
			if (c == '\\') {
				st = GW_PATH_BACKSLASH;
				goto done;
			}
			if (c == 0) {
				st = GW_PATH_NUL;
				goto done;
			}
			if (c < 0x20 || c == 0x7F) {
				st = GW_PATH_CTL;
				goto done;
			}
			if (ref_overlong(prev, c)) {
				st = GW_PATH_OVERLONG;
				goto done;
			}
			/* a decoded '%' followed by two hex digits, raw or
			 * encoded ("%25%34%31"): seen when the second digit lands */
			if (n >= 2 && seg[n - 2] == '%' && ref_hex(seg[n - 1]) >= 0 && ref_hex(c) >= 0) {
				st = GW_PATH_DOUBLE_ESCAPE;
				goto done;
			}
			prev = c;
			seg[n++] = c;
		}
		if (n == 0 || (n == 1 && seg[0] == '.')) {
			/* empty or ".": nothing */
		} else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			if (depth == 0) {
				st = GW_PATH_ABOVE_ROOT;
				goto done;
			}
			o = stack[--depth];
		} else {
			stack[depth++] = o;
			out[o++] = '/';
			memcpy(out + o, seg, n);
			o += n;
		}
		i = end + 1;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	*outlen = o;
done:
	free(stack);
	free(seg);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ref = malloc(size + 2), *out = malloc(size + 1);
	size_t reflen = 0, outlen = 0;
	int rst, st;

	if (!ref || !out)
		abort();
	rst = ref_normalize(data, size, ref, &reflen);
	/* len + 1 always suffices (path.c): the status and output must agree */
	st = gw_path_normalize((const char *)data, size, out, size + 1, &outlen);
	if (st != rst)
		abort();
	if (st == GW_PATH_OK && (outlen != reflen || memcmp(out, ref, reflen + 1) != 0))
		abort();
	free(out);
	out = NULL;
	/* Exactly the room the output needs, then one byte less: the first
	 * may still be refused (bytes a later ".." removes need room for a
	 * while) but never succeed with another output; the second must fail. */
	if (rst == GW_PATH_OK) {
		for (size_t cap = reflen; cap <= reflen + 1; cap++) {
			out = malloc(cap ? cap : 1);
			if (!out)
				abort();
			st = gw_path_normalize((const char *)data, size, out, cap, &outlen);
			if (st == GW_PATH_OK &&
			    (cap == reflen || outlen != reflen || memcmp(out, ref, reflen + 1) != 0))
				abort();
			if (st != GW_PATH_OK && st != GW_PATH_TOO_LONG)
				abort();
			free(out);
			out = NULL;
		}
	}
	free(ref);
	return 0;
}
