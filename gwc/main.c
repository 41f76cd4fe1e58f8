/* gwc: the route compiler's command line (README.md, docs/routes.md; `gwc --help`).
 *
 * main() only dispatches: `check` and `compile` are here because they are the
 * front end's two uses (parse every file, check, then write a blob or not);
 * `inspect`, `match` and `diff` read blobs and live in their own files
 * (gwc/cmds.h).  Exit status: 0 success, 1 invalid input, 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "gwc/cmds.h"
#include "gwc/parse.h"
#include "lib/blob-t.h"
#include "lib/blob.h"
#include "lib/diag.h"
#include "lib/error.h"
#include "lib/trie.h"
#include "lib/version.h"


/* Print the overall usage to <out>. */
static void usage(FILE *out)
{
	fputs("usage: gwc check FILE...\n"
	      "       gwc compile FILE... -o OUT.gwb\n"
	      "       gwc inspect OUT.gwb\n"
	      "       gwc match OUT.gwb METHOD PATH [--host HOST]\n"
	      "       gwc diff A.gwb B.gwb\n"
	      "       gwc --version | --help\n"
	      "\n"
	      "commands:\n"
	      "  check      validate route files; every error is printed as\n"
	      "             FILE:LINE:COL: error: MESSAGE\n"
	      "  compile    validate, then write the blob atomically (same input, same bytes)\n"
	      "  inspect    header, sections, routes, policies, upstreams, trie statistics\n"
	      "  match      the route that would serve a request, its policies and parameters\n"
	      "  diff       routes and policies added, removed, changed\n"
	      "\n"
	      "`gwc COMMAND --help` describes one command; the route language is gw-routes(5).\n"
	      "exit status: 0 success, 1 invalid input or a negative answer, 2 usage error\n",
	      out);
}

/* Parse <files> (<nfiles> of them), check them and the routes' trie, print
 * every error to stderr, and when all is well and <out> is not NULL write the
 * blob to <out>.  Returns the exit status: 0, or 1 on any error. */
static int build(char **files, int nfiles, const char *out)
{
	struct gw_conf conf;
	struct gw_diag d = { 0 };
	struct gw_trie trie = { 0 };
	struct gwc_state *st = NULL;
	int status = 1, oom = 0, built = 0, r;

	if (gw_conf_init(&conf) < 0) {
		fprintf(stderr, "gwc: error: out of memory\n");
		return 1;
	}
	st = gwc_state_new();
	if (!st) {
		oom = 1;
		goto fail;
	}
	for (int i = 0; i < nfiles && !oom; i++)
		oom = gwc_parse_file(&conf, files[i], &d, st) < 0;
	if (!oom)
		oom = gwc_parse_finish(&conf, &d, st) < 0;
	/* The trie is built even when other errors were found, so that route
	 * conflicts are reported in the same run (routes with unusable paths
	 * were left out of conf.routes by the parser). */
	if (!oom) {
		r = gw_trie_build(&conf, &trie, &d);
		oom = r < 0;
		built = r == 0;
	}
	if (oom) {
		fprintf(stderr, "gwc: error: out of memory\n");
		goto fail;
	}
	if (d.n > d.nwarn || d.oom) {
		gw_diag_print(&d, conf.files.v, conf.files.n, stderr);
		goto fail;
	}
	if (d.nwarn)
		gw_diag_print(&d, conf.files.v, conf.files.n, stderr);
	if (out) {
		r = gw_blob_write(&conf, &trie, out);
		if (r != GW_OK) {
			fprintf(stderr, "gwc: error: cannot write %s: %s\n", out,
				r == GW_EIO ? strerror(errno) : gw_strerror(r));
			goto fail;
		}
	}
	status = 0;
fail:
	if (built)
		gw_trie_free(&trie);
	gw_diag_free(&d);
	gw_conf_free(&conf);
	gwc_state_free(st);
	return status;
}

/* 1 when <a> asks for help. */
static int is_help(const char *a)
{
	return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* Collect the file operands of <argv> (<argc> items) into <argv> itself
 * (compacted in place) and the output of -o/--output into <*out> when <out> is
 * not NULL.  Returns the number of files, or -1 after printing a usage error,
 * or -2 when help was asked for. */
static int operands(const char *cmd, int argc, char **argv, const char **out)
{
	int n = 0, opts = 1;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (opts && strcmp(a, "--") == 0) {
			opts = 0;
		} else if (opts && is_help(a)) {
			return -2;
		} else if (opts && out && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
					  strncmp(a, "-o", 2) == 0 || strncmp(a, "--output=", 9) == 0)) {
			const char *v;

			if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
				if (i + 1 >= argc) {
					fprintf(stderr, "gwc %s: %s needs a file name\n", cmd, a);
					return -1;
				}
				v = argv[++i];
			} else {
				v = a[1] == 'o' ? a + 2 : a + 9;
			}
			if (*out) {
				fprintf(stderr, "gwc %s: more than one output file\n", cmd);
				return -1;
			}
			if (!*v) {
				fprintf(stderr, "gwc %s: empty output file name\n", cmd);
				return -1;
			}
			*out = v;
		} else if (opts && a[0] == '-' && a[1]) {
			fprintf(stderr, "gwc %s: unknown option '%s' (see gwc --help)\n", cmd, a);
			return -1;
		} else {
			argv[n++] = argv[i];
		}
	}
	return n;
}

int gwc_cmd_check(int argc, char **argv)
{
	int n = operands("check", argc, argv, NULL);

	if (n == -2) {
		fputs("usage: gwc check FILE...\n"
		      "Validate route files; print every error as FILE:LINE:COL: error: MESSAGE.\n"
		      "Exit 0 when valid, 1 on any error, 2 on a usage error.\n", stdout);
		return 0;
	}
	if (n < 0)
		return 2;
	if (n == 0) {
		fprintf(stderr, "gwc check: no route file given (usage: gwc check FILE...)\n");
		return 2;
	}
	return build(argv, n, NULL);
}

int gwc_cmd_compile(int argc, char **argv)
{
	const char *out = NULL;
	int n = operands("compile", argc, argv, &out);

	if (n == -2) {
		fputs("usage: gwc compile FILE... -o OUT.gwb\n"
		      "Validate route files as `gwc check` does, then write the blob to OUT.gwb\n"
		      "atomically. The same input always gives the same bytes.\n", stdout);
		return 0;
	}
	if (n < 0)
		return 2;
	if (n == 0 || !out) {
		fprintf(stderr, "gwc compile: %s (usage: gwc compile FILE... -o OUT.gwb)\n",
			n == 0 ? "no route file given" : "no output file given");
		return 2;
	}
	return build(argv, n, out);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} cmds[] = {
		{ "check", gwc_cmd_check },     { "compile", gwc_cmd_compile },
		{ "inspect", gwc_cmd_inspect }, { "match", gwc_cmd_match },
		{ "diff", gwc_cmd_diff },
	};

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("gwc %s\n"
		       "route language version 1\n"
		       "blob format %d\n"
		       "libyaml %s\n",
		       GW_VERSION, GW_BLOB_WRITE_VERSION, yaml_get_version_string());
		return 0;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].run(argc - 2, argv + 2);
	fprintf(stderr, "gwc: unknown command '%s' (see gwc --help)\n", argv[1]);
	return 2;
}
