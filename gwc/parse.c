/* gwc's front end (parse.h): reading route files, the top level of the
 * language, and the cross-file finish.
 *
 * The journey of a file: parse_file reads it (refusing more than
 * GWC_MAX_FILE_BYTES) and hashes it into the fingerprint; parse_yaml.c turns it
 * into a tree of places, refusing the YAML a route file has no use for; walk()
 * hands each section to its walker (parse_upstream.c, parse_policy.c,
 * parse_route.c), which fill the conf and report errors through parse_util.c;
 * after the last file, gwc_parse_finish resolves names across files and sorts
 * the hosts.
 */
#include "gwc/parse_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/error.h"

/* ---- the top level ------------------------------------------------------- */

/* Walk the document <root> of file <f>.  0, or -1 OOM. */
static int walk(struct gwc_file *f, const struct ynode *root)
{
	static const char *const keys[] = {
		"version", "settings", "upstreams", "policies", "routes", NULL,
	};
	const struct ynode *n, *k;
	uint32_t version;

	if (!root || gwc_is_null(root)) {
		gwc_err(f, root, "the file is empty: a route file is a mapping with 'version: 1'");
		return 0;
	}
	if (root->type != YN_MAP) {
		if (root->type != YN_BAD)
			gwc_err(f, root, "the top level must be a mapping with 'version: 1'");
		return 0;
	}
	gwc_check_keys(f, root, keys, "the top level");
	n = gwc_get(root, "version");
	if (!n)
		gwc_err(f, root, "missing required key 'version' (version: 1)");
	else if (gwc_u32(f, n, "'version'", 0, UINT32_MAX, &version) == 0 && version != 1)
		gwc_err(f, n, "unsupported version %u (gwc reads version 1)", version);
	k = gwc_key(root, "settings");
	if (k) {
		n = gwc_get(root, "settings");
		if (f->st->have_settings) {
			char pl[512];

			gwc_err(f, k, "settings may appear in one file only; already given at %s",
				gwc_place_str(f->conf, &f->st->settings_at, pl, sizeof pl));
		} else {
			f->st->have_settings = 1;
			f->st->settings_at = gwc_place(f, k);
		}
		if (gwc_parse_settings(f, n))
			return -1;
	}
	n = gwc_get(root, "upstreams");
	if (n && gwc_parse_upstreams(f, n))
		return -1;
	n = gwc_get(root, "policies");
	if (n && gwc_parse_policies(f, n))
		return -1;
	n = gwc_get(root, "routes");
	if (n && gwc_parse_routes(f, n))
		return -1;
	return 0;
}

/* ---- files --------------------------------------------------------------- */

/* Record <name> as the next file of <conf> and hash its header into the
 * fingerprint.  Returns the file index, or -1 (OOM, or too many files:
 * reported). */
long gwc_add_file(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st,
		  const char *name, size_t len)
{
	struct gw_str *e;
	uint8_t le[8];
	size_t nlen = strlen(name);

	if (conf->files.n >= UINT16_MAX) {
		gwc_err_at(conf, d, st, NULL, "%s: too many route files (at most %u)", name,
			   UINT16_MAX);
		return -2;
	}
	e = GW_VEC_PUSH(conf->files);
	if (!e || gwc_copy_bytes(st, name, nlen, e))
		return -1;
	/* docs/blob-format.md, fingerprint: per file, the path as given, a NUL,
	 * the length as 8 bytes little-endian, the bytes. */
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)((uint64_t)len >> (8 * i));
	if (st->sha && (gnutls_hash(st->sha, name, nlen + 1) < 0 ||
			gnutls_hash(st->sha, le, sizeof le) < 0))
		return -1;
	return (long)conf->files.n++;
}

/* Parse the bytes of file number <file> of <conf>. 0, or -1 OOM. */
static int parse_bytes(struct gw_conf *conf, uint16_t file, const void *buf, size_t len,
		       struct gw_diag *d, struct gwc_state *st)
{
	struct gwc_file f = { .conf = conf, .d = d, .st = st, .file = file };
	struct ynode *root = NULL;
	int rc;

