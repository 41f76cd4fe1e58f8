/* The configuration model: what a route file means, decoded.
 *
 * gwc's parser fills a struct gw_conf from YAML; lib/blob_write.c serialises it;
 * lib/blob.c's accessors decode the blob's records back into the same element
 * structs (strings then point into the read-only mapping).  Keeping one set of
 * structs on both sides is what lets a test say "what was compiled is what is
 * served".
 *
 * Every list is flat: a record refers to its sub-items as <first, count> into
 * one of the conf's arrays (as the blob does), never by pointer.
 *
 *   conf.routes[i] --pol_first/pol_count--> conf.polrefs[] --> conf.policies[]
 *   conf.policies[p] (kind RATE_LIMIT) --index/count--> conf.ratelimits[]
 *   conf.routes[i] (handler RESPOND) --handler_index--> conf.responds[]
 *        --body_first/body_count--> conf.tpls[]   --hdr_first/hdr_count--> conf.headers[]
 *
 * Strings (struct gw_str) are always NUL-terminated at p[len], on both sides.
 */
#ifndef GW_MODEL_H
#define GW_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define GW_NONE UINT32_MAX /* "no index" in any u32 index field */

struct gw_str {
	const char *p; /* NUL-terminated at p[len] */
	uint32_t len;
};

/* Methods, as a bit mask.  HEAD is served by a GET route unless a route names
 * HEAD itself (docs/routes.md, "Methods"). */
enum gw_method {
	GW_M_GET = 1u << 0,
	GW_M_HEAD = 1u << 1,
	GW_M_POST = 1u << 2,
	GW_M_PUT = 1u << 3,
	GW_M_DELETE = 1u << 4,
	GW_M_PATCH = 1u << 5,
	GW_M_OPTIONS = 1u << 6,
};
#define GW_M_ALL 0x7Fu

enum gw_handler_kind {
	GW_H_RESPOND = 1,
	GW_H_ECHO = 2,
	GW_H_PROXY = 3,
	GW_H_LOGIN = 4,
	GW_H_LOGOUT = 5,
	GW_H_HEALTH = 6,
	GW_H_METRICS = 7,
	GW_H_STATUS = 8,
};

enum gw_policy_kind {
	GW_P_RATE_LIMIT = 1,
	GW_P_AUTH = 2,
	GW_P_BODY_LIMIT = 3,
	GW_P_CORS = 4,
	GW_P_HEADERS = 5,
	GW_P_IP = 6,
};

/* A body_limit of `none`: no limit on the request body.  Only a proxy route
 * takes it (it streams the body upstream; every other handler reads the body
 * whole); gwc and the blob verifier refuse it elsewhere. */
#define GW_BODY_LIMIT_NONE UINT64_MAX

enum gw_rl_key {
	GW_RLK_IP = 1,      /* client address (peer, or X-Forwarded-For from a trusted proxy) */
	GW_RLK_USER = 2,    /* user name set by a session auth policy earlier on the route */
	GW_RLK_API_KEY = 3, /* key name set by an api_key auth policy earlier on the route */
	GW_RLK_HEADER = 4,  /* value of the named request header */
	GW_RLK_ROUTE = 5,   /* one bucket for the whole route */
};

/* Which rate-limit fields a limited route's responses carry. */
enum gw_rl_hdrmode {
	GW_RLH_ALL = 0,  /* X-RateLimit-Limit/-Remaining/-Reset, RateLimit-Policy, RateLimit */
	GW_RLH_IETF = 1, /* RateLimit-Policy and RateLimit only */
	GW_RLH_NONE = 2, /* none (429 still carries Retry-After) */
};

/* Where a limit's budget lives. */
enum gwd_ratelimit_scope {
	GW_RLS_LOCAL = 0,   /* this gwd's memory (GCRA per key) */
	GW_RLS_CLUSTER = 1, /* one budget shared by every gwd of a cluster, in the
	                       store (gwd --store redis://...) */
};

/* What a cluster limit does while the store cannot be reached. */
enum gwd_ratelimit_onerr {
	GW_RLE_ALLOW = 0, /* fall back to the same limit kept locally */
	GW_RLE_DENY = 1,  /* refuse (429) */
};

