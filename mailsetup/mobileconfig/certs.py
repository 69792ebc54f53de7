"""X.509 certificates (RFC 5280), read for what signing and inspecting a profile need.

A :class:`Cert` keeps the certificate's DER and the fields used here: the signed part and its
signature (to check who issued it), issuer and subject names as encoded (path building and
CMS's IssuerAndSerialNumber compare them byte for byte, as OpenSSL does), validity, the public
key, and the extensions that decide trust (basic constraints, key usage, subject key
identifier). Why not ``cryptography.x509``: its import alone (~25 ms) costs more than the whole
signature (docs/signing.md, "Speed"); the keys and signatures themselves are still
cryptography's (:func:`public_key`, :func:`issued_by`).

Certificates come from files a person names and from profiles made by anyone, so every
malformed field raises :class:`ValueError` and names print through
:func:`mailsetup.untrusted.clean_text`.
"""

from __future__ import annotations

import binascii
import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from mailsetup.mobileconfig import der

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    PublicKey = RSAPublicKey | EllipticCurvePublicKey

OID_RSA = "1.2.840.113549.1.1.1"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_EC = "1.2.840.10045.2.1"
OID_MGF1 = "1.2.840.113549.1.1.8"
_EXT_BASIC_CONSTRAINTS = "2.5.29.19"
_EXT_KEY_USAGE = "2.5.29.15"
_EXT_SKI = "2.5.29.14"
# Extensions whose meaning for a chain is fully applied by :mod:`trust`, or that do not restrict
# it. A critical extension outside this set is recorded in :attr:`Cert.not_applied`, and
# :mod:`trust` then says "not verified" with its name rather than guess.
UNDERSTOOD_EXTENSIONS = frozenset(
    {
        _EXT_BASIC_CONSTRAINTS,
        _EXT_KEY_USAGE,
        _EXT_SKI,
        "2.5.29.35",  # authority key identifier
        "2.5.29.37",  # extended key usage (not applied to profile signers)
        "2.5.29.17",  # subject alternative name
        "2.5.29.32",  # certificate policies
        "2.5.29.31",  # CRL distribution points
        "1.3.6.1.5.5.7.1.1",  # authority information access
    }
)
# Constraints on the certificates below a CA, which :mod:`trust` does not apply: recorded
# whether critical or not. RFC 5280 asks for them to be critical, but CAs may mark name
# constraints non-critical so that old software accepts the certificate, and OpenSSL,
# cryptography and Apple apply them all the same.
CONSTRAINTS = {
    "2.5.29.30": "name constraints",
    "2.5.29.36": "policy constraints",
    "2.5.29.54": "inhibit anyPolicy",
}
CURVES = {
    "1.2.840.10045.3.1.7": "SECP256R1",
    "1.3.132.0.34": "SECP384R1",
    "1.3.132.0.35": "SECP521R1",
}
# Signature algorithms: OID -> (key type, hash). RFC 4055, RFC 5758.
SIGNATURE_ALGORITHMS = {
    "1.2.840.113549.1.1.5": ("rsa", "SHA1"),
    "1.2.840.113549.1.1.14": ("rsa", "SHA224"),
    "1.2.840.113549.1.1.11": ("rsa", "SHA256"),
    "1.2.840.113549.1.1.12": ("rsa", "SHA384"),
    "1.2.840.113549.1.1.13": ("rsa", "SHA512"),
    "1.2.840.10045.4.1": ("ec", "SHA1"),
    "1.2.840.10045.4.3.1": ("ec", "SHA224"),
    "1.2.840.10045.4.3.2": ("ec", "SHA256"),
    "1.2.840.10045.4.3.3": ("ec", "SHA384"),
    "1.2.840.10045.4.3.4": ("ec", "SHA512"),
}
# The other way: (key type, hash) -> OID, for the signatures made and the CMS algorithm
# identifiers that name only the key type.
SIGNATURE_ALGORITHM_OF = {pair: oid for oid, pair in SIGNATURE_ALGORITHMS.items()}
HASHES = {
    "1.3.14.3.2.26": "SHA1",
    "2.16.840.1.101.3.4.2.4": "SHA224",
    "2.16.840.1.101.3.4.2.1": "SHA256",
    "2.16.840.1.101.3.4.2.2": "SHA384",
    "2.16.840.1.101.3.4.2.3": "SHA512",
}
# RFC 4514 §3: the attribute types printed by short name; the rest print as dotted OIDs.
_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
# Directory string types (X.520) and how their bytes decode.
_STRING_CODECS = {
    12: "utf-8",  # UTF8String
    19: "ascii",  # PrintableString
    22: "ascii",  # IA5String
    26: "ascii",  # VisibleString
    18: "ascii",  # NumericString
    20: "latin-1",  # TeletexString, as OpenSSL reads it
    30: "utf-16-be",  # BMPString
    28: "utf-32-be",  # UniversalString
}
MAX_PEM_CERTS = 64  # in a certificate or chain file
# Attributes in a subject or issuer name (real ones have under 15). Each name is turned into
# text once to check it and again for each line that shows it: four certificates with names of
# 9,000 attributes made inspect spend a second on them.
MAX_NAME_PARTS = 64


