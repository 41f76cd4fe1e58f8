/* `gwc match BLOB METHOD PATH [--host HOST]`: which route of a compiled blob
 * would serve a request, as gwd would decide it.
 *
 * An operator's dry run is only worth something if it cannot disagree with
 * production, so this runs exactly gwd's steps on exactly gwd's code: the
 * path normaliser (lib/path.c) on PATH as it would arrive on the wire, then
 * gw_match() (lib/match.c) on the verified blob.  It then prints what the
 * match means for the request:
 *
 *   path      /api/users/42
 *   route     user
 *   pattern   /api/users/{id}
 *   methods   GET, PUT
 *   host      (any)
 *   source    routes/gateway.yaml:78:5
 *   policies  session (auth), body-1m (body_limit)
 *   handler   proxy (upstream demo)
 *   param     id=42
 *   rest      a/b                    (only for a trailing star)
 *
 * or "404 Not Found", "405 Method Not Allowed (Allow: GET, HEAD)", or
 * "400 Bad Request: REASON" for a path gwd would refuse.  Exit status 0 when a
 * route matches, 1 for 400/404/405, 2 for a usage error or an unusable blob.
 * tests/integration/match_vectors.sh reads this output: keep the keywords.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwc/cmds.h"
#include "lib/blob.h"
#include "lib/error.h"
#include "lib/match.h"
#include "lib/path.h"

/* Print the usage line to stderr; returns 2 (the usage exit status). */
static int match_usage(void)
{
	fputs("usage: gwc match BLOB METHOD PATH [--host HOST]\n"
	      "  METHOD: GET HEAD POST PUT DELETE PATCH OPTIONS; PATH as sent (a query is "
	      "ignored)\n",
	      stderr);
	return 2;
}

/* The route-file spelling of policy kind <k>. */
static const char *match_kind_name(unsigned k)
{
	switch (k) {
	case GW_P_RATE_LIMIT:
		return "rate_limit";
	case GW_P_AUTH:
		return "auth";
	case GW_P_BODY_LIMIT:
		return "body_limit";
	case GW_P_CORS:
		return "cors";
	case GW_P_HEADERS:
		return "headers";
	case GW_P_IP:
		return "ip";
	default:
		return "?";
	}
}

/* The route-file spelling of handler kind <h>. */
static const char *match_handler_name(unsigned h)
{
	static const char *const names[] = {
		[GW_H_RESPOND] = "respond", [GW_H_ECHO] = "echo",     [GW_H_PROXY] = "proxy",
		[GW_H_LOGIN] = "login",     [GW_H_LOGOUT] = "logout", [GW_H_HEALTH] = "health",
		[GW_H_METRICS] = "metrics", [GW_H_STATUS] = "status",
	};

	return h < sizeof names / sizeof *names && names[h] ? names[h] : "?";
}

/* Print the route at blob index <ri> of <b>, with the parameters <m> found
 * in <path>, to stdout. */
