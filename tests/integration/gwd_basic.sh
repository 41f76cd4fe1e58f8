#!/usr/bin/env bash
# gwd's basics against the real binary: the built-in handlers answer (respond
# with substitution, echo, health, metrics), errors are problem+json, every
# response has an X-Request-ID, the access log is written, `--check` accepts
# and refuses, a bad blob on SIGHUP is refused while the old one serves, and
# SIGTERM exits 0.  The edge cases, keep-alive, reload under load and TLS have
# their own scripts.
source "$(dirname "$0")/lib.sh"

if [[ ! -x $GWC || ! -x $GWD ]]; then
	not_ok "gwd_basic: bin/gwc and bin/gwd are built"
	t_exit
fi

"$GWC" compile "$GW_ROOT/routes/gateway.yaml" -o "$T_TMP/gw.gwb" 2>"$T_TMP/gwc.err"
check "gwd_basic: the default routes compile" test -s "$T_TMP/gw.gwb"
printf 'not a blob\n' >"$T_TMP/bad.gwb"

# --check
out=$("$GWD" --check --blob "$T_TMP/gw.gwb" 2>&1); rc=$?
expect_eq "gwd_basic: --check accepts a good blob" 0 "$rc"
check "gwd_basic: --check prints a summary" grep -q "ok: fingerprint [0-9a-f]*, 10 routes" <<<"$out"
"$GWD" --check --blob "$T_TMP/bad.gwb" >/dev/null 2>&1
expect_eq "gwd_basic: --check refuses a bad blob" 1 $?
"$GWD" --check --blob "$T_TMP/missing.gwb" >/dev/null 2>&1
expect_eq "gwd_basic: --check refuses a missing file" 1 $?
"$GWD" --bogus >/dev/null 2>&1
expect_eq "gwd_basic: an unknown flag is a usage error" 2 $?

# serve
cp "$T_TMP/gw.gwb" "$T_TMP/live.gwb"
if ! start_gwd "$T_TMP/live.gwb" --access-log "$T_TMP/access.log" --pid-file "$T_TMP/gwd.pid"; then
	not_ok "gwd_basic: gwd starts: $(tail -c 300 "$T_TMP/gwd.err")"
	t_exit
fi
ok "gwd_basic: gwd starts"
URL=http://127.0.0.1:$PORT
expect_eq "gwd_basic: --pid-file holds the pid" "$GWD_PID" "$(cat "$T_TMP/gwd.pid" 2>/dev/null)"

# respond
body=$(curl -s -m 5 "$URL/api/hello")
expect_eq "gwd_basic: GET /api/hello" '{"message":"hello"}' "$body"
body=$(curl -s -m 5 "$URL/api/hello?name=Ada%20%22L%22%0A")
expect_eq "gwd_basic: ?name= is substituted JSON-escaped" '{"message":"hello, Ada \"L\"\n"}' "$body"
hdrs=$(curl -s -m 5 -D - -o /dev/null "$URL/api/hello")
check "gwd_basic: respond headers of the route" grep -qi '^content-type: application/json' <<<"$hdrs"
check "gwd_basic: a generated X-Request-ID" grep -qiE '^x-request-id: [0-9a-f]{16}-[0-9a-f]+-[0-9a-f]+' <<<"$hdrs"
check "gwd_basic: rate-limit headers on a rate-limited route" grep -qi '^ratelimit-policy: ' <<<"$hdrs"
hdrs=$(curl -s -m 5 -D - -o /dev/null -H 'X-Request-ID: client-id_1.2' "$URL/api/hello")
check "gwd_basic: a well-formed client X-Request-ID is kept" grep -qi '^x-request-id: client-id_1.2' <<<"$hdrs"
hdrs=$(curl -s -m 5 -D - -o /dev/null -H 'X-Request-ID: bad id!' "$URL/api/hello")
check "gwd_basic: a malformed one is replaced" grep -qiE '^x-request-id: [0-9a-f]{16}-' <<<"$hdrs"
out=$(curl -s -m 5 -I "$URL/api/hello")
check "gwd_basic: HEAD is served by the GET route" grep -q '^HTTP/1.1 200' <<<"$out"
check "gwd_basic: HEAD has the GET's Content-Length" grep -qi '^content-length: 19' <<<"$out"

# echo
printf 'bytes\x00\x01\xff of any kind' >"$T_TMP/echo.in"
curl -s -m 5 -D "$T_TMP/echo.hdr" -o "$T_TMP/echo.out" -H 'Content-Type: application/x-odd; q=1' \
	--data-binary "@$T_TMP/echo.in" "$URL/api/echo"
