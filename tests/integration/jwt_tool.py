#!/usr/bin/python3
"""Keys, JWKS documents, tokens and a JWKS server for tests/integration/jwt.sh,
made with an implementation independent of gw: Debian's python3-jwt (PyJWT)
and python3-cryptography.

  jwt_tool.py genkeys DIR         private keys into DIR/priv.json; the public
                                  JWKS of them all (and the HMAC key) into
                                  DIR/file.jwks
  jwt_tool.py jwks DIR KID...     print a public JWKS of the named keys
  jwt_tool.py mint DIR KID ALG CLAIMS_JSON [HEADER_JSON]
                                  print a token signed with key KID
  jwt_tool.py batch DIR < LINES   each line NAME KID ALG CLAIMS_JSON [HEADER_JSON]
                                  (the claims object, then the header's); prints NAME=TOKEN lines.
                                  KID "raw" signs nothing: HEADER_JSON and
                                  CLAIMS_JSON are encoded as given, with the
                                  signature ALG ("-": empty; "hmac-pem:KID":
                                  HS256 keyed with KID's public key PEM, the
                                  algorithm-confusion attack)
  jwt_tool.py serve PORT DIR      a JWKS server: GET /jwks answers the bytes of
                                  DIR/served.json (read at each request) with
                                  Cache-Control max-age=DIR/maxage (default 1),
                                  or 503 while DIR/down exists; each request
                                  appends a line to DIR/hits.  Stops by itself
                                  after 120 s.

Keys: rsa1 and rsa2 (RSA 2048), ec256 (P-256), ec384 (P-384), ed1 (Ed25519),
hs1 (64 random bytes).
"""
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm


def pem(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()


def genkeys(d):
    os.makedirs(d, exist_ok=True)
    priv = {
        "rsa1": pem(rsa.generate_private_key(65537, 2048)),
        "rsa2": pem(rsa.generate_private_key(65537, 2048)),
        "ec256": pem(ec.generate_private_key(ec.SECP256R1())),
        "ec384": pem(ec.generate_private_key(ec.SECP384R1())),
        "ed1": pem(ed25519.Ed25519PrivateKey.generate()),
        "hs1": base64.b64encode(os.urandom(64)).decode(),
    }
    with open(os.path.join(d, "priv.json"), "w") as f:
        json.dump(priv, f)
    with open(os.path.join(d, "file.jwks"), "w") as f:
        f.write(jwks(d, ["rsa1", "ec256", "ec384", "ed1", "hs1"]))


def load(d):
    with open(os.path.join(d, "priv.json")) as f:
        return json.load(f)


def public_jwk(kid, material):
    if kid.startswith("hs"):
        j = json.loads(HMACAlgorithm.to_jwk(base64.b64decode(material)))
    else:
        k = serialization.load_pem_private_key(material.encode(), None).public_key()
        if kid.startswith("rsa"):
            j = json.loads(RSAAlgorithm.to_jwk(k))
        elif kid.startswith("ec"):
            j = json.loads(ECAlgorithm.to_jwk(k))
            # RFC 7518 6.2.1.2: x and y are the full size of the curve's
            # coordinates; python3-jwt 2.6 drops leading zero bytes (about one
            # key in 128), which gw rightly refuses
            n = k.public_numbers()
            size = (k.curve.key_size + 7) // 8
            j["x"] = b64(n.x.to_bytes(size, "big"))
            j["y"] = b64(n.y.to_bytes(size, "big"))
        else:
            j = json.loads(OKPAlgorithm.to_jwk(k))
    j["kid"] = kid
    j["use"] = "sig"
    return j


def jwks(d, kids):
    priv = load(d)
    return json.dumps({"keys": [public_jwk(k, priv[k]) for k in kids]}, indent=2)


def mint(d, kid, alg, claims, header):
    priv = load(d)
    mat = priv[kid]
    key = base64.b64decode(mat) if kid.startswith("hs") else \
        serialization.load_pem_private_key(mat.encode(), None)
    h = {"kid": kid}
    h.update(header)
    if h.get("kid") is None:
        del h["kid"]
    now = int(time.time())
    c = {"iat": now, "exp": now + 300}
    c.update(claims)
    c = {k: v for k, v in c.items() if v is not None}
    return jwt.encode(c, key, algorithm=alg, headers=h)


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def raw(d, alg, claims, header):
    import hashlib
    import hmac
    now = int(time.time())
    c = {"iat": now, "exp": now + 300}
    c.update(claims)
    si = b64(json.dumps(header).encode()) + "." + b64(json.dumps(c).encode())
    if alg == "-":
        return si + "."
    if alg.startswith("hmac-pem:"):
        mat = load(d)[alg[9:]]
        pub = serialization.load_pem_private_key(mat.encode(), None).public_key()
        key = pub.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
        return si + "." + b64(hmac.new(key, si.encode(), hashlib.sha256).digest())
    return si + "." + b64(b"x" * 32)


def batch(d):
    for line in sys.stdin:
        f = line.split(None, 3)
        if not f:
            continue
        name, kid, alg = f[0], f[1], f[2]
        dec = json.JSONDecoder()
        claims, end = dec.raw_decode(f[3])
        rest = f[3][end:].strip()
        header = json.loads(rest) if rest else {}
        if kid == "raw":
            print("%s=%s" % (name, raw(d, alg, claims, header)))
        else:
            print("%s=%s" % (name, mint(d, kid, alg, claims, header)))


def serve(port, d):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            with open(os.path.join(d, "hits"), "a") as f:
                f.write("%f %s\n" % (time.time(), self.path))
            if os.path.exists(os.path.join(d, "down")) or self.path != "/jwks":
                body, status = b"down", 503
            else:
                with open(os.path.join(d, "served.json"), "rb") as f:
                    body, status = f.read(), 200
            try:
                with open(os.path.join(d, "maxage")) as f:
                    maxage = f.read().strip()
            except OSError:
                maxage = "1"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "max-age=" + maxage)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", int(port)), H)
    threading.Timer(120, srv.shutdown).start()
    srv.serve_forever()


def main():
    cmd = sys.argv[1]
    if cmd == "genkeys":
        genkeys(sys.argv[2])
    elif cmd == "jwks":
        print(jwks(sys.argv[2], sys.argv[3:]))
    elif cmd == "mint":
        header = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
        print(mint(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]), header))
    elif cmd == "batch":
        batch(sys.argv[2])
    elif cmd == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
