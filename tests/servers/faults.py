"""Servers that misbehave on purpose, for the fault classes ``check`` must name.

- ``refused_port``: nothing listens there, so connecting fails with ECONNREFUSED.
- ``hanging_server``: accepts TCP connections and never sends a byte (a firewall that lets the
  handshake through, a stuck server): the client's own timeout is the only way out.
- ``https_responder``: an HTTPS server (test-CA certificate by default) that answers every
  request with the status, headers and body a test chooses; routes per path, e.g. a
  ``/.well-known/caldav`` redirect (RFC 6764 section 5) or a 404/500 DAV server.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.servers.ca import CertAuthority, CertPair
from tests.servers.runtime import HOST, LOOPBACK


@pytest.fixture
def refused_port() -> int:
    """A loopback port with nothing listening (bound, read, closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class HangingServer:
    """Accepts connections on ``port`` and holds them open in silence until stopped."""

    host: str
    port: int
    _listener: socket.socket
    accepted: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _serve(self) -> None:
        held: list[socket.socket] = []
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    if key.fileobj is self._listener:
                        conn, _addr = self._listener.accept()
                        held.append(conn)
                        self.accepted += 1
                        selector.register(conn, selectors.EVENT_READ)
                    else:
                        conn = key.fileobj  # type: ignore[assignment]
                        data = b""
                        with contextlib.suppress(OSError):
                            data = conn.recv(65536)  # read and ignore what the client says
                        if not data:
                            selector.unregister(conn)
                            conn.close()
        for conn in held:
            conn.close()
        self._listener.close()

    def wait_for_connection(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.accepted == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.accepted > 0

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def start_hanging_server() -> HangingServer:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(16)
    server = HangingServer(HOST, listener.getsockname()[1], listener)
    server._thread = threading.Thread(target=server._serve, name="hanging-server", daemon=True)
    server._thread.start()
    return server


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    """A TCP server that accepts and never answers (for IMAP, SMTP and DAV timeouts)."""
    server = start_hanging_server()
    yield server
    server.stop()


@dataclass(frozen=True)
class Reply:
    """One canned HTTP answer. ``body`` may be bytes, or an int: that many filler bytes,
    streamed, for size-limit tests. ``delay``: seconds to wait before answering."""

    status: int = 200
    body: bytes | int = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


_METHODS = (
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "OPTIONS",
    "PROPFIND",
    "PROPPATCH",
    "REPORT",
    "MKCOL",
    "MKCALENDAR",
)


class _ReplyHandler(BaseHTTPRequestHandler):
    server: _ReplyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1_000_000)) if length else b""
        path = self.path.split("?", 1)[0]
        self.server.owner.requests.append(
            SeenRequest(self.command, self.path, dict(self.headers.items()), body)
        )
        routes = self.server.owner.routes
        reply = (
            routes.get(f"{self.command} {path}") or routes.get(path) or self.server.owner.default
        )
        if reply.delay:
            time.sleep(reply.delay)
        size = reply.body if isinstance(reply.body, int) else len(reply.body)
        self.send_response(reply.status)
        headers = {"Content-Type": "text/plain; charset=utf-8", **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            if isinstance(reply.body, int):
                chunk = b"x" * 65536
                left = reply.body
                while left > 0:
                    self.wfile.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
            else:
                self.wfile.write(reply.body)
        except OSError:
            pass  # the client gave up reading, as a size-limited client should


for _method in _METHODS:
    setattr(_ReplyHandler, f"do_{_method}", _ReplyHandler._answer)


class _ReplyServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: HttpsResponder
    tls: ssl.SSLContext

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        # Handshake lazily, in the request's own thread: a client that stalls or rejects the
        # certificate must not block the accept loop.
        sock, addr = self.socket.accept()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients rejecting a bad certificate are expected here, not errors


@dataclass
class HttpsResponder:
    """An HTTPS server on ``port`` answering from ``routes``, else ``default``.

    A route key is a path (``"/.well-known/caldav"``) or a method and a path
    (``"OPTIONS /dav/"``); the method-specific one wins."""

    host: str
    port: int
    default: Reply
    routes: dict[str, Reply]
    requests: list[SeenRequest] = field(default_factory=list)
    _server: _ReplyServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def start_https_responder(
    cert: CertPair, default: Reply, routes: Mapping[str, Reply] | None = None
) -> HttpsResponder:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert.cert_path), str(cert.key_path))
    server = _ReplyServer((LOOPBACK, 0), _ReplyHandler)
    server.tls = context
    responder = HttpsResponder(
        HOST, server.server_address[1], default, dict(routes or {}), _server=server
    )
    server.owner = responder
    responder._thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="https-responder",
        daemon=True,
    )
    responder._thread.start()
    return responder


ResponderFactory = Callable[..., HttpsResponder]


@pytest.fixture
def https_responder(test_ca: CertAuthority) -> Iterator[ResponderFactory]:
    """Factory: ``https_responder(status=500)``, ``https_responder(body=b"<not xml")``,
    ``https_responder(routes={"/.well-known/caldav": Reply(301, headers={"Location": "/dav/"})})``,
    ``https_responder(cert=test_ca.issue(["wrong.test"]))``. Stopped when the test ends."""
    started: list[HttpsResponder] = []

    def make(
        status: int = 200,
        body: bytes | int = b"",
        headers: Mapping[str, str] | None = None,
        *,
        routes: Mapping[str, Reply] | None = None,
        delay: float = 0.0,
        cert: CertPair | None = None,
    ) -> HttpsResponder:
        default = Reply(status, body, dict(headers or {}), delay)
        responder = start_https_responder(cert or test_ca.issue(), default, routes)
        started.append(responder)
        return responder

    yield make
    for responder in started:
        responder.stop()
