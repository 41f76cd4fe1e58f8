/* Tests of gwd/store.c against real SQLite files in a temporary directory:
 * creation (parent directories, mode, WAL, schema version), users, sessions,
 * keys, the cascade and the revision, migration from a v1 file written the
 * way an older gwd wrote it, re-open, refusal of a newer schema and of a
 * non-database, availability (file moved away and back), a held write lock,
 * concurrent use, and PRAGMA integrity_check. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gwd/store.h"
#include "gwd/token.h"
#include "tests/gwd/db_fixture.h"
#include "tests/gwd/store_contract.h"

int gw_suite_gwd_store(void);

/* Open a fresh store at <fxdb_dir>/<name> (removing any old file), or fail the
 * test. */
static struct gwd_store *fresh(const char *name, unsigned busy_ms)
{
	struct gwd_store *st = NULL;
	char err[600], p[512];

	snprintf(p, sizeof p, "%s", fxdb_path(name));
	fxdb_unlink(p);
	if (gwd_store_open(&st, p, GWD_STORE_CREATE, busy_ms, err, sizeof err) < 0) {
		fprintf(stderr, "open %s: %s\n", p, err);
		return NULL;
	}
	return st;
}

/* Run <sql> on a separate connection to <p> and return the first column of
 * the first row as an integer (-1 when none or on error). */
static long long side_int(const char *p, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The same, answering text into <buf>. */
static const char *side_text(const char *p, const char *sql, char *buf, size_t cap)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	buf[0] = '\0';
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return buf;
}

static void test_create(void)
{
	struct gwd_store *st = NULL;
	char err[256], p[512], buf[64];
	struct stat sb;

	snprintf(p, sizeof p, "%s/a/b/c/gwd.db", fxdb_dir);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, p, GWD_STORE_CREATE, 0, err, sizeof err), 0);
	CU_ASSERT(gwd_store_available(st));
	CU_ASSERT_EQUAL(gwd_store_schema_version(st), GWD_STORE_VERSION);
	CU_ASSERT_EQUAL(gwd_store_integrity_ok(st), 1);
	CU_ASSERT_EQUAL(gwd_store_revision(st), 0);
	CU_ASSERT_EQUAL_FATAL(stat(p, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	CU_ASSERT_STRING_EQUAL(side_text(p, "PRAGMA journal_mode", buf, sizeof buf), "wal");
	CU_ASSERT_EQUAL(side_int(p, "PRAGMA user_version"), GWD_STORE_VERSION);
	gwd_store_close(st);
	/* without CREATE a missing file is an error, with a message */
	snprintf(p, sizeof p, "%s/missing/gwd.db", fxdb_dir);
	CU_ASSERT_EQUAL(gwd_store_open(&st, p, 0, 0, err, sizeof err), -1);
	CU_ASSERT_PTR_NULL(st);
	CU_ASSERT(strlen(err) > 0);
	CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
	/* LAZY gives an unavailable store instead */
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, p, GWD_STORE_LAZY, 0, err, sizeof err), 0);
	CU_ASSERT_FALSE(gwd_store_available(st));
	CU_ASSERT_EQUAL(gwd_store_schema_version(st), -1);
	CU_ASSERT_EQUAL(gwd_store_session_count(st), -1);
	gwd_store_close(st);
}

static void test_users(void)
{
	struct gwd_store *st = fresh("users.db", 0);
	char h[GWD_STORE_PWHASH_MAX + 1];
	int64_t id = 0;
	uint64_t rev;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	contract_users(st);
	rev = gwd_store_revision(st);
	CU_ASSERT_EQUAL(gwd_store_user_del(st, "bob"), 1);
	CU_ASSERT_EQUAL(gwd_store_user_del(st, "bob"), 0);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "bob", &id, h, sizeof h), 0);
	/* the deletion moved the revision, seen at the next poll */
	CU_ASSERT_EQUAL(gwd_store_poll(st), 1);
	CU_ASSERT_EQUAL(gwd_store_revision(st), rev + 1);
	gwd_store_close(st);
}

