/* libFuzzer harness for the query-string reader of gwd/respond.c,
 * gwd_respond_query_get(), and the ${query.x} templates that use it.
 *
 * Input: the first byte's low 4 bits are the length of the parameter name,
 * which follows; the rest is the raw query (what follows '?'), in a malloc
 * of exactly its length, and the decoding buffer is exactly <qlen> bytes as
 * the contract allows: ASan sees a byte too far.
 *
 *   - gwd_respond_query_get() must agree with a reference that splits the query at
 *     '&' and '=' first and decodes each part into its own buffer;
 *   - the template {"v":"${query.NAME}","d":"${query.NAME:-none}"} rendered
 *     into exactly gwd_respond_tpl_bound() bytes (the bound for a target no longer
 *     than the query: the pipeline passes the whole target's length) must
 *     fit and be a JSON object jansson reads, whose "v" is the value itself
 *     when that is ASCII.
 *
 * Seeds: tests/fuzz/corpus/fuzz_query/.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/buf.h"
#include "gwd/respond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of hex digit <c>, or -1. */
static int ref_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Form-decode <n> bytes of <s> into a new buffer; sets <*len>.  '+' is a
 * space, '%' and two hex digits a byte, any other '%' itself. */
static char *ref_decode(const char *s, size_t n, size_t *len)
{
	char *d = malloc(n + 1);
	size_t o = 0, i = 0;

	if (!d)
		abort();
	while (i < n) {
		const unsigned char *u = (const unsigned char *)s + i;

		if (u[0] == '%' && n - i >= 3 && ref_hex(u[1]) >= 0 && ref_hex(u[2]) >= 0) {
			d[o++] = (char)(ref_hex(u[1]) * 16 + ref_hex(u[2]));
			i += 3;
		} else {
			d[o++] = u[0] == '+' ? ' ' : (char)u[0];
			i++;
		}
	}
	*len = o;
	return d;
}

/* The reference: the first "k=v" or "k" element of <q> whose decoded k is
 * <name>; returns its decoded value (free it) and sets <*vlen>, or NULL. */
static char *ref_get(const char *q, size_t qlen, const char *name, size_t nlen, size_t *vlen)
{
	size_t start = 0;

	for (;;) {
		const char *amp = memchr(q + start, '&', qlen - start);
		size_t end = amp ? (size_t)(amp - q) : qlen, klen;
		const char *eq = memchr(q + start, '=', end - start);
		size_t kend = eq ? (size_t)(eq - q) : end;
		char *k = ref_decode(q + start, kend - start, &klen);
		int hit = end > start && klen == nlen && memcmp(k, name, nlen) == 0;

		free(k);
		if (hit)
			return eq ? ref_decode(eq + 1, end - kend - 1, vlen) : ref_decode("", 0, vlen);
		if (!amp)
			return NULL;
		start = end + 1;
	}
}

/* Render the template of the top for <q> and read it back. */
static void render(const char *q, size_t qlen, const char *name, size_t nlen,
		   const char *want, size_t wlen)
{
	struct gw_tpl t[5] = {
		{ .kind = GW_TPL_LITERAL, .text = { "{\"v\":\"", 6 } },
		{ .kind = GW_TPL_QUERY, .text = { name, (uint32_t)nlen } },
		{ .kind = GW_TPL_LITERAL, .text = { "\",\"d\":\"", 7 } },
		{ .kind = GW_TPL_QUERY, .mode = GW_TPL_DEFAULT, .text = { name, (uint32_t)nlen },
		  .alt = { "none", 4 } },
		{ .kind = GW_TPL_LITERAL, .text = { "\"}", 2 } },
	};
	size_t cap = gwd_respond_tpl_bound(t, 5, qlen), ascii = 1;
	char *out = malloc(cap), *scratch = malloc(qlen + 1);
	struct gwd_respond_tpl_ctx c = { .query = q, .qlen = qlen, .scratch = scratch };
	struct gwd_buf b;
	json_error_t err;
	json_t *doc, *v;

	if (!out || !scratch)
		abort();
	gwd_buf_init(&b, out, cap);
	if (gwd_respond_tpl_render(&b, t, 5, &c) != 0)
		abort(); /* the bound was too small */
	doc = json_loadb(out, b.len, JSON_ALLOW_NUL, &err);
	v = json_object_get(doc, "v");
	if (!json_is_string(v) || !json_is_string(json_object_get(doc, "d")))
		abort();
	for (size_t i = 0; i < wlen; i++)
		ascii &= (unsigned char)want[i] < 0x80;
	if (ascii && (json_string_length(v) != wlen || memcmp(json_string_value(v), want, wlen)))
		abort();
	json_decref(doc);
	free(out);
	free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nlen, qlen, vlen = 0, rlen = 0;
	char *name, *q, *dst, *ref;
	int found;

	if (size == 0)
		return 0;
	nlen = data[0] & 15;
	if (nlen > size - 1)
		nlen = size - 1;
	qlen = size - 1 - nlen;
	name = malloc(nlen + 1); /* a gw_str: NUL-terminated (lib/model.h) */
	q = malloc(qlen ? qlen : 1);
	dst = malloc(qlen ? qlen : 1);
	if (!name || !q || !dst)
		abort();
	memcpy(name, data + 1, nlen);
	name[nlen] = '\0';
	memcpy(q, data + 1 + nlen, qlen);

	found = gwd_respond_query_get(q, qlen, name, nlen, dst, &vlen);
	ref = ref_get(q, qlen, name, nlen, &rlen);
	if (found != (ref != NULL))
		abort();
	if (found && (vlen != rlen || memcmp(dst, ref, vlen) != 0))
		abort();
	render(q, qlen, name, nlen, ref ? ref : "", ref ? rlen : 0);
	free(ref);
	free(name);
	free(q);
	free(dst);
	return 0;
}
