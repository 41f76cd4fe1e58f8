/* The byte layout of the compiled blob: constants and offset tables.
 *
 * docs/blob-format.md is the prose specification; this header is the same
 * thing as numbers, and the writer (lib/blob_write.c), the verifier and
 * accessors (lib/blob.c) and `gwc inspect` use nothing else to find a field.
 * Everything is little-endian and read through lib/bytes.h, never by casting
 * the mapping to a struct.
 *
 *   offset  size  field                (file header, GW_BLOB_HDR_SIZE bytes)
 *        0     8  magic "\x89GWB\r\n\x1a\n"
 *        8     2  read_version   a reader refuses a file whose read_version > its own
 *       10     2  write_version  format version the writer used
 *       12     4  header_size    where the section table starts; >= 64, multiple of 8
 *       16     8  file_size      whole file, trailer included
 *       24     4  section_count  entries in the section table, <= GW_BLOB_MAX_SECTIONS
 *       28     4  flags          0; a reader refuses a bit it does not know
 *       32    32  fingerprint    SHA-256 of the sources (conf.fingerprint)
 *
 *   header_size + 16*k: section table entry k
 *        0     4  id             enum gw_blob_table; unknown ids are skipped
 *        4     4  offset         from the start of the file, multiple of 8
 *        8     4  size           bytes, == count * record size
 *       12     4  count          records
 *
 *   sections, 8-byte aligned, zero padding between them
 *
 *   file_size - 8: trailer
 *        0     4  crc32c of bytes [0, file_size - 8)
 *        4     4  "GWND"
 *
 * A string reference (STR, 8 bytes) is u32 offset + u32 length into STRS; the
 * byte at offset + length is NUL for every string except edge labels.  A
 * place (PLACE, 8 bytes) is u32 line, u16 file, u16 col.  Fields named
 * "reserved" are zero.
 */
#ifndef GW_BLOB_T_H
#define GW_BLOB_T_H

#include <stdint.h>

#define GW_BLOB_MAGIC "\x89GWB\r\n\x1a\n"
#define GW_BLOB_MAGIC_LEN 8
#define GW_BLOB_TRAILER_MAGIC "GWND"
#define GW_BLOB_READ_VERSION 3  /* the highest read_version this reader accepts */
#define GW_BLOB_WRITE_VERSION 3 /* what this writer stores in write_version */
#define GW_BLOB_OLDEST_READ_VERSION 3 /* older files are refused: their layout differs */
#define GW_BLOB_MAX_SECTIONS 64
#define GW_BLOB_ALIGN 8

/* File header. */
#define GW_BLOB_HDR_MAGIC 0
#define GW_BLOB_HDR_READ_VERSION 8
#define GW_BLOB_HDR_WRITE_VERSION 10
#define GW_BLOB_HDR_HEADER_SIZE 12
#define GW_BLOB_HDR_FILE_SIZE 16
#define GW_BLOB_HDR_SECTION_COUNT 24
#define GW_BLOB_HDR_FLAGS 28
#define GW_BLOB_HDR_FINGERPRINT 32
#define GW_BLOB_HDR_SIZE 64

/* Section table entry. */
#define GW_BLOB_SEC_ID 0
#define GW_BLOB_SEC_OFFSET 4
#define GW_BLOB_SEC_SIZE 8
#define GW_BLOB_SEC_COUNT 12
#define GW_BLOB_SEC_ENTRY_SIZE 16

/* Trailer. */
#define GW_BLOB_TRAILER_CRC 0
#define GW_BLOB_TRAILER_MAGIC_OFF 4
#define GW_BLOB_TRAILER_SIZE 8

/* The smallest file the format allows: a header, no section, a trailer. */
#define GW_BLOB_MIN_SIZE (GW_BLOB_HDR_SIZE + GW_BLOB_TRAILER_SIZE)

/* Section ids, which are also the table numbers of gw_blob_count().  The
 * numbers are on disk: never renumber, only append. */
