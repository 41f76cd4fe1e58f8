#!/usr/bin/env bash
# The raw-request suite: gwd's edge checks, proved with exact bytes
# on a socket.  libmicrohttpd decodes the target and tolerates duplicate
# framing headers before gwd sees them, and curl never sends such requests, so
# each case of tests/corpus/http/cases.txt is a file of bytes (NAME.req) sent
# by rawreq.py, with the status (or the closing) it must get back.  gwd serves
# tests/corpus/http/routes.yaml, whose low limits keep every case short.
source "$(dirname "$0")/lib.sh"

CORPUS=$GW_ROOT/tests/corpus/http
RAWREQ=$GW_ROOT/tests/integration/rawreq.py

# run_case NAME EXPECT [OPTION...]: one line of the table, through rawreq.py.
run_case() {
	local name=$1 expect=$2 file o out
	shift 2
	local args=()
	for o in "$@"; do
		if [[ $o == *=* ]]; then args+=("--${o%%=*}" "${o#*=}"); else args+=("--$o"); fi
	done
	file=$CORPUS/$name.req
	[[ -f $file ]] || file=$T_TMP/$name.req
	if [[ ! -f $file ]]; then
		not_ok "raw $name: no $name.req"
		return
	fi
	# Connection-limit cases count what is open: let the server see the
	# previous cases' sockets close first.
	[[ " $* " == *" hold="* ]] && sleep 0.5
	if out=$(python3 "$RAWREQ" --port "$PORT" --expect "$expect" "${args[@]}" "$file" 2>&1 </dev/null); then
		ok "raw $name: $expect"
	else
		not_ok "raw $name: $(printf '%s' "$out" | tr '\n' ' ')"
	fi
}

if [[ ! -x $GWC || ! -x $GWD ]]; then
	not_ok "raw_requests: bin/gwc and bin/gwd are built"
	t_exit
fi
if ! "$GWC" compile "$CORPUS/routes.yaml" -o "$T_TMP/raw.gwb" 2>"$T_TMP/gwc.err"; then
	not_ok "raw_requests: gwc compiles tests/corpus/http/routes.yaml: $(head -c 300 "$T_TMP/gwc.err")"
	t_exit
fi
if ! start_gwd "$T_TMP/raw.gwb" --access-log "$T_TMP/access.log"; then
	not_ok "raw_requests: gwd starts and answers: $(tail -c 300 "$T_TMP/gwd.err")"
	t_exit
fi

# The generated cases (too big to keep as files).
python3 - "$T_TMP" <<'PY'
import os, sys
d = sys.argv[1]
body = b"c" * (1100 * 1024)
chunks = b"".join(b"%x\r\n" % len(body[i:i + 65536]) + body[i:i + 65536] + b"\r\n"
                  for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
with open(os.path.join(d, "chunked-over-limit-1m.req"), "wb") as f:
    f.write(b"POST /api/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
PY

ncases=0
while read -r name expect opts; do
	[[ -z $name || $name == \#* ]] && continue
	# shellcheck disable=SC2086 # options are whitespace-separated words
	run_case "$name" "$expect" $opts
	ncases=$((ncases + 1))
	if ! kill -0 "$GWD_PID" 2>/dev/null; then
		not_ok "raw_requests: gwd still running after case $name: $(tail -c 300 "$T_TMP/gwd.err")"
		t_exit
	fi
done <"$CORPUS/cases.txt"
check "raw_requests: the table has cases ($ncases)" test "$ncases" -ge 60

# After every hostile case and the limits, a good request is served again.
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' -m 3 "http://127.0.0.1:$PORT/api/hello")
expect_eq "raw_requests: served after the suite" 200 "$code"

t_exit
