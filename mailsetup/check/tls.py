"""TLS for every probe: one verifying context, certificate evidence, and TLS faults by name.

Verification is never optional (RFC 8314 §5 for mail, RFC 6125 §6 for name checks): the
context comes from :func:`ssl.create_default_context`, which checks the chain and the host
name; ``--ca-file`` replaces the system store with the given CA bundle (a private CA, or the
test CA), it does not relax anything. TLS 1.2 is the floor (RFC 8996 deprecates older ones).
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mailsetup.check.faults import FaultName
from mailsetup.check.report import Evidence, JSONValue
from mailsetup.errors import BadInput
from mailsetup.untrusted import clean_text

# Below this many days a still-valid certificate is reported as a warning: renewals normally
# happen 30 days ahead (ACME clients), so 14 days left means renewal is failing.
EXPIRY_WARN_DAYS = 14

# OpenSSL X509_V_ERR_* codes (include/openssl/x509_vfy.h) -> fault class.
_VERIFY_FAULTS = {
    10: FaultName.CERT_EXPIRED,  # X509_V_ERR_CERT_HAS_EXPIRED
    9: FaultName.CERT_NOT_YET_VALID,  # X509_V_ERR_CERT_NOT_YET_VALID
    18: FaultName.CERT_UNTRUSTED,  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: FaultName.CERT_UNTRUSTED,  # SELF_SIGNED_CERT_IN_CHAIN
    20: FaultName.CERT_UNTRUSTED,  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: FaultName.CERT_UNTRUSTED,  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    2: FaultName.CERT_UNTRUSTED,  # UNABLE_TO_GET_ISSUER_CERT
    62: FaultName.CERT_NAME_MISMATCH,  # HOSTNAME_MISMATCH
    64: FaultName.CERT_NAME_MISMATCH,  # IP_ADDRESS_MISMATCH
    23: FaultName.CERT_REVOKED,  # CERT_REVOKED
}


def make_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """A client context that verifies chain and host name, against ``ca_file`` if given."""
    if ca_file is not None and ca_file.exists() and not ca_file.is_file():
        # OpenSSL would block on a FIFO: refuse anything but a regular file up front.
        raise BadInput(f"--ca-file {str(ca_file)!r}: not a regular file")
    try:
        ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except FileNotFoundError:
        raise BadInput(f"--ca-file {str(ca_file)!r}: no such file") from None
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise BadInput(
            f"--ca-file {str(ca_file)!r} holds no usable CA certificate: {exc}",
            "give a PEM file with one or more CA certificates",
        ) from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def classify_tls_error(exc: ssl.SSLError) -> tuple[FaultName, str]:
    """``(fault, detail)`` for a failed handshake."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        message = exc.verify_message or exc.reason or "verification failed"
        fault = _VERIFY_FAULTS.get(code, FaultName.CERT_REJECTED)
        return fault, f"{fault}: {message}"
    reason = exc.reason or exc.__class__.__name__
    if "WRONG_VERSION_NUMBER" in str(reason) or "record layer failure" in str(exc):
        return FaultName.NO_TLS, f"no TLS: the server did not answer with TLS ({reason})"
    if "UNSUPPORTED_PROTOCOL" in str(reason) or "PROTOCOL_VERSION" in str(reason):
        return FaultName.OLD_TLS, f"old TLS: the server offers no TLS 1.2 or newer ({reason})"
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return (
            FaultName.TLS_HANDSHAKE_FAILED,
            "TLS handshake failed: the server closed the connection",
        )
    return FaultName.TLS_HANDSHAKE_FAILED, f"TLS handshake failed: {reason}"


MAX_NAMES = 50  # subjectAltName entries kept as evidence


def _name_parts(rdns: Any) -> dict[str, str]:
    """``getpeercert()``'s nested tuples -> ``{"commonName": ..., "organizationName": ...}``.

    Names are server data: a trusted CA may still have signed control characters (terminal
    escapes) or kilobytes of text, so each value is cleaned and bounded before it is shown.
    """
    out: dict[str, str] = {}
    for rdn in rdns or ():
        for key, value in rdn:
            out[str(key)] = clean_text(str(value))
    return out


def certificate_evidence(sock: ssl.SSLSocket, now: datetime | None = None) -> Evidence:
    """TLS version, cipher, subject, issuer, names and days to expiry of a verified peer."""
    cert: dict[str, Any] = dict(sock.getpeercert() or {})
    subject = _name_parts(cert.get("subject"))
    issuer = _name_parts(cert.get("issuer"))
    dns_names = [pair[1] for pair in cert.get("subjectAltName", ()) if pair[0] == "DNS"]
    names: list[JSONValue] = [clean_text(str(n)) for n in dns_names[:MAX_NAMES]]
    not_after = cert.get("notAfter")
    days_left: int | None = None
    expires: str | None = None
    if isinstance(not_after, str):
        ts = ssl.cert_time_to_seconds(not_after)
        expiry = datetime.fromtimestamp(ts, UTC)
        expires = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
        days_left = (expiry - (now or datetime.now(UTC))).days
    cipher = sock.cipher()
    return {
        "version": sock.version(),
        "cipher": cipher[0] if cipher else None,
        # Modern certificates may carry their names only in subjectAltName (RFC 6125 §6.4.4).
        "subject": subject.get("commonName") or (str(names[0]) if names else ""),
        "issuer": issuer.get("organizationName") or issuer.get("commonName", ""),
        "names": names,
        "expires": expires,
        "days_left": days_left,
        "name_match": True,  # the handshake checked it (check_hostname); a mismatch never gets here
    }


def expiry_warning(tls: Evidence) -> str | None:
    """A warning text when the certificate expires soon, else ``None`` (the runner asks)."""
    days = tls.get("days_left")
    if isinstance(days, int) and days < EXPIRY_WARN_DAYS:
        return f"certificate expires soon: in {days} days"
    return None


def tls_summary(tls: Evidence) -> str:
    """``TLSv1.3, cert mail.example.ch by Let's Encrypt, 60 days left`` for the detail column."""
    return (
        f"{tls.get('version')}, cert {tls.get('subject') or '?'} by {tls.get('issuer') or '?'}, "
        f"{tls.get('days_left')} days left"
    )


def record_tls(evidence: Evidence, sock: object) -> str | None:
    """Keep a TLS peer's certificate as ``evidence["tls"]``; its one-line summary.

    ``None`` means the connection is clear text, which after a successful connect or STARTTLS
    only happens when the provider file sets ``security = none``. IMAP and SMTP share this so
    the evidence and the summary line are made one way.
    """
    if not isinstance(sock, ssl.SSLSocket):
        return None
    tls = certificate_evidence(sock)
    evidence["tls"] = tls
    return tls_summary(tls)
