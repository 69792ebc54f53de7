"""CMS SignedData (RFC 5652) as a signed ``.mobileconfig`` carries it: the profile and its signer.

The content is read *without* requiring the signature to verify first, so a profile signed by an
unknown CA can still be inspected. The DER/BER is walked with :mod:`mailsetup.mobileconfig.der`
(asn1crypto's TLV parser: long-form tags and lengths, BER indefinite lengths with a depth limit,
truncation reported); only the few fields needed are followed, and the certificates are read
by :mod:`mailsetup.mobileconfig.certs`, which keeps ``inspect`` of a signed profile cheaper than
making one (asn1crypto's full CMS classes or cryptography's ``x509`` cost 25 to 55 ms to
import). The signature is then checked with cryptography: the digest of the content against the
signed ``messageDigest`` attribute, and the signature over the signed attributes with the signer
certificate's key (RSA PKCS#1 v1.5 or PSS, ECDSA).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NamedTuple

from mailsetup.mobileconfig import der
from mailsetup.mobileconfig.certs import (
    HASHES,
    OID_EC,
    OID_RSA,
    SIGNATURE_ALGORITHM_OF,
    Cert,
    Unsupported,
    parse_cert,
)
from mailsetup.mobileconfig.findings import Unreadable

if TYPE_CHECKING:
    from mailsetup.mobileconfig.trust import TrustVerdict

_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_DATA = "1.2.840.113549.1.7.1"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
MAX_CERTIFICATES = 20


class Signature(NamedTuple):
    """What the CMS wrapper says about who signed, and whether it holds up."""

    signer: Cert | None
    certificates: list[Cert]
    valid: bool | None  # None: could not be checked (algorithm, no signer certificate)
    detail: str
    trust: TrustVerdict | None = None

    def as_dict(self) -> dict[str, Any]:
        from mailsetup.mobileconfig.trust import issuer_of, name_of

        cert = self.signer
        return {
            "subject": name_of(cert) if cert else None,
            "issuer": issuer_of(cert) if cert else None,
            "not_before": cert.not_before.isoformat() if cert else None,
            "not_after": cert.not_after.isoformat() if cert else None,
            "certificates": [name_of(c) for c in self.certificates],
            "signature_valid": self.valid,
            "signature_detail": self.detail,
            "chain_verified": self.trust.verified if self.trust else None,
            "chain_detail": self.trust.detail if self.trust else None,
            "trust_roots": self.trust.roots if self.trust else None,
        }


def read_cms(data: bytes, roots: tuple[list[Cert], str] | None) -> tuple[bytes, Signature]:
    try:
        info = der.sequence(der.parse(data))
        if der.oid(info[0]) != _OID_SIGNED_DATA:
            raise Unreadable("not-a-profile", "a CMS file, but not SignedData")
        signed = der.sequence(der.explicit(info[1], 0))
        encap = der.sequence(signed[2])
        if len(encap) < 2:
            raise Unreadable("detached-signature", "the signature carries no profile (detached)")
        if der.oid(encap[0]) != _OID_DATA:
            raise Unreadable("not-a-profile", "the signed content is not plain data")
        content = der.octets(der.explicit(encap[1], 0))
        rest = signed[3:]
        cert_ders = []
        if rest and rest[0].is_(der.CONTEXT, 0):
            cert_ders = [
                c.encoded for c in der.children(rest[0]) if c.is_(der.UNIVERSAL, der.SEQUENCE)
            ]
            rest = rest[1:]
        if rest and rest[0].is_(der.CONTEXT, 1):  # CRLs: not used here
            rest = rest[1:]
        signer_infos = der.children(rest[0]) if rest else []
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
    signer_infos: list[der.Tlv],
    roots: tuple[list[Cert], str] | None,
) -> Signature:
    certs = []
    for blob in cert_ders[:MAX_CERTIFICATES]:
        try:
            certs.append(parse_cert(blob))
        except ValueError:  # one unreadable certificate does not hide the signer
            continue
    if not signer_infos:
        return Signature(None, certs, False, "no signer in the signature")
    try:
        signer, valid, detail = _check_signer(content, certs, signer_infos[0])
    except Unsupported as exc:
        return Signature(None, certs, None, f"{exc}: signature not checked")
    except (ValueError, TypeError, IndexError, OverflowError, RecursionError):
        return Signature(None, certs, False, "the signer information is broken")
    if signer is None:
        return Signature(signer, certs, valid, detail)
    from mailsetup.mobileconfig.trust import check_chain, system_roots

    others = [c for c in certs if c != signer]
    anchors, label = roots if roots is not None else system_roots([signer, *others])
    trust = check_chain(signer, others, anchors, label, dt.datetime.now(dt.UTC))
    return Signature(signer, certs, valid, detail, trust)


def _check_signer(
    content: bytes, certs: list[Cert], info: der.Tlv
) -> tuple[Cert | None, bool | None, str]:
    """Find the signer certificate and check the signature (RFC 5652 §5.4, §5.6)."""
    from mailsetup.mobileconfig.certs import public_key, verify

    fields = der.sequence(info)
    sid = fields[1]
    signer = None
    if sid.is_(der.UNIVERSAL, der.SEQUENCE):  # IssuerAndSerialNumber
        issuer, serial = der.sequence(sid)
        number = der.integer(serial)
        signer = next((c for c in certs if c.serial == number and c.issuer == issuer.encoded), None)
    elif sid.is_(der.CONTEXT, 0):  # SubjectKeyIdentifier
        signer = next((c for c in certs if c.key_identifier == sid.body), None)
    if signer is None:
        return None, None, "the signer's certificate is not in the file"
    digest_name = HASHES.get(der.oid(der.sequence(fields[2])[0]))
    if digest_name is None:
        return signer, None, "unknown digest algorithm: signature not checked"
    pos = 3
    signed_attrs = None
    if fields[pos].is_(der.CONTEXT, 0):
        signed_attrs = fields[pos]
        pos += 1
    algorithm = der.sequence(fields[pos])
    sig_alg = der.oid(algorithm[0])
    parameters = algorithm[1].encoded if len(algorithm) > 1 else None
    signature = der.octets(fields[pos + 1])
    if signed_attrs is not None:
        wanted = None
        for attr in der.children(signed_attrs):
            kind, values = der.sequence(attr)
            if der.oid(kind) == _OID_MESSAGE_DIGEST:
                wanted = der.octets(der.children(values)[0])
        if wanted != _digest(digest_name, content):
            return signer, False, "the profile was changed after it was signed"
        # The signature covers the attributes re-encoded as a SET (tag 0x31), RFC 5652 §5.4.
        to_verify = b"\x31" + signed_attrs.header[1:] + signed_attrs.body + signed_attrs.trailer
    else:
        to_verify = content
    # A CMS signature algorithm may name only the key type (rsaEncryption, what OpenSSL
    # writes; ecPublicKey, as some tools do), the hash then being the SignerInfo's digest.
    if sig_alg == OID_RSA:
        sig_alg = SIGNATURE_ALGORITHM_OF["rsa", digest_name]
    elif sig_alg == OID_EC:
        sig_alg = SIGNATURE_ALGORITHM_OF["ec", digest_name]
    try:
        matches = verify(public_key(signer), sig_alg, parameters, signature, to_verify)
    except Unsupported as exc:  # the signer is known: shown, with what was not checked
        return signer, None, f"{exc}: signature not checked"
    if not matches:
        return signer, False, "the signature does not match the profile"
    return signer, True, f"signature valid ({digest_name})"


def _digest(name: str, data: bytes) -> bytes:
    """``data`` hashed with cryptography (already loaded for the signature), not hashlib, whose
    first import loads the system's OpenSSL library: 2 ms that ``inspect`` need not spend."""
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(getattr(hashes, name)())
    h.update(data)
    return h.finalize()
