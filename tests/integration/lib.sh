# Shared helpers for tests/integration/*.sh (sourced, not run).
# Each check prints "ok - NAME" or "not ok - NAME"; tests/run.sh counts them.
# Servers a script starts are stopped by the EXIT trap, whatever happens.

GW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GWC=${GWC:-$GW_ROOT/bin/gwc}
GWD=${GWD:-$GW_ROOT/bin/gwd}
T_FAILED=0
T_PIDS=()
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gwtest.XXXXXX")

t_stop_all() {
	local p
	for p in "${T_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${T_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	T_PIDS=()
}
t_cleanup() {
	t_stop_all
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; T_FAILED=$((T_FAILED + 1)); }

# check NAME CMD...: ok when CMD exits 0.
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [[ "$2" == "$3" ]]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# wait_http URL [SECONDS]: until URL answers any HTTP status.
wait_http() {
	local url=$1 n=${2:-10}
	for _ in $(seq $((n * 20))); do
		curl -s -o /dev/null -m 1 "$url" && return 0
		sleep 0.05
	done
	return 1
}

# t_login BASE USER PASSWORD: a JSON login at BASE/auth/login; prints
# "STATUS TOKEN" (TOKEN empty when the answer holds none) and leaves the
# answer's body in $T_TMP/login.body.  Bounded: 10 s.
t_login() {
	local code
	code=$(curl -s -m 10 -o "$T_TMP/login.body" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' \
		-d "{\"username\":\"$2\",\"password\":\"$3\"}" "$1/auth/login")
	printf '%s %s\n' "$code" "$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$T_TMP/login.body")"
}

# t_exit: end of script: stops the servers it started (so that sanitizer
# builds of gwd report leaks at exit), fails on any sanitizer report in gwd's
# stderr, and exits with whether every check passed.
t_exit() {
	t_stop_all
	if [[ -f $T_TMP/gwd.err ]] &&
		grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T_TMP/gwd.err"; then
		not_ok "$(basename "$0"): sanitizer report in gwd's stderr"
		grep -E -A12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T_TMP/gwd.err" | head -40
	fi
	exit $((T_FAILED > 0))
}

# start_gwd BLOB [ARGS...]: serve BLOB on a free 127.0.0.1 port with a
# database in T_TMP (sets PORT, GWD_PID), registered for the EXIT trap;
# 0 once it answers HTTP, 1 if not.  gwd's stderr goes to $T_TMP/gwd.err.
start_gwd() {
	local blob=$1; shift
	PORT=$(free_port)
	"$GWD" --blob "$blob" --listen "127.0.0.1:$PORT" --db "$T_TMP/gwd.db" \
		--threads 2 "$@" 2>>"$T_TMP/gwd.err" &
	GWD_PID=$!
	T_PIDS+=("$GWD_PID")
	wait_http "http://127.0.0.1:$PORT/health" 10
}
