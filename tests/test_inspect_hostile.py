"""``inspect`` against hostile and odd input: deep nesting, terminal control characters, stdin,
missing files among good ones, chunk boundaries anywhere, and fuzzing (issue 9 §5)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailsetup.inspect import ics, icschunks, inspect_file
from tests.cli import invoke
from tests.support import samples

LIMIT = 20 * 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
CAL_HEAD = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"


def run(*args: str, stdin: bytes | None = None):
    return invoke(["inspect", *args], input=stdin)


def codes(rep) -> dict[str, list[int | None]]:
    out: dict[str, list[int | None]] = {}
    for p in sorted(rep.problems.kept, key=lambda p: (p.line or 0, p.code)):
        out.setdefault(p.code, []).append(p.line)
    return out


def event(uid: str, extra: bytes = b"") -> bytes:
    return (
        b"BEGIN:VEVENT\r\nUID:"
        + uid.encode()
        + b"\r\nDTSTART:20240105T100000Z\r\n"
        + extra
        + b"END:VEVENT\r\n"
    )


# --- nesting ------------------------------------------------------------------------------


def test_alarms_nested_1000_deep_are_one_problem_with_its_line(tmp_path):
    deep = b"BEGIN:VALARM\r\n" * 1000 + b"END:VALARM\r\n" * 1000
    path = tmp_path / "deep.ics"
    path.write_bytes(CAL_HEAD + event("a") + event("b", deep) + event("c") + b"END:VCALENDAR\r\n")
    rep = inspect_file(path, LIMIT)
    # Line 4 + 4 lines of event a + 3 header lines of event b, then the 16th level opens.
    first_alarm = 4 + 4 + 3
    assert codes(rep) == {"too-deep": [first_alarm + 15 - 1]}
    assert rep.stats["events"] == 2  # the deep one is not counted, its neighbours are


def test_vcards_nested_1000_deep_do_not_lose_the_other_files(tmp_path):
    deep = tmp_path / "deep.vcf"
    deep.write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:a\r\nN:a;;;;\r\nEND:VCARD\r\n"
        + b"BEGIN:VCARD\r\n" * 1000
        + b"END:VCARD\r\n" * 1000
    )
    good = samples.write(tmp_path / "good.ics", samples.calendar(20))
    result = run("--json", str(deep), str(good))
    assert result.exit_code == 1, result.output
    first, second = json.loads(result.stdout)["files"]
    assert [p["code"] for p in first["problems"]] == ["too-deep"]
    assert first["problems"][0]["line"] == 6 + 16  # the 17th level
    assert first["stats"]["cards"] == 1
    assert second["will_import"] and second["stats"]["events"] == 20


# --- terminal control characters -----------------------------------------------------------

HOSTILE = "\x1b[2J\x07\x9b31m\u202eevil"


@pytest.mark.parametrize("as_json", [False, True])
def test_text_from_the_file_reaches_no_terminal_raw(tmp_path, as_json):
    name = HOSTILE.encode()
    path = tmp_path / "x.ics"
    path.write_bytes(
        CAL_HEAD
        + b"BEGIN:X-"
        + name
        + b"\r\nEND:X-"
        + name
        + b"\r\n"
        + event("u", b"DTEND:" + name + b"\r\nRRULE:FREQ=" + name + b"\r\n")
        + b"BEGIN:VEVENT\r\nDTSTART;TZID="
        + name
        + b":20240101T100000\r\nEND:VEVENT\r\n"
        + b"END:VCALENDAR\r\n"
    )
    vcf = tmp_path / "x.vcf"
    vcf.write_bytes(b"BEGIN:VCARD\r\nVERSION:" + name + b"\r\nFN:x\r\nEND:VCARD\r\n")
    result = run(*(["--json"] if as_json else []), str(path), str(vcf))
    assert result.exit_code == 1
    out = result.stdout
    if as_json:
        out = json.dumps(json.loads(out), ensure_ascii=False)
    assert "evil" in out
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", out), out


# --- stdin and missing files ---------------------------------------------------------------


def test_stdin_calendar_and_vcard_by_content():
    data = samples.calendar(30)
    result = run("--json", "-", stdin=data)
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)["files"]
    assert (doc["path"], doc["kind"], doc["size"]) == ("-", "ics", len(data))
    assert doc["stats"]["events"] == 30
    book = samples.address_book(9)
    result = run("--json", "-", stdin=book if isinstance(book, bytes) else book.encode())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["stats"]["cards"] == 9


def test_stdin_that_is_neither_kind_and_split_of_stdin():
    result = run("-", stdin=b"hello\n")
    assert result.exit_code == 1 and "[unknown-kind]" in result.output
    result = run("--split", "-", stdin=samples.calendar(3))
    assert result.exit_code == 2 and "standard input" in result.output


def test_stdin_through_the_real_command_line():
    proc = subprocess.run(
        [sys.executable, "-m", "mailsetup", "inspect", "-"],
        input=samples.calendar(10),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"events 10" in proc.stdout
    assert proc.stderr == b""  # no progress bar on a pipe


def test_a_folder_and_a_missing_file_among_good_ones(tmp_path):
    good = samples.write(tmp_path / "good.ics", samples.calendar(5))
    folder = tmp_path / "dir.ics"
    folder.mkdir()
    result = run("--json", str(tmp_path / "gone.ics"), str(folder), str(good))
    assert result.exit_code == 1
    docs = json.loads(result.stdout)["files"]
    assert [d["problems"][0]["code"] if d["problems"] else None for d in docs] == [
        "unreadable-file",
        "unreadable-file",
        None,
    ]
    assert docs[2]["will_import"]


# --- split: existing parts are refused before the file is read ----------------------------


def test_split_refuses_existing_parts_before_reading(tmp_path, monkeypatch):
    source = tmp_path / "cal.ics"
    source.write_bytes(samples.calendar(50))
    (tmp_path / "cal-part7.ics").write_bytes(b"from an earlier split")

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was read before the existing part was found")

    monkeypatch.setattr(ics, "inspect_ics_stream", no_reading)
    result = run("--split", str(source))
    assert result.exit_code == 4
    assert "cal-part7.ics" in result.output and "--force" in result.output


# --- chunk boundaries ----------------------------------------------------------------------


def _broken_calendar() -> bytes:
    from tests.test_inspect import BROKEN

    return BROKEN


@pytest.mark.parametrize("chunk", [7, 64, 333])
def test_chunk_size_changes_nothing(tmp_path, monkeypatch, chunk):
    """The reader cuts the file into chunks; wherever the cuts fall, the report is the same."""
    files = {
        "broken.ics": _broken_calendar(),
        "sample.ics": samples.calendar(60, todos=3).replace(
            b"END:VCALENDAR", b"BEGIN:VJOURNAL\r\nUID:j\r\nEND:VJOURNAL\r\nEND:VCALENDAR"
        ),
        "folded.ics": CAL_HEAD
        + b"BEGIN:VEVENT\r\nU\r\n ID:x\r\nDTST\r\n ART;TZID=Eur\r\n\tope/Zurich:2024\r\n"
        + b" 0101T100000\r\n"
        + b"BEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        expected = inspect_file(path, LIMIT).as_dict()
        monkeypatch.setattr(icschunks, "CHUNK", chunk)
        monkeypatch.setattr(icschunks, "COMPONENT_BOUND", chunk * 2)  # cut inside components too
        got = inspect_file(path, LIMIT).as_dict()
        monkeypatch.undo()
        assert got == expected, name


def test_typed_values_and_required_properties(tmp_path):
    path = tmp_path / "v.ics"
    path.write_bytes(
        CAL_HEAD  # lines 1-3
        + b"BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20240230T100000Z\r\n"  # 4-6: no 30 February
        + b"DTEND:20240101T250000Z\r\nDTSTAMP:yesterday\r\nDURATION:1H\r\n"  # 7-9
        + b"BEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\n"  # 10-12: no TRIGGER
        + b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    rep = inspect_file(path, LIMIT)
    assert codes(rep) == {"bad-value": [6, 7, 8, 9], "missing-property": [10]}
    assert rep.stats["first_start"] is None


# --- fuzzing -------------------------------------------------------------------------------

PIECES = [
    b"BEGIN:VCALENDAR",
    b"END:VCALENDAR",
    b"BEGIN:VEVENT",
    b"END:VEVENT",
    b"BEGIN:VALARM",
    b"END:VALARM",
    b"BEGIN:VTIMEZONE",
    b"END:VTIMEZONE",
    b"TZID:Europe/Zurich",
    b"UID:x",
    b"DTSTART:20240101T100000Z",
    b"DTSTART;TZID=Europe/Zurich:20240101T100000",
    b"DTSTART;TZID=Nowhere:2024",
    b"DTSTART;VALUE=DATE:20240229",
    b"RRULE:FREQ=WEEKLY;UNTIL=20240101",
    b"RRULE:FREQ=;;==",
    b"RDATE:20240101",
    b'X-A;P="x:y',
    b"DURATION:PT",
    b"TZOFFSETFROM:+9999",
    b" folded",
    b"\tfolded",
    b"",
    b"\xff\xfe",
    b"\x1b[31m",
    b"begin:vevent",
    b"end:vevent",
]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=40)), min_size=0, max_size=80),
    st.sampled_from([b"\r\n", b"\n", b"\r"]),
    st.sampled_from([5, 50, 4096]),
)
def test_hostile_calendars_never_crash(tmp_path, monkeypatch, pieces, newline, chunk):
    monkeypatch.setattr(icschunks, "CHUNK", chunk)
    monkeypatch.setattr(icschunks, "COMPONENT_BOUND", chunk * 2)
    path = tmp_path / "fuzz.ics"
    path.write_bytes(newline.join(pieces))
    started = time.monotonic()
    rep = inspect_file(path, 1000)
    assert time.monotonic() - started < 5
    doc = rep.as_dict()
    json.dumps(doc)
    assert rep.kind == "ics" or rep.problems.counts
    for problem in rep.problems.kept:
        assert problem.line is None or problem.line >= 1


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_as_vcard_never_crash(data):
    from io import BytesIO

    from mailsetup.inspect.vcf import inspect_vcf_stream

    rep = inspect_vcf_stream(BytesIO(b"BEGIN:VCARD\r\n" + data), "fuzz.vcf")
    json.dumps(rep.as_dict())


# --- progress -----------------------------------------------------------------------------


class _Terminal:
    """Standard error that says it is a terminal and keeps what is written."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_a_progress_bar_on_a_terminal_only_for_a_slow_file(tmp_path, monkeypatch, capsys):
    from mailsetup.commands import inspect as command

    path = samples.write(tmp_path / "c.ics", samples.calendar(400))
    request = command.InspectRequest(files=[path])
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(icschunks, "CHUNK", 1024)  # many progress calls
    assert command.run_inspect(request)
    assert terminal.written == []  # well under a second: nothing shown
    monkeypatch.setattr(command._Progress, "DELAY", 0.0)
    assert command.run_inspect(request)
    assert "c.ics" in "".join(terminal.written), terminal.written
    assert "events 400" in capsys.readouterr().out


