"""Provider-neutral renderers (issue 10 §4): with another provider's file, no file, instruction
or warning of any client or DAV format names Infomaniak, its products or its sync-id format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mailsetup.account import make_account
from mailsetup.errors import BadInput
from mailsetup.provider import parse_provider
from mailsetup.render import RenderOptions, render
from tests.cli import invoke

ACME = """
[provider]
id = "acme"
name = "Acme Mail"
identifier_prefix = "net.acme.mailsetup"
password_hint = "use your Acme password"

[texts]
sync_user = "separate"
sync_user_example = "acme-42"

[imap]
host = "imap.acme.example"
port = 993
security = "ssl"

[smtp]
host = "smtp.acme.example"
port = 587
security = "starttls"
alternatives = [{ port = 465, security = "ssl" }]

[caldav]
url = "https://dav.acme.example"
home = "/cal/%SYNCUSER%/"

[carddav]
url = "https://dav.acme.example"
"""
# The default provider, its products and advice, its sync-id format (two letters, five digits);
# the other neutrality tests import this one list.
FOREIGN = re.compile(
    r"infomaniak|ksuite|kdrive|mail service|swiss backup|two-factor|configuration assistant"
    r"|\b[A-Z]{2}[0-9]{5}\b",
    re.I,
)
CASES = [
    ("apple", None),
    ("thunderbird", None),
    ("emclient", None),
    ("autodiscover", None),
    ("dav", "json"),
    ("dav", "vdirsyncer"),
    ("dav", "davx5"),
    ("dav", "mobileconfig"),
]


@pytest.mark.parametrize(("client", "fmt"), CASES)
@pytest.mark.parametrize("sync_user", [None, "acme-42"])
def test_no_output_names_the_default_provider(client, fmt, sync_user):
    provider = parse_provider(ACME, "acme.toml")
    account = make_account("jane@acme.example", "Jane", sync_user)
    if client == "dav" and fmt == "vdirsyncer" and sync_user is None:
        with pytest.raises(BadInput) as err:  # its refusal and hint must be neutral too
            render(client, account, provider, RenderOptions(format=fmt))
        said = f"{err.value.message} {err.value.hint}"
        assert "--sync-user" in said and FOREIGN.search(said) is None, said
        return
    out = render(client, account, provider, RenderOptions(format=fmt))
    texts = [f.data.decode("utf-8", "replace") for f in out.files if not f.name.endswith(".png")]
    for text in [*texts, *out.instructions, *out.warnings]:
        found = FOREIGN.search(text)
        assert found is None, (client, fmt, found and text[found.start() - 60 : found.end() + 60])
    assert any("acme" in t.lower() for t in texts)  # it did render for Acme


def test_cli_errors_and_help_for_the_sync_user_are_neutral(tmp_path: Path):
    path = tmp_path / "acme.toml"
    path.write_text(ACME)
    result = invoke(
        [
            "profile",
            "-e",
            "jane@acme.example",
            "--provider-file",
            str(path),
            "-c",
            "dav",
            "--format",
            "vdirsyncer",
            "--sync-user",
            "bad user!",
        ],
    )
    assert result.exit_code == 2
    assert FOREIGN.search(result.stderr) is None, result.stderr