enum gw_auth_type {
	GW_AUTH_SESSION = 1,
	GW_AUTH_API_KEY = 2,
	GW_AUTH_JWT = 3,
};

/* JWS algorithms a jwt policy accepts, and a key fits, as a bit mask
 * (docs/routes.md, "jwt"). */
enum gw_jwa {
	GW_JWA_RS256 = 1u << 0,
	GW_JWA_RS384 = 1u << 1,
	GW_JWA_RS512 = 1u << 2,
	GW_JWA_PS256 = 1u << 3,
	GW_JWA_PS384 = 1u << 4,
	GW_JWA_PS512 = 1u << 5,
	GW_JWA_ES256 = 1u << 6,
	GW_JWA_ES384 = 1u << 7,
	GW_JWA_EDDSA = 1u << 8,
	GW_JWA_HS256 = 1u << 9,
	GW_JWA_HS384 = 1u << 10,
	GW_JWA_HS512 = 1u << 11,
};
#define GW_JWA_ALL 0xFFFu
#define GW_JWA_RSA 0x3Fu   /* RS* and PS*: RSA keys */
#define GW_JWA_HMAC 0xE00u /* HS*: oct keys */

/* JWK key types and curves (struct gw_jwk). */
enum gw_jwk_kty {
	GW_KTY_RSA = 1,
	GW_KTY_EC = 2,
	GW_KTY_OKP = 3,
	GW_KTY_OCT = 4,
};
enum gw_jwk_crv {
	GW_CRV_NONE = 0,
	GW_CRV_P256 = 1,
	GW_CRV_P384 = 2,
	GW_CRV_ED25519 = 3,
};

enum gw_balance {
	GW_LB_ROUND_ROBIN = 1,
	GW_LB_LEAST_CONN = 2,
	GW_LB_HASH = 3,
};

enum gw_hash_key {
	GW_HK_NONE = 0,
	GW_HK_IP = 1,
	GW_HK_USER = 2,
	GW_HK_HEADER = 3,
};

/* A template part: respond bodies, respond header values and proxy rewrites are
 * sequences of these.  Substituted values are JSON-escaped in respond bodies and
 * percent-encoded in proxy paths. */
enum gw_tpl_kind {
	GW_TPL_LITERAL = 1, /* <text> as is */
	GW_TPL_PARAM = 2,   /* path parameter number <param> (0-based, left to right) */
	GW_TPL_QUERY = 3,   /* query parameter named <text> */
	GW_TPL_REST = 4,    /* what the trailing wildcard matched, without leading '/' */
};
enum gw_tpl_mode {
	GW_TPL_PLAIN = 0,   /* ${x}: value, or nothing when absent */
	GW_TPL_DEFAULT = 1, /* ${x:-alt}: value, or <alt> when absent or empty */
	GW_TPL_ALT = 2,     /* ${x:+alt}: <alt> when present and non-empty, else nothing */
};

/* Where a construct was written: 1-based line and column, <file> indexes
 * conf.files.  Kept in the blob for inspect, diff and log lines. */
struct gw_place {
	uint16_t file;
	uint16_t col;
	uint32_t line;
};

struct gw_route {
	struct gw_str name;    /* as given, or empty: then the pattern names it */
	struct gw_str pattern; /* as written: "/api/users/{id}", or "/static/" + "*" */
	uint32_t host;         /* index into conf.hosts; 0 = any host */
	uint16_t methods;      /* enum gw_method mask, never 0 */
	uint8_t handler;       /* enum gw_handler_kind */
	uint8_t nparams;       /* number of {param} segments */
	uint8_t websocket;     /* PROXY: 1 when the route accepts WebSocket handshakes */
	uint32_t handler_index;/* RESPOND: conf.responds, PROXY: conf.proxies, else 0 */
	uint32_t pol_first;    /* into conf.polrefs, applied in that order */
	uint16_t pol_count;
	struct gw_place place;
};

struct gw_header {
	struct gw_str name;
	struct gw_str value;
};

