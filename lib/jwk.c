/* JOSE keys and signatures with GnuTLS (jwk.h). */
#include "lib/jwk.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} jwa[] = {
	{ "RS256", GW_JWA_RS256 }, { "RS384", GW_JWA_RS384 }, { "RS512", GW_JWA_RS512 },
	{ "PS256", GW_JWA_PS256 }, { "PS384", GW_JWA_PS384 }, { "PS512", GW_JWA_PS512 },
	{ "ES256", GW_JWA_ES256 }, { "ES384", GW_JWA_ES384 }, { "EdDSA", GW_JWA_EDDSA },
	{ "HS256", GW_JWA_HS256 }, { "HS384", GW_JWA_HS384 }, { "HS512", GW_JWA_HS512 },
};

unsigned gw_jwa_bit(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof jwa / sizeof *jwa; i++)
		if (strlen(jwa[i].name) == len && memcmp(jwa[i].name, s, len) == 0)
			return jwa[i].bit;
	return 0;
}

const char *gw_jwa_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof jwa / sizeof *jwa; i++)
		if (jwa[i].bit == bit)
			return jwa[i].name;
	return "?";
}

static const char *const kty_names[] = { NULL, "RSA", "EC", "OKP", "oct" };
static const char *const crv_names[] = { NULL, "P-256", "P-384", "Ed25519" };

