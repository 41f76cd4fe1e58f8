/* `gwc inspect BLOB` (gwc/cmds.h): what a compiled blob holds, for people.
 *
 * The blob is opened with gw_blob_open(), so that inspect refuses exactly
 * what gwd refuses, with the same message; then the file's bytes are read
 * once more for what only the raw header shows (versions, flags, checksum,
 * the section table).  Records are printed through gwc/describe.h, the
 * descriptions `gwc diff` compares.  The output is stable (no address, no
 * time) so that tests/golden/inspect-*.txt can pin it.
 */
#include "gwc/inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gwc/cmds.h"
#include "gwc/describe.h"
#include "lib/blob-t.h"
#include "lib/bytes.h"

#define KEYW 22 /* width of the attribute column */

/* Print the attributes of <d> indented by <indent> spaces. */
static void print_desc(FILE *out, const struct gwc_desc *d, int indent)
{
	for (uint32_t k = 0; k < d->n; k++)
		fprintf(out, "%*s%-*s %s\n", indent, "", KEYW, d->v[k].key, d->v[k].val);
}

/* The header fields of <raw> (<len> bytes, verified as <b>). */
static void print_header(FILE *out, const struct gw_blob *b, const uint8_t *raw, size_t len)
{
	const uint8_t *fp = gw_blob_fingerprint(b);

	fputs("header\n", out);
	fprintf(out, "  %-*s %s\n", KEYW, "magic",
		memcmp(raw, GW_BLOB_MAGIC, GW_BLOB_MAGIC_LEN) == 0 ? "ok" : "BAD");
	fprintf(out, "  %-*s %u\n", KEYW, "read_version",
		gw_get_u16le(raw + GW_BLOB_HDR_READ_VERSION));
	fprintf(out, "  %-*s %u\n", KEYW, "write_version",
		gw_get_u16le(raw + GW_BLOB_HDR_WRITE_VERSION));
	fprintf(out, "  %-*s %u\n", KEYW, "header_size",
		gw_get_u32le(raw + GW_BLOB_HDR_HEADER_SIZE));
	fprintf(out, "  %-*s %llu bytes\n", KEYW, "file_size", (unsigned long long)gw_blob_size(b));
	fprintf(out, "  %-*s 0x%x\n", KEYW, "flags", gw_get_u32le(raw + GW_BLOB_HDR_FLAGS));
	fprintf(out, "  %-*s ", KEYW, "fingerprint");
	for (int k = 0; k < 32; k++)
		fprintf(out, "%02x", fp[k]);
	fprintf(out, "\n  %-*s crc32c %08x, verified\n", KEYW, "checksum",
		gw_get_u32le(raw + len - GW_BLOB_TRAILER_SIZE + GW_BLOB_TRAILER_CRC));
}

/* The section table of <raw>, as stored. */
static void print_sections(FILE *out, const uint8_t *raw)
{
	uint32_t hsize = gw_get_u32le(raw + GW_BLOB_HDR_HEADER_SIZE);
	uint32_t n = gw_get_u32le(raw + GW_BLOB_HDR_SECTION_COUNT);

	fprintf(out, "sections (%u)\n", n);
	fprintf(out, "  %3s  %-10s  %8s  %8s  %8s\n", "id", "name", "offset", "size", "count");
	for (uint32_t k = 0; k < n; k++) {
		const uint8_t *e = raw + hsize + (size_t)k * GW_BLOB_SEC_ENTRY_SIZE;

		fprintf(out, "  %3u  %-10s  %8u  %8u  %8u\n", gw_get_u32le(e + GW_BLOB_SEC_ID),
			gw_blob_table_name(gw_get_u32le(e + GW_BLOB_SEC_ID)),
			gw_get_u32le(e + GW_BLOB_SEC_OFFSET), gw_get_u32le(e + GW_BLOB_SEC_SIZE),
			gw_get_u32le(e + GW_BLOB_SEC_COUNT));
	}
}

