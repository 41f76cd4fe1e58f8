#!/usr/bin/env bash
# WebSocket routes against real peers on loopback (python3-websockets,
# tests/integration/ws_peer.py): echo in order, a 16 MB message, text and
# binary, ping/pong, the close handshake from each side, an upstream killed
# mid-session, 1,000 idle WebSockets and gwd's memory for them, the idle
# timeout, the per-upstream cap, a reload and SIGTERM with sessions open;
# every malformed handshake, a route that did not opt in, an upstream 101
# with a wrong accept, and the route's policies refusing handshakes.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
DIR=$GW_ROOT/tests/integration
PEER=$DIR/ws_peer.py
HOLD_N=${GW_WS_HOLD:-1000}

E=$(free_port); K=$(free_port); R=$(free_port); D=$(free_port)
$PY "$PEER" server "$E" & T_PIDS+=($!)
$PY "$PEER" server "$K" & KPID=$!; T_PIDS+=($KPID)
$PY "$PEER" raw "$R" >"$T_TMP/raw.log" & T_PIDS+=($!)
blob() { # IDLE OUT
	sed -e "s/@E@/$E/g" -e "s/@K@/$K/g" -e "s/@R@/$R/g" -e "s/@D@/$D/g" -e "s/@IDLE@/$1/" \
		"$GW_ROOT/tests/corpus/websocket/routes.yaml" >"$T_TMP/routes.yaml"
	"$GWC" compile "$T_TMP/routes.yaml" -o "$2.tmp" && mv "$2.tmp" "$2"
}
blob 60s "$T_TMP/ws.gwb" || { not_ok "websocket: compile"; t_exit; }
"$GWC" inspect "$T_TMP/ws.gwb" >"$T_TMP/inspect"
check "websocket: gwc inspect shows the route's websocket, the cap and the idle timeout" \
	bash -c "grep -qE '^ +websocket +true' '$T_TMP/inspect' && grep -qE '^ +max_websockets +2$' '$T_TMP/inspect' && grep -qE '^ +websocket_idle_timeout +1m$' '$T_TMP/inspect'"
check "websocket: a route without it shows none" \
	bash -c "grep -A5 'GET /plain/' '$T_TMP/inspect' | grep -q 'source' && ! grep -A5 'GET /plain/' '$T_TMP/inspect' | grep -q websocket"
KEY=$("$GWD" keys add ci --db "$T_TMP/gwd.db" 2>/dev/null)
for p in $E $K $R; do
	for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done
start_gwd "$T_TMP/ws.gwb" --access-log "$T_TMP/access.log" || { not_ok "websocket: gwd starts"; t_exit; }
G=http://127.0.0.1:$PORT
W=ws://127.0.0.1:$PORT
peer() { timeout 120 $PY "$PEER" "$@"; }
metric() { curl -s "$G/metrics" | awk -v k="$1" '$1 == k {print $2}'; }

# -- the relay
expect_eq "websocket: 10,000 messages echoed in order" "echoed 10000" "$(peer echo "$W/ws/echo" 10000)"
expect_eq "websocket: a 16 MB binary message echoed whole" "big 16777216 same" \
	"$(peer big "$W/ws/echo" 16777216)"
expect_eq "websocket: text stays text, binary stays binary, ping gets pong" \
	"text str binary bytes pong ok" "$(peer mixed "$W/ws/echo")"
expect_eq "websocket: the client's close handshake comes back from the upstream" \
	"close 4001 client done rcvd 4001" "$(peer close-client "$W/ws/echo")"
expect_eq "websocket: the upstream's close handshake reaches the client" "close 1000 bye" \
	"$(peer close-server "$W/ws/close")"
expect_eq "websocket: frames sent with the handshake's head are relayed after the 101" \
	"early HTTP/1.1 101 Switching Protocols b'early'" "$(peer early "$PORT" /ws/echo)"
direct=$(peer proto "ws://127.0.0.1:$E/proto"); via=$(peer proto "$W/ws/proto")
expect_eq "websocket: the subprotocol the upstream picks reaches the client" "$direct" "$via"
hdrs=$(peer headers "$W/key/headers" "X-API-Key: $KEY" "X-Gw-User: mallory" "Origin: https://a.example")
check "websocket: the upstream sees the handshake's key, version and Origin" \
	$PY -c "import json,sys; h=json.loads(sys.argv[1]); sys.exit(not (h['sec-websocket-version']=='13' and len(h['sec-websocket-key'])==24 and h['origin']=='https://a.example'))" "$hdrs"
