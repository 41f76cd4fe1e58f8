#!/usr/bin/env bash
# Sessions and API keys end to end, against bin/gwd on 127.0.0.1 with a real
# SQLite file: login (right and wrong password, unknown user, malformed
# bodies), the token by header and by cookie, logout, idle and absolute expiry,
# API keys, users and keys deleted while gwd runs, the database going away and
# coming back (503, /health degraded, public routes unaffected), deleted and
# made afresh (the old file's sessions refused), and the
# durability test: many logins under load, kill -9, restart, every login that
# was answered 200 still works and PRAGMA integrity_check is ok.
source "$(dirname "$0")/lib.sh"

DB=$T_TMP/var/gwd.db
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
GWD_PID=

cat >"$T_TMP/sessions.yaml" <<'EOF'
version: 1
settings:
  sessions:
    cookie: sid
    idle_timeout: 30m
    lifetime: 1h
policies:
  session:
    auth:
      type: session
      user_header: X-Gw-User
  machines:
    auth:
      type: api_key
routes:
  - path: /health
    methods: [GET]
    health: {}
  - path: /auth/login
    methods: [POST]
    login: {}
  - path: /auth/logout
    methods: [POST]
    policies: [session]
    logout: {}
  - path: /private
    methods: [GET]
    policies: [session]
    respond:
      status: 200
      body: 'private'
  - path: /machine
    methods: [GET]
    policies: [machines]
    respond:
      status: 200
      body: 'machine'
  - path: /public
    methods: [GET]
    respond:
      status: 200
      body: 'public'
  - path: /metrics
    methods: [GET]
    metrics: {}
EOF
# the same routes with short session times, for the expiry checks
sed -e 's/idle_timeout: 30m/idle_timeout: 8s/' -e 's/lifetime: 1h/lifetime: 20s/' \
	"$T_TMP/sessions.yaml" >"$T_TMP/short.yaml"

start_gwd() { # $1: blob, $2: HTTP threads (2)
	"$GWD" --blob "$1" --listen "127.0.0.1:$PORT" --threads "${2:-2}" --db "$DB" \
		--access-log "$T_TMP/access.log" >>"$T_TMP/gwd.log" 2>&1 &
	GWD_PID=$!
	T_PIDS+=("$GWD_PID")
	wait_http "$BASE/public" 10
}

stop_gwd() {
	kill -TERM "$GWD_PID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$GWD_PID" 2>/dev/null || break; sleep 0.05; done
	wait "$GWD_PID" 2>/dev/null
}

# login USER PASS: prints "STATUS TOKEN" (lib.sh's t_login against gwd)
login() { t_login "$BASE" "$1" "$2"; }
token_of() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$1"; }
status() { curl -s -m 15 -o /dev/null -w '%{http_code}' "$@"; }
# the same credential with its last character changed
mangle() { if [[ ${1: -1} == A ]]; then printf '%sB' "${1%?}"; else printf '%sA' "${1%?}"; fi; }

if ! "$GWC" compile "$T_TMP/sessions.yaml" -o "$T_TMP/sessions.gwb" >"$T_TMP/gwc.log" 2>&1 ||
   ! "$GWC" compile "$T_TMP/short.yaml" -o "$T_TMP/short.gwb" >>"$T_TMP/gwc.log" 2>&1; then
	not_ok "compile the test routes: $(head -3 "$T_TMP/gwc.log")"
	t_exit
fi
printf 'wonderland\n' | "$GWD" users add alice --db "$DB" >/dev/null 2>&1
printf 'looking-glass\n' | "$GWD" users add bob --db "$DB" >/dev/null 2>&1
check "gwd starts" start_gwd "$T_TMP/sessions.gwb"

# ---- login --------------------------------------------------------------
t_before=$(date +%s)
out=$(curl -s -m 10 -D "$T_TMP/hdr" -o "$T_TMP/body" -w '%{http_code}' -X POST \
	-H 'Content-Type: application/json' \
	-d '{"username":"alice","password":"wonderland"}' "$BASE/auth/login")