@pytest.mark.parametrize(
    "line",
    [
        b"X-A" + b";P" * 200_000 + b"\r\n",
        b'X-A;P="' + b"x" * 400_000 + b"\r\n",
        b"DTEND" + b";TZID=a" * 50_000 + b":x\r\n",
        b"x;tzid=" * 100_000 + b"\r\n",
        b"DTSTART;TZID=" + b";" * 300_000 + b"\r\n",
        b"TRIGGER:P" + b"1W" * 200_000 + b"\r\n",
        b" \r\n" * 100_000,
    ],
)
def test_pathological_lines_take_bounded_time(tmp_path, line):
    """No pattern backtracks on a long line: each case is read in well under a second here."""
    path = tmp_path / "p.ics"
    path.write_bytes(
        CAL_HEAD + b"BEGIN:VEVENT\r\nUID:a\r\n" + line + b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    started = time.monotonic()
    rep = inspect_file(path, LIMIT)
    assert time.monotonic() - started < 5
    assert rep.stats["events"] == 1


@pytest.mark.parametrize(
    ("line", "unreadable"),
    [
        (b"X-A" + b";P" * 30 + b"\r\n", True),  # vobject's own pattern: minutes, then forever
        (b"TEL;" + b"a=b," * 40 + b"\r\n", True),
        (b"TEL;" + b"a=b," * 4000 + b":1\r\n", False),
        (b'X-A;P="' + b"x" * 10_000 + b"\r\n", True),
    ],
)
def test_vcard_lines_that_made_vobject_backtrack(line, unreadable):
    from io import BytesIO

    from mailsetup.inspect.vcf import inspect_vcf_stream

    card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nN:x;;;;\r\n" + line + b"END:VCARD\r\n"
    started = time.monotonic()
    rep = inspect_vcf_stream(BytesIO(card), "x.vcf")
    assert time.monotonic() - started < 5
    assert (rep.problems.counts == {"unreadable-line": 1}) is unreadable
    assert rep.stats["cards"] == 1
