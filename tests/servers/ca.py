"""Test certificate authorities (trustme) and the server certificates they issue.

``test_ca`` is the CA the clients under test are told to trust (``--ca-file test_ca.pem_path``);
``untrusted_ca`` is a second, unrelated CA whose certificates must be rejected. Expired
certificates are ordinary trustme leaves with ``not_after`` in the past.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.servers.runtime import remove_dir, scratch_dir

DEFAULT_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class CertPair:
    """PEM files of a server certificate (leaf first, then chain) and its private key."""

    cert_path: Path
    key_path: Path


class CertAuthority:
    """One trustme CA written to ``directory``; leaves are cached by (names, expired)."""

    def __init__(self, directory: Path, label: str) -> None:
        self.directory = directory
        self.label = label
        self.ca = trustme.CA(organization_name=f"mailsetup {label} CA")
        self.pem_path = directory / f"{label}-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.pem_path))
        self._issued: dict[tuple[tuple[str, ...], bool], CertPair] = {}

    def issue(self, names: Sequence[str] = DEFAULT_NAMES, *, expired: bool = False) -> CertPair:
        """A certificate for ``names`` (DNS names or IP addresses).

        ``expired``: valid from 30 days ago until yesterday, so a verifying client refuses it
        with "certificate has expired" while the name still matches.
        """
        key = (tuple(names), expired)
        if key in self._issued:
            return self._issued[key]
        not_before = not_after = None
        if expired:
            now = dt.datetime.now(dt.UTC)
            not_before, not_after = now - dt.timedelta(days=30), now - dt.timedelta(days=1)
        leaf = self.ca.issue_cert(*names, not_before=not_before, not_after=not_after)
        suffix = "-expired" if expired else ""
        stem = f"{self.label}-{len(self._issued)}-{'-'.join(names)[:40]}{suffix}"
        stem = "".join(c if c.isalnum() or c in "-." else "_" for c in stem)
        pair = CertPair(self.directory / f"{stem}.crt", self.directory / f"{stem}.key")
        pair.cert_path.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(pair.key_path))
        pair.key_path.chmod(0o644)  # servers may read it after dropping privileges
        self._issued[key] = pair
        return pair

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this CA (for the test clients)."""
        return ssl.create_default_context(cafile=str(self.pem_path))

    def server_context(self, cert: CertPair | None = None) -> ssl.SSLContext:
        """A server context with ``cert`` (default: a valid localhost certificate)."""
        cert = cert or self.issue()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert.cert_path), str(cert.key_path))
        return context


@pytest.fixture(scope="session")
def ca_dir() -> Iterator[Path]:
    """Folder holding the CA and leaf PEM files of the session."""
    path = scratch_dir("ca")
    yield path
    remove_dir(path)


@pytest.fixture(scope="session", name="test_ca")
def _test_ca(ca_dir: Path) -> CertAuthority:
    """The CA that tests pass to clients as trusted (``--ca-file test_ca.pem_path``)."""
    return CertAuthority(ca_dir, "test")


@pytest.fixture(scope="session")
def untrusted_ca(ca_dir: Path) -> CertAuthority:
    """A second CA that no client is told to trust: its certificates must fail verification."""
    return CertAuthority(ca_dir, "untrusted")