expect_eq "login: 200" 200 "$out"
TOKEN=$(token_of "$(cat "$T_TMP/body")" 2>/dev/null)
check "login: token of 43 base64url characters" grep -Eqx '[A-Za-z0-9_-]{43}' <<<"$TOKEN"
exp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["expires_at"])' "$T_TMP/body" 2>/dev/null)
t_after=$(date +%s)
check "login: expires_at is login + lifetime" \
	test "${exp:-0}" -ge $((t_before + 3600 - 1)) -a "${exp:-0}" -le $((t_after + 3600 + 1))
cookie=$(grep -i '^Set-Cookie:' "$T_TMP/hdr" | tr -d '\r')
check "login: cookie carries the token" grep -q "sid=$TOKEN" <<<"$cookie"
for attr in 'HttpOnly' 'SameSite=Strict' 'Path=/' 'Max-Age=3600'; do
	check "login: cookie has $attr" grep -q "; $attr" <<<"$cookie"
done
check "login: no Secure without TLS" bash -c '! grep -q "Secure" <<<"$1"' _ "$cookie"
expect_eq "bearer token: 200" 200 "$(status -H "Authorization: Bearer $TOKEN" "$BASE/private")"
# the access log is written in batches: wait for it (up to 20 s)
for _ in $(seq 200); do grep -q "/private" "$T_TMP/access.log" 2>/dev/null && break; sleep 0.1; done
check "the access log has the request" grep -q "/private" "$T_TMP/access.log"
check "token in neither gwd's output nor its access log" \
	bash -c '! grep -qF "$1" "$2" "$3"' _ "$TOKEN" "$T_TMP/gwd.log" "$T_TMP/access.log"

expect_eq "wrong password: 401" 401 "$(login alice nope | cut -d' ' -f1)"
expect_eq "unknown user: 401" 401 "$(login mallory wonderland | cut -d' ' -f1)"
login alice nope >/dev/null; b1=$(cat "$T_TMP/login.body")
login mallory nope >/dev/null; b2=$(cat "$T_TMP/login.body")
expect_eq "same 401 body for wrong password and unknown user" \
	"$(sed 's/"request_id":"[^"]*"//' <<<"$b1")" "$(sed 's/"request_id":"[^"]*"//' <<<"$b2")"

# the same cost whether the user exists or not: gwd's own CPU time (every
# thread, from /proc) over 9 logins with a wrong password for a known user and
# 9 for an unknown one, within 2x (the password check costs tens of ms either
# way, and skipping it for unknown users would cost next to nothing).  CPU
# time, not elapsed time: what a loaded machine adds is waiting, which is not
# counted; the two users alternate in batches of 3.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$GWD_PID/stat"; }
bad_logins() { # user: 3 logins with a wrong password
	local i
	for i in 1 2 3; do
		curl -s -m 20 -o /dev/null -X POST -H 'Content-Type: application/json' \
			-d "{\"username\":\"$1\",\"password\":\"nope\"}" "$BASE/auth/login"
	done
}
ck=0 cu=0
for _ in 1 2 3; do
	c0=$(cpu_ticks); bad_logins alice; c1=$(cpu_ticks); bad_logins mallory; c2=$(cpu_ticks)
	ck=$((ck + c1 - c0)); cu=$((cu + c2 - c1))
done
check "401 costs gwd similar CPU for a known and an unknown user ($ck and $cu ticks of $(getconf CLK_TCK)/s)" \
	test $((ck * 2)) -ge "$cu" -a $((cu * 2)) -ge "$ck" -a "$ck" -gt 0

for body in '' '{' '[]' 'null' '{"username":"alice"}' '{"password":"x"}' \
	'{"username":1,"password":"x"}' '{"username":"alice","password":"wonderland"} x' \
	'{"username":"a\u0000b","password":"x"}'; do
	code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary "$body" "$BASE/auth/login")
	expect_eq "malformed body '$body': 400" 400 "$code"
done
# login CSRF: a cross-site form can send text/plain or urlencoded, not JSON
for ct in 'text/plain' 'application/x-www-form-urlencoded' 'application/jsonx'; do
	code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H "Content-Type: $ct" \
		-d '{"username":"alice","password":"wonderland"}' "$BASE/auth/login")
	expect_eq "login with Content-Type $ct: 415" 415 "$code"
done
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json; charset=utf-8' \
	-d '{"username":"alice","password":"wonderland"}' "$BASE/auth/login")
expect_eq "login with Content-Type application/json; charset=utf-8: 200" 200 "$code"

