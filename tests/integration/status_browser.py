#!/usr/bin/env python3
"""The status page as a person sees it, in headless Debian chromium driven by
python3-selenium (tests/integration/status.sh starts gwd and the upstream).

  status_browser.py BASE_URL SCHEMA OUT_DIR LIVE_TARGET DEAD_TARGET

Sends real traffic to BASE_URL (200s, a known number of 429s, proxied
requests), validates the JSON feed against SCHEMA, opens BASE_URL/status,
prints "ok - ..." / "not ok - ..." per check and saves screenshots in OUT_DIR.
With STATUS_BROWSER=0 in the environment, only the feed's checks run.
Exits 0 when it ran to its end (failed checks are counted from the output).
"""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

import jsonschema
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BASE, SCHEMA, OUT, LIVE, DEAD = sys.argv[1:6]
failed = 0


def ok(name, cond, detail=""):
    global failed
    if cond:
        print(f"ok - status: {name}")
    else:
        failed += 1
        print(f"not ok - status: {name}" + (f" ({detail})" if detail else ""))
    sys.stdout.flush()


def get(path, accept=None):
    req = urllib.request.Request(BASE + path, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def traffic(hello, limited, app):
    """Send the requests; returns the number of 429s the client saw."""
    seen429 = 0
    for _ in range(hello):
        get("/api/hello")
    for _ in range(limited):
        seen429 += get("/limited")[0] == 429
    for _ in range(app):
        get("/app/whoami")
    return seen429


def feed():
    st, body = get("/status", "application/json")
    return st, json.loads(body) if st == 200 else None


def until(fn, timeout=10.0, step=0.2):
    """Poll <fn> until it returns a true value or <timeout> passes; returns the last value."""
    end = time.time() + timeout
    v = fn()
    while not v and time.time() < end:
        time.sleep(step)
        v = fn()
    return v


# -- the down target is known down before the traffic (two failed checks 300 ms apart)
def dead_down():
    st, f = feed()
    return st == 200 and any(t["address"] == DEAD and t["state"] == "down"
                             for u in f["upstreams"] for t in u["targets"])


ok("the feed shows the dead target down before traffic", until(dead_down))

n429 = traffic(hello=40, limited=12, app=10)
ok("the client saw 7 of 12 rate-limited requests refused", n429 == 7, f"saw {n429}")

st, f = feed()
schema = json.load(open(SCHEMA))
try:
    jsonschema.validate(f, schema, cls=jsonschema.Draft202012Validator)
    ok("the feed validates against schema/status.schema.json", True)
except jsonschema.ValidationError as e:
    ok("the feed validates against schema/status.schema.json", False, e.message)
lim = next(r for r in f["routes"] if r["pattern"] == "/limited")
ok("the feed counts the route's 429s", lim["429"] == n429, f"{lim['429']} vs {n429}")
ok("the feed names the proxy route's upstream",
   next(r for r in f["routes"] if r["pattern"] == "/app/*")["upstream"] == "app")

if os.environ.get("STATUS_BROWSER") == "0":
    sys.exit(0)  # the feed only (the sanitizer builds' run)

# -- the browser
profile = tempfile.mkdtemp(prefix="gw-chromium.")
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,800",
          "--hide-scrollbars"):
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    drv.set_page_load_timeout(20)
    drv.set_window_size(1280, 800)
    drv.get(BASE + "/status")
    text = lambda css: drv.find_element(By.CSS_SELECTOR, css).text.strip()
    polls = lambda: int(drv.execute_script("return document.body.dataset.polls || 0"))
    # two polls: rates need two, and the charts need a sample or two
    ok("the page polls its feed", until(lambda: polls() >= 3, 15), f"polls {polls()}")
    ok("the page says it is live", text("#live").startswith("live"), text("#live"))

    def row(pattern):
        return drv.find_element(By.CSS_SELECTOR, f'#routes tbody tr[data-pattern="{pattern}"]')

    def cell(pattern, col):
        return row(pattern).find_element(By.CSS_SELECTOR, f"td.c-{col}").text.strip()

    num = lambda s: int(s.replace("\u2009", "").replace(",", "")) if s not in ("", "–") else -1
    for p in ("/api/hello", "/limited", "/app/*", "/status"):
        ok(f"the route table lists {p} with requests counted", num(cell(p, "requests")) > 0,
           cell(p, "requests"))
    ok("the route table shows the 429s sent", num(cell("/limited", "429")) == n429,
       cell("/limited", "429"))
    ok("the header's 429 total matches", num(text("#t-429")) == n429, text("#t-429"))
    ok("the route table shows the proxy route's handler and upstream",
       cell("/app/*", "handler") == "proxy \u2192 app", cell("/app/*", "handler"))
    ok("the route table shows the rate limit policy by name and kind",
       "tight" in cell("/limited", "policies") and "rate limit" in cell("/limited", "policies"))

    def target_state(addr):
        tr = drv.find_element(By.CSS_SELECTOR, f'#upstreams tbody tr[data-target="{addr}"]')
        return tr.find_element(By.CSS_SELECTOR, "td.c-state").text.strip()

    ok("the down target reads DOWN (in words, not only in colour)",
       "DOWN" in target_state(DEAD), target_state(DEAD))
    ok("the live target reads UP", "UP" in target_state(LIVE), target_state(LIVE))

    # the charts drew: some canvas pixel of each chart is not transparent
    drew = """
      const div = document.getElementById(arguments[0]);
      for (const c of div.querySelectorAll('canvas')) {
        if (!c.width || !c.height) continue;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
      }
      return false;"""
    for c in ("c-rps", "c-err", "c-lat", "c-conn"):
        ok(f"the chart {c} drew", until(lambda: drv.execute_script(drew, c), 10))
    # no layout jump: the sections stay where they are from one poll to the next
    pos = "return ['h-charts','h-routes','h-ups','c-rps','c-lat'].map(i => " \
          "Math.round(document.getElementById(i).getBoundingClientRect().top)).join(',')"
    p0, n0 = drv.execute_script(pos), polls()
    until(lambda: polls() >= n0 + 2, 10)
    ok("nothing moves between polls", drv.execute_script(pos) == p0, f"{p0} then {drv.execute_script(pos)}")
    drv.execute_script("window.scrollTo(0, 0)")
    drv.save_screenshot(f"{OUT}/status-1280x800.png")

    # more traffic: the figures change
    before_req = num(text("#t-req"))
    more429 = traffic(hello=30, limited=3, app=5)
    ok("the page's figures change after more traffic",
       until(lambda: num(text("#t-429")) == n429 + more429 and num(text("#t-req")) > before_req, 10),
       f"429 {text('#t-429')}, requests {before_req} -> {text('#t-req')}")
    ok("the route's 429 cell follows", num(cell("/limited", "429")) == n429 + more429,
       cell("/limited", "429"))

    # sorting: by 429, descending, puts the rate-limited route first
    drv.find_element(By.CSS_SELECTOR, '#routes th[data-k="429"] button').click()
    first = drv.find_element(By.CSS_SELECTOR, "#routes tbody tr").get_attribute("data-pattern")
    ok("sorting by 429 puts /limited first", first == "/limited", first)
    sort = drv.find_element(By.CSS_SELECTOR, '#routes th[data-k="429"]').get_attribute("aria-sort")
    ok("the sorted column says so to assistive technology", sort == "descending", sort)
    drv.find_element(By.CSS_SELECTOR, '#routes th[data-k="i"] button').click()
    # the whole page at 1280 wide (docs/status.png is one of these)
    h = drv.execute_script("return document.documentElement.scrollHeight")
    drv.set_window_size(1280, h + 160)
    n0 = polls()
    until(lambda: polls() >= n0 + 2, 5)
    drv.execute_script("window.scrollTo(0, 0)")
    drv.save_screenshot(f"{OUT}/status-full.png")

    # a phone-width window: nothing but the tables' own scrollers is wider
    drv.set_window_size(390, 844)
    until(lambda: drv.execute_script("return window.innerWidth") <= 400, 5)
    n0 = polls()
    until(lambda: polls() >= n0 + 1, 5)
    wide = drv.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    ok("at phone width the page does not scroll sideways", wide <= 1, f"{wide}px wider")
    drv.save_screenshot(f"{OUT}/status-phone.png")
    errs = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
    ok("the browser console shows no error", not errs, "; ".join(e["message"] for e in errs)[:300])
finally:
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)
print(f"# screenshots in {OUT}")
sys.exit(0)
