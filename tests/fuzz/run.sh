#!/usr/bin/env bash
# Build the libFuzzer harnesses of tests/fuzz/, replay the inputs kept in
# tests/fuzz/regressions/, and fuzz each harness for a bounded time.
#
#   tests/fuzz/run.sh [HARNESS...]     (default: every one)
#   FUZZ_SECONDS=N   time each harness is fuzzed (default 60)
#   FUZZ_JOBS=N      harnesses fuzzed at the same time (default 1)
#   FUZZ_CHECK=1     the short run of `make test`: inputs found go to a
#                    throw-away folder under build/fuzz/work/ instead of
#                    tests/fuzz/corpus-work/
#
# `make FUZZ=1 fuzz-build` builds lib/, gwc/ and gwd/ (but their main.c) once
# with clang -fsanitize=fuzzer-no-link,address,undefined into build/fuzz and
# links each tests/fuzz/fuzz_NAME.c against them as build/fuzz/bin/fuzz_NAME
# (fuzz_blob.c a second time as fuzz_blob_fixcrc, -DGW_FUZZ_FIXCRC).
#
# Per harness NAME: seeds from tests/fuzz/corpus/NAME/ (fuzz_blob_fixcrc
# shares fuzz_blob's), a libFuzzer dictionary from tests/fuzz/NAME.dict when
# there is one; inputs that once crashed it from
# tests/fuzz/regressions/NAME/, each run once first; new inputs and crash
# artifacts in tests/fuzz/corpus-work/NAME/ (not committed).  Prints
# "ok - ..." / "not ok - ..." per check (tests/run.sh counts them): the
# harness builds, its regressions pass, fuzzing finds nothing (a crash, a
# leak, a sanitizer report or an input slower than 25 s fails, and the
# reproducer's path is printed).  Exits non-zero when any check failed.
# docs/fuzzing.md says more.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-1}
BIN=build/fuzz/bin
if [[ ${FUZZ_CHECK:-0} == 1 ]]; then WORK=build/fuzz/work; else WORK=tests/fuzz/corpus-work; fi

CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null; then
	echo "not ok - fuzz: $CC not found (make test and make fuzz install it)"
	exit 1
fi

