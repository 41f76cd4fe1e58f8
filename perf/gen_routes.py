#!/usr/bin/env python3
"""Write a realistic route file of N routes for the routing benchmark.

    perf/gen_routes.py N [-o routes.yaml] [--requests FILE] [--count M] [--seed S]

perf/bench-routing.sh uses it to measure `gwc compile` and the matcher at 1k,
10k and 100k routes.  The shape is that of a large API gateway: versioned REST
services whose resources each bring a family of routes

    GET, POST           /api/vV/SERVICE/RESOURCE
    GET, PUT, DELETE    /api/vV/SERVICE/RESOURCE/{id}
    GET                 /api/vV/SERVICE/RESOURCE/search          (literal beside {id})
    GET, POST           /api/vV/SERVICE/RESOURCE/{id}/SUB
    GET, DELETE         /api/vV/SERVICE/RESOURCE/{id}/SUB/{sub_id}
    GET                 /files/vV/SERVICE/RESOURCE/*             (some resources)

mostly proxied to an upstream, some answered in place, most behind a rate
limit and some behind a session; about one resource in eight is served on one
of a few virtual hosts rather than on any host.  The file is valid gw route
language (docs/routes.md) free of conflicts and unreachable routes, so
`gwc compile` accepts it.  Flow-style YAML keeps 100k routes under gwc's 16 MiB
per-file limit.

With --requests, also write M request lines "METHOD HOST PATH" (HOST "-" for
none) drawn from the same routes with concrete values, about 10% of which
match no route, for perf/bench_match.  Same arguments, same output.
"""
import argparse
import random
import sys

SERVICES = [
    "billing", "catalog", "orders", "users", "inventory", "search", "payments",
    "shipping", "reviews", "accounts", "notifications", "media", "analytics",
    "pricing", "loyalty", "support", "identity", "content", "partners", "reports",
]
NOUNS = [
    "invoices", "items", "products", "carts", "customers", "addresses", "profiles",
    "sessions", "tokens", "events", "messages", "threads", "comments", "ratings",
    "images", "videos", "documents", "folders", "tags", "categories", "brands",
    "warehouses", "stocks", "shipments", "parcels", "returns", "refunds", "coupons",
    "campaigns", "segments", "metrics", "dashboards", "alerts", "tickets", "agents",
    "teams", "roles", "permissions", "keys", "webhooks", "subscriptions", "plans",
    "prices", "discounts", "orders", "payments", "transfers", "accounts", "ledgers",
    "statements", "exports", "imports", "jobs", "schedules", "slots", "bookings",
    "venues", "tickets-types", "sellers", "buyers", "offers", "bids", "auctions",
    "listings", "wishlists", "favorites", "devices", "locations", "regions",
    "zones", "currencies", "languages", "translations", "templates", "layouts",
    "pages", "menus", "widgets", "forms", "submissions", "surveys", "answers",
    "questions", "quizzes", "courses", "lessons", "modules", "grades", "students",
    "teachers", "classes", "rooms", "assets", "licenses", "contracts", "vendors",
    "suppliers", "purchases", "receipts",
]
SUBS = ["history", "items", "notes", "attachments", "events", "versions", "members",
        "comments", "audit", "links"]
HOSTS = ["admin.example.com", "api.example.com", "partner.example.com", "shop.example.com"]


def resources():
    """Yield (host, prefix) for distinct resources, in a stable order."""
    n = 0
    for tenant in range(1000000):
        for ver in range(1, 10):
            for svc in SERVICES:
                for noun in NOUNS:
                    base = f"/api/v{ver}/{svc}/{noun}"
                    if tenant:
                        base = f"/t{tenant}" + base
                    host = HOSTS[(n // 8) % len(HOSTS)] if n % 8 == 7 else None
                    n += 1
                    yield host, base


def family(host, base, rnd):
    """The routes of one resource: (methods, path, kind) tuples."""
    ver_svc_noun = base.split("/api/", 1)[1]
    sub = SUBS[rnd.randrange(len(SUBS))]
    routes = [
        ("GET, POST", base, None),
        ("GET, PUT, DELETE", base + "/{id}", None),
        ("GET", base + "/search", None),
        ("GET, POST", base + "/{id}/" + sub, None),
        ("GET, DELETE", base + "/{id}/" + sub + "/{sub_id}", None),
    ]
    if rnd.random() < 0.3:
        prefix = "/files/" + ver_svc_noun
        if base.startswith("/t"):
            prefix = "/" + base.split("/")[1] + prefix
        routes.append(("GET", prefix + "/*", None))
    return routes


def route_line(methods, path, host, rnd):
    """One route in flow style."""
    r = rnd.random()
    parts = [f"path: '{path}'", f"methods: [{methods}]"]
    if host:
        parts.append(f"host: {host}")
    if r < 0.6:
        parts.append("policies: [public]")
    elif r < 0.85:
        parts.append("policies: [session, public]")
    if rnd.random() < 0.85:
        parts.append("proxy: {upstream: backend}")
    else:
        parts.append("respond: {status: 200, body: '{\"ok\":true}'}")
    return "  - {" + ", ".join(parts) + "}"


def concrete(path, rnd):
    """A request path for route pattern <path>."""
    segs = []
    for s in path.split("/")[1:]:
        if s == "{id}":
            segs.append(str(rnd.randrange(1, 10**6)))
        elif s == "{sub_id}":
            segs.append("%08x" % rnd.randrange(16**8))
        elif s == "*":
            segs.append("/".join(f"f{rnd.randrange(100)}" for _ in range(rnd.randrange(1, 4))) + ".png")
        else:
            segs.append(s)
    return "/" + "/".join(segs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, help="number of routes")
    ap.add_argument("-o", "--output", default="-", help="route file (default stdout)")
    ap.add_argument("--requests", help="also write request lines to this file")
    ap.add_argument("--count", type=int, default=100000, help="request lines (default 100000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    a = ap.parse_args()
    rnd = random.Random(a.seed)

    routes = []  # (methods, path, host)
    for host, base in resources():
        for methods, path, _ in family(host, base, rnd):
            if len(routes) == a.n:
                break
            routes.append((methods, path, host))
        if len(routes) >= a.n:
            break

    out = sys.stdout if a.output == "-" else open(a.output, "w")
    out.write(f"# {a.n} generated routes (perf/gen_routes.py {a.n} --seed {a.seed})\n")
    out.write("version: 1\n\n")
    out.write("upstreams:\n  backend:\n    targets:\n      - address: 127.0.0.1:9000\n\n")
    out.write("policies:\n  public:\n    rate_limit: {rate: 5000/s, burst: 10000}\n")
    out.write("  session:\n    auth: {type: session}\n\n")
    out.write("routes:\n")
    for methods, path, host in routes:
        out.write(route_line(methods, path, host, rnd) + "\n")
    if out is not sys.stdout:
        out.close()

    if a.requests:
        with open(a.requests, "w") as f:
            for _ in range(a.count):
                methods, path, host = routes[rnd.randrange(len(routes))]
                method = rnd.choice(methods.split(", "))
                req = concrete(path, rnd)
                if rnd.random() < 0.1:  # a miss: a typo in the last segment
                    req = req + "x/nope" if not path.endswith("*") else "/nothing" + req
                f.write(f"{method} {host or '-'} {req}\n")


if __name__ == "__main__":
    main()
