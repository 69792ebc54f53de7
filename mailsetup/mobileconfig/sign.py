"""Sign an Apple configuration profile: CMS SignedData (RFC 5652), DER, the plist attached.

macOS and iOS accept a profile wrapped in CMS SignedData and then show who signed it; without
a signature they show "Unverified"/"Not Signed" in red. What is written is what OpenSSL and
cryptography's PKCS#7 builder write (the tests compare the two structures field by field, and
``openssl cms -verify -inform DER`` returns the plist byte for byte):

- SHA-256; the signed attributes content type, signing time and message digest; the plist
  signed and carried as it is (binary, no MIME canonicalisation of line ends); DER.
- The signer certificate and every intermediate is included so the device can build the chain
  without fetching anything.

The DER is assembled here (:mod:`mailsetup.mobileconfig.der`, about forty lines) and only the
signature itself is cryptography's, because importing cryptography's ``x509`` and ``pkcs7``
modules costs ~35 ms, three times what the rest of signing costs, and ``profile --sign-*`` is
meant to cost little more than the unsigned command (docs/signing.md, "Speed").

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
import hashlib
import os
import re
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from mailsetup.errors import BadInput
from mailsetup.mobileconfig import der, is_profile_name
from mailsetup.mobileconfig.certs import (
    OID_EC,
    OID_RSA,
    SIGNATURE_ALGORITHM_OF,
    Cert,
    Unsupported,
    key_algorithm,
    public_key,
    verify,
)
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
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from mailsetup.mobileconfig.certs import PublicKey

    class _File(Protocol):
        """What an output file offers (``output.OutputFile``), read-only."""

        @property
        def name(self) -> str: ...
        @property
        def data(self) -> bytes: ...
        @property
        def secret(self) -> bool: ...

    F = TypeVar("F", bound=_File)

ENV_PASSPHRASE = "MAILSETUP_SIGN_PASSPHRASE"  # noqa: S105 (a variable's name, not a secret)
EXPIRY_WARNING_DAYS = 30
MAX_KEY_BYTES = 1024 * 1024


class SignRequest(NamedTuple):
    """The three ``profile`` options: the signer certificate (may hold the chain after it),
    its private key, and optionally more intermediates."""

    cert: Path
    key: Path
    chain: Path | None = None


class Signer:
    """Loaded, checked signing material and what a person should be told about it.

    A plain class rather than a dataclass: generating a dataclass's methods costs ~1 ms at
    import, on a path whose whole budget is ~25 ms. The key never shows in ``repr``."""

    __slots__ = ("cert", "intermediates", "key", "public", "trust", "warnings")

    def __init__(
        self,
        cert: Cert,
        key: RSAPrivateKey | EllipticCurvePrivateKey,
        public: PublicKey,
        intermediates: list[Cert],
        trust: TrustVerdict,
        warnings: list[str],
    ) -> None:
        self.cert = cert
        self.key = key
        self.public = public  # the certificate's key, built once: every signature is checked
        self.intermediates = intermediates
        self.trust = trust
        self.warnings = warnings

    def __repr__(self) -> str:
        return f"Signer({name_of(self.cert)!r}, {len(self.intermediates)} intermediates)"

    @property
    def device_shows(self) -> str:
        return "Verified" if self.trust.verified else "Unverified"

    def summary(self) -> str:
        """One line for stdout: who signs and what the device will say."""
        if self.trust.verified:
            what = f"devices will show it as Verified ({self.trust.detail})"
        elif self.trust.detail.startswith("not verified: "):  # a rule mailsetup does not apply
            what = (
                "mailsetup cannot tell whether devices will show it as Verified"
                f" ({self.trust.detail.removeprefix('not verified: ')}; checked against the"
                f" {self.trust.roots}; see docs/signing.md)"
            )
        else:
            what = (
                f"devices will install it but show it as Unverified ({self.trust.detail};"
                f" checked against the {self.trust.roots}; see docs/signing.md)"
            )
        return f"Signed by {name_of(self.cert)}; {what}."


def _passphrase(key_path: Path) -> bytes:
    """The key's passphrase: environment, then keyring, then a hidden prompt. Never argv."""
    value = os.environ.get(ENV_PASSPHRASE)
    if value:
        return value.encode("utf-8", "surrogateescape")
    from mailsetup.secret_store import from_keyring, prompt

    stored = from_keyring(keyring_user(key_path))
    if stored:
        return stored.encode("utf-8")
    fix = f"set {ENV_PASSPHRASE} or store it in the keyring as {keyring_user(key_path)!r}"
    typed = prompt(f"the encrypted key {str(key_path)!r}", fix, what="passphrase")
    return typed.encode("utf-8", "surrogateescape")


def keyring_user(key_path: Path) -> str:
    """Keyring entry (service ``mailsetup``) for a key's passphrase: ``sign:<absolute path>``."""
    return f"sign:{key_path.expanduser().resolve()}"


