/* gwd: serve a compiled blob (PRODUCT.md, "Binaries"; docs/gwd.md).
 *
 *   gwd --blob FILE [--listen ADDR:PORT] [--threads N] [--db PATH]
 *       [--tls-cert PEM --tls-key PEM] [--access-log PATH|-] [--pid-file PATH]
 *   gwd --check --blob FILE
 *   gwd users ... | gwd keys ...        (gwd/cmds.h)
 *
 * main() sets everything up, then becomes the signal thread: every signal is
 * blocked in every thread (the mask is set before any thread starts and
 * inherited), and this thread takes them with sigtimedwait, so that reloads
 * and shutdown run as ordinary code, never in a signal handler.  Between
 * signals it frees the blob generations that no request holds any more.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gwd/accesslog.h"
#include "gwd/apikey.h"
#include "gwd/cluster_rl.h"

#include "gwd/cmds.h"
#include "gwd/conn.h"
#include "gwd/health.h"
#include "gwd/jobs.h"
#include "gwd/pipeline.h"
#include "gwd/proxy_handler.h"
#include "gwd/ratelimit.h"
#include "gwd/reload.h"
#include "gwd/reqid.h"
#include "gwd/server.h"
#include "gwd/session.h"
#include "gwd/store.h"
#include "gwd/tls.h"
#include "gwd/worker.h"
#include "lib/blob-t.h"

#define DRAIN_DEADLINE_MS 10000
#define MAX_THREADS 128

struct opts {
	const char *blob, *listen, *db, *store, *tls_cert, *tls_key, *access_log, *pid_file;
	unsigned threads;
	int check;
};

/* Print the usage to <f>. */
static void usage(FILE *f)
{
	fputs("usage: gwd --blob FILE [--listen ADDR:PORT] [--threads N] [--db PATH]\n"
	      "           [--tls-cert PEM --tls-key PEM] [--access-log PATH|-] [--pid-file PATH]\n"
	      "           [--store redis://[:password@]host:port[/db]]\n"
	      "       gwd --check --blob FILE\n"
	      "       gwd users add|del|list ... | gwd keys add|del|list ...\n",
	      f);
}