# ---- the token ----------------------------------------------------------
expect_eq "bearer token: 200" 200 "$(status -H "Authorization: Bearer $TOKEN" "$BASE/private")"
expect_eq "cookie: 200" 200 "$(status -H "Cookie: a=b; sid=$TOKEN" "$BASE/private")"
expect_eq "no token: 401" 401 "$(status "$BASE/private")"
expect_eq "wrong token: 401" 401 "$(status -H "Authorization: Bearer $(mangle "$TOKEN")" "$BASE/private")"
curl -s -m 5 -D "$T_TMP/hdr" -o "$T_TMP/body" "$BASE/private" >/dev/null
check "401 names the scheme in WWW-Authenticate" grep -qi '^WWW-Authenticate: Bearer' "$T_TMP/hdr"
check "401 is problem+json" grep -qi '^Content-Type: application/problem+json' "$T_TMP/hdr"
expect_eq "public route without a token: 200" 200 "$(status "$BASE/public")"

# ---- logout -------------------------------------------------------------
T2=$(login alice wonderland | cut -d' ' -f2)
code=$(curl -s -m 5 -D "$T_TMP/hdr" -o /dev/null -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $T2" "$BASE/auth/logout")
expect_eq "logout: 204" 204 "$code"
check "logout clears the cookie" grep -qi '^Set-Cookie: sid=;.*Max-Age=0' "$T_TMP/hdr"
ok_after=0
for _ in $(seq 20); do  # two pool threads: each must refuse it at once
	[[ $(status -H "Authorization: Bearer $T2" "$BASE/private") == 401 ]] || ok_after=$((ok_after + 1))
done
expect_eq "logged-out token refused at once, on every thread" 0 "$ok_after"
expect_eq "logout again: 401" 401 "$(status -X POST -H "Authorization: Bearer $T2" "$BASE/auth/logout")"
expect_eq "the other session lives on" 200 "$(status -H "Authorization: Bearer $TOKEN" "$BASE/private")"

# ---- a logout waiting for a locked database stalls no connection ---------
# One HTTP thread; another process holds the database's write lock until told
# (4.5 s at most: gwd's busy timeout is 5 s).  The logout waits for it on the
# job pool, and the thread keeps serving: public requests are answered while
# the logout is still waiting, which is counted, not timed.
stop_gwd
check "gwd starts with one HTTP thread" start_gwd "$T_TMP/sessions.gwb" 1
T3=$(login alice wonderland | cut -d' ' -f2)
python3 -c '
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE"); open(sys.argv[2], "w").close()
end = time.monotonic() + 4.5
while time.monotonic() < end and not os.path.exists(sys.argv[3]): time.sleep(0.02)
c.execute("ROLLBACK")' \
	"$DB" "$T_TMP/locked" "$T_TMP/release" &
LOCKER=$!
for _ in $(seq 500); do [[ -e $T_TMP/locked ]] && break; sleep 0.02; done
curl -s -m 20 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $T3" \
	"$BASE/auth/logout" >"$T_TMP/logout_code" &
LOGOUT=$!
# the logout has reached the job pool once gwd counts two requests in flight
# (it and the /metrics request asking)
for _ in $(seq 100); do
	[[ $(curl -s -m 5 "$BASE/metrics" | sed -n 's/^gateway_inflight_requests //p') -ge 2 ]] 2>/dev/null && break
	sleep 0.02
done
# five requests from one curl (a process each is slow on a loaded machine)
five=(); for _ in 1 2 3 4 5; do five+=(-o /dev/null "$BASE/public"); done
served=$(curl -s -m 10 -w '%{http_code}\n' "${five[@]}" | grep -c '^200$')
kill -0 "$LOGOUT" 2>/dev/null && waiting=yes || waiting="no ($(cat "$T_TMP/logout_code"))"
touch "$T_TMP/release"
expect_eq "while a logout waits for the lock, public requests are served ($served of 5)" 5 "$served"
expect_eq "and the logout was still waiting meanwhile" yes "$waiting"
wait "$LOGOUT"; wait "$LOCKER"
expect_eq "the logout completes once the lock is released: 204" 204 "$(cat "$T_TMP/logout_code")"
expect_eq "and its token is refused" 401 "$(status -H "Authorization: Bearer $T3" "$BASE/private")"
stop_gwd
check "gwd restarts with two HTTP threads" start_gwd "$T_TMP/sessions.gwb"

# ---- API keys and deletions while gwd runs ------------------------------
KEY=$("$GWD" keys add ci --db "$DB" 2>/dev/null)
expect_eq "api key: 200" 200 "$(status -H "X-API-Key: $KEY" "$BASE/machine")"
expect_eq "no api key: 401" 401 "$(status "$BASE/machine")"
expect_eq "wrong api key: 401" 401 "$(status -H "X-API-Key: $(mangle "$KEY")" "$BASE/machine")"
expect_eq "a session token is not an api key" 401 "$(status -H "X-API-Key: $TOKEN" "$BASE/machine")"
"$GWD" keys del ci --db "$DB" >/dev/null 2>&1
code=200
for _ in $(seq 150); do
	code=$(status -H "X-API-Key: $KEY" "$BASE/machine"); [[ $code == 401 ]] && break; sleep 0.1
done
expect_eq "deleted key refused within seconds" 401 "$code"
TB=$(login bob looking-glass | cut -d' ' -f2)
expect_eq "bob's token works" 200 "$(status -H "Authorization: Bearer $TB" "$BASE/private")"
"$GWD" users del bob --db "$DB" >/dev/null 2>&1
code=200
for _ in $(seq 150); do
	code=$(status -H "Authorization: Bearer $TB" "$BASE/private"); [[ $code == 401 ]] && break; sleep 0.1
done
expect_eq "deleted user's session refused within seconds" 401 "$code"

# ---- the database goes away and comes back ------------------------------
mv "$DB" "$DB.away"
code=200
for _ in $(seq 150); do
	code=$(status -H "Authorization: Bearer $TOKEN" "$BASE/private"); [[ $code == 503 ]] && break; sleep 0.1
done
expect_eq "database gone: guarded route 503" 503 "$code"
expect_eq "database gone: login 503" 503 "$(login alice wonderland | cut -d' ' -f1)"
expect_eq "database gone: public route 200" 200 "$(status "$BASE/public")"
check "database gone: /health degraded" grep -q degraded <<<"$(curl -s -m 5 "$BASE/health")"
mv "$DB.away" "$DB"
code=503
for _ in $(seq 150); do
	code=$(status -H "Authorization: Bearer $TOKEN" "$BASE/private"); [[ $code == 200 ]] && break; sleep 0.1
done
expect_eq "database back: the session works again" 200 "$code"

# ---- the database deleted and made afresh -------------------------------
# (its deletion counter, meta.revision, brought to the old file's number: the
# sessions cached from the old file must go all the same)
# (made aside, then put in place at once, so that gwd only ever sees it whole)
rev=$(sqlite3 -batch "$DB" "SELECT v FROM meta WHERE k = 'revision'")
printf 'wonderland\n' | "$GWD" users add alice --db "$DB.new" >/dev/null 2>&1
for _ in $(seq "${rev:-0}"); do
	"$GWD" keys add tmp --db "$DB.new" >/dev/null 2>&1
	"$GWD" keys del tmp --db "$DB.new" >/dev/null 2>&1
done
expect_eq "the new file's revision is the old one's" "$rev" \
	"$(sqlite3 -batch "$DB.new" "SELECT v FROM meta WHERE k = 'revision'")"
rm -f "$DB" "$DB-wal" "$DB-shm"
mv "$DB.new" "$DB"
code=200
for _ in $(seq 150); do
	code=$(status -H "Authorization: Bearer $TOKEN" "$BASE/private"); [[ $code == 401 ]] && break; sleep 0.1
done
expect_eq "database made afresh: a session of the old one refused" 401 "$code"
TF=$(login alice wonderland | cut -d' ' -f2)
expect_eq "database made afresh: login and use" 200 \
	"$(status -H "Authorization: Bearer $TF" "$BASE/private")"
stop_gwd

# ---- idle and absolute expiry (idle 8s, lifetime 20s) -------------------
# The margins are wide so that a slow request on a loaded machine (seconds
# each at a load average of 20) changes nothing: a touch every 0.5 s leaves
# 7.5 s of slack under the idle timeout, and the sliding ends 8 s before the
# lifetime.
ms() { echo $(( $(date +%s%N) / 1000000 )); }
check "gwd starts with short session times" start_gwd "$T_TMP/short.gwb"
TI=$(login alice wonderland | cut -d' ' -f2)
expect_eq "short session works" 200 "$(status -H "Authorization: Bearer $TI" "$BASE/private")"
sleep 9
expect_eq "idle past the timeout: 401" 401 "$(status -H "Authorization: Bearer $TI" "$BASE/private")"
TA=$(login alice wonderland | cut -d' ' -f2)
t0=$(ms)  # the session was created before this
refused=0 used=0
while (( $(ms) - t0 < 12000 )); do  # every 0.5 s for 12 s: never idle (8 s),
	# and well inside the lifetime (20 s) even on a slow machine
	sleep 0.5
	[[ $(status -H "Authorization: Bearer $TA" "$BASE/private") == 200 ]] || refused=$((refused + 1))
	used=$((used + 1))
done
expect_eq "a session in use slides past the idle timeout ($used uses)" 0 "$refused"
while (( $(ms) - t0 < 20300 )); do  # still in use, up to past the lifetime
	sleep 0.4
	status -H "Authorization: Bearer $TA" "$BASE/private" >/dev/null
done
expect_eq "past the lifetime, even in use: 401" 401 \
	"$(status -H "Authorization: Bearer $TA" "$BASE/private")"
stop_gwd

# ---- kill -9 durability --------------------------------------------------
for i in $(seq 1 8); do printf 'pw%d\n' "$i" | "$GWD" users add "load$i" --db "$DB" >/dev/null 2>&1; done
check "gwd starts for the durability test" start_gwd "$T_TMP/sessions.gwb"
# 8 clients log in as fast as they can (and use each token once) while gwd is
# killed with SIGKILL; every token answered 200 is appended to tokens.txt as it
# comes.  The kill comes once 10 logins were acknowledged (a count, whatever
# the machine's load: each login costs tens of ms of KDF by design), and the
# clients stop when the file "stop" appears (60 s at most).
cat >"$T_TMP/load.py" <<'EOF'
import json, os, sys, threading, time, urllib.request
base, out, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
stop = os.path.join(os.path.dirname(out), "stop")
lock = threading.Lock(); f = open(out, "w")
def client(i):
    end = time.time() + secs
    while time.time() < end and not os.path.exists(stop):
        body = json.dumps({"username": "load%d" % i, "password": "pw%d" % i}).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(base + "/auth/login", body, headers={"Content-Type": "application/json"}), timeout=3) as r:
                if r.status == 200:
                    tok = json.loads(r.read())["token"]
                    with lock: f.write(tok + "\n"); f.flush()
            req = urllib.request.Request(base + "/private", headers={"Authorization": "Bearer " + tok})
            urllib.request.urlopen(req, timeout=3).read()
        except Exception:
            time.sleep(0.02)