MIN_RSA_BITS = 2048


class Unsupported(ValueError):
    """A well-formed certificate or signature this module cannot check (an algorithm or key
    type other than RSA and ECDSA on P-256/384/521): a verdict of "not checked", not "broken"."""


class Cert(NamedTuple):
    """A parsed certificate (equal when the DER is: every field comes from it)."""

    der: bytes
    tbs: bytes  # the signed part, as encoded
    serial: int
    serial_der: bytes  # the INTEGER as encoded (CMS copies it)
    issuer: bytes  # Name, as encoded
    subject: bytes
    not_before: dt.datetime
    not_after: dt.datetime
    spki: bytes  # SubjectPublicKeyInfo, as encoded
    signature_algorithm: str
    signature_parameters: bytes | None
    signature: bytes
    is_ca: bool | None  # None: no basic constraints extension
    path_length: int | None
    key_usage: frozenset[str] | None  # None: no key usage extension
    key_identifier: bytes | None
    # What restricts a chain and is not applied here: CONSTRAINTS (by name) and critical
    # extensions outside UNDERSTOOD_EXTENSIONS (by OID).
    not_applied: tuple[str, ...]

    @property
    def self_issued(self) -> bool:
        return self.issuer == self.subject


_KEY_USAGE_BITS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def parse_cert(data: bytes) -> Cert:
    """A DER certificate; anything malformed is :class:`ValueError`."""
    try:
        return _parse(data)
    except (IndexError, TypeError, OverflowError, UnicodeError, RecursionError) as exc:
        raise ValueError(f"malformed certificate: {exc}") from None


def _parse(data: bytes) -> Cert:
    top = der.sequence(der.parse(data))
    if len(top) != 3:
        raise ValueError("a certificate has three parts")
    tbs_item, alg_item, sig_item = top
    fields = der.sequence(tbs_item)
    pos, version = 0, 0
    if fields[0].is_(der.CONTEXT, 0):
        version = der.integer(der.explicit(fields[0], 0))
        if version not in (0, 1, 2):
            raise ValueError("unknown certificate version")
        pos = 1
    if fields[pos + 1].encoded != alg_item.encoded:  # RFC 5280 §4.1.1.2
        raise ValueError("the signed and the outer signature algorithms differ")
    serial_item = fields[pos]
    serial = der.integer(serial_item)
    issuer = der.expect(fields[pos + 2], der.SEQUENCE)
    validity = der.sequence(fields[pos + 3])
    if len(validity) != 2:
        raise ValueError("validity has two dates")
    subject = der.expect(fields[pos + 4], der.SEQUENCE)
    spki = der.expect(fields[pos + 5], der.SEQUENCE)
    alg = der.sequence(alg_item)
    signature, unused = der.bits(sig_item)
    if unused:
        raise ValueError("signature is not a whole number of bytes")
    # After the key: the unique identifiers [1] and [2] (version 2 or 3) and the extensions
    # [3] (version 3), each at most once and in order, as cryptography and OpenSSL require.
    # Read loosely, a second [3] would override the first's basic constraints.
    optional = [item.tag if item.cls == der.CONTEXT else 0 for item in fields[pos + 6 :]]
    allowed = {1: (1, 2), 2: (1, 2), 3: (2,)}
    if optional != sorted(set(optional)) or any(
        version not in allowed.get(tag, ()) for tag in optional
    ):
        raise ValueError("unexpected fields after the public key")
    ext = _Extensions()
    if optional[-1:] == [3]:
        ext.read(der.explicit(fields[-1], 3))
    _name_text(issuer.encoded)  # names must at least parse
    _name_text(subject.encoded)
    return Cert(
        der=data,
        tbs=tbs_item.encoded,
        serial=serial,
        serial_der=serial_item.encoded,
        issuer=issuer.encoded,
        subject=subject.encoded,
        not_before=der.time(validity[0]),
        not_after=der.time(validity[1]),
        spki=spki.encoded,
        signature_algorithm=der.oid(alg[0]),
        signature_parameters=alg[1].encoded if len(alg) > 1 else None,
        signature=signature,
        is_ca=ext.is_ca,
        path_length=ext.path_length,
        key_usage=ext.key_usage,
        key_identifier=ext.key_identifier,
        not_applied=tuple(ext.not_applied),
    )


