"""Team CSV files as spreadsheet programs write them (docs/organisations.md, "The CSV file").

Each case is a file a real program produces: Excel's "CSV UTF-8" (BOM, comma), Excel and
LibreOffice with a Swiss/French/German locale (semicolon), CRLF line ends, a quoted name with a
line break (Alt+Enter in a cell), the legacy code page saved by mistake, UTF-16 "Unicode text".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsetup.errors import BadInput
from mailsetup.render import SERVICES
from mailsetup.team.csvfile import read_rows, template
from mailsetup.team.rows import Member, RowFailure, members
from tests.cli import assert_one_line_error, run

ALL = frozenset(SERVICES)


def write(tmp_path: Path, data: bytes, name: str = "team.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def good(path: Path) -> list[Member]:
    out = [m for m in members(path, "apple", ALL)]
    assert all(isinstance(m, Member) for m in out), out
    return out  # type: ignore[return-value]


def test_excel_csv_utf8_with_bom_comma_and_crlf(tmp_path):
    data = (
        "\ufeffemail,name,sync_user\r\n"
        "jane.doe@example.ch,Jane Doe,AB12345\r\n"
        'info@example.ch,"Müller, Anna",AB12345\r\n'
    ).encode()
    rows = good(write(tmp_path, data))
    assert [(m.number, m.account.email, m.account.display_name) for m in rows] == [
        (2, "jane.doe@example.ch", "Jane Doe"),
        (3, "info@example.ch", "Müller, Anna"),
    ]
    assert rows[0].account.sync_user == "AB12345"


def test_semicolon_from_a_swiss_french_or_german_spreadsheet(tmp_path):
    data = (
        b"Email;Name;Sync user;Client;Services\r\n"
        b"jane.doe@example.ch;Doe, Jane;AB12345;thunderbird;mail; caldav\r\n"
        b'info@example.ch;"Info; Support";;;mail\r\n'
    )
    path = write(tmp_path, data)
    items = list(members(path, "apple", ALL))
    # Row 2 has one field more than the header: "mail; caldav" unquoted splits in two.
    assert isinstance(items[0], RowFailure) and items[0].number == 2
    assert "quotes" in items[0].reason
    info = items[1]
    assert isinstance(info, Member)
    assert info.account.display_name == "Info; Support"
    assert info.client == "apple" and info.services == frozenset({"mail"})


def test_services_cell_takes_the_usual_separators(tmp_path):
    data = b'email;services\njane@example.ch;"mail;caldav"\nbob@example.ch;mail+carddav\n'
    a, b = good(write(tmp_path, data))
    assert a.services == {"mail", "caldav"} and b.services == {"mail", "carddav"}


def test_quoted_line_break_in_a_name_keeps_spreadsheet_row_numbers(tmp_path):
    data = (
        b'email,name\r\njane@example.ch,"Jane\r\nDoe"\r\nbob@example.ch,Bob\r\nnot-an-address,X\r\n'
    )
    items = list(members(write(tmp_path, data), "apple", ALL))
    jane, bob, bad = items
    assert isinstance(jane, Member) and jane.account.display_name == "Jane Doe"
    assert isinstance(bob, Member) and bob.number == 3
    assert isinstance(bad, RowFailure) and bad.number == 4


def test_blank_rows_are_skipped_but_counted(tmp_path):
    data = b"email;name\n;\njane@example.ch;Jane\n;;\n\n"
    (jane,) = good(write(tmp_path, data))
    assert jane.number == 3


def test_latin1_saved_by_mistake_names_the_encoding_line_and_fix(tmp_path):
    data = "email;name\njane@example.ch;Jane\nfranz@example.ch;Franz Müller\n".encode("cp1252")
    with pytest.raises(BadInput) as err:
        list(read_rows(write(tmp_path, data)))
    text = str(err.value)
    assert "not UTF-8" in text and "line 3" in text and "Windows-1252/Latin-1" in text
    assert "Müller" in text  # the sample, decoded as what it probably is
    assert "CSV UTF-8" in text and "iconv -f WINDOWS-1252 -t UTF-8" in text


def test_latin1_far_down_stops_before_any_row_is_used(tmp_path):
    lines = ["email"] + [f"user{i}@example.ch" for i in range(5000)] + ["zoë@example.ch"]
    data = ("\n".join(lines) + "\n").encode("latin-1")
    path = write(tmp_path, data)
    rows = read_rows(path)
    with pytest.raises(BadInput, match="line 5002"):
        next(rows)  # not one row comes out of a file that is not UTF-8


def test_utf16_unicode_text_is_named(tmp_path):
    data = "email\tname\njane@example.ch\tJane\n".encode("utf-16")
    with pytest.raises(BadInput, match="UTF-16"):
        list(read_rows(write(tmp_path, data)))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", ("is empty",)),
        (b"\r\n\r\n", ("is empty",)),
        (b"name,sync_user\nJane,AB1\n", ("no 'email' column",)),
        (b"email,nom\njane@example.ch,Jane\n", ("unknown column 'nom'", "known columns")),
        (b"email,Email\n", ("appears twice",)),
    ],
)
def test_unusable_files_are_one_error_before_any_row(tmp_path, data, words):
    with pytest.raises(BadInput) as err:
        list(read_rows(write(tmp_path, data)))
    for word in words:
        assert word in str(err.value)


def test_duplicates_compare_without_case_and_name_the_first_row(tmp_path):
    data = b"email\njane@example.ch\nbob@example.ch\nJane@Example.CH\n"
    items = list(members(write(tmp_path, data), "apple", ALL))
    dup = items[2]
    assert isinstance(dup, RowFailure) and dup.number == 4
    assert dup.reason == "duplicate address: already in row 2"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("jane doe@example.ch,", "not a valid email address"),
        ("jane@example.ch,thunderbirds", "unknown client 'thunderbirds'"),
        (",apple", "the email field is empty"),
    ],
)
def test_bad_rows_say_why(tmp_path, row, reason):
    path = write(tmp_path, f"email,client\n{row}\n".encode())
    (item,) = list(members(path, "apple", ALL))
    assert isinstance(item, RowFailure) and item.number == 2
    assert reason in item.reason


def test_a_name_with_a_control_character_is_a_bad_row(tmp_path):
    path = write(tmp_path, b"email,name\njane@example.ch,Jane\x07Doe\nbob@example.ch,Bob\n")
    bad, bob = list(members(path, "apple", ALL))
    assert isinstance(bad, RowFailure) and "control" in bad.reason
    assert isinstance(bob, Member)


def test_row_text_in_reasons_is_cleaned(tmp_path):
    path = write(tmp_path, "email\n\x1b[31mevil\u202e@x\n".encode())
    (bad,) = list(members(path, "apple", ALL))
    assert isinstance(bad, RowFailure)
    assert "\x1b" not in bad.email + bad.reason and "\u202e" not in bad.email + bad.reason


def test_ten_thousand_rows_stream(tmp_path):
    lines = ["email;name;sync_user"] + [
        f"user{i}@example.ch;User {i};AB{i:05d}" for i in range(10_000)
    ]
    path = write(tmp_path, ("\r\n".join(lines) + "\r\n").encode())
    count = 0
    last = None
    for item in members(path, "apple", ALL):
        assert isinstance(item, Member)
        count += 1
        last = item
    assert count == 10_000 and last is not None and last.number == 10_001


def test_the_template_is_a_valid_team_file(tmp_path):
    proc = run("profile", "--csv-template")
    assert proc.returncode == 0 and proc.stdout.replace("\n", "\r\n") == template("AB12345")
    path = write(tmp_path, template("AB12345").encode())
    rows = good(path)
    assert [m.client for m in rows] == ["apple", "thunderbird", "apple"]
    assert rows[2].account.display_name == "Smith, John"


def test_the_template_uses_the_providers_own_sync_example(provider_file):
    proc = run("profile", "--csv-template", "--provider-file", str(provider_file))
    assert proc.returncode == 0, proc.stderr
    assert "AB12345" not in proc.stdout  # another provider's sync-id format never shows
    assert (
        proc.stdout.splitlines()[1] == 'jane.doe@example.ch,Jane Doe,,apple,"mail,caldav,carddav"'
    )


def test_cli_latin1_is_exit_2_with_one_line(tmp_path):
    path = write(tmp_path, "email;name\nfranz@example.ch;Franz Müller\n".encode("cp1252"))
    proc = run("profile", "--csv", str(path), "-o", str(tmp_path / "out"))
    assert_one_line_error(proc, 2, "not UTF-8", "Windows-1252")
    assert not (tmp_path / "out").exists()


def test_cli_empty_file_is_exit_2(tmp_path):
    path = write(tmp_path, b"")
    proc = run("profile", "--csv", str(path), "-o", str(tmp_path / "out"))
    assert_one_line_error(proc, 2, "is empty", "--csv-template")


# Any printable name survives what spreadsheets do to it: a delimiter, quotes, line breaks
# inside the cell, either line end, with or without a BOM, quoted as Excel and LibreOffice do.
_NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
    | st.sampled_from([",", ";", '"', "\n", "\r", "\t"]),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() and len(" ".join(s.split())) <= 200)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(_NAME, min_size=1, max_size=5),
    delimiter=st.sampled_from([",", ";"]),
    line_end=st.sampled_from(["\r\n", "\n"]),
    bom=st.booleans(),
)
def test_any_name_survives_the_spreadsheet_round_trip(names, delimiter, line_end, bom):
    import tempfile
    import unicodedata

    def cell(value: str) -> str:  # as Excel and LibreOffice quote: only when needed
        if any(c in value for c in (delimiter, '"', "\r", "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [f"email{delimiter}name"] + [
        f"user{i}@example.ch{delimiter}{cell(name)}" for i, name in enumerate(names)
    ]
    data = ("\ufeff" if bom else "") + line_end.join(lines) + line_end
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "team.csv"
        path.write_bytes(data.encode("utf-8"))
        items = list(members(path, "apple", ALL))
    assert [type(m) for m in items] == [Member] * len(names), items
    for member, name in zip(items, names, strict=True):
        assert isinstance(member, Member)
        expected = " ".join(unicodedata.normalize("NFC", name).split())
        assert member.account.display_name == expected
    assert [m.number for m in items] == list(range(2, len(names) + 2))
