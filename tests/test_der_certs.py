"""The small DER, X.509 and key readers behind signing and ``inspect``, against the libraries.

mailsetup reads DER, certificates and unencrypted keys itself (mailsetup/mobileconfig/der.py,
certs.py, keys.py) to keep cryptography's ``x509`` and ``serialization`` modules out of the
signing path. These tests hold each reader to an established implementation on the same
input: asn1crypto's TLV parser, cryptography's certificate and key loaders.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
from collections.abc import Callable

import pytest
from asn1crypto import parser as asn1parser
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsetup.mobileconfig import der
from mailsetup.mobileconfig.certs import (
    MAX_NAME_PARTS,
    name_text,
    parse_cert,
    pem_blocks,
    public_key,
)
from mailsetup.mobileconfig.keys import read_plain_key

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
_KEYS = {
    "rsa": rsa.generate_private_key(65537, 2048),
    "ec": ec.generate_private_key(ec.SECP256R1()),
}


# --- DER/BER framing against asn1crypto's parser ---------------------------------------------


def _tlv(tag: int, body: bytes, *, indefinite: bool = False) -> bytes:
    if indefinite:
        return bytes((tag | 0x20, 0x80)) + body + b"\x00\x00"
    return der.encode(tag, body)


_values = st.recursive(
    st.builds(
        lambda t, b: _tlv(t, b),
        st.sampled_from([0x02, 0x04, 0x06, 0x0C, 0x80]),
        st.binary(max_size=300),
    ),
    lambda inner: st.builds(
        lambda t, kids, indef: _tlv(t, b"".join(kids), indefinite=indef),
        st.sampled_from([0x30, 0x31, 0xA0, 0x24]),
        st.lists(inner, max_size=4),
        st.booleans(),
    ),
    max_leaves=12,
)


def _ours(data: bytes) -> tuple[int, bool, int, bytes, bytes, bytes] | None:
    try:
        t = der.parse(data)
    except ValueError:
        return None
    return t.cls, t.constructed, t.tag, t.header, t.body, t.trailer


def _theirs(data: bytes) -> tuple[int, bool, int, bytes, bytes, bytes] | None:
    try:
        cls, method, tag, header, body, trailer = asn1parser.parse(data, strict=True)
    except (ValueError, TypeError):
        return None
    return cls, bool(method), tag, header, body, trailer


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_well_formed_values_frame_as_asn1crypto_frames_them(data: bytes) -> None:
    assert _ours(data) == _theirs(data) is not None


@settings(max_examples=400)
@given(_values, st.data())
def test_corrupted_values_are_refused_or_framed_alike(data: bytes, draw: st.DataObject) -> None:
    """Truncated, extended or flipped input: both readers agree, and ours only raises
    ValueError (never IndexError or a hang)."""
    cut = draw.draw(st.integers(0, len(data)))
    flip = draw.draw(st.integers(0, max(len(data) - 1, 0)))
    bad = bytearray(data[:cut] + draw.draw(st.binary(max_size=3)))
    if bad:
        bad[flip % len(bad)] ^= draw.draw(st.integers(1, 255))
    assert _ours(bytes(bad)) == _theirs(bytes(bad))


def test_children_walk_nested_indefinite_lengths_with_a_depth_limit() -> None:
    leaf = der.octets_der(b"x")
    nested = leaf
    for _ in range(der.MAX_DEPTH):
        nested = _tlv(0x30, nested, indefinite=True)
    assert der.children(der.parse(nested))  # at the limit: read
    with pytest.raises(ValueError, match="nested too deeply"):
        der.parse(_tlv(0x30, nested, indefinite=True))


def test_values_inside_indefinite_lengths_are_bounded_per_read() -> None:
    """Finding where an indefinite length ends means reading all that is inside, again at
    each level a reader walks down: a megabyte of empty values inside one took seconds."""
    limit = der.MAX_INDEFINITE_ITEMS
    assert der.parse(_tlv(0x31, der.null_der() * limit, indefinite=True))
    flat = _tlv(0x31, der.null_der() * (limit + 1), indefinite=True)
    half = _tlv(0x30, der.null_der() * (limit // 2), indefinite=True)
    nested = _tlv(0x30, half * 2, indefinite=True)  # the halves and the two around them
    for data in (flat, nested):
        with pytest.raises(ValueError, match="too many values"):
            der.parse(data)


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(1950, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        dt.datetime(2050, 1, 1, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
    ],
)
def test_times_round_trip_through_utctime_and_generalizedtime(when: dt.datetime) -> None:
    encoded = der.time_der(when)
    assert encoded[0] == (0x17 if when.year < 2050 else 0x18)
    assert der.time(der.parse(encoded)) == when


@pytest.mark.parametrize(
    "text", [b"ab0101000000Z", b"2601010000Z", b"260101000000+0100", b"261301000000Z"]
)
def test_malformed_times_are_refused(text: bytes) -> None:
    with pytest.raises(ValueError):
        der.time(der.parse(der.encode(0x17, text)))


@given(
    st.lists(st.integers(0, 2**64), min_size=1, max_size=8), st.integers(0, 2), st.integers(0, 39)
)
def test_object_identifiers_round_trip(rest: list[int], first: int, second: int) -> None:
    dotted = ".".join(str(n) for n in [first, second, *rest])
    assert der.oid(der.parse(der.oid_der(dotted))) == dotted


def test_an_object_identifier_has_one_encoding() -> None:
    """basicConstraints (2.5.29.19) with a padded arc read as basicConstraints here, while
    OpenSSL and cryptography refuse such a certificate outright."""
    assert der.oid(der.parse(b"\x06\x03\x55\x1d\x13")) == "2.5.29.19"
    with pytest.raises(ValueError, match="leading zero"):
        der.oid(der.parse(b"\x06\x04\x55\x80\x1d\x13"))


def test_an_overlong_object_identifier_is_refused_before_its_arcs_are_built() -> None:
    """Arcs are base-128 numbers of any size: a megabyte of continuation bytes in a hostile
    profile would make one arc of seven million bits, built in quadratic time."""
    longest_real = "2.25." + str(2**128 - 1)  # a UUID OID
    assert der.oid(der.parse(der.oid_der(longest_real))) == longest_real
    with pytest.raises(ValueError, match="too long"):
        der.oid(der.parse(der.encode(0x06, b"\x2a" + b"\x81" * 1000 + b"\x01")))


@given(st.integers(-(2**200), 2**200))
def test_integers_round_trip_in_minimal_form(n: int) -> None:
    encoded = der.integer_der(n)
    assert der.integer(der.parse(encoded)) == n
    assert encoded[2:] == n.to_bytes(len(encoded) - 2, "big", signed=True)
    assert len(encoded) - 2 == 1 or encoded[2:4] not in (b"\x00\x00", b"\xff\xff")


# --- certificates against cryptography.x509 ---------------------------------------------------

_STRINGS = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=20
)
_ATTRS = st.sampled_from(
    [
        NameOID.COMMON_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.ORGANIZATIONAL_UNIT_NAME,
        NameOID.LOCALITY_NAME,
        NameOID.STATE_OR_PROVINCE_NAME,
        NameOID.DOMAIN_COMPONENT,
        NameOID.EMAIL_ADDRESS,
        NameOID.USER_ID,
        NameOID.STREET_ADDRESS,
    ]
)
_IA5 = {NameOID.DOMAIN_COMPONENT, NameOID.EMAIL_ADDRESS}  # cryptography writes these as IA5String


@st.composite
def _names(draw: st.DrawFn) -> x509.Name:
    attrs = draw(st.lists(st.tuples(_ATTRS, _STRINGS), min_size=1, max_size=4))
    values = [
        x509.NameAttribute(oid, value.encode("ascii", "replace").decode() if oid in _IA5 else value)
        for oid, value in attrs
    ]
    if draw(st.booleans()):
        values.append(x509.NameAttribute(NameOID.COUNTRY_NAME, draw(st.sampled_from(["CH", "FR"]))))
    return x509.Name(values)


def _cert(
    subject: x509.Name, key_type: str, serial: int, ca: bool | None, usage: bool
) -> x509.Certificate:
    key = _KEYS[key_type]
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=400 * 100))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca is not None:
        b = b.add_extension(
            x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True
        )
    if usage:
        b = b.add_extension(
            x509.KeyUsage(True, False, False, False, False, bool(ca), bool(ca), False, False),
            critical=True,
        )
    return b.sign(key, hashes.SHA256())


@settings(max_examples=60, deadline=None)
@given(
    _names(),
    st.sampled_from(["rsa", "ec"]),
    st.integers(1, 2**158),
    st.sampled_from([None, True, False]),
    st.booleans(),
)
def test_certificates_read_as_cryptography_reads_them(
    subject: x509.Name, key_type: str, serial: int, ca: bool | None, usage: bool
) -> None:
    theirs = _cert(subject, key_type, serial, ca, usage)
    ours = parse_cert(theirs.public_bytes(serialization.Encoding.DER))
    assert ours.serial == theirs.serial_number
    assert ours.subject == theirs.subject.public_bytes() == ours.issuer
    assert name_text(ours.subject) == theirs.subject.rfc4514_string()
    assert (ours.not_before, ours.not_after) == (
        theirs.not_valid_before_utc,
        theirs.not_valid_after_utc,
    )
    assert ours.tbs == theirs.tbs_certificate_bytes and ours.signature == theirs.signature
    assert ours.is_ca == ca and ours.path_length == (0 if ca else None)
    assert (ours.key_usage is not None) == usage
    if usage:
        assert "digital_signature" in ours.key_usage  # type: ignore[operator]
        assert ("key_cert_sign" in ours.key_usage) == bool(ca)  # type: ignore[operator]
    ski = theirs.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert ours.key_identifier == ski
    assert public_key(ours).public_numbers() == theirs.public_key().public_numbers()


@pytest.mark.parametrize("bits", [4096, 8192, 16384])
def test_large_rsa_keys_read_as_cryptography_reads_them(bits: int) -> None:
    """An 8192-bit modulus takes 1025 bytes as an INTEGER: a bound of 1024 refused the key,
    so signing said the key "does not belong" and inspect called the signature broken."""
    numbers = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 0xF1)  # odd, ``bits`` long
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "big")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(numbers.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(_KEYS["ec"], hashes.SHA256())  # type: ignore[arg-type]
    )
    ours = public_key(parse_cert(cert.public_bytes(serialization.Encoding.DER)))
    assert ours.public_numbers() == numbers


_GOOD_DER = _cert(
    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]), "rsa", 7, True, True
).public_bytes(serialization.Encoding.DER)


@settings(max_examples=300)
@given(st.data())
def test_corrupted_certificates_raise_value_error_only(draw: st.DataObject) -> None:
    data = bytearray(_GOOD_DER)
    for _ in range(draw.draw(st.integers(1, 4))):
        data[draw.draw(st.integers(0, len(data) - 1))] = draw.draw(st.integers(0, 255))
    cut = draw.draw(st.integers(0, len(data)))
    with contextlib.suppress(ValueError):
        parse_cert(bytes(data[:cut]))


def _resigned(edit: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """_GOOD_DER with its signed part's fields edited, signed again by the same key."""
    top = der.sequence(der.parse(_GOOD_DER))
    tbs = der.seq(*edit([f.encoded for f in der.sequence(top[0])]))
    key = _KEYS["rsa"]
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return der.seq(tbs, top[1].encoded, der.encode(0x03, b"\x00" + signature))


