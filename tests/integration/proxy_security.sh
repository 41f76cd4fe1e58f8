#!/usr/bin/env bash
# Hostile requests against the real gwd and a real upstream
# (tests/integration/upstream.py reflects what it received):
#   - a rewrite value that would put a dot segment, an encoded control byte,
#     a double encoding or an encoded '/' into the upstream path: 400;
#   - the session cookie never reaches an upstream, on routes with or
#     without a session policy, whatever blanks separate the pairs, while
#     other cookies pass; the authenticator reads the same pairs;
#   - every X-Forwarded-For field line from a trusted proxy is forwarded;
#   - look-alikes of gateway-set fields ("X_Gw_User", "X_Forwarded_For")
#     stop at the gateway (settings.underscore_headers, also "drop");
#   - X-Forwarded-Host is the authority that routed the request;
#   - the session cookie's Secure follows settings.sessions.secure (auto:
#     a trusted proxy's X-Forwarded-Proto: https);
#   - a CORS preflight of a route behind an ip policy is refused outside;
#   - routes/gateway.yaml's commented monitoring policy, once uncommented,
#     keeps /health and /metrics from other addresses;
#   - gwd's own answers carry nosniff, respond bodies a Content-Type, and
#     gwc refuses templates in a body type it cannot escape for;
#   - the database: a loose mode is warned about, a dangling symbolic link
#     is not created through.
# The peer, 127.0.0.1, is a trusted proxy here.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
UPSTREAM=$GW_ROOT/tests/integration/upstream.py

A=$(free_port)
$PY "$UPSTREAM" "$A" alpha --lifetime 120 & T_PIDS+=($!)
cat >"$T_TMP/routes.yaml" <<EOF
version: 1
settings:
  trusted_proxies: [127.0.0.1]
upstreams:
  up:
    targets: [{ address: 127.0.0.1:$A }]
