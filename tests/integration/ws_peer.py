#!/usr/bin/python3
"""A real WebSocket peer for tests/integration/websocket.sh and perf/bench-ws.sh,
on python3-websockets (Debian).

  ws_peer.py server PORT        echo server on 127.0.0.1:PORT (over TLS when
        $WS_SERVER_CERT and $WS_SERVER_KEY name a PEM certificate and key):
        /headers  first sends the handshake's request fields as JSON, then echoes
        /close    echoes one message, then closes (1000, "bye")
        /proto    picks the client's first subprotocol
        anything else: echo (text stays text, binary stays binary)
  ws_peer.py raw PORT           hand-written answers to a handshake:
        /badaccept  101 with a wrong Sec-WebSocket-Accept
        /noaccept   101 without Sec-WebSocket-Accept
        /deny       403 with a small body
        /denychunked  the same body chunked, with an extension and a trailer
        /badchunked   403 whose chunk is longer than its size says
  ws_peer.py CLIENT-COMMAND URL ...  (see the functions below: each prints one
        result line, and exits 0 when the exchange went as the peer expects;
        a wss:// URL is verified against the certificates of $WS_CAFILE)
"""
import asyncio
import base64
import hashlib
import json
import os
import socket
import ssl
import statistics
import sys
import time

import websockets

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def handler(ws, path):
    if path == "/headers":
        await ws.send(json.dumps({k.lower(): v for k, v in ws.request_headers.raw_items()}))
    if path == "/close":
        msg = await ws.recv()
        await ws.send(msg)
        await ws.close(1000, "bye")
        return
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def serve(port):
    kw = {}
    if os.environ.get("WS_SERVER_CERT"):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(os.environ["WS_SERVER_CERT"], os.environ["WS_SERVER_KEY"])
        kw["ssl"] = ctx
    async with websockets.serve(handler, "127.0.0.1", port, max_size=None, **kw,
                                ping_interval=None, subprotocols=["chat", "superchat"],
                                compression=None, max_queue=None):
        await asyncio.Future()


async def raw_conn(reader, writer):
    head = b""
    while b"\r\n\r\n" not in head:
        d = await reader.read(4096)
        if not d:
            writer.close()
            return
        head += d
    lines = head.split(b"\r\n")
    path = lines[0].split(b" ")[1].decode()
    print("conn", path, flush=True)
    after = len(head) - head.index(b"\r\n\r\n") - 4
    key = b""
    for ln in lines[1:]:
        if ln.lower().startswith(b"sec-websocket-key:"):
            key = ln.split(b":", 1)[1].strip()
    good = base64.b64encode(hashlib.sha1(key + GUID).digest())
    if path.endswith("/badaccept"):
        bad = base64.b64encode(hashlib.sha1(key + b"x").digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + bad + b"\r\n\r\n")
    elif path.endswith("/noaccept"):
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\n\r\n")
    elif path.endswith("/deny"):
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 12\r\nX-Peer: raw\r\n\r\nnot for you\n")
    elif path.endswith("/denychunked"):
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n"
                     b"Transfer-Encoding: chunked\r\nX-Peer: raw\r\n\r\n"
                     b"4;ext=1\r\nnot \r\n8\r\nfor you\n\r\n0\r\nX-Trailer: t\r\n\r\n")
    elif path.endswith("/badchunked"):
        writer.write(b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"4\r\nnot for you\r\n0\r\n\r\n")
    else:
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + good + b"\r\n\r\n")
    await writer.drain()
    # whatever the client sends now must never arrive here: count it
    try:
        while True:
            d = await reader.read(4096)
            if not d:
                break
            after += len(d)
    except ConnectionError:
        pass
    print("after", path, after, flush=True)
    writer.close()


async def raw(port):
    srv = await asyncio.start_server(raw_conn, "127.0.0.1", port)
    async with srv:
        await srv.serve_forever()


