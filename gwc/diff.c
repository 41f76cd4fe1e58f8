/* `gwc diff A B` (gwc/cmds.h): routes, policies, upstreams and settings
 * added, removed or changed between two compiled blobs.
 *
 * Both blobs are described with gwc/describe.h (what `gwc inspect` prints),
 * entities are paired by key and their attributes compared one by one:
 *   route     its name when it has one, else METHODS HOST+PATTERN (the pair
 *             the compiler keeps unique);
 *   policy, upstream   by name;  settings   the one record.
 * Where things were written ("source") is left out: moving a route in its
 * file changes nothing it does.  Output, sorted by key within each kind:
 *
 *   - route GET /old
 *   + route POST /api/new
 *   ~ policy public
 *       rate: 5000/1s -> 100/1s
 *
 * Exit status as diff(1): 0 same, 1 different, 2 trouble.
 */
#include "gwc/diff.h"

#include <stdlib.h>
#include <string.h>

#include "gwc/cmds.h"
#include "gwc/describe.h"
#include "lib/blob-t.h"

struct item {
	char *key;   /* owned */
	char *label; /* owned: how the entity is named in the output */
	uint32_t index;
	struct gwc_desc d;
};

struct items {
	struct item *v;
	uint32_t n;
};

enum kind { K_ROUTE, K_POLICY, K_UPSTREAM, K_SETTINGS, K_NKINDS };

static const char *const kind_name[K_NKINDS] = { "route", "policy", "upstream", "settings" };
static const unsigned kind_table[K_NKINDS] = {
	GW_BLOB_ROUTES, GW_BLOB_POLICIES, GW_BLOB_UPSTREAMS, GW_BLOB_SETTINGS,
};

/* Free the items of <l> and empty it. */
static void items_free(struct items *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].label);
		gwc_desc_free(&l->v[i].d);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* qsort order of items: key, then index (stable output for equal keys). */
static int item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	int c = strcmp(a->key, b->key);

	return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* Key, label and description of entity <i> of kind <k> in <b> into <it>.
 * Returns 0, or -1 when memory ran out. */
static int describe(const struct gw_blob *b, enum kind k, uint32_t i, struct item *it)
{
	it->index = i;
	switch (k) {
	case K_ROUTE: {
		struct gw_route r;
		char *title = gwc_route_title(b, i);

		if (!title || gw_blob_route(b, i, &r) < 0) {
			free(title);
			return -1;
		}
		if (r.name.len) {
			it->key = strdup(r.name.p);
			if (asprintf(&it->label, "%s (%s)", r.name.p, title) < 0)
				it->label = NULL;
			free(title);
		} else {
			it->key = title;
			it->label = strdup(title);
		}
		if (gwc_describe_route(b, i, &it->d) < 0)
			return -1;
		break;
	}
	case K_POLICY: {
		struct gw_policy p;

		if (gw_blob_policy(b, i, &p) < 0 || gwc_describe_policy(b, i, &it->d) < 0)
			return -1;
		it->key = strdup(p.name.p);
		it->label = strdup(p.name.p);
		break;
	}
	case K_UPSTREAM: {
		struct gw_upstream u;

		if (gw_blob_upstream(b, i, &u) < 0 || gwc_describe_upstream(b, i, &it->d) < 0)
			return -1;
		it->key = strdup(u.name.p);
		it->label = strdup(u.name.p);
		break;
	}
	default:
		if (gwc_describe_settings(b, &it->d) < 0)
			return -1;
		it->key = strdup("");
		it->label = strdup("");
		break;
	}
	return it->key && it->label ? 0 : -1;
}

/* Every entity of kind <k> in <b>, sorted by key.  Returns 0 or -1 (OOM). */
static int collect(const struct gw_blob *b, enum kind k, struct items *l)
{
	uint32_t n = gw_blob_count(b, kind_table[k]);

	l->n = 0;
	l->v = n ? calloc(n, sizeof *l->v) : NULL;
	if (n && !l->v)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		l->n++;
		if (describe(b, k, i, &l->v[i]) < 0)
			return -1;
	}
	if (n)
		qsort(l->v, n, sizeof *l->v, item_cmp);
	return 0;
}

