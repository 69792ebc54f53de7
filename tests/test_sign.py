"""``profile --sign-cert/--sign-key/--sign-chain``: CMS SignedData that OpenSSL verifies.

The consumer here is ``openssl cms -verify`` (the same CMS code path macOS's ``security cms``
follows): it must accept our file against the test root and give back the unsigned profile
byte for byte; one altered byte must fail. Bad signing material is one line, exit 2 (5 when no
passphrase can be had), and nothing is written.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mailsetup.mobileconfig.certs import pem_blocks
from tests.cli import assert_one_line_error, clean_env, run
from tests.support.signing import Leaf, SigningCA, openssl_verify

EMAIL = "jane.doe@example.ch"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> SigningCA:
    return SigningCA(tmp_path_factory.mktemp("signing"))


@pytest.fixture(scope="module")
def leaf(ca: SigningCA) -> Leaf:
    return ca.leaf()


def sign_args(leaf: Leaf, *, chain: bool = True) -> list[str]:
    args = ["--sign-cert", str(leaf.cert), "--sign-key", str(leaf.key)]
    return [*args, "--sign-chain", str(leaf.chain)] if chain else args


@pytest.mark.parametrize(
    "client_args",
    [["--client", "apple"], ["--client", "dav", "--format", "mobileconfig"]],
    ids=["apple", "dav-mobileconfig"],
)
def test_openssl_verifies_and_content_is_the_unsigned_profile(
    tmp_path: Path, leaf: Leaf, client_args: list[str]
) -> None:
    plain = run("profile", "-e", EMAIL, *client_args, "-o", str(tmp_path / "plain.mobileconfig"))
    assert plain.returncode == 0, plain.stderr
    signed = run(
        "profile",
        "-e",
        EMAIL,
        *client_args,
        *sign_args(leaf),
        "-o",
        str(tmp_path / "signed.mobileconfig"),
    )
    assert signed.returncode == 0, signed.stderr
    assert "Signed by CN=mail" in signed.stdout
    proc = openssl_verify(tmp_path / "signed.mobileconfig", leaf.root, tmp_path / "content")
    assert proc.returncode == 0, proc.stderr
    assert "Verification successful" in proc.stderr
    assert (tmp_path / "content").read_bytes() == (tmp_path / "plain.mobileconfig").read_bytes()


def test_an_altered_byte_fails_verification(tmp_path: Path, leaf: Leaf) -> None:
    out = tmp_path / "signed.mobileconfig"
    assert run("profile", "-e", EMAIL, *sign_args(leaf), "-o", str(out)).returncode == 0
    data = bytearray(out.read_bytes())
    at = data.index(b"mail.infomaniak.com")
    data[at] ^= 0x01
    out.write_bytes(bytes(data))
    proc = openssl_verify(out, leaf.root, tmp_path / "content")
    assert proc.returncode != 0
    assert "Verification successful" not in proc.stderr


def test_fullchain_file_and_ec_key_sign_too(tmp_path: Path, ca: SigningCA) -> None:
    ec_leaf = ca.leaf(key_type="ec")
    out = tmp_path / "ec.mobileconfig"
    proc = run(
        "profile",
        "-e",
        EMAIL,
        "--sign-cert",
        str(ec_leaf.fullchain),
        "--sign-key",
        str(ec_leaf.key),
        "--sign-chain",  # certbot's chain.pem as well: the intermediate twice is no error
        str(ec_leaf.chain),
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert openssl_verify(out, ec_leaf.root, tmp_path / "c").returncode == 0
    (intermediate,) = pem_blocks(ec_leaf.chain.read_bytes())
    assert out.read_bytes().count(intermediate) == 1


def test_device_verdict_follows_the_trust_store(tmp_path: Path, leaf: Leaf) -> None:
    """Against the system store the test CA is unknown: "Unverified"; with the test root as the
    store (SSL_CERT_FILE is what OpenSSL, and so Python's default paths, read): "Verified"."""
    proc = run("profile", "-e", EMAIL, *sign_args(leaf), "-o", str(tmp_path / "a.mobileconfig"))
    assert "Unverified" in proc.stdout
    proc = run(
        "profile",
        "-e",
        EMAIL,
        *sign_args(leaf),
        "-o",
        str(tmp_path / "b.mobileconfig"),
        env={"SSL_CERT_FILE": str(leaf.root)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "devices will show it as Verified" in proc.stdout


def test_stdout_output_keeps_messages_off_the_profile(tmp_path: Path, leaf: Leaf) -> None:
    proc = subprocess.run(
        [os.sys.executable, "-m", "mailsetup", "profile", "-e", EMAIL, *sign_args(leaf), "-o", "-"],
        capture_output=True,
        timeout=60,
        env=clean_env(),
    )
    assert proc.returncode == 0
    assert proc.stdout[:1] == b"\x30"  # DER SEQUENCE: only the signed profile
    assert b"Signed by" in proc.stderr


def test_encrypted_key_passphrase_from_environment(tmp_path: Path, ca: SigningCA) -> None:
    locked = ca.leaf(passphrase=b"correct horse")
    args = [
        "profile",
        "-e",
        EMAIL,
        "--sign-cert",
        str(locked.fullchain),
        "--sign-key",
        str(locked.key),
    ]
    ok = run(
        *args,
        "-o",
        str(tmp_path / "ok.mobileconfig"),
        env={"MAILSETUP_SIGN_PASSPHRASE": "correct horse"},
    )
    assert ok.returncode == 0, ok.stderr
    assert "correct horse" not in ok.stdout + ok.stderr
    wrong = run(
        *args, "-o", str(tmp_path / "w.mobileconfig"), env={"MAILSETUP_SIGN_PASSPHRASE": "wrong"}
    )
    assert_one_line_error(wrong, 2, "wrong passphrase")
    none = run(*args, "-o", str(tmp_path / "n.mobileconfig"))  # no env, no keyring, no terminal
    assert_one_line_error(none, 5, "no passphrase available", "MAILSETUP_SIGN_PASSPHRASE")
    assert not (tmp_path / "w.mobileconfig").exists()
    assert not (tmp_path / "n.mobileconfig").exists()


def test_legacy_encrypted_key_and_a_broken_dek_info_header(tmp_path: Path, leaf: Leaf) -> None:
    """The old OpenSSL form (Proc-Type: 4,ENCRYPTED; DEK-Info: cipher,IV) signs; an IV shorter
    than the cipher's block made cryptography's Rust code panic, a traceback."""
    import re

    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(leaf.key.read_bytes(), password=None)
    legacy = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert b"Proc-Type: 4,ENCRYPTED" in legacy
    good, broken = tmp_path / "legacy.pem", tmp_path / "short-iv.pem"
    good.write_bytes(legacy)
    broken.write_bytes(re.sub(rb"(DEK-Info: [A-Z0-9-]+,[0-9A-F]{16})[0-9A-F]+", rb"\1", legacy))
    env = {"MAILSETUP_SIGN_PASSPHRASE": "pw"}
    for path, code in ((good, 0), (broken, 2)):
        out = tmp_path / f"{path.stem}.mobileconfig"
        args = ["--sign-cert", str(leaf.fullchain), "--sign-key", str(path), "-o", str(out)]
        proc = run("profile", "-e", EMAIL, *args, env=env)
        if code:
            assert_one_line_error(proc, 2, "not a readable private key")
        assert proc.returncode == code, proc.stderr
        assert out.exists() is (code == 0)


def test_expired_certificate_is_refused(tmp_path: Path, ca: SigningCA) -> None:
    old = ca.leaf(days_left=-1)
    proc = run("profile", "-e", EMAIL, *sign_args(old), "-o", str(tmp_path / "x.mobileconfig"))
    assert_one_line_error(proc, 2, "expired")
    assert not (tmp_path / "x.mobileconfig").exists()


def test_expiring_and_usage_warnings(tmp_path: Path, ca: SigningCA) -> None:
    soon = ca.leaf(days_left=10.5)
    proc = run("profile", "-e", EMAIL, *sign_args(soon), "-o", str(tmp_path / "s.mobileconfig"))
    assert proc.returncode == 0, proc.stderr
    assert "mailsetup: warning: the signing certificate expires in 10 days" in proc.stderr
    nosig = ca.leaf(digital_signature=False)
    proc = run("profile", "-e", EMAIL, *sign_args(nosig), "-o", str(tmp_path / "u.mobileconfig"))
    assert proc.returncode == 0, proc.stderr
    assert "digitalSignature" in proc.stderr


def test_embedded_password_is_said_to_stay_readable(tmp_path: Path, leaf: Leaf) -> None:
    proc = run(
        "profile",
        "-e",
        EMAIL,
        "--embed-password",
        *sign_args(leaf),
        "-o",
        str(tmp_path / "p.mobileconfig"),
        env={"MAILSETUP_PASSWORD": "s3cret-Pw"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "still readable inside the signed file" in proc.stderr
    assert b"s3cret-Pw" in (tmp_path / "p.mobileconfig").read_bytes()  # what the warning says
    assert "s3cret-Pw" not in proc.stdout + proc.stderr


def _self_signed_on_secp256k1(folder: Path) -> tuple[Path, Path]:
    """A certificate and its key on a curve devices do not check (the key is cryptography's
    to load, the certificate mailsetup's to refuse by name)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256K1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k1.example.ch")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .sign(key, hashes.SHA256())
    )
    paths = folder / "k1.crt", folder / "k1.key"
    paths[0].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def test_bad_signing_material(tmp_path: Path, ca: SigningCA, leaf: Leaf) -> None:
    other = ca.leaf()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello\n")
    unrelated = SigningCA(tmp_path).leaf()
    truncated = tmp_path / "truncated-fullchain.pem"
    truncated.write_bytes(leaf.fullchain.read_bytes()[:-60])
    k1_cert, k1_key = _self_signed_on_secp256k1(tmp_path)
    cases = [
        (["--sign-cert", str(k1_cert), "--sign-key", str(k1_key)], 2, "P-256"),
        (["--sign-cert", str(truncated), "--sign-key", str(leaf.key)], 2, "no END CERTIFICATE"),
        (
            ["--sign-cert", str(tmp_path / "missing.pem"), "--sign-key", str(leaf.key)],
            2,
            "no such file",
        ),
        (["--sign-cert", str(garbage), "--sign-key", str(leaf.key)], 2, "no PEM certificate"),
        (["--sign-cert", str(leaf.cert), "--sign-key", str(garbage)], 2, "no PEM private key"),
        (["--sign-cert", str(leaf.cert), "--sign-key", str(other.key)], 2, "does not belong"),
        (
            [*sign_args(leaf, chain=False), "--sign-chain", str(unrelated.chain)],
            2,
            "does not chain",
        ),
        (["--sign-cert", str(leaf.cert)], 2, "--sign-key"),
        (["--sign-key", str(leaf.key)], 2, "--sign-cert"),
        (["--client", "thunderbird", *sign_args(leaf)], 2, ".mobileconfig"),
    ]
    for args, code, words in cases:
        target = tmp_path / "out"
        proc = run("profile", "-e", EMAIL, *args, "-o", str(target))
        assert_one_line_error(proc, code, words)
        assert not target.exists(), args


def test_sign_options_load_cryptography_only_when_used(tmp_path: Path) -> None:
    code = (
        "import sys, runpy; sys.argv=['mailsetup','profile','-e','a@example.ch','-o','-'];"
        "\ntry:\n  runpy.run_module('mailsetup', run_name='__main__')\nexcept SystemExit: pass\n"
        "print('cryptography' in sys.modules, 'asn1crypto' in sys.modules, file=sys.stderr)"
    )
    proc = subprocess.run(
        [os.sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert proc.stderr.strip().splitlines()[-1] == "False False"


def test_encrypted_key_passphrase_from_the_keyring(tmp_path: Path, ca: SigningCA) -> None:
    """The documented keyring entry: service ``mailsetup``, user ``sign:<absolute key path>``."""
    locked = ca.leaf(key_type="ec", passphrase=b"from the keyring")
    env = {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    store = (
        "import keyring, sys; keyring.set_password('mailsetup', sys.argv[1], 'from the keyring')"
    )
    subprocess.run(
        [os.sys.executable, "-c", store, f"sign:{locked.key.resolve()}"],
        check=True,
        env={**os.environ, **env},
        timeout=60,
    )
    out = tmp_path / "k.mobileconfig"
    proc = run(
        "profile", "-e", EMAIL, "--sign-cert", str(locked.fullchain),
        "--sign-key", str(locked.key), "-o", str(out), env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert openssl_verify(out, locked.root, tmp_path / "c").returncode == 0


def test_team_paths_refuse_signing_instead_of_ignoring_it(tmp_path: Path, leaf: Leaf) -> None:
    proc = run(
        "profile", "-e", EMAIL, "-e", "joe@example.ch", *sign_args(leaf),
        "-o", str(tmp_path / "two.mobileconfig"),
    )  # fmt: skip
    assert_one_line_error(proc, 2, "--sign-cert")
    assert not (tmp_path / "two.mobileconfig").exists()


def test_share_serves_the_signed_profile(leaf: Leaf) -> None:
    """``mailsetup share --sign-*`` hands the phone the same signed bytes ``profile`` writes."""
    from mailsetup.commands.share import ShareRequest, _payload
    from mailsetup.mobileconfig.read import read_profile
    from tests.support.signing import load_root

    req = ShareRequest(email=EMAIL, sign_cert=leaf.fullchain, sign_key=leaf.key)
    payload, name = _payload(req)
    assert name.endswith(".mobileconfig")
    report = read_profile(payload.body, name, roots=load_root(leaf))
    assert report.container == "signed" and report.signature is not None
    assert report.signature.valid is True and report.signature.trust is not None
    assert report.signature.trust.verified
