"""Would a device trust this signer? Chain building against a set of root certificates.

macOS and iOS show a signed profile as "Verified" only when the signer's chain reaches a root
in Apple's trust store; a self-signed or private-CA signature still installs but shows
"Unverified" (Apple Platform Deployment, "Sign configuration profiles"). Apple's store cannot
be read from here, so the estimate uses the closest public list at hand: the system's CA
bundle (``SSL_CERT_FILE``, else the first of :data:`BUNDLES` that exists; on Linux that is
Mozilla's root program, which covers the same public CAs as Apple's; on macOS the bundle the
system ships), else certifi's copy of Mozilla's list if it is installed, or the ``--ca-file``
the user gives.

The chain is checked the way RFC 5280's basic path validation does for any certificate, which
is what a profile signature gets (not a TLS server's rules): every certificate valid now, each
one's issuer named by it and verifying its signature (cryptography does the RSA and ECDSA
arithmetic), every issuer a CA (basic constraints) allowed to sign certificates (key usage)
within its path length, ending at one of the roots. Extended key usage is not applied: a TLS,
S/MIME or code-signing certificate may sign a profile, and so may a CA that restricts its
certificates to TLS (Let's Encrypt's). What this does not apply (name or policy constraints,
any other critical extension on a CA or on the signer, algorithms other than RSA and ECDSA)
gives "not verified" with the reason, never a guess. It is hand-written rather than
cryptography's ``x509.verification`` because that verifier only knows the TLS server and
client profiles (it requires the client-auth usage all the way up) and its import costs more
than the whole signature (docs/signing.md, "Speed").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import NamedTuple

from mailsetup.errors import BadInput
from mailsetup.mobileconfig.certs import (
    MAX_PEM_CERTS,
    Cert,
    Unsupported,
    bundle_blocks,
    name_text,
    parse_cert,
    pem_blocks,
    weakness,
)

MAX_PEM_BYTES = 4 * 1024 * 1024
# Roots in a --ca-file: a whole CA bundle is allowed (Mozilla's has about 150; the system
# bundles with distrusted and extra roots a few hundred).
MAX_BUNDLE_CERTS = 1000
MAX_PATH = 8  # CA certificates between a leaf and its root; public chains have one or two
MAX_TRIES = 100  # signatures checked while building one chain; a public one needs two or three
# Where operating systems keep the CA bundle (the list Go's crypto/x509 also searches), so that
# the ``ssl`` module, whose import costs more than the rest of the trust check, is not needed.
# ``SSL_CERT_FILE`` (OpenSSL's variable) comes first.
BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # RHEL 7+
    "/etc/ssl/cert.pem",  # macOS, Alpine, FreeBSD
)


class TrustVerdict(NamedTuple):
    """``verified``: the chain reaches one of the roots; ``detail``: why, in one line."""

    verified: bool
    detail: str
    roots: str  # where the roots came from, for the report


def read_pem_certificates(path: Path, option: str, limit: int = MAX_PEM_CERTS) -> list[Cert]:
    """Every certificate in a PEM file (at most ``limit``: a chain has a few, a CA bundle
    given as ``--ca-file`` :data:`MAX_BUNDLE_CERTS`); a missing, unreadable or empty file, or
    one with a block that is not a certificate, is exit 2."""
    data = read_small_file(path, option, MAX_PEM_BYTES)
    try:
        blocks = pem_blocks(data, limit)
    except ValueError as exc:
        raise BadInput(
            f"{option} {str(path)!r}: {exc}",
            "give the PEM file as your certificate authority issued it",
        ) from None
    try:
        certs = [parse_cert(block) for block in blocks]
    except ValueError:
        raise BadInput(
            f"{option} {str(path)!r} holds a certificate block that does not parse",
            "give the PEM file as your certificate authority issued it",
        ) from None
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


def system_roots(chain: list[Cert] | None = None) -> tuple[list[Cert], str]:
    """The system's CA bundle, else certifi's; empty with a label when neither exists.

    With ``chain``, only the roots that can have issued one of its certificates are parsed: a
    bundle holds ~150 roots and parsing them all costs more than the rest of ``inspect``. The
    PEM blocks are base64-decoded (cheap) and kept when the DER holds the issuer name of a chain
    certificate; the real check is the path building in :func:`check_chain`.
    """
    wanted = [cert.issuer for cert in chain or []]
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
        for blob in blobs:
            with contextlib.suppress(ValueError):  # one broken root does not hide the others
                certs.append(parse_cert(blob))
        return certs, f"system trust store, {path}"
    return [], "no system trust store found"


_BUNDLE_CACHE: dict[Path, list[bytes]] = {}


def _bundle_blobs(path: Path) -> list[bytes]:
    """The certificate blocks of the bundle at ``path`` (empty when it cannot be read), read
    once per process: ``inspect`` of many signed profiles checks each chain against it."""
    if path not in _BUNDLE_CACHE:
        try:
            data = path.read_bytes()
        except OSError:
            return []
        _BUNDLE_CACHE[path] = bundle_blocks(data)
    return _BUNDLE_CACHE[path]


class _NotChecked(Exception):
    """The chain needs something :func:`check_chain` does not apply; the message says what."""


def check_chain(
    leaf: Cert,
    intermediates: list[Cert],
    roots: list[Cert],
    roots_label: str,
    now: dt.datetime | None = None,
) -> TrustVerdict:
    """Whether ``leaf`` chains through ``intermediates`` to one of ``roots`` at ``now``."""
    if not roots:
        missing = roots_label.startswith("no ")
        detail = "no trusted roots to check against" if missing else "no chain to a trusted root"
        return TrustVerdict(False, detail, roots_label)
    when = now or dt.datetime.now(dt.UTC)
    if not _valid_at(leaf, when):
        return TrustVerdict(False, "the signing certificate is not valid now", roots_label)
    anchors = set(roots)
    if leaf in anchors:
        return TrustVerdict(True, "the certificate is itself a trusted root", roots_label)
    if leaf.not_applied:  # RFC 5280 §6.1.5 (f): on the signer as on every CA above it
        return TrustVerdict(
            False,
            "not verified: the signing certificate has an extension mailsetup does not apply"
            f" ({', '.join(leaf.not_applied)})",
            roots_label,
        )
    try:
        search = _Search([c for c in intermediates if c not in anchors], anchors, when)
        root = search.path(leaf, [])
    except _NotChecked as exc:
        return TrustVerdict(False, f"not verified: {exc}", roots_label)
    if root is None and search.reason is not None:
        return TrustVerdict(False, f"not verified: {search.reason}", roots_label)
    if root is None and search.weak is not None:
        return TrustVerdict(False, f"{search.weak}, which devices no longer trust", roots_label)
    if root is None:
        return TrustVerdict(False, "no chain to a trusted root", roots_label)
    return TrustVerdict(True, f"chain reaches {name_of(root)}", roots_label)


class _Search:
    """Depth-first path building over every candidate issuer, as cross-signed CAs can offer
    two, within :data:`MAX_TRIES` signature checks. The budget is what keeps a hostile profile
    from hanging ``inspect``: CA certificates that share one name and one key (anyone can make
    them) each issue all the others, and n of them offer n!/(n-8)! paths of up to eight."""

    def __init__(self, intermediates: list[Cert], anchors: set[Cert], when: dt.datetime) -> None:
        self.intermediates = intermediates
        self.anchors = anchors
        self.when = when
        self.tries = 0
        self.reason: str | None = None
        self.weak: str | None = None  # a signature devices refuse: Unverified, not "cannot tell"

    def note(self, reason: str) -> None:
        """Keep the first reason a path was dropped, for the verdict."""
        self.reason = self.reason or reason

    def path(self, cert: Cert, below: list[Cert]) -> Cert | None:
        """The root reached from ``cert`` (``below``: the CA certificates already on the
        path, nearest to the leaf first), or ``None``."""
        if len(below) >= MAX_PATH:
            return None
        candidates = [c for c in self.intermediates if c not in below] + list(self.anchors)
        for issuer in candidates:
            anchor = issuer in self.anchors
            if issuer.subject != cert.issuer or not _may_issue(
                issuer, len(below), self.when, anchor
            ):
                continue
            self.tries += 1
            if self.tries > MAX_TRIES:
                raise _NotChecked(
                    f"the certificates offer more than {MAX_TRIES} ways to build the chain"
                )
            # A path through an issuer that cannot count is dropped with its reason (the first
            # one is reported if no other path reaches a root): cross-signed CAs offer others.
            try:
                if not issued_by_checked(cert, issuer):
                    continue
            except Unsupported as exc:
                self.note(f"the chain uses {exc}, which mailsetup does not check")
                continue
            weak = weakness(cert, issuer)
            if weak is not None:
                self.weak = self.weak or f"{name_of(issuer)} made {weak}"
                continue
            if anchor:
                return issuer
            if issuer.not_applied:
                self.note(
                    f"{name_of(issuer)} has an extension mailsetup does not apply"
                    f" ({', '.join(issuer.not_applied)})"
                )
                continue
            found = self.path(issuer, [*below, issuer])
            if found is not None:
                return found
        return None


def _may_issue(issuer: Cert, cas_below: int, when: dt.datetime, anchor: bool) -> bool:
    """RFC 5280 §6.1.4: a CA (basic constraints), allowed to sign certificates (key usage,
    when present), within its path length (intermediate CAs below it), valid now. A root
    without basic constraints (an old version 1 root) is a CA by being in the store."""
    ca = issuer.is_ca is True or (anchor and issuer.is_ca is None)
    if not ca or not _valid_at(issuer, when):
        return False
    if issuer.key_usage is not None and "key_cert_sign" not in issuer.key_usage:
        return False
    return issuer.path_length is None or cas_below <= issuer.path_length


def _valid_at(cert: Cert, when: dt.datetime) -> bool:
    return cert.not_before <= when <= cert.not_after


def issued_by_checked(cert: Cert, issuer: Cert) -> bool:
    """:func:`mailsetup.mobileconfig.certs.issued_by`, with a malformed issuer key or
    signature counting as "not issued by" (it comes from outside)."""
    from mailsetup.mobileconfig.certs import issued_by

    try:
        return issued_by(cert, issuer)
    except Unsupported:
        raise
    except (ValueError, IndexError, TypeError, OverflowError):
        return False


def name_of(cert: Cert) -> str:
    """A certificate's subject as one cleaned line (RFC 4514), for people."""
    return _shown(cert.subject)


def issuer_of(cert: Cert) -> str:
    """A certificate's issuer, as :func:`name_of` shows a subject."""
    return _shown(cert.issuer)


def _shown(name: bytes) -> str:
    from mailsetup.untrusted import clean_text

    return clean_text(name_text(name), limit=160)
