/* Diagnostics collection and printing (diag.h). */
#include "lib/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Record <text> (handed over, may be NULL: out of memory) at <at>. */
static void add(struct gw_diag *d, const struct gw_place *at, char *text, int warning)
{
	struct gw_diag_msg *m;

	m = text ? gw_vec_push((void **)&d->v, d->n, &d->cap, sizeof *d->v) : NULL;
	if (!m) {
		free(text);
		d->oom = 1;
		return;
	}
	if (at)
		m->at = *at;
	m->text = text;
	m->warning = warning;
	d->n++;
	d->nwarn += warning != 0;
}

/* The message <fmt>, <ap> at <at>, an error or a <warning>. */
__attribute__((format(printf, 4, 0)))
static void vadd(struct gw_diag *d, const struct gw_place *at, int warning, const char *fmt,
		 va_list ap)
{
	char *text = NULL;

	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	add(d, at, text, warning);
}

void gw_diag_error(struct gw_diag *d, const struct gw_place *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(d, at, 0, fmt, ap);
	va_end(ap);
}

void gw_diag_warning(struct gw_diag *d, const struct gw_place *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(d, at, 1, fmt, ap);
	va_end(ap);
}

static int cmp_place(const void *a, const void *b)
{
	const struct gw_diag_msg *x = a, *y = b;

	if (x->at.file != y->at.file)
		return x->at.file < y->at.file ? -1 : 1;
	if (x->at.line != y->at.line)
		return x->at.line < y->at.line ? -1 : 1;
	if (x->at.col != y->at.col)
		return x->at.col < y->at.col ? -1 : 1;
	return 0;
}

unsigned gw_diag_print(struct gw_diag *d, const struct gw_str *files, uint32_t nfiles, FILE *out)
{
	unsigned i;

	/* Insertion sort: stable, so messages at one place keep their order, and
	 * error lists are short. */
	for (i = 1; i < d->n; i++) {
		struct gw_diag_msg m = d->v[i];
		unsigned j = i;

		while (j > 0 && cmp_place(&d->v[j - 1], &m) > 0) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = m;
	}
	for (i = 0; i < d->n; i++) {
		const struct gw_diag_msg *m = &d->v[i];

		if (m->at.line && m->at.file < nfiles)
			fprintf(out, "%s:%u:%u: %s: %s\n", files[m->at.file].p,
				(unsigned)m->at.line, (unsigned)m->at.col,
				m->warning ? "warning" : "error", m->text);
		else
			fprintf(out, "gwc: %s: %s\n", m->warning ? "warning" : "error", m->text);
	}
	if (d->oom)
		fprintf(out, "gwc: error: out of memory while recording errors\n");
	return d->n;
}

void gw_diag_free(struct gw_diag *d)
{
	for (uint32_t i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	memset(d, 0, sizeof *d);
}