struct gw_tpl {
	uint8_t kind;       /* enum gw_tpl_kind */
	uint8_t mode;       /* enum gw_tpl_mode */
	uint16_t param;     /* GW_TPL_PARAM: parameter number */
	struct gw_str text; /* LITERAL: the bytes; QUERY: the parameter name */
	struct gw_str alt;  /* DEFAULT/ALT: the alternative text (literal) */
};

struct gw_respond {
	uint16_t status;
	uint32_t hdr_first, hdr_count;   /* into conf.headers (values are literal) */
	uint32_t body_first, body_count; /* into conf.tpls */
};

struct gw_proxy {
	uint32_t upstream;                     /* into conf.upstreams */
	uint32_t rewrite_first, rewrite_count; /* into conf.tpls; count 0: keep the path */
	struct gw_str strip_prefix;            /* removed from the path first; may be empty */
};

struct gw_policy {
	struct gw_str name;
	uint8_t kind;     /* enum gw_policy_kind */
	uint16_t count;   /* RATE_LIMIT: number of limits; else 1 */
	uint32_t index;   /* first record in the kind's table */
	uint64_t ident;   /* identity: FNV-1a 64 of name and canonical parameters;
	                     stable across compiles while the policy is unchanged */
	struct gw_place place;
};

struct gw_ratelimit {
	struct gw_str name;   /* for RateLimit-Policy; the policy's name, or name-N */
	uint8_t key;          /* enum gw_rl_key */
	uint8_t headers;      /* enum gw_rl_hdrmode; the same for every limit of a policy */
	uint8_t scope;        /* enum gwd_ratelimit_scope */
	uint8_t on_store_error; /* enum gwd_ratelimit_onerr (cluster scope only) */
	struct gw_str header; /* GW_RLK_HEADER: header name; else empty */
	uint32_t quota;       /* requests per period, >= 1 */
	uint32_t period_ms;   /* >= 1 */
	uint32_t burst;       /* >= 1: requests admitted at once from a full bucket */
	uint32_t max_keys;    /* bound on tracked keys, >= 1 */
};

struct gw_auth {
	uint8_t type;              /* enum gw_auth_type */
	struct gw_str header;      /* API_KEY: header carrying the key ("X-API-Key") */
	struct gw_str user_header; /* header set towards upstreams with the user/key name;
	                              a client-sent copy is removed; may be empty */
	uint32_t jwt;              /* JWT: index into conf.jwts; else GW_NONE */
};

/* A jwt auth policy's parameters (docs/routes.md, "jwt"). */
struct gw_jwt {
	uint32_t auth;                     /* the conf.auths record it belongs to */
	uint16_t algs;                     /* enum gw_jwa mask, never 0 */
	uint8_t scope_any;                 /* 0: every scope needed; 1: one of them */
	uint8_t forward_auth;              /* pass the Authorization header upstream */
	struct gw_str issuer;              /* the token's iss, exactly */
	uint32_t aud_first, aud_count;     /* into conf.strlist: the aud must hold one */
	uint32_t scope_first, scope_count; /* into conf.strlist */
	uint32_t has_first, has_count;     /* into conf.strlist: claims that must be present */
	uint32_t eq_first, eq_count;       /* into conf.headers: claim name = value */
	uint32_t hdr_first, hdr_count;     /* into conf.headers: claim name -> header name */
	uint32_t key_first, key_count;     /* into conf.jwks: keys of the JWKS file */
	struct gw_str cookie;              /* token from this cookie; "": Authorization */
	struct gw_str realm;               /* WWW-Authenticate realm */
	struct gw_str jwks_url;            /* fetched by gwd; "" = none */
	uint32_t leeway_s;                 /* exp, nbf, iat tolerance */
	uint32_t refresh_min_s, refresh_max_s; /* bounds on the JWKS max-age */
	uint32_t refetch_s;                /* unknown kid: at most one refetch per this */
};

/* One key of a JWKS file, its parameters as base64url text. */
struct gw_jwk {
	struct gw_str kid;  /* may be empty */
	uint8_t kty;        /* enum gw_jwk_kty */
	uint8_t crv;        /* enum gw_jwk_crv: EC and OKP; else NONE */
	uint16_t algs;      /* enum gw_jwa: the algorithms the key serves */
	struct gw_str a;    /* RSA n, EC/OKP x, oct k */
	struct gw_str b;    /* RSA e, EC y; else empty */
};

