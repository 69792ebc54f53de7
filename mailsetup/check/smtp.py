"""SMTP submission probe: EHLO, STARTTLS (RFC 3207) or implicit TLS (RFC 8314 §3.3), AUTH.

The AUTH mechanisms are read from the EHLO *after* TLS, as a client must (RFC 3207 §4.2: the
client discards what it learnt before STARTTLS). With credentials it authenticates and quits:
no MAIL FROM, no message is ever sent.

smtplib keeps every line of a multi-line reply; here it reads through
:mod:`mailsetup.check.bounded`, so an endless ``220-`` greeting ends as ``server reply too long``.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

from mailsetup.check.bounded import BoundedReader, ReadBudget, with_budget
from mailsetup.check.faults import FaultName as F
from mailsetup.check.probe import Credentials, Fault, Outcome, ProbeContext, closed_fault
from mailsetup.check.report import JSONValue
from mailsetup.check.tls import record_tls
from mailsetup.provider import Endpoint
from mailsetup.untrusted import clean_text

# What we say in EHLO. A fixed name avoids socket.getfqdn(), a reverse lookup that can stall
# for seconds on machines with poor DNS; submission servers authenticate users, not EHLO names.
EHLO_NAME = "localhost"


class _BoundedReplies:
    """smtplib's reply reading, through the connection's :class:`ReadBudget`."""

    budget: ReadBudget
    file: Any
    sock: Any

    def getreply(self) -> tuple[int, bytes]:
        # smtplib makes self.file lazily (again after STARTTLS): make it a bounded one.
        if self.file is None and self.sock is not None:
            self.file = BoundedReader(self.sock.makefile("rb"), self.budget, self.sock)
        reply: tuple[int, bytes] = super().getreply()  # type: ignore[misc]
        return reply


@cache
def _client_classes() -> dict[str, type[Any]]:
    """smtplib's clients whose replies are read through a budget (smtplib loads lazily)."""
    import smtplib

    return {
        "ssl": with_budget(smtplib.SMTP_SSL, _BoundedReplies),
        "plain": with_budget(smtplib.SMTP, _BoundedReplies),
    }


def _auth_plain_utf8(conn: Any, login: Credentials, mechanisms: list[str]) -> None:
    """AUTH PLAIN with a UTF-8 password (RFC 4616), which smtplib encodes as ASCII only."""
    import base64
    import smtplib

    if "PLAIN" not in mechanisms:
        raise smtplib.SMTPException("only PLAIN can carry a password that is not ASCII")
    token = base64.b64encode(f"\0{login.username}\0{login.password}".encode()).decode()
    code, resp = conn.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def _connect(ctx: ProbeContext, endpoint: Endpoint, tls: ssl.SSLContext) -> Any:
    import smtplib

    classes = _client_classes()
    budget = ReadBudget(ctx)
    try:
        if endpoint.security == "ssl":
            left = ctx.enter("connect, TLS handshake and greeting")
            return classes["ssl"](
                budget,
                endpoint.host,
                endpoint.port,
                local_hostname=EHLO_NAME,
                timeout=left,
                context=tls,
            )
        left = ctx.enter("connect and greeting")
        return classes["plain"](
            budget, endpoint.host, endpoint.port, local_hostname=EHLO_NAME, timeout=left
        )
    except smtplib.SMTPConnectError as exc:
        greeting = clean_text(exc.smtp_error)
        if exc.smtp_code == -1:  # smtplib's code for a line that is not "NNN text"
            raise Fault(F.NOT_SMTP, f"not SMTP: the server greeted with {greeting}") from None
        raise Fault(F.GREETING_REFUSED, f"greeting refused: {exc.smtp_code} {greeting}") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise closed_fault(exc, ctx) from None


