#!/usr/bin/env bash
# `make bench`: every benchmark of gw, one after the other.  Figures are
# printed; docs/performance.md records them with the machine they ran on.
#   perf/bench.sh [routing|ratelimit|http|policies|jwt|proxy|ws|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
run() { echo; echo "=== $1"; shift; "$@"; }
[[ $what == all || $what == routing ]] && [[ -x perf/bench-routing.sh ]] && run routing perf/bench-routing.sh
[[ $what == all || $what == ratelimit ]] && make --no-print-directory bin/bench_ratelimit && run "rate limiter alone" bin/bench_ratelimit
[[ $what == all || $what == http ]] && run "http: gwd vs nginx vs haproxy" perf/bench-http.sh hello
[[ $what == all || $what == policies ]] && run "policies: plain vs rate limit vs session" perf/bench-http.sh policies
[[ $what == all || $what == jwt ]] && run "jwt: plain vs jwt policy (cached)" perf/bench-http.sh jwt
[[ $what == all || $what == jwt ]] && make --no-print-directory bin/bench_jwt && run "jwt: uncached verification per algorithm" bin/bench_jwt
[[ $what == all || $what == proxy ]] && run "proxy: gwd vs nginx proxy_pass" perf/bench-http.sh proxy
[[ $what == all || $what == ws ]] && run "websocket: gwd vs nginx proxy_pass vs direct" perf/bench-ws.sh
exit 0
