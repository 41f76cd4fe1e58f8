/* Loading and reading the compiled blob (blob.h).
 *
 * gw_blob_open() reads the file into memory of gwd's own and hands it to the
 * verifier (lib/blob_verify.c), which checks every byte a later read depends
 * on before the blob is handed out.  After that the accessors below are plain
 * decoders: they check only the index they are given (against the count, so
 * a caller's bug is -1, not a wild read) and read fields through
 * gw_get_u32le() and friends, never by casting the mapping to a struct.
 */
#include "lib/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/blob-t.h"
#include "lib/blob_int.h"
#include "lib/bytes.h"

/* ---- opening ------------------------------------------------------------- */

/* blob.h.  <mem> is borrowed for the life of the blob. */
int gw_blob_open_mem(const void *mem, size_t len, struct gw_blob **out, char *why, size_t whylen)
{
	struct gw_blob *b = calloc(1, sizeof *b);
	int rc;

	*out = NULL;
	if (!b) {
		if (why && whylen)
			snprintf(why, whylen, "out of memory");
		return GW_ENOMEM;
	}
	rc = gw_blob_verify(b, mem, len, why, whylen);
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	return GW_OK;
}

/* blob.h.  On GW_EIO errno says why (EISDIR, EINVAL for other non-regular
 * files, or what open, fstat or mmap said). */
