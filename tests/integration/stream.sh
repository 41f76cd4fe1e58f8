#!/usr/bin/env bash
# Streaming through the proxy against a real upstream process on loopback
# (tests/integration/stream_upstream.py) and raw-socket clients
# (stream_client.py): chunked answers, HTTP/1.0 clients, server-sent events as
# they happen, a 2 GiB body in bounded memory, uploads of any size on a route
# of `body_limit: none` (and 413 elsewhere), a slow reader across a reload,
# and the failures: an upstream that stalls, dies or breaks its framing
# (chunking, Content-Length with Transfer-Encoding, a head too large or never
# ended), retries, a client that hangs up mid-download or mid-upload, and
# SIGTERM with streams running.  Independent cases overlap (the SIGTERM drain
# runs on a second gwd meanwhile); nothing sleeps for a fixed time to pass.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
DIR=$GW_ROOT/tests/integration
BIG=${GW_STREAM_BIG:-2147483648}
UPLOAD=${GW_STREAM_UPLOAD:-200000000}
RSS_MAX=${GW_STREAM_RSS_MAX:-8192} # kB; the sanitizer build's quarantine holds freed memory

S=$(free_port)
S2=$(free_port)
$PY "$DIR/stream_upstream.py" "$S" --port2 "$S2" --lifetime 200 & T_PIDS+=($!)
sed -e "s/@S@/$S/g; s/@S2@/$S2/g" "$GW_ROOT/tests/corpus/stream/routes.yaml" >"$T_TMP/routes.yaml"
"$GWC" compile "$T_TMP/routes.yaml" -o "$T_TMP/s.gwb" || { not_ok "stream: compile"; t_exit; }
wait_http "http://127.0.0.1:$S/health" 10 || { not_ok "stream: upstream starts"; t_exit; }
wait_http "http://127.0.0.1:$S2/health" 10 || { not_ok "stream: upstream's 2nd port"; t_exit; }
start_gwd "$T_TMP/s.gwb" --access-log "$T_TMP/access.log" || { not_ok "stream: gwd starts"; t_exit; }
G=http://127.0.0.1:$PORT
client() { $PY "$DIR/stream_client.py" "$@"; }
up() { curl -s "http://127.0.0.1:$S/$1"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$GWD_PID/status"; }
aborted() { # SIDE [UPSTREAM]
	curl -s "$G/metrics" | awk -v s="$1" -v u="${2:-s}" -F' ' 'index($1, "gateway_upstream_aborted_total{upstream=\"" u "\"") && index($1, "side=\"" s "\"") {print $2}'
}
sum_of() { (cd "$DIR" && $PY -c 'import sys; from stream_upstream import pattern_sha256 as p; print(p(int(sys.argv[1])))' "$1"); }
crc_of() { (cd "$DIR" && $PY -c 'import sys; from stream_upstream import pattern_crc32 as p; print(p(int(sys.argv[1])))' "$1"); }
# until N: poll CMD... every 50 ms, N times at most; 0 once it succeeds
until_ok() { local n=$1; shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done; return 1; }
# out_is WANT CMD...: CMD prints WANT (run anew at each call: for until_ok)
out_is() { [[ "$("${@:2}")" == "$1" ]]; }
# lap NAME: how long the section NAME took (ms), on stdout as a comment
LAP=$(date +%s%N)
lap() { local now; now=$(date +%s%N); echo "# $1: $(((now - LAP) / 1000000)) ms"; LAP=$now; }
# rss_peak PID FILE: gwd's largest RSS while PID runs, into FILE
rss_peak() {
	local peak r
	peak=$(rss_kb)
	while kill -0 "$1" 2>/dev/null; do
		r=$(rss_kb); ((r > peak)) && peak=$r
		sleep 0.1
	done
	echo "$peak" >"$2"
}

# -- SIGTERM with streams running, on a second gwd while the rest runs: a
# stream that ends within the drain deadline (10 s) ends whole; a longer one
# is cut at it (the client can tell), and gwd exits 0
P2=$(free_port)
"$GWD" --blob "$T_TMP/s.gwb" --listen "127.0.0.1:$P2" --db "$T_TMP/gwd2.db" --threads 2 \
	2>>"$T_TMP/gwd.err" &
G2PID=$!
T_PIDS+=("$G2PID")
wait_http "http://127.0.0.1:$P2/health" 10 || not_ok "stream: a second gwd starts"
client sse "$P2" "/s/sse?n=20&ms=100" >"$T_TMP/term-short" &
tshort=$!
client sse "$P2" "/s/sse?n=300&ms=100" >"$T_TMP/term-long" &
tlong=$!
until_ok 200 test -s "$T_TMP/term-short" -a -s "$T_TMP/term-long"
kill -TERM "$G2PID"
term_t0=$(date +%s%N)

# -- chunked from the upstream: chunked to an HTTP/1.1 client, whole
out=$(curl -s "$G/s/chunked?n=5&size=3")
expect_eq "stream: a small chunked answer passes whole" "aaabbbcccdddeee" "$out"
out=$(curl -s -D "$T_TMP/h" "$G/s/chunked?n=300&size=1000" | wc -c)
expect_eq "stream: a large chunked answer passes whole" 300000 "$out"
check "stream: and goes chunked to an HTTP/1.1 client" grep -qi '^transfer-encoding: chunked' "$T_TMP/h"
out=$(curl -s -0 -D "$T_TMP/h" "$G/s/chunked?n=200&size=1000" | wc -c)
expect_eq "stream: an HTTP/1.0 client gets it close-delimited" 200000 "$out"
check "stream: (no chunked framing for HTTP/1.0)" bash -c "! grep -qi '^transfer-encoding' '$T_TMP/h'"
curl -s -D "$T_TMP/h" -o /dev/null "$G/s/bytes?n=3000000"
check "stream: the upstream's Content-Length passes on" grep -qi '^content-length: 3000000' "$T_TMP/h"

lap "start, chunked"
# -- server-sent events: each as it is sent.  Each within 20 ms on loopback;
# a loaded shared box may delay a few, so a second run may make up for a
# first one it disturbed (held-back events would fail both: seconds late)
for try in 1 2; do
	client sse "$PORT" "/s/sse?n=20&ms=100" >"$T_TMP/sse"
	read -r n fast worst med < <($PY -c '
import sys, statistics
v = [float(x) for x in open(sys.argv[1]) if not x.startswith("complete")]
print(len(v), sum(1 for x in v if x <= 20), max(v or [0]), statistics.median(v or [0]))' "$T_TMP/sse")
	echo "# SSE latency through gwd (run $try): $n events, median ${med} ms, worst ${worst} ms, $fast within 20 ms"
	$PY -c "import sys; sys.exit(not ($n == 20 and $fast >= 18 and $worst <= 250))" && break
done
expect_eq "stream: all 20 events arrive" 20 "$n"
check "stream: at least 18 of 20 events within 20 ms, none over 250 ms" \
	$PY -c "import sys; sys.exit(not ($fast >= 18 and $worst <= 250))"

lap "SSE"
# -- a 2 GiB body: byte count and checksum, gwd's memory sampled
rss0=$(rss_kb)
crc_of "$BIG" >"$T_TMP/want" &
spid=$!
t0=$(date +%s%N)
client get "$PORT" "/s/bytes?n=$BIG" >"$T_TMP/big" &
cpid=$!
rss_peak $cpid "$T_TMP/peak"
wait $cpid $spid
t1=$(date +%s%N)
read -r st n got complete <"$T_TMP/big"
want=$(cat "$T_TMP/want")
expect_eq "stream: $BIG bytes pass with the right checksum" "200 $BIG $want 1" "$st $n $got $complete"
echo "# RSS during the $BIG-byte download ($(((t1 - t0) / 1000000)) ms): $rss0 kB before, $(cat "$T_TMP/peak") kB at most"
check "stream: gwd's RSS grows less than $RSS_MAX kB over the download" test $(($(cat "$T_TMP/peak") - rss0)) -lt "$RSS_MAX"

lap "big download"
# -- a slow reader (12 MB at 4 MB/s: the upstream is held back, not buffered)
# across a reload that removes its route: it stays on its generation and ends
# whole.  It reads on while the failures below run.
rss0=$(rss_kb)
client get "$PORT" "/slow/bytes?n=12000000&tag=slow" 4000000 >"$T_TMP/slow" &
cpid=$!
rss_peak $cpid "$T_TMP/peak" &
ppid=$!
sed -e 's|path: /slow/\*|path: /slow2/*|' "$T_TMP/routes.yaml" >"$T_TMP/routes2.yaml"
"$GWC" compile "$T_TMP/routes2.yaml" -o "$T_TMP/s.gwb"
until_ok 100 out_is 1 up 'hits?tag=slow' # the stream has begun
kill -HUP "$GWD_PID"
t0=$(date +%s%N)
codes() { curl -s -o /dev/null -w '%{http_code} ' "$G/slow/health"; curl -s -o /dev/null -w '%{http_code} ' "$G/slow2/health"; }
check "stream: the reload moves the slow reader's route (/slow/ 404, /slow2/ 200)" \
	until_ok 200 out_is "404 200 " codes
alive=$(kill -0 $cpid 2>/dev/null && echo 1 || echo 0)
echo "# the new generation answered $((($(date +%s%N) - t0) / 1000000)) ms after SIGHUP"
expect_eq "stream: (the slow reader was still running then)" 1 "$alive"

lap "slow reader started, reload"
# -- failures: the client can tell.  The slow ones (a stall, a head that
# never ends: each waits for the quick upstream's 1 s timeout) run alongside.
a0=$(aborted upstream)
t0=$(date +%s%N)
client get "$PORT" "/q/stall?n=1000000&after=200000" >"$T_TMP/stall" &
stpid=$!
curl -s -o /dev/null -w '%{http_code} %{time_total}' "$G/q/nohead?tag=nohead" >"$T_TMP/nohead" &
nhpid=$!
read -r st n _ complete < <(client get "$PORT" "/s/die?n=1000000&after=300000")
expect_eq "stream: upstream dies mid-body (Content-Length): cut before the length" "200 300000 0" "$st $n $complete"
read -r st n _ complete < <(client get "$PORT" "/s/die?n=1000000&after=300000&chunked=1")
expect_eq "stream: upstream dies mid-body (chunked): no final chunk" "200 300000 0" "$st $n $complete"
read -r st n _ complete < <(client get "$PORT" "/s/badchunk?after=1000")
expect_eq "stream: malformed chunk size mid-body: cut" "200 1000 0" "$st $n $complete"
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/s/badchunk")
expect_eq "stream: malformed chunking with the head: 502" 502 "$code"
code=$(curl -s -o "$T_TMP/clte" -w '%{http_code}' "$G/s/clte?n=1000&tag=clte")
expect_eq "stream: Content-Length and Transfer-Encoding both: 502" 502 "$code"
check "stream: (nothing of that body relayed)" bash -c "! grep -q ccc '$T_TMP/clte'"
check "stream: and that upstream connection is discarded" until_ok 100 out_is 1 up 'closed?tag=clte'
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/s/bighead?kb=64&tag=bighead")
expect_eq "stream: a response head over the limit: 502" 502 "$code"
check "stream: and that upstream connection is discarded" until_ok 100 out_is 1 up 'closed?tag=bighead'
wait $stpid $nhpid
t1=$(date +%s%N)
read -r st n _ complete <"$T_TMP/stall"
expect_eq "stream: upstream stalls mid-body: cut at the idle timeout" "200 200000 0" "$st $n $complete"
check "stream: (after the 1 s timeout, not before)" test $(((t1 - t0) / 1000000)) -ge 1000
read -r code secs <"$T_TMP/nohead"
expect_eq "stream: a response head that never ends: 502 at the timeout" 502 "$code"
check "stream: (after the 1 s timeout, within 5 s: no hang)" \
	$PY -c "import sys; sys.exit(not (1.0 <= $secs < 5.0))"
check "stream: and that upstream connection is discarded" until_ok 100 out_is 1 up 'closed?tag=nohead'
expect_eq "stream: the cuts are counted (gateway_upstream_aborted_total side=upstream)" 4 \
	$(($(aborted upstream) - a0 + $(aborted upstream quick)))
check "stream: and logged" grep -q "response cut" "$T_TMP/gwd.err"

lap "failures"
# -- retries: only before the first response byte, never for POST or PATCH
# (upstream "two": two targets, retries 1; /drop reads the request and hangs up)
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/r/drop?tag=get")
n=$(up 'hits?tag=get')
# (2, or 3 when libcurl also sent it again itself on a kept connection found closed)
check "stream: a GET the upstream drops: tried on both targets, then 502 ($code, sent $n times)" \
	test "$code" = 502 -a "$n" -ge 2
for m in POST PATCH; do
	# kept connections to both targets first: libcurl would send a request
	# again by itself on a kept connection found closed
	for _ in 1 2 3 4; do curl -s -o /dev/null "$G/r/health"; done
	code=$(curl -s -o /dev/null -w '%{http_code}' -X $m --data x "$G/r/drop?tag=$m")
	expect_eq "stream: a $m the upstream drops: 502, sent once" "502 1" "$code $(up "hits?tag=$m")"
done
# (the upstream waits before it dies: the head has reached the client by then)
read -r st n _ complete < <(client get "$PORT" "/r/die?n=1000000&after=300000&wait=300&tag=die")
expect_eq "stream: a GET cut after its first bytes reached the client: cut, not sent again" \
	"200 300000 0 1" \
	"$st $n $complete $(up 'hits?tag=die')"

lap "retries"
# -- the client hangs up mid-download: the upstream exchange ends at once
c0=$(aborted client)
t=$(client hangup "$PORT" "/s/endless?size=16384" 1000000)
until_ok 100 bash -c '! [[ $(curl -s "$0") == "[]" ]]' "http://127.0.0.1:$S/gone"
ms=$($PY -c 'import json,sys; g=json.loads(sys.argv[1]); print(int((g[-1]-float(sys.argv[2]))*1000) if g else 99999)' "$(up gone)" "$t")
echo "# upstream connection closed ${ms} ms after the client hung up"
check "stream: client hangs up mid-download: the upstream connection is closed within 100 ms" test "$ms" -lt 100
expect_eq "stream: counted on the client side" 1 $(($(aborted client) - c0))

lap "hang-up mid-download"
wait $cpid $ppid
read -r st n got complete <"$T_TMP/slow"
expect_eq "stream: a slow reader across the reload gets the whole body" "200 12000000 $(crc_of 12000000) 1" "$st $n $got $complete"
check "stream: and gwd buffers less than $RSS_MAX kB of it" test $(($(cat "$T_TMP/peak") - rss0)) -lt "$RSS_MAX"

lap "slow reader ended"
# -- request bodies stream: a 200 MB chunked upload and one with
# Content-Length, checksummed upstream, on a route of body_limit: none
# (the two at once)
rss0=$(rss_kb)
client upload "$PORT" /s/upload "$UPLOAD" >"$T_TMP/up-chunked" &
upid=$!
rss_peak $upid "$T_TMP/peak" &
ppid=$!
want=$(sum_of "$UPLOAD")
out=$(client upload-cl "$PORT" /s/upload "$UPLOAD")
wait $upid $ppid
expect_eq "stream: a $UPLOAD-byte chunked upload arrives whole (body_limit: none)" \
	"200 {\"bytes\": $UPLOAD, \"sha256\": \"$want\"}" "$(cat "$T_TMP/up-chunked")"
expect_eq "stream: a $UPLOAD-byte upload with Content-Length arrives whole (body_limit: none)" \
	"200 {\"bytes\": $UPLOAD, \"sha256\": \"$want\"}" "$out"
check "stream: and gwd's RSS grows less than $RSS_MAX kB for them" \
	test $(($(cat "$T_TMP/peak") - rss0)) -lt "$RSS_MAX"
head -c 3000000 /dev/urandom >"$T_TMP/3m"
out=$(curl -s -X POST --data-binary @"$T_TMP/3m" "$G/s/upload")
expect_eq "stream: a 3 MB upload with Content-Length arrives whole" \
	"{\"bytes\": 3000000, \"sha256\": \"$(sha256sum <"$T_TMP/3m" | cut -d' ' -f1)\"}" "$out"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T_TMP/3m" "$G/small/upload")
expect_eq "stream: a declared Content-Length over the limit: 413" 413 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$T_TMP/3m" "$G/small/upload")
expect_eq "stream: a chunked body crossing the limit: 413" 413 "$code"
out=$(client upload-cl "$PORT" "/small/upload?tag=cl-default" "$UPLOAD")
expect_eq "stream: $UPLOAD bytes declared on a route of the default limit: 413 before the body" \
	"413 0" "${out%% *} $(up 'hits?tag=cl-default')"
out=$(client upload-cl "$PORT" "/l/upload?tag=cl-100m" 210000000)
expect_eq "stream: 210 MB declared on a route of 100MiB: 413 before the body" \
	"413 0" "${out%% *} $(up 'hits?tag=cl-100m')"
out=$(client upload "$PORT" /small/upload "$UPLOAD")
check "stream: $UPLOAD bytes chunked on a route of the default limit: refused ($out)" \
	test "${out%% *}" = 413 -o "$out" = cut

lap "uploads"
# -- the client hangs up mid-upload: the exchange is aborted at once, and the
# upstream (reading as fast as it can, so that no byte queued ahead of the
# close delays it) sees its connection closed
c0=$(aborted client)
n0=$($PY -c 'import json,sys; print(len(json.loads(sys.argv[1])))' "$(up gone)")
t=$(client upload "$PORT" "/s/slowread?ms=0" 50000000 300000)
gone_more() { $PY -c 'import json,sys; sys.exit(len(json.loads(sys.argv[1])) <= int(sys.argv[2]))' "$(up gone)" "$n0"; }
until_ok 100 gone_more
ms=$($PY -c 'import json,sys; g=json.loads(sys.argv[1]); print(int((g[-1]-float(sys.argv[2]))*1000) if len(g) > int(sys.argv[3]) else 99999)' "$(up gone)" "$t" "$n0")
echo "# upstream saw the upload's connection closed ${ms} ms after the client hung up"
check "stream: client hangs up mid-upload: the upstream connection is closed within 100 ms" test "$ms" -lt 100
client_cuts() { echo $(($(aborted client) - c0)); }
until_ok 40 out_is 1 client_cuts
expect_eq "stream: counted on the client side" 1 $(($(aborted client) - c0))

expect_eq "stream: gwd still answers after all that" "aaa" "$(curl -s "$G/s/chunked?n=1&size=3")"

lap "hang-up mid-upload"
# -- the SIGTERM started at the top
wait $tshort $tlong
wait "$G2PID"; rc=$?
term_ms=$((($(date +%s%N) - term_t0) / 1000000))
echo "# second gwd: exit $rc ${term_ms} ms after SIGTERM; the long stream got $(($(wc -l <"$T_TMP/term-long") - 1)) events"
expect_eq "stream: a stream ending within the drain deadline ends whole" "21 complete 1" \
	"$(wc -l <"$T_TMP/term-short") $(tail -n 1 "$T_TMP/term-short")"
expect_eq "stream: a stream running past the drain deadline is cut (no final chunk)" "complete 0" \
	"$(tail -n 1 "$T_TMP/term-long")"
check "stream: (after the 10 s deadline: 80 events at least, not 300)" \
	test "$(wc -l <"$T_TMP/term-long")" -ge 81 -a "$(wc -l <"$T_TMP/term-long")" -lt 301
expect_eq "stream: gwd stops cleanly (exit 0)" 0 "$rc"
lap "SIGTERM (waiting for the drain)"
t_exit
