#!/usr/bin/env bash
# perf/run_load_test.sh: the seed's load-test scenarios, one command each,
# each judging itself (perf/README.md).
#
#   perf/run_load_test.sh SCENARIO [SCENARIO...]
#   scenarios: light medium heavy ratelimit baseline stress endurance spike auth
#              (and mixed, the CI gate's first half: perf/ci_gate.sh)
#
# For each scenario: Locust headless with the scenario's users, spawn rate,
# length and user classes; the HTML report and CSVs under reports/; Locust's
# summary; then perf/verdict.py's verdict against the seed's targets.  Exits
# non-zero when any target of any scenario is missed.
#
# When nothing answers at GW_HOST, the script builds what is missing, compiles
# routes/gateway.yaml and examples/upstream.yaml, creates the test accounts
# (bin/gwd users add) in a fresh database, starts the demo upstream on
# 127.0.0.1:8081 and gwd on GW_HOST, and stops both at the end.  While Locust
# runs, gwd's resident memory and open fds are sampled from /proc (the
# endurance scenario fails if they grow without bound).
#
# Environment:
#   GW_HOST       gateway URL (default http://127.0.0.1:8080; loopback only)
#   GW_RUN_TIME   shortens (or lengthens) every scenario, e.g. 15s, 2m;
#                 GW_RUN_TIME_<SCENARIO> (e.g. GW_RUN_TIME_RATELIMIT) one of them
#   GW_WORKERS    Locust worker processes for heavy, stress and spike (default 2;
#                 0 runs them in one process)
#   GW_REPORTS    where reports go (default reports/)
#   GW_TEST_USERS test accounts to create and use (default 20)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

HOST=${GW_HOST:-http://127.0.0.1:8080}
REPORTS=${GW_REPORTS:-reports}
WORKERS=${GW_WORKERS:-2}
export GW_TEST_USERS=${GW_TEST_USERS:-20}
export GW_TEST_USER_PREFIX=${GW_TEST_USER_PREFIX:-loadtest}
export GW_TEST_PASSWORD=${GW_TEST_PASSWORD:-locust-load-test}
UPSTREAM=127.0.0.1:8081   # fixed by routes/gateway.yaml
LOCUST=${LOCUST:-locust}

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# Scenario table: users, spawn rate, length, user classes, error budget,
# whether latency is judged, the request rate its users can offer at most
# (users / mean wait, for the throughput judgement), workers, extra verdict
# flags.  Users, spawn rates, lengths and classes are the seed's where it
# gives them (perf/README.md tells which are ours).
scenario() {
	S_EXTRA=() S_SHAPE="" S_WORKERS=0 S_LATENCY=judge S_ERR=0.001
	case $1 in
	light)     S_USERS=10  S_RATE=2   S_TIME=60   S_OFFERED=6
	           S_CLASSES="PublicRouteUser AuthenticatedUser HealthCheckMonitor" ;;
	medium)    S_USERS=50  S_RATE=5   S_TIME=300  S_OFFERED=60
	           S_CLASSES="PublicRouteUser AuthenticatedUser MixedWorkloadUser HighThroughputUser HealthCheckMonitor" ;;
	heavy)     S_USERS=200 S_RATE=20  S_TIME=300  S_OFFERED=250 S_ERR=0.01 S_WORKERS=$WORKERS
	           S_CLASSES="PublicRouteUser AuthenticatedUser MixedWorkloadUser HighThroughputUser HealthCheckMonitor"
	           S_EXTRA=(--recovery) ;;
	ratelimit) S_USERS=20  S_RATE=5   S_TIME=120  S_OFFERED=200
	           S_CLASSES="RateLimitTestUser" S_EXTRA=(--ratelimit --rl-rate 10 --rl-burst 10) ;;
	baseline)  S_USERS=50  S_RATE=5   S_TIME=300  S_OFFERED=180
	           S_CLASSES="PublicRouteUser AuthenticatedUser RateLimitTestUser HighThroughputUser MixedWorkloadUser StressTestUser HealthCheckMonitor" ;;
	stress)    S_USERS=500 S_RATE=50  S_TIME=600  S_OFFERED=9000 S_ERR=0.01 S_WORKERS=$WORKERS
	           S_LATENCY=report S_CLASSES="StressTestUser" S_EXTRA=(--recovery) ;;
	endurance) S_USERS=100 S_RATE=10  S_TIME=3600 S_OFFERED=80
	           S_CLASSES="MixedWorkloadUser" S_EXTRA=(--resources judge --stable-latency) ;;
	spike)     S_USERS=500 S_RATE=100 S_TIME=240  S_OFFERED=700 S_ERR=0.01 S_WORKERS=$WORKERS
	           S_LATENCY=report S_SHAPE=spike
	           S_CLASSES="PublicRouteUser HighThroughputUser MixedWorkloadUser" S_EXTRA=(--recovery) ;;
	auth)      S_USERS=100 S_RATE=10  S_TIME=300  S_OFFERED=80
	           S_CLASSES="AuthenticatedUser" ;;
	mixed)     S_USERS=30  S_RATE=10  S_TIME=35   S_OFFERED=30
	           S_CLASSES="MixedWorkloadUser PublicRouteUser HealthCheckMonitor" ;;
	*) return 1 ;;
	esac
}