check "websocket: X-Forwarded-For/-Proto and X-Request-ID are set" \
	$PY -c "import json,sys; h=json.loads(sys.argv[1]); sys.exit(not (h['x-forwarded-for']=='127.0.0.1' and h['x-forwarded-proto']=='http' and h['x-request-id']))" "$hdrs"
check "websocket: the auth policy's user header is the gateway's; the API key stays" \
	$PY -c "import json,sys; h=json.loads(sys.argv[1]); sys.exit(not (h['x-gw-user']=='ci' and 'x-api-key' not in h))" "$hdrs"

# -- the upstream killed mid-session: the client sees the TCP close
peer until-closed "$W/doomed/echo" >"$T_TMP/doomed" &
cpid=$!
for _ in $(seq 100); do grep -q open "$T_TMP/doomed" && break; sleep 0.1; done
kill -KILL "$KPID"; wait "$KPID" 2>/dev/null
wait "$cpid"
check "websocket: an upstream killed mid-session: the client sees the close (1006)" \
	grep -qE '^closed [0-9.]+ 1006$' "$T_TMP/doomed"

# -- bad input: a clear 4xx/502, nothing relayed (the raw peer logs any connection)
hs() { # PATH [CURL ARGS...]: the status of a handshake
	local p=$1; shift
	curl -s -o "$T_TMP/body" -D "$T_TMP/head" -m 10 -w '%{http_code}' "$G$p" "$@"
}
K16=dGhlIHNhbXBsZSBub25jZQ==
UP=(-H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13")
opened=$(metric gateway_websockets_opened_total)
expect_eq "websocket: missing Sec-WebSocket-Key: 400" 400 "$(hs /raw/x "${UP[@]}")"
check "websocket: (a problem naming the key)" grep -q 'Sec-WebSocket-Key' "$T_TMP/body"
expect_eq "websocket: malformed Sec-WebSocket-Key: 400" 400 \
	"$(hs /raw/x "${UP[@]}" -H "Sec-WebSocket-Key: not-a-key")"
expect_eq "websocket: a key of 18 bytes: 400" 400 \
	"$(hs /raw/x "${UP[@]}" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQAA")"
expect_eq "websocket: two keys: 400" 400 \
	"$(hs /raw/x "${UP[@]}" -H "Sec-WebSocket-Key: $K16" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: version 12: 426" 426 "$(hs /raw/x -H "Connection: Upgrade" \
	-H "Upgrade: websocket" -H "Sec-WebSocket-Version: 12" -H "Sec-WebSocket-Key: $K16")"
check "websocket: (426 names the version it speaks)" grep -qi '^Sec-WebSocket-Version: 13' "$T_TMP/head"
expect_eq "websocket: Upgrade: h2c on a WebSocket route: 400" 400 \
	"$(hs /raw/x -H "Connection: Upgrade" -H "Upgrade: h2c" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: Upgrade: websocket, h2c: 400" 400 "$(hs /raw/x -H "Connection: Upgrade" \
	-H "Upgrade: websocket, h2c" -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: Connection without upgrade: 400" 400 "$(hs /raw/x -H "Connection: keep-alive" \
	-H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: an upgrade request with a body: 400" 400 \
	"$(hs /raw/x "${UP[@]}" -H "Sec-WebSocket-Key: $K16" --data-binary hello -X GET)"
