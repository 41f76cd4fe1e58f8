/* A temporary directory for the gwd suites that use real SQLite files
 * (store, session, apikey, login, users_cmd): made when the suite starts,
 * removed with everything in it when it ends.
 *
 *   CU_add_suite("gwd/x", fxdb_init, fxdb_clean);
 *   gwd_store_open(&st, fxdb_path("x.db"), GWD_STORE_CREATE, ...);
 *   fxdb_unlink(path);   the database and its -wal and -shm companions
 *
 * Included once per test file; everything is static (inline: a suite uses
 * what it needs).
 */
#ifndef GW_TESTS_GWD_DB_FIXTURE_H
#define GW_TESTS_GWD_DB_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The suite's directory: $TMPDIR (or /tmp) / gwdb.XXXXXX. */
static char fxdb_dir[256];

/* CUnit suite set-up: make the directory.  0, or -1. */
static inline int fxdb_init(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fxdb_dir, sizeof fxdb_dir, "%s/gwdb.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(fxdb_dir) ? 0 : -1;
}

/* Remove one entry of the tree (nftw callback, depth first). */
static inline int fxdb_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* CUnit suite tear-down: remove the directory and all it holds.  0, or -1. */
static inline int fxdb_clean(void)
{
	return nftw(fxdb_dir, fxdb_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* "<dir>/<name>", in a static buffer: valid until the next call. */
static inline const char *fxdb_path(const char *name)
{
	static char p[512];

	snprintf(p, sizeof p, "%s/%s", fxdb_dir, name);
	return p;
}

/* Remove the database file <path> and its -wal and -shm companions (an
 * operator resetting the store; open connections keep the old inodes). */
static inline void fxdb_unlink(const char *path)
{
	char p[600];

	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

#endif
