/* The SQLite store of users, sessions and API keys (gwd/store.h has the
 * schema, the pragmas and why).  This file owns the connections: opening with
 * the pragmas, running the migrations, preparing the statements, classifying
 * errors into "this call failed" and "the database is gone", and reopening. */
#include "gwd/store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "gwd/redis_store.h"
#include "lib/error.h"

#define DEFAULT_BUSY_MS 5000u
#define SWEEP_BATCH 1000 /* rows deleted per sweep transaction */

/* The migrations, in order: migrations[i] takes user_version i to i + 1.
 * Never edit one that has shipped: add a new one (docs/sessions.md). */
static const char *const migrations[GWD_STORE_VERSION] = {
	/* v1: users, sessions, meta */
	"CREATE TABLE users("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  pwhash TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE sessions("
	"  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  created_ms INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL,"
	"  last_seen_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE INDEX sessions_expires ON sessions(expires_ms);"
	"CREATE INDEX sessions_seen ON sessions(last_seen_ms);"
	"CREATE TABLE meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta(k, v) VALUES ('revision', 0);",
	/* v2: API keys */
	"CREATE TABLE api_keys("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  created_at INTEGER NOT NULL);",
};

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_REV_GET, S_REV_BUMP,
	S_USER_ADD, S_USER_DEL, S_USER_GET, S_USER_SETHASH, S_USER_LIST,
	S_SESS_ADD, S_SESS_GET, S_SESS_DEL, S_SESS_TOUCH, S_SESS_SWEEP, S_SESS_COUNT,
	S_KEY_ADD, S_KEY_DEL, S_KEY_GET, S_KEY_LIST,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_REV_GET] = "SELECT v FROM meta WHERE k = 'revision'",
	[S_REV_BUMP] = "UPDATE meta SET v = v + 1 WHERE k = 'revision'",
	[S_USER_ADD] = "INSERT INTO users(name, pwhash, created_at) VALUES (?1, ?2, ?3)",
	[S_USER_DEL] = "DELETE FROM users WHERE name = ?1",
	[S_USER_GET] = "SELECT id, pwhash FROM users WHERE name = ?1",
	[S_USER_SETHASH] = "UPDATE users SET pwhash = ?2 WHERE id = ?1 AND pwhash = ?3",
	[S_USER_LIST] = "SELECT name, created_at FROM users ORDER BY name",
	[S_SESS_ADD] = "INSERT INTO sessions(hash, user_id, created_ms, expires_ms,"
	               " last_seen_ms) SELECT ?1, id, ?3, ?4, ?3 FROM users"
	               " WHERE id = ?2 AND name = ?5",
	[S_SESS_GET] = "SELECT u.name, s.created_ms, s.expires_ms, s.last_seen_ms"
	               " FROM sessions s JOIN users u ON u.id = s.user_id"
	               " WHERE s.hash = ?1",
	[S_SESS_DEL] = "DELETE FROM sessions WHERE hash = ?1",
	[S_SESS_TOUCH] = "UPDATE sessions SET last_seen_ms = ?2"
	                 " WHERE hash = ?1 AND last_seen_ms < ?2",
	[S_SESS_SWEEP] = "DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions"
	                 " WHERE expires_ms <= ?1 OR last_seen_ms < ?2 LIMIT ?3)",
	[S_SESS_COUNT] = "SELECT count(*) FROM sessions",
	[S_KEY_ADD] = "INSERT INTO api_keys(name, hash, created_at) VALUES (?1, ?2, ?3)",
	[S_KEY_DEL] = "DELETE FROM api_keys WHERE name = ?1",
	[S_KEY_GET] = "SELECT name FROM api_keys WHERE hash = ?1",
	[S_KEY_LIST] = "SELECT name, created_at FROM api_keys ORDER BY name",
};

/* One connection and its statements; <mu> serialises its users (the
 * connection is opened SQLITE_OPEN_NOMUTEX: one thread at a time). */
struct conn {
	pthread_mutex_t mu;
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
};

struct gwd_store {
	struct gwd_redis_store *rs; /* the Redis backend (gwd/redis_store.h), or
	                               NULL: the SQLite one below */
	char *path;
	unsigned flags;
	unsigned busy_ms;
	int opened_once;          /* a reopen never creates the file (store.h) */
	dev_t dev;                /* identity of the file opened, to notice */
	ino_t ino;                /* it being deleted or replaced */
	_Atomic int avail;
	_Atomic uint64_t revision;  /* meta.revision as last read */
	_Atomic uint64_t reopens;   /* successful opens after the first */
	pthread_mutex_t reopen_mu; /* one gwd_store_poll at a time */
	struct conn rd, wr;        /* lock order: wr before rd */
};

/* Finalize <c>'s statements and close its connection; <c> stays usable for
 * a later open.  The close of the last connection checkpoints the WAL. */
