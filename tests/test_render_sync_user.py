"""One rule for the DAV login (issue 9 §3): without --sync-user, a provider that needs a
separate sync user gets no DAV login in any file (the app asks), and a warning on stderr."""

from __future__ import annotations

import dataclasses
import plistlib

import pytest
from defusedxml import ElementTree

from mailsetup.account import make_account
from mailsetup.provider import ProviderTexts, load_provider
from mailsetup.render import RenderOptions, render
from tests.cli import invoke
from tests.prefs_js import parse_user_js

PROVIDER = load_provider()

NS = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


def test_autodiscover_leaves_the_dav_login_out_and_warns():
    result = invoke(["profile", "-e", "jane@example.ch", "-c", "autodiscover", "-o", "-"])
    assert result.exit_code == 0, result.output
    root = ElementTree.fromstring(result.stdout.encode())
    protocols = root.findall(f"{NS}Response/{NS}Account/{NS}Protocol")
    logins = {p.findtext(f"{NS}Type"): p.findtext(f"{NS}LoginName") for p in protocols}
    assert logins["IMAP"] == "jane@example.ch"
    assert logins["CalDAV"] is None and logins["CardDAV"] is None
    assert "--sync-user" in result.stderr and "warning" in result.stderr


def test_with_the_sync_user_there_is_no_warning():
    result = invoke(
        [
            *("profile", "-e", "jane@example.ch", "--sync-user", "AB12345"),
            *("-c", "autodiscover", "-o", "-"),
        ],
    )
    assert result.exit_code == 0
    assert "<LoginName>AB12345</LoginName>" in result.stdout
    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("client", "fmt"),
    [
        ("apple", None),
        ("thunderbird", None),
        ("emclient", None),
        ("dav", "json"),
        ("dav", "davx5"),
        ("dav", "mobileconfig"),
    ],
)
def test_every_client_warns_when_the_dav_login_is_left_out(client, fmt):
    account = make_account("jane@example.ch")
    out = render(client, account, PROVIDER, RenderOptions(format=fmt))
    assert out.warnings and "--sync-user" in out.warnings[0]
    if client == "apple" or fmt == "mobileconfig":
        for payload in plistlib.loads(out.files[0].data)["PayloadContent"]:
            assert "CalDAVUsername" not in payload and "CardDAVUsername" not in payload
    if client == "thunderbird":
        (user_js,) = [f.data.decode() for f in out.files if f.name == "user.js"]
        names = [name for name, _ in parse_user_js(user_js)]
        assert not [n for n in names if n.endswith(("carddav.username", "registry.username"))]
        assert not [n for n in names if n.startswith("calendar.registry.") and "username" in n]


def test_provider_logging_in_with_the_address_writes_it_and_does_not_warn():
    provider = dataclasses.replace(PROVIDER, texts=ProviderTexts(sync_user="email"))
    out = render("apple", make_account("jane@example.ch"), provider, RenderOptions())
    assert out.warnings == []
    dav = plistlib.loads(out.files[0].data)["PayloadContent"][1]
    assert dav["CalDAVUsername"] == "jane@example.ch"
