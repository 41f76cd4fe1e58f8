#!/usr/bin/env bash
# The status page in a real browser: gwd serves a route file with a proxy
# route (one upstream target alive, one down) and a rate-limited route; real
# traffic goes through it (200s, a known number of 429s); headless Debian
# chromium, driven by python3-selenium, opens /status and the checks read what
# a person would see there (tests/integration/status_browser.py).  The JSON
# feed is validated against schema/status.schema.json.  Screenshots go to
# $GW_TEST_OUT/status (default build/test-output/status).  STATUS_BROWSER=0:
# the feed's checks only (tests/run.sh's sanitizer pass).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
OUT=${GW_TEST_OUT:-$GW_ROOT/build/test-output}/status
mkdir -p "$OUT"

A=$(free_port); DEAD=$(free_port)
$PY "$GW_ROOT/tests/integration/upstream.py" "$A" alpha --lifetime 120 & T_PIDS+=($!)
cat >"$T_TMP/routes.yaml" <<YAML
version: 1
upstreams:
  app:
    targets:
      - address: 127.0.0.1:$A
      - address: 127.0.0.1:$DEAD
    health_check: { path: /health, interval: 300ms, timeout: 1s, healthy: 1, unhealthy: 2 }
policies:
  # 5 at once, then one an hour: every request past the fifth is a 429
  tight:
    rate_limit: { rate: 1/h, burst: 5, key: ip }
  operators:
    ip: { allow: [127.0.0.1/32] }
routes:
  - path: /health
    methods: [GET]
    health: {}
  - path: /status
    methods: [GET]
    policies: [operators]
    status: {}
  - path: /api/hello
    methods: [GET]
    respond: { status: 200, body: '{"message":"hello"}' }
  - path: /limited
    methods: [GET]
    policies: [tight]
    respond: { status: 200, body: ok }
  - path: /app/*
    methods: [GET]
    proxy: { upstream: app, strip_prefix: /app }
YAML
"$GWC" compile "$T_TMP/routes.yaml" -o "$T_TMP/status.gwb" || { not_ok "status: compile"; t_exit; }
wait_http "http://127.0.0.1:$A/health" 10 || { not_ok "status: upstream starts"; t_exit; }
start_gwd "$T_TMP/status.gwb" || { not_ok "status: gwd starts"; t_exit; }

# the page itself, without a browser: HTML, everything inline
ctype=$(curl -s -o "$T_TMP/page.html" -w '%{content_type}' "http://127.0.0.1:$PORT/status")
expect_eq "status: the page is HTML" "text/html; charset=utf-8" "$ctype"
check "status: the page embeds its chart library and loads nothing from elsewhere" \
	bash -c "grep -q 'Dygraph' '$T_TMP/page.html' && ! grep -Eiq '<(script|link)[^>]+(src|href)=' '$T_TMP/page.html'"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/status?format=json")
expect_eq "status: ?format=json answers the feed" "application/json" "$ctype"

$PY "$GW_ROOT/tests/integration/status_browser.py" "http://127.0.0.1:$PORT" \
	"$GW_ROOT/schema/status.schema.json" "$OUT" "127.0.0.1:$A" "127.0.0.1:$DEAD" ||
	not_ok "status: the browser script ran to its end (exit $?)"
t_exit