/* The index of <s> (<len> bytes) in <names> (<n>, [0] unused), or 0. */
static unsigned name_index(const char *const *names, unsigned n, const char *s, size_t len)
{
	for (unsigned i = 1; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return i;
	return 0;
}

unsigned gw_jwk_kty(const char *s, size_t len)
{
	return name_index(kty_names, 5, s, len);
}

unsigned gw_jwk_crv(const char *s, size_t len)
{
	return name_index(crv_names, 4, s, len);
}

const char *gw_jwk_kty_name(unsigned kty)
{
	return kty >= 1 && kty <= 4 ? kty_names[kty] : "?";
}

const char *gw_jwk_crv_name(unsigned crv)
{
	return crv >= 1 && crv <= 3 ? crv_names[crv] : "";
}

unsigned gw_jwk_fits(unsigned kty, unsigned crv)
{
	switch (kty) {
	case GW_KTY_RSA:
		return crv == GW_CRV_NONE ? GW_JWA_RSA : 0;
	case GW_KTY_EC:
		return crv == GW_CRV_P256 ? GW_JWA_ES256 : crv == GW_CRV_P384 ? GW_JWA_ES384 : 0;
	case GW_KTY_OKP:
		return crv == GW_CRV_ED25519 ? GW_JWA_EDDSA : 0;
	case GW_KTY_OCT:
		return crv == GW_CRV_NONE ? GW_JWA_HMAC : 0;
	default:
		return 0;
	}
}

/* The 6-bit value of base64url character <c>, or -1. */
static int b64url_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long gwd_token_b64url_decode(const char *src, size_t len, uint8_t *out, size_t cap)
{
	size_t o = 0, need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	uint32_t acc = 0;
	unsigned bits = 0;

	if (len % 4 == 1 || need > cap)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_val((unsigned char)src[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* the leftover bits of the last character are zero in the one
	 * encoding of the bytes: another spelling is not the same token */
	if (acc)
		return -1;
	return (long)o;
}

/* Decode <s> into a new buffer <*out> of <*n> bytes (1..GW_JWK_MAX_BYTES).
 * 0, or -1. */
static int decode_param(const struct gw_str *s, uint8_t *buf, size_t *n)
{
	long r = gwd_token_b64url_decode(s->p, s->len, buf, GW_JWK_MAX_BYTES);

	if (r <= 0)
		return -1;
	*n = (size_t)r;
	return 0;
}

int gw_jwk_import(const struct gw_jwk *k, struct gw_jwk_key *out, char *why, size_t cap)
{
	uint8_t a[GW_JWK_MAX_BYTES], b[GW_JWK_MAX_BYTES];
	size_t an = 0, bn = 0, coord;
	gnutls_datum_t da, db;
	int rc;

	out->kty = k->kty;
	out->crv = k->crv;
	out->algs = k->algs;
	if (!gw_jwk_fits(k->kty, k->crv) || (k->algs & ~gw_jwk_fits(k->kty, k->crv)) || !k->algs) {
		snprintf(why, cap, "the key type does not fit its algorithms");
		return -1;
	}
	if (decode_param(&k->a, a, &an) ||
	    ((k->kty == GW_KTY_RSA || k->kty == GW_KTY_EC) && decode_param(&k->b, b, &bn))) {
		snprintf(why, cap, "a key parameter is not base64url or is too long");
		return -1;
	}
	if (k->kty == GW_KTY_OCT) {
		if (an < 32) {
			snprintf(why, cap, "an HMAC key needs at least 32 bytes, this one has %zu", an);
			return -1;
		}
		out->secret = malloc(an);
		if (!out->secret) {
			snprintf(why, cap, "out of memory");
			return -1;
		}
		memcpy(out->secret, a, an);
		out->secret_len = an;
		return 0;
	}
	coord = k->crv == GW_CRV_P384 ? 48 : 32;
	if ((k->kty == GW_KTY_EC && (an != coord || bn != coord)) ||
	    (k->kty == GW_KTY_OKP && an != 32)) {
		snprintf(why, cap, "a coordinate has the wrong size for curve %s",
			 gw_jwk_crv_name(k->crv));
		return -1;
	}
	if (k->kty == GW_KTY_RSA && an < 256) {
		snprintf(why, cap, "an RSA modulus needs at least 2048 bits, this one has %zu",
			 an * 8);
		return -1;
	}
	if (gnutls_pubkey_init(&out->pub) < 0) {
		out->pub = NULL;
		snprintf(why, cap, "out of memory");
		return -1;
	}
	da = (gnutls_datum_t){ a, (unsigned)an };
	db = (gnutls_datum_t){ b, (unsigned)bn };
	if (k->kty == GW_KTY_RSA)
		rc = gnutls_pubkey_import_rsa_raw(out->pub, &da, &db);
	else if (k->kty == GW_KTY_EC)
		rc = gnutls_pubkey_import_ecc_raw(out->pub, k->crv == GW_CRV_P256
					? GNUTLS_ECC_CURVE_SECP256R1 : GNUTLS_ECC_CURVE_SECP384R1, &da, &db);
	else
		rc = gnutls_pubkey_import_ecc_raw(out->pub, GNUTLS_ECC_CURVE_ED25519, &da, NULL);
	if (rc < 0) {
		snprintf(why, cap, "GnuTLS refuses the key: %s", gnutls_strerror(rc));
		gnutls_pubkey_deinit(out->pub);
		out->pub = NULL;
		return -1;
	}
	return 0;
}

void gw_jwk_key_free(struct gw_jwk_key *k)
{
	if (k->pub)
		gnutls_pubkey_deinit(k->pub);
	k->pub = NULL;
	free(k->secret);
	k->secret = NULL;
	k->secret_len = 0;
}

/* ECDSA: JOSE's r||s (two halves of <n> bytes each) into DER for GnuTLS,
 * then verify.  0 / -1. */
static int verify_ecdsa(const struct gw_jwk_key *k, gnutls_sign_algorithm_t sa,
			const gnutls_datum_t *data, const uint8_t *sig, size_t siglen, size_t n)
{
	gnutls_datum_t r, s, der = { NULL, 0 };
	size_t ro = 0, so = 0;
	int rc;

	if (siglen != 2 * n)
		return -1;
	/* minimal integers: DER has no leading zero bytes */
	while (ro + 1 < n && sig[ro] == 0)
		ro++;
	while (so + 1 < n && sig[n + so] == 0)
		so++;
	r = (gnutls_datum_t){ (unsigned char *)sig + ro, (unsigned)(n - ro) };
	s = (gnutls_datum_t){ (unsigned char *)sig + n + so, (unsigned)(n - so) };
	if (gnutls_encode_rs_value(&der, &r, &s) < 0)
		return -1;
	rc = gnutls_pubkey_verify_data2(k->pub, sa, 0, data, &der);
	gnutls_free(der.data);
	return rc < 0 ? -1 : 0;
}

int gw_jwk_verify(const struct gw_jwk_key *k, unsigned alg, const void *data, size_t len,
		  const uint8_t *sig, size_t siglen)
{
	gnutls_datum_t d = { (unsigned char *)data, (unsigned)len };
	gnutls_datum_t sd = { (unsigned char *)sig, (unsigned)siglen };
	gnutls_sign_algorithm_t sa;
	gnutls_mac_algorithm_t mac;
	uint8_t out[64];
	size_t mlen;

	/* the key's own list decides, never the token: an HS algorithm is never
	 * tried with a public key's bytes (RFC 8725 3.1) */
	if (!(k->algs & alg) || len > UINT32_MAX)
		return -1;
	switch (alg) {
	case GW_JWA_HS256: mac = GNUTLS_MAC_SHA256; mlen = 32; goto hmac;
	case GW_JWA_HS384: mac = GNUTLS_MAC_SHA384; mlen = 48; goto hmac;
	case GW_JWA_HS512: mac = GNUTLS_MAC_SHA512; mlen = 64; goto hmac;
	case GW_JWA_RS256: sa = GNUTLS_SIGN_RSA_SHA256; break;
	case GW_JWA_RS384: sa = GNUTLS_SIGN_RSA_SHA384; break;
	case GW_JWA_RS512: sa = GNUTLS_SIGN_RSA_SHA512; break;
	case GW_JWA_PS256: sa = GNUTLS_SIGN_RSA_PSS_RSAE_SHA256; break;
	case GW_JWA_PS384: sa = GNUTLS_SIGN_RSA_PSS_RSAE_SHA384; break;
	case GW_JWA_PS512: sa = GNUTLS_SIGN_RSA_PSS_RSAE_SHA512; break;
	case GW_JWA_ES256:
		return k->pub ? verify_ecdsa(k, GNUTLS_SIGN_ECDSA_SHA256, &d, sig, siglen, 32) : -1;
	case GW_JWA_ES384:
		return k->pub ? verify_ecdsa(k, GNUTLS_SIGN_ECDSA_SHA384, &d, sig, siglen, 48) : -1;
	case GW_JWA_EDDSA: sa = GNUTLS_SIGN_EDDSA_ED25519; break;
	default:
		return -1;
	}
	if (!k->pub)
		return -1;
	return gnutls_pubkey_verify_data2(k->pub, sa, 0, &d, &sd) < 0 ? -1 : 0;
hmac:
	/* RFC 7518 3.2: a key at least as long as the hash */
	if (!k->secret || k->secret_len < mlen || siglen != mlen ||
	    gnutls_hmac_fast(mac, k->secret, k->secret_len, data, len, out) < 0)
		return -1;
	return gnutls_memcmp(out, sig, mlen) == 0 ? 0 : -1;
}
