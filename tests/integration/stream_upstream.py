#!/usr/bin/env python3
"""A real upstream for the streaming proxy tests: HTTP/1.1 on 127.0.0.1 over
raw sockets, so that it can frame bodies exactly as a test needs (chunked,
cut short, malformed, stalled).

  stream_upstream.py PORT [--lifetime S] [--tls CERT KEY [--client-ca CA]]

  GET  /health                 200 "ok"
  GET  /chunked?n=N&size=S     N chunks of S bytes ('a'..), chunked
  GET  /sse?n=N&ms=M           N server-sent events M ms apart, chunked; each
                               event's data is its send time (time.time())
  GET  /bytes?n=N[&chunked=1]  N bytes of the pattern (see pattern()), with
                               Content-Length (or chunked)
  GET  /stall?n=N&after=A      announces N bytes, sends A, then goes quiet
  GET  /die?n=N&after=A[&chunked=1]  sends A of N bytes, then closes
  GET  /badchunk?after=A       chunked: A good bytes, then a bad chunk size
  GET  /endless?size=S         S-byte chunks until the reader goes away; the
                               time it went away is recorded
  GET  /gone                   JSON list of those times (time.time())
  POST /upload                 reads the body (Content-Length or chunked), 200
                               JSON {"bytes", "sha256"}
  POST /slowread?ms=M          reads the body 16 KiB every M ms, records when
                               the sender went away (see /gone)
  POST /hold                   reads nothing, records when the sender went away

It stops by itself after --lifetime seconds (default 300).
"""
import hashlib
import json
import select
import socket
import socketserver
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