int gw_blob_open(const char *path, struct gw_blob **out, char *why, size_t whylen)
{
	struct gw_blob *b = NULL;
	void *map = MAP_FAILED;
	struct stat st;
	int fd, rc, err;

	*out = NULL;
	if (why && whylen)
		why[0] = '\0';
	/* O_NONBLOCK: a FIFO given by mistake must not hang the open. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = errno;
		rc = gw_explain(why, whylen, GW_EIO, "cannot open: %s", strerror(err));
		errno = err;
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		err = errno;
		rc = gw_explain(why, whylen, GW_EIO, "cannot stat: %s", strerror(err));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = EISDIR;
		rc = gw_explain(why, whylen, GW_EIO, "is a directory");
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		rc = gw_explain(why, whylen, GW_EIO, "not a regular file");
		goto fail;
	}
	err = 0;
	if (st.st_size == 0) {
		rc = gw_explain(why, whylen, GW_ETRUNC, "empty file");
		goto fail;
	}
	if ((uint64_t)st.st_size > UINT32_MAX) {
		rc = gw_explain(why, whylen, GW_ETOOBIG, "%llu bytes, more than the format's 4 GiB",
			 (unsigned long long)st.st_size);
		goto fail;
	}
	/* The bytes are read into memory of our own (an anonymous mapping,
	 * read-only once filled) rather than mapped from the file: the verifier
	 * below vouches for these bytes for as long as the blob is open, and a
	 * file mapping would change under it if the file were rewritten in
	 * place (cp over the served path) -- unverified offsets, or SIGBUS when
	 * it shrinks.  A copy costs the blob's size once per load. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (map == MAP_FAILED) {
		err = errno;
		rc = gw_explain(why, whylen, GW_EIO, "cannot map: %s", strerror(err));
		goto fail;
	}
	for (size_t got = 0; got < (size_t)st.st_size;) {
		ssize_t n = pread(fd, (char *)map + got, (size_t)st.st_size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			rc = gw_explain(why, whylen, GW_EIO, "cannot read: %s", strerror(err));
			goto fail;
		}
		if (n == 0) {
			rc = gw_explain(why, whylen, GW_ETRUNC, "the file shrank while being read (%zu of %lld bytes)",
				 got, (long long)st.st_size);
			goto fail;
		}
		got += (size_t)n;
	}
	if (mprotect(map, (size_t)st.st_size, PROT_READ) != 0) {
		err = errno;
		rc = gw_explain(why, whylen, GW_EIO, "cannot protect: %s", strerror(err));
		goto fail;
	}
	close(fd);
	fd = -1;
	rc = gw_blob_open_mem(map, (size_t)st.st_size, &b, why, whylen);
	if (rc)
		goto fail;
	b->map = map;
	*out = b;
	return GW_OK;
fail:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	if (err)
		errno = err;
	return rc;
}

/* blob.h.  NULL is accepted. */
void gw_blob_close(struct gw_blob *b)
{
	if (!b)
		return;
	if (b->map)
		munmap(b->map, b->len);
	free(b);
}

/* ---- accessors ----------------------------------------------------------- */

/* Header facts (blob.h): read from the verified header. */
const uint8_t *gw_blob_fingerprint(const struct gw_blob *b)
{
	return b->base + GW_BLOB_HDR_FINGERPRINT;
}

uint64_t gw_blob_size(const struct gw_blob *b)
{
	return b->len;
}

unsigned gw_blob_version(const struct gw_blob *b)
{
	return gw_get_u16le(b->base + GW_BLOB_HDR_WRITE_VERSION);
}

uint32_t gw_blob_count(const struct gw_blob *b, unsigned table)
{
	return table < GW_BLOB_NTABLES ? b->t[table].n : 0;
}

/* blob-t.h: the verified sections, for lib/match.c. */
const struct gw_blob_sec *gw_blob_sections(const struct gw_blob *b)
{
	return b->t;
}

/* The record <i> of <t>, or NULL when <i> is past the count. */
static const uint8_t *get(const struct gw_blob *b, unsigned t, uint32_t i)
{
	return i < b->t[t].n ? rec(b, t, i) : NULL;
}

/* The decoders of blob.h: -1 for an index past the count (<out> untouched),
 * else 0 with <out> filled; strings borrow from the blob. */
int gw_blob_file(const struct gw_blob *b, uint32_t i, struct gw_str *out)
{
	const uint8_t *r = get(b, GW_BLOB_FILES, i);

	if (!r)
		return -1;
	*out = str_at(b, r + GW_BLOB_FILE_NAME);
	return 0;
}

int gw_blob_host(const struct gw_blob *b, uint32_t i, struct gw_str *out, uint32_t *root)
{
	const uint8_t *r = get(b, GW_BLOB_HOSTS, i);

	if (!r)
		return -1;
	*out = str_at(b, r + GW_BLOB_HOST_NAME);
	*root = gw_get_u32le(r + GW_BLOB_HOST_ROOT);
	return 0;
}

int gw_blob_node(const struct gw_blob *b, uint32_t i, struct gw_trie_node *out)
{
	const uint8_t *r = get(b, GW_BLOB_NODES, i);
	uint32_t end;

	if (!r)
		return -1;
	end = i + 1 < b->t[GW_BLOB_NODES].n
		      ? gw_get_u32le(r + GW_BLOB_NODE_SIZE + GW_BLOB_NODE_LIT_FIRST)
		      : b->t[GW_BLOB_EDGES].n;
	out->lit_first = gw_get_u32le(r + GW_BLOB_NODE_LIT_FIRST);
	out->lit_count = end - out->lit_first;
	out->param_child = gw_get_u32le(r + GW_BLOB_NODE_PARAM_CHILD);
	out->route_first = gw_get_u32le(r + GW_BLOB_NODE_ROUTE_FIRST);
	out->term_count = r[GW_BLOB_NODE_TERM_COUNT];
	out->wild_count = r[GW_BLOB_NODE_WILD_COUNT];
	return 0;
}

int gw_blob_edge(const struct gw_blob *b, uint32_t i, struct gw_trie_edge *out)
{
	const uint8_t *r = get(b, GW_BLOB_EDGES, i);

	if (!r)
		return -1;
	out->label = str_at(b, r + GW_BLOB_EDGE_LABEL);
	out->child = gw_get_u32le(r + GW_BLOB_EDGE_CHILD);
	return 0;
}

int gw_blob_route(const struct gw_blob *b, uint32_t i, struct gw_route *out)
{
	const uint8_t *r = get(b, GW_BLOB_ROUTES, i), *a;

	if (!r)
		return -1;
	a = rec(b, GW_BLOB_RATTRS, gw_get_u32le(r + GW_BLOB_ROUTE_ATTRS));
	out->name = str_at(b, r + GW_BLOB_ROUTE_NAME);
	out->pattern = str_at(b, r + GW_BLOB_ROUTE_PATTERN);
	out->place = place_at(r + GW_BLOB_ROUTE_PLACE);
	out->host = gw_get_u32le(a + GW_BLOB_RATTR_HOST);
	out->methods = gw_get_u16le(a + GW_BLOB_RATTR_METHODS);
	out->handler = a[GW_BLOB_RATTR_HANDLER];
	out->nparams = a[GW_BLOB_RATTR_NPARAMS];
	out->websocket = a[GW_BLOB_RATTR_WEBSOCKET];
	out->handler_index = gw_get_u32le(a + GW_BLOB_RATTR_HANDLER_INDEX);
	out->pol_first = gw_get_u32le(a + GW_BLOB_RATTR_POL_FIRST);
	out->pol_count = gw_get_u16le(a + GW_BLOB_RATTR_POL_COUNT);
	return 0;
}

int gw_blob_respond(const struct gw_blob *b, uint32_t i, struct gw_respond *out)
{
	const uint8_t *r = get(b, GW_BLOB_RESPONDS, i);

	if (!r)
		return -1;
	out->status = gw_get_u16le(r + GW_BLOB_RESPOND_STATUS);
	out->hdr_first = gw_get_u32le(r + GW_BLOB_RESPOND_HDR_FIRST);
	out->hdr_count = gw_get_u32le(r + GW_BLOB_RESPOND_HDR_COUNT);
	out->body_first = gw_get_u32le(r + GW_BLOB_RESPOND_BODY_FIRST);
	out->body_count = gw_get_u32le(r + GW_BLOB_RESPOND_BODY_COUNT);
	return 0;
}

int gw_blob_proxy(const struct gw_blob *b, uint32_t i, struct gw_proxy *out)
{
	const uint8_t *r = get(b, GW_BLOB_PROXIES, i);

	if (!r)
		return -1;
	out->upstream = gw_get_u32le(r + GW_BLOB_PROXY_UPSTREAM);
	out->rewrite_first = gw_get_u32le(r + GW_BLOB_PROXY_REWRITE_FIRST);
	out->rewrite_count = gw_get_u32le(r + GW_BLOB_PROXY_REWRITE_COUNT);
	out->strip_prefix = str_at(b, r + GW_BLOB_PROXY_STRIP_PREFIX);
	return 0;
}

int gw_blob_tpl(const struct gw_blob *b, uint32_t i, struct gw_tpl *out)
{
	const uint8_t *r = get(b, GW_BLOB_TPLS, i);

	if (!r)
		return -1;
	out->kind = r[GW_BLOB_TPL_KIND];
	out->mode = r[GW_BLOB_TPL_MODE];
	out->param = gw_get_u16le(r + GW_BLOB_TPL_PARAM);
	out->text = str_at(b, r + GW_BLOB_TPL_TEXT);
	out->alt = str_at(b, r + GW_BLOB_TPL_ALT);
	return 0;
}

int gw_blob_header(const struct gw_blob *b, uint32_t i, struct gw_header *out)
{
	const uint8_t *r = get(b, GW_BLOB_HEADERS, i);

	if (!r)
		return -1;
	out->name = str_at(b, r + GW_BLOB_HEADER_NAME);
	out->value = str_at(b, r + GW_BLOB_HEADER_VALUE);
	return 0;
}

int gw_blob_strlist(const struct gw_blob *b, uint32_t i, struct gw_str *out)
{
	const uint8_t *r = get(b, GW_BLOB_STRLIST, i);

	if (!r)
		return -1;
	*out = str_at(b, r + GW_BLOB_STRLIST_STR);
	return 0;
}

int gw_blob_polref(const struct gw_blob *b, uint32_t i, uint32_t *out)
{
	const uint8_t *r = get(b, GW_BLOB_POLREFS, i);

	if (!r)
		return -1;
	*out = gw_get_u32le(r + GW_BLOB_POLREF_POLICY);
	return 0;
}

int gw_blob_policy(const struct gw_blob *b, uint32_t i, struct gw_policy *out)
{
	const uint8_t *r = get(b, GW_BLOB_POLICIES, i);

	if (!r)
		return -1;
	out->name = str_at(b, r + GW_BLOB_POLICY_NAME);
	out->kind = r[GW_BLOB_POLICY_KIND];
	out->count = gw_get_u16le(r + GW_BLOB_POLICY_COUNT);
	out->index = gw_get_u32le(r + GW_BLOB_POLICY_INDEX);
	out->ident = gw_get_u64le(r + GW_BLOB_POLICY_IDENT);
	out->place = place_at(r + GW_BLOB_POLICY_PLACE);
	return 0;
}

int gw_blob_ratelimit(const struct gw_blob *b, uint32_t i, struct gw_ratelimit *out)
{
	const uint8_t *r = get(b, GW_BLOB_RATELIMITS, i);

	if (!r)
		return -1;
	out->name = str_at(b, r + GW_BLOB_RL_NAME);
	out->key = r[GW_BLOB_RL_KEY];
	out->headers = r[GW_BLOB_RL_HEADERS];
	out->scope = r[GW_BLOB_RL_SCOPE];
	out->on_store_error = r[GW_BLOB_RL_ONERR];
	out->header = str_at(b, r + GW_BLOB_RL_HEADER);
	out->quota = gw_get_u32le(r + GW_BLOB_RL_QUOTA);
	out->period_ms = gw_get_u32le(r + GW_BLOB_RL_PERIOD_MS);
	out->burst = gw_get_u32le(r + GW_BLOB_RL_BURST);
	out->max_keys = gw_get_u32le(r + GW_BLOB_RL_MAX_KEYS);
	return 0;
}

/* The record of sparse table <t> for record <owner> of the table it hangs
 * from, or GW_NONE: JWTS (of AUTHS), UPTLS and UPWS (of UPSTREAMS) hold at
 * most one record per owner, in the owners' order, the u32 owner index at
 * <off>.  A binary search: the verifier saw the indexes increase. */
static uint32_t by_owner(const struct gw_blob *b, unsigned t, size_t off, uint32_t owner)
{
	uint32_t lo = 0, hi = b->t[t].n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint32_t u = gw_get_u32le(rec(b, t, mid) + off);

		if (u == owner)
			return mid;
		if (u < owner)
			lo = mid + 1;
		else
			hi = mid;
	}
	return GW_NONE;
}

