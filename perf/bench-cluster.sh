#!/usr/bin/env bash
# Cluster benchmarks on loopback, side by side in alternating rounds (wrk):
#   session: GET /private with a bearer token (cache hits) on a gwd with the
#            SQLite store against a gwd with the Redis store
#   limit:   GET /local (in-process limit) against GET /cluster (the same
#            limit with scope: cluster) on the gwd with the Redis store
# Prints every round, the medians (req/s, p99) and the ratios; with STRESS=1
# also runs the seed's stress scenario (perf/run_load_test.sh stress) against
# one instance and against three behind HAProxy (TCP mode).
#
#   perf/bench-cluster.sh        env: ROUNDS (5) DURATION (10s) CONNS (32)
#                                     THREADS (2) GWD_THREADS (nproc) STRESS (0)
#                                     GW_RUN_TIME (stress length, 60s)
# STRESS=1 adds the stress runs, STRESS=only runs them alone.
# Starts its own redis-server on a temporary port and directory; only
# 127.0.0.1 is a target; everything started here is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
GWD_THREADS=${GWD_THREADS:-$(nproc)}
DIR=$(mktemp -d /tmp/gwbench-cluster.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	rm -rf "$DIR"
}
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done; echo "bench: $1 did not come up: $(curl -s "$1")" >&2; cat "$DIR"/*.err >&2; exit 1; }
for b in wrk redis-server haproxy; do command -v "$b" >/dev/null || { echo "bench: $b missing" >&2; exit 1; }; done
[[ -x bin/gwd && -x bin/gwc ]] || { echo "bench: build first (make)" >&2; exit 1; }

RPORT=$(port)
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$DIR" --save '' --appendonly yes \
	--appendfsync always --logfile "$DIR/redis.log" &
PIDS+=($!)
STORE=redis://127.0.0.1:$RPORT
for _ in $(seq 100); do redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
bin/gwc compile perf/bench-cluster.yaml -o "$DIR/b.gwb" >/dev/null
# the SQLite gwd serves the same routes with every limit local
sed '/scope: cluster/d' perf/bench-cluster.yaml >"$DIR/local.yaml"
bin/gwc compile "$DIR/local.yaml" -o "$DIR/local.gwb" >/dev/null
printf 'bench-password\n' | bin/gwd users add bench --db "$DIR/gwd.db" >/dev/null
printf 'bench-password\n' | bin/gwd users add bench --store "$STORE" >/dev/null
SQ=$(port) RD=$(port)
bin/gwd --blob "$DIR/local.gwb" --listen "127.0.0.1:$SQ" --threads "$GWD_THREADS" --db "$DIR/gwd.db" 2>"$DIR/sq.err" &
SQPID=$!
PIDS+=($!)
bin/gwd --blob "$DIR/b.gwb" --listen "127.0.0.1:$RD" --threads "$GWD_THREADS" --store "$STORE" 2>"$DIR/rd.err" &
RDPID=$!
PIDS+=($!)
wait_up "http://127.0.0.1:$SQ/health"
wait_up "http://127.0.0.1:$RD/health"
token() {
	curl -s -X POST -H 'Content-Type: application/json' \
		-d '{"username":"bench","password":"bench-password"}' "$1/auth/login" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
TSQ=$(token "http://127.0.0.1:$SQ")
TRD=$(token "http://127.0.0.1:$RD")

# CPU ticks (user + system) of process <pid> so far.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# one wrk round against the gwd <pid>: prints "req/s p99_ms cpu_us_per_req"
round() { # PID URL [HEADER]
	local out pid=$1 t0 t1 n
	shift
	t0=$(ticks "$pid")
	if [[ $# -gt 1 ]]; then
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$2" "$1")
	else
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$1")
	fi
	t1=$(ticks "$pid")
	n=$(awk '/requests in/ { print $1 }' <<<"$out")
	local rps p99
	rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
	p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
		else if (v ~ /ms$/) sub(/ms/, "", v); else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
		print v }' <<<"$out")
	[[ $(awk '/Non-2xx/ { print $NF }' <<<"$out") == "" ]] || { echo "bench: non-2xx answers on $1" >&2; exit 1; }
	echo "$rps $p99 $(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [[ ${STRESS:-0} != only ]]; then
declare -A RPS P99 CPU
for name in sqlite redis local cluster; do RPS[$name]=; P99[$name]=; CPU[$name]=; done
for r in $(seq "$ROUNDS"); do
	for name in sqlite redis local cluster; do
		case $name in
		sqlite) res=$(round "$SQPID" "http://127.0.0.1:$SQ/private" "Authorization: Bearer $TSQ") ;;
		redis) res=$(round "$RDPID" "http://127.0.0.1:$RD/private" "Authorization: Bearer $TRD") ;;
		local) res=$(round "$RDPID" "http://127.0.0.1:$RD/local") ;;
		cluster) res=$(round "$RDPID" "http://127.0.0.1:$RD/cluster") ;;
		esac
		read -r a b c <<<"$res"
		printf 'round %d %-8s %10s req/s  p99 %6s ms  cpu %s us/req\n' "$r" "$name" "$a" "$b" "$c"
		RPS[$name]+="$a"$'\n'
		P99[$name]+="$b"$'\n'
		CPU[$name]+="$c"$'\n'
	done
done
echo
m() { printf '%s' "${RPS[$1]}" | median; }
p() { printf '%s' "${P99[$1]}" | median; }
c() { printf '%s' "${CPU[$1]}" | median; }
for name in sqlite redis local cluster; do
	printf 'median %-8s %10.0f req/s  p99 %.2f ms  cpu %.2f us/req\n' "$name" "$(m $name)" "$(p $name)" "$(c $name)"
done
awk -v a="$(m redis)" -v b="$(m sqlite)" -v ca="$(c redis)" -v cb="$(c sqlite)" \
	'BEGIN { printf "session route, Redis / SQLite store: %.3f req/s, CPU per request %.3f\n", a / b, ca / cb }'
awk -v a="$(m cluster)" -v b="$(m local)" -v pa="$(p cluster)" -v pb="$(p local)" \
	-v ca="$(c cluster)" -v cb="$(c local)" \
	'BEGIN { printf "cluster / local limit: %.3f req/s, p99 %+.2f ms, CPU per request %.3f\n", a / b, pa - pb, ca / cb }'
echo "lease traffic of the cluster route:"
curl -s "http://127.0.0.1:$RD/metrics" | grep -E '^gateway_(cluster_lease_rounds|cluster_lease_scripts|cluster_lease_waits|store_operations)_total'
fi

if [[ ${STRESS:-0} != 0 ]]; then
	# the seed's stress scenario: one instance, then three behind HAProxy;
	# the demo upstream on 127.0.0.1:8081 (routes/gateway.yaml names it) so
	# that /health is ok
	bin/gwc compile routes/gateway.yaml -o "$DIR/gw.gwb" >/dev/null
	bin/gwc compile examples/upstream.yaml -o "$DIR/up.gwb" >/dev/null
	curl -s -o /dev/null http://127.0.0.1:8081/ && { echo "bench: 127.0.0.1:8081 is taken" >&2; exit 1; }
	bin/gwd --blob "$DIR/up.gwb" --listen 127.0.0.1:8081 --threads 1 --db "$DIR/up.db" 2>"$DIR/up.err" &
	PIDS+=($!)
	for i in $(seq "${GW_TEST_USERS:-20}"); do
		printf 'locust-load-test\n' | bin/gwd users add "loadtest$i" --store "$STORE" >/dev/null 2>&1 || true
	done
	declare -a GP
	for i in 1 2 3; do
		GP[$i]=$(port)
		bin/gwd --blob "$DIR/gw.gwb" --listen "127.0.0.1:${GP[$i]}" --threads "$GWD_THREADS" \
			--store "$STORE" 2>"$DIR/g$i.err" &
		PIDS+=($!)
	done
	# /health is ok once the upstream's first health check passed
	for i in 1 2 3; do
		for _ in $(seq 150); do curl -sf -o /dev/null "http://127.0.0.1:${GP[$i]}/health" && break; sleep 0.2; done
		wait_up "http://127.0.0.1:${GP[$i]}/health"
	done
	LB=$(port)
	cat >"$DIR/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 1s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:$LB
  default_backend gwd
backend gwd
  balance roundrobin
  server g1 127.0.0.1:${GP[1]}
  server g2 127.0.0.1:${GP[2]}
  server g3 127.0.0.1:${GP[3]}
CFG
	haproxy -f "$DIR/haproxy.cfg" -db >"$DIR/haproxy.log" 2>&1 &
	PIDS+=($!)
	wait_up "http://127.0.0.1:$LB/health"
	export GW_RUN_TIME=${GW_RUN_TIME:-60s}
	echo "== stress: one instance"
	GW_HOST=http://127.0.0.1:${GP[1]} GW_REPORTS=reports/cluster-1 perf/run_load_test.sh stress || true
	echo "== stress: three instances behind HAProxy"
	GW_HOST=http://127.0.0.1:$LB GW_REPORTS=reports/cluster-3 perf/run_load_test.sh stress || true
fi
