"""``mailsetup profile --client thunderbird|emclient|autodiscover`` as a person runs it."""

from __future__ import annotations

import subprocess

import pytest

from tests.cli import run
from tests.prefs_js import parse_user_js


def mailsetup(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``mailsetup profile`` for Jean Dupont, through the one CLI runner (clean environment)."""
    return run(
        "profile", "-e", "jean.dupont@example.ch", "-n", "Jean Dupont", "--sync-user", "AB12345",
        *args, env=env,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("client", "names"),
    [
        ("thunderbird", {"config-v1.1.xml", "user.js", "README.txt"}),
        ("emclient", {"autodiscover.xml", "setup-sheet.md", "setup-sheet.html"}),
    ],
)
def test_folder_clients_write_their_files(tmp_path, client, names):
    target = tmp_path / "out"
    result = mailsetup("--client", client, "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert {p.name for p in target.iterdir()} == names
    for name in names:
        assert f"Wrote {target / name}" in result.stdout
    again = mailsetup("--client", client, "-o", str(target))
    assert again.returncode == 4 and "already exists" in again.stderr


def test_thunderbird_output_is_what_the_renderer_says(tmp_path):
    result = mailsetup("--client", "thunderbird", "-o", str(tmp_path / "tb"))
    assert result.returncode == 0
    prefs = dict(parse_user_js((tmp_path / "tb" / "user.js").read_text()))
    assert prefs["mail.accountmanager.appendaccounts"].startswith("mailsetup_")
    assert "README.txt" in result.stdout  # the printed instructions point at it


def test_autodiscover_to_stdout():
    result = mailsetup("--client", "autodiscover", "-o", "-")
    assert result.returncode == 0
    assert result.stdout.startswith('<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover')


def test_multi_file_client_refuses_stdout():
    result = mailsetup("--client", "thunderbird", "-o", "-")
    assert result.returncode == 4
    assert "several files" in result.stderr


def test_embed_password_is_a_usage_error(tmp_path):
    result = mailsetup(
        "--client",
        "thunderbird",
        "--embed-password",
        "-o",
        str(tmp_path / "x"),
        env={"MAILSETUP_PASSWORD": "not-used-secret"},
    )
    assert result.returncode == 2
    assert "not-used-secret" not in result.stdout + result.stderr
    assert not (tmp_path / "x").exists()