def _starttls(ctx: ProbeContext, conn: Any, tls: ssl.SSLContext) -> None:
    import smtplib

    before: list[JSONValue] = [*sorted(clean_text(e, 80) for e in conn.esmtp_features)]
    ctx.evidence["extensions_before_tls"] = before
    if not conn.has_extn("starttls"):
        raise Fault(
            F.STARTTLS_NOT_OFFERED,
            "STARTTLS not offered: the server (or something in between) offers no TLS",
        )
    ctx.enter("STARTTLS", conn.sock)
    try:
        conn.starttls(context=tls)
    except smtplib.SMTPResponseException as exc:
        raise Fault(
            F.STARTTLS_REFUSED,
            f"STARTTLS refused: {exc.smtp_code} {clean_text(exc.smtp_error)}",
        ) from None
    ctx.enter("EHLO after STARTTLS", conn.sock)
    conn.ehlo()


def _authenticate(ctx: ProbeContext, conn: Any, login: Credentials, mechanisms: list[str]) -> None:
    import smtplib

    ctx.enter("AUTH", conn.sock)
    try:
        if login.password.isascii():
            conn.login(login.username, login.password)
        else:
            _auth_plain_utf8(conn, login, mechanisms)
    except smtplib.SMTPAuthenticationError as exc:
        raise Fault(
            F.AUTH_FAILED,
            f"authentication failed: {exc.smtp_code} {clean_text(exc.smtp_error)}",
        ) from None
    except smtplib.SMTPServerDisconnected:
        raise
    except smtplib.SMTPException as exc:  # e.g. only mechanisms smtplib cannot do
        raise Fault(
            F.NO_USABLE_AUTH,
            f"no usable AUTH mechanism among {' '.join(mechanisms)}: {clean_text(str(exc))}",
        ) from None
    ctx.evidence["login"] = login.username


def _session(
    ctx: ProbeContext, conn: Any, endpoint: Endpoint, tls: ssl.SSLContext, login: Credentials | None
) -> Outcome:
    """EHLO, TLS, the AUTH offer and the login; the caller sends QUIT or closes."""
    ctx.enter("EHLO", conn.sock)
    code, banner = conn.ehlo()
    if code != 250:
        raise Fault(F.EHLO_REFUSED, f"EHLO refused: {code} {clean_text(banner)}")
    if endpoint.security == "starttls":
        _starttls(ctx, conn, tls)
    summary = record_tls(ctx.evidence, conn.sock)
    extensions: list[JSONValue] = [*sorted(clean_text(e, 80) for e in conn.esmtp_features)]
    ctx.evidence["extensions"] = extensions
    mechanisms = clean_text(conn.esmtp_features.get("auth", ""), 400).upper().split()
    ctx.evidence["auth_mechanisms"] = list(mechanisms)
    size = conn.esmtp_features.get("size", "")
    if size.isdigit() and len(size) < 19:
        ctx.evidence["size_limit"] = int(size)
    if summary is None:  # security = none: nothing was encrypted
        not_tried = " (AUTH not tried without TLS)" if login else ""
        return Outcome.of(F.TLS_OFF, f"TLS off: the provider file sets security = none{not_tried}")
    if not mechanisms:
        raise Fault(F.AUTH_NOT_OFFERED, f"AUTH not offered after TLS ({summary})")
    if login is None:
        return Outcome("pass", f"{summary}; AUTH {' '.join(mechanisms)}")
    _authenticate(ctx, conn, login, mechanisms)
    return Outcome("pass", f"{summary}; AUTH {' '.join(mechanisms)}; login ok")


def probe_smtp(
    ctx: ProbeContext,
    endpoint: Endpoint,
    tls: ssl.SSLContext,
    login: Credentials | None = None,
) -> Outcome:
    """EHLO, TLS as ``endpoint.security`` says, EHLO again, AUTH offered; with ``login``, AUTH."""
    import smtplib

    conn = _connect(ctx, endpoint, tls)
    quit_sent = False
    try:
        outcome = _session(ctx, conn, endpoint, tls, login)
        ctx.enter("QUIT", conn.sock)
        conn.quit()
        quit_sent = True
        return outcome
    except smtplib.SMTPServerDisconnected as exc:
        raise closed_fault(exc, ctx) from None
    finally:
        if not quit_sent:
            conn.close()
