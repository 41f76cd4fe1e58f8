/* The files of an HTTPS upstream (docs/routes.md, "tls"): a CA bundle, a
 * client certificate and its key, all PEM.
 *
 * gwc checks them when it compiles (so that a route file naming a missing or
 * broken file is refused with its place), and gwd reads them again at every
 * load and reload and keeps the bytes for the generation; both go through
 * these functions, so that what gwc accepts gwd accepts.  The blob stores
 * only the paths (UPTLS, docs/blob-format.md): no key material is copied
 * into it.
 */
#ifndef GW_UPTLS_H
#define GW_UPTLS_H

#include <stddef.h>

#define GW_UPTLS_MAX_FILE (1024u * 1024u) /* a PEM file larger is refused */

/* Read regular file <path> whole into <*out> (malloc'd, NUL-terminated,
 * <*len> bytes without the NUL; the caller frees it).  Returns 0, or -1 with
 * the reason in <why> (not readable, not a regular file, empty, over
 * GW_UPTLS_MAX_FILE). */
int gw_uptls_read(const char *path, unsigned char **out, size_t *len, char *why, size_t whylen);

/* Check <len> bytes at <p> as a PEM bundle of CA certificates.  Returns the
 * number of certificates (>= 1), or -1 with the reason in <why>. */
int gw_uptls_check_ca(const unsigned char *p, size_t len, char *why, size_t whylen);

/* Check a PEM certificate (chain) and its unencrypted PEM private key as a
 * pair.  Returns 0, or -1 with the reason in <why> (neither names nor quotes
 * the key's bytes). */
int gw_uptls_check_pair(const unsigned char *cert, size_t cert_len, const unsigned char *key,
			size_t key_len, char *why, size_t whylen);

#endif
