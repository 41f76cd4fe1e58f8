/* The one Cookie header parser (cookie.h). */
#include "gwd/cookie.h"

#include <string.h>

/* 1 for the blanks HTTP allows around tokens (SP, HTAB). */
static int cookie_blank(char c)
{
	return c == ' ' || c == '\t';
}

int gwd_cookie_next(const char *s, size_t len, size_t *pos, struct gwd_cookie *c)
{
	size_t i = *pos;

	for (;;) {
		size_t start, end, eq;

		while (i < len && (s[i] == ';' || cookie_blank(s[i])))
			i++;
		if (i >= len) {
			*pos = len;
			return 0;
		}
		start = i;
		while (i < len && s[i] != ';')
			i++;
		end = i;
		while (end > start && cookie_blank(s[end - 1]))
			end--;
		if (end == start)
			continue;
		c->pair = s + start;
		c->pair_len = end - start;
		for (eq = start; eq < end && s[eq] != '='; eq++)
			;
		c->name = s + start;
		c->name_len = eq - start;
		while (c->name_len && cookie_blank(c->name[c->name_len - 1]))
			c->name_len--;
		if (eq == end) {
			c->value = NULL;
			c->value_len = 0;
		} else {
			size_t v = eq + 1, ve = end;

			while (v < ve && cookie_blank(s[v]))
				v++;
			if (ve - v >= 2 && s[v] == '"' && s[ve - 1] == '"') {
				v++;
				ve--;
			}
			c->value = s + v;
			c->value_len = ve - v;
		}
		*pos = i;
		return 1;
	}
}

int gwd_cookie_find(const char *s, size_t len, const char *name, size_t nlen,
		    const char **value, size_t *vlen)
{
	struct gwd_cookie c;
	size_t pos = 0;

	while (gwd_cookie_next(s, len, &pos, &c))
		if (c.value && c.name_len == nlen && memcmp(c.name, name, nlen) == 0) {
			*value = c.value;
			*vlen = c.value_len;
			return 1;
		}
	return 0;
}

size_t gwd_cookie_strip(const char *s, size_t len, const char *name, size_t nlen, char *out)
{
	struct gwd_cookie c;
	size_t pos = 0, o = 0;

	while (gwd_cookie_next(s, len, &pos, &c)) {
		if (c.name_len == nlen && memcmp(c.name, name, nlen) == 0)
			continue;
		if (o) {
			out[o++] = ';';
			out[o++] = ' ';
		}
		memcpy(out + o, c.pair, c.pair_len);
		o += c.pair_len;
	}
	out[o] = '\0';
	return o;
}
