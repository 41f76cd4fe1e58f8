/* The rate limiter's response header fields: X-RateLimit-Limit, -Remaining,
 * -Reset and the IETF pair RateLimit-Policy and RateLimit
 * (draft-ietf-httpapi-ratelimit-headers), in the modes a policy chooses
 * (docs/ratelimit.md).  A table's fixed text is built once when the table is
 * made (gwd_ratelimit_hdr_init); a decision's fields are rendered into the
 * caller's buffer without allocating.
 */
#include "gwd/ratelimit.h"

#include <stdio.h>
#include <string.h>

/* A writer into a caller's buffer: <p> .. <end>, <bad> once it overflowed. */
struct out {
	char *p, *end;
	int bad;
};

/* Append <n> bytes of <s> to <o>. */
static void out_mem(struct out *o, const char *s, size_t n)
{
	if (o->bad || (size_t)(o->end - o->p) < n) {
		o->bad = 1;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

/* Append the decimal <v> to <o>. */
static void out_u64(struct out *o, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof tmp);
	out_mem(o, tmp + sizeof tmp - n, (size_t)n);
}

/* Append <name> as a Structured Fields string (RFC 8941 3.3.3): quoted,
 * '"' and '\' escaped, anything outside printable ASCII dropped (names are
 * checked by gwc, this only keeps a bad one from breaking the field). */
static void out_sfstring(struct out *o, const char *name)
{
	out_mem(o, "\"", 1);
	for (const char *s = name; *s; s++) {
		if (*s == '"' || *s == '\\')
			out_mem(o, "\\", 1);
		if (*s >= 0x20 && *s < 0x7f)
			out_mem(o, s, 1);
	}
	out_mem(o, "\"", 1);
}

/* The window of <t> in whole seconds for RateLimit-Policy (w is an integer
 * there) and the quota advertised over it: the period when it is whole
 * seconds, else the period rounded up with the quota scaled down, so that
 * the advertised policy never promises more than the limit allows. */
static void policy_qw(const struct gwd_ratelimit_table *t, uint64_t *q, uint64_t *w)
{
	if (t->period_ms % 1000 == 0) {
		*w = t->period_ms / 1000;
		*q = t->quota;
		return;
	}
	*w = t->period_ms / 1000 + 1;
	/* quota * w * 1000 reaches 2^64 for the largest quota and period */
	*q = (uint64_t)((unsigned __int128)t->quota * *w * 1000 / t->period_ms);
}

/* Fill the header text of table <t> that its parameters alone fix: the
 * quota in decimal, and the RateLimit-Policy item `"name";q=Q;w=W` whose
 * leading quoted name RateLimit's item repeats.  Both fit by construction
 * (GWD_RATELIMIT_ITEM_MAX counts the worst name and numbers); a bad fit would
 * truncate them rather than overflow. */
void gwd_ratelimit_hdr_init(struct gwd_ratelimit_table *t)
{
	struct out o = { t->hdr_limit, t->hdr_limit + sizeof t->hdr_limit - 1, 0 };
	uint64_t w;

	out_u64(&o, t->quota);
	*o.p = '\0';
	t->hdr_limit_len = (uint8_t)(o.p - t->hdr_limit);

	policy_qw(t, &t->hdr_q, &w);
	o = (struct out){ t->hdr_item, t->hdr_item + sizeof t->hdr_item - 1, 0 };
	out_sfstring(&o, t->name);
	t->hdr_sfname_len = (uint16_t)(o.p - t->hdr_item);
	out_mem(&o, ";q=", 3);
	out_u64(&o, t->hdr_q);
	out_mem(&o, ";w=", 3);
	out_u64(&o, w);
	*o.p = '\0';
	t->hdr_item_len = (uint16_t)(o.p - t->hdr_item);
}

/* Write the decimal <v> at <p>, which has room for 10 digits.  Returns the
 * end of the digits (no NUL).  Two digits a step from a table: the numbers
 * of a generous limit have nine or ten digits, and every request writes
 * four of them. */
static char *put_u32(char *p, uint32_t v)
{
	static const char d2[201] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	static const uint32_t pow10[9] = { 10, 100, 1000, 10000, 100000, 1000000,
					   10000000, 100000000, 1000000000 };
	unsigned len = 1;
	char *end;

	while (len < 10 && v >= pow10[len - 1])
		len++;
	end = p + len;
	p = end;
	while (v >= 100) {
		unsigned k = (v % 100) * 2;

		v /= 100;
		*--p = d2[k + 1];
		*--p = d2[k];
	}
	if (v >= 10) {
		*--p = d2[v * 2 + 1];
		*--p = d2[v * 2];
	} else {
		*--p = (char)('0' + v);
	}
	return end;
}

/* Longest decimal of the uint32_t numbers rendered per request, NUL included. */
#define NUM_MAX 11

size_t gwd_ratelimit_headers_size(const struct gwd_ratelimit_decision *d)
{
	size_t need = 4 * NUM_MAX; /* Remaining, Reset, Retry-After, slack */

	if (d->n == 0 || d->n > GWD_RATELIMIT_MAX_LIMITS)
		return 0;
	for (unsigned i = 0; i < d->n; i++) {
		const struct gwd_ratelimit_table *t = d->r[i].table;

		/* ", " + the policy item (only copied when n > 1), then
		 * ", " + "name";r=R;t=T */
		need += (d->n > 1 ? 2u + t->hdr_item_len : 0) + 2u + t->hdr_sfname_len +
			3 + NUM_MAX + 3 + NUM_MAX;
	}
	return need + 2; /* the two lists' NULs */
}

int gwd_ratelimit_headers_render(const struct gwd_ratelimit_decision *d, char *buf, size_t cap,
			 struct gwd_ratelimit_headers *h)
{
	const struct gwd_ratelimit_result *rep;
	const struct gwd_ratelimit_table *t;
	char *p = buf;
	unsigned i;

	h->n = 0;
	if (d->n == 0 || d->n > GWD_RATELIMIT_MAX_LIMITS || d->report >= d->n ||
	    cap < gwd_ratelimit_headers_size(d))
		return -1;
	rep = &d->r[d->report];
	t = rep->table;

	h->name[0] = "X-RateLimit-Limit";
	h->nlen[0] = 17;
	h->value[0] = t->hdr_limit;
	h->vlen[0] = t->hdr_limit_len;
	/* With a burst above the quota a full bucket holds more than one
	 * window's quota; the headers advertise at most the quota, so that
	 * Remaining never exceeds Limit (nor r exceed q): conservative, like
	 * policy_qw. */
	h->name[1] = "X-RateLimit-Remaining";
	h->nlen[1] = 21;
	h->value[1] = p;
	p = put_u32(p, rep->remaining < rep->limit ? rep->remaining : rep->limit);
	h->vlen[1] = (uint32_t)(p - h->value[1]);
	*p++ = '\0';
	h->name[2] = "X-RateLimit-Reset";
	h->nlen[2] = 17;
	h->value[2] = p;
	p = put_u32(p, rep->reset_s);
	h->vlen[2] = (uint32_t)(p - h->value[2]);
	*p++ = '\0';

	h->name[3] = "RateLimit-Policy";
	h->nlen[3] = 16;
	if (d->n == 1) {
		/* the common case: the whole value is fixed per limit */
		h->value[3] = d->r[0].table->hdr_item;
		h->vlen[3] = d->r[0].table->hdr_item_len;
	} else {
		h->value[3] = p;
		for (i = 0; i < d->n; i++) {
			const struct gwd_ratelimit_table *ti = d->r[i].table;

			if (i) {
				*p++ = ',';
				*p++ = ' ';
			}
			memcpy(p, ti->hdr_item, ti->hdr_item_len);
			p += ti->hdr_item_len;
		}
		h->vlen[3] = (uint32_t)(p - h->value[3]);
		*p++ = '\0';
	}

	h->name[4] = "RateLimit";
	h->nlen[4] = 9;
	h->value[4] = p;
	for (i = 0; i < d->n; i++) {
		const struct gwd_ratelimit_result *ri = &d->r[i];
		const struct gwd_ratelimit_table *ti = ri->table;

		if (i) {
			*p++ = ',';
			*p++ = ' ';
		}
		memcpy(p, ti->hdr_item, ti->hdr_sfname_len);
		p += ti->hdr_sfname_len;
		memcpy(p, ";r=", 3);
		p = put_u32(p + 3, ri->remaining < ti->hdr_q ? ri->remaining : (uint32_t)ti->hdr_q);
		memcpy(p, ";t=", 3);
		p = put_u32(p + 3, ri->next_s);
	}
	h->vlen[4] = (uint32_t)(p - h->value[4]);
	*p++ = '\0';
	h->n = 5;

	if (!d->admitted) {
		h->name[5] = "Retry-After";
		h->nlen[5] = 11;
		h->value[5] = p;
		p = put_u32(p, rep->retry_after_s ? rep->retry_after_s : 1);
		h->vlen[5] = (uint32_t)(p - h->value[5]);
		*p = '\0';
		h->n = 6;
	}
	return 0;
}
