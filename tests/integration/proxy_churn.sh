#!/usr/bin/env bash
# The proxy engines under fault churn: wrk drives GETs through gwd
# to two real upstreams (gwd processes serving a fixed answer) while each of
# them in turn is killed with SIGKILL and restarted, over and over; meanwhile clients
# hang up mid-exchange and POST bodies.  Expected: no GET ever fails (a refused
# connection is retried on the other target, a dead one ejected), gwd answers
# normally afterwards and stops cleanly (under the sanitizer build, t_exit
# fails the script on any report, leaks included).
source "$(dirname "$0")/lib.sh"

ROUNDS=${GW_CHURN_ROUNDS:-6}
if ! command -v wrk >/dev/null; then
	not_ok "proxy churn: wrk is there"
	t_exit
fi
A=$(free_port) B=$(free_port)
cat >"$T_TMP/up.yaml" <<'EOF'
version: 1
routes:
  - path: /api/hello
    methods: [GET, POST]
    respond:
      status: 200
      body: '{"message":"hello"}'
EOF
cat >"$T_TMP/gw.yaml" <<EOF
version: 1
upstreams:
  u:
    targets:
      - address: 127.0.0.1:$A
      - address: 127.0.0.1:$B
    connect_timeout: 200ms
    timeout: 2s
    retries: 1
    circuit_breaker:
      failures: 3
      cooldown: 300ms
routes:
  - path: /health
    methods: [GET]
    health: {}
  - path: /p
    methods: [GET, POST]
    proxy:
      upstream: u
      rewrite: /api/hello
EOF
"$GWC" compile "$T_TMP/up.yaml" -o "$T_TMP/up.gwb" && "$GWC" compile "$T_TMP/gw.yaml" -o "$T_TMP/gw.gwb" ||
	{ not_ok "proxy churn: compile"; t_exit; }

# up PORT: start an upstream (the plain build: it is not what is tested);
# prints its pid
up() {
	"$GW_ROOT/bin/gwd" --blob "$T_TMP/up.gwb" --listen "127.0.0.1:$1" --threads 1 \
		--db "$T_TMP/up$1.db" >/dev/null 2>&1 &
	echo $!
}
PA=$(up "$A") PB=$(up "$B")
T_PIDS+=("$PA" "$PB")
wait_http "http://127.0.0.1:$A/api/hello" 10 && wait_http "http://127.0.0.1:$B/api/hello" 10 ||
	{ not_ok "proxy churn: upstreams start"; t_exit; }
start_gwd "$T_TMP/gw.gwb" || { not_ok "proxy churn: gwd starts"; t_exit; }
G=http://127.0.0.1:$PORT

# wrk runs until the churn is over (SIGINT: it then reports), 120 s at most
wrk -t2 -c32 -d120s --latency "$G/p" >"$T_TMP/wrk.out" 2>&1 &
W=$!
sleep 1
# One target down at a time: the other is back, answering, and past the
# breaker's cool-down (300 ms) before it goes.  With both down at once, a GET
# could meet two failures and retries: 1 lets it try only twice.
for _ in $(seq "$ROUNDS"); do
	kill -KILL "$PA"; wait "$PA" 2>/dev/null; sleep 0.3; PA=$(up "$A"); T_PIDS+=("$PA")
	wait_http "http://127.0.0.1:$A/api/hello" 10; sleep 0.5
	kill -KILL "$PB"; wait "$PB" 2>/dev/null; sleep 0.3; PB=$(up "$B"); T_PIDS+=("$PB")
	wait_http "http://127.0.0.1:$B/api/hello" 10; sleep 0.5
	# clients that give up mid-exchange, and bodies
	for _ in $(seq 5); do
		curl -s -o /dev/null -m 0.002 "$G/p"
		curl -s -o /dev/null -X POST --data-binary @"$T_TMP/gw.yaml" "$G/p"
	done
done
kill -INT "$W"; wait "$W"
n=$(awk '/requests in/ {print $1}' "$T_TMP/wrk.out")
check "proxy churn: wrk made requests ($n)" test "${n:-0}" -gt 1000
expect_eq "proxy churn: no GET answered other than 200 while targets died and came back" "" \
	"$(grep -E 'Non-2xx' "$T_TMP/wrk.out")"
expect_eq "proxy churn: no socket error" "" "$(grep -E 'Socket errors' "$T_TMP/wrk.out")"
wait_http "http://127.0.0.1:$A/api/hello" 10 && wait_http "http://127.0.0.1:$B/api/hello" 10
sleep 0.5 # past the breaker's cool-down
expect_eq "proxy churn: afterwards a GET is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$G/p")"
expect_eq "proxy churn: and /health is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$G/health")"
kill -TERM "$GWD_PID"
for _ in $(seq 100); do kill -0 "$GWD_PID" 2>/dev/null || break; sleep 0.1; done
wait "$GWD_PID"
expect_eq "proxy churn: gwd stops cleanly (exit status)" 0 "$?"
t_exit