class _Extensions:
    """The extensions :class:`Cert` keeps, filled in by :meth:`read`."""

    def __init__(self) -> None:
        self.is_ca: bool | None = None
        self.path_length: int | None = None
        self.key_usage: frozenset[str] | None = None
        self.key_identifier: bytes | None = None
        self.not_applied: list[str] = []

    def read(self, extensions: der.Tlv) -> None:
        seen = set()
        for ext in der.sequence(extensions):
            parts = der.sequence(ext)
            name = der.oid(parts[0])
            if name in seen:  # RFC 5280 §4.2: at most one instance of an extension
                raise ValueError(f"extension {name} appears twice")
            seen.add(name)
            critical = der.boolean(parts[1]) if len(parts) == 3 else False
            value = der.octets(parts[-1])
            if name == _EXT_BASIC_CONSTRAINTS:
                inner = der.sequence(der.parse(value))
                first = inner[0] if inner else None
                self.is_ca = first is not None and first.is_(der.UNIVERSAL, der.BOOLEAN)
                self.is_ca = self.is_ca and der.boolean(inner[0])
                if inner and inner[-1].is_(der.UNIVERSAL, der.INTEGER):
                    self.path_length = der.integer(inner[-1])
            elif name == _EXT_KEY_USAGE:
                raw, _ = der.bits(der.parse(value))
                width = len(raw) * 8
                flags = int.from_bytes(raw, "big")
                self.key_usage = frozenset(
                    bit
                    for i, bit in enumerate(_KEY_USAGE_BITS)
                    if i < width and flags >> (width - 1 - i) & 1
                )
            elif name == _EXT_SKI:
                self.key_identifier = der.octets(der.parse(value))
            elif name in CONSTRAINTS:
                self.not_applied.append(CONSTRAINTS[name])
            elif critical and name not in UNDERSTOOD_EXTENSIONS:
                self.not_applied.append(name)


_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


def pem_blocks(data: bytes, limit: int = MAX_PEM_CERTS) -> list[bytes]:
    """The DER of every CERTIFICATE block, in order. A block that is not base64, or a BEGIN
    line without its END line (a truncated file, which would silently lose the certificates
    that follow), is an error.

    Found with ``bytes.find`` rather than a pattern: a lazy match from each BEGIN line to the
    next END line scans the rest of the file for every BEGIN line, which in a 4 MB file of
    BEGIN lines takes hours.
    """
    out = []
    pos = 0
    while (start := data.find(_BEGIN, pos)) >= 0:
        start += len(_BEGIN)
        end = data.find(_END, start)
        if end < 0 or data.find(_BEGIN, start, end) >= 0:
            raise ValueError("a certificate block has no END CERTIFICATE line")
        try:
            out.append(binascii.a2b_base64(b"".join(data[start:end].split()), strict_mode=True))
        except (binascii.Error, ValueError):
            raise ValueError("a certificate block is not valid base64") from None
        if len(out) > limit:
            raise ValueError(f"more than {limit} certificates")
        pos = end + len(_END)
    return out


