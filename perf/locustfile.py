"""The Locust suite of gw: the user classes of the seed's performance README
(../shared/seed-performance-testing.md), run against the default route set
(routes/gateway.yaml).

Locust proves behaviour under realistic mixed load: every response is
checked for its content (the echoed bytes, the JSON-escaped greeting, the
rate-limit headers, X-Request-ID), not only its status, so a run with no
failures means the gateway answered correctly, not merely quickly.  It does
not measure gwd's ceiling: Locust in Python on 2 cores cannot saturate gwd
(the throughput figures of the project come from wrk, perf/bench.sh).

User classes (waits and tasks as the seed gives them):
    PublicRouteUser     1-3 s    GET /api/hello, POST /api/echo, ?name=
    AuthenticatedUser   0.5-2 s  logs in once; GET/PUT /api/users/{id},
                                 POST /api/items; the 401 without a token
    RateLimitTestUser   0.1 s    GET /api/limited: 429 is expected (reported
                                 as "/api/limited [429]"), headers checked
    HighThroughputUser  0.1-0.5 s
    MixedWorkloadUser   0.5-2 s  half log in; reads and writes, 64 B-100 KB
    StressTestUser      0.01-0.1 s  echo payloads up to 100 KB
    HealthCheckMonitor  5 s      fails when /health is not healthy

Environment (set by perf/run_load_test.sh; defaults suit a hand run):
    GW_TEST_USERS        how many test accounts exist (default 20)
    GW_TEST_USER_PREFIX  their names are PREFIX1..PREFIXn (default loadtest)
    GW_TEST_PASSWORD     their password (default locust-load-test)
    GW_LOGIN_RATE        logins per second this process may start (default 4):
                         /auth/login is limited to 5/s per client address and
                         every Locust user comes from 127.0.0.1
    GW_FINAL_CSV=PREFIX  at exit, write the final PREFIX_stats.csv, and during
                         the run PREFIX_timeline.csv (see below)
    GW_SHAPE=spike       use the spike shape; GW_SPIKE_STAGES gives its stages
                         as SECONDS:USERS:SPAWN_RATE,... (default
                         60:10:10,120:500:100,60:10:100)
"""

import csv
import itertools
import json
import os
import random
import string
import time
from urllib.parse import quote

import gevent
from gevent.lock import Semaphore
from locust import FastHttpUser, LoadTestShape, between, constant, constant_pacing, events, task
import locust.runners
from locust.runners import WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

# Debian's python3-locust 2.12.1 is built with an empty version string, and a
# master refuses a worker whose client_ready message carries an empty one ("An
# old (pre 2.0) worker tried to connect"): distributed runs (--master and
# --worker, used by run_load_test.sh for heavy, stress and spike) need a
# non-empty version on both sides, and this file is loaded by both.
if not locust.runners.__version__:
    locust.runners.__version__ = "2.12.1-debian"

N_ACCOUNTS = int(os.environ.get("GW_TEST_USERS", "20"))
ACCOUNT_PREFIX = os.environ.get("GW_TEST_USER_PREFIX", "loadtest")
PASSWORD = os.environ.get("GW_TEST_PASSWORD", "locust-load-test")
LOGIN_RATE = float(os.environ.get("GW_LOGIN_RATE", "4"))

# Headers every response of a rate-limited route carries (docs/ratelimit.md).
RATELIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                     "RateLimit-Policy", "RateLimit")

# Names for ?name=: quotes, backslashes, controls, markup and non-ASCII, so
# that the respond template's query decoding and JSON escaping are checked.
GREET_NAMES = ["Ada", "Zoë", 'say "hi"', "back\\slash", "tab\there", "<b>&amp;</b>",
               "a&b=c", "日本語", "x" * 200, "semi;colon,comma"]

