#!/usr/bin/env bash
# How long the status page's JSON feed takes with many routes: a generated
# route file of N routes (perf/gen_routes.py, plus /status), traffic spread
# over them (so that every counter is summed and most routes have figures),
# then the feed asked for COUNT times, one after another.  Prints the median
# and p99 of gwd's own time for the request (duration_us of the access log:
# from the request line to the end of the response) and of a keep-alive
# client's (request sent to last byte read), and the feed's size.
#
#   perf/bench-status.sh [N]      env: COUNT (200), GWD_THREADS (2)
#
# Only 127.0.0.1 is a target; the gwd started here is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
COUNT=${COUNT:-200}
GWD_THREADS=${GWD_THREADS:-2}
DIR=$(mktemp -d /tmp/gwstatus.XXXXXX)
PID=
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null; sleep 0.3; rm -rf "$DIR"; }
trap cleanup EXIT
[[ -x bin/gwd && -x bin/gwc ]] || { echo "bench-status: build first (make)" >&2; exit 1; }
PY=/usr/bin/python3
$PY perf/gen_routes.py $((N - 1)) -o "$DIR/routes.yaml" --requests "$DIR/req.txt" --count 4000
printf '  - {path: /status, methods: [GET], status: {}}\n' >>"$DIR/routes.yaml"
bin/gwc compile "$DIR/routes.yaml" -o "$DIR/r.gwb"
PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
bin/gwd --blob "$DIR/r.gwb" --listen "127.0.0.1:$PORT" --threads "$GWD_THREADS" --db "$DIR/gwd.db" \
	--access-log "$DIR/access.log" 2>"$DIR/gwd.err" &
PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/status" && break; sleep 0.05; done
# traffic over the routes (proxied ones answer 502/503: the upstream is absent)
$PY - "$PORT" "$DIR/req.txt" <<'PY'
import http.client, sys
port, reqs = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
for line in open(reqs):
    m, h, p = line.split()
    c.request(m, p, headers={"Host": h} if h != "-" else {})
    c.getresponse().read()
PY
sleep 1.2 # a sample or two in the ring
# the feed, COUNT times over one keep-alive connection, timed by the client
# from sending the request to the last body byte read
$PY - "$PORT" "$COUNT" "$DIR" <<'PY'
import http.client, sys, time
port, count, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
with open(f"{d}/client.txt", "w") as out:
    for _ in range(count):
        t = time.perf_counter()
        c.request("GET", "/status", headers={"Accept": "application/json"})
        body = c.getresponse().read()
        out.write(f"{(time.perf_counter() - t) * 1e6:.0f}\n")
open(f"{d}/feed.json", "wb").write(body)
PY
sleep 1.5 # the access log is flushed in the background
$PY - "$DIR" "$N" "$COUNT" <<'PY'
import json, statistics, sys
d, n, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
feed = json.load(open(f"{d}/feed.json"))
srv = [json.loads(l)["duration_us"] for l in open(f"{d}/access.log")
       if '"route":"/status"' in l][-count:]
cli = [float(x) for x in open(f"{d}/client.txt")]
q = lambda v, p: sorted(v)[min(len(v) - 1, int(p * len(v)))]
counted = sum(1 for r in feed["routes"] if r["requests"])
print(f"routes {len(feed['routes'])} (with requests: {counted}), feed {len(open(f'{d}/feed.json','rb').read())} bytes, {len(srv)} feeds")
print(f"gwd duration_us: median {statistics.median(srv):.0f}, p99 {q(srv, .99):.0f}, max {max(srv)}")
print(f"client_us:       median {statistics.median(cli):.0f}, p99 {q(cli, .99):.0f}")
PY
