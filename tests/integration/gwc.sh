#!/usr/bin/env bash
# gwc's front end through the real binary: the command line (help, version,
# usage errors), every shipped route file compiling, the golden corpus of bad
# and hostile YAML (tests/corpus/yaml: each NAME.yaml prints exactly
# NAME.expected on stderr and exits 1; each directory is one multi-file set
# with its `expected`), byte-identical recompiles, atomic output, and clean
# errors for missing, unreadable and oversized files.
source "$(dirname "$0")/lib.sh"
cd "$GW_ROOT" || exit 1

# run CMD...: sets OUT (stdout), ERR (stderr), RC.
run() {
	OUT=$("$@" 2>"$T_TMP/err"); RC=$?
	ERR=$(cat "$T_TMP/err")
}

# ---- command line ----
run "$GWC" --help
check "gwc --help exits 0 with usage on stdout" \
	test "$RC" -eq 0 -a -n "$OUT" -a -z "$ERR"
[[ $OUT == *"check FILE..."* && $OUT == *"compile FILE... -o OUT.gwb"* ]] &&
	ok "gwc --help names check and compile" || not_ok "gwc --help names check and compile"
run "$GWC" -h
expect_eq "gwc -h exits 0" 0 "$RC"
run "$GWC" --version
check "gwc --version prints a version" test "$RC" -eq 0 -a "${OUT#gwc }" != "$OUT"
run "$GWC"
check "gwc without a command: usage error (2)" test "$RC" -eq 2 -a -n "$ERR"
run "$GWC" frobnicate
expect_eq "unknown command: exit 2" 2 "$RC"
expect_eq "unknown command: message" "gwc: unknown command 'frobnicate' (see gwc --help)" "$ERR"
run "$GWC" check
expect_eq "check without files: exit 2" 2 "$RC"
run "$GWC" check --frob routes/gateway.yaml
expect_eq "check with an unknown option: exit 2" 2 "$RC"
run "$GWC" compile routes/gateway.yaml
expect_eq "compile without -o: exit 2" 2 "$RC"
run "$GWC" compile routes/gateway.yaml -o
expect_eq "compile with -o and no file: exit 2" 2 "$RC"
run "$GWC" compile -o "$T_TMP/x.gwb" routes/gateway.yaml -o "$T_TMP/y.gwb"
expect_eq "compile with two -o: exit 2" 2 "$RC"
check "a usage error writes nothing" test ! -e "$T_TMP/x.gwb" -a ! -e "$T_TMP/y.gwb"
run "$GWC" check --help
expect_eq "check --help exits 0" 0 "$RC"

