#!/usr/bin/env bash
# The jwt auth policy against tokens minted by an independent implementation
# (Debian's python3-jwt and python3-cryptography, tests/integration/jwt_tool.py):
# every algorithm verifies; every refusal answers RFC 6750's 401/403 with a
# reason that never quotes the token; claims reach a real upstream as headers
# and the client's copies do not; a JWKS URL served by a test HTTP server is
# fetched at start (provider down: 503, then keys), rotated (new kid appears,
# old one removed), and the last good set keeps serving while the provider is
# down, which /health and /metrics report; gwc refuses bad JWKS files at
# FILE:LINE:COL; examples/jwt.yaml compiles.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
TOOL=$GW_ROOT/tests/integration/jwt_tool.py
K=$T_TMP/keys
$PY "$TOOL" genkeys "$K" || { not_ok "jwt: key generation (python3-jwt)"; t_exit; }

# -- the JWKS provider: down at start
J=$(free_port); UP=$(free_port)
touch "$K/down"
$PY "$TOOL" jwks "$K" rsa1 >"$K/served.json"
$PY "$TOOL" serve "$J" "$K" & T_PIDS+=($!)
$PY "$GW_ROOT/tests/integration/upstream.py" "$UP" up --lifetime 120 & T_PIDS+=($!)

cp "$K/file.jwks" "$T_TMP/file.jwks"
$PY "$TOOL" jwks "$K" rsa1 >"$T_TMP/rsa.jwks"
$PY "$TOOL" jwks "$K" ec256 >"$T_TMP/ec.jwks"
cat >"$T_TMP/jwt.yaml" <<YAML
version: 1
upstreams:
  app: { targets: [{ address: "127.0.0.1:$UP" }] }
policies:
  file:
    auth:
      type: jwt
      issuer: https://idp.test/
      audiences: [api, other]
      algorithms: [RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA, HS256, HS384, HS512]
      jwks_file: file.jwks
      leeway: 60s
      required_claims: [sub]
      claim_headers: { sub: X-User-Id, tenant: X-Tenant }
      realm: api
  scoped:
    auth:
      type: jwt
      issuer: https://idp.test/
      audiences: [api]
      algorithms: [RS256]
      jwks_file: rsa.jwks
      scopes: [read, write]
  scoped-any:
    auth:
      type: jwt
      issuer: https://idp.test/
      audiences: [api]
      algorithms: [RS256]
      jwks_file: rsa.jwks
      scopes: [read, write]
      scopes_match: any
      claims: { tenant: acme }
  url:
    auth:
      type: jwt
      issuer: https://idp.test/
      audiences: [api]
      algorithms: [RS256, ES256]
      jwks_url: http://127.0.0.1:$J/jwks
      jwks_min_refresh: 1s
      jwks_max_refresh: 2s
      jwks_refetch: 1s
  cookie:
    auth:
      type: jwt
      issuer: https://idp.test/
      audiences: [api]
      algorithms: [ES256]
      jwks_file: ec.jwks
      token_cookie: at
      forward_authorization: true
  peruser: { rate_limit: { rate: 1/min, burst: 1, key: user } }
