/* TLS material (tls.h).  The files are read once, at start: a certificate
 * renewal needs a restart (a reload swaps only the blob). */
#include "gwd/tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read all of <path> into a NUL-terminated malloc'd buffer (at most 1 MiB).
 * Returns it, or NULL with errno set. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > 1024 * 1024 + 8192) {
				errno = EFBIG;
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		size_t k = fread(buf + n, 1, 4096, f);

		n += k;
		if (k < 4096) {
			if (ferror(f))
				goto fail;
			break;
		}
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

int gwd_tls_load(struct gwd_tls *t, const char *cert_path, const char *key_path, char *why,
		 size_t whylen)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t c, k;
	int rc;

	memset(t, 0, sizeof *t);
	t->cert = read_file(cert_path);
	if (!t->cert) {
		snprintf(why, whylen, "%s: %s", cert_path, strerror(errno));
		goto fail;
	}
	t->key = read_file(key_path);
	if (!t->key) {
		snprintf(why, whylen, "%s: %s", key_path, strerror(errno));
		goto fail;
	}
	/* check the pair now, so a bad file fails the start with a clear message
	 * rather than every handshake */
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(why, whylen, "out of memory");
		goto fail;
	}
	c.data = (unsigned char *)t->cert;
	c.size = (unsigned)strlen(t->cert);
	k.data = (unsigned char *)t->key;
	k.size = (unsigned)strlen(t->key);
	rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0) {
		snprintf(why, whylen, "%s / %s: %s", cert_path, key_path, gnutls_strerror(rc));
		goto fail;
	}
	return 0;
fail:
	gwd_tls_free(t);
	return -1;
}

void gwd_tls_free(struct gwd_tls *t)
{
	if (t->key) {
		explicit_bzero(t->key, strlen(t->key));
		free(t->key);
	}
	free(t->cert);
	t->cert = NULL;
	t->key = NULL;
}

int gwd_tls_priorities_ok(const char *prio)
{
	gnutls_priority_t p;
	const char *err = NULL;

	if (gnutls_priority_init(&p, prio, &err) < 0)
		return 0;
	gnutls_priority_deinit(p);
	return 1;
}
