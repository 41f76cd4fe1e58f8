#!/usr/bin/env bash
# Side-by-side WebSocket benchmark on loopback: one echo upstream
# (python3-websockets, tests/integration/ws_peer.py) reached directly,
# through gwd's WebSocket route and through nginx's proxy_pass with the
# Upgrade/Connection fields, in alternating rounds so that the machine's
# noise falls on all three alike.  Each round, per target, one client:
# N sequential 64-byte echoes (round-trip p50 and p99), then DURATION
# seconds with 64 messages in flight (messages per second).  Prints every
# round, then the medians, the load average before and after.  cpu_us_per_msg:
# the proxy's own CPU (user + system, every thread or worker, from /proc)
# per echoed message, steadier than messages per second on a shared box.
#
#   perf/bench-ws.sh      env: ROUNDS (5), N (2000), DURATION (5), GWD_THREADS (nproc)
#
# The client and the echo server are Python (asyncio): they cost more CPU
# per message than either proxy, so messages per second measures the whole
# loop, and the direct figure is the ceiling for both proxies.
# Only 127.0.0.1 is ever a target; every server started here is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
N=${N:-2000}
DURATION=${DURATION:-5}
GWD_THREADS=${GWD_THREADS:-$(nproc)}
PY=/usr/bin/python3
PEER=tests/integration/ws_peer.py
DIR=$(mktemp -d /tmp/gwbench-ws.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[[ -f $DIR/nginx.pid ]] && kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true
	sleep 0.3
	rm -rf "$DIR"
}
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
command -v nginx >/dev/null || { echo "bench: nginx missing (make bench installs it)" >&2; exit 1; }
[[ -x bin/gwd && -x bin/gwc ]] || { echo "bench: build first (make)" >&2; exit 1; }

GW_PORT=$(port) NG_PORT=$(port) UP_PORT=$(port)
$PY $PEER server "$UP_PORT" & PIDS+=($!)
sed -e "s#@UPORT@#$UP_PORT#g" perf/bench-ws.yaml >"$DIR/bench-ws.yaml"
bin/gwc compile "$DIR/bench-ws.yaml" -o "$DIR/bench-ws.gwb"
bin/gwd --blob "$DIR/bench-ws.gwb" --listen "127.0.0.1:$GW_PORT" --threads "$GWD_THREADS" \
	--db "$DIR/gwd.db" >"$DIR/gwd.out" 2>&1 &
PIDS+=($!)
sed -e "s#@PORT@#$NG_PORT#g" -e "s#@DIR@#$DIR#g" -e "s#@UPORT@#$UP_PORT#g" perf/nginx-ws.conf >"$DIR/nginx.conf"
nginx -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" -g "daemon on;"
sleep 1
TARGETS=("direct ws://127.0.0.1:$UP_PORT/echo" "gwd ws://127.0.0.1:$GW_PORT/ws/echo"
	 "nginx ws://127.0.0.1:$NG_PORT/ws/echo")
GWD_PID=${PIDS[1]}
# CPU ticks (user + system) of a target's processes: gwd's threads, nginx's
# workers and master; none for "direct"
ticks() {
	local pids=()
	case $1 in
	gwd) pids=("$GWD_PID") ;;
	nginx) pids=($(cat "$DIR/nginx.pid") $(pgrep -P "$(cat "$DIR/nginx.pid")")) ;;
	*) echo 0; return ;;
	esac
	for p in "${pids[@]}"; do cut -d' ' -f14,15 "/proc/$p/stat"; done |
		awk '{ t += $1 + $2 } END { print t + 0 }'
}
HZ=$(getconf CLK_TCK)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
	for t in "${TARGETS[@]}"; do
		set -- $t
		c0=$(ticks "$1")
		out=$($PY $PEER bench "$2" "$N" "$DURATION")
		c1=$(ticks "$1")
		msgs=$(awk '{print $NF}' <<<"$out")
		cpu=$(awk -v d=$((c1 - c0)) -v m="$msgs" -v hz="$HZ" 'BEGIN { printf "%.1f", d * 1e6 / hz / m }')
		echo "round $r $1 $out cpu_us_per_msg $cpu" | tee -a "$DIR/results"
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$DIR/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    w = line.split()
    rows.setdefault(w[2], []).append((float(w[4]), float(w[6]), float(w[8]), float(w[12])))
print("%-7s %10s %10s %12s %16s" % ("target", "p50 ms", "p99 ms", "msgs/s", "cpu us/msg"))
for name, v in rows.items():
    print("%-7s %10.3f %10.3f %12.0f %16.1f" % (name, statistics.median(x[0] for x in v),
          statistics.median(x[1] for x in v), statistics.median(x[2] for x in v),
          statistics.median(x[3] for x in v)))
PY