enum gw_blob_table {
	GW_BLOB_STRS = 0,
	GW_BLOB_FILES = 1,
	GW_BLOB_HOSTS = 2,
	GW_BLOB_NODES = 3,
	GW_BLOB_EDGES = 4,
	GW_BLOB_ROUTES = 5,
	GW_BLOB_RESPONDS = 6,
	GW_BLOB_PROXIES = 7,
	GW_BLOB_TPLS = 8,
	GW_BLOB_HEADERS = 9,
	GW_BLOB_STRLIST = 10,
	GW_BLOB_POLREFS = 11,
	GW_BLOB_POLICIES = 12,
	GW_BLOB_RATELIMITS = 13,
	GW_BLOB_AUTHS = 14,
	GW_BLOB_BODYLIMITS = 15,
	GW_BLOB_CORS = 16,
	GW_BLOB_HDRPOLS = 17,
	GW_BLOB_IPFILTERS = 18,
	GW_BLOB_CIDRS = 19,
	GW_BLOB_UPSTREAMS = 20,
	GW_BLOB_TARGETS = 21,
	GW_BLOB_SETTINGS = 22,
	GW_BLOB_RATTRS = 23,
	GW_BLOB_EHASH = 24,
	GW_BLOB_JWTS = 25,
	GW_BLOB_JWKEYS = 26,
	GW_BLOB_UPTLS = 27,
	GW_BLOB_UPWS = 28,
	GW_BLOB_NTABLES = 29
};

/* Sections a blob may lack (written by a gwc that did not know them): the
 * reader takes them as empty. */
#define GW_BLOB_FIRST_OPTIONAL GW_BLOB_JWTS
/* Optional sections from this one on are written only when they hold a
 * record: a blob without HTTPS upstreams is byte for byte what a gwc that
 * did not know them wrote. */
#define GW_BLOB_FIRST_SPARSE GW_BLOB_UPTLS

/* Shared record pieces. */
#define GW_BLOB_STR_OFF 0
#define GW_BLOB_STR_LEN 4
#define GW_BLOB_STR_SIZE 8
#define GW_BLOB_PLACE_LINE 0
#define GW_BLOB_PLACE_FILE 4
#define GW_BLOB_PLACE_COL 6
#define GW_BLOB_PLACE_SIZE 8

/* STRS: bytes; count == size. */
#define GW_BLOB_STRS_SIZE 1

/* FILES: STR name. */
#define GW_BLOB_FILE_NAME 0
#define GW_BLOB_FILE_SIZE 8

/* HOSTS: [0] is "", the rest sorted by bytes and unique. */
#define GW_BLOB_HOST_NAME 0
#define GW_BLOB_HOST_ROOT 8 /* u32 node, or GW_NONE: no tree */
#define GW_BLOB_HOST_SIZE 12

/* NODES (struct gw_trie_node).  A node's edges are lit_first up to the next
 * node's lit_first (the last node's: up to the EDGES count), so that the
 * record holds no count; the method masks are the unions of the methods of
 * the node's two route groups, so that the matcher decides a group of one
 * route without reading it. */
#define GW_BLOB_NODE_LIT_FIRST 0
#define GW_BLOB_NODE_PARAM_CHILD 4 /* u32 node > this one, or GW_NONE */
#define GW_BLOB_NODE_ROUTE_FIRST 8
#define GW_BLOB_NODE_TERM_COUNT 12   /* u8 */
#define GW_BLOB_NODE_WILD_COUNT 13   /* u8 */
#define GW_BLOB_NODE_TERM_METHODS 14 /* u8: union of the term group's methods */
#define GW_BLOB_NODE_WILD_METHODS 15 /* u8: union of the wild group's methods */
#define GW_BLOB_NODE_SIZE 16

/* EDGES (struct gw_trie_edge): the key is the label's first 8 bytes, zero
 * padded, which orders edges as their labels do wherever two keys differ; the
 * label is a slice of STRS, not NUL-terminated; child_edges repeats the
 * child's lit_first, so that a matcher fetches the child's record and its
 * edges at once. */
