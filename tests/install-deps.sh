#!/usr/bin/env bash
# Install the Debian packages named on the command line that are missing.
# Used by `make test`, `make run`, `make bench`: a fresh Debian 12 machine needs
# nothing else.  Runs apt-get as root, or through sudo when present.
set -euo pipefail
missing=()
for p in "$@"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$st" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
	sudo=()
elif command -v sudo >/dev/null; then
	sudo=(sudo)
else
	echo "install-deps: missing ${missing[*]} and not root (no sudo): install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
