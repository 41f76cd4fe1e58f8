/* Tests of gwd/jwt.c (the jwt policy's token checks) and gwd/jwks.c's JWKS
 * parser, over a policy compiled from YAML and a JWKS file, with tokens minted
 * by python3-jwt (tests/gwd/jwt-vectors.h, tests/vectors/jwt/gen.py): every
 * algorithm verifies, and each refusal gives its reason; the splitter refuses
 * what is not three base64url parts; duplicate JSON members are refused. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwd/jwks.h"
#include "gwd/jwt.h"
#include "tests/gwd/gen_fixture.h"
#include "tests/gwd/jwt-vectors.h"

int gw_suite_gwd_jwt(void);

#define NOW 2000000000

/* The token named <name> of the vectors. */
static const char *tok(const char *name)
{
	for (size_t i = 0; i < sizeof vec_tokens / sizeof *vec_tokens; i++)
		if (strcmp(vec_tokens[i].name, name) == 0)
			return vec_tokens[i].token;
	CU_FAIL("no such vector");
	return "";
}

/* A generation with policies "all" (every algorithm, scopes read+write) and
 * "rs" (RS256 only) over the vectors' JWKS written to a temporary file. */
static int build(struct fxg *f, char *path, size_t cap)
{
	char yaml[2048];
	FILE *fp;
	int fd;

	snprintf(path, cap, "/tmp/gw-jwt-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || !(fp = fdopen(fd, "w"))) {
		CU_FAIL("temporary file");
		return -1;
	}
	fputs(vec_jwks, fp);
	fclose(fp);
	snprintf(yaml, sizeof yaml,
		 "version: 1\n"
		 "policies:\n"
		 "  all:\n"
		 "    auth:\n"
		 "      type: jwt\n"
		 "      issuer: https://idp.test/\n"
		 "      audiences: [api]\n"
		 "      algorithms: [RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA,"
		 " HS256, HS384, HS512]\n"
		 "      jwks_file: %s\n"
		 "      scopes: [read, write]\n"
		 "      claims: { tenant: acme }\n"
		 "routes:\n"
		 "  - { path: /a, methods: [GET], policies: [all], respond: { status: 200 } }\n",
		 path);
	return fxg_build(f, yaml);
}

/* Verify vector <name> with policy <pol>: the result, and the reason. */
static int verify(struct gwd_jwt_pol *pol, const char *name, const char **reason)
{
	json_t *claims = NULL;
	int64_t exp = 0;
	const char *t = tok(name);
	int rc = gwd_jwt_verify(pol, t, strlen(t), NOW, &claims, &exp, reason);

	if (rc == GWD_JWT_OK)
		CU_ASSERT_EQUAL(exp, 2100000000);
	json_decref(claims);
	return rc;
}

static void test_algorithms(void)
{
	static const char *const algs[] = { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
					    "ES256", "ES384", "EdDSA", "HS256", "HS384", "HS512" };
	char path[64];
	struct fxg f;
	const char *why;

	if (build(&f, path, sizeof path) == 0) {
		CU_ASSERT_EQUAL_FATAL(f.g->njwts, 1);
		for (size_t i = 0; i < sizeof algs / sizeof *algs; i++) {
			int rc = verify(&f.g->jwts[0], algs[i], &why);

			if (rc != GWD_JWT_OK)
				fprintf(stderr, "%s: %s\n", algs[i], why);
			CU_ASSERT_EQUAL(rc, GWD_JWT_OK);
		}
		CU_ASSERT_EQUAL(verify(&f.g->jwts[0], "audlist", &why), GWD_JWT_OK);
	}
	fxg_free(&f);
	unlink(path);
}

