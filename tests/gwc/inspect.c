/* Tests of gwc/inspect.c: golden files for what people read.
 *
 * The blobs come from the hand-built confs of tests/lib/blob_fixture.h (the
 * default route set and one using every table), so the output does not move
 * when the front end or gw_trie_build change; tests/integration/blob.sh pins
 * the output for routes/gateway.yaml compiled by the real gwc.
 * `GW_UPDATE_GOLDEN=1 bin/unit inspect` rewrites tests/golden/inspect-*.txt
 * (review the diff before committing it).
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwc/cmds.h"
#include "gwc/inspect.h"
#include "lib/blob.h"
#include "tests/lib/blob_fixture.h"

/* Read all of <path>; NULL when it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
		p[n] = '\0';
		*len = (size_t)n;
	} else {
		free(p);
		p = NULL;
	}
	fclose(f);
	return p;
}

/* Inspect the blob of <build> and compare with tests/golden/<golden>. */
static void golden(void (*build)(struct fx *), const char *golden)
{
	char path[256], *text = NULL, *want;
	struct gw_blob *b = NULL;
	size_t len, tlen = 0, wlen = 0;
	uint8_t *raw = NULL;
	struct fx f;
	FILE *out;

	build(&f);
	CU_ASSERT_EQUAL_FATAL(gw_blob_write_mem(&f.c, &f.t, &raw, &len), GW_OK);
	CU_ASSERT_EQUAL_FATAL(gw_blob_open_mem(raw, len, &b, NULL, 0), GW_OK);
	out = open_memstream(&text, &tlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(gwc_inspect_print(b, raw, len, out), 0);
	fclose(out);
	snprintf(path, sizeof path, "tests/golden/%s", golden);
	if (getenv("GW_UPDATE_GOLDEN")) {
		FILE *g = fopen(path, "w");

		CU_ASSERT(g && fwrite(text, 1, tlen, g) == tlen);
		if (g)
			fclose(g);
	}
	want = slurp(path, &wlen);
	CU_ASSERT_PTR_NOT_NULL(want);
	if (want && (wlen != tlen || memcmp(want, text, tlen) != 0)) {
		fprintf(stderr, "\ninspect output differs from %s; got:\n%s", path, text);
		CU_FAIL("inspect output differs from the golden file");
	}
	free(want);
	free(text);
	gw_blob_close(b);
	free(raw);
	fx_free(&f);
}

static void test_golden_default(void)
{
	golden(fx_default, "inspect-default.txt");
}

static void test_golden_full(void)
{
	golden(fx_full, "inspect-full.txt");
}

static void test_golden_tls(void)
{
	golden(fx_tls, "inspect-tls.txt");
}

/* The command: usage errors are 2, a refused blob is 1 (with the verifier's
 * message on stderr), never a crash. */
static void test_cmd(void)
{
	char *none[] = { NULL };
	char *two[] = { "a", "b", NULL };
	char *opt[] = { "--bogus", NULL };
	char *bad[] = { "tests/corpus/blob/edge-cycle.blob", NULL };
	char *missing[] = { "/nonexistent/x.gwb", NULL };
	char *dir[] = { "tests", NULL };

	CU_ASSERT_EQUAL(gwc_cmd_inspect(0, none), 2);
	CU_ASSERT_EQUAL(gwc_cmd_inspect(2, two), 2);
	CU_ASSERT_EQUAL(gwc_cmd_inspect(1, opt), 2);
	CU_ASSERT_EQUAL(gwc_cmd_inspect(1, bad), 1);
	CU_ASSERT_EQUAL(gwc_cmd_inspect(1, missing), 1);
	CU_ASSERT_EQUAL(gwc_cmd_inspect(1, dir), 1);
}

int gw_suite_gwc_inspect(void);
int gw_suite_gwc_inspect(void)
{
	CU_pSuite s = CU_add_suite("gwc/inspect", NULL, NULL);

	if (!s || !CU_add_test(s, "golden: default routes", test_golden_default) ||
	    !CU_add_test(s, "golden: every table", test_golden_full) ||
	    !CU_add_test(s, "golden: an HTTPS upstream", test_golden_tls) ||
	    !CU_add_test(s, "command: usage and refused blobs", test_cmd))
		return -1;
	return 0;
}
