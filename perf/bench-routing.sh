#!/usr/bin/env bash
# The routing benchmark: how compile time, blob size and lookup time grow with
# the number of routes.  Not a test (figures depend on the machine); the
# numbers go to docs/performance.md.
#
#   perf/bench-routing.sh [SIZE...]        default: 1000 10000 100000
#
# For each size N: perf/gen_routes.py writes a realistic route file of N routes
# and 100k request lines drawn from it; `bin/gwc compile` is timed (best wall
# time of 3 runs, and best CPU time, user + system, which moves less when
# other work shares the machine); the blob's size gives bytes per route;
# bin/bench_match times gw_match() per lookup over the shuffled requests
# (median, p99) and counts the allocations made meanwhile.  Prints one table
# row per size and the goals: 100k routes compile in < 1 s, < 100
# bytes/route, median lookup < 200 ns.  Exits 1 when a step fails or a lookup
# allocated.  GWC and BENCH override the binaries (then nothing is built), so
# that two builds can be compared on the same machine at the same time.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${GWC:-}" || -z "${BENCH:-}" ]]; then
	make --no-print-directory bin/gwc bin/bench_match >&2
fi
GWC=${GWC:-bin/gwc}
BENCH=${BENCH:-bin/bench_match}
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(1000 10000 100000)
ROUNDS=${ROUNDS:-5}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gwbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# field KEY LINE: the value of KEY=VALUE in bench_match's output line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

status=0
rows=()
for n in "${SIZES[@]}"; do
	yaml=$tmp/routes-$n.yaml req=$tmp/requests-$n.txt blob=$tmp/routes-$n.gwb
	python3 perf/gen_routes.py "$n" -o "$yaml" --requests "$req" --count 100000
	best= bestcpu=
	for _ in 1 2 3; do
		# bash's `time` on the command alone: wall, then user + system.
		if ! times=$( { TIMEFORMAT='%R %U %S'; time "$GWC" compile "$yaml" -o "$blob" \
				>"$tmp/compile.out" 2>&1; } 2>&1 ); then
			echo "bench-routing: compile of $n routes failed:" >&2
			head -5 "$tmp/compile.out" >&2
			exit 1
		fi
		read -r t u sy <<<"$times"
		cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.3f", u + s }')
		if [[ -z "$best" ]] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$t
		fi
		if [[ -z "$bestcpu" ]] || awk -v a="$cpu" -v b="$bestcpu" 'BEGIN { exit !(a < b) }'; then
			bestcpu=$cpu
		fi
	done
	size=$(stat -c %s "$blob")
	out=$("$BENCH" "$blob" "$req" --rounds "$ROUNDS") || status=1
	rows+=("$(printf '%8s %10s %8s %12s %8s %10s %8s %9s %7s %s' "$n" "$best" "$bestcpu" "$size" \
		$((size / n)) "$(field median_ns "$out")" "$(field p99_ns "$out")" \
		"$(field mean_ns "$out")" "$(field allocs "$out")" \
		"found=$(field found "$out") 404=$(field 404 "$out")")")
done

printf '%8s %10s %8s %12s %8s %10s %8s %9s %7s %s\n' routes compile_s cpu_s blob_bytes B/route \
	median_ns p99_ns mean_ns allocs lookups
printf '%s\n' "${rows[@]}"
echo "goals at 100k routes: compile < 1 s, < 100 bytes/route, median lookup < 200 ns, 0 allocations"
exit $status