static void test_sessions(void)
{
	struct gwd_store *st = fresh("sessions.db", 0);
	struct gwd_store_session row;
	struct gwd_store_touch t[2];
	uint8_t d1[32], d2[32], d3[32];
	char tok[GWD_TOKEN_LEN + 1], h[GWD_STORE_PWHASH_MAX + 1];
	int64_t uid = 0, uid2 = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(gwd_store_user_add(st, "alice", "$h", 1), 1);
	CU_ASSERT_EQUAL_FATAL(gwd_store_user_add(st, "bob", "$h", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &uid, h, sizeof h), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "bob", &uid2, h, sizeof h), 1);
	gwd_token_new(tok, d1);
	gwd_token_new(tok, d2);
	gwd_token_new(tok, d3);
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d1, uid, "alice", 1000, 5000), 0);
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d2, uid2, "bob", 2000, 9000), 0);
	/* same digest twice, and an unknown user (foreign key), are refused */
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d1, uid, "alice", 1000, 5000), -1);
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d3, 424242, "alice", 1000, 5000), -1);
	CU_ASSERT(gwd_store_available(st)); /* a refused write is not an outage */
	CU_ASSERT_EQUAL(gwd_store_session_count(st), 2);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d1, &row), 1);
	CU_ASSERT_STRING_EQUAL(row.name, "alice");
	CU_ASSERT_EQUAL(row.created_ms, 1000);
	CU_ASSERT_EQUAL(row.expires_ms, 5000);
	CU_ASSERT_EQUAL(row.last_seen_ms, 1000);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d3, &row), 0);
	/* touches move last_seen forward only; a missing row is skipped */
	memcpy(t[0].hash, d1, 32);
	t[0].last_seen_ms = 3000;
	memcpy(t[1].hash, d3, 32);
	t[1].last_seen_ms = 3000;
	CU_ASSERT_EQUAL(gwd_store_session_touch(st, t, 2), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d1, &row), 1);
	CU_ASSERT_EQUAL(row.last_seen_ms, 3000);
	t[0].last_seen_ms = 2500;
	CU_ASSERT_EQUAL(gwd_store_session_touch(st, t, 1), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d1, &row), 1);
	CU_ASSERT_EQUAL(row.last_seen_ms, 3000);
	CU_ASSERT_EQUAL(gwd_store_session_count(st), 2);
	/* sweep: nothing has ended at 4000 with idle cut-off 0 */
	CU_ASSERT_EQUAL(gwd_store_session_sweep(st, 4000, 0), 0);
	/* d2 was last seen at 2000: idle cut-off 2500 ends it, d1 (3000) stays */
	CU_ASSERT_EQUAL(gwd_store_session_sweep(st, 4000, 2500), 1);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d2, &row), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d1, &row), 1);
	/* d1 expires at 5000 */
	CU_ASSERT_EQUAL(gwd_store_session_sweep(st, 5000, 0), 1);
	CU_ASSERT_EQUAL(gwd_store_session_count(st), 0);
	/* delete, and the cascade from users */
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d1, uid, "alice", 1000, 5000), 0);
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d2, uid, "alice", 1000, 5000), 0);
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d3, uid2, "bob", 1000, 5000), 0);
	CU_ASSERT_EQUAL(gwd_store_session_del(st, d1), 1);
	CU_ASSERT_EQUAL(gwd_store_session_del(st, d1), 0);
	CU_ASSERT_EQUAL(gwd_store_user_del(st, "alice"), 1);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d2, &row), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d3, &row), 1);
	CU_ASSERT_EQUAL(gwd_store_session_count(st), 1);
	gwd_store_close(st);
}

/* User ids are reused: alice, the newest user, deleted and bob added take
 * the same id.  A login of alice that read her id and hash before the
 * deletion and finishes after it must neither open a session for bob nor
 * store her rehashed password as bob's. */
static void test_id_reused(void)
{
	struct gwd_store *st = fresh("reuse.db", 0);
	struct gwd_store_session row;
	char tok[GWD_TOKEN_LEN + 1], h[GWD_STORE_PWHASH_MAX + 1];
	uint8_t d[32];
	int64_t ida = 0, idb = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(gwd_store_user_add(st, "alice", "$alice", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &ida, h, sizeof h), 1);
	/* ... alice's password is being checked; meanwhile, `gwd users`: */
	CU_ASSERT_EQUAL(gwd_store_user_del(st, "alice"), 1);
	CU_ASSERT_EQUAL_FATAL(gwd_store_user_add(st, "bob", "$bob", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "bob", &idb, h, sizeof h), 1);
	CU_ASSERT_EQUAL(idb, ida); /* what makes this matter */
	gwd_token_new(tok, d);
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d, ida, "alice", 1000, 5000), -1);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d, &row), 0);
	CU_ASSERT_EQUAL(gwd_store_session_count(st), 0);
	CU_ASSERT(gwd_store_available(st));
	CU_ASSERT_EQUAL(gwd_store_user_set_hash(st, ida, "$alice", "$alice-rehashed"), 0);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "bob", &idb, h, sizeof h), 1);
	CU_ASSERT_STRING_EQUAL(h, "$bob");
	/* bob's own login goes through */
	CU_ASSERT_EQUAL(gwd_store_session_add(st, d, idb, "bob", 1000, 5000), 0);
	CU_ASSERT_EQUAL(gwd_store_session_get(st, d, &row), 1);
	CU_ASSERT_STRING_EQUAL(row.name, "bob");
	CU_ASSERT_EQUAL(gwd_store_user_set_hash(st, idb, "$bob", "$bob-rehashed"), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "bob", &idb, h, sizeof h), 1);
	CU_ASSERT_STRING_EQUAL(h, "$bob-rehashed");
	gwd_store_close(st);
}

