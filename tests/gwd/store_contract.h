/* What every store backend (gwd/store.h: the SQLite file of gwd/store.c,
 * Redis through gwd/redis_store.c) must answer alike, checked by the suites
 * of both against a store each opens its own way:
 *
 *   struct gwd_store *st = ...;      empty, opened by the suite
 *   contract_users(st);              leaves "alice" and "bob"
 *   contract_keys(st, d1, d2);       leaves "batch" (d2) and "ci" (d1)
 *
 * What differs between the backends (revisions, the cascade, invalidation
 * messages, SQLite-only walks) stays in each suite.  Included once per test
 * file; everything is static.
 */
#ifndef GW_TESTS_GWD_STORE_CONTRACT_H
#define GW_TESTS_GWD_STORE_CONTRACT_H

#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "gwd/store.h"

/* A user or key walk's callback: appends "<name>," to the string <arg>. */
static inline int contract_collect(const char *name, int64_t created_s, void *arg)
{
	char *out = arg;

	(void)created_s;
	strcat(out, name);
	strcat(out, ",");
	return 0;
}

/* Users in empty store <st>: two added, a taken name and bad names refused,
 * each found with its own id and hash, a rehash only from the hash checked
 * and only for an id that exists, the list in name order. */
static inline void contract_users(struct gwd_store *st)
{
	char h[GWD_STORE_PWHASH_MAX + 1], list[256] = "";
	int64_t id = 0, id2 = 0;

	CU_ASSERT_EQUAL(gwd_store_user_add(st, "bob", "$hash-bob", 100), 1);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "alice", "$hash-alice", 100), 1);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "alice", "$other", 100), 0);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "-x", "$h", 100), 0);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "a b", "$h", 100), 0);
	CU_ASSERT_EQUAL(gwd_store_user_add(st, "", "$h", 100), 0);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id, h, sizeof h), 1);
	CU_ASSERT_STRING_EQUAL(h, "$hash-alice");
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "bob", &id2, h, sizeof h), 1);
	CU_ASSERT_STRING_EQUAL(h, "$hash-bob");
	CU_ASSERT_NOT_EQUAL(id, id2);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "carol", &id2, h, sizeof h), 0);
	CU_ASSERT_EQUAL(gwd_store_user_set_hash(st, id, "$wrong", "$new"), 0);
	CU_ASSERT_EQUAL(gwd_store_user_set_hash(st, id, "$hash-alice", "$new"), 1);
	CU_ASSERT_EQUAL(gwd_store_user_get(st, "alice", &id2, h, sizeof h), 1);
	CU_ASSERT_STRING_EQUAL(h, "$new");
	CU_ASSERT_EQUAL(id2, id);
	CU_ASSERT_EQUAL(gwd_store_user_set_hash(st, 99999, "$new", "$new"), 0);
	CU_ASSERT_EQUAL(gwd_store_user_list(st, contract_collect, list), 2);
	CU_ASSERT_STRING_EQUAL(list, "alice,bob,");
}

/* API keys in store <st> (no keys yet), digests <d1> and <d2> distinct: a
 * taken name and a bad name refused, a key found by its digest, the list in
 * name order. */
static inline void contract_keys(struct gwd_store *st, const uint8_t d1[GWD_STORE_DIGEST_LEN],
				 const uint8_t d2[GWD_STORE_DIGEST_LEN])
{
	char name[GWD_STORE_NAME_MAX + 1], list[128] = "";

	CU_ASSERT_EQUAL(gwd_store_key_add(st, "ci", d1, 5), 1);
	CU_ASSERT_EQUAL(gwd_store_key_add(st, "ci", d2, 5), 0);
	CU_ASSERT_EQUAL(gwd_store_key_add(st, "ci", d1, 5), 0);
	CU_ASSERT_EQUAL(gwd_store_key_add(st, "bad name", d2, 5), 0);
	CU_ASSERT_EQUAL(gwd_store_key_add(st, "batch", d2, 5), 1);
	CU_ASSERT_EQUAL(gwd_store_key_get(st, d1, name), 1);
	CU_ASSERT_STRING_EQUAL(name, "ci");
	CU_ASSERT_EQUAL(gwd_store_key_get(st, d2, name), 1);
	CU_ASSERT_STRING_EQUAL(name, "batch");
	CU_ASSERT_EQUAL(gwd_store_key_list(st, contract_collect, list), 2);
	CU_ASSERT_STRING_EQUAL(list, "batch,ci,");
}

#endif
