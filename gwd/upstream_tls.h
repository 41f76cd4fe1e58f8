/* HTTPS upstreams: an upstream's `tls` settings (UPTLS, docs/blob-format.md)
 * made ready for libcurl, once per blob generation.
 *
 * The CA bundle, the client certificate and its key are read when the
 * generation is built (start, SIGHUP, `gwd --check`) and checked with GnuTLS
 * (lib/uptls.h); a file that cannot be read or is not what it should be
 * refuses the generation (a reload then leaves the old one serving).  The
 * bytes read are what every connection of the generation uses, whatever
 * happens to the files afterwards: libcurl 7.88 with GnuTLS takes no
 * CURLOPT_CAINFO_BLOB (CURLE_NOT_BUILT_IN) and ignores the SSLCERT/SSLKEY
 * blobs, so the bytes go into sealed memory files (memfd_create) that
 * libcurl opens by their /proc/self/fd/N name at each handshake.
 *
 *   struct gwd_upstream_tls (one per tls upstream and generation)
 *      verify, memfds (CA, cert, key) and their names
 *      t[j]: per target "https://NAME:PORT" and, when server_name is set,
 *            the CONNECT_TO line that sends NAME:PORT to the target's address
 *
 * gwd_upstream_tls_apply is the one place that gives an easy handle these
 * settings: the proxy engine, the health checker and any other client of
 * an upstream (a WebSocket relay, with CURLOPT_CONNECT_ONLY) call it.
 */
#ifndef GWD_UPSTREAM_TLS_H
#define GWD_UPSTREAM_TLS_H

#include <stdint.h>
#include <curl/curl.h>
#include "lib/blob.h"

struct gwd_upstream_tls;
struct gwd_upstream_state;

/* Read and check the files of upstream <u> of <b> (u->cfg.tls, not GW_NONE)
 * and prepare its targets (u->t[j].hostport).  Returns 0 with <*out> (free
 * with gwd_upstream_tls_free), or -1 with the reason in <why> (which file,
 * and what is wrong with it). */
int gwd_upstream_tls_load(const struct gw_blob *b, const struct gwd_upstream_state *u,
			  struct gwd_upstream_tls **out, char *why, size_t whylen);

/* Free <t> (NULL is ignored) and close its memory files. */
void gwd_upstream_tls_free(struct gwd_upstream_tls *t);

/* Give easy handle <e> the settings of <t> for its target <target>: the
 * URL "https://NAME:PORT" (authority only: callers that send a path set
 * CURLOPT_REQUEST_TARGET, or set CURLOPT_URL again to the same authority
 * with a path), https only, SNI and verification against NAME (server_name,
 * else the target's host) while connecting to the target, verification on
 * or off, the CA bundle (else the system store), the client certificate,
 * and <share> (may be NULL) for TLS session resumption.  Returns 0, or -1
 * when libcurl refuses an option. */
int gwd_upstream_tls_apply(CURL *e, struct gwd_upstream_tls *t, uint32_t target,
			   CURLSH *share);

/* The URL authority of <target> under <t>: "https://NAME:PORT". */
const char *gwd_upstream_tls_url(const struct gwd_upstream_tls *t, uint32_t target);

/* What went wrong in a transfer of <e> to a TLS upstream that ended with
 * <rc>, for a problem detail: "certificate not trusted", "certificate name
 * mismatch", "certificate expired", "certificate not yet valid", "TLS
 * handshake failed", or NULL when <rc> is no TLS failure.  <errbuf> is
 * libcurl's error buffer of the transfer (may be NULL).  A static string. */
const char *gwd_upstream_tls_failure(CURL *e, CURLcode rc, const char *errbuf);

#endif
