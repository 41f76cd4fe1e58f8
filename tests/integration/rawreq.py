#!/usr/bin/env python3
"""rawreq: send exact request bytes to gwd on 127.0.0.1 and report what came back.

libmicrohttpd and curl both clean up what they send and parse, so the edge
checks of gwd (framing headers, raw targets, head deadline, connection
limits) can only be proved with bytes written to a socket by hand.  This is
that client, used by tests/integration/raw_requests.sh (the table of
tests/corpus/http/cases.txt), keepalive.sh and shutdown.sh.

    rawreq.py --port P [options] FILE [FILE...]

Each FILE holds the exact bytes of one or more requests.  With one FILE they
are sent at once (or trickled, see below); with several, each is sent after
the previous response is complete, all on the same connection.

The outcome is printed as one line of words: the status of every response
read, in order, then how the connection ended:
    close    the server closed it (EOF or reset)
    open     still open when we stopped waiting
    timeout  a response was started or expected but did not complete in time
    junk     what came back is not an HTTP response
e.g. "200 open", "400 close", "close" (closed with no response at all).
Interim 1xx responses are skipped.

--expect EXPR turns the outcome into an exit status (0 when it matches, 1
otherwise, with the reason on stderr).  EXPR is alternatives joined by '|':
    close        closed with no response
    NNN          the first response has status NNN
    NNN/close    exactly one response, NNN, and then the server closed
    NNN/only     exactly one response, NNN (open or closed after it)
Every wait is bounded (--timeout), so a hung server fails a case rather than
hanging the suite.
"""

import argparse
import socket
import sys
import time


class Outcome:
    """What one exchange produced: statuses, the first response's headers and
    body, how the connection ended and when."""

    def __init__(self):
        self.statuses = []
        self.headers = []      # first response: list of (name-lower, value)
        self.body = b""        # first response body (decoded from chunks)
        self.end = "open"      # close | open | timeout
        self.elapsed = 0.0     # seconds from connect to the end state
        self.error = ""        # why the exchange ended early, for the report

    def words(self):
        return " ".join([str(s) for s in self.statuses] + [self.end])


class Conn:
    """A socket with a receive buffer and an absolute deadline for every read."""

    def __init__(self, port, src, deadline):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if src:
            self.sock.bind((src, 0))
        self.sock.settimeout(max(0.05, deadline - time.monotonic()))
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.eof = False
        self.deadline = deadline

    def fill(self, until=None):
        """Read more bytes into the buffer. Returns True when some arrived,
        False on EOF/reset (sets eof) or when <until> (default: the deadline)
        passed (raises TimeoutError then)."""
        end = until if until is not None else self.deadline
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError()
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def send(self, data):
        """Send all of <data>. Returns False when the server has closed."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def read_line(c):
    """One CRLF- (or LF-) terminated line from <c>, without the terminator, or
    None on EOF. Raises TimeoutError at the deadline."""
    while b"\n" not in c.buf:
        if not c.fill():
            return None
    line, c.buf = c.buf.split(b"\n", 1)
    return line.rstrip(b"\r")


def read_exact(c, n):
    """<n> bytes from <c>, or None on EOF first."""
    while len(c.buf) < n:
        if not c.fill():
            return None
    data, c.buf = c.buf[:n], c.buf[n:]
    return data


def read_response(c, head_only):
    """Read one whole response from <c>. Returns (status, headers, body), or
    None when the connection closed before a status line arrived. Raises
    TimeoutError when it does not complete in time, ValueError when what
    arrived is not HTTP."""
    while True:
        line = read_line(c)
        if line is None:
            return None
        parts = line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise ValueError("not a status line: %r" % line[:80])
        status = int(parts[1])
        headers = []
        while True:
            h = read_line(c)
            if h is None:
                raise ValueError("closed inside the response head")
            if h == b"":
                break
            name, _, value = h.partition(b":")
            headers.append((name.strip().lower().decode("latin-1"),
                            value.strip().decode("latin-1")))
        if 100 <= status < 200:
            continue  # interim (100 Continue): the real response follows
        hd = dict(headers)
        body = b""
        if head_only or status in (204, 304):
            pass
        elif "chunked" in hd.get("transfer-encoding", "").lower():
            while True:
                size_line = read_line(c)
                if size_line is None:
                    raise ValueError("closed inside a chunked body")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers up to the empty line
                        t = read_line(c)
                        if t is None or t == b"":
                            break
                    break
                chunk = read_exact(c, size + 2)
                if chunk is None:
                    raise ValueError("closed inside a chunk")
                body += chunk[:size]
        elif "content-length" in hd:
            body = read_exact(c, int(hd["content-length"]))
            if body is None:
                raise ValueError("closed inside the body")
        else:
            while c.fill():  # delimited by close
                pass
            body, c.buf = c.buf, b""
        return status, headers, body


def split_head(data):
    """<data> split after the first blank line: (head, rest)."""
    i = data.find(b"\r\n\r\n")
    if i < 0:
        return data, b""
    return data[:i + 4], data[i + 4:]


def send_trickled(c, data, line_delay, body_chunk, body_delay):
    """Send <data> slowly: the head one line every <line_delay> seconds (when
    non-zero), then the rest in <body_chunk>-byte pieces every <body_delay>
    seconds (when non-zero). Returns False when the server closed first."""
    head, rest = split_head(data)
    if line_delay > 0:
        lines = head.split(b"\n")
        for i, piece in enumerate(lines):
            if i < len(lines) - 1:
                piece += b"\n"
            if not piece:
                continue
            if not c.send(piece):
                return False
            if i < len(lines) - 2:
                if server_closed_within(c, line_delay):
                    return False
    elif not c.send(head):
        return False
    if body_chunk > 0 and rest:
        for i in range(0, len(rest), body_chunk):
            if not c.send(rest[i:i + body_chunk]):
                return False
            if body_delay > 0 and i + body_chunk < len(rest):
                time.sleep(body_delay)
        return True
    return not rest or c.send(rest)


def server_closed_within(c, seconds):
    """Wait <seconds>, watching <c>: True when the server closed it meanwhile
    (data that arrives is kept in the buffer)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if not c.fill(until=end):
                return True
        except TimeoutError:
            return False
    return False


