"""Would a device show the signer as Verified: mailsetup's path check (mobileconfig/trust.py).

Each case builds a real chain with cryptography and asks both mailsetup and cryptography's own
RFC 5280 verifier (with the CA rules of the Web PKI and no rule on the signer certificate,
which is the closest configuration it offers). Where the two are meant to agree they must;
the cases where they differ on purpose are tested apart, with the reason.
"""

from __future__ import annotations

import datetime as dt
import plistlib
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509 import verification as v
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsetup.mobileconfig.certs import Cert, parse_cert
from mailsetup.mobileconfig.trust import check_chain

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@dataclass
class Spec:
    """One certificate of a chain: what to vary from a well-formed CA or leaf."""

    name: str
    ca: bool = True
    key_type: str = "ec"
    valid_from: dt.datetime = NOW - 30 * DAY
    valid_to: dt.datetime = NOW + 300 * DAY
    path_length: int | None = None
    cert_sign: bool = True
    basic_constraints: bool = True
    eku: list[x509.ObjectIdentifier] | None = None
    extra: list[tuple[x509.ExtensionType, bool]] = field(default_factory=list)
    pss: bool = False
    sha1: bool = False  # this certificate signed with SHA-1 by its issuer


def _key(kind: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, int(kind.removeprefix("rsa") or 2048))
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _issue(spec: Spec, key, issuer_name: x509.Name, issuer_key) -> x509.Certificate:  # type: ignore[no-untyped-def]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec.name)])
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(spec.valid_from)
        .not_valid_after(spec.valid_to)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=spec.ca and spec.cert_sign,
                crl_sign=spec.ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if spec.basic_constraints:
        b = b.add_extension(
            x509.BasicConstraints(ca=spec.ca, path_length=spec.path_length if spec.ca else None),
            critical=True,
        )
    if not spec.ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("mail.example.ch")]), False)
    if spec.eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(spec.eku), critical=False)
    for ext, critical in spec.extra:
        b = b.add_extension(ext, critical=critical)
    if isinstance(issuer_key, ed25519.Ed25519PrivateKey):
        return b.sign(issuer_key, None)
    if spec.pss:
        pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
        return b.sign(issuer_key, hashes.SHA256(), rsa_padding=pss)
    cert = b.sign(issuer_key, hashes.SHA256())
    return _resign_with_sha1(cert, issuer_key) if spec.sha1 else cert


def _resign_with_sha1(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """The same certificate signed with SHA-1, which cryptography no longer makes: the
    algorithm identifier swapped (same length) and the signed part signed again."""
    from mailsetup.mobileconfig import der

    sha256_rsa = der.seq(der.oid_der("1.2.840.113549.1.1.11"), der.null_der())
    sha1_rsa = der.seq(der.oid_der("1.2.840.113549.1.1.5"), der.null_der())
    tbs = cert.tbs_certificate_bytes.replace(sha256_rsa, sha1_rsa)
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    encoded = der.seq(tbs, sha1_rsa, der.encode(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(encoded)


def chain(*specs: Spec) -> list[x509.Certificate]:
    """Root first, then each spec issued by the previous one; the last is the leaf."""
    certs, keys = [], []
    for i, spec in enumerate(specs):
        key = _key(spec.key_type)
        if i == 0:
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec.name)])
            cert = _issue(spec, key, name, key)
        else:
            cert = _issue(spec, key, certs[-1].subject, keys[-1])
        certs.append(cert)
        keys.append(key)
    return certs


def _ours(certs: list[x509.Certificate], roots: list[x509.Certificate] | None = None) -> bool:
    mine = [_mine(c) for c in certs]
    anchors = [_mine(c) for c in roots] if roots is not None else mine[:1]
    return check_chain(mine[-1], mine[1:-1], anchors, "test", NOW).verified


def _theirs(certs: list[x509.Certificate]) -> bool:
    verifier = (
        v.PolicyBuilder()
        .store(v.Store(certs[:1]))
        .time(NOW)
        .extension_policies(
            ca_policy=v.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=v.ExtensionPolicy.permit_all(),
        )
        .build_client_verifier()
    )
    try:
        verifier.verify(certs[-1], certs[1:-1])
    except v.VerificationError:
        return False
    return True


def _mine(cert: x509.Certificate) -> Cert:
    return parse_cert(cert.public_bytes(serialization.Encoding.DER))


def leaf(**kw: object) -> Spec:
    kw.setdefault("eku", [ExtendedKeyUsageOID.CLIENT_AUTH])  # what the client verifier wants
    return Spec("mail.example.ch", ca=False, **kw)  # type: ignore[arg-type]


