"""Would a device trust this signer? Chain building against a set of root certificates.

macOS and iOS show a signed profile as "Verified" only when the signer's chain reaches a root
in Apple's trust store; a self-signed or private-CA signature still installs but shows
"Unverified" (Apple Platform Deployment, "Sign configuration profiles"). Apple's store cannot
be read from here, so the estimate uses the closest public list at hand: the system's CA
bundle (``SSL_CERT_FILE``, else the first of :data:`BUNDLES` that exists; on Linux that is
Mozilla's root program, which covers the same public CAs as Apple's; on macOS the bundle the
system ships), else certifi's copy of Mozilla's list if it is installed, or the ``--ca-file``
the user gives. The chain is built with cryptography's
X.509 verification API (RFC 5280 path building, Web PKI rules for the CA certificates). The
end-entity certificate is checked only for validity and chaining, not for TLS-specific
extensions: a TLS, S/MIME or code-signing certificate may sign a profile.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailsetup.errors import BadInput

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

MAX_PEM_BYTES = 4 * 1024 * 1024
# Where operating systems keep the CA bundle (the list Go's crypto/x509 also searches), so that
# the ``ssl`` module, whose import costs more than the rest of the trust check, is not needed.
# ``SSL_CERT_FILE`` (OpenSSL's variable) comes first.
BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL 7+
    "/etc/ssl/cert.pem",  # macOS, Alpine, FreeBSD
)  # a CA bundle is ~200 KB; refuse anything absurd


@dataclass(frozen=True)
class TrustVerdict:
    """``verified``: the chain reaches one of the roots; ``detail``: why, in one line."""

    verified: bool
    detail: str
    roots: str  # where the roots came from, for the report


def read_pem_certificates(path: Path, option: str) -> list[Certificate]:
    """Every certificate in a PEM file; a missing, unreadable or empty file is exit 2."""
    from cryptography import x509

    data = read_small_file(path, option, MAX_PEM_BYTES)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise BadInput(
            f"{option} {str(path)!r} holds no PEM certificate",
            "give a file with -----BEGIN CERTIFICATE----- blocks",
        )
    return certs


def read_small_file(path: Path, option: str, limit: int) -> bytes:
    """Read a user-named input file of at most ``limit`` bytes; any failure is exit 2."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise BadInput(f"{option} {str(path)!r}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{option} {str(path)!r} is a folder", "give a PEM file") from None
    except OSError as exc:
        raise BadInput(f"{option} {str(path)!r}: cannot read: {exc.strerror}") from None
    if len(data) > limit:
        raise BadInput(f"{option} {str(path)!r} is larger than {limit} bytes")
    return data


def system_roots(chain: list[Certificate] | None = None) -> tuple[list[Certificate], str]:
    """The system's CA bundle, else certifi's; empty with a label when neither exists.

    With ``chain``, only the roots that can have issued one of its certificates are parsed: a
    bundle holds ~150 roots and parsing them all costs more than the rest of ``inspect``. The
    PEM blocks are base64-decoded (cheap) and kept when the DER holds the issuer name of a chain
    certificate; the real check is the path building in :func:`check_chain`.
    """
    from cryptography import x509

    wanted = []
    for cert in chain or []:
        with contextlib.suppress(ValueError):
            wanted.append(cert.issuer.public_bytes())
    for name in (os.environ.get("SSL_CERT_FILE"), *BUNDLES, "certifi"):
        if not name:
            continue
        if name == "certifi":  # optional, not a dependency: used when another package brought it
            try:
                import certifi
            except ImportError:
                continue
            name = certifi.where()
        path = Path(name)
        blobs = _bundle_blobs(path)
        if not blobs:
            continue
        if chain is not None:
            blobs = [b for b in blobs if any(w in b for w in wanted)]
        certs = []
        for der in blobs:
            with warnings.catch_warnings():  # old roots with odd serials are still roots
                warnings.simplefilter("ignore")
                with contextlib.suppress(ValueError):
                    certs.append(x509.load_der_x509_certificate(der))
        return certs, f"system trust store, {path}"
    return [], "no system trust store found"


_PEM_CERT = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s+([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----"
)


_BUNDLE_CACHE: dict[Path, list[bytes]] = {}


def _bundle_blobs(path: Path) -> list[bytes]:
    """The certificate blocks of the bundle at ``path`` (empty when it cannot be read), read
    once per process: ``inspect`` of many signed profiles checks each chain against it."""
    if path not in _BUNDLE_CACHE:
        try:
            data = path.read_bytes()
        except OSError:
            return []
        _BUNDLE_CACHE[path] = _pem_blobs(data)
    return _BUNDLE_CACHE[path]


def _pem_blobs(data: bytes) -> list[bytes]:
    """The DER of every certificate block in a PEM bundle (blocks that do not decode are
    skipped, as OpenSSL skips them)."""
    out = []
    for match in _PEM_CERT.finditer(data):
        with contextlib.suppress(binascii.Error, ValueError):
            out.append(base64.b64decode(b"".join(match.group(1).split()), validate=True))
    return out


def check_chain(
    leaf: Certificate,
    intermediates: list[Certificate],
    roots: list[Certificate],
    roots_label: str,
    now: dt.datetime | None = None,
) -> TrustVerdict:
    """Whether ``leaf`` chains through ``intermediates`` to one of ``roots`` at ``now``."""
    from cryptography.x509 import verification as v

    if not roots:
        missing = roots_label.startswith("no ")
        detail = "no trusted roots to check against" if missing else "no chain to a trusted root"
        return TrustVerdict(False, detail, roots_label)
    when = now or dt.datetime.now(dt.UTC)
    try:
        verifier = (
            v.PolicyBuilder()
            .store(v.Store(roots))
            .time(when)
            .extension_policies(
                ca_policy=v.ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=v.ExtensionPolicy.permit_all(),
            )
            .build_client_verifier()
        )
        verified = verifier.verify(leaf, intermediates)
    except (v.VerificationError, ValueError):  # ValueError: malformed extensions from outside
        return TrustVerdict(False, "no chain to a trusted root", roots_label)
    root = verified.chain[-1]
    return TrustVerdict(True, f"chain reaches {name_of(root)}", roots_label)


def name_of(cert: Certificate) -> str:
    """A certificate's subject as one cleaned line (RFC 4514), for people."""
    from mailsetup.untrusted import clean_text

    try:
        text = cert.subject.rfc4514_string()
    except ValueError:
        text = "(unreadable subject)"
    return clean_text(text, limit=160)


def issuer_of(cert: Certificate) -> str:
    from mailsetup.untrusted import clean_text

    try:
        text = cert.issuer.rfc4514_string()
    except ValueError:
        text = "(unreadable issuer)"
    return clean_text(text, limit=160)


def validity(cert: Certificate) -> tuple[dt.datetime, dt.datetime] | None:
    """(not before, not after), or ``None`` when a certificate from outside has dates that do
    not parse (cryptography reads them lazily and raises then)."""
    try:
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    except ValueError:
        return None
