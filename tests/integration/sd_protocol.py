#!/usr/bin/env python3
"""gwd under a service manager: plays the manager's side of the two protocols
gwd speaks through libsystemd, and prints "ok - NAME" / "not ok - NAME" per
check (tests/integration/service.sh runs it).

notify: gwd runs with NOTIFY_SOCKET naming a datagram socket this script
  bound and reads.  Expected, in order:
    READY=1 (STATUS= with the blob's fingerprint) once it answers HTTP;
    RELOADING=1 then READY=1 around a SIGHUP, STATUS= saying "reloaded" and
      the new fingerprint;
    RELOADING=1 then READY=1 around a SIGHUP with an invalid blob, STATUS=
      saying "reload refused" and the old fingerprint;
    STOPPING=1 after SIGTERM, then exit 0.
activate: this script binds and listens on a 127.0.0.1 port itself, passes
  the socket as descriptor 3 (LISTEN_FDS=1, LISTEN_PID=gwd's pid) to gwd
  started with --listen naming another port, and keeps its own copy, as
  systemd does.  gwd must serve the passed socket (and not bind --listen);
  after SIGTERM, a request sent while no gwd runs waits in the backlog and is
  answered by the next gwd started on the same socket: no connection attempt
  is lost across a restart.  A passed descriptor that is not a listening
  socket makes gwd refuse to start.

usage: sd_protocol.py GWD TMPDIR BLOB_A BLOB_B FP_A FP_B
  (BLOB_A, BLOB_B: two valid blobs; FP_*: their 16-digit fingerprints)
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

GWD, TMP, BLOB_A, BLOB_B, FP_A, FP_B = sys.argv[1:7]
FAILED = 0


def ok(name, cond, detail=""):
    global FAILED
    if cond:
        print("ok - " + name, flush=True)
    else:
        FAILED += 1
        print("not ok - %s%s" % (name, (" (" + detail + ")") if detail else ""), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http_get(port, path, timeout=3.0):
    """One GET on a new connection; (status, body) or (None, error)."""
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        c.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  % path.encode())
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        c.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ")[1]), body.decode("utf-8", "replace")
    except (OSError, IndexError, ValueError) as e:
        return None, str(e)


def wait_http(port, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        st, _ = http_get(port, "/health", 1.0)
        if st is not None:
            return True
        time.sleep(0.05)
    return False


def wait_exit(p, seconds):
    try:
        return p.wait(seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "running"


class Notify:
    """The manager's end of NOTIFY_SOCKET: a datagram socket; each message
    is a list of KEY=VALUE lines."""

    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(path)
        self.seen = []

    def next(self, timeout=10.0):
        self.s.settimeout(timeout)
        try:
            msg = self.s.recv(4096).decode("utf-8", "replace")
        except socket.timeout:
            return None
        fields = dict(l.split("=", 1) for l in msg.split("\n") if "=" in l)
        self.seen.append(fields)
        return fields


def gwd_args(blob, port, db, extra=()):
    return [GWD, "--blob", blob, "--listen", "127.0.0.1:%d" % port, "--db", db,
            "--threads", "2", *extra]


def test_notify():
    blob = os.path.join(TMP, "served.gwb")
    shutil.copyfile(BLOB_A, blob)
    sock = os.path.join(TMP, "notify.sock")
    n = Notify(sock)
    port = free_port()
    env = dict(os.environ, NOTIFY_SOCKET=sock)
    err = open(os.path.join(TMP, "gwd-notify.err"), "w")
    p = subprocess.Popen(gwd_args(blob, port, os.path.join(TMP, "n.db")), env=env,
                         stderr=err, stdin=subprocess.DEVNULL)
    try:
        m = n.next()
        ok("notify: the first message is READY=1", m is not None and m.get("READY") == "1",
           repr(m))
        status = (m or {}).get("STATUS", "")
        ok("notify: READY's STATUS names the blob's fingerprint", FP_A in status, status)
        # READY=1 comes after the socket listens: a request is answered at once
        st, body = http_get(port, "/health")
        ok("notify: gwd answers once READY=1 was sent", st == 200, "%s %s" % (st, body[:100]))
        ok("notify: /health's fingerprint is the one READY named", FP_A in body, body[:200])

        # a valid reload: RELOADING=1, then READY=1 with the new fingerprint
        shutil.copyfile(BLOB_B, blob + ".tmp")
        os.rename(blob + ".tmp", blob)
        p.send_signal(signal.SIGHUP)
        m1, m2 = n.next(), n.next()
        ok("notify: SIGHUP: RELOADING=1 first", m1 is not None and m1.get("RELOADING") == "1",
           repr(m1))
        ok("notify: RELOADING=1 carries MONOTONIC_USEC",
           m1 is not None and m1.get("MONOTONIC_USEC", "").isdigit(), repr(m1))
        ok("notify: SIGHUP: then READY=1", m2 is not None and m2.get("READY") == "1", repr(m2))
        s2 = (m2 or {}).get("STATUS", "")
        ok("notify: the reload's STATUS says reloaded, with the new fingerprint",
           "reloaded" in s2 and FP_B in s2, s2)
        st, body = http_get(port, "/health")
        ok("notify: /health serves the new fingerprint", st == 200 and FP_B in body, body[:200])

        # an invalid blob: refused, READY=1 again, the old (B) one named
        with open(blob + ".tmp", "wb") as f:
            f.write(b"not a blob at all")
        os.rename(blob + ".tmp", blob)
        p.send_signal(signal.SIGHUP)
        m1, m2 = n.next(), n.next()
        ok("notify: refused reload: RELOADING=1 first",
           m1 is not None and m1.get("RELOADING") == "1", repr(m1))
        s2 = (m2 or {}).get("STATUS", "")
        ok("notify: refused reload: READY=1, STATUS says refused and names the blob served",
           m2 is not None and m2.get("READY") == "1" and "reload refused" in s2 and FP_B in s2,
           repr(m2))

        p.send_signal(signal.SIGTERM)
        m = n.next()
        ok("notify: SIGTERM: STOPPING=1", m is not None and m.get("STOPPING") == "1", repr(m))
        ok("notify: STOPPING's STATUS says draining", "draining" in (m or {}).get("STATUS", ""),
           repr(m))
        ok("notify: gwd exits 0", wait_exit(p, 15) == 0)
        ok("notify: nothing after STOPPING=1", n.next(0.3) is None, repr(n.seen[-1]))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        err.close()


def spawn_on(lsock, args, err):
    """Start gwd as systemd does for a .socket unit: the socket at descriptor
    3, LISTEN_FDS=1, LISTEN_PID set in the child to its own pid."""
    pid = os.fork()
    if pid == 0:
        try:
            if lsock.fileno() != 3:
                os.dup2(lsock.fileno(), 3)
            os.set_inheritable(3, True)  # (dup2 onto itself keeps CLOEXEC)
            os.dup2(err.fileno(), 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
            env.pop("NOTIFY_SOCKET", None)
            os.execve(args[0], args, env)
        finally:
            os._exit(127)
    return pid


def wait_pid(pid, seconds):
    end = time.time() + seconds
    while time.time() < end:
        r, status = os.waitpid(pid, os.WNOHANG)
        if r == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "running"


def test_activate():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    port = lsock.getsockname()[1]
    other = free_port()
    db = os.path.join(TMP, "a.db")
    err = open(os.path.join(TMP, "gwd-activate.err"), "w")
    pid = spawn_on(lsock, gwd_args(BLOB_A, other, db), err)
    try:
        ok("activate: gwd serves the passed socket", wait_http(port, 10))
        st, body = http_get(port, "/health")
        ok("activate: /health on the passed socket", st == 200 and FP_A in body, body[:200])
        st, _ = http_get(other, "/health", 1.0)
        ok("activate: --listen is not bound when a socket is passed", st is None)

        os.kill(pid, signal.SIGTERM)
        ok("activate: first gwd exits 0 on SIGTERM", wait_pid(pid, 15) == 0)
        # no gwd now: the connection waits in the backlog of the socket this
        # script (the manager) still holds
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        c.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        time.sleep(0.3)
        pid = spawn_on(lsock, gwd_args(BLOB_A, other, db), err)
        data = b""
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                data += b
        except OSError as e:
            data += str(e).encode()
        c.close()
        ok("activate: a request sent between two gwd is answered by the second",
           data.startswith(b"HTTP/1.1 200"), data[:80].decode("utf-8", "replace"))
        os.kill(pid, signal.SIGTERM)
        ok("activate: second gwd exits 0 on SIGTERM", wait_pid(pid, 15) == 0)
        pid = None

        # a descriptor 3 that is no listening socket: refused at start
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        pid = spawn_on(udp, gwd_args(BLOB_A, other, db), err)
        rc = wait_pid(pid, 10)
        pid = None
        udp.close()
        ok("activate: a passed socket that is not a listening TCP socket: exit 1", rc == 1,
           str(rc))
    finally:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        lsock.close()
        err.close()
    with open(os.path.join(TMP, "gwd-activate.err")) as f:
        text = f.read()
    ok("activate: the refusal says why", "not a listening TCP socket" in text, text[-300:])
    ok("activate: gwd says it serves the passed socket's address",
       "on http://127.0.0.1:%d (passed socket)" % port in text, text[:300])


test_notify()
test_activate()
sys.exit(1 if FAILED else 0)
