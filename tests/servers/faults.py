"""Servers that misbehave on purpose, for the fault classes ``check`` must name.

- ``refused_port``: nothing listens there, so connecting fails with ECONNREFUSED.
- ``hanging_server``: accepts TCP connections and never sends a byte (a firewall that lets the
  handshake through, a stuck server): the client's own timeout is the only way out.
- ``https_responder``: an HTTPS server (test-CA certificate by default) that answers every
  request with the status, headers and body a test chooses; routes per path, e.g. a
  ``/.well-known/caldav`` redirect (RFC 6764 section 5) or a 404/500 DAV server;
  ``https_responder(..., ipv6=True)`` listens on ``::1`` with a certificate for that address.
- ``talk_server``: a TCP server that runs a script per connection; the hostile scripts below
  (endless multi-line SMTP greeting, IMAP ``{4000000000}`` literal, endless untagged lines,
  non-ASCII capabilities) are what a broken or malicious server does to a client's memory.
- ``dead_resolver`` / ``refusing_resolver``: a UDP "DNS server" on loopback where nothing answers,
  or which answers REFUSED to every query.
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
from tests.servers.runtime import HOST, LOOPBACK, free_port


@pytest.fixture
def refused_port() -> int:
    """A loopback TCP port with nothing listening: connecting is refused."""
    return free_port()


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


def multistatus(*responses: tuple[str, str]) -> bytes:
    """A WebDAV 207 body: one 200 ``propstat`` per ``(href, prop XML)``, DAV: and CalDAV
    namespaces bound to ``d:`` and ``c:``."""
    items = "".join(
        f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>{prop}</d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        for href, prop in responses
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:" '
        f'xmlns:c="urn:ietf:params:xml:ns:caldav">{items}</d:multistatus>'
    ).encode()


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


class _ReplyServer6(_ReplyServer):
    address_family = socket.AF_INET6


def start_https_responder(
    cert: CertPair,
    default: Reply,
    routes: Mapping[str, Reply] | None = None,
    *,
    ipv6: bool = False,
) -> HttpsResponder:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert.cert_path), str(cert.key_path))
    server_class = _ReplyServer6 if ipv6 else _ReplyServer
    server = server_class(("::1" if ipv6 else LOOPBACK, 0), _ReplyHandler)
    server.tls = context
    responder = HttpsResponder(
        "[::1]" if ipv6 else HOST,
        server.server_address[1],
        default,
        dict(routes or {}),
        _server=server,
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
        ipv6: bool = False,
    ) -> HttpsResponder:
        default = Reply(status, body, dict(headers or {}), delay)
        if cert is None:
            cert = test_ca.issue(["::1"]) if ipv6 else test_ca.issue()
        responder = start_https_responder(cert, default, routes, ipv6=ipv6)
        started.append(responder)
        return responder

    yield make
    for responder in started:
        responder.stop()


# --- hostile talkers -------------------------------------------------------------------------

Talk = Callable[[socket.socket], None]
_FILLER = 65536


def _stream(conn: socket.socket, head: bytes, chunk: bytes) -> None:
    """Send ``head``, then ``chunk`` again and again until the client hangs up."""
    with contextlib.suppress(OSError):
        conn.sendall(head)
        while True:
            conn.sendall(chunk)


def endless_smtp_greeting(conn: socket.socket) -> None:
    """A multi-line 220 greeting that never ends (RFC 5321 §4.2.1 continuation lines)."""
    line = b"220-mail.example.test ESMTP " + b"x" * 60 + b"\r\n"
    _stream(conn, b"", line * (_FILLER // len(line)))


def endless_smtp_line(conn: socket.socket) -> None:
    """One greeting line that never reaches its CRLF."""
    _stream(conn, b"220 ", b"y" * _FILLER)


def imap_huge_literal(conn: socket.socket) -> None:
    """An untagged greeting announcing a 4 GB literal, then a byte stream (RFC 9051 §4.3)."""
    _stream(conn, b"* OK {4000000000}\r\n", b"z" * _FILLER)


def imap_endless_untagged(conn: socket.socket) -> None:
    """A normal greeting, then untagged lines forever, whatever the client asks."""
    line = b"* 1 EXISTS\r\n"
    _stream(conn, b"* OK ready\r\n", line * (_FILLER // len(line)))


def imap_not_ascii(conn: socket.socket) -> None:
    """A greeting and capabilities with UTF-8 where IMAP allows only ASCII (RFC 9051 §9)."""
    with contextlib.suppress(OSError), conn.makefile("rb") as rfile:
        conn.sendall(b"* OK [CAPABILITY IMAP4rev1 \xc3\xa9T\xc3\xa9] h\xc3\xa9llo\r\n")
        while line := rfile.readline(1000):
            tag = line.split(b" ", 1)[0]
            conn.sendall(b"* CAPABILITY IMAP4rev1 \xc3\xa9T\xc3\xa9\r\n" + tag + b" OK done\r\n")


@dataclass
class TalkServer:
    """Runs ``talk`` on every accepted connection, each in its own thread."""

    host: str
    port: int
    _listener: socket.socket
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        if self._thread is not None:
            self._thread.join(5)


def start_talk_server(talk: Talk) -> TalkServer:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(16)
    listener.settimeout(0.05)
    server = TalkServer(HOST, listener.getsockname()[1], listener)

    def serve() -> None:
        while not server._stop.is_set():
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return

            def run(conn: socket.socket = conn) -> None:
                with conn:
                    conn.settimeout(30)
                    talk(conn)

            threading.Thread(target=run, name="talk", daemon=True).start()

    server._thread = threading.Thread(target=serve, name="talk-server", daemon=True)
    server._thread.start()
    return server


@pytest.fixture
def talk_server() -> Iterator[Callable[[Talk], TalkServer]]:
    """Factory: ``talk_server(endless_smtp_greeting)``; stopped when the test ends."""
    started: list[TalkServer] = []

    def make(talk: Talk) -> TalkServer:
        server = start_talk_server(talk)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


# --- resolvers that do not work ---------------------------------------------------------------


@dataclass
class UdpResolver:
    port: int
    _sock: socket.socket
    _thread: threading.Thread | None = None

    @property
    def resolver_arg(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self._sock.close()
        if self._thread is not None:
            self._thread.join(5)


@pytest.fixture
def dead_resolver() -> int:
    """A loopback UDP port where no DNS server listens (queries get ICMP port unreachable)."""
    return free_port(socket.SOCK_DGRAM)


@pytest.fixture
def refusing_resolver() -> Iterator[UdpResolver]:
    """A DNS server on loopback that answers REFUSED (RFC 1035 §4.1.1 RCODE 5) to everything."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOPBACK, 0))
    server = UdpResolver(sock.getsockname()[1], sock)

    def serve() -> None:
        while True:
            try:
                query, addr = sock.recvfrom(4096)
            except OSError:
                return
            if len(query) < 12:
                continue
            # Same id and question; QR=1, opcode copied, RCODE=5; no records.
            flags = bytes([0x80 | (query[2] & 0x78), 0x05])
            end = query.find(b"\0", 12) + 5  # the question: name, type, class
            reply = query[:2] + flags + b"\0\1" + b"\0\0\0\0\0\0" + query[12:end]
            with contextlib.suppress(OSError):
                sock.sendto(reply, addr)

    server._thread = threading.Thread(target=serve, name="refusing-resolver", daemon=True)
    server._thread.start()
    yield server
    server.stop()
