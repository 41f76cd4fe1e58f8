#!/usr/bin/env bash
# Run every test: the CUnit units (plain, then ASan+UBSan), then each
# tests/integration/*.sh against the real binaries, then the fuzz harnesses.
# Integration scripts print "ok - NAME" or "not ok - NAME" per check
# (tests/integration/lib.sh; tests/fuzz/run.sh does the same).
# The last line is the summary: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0
failures=()

count_unit() { # $1: label, $2...: the command (a unit runner)
	local out rc p f
	out=$("${@:2}" 2>&1); rc=$?
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

echo "== unit (plain)"
count_unit unit bin/unit
echo "== unit (ASan+UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	count_unit unit-asan build/asan/bin/unit
# valgrind's memcheck sees what the sanitizers do not (uninitialised reads);
# about three minutes, most of it the password KDF's rounds.  GW_VALGRIND=0
# skips it.
if [[ ${GW_VALGRIND:-1} != 0 ]]; then
	echo "== unit (valgrind memcheck)"
	count_unit unit-valgrind valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite bin/unit
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

for t in tests/integration/*.sh; do
	[[ "$(basename "$t")" == lib.sh ]] && continue
	run_script "$t" "$t"
done

# The hostile-input suites once more against the ASan+UBSan builds of gwd and
# gwc: raw requests, proxying (and under fault churn), sessions (lib.sh fails a script on any
# sanitizer report in gwd's stderr).
for t in tests/integration/raw_requests.sh tests/integration/proxy.sh tests/integration/proxy_churn.sh \
	tests/integration/sessions.sh; do
	GWD=$PWD/build/asan/bin/gwd GWC=$PWD/build/asan/bin/gwc run_script "$t (ASan+UBSan)" "$t"
done

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
