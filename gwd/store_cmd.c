/* `gwd store copy --db PATH --store URL` (gwd/cmds.h): move an installation
 * from its SQLite file to a Redis store shared by a cluster.
 *
 * Users (with their PBKDF2 hashes and creation times), API keys (digests:
 * the keys themselves were never stored and need not be handed out again)
 * and live sessions (so that nobody is logged out by the move) are copied.
 * What Redis already has is left alone, so the command is idempotent: run
 * again, it copies nothing and says so.  It prints one line per kind:
 *   users: N copied, M already there
 * Exit status: 0 done, 1 failed (message on stderr), 2 usage error.
 */
#include "gwd/cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwd/redis.h"
#include "gwd/store.h"

/* What one kind of record came to. */
struct tally {
	struct gwd_store *from, *to;
	long copied, present, failed;
	uint64_t now_ms;
};

/* Print the usage to <f>. */
static void usage(FILE *f)
{
	fprintf(f, "usage: gwd store copy [--db PATH] --store redis://[:password@]host:port[/db]\n"
	           "Copies users, API keys and live sessions from the SQLite file (default %s)\n"
	           "into Redis; what Redis already has is kept.  The Redis password may come\n"
	           "from GWD_STORE_PASSWORD or the file named by GWD_STORE_PASSWORD_FILE.\n",
	        GWD_STORE_DEFAULT_DB);
}

/* Count the outcome <r> (1 copied, 0 present, -1 failed) into <t>. */
static void count(struct tally *t, int r)
{
	if (r > 0)
		t->copied++;
	else if (r == 0)
		t->present++;
	else
		t->failed++;
}

/* The users of the source, gathered before they are read one by one (the
 * walk holds the reader that gwd_store_user_get needs). */
struct names {
	size_t n, cap;
	struct name_row {
		char name[GWD_STORE_NAME_MAX + 1];
		int64_t created_s;
	} *v;
};

/* user walk: remember user <name>.  Returns 0 (go on), 1 out of memory. */
static int gather_user(const char *name, int64_t created_s, void *arg)
{
	struct names *ns = arg;

	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 64;
		struct name_row *v = realloc(ns->v, cap * sizeof *v);
		if (!v)
			return 1;
		ns->v = v;
		ns->cap = cap;
	}
	snprintf(ns->v[ns->n].name, sizeof ns->v[ns->n].name, "%s", name);
	ns->v[ns->n].created_s = created_s;
	ns->n++;
	return 0;
}

/* Copy the users <ns> with their hashes into <t>. */
static void copy_users(struct tally *t, const struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		char pw[GWD_STORE_PWHASH_MAX + 1];
		int64_t id;
		int r = gwd_store_user_get(t->from, ns->v[i].name, &id, pw, sizeof pw);

		if (r > 0)
			r = gwd_store_user_add(t->to, ns->v[i].name, pw, ns->v[i].created_s);
		explicit_bzero(pw, sizeof pw);
		count(t, r);
	}
}

/* key walk: copy key <name> by its digest.  Returns 0. */
static int copy_key(const char *name, const uint8_t hash[GWD_STORE_DIGEST_LEN], int64_t created_s,
                    void *arg)
{
	struct tally *t = arg;

	count(t, gwd_store_key_add(t->to, name, hash, created_s));
	return 0;
}

/* session walk: copy a session that has not ended.  Returns 0. */
static int copy_session(const uint8_t hash[GWD_STORE_DIGEST_LEN],
			const struct gwd_store_session *row, void *arg)
{
	struct tally *t = arg;

	if (row->expires_ms <= t->now_ms)
		return 0;
	count(t, gwd_store_session_put(t->to, hash, row));
	return 0;
}

/* See cmds.h. */
int gwd_cmd_store(int argc, char **argv)
{
	const char *db = GWD_STORE_DEFAULT_DB, *url = NULL;
	struct gwd_store *from = NULL, *to = NULL;
	struct tally u = { 0 }, k = { 0 }, s = { 0 };
	struct names ns = { 0 };
	struct timespec ts;
	char err[512];
	int rc = 1;

	if (argc < 1 || strcmp(argv[0], "copy") != 0) {
		if (argc >= 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0)) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			db = argv[i] + 5;
		else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
			url = argv[++i];
		else if (strncmp(argv[i], "--store=", 8) == 0)
			url = argv[i] + 8;
		else {
			fprintf(stderr, "gwd store copy: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!url || !gwd_redis_is_url(url) || !*db || gwd_redis_is_url(db)) {
		usage(stderr);
		return 2;
	}
	if (gwd_store_open(&from, db, 0, 0, err, sizeof err) < 0) {
		fprintf(stderr, "gwd store copy: %s: %s\n", db, err);
		goto fail;
	}
	if (gwd_store_open(&to, url, 0, 0, err, sizeof err) < 0) {
		fprintf(stderr, "gwd store copy: %s\n", err);
		goto fail;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	u.from = k.from = s.from = from;
	u.to = k.to = s.to = to;
	s.now_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	/* users before sessions: a session is copied only to an existing user */
	if (gwd_store_user_list(from, gather_user, &ns) < 0 || ns.n > (size_t)INT32_MAX) {
		fprintf(stderr, "gwd store copy: cannot read the users of %s\n", db);
		goto fail;
	}
	copy_users(&u, &ns);
	if (gwd_store_key_each(from, copy_key, &k) < 0 ||
	    gwd_store_session_each(from, copy_session, &s) < 0) {
		fprintf(stderr, "gwd store copy: cannot read %s\n", db);
		goto fail;
	}
	printf("users: %ld copied, %ld already there\n", u.copied, u.present);
	printf("keys: %ld copied, %ld already there\n", k.copied, k.present);
	printf("sessions: %ld copied, %ld already there\n", s.copied, s.present);
	if (u.failed || k.failed || s.failed) {
		fprintf(stderr, "gwd store copy: %ld users, %ld keys, %ld sessions could not "
		        "be written (run it again)\n", u.failed, k.failed, s.failed);
		goto fail;
	}
	rc = 0;
fail:
	free(ns.v);
	gwd_store_close(from);
	gwd_store_close(to);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
