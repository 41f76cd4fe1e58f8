#!/usr/bin/env bash
# schema/gateway.schema.json against what it describes.
#
# The schema is what editors (yaml-language-server) check route files with, so
# it must be a valid JSON Schema 2020-12, accept every route file we ship
# (routes/gateway.yaml, examples/**/*.yaml, the YAML examples of
# docs/routes.md) and refuse what docs/routes.md calls an error.  The same bad
# snippets go through `gwc check` too: an editor and the compiler that disagree
# on whether a file is valid are a bug in one of them, and this is where it
# shows.  Every shipped file must also pass `gwc check` (the split example as
# the two files it is made of).
#
# Uses Debian's python3 with python3-yaml and python3-jsonschema (DEB_TEST in
# the Makefile), not whatever python3 comes first in PATH.  SCHEMA=FILE and
# GWC=BINARY check another schema or compiler (a way to see the checks fail).
source "$(dirname "$0")/lib.sh"
cd "$GW_ROOT" || exit 1

PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
SCHEMA=${SCHEMA:-schema/gateway.schema.json}

# validate MODE FILE...: one "ok"/"not ok" line per file; MODE good wants the
# file accepted, bad wants it refused.  A bad file's name (its basename) says
# what is wrong with it.  The exit status is the number of failed checks.
validate() {
	T_TMP=$T_TMP "$PY" - "$SCHEMA" "$@" <<'PY'
import json, os, sys
import yaml
from jsonschema import Draft202012Validator as V

schema_path, mode, files = sys.argv[1], sys.argv[2], sys.argv[3:]
tmp = os.environ.get("T_TMP", "") + "/"
with open(schema_path, encoding="utf-8") as fh:
    validator = V(json.load(fh))
failed = 0
for path in files:
    name = path[len(tmp):] if path.startswith(tmp) else path
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as e:
        print(f"not ok - schema: {name}: unreadable: {e}".replace("\n", " "))
        failed += 1
        continue
    errors = sorted(validator.iter_errors(doc),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if mode == "good":
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.absolute_path)
            print(f"not ok - schema accepts {name} ({len(errors)} errors; at /{where}: "
                  f"{e.message[:160]})")
            failed += 1
        else:
            print(f"ok - schema accepts {name}")
    else:
        if errors:
            print(f"ok - schema refuses {name}")
        else:
            print(f"not ok - schema refuses {name} (accepted)")
            failed += 1
sys.exit(min(failed, 100))
PY
}

