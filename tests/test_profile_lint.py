"""``inspect FILE.mobileconfig``: each known failure is named with its key path.

Profiles come from three places: mailsetup's own output (must be clean), profiles shaped like
automx2's, mailcow's and Mail-in-a-Box's (tests/support/profiles.py), and one mutation of our
profile per field failure seen in the wild.
"""

from __future__ import annotations

import copy
import json
import plistlib
from pathlib import Path
from typing import Any

import pytest

from mailsetup.mobileconfig.inspect import inspect_profiles
from mailsetup.mobileconfig.lint import KnownProvider, lint_profile
from mailsetup.mobileconfig.read import read_profile
from mailsetup.provider import load_provider
from tests.cli import run
from tests.support import profiles

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests/golden/infomaniak-apple.mobileconfig"


def ours() -> dict[str, Any]:
    return plistlib.loads(GOLDEN.read_bytes())


def codes(plist: dict[str, Any], **kw: Any) -> set[tuple[str, str]]:
    return {(f.code, f.path) for f in lint_profile(plist, signed=kw.pop("signed", False), **kw)}


def write(tmp_path: Path, name: str, plist: dict[str, Any] | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(plist if isinstance(plist, bytes) else plistlib.dumps(plist))
    return path


def test_our_profile_has_no_findings() -> None:
    assert lint_profile(ours(), signed=False) == []


def test_cli_round_trip_unsigned(tmp_path: Path) -> None:
    out = tmp_path / "jane.mobileconfig"
    assert run("profile", "-e", "jane@example.ch", "-o", str(out)).returncode == 0
    proc = run("inspect", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "will install" in proc.stdout
    assert "not signed: the device shows it as Unverified" in proc.stdout
    assert "incoming: mail.infomaniak.com:993 SSL user jane@example.ch" in proc.stdout
    assert "outgoing: mail.infomaniak.com:587 STARTTLS" in proc.stdout
    assert "caldav: sync.infomaniak.com:443 SSL user (asked)" in proc.stdout
    assert " error " not in proc.stdout and "warning [" not in proc.stdout


def test_binary_plist_gives_the_same_table(tmp_path: Path) -> None:
    xml = write(tmp_path, "a.mobileconfig", ours())
    binary = write(tmp_path, "b.mobileconfig", plistlib.dumps(ours(), fmt=plistlib.FMT_BINARY))
    a, b = inspect_profiles([xml, binary], provider=None)
    assert (a.container, b.container) == ("xml", "binary")
    assert a.payloads == b.payloads and not b.findings


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda p: p["PayloadContent"][0].update(IncomingMailServerPortNumber="993"),
            ("port-is-string", "PayloadContent[0].IncomingMailServerPortNumber"),
        ),
        (
            lambda p: p["PayloadContent"][0].update(OutgoingMailServerPortNumber=""),
            ("port-empty", "PayloadContent[0].OutgoingMailServerPortNumber"),
        ),
        (
            lambda p: p["PayloadContent"][1].update(CalDAVPort=443.0),
            ("port-wrong-type", "PayloadContent[1].CalDAVPort"),
        ),
        (
            lambda p: p["PayloadContent"][1].update(CalDAVPort=70000),
            ("port-out-of-range", "PayloadContent[1].CalDAVPort"),
        ),
        (lambda p: p.pop("PayloadVersion"), ("missing-payload-version", "PayloadVersion")),
        (
            lambda p: p["PayloadContent"][0].pop("EmailAccountType"),
            ("missing-email-account-type", "PayloadContent[0].EmailAccountType"),
        ),
        (
            lambda p: p["PayloadContent"][0].update(EmailAccountType="EmailTypeExchange"),
            ("not-allowed", "PayloadContent[0].EmailAccountType"),
        ),
        (
            lambda p: p["PayloadContent"][0].update(IncomingMailServerUseSSL="yes"),
            ("wrong-type", "PayloadContent[0].IncomingMailServerUseSSL"),
        ),
        (
            lambda p: p["PayloadContent"][0].update(IncomingServerTLS=True),
            ("unknown-key", "PayloadContent[0].IncomingServerTLS"),
        ),
        (
            lambda p: p["PayloadContent"][2].update(
                PayloadUUID=p["PayloadContent"][1]["PayloadUUID"]
            ),
            ("duplicate-uuid", "PayloadContent[2].PayloadUUID"),
        ),
        (
            lambda p: p["PayloadContent"][1].update(PayloadIdentifier=p["PayloadIdentifier"]),
            ("duplicate-identifier", "PayloadContent[1].PayloadIdentifier"),
        ),
        (
            lambda p: p.update(PayloadIdentifier=f"com.example.mail.{profiles.V4}"),
            ("random-identifier", "PayloadIdentifier"),
        ),
        (
            lambda p: p.update(PayloadIdentifier="com.example.mailprofile"),
            ("shared-identifier", "PayloadIdentifier"),
        ),
        (
            lambda p: p["PayloadContent"][0].update(IncomingPassword="hunter2"),
            ("embedded-password", "PayloadContent[0].IncomingPassword"),
        ),
        (
            lambda p: p["PayloadContent"][2].update(CardDAVUseSSL=False),
            ("dav-without-tls", "PayloadContent[2].CardDAVUseSSL"),
        ),
        (
            lambda p: p["PayloadContent"][1].update(CalDAVPrincipalURL="http://sync.example.ch/"),
            ("dav-without-tls", "PayloadContent[1].CalDAVPrincipalURL"),
        ),
        (
            lambda p: p["PayloadContent"][1].update(CalDAVPrincipalURL="/dav/principals/jane/"),
            ("principal-url-pinned", "PayloadContent[1].CalDAVPrincipalURL"),
        ),
        (
            lambda p: p["PayloadContent"].append({"PayloadType": "com.example.custom"}),
            ("no-schema", "PayloadContent[3]"),
        ),
    ],
)
def test_each_field_failure_is_named(mutate: Any, expected: tuple[str, str]) -> None:
    plist = ours()
    mutate(plist)
    assert expected in codes(plist)


