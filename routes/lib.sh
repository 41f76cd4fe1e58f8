# What routes/serve.sh (`make run`) and routes/cluster.sh (`make cluster`)
# share (sourced, not run): the processes they start, stopped together on
# Ctrl-C, SIGTERM or exit (and nothing else), and the demo upstream the
# proxied routes of routes/gateway.yaml need.  The caller has cd'ed to the
# repository and set GWC and GWD.

pids=()
stop() {
	local p
	trap - INT TERM EXIT
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

# start_demo_upstream DIR LISTEN: examples/upstream.yaml compiled into DIR and
# served on LISTEN by a second gwd (its own database in DIR, one thread, no
# access log).  1 when it does not compile; 0, with a warning, when the file is
# not there (the proxied routes then answer 502/503).
start_demo_upstream() {
	if [[ ! -f examples/upstream.yaml ]]; then
		echo "$(basename "$0"): examples/upstream.yaml is not there: no demo upstream on" \
			"$2; the proxied routes (/api/users/{id}, /api/items) will answer 502/503" >&2
		return 0
	fi
	"$GWC" compile examples/upstream.yaml -o "$1/upstream.gwb" || return 1
	"$GWD" --blob "$1/upstream.gwb" --listen "$2" --threads 1 --db "$1/upstream.db" &
	pids+=($!)
}

# wait_any_then_stop: until one of the processes ends (a signal interrupts the
# wait and runs stop), then stop the others; exits with its status.
wait_any_then_stop() {
	local rc
	wait -n "${pids[@]}"
	rc=$?
	stop
	exit "$rc"
}