# Payloads made once: generating 100 KB per request would cost Locust more
# CPU than the gateway spends answering it.
_rng = random.Random(7)
_ALNUM = string.ascii_letters + string.digits
TEXT_100K = "".join(_rng.choice(_ALNUM) for _ in range(100 * 1024))
BYTES_100K = bytes(_rng.getrandbits(8) for _ in range(100 * 1024))
PAYLOAD_SIZES = [64, 512, 1024, 4096, 10 * 1024, 50 * 1024, 100 * 1024]
PAYLOAD_WEIGHTS = [30, 25, 15, 12, 10, 5, 3]

_account_seq = itertools.count()


def next_account():
    """The next test account's name, round robin over GW_TEST_USERS accounts."""
    return "%s%d" % (ACCOUNT_PREFIX, next(_account_seq) % N_ACCOUNTS + 1)


def json_payload(size):
    """A JSON object of about <size> bytes (str)."""
    start = _rng.randrange(0, len(TEXT_100K) - size + 1)
    return json.dumps({"kind": "load-test", "at": time.time(), "data": TEXT_100K[start:start + size]})


class _Pacer:
    """Spaces out calls process-wide to <rate> per second: logins are limited
    per client address by the default routes, so Locust users queue politely
    instead of drawing a 429 storm."""

    def __init__(self, rate):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = 0.0
        self.lock = Semaphore()

    def wait(self):
        """Sleep (cooperatively) until this caller's turn."""
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next)
            self.next = at + self.interval
        if at > now:
            gevent.sleep(at - now)


LOGIN_PACER = _Pacer(LOGIN_RATE)


def header(resp, name):
    """Response header <name> (case-insensitive) or None, also when the
    request failed before any response."""
    if resp.headers is None:
        return None
    return resp.headers.get(name)


def common_problems(resp, rate_limited=False):
    """What every gwd response must have: X-Request-ID, and on rate-limited
    routes the rate-limit header fields. Returns a list of problems."""
    problems = []
    if not header(resp, "X-Request-ID"):
        problems.append("no X-Request-ID")
    if rate_limited:
        missing = [h for h in RATELIMIT_HEADERS if not header(resp, h)]
        if missing:
            problems.append("missing " + ", ".join(missing))
    return problems


def judge(resp, problems):
    """Mark <resp> failed with the problems found, or successful."""
    if problems:
        resp.failure("; ".join(problems))
    else:
        resp.success()


def status_problem(resp, *wanted):
    """A problem string when <resp>'s status is not one of <wanted>, else None."""
    if resp.status_code in wanted:
        return None
    if resp.status_code == 0:
        return "no response: %s" % getattr(resp, "error", "connection error")
    return "status %d (wanted %s): %s" % (resp.status_code, "/".join(map(str, wanted)),
                                          (resp.text or "")[:120])


def json_body(resp, problems):
    """<resp>'s body parsed as JSON, or None with a problem added."""
    try:
        return json.loads(resp.content)
    except (TypeError, ValueError):
        problems.append("body is not JSON: %r" % (resp.content or b"")[:80])
        return None


