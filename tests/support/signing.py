"""Signing material for tests: a trustme root, an intermediate, and leaves made to order.

Leaves are built with cryptography's certificate builder so a test can ask for exactly the
defect it checks (expired, expiring, no digitalSignature usage, EC key, encrypted key file).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mailsetup.mobileconfig.certs import Cert
from tests.conftest import require_binary


@dataclass(frozen=True)
class Leaf:
    cert: Path  # the leaf alone
    key: Path
    chain: Path  # the intermediate
    fullchain: Path  # leaf then intermediate, as Let's Encrypt's fullchain.pem
    root: Path


class SigningCA:
    """A root (trustme) with one intermediate, writing PEM files into ``folder``."""

    def __init__(self, folder: Path, *, ca_key_type: str = "ec") -> None:
        self.folder = folder
        kind = trustme.KeyType.RSA if ca_key_type == "rsa" else trustme.KeyType.ECDSA
        self.root = trustme.CA(organization_name="mailsetup signing test root", key_type=kind)
        self.intermediate = self.root.create_child_ca(key_type=kind)
        self.root_path = folder / "root.pem"
        self.root.cert_pem.write_to_path(str(self.root_path))
        self._n = 0

    def leaf(
        self,
        *,
        key_type: str = "rsa",
        days_left: float = 80,
        digital_signature: bool = True,
        passphrase: bytes | None = None,
        eku: str = "server",
    ) -> Leaf:
        self._n += 1
        stem = self.folder / f"leaf{self._n}"
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
        if key_type == "rsa":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        issuer_cert = x509.load_pem_x509_certificate(self.intermediate.cert_pem.bytes())
        issuer_key = serialization.load_pem_private_key(
            self.intermediate.private_key_pem.bytes(), password=None
        )
        now = dt.datetime.now(dt.UTC)
        usages = {
            "server": ExtendedKeyUsageOID.SERVER_AUTH,
            "email": ExtendedKeyUsageOID.EMAIL_PROTECTION,
        }
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"mail{self._n}.example.ch")])
            )
            .issuer_name(issuer_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=10))
            .not_valid_after(now + dt.timedelta(days=days_left))
            .add_extension(
                x509.SubjectAlternativeName([x509.DNSName(f"mail{self._n}.example.ch")]),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=digital_signature,
                    content_commitment=False,
                    key_encipherment=not digital_signature,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usages[eku]]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )
        cert = builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        leaf_pem = cert.public_bytes(serialization.Encoding.PEM)
        inter_pem = self.intermediate.cert_pem.bytes()
        paths = Leaf(
            cert=stem.with_suffix(".crt"),
            key=stem.with_suffix(".key"),
            chain=stem.with_name(stem.name + "-chain.pem"),
            fullchain=stem.with_name(stem.name + "-fullchain.pem"),
            root=self.root_path,
        )
        paths.cert.write_bytes(leaf_pem)
        paths.key.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
        )
        paths.chain.write_bytes(inter_pem)
        paths.fullchain.write_bytes(leaf_pem + inter_pem)
        return paths


def load_root(leaf: Leaf) -> tuple[list[Cert], str]:
    """The test root as trust anchors, in the shape ``read_profile(roots=...)`` takes."""
    from mailsetup.mobileconfig.certs import parse_cert, pem_blocks

    return [parse_cert(b) for b in pem_blocks(leaf.root.read_bytes())], "test root"


def openssl_verify(signed: Path, root: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``openssl cms -verify`` of a signed profile against ``root``; the content goes to ``out``.

    OpenSSL is the consumer the signing tests answer to (macOS's ``security cms`` follows the
    same CMS rules)."""
    openssl = require_binary("openssl")
    return subprocess.run(
        [
            openssl,
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            str(signed),
            "-CAfile",
            str(root),
            "-purpose",
            "any",
            "-out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
