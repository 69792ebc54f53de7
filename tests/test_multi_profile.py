"""Several mailboxes in one profile: one Apple .mobileconfig, one Thunderbird user.js.

Checked with the consumers' rules: Apple's schemas (unique identifiers included), node and
Mozilla's pref syntax for user.js. docs/organisations.md states the identifier rules tested
here.
"""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from mailsetup.account import make_account
from mailsetup.errors import BadInput
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
from mailsetup.render.apple_multi import build_multi_profile, render_multi
from mailsetup.render.thunderbird import account_key
from mailsetup.render.thunderbird_multi import render_multi as render_tb
from tests.apple_schema import validate_profile
from tests.cli import assert_one_line_error, run
from tests.conftest import require_binary
from tests.prefs_js import parse_user_js, prefs_from_node

PROVIDER = load_provider()
JANE = make_account("jane.doe@example.ch", "Jane Doe", "AB12345")
INFO = make_account("info@example.ch", 'Info "Desk" </script>', "AB12345")
BOB = make_account("bob@example.org", "Bob", "CD67890")
NOSYNC = make_account("shared@example.ch", "Shared")
MAIL = "com.apple.mail.managed"


def by_type(profile: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for p in profile["PayloadContent"]:
        out.setdefault(p["PayloadType"], []).append(p)
    return out


def test_one_mail_payload_per_mailbox_dav_once_per_sync_user():
    profile = build_multi_profile([JANE, INFO, BOB, NOSYNC], PROVIDER, RenderOptions())
    assert validate_profile(profile) == []
    kinds = by_type(profile)
    assert [p["EmailAddress"] for p in kinds[MAIL]] == [
        "jane.doe@example.ch",
        "info@example.ch",
        "bob@example.org",
        "shared@example.ch",
    ]
    assert [p["EmailAccountName"] for p in kinds[MAIL]][:2] == ["Jane Doe", INFO.display_name]
    # AB12345 (Jane and Info), CD67890 (Bob), and the mailbox without a sync user.
    for kind, key in (
        ("com.apple.caldav.account", "CalDAVUsername"),
        ("com.apple.carddav.account", "CardDAVUsername"),
    ):
        users = [p.get(key) for p in kinds[kind]]
        assert users == ["AB12345", "CD67890", None], kinds[kind]
    assert profile["PayloadDisplayName"] == (
        "Infomaniak: jane.doe@example.ch, info@example.ch, bob@example.org, shared@example.ch"
    )


def test_identifiers_unique_stable_and_not_the_single_profiles():
    accounts = [JANE, INFO, BOB]
    first = render_multi(accounts, PROVIDER, RenderOptions()).files[0].data
    again = render_multi(accounts, PROVIDER, RenderOptions()).files[0].data
    assert first == again
    profile = plistlib.loads(first)
    ids = [profile["PayloadIdentifier"]] + [
        p["PayloadIdentifier"] for p in profile["PayloadContent"]
    ]
    uuids = [profile["PayloadUUID"]] + [p["PayloadUUID"] for p in profile["PayloadContent"]]
    assert len(set(ids)) == len(ids) and len(set(uuids)) == len(uuids)

    single = plistlib.loads(render("apple", JANE, PROVIDER, RenderOptions()).files[0].data)
    single_ids = {
        single["PayloadIdentifier"],
        *(p["PayloadIdentifier"] for p in single["PayloadContent"]),
    }
    single_uuids = {single["PayloadUUID"], *(p["PayloadUUID"] for p in single["PayloadContent"])}
    assert not single_ids & set(ids) and not single_uuids & set(uuids)

    # Same first address, mailboxes added: the same profile identifier (it replaces the old
    # one), and Jane's own payloads keep theirs.
    more = build_multi_profile([JANE, INFO, BOB, NOSYNC], PROVIDER, RenderOptions())
    assert more["PayloadIdentifier"] == profile["PayloadIdentifier"]
    assert by_type(more)[MAIL][0]["PayloadUUID"] == by_type(profile)[MAIL][0]["PayloadUUID"]
    # Another first address: another profile.
    other = build_multi_profile([INFO, JANE], PROVIDER, RenderOptions())
    assert other["PayloadIdentifier"] != profile["PayloadIdentifier"]


def test_services_subset_and_refusals():
    mail_only = build_multi_profile(
        [JANE, INFO], PROVIDER, RenderOptions(services=frozenset({"mail"}))
    )
    assert validate_profile(mail_only) == []
    assert set(by_type(mail_only)) == {MAIL}
    with pytest.raises(BadInput, match="given twice"):
        build_multi_profile([JANE, make_account("JANE.DOE@example.ch")], PROVIDER, RenderOptions())
    with pytest.raises(BadInput, match="--embed-password"):
        build_multi_profile([JANE, INFO], PROVIDER, RenderOptions(password="x"))


def test_thunderbird_one_user_js_with_every_account():
    node = require_binary("node")
    rendered = render_tb([JANE, INFO, BOB], PROVIDER, RenderOptions())
    files = {f.name: f.data.decode() for f in rendered.files}
    assert set(files) == {"user.js", "README.txt"}
    text = files["user.js"]
    prefs = dict(parse_user_js(text))
    keys = [account_key(a, PROVIDER) for a in (JANE, INFO, BOB)]
    assert prefs["mail.accountmanager.appendaccounts"] == ",".join(keys)
    assert prefs["mail.smtpservers"] == ",".join(keys)
    assert len(parse_user_js(text)) == len(prefs)  # every pref once
    for account, key in zip((JANE, INFO, BOB), keys, strict=True):
        assert prefs[f"mail.identity.{key}.useremail"] == account.email
        assert prefs[f"mail.identity.{key}.fullName"] == account.display_name
        assert prefs[f"mail.identity.{key}.smtpServer"] == key
        assert prefs[f"mail.server.{key}.userName"] == account.email
    # Calendars and address books once per sync user: Jane's key (AB12345) and Bob's.
    cal = sorted(
        k.split(".")[2] for k in prefs if k.endswith(".type") and k.startswith("calendar.")
    )
    assert cal == sorted([keys[0], keys[2]])
    assert prefs[f"calendar.registry.{keys[2]}.username"] == "CD67890"
    assert prefs_from_node(node, text) == parse_user_js(text)
    assert "</script>" not in text


def test_cli_pairs_names_in_order_and_shares_one_sync_user(tmp_path):
    out = tmp_path / "two.mobileconfig"
    proc = run(
        "profile", "-e", "jane@example.ch", "-e", "info@example.ch", "-n", "Jane",
        "--sync-user", "AB12345", "-o", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    profile = plistlib.loads(out.read_bytes())
    assert validate_profile(profile) == []
    mails = by_type(profile)[MAIL]
    assert [p["EmailAddress"] for p in mails] == ["jane@example.ch", "info@example.ch"]
    assert mails[0]["EmailAccountName"] == "Jane"
    assert mails[1].get("EmailAccountName") != "Jane"  # no name given for the second
    assert len(by_type(profile)["com.apple.caldav.account"]) == 1
    assert_one_line_error(
        run("profile", "-e", "a@example.ch", "-e", "b@example.ch", "-n", "A", "-n", "B", "-n", "C"),
        2,
        "--name",
    )
    assert_one_line_error(
        run("profile", "-e", "a@example.ch", "-e", "b@example.ch", "--client", "emclient"),
        2,
        "one mailbox at a time",
    )


def test_cli_csv_one_profile(tmp_path):
    csv_path = tmp_path / "team.csv"
    csv_path.write_text(
        "email;name;sync_user\njane@example.ch;Jane;AB12345\ninfo@example.ch;Info;AB12345\n"
    )
    out = tmp_path / "tb"
    proc = run(
        "profile", "--csv", str(csv_path), "--one-profile", "-c", "thunderbird", "-o", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    prefs = dict(parse_user_js((out / "user.js").read_text()))
    assert prefs["mail.accountmanager.appendaccounts"].count(",") == 1

    csv_path.write_text("email\njane@example.ch\nnot an address\n")
    target = tmp_path / "x.mobileconfig"
    proc = run("profile", "--csv", str(csv_path), "--one-profile", "-o", str(target))
    assert proc.returncode == 6
    assert "row 3 (not an address)" in proc.stderr
    assert not Path(target).exists()


def test_a_subset_of_services_is_another_combined_profile():
    full = build_multi_profile([JANE, INFO], PROVIDER, RenderOptions())
    mail = build_multi_profile([JANE, INFO], PROVIDER, RenderOptions(services=frozenset({"mail"})))
    assert mail["PayloadIdentifier"] == full["PayloadIdentifier"] + ".mail"
    assert {p["PayloadUUID"] for p in mail["PayloadContent"]}.isdisjoint(
        p["PayloadUUID"] for p in full["PayloadContent"]
    )


def test_cli_csv_one_profile_apple_is_valid(tmp_path):
    csv_path = tmp_path / "team.csv"
    csv_path.write_bytes(
        "\ufeffemail;name;sync_user\r\njane@example.ch;Jane;AB12345\r\n"
        "info@example.ch;Info;AB12345\r\nbob@example.ch;Bob;CD67890\r\n".encode()
    )
    out = tmp_path / "team.mobileconfig"
    proc = run("profile", "--csv", str(csv_path), "--one-profile", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    profile = plistlib.loads(out.read_bytes())
    assert validate_profile(profile) == []
    kinds = by_type(profile)
    assert len(kinds[MAIL]) == 3 and len(kinds["com.apple.caldav.account"]) == 2
