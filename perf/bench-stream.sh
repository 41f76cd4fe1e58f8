#!/usr/bin/env bash
# Streaming through the proxy, side by side with nginx's proxy_pass on the
# same upstream, on loopback:
#   download  a 100 MB static file (nginx serves it as the upstream) read by
#             curl through gwd and through nginx, alternating, ROUNDS times:
#             MB/s and the proxy's own CPU per MB (from /proc, every thread
#             or worker)
#   sse       20 events 100 ms apart (tests/integration/stream_upstream.py)
#             through each: median and worst event latency
#   fanout    100 concurrent downloads of the 100 MB file by curl clients
#             reading 2 MB/s each (--limit-rate), for FANOUT_S seconds: gwd's
#             RSS before and at most during, and the growth per stream
#   big       one 2 GiB download through gwd: RSS before and at most
#
#   perf/bench-stream.sh [download|sse|fanout|big|all]   env: ROUNDS (5), FANOUT_S (15)
# Only 127.0.0.1 is ever a target; every server started here is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-all}
ROUNDS=${ROUNDS:-5}
FANOUT_S=${FANOUT_S:-15}
DIR=$(mktemp -d /tmp/gwstream.XXXXXX)
chmod 755 "$DIR" # nginx workers read the file as their own user
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[[ -f $DIR/nginx.pid ]] && kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true
	[[ -f $DIR/nginx-up.pid ]] && kill "$(cat "$DIR/nginx-up.pid")" 2>/dev/null || true
	sleep 0.3
	rm -rf "$DIR"
}
trap cleanup EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done; echo "bench: $1 did not come up" >&2; exit 1; }
cpu_ticks() { # PID...: utime+stime of every thread, in clock ticks
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)

GW=$(port) NG=$(port) ST=$(port) SU=$(port)
head -c 100000000 /dev/urandom >"$DIR/file100m"
cat >"$DIR/nginx-up.conf" <<EOF
worker_processes 1;
pid $DIR/nginx-up.pid;
error_log $DIR/nginx-up-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server {   # the upstream: a static file
        listen 127.0.0.1:$ST;
        root $DIR;
    }
}
EOF
cat >"$DIR/nginx.conf" <<EOF
worker_processes 2;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    upstream st { server 127.0.0.1:$ST; keepalive 64; }
    upstream su { server 127.0.0.1:$SU; keepalive 64; }
    server {   # the proxy under test, beside gwd
        listen 127.0.0.1:$NG;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        # bounded buffers, no spooling to disk: the like of gwd's streaming
        location /f/ { proxy_pass http://st/; proxy_max_temp_file_size 0; }
        location /s/ { proxy_pass http://su/; proxy_buffering off; }
    }
}
EOF
nginx -c "$DIR/nginx-up.conf" -e "$DIR/nginx-up-error.log" -g "daemon on;"
nginx -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" -g "daemon on;"
python3 tests/integration/stream_upstream.py "$SU" --lifetime 900 &
PIDS+=($!)
cat >"$DIR/gw.yaml" <<EOF
version: 1
upstreams:
  st: { targets: [ { address: 127.0.0.1:$ST } ] }
  su: { targets: [ { address: 127.0.0.1:$SU } ], timeout: 30s }
routes:
  - path: /f/*
    methods: [GET]
    proxy: { upstream: st, rewrite: "/\${path.*}" }
  - path: /s/*
    methods: [GET]
    proxy: { upstream: su, rewrite: "/\${path.*}" }
EOF
bin/gwc compile "$DIR/gw.yaml" -o "$DIR/gw.gwb"
bin/gwd --blob "$DIR/gw.gwb" --listen "127.0.0.1:$GW" --threads 2 --db "$DIR/gwd.db" 2>"$DIR/gwd.err" &
GWD_PID=$!
PIDS+=($GWD_PID)
wait_up "http://127.0.0.1:$GW/f/file100m"
wait_up "http://127.0.0.1:$NG/f/file100m"
NGX_WORKERS=$(pgrep -P "$(cat "$DIR/nginx.pid")" | tr '\n' ' ')
echo "# machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (shared: other builds and tests run beside)"

if [[ $MODE == download || $MODE == all ]]; then
	echo "# 100 MB download (the upstream: a separate nginx serving the file), MB/s and the proxy's CPU ms per MB"
	for r in $(seq "$ROUNDS"); do
		for who in gwd nginx; do
			if [[ $who == gwd ]]; then url=http://127.0.0.1:$GW/f/file100m; pids=$GWD_PID
			else url=http://127.0.0.1:$NG/f/file100m; pids=$NGX_WORKERS; fi
			c0=$(cpu_ticks $pids)
			bps=$(curl -s -o /dev/null -w '%{speed_download}' "$url")
			c1=$(cpu_ticks $pids)
			python3 -c "import sys; b=float(sys.argv[1]); print('round %s %-5s %7.1f MB/s  %.2f ms CPU/MB' % (sys.argv[2], sys.argv[3], b/1e6, (int(sys.argv[5])-int(sys.argv[4]))*1000/int(sys.argv[6])/100))" \
				"$bps" "$r" "$who" "$c0" "$c1" "$HZ"
		done
	done
fi

if [[ $MODE == sse || $MODE == all ]]; then
	for who in gwd nginx; do
		p=$GW; [[ $who == nginx ]] && p=$NG
		python3 tests/integration/stream_client.py sse "$p" "/s/sse?n=20&ms=100" |
			python3 -c "import sys,statistics; v=[float(x) for x in sys.stdin]; print('sse %-5s events %d  median %.3f ms  worst %.3f ms' % (sys.argv[1], len(v), statistics.median(v), max(v)))" "$who"
	done
fi

if [[ $MODE == fanout || $MODE == all ]]; then
	rss0=$(rss_kb "$GWD_PID")
	cpids=()
	for _ in $(seq 100); do
		curl -s -o /dev/null --limit-rate 2M --max-time "$FANOUT_S" "http://127.0.0.1:$GW/f/file100m" &
		cpids+=($!)
	done
	peak=$rss0 conns=0 sent=0
	end=$((SECONDS + FANOUT_S))
	while ((SECONDS < end)); do
		r=$(rss_kb "$GWD_PID"); ((r > peak)) && peak=$r
		c=$(ss -Htn state established "( sport = :$GW )" | wc -l); ((c > conns)) && conns=$c
		b=$(ss -Htni "( sport = :$GW )" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^bytes_acked:/) {split($i, a, ":"); s += a[2]}} END {print s + 0}')
		((b > sent)) && sent=$b
		sleep 0.5
	done
	wait "${cpids[@]}" 2>/dev/null || true
	echo "fanout: 100 streams at 2 MB/s each for ${FANOUT_S}s ($conns client connections at most, ${sent:-0} bytes acked at most): gwd RSS $rss0 kB before, $peak kB at most: $(((peak - rss0) / (conns > 0 ? conns : 1))) kB per concurrent stream"
fi

if [[ $MODE == big || $MODE == all ]]; then
	rss0=$(rss_kb "$GWD_PID")
	python3 tests/integration/stream_client.py get "$GW" "/s/bytes?n=2147483648" >"$DIR/big" &
	cp=$!
	peak=$rss0
	while kill -0 $cp 2>/dev/null; do
		r=$(rss_kb "$GWD_PID"); ((r > peak)) && peak=$r
		sleep 0.2
	done
	echo "big: 2 GiB download ($(cut -d' ' -f1,2,4 "$DIR/big")): gwd RSS $rss0 kB before, $peak kB at most"
fi