struct gw_cors {
	uint32_t origin_first, origin_count; /* into conf.strlist; "*" allowed */
	uint16_t methods;                    /* enum gw_method mask */
	uint8_t credentials;
	struct gw_str allow_headers;  /* joined with ", " */
	struct gw_str expose_headers; /* joined with ", " */
	uint32_t max_age_s;
};

struct gw_hdrpol {
	uint32_t req_add_first, req_add_count;   /* into conf.headers */
	uint32_t req_del_first, req_del_count;   /* into conf.strlist */
	uint32_t resp_add_first, resp_add_count; /* into conf.headers */
	uint32_t resp_del_first, resp_del_count; /* into conf.strlist */
};

struct gw_ipfilter {
	uint32_t allow_first, allow_count; /* into conf.cidrs; none: all allowed */
	uint32_t deny_first, deny_count;   /* into conf.cidrs; deny wins */
};

struct gw_cidr {
	uint8_t family;   /* 4 or 6 */
	uint8_t prefix;   /* 0..32 or 0..128; host bits are zero */
	uint8_t addr[16]; /* network byte order; IPv4 in addr[0..3] */
};

struct gw_target {
	struct gw_str host; /* IP literal or name, no brackets */
	uint16_t port;
	uint32_t weight;    /* >= 1 */
};

struct gw_upstream {
	struct gw_str name;
	uint32_t tgt_first, tgt_count; /* into conf.targets, count >= 1 */
	uint8_t balance;               /* enum gw_balance */
	uint8_t hash_key;              /* enum gw_hash_key, GW_LB_HASH only */
	struct gw_str hash_header;     /* GW_HK_HEADER */
	uint32_t connect_timeout_ms;
	uint32_t timeout_ms;
	uint32_t max_conns;            /* per target */
	uint32_t retries;              /* idempotent methods only, on another target */
	struct gw_str hc_path;         /* active health check; empty: none */
	uint32_t hc_interval_ms, hc_timeout_ms;
	uint16_t hc_healthy, hc_unhealthy;
	uint32_t cb_failures;          /* passive: consecutive failures to eject; 0: off */
	uint32_t cb_cooldown_ms;
	uint32_t buffer;               /* streaming buffer per direction, bytes, a
	                                  power of two; 0: GW_DEFAULT_UPSTREAM_BUFFER */
	uint32_t tls;                  /* into conf.uptls (the blob: UPTLS), or
	                                  GW_NONE: plain HTTP */
	uint32_t max_websockets;       /* open WebSockets at once, ≤ 65535; 0: gwd's default */
	struct gw_place place;
};

/* An upstream's `tls` (docs/routes.md, "upstreams"): HTTPS to every target. */
struct gw_uptls {
	uint32_t upstream;         /* its upstream, into conf.upstreams */
	uint8_t verify;            /* 1: the certificate chain and name are checked */
	struct gw_str server_name; /* SNI and the name checked; "": the target's host */
	struct gw_str ca_file;     /* absolute path; "": the system's CA store */
	struct gw_str cert, key;   /* absolute paths, both or neither: mutual TLS */
	struct gw_place place;     /* the `tls` key */
};

#define GW_DEFAULT_UPSTREAM_BUFFER (128u * 1024u)

struct gw_settings {
	uint32_t trusted_first, trusted_count; /* into conf.cidrs: proxies whose
	                                          X-Forwarded-For is believed */
	struct gw_str session_cookie;
	uint32_t session_idle_ms, session_lifetime_ms;
	uint32_t max_header_bytes;   /* request line + headers; 431 past it */
	uint32_t header_timeout_ms;  /* whole request head, from the first byte */
	uint32_t idle_timeout_ms;    /* keep-alive idle */
	uint32_t max_conns, max_conns_per_ip;
	uint8_t session_secure;      /* enum gw_secure: the session cookie's Secure */
	uint8_t underscore_headers;  /* enum gw_underscore: client fields with '_' */
	uint16_t websocket_idle_s;   /* a WebSocket with no byte either way is closed
	                                after this; 0: gwd's default */
};

