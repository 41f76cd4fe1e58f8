/* JOSE keys and signatures (RFC 7515, 7517, 7518, 8037), shared by gwc (which
 * checks the keys of a JWKS file before compiling them) and gwd (which
 * verifies tokens with them): algorithm and key-type names, base64url, a
 * key's import into GnuTLS, and the verification of a JWS signature.
 *
 *   struct gw_jwk (lib/model.h: base64url text, as in the JWKS)
 *       --gw_jwk_import--> struct gw_jwk_key (GnuTLS public key, or HMAC secret)
 *       --gw_jwk_verify(alg, signing input, signature)--> 0 / -1
 *
 * The cryptography is GnuTLS's: gnutls_pubkey_import_rsa_raw and _ecc_raw,
 * gnutls_pubkey_verify_data2, gnutls_encode_rs_value (JOSE carries an ECDSA
 * signature as raw r||s, GnuTLS takes DER) and gnutls_hmac_fast.  Only the
 * base64url alphabet is mapped here: GnuTLS decodes standard base64 only.
 */
#ifndef GW_JWK_H
#define GW_JWK_H

#include <gnutls/abstract.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/model.h"

#define GW_JWK_MAX_BYTES 1024 /* a decoded parameter (RSA 8192 bits) */

/* A key ready to verify with. */
struct gw_jwk_key {
	uint8_t kty, crv;
	uint16_t algs;          /* enum gw_jwa */
	gnutls_pubkey_t pub;    /* RSA, EC, OKP; NULL for oct */
	uint8_t *secret;        /* oct: the HMAC key (malloc'd) */
	size_t secret_len;
};

/* The enum gw_jwa bit of algorithm name <s> (<len> bytes: "RS256", "EdDSA"),
 * or 0 for a name gw does not verify ("none" among them). */
unsigned gw_jwa_bit(const char *s, size_t len);

/* The name of the single bit <bit>, or "?". */
const char *gw_jwa_name(unsigned bit);

/* Key type and curve names of RFC 7518/8037: 0 when unknown. */
unsigned gw_jwk_kty(const char *s, size_t len);
unsigned gw_jwk_crv(const char *s, size_t len);
const char *gw_jwk_kty_name(unsigned kty);
const char *gw_jwk_crv_name(unsigned crv);

/* The algorithms a key of type <kty> and curve <crv> can serve (enum gw_jwa
 * mask); 0 for a curve that does not fit the type. */
unsigned gw_jwk_fits(unsigned kty, unsigned crv);

/* Decode base64url <src> (<len> bytes, no padding, RFC 7515 section 2) into
 * <out> (<cap> bytes).  Returns the decoded length, or -1 when a byte is
 * outside the alphabet, the length is impossible (len % 4 == 1), the unused
 * bits of the last character are not zero, or <cap> is too small. */
long gwd_token_b64url_decode(const char *src, size_t len, uint8_t *out, size_t cap);

/* Import <k> into <out> (zeroed by the caller): decode its parameters and
 * hand them to GnuTLS.  Returns 0, or -1 with a short reason in <why> (<cap>
 * bytes) when a parameter is not base64url, has the wrong size for the
 * curve, or GnuTLS refuses the key.  Free with gw_jwk_key_free(). */
int gw_jwk_import(const struct gw_jwk *k, struct gw_jwk_key *out, char *why, size_t cap);

/* Release what <k> holds; the struct itself is the caller's. */
void gw_jwk_key_free(struct gw_jwk_key *k);

/* Verify JWS signature <sig> (<siglen> decoded bytes) over <data> (<len>
 * bytes: the token's "header.payload") with <k> under algorithm <alg> (one
 * enum gw_jwa bit).  Returns 0 when valid, -1 otherwise; also -1 when <alg>
 * is not one the key serves (an HMAC algorithm with a public key's bytes,
 * an RSA algorithm with an EC key). */
int gw_jwk_verify(const struct gw_jwk_key *k, unsigned alg, const void *data, size_t len,
		  const uint8_t *sig, size_t siglen);

#endif
