#!/usr/bin/env bash
# gwd under systemd: readiness, reload and stop notifications (NOTIFY_SOCKET)
# and socket activation (LISTEN_FDS), checked by tests/integration/sd_protocol.py
# playing the service manager; `--version` and `--help` of both binaries.
source "$(dirname "$0")/lib.sh"

if [[ ! -x $GWC || ! -x $GWD ]]; then
	not_ok "service: bin/gwc and bin/gwd are built"
	t_exit
fi

# --version: gw's version, the blob format, the libraries gwd runs with
out=$("$GWD" --version); rc=$?
check "service: gwd --version exits 0" test "$rc" -eq 0
for want in "^gwd [0-9]+\.[0-9]+\.[0-9]+$" "^blob format [0-9]+" "^libmicrohttpd 0\.9\.[0-9]+$" \
	"^GnuTLS 3\.[0-9.]+$" "^SQLite 3\.[0-9.]+$"; do
	check "service: gwd --version has /$want/" grep -qE "$want" <<<"$out"
done
out=$("$GWC" --version); rc=$?
check "service: gwc --version exits 0" test "$rc" -eq 0
for want in "^gwc [0-9]+\.[0-9]+\.[0-9]+$" "^blob format [0-9]+$" "^libyaml [0-9.]+$"; do
	check "service: gwc --version has /$want/" grep -qE "$want" <<<"$out"
done
expect_eq "service: gwc and gwd report one version" \
	"$("$GWC" --version | head -1 | cut -d' ' -f2)" "$("$GWD" --version | head -1 | cut -d' ' -f2)"
# --help: a synopsis first, like a man page's, on stdout, exit 0
for b in gwc gwd; do
	bin=$GWC; [[ $b == gwd ]] && bin=$GWD
	out=$("$bin" --help); rc=$?
	check "service: $b --help exits 0 and opens with 'usage: $b'" \
		test "$rc" -eq 0 -a "${out#usage: $b }" != "$out"
	check "service: $b --help names --version" grep -q -- "--version" <<<"$out"
done

# two valid blobs with different fingerprints
cat >"$T_TMP/b.yaml" <<'YAML'
version: 1
routes:
  - path: /health
    methods: [GET]
    health: {}
  - path: /api/hello
    methods: [GET]
    respond:
      status: 200
      body: 'B'
YAML
if ! "$GWC" compile "$GW_ROOT/tests/corpus/http/routes.yaml" -o "$T_TMP/a.gwb" 2>"$T_TMP/gwc.err" ||
	! "$GWC" compile "$T_TMP/b.yaml" -o "$T_TMP/b.gwb" 2>>"$T_TMP/gwc.err"; then
	not_ok "service: gwc compiles the blobs: $(head -c 300 "$T_TMP/gwc.err")"
	t_exit
fi
fp_a=$("$GWD" --check --blob "$T_TMP/a.gwb" | sed -n 's/.*fingerprint \([0-9a-f]*\),.*/\1/p')
fp_b=$("$GWD" --check --blob "$T_TMP/b.gwb" | sed -n 's/.*fingerprint \([0-9a-f]*\),.*/\1/p')
check "service: the two blobs differ ($fp_a, $fp_b)" test -n "$fp_a" -a -n "$fp_b" -a "$fp_a" != "$fp_b"

timeout 120 python3 "$GW_ROOT/tests/integration/sd_protocol.py" "$GWD" "$T_TMP" \
	"$T_TMP/a.gwb" "$T_TMP/b.gwb" "$fp_a" "$fp_b"
rc=$?
[[ $rc -eq 0 ]] || { T_FAILED=$((T_FAILED + 1)); echo "# sd_protocol.py exited $rc"; }
cat "$T_TMP"/gwd-*.err >>"$T_TMP/gwd.err" 2>/dev/null
t_exit
