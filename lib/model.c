/* Growth, initialisation and names for the configuration model (model.h). */
#include "lib/model.h"

#include <stdlib.h>
#include <string.h>

void *gw_vec_push(void **v, uint32_t n, uint32_t *cap, size_t size)
{
	if (n == UINT32_MAX - 1)
		return NULL;
	if (n >= *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 8;
		void *nv;

		if (ncap < *cap || (size_t)ncap > SIZE_MAX / size)
			return NULL;
		nv = realloc(*v, (size_t)ncap * size);
		if (!nv)
			return NULL;
		*v = nv;
		*cap = ncap;
	}
	char *e = (char *)*v + (size_t)n * size;
	memset(e, 0, size);
	return e;
}

int gw_conf_init(struct gw_conf *c)
{
	struct gw_str *any;

	memset(c, 0, sizeof *c);
	any = GW_VEC_PUSH(c->hosts);
	if (!any)
		return -1;
	any->p = "";
	any->len = 0;
	c->hosts.n = 1;
	c->settings.session_cookie.p = GW_DEFAULT_SESSION_COOKIE;
	c->settings.session_cookie.len = sizeof GW_DEFAULT_SESSION_COOKIE - 1;
	c->settings.session_idle_ms = GW_DEFAULT_SESSION_IDLE_MS;
	c->settings.session_lifetime_ms = GW_DEFAULT_SESSION_LIFETIME_MS;
	c->settings.max_header_bytes = GW_DEFAULT_MAX_HEADER_BYTES;
	c->settings.header_timeout_ms = GW_DEFAULT_HEADER_TIMEOUT_MS;
	c->settings.idle_timeout_ms = GW_DEFAULT_IDLE_TIMEOUT_MS;
	c->settings.max_conns = GW_DEFAULT_MAX_CONNS;
	c->settings.max_conns_per_ip = GW_DEFAULT_MAX_CONNS_PER_IP;
	return 0;
}

#define FREE_VEC(x) do { free((x).v); (x).v = NULL; (x).n = (x).cap = 0; } while (0)

void gw_conf_free(struct gw_conf *c)
{
	FREE_VEC(c->files);
	FREE_VEC(c->hosts);
	FREE_VEC(c->routes);
	FREE_VEC(c->responds);
	FREE_VEC(c->proxies);
	FREE_VEC(c->tpls);
	FREE_VEC(c->headers);
	FREE_VEC(c->strlist);
	FREE_VEC(c->polrefs);
	FREE_VEC(c->policies);
	FREE_VEC(c->ratelimits);
	FREE_VEC(c->auths);
	FREE_VEC(c->jwts);
	FREE_VEC(c->jwks);
	FREE_VEC(c->body_limits);
	FREE_VEC(c->cors);
	FREE_VEC(c->hdrpols);
	FREE_VEC(c->ipfilters);
	FREE_VEC(c->cidrs);
	FREE_VEC(c->upstreams);
	FREE_VEC(c->targets);
	FREE_VEC(c->uptls);
}

static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
};

unsigned gw_method_bit(const char *name, size_t len)
{
	for (unsigned i = 0; i < sizeof method_names / sizeof *method_names; i++)
		if (strlen(method_names[i]) == len && memcmp(method_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

const char *gw_method_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof method_names / sizeof *method_names; i++)
		if (bit == 1u << i)
			return method_names[i];
	return NULL;
}
