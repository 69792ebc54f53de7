"""ASN.1 DER and BER, the few types CMS and X.509 use: read (BER) and write (DER).

Why here and not cryptography's ``x509`` and ``pkcs7`` modules, or asn1crypto: importing any of
them costs 4 ms (asn1crypto's parser alone, which brings ``socket`` and IRI handling) to 55 ms
(its CMS classes), while the whole signature or signature check costs about 1 ms, and
``profile --sign-*`` and ``inspect`` are meant to cost little more than the unsigned command
(docs/signing.md, "Speed"). Tag-length-value framing is small and fully specified (X.690 §8.1);
the tests compare this reader with asn1crypto's parser on generated and corrupted input.

Reading accepts BER, as signed profiles in the wild use it: long-form tags and lengths,
indefinite lengths (what ``openssl smime -sign`` streams) nested at most :data:`MAX_DEPTH`
deep, constructed OCTET STRINGs. Truncation, trailing bytes and lengths past the data are
errors. Every malformed value raises :class:`ValueError`, which callers turn into a finding or
a one-line error. Only the types below are interpreted.

Writing is DER (X.690 §10): definite minimal lengths, and SET OF sorted by encoding (§11.6), so
the bytes that get signed are the canonical ones a verifier re-encodes.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

MAX_CHILDREN = 10_000
MAX_CHUNK_DEPTH = 8
MAX_DEPTH = 16  # nested indefinite lengths; a signed profile has five
# Values inside indefinite lengths that one call of :func:`parse` or :func:`children` reads.
# An indefinite length is only found by reading everything inside it, and walking down a
# structure reads it again at each level: a megabyte of empty values took seconds. OpenSSL
# streams a profile in chunks of about a kilobyte, so a real one has a few hundred.
MAX_INDEFINITE_ITEMS = 20_000
MAX_LENGTH_OCTETS = 8
# An OBJECT IDENTIFIER's arcs are base-128 numbers of any size, and building one arc of n bytes
# costs n squared; the longest OIDs in use (2.25.<UUID>, vendor arcs) take under 40 bytes.
MAX_OID_BYTES = 128
# The largest INTEGER in a certificate or key: a 16384-bit RSA modulus (OpenSSL's limit) and
# its sign byte. 8192-bit keys, which some private CAs and S/MIME users have, need 1025.
MAX_INTEGER_BYTES = 2049

# Universal tags used here (X.680 §8.4).
BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID = 1, 2, 3, 4, 5, 6
UTC_TIME, GENERALIZED_TIME, SEQUENCE, SET = 23, 24, 16, 17
UNIVERSAL, CONTEXT = 0, 2


class Tlv(NamedTuple):
    """One value: class, constructed or not, tag number, and its bytes as found (``trailer``
    is the end-of-contents of an indefinite length)."""

    cls: int
    constructed: bool
    tag: int
    header: bytes
    body: bytes
    trailer: bytes

    @property
    def encoded(self) -> bytes:
        return self.header + self.body + self.trailer

    def is_(self, cls: int, tag: int) -> bool:
        return self.cls == cls and self.tag == tag


def parse(data: bytes) -> Tlv:
    """``data`` as exactly one value (trailing bytes are an error)."""
    item, end = _read(data, 0, 0, [MAX_INDEFINITE_ITEMS])
    if end != len(data):
        raise ValueError("trailing bytes after the value")
    return item


def children(item: Tlv) -> list[Tlv]:
    """The values inside a constructed value, in order."""
    if not item.constructed:
        raise ValueError("expected a constructed value")
    out = []
    body, pos = item.body, 0
    budget = [MAX_INDEFINITE_ITEMS]
    while pos < len(body):
        child, pos = _read(body, pos, 0, budget)
        out.append(child)
        if len(out) > MAX_CHILDREN:
            raise ValueError("too many elements")
    return out


def _read(data: bytes, start: int, depth: int, budget: list[int]) -> tuple[Tlv, int]:
    """The value starting at ``start`` and the position after it; ``budget``: how many more
    values inside indefinite lengths this call may read (shared by the nested calls)."""
    end = len(data)
    pos = start + 1
    if pos > end:
        raise ValueError("truncated: no tag")
    first = data[start]
    cls, constructed, tag = first >> 6, bool(first & 0x20), first & 0x1F
    if tag == 0x1F:  # high tag number, base 128 (X.690 §8.1.2.4)
        tag = 0
        while True:
            if pos >= end:
                raise ValueError("truncated tag")
            byte = data[pos]
            pos += 1
            tag = (tag << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
            if tag > 1 << 28:
                raise ValueError("tag number too large")
    if pos >= end:
        raise ValueError("truncated: no length")
    size = data[pos]
    pos += 1
    if size == 0x80:  # indefinite: contents end with two zero bytes (X.690 §8.1.3.6)
        if not constructed:
            raise ValueError("indefinite length on a primitive value")
        if depth >= MAX_DEPTH:
            raise ValueError("indefinite lengths nested too deeply")
        inner = pos
        while data[inner : inner + 2] != b"\x00\x00":
            if inner >= end:
                raise ValueError("truncated: no end-of-contents")
            budget[0] -= 1
            if budget[0] < 0:
                raise ValueError("too many values inside indefinite lengths")
            _, inner = _read(data, inner, depth + 1, budget)
        return Tlv(cls, constructed, tag, data[start:pos], data[pos:inner], b"\x00\x00"), inner + 2
    if size & 0x80:
        count = size & 0x7F
        if count > MAX_LENGTH_OCTETS or pos + count > end:
            raise ValueError("truncated or oversized length")
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + size > end:
        raise ValueError("truncated: the length runs past the data")
    return Tlv(cls, constructed, tag, data[start:pos], data[pos : pos + size], b""), pos + size


def expect(item: Tlv, tag: int, cls: int = UNIVERSAL) -> Tlv:
    if not item.is_(cls, tag):
        raise ValueError(f"expected tag {tag} of class {cls}, found {item.tag} of {item.cls}")
    return item


def sequence(item: Tlv) -> list[Tlv]:
    return children(expect(item, SEQUENCE))


def explicit(item: Tlv, tag: int) -> Tlv:
    """The single value inside a context-specific ``[tag] EXPLICIT``."""
    (inner,) = children(expect(item, tag, CONTEXT))
    return inner


def oid(item: Tlv) -> str:
    """An OBJECT IDENTIFIER in dotted form."""
    if not item.is_(UNIVERSAL, OID) or item.constructed or not item.body:
        raise ValueError("expected an OBJECT IDENTIFIER")
    if len(item.body) > MAX_OID_BYTES:
        raise ValueError("OBJECT IDENTIFIER too long")
    if item.body[-1] & 0x80:
        raise ValueError("truncated OBJECT IDENTIFIER")
    parts: list[int] = []
    value = 0
    for byte in item.body:
        if byte == 0x80 and value == 0:  # X.690 §8.19.2: an arc's first byte is never 0x80
            raise ValueError("OBJECT IDENTIFIER arc with a leading zero")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    first = min(parts[0] // 40, 2)
    return ".".join(str(p) for p in [first, parts[0] - 40 * first, *parts[1:]])


def integer(item: Tlv) -> int:
    if not item.is_(UNIVERSAL, INTEGER) or item.constructed or not item.body:
        raise ValueError("expected an INTEGER")
    if len(item.body) > MAX_INTEGER_BYTES:
        raise ValueError("INTEGER too long")
    return int.from_bytes(item.body, "big", signed=True)


def boolean(item: Tlv) -> bool:
    if not item.is_(UNIVERSAL, BOOLEAN) or len(item.body) != 1:
        raise ValueError("expected a BOOLEAN")
    return item.body != b"\x00"


def octets(item: Tlv, depth: int = 0) -> bytes:
    """An OCTET STRING's bytes; BER may split it into constructed chunks."""
    if not item.is_(UNIVERSAL, OCTET_STRING):
        raise ValueError("expected an OCTET STRING")
    if not item.constructed:
        return item.body
    if depth > MAX_CHUNK_DEPTH:
        raise ValueError("OCTET STRING chunks nested too deeply")
    return b"".join(octets(c, depth + 1) for c in children(item))