#define GW_BLOB_EDGE_KEY 0  /* 8 bytes */
#define GW_BLOB_EDGE_LABEL 8
#define GW_BLOB_EDGE_CHILD 16
#define GW_BLOB_EDGE_CHILD_EDGES 20
#define GW_BLOB_EDGE_SIZE 24
#define GW_BLOB_EDGE_KEY_LEN 8

/* ROUTES (struct gw_route), in trie order: what is a route's own; the rest
 * is in its RATTRS record, shared with every route alike. */
#define GW_BLOB_ROUTE_NAME 0
#define GW_BLOB_ROUTE_PATTERN 8
#define GW_BLOB_ROUTE_ATTRS 16         /* u32 RATTRS index */
#define GW_BLOB_ROUTE_PLACE 20
#define GW_BLOB_ROUTE_SIZE 28

/* RATTRS: route attributes, each distinct record stored once. */
#define GW_BLOB_RATTR_HOST 0
#define GW_BLOB_RATTR_HANDLER_INDEX 4
#define GW_BLOB_RATTR_POL_FIRST 8
#define GW_BLOB_RATTR_POL_COUNT 12     /* u16 */
#define GW_BLOB_RATTR_METHODS 14       /* u16 */
#define GW_BLOB_RATTR_HANDLER 16       /* u8 */
#define GW_BLOB_RATTR_NPARAMS 17       /* u8 */
#define GW_BLOB_RATTR_WEBSOCKET 18     /* u8: 0, or 1 on a GET-only proxy route */
#define GW_BLOB_RATTR_RESERVED 19      /* u8 */
#define GW_BLOB_RATTR_SIZE 20

/* EHASH: u32 slots, an edge index or GW_NONE; a power of two of them, or
 * none.  Every edge of a node with GW_BLOB_HASH_MIN edges or more is found
 * by probing at most GW_BLOB_HASH_PROBES slots from gw_blob_edge_home(). */
#define GW_BLOB_EHASH_EDGE 0
#define GW_BLOB_EHASH_SIZE 4
#define GW_BLOB_HASH_MIN 16
#define GW_BLOB_HASH_PROBES 64

/* RESPONDS (struct gw_respond). */
#define GW_BLOB_RESPOND_STATUS 0       /* u16 */
#define GW_BLOB_RESPOND_RESERVED 2     /* u16 */
#define GW_BLOB_RESPOND_HDR_FIRST 4
#define GW_BLOB_RESPOND_HDR_COUNT 8
#define GW_BLOB_RESPOND_BODY_FIRST 12
#define GW_BLOB_RESPOND_BODY_COUNT 16
#define GW_BLOB_RESPOND_SIZE 20

/* PROXIES (struct gw_proxy). */
#define GW_BLOB_PROXY_UPSTREAM 0
#define GW_BLOB_PROXY_REWRITE_FIRST 4
#define GW_BLOB_PROXY_REWRITE_COUNT 8
#define GW_BLOB_PROXY_STRIP_PREFIX 12
#define GW_BLOB_PROXY_SIZE 20

/* TPLS (struct gw_tpl). */
#define GW_BLOB_TPL_KIND 0   /* u8 */
#define GW_BLOB_TPL_MODE 1   /* u8 */
#define GW_BLOB_TPL_PARAM 2  /* u16 */
#define GW_BLOB_TPL_TEXT 4
#define GW_BLOB_TPL_ALT 12
#define GW_BLOB_TPL_SIZE 20

/* HEADERS (struct gw_header). */
#define GW_BLOB_HEADER_NAME 0
#define GW_BLOB_HEADER_VALUE 8
#define GW_BLOB_HEADER_SIZE 16

/* STRLIST: STR. */
#define GW_BLOB_STRLIST_STR 0
#define GW_BLOB_STRLIST_SIZE 8

/* POLREFS: u32 policy index. */
#define GW_BLOB_POLREF_POLICY 0
#define GW_BLOB_POLREF_SIZE 4

/* POLICIES (struct gw_policy). */
#define GW_BLOB_POLICY_NAME 0
#define GW_BLOB_POLICY_KIND 8      /* u8 */
#define GW_BLOB_POLICY_RESERVED 9  /* u8 */
#define GW_BLOB_POLICY_COUNT 10    /* u16 */
#define GW_BLOB_POLICY_INDEX 12
#define GW_BLOB_POLICY_IDENT 16    /* u64 */
#define GW_BLOB_POLICY_PLACE 24
#define GW_BLOB_POLICY_SIZE 32

