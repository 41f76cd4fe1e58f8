#!/usr/bin/env bash
# Proxy routes against real upstream processes on loopback
# (tests/integration/upstream.py): balancing spreads requests, hashing sticks,
# a killed target is ejected and idempotent traffic moves without client
# errors, a slow target gives 504 and a dead one 502 then 503 + Retry-After
# within the connect timeout, hop-by-hop and spoofed headers do not pass in
# either direction, paths are rewritten and bodies pass, a client that goes
# away cancels its exchange, and /metrics and /health show the upstreams.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
UPSTREAM=$GW_ROOT/tests/integration/upstream.py

A=$(free_port); B=$(free_port); DEAD=$(free_port)
$PY "$UPSTREAM" "$A" alpha --lifetime 300 & T_PIDS+=($!); PID_A=$!
$PY "$UPSTREAM" "$B" beta --lifetime 300 & T_PIDS+=($!)
sed -e "s/@A@/$A/g" -e "s/@B@/$B/g" -e "s/@DEAD@/$DEAD/g" \
	"$GW_ROOT/tests/corpus/proxy/routes.yaml" >"$T_TMP/routes.yaml"
"$GWC" compile "$T_TMP/routes.yaml" -o "$T_TMP/proxy.gwb" || { not_ok "proxy: compile"; t_exit; }
wait_http "http://127.0.0.1:$A/health" 10 && wait_http "http://127.0.0.1:$B/health" 10 ||
	{ not_ok "proxy: upstreams start"; t_exit; }
if ! start_gwd "$T_TMP/proxy.gwb" --access-log "$T_TMP/access.log"; then
	not_ok "proxy: gwd starts"; t_exit
fi
G=http://127.0.0.1:$PORT

# -- balancing: round robin over two targets
declare -A seen=()
for _ in $(seq 20); do
	n=$(curl -s -m 5 "$G/p/whoami" | $PY -c 'import json,sys; print(json.load(sys.stdin)["name"])' 2>/dev/null)
	seen[$n]=$((${seen[$n]:-0} + 1))
done
expect_eq "proxy: round robin spreads 20 requests 10/10" "10 10" "${seen[alpha]:-0} ${seen[beta]:-0}"

# -- hash on a header: one tenant, one target
t1=$(for _ in $(seq 10); do curl -s -H 'X-Tenant: acme' "$G/sticky/whoami"; echo; done | sort -u | wc -l)
expect_eq "proxy: hash balancing keeps a key on one target" 1 "$t1"

# -- rewrite with a parameter; the query passes; encoded values stay encoded
body=$(curl -s "$G/users/a%20b?q=1&r=x%2Fy")
path=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["path"])' "$body")
expect_eq "proxy: rewrite /users/{id} -> /reflect/users/{id}, query passes" "/reflect/users/a%20b?q=1&r=x%2Fy" "$path"

# -- headers towards the upstream: hop-by-hop, named by Connection, spoofed
body=$(curl -s -H 'Connection: keep-alive, X-Secret' -H 'X-Secret: 1' -H 'Keep-Alive: 300' \
	-H 'TE: trailers' -H 'Upgrade: websocket' -H 'Proxy-Authorization: Basic eA==' \
	-H 'X-Forwarded-For: 6.6.6.6' -H 'X-Forwarded-Host: evil' -H 'X-Request-ID: client-id-1' \
	-H 'X-Custom: kept' -D "$T_TMP/h1" "$G/p/reflect/h")
