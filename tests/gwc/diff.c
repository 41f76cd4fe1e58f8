/* Tests of gwc/diff.c: the differences between two blobs of hand-built
 * confs (tests/lib/blob_fixture.h), printed exactly; identical meaning gives
 * no output and 0; the command's exit statuses follow diff(1). */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwc/cmds.h"
#include "gwc/diff.h"
#include "lib/blob.h"
#include "tests/lib/blob_fixture.h"

/* Lay out <f>'s trie again after its routes changed. */
static void retrie(struct fx *f)
{
	free(f->t.nodes);
	free(f->t.edges);
	free(f->t.order);
	free(f->t.roots);
	memset(&f->t, 0, sizeof f->t);
	fx_trie(f);
}

/* Diff the blobs of <a> and <b>; returns the printed text (caller frees)
 * and the count in <*n>. */
static char *diff_text(const struct fx *a, const struct fx *b, int *n)
{
	uint8_t *pa = NULL, *pb = NULL;
	struct gw_blob *ba = NULL, *bb = NULL;
	size_t la, lb, tlen = 0;
	char *text = NULL;
	FILE *out;

	*n = -2;
	if (gw_blob_write_mem(&a->c, &a->t, &pa, &la) || gw_blob_write_mem(&b->c, &b->t, &pb, &lb) ||
	    gw_blob_open_mem(pa, la, &ba, NULL, 0) || gw_blob_open_mem(pb, lb, &bb, NULL, 0) ||
	    !(out = open_memstream(&text, &tlen))) {
		CU_FAIL("cannot build the blobs to diff");
	} else {
		*n = gwc_diff_print(ba, bb, out);
		fclose(out);
	}
	gw_blob_close(ba);
	gw_blob_close(bb);
	free(pa);
	free(pb);
	return text;
}

static void test_identical(void)
{
	struct fx a, b;
	char *text;
	int n;

	fx_full(&a);
	fx_full(&b);
	/* Other sources (another fingerprint), places moved: same meaning. */
	b.c.fingerprint[0] ^= 1;
	b.c.routes.v[0].place.line += 3;
	b.c.policies.v[0].place.line += 3;
	text = diff_text(&a, &b, &n);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(text && text[0] == '\0');
	free(text);
	fx_free(&a);
	fx_free(&b);
}

static void test_changes(void)
{
	static const char want[] =
		"~ route GET /api/limited\n"
		"    body: {\"message\":\"ok\"} -> {\"message\":\"limited\"}\n"
		"    policies: strict -> stricter\n"
		"- route GET /metrics\n"
		"~ route GET,PUT /api/users/{id}\n"
		"    policies: session, body-1m -> session\n"
		"+ route POST /api/new\n"
		"~ policy public\n"
		"    rate: 5000/1s -> 100/1s\n"
		"    burst: 10000 -> 200\n"
		"- policy strict\n"
		"+ policy stricter\n"
		"~ upstream demo\n"
		"    timeout: 5s -> 7s\n"
		"    health_check: GET /health every 2s, timeout 1s, healthy 2, unhealthy 3 -> off\n"
		"~ settings\n"
		"    max_connections: 4096 -> 8192\n"
		"2 added, 2 removed, 5 changed\n";
	const uint32_t none[] = { GW_NONE };
	struct fx a, b;
	char *text;
	int n;

	fx_default(&a);
	fx_default(&b);
	b.c.ratelimits.v[0].quota = 100;
	b.c.ratelimits.v[0].burst = 200;
	for (uint32_t i = 0; i < b.c.tpls.n; i++)
		if (strcmp(b.c.tpls.v[i].text.p, "{\"message\":\"ok\"}") == 0)
			b.c.tpls.v[i].text = fx_s("{\"message\":\"limited\"}");
	/* /api/users/{id} loses body-1m: its policy list is [session, body-1m]. */
	for (uint32_t i = 0; i < b.c.routes.n; i++)
		if (strcmp(b.c.routes.v[i].pattern.p, "/api/users/{id}") == 0)
			b.c.routes.v[i].pol_count = 1;
	/* strict goes: renamed, it is one policy removed and one added. */
	b.c.policies.v[2].name = fx_s("stricter");
	b.c.upstreams.v[0].timeout_ms = 7000;
	b.c.upstreams.v[0].hc_path = fx_s("");
	b.c.settings.max_conns = 8192;
	b.c.routes.v[0].place.line = 99; /* moved: not a change */
	memmove(&b.c.routes.v[1], &b.c.routes.v[2], (b.c.routes.n - 2) * sizeof *b.c.routes.v);
	b.c.routes.n--;
	fx_route(&b, GW_M_POST, 0, "/api/new", GW_H_ECHO, 0, none, fx_at(0, 120, 5));
	retrie(&b);

	text = diff_text(&a, &b, &n);
	CU_ASSERT_EQUAL(n, 9);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	if (strcmp(text, want) != 0) {
		fprintf(stderr, "\ngot:\n%s\nwant:\n%s", text, want);
		CU_FAIL("diff output");
	}
	free(text);

	/* The other way round: every + is a - and the arrows turn. */
	text = diff_text(&b, &a, &n);
	CU_ASSERT(text && strstr(text, "+ route GET /metrics\n") && strstr(text, "- route POST /api/new\n") &&
		  strstr(text, "    rate: 100/1s -> 5000/1s\n") && strstr(text, "+ policy strict\n"));
	CU_ASSERT_EQUAL(n, 9);
	free(text);
	fx_free(&a);
	fx_free(&b);
}

static void test_cmd(void)
{
	char *one[] = { "a", NULL };
	char *bad[] = { "tests/corpus/blob/edge-cycle.blob", "tests/corpus/blob/edge-cycle.blob", NULL };
	char *missing[] = { "/nonexistent/a.gwb", "/nonexistent/b.gwb", NULL };

	CU_ASSERT_EQUAL(gwc_cmd_diff(1, one), 2);
	CU_ASSERT_EQUAL(gwc_cmd_diff(2, bad), 2);
	CU_ASSERT_EQUAL(gwc_cmd_diff(2, missing), 2);
}

int gw_suite_gwc_diff(void);
int gw_suite_gwc_diff(void)
{
	CU_pSuite s = CU_add_suite("gwc/diff", NULL, NULL);

	if (!s || !CU_add_test(s, "same meaning: no difference", test_identical) ||
	    !CU_add_test(s, "added, removed, changed", test_changes) ||
	    !CU_add_test(s, "command: usage and refused blobs", test_cmd))
		return -1;
	return 0;
}
