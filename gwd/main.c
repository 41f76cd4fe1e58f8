/* gwd: serve a compiled blob (docs/gwd.md, gwd(8)).
 *
 *   gwd --blob FILE [--listen ADDR:PORT] [--threads N] [--db PATH]
 *       [--tls-cert PEM --tls-key PEM] [--access-log PATH|-] [--pid-file PATH]
 *   gwd --check --blob FILE
 *   gwd users ... | gwd keys ...        (gwd/cmds.h)
 *   gwd --version | --help
 *
 * main() is start, signal loop, stop.  Start blocks every signal in every
 * thread (the mask is set before any thread starts and inherited), loads the
 * blob, opens the database, starts the threads and the server, and tells the
 * service manager it is ready (gwd/service.h).  The loop is this thread
 * taking the signals with sigtimedwait, so that reloads and shutdown run as
 * ordinary code, never in a signal handler; between signals it frees the
 * blob generations that no request holds any more.  Stop drains and frees in
 * the order the threads depend on each other.
 */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <getopt.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
#include "gwd/proxy_service.h"
#include "gwd/websocket.h"
#include "gwd/ratelimit.h"
#include "gwd/reload.h"
#include "gwd/reqid.h"
#include "gwd/server.h"
#include "gwd/service.h"
#include "gwd/session.h"
#include "gwd/store.h"
#include "gwd/tls.h"
#include "gwd/worker.h"
#include "lib/blob-t.h"
#include "lib/version.h"

#define DRAIN_DEADLINE_MS 10000
#define MAX_THREADS 128
/* descriptors besides the clients' (log, database, upstreams, epoll, ...) */
#define SPARE_FDS 128

struct opts {
	const char *blob, *listen, *db, *store, *tls_cert, *tls_key, *access_log, *pid_file;
	unsigned threads;
	int check;
};

/* Everything main() starts and stop() ends. */
struct app {
	struct opts o;
	struct gwd_tls tls;
	struct gwd_store *st;
	struct gwd_sessions *ss;
	struct gwd_apikeys *ak;
	struct gwd_ratelimit_registry *reg;
	struct gwd_services deps;
	int listen_fd;          /* passed by the service manager, or 0 */
	char where[112];        /* what is served: "http://127.0.0.1:8080" */
	/* the generation being served, as the notifications name it (kept by
	 * the publish hook, on this thread) */
	char fp[17];
	uint32_t nroutes;
	/* the first blob's limits, which the server takes at start only */
	uint32_t max_header_bytes, idle_timeout_ms, max_conns;
};

/* Print the usage to <f>: a man page's synopsis, then the options. */
static void usage(FILE *f)
{
	fputs("usage: gwd --blob FILE [--listen ADDR:PORT] [--threads N] [--db PATH]\n"
	      "           [--tls-cert PEM --tls-key PEM] [--access-log PATH|-] [--pid-file PATH]\n"
	      "           [--store redis://[:password@]host:port[/db]]\n"
	      "       gwd --check --blob FILE\n"
	      "       gwd users add|del|list [NAME] [--db PATH | --store URL]\n"
	      "       gwd keys add|del|list [NAME] [--db PATH | --store URL]\n"
	      "       gwd store copy --db PATH --store URL\n"
	      "       gwd --version | --help\n"
	      "\n"
	      "options:\n"
	      "  --blob FILE            the compiled blob (gwc compile); SIGHUP reloads it\n"
	      "  --listen ADDR:PORT     default 127.0.0.1:8080; [ADDR]:PORT for IPv6; ignored\n"
	      "                         when the service manager passes a socket (LISTEN_FDS)\n"
	      "  --threads N            libmicrohttpd pool threads, 1-128; default online CPUs\n"
	      "  --db PATH              SQLite database of users, keys, sessions; default\n"
	      "                         " GWD_STORE_DEFAULT_DB "\n"
	      "  --store URL            redis://[:password@]host:port[/db]: users, keys,\n"
	      "                         sessions and cluster limits in Redis (docs/cluster.md)\n"
	      "  --tls-cert PEM, --tls-key PEM\n"
	      "                         serve HTTPS with this certificate chain and key\n"
	      "  --access-log PATH|-    JSON lines; SIGHUP reopens PATH\n"
	      "  --pid-file PATH        write the pid, removed at exit\n"
	      "  --check                load and verify the blob, serve nothing; exit 0 or 1\n"
	      "\n"
	      "signals: SIGHUP reloads the blob and reopens the access log; SIGTERM, SIGINT\n"
	      "drain in-flight requests and exit 0.  See gwd(8).\n",
	      f);
}

