#!/usr/bin/env bash
# HTTPS upstreams (docs/proxy.md, "HTTPS upstreams") against real TLS servers
# (tests/integration/upstream_tls.py) on loopback, with a PKI made by certtool
# in the test's directory:
#   - trusted: 200 through gwd; a 50 MB body streams whole over TLS;
#   - a certificate from another CA, one for another name, an expired one:
#     502 problem+json whose detail names the failure, logged with the target;
#   - server_name: SNI and verification against that name, connected to the
#     target's address: the other-name server passes;
#   - mutual TLS: with the client certificate 200, without it 502
#     "handshake failed";
#   - verify: false: gwc warns (FILE:LINE:COL: warning:), exit 0, and the
#     untrusted server answers;
#   - gwc refuses a missing CA file, a key that is a directory, a key of
#     another certificate, and cert without key, each at its place;
#   - a reload while the client key is unreadable is refused, the old
#     generation serves on, `gwd --check` says 1; the key back, the reload is
#     taken;
#   - an active health check over TLS marks the target down, then up;
#   - connections are reused (20 requests, at most a few handshakes), and TLS
#     sessions resumed when the upstream closes every connection (TLS 1.2).
source "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
UP=$GW_ROOT/tests/integration/upstream_tls.py
PKI=$T_TMP/pki
mkdir -p "$PKI"

# -- the PKI: two CAs, server certificates, a client certificate
key() { certtool --generate-privkey --key-type=ecdsa --outfile "$PKI/$1.key" 2>/dev/null; }
# ca NAME: a self-signed CA NAME.pem with NAME.key
ca() {
	key "$1"
	printf 'cn = "%s"\nca\ncert_signing_key\nexpiration_days = 30\n' "$1" >"$PKI/$1.tmpl"
	certtool --generate-self-signed --load-privkey "$PKI/$1.key" --template "$PKI/$1.tmpl" \
		--outfile "$PKI/$1.pem" 2>/dev/null
}
# cert NAME CA TEMPLATE-LINES: NAME.pem issued by CA with NAME.key
cert() {
	key "$1"
	printf '%b\n' "$3" >"$PKI/$1.tmpl"
	certtool --generate-certificate --load-privkey "$PKI/$1.key" \
		--load-ca-certificate "$PKI/$2.pem" --load-ca-privkey "$PKI/$2.key" \
		--template "$PKI/$1.tmpl" --outfile "$PKI/$1.pem" 2>/dev/null
}
ca ca && ca rogue &&
	cert good ca 'cn = "upstream.test"\ndns_name = "upstream.test"\nip_address = "127.0.0.1"\ntls_www_server\nexpiration_days = 30' &&
	cert untrusted rogue 'cn = "upstream.test"\nip_address = "127.0.0.1"\ntls_www_server\nexpiration_days = 30' &&
	cert other ca 'cn = "other.test"\ndns_name = "other.test"\ntls_www_server\nexpiration_days = 30' &&
	cert expired ca 'cn = "upstream.test"\nip_address = "127.0.0.1"\ntls_www_server\nactivation_date = "2020-01-01 00:00:00"\nexpiration_date = "2020-02-01 00:00:00"' &&
	cert client ca 'cn = "gw"\ntls_www_client\nexpiration_days = 30' ||
	{ not_ok "upstream_tls: certtool makes the PKI"; t_exit; }
ok "upstream_tls: certtool makes the PKI"

