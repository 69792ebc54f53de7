"""Where ``mailsetup profile`` writes, as a person runs it (issue: output paths).

Special files are made in the test's own folder (a FIFO, a symbolic link): never /dev/null.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, clean_env, run


def test_default_name_from_an_address_with_slashes_stays_in_the_folder(tmp_path: Path) -> None:
    proc = run("profile", "-e", "jane/x@example.ch", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["jane_x@example.ch.mobileconfig"]


def test_default_folder_name_is_safe_too(tmp_path: Path) -> None:
    proc = run("profile", "-e", "jane/x@example.ch", "--client", "thunderbird", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["jane_x@example.ch-thunderbird"]


def test_trailing_slash_means_a_folder(tmp_path: Path) -> None:
    proc = run("profile", "-e", "jane@example.ch", "-o", "newdir/", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "newdir" / "jane@example.ch.mobileconfig").is_file()


def test_a_nested_folder_for_a_multi_file_client_is_created(tmp_path: Path) -> None:
    proc = run("profile", "-e", "jane@example.ch", "-c", "thunderbird", "-o", "a/b/c", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a" / "b" / "c" / "user.js").is_file()


@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_force_refuses_special_files(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to(tmp_path / "elsewhere")
    proc = run("profile", "-e", "jane@example.ch", "-o", str(target), "--force")
    assert_one_line_error(proc, 4, "regular file" if kind == "fifo" else "symbolic link")
    assert target.is_symlink() or target.is_fifo()


@pytest.mark.parametrize(
    "args",
    [
        ("profile", "-e", "jane@example.ch", "-o", "-"),
        ("profile", "-e", "jane@example.ch", "-o", "OUT"),
        ("password", "set", "-e", "jane@example.ch"),
        ("inspect", "EVENT"),
    ],
)
def test_stdout_on_a_full_disk_is_exit_4(tmp_path: Path, args: tuple[str, ...]) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    (tmp_path / "event.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    argv = [
        a.replace("OUT", str(tmp_path / "out")).replace("EVENT", str(tmp_path / "event.ics"))
        for a in args
    ]
    env = clean_env({"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"})
    env["HOME"] = str(tmp_path)
    with Path("/dev/full").open("w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "mailsetup", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            input="secret\n",
            text=True,
            env=env,
            timeout=60,
        )
    assert_one_line_error(proc, 4, "standard output")


def test_closed_pipe_on_stdout_is_exit_4() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailsetup", "profile", "-e", "jane@example.ch", "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader goes away before a byte is read (``| true``)
    _, err = proc.communicate(timeout=60)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, "", err.decode())
    assert_one_line_error(result, 4, "standard output")


EMBED = ("-o", "-", "--embed-password")


def test_embed_password_to_a_terminal_is_refused() -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mailsetup", "profile", "-e", "jane@example.ch", *EMBED],
            stdout=follower,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=clean_env({"MAILSETUP_PASSWORD": "s3cret-on-screen"}),
            text=True,
            timeout=60,
        )
    finally:
        os.close(follower)
    os.set_blocking(leader, False)
    try:
        shown = os.read(leader, 65536)
    except OSError:
        shown = b""
    os.close(leader)
    assert b"s3cret-on-screen" not in shown
    assert_one_line_error(proc, 2, "terminal")


@pytest.mark.parametrize(
    "emails",
    [("-e", "jane.doe@example.ch"), ("-e", "jane.doe@example.ch", "-e", "info@example.ch")],
    ids=["one mailbox", "several in one profile"],
)
def test_a_trailing_slash_on_an_existing_file_never_replaces_that_file(tmp_path, emails):
    """`-o keep/ --force` with `keep` a regular file replaced the file with the profile,
    although a trailing slash means a folder (README)."""
    keep = tmp_path / "keep"
    keep.write_text("mine\n")
    proc = run("profile", *emails, "-o", "keep/", "--force", cwd=tmp_path)
    assert proc.returncode == 4, proc.stderr
    assert "folder" in proc.stderr
    assert keep.read_text() == "mine\n"