/* RATELIMITS (struct gw_ratelimit). */
#define GW_BLOB_RL_NAME 0
#define GW_BLOB_RL_HEADER 8
#define GW_BLOB_RL_KEY 16       /* u8 */
#define GW_BLOB_RL_HEADERS 17   /* u8: enum gw_rl_hdrmode (0, all, in older blobs) */
#define GW_BLOB_RL_SCOPE 18     /* u8: enum gwd_ratelimit_scope (0, local, in older blobs) */
#define GW_BLOB_RL_ONERR 19     /* u8: enum gwd_ratelimit_onerr (0, allow, in older blobs) */
#define GW_BLOB_RL_QUOTA 20
#define GW_BLOB_RL_PERIOD_MS 24
#define GW_BLOB_RL_BURST 28
#define GW_BLOB_RL_MAX_KEYS 32
#define GW_BLOB_RL_SIZE 36

/* AUTHS (struct gw_auth). */
#define GW_BLOB_AUTH_TYPE 0       /* u8 */
#define GW_BLOB_AUTH_RESERVED 1   /* 3 bytes */
#define GW_BLOB_AUTH_HEADER 4
#define GW_BLOB_AUTH_USER_HEADER 12
#define GW_BLOB_AUTH_SIZE 20

/* JWTS (struct gw_jwt): one per AUTHS record of type jwt, in AUTHS order. */
#define GW_BLOB_JWT_AUTH 0            /* u32 AUTHS index, type jwt, increasing */
#define GW_BLOB_JWT_ALGS 4            /* u16 enum gw_jwa mask */
#define GW_BLOB_JWT_SCOPE_ANY 6       /* u8, 0 or 1 */
#define GW_BLOB_JWT_FORWARD_AUTH 7    /* u8, 0 or 1 */
#define GW_BLOB_JWT_ISSUER 8
#define GW_BLOB_JWT_AUD_FIRST 16      /* range STRLIST */
#define GW_BLOB_JWT_SCOPE_FIRST 24    /* range STRLIST */
#define GW_BLOB_JWT_HAS_FIRST 32      /* range STRLIST */
#define GW_BLOB_JWT_EQ_FIRST 40       /* range HEADERS */
#define GW_BLOB_JWT_HDR_FIRST 48      /* range HEADERS */
#define GW_BLOB_JWT_KEY_FIRST 56      /* range JWKEYS */
#define GW_BLOB_JWT_COOKIE 64
#define GW_BLOB_JWT_REALM 72
#define GW_BLOB_JWT_JWKS_URL 80
#define GW_BLOB_JWT_LEEWAY_S 88
#define GW_BLOB_JWT_REFRESH_MIN_S 92
#define GW_BLOB_JWT_REFRESH_MAX_S 96
#define GW_BLOB_JWT_REFETCH_S 100
#define GW_BLOB_JWT_SIZE 104

/* JWKEYS (struct gw_jwk): keys of JWKS files. */
#define GW_BLOB_JWK_KID 0
#define GW_BLOB_JWK_KTY 8             /* u8 enum gw_jwk_kty */
#define GW_BLOB_JWK_CRV 9             /* u8 enum gw_jwk_crv */
#define GW_BLOB_JWK_ALGS 10           /* u16 enum gw_jwa mask */
#define GW_BLOB_JWK_A 12              /* base64url: n, x or k */
#define GW_BLOB_JWK_B 20              /* base64url: e or y */
#define GW_BLOB_JWK_SIZE 28

/* BODYLIMITS: u64 bytes. */
#define GW_BLOB_BODYLIMIT_BYTES 0
#define GW_BLOB_BODYLIMIT_SIZE 8