ts = [threading.Thread(target=client, args=(i,)) for i in range(1, 9)]
[t.start() for t in ts]; [t.join() for t in ts]
f.close()
EOF
python3 "$T_TMP/load.py" "$BASE" "$T_TMP/tokens.txt" 60 &
LOAD=$!
for _ in $(seq 600); do
	[[ $(grep -c . "$T_TMP/tokens.txt" 2>/dev/null) -ge 10 ]] && break
	sleep 0.1
done
kill -KILL "$GWD_PID"
wait "$GWD_PID" 2>/dev/null
touch "$T_TMP/stop"
wait "$LOAD"
n=$(grep -c . "$T_TMP/tokens.txt")
check "logins acknowledged before the kill ($n)" test "$n" -ge 10
expect_eq "integrity_check after kill -9" ok "$(sqlite3 -batch "$DB" 'PRAGMA integrity_check')"
check "gwd restarts on the same database" start_gwd "$T_TMP/sessions.gwb"
lost=0
while read -r tok; do
	[[ -z $tok ]] && continue
	[[ $(status -H "Authorization: Bearer $tok" "$BASE/private") == 200 ]] || lost=$((lost + 1))
done <"$T_TMP/tokens.txt"
expect_eq "every acknowledged login survives kill -9" 0 "$lost"
stop_gwd
expect_eq "integrity_check after restart" ok "$(sqlite3 -batch "$DB" 'PRAGMA integrity_check')"
t_exit