def _load_key(path: Path) -> RSAPrivateKey | EllipticCurvePrivateKey:
    from mailsetup.mobileconfig.keys import read_plain_key

    data = read_small_file(path, "--sign-key", MAX_KEY_BYTES)
    if b"-----BEGIN" not in data or b"PRIVATE KEY-----" not in data:
        raise BadInput(
            f"--sign-key {str(path)!r} holds no PEM private key",
            "give the key file (-----BEGIN PRIVATE KEY-----), not the certificate",
        )
    plain = read_plain_key(data)
    if plain is not None:
        return plain
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        try:
            key = _cryptography_load(data, None)
        except TypeError:  # encrypted: only now is a passphrase asked for
            key = _cryptography_load(data, _passphrase(path))
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


# Legacy PEM encryption (RFC 1421 headers, as OpenSSL writes them): the ciphers cryptography
# reads and the bytes of IV each needs. The pattern is compiled where it is used (only for a
# key cryptography loads): compiling it costs 1 ms, on every signature otherwise.
_DEK_INFO = rb"^DEK-Info:[ \t]*([A-Za-z0-9-]+)[ \t]*,[ \t]*([0-9A-Fa-f]*)"
_IV_BYTES = {b"AES-128-CBC": 16, b"AES-192-CBC": 16, b"AES-256-CBC": 16, b"DES-EDE3-CBC": 8}


def _cryptography_load(data: bytes, password: bytes | None) -> PrivateKeyTypes:
    """cryptography's PEM key loader, with what makes its Rust code panic turned into the
    ValueError any other malformed key gives. cryptography 50 panics (an exception outside
    ``Exception``: a traceback, after Rust's own message on stderr) on a legacy encrypted key
    whose DEK-Info IV is shorter than the cipher's block, so that header is checked first;
    any other panic is caught as a last resort.

    RSA key validation (primality tests on p and q) costs ~30 ms, more than the rest of the
    signing: it is skipped, and :func:`sign_bytes` instead verifies every signature with the
    certificate's public key before it is used (a key with broken CRT values fails there, so
    no faulty signature, which could leak the key, ever leaves).
    """
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    for cipher, iv in re.findall(_DEK_INFO, data, re.MULTILINE):
        if len(iv) // 2 < _IV_BYTES.get(cipher.upper(), 0):
            raise ValueError("the DEK-Info IV is shorter than the cipher's block")
    try:
        return load_pem_private_key(data, password=password, unsafe_skip_rsa_key_validation=True)
    except BaseException as exc:  # only pyo3's PanicException is caught
        if type(exc).__name__ != "PanicException":
            raise
        raise ValueError("malformed key") from None


def _public_half(key: RSAPrivateKey | EllipticCurvePrivateKey, cert: Cert) -> PublicKey | None:
    """The certificate's public key if ``key`` is its private half, else ``None``. A
    certificate key that cannot be used here is exit 2 with its own reason, not "does not
    belong"."""
    try:
        public = public_key(cert)
    except Unsupported as exc:
        raise BadInput(
            f"the certificate {name_of(cert)} uses {exc}, which mailsetup does not sign with",
            "use an RSA key or an EC key on P-256, P-384 or P-521, the ones devices check",
        ) from None
    except ValueError:  # a malformed key
        return None
    return public if public.public_numbers() == key.public_key().public_numbers() else None


def _order_chain(leaf: Cert, extra: list[Cert]) -> list[Cert]:
    """``extra`` in issuing order from ``leaf``, by name; a certificate that is not on the path
    is an error (a chain file for another certificate would make the device fail to build it).
    One given twice counts once: certbot's fullchain.pem and chain.pem together hold the
    intermediate twice. Two with the same name (a cross-signed CA, a re-issued one) are both
    kept: the device picks the one that verifies.

    Names, not signatures: checking the signatures here would load cryptography's EC backend
    for a chain with an EC CA (~5 ms, a fifth of what signing may add), and
    :func:`~mailsetup.mobileconfig.trust.check_chain` verifies every signature anyway when
    the chain can reach a trusted root. A certificate with the right name but another key
    then makes the verdict "not verified", which is what the device will show; with a private
    CA it shows Unverified either way."""
    remaining = list(dict.fromkeys(c for c in extra if c != leaf))
    ordered: list[Cert] = []
    wanted = {leaf.issuer}  # names of issuers on the path so far: alternatives may share one
    while remaining:
        issuer = next((c for c in remaining if c.subject in wanted), None)
        if issuer is None:
            stray = remaining[0]
            raise BadInput(
                f"the chain does not chain: {name_of(stray)} issued none of the certificates"
                f" before it (from {name_of(leaf)})",
                "give the intermediates of this certificate, e.g. Let's Encrypt's chain.pem",
            )
        ordered.append(issuer)
        remaining.remove(issuer)
        wanted.add(issuer.issuer)
    return ordered


