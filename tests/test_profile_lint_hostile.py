"""Hostile and broken profiles: one finding each, bounded time, never a traceback.

Entity expansion, external entities, deep nesting (XML and binary), huge files, truncated and
corrupted DER, and hypothesis-made corruptions of real XML, binary and signed profiles.
"""

from __future__ import annotations

import json
import plistlib
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsetup.mobileconfig.inspect import format_reports, inspect_profiles
from mailsetup.mobileconfig.lint import lint_profile
from mailsetup.mobileconfig.read import MAX_BYTES, read_profile
from tests.cli import run
from tests.support.signing import SigningCA

REPO = Path(__file__).resolve().parent.parent
GOLDEN = (REPO / "tests/golden/infomaniak-apple.mobileconfig").read_bytes()

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)
    )
    + b']><plist version="1.0"><dict><key>PayloadType</key><string>&i;</string></dict></plist>'
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<plist version="1.0"><dict><key>PayloadType</key><string>&e;</string></dict></plist>'
)


def deep_xml(n: int) -> bytes:
    return b'<plist version="1.0">' + b"<array>" * n + b"</array>" * n + b"</plist>"


def bplist(objects: list[bytes]) -> bytes:
    """A binary plist of already-encoded ``objects`` (4-byte references, object 0 the root)."""
    body = b"bplist00"
    offsets = []
    for obj in objects:
        offsets.append(len(body))
        body += obj
    table = len(body)
    body += b"".join(o.to_bytes(4, "big") for o in offsets)
    trailer = bytes(6) + bytes([4, 4]) + len(objects).to_bytes(8, "big")
    trailer += (0).to_bytes(8, "big") + table.to_bytes(8, "big")
    return body + trailer


def deep_binary(n: int) -> bytes:
    """A binary plist of ``n`` nested one-element arrays, written by hand (plistlib's writer
    recurses too): object i is an array holding object i + 1."""
    objects = [b"\xa1" + (i + 1).to_bytes(4, "big") for i in range(n)] + [b"\x08"]
    return bplist(objects)


def shared_binary(levels: int, width: int) -> bytes:
    """Each level an array holding ``width`` references to the next: a few hundred bytes that
    unfold into width**levels values (binary plists share objects by reference)."""
    objects = [
        bytes([0xA0 | 0x0F, 0x10, width]) + (i + 1).to_bytes(4, "big") * width
        for i in range(levels)
    ] + [b"\x08"]
    return bplist(objects)


