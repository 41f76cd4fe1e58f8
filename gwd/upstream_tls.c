/* HTTPS upstreams: the files read per generation, the settings given to an
 * easy handle, and TLS failures named (see upstream_tls.h). */
#include "gwd/upstream_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "gwd/upstream.h"
#include "lib/uptls.h"

enum { F_CA, F_CERT, F_KEY, F_N };

struct tls_target {
	struct curl_slist connect_to; /* NAME:PORT:HOST:PORT, or unused */
	char line[2 * GWD_HOSTPORT_MAX + 8];
	char url[GWD_HOSTPORT_MAX + 16];
};

struct gwd_upstream_tls {
	uint8_t verify;
	uint8_t named;                /* server_name set: CONNECT_TO */
	int fd[F_N];                  /* memory files; -1: none */
	char path[F_N][40];           /* "/proc/self/fd/N" */
	uint32_t n;
	struct tls_target t[];
};

void gwd_upstream_tls_free(struct gwd_upstream_tls *t)
{
	if (!t)
		return;
	for (int i = 0; i < F_N; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
	free(t);
}

/* <fd> moved to a descriptor number not used by a memory file lately, or
 * <fd> itself when none can be had.  libcurl keeps a connection for reuse
 * only while the CA and certificate file names of a transfer match the ones
 * it was opened with; the names are "/proc/self/fd/N", so a generation that
 * got the number of a freed one could otherwise be handed a connection that
 * was verified with the older files.  Numbers go round from 64 up to 4096
 * (or the descriptor limit): reused only after thousands of memory files,
 * long after an idle connection has been dropped. */
static int fresh_number(int fd)
{
	static _Atomic unsigned next;
	struct rlimit rl;
	rlim_t top;
	int moved;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return fd;
	/* the kernel sizes a process's descriptor table to its highest
	 * number: not past 4096 */
	top = rl.rlim_cur < 4096 ? rl.rlim_cur : 4096;
	if (top < 64 + 256)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC,
		      (int)(64 + atomic_fetch_add(&next, 1) % (unsigned)(top - 64)));
	if (moved < 0)
		return fd;
	close(fd);
	return moved;
}

/* <len> bytes at <p> into a new sealed memory file of <t> as file <k>, so
 * that libcurl reads these bytes whatever becomes of the file on disk.
 * 0, or -1 with <why>. */
