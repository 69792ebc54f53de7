"""Sign an Apple configuration profile: CMS SignedData (RFC 5652), DER, the plist attached.

macOS and iOS accept a profile wrapped in CMS SignedData and then show who signed it; without
a signature they show "Unverified"/"Not Signed" in red. The structure is made by cryptography's
PKCS#7/CMS builder (a maintained binding of the same code OpenSSL uses, so
``openssl cms -verify -inform DER`` reads it back), never by hand:

- SHA-256, the signed attributes OpenSSL writes, ``Binary`` so the plist bytes are signed and
  carried as they are (no MIME canonicalisation of line ends), DER output.
- The signer certificate and every intermediate is included so the device can build the chain
  without fetching anything.

Any certificate with an RSA or EC key works: the domain's TLS certificate (Let's Encrypt), an
S/MIME or a code-signing certificate. The checks that protect the user run before anything is
written: an expired (or not yet valid) certificate or a key that does not belong to it is
refused (exit 2); a certificate expiring within :data:`EXPIRY_WARNING_DAYS` days or without the
digitalSignature key usage gives a warning. Signing proves who made the file; it does not hide
anything in it (an embedded password stays readable).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, TypeVar

from mailsetup.errors import BadInput, SecretError
from mailsetup.mobileconfig import is_profile_name
from mailsetup.mobileconfig.trust import (
    TrustVerdict,
    check_chain,
    name_of,
    read_pem_certificates,
    read_small_file,
    system_roots,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.x509 import Certificate

ENV_PASSPHRASE = "MAILSETUP_SIGN_PASSPHRASE"  # noqa: S105 (a variable's name, not a secret)
EXPIRY_WARNING_DAYS = 30
MAX_KEY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SignRequest:
    """The three ``profile`` options: the signer certificate (may hold the chain after it),
    its private key, and optionally more intermediates."""

    cert: Path
    key: Path
    chain: Path | None = None


@dataclass
class Signer:
    """Loaded, checked signing material and what a person should be told about it."""

    cert: Certificate
    key: RSAPrivateKey | EllipticCurvePrivateKey = field(repr=False)
    intermediates: list[Certificate]
    trust: TrustVerdict
    warnings: list[str] = field(default_factory=list)

    @property
    def device_shows(self) -> str:
        return "Verified" if self.trust.verified else "Unverified"

    def summary(self) -> str:
        """One line for stdout: who signs and what the device will say."""
        if self.trust.verified:
            what = f"devices will show it as Verified ({self.trust.detail})"
        else:
            what = (
                "devices will install it but show it as Unverified: the certificate does not"
                f" chain to a public root (checked against the {self.trust.roots};"
                " see docs/signing.md)"
            )
        return f"Signed by {name_of(self.cert)}; {what}."


def _passphrase(key_path: Path) -> bytes:
    """The key's passphrase: environment, then keyring, then a hidden prompt. Never argv."""
    value = os.environ.get(ENV_PASSPHRASE)
    if value:
        return value.encode("utf-8", "surrogateescape")
    from mailsetup.secret_store import from_keyring

    stored = from_keyring(keyring_user(key_path))
    if stored:
        return stored.encode("utf-8")
    if not sys.stdin.isatty():
        raise SecretError(
            f"the key {str(key_path)!r} is encrypted and there is no terminal to ask for its"
            " passphrase",
            f"set {ENV_PASSPHRASE} or store it in the keyring as {keyring_user(key_path)!r}",
        )
    import getpass

    try:
        typed = getpass.getpass(f"Passphrase for {key_path.name}: ")
    except (EOFError, KeyboardInterrupt):
        raise SecretError("no passphrase entered") from None
    if not typed:
        raise SecretError("no passphrase entered")
    return typed.encode("utf-8", "surrogateescape")


def keyring_user(key_path: Path) -> str:
    """Keyring entry (service ``mailsetup``) for a key's passphrase: ``sign:<absolute path>``."""
    return f"sign:{key_path.expanduser().resolve()}"


