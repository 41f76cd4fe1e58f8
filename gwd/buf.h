/* A bounded append buffer for building response bodies, metrics text and log
 * lines without allocating.
 *
 * The caller owns the storage (<p>, <cap> bytes): a per-request arena block, a
 * per-thread log buffer, a stack array.  Appends never write past <cap>; an
 * append that does not fit sets <full> and leaves <len> where it was before that
 * append, so a half-written item never shows.  Callers check <full> once at the
 * end instead of after every append.
 *
 *   p: [ bytes written ... len | free ... cap ]
 */
#ifndef GWD_BUF_H
#define GWD_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct gwd_buf {
	char *p;
	size_t len, cap;
	int full; /* an append did not fit: the content is incomplete */
};

/* Point <b> at <cap> bytes of <mem>, empty. */
static inline void gwd_buf_init(struct gwd_buf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->full = 0;
}

/* Append <n> bytes of <s>. Returns 0, or -1 (and sets <full>) when they do not
 * fit; nothing is written then. */
static inline int gwd_buf_add(struct gwd_buf *b, const void *s, size_t n)
{
	if (n > b->cap - b->len) {
		b->full = 1;
		return -1;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* Append the NUL-terminated <s>. Same returns as gwd_buf_add. */
static inline int gwd_buf_puts(struct gwd_buf *b, const char *s)
{
	return gwd_buf_add(b, s, strlen(s));
}

/* Append one byte. Same returns as gwd_buf_add. */
static inline int gwd_buf_putc(struct gwd_buf *b, char c)
{
	if (b->len >= b->cap) {
		b->full = 1;
		return -1;
	}
	b->p[b->len++] = c;
	return 0;
}

/* Append <v> in decimal. Same returns as gwd_buf_add. */
int gwd_buf_u64(struct gwd_buf *b, uint64_t v);

/* Append printf-style output. Same returns as gwd_buf_add; used off the hot
 * path (metrics, health), where vsnprintf's cost does not matter. */
int gwd_buf_printf(struct gwd_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