BLOCK = 1 << 20
_BASE = hashlib.sha256(b"gw").digest() * (BLOCK // 32)
GONE = []
GONE_LOCK = threading.Lock()


def pattern(offset, n):
    """n bytes of the test pattern from offset: each 1 MiB block is a fixed
    base with its block number in its first 8 bytes (a reordered or repeated
    block changes the checksum)."""
    out = bytearray()
    while n > 0:
        blk, off = divmod(offset, BLOCK)
        block = blk.to_bytes(8, "big") + _BASE[8:]
        take = min(n, BLOCK - off)
        out += block[off:off + take]
        offset += take
        n -= take
    return bytes(out)


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.sock = self.request
        self.rbuf = b""

    def readline(self):
        while b"\r\n" not in self.rbuf:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError
            self.rbuf += d
        line, self.rbuf = self.rbuf.split(b"\r\n", 1)
        return line

    def read(self, n):
        while len(self.rbuf) < n:
            d = self.sock.recv(min(max(n - len(self.rbuf), 65536), 1 << 20))
            if not d:
                raise ConnectionError
            self.rbuf += d
        out, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        return out

    def head(self, status, fields):
        h = "HTTP/1.1 %d X\r\n" % status + "".join("%s: %s\r\n" % kv for kv in fields) + "\r\n"
        self.sock.sendall(h.encode())

    def chunk(self, data):
        self.sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))

    def handle(self):
        try:
            while self.one():
                pass
        except (ConnectionError, OSError, ssl.SSLError):
            pass

    def body(self, hdrs):
        """The request body, hashed as it arrives: (bytes, sha256)."""
        h = hashlib.sha256()
        total = 0
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.readline().split(b";")[0], 16)
                if size == 0:
                    while self.readline():
                        pass
                    break
                left = size
                while left:
                    d = self.read(min(left, 1 << 20))
                    h.update(d)
                    left -= len(d)
                total += size
                self.readline()
        else:
            left = int(hdrs.get("content-length", "0"))
            while left:
                d = self.read(min(left, 1 << 20))
                h.update(d)
                total += len(d)
                left -= len(d)
        return total, h.hexdigest()

    def one(self):
        line = self.readline().decode()
        method, target, _ = line.split(" ", 2)
        hdrs = {}
        while True:
            ln = self.readline()
            if not ln:
                break
            k, v = ln.decode().split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        url = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        num = lambda k, d=0: int(q.get(k, d))
        p = url.path
        if p == "/health":
            self.head(200, [("Content-Length", 2)])
            self.sock.sendall(b"ok")
        elif p == "/chunked":
            self.head(200, [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")])
            for i in range(num("n", 3)):
                self.chunk(bytes([97 + i % 26]) * num("size", 10))
            self.sock.sendall(b"0\r\n\r\n")
        elif p == "/sse":
            self.head(200, [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                            ("Transfer-Encoding", "chunked")])
            for i in range(num("n", 10)):
                time.sleep(num("ms", 100) / 1000.0)
                self.chunk(("id: %d\ndata: %.6f\n\n" % (i, time.time())).encode())
            self.sock.sendall(b"0\r\n\r\n")
        elif p in ("/bytes", "/stall", "/die"):
            n = num("n")
            after = num("after", n) if p != "/bytes" else n
            chunked = q.get("chunked") == "1"
            if chunked:
                self.head(200, [("Content-Type", "application/octet-stream"),
                                ("Transfer-Encoding", "chunked")])
            else:
                self.head(200, [("Content-Type", "application/octet-stream"), ("Content-Length", n)])
            off = 0
            while off < after:
                d = pattern(off, min(BLOCK, after - off))
                if chunked:
                    self.chunk(d)
                else:
                    self.sock.sendall(d)
                off += len(d)
            if p == "/stall":
                time.sleep(3600)
            if p == "/die":
                self.sock.shutdown(socket.SHUT_RDWR)
                return False
            if chunked:
                self.sock.sendall(b"0\r\n\r\n")
        elif p == "/badchunk":
            bad = b"zz\r\nbroken\r\n0\r\n\r\n"
            if num("after"):
                self.head(200, [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")])
                self.chunk(b"g" * num("after"))
                time.sleep(0.2)
                self.sock.sendall(bad)
            else:  # the broken framing arrives with the head
                self.sock.sendall(b"HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n" + bad)
            return False
        elif p == "/endless":
            self.head(200, [("Content-Type", "application/octet-stream"),
                            ("Transfer-Encoding", "chunked")])
            try:
                while True:
                    self.chunk(b"e" * num("size", 16384))
                    time.sleep(0.001)
            except OSError:
                with GONE_LOCK:
                    GONE.append(time.time())
                return False
        elif p == "/slowread":
            try:
                while True:
                    d = self.sock.recv(16384)
                    if not d:
                        raise ConnectionError
                    time.sleep(num("ms", 10) / 1000.0)
            except OSError:
                with GONE_LOCK:
                    GONE.append(time.time())
                return False
        elif p == "/hold":
            # reads nothing: waits for the sender to go away (POLLRDHUP sees
            # the peer's FIN even with unread bytes queued)
            po = select.poll()
            po.register(self.sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
            while not po.poll(1000):
                pass
            with GONE_LOCK:
                GONE.append(time.time())
            return False
        elif p == "/gone":
            with GONE_LOCK:
                data = json.dumps(GONE).encode()
            self.head(200, [("Content-Type", "application/json"), ("Content-Length", len(data))])
            self.sock.sendall(data)
        elif p == "/upload":
            total, digest = self.body(hdrs)
            data = json.dumps({"bytes": total, "sha256": digest}).encode()
            self.head(200, [("Content-Type", "application/json"), ("Content-Length", len(data))])
            self.sock.sendall(data)
        else:
            self.body(hdrs)
            self.head(404, [("Content-Length", 0)])
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True
    tls = None

    def get_request(self):
        s, a = super().get_request()
        if self.tls:
            s = self.tls.wrap_socket(s, server_side=True)
        return s, a


def main():
    port = int(sys.argv[1])
    lifetime = 300
    args = sys.argv[2:]
    srv = Server(("127.0.0.1", port), Handler)
    while args:
        a = args.pop(0)
        if a == "--lifetime":
            lifetime = float(args.pop(0))
        elif a == "--tls":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args.pop(0), args.pop(0))
            srv.tls = ctx
        elif a == "--client-ca":
            srv.tls.load_verify_locations(args.pop(0))
            srv.tls.verify_mode = ssl.CERT_REQUIRED
    threading.Timer(lifetime, lambda: __import__("os")._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