static int to_memfd(struct gwd_upstream_tls *t, int k, const unsigned char *p, size_t len,
		    char *why, size_t whylen)
{
	static const char *const names[F_N] = { "gwd-upstream-ca", "gwd-upstream-cert",
						 "gwd-upstream-key" };
	size_t done = 0;
	int fd = memfd_create(names[k], MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0) {
		snprintf(why, whylen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(why, whylen, "memfd write: %s", strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	/* nobody, this process included, changes them afterwards */
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
	t->fd[k] = fresh_number(fd);
	snprintf(t->path[k], sizeof t->path[k], "/proc/self/fd/%d", t->fd[k]);
	return 0;
}

/* Read <path>, check it (a CA bundle for F_CA; F_CERT and F_KEY are checked
 * as a pair by the caller) and keep it as file <k> of <t>; the bytes read
 * stay in <*keep> for the caller (freed by it).  0, or -1 with <why>. */
static int take(struct gwd_upstream_tls *t, int k, const struct gw_str *path,
		unsigned char **keep, size_t *len, char *why, size_t whylen)
{
	char r[300];

	if (gw_uptls_read(path->p, keep, len, why, whylen))
		return -1;
	if (k == F_CA && gw_uptls_check_ca(*keep, *len, r, sizeof r) < 0) {
		snprintf(why, whylen, "%s: %s", path->p, r);
		return -1;
	}
	return to_memfd(t, k, *keep, *len, why, whylen);
}

/* The files of <cfg> into <t>.  0, or -1 with <why>. */
static int load_files(struct gwd_upstream_tls *t, const struct gw_uptls *cfg, char *why,
		      size_t whylen)
{
	unsigned char *ca = NULL, *cert = NULL, *key = NULL;
	size_t calen = 0, certlen = 0, keylen = 0;
	char r[200];
	int rc = -1;

	if (cfg->ca_file.len && take(t, F_CA, &cfg->ca_file, &ca, &calen, why, whylen))
		goto out;
	if (cfg->cert.len) {
		if (take(t, F_CERT, &cfg->cert, &cert, &certlen, why, whylen) ||
		    take(t, F_KEY, &cfg->key, &key, &keylen, why, whylen))
			goto out;
		if (gw_uptls_check_pair(cert, certlen, key, keylen, r, sizeof r)) {
			snprintf(why, whylen, "%s with key %s: %s", cfg->cert.p, cfg->key.p, r);
			goto out;
		}
	}
	rc = 0;
out:
	if (key)
		memset(key, 0, keylen);
	free(key);
	free(cert);
	free(ca);
	return rc;
}

int gwd_upstream_tls_load(const struct gw_blob *b, const struct gwd_upstream_state *u,
			  struct gwd_upstream_tls **out, char *why, size_t whylen)
{
	struct gwd_upstream_tls *t;
	struct gw_uptls cfg;
	char r[600];

	*out = NULL;
	if (gw_blob_uptls(b, u->cfg.tls, &cfg) != 0) {
		snprintf(why, whylen, "upstream %s: tls record missing", u->cfg.name.p);
		return -1;
	}
	t = calloc(1, sizeof *t + (size_t)u->n * sizeof t->t[0]);
	if (!t) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (int i = 0; i < F_N; i++)
		t->fd[i] = -1;
	t->verify = cfg.verify;
	t->named = cfg.server_name.len != 0;
	t->n = u->n;
	if (load_files(t, &cfg, r, sizeof r)) {
		snprintf(why, whylen, "upstream %s: %s", u->cfg.name.p, r);
		gwd_upstream_tls_free(t);
		return -1;
	}
	for (uint32_t j = 0; j < u->n; j++) {
		struct tls_target *x = &t->t[j];
		const char *hp = u->t[j].hostport, *port = strrchr(hp, ':');

		if (t->named) {
			snprintf(x->url, sizeof x->url, "https://%s%s", cfg.server_name.p, port);
			snprintf(x->line, sizeof x->line, "%s%s:%s", cfg.server_name.p, port, hp);
			x->connect_to.data = x->line;
		} else {
			snprintf(x->url, sizeof x->url, "https://%s", hp);
		}
	}
	*out = t;
	return 0;
}

const char *gwd_upstream_tls_url(const struct gwd_upstream_tls *t, uint32_t target)
{
	return target < t->n ? t->t[target].url : "";
}

int gwd_upstream_tls_apply(CURL *e, struct gwd_upstream_tls *t, uint32_t target,
			   CURLSH *share)
{
	CURLcode rc = CURLE_OK;

	if (target >= t->n)
		return -1;
#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, t->t[target].url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	if (t->named)
		SET(CURLOPT_CONNECT_TO, &t->t[target].connect_to);
	SET(CURLOPT_SSL_VERIFYPEER, t->verify ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, t->verify ? 2L : 0L);
	if (t->fd[F_CA] >= 0) {
		/* this bundle alone: not the system store besides */
		SET(CURLOPT_CAINFO, t->path[F_CA]);
		SET(CURLOPT_CAPATH, NULL);
	}
	if (t->fd[F_CERT] >= 0) {
		SET(CURLOPT_SSLCERT, t->path[F_CERT]);
		SET(CURLOPT_SSLCERTTYPE, "PEM");
		SET(CURLOPT_SSLKEY, t->path[F_KEY]);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (share)
		SET(CURLOPT_SHARE, share);
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

const char *gwd_upstream_tls_failure(CURL *e, CURLcode rc, const char *errbuf)
{
	long vr = 0, hs = 0;

	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		/* GnuTLS's verification status (gnutls_certificate_status_t);
		 * libcurl checks the name only once the chain verified, so a
		 * refusal with a clean status is the name's */
		if (curl_easy_getinfo(e, CURLINFO_SSL_VERIFYRESULT, &vr) != CURLE_OK)
			vr = 0;
		if (vr & GNUTLS_CERT_EXPIRED)
			return "certificate expired";
		if (vr & GNUTLS_CERT_NOT_ACTIVATED)
			return "certificate not yet valid";
		if (vr)
			return "certificate not trusted";
		return "certificate name mismatch";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return "TLS handshake failed";
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		/* TLS 1.3: the server judges the client's certificate after the
		 * client's side of the handshake is done; its refusal is an
		 * alert at the first read, or, when the request crossed it, a
		 * reset: a connection opened for this transfer that ends before
		 * any byte of an answer ended in its handshake */
		if (errbuf && strstr(errbuf, "alert"))
			return "TLS handshake failed";
		if (curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &vr) == CURLE_OK && vr > 0 &&
		    curl_easy_getinfo(e, CURLINFO_HEADER_SIZE, &hs) == CURLE_OK && hs == 0)
			return "TLS handshake failed";
		return NULL;
	default:
		return NULL;
	}
}
