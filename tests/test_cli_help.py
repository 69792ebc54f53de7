"""``mailsetup profile --help`` names every client and every sub-format a person can choose.

README.md and docs/ describe ``--client`` and ``--format`` choices; the help text must list the
same ones, taken here from the registry the command itself uses (mailsetup/clients.py).
"""

from __future__ import annotations

import re

import pytest

from mailsetup.clients import CLIENTS, all_format_names
from tests.cli import run


def _help_text() -> str:
    proc = run("profile", "--help")
    assert proc.returncode == 0, proc.stderr
    return " ".join(proc.stdout.split())  # undo click's line wrapping


def test_profile_help_lists_every_client_and_dav_format() -> None:
    text = _help_text()
    client_choices = re.search(r"--client <([^>]*)>(.*?)--services", text)
    assert client_choices, text
    assert client_choices.group(1).split("|") == list(CLIENTS)
    for spec in CLIENTS.values():
        assert f"{spec.name}: {spec.summary}" in client_choices.group(2), spec.name
    format_choices = re.search(r"--format <([^>]*)>", text)
    assert format_choices, text
    assert format_choices.group(1).split("|") == list(all_format_names())


def test_option_types_are_words_people_know() -> None:
    """No Python type names (``<str>``, ``<list[Path]>``...) in any help: a metavar is a word
    (ADDRESS, PATH, SECONDS, FILE) and angle brackets only ever hold a list of choices."""
    for command in ("", "profile", "check", "inspect", "providers", "password", "password set"):
        text = run(*command.split(), "--help").stdout
        for bracketed in re.findall(r"<([^>]*)>", text):
            assert re.fullmatch(r"[a-z0-9-]+(\|[a-z0-9-]+)+", bracketed), (command, bracketed)


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args", [("--help",), ("profile", "--help"), ("inspect", "--help"), ("password", "--help")]
)
def test_help_onto_a_full_stdout_is_exit_4(args):
    """The help text sat in the stream's buffer and was lost at exit without a word (exit 0):
    a failing stdout is exit 4 with one line everywhere."""
    import subprocess
    import sys

    from tests.cli import assert_one_line_error

    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "mailsetup", *args],
            stdout=full, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, timeout=60,
        )  # fmt: skip
    assert_one_line_error(proc, 4, "standard output")


def test_no_help_text_shows_a_python_type():
    """`inspect --help` showed `FILE <list[Path]>`: typer adds the Python type after an
    argument's metavar. Only choice lists (`<a|b>`) may stand in angle brackets."""
    import re

    from tests.cli import run

    for command in ("", "profile", "check", "inspect", "providers", "password", "password set"):
        text = run(*command.split(), "--help").stdout
        for found in re.findall(r"<([^<>\s]*)>", text):
            assert "|" in found, (command, found)
        assert not re.search(r"^\s+(-\w, )?--[\w-]+ None\b", text, re.M), (command, text)
