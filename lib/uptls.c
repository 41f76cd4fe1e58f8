/* The files of an HTTPS upstream, read and checked with GnuTLS (uptls.h). */
#include "lib/uptls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

int gw_uptls_read(const char *path, unsigned char **out, size_t *len, char *why, size_t whylen)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "cannot read %s: not a regular file", path);
		goto fail;
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > GW_UPTLS_MAX_FILE) {
		snprintf(why, whylen, "%s: %s", path,
			 st.st_size ? "larger than 1 MiB" : "empty file");
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(why, whylen, "%s: out of memory", path);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(why, whylen, "cannot read %s: %s", path,
				 r < 0 ? strerror(errno) : "file shrank while read");
			goto fail;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	*out = buf;
	*len = got;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

int gw_uptls_check_ca(const unsigned char *p, size_t len, char *why, size_t whylen)
{
	gnutls_datum_t d = { (unsigned char *)p, (unsigned)len };
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int rc;

	if (len > GW_UPTLS_MAX_FILE)
		len = GW_UPTLS_MAX_FILE;
	rc = gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || n == 0) {
		snprintf(why, whylen, "not a PEM certificate bundle (%s)",
			 rc < 0 ? gnutls_strerror(rc) : "no certificate");
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return (int)n;
}

int gw_uptls_check_pair(const unsigned char *cert, size_t cert_len, const unsigned char *key,
			size_t key_len, char *why, size_t whylen)
{
	gnutls_datum_t c = { (unsigned char *)cert, (unsigned)cert_len };
	gnutls_datum_t k = { (unsigned char *)key, (unsigned)key_len };
	gnutls_certificate_credentials_t cred;
	int rc;

	if (cert_len > GW_UPTLS_MAX_FILE || key_len > GW_UPTLS_MAX_FILE) {
		snprintf(why, whylen, "file larger than 1 MiB");
		return -1;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	rc = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		snprintf(why, whylen, "the key does not belong to the certificate");
		return -1;
	}
	if (rc < 0) {
		snprintf(why, whylen, "not a PEM certificate and unencrypted PEM key (%s)",
			 gnutls_strerror(rc));
		return -1;
	}
	return 0;
}
