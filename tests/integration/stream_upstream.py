#!/usr/bin/env python3
"""A real upstream for the streaming proxy tests: HTTP/1.1 on 127.0.0.1 over
raw sockets, so that it can frame bodies exactly as a test needs (chunked,
cut short, malformed, stalled).

  stream_upstream.py PORT [--port2 PORT2] [--lifetime S]
                     [--tls CERT KEY [--client-ca CA]]

  GET  /health                 200 "ok"
  GET  /chunked?n=N&size=S     N chunks of S bytes ('a'..), chunked
  GET  /sse?n=N&ms=M           N server-sent events M ms apart, chunked; each
                               event's data is its send time (time.time())
  GET  /bytes?n=N[&chunked=1]  N bytes of the pattern (see pattern()), with
                               Content-Length (or chunked)
  GET  /stall?n=N&after=A      announces N bytes, sends A, then goes quiet
  GET  /die?n=N&after=A[&chunked=1][&wait=MS]  sends A of N bytes, (waits MS
                               ms,) then closes
  GET  /badchunk?after=A       chunked: A good bytes, then a bad chunk size
  GET  /endless?size=S         S-byte chunks until the reader goes away; the
                               time it went away is recorded
  GET  /gone                   JSON list of those times (time.time())
  POST /upload                 reads the body (Content-Length or chunked), 200
                               JSON {"bytes", "sha256"}
  POST /slowread?ms=M          reads the body 16 KiB every M ms, records when
                               the sender went away (see /gone)
  POST /hold                   reads nothing, records when the sender went away
  GET  /clte?n=N               a head with both Content-Length and
                               Transfer-Encoding, then N bytes chunked
  GET  /bighead?kb=K           a head of K fields of 1 KiB each, then "ok"
  GET  /nohead                 a status line and a field, then nothing
  ANY  /drop                   reads the request, closes without answering
  GET  /hits?tag=T             how many requests carried ?tag=T
  GET  /closed?tag=T           "1" once the connection of the request that
                               carried ?tag=T was closed by the peer (clte,
                               bighead, nohead watch for it), else "0"

Every request's ?tag= is counted (/hits).  --port2 listens on a second port
too (two targets of one upstream).

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
import zlib
from urllib.parse import parse_qs, urlsplit

BLOCK = 1 << 20
_BASE = hashlib.sha256(b"gw").digest() * (BLOCK // 32)
GONE = []
GONE_LOCK = threading.Lock()
HITS = {}
CLOSED = {}


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


def pattern_views(offset, n):
    """The same bytes as pattern(offset, n), as memoryviews of one reused
    1 MiB buffer (each valid until the next is taken): no copy per block, so
    that gigabytes go as fast as loopback allows."""
    buf = bytearray(_BASE)
    mv = memoryview(buf)
    end = offset + n
    while offset < end:
        blk, off = divmod(offset, BLOCK)
        take = min(end - offset, BLOCK - off)
        buf[0:8] = blk.to_bytes(8, "big")
        yield mv[off:off + take]
        offset += take


def pattern_sha256(n):
    """The sha256 of the first n bytes of the pattern (hex)."""
    h = hashlib.sha256()
    for d in pattern_views(0, n):
        h.update(d)
    return h.hexdigest()


def pattern_crc32(n):
    """The CRC-32 of the first n bytes of the pattern (8 hex digits): the
    download checksum, three times cheaper than sha256 over gigabytes."""
    c = 0
    for d in pattern_views(0, n):
        c = zlib.crc32(d, c)
    return "%08x" % c


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

    def watch(self, tag, data):
        """Send <data>, then wait (10 s at most) for the peer to close the
        connection; note it under <tag>.  POLLRDHUP sees the FIN even with
        unread bytes queued; a reset while sending is a close too."""
        try:
            self.sock.sendall(data)
        except OSError:
            with GONE_LOCK:
                CLOSED[tag] = time.time()
            return False
        po = select.poll()
        po.register(self.sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        if po.poll(10000):
            with GONE_LOCK:
                CLOSED[tag] = time.time()
        return False

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
        tag = q.get("tag", "")
        if tag and p not in ("/hits", "/closed"):
            with GONE_LOCK:
                HITS[tag] = HITS.get(tag, 0) + 1
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
            for d in pattern_views(0, after):
                if chunked:
                    self.sock.sendall(b"%x\r\n" % len(d))
                    self.sock.sendall(d)
                    self.sock.sendall(b"\r\n")
                else:
                    self.sock.sendall(d)
            if p == "/stall":
                time.sleep(3600)
            if p == "/die":
                time.sleep(num("wait") / 1000.0)
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
        elif p == "/clte":
            n = num("n", 1000)
            return self.watch(tag, b"HTTP/1.1 200 X\r\nContent-Length: %d\r\nTransfer-Encoding: "
                              b"chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (n, n, b"c" * n))
        elif p == "/bighead":
            fields = b"".join(b"X-Big-%d: %s\r\n" % (i, b"h" * 1024) for i in range(num("kb", 64)))
            return self.watch(tag, b"HTTP/1.1 200 X\r\n%sContent-Length: 2\r\n\r\nok" % fields)
        elif p == "/nohead":
            return self.watch(tag, b"HTTP/1.1 200 X\r\nX-A: b\r\n")
        elif p == "/drop":
            self.body(hdrs)
            return False
        elif p in ("/hits", "/closed"):
            with GONE_LOCK:
                v = HITS.get(tag, 0) if p == "/hits" else int(tag in CLOSED)
            data = str(v).encode()
            self.head(200, [("Content-Type", "text/plain"), ("Content-Length", len(data))])
            self.sock.sendall(data)
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
        elif a == "--port2":
            srv2 = Server(("127.0.0.1", int(args.pop(0))), Handler)
            threading.Thread(target=srv2.serve_forever, daemon=True).start()
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
