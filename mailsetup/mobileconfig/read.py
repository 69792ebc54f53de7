"""Open any ``.mobileconfig``: XML plist, binary plist, or CMS-signed, from any tool.

The file is untrusted (it may come from a web page, a mail or another generator), so every step
is bounded and every failure becomes a :class:`~mailsetup.mobileconfig.findings.Finding`, never
a traceback:

- Size: at most :data:`MAX_BYTES` are read (a mail profile is a few KB; Apple's own tools write
  well under this even with certificates inside).
- XML: plistlib parses with expat and refuses any ``<!ENTITY`` declaration ("XML entity
  declarations are not supported in plist files"), which rules out entity expansion ("billion
  laughs") and external entities, the two attacks defusedxml exists for; expat itself keeps no
  recursion, and the nesting depth of the result is checked before anything walks it.
- Binary plists: plistlib checks offsets and counts against the data it holds; its reader is
  recursive, so a nesting deeper than Python's recursion limit is caught and named.
- CMS (RFC 5652 SignedData, what a signed profile is): the content is read *without* requiring
  the signature to verify first, so a profile signed by an unknown CA can still be inspected.
  The DER/BER is walked with asn1crypto's TLV parser (handles long-form tags and lengths, BER
  indefinite lengths with a depth limit, and reports truncation); only the five fields needed are
  followed by hand, which keeps ``inspect`` fast (asn1crypto's full CMS classes cost ~60 ms to
  import, the parser under 10 ms). The signature itself is then checked with cryptography:
  the digest of the content against the signed ``messageDigest`` attribute, and the signature
  over the signed attributes with the signer certificate's key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mailsetup.mobileconfig.findings import Finding

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from mailsetup.mobileconfig.trust import TrustVerdict

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32  # a mail/DAV profile is 3 levels deep; Apple's deepest payloads are under 10

Container = Literal["xml", "binary", "signed", "unknown"]

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


class Unreadable(ValueError):
    """The file is not a profile we can read; the message says why, for a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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


@dataclass
class ReadProfile:
    """A profile as read: its container, signature (if any), and the plist (if readable)."""

    path: str
    size: int
    container: Container
    plist: dict[str, Any] | None
    signature: Signature | None = None
    findings: list[Finding] = field(default_factory=list)


def read_bytes(path: Path) -> bytes:
    """At most :data:`MAX_BYTES` + 1 bytes of a regular file (the caller checked the kind)."""
    with path.open("rb") as fh:
        return fh.read(MAX_BYTES + 1)


def read_profile(
    data: bytes, path: str, *, roots: tuple[list[Certificate], str] | None = None
) -> ReadProfile:
    """Read ``data`` (a whole file); ``roots``: trust anchors for the signer's chain (default:
    the system's, loaded only for a signed file)."""
    if len(data) > MAX_BYTES:
        return _failed(path, len(data), "unknown", "too-large", f"larger than {MAX_BYTES} bytes")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:8]
    container: Container = "unknown"
    signature = None
    content = data
    try:
        if head.startswith(b"bplist00"):
            container = "binary"
        elif head.startswith(b"<"):
            container = "xml"
        elif head[:1] == b"\x30":
            container = "signed"
            content, signature = _read_cms(data, roots)
        else:
            raise Unreadable(
                "not-a-profile", "neither a plist (XML or binary) nor a signed (CMS) profile"
            )
        plist = _parse_plist(content)
    except Unreadable as exc:
        report = _failed(path, len(data), container, exc.code, str(exc))
        report.signature = signature
        if exc.code == "not-a-plist" and content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
            # Name the key behind the parse failure (an empty <real></real> port, say).
            report.findings = diagnose_xml(content) + report.findings
        return report
    return ReadProfile(path, len(data), container, plist, signature)


def _failed(path: str, size: int, container: Container, code: str, message: str) -> ReadProfile:
    finding = Finding("error", code, "", message)
    return ReadProfile(path, size, container, None, findings=[finding])


