"""IMAP probe: TLS (implicit, RFC 8314 §3.3, or STARTTLS, RFC 9051 §6.2.1), capabilities, login.

With credentials it does what a mail client does first: LOGIN (or AUTHENTICATE PLAIN when the
server sets LOGINDISABLED, RFC 9051 §6.2.3), ``LIST "" INBOX`` to prove the mailbox is there,
then LOGOUT. Nothing is read, written or selected.

imaplib reads whatever the server sends (a ``{4000000000}`` literal, endless untagged lines);
here it reads through :mod:`mailsetup.check.bounded`, so the server's reply length is bounded.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

from mailsetup.check.bounded import MAX_LITERAL, BoundedReader, ReadBudget, with_budget
from mailsetup.check.faults import FaultName as F
from mailsetup.check.probe import Credentials, Fault, Outcome, ProbeContext, closed_fault
from mailsetup.check.tls import record_tls
from mailsetup.provider import Endpoint
from mailsetup.untrusted import clean_text


class _BoundedReads:
    """imaplib's two read methods, through the connection's :class:`ReadBudget`."""

    budget: ReadBudget
    file: Any
    sock: Any
    _reader: BoundedReader | None = None

    def _bounded(self) -> BoundedReader:
        if self._reader is None or self._reader.raw is not self.file:  # new after STARTTLS
            self._reader = BoundedReader(self.file, self.budget, self.sock)
        return self._reader

    def read(self, size: int) -> bytes:
        if size > MAX_LITERAL:
            raise self.budget.too_long(f"a literal of {size} bytes (at most {MAX_LITERAL} read)")
        return self._bounded().read(size)

    def readline(self) -> bytes:
        return self._bounded().readline()


@cache
def _client_classes() -> dict[str, type[Any]]:
    """imaplib's clients with bounded reads (built on first use: imaplib loads lazily)."""
    import imaplib

    return {
        "ssl": with_budget(imaplib.IMAP4_SSL, _BoundedReads),
        "plain": with_budget(imaplib.IMAP4, _BoundedReads),
    }


def _auth_error(exc: Exception) -> Fault:
    """A refused LOGIN; ``[UNAVAILABLE]`` (RFC 5530 §3) is the server's fault, not the user's."""
    raw = exc.args[0] if exc.args else ""  # imaplib passes the server's bytes
    text = clean_text(raw if isinstance(raw, bytes | str) else str(raw))
    if "[UNAVAILABLE]" in text.upper():
        return Fault(F.SERVER_UNAVAILABLE, f"server unavailable: {text}")
    return Fault(F.AUTH_FAILED, f"authentication failed: {text}")


def _connect(ctx: ProbeContext, endpoint: Endpoint, tls: ssl.SSLContext) -> Any:
    """Connect and read the greeting (and CAPABILITY, which imaplib asks for at once)."""
    import imaplib

    # STARTTLS and clear ports greet before any TLS: name only what can be waited for.
    implicit = endpoint.security == "ssl"
    left = ctx.enter("connect, TLS handshake and greeting" if implicit else "connect and greeting")
    classes = _client_classes()
    budget = ReadBudget(ctx)
    try:
        if endpoint.security == "ssl":
            return classes["ssl"](
                budget, endpoint.host, endpoint.port, ssl_context=tls, timeout=left
            )
        return classes["plain"](budget, endpoint.host, endpoint.port, timeout=left)
    except imaplib.IMAP4.error as exc:  # abort is a subclass: EOF, or a greeting that is not IMAP
        if isinstance(exc.__context__, TimeoutError):
            raise Fault(F.TIMEOUT, ctx.timeout_detail()) from None
        text = clean_text(str(exc))
        if "unexpected response" in text:
            raise Fault(
                F.NOT_IMAP, f"not IMAP: the server greeted with {text.partition(': ')[2]}"
            ) from None
        raise Fault(F.CONNECTION_CLOSED, f"connection closed: {text}") from None
    except UnicodeDecodeError:
        raise _not_ascii(ctx) from None


