#!/usr/bin/env bash
# SIGHUP reloads without dropping a request (docs/gwd.md, "Signals").
#
# gwd serves blob A; wrk loads it on 127.0.0.1 for the whole run; meanwhile
# the blob path is swapped (rename, as gwc does) 50 times between two valid
# blobs whose respond bodies differ, each followed by SIGHUP, and a few times
# to an invalid blob (garbage, truncated, a flipped byte, empty, wrong magic),
# which gwd must refuse while the old blob serves on.  Then:
#   - wrk's report (its Lua script counts non-2xx responses and the bodies of
#     each version) shows zero non-2xx, zero socket errors, both versions;
#   - after each valid reload the served body is the new version, after each
#     invalid one still the old;
#   - /metrics counts gateway_reloads_total{result="ok"} and {result="error"};
#   - `gwd --check --blob` says 0 for the valid blobs and 1 for the invalid.
source "$(dirname "$0")/lib.sh"

RELOADS=${GW_RELOADS:-50}

# write_routes VERSION FILE: a route file whose /api/hello names VERSION.
write_routes() {
	cat >"$2" <<EOF
version: 1
routes:
  - path: /health
    methods: [GET]
    health: {}
  - path: /metrics
    methods: [GET]
    metrics: {}
  - path: /api/hello
    methods: [GET]
    respond:
      status: 200
      headers:
        Content-Type: application/json
      body: '{"version":"$1"}'
EOF
}

# install FILE: put FILE at the served blob path atomically (copy + rename).
install_blob() {
	cp "$1" "$T_TMP/served.gwb.tmp" && mv -f "$T_TMP/served.gwb.tmp" "$T_TMP/served.gwb"
}

# served_version: the version in /api/hello's body now ("" when none).
served_version() {
	curl -s -m 2 "http://127.0.0.1:$PORT/api/hello" | sed -n 's/.*"version":"\([AB]\)".*/\1/p'
}

# wait_version V: until /api/hello serves version V (3 s at most). 0 or 1.
wait_version() {
	for _ in $(seq 150); do
		[[ "$(served_version)" == "$1" ]] && return 0
		sleep 0.02
	done
	return 1
}

# reload_count RESULT: gateway_reloads_total{result="RESULT"} now (0 if absent).
reload_count() {
	local v
	v=$(curl -s -m 2 "http://127.0.0.1:$PORT/metrics" |
		sed -n "s/^gateway_reloads_total{\(.*,\)\{0,1\}result=\"$1\"\(,.*\)\{0,1\}} \([0-9.e+]*\).*/\3/p" | head -n 1)
	printf '%.0f\n' "${v:-0}"
}

# wait_reload_count RESULT N: until that counter reaches N (3 s at most).
wait_reload_count() {
	for _ in $(seq 150); do
		[[ "$(reload_count "$1")" -ge "$2" ]] && return 0
		sleep 0.02
	done
	return 1
}

if [[ ! -x $GWC || ! -x $GWD ]] || ! command -v wrk >/dev/null; then
	not_ok "reload: bin/gwc, bin/gwd and wrk are there"
	t_exit
fi

write_routes A "$T_TMP/a.yaml"
write_routes B "$T_TMP/b.yaml"
if ! "$GWC" compile "$T_TMP/a.yaml" -o "$T_TMP/a.gwb" 2>"$T_TMP/gwc.err" ||
	! "$GWC" compile "$T_TMP/b.yaml" -o "$T_TMP/b.gwb" 2>>"$T_TMP/gwc.err"; then
	not_ok "reload: gwc compiles both versions: $(head -c 300 "$T_TMP/gwc.err")"
	t_exit
fi

