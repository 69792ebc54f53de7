"""CMS SignedData (RFC 5652) as a signed ``.mobileconfig`` carries it: the profile and its signer.

The content is read *without* requiring the signature to verify first, so a profile signed by an
unknown CA can still be inspected. The DER/BER is walked with asn1crypto's TLV parser (it handles
long-form tags and lengths, BER indefinite lengths with a depth limit, and reports truncation);
only the few fields needed are followed here, which keeps ``inspect`` fast (asn1crypto's full CMS
classes cost ~60 ms to import, its parser under 10 ms). The signature is then checked with
cryptography: the digest of the content against the signed ``messageDigest`` attribute, and the
signature over the signed attributes with the signer certificate's key (RSA PKCS#1 v1.5 or ECDSA,
what Apple's tools and mailsetup write).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mailsetup.mobileconfig.findings import Unreadable

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from mailsetup.mobileconfig.trust import TrustVerdict

_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_DATA = "1.2.840.113549.1.7.1"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_RSA_PSS = "1.2.840.113549.1.1.10"
_DIGESTS = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}


@dataclass
class Signature:
    """What the CMS wrapper says about who signed, and whether it holds up."""

    signer: Certificate | None
    certificates: list[Certificate]
    valid: bool | None  # None: could not be checked (algorithm, no signer certificate)
    detail: str
    trust: TrustVerdict | None = None

    def as_dict(self) -> dict[str, Any]:
        from mailsetup.mobileconfig.trust import issuer_of, name_of, validity

        cert = self.signer
        dates = validity(cert) if cert else None
        return {
            "subject": name_of(cert) if cert else None,
            "issuer": issuer_of(cert) if cert else None,
            "not_before": dates[0].isoformat() if dates else None,
            "not_after": dates[1].isoformat() if dates else None,
            "certificates": [name_of(c) for c in self.certificates],
            "signature_valid": self.valid,
            "signature_detail": self.detail,
            "chain_verified": self.trust.verified if self.trust else None,
            "chain_detail": self.trust.detail if self.trust else None,
            "trust_roots": self.trust.roots if self.trust else None,
        }


@dataclass(frozen=True)
class _TLV:
    cls: int
    constructed: bool
    tag: int
    header: bytes
    body: bytes
    trailer: bytes

    @property
    def encoded(self) -> bytes:
        return self.header + self.body + self.trailer


def _tlv(data: bytes) -> _TLV:
    from asn1crypto import parser

    cls, constructed, tag, header, body, trailer = parser.parse(data)
    return _TLV(cls, bool(constructed), tag, header, body, trailer)


def _children(item: _TLV) -> list[_TLV]:
    from asn1crypto import parser

    if not item.constructed:
        raise ValueError("expected a constructed value")
    out = []
    rest = item.body
    while rest:
        n = parser.peek(rest)
        out.append(_tlv(rest[:n]))
        rest = rest[n:]
        if len(out) > 10_000:
            raise ValueError("too many elements")
    return out


def _oid(item: _TLV) -> str:
    if item.cls != 0 or item.tag != 6 or not item.body:
        raise ValueError("expected an OBJECT IDENTIFIER")
    parts: list[int] = []
    value = 0
    for byte in item.body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in [first, parts[0] - 40 * first, *parts[1:]])


def _octets(item: _TLV, depth: int = 0) -> bytes:
    """An OCTET STRING's bytes; BER may split it into constructed chunks."""
    if item.cls != 0 or item.tag != 4:
        raise ValueError("expected an OCTET STRING")
    if not item.constructed:
        return item.body
    if depth > 8:
        raise ValueError("OCTET STRING chunks nested too deeply")
    return b"".join(_octets(c, depth + 1) for c in _children(item))


def _explicit(item: _TLV, tag: int) -> _TLV:
    if item.cls != 2 or item.tag != tag:
        raise ValueError(f"expected [{tag}]")
    (inner,) = _children(item)
    return inner