def connect(url, **kw):
    if url.startswith("wss://") and os.environ.get("WS_CAFILE"):
        kw["ssl"] = ssl.create_default_context(cafile=os.environ["WS_CAFILE"])
    return websockets.connect(url, max_size=None, ping_interval=None, compression=None,
                              open_timeout=10, close_timeout=10, max_queue=None, **kw)


async def echo(url, n):
    """N text messages echoed in order."""
    n = int(n)
    async with connect(url) as ws:
        async def sender():
            for i in range(n):
                await ws.send("m%d" % i)
        task = asyncio.ensure_future(sender())
        for i in range(n):
            got = await ws.recv()
            if got != "m%d" % i:
                print("out of order at", i, got)
                return 1
        await task
    print("echoed", n)
    return 0


async def big(url, size):
    """One binary message of SIZE bytes, echoed whole."""
    data = os.urandom(int(size))
    async with connect(url) as ws:
        await ws.send(data)
        got = await ws.recv()
    same = isinstance(got, bytes) and hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    print("big", len(got), "same" if same else "differs")
    return 0 if same else 1


async def mixed(url):
    """Text stays text, binary stays binary, a ping gets its pong."""
    async with connect(url) as ws:
        await ws.send("héllo")
        t = await ws.recv()
        await ws.send(b"\x00\x01\xff")
        b = await ws.recv()
        pong = await ws.ping(b"p1")
        await asyncio.wait_for(pong, 10)
    ok = t == "héllo" and b == b"\x00\x01\xff"
    print("text", type(t).__name__, "binary", type(b).__name__, "pong ok")
    return 0 if ok else 1


async def close_client(url):
    """The client starts the close handshake: the server's close comes back."""
    ws = await connect(url)
    await ws.send("x")
    await ws.recv()
    await ws.close(4001, "client done")
    print("close", ws.close_code, ws.close_reason, "rcvd", ws.close_rcvd.code if ws.close_rcvd else None)
    return 0 if ws.close_rcvd and ws.close_rcvd.code == 4001 else 1


async def close_server(url):
    """The server starts the close handshake (/close)."""
    async with connect(url) as ws:
        await ws.send("x")
        await ws.recv()
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except websockets.ConnectionClosedOK:
            pass
    print("close", ws.close_code, ws.close_reason)
    return 0 if ws.close_code == 1000 and ws.close_reason == "bye" else 1


async def until_closed(url):
    """Echo once, then wait for the connection to end; prints the seconds
    it stayed open and the close code (1006: the TCP connection closed
    without a close frame)."""
    async with connect(url) as ws:
        await ws.send("x")
        await ws.recv()
        print("open", flush=True)
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(ws.recv(), 120)
        except websockets.ConnectionClosed:
            pass
    print("closed %.1f %s" % (time.monotonic() - t0, ws.close_code))
    return 0


async def hold(url, n, flag):
    """Open N WebSockets, echo once on each, print "open N", wait until the
    file FLAG exists, echo once more on each: prints how many still echo,
    then how many were closed by the other end while waiting."""
    n = int(n)
    socks = []
    while len(socks) < n:  # 50 handshakes at a time
        socks += await asyncio.gather(*(connect(url) for _ in range(min(50, n - len(socks)))))

    async def once(ws):
        await ws.send("a")
        await ws.recv()
    await asyncio.gather(*(once(ws) for ws in socks))
    print("open", len(socks), flush=True)
    while not os.path.exists(flag):
        await asyncio.sleep(0.1)
    async def again(ws):
        try:
            await ws.send("b")
            return await asyncio.wait_for(ws.recv(), 30) == "b"
        except (websockets.ConnectionClosed, asyncio.TimeoutError):
            return False
    ok = sum(await asyncio.gather(*(again(ws) for ws in socks)))
    print("echoed", ok, flush=True)
    await asyncio.gather(*(ws.close() for ws in socks), return_exceptions=True)
    return 0


