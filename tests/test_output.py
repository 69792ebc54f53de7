"""Atomic writes: a failure at any point leaves the old file whole and no litter behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mailsetup.errors import OutputError
from mailsetup.model import safe_file_name
from mailsetup.output import OutputFile, write_atomic, write_files
from tests.support.disk import disk_full_at_fsync


def test_crash_before_rename_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "profile"
    target.write_bytes(b"old and whole")

    disk_full_at_fsync(monkeypatch, 1)
    with pytest.raises(OutputError, match="No space left"):
        write_atomic(target, b"new" * 1000, force=True)
    assert target.read_bytes() == b"old and whole"
    assert [p.name for p in tmp_path.iterdir()] == ["profile"]


def test_secret_files_are_private_from_the_first_byte(tmp_path: Path) -> None:
    write_atomic(tmp_path / "s", b"pw", secret=True)
    write_atomic(tmp_path / "p", b"public")
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "p").stat().st_mode) == 0o644 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_replacing_a_secret_with_force_keeps_it_private(tmp_path: Path) -> None:
    target = tmp_path / "s"
    target.write_bytes(b"x")
    target.chmod(0o644)
    write_atomic(target, b"pw", secret=True, force=True)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_bundle_checks_every_name_before_writing_any(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("keep")
    files = [OutputFile("a.txt", b"A"), OutputFile("b.txt", b"B")]
    with pytest.raises(OutputError, match=r"b\.txt"):
        write_files(tmp_path, files)
    assert not (tmp_path / "a.txt").exists()
    assert (tmp_path / "b.txt").read_text() == "keep"


def test_bundle_creates_its_folder_with_parents(tmp_path: Path) -> None:
    write_files(tmp_path / "x" / "y", [OutputFile("a", b"A")], make_dir=True)
    assert (tmp_path / "x" / "y" / "a").read_bytes() == b"A"


@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_force_never_replaces_a_fifo_or_symlink(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "special"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        (tmp_path / "real").write_text("keep")
        target.symlink_to(tmp_path / "real")
    with pytest.raises(OutputError, match=r"regular file|symbolic link") as err:
        write_atomic(target, b"x", force=True)
    assert err.value.exit_code == 4
    assert target.is_symlink() if kind == "symlink" else stat.S_ISFIFO(target.lstat().st_mode)
    if kind == "symlink":
        assert (tmp_path / "real").read_text() == "keep"


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", ""])
def test_a_name_that_leaves_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(OutputError):
        write_files(tmp_path / "d", [OutputFile(name, b"x")], make_dir=True)
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/x/y@example.ch.mobileconfig", "_x_y@example.ch.mobileconfig"),
        ("jane/x@example.ch", "jane_x@example.ch"),
        (".hidden@example.ch", "_hidden@example.ch"),
        ("..", "_"),
    ],
)
def test_safe_file_name(text: str, expected: str) -> None:
    assert safe_file_name(text) == expected


def test_safe_file_name_is_bounded_and_keeps_the_extension() -> None:
    name = safe_file_name("é" * 300 + "@example.ch.mobileconfig")
    assert len(name.encode()) <= 150
    assert name.endswith(".mobileconfig")


def test_a_folder_in_the_way_is_an_output_error(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_atomic(tmp_path / "d", b"x", force=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane.doe@example.ch.mobileconfig", "jane.doe@example.ch.mobileconfig"),
        (
            'a"b\\c\r\nSet-Cookie: x@example.ch.mobileconfig',
            "a_b_c__Set-Cookie__x@example.ch.mobileconfig",
        ),
        ("..zoë@example.ch", "zo_@example.ch"),
    ],
)
def test_download_name_cannot_break_out_of_the_header(text: str, expected: str) -> None:
    """serve and share both name downloads with it (Content-Disposition quoted-string)."""
    from mailsetup.model import download_name

    assert download_name(text) == expected
