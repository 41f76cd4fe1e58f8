/* The api_key auth policy (gwd/apikey.h): digest the presented key, look it
 * up in the cache, then in the store on a miss, and hand on the key's name. */
#include "gwd/apikey.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwd/authcache.h"

#define DEFAULT_KEYS 4096u

struct gw_apikeys {
	struct gw_store *st;
	struct gw_acache *cache;
};

/* Store hook: another process deleted the key <digest> (gw_store_on_evict). */
static void evict_key(void *arg, const uint8_t digest[GW_DIGEST_LEN])
{
	struct gw_apikeys *ak = arg;

	(void)gw_acache_remove(ak->cache, digest);
}

/* See apikey.h. */
int gw_apikeys_new(struct gw_apikeys **out, struct gw_store *st,
                   uint32_t cache_entries)
{
	struct gw_apikeys *ak = calloc(1, sizeof *ak);

	*out = NULL;
	if (!ak)
		return -1;
	if (gw_acache_new(&ak->cache, cache_entries ? cache_entries : DEFAULT_KEYS) < 0) {
		free(ak);
		return -1;
	}
	ak->st = st;
	gw_acache_sync(ak->cache, gw_store_revision(st));
	if (gw_store_on_evict(st, 'k', evict_key, ak) < 0) {
		gw_acache_free(ak->cache);
		free(ak);
		return -1;
	}
	*out = ak;
	return 0;
}

/* See apikey.h. */
void gw_apikeys_free(struct gw_apikeys *ak)
{
	if (!ak)
		return;
	gw_acache_free(ak->cache);
	free(ak);
}

/* See apikey.h.  Keys never expire, so the cache is asked with no idle or
 * lifetime limit and the entries carry expires = UINT64_MAX. */
int gw_apikey_check(struct gw_apikeys *ak, const char *value,
                    struct gw_principal *who)
{
	struct gw_acache_val v;
	const char *p, *e;
	uint64_t gen;
	int r;

	if (!gw_store_available(ak->st) && !gw_store_shared(ak->st))
		return -1;
	if (!value)
		return 0;
	for (p = value; *p == ' ' || *p == '\t'; p++)
		;
	for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	if (!gw_token_shape_ok(p, (size_t)(e - p)) ||
	    gw_token_digest(p, (size_t)(e - p), who->digest) < 0)
		return 0;
	gw_acache_sync(ak->cache, gw_store_revision(ak->st));
	r = gw_acache_get(ak->cache, who->digest, 0, 0, 0, 0, who->name, &who->len);
	if (r == GW_AC_HIT) {
		who->kind = GW_PRINCIPAL_KEY;
		return 1;
	}
	gen = gw_acache_gen(ak->cache, who->digest);
	memset(&v, 0, sizeof v);
	r = gw_store_key_get(ak->st, who->digest, v.name);
	if (r <= 0)
		return r;
	v.len = (uint8_t)strlen(v.name);
	v.expires_ms = UINT64_MAX;
	(void)gw_acache_put(ak->cache, who->digest, gen, &v, 0);
	who->kind = GW_PRINCIPAL_KEY;
	who->len = v.len;
	memcpy(who->name, v.name, (size_t)v.len + 1);
	return 1;
}

/* See apikey.h. */
int gw_apikey_create(struct gw_store *st, const char *name,
                     char key[GW_TOKEN_LEN + 1])
{
	uint8_t digest[GW_DIGEST_LEN];
	int r;

	if (!gw_store_name_ok(name, strlen(name)))
		return 0;
	if (gw_token_new(key, digest) < 0)
		return -1;
	r = gw_store_key_add(st, name, digest, (int64_t)time(NULL));
	if (r != 1)
		explicit_bzero(key, GW_TOKEN_LEN + 1);
	return r;
}