def load_signer(req: SignRequest, *, now: dt.datetime | None = None) -> Signer:
    """Load and check the certificate, key and chain; every refusal is one line, exit 2."""
    when = now or dt.datetime.now(dt.UTC)
    certs = read_pem_certificates(req.cert, "--sign-cert")
    leaf, extra = certs[0], certs[1:]
    if req.chain is not None:
        extra += read_pem_certificates(req.chain, "--sign-chain")
    key = _load_key(req.key)
    public = _public_half(key, leaf)
    if public is None:
        raise BadInput(
            f"--sign-key {str(req.key)!r} does not belong to the certificate {name_of(leaf)}",
            "give the private key the certificate was issued for",
        )
    if leaf.not_after <= when:
        raise BadInput(
            f"the certificate {name_of(leaf)} expired on {leaf.not_after:%Y-%m-%d}",
            "renew it (certbot renew) and sign again",
        )
    if leaf.not_before > when:
        raise BadInput(
            f"the certificate {name_of(leaf)} is valid only from {leaf.not_before:%Y-%m-%d}",
            "check the computer's clock, or wait",
        )
    intermediates = _order_chain(leaf, extra)
    warnings: list[str] = []
    days = (leaf.not_after - when).days
    if days < EXPIRY_WARNING_DAYS:
        warnings.append(
            f"the signing certificate expires in {days} days ({leaf.not_after:%Y-%m-%d});"
            " after that devices show the profile as not verified: sign it again after renewal"
        )
    if leaf.key_usage is not None and "digital_signature" not in leaf.key_usage:
        warnings.append(
            "the signing certificate lacks the digitalSignature key usage; devices may"
            " refuse to treat the profile as verified"
        )
    roots, label = system_roots([leaf, *intermediates])
    trust = check_chain(leaf, intermediates, roots, label, when)
    return Signer(leaf, key, public, intermediates, trust, warnings)


_OID_DATA = "1.2.840.113549.1.7.1"
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"


def sign_bytes(data: bytes, signer: Signer, *, now: dt.datetime | None = None) -> bytes:
    """``data`` as CMS SignedData (RFC 5652 §5), DER, content attached: what a signed
    ``.mobileconfig`` is. Versions are 1 (issuer and serial number, plain data, RFC 5652
    §5.1, §5.3); algorithm identifiers are the ones OpenSSL writes."""
    from cryptography.hazmat.primitives import hashes

    sha256 = der.seq(der.oid_der(_OID_SHA256), der.null_der())
    attributes = der.set_of(
        der.seq(der.oid_der(_OID_CONTENT_TYPE), der.set_of(der.oid_der(_OID_DATA))),
        der.seq(
            der.oid_der(_OID_SIGNING_TIME), der.set_of(der.time_der(now or dt.datetime.now(dt.UTC)))
        ),
        der.seq(
            der.oid_der(_OID_MESSAGE_DIGEST),
            der.set_of(der.octets_der(hashlib.sha256(data).digest())),
        ),
    )
    # The signature covers the attributes encoded as a SET (RFC 5652 §5.4); the SignerInfo
    # carries the same bytes tagged [0] IMPLICIT. It is verified with the certificate's key
    # before it is used: what a device does, and the guard for the skipped key validation.
    # Only the key type's module loads (told by the certificate, whose key load_signer matched
    # with this one): the EC module and its OpenSSL backend cost ~5 ms an RSA key need not
    # spend, and the RSA modules ~0.5 ms an EC key need not.
    if key_algorithm(signer.cert) == OID_EC:
        from cryptography.hazmat.primitives.asymmetric import ec

        if not isinstance(signer.key, ec.EllipticCurvePrivateKey):
            raise BadInput(f"--sign-key is not the EC key of {name_of(signer.cert)}")
        signature = signer.key.sign(attributes, ec.ECDSA(hashes.SHA256()))
        check = SIGNATURE_ALGORITHM_OF["ec", "SHA256"]
        algorithm = der.seq(der.oid_der(check))
    else:
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        if not isinstance(signer.key, rsa.RSAPrivateKey):
            raise BadInput(f"--sign-key is not the RSA key of {name_of(signer.cert)}")
        signature = signer.key.sign(attributes, padding.PKCS1v15(), hashes.SHA256())
        algorithm = der.seq(der.oid_der(OID_RSA), der.null_der())
        check = SIGNATURE_ALGORITHM_OF["rsa", "SHA256"]
    if not verify(signer.public, check, None, signature, attributes):
        raise BadInput(
            f"the key for {name_of(signer.cert)} made a signature that does not verify",
            "the key file is damaged: export the key again from where it was made",
        )
    signer_info = der.seq(
        der.integer_der(1),
        der.seq(signer.cert.issuer, signer.cert.serial_der),
        sha256,
        b"\xa0" + attributes[1:],
        algorithm,
        der.octets_der(signature),
    )
    certificates = sorted(c.der for c in [signer.cert, *signer.intermediates])
    signed_data = der.seq(
        der.integer_der(1),
        der.set_of(sha256),
        der.seq(der.oid_der(_OID_DATA), der.context(0, der.octets_der(data))),
        der.context(0, b"".join(certificates)),
        der.set_of(signer_info),
    )
    return der.seq(der.oid_der(_OID_SIGNED_DATA), der.context(0, signed_data))


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