/* Trie statistics: depth and fan-out come from one pass in index order,
 * which the format makes topological (children after parents). */
static int print_trie(FILE *out, const struct gw_blob *b)
{
	uint32_t nn = gw_blob_count(b, GW_BLOB_NODES), nr = gw_blob_count(b, GW_BLOB_ROUTES);
	uint32_t *depth = nn ? calloc(nn, sizeof *depth) : NULL;
	uint32_t maxd = 0, fan = 0, trees = 0;

	if (nn && !depth)
		return -1;
	for (uint32_t h = 0; h < gw_blob_count(b, GW_BLOB_HOSTS); h++) {
		struct gw_str name;
		uint32_t root;

		if (gw_blob_host(b, h, &name, &root) == 0 && root != GW_NONE)
			trees++;
	}
	for (uint32_t i = 0; i < nn; i++) {
		struct gw_trie_node n;
		struct gw_trie_edge e;
		uint32_t f;

		if (gw_blob_node(b, i, &n) < 0)
			continue;
		f = n.lit_count + (n.param_child != GW_NONE);
		fan = f > fan ? f : fan;
		maxd = depth[i] > maxd ? depth[i] : maxd;
		for (uint32_t k = 0; k < n.lit_count; k++)
			if (gw_blob_edge(b, n.lit_first + k, &e) == 0 && depth[e.child] < depth[i] + 1)
				depth[e.child] = depth[i] + 1;
		if (n.param_child != GW_NONE && depth[n.param_child] < depth[i] + 1)
			depth[n.param_child] = depth[i] + 1;
	}
	free(depth);
	fputs("trie\n", out);
	fprintf(out, "  %-*s %u\n", KEYW, "hosts", gw_blob_count(b, GW_BLOB_HOSTS));
	fprintf(out, "  %-*s %u\n", KEYW, "trees", trees);
	fprintf(out, "  %-*s %u\n", KEYW, "nodes", nn);
	fprintf(out, "  %-*s %u\n", KEYW, "edges", gw_blob_count(b, GW_BLOB_EDGES));
	fprintf(out, "  %-*s %u\n", KEYW, "depth", maxd);
	fprintf(out, "  %-*s %u\n", KEYW, "max fan-out", fan);
	fprintf(out, "  %-*s %u\n", KEYW, "routes", nr);
	if (nr)
		fprintf(out, "  %-*s %.1f\n", KEYW, "bytes per route", (double)gw_blob_size(b) / nr);
	return 0;
}

/* inspect.h. */
int gwc_inspect_print(const struct gw_blob *b, const uint8_t *raw, size_t len, FILE *out)
{
	struct gwc_desc d = { 0 };
	int rc = 0;

	print_header(out, b, raw, len);
	print_sections(out, raw);

	fprintf(out, "hosts (%u)\n", gw_blob_count(b, GW_BLOB_HOSTS));
	for (uint32_t i = 0; i < gw_blob_count(b, GW_BLOB_HOSTS); i++) {
		struct gw_str name;
		uint32_t root;

		if (gw_blob_host(b, i, &name, &root) == 0)
			fprintf(out, "  #%u %s\n", i, i ? name.p : "(any host)");
	}
	fprintf(out, "routes (%u)\n", gw_blob_count(b, GW_BLOB_ROUTES));
	for (uint32_t i = 0; i < gw_blob_count(b, GW_BLOB_ROUTES); i++) {
		char *title = gwc_route_title(b, i);

		fprintf(out, "  #%u %s\n", i, title ? title : "?");
		free(title);
		rc |= gwc_describe_route(b, i, &d);
		print_desc(out, &d, 6);
		gwc_desc_free(&d);
	}
	fprintf(out, "policies (%u)\n", gw_blob_count(b, GW_BLOB_POLICIES));
	for (uint32_t i = 0; i < gw_blob_count(b, GW_BLOB_POLICIES); i++) {
		struct gw_policy p;

		if (gw_blob_policy(b, i, &p) == 0)
			fprintf(out, "  #%u %s\n", i, p.name.p);
		rc |= gwc_describe_policy(b, i, &d);
		print_desc(out, &d, 6);
		gwc_desc_free(&d);
	}
	fprintf(out, "upstreams (%u)\n", gw_blob_count(b, GW_BLOB_UPSTREAMS));
	for (uint32_t i = 0; i < gw_blob_count(b, GW_BLOB_UPSTREAMS); i++) {
		struct gw_upstream u;

		if (gw_blob_upstream(b, i, &u) == 0)
			fprintf(out, "  #%u %s\n", i, u.name.p);
		rc |= gwc_describe_upstream(b, i, &d);
		print_desc(out, &d, 6);
		gwc_desc_free(&d);
	}
	fputs("settings\n", out);
	rc |= gwc_describe_settings(b, &d);
	print_desc(out, &d, 2);
	gwc_desc_free(&d);
	rc |= print_trie(out, b);
	return rc ? -1 : 0;
}