_NOT_A_CA = der.seq(der.seq(der.oid_der("2.5.29.19"), b"\x01\x01\xff", der.octets_der(der.seq())))
_MALFORMED_TBS = {
    # A second extensions block that says "not a CA": read loosely, it overrode the first.
    "extensions twice": lambda f: [*f, der.context(3, _NOT_A_CA)],
    "an unknown field after the key": lambda f: [*f, der.context(5, der.null_der())],
    "extensions in a version 1 certificate": lambda f: f[1:],
    "signed algorithm not the outer one": lambda f: [
        *f[:2],
        der.seq(der.oid_der("1.2.840.113549.1.1.12"), der.null_der()),
        *f[3:],
    ],
}


@pytest.mark.parametrize("edit", list(_MALFORMED_TBS.values()), ids=list(_MALFORMED_TBS))
def test_certificates_cryptography_refuses_are_refused(
    edit: Callable[[list[bytes]], list[bytes]],
) -> None:
    """Fields in the wrong place or twice, extensions in a version 1 certificate, a signed
    algorithm that is not the outer one (RFC 5280 §4.1.1.2): cryptography refuses to load
    the first two and its verifier the others, and OpenSSL all four."""
    assert parse_cert(_resigned(lambda f: f)) == parse_cert(_GOOD_DER)  # unedited: the same
    with pytest.raises(ValueError):
        parse_cert(_resigned(edit))


