"""Real SMTP submission servers on loopback (aiosmtpd on real sockets, one event loop thread).

One :class:`SmtpServer` has three listeners, all for the same test user:

- ``submission_port``: like 587 (RFC 6409): EHLO, STARTTLS (RFC 3207) with a test-CA certificate,
  AUTH PLAIN/LOGIN (RFC 4954) offered and accepted only after STARTTLS.
- ``smtps_port``: like 465, implicit TLS from the first byte (RFC 8314), AUTH offered at once.
- ``no_starttls_port``: a server that never offers STARTTLS, so AUTH is never offered either:
  what a client meets behind a middlebox that strips STARTTLS.

Every connection, EHLO, STARTTLS, AUTH result and accepted message is recorded in ``events`` so
tests can assert what the client did from the server's side.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers.ca import CertAuthority, CertPair
from tests.servers.dovecot import IMAP_PASSWORD, IMAP_USER
from tests.servers.runtime import HOST, LOOPBACK

SMTP_USER = IMAP_USER
SMTP_PASSWORD = IMAP_PASSWORD  # one device password for IMAP and SMTP, as at Infomaniak


@dataclass(frozen=True)
class SmtpEvent:
    """Something a client did, seen by the server.

    ``kind``: connect | ehlo | starttls | auth | message. ``listener``: submission | smtps |
    no_starttls. ``tls``: whether the connection was encrypted at that moment.
    """

    listener: str
    kind: str
    tls: bool
    peer: str = ""
    mechanism: str = ""
    login: str = ""
    success: bool | None = None
    ehlo_name: str = ""


@dataclass
class SmtpServer:
    host: str
    submission_port: int
    smtps_port: int
    no_starttls_port: int
    cert: CertPair
    user: str = SMTP_USER
    password: str = SMTP_PASSWORD
    # More mailboxes for team tests ({login: password}); the test that adds some removes them.
    extra_users: dict[str, str] = field(default_factory=dict)
    events: list[SmtpEvent] = field(default_factory=list)
    messages: list[Envelope] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _servers: list[asyncio.AbstractServer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, event: SmtpEvent) -> None:
        with self._lock:
            self.events.append(event)

    def events_of(self, kind: str, listener: str | None = None) -> list[SmtpEvent]:
        with self._lock:
            return [
                e
                for e in self.events
                if e.kind == kind and (listener is None or e.listener == listener)
            ]

    def clear_events(self) -> None:
        with self._lock:
            self.events.clear()
            self.messages.clear()

    def wait_for(
        self,
        kind: str,
        timeout: float = 5.0,
        *,
        listener: str | None = None,
        success: bool | None = None,
    ) -> SmtpEvent | None:
        """First event of ``kind`` (and ``success`` if given), waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events_of(kind, listener):
                if success is None or event.success is success:
                    return event
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def close() -> None:
            for server in self._servers:
                server.close()
            for server in self._servers:
                await asyncio.wait_for(server.wait_closed(), 2)
            # Client sessions still open: cancel them and let them close their transports.
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 2)
            await asyncio.sleep(0)

        # Stopping anyway: whatever close() hit, the loop is stopped below.
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if not thread.is_alive():
            loop.close()
        self._loop = None


