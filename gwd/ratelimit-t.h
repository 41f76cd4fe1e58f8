/* Types of gwd's in-process rate limiter (GCRA per key, sharded tables).
 *
 * Split HAProxy's way: this file holds the structs and constants, ratelimit.h
 * the prototypes and the static inline fast path (lookup + compare-and-swap),
 * ratelimit.c the rare slow path (insertion, eviction, registry, rendering).
 * The structs are visible only so that the fast path can be inlined; callers
 * treat struct gwd_ratelimit_table and struct gwd_ratelimit_registry as opaque.
 *
 * One table per limit (struct gw_ratelimit of lib/model.h):
 *
 *   gwd_ratelimit_table
 *   +--------------------------------------------+
 *   | t_ns = period/quota, tol_ns = burst * t_ns |
 *   | shared cell (kind ROUTE, and the fallback  |
 *   |   bucket when a shard is full)             |
 *   | shards[0 .. 2^k)                           |
 *   +--------------------------------------------+
 *        |
 *        v  shard = bits 32.. of hash(key), bucket = low bits
 *   gwd_ratelimit_shard  (own lock, taken only to insert or evict)
 *   +---------------+      +------------------------------------------+
 *   | heads[nbucket]|----->| cells[cap]: one slab, allocated at start  |
 *   +---------------+      |  cell = { tat | key (16 B) | next | pad } |
 *                          |         8       16           4      4   |
 *                          +------------------------------------------+
 *
 * A cell is 32 bytes and a bucket head 4 bytes; with at most one head per
 * cell (rounded up to a power of two) a key costs 36 to 40 bytes.
 *
 * The TAT (theoretical arrival time, ns of CLOCK_MONOTONIC) is the whole state
 * of a key, and it doubles as the cell's version.  The slow path gives a cell
 * to a new key only when its TAT has passed (TAT < now): it first swaps the
 * TAT to GWD_RATELIMIT_LOCKED, rewrites the key, then stores now + T, above the old
 * TAT.  A reader that sees the same TAT before and after reading the key read
 * a consistent key, and a compare-and-swap that expects that TAT fails once
 * the cell changed hands.  The one hole: a rollback lowers a TAT, so a reader
 * stalled since before a rollback holds a value above the current one, and
 * its compare-and-swap would land on the new key if that key's TAT came to
 * equal the stale value to the nanosecond.  The cost would be one request
 * counted against the wrong bucket; memory stays safe (cells never move).
 */
#ifndef GWD_RATELIMIT_T_H
#define GWD_RATELIMIT_T_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct gwd_cluster_lim;

#define GWD_RATELIMIT_LOCKED UINT64_MAX /* TAT of a cell being re-keyed */
#define GWD_RATELIMIT_NIL 0             /* end of a chain: links hold index + 1, so
                                   that zeroed (untouched) memory is empty */
#define GWD_RATELIMIT_MAX_LIMITS 16     /* limits checked for one request */
#define GWD_RATELIMIT_NAME_MAX 96       /* bytes of a limit's name, NUL included */
#define GWD_RATELIMIT_HEADERS 6         /* header fields rendered at most */
/* Their order: X-RateLimit-Limit, -Remaining, -Reset, then RateLimit-Policy
 * and RateLimit from GWD_RATELIMIT_H_IETF on, then Retry-After at GWD_RATELIMIT_H_RETRY when
 * refused. */
#define GWD_RATELIMIT_H_IETF 3
#define GWD_RATELIMIT_H_RETRY 5
#define GWD_RATELIMIT_ITEM_MAX 240      /* `"name";q=Q;w=W` with its NUL: a name of
                                   GWD_RATELIMIT_NAME_MAX - 1 bytes, every one escaped
                                   (192 quoted), and two 20-digit numbers */

/* The key of a request within one table: a client address (IPv6, IPv4 as
 * v4-mapped ::ffff:a.b.c.d) as is, or a keyed 128-bit hash of a user name, API
 * key name or header value.  Fixed size, so the memory per key is fixed. */
struct gwd_ratelimit_keyval {
	uint64_t w[2];
};

/* One key's state.  Every field is atomic because readers walk chains
 * without the lock while the slow path re-keys expired cells. */
struct gwd_ratelimit_cell {
	_Atomic uint64_t tat;  /* theoretical arrival time, ns; GWD_RATELIMIT_LOCKED */
	_Atomic uint64_t k[2]; /* struct gwd_ratelimit_keyval */
	_Atomic uint32_t next; /* next cell of the chain (index + 1), GWD_RATELIMIT_NIL */
	uint32_t pad;
};

/* A shard: its own slab of cells and bucket heads, and a lock taken only to
 * insert or evict (lookups never take it).  Aligned so that two shards'
 * locks never share a cache line. */
