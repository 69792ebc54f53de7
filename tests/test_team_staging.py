"""Staging for ``profile --csv``: a file has its name only once complete, never takes one that
exists, and leaves nothing behind when dropped; unnamed (``O_TMPFILE``) where the kernel and
file system allow it, under a temporary name everywhere else.

The fallback is reached two ways: ``unnamed=False`` (what ``--atomic`` uses), and an
"unsupported" error injected where the kernel would give it (no file system here lacks
``O_TMPFILE``), to prove that the probe chooses named files before any row is staged.
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from mailsetup.commands.bulk import BulkRequest, run_bulk
from mailsetup.errors import OutputError
from mailsetup.model import OutputFile
from mailsetup.team import staging
from mailsetup.team.bulk import BulkWriter
from mailsetup.team.staging import Stager
from tests.support.disk import disk_full_at_fsync

HAS_TMPFILE = hasattr(os, "O_TMPFILE")
EXISTS = OutputError("taken")


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(params=["unnamed", "named"])
def stager(request, tmp_path):
    if request.param == "unnamed" and not HAS_TMPFILE:
        pytest.skip("no O_TMPFILE on this system")
    found = Stager(str(tmp_path), unnamed=None if request.param == "unnamed" else False)
    assert found.unnamed == (request.param == "unnamed")
    yield found
    found.close()


def test_a_staged_file_gets_its_name_complete_and_never_takes_one_in_use(stager, tmp_path):
    (tmp_path / "theirs.txt").write_bytes(b"theirs")
    first = stager.write("mine.txt", b"mine " * 1000)
    clash = stager.write("theirs.txt", b"ours")
    stager.sync()
    stager.name(first, "mine.txt", replace=False, exists=EXISTS)
    assert (tmp_path / "mine.txt").read_bytes() == b"mine " * 1000
    with pytest.raises(OutputError, match="taken"):
        stager.name(clash, "theirs.txt", replace=False, exists=EXISTS)
    assert (tmp_path / "theirs.txt").read_bytes() == b"theirs"
    assert visible(tmp_path) == ["mine.txt", "theirs.txt"]  # the refused file left nothing

    again = stager.write("theirs.txt", b"replaced")
    stager.name(again, "theirs.txt", replace=True, exists=EXISTS)
    assert (tmp_path / "theirs.txt").read_bytes() == b"replaced"
    assert visible(tmp_path) == ["mine.txt", "theirs.txt"]


def test_a_name_in_a_sub_folder(stager, tmp_path):
    (tmp_path / "jane-thunderbird").mkdir()
    staged = stager.write("jane-thunderbird/user.js", b"user_pref();")
    stager.sync()
    stager.name(staged, "jane-thunderbird/user.js", replace=False, exists=EXISTS)
    assert (tmp_path / "jane-thunderbird/user.js").read_bytes() == b"user_pref();"


def test_dropped_files_leave_nothing(stager, tmp_path):
    staged = [stager.write(f"f{i}", b"x") for i in range(3)]
    if stager.unnamed:
        assert visible(tmp_path) == []  # not even a temporary name while staged
    else:
        assert len(visible(tmp_path)) == 3
    for s in staged:
        stager.drop(s)
    stager.sweep()
    assert visible(tmp_path) == []


@pytest.mark.skipif(not HAS_TMPFILE, reason="no O_TMPFILE on this system")
@pytest.mark.parametrize(
    ("where", "code"),
    [
        ("_open_unnamed", errno.EOPNOTSUPP),  # a file system without O_TMPFILE
        ("_open_unnamed", errno.EISDIR),  # a kernel older than 3.11
        ("_link_unnamed", errno.ENOENT),  # no /proc
        ("_link_unnamed", errno.EPERM),  # a sandbox that refuses the link
    ],
)
def test_the_probe_falls_back_to_named_files(monkeypatch, tmp_path, where, code):
    def unsupported(*args: object) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(staging, where, unsupported)
    found = Stager(str(tmp_path))
    assert not found.unnamed
    assert visible(tmp_path) == []  # the probe left nothing
    staged = found.write("a.txt", b"data")
    assert isinstance(staged, str)
    found.sync()
    found.name(staged, "a.txt", replace=False, exists=EXISTS)
    assert visible(tmp_path) == ["a.txt"]
    found.close()


@pytest.mark.skipif(not HAS_TMPFILE, reason="no O_TMPFILE on this system")
def test_out_of_descriptors_the_file_is_staged_named(monkeypatch, tmp_path):
    found = Stager(str(tmp_path))
    assert found.unnamed

    def exhausted(dir_fd: int) -> int:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    monkeypatch.setattr(staging, "_open_unnamed", exhausted)
    staged = found.write("a.txt", b"data")
    assert isinstance(staged, str)
    found.name(staged, "a.txt", replace=False, exists=EXISTS)
    assert (tmp_path / "a.txt").read_bytes() == b"data"
    found.close()


def test_a_batch_holds_at_most_half_the_descriptor_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    try:
        assert staging._fd_budget() == 32
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert staging._fd_budget() == min(staging.BATCH_FILES, soft // 2)


def test_a_run_under_a_low_descriptor_limit(tmp_path):
    """Thunderbird rows (three files each) with 64 descriptors: without the budget a batch of
    500 rows would hold 1,500 unnamed files open."""
    rows = "".join(f"user{i}@example.ch\n" for i in range(120))
    path = tmp_path / "team.csv"
    path.write_text("email\n" + rows)
    out = tmp_path / "out"
    script = (
        "import resource, sys\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))\n"
        "from mailsetup.__main__ import main\n"
        "sys.argv = ['mailsetup', *sys.argv[1:]]\n"
        "main()\n"
    )
    args = ["profile", "--csv", str(path), "-o", str(out), "--client", "thunderbird"]
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(list(out.glob("*-thunderbird/user.js"))) == 120
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_the_whole_run_with_named_files(monkeypatch, tmp_path):
    """``profile --csv`` where unnamed files are unsupported: the same files, no litter."""

    def unsupported(dir_fd: int) -> int:
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))

    monkeypatch.setattr(staging, "_open_unnamed", unsupported)
    path = tmp_path / "team.csv"
    path.write_text("email,client\njane@example.ch,\ninfo@example.ch,thunderbird\n")
    out = tmp_path / "out"
    tally = run_bulk(BulkRequest(csv=path, output=str(out)))
    assert tally.files == {"written": 4}
    assert visible(out) == [
        "index.csv",
        "info@example.ch-thunderbird",
        "jane@example.ch.mobileconfig",
    ]


def test_a_file_that_appears_in_a_new_folder_is_not_overwritten(tmp_path):
    """A new (empty) folder is not compared with the disk row by row; a file another program
    puts there meanwhile still stops the run at the link, and is left as it was."""
    out = tmp_path / "out"
    with BulkWriter(out) as writer:
        planned = writer.plan(2, [("a@example.ch.mobileconfig", OutputFile("a", b"ours"))])
        assert [p.status for p in planned] == ["written"]
        (out / "a@example.ch.mobileconfig").write_bytes(b"theirs")
        writer.add(2, "a@example.ch", planned)
        with pytest.raises(OutputError, match="appeared while writing"):
            writer.finish()
    assert (out / "a@example.ch.mobileconfig").read_bytes() == b"theirs"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_full_disk_at_the_index_is_an_error_not_a_written_index(tmp_path, monkeypatch):
    """The rows' files are flushed with syncfs; index.csv is the one file synced alone. When
    that sync fails (a full disk) the run says so (exit 4), and index.csv is not put in place
    over data that may not be on disk."""
    out = tmp_path / "out"
    with BulkWriter(out) as writer:
        planned = writer.plan(2, [("a@example.ch.mobileconfig", OutputFile("a", b"ours"))])
        writer.add(2, "a@example.ch", planned)
        disk_full_at_fsync(monkeypatch, 1)
        with pytest.raises(OutputError, match=r"cannot write index\.csv: No space left"):
            writer.finish()
    assert not (out / "index.csv").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
