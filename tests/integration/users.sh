#!/usr/bin/env bash
# `gwd users` and `gwd keys` against a real SQLite file: add (password from
# stdin only; no echo on a terminal), list, del, duplicates refused, passwords
# a login could not send refused, the database created with its
# directory and mode 0600, only hashes stored, the cascade to sessions, and
# the usage errors (exit 2).  Needs bin/gwd and the sqlite3 shell.
source "$(dirname "$0")/lib.sh"

DB=$T_TMP/a/b/gwd.db
q() { sqlite3 -batch -noheader "$DB" "$@"; }

# add, with the password on stdin; the directory is created
out=$(printf 'wonderland\n' | "$GWD" users add alice --db "$DB" 2>&1); rc=$?
expect_eq "users add exits 0" 0 "$rc"
check "users add creates the database and its directory" test -f "$DB"
expect_eq "database mode is 0600" 600 "$(stat -c %a "$DB")"
expect_eq "schema version" 2 "$(q 'PRAGMA user_version')"
expect_eq "journal mode is WAL" wal "$(q 'PRAGMA journal_mode')"
hash=$(q "SELECT pwhash FROM users WHERE name = 'alice'")
check "password stored as a PBKDF2 string" \
	grep -Eq '^\$pbkdf2-sha256\$i=[0-9]+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$' <<<"$hash"
check "password not stored in clear" bash -c '! grep -q wonderland "$1"' _ "$DB"

# --db after NAME (done), before NAME, as --db=PATH; a password without newline
printf 'pw2' | "$GWD" users add --db "$DB" bob >/dev/null 2>&1
expect_eq "users add with --db before NAME" 0 "$?"
printf 'pw3\r\n' | "$GWD" users add "--db=$DB" carol >/dev/null 2>&1
expect_eq "users add with --db=PATH" 0 "$?"
expect_eq "users list (name order)" "alice bob carol" \
	"$("$GWD" users list --db "$DB" | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
check "users list shows the creation time" \
	grep -Eq $'^alice\t[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' <<<"$("$GWD" users list --db "$DB")"

# refusals that leave the database as it was
out=$(printf 'other\n' | "$GWD" users add alice --db "$DB" 2>&1); rc=$?
expect_eq "duplicate users add exits 1" 1 "$rc"
check "duplicate users add says so" grep -q "already exists" <<<"$out"
expect_eq "duplicate kept the old hash" "$hash" "$(q "SELECT pwhash FROM users WHERE name = 'alice'")"
printf '' | "$GWD" users add dave --db "$DB" >/dev/null 2>&1
expect_eq "empty stdin refused" 1 "$?"
printf '\n' | "$GWD" users add dave --db "$DB" >/dev/null 2>&1
expect_eq "empty password refused" 1 "$?"
printf 'a\0b\n' | "$GWD" users add dave --db "$DB" >/dev/null 2>&1
expect_eq "password with a NUL refused" 1 "$?"
head -c 2000 /dev/zero | tr '\0' x | "$GWD" users add dave --db "$DB" >/dev/null 2>&1
expect_eq "overlong password refused" 1 "$?"
expect_eq "no user made by the refusals" 0 "$(q "SELECT count(*) FROM users WHERE name = 'dave'")"

# what is stored is what a login can send: a JSON string is UTF-8, so a
# password that is not (Latin-1 "café") could never be typed into a login
# body and would make an account nobody can use
# pw_matches NAME PASSWORD: the stored PBKDF2 string of NAME verifies PASSWORD
pw_matches() {
	python3 - "$(q "SELECT pwhash FROM users WHERE name = '$1'")" "$2" <<'PY'
import base64, hashlib, sys
_, alg, it, salt, dk = sys.argv[1].split("$")
b = lambda s: base64.b64decode(s + "=" * (-len(s) % 4))
pw = sys.argv[2].encode("utf-8", "surrogateescape")
sys.exit(hashlib.pbkdf2_hmac("sha256", pw, b(salt), int(it[2:])) != b(dk))
PY
}
out=$(printf 'caf\xe9\n' | "$GWD" users add latin --db "$DB" 2>&1); rc=$?
expect_eq "password that is not UTF-8 refused" 1 "$rc"
check "the refusal says why" grep -q "UTF-8" <<<"$out"
printf '\xc0\xae\n' | "$GWD" users add overlong --db "$DB" >/dev/null 2>&1
expect_eq "overlong UTF-8 refused" 1 "$?"
expect_eq "no user made by the UTF-8 refusals" 0 \
	"$(q "SELECT count(*) FROM users WHERE name IN ('latin', 'overlong')")"
