"""Providers by name (issue 10 §3): --provider NAME, `mailsetup providers`, one default id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli import invoke

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str):
    return invoke(list(args))


def test_providers_lists_the_bundled_ones_with_their_services():
    result = _run("providers")
    assert result.exit_code == 0, result.output
    (line,) = [ln for ln in result.stdout.splitlines() if ln.strip().startswith("infomaniak")]
    assert "(default)" in line and "Infomaniak" in line and "mail,caldav,carddav" in line


@pytest.mark.parametrize(
    "command",
    [
        ["profile", "-e", "a@example.ch", "-o", "-"],
        ["check", "-e", "a@example.ch"],
        ["inspect", "x.ics"],
    ],
)
def test_unknown_provider_names_the_known_ones_exit_3(command, tmp_path):
    (tmp_path / "x.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    args = [a if a != "x.ics" else str(tmp_path / "x.ics") for a in command]
    result = _run(*args, "--provider", "acme")
    assert result.exit_code == 3, result.output
    assert "unknown provider 'acme'" in result.stderr and "infomaniak" in result.stderr


def test_provider_by_name_gives_the_same_bytes_as_the_default():
    named = _run("profile", "-e", "a@example.ch", "--provider", "infomaniak", "-o", "-")
    default = _run("profile", "-e", "a@example.ch", "-o", "-")
    assert named.exit_code == default.exit_code == 0
    assert named.stdout == default.stdout


def test_provider_and_provider_file_together_is_bad_input(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text((ROOT / "profiles" / "infomaniak.toml").read_text())
    result = _run(
        "profile", "-e", "a@example.ch", "--provider", "infomaniak", "--provider-file", str(path)
    )
    assert result.exit_code == 2
    assert "only one" in result.stderr


def test_the_default_provider_id_is_written_in_one_place():
    hits = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "mailsetup").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"""["']infomaniak["']""", line)
    ]
    assert len(hits) == 1 and hits[0].startswith("mailsetup/provider.py:"), hits


def test_providers_lists_every_client_with_its_formats():
    """The client list comes from the registry: every client and every --format value."""
    from mailsetup.clients import CLIENTS
    from tests.cli import run

    proc = run("providers")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    clients = lines[lines.index("Clients (mailsetup profile --client NAME [--format FORMAT]):") :]
    for spec in CLIENTS.values():
        (line,) = [ln for ln in clients if ln.split() and ln.split()[0] == spec.name]
        assert spec.summary in line
        assert (",".join(spec.format_names) or "-") in line.split()