# -- the upstreams
P_OK=$(free_port); P_UNTR=$(free_port); P_NAME=$(free_port); P_EXP=$(free_port)
P_MTLS=$(free_port); P_HC=$(free_port); P_T12=$(free_port)
start_up() { # PORT NAME [ARGS...]
	local port=$1 name=$2; shift 2
	$PY "$UP" "$port" "$PKI/$name.pem" "$PKI/$name.key" --lifetime 300 "$@" \
		2>>"$T_TMP/up.err" &
	T_PIDS+=($!)
}
start_up "$P_OK" good
start_up "$P_UNTR" untrusted
start_up "$P_NAME" other
start_up "$P_EXP" expired
start_up "$P_MTLS" good --client-ca "$PKI/ca.pem"
start_up "$P_HC" good --down "$T_TMP/hc.down"
start_up "$P_T12" good --tls12
up_ready() { # PORT: the TLS server accepts (any answer)
	for _ in $(seq 100); do
		curl -sk -o /dev/null -m 1 "https://127.0.0.1:$1/health" && return 0
		sleep 0.05
	done
	return 1
}
for p in $P_OK $P_UNTR $P_NAME $P_EXP $P_HC $P_T12; do
	up_ready "$p" || { not_ok "upstream_tls: TLS upstream on $p starts"; t_exit; }
done
# the mTLS one refuses curl without a certificate: wait for its port
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$P_MTLS") 2>/dev/null && break
	sleep 0.05
done

# -- the route file: relative paths, taken from the route file's directory
cat >"$T_TMP/routes.yaml" <<EOF
version: 1
upstreams:
  ok:
    targets: [{address: "127.0.0.1:$P_OK"}]
    buffer: 64KiB
    tls: {ca_file: pki/ca.pem}
  untrusted:
    targets: [{address: "127.0.0.1:$P_UNTR"}]
    retries: 0
    tls: {ca_file: pki/ca.pem}
  wrongname:
    targets: [{address: "127.0.0.1:$P_NAME"}]
    retries: 0
    tls: {ca_file: pki/ca.pem}
  sni:
    targets: [{address: "127.0.0.1:$P_NAME"}]
    tls: {ca_file: pki/ca.pem, server_name: other.test}
  expired:
    targets: [{address: "127.0.0.1:$P_EXP"}]
    retries: 0
    tls: {ca_file: pki/ca.pem}
  mtls:
    targets: [{address: "127.0.0.1:$P_MTLS"}]
    tls: {ca_file: pki/ca.pem, cert: pki/client.pem, key: pki/client.key}
  mtls_nocert:
    targets: [{address: "127.0.0.1:$P_MTLS"}]
    retries: 0
    tls: {ca_file: pki/ca.pem}
  insecure:
    targets: [{address: "127.0.0.1:$P_UNTR"}]
    tls: {verify: false}
  checked:
    targets: [{address: "127.0.0.1:$P_HC"}]
    health_check: {path: /health, interval: 200ms, timeout: 2s, healthy: 1, unhealthy: 1}
    tls: {ca_file: pki/ca.pem}
  tls12:
    targets: [{address: "127.0.0.1:$P_T12"}]
    tls: {ca_file: pki/ca.pem, server_name: upstream.test}
routes:
  - path: /health
    methods: [GET]
    health: {}
  - path: /metrics
    methods: [GET]
    metrics: {}
