/* JWKS URL sources and their fetch thread (jwks.h). */
#include "gwd/jwks.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "gwd/buf.h"
#include "gwd/clock.h"
#include "gwd/health.h"
#include "gwd/metrics.h"

#define FETCH_MAX_BYTES (256u * 1024)
#define FETCH_TIMEOUT_MS 5000L
#define JWKS_MAX_KEYS 64u

struct gwd_jwks {
	struct gwd_jwks *next;           /* registry list (reg_lock) */
	uint32_t refs;                   /* (reg_lock) */
	char *url;
	uint32_t min_s, max_s, refetch_s;
	pthread_mutex_t mu;              /* guards what follows */
	struct gwd_jwks_set *set;
	uint64_t next_ms;                /* next scheduled fetch (monotonic) */
	uint64_t last_fetch_ms;          /* last attempt, 0: none */
	uint64_t last_ok_ms;             /* last success, 0: none */
	int want;                        /* an unknown kid asked for a refetch */
	int failing;                     /* the last attempt failed */
	uint64_t n_ok, n_err;
	uint64_t body_hash;              /* FNV-1a 64 of the serving set's document */
	_Atomic uint64_t serial;         /* bumped when the key set changes */
	char err[96];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;
static struct gwd_jwks *sources;
static pthread_t thread;
static int running, registered;
static _Atomic int stopping; /* read by the transfer's progress callback */

/* ---- sets ---------------------------------------------------------------- */

/* Free <set> and its keys (no reference check). */
static void set_free(struct gwd_jwks_set *set)
{
	if (!set)
		return;
	for (uint32_t i = 0; i < set->n; i++) {
		gw_jwk_key_free(&set->keys[i].key);
		free(set->keys[i].kid);
	}
	free(set->keys);
	free(set);
}

void gwd_jwks_set_put(struct gwd_jwks_set *set)
{
	if (set && atomic_fetch_sub(&set->refs, 1) == 1)
		set_free(set);
}

/* The string member <k> of object <o>, with its length, or NULL. */
static const char *jstr(json_t *o, const char *k, size_t *len)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		return NULL;
	*len = json_string_length(v);
	return json_string_value(v);
}

int gwd_jwks_parse(const char *json, size_t len, struct gwd_jwks_set **out, char *why,
		   size_t cap)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je), *keys;
	struct gwd_jwks_set *set = NULL;
	size_t n;

	*out = NULL;
	if (!root) {
		snprintf(why, cap, "not JSON: %s", je.text);
		return -1;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0) {
		snprintf(why, cap, "no \"keys\" array");
		goto fail;
	}
	n = json_array_size(keys);
	if (n > JWKS_MAX_KEYS)
		n = JWKS_MAX_KEYS;
	set = calloc(1, sizeof *set);
	if (!set || !(set->keys = calloc(n, sizeof *set->keys))) {
		snprintf(why, cap, "out of memory");
		goto fail;
	}
	atomic_init(&set->refs, 1);
	for (size_t i = 0; i < n; i++) {
		json_t *k = json_array_get(keys, i);
		struct gw_jwk j = { 0 };
		const char *s, *kid;
		size_t sl, kl = 0;
		char kwhy[96];

		if (!json_is_object(k) || !(s = jstr(k, "kty", &sl)))
			continue;
		j.kty = (uint8_t)gw_jwk_kty(s, sl);
		if (!j.kty || j.kty == GW_KTY_OCT)
			continue;
		if ((s = jstr(k, "use", &sl)) && !(sl == 3 && memcmp(s, "sig", 3) == 0))
			continue;
		if ((s = jstr(k, "crv", &sl)))
			j.crv = (uint8_t)gw_jwk_crv(s, sl);
		j.algs = (uint16_t)gw_jwk_fits(j.kty, j.crv);
		if (!j.algs)
			continue;
		if ((s = jstr(k, "alg", &sl))) {
			unsigned bit = gw_jwa_bit(s, sl);

			if (!(bit & j.algs))
				continue; /* an alg its type cannot serve: not this key's */
			j.algs = (uint16_t)bit;
		}
		s = jstr(k, j.kty == GW_KTY_RSA ? "n" : "x", &sl);
		if (!s)
			continue;
		j.a = (struct gw_str){ s, (uint32_t)sl };
		if (j.kty != GW_KTY_OKP) {
			s = jstr(k, j.kty == GW_KTY_RSA ? "e" : "y", &sl);
			if (!s)
				continue;
			j.b = (struct gw_str){ s, (uint32_t)sl };
		}
		kid = jstr(k, "kid", &kl);
		if (!kid)
			kid = "", kl = 0;
		for (uint32_t m = 0; m < set->n; m++)
			if (strlen(set->keys[m].kid) == kl && memcmp(set->keys[m].kid, kid, kl) == 0) {
				snprintf(why, cap, "two keys with kid \"%.40s\"", kid);
				goto fail;
			}
		if (gw_jwk_import(&j, &set->keys[set->n].key, kwhy, sizeof kwhy))
			continue;
		set->keys[set->n].kid = strndup(kid, kl);
		if (!set->keys[set->n].kid) {
			gw_jwk_key_free(&set->keys[set->n].key);
			snprintf(why, cap, "out of memory");
			goto fail;
		}
		set->n++;
	}
	if (!set->n) {
		snprintf(why, cap, "no usable key");
		goto fail;
	}
	json_decref(root);
	*out = set;
	return 0;
