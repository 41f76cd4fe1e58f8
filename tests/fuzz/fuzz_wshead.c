/* libFuzzer harness for the parser of an upstream's answer to a WebSocket
 * handshake (gwd/websocket_head.c), and the key check.
 *
 * Input: the bytes an upstream sends, in a malloc of exactly their length.
 *
 *   - a complete head ends with CRLF CRLF exactly where the parser says,
 *     and the head alone parses to the same length and fields;
 *   - one byte less than a complete head is incomplete (0), never a head;
 *   - every field name is a non-empty token, every value free of CR, LF and
 *     NUL and of blanks at either end, and both lie inside the input;
 *   - the status is three digits, 100 to 599;
 *   - the first 24 bytes, taken as a Sec-WebSocket-Key, are valid only when
 *     they are canonical base64 of 16 bytes (checked against a decoder
 *     written differently);
 *   - the input taken as a chunked body: complete only with its whole
 *     length or less; the data decoded in place is what a copy decodes,
 *     never longer than the input, and a complete body one byte shorter is
 *     incomplete (never malformed, never complete).
 *
 * Seeds: tests/fuzz/corpus/fuzz_wshead/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/websocket_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Reference: 22 base64 characters, "==", the last one's low 4 bits zero. */
static int key_ref(const char *k, size_t n)
{
	if (n != 24 || k[22] != '=' || k[23] != '=')
		return 0;
	for (int i = 0; i < 22; i++)
		if (b64val((unsigned char)k[i]) < 0)
			return 0;
	return (b64val((unsigned char)k[21]) & 15) == 0;
}

static void check_fields(const struct gwd_wshead *h, const char *in, size_t size)
{
	if (h->status < 100 || h->status > 599)
		abort();
	for (unsigned i = 0; i < h->nfields; i++) {
		const struct gwd_wshead_field *f = &h->f[i];

		if (!f->nlen || f->name < in || f->name + f->nlen > in + size ||
		    f->value < in || f->value + f->vlen > in + size)
			abort();
		if (memchr(f->name, ':', f->nlen) || memchr(f->name, ' ', f->nlen))
			abort();
		for (size_t k = 0; k < f->vlen; k++)
			if (f->value[k] == '\r' || f->value[k] == '\n' || f->value[k] == '\0')
				abort();
		if (f->vlen && (f->value[0] == ' ' || f->value[f->vlen - 1] == ' '))
			abort();
	}
}

static void check_chunked(char *in, size_t size)
{
	char *copy = malloc(size ? size : 1);
	size_t olen = 0, ilen = 0;
	long n = gwd_wshead_chunked(in, size, NULL, NULL);

	if (!copy)
		return;
	if (n < -1 || n > (long)size)
		abort();
	if (n > 0) {
		if (gwd_wshead_chunked(in, size, copy, &olen) != n || olen > size)
			abort();
		if (gwd_wshead_chunked(in, (size_t)n - 1, NULL, NULL) != 0)
			abort();
		if (gwd_wshead_chunked(in, size, in, &ilen) != n || ilen != olen ||
		    memcmp(in, copy, olen) != 0)
			abort();
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	static struct gwd_wshead h, h2;
	long n;

	if (!in)
		return 0;
	memcpy(in, data, size);
	n = gwd_wshead_parse(in, size, &h);
	if (n > 0) {
		if ((size_t)n > size || n < 4 || memcmp(in + n - 4, "\r\n\r\n", 4) != 0)
			abort();
		check_fields(&h, in, size);
		if (gwd_wshead_parse(in, (size_t)n, &h2) != n || h2.nfields != h.nfields ||
		    h2.status != h.status)
			abort();
		if (gwd_wshead_parse(in, (size_t)n - 1, &h2) != 0)
			abort();
	} else if (n != 0 && n != -1) {
		abort();
	}
	if (size >= 24 && gwd_ws_key_valid(in, 24) != key_ref(in, 24))
		abort();
	check_chunked(in, size);
	free(in);
	return 0;
}