EOF
for u in ok untrusted wrongname sni expired mtls mtls_nocert insecure checked tls12; do
	cat >>"$T_TMP/routes.yaml" <<EOF
  - path: /$u/*
    methods: [GET]
    proxy: {upstream: $u, rewrite: "/\${path.*}"}
EOF
done
(cd / && "$GWC" compile "$T_TMP/routes.yaml" -o "$T_TMP/tls.gwb") 2>"$T_TMP/gwc.err"
expect_eq "upstream_tls: gwc compiles from another directory (exit 0)" 0 $?
line=$(grep -n 'verify: false' "$T_TMP/routes.yaml" | cut -d: -f1)
check "upstream_tls: gwc warns of verify: false at its place" \
	grep -q "^$T_TMP/routes.yaml:$line:[0-9]*: warning: upstream 'insecure': 'verify: false'" "$T_TMP/gwc.err"
check "upstream_tls: the warning is no error" bash -c "! grep -q ': error:' '$T_TMP/gwc.err'"
"$GWC" inspect "$T_TMP/tls.gwb" >"$T_TMP/inspect.txt"
check "upstream_tls: inspect shows the absolute CA path" \
	grep -q "tls .*verify on, server_name other.test, ca_file $PKI/ca.pem" "$T_TMP/inspect.txt"
check "upstream_tls: inspect shows the client certificate" \
	grep -q "client cert $PKI/client.pem key $PKI/client.key" "$T_TMP/inspect.txt"
check "upstream_tls: inspect shows the buffer" grep -q "buffer .*64KiB" "$T_TMP/inspect.txt"

start_gwd "$T_TMP/tls.gwb" || { not_ok "upstream_tls: gwd starts"; t_exit; }
G=http://127.0.0.1:$PORT

# get PATH: "STATUS BODY" of GET PATH
get() { curl -s -m 20 -o "$T_TMP/body" -w '%{http_code}' "$G$1"; }
# detail: the problem's detail of the last body
detail() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1])).get("detail",""))' "$T_TMP/body" 2>/dev/null; }

expect_eq "upstream_tls: trusted upstream answers 200" 200 "$(get /ok/whoami)"
check "upstream_tls: ... with the upstream's body" grep -q '"name": "tls"' "$T_TMP/body"

for c in "untrusted:certificate not trusted" "wrongname:certificate name mismatch" \
	"expired:certificate expired" "mtls_nocert:TLS handshake failed"; do
	u=${c%%:*} want=${c#*:}
	code=$(get "/$u/whoami")
	expect_eq "upstream_tls: $u: 502" 502 "$code"
	expect_eq "upstream_tls: $u: detail '$want'" "$want" "$(detail)"
	check "upstream_tls: $u: problem+json" grep -q '"type":"urn:gw:problem:bad-gateway"' "$T_TMP/body"
done
check "upstream_tls: the failure is logged with the target" \
	grep -q "upstream untrusted target 127.0.0.1:$P_UNTR: TLS: certificate not trusted" "$T_TMP/gwd.err"
check "upstream_tls: no key material in the log" bash -c "! grep -q 'PRIVATE KEY' '$T_TMP/gwd.err'"

expect_eq "upstream_tls: server_name other.test passes (SNI + name, target's address)" 200 \
	"$(get /sni/whoami)"
expect_eq "upstream_tls: mutual TLS with the client certificate: 200" 200 "$(get /mtls/whoami)"
expect_eq "upstream_tls: verify: false accepts the untrusted server" 200 "$(get /insecure/whoami)"

# -- streaming a large body over TLS (the ok upstream's ring is 64 KiB)
n=$(curl -s -m 120 "$G/ok/big?bytes=50000000" | wc -c)
expect_eq "upstream_tls: 50 MB stream whole over TLS" 50000000 "$n"

# -- connection reuse: 20 requests, the handshakes counted at the upstream
h0=$(curl -sk "https://127.0.0.1:$P_OK/stats" | $PY -c 'import json,sys; print(json.load(sys.stdin)["handshakes"])')
for _ in $(seq 20); do get /ok/whoami >/dev/null; done
h1=$(curl -sk "https://127.0.0.1:$P_OK/stats" | $PY -c 'import json,sys; print(json.load(sys.stdin)["handshakes"])')
# gwd's 2 engines may each open one, plus our own 2 /stats connections
check "upstream_tls: 20 requests over at most 4 new TLS connections ($((h1 - h0)))" \
	test $((h1 - h0)) -le 4

# -- session resumption: the TLS 1.2 upstream closes every connection
for _ in $(seq 10); do get /tls12/close >/dev/null; done
stats=$(curl -sk "https://127.0.0.1:$P_T12/stats")
hs=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["handshakes"])' "$stats")
rs=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["resumed"])' "$stats")
check "upstream_tls: 10 closed connections, sessions resumed ($rs of $hs handshakes)" \
	test "$rs" -ge 6

# -- health check over TLS: down, then up
wait_status() { # PATH STATUS: until GET PATH answers STATUS (10 s at most)
	for _ in $(seq 100); do
		[[ "$(get "$1")" == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}
check "upstream_tls: health-checked target serves" wait_status /checked/whoami 200
touch "$T_TMP/hc.down"
check "upstream_tls: health check over TLS marks it down (503)" wait_status /checked/whoami 503
rm -f "$T_TMP/hc.down"
check "upstream_tls: ... and up again (200)" wait_status /checked/whoami 200

# -- reload with an unreadable key: refused, the old generation serves on
mv "$PKI/client.key" "$PKI/client.key.saved"
mkdir "$PKI/client.key"
kill -HUP "$GWD_PID"
for _ in $(seq 50); do grep -q 'reload refused' "$T_TMP/gwd.err" && break; sleep 0.1; done
check "upstream_tls: reload with an unreadable key refused, logged" \
	grep -q "reload refused.*upstream mtls: cannot read $PKI/client.key" "$T_TMP/gwd.err"
expect_eq "upstream_tls: the old generation serves mutual TLS on" 200 "$(get /mtls/whoami)"
"$GWD" --check --blob "$T_TMP/tls.gwb" >/dev/null 2>&1
expect_eq "upstream_tls: gwd --check refuses the unreadable key" 1 $?
rmdir "$PKI/client.key"
mv "$PKI/client.key.saved" "$PKI/client.key"
"$GWD" --check --blob "$T_TMP/tls.gwb" >/dev/null 2>&1
expect_eq "upstream_tls: gwd --check accepts it back" 0 $?
before=$(curl -s "$G/metrics" | sed -n 's/^gateway_reloads_total{result="ok"} //p')
kill -HUP "$GWD_PID"
for _ in $(seq 50); do
	after=$(curl -s "$G/metrics" | sed -n 's/^gateway_reloads_total{result="ok"} //p')
	[[ "${after:-0}" != "${before:-0}" ]] && break
	sleep 0.1
done
check "upstream_tls: the reload is taken once the key is back" test "${after:-0}" -gt "${before:-0}"
expect_eq "upstream_tls: mutual TLS after the reload" 200 "$(get /mtls/whoami)"

# -- gwc refuses unusable files, each at its place
gwc_err() { # NAME TLS-MAP KEYWORD EXPECTED-REGEX
	printf 'version: 1\nupstreams:\n  u:\n    targets: [{address: "127.0.0.1:1"}]\n    tls: %s\n' \
		"$2" >"$T_TMP/bad.yaml"
	"$GWC" check "$T_TMP/bad.yaml" 2>"$T_TMP/bad.err"
	local rc=$?
	expect_eq "upstream_tls: gwc $1: exit 1" 1 "$rc"
	check "upstream_tls: gwc $1: $4" grep -qE "^$T_TMP/bad.yaml:5:$3: error: $4" "$T_TMP/bad.err"
}
gwc_err "missing CA file" "{ca_file: pki/nope.pem}" 20 "cannot read $PKI/nope.pem: No such file"
gwc_err "key is a directory" "{cert: pki/client.pem, key: pki}" 38 "cannot read $PKI: not a regular file"
gwc_err "key of another certificate" "{cert: pki/client.pem, key: pki/good.key}" 17 \
	"$PKI/client.pem with key $PKI/good.key: the key does not belong"
gwc_err "cert without key" "{cert: pki/client.pem}" 17 "'cert' and 'key' go together"
gwc_err "CA file not PEM" "{ca_file: routes.yaml}" 20 "$T_TMP/routes.yaml: not a PEM certificate bundle"
gwc_err "server_name not a DNS name" "{server_name: 'a b'}" 24 "bad server_name"
printf 'version: 1\nupstreams:\n  u:\n    targets: [{address: "127.0.0.1:1"}]\n    buffer: 100KiB\n' \
	>"$T_TMP/bad.yaml"
"$GWC" check "$T_TMP/bad.yaml" 2>"$T_TMP/bad.err"
check "upstream_tls: gwc refuses a buffer not a power of two" \
	grep -q "bad.yaml:5:13: error: bad buffer '100KiB'" "$T_TMP/bad.err"

t_exit