class GatewayUser(FastHttpUser):
    """What the user classes share: the checked public requests, login and
    the guarded requests."""

    abstract = True
    network_timeout = 10.0
    connection_timeout = 5.0
    token = None
    cookie = None

    # ---- public routes ---------------------------------------------------
    def get_hello(self):
        """GET /api/hello: exactly {"message":"hello"}."""
        with self.client.get("/api/hello", catch_response=True) as r:
            problems = [p for p in [status_problem(r, 200)] if p]
            if not problems:
                if json_body(r, problems) != {"message": "hello"} and not problems:
                    problems.append("body %r" % r.content[:80])
                problems += common_problems(r, rate_limited=True)
            judge(r, problems)

    def get_hello_name(self):
        """GET /api/hello?name=N: greets N, decoded from the query and
        JSON-escaped into the body."""
        name = random.choice(GREET_NAMES)
        with self.client.get("/api/hello?name=" + quote(name, safe=""), name="/api/hello?name=[name]",
                             catch_response=True) as r:
            problems = [p for p in [status_problem(r, 200)] if p]
            if not problems:
                body = json_body(r, problems)
                if body is not None and body != {"message": "hello, " + name}:
                    problems.append("greeting for %r: %r" % (name, r.content[:120]))
                problems += common_problems(r, rate_limited=True)
            judge(r, problems)

    def post_echo(self, size=None, binary=False):
        """POST /api/echo: the same bytes back, with the same Content-Type."""
        if size is None:
            size = random.choices(PAYLOAD_SIZES, PAYLOAD_WEIGHTS)[0]
        if binary:
            start = random.randrange(0, len(BYTES_100K) - size + 1)
            body, ctype = BYTES_100K[start:start + size], "application/octet-stream"
        else:
            body, ctype = json_payload(size).encode(), "application/json"
        with self.client.post("/api/echo", data=body, headers={"Content-Type": ctype},
                              catch_response=True) as r:
            problems = [p for p in [status_problem(r, 200)] if p]
            if not problems:
                if r.content != body:
                    problems.append("echo differs: %d bytes back for %d" % (len(r.content or b""), len(body)))
                got = (header(r, "Content-Type") or "").split(";")[0].strip()
                if got != ctype:
                    problems.append("Content-Type %r, sent %r" % (got, ctype))
                problems += common_problems(r, rate_limited=True)
            judge(r, problems)

    # ---- sessions --------------------------------------------------------
    def login(self, attempts=60):
        """Log in as the next test account: POST /auth/login. Sets self.token
        and returns True, or False when it could not. A 429 (the login limit
        of the default routes) is expected when many users start at once: it
        is reported as "/auth/login [429]" and retried after Retry-After."""
        account = next_account()
        for _ in range(attempts):
            LOGIN_PACER.wait()
            wait = 0.0
            with self.client.post("/auth/login", json={"username": account, "password": PASSWORD},
                                  catch_response=True) as r:
                if r.status_code == 429:
                    problems = common_problems(r, rate_limited=True)
                    wait = retry_after_seconds(r, problems)
                    r.request_meta["name"] = "/auth/login [429]"
                    judge(r, problems)
                else:
                    problems = [p for p in [status_problem(r, 200)] if p]
                    if not problems:
                        body = json_body(r, problems) or {}
                        if not isinstance(body.get("token"), str) or len(body.get("token", "")) < 16:
                            problems.append("no token in %r" % r.content[:80])
                        if "expires_at" not in body:
                            problems.append("no expires_at")
                        cookie = header(r, "Set-Cookie") or ""
                        if "HttpOnly" not in cookie or "SameSite=Strict" not in cookie:
                            problems.append("session cookie %r" % cookie[:80])
                        problems += common_problems(r, rate_limited=True)
                        if not problems:
                            self.token = body["token"]
                            self.cookie = cookie.split(";")[0]
                    judge(r, problems)
                    # Requests carry the token explicitly; a cookie kept by
                    # the client would make the no-token check meaningless.
                    self.client.cookiejar.clear()
                    return self.token is not None
            gevent.sleep(wait)
        return False

    def logout(self):
        """POST /auth/logout: 204, and the token is refused afterwards."""
        if not self.token:
            return
        with self.client.post("/auth/logout", headers=self.auth(), catch_response=True) as r:
            judge(r, [p for p in [status_problem(r, 204)] if p] + common_problems(r))
        with self.client.get("/api/users/1", headers=self.auth(), name="/api/users/{id} [after logout]",
                             catch_response=True) as r:
            judge(r, [p for p in [status_problem(r, 401)] if p])
        self.token = None

    def auth(self):
        """The Authorization header of this user's session."""
        return {"Authorization": "Bearer " + self.token}

    def get_user(self, via_cookie=False):
        """GET /api/users/{id} through the session policy to the demo
        upstream (examples/upstream.yaml): {"id":ID,"name":"user-ID"}."""
        uid = str(random.randint(1, 1000))
        hdrs = {"Cookie": self.cookie} if via_cookie else self.auth()
        name = "/api/users/{id} [cookie]" if via_cookie else "/api/users/{id}"
        with self.client.get("/api/users/" + uid, headers=hdrs, name=name, catch_response=True) as r:
            problems = [p for p in [status_problem(r, 200)] if p]
            if not problems:
                body = json_body(r, problems)
                if body is not None and body != {"id": uid, "name": "user-" + uid}:
                    problems.append("user %s: %r" % (uid, r.content[:120]))
                problems += common_problems(r)
            judge(r, problems)

    def put_user(self, size=None):
        """PUT /api/users/{id} with a JSON body: the demo upstream answers
        {"id":ID,"updated":true}."""
        uid = str(random.randint(1, 1000))
        body = json_payload(size or 200)
        with self.client.put("/api/users/" + uid, data=body, name="/api/users/{id}",
                             headers=dict(self.auth(), **{"Content-Type": "application/json"}),
                             catch_response=True) as r:
            problems = [p for p in [status_problem(r, 200)] if p]
            if not problems:
                got = json_body(r, problems)
                if got is not None and got != {"id": uid, "updated": True}:
                    problems.append("update of %s: %r" % (uid, r.content[:120]))
                problems += common_problems(r)
            judge(r, problems)

    def post_item(self, size=None):
        """POST /api/items with a JSON body: the demo upstream echoes the
        created item, so the same bytes come back through the proxy."""
        body = json_payload(size or random.choices(PAYLOAD_SIZES, PAYLOAD_WEIGHTS)[0]).encode()
        with self.client.post("/api/items", data=body,
                              headers=dict(self.auth(), **{"Content-Type": "application/json"}),
                              catch_response=True) as r:
            problems = [p for p in [status_problem(r, 200)] if p]
            if not problems:
                if r.content != body:
                    problems.append("item differs: %d bytes back for %d" % (len(r.content or b""), len(body)))
                problems += common_problems(r)
            judge(r, problems)

    def get_user_without_token(self):
        """A guarded route without credentials: 401, WWW-Authenticate and a
        problem+json body (reported as "/api/users/{id} [no token]")."""
        with self.client.get("/api/users/7", name="/api/users/{id} [no token]", catch_response=True) as r:
            problems = [p for p in [status_problem(r, 401)] if p]
            if not problems:
                if not header(r, "WWW-Authenticate"):
                    problems.append("401 without WWW-Authenticate")
                if not (header(r, "Content-Type") or "").startswith("application/problem+json"):
                    problems.append("401 not problem+json")
                body = json_body(r, problems)
                if isinstance(body, dict) and not ("type" in body and "title" in body):
                    problems.append("problem without type/title")
                problems += common_problems(r)
            judge(r, problems)


