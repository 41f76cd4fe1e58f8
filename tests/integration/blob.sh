#!/usr/bin/env bash
# The compiled blob end to end, through the real binaries: gwc compile is
# reproducible, gwc inspect prints tests/golden/inspect-gateway.txt for the
# default routes, gwc diff answers like diff(1), and every corrupt blob of
# tests/corpus/blob/ (and the empty file, a directory, random bytes) is
# refused by gwc inspect, gwc diff and gwd --check with exit status 1 (2 for
# diff), the verifier's message, and no crash.
#
# GW_UPDATE_GOLDEN=1 rewrites tests/golden/inspect-gateway.txt from the
# current compile (review the diff before committing it).  The fingerprint
# and checksum lines are left out of the comparison: they change with every
# byte of routes/gateway.yaml, comments included.
source "$(dirname "$0")/lib.sh"
cd "$GW_ROOT" || exit 1

GOLDEN=tests/golden/inspect-gateway.txt
A=$T_TMP/a.gwb B=$T_TMP/b.gwb

mask() { sed -E 's/^(  fingerprint +).*/\1(masked)/; s/^(  checksum +).*/\1(masked)/'; }

check "compile routes/gateway.yaml" "$GWC" compile routes/gateway.yaml -o "$A"
check "compile again" "$GWC" compile routes/gateway.yaml -o "$B"
check "same input, byte-identical blob" cmp -s "$A" "$B"
check "no temporary file left" test ! -e "$A.tmp"

out=$("$GWC" inspect "$A"); rc=$?
expect_eq "inspect exit status" 0 "$rc"
if [[ -n ${GW_UPDATE_GOLDEN:-} ]]; then
	printf '%s\n' "$out" | mask >"$GOLDEN"
fi
if [[ -f $GOLDEN ]] && diff -u "$GOLDEN" <(printf '%s\n' "$out" | mask) >"$T_TMP/golden.diff"; then
	ok "inspect output matches $GOLDEN"
else
	not_ok "inspect output matches $GOLDEN"
	head -n 40 "$T_TMP/golden.diff" 2>/dev/null | sed 's/^/# /'
fi
fp=$(printf '%s\n' "$out" | sed -n 's/^  fingerprint *//p')
expect_eq "inspect shows a 64-digit fingerprint" 64 "${#fp}"

out=$("$GWC" diff "$A" "$B"); rc=$?
expect_eq "diff of identical blobs: exit 0" 0 "$rc"
expect_eq "diff of identical blobs: no output" "" "$out"

sed -e 's|rate: 20000/s|rate: 100/s|' -e 's|path: /api/limited|path: /api/limited2|' \
	routes/gateway.yaml >"$T_TMP/changed.yaml"
check "compile a changed copy" "$GWC" compile "$T_TMP/changed.yaml" -o "$B"
out=$("$GWC" diff "$A" "$B"); rc=$?
expect_eq "diff of different blobs: exit 1" 1 "$rc"
check "diff names the changed rate" grep -qF "    rate: 20000/1s -> 100/1s" <<<"$out"
check "diff names the removed route" grep -qxF -- "- route GET /api/limited" <<<"$out"
check "diff names the added route" grep -qxF -- "+ route GET /api/limited2" <<<"$out"

out=$("$GWD" --check --blob "$A"); rc=$?
expect_eq "gwd --check accepts the blob" 0 "$rc"

# refused NAME FILE WANT: inspect and gwd --check exit 1 with WANT on stderr,
# diff exits 2; none is killed by a signal.
refused() {
	local name=$1 file=$2 want=$3 rc err
	err=$("$GWC" inspect "$file" 2>&1 >/dev/null); rc=$?
	if [[ $rc -eq 1 && $err == *"$want"* ]]; then ok "inspect refuses $name"
	else not_ok "inspect refuses $name (exit $rc: $err)"; fi
	err=$("$GWD" --check --blob "$file" 2>&1 >/dev/null); rc=$?
	if [[ $rc -eq 1 && $err == *"$want"* ]]; then ok "gwd --check refuses $name"
	else not_ok "gwd --check refuses $name (exit $rc: $err)"; fi
	"$GWC" diff "$A" "$file" >/dev/null 2>&1; rc=$?
	expect_eq "diff refuses $name" 2 "$rc"
}

n=0
while read -r file code want; do
	[[ -z $file || $file == \#* ]] && continue
	refused "$file ($code)" "tests/corpus/blob/$file" "$want"
	n=$((n + 1))
done <tests/corpus/blob/EXPECTED
[[ $n -ge 5 ]] && ok "corpus has $n fixtures" || not_ok "corpus has $n fixtures"

: >"$T_TMP/empty.gwb"
refused "the empty file" "$T_TMP/empty.gwb" "empty file"
refused "a directory" "$T_TMP" "is a directory"
refused "a missing file" "$T_TMP/missing.gwb" "No such file"
head -c 4096 /dev/urandom >"$T_TMP/random.gwb"
refused "random bytes" "$T_TMP/random.gwb" "bad magic"
refused "the route file itself" routes/gateway.yaml "bad magic"
# Every length of a real blob, cut short: refused, never a crash.
size=$(stat -c %s "$A") bad=0
for ((len = 0; len < size; len += 97)); do
	head -c "$len" "$A" >"$T_TMP/cut.gwb"
	"$GWD" --check --blob "$T_TMP/cut.gwb" >/dev/null 2>&1
	[[ $? -eq 1 ]] || bad=$((bad + 1))
done
expect_eq "gwd --check refuses every truncation" 0 "$bad"
t_exit