# The invalid blobs: each a different way for a file to be wrong.
size=$(stat -c %s "$T_TMP/a.gwb")
head -c 4096 /dev/urandom >"$T_TMP/bad-garbage.gwb"
head -c $((size / 2)) "$T_TMP/a.gwb" >"$T_TMP/bad-truncated.gwb"
: >"$T_TMP/bad-empty.gwb"
python3 - "$T_TMP/a.gwb" "$T_TMP/bad-flipped.gwb" "$T_TMP/bad-magic.gwb" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
flipped = bytearray(data)
flipped[len(flipped) * 2 // 3] ^= 0x5A      # a byte inside the sections
open(sys.argv[2], "wb").write(flipped)
magic = bytearray(data)
magic[0:4] = b"XXXX"
open(sys.argv[3], "wb").write(magic)
PY
BAD=(bad-garbage bad-truncated bad-flipped bad-empty bad-magic)

# --check, as nginx -t: valid blobs pass, invalid ones do not.
for f in a b; do
	"$GWD" --check --blob "$T_TMP/$f.gwb" >/dev/null 2>&1
	expect_eq "reload: gwd --check accepts blob $f" 0 $?
done
for f in "${BAD[@]}"; do
	"$GWD" --check --blob "$T_TMP/$f.gwb" >/dev/null 2>&1
	expect_eq "reload: gwd --check refuses $f" 1 $?
done

install_blob "$T_TMP/a.gwb"
if ! start_gwd "$T_TMP/served.gwb" --access-log "$T_TMP/access.log"; then
	not_ok "reload: gwd starts: $(tail -c 300 "$T_TMP/gwd.err")"
	t_exit
fi
expect_eq "reload: serves version A at start" A "$(served_version)"

cat >"$T_TMP/count.lua" <<'LUA'
-- Count non-2xx responses and the bodies of each blob version, per thread;
-- done() sums the threads and prints one line the test parses.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; va = 0; vb = 0; other = 0 end
function response(status, headers, body)
	if status < 200 or status > 299 then bad = bad + 1
	elseif body:find('"version":"A"', 1, true) then va = va + 1
	elseif body:find('"version":"B"', 1, true) then vb = vb + 1
	else other = other + 1 end
end
function done(summary, latency, requests)
	local b, a, v, o = 0, 0, 0, 0
	for _, t in ipairs(threads) do
		b = b + t:get("bad"); a = a + t:get("va"); v = v + t:get("vb"); o = o + t:get("other")
	end
	local e = summary.errors
	io.write(string.format("GWRESULT requests=%d non2xx=%d A=%d B=%d other=%d " ..
		"connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, b, a, v, o, e.connect, e.read, e.write, e.status, e.timeout))
end
LUA

# wrk for the whole run: stopped by SIGINT (it then reports and calls done()),
# its own -d only a bound in case the script dies.
wrk -t2 -c16 -d120s --timeout 5s -s "$T_TMP/count.lua" "http://127.0.0.1:$PORT/api/hello" \
	>"$T_TMP/wrk.out" 2>&1 &
WRK_PID=$!
T_PIDS+=("$WRK_PID")
sleep 1

current=A
ok_reloads=0 bad_reloads=0 switch_fail=0 keep_fail=0 count_fail=0
for i in $(seq "$RELOADS"); do
	# Every tenth reload, first an invalid blob: refused, counted, old serves.
	if ((i % 10 == 0)); then
		bad=${BAD[$((bad_reloads % ${#BAD[@]}))]}
		install_blob "$T_TMP/$bad.gwb"
		kill -HUP "$GWD_PID"
		bad_reloads=$((bad_reloads + 1))
		if ! wait_reload_count error "$bad_reloads"; then
			count_fail=$((count_fail + 1))
			echo "# reload $i: $bad not counted as an error" >&2
		fi
		if [[ "$(served_version)" != "$current" ]]; then
			keep_fail=$((keep_fail + 1))
			echo "# reload $i: after $bad, not serving $current" >&2
		fi
	fi
	if [[ $current == A ]]; then next=B; else next=A; fi
	install_blob "$T_TMP/$(tr AB ab <<<"$next").gwb"
	kill -HUP "$GWD_PID"
	ok_reloads=$((ok_reloads + 1))
	if wait_version "$next"; then
		current=$next
	else
		switch_fail=$((switch_fail + 1))
		echo "# reload $i: still not serving $next" >&2
		current=$(served_version)
	fi
done
sleep 0.5
kill -INT "$WRK_PID" 2>/dev/null
for _ in $(seq 100); do kill -0 "$WRK_PID" 2>/dev/null || break; sleep 0.1; done

check "reload: gwd survived $RELOADS reloads" kill -0 "$GWD_PID"
expect_eq "reload: every valid reload switched the served body ($ok_reloads)" 0 "$switch_fail"
expect_eq "reload: every invalid blob left the old one serving ($bad_reloads)" 0 "$keep_fail"
expect_eq "reload: every invalid blob counted as it happened" 0 "$count_fail"
expect_eq "reload: gateway_reloads_total{result=\"error\"}" "$bad_reloads" "$(reload_count error)"
expect_eq "reload: gateway_reloads_total{result=\"ok\"}" "$ok_reloads" "$(reload_count ok)"

res=$(grep '^GWRESULT' "$T_TMP/wrk.out")
if [[ -z $res ]]; then
	not_ok "reload: wrk reported ($(tail -c 300 "$T_TMP/wrk.out"))"
else
	echo "# wrk: $res"
	field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$res"; }
	check "reload: wrk made requests ($(field requests))" test "$(field requests)" -gt 1000
	expect_eq "reload: wrk saw no non-2xx response" 0 "$(field non2xx)"
	expect_eq "reload: wrk saw no other body" 0 "$(field other)"
	for e in connect read write timeout; do
		expect_eq "reload: wrk socket errors ($e)" 0 "$(field "$e")"
	done
	check "reload: wrk saw version A ($(field A))" test "$(field A)" -gt 0
	check "reload: wrk saw version B ($(field B))" test "$(field B)" -gt 0
fi

# The served file rewritten in place (cp truncates and writes the same inode),
# then cut in half, then overwritten with garbage of the same size: the
# generation being served is gwd's own copy, so it serves on, unchanged, and
# no SIGBUS; a SIGHUP then refuses the bad file and keeps serving.
install_blob "$T_TMP/a.gwb"
kill -HUP "$GWD_PID"
wait_version A
v0=$(served_version)
errs0=$(reload_count error)
cp "$T_TMP/b.gwb" "$T_TMP/served.gwb"
truncate -s $(($(stat -c %s "$T_TMP/served.gwb") / 2)) "$T_TMP/served.gwb"
expect_eq "reload: the served file cut in half in place, gwd serves on unchanged" "$v0" "$(served_version)"
head -c "$(stat -c %s "$T_TMP/a.gwb")" /dev/urandom >"$T_TMP/noise"
cat "$T_TMP/noise" >"$T_TMP/served.gwb"
ok_reads=0
for _ in $(seq 20); do [[ $(served_version) == "$v0" ]] && ok_reads=$((ok_reads + 1)); done
expect_eq "reload: the served file overwritten with garbage in place, 20 requests served unchanged" 20 "$ok_reads"
kill -HUP "$GWD_PID"
wait_reload_count error $((errs0 + 1))
expect_eq "reload: SIGHUP refuses the overwritten file" $((errs0 + 1)) "$(reload_count error)"
expect_eq "reload: and the blob loaded before serves on" "$v0" "$(served_version)"
check "reload: gwd still running" kill -0 "$GWD_PID"

t_exit