struct gwd_ratelimit_shard {
	pthread_mutex_t lock;
	struct gwd_ratelimit_cell *cells;  /* cap cells */
	_Atomic uint32_t *heads;   /* bmask + 1 chain heads (index + 1) */
	void *mem;                 /* the one zeroed allocation holding both */
	uint32_t cap;              /* cells in this shard */
	_Atomic uint32_t used;     /* cells handed out so far, <= cap */
	uint32_t bmask;
	uint32_t hand;             /* eviction clock hand, under lock */
	uint64_t quiet_until;      /* under lock: no cell expires before this */
	_Atomic uint64_t fallbacks;/* requests sent to the shared cell */
} __attribute__((aligned(64)));

/* A table: everything one limit needs, owned by the registry (or by the
 * caller of gwd_ratelimit_table_new). */
struct gwd_ratelimit_table {
	struct gwd_ratelimit_cell shared;  /* ROUTE key, and the fallback bucket */
	/* A ROUTE table writes the shared cell on every request: what every
	 * request reads starts on a cache line of its own, so that the reads
	 * do not miss each time another thread's CAS took the line. */
	_Alignas(64) uint64_t t_ns; /* emission interval: period / quota, >= 1 */
	uint64_t tol_ns;           /* burst * t_ns: admit while new TAT - now <= it */
	uint32_t quota, period_ms, burst, max_keys;
	uint8_t kind;              /* enum gw_rl_key of lib/model.h */
	uint8_t scope;             /* enum gwd_ratelimit_scope */
	uint8_t on_err;            /* enum gwd_ratelimit_onerr */
	struct gwd_cluster_lim *cl; /* scope cluster: the leases (gwd/cluster_rl.h),
	                              made by the registry; NULL otherwise */
	uint32_t nshards;          /* power of two; 0 for kind ROUTE */
	uint32_t smask;            /* nshards - 1 */
	struct gwd_ratelimit_shard *shards;
	char name[GWD_RATELIMIT_NAME_MAX]; /* copied: outlives the blob it came from */
	/* Header text that depends on the parameters alone, rendered once by
	 * gwd_ratelimit_table_new, so that a request formats only its own numbers and
	 * a one-limit policy's RateLimit-Policy is this very string. */
	uint64_t hdr_q;            /* RateLimit-Policy's q, the cap of RateLimit's r */
	uint16_t hdr_item_len;     /* bytes of hdr_item, NUL excluded */
	uint16_t hdr_sfname_len;   /* bytes of its leading quoted name */
	uint8_t hdr_limit_len;     /* bytes of hdr_limit, NUL excluded */
	char hdr_limit[11];        /* the quota in decimal (X-RateLimit-Limit) */
	char hdr_item[GWD_RATELIMIT_ITEM_MAX]; /* "name";q=Q;w=W (RateLimit-Policy) */
	/* registry bookkeeping, under the registry's lock */
	uint64_t ident;
	uint32_t index;
	uint32_t refs;
	struct gwd_ratelimit_table *next;
} __attribute__((aligned(64)));

/* The outcome of one limit for one request.  Filled by gwd_ratelimit_admit and
 * gwd_ratelimit_peek; <cell> and <tat> let gwd_ratelimit_rollback return the request. */
struct gwd_ratelimit_result {
	struct gwd_ratelimit_table *table;
	struct gwd_ratelimit_cell *cell;  /* consumed cell, NULL when nothing consumed */
	uint8_t admitted;         /* 1 admitted, 0 limited */
	uint8_t fallback;         /* 1 when charged to the shared fallback bucket */
	uint8_t cluster;          /* 1 when a cluster lease was charged */
	uint32_t limit;           /* the quota of the limit */
	uint32_t remaining;       /* requests admitted right after this one */
	uint32_t reset_s;         /* seconds until the bucket is full again
	                             (X-RateLimit-Reset) */
	uint32_t next_s;          /* seconds until one more request is available,
	                             0 when full (RateLimit t=) */
	uint32_t retry_after_s;   /* limited: seconds until one is admitted, >= 1;
	                             admitted: 0 */
};

/* One limit to check for a request: its table and the request's key in it. */
struct gwd_ratelimit_check {
	struct gwd_ratelimit_table *table;
	struct gwd_ratelimit_keyval key;
};

/* The decision over every limit of a route. */
struct gwd_ratelimit_decision {
	uint8_t admitted;  /* 1 when every limit admitted the request */
	uint8_t n;         /* number of results */
	int8_t refused;    /* index of the first limit that refused, or -1 */
	uint8_t report;    /* index of the most restrictive limit (X-RateLimit-*) */
	struct gwd_ratelimit_result r[GWD_RATELIMIT_MAX_LIMITS];
};

/* Rendered header fields: NUL-terminated names (static) and values (in the
 * caller's buffer, or in the decision's tables for the text that is fixed
 * per limit), with their lengths, ready for MHD_add_response_header. */
struct gwd_ratelimit_headers {
	unsigned n;
	const char *name[GWD_RATELIMIT_HEADERS];
	const char *value[GWD_RATELIMIT_HEADERS];
	uint32_t nlen[GWD_RATELIMIT_HEADERS];
	uint32_t vlen[GWD_RATELIMIT_HEADERS];
};

/* The registry: tables by policy identity, shared by blob generations. */
struct gwd_ratelimit_registry {
	pthread_mutex_t lock;
	struct gwd_ratelimit_table *tables;
};

#endif
