#!/usr/bin/env bash
# The two size rules of the house checked over the C sources of gwc/, gwd/ and lib/:
#   - a function body, from its opening '{' to its closing '}' (both at
#     column 0, the kernel style every file keeps), is at most 100 lines;
#   - a line is at most 100 characters, a tab counting as one.
# One "ok - style: ..." or "not ok - style: ..." line per rule (the form of
# tests/integration/lib.sh, so tests/run.sh counts them), each offending place
# listed above it as FILE:LINE.  Exit status 0 when both hold.
#
#   tests/style/check.sh            (also `make lint`, and part of `make test`)
set -uo pipefail
cd "$(dirname "$0")/../.."
MAX=100
# FILE:LINE: WHAT, one a line, for every function body over MAX lines.  A
# signature starts at column 0 with a letter or '_' and does not end in ';'.
long_functions() {
	awk -v max="$MAX" '
	FNR == 1 { sig = ""; open = 0 }
	/^[A-Za-z_]/ && !/;[ \t]*$/ && !open { sig = $0 }
	/^\{/ && sig != "" && !open { open = FNR }
	/^\}/ && open {
		n = FNR - open + 1
		if (n > max) {
			name = sig; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
			printf "%s:%d: %s() is %d lines\n", FILENAME, open, name, n
		}
		open = 0; sig = ""
	}' "$@"
}

long_lines() {
	awk -v max="$MAX" 'length($0) > max {
		printf "%s:%d: %d characters\n", FILENAME, FNR, length($0) }' "$@"
}

files=()
for f in gwc/*.[ch] gwd/*.[ch] lib/*.[ch]; do files+=("$f"); done
status=0

# check NAME LISTER: run LISTER over the files, report, fail on any place.
check() {
	local name=$1 lister=$2 line bad=0
	while IFS= read -r line; do
		echo "#   $line"
		bad=$((bad + 1))
	done < <("$lister" "${files[@]}")
	if [[ $bad -eq 0 ]]; then
		echo "ok - style: $name"
	else
		echo "not ok - style: $name ($bad places)"
		status=1
	fi
}

check "no function body over $MAX lines" long_functions
check "no line over $MAX characters" long_lines
exit $status
