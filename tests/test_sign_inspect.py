"""Round trip: a profile signed by ``profile --sign-*`` reads back in ``inspect`` with its
signer, the same payload table as unsigned, and no errors; tampering is an error (exit 1)."""

from __future__ import annotations

import json
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.cli import assert_one_line_error, clean_env, run
from tests.support.signing import Leaf, SigningCA

EMAIL = "jane.doe@example.ch"


@pytest.fixture(scope="module")
def leaf(tmp_path_factory: pytest.TempPathFactory) -> Leaf:
    return SigningCA(tmp_path_factory.mktemp("rt")).leaf()


@pytest.fixture(scope="module")
def pair(leaf: Leaf, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pair")
    plain, signed = folder / "plain.mobileconfig", folder / "signed.mobileconfig"
    assert run("profile", "-e", EMAIL, "-o", str(plain)).returncode == 0
    args = ["--sign-cert", str(leaf.fullchain), "--sign-key", str(leaf.key)]
    assert run("profile", "-e", EMAIL, *args, "-o", str(signed)).returncode == 0
    return plain, signed


def test_signed_profile_shows_signer_and_same_payloads(pair: tuple[Path, Path], leaf: Leaf) -> None:
    plain, signed = pair
    proc = run("inspect", "--json", "--ca-file", str(leaf.root), str(plain), str(signed))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    a, b = json.loads(proc.stdout)["files"]
    assert (a["container"], b["container"]) == ("xml", "signed")
    assert a["payloads"] == b["payloads"]
    assert b["findings"] == [] and a["findings"] == []
    sig = b["signature"]
    assert sig["subject"].startswith("CN=mail")
    assert sig["signature_valid"] is True and sig["chain_verified"] is True
    assert sig["not_after"] > sig["not_before"]


def test_text_report_names_signer_and_device_verdict(pair: tuple[Path, Path], leaf: Leaf) -> None:
    _, signed = pair
    trusted = run("inspect", "--ca-file", str(leaf.root), str(signed))
    assert "signed by CN=mail" in trusted.stdout
    assert "device shows Verified" in trusted.stdout
    system = run("inspect", str(signed))  # the test CA is in no system store
    assert system.returncode == 0
    assert "device shows Unverified" in system.stdout
    assert "warning [signer-not-trusted]" in system.stdout


def test_tampered_signed_profile_is_an_error(
    pair: tuple[Path, Path], tmp_path: Path, leaf: Leaf
) -> None:
    _, signed = pair
    data = bytearray(signed.read_bytes())
    data[data.index(b"mail.infomaniak.com")] ^= 0x20
    bad = tmp_path / "bad.mobileconfig"
    bad.write_bytes(bytes(data))
    proc = run("inspect", str(bad))
    assert proc.returncode == 1
    assert "error [signature-invalid]" in proc.stdout
    assert "changed after it was signed" in proc.stdout
    # The signer's chain still reaches the root, but the device refuses the file: a chain
    # that verifies must not make the report say Verified.
    trusted = run("inspect", "--ca-file", str(leaf.root), str(bad))
    assert "chain reaches" in trusted.stdout
    assert "Verified" not in trusted.stdout.replace("Unverified", "")
    assert "device refuses the profile" in trusted.stdout


def test_a_whole_ca_bundle_is_a_ca_file(
    pair: tuple[Path, Path], leaf: Leaf, tmp_path: Path
) -> None:
    """--ca-file may be a CA bundle like the system's (about 150 roots), not only one root."""
    _, signed = pair
    others = SigningCA(tmp_path).root.cert_pem.bytes()
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(others * 199 + leaf.root.read_bytes())
    proc = run("inspect", "--json", "--ca-file", str(bundle), str(signed))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (entry,) = json.loads(proc.stdout)["files"]
    assert entry["signature"]["chain_verified"] is True


def test_ca_file_errors(pair: tuple[Path, Path], tmp_path: Path) -> None:
    _, signed = pair
    assert_one_line_error(
        run("inspect", "--ca-file", str(tmp_path / "none.pem"), str(signed)), 2, "no such file"
    )
    junk = tmp_path / "junk.pem"
    junk.write_text("nothing\n")
    assert_one_line_error(run("inspect", "--ca-file", str(junk), str(signed)), 2, "no PEM")


def _modules_after(args: list[str], cwd: Path) -> list[str]:
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['mailsetup', *{args!r}]\n"
        "try:\n    runpy.run_module('mailsetup', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('cryptography', 'asn1crypto', 'yaml', 'vobject', 'jinja2', 'cryptography.x509',"
        " 'cryptography.hazmat.primitives.serialization', 'hashlib', 'mailsetup.inspect.report')\n"
        "print('LOADED:' + ','.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    env = clean_env()
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("LOADED:"), proc.stderr
    return [m for m in last.removeprefix("LOADED:").split(",") if m]


def test_inspecting_an_unsigned_profile_loads_no_crypto(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    plain, signed = pair
    assert _modules_after(["inspect", str(plain)], tmp_path) == []
    assert _modules_after(["inspect", str(signed)], tmp_path) == ["cryptography"]


def test_signing_loads_cryptography_primitives_only(leaf: Leaf, tmp_path: Path) -> None:
    """The speed design of docs/signing.md: no x509, pkcs7 or serialization package (their
    imports cost more than the signature), and no asn1crypto, on the signing path."""
    args = ["profile", "-e", "a@example.ch", "--sign-cert", str(leaf.cert)]
    out = str(tmp_path / "p.mobileconfig")
    loaded = _modules_after([*args, "--sign-key", str(leaf.key), "-o", out], tmp_path)
    assert Path(out).read_bytes()[:1] == b"\x30"
    assert "cryptography" in loaded
    assert not {
        "asn1crypto",
        "cryptography.x509",
        "cryptography.hazmat.primitives.serialization",
    } & set(loaded)


@pytest.mark.parametrize(
    "extra",
    [["-stream"], ["-md", "sha512"], ["-noattr"], ["-keyopt", "rsa_padding_mode:pss"]],
    ids=["ber-indefinite-length", "sha512", "no-signed-attributes", "rsa-pss"],
)
def test_profiles_signed_by_openssl_read_back(
    pair: tuple[Path, Path], leaf: Leaf, tmp_path: Path, extra: list[str]
) -> None:
    """Another producer: OpenSSL's CMS signer, streaming BER, another digest, no attributes,
    RSA-PSS."""
    from tests.conftest import require_binary

    plain, _ = pair
    out = tmp_path / "openssl.mobileconfig"
    subprocess.run(
        [require_binary("openssl"), "cms", "-sign", "-binary", "-nodetach", "-outform", "DER",
         "-in", str(plain), "-signer", str(leaf.cert), "-inkey", str(leaf.key),
         "-certfile", str(leaf.chain), "-out", str(out), *extra],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    proc = run("inspect", "--json", "--ca-file", str(leaf.root), str(out))
    assert proc.returncode == 0, proc.stdout
    (entry,) = json.loads(proc.stdout)["files"]
    assert entry["findings"] == []
    assert entry["signature"]["signature_valid"] is True
    assert entry["signature"]["chain_verified"] is True


def test_a_key_mailsetup_cannot_check_is_named_not_called_broken(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """An EC key given by its curve's parameters instead of the curve's name (RFC 5480 allows
    it, OpenSSL writes it on request): inspect shows the signer and says the signature was not
    checked, rather than "the signer information is broken" (an error: will not install); and
    signing names the reason rather than saying the key does not belong to the certificate."""
    from tests.conftest import require_binary

    openssl = require_binary("openssl")
    plain, _ = pair
    key, cert, out = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "x.mobileconfig"
    for args in (
        ["ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey", "-noout",
         "-out", str(key)],
        ["req", "-x509", "-key", str(key), "-out", str(cert), "-days", "30",
         "-subj", "/CN=explicit.example.ch"],
        ["cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-in", str(plain),
         "-signer", str(cert), "-inkey", str(key), "-out", str(out)],
    ):  # fmt: skip
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=30)
    proc = run("inspect", "--json", "--ca-file", str(cert), str(out))
    assert proc.returncode == 0, proc.stdout
    (entry,) = json.loads(proc.stdout)["files"]
    assert entry["signature"]["subject"] == "CN=explicit.example.ch"
    assert entry["signature"]["signature_valid"] is None
    assert [f["code"] for f in entry["findings"]] == ["signature-unchecked"]
    target = tmp_path / "signed.mobileconfig"
    signing = run(
        "profile", "-e", EMAIL, "--sign-cert", str(cert), "--sign-key", str(key), "-o", str(target)
    )
    assert_one_line_error(signing, 2, "given by its parameters")
    assert not target.exists()


def test_altered_signature_bytes_are_an_error(pair: tuple[Path, Path], leaf: Leaf) -> None:
    from mailsetup.mobileconfig.read import read_profile
    from tests.support.signing import load_root

    _, signed = pair
    data = bytearray(signed.read_bytes())
    data[-1] ^= 0x01  # the last byte belongs to the signature value
    report = read_profile(bytes(data), "x", roots=load_root(leaf))
    assert report.signature is not None and report.signature.valid is False
    assert report.signature.detail == "the signature does not match the profile"


@pytest.fixture(scope="module")
def signer(leaf: Leaf) -> object:
    from mailsetup.mobileconfig.sign import SignRequest, load_signer

    return load_signer(SignRequest(leaf.fullchain, leaf.key))


names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=names, services=st.sets(st.sampled_from(["mail", "caldav", "carddav"]), min_size=1))
def test_signed_then_read_gives_the_same_profile_and_no_errors(
    signer: object, leaf: Leaf, name: str, services: set[str]
) -> None:
    """Whatever the display name and services: signing changes nothing inside, and inspect
    finds the signature valid, the chain trusted and nothing to lint."""
    from mailsetup.account import make_account
    from mailsetup.errors import BadInput
    from mailsetup.mobileconfig.lint import lint_profile
    from mailsetup.mobileconfig.read import read_profile
    from mailsetup.mobileconfig.sign import sign_bytes
    from mailsetup.provider import load_provider
    from mailsetup.render import RenderOptions, render
    from tests.support.signing import load_root

    try:
        account = make_account("jane.doe@example.ch", name, "AB12345")
    except BadInput:
        assume(False)
        return
    options = RenderOptions(services=frozenset(services))
    (plain,) = render("apple", account, load_provider(), options).files
    report = read_profile(sign_bytes(plain.data, signer), "x", roots=load_root(leaf))  # type: ignore[arg-type]
    assert report.plist == plistlib.loads(plain.data)
    assert report.signature is not None and report.signature.valid is True
    assert report.signature.trust is not None and report.signature.trust.verified
    assert lint_profile(report.plist, signed=True) == []
