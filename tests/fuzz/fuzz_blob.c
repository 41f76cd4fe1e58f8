/* libFuzzer harness for the blob loader: gw_blob_open_mem() on any bytes.
 *
 * When a blob is accepted, every accessor is called on every record (and on
 * the first index past each table), every string is read to its end (and its
 * NUL where the format promises one), and gw_match() walks the trie for a
 * few requests: the verifier's promise is that none of this reads outside
 * the input, loops, or trips UBSan, whatever the bytes.
 *
 * Built twice by tests/fuzz/run.sh:
 *   fuzz_blob         the bytes as they are: mutations mostly meet the
 *                     size and checksum checks;
 *   fuzz_blob_fixcrc  (-DGW_FUZZ_FIXCRC) file_size, read_version, the trailer
 *                     and its CRC are set right first, so that mutations
 *                     reach the section table and record checks.
 * Seeds: tests/fuzz/corpus/fuzz_blob/ (real blobs, see tests/lib/blob.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/blob-t.h"
#include "lib/blob.h"
#include "lib/bytes.h"
#include "lib/crc32c.h"
#include "lib/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

/* Read every byte of <s>, and its terminating NUL when <cstr>. */
static void touch(struct gw_str s, int cstr)
{
	unsigned h = 0;

	for (uint32_t k = 0; k < s.len; k++)
		h += (unsigned char)s.p[k];
	if (cstr && s.p[s.len] != '\0')
		abort(); /* the verifier promised a C string */
	sink += h;
}

static void walk(const struct gw_blob *b)
{
	union {
		struct gw_str s;
		struct gw_trie_node n;
		struct gw_trie_edge e;
		struct gw_route r;
		struct gw_respond rs;
		struct gw_proxy px;
		struct gw_tpl t;
		struct gw_header h;
		struct gw_policy p;
		struct gw_ratelimit rl;
		struct gw_auth a;
		struct gw_cors c;
		struct gw_hdrpol hp;
		struct gw_ipfilter ip;
		struct gw_cidr ci;
		struct gw_upstream u;
		struct gw_target tg;
		struct gw_settings st;
		uint64_t x;
		uint32_t i;
	} o;
	uint32_t root;
	struct gw_match m;
	static const char *const paths[] = {
		"/", "/api/hello", "/api/users/42", "/a/b/c/d/e/f/g/h", "/health", "/static/x/y",
	};

	sink += gw_blob_fingerprint(b)[31] + (unsigned)gw_blob_size(b) + gw_blob_version(b);
	for (unsigned t = 0; t <= GW_BLOB_NTABLES; t++)
		sink += gw_blob_count(b, t);
#define EACH(table, call) \
	for (uint32_t i = 0; i <= gw_blob_count(b, table); i++) \
		if ((call) == 0)
	EACH(GW_BLOB_FILES, gw_blob_file(b, i, &o.s)) touch(o.s, 1);
	EACH(GW_BLOB_HOSTS, gw_blob_host(b, i, &o.s, &root)) touch(o.s, 1);
	EACH(GW_BLOB_NODES, gw_blob_node(b, i, &o.n)) sink += o.n.lit_count;
	EACH(GW_BLOB_EDGES, gw_blob_edge(b, i, &o.e)) touch(o.e.label, 0);
	EACH(GW_BLOB_ROUTES, gw_blob_route(b, i, &o.r)) { touch(o.r.name, 1); touch(o.r.pattern, 1); }
	EACH(GW_BLOB_RESPONDS, gw_blob_respond(b, i, &o.rs)) sink += o.rs.status;
	EACH(GW_BLOB_PROXIES, gw_blob_proxy(b, i, &o.px)) touch(o.px.strip_prefix, 1);
	EACH(GW_BLOB_TPLS, gw_blob_tpl(b, i, &o.t)) { touch(o.t.text, 1); touch(o.t.alt, 1); }
	EACH(GW_BLOB_HEADERS, gw_blob_header(b, i, &o.h)) { touch(o.h.name, 1); touch(o.h.value, 1); }
	EACH(GW_BLOB_STRLIST, gw_blob_strlist(b, i, &o.s)) touch(o.s, 1);
	EACH(GW_BLOB_POLREFS, gw_blob_polref(b, i, &o.i)) sink += o.i;
	EACH(GW_BLOB_POLICIES, gw_blob_policy(b, i, &o.p)) touch(o.p.name, 1);
	EACH(GW_BLOB_RATELIMITS, gw_blob_ratelimit(b, i, &o.rl)) { touch(o.rl.name, 1); touch(o.rl.header, 1); }
	EACH(GW_BLOB_AUTHS, gw_blob_auth(b, i, &o.a)) { touch(o.a.header, 1); touch(o.a.user_header, 1); }
	EACH(GW_BLOB_BODYLIMITS, gw_blob_body_limit(b, i, &o.x)) sink += (unsigned)o.x;
	EACH(GW_BLOB_CORS, gw_blob_cors(b, i, &o.c)) { touch(o.c.allow_headers, 1); touch(o.c.expose_headers, 1); }
	EACH(GW_BLOB_HDRPOLS, gw_blob_hdrpol(b, i, &o.hp)) sink += o.hp.req_add_count;
	EACH(GW_BLOB_IPFILTERS, gw_blob_ipfilter(b, i, &o.ip)) sink += o.ip.allow_count;
	EACH(GW_BLOB_CIDRS, gw_blob_cidr(b, i, &o.ci)) sink += o.ci.addr[15];
	EACH(GW_BLOB_UPSTREAMS, gw_blob_upstream(b, i, &o.u)) { touch(o.u.name, 1); touch(o.u.hc_path, 1); touch(o.u.hash_header, 1); }
	EACH(GW_BLOB_TARGETS, gw_blob_target(b, i, &o.tg)) touch(o.tg.host, 1);
#undef EACH
	gw_blob_settings(b, &o.st);
	touch(o.st.session_cookie, 1);
	for (size_t k = 0; k < sizeof paths / sizeof *paths; k++) {
		sink += (unsigned)gw_match(b, "", 0, GW_M_GET, paths[k], strlen(paths[k]), &m);
		sink += (unsigned)gw_match(b, "api.example.com", 15, GW_M_POST, paths[k],
					   strlen(paths[k]), &m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_blob *b = NULL;
	char why[256];
	uint8_t *p = malloc(size ? size : 1); /* exactly <size> bytes: ASan sees past them */

	if (!p)
		return 0;
	if (size)
		memcpy(p, data, size);
#ifdef GW_FUZZ_FIXCRC
	if (size >= GW_BLOB_MIN_SIZE) {
		gw_put_u16le(p + GW_BLOB_HDR_READ_VERSION, GW_BLOB_READ_VERSION);
		gw_put_u64le(p + GW_BLOB_HDR_FILE_SIZE, size);
		memcpy(p + size - GW_BLOB_TRAILER_SIZE + GW_BLOB_TRAILER_MAGIC_OFF,
		       GW_BLOB_TRAILER_MAGIC, 4);
		gw_put_u32le(p + size - GW_BLOB_TRAILER_SIZE + GW_BLOB_TRAILER_CRC,
			     gw_crc32c(0, p, size - GW_BLOB_TRAILER_SIZE));
	}
#endif
	if (gw_blob_open_mem(p, size, &b, why, sizeof why) == GW_OK)
		walk(b);
	else if (!why[0])
		abort(); /* every refusal explains itself */
	gw_blob_close(b);
	free(p);
	return 0;
}
