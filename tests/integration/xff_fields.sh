#!/usr/bin/env bash
# X-Forwarded-For split over many header fields, through the real gwd.
#
# A trusted proxy may append its own X-Forwarded-For field line after the
# client's (HAProxy's `option forwardfor` does) rather than extend the last
# one; the client address is then read from that last field.  A client that
# sends many fields of its own must not push the proxy's field out of what
# gwd reads and so pick its address: here it would pass an ip allow-list.
# The peer, 127.0.0.1, is the trusted proxy.
source "$(dirname "$0")/lib.sh"

if [[ ! -x $GWC || ! -x $GWD ]]; then
	not_ok "xff_fields: bin/gwc and bin/gwd are built"
	t_exit
fi
cat >"$T_TMP/r.yaml" <<'EOF'
version: 1
settings:
  trusted_proxies: [127.0.0.1]
policies:
  office:
    ip:
      allow: [10.0.0.0/8]
routes:
  - path: /admin
    methods: [GET]
    policies: [office]
    respond: { body: "inside" }
EOF
if ! "$GWC" compile "$T_TMP/r.yaml" -o "$T_TMP/r.gwb" 2>"$T_TMP/gwc.err"; then
	not_ok "xff_fields: compile ($(head -1 "$T_TMP/gwc.err"))"
	t_exit
fi
if ! start_gwd "$T_TMP/r.gwb"; then
	not_ok "xff_fields: gwd starts"
	t_exit
fi
URL=http://127.0.0.1:$PORT/admin

# status N_FORGED LAST: GET with N_FORGED fields "10.1.1.k" then the proxy's
# field LAST; prints the status.
status() {
	local h=() k
	for ((k = 1; k <= $1; k++)); do h+=(-H "X-Forwarded-For: 10.1.1.$k"); done
	curl -s -m 5 -o /dev/null -w '%{http_code}' "${h[@]}" -H "X-Forwarded-For: $2" "$URL"
}

expect_eq "xff_fields: inside client via the proxy" 200 "$(status 0 10.9.9.9)"
expect_eq "xff_fields: outside client via the proxy" 403 "$(status 0 203.0.113.9)"
expect_eq "xff_fields: 1 forged field, outside client" 403 "$(status 1 203.0.113.9)"
expect_eq "xff_fields: 16 forged fields, outside client" 403 "$(status 16 203.0.113.9)"
expect_eq "xff_fields: 40 forged fields, outside client" 403 "$(status 40 203.0.113.9)"
expect_eq "xff_fields: 40 other fields, inside client" 200 "$(status 40 10.9.9.9)"
t_exit