fail:
	set_free(set);
	json_decref(root);
	return -1;
}

/* ---- sources ------------------------------------------------------------- */

struct gwd_jwks *gwd_jwks_acquire(const char *url, uint32_t refresh_min_s,
				  uint32_t refresh_max_s, uint32_t refetch_s)
{
	struct gwd_jwks *s;

	pthread_mutex_lock(&reg_lock);
	for (s = sources; s; s = s->next)
		if (strcmp(s->url, url) == 0 && s->min_s == refresh_min_s &&
		    s->max_s == refresh_max_s && s->refetch_s == refetch_s) {
			s->refs++;
			goto out;
		}
	s = calloc(1, sizeof *s);
	if (!s || !(s->url = strdup(url))) {
		free(s);
		s = NULL;
		goto out;
	}
	s->refs = 1;
	s->min_s = refresh_min_s;
	s->max_s = refresh_max_s;
	s->refetch_s = refetch_s;
	pthread_mutex_init(&s->mu, NULL);
	s->next = sources;
	sources = s;
	pthread_cond_signal(&reg_cond); /* a new source: fetch it now */
out:
	pthread_mutex_unlock(&reg_lock);
	return s;
}

void gwd_jwks_release(struct gwd_jwks *s)
{
	struct gwd_jwks **pp;

	if (!s)
		return;
	pthread_mutex_lock(&reg_lock);
	if (--s->refs) {
		pthread_mutex_unlock(&reg_lock);
		return;
	}
	for (pp = &sources; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	/* the thread holds a reference while it fetches: refs reached 0 with
	 * it not fetching this source */
	gwd_jwks_set_put(s->set);
	pthread_mutex_destroy(&s->mu);
	free(s->url);
	free(s);
}

struct gwd_jwks_set *gwd_jwks_get(struct gwd_jwks *s)
{
	struct gwd_jwks_set *set;

	pthread_mutex_lock(&s->mu);
	set = s->set;
	if (set)
		atomic_fetch_add(&set->refs, 1);
	pthread_mutex_unlock(&s->mu);
	return set;
}

uint64_t gwd_jwks_serial(struct gwd_jwks *s)
{
	return atomic_load_explicit(&s->serial, memory_order_acquire);
}

void gwd_jwks_want(struct gwd_jwks *s)
{
	int signal = 0;

	pthread_mutex_lock(&s->mu);
	if (!s->want) {
		s->want = 1;
		signal = 1;
	}
	pthread_mutex_unlock(&s->mu);
	if (signal) {
		pthread_mutex_lock(&reg_lock);
		pthread_cond_signal(&reg_cond);
		pthread_mutex_unlock(&reg_lock);
	}
}

/* ---- fetching ------------------------------------------------------------ */

struct fetch {
	char *buf;
	size_t len;
	long max_age; /* -1: none given */
	int too_big;
};

/* libcurl's body callback: append, refusing more than FETCH_MAX_BYTES. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct fetch *f = ud;
	size_t k = size * n;
	char *nb;

	if (f->len + k > FETCH_MAX_BYTES) {
		f->too_big = 1;
		return 0;
	}
	nb = realloc(f->buf, f->len + k + 1);
	if (!nb)
		return 0;
	f->buf = nb;
	memcpy(f->buf + f->len, p, k);
	f->len += k;
	return k;
}

/* libcurl's header callback: the max-age of Cache-Control. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct fetch *f = ud;
	size_t k = size * n;

	if (k > 14 && strncasecmp(p, "cache-control:", 14) == 0) {
		char line[256];
		const char *m;
		size_t l = k < sizeof line - 1 ? k : sizeof line - 1;

		memcpy(line, p, l);
		line[l] = '\0';
		m = strcasestr(line, "max-age=");
		if (m) {
			char *end;
			long v = strtol(m + 8, &end, 10);

			if (end != m + 8 && v >= 0)
				f->max_age = v;
		}
	}
	return k;
}

/* libcurl's progress callback: abort the transfer when gwd stops, so that
 * exit never waits for a provider's timeout. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)ud, (void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&stopping) ? 1 : 0;
}

/* Fetch source <s> once (outside every lock) and install the result. */
static void fetch_one(struct gwd_jwks *s)
{
	struct fetch f = { .max_age = -1 };
	struct gwd_jwks_set *set = NULL, *old = NULL;
	char why[96] = "";
	CURL *e = curl_easy_init();
	long status = 0;
	uint64_t t = gwd_clock_ms(), wait_s, hash = 0xcbf29ce484222325ull;
	CURLcode rc = CURLE_FAILED_INIT;

	if (e) {
		curl_easy_setopt(e, CURLOPT_URL, s->url);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, FETCH_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, FETCH_TIMEOUT_MS);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &f);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, &f);
		curl_easy_setopt(e, CURLOPT_USERAGENT, "gwd-jwks");
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		rc = curl_easy_perform(e);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(e);
	}
	if (rc != CURLE_OK)
		snprintf(why, sizeof why, "%s", f.too_big ? "response larger than 256 KiB"
							 : curl_easy_strerror(rc));
	else if (status != 200)
		snprintf(why, sizeof why, "HTTP %ld", status);
	else
		gwd_jwks_parse(f.buf ? f.buf : "", f.len, &set, why, sizeof why);
	for (size_t i = 0; set && i < f.len; i++)
		hash = (hash ^ (uint8_t)f.buf[i]) * 0x100000001b3ull;
	free(f.buf);
	/* max-age bounded to [min, max]; a failure retries after min */
	wait_s = set && f.max_age >= 0 ? (uint64_t)f.max_age : set ? s->max_s : s->min_s;
	if (wait_s < s->min_s)
		wait_s = s->min_s;
	if (wait_s > s->max_s)
		wait_s = s->max_s;
	pthread_mutex_lock(&s->mu);
	s->last_fetch_ms = t;
	s->next_ms = t + wait_s * 1000u;
	s->want = 0;
	if (set) {
		old = s->set;
		s->set = set;
		s->last_ok_ms = t;
		s->failing = 0;
		s->n_ok++;
		if (hash != s->body_hash || !old) {
			s->body_hash = hash;
			atomic_fetch_add_explicit(&s->serial, 1, memory_order_release);
		}
	} else {
		s->failing = 1;
		s->n_err++;
		snprintf(s->err, sizeof s->err, "%s", why);
	}
	pthread_mutex_unlock(&s->mu);
	gwd_jwks_set_put(old);
	if (!set)
		fprintf(stderr, "gwd: jwks %s: fetch failed: %s%s\n", s->url, why,
			old || s->last_ok_ms ? " (keeping the last good key set)" : "");
}