def _not_ascii(ctx: ProbeContext) -> Fault:
    return Fault(
        F.REPLY_NOT_ASCII, f"server reply not ASCII: bytes outside ASCII during {ctx.step}"
    )


def _starttls(ctx: ProbeContext, conn: Any, tls: ssl.SSLContext) -> None:
    if "STARTTLS" not in conn.capabilities:
        raise Fault(F.STARTTLS_NOT_OFFERED, "STARTTLS not offered: the server has no TLS")
    ctx.enter("STARTTLS", conn.sock)
    try:
        conn.starttls(ssl_context=tls)
    except conn.abort:
        raise
    except conn.error as exc:
        raise Fault(F.STARTTLS_REFUSED, f"STARTTLS refused: {clean_text(str(exc))}") from None


def _login(ctx: ProbeContext, conn: Any, login: Credentials, caps: list[str]) -> None:
    ctx.enter("LOGIN", conn.sock)
    try:
        # LOGIN carries ASCII only in imaplib (RFC 9051 LOGIN strings are not UTF-8 without
        # UTF8=ACCEPT); AUTHENTICATE PLAIN carries UTF-8 (RFC 4616).
        if "LOGINDISABLED" in caps or not login.password.isascii():
            user, password = login.username, login.password
            conn.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
        else:
            conn.login(login.username, login.password)
    except conn.abort:
        raise
    except conn.error as exc:
        raise _auth_error(exc) from None
    ctx.evidence["login"] = login.username


def _list_inbox(ctx: ProbeContext, conn: Any) -> None:
    ctx.enter("LIST INBOX", conn.sock)
    try:
        typ, data = conn.list('""', "INBOX")
    except conn.abort:
        raise
    except conn.error as exc:
        raise Fault(F.NO_INBOX, f"no INBOX: LIST failed: {clean_text(str(exc))}") from None
    lines = [clean_text(d) for d in data if isinstance(d, bytes)]
    if typ != "OK" or not lines:
        raise Fault(F.NO_INBOX, "no INBOX: logged in, but LIST shows none")
    ctx.evidence["inbox"] = lines[0]


def _session(
    ctx: ProbeContext, conn: Any, endpoint: Endpoint, tls: ssl.SSLContext, login: Credentials | None
) -> Outcome:
    """Everything after the greeting; the caller logs out or shuts down."""
    ctx.evidence["greeting"] = clean_text(conn.welcome)
    if endpoint.security == "starttls":
        _starttls(ctx, conn, tls)
    summary = record_tls(ctx.evidence, conn.sock)
    caps = sorted(clean_text(str(c), 80) for c in conn.capabilities)
    ctx.evidence["capabilities"] = list(caps)
    if summary is None:  # security = none: nothing was encrypted
        not_tried = " (login not tried without TLS)" if login else ""
        return Outcome.of(F.TLS_OFF, f"TLS off: the provider file sets security = none{not_tried}")
    if not {"IMAP4REV1", "IMAP4REV2"} & set(caps):
        return Outcome.of(
            F.NO_IMAP4REV1, f"no IMAP4rev1: {summary}; the server claims neither rev1 nor rev2"
        )
    if login is None:
        return Outcome("pass", f"{summary}; {len(caps)} capabilities")
    _login(ctx, conn, login, caps)
    _list_inbox(ctx, conn)
    return Outcome("pass", f"{summary}; login ok, INBOX listed")


def probe_imap(
    ctx: ProbeContext,
    endpoint: Endpoint,
    tls: ssl.SSLContext,
    login: Credentials | None = None,
) -> Outcome:
    """Connect to ``endpoint`` as its ``security`` says; with ``login``, LOGIN, LIST, LOGOUT."""
    conn = _connect(ctx, endpoint, tls)
    done = False
    try:
        outcome = _session(ctx, conn, endpoint, tls, login)
        if login is not None and outcome.status == "pass":
            ctx.enter("LOGOUT", conn.sock)
            conn.logout()
            done = True
        return outcome
    except conn.abort as exc:
        raise closed_fault(exc, ctx) from None
    except UnicodeDecodeError:
        raise _not_ascii(ctx) from None
    finally:
        if not done:
            conn.shutdown()