int gw_blob_auth(const struct gw_blob *b, uint32_t i, struct gw_auth *out)
{
	const uint8_t *r = get(b, GW_BLOB_AUTHS, i);

	if (!r)
		return -1;
	out->type = r[GW_BLOB_AUTH_TYPE];
	out->header = str_at(b, r + GW_BLOB_AUTH_HEADER);
	out->user_header = str_at(b, r + GW_BLOB_AUTH_USER_HEADER);
	out->jwt = GW_NONE;
	if (out->type == GW_AUTH_JWT)
		out->jwt = by_owner(b, GW_BLOB_JWTS, GW_BLOB_JWT_AUTH, i);
	return 0;
}

int gw_blob_jwt(const struct gw_blob *b, uint32_t i, struct gw_jwt *out)
{
	const uint8_t *r = get(b, GW_BLOB_JWTS, i);

	if (!r)
		return -1;
	out->auth = gw_get_u32le(r + GW_BLOB_JWT_AUTH);
	out->algs = gw_get_u16le(r + GW_BLOB_JWT_ALGS);
	out->scope_any = r[GW_BLOB_JWT_SCOPE_ANY];
	out->forward_auth = r[GW_BLOB_JWT_FORWARD_AUTH];
	out->issuer = str_at(b, r + GW_BLOB_JWT_ISSUER);
	out->aud_first = gw_get_u32le(r + GW_BLOB_JWT_AUD_FIRST);
	out->aud_count = gw_get_u32le(r + GW_BLOB_JWT_AUD_FIRST + 4);
	out->scope_first = gw_get_u32le(r + GW_BLOB_JWT_SCOPE_FIRST);
	out->scope_count = gw_get_u32le(r + GW_BLOB_JWT_SCOPE_FIRST + 4);
	out->has_first = gw_get_u32le(r + GW_BLOB_JWT_HAS_FIRST);
	out->has_count = gw_get_u32le(r + GW_BLOB_JWT_HAS_FIRST + 4);
	out->eq_first = gw_get_u32le(r + GW_BLOB_JWT_EQ_FIRST);
	out->eq_count = gw_get_u32le(r + GW_BLOB_JWT_EQ_FIRST + 4);
	out->hdr_first = gw_get_u32le(r + GW_BLOB_JWT_HDR_FIRST);
	out->hdr_count = gw_get_u32le(r + GW_BLOB_JWT_HDR_FIRST + 4);
	out->key_first = gw_get_u32le(r + GW_BLOB_JWT_KEY_FIRST);
	out->key_count = gw_get_u32le(r + GW_BLOB_JWT_KEY_FIRST + 4);
	out->cookie = str_at(b, r + GW_BLOB_JWT_COOKIE);
	out->realm = str_at(b, r + GW_BLOB_JWT_REALM);
	out->jwks_url = str_at(b, r + GW_BLOB_JWT_JWKS_URL);
	out->leeway_s = gw_get_u32le(r + GW_BLOB_JWT_LEEWAY_S);
	out->refresh_min_s = gw_get_u32le(r + GW_BLOB_JWT_REFRESH_MIN_S);
	out->refresh_max_s = gw_get_u32le(r + GW_BLOB_JWT_REFRESH_MAX_S);
	out->refetch_s = gw_get_u32le(r + GW_BLOB_JWT_REFETCH_S);
	return 0;
}

