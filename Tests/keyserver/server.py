#!/usr/bin/env python3
"""A conforming HTTP key service for the tests: WrapKey and ProvisionKey over a file store.

    POST /WrapKey                 {"key_name", "client_public_key"} -> {"wrapped_key"}
    POST /ProvisionKey/<name>     {"key_name", "algorithm": "aes-gcm", "strength": "256"} -> 201

client_public_key is base64 of a DER SubjectPublicKeyInfo or of a DER X.509 certificate. Keys
are wrapped with RSA PKCS#1 v1.5 (the contract), or with RSA-OAEP-SHA256 when the request asks
with "wrapping_algorithm": "rsa-oaep-sha256" (echoed in the answer). Bad input gets 400 with a
JSON {"error": "..."} message; an unknown key 404; an existing name on provision 409.

Failure simulations, chosen by a path prefix so one server serves every test:
    /simulate/500/...          500 with a text body
    /simulate/nonjson/...      200 with an HTML body
    /simulate/slow/...         answers normally after --slow-seconds
    /simulate/short/...        a wrapped key one byte short
    /simulate/ignore-oaep/...  always PKCS#1 v1.5, never echoing wrapping_algorithm

Usage: server.py --store keys.json [--host 127.0.0.1] [--port 0] [--tls-cert C --tls-key K]
Prints "listening on <url>" on standard output once ready. Logs one line per request on
standard error: method, path, status; never a body, so no key ever reaches a log.
"""

import argparse
import base64
import binascii
import json
import os
import re
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

OAEP = "rsa-oaep-sha256"
PKCS1 = "rsa-pkcs1v15"
MAX_BODY = 1 << 16


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class FileStore:
    """The JSON key file, rewritten atomically with mode 0600 under a lock."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def load(self):
        with open(self.path, encoding="utf-8") as f:
            return json.load(f)

    def key(self, name):
        keys = self.load()
        stored = keys.get(name, keys.get(canonical(name)))
        if stored is None:
            raise BadRequest(404, f"no key named {name!r}")
        try:
            raw = base64.b64decode(stored, validate=True)
        except (binascii.Error, TypeError):
            raise BadRequest(500, f"the store's value for {name!r} is not base64")
        if len(raw) != 32:
            raise BadRequest(500, f"the store's value for {name!r} is not 32 bytes")
        return raw

    def add(self, name, raw):
        with self.lock:
            keys = self.load() if os.path.exists(self.path) else {}
            if name in keys or canonical(name) in keys:
                raise BadRequest(409, f"a key named {name!r} already exists")
            keys[canonical(name)] = base64.b64encode(raw).decode()
            directory = os.path.dirname(os.path.abspath(self.path))
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=".keys-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(keys, f, indent=2)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)


def canonical(name):
    """kbs:///repo/type/tag, kbs://host/repo/type/tag, host/repo/type/tag, /repo/type/tag -> repo/type/tag."""
    match = re.fullmatch(r"(?:kbs://[^/]*/|/|[^/:]+/(?=[^/]+/[^/]+/[^/]+$))?([^/]+/[^/]+/[^/]+)", name)
    return match.group(1) if match else name


def load_client_key(text):
    if not isinstance(text, str) or not text:
        raise BadRequest(400, "client_public_key must be base64 text")
    try:
        der = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise BadRequest(400, "client_public_key is not base64")
    try:
        key = serialization.load_der_public_key(der)
    except ValueError:
        try:
            key = x509.load_der_x509_certificate(der).public_key()
        except ValueError:
            raise BadRequest(400, "client_public_key is neither a DER SubjectPublicKeyInfo nor a DER certificate")
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadRequest(400, "client_public_key is not an RSA key")
    if key.key_size < 2048:
        raise BadRequest(400, f"client_public_key is a {key.key_size}-bit RSA key; at least 2048 bits are needed")
    return key


def wrap(key, raw, algorithm):
    if algorithm == OAEP:
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        return key.encrypt(raw, oaep)
    return key.encrypt(raw, padding.PKCS1v15())


class Handler(BaseHTTPRequestHandler):
    server_version = "cpk-test-keyserver/1"

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        simulation = None
        match = re.match(r"/simulate/([a-z0-9-]+)(/.*)$", path)
        if match:
            simulation, path = match.group(1), match.group(2)
        try:
            if simulation == "500":
                return self.send(500, b"Internal Server Error: simulated failure", "text/plain")
            if simulation == "nonjson":
                return self.send(200, b"<html><body>Sign in to continue</body></html>", "text/html")
            if simulation == "slow":
                time.sleep(self.server.slow_seconds)
            request = self.read_json()
            if path.rstrip("/") in ("", "/WrapKey", "/api/WrapKey"):
                return self.wrap_key(request, simulation)
            provision = re.fullmatch(r"(?:/api)?/ProvisionKey/([^/]+)", path)
            if provision:
                return self.provision_key(urllib.parse.unquote(provision.group(1)), request)
            raise BadRequest(404, f"no such endpoint: {path}")
        except BadRequest as error:
            self.send_json(error.status, {"error": error.message})
        except (BrokenPipeError, ConnectionResetError):
            pass

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            raise BadRequest(400, "the request must have a JSON body")
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            raise BadRequest(400, "the request body is not JSON")
        if not isinstance(body, dict):
            raise BadRequest(400, "the request body must be a JSON object")
        return body

    def wrap_key(self, request, simulation):
        name = request.get("key_name")
        if not isinstance(name, str) or not name:
            raise BadRequest(400, "key_name is missing")
        key = load_client_key(request.get("client_public_key"))
        algorithm = request.get("wrapping_algorithm", PKCS1)
        if algorithm not in (PKCS1, OAEP):
            raise BadRequest(400, f"unsupported wrapping_algorithm {algorithm!r}")
        if simulation == "ignore-oaep":
            algorithm = PKCS1
        wrapped = wrap(key, self.server.store.key(name), algorithm)
        if simulation == "short":
            wrapped = wrapped[:-1]
        answer = {"wrapped_key": base64.b64encode(wrapped).decode()}
        if algorithm != PKCS1:
            answer["wrapping_algorithm"] = algorithm
        self.send_json(200, answer)

    def provision_key(self, name, request):
        if request.get("key_name") != name:
            raise BadRequest(400, "key_name must match the name in the URL")
        if request.get("algorithm") != "aes-gcm" or request.get("strength") != "256":
            raise BadRequest(400, 'only {"algorithm": "aes-gcm", "strength": "256"} is supported')
        self.server.store.add(name, os.urandom(32))
        self.send_json(201, {"key_name": name})

    def send_json(self, status, value):
        self.send(status, json.dumps(value).encode(), "application/json")

    def send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="the JSON key file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--slow-seconds", type=float, default=10.0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.store = FileStore(args.store)
    server.slow_seconds = args.slow_seconds
    scheme = "http"
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    host, port = server.server_address[:2]
    print(f"listening on {scheme}://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
