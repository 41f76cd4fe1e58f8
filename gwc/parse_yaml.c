/* gwc's front end: libyaml's events into a tree of struct ynode, each with
 * its place (parse_int.h).
 *
 * Route files are hostile input like any other.  This is where the YAML
 * features a route file has no use for are refused before any walker sees the
 * file: aliases and anchors (a few bytes of aliases expand into billions of
 * nodes), tags, nesting deeper than GWC_MAX_DEPTH, a second document, keys
 * that are not scalars and duplicate keys (the second of each is reported and
 * dropped, so walkers see unique keys).  A syntax error stops the file: libyaml
 * cannot go on after one.
 */
#include "gwc/parse_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- YAML to tree -------------------------------------------------------- */

/* The tree builder of one file: libyaml's parser over the file's bytes, and
 * one stack of the children of the containers being built, shared by all of
 * them (a container's children are the top of it while it is open), so that
 * building a node allocates nothing but its place in the arena. */
struct tb {
	struct gwc_file *f;
	yaml_parser_t p;
	const unsigned char *buf;
	size_t len;
	struct ynode **kids;
	size_t nkids, capkids;
	struct ynode *pool;  /* nodes not yet handed out, <npool> of them */
	size_t npool;
	char *sbuf;          /* string bytes not yet handed out, <nsbuf> of them */
	size_t nsbuf;
};

#define TB_POOL_NODES 1024         /* nodes carved from one arena block */
#define TB_STR_BLOCK (64u * 1024)  /* bytes of scalars carved from one block */

/* A node of <b>'s file at libyaml mark <m> (0-based), zeroed; NULL on OOM.
 * Nodes are carved from blocks of the file's arena: a node each would pad
 * every one to the arena's alignment. */
static struct ynode *node_new(struct tb *b, const yaml_mark_t *m)
{
	struct ynode *n;

	if (!b->npool) {
		b->pool = gwc_arena_alloc(&b->f->tree, TB_POOL_NODES * sizeof *b->pool);
		if (!b->pool)
			return NULL;
		b->npool = TB_POOL_NODES;
	}
	n = b->pool++;
	b->npool--;
	memset(n, 0, sizeof *n);
	n->line = m->line >= UINT32_MAX ? UINT32_MAX : (uint32_t)m->line + 1;
	n->col = m->column >= UINT32_MAX ? UINT32_MAX : (uint32_t)m->column + 1;
	return n;
}

/* A copy of the <len> bytes at <p>, NUL-terminated, in <b>'s file arena;
 * NULL on OOM.  Short strings are packed end to end in blocks (they need no
 * alignment), longer ones get their own allocation. */
static char *str_new(struct tb *b, const char *p, size_t len)
{
	char *s;

	if (len >= TB_STR_BLOCK / 8)
		return gwc_arena_strndup(&b->f->tree, p, len);
	if (b->nsbuf < len + 1) {
		b->sbuf = gwc_arena_alloc(&b->f->tree, TB_STR_BLOCK);
		if (!b->sbuf)
			return NULL;
		b->nsbuf = TB_STR_BLOCK;
	}
	s = b->sbuf;
	if (len)
		memcpy(s, p, len);
	s[len] = '\0';
	b->sbuf += len + 1;
	b->nsbuf -= len + 1;
	return s;
}

/* Report libyaml's error for <b> at its place.  Returns 1, or -1 when the
 * error was running out of memory. */
static int yaml_fail(struct tb *b)
{
	const yaml_parser_t *p = &b->p;
	struct ynode at = { .line = 1, .col = 1 };

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return -1;
	case YAML_READER_ERROR: {
		/* The reader gives a byte offset, not a mark: count lines and
		 * characters (UTF-8 lead bytes) up to it. */
		size_t end = p->problem_offset < b->len ? p->problem_offset : b->len;

		for (size_t i = 0; i < end; i++) {
			if (b->buf[i] == '\n') {
				at.line++;
				at.col = 1;
			} else if ((b->buf[i] & 0xC0) != 0x80) {
				at.col++;
			}
		}
		if (p->problem_value >= 0)
			gwc_err(b->f, &at, "invalid YAML input: %s (0x%x)", p->problem,
				(unsigned)p->problem_value);
		else
			gwc_err(b->f, &at, "invalid YAML input: %s", p->problem);
		return 1;
	}
	default:
		at.line = (uint32_t)p->problem_mark.line + 1;
		at.col = (uint32_t)p->problem_mark.column + 1;
		if (p->context)
			gwc_err(b->f, &at, "YAML syntax error: %s (%s at line %zu, column %zu)",
				p->problem ? p->problem : "unknown problem", p->context,
				p->context_mark.line + 1, p->context_mark.column + 1);
		else
			gwc_err(b->f, &at, "YAML syntax error: %s",
				p->problem ? p->problem : "unknown problem");
		return 1;
	}
}