def exchange(args, files):
    """Run one exchange as <args> says. Returns an Outcome."""
    out = Outcome()
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    held = []
    c = None

    def record(r):
        status, headers, body = r
        if not out.statuses:
            out.headers, out.body = headers, body
        out.statuses.append(status)

    try:
        srcs = [a for a in args.hold_src.split(",") if a] or [args.src]
        for i in range(args.hold):
            held.append(Conn(args.port, srcs[i % len(srcs)], deadline))
        if held:
            time.sleep(0.2)  # let the server see (and count) them first
        c = Conn(args.port, args.src, deadline)
        for i, data in enumerate(files):
            if i == 0:
                send_trickled(c, data, args.line_delay, args.body_chunk, args.body_delay)
            else:
                c.send(data)
            # A failed send means the server stopped reading: whatever it
            # answered before closing is still in our receive queue.
            r = read_response(c, args.head)
            if r is None:
                out.end = "close"
                break
            record(r)
        else:
            if args.wait_close:
                # Further responses (pipelining, smuggled requests) or the
                # close, whichever comes within --close-wait.
                while True:
                    until = min(deadline, time.monotonic() + args.close_wait)
                    try:
                        if not c.buf and not c.fill(until=until):
                            out.end = "close"
                            break
                    except TimeoutError:
                        out.end = "open"
                        break
                    r = read_response(c, args.head)
                    if r is None:
                        out.end = "close"
                        break
                    record(r)
    except TimeoutError:  # before OSError: it is one
        out.end = "timeout"
    except OSError as e:
        out.end = "close"
        out.error = "connect or send: %s" % e
    except ValueError as e:
        out.end = "junk"
        out.error = str(e)
    finally:
        out.elapsed = time.monotonic() - t0
        if c is not None:
            c.close()
        for h in held:
            h.close()
    return out


def match(expr, out):
    """Whether Outcome <out> matches the --expect expression <expr>."""
    for alt in expr.split("|"):
        alt = alt.strip()
        if alt == "close":
            if not out.statuses and out.end == "close":
                return True
            continue
        code, _, cond = alt.partition("/")
        if not out.statuses or str(out.statuses[0]) != code:
            continue
        if cond in ("close", "only") and len(out.statuses) != 1:
            continue
        if cond == "close" and out.end != "close":
            continue
        return True
    return False


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--src", default="", help="source address (127.x.y.z)")
    p.add_argument("--timeout", type=float, default=5.0, help="whole exchange, seconds")
    p.add_argument("--line-delay", type=float, default=0.0,
                   help="send the head one line every this many seconds")
    p.add_argument("--body-chunk", type=int, default=0, help="trickle the body in pieces of N bytes")
    p.add_argument("--body-delay", type=float, default=0.0, help="seconds between body pieces")
    p.add_argument("--hold", type=int, default=0,
                   help="open N idle connections first and keep them open meanwhile")
    p.add_argument("--hold-src", default="",
                   help="source addresses of the held connections, comma-separated, used in turn")
    p.add_argument("--head", action="store_true", help="responses carry no body (HEAD)")
    p.add_argument("--wait-close", action="store_true",
                   help="after the responses, wait to see whether the server closes")
    p.add_argument("--close-wait", type=float, default=2.0, help="seconds to wait for that")
    p.add_argument("--expect", default="", help="expected outcome (see above)")
    p.add_argument("--header", action="append", default=[],
                   help="the first response must carry this header (name)")
    p.add_argument("--contains", action="append", default=[],
                   help="the first response body must contain this text")
    p.add_argument("--body-equals", default="", help="the first response body must equal this file")
    p.add_argument("--print-headers", action="store_true", help="print the first response's headers")
    p.add_argument("--print-body", action="store_true", help="print the first response's body")
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    if "/" in args.expect:
        args.wait_close = True

    files = []
    for f in args.files:
        with open(f, "rb") as fh:
            files.append(fh.read())
    out = exchange(args, files)
    print(out.words())
    if args.print_headers:
        for n, v in out.headers:
            print("%s: %s" % (n, v))
    if args.print_body:
        sys.stdout.write(out.body.decode("utf-8", "replace") + "\n")

    problems = []
    if args.expect and not match(args.expect, out):
        problems.append("expected %s, got '%s' after %.2fs" % (args.expect, out.words(), out.elapsed))
    names = {n for n, _ in out.headers}
    for h in args.header:
        if h.lower() not in names:
            problems.append("no %s header in the response" % h)
    for text in args.contains:
        if text.encode() not in out.body:
            problems.append("body lacks %r: %r" % (text, out.body[:200]))
    if args.body_equals:
        with open(args.body_equals, "rb") as fh:
            want = fh.read()
        if out.body != want:
            problems.append("body differs: %d bytes, expected %d" % (len(out.body), len(want)))
    if problems and out.error:
        problems.append("(%s)" % out.error)
    for pr in problems:
        sys.stderr.write("rawreq: %s\n" % pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