/* The source due now, with a reference taken (reg_lock held), or NULL; sets
 * <*wake> to when the next one is due. */
static struct gwd_jwks *due(uint64_t t, uint64_t *wake)
{
	*wake = t + 1000;
	for (struct gwd_jwks *s = sources; s; s = s->next) {
		uint64_t at;

		pthread_mutex_lock(&s->mu);
		at = s->next_ms;
		/* an unknown kid: refetch, but at most once per refetch interval */
		if (s->want) {
			uint64_t soon = s->last_fetch_ms + s->refetch_s * 1000u;

			if (soon < at)
				at = soon;
		}
		pthread_mutex_unlock(&s->mu);
		if (at <= t) {
			s->refs++;
			return s;
		}
		if (at < *wake)
			*wake = at;
	}
	return NULL;
}

/* The thread: fetch whatever is due, sleep until the next is (or a signal). */
static void *run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&reg_lock);
	while (!stopping) {
		uint64_t t = gwd_clock_ms(), wake;
		struct gwd_jwks *s = due(t, &wake);

		if (s) {
			pthread_mutex_unlock(&reg_lock);
			fetch_one(s);
			gwd_jwks_release(s);
			pthread_mutex_lock(&reg_lock);
			continue;
		}
		{
			struct timespec ts;
			uint64_t ms = wake - t;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(ms / 1000u);
			ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&reg_cond, &reg_lock, &ts);
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return NULL;
}

