#!/usr/bin/env bash
# What `make cluster` runs: a local three-instance cluster to try things on.
# A redis-server (append-only file on) on 127.0.0.1:6390 with its data under
# var/cluster/, the demo upstream on 127.0.0.1:8081, three gwd instances
# serving routes/gateway.yaml with --store on 127.0.0.1:8091..8093, and
# HAProxy in TCP mode balancing them on http://127.0.0.1:8080.  Create
# accounts with `bin/gwd users add NAME --store redis://127.0.0.1:6390`.
# Ctrl-C (or SIGTERM) stops everything this script started, and nothing else.
set -uo pipefail
cd "$(dirname "$0")/.."

GWC=${GWC:-bin/gwc}
GWD=${GWD:-bin/gwd}
RPORT=${GW_REDIS_PORT:-6390}
STORE=redis://127.0.0.1:$RPORT
DATA=var/cluster
mkdir -p "$DATA"
for b in redis-server haproxy; do
	command -v "$b" >/dev/null || { echo "cluster: $b is missing (make deps-test installs it)" >&2; exit 1; }
done

source routes/lib.sh

"$GWC" compile routes/gateway.yaml -o "$DATA/gateway.gwb" || exit 1
redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$DATA" --save '' --appendonly yes \
	--appendfsync always --logfile "$PWD/$DATA/redis.log" &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
start_demo_upstream "$DATA" 127.0.0.1:8081 || exit 1
for i in 1 2 3; do
	"$GWD" --blob "$DATA/gateway.gwb" --listen "127.0.0.1:809$i" --store "$STORE" \
		--threads 2 --access-log "$DATA/access-$i.log" &
	pids+=($!)
done
cat >"$DATA/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch
frontend gw
  bind 127.0.0.1:8080
  default_backend gwd
backend gwd
  balance roundrobin
  server g1 127.0.0.1:8091 check inter 500
  server g2 127.0.0.1:8092 check inter 500
  server g3 127.0.0.1:8093 check inter 500
CFG
haproxy -f "$DATA/haproxy.cfg" -db &
pids+=($!)
echo "cluster: http://127.0.0.1:8080 -> gwd on :8091 :8092 :8093, store $STORE (Ctrl-C stops)" >&2
wait_any_then_stop