_ONLY_OTHER_EXAMPLE = x509.NameConstraints([x509.DNSName("other.example")], None)
CASES = {
    "root, intermediate, leaf": ([Spec("Root"), Spec("Intermediate"), leaf()], True),
    "two intermediates": ([Spec("Root"), Spec("A"), Spec("B"), leaf()], True),
    "RSA all the way": (
        [Spec("Root", key_type="rsa"), Spec("Int", key_type="rsa"), leaf(key_type="rsa")],
        True,
    ),
    "RSA-PSS signatures": (
        [Spec("Root", key_type="rsa"), Spec("Int", key_type="rsa", pss=True), leaf(pss=True)],
        True,
    ),
    "leaf straight from the root": ([Spec("Root"), leaf()], True),
    "intermediate signed with SHA-1": (
        [Spec("Root", key_type="rsa"), Spec("Int", sha1=True), leaf()],
        False,
    ),
    "leaf signed with SHA-1": (
        [Spec("Root"), Spec("Int", key_type="rsa"), leaf(sha1=True)],
        False,
    ),
    "1024-bit RSA intermediate": (
        [Spec("Root", key_type="rsa"), Spec("Int", key_type="rsa1024"), leaf()],
        False,
    ),
    "expired intermediate": ([Spec("Root"), Spec("Int", valid_to=NOW - DAY), leaf()], False),
    "intermediate not yet valid": (
        [Spec("Root"), Spec("Int", valid_from=NOW + DAY), leaf()],
        False,
    ),
    "expired leaf": ([Spec("Root"), Spec("Int"), leaf(valid_to=NOW - DAY)], False),
    "expired root": ([Spec("Root", valid_to=NOW - DAY), Spec("Int"), leaf()], False),
    "intermediate is no CA": ([Spec("Root"), Spec("Int", ca=False), leaf()], False),
    "intermediate may not sign certificates": (
        [Spec("Root"), Spec("Int", cert_sign=False), leaf()],
        False,
    ),
    "path length 0 with a CA below": (
        [Spec("Root"), Spec("A", path_length=0), Spec("B"), leaf()],
        False,
    ),
    "path length 1 with a CA below": (
        [Spec("Root"), Spec("A", path_length=1), Spec("B"), leaf()],
        True,
    ),
    "unknown critical extension on the intermediate": (
        [
            Spec(
                "Root",
            ),
            Spec(
                "Int",
                extra=[
                    (
                        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"),
                        True,
                    )
                ],
            ),
            leaf(),
        ],
        False,
    ),
    "name constraints the signer breaks, marked non-critical": (
        [Spec("Root"), Spec("Int", extra=[(_ONLY_OTHER_EXAMPLE, False)]), leaf()],
        False,
    ),
    "unknown critical extension on the signer": (
        [
            Spec("Root"),
            Spec("Int"),
            leaf(
                extra=[
                    (
                        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"),
                        True,
                    )
                ]
            ),
        ],
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_verdict_agrees_with_cryptography(name: str) -> None:
    specs, expected = CASES[name]
    certs = chain(*specs)
    assert _theirs(certs) is expected, "the case no longer means what its name says"
    assert _ours(certs) is expected


def test_a_same_named_issuer_with_another_key_does_not_verify() -> None:
    certs = chain(Spec("Root"), Spec("Int"), leaf())
    impostor = chain(Spec("Root"), Spec("Int"))[1]  # same names, other keys
    mine = [_mine(c) for c in certs]
    verdict = check_chain(mine[2], [_mine(impostor)], [mine[0]], "test", NOW)
    assert not verdict.verified
    assert check_chain(mine[2], [_mine(impostor), mine[1]], [mine[0]], "test", NOW).verified


def test_a_missing_intermediate_or_foreign_root_does_not_verify() -> None:
    certs = chain(Spec("Root"), Spec("Int"), leaf())
    other_root = chain(Spec("Root"))[0]
    mine = [_mine(c) for c in certs]
    assert not check_chain(mine[2], [], [mine[0]], "test", NOW).verified
    assert not check_chain(mine[2], [mine[1]], [_mine(other_root)], "test", NOW).verified
    assert check_chain(mine[2], [mine[1]], [_mine(other_root), mine[0]], "test", NOW).verified


def test_a_ca_limited_to_tls_servers_may_still_sign_a_profile() -> None:
    """The reason mailsetup checks paths itself: cryptography's verifiers apply the TLS rules,
    and its client verifier refuses a chain whose intermediate limits certificates to TLS
    servers. A profile signature has no such rule (RFC 5280 basic path validation)."""
    certs = chain(
        Spec("Root"),
        Spec("Int", eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
        leaf(eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
    )
    assert _theirs(certs) is False
    assert _ours(certs) is True


def test_a_weak_signature_is_named_and_a_strong_path_beside_it_still_counts() -> None:
    root_key, int_key, leaf_key = _key("rsa"), _key("ec"), _key("ec")
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root")])
    root = _issue(Spec("Root"), root_key, root_name, root_key)
    intermediate = _issue(Spec("Int"), int_key, root_name, root_key)
    weak_twin = _resign_with_sha1(intermediate, root_key)  # type: ignore[arg-type]
    signer = _issue(leaf(), leaf_key, intermediate.subject, int_key)
    r, strong, weak, s_ = (_mine(c) for c in (root, intermediate, weak_twin, signer))
    verdict = check_chain(s_, [weak], [r], "test", NOW)
    assert not verdict.verified
    assert "SHA-1" in verdict.detail and "no longer trust" in verdict.detail
    # A signature devices refuse is a plain Unverified, not a rule mailsetup cannot apply.
    assert not verdict.detail.startswith("not verified")
    assert check_chain(s_, [weak, strong], [r], "test", NOW).verified


def test_an_algorithm_not_checked_here_is_named_not_guessed() -> None:
    certs = chain(Spec("Root", key_type="ed25519"), leaf())
    mine = [_mine(c) for c in certs]
    verdict = check_chain(mine[1], [], [mine[0]], "test", NOW)
    assert not verdict.verified
    assert "1.3.101.112" in verdict.detail and "does not check" in verdict.detail


def test_a_version_1_style_root_without_basic_constraints_is_a_root() -> None:
    certs = chain(Spec("Root", basic_constraints=False), Spec("Int"), leaf())
    assert _ours(certs) is True
    no_ca = chain(Spec("Root"), Spec("Int", basic_constraints=False), leaf())
    assert _ours(no_ca) is False  # an intermediate must say it is a CA


def test_loops_and_long_chains_end() -> None:
    specs = [Spec("Root")] + [Spec(f"CA{i}") for i in range(12)] + [leaf()]
    certs = chain(*specs)
    assert _ours(certs) is False  # longer than MAX_PATH: not followed for ever
    assert _ours(certs[:5] + certs[-1:]) is False  # a gap


def test_same_named_cas_that_issue_each_other_end_the_search() -> None:
    """Anyone can make CA certificates that share a name and a key, so each issues all the
    others: n of them offer n!/(n-8)! paths (19 in a hostile profile: billions). The search
    stops at a budget and says why, and a chain among such decoys still verifies."""
    key = _key("ec")
    loop = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loop CA")])
    cas = [_mine(_issue(Spec("Loop CA"), key, loop, key)) for _ in range(7)]
    signer = _mine(_issue(leaf(), _key("ec"), loop, key))
    root = _mine(chain(Spec("Unrelated root"))[0])
    verdict = check_chain(signer, cas, [root], "test", NOW)
    assert not verdict.verified
    assert "ways to build the chain" in verdict.detail

    certs = chain(Spec("Root"), Spec("Int"), leaf())
    decoys = [_mine(c) for c in (chain(Spec("Root"), Spec("Int"))[1] for _ in range(20))]
    mine = [_mine(c) for c in certs]
    assert check_chain(mine[2], [*decoys, mine[1]], [mine[0]], "test", NOW).verified


@pytest.mark.parametrize("critical", [True, False])
@pytest.mark.parametrize(
    "constraint",
    [
        x509.NameConstraints([x509.DNSName("example.ch")], None),
        x509.PolicyConstraints(require_explicit_policy=0, inhibit_policy_mapping=None),
    ],
    ids=["name", "policy"],
)
def test_constraints_on_a_ca_are_named_not_guessed(
    constraint: x509.ExtensionType, critical: bool
) -> None:
    """Name and policy constraints are not applied here, so a chain with one is not called
    Verified, whether the CA marked it critical (as RFC 5280 asks) or not (which CAs do, and
    which OpenSSL, cryptography and Apple apply anyway), even where the signer meets it."""
    certs = chain(Spec("Root"), Spec("Int", extra=[(constraint, critical)]), leaf())
    mine = [_mine(c) for c in certs]
    verdict = check_chain(mine[2], [mine[1]], [mine[0]], "test", NOW)
    assert not verdict.verified
    assert type(constraint).__name__.removesuffix("Constraints").lower() in verdict.detail


_POOL = {
    "ec": [ec.generate_private_key(ec.SECP256R1()) for _ in range(5)],
    "rsa": [rsa.generate_private_key(65537, 2048) for _ in range(5)],
}
_WINDOWS = {
    "valid": (NOW - 30 * DAY, NOW + 300 * DAY),
    "expired": (NOW - 300 * DAY, NOW - DAY),
    "not yet": (NOW + DAY, NOW + 300 * DAY),
}
# Mostly well-formed, so that the one defect a chain has decides the verdict.
_MOSTLY = st.sampled_from([True, True, True, False])
_WINDOW = st.sampled_from(["valid", "valid", "valid", "valid", "expired", "not yet"])
_CA = st.tuples(
    _MOSTLY,  # a CA
    _MOSTLY,  # may sign certificates
    st.sampled_from([None, 0, 1, 2]),  # path length
    _WINDOW,
    st.sampled_from(["ec", "rsa", "rsa-pss"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_CA, min_size=1, max_size=4),
    _WINDOW,
    st.sampled_from(["ec", "rsa"]),
    st.randoms(use_true_random=False),
)
def test_generated_chains_get_cryptographys_verdict(
    cas: list[tuple[bool, bool, int | None, str, str]],
    leaf_window: str,
    leaf_key: str,
    rnd: random.Random,
) -> None:
    """Chains of up to four CAs, each a CA or not, allowed to sign certificates or not, with
    a path length, valid, expired or not yet valid, RSA (PKCS#1 v1.5 or PSS) or EC; the
    intermediates given in any order. Within the rules both apply, the verdicts agree."""
    slots = rnd.sample(range(5), len(cas) + 1)
    specs, keys = [], []
    for i, (ca, cert_sign, path_length, window, kind) in enumerate(cas):
        specs.append(
            Spec(
                f"CA{i}",
                ca=ca or i == 0,
                cert_sign=cert_sign,
                path_length=path_length,
                valid_from=_WINDOWS[window][0],
                valid_to=_WINDOWS[window][1],
                key_type=kind.removesuffix("-pss"),
            )
        )
        keys.append(_POOL[kind.removesuffix("-pss")][slots[i]])
    specs.append(leaf(valid_from=_WINDOWS[leaf_window][0], valid_to=_WINDOWS[leaf_window][1]))
    keys.append(_POOL[leaf_key][slots[-1]])
    certs: list[x509.Certificate] = []
    for i, (spec, key) in enumerate(zip(specs, keys, strict=True)):
        issuer_key = keys[i - 1] if i else key
        spec.pss = isinstance(issuer_key, rsa.RSAPrivateKey) and cas[max(i - 1, 0)][4] == "rsa-pss"
        issuer_name = (
            certs[-1].subject
            if i
            else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, spec.name)])
        )
        certs.append(_issue(spec, key, issuer_name, issuer_key))
    middle = certs[1:-1]
    rnd.shuffle(middle)
    ordered = [certs[0], *middle, certs[-1]]
    assert _ours(ordered) is _theirs(ordered)


def test_signing_and_inspect_say_why_they_cannot_tell_rather_than_no_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chain that reaches the store through a CA with name constraints: mailsetup does not
    apply them, so it cannot promise Verified; but the chain is there, and "does not chain to
    a (trusted) root" would send the user looking for a missing intermediate."""
    from mailsetup.mobileconfig.inspect import inspect_profiles
    from mailsetup.mobileconfig.sign import SignRequest, load_signer, sign_bytes

    keys = [_key("ec") for _ in range(3)]
    now = dt.datetime.now(dt.UTC)  # load_signer checks against the clock
    start, end = now - DAY, now + 60 * DAY
    limit = x509.NameConstraints([x509.DNSName("example.ch")], None)
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root")])
    root = _issue(Spec("Root", valid_from=start, valid_to=end), keys[0], root_name, keys[0])
    constrained = Spec("Int", valid_from=start, valid_to=end, extra=[(limit, True)])
    inter = _issue(constrained, keys[1], root_name, keys[0])
    signer = _issue(leaf(valid_from=start, valid_to=end), keys[2], inter.subject, keys[1])
    pem = serialization.Encoding.PEM
    files = {name: tmp_path / f"{name}.pem" for name in ("root", "int", "leaf", "key")}
    files["root"].write_bytes(root.public_bytes(pem))
    files["int"].write_bytes(inter.public_bytes(pem))
    files["leaf"].write_bytes(signer.public_bytes(pem))
    files["key"].write_bytes(
        keys[2].private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(files["root"]))
    signer = load_signer(SignRequest(files["leaf"], files["key"], files["int"]))
    summary = signer.summary()
    assert "cannot tell" in summary and "name constraints" in summary
    assert "does not chain" not in summary
    profile = tmp_path / "signed.mobileconfig"
    profile.write_bytes(sign_bytes(plistlib.dumps({"PayloadVersion": 1}), signer))
    (report,) = inspect_profiles([profile], provider=None, ca_file=files["root"])
    (finding,) = [f for f in report.findings if f.code == "signer-not-trusted"]
    assert "cannot tell" in finding.message and "name constraints" in finding.message