hdr() { $PY -c '
import json,sys
d=json.loads(sys.argv[1]); want=sys.argv[2].lower()
print("|".join(v for k,v in d["headers"] if k.lower()==want))' "$body" "$1"; }
for h in X-Secret Keep-Alive TE Upgrade Proxy-Authorization Connection; do
	expect_eq "proxy: request header $h not forwarded" "" "$(hdr "$h")"
done
expect_eq "proxy: X-Forwarded-For is the peer, not the client's claim" "127.0.0.1" "$(hdr X-Forwarded-For)"
expect_eq "proxy: X-Forwarded-Host is the Host sent" "127.0.0.1:$PORT" "$(hdr X-Forwarded-Host)"
expect_eq "proxy: X-Forwarded-Proto" "http" "$(hdr X-Forwarded-Proto)"
expect_eq "proxy: other headers pass" "kept" "$(hdr X-Custom)"
rid=$(awk -F': ' 'tolower($1)=="x-request-id" {gsub("\r",""); print $2}' "$T_TMP/h1")
expect_eq "proxy: X-Request-ID forwarded is the one answered" "$rid" "$(hdr X-Request-ID)"
expect_eq "proxy: a well-formed client X-Request-ID is kept" "client-id-1" "$rid"
# -- headers from the upstream: Keep-Alive and what its Connection names dropped
check "proxy: upstream's X-Hop (named by its Connection) not passed back" \
	bash -c "! grep -qi '^x-hop:' '$T_TMP/h1'"
check "proxy: upstream's Keep-Alive not passed back" bash -c "! grep -qi '^keep-alive:' '$T_TMP/h1'"
check "proxy: upstream's own headers pass back" grep -qi '^x-upstream-name:' "$T_TMP/h1"

# -- the user header: a client copy never passes; the session's user does
printf 'pw-proxy-1\n' | "$GWD" users add carol --db "$T_TMP/gwd.db" >/dev/null
tok=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"username":"carol","password":"pw-proxy-1"}' "$G/auth/login" |
	$PY -c 'import json,sys; print(json.load(sys.stdin)["token"])')
body=$(curl -s -H "Authorization: Bearer $tok" -H 'X-Gw-User: mallory' "$G/me")
expect_eq "proxy: user header is the session's user, the client's copy dropped" "carol" "$(hdr X-Gw-User)"
expect_eq "proxy: the bearer token does not reach the upstream" "" "$(hdr Authorization)"
body=$(curl -s -H "Cookie: theme=dark;gw_session=$tok; lang=en" "$G/me")
expect_eq "proxy: the session cookie does not reach the upstream, others do" "theme=dark; lang=en" "$(hdr Cookie)"
expect_eq "proxy: the cookie-authenticated user reaches the upstream" "carol" "$(hdr X-Gw-User)"
body=$(curl -s -H 'Cookie: theme=dark' -H 'Authorization: Basic eDp5' "$G/p/reflect/public")
expect_eq "proxy: without a session policy, Cookie passes as sent" "theme=dark" "$(hdr Cookie)"

# -- bodies: a 100 KB POST passes byte-counted; a large response passes
head -c 102400 /dev/zero | tr '\0' 'a' >"$T_TMP/100k"
body=$(curl -s -X POST -H 'Content-Type: text/plain' --data-binary @"$T_TMP/100k" "$G/p/reflect/post")
expect_eq "proxy: 100 KB request body reaches the upstream" 102400 \
	"$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["body_len"])' "$body")"
expect_eq "proxy: 500 KB response body comes back whole" 512000 \
	"$(curl -s "$G/p/big?bytes=512000" | wc -c)"
# responses stream: the route's body limit is for requests only
expect_eq "proxy: a response over the route's body limit streams whole" "200 2000000" \
	"$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$G/p/big?bytes=2000000")"

# -- a slow target: 504 at the response timeout (800 ms), not later
start=$(date +%s%N)
code=$(curl -s -o "$T_TMP/slow" -w '%{http_code}' -m 5 "$G/p/slow?ms=3000")
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "proxy: slow target gives 504" 504 "$code"
check "proxy: 504 comes within 2 s (took ${ms} ms)" test "$ms" -lt 2000
check "proxy: 504 is problem+json" grep -q '"type":"urn:gw:problem:upstream-timeout"' "$T_TMP/slow"

# -- a client that goes away: the exchange is cancelled, gwd serves on
curl -s -o /dev/null -m 0.3 "$G/p/slow?ms=2000"
expect_eq "proxy: gwd serves after a client hung up mid-exchange" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$G/p/whoami")"