/* The sweep works in batches: more rows than one batch all go. */
static void test_sweep_batches(void)
{
	struct gwd_store *st = fresh("sweep.db", 0);
	char tok[GWD_TOKEN_LEN + 1], h[GWD_STORE_PWHASH_MAX + 1];
	uint8_t d[32];
	int64_t uid = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(gwd_store_user_add(st, "u", "$h", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "u", &uid, h, sizeof h), 1);
	for (int i = 0; i < 2500; i++) {
		gwd_token_new(tok, d);
		CU_ASSERT_EQUAL_FATAL(gwd_store_session_add(st, d, uid, "u", 10, i < 2300 ? 20 : 99), 0);
	}
	CU_ASSERT_EQUAL(gwd_store_session_sweep(st, 50, 0), 2300);
	CU_ASSERT_EQUAL(gwd_store_session_count(st), 200);
	gwd_store_close(st);
}

static void test_keys(void)
{
	struct gwd_store *st = fresh("keys.db", 0);
	char tok[GWD_TOKEN_LEN + 1], name[GWD_STORE_NAME_MAX + 1];
	uint8_t d1[32], d2[32];
	uint64_t rev;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	gwd_token_new(tok, d1);
	gwd_token_new(tok, d2);
	contract_keys(st, d1, d2);
	rev = gwd_store_revision(st);
	CU_ASSERT_EQUAL(gwd_store_key_del(st, "ci"), 1);
	CU_ASSERT_EQUAL(gwd_store_key_del(st, "ci"), 0);
	CU_ASSERT_EQUAL(gwd_store_key_get(st, d1, name), 0);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 1);
	CU_ASSERT_EQUAL(gwd_store_revision(st), rev + 1);
	/* only digests are stored: no column holds the key text */
	CU_ASSERT_EQUAL(side_int(fxdb_path("keys.db"),
	                         "SELECT count(*) FROM api_keys WHERE length(hash) = 32"), 1);
	gwd_store_close(st);
}

/* A v1 database as gwd v1 wrote it: users, sessions, meta; no api_keys. */
static const char v1_schema[] =
	"CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  pwhash TEXT NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE TABLE sessions(hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE INDEX sessions_expires ON sessions(expires_ms);"
	"CREATE INDEX sessions_seen ON sessions(last_seen_ms);"
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta(k, v) VALUES ('revision', 7);"
	"INSERT INTO users(name, pwhash, created_at) VALUES ('old', '$old', 1);"
	"PRAGMA user_version = 1;";

static void test_migrate_v1(void)
{
	const char *p = fxdb_path("v1.db");
	struct gwd_store *st = NULL;
	sqlite3 *db = NULL;
	char err[256], h[GWD_STORE_PWHASH_MAX + 1], tok[GWD_TOKEN_LEN + 1], name[GWD_STORE_NAME_MAX + 1];
	uint8_t d[32];
	int64_t id;

	unlink(p);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(p, &db), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CU_ASSERT_EQUAL(side_int(p, "PRAGMA user_version"), 1);

	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, p, 0, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_schema_version(st), 2);
	CU_ASSERT_EQUAL(gwd_store_revision(st), 7);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "old", &id, h, sizeof h), 1);
	CU_ASSERT_STRING_EQUAL(h, "$old");
	gwd_token_new(tok, d);
	CU_ASSERT_EQUAL(gwd_store_key_add(st, "k", d, 1), 1);
	CU_ASSERT_EQUAL(gwd_store_key_get(st, d, name), 1);
	CU_ASSERT_EQUAL(gwd_store_integrity_ok(st), 1);
	gwd_store_close(st);

	/* re-open of an existing current database: nothing re-run, data kept */
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, p, GWD_STORE_CREATE, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_schema_version(st), 2);
	CU_ASSERT_EQUAL(gwd_store_key_get(st, d, name), 1);
	CU_ASSERT_STRING_EQUAL(name, "k");
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "old", &id, h, sizeof h), 1);
	gwd_store_close(st);
}