int gw_blob_jwk(const struct gw_blob *b, uint32_t i, struct gw_jwk *out)
{
	const uint8_t *r = get(b, GW_BLOB_JWKEYS, i);

	if (!r)
		return -1;
	out->kid = str_at(b, r + GW_BLOB_JWK_KID);
	out->kty = r[GW_BLOB_JWK_KTY];
	out->crv = r[GW_BLOB_JWK_CRV];
	out->algs = gw_get_u16le(r + GW_BLOB_JWK_ALGS);
	out->a = str_at(b, r + GW_BLOB_JWK_A);
	out->b = str_at(b, r + GW_BLOB_JWK_B);
	return 0;
}

int gw_blob_body_limit(const struct gw_blob *b, uint32_t i, uint64_t *out)
{
	const uint8_t *r = get(b, GW_BLOB_BODYLIMITS, i);

	if (!r)
		return -1;
	*out = gw_get_u64le(r + GW_BLOB_BODYLIMIT_BYTES);
	return 0;
}

int gw_blob_cors(const struct gw_blob *b, uint32_t i, struct gw_cors *out)
{
	const uint8_t *r = get(b, GW_BLOB_CORS, i);

	if (!r)
		return -1;
	out->origin_first = gw_get_u32le(r + GW_BLOB_CORS_ORIGIN_FIRST);
	out->origin_count = gw_get_u32le(r + GW_BLOB_CORS_ORIGIN_COUNT);
	out->methods = gw_get_u16le(r + GW_BLOB_CORS_METHODS);
	out->credentials = r[GW_BLOB_CORS_CREDENTIALS];
	out->allow_headers = str_at(b, r + GW_BLOB_CORS_ALLOW_HEADERS);
	out->expose_headers = str_at(b, r + GW_BLOB_CORS_EXPOSE_HEADERS);
	out->max_age_s = gw_get_u32le(r + GW_BLOB_CORS_MAX_AGE_S);
	return 0;
}

