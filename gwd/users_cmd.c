/* `gwd users add|del|list` and `gwd keys add|del|list` (gwd/cmds.h): the
 * operator's way to manage the accounts and API keys kept in the store.
 *
 *   gwd users add NAME   password from stdin (never argv: it would show in ps
 *                        and shell history); no echo when stdin is a terminal;
 *                        UTF-8 only, as a JSON login body can carry no other
 *   gwd users del NAME   also ends the user's sessions (a running gwd drops
 *                        them from memory within about a second)
 *   gwd users list       NAME<TAB>CREATED (UTC), in name order
 *   gwd keys add NAME    prints the new key once, on stdout; only its hash is
 *                        kept, so a lost key is replaced, not recovered
 *   gwd keys del NAME / gwd keys list
 *
 * Every form takes --db PATH (or --db=PATH) before or after NAME; the default
 * is var/gwd.db, created with its directory when missing.  --store URL (or
 * --store=URL) names a Redis store instead (redis://[:password@]host:port[/db],
 * the password better given as GWD_STORE_PASSWORD or GWD_STORE_PASSWORD_FILE):
 * the same commands, on the users and keys every instance of a cluster shares.
 * Exit status: 0 done, 1 failed (message on stderr), 2 usage error.
 */
#include "gwd/cmds.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "gwd/apikey.h"
#include "gwd/kdf.h"
#include "gwd/session.h"
#include "gwd/store.h"

#define PASS_MAX GWD_SESSION_LOGIN_PASS_MAX /* what a login body can carry */

/* The parsed command line of one invocation. */
struct cmdline {
	const char *verb; /* add, del, list */
	const char *name; /* NAME, or NULL */
	const char *db;
};

/* Print the usage of `gwd <word>` to <f>. */
static void usage(FILE *f, const char *word)
{
	fprintf(f,
	        "usage: gwd %s add NAME [--db PATH]%s\n"
	        "       gwd %s del NAME [--db PATH]\n"
	        "       gwd %s list [--db PATH]\n"
	        "NAME: 1-%d characters of A-Z a-z 0-9 . _ @ -, not starting with '-'.\n"
	        "--db defaults to %s; --store redis://[:password@]host:port[/db] uses Redis.\n",
	        word, strcmp(word, "users") == 0 ? "   (password on stdin)" : "",
	        word, word, GWD_STORE_NAME_MAX, GWD_STORE_DEFAULT_DB);
}

/* Option <name> at argv[*i], as "NAME VALUE" or "NAME=VALUE", into <*out>.
 * 1 taken (*i on its last word), 0 not this option, -1 when the value is
 * missing or empty ("gwd WORD: NAME needs WHAT" printed). */
static int opt_value(int argc, char **argv, int *i, const char *name, const char *what,
		     const char *word, const char **out)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	const char *v;

	if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
		return 0;
	if (a[n] == '=')
		v = a + n + 1;
	else
		v = *i + 1 < argc ? argv[++*i] : "";
	if (*v == '\0') {
		fprintf(stderr, "gwd %s: %s needs %s\n", word, name, what);
		return -1;
	}
	*out = v;
	return 1;
}

/* Parse <argc>/<argv> (argv[0] is the verb or an option) of `gwd <word>` into
 * <*cl>.  Returns 0 when parsed, 1 when help was asked (and printed), 2 on a
 * usage error (message printed). */
static int parse(int argc, char **argv, const char *word, struct cmdline *cl)
{
	const char *pos[3];
	int npos = 0, opts = 1, r;

	memset(cl, 0, sizeof *cl);
	cl->db = GWD_STORE_DEFAULT_DB;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (opts && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
			usage(stdout, word);
			return 1;
		}
		if (opts && strcmp(a, "--") == 0) {
			opts = 0;
		} else if (opts && (r = opt_value(argc, argv, &i, "--store", "a URL", word,
						    &cl->db)) != 0) {
			if (r < 0)
				return 2;
		} else if (opts && (r = opt_value(argc, argv, &i, "--db", "a path", word,
						    &cl->db)) != 0) {
			if (r < 0)
				return 2;
		} else if (opts && a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "gwd %s: unknown option '%s'\n", word, a);
			usage(stderr, word);
			return 2;
		} else {
			if (npos == 3) {
				fprintf(stderr, "gwd %s: too many arguments\n", word);
				return 2;
			}
			pos[npos++] = a;
		}
	}
	if (npos == 0) {
		usage(stderr, word);
		return 2;
	}
	cl->verb = pos[0];
	if (strcmp(cl->verb, "list") == 0) {
		if (npos != 1) {
			fprintf(stderr, "gwd %s list: takes no NAME\n", word);
			return 2;
		}
		return 0;
	}
	if (strcmp(cl->verb, "add") != 0 && strcmp(cl->verb, "del") != 0) {
		fprintf(stderr, "gwd %s: unknown command '%s'\n", word, cl->verb);
		usage(stderr, word);
		return 2;
	}
	if (npos != 2) {
		fprintf(stderr, "gwd %s %s: needs exactly one NAME\n", word, cl->verb);
		return 2;
	}
	cl->name = pos[1];
	if (!gwd_store_name_ok(cl->name, strlen(cl->name))) {
		fprintf(stderr, "gwd %s %s: invalid name '%s' (1-%d characters of "
		        "A-Z a-z 0-9 . _ @ -, not starting with '-')\n",
		        word, cl->verb, cl->name, GWD_STORE_NAME_MAX);
		return 2;
	}
	return 0;
}