check "gwd_basic: echo returns the body byte for byte" cmp -s "$T_TMP/echo.in" "$T_TMP/echo.out"
check "gwd_basic: echo returns the same Content-Type" grep -qi '^content-type: application/x-odd; q=1' "$T_TMP/echo.hdr"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' \
	--data-binary "@/dev/null" "$URL/api/echo")
expect_eq "gwd_basic: echo of an empty body" 200 "$code"

# errors
out=$(curl -s -m 5 -D - "$URL/nowhere")
check "gwd_basic: 404 is problem+json" grep -q '"type":"urn:gw:problem:not-found"' <<<"$out"
check "gwd_basic: 404 content type" grep -qi '^content-type: application/problem+json' <<<"$out"
out=$(curl -s -m 5 -D - -X DELETE "$URL/api/hello")
check "gwd_basic: 405 with Allow" grep -qi '^allow: GET, HEAD' <<<"$out"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --path-as-is "$URL/api%2Fhello")
expect_eq "gwd_basic: encoded slash refused" 400 "$code"

# health and metrics
out=$(curl -s -m 5 "$URL/health")
check "gwd_basic: /health is JSON with status, fingerprint, uptime, checks" python3 -c '
import json, sys
h = json.loads(sys.argv[1])
assert h["status"] in ("ok", "degraded") and len(h["fingerprint"]) == 64
assert isinstance(h["uptime_s"], int) and isinstance(h["blob_age_s"], int)
assert "db" in h["checks"] and "upstreams" in h["checks"]' "$out"
out=$(curl -s -m 5 "$URL/metrics")
for fam in gateway_requests_total gateway_request_duration_seconds_bucket gateway_active_connections \
	gateway_reloads_total gateway_blob_info process_resident_memory_bytes process_open_fds \
	process_cpu_seconds_total; do
	check "gwd_basic: /metrics has $fam" grep -q "^$fam" <<<"$out"
done
check "gwd_basic: /metrics counts the hello requests" \
	grep -qE '^gateway_requests_total\{route="/api/hello",method="GET",code="200"\} [0-9]+' <<<"$out"
# the status page of the default routes: open to loopback, as `make run` serves it
ctype=$(curl -s -m 5 -o /dev/null -w '%{http_code} %{content_type}' "$URL/status")
expect_eq "gwd_basic: /status serves its page to loopback" "200 text/html; charset=utf-8" "$ctype"

# access log: buffered, written within about a second
sleep 1.5
check "gwd_basic: access log lines are JSON with the fields" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) >= 10, len(lines)
need = {"time", "id", "client", "method", "path", "route", "status", "bytes", "duration_us"}
assert all(need <= set(l) for l in lines)
assert any(l["path"] == "/api/hello?name=Ada%20%22L%22%0A" and l["status"] == 200 for l in lines)' "$T_TMP/access.log"

# SIGHUP with a bad blob: refused, still serving, counted
cp "$T_TMP/bad.gwb" "$T_TMP/live.tmp" && mv "$T_TMP/live.tmp" "$T_TMP/live.gwb"
kill -HUP "$GWD_PID"
sleep 0.5
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/api/hello")
expect_eq "gwd_basic: a bad blob on SIGHUP: the old one serves on" 200 "$code"
check "gwd_basic: the refused reload is counted" \
	grep -q '^gateway_reloads_total{result="error"} 1' <(curl -s -m 5 "$URL/metrics")
check "gwd_basic: the refused reload is logged" grep -q "reload refused" "$T_TMP/gwd.err"
check "gwd_basic: the status feed names the refused reload's reason" python3 -c '
import json, sys
b = json.loads(sys.argv[1])["blob"]
assert b["reloads"] == {"ok": 0, "refused": 1, "last_refused": b["reloads"]["last_refused"]}
assert "live.gwb" in b["reloads"]["last_refused"]["reason"], b' \
	"$(curl -s -m 5 "$URL/status?format=json")"

# SIGTERM: exit 0, pid file removed
kill -TERM "$GWD_PID"
rc=124
for _ in $(seq 100); do
	if ! kill -0 "$GWD_PID" 2>/dev/null; then wait "$GWD_PID"; rc=$?; break; fi
	sleep 0.1
done
expect_eq "gwd_basic: SIGTERM exits 0" 0 "$rc"
check "gwd_basic: the pid file is removed" test ! -e "$T_TMP/gwd.pid"

t_exit
