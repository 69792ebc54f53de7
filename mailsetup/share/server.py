"""The one-shot HTTP server behind ``mailsetup share``: one file, one token, one request.

Built on the standard library's ``http.server`` rather than uvicorn (the project's default for
HTTP services, used by ``mailsetup serve``): importing uvicorn costs about three times as much as
``http.server`` (benchmarks/share_bench.py), which the 0.3 s start-up goal can barely spare once
the profile is rendered; uvicorn has no deadline for reading a request's headers, which a
server anyone on the network can reach needs; and a server that answers a single request needs
none of ASGI's concurrency. What ``http.server`` does not do on its own is added here,
because anyone on the network can connect:

- one request per connection (HTTP/1.0 semantics, then close), only ``GET``;
- a cap on the bytes of a request (:data:`MAX_REQUEST_BYTES`, request line and headers
  together; a body is never read), answered 431;
- a timeout on every read and write (:data:`IO_TIMEOUT`) and a total deadline per connection
  (:data:`CONNECTION_DEADLINE`) so a slowloris client, one byte every few seconds, is cut off;
- at most :data:`MAX_CONNECTIONS` connections at once, :data:`MAX_PER_CLIENT` per address;
- the token compared in constant time; a wrong one is 404 and changes nothing; the right one
  is served once (the first request wins under a lock), then the server stops;
- the server stops at the expiry whatever arrives: no request keeps it alive.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from mailsetup.model import download_name

MAX_REQUEST_BYTES = 8 * 1024
IO_TIMEOUT = 5.0
CONNECTION_DEADLINE = 10.0
MAX_CONNECTIONS = 32
MAX_PER_CLIENT = 4
POLL_INTERVAL = 0.2
LINGER_SECONDS = 1.0
LINGER_BYTES = 256 * 1024


@dataclass(frozen=True)
class Payload:
    """What the link delivers: a file (``body`` with its type and name) or a redirect."""

    body: bytes
    content_type: str
    filename: str | None = None
    location: str | None = None  # 303 to this URL (a DAVx5 link), ``body`` explains it


@dataclass
class Outcome:
    """How the share ended: ``served_to`` the client that got it, or ``None`` (expired)."""

    served_to: str | None = None
    failed: str | None = None  # the transfer started but broke off
    wrong_requests: int = 0


@dataclass
class _State:
    token_path: bytes
    payload: Payload
    outcome: Outcome = field(default_factory=Outcome)
    lock: threading.Lock = field(default_factory=threading.Lock)
    claimed: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class _TooLarge(Exception):
    """The request went past :data:`MAX_REQUEST_BYTES`."""


class _CappedReader:
    """The connection's reader, refusing to deliver more than ``budget`` bytes in total.

    ``http.server`` bounds each line (64 KiB) and the header count (100), which still lets one
    connection send 6 MiB of headers; a profile link needs a few hundred bytes.
    """

    def __init__(self, raw: io.BufferedIOBase, budget: int) -> None:
        self._raw = raw
        self._left = budget

    def readline(self, size: int = -1) -> bytes:
        limit = self._left + 1 if size < 0 else min(size, self._left + 1)
        line = self._raw.readline(limit)
        self._left -= len(line)
        if self._left < 0:
            raise _TooLarge
        return line

    def read(self, size: int = -1) -> bytes:  # pragma: no cover - no body is ever read
        raise _TooLarge

    def close(self) -> None:
        self._raw.close()


class _Handler(BaseHTTPRequestHandler):
    server: ShareServer
    protocol_version = "HTTP/1.0"  # one request per connection, then close
    default_request_version = "HTTP/1.0"  # errors get a status line, even for junk (no 0.9)
    timeout = IO_TIMEOUT  # StreamRequestHandler sets it on the socket: every recv and send

    def setup(self) -> None:
        super().setup()
        # parse_request sets these; an error before it (an overlong request line) needs them.
        self.command, self.requestline = "", ""
        self.request_version = self.default_request_version
        self.rfile = _CappedReader(self.rfile, MAX_REQUEST_BYTES)  # type: ignore[assignment]
        self._watchdog = threading.Timer(CONNECTION_DEADLINE, self._cut)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _cut(self) -> None:
        """The total deadline passed (a slowloris client): unblock every read and write."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        self._watchdog.cancel()
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        try:
            super().handle()
        except _TooLarge:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
                self.wfile.flush()
                self._linger()
        except OSError:  # the client went away or the deadline cut it off
            self.close_connection = True

    def _linger(self) -> None:
        """Read (a bounded amount of) what the client still sends before closing.

        Closing a socket with unread input makes the kernel send a reset, and the client may
        then lose the 431 it was just sent (RFC 9112, section 9.6, "tear-down").
        """
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(LINGER_SECONDS)
        drained = 0
        while drained < LINGER_BYTES and (chunk := self.connection.recv(16384)):
            drained += len(chunk)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard reason phrase only: http.server would echo the request line back."""
        super().send_error(code)

    def version_string(self) -> str:
        return "mailsetup"  # not the Python version: nothing for a scanner to match

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the terminal shows the outcome, not every stranger's request."""

    def end_headers(self) -> None:
        for name, value in (
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ):
            self.send_header(name, value)
        super().end_headers()

    def _not_allowed(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", "GET")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def __getattr__(self, name: str) -> Any:
        """Every method but GET, known or invented, is 405 (not http.server's 501 echoing it)."""
        if name.startswith("do_"):
            return self._not_allowed
        raise AttributeError(name)

    def do_GET(self) -> None:
        state = self.server.state
        path = self.path.split("?", 1)[0].encode("latin-1", "replace")
        if not hmac.compare_digest(path, state.token_path):
            with state.lock:
                state.outcome.wrong_requests += 1
            self._plain(HTTPStatus.NOT_FOUND, "Not found.")
            return
        with state.lock:
            first = not state.claimed
            state.claimed = True
        if not first:
            self._plain(HTTPStatus.GONE, "This link has been used.")
            return
        try:
            self._deliver(state.payload)
        except OSError as exc:
            state.outcome.failed = exc.strerror or type(exc).__name__
        else:
            state.outcome.served_to = str(self.client_address[0])
        finally:
            state.done.set()

    def _deliver(self, payload: Payload) -> None:
        if payload.location:
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Location", payload.location)
        else:
            self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", payload.content_type)
        self.send_header("Content-Length", str(len(payload.body)))
        if payload.filename:
            safe = download_name(payload.filename)  # a quoted-string, nothing else
            self.send_header("Content-Disposition", f'attachment; filename="{safe}"')
        self.end_headers()
        self.wfile.write(payload.body)
        self.wfile.flush()

    def _plain(self, status: HTTPStatus, text: str) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ShareServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A listening socket on one address; each connection in its own short-lived thread.

    ``socketserver.TCPServer`` rather than ``http.server.HTTPServer``: the latter looks up the
    host's name (``getfqdn``) while binding, a DNS query that costs time and leaks the address.
    """

    daemon_threads = True
    block_on_close = False  # closing never waits on a stalled stranger's connection
    allow_reuse_address = False
    request_queue_size = MAX_CONNECTIONS

    def __init__(self, host: str, port: int, payload: Payload, token: str) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.state = _State(token_path=f"/{token}".encode(), payload=payload)
        self._count_lock = threading.Lock()
        self._per_client: dict[str, int] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Refuse a connection beyond the caps (it is closed at once, nothing read)."""
        client = str(client_address[0])
        with self._count_lock:
            total = sum(self._per_client.values())
            if total >= MAX_CONNECTIONS or self._per_client.get(client, 0) >= MAX_PER_CLIENT:
                return False
            self._per_client[client] = self._per_client.get(client, 0) + 1
        return True

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            client = str(client_address[0])
            with self._count_lock:
                self._per_client[client] -= 1
                if not self._per_client[client]:
                    del self._per_client[client]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A stranger's malformed connection is not our traceback to print."""

    def serve_until_done(
        self, deadline: float, clock: Callable[[], float] = time.monotonic
    ) -> Outcome:
        """Accept connections until the file is delivered or ``deadline`` (``clock`` time) passes.

        A delivery under way at the deadline is allowed to finish (it is bounded by
        :data:`CONNECTION_DEADLINE`). ``KeyboardInterrupt`` propagates to the caller.
        """
        state = self.state
        while not state.done.is_set() and not self._stopping.is_set():
            remaining = deadline - clock()
            if remaining <= 0:
                break
            self.timeout = min(POLL_INTERVAL, remaining)
            self.handle_request()
            with state.lock:
                claimed = state.claimed
            if claimed:
                state.done.wait(CONNECTION_DEADLINE + IO_TIMEOUT)
        with state.lock:
            claimed = state.claimed
        if claimed:
            state.done.wait(CONNECTION_DEADLINE + IO_TIMEOUT)
        return state.outcome

    def start(self, deadline: float) -> None:
        """Serve in a background thread, so the link works while the QR code is still drawn."""
        self._thread = threading.Thread(
            target=self.serve_until_done, args=(deadline,), name="mailsetup-share", daemon=True
        )
        self._thread.start()

    def wait(self) -> Outcome:
        """Block until :meth:`start`'s thread ends; Ctrl-C still reaches the main thread."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(POLL_INTERVAL)
        return self.state.outcome

    def stop(self) -> None:
        """End the serving thread at its next poll (Ctrl-C), then close the socket."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(POLL_INTERVAL * 5)
        self.server_close()
