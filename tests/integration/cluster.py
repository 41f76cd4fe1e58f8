#!/usr/bin/env python3
"""Load and timing helpers of tests/integration/cluster.sh (127.0.0.1 only,
bounded in time).

  cluster.py refused-after PORTS HEADER VALUE PATH -- CMD...
      warm every instance's cache (one 200 each), run CMD (a logout, a
      `gwd keys del`, ...), then ask every instance until it refuses (401);
      prints the worst delay in ms after CMD returned (or "never" after 2 s)
  cluster.py spread PORTS PATH SECONDS THREADS [RATE]
      THREADS clients per instance, each as fast as it can (or RATE
      requests/s) for SECONDS; prints "admitted refused other seconds"
  cluster.py load PORT PATH SECONDS [HEADER VALUE]
      4 clients, one connection per request, through PORT (the balancer);
      prints "total ok fail max_ms fail_last_second_count" where the last
      figure counts failures in the final second
"""
import http.client
import subprocess
import sys
import threading
import time


def get(port, path, headers=None, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status
    except OSError:
        return 0
    finally:
        c.close()


def refused_after(argv):
    ports = [int(p) for p in argv[0].split(",")]
    hdr, val, path = argv[1], argv[2], argv[3]
    cmd = argv[argv.index("--") + 1:]
    for p in ports:
        if get(p, path, {hdr: val}) != 200:
            print("warm-up failed on", p)
            return 1
    if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
        print("command failed")
        return 1
    t0 = time.monotonic()
    worst = 0.0
    for p in ports:
        while True:
            s = get(p, path, {hdr: val})
            dt = (time.monotonic() - t0) * 1000
            if s == 401:
                worst = max(worst, dt)
                break
            if dt > 2000:
                print("never")
                return 0
    print("%.1f" % worst)
    return 0


def spread(argv):
    ports = [int(p) for p in argv[0].split(",")]
    path, dur, per = argv[1], float(argv[2]), int(argv[3])
    gap = 1.0 / float(argv[4]) if len(argv) > 4 else 0.0
    res = [0, 0, 0]
    lock = threading.Lock()
    t0 = time.monotonic()

    def run(port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        mine = [0, 0, 0]
        nxt = time.monotonic()
        while time.monotonic() < t0 + dur:
            if gap:
                nxt += gap
                pause = nxt - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                s = r.status
            except OSError:
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                s = 0
            mine[0 if s == 200 else 1 if s == 429 else 2] += 1
        c.close()
        with lock:
            for i in range(3):
                res[i] += mine[i]

    th = [threading.Thread(target=run, args=(p,)) for p in ports for _ in range(per)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    print(res[0], res[1], res[2], dur)
    return 0


def load(argv):
    port, path, dur = int(argv[0]), argv[1], float(argv[2])
    headers = {argv[3]: argv[4]} if len(argv) > 4 else {}
    lock = threading.Lock()
    st = {"total": 0, "ok": 0, "fail": 0, "max": 0.0, "late": 0}
    t0 = time.monotonic()

    def run():
        while True:
            now = time.monotonic()
            if now >= t0 + dur:
                break
            s = get(port, path, headers, timeout=3)
            dt = (time.monotonic() - now) * 1000
            with lock:
                st["total"] += 1
                st["max"] = max(st["max"], dt)
                if s == 200:
                    st["ok"] += 1
                else:
                    st["fail"] += 1
                    if now >= t0 + dur - 1:
                        st["late"] += 1

    th = [threading.Thread(target=run) for _ in range(4)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    print(st["total"], st["ok"], st["fail"], "%.1f" % st["max"], st["late"])
    return 0


if __name__ == "__main__":
    cmds = {"refused-after": refused_after, "spread": spread, "load": load}
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
