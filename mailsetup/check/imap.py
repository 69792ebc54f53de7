"""IMAP probe: TLS (implicit, RFC 8314 §3.3, or STARTTLS, RFC 9051 §6.2.1), capabilities, login.

With credentials it does what a mail client does first: LOGIN (or AUTHENTICATE PLAIN when the
server sets LOGINDISABLED, RFC 9051 §6.2.3), ``LIST "" INBOX`` to prove the mailbox is there,
then LOGOUT. Nothing is read, written or selected.
"""

from __future__ import annotations

import ssl
from typing import Any

from mailsetup.check.probe import Credentials, Fault, Outcome, ProbeContext
from mailsetup.check.tls import certificate_evidence, expiry_warning, tls_summary
from mailsetup.provider import Endpoint
from mailsetup.untrusted import clean_text


def _auth_error(exc: Exception) -> Fault:
    """A refused LOGIN; ``[UNAVAILABLE]`` (RFC 5530 §3) is the server's fault, not the user's."""
    raw = exc.args[0] if exc.args else ""  # imaplib passes the server's bytes
    text = clean_text(raw if isinstance(raw, bytes | str) else str(raw))
    if "[UNAVAILABLE]" in text.upper():
        return Fault("server unavailable", f"server unavailable: {text}")
    return Fault("authentication failed", f"authentication failed: {text}")


def probe_imap(
    ctx: ProbeContext,
    endpoint: Endpoint,
    tls: ssl.SSLContext,
    login: Credentials | None = None,
) -> Outcome:
    """Connect to ``endpoint`` as its ``security`` says; with ``login``, LOGIN, LIST, LOGOUT."""
    import imaplib

    ctx.step = "connect, TLS handshake and greeting"
    conn: Any
    try:
        if endpoint.security == "ssl":
            conn = imaplib.IMAP4_SSL(
                endpoint.host, endpoint.port, ssl_context=tls, timeout=ctx.remaining()
            )
        else:
            conn = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=ctx.remaining())
    except imaplib.IMAP4.error as exc:  # abort is a subclass: EOF, or a greeting that is not IMAP
        if isinstance(exc.__context__, TimeoutError):
            raise Fault("timeout", ctx.timeout_detail()) from None
        text = clean_text(str(exc))
        if "unexpected response" in text:
            raise Fault(
                "not IMAP", f"not IMAP: the server greeted with {text.partition(': ')[2]}"
            ) from None
        raise Fault("connection closed", f"connection closed: {text}") from None
    logged_out = False
    try:
        ctx.evidence["greeting"] = clean_text(conn.welcome)
        if endpoint.security == "starttls":
            if "STARTTLS" not in conn.capabilities:
                raise Fault("STARTTLS not offered", "STARTTLS not offered: the server has no TLS")
            ctx.step = "STARTTLS"
            ctx.arm(conn.sock)
            try:
                conn.starttls(ssl_context=tls)
            except conn.abort:
                raise
            except conn.error as exc:
                raise Fault(
                    "STARTTLS refused", f"STARTTLS refused: {clean_text(str(exc))}"
                ) from None
        if isinstance(conn.sock, ssl.SSLSocket):
            ctx.evidence["tls"] = certificate_evidence(conn.sock)
        caps = sorted(str(c) for c in conn.capabilities)
        ctx.evidence["capabilities"] = list(caps)
        if endpoint.security == "none":
            not_tried = " (login not tried without TLS)" if login else ""
            return Outcome(
                "warn", f"no TLS: the provider file sets security = none{not_tried}", "no TLS"
            )
        tls_ev = ctx.evidence.get("tls")
        assert isinstance(tls_ev, dict)
        summary = tls_summary(tls_ev)
        if not {"IMAP4REV1", "IMAP4REV2"} & set(caps):
            return Outcome("warn", f"{summary}; server claims neither IMAP4rev1 nor IMAP4rev2")
        if login is None:
            warning = expiry_warning(tls_ev)
            if warning:
                return Outcome("warn", f"{warning}; {summary}", "certificate expires soon")
            return Outcome("pass", f"{summary}; {len(caps)} capabilities")
        ctx.step = "LOGIN"
        ctx.arm(conn.sock)
        try:
            # LOGIN carries ASCII only in imaplib (RFC 9051 LOGIN strings are not UTF-8
            # without UTF8=ACCEPT); AUTHENTICATE PLAIN carries UTF-8 (RFC 4616).
            if "LOGINDISABLED" in caps or not login.password.isascii():
                user, password = login.username, login.password
                conn.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
            else:
                conn.login(login.username, login.password)
        except conn.error as exc:
            raise _auth_error(exc) from None
        ctx.evidence["login"] = login.username
        ctx.step = "LIST INBOX"
        ctx.arm(conn.sock)
        try:
            typ, data = conn.list('""', "INBOX")
        except conn.abort:
            raise
        except conn.error as exc:
            raise Fault("no INBOX", f"no INBOX: LIST failed: {clean_text(str(exc))}") from None
        lines = [clean_text(d) for d in data if isinstance(d, bytes)]
        if typ != "OK" or not lines:
            raise Fault("no INBOX", "no INBOX: logged in, but LIST shows none")
        ctx.evidence["inbox"] = lines[0]
        ctx.step = "LOGOUT"
        ctx.arm(conn.sock)
        conn.logout()
        logged_out = True
        warning = expiry_warning(tls_ev)
        if warning:
            return Outcome("warn", f"{warning}; login ok, INBOX listed", "certificate expires soon")
        return Outcome("pass", f"{summary}; login ok, INBOX listed")
    except conn.abort as exc:
        if isinstance(exc.__context__, TimeoutError):
            raise Fault("timeout", ctx.timeout_detail()) from None
        raise Fault(
            "connection closed", f"connection closed by the server during {ctx.step}"
        ) from None
    finally:
        if not logged_out:
            conn.shutdown()
