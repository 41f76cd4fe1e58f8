/* libFuzzer harness for the jwt policy's token parser (gwd/jwt.c): splitting
 * at the dots, base64url decoding, JSON of the header and the payload, and
 * the checks before and after the signature.
 *
 * The input is a token.  It is split and its header and payload decoded the
 * way gwd_jwt_verify does (gwd_jwt_split, gwd_jwt_decode_json); a part that
 * decodes must be an object, and the splitter's parts must tile the input.
 * Then the whole token goes through gwd_jwt_verify for a policy with an
 * Ed25519 key and an HMAC key: the fuzzer cannot forge a signature, so the
 * answer must never be GWD_JWT_OK, and any refusal must come with a reason.
 *
 * Built and run by tests/fuzz/run.sh (`make fuzz`), linked with lib/ and
 * gwd/ (but its main.c).  Seeds: tests/fuzz/corpus/fuzz_jwt/ (tokens minted
 * by python3-jwt, and broken ones).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/jwks.h"
#include "gwd/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gwd_jwt_pol pol;
static struct gw_str aud = { "api", 3 };

/* The policy: issuer, audience, EdDSA and HS256, two keys; no cache, no URL. */
static void setup(void)
{
	static const struct gw_jwk keys[2] = {
		{ { "ed", 2 }, GW_KTY_OKP, GW_CRV_ED25519, GW_JWA_EDDSA,
		  { "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", 43 }, { "", 0 } },
		{ { "hs", 2 }, GW_KTY_OCT, GW_CRV_NONE, GW_JWA_HS256,
		  { "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
		    86 }, { "", 0 } },
	};
	static struct gwd_jwks_key k[2];
	char why[96];

	pol.cfg.algs = GW_JWA_EDDSA | GW_JWA_HS256 | GW_JWA_RS256;
	pol.cfg.issuer = (struct gw_str){ "joe", 3 };
	pol.cfg.aud_first = 0;
	pol.cfg.aud_count = 1;
	pol.strlist = &aud;
	for (int i = 0; i < 2; i++) {
		k[i].kid = (char *)keys[i].kid.p;
		if (gw_jwk_import(&keys[i], &k[i].key, why, sizeof why))
			abort();
	}
	pol.keys = k;
	pol.nkeys = 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct gwd_jwt_parts p;
	uint8_t buf[8192];
	json_t *j = NULL, *claims = NULL;
	const char *tok = (const char *)data, *reason = NULL;
	int64_t exp;
	int rc;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (gwd_jwt_split(tok, size, &p) == 0) {
		if (p.hdr != tok || p.payload != p.hdr + p.hdr_len + 1 ||
		    p.sig != p.payload + p.payload_len + 1 || p.sig + p.sig_len != tok + size)
			abort();
		if (gwd_jwt_decode_json(p.hdr, p.hdr_len, buf, sizeof buf, &j) == 0 && !json_is_object(j))
			abort();
		json_decref(j);
		j = NULL;
		if (gwd_jwt_decode_json(p.payload, p.payload_len, buf, sizeof buf, &j) == 0 &&
		    !json_is_object(j))
			abort();
		json_decref(j);
	}
	rc = gwd_jwt_verify(&pol, tok, size, 1300000000, &claims, &exp, &reason);
	if (rc == GWD_JWT_OK || !reason)
		abort();
	json_decref(claims);
	return 0;
}