def _parse_plist(data: bytes) -> dict[str, Any]:
    import plistlib
    import xml.parsers.expat

    try:
        value = plistlib.loads(data)
    except RecursionError:
        raise Unreadable("too-deep", "the plist is nested too deeply to be a profile") from None
    except (plistlib.InvalidFileException, xml.parsers.expat.ExpatError) as exc:
        from mailsetup.untrusted import clean_text

        raise Unreadable("not-a-plist", f"not a valid plist: {clean_text(str(exc))}") from None
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
        UnicodeError,
        LookupError,  # an unknown encoding= in the XML declaration
    ) as exc:
        # plistlib's binary reader reports some corruptions as plain Python errors
        raise Unreadable("not-a-plist", f"not a valid plist ({type(exc).__name__})") from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise Unreadable(
            "too-deep",
            f"the plist is nested more than {MAX_DEPTH} levels deep or holds more than"
            f" {MAX_VALUES} values",
        )
    if not isinstance(value, dict):
        raise Unreadable(
            "not-a-profile", f"the plist holds a {type(value).__name__}, not a dictionary"
        )
    return value


MAX_VALUES = 100_000


def _depth_exceeds(root: object, limit: int) -> bool:
    """Iterative depth check. A binary plist may hold a cycle, or share one object between many
    parents so that a 1 KB file unfolds into billions of values: the walk stops at
    :data:`MAX_VALUES` as well (the code and JSON dump that come later would walk them too)."""
    stack: list[tuple[object, int]] = [(root, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if depth > limit or seen > MAX_VALUES:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


_NUMBERS = {"integer": int, "real": float}


def diagnose_xml(data: bytes) -> list[Finding]:
    """Where an XML plist that plistlib refused goes wrong, by key path.

    plistlib stops at the first bad value without saying which key holds it; this walks the same
    XML with expat (entity declarations refused, as plistlib does) and names every empty or
    malformed number and date, e.g. ``PayloadContent[0].CalDAVPort: empty <real></real>``.
    """
    import xml.parsers.expat

    from mailsetup.mobileconfig.lint import is_port_key

    findings: list[Finding] = []
    frames: list[list[Any]] = []  # [kind, path, pending key, next index]
    text: list[str] = []
    leaf_path: list[str] = [""]

    def child_path() -> str:
        if not frames:
            return ""
        frame = frames[-1]
        if frame[0] == "dict":
            key = frame[2] or "?"
            frame[2] = None
            return f"{frame[1]}.{key}" if frame[1] else key
        frame[3] += 1
        return f"{frame[1]}[{frame[3] - 1}]"

    def start(name: str, _attrs: dict[str, str]) -> None:
        if len(frames) > MAX_DEPTH:
            raise Unreadable("too-deep", "nested too deeply")
        text.clear()
        if name in ("plist", "key"):
            return
        path = child_path()
        if name in ("dict", "array"):
            frames.append([name, path, None, 0])
        leaf_path[0] = path

    def end(name: str) -> None:
        value = "".join(text).strip()
        if name == "key" and frames and frames[-1][0] == "dict":
            frames[-1][2] = value
        elif name in ("dict", "array") and frames:
            frames.pop()
        elif name in _NUMBERS and len(findings) < 50:
            path = leaf_path[0]
            key = path.rsplit(".", 1)[-1]
            try:
                _NUMBERS[name](value)
            except ValueError:
                empty = not value
                code = (
                    ("port-empty" if is_port_key(key) else "empty-value")
                    if empty
                    else ("bad-number")
                )
                what = f"empty <{name}></{name}>" if empty else f"<{name}> that is not a number"
                findings.append(
                    Finding("error", code, path, f"{what}: the device refuses the whole profile")
                )

    def entity(*_args: object) -> None:
        raise Unreadable("not-a-plist", "entity declarations are not allowed")

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    parser.EntityDeclHandler = entity
    with contextlib.suppress(xml.parsers.expat.ExpatError, Unreadable, ValueError, LookupError):
        parser.Parse(data, True)
    return findings


# --- CMS -----------------------------------------------------------------------------------


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


def _read_cms(data: bytes, roots: tuple[list[Certificate], str] | None) -> tuple[bytes, Signature]:
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
    import warnings

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