/* Open the store at <cl>->db, creating it and its directory.  Returns the
 * store, or NULL after printing why. */
static struct gwd_store *open_store(const char *word, const struct cmdline *cl)
{
	struct gwd_store *st = NULL;
	char err[512];

	if (gwd_store_open(&st, cl->db, GWD_STORE_CREATE, 0, err, sizeof err) < 0) {
		fprintf(stderr, "gwd %s: cannot open the database: %s\n", word, err);
		return NULL;
	}
	return st;
}

/* The terminal state to restore if a signal arrives while echo is off. */
static struct termios saved_tio;
static volatile sig_atomic_t echo_off;

/* SIGINT/SIGTERM/SIGHUP during the prompt: turn echo back on, then die of
 * the signal as the shell expects (tcsetattr and raise are async-signal-safe). */
static void restore_echo(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* 1 when the <n> bytes at <s> are well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), 0 otherwise.  A login body is
 * JSON, whose strings are UTF-8 (jansson refuses anything else), so a password
 * that is not could be stored but never typed into a login. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], lo = 0x80, hi = 0xBF;
		size_t more;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			more = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			more = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			more = 3;
		else
			return 0; /* a continuation byte, C0/C1 (overlong) or F5.. */
		/* the second byte's range rules out the other overlong forms, the
		 * surrogates (ED A0..BF) and code points past U+10FFFF */
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		else if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		if (n - i - 1 < more || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k <= more; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += more + 1;
	}
	return 1;
}

/* Read one line of at most PASS_MAX bytes from stdin into <buf> (PASS_MAX + 2
 * bytes), without its line end (LF or CRLF).  When <prompt> is not NULL (stdin is a
 * terminal) print it on stderr and turn echo off while reading.  Returns the
 * length (0 for an empty line or no input), or -1 on a read error, a NUL
 * byte, a line too long or one that is not UTF-8 (message printed). */
static long read_line(const char *prompt, char *buf)
{
	struct termios tio;
	size_t n;
	int nul = 0;

	if (prompt) {
		if (tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
			tio = saved_tio;
			tio.c_lflag &= ~(tcflag_t)ECHO;
			tio.c_lflag |= ECHONL;
			signal(SIGINT, restore_echo);
			signal(SIGTERM, restore_echo);
			signal(SIGHUP, restore_echo);
			echo_off = 1;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio);
		}
		fputs(prompt, stderr);
		fflush(stderr);
	}
	/* getc, not fgets: a NUL inside the line must be seen, not silently cut
	 * the password short. */
	n = 0;
	for (;;) {
		int c = getc(stdin);
		if (c == EOF || c == '\n')
			break;
		if (c == '\0') {
			nul = 1;
			continue;
		}
		if (n <= PASS_MAX)
			buf[n] = (char)c;
		n++;
	}
	buf[n <= PASS_MAX ? n : PASS_MAX + 1] = '\0';
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		echo_off = 0;
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
	}
	if (ferror(stdin)) {
		fprintf(stderr, "gwd users add: cannot read the password: %s\n",
		        strerror(errno));
		return -1;
	}
	if (nul) {
		fprintf(stderr, "gwd users add: the password holds a NUL byte\n");
		return -1;
	}
	/* buf holds the first PASS_MAX + 1 bytes: enough to see the CR of a
	 * PASS_MAX-byte password ended by CRLF */
	if (n > 0 && n <= PASS_MAX + 1 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (n > PASS_MAX) {
		fprintf(stderr, "gwd users add: password longer than %d bytes\n", PASS_MAX);
		return -1;
	}
	if (!utf8_ok((const unsigned char *)buf, n)) {
		fprintf(stderr, "gwd users add: the password is not UTF-8 text (a login, "
		        "in JSON, could not carry it)\n");
		return -1;
	}
	return (long)n;
}

/* Read the new password into <pw> (PASS_MAX + 2 bytes): from a terminal twice,
 * with no echo, the two must match; from a pipe or file, the first line.
 * Returns its length (>= 1), or -1 after printing why. */