/* ---- health and metrics --------------------------------------------------- */

/* The "jwks" health check: degraded while a source has no key set or its
 * last fetch failed. */
static int health(void *ctx, char *detail, size_t cap)
{
	int st = GWD_HEALTH_OK;
	uint64_t t = gwd_clock_ms();

	(void)ctx;
	pthread_mutex_lock(&reg_lock);
	for (struct gwd_jwks *s = sources; s; s = s->next) {
		pthread_mutex_lock(&s->mu);
		if ((s->failing || !s->set) && st == GWD_HEALTH_OK) {
			st = GWD_HEALTH_DEGRADED;
			if (!s->set)
				snprintf(detail, cap, "%.60s: no key set yet%s%.60s", s->url,
					 s->err[0] ? ": " : "", s->err);
			else
				snprintf(detail, cap, "%.60s: %.50s; serving keys fetched %llu s ago",
					 s->url, s->err, (unsigned long long)((t - s->last_ok_ms) / 1000u));
		}
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&reg_lock);
	return st;
}

/* gateway_jwks_fetches_total{url,result} and gateway_jwks_keys{url}. */
static void render(struct gwd_buf *b, void *ctx)
{
	(void)ctx;
	gwd_buf_puts(b, "# HELP gateway_jwks_fetches_total JWKS URL fetches by result.\n"
			"# TYPE gateway_jwks_fetches_total counter\n");
	pthread_mutex_lock(&reg_lock);
	for (struct gwd_jwks *s = sources; s; s = s->next) {
		pthread_mutex_lock(&s->mu);
		for (int ok = 1; ok >= 0; ok--) {
			gwd_buf_puts(b, "gateway_jwks_fetches_total{url=\"");
			gwd_metrics_label(b, s->url, strlen(s->url));
			gwd_buf_puts(b, ok ? "\",result=\"ok\"} " : "\",result=\"error\"} ");
			gwd_buf_u64(b, ok ? s->n_ok : s->n_err);
			gwd_buf_putc(b, '\n');
		}
		pthread_mutex_unlock(&s->mu);
	}
	gwd_buf_puts(b, "# HELP gateway_jwks_keys Keys in the serving JWKS set (0: none yet).\n"
			"# TYPE gateway_jwks_keys gauge\n");
	for (struct gwd_jwks *s = sources; s; s = s->next) {
		pthread_mutex_lock(&s->mu);
		gwd_buf_puts(b, "gateway_jwks_keys{url=\"");
		gwd_metrics_label(b, s->url, strlen(s->url));
		gwd_buf_puts(b, "\"} ");
		gwd_buf_u64(b, s->set ? s->set->n : 0);
		gwd_buf_putc(b, '\n');
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&reg_lock);
}

int gwd_jwks_activate(void)
{
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	if (!sources || running) {
		pthread_mutex_unlock(&reg_lock);
		return 0;
	}
	if (!registered) {
		registered = 1;
		gwd_health_register("jwks", health, NULL);
		gwd_metrics_add_family(render, NULL);
	}
	stopping = 0;
	if (pthread_create(&thread, NULL, run, NULL) == 0)
		running = 1;
	else
		rc = -1;
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

void gwd_jwks_shutdown(void)
{
	pthread_mutex_lock(&reg_lock);
	if (!running) {
		pthread_mutex_unlock(&reg_lock);
		return;
	}
	stopping = 1;
	pthread_cond_signal(&reg_cond);
	pthread_mutex_unlock(&reg_lock);
	pthread_join(thread, NULL);
	running = 0;
}