def test_errors_carry_apples_wording() -> None:
    plist = ours()
    plist.pop("PayloadVersion")
    (finding,) = [f for f in lint_profile(plist, signed=False) if f.code.startswith("missing")]
    assert finding.severity == "error"
    assert "version number of the profile format" in (finding.apple or "")


def test_embedded_password_message_depends_on_signature() -> None:
    plist = ours()
    plist["PayloadContent"][0]["IncomingPassword"] = "hunter2"
    unsigned = [f for f in lint_profile(plist, signed=False) if f.code == "embedded-password"]
    signed = [f for f in lint_profile(plist, signed=True) if f.code == "embedded-password"]
    assert "neither signed nor encrypted" in unsigned[0].message
    assert "signature does not hide it" in signed[0].message
    assert "Only use this with encrypted profiles." in (unsigned[0].apple or "")


def test_empty_real_port_like_mailcow_2019_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "mailcow.mobileconfig", profiles.mailcow_empty_port_xml())
    proc = run("inspect", str(path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "error [port-empty] PayloadContent[0].CalDAVPort: empty <real></real>" in proc.stdout


def test_automx2_shape() -> None:
    found = codes(profiles.automx2_shape())
    assert ("shared-identifier", "PayloadIdentifier") in found
    assert all(code in ("shared-identifier",) for code, _ in found), found


def test_mailcow_shape() -> None:
    found = codes(profiles.mailcow_shape())
    assert ("shared-identifier", "PayloadIdentifier") in found  # per domain, not per account
    assert ("principal-url-pinned", "PayloadContent[0].CalDAVPrincipalURL") in found
    assert ("principal-url-pinned", "PayloadContent[2].CardDAVPrincipalURL") in found


def test_mailcow_identifiers_collide_across_accounts(tmp_path: Path) -> None:
    """mailcow's identifier is per domain: two mailboxes of the domain, one identifier."""
    first = profiles.mailcow_shape()
    second = copy.deepcopy(first)
    for payload in second["PayloadContent"]:
        for key, value in list(payload.items()):
            if value == "test@plein.email":
                payload[key] = "other@plein.email"
    a = write(tmp_path, "test.mobileconfig", first)
    b = write(tmp_path, "other.mobileconfig", second)
    proc = run("inspect", str(a), str(b))
    assert proc.returncode == 1
    assert proc.stdout.count("error [shared-identifier] PayloadIdentifier") == 2


def test_mailinabox_shape() -> None:
    found = codes(profiles.mailinabox_shape())
    assert ("shared-identifier", "PayloadIdentifier") in found
    assert ("principal-url-pinned", "PayloadContent[1].CalDAVPrincipalURL") in found
    assert not [c for c in found if c[0].startswith(("missing", "port", "wrong"))]


def provider_facts() -> KnownProvider:
    from mailsetup.mobileconfig.inspect import known_provider

    return known_provider(load_provider())


def test_known_provider_dav_username_equal_to_address() -> None:
    facts = provider_facts()
    assert facts.separate_sync_user  # profiles/infomaniak.toml: [texts] sync_user = "separate"
    plist = ours()
    plist["PayloadContent"][1]["CalDAVUsername"] = "jane@example.ch"
    found = lint_profile(plist, signed=False, provider=facts)
    (hit,) = [f for f in found if f.code == "provider-dav-username"]
    assert hit.severity == "error" and hit.path == "PayloadContent[1].CalDAVUsername"
    assert facts.name in hit.message
    other = KnownProvider("Acme", frozenset(), frozenset(), frozenset(), frozenset(), False)
    assert not [
        f
        for f in lint_profile(plist, signed=False, provider=other)
        if f.code.startswith("provider")
    ]


def test_known_provider_unlisted_port() -> None:
    plist = ours()
    plist["PayloadContent"][0]["IncomingMailServerPortNumber"] = 143
    found = {(f.code, f.path) for f in lint_profile(plist, signed=False, provider=provider_facts())}
    assert ("provider-port", "PayloadContent[0].IncomingMailServerPortNumber") in found


def test_json_report(tmp_path: Path) -> None:
    plist = ours()
    plist.pop("PayloadVersion")
    path = write(tmp_path, "x.mobileconfig", plist)
    proc = run("inspect", "--json", str(path))
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["will_import"] is False
    (entry,) = doc["files"]
    assert entry["kind"] == "mobileconfig" and entry["signature"] is None
    assert entry["payloads"][0]["servers"][0]["host"] == "mail.infomaniak.com"
    (finding,) = entry["findings"]
    assert finding == {
        "severity": "error",
        "code": "missing-payload-version",
        "path": "PayloadVersion",
        "message": finding["message"],
        "apple": finding["apple"],
    }


def test_text_from_the_file_is_cleaned(tmp_path: Path) -> None:
    plist = ours()
    plist["PayloadContent"][0]["PayloadDisplayName"] = "Mail\x1b[31m\u202e evil"
    plist["PayloadContent"][0]["Bad\x1bKey"] = 1
    # XML cannot carry ESC; a binary plist can carry any character.
    data = plistlib.dumps(plist, fmt=plistlib.FMT_BINARY)
    proc = run("inspect", str(write(tmp_path, "x.mobileconfig", data)))
    assert "Mail" in proc.stdout and "evil" in proc.stdout
    assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
    assert "unknown-key" in proc.stdout


def test_read_detects_containers() -> None:
    assert read_profile(plistlib.dumps(ours()), "a").container == "xml"
    assert read_profile(b"hello", "a").findings[0].code == "not-a-profile"


def test_encrypted_profile_needs_no_payload_content() -> None:
    plist = ours()
    del plist["PayloadContent"]
    assert ("missing-key", "PayloadContent") in codes(plist)
    plist["IsEncrypted"] = True
    plist["EncryptedPayloadContent"] = b"\x30\x80opaque"
    assert codes(plist) == set()


def test_same_account_under_two_identifiers_is_named(tmp_path: Path) -> None:
    """Two downloads from a generator that makes a new identifier each time."""
    first = profiles.automx2_shape()
    first["PayloadIdentifier"] = f"com.example.mail.{profiles.V4}"
    second = copy.deepcopy(first)
    second["PayloadIdentifier"] = "com.example.mail.9C858901-8A57-4791-81FE-4C455B099BC9"
    a = write(tmp_path, "one.mobileconfig", first)
    b = write(tmp_path, "two.mobileconfig", second)
    reports = inspect_profiles([a, b], provider=None)
    for report in reports:
        hits = [f for f in report.findings if f.code == "random-identifier"]
        assert [f.severity for f in hits] == ["warning", "error"], hits