/* Parse the serving flags into <o>. Returns 0, or 2 (usage error, printed). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "blob", required_argument, NULL, 'b' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "db", required_argument, NULL, 'd' },
		{ "store", required_argument, NULL, 's' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "access-log", required_argument, NULL, 'a' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	memset(o, 0, sizeof *o);
	o->listen = "127.0.0.1:8080";
	o->db = GW_DEFAULT_DB;
	o->threads = n > 0 ? (unsigned)n : 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o->blob = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'd': o->db = optarg; break;
		case 's': o->store = optarg; break;
		case 'c': o->tls_cert = optarg; break;
		case 'k': o->tls_key = optarg; break;
		case 'a': o->access_log = optarg; break;
		case 'p': o->pid_file = optarg; break;
		case 'C': o->check = 1; break;
		case 't': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > MAX_THREADS) {
				fprintf(stderr, "gwd: --threads: a number from 1 to %d\n", MAX_THREADS);
				return 2;
			}
			o->threads = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gwd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!o->blob) {
		fputs("gwd: --blob FILE is required\n", stderr);
		usage(stderr);
		return 2;
	}
	if (!o->tls_cert != !o->tls_key) {
		fputs("gwd: --tls-cert and --tls-key go together\n", stderr);
		return 2;
	}
	return 0;
}

/* `gwd --check --blob FILE`: load, verify, summarise.  Returns the exit status. */
static int cmd_check(const char *path)
{
	struct gwd_gen *g;
	char why[512];
	uint32_t nup;

	if (gwd_gen_load(path, &g, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return 1;
	}
	nup = gw_blob_count(g->blob, GW_BLOB_UPSTREAMS);
	printf("gwd: %s ok: fingerprint %.16s, %u routes, %u policies, %u upstreams, %llu bytes\n",
	       path, g->fp_hex, g->nroutes, g->npolicies, nup,
	       (unsigned long long)gw_blob_size(g->blob));
	gwd_gen_free(g);
	return 0;
}

/* Reload hook: the connection limits follow the blob's settings. */
static void apply_limits(const struct gwd_gen *g, void *ctx)
{
	const struct gw_settings *s = &g->settings;

	(void)ctx;
	gwd_conn_set_limits(s->max_conns, s->max_conns_per_ip, s->header_timeout_ms,
			    s->idle_timeout_ms);
}

/* Reload hook: the session sweeper follows the blob's settings. */
static void apply_sessions(const struct gwd_gen *g, void *ctx)
{
	gw_sessions_configure(ctx, &g->settings);
}

/* Health check "db": the store's availability flag (maintained by the session
 * flusher thread). */
static int check_db(void *ctx, char *detail, size_t cap)
{
	if (gw_store_available(ctx))
		return GWD_HEALTH_OK;
	snprintf(detail, cap, "database unavailable");
	return GWD_HEALTH_DEGRADED;
}

/* Write our pid to <path>. Returns 0 or -1. */
static int write_pid(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -1;
}

/* Stop accepting, let in-flight requests finish within the deadline. */
static void drain(void)
{
	struct timespec ts = { 0, 20 * 1000000L };
	int waited = 0;

	gwd_pipeline_drain();
	gwd_server_quiesce();
	while (gwd_worker_inflight() > 0 && waited < DRAIN_DEADLINE_MS) {
		nanosleep(&ts, NULL);
		waited += 20;
	}
	if (gwd_worker_inflight() > 0)
		fprintf(stderr, "gwd: %llu requests still in flight after %d s: closing them\n",
			(unsigned long long)gwd_worker_inflight(), DRAIN_DEADLINE_MS / 1000);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct gwd_gen *g;
	struct gwd_tls tls = { 0 };
	struct gw_store *st = NULL;
	struct gw_sessions *ss = NULL;
	struct gw_apikeys *ak = NULL;
	struct gw_rl_registry *reg = NULL;
	struct gwd_services deps = { 0 };
	sigset_t all, wanted;
	char why[512];
	int rc;

	if (argc > 1 && strcmp(argv[1], "store") == 0)
		return gwd_cmd_store(argc - 2, argv + 2);
	if (argc > 1 && (strcmp(argv[1], "users") == 0 || strcmp(argv[1], "keys") == 0)) {
		/* the command words (gwd/cmds.h) */
		return strcmp(argv[1], "users") == 0 ? gwd_cmd_users(argc - 2, argv + 2)
						     : gwd_cmd_keys(argc - 2, argv + 2);
	}
	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc;
	if (o.check)
		return cmd_check(o.blob);
	gwd_cluster_configure(o.store);

	/* every thread created from here inherits the mask: signals come only to
	 * the sigtimedwait below */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	signal(SIGPIPE, SIG_IGN);

	gwd_reqid_init();
	gwd_health_start();
	reg = gw_rl_registry_new();
	if (!reg) {
		fputs("gwd: out of memory\n", stderr);
		return 1;
	}
	gwd_reload_set_rl_registry(reg);
	if (gwd_gen_load(o.blob, &g, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return 1;
	}
	gwd_reload_on_publish(apply_limits, NULL);

	/* the database: sessions and API keys (gwd/session.h) */
	if (gw_store_open(&st, o.store ? o.store : o.db, GW_STORE_CREATE | GW_STORE_LAZY, 0,
			  why, sizeof why) != 0 ||
	    gw_sessions_new(&ss, st, NULL) != 0 || gw_apikeys_new(&ak, st, 0) != 0 ||
	    gwd_cluster_start(st, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s: %s\n", o.store ? "--store" : o.db,
			why[0] ? why : "cannot open the database");
		return 1;
	}
	gwd_reload_on_publish(apply_sessions, ss);
	gwd_health_register("db", check_db, st);
	gwd_gen_publish(g);
	if (gw_sessions_start(ss) != 0)
		fputs("gwd: cannot start the session flusher\n", stderr);
	deps.store = st;
	deps.sessions = ss;
	deps.apikeys = ak;
	deps.tls = o.tls_cert != NULL;
	gwd_pipeline_init(&deps);

	if (o.access_log && gwd_alog_open(o.access_log) != 0) {
		fprintf(stderr, "gwd: --access-log %s: %s\n", o.access_log, strerror(errno));
		return 1;
	}
	if (o.tls_cert && gwd_tls_load(&tls, o.tls_cert, o.tls_key, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return 1;
	}
	if (gwd_jobs_start(2) != 0 || gwd_conn_reaper_start() != 0 ||
	    gwd_proxy_service_start(o.threads) != 0) {
		fputs("gwd: cannot start threads\n", stderr);
		return 1;
	}
	struct gwd_server_opts so = {
		.listen = o.listen,
		.threads = o.threads,
		.tls_cert = tls.cert,
		.tls_key = tls.key,
		.tls_priorities = GWD_TLS_PRIORITIES,
		.max_header_bytes = g->settings.max_header_bytes,
		.idle_timeout_ms = g->settings.idle_timeout_ms,
		.max_conns = g->settings.max_conns,
	};
	if (gwd_server_start(&so, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return 1;
	}
	if (o.pid_file && write_pid(o.pid_file) != 0)
		fprintf(stderr, "gwd: --pid-file %s: %s\n", o.pid_file, strerror(errno));
	fprintf(stderr, "gwd: serving %s (fingerprint %.16s, %u routes) on %s://%s with %u threads\n",
		o.blob, g->fp_hex, g->nroutes, o.tls_cert ? "https" : "http", o.listen, o.threads);

	/* the signal thread */
	sigemptyset(&wanted);
	sigaddset(&wanted, SIGHUP);
	sigaddset(&wanted, SIGTERM);
	sigaddset(&wanted, SIGINT);
	for (;;) {
		struct timespec tick = { 0, 100 * 1000000L };
		int sig = sigtimedwait(&wanted, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			if (gwd_reload(o.blob, why, sizeof why) == 0)
				fprintf(stderr, "gwd: reloaded %s\n", o.blob);
			else
				fprintf(stderr, "gwd: reload refused, still serving the old blob: %s\n",
					why);
			if (gwd_alog_reopen() != 0)
				fprintf(stderr, "gwd: cannot reopen the access log: %s\n",
					strerror(errno));
		}
		gwd_reload_reclaim();
	}

	fputs("gwd: shutting down\n", stderr);
	drain();
	/* jobs first: a job resumes its connection, which must still exist */
	gwd_jobs_stop();
	gwd_proxy_service_stop();
	gwd_server_stop();
	gwd_conn_reaper_stop();
	gwd_alog_close();
	gw_sessions_stop(ss);
	gwd_cluster_stop();
	gw_apikeys_free(ak);
	gw_sessions_free(ss);
	gw_store_close(st);
	gwd_reload_shutdown();
	gw_rl_registry_free(reg);
	gwd_tls_free(&tls);
	if (o.pid_file)
		unlink(o.pid_file);
	return 0;
}