/* A path that looks like a SQLite URI ("file:..."; Debian's SQLite reads
 * those as URIs) is a path like any other: the file SQLite opens is the one
 * gwd created 0600 and watches, not another one SQLite creates 0644. */
static void test_uri_like_path(void)
{
	struct gwd_store *st = NULL;
	struct stat sb;
	char cwd[1024], err[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
	CU_ASSERT_EQUAL_FATAL(chdir(fxdb_dir), 0);
	CU_ASSERT_EQUAL(gwd_store_open(&st, "file:uri.db", GWD_STORE_CREATE, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "alice", "$h", 1), 1);
	gwd_store_close(st);
	CU_ASSERT_NOT_EQUAL(access("uri.db", F_OK), 0);
	CU_ASSERT_EQUAL(stat("file:uri.db", &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	CU_ASSERT(sb.st_size > 0);
	CU_ASSERT_EQUAL(side_int(fxdb_path("file:uri.db"), "SELECT count(*) FROM users"), 1);
	CU_ASSERT_EQUAL(chdir(cwd), 0);
}

/* A file from a newer gwd, and a file that is not a database, are refused. */
static void test_refused(void)
{
	const char *p = fxdb_path("newer.db");
	struct gwd_store *st = NULL;
	sqlite3 *db = NULL;
	char err[256];
	FILE *f;

	unlink(p);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(p, &db), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(db, "CREATE TABLE x(a); PRAGMA user_version = 99",
	                             NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CU_ASSERT_EQUAL(gwd_store_open(&st, p, GWD_STORE_CREATE, 0, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "newer"));
	CU_ASSERT_EQUAL(side_int(p, "PRAGMA user_version"), 99); /* untouched */

	p = fxdb_path("garbage.db");
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int i = 0; i < 512; i++)
		fputs("not a database ", f);
	fclose(f);
	CU_ASSERT_EQUAL(gwd_store_open(&st, p, GWD_STORE_CREATE, 0, err, sizeof err), -1);
	CU_ASSERT(strlen(err) > 0);
	CU_ASSERT_EQUAL(gwd_store_open(&st, p, GWD_STORE_LAZY, 0, err, sizeof err), 0);
	CU_ASSERT_FALSE(gwd_store_available(st));
	CU_ASSERT_EQUAL(gwd_store_poll(st), 0);
	gwd_store_close(st);
}

/* The file is moved away under an open store: the poll notices, every call
 * fails, a reopen does not create an empty file; moved back, the poll
 * reopens it and nothing was lost. */
static void test_availability(void)
{
	struct gwd_store *st = fresh("avail.db", 0);
	char p[512], q[512], h[GWD_STORE_PWHASH_MAX + 1];
	int64_t id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	snprintf(p, sizeof p, "%s", fxdb_path("avail.db"));
	snprintf(q, sizeof q, "%s", fxdb_path("avail.moved"));
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "alice", "$h", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 1);
	CU_ASSERT_EQUAL_FATAL(rename(p, q), 0);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 0);
	CU_ASSERT_FALSE(gwd_store_available(st));
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id, h, sizeof h), -1);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "bob", "$h", 1), -1);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 0);
	CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0); /* not recreated empty */
	CU_ASSERT_EQUAL_FATAL(rename(q, p), 0);
	CU_ASSERT_EQUAL(gwd_store_poll(st), 1);
	CU_ASSERT(gwd_store_available(st));
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id, h, sizeof h), 1);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "bob", "$h", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_integrity_ok(st), 1);
	gwd_store_close(st);
}

/* Run as an unprivileged user from here on when running as root (root writes
 * to read-only files).  Returns 1 when the effective ids changed (undo with
 * be_root), 0 when already unprivileged, -1 when they cannot change. */
static int be_nobody(void)
{
	if (geteuid() != 0)
		return 0;
	if (setegid(65534) != 0)
		return -1;
	if (seteuid(65534) != 0) {
		if (setegid(0) != 0)
			CU_FAIL("cannot take back the root group");
		return -1;
	}
	return 1;
}

static void be_root(int was)
{
	if (was == 1 && (seteuid(0) != 0 || setegid(0) != 0))
		CU_FAIL("cannot take back the root ids");
}