static void match_print_route(const struct gw_blob *b, uint32_t ri, const struct gw_match *m,
			      const char *path)
{
	struct gw_route r;
	struct gw_str s;
	uint32_t root;
	const char *sep = "";
	uint32_t pi = 0;

	if (gw_blob_route(b, ri, &r) < 0) {
		printf("route     #%u (unreadable)\n", (unsigned)ri);
		return;
	}
	if (r.name.len)
		printf("route     %.*s\n", (int)r.name.len, r.name.p);
	else
		printf("route     %.*s\n", (int)r.pattern.len, r.pattern.p);
	printf("pattern   %.*s\n", (int)r.pattern.len, r.pattern.p);
	fputs("methods   ", stdout);
	for (unsigned bit = 1; bit <= GW_M_ALL; bit <<= 1)
		if (r.methods & bit) {
			printf("%s%s", sep, gw_method_name(bit));
			sep = ", ";
		}
	putchar('\n');
	if (r.host != 0 && gw_blob_host(b, r.host, &s, &root) == 0)
		printf("host      %.*s\n", (int)s.len, s.p);
	else
		puts("host      (any)");
	if (gw_blob_file(b, r.place.file, &s) == 0)
		printf("source    %.*s:%u:%u\n", (int)s.len, s.p, (unsigned)r.place.line,
		       (unsigned)r.place.col);
	fputs("policies  ", stdout);
	if (r.pol_count == 0)
		fputs("(none)", stdout);
	for (uint32_t k = 0; k < r.pol_count; k++) {
		struct gw_policy p;

		if (gw_blob_polref(b, r.pol_first + k, &pi) < 0 || gw_blob_policy(b, pi, &p) < 0)
			continue;
		printf("%s%.*s (%s)", k ? ", " : "", (int)p.name.len, p.name.p,
		       match_kind_name(p.kind));
	}
	putchar('\n');
	printf("handler   %s", match_handler_name(r.handler));
	if (r.handler == GW_H_PROXY) {
		struct gw_proxy px;
		struct gw_upstream up;

		if (gw_blob_proxy(b, r.handler_index, &px) == 0 &&
		    gw_blob_upstream(b, px.upstream, &up) == 0)
			printf(" (upstream %.*s)", (int)up.name.len, up.name.p);
	} else if (r.handler == GW_H_RESPOND) {
		struct gw_respond rs;

		if (gw_blob_respond(b, r.handler_index, &rs) == 0)
			printf(" (status %u)", (unsigned)rs.status);
	}
	putchar('\n');
	/* Parameter names come from the pattern, in order: {a}/{b} -> a, b. */
	for (uint32_t i = 0, k = 0; i < r.pattern.len && k < m->nparams; i++) {
		uint32_t j;

		if (r.pattern.p[i] != '{')
			continue;
		for (j = i + 1; j < r.pattern.len && r.pattern.p[j] != '}'; j++)
			;
		printf("param     %.*s=%.*s\n", (int)(j - i - 1), r.pattern.p + i + 1,
		       (int)m->params[k].len, path + m->params[k].off);
		k++;
		i = j;
	}
	if (m->rest_len)
		printf("rest      %.*s\n", (int)m->rest_len, path + m->rest_off);
}

/* gwc match (cmds.h): <argv> is BLOB METHOD PATH with "--host HOST" (or
 * "--host=HOST") anywhere.  Returns the exit status. */
int gwc_cmd_match(int argc, char **argv)
{
	const char *pos[3], *host = "";
	int npos = 0, rc = 2, res, st;
	struct gw_blob *b = NULL;
	char why[512] = "", *norm = NULL;
	size_t plen, nlen;
	unsigned method;
	struct gw_match m;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--host") == 0) {
			if (++i == argc)
				return match_usage();
			host = argv[i];
		} else if (strncmp(argv[i], "--host=", 7) == 0) {
			host = argv[i] + 7;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "gwc match: unknown option %s\n", argv[i]);
			return match_usage();
		} else if (npos < 3) {
			pos[npos++] = argv[i];
		} else {
			return match_usage();
		}
	}
	if (npos != 3)
		return match_usage();
	method = gw_method_bit(pos[1], strlen(pos[1]));
	if (!method) {
		fprintf(stderr, "gwc match: unknown method \"%s\"\n", pos[1]);
		return match_usage();
	}
	st = gw_blob_open(pos[0], &b, why, sizeof why);
	if (st != GW_OK) {
		fprintf(stderr, "gwc match: %s: %s%s%s\n", pos[0], gw_strerror(st), why[0] ? ": " : "",
			why);
		return 2;
	}
	/* A query string is not part of the path gwd matches. */
	plen = strcspn(pos[2], "?#");
	norm = malloc(plen + 1);
	if (!norm) {
		fprintf(stderr, "gwc match: out of memory\n");
		goto fail;
	}
	st = gw_path_normalize(pos[2], plen, norm, plen + 1, &nlen);
	if (st != GW_PATH_OK) {
		printf("400 Bad Request: %s\n", gw_path_strerror(st));
		rc = 1;
		goto fail;
	}
	printf("path      %s\n", norm);
	res = gw_match(b, host, strlen(host), method, norm, nlen, &m);
	if (res == GW_MATCH_FOUND) {
		match_print_route(b, m.route, &m, norm);
		rc = 0;
	} else if (res == GW_MATCH_NO_METHOD) {
		const char *sep = "";

		fputs("405 Method Not Allowed (Allow: ", stdout);
		for (unsigned bit = 1; bit <= GW_M_ALL; bit <<= 1)
			if (m.allow & bit) {
				printf("%s%s", sep, gw_method_name(bit));
				sep = ", ";
			}
		puts(")");
		rc = 1;
	} else {
		puts("404 Not Found");
		rc = 1;
	}
fail:
	free(norm);
	gw_blob_close(b);
	return rc;
}