/* CORS (struct gw_cors). */
#define GW_BLOB_CORS_ORIGIN_FIRST 0
#define GW_BLOB_CORS_ORIGIN_COUNT 4
#define GW_BLOB_CORS_METHODS 8       /* u16 */
#define GW_BLOB_CORS_CREDENTIALS 10  /* u8, 0 or 1 */
#define GW_BLOB_CORS_RESERVED 11     /* u8 */
#define GW_BLOB_CORS_ALLOW_HEADERS 12
#define GW_BLOB_CORS_EXPOSE_HEADERS 20
#define GW_BLOB_CORS_MAX_AGE_S 28
#define GW_BLOB_CORS_SIZE 32

/* HDRPOLS (struct gw_hdrpol): eight u32. */
#define GW_BLOB_HDRPOL_REQ_ADD_FIRST 0
#define GW_BLOB_HDRPOL_REQ_ADD_COUNT 4
#define GW_BLOB_HDRPOL_REQ_DEL_FIRST 8
#define GW_BLOB_HDRPOL_REQ_DEL_COUNT 12
#define GW_BLOB_HDRPOL_RESP_ADD_FIRST 16
#define GW_BLOB_HDRPOL_RESP_ADD_COUNT 20
#define GW_BLOB_HDRPOL_RESP_DEL_FIRST 24
#define GW_BLOB_HDRPOL_RESP_DEL_COUNT 28
#define GW_BLOB_HDRPOL_SIZE 32

/* IPFILTERS (struct gw_ipfilter). */
#define GW_BLOB_IPF_ALLOW_FIRST 0
#define GW_BLOB_IPF_ALLOW_COUNT 4
#define GW_BLOB_IPF_DENY_FIRST 8
#define GW_BLOB_IPF_DENY_COUNT 12
#define GW_BLOB_IPF_SIZE 16

/* CIDRS (struct gw_cidr). */
#define GW_BLOB_CIDR_FAMILY 0   /* u8: 4 or 6 */
#define GW_BLOB_CIDR_PREFIX 1   /* u8 */
#define GW_BLOB_CIDR_RESERVED 2 /* u16 */
#define GW_BLOB_CIDR_ADDR 4     /* 16 bytes, network order */
#define GW_BLOB_CIDR_SIZE 20

/* UPSTREAMS (struct gw_upstream). */
#define GW_BLOB_UP_NAME 0
#define GW_BLOB_UP_TGT_FIRST 8
#define GW_BLOB_UP_TGT_COUNT 12
#define GW_BLOB_UP_BALANCE 16       /* u8 */
#define GW_BLOB_UP_HASH_KEY 17      /* u8 */
#define GW_BLOB_UP_HC_HEALTHY 18    /* u16 */
#define GW_BLOB_UP_HC_UNHEALTHY 20  /* u16 */
#define GW_BLOB_UP_FLAGS 22         /* u8: GW_BLOB_UPF_* (was reserved: 0) */
#define GW_BLOB_UP_BUFFER_SHIFT 23  /* u8: log2 of the streaming buffer; 0: default */
#define GW_BLOB_UP_HASH_HEADER 24
#define GW_BLOB_UP_CONNECT_TIMEOUT_MS 32
#define GW_BLOB_UP_TIMEOUT_MS 36
#define GW_BLOB_UP_MAX_CONNS 40
#define GW_BLOB_UP_RETRIES 44
#define GW_BLOB_UP_HC_PATH 48
#define GW_BLOB_UP_HC_INTERVAL_MS 56
#define GW_BLOB_UP_HC_TIMEOUT_MS 60
#define GW_BLOB_UP_CB_FAILURES 64
#define GW_BLOB_UP_CB_COOLDOWN_MS 68
#define GW_BLOB_UP_PLACE 72
#define GW_BLOB_UP_SIZE 80
#define GW_BLOB_UPF_TLS 0x01        /* HTTPS: its UPTLS record exists */
#define GW_BLOB_UPF_ALL 0x01
#define GW_BLOB_UP_BUFFER_MIN_SHIFT 15 /* 32 KiB: twice libcurl's largest write */
#define GW_BLOB_UP_BUFFER_MAX_SHIFT 24 /* 16 MiB */

