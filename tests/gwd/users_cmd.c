/* Tests of gwd/users_cmd.c, `gwd users` and `gwd keys`, called in process as
 * main.c calls them, over a real SQLite file: the exit status of each usage
 * error (2) and of help (0); `users add` reading the password from stdin (a
 * file here, as from a pipe), CRLF taken off, the stored hash verifying; the
 * passwords refused (empty, a NUL byte, not UTF-8) leaving no database file
 * behind; a duplicate (1); `users list` and `users del`; `keys add` printing a
 * key that the key check accepts, `keys list`, `keys del`.
 *
 * stdin and stdout are swapped for files around each call (dup2), so that the
 * command reads and prints exactly as it does from a shell.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gwd/apikey.h"
#include "gwd/cmds.h"
#include "gwd/kdf.h"
#include "gwd/session.h"
#include "gwd/store.h"
#include "tests/gwd/db_fixture.h"

int gw_suite_gwd_users_cmd(void);

/* Run <fn> with the words of <line> (blank-separated, at most 8; "@DB" stands
 * for <db>) as its argv, <in> (<inlen> bytes) on stdin; what it printed on
 * stdout goes to <out> (<cap> bytes, NUL-terminated).  Returns its exit
 * status. */
static int run(int (*fn)(int, char **), const char *line, const char *db, const char *in,
	       size_t inlen, char *out, size_t cap)
{
	char words[512], *argv[9], *save = NULL;
	int argc = 0, rc, saved_in, saved_out, fd;
	char inpath[600], outpath[600];
	ssize_t n;

	snprintf(inpath, sizeof inpath, "%s", fxdb_path("stdin"));
	snprintf(outpath, sizeof outpath, "%s", fxdb_path("stdout"));
	snprintf(words, sizeof words, "%s", line);
	for (char *w = strtok_r(words, " ", &save); w && argc < 8; w = strtok_r(NULL, " ", &save))
		argv[argc++] = strcmp(w, "@DB") == 0 ? (char *)(uintptr_t)db : w;
	argv[argc] = NULL;
	fd = open(inpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0 && write(fd, in, inlen) == (ssize_t)inlen);
	close(fd);
	fflush(stdout);
	saved_in = dup(STDIN_FILENO);
	saved_out = dup(STDOUT_FILENO);
	CU_ASSERT_FATAL(saved_in >= 0 && saved_out >= 0);
	fd = open(inpath, O_RDONLY);
	dup2(fd, STDIN_FILENO);
	close(fd);
	fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	clearerr(stdin);
	rc = fn(argc, argv);
	fflush(stdout);
	dup2(saved_in, STDIN_FILENO);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_in);
	close(saved_out);
	clearerr(stdin);
	fd = open(outpath, O_RDONLY);
	n = fd >= 0 ? read(fd, out, cap - 1) : -1;
	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return rc;
}

#define USERS(line, in, out) run(gwd_cmd_users, line, db, in, sizeof(in) - 1, out, sizeof out)
#define KEYS(line, out) run(gwd_cmd_keys, line, db, "", 0, out, sizeof out)