policies:
  sess:
    auth: { type: session, user_header: X-Gw-User }
  office:
    ip: { allow: [10.0.0.0/8] }
  web:
    cors: { origins: [https://app.example] }
routes:
  - path: /health
    methods: [GET]
    health: {}
  - path: /auth/login
    methods: [POST]
    login: {}
  - path: /profile
    methods: [GET]
    proxy: { upstream: up, rewrite: '/reflect/accounts/\${query.account}/profile' }
  - path: /open/*
    methods: [GET]
    proxy: { upstream: up, rewrite: '/reflect/\${path.*}' }
  - path: /private/*
    methods: [GET]
    policies: [sess]
    proxy: { upstream: up, rewrite: '/reflect/\${path.*}' }
  - path: /hosted
    methods: [GET]
    host: good.example
    proxy: { upstream: up, rewrite: /reflect/hosted }
  - path: /office
    methods: [GET]
    policies: [office, web]
    respond: { body: inside }
  - path: /plain/{id}
    methods: [GET]
    respond: { body: 'id \${path.id}' }
EOF
if ! "$GWC" compile "$T_TMP/routes.yaml" -o "$T_TMP/r.gwb" 2>"$T_TMP/gwc.err"; then
	not_ok "proxy_security: compile ($(head -1 "$T_TMP/gwc.err"))"
	t_exit
fi
printf 'wonderland\n' | "$GWD" users add alice --db "$T_TMP/gwd.db" >/dev/null 2>&1
wait_http "http://127.0.0.1:$A/health" 10 || { not_ok "proxy_security: upstream starts"; t_exit; }
if ! start_gwd "$T_TMP/r.gwb"; then
	not_ok "proxy_security: gwd starts"
	t_exit
fi
G=http://127.0.0.1:$PORT

# get PATH [CURL ARGS...]: GET through gwd; the status in $ST, the body in
# $T_TMP/body, the response head in $T_TMP/head
get() {
	local p=$1; shift
	ST=$(curl -s -m 5 -D "$T_TMP/head" -o "$T_TMP/body" -w '%{http_code}' "$@" "$G$p")
}
# up_path: the path the upstream received (last reflect)
up_path() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$T_TMP/body" 2>/dev/null; }
# up_hdr NAME: every value of field NAME the upstream received, joined by '|'
up_hdr() {
	$PY -c 'import json,sys
h = json.load(open(sys.argv[1]))["headers"]
print("|".join(v for k, v in h if k.lower() == sys.argv[2].lower()))' "$T_TMP/body" "$1" 2>/dev/null
}
# resp_hdr NAME: the value of response field NAME
resp_hdr() { sed -n "s/^$1: *//Ip" "$T_TMP/head" | tr -d '\r' | head -1; }

# ---- rendered rewrite paths ----------------------------------------------------
get '/profile?account=alice'
expect_eq "rewrite: a plain value" "200 /reflect/accounts/alice/profile?account=alice" "$ST $(up_path)"
for v in .. . %2e%2e %2E. '%252e%252e' '%00' 'x%0D%0AX-Evil:%201' 'a%2F..%2F..' '%2F' '%C0%AE'; do
	get "/profile?account=$v"
	expect_eq "rewrite: ?account=$v refused" 400 "$ST"
done
get '/profile?account=..x'
expect_eq "rewrite: '..x' is no dot segment" "200 /reflect/accounts/..x/profile?account=..x" "$ST $(up_path)"

# ---- the session cookie ----------------------------------------------------------
get /open/c -H 'Cookie: a=1; gw_session=LIVE-TOKEN; b=2'
expect_eq "cookie: stripped on a route without a session policy" "a=1; b=2" "$(up_hdr Cookie)"
get /open/c -H $'Cookie: a=1;\tgw_session=LIVE-TOKEN'
expect_eq "cookie: stripped after a tab" "a=1" "$(up_hdr Cookie)"
get /open/c -H 'Cookie: gw_session=LIVE-TOKEN'
expect_eq "cookie: no Cookie field when nothing else is left" "" "$(up_hdr Cookie)"
curl -s -m 10 -D "$T_TMP/login.head" -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"alice","password":"wonderland"}' "$G/auth/login"
TOKEN=$(sed -n 's/^Set-Cookie: gw_session=\([^;]*\);.*/\1/Ip' "$T_TMP/login.head" | tr -d '\r')
check "cookie: login gives a token" test -n "$TOKEN"
check "secure: no Secure from a trusted peer without X-Forwarded-Proto" \
	bash -c '! grep -qi "^set-cookie:.*secure" "$1"' _ "$T_TMP/login.head"
get /private/c -H $'Cookie: a=1;\tgw_session='"$TOKEN"
expect_eq "cookie: after a tab, the session authenticates" 200 "$ST"
check "cookie: ... and the token does not go upstream" bash -c '! grep -q -- "$1" "$2"' _ "$TOKEN" "$T_TMP/body"
expect_eq "cookie: ... the other cookies do" "a=1" "$(up_hdr Cookie)"

# ---- X-Forwarded-For over several field lines -----------------------------------
get /open/x -H 'X-Forwarded-For: 6.6.6.6' -H 'X-Forwarded-For: 1.2.3.4'
expect_eq "xff: every line of a trusted peer's chain" "6.6.6.6, 1.2.3.4, 127.0.0.1" "$(up_hdr X-Forwarded-For)"

get /open/p -H 'X-Forwarded-Proto: https'
expect_eq "xfp: a trusted proxy's https is forwarded" "https" "$(up_hdr X-Forwarded-Proto)"
get /open/p
expect_eq "xfp: otherwise gwd's own scheme" "http" "$(up_hdr X-Forwarded-Proto)"

# ---- look-alike fields ------------------------------------------------------------
get /private/u -H "Cookie: gw_session=$TOKEN" -H 'X_Gw_User: admin' -H 'X_Forwarded_For: 9.9.9.9' \
	-H 'Content_Length: 5' -H 'X_Custom: kept'
expect_eq "underscores: the gateway's user field" "alice" "$(up_hdr X-Gw-User)"
expect_eq "underscores: X_Gw_User dropped" "" "$(up_hdr X_Gw_User)"
expect_eq "underscores: X_Forwarded_For dropped" "" "$(up_hdr X_Forwarded_For)"
expect_eq "underscores: Content_Length dropped" "" "$(up_hdr Content_Length)"
expect_eq "underscores: X_Custom passes (drop_lookalikes)" "kept" "$(up_hdr X_Custom)"

# ---- X-Forwarded-Host: the authority that routed ------------------------------
get /hosted --request-target http://good.example/hosted -H 'Host: evil.example'
expect_eq "xfh: absolute-form authority routes" 200 "$ST"
expect_eq "xfh: absolute-form authority forwarded" "good.example" "$(up_hdr X-Forwarded-Host)"
get /hosted -H 'Host: good.example'
expect_eq "xfh: Host forwarded" "good.example" "$(up_hdr X-Forwarded-Host)"

# ---- CORS preflight behind an ip policy ---------------------------------------
pre() {
	curl -s -m 5 -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: https://app.example' \
		-H 'Access-Control-Request-Method: GET' "$@" "$G/office"
}
expect_eq "cors: preflight from outside the ip policy refused" 403 "$(pre)"
expect_eq "cors: preflight from inside answered" 204 "$(pre -H 'X-Forwarded-For: 10.1.2.3')"

# ---- gwd's own answers -------------------------------------------------------
get '/plain/%3Cb%3E'
expect_eq "respond: a body without Content-Type gets text/plain" "text/plain; charset=utf-8" \
	"$(resp_hdr Content-Type)"
expect_eq "respond: nosniff" nosniff "$(resp_hdr X-Content-Type-Options)"
get /nowhere
expect_eq "problem: nosniff" nosniff "$(resp_hdr X-Content-Type-Options)"
get /open/n
expect_eq "proxy: an upstream's answer as it came (no nosniff added)" "" "$(resp_hdr X-Content-Type-Options)"
cat >"$T_TMP/html.yaml" <<'EOF'
version: 1
routes:
  - path: /page/{id}
    methods: [GET]
    respond:
      headers: { Content-Type: text/html }
      body: '<p>${path.id}</p>'
EOF
"$GWC" check "$T_TMP/html.yaml" >/dev/null 2>"$T_TMP/html.err"
check "gwc: templates in a text/html body refused" grep -q "html.yaml:7:13: error: templates in a body of type 'text/html'" "$T_TMP/html.err"

# ---- settings by reload: underscore_headers drop, sessions.secure ---------------
sed -e 's/^  trusted_proxies: \[127.0.0.1\]/&\n  underscore_headers: drop\n  sessions: { secure: never }/' \
	"$T_TMP/routes.yaml" >"$T_TMP/r2.yaml"
# auto (still serving r.gwb): a trusted proxy's X-Forwarded-Proto
curl -s -m 10 -D "$T_TMP/login.head" -o /dev/null -H 'Content-Type: application/json' \
	-H 'X-Forwarded-Proto: https' -d '{"username":"alice","password":"wonderland"}' "$G/auth/login"
check "secure: auto, X-Forwarded-Proto https from a trusted proxy: Secure" \
	grep -qi '^set-cookie: gw_session=.*; secure' "$T_TMP/login.head"
if "$GWC" compile "$T_TMP/r2.yaml" -o "$T_TMP/r.gwb.new" 2>"$T_TMP/gwc.err" &&
	mv "$T_TMP/r.gwb.new" "$T_TMP/r.gwb" && kill -HUP "$GWD_PID"; then
	for _ in $(seq 50); do
		get /open/u -H 'X_Custom: kept'
		[[ -z $(up_hdr X_Custom) ]] && break
		sleep 0.1
	done
	expect_eq "underscores: drop: every such field dropped" "" "$(up_hdr X_Custom)"
	curl -s -m 10 -D "$T_TMP/login.head" -o /dev/null -H 'Content-Type: application/json' \
		-H 'X-Forwarded-Proto: https' -d '{"username":"alice","password":"wonderland"}' "$G/auth/login"
	check "secure: never: no Secure" bash -c '! grep -qi "^set-cookie:.*secure" "$1"' _ "$T_TMP/login.head"
else
	not_ok "settings: compile and reload ($(head -1 "$T_TMP/gwc.err"))"
fi

# ---- /health and /metrics behind the default route set's monitoring policy -----
# routes/gateway.yaml carries the policy commented out; uncommented (with
# loopback left out of its list), both routes refuse this client
sed -e 's/^  # monitoring:/  monitoring:/; s/^  #   ip:/    ip:/' \
	-e 's/^  #     allow: .*/      allow: [10.0.0.0\/8]/' \
	-e 's/^    # policies: \[monitoring\]/    policies: [monitoring]/' \
	"$GW_ROOT/routes/gateway.yaml" >"$T_TMP/gateway.yaml"
if "$GWC" compile "$T_TMP/gateway.yaml" -o "$T_TMP/gateway.gwb" 2>"$T_TMP/gwc.err" &&
	start_gwd "$T_TMP/gateway.gwb"; then
	G=http://127.0.0.1:$PORT
	get /metrics
	expect_eq "monitoring: /metrics behind the ip policy" 403 "$ST"
	get /health
	expect_eq "monitoring: /health behind the ip policy" 403 "$ST"
	get /api/hello
	expect_eq "monitoring: other routes unchanged" 200 "$ST"
else
	not_ok "monitoring: the default routes with the policy uncommented ($(head -1 "$T_TMP/gwc.err"))"
fi

# ---- the database's file modes --------------------------------------------------
mkdir -p "$T_TMP/loose"
: >"$T_TMP/loose/gw.db"
chmod 666 "$T_TMP/loose/gw.db"
"$GWD" users list --db "$T_TMP/loose/gw.db" >/dev/null 2>"$T_TMP/loose.err"
check "db: a 0666 file is warned about" grep -q "gw.db: mode 0666 lets group or others" "$T_TMP/loose.err"
ln -s "$T_TMP/elsewhere.db" "$T_TMP/dangling.db"
printf 'pw-for-bob\n' | "$GWD" users add bob --db "$T_TMP/dangling.db" >/dev/null 2>"$T_TMP/dangling.err"
check "db: not created through a dangling symbolic link" test ! -e "$T_TMP/elsewhere.db"
check "db: ... and said why" grep -q "symbolic link to a missing file" "$T_TMP/dangling.err"
t_exit