static void test_refusals(void)
{
	static const struct { const char *name; int rc; const char *why; } cases[] = {
		{ "expired", GWD_JWT_INVALID, "token expired" },
		{ "notyet", GWD_JWT_INVALID, "token not yet valid (nbf)" },
		{ "wrongaud", GWD_JWT_INVALID, "wrong audience" },
		{ "noscope", GWD_JWT_SCOPE, "insufficient scope" },
		{ "wrongtype", GWD_JWT_INVALID, "key does not fit the algorithm" },
		{ "crit", GWD_JWT_INVALID, "critical header not understood" },
		{ "confusion", GWD_JWT_INVALID, "key does not fit the algorithm" },
		{ "none", GWD_JWT_INVALID, "malformed token" },
	};
	char path[64], big[GWD_JWT_MAX_TOKEN + 2], *t;
	struct fxg f;
	const char *why = NULL;
	json_t *claims = NULL;
	int64_t exp;

	if (build(&f, path, sizeof path) != 0)
		goto out;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int rc = verify(&f.g->jwts[0], cases[i].name, &why);

		if (rc != cases[i].rc || !why || strcmp(why, cases[i].why) != 0)
			fprintf(stderr, "%s: %d %s\n", cases[i].name, rc, why ? why : "(none)");
		CU_ASSERT_EQUAL(rc, cases[i].rc);
		CU_ASSERT_PTR_NOT_NULL(why);
		if (why)
			CU_ASSERT_STRING_EQUAL(why, cases[i].why);
	}
	/* a changed signature byte, then a changed payload */
	t = strdup(tok("ES256"));
	CU_ASSERT_FATAL(t != NULL);
	t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(gwd_jwt_verify(&f.g->jwts[0], t, strlen(t), NOW, &claims, &exp, &why),
			GWD_JWT_INVALID);
	CU_ASSERT_STRING_EQUAL(why, "bad signature");
	strcpy(t, tok("HS256"));
	t[strchr(t, '.') - t + 5] ^= 1;
	CU_ASSERT_EQUAL(gwd_jwt_verify(&f.g->jwts[0], t, strlen(t), NOW, &claims, &exp, &why),
			GWD_JWT_INVALID);
	free(t);
	/* over the size cap, whatever it holds */
	memset(big, 'a', sizeof big);
	CU_ASSERT_EQUAL(gwd_jwt_verify(&f.g->jwts[0], big, GWD_JWT_MAX_TOKEN + 1, NOW, &claims,
				       &exp, &why), GWD_JWT_INVALID);
	CU_ASSERT_STRING_EQUAL(why, "token too large");
	CU_ASSERT_PTR_NULL(claims);
out:
	fxg_free(&f);
	unlink(path);
}

static void test_split(void)
{
	struct gwd_jwt_parts p;
	uint8_t buf[64];
	json_t *j = NULL;

	CU_ASSERT_EQUAL(gwd_jwt_split("a.b.c", 5, &p), 0);
	CU_ASSERT_EQUAL(p.hdr_len, 1);
	CU_ASSERT_EQUAL(p.payload[0], 'b');
	CU_ASSERT_EQUAL(p.sig_len, 1);
	CU_ASSERT_EQUAL(gwd_jwt_split("a.b.", 4, &p), -1);   /* alg none's empty signature */
	CU_ASSERT_EQUAL(gwd_jwt_split(".b.c", 4, &p), -1);
	CU_ASSERT_EQUAL(gwd_jwt_split("a..c", 4, &p), -1);
	CU_ASSERT_EQUAL(gwd_jwt_split("a.b", 3, &p), -1);
	CU_ASSERT_EQUAL(gwd_jwt_split("a.b.c.d.e", 9, &p), -1); /* JWE */
	CU_ASSERT_EQUAL(gwd_jwt_split("a.b=.c", 6, &p), -1);    /* padding */
	CU_ASSERT_EQUAL(gwd_jwt_split("a.b+.c", 6, &p), -1);    /* standard base64 */
	CU_ASSERT_EQUAL(gwd_jwt_split("a.b\0.c", 6, &p), -1);
	/* {"a":1} and {"a":1,"a":2} */
	CU_ASSERT_EQUAL(gwd_jwt_decode_json("eyJhIjoxfQ", 10, buf, sizeof buf, &j), 0);
	CU_ASSERT(json_is_object(j));
	json_decref(j);
	CU_ASSERT_EQUAL(gwd_jwt_decode_json("eyJhIjoxLCJhIjoyfQ", 18, buf, sizeof buf, &j), -1);
	CU_ASSERT_PTR_NULL(j);
	/* [1] is JSON, not an object */
	CU_ASSERT_EQUAL(gwd_jwt_decode_json("WzFd", 4, buf, sizeof buf, &j), -1);
	/* larger than the buffer */
	CU_ASSERT_EQUAL(gwd_jwt_decode_json("eyJhIjoxfQ", 10, buf, 4, &j), -1);
}

