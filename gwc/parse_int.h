/* Internals shared by gwc's parser files (parse.c: files, top level, finish;
 * parse_yaml.c: YAML into trees; parse_util.c: errors, typed access, shared
 * validation, name tables; parse_upstream.c: settings and upstreams;
 * parse_policy.c: policies; parse_route.c: routes, path patterns, templates).
 * Not for other modules: they use gwc/parse.h.
 *
 * A file is first read into a tree of struct ynode (parse_yaml.c builds it from
 * libyaml events, refusing aliases, anchors, tags, deep nesting and duplicate
 * keys), then walked construct by construct.  Walkers report errors and carry
 * on; they return 0, or -1 only when memory ran out (then everything unwinds).
 */
#ifndef GWC_PARSE_INT_H
#define GWC_PARSE_INT_H

#include <gnutls/crypto.h>
#include <stdint.h>
#include "gwc/arena.h"
#include "gwc/parse.h"

/* One YAML node, with its place.  A mapping's kids are key, value, key,
 * value...; its keys are unique scalars (the loader removed the rest). */
enum ynode_type {
	YN_SCALAR = 1,
	YN_MAP = 2,
	YN_SEQ = 3,
	YN_BAD = 4, /* an alias or worse, already reported: walkers skip it silently */
};

struct ynode {
	uint8_t type;       /* enum ynode_type */
	uint8_t plain;      /* scalar written without quotes or block indicators */
	uint32_t line, col; /* 1-based */
	uint32_t len;       /* scalar: bytes of s */
	uint32_t n;         /* map: pairs; seq: items */
	const char *s;      /* scalar: NUL-terminated (may also hold NUL bytes) */
	struct ynode **kids;
};

/* A name defined by some file, with where; an open-addressing hash table. */
struct gwc_name {
	const char *p; /* NULL: free slot */
	uint32_t len;
	uint32_t index; /* into the conf table of that kind */
	struct gw_place at;
};

struct gwc_names {
	struct gwc_name *v;
	uint32_t n, cap; /* cap: 0 or a power of two */
};

/* A name to resolve at the end: polref slot or proxy index <slot>, written at <at>. */
struct gwc_ref {
	struct gw_str name;
	uint32_t slot;
	struct gw_place at;
};

struct gwc_state {
	struct gwc_arena strings;  /* every string of the conf */
	gnutls_hash_hd_t sha;      /* running fingerprint; NULL once finished */
	int have_settings;
	struct gw_place settings_at;
	struct gwc_names upstreams, policies, routes;
	GW_VEC(struct gwc_ref) polnames; /* parallel to conf.polrefs */
	GW_VEC(struct gwc_ref) upnames;  /* parallel to conf.proxies */
	GW_VEC(struct gw_str) hostnames; /* parallel to conf.routes: host before sorting */
	unsigned nerrors;                /* reported so far (capped at GWC_MAX_ERRORS) */
	int finished;
};

/* The walk of one file. */
struct gwc_file {
	struct gw_conf *conf;
	struct gw_diag *d;
	struct gwc_state *st;
	uint16_t file;          /* index in conf.files */
	struct gwc_arena tree;  /* the file's ynodes, freed after the walk */
};

/* ---- YAML (parse_yaml.c) ---- */

/* Read the <len> bytes at <buf> of file <f> into a tree in f->tree;
 * <*root> is NULL for an empty stream.  Returns 0, 1 when the file was refused
 * (a syntax error or nesting too deep: reported), or -1 OOM. */
int gwc_yaml_load(struct gwc_file *f, const void *buf, size_t len, struct ynode **root);

/* ---- errors (parse_util.c) ---- */

/* Record an error at node <n> of file <f> (or at <at> for the _at form),
 * unless GWC_MAX_ERRORS were recorded already (then one last message says so). */