expect_eq "websocket: an upgrade over HTTP/1.0: 400" 400 \
	"$(hs /raw/x -0 "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: on a proxy route that did not opt in: 400" 400 \
	"$(hs /plain/x "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
check "websocket: (websocket-not-accepted)" grep -q 'urn:gw:problem:websocket-not-accepted' "$T_TMP/body"
expect_eq "websocket: on a respond route: 400" 400 "$(hs /hello "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: Upgrade: h2c elsewhere is ignored (served as HTTP/1.1)" 200 \
	"$(hs /hello -H "Connection: Upgrade" -H "Upgrade: h2c")"
# (the echo peer answers a GET that is no handshake 426 itself)
expect_eq "websocket: a plain GET on a WebSocket route is proxied as usual" 426 "$(hs /ws/x)"
check "websocket: (the upstream's answer, not gwd's)" bash -c "! grep -q 'urn:gw:problem' '$T_TMP/body'"
expect_eq "websocket: POST to a WebSocket route: 405" 405 "$(hs /ws/x -X POST "${UP[@]}")"
check "websocket: none of these reached the upstream" bash -c "! grep -q '^conn /x' '$T_TMP/raw.log'"
expect_eq "websocket: an upstream 101 with a wrong accept: 502" 502 \
	"$(hs /raw/badaccept "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
check "websocket: (the problem says why)" grep -q 'Sec-WebSocket-Accept does not match' "$T_TMP/body"
expect_eq "websocket: an upstream 101 without an accept: 502" 502 \
	"$(hs /raw/noaccept "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
printf 'GET /raw/badaccept HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n\x81\x85\x01\x02\x03\x04early' \
	"$K16" >"$T_TMP/early.req"
expect_eq "websocket: a frame behind a handshake the upstream botches: 502" \
	"HTTP/1.1 502 Bad Gateway" "$(peer send "$PORT" "$T_TMP/early.req")"
expect_eq "websocket: an upstream's refusal is relayed as it came" 403 \
	"$(hs /raw/deny "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
check "websocket: (with its body and fields)" bash -c "grep -qx 'not for you' '$T_TMP/body' && grep -qi '^x-peer: raw' '$T_TMP/head'"
expect_eq "websocket: a chunked refusal is relayed too" 403 \
	"$(hs /raw/denychunked "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
check "websocket: (its chunks decoded, no Transfer-Encoding passed on)" \
	bash -c "grep -qx 'not for you' '$T_TMP/body' && grep -qi '^x-peer: raw' '$T_TMP/head' && ! grep -qi '^transfer-encoding' '$T_TMP/head'"
expect_eq "websocket: a refusal with broken chunking: 502" 502 \
	"$(hs /raw/badchunked "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
check "websocket: (the problem says why)" grep -q 'malformed chunked answer' "$T_TMP/body"
expect_eq "websocket: an upstream that refuses the connection: 502" 502 \
	"$(hs /dead/x "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
sleep 0.5
check "websocket: nothing the client sent after a failed handshake reached the upstream" \
	bash -c "! grep -E '^after /(badaccept|noaccept|deny|denychunked|badchunked) [1-9]' '$T_TMP/raw.log'"
expect_eq "websocket: no WebSocket opened by any of these" "$opened" \
	"$(metric gateway_websockets_opened_total)"

# -- the route's policies decide on the handshake
expect_eq "websocket: api_key policy without a key: 401" 401 \
	"$(hs /key/echo "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: ip policy: 403" 403 "$(hs /ip/echo "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: rate limit: the first handshake passes" "echoed 1" "$(peer echo "$W/rl/echo" 1)"
expect_eq "websocket: rate limit: the second gets 429" 429 \
	"$(hs /rl/echo "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
expect_eq "websocket: CORS: an Origin the policy does not list: 403" 403 \
	"$(hs /cors/echo "${UP[@]}" -H "Sec-WebSocket-Key: $K16" -H "Origin: https://evil.example")"
check "websocket: (cors-refused)" grep -q 'urn:gw:problem:cors-refused' "$T_TMP/body"
hdrs=$(peer headers "$W/cors/headers" "Origin: https://app.example")
check "websocket: CORS: the listed Origin opens the WebSocket" grep -q '"origin": "https://app.example"' <<<"$hdrs"

# -- the cap: max_websockets of the upstream
rm -f "$T_TMP/go"
peer hold "$W/cap/echo" 2 "$T_TMP/go" >"$T_TMP/cap" &
hpid=$!
for _ in $(seq 100); do grep -q '^open' "$T_TMP/cap" && break; sleep 0.1; done
expect_eq "websocket: past max_websockets: 503" 503 "$(hs /cap/echo "${UP[@]}" -H "Sec-WebSocket-Key: $K16")"
check "websocket: (websocket-limit)" grep -q 'urn:gw:problem:websocket-limit' "$T_TMP/body"
touch "$T_TMP/go"; wait "$hpid"
expect_eq "websocket: the two within the cap kept working" "open 2 echoed 2" "$(tr '\n' ' ' <"$T_TMP/cap" | sed 's/ $//')"
sleep 0.5
expect_eq "websocket: once they closed, the cap has room again" "echoed 1" "$(peer echo "$W/cap/echo" 1)"

# -- 1,000 idle WebSockets, gwd's memory for them
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$GWD_PID/status"; }
rss0=$(rss_kb); rm -f "$T_TMP/go"
peer hold "$W/many/echo" "$HOLD_N" "$T_TMP/go" >"$T_TMP/many" &
hpid=$!
for _ in $(seq 1200); do grep -q '^open' "$T_TMP/many" && break; sleep 0.1; done
rss1=$(rss_kb)
expect_eq "websocket: $HOLD_N WebSockets open at once" "$HOLD_N" "$(metric gateway_websockets_open)"
echo "# gwd RSS: $rss0 kB before, $rss1 kB with $HOLD_N WebSockets open: $(( (rss1 - rss0) * 1024 / HOLD_N )) bytes each"

# -- reload with them open: they stay on their generation and keep working;
#    the new generation's idle timeout (2 s) applies to new WebSockets only
cp "$T_TMP/ws.gwb" "$T_TMP/ws-60s.gwb"
blob 2s "$T_TMP/ws.gwb" || not_ok "websocket: compile the reloaded blob"
expect_eq "websocket: gwc diff names the changed idle timeout" "    websocket_idle_timeout: 1m -> 2s" \
	"$("$GWC" diff "$T_TMP/ws-60s.gwb" "$T_TMP/ws.gwb" | grep websocket_idle_timeout)"
kill -HUP "$GWD_PID"
for _ in $(seq 100); do grep -q "reload" "$T_TMP/gwd.err" && break; sleep 0.1; done
sleep 3
touch "$T_TMP/go"; wait "$hpid"
expect_eq "websocket: after a reload and 3 s idle, every one still echoes" "echoed $HOLD_N" \
	"$(grep '^echoed' "$T_TMP/many")"
out=$(peer until-closed "$W/ws/echo" | tail -1)
check "websocket: the idle timeout (2 s) closes a WebSocket with no traffic ($out)" \
	$PY -c "import sys; w=sys.argv[1].split(); sys.exit(not (w[0]=='closed' and 1.5 <= float(w[1]) <= 6 and w[2]=='1006'))" "$out"
check "websocket: (counted as idle)" test "$(curl -s "$G/metrics" | awk '$1 == "gateway_websocket_closes_total{reason=\"idle\"}" {print $2}')" -ge 1
blob 60s "$T_TMP/ws.gwb"; kill -HUP "$GWD_PID"; sleep 1

# -- metrics and the access log
check "websocket: bytes relayed each way are counted" test "$(metric 'gateway_websocket_bytes_total{from="client"}')" -gt 16777216
check "websocket: one access log line per WebSocket, at its end, with duration and bytes" \
	grep -qE '"path":"/ws/echo","route":"/ws/\*","status":101,"bytes":[1-9][0-9]*,"duration_us":[0-9]+' "$T_TMP/access.log"

# -- a client over TLS: gwd serving HTTPS hands the upgraded TLS stream over too
if command -v certtool >/dev/null; then
	printf 'cn = "127.0.0.1"\nip_address = "127.0.0.1"\nexpiration_days = 2\nca\nsigning_key\ntls_www_server\n' \
		>"$T_TMP/cert.cfg"
	certtool --generate-privkey --key-type=ecdsa --outfile "$T_TMP/key.pem" >/dev/null 2>&1
	certtool --generate-self-signed --load-privkey "$T_TMP/key.pem" --template "$T_TMP/cert.cfg" \
		--outfile "$T_TMP/cert.pem" >/dev/null 2>&1
	TPORT=$(free_port)
	"$GWD" --blob "$T_TMP/ws.gwb" --listen "127.0.0.1:$TPORT" --db "$T_TMP/tls.db" --threads 2 \
		--tls-cert "$T_TMP/cert.pem" --tls-key "$T_TMP/key.pem" 2>>"$T_TMP/gwd.err" &
	T_PIDS+=($!)
	for _ in $(seq 100); do curl -sk -o /dev/null "https://127.0.0.1:$TPORT/health" && break; sleep 0.1; done
	expect_eq "websocket: over TLS (wss://): 1,000 messages echoed in order" "echoed 1000" \
		"$(WS_CAFILE=$T_TMP/cert.pem peer echo "wss://127.0.0.1:$TPORT/ws/echo" 1000)"
	expect_eq "websocket: over TLS: a 1 MB message echoed whole" "big 1048576 same" \
		"$(WS_CAFILE=$T_TMP/cert.pem peer big "wss://127.0.0.1:$TPORT/ws/echo" 1048576)"
	expect_eq "websocket: over TLS: the client's close handshake comes back" \
		"close 4001 client done rcvd 4001" \
		"$(WS_CAFILE=$T_TMP/cert.pem peer close-client "wss://127.0.0.1:$TPORT/ws/echo")"

	# an HTTPS upstream: the handshake and the relay over its tls settings,
	# its certificate verified against ca_file (and refused without it)
	S=$(free_port); UPORT=$(free_port)
	WS_SERVER_CERT=$T_TMP/cert.pem WS_SERVER_KEY=$T_TMP/key.pem $PY "$PEER" server "$S" &
	T_PIDS+=($!)
	cat >"$T_TMP/tlsup.yaml" <<-EOF
	version: 1
	upstreams:
	  secure:
	    targets: [{address: 127.0.0.1:$S}]
	    tls: {ca_file: $T_TMP/cert.pem}
	  untrusted:
	    targets: [{address: 127.0.0.1:$S}]
	    tls: {}
	routes:
	  - {path: /health, methods: [GET], health: {}}
	  - {path: /ws/*, methods: [GET],
	     proxy: {upstream: secure, rewrite: "/\${path.*}", websocket: true}}
	  - {path: /bad/*, methods: [GET],
	     proxy: {upstream: untrusted, rewrite: "/\${path.*}", websocket: true}}
	EOF
	"$GWC" compile "$T_TMP/tlsup.yaml" -o "$T_TMP/tlsup.gwb" >/dev/null 2>&1
	"$GWD" --blob "$T_TMP/tlsup.gwb" --listen "127.0.0.1:$UPORT" --db "$T_TMP/tlsup.db" \
		--threads 2 2>"$T_TMP/tlsup.err" &
	T_PIDS+=($!)
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$UPORT/health" &&
			(exec 3<>/dev/tcp/127.0.0.1/$S) 2>/dev/null && break
		sleep 0.1
	done
	expect_eq "websocket: to an HTTPS upstream (ca_file): 1,000 messages echoed in order" \
		"echoed 1000" "$(peer echo "ws://127.0.0.1:$UPORT/ws/echo" 1000)"
	expect_eq "websocket: to an HTTPS upstream: a 1 MB message echoed whole" \
		"big 1048576 same" "$(peer big "ws://127.0.0.1:$UPORT/ws/echo" 1048576)"
	code=$(curl -s -o "$T_TMP/tlsbad" -w '%{http_code}' --max-time 10 \
		-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
		-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "http://127.0.0.1:$UPORT/bad/echo")
	check "websocket: an HTTPS upstream whose certificate is not trusted: 502, detail says so" \
		bash -c "[ '$code' = 502 ] && grep -q 'certificate not trusted' '$T_TMP/tlsbad'"
else
	not_ok "websocket: certtool (gnutls-bin) is there for the TLS client checks"
fi

# -- SIGTERM with WebSockets open: closed at the drain deadline (10 s)
peer hold-until-closed "$W/ws/echo" 3 >"$T_TMP/term" &
hpid=$!
for _ in $(seq 100); do grep -q '^open' "$T_TMP/term" && break; sleep 0.1; done
kill -TERM "$GWD_PID"
wait "$hpid"
check "websocket: SIGTERM: all 3 closed at the drain deadline ($(tail -1 "$T_TMP/term"))" \
	$PY -c "import sys; w=open(sys.argv[1]).read().split(); sys.exit(not (w[2]=='closed' and w[3]=='3' and 8 <= float(w[4]) <= 20))" "$T_TMP/term"
for _ in $(seq 100); do kill -0 "$GWD_PID" 2>/dev/null || break; sleep 0.1; done
check "websocket: gwd exited after closing them" bash -c "! kill -0 $GWD_PID 2>/dev/null"
t_exit