static long read_password(const char *name, char *pw)
{
	char again[PASS_MAX + 2], prompt[128];
	int tty = isatty(STDIN_FILENO);
	long n, m;

	snprintf(prompt, sizeof prompt, "Password for %s: ", name);
	n = read_line(tty ? prompt : NULL, pw);
	if (n < 0)
		return -1;
	if (n == 0) {
		fprintf(stderr, "gwd users add: empty password (give it on stdin)\n");
		return -1;
	}
	if (tty) {
		m = read_line("Again: ", again);
		if (m != n || memcmp(pw, again, (size_t)n) != 0) {
			explicit_bzero(again, sizeof again);
			fprintf(stderr, "gwd users add: the passwords differ\n");
			return -1;
		}
		explicit_bzero(again, sizeof again);
	}
	return n;
}

/* Print one NAME<TAB>CREATED line (list callback).  Returns 0: go on. */
static int print_row(const char *name, int64_t created_s, void *arg)
{
	time_t t = (time_t)created_s;
	struct tm tm;
	char when[32] = "?";

	(void)arg;
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\t%s\n", name, when);
	return 0;
}

/* See cmds.h. */
int gwd_cmd_users(int argc, char **argv)
{
	struct cmdline cl;
	struct gwd_store *st = NULL;
	char pw[PASS_MAX + 2], hash[GWD_KDF_STR_MAX];
	int rc, r;
	long n;

	rc = parse(argc, argv, "users", &cl);
	if (rc)
		return rc == 1 ? 0 : 2;
	rc = 1;
	if (strcmp(cl.verb, "add") == 0) {
		/* The password first: a refused one leaves no file behind. */
		n = read_password(cl.name, pw);
		if (n < 0)
			goto fail;
		r = gwd_kdf_hash(pw, (size_t)n, 0, hash, sizeof hash);
		explicit_bzero(pw, sizeof pw);
		if (r < 0) {
			fprintf(stderr, "gwd users add: cannot hash the password\n");
			goto fail;
		}
		if (!(st = open_store("users", &cl)))
			goto fail;
		r = gwd_store_user_add(st, cl.name, hash, (int64_t)time(NULL));
		if (r == 0)
			fprintf(stderr, "gwd users add: user '%s' already exists\n", cl.name);
		else if (r < 0)
			fprintf(stderr, "gwd users add: cannot store the user (database "
			        "busy or failing)\n");
		else
			printf("added user %s\n", cl.name);
		rc = r == 1 ? 0 : 1;
	} else if (strcmp(cl.verb, "del") == 0) {
		if (!(st = open_store("users", &cl)))
			goto fail;
		r = gwd_store_user_del(st, cl.name);
		if (r == 0)
			fprintf(stderr, "gwd users del: no user '%s'\n", cl.name);
		else if (r < 0)
			fprintf(stderr, "gwd users del: cannot delete (database busy or "
			        "failing)\n");
		else
			printf("deleted user %s and its sessions\n", cl.name);
		rc = r == 1 ? 0 : 1;
	} else {
		if (!(st = open_store("users", &cl)))
			goto fail;
		r = gwd_store_user_list(st, print_row, NULL);
		if (r < 0)
			fprintf(stderr, "gwd users list: cannot read the database\n");
		rc = r < 0 ? 1 : 0;
	}
fail:
	explicit_bzero(pw, sizeof pw);
	explicit_bzero(hash, sizeof hash);
	gwd_store_close(st);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}

/* See cmds.h. */
int gwd_cmd_keys(int argc, char **argv)
{
	struct cmdline cl;
	struct gwd_store *st = NULL;
	char key[GWD_TOKEN_LEN + 1] = "";
	int rc, r;

	rc = parse(argc, argv, "keys", &cl);
	if (rc)
		return rc == 1 ? 0 : 2;
	rc = 1;
	if (!(st = open_store("keys", &cl)))
		goto fail;
	if (strcmp(cl.verb, "add") == 0) {
		r = gwd_apikey_create(st, cl.name, key);
		if (r == 0)
			fprintf(stderr, "gwd keys add: key '%s' already exists\n", cl.name);
		else if (r < 0)
			fprintf(stderr, "gwd keys add: cannot store the key (database busy "
			        "or failing)\n");
		else {
			/* The only time the key exists outside its owner's hands. */
			printf("%s\n", key);
			fprintf(stderr, "gwd keys add: key '%s' created; it is shown only "
			        "once\n", cl.name);
		}
		rc = r == 1 ? 0 : 1;
	} else if (strcmp(cl.verb, "del") == 0) {
		r = gwd_store_key_del(st, cl.name);
		if (r == 0)
			fprintf(stderr, "gwd keys del: no key '%s'\n", cl.name);
		else if (r < 0)
			fprintf(stderr, "gwd keys del: cannot delete (database busy or "
			        "failing)\n");
		else
			printf("deleted key %s\n", cl.name);
		rc = r == 1 ? 0 : 1;
	} else {
		r = gwd_store_key_list(st, print_row, NULL);
		if (r < 0)
			fprintf(stderr, "gwd keys list: cannot read the database\n");
		rc = r < 0 ? 1 : 0;
	}
fail:
	explicit_bzero(key, sizeof key);
	gwd_store_close(st);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
