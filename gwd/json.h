/* JSON string escaping for everything gwd writes as JSON: respond templates,
 * problem details, health, access log lines.
 *
 * Input bytes are untrusted (query values, raw paths, header values).  The
 * output is always valid JSON string content in UTF-8: '"' and '\' are
 * escaped, control characters become \uXXXX, valid UTF-8 passes through, and
 * each byte of an invalid UTF-8 sequence becomes U+FFFD, so a client cannot
 * break out of the string or make the document unparsable.
 */
#ifndef GWD_JSON_H
#define GWD_JSON_H

#include <stddef.h>
#include "gwd/buf.h"

/* Append the escaped form of <n> bytes at <s> (no surrounding quotes) to <b>.
 * Returns 0, or -1 with <b->full> set when it does not fit; then <b->len> is
 * unchanged. */
int gwd_json_escape(struct gwd_buf *b, const char *s, size_t n);

/* The same with quotes around it. */
int gwd_json_str(struct gwd_buf *b, const char *s, size_t n);

#endif