def bits(item: Tlv) -> tuple[bytes, int]:
    """A (primitive, DER) BIT STRING: its bytes and how many trailing bits are unused."""
    if not item.is_(UNIVERSAL, BIT_STRING) or item.constructed or not item.body:
        raise ValueError("expected a BIT STRING")
    unused = item.body[0]
    if unused > 7 or (unused and len(item.body) == 1):
        raise ValueError("malformed BIT STRING")
    return item.body[1:], unused


def time(item: Tlv) -> dt.datetime:
    """UTCTime or GeneralizedTime in the forms RFC 5280 §4.1.2.5 allows (seconds, ``Z``)."""
    text = item.body.decode("ascii", "replace")
    if item.is_(UNIVERSAL, UTC_TIME) and len(text) == 13:
        if not (text[:2].isdigit() and text[:2].isascii()):
            raise ValueError("malformed time")
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif not (item.is_(UNIVERSAL, GENERALIZED_TIME) and len(text) == 15):
        raise ValueError("expected a UTCTime or GeneralizedTime ending in Z")
    if not (text[:14].isdigit() and text[:14].isascii() and text[14] == "Z"):
        raise ValueError("malformed time")
    # Parsed by hand: datetime.strptime imports _strptime and calendar (1.3 ms) for this.
    year, month, day, hour, minute, second = (
        int(text[i : i + n]) for i, n in ((0, 4), (4, 2), (6, 2), (8, 2), (10, 2), (12, 2))
    )
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


# --- writing (DER) ---


def encode(tag_byte: int, body: bytes) -> bytes:
    """One value with a low tag number (< 31): identifier byte, minimal length, body."""
    n = len(body)
    if n < 0x80:
        return bytes((tag_byte, n)) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag_byte, 0x80 | len(size))) + size + body


def seq(*parts: bytes) -> bytes:
    return encode(0x30, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    """A SET OF, its elements sorted by their encodings as DER requires."""
    return encode(0x31, b"".join(sorted(parts)))


def context(tag: int, body: bytes, *, constructed: bool = True) -> bytes:
    """``[tag]``: EXPLICIT around an encoding, or IMPLICIT with the contents given."""
    return encode(0x80 | (0x20 if constructed else 0) | tag, body)


def oid_der(dotted: str) -> bytes:
    numbers = [int(p) for p in dotted.split(".")]
    out = bytearray()
    for value in [numbers[0] * 40 + numbers[1], *numbers[2:]]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out += bytes(reversed(chunk))
    return encode(0x06, bytes(out))


def integer_der(value: int) -> bytes:
    return encode(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def octets_der(data: bytes) -> bytes:
    return encode(0x04, data)


def null_der() -> bytes:
    return b"\x05\x00"


def time_der(when: dt.datetime) -> bytes:
    """UTCTime for 1950 to 2049, GeneralizedTime otherwise (RFC 5652 §11.3, RFC 5280
    §4.1.2.5), to the second, in UTC."""
    when = when.astimezone(dt.UTC)
    if 1950 <= when.year <= 2049:
        return encode(0x17, when.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return encode(0x18, f"{when.year:04d}{when:%m%d%H%M%S}Z".encode("ascii"))
