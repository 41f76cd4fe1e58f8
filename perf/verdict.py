#!/usr/bin/env python3
"""verdict.py: judge one Locust run of perf/run_load_test.sh against the
seed's targets (../shared/seed-performance-testing.md, "Performance Targets").

Reads what the run left under reports/ (PREFIX_stats.csv from Locust's
--csv, PREFIX_timeline.csv from perf/locustfile.py, PREFIX.log,
PREFIX_resources.csv sampled from /proc by run_load_test.sh), probes the
gateway once more for recovery, prints one line per target:

    verdict light: p95 12 ms <= 200 ms ... ok
    verdict light: MISS error rate 0.31% < 0.1%

and exits 1 when any target is missed (2 when the run left nothing to judge).
A figure that cannot be judged from this run (a throughput the load
generator could not offer) is printed as "not judged" with the reason.
"""

import argparse
import csv
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request

# The seed's targets.
LATENCY_TARGETS_MS = [("50%", "p50", 50), ("90%", "p90", 100), ("95%", "p95", 200), ("99%", "p99", 500)]
THROUGHPUT_MIN = 1000.0


class Verdict:
    """Collects judged lines; <failed> counts the misses."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.passed = 0
        self.failed = 0

    def judge(self, ok, text):
        """One target: <ok> says whether it was met; <text> describes it."""
        if ok:
            self.passed += 1
            print("verdict %s: ok   %s" % (self.scenario, text))
        else:
            self.failed += 1
            print("verdict %s: MISS %s" % (self.scenario, text))

    def note(self, text):
        """A figure reported but not judged."""
        print("verdict %s: note %s" % (self.scenario, text))


def read_csv(path):
    """Rows of a CSV file as dicts, or [] when the file is missing."""
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def num(value, default=0.0):
    """<value> as a float; <default> for "N/A" or empty."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def http_get(url, timeout=2.0):
    """GET <url>: (status, headers dict, body bytes, seconds); status 0 when
    no HTTP answer came."""
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read(), time.monotonic() - t0
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read(), time.monotonic() - t0
    except (OSError, urllib.error.URLError):
        return 0, {}, b"", time.monotonic() - t0


def judge_latency(v, row, label):
    """The seed's p50/p90/p95/p99 targets on stats row <row>."""
    for col, name, limit in LATENCY_TARGETS_MS:
        value = num(row.get(col), float("inf"))
        v.judge(value <= limit, "%s%s %g ms <= %d ms" % (name, label, value, limit))