def retry_after_seconds(resp, problems):
    """Retry-After of a 429 as seconds (at least 1 by the contract); adds a
    problem when it is missing or malformed and returns 1 then."""
    value = header(resp, "Retry-After")
    if value is None or not value.strip().isdigit() or int(value) < 1:
        problems.append("429 with Retry-After %r" % value)
        return 1.0
    return float(int(value))


class PublicRouteUser(GatewayUser):
    """Unauthenticated users on the public endpoints."""

    weight = 3
    wait_time = between(1, 3)

    @task(3)
    def hello(self):
        self.get_hello()

    @task(2)
    def echo(self):
        self.post_echo()

    @task(1)
    def hello_with_name(self):
        self.get_hello_name()


class AuthenticatedUser(GatewayUser):
    """Users with a session: log in once, then use the token on the guarded
    routes; log out when stopped."""

    weight = 2
    wait_time = between(0.5, 2)

    def on_start(self):
        self.login()

    def on_stop(self):
        self.logout()

    @task(4)
    def read_user(self):
        if self.token:
            self.get_user()

    @task(2)
    def update_user(self):
        if self.token:
            self.put_user()

    @task(2)
    def create_item(self):
        if self.token:
            self.post_item()

    @task(1)
    def read_user_with_cookie(self):
        if self.token:
            self.get_user(via_cookie=True)

    @task(1)
    def without_token(self):
        self.get_user_without_token()