static void test_b64url(void)
{
	uint8_t out[16];

	CU_ASSERT_EQUAL(gwd_token_b64url_decode("", 0, out, sizeof out), 0);
	CU_ASSERT_EQUAL(gwd_token_b64url_decode("_-8", 3, out, sizeof out), 2);
	CU_ASSERT_EQUAL(out[0], 0xff);
	CU_ASSERT_EQUAL(out[1], 0xef);
	CU_ASSERT_EQUAL(gwd_token_b64url_decode("QQ", 2, out, sizeof out), 1);
	CU_ASSERT_EQUAL(out[0], 'A');
	CU_ASSERT_EQUAL(gwd_token_b64url_decode("QR", 2, out, sizeof out), -1);  /* stray bits */
	CU_ASSERT_EQUAL(gwd_token_b64url_decode("QQ==", 4, out, sizeof out), -1); /* padding */
	CU_ASSERT_EQUAL(gwd_token_b64url_decode("Q", 1, out, sizeof out), -1);
	CU_ASSERT_EQUAL(gwd_token_b64url_decode("QUFB", 4, out, 2), -1);         /* no room */
	CU_ASSERT_EQUAL(gw_jwa_bit("none", 4), 0);
	CU_ASSERT_EQUAL(gw_jwa_bit("HS256", 5), GW_JWA_HS256);
	CU_ASSERT_EQUAL(gw_jwa_bit("hs256", 5), 0);
}

static void test_jwks_parse(void)
{
	struct gwd_jwks_set *set = NULL;
	char why[96];
	static const char dup[] = "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\","
				  "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
				  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"a\","
				  "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}";

	/* the vectors' JWKS: the oct key is skipped (a URL serves public keys) */
	CU_ASSERT_EQUAL_FATAL(gwd_jwks_parse(vec_jwks, strlen(vec_jwks), &set, why, sizeof why), 0);
	CU_ASSERT_EQUAL(set->n, 4);
	gwd_jwks_set_put(set);
	CU_ASSERT_EQUAL(gwd_jwks_parse(dup, strlen(dup), &set, why, sizeof why), -1);
	CU_ASSERT_STRING_EQUAL(why, "two keys with kid \"a\"");
	CU_ASSERT_EQUAL(gwd_jwks_parse("{\"keys\":[],\"keys\":[]}", 21, &set, why, sizeof why), -1);
	CU_ASSERT_EQUAL(gwd_jwks_parse("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", 35, &set, why,
				       sizeof why), -1);
	CU_ASSERT_STRING_EQUAL(why, "no usable key");
	CU_ASSERT_PTR_NULL(set);
}

int gw_suite_gwd_jwt(void)
{
	CU_pSuite s = CU_add_suite("gwd/jwt", NULL, NULL);

	if (!s || !CU_add_test(s, "every algorithm verifies", test_algorithms) ||
	    !CU_add_test(s, "refusals and their reasons", test_refusals) ||
	    !CU_add_test(s, "split and decode", test_split) ||
	    !CU_add_test(s, "base64url and algorithm names", test_b64url) ||
	    !CU_add_test(s, "JWKS documents", test_jwks_parse))
		return -1;
	return 0;
}
