/* Blob generations built from YAML text for the gwd unit tests: the real
 * front end (gwc/parse.c), trie builder and blob writer, then gwd's own
 * generation builder over the bytes (gw_blob_open_mem), so a test states its
 * routes the way an operator would.
 *
 *   struct fxg f;
 *   if (fxg_build(&f, "version: 1\nroutes: ...") == 0) { ... f.g ... }
 *   fxg_free(&f);
 *
 * Included once per test file; everything is static.
 */
#ifndef GW_TESTS_GWD_GEN_FIXTURE_H
#define GW_TESTS_GWD_GEN_FIXTURE_H

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwc/parse.h"
#include "gwd/reload.h"
#include "lib/blob.h"
#include "lib/diag.h"
#include "lib/trie.h"

struct fxg {
	struct gwd_gen *g;
	uint8_t *mem; /* the blob bytes, alive while <g> is */
	size_t len;
};

/* Compile <yaml> into blob bytes in <f->mem>. Returns 0, or -1 (the test
 * fails, with the diagnostics printed). */
static __attribute__((unused)) int fxg_bytes(struct fxg *f, const char *yaml)
{
	struct gw_conf c;
	struct gw_trie t;
	struct gw_diag d = { 0 };
	struct gwc_state *st = gwc_state_new();
	int rc = -1;

	memset(f, 0, sizeof *f);
	memset(&t, 0, sizeof t);
	if (!st || gw_conf_init(&c) != 0) {
		gwc_state_free(st);
		CU_FAIL("out of memory");
		return -1;
	}
	if (gwc_parse_mem(&c, "test.yaml", yaml, strlen(yaml), &d, st) != 0 ||
	    gwc_parse_finish(&c, &d, st) != 0 || gw_trie_build(&c, &t, &d) != 0) {
		gw_diag_print(&d, c.files.v, c.files.n, stderr);
		CU_FAIL("the test's YAML does not compile");
		goto out;
	}
	if (gw_blob_write_mem(&c, &t, &f->mem, &f->len) != GW_OK) {
		CU_FAIL("gw_blob_write_mem");
		goto out;
	}
	rc = 0;
out:
	gw_trie_free(&t);
	gw_diag_free(&d);
	gw_conf_free(&c);
	gwc_state_free(st);
	return rc;
}

/* Compile <yaml> and build a generation over it. Returns 0 or -1. */
static __attribute__((unused)) int fxg_build(struct fxg *f, const char *yaml)
{
	struct gw_blob *b = NULL;
	char why[256];

	if (fxg_bytes(f, yaml) != 0)
		return -1;
	if (gw_blob_open_mem(f->mem, f->len, &b, why, sizeof why) != GW_OK) {
		fprintf(stderr, "blob: %s\n", why);
		CU_FAIL("gw_blob_open_mem");
		return -1;
	}
	if (gwd_reload_build(b, &f->g, why, sizeof why) != 0) {
		fprintf(stderr, "gen: %s\n", why);
		CU_FAIL("gwd_reload_build");
		return -1;
	}
	return 0;
}

/* Free <f>'s generation (unless <keep_gen>: published ones belong to
 * reload.c) and its bytes. */
static __attribute__((unused)) void fxg_free(struct fxg *f)
{
	gwd_reload_free(f->g);
	f->g = NULL;
	free(f->mem);
	f->mem = NULL;
}

#endif
