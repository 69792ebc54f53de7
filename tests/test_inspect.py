"""``mailsetup inspect``: real-world shaped files, broken files, the split, and hands off inputs."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsetup.inspect import inspect_file
from mailsetup.inspect.contentlines import logical_lines
from mailsetup.inspect.report import Problems
from tests.cli import invoke
from tests.support import samples

LIMIT = 20 * 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    return invoke(["inspect", *args])


def digest(paths):
    return {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths}


def report(path: Path, limit: int = LIMIT):
    return inspect_file(path, limit)


def codes(rep) -> dict[str, list[int | None]]:
    out: dict[str, list[int | None]] = {}
    for p in rep.problems.kept:
        out.setdefault(p.code, []).append(p.line)
    return out


def provider_with_limit(tmp_path: Path, limit: int) -> Path:
    text = (ROOT / "profiles" / "infomaniak.toml").read_text()
    path = tmp_path / "provider.toml"
    path.write_text(text.replace("ics_max_bytes = 20_971_520", f"ics_max_bytes = {limit}"))
    return path


# --- calendars ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_calendar(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cal") / "export.ics"
    return samples.write(path, samples.calendar(2000, todos=40))


def test_thousands_of_events_are_counted(big_calendar):
    rep = report(big_calendar)
    assert rep.will_import
    s = rep.stats
    assert (s["events"], s["todos"]) == (2000, 40)
    assert s["recurring_events"] == 250  # every 8th event has an RRULE
    assert s["all_day_events"] == 200
    assert s["timezones"] == [{"tzid": "Europe/Zurich", "defined": True, "used": True}]
    assert s["first_start"] == "2020-01-06T09:00:00+01:00"
    assert s["last_start"].startswith("2021-08-")
    assert rep.problems.counts == {}


def test_cli_table_and_exit_0(big_calendar):
    result = run(str(big_calendar))
    assert result.exit_code == 0, result.output
    assert "will import" in result.output
    assert "events 2000 (250 recurring, 200 all-day), tasks 40" in result.output
    assert "Europe/Zurich (defined)" in result.output


def test_cli_json_shape(big_calendar, tmp_path):
    bad = tmp_path / "bad.ics"
    bad.write_bytes(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    result = run("--json", str(big_calendar), str(bad))
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["will_import"] is False
    first, second = doc["files"]
    assert first["will_import"] is True and first["stats"]["events"] == 2000
    assert second["problems"] == [
        {
            "severity": "error",
            "code": "missing-dtstart",
            "line": 2,
            "message": "VEVENT has no DTSTART (required by RFC 5545 3.6.1 without a METHOD)",
        }
    ]


BROKEN = (
    b"BEGIN:VCALENDAR\r\n"  # 1
    b"VERSION:2.0\r\n"  # 2
    b"PRODID:-//x//EN\r\n"  # 3
    b"BEGIN:VEVENT\r\n"  # 4
    b"UID:no-start\r\n"  # 5
    b"SUMMARY:Forgot the start\r\n"  # 6
    b"END:VEVENT\r\n"  # 7
    b"BEGIN:VEVENT\r\n"  # 8
    b"UID:bad-rule\r\n"  # 9
    b"DTSTART:20240105T100000Z\r\n"  # 10
    b"RRULE:FREQ=FORTNIGHTLY;COUNT=3\r\n"  # 11
    b"END:VEVENT\r\n"  # 12
    b"BEGIN:VEVENT\r\n"  # 13
    b"UID:latin1\r\n"  # 14
    b"DTSTART:20240106T100000Z\r\n"  # 15
    b"SUMMARY:Caf\xe9 cr\xe8me\r\n"  # 16  (ISO-8859-1, not UTF-8)
    b"END:VEVENT\r\n"  # 17
    b"BEGIN:VEVENT\r\n"  # 18
    b"UID:fold\r\n"  # 19
    b"DTSTART:20240107T100000Z\r\n"  # 20
    b"DESCRIPTION:This description was folded by a tool that\r\n"  # 21
    b"forgot the leading space\r\n"  # 22
    b"END:VEVENT\r\n"  # 23
    b"BEGIN:VEVENT\r\n"  # 24
    b"UID:tz\r\n"  # 25
    b"DTSTART;TZID=Europe/Berlin:20240108T100000\r\n"  # 26
    b"END:VEVENT\r\n"  # 27
    b"BEGIN:VEVENT\r\n"  # 28
    b"UID:until\r\n"  # 29
    b"DTSTART:20240109T100000Z\r\n"  # 30
    b"RRULE:FREQ=DAILY;UNTIL=20240110T100000\r\n"  # 31  (UNTIL must be UTC here)
    b"END:VEVENT\r\n"  # 32
    b"BEGIN:VEVENT\r\n"  # 33
    b"UID:cut\r\n"  # 34
    b"DTSTART:20240110T100000Z\r\n"  # 35
)


def test_broken_calendar_errors_with_line_numbers(tmp_path):
    path = tmp_path / "broken.ics"
    path.write_bytes(BROKEN)
    rep = report(path)
    assert not rep.will_import
    assert codes(rep) == {
        "missing-dtstart": [4],
        "bad-rrule": [11, 31],
        "invalid-utf8": [16],
        "broken-fold": [22],
        "timezone-not-defined": [26],
        "unbalanced": [33],
    }
    severities = {p.code: p.severity for p in rep.problems.kept}
    assert severities["timezone-not-defined"] == "warning"
    # The cut-off last event is not counted; the others are.
    assert rep.stats["events"] == 6


def test_unknown_timezone_is_an_error(tmp_path):
    path = tmp_path / "tz.ics"
    path.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        b"DTSTART;TZID=Outlook Custom Zone 7:20240108T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    rep = report(path)
    assert codes(rep) == {"timezone-unknown": [5]}
    assert not rep.will_import


def test_lf_line_endings_and_bom_are_accepted(tmp_path):
    data = samples.calendar(50).replace(b"\r\n", b"\n")
    path = tmp_path / "lf.ics"
    path.write_bytes(b"\xef\xbb\xbf" + data)
    rep = report(path)
    assert rep.will_import and rep.stats["events"] == 50


def test_too_large_file_exits_1_and_names_the_limit(tmp_path, big_calendar):
    provider = provider_with_limit(tmp_path, 100_000)
    result = run("--provider-file", str(provider), str(big_calendar))
    assert result.exit_code == 1
    assert "[too-large]" in result.output and "use --split" in result.output


def test_a_bad_date_is_reported_with_its_line_and_others_still_read(tmp_path):
    path = tmp_path / "v.ics"
    path.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:2024013\r\n"
        b"END:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nDTSTART:20240131T100000Z\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    rep = report(path)
    assert codes(rep) == {"bad-date": [5]}
    assert rep.stats["first_start"] == "2024-01-31T10:00:00+00:00"


def test_problems_are_bounded(tmp_path):
    events = b"".join(
        b"BEGIN:VEVENT\r\nUID:%d\r\nSUMMARY:x\r\nEND:VEVENT\r\n" % i for i in range(500)
    )
    path = tmp_path / "many.ics"
    path.write_bytes(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + events + b"END:VCALENDAR\r\n")
    rep = report(path)
    assert rep.problems.counts == {"missing-dtstart": 500}
    assert len(rep.problems.kept) == 20
    assert "… and 480 more [missing-dtstart]" in run(str(path)).output


# --- unfolding (property) -----------------------------------------------------------------

text_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n"),
    min_size=0,
    max_size=300,
)


@settings(max_examples=150, deadline=None)
@given(value=text_values, width=st.integers(min_value=10, max_value=120))
def test_any_folding_unfolds_to_the_original(value, width):
    line = "DESCRIPTION:" + value
    data = line.encode()
    pieces, start = [], 0
    while start < len(data):  # fold every `width` octets, never inside a UTF-8 sequence
        end = min(start + width, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end -= 1
        if end == start:
            end = start + 1
            while end < len(data) and data[end] & 0xC0 == 0x80:
                end += 1
        pieces.append(data[start:end])
        start = end
    folded = b"\r\n ".join(pieces) + b"\r\nSUMMARY:next\r\n"
    problems = Problems()
    got = list(logical_lines(io.BytesIO(folded), problems))
    assert [g.text for g in got] == [line, "SUMMARY:next"]
    assert got[1].line == len(pieces) + 1
    assert problems.counts == {}


# --- split --------------------------------------------------------------------------------


def _with_overrides(n: int) -> bytes:
    """A calendar whose recurring events get RECURRENCE-ID exceptions at the end of the file."""
    base = samples.calendar(n)
    extra = b"".join(
        b"BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T120000Z\r\n"
        b"RECURRENCE-ID;TZID=Europe/Zurich:20200106T090000\r\n"
        b"DTSTART;TZID=Europe/Zurich:20200106T100000\r\nSUMMARY:moved\r\nEND:VEVENT\r\n" % uid
        for uid in _uids(base)[::97]
    )
    return base.replace(b"END:VCALENDAR\r\n", extra + b"END:VCALENDAR\r\n")


def _uids(data: bytes) -> list[bytes]:
    return [line[4:] for line in data.split(b"\r\n") if line.startswith(b"UID:")]


def test_split_writes_valid_parts_under_the_limit(tmp_path):
    import vobject

    source = tmp_path / "in" / "big.ics"
    source.parent.mkdir()
    source.write_bytes(_with_overrides(1500))
    out = tmp_path / "out"
    out.mkdir()
    limit = 200_000
    before = digest([source])
    result = run(
        "--split",
        "--output-dir",
        str(out),
        "--provider-file",
        str(provider_with_limit(tmp_path, limit)),
        str(source),
    )
    assert result.exit_code == 0, result.output
    assert digest([source]) == before
    parts = sorted(out.iterdir())
    assert len(parts) >= 3
    assert [p.name for p in parts][:2] == ["big-part1.ics", "big-part2.ics"]
    all_uids: list[bytes] = []
    for part in parts:
        data = part.read_bytes()
        assert len(data) <= limit
        (cal,) = list(vobject.readComponents(data.decode()))
        assert cal.name == "VCALENDAR"
        assert str(cal.prodid.value) == "-//mailsetup tests//EN"
        assert [str(t.tzid.value) for t in cal.contents.get("vtimezone", [])] == ["Europe/Zurich"]
        uids = _uids(data)
        # An override travels with its series: a UID is never spread over two parts.
        assert not set(uids) & set(all_uids)
        all_uids += uids
        assert report(part, limit).will_import
    original = _uids(source.read_bytes())
    assert sorted(all_uids) == sorted(original)


def test_split_refuses_to_overwrite_without_force(tmp_path):
    source = tmp_path / "cal.ics"
    source.write_bytes(samples.calendar(600))
    provider = str(provider_with_limit(tmp_path, 100_000))
    taken = tmp_path / "cal-part2.ics"
    taken.write_bytes(b"keep me")
    result = run("--split", "--provider-file", provider, str(source))
    assert result.exit_code == 4
    assert "already exists" in result.output
    assert taken.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cal-part2.ics",
        "cal.ics",
        "provider.toml",
    ]
    result = run("--split", "--force", "--provider-file", provider, str(source))
    assert result.exit_code == 0, result.output
    assert taken.read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_split_of_a_file_under_the_limit_writes_nothing(tmp_path, big_calendar):
    out = tmp_path / "o"
    out.mkdir()
    assert run("--split", "--output-dir", str(out), str(big_calendar)).exit_code == 0
    assert list(out.iterdir()) == []


def test_split_cannot_cut_one_huge_event(tmp_path):
    source = tmp_path / "huge.ics"
    body = b"DESCRIPTION:" + b"x" * 5000 + b"\r\n"
    source.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:h\r\nDTSTART:20240101T100000Z\r\n"
        + body
        + b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    result = run(
        "--split", "--provider-file", str(provider_with_limit(tmp_path, 2000)), str(source)
    )
    assert result.exit_code == 4
    assert "line 3 alone is larger than the limit" in result.output


# --- vCards -------------------------------------------------------------------------------


def test_address_book_of_every_version(tmp_path):
    path = samples.write(tmp_path / "contacts.vcf", samples.address_book(300))
    rep = report(path)
    assert rep.will_import, rep.problems.kept
    s = rep.stats
    assert s["cards"] == 300
    assert s["versions"] == {"2.1": 100, "3.0": 100, "4.0": 100}
    assert (s["photos"], s["photo_bytes"]) == (6, 6 * len(samples.JPEG))
    assert (s["without_fn"], s["without_n"], s["duplicate_uids"]) == (0, 0, 0)


def test_vcard_problems_with_line_numbers(tmp_path):
    cards = [
        samples.vcard30(1, uid="same"),  # lines 1-7
        samples.vcard30(2, uid="same", fn=False),  # lines 8-13
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:No N is fine in 4.0\r\nPHOTO:https://x.example/p.jpg\r\nEND:VCARD\r\n",
        "BEGIN:VCARD\r\nVERSION:5.0\r\nFN:Future\r\nEND:VCARD\r\n",  # line 19
        "BEGIN:VCARD\r\nFN:No version\r\nN:V;N;;;\r\nEND:VCARD\r\n",  # line 23
    ]
    path = tmp_path / "c.vcf"
    path.write_text("".join(cards))
    rep = report(path)
    assert codes(rep) == {
        "duplicate-uid": [8],
        "missing-fn": [8],
        "unknown-version": [19],
        "missing-version": [23],
    }
    assert not rep.will_import
    s = rep.stats
    assert (s["without_fn"], s["without_n"], s["photo_links"]) == (1, 2, 1)


def test_vcard_cut_short_and_bad_bytes(tmp_path):
    path = tmp_path / "cut.vcf"
    path.write_bytes(
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ren\xe9\r\nN:R;;;;\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut\r\n"
    )
    rep = report(path)
    assert codes(rep) == {"invalid-utf8": [3], "unbalanced": [6]}
    assert rep.stats["cards"] == 1


# --- arguments and hands-off --------------------------------------------------------------


def test_a_missing_file_does_not_hide_the_others(tmp_path, big_calendar):
    """Issue 9 §5: every file gets its verdict; the missing one makes the exit code 1."""
    result = run(str(tmp_path / "nope.ics"), str(big_calendar))
    assert result.exit_code == 1
    assert "nope.ics: will NOT import" in result.output
    assert "[unreadable-file] no such file" in result.output
    assert "events 2000" in result.output


def test_unknown_kind_is_reported_and_exit_1(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = run("--json", str(path))
    assert result.exit_code == 1
    (doc,) = json.loads(result.stdout)["files"]
    assert doc["kind"] is None and doc["problems"][0]["code"] == "unknown-kind"
    assert "neither a calendar" in doc["problems"][0]["message"]


def test_inspect_never_modifies_its_inputs(tmp_path):
    files = [
        samples.write(tmp_path / "a.ics", samples.calendar(300)),
        samples.write(tmp_path / "b.vcf", samples.address_book(30)),
        samples.write(tmp_path / "c.ics", BROKEN),
    ]
    before = digest(files)
    for args in (["--json"], [], ["--split", "--force"]):
        run(*args, *map(str, files))
    assert digest(files) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ics", "b.vcf", "c.ics"]


def test_memory_stays_bounded_whatever_the_file_size(tmp_path):
    """One component at a time: the peak does not grow with the file (a whole-file parse holds
    every event, ~18x the file size in the benchmark)."""
    import tracemalloc

    small = samples.write(tmp_path / "s.ics", samples.calendar(100))
    large = samples.write(tmp_path / "l.ics", samples.calendar(800))
    report(small)  # warm imports and caches outside the measurement
    peaks = []
    for path in (small, large):
        tracemalloc.start()
        assert report(path).will_import
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert large.stat().st_size > 300_000
    assert peaks[1] < 200_000
    assert peaks[1] < 2 * peaks[0] + 50_000


def test_split_keeps_bare_lf_line_endings(tmp_path):
    source = tmp_path / "lf.ics"
    source.write_bytes(samples.calendar(400).replace(b"\r\n", b"\n"))
    result = run(
        "--split", "--provider-file", str(provider_with_limit(tmp_path, 60_000)), str(source)
    )
    assert result.exit_code == 0, result.output
    parts = sorted(tmp_path.glob("lf-part*.ics"))
    assert len(parts) >= 3
    for part in parts:
        data = part.read_bytes()
        assert b"\r" not in data
        assert data.startswith(b"BEGIN:VCALENDAR\nVERSION:2.0\n")
        assert data.endswith(b"END:VEVENT\nEND:VCALENDAR\n")
        assert report(part, 60_000).will_import


def test_event_outside_a_calendar(tmp_path):
    path = tmp_path / "bare.ics"
    path.write_bytes(b"BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\n")
    rep = report(path)
    assert not rep.will_import
    assert codes(rep)["not-a-calendar"] == [1, None]


def test_split_carries_even_an_unreadable_event(tmp_path):
    """The split copies components; it does not silently drop the ones with errors."""
    data = samples.calendar(300)
    bad = (
        b"BEGIN:VEVENT\r\nUID:bad-one\r\nDTSTART:20240101T100000Z\r\n"
        b'X-BROKEN;A="x:y\r\nEND:VEVENT\r\n'
    )
    source = tmp_path / "c.ics"
    source.write_bytes(data.replace(b"END:VCALENDAR\r\n", bad + b"END:VCALENDAR\r\n"))
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        "--split",
        "--output-dir",
        str(out),
        "--provider-file",
        str(provider_with_limit(tmp_path, 60_000)),
        str(source),
    )
    assert result.exit_code == 1  # the broken line is still an error
    assert "[unreadable-line]" in result.output
    joined = b"".join(p.read_bytes() for p in sorted(out.iterdir()))
    assert joined.count(b"BEGIN:VEVENT") == 301
    assert b"UID:bad-one" in joined


def test_split_onto_a_symlinked_part_gives_advice_inspect_can_follow(tmp_path):
    """`inspect --split --force` refuses a part name that is a symbolic link (held up), but the
    advice named only `-o`, an option inspect does not have."""
    from tests.cli import run

    events = "".join(
        f"BEGIN:VEVENT\r\nUID:{i}\r\nDTSTAMP:20200101T000000Z\r\n"
        f"DTSTART:20200101T000000Z\r\nSUMMARY:event {i}\r\nEND:VEVENT\r\n"
        for i in range(20)
    )
    big = tmp_path / "big.ics"
    big.write_bytes(
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{events}END:VCALENDAR\r\n".encode()
    )
    small = tmp_path / "small.toml"
    small.write_text(
        (ROOT / "profiles" / "infomaniak.toml")
        .read_text()
        .replace("ics_max_bytes = 20_971_520", "ics_max_bytes = 600", 1)
    )
    (tmp_path / "big-part1.ics").symlink_to(tmp_path / "elsewhere")
    proc = run(
        "inspect", str(big), "--split", "--force", "--provider-file", str(small), cwd=tmp_path
    )
    assert proc.returncode == 4, proc.stderr
    assert not (tmp_path / "elsewhere").exists()
    assert "--output-dir" in proc.stderr


def test_inspect_json_stays_utf8_with_a_file_name_that_is_not(tmp_path):
    """A file name with a byte that is not UTF-8 (PEP 383 surrogate escape) went into
    `inspect --json` as that raw byte: the document was not UTF-8, which JSON requires
    (RFC 8259 section 8.1), and json.loads of it failed."""
    import json
    import os
    import subprocess
    import sys

    name = os.fsencode(tmp_path) + b"/bad\xff.ics"
    with open(name, "wb") as f:
        f.write(
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n"
            b"DTSTAMP:20200101T000000Z\r\nDTSTART:20200101T000000Z\r\nEND:VEVENT\r\n"
            b"END:VCALENDAR\r\n"
        )
    proc = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"mailsetup", b"inspect", b"--json", name],
        capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout.decode("utf-8"))
    assert doc["files"][0]["path"].endswith("bad\ufffd.ics")
