#!/usr/bin/env bash
# The shared matching vectors (tests/vectors/match.txt) through `gwc match`:
# compile tests/vectors/match.yaml, then for every vector run
#   gwc match BLOB METHOD PATH [--host HOST]
# and compare what it prints, summarised as the vector's right-hand side
# ("200 NAME k=v... *=rest", "404", "405 allow=A,B", "400"), and its exit status
# (0 for a match, 1 otherwise).  Also: `gwc match` on the default route set
# (policies and handler shown), its usage errors, and the compile-time
# analysis of lib/trie.c as `gwc check` reports it.
source "$(dirname "$0")/lib.sh"

V=$GW_ROOT/tests/vectors
BLOB=$T_TMP/match.gwb

# summarise: gwc match's stdout on stdin -> the vectors' notation.
summarise() {
	awk '
	/^400 /                 { out = "400"; next }
	/^404 Not Found$/       { out = "404"; next }
	/^405 Method Not Allowed \(Allow: / {
		s = $0; sub(/^405 Method Not Allowed \(Allow: /, "", s); sub(/\)$/, "", s)
		gsub(/, /, ",", s); out = "405 allow=" s; next }
	/^route     /           { out = "200 " substr($0, 11); next }
	/^param     /           { out = out " " substr($0, 11); next }
	/^rest      /           { out = out " *=" substr($0, 11); next }
	END                     { print out }'
}

if "$GWC" compile "$V/match.yaml" -o "$BLOB" >"$T_TMP/compile.out" 2>&1; then
	ok "match vectors: compile match.yaml"
else
	not_ok "match vectors: compile match.yaml: $(head -5 "$T_TMP/compile.out")"
	t_exit
fi

n=0
while IFS= read -r line; do
	[[ -z "$line" || "$line" == \#* ]] && continue
	want=${line#* -> }
	read -r method host path arrow _ <<<"$line"
	if [[ "$arrow" != "->" || -z "$want" ]]; then
		not_ok "match vector: malformed line: $line"
		continue
	fi
	args=("$BLOB" "$method" "$path")
	[[ "$host" != - ]] && args+=(--host "$host")
	out=$("$GWC" match "${args[@]}" 2>"$T_TMP/match.err")
	rc=$?
	got=$(printf '%s\n' "$out" | summarise)
	want_rc=1
	[[ "$want" == 200* ]] && want_rc=0
	if [[ "$got" == "$want" && $rc -eq $want_rc ]]; then
		ok "match $method $host $path -> $want"
	else
		not_ok "match $method $host $path: expected '$want' (exit $want_rc), got '$got' (exit $rc) $(head -c 300 "$T_TMP/match.err")"
	fi
	n=$((n + 1))
done <"$V/match.txt"
[[ $n -ge 50 ]] && ok "match vectors: $n vectors read" || not_ok "match vectors: only $n vectors read"

# The default route set: policies in order with their kinds, the handler,
# the parameter, the source place.
GW_BLOB=$T_TMP/gateway.gwb
if "$GWC" compile "$GW_ROOT/routes/gateway.yaml" -o "$GW_BLOB" >"$T_TMP/gw.out" 2>&1; then
	out=$("$GWC" match "$GW_BLOB" PUT /api/users/42)
	expect_eq "gwc match: route line" "route     /api/users/{id}" "$(grep '^route ' <<<"$out")"
	expect_eq "gwc match: methods" "methods   GET, PUT" "$(grep '^methods ' <<<"$out")"
	expect_eq "gwc match: policies in order" "policies  session (auth), body-1m (body_limit)" \
		"$(grep '^policies ' <<<"$out")"
	expect_eq "gwc match: handler" "handler   proxy (upstream demo)" "$(grep '^handler ' <<<"$out")"
	expect_eq "gwc match: parameter" "param     id=42" "$(grep '^param ' <<<"$out")"
	check "gwc match: source place" grep -Eq '^source    .*routes/gateway\.yaml:[0-9]+:[0-9]+$' <<<"$out"
	out=$("$GWC" match "$GW_BLOB" GET /api/hello)
	expect_eq "gwc match: respond handler" "handler   respond (status 200)" "$(grep '^handler ' <<<"$out")"
	expect_eq "gwc match: one policy" "policies  public (rate_limit)" "$(grep '^policies ' <<<"$out")"
	out=$("$GWC" match "$GW_BLOB" GET /health)
	expect_eq "gwc match: no policy" "policies  (none)" "$(grep '^policies ' <<<"$out")"
	out=$("$GWC" match "$GW_BLOB" DELETE /api/users/42)
	expect_eq "gwc match: 405 stated" "405 Method Not Allowed (Allow: GET, HEAD, PUT)" "$(tail -1 <<<"$out")"
	out=$("$GWC" match "$GW_BLOB" GET /api/nothing)
	expect_eq "gwc match: 404 stated" "404 Not Found" "$(tail -1 <<<"$out")"
	out=$("$GWC" match "$GW_BLOB" GET '/api/%2e%2e/%2e%2e/x')
	expect_eq "gwc match: 400 stated" "400 Bad Request: '..' climbs above '/'" "$out"
	out=$("$GWC" match "$GW_BLOB" GET '/api/hello?name=x')
	expect_eq "gwc match: query ignored" "route     /api/hello" "$(grep '^route ' <<<"$out")"
else
	not_ok "gwc match: compile routes/gateway.yaml: $(head -3 "$T_TMP/gw.out")"
fi

# Usage and blob errors: exit 2.
"$GWC" match >/dev/null 2>&1
expect_eq "gwc match: no argument is a usage error" 2 $?
"$GWC" match "$BLOB" GET >/dev/null 2>&1
expect_eq "gwc match: missing PATH is a usage error" 2 $?
"$GWC" match "$BLOB" FETCH / >/dev/null 2>&1
expect_eq "gwc match: unknown method is a usage error" 2 $?
"$GWC" match "$BLOB" GET / --host >/dev/null 2>&1
expect_eq "gwc match: --host without value is a usage error" 2 $?
"$GWC" match "$BLOB" GET / --hots x >/dev/null 2>&1
expect_eq "gwc match: unknown option is a usage error" 2 $?
"$GWC" match "$T_TMP/none.gwb" GET / >/dev/null 2>&1
expect_eq "gwc match: missing blob" 2 $?
printf 'not a blob' >"$T_TMP/bad.gwb"
"$GWC" match "$T_TMP/bad.gwb" GET / >/dev/null 2>"$T_TMP/bad.err"
expect_eq "gwc match: not a blob" 2 $?
"$GWC" match --host=api.example.com "$BLOB" GET /users/me >/dev/null 2>&1
expect_eq "gwc match: --host=H before the arguments" 0 $?

# The compile-time analysis as users see it: every error, with places.
cat >"$T_TMP/bad.yaml" <<'EOF'
version: 1
routes:
  - path: /u/{id}
    methods: [GET]
    echo: {}
  - path: /u/{uid}
    methods: [GET, POST]
    echo: {}
  - path: /f/{x}
    methods: [GET]
    echo: {}
  - path: /f/{x}/*
    methods: [GET]
    echo: {}
  - name: files
    path: /f/*
    methods: [GET]
    echo: {}
EOF
out=$("$GWC" check "$T_TMP/bad.yaml" 2>&1)
rc=$?
F=$T_TMP/bad.yaml
expect_eq "gwc check: analysis errors exit 1" 1 $rc
expect_eq "gwc check: conflict reported" \
	"$F:6:5: error: route \"GET,POST /u/{uid}\" conflicts with route \"GET /u/{id}\" at $F:3:5: both match GET /u/x" \
	"$(grep -F 'conflicts' <<<"$out")"
expect_eq "gwc check: unreachable route reported" \
	"$F:15:5: error: route \"files\" (GET /f/*) can never be reached: every path it matches is taken first by route \"GET /f/{x}\" at $F:9:5 and route \"GET /f/{x}/*\" at $F:12:5, e.g. GET /f/x" \
	"$(grep -F 'never be reached' <<<"$out")"

t_exit