/* UPTLS (struct gw_uptls): one per upstream with GW_BLOB_UPF_TLS, in
 * UPSTREAMS order.  Paths, not key material: gwd reads the files itself. */
#define GW_BLOB_UPTLS_UPSTREAM 0     /* u32 UPSTREAMS index, increasing */
#define GW_BLOB_UPTLS_VERIFY 4       /* u8, 0 or 1 */
#define GW_BLOB_UPTLS_RESERVED 5     /* 3 bytes */
#define GW_BLOB_UPTLS_SERVER_NAME 8  /* "": the target's host */
#define GW_BLOB_UPTLS_CA_FILE 16     /* absolute path; "": the system store */
#define GW_BLOB_UPTLS_CERT 24        /* absolute path; "": no client certificate */
#define GW_BLOB_UPTLS_KEY 32         /* absolute path; "" exactly when cert is */
#define GW_BLOB_UPTLS_PLACE 40
#define GW_BLOB_UPTLS_SIZE 48

/* UPWS: one per upstream that sets max_websockets, in UPSTREAMS order;
 * an upstream without one takes gwd's default. */
#define GW_BLOB_UPWS_UPSTREAM 0      /* u32 UPSTREAMS index, increasing */
#define GW_BLOB_UPWS_MAX 4           /* u32 max_websockets, 1..65535 */
#define GW_BLOB_UPWS_SIZE 8

/* TARGETS (struct gw_target). */
#define GW_BLOB_TGT_HOST 0
#define GW_BLOB_TGT_PORT 8      /* u16 */
#define GW_BLOB_TGT_RESERVED 10 /* u16 */
#define GW_BLOB_TGT_WEIGHT 12
#define GW_BLOB_TGT_SIZE 16

/* SETTINGS (struct gw_settings): exactly one record. */
#define GW_BLOB_SET_TRUSTED_FIRST 0
#define GW_BLOB_SET_TRUSTED_COUNT 4
#define GW_BLOB_SET_SESSION_COOKIE 8
#define GW_BLOB_SET_SESSION_IDLE_MS 16
#define GW_BLOB_SET_SESSION_LIFETIME_MS 20
#define GW_BLOB_SET_MAX_HEADER_BYTES 24
#define GW_BLOB_SET_HEADER_TIMEOUT_MS 28
#define GW_BLOB_SET_IDLE_TIMEOUT_MS 32
#define GW_BLOB_SET_MAX_CONNS 36
#define GW_BLOB_SET_MAX_CONNS_PER_IP 40
#define GW_BLOB_SET_SESSION_SECURE 44     /* u8 enum gw_secure */
#define GW_BLOB_SET_UNDERSCORE_HEADERS 45 /* u8 enum gw_underscore */
#define GW_BLOB_SET_WS_IDLE_S 46          /* u16 seconds; 0: the default (gwd) */
#define GW_BLOB_SET_SIZE 48