int gw_blob_hdrpol(const struct gw_blob *b, uint32_t i, struct gw_hdrpol *out)
{
	const uint8_t *r = get(b, GW_BLOB_HDRPOLS, i);

	if (!r)
		return -1;
	out->req_add_first = gw_get_u32le(r + GW_BLOB_HDRPOL_REQ_ADD_FIRST);
	out->req_add_count = gw_get_u32le(r + GW_BLOB_HDRPOL_REQ_ADD_COUNT);
	out->req_del_first = gw_get_u32le(r + GW_BLOB_HDRPOL_REQ_DEL_FIRST);
	out->req_del_count = gw_get_u32le(r + GW_BLOB_HDRPOL_REQ_DEL_COUNT);
	out->resp_add_first = gw_get_u32le(r + GW_BLOB_HDRPOL_RESP_ADD_FIRST);
	out->resp_add_count = gw_get_u32le(r + GW_BLOB_HDRPOL_RESP_ADD_COUNT);
	out->resp_del_first = gw_get_u32le(r + GW_BLOB_HDRPOL_RESP_DEL_FIRST);
	out->resp_del_count = gw_get_u32le(r + GW_BLOB_HDRPOL_RESP_DEL_COUNT);
	return 0;
}

int gw_blob_ipfilter(const struct gw_blob *b, uint32_t i, struct gw_ipfilter *out)
{
	const uint8_t *r = get(b, GW_BLOB_IPFILTERS, i);

	if (!r)
		return -1;
	out->allow_first = gw_get_u32le(r + GW_BLOB_IPF_ALLOW_FIRST);
	out->allow_count = gw_get_u32le(r + GW_BLOB_IPF_ALLOW_COUNT);
	out->deny_first = gw_get_u32le(r + GW_BLOB_IPF_DENY_FIRST);
	out->deny_count = gw_get_u32le(r + GW_BLOB_IPF_DENY_COUNT);
	return 0;
}