def _load_key(path: Path) -> RSAPrivateKey | EllipticCurvePrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = read_small_file(path, "--sign-key", MAX_KEY_BYTES)
    if b"-----BEGIN" not in data or b"PRIVATE KEY-----" not in data:
        raise BadInput(
            f"--sign-key {str(path)!r} holds no PEM private key",
            "give the key file (-----BEGIN PRIVATE KEY-----), not the certificate",
        )
    # RSA key validation (primality tests on p and q) costs ~30 ms, more than the rest of the
    # signing: it is skipped, and :func:`_self_test` instead proves the key signs correctly for
    # the certificate's public key before anything is written (a key with broken CRT values
    # would fail there, so no faulty signature, which could leak the key, ever leaves).
    try:
        try:
            key = load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
        except TypeError:  # encrypted: only now is a passphrase asked for
            key = load_pem_private_key(
                data, password=_passphrase(path), unsafe_skip_rsa_key_validation=True
            )
    except TypeError:
        raise BadInput(f"--sign-key {str(path)!r} could not be decrypted") from None
    except ValueError as exc:
        wrong = "password" in str(exc).lower() or "decrypt" in str(exc).lower()
        if wrong:
            raise BadInput(
                f"wrong passphrase for --sign-key {str(path)!r}",
                f"check {ENV_PASSPHRASE}, the keyring entry or what you typed",
            ) from None
        raise BadInput(f"--sign-key {str(path)!r} is not a readable private key") from None
    except UnsupportedAlgorithm:
        raise BadInput(f"--sign-key {str(path)!r} uses an unsupported key algorithm") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise BadInput(
            f"--sign-key {str(path)!r} is a {type(key).__name__.removesuffix('PrivateKey')} key",
            "profiles are signed with an RSA or EC key",
        )
    return key


def _self_test(key: RSAPrivateKey | EllipticCurvePrivateKey, cert: Certificate) -> bool:
    """Sign a probe with ``key`` and verify it with the certificate's public key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    probe = b"mailsetup signing self-test"
    public = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPublicKey):
            sig = key.sign(probe, padding.PKCS1v15(), hashes.SHA256())
            public.verify(sig, probe, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(
            public, ec.EllipticCurvePublicKey
        ):
            sig = key.sign(probe, ec.ECDSA(hashes.SHA256()))
            public.verify(sig, probe, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _order_chain(leaf: Certificate, extra: list[Certificate]) -> list[Certificate]:
    """``extra`` in issuing order from ``leaf``; a certificate that is not on the path is an
    error (a chain file for another certificate would make the device fail to build it)."""
    remaining = [c for c in extra if c != leaf]
    ordered: list[Certificate] = []
    current = leaf
    while remaining:
        issuer = next((c for c in remaining if _issued_by(current, c)), None)
        if issuer is None:
            stray = remaining[0]
            raise BadInput(
                f"the chain does not chain: {name_of(stray)} did not issue {name_of(current)}",
                "give the intermediates of this certificate, e.g. Let's Encrypt's chain.pem",
            )
        ordered.append(issuer)
        remaining.remove(issuer)
        current = issuer
    return ordered


def _issued_by(cert: Certificate, issuer: Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError):
        return False
    except Exception:  # InvalidSignature
        return False
    return True


def load_signer(req: SignRequest, *, now: dt.datetime | None = None) -> Signer:
    """Load and check the certificate, key and chain; every refusal is one line, exit 2."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from cryptography.x509 import ExtensionNotFound, KeyUsage

    when = now or dt.datetime.now(dt.UTC)
    certs = read_pem_certificates(req.cert, "--sign-cert")
    leaf, extra = certs[0], certs[1:]
    if req.chain is not None:
        extra += read_pem_certificates(req.chain, "--sign-chain")
    key = _load_key(req.key)

    def spki(k: object) -> bytes:
        return k.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined, no-any-return]

    if spki(key.public_key()) != spki(leaf.public_key()) or not _self_test(key, leaf):
        raise BadInput(
            f"--sign-key {str(req.key)!r} does not belong to the certificate {name_of(leaf)}",
            "give the private key the certificate was issued for",
        )
    if leaf.not_valid_after_utc <= when:
        raise BadInput(
            f"the certificate {name_of(leaf)} expired on {leaf.not_valid_after_utc:%Y-%m-%d}",
            "renew it (certbot renew) and sign again",
        )
    if leaf.not_valid_before_utc > when:
        raise BadInput(
            f"the certificate {name_of(leaf)} is valid only from"
            f" {leaf.not_valid_before_utc:%Y-%m-%d}",
            "check the computer's clock, or wait",
        )
    intermediates = _order_chain(leaf, extra)
    warnings: list[str] = []
    days = (leaf.not_valid_after_utc - when).days
    if days < EXPIRY_WARNING_DAYS:
        warnings.append(
            f"the signing certificate expires in {days} days ({leaf.not_valid_after_utc:%Y-%m-%d});"
            " after that devices show the profile as not verified: sign it again after renewal"
        )
    try:
        usage = leaf.extensions.get_extension_for_class(KeyUsage).value
        if not usage.digital_signature:
            warnings.append(
                "the signing certificate lacks the digitalSignature key usage; devices may"
                " refuse to treat the profile as verified"
            )
    except ExtensionNotFound:
        pass
    roots, label = system_roots([leaf, *intermediates])
    trust = check_chain(leaf, intermediates, roots, label, when)
    return Signer(leaf, key, intermediates, trust, warnings)


