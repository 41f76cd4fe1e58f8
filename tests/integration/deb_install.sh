#!/usr/bin/env bash
# The Debian package in a fresh Debian 12 root: `make deb` builds
# build/gw_VERSION_ARCH.deb; a minimal bookworm root (debootstrap
# --variant=minbase, with exactly the packages the .deb's Depends names, so
# that a missing dependency shows) is unpacked afresh from its cache; in it:
#   dpkg -i  -> the gw user, /var/lib/gw and /var/log/gw owned by it, the
#              default routes and their blob in /etc/gw, gwd.service enabled
#              (the multi-user.target.wants link) and not started, man pages;
#   the installed gwc checks and compiles, gwd --check verifies, gwd (as gw)
#   serves on 127.0.0.1: a request made from inside the root with bash's
#   /dev/tcp is answered, a user added with `gwd users add` logs in;
#   dpkg -r  -> binaries and unit gone, the database and /etc/gw kept;
#   dpkg -P  -> the blob and the logs gone, the database still kept.
#
# The root is cached as build/chroot/bookworm-minbase-HASH.tar.gz (HASH of
# the package list; GW_CHROOT_CACHE=DIR puts it elsewhere): the first run
# builds it from the Debian mirror of /etc/apt/sources.list* (45 s on a quiet
# 2-core machine, 4 to 6.5 min under other builds' load), later runs unpack
# it in a few seconds.
# Needs root (chroot, dpkg in the root).
source "$(dirname "$0")/lib.sh"