def test_a_name_that_does_not_decode_prints_as_hex_and_the_certificate_still_reads() -> None:
    """cryptography writes a non-ASCII DC into an IA5String; the certificate is still read and
    that one value prints in RFC 4514's hex form."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "é"),
            x509.NameAttribute(NameOID.COMMON_NAME, "ok"),
        ]
    )
    cert = parse_cert(_cert(name, "ec", 5, None, False).public_bytes(serialization.Encoding.DER))
    assert name_text(cert.subject) == "CN=ok,DC=#1602c3a9"


def test_names_with_more_attributes_than_any_real_one_are_refused() -> None:
    def named(parts: int) -> bytes:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, f"n{i}") for i in range(parts)]
        name = x509.Name([x509.RelativeDistinguishedName([a]) for a in attrs])
        return _cert(name, "ec", 9, None, False).public_bytes(serialization.Encoding.DER)

    assert name_text(parse_cert(named(MAX_NAME_PARTS)).subject).startswith("CN=n63,CN=n62")
    with pytest.raises(ValueError, match="more than 64 attributes"):
        parse_cert(named(MAX_NAME_PARTS + 1))


def test_pem_blocks_with_broken_base64_are_refused() -> None:
    with pytest.raises(ValueError, match="base64"):
        pem_blocks(b"-----BEGIN CERTIFICATE-----\nMIIB*x==\n-----END CERTIFICATE-----\n")


def test_pem_blocks_without_their_end_line_are_refused() -> None:
    """A truncated chain file would otherwise lose its last certificate without a word (and
    the device could not build the chain); a file of BEGIN lines alone is refused at once."""
    good = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(_GOOD_DER)
    good += b"-----END CERTIFICATE-----\n"
    crlf = good.replace(b"\n", b"\r\n")
    assert pem_blocks(b"Subject: x\n" + good + b"between\n" + crlf) == [_GOOD_DER, _GOOD_DER]
    for bad in (good + good[:80], good[:-30] + good, b"-----BEGIN CERTIFICATE-----\n" * 3000):
        with pytest.raises(ValueError, match="no END CERTIFICATE line"):
            pem_blocks(bad)


# --- private keys against cryptography's loader -----------------------------------------------

_FORMATS = {
    "pkcs8": serialization.PrivateFormat.PKCS8,
    "traditional": serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1 / SEC 1
}


@pytest.mark.parametrize("fmt", sorted(_FORMATS))
@pytest.mark.parametrize(
    "make",
    [
        lambda: rsa.generate_private_key(65537, 2048),
        lambda: rsa.generate_private_key(3, 3072),
        lambda: ec.generate_private_key(ec.SECP256R1()),
        lambda: ec.generate_private_key(ec.SECP384R1()),
        lambda: ec.generate_private_key(ec.SECP521R1()),
    ],
    ids=["rsa2048", "rsa3072-e3", "p256", "p384", "p521"],
)
def test_plain_keys_read_as_cryptography_reads_them(fmt: str, make) -> None:  # type: ignore[no-untyped-def]
    key = make()
    pem = key.private_bytes(serialization.Encoding.PEM, _FORMATS[fmt], serialization.NoEncryption())
    ours = read_plain_key(pem)
    assert ours is not None
    assert ours.private_numbers() == key.private_numbers()


def test_keys_not_read_here_are_left_to_cryptography() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    other_curve = ec.generate_private_key(ec.SECP256K1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    from cryptography.hazmat.primitives.asymmetric import ed25519

    edwards = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    plain = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for pem in (encrypted, other_curve, edwards, plain + plain, plain[:-40], b"garbage"):
        assert read_plain_key(pem) is None
