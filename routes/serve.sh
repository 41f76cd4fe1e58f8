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

source routes/lib.sh

"$GWC" compile routes/gateway.yaml -o var/gateway.gwb || exit 1

start_demo_upstream var "$UPSTREAM_LISTEN" || exit 1

# a WebSocket echo service for examples/websocket.yaml (docs/websocket.md)
if /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	/usr/bin/python3 tests/integration/ws_peer.py server 8082 &
	pids+=($!)
fi

echo "serve: http://$LISTEN (Ctrl-C stops; kill -HUP the gwd pid to reload var/gateway.gwb)" >&2
"$GWD" --blob var/gateway.gwb --listen "$LISTEN" --db var/gwd.db --access-log - &
pids+=($!)
wait_any_then_stop
