#!/usr/bin/env bash
# `gwd users` and `gwd keys` against a real SQLite file: add (password from
# stdin only), list, del, duplicates refused, the database created with its
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