# to_seconds DURATION: 90, 15s, 2m, 1h30m -> seconds (stdout); 1 if malformed.
to_seconds() {
	local s=$1 total=0 n u
	[[ $s =~ ^[0-9]+$ ]] && { echo "$s"; return 0; }
	[[ $s =~ ^([0-9]+[hms])+$ ]] || return 1
	while [[ $s =~ ^([0-9]+)([hms])(.*)$ ]]; do
		n=${BASH_REMATCH[1]} u=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
		case $u in h) total=$((total + n * 3600)) ;; m) total=$((total + n * 60)) ;; s) total=$((total + n)) ;; esac
	done
	echo "$total"
}

# free_port: a TCP port on 127.0.0.1 nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# answers URL: 0 when URL gives any HTTP status within a second.
answers() { [[ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$1")" != 000 ]]; }

# listener_pid HOST:PORT: the pid of the process listening there (ss), or "".
listener_pid() {
	ss -Hltnp "sport = :${1##*:}" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}

STARTED=()
WORKER_PIDS=()
SAMPLER_PID=""
GWD_PID=""
RUN_DIR=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p
	for p in "$SAMPLER_PID" "${WORKER_PIDS[@]}"; do [[ -n $p ]] && kill "$p" 2>/dev/null; done
	for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${STARTED[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	[[ -n $RUN_DIR && -z ${GW_KEEP_RUN_DIR:-} ]] && rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_services: gwd and the demo upstream, with the test accounts, when
# nothing answers at HOST. Sets GWD_PID. Returns 1 when they could not start.
start_services() {
	local hp=${HOST#http://}
	hp=${hp%%/*}
	if answers "$HOST/health"; then
		GWD_PID=$(listener_pid "$hp")
		echo "run_load_test: using the gateway already at $HOST (pid ${GWD_PID:-unknown}; its accounts must exist)"
		answers "http://$UPSTREAM/health" || echo "run_load_test: warning: no demo upstream at $UPSTREAM: proxied routes will fail" >&2
		return 0
	fi
	case $hp in 127.*|localhost:*|\[::1\]:*) ;; *) echo "run_load_test: $HOST is not loopback: start it yourself" >&2; return 1 ;; esac
	if [[ ! -x bin/gwd || ! -x bin/gwc ]]; then
		make --no-print-directory all >&2 || return 1
	fi
	mkdir -p var/perf
	RUN_DIR=$(mktemp -d "$ROOT/var/perf/run.XXXXXX")
	bin/gwc compile routes/gateway.yaml -o "$RUN_DIR/gateway.gwb" || return 1
	if answers "http://$UPSTREAM/health"; then
		echo "run_load_test: using the demo upstream already at $UPSTREAM"
	else
		bin/gwc compile examples/upstream.yaml -o "$RUN_DIR/upstream.gwb" || return 1
		bin/gwd --blob "$RUN_DIR/upstream.gwb" --listen "$UPSTREAM" --db "$RUN_DIR/upstream.db" \
			--access-log "$RUN_DIR/upstream-access.log" 2>"$RUN_DIR/upstream.err" &
		STARTED+=("$!")
	fi
	local i
	for i in $(seq "$GW_TEST_USERS"); do
		printf '%s\n' "$GW_TEST_PASSWORD" |
			bin/gwd users add "$GW_TEST_USER_PREFIX$i" --db "$RUN_DIR/gwd.db" >/dev/null 2>>"$RUN_DIR/users.err" ||
			{ echo "run_load_test: gwd users add failed: $(tail -n 2 "$RUN_DIR/users.err")" >&2; return 1; }
	done
	bin/gwd --blob "$RUN_DIR/gateway.gwb" --listen "$hp" --db "$RUN_DIR/gwd.db" \
		--access-log "$RUN_DIR/access.log" --pid-file "$RUN_DIR/gwd.pid" 2>"$RUN_DIR/gwd.err" &
	GWD_PID=$!
	STARTED+=("$GWD_PID")
	for _ in $(seq 200); do
		answers "$HOST/health" && answers "http://$UPSTREAM/health" && break
		sleep 0.05
	done
	if ! answers "$HOST/health"; then
		echo "run_load_test: gwd did not start: $(tail -n 3 "$RUN_DIR/gwd.err")" >&2
		return 1
	fi
	# The gateway's health checks need a moment to see the upstream healthy.
	for _ in $(seq 100); do
		[[ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$HOST/health")" == 200 ]] && break
		sleep 0.1
	done
	echo "run_load_test: started gwd (pid $GWD_PID) on $HOST and the demo upstream on $UPSTREAM," \
		"$GW_TEST_USERS test accounts"
}

# sample PID FILE INTERVAL: append "t,rss_kb,fds" lines for PID until it exits.
sample() {
	local pid=$1 file=$2 every=$3 t0 rss fds
	t0=$(date +%s)
	echo "t,rss_kb,fds" >"$file"
	while [[ -r /proc/$pid/status ]]; do
		rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
		fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		[[ -n $rss ]] && echo "$(($(date +%s) - t0)),$rss,$fds" >>"$file"
		sleep "$every"
	done
}

# run_scenario NAME: one scenario, its summary and its verdict. Returns the
# verdict's status.
run_scenario() {
	local name=$1 secs prefix rc every
	scenario "$name" || { echo "run_load_test: unknown scenario '$name'" >&2; usage; }
	secs=$S_TIME
	local var=GW_RUN_TIME_${name^^} want=${GW_RUN_TIME:-}
	[[ -n ${!var:-} ]] && want=${!var}
	if [[ -n $want ]]; then
		secs=$(to_seconds "$want") || { echo "run_load_test: bad run time '$want'" >&2; return 2; }
	fi
	mkdir -p "$REPORTS"
	prefix=$REPORTS/$name
	rm -f "$prefix"_*.csv "$prefix.html" "$prefix.log" "$prefix.workers.log" "$prefix.verdict"

	local env_extra=(GW_FINAL_CSV="$prefix") args=() workers=$S_WORKERS
	[[ $workers -lt 0 ]] && workers=0
	# /auth/login admits 5/s per client address: the processes share 4/s.
	env_extra+=(GW_LOGIN_RATE="$(python3 -c "print(4 / max(1, $workers))")")
	if [[ -n $S_SHAPE ]]; then
		# Spike: 25% low, 50% spike, 25% low again (the seed's 1m + 2m, then
		# a recovery stage), scaled to the run length.
		local low=$((secs / 4)) high=$((secs / 2))
		env_extra+=(GW_SHAPE="$S_SHAPE" GW_SPIKE_STAGES="$low:10:10,$high:$S_USERS:$S_RATE,$((secs - low - high)):10:$S_RATE")
		S_EXTRA+=(--tail-seconds "$(((secs - low - high) * 2 / 3))")
	fi
	args=(-f perf/locustfile.py --host "$HOST" --headless --only-summary --stop-timeout 5
		--html "$prefix.html" --csv "$prefix" --exit-code-on-error 0)
	# A shape sets users and length itself (Locust refuses -t with one).
	[[ -z $S_SHAPE ]] && args+=(-u "$S_USERS" -r "$S_RATE" -t "${secs}s")

	echo
	echo "=== scenario $name: $S_USERS users, spawn $S_RATE/s, ${secs}s, $S_CLASSES" \
		"$( ((workers > 0)) && echo "(master + $workers workers)")"
	every=1
	((secs > 600)) && every=5
	SAMPLER_PID=""
	if [[ -n ${GWD_PID:-} ]]; then
		sample "$GWD_PID" "${prefix}_resources.csv" "$every" &
		SAMPLER_PID=$!
	fi

	WORKER_PIDS=()
	if ((workers > 0)); then
		local mport
		mport=$(free_port)
		args+=(--master --master-bind-host 127.0.0.1 --master-bind-port "$mport"
			--expect-workers "$workers" --expect-workers-max-wait 30)
		for _ in $(seq "$workers"); do
			env "${env_extra[@]}" "$LOCUST" -f perf/locustfile.py --worker --master-host 127.0.0.1 \
				--master-port "$mport" --loglevel WARNING >>"$prefix.workers.log" 2>&1 &
			WORKER_PIDS+=("$!")
		done
	fi
	# shellcheck disable=SC2086 # the class list is words
	env "${env_extra[@]}" timeout $((secs + 180)) "$LOCUST" "${args[@]}" $S_CLASSES >"$prefix.log" 2>&1
	rc=$?
	for p in "${WORKER_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill "$p" 2>/dev/null
	done
	WORKER_PIDS=()
	[[ -n $SAMPLER_PID ]] && kill "$SAMPLER_PID" 2>/dev/null
	SAMPLER_PID=""

	summary_of "$prefix.log"
	if [[ $rc -ne 0 ]]; then
		echo "run_load_test: locust exited $rc (log: $prefix.log)" >&2
		tail -n 20 "$prefix.log" >&2
	fi
	python3 perf/verdict.py --scenario "$name" --prefix "$prefix" --host "$HOST" \
		--error-max "$S_ERR" --latency "$S_LATENCY" --offered "$S_OFFERED" \
		${GWD_PID:+--gwd-pid "$GWD_PID"} "${S_EXTRA[@]}" | tee "$prefix.verdict"
	local vrc=${PIPESTATUS[0]}
	echo "reports: $prefix.html, ${prefix}_stats.csv, ${prefix}_timeline.csv, $prefix.log"
	((rc != 0 && vrc == 0)) && vrc=1
	return "$vrc"
}

# summary_of LOG: Locust's end-of-run summary (its tables), without log lines.
summary_of() {
	awk '/^Type +Name +# reqs/ { on = 1 } on && !/^\[20[0-9][0-9]-/' "$1"
}

[[ $# -ge 1 ]] || usage
for s in "$@"; do scenario "$s" || { echo "run_load_test: unknown scenario '$s'" >&2; usage; }; done
command -v "$LOCUST" >/dev/null || tests/install-deps.sh python3-locust || exit 1
start_services || exit 1

failed=0
ran=()
for s in "$@"; do
	run_scenario "$s" || failed=$((failed + 1))
	ran+=("$s")
done

if [[ $# -gt 1 ]]; then
	# Several scenarios (the CI gate): end with every summary and verdict.
	echo
	echo "=== summaries"
	for s in "${ran[@]}"; do
		echo "--- $s"
		summary_of "$REPORTS/$s.log"
		cat "$REPORTS/$s.verdict" 2>/dev/null
	done
fi
ok_n=0 miss_n=0
for s in "${ran[@]}"; do
	ok_n=$((ok_n + $(grep -c ': ok ' "$REPORTS/$s.verdict" 2>/dev/null || true)))
	miss_n=$((miss_n + $(grep -c ': MISS ' "$REPORTS/$s.verdict" 2>/dev/null || true)))
done
echo
echo "load test ${ran[*]}: $( ((failed == 0)) && echo PASS || echo FAIL)"
echo "targets: $ok_n passed, $miss_n failed"
exit $((failed > 0))