/* `gwd --version`: gwd's, the blob format's and the libraries' versions. */
static void print_version(void)
{
	printf("gwd %s\n"
	       "blob format %d (reads %d to %d)\n"
	       "libmicrohttpd %s\n"
	       "GnuTLS %s\n"
	       "SQLite %s\n",
	       GW_VERSION, GW_BLOB_WRITE_VERSION, GW_BLOB_OLDEST_READ_VERSION,
	       GW_BLOB_READ_VERSION, MHD_get_version(), gnutls_check_version(NULL),
	       sqlite3_libversion());
}

/* Parse the serving flags into <o>. Returns 0, 1 when --help or --version
 * was answered, or 2 (usage error, printed). */
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
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	memset(o, 0, sizeof *o);
	o->listen = "127.0.0.1:8080";
	o->db = GWD_STORE_DEFAULT_DB;
	o->threads = n > 0 ? (unsigned)n : 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
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
			return 1;
		case 'V':
			print_version();
			return 1;
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

	if (gwd_reload_load(path, &g, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return 1;
	}
	nup = gw_blob_count(g->blob, GW_BLOB_UPSTREAMS);
	printf("gwd: %s ok: fingerprint %.16s, %u routes, %u policies, %u upstreams, %llu bytes\n",
	       path, g->fp_hex, g->nroutes, g->npolicies, nup,
	       (unsigned long long)gw_blob_size(g->blob));
	gwd_reload_free(g);
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
	gwd_session_configure(ctx, &g->settings);
}

/* Reload hook: what the notifications say of the generation served
 * (<ctx>: the struct app). */
static void note_generation(const struct gwd_gen *g, void *ctx)
{
	struct app *a = ctx;

	snprintf(a->fp, sizeof a->fp, "%.16s", g->fp_hex);
	a->nroutes = g->nroutes;
}

/* Health check "db": the store's availability flag (maintained by the session
 * flusher thread). */
static int check_db(void *ctx, char *detail, size_t cap)
{
	if (gwd_store_available(ctx))
		return GWD_HEALTH_OK;
	snprintf(detail, cap, "%s unavailable", gwd_cluster_configured() ? "redis store" : "database");
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

/* Block every signal but the synchronous ones, in this thread and in every
 * thread created from now on (they inherit the mask): signals come only to
 * signal_loop's sigtimedwait. */
static void block_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Load the blob, open the database and wire the request path to them.
 * Returns 0, or -1 with the reason printed. */
static int start_state(struct app *a)
{
	struct gwd_gen *g;
	char why[512];

	gwd_reqid_init();
	gwd_health_start();
	a->reg = gwd_ratelimit_registry_new();
	if (!a->reg) {
		fputs("gwd: out of memory\n", stderr);
		return -1;
	}
	gwd_reload_set_rl_registry(a->reg);
	if (gwd_reload_load(a->o.blob, &g, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return -1;
	}
	gwd_reload_on_publish(apply_limits, NULL);
	gwd_reload_on_publish(note_generation, a);
	a->max_header_bytes = g->settings.max_header_bytes;
	a->idle_timeout_ms = g->settings.idle_timeout_ms;
	a->max_conns = g->settings.max_conns;

	/* the database: sessions and API keys (gwd/session.h) */
	if (gwd_store_open(&a->st, a->o.store ? a->o.store : a->o.db,
			  GWD_STORE_CREATE | GWD_STORE_LAZY, 0, why, sizeof why) != 0 ||
	    gwd_session_new(&a->ss, a->st, NULL) != 0 || gwd_apikey_new(&a->ak, a->st, 0) != 0 ||
	    gwd_cluster_start(a->st, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s: %s\n", a->o.store ? "--store" : a->o.db,
			why[0] ? why : "cannot open the database");
		gwd_reload_free(g);
		return -1;
	}
	gwd_reload_on_publish(apply_sessions, a->ss);
	gwd_health_register("db", check_db, a->st);
	gwd_reload_publish(g);
	if (gwd_session_start(a->ss) != 0)
		fputs("gwd: cannot start the session flusher\n", stderr);
	a->deps.store = a->st;
	a->deps.sessions = a->ss;
	a->deps.apikeys = a->ak;
	a->deps.tls = a->o.tls_cert != NULL;
	gwd_pipeline_init(&a->deps);
	return 0;
}

/* Warn when the descriptor limit (systemd: LimitNOFILE=) cannot hold
 * <max_conns> clients: past it gwd lowers its own limit to fit. */
static void check_nofile(uint32_t max_conns)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < (rlim_t)max_conns + SPARE_FDS)
		fprintf(stderr,
			"gwd: the descriptor limit (%llu) is below max_connections (%u) + %d: "
			"raise it (LimitNOFILE=, ulimit -n)\n",
			(unsigned long long)rl.rlim_max, max_conns, SPARE_FDS);
}