static const struct gwc_attr *find_attr(const struct gwc_desc *d, const char *key)
{
	for (uint32_t k = 0; k < d->n; k++)
		if (strcmp(d->v[k].key, key) == 0)
			return &d->v[k];
	return NULL;
}

/* 1 for attributes that are no change of behaviour. */
static int ignored(const char *key)
{
	return strcmp(key, "source") == 0;
}

/* Print "~ KIND LABEL" and the attributes that differ between <a> and <b>;
 * nothing when none does.  Returns 1 when something differs, else 0. */
static int compare(FILE *out, enum kind k, const struct item *a, const struct item *b)
{
	int head = 0;

#define HEAD()								\
	do {								\
		if (!head++)						\
			fprintf(out, "~ %s%s%s\n", kind_name[k],	\
				*b->label ? " " : "", b->label);	\
	} while (0)
	for (uint32_t i = 0; i < a->d.n; i++) {
		const struct gwc_attr *x = &a->d.v[i], *y = find_attr(&b->d, x->key);

		if (ignored(x->key) || (y && strcmp(x->val, y->val) == 0))
			continue;
		HEAD();
		fprintf(out, "    %s: %s -> %s\n", x->key, x->val, y ? y->val : "(none)");
	}
	for (uint32_t i = 0; i < b->d.n; i++) {
		const struct gwc_attr *y = &b->d.v[i];

		if (ignored(y->key) || find_attr(&a->d, y->key))
			continue;
		HEAD();
		fprintf(out, "    %s: (none) -> %s\n", y->key, y->val);
	}
#undef HEAD
	return head != 0;
}

/* diff.h. */
int gwc_diff_print(const struct gw_blob *a, const struct gw_blob *b, FILE *out)
{
	unsigned added = 0, removed = 0, changed = 0;
	int rc = 0;

	for (enum kind k = 0; k < K_NKINDS && rc == 0; k++) {
		struct items la = { 0 }, lb = { 0 };
		uint32_t i = 0, j = 0;

		if (collect(a, k, &la) < 0 || collect(b, k, &lb) < 0) {
			rc = -1;
		} else {
			while (i < la.n || j < lb.n) {
				int c = i == la.n ? 1 : j == lb.n ? -1 : strcmp(la.v[i].key, lb.v[j].key);

				if (c < 0) {
					fprintf(out, "- %s %s\n", kind_name[k], la.v[i++].label);
					removed++;
				} else if (c > 0) {
					fprintf(out, "+ %s %s\n", kind_name[k], lb.v[j++].label);
					added++;
				} else {
					changed += (unsigned)compare(out, k, &la.v[i++], &lb.v[j++]);
				}
			}
		}
		items_free(&la);
		items_free(&lb);
	}
	if (rc)
		return rc;
	if (added + removed + changed)
		fprintf(out, "%u added, %u removed, %u changed\n", added, removed, changed);
	return (int)(added + removed + changed);
}

/* gwc diff (cmds.h): <argv> is A B.  Returns 0 same, 1 different, 2 error. */
int gwc_cmd_diff(int argc, char **argv)
{
	struct gw_blob *b[2] = { NULL, NULL };
	int rc = 2, n;

	if (argc == 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
		puts("usage: gwc diff A.gwb B.gwb\n"
		     "Routes, policies, upstreams and settings added (+), removed (-) and\n"
		     "changed (~) from A to B.  Exit 0 when the same, 1 when different, 2 on error.");
		return 0;
	}
	if (argc != 2 || argv[0][0] == '-' || argv[1][0] == '-') {
		fputs("usage: gwc diff A.gwb B.gwb\n", stderr);
		return 2;
	}
	for (int k = 0; k < 2; k++) {
		char why[512] = "";
		int st = gw_blob_open(argv[k], &b[k], why, sizeof why);

		if (st != GW_OK) {
			fprintf(stderr, "gwc diff: %s: %s%s%s\n", argv[k], gw_strerror(st),
				why[0] ? ": " : "", why);
			goto fail;
		}
	}
	n = gwc_diff_print(b[0], b[1], stdout);
	if (n < 0)
		fprintf(stderr, "gwc diff: out of memory\n");
	else if (fflush(stdout) == 0)
		rc = n > 0;
fail:
	gw_blob_close(b[0]);
	gw_blob_close(b[1]);
	return rc;
}
