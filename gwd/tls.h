/* TLS settings: the PEM certificate chain and key read at start, and the
 * GnuTLS priority string libmicrohttpd hands to GnuTLS.
 *
 * The default priority allows TLS 1.3 and 1.2 only, with AEAD ciphers only
 * (AES-GCM, ChaCha20-Poly1305; no CBC, no RC4, no 3DES), forward-secret key
 * exchange only (ECDHE; TLS 1.3's groups), and no compression:
 *
 *   GWD_TLS_PRIORITIES below; `gnutls-cli --priority '...' -l` lists what it
 *   expands to.
 */
#ifndef GWD_TLS_H
#define GWD_TLS_H

#include <stddef.h>

#define GWD_TLS_PRIORITIES                                                         \
	"SECURE256:+SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"    \
	"+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:"     \
	"+ECDHE-ECDSA:+ECDHE-RSA:-COMP-ALL:%SAFE_RENEGOTIATION"

struct gwd_tls {
	char *cert; /* PEM, NUL-terminated (malloc'd) */
	char *key;
};

/* Read <cert_path> and <key_path> into <t> and check that GnuTLS accepts them
 * as a pair.  Returns 0, or -1 with a one-line reason in <why>. */
int gwd_tls_load(struct gwd_tls *t, const char *cert_path, const char *key_path, char *why,
		 size_t whylen);

/* Wipe and free <t>'s contents (the key is secret). */
void gwd_tls_free(struct gwd_tls *t);

/* Whether GnuTLS accepts <prio>. Returns 1 or 0. */
int gwd_tls_priorities_ok(const char *prio);

#endif