/* Record size of section <t>, or 0 for an id this reader does not know. */
static inline unsigned gw_blob_record_size(unsigned t)
{
	static const unsigned char sizes[GW_BLOB_NTABLES] = {
		[GW_BLOB_STRS] = GW_BLOB_STRS_SIZE,
		[GW_BLOB_FILES] = GW_BLOB_FILE_SIZE,
		[GW_BLOB_HOSTS] = GW_BLOB_HOST_SIZE,
		[GW_BLOB_NODES] = GW_BLOB_NODE_SIZE,
		[GW_BLOB_EDGES] = GW_BLOB_EDGE_SIZE,
		[GW_BLOB_ROUTES] = GW_BLOB_ROUTE_SIZE,
		[GW_BLOB_RESPONDS] = GW_BLOB_RESPOND_SIZE,
		[GW_BLOB_PROXIES] = GW_BLOB_PROXY_SIZE,
		[GW_BLOB_TPLS] = GW_BLOB_TPL_SIZE,
		[GW_BLOB_HEADERS] = GW_BLOB_HEADER_SIZE,
		[GW_BLOB_STRLIST] = GW_BLOB_STRLIST_SIZE,
		[GW_BLOB_POLREFS] = GW_BLOB_POLREF_SIZE,
		[GW_BLOB_POLICIES] = GW_BLOB_POLICY_SIZE,
		[GW_BLOB_RATELIMITS] = GW_BLOB_RL_SIZE,
		[GW_BLOB_AUTHS] = GW_BLOB_AUTH_SIZE,
		[GW_BLOB_BODYLIMITS] = GW_BLOB_BODYLIMIT_SIZE,
		[GW_BLOB_CORS] = GW_BLOB_CORS_SIZE,
		[GW_BLOB_HDRPOLS] = GW_BLOB_HDRPOL_SIZE,
		[GW_BLOB_IPFILTERS] = GW_BLOB_IPF_SIZE,
		[GW_BLOB_CIDRS] = GW_BLOB_CIDR_SIZE,
		[GW_BLOB_UPSTREAMS] = GW_BLOB_UP_SIZE,
		[GW_BLOB_TARGETS] = GW_BLOB_TGT_SIZE,
		[GW_BLOB_SETTINGS] = GW_BLOB_SET_SIZE,
		[GW_BLOB_RATTRS] = GW_BLOB_RATTR_SIZE,
		[GW_BLOB_EHASH] = GW_BLOB_EHASH_SIZE,
		[GW_BLOB_JWTS] = GW_BLOB_JWT_SIZE,
		[GW_BLOB_JWKEYS] = GW_BLOB_JWK_SIZE,
		[GW_BLOB_UPTLS] = GW_BLOB_UPTLS_SIZE,
		[GW_BLOB_UPWS] = GW_BLOB_UPWS_SIZE,
	};
	return t < GW_BLOB_NTABLES ? sizes[t] : 0;
}

/* The home slot in an EHASH table of <nslots> (a power of two) of the edge
 * with key <key> (the edge's 8 key bytes read big-endian) of the node whose
 * edges start at <lit_first>: splitmix64's finalizer, so that keys differing
 * only in their first bytes spread over the low bits too.  The writer, the
 * verifier and the matcher all use this one. */
static inline uint32_t gw_blob_edge_home(uint32_t lit_first, uint64_t key, uint32_t nslots)
{
	uint64_t z = key ^ (uint64_t)lit_first * 0x9E3779B97F4A7C15ull;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return (uint32_t)(z ^ (z >> 31)) & (nslots - 1);
}

/* Section name of table <t> as docs/blob-format.md spells it, or "?" for an
 * unknown id.  Used in the verifier's messages and by `gwc inspect`. */
static inline const char *gw_blob_table_name(unsigned t)
{
	static const char *const names[GW_BLOB_NTABLES] = {
		"STRS", "FILES", "HOSTS", "NODES", "EDGES", "ROUTES", "RESPONDS",
		"PROXIES", "TPLS", "HEADERS", "STRLIST", "POLREFS", "POLICIES",
		"RATELIMITS", "AUTHS", "BODYLIMITS", "CORS", "HDRPOLS", "IPFILTERS",
		"CIDRS", "UPSTREAMS", "TARGETS", "SETTINGS", "RATTRS", "EHASH",
		"JWTS", "JWKEYS", "UPTLS", "UPWS",
	};
	return t < GW_BLOB_NTABLES ? names[t] : "?";
}

/* ---- direct reads, for lib/ only ----------------------------------------
 * The matcher reads the trie's sections (HOSTS, NODES, EDGES, EHASH, and
 * ROUTES and RATTRS for a group of several routes) on the request path; a
 * call per field through the decoders of blob.h costs more than the read
 * itself, so lib/match.c reads the verified sections directly.  Nothing outside lib/
 * uses this: the decoders of blob.h are the interface. */
struct gw_blob;

/* A verified section: <n> records (bytes for STRS) at <p>. */
struct gw_blob_sec {
	const uint8_t *p;
	uint32_t n;
};

/* The GW_BLOB_NTABLES sections of open blob <b>, indexed by enum
 * gw_blob_table; borrowed, valid while <b> is open. */
const struct gw_blob_sec *gw_blob_sections(const struct gw_blob *b);

#endif