async def hold_until_closed(url, n):
    """Open N WebSockets; print "open N"; wait until the other end closes
    them all (at most 60 s); print how many closed and after how long."""
    n = int(n)
    socks = [await connect(url) for _ in range(n)]
    print("open", len(socks), flush=True)
    t0 = time.monotonic()

    async def wait(ws):
        try:
            await asyncio.wait_for(ws.recv(), 60)
        except websockets.ConnectionClosed:
            return 1
        except asyncio.TimeoutError:
            return 0
        return 0
    closed = sum(await asyncio.gather(*(wait(ws) for ws in socks)))
    print("closed %d %.1f" % (closed, time.monotonic() - t0))
    return 0


async def bench(url, n, seconds):
    """Round-trip latency of N sequential echoes (p50/p99 in ms), then
    messages per second with 64 in flight for SECONDS."""
    n = int(n)
    async with connect(url) as ws:
        lat = []
        for i in range(n):
            t = time.perf_counter()
            await ws.send("x" * 64)
            await ws.recv()
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        done = 0
        end = time.monotonic() + float(seconds)
        inflight = 64
        for _ in range(inflight):
            await ws.send("y" * 64)
        while time.monotonic() < end:
            await ws.recv()
            done += 1
            await ws.send("y" * 64)
        for _ in range(inflight):
            await ws.recv()
    print("p50_ms %.3f p99_ms %.3f msgs_per_s %.0f msgs %d" % (
        statistics.median(lat), lat[int(len(lat) * 0.99) - 1], done / float(seconds),
        n + done + inflight))
    return 0


def send(port, path):
    """The bytes of file PATH as one write; prints the answer's status line
    (or "closed" when the connection closes without one)."""
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    s.sendall(open(path, "rb").read())
    buf = b""
    while b"\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.close()
    print(buf.split(b"\r\n")[0].decode() if b"\r\n" in buf else "closed")
    return 0


def early(port, path):
    """A handshake and a masked text frame in one write (the frame reaches
    gwd with the head): the echo must come back after the 101."""
    key = base64.b64encode(os.urandom(16))
    head = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key +
            b"\r\n\r\n")
    mask = b"\x01\x02\x03\x04"
    payload = b"early"
    frame = b"\x81" + bytes([0x80 | len(payload)]) + mask + bytes(
        c ^ mask[i % 4] for i, c in enumerate(payload))
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    s.sendall(head + frame)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    h, _, rest = buf.partition(b"\r\n\r\n")
    while len(rest) < 2 + len(payload):
        d = s.recv(4096)
        if not d:
            break
        rest += d
    s.close()
    ok = h.startswith(b"HTTP/1.1 101") and rest[:2] == b"\x81\x05" and rest[2:7] == payload
    print("early", h.split(b"\r\n")[0].decode(), rest[2:7])
    return 0 if ok else 1


async def headers(url, *extra):
    """The request fields the upstream saw (/headers), as JSON."""
    hdrs = [tuple(e.split(":", 1)) for e in extra]
    async with connect(url, extra_headers=[(k, v.strip()) for k, v in hdrs]) as ws:
        print(await ws.recv())
    return 0


async def proto(url):
    """Subprotocol negotiation passes through."""
    async with connect(url, subprotocols=["superchat", "chat"]) as ws:
        print("subprotocol", ws.subprotocol)
        return 0 if ws.subprotocol == "superchat" else 1


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "server":
        asyncio.run(serve(int(args[0])))
    elif cmd == "raw":
        asyncio.run(raw(int(args[0])))
    elif cmd == "early":
        sys.exit(early(*args))
    elif cmd == "send":
        sys.exit(send(*args))
    else:
        fn = {"echo": echo, "big": big, "mixed": mixed, "close-client": close_client,
              "close-server": close_server, "until-closed": until_closed, "hold": hold,
              "hold-until-closed": hold_until_closed, "bench": bench, "headers": headers,
              "proto": proto}[cmd]
        try:
            sys.exit(asyncio.run(fn(*args)))
        except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as e:
            print("error", type(e).__name__, e)
            sys.exit(1)


if __name__ == "__main__":
    main()
