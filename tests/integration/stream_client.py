#!/usr/bin/env python3
"""Clients of tests/integration/stream.sh, over raw sockets so that they can
read slowly, hang up mid-body and time what arrives.

  stream_client.py sse PORT PATH            prints the latency of each event (ms),
                                            then "complete 1" (the framing
                                            ended cleanly) or "complete 0"
  stream_client.py get PORT PATH [RATE]     reads the whole response (RATE
                                            bytes/s at most; 0: as fast as it
                                            can), prints "STATUS BYTES CRC32
                                            COMPLETE" (COMPLETE: 1 when the
                                            framing ended cleanly)
  stream_client.py hangup PORT PATH BYTES   reads BYTES of the body, closes,
                                            prints the time it closed
  stream_client.py upload PORT PATH BYTES [HANGUP_AT]  sends BYTES of the
                                            pattern chunked; prints the answer,
                                            or hangs up after HANGUP_AT bytes
                                            and prints the time; a
                                            connection closed before the
                                            answer prints "cut"
  stream_client.py upload-cl PORT PATH BYTES  sends BYTES of the pattern
                                            with Content-Length, after the
                                            100 Continue it asks for; prints
                                            the answer ("STATUS BODY")
"""
import socket
import struct
import sys
import time
import zlib

sys.path.insert(0, __import__("os").path.dirname(__file__))
from stream_upstream import pattern_views  # noqa: E402


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def fill(self, n=65536):
        d = self.s.recv(n)
        if not d:
            raise EOFError
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def take(self, n):
        """Up to n bytes: fewer only when the connection ends first."""
        while len(self.buf) < n:
            try:
                self.fill(max(65536, n - len(self.buf)))
            except EOFError:
                if not self.buf:
                    raise
                break
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def head(self):
        status = int(self.line().split()[1])
        hdrs = {}
        while True:
            ln = self.line()
            if not ln:
                return status, hdrs
            k, v = ln.decode().split(":", 1)
            hdrs[k.strip().lower()] = v.strip()

    def body(self, hdrs, sink, rate=0):
        """Feed the body to sink(bytes-like: valid only during the call);
        True when its framing ended cleanly."""
        t0, got = time.time(), 0

        def pace(n):
            nonlocal got
            got += n
            if rate:
                ahead = got / rate - (time.time() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        try:
            if hdrs.get("transfer-encoding") == "chunked":
                while True:
                    size = int(self.line().split(b";")[0], 16)
                    if size == 0:
                        self.line()
                        return True
                    left = size
                    while left:
                        part = self.take(min(left, 16384))
                        sink(part)
                        pace(len(part))
                        left -= len(part)
                    self.line()
            elif "content-length" in hdrs:
                left = int(hdrs["content-length"])
                part = self.take(min(left, len(self.buf)))
                sink(part)
                left -= len(part)
                # straight into one buffer: no copy per read
                buf = memoryview(bytearray(1 << 20))
                while left:
                    k = self.s.recv_into(buf, min(left, 16384 if rate else 1 << 20))
                    if not k:
                        raise EOFError
                    sink(buf[:k])
                    pace(k)
                    left -= k
                return True
            else:
                while True:
                    if not self.buf:
                        self.fill()
                    sink(self.buf)
                    pace(len(self.buf))
                    self.buf = b""
        except (EOFError, ConnectionError, ValueError):
            return False


def send_pattern(c, total):
    for d in pattern_views(0, total):
        c.s.sendall(d)


def answer(c):
    """The answer to a request: "STATUS BODY", or "cut"."""
    try:
        status, hdrs = c.head()
    except (EOFError, ConnectionError):
        return "cut"
    out = []
    c.body(hdrs, lambda d: out.append(bytes(d)))
    return "%d %s" % (status, b"".join(out).decode())


def upload_cl(c, path, total):
    c.s.sendall(("POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
                 "Expect: 100-continue\r\n\r\n" % (path, total)).encode())
    c.s.settimeout(5)
    try:
        status, hdrs = c.head()
    except (EOFError, ConnectionError):
        return "cut"
    if status != 100:  # refused before the body
        out = []
        c.body(hdrs, lambda d: out.append(bytes(d)))
        return "%d %s" % (status, b"".join(out).decode())
    c.s.settimeout(60)
    try:
        send_pattern(c, total)
    except (ConnectionError, OSError):
        return "cut"
    return answer(c)


def main():
    mode, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    c = Conn(port)
    if mode == "upload-cl":
        print(upload_cl(c, path, int(sys.argv[4])))
        return
    if mode == "upload":
        total = int(sys.argv[4])
        hang = int(sys.argv[5]) if len(sys.argv) > 5 else -1
        c.s.sendall(("POST %s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n" % path).encode())
        off = 0
        for d in pattern_views(0, total):
            try:
                c.s.sendall(b"%x\r\n" % len(d))
                c.s.sendall(d)
                c.s.sendall(b"\r\n")
            except (ConnectionError, OSError):  # refused mid-body
                print(answer(c))
                return
            off += len(d)
            if 0 <= hang <= off:
                # an abortive close (RST): a FIN would wait behind the bytes
                # still queued towards gwd
                c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                print("%.6f" % time.time())
                c.s.close()
                return
        try:
            c.s.sendall(b"0\r\n\r\n")
        except (ConnectionError, OSError):
            pass
        print(answer(c))
        return
    c.s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode())
    status, hdrs = c.head()
    if mode == "sse":
        pend = [b""]

        def sink(d):
            pend[0] += d
            while b"\n\n" in pend[0]:
                ev, pend[0] = pend[0].split(b"\n\n", 1)
                for ln in ev.split(b"\n"):
                    if ln.startswith(b"data: "):
                        print("%.3f" % ((time.time() - float(ln[6:])) * 1000), flush=True)
        print("complete %d" % c.body(hdrs, sink))
    elif mode == "get":
        n = [0, 0]  # bytes, CRC-32

        def sink(d):
            n[1] = zlib.crc32(d, n[1])
            n[0] += len(d)
        rate = float(sys.argv[4]) if len(sys.argv) > 4 else 0
        done = c.body(hdrs, sink, rate)
        print(status, n[0], "%08x" % n[1], int(done))
    elif mode == "hangup":
        want, got = int(sys.argv[4]), [0]

        class Enough(Exception):
            pass

        def sink(d):
            got[0] += len(d)
            if got[0] >= want:
                raise Enough
        try:
            c.body(hdrs, sink)
        except Enough:
            pass
        c.s.close()
        print("%.6f" % time.time())


if __name__ == "__main__":
    main()