# -- a dead upstream: 502 within the connect timeout, then ejected: 503 + Retry-After
start=$(date +%s%N)
c1=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$G/dead")
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "proxy: refused connection gives 502" 502 "$c1"
check "proxy: 502 within the connect timeout (took ${ms} ms)" test "$ms" -lt 600
curl -s -o /dev/null "$G/dead"
code=$(curl -s -D "$T_TMP/h3" -o /dev/null -w '%{http_code}' "$G/dead")
expect_eq "proxy: ejected upstream gives 503" 503 "$code"
check "proxy: 503 carries Retry-After >= 1" grep -Eqi '^retry-after: [1-9]' "$T_TMP/h3"
expect_eq "proxy: /health degraded when an upstream has no target" 503 \
	"$(curl -s -o "$T_TMP/health" -w '%{http_code}' "$G/health")"
check "proxy: /health names the upstream" grep -q 'dead: 0 of 1' "$T_TMP/health"

# -- a killed target: GETs move to the other one without client errors
kill "$PID_A"; wait "$PID_A" 2>/dev/null
errors=0 names=""
for _ in $(seq 20); do
	out=$(curl -s -w ' %{http_code}' -m 5 "$G/p/whoami")
	[[ ${out##* } == 200 ]] || errors=$((errors + 1))
	names+=$($PY -c 'import json,sys; print(json.loads(sys.argv[1].rsplit(" ",1)[0])["name"])' "$out" 2>/dev/null)" "
done
expect_eq "proxy: killed target, 20 GETs, no client error" 0 "$errors"
check "proxy: all 20 served by the survivor" bash -c "[[ '$(tr ' ' '\n' <<<"$names" | sort -u | xargs)' == beta ]]"

# -- metrics
curl -s "$G/metrics" >"$T_TMP/metrics"
check "proxy: metrics count upstream answers" grep -q '^gateway_upstream_requests_total{upstream="pair",code="200"} ' "$T_TMP/metrics"
check "proxy: metrics count 504s" grep -q '^gateway_upstream_requests_total{upstream="pair",code="504"} ' "$T_TMP/metrics"
check "proxy: metrics have the duration histogram" grep -q '^gateway_upstream_duration_seconds_count{upstream="pair"} ' "$T_TMP/metrics"
check "proxy: metrics show the killed target down" grep -q "^gateway_upstream_target_up{upstream=\"pair\",target=\"127.0.0.1:$A\"} 0" "$T_TMP/metrics"

# -- a reload keeps what gwd knows of its targets: the dead upstream stays
# ejected (503 at once, not a 502 after a connect attempt), the killed target
# stays down, and the counters go on
n200=$(awk -F' ' '/^gateway_upstream_requests_total\{upstream="pair",code="200"\}/ {print $2}' "$T_TMP/metrics")
kill -HUP "$GWD_PID"
for _ in $(seq 50); do
	curl -s "$G/metrics" | grep -q '^gateway_reloads_total{result="ok"} 1' && break
	sleep 0.1
done
curl -s "$G/metrics" >"$T_TMP/metrics2"
check "proxy: reloaded" grep -q '^gateway_reloads_total{result="ok"} 1' "$T_TMP/metrics2"
check "proxy: after a reload the killed target is still down" \
	grep -q "^gateway_upstream_target_up{upstream=\"pair\",target=\"127.0.0.1:$A\"} 0" "$T_TMP/metrics2"
n200b=$(awk -F' ' '/^gateway_upstream_requests_total\{upstream="pair",code="200"\}/ {print $2}' "$T_TMP/metrics2")
check "proxy: after a reload the counters go on ($n200 -> $n200b)" test "${n200b:-0}" -ge "${n200:-1}"
expect_eq "proxy: after a reload the dead upstream is still ejected (503)" 503 \
	"$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$G/dead")"
check "proxy: gwd still running" kill -0 "$GWD_PID"
t_exit
