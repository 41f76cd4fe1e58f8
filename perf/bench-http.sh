#!/usr/bin/env bash
# Side-by-side HTTP benchmark on loopback: gwd, nginx and HAProxy each serve
# GET /api/hello with the same fixed JSON body behind a rate limit that admits
# everything; wrk measures each in alternating rounds of one run, so that the
# machine's noise falls on all three alike.  Prints every round, then the
# median requests/s and p99 of each and the ratios gwd/nginx, gwd/haproxy.
#
#   perf/bench-http.sh [hello|proxy|proxy-tls|policies|jwt]
#   env: ROUNDS (5), DURATION (10s), CONNS (64), THREADS (2), GWD_THREADS (nproc)
#        GWD_B (hello and proxy: another gwd binary, e.g. a build of the previous
#        commit, measured as "gwd-b" in the same alternating rounds),
#        GWD_B_BLOB (its blob, when its format differs: compile perf/bench.yaml
#        with that build's gwc)
#
# hello: the direct response.  proxy: GET through the gateway to an upstream
# (a second gwd serving the same hello route), gwd's proxy route against
# nginx's proxy_pass with upstream keepalive (HAProxy not included).
# proxy-tls: the same through an HTTPS upstream (a gwd serving TLS with a
# certificate for bench.test from a CA made here by certtool), gwd's `tls`
# (ca_file, server_name) against nginx's proxy_pass https with
# proxy_ssl_verify, keepalive and session reuse (perf/nginx-proxy-tls.conf).
# policies: gwd alone, the same fixed answer with no policy, behind the
# admit-all rate limit (all five fields, the IETF pair only, none), and behind
# a session (a real login's bearer token).  jwt: the same answer with no
# policy, behind a jwt policy and behind one that sends claims as headers.
# cpu_us/req: the server's own CPU time (user + system, every thread and
# worker) per request of the round, from /proc: less noisy than req/s when
# other work shares the cores.
# Only 127.0.0.1 is ever a target; every server started here is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-hello}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
GWD_THREADS=${GWD_THREADS:-$(nproc)}
DIR=$(mktemp -d /tmp/gwbench.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[[ -f $DIR/nginx.pid ]] && kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true
	[[ -f $DIR/haproxy.pid ]] && kill "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true
	sleep 0.3
	rm -rf "$DIR"
}
trap cleanup EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
WRK_HDR=()
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "${WRK_HDR[@]}" "$1" && return 0; sleep 0.05; done; echo "bench: $1 did not come up" >&2; exit 1; }

for b in wrk nginx haproxy; do command -v "$b" >/dev/null || { echo "bench: $b missing (make bench installs it)" >&2; exit 1; }; done
[[ -x bin/gwd && -x bin/gwc ]] || { echo "bench: build first (make)" >&2; exit 1; }

GW_PORT=$(port) NG_PORT=$(port) HA_PORT=$(port) UP_PORT=$(port)
bin/gwc compile perf/bench.yaml -o "$DIR/bench.gwb"
bin/gwd --blob "$DIR/bench.gwb" --listen "127.0.0.1:$GW_PORT" --threads "$GWD_THREADS" \
	--db "$DIR/gwd.db" --access-log "$DIR/gwd-access.log" >"$DIR/gwd.out" 2>&1 &
PIDS+=($!)
sed -e "s#@PORT@#$NG_PORT#g" -e "s#@DIR@#$DIR#g" -e "s#@UPORT@#$UP_PORT#g" perf/nginx-hello.conf >"$DIR/nginx.conf"
nginx -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" -g "daemon on;"
TARGETS=("gwd http://127.0.0.1:$GW_PORT/api/hello" "nginx http://127.0.0.1:$NG_PORT/api/hello")
if [[ -n ${GWD_B:-} && $MODE == hello ]]; then
	GWB_PORT=$(port)
	"$GWD_B" --blob "${GWD_B_BLOB:-$DIR/bench.gwb}" --listen "127.0.0.1:$GWB_PORT" --threads "$GWD_THREADS" \
		--db "$DIR/gwd-b.db" --access-log "$DIR/gwd-b-access.log" >"$DIR/gwd-b.out" 2>&1 &
	PIDS+=($!)
	GWB_PID=$!
	TARGETS=("${TARGETS[0]}" "gwd-b http://127.0.0.1:$GWB_PORT/api/hello" "${TARGETS[1]}")
