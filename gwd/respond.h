/* The respond handler: a fixed status, literal headers and a body template
 * whose ${path.x}, ${path.*} and ${query.x} values are JSON-escaped
 * (lib/model.h's struct gw_tpl; docs/routes.md, "Templates").
 *
 * Bodies without substitutions were concatenated when the generation was
 * built and are served from there (or straight from the blob mapping) with
 * no copy; others are rendered into request memory.
 */
#ifndef GWD_RESPOND_H
#define GWD_RESPOND_H

#include <stddef.h>
#include <stdint.h>
#include "gwd/buf.h"
#include "lib/match.h"
#include "lib/model.h"

struct gwd_req;

/* Where template values come from. */
struct gwd_respond_tpl_ctx {
	const char *path;          /* normalised path the match refers to */
	const struct gw_match *m;  /* parameter and rest slices of <path> */
	const char *query;         /* raw query (after '?'), or NULL */
	size_t qlen;
	char *scratch;             /* at least <qlen> + 1 bytes, for decoding */
};

/* Find the first query parameter named <name> (<nlen> bytes, compared after
 * decoding) in <query> (<qlen> bytes, "a=1&b=2").  Decodes its value
 * (percent-escapes, '+' as space; an invalid escape is kept as is) into <dst>
 * (at least <qlen> bytes) and sets <*vlen>.  Returns 1 when found (a name
 * without '=' has the empty value), 0 when absent. */
int gwd_respond_query_get(const char *query, size_t qlen, const char *name, size_t nlen,
		  char *dst, size_t *vlen);

/* What template part <t> (not a LITERAL) renders to in <c>, its mode
 * (`${X}`, `${X:-TEXT}`, `${X:+TEXT}`) applied: the one evaluator of both
 * renderers, bodies (JSON) and upstream paths (percent-encoded).  Returns
 * GWD_RESPOND_TPL_VALUE with <*v>, <*vlen> the request's value (borrowed from
 * <c>'s path or scratch: the caller escapes it for its context),
 * GWD_RESPOND_TPL_TEXT with the operator's TEXT, or GWD_RESPOND_TPL_NONE. */
enum gwd_respond_tpl_out {
	GWD_RESPOND_TPL_NONE = 0,
	GWD_RESPOND_TPL_VALUE = 1,
	GWD_RESPOND_TPL_TEXT = 2,
};
enum gwd_respond_tpl_out gwd_respond_tpl_part(const struct gw_tpl *t,
					      const struct gwd_respond_tpl_ctx *c,
					      const char **v, size_t *vlen);

/* Render <n> template parts <t> with <c> into <b>, substituted values
 * JSON-escaped, literal and alternative texts as written.  Returns 0, or -1
 * when <b> is too small. */
int gwd_respond_tpl_render(struct gwd_buf *b, const struct gw_tpl *t, uint32_t n,
		   const struct gwd_respond_tpl_ctx *c);

/* An upper bound of the rendered size of <t> for a request whose target is
 * <target_len> bytes long (every substituted byte may become 6). */
size_t gwd_respond_tpl_bound(const struct gw_tpl *t, uint32_t n, size_t target_len);

/* The Content-Type of a respond body whose route names none (docs/routes.md,
 * "respond"). */
#define GWD_RESPOND_DEFAULT_CTYPE "text/plain; charset=utf-8"

/* Answer <r> from its respond route: fills <r->resp> and the route's headers,
 * with Content-Type GWD_RESPOND_DEFAULT_CTYPE for a non-empty body of a route
 * that names none.  Returns 0, or -1 when memory runs out. */
int gwd_respond_handle(struct gwd_req *r);

#endif
