#!/usr/bin/env bash
# What `make install` puts on a machine, checked there:
#   - install with PREFIX (real paths, no DESTDIR): every file, the unit's
#     paths following PREFIX and SYSCONFDIR, an edited route file kept on a
#     second install; install and uninstall with DESTDIR;
#   - the systemd units: `systemd-analyze verify` clean (no message, exit 0,
#     man pages of Documentation= found), the sandbox's exposure by
#     `systemd-analyze security --offline`, ExecStartPre and ExecStart run as
#     written (state and log paths moved into the test's directory);
#   - LimitNOFILE above the default max_connections, and gwd's warning when
#     the descriptor limit is below it;
#   - the man pages: `mandoc -Tlint` clean, cross-references between them
#     resolved, the route file of gw-routes(5)'s EXAMPLES valid for gwc;
#   - the logrotate snippet: logrotate rotates a live access log and gwd,
#     sent the SIGHUP of its postrotate, writes to the new file.
source "$(dirname "$0")/lib.sh"

if [[ ! -x $GWC || ! -x $GWD ]]; then
	not_ok "service files: bin/gwc and bin/gwd are built"
	t_exit
fi
P=$T_TMP/pfx
mk() { make -C "$GW_ROOT" --no-print-directory "$@"; }

# ---- make install, real paths
if ! mk install PREFIX="$P/usr" SYSCONFDIR="$P/etc" >"$T_TMP/install.out" 2>&1; then
	not_ok "service files: make install PREFIX=...: $(tail -c 400 "$T_TMP/install.out")"
	t_exit
fi
for f in usr/bin/gwc usr/bin/gwd usr/share/man/man1/gwc.1 usr/share/man/man8/gwd.8 \
	usr/share/man/man5/gw-routes.5 usr/share/gw/schema/gateway.schema.json \
	usr/share/doc/gw/examples/minimal.yaml usr/share/doc/gw/examples/split/routes.yaml \
	usr/lib/systemd/system/gwd.service usr/lib/systemd/system/gwd.socket \
	etc/logrotate.d/gw etc/gw/gateway.yaml etc/gw/gateway.gwb; do
	check "service files: make install writes PREFIX/$f" test -s "$P/$f"
done
UNIT=$P/usr/lib/systemd/system/gwd.service
check "service files: the unit runs PREFIX's gwd on SYSCONFDIR's blob" \
	grep -q "^ExecStart=$P/usr/bin/gwd --blob $P/etc/gw/gateway.gwb " "$UNIT"
check "service files: the installed routes name the installed schema" \
	grep -q "schema=$P/usr/share/gw/schema/gateway.schema.json" "$P/etc/gw/gateway.yaml"
echo "# edited" >>"$P/etc/gw/gateway.yaml"
cp "$P/etc/gw/gateway.yaml" "$T_TMP/edited.yaml"
mk install PREFIX="$P/usr" SYSCONFDIR="$P/etc" >"$T_TMP/install2.out" 2>&1
check "service files: a second make install keeps the edited route file" \
	cmp -s "$T_TMP/edited.yaml" "$P/etc/gw/gateway.yaml"

# ---- DESTDIR
D=$T_TMP/dest
mk install DESTDIR="$D" PREFIX=/usr >"$T_TMP/install3.out" 2>&1
check "service files: make install DESTDIR= PREFIX=/usr stages under DESTDIR" \
	test -x "$D/usr/bin/gwd" -a -s "$D/etc/gw/gateway.gwb" -a -s "$D/usr/share/man/man8/gwd.8"
check "service files: ... with the final paths in the unit" \
	grep -q '^ExecStart=/usr/bin/gwd --blob /etc/gw/gateway.gwb ' "$D/usr/lib/systemd/system/gwd.service"
mk uninstall DESTDIR="$D" PREFIX=/usr >"$T_TMP/uninstall.out" 2>&1
left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
expect_eq "service files: make uninstall leaves only the routes and their blob" \
	"./etc/gw/gateway.gwb ./etc/gw/gateway.yaml " "$left"