class RateLimitTestUser(GatewayUser):
    """Hammers the strict route (10/s per client, burst 10): 429 is the
    expected answer past the limit, not a failure, and both answers must
    carry the rate-limit headers."""

    weight = 1
    wait_time = constant_pacing(0.1)

    @task
    def limited(self):
        with self.client.get("/api/limited", catch_response=True) as r:
            problems = common_problems(r, rate_limited=True)
            if r.status_code == 200:
                body = json_body(r, problems)
                if body is not None and body != {"message": "ok"}:
                    problems.append("body %r" % r.content[:80])
                remaining = header(r, "X-RateLimit-Remaining")
                limit = header(r, "X-RateLimit-Limit")
                if remaining and limit and remaining.isdigit() and limit.isdigit() \
                        and int(remaining) > int(limit):
                    problems.append("X-RateLimit-Remaining %s above the limit %s" % (remaining, limit))
            elif r.status_code == 429:
                r.request_meta["name"] = "/api/limited [429]"
                retry_after_seconds(r, problems)
                if not (header(r, "Content-Type") or "").startswith("application/problem+json"):
                    problems.append("429 not problem+json")
                body = json_body(r, problems)
                if isinstance(body, dict) and not ("type" in body and "title" in body):
                    problems.append("problem without type/title")
                if header(r, "X-RateLimit-Remaining") not in (None, "0"):
                    problems.append("429 with X-RateLimit-Remaining %s" % header(r, "X-RateLimit-Remaining"))
            else:
                problems.insert(0, status_problem(r, 200, 429))
            judge(r, problems)


class HighThroughputUser(GatewayUser):
    """Sustained load with short waits."""

    weight = 2
    wait_time = between(0.1, 0.5)

    @task(5)
    def hello(self):
        self.get_hello()

    @task(1)
    def echo_small(self):
        self.post_echo(size=random.choice([64, 256, 1024]))


class MixedWorkloadUser(GatewayUser):
    """A realistic mix: every other user logs in; reads and writes with
    payloads from 64 B to 100 KB."""

    weight = 2
    wait_time = between(0.5, 2)
    _seq = itertools.count()

    def on_start(self):
        if next(MixedWorkloadUser._seq) % 2 == 0:
            self.login()

    def on_stop(self):
        self.logout()

    @task(4)
    def read_public(self):
        if random.random() < 0.7:
            self.get_hello()
        else:
            self.get_hello_name()

    @task(3)
    def write_public(self):
        self.post_echo()

    @task(3)
    def read_private(self):
        if self.token:
            self.get_user()
        else:
            self.get_hello()

    @task(2)
    def write_private(self):
        if self.token:
            if random.random() < 0.5:
                self.post_item()
            else:
                self.put_user(size=random.choices(PAYLOAD_SIZES, PAYLOAD_WEIGHTS)[0])
        else:
            self.post_echo()


class StressTestUser(GatewayUser):
    """Extreme pacing and large bodies: echo up to 100 KB, text and binary."""

    weight = 1
    wait_time = between(0.01, 0.1)

    @task(3)
    def echo_large(self):
        self.post_echo(size=random.choice([10 * 1024, 50 * 1024, 100 * 1024]),
                       binary=random.random() < 0.5)

    @task(2)
    def hello(self):
        self.get_hello()

    @task(1)
    def echo_small(self):
        self.post_echo(size=512)