/* The next event of <b> into <ev>: 0, 1 after reporting a syntax error, -1 OOM. */
static int next_event(struct tb *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->p, ev))
		return yaml_fail(b);
	return 0;
}

/* Report an anchor or a tag on node <n>: an anchor is what an alias expands
 * (billion laughs), a tag changes how a scalar reads; neither has a use in a
 * route file. */
static void refuse_props(struct tb *b, const struct ynode *n, const yaml_char_t *anchor,
			 const yaml_char_t *tag)
{
	/* libyaml admits only printable characters in anchors and tags. */
	if (anchor)
		gwc_err(b->f, n, "YAML anchors are not allowed (&%.64s)", (const char *)anchor);
	if (tag)
		gwc_err(b->f, n, "YAML tags are not allowed (%.64s)", (const char *)tag);
}

struct kid_ref {
	const struct ynode *k;
	uint32_t pair;
};

/* Order keys by bytes, then by position, so that duplicates are adjacent and
 * the first of each run is the first written. */
static int cmp_kid(const void *a, const void *b)
{
	const struct kid_ref *x = a, *y = b;
	uint32_t n = x->k->len < y->k->len ? x->k->len : y->k->len;
	int c = memcmp(x->k->s, y->k->s, n);

	if (c)
		return c;
	if (x->k->len != y->k->len)
		return x->k->len < y->k->len ? -1 : 1;
	return x->pair < y->pair ? -1 : x->pair > y->pair;
}

/* Sort the <n> refs at <r> by cmp_kid: insertion sort, for the few keys of
 * a mapping (the order is total, so any sort gives the same result). */
static void sort_kids(struct kid_ref *r, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct kid_ref x = r[i];
		uint32_t j = i;

		while (j > 0 && cmp_kid(&r[j - 1], &x) > 0) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = x;
	}
}

#define SMALL_MAP 16 /* pairs sorted on the stack; route mappings have fewer */

/* Keep the pairs of mapping <m> whose key is a usable scalar, the first of
 * each duplicate key only, reporting the others.  0, or -1 OOM. */
static int clean_map(struct tb *b, struct ynode *m)
{
	struct kid_ref small_refs[SMALL_MAP], *refs = small_refs;
	uint8_t small_drop[SMALL_MAP], *drop = small_drop;
	uint32_t i, o, nrefs = 0;
	char s[80], pl[512];
	int rc = -1;

	if (m->n > SMALL_MAP) {
		drop = calloc(m->n, 1);
		refs = calloc(m->n, sizeof *refs);
		if (!drop || !refs)
			goto fail;
	} else {
		memset(small_drop, 0, sizeof small_drop);
	}
	for (i = 0; i < m->n; i++) {
		const struct ynode *k = m->kids[2 * (size_t)i];

		if (k->type == YN_BAD) {
			drop[i] = 1;
		} else if (k->type != YN_SCALAR) {
			gwc_err(b->f, k, "mapping keys must be scalars, not %s",
				gwc_show(k, s, sizeof s));
			drop[i] = 1;
		} else {
			refs[nrefs].k = k;
			refs[nrefs++].pair = i;
		}
	}
	if (nrefs > SMALL_MAP)
		qsort(refs, nrefs, sizeof *refs, cmp_kid);
	else
		sort_kids(refs, nrefs);
	for (i = 1; i < nrefs; i++) {
		uint32_t first = i - 1;

		while (i < nrefs && cmp_kid(&(struct kid_ref){ refs[first].k, 0 },
					    &(struct kid_ref){ refs[i].k, 0 }) == 0) {
			struct gw_place at = gwc_place(b->f, refs[first].k);

			gwc_err(b->f, refs[i].k, "duplicate key %s (first at %s)",
				gwc_show(refs[i].k, s, sizeof s),
				gwc_place_str(b->f->conf, &at, pl, sizeof pl));
			drop[refs[i].pair] = 1;
			i++;
		}
	}
	for (i = o = 0; i < m->n; i++) {
		if (drop[i])
			continue;
		m->kids[2 * (size_t)o] = m->kids[2 * (size_t)i];
		m->kids[2 * (size_t)o + 1] = m->kids[2 * (size_t)i + 1];
		o++;
	}
	m->n = o;
	rc = 0;
fail:
	if (refs != small_refs)
		free(refs);
	if (drop != small_drop)
		free(drop);
	return rc;
}

/* Build the node that starts with event <ev> (consumed: deleted here), at
 * nesting <depth>, into <*out>.  Returns 0, 1 when the file cannot be read
 * further (reported), or -1 OOM. */