HOSTILE = {
    "billion-laughs": (LAUGHS, "not-a-plist"),
    "external-entity": (EXTERNAL, "not-a-plist"),
    "deep-xml": (deep_xml(60_000), "too-deep"),
    "deep-binary": (deep_binary(200), "too-deep"),
    "deeper-binary": (deep_binary(50_000), "too-deep"),
    "shared-references": (shared_binary(12, 20), "too-deep"),
    "huge": (b"<plist><dict>" + b"<key>k</key><string>x</string>" * 40_000, "too-large"),
    "truncated": (GOLDEN[: len(GOLDEN) // 2], "not-a-plist"),
    "truncated-der": (b"\x30\x82\xff\xff\x06\x09", "corrupt-signature"),
    "huge-oid": (
        b"\x30\x82\x07\xd6\x06\x82\x07\xd2\x2a" + b"\x81" * 2000 + b"\x01",
        "corrupt-signature",
    ),
    "junk": (b"\x00\x01binary junk", "not-a-profile"),
    "empty": (b"", "not-a-profile"),
    "not-a-dict": (plistlib.dumps(["a", "list"]), "not-a-profile"),
}


@pytest.mark.parametrize(("data", "code"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_input_is_one_finding(data: bytes, code: str) -> None:
    if code == "too-large":
        data = data + b"x" * (MAX_BYTES + 1 - len(data)) if len(data) <= MAX_BYTES else data
    start = time.perf_counter()
    report = read_profile(data, "hostile")
    assert time.perf_counter() - start < 5
    assert report.plist is None
    assert code in [f.code for f in report.findings]
    assert all(f.severity == "error" for f in report.findings)


def test_cli_on_hostile_files_reports_every_file(tmp_path: Path) -> None:
    paths = []
    for name, data in [("laughs", LAUGHS), ("deep", deep_xml(50_000)), ("ok", GOLDEN)]:
        path = tmp_path / f"{name}.mobileconfig"
        path.write_bytes(data)
        paths.append(str(path))
    proc = run("inspect", *paths)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    assert proc.stdout.count("will NOT install") == 2
    assert proc.stdout.count(": will install") == 1
    missing = run("inspect", str(tmp_path / "gone.mobileconfig"), paths[2])
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "error [cannot-read] file: no such file" in missing.stdout
    assert ": will install" in missing.stdout  # the other file is still reported


@pytest.fixture(scope="module")
def signed_profile(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from mailsetup.mobileconfig.sign import SignRequest, load_signer, sign_bytes

    leaf = SigningCA(tmp_path_factory.mktemp("fuzz")).leaf()
    signer = load_signer(SignRequest(leaf.cert, leaf.key, leaf.chain))
    return sign_bytes(GOLDEN, signer)


def _exercise(data: bytes) -> None:
    report = read_profile(data, "fuzzed", roots=([], "none"))
    if report.plist is not None:
        lint_profile(report.plist, signed=report.signature is not None)


mutations = st.lists(
    st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
    min_size=1,
    max_size=8,
)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    out = bytearray(data)
    for pos, value in edits:
        out[pos % len(out)] = value
    return bytes(out[: max(1, len(out) - cut)])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=mutations,
    cut=st.integers(min_value=0, max_value=64),
    which=st.sampled_from(["xml", "binary"]),
)
def test_fuzz_corrupted_plists(edits: list[tuple[int, int]], cut: int, which: str) -> None:
    base = (
        GOLDEN
        if which == "xml"
        else plistlib.dumps(plistlib.loads(GOLDEN), fmt=plistlib.FMT_BINARY)
    )
    _exercise(_mutate(base, edits, cut))


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=mutations, cut=st.integers(min_value=0, max_value=2000))
def test_fuzz_corrupted_der(signed_profile: bytes, edits: list[tuple[int, int]], cut: int) -> None:
    _exercise(_mutate(signed_profile, edits, cut))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_random_bytes(data: bytes) -> None:
    _exercise(data)
    _exercise(b"\x30" + data)
    _exercise(b"bplist00" + data)


def test_formatting_a_corrupted_signed_profile(tmp_path: Path, signed_profile: bytes) -> None:
    path = tmp_path / "x.mobileconfig"
    path.write_bytes(signed_profile[:-40])
    (report,) = inspect_profiles([path], provider=None)
    assert not report.will_install
    assert "will NOT install" in format_reports([report])


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.sampled_from(
        ["com.apple.mail.managed", "com.apple.caldav.account", "Configuration", "", "http://x/p"]
    ),
)
_keys = st.one_of(
    st.sampled_from(
        ["PayloadType", "PayloadContent", "PayloadIdentifier", "PayloadUUID", "PayloadVersion",
         "CalDAVPort", "CalDAVPrincipalURL", "CalDAVUseSSL", "CalDAVUsername", "CalDAVHostName",
         "IncomingMailServerPortNumber", "IncomingPassword", "EmailAddress", "IsEncrypted"]
    ),
    st.text(max_size=10),
)  # fmt: skip
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(top=st.dictionaries(_keys, _values, max_size=8), content=st.lists(_values, max_size=4))
def test_fuzz_lint_on_arbitrary_plist_values(top: dict[str, object], content: list[object]) -> None:
    """Whatever a plist holds where a profile's keys belong, linting and the report run."""
    from mailsetup.mobileconfig.inspect import ProfileReport, payload_rows
    from mailsetup.mobileconfig.lint import lint_across

    top["PayloadContent"] = content
    findings = lint_profile(top, signed=False)
    rows = payload_rows(top)
    lint_across([("a", top), ("b", top)])
    report = ProfileReport("x", "xml", 1, None, rows, findings)
    format_reports([report])
    json.dumps(report.as_dict())
