#!/usr/bin/env bash
# perf/ci_gate.sh: the Locust gate of CI, about a minute in all.
#
# After `make test`, .ci/run calls this: the mixed workload against the
# default routes (MixedWorkloadUser, PublicRouteUser and the health monitor,
# 35 s), then the rate-limit scenario (20 s), each judged against the seed's
# targets by perf/verdict.py.  The log ends with both Locust summaries, both
# verdicts and a "targets: N passed, N failed" line; the exit status is
# non-zero when a target is missed.
#
# The gate starts its own gwd on a free loopback port (with the demo upstream
# on 127.0.0.1:8081, which routes/gateway.yaml names) so that it judges the
# tree under test, not whatever `make run` may be serving on 8080.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export GW_HOST=${GW_HOST:-http://127.0.0.1:$port}
export GW_RUN_TIME_MIXED=${GW_RUN_TIME_MIXED:-35s}
export GW_RUN_TIME_RATELIMIT=${GW_RUN_TIME_RATELIMIT:-20s}
export GW_REPORTS=${GW_REPORTS:-reports/ci}
exec perf/run_load_test.sh mixed ratelimit
