"""Signed profiles from ``mailsetup serve --sign-cert/--sign-key``, checked with openssl.

Every Apple profile the server hands out is CMS SignedData that ``openssl cms -verify`` accepts
against the test CA, and the signed content is byte for byte the unsigned profile of
``mailsetup profile``; a wrong key stops the server before it listens.
"""

from __future__ import annotations

import re

import pytest

from tests.cli import assert_one_line_error, run
from tests.serve_support import DOMAIN
from tests.support.signing import openssl_verify

pytestmark = pytest.mark.servers
pytest.importorskip("mailsetup.mobileconfig.sign")

JANE = "jane.doe@example.ch"


def test_served_profiles_are_signed(serve_factory, tmp_path, test_ca):
    pair = test_ca.issue(names=("autoconfig.example.ch",))
    server = serve_factory(
        f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        args=("--sign-cert", str(pair.cert_path), "--sign-key", str(pair.key_path)),
    )
    unsigned = tmp_path / "jane.mobileconfig"
    proc = run(
        "profile", "-e", JANE, "-n", "Jane Doe", "--sync-user", "AB12345", "-o", str(unsigned)
    )
    assert proc.returncode == 0, proc.stderr
    with server.client() as client:
        direct = client.get("/mobileconfig", params={"emailaddress": JANE})
        page = client.get("/")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        form = client.post("/", data={"csrf": token, "email": JANE, "device": "apple"})
    for reply in (direct, form):
        assert reply.headers["content-type"] == "application/x-apple-aspen-config"
        assert reply.content[:1] == b"\x30"  # DER SEQUENCE, not an XML plist
        signed, content = tmp_path / "signed.der", tmp_path / "content.plist"
        signed.write_bytes(reply.content)
        proc = openssl_verify(signed, test_ca.pem_path, content)
        assert proc.returncode == 0, proc.stderr
        assert content.read_bytes() == unsigned.read_bytes()
    assert "Unverified" in server.log_text()  # a private CA: said once, at start


def test_a_key_that_does_not_match_stops_the_start(tmp_path, test_ca):
    one = test_ca.issue(names=("a.example.ch",))
    other = test_ca.issue(names=("b.example.ch",))
    proc = run(
        "serve",
        "--domain",
        DOMAIN,
        "--db",
        f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "--sign-cert",
        str(one.cert_path),
        "--sign-key",
        str(other.key_path),
    )
    assert_one_line_error(proc, 2, "does not belong")