/* 1 when <path> exists. */
static int exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void test_usage(void)
{
	char db[512], out[4096];

	snprintf(db, sizeof db, "%s", fxdb_path("usage.db"));
	CU_ASSERT_EQUAL(USERS("", "", out), 2);
	CU_ASSERT_EQUAL(USERS("add", "", out), 2);
	CU_ASSERT_EQUAL(USERS("add a b --db @DB", "", out), 2);
	CU_ASSERT_EQUAL(USERS("list alice --db @DB", "", out), 2);
	CU_ASSERT_EQUAL(USERS("rename alice --db @DB", "", out), 2);
	CU_ASSERT_EQUAL(USERS("add alice --db", "", out), 2);
	CU_ASSERT_EQUAL(USERS("add alice --db=", "", out), 2);
	CU_ASSERT_EQUAL(USERS("add alice --verbose", "", out), 2);
	CU_ASSERT_EQUAL(USERS("add bad/name --db @DB", "", out), 2);
	CU_ASSERT_EQUAL(KEYS("del -- -dash --db @DB", out), 2);
	CU_ASSERT_FALSE(exists(db)); /* no usage error opens the database */
	CU_ASSERT_EQUAL(USERS("--help", "", out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: gwd users add NAME"));
	CU_ASSERT_EQUAL(KEYS("-h", out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: gwd keys add NAME"));
}

static void test_users(void)
{
	char db[512], out[4096], pwhash[GWD_STORE_PWHASH_MAX + 1], err[256];
	struct gwd_store *st = NULL;
	int64_t id;

	snprintf(db, sizeof db, "%s", fxdb_path("users.db"));
	fxdb_unlink(db);
	/* refused passwords: nothing is created */
	CU_ASSERT_EQUAL(USERS("add alice --db @DB", "", out), 1);
	CU_ASSERT_EQUAL(USERS("add alice --db @DB", "\n", out), 1);
	CU_ASSERT_EQUAL(USERS("add alice --db @DB", "won\0derland\n", out), 1);
	CU_ASSERT_EQUAL(USERS("add alice --db @DB", "caf\xe9\n", out), 1);
	CU_ASSERT_FALSE(exists(db));
	/* a password line ended by CRLF: the CR is not part of it */
	CU_ASSERT_EQUAL(USERS("add --db @DB alice", "wonderland\r\n", out), 0);
	CU_ASSERT_STRING_EQUAL(out, "added user alice\n");
	CU_ASSERT_EQUAL(USERS("add alice --db @DB", "other\n", out), 1);
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, db, 0, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id, pwhash, sizeof pwhash), 1);
	CU_ASSERT_EQUAL(gwd_kdf_verify(pwhash, "wonderland", 10), 1);
	gwd_store_close(st);
	CU_ASSERT_EQUAL(USERS("list --db @DB", "", out), 0);
	CU_ASSERT_EQUAL(strncmp(out, "alice\t20", 8), 0);
	CU_ASSERT_EQUAL(USERS("del alice --db @DB", "", out), 0);
	CU_ASSERT_STRING_EQUAL(out, "deleted user alice and its sessions\n");
	CU_ASSERT_EQUAL(USERS("del alice --db @DB", "", out), 1);
	CU_ASSERT_EQUAL(USERS("list --db @DB", "", out), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_keys(void)
{
	char db[512], out[4096], err[256];
	struct gwd_store *st = NULL;
	struct gwd_apikeys *ak = NULL;
	struct gwd_session_principal who;
	size_t n;

	snprintf(db, sizeof db, "%s", fxdb_path("keys.db"));
	fxdb_unlink(db);
	CU_ASSERT_EQUAL(KEYS("add ci-runner --db @DB", out), 0);
	n = strlen(out);
	CU_ASSERT_EQUAL_FATAL(n, GWD_TOKEN_LEN + 1); /* the key, once, and a newline */
	out[n - 1] = '\0';
	CU_ASSERT_EQUAL_FATAL(gwd_store_open(&st, db, 0, 0, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(gwd_apikey_new(&ak, st, 16), 0);
	CU_ASSERT_EQUAL(gwd_apikey_check(ak, out, &who), 1);
	CU_ASSERT_STRING_EQUAL(who.name, "ci-runner");
	CU_ASSERT_EQUAL(KEYS("add ci-runner --db @DB", out), 1);
	CU_ASSERT_EQUAL(KEYS("list --db @DB", out), 0);
	CU_ASSERT_EQUAL(strncmp(out, "ci-runner\t20", 12), 0);
	CU_ASSERT_EQUAL(KEYS("del ci-runner --db @DB", out), 0);
	CU_ASSERT_STRING_EQUAL(out, "deleted key ci-runner\n");
	CU_ASSERT_EQUAL(KEYS("del ci-runner --db @DB", out), 1);
	gwd_apikey_free(ak);
	gwd_store_close(st);
}

int gw_suite_gwd_users_cmd(void)
{
	CU_pSuite s = CU_add_suite("gwd/users_cmd", fxdb_init, fxdb_clean);

	if (!s || !CU_add_test(s, "usage errors and help", test_usage) ||
	    !CU_add_test(s, "users add, list, del", test_users) ||
	    !CU_add_test(s, "keys add, list, del", test_keys))
		return -1;
	return 0;
}
