"""Writing files: odd names, failing standard output, bundles that appear whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run
from tests.support.disk import disk_full_at_fsync


def test_an_output_name_that_is_not_utf8_is_written_and_reported(tmp_path: Path) -> None:
    """File names are bytes on POSIX: one that is not UTF-8 must not crash the "Wrote" line,
    even where standard output is strict UTF-8 (a UTF-8 locale, PYTHONIOENCODING)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "mailsetup", "profile", "--email", "jane@example.ch",
         "-o", b"jane\xff.mobileconfig"],
        cwd=tmp_path, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, capture_output=True,
        stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    assert proc.stdout.startswith(b"Wrote jane\xff.mobileconfig\n")
    assert os.listdir(os.fsencode(tmp_path)) == [b"jane\xff.mobileconfig"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_stdout_that_cannot_be_written_is_an_output_error() -> None:
    import subprocess
    import sys

    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "mailsetup", "profile", "--email", "a@example.ch", "-o", "-"],
            stdout=full, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, timeout=60,
        )  # fmt: skip
    assert_one_line_error(proc, 4, "standard output")


def test_a_bundle_with_force_and_a_folder_in_the_way_writes_nothing(tmp_path: Path) -> None:
    """thunderbird -o DIR --force where DIR/user.js is a folder: config-v1.1.xml used to be
    written before the error, leaving half a bundle."""
    out = tmp_path / "tb"
    (out / "user.js").mkdir(parents=True)
    proc = run(
        "profile", "--email", "a@example.ch", "--client", "thunderbird", "-o", str(out), "--force"
    )
    assert_one_line_error(proc, 4, "user.js")
    assert sorted(p.name for p in out.iterdir()) == ["user.js"]


def test_a_bundle_failing_half_way_leaves_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full while writing the second file: the first must not stay behind either."""
    from mailsetup.errors import OutputError
    from mailsetup.output import OutputFile, write_files

    disk_full_at_fsync(monkeypatch, 2)
    with pytest.raises(OutputError, match="No space left"):
        write_files(tmp_path, [OutputFile("a", b"A"), OutputFile("b", b"B")])
    assert list(tmp_path.iterdir()) == []


def test_a_multi_file_client_pointed_at_an_existing_file_says_so(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    proc = run("profile", "--email", "a@example.ch", "--client", "thunderbird", "-o", str(target))
    assert_one_line_error(proc, 4, "is a file, not a folder")
    assert "does not exist" not in proc.stderr
    assert target.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_embedded_password_is_never_printed_on_a_terminal(tmp_path):
    """Issue 9 section 2: `-o - --embed-password` on a terminal is refused (exit 2) before the
    password is shown; nothing tested this on a real terminal, so dropping the check passed."""
    from tests.cli import on_a_terminal

    secret = "Tr0ub4dor-on-screen"
    env = {"MAILSETUP_PASSWORD": secret, "HOME": str(tmp_path)}
    code, screen = on_a_terminal(
        "profile", "-e", "jane.doe@example.ch", "--embed-password", "-o", "-", env=env
    )
    assert code == 2, screen
    assert secret not in screen
    assert "terminal" in screen