/* settings.sessions.secure: when the session cookie carries Secure. */
enum gw_secure {
	GW_SECURE_AUTO = 0,   /* gwd serves TLS, or a trusted proxy says https */
	GW_SECURE_ALWAYS = 1,
	GW_SECURE_NEVER = 2,
};

/* settings.underscore_headers: what a proxy route forwards of a client
 * field whose name holds '_' (CGI, WSGI and PHP read '_' and '-' alike). */
enum gw_underscore {
	GW_US_DROP_LOOKALIKES = 0, /* drop it when, '_' read as '-', the gateway
	                              sets or withholds that name */
	GW_US_DROP = 1,            /* drop every such field */
	GW_US_ALLOW = 2,           /* forward them all */
};

#define GW_VEC(T) struct { T *v; uint32_t n, cap; }

struct gw_conf {
	uint8_t fingerprint[32]; /* SHA-256 over the sources (docs/blob-format.md) */
	GW_VEC(struct gw_str) files;   /* source file names, in command-line order */
	GW_VEC(struct gw_str) hosts;   /* [0] = "" (any host); the rest lower-case,
	                                  no port, sorted by bytes, unique */
	GW_VEC(struct gw_route) routes;
	GW_VEC(struct gw_respond) responds;
	GW_VEC(struct gw_proxy) proxies;
	GW_VEC(struct gw_tpl) tpls;
	GW_VEC(struct gw_header) headers;
	GW_VEC(struct gw_str) strlist;
	GW_VEC(uint32_t) polrefs;      /* policy indexes */
	GW_VEC(struct gw_policy) policies;
	GW_VEC(struct gw_ratelimit) ratelimits;
	GW_VEC(struct gw_auth) auths;
	GW_VEC(struct gw_jwt) jwts;
	GW_VEC(struct gw_jwk) jwks;
	GW_VEC(uint64_t) body_limits;  /* bytes, or GW_BODY_LIMIT_NONE */
	GW_VEC(struct gw_cors) cors;
	GW_VEC(struct gw_hdrpol) hdrpols;
	GW_VEC(struct gw_ipfilter) ipfilters;
	GW_VEC(struct gw_cidr) cidrs;
	GW_VEC(struct gw_upstream) upstreams;
	GW_VEC(struct gw_target) targets;
	GW_VEC(struct gw_uptls) uptls; /* in upstream order */
	struct gw_settings settings;
};

/* Defaults of struct gw_settings when a route file sets nothing (docs/routes.md). */
#define GW_DEFAULT_SESSION_COOKIE "gw_session"
#define GW_DEFAULT_SESSION_IDLE_MS (30u * 60 * 1000)
#define GW_DEFAULT_SESSION_LIFETIME_MS (12u * 3600 * 1000)
#define GW_DEFAULT_MAX_HEADER_BYTES (16u * 1024)
#define GW_DEFAULT_HEADER_TIMEOUT_MS 10000u
#define GW_DEFAULT_IDLE_TIMEOUT_MS 60000u
#define GW_DEFAULT_MAX_CONNS 4096u
#define GW_DEFAULT_MAX_CONNS_PER_IP 1024u

/* Make room for one more element of <*v> (of <size> bytes) given <n> used and
 * <*cap> allocated; returns a pointer to the new zeroed element (the caller
 * increments n), or NULL when memory runs out (nothing is freed then). */
void *gw_vec_push(void **v, uint32_t n, uint32_t *cap, size_t size);
#define GW_VEC_PUSH(vec) \
	gw_vec_push((void **)&(vec).v, (vec).n, &(vec).cap, sizeof *(vec).v)

/* Initialise <c> empty, with hosts[0] = "" and the default settings. Returns 0,
 * or -1 when memory runs out. Free with gw_conf_free(). */
int gw_conf_init(struct gw_conf *c);

/* Free every array of <c>.  Strings are not freed: their owner (gwc's string
 * arena) is. */
void gw_conf_free(struct gw_conf *c);

/* Method name <-> bit.  gw_method_bit returns 0 for an unknown name. */
unsigned gw_method_bit(const char *name, size_t len);
const char *gw_method_name(unsigned bit);

#endif