def sign_bytes(data: bytes, signer: Signer) -> bytes:
    """``data`` as CMS SignedData, DER, content attached (what ``.mobileconfig`` carries)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(signer.cert, signer.key, hashes.SHA256())
    )
    for cert in signer.intermediates:
        builder = builder.add_certificate(cert)
    return builder.sign(Encoding.DER, [pkcs7.PKCS7Options.Binary])


def sign_request(
    cert: Path | None, key: Path | None, chain: Path | None, writes: str | None = None
) -> SignRequest | None:
    """The three options as one request; a partial set is a usage error (exit 2), and so is
    signing with a client whose single output (``writes``, its file name) is no Apple profile.
    Both are checked before any password or passphrase is asked for."""
    if cert is None and key is None and chain is None:
        return None
    if cert is None or key is None:
        raise BadInput(
            "signing needs both --sign-cert and --sign-key",
            "give the certificate and its private key (--sign-chain is optional)",
        )
    if writes is not None and not is_profile_name(writes):
        raise _nothing_to_sign()
    return SignRequest(cert, key, chain)


def _nothing_to_sign() -> BadInput:
    return BadInput(
        "--sign-cert signs Apple profiles (.mobileconfig) and this client writes none",
        "use --client apple, or --client dav --format mobileconfig",
    )


class _File(Protocol):
    """What an output file offers (``output.OutputFile``), read-only."""

    @property
    def name(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def secret(self) -> bool: ...


F = TypeVar("F", bound=_File)


def sign_outputs(files: list[F], req: SignRequest, info: IO[str]) -> list[F]:
    """Sign every Apple profile among ``files`` (by extension, whichever client made it).

    Refuses (exit 2) when there is nothing to sign, so ``--sign-cert`` is never silently
    ignored. Warnings go to stderr; the line saying what the device will show goes to ``info``
    (stdout, or stderr when stdout carries the file itself).
    """
    if not any(is_profile_name(f.name) for f in files):
        raise _nothing_to_sign()
    signer = load_signer(req)
    out: list[F] = []
    for f in files:
        if is_profile_name(f.name):
            f = dataclasses.replace(f, data=sign_bytes(f.data, signer))  # type: ignore[type-var]
            if f.secret:
                signer.warnings.append(
                    "the password is still readable inside the signed file: a signature proves"
                    " who made the file, it does not encrypt it"
                )
        out.append(f)
    for line in signer.warnings:
        print(f"mailsetup: warning: {line}", file=sys.stderr)
    print(signer.summary(), file=info)
    return out