def bundle_blocks(data: bytes) -> list[bytes]:
    """The DER of every decodable certificate in a CA bundle (the system's: ~150 of them).

    Split on the END markers rather than matched with a pattern: this runs on every signature
    and inspection, and the split is several times faster on a 200 KB bundle. Blocks that do not
    decode are skipped, as OpenSSL skips them.
    """
    out = []
    for chunk in data.split(_END):
        start = chunk.rfind(_BEGIN)
        if start < 0:
            continue
        try:
            out.append(binascii.a2b_base64(chunk[start + len(_BEGIN) :]))
        except (binascii.Error, ValueError):
            continue
    return out


def name_text(name: bytes) -> str:
    """An encoded Name as an RFC 4514 string (most specific first), e.g. ``CN=a,O=b,C=CH``."""
    try:
        return _name_text(name)
    except (ValueError, IndexError, UnicodeError):
        return "(unreadable name)"


def _name_text(name: bytes) -> str:
    rdns = []
    parts = 0
    for rdn in der.sequence(der.parse(name)):
        attrs = []
        for atv in der.children(der.expect(rdn, der.SET)):
            parts += 1
            if parts > MAX_NAME_PARTS:
                raise ValueError(f"a name with more than {MAX_NAME_PARTS} attributes")
            kind, value = der.sequence(atv)
            attrs.append(f"{_SHORT_NAMES.get(der.oid(kind), der.oid(kind))}={_value_text(value)}")
        rdns.append("+".join(attrs))
    return ",".join(reversed(rdns))


def _value_text(value: der.Tlv) -> str:
    codec = _STRING_CODECS.get(value.tag) if value.cls == der.UNIVERSAL else None
    try:
        if codec is None or value.constructed:
            raise UnicodeError("not a string type read here")
        text = value.body.decode(codec)
    except UnicodeError:  # RFC 4514 §2.4: other types, and bytes that do not decode, as hex
        return "#" + value.encoded.hex()
    if not text:
        return ""
    out = []
    for ch in text:
        if ch in '\\"+,;<>':
            out.append("\\" + ch)
        elif ch == "\x00":
            out.append("\\00")
        else:
            out.append(ch)
    if text[0] in "# ":
        out[0] = "\\" + out[0]
    if text[-1] == " ":
        out[-1] = "\\ "
    return "".join(out)


def weakness(cert: Cert, issuer: Cert) -> str | None:
    """Why the signature ``issuer`` made on ``cert`` no longer counts, or ``None``: a SHA-1
    hash or an RSA key under :data:`MIN_RSA_BITS` (Apple's and the CA/Browser Forum's
    minimums since 2017, and what cryptography's verifier refuses)."""
    if SIGNATURE_ALGORITHMS.get(cert.signature_algorithm, ("", ""))[1] == "SHA1":
        return "a SHA-1 signature"
    parts = der.sequence(der.parse(issuer.spki))
    if der.oid(der.sequence(parts[0])[0]) in (OID_RSA, OID_RSA_PSS):
        key_bits, _ = der.bits(parts[1])
        size = der.integer(der.sequence(der.parse(key_bits))[0]).bit_length()
        if size < MIN_RSA_BITS:
            return f"a {size}-bit RSA key"
    return None


def key_algorithm(cert: Cert) -> str:
    """The OID of the certificate's public key algorithm (:data:`OID_RSA`, :data:`OID_EC`, …),
    without building the key."""
    return der.oid(der.sequence(der.sequence(der.parse(cert.spki))[0])[0])


