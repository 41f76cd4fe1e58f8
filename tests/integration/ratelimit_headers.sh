#!/usr/bin/env bash
# The rate-limit fields a limited route sends, through the real gwd: all five by
# default, the IETF pair with `headers: ietf`, none with `headers: none`; a
# refusal is 429 with Retry-After (at least 1) in every mode.
source "$(dirname "$0")/lib.sh"

cat >"$T_TMP/rl.yaml" <<'EOF2'
version: 1
policies:
  all:  {rate_limit: {rate: 2/min}}
  ietf: {rate_limit: {rate: 2/min, headers: ietf}}
  none: {rate_limit: [{rate: 2/min, headers: none}, {rate: 100/h, headers: none}]}
routes:
  - {path: /health, methods: [GET], health: {}}
  - {path: /all, methods: [GET], policies: [all], respond: {body: a}}
  - {path: /ietf, methods: [GET], policies: [ietf], respond: {body: i}}
  - {path: /none, methods: [GET], policies: [none], respond: {body: n}}
EOF2
"$GWC" compile "$T_TMP/rl.yaml" -o "$T_TMP/rl.gwb" || { not_ok "ratelimit_headers: compile"; t_exit; }
start_gwd "$T_TMP/rl.gwb" || { not_ok "ratelimit_headers: gwd starts"; t_exit; }

# fields NAME: the rate-limit field names of one GET, sorted, space-separated,
# then the status
fields() {
	local h
	h=$(curl -s -m 5 -D - -o /dev/null "http://127.0.0.1:$PORT/$1" | tr -d '\r')
	printf '%s status=%s\n' \
		"$(awk -F': ' 'tolower($1) ~ /^(x-ratelimit-|ratelimit|retry-after)/ {print tolower($1)}' <<<"$h" | sort | xargs)" \
		"$(head -n 1 <<<"$h" | cut -d' ' -f2)" | sed 's/^ //'
}
all5="ratelimit ratelimit-policy x-ratelimit-limit x-ratelimit-remaining x-ratelimit-reset"
expect_eq "ratelimit_headers: default sends all five" "$all5 status=200" "$(fields all)"
expect_eq "ratelimit_headers: headers: ietf sends the IETF pair" "ratelimit ratelimit-policy status=200" "$(fields ietf)"
expect_eq "ratelimit_headers: headers: none sends none" "status=200" "$(fields none)"
for r in all ietf none; do fields "$r" >/dev/null; done # the quota (2) is used up
expect_eq "ratelimit_headers: refused, all: 429 with the five and Retry-After" \
	"ratelimit ratelimit-policy retry-after x-ratelimit-limit x-ratelimit-remaining x-ratelimit-reset status=429" \
	"$(fields all)"
expect_eq "ratelimit_headers: refused, ietf: 429 with the pair and Retry-After" \
	"ratelimit ratelimit-policy retry-after status=429" "$(fields ietf)"
expect_eq "ratelimit_headers: refused, none: 429 with Retry-After only" \
	"retry-after status=429" "$(fields none)"
ra=$(curl -s -m 5 -D - -o /dev/null "http://127.0.0.1:$PORT/none" | tr -d '\r' | awk -F': ' 'tolower($1)=="retry-after" {print $2}')
check "ratelimit_headers: Retry-After is whole seconds, at least 1 ($ra)" test "${ra:-0}" -ge 1
t_exit
