/* Tests of gwd/apikey.c over a real SQLite file: a created key passes and
 * yields its name, only its digest is stored, malformed and unknown keys are
 * refused, a key deleted by another process is refused after the next poll,
 * and an unavailable database answers -1. */
#include <CUnit/CUnit.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwd/apikey.h"
#include "gwd/store.h"
#include "tests/gwd/db_fixture.h"

int gw_suite_gwd_apikey(void);


/* Count rows of api_keys whose hash column or name contains <text>, on a
 * separate connection. */
static long long rows_containing(const char *path, const char *text)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM api_keys WHERE instr(hash, ?1) > 0"
	                       " OR instr(name, ?1) > 0", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void test_keys(void)
{
	struct gwd_store *st = NULL, *cli = NULL;
	struct gwd_apikeys *ak = NULL;
	struct gwd_session_principal who;
	char path[512], moved[600], err[256], key[GWD_TOKEN_LEN + 1], key2[GWD_TOKEN_LEN + 1];
	char padded[80];

	snprintf(path, sizeof path, "%s", fxdb_path("keys.db"));
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, path, GWD_STORE_CREATE, 200, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_apikey_new(&ak, st, 16), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_apikey_create(st, "ci-runner", key), 1);
	CU_ASSERT(gwd_token_shape_ok(key, strlen(key)));
	CU_ASSERT_EQUAL(gwd_apikey_create(st, "ci-runner", key2), 0);
	CU_ASSERT_STRING_EQUAL(key2, "");
	CU_ASSERT_EQUAL(gwd_apikey_create(st, "bad name", key2), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_apikey_create(st, "batch", key2), 1);
	CU_ASSERT_STRING_NOT_EQUAL(key, key2);
	/* the database holds no key text */
	CU_ASSERT_EQUAL(rows_containing(path, key), 0);

	CU_ASSERT_EQUAL(gwd_apikey_check(ak, key, &who), 1);
	CU_ASSERT_STRING_EQUAL(who.name, "ci-runner");
	CU_ASSERT_EQUAL(who.len, 9);
	CU_ASSERT_EQUAL(who.kind, GWD_SESSION_PRINCIPAL_KEY);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, key, &who), 1); /* now cached */
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, key2, &who), 1);
	CU_ASSERT_STRING_EQUAL(who.name, "batch");
	snprintf(padded, sizeof padded, " \t%s ", key);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, padded, &who), 1);
	CU_ASSERT_STRING_EQUAL(who.name, "ci-runner");

	/* absent, malformed, unknown */
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, NULL, &who), 0);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, "", &who), 0);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, "Bearer x", &who), 0);
	snprintf(padded, sizeof padded, "%.42s", key);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, padded, &who), 0);
	snprintf(padded, sizeof padded, "%s", key);
	padded[5] = padded[5] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, padded, &who), 0);

	/* `gwd keys del` from another process: refused after the next poll */
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&cli, path, 0, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_key_del(cli, "ci-runner"), 1);
	gwd_store_close(cli);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 1);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, key, &who), 0);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, key2, &who), 1);

	/* database gone: 503; back: served again */
	snprintf(moved, sizeof moved, "%s.moved", path);
	CU_ASSERT_EQUAL_FATAL(rename(path, moved), 0);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 0);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, key2, &who), -1);
	CU_ASSERT_EQUAL_FATAL(rename(moved, path), 0);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 1);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, key2, &who), 1);

	/* the database deleted and made afresh (its revision counter back at
	 * 0): a key cached from the old file is refused once it is reopened */
	snprintf(moved, sizeof moved, "%s.old", path);
	CU_ASSERT_EQUAL_FATAL(rename(path, moved), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&cli, path, GWD_STORE_CREATE, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_key_add(cli, "x", (const uint8_t *)"0123456789abcdef0123456789abcdef", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_key_del(cli, "x"), 1); /* revision 1, as before */
	gwd_store_close(cli);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 1); /* noticed and reopened */
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, key2, &who), 0);

	gwd_apikey_free(ak);
	gwd_store_close(st);
}

int gw_suite_gwd_apikey(void)
{
	CU_pSuite s = CU_add_suite("gwd/apikey", fxdb_init, fxdb_clean);

	if (!s)
		return -1;
	if (!CU_add_test(s, "create, check, delete, unavailable", test_keys))
		return -1;
	return 0;
}