# ---- systemd-analyze
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$T_TMP" && MANPATH=$P/usr/share/man systemd-analyze verify "$UNIT" \
		"$P/usr/lib/systemd/system/gwd.socket" 2>&1)
	rc=$?
	check "service files: systemd-analyze verify gwd.service gwd.socket: exit 0, no message ($out)" \
		test "$rc" -eq 0 -a -z "$out"
	exposure=$(systemd-analyze security --offline=yes "$UNIT" 2>&1 |
		sed -n 's/.*Overall exposure level for gwd.service: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security --offline: exposure $exposure (0 = most sandboxed, 10 = none)"
	check "service files: sandbox exposure at most 2.0 of 10 (got '$exposure')" \
		python3 -c "import sys; sys.exit(0 if '$exposure' and float('$exposure') <= 2.0 else 1)"
else
	not_ok "service files: systemd-analyze is installed (Makefile DEB_PKG: systemd)"
fi
for want in Type=notify User=gw ExecReload= ExecStartPre= StateDirectory=gw ProtectSystem=strict \
	NoNewPrivileges=yes PrivateTmp=yes CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
	AmbientCapabilities=CAP_NET_BIND_SERVICE; do
	check "service files: the unit sets $want" grep -q "^$want" "$UNIT"
done
nofile=$(sed -n 's/^LimitNOFILE=//p' "$UNIT")
check "service files: LimitNOFILE ($nofile) > the default max_connections 4096 + 128" \
	test "${nofile:-0}" -gt 4224

# the unit's command lines as written, the state and log directories moved here
pre=$(sed -n 's/^ExecStartPre=//p' "$UNIT")
check "service files: ExecStartPre succeeds ($pre)" bash -c "$pre >/dev/null"
start=$(sed -n 's/^ExecStart=//p' "$UNIT")
PORT=$(free_port)
start=${start//\/var\/lib\/gw/$T_TMP\/state}
start=${start//\/var\/log\/gw/$T_TMP\/logs}
start=${start//127.0.0.1:8080/127.0.0.1:$PORT}
mkdir -p "$T_TMP/state" "$T_TMP/logs"
$start --threads 2 2>>"$T_TMP/gwd.err" &
GWD_PID=$!
T_PIDS+=("$GWD_PID")
if wait_http "http://127.0.0.1:$PORT/health" 10; then
	ok "service files: ExecStart's command line serves"
	curl -s -o /dev/null "http://127.0.0.1:$PORT/api/hello?name=before-rotation"
	# logrotate: the snippet, on this log, as this test's user (no gw user
	# here), its postrotate signalling this gwd
	sed -e "s|/var/log/gw/|$T_TMP/logs/|" -e "s|^\(\s*\)su gw gw|\1su $(id -un) $(id -gn)|" \
		-e "s|systemctl reload gwd.service.*|kill -HUP $GWD_PID|" \
		"$P/etc/logrotate.d/gw" >"$T_TMP/logrotate.conf"
	sleep 1.2 # the access log is flushed once a second
	if command -v logrotate >/dev/null; then
		logrotate -f -s "$T_TMP/logrotate.state" "$T_TMP/logrotate.conf" 2>"$T_TMP/logrotate.err"
		check "service files: logrotate runs the snippet ($(head -c 200 "$T_TMP/logrotate.err"))" \
			test "$?" -eq 0
		sleep 0.3
		curl -s -o /dev/null "http://127.0.0.1:$PORT/api/hello?name=after-rotation"
		sleep 1.2
		check "service files: the rotated log holds the request before" \
			grep -q before-rotation "$T_TMP/logs/access.log.1"
		check "service files: gwd writes the request after to the new access.log" \
			grep -q after-rotation "$T_TMP/logs/access.log"
	else
		not_ok "service files: logrotate is installed (Makefile DEB_PKG)"
	fi
else
	not_ok "service files: ExecStart's command line serves: $(tail -c 300 "$T_TMP/gwd.err")"
fi
t_stop_all

# the descriptor limit below max_connections: gwd says so
PORT=$(free_port)
(ulimit -n 1024 && exec "$GWD" --blob "$P/etc/gw/gateway.gwb" --listen "127.0.0.1:$PORT" \
	--db "$T_TMP/nofile.db" --threads 1) 2>"$T_TMP/nofile.err" &
T_PIDS+=("$!")
wait_http "http://127.0.0.1:$PORT/health" 10
t_stop_all
check "service files: gwd warns when the descriptor limit is below max_connections ($(head -c 300 "$T_TMP/nofile.err"))" \
	grep -q "descriptor limit (1024) is below max_connections (4096)" "$T_TMP/nofile.err"

# ---- man pages
if command -v mandoc >/dev/null; then
	for m in "$GW_ROOT"/docs/man/*.[158]; do
		# whether another page exists depends on the machine's man database:
		# those cross-references are checked below instead
		out=$(mandoc -Tlint "$m" 2>&1 |
			grep -v -e 'referenced manual not found' -e 'outdated mandoc.db')
		check "service files: mandoc -Tlint $(basename "$m") is clean ($out)" test -z "$out"
	done
	for x in $(grep -ho '^\.Xr g[a-z-]* [158]' "$GW_ROOT"/docs/man/* | sed 's/^\.Xr //; s/ /./' | sort -u); do
		check "service files: the man page $x referenced exists" test -s "$GW_ROOT/docs/man/$x"
	done
else
	not_ok "service files: mandoc is installed (Makefile DEB_PKG)"
fi
sed -n '/^\.Sh EXAMPLES/,/^\.Sh/p' "$GW_ROOT/docs/man/gw-routes.5" |
	sed -n '/^\.Bd -literal/,/^\.Ed/p' | sed '1d;$d' >"$T_TMP/man-example.yaml"
check "service files: gw-routes(5)'s example is a valid route file" \
	"$GWC" check "$T_TMP/man-example.yaml"
t_exit