static void conn_close(struct conn *c)
{
	for (int i = 0; i < S_COUNT; i++) {
		sqlite3_finalize(c->st[i]);
		c->st[i] = NULL;
	}
	if (c->db)
		sqlite3_close(c->db);
	c->db = NULL;
}

/* Create the parent directories of <path> (mkdir -p of its dirname), mode
 * 0755.  Returns 0, or -1 with errno set. */
static int make_parents(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	char *slash;

	if (n >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* Run <sql> (one or more statements, no results wanted) on <db>.  Returns the
 * SQLite result code, with the message in <err>. */
static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		gw_explain(err, errlen, 0, "%s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

/* Read an integer answered by <sql> (a pragma) into <*out>.  Returns SQLITE_OK
 * or the SQLite error code. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(s, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_ERROR;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

/* Bring <db> up to schema version <target> (<= GWD_STORE_VERSION), one
 * migration per BEGIN IMMEDIATE transaction: the version is re-read inside the
 * transaction, so a concurrent process that migrated first is noticed, and a
 * crash between two migrations leaves a consistent, resumable version.
 * Returns 0, or -1 with a message in <err> (a version newer than this code
 * knows included). */
static int migrate(sqlite3 *db, int target, char *err, size_t errlen)
{
	for (;;) {
		int64_t v = -1;
		char sql[64];

		if (exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
			return -1;
		if (query_int(db, "PRAGMA user_version", &v) != SQLITE_OK) {
			gw_explain(err, errlen, 0, "cannot read the schema version: %s",
			        sqlite3_errmsg(db));
			goto fail;
		}
		if (v > GWD_STORE_VERSION) {
			gw_explain(err, errlen, 0, "schema version %lld is newer than this gwd's (%d)",
			        (long long)v, GWD_STORE_VERSION);
			goto fail;
		}
		if (v < 0) {
			gw_explain(err, errlen, 0, "invalid schema version %lld", (long long)v);
			goto fail;
		}
		if (v >= target) {
			if (exec(db, "COMMIT", err, errlen) != SQLITE_OK)
				goto fail;
			return 0;
		}
		if (exec(db, migrations[v], err, errlen) != SQLITE_OK)
			goto fail;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", (int)v + 1);
		if (exec(db, sql, err, errlen) != SQLITE_OK)
			goto fail;
		if (exec(db, "COMMIT", err, errlen) != SQLITE_OK)
			goto fail;
	}
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Open one connection of <st> into <c>: pragmas, then (for the writer, when
 * <migrate_to> > 0) the migrations, then the statements.  <create> allows
 * creating the file.  Returns 0, or -1 with a message in <err> and <c> closed. */
static int conn_open(struct gwd_store *st, struct conn *c, int create, int writer,
                     int migrate_to, char *err, size_t errlen)
{
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	             (create ? SQLITE_OPEN_CREATE : 0);
	int64_t v = 0;
	int rc;

	rc = sqlite3_open_v2(st->path, &c->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		gw_explain(err, errlen, 0, "%s: %s", st->path,
		        c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, (int)st->busy_ms);
	/* SQLite quietly opens a file it may not write read-only.  Reads would
	 * work and every write (login, logout, renewal) fail, and each poll would
	 * reopen it as "available" again: refuse it, so the store is steadily
	 * unavailable until the file is writable. */
	if (writer && sqlite3_db_readonly(c->db, "main") == 1) {
		gw_explain(err, errlen, 0, "%s: read-only (gwd must be able to write it)",
		        st->path);
		goto fail;
	}
	/* WAL is persistent in the file; asking again is cheap and checks that the
	 * file really is a database (NOTADB surfaces here). */
	if (query_int(c->db, "PRAGMA user_version", &v) != SQLITE_OK) {
		gw_explain(err, errlen, 0, "%s: %s", st->path, sqlite3_errmsg(c->db));
		goto fail;
	}
	if (writer && exec(c->db, "PRAGMA journal_mode = WAL", err, errlen) != SQLITE_OK)
		goto fail;
	if (exec(c->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
	         err, errlen) != SQLITE_OK)
		goto fail;
	if (writer && migrate_to > 0 && migrate(c->db, migrate_to, err, errlen) < 0)
		goto fail;
	if (!writer && exec(c->db, "PRAGMA query_only = ON", err, errlen) != SQLITE_OK)
		goto fail;
	if (migrate_to == GWD_STORE_VERSION) {
		for (int i = 0; i < S_COUNT; i++) {
			rc = sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
			                        &c->st[i], NULL);
			if (rc != SQLITE_OK) {
				gw_explain(err, errlen, 0, "%s: %s", st->path, sqlite3_errmsg(c->db));
				goto fail;
			}
		}
	}
	return 0;
fail:
	conn_close(c);
	return -1;
}

/* Check the modes of the database <path> (existing) and of its directory on
 * the first open: password hashes and live session digests are stored
 * there, and its -wal and -shm files take its mode.  A file that its group
 * or others may read or write, or a directory that they may write (they
 * could swap the file), is kept as the operator made it, with a warning on
 * stderr. */
static void check_modes(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	struct stat sb;

	if (stat(path, &sb) == 0 && (sb.st_mode & 077))
		fprintf(stderr, "gwd: warning: %s: mode %04o lets group or others read or write "
			"the credential store (chmod 600 it)\n", path,
			(unsigned)(sb.st_mode & 07777));
	if (n >= sizeof dir)
		return;
	if (slash == path)
		n = 1;
	memcpy(dir, slash ? path : ".", slash ? n : 1);
	dir[slash ? n : 1] = '\0';
	if (stat(dir, &sb) == 0 && (sb.st_mode & 022) && !(sb.st_mode & S_ISVTX))
		fprintf(stderr, "gwd: warning: %s: mode %04o lets group or others replace the "
			"credential store in it (chmod go-w it)\n", dir,
			(unsigned)(sb.st_mode & 07777));
}

/* Open both connections of <st> (caller holds both mutexes or is alone),
 * migrating to <migrate_to>.  Returns 0 and marks the store available, or -1
 * with a message in <err>. */
static int store_connect(struct gwd_store *st, int migrate_to, char *err, size_t errlen)
{
	int create = (st->flags & GWD_STORE_CREATE) && !st->opened_once;
	struct stat sb;

	if (create) {
		int fd;
		if (make_parents(st->path) < 0) {
			gw_explain(err, errlen, 0, "%s: cannot create its directory: %s", st->path,
			        strerror(errno));
			return -1;
		}
		/* A dangling symbolic link would make open() (and SQLite's own
		 * O_CREAT) create its target wherever it points: refused. */
		if (lstat(st->path, &sb) == 0 && S_ISLNK(sb.st_mode) && stat(st->path, &sb) < 0 &&
		    errno == ENOENT) {
			gw_explain(err, errlen, 0, "%s: a symbolic link to a missing file; refusing to "
			        "create the database through it", st->path);
			return -1;
		}
		/* Password hashes live here: the file is the owner's only.  SQLite
		 * gives the -wal and -shm files the same mode. */
		fd = open(st->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	if (!st->opened_once)
		check_modes(st->path);
	if (conn_open(st, &st->wr, create, 1, migrate_to, err, errlen) < 0)
		return -1;
	if (conn_open(st, &st->rd, 0, 0, migrate_to, err, errlen) < 0) {
		conn_close(&st->wr);
		return -1;
	}
	if (stat(st->path, &sb) < 0) {
		gw_explain(err, errlen, 0, "%s: %s", st->path, strerror(errno));
		conn_close(&st->rd);
		conn_close(&st->wr);
		return -1;
	}
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	/* A reopen may have found another file (deleted and made afresh, or
	 * restored from a copy) whose meta.revision happens to equal the old
	 * one: counting reopens into gwd_store_revision() makes the caches drop
	 * what they learnt from the old file all the same. */
	if (st->opened_once)
		atomic_fetch_add(&st->reopens, 1);
	st->opened_once = 1;
	if (migrate_to == GWD_STORE_VERSION) {
		int64_t rev = 0;
		if (query_int(st->rd.db, stmt_sql[S_REV_GET], &rev) == SQLITE_OK)
			atomic_store(&st->revision, (uint64_t)rev);
	}
	atomic_store(&st->avail, 1);
	return 0;
}

/* Allocate <*out> for <path> with both mutexes initialised, nothing open.
 * Returns 0 or -1 (memory). */
static int store_alloc(struct gwd_store **out, const char *path, unsigned flags,
                       unsigned busy_ms)
{
	struct gwd_store *st = calloc(1, sizeof *st);

	*out = NULL;
	if (!st)
		return -1;
	/* SQLite (built with SQLITE_USE_URI, as Debian's is) reads a name that
	 * starts with "file:" as a URI and opens some other file than the one
	 * gwd creates 0600 and watches by inode: "./" keeps it a plain path. */
	if (strncmp(path, "file:", 5) == 0) {
		size_t n = strlen(path) + 3;
		st->path = malloc(n);
		if (st->path)
			snprintf(st->path, n, "./%s", path);
	} else {
		st->path = strdup(path);
	}
	if (!st->path) {
		free(st);
		return -1;
	}
	st->flags = flags;
	st->busy_ms = busy_ms ? busy_ms : DEFAULT_BUSY_MS;
	pthread_mutex_init(&st->reopen_mu, NULL);
	pthread_mutex_init(&st->rd.mu, NULL);
	pthread_mutex_init(&st->wr.mu, NULL);
	*out = st;
	return 0;
}

/* See store.h. */
int gwd_store_open(struct gwd_store **out, const char *path, unsigned flags,
                  unsigned busy_ms, char *err, size_t errlen)
{
	struct gwd_store *st = NULL;

	*out = NULL;
	gw_explain(err, errlen, 0, "%s", "");
	if (!path || !*path) {
		gw_explain(err, errlen, 0, "empty database path");
		return -1;
	}
	if (gwd_redis_is_url(path)) {
		st = calloc(1, sizeof *st);
		if (!st) {
			gw_explain(err, errlen, 0, "out of memory");
			return -1;
		}
		pthread_mutex_init(&st->reopen_mu, NULL);
		pthread_mutex_init(&st->rd.mu, NULL);
		pthread_mutex_init(&st->wr.mu, NULL);
		if (gwd_redis_store_open(&st->rs, path, flags, err, errlen) < 0) {
			gwd_store_close(st);
			return -1;
		}
		*out = st;
		return 0;
	}
	if (store_alloc(&st, path, flags, busy_ms) < 0) {
		gw_explain(err, errlen, 0, "out of memory");
		return -1;
	}
	if (store_connect(st, GWD_STORE_VERSION, err, errlen) < 0 &&
	    !(flags & GWD_STORE_LAZY)) {
		gwd_store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

/* See store.h. */
void gwd_store_close(struct gwd_store *st)
{
	if (!st)
		return;
	gwd_redis_store_close(st->rs);
	conn_close(&st->rd);
	conn_close(&st->wr);
	pthread_mutex_destroy(&st->rd.mu);
	pthread_mutex_destroy(&st->wr.mu);
	pthread_mutex_destroy(&st->reopen_mu);
	free(st->path);
	free(st);
}

/* See store.h. */
int gwd_store_available(const struct gwd_store *st)
{
	if (st->rs)
		return gwd_redis_store_available(st->rs);
	return atomic_load_explicit(&st->avail, memory_order_acquire);
}

/* Classify SQLite result <rc> of a failed call: the errors that mean the file
 * is unusable (I/O, corruption, not a database, cannot open, read-only,
 * locking protocol) mark <st> unavailable until gwd_store_poll reopens it;
 * "busy"/"locked" (another writer held on past busy_timeout), constraint and
 * the rest fail this call only.  Returns -1, for `return fail_rc(...)`. */
static int fail_rc(struct gwd_store *st, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PROTOCOL:
		atomic_store(&st->avail, 0);
		break;
	default:
		break;
	}
	return -1;
}

/* Lock <c> of <st> for one call.  Returns 0 with the mutex held, or -1 (not
 * held) when the store is unavailable. */
static int acquire(struct gwd_store *st, struct conn *c)
{
	if (!gwd_store_available(st))
		return -1;
	pthread_mutex_lock(&c->mu);
	if (!c->db || !c->st[0] || !gwd_store_available(st)) {
		pthread_mutex_unlock(&c->mu);
		return -1;
	}
	return 0;
}

/* Reset statement <s> for reuse and drop its bindings (so a blob bound from
 * the caller's stack is not referenced after the call). */
static void done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Step a statement that returns no row.  Returns SQLITE_DONE or the error. */
static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	done(s);
	return rc;
}

/* BEGIN IMMEDIATE on the writer (mutex held).  Returns SQLITE_DONE or the
 * error (busy past the timeout included). */
static int begin(struct conn *c)
{
	return step_done(c->st[S_BEGIN]);
}

/* COMMIT (returns SQLITE_DONE or the error; on error the transaction is
 * rolled back, so the connection is clean for the next call). */
static int commit(struct conn *c)
{
	int rc = step_done(c->st[S_COMMIT]);

	if (rc != SQLITE_DONE)
		step_done(c->st[S_ROLLBACK]);
	return rc;
}

/* Roll back the open transaction of <c>, if any. */
static void rollback(struct conn *c)
{
	if (!sqlite3_get_autocommit(c->db))
		step_done(c->st[S_ROLLBACK]);
}

/* See store.h. */
int gwd_store_name_ok(const char *name, size_t len)
{
	if (!name || len == 0 || len > GWD_STORE_NAME_MAX || name[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

/* See store.h.  The identity check catches a database deleted or replaced
 * under a running daemon (its connections would go on using the old inode). */
int gwd_store_poll(struct gwd_store *st)
{
	struct stat sb;
	int ok;

	if (st->rs)
		return gwd_redis_store_poll(st->rs);
	pthread_mutex_lock(&st->reopen_mu);
	if (gwd_store_available(st)) {
		if (stat(st->path, &sb) < 0 || sb.st_dev != st->dev || sb.st_ino != st->ino) {
			atomic_store(&st->avail, 0);
		} else if (acquire(st, &st->rd) == 0) {
			sqlite3_stmt *s = st->rd.st[S_REV_GET];
			int rc = sqlite3_step(s);
			if (rc == SQLITE_ROW)
				atomic_store(&st->revision, (uint64_t)sqlite3_column_int64(s, 0));
			done(s);
			pthread_mutex_unlock(&st->rd.mu);
			if (rc != SQLITE_ROW)
				fail_rc(st, rc);
		}
	}
	if (!gwd_store_available(st)) {
		pthread_mutex_lock(&st->wr.mu);
		pthread_mutex_lock(&st->rd.mu);
		conn_close(&st->rd);
		conn_close(&st->wr);
		(void)store_connect(st, GWD_STORE_VERSION, NULL, 0);
		pthread_mutex_unlock(&st->rd.mu);
		pthread_mutex_unlock(&st->wr.mu);
	}
	ok = gwd_store_available(st);
	pthread_mutex_unlock(&st->reopen_mu);
	return ok;
}

/* See store.h. */
uint64_t gwd_store_revision(const struct gwd_store *st)
{
	uint64_t rev = atomic_load_explicit(&st->revision, memory_order_acquire);
	uint64_t reopens = atomic_load_explicit(&st->reopens, memory_order_acquire);

	if (st->rs)
		return gwd_redis_store_revision(st->rs);
	/* 2^40 deletions between two reopens will not happen. */
	return reopens << 40 | (rev & ((1ull << 40) - 1));
}

/* See store.h. */
int gwd_store_schema_version(struct gwd_store *st)
{
	int64_t v = -1;

	if (st->rs)
		return gwd_redis_store_available(st->rs) ? GWD_STORE_VERSION : -1;
	if (acquire(st, &st->rd) < 0)
		return -1;
	if (query_int(st->rd.db, "PRAGMA user_version", &v) != SQLITE_OK)
		v = -1;
	pthread_mutex_unlock(&st->rd.mu);
	return (int)v;
}

/* See store.h. */
int gwd_store_integrity_ok(struct gwd_store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, ok = -1;

	if (st->rs)
		return gwd_redis_store_available(st->rs) ? 1 : -1;
	if (acquire(st, &st->rd) < 0)
		return -1;
	if (sqlite3_prepare_v2(st->rd.db, "PRAGMA integrity_check", -1, &s, NULL) ==
	    SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(s, 0);
			ok = t && strcmp((const char *)t, "ok") == 0;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->rd.mu);
	return ok;
}

/* Run a one-statement write <s> (bound) of <c> in its own BEGIN IMMEDIATE
 * transaction, followed by a revision bump when <bump> and a row changed.
 * Returns the number of rows changed (>= 0), -2 for a constraint violation, or
 * -1 for another error.  Caller holds <c>'s mutex. */
static int write1(struct gwd_store *st, struct conn *c, sqlite3_stmt *s, int bump)
{
	int rc, changed;

	rc = begin(c);
	if (rc != SQLITE_DONE) {
		done(s);
		return fail_rc(st, rc);
	}
	rc = step_done(s);
	if (rc != SQLITE_DONE) {
		rollback(c);
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return -2;
		return fail_rc(st, rc);
	}
	changed = sqlite3_changes(c->db);
	if (bump && changed > 0) {
		rc = step_done(c->st[S_REV_BUMP]);
		if (rc != SQLITE_DONE) {
			rollback(c);
			return fail_rc(st, rc);
		}
	}
	rc = commit(c);
	if (rc != SQLITE_DONE)
		return fail_rc(st, rc);
	return changed;
}

/* Shared body of gwd_store_user_add and gwd_store_key_add. */
static int add_named(struct gwd_store *st, enum stmt_id id, const char *name,
                     const void *val, int vlen, int val_is_text, int64_t now_s)
{
	sqlite3_stmt *s;
	int n;

	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	if (acquire(st, &st->wr) < 0)
		return -1;
	s = st->wr.st[id];
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (val_is_text)
		sqlite3_bind_text(s, 2, val, vlen, SQLITE_STATIC);
	else
		sqlite3_bind_blob(s, 2, val, vlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now_s);
	n = write1(st, &st->wr, s, 0);
	pthread_mutex_unlock(&st->wr.mu);
	return n == -2 ? 0 : n < 0 ? -1 : 1;
}

/* Shared body of gwd_store_user_del and gwd_store_key_del: delete by name and
 * bump the revision so running daemons drop their caches. */
static int del_named(struct gwd_store *st, enum stmt_id id, const char *name)
{
	sqlite3_stmt *s;
	int n;

	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	if (acquire(st, &st->wr) < 0)
		return -1;
	s = st->wr.st[id];
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	n = write1(st, &st->wr, s, 1);
	pthread_mutex_unlock(&st->wr.mu);
	return n < 0 ? -1 : n > 0;
}

/* Shared body of the list functions: <id> answers (name, created_at). */
static int list_named(struct gwd_store *st, enum stmt_id id,
                      int (*fn)(const char *name, int64_t created_s, void *arg),
                      void *arg)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if (acquire(st, &st->rd) < 0)
		return -1;
	s = st->rd.st[id];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0);
		n++;
		if (name && fn((const char *)name, sqlite3_column_int64(s, 1), arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	done(s);
	pthread_mutex_unlock(&st->rd.mu);
	return rc == SQLITE_DONE ? n : fail_rc(st, rc);
}

/* See store.h. */
int gwd_store_user_add(struct gwd_store *st, const char *name, const char *pwhash,
                      int64_t now_s)
{
	size_t len = strlen(pwhash);

	if (st->rs)
		return gwd_redis_store_user_add(st->rs, name, pwhash, now_s);
	if (len == 0 || len > GWD_STORE_PWHASH_MAX)
		return -1;
	return add_named(st, S_USER_ADD, name, pwhash, (int)len, 1, now_s);
}

/* See store.h. */
int gwd_store_user_del(struct gwd_store *st, const char *name)
{
	if (st->rs)
		return gwd_redis_store_user_del(st->rs, name);
	return del_named(st, S_USER_DEL, name);
}

/* See store.h. */
int gwd_store_user_get(struct gwd_store *st, const char *name, int64_t *id,
                      char *pwhash, size_t cap)
{
	sqlite3_stmt *s;
	int rc, found = 0;

	if (st->rs)
		return gwd_redis_store_user_get(st->rs, name, id, pwhash, cap);
	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	if (acquire(st, &st->rd) < 0)
		return -1;
	s = st->rd.st[S_USER_GET];
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(s, 1);
		size_t hl = (size_t)sqlite3_column_bytes(s, 1);
		*id = sqlite3_column_int64(s, 0);
		if (h && hl < cap) {
			memcpy(pwhash, h, hl + 1);
			found = 1;
		} else {
			/* A hash too long to be ours: treat it as a malformed hash, which
			 * the KDF refuses, rather than as a missing user. */
			if (cap)
				pwhash[0] = '\0';
			found = 1;
		}
		rc = SQLITE_DONE;
	}
	done(s);
	pthread_mutex_unlock(&st->rd.mu);
	return rc == SQLITE_DONE ? found : fail_rc(st, rc);
}

/* See store.h. */
int gwd_store_user_set_hash(struct gwd_store *st, int64_t id, const char *old,
                           const char *pwhash)
{
	sqlite3_stmt *s;
	size_t len = strlen(pwhash);
	int n;

	if (st->rs)
		return gwd_redis_store_user_set_hash(st->rs, id, old, pwhash);
	if (len == 0 || len > GWD_STORE_PWHASH_MAX)
		return -1;
	if (acquire(st, &st->wr) < 0)
		return -1;
	s = st->wr.st[S_USER_SETHASH];
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, pwhash, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, old, -1, SQLITE_STATIC);
	n = write1(st, &st->wr, s, 0);
	pthread_mutex_unlock(&st->wr.mu);
	return n < 0 ? -1 : n > 0;
}

/* See store.h. */
int gwd_store_user_list(struct gwd_store *st,
                       int (*fn)(const char *name, int64_t created_s, void *arg),
                       void *arg)
{
	if (st->rs)
		return gwd_redis_store_user_list(st->rs, fn, arg);
	return list_named(st, S_USER_LIST, fn, arg);
}

/* See store.h. */
int gwd_store_session_add(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                         int64_t user_id, const char *name, uint64_t created_ms,
                         uint64_t expires_ms)
{
	sqlite3_stmt *s;
	int n;

	if (st->rs)
		return gwd_redis_store_session_add(st->rs, hash, user_id, name, created_ms, expires_ms);
	if (acquire(st, &st->wr) < 0)
		return -1;
	s = st->wr.st[S_SESS_ADD];
	sqlite3_bind_blob(s, 1, hash, GWD_STORE_DIGEST_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_int64(s, 3, (int64_t)created_ms);
	sqlite3_bind_int64(s, 4, (int64_t)expires_ms);
	sqlite3_bind_text(s, 5, name, -1, SQLITE_STATIC);
	n = write1(st, &st->wr, s, 0);
	pthread_mutex_unlock(&st->wr.mu);
	return n == 1 ? 0 : -1;
}

/* Read a row found by digest <hash> with statement <stmt> of the read
 * connection, handing it to <take> (<out> its argument), which returns 1 when
 * it took the row, 0 when it refused it (a name that fails
 * gwd_store_name_ok).  1 found, 0 absent or refused, -1 error. */
static int get_by_digest(struct gwd_store *st, int stmt, const uint8_t hash[GWD_STORE_DIGEST_LEN],
			 int (*take)(sqlite3_stmt *s, void *out), void *out)
{
	sqlite3_stmt *s;
	int rc, found = 0;

	if (acquire(st, &st->rd) < 0)
		return -1;
	s = st->rd.st[stmt];
	sqlite3_bind_blob(s, 1, hash, GWD_STORE_DIGEST_LEN, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = take(s, out);
		rc = SQLITE_DONE;
	}
	done(s);
	pthread_mutex_unlock(&st->rd.mu);
	return rc == SQLITE_DONE ? found : fail_rc(st, rc);
}

/* Column 0 of <s> as a name into <out> (GWD_STORE_NAME_MAX + 1 bytes).  Only
 * a name that passes gwd_store_name_ok is handed on: it ends up in a header
 * towards upstreams.  1 taken, 0 refused. */
static int take_name(sqlite3_stmt *s, void *out)
{
	const unsigned char *t = sqlite3_column_text(s, 0);
	size_t nl = (size_t)sqlite3_column_bytes(s, 0);

	if (!t || !gwd_store_name_ok((const char *)t, nl))
		return 0;
	memcpy(out, t, nl + 1);
	return 1;
}

/* A session row of <s> (name, created, expires, last seen) into the struct
 * gwd_store_session <out>.  1 taken, 0 refused (the name). */
static int take_session(sqlite3_stmt *s, void *out)
{
	struct gwd_store_session *row = out;

	if (!take_name(s, row->name))
		return 0;
	row->created_ms = (uint64_t)sqlite3_column_int64(s, 1);
	row->expires_ms = (uint64_t)sqlite3_column_int64(s, 2);
	row->last_seen_ms = (uint64_t)sqlite3_column_int64(s, 3);
	return 1;
}

/* See store.h. */
int gwd_store_session_get(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                         struct gwd_store_session *out)
{
	if (st->rs)
		return gwd_redis_store_session_get(st->rs, hash, out);
	return get_by_digest(st, S_SESS_GET, hash, take_session, out);
}

/* See store.h. */
int gwd_store_session_del(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN])
{
	sqlite3_stmt *s;
	int n;

	if (st->rs)
		return gwd_redis_store_session_del(st->rs, hash);
	if (acquire(st, &st->wr) < 0)
		return -1;
	s = st->wr.st[S_SESS_DEL];
	sqlite3_bind_blob(s, 1, hash, GWD_STORE_DIGEST_LEN, SQLITE_STATIC);
	n = write1(st, &st->wr, s, 0);
	pthread_mutex_unlock(&st->wr.mu);
	return n < 0 ? -1 : n > 0;
}

/* See store.h. */
int gwd_store_session_touch(struct gwd_store *st, const struct gwd_store_touch *t,
                           size_t n)
{
	struct conn *c = &st->wr;
	sqlite3_stmt *s;
	int rc;

	if (st->rs)
		return gwd_redis_store_session_touch(st->rs, t, n);
	if (n == 0)
		return 0;
	if (acquire(st, c) < 0)
		return -1;
	s = c->st[S_SESS_TOUCH];
	rc = begin(c);
	for (size_t i = 0; rc == SQLITE_DONE && i < n; i++) {
		sqlite3_bind_blob(s, 1, t[i].hash, GWD_STORE_DIGEST_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)t[i].last_seen_ms);
		rc = step_done(s);
	}
	if (rc == SQLITE_DONE)
		rc = commit(c);
	else
		rollback(c);
	pthread_mutex_unlock(&c->mu);
	return rc == SQLITE_DONE ? 0 : fail_rc(st, rc);
}

/* See store.h. */
long gwd_store_session_sweep(struct gwd_store *st, uint64_t now_ms,
                            uint64_t seen_before_ms)
{
	long total = 0;

	if (st->rs)
		return gwd_redis_store_session_sweep(st->rs);
	for (;;) {
		sqlite3_stmt *s;
		int n;

		if (acquire(st, &st->wr) < 0)
			return -1;
		s = st->wr.st[S_SESS_SWEEP];
		sqlite3_bind_int64(s, 1, (int64_t)now_ms);
		sqlite3_bind_int64(s, 2, (int64_t)seen_before_ms);
		sqlite3_bind_int(s, 3, SWEEP_BATCH);
		n = write1(st, &st->wr, s, 0);
		pthread_mutex_unlock(&st->wr.mu);
		if (n < 0)
			return -1;
		total += n;
		/* Releasing the lock between batches lets logins in. */
		if (n < SWEEP_BATCH)
			return total;
	}
}

/* See store.h. */
long gwd_store_session_count(struct gwd_store *st)
{
	sqlite3_stmt *s;
	long n = -1;
	int rc;

	if (st->rs)
		return gwd_redis_store_session_count(st->rs);
	if (acquire(st, &st->rd) < 0)
		return -1;
	s = st->rd.st[S_SESS_COUNT];
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	done(s);
	pthread_mutex_unlock(&st->rd.mu);
	if (rc != SQLITE_ROW)
		fail_rc(st, rc);
	return n;
}

/* See store.h. */
int gwd_store_key_add(struct gwd_store *st, const char *name,
                     const uint8_t hash[GWD_STORE_DIGEST_LEN], int64_t now_s)
{
	if (st->rs)
		return gwd_redis_store_key_add(st->rs, name, hash, now_s);
	return add_named(st, S_KEY_ADD, name, hash, GWD_STORE_DIGEST_LEN, 0, now_s);
}

/* See store.h. */
int gwd_store_key_del(struct gwd_store *st, const char *name)
{
	if (st->rs)
		return gwd_redis_store_key_del(st->rs, name);
	return del_named(st, S_KEY_DEL, name);
}

/* See store.h. */
int gwd_store_key_get(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                     char name[GWD_STORE_NAME_MAX + 1])
{
	if (st->rs)
		return gwd_redis_store_key_get(st->rs, hash, name);
	return get_by_digest(st, S_KEY_GET, hash, take_name, name);
}

/* See store.h. */
int gwd_store_key_list(struct gwd_store *st,
                      int (*fn)(const char *name, int64_t created_s, void *arg),
                      void *arg)
{
	if (st->rs)
		return gwd_redis_store_key_list(st->rs, fn, arg);
	return list_named(st, S_KEY_LIST, fn, arg);
}

/* ---- backends ---- */

/* See store.h. */
int gwd_store_shared(const struct gwd_store *st)
{
	return st->rs != NULL;
}

/* See store.h. */
int gwd_store_on_evict(struct gwd_store *st, char kind,
                      void (*fn)(void *arg, const uint8_t digest[GWD_STORE_DIGEST_LEN]),
                      void *arg)
{
	if (st->rs)
		return gwd_redis_store_on_evict(st->rs, kind, fn, arg);
	return 0;
}

/* See store.h. */
void gwd_store_set_session_idle(struct gwd_store *st, uint32_t idle_ms)
{
	if (st->rs)
		gwd_redis_store_set_idle(st->rs, idle_ms);
}

/* See store.h. */
struct gwd_redis_pool *gwd_store_redis_pool(struct gwd_store *st)
{
	return st->rs ? gwd_redis_store_pool(st->rs) : NULL;
}

/* Prepare <sql> on the reader of <st> (held: the caller calls acquire).
 * Returns the statement or NULL. */
static sqlite3_stmt *prepare_rd(struct gwd_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->rd.db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	return s;
}

/* See store.h. */
int gwd_store_key_each(struct gwd_store *st,
                      int (*fn)(const char *name, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                                int64_t created_s, void *arg),
                      void *arg)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if (st->rs || acquire(st, &st->rd) < 0)
		return -1;
	s = prepare_rd(st, "SELECT name, hash, created_at FROM api_keys ORDER BY name");
	if (!s) {
		pthread_mutex_unlock(&st->rd.mu);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0);
		const void *h = sqlite3_column_blob(s, 1);
		if (!name || !h || sqlite3_column_bytes(s, 1) != GWD_STORE_DIGEST_LEN)
			continue;
		n++;
		if (fn((const char *)name, h, sqlite3_column_int64(s, 2), arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->rd.mu);
	return rc == SQLITE_DONE ? n : fail_rc(st, rc);
}

/* See store.h. */
int gwd_store_session_each(struct gwd_store *st,
                          int (*fn)(const uint8_t hash[GWD_STORE_DIGEST_LEN],
                                    const struct gwd_store_session *row, void *arg),
                          void *arg)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if (st->rs || acquire(st, &st->rd) < 0)
		return -1;
	s = prepare_rd(st, "SELECT s.hash, u.name, s.created_ms, s.expires_ms, s.last_seen_ms"
	                   " FROM sessions s JOIN users u ON u.id = s.user_id");
	if (!s) {
		pthread_mutex_unlock(&st->rd.mu);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct gwd_store_session row;
		const void *h = sqlite3_column_blob(s, 0);
		const unsigned char *name = sqlite3_column_text(s, 1);
		size_t nl = (size_t)sqlite3_column_bytes(s, 1);
		if (!h || sqlite3_column_bytes(s, 0) != GWD_STORE_DIGEST_LEN || !name ||
		    !gwd_store_name_ok((const char *)name, nl))
			continue;
		memcpy(row.name, name, nl + 1);
		row.created_ms = (uint64_t)sqlite3_column_int64(s, 2);
		row.expires_ms = (uint64_t)sqlite3_column_int64(s, 3);
		row.last_seen_ms = (uint64_t)sqlite3_column_int64(s, 4);
		n++;
		if (fn(h, &row, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->rd.mu);
	return rc == SQLITE_DONE ? n : fail_rc(st, rc);
}

/* See store.h. */
int gwd_store_session_put(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                         const struct gwd_store_session *row)
{
	if (!st->rs)
		return -1;
	return gwd_redis_store_session_put(st->rs, hash, row->name, row);
}