def read_cms(data: bytes, roots: tuple[list[Certificate], str] | None) -> tuple[bytes, Signature]:
    try:
        info = _children(_tlv(data))
        if _oid(info[0]) != _OID_SIGNED_DATA:
            raise Unreadable("not-a-profile", "a CMS file, but not SignedData")
        signed = _children(_explicit(info[1], 0))
        encap = _children(signed[2])
        if len(encap) < 2:
            raise Unreadable("detached-signature", "the signature carries no profile (detached)")
        if _oid(encap[0]) != _OID_DATA:
            raise Unreadable("not-a-profile", "the signed content is not plain data")
        content = _octets(_explicit(encap[1], 0))
        rest = signed[3:]
        cert_ders = []
        if rest and rest[0].cls == 2 and rest[0].tag == 0:
            cert_ders = [c.encoded for c in _children(rest[0]) if c.cls == 0 and c.tag == 16]
            rest = rest[1:]
        if rest and rest[0].cls == 2 and rest[0].tag == 1:  # CRLs: not used here
            rest = rest[1:]
        signer_infos = _children(rest[0]) if rest else []
    except Unreadable:
        raise
    except (ValueError, TypeError, IndexError, OverflowError, RecursionError):
        raise Unreadable(
            "corrupt-signature", "starts like a signed profile but the CMS structure is broken"
        ) from None
    return content, _signature(content, cert_ders, signer_infos, roots)


def _signature(
    content: bytes,
    cert_ders: list[bytes],
    signer_infos: list[_TLV],
    roots: tuple[list[Certificate], str] | None,
) -> Signature:

    from cryptography import x509

    certs = []
    for der in cert_ders[:20]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                certs.append(x509.load_der_x509_certificate(der))
        except (ValueError, x509.InvalidVersion):
            continue
    if not signer_infos:
        return Signature(None, certs, False, "no signer in the signature")
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signer, valid, detail = _check_signer(content, certs, signer_infos[0])
    except (ValueError, TypeError, IndexError, OverflowError, UnsupportedAlgorithm):
        return Signature(None, certs, False, "the signer information is broken")
    sig = Signature(signer, certs, valid, detail)
    if signer is not None:
        from mailsetup.mobileconfig.trust import check_chain, system_roots

        others = [c for c in certs if c is not signer]
        anchors, label = roots if roots is not None else system_roots([signer, *others])
        sig.trust = check_chain(signer, others, anchors, label, dt.datetime.now(dt.UTC))
    return sig


def _check_signer(
    content: bytes, certs: list[Certificate], info: _TLV
) -> tuple[Certificate | None, bool | None, str]:
    """Find the signer certificate and check the signature (RFC 5652 §5.4, §5.6)."""
    import hashlib

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    fields = _children(info)
    sid = fields[1]
    signer = None
    if sid.cls == 0 and sid.tag == 16:  # IssuerAndSerialNumber
        issuer, serial = _children(sid)
        number = int.from_bytes(serial.body, "big", signed=True)
        for cert in certs:
            if cert.serial_number == number and cert.issuer.public_bytes() == issuer.encoded:
                signer = cert
    elif sid.cls == 2 and sid.tag == 0:  # SubjectKeyIdentifier
        for cert in certs:
            if _ski(cert) == sid.body:
                signer = cert
    if signer is None:
        return None, None, "the signer's certificate is not in the file"
    digest_name = _DIGESTS.get(_oid(_children(fields[2])[0]))
    if digest_name is None:
        return signer, None, "unknown digest algorithm: signature not checked"
    pos = 3
    signed_attrs = None
    if fields[pos].cls == 2 and fields[pos].tag == 0:
        signed_attrs = fields[pos]
        pos += 1
    sig_alg = _oid(_children(fields[pos])[0])
    signature = _octets(fields[pos + 1])
    if signed_attrs is not None:
        wanted = None
        for attr in _children(signed_attrs):
            kind, values = _children(attr)
            if _oid(kind) == _OID_MESSAGE_DIGEST:
                wanted = _octets(_children(values)[0])
        if wanted != hashlib.new(digest_name, content).digest():
            return signer, False, "the profile was changed after it was signed"
        # The signature covers the attributes re-encoded as a SET (tag 0x31), RFC 5652 §5.4.
        to_verify = b"\x31" + signed_attrs.header[1:] + signed_attrs.body + signed_attrs.trailer
    else:
        to_verify = content
    algorithm = getattr(hashes, digest_name.upper())()
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if sig_alg == _OID_RSA_PSS:
                return signer, None, "RSA-PSS signature: not checked"
            key.verify(signature, to_verify, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, to_verify, ec.ECDSA(algorithm))
        else:
            return signer, None, "unsupported key type: signature not checked"
    except InvalidSignature:
        return signer, False, "the signature does not match the profile"
    return signer, True, f"signature valid ({digest_name.upper()})"


def _ski(cert: Certificate) -> bytes | None:
    from cryptography.x509 import SubjectKeyIdentifier

    try:
        return cert.extensions.get_extension_for_class(SubjectKeyIdentifier).value.digest
    except Exception:  # absent or malformed extension: not this certificate
        return None
