#!/usr/bin/env bash
# Streaming through the proxy against a real upstream process on loopback
# (tests/integration/stream_upstream.py) and raw-socket clients
# (stream_client.py): chunked answers, server-sent events as they happen,
# a 2 GiB body in bounded memory, a 200 MB chunked upload, a slow reader,
# and the failures: an upstream that stalls, dies or breaks its chunking
# mid-body, a client that hangs up mid-download or mid-upload.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
DIR=$GW_ROOT/tests/integration
BIG=${GW_STREAM_BIG:-2147483648}
RSS_MAX=${GW_STREAM_RSS_MAX:-8192} # kB; the sanitizer build's quarantine holds freed memory

S=$(free_port)
$PY "$DIR/stream_upstream.py" "$S" --lifetime 200 & T_PIDS+=($!)
sed -e "s/@S@/$S/g" "$GW_ROOT/tests/corpus/stream/routes.yaml" >"$T_TMP/routes.yaml"
"$GWC" compile "$T_TMP/routes.yaml" -o "$T_TMP/s.gwb" || { not_ok "stream: compile"; t_exit; }
wait_http "http://127.0.0.1:$S/health" 10 || { not_ok "stream: upstream starts"; t_exit; }
start_gwd "$T_TMP/s.gwb" --access-log "$T_TMP/access.log" || { not_ok "stream: gwd starts"; t_exit; }
G=http://127.0.0.1:$PORT
client() { $PY "$DIR/stream_client.py" "$@"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$GWD_PID/status"; }
aborted() { # SIDE [UPSTREAM]
	curl -s "$G/metrics" | awk -v s="$1" -v u="${2:-s}" -F' ' 'index($1, "gateway_upstream_aborted_total{upstream=\"" u "\"") && index($1, "side=\"" s "\"") {print $2}'
}
sum_of() { $PY -c "
import hashlib,sys; sys.path.insert(0,'$DIR'); from stream_upstream import pattern
n=int(sys.argv[1]); h=hashlib.sha256(); o=0
while o<n: d=pattern(o,min(1<<24,n-o)); h.update(d); o+=len(d)
print(h.hexdigest())" "$1"; }

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

# -- server-sent events: each as it is sent
client sse "$PORT" "/s/sse?n=20&ms=100" >"$T_TMP/sse"
read -r n fast worst med < <($PY -c '
import sys, statistics
v = [float(x) for x in open(sys.argv[1])]
print(len(v), sum(1 for x in v if x <= 20), max(v or [0]), statistics.median(v or [0]))' "$T_TMP/sse")
echo "# SSE latency through gwd: $n events, median ${med} ms, worst ${worst} ms, $fast within 20 ms"
expect_eq "stream: all 20 events arrive" 20 "$n"
# each within 20 ms on loopback; a loaded shared box may delay a few
check "stream: at least 18 of 20 events within 20 ms, none over 250 ms" \
	$PY -c "import sys; sys.exit(not ($fast >= 18 and $worst <= 250))"

# -- a 2 GiB body: byte count and checksum, gwd's memory sampled
rss0=$(rss_kb)
sum_of "$BIG" >"$T_TMP/want" &
spid=$!
client get "$PORT" "/s/bytes?n=$BIG" >"$T_TMP/big" &
cpid=$!
peak=$rss0
while kill -0 $cpid 2>/dev/null; do
	r=$(rss_kb); ((r > peak)) && peak=$r
	sleep 0.2
done
wait $cpid $spid
read -r st n got complete <"$T_TMP/big"
want=$(cat "$T_TMP/want")
expect_eq "stream: $BIG bytes pass with the right checksum" "200 $BIG $want 1" "$st $n $got $complete"
echo "# RSS during the $BIG-byte download: $rss0 kB before, $peak kB at most"
check "stream: gwd's RSS grows less than $RSS_MAX kB over the download" test $((peak - rss0)) -lt "$RSS_MAX"

# -- a slow reader: 12 MB read at 4 MB/s; the upstream is held back, not buffered
rss0=$(rss_kb)
client get "$PORT" "/s/bytes?n=12000000" 4000000 >"$T_TMP/slow" &
cpid=$!
peak=$rss0
while kill -0 $cpid 2>/dev/null; do
	r=$(rss_kb); ((r > peak)) && peak=$r
	sleep 0.1
done
wait $cpid
read -r st n got complete <"$T_TMP/slow"
expect_eq "stream: a slow reader gets the whole body" "200 12000000 $(sum_of 12000000) 1" "$st $n $got $complete"
check "stream: and gwd buffers less than $RSS_MAX kB of it" test $((peak - rss0)) -lt "$RSS_MAX"

# -- failures mid-body: the client can tell
a0=$(aborted upstream)
read -r st n _ complete < <(client get "$PORT" "/s/die?n=1000000&after=300000")
expect_eq "stream: upstream dies mid-body (Content-Length): cut before the length" "200 300000 0" "$st $n $complete"
read -r st n _ complete < <(client get "$PORT" "/s/die?n=1000000&after=300000&chunked=1")
expect_eq "stream: upstream dies mid-body (chunked): no final chunk" "200 300000 0" "$st $n $complete"
t0=$(date +%s%N)
read -r st n _ complete < <(client get "$PORT" "/q/stall?n=1000000&after=200000")
t1=$(date +%s%N)
expect_eq "stream: upstream stalls mid-body: cut at the idle timeout" "200 200000 0" "$st $n $complete"
check "stream: (after the 1 s timeout, not before)" test $(((t1 - t0) / 1000000)) -ge 1000
read -r st n _ complete < <(client get "$PORT" "/s/badchunk?after=1000")
expect_eq "stream: malformed chunk size mid-body: cut" "200 1000 0" "$st $n $complete"
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/s/badchunk")
expect_eq "stream: malformed chunking with the head: 502" 502 "$code"
expect_eq "stream: the cuts are counted (gateway_upstream_aborted_total side=upstream)" 4 \
	$(($(aborted upstream) - a0 + $(aborted upstream quick)))
check "stream: and logged" grep -q "response cut" "$T_TMP/gwd.err"

# -- the client hangs up mid-download: the upstream exchange ends at once
c0=$(aborted client)
t=$(client hangup "$PORT" "/s/endless?size=16384" 1000000)
sleep 0.5
gone=$(curl -s "http://127.0.0.1:$S/gone")
ms=$($PY -c 'import json,sys; g=json.loads(sys.argv[1]); print(int((g[-1]-float(sys.argv[2]))*1000) if g else 99999)' "$gone" "$t")
echo "# upstream connection closed ${ms} ms after the client hung up"
check "stream: client hangs up mid-download: the upstream connection is closed within 100 ms" test "$ms" -lt 100
expect_eq "stream: counted on the client side" 1 $(($(aborted client) - c0))

# -- request bodies stream: a 200 MB chunked upload, checksummed upstream
rss0=$(rss_kb)
read -r st body < <(client upload "$PORT" /s/upload 200000000)
expect_eq "stream: a 200 MB chunked upload arrives whole (checksum upstream)" \
	"200 {\"bytes\": 200000000, \"sha256\": \"$(sum_of 200000000)\"}" "$st $body"
check "stream: and gwd's RSS grows less than $RSS_MAX kB for it" test $(($(rss_kb) - rss0)) -lt "$RSS_MAX"
head -c 3000000 /dev/urandom >"$T_TMP/3m"
out=$(curl -s -X POST --data-binary @"$T_TMP/3m" "$G/s/upload")
expect_eq "stream: a 3 MB upload with Content-Length arrives whole" \
	"{\"bytes\": 3000000, \"sha256\": \"$(sha256sum <"$T_TMP/3m" | cut -d' ' -f1)\"}" "$out"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T_TMP/3m" "$G/small/upload")
expect_eq "stream: a declared Content-Length over the limit: 413" 413 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$T_TMP/3m" "$G/small/upload")
expect_eq "stream: a chunked body crossing the limit: 413" 413 "$code"

# -- the client hangs up mid-upload: the exchange is aborted at once, and the
# upstream's connection closed (it sees the end once it has read what was sent)
c0=$(aborted client)
t=$(client upload "$PORT" "/s/slowread?ms=1" 50000000 3000000)
# the request's end in the access log (its start plus its duration): the
# engine aborts the exchange as the request ends.  The log is flushed once a
# second: wait for the line (the time measured is the logged one, not this wait)
for _ in $(seq 50); do
	ms=$($PY - "$T_TMP/access.log" "$t" <<'PY'
import json, sys, datetime
t = float(sys.argv[2])
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["path"].startswith("/s/slowread"):
        start = datetime.datetime.strptime(d["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        print(int((start + d["duration_us"] / 1e6 - t) * 1000))
PY
)
	[[ -n $ms ]] && break
	sleep 0.1
done
echo "# upload exchange ended ${ms} ms after the client hung up (access log)"
expect_eq "stream: counted on the client side" 1 $(($(aborted client) - c0))
check "stream: client hangs up mid-upload: exchange aborted within 100 ms" test "$ms" -lt 100
for _ in $(seq 100); do [[ $(curl -s "http://127.0.0.1:$S/gone") != "[]" ]] && break; sleep 0.05; done
check "stream: and the upstream connection is closed, not kept" \
	test "$(curl -s "http://127.0.0.1:$S/gone")" != "[]"

# -- still serving, and a clean stop
expect_eq "stream: gwd still answers after all that" "aaa" "$(curl -s "$G/s/chunked?n=1&size=3")"
# -- a reload leaves a running stream on its generation until it ends
client sse "$PORT" "/s/sse?n=10&ms=100" >"$T_TMP/sse1" &
cpid=$!
for _ in $(seq 100); do [[ -s $T_TMP/sse1 ]] && break; sleep 0.02; done
sed -e 's/timeout: 10s/timeout: 9s/' "$T_TMP/routes.yaml" >"$T_TMP/routes2.yaml"
"$GWC" compile "$T_TMP/routes2.yaml" -o "$T_TMP/s.gwb"
kill -HUP "$GWD_PID"
wait $cpid
expect_eq "stream: a stream running across a reload ends whole" 10 "$(wc -l <"$T_TMP/sse1")"
for _ in $(seq 50); do grep -q "reloaded\|reload" "$T_TMP/gwd.err" && break; sleep 0.1; done
check "stream: (the reload happened)" grep -qi "reload" "$T_TMP/gwd.err"

# -- SIGTERM with a stream running: it gets the drain deadline and ends whole
client sse "$PORT" "/s/sse?n=10&ms=100" >"$T_TMP/sse2" &
cpid=$!
for _ in $(seq 100); do [[ -s $T_TMP/sse2 ]] && break; sleep 0.02; done
kill -TERM "$GWD_PID"
wait $cpid
wait "$GWD_PID"; rc=$?
expect_eq "stream: a stream running at SIGTERM ends whole within the drain" 10 "$(wc -l <"$T_TMP/sse2")"
expect_eq "stream: gwd stops cleanly" 0 "$rc"
t_exit
