/* The slow parts of the bounded append buffer (buf.h): number and printf-style
 * formatting.  Kept out of line because they are larger than the copy helpers
 * and not all of them are on the request path. */
#include "gwd/buf.h"

#include <stdarg.h>
#include <stdio.h>

/* Append <v> in decimal to <b>. Returns 0, or -1 with <full> set when it does
 * not fit (nothing written). */
int gwd_buf_u64(struct gwd_buf *b, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return gwd_buf_add(b, tmp + sizeof tmp - n, n);
}

/* Append printf-style output of <fmt> to <b>. Returns 0, or -1 with <full> set
 * when the output does not fit (<len> unchanged then). */
int gwd_buf_printf(struct gwd_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->cap - b->len;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		b->full = 1;
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}