# ---- shipped route files ----
run "$GWC" check routes/gateway.yaml
check "routes/gateway.yaml checks silently" test "$RC" -eq 0 -a -z "$OUT" -a -z "$ERR"
run "$GWC" compile routes/gateway.yaml -o "$T_TMP/gateway.gwb"
check "routes/gateway.yaml compiles" test "$RC" -eq 0 -a -s "$T_TMP/gateway.gwb" -a -z "$ERR"
shopt -s nullglob
for f in examples/*.yaml; do
	run "$GWC" compile "$f" -o "$T_TMP/example.gwb"
	if [[ $RC -eq 0 && -s $T_TMP/example.gwb ]]; then ok "compiles: $f"
	else not_ok "compiles: $f (rc $RC: $ERR)"; fi
done
# A directory of examples is one configuration split across files.
for d in examples/*/; do
	files=("$d"*.yaml)
	[[ ${#files[@]} -gt 0 ]] || continue
	run "$GWC" compile "${files[@]}" -o "$T_TMP/example.gwb"
	if [[ $RC -eq 0 && -s $T_TMP/example.gwb ]]; then ok "compiles: $d (${#files[@]} files)"
	else not_ok "compiles: $d (rc $RC: $ERR)"; fi
done

# ---- golden corpus ----
ncorpus=0
for f in tests/corpus/yaml/*.yaml; do
	ncorpus=$((ncorpus + 1))
	run "$GWC" check "$f"
	want=$(cat "${f%.yaml}.expected")
	if [[ $RC -eq 1 && -z $OUT && "$ERR" == "$want" ]]; then
		ok "corpus: $f"
	else
		not_ok "corpus: $f (rc $RC)"
		diff <(printf '%s\n' "$want") <(printf '%s\n' "$ERR") | head -20
	fi
	# compile refuses the same way and writes nothing
	run "$GWC" compile "$f" -o "$T_TMP/bad.gwb"
	if [[ $RC -eq 1 && "$ERR" == "$want" && ! -e $T_TMP/bad.gwb && ! -e $T_TMP/bad.gwb.tmp ]]; then
		ok "corpus (compile writes nothing): $f"
	else
		not_ok "corpus (compile writes nothing): $f (rc $RC)"
	fi
done
check "the corpus holds at least 15 bad files" test "$ncorpus" -ge 15
for d in tests/corpus/yaml/*/; do
	files=("$d"*.yaml)
	run "$GWC" check "${files[@]}"
	want=$(cat "${d}expected")
	if [[ $RC -eq 1 && "$ERR" == "$want" ]]; then ok "corpus set: $d"
	else not_ok "corpus set: $d (rc $RC)"; diff <(printf '%s\n' "$want") <(printf '%s\n' "$ERR") | head; fi
done

# ---- determinism and atomic output ----
run "$GWC" compile routes/gateway.yaml -o "$T_TMP/a.gwb"
run "$GWC" compile -o "$T_TMP/b.gwb" routes/gateway.yaml
check "compiling twice gives byte-identical blobs (-o before or after)" \
	cmp -s "$T_TMP/a.gwb" "$T_TMP/b.gwb"
if [[ -d examples/split ]]; then
	files=(examples/split/*.yaml)
	run "$GWC" compile "${files[@]}" -o "$T_TMP/s1.gwb"
	run "$GWC" compile "${files[@]}" -o "$T_TMP/s2.gwb"
	check "a split configuration compiles byte-identically" cmp -s "$T_TMP/s1.gwb" "$T_TMP/s2.gwb"
fi
check "no OUT.tmp is left behind" test ! -e "$T_TMP/a.gwb.tmp" -a ! -e "$T_TMP/b.gwb.tmp"
# A failing compile leaves an existing blob alone.
cp "$T_TMP/a.gwb" "$T_TMP/keep.gwb"
run "$GWC" compile tests/corpus/yaml/many-errors.yaml -o "$T_TMP/keep.gwb"
check "a failing compile leaves the old blob untouched" cmp -s "$T_TMP/a.gwb" "$T_TMP/keep.gwb"
# The fingerprint covers the path as given and the bytes: a comment changes it.
cp routes/gateway.yaml "$T_TMP/gw.yaml"
run "$GWC" compile "$T_TMP/gw.yaml" -o "$T_TMP/c1.gwb"
echo "# trailing comment" >> "$T_TMP/gw.yaml"
run "$GWC" compile "$T_TMP/gw.yaml" -o "$T_TMP/c2.gwb"
if cmp -s "$T_TMP/c1.gwb" "$T_TMP/c2.gwb"; then not_ok "a changed source changes the blob"
else ok "a changed source changes the blob"; fi

# ---- files that cannot be read ----
run "$GWC" check "$T_TMP/no-such.yaml"
expect_eq "missing file: exit 1" 1 "$RC"
expect_eq "missing file: message" \
	"gwc: error: cannot read $T_TMP/no-such.yaml: No such file or directory" "$ERR"
run "$GWC" check routes/gateway.yaml "$T_TMP/no-such.yaml"
expect_eq "missing second file: exit 1" 1 "$RC"
run "$GWC" check "$T_TMP"
expect_eq "a directory: message" "gwc: error: cannot read $T_TMP: Is a directory" "$ERR"
head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' '#' > "$T_TMP/big.yaml"
run "$GWC" check "$T_TMP/big.yaml"
expect_eq "a file over 16 MiB: exit 1" 1 "$RC"
expect_eq "a file over 16 MiB: message" \
	"gwc: error: $T_TMP/big.yaml: file larger than 16777216 bytes (16 MiB)" "$ERR"
rm -f "$T_TMP/big.yaml"
mkdir -p "$T_TMP/ro"
chmod 555 "$T_TMP/ro"
if [[ $(id -u) -ne 0 ]]; then
	run "$GWC" compile routes/gateway.yaml -o "$T_TMP/ro/out.gwb"
	check "an unwritable output directory: exit 1 with a message" \
		test "$RC" -eq 1 -a -n "$ERR" -a ! -e "$T_TMP/ro/out.gwb"
fi
run "$GWC" compile routes/gateway.yaml -o "$T_TMP/no-dir/out.gwb"
check "an output in a missing directory: exit 1 with a message" test "$RC" -eq 1 -a -n "$ERR"

# ---- the published file: its mode, and no link followed ----
mkdir -p "$T_TMP/pub"
run "$GWC" compile routes/gateway.yaml -o "$T_TMP/pub/a.gwb"
chmod 640 "$T_TMP/pub/a.gwb"
run "$GWC" compile routes/gateway.yaml -o "$T_TMP/pub/a.gwb"
expect_eq "a recompiled blob keeps the mode of the one it replaces" 640 \
	"$(stat -c %a "$T_TMP/pub/a.gwb")"
echo untouched >"$T_TMP/pub/victim"
ln -s victim "$T_TMP/pub/a.gwb.tmp"
run "$GWC" compile routes/gateway.yaml -o "$T_TMP/pub/a.gwb"
check "a link planted at OUT.tmp is removed, not written through" \
	test "$RC" -eq 0 -a "$(cat "$T_TMP/pub/victim")" = untouched -a ! -e "$T_TMP/pub/a.gwb.tmp"
printf '{"keys": [{"kty": "oct", "k": "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzLWxvbmcu", "kid": "hs"}]}' \
	>"$T_TMP/pub/hs.jwks"
cat >"$T_TMP/pub/hs.yaml" <<'YAML'
version: 1
policies:
  bearer:
    auth: { type: jwt, issuer: https://idp.test/, audiences: [api], algorithms: [HS256], jwks_file: hs.jwks }
routes:
  - path: /x
    methods: [GET]
    policies: [bearer]
    respond: { body: x }
YAML
run "$GWC" compile "$T_TMP/pub/hs.yaml" -o "$T_TMP/pub/hs.gwb"
expect_eq "a new blob holding an HMAC key is for its owner only" 600 \
	"$(stat -c %a "$T_TMP/pub/hs.gwb")"

for url in http://idp.example.com/jwks http://127.0.0.1.evil.example/jwks http://localhost.evil.example/; do
	sed "s|jwks_file: hs.jwks|jwks_file: hs.jwks, jwks_url: \"$url\"|" "$T_TMP/pub/hs.yaml" \
		>"$T_TMP/pub/url.yaml"
	run "$GWC" check "$T_TMP/pub/url.yaml"
	check "jwks_url $url is refused (plain http off the loopback)" \
		grep -q "'jwks_url' must be an https:// URL" <<<"$ERR"
done
sed 's|jwks_file: hs.jwks|jwks_file: hs.jwks, jwks_url: "http://127.0.0.1:9/jwks"|' "$T_TMP/pub/hs.yaml" \
	>"$T_TMP/pub/url.yaml"
run "$GWC" check "$T_TMP/pub/url.yaml"
expect_eq "jwks_url over http to 127.0.0.1 is accepted" 0 "$RC"

t_exit
