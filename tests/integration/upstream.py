#!/usr/bin/env python3
"""A real upstream for the proxy tests: a small threaded HTTP/1.1 server on
127.0.0.1 that says who it is and what it received.

  upstream.py PORT NAME

  GET  /health            200 "ok"
  ANY  /whoami            200 {"name": NAME}
  ANY  /reflect/...       200 JSON: method, path (raw target), headers (list of
                          [name, value] as received), body length, name
  GET  /slow?ms=N         sleeps N ms, then 200
  ANY  /status/N          answers status N
  ANY  /big?bytes=N       N bytes of 'x'

It stops by itself after --lifetime seconds (default 600), so a test that dies
leaves nothing running for long.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NAME = "upstream"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Upstream-Name", NAME)
        # hop-by-hop headers the gateway must not pass on
        self.send_header("Keep-Alive", "timeout=5")
        self.send_header("X-Hop", "secret")
        self.send_header("Connection", "X-Hop")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _handle(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        body = self._body()
        if url.path == "/health":
            return self._send(200, "ok", "text/plain")
        if url.path == "/whoami":
            return self._send(200, json.dumps({"name": NAME}))
        if url.path.startswith("/reflect"):
            return self._send(200, json.dumps({
                "name": NAME, "method": self.command, "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_len": len(body)}))
        if url.path == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            return self._send(200, json.dumps({"name": NAME, "slow": True}))
        if url.path.startswith("/status/"):
            return self._send(int(url.path.split("/")[2]), json.dumps({"name": NAME}))
        if url.path == "/big":
            return self._send(200, b"x" * int(q.get("bytes", ["0"])[0]), "text/plain")
        if url.path.startswith("/users/"):
            return self._send(200, json.dumps({"id": url.path.split("/")[2], "name": NAME}))
        if url.path == "/items":
            return self._send(201, json.dumps({"created": True, "bytes": len(body)}))
        return self._send(404, json.dumps({"error": "not found"}))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a gateway that drops a connection on purpose (oversized response,
        # client gone) is part of the tests: no traceback for resets
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def main():
    global NAME
    port = int(sys.argv[1])
    NAME = sys.argv[2] if len(sys.argv) > 2 else "upstream"
    lifetime = 600
    if "--lifetime" in sys.argv:
        lifetime = int(sys.argv[sys.argv.index("--lifetime") + 1])
    srv = Server(("127.0.0.1", port), Handler)
    threading.Timer(lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
