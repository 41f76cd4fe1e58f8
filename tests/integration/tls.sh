#!/usr/bin/env bash
# gwd over TLS (docs/gwd.md, "TLS"): --tls-cert/--tls-key serve HTTPS through
# GnuTLS with a modern priority.  A self-signed certificate for 127.0.0.1 is
# made with certtool (gnutls-bin) in the test's temp dir; then:
#   - curl --cacert over https gets 200 and the body, TLS 1.2 and 1.3 both;
#   - curl without the CA fails (the client really verifies);
#   - a TLS 1.1 handshake is refused.  Debian's curl (OpenSSL, security level
#     2) will not even offer TLS 1.1, so gnutls-cli does it, and the same
#     gnutls-cli handshake against gnutls-serv allowing TLS 1.1 succeeds:
#     the refusal is gwd's, not the client's;
#   - plain HTTP to the TLS port gets no HTTP response.
source "$(dirname "$0")/lib.sh"

CORPUS=$GW_ROOT/tests/corpus/http

if [[ ! -x $GWC || ! -x $GWD ]] || ! command -v certtool >/dev/null || ! command -v gnutls-cli >/dev/null; then
	not_ok "tls: bin/gwc, bin/gwd, certtool and gnutls-cli are there"
	t_exit
fi

# The certificate: ECDSA P-256, self-signed, for 127.0.0.1 and localhost.
cd "$T_TMP" || exit 1
cat >cert.cfg <<'EOF'
cn = "127.0.0.1"
ip_address = "127.0.0.1"
dns_name = "localhost"
expiration_days = 2
ca
cert_signing_key
signing_key
tls_www_server
EOF
if ! certtool --generate-privkey --key-type=ecdsa --outfile key.pem >/dev/null 2>&1 ||
	! certtool --generate-self-signed --load-privkey key.pem --template cert.cfg \
		--outfile cert.pem >/dev/null 2>&1; then
	not_ok "tls: certtool makes a self-signed certificate"
	t_exit
fi
ok "tls: certtool makes a self-signed certificate"

if ! "$GWC" compile "$CORPUS/routes.yaml" -o tls.gwb 2>gwc.err; then
	not_ok "tls: gwc compiles the routes: $(head -c 300 gwc.err)"
	t_exit
fi
PORT=$(free_port)
"$GWD" --blob tls.gwb --listen "127.0.0.1:$PORT" --db gwd.db --threads 2 \
	--tls-cert cert.pem --tls-key key.pem --access-log access.log 2>gwd.err &
GWD_PID=$!
T_PIDS+=("$GWD_PID")
URL=https://127.0.0.1:$PORT
up=1
for _ in $(seq 200); do
	curl -s -o /dev/null -m 1 --cacert cert.pem "$URL/health" && { up=0; break; }
	kill -0 "$GWD_PID" 2>/dev/null || break
	sleep 0.05
done
if [[ $up -ne 0 ]]; then
	not_ok "tls: gwd serves https: $(tail -c 300 gwd.err)"
	t_exit
fi

body=$(curl -s -m 5 --cacert cert.pem -w ' %{http_code}' "$URL/api/hello?name=tls")
expect_eq "tls: curl --cacert GET /api/hello over https" '{"message":"hello, tls"} 200' "$body"
expect_eq "tls: TLS 1.3" 200 "$(curl -s -m 5 --cacert cert.pem --tlsv1.3 -o /dev/null -w '%{http_code}' "$URL/api/hello")"
expect_eq "tls: TLS 1.2" 200 "$(curl -s -m 5 --cacert cert.pem --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' "$URL/api/hello")"
expect_eq "tls: POST /api/echo over https" "over tls 200" \
	"$(curl -s -m 5 --cacert cert.pem -H 'Content-Type: text/plain' --data-binary 'over tls' -w ' %{http_code}' "$URL/api/echo")"

curl -s -m 5 -o /dev/null "$URL/api/hello"
rc=$?
check "tls: curl without the CA refuses the certificate (rc $rc)" test "$rc" -eq 60

# TLS 1.1: refused by gwd ...
echo | timeout 10 gnutls-cli --x509cafile cert.pem --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.1' \
	-p "$PORT" 127.0.0.1 >tls11.out 2>&1
rc=$?
if [[ $rc -ne 0 ]] && ! grep -q 'Handshake was completed' tls11.out; then
	ok "tls: a TLS 1.1 handshake is refused"
else
	not_ok "tls: a TLS 1.1 handshake is refused (rc $rc: $(grep -m1 -iE 'handshake|version' tls11.out))"
fi
# ... while the same client completes it with a server that allows it.
SPORT=$(free_port)
gnutls-serv --http --x509certfile cert.pem --x509keyfile key.pem -p "$SPORT" \
	--priority 'NORMAL:+VERS-TLS1.1' >gnutls-serv.log 2>&1 &
T_PIDS+=("$!")
for _ in $(seq 100); do
	curl -s -o /dev/null -m 1 --cacert cert.pem "https://127.0.0.1:$SPORT/" && break
	sleep 0.05
done
echo | timeout 10 gnutls-cli --x509cafile cert.pem --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.1' \
	-p "$SPORT" 127.0.0.1 >tls11-control.out 2>&1
check "tls: control: gnutls-cli does complete TLS 1.1 where it is allowed" \
	grep -q 'Handshake was completed' tls11-control.out

# Plain HTTP to the TLS port: no HTTP response comes back.
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/hello")
expect_eq "tls: plain HTTP to the TLS port gets no HTTP response" 000 "$code"

# And gwd serves on after all that.
expect_eq "tls: https still served" 200 "$(curl -s -m 5 --cacert cert.pem -o /dev/null -w '%{http_code}' "$URL/api/hello")"
check "tls: gwd still running" kill -0 "$GWD_PID"

t_exit
