"""The CMS that ``sign_bytes`` writes, field by field against cryptography's PKCS#7 builder.

mailsetup assembles the SignedData itself (mailsetup/mobileconfig/sign.py) to keep
cryptography's ``pkcs7`` and ``x509`` modules off the signing path. Here both are given the
same content, certificate and key, and the two results are read with asn1crypto's CMS classes:
every field must match except the signing time, the signature (over that time), and the
S/MIME capabilities attribute cryptography adds for mail (it says which ciphers a mail
client accepts; a profile is never encrypted to its signer). ``openssl cms -verify`` on the
output is in tests/test_sign.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from mailsetup.errors import BadInput
from mailsetup.mobileconfig.sign import Signer, SignRequest, load_signer, sign_bytes
from tests.support.signing import Leaf, SigningCA

CONTENT = b'<?xml version="1.0"?>\r\n<plist version="1.0"><dict/></plist>\n'
SKIPPED_ATTRIBUTES = {"signing_time", "smime_capabilities"}


@pytest.fixture(scope="module", params=["rsa", "ec"])
def leaf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Leaf:
    return SigningCA(tmp_path_factory.mktemp("structure")).leaf(key_type=request.param)


def _theirs(leaf: Leaf) -> bytes:
    cert = x509.load_pem_x509_certificate(leaf.cert.read_bytes())
    key = serialization.load_pem_private_key(leaf.key.read_bytes(), password=None)
    chain = x509.load_pem_x509_certificates(leaf.chain.read_bytes())
    builder = pkcs7.PKCS7SignatureBuilder().set_data(CONTENT).add_signer(cert, key, hashes.SHA256())  # type: ignore[arg-type]
    for extra in chain:
        builder = builder.add_certificate(extra)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def _fields(signed: bytes) -> dict[str, Any]:
    info = cms.ContentInfo.load(signed)
    data = info["content"]
    signer = data["signer_infos"][0]
    attributes = {
        a["type"].native: a["values"].native
        for a in signer["signed_attrs"]
        if a["type"].native not in SKIPPED_ATTRIBUTES
    }
    return {
        "content_type": info["content_type"].native,
        "version": data["version"].native,
        "digest_algorithms": data["digest_algorithms"].dump(),
        "encap": data["encap_content_info"].dump(),
        "certificates": sorted(c.dump() for c in data["certificates"]),
        "crls": data["crls"].native,
        "signer_version": signer["version"].native,
        "sid": signer["sid"].dump(),
        "digest_algorithm": signer["digest_algorithm"].dump(),
        "signed_attrs": attributes,
        "signature_algorithm": signer["signature_algorithm"].dump(),
        "unsigned_attrs": signer["unsigned_attrs"].native,
    }


def test_the_structure_matches_cryptographys_builder(leaf: Leaf) -> None:
    signer = load_signer(SignRequest(leaf.cert, leaf.key, leaf.chain))
    ours = sign_bytes(CONTENT, signer)
    assert _fields(ours) == _fields(_theirs(leaf))
    info = cms.ContentInfo.load(ours)
    assert info.dump(force=True) == ours, "not DER: asn1crypto re-encodes it differently"
    attrs = {a["type"].native: a for a in info["content"]["signer_infos"][0]["signed_attrs"]}
    assert set(attrs) == {"content_type", "signing_time", "message_digest"}


def test_the_signing_time_is_the_time_given_and_rsa_output_is_stable(leaf: Leaf) -> None:
    signer = load_signer(SignRequest(leaf.cert, leaf.key, leaf.chain))
    when = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    first = sign_bytes(CONTENT, signer, now=when)
    attrs = cms.ContentInfo.load(first)["content"]["signer_infos"][0]["signed_attrs"]
    assert {a["type"].native: a["values"].native[0] for a in attrs}["signing_time"] == when
    if isinstance(signer.key, rsa.RSAPrivateKey):  # PKCS#1 v1.5 is deterministic
        assert sign_bytes(CONTENT, signer, now=when) == first


def test_a_signature_that_does_not_verify_never_leaves(leaf: Leaf) -> None:
    """The key is loaded without RSA validation (30 ms); the guard is that every signature is
    verified with the certificate's key first. A signer whose key is not the certificate's
    (which load_signer refuses, so it is built by hand here) must fail, not write."""
    signer = load_signer(SignRequest(leaf.cert, leaf.key, leaf.chain))
    foreign = (
        rsa.generate_private_key(65537, 2048)
        if isinstance(signer.key, rsa.RSAPrivateKey)
        else ec.generate_private_key(ec.SECP256R1())
    )
    broken = Signer(signer.cert, foreign, signer.public, signer.intermediates, signer.trust, [])
    with pytest.raises(BadInput, match="does not verify"):
        sign_bytes(CONTENT, broken)


def test_an_intermediate_with_the_right_name_but_another_key_is_not_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain is ordered by names (no EC backend on the signing path); the signatures are
    checked with the trust path: an impostor intermediate (the real one's name, another key)
    makes the verdict "not verified", and the real one next to it still counts."""
    ca = SigningCA(tmp_path)
    signer_files = ca.leaf(key_type="rsa")
    real = x509.load_pem_x509_certificate(signer_files.chain.read_bytes())
    root_key = serialization.load_pem_private_key(ca.root.private_key_pem.bytes(), password=None)
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    impostor = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(impostor_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    fake_chain = tmp_path / "impostor.pem"
    fake_chain.write_bytes(impostor.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("SSL_CERT_FILE", str(signer_files.root))
    fooled = load_signer(SignRequest(signer_files.cert, signer_files.key, fake_chain))
    assert not fooled.trust.verified and "Unverified" in fooled.summary()
    both = tmp_path / "both.pem"
    both.write_bytes(fake_chain.read_bytes() + signer_files.chain.read_bytes())
    assert load_signer(SignRequest(signer_files.cert, signer_files.key, both)).trust.verified
    real_only = load_signer(SignRequest(signer_files.cert, signer_files.key, signer_files.chain))
    assert real_only.trust.verified
