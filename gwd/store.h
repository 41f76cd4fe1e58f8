/* The user, session and API-key store: one SQLite file (gwd --db, default
 * var/gwd.db) shared by the daemon and the `gwd users|keys` commands.
 *
 * Why SQLite and how it is set up (docs/sessions.md has the long form):
 *   - journal_mode=WAL: readers never wait for the writer, and a commit is one
 *     append to the -wal file.
 *   - synchronous=NORMAL: in WAL mode a commit write()s its frames to the -wal
 *     file before COMMIT returns but does not fsync; the fsync happens at
 *     checkpoints.  Data handed to write() lives in the kernel's page cache, which
 *     survives the death of the process (kill -9), so an acknowledged login
 *     survives kill -9 of gwd; only a power cut or kernel crash can lose the last
 *     commits, and even then the file stays consistent (never corrupt).
 *   - busy_timeout: the CLI and the daemon write the same file; a writer waits
 *     for the other instead of failing at once.
 *   - foreign_keys=ON: deleting a user deletes its sessions (ON DELETE CASCADE).
 *   - every write is one BEGIN IMMEDIATE transaction: the write lock is taken up
 *     front, so two writers never deadlock upgrading read locks.
 *   - every statement is prepared once per connection at open.
 *
 * Schema (PRAGMA user_version is the number of migrations applied; they run in
 * order, each in its own BEGIN IMMEDIATE transaction, so an interrupted upgrade
 * resumes where it stopped and two processes never both run one):
 *
 *   v1  users(id INTEGER PK, name TEXT UNIQUE, pwhash TEXT, created_at INTEGER s)
 *       sessions(hash BLOB(32) PK, user_id -> users ON DELETE CASCADE,
 *                created_ms, expires_ms, last_seen_ms)  WITHOUT ROWID
 *       meta(k TEXT PK, v INTEGER)          -- k='revision', see below
 *   v2  api_keys(id INTEGER PK, name TEXT UNIQUE, hash BLOB(32) UNIQUE,
 *                created_at INTEGER s)
 *
 * Only SHA-256 digests of tokens and keys are stored (gwd/token.h), so a copy of
 * the file yields no live credential.
 *
 * meta.revision counts deletions made by the CLI (users del, keys del).  A
 * running daemon reads it on every gwd_store_poll() and empties its caches when
 * it moved, so a deleted user or key is refused within one poll interval.  A
 * reopen moves gwd_store_revision() too: the file reopened may be another one.
 *
 * Threads: a struct gwd_store is used by many threads at once.  It holds two
 * connections, one for reads and one for writes, each behind its own mutex;
 * with WAL the reads never wait for a write in progress.  The daemon reads only
 * on cache misses, so these mutexes are off the common request path.
 *
 * Availability: an I/O-class error (not "locked", not a constraint) or a DB file
 * that vanished or was replaced (checked by gwd_store_poll) marks the store
 * unavailable; gwd_store_available() then says 0 and every call fails with -1
 * until gwd_store_poll() reopens the file successfully.  A file that can only
 * be read is not opened at all (SQLite would open it read-only, reads working
 * and writes failing): the store stays unavailable until it is writable.  A
 * reopen never creates the file once it has been opened once: a deleted
 * database is not silently replaced by an empty one.
 */
#ifndef GWD_STORE_H
#define GWD_STORE_H

#include <stddef.h>
#include <stdint.h>

#define GWD_STORE_VERSION 2      /* schema version this code writes */
#define GWD_STORE_NAME_MAX 64          /* longest user or key name, in bytes */
#define GWD_STORE_PWHASH_MAX 256       /* longest stored password hash string */
#define GWD_STORE_DIGEST_LEN 32        /* SHA-256 of a token or key */
#define GWD_STORE_DEFAULT_DB "var/gwd.db"

struct gwd_store; /* opaque */
struct gwd_store_session;
struct gwd_redis_pool;

/* Flags of gwd_store_open(). */
enum {
	GWD_STORE_CREATE = 1u << 0, /* create the file and its parent directories */
	GWD_STORE_LAZY = 1u << 1,   /* the daemon: a file that cannot be opened now
	                              still gives a store, unavailable, that
	                              gwd_store_poll() keeps trying to open */
};

/* Open the store at <path> (NUL-terminated; a file path, never read as a
 * SQLite "file:" URI) with <flags>, applying the pragmas
 * and migrations above.  Returns 0 and sets <*out>; or -1 with <*out> NULL and
 * a message in <err> (<errlen> bytes, may be 0) when the file cannot be opened
 * or migrated (a schema newer than GWD_STORE_VERSION is refused) and
 * GWD_STORE_LAZY is not set, or memory runs out.  <busy_ms> is the busy timeout
 * (0: 5000 ms).  Free with gwd_store_close(). */