routes:
  - { path: /health, methods: [GET], health: {} }
  - { path: /metrics, methods: [GET], metrics: {} }
  - { path: /a, methods: [GET], policies: [file], respond: { status: 200, body: "ok" } }
  - { path: /f/*, methods: [GET], policies: [file], proxy: { upstream: app, rewrite: "/reflect/\${path.*}" } }
  - { path: /s, methods: [GET], policies: [scoped], respond: { status: 200, body: "ok" } }
  - { path: /s-any, methods: [GET], policies: [scoped-any], respond: { status: 200, body: "ok" } }
  - { path: /u, methods: [GET], policies: [url], respond: { status: 200, body: "ok" } }
  - { path: /c/*, methods: [GET], policies: [cookie], proxy: { upstream: app, rewrite: "/reflect/\${path.*}" } }
  - { path: /lim, methods: [GET], policies: [file, peruser], respond: { status: 200, body: "ok" } }
YAML
"$GWC" compile "$T_TMP/jwt.yaml" -o "$T_TMP/jwt.gwb" 2>"$T_TMP/gwc.err" ||
	{ not_ok "jwt: compile"; cat "$T_TMP/gwc.err"; t_exit; }
ok "jwt: a policy with a JWKS file and one with a JWKS URL compile"
wait_http "http://127.0.0.1:$UP/health" 10 || { not_ok "jwt: upstream starts"; t_exit; }
start_gwd "$T_TMP/jwt.gwb" || { not_ok "jwt: gwd starts"; t_exit; }
G=http://127.0.0.1:$PORT

# -- tokens, minted in one batch (claims JSON without spaces)
NOW=$(date +%s)
C='"iss":"https://idp.test/","aud":"api","sub":"alice"'
{
	for a in "rsa1 RS256" "rsa1 RS384" "rsa1 RS512" "rsa1 PS256" "rsa1 PS384" "rsa1 PS512" \
		"ec256 ES256" "ec384 ES384" "ed1 EdDSA" "hs1 HS256" "hs1 HS384" "hs1 HS512"; do
		set -- $a; echo "alg_$2 $1 $2 {$C}"
	done
	echo "tenant rsa1 RS256 {$C,\"tenant\":\"acme\",\"aud\":[\"x\",\"other\"]}"
	echo "notenant rsa1 RS256 {$C}"
	echo "badvalue rsa1 RS256 {$C,\"tenant\":\"a\\nb\"}"
	echo "expired rsa1 RS256 {$C,\"exp\":$((NOW - 300))}"
	echo "leeway rsa1 RS256 {$C,\"exp\":$((NOW - 2))}"
	echo "notyet rsa1 RS256 {$C,\"nbf\":$((NOW + 600))}"
	echo "future rsa1 RS256 {$C,\"iat\":$((NOW + 600))}"
	echo "noexp rsa1 RS256 {$C,\"exp\":null}"
	echo "wrongiss rsa1 RS256 {$C,\"iss\":\"https://evil.test/\"}"
	echo "wrongaud rsa1 RS256 {$C,\"aud\":\"web\"}"
	echo "nosub rsa1 RS256 {$C,\"sub\":null}"
	echo "unknownkid rsa1 RS256 {$C} {\"kid\":\"nope\"}"
	echo "wrongtype ec256 ES256 {$C} {\"kid\":\"rsa1\"}"
	echo "crit rsa1 RS256 {$C} {\"crit\":[\"exp\"],\"exp\":1}"
	echo "confusion raw hmac-pem:rsa1 {$C} {\"alg\":\"HS256\",\"kid\":\"rsa1\"}"
	echo "none raw - {$C} {\"alg\":\"none\"}"
	echo "nonesig raw x {$C} {\"alg\":\"none\"}"
	echo "big rsa1 RS256 {$C,\"pad\":\"$(head -c 9000 /dev/zero | tr '\0' a)\"}"
	echo "scope_rw rsa1 RS256 {$C,\"scope\":\"read write\",\"tenant\":\"acme\"}"
	echo "scope_r rsa1 RS256 {$C,\"scp\":[\"read\"],\"tenant\":\"acme\"}"
	echo "scope_r_evil rsa1 RS256 {$C,\"scp\":[\"read\"],\"tenant\":\"evil\"}"
	echo "scope_none rsa1 RS256 {$C,\"tenant\":\"acme\"}"
	echo "es_cookie ec256 ES256 {$C}"
	echo "url1 rsa1 RS256 {$C,\"jti\":\"1\"}"
	echo "url1b rsa1 RS256 {$C,\"jti\":\"1b\"}"
	echo "url2 rsa2 RS256 {$C,\"jti\":\"2\"}"
	echo "url2b rsa2 RS256 {$C,\"jti\":\"2b\"}"
	echo "url1c rsa1 RS256 {$C,\"jti\":\"1c\"}"
	echo "urlps rsa1 PS256 {$C}"
	echo "hugenbf rsa1 RS256 {$C,\"nbf\":1e300}"
	echo "hugeiat rsa1 RS256 {$C,\"iat\":1e300}"
	echo "longa rsa1 RS256 {$C,\"sub\":\"$(printf 'a%.0s' {1..70})\"}"
	echo "longb rsa1 RS256 {$C,\"sub\":\"$(printf 'b%.0s' {1..70})\"}"
} | $PY "$TOOL" batch "$K" >"$T_TMP/tokens" || { not_ok "jwt: minting"; t_exit; }
declare -A TK
while IFS='=' read -r n v; do TK[$n]=$v; done <"$T_TMP/tokens"

# status PATH TOKEN [CURL ARGS...]: the status code; headers in $T_TMP/h, body in $T_TMP/b
status() {
	local p=$1 t=$2; shift 2
	curl -s -m 5 -o "$T_TMP/b" -D "$T_TMP/h" -w '%{http_code}' ${t:+-H "Authorization: Bearer $t"} "$@" "$G$p"
}

# -- every algorithm
for a in RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA HS256 HS384 HS512; do
	expect_eq "jwt: $a verifies" 200 "$(status /a "${TK[alg_$a]}")"
done
expect_eq "jwt: a cached token answers again" 200 "$(status /a "${TK[alg_RS256]}")"

# -- no token: the challenge alone
expect_eq "jwt: no token: 401" 401 "$(status /a '')"
check "jwt: no token: WWW-Authenticate: Bearer realm=\"api\" without error" \
	grep -qx $'WWW-Authenticate: Bearer realm="api"\r' "$T_TMP/h"
expect_eq "jwt: Basic credentials are no bearer token" 401 "$(status /a '' -H 'Authorization: Basic eDp5')"

# -- refusals: 401 invalid_token, a reason, never the token
refused() { # NAME PATH TOKEN REASON
	local code; code=$(status "$2" "$3")
	if [[ $code == 401 ]] && grep -q 'error="invalid_token"' "$T_TMP/h" &&
		grep -q "\"detail\":\"$4\"" "$T_TMP/b" && ! grep -qF "$(cut -d. -f2 <<<"$3")" "$T_TMP/b" "$T_TMP/h"; then
		ok "jwt: $1: 401 invalid_token ($4)"
	else
		not_ok "jwt: $1: got $code $(tr -d '\r' <"$T_TMP/h" | grep -i www-auth) $(cat "$T_TMP/b")"
	fi
}
refused "expired" /a "${TK[expired]}" "token expired"
expect_eq "jwt: expired 2 s ago, within the 60 s leeway" 200 "$(status /a "${TK[leeway]}")"
refused "not yet valid" /a "${TK[notyet]}" "token not yet valid (nbf)"
refused "issued in the future" /a "${TK[future]}" "token issued in the future (iat)"
refused "nbf past any time (1e300)" /a "${TK[hugenbf]}" "token not yet valid (nbf)"
refused "iat past any time (1e300)" /a "${TK[hugeiat]}" "token issued in the future (iat)"
# users whose sub is too long to keep are named by its digest: they count apart
expect_eq "jwt: a long sub, first request of its user" 200 "$(status /lim "${TK[longa]}")"
expect_eq "jwt: another long sub is another user" 200 "$(status /lim "${TK[longb]}")"
expect_eq "jwt: the first long sub again: its own limit" 429 "$(status /lim "${TK[longa]}")"
refused "no exp" /a "${TK[noexp]}" "no expiry (exp)"
refused "wrong issuer" /a "${TK[wrongiss]}" "wrong issuer"
refused "wrong audience" /a "${TK[wrongaud]}" "wrong audience"
refused "required claim missing" /a "${TK[nosub]}" "a required claim is missing"
refused "unknown kid" /a "${TK[unknownkid]}" "unknown key id"
refused "kid naming a key of another type" /a "${TK[wrongtype]}" "key does not fit the algorithm"
refused "crit header" /a "${TK[crit]}" "critical header not understood"
refused "HS256 keyed with the RSA public key (alg confusion)" /a "${TK[confusion]}" "key does not fit the algorithm"
refused "alg none, empty signature" /a "${TK[none]}" "malformed token"
refused "alg none with a signature" /a "${TK[nonesig]}" "algorithm not supported"
refused "over 8 KiB" /a "${TK[big]}" "token too large"
refused "algorithm not allowed by the policy" /u "${TK[urlps]}" "algorithm not allowed"
t=${TK[alg_RS256]}; p=${t#*.}; p=${p%%.*}
tampered="${t%%.*}.$($PY -c 'import base64,json,sys
s=sys.argv[1]; d=json.loads(base64.urlsafe_b64decode(s+"="*(-len(s)%4))); d["sub"]="root"
print(base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode())' "$p").${t##*.}"
refused "payload changed after signing" /a "$tampered" "bad signature"
refused "three dots" /a "$t.x" "malformed token"

# -- scopes: 403 insufficient_scope naming the scopes
expect_eq "jwt: scopes read+write (all): both present" 200 "$(status /s "${TK[scope_rw]}")"
code=$(status /s "${TK[scope_r]}")
if [[ $code == 403 ]] && grep -q 'error="insufficient_scope", error_description="insufficient scope", scope="read write"' "$T_TMP/h"; then
	ok "jwt: scope missing: 403 insufficient_scope with scope=\"read write\""
else
	not_ok "jwt: scope missing: got $code $(cat "$T_TMP/h" "$T_TMP/b")"
fi
expect_eq "jwt: scopes (any) from scp: one is enough" 200 "$(status /s-any "${TK[scope_r]}")"
expect_eq "jwt: scopes (any): none present: 403" 403 "$(status /s-any "${TK[scope_none]}")"
refused "claim not equal to the policy's value" /s-any "${TK[scope_r_evil]}" "a claim does not have the required value"

# -- claims to upstream headers; the client's copies never pass
hdr() { $PY -c 'import json,sys
h=[v for k,v in json.load(open(sys.argv[1]))["headers"] if k.lower()==sys.argv[2].lower()]
print("|".join(h))' "$T_TMP/b" "$1"; }
status /f/x "${TK[tenant]}" -H 'X-User-Id: mallory' -H 'X-Tenant: evil' >/dev/null
expect_eq "jwt: sub reaches the upstream as X-User-Id (client copy removed)" alice "$(hdr X-User-Id)"
expect_eq "jwt: tenant reaches the upstream as X-Tenant (client copy removed)" acme "$(hdr X-Tenant)"
expect_eq "jwt: Authorization not passed upstream by default" "" "$(hdr Authorization)"
status /f/x "${TK[tenant]}" -H 'X-User-Id: mallory' >/dev/null
expect_eq "jwt: cached token: the same headers" "alice acme" "$(hdr X-User-Id) $(hdr X-Tenant)"
status /f/x "${TK[notenant]}" -H 'X-Tenant: evil' >/dev/null
expect_eq "jwt: a claim the token lacks: the client's header still removed" "" "$(hdr X-Tenant)"
refused "a claim value with a newline" /f/x "${TK[badvalue]}" "a claim is not a valid header value"
code=$(status /c/x '' -H "Cookie: theme=dark; at=${TK[es_cookie]}")
expect_eq "jwt: token from the policy's cookie" 200 "$code"
status /c/x "${TK[es_cookie]}" >/dev/null
expect_eq "jwt: forward_authorization: true passes Authorization" "Bearer ${TK[es_cookie]}" "$(hdr Authorization)"

# -- JWKS URL: the provider down at start
expect_eq "jwt: JWKS provider down at start: 503" 503 "$(status /u "${TK[url1]}")"
h=$(curl -s "$G/health")
check "jwt: /health shows the jwks check degraded" grep -q '"jwks":{"status":"degraded"' <<<"$h"
m=$(curl -s "$G/metrics")
check "jwt: /metrics counts failed JWKS fetches" \
	grep -qE "^gateway_jwks_fetches_total\{url=\"http://127.0.0.1:$J/jwks\",result=\"error\"\} [1-9]" <<<"$m"
rm -f "$K/down"
# poll: the policy retries after jwks_min_refresh (1 s)
waited() { # PATH TOKEN WANT: polls up to 6 s
	for _ in $(seq 60); do [[ $(status "$1" "$2") == "$3" ]] && return 0; sleep 0.1; done
	return 1
}
check "jwt: provider up: keys fetched, the token verifies" waited /u "${TK[url1]}" 200
check "jwt: /health ok again" waited /health '' 200

# -- rotation: rsa2 appears, rsa1 goes
$PY "$TOOL" jwks "$K" rsa2 >"$K/served.json.tmp" && mv "$K/served.json.tmp" "$K/served.json"
check "jwt: rotation: a token of the new kid verifies (unknown kid refetch or refresh)" \
	waited /u "${TK[url2]}" 200
check "jwt: rotation: the removed kid's tokens are refused, cached ones too" \
	waited /u "${TK[url1]}" 401
grep -q '"detail":"unknown key id"' "$T_TMP/b" && ok "jwt: rotation: reason unknown key id" ||
	not_ok "jwt: rotation: reason: $(cat "$T_TMP/b")"

# -- provider down during service: the last good set keeps serving
touch "$K/down"
sleep 3 # past jwks_max_refresh (2 s): at least one failed refresh
expect_eq "jwt: provider down: the last good key set still verifies a new token" 200 \
	"$(status /u "${TK[url2b]}")"
h=$(curl -s "$G/health")
check "jwt: provider down: /health degraded, naming the fetch failure" \
	grep -q '"jwks":{"status":"degraded","detail":"http://127.0.0.1:'"$J"'/jwks: HTTP 503; serving keys fetched' <<<"$h"
# 30 requests with an unknown kid over about 1.5 s: fetches (the failing
# provider's retries and the refetches) at most one a second, plus the edges
hits=$(wc -l <"$K/hits"); t0=$(date +%s%N)
for _ in $(seq 3); do
	for _ in $(seq 10); do status /u "${TK[url1c]}" >/dev/null; done
	sleep 0.5
done
hits2=$(wc -l <"$K/hits"); t1=$(date +%s%N)
limit=$(( (t1 - t0) / 1000000000 + 2 ))
check "jwt: unknown kids refetch at most once per jwks_refetch, off the request path ($((hits2 - hits)) fetches for 30 requests in $(( (t1 - t0) / 1000000 )) ms, at most $limit)" \
	test $((hits2 - hits)) -le $limit

# -- gwc: a JWKS file is checked at compile time, errors at FILE:LINE:COL
$PY - "$K/file.jwks" "$T_TMP/bad.jwks" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["keys"][1]["kid"] = "rsa1"
j["keys"][2]["d"] = "AAAA"
j["keys"][3]["x"] = "AAAA"
open(sys.argv[2], "w").write(json.dumps(j, indent=1))
PY
printf '{"keys": [], "keys": []}' >"$T_TMP/dup.jwks"
printf '{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "short"}]}' >"$T_TMP/short.jwks"
printf '{"keys": [{"kty": "oct", "alg": "HS512", "kid": "h", "k": "%s"}]}' \
	MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY >"$T_TMP/hs512.jwks"
for f in bad dup short hs512; do
	sed "s/ file.jwks/ $f.jwks/" "$T_TMP/jwt.yaml" >"$T_TMP/$f.yaml"
	"$GWC" compile "$T_TMP/$f.yaml" -o "$T_TMP/$f.gwb" 2>"$T_TMP/$f.err" && not_ok "jwt: gwc refuses $f.jwks"
done
check "jwt: gwc: duplicate kid at its line and column" grep -qE "bad.jwks:[0-9]+:[0-9]+: error: kid 'rsa1' is used by an earlier key" "$T_TMP/bad.err"
check "jwt: gwc: a private key member refused" grep -qE "bad.jwks:[0-9]+:[0-9]+: error: a JWKS key with private member 'd'" "$T_TMP/bad.err"
check "jwt: gwc: a key that does not parse" grep -qE "bad.jwks:[0-9]+:[0-9]+: error: the key does not parse: a coordinate has the wrong size" "$T_TMP/bad.err"
check "jwt: gwc: duplicate JSON members refused (jansson)" grep -qE "dup.jwks:1:[0-9]+: error: not a JWKS: duplicate object key" "$T_TMP/dup.err"
check "jwt: gwc: a short HMAC key refused" grep -qE "short.jwks:1:[0-9]+: error: the key does not parse: an HMAC key needs at least 32 bytes" "$T_TMP/short.err"
check "jwt: gwc: a 32-byte key refused for HS512, its length said" grep -qE "hs512.jwks:1:[0-9]+: error: an HMAC key of 32 bytes is too short for its algorithm" "$T_TMP/hs512.err"

# -- the example
(cd "$GW_ROOT" && "$GWC" compile examples/jwt.yaml -o "$T_TMP/example.gwb") &&
	ok "jwt: examples/jwt.yaml compiles" || not_ok "jwt: examples/jwt.yaml compiles"
t_exit
