/* Diagnostics: the errors gwc reports, each with its place.
 *
 * Everything that validates a configuration adds to one struct gw_diag rather
 * than printing, so that gwc reports every error, sorted by place, as
 *   FILE:LINE:COL: error: MESSAGE
 * and tests can read them back.  Warnings (FILE:LINE:COL: warning: MESSAGE)
 * are kept with them, counted apart.
 */
#ifndef GW_DIAG_H
#define GW_DIAG_H

#include <stdio.h>
#include "lib/model.h"

struct gw_diag_msg {
	struct gw_place at;
	char *text; /* owned */
	int warning; /* printed as "warning:", and not an error */
};

struct gw_diag {
	struct gw_diag_msg *v;
	uint32_t n, cap;
	uint32_t nwarn; /* how many of the <n> messages are warnings */
	int oom; /* set when a message could not be stored */
};

/* Record an error at <at> (may be NULL: no place).  printf-style. */
void gw_diag_error(struct gw_diag *d, const struct gw_place *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a warning at <at>: printed with the errors, but not one of them
 * (the input is valid; <nwarn> counts it). */
void gw_diag_warning(struct gw_diag *d, const struct gw_place *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print all messages to <out>, sorted by file, line, column (stable), with the
 * file names of <files> (indexed by place.file).  Returns the count printed. */
unsigned gw_diag_print(struct gw_diag *d, const struct gw_str *files, uint32_t nfiles, FILE *out);

void gw_diag_free(struct gw_diag *d);

#endif