def public_key(cert: Cert) -> PublicKey:
    """The certificate's RSA or EC public key as a cryptography object.

    Made from the key's numbers (RSA modulus and exponent; EC curve and point) because the
    loader for encoded keys lives in cryptography's ``serialization`` package, whose import
    pulls in SSH and cipher support that ``inspect`` never needs. Other key types raise
    :class:`Unsupported`.
    """
    parts = der.sequence(der.parse(cert.spki))
    alg = der.sequence(parts[0])
    key_bits, unused = der.bits(parts[1])
    if unused:
        raise ValueError("malformed public key")
    kind = der.oid(alg[0])
    if kind in (OID_RSA, OID_RSA_PSS):
        from cryptography.hazmat.primitives.asymmetric import rsa

        n, e = (der.integer(x) for x in der.sequence(der.parse(key_bits)))
        if n <= 0 or e <= 0:
            raise ValueError("malformed RSA key")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if kind == OID_EC:
        from cryptography.hazmat.primitives.asymmetric import ec

        named = alg[1] if len(alg) > 1 else None
        if named is None or not named.is_(der.UNIVERSAL, der.OID):  # RFC 5480 §2.1.1
            raise Unsupported("an elliptic curve given by its parameters rather than its name")
        curve = CURVES.get(der.oid(named))
        if curve is None:
            raise Unsupported("an elliptic curve other than P-256, P-384 and P-521")
        return ec.EllipticCurvePublicKey.from_encoded_point(getattr(ec, curve)(), key_bits)
    raise Unsupported(f"public key algorithm {kind}")


def verify(
    key: PublicKey, algorithm: str, parameters: bytes | None, signature: bytes, data: bytes
) -> bool:
    """Whether ``signature`` over ``data`` verifies with ``key`` under ``algorithm`` (an X.509
    or CMS signature algorithm OID). An algorithm this cannot check raises
    :class:`Unsupported`. Only the module of the key type at hand is imported (the EC one and
    its OpenSSL backend cost ~5 ms that an RSA-only check need not spend)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes

    kind, digest = SIGNATURE_ALGORITHMS.get(algorithm, ("pss", ""))
    if algorithm != OID_RSA_PSS and not digest:
        raise Unsupported(f"signature algorithm {algorithm}")
    try:
        if kind == "ec":
            from cryptography.hazmat.primitives.asymmetric import ec

            if not isinstance(key, ec.EllipticCurvePublicKey):
                return False
            key.verify(signature, data, ec.ECDSA(getattr(hashes, digest)()))
            return True
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        if not isinstance(key, rsa.RSAPublicKey):
            return False
        if kind == "rsa":
            key.verify(signature, data, padding.PKCS1v15(), getattr(hashes, digest)())
            return True
        digest, mgf_digest, salt = _pss_parameters(parameters)
        pss = padding.PSS(padding.MGF1(getattr(hashes, mgf_digest)()), salt)
        key.verify(signature, data, pss, getattr(hashes, digest)())
    except InvalidSignature:
        return False
    return True


def _pss_parameters(parameters: bytes | None) -> tuple[str, str, int]:
    """RSASSA-PSS-params (RFC 4055 §3.1): hash, MGF1 hash and salt length; absent fields take
    the defaults (SHA-1, MGF1 with SHA-1, 20)."""
    digest, mgf_digest, salt = "SHA1", "SHA1", 20
    for item in der.sequence(der.parse(parameters)) if parameters else []:
        inner = der.explicit(item, item.tag)
        if item.tag == 0:
            digest = _hash_name(der.oid(der.sequence(inner)[0]))
        elif item.tag == 1:
            mgf = der.sequence(inner)
            if der.oid(mgf[0]) != OID_MGF1:
                raise Unsupported("a PSS mask other than MGF1")
            mgf_digest = _hash_name(der.oid(der.sequence(mgf[1])[0]))
        elif item.tag == 2:
            salt = der.integer(inner)
    return digest, mgf_digest, salt


def _hash_name(oid: str) -> str:
    name = HASHES.get(oid)
    if name is None:
        raise Unsupported(f"hash algorithm {oid}")
    return name


def issued_by(cert: Cert, issuer: Cert) -> bool:
    """Whether ``issuer`` issued ``cert``: names match and its key verifies the signature.
    An algorithm or key type this cannot check raises :class:`Unsupported`."""
    if cert.issuer != issuer.subject:
        return False
    return verify(
        public_key(issuer),
        cert.signature_algorithm,
        cert.signature_parameters,
        cert.signature,
        cert.tbs,
    )
