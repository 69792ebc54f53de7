"""One rule for the DAV login (issue 9 §3): without --sync-user, a provider that needs a
separate sync user gets no DAV login in any file (the app asks), and a warning on stderr."""

from __future__ import annotations

from defusedxml import ElementTree
from typer.testing import CliRunner

from mailsetup.cli import app

NS = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


def test_autodiscover_leaves_the_dav_login_out_and_warns():
    result = CliRunner().invoke(
        app, ["profile", "-e", "jane@example.ch", "-c", "autodiscover", "-o", "-"]
    )
    assert result.exit_code == 0, result.output
    root = ElementTree.fromstring(result.stdout.encode())
    protocols = root.findall(f"{NS}Response/{NS}Account/{NS}Protocol")
    logins = {p.findtext(f"{NS}Type"): p.findtext(f"{NS}LoginName") for p in protocols}
    assert logins["IMAP"] == "jane@example.ch"
    assert logins["CalDAV"] is None and logins["CardDAV"] is None
    assert "--sync-user" in result.stderr and "warning" in result.stderr


def test_with_the_sync_user_there_is_no_warning():
    result = CliRunner().invoke(
        app,
        [
            *("profile", "-e", "jane@example.ch", "--sync-user", "AB12345"),
            *("-c", "autodiscover", "-o", "-"),
        ],
    )
    assert result.exit_code == 0
    assert "<LoginName>AB12345</LoginName>" in result.stdout
    assert "warning" not in result.stderr