class _Handler:
    """aiosmtpd handler: accept every message (recorded, never relayed) and record EHLO."""

    def __init__(self, server: SmtpServer, listener: str) -> None:
        self.server = server
        self.listener = listener

    async def handle_EHLO(
        self, smtp: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.server.record(
            SmtpEvent(self.listener, "ehlo", _is_tls(smtp), str(session.peer), ehlo_name=hostname)
        )
        return responses

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        self.server.messages.append(envelope)
        self.server.record(
            SmtpEvent(
                self.listener, "message", _is_tls(smtp), str(session.peer), login=_login_of(session)
            )
        )
        return "250 2.0.0 OK: queued nowhere (test server)"


def _is_tls(smtp: SMTP) -> bool:
    return smtp.transport is not None and smtp.transport.get_extra_info("sslcontext") is not None


def _login_of(session: Session) -> str:
    data = session.auth_data
    return data.login.decode(errors="replace") if isinstance(data, LoginPassword) else ""


class _RecordingSMTP(SMTP):
    """aiosmtpd's SMTP that records connections and STARTTLS for :class:`SmtpServer`."""

    def __init__(self, handler: _Handler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._recorder = handler

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        upgraded = self._original_transport is not None
        super().connection_made(transport)
        self._recorder.server.record(
            SmtpEvent(
                self._recorder.listener,
                "starttls" if upgraded else "connect",
                transport.get_extra_info("sslcontext") is not None,
                str(transport.get_extra_info("peername")),
            )
        )


def _authenticator(server: SmtpServer, listener: str) -> Callable[..., AuthResult]:
    def authenticate(
        smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = False
        login = ""
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode(errors="replace")
            users = {**server.extra_users, server.user: server.password}
            ok = users.get(login) == auth_data.password.decode(errors="replace")
        server.record(
            SmtpEvent(
                listener,
                "auth",
                _is_tls(smtp),
                str(session.peer),
                mechanism=mechanism,
                login=login,
                success=ok,
            )
        )
        # handled=False: aiosmtpd then sends the 535 itself; with True a failed AUTH gets no
        # reply at all (FACTS.md).
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return authenticate


def start_smtp(cert: CertPair) -> SmtpServer:
    """Start the three listeners on free ports in one event-loop thread."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(str(cert.cert_path), str(cert.key_path))
    loop = asyncio.new_event_loop()
    server = SmtpServer(HOST, 0, 0, 0, cert, _loop=loop)

    def factory(listener: str, **kwargs: Any) -> Callable[[], SMTP]:
        def make() -> SMTP:
            return _RecordingSMTP(
                _Handler(server, listener),
                hostname="mail.example.test",
                loop=loop,
                authenticator=_authenticator(server, listener),
                timeout=30,
                **kwargs,
            )

        return make

    async def listen() -> list[int]:
        plans = [
            (
                factory(
                    "submission",
                    tls_context=server_context,
                    require_starttls=True,
                    auth_require_tls=True,
                ),
                None,
            ),
            # Implicit TLS: aiosmtpd only knows about TLS it negotiated via STARTTLS, so allow
            # AUTH here explicitly; the socket is encrypted from the first byte.
            (factory("smtps", auth_require_tls=False), server_context),
            (factory("no_starttls", auth_require_tls=True), None),
        ]
        ports = []
        for make, context in plans:
            listener = await loop.create_server(make, LOOPBACK, 0, ssl=context)
            server._servers.append(listener)
            ports.append(listener.sockets[0].getsockname()[1])
        return ports

    thread = threading.Thread(target=loop.run_forever, name="smtp-test-server", daemon=True)
    thread.start()
    server._thread = thread
    try:
        ports = asyncio.run_coroutine_threadsafe(listen(), loop).result(10)
    except BaseException:
        server.stop()
        raise
    server.submission_port, server.smtps_port, server.no_starttls_port = ports
    return server


@pytest.fixture(scope="session")
def smtp_server(test_ca: CertAuthority) -> Iterator[SmtpServer]:
    """The shared SMTP server with a valid localhost certificate from ``test_ca``.

    Shared by the session: call ``clear_events()`` first or look only at your own events.
    """
    server = start_smtp(test_ca.issue())
    yield server
    server.stop()


@pytest.fixture
def smtp_factory(test_ca: CertAuthority) -> Iterator[Callable[..., SmtpServer]]:
    """Start extra SMTP servers: ``smtp_factory(cert=test_ca.issue(expired=True))``."""
    started: list[SmtpServer] = []

    def make(cert: CertPair | None = None) -> SmtpServer:
        server = start_smtp(cert or test_ca.issue())
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
