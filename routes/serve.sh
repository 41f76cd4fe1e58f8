#!/usr/bin/env bash
# What `make run` runs once the binaries are built: compile the default route
# set, start the demo upstream the proxied routes need (a second gwd serving
# examples/upstream.yaml on 127.0.0.1:8081) and a WebSocket echo service on
# 127.0.0.1:8082 (examples/websocket.yaml), then serve routes/gateway.yaml on
# http://127.0.0.1:8080 with the SQLite database under var/.
# Ctrl-C (or SIGTERM) stops everything this script started, and nothing else.
set -uo pipefail
cd "$(dirname "$0")/.."

GWC=${GWC:-bin/gwc}
GWD=${GWD:-bin/gwd}
LISTEN=${GW_LISTEN:-127.0.0.1:8080}
UPSTREAM_LISTEN=127.0.0.1:8081
mkdir -p var

pids=()
stop() {
	local p
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

"$GWC" compile routes/gateway.yaml -o var/gateway.gwb || exit 1

if [[ -f examples/upstream.yaml ]]; then
	"$GWC" compile examples/upstream.yaml -o var/upstream.gwb || exit 1
	# the demo upstream: its own database and threads, no access log
	"$GWD" --blob var/upstream.gwb --listen "$UPSTREAM_LISTEN" --threads 1 \
		--db var/upstream.db &
	pids+=($!)
else
	echo "serve: examples/upstream.yaml is not there: no demo upstream on $UPSTREAM_LISTEN;" \
		"the proxied routes (/api/users/{id}, /api/items) will answer 502/503" >&2
fi

# a WebSocket echo service for examples/websocket.yaml (docs/websocket.md)
if /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	/usr/bin/python3 tests/integration/ws_peer.py server 8082 &
	pids+=($!)
fi

echo "serve: http://$LISTEN (Ctrl-C stops; kill -HUP the gwd pid to reload var/gateway.gwb)" >&2
"$GWD" --blob var/gateway.gwb --listen "$LISTEN" --db var/gwd.db --access-log - &
pids+=($!)
# wait for whichever ends first; a signal interrupts the wait and runs stop
wait -n "${pids[@]}"
rc=$?
stop
exit "$rc"
