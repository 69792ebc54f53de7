"""The signing key from its PEM file: common unencrypted forms read here, the rest by cryptography.

A signing key is an RSA or EC private key in one of three unencrypted PEM forms (PKCS#8
``PRIVATE KEY``, what certbot and most tools write; PKCS#1 ``RSA PRIVATE KEY``; SEC 1 ``EC
PRIVATE KEY``). For those, the numbers are read from the DER here and handed to cryptography,
which makes the key (``RSAPrivateNumbers``, ``derive_private_key``). Why not always
``serialization.load_pem_private_key``: its package imports SSH and cipher support (7 ms), a
quarter of what signing is allowed to add to ``profile``. Everything else (encrypted keys, other
algorithms, anything this reader does not follow) goes to cryptography's loader, so its errors
and its passphrase handling stay the only ones. A key read here is never trusted blindly: it
must match the certificate's public key, and every signature made with it is verified before
it is used (:mod:`mailsetup.mobileconfig.sign`).
"""

from __future__ import annotations

import binascii
import re
from typing import TYPE_CHECKING

from mailsetup.mobileconfig import der
from mailsetup.mobileconfig.certs import CURVES, OID_EC, OID_RSA

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    PrivateKey = RSAPrivateKey | EllipticCurvePrivateKey

_PEM = re.compile(
    rb"-----BEGIN (PRIVATE KEY|RSA PRIVATE KEY|EC PRIVATE KEY)-----\r?\n"
    rb"([A-Za-z0-9+/=\r\n]+)"
    rb"-----END \1-----"
)


def read_plain_key(data: bytes) -> PrivateKey | None:
    """The key in ``data`` if it is one unencrypted RSA or EC key in a form read here, else
    ``None`` (the caller then uses cryptography's loader, which also names what is wrong)."""
    found = _PEM.findall(data)
    if len(found) != 1:
        return None
    label, body = found[0]
    try:
        blob = binascii.a2b_base64(b"".join(body.split()), strict_mode=True)
        if label == b"PRIVATE KEY":
            return _pkcs8(blob)
        if label == b"RSA PRIVATE KEY":
            return _rsa(blob)
        return _ec(blob, None)
    except (ValueError, IndexError, TypeError, binascii.Error):
        return None


def _pkcs8(blob: bytes) -> PrivateKey | None:
    """PrivateKeyInfo / OneAsymmetricKey (RFC 5958 §2)."""
    fields = der.sequence(der.parse(blob))
    if der.integer(fields[0]) not in (0, 1):
        return None
    algorithm = der.sequence(fields[1])
    kind = der.oid(algorithm[0])
    inner = der.octets(fields[2])
    if kind == OID_RSA:
        return _rsa(inner)
    if kind == OID_EC and len(algorithm) == 2:
        return _ec(inner, der.oid(algorithm[1]))
    return None


def _rsa(blob: bytes) -> RSAPrivateKey | None:
    """RSAPrivateKey (RFC 8017 A.1.2), two primes only."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    fields = [der.integer(f) for f in der.sequence(der.parse(blob))]
    if len(fields) != 9 or fields[0] != 0:
        return None
    _, n, e, d, p, q, dp, dq, qi = fields
    if min(n, e, d, p, q, dp, dq, qi) <= 0:
        return None
    numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n))
    # Key validation (primality of p and q) costs ~30 ms; every signature is verified instead.
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def _ec(blob: bytes, curve_oid: str | None) -> EllipticCurvePrivateKey | None:
    """ECPrivateKey (RFC 5915 §3); the curve from PKCS#8's algorithm or the key's own [0]."""
    from cryptography.hazmat.primitives.asymmetric import ec

    fields = der.sequence(der.parse(blob))
    if der.integer(fields[0]) != 1:
        return None
    secret = int.from_bytes(der.octets(fields[1]), "big")
    for item in fields[2:]:
        if item.is_(der.CONTEXT, 0):
            named = der.oid(der.explicit(item, 0))
            if curve_oid is not None and named != curve_oid:
                return None
            curve_oid = named
    curve = CURVES.get(curve_oid or "")
    if curve is None or secret <= 0:
        return None
    return ec.derive_private_key(secret, getattr(ec, curve)())