int gwd_store_open(struct gwd_store **out, const char *path, unsigned flags,
                  unsigned busy_ms, char *err, size_t errlen);

/* Finalize the statements, close both connections (the last close of a WAL
 * database checkpoints it) and free <st>.  NULL is ignored. */
void gwd_store_close(struct gwd_store *st);

/* 1 when the store is usable, 0 when it is not (see "Availability").  Reads an
 * atomic flag only: safe and cheap on the request path (/health's db check). */
int gwd_store_available(const struct gwd_store *st);

/* The background probe, run about once a second by the session flusher: checks
 * that the path still names the opened file and that a read works, reads
 * meta.revision, and when the store is unavailable tries to reopen it.  Returns
 * 1 when the store is available afterwards, 0 when not. */
int gwd_store_poll(struct gwd_store *st);

/* A stamp that moves whenever credentials cached from the store may have gone
 * stale: meta.revision as of the last successful gwd_store_poll() (or open),
 * combined with the number of reopens (a reopened path may name another file,
 * e.g. a database deleted and made afresh, whose own revision counter starts
 * over).  Callers compare it for equality only. */
uint64_t gwd_store_revision(const struct gwd_store *st);

/* The schema version of the open database (PRAGMA user_version), -1 when the
 * store is unavailable. */
int gwd_store_schema_version(struct gwd_store *st);

/* 1 when PRAGMA integrity_check answers "ok", 0 when it reports damage, -1 when
 * it cannot run. */
int gwd_store_integrity_ok(struct gwd_store *st);

/* 1 when <name> (<len> bytes, not necessarily NUL-terminated) is a valid user
 * or key name: 1..GWD_STORE_NAME_MAX bytes of [A-Za-z0-9._@-], not starting with '-'
 * (so it cannot be taken for an option); 0 otherwise. */
int gwd_store_name_ok(const char *name, size_t len);

/* ---- backends ----
 *
 * gwd_store_open() with a <path> of the form redis://... opens the Redis
 * backend (gwd/redis_store.h) instead: the same functions, the same
 * guarantees, shared by every gwd instance pointed at that Redis.  The
 * functions below are what the two backends do differently. */

/* 1 when <st> is shared with other instances (Redis): credentials cached
 * from it stay valid while it is unreachable (no other instance can delete
 * them meanwhile) and deletions arrive through gwd_store_on_evict.  0 for
 * SQLite, where an unavailable store refuses even cached credentials. */
int gwd_store_shared(const struct gwd_store *st);

/* Ask <st> to call <fn>(<arg>, digest) when another process ends a session
 * (<kind> 's') or deletes an API key (<kind> 'k'); called from the store's
 * own thread.  Returns 0, or -1 when no more hooks fit.  SQLite: nothing
 * is ever called (its daemon learns deletions from gwd_store_revision). */
int gwd_store_on_evict(struct gwd_store *st, char kind,
                      void (*fn)(void *arg, const uint8_t digest[GWD_STORE_DIGEST_LEN]),
                      void *arg);

/* Tell <st> the session idle timeout served now: Redis drops a session
 * nobody used for that long itself.  SQLite: ignored (its sweep is told). */
void gwd_store_set_session_idle(struct gwd_store *st, uint32_t idle_ms);

/* The Redis connection pool of <st> (borrowed), NULL for SQLite: the
 * cluster rate limits (gwd/cluster_rl.h) share it. */
struct gwd_redis_pool *gwd_store_redis_pool(struct gwd_store *st);

/* Walk every API key of a SQLite store (name order): <fn> gets its name,
 * digest and creation time; returns 0 to go on.  Returns the number visited,
 * -1 on a store error or for a Redis store.  For `gwd store copy`. */
int gwd_store_key_each(struct gwd_store *st,
                      int (*fn)(const char *name, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                                int64_t created_s, void *arg),
                      void *arg);

/* Walk every session of a SQLite store: <fn> gets its digest and row.
 * Returns the number visited, -1 on a store error or for a Redis store. */
int gwd_store_session_each(struct gwd_store *st,
                          int (*fn)(const uint8_t hash[GWD_STORE_DIGEST_LEN],
                                    const struct gwd_store_session *row, void *arg),
                          void *arg);

/* Copy session <row> (digest <hash>) into a Redis store unless it is there
 * already.  Returns 1 copied, 0 present or its user missing, -1 on a store
 * error or for a SQLite store. */
int gwd_store_session_put(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                         const struct gwd_store_session *row);

/* ---- users ---- */

/* Add user <name> with password hash string <pwhash> (gwd/kdf.h), created at
 * <now_s> (unix seconds).  Returns 1 when added, 0 when the name is taken or
 * invalid, -1 on a store error. */
int gwd_store_user_add(struct gwd_store *st, const char *name, const char *pwhash,
                      int64_t now_s);