int gw_blob_cidr(const struct gw_blob *b, uint32_t i, struct gw_cidr *out)
{
	const uint8_t *r = get(b, GW_BLOB_CIDRS, i);

	if (!r)
		return -1;
	out->family = r[GW_BLOB_CIDR_FAMILY];
	out->prefix = r[GW_BLOB_CIDR_PREFIX];
	memcpy(out->addr, r + GW_BLOB_CIDR_ADDR, sizeof out->addr);
	return 0;
}

int gw_blob_upstream(const struct gw_blob *b, uint32_t i, struct gw_upstream *out)
{
	const uint8_t *r = get(b, GW_BLOB_UPSTREAMS, i);
	uint32_t ws;

	if (!r)
		return -1;
	out->name = str_at(b, r + GW_BLOB_UP_NAME);
	out->tgt_first = gw_get_u32le(r + GW_BLOB_UP_TGT_FIRST);
	out->tgt_count = gw_get_u32le(r + GW_BLOB_UP_TGT_COUNT);
	out->balance = r[GW_BLOB_UP_BALANCE];
	out->hash_key = r[GW_BLOB_UP_HASH_KEY];
	out->hash_header = str_at(b, r + GW_BLOB_UP_HASH_HEADER);
	out->connect_timeout_ms = gw_get_u32le(r + GW_BLOB_UP_CONNECT_TIMEOUT_MS);
	out->timeout_ms = gw_get_u32le(r + GW_BLOB_UP_TIMEOUT_MS);
	out->max_conns = gw_get_u32le(r + GW_BLOB_UP_MAX_CONNS);
	out->retries = gw_get_u32le(r + GW_BLOB_UP_RETRIES);
	out->hc_path = str_at(b, r + GW_BLOB_UP_HC_PATH);
	out->hc_interval_ms = gw_get_u32le(r + GW_BLOB_UP_HC_INTERVAL_MS);
	out->hc_timeout_ms = gw_get_u32le(r + GW_BLOB_UP_HC_TIMEOUT_MS);
	out->hc_healthy = gw_get_u16le(r + GW_BLOB_UP_HC_HEALTHY);
	out->hc_unhealthy = gw_get_u16le(r + GW_BLOB_UP_HC_UNHEALTHY);
	out->cb_failures = gw_get_u32le(r + GW_BLOB_UP_CB_FAILURES);
	out->cb_cooldown_ms = gw_get_u32le(r + GW_BLOB_UP_CB_COOLDOWN_MS);
	out->buffer = r[GW_BLOB_UP_BUFFER_SHIFT] ? 1u << r[GW_BLOB_UP_BUFFER_SHIFT] : 0;
	out->place = place_at(r + GW_BLOB_UP_PLACE);
	out->tls = GW_NONE;
	if (r[GW_BLOB_UP_FLAGS] & GW_BLOB_UPF_TLS)
		out->tls = by_owner(b, GW_BLOB_UPTLS, GW_BLOB_UPTLS_UPSTREAM, i);
	ws = by_owner(b, GW_BLOB_UPWS, GW_BLOB_UPWS_UPSTREAM, i);
	out->max_websockets = ws == GW_NONE ? 0 : gw_get_u32le(rec(b, GW_BLOB_UPWS, ws) +
								      GW_BLOB_UPWS_MAX);
	return 0;
}