printf 'caf\xc3\xa9 \xe2\x82\xac\n' | "$GWD" users add utf8 --db "$DB" >/dev/null 2>&1
expect_eq "UTF-8 password accepted" 0 "$?"
check "UTF-8 password stored as given" pw_matches utf8 $'caf\xc3\xa9 \xe2\x82\xac'
# the longest password a login carries (1024 bytes), with a CRLF line end
long=$(head -c 1024 /dev/zero | tr '\0' L)
printf '%s\r\n' "$long" | "$GWD" users add long --db "$DB" >/dev/null 2>&1
expect_eq "1024-byte password with CRLF accepted" 0 "$?"
check "1024-byte password stored without the CR" pw_matches long "$long"
"$GWD" users del utf8 --db "$DB" >/dev/null 2>&1
"$GWD" users del long --db "$DB" >/dev/null 2>&1

# on a terminal: prompts, no echo, asked twice, echo back after ^C
cat >"$T_TMP/prompt_check.py" <<'PY'
# The tty path of `gwd users add`: prompts on the terminal, no echo of the
# password, the two entries must match, and echo comes back after a ^C.
# usage: prompt_check.py GWD DB CASE   (CASE: ok | differ | interrupt); prints what
# the terminal showed, exits 0 when the case behaved.
import os, pty, select, sys, time
gwd, db, case = sys.argv[1:4]
name = {"ok": "ttyuser", "differ": "ttydiffer", "interrupt": "ttyint"}[case]
pid, fd = pty.fork()
if pid == 0:
    cmd = "trap '' INT; \"$0\" users add %s --db \"$1\"; echo \"rc=$?\"; stty -a" % name
    os.execv("/bin/sh", ["/bin/sh", "-c", cmd, gwd, db])
out = b""
def read_until(pat, t=15):
    global out
    end = time.time() + t
    while pat not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
read_until(b"Password for %s: " % name.encode())
if case == "interrupt":
    os.write(fd, b"half-typed")
    time.sleep(0.2)
    os.write(fd, b"\x03")
else:
    os.write(fd, b"Secr3t-on-a-tty\n")
    read_until(b"Again: ")
    os.write(fd, b"Secr3t-on-a-tty\n" if case == "ok" else b"something-else\n")
read_until(b"\0never\0", 10)  # everything, up to the end (EIO once sh exits)
os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
text = out.decode("utf-8", "replace")
ok = ("Secr3t" not in text and "half-typed" not in text and
      (" echo " in " " + text.replace("\r", " ").replace("\n", " ").replace(";", " ") + " "))
if case == "ok":
    ok = ok and "rc=0" in text and "Again: " in text
elif case == "differ":
    ok = ok and "rc=1" in text and "differ" in text
else:
    ok = ok and "rc=130" in text
sys.exit(0 if ok else 1)
PY
python3 "$T_TMP/prompt_check.py" "$GWD" "$DB" ok >"$T_TMP/prompt.out" 2>&1
expect_eq "tty: prompts twice, no echo, user added" 0 "$?"
python3 "$T_TMP/prompt_check.py" "$GWD" "$DB" differ >"$T_TMP/prompt.out" 2>&1
expect_eq "tty: two different entries refused" 0 "$?"
python3 "$T_TMP/prompt_check.py" "$GWD" "$DB" interrupt >"$T_TMP/prompt.out" 2>&1
expect_eq "tty: ^C at the prompt leaves echo on" 0 "$?"
expect_eq "tty: only the confirmed user made" "ttyuser" \
	"$(q "SELECT group_concat(name) FROM users WHERE name LIKE 'tty%'")"
"$GWD" users del ttyuser --db "$DB" >/dev/null 2>&1

# the password never comes from argv
printf 'x\n' | "$GWD" users add dave secret --db "$DB" >/dev/null 2>&1
expect_eq "password on the command line is a usage error" 2 "$?"

