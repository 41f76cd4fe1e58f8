#!/usr/bin/env python3
"""A real HTTPS upstream for tests/integration/upstream_tls.sh: a threaded
HTTP/1.1 server on 127.0.0.1 behind Python's ssl module.

  upstream_tls.py PORT CERT KEY [--client-ca CA] [--tls12] [--down FILE]
                  [--lifetime S]

  --client-ca CA   require a client certificate issued by CA (mutual TLS)
  --tls12          TLS 1.2 at most (session ids: resumption is visible)
  --down FILE      /health answers 503 while FILE exists

  GET /health      200 "ok" (503 while the --down file exists)
  GET /whoami      200 {"name": "tls"}
  GET /close       200, then the connection is closed (Connection: close)
  GET /big?bytes=N N bytes of 'x', streamed in 64 KiB writes
  GET /stats       {"handshakes": H, "resumed": R, "failed": F}: TLS
                   handshakes completed (R of them resumed a session) and
                   failed since start

It stops by itself after --lifetime seconds (default 600).
"""
import json
import os
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STATS = {"handshakes": 0, "resumed": 0, "failed": 0}
LOCK = threading.Lock()
DOWN = None


def count(key):
    with LOCK:
        STATS[key] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        # the handshake on this connection's thread, not the accepting one
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            count("failed")
            raise
        count("handshakes")
        if self.request.session_reused:
            count("resumed")
        super().setup()

    def _send(self, status, body, ctype="application/json", close=False):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        if url.path == "/health":
            if DOWN and os.path.exists(DOWN):
                return self._send(503, "down", "text/plain")
            return self._send(200, "ok", "text/plain")
        if url.path == "/whoami":
            return self._send(200, json.dumps({"name": "tls"}))
        if url.path == "/close":
            return self._send(200, json.dumps({"name": "tls"}), close=True)
        if url.path == "/stats":
            with LOCK:
                return self._send(200, json.dumps(STATS))
        if url.path == "/big":
            n = int(q.get("bytes", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            block = b"x" * 65536
            while n > 0:
                self.wfile.write(block[:min(n, len(block))])
                n -= min(n, len(block))
            return None
        return self._send(404, json.dumps({"error": "not found"}))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    ctx = None

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr

    def shutdown_request(self, request):
        # close_notify first: OpenSSL forgets the session of a connection
        # closed without it, and no client could resume it
        try:
            request.settimeout(2)
            request.unwrap()
        except (ssl.SSLError, OSError, ValueError):
            pass
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # refused handshakes and clients that hang up are part of the tests
        if isinstance(sys.exc_info()[1], (ssl.SSLError, OSError)):
            return
        super().handle_error(request, client_address)


def opt(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    global DOWN
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if "--tls12" in sys.argv:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if opt("--client-ca"):
        ctx.load_verify_locations(opt("--client-ca"))
        ctx.verify_mode = ssl.CERT_REQUIRED
    DOWN = opt("--down")
    srv = Server(("127.0.0.1", port), Handler, bind_and_activate=False)
    srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.server_bind()
    srv.server_activate()
    srv.ctx = ctx
    threading.Timer(int(opt("--lifetime", "600")), srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