	if (st->sha && len && gnutls_hash(st->sha, buf, len) < 0)
		return -1;
	if (len > GWC_MAX_FILE_BYTES) {
		struct gw_place at = { .file = file };

		gwc_err_at(conf, d, st, &at, "%s: file larger than %u bytes (16 MiB)",
			   conf->files.v[file].p, GWC_MAX_FILE_BYTES);
		return 0;
	}
	rc = gwc_yaml_load(&f, buf, len, &root);
	if (rc == 0)
		rc = walk(&f, root);
	gwc_arena_free(&f.tree);
	return rc < 0 ? -1 : 0;
}

/* The return value of a parse step: GW_ENOMEM, else 1 when errors were
 * recorded since <before>, else 0. */
static int outcome(const struct gw_diag *d, const struct gwc_state *st, unsigned before, int rc)
{
	if (rc < 0)
		return GW_ENOMEM;
	return st->nerrors != before || d->oom ? 1 : 0;
}

int gwc_parse_mem(struct gw_conf *conf, const char *name, const void *buf, size_t len,
		  struct gw_diag *d, struct gwc_state *st)
{
	unsigned before = st->nerrors;
	long file = gwc_add_file(conf, d, st, name, len);

	if (file == -1)
		return GW_ENOMEM;
	if (file < 0)
		return 1;
	return outcome(d, st, before, parse_bytes(conf, (uint16_t)file, buf, len, d, st));
}

int gwc_parse_file(struct gw_conf *conf, const char *path, struct gw_diag *d,
		   struct gwc_state *st)
{
	unsigned before = st->nerrors;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat sb;
	int fd, rc = 0, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		err = errno;
	} else if (S_ISDIR(sb.st_mode)) {
		err = EISDIR;
	} else if (S_ISREG(sb.st_mode) && sb.st_size > (off_t)GWC_MAX_FILE_BYTES) {
		len = (size_t)sb.st_size; /* reported as too large below, unread */
	} else {
		/* Read at most one byte past the limit: pipes have no size. */
		for (;;) {
			ssize_t r;

			if (len == cap) {
				size_t ncap = cap ? cap * 2 : 64 * 1024;
				char *nb;

				if (ncap > GWC_MAX_FILE_BYTES + 1)
					ncap = GWC_MAX_FILE_BYTES + 1;
				if (ncap == cap)
					break;
				nb = realloc(buf, ncap);
				if (!nb) {
					rc = -1;
					goto fail;
				}
				buf = nb;
				cap = ncap;
			}
			r = read(fd, buf + len, cap - len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				err = errno;
				break;
			}
			if (r == 0)
				break;
			len += (size_t)r;
		}
	}
	long file = gwc_add_file(conf, d, st, path, err ? 0 : len);
	if (file == -1) {
		rc = -1;
		goto fail;
	}
	if (file < 0)
		goto fail;
	struct gw_place at = { .file = (uint16_t)file }; /* line 0: no line to show */

	if (err)
		gwc_err_at(conf, d, st, &at, "cannot read %s: %s", path, strerror(err));
	else if (len > GWC_MAX_FILE_BYTES)
		gwc_err_at(conf, d, st, &at, "%s: file larger than %u bytes (16 MiB)", path,
			   GWC_MAX_FILE_BYTES);
	else
		rc = parse_bytes(conf, (uint16_t)file, buf, len, d, st);
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return outcome(d, st, before, rc);
}

/* ---- state and finish ---------------------------------------------------- */

struct gwc_state *gwc_state_new(void)
{
	struct gwc_state *st = calloc(1, sizeof *st);

	if (!st)
		return NULL;
	if (gnutls_hash_init(&st->sha, GNUTLS_DIG_SHA256) < 0) {
		free(st);
		return NULL;
	}
	return st;
}