void gwc_err(struct gwc_file *f, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gwc_err_at(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st,
		const struct gw_place *at, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The place of <n> in <f>. */
struct gw_place gwc_place(const struct gwc_file *f, const struct ynode *n);

/* Format <p> as FILE:LINE:COL into <buf> (<cap> bytes); returns <buf>. */
const char *gwc_place_str(const struct gw_conf *conf, const struct gw_place *p, char *buf,
			  size_t cap);

/* Describe <n> for a message into <buf> (<cap> bytes): "a mapping", "a
 * sequence", "an empty value", or the scalar quoted ('abc'), control bytes
 * escaped and long values cut.  Returns <buf>. */
const char *gwc_show(const struct ynode *n, char *buf, size_t cap);
const char *gwc_show_bytes(const char *s, size_t len, char *buf, size_t cap);

/* ---- typed access (parse_util.c) ---- */

/* 1 when <n> is a plain scalar YAML reads as null: empty, ~, null. */
int gwc_is_null(const struct ynode *n);

/* The value (or key node) of <key> in mapping <map>, or NULL. */
const struct ynode *gwc_get(const struct ynode *map, const char *key);
const struct ynode *gwc_key(const struct ynode *map, const char *key);

/* Report every key of mapping <map> missing from the NULL-terminated <keys>,
 * as an unknown key in <ctx> ("route", "upstream 'users'"). */
void gwc_check_keys(struct gwc_file *f, const struct ynode *map, const char *const *keys,
		    const char *ctx);

/* Node checks: return 0 when <n> is of the kind, else report (unless <n> is
 * YN_BAD) "expected KIND for WHAT, got ..." and return -1.  <what> is used
 * verbatim ("'retries'", "an item of 'methods'").  gwc_want_str accepts any
 * scalar but null. */
int gwc_want_map(struct gwc_file *f, const struct ynode *n, const char *what);
int gwc_want_seq(struct gwc_file *f, const struct ynode *n, const char *what);
int gwc_want_str(struct gwc_file *f, const struct ynode *n, const char *what);

/* Scalars with range checks (inclusive), reporting errors naming <what>.
 * 0 with <*out> set, or -1 (reported). */
int gwc_u32(struct gwc_file *f, const struct ynode *n, const char *what, uint32_t min,
	    uint32_t max, uint32_t *out);
int gwc_dur_ms(struct gwc_file *f, const struct ynode *n, const char *what, uint32_t min,
	       uint32_t *out);
int gwc_size(struct gwc_file *f, const struct ynode *n, const char *what, uint64_t min,
	     uint64_t max, uint64_t *out);
int gwc_bool(struct gwc_file *f, const struct ynode *n, const char *what, uint8_t *out);
/* One of the NULL-terminated <names>: <*out> gets its index. */
int gwc_enum(struct gwc_file *f, const struct ynode *n, const char *what,
	     const char *const *names, int *out);

/* Map-level forms: look <key> up in <map>; 1 found and valid (<*out> set),
 * 0 absent (<*out> untouched: keep the default), -1 present but bad. */
int gwc_get_u32(struct gwc_file *f, const struct ynode *map, const char *key, uint32_t min,
		uint32_t max, uint32_t *out);
int gwc_get_dur_ms(struct gwc_file *f, const struct ynode *map, const char *key,
		   uint32_t min, uint32_t *out);

/* Copy scalar <n> (or <len> bytes at <s>) into the conf's arena as <*out>.
 * 0, or -1 when memory runs out. */
int gwc_copy(struct gwc_file *f, const struct ynode *n, struct gw_str *out);
int gwc_copy_bytes(struct gwc_state *st, const char *s, size_t len, struct gw_str *out);

/* ---- shared validation (parse_util.c) ---- */

/* Names of upstreams, policies, routes: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. */
int gwc_valid_name(const char *s, size_t len);

/* Check <n> as a header name for WHAT: a token, and (when <no_hop>) not a
 * framing or hop-by-hop header.  0 fine, -1 reported. */
int gwc_check_header_name(struct gwc_file *f, const struct ynode *n, const char *what,
			  int no_hop);
/* Check <n> as a header value: no control characters but HTAB.  0 / -1. */
int gwc_check_header_value(struct gwc_file *f, const struct ynode *n, const char *name);
/* 1 when <s> names a framing or hop-by-hop header (case-insensitive). */
int gwc_is_hop_header(const char *s, size_t len);

/* A sequence of method names <n> for <what> into <*mask> (0 when none is
 * usable); unknown, lower-case and repeated names reported.  0 (parse_route.c). */
int gwc_methods(struct gwc_file *f, const struct ynode *n, const char *what, uint16_t *mask);

/* Parse <n> as a CIDR into a new conf.cidrs entry.  0 (bad ones reported, not
 * added), or -1 when memory runs out. */
int gwc_push_cidr(struct gwc_file *f, const struct ynode *n, const char *what);

/* ---- names ---- */

const struct gwc_name *gwc_names_find(const struct gwc_names *t, const char *p, size_t len);
/* Add <p> (borrowed: must outlive the table) unless present.  0, or -1 OOM. */
int gwc_names_add(struct gwc_names *t, const char *p, uint32_t len, uint32_t index,
		  const struct gw_place *at);
void gwc_names_free(struct gwc_names *t);

/* Register <name> (a scalar key node) of kind <kind> ("upstream", "policy",
 * "route") with conf index <index> in <t>; report a name defined before, naming
 * the first place.  0, or -1 OOM. */
int gwc_define(struct gwc_file *f, struct gwc_names *t, const struct ynode *name,
	       const char *kind, uint32_t index);

/* ---- files (parse.c) ---- */

/* Record <name> as the next file of <conf> and hash its path and length
 * <len> into the fingerprint (the caller hashes the bytes).  Returns the file
 * index, -1 OOM, or -2 when there are too many files (reported). */
long gwc_add_file(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st,
		  const char *name, size_t len);

/* ---- constructs ---- */

/* The rest of an auth policy <n> of type jwt (parse_jwt.c): its keys, its
 * JWKS file read and checked, a conf.jwts record for auth <a> (conf.auths
 * index <auth>, about to be added).  0, or -1 OOM. */
int gwc_parse_jwt(struct gwc_file *f, const struct ynode *n, struct gw_auth *a, uint32_t auth);


int gwc_parse_settings(struct gwc_file *f, const struct ynode *n);   /* parse_upstream.c */
int gwc_parse_upstreams(struct gwc_file *f, const struct ynode *n);  /* parse_upstream.c */
int gwc_parse_policies(struct gwc_file *f, const struct ynode *n);   /* parse_policy.c */
int gwc_parse_routes(struct gwc_file *f, const struct ynode *n);     /* parse_route.c */

/* After names are resolved: check each route's policy list (rate limits keyed
 * by user or api_key need the matching auth policy before them).  0 / -1 OOM.
 * (parse_route.c) */
int gwc_finish_routes(struct gw_conf *conf, struct gw_diag *d, struct gwc_state *st);

/* FNV-1a 64 (parse_policy.c): start with GWC_FNV_INIT, feed bytes. */
#define GWC_FNV_INIT 0xcbf29ce484222325ull
uint64_t gwc_fnv(uint64_t h, const void *p, size_t len);

#endif
