/* The jwt policy's uncached verification cost per algorithm: split, base64url,
 * the header's JSON, the key by kid, the signature (GnuTLS), the payload's
 * JSON and the claim checks -- what a request pays the first time a token is
 * seen (gwd_jwt_verify; the cache is not consulted).  Tokens and keys are the
 * unit tests' vectors, minted by python3-jwt (tests/gwd/jwt-vectors.h).
 *
 *   make bin/bench_jwt && bin/bench_jwt      (figures in docs/performance.md)
 *
 * Per algorithm: 5 rounds of at least 0.2 s of CPU each; prints the median
 * CPU microseconds per verification and verifications per second of one core.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#include "gwc/parse.h"
#include "gwd/jwt.h"
#include "gwd/reload.h"
#include "lib/diag.h"
#include "lib/trie.h"
#include "tests/gwd/jwt-vectors.h"

/* This thread's CPU time in seconds: on a shared, loaded machine wall time
 * would count the time other processes ran. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A generation with one jwt policy over the vectors' JWKS (in <path>). */
static struct gwd_gen *build(const char *path)
{
	char yaml[1024], why[256];
	struct gw_conf c;
	struct gw_trie t = { 0 };
	struct gw_diag d = { 0 };
	struct gwc_state *st = gwc_state_new();
	struct gw_blob *b = NULL;
	struct gwd_gen *g = NULL;
	uint8_t *mem = NULL;
	size_t len = 0;

	snprintf(yaml, sizeof yaml,
		 "version: 1\npolicies:\n  p:\n    auth:\n      type: jwt\n"
		 "      issuer: https://idp.test/\n      audiences: [api]\n"
		 "      algorithms: [RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA,"
		 " HS256, HS384, HS512]\n      jwks_file: %s\n"
		 "routes:\n  - { path: /a, methods: [GET], policies: [p], respond: { status: 200 } }\n",
		 path);
	if (!st || gw_conf_init(&c) || gwc_parse_mem(&c, "bench.yaml", yaml, strlen(yaml), &d, st) ||
	    gwc_parse_finish(&c, &d, st) || gw_trie_build(&c, &t, &d) ||
	    gw_blob_write_mem(&c, &t, &mem, &len) != GW_OK ||
	    gw_blob_open_mem(mem, len, &b, why, sizeof why) != GW_OK ||
	    gwd_reload_build(b, &g, why, sizeof why)) {
		gw_diag_print(&d, c.files.v, c.files.n, stderr);
		return NULL;
	}
	/* <mem> stays: the generation's strings point into it */
	gw_trie_free(&t);
	gw_diag_free(&d);
	gw_conf_free(&c);
	return g;
}

int main(void)
{
	static const char *const algs[] = { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
					    "ES256", "ES384", "EdDSA", "HS256", "HS384", "HS512" };
	char path[] = "/tmp/gw-bench-jwt-XXXXXX";
	int fd = mkstemp(path);
	struct gwd_gen *g;

	if (fd < 0 || write(fd, vec_jwks, strlen(vec_jwks)) != (ssize_t)strlen(vec_jwks))
		return 1;
	close(fd);
	g = build(path);
	unlink(path);
	if (!g || g->njwts != 1) {
		fprintf(stderr, "bench_jwt: cannot build the policy\n");
		return 1;
	}
	printf("%-6s %12s %12s %10s\n", "alg", "us/verify", "verify/s", "tokenB");
	for (size_t a = 0; a < sizeof algs / sizeof *algs; a++) {
		const char *tok = NULL;
		double rounds[5];

		for (size_t i = 0; i < sizeof vec_tokens / sizeof *vec_tokens; i++)
			if (strcmp(vec_tokens[i].name, algs[a]) == 0)
				tok = vec_tokens[i].token;
		if (!tok)
			return 1;
		for (int r = 0; r < 5; r++) {
			double t0 = now(), t1;
			unsigned long n = 0;

			do {
				for (int k = 0; k < 20; k++) {
					json_t *claims = NULL;
					const char *why = NULL;
					int64_t exp;

					if (gwd_jwt_verify(&g->jwts[0], tok, strlen(tok), 2000000000, &claims,
							   &exp, &why) != GWD_JWT_OK) {
						fprintf(stderr, "bench_jwt: %s: %s\n", algs[a], why);
						return 1;
					}
					json_decref(claims);
				}
				n += 20;
				t1 = now();
			} while (t1 - t0 < 0.2);
			rounds[r] = (t1 - t0) * 1e6 / (double)n;
		}
		qsort(rounds, 5, sizeof *rounds, cmp);
		printf("%-6s %12.1f %12.0f %10zu\n", algs[a], rounds[2], 1e6 / rounds[2], strlen(tok));
	}
	/* what a cache hit pays for the key: the SHA-256 of the token */
	{
		const char *tok = vec_tokens[0].token;
		uint8_t d[32];
		double rounds[5];

		for (int r = 0; r < 5; r++) {
			double t0 = now(), t1;
			unsigned long n = 0;

			do {
				for (int k = 0; k < 1000; k++)
					gnutls_hash_fast(GNUTLS_DIG_SHA256, tok, strlen(tok), d);
				n += 1000;
				t1 = now();
			} while (t1 - t0 < 0.2);
			rounds[r] = (t1 - t0) * 1e6 / (double)n;
		}
		qsort(rounds, 5, sizeof *rounds, cmp);
		printf("cache key: SHA-256 of the %zu-byte %s token: %.2f us\n", strlen(tok),
		       vec_tokens[0].name, rounds[2]);
	}
	gwd_reload_free(g);
	return 0;
}
