#!/usr/bin/env bash
# SIGTERM/SIGINT drain (docs/gwd.md, "Signals"): stop accepting,
# finish in-flight work, flush the access log, exit 0.
#
# A 600 KiB POST /api/echo is trickled over about five seconds; SIGTERM
# arrives once gwd counts it in flight (/metrics).  The request must still
# complete with the whole body echoed, a new connection meanwhile (once the
# listening socket is closed) must get no answer, gwd must exit 0 within a
# bound, and the access log (buffered by gwd, so only a flush at exit writes
# it) must hold every request, the drained one included, as JSON lines.  Then
# an idle gwd must exit 0 promptly on SIGINT.  Every wait is for a condition,
# polled with a generous bound, so that a loaded machine is only slower.
source "$(dirname "$0")/lib.sh"

CORPUS=$GW_ROOT/tests/corpus/http
RAWREQ=$GW_ROOT/tests/integration/rawreq.py

# wait_exit PID SECONDS: until PID (a child of this shell: not called in a
# subshell) exits; sets EXIT_STATUS to its exit status, or to "running" when
# it did not exit in time.
wait_exit() {
	local i
	EXIT_STATUS=running
	for i in $(seq $(($2 * 10))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			EXIT_STATUS=$?
			return
		fi
		sleep 0.1
	done
}

# inflight: gwd's count of requests begun and not completed, this /metrics
# request included (so 1 when idle); empty when it does not answer.
inflight() {
	curl -s -m 5 "http://127.0.0.1:$PORT/metrics" | sed -n 's/^gateway_inflight_requests //p'
}

# until SECONDS CMD...: poll CMD every 0.1 s until it succeeds (0) or SECONDS
# pass (1).
until_ok() {
	local n=$1; shift
	for _ in $(seq $((n * 10))); do "$@" && return 0; sleep 0.1; done
	return 1
}
slow_in_flight() { local n; n=$(inflight); [[ ${n:-0} -ge 2 ]]; }
listener_closed() { [[ -z $(ss -Hltn "sport = :$PORT") ]]; }

if [[ ! -x $GWC || ! -x $GWD ]]; then
	not_ok "shutdown: bin/gwc and bin/gwd are built"
	t_exit
fi
if ! "$GWC" compile "$CORPUS/routes.yaml" -o "$T_TMP/sd.gwb" 2>"$T_TMP/gwc.err"; then
	not_ok "shutdown: gwc compiles the routes: $(head -c 300 "$T_TMP/gwc.err")"
	t_exit
fi
LOG=$T_TMP/access.log
if ! start_gwd "$T_TMP/sd.gwb" --access-log "$LOG" --pid-file "$T_TMP/gwd.pid"; then
	not_ok "shutdown: gwd starts: $(tail -c 300 "$T_TMP/gwd.err")"
	t_exit
fi
expect_eq "shutdown: --pid-file holds gwd's pid" "$GWD_PID" "$(tr -d '[:space:]' <"$T_TMP/gwd.pid" 2>/dev/null)"

# A few requests before, so the log has more than the drained one to flush.
for i in 1 2 3; do curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT/api/hello?name=before$i"; done

# The slow request: head at once, 600 KiB of body in 32 KiB pieces every 0.25 s.
python3 - "$T_TMP" <<'PY'
import os, sys
d = sys.argv[1]
body = bytes((i * 7 + 13) % 251 for i in range(600 * 1024))
open(os.path.join(d, "body.bin"), "wb").write(body)
open(os.path.join(d, "slow.req"), "wb").write(
    b"POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Length: %d\r\n\r\n" % len(body) + body)
PY
python3 "$RAWREQ" --port "$PORT" --timeout 40 --body-chunk 32768 --body-delay 0.25 \
	--expect 200 --body-equals "$T_TMP/body.bin" "$T_TMP/slow.req" >"$T_TMP/slow.out" 2>&1 </dev/null &
SLOW_PID=$!
T_PIDS+=("$SLOW_PID")
check "shutdown: the slow request is in flight before SIGTERM" until_ok 20 slow_in_flight
t_term=$(date +%s.%N)
kill -TERM "$GWD_PID"

# Draining: once gwd stopped listening, a new connection gets no HTTP answer
# (refused or never served), while the slow request is still being served.
check "shutdown: gwd stops listening on SIGTERM" until_ok 20 listener_closed
if kill -0 "$SLOW_PID" 2>/dev/null; then
	code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$PORT/api/hello?name=late")
	expect_eq "shutdown: no new request served while draining" 000 "$code"
else
	not_ok "shutdown: the slow request was still in flight after SIGTERM ($(cat "$T_TMP/slow.out"))"
fi

wait "$SLOW_PID"
rc=$?
check "shutdown: the in-flight request completed, body echoed whole ($(tr '\n' ' ' <"$T_TMP/slow.out"))" test "$rc" -eq 0
wait_exit "$GWD_PID" 20
expect_eq "shutdown: gwd exits 0 after SIGTERM" 0 "$EXIT_STATUS"
t_done=$(date +%s.%N)
check "shutdown: gwd exited within 15 s of SIGTERM" \
	python3 -c "import sys; sys.exit(0 if $t_done - $t_term < 15 else 1)"

# The access log: JSON lines, the three before and the drained POST.
python3 - "$LOG" >"$T_TMP/log.check" 2>&1 <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
objs = [json.loads(l) for l in lines]          # raises on a line that is not JSON
def has(o, *vals):
    flat = json.dumps(o)
    return all(v in flat for v in vals)
before = sum(1 for o in objs if has(o, "/api/hello", "before"))
drained = [o for o in objs if has(o, "POST", "/api/echo") and (200 in o.values() or "200" in o.values())]
print("lines=%d before=%d drained=%d" % (len(objs), before, len(drained)))
sys.exit(0 if before == 3 and len(drained) == 1 else 1)
PY
rc=$?
check "shutdown: access log flushed, JSON lines, the drained request in it ($(tr '\n' ' ' <"$T_TMP/log.check" | tail -c 200))" \
	test "$rc" -eq 0
check "shutdown: the late request is not logged as served" \
	bash -c "! grep -q 'name=late' '$LOG'"

# SIGINT on an idle gwd: prompt exit 0.
if start_gwd "$T_TMP/sd.gwb" --access-log "$T_TMP/access2.log"; then
	curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT/api/hello"
	kill -INT "$GWD_PID"
	wait_exit "$GWD_PID" 10
	expect_eq "shutdown: idle gwd exits 0 within 10 s of SIGINT" 0 "$EXIT_STATUS"
	check "shutdown: its access log was flushed" grep -q '/api/hello' "$T_TMP/access2.log"
else
	not_ok "shutdown: second gwd starts"
fi

t_exit