fi
if [[ $MODE == policies ]]; then
	wait_up "http://127.0.0.1:$GW_PORT/health"
	printf 'bench-password\n' | bin/gwd users add bench --db "$DIR/gwd.db" >/dev/null
	token=$(curl -s -X POST -H 'Content-Type: application/json' \
		-d '{"username":"bench","password":"bench-password"}' \
		"http://127.0.0.1:$GW_PORT/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
	WRK_HDR=(-H "Authorization: Bearer $token")
	TARGETS=("plain http://127.0.0.1:$GW_PORT/api/plain" "ratelimit http://127.0.0.1:$GW_PORT/api/hello"
		 "rl-ietf http://127.0.0.1:$GW_PORT/api/hello-ietf" "rl-none http://127.0.0.1:$GW_PORT/api/hello-quiet"
		 "session http://127.0.0.1:$GW_PORT/api/session")
elif [[ $MODE == jwt ]]; then
	# the same answer with no policy, behind a jwt policy (RS256, a key of the
	# JWKS file), and behind one that also sends two claims upstream as headers
	# (the cached path decodes the payload again); one token, minted by
	# python3-jwt, verified once and then served from the cache
	/usr/bin/python3 tests/integration/jwt_tool.py genkeys "$DIR/keys"
	/usr/bin/python3 tests/integration/jwt_tool.py jwks "$DIR/keys" rsa1 >"$DIR/bench.jwks"
	cat >"$DIR/jwt.yaml" <<YAML
version: 1
policies:
  jwt: { auth: { type: jwt, issuer: https://idp.test/, audiences: [api], algorithms: [RS256], jwks_file: bench.jwks } }
  jwt-hdrs: { auth: { type: jwt, issuer: https://idp.test/, audiences: [api], algorithms: [RS256], jwks_file: bench.jwks, claim_headers: { sub: X-User-Id, tenant: X-Tenant } } }
routes:
  - { path: /health, methods: [GET], health: {} }
  - { path: /api/plain, methods: [GET], respond: { headers: { Content-Type: application/json }, body: '{"message":"hello"}' } }
  - { path: /api/jwt, methods: [GET], policies: [jwt], respond: { headers: { Content-Type: application/json }, body: '{"message":"hello"}' } }
  - { path: /api/jwt-hdrs, methods: [GET], policies: [jwt-hdrs], respond: { headers: { Content-Type: application/json }, body: '{"message":"hello"}' } }
YAML
	bin/gwc compile "$DIR/jwt.yaml" -o "$DIR/jwt.gwb"
	kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
	bin/gwd --blob "$DIR/jwt.gwb" --listen "127.0.0.1:$GW_PORT" --threads "$GWD_THREADS" \
		--db "$DIR/gwd.db" --access-log "$DIR/gwd-access.log" >"$DIR/gwd.out" 2>&1 &
	PIDS[0]=$!
	token=$(/usr/bin/python3 tests/integration/jwt_tool.py mint "$DIR/keys" rsa1 RS256 \
		'{"iss":"https://idp.test/","aud":"api","sub":"bench-user","tenant":"acme","exp":4100000000}')
	WRK_HDR=(-H "Authorization: Bearer $token")
	TARGETS=("plain http://127.0.0.1:$GW_PORT/api/plain" "jwt http://127.0.0.1:$GW_PORT/api/jwt"
		 "jwt-hdrs http://127.0.0.1:$GW_PORT/api/jwt-hdrs")
elif [[ $MODE == hello ]]; then
	sed -e "s#@PORT@#$HA_PORT#g" -e "s#@DIR@#$DIR#g" perf/haproxy-hello.cfg >"$DIR/haproxy.cfg"
	haproxy -D -f "$DIR/haproxy.cfg"
	TARGETS+=("haproxy http://127.0.0.1:$HA_PORT/api/hello")
else
	# the upstream both proxies forward to: a gwd serving the hello route
	# (over HTTPS for proxy-tls, with a certificate for bench.test)
	UP_TLS=()
	sed -e "s#127.0.0.1:8091#127.0.0.1:$UP_PORT#" perf/bench-proxy.yaml >"$DIR/bench-proxy.yaml"
	if [[ $MODE == proxy-tls ]]; then
		command -v certtool >/dev/null || { echo "bench: certtool missing (gnutls-bin)" >&2; exit 1; }
		certtool --generate-privkey --key-type=ecdsa --outfile "$DIR/ca.key" 2>/dev/null
		printf 'cn = "bench CA"\nca\ncert_signing_key\nexpiration_days = 2\n' >"$DIR/ca.tmpl"
		certtool --generate-self-signed --load-privkey "$DIR/ca.key" --template "$DIR/ca.tmpl" \
			--outfile "$DIR/ca.pem" 2>/dev/null
		certtool --generate-privkey --key-type=ecdsa --outfile "$DIR/up.key" 2>/dev/null
		printf 'cn = "bench.test"\ndns_name = "bench.test"\ntls_www_server\nexpiration_days = 2\n' >"$DIR/up.tmpl"
		certtool --generate-certificate --load-privkey "$DIR/up.key" --load-ca-certificate "$DIR/ca.pem" \
			--load-ca-privkey "$DIR/ca.key" --template "$DIR/up.tmpl" --outfile "$DIR/up.pem" 2>/dev/null
		UP_TLS=(--tls-cert "$DIR/up.pem" --tls-key "$DIR/up.key")
		sed -i "s#^    max_connections: 256\$#&\n    tls: { ca_file: $DIR/ca.pem, server_name: bench.test }#" \
			"$DIR/bench-proxy.yaml"
		kill "$(cat "$DIR/nginx.pid")"; sleep 0.3
		sed -e "s#@PORT@#$NG_PORT#g" -e "s#@DIR@#$DIR#g" -e "s#@UPORT@#$UP_PORT#g" \
			perf/nginx-proxy-tls.conf >"$DIR/nginx.conf"
		nginx -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" -g "daemon on;"
	fi
	bin/gwc compile perf/bench-upstream.yaml -o "$DIR/up.gwb"
	bin/gwd --blob "$DIR/up.gwb" --listen "127.0.0.1:$UP_PORT" --threads 1 --db "$DIR/up.db" \
		"${UP_TLS[@]}" >"$DIR/up.out" 2>&1 &
	PIDS+=($!)
	bin/gwc compile "$DIR/bench-proxy.yaml" -o "$DIR/proxy.gwb"
	kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
	bin/gwd --blob "$DIR/proxy.gwb" --listen "127.0.0.1:$GW_PORT" --threads "$GWD_THREADS" \
		--db "$DIR/gwd.db" --access-log "$DIR/gwd-access.log" >"$DIR/gwd.out" 2>&1 &
	PIDS[0]=$!
	TARGETS=("gwd http://127.0.0.1:$GW_PORT/upstream/hello" "nginx http://127.0.0.1:$NG_PORT/upstream/hello")
	if [[ -n ${GWD_B:-} && $MODE == proxy ]]; then
		GWB_PORT=$(port)
		"$GWD_B" --blob "${GWD_B_BLOB:-$DIR/proxy.gwb}" --listen "127.0.0.1:$GWB_PORT" \
			--threads "$GWD_THREADS" --db "$DIR/gwd-b.db" --access-log "$DIR/gwd-b-access.log" \
			>"$DIR/gwd-b.out" 2>&1 &
		PIDS+=($!)
		GWB_PID=$!
		TARGETS=("${TARGETS[0]}" "gwd-b http://127.0.0.1:$GWB_PORT/upstream/hello" "${TARGETS[1]}")
	fi
fi
for t in "${TARGETS[@]}"; do
	wait_up "${t#* }"
	body=$(curl -s "${WRK_HDR[@]}" "${t#* }")
	[[ $body == '{"message":"hello"}' ]] || { echo "bench: ${t%% *} answered '$body'" >&2; exit 1; }
done

# wrk's summary: "Requests/sec: N" and, with --latency, "99% X(us|ms|s)".
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
declare -A RPS P99 ERR CPU
# CPU time (user + system, all threads) a server's processes used, in clock
# ticks: the gwd process, or nginx's and HAProxy's master and workers.
TCK=$(getconf CLK_TCK)
server_pids() {
	case $1 in
	nginx) local m; m=$(cat "$DIR/nginx.pid"); echo "$m" $(pgrep -P "$m") ;;
	haproxy) cat "$DIR/haproxy.pid" ;;
	gwd-b) echo "$GWB_PID" ;;
	*) echo "${PIDS[0]}" ;;
	esac
}
cpu_ticks() {
	local t=0 f
	for p in $(server_pids "$1"); do
		read -r -a f <"/proc/$p/stat" || continue
		t=$((t + f[13] + f[14]))
	done
	echo "$t"
}
echo "# $MODE: wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS alternating rounds; gwd --threads $GWD_THREADS"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-6s %-8s %12s %10s %10s %8s\n' round server req/s p99_ms cpu_us/req errors
for r in $(seq "$ROUNDS"); do
	for t in "${TARGETS[@]}"; do
		name=${t%% *} url=${t#* }
		c0=$(cpu_ticks "$name")
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "${WRK_HDR[@]}" "$url")
		c1=$(cpu_ticks "$name")
		nreq=$(awk '/requests in/ {print $1}' <<<"$out")
		cpu=$(awk -v t=$((c1 - c0)) -v h="$TCK" -v n="$nreq" 'BEGIN {printf "%.2f", n ? t * 1e6 / h / n : 0}')
		rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
		p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_ms)
		errs=$(awk '/Socket errors|Non-2xx/ {s=s $0 "; "} END {print (s=="" ? "0" : s)}' <<<"$out")
		RPS[$name]+="$rps "
		P99[$name]+="$p99 "
		CPU[$name]+="$cpu "
		[[ $errs == 0 ]] || ERR[$name]+="$errs"
		printf '%-6s %-8s %12s %10s %10s %8s\n' "$r" "$name" "$rps" "$p99" "$cpu" "${errs:0:40}"
	done
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
echo
printf '%-8s %14s %14s %14s %s\n' server median_req/s median_p99_ms cpu_us/req errors
for t in "${TARGETS[@]}"; do
	n=${t%% *}
	printf '%-8s %14s %14s %14s %s\n' "$n" "$(median <<<"${RPS[$n]}")" "$(median <<<"${P99[$n]}")" \
		"$(median <<<"${CPU[$n]}")" "${ERR[$n]:-none}"
done
first=${TARGETS[0]%% *}
g=$(median <<<"${RPS[$first]}")
for t in "${TARGETS[@]:1}"; do
	n=${t%% *}
	if [[ $MODE == policies || $MODE == jwt ]]; then
		# by req/s, and by CPU per request (plain's over the route's: the
		# throughput ratio a CPU-bound server would show, less noisy)
		printf 'ratio %s/%s: %s (cpu: %s)\n' "$n" "$first" \
			"$(awk -v a="$(median <<<"${RPS[$n]}")" -v b="$g" 'BEGIN {printf "%.3f", a/b}')" \
			"$(awk -v a="$(median <<<"${CPU[$first]}")" -v b="$(median <<<"${CPU[$n]}")" 'BEGIN {printf "%.3f", b ? a/b : 0}')"
	else
		printf 'ratio %s/%s: %s\n' "$first" "$n" "$(awk -v a="$g" -v b="$(median <<<"${RPS[$n]}")" 'BEGIN {printf "%.3f", a/b}')"
	fi
done