def judge_resources(v, path, strict):
    """Resident memory and open fds of gwd sampled during the run. Reported
    always; with <strict> (endurance) judged: the median of the last third of
    the samples after warm-up may not exceed the first third's by more than
    25% + 16 MiB (RSS) or 50% + 32 (fds) - growth without bound shows there
    in any run long enough to matter."""
    rows = read_csv(path)
    samples = [(num(r["t"]), num(r["rss_kb"]), num(r["fds"])) for r in rows if r.get("rss_kb")]
    if not samples:
        if strict:
            v.judge(False, "resource samples of gwd (none in %s)" % path)
        else:
            v.note("no resource samples of gwd (not started by this script and no pid known)")
        return
    rss = [s[1] for s in samples]
    fds = [s[2] for s in samples]
    v.note("gwd RSS %.1f -> %.1f MiB (max %.1f), open fds %d -> %d (max %d), %d samples"
           % (rss[0] / 1024, rss[-1] / 1024, max(rss) / 1024, fds[0], fds[-1], max(fds), len(samples)))
    if not strict:
        return
    body = samples[len(samples) // 5:]  # warm-up: connections and caches fill first
    if len(body) < 6:
        v.judge(False, "enough resource samples to judge growth (%d after warm-up, need 6)" % len(body))
        return
    third = len(body) // 3
    first, last = body[:third], body[-third:]
    r0, r1 = statistics.median(s[1] for s in first), statistics.median(s[1] for s in last)
    f0, f1 = statistics.median(s[2] for s in first), statistics.median(s[2] for s in last)
    v.judge(r1 <= r0 * 1.25 + 16 * 1024,
            "RSS stable: %.1f MiB late vs %.1f MiB early (limit +25%% +16 MiB)" % (r1 / 1024, r0 / 1024))
    v.judge(f1 <= f0 * 1.5 + 32, "open fds stable: %d late vs %d early (limit +50%% +32)" % (f1, f0))


def timeline(path):
    """The rows of PREFIX_timeline.csv (perf/locustfile.py writes one a
    second): (seconds, users, rps, p95 of the last ~10 s or NaN)."""
    out = []
    for r in read_csv(path):
        out.append((num(r["t"]), num(r["users"]), num(r["rps"]), num(r.get("p95_ms"), float("nan"))))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scenario", required=True)
    p.add_argument("--prefix", required=True, help="reports/NAME: where the run's files are")
    p.add_argument("--host", default="http://127.0.0.1:8080")
    p.add_argument("--error-max", type=float, default=0.001, help="fraction of failed requests allowed")
    p.add_argument("--latency", choices=["judge", "report"], default="judge")
    p.add_argument("--offered", type=float, default=0.0,
                   help="requests/s the scenario's users can offer at most (from their waits)")
    p.add_argument("--ratelimit", action="store_true", help="judge 429s, admitted count and recovery")
    p.add_argument("--rl-rate", type=float, default=10.0)
    p.add_argument("--rl-burst", type=float, default=10.0)
    p.add_argument("--recovery", action="store_true", help="after the run, fast answers again")
    p.add_argument("--resources", choices=["judge", "report"], default="report")
    p.add_argument("--stable-latency", action="store_true",
                   help="endurance: p95 late in the run no worse than early")
    p.add_argument("--tail-seconds", type=float, default=0.0,
                   help="spike: judge p95 over the last N seconds (the recovery stage)")
    p.add_argument("--gwd-pid", type=int, default=0)
    a = p.parse_args()
    v = Verdict(a.scenario)

    rows = read_csv(a.prefix + "_stats.csv")
    total = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if total is None or num(total["Request Count"]) == 0:
        print("verdict %s: MISS no requests recorded (%s_stats.csv)" % (a.scenario, a.prefix))
        print("verdict %s: FAIL" % a.scenario)
        return 2
    reqs = num(total["Request Count"])
    fails = num(total["Failure Count"])
    rps = num(total["Requests/s"])
    v.note("%d requests, %d failed, %.1f req/s" % (reqs, fails, rps))

    # Error rate: the seed's < 0.1% under normal load, < 1% under stress.
    v.judge(fails / reqs < a.error_max,
            "error rate %.3f%% < %g%%" % (100.0 * fails / reqs, 100.0 * a.error_max))

    log = ""
    if os.path.exists(a.prefix + ".log"):
        log = open(a.prefix + ".log", encoding="utf-8", errors="replace").read()
    cpu_bound = "CPU usage above" in log or "CPU usage threshold was exceeded" in log
    if cpu_bound:
        v.note("Locust reported its own CPU above 90%: latencies include the load generator's queueing")

    if a.latency == "judge":
        judge_latency(v, total, "")
    else:
        v.note("latency p50 %s, p90 %s, p95 %s, p99 %s ms (not judged in this scenario)"
               % (total.get("50%"), total.get("90%"), total.get("95%"), total.get("99%")))

    # Throughput: judged only where this run's users could offer the target
    # and Locust itself was not the bottleneck.
    if a.offered >= THROUGHPUT_MIN and not cpu_bound:
        v.judge(rps >= THROUGHPUT_MIN, "throughput %.0f req/s >= %.0f req/s" % (rps, THROUGHPUT_MIN))
    elif a.offered >= THROUGHPUT_MIN:
        v.note("throughput %.0f req/s: not judged, Locust was CPU-bound before the gateway "
               "(wrk measures gwd's ceiling: perf/bench.sh)" % rps)
    else:
        v.note("throughput %.0f req/s: not judged, this scenario's users offer at most ~%.0f req/s "
               "(< the seed's %.0f; wrk measures gwd's ceiling: perf/bench.sh)" % (rps, a.offered, THROUGHPUT_MIN))

    history = timeline(a.prefix + "_timeline.csv")

    if a.ratelimit:
        by_name = {r["Name"]: r for r in rows}
        refused = num(by_name.get("/api/limited [429]", {}).get("Request Count"))
        admitted = num(by_name.get("/api/limited", {}).get("Request Count"))
        v.judge(refused > 0, "429 responses present (%d)" % refused)
        v.judge(admitted > 0, "requests admitted (%d)" % admitted)
        if rps > 0:
            # Locust's rate is requests / (last request - start): the span
            # the limiter saw, give or take a second at either end.
            span = reqs / rps
            upper = a.rl_rate * (span + 1) + a.rl_burst
            lower = 0.9 * a.rl_rate * max(0.0, span - 2)
            v.judge(lower <= admitted <= upper,
                    "admitted %d within [%d, %d]: %g/s, burst %g, over %.1fs"
                    % (admitted, lower, upper, a.rl_rate, a.rl_burst, span))
        # Recovery: after a quiet window, a full burst is admitted again.
        time.sleep(max(1.5, a.rl_burst / a.rl_rate + 0.5))
        codes, remaining = [], []
        for _ in range(int(a.rl_burst)):
            st, hd, _, _ = http_get(a.host + "/api/limited")
            codes.append(st)
            remaining.append(hd.get("X-RateLimit-Remaining"))
        v.judge(all(c == 200 for c in codes),
                "recovery: %d requests after the window all 200 (%s)" % (len(codes), " ".join(map(str, codes))))
        v.judge(all(r is not None for r in remaining), "recovery: X-RateLimit-Remaining on each")

    if a.recovery:
        times, codes = [], []
        for _ in range(20):
            st, _, body, dt = http_get(a.host + "/api/hello")
            codes.append(st)
            times.append(dt * 1000)
        v.judge(all(c == 200 for c in codes), "recovery: 20 GET /api/hello after the load, all 200")
        v.judge(statistics.median(times) <= 50,
                "recovery: median %.1f ms after the load <= 50 ms" % statistics.median(times))

    running = [h for h in history if h[1] > 0]  # not the seconds after the stop
    if a.tail_seconds > 0 and running:
        end = running[-1][0]
        tail = [h[3] for h in running if h[0] >= end - a.tail_seconds and h[3] == h[3]]
        if tail:
            worst = statistics.median(tail)
            v.judge(worst <= 200, "after the spike: p95 %g ms (median over the last %ds) <= 200 ms"
                    % (worst, a.tail_seconds))
        else:
            v.judge(False, "after the spike: latency history of the last %ds" % a.tail_seconds)

    if a.stable_latency:
        pts = [h for h in running if h[3] == h[3]]
        pts = pts[len(pts) // 5:]
        if len(pts) >= 6:
            third = len(pts) // 3
            early = statistics.median(h[3] for h in pts[:third])
            late = statistics.median(h[3] for h in pts[-third:])
            v.judge(late <= early * 1.5 + 10,
                    "no degradation: p95 %g ms late vs %g ms early (limit x1.5 +10 ms)" % (late, early))
        else:
            v.judge(False, "no degradation: enough latency history to judge (%d points)" % len(pts))

    judge_resources(v, a.prefix + "_resources.csv", a.resources == "judge")

    st, hd, body, _ = http_get(a.host + "/health")
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        status = None
    v.judge(st == 200, "gateway healthy after the run (/health %d, status %r)" % (st, status))
    if a.gwd_pid:
        alive = os.path.exists("/proc/%d" % a.gwd_pid)
        v.judge(alive, "gwd (pid %d) still running" % a.gwd_pid)

    print("verdict %s: %s (%d targets met, %d missed)"
          % (a.scenario, "PASS" if v.failed == 0 else "FAIL", v.passed, v.failed))
    return 1 if v.failed else 0


if __name__ == "__main__":
    sys.exit(main())
