#!/usr/bin/env bash
# Build the gw Debian package from a tree staged by `make install`
# (`make deb` calls it): DEBIAN/ from dist/debian, Depends from the ELF
# binaries' libraries (dpkg-shlibdeps), then dpkg-deb.
#
#   dist/debian/build-deb.sh STAGE VERSION OUT.deb
set -euo pipefail
stage=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)

# the binaries, without their debugging sections
for b in "$stage"/usr/bin/gwc "$stage"/usr/bin/gwd; do
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$b"
done
# Debian keeps each package's manual pages compressed
find "$stage/usr/share/man" -type f -name '*.[158]' -exec gzip -9n {} +

# dpkg-shlibdeps reads debian/control from the current directory
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
printf 'Source: gw\n\nPackage: gw\nArchitecture: any\n' >"$work/debian/control"
# (its warning that the binaries sit outside debian/PACKAGE is moot here)
depends=$(cd "$work" && dpkg-shlibdeps -O "-e$stage/usr/bin/gwc" "-e$stage/usr/bin/gwd" \
	2> >(grep -v 'should already be installed in their package' >&2) |
	sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || { echo "build-deb: dpkg-shlibdeps found no libraries" >&2; exit 1; }

mkdir -p "$stage/DEBIAN"
install -m 0644 "$here/conffiles" "$stage/DEBIAN/conffiles"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" \
	-e "s|@DEPENDS@|$depends|" "$here/control.in" >"$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
	xargs md5sum) >"$stage/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "build-deb: $out (Depends: $depends, adduser, init-system-helpers)"