harnesses=()
for src in tests/fuzz/fuzz_*.c; do
	[[ -e $src ]] || continue
	n=$(basename "$src" .c)
	if [[ $# -eq 0 || " $* " == *" $n "* ]]; then harnesses+=("$n"); fi
	if [[ $n == fuzz_blob && ($# -eq 0 || " $* " == *" fuzz_blob_fixcrc "*) ]]; then
		harnesses+=(fuzz_blob_fixcrc)
	fi
done
if [[ ${#harnesses[@]} -eq 0 ]]; then
	echo "not ok - fuzz: no harness named ${*:-in tests/fuzz}"
	exit 1
fi

# Build them all at once (-k: one that fails does not stop the others); then
# a binary that make still finds out of date is one that did not build.
mkdir -p build/fuzz
echo "fuzz: building ${#harnesses[@]} harnesses (log: build/fuzz/build.log)"
make --no-print-directory -k -j2 FUZZ=1 FUZZ_CC="$CC" "${harnesses[@]/#/$BIN/}" \
	>build/fuzz/build.log 2>&1
built=()
failed=0
for n in "${harnesses[@]}"; do
	if make --no-print-directory -q FUZZ=1 FUZZ_CC="$CC" "$BIN/$n" 2>/dev/null; then
		built+=("$n")
		echo "ok - $n builds"
	else
		echo "not ok - $n builds (build/fuzz/build.log):"
		grep -E 'error|Error' build/fuzz/build.log | head -n 10 | sed 's/^/    /'
		failed=$((failed + 1))
	fi
done

# 25 s: a hang, not a slow moment of a machine shared with builds (an input
# of 1 KB once passed 10 s there at load average 40, and runs in 0.2 s).
OPTS=(-timeout=25 -rss_limit_mb=2048)

# reproducers LOG: the paths libFuzzer wrote the failing input to.
reproducers() {
	sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$1"
}

# check NAME: replay its regressions, then fuzz it; writes its result lines
# to $WORK/NAME/result.
check() {
	local n=$1 seeds=tests/fuzz/corpus/${1%_fixcrc} reg=tests/fuzz/regressions/$1
	local w=$WORK/$1 kept=() rc stats dict=()
	[[ -f tests/fuzz/${1%_fixcrc}.dict ]] && dict=(-dict="tests/fuzz/${1%_fixcrc}.dict")
	# a campaign keeps its corpus and findings; the check starts afresh
	[[ ${FUZZ_CHECK:-0} == 1 ]] && rm -rf "$w/corpus" "$w/artifacts"
	mkdir -p "$w/corpus" "$w/artifacts"
	: >"$w/result"
	if [[ -d $reg ]]; then
		for f in "$reg"/*; do [[ -f $f && $(basename "$f") != README* ]] && kept+=("$f"); done
	fi
	if [[ ${#kept[@]} -gt 0 ]]; then
		timeout -k 5 300 "$BIN/$n" "${OPTS[@]}" -artifact_prefix="$w/artifacts/" \
			"${kept[@]}" >"$w/replay.log" 2>&1
		rc=$?
		if [[ $rc -eq 0 ]]; then
			echo "ok - $n replays the ${#kept[@]} input(s) kept in $reg" >>"$w/result"
		else
			{
				echo "not ok - $n replays the ${#kept[@]} input(s) kept in $reg (rc $rc, log $w/replay.log)"
				grep -E '^(==[0-9]+==ERROR|SUMMARY|Running: )' "$w/replay.log" | tail -n 4 | sed 's/^/    /'
			} >>"$w/result"
		fi
	fi
	# The kept inputs seed the run as well: what is near an old bug is
	# worth mutating.
	timeout -k 5 $((SECS + 120)) "$BIN/$n" "${OPTS[@]}" ${dict[@]+"${dict[@]}"} -max_total_time="$SECS" \
		-print_final_stats=1 -artifact_prefix="$w/artifacts/" \
		"$w/corpus" "$seeds" ${kept[@]+"$reg"} >"$w/log" 2>&1
	rc=$?
	stats=$(awk '/stat::number_of_executed_units/ { runs = $2 }
		/stat::average_exec_per_sec/ { eps = $2 }
		/\t(DONE|INITED) / { for (i = 1; i <= NF; i++) { if ($i == "cov:") cov = $(i + 1);
			if ($i == "corp:") { corp = $(i + 1); sub("/.*", "", corp) } } }
		END { printf "%s runs, %s exec/s, corpus %s, cov %s", runs, eps, corp, cov }' "$w/log")
	if [[ $rc -eq 0 ]]; then
		echo "ok - $n fuzzed ${SECS} s clean ($stats)" >>"$w/result"
	else
		{
			echo "not ok - $n fuzzed ${SECS} s (rc $rc, log $w/log)"
			grep -E '^(==[0-9]+==ERROR|SUMMARY|ALARM|\*\*\*)' "$w/log" | head -n 4 | sed 's/^/    /'
			local r
			for r in $(reproducers "$w/log"); do
				echo "    reproducer: $r (replay: $BIN/$n $r)"
			done
			[[ -n $(reproducers "$w/log") ]] || echo "    no reproducer written (see the log)"
		} >>"$w/result"
	fi
}

running=0
for n in "${built[@]}"; do
	if [[ $running -ge $JOBS ]]; then
		wait -n
		running=$((running - 1))
	fi
	echo "fuzz: $n for ${SECS} s (seeds tests/fuzz/corpus/${n%_fixcrc}/)"
	check "$n" &
	running=$((running + 1))
done
wait
for n in "${built[@]}"; do
	cat "$WORK/$n/result"
	grep -q '^not ok' "$WORK/$n/result" && failed=$((failed + 1))
done
echo "fuzz: ${#harnesses[@]} harnesses, ${#built[@]} built, $failed failed"
[[ $failed -eq 0 ]]