# run_validate MODE FILE...: validate, echo its lines, count its failures; a
# validator that died before judging every file is a failure too.
run_validate() {
	local out n
	out=$(validate "$@" 2>&1)
	printf '%s\n' "$out" | grep -E '^(not )?ok - '
	T_FAILED=$((T_FAILED + $(printf '%s\n' "$out" | grep -c '^not ok - ')))
	n=$(printf '%s\n' "$out" | grep -c -E '^(not )?ok - ')
	if [[ $n -ne $(($# - 1)) ]]; then
		not_ok "schema: validator judged $n of $(($# - 1)) files ($(tail -n 1 <<<"$out"))"
	fi
}

# ---- the schema itself ----------------------------------------------------------
if "$PY" - "$SCHEMA" <<'PY'
import json, sys
from jsonschema import Draft202012Validator as V
with open(sys.argv[1], encoding="utf-8") as fh:
    s = json.load(fh)
assert s.get("$schema") == "https://json-schema.org/draft/2020-12/schema", s.get("$schema")
V.check_schema(s)
PY
then ok "schema: valid against the 2020-12 metaschema"
else not_ok "schema: valid against the 2020-12 metaschema"; t_exit
fi

# Every object in the schema closes its properties, and every property has a
# description (editors show it on hover).
check "schema: additionalProperties false and a description on every property" \
	"$PY" - "$SCHEMA" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as fh:
    s = json.load(fh)
bad = []
def as_list(t):
    return t if isinstance(t, list) else [t]
def walk(node, where):
    if isinstance(node, dict):
        # Only objects proper: the if/then parts of conditions list properties
        # to test them, not to define them.
        if "object" in as_list(node.get("type")) and "properties" in node \
                and node.get("additionalProperties") is not False:
            bad.append(f"{where}: properties without additionalProperties: false")
        for k, v in (node.get("properties", {}) if "object" in as_list(node.get("type")) else {}).items():
            if isinstance(v, dict) and "description" not in v:
                bad.append(f"{where}/properties/{k}: no description")
        for k, v in node.items():
            walk(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{where}/{i}")
walk(s, "#")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# ---- the route files we ship --------------------------------------------------------
mapfile -t shipped < <(find routes examples -name '*.yaml' | sort)
if [[ ${#shipped[@]} -lt 10 ]]; then
	not_ok "schema: found the shipped route files (only ${#shipped[@]})"
fi
run_validate good "${shipped[@]}"

# The YAML examples of docs/routes.md, each made a whole file (version added
# where the example leaves it out).  Examples of errors are fenced as text.
mkdir -p "$T_TMP/doc"
"$PY" - docs/routes.md "$T_TMP/doc" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.S | re.M)
for i, b in enumerate(blocks, 1):
    if not re.search(r"^version:", b, re.M):
        b = "version: 1\n" + b
    with open(f"{sys.argv[2]}/routes-md-{i:02d}.yaml", "w", encoding="utf-8") as fh:
        fh.write(b)
PY
mapfile -t docblocks < <(find "$T_TMP/doc" -name '*.yaml' | sort)
if [[ ${#docblocks[@]} -ge 10 ]]; then
	ok "schema: docs/routes.md has YAML examples (${#docblocks[@]})"
else
	not_ok "schema: docs/routes.md has YAML examples (${#docblocks[@]})"
fi
run_validate good "${docblocks[@]}"

# ---- what must be refused -----------------------------------------------------------
# Each snippet is a whole file, valid but for the one fault its name gives; the
# line gwc must point at ends with "#<".  Snippets under $B go to both the
# schema and gwc; those under $G only to gwc: they are faults that need more
# than one file's structure to see (names, references, route conflicts, host
# bits), which a JSON Schema cannot express.
B=$T_TMP/bad
G=$T_TMP/gwc-only
mkdir -p "$B" "$G"
bad() { cat > "$B/$1.yaml"; }
gbad() { cat > "$G/$1.yaml"; }

bad unknown-top-key <<'EOF'
version: 1
route:   #<
  - path: /a
    methods: [GET]
    echo: {}
EOF
bad unknown-route-key <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    echo: {}
    timeout: 1s   #<
EOF
bad unknown-policy-field <<'EOF'
version: 1
policies:
  p:
    rate_limit: { rate: 10/s, burts: 10 }   #<
EOF
bad duration-without-unit <<'EOF'
version: 1
settings:
  limits: { idle_timeout: 60 }   #<
EOF
bad duration-fraction <<'EOF'
version: 1
upstreams:
  u:
    targets: [{ address: 127.0.0.1:9000 }]
    timeout: 1.5s   #<
EOF
bad duration-unknown-unit <<'EOF'
version: 1
settings:
  sessions: { lifetime: 2w }   #<
EOF
bad session-secure-unknown <<'EOF'
version: 1
settings:
  sessions: { secure: yes }   #<
EOF
bad underscore-headers-unknown <<'EOF'
version: 1
settings:
  underscore_headers: reject   #<
EOF
gbad rewrite-dot-segment <<'EOF'
version: 1
upstreams:
  u: { targets: [{ address: 127.0.0.1:9000 }] }
routes:
  - path: /a/{id}
    methods: [GET]
    proxy: { upstream: u, rewrite: '/v1/../${path.id}' }   #<
EOF
gbad template-in-html-body <<'EOF'
version: 1
routes:
  - path: /p/{id}
    methods: [GET]
    respond:
      headers: { Content-Type: text/html }
      body: '<p>${path.id}</p>'   #<
EOF
bad two-handlers <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    echo: {}
    respond: { body: hi }   #<
EOF
bad no-handler <<'EOF'
version: 1
routes:
  - path: /a   #<
    methods: [GET]
EOF
bad two-policy-kinds <<'EOF'
version: 1
policies:
  p:
    body_limit: 1MiB
    ip: { allow: [10.0.0.0/8] }   #<
EOF
bad empty-policy <<'EOF'
version: 1
policies:
  p: {}   #<
EOF
bad cidr-prefix-too-long <<'EOF'
version: 1
policies:
  p:
    ip: { allow: [10.0.0.0/33] }   #<
EOF
bad rate-zero-quota <<'EOF'
version: 1
policies:
  p:
    rate_limit: { rate: 0/s }   #<
EOF
bad rate-without-period <<'EOF'
version: 1
policies:
  p:
    rate_limit: { rate: 100 }   #<
EOF
bad rate-limit-empty-list <<'EOF'
version: 1
policies:
  p:
    rate_limit: []   #<
EOF
bad burst-zero <<'EOF'
version: 1
policies:
  p:
    rate_limit: { rate: 10/s, burst: 0 }   #<
EOF
bad size-unknown-unit <<'EOF'
version: 1
policies:
  p:
    body_limit: 1mb   #<
EOF
bad body-limit-unlimited <<'EOF'
version: 1
policies:
  p:
    body_limit: unlimited   #<
EOF
bad path-trailing-slash <<'EOF'
version: 1
routes:
  - path: /a/   #<
    methods: [GET]
    echo: {}
EOF
bad path-wildcard-not-last <<'EOF'
version: 1
routes:
  - path: /a/*/b   #<
    methods: [GET]
    echo: {}
EOF
bad path-dot-dot <<'EOF'
version: 1
routes:
  - path: /a/../b   #<
    methods: [GET]
    echo: {}
EOF
bad path-param-inside-literal <<'EOF'
version: 1
routes:
  - path: /v{n}/a   #<
    methods: [GET]
    echo: {}
EOF
bad method-unknown <<'EOF'
version: 1
routes:
  - path: /a
    methods: [FETCH]   #<
    echo: {}
EOF
bad method-lower-case <<'EOF'
version: 1
routes:
  - path: /a
    methods: [get]   #<
    echo: {}
EOF
bad method-twice <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET, POST, GET]   #<
    echo: {}
EOF
bad methods-missing <<'EOF'
version: 1
routes:
  - path: /a   #<
    echo: {}
EOF
bad host-with-port <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    host: api.example.com:8080   #<
    echo: {}
EOF
bad handler-with-field <<'EOF'
version: 1
routes:
  - path: /a
    methods: [POST]
    echo: { status: 201 }   #<
EOF
bad status-out-of-range <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    respond: { status: 600 }   #<
EOF
bad body-with-status-204 <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    respond: { status: 204, body: nothing }   #<
EOF
bad policy-twice-on-route <<'EOF'
version: 1
policies:
  p: { body_limit: 1KiB }
routes:
  - path: /a
    methods: [POST]
    policies: [p, p]   #<
    echo: {}
EOF
bad cors-star-with-credentials <<'EOF'
version: 1
policies:
  p:
    cors: { origins: ["*"], credentials: true }   #<
EOF
bad cors-star-and-origin <<'EOF'
version: 1
policies:
  p:
    cors: { origins: ["*", https://app.example.com] }   #<
EOF
bad cors-upper-case-origin <<'EOF'
version: 1
policies:
  p:
    cors: { origins: [https://App.example.com] }   #<
EOF
bad cors-max-age-fraction <<'EOF'
version: 1
policies:
  p:
    cors: { origins: [https://app.example.com], max_age: 1500ms }   #<
EOF
bad header-key-without-header <<'EOF'
version: 1
policies:
  p:
    rate_limit: { rate: 10/s, key: header }   #<
EOF
bad add-hop-by-hop-header <<'EOF'
version: 1
policies:
  p:
    headers:
      response:
        add: { Content-Length: "0" }   #<
EOF
bad header-value-newline <<'EOF'
version: 1
policies:
  p:
    headers:
      request:
        add: { X-A: "a\nX-B: b" }   #<
EOF
bad headers-policy-empty <<'EOF'
version: 1
policies:
  p:
    headers: {}   #<
EOF
bad ip-policy-empty <<'EOF'
version: 1
policies:
  p:
    ip: {}   #<
EOF
bad rewrite-and-strip-prefix <<'EOF'
version: 1
upstreams:
  u:
    targets: [{ address: 127.0.0.1:9000 }]
routes:
  - path: /a/{x}
    methods: [GET]
    proxy: { upstream: u, rewrite: "/b/${path.x}", strip_prefix: /a }   #<
EOF
bad rewrite-relative <<'EOF'
version: 1
upstreams:
  u:
    targets: [{ address: 127.0.0.1:9000 }]
routes:
  - path: /a/{x}
    methods: [GET]
    proxy: { upstream: u, rewrite: "b/${path.x}" }   #<
EOF
bad strip-prefix-trailing-slash <<'EOF'
version: 1
upstreams:
  u:
    targets: [{ address: 127.0.0.1:9000 }]
routes:
  - path: /api/*
    methods: [GET]
    proxy: { upstream: u, strip_prefix: /api/ }   #<
EOF
bad template-unknown-source <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    respond: { body: "${header.host}" }   #<
EOF
bad template-lone-dollar <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    respond: { body: "costs 5$" }   #<
EOF
bad address-without-port <<'EOF'
version: 1
upstreams:
  u:
    targets: [{ address: 127.0.0.1 }]   #<
EOF
bad hash-key-without-hash <<'EOF'
version: 1
upstreams:
  u:
    targets: [{ address: 127.0.0.1:9000 }]
    hash_key: ip   #<
EOF
bad circuit-breaker-half <<'EOF'
version: 1
upstreams:
  u:
    targets: [{ address: 127.0.0.1:9000 }]
    circuit_breaker: { failures: 5 }   #<
EOF
bad name-with-space <<'EOF'
version: 1
policies:
  "my policy":   #<
    body_limit: 1MiB
EOF
bad version-2 <<'EOF'
version: 2   #<
EOF
bad version-missing <<'EOF'
routes: []   #<
EOF

gbad template-unknown-param <<'EOF'
version: 1
routes:
  - path: /u/{id}
    methods: [GET]
    respond: { body: "${path.uid}" }   #<
EOF
gbad template-rest-without-wildcard <<'EOF'
version: 1
routes:
  - path: /u/{id}
    methods: [GET]
    respond: { body: "${path.*}" }   #<
EOF
gbad cidr-host-bits <<'EOF'
version: 1
policies:
  p:
    ip: { allow: [10.0.0.1/8] }   #<
EOF
gbad unknown-policy <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    policies: [nope]   #<
    echo: {}
EOF
gbad unknown-upstream <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    proxy: { upstream: nope }   #<
EOF
gbad user-key-without-auth <<'EOF'
version: 1
policies:
  per-user: { rate_limit: { rate: 10/s, key: user } }
routes:
  - path: /a
    methods: [GET]
    policies: [per-user]   #<
    echo: {}
EOF
gbad duplicate-route-name <<'EOF'
version: 1
routes:
  - { name: a, path: /a, methods: [GET], echo: {} }
  - { name: a, path: /b, methods: [GET], echo: {} }   #<
EOF
gbad strip-prefix-not-leading <<'EOF'
version: 1
upstreams:
  u:
    targets: [{ address: 127.0.0.1:9000 }]
routes:
  - path: /api/*
    methods: [GET]
    proxy: { upstream: u, strip_prefix: /ap }   #<
EOF
gbad route-conflict <<'EOF'
version: 1
routes:
  - path: /u/{id}
    methods: [GET]
    echo: {}
  - path: /u/{uid}   #<
    methods: [GET, PUT]
    echo: {}
EOF
gbad route-unreachable <<'EOF'
version: 1
routes:
  - path: /f/{x}
    methods: [GET]
    echo: {}
  - path: /f/{x}/*
    methods: [GET]
    echo: {}
  - path: /f/*   #<
    methods: [GET]
    echo: {}
EOF
gbad respond-header-twice <<'EOF'
version: 1
routes:
  - path: /a
    methods: [GET]
    respond:
      headers:
        Content-Type: text/plain
        content-type: text/html   #<
EOF

mapfile -t bads < <(find "$B" -name '*.yaml' | sort)
mapfile -t gbads < <(find "$G" -name '*.yaml' | sort)
run_validate bad "${bads[@]}"

# ---- the compiler agrees -------------------------------------------------------------
if [[ ! -x $GWC ]]; then
	not_ok "gwc: $GWC is built"
	t_exit
fi
for f in "${shipped[@]}"; do
	case $f in examples/split/*) continue ;; esac
	if out=$("$GWC" check "$f" 2>&1); then
		ok "gwc check accepts $f"
	else
		not_ok "gwc check accepts $f ($(head -n 1 <<<"$out"))"
	fi
done
check "gwc check accepts examples/split/upstreams.yaml + routes.yaml" \
	"$GWC" check examples/split/upstreams.yaml examples/split/routes.yaml
if "$GWC" check examples/split/routes.yaml >/dev/null 2>&1; then
	not_ok "gwc check refuses examples/split/routes.yaml alone (unknown upstream)"
else
	ok "gwc check refuses examples/split/routes.yaml alone (unknown upstream)"
fi

# The examples of docs/routes.md are fragments: the only errors gwc may find
# in them are references to upstreams and policies that the fragment leaves out.
for f in "${docblocks[@]}"; do
	name=${f#"$T_TMP"/}
	out=$("$GWC" check "$f" 2>&1); rc=$?
	other=$(grep -v -E ": error: unknown (policy|upstream) '" <<<"$out" | grep -v '^$')
	if [[ ($rc -eq 0 || $rc -eq 1) && -z $other ]]; then
		ok "gwc check accepts $name (but names defined elsewhere)"
	else
		not_ok "gwc check accepts $name (exit $rc: $(head -n 1 <<<"$other"))"
	fi
done

# Each bad snippet: exit 1, and an error at the line marked "#<".
for f in "${bads[@]}" "${gbads[@]}"; do
	name=${f#"$T_TMP"/}
	line=$(grep -n '#<' "$f" | head -n 1 | cut -d: -f1)
	out=$("$GWC" check "$f" 2>&1); rc=$?
	if [[ $rc -eq 1 ]] && grep -q "^$f:$line:[0-9]*: error: " <<<"$out"; then
		ok "gwc check refuses $name at line $line"
	else
		not_ok "gwc check refuses $name at line $line (exit $rc: $(head -n 1 <<<"$out"))"
	fi
done

t_exit