static int build(struct tb *b, yaml_event_t *ev, unsigned depth, struct ynode **out)
{
	struct ynode *n;
	size_t base = b->nkids, nkids;
	yaml_event_type_t end;
	int rc = -1;

	n = node_new(b, &ev->start_mark);
	if (!n)
		goto fail;
	*out = n;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		gwc_err(b->f, n, "YAML aliases are not allowed (*%.64s)",
			(const char *)ev->data.alias.anchor);
		n->type = YN_BAD;
		rc = 0;
		goto fail;
	case YAML_SCALAR_EVENT:
		refuse_props(b, n, ev->data.scalar.anchor, ev->data.scalar.tag);
		n->type = YN_SCALAR;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (ev->data.scalar.length > UINT32_MAX - 1)
			goto fail;
		n->len = (uint32_t)ev->data.scalar.length;
		n->s = str_new(b, (const char *)ev->data.scalar.value, n->len);
		rc = n->s ? 0 : -1;
		goto fail;
	case YAML_SEQUENCE_START_EVENT:
		refuse_props(b, n, ev->data.sequence_start.anchor, ev->data.sequence_start.tag);
		n->type = YN_SEQ;
		end = YAML_SEQUENCE_END_EVENT;
		break;
	case YAML_MAPPING_START_EVENT:
		refuse_props(b, n, ev->data.mapping_start.anchor, ev->data.mapping_start.tag);
		n->type = YN_MAP;
		end = YAML_MAPPING_END_EVENT;
		break;
	default:
		gwc_err(b->f, n, "YAML syntax error: unexpected event");
		rc = 1;
		goto fail;
	}
	if (depth >= GWC_MAX_DEPTH) {
		gwc_err(b->f, n, "YAML nesting deeper than %u levels", GWC_MAX_DEPTH);
		rc = 1;
		goto fail;
	}
	yaml_event_delete(ev);
	for (;;) {
		struct ynode *kid;

		rc = next_event(b, ev);
		if (rc)
			goto fail_nodelete;
		if (ev->type == end)
			break;
		rc = build(b, ev, depth + 1, &kid);
		if (rc)
			goto fail_nodelete;
		if (b->nkids == b->capkids) {
			size_t ncap = b->capkids ? b->capkids * 2 : 256;
			struct ynode **nk = realloc(b->kids, ncap * sizeof *nk);

			if (!nk) {
				rc = -1;
				goto fail_nodelete; /* the child's build consumed <ev> */
			}
			b->kids = nk;
			b->capkids = ncap;
		}
		b->kids[b->nkids++] = kid;
	}
	nkids = b->nkids - base;
	if (nkids > UINT32_MAX - 1) {
		rc = -1;
		goto fail;
	}
	n->n = (uint32_t)(n->type == YN_MAP ? nkids / 2 : nkids);
	if (nkids) {
		n->kids = gwc_arena_alloc(&b->f->tree, nkids * sizeof *n->kids);
		if (!n->kids) {
			rc = -1;
			goto fail;
		}
		memcpy(n->kids, b->kids + base, nkids * sizeof *n->kids);
	}
	rc = n->type == YN_MAP ? clean_map(b, n) : 0;
fail:
	yaml_event_delete(ev);
fail_nodelete:
	b->nkids = base; /* this node's children, built or not, leave the stack */
	return rc;
}

/* Skip one event of <b>, then read the next into <*ev> (the caller deletes
 * it).  Returns 0, 1 when the file was refused (reported), or -1 OOM. */
static int next_after(struct tb *b, yaml_event_t *ev)
{
	int rc = next_event(b, ev);

	if (rc)
		return rc;
	yaml_event_delete(ev);
	return next_event(b, ev);
}

/* Read the one document of <b> into <*root> (NULL for an empty file).
 * Returns 0, 1 when the file was refused (reported), or -1 OOM. */
static int load(struct tb *b, struct ynode **root)
{
	yaml_event_t ev;
	int rc;

	*root = NULL;
	rc = next_after(b, &ev); /* after STREAM-START */
	if (rc)
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* DOCUMENT-START */
	rc = next_event(b, &ev);
	if (rc)
		return rc;
	rc = build(b, &ev, 0, root);
	if (rc)
		return rc;
	rc = next_after(b, &ev); /* after DOCUMENT-END */
	if (rc)
		return rc;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		struct ynode at = { .line = (uint32_t)ev.start_mark.line + 1,
				    .col = (uint32_t)ev.start_mark.column + 1 };

		gwc_err(b->f, &at, "a route file holds one YAML document; a second one starts here");
		rc = 1;
	}
	yaml_event_delete(&ev);
	return rc;
}

int gwc_yaml_load(struct gwc_file *f, const void *buf, size_t len, struct ynode **root)
{
	struct tb b = { .f = f, .buf = buf, .len = len };
	int rc;

	*root = NULL;
	if (!yaml_parser_initialize(&b.p))
		return -1;
	yaml_parser_set_input_string(&b.p, buf, len);
	rc = load(&b, root);
	yaml_parser_delete(&b.p);
	free(b.kids);
	return rc;
}