# debootstrap mounts /proc and /sys (and may bind /dev) in the root it
# builds while it runs: were it interrupted, nothing under T_TMP may stay
# mounted when the EXIT trap removes T_TMP
unmount_under_tmp() {
	local m
	for m in $(awk -v t="$T_TMP/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
}
trap 'unmount_under_tmp; t_cleanup' EXIT

CACHE_DIR=${GW_CHROOT_CACHE:-$GW_ROOT/build/chroot}
SUITE=bookworm
ROOT=$T_TMP/root

if [[ $(id -u) -ne 0 ]]; then
	not_ok "deb: runs as root (chroot and dpkg in a Debian root)"
	t_exit
fi

# the package
if ! make -C "$GW_ROOT" --no-print-directory deb >"$T_TMP/deb.out" 2>&1; then
	not_ok "deb: make deb: $(tail -c 400 "$T_TMP/deb.out")"
	t_exit
fi
VERSION=$(sed -n 's/^#define GW_VERSION "\(.*\)"$/\1/p' "$GW_ROOT/lib/version.h")
DEB=$GW_ROOT/build/gw_${VERSION}_$(dpkg --print-architecture).deb
check "deb: make deb wrote $(basename "$DEB")" test -s "$DEB"
expect_eq "deb: the package is gw $VERSION" "gw $VERSION" \
	"$(dpkg-deb -f "$DEB" Package) $(dpkg-deb -f "$DEB" Version)"
depends=$(dpkg-deb -f "$DEB" Depends)
for lib in libmicrohttpd12 libgnutls30 libsqlite3-0 libyaml-0-2 libsystemd0 adduser; do
	check "deb: Depends names $lib" grep -q "\b$lib\b" <<<"$depends"
done
check "deb: /etc/gw/gateway.yaml is a conffile" \
	bash -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -xOf - ./conffiles | grep -qx /etc/gw/gateway.yaml"

# the Debian mirror apt uses here
mirror=$(sed -n -e 's/^URIs: *\(http[^ ]*\/debian\)\/*$/\1/p' \
	-e 's/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\/debian\)\/* bookworm .*/\2/p' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
	2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}

# a minbase root with the Depends' packages (names without versions)
pkgs=$(tr ',' '\n' <<<"$depends" | sed 's/(.*)//; s/|.*//; s/ //g' | grep -v '^$' | sort -u |
	paste -sd, -)
key=$(printf '%s %s %s\n' "$SUITE" minbase "$pkgs" | sha256sum | cut -c1-12)
tarball=$CACHE_DIR/$SUITE-minbase-$key.tar.gz
if [[ ! -s $tarball ]]; then
	if ! curl -fsS -m 10 -o /dev/null "$mirror/dists/$SUITE/Release"; then
		not_ok "deb: the Debian mirror $mirror answers (needed once, to build the root cache)"
		t_exit
	fi
	t0=$(date +%s)
	if ! debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$T_TMP/boot" "$mirror" \
		>"$T_TMP/debootstrap.log" 2>&1; then
		not_ok "deb: debootstrap $SUITE from $mirror: $(tail -c 400 "$T_TMP/debootstrap.log")"
		t_exit
	fi
	# what an unpacked root does not need again
	rm -rf "$T_TMP/boot"/var/cache/apt/archives/*.deb "$T_TMP/boot"/var/lib/apt/lists/*_Packages
	mkdir -p "$CACHE_DIR"
	tar -C "$T_TMP/boot" -cf - . | gzip -1 >"$tarball.tmp" && mv "$tarball.tmp" "$tarball"
	rm -rf "$T_TMP/boot"
	echo "# debootstrap --variant=minbase $SUITE ($pkgs): $(($(date +%s) - t0)) s, cached"
fi
mkdir -p "$ROOT"
if ! tar -C "$ROOT" -xzf "$tarball"; then
	not_ok "deb: unpack the Debian root from $tarball"
	rm -f "$tarball"
	t_exit
fi
check "deb: the root is Debian 12" grep -q '^12\.' "$ROOT/etc/debian_version"
check "deb: gw is not installed in the fresh root" \
	bash -c "! chroot '$ROOT' dpkg-query -W gw >/dev/null 2>&1"

# inroot: run a command inside the root (a minimal PATH and environment)
inroot() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
export -f inroot
export ROOT
# procs_in_root: how many processes run with the root as their /
procs_in_root() {
	local p n=0
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/root" 2>/dev/null) == "$ROOT" ]] && n=$((n + 1))
	done
	echo "$n"
}

cp "$DEB" "$ROOT/tmp/gw.deb"
if ! inroot dpkg -i /tmp/gw.deb >"$T_TMP/dpkg-i.out" 2>&1; then
	not_ok "deb: dpkg -i in the root: $(tail -c 600 "$T_TMP/dpkg-i.out")"
	t_exit
fi
ok "deb: dpkg -i installs gw in the fresh root"
check "deb: the gw system user exists" bash -c "inroot getent passwd gw >/dev/null"
gw_uid=$(inroot id -u gw) gw_gid=$(inroot id -g gw)
check "deb: gw is a system user (uid $gw_uid < 1000) with no login shell" \
	bash -c "[[ $gw_uid -lt 1000 ]] && inroot getent passwd gw | grep -q ':/usr/sbin/nologin$'"
expect_eq "deb: /var/lib/gw belongs to gw, mode 750" "gw gw 750" "$(inroot stat -c '%U %G %a' /var/lib/gw)"
expect_eq "deb: /var/log/gw belongs to gw" "gw gw" "$(inroot stat -c '%U %G' /var/log/gw)"
check "deb: /etc/gw/gateway.yaml installed" test -s "$ROOT/etc/gw/gateway.yaml"
check "deb: the postinst compiled /etc/gw/gateway.gwb" test -s "$ROOT/etc/gw/gateway.gwb"
check "deb: gwd.service enabled (multi-user.target.wants)" \
	test -L "$ROOT/etc/systemd/system/multi-user.target.wants/gwd.service"
check "deb: gwd.socket not enabled" \
	test ! -e "$ROOT/etc/systemd/system/sockets.target.wants/gwd.socket"
expect_eq "deb: nothing started by the installation (processes in the root)" 0 "$(procs_in_root)"
for f in /lib/systemd/system/gwd.service /lib/systemd/system/gwd.socket /etc/logrotate.d/gw \
	/usr/share/man/man1/gwc.1.gz /usr/share/man/man8/gwd.8.gz /usr/share/man/man5/gw-routes.5.gz \
	/usr/share/gw/schema/gateway.schema.json /usr/share/doc/gw/examples/minimal.yaml; do
	check "deb: installs $f" test -s "$ROOT$f"
done
check "deb: the unit runs /usr/bin/gwd on /etc/gw/gateway.gwb" \
	grep -q '^ExecStart=/usr/bin/gwd --blob /etc/gw/gateway.gwb ' "$ROOT/lib/systemd/system/gwd.service"

# the installed binaries
check "deb: gwc --version in the root" bash -c "inroot gwc --version | grep -qx 'gwc $VERSION'"
check "deb: gwd --version in the root" bash -c "inroot gwd --version | grep -qx 'gwd $VERSION'"
check "deb: gwc check /etc/gw/gateway.yaml" inroot gwc check /etc/gw/gateway.yaml
check "deb: gwc compile /etc/gw/gateway.yaml" \
	inroot gwc compile /etc/gw/gateway.yaml -o /etc/gw/gateway.gwb
check "deb: gwd --check on the compiled blob, as gw" \
	bash -c "chroot --userspec=$gw_uid:$gw_gid '$ROOT' /usr/bin/gwd --check --blob /etc/gw/gateway.gwb >/dev/null"
printf 'secret-pw\n' | chroot --userspec="$gw_uid:$gw_gid" "$ROOT" /usr/bin/gwd users add alice \
	--db /var/lib/gw/gwd.db >"$T_TMP/users.out" 2>&1
check "deb: gwd users add, as gw, into /var/lib/gw ($(tr '\n' ' ' <"$T_TMP/users.out"))" \
	test -s "$ROOT/var/lib/gw/gwd.db"

PORT=$(free_port)
chroot --userspec="$gw_uid:$gw_gid" "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin \
	/usr/bin/gwd --blob /etc/gw/gateway.gwb --listen "127.0.0.1:$PORT" --db /var/lib/gw/gwd.db \
	--access-log /var/log/gw/access.log --threads 2 2>>"$T_TMP/gwd.err" &
GWD_PID=$!
T_PIDS+=("$GWD_PID")
if wait_http "http://127.0.0.1:$PORT/health" 10; then
	# one request from inside the root, with bash alone (no client installed)
	reply=$(inroot bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'GET /api/hello?name=chroot HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3; cat <&3")
	check "deb: the installed gwd answers a request made inside the root (200)" \
		grep -q '^HTTP/1.1 200' <<<"$reply"
	check "deb: ... with the route's body" grep -q '"message":"hello, chroot"' <<<"$reply"
	body='{"username":"alice","password":"secret-pw"}'
	reply=$(inroot bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${#body}\r\nConnection: close\r\n\r\n%s' '$body' >&3; cat <&3")
	check "deb: alice logs in (the database in /var/lib/gw)" \
		grep -q '^HTTP/1.1 200' <<<"$reply"
	kill -TERM "$GWD_PID"
	wait "$GWD_PID"
	expect_eq "deb: the installed gwd exits 0 on SIGTERM" 0 "$?"
	check "deb: the access log in /var/log/gw has the request" \
		grep -q 'name=chroot' "$ROOT/var/log/gw/access.log"
else
	not_ok "deb: the installed gwd serves in the root: $(tail -c 400 "$T_TMP/gwd.err")"
fi

# remove: the database and the configuration stay
if inroot dpkg -r gw >"$T_TMP/dpkg-r.out" 2>&1; then ok "deb: dpkg -r gw"
else not_ok "deb: dpkg -r gw: $(tail -c 400 "$T_TMP/dpkg-r.out")"; fi
check "deb: dpkg -r removes the binaries" test ! -e "$ROOT/usr/bin/gwd" -a ! -e "$ROOT/usr/bin/gwc"
check "deb: dpkg -r removes the unit" test ! -e "$ROOT/lib/systemd/system/gwd.service"
check "deb: dpkg -r keeps the database" test -s "$ROOT/var/lib/gw/gwd.db"
check "deb: dpkg -r keeps /etc/gw/gateway.yaml" test -s "$ROOT/etc/gw/gateway.yaml"
if inroot dpkg -P gw >"$T_TMP/dpkg-p.out" 2>&1; then ok "deb: dpkg -P gw"
else not_ok "deb: dpkg -P gw: $(tail -c 400 "$T_TMP/dpkg-p.out")"; fi
check "deb: dpkg -P removes /etc/gw and the logs" test ! -e "$ROOT/etc/gw" -a ! -e "$ROOT/var/log/gw"
check "deb: dpkg -P removes the enablement link" \
	test ! -e "$ROOT/etc/systemd/system/multi-user.target.wants/gwd.service"
check "deb: dpkg -P still keeps the database" test -s "$ROOT/var/lib/gw/gwd.db"
t_exit
