#!/usr/bin/env bash
# Build the libFuzzer harnesses of tests/fuzz/ and run each for a bounded time.
#
#   tests/fuzz/run.sh [HARNESS...]     (default: every one built)
#   FUZZ_SECONDS=N                     time per harness (default 60)
#
# Each tests/fuzz/fuzz_NAME.c is built with clang -fsanitize=fuzzer,address,
# undefined into build/fuzz/fuzz_NAME, linked with lib/ (and gwc/ but its
# main.c, for harnesses that need the front end; fuzz_jwt also with gwd/ but
# its main.c).  fuzz_blob.c is built a
# second time as fuzz_blob_fixcrc (-DGW_FUZZ_FIXCRC), which repairs sizes and
# the CRC before the loader sees the bytes.  Seeds are read from
# tests/fuzz/corpus/<harness>/ (fuzz_blob_fixcrc shares fuzz_blob's); new
# inputs and crash artifacts go to tests/fuzz/corpus-work/<harness>/ (not
# committed).  Exits non-zero when a harness fails to build or finds a crash.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
OUT=build/fuzz
PKGS="libmicrohttpd gnutls yaml-0.1 sqlite3 jansson libcurl"
mkdir -p "$OUT"

if ! command -v "$CC" >/dev/null; then
	echo "fuzz: $CC not found (make fuzz installs it)" >&2
	exit 1
fi
CFLAGS=(-std=c17 -D_GNU_SOURCE -g -O1 -I. -fno-omit-frame-pointer
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
read -r -a PKG_CFLAGS <<<"$(pkg-config --cflags $PKGS 2>/dev/null)"
read -r -a PKG_LIBS <<<"$(pkg-config --libs $PKGS 2>/dev/null)"
LIB_SRC=(lib/*.c)
GWC_SRC=()
for f in gwc/*.c; do [[ $f == gwc/main.c ]] || GWC_SRC+=("$f"); done
GWD_SRC=()
for f in gwd/*.c; do [[ $f == gwd/main.c ]] || GWD_SRC+=("$f"); done

# build NAME SRC [EXTRA CFLAGS...]: one harness binary.
build() {
	local name=$1 src=$2; shift 2
	local srcs=("$src" "${LIB_SRC[@]}")
	[[ $name == fuzz_blob* ]] || srcs+=("${GWC_SRC[@]}")
	[[ $name == fuzz_jwt ]] && srcs+=("${GWD_SRC[@]}")
	echo "fuzz: building $name"
	"$CC" "${CFLAGS[@]}" "$@" "${PKG_CFLAGS[@]}" -o "$OUT/$name" "${srcs[@]}" \
		"${PKG_LIBS[@]}" -lpthread -lm
}

# run NAME SEEDS: fuzz for $SECS seconds.
run() {
	local name=$1 seeds=$2 work=tests/fuzz/corpus-work/$1
	mkdir -p "$work/corpus" "$work/artifacts" "$seeds"
	echo "fuzz: running $name for ${SECS}s (seeds: $seeds)"
	"$OUT/$name" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" 2>"$work/log"
	local rc=$?
	tail -n 12 "$work/log"
	return $rc
}

want=("$@")
harnesses=()
for src in tests/fuzz/fuzz_*.c; do
	[[ -e $src ]] || continue
	n=$(basename "$src" .c)
	harnesses+=("$n")
	[[ $n == fuzz_blob ]] && harnesses+=(fuzz_blob_fixcrc)
done
failed=0 ran=0
for n in "${harnesses[@]}"; do
	if [[ ${#want[@]} -gt 0 && ! " ${want[*]} " =~ " $n " ]]; then continue; fi
	case $n in
	fuzz_blob_fixcrc) build "$n" tests/fuzz/fuzz_blob.c -DGW_FUZZ_FIXCRC; seeds=tests/fuzz/corpus/fuzz_blob ;;
	*) build "$n" "tests/fuzz/$n.c"; seeds=tests/fuzz/corpus/$n ;;
	esac || { echo "fuzz: $n: build failed"; failed=$((failed + 1)); continue; }
	ran=$((ran + 1))
	if run "$n" "$seeds"; then echo "fuzz: $n: ok"; else echo "fuzz: $n: FAILED (see tests/fuzz/corpus-work/$n/)"; failed=$((failed + 1)); fi
done
echo "fuzz: $ran harnesses run, $failed failed"
[[ $failed -eq 0 && $ran -gt 0 ]]