/* A database file that can only be read: SQLite opens it read-only without a
 * word, so reads work and every write fails.  The store must call that
 * unavailable, steadily: a poll must not reopen it as "available" only for
 * the next write to fail again (guarded routes and /health would flap, and
 * logouts could not be recorded while sessions went on working). */
static void test_read_only(void)
{
	struct gwd_store *st = NULL;
	char sub[300], p[400], err[256], h[GWD_STORE_PWHASH_MAX + 1];
	int64_t id;
	int was;

	snprintf(sub, sizeof sub, "%s/ro", fxdb_dir);
	snprintf(p, sizeof p, "%s/ro.db", sub);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0777), 0);
	CU_ASSERT_EQUAL_FATAL(chmod(sub, 0777), 0);
	CU_ASSERT_EQUAL_FATAL(chmod(fxdb_dir, 0711), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, p, GWD_STORE_CREATE, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "alice", "$h", 1), 1);
	gwd_store_close(st);
	st = NULL;
	CU_ASSERT_EQUAL_FATAL(chmod(p, 0444), 0);
	was = be_nobody();
	CU_ASSERT_NOT_EQUAL_FATAL(was, -1);
	/* the CLI's open: refused with a message that says why */
	CU_ASSERT_EQUAL(gwd_store_open(&st, p, GWD_STORE_CREATE, 100, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "read-only"));
	/* the daemon's: unavailable, and it stays so */
	CU_ASSERT_EQUAL(gwd_store_open(&st, p, GWD_STORE_CREATE | GWD_STORE_LAZY, 100, err,
	                              sizeof err), 0);
	if (st) {
		CU_ASSERT_FALSE(gwd_store_available(st));
		CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id, h, sizeof h), -1);
		CU_ASSERT_EQUAL(gwd_store_poll(st), 0);
		CU_ASSERT_EQUAL(gwd_store_poll(st), 0);
		CU_ASSERT_FALSE(gwd_store_available(st));
	}
	be_root(was);
	/* writable again: the next poll brings it back */
	CU_ASSERT_EQUAL(chmod(p, 0600), 0);
	if (st) {
		CU_ASSERT_EQUAL(gwd_store_poll(st), 1);
		CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id, h, sizeof h), 1);
		CU_ASSERT_EQUAL(gwd_store_user_add(st, "bob", "$h", 1), 1);
	}
	gwd_store_close(st);
	chmod(fxdb_dir, 0700);
}

/* Pages of the file overwritten with junk under an open store: every call
 * answers (an error, or nothing found), none crashes or hands on garbage, and
 * PRAGMA integrity_check reports the damage. */
static void test_corrupt(void)
{
	struct gwd_store *st = fresh("corrupt.db", 100);
	struct gwd_store_session row;
	char tok[GWD_TOKEN_LEN + 1], h[GWD_STORE_PWHASH_MAX + 1], junk[4096];
	uint8_t d[32], first[32];
	int64_t uid = 0;
	int fd, found = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(gwd_store_user_add(st, "alice", "$h", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &uid, h, sizeof h), 1);
	for (int i = 0; i < 2000; i++) {
		gwd_token_new(tok, d);
		if (i == 0)
			memcpy(first, d, sizeof d);
		CU_ASSERT_EQUAL_FATAL(gwd_store_session_add(st, d, uid, "alice", 1, 99), 0);
	}
	/* move everything from the WAL into the file, then damage the file */
	CU_ASSERT_EQUAL(side_int(fxdb_path("corrupt.db"), "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	fd = open(fxdb_path("corrupt.db"), O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	memset(junk, 0xA5, sizeof junk);
	for (off_t pg = 2; pg < 40; pg++)
		CU_ASSERT_EQUAL(pwrite(fd, junk, sizeof junk, pg * 4096), (ssize_t)sizeof junk);
	close(fd);
	for (int round = 0; round < 3; round++) {
		int r = gwd_store_session_get(st, first, &row);
		CU_ASSERT(r == -1 || r == 0);
		found += r == 1;
		CU_ASSERT(gwd_store_session_count(st) != 2000);
		(void)gwd_store_session_sweep(st, 100, 0);
		(void)gwd_store_user_get(st, "alice", &uid, h, sizeof h);
		(void)gwd_store_poll(st);
		CU_ASSERT_NOT_EQUAL(gwd_store_integrity_ok(st), 1);
	}
	CU_ASSERT_EQUAL(found, 0);
	gwd_store_close(st);
}

/* Another process holds the write lock past the busy timeout: the write
 * fails, reads go on (WAL), and the store stays available. */
static void test_locked(void)
{
	struct gwd_store *st = fresh("locked.db", 100);
	sqlite3 *other = NULL;
	char h[GWD_STORE_PWHASH_MAX + 1];
	int64_t id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "alice", "$h", 1), 1);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(fxdb_path("locked.db"), &other), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	                      SQLITE_OK);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "bob", "$h", 1), -1);
	CU_ASSERT(gwd_store_available(st));
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id, h, sizeof h), 1);
	CU_ASSERT_EQUAL(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "bob", "$h", 1), 1);
	gwd_store_close(st);
}