/* Delete user <name> and, by cascade, its sessions; bumps meta.revision in the
 * same transaction.  Returns 1 when deleted, 0 when there was no such user, -1
 * on a store error. */
int gwd_store_user_del(struct gwd_store *st, const char *name);

/* Look up user <name>: returns 1 and copies its password hash string (NUL-
 * terminated) into <pwhash> (<cap> bytes; GWD_STORE_PWHASH_MAX + 1 is enough) and its
 * id into <*id>; 0 when there is no such user (or the name is invalid); -1 on a
 * store error. */
int gwd_store_user_get(struct gwd_store *st, const char *name, int64_t *id,
                      char *pwhash, size_t cap);

/* Replace the password hash of user <id> by <pwhash> (a rehash at a higher
 * cost after a successful login), provided it still is <old>, the hash the
 * password was checked against: user ids are reused after a deletion, and a
 * user deleted and another added meanwhile must not get this password.
 * Returns 1 when updated, 0 when the user is gone or its hash changed, -1 on a
 * store error. */
int gwd_store_user_set_hash(struct gwd_store *st, int64_t id, const char *old,
                           const char *pwhash);

/* Call <fn> for each user in name order with its name and creation time; <fn>
 * returns 0 to go on, non-zero to stop.  Returns the number of users visited,
 * or -1 on a store error. */
int gwd_store_user_list(struct gwd_store *st,
                       int (*fn)(const char *name, int64_t created_s, void *arg),
                       void *arg);

/* ---- sessions ---- */

/* A session row, as read back.  <name> is the user's name, NUL-terminated. */
struct gwd_store_session {
	char name[GWD_STORE_NAME_MAX + 1];
	uint64_t created_ms, expires_ms, last_seen_ms; /* unix milliseconds */
};

/* A sliding-renewal update: session <hash> was last seen at <last_seen_ms>. */
struct gwd_store_touch {
	uint8_t hash[GWD_STORE_DIGEST_LEN];
	uint64_t last_seen_ms;
};

/* Insert the session whose token digest is <hash> for user <user_id>, who
 * must still be named <name> (ids are reused after a deletion: a login checked
 * against a user deleted meanwhile must not open a session for whoever got
 * the id next), created (and last seen) at <created_ms>, ending at
 * <expires_ms>.  Returns 0 once committed (durable against kill -9, see
 * above), -1 on a store error or when no user <user_id> is named <name>. */
int gwd_store_session_add(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                         int64_t user_id, const char *name, uint64_t created_ms,
                         uint64_t expires_ms);

/* Look up session <hash>: 1 and fills <*out>; 0 when absent; -1 on a store
 * error.  Expiry is the caller's business. */
int gwd_store_session_get(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                         struct gwd_store_session *out);

/* Delete session <hash>: 1 when deleted, 0 when absent, -1 on a store error. */
int gwd_store_session_del(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN]);

/* Apply the <n> updates of <t> in one transaction; a last_seen only ever moves
 * forward and a deleted session is skipped.  Returns 0, or -1 on a store error
 * (nothing applied). */
int gwd_store_session_touch(struct gwd_store *st, const struct gwd_store_touch *t,
                           size_t n);

/* Delete the sessions that ended: expires_ms <= <now_ms>, or last_seen_ms <
 * <seen_before_ms> (idle).  Works in bounded transactions so the writer lock is
 * never held long.  Returns the number deleted, or -1 on a store error. */
long gwd_store_session_sweep(struct gwd_store *st, uint64_t now_ms,
                            uint64_t seen_before_ms);

/* The number of session rows, -1 on a store error (tests, `users list`). */
long gwd_store_session_count(struct gwd_store *st);

/* ---- API keys ---- */

/* Add key <name> whose digest is <hash>, created at <now_s>.  Returns 1 when
 * added, 0 when the name is taken or invalid, -1 on a store error. */
int gwd_store_key_add(struct gwd_store *st, const char *name,
                     const uint8_t hash[GWD_STORE_DIGEST_LEN], int64_t now_s);

/* Delete key <name>; bumps meta.revision.  1 deleted, 0 absent, -1 error. */
int gwd_store_key_del(struct gwd_store *st, const char *name);

/* Look up the key whose digest is <hash>: 1 and copies its name into <name>
 * (GWD_STORE_NAME_MAX + 1 bytes); 0 when absent; -1 on a store error. */
int gwd_store_key_get(struct gwd_store *st, const uint8_t hash[GWD_STORE_DIGEST_LEN],
                     char name[GWD_STORE_NAME_MAX + 1]);

/* Like gwd_store_user_list(), for keys. */
int gwd_store_key_list(struct gwd_store *st,
                      int (*fn)(const char *name, int64_t created_s, void *arg),
                      void *arg);

#endif
