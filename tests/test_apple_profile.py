"""The Apple profile: conformance to Apple's schemas, determinism, golden bytes, options."""

from __future__ import annotations

import plistlib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mailsetup.account import make_account
from mailsetup.errors import BadInput
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
from tests.apple_schema import validate_profile
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"
INFOMANIAK = load_provider()


def profile_bytes(email: str = "jane.doe@example.ch", **kw: object) -> bytes:
    name = kw.pop("name", "Jane Doe")
    sync_user = kw.pop("sync_user", "AB12345")
    account = make_account(email, name, sync_user)  # type: ignore[arg-type]
    (only,) = render("apple", account, INFOMANIAK, RenderOptions(**kw)).files  # type: ignore[arg-type]
    return only.data


def payloads(data: bytes) -> dict[str, dict[str, object]]:
    return {p["PayloadType"]: p for p in plistlib.loads(data)["PayloadContent"]}


def test_golden_infomaniak_profile() -> None:
    """Byte-for-byte the reviewed file; regenerate with UPDATE_GOLDEN=1 and review the diff."""
    assert_golden("infomaniak-apple.mobileconfig", profile_bytes())


def test_profile_validates_against_apple_schemas() -> None:
    assert validate_profile(plistlib.loads(profile_bytes())) == []


def test_mail_payload_has_the_documented_infomaniak_values() -> None:
    mail = payloads(profile_bytes())["com.apple.mail.managed"]
    assert mail["IncomingMailServerHostName"] == "mail.infomaniak.com"
    assert mail["IncomingMailServerPortNumber"] == 993
    assert mail["IncomingMailServerUseSSL"] is True
    assert mail["OutgoingMailServerHostName"] == "mail.infomaniak.com"
    assert mail["OutgoingMailServerPortNumber"] == 587
    assert mail["OutgoingMailServerUseSSL"] is True  # STARTTLS on 587 for Apple Mail
    assert mail["IncomingMailServerUsername"] == "jane.doe@example.ch"
    assert mail["OutgoingMailServerUsername"] == "jane.doe@example.ch"
    assert mail["EmailAddress"] == "jane.doe@example.ch"
    assert mail["EmailAccountName"] == "Jane Doe"
    assert "IncomingPassword" not in mail  # the device asks at install time


def test_dav_payloads_use_sync_server_and_sync_user() -> None:
    p = payloads(profile_bytes())
    for kind in ("CalDAV", "CardDAV"):
        dav = p[f"com.apple.{kind.lower()}.account"]
        assert dav[f"{kind}HostName"] == "sync.infomaniak.com"
        assert dav[f"{kind}Port"] == 443
        assert dav[f"{kind}UseSSL"] is True
        assert dav[f"{kind}Username"] == "AB12345"


def test_without_sync_user_the_device_asks() -> None:
    p = payloads(profile_bytes(sync_user=None))
    assert "CalDAVUsername" not in p["com.apple.caldav.account"]
    assert "CardDAVUsername" not in p["com.apple.carddav.account"]


def test_generation_is_deterministic_and_identifiers_are_stable() -> None:
    first, second = profile_bytes(), profile_bytes()
    assert first == second
    other = plistlib.loads(profile_bytes("john@example.ch"))
    mine = plistlib.loads(first)
    assert other["PayloadUUID"] != mine["PayloadUUID"]
    assert other["PayloadIdentifier"] != mine["PayloadIdentifier"]
    # Another display name is the same account: same identifiers, so a re-install replaces it.
    renamed = plistlib.loads(profile_bytes(name="Jane D."))
    assert renamed["PayloadIdentifier"] == mine["PayloadIdentifier"]
    assert renamed["PayloadUUID"] == mine["PayloadUUID"]


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        ({"mail"}, {"com.apple.mail.managed"}),
        ({"caldav", "carddav"}, {"com.apple.caldav.account", "com.apple.carddav.account"}),
        ({"carddav"}, {"com.apple.carddav.account"}),
    ],
)
def test_services_subset(services: set[str], expected: set[str]) -> None:
    data = profile_bytes(services=frozenset(services))
    assert set(payloads(data)) == expected
    assert validate_profile(plistlib.loads(data)) == []


def test_smtp_465_alternative_is_implicit_tls() -> None:
    mail = payloads(profile_bytes(smtp_port=465))["com.apple.mail.managed"]
    assert mail["OutgoingMailServerPortNumber"] == 465
    assert mail["OutgoingMailServerUseSSL"] is True


def test_unlisted_smtp_port_is_bad_input() -> None:
    with pytest.raises(BadInput, match="587, 465"):
        profile_bytes(smtp_port=25)


def test_embedded_password_is_in_the_mail_payload_only() -> None:
    data = profile_bytes(password="s3cr&t<\"'")
    mail = payloads(data)["com.apple.mail.managed"]
    assert mail["IncomingPassword"] == "s3cr&t<\"'"
    assert mail["OutgoingPasswordSameAsIncomingPassword"] is True
    assert validate_profile(plistlib.loads(data)) == []


def test_internationalised_domain_uses_ascii_form_in_machine_fields() -> None:
    data = profile_bytes("jane@bücher.ch")
    mail = payloads(data)["com.apple.mail.managed"]
    assert mail["EmailAddress"] == "jane@xn--bcher-kva.ch"
    assert mail["IncomingMailServerUsername"] == "jane@xn--bcher-kva.ch"
    assert "bücher.ch" in str(mail["EmailAccountDescription"])
    assert profile_bytes("JANE@BÜCHER.CH".lower()) == profile_bytes("jane@xn--bcher-kva.ch")


# Display names a person may type: quotes, markup characters, emoji, other scripts, whitespace.
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")), min_size=1, max_size=80
).filter(lambda s: s.strip())
local_parts = st.from_regex(r"[a-z0-9](?:[a-z0-9._+-]{0,30}[a-z0-9])?", fullmatch=True).filter(
    lambda s: ".." not in s
)
domains = st.from_regex(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?\.){1,3}[a-z]{2,10}", fullmatch=True
)


@settings(max_examples=3000, deadline=None)
@given(
    local=local_parts,
    domain=domains,
    name=names,
    sync=st.none() | st.from_regex(r"[A-Z]{2}[0-9]{5}", fullmatch=True),
)
def test_any_valid_address_and_name_gives_a_valid_profile(
    local: str, domain: str, name: str, sync: str | None
) -> None:
    try:
        account = make_account(f"{local}@{domain}", name, sync)
    except BadInput:
        # e.g. a TLD email-validator refuses: rejected cases do not count as examples, and
        # hypothesis fails the test if too many are rejected, so it cannot pass vacuously.
        assume(False)
        raise
    (only,) = render("apple", account, INFOMANIAK, RenderOptions()).files
    profile = plistlib.loads(only.data)
    assert validate_profile(profile) == []
    mail = profile["PayloadContent"][0]
    assert mail["EmailAccountName"] == unicodedata.normalize("NFC", " ".join(name.split()))
    assert mail["EmailAddress"] == account.email


def test_a_password_no_plist_can_carry_is_bad_input_not_provider_data():
    """An embedded password holding U+FFFE is the password's fault (exit 2 with the advice to
    leave --embed-password out), like a control character, not 'provider data' (exit 3)."""
    from mailsetup.errors import BadInput

    options = RenderOptions(password="a\ufffeb")
    with pytest.raises(BadInput, match="password") as info:
        render(
            "apple",
            make_account("jane.doe@example.ch", "Jane Doe", "AB12345"),
            load_provider(),
            options,
        )
    assert info.value.exit_code == 2
    assert "a\ufffeb" not in str(info.value)