/* Read all of <path> into a malloc'd buffer: <*out>, <*len>.  Returns 0, or
 * -1 with errno set. */
static int read_all(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!f)
		return -1;
	for (;;) {
		if (n == cap) {
			uint8_t *q = realloc(p, cap = cap ? cap * 2 : 65536);

			if (!q) {
				err = ENOMEM;
				break;
			}
			p = q;
		}
		n += fread(p + n, 1, cap - n, f);
		if (n < cap) {
			if (ferror(f))
				err = errno ? errno : EIO;
			break;
		}
	}
	fclose(f);
	if (err) {
		free(p);
		errno = err;
		return -1;
	}
	*out = p;
	*len = n;
	return 0;
}

/* gwc inspect (cmds.h): <argv> is BLOB.  Returns 0, 1 when the blob is
 * refused (the verifier's message on stderr), 2 on a usage error. */
int gwc_cmd_inspect(int argc, char **argv)
{
	struct gw_blob *b = NULL;
	uint8_t *raw = NULL;
	char why[512] = "";
	size_t len = 0;
	int rc = 1, st, help = argc == 1 && (strcmp(argv[0], "-h") == 0 ||
					     strcmp(argv[0], "--help") == 0);

	if (argc != 1 || argv[0][0] == '-') {
		fputs("usage: gwc inspect BLOB\n"
		      "Print the header, sections, routes, policies, upstreams, settings and\n"
		      "trie statistics of a compiled blob.  Exit 1 when the blob is refused.\n",
		      help ? stdout : stderr);
		return help ? 0 : 2;
	}
	/* gw_blob_open first: a missing file, a directory or a corrupt blob is
	 * refused with gwd's very words. */
	st = gw_blob_open(argv[0], &b, why, sizeof why);
	if (st != GW_OK) {
		fprintf(stderr, "gwc inspect: %s: %s%s%s\n", argv[0], gw_strerror(st),
			why[0] ? ": " : "", why);
		return 1;
	}
	gw_blob_close(b);
	b = NULL;
	/* Then the bytes, verified again as they are printed: the file may have
	 * been replaced in between. */
	if (read_all(argv[0], &raw, &len) != 0) {
		fprintf(stderr, "gwc inspect: %s: %s\n", argv[0], strerror(errno));
		goto fail;
	}
	st = gw_blob_open_mem(raw, len, &b, why, sizeof why);
	if (st != GW_OK) {
		fprintf(stderr, "gwc inspect: %s: changed while being read: %s: %s\n", argv[0],
			gw_strerror(st), why);
		goto fail;
	}
	if (gwc_inspect_print(b, raw, len, stdout) != 0) {
		fprintf(stderr, "gwc inspect: out of memory\n");
		goto fail;
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
fail:
	gw_blob_close(b);
	free(raw);
	return rc;
}
