"""``mailsetup profile --help`` names every client and every sub-format a person can choose.

README.md and docs/ describe ``--client`` and ``--format`` choices; the help text must list the
same ones, taken here from the registry the command itself uses.
"""

from __future__ import annotations

import importlib
import re

from tests.cli import run


def _help_text() -> str:
    proc = run("profile", "--help")
    assert proc.returncode == 0, proc.stderr
    return " ".join(proc.stdout.split())  # undo click's line wrapping


def test_profile_help_lists_every_client_and_dav_format() -> None:
    from mailsetup.render import CLIENTS

    text = _help_text()
    client_help = re.search(r"--client <str>(.*?)--services", text)
    assert client_help, text
    for client in CLIENTS:
        assert client in client_help.group(1), client
    format_help = re.search(r"--format <str>(.*?)-o, --output", text)
    assert format_help, text
    for fmt in importlib.import_module(CLIENTS["dav"]).FORMATS:
        assert fmt in format_help.group(1), fmt
