"""inspect on hostile inputs: devices, FIFOs, giant lines, half-written splits; a clear
answer, bounded time and memory, nothing left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run
from tests.support.disk import disk_full_at_fsync


def test_inspect_refuses_a_fifo_at_once_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "calendar.ics"
    os.mkfifo(fifo)
    proc = run("inspect", str(fifo), timeout=20)
    assert_one_line_error(proc, 2, "not a regular file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_inspect_refuses_a_device_behind_an_ics_name(tmp_path: Path) -> None:
    """An endless device must not be read until memory runs out."""
    link = tmp_path / "calendar.ics"
    link.symlink_to("/dev/zero")
    proc = run("inspect", str(link), timeout=20)
    assert_one_line_error(proc, 2, "not a regular file")


def test_a_huge_line_is_reported_and_memory_stays_bounded(tmp_path: Path) -> None:
    """A 40 MB one-line DESCRIPTION: reported with its line, read in bounded memory (it took
    about ten times the line's size before), and the events around it still counted."""
    import tracemalloc

    from mailsetup.inspect import inspect_file

    path = tmp_path / "huge.ics"
    with path.open("wb") as fh:
        fh.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n")
        fh.write(b"BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20240101T000000Z\r\nDESCRIPTION:")
        fh.write(b"x" * 40_000_000)
        fh.write(b"\r\nEND:VEVENT\r\n")
        fh.write(b"BEGIN:VEVENT\r\nUID:2\r\nDTSTART:20240102T000000Z\r\nEND:VEVENT\r\n")
        fh.write(b"END:VCALENDAR\r\n")
    tracemalloc.start()
    rep = inspect_file(path, 20 * 1024 * 1024)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    found = {p.code: p.line for p in rep.problems.kept}
    assert found.get("line-too-long") == 7
    assert rep.stats["events"] == 2
    assert peak < 200_000_000, peak


def test_folded_lines_are_bounded_too() -> None:
    import io

    from mailsetup.inspect.contentlines import logical_lines
    from mailsetup.inspect.report import Problems

    data = b"BEGIN:VCARD\r\nNOTE:" + b"a" * 50 + b"\r\n" + b" " + b"b" * 60 + b"\r\n" * 1
    data += b" " + b"c" * 60 + b"\r\nEND:VCARD\r\n"
    problems = Problems()
    lines = list(logical_lines(io.BytesIO(data), problems, max_line=100))
    assert [p.code for p in problems.kept] == ["line-too-long"]
    assert [lg.line for lg in lines] == [1, 2, 5]
    assert lines[1].text == "NOTE:" + "a" * 50  # what came before the limit, not the rest
    assert lines[1].end == data.index(b"END:VCARD")


def test_a_split_failing_half_way_leaves_no_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailsetup.errors import OutputError
    from mailsetup.inspect import inspect_file

    source = tmp_path / "cal.ics"
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{i}\r\nDTSTART:20240101T000000Z\r\nSUMMARY:{'x' * 200}\r\n"
        "END:VEVENT\r\n"
        for i in range(60)
    )
    source.write_text(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{events}END:VCALENDAR\r\n")
    out = tmp_path / "parts"
    out.mkdir()
    disk_full_at_fsync(monkeypatch, 3)
    with pytest.raises(OutputError, match="No space left"):
        inspect_file(source, 4000, split_dir=out)
    assert list(out.iterdir()) == []