struct conc_arg {
	struct gwd_store *st;
	int64_t uid;
	int fails;
};

/* Add 200 sessions and read each back. */
static void *conc_worker(void *p)
{
	struct conc_arg *a = p;
	struct gwd_store_session row;
	char tok[GWD_TOKEN_LEN + 1];
	uint8_t d[32];

	for (int i = 0; i < 200; i++) {
		if (gwd_token_new(tok, d) < 0 ||
		    gwd_store_session_add(a->st, d, a->uid, "u", 1, 2) < 0 ||
		    gwd_store_session_get(a->st, d, &row) != 1)
			a->fails++;
	}
	return NULL;
}

static void test_concurrent(void)
{
	struct gwd_store *st = fresh("conc.db", 0);
	struct conc_arg args[4];
	pthread_t th[4];
	char h[GWD_STORE_PWHASH_MAX + 1];
	int64_t uid = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	CU_ASSERT_EQUAL_FATAL(gwd_store_user_add(st, "u", "$h", 1), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "u", &uid, h, sizeof h), 1);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct conc_arg){ st, uid, 0 };
		pthread_create(&th[i], NULL, conc_worker, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(args[i].fails, 0);
	}
	CU_ASSERT_EQUAL(gwd_store_session_count(st), 800);
	CU_ASSERT_EQUAL(gwd_store_integrity_ok(st), 1);
	gwd_store_close(st);
	CU_ASSERT_STRING_EQUAL(side_text(fxdb_path("conc.db"), "PRAGMA integrity_check",
	                                 h, sizeof h), "ok");
}

static void test_names(void)
{
	CU_ASSERT(gwd_store_name_ok("alice", 5));
	CU_ASSERT(gwd_store_name_ok("a.b_c@d-e9", 10));
	CU_ASSERT(!gwd_store_name_ok("", 0));
	CU_ASSERT(!gwd_store_name_ok("-a", 2));
	CU_ASSERT(!gwd_store_name_ok("a b", 3));
	CU_ASSERT(!gwd_store_name_ok("a\nb", 3));
	CU_ASSERT(!gwd_store_name_ok("a:b", 3));
	CU_ASSERT(!gwd_store_name_ok("\xc3\xa9", 2));
	char longname[GWD_STORE_NAME_MAX + 2];
	memset(longname, 'x', sizeof longname);
	CU_ASSERT(gwd_store_name_ok(longname, GWD_STORE_NAME_MAX));
	CU_ASSERT(!gwd_store_name_ok(longname, GWD_STORE_NAME_MAX + 1));
}

int gw_suite_gwd_store(void)
{
	CU_pSuite s = CU_add_suite("gwd/store", fxdb_init, fxdb_clean);

	if (!s)
		return -1;
	if (!CU_add_test(s, "create: dirs, mode, WAL, version", test_create) ||
	    !CU_add_test(s, "names", test_names) ||
	    !CU_add_test(s, "a path that looks like a URI", test_uri_like_path) ||
	    !CU_add_test(s, "users", test_users) ||
	    !CU_add_test(s, "sessions, sweep, cascade", test_sessions) ||
	    !CU_add_test(s, "sweep in batches", test_sweep_batches) ||
	    !CU_add_test(s, "a user id reused after a deletion", test_id_reused) ||
	    !CU_add_test(s, "api keys", test_keys) ||
	    !CU_add_test(s, "migration from v1, re-open", test_migrate_v1) ||
	    !CU_add_test(s, "newer schema and non-database refused", test_refused) ||
	    !CU_add_test(s, "file moved away and back", test_availability) ||
	    !CU_add_test(s, "write lock held elsewhere", test_locked) ||
	    !CU_add_test(s, "read-only file", test_read_only) ||
	    !CU_add_test(s, "pages corrupted under an open store", test_corrupt) ||
	    !CU_add_test(s, "concurrent use, integrity", test_concurrent))
		return -1;
	return 0;
}