/* Start the threads and the server, then tell the service manager.
 * Returns 0, or -1 with the reason printed. */
static int start_serving(struct app *a)
{
	char why[512], status[256];
	int r;

	if (a->o.access_log && gwd_accesslog_open(a->o.access_log) != 0) {
		fprintf(stderr, "gwd: --access-log %s: %s\n", a->o.access_log, strerror(errno));
		return -1;
	}
	if (a->o.tls_cert &&
	    gwd_tls_load(&a->tls, a->o.tls_cert, a->o.tls_key, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return -1;
	}
	r = gwd_service_listen_fd(&a->listen_fd, why, sizeof why);
	if (r < 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return -1;
	}
	if (gwd_jobs_start(2) != 0 || gwd_conn_reaper_start() != 0 ||
	    gwd_proxy_service_start(a->o.threads) != 0 || gwd_ws_service_start() != 0) {
		fputs("gwd: cannot start threads\n", stderr);
		return -1;
	}
	check_nofile(a->max_conns);
	struct gwd_server_opts so = {
		.listen = a->o.listen,
		.listen_fd = r == 1 ? a->listen_fd : 0,
		.threads = a->o.threads,
		.tls_cert = a->tls.cert,
		.tls_key = a->tls.key,
		.tls_priorities = GWD_TLS_PRIORITIES,
		.max_header_bytes = a->max_header_bytes,
		.idle_timeout_ms = a->idle_timeout_ms,
		.max_conns = a->max_conns,
	};
	if (gwd_server_start(&so, why, sizeof why) != 0) {
		fprintf(stderr, "gwd: %s\n", why);
		return -1;
	}
	if (r == 1) {
		char addr[64];

		gwd_service_sockname(a->listen_fd, addr, sizeof addr);
		snprintf(a->where, sizeof a->where, "%s://%s (passed socket)",
			 a->o.tls_cert ? "https" : "http", addr);
	} else {
		snprintf(a->where, sizeof a->where, "%s://%s", a->o.tls_cert ? "https" : "http",
			 a->o.listen);
	}
	if (a->o.pid_file && write_pid(a->o.pid_file) != 0)
		fprintf(stderr, "gwd: --pid-file %s: %s\n", a->o.pid_file, strerror(errno));
	snprintf(status, sizeof status, "serving %s (fingerprint %s, %u routes) on %s",
		 a->o.blob, a->fp, a->nroutes, a->where);
	fprintf(stderr, "gwd: %s with %u threads\n", status, a->o.threads);
	gwd_service_ready(status);
	return 0;
}

/* SIGHUP: reload the blob, reopen the access log, and say how it went. */
static void reload(struct app *a)
{
	char why[512], status[768];

	snprintf(status, sizeof status, "reloading %s", a->o.blob);
	gwd_service_reloading(status);
	if (gwd_reload(a->o.blob, why, sizeof why) == 0) {
		snprintf(status, sizeof status, "reloaded %s (fingerprint %s, %u routes) on %s",
			 a->o.blob, a->fp, a->nroutes, a->where);
		fprintf(stderr, "gwd: reloaded %s\n", a->o.blob);
	} else {
		/* one line: the notification protocol is newline-separated */
		why[strcspn(why, "\n")] = '\0';
		snprintf(status, sizeof status,
			 "reload refused (%s); serving %s (fingerprint %s, %u routes) on %s", why,
			 a->o.blob, a->fp, a->nroutes, a->where);
		fprintf(stderr, "gwd: reload refused, still serving the old blob: %s\n", why);
	}
	if (gwd_accesslog_reopen() != 0)
		fprintf(stderr, "gwd: cannot reopen the access log: %s\n", strerror(errno));
	gwd_service_reloaded(status);
}

/* Take signals until SIGTERM or SIGINT; reload on SIGHUP. */
static void signal_loop(struct app *a)
{
	sigset_t wanted;

	sigemptyset(&wanted);
	sigaddset(&wanted, SIGHUP);
	sigaddset(&wanted, SIGTERM);
	sigaddset(&wanted, SIGINT);
	for (;;) {
		struct timespec tick = { 0, 100 * 1000000L };
		int sig = sigtimedwait(&wanted, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			reload(a);
		gwd_reload_reclaim();
	}
}

/* Stop accepting, let in-flight requests finish within the deadline. */
static void drain(void)
{
	struct timespec ts = { 0, 20 * 1000000L };
	char status[128];
	int waited = 0;

	snprintf(status, sizeof status, "draining %llu requests in flight",
		 (unsigned long long)gwd_worker_inflight());
	gwd_service_stopping(status);
	gwd_pipeline_drain();
	gwd_ws_drain();
	gwd_server_quiesce();
	while (gwd_worker_inflight() > 0 && waited < DRAIN_DEADLINE_MS) {
		nanosleep(&ts, NULL);
		waited += 20;
	}
	if (gwd_worker_inflight() > 0)
		fprintf(stderr, "gwd: %llu requests still in flight after %d s: closing them\n",
			(unsigned long long)gwd_worker_inflight(), DRAIN_DEADLINE_MS / 1000);
}

/* Drain, then stop everything start_state and start_serving started. */
static void stop(struct app *a)
{
	fputs("gwd: shutting down\n", stderr);
	drain();
	/* WebSockets end at the drain deadline: both sides see the close */
	gwd_ws_close_all();
	/* jobs first: a job resumes its connection, which must still exist */
	gwd_jobs_stop();
	gwd_proxy_service_stop();
	gwd_server_stop();
	gwd_ws_service_stop();
	gwd_conn_reaper_stop();
	gwd_accesslog_close();
	gwd_session_stop(a->ss);
	gwd_cluster_stop();
	gwd_apikey_free(a->ak);
	gwd_session_free(a->ss);
	gwd_store_close(a->st);
	gwd_reload_shutdown();
	gwd_ratelimit_registry_free(a->reg);
	gwd_tls_free(&a->tls);
	if (a->o.pid_file)
		unlink(a->o.pid_file);
}

int main(int argc, char **argv)
{
	static struct app a;
	int rc;

	if (argc > 1 && strcmp(argv[1], "store") == 0)
		return gwd_cmd_store(argc - 2, argv + 2);
	if (argc > 1 && (strcmp(argv[1], "users") == 0 || strcmp(argv[1], "keys") == 0)) {
		/* the command words (gwd/cmds.h) */
		return strcmp(argv[1], "users") == 0 ? gwd_cmd_users(argc - 2, argv + 2)
						     : gwd_cmd_keys(argc - 2, argv + 2);
	}
	rc = parse_opts(argc, argv, &a.o);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (a.o.check)
		return cmd_check(a.o.blob);
	gwd_cluster_configure(a.o.store);

	block_signals();
	if (start_state(&a) != 0 || start_serving(&a) != 0)
		return 1;
	signal_loop(&a);
	stop(&a);
	return 0;
}