int gw_blob_uptls(const struct gw_blob *b, uint32_t i, struct gw_uptls *out)
{
	const uint8_t *r = get(b, GW_BLOB_UPTLS, i);

	if (!r)
		return -1;
	out->upstream = gw_get_u32le(r + GW_BLOB_UPTLS_UPSTREAM);
	out->verify = r[GW_BLOB_UPTLS_VERIFY];
	out->server_name = str_at(b, r + GW_BLOB_UPTLS_SERVER_NAME);
	out->ca_file = str_at(b, r + GW_BLOB_UPTLS_CA_FILE);
	out->cert = str_at(b, r + GW_BLOB_UPTLS_CERT);
	out->key = str_at(b, r + GW_BLOB_UPTLS_KEY);
	out->place = place_at(r + GW_BLOB_UPTLS_PLACE);
	return 0;
}

int gw_blob_target(const struct gw_blob *b, uint32_t i, struct gw_target *out)
{
	const uint8_t *r = get(b, GW_BLOB_TARGETS, i);

	if (!r)
		return -1;
	out->host = str_at(b, r + GW_BLOB_TGT_HOST);
	out->port = gw_get_u16le(r + GW_BLOB_TGT_PORT);
	out->weight = gw_get_u32le(r + GW_BLOB_TGT_WEIGHT);
	return 0;
}

void gw_blob_settings(const struct gw_blob *b, struct gw_settings *out)
{
	const uint8_t *r = rec(b, GW_BLOB_SETTINGS, 0);

	out->trusted_first = gw_get_u32le(r + GW_BLOB_SET_TRUSTED_FIRST);
	out->trusted_count = gw_get_u32le(r + GW_BLOB_SET_TRUSTED_COUNT);
	out->session_cookie = str_at(b, r + GW_BLOB_SET_SESSION_COOKIE);
	out->session_idle_ms = gw_get_u32le(r + GW_BLOB_SET_SESSION_IDLE_MS);
	out->session_lifetime_ms = gw_get_u32le(r + GW_BLOB_SET_SESSION_LIFETIME_MS);
	out->max_header_bytes = gw_get_u32le(r + GW_BLOB_SET_MAX_HEADER_BYTES);
	out->header_timeout_ms = gw_get_u32le(r + GW_BLOB_SET_HEADER_TIMEOUT_MS);
	out->idle_timeout_ms = gw_get_u32le(r + GW_BLOB_SET_IDLE_TIMEOUT_MS);
	out->max_conns = gw_get_u32le(r + GW_BLOB_SET_MAX_CONNS);
	out->max_conns_per_ip = gw_get_u32le(r + GW_BLOB_SET_MAX_CONNS_PER_IP);
	out->session_secure = r[GW_BLOB_SET_SESSION_SECURE];
	out->underscore_headers = r[GW_BLOB_SET_UNDERSCORE_HEADERS];
	out->websocket_idle_s = gw_get_u16le(r + GW_BLOB_SET_WS_IDLE_S);
}
