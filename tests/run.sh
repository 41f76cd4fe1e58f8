#!/usr/bin/env bash
# Run every test: the CUnit units (plain, then ASan+UBSan), the style check
# (tests/style/check.sh), then each
# tests/integration/*.sh against the real binaries, then the fuzz harnesses.
# Integration scripts print "ok - NAME" or "not ok - NAME" per check
# (tests/integration/lib.sh; tests/fuzz/run.sh does the same).
# The last line is the summary: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0
failures=()

# count_out LABEL RC OUTPUT: count a unit runner's summary line in OUTPUT
# (its exit status RC).
count_out() {
	local out=$3 rc=$2 p f
	printf '%s\n' "$out" | tail -n 25
	p=$(printf '%s\n' "$out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [[ -z "$p" ]]; then
		failed=$((failed + 1)); failures+=("$1: crashed or printed no summary (rc $rc)")
		return
	fi
	passed=$((passed + p)); failed=$((failed + f))
	[[ $rc -eq 0 || $f -ne 0 ]] || failed=$((failed + 1))
	[[ $rc -eq 0 && $f -eq 0 ]] || failures+=("$1: $f failed (rc $rc)")
}

count_unit() { # $1: label, $2...: the command (a unit runner)
	local out rc
	out=$("${@:2}" 2>&1); rc=$?
	count_out "$1" "$rc" "$out"
}

echo "== unit (plain)"
count_unit unit bin/unit
echo "== unit (ASan+UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	count_unit unit-asan build/asan/bin/unit
# valgrind's memcheck sees what the sanitizers do not (uninitialised reads).
# Most of its time is the password KDF's rounds (kdf, session, login and
# users_cmd suites), so the suites run as two valgrind processes at once, one
# per core: the KDF suites but session, and the rest.  Every suite still runs
# once, whole.  GW_VALGRIND=0 skips it.
if [[ ${GW_VALGRIND:-1} != 0 ]]; then
	echo "== unit (valgrind memcheck, two processes)"
	vg=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite bin/unit)
	kdf=(gwd_kdf gwd_login gwd_users_cmd)
	vgdir=$(mktemp -d)
	"${vg[@]}" "${kdf[@]}" >"$vgdir/a" 2>&1 & vga=$!
	"${vg[@]}" -x "${kdf[@]}" >"$vgdir/b" 2>&1 & vgb=$!
	wait "$vga"; rca=$?
	wait "$vgb"; rcb=$?
	count_out unit-valgrind-kdf "$rca" "$(cat "$vgdir/a")"
	count_out unit-valgrind-rest "$rcb" "$(cat "$vgdir/b")"
	rm -rf "$vgdir"
fi

# run_script LABEL SCRIPT: one integration script, its ok/not ok lines counted.
run_script() {
	local label=$1 t=$2 out rc p f
	echo "== $label"
	out=$(timeout 600 bash "$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | grep -c '^ok - ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok - ')
	passed=$((passed + p)); failed=$((failed + f))
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		failed=$((failed + 1)); failures+=("$label: exit $rc")
	fi
	[[ $f -eq 0 ]] || failures+=("$label: $f failed")
}

run_script "tests/style/check.sh" tests/style/check.sh

for t in tests/integration/*.sh; do
	[[ "$(basename "$t")" == lib.sh ]] && continue
	run_script "$t" "$t"
done

# Once more against the ASan+UBSan builds of gwd and
# gwc: the hostile-input suites (raw requests, proxying and its fault churn,
# sessions, the proxy's hostile cases) and the service manager's protocols.
# lib.sh fails a script on any sanitizer report in gwd's stderr.  One a line.
asan_suites=(
	raw_requests
	proxy
	proxy_churn
	sessions
	proxy_security
	service
	jwt
	upstream_tls
	websocket
)
for n in "${asan_suites[@]}"; do
	t=tests/integration/$n.sh
	GWD=$PWD/build/asan/bin/gwd GWC=$PWD/build/asan/bin/gwc run_script "$t (ASan+UBSan)" "$t"
done
# streaming (failures mid-body, hang-ups) under the sanitizers, with smaller big bodies
GW_STREAM_BIG=200000000 GW_STREAM_UPLOAD=30000000 GW_STREAM_RSS_MAX=131072 GWD=$PWD/build/asan/bin/gwd GWC=$PWD/build/asan/bin/gwc \
	run_script "tests/integration/stream.sh (ASan+UBSan)" tests/integration/stream.sh

# The status feed under real traffic (its browser checks ran above, once).
GWD=$PWD/build/asan/bin/gwd GWC=$PWD/build/asan/bin/gwc STATUS_BROWSER=0 \
	run_script "tests/integration/status.sh (ASan+UBSan, feed only)" tests/integration/status.sh

# Every libFuzzer harness of tests/fuzz (clang, ASan+UBSan): built, its kept
# crashers of tests/fuzz/regressions/ replayed, then fuzzed GW_FUZZ_SECONDS
# (default 10) from its seed corpus, two at a time: under 2 minutes with the
# build from scratch (docs/fuzzing.md).  A harness that does not build counts as a
# failure like one that crashes.
FUZZ_CHECK=1 FUZZ_JOBS=2 FUZZ_SECONDS=${GW_FUZZ_SECONDS:-10} \
	run_script "tests/fuzz/run.sh (libFuzzer)" tests/fuzz/run.sh

if [[ ${#failures[@]} -gt 0 ]]; then
	echo "== failures"
	printf '  %s\n' "${failures[@]}"
fi
echo "tests: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
