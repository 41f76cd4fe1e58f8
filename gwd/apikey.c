/* The api_key auth policy (gwd/apikey.h): digest the presented key, look it
 * up in the cache, then in the store on a miss, and hand on the key's name. */
#include "gwd/apikey.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwd/authcache.h"

#define DEFAULT_KEYS 4096u

struct gwd_apikeys {
	struct gwd_store *st;
	struct gwd_authcache *cache;
};

/* Store hook: another process deleted the key <digest> (gwd_store_on_evict). */
static void evict_key(void *arg, const uint8_t digest[GWD_STORE_DIGEST_LEN])
{
	struct gwd_apikeys *ak = arg;

	(void)gwd_authcache_remove(ak->cache, digest);
}

/* See apikey.h. */
int gwd_apikey_new(struct gwd_apikeys **out, struct gwd_store *st,
                   uint32_t cache_entries)
{
	struct gwd_apikeys *ak = calloc(1, sizeof *ak);

	*out = NULL;
	if (!ak)
		return -1;
	if (gwd_authcache_new(&ak->cache, cache_entries ? cache_entries : DEFAULT_KEYS) < 0) {
		free(ak);
		return -1;
	}
	ak->st = st;
	gwd_authcache_sync(ak->cache, gwd_store_revision(st));
	if (gwd_store_on_evict(st, 'k', evict_key, ak) < 0) {
		gwd_authcache_free(ak->cache);
		free(ak);
		return -1;
	}
	*out = ak;
	return 0;
}

/* See apikey.h. */
void gwd_apikey_free(struct gwd_apikeys *ak)
{
	if (!ak)
		return;
	gwd_authcache_free(ak->cache);
	free(ak);
}

/* See apikey.h.  Keys never expire, so the cache is asked with no idle or
 * lifetime limit and the entries carry expires = UINT64_MAX. */
int gwd_apikey_check(struct gwd_apikeys *ak, const char *value,
                    struct gwd_session_principal *who)
{
	struct gwd_authcache_val v;
	const char *p, *e;
	uint64_t gen;
	int r;

	if (!gwd_store_available(ak->st) && !gwd_store_shared(ak->st))
		return -1;
	if (!value)
		return 0;
	for (p = value; *p == ' ' || *p == '\t'; p++)
		;
	for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	if (!gwd_token_shape_ok(p, (size_t)(e - p)) ||
	    gwd_token_digest(p, (size_t)(e - p), who->digest) < 0)
		return 0;
	gwd_authcache_sync(ak->cache, gwd_store_revision(ak->st));
	r = gwd_authcache_get(ak->cache, who->digest, 0, 0, 0, 0, who->name, &who->len);
	if (r == GWD_AUTHCACHE_HIT) {
		who->kind = GWD_SESSION_PRINCIPAL_KEY;
		return 1;
	}
	gen = gwd_authcache_gen(ak->cache, who->digest);
	memset(&v, 0, sizeof v);
	r = gwd_store_key_get(ak->st, who->digest, v.name);
	if (r <= 0)
		return r;
	v.len = (uint8_t)strlen(v.name);
	v.expires_ms = UINT64_MAX;
	(void)gwd_authcache_put(ak->cache, who->digest, gen, &v, 0);
	who->kind = GWD_SESSION_PRINCIPAL_KEY;
	who->len = v.len;
	memcpy(who->name, v.name, (size_t)v.len + 1);
	return 1;
}

/* See apikey.h. */
int gwd_apikey_create(struct gwd_store *st, const char *name,
                     char key[GWD_TOKEN_LEN + 1])
{
	uint8_t digest[GWD_STORE_DIGEST_LEN];
	int r;

	if (!gwd_store_name_ok(name, strlen(name)))
		return 0;
	if (gwd_token_new(key, digest) < 0)
		return -1;
	r = gwd_store_key_add(st, name, digest, (int64_t)time(NULL));
	if (r != 1)
		explicit_bzero(key, GWD_TOKEN_LEN + 1);
	return r;
}
