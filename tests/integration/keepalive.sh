#!/usr/bin/env bash
# HTTP/1.1 keep-alive holds: two requests travel on one TCP
# connection.  libmicrohttpd 0.9.75 closes the connection when a response is
# queued in the first access-handler call of a request, which is where a
# gateway naturally answers GETs and errors; this script catches a regression
# of gwd's way around it.  Proved twice: by rawreq.py, which sends the second
# request on the same socket only after the first response (a closed socket
# would end it at "200 close"), and by curl -v, which says it reused the
# connection.
source "$(dirname "$0")/lib.sh"

CORPUS=$GW_ROOT/tests/corpus/http
RAWREQ=$GW_ROOT/tests/integration/rawreq.py

# two_on_one NAME EXPECTED FILE...: send the FILEs one after another on one
# connection; the outcome's status words must be EXPECTED (e.g. "200 200").
two_on_one() {
	local name=$1 want=$2 out
	shift 2
	out=$(python3 "$RAWREQ" --port "$PORT" "$@" 2>&1 </dev/null)
	out=${out%% open}
	expect_eq "keepalive: $name" "$want" "$out"
}

if [[ ! -x $GWC || ! -x $GWD ]]; then
	not_ok "keepalive: bin/gwc and bin/gwd are built"
	t_exit
fi
if ! "$GWC" compile "$CORPUS/routes.yaml" -o "$T_TMP/ka.gwb" 2>"$T_TMP/gwc.err"; then
	not_ok "keepalive: gwc compiles the routes: $(head -c 300 "$T_TMP/gwc.err")"
	t_exit
fi
if ! start_gwd "$T_TMP/ka.gwb" --access-log "$T_TMP/access.log"; then
	not_ok "keepalive: gwd starts: $(tail -c 300 "$T_TMP/gwd.err")"
	t_exit
fi

get=$CORPUS/ok-get.req
two_on_one "GET then GET on one connection" "200 200" "$get" "$get"
two_on_one "POST /api/echo then GET on one connection" "200 200" "$CORPUS/ok-post-echo.req" "$get"
two_on_one "two HEADs on one connection" "200 200" --head "$CORPUS/ok-head.req" "$CORPUS/ok-head.req"
two_on_one "404 then GET on one connection" "404 200" "$CORPUS/ok-not-found.req" "$get"
two_on_one "405 then GET on one connection" "405 200" "$CORPUS/ok-method-not-allowed.req" "$get"
two_on_one "chunked POST then GET on one connection" "200 200" "$CORPUS/ok-chunked-echo.req" "$get"
two_on_one "five GETs on one connection" "200 200 200 200 200" "$get" "$get" "$get" "$get" "$get"

# Pipelined: both requests in one write; both answered, in order.
cat "$get" "$CORPUS/ok-not-found.req" >"$T_TMP/pipelined.req"
out=$(python3 "$RAWREQ" --port "$PORT" --wait-close --close-wait 0.5 "$T_TMP/pipelined.req" 2>&1 </dev/null)
expect_eq "keepalive: two pipelined requests, two responses in order" "200 404 open" "$out"

# The first response does not announce a close.
hdrs=$(python3 "$RAWREQ" --port "$PORT" --print-headers "$get" 2>&1 </dev/null)
if grep -qi '^connection: *close' <<<"$hdrs"; then
	not_ok "keepalive: no Connection: close on a keep-alive response ($(tr '\n' ' ' <<<"$hdrs"))"
else
	ok "keepalive: no Connection: close on a keep-alive response"
fi

# curl, as a client would see it: the second URL reuses the connection.
url=http://127.0.0.1:$PORT/api/hello
curl -sv -m 5 -o /dev/null -o /dev/null -w '%{http_code}\n' "$url" "$url?name=again" \
	>"$T_TMP/curl.out" 2>"$T_TMP/curl.err"
expect_eq "keepalive: curl gets 200 twice" "200 200" "$(tr '\n' ' ' <"$T_TMP/curl.out" | sed 's/ $//')"
check "keepalive: curl -v says Re-using existing connection" \
	grep -q 'Re-using existing connection' "$T_TMP/curl.err"
expect_eq "keepalive: curl opened one connection" 1 "$(grep -c '^\* Connected to' "$T_TMP/curl.err")"

t_exit