class HealthCheckMonitor(GatewayUser):
    """One monitor polling /health (and /metrics) every 5 seconds during the
    run: a degraded gateway fails it."""

    fixed_count = 1
    wait_time = constant(5)

    @task(3)
    def health(self):
        with self.client.get("/health", catch_response=True) as r:
            problems = [p for p in [status_problem(r, 200)] if p]
            if not problems:
                body = json_body(r, problems)
                if isinstance(body, dict):
                    status = str(body.get("status", "")).lower()
                    if status not in ("ok", "healthy", "pass", "up"):
                        problems.append("status %r" % body.get("status"))
                    if not any(k in body for k in ("fingerprint", "blob")):
                        problems.append("no blob fingerprint in %r" % r.content[:120])
                problems += common_problems(r)
            judge(r, problems)

    @task(1)
    def metrics(self):
        with self.client.get("/metrics", catch_response=True) as r:
            problems = [p for p in [status_problem(r, 200)] if p]
            if not problems:
                text = r.text or ""
                for family in ("gateway_requests_total", "gateway_request_duration_seconds",
                               "gateway_active_connections"):
                    if family not in text:
                        problems.append("no %s" % family)
            judge(r, problems)


_environment = None


@events.init.add_listener
def _remember_environment(environment, **_kwargs):
    global _environment
    _environment = environment


def _timeline(environment, path):
    """Once a second until the process exits: users, request rate and the
    latency of the last ~10 s, one CSV line each, flushed at once.  Locust's
    own _stats_history.csv is flushed every 10 s only and loses its tail at
    exit, which is where the spike's recovery stage and the end of an
    endurance run are."""
    total = environment.stats.total
    t0 = time.time()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["t", "users", "rps", "fail_per_s", "p50_ms", "p95_ms", "p99_ms", "requests", "failures"])
        while True:
            gevent.sleep(1.0)
            pct = [total.get_current_response_time_percentile(q) if total.num_requests else None
                   for q in (0.5, 0.95, 0.99)]
            w.writerow([round(time.time() - t0, 1), environment.runner.user_count,
                        round(total.current_rps, 1), round(total.current_fail_per_sec, 2)]
                       + ["" if v is None else v for v in pct] + [total.num_requests, total.num_failures])
            fh.flush()


@events.test_start.add_listener
def _start_timeline(environment, **_kwargs):
    prefix = os.environ.get("GW_FINAL_CSV")
    if prefix and not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_timeline, environment, prefix + "_timeline.csv")


@events.quit.add_listener
def _write_final_csv(**_kwargs):
    """Locust's --csv file is rewritten once a second and its last rewrite
    can miss the requests of the final second and of on_stop (logouts), so
    the verdict would judge other numbers than the printed summary.  At exit
    (after the summary is printed), write PREFIX_stats.csv once more from the
    final statistics, in Locust's own format."""
    prefix = os.environ.get("GW_FINAL_CSV")
    if not prefix or _environment is None or isinstance(_environment.runner, WorkerRunner):
        return
    # A new file renamed over the old: Locust's own handle on the old one
    # may still flush stale rows at interpreter exit.
    with open(prefix + "_stats.csv.tmp", "w", newline="", encoding="utf-8") as fh:
        StatsCSV(_environment, PERCENTILES_TO_REPORT).requests_csv(csv.writer(fh))
    os.replace(prefix + "_stats.csv.tmp", prefix + "_stats.csv")


if os.environ.get("GW_SHAPE") == "spike":
    class SpikeShape(LoadTestShape):
        """The seed's spike test in one run: low load, a sudden spike, then
        low load again to see the gateway recover. Stages from
        GW_SPIKE_STAGES, SECONDS:USERS:SPAWN_RATE comma-separated."""

        stages = [tuple(float(x) for x in s.split(":"))
                  for s in os.environ.get("GW_SPIKE_STAGES", "60:10:10,120:500:100,60:10:100").split(",")]

        def tick(self):
            t = self.get_run_time()
            for seconds, users, rate in self.stages:
                if t < seconds:
                    return int(users), rate
                t -= seconds
            return None