# usage errors
"$GWD" users --db "$DB" >/dev/null 2>&1;                 expect_eq "no verb: 2" 2 "$?"
"$GWD" users frob x --db "$DB" >/dev/null 2>&1;           expect_eq "unknown verb: 2" 2 "$?"
"$GWD" users add --db "$DB" </dev/null >/dev/null 2>&1;  expect_eq "add without NAME: 2" 2 "$?"
"$GWD" users del --db "$DB" >/dev/null 2>&1;              expect_eq "del without NAME: 2" 2 "$?"
"$GWD" users list alice --db "$DB" >/dev/null 2>&1;       expect_eq "list with NAME: 2" 2 "$?"
"$GWD" users list --bogus --db "$DB" >/dev/null 2>&1;     expect_eq "unknown option: 2" 2 "$?"
"$GWD" users list --db >/dev/null 2>&1;                   expect_eq "--db without a path: 2" 2 "$?"
"$GWD" users list --db= >/dev/null 2>&1;                  expect_eq "--db= without a path: 2" 2 "$?"
printf 'x\n' | "$GWD" users add 'bad name' --db "$DB" >/dev/null 2>&1
expect_eq "invalid name: 2" 2 "$?"
printf 'x\n' | "$GWD" users add -- -dash --db "$DB" >/dev/null 2>&1
expect_eq "name starting with '-': 2" 2 "$?"
"$GWD" users --help >/dev/null 2>&1;                      expect_eq "users --help: 0" 0 "$?"

# default database: var/gwd.db under the working directory
(cd "$T_TMP" && printf 'pw\n' | "$GWD" users add zed >/dev/null 2>&1)
expect_eq "default --db is var/gwd.db" 0 "$?"
check "var/gwd.db created" test -f "$T_TMP/var/gwd.db"

# del, with its sessions (a row made as gwd would, digest only)
uid=$(q "SELECT id FROM users WHERE name = 'bob'")
q "INSERT INTO sessions VALUES (randomblob(32), $uid, 1, 2, 1)"
out=$("$GWD" users del bob --db "$DB" 2>&1)
expect_eq "users del exits 0" 0 "$?"
expect_eq "users del removes the sessions" 0 "$(q "SELECT count(*) FROM sessions")"
"$GWD" users del bob --db "$DB" >/dev/null 2>&1
expect_eq "users del of an unknown user exits 1" 1 "$?"
expect_eq "users list after del" "alice carol" \
	"$("$GWD" users list --db "$DB" | cut -f1 | tr '\n' ' ' | sed 's/ $//')"

# keys
key=$("$GWD" keys add ci-runner --db "$DB" 2>/dev/null)
expect_eq "keys add exits 0" 0 "$?"
check "keys add prints one 43-character base64url key" grep -Eqx '[A-Za-z0-9_-]{43}' <<<"$key"
check "the key is not stored" bash -c '! grep -qF "$2" "$1"' _ "$DB" "$key"
expect_eq "only its SHA-256 is" 1 \
	"$(q "SELECT count(*) FROM api_keys WHERE name = 'ci-runner' AND length(hash) = 32")"
key2=$("$GWD" keys add --db "$DB" batch 2>/dev/null)
check "two keys differ" test "$key" != "$key2"
"$GWD" keys add ci-runner --db "$DB" >/dev/null 2>&1
expect_eq "duplicate keys add exits 1" 1 "$?"
expect_eq "keys list" "batch ci-runner" \
	"$("$GWD" keys list --db "$DB" | cut -f1 | tr '\n' ' ' | sed 's/ $//')"
"$GWD" keys del ci-runner --db "$DB" >/dev/null 2>&1
expect_eq "keys del exits 0" 0 "$?"
"$GWD" keys del ci-runner --db "$DB" >/dev/null 2>&1
expect_eq "keys del of an unknown key exits 1" 1 "$?"
"$GWD" keys add --db "$DB" >/dev/null 2>&1;               expect_eq "keys add without NAME: 2" 2 "$?"
"$GWD" keys list x --db "$DB" >/dev/null 2>&1;            expect_eq "keys list with NAME: 2" 2 "$?"

expect_eq "integrity_check" ok "$(q 'PRAGMA integrity_check')"
t_exit
