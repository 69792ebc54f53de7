"""SMTP submission probe: EHLO, STARTTLS (RFC 3207) or implicit TLS (RFC 8314 §3.3), AUTH.

The AUTH mechanisms are read from the EHLO *after* TLS, as a client must (RFC 3207 §4.2: the
client discards what it learnt before STARTTLS). With credentials it authenticates and quits:
no MAIL FROM, no message is ever sent.
"""

from __future__ import annotations

import ssl
from typing import Any

from mailsetup.check.probe import Credentials, Fault, Outcome, ProbeContext
from mailsetup.check.tls import certificate_evidence, expiry_warning, tls_summary
from mailsetup.provider import Endpoint
from mailsetup.untrusted import clean_text

# What we say in EHLO. A fixed name avoids socket.getfqdn(), a reverse lookup that can stall
# for seconds on machines with poor DNS; submission servers authenticate users, not EHLO names.
EHLO_NAME = "localhost"


def _disconnected(exc: Exception, ctx: ProbeContext) -> Fault:
    """smtplib reports a read timeout as a disconnection; tell the two apart again."""
    if isinstance(exc.__context__, TimeoutError):
        return Fault("timeout", ctx.timeout_detail())
    return Fault("connection closed", f"connection closed by the server during {ctx.step}")


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


def probe_smtp(
    ctx: ProbeContext,
    endpoint: Endpoint,
    tls: ssl.SSLContext,
    login: Credentials | None = None,
) -> Outcome:
    """EHLO, TLS as ``endpoint.security`` says, EHLO again, AUTH offered; with ``login``, AUTH."""
    import smtplib

    ctx.step = "connect and greeting"
    conn: Any
    try:
        if endpoint.security == "ssl":
            ctx.step = "connect, TLS handshake and greeting"
            conn = smtplib.SMTP_SSL(
                endpoint.host,
                endpoint.port,
                local_hostname=EHLO_NAME,
                timeout=ctx.remaining(),
                context=tls,
            )
        else:
            conn = smtplib.SMTP(
                endpoint.host, endpoint.port, local_hostname=EHLO_NAME, timeout=ctx.remaining()
            )
    except smtplib.SMTPConnectError as exc:
        greeting = clean_text(exc.smtp_error)
        if exc.smtp_code == -1:  # smtplib's code for a line that is not "NNN text"
            raise Fault("not SMTP", f"not SMTP: the server greeted with {greeting}") from None
        raise Fault("refused", f"refused: greeting {exc.smtp_code} {greeting}") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise _disconnected(exc, ctx) from None
    quit_sent = False
    try:
        ctx.step = "EHLO"
        ctx.arm(conn.sock)
        code, banner = conn.ehlo()
        if code != 250:
            raise Fault("EHLO refused", f"EHLO refused: {code} {clean_text(banner)}")
        if endpoint.security == "starttls":
            ctx.evidence["extensions_before_tls"] = sorted(conn.esmtp_features)
            if not conn.has_extn("starttls"):
                raise Fault(
                    "STARTTLS not offered",
                    "STARTTLS not offered: the server (or something in between) offers no TLS",
                )
            ctx.step = "STARTTLS"
            ctx.arm(conn.sock)
            try:
                conn.starttls(context=tls)
            except smtplib.SMTPResponseException as exc:
                raise Fault(
                    "STARTTLS refused",
                    f"STARTTLS refused: {exc.smtp_code} {clean_text(exc.smtp_error)}",
                ) from None
            ctx.step = "EHLO after STARTTLS"
            ctx.arm(conn.sock)
            conn.ehlo()
        if isinstance(conn.sock, ssl.SSLSocket):
            ctx.evidence["tls"] = certificate_evidence(conn.sock)
        ctx.evidence["extensions"] = sorted(conn.esmtp_features)
        mechanisms = conn.esmtp_features.get("auth", "").upper().split()
        ctx.evidence["auth_mechanisms"] = list(mechanisms)
        size = conn.esmtp_features.get("size", "")
        if size.isdigit():
            ctx.evidence["size_limit"] = int(size)
        if endpoint.security == "none":
            not_tried = " (AUTH not tried without TLS)" if login else ""
            return Outcome(
                "warn", f"no TLS: the provider file sets security = none{not_tried}", "no TLS"
            )
        tls_ev = ctx.evidence.get("tls")
        assert isinstance(tls_ev, dict)
        summary = tls_summary(tls_ev)
        if not mechanisms:
            raise Fault("AUTH not offered", f"AUTH not offered after TLS ({summary})")
        if login is not None:
            ctx.step = "AUTH"
            ctx.arm(conn.sock)
            try:
                if login.password.isascii():
                    conn.login(login.username, login.password)
                else:
                    _auth_plain_utf8(conn, login, mechanisms)
            except smtplib.SMTPAuthenticationError as exc:
                raise Fault(
                    "authentication failed",
                    f"authentication failed: {exc.smtp_code} {clean_text(exc.smtp_error)}",
                ) from None
            except smtplib.SMTPServerDisconnected:
                raise
            except smtplib.SMTPException as exc:  # e.g. only mechanisms smtplib cannot do
                raise Fault(
                    "no usable AUTH mechanism",
                    f"no usable AUTH mechanism among {' '.join(mechanisms)}: "
                    f"{clean_text(str(exc))}",
                ) from None
            ctx.evidence["login"] = login.username
        ctx.step = "QUIT"
        ctx.arm(conn.sock)
        conn.quit()
        quit_sent = True
        done = "; login ok" if login is not None else ""
        warning = expiry_warning(tls_ev)
        if warning:
            return Outcome("warn", f"{warning}; {summary}{done}", "certificate expires soon")
        return Outcome("pass", f"{summary}; AUTH {' '.join(mechanisms)}{done}")
    except smtplib.SMTPServerDisconnected as exc:
        raise _disconnected(exc, ctx) from None
    finally:
        if not quit_sent:
            conn.close()