void gwc_state_free(struct gwc_state *st)
{
	if (!st)
		return;
	if (st->sha)
		gnutls_hash_deinit(st->sha, NULL);
	gwc_arena_free(&st->strings);
	gwc_names_free(&st->upstreams);
	gwc_names_free(&st->policies);
	gwc_names_free(&st->routes);
	free(st->polnames.v);
	free(st->upnames.v);
	free(st->hostnames.v);
	free(st);
}

/* Order host names by bytes (docs/blob-format.md keeps conf.hosts sorted). */
static int cmp_str(const void *a, const void *b)
{
	const struct gw_str *x = a, *y = b;
	uint32_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Fill conf.hosts from the routes' host names: sorted, unique, after the ""
 * of index 0, and point each route at its index.  0, or -1 OOM. */
static int finish_hosts(struct gw_conf *conf, struct gwc_state *st)
{
	struct gw_str *sorted;
	uint32_t n = 0, u = 0;

	sorted = malloc((st->hostnames.n ? st->hostnames.n : 1) * sizeof *sorted);
	if (!sorted)
		return -1;
	for (uint32_t i = 0; i < st->hostnames.n; i++)
		if (st->hostnames.v[i].len)
			sorted[n++] = st->hostnames.v[i];
	qsort(sorted, n, sizeof *sorted, cmp_str);
	for (uint32_t i = 0; i < n; i++) {
		if (u && cmp_str(&sorted[u - 1], &sorted[i]) == 0)
			continue;
		sorted[u++] = sorted[i];
	}
	for (uint32_t i = 0; i < u; i++) {
		struct gw_str *e = GW_VEC_PUSH(conf->hosts);

		if (!e) {
			free(sorted);
			return -1;
		}
		*e = sorted[i];
		conf->hosts.n++;
	}
	for (uint32_t i = 0; i < conf->routes.n && i < st->hostnames.n; i++) {
		const struct gw_str *h = &st->hostnames.v[i];
		struct gw_str *at;

		if (!h->len) {
			conf->routes.v[i].host = 0;
			continue;
		}
		at = bsearch(h, sorted, u, sizeof *sorted, cmp_str);
		conf->routes.v[i].host = at ? (uint32_t)(at - sorted) + 1 : 0;
	}
	free(sorted);
	return 0;
}

int gwc_parse_finish(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st)
{
	unsigned before = st->nerrors;
	char b[80];
	int rc = 0;

	if (st->finished)
		return 0;
	st->finished = 1;
	/* Names resolve across files: a route may use a policy of a later file. */
	for (uint32_t i = 0; i < st->polnames.n && i < conf->polrefs.n; i++) {
		const struct gwc_ref *r = &st->polnames.v[i];
		const struct gwc_name *e = gwc_names_find(&st->policies, r->name.p, r->name.len);

		conf->polrefs.v[i] = e ? e->index : GW_NONE;
		if (!e)
			gwc_err_at(conf, d, st, &r->at, "unknown policy %s",
				   gwc_show_bytes(r->name.p, r->name.len, b, sizeof b));
	}
	for (uint32_t i = 0; i < st->upnames.n && i < conf->proxies.n; i++) {
		const struct gwc_ref *r = &st->upnames.v[i];
		const struct gwc_name *e;

		if (!r->name.p)
			continue; /* the proxy had no usable upstream key: reported */
		e = gwc_names_find(&st->upstreams, r->name.p, r->name.len);
		conf->proxies.v[i].upstream = e ? e->index : GW_NONE;
		if (!e)
			gwc_err_at(conf, d, st, &r->at, "unknown upstream %s",
				   gwc_show_bytes(r->name.p, r->name.len, b, sizeof b));
	}
	if (gwc_finish_routes(conf, d, st) || finish_hosts(conf, st)) {
		rc = -1;
		goto fail;
	}
	if (st->sha) {
		gnutls_hash_deinit(st->sha, conf->fingerprint);
		st->sha = NULL;
	}
fail:
	return outcome(d, st, before, rc);
}
