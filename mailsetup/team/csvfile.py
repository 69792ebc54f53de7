"""Read a team's CSV file as spreadsheet programs write it, one row at a time.

Format (docs/organisations.md): a header row naming the columns, ``email`` required, ``name``,
``sync_user``, ``client`` and ``services`` optional, in any order; column names are matched
without regard to case, and ``-`` or a space counts as ``_`` (``Sync user``). Then one row per
mailbox.

What spreadsheets actually export, and how each is handled:

- UTF-8 with or without a byte order mark (Excel's "CSV UTF-8" writes one): ``utf-8-sig``.
- A comma, or a semicolon where the decimal separator is a comma (Excel and LibreOffice in
  Switzerland, France and Germany), or a tab: the delimiter is taken from the header line,
  which is ours to predict (column names never contain one), rather than guessed from data
  with :class:`csv.Sniffer`, which is fooled by commas inside names.
- Quoted fields, doubled quotes, CRLF line ends and line breaks inside a quoted name: the
  standard library's :mod:`csv` reader (RFC 4180 plus Excel's dialect), file opened with
  ``newline=""`` as its documentation requires.
- Saved in the legacy 8-bit code page by mistake (Windows-1252/Latin-1, "CSV" in older Excel):
  not guessed, because a wrong guess turns names into mojibake inside profiles that are then
  handed out. The error names the encoding, the line and a sample, and how to re-save.
- UTF-16 ("Unicode text"): recognised by its byte order mark and named, same fix.
- Wholly empty rows (spreadsheets leave ``;;;`` lines below the data) are skipped.

Row numbers are the spreadsheet's: the header is row 1, the first mailbox row 2, whatever
line breaks a quoted name holds, so an error points at the row a person sees.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mailsetup.errors import BadInput
from mailsetup.untrusted import clean_text

COLUMNS = ("email", "name", "sync_user", "client", "services")
DELIMITERS = (",", ";", "\t")
MAX_FIELD = 4096  # bytes of one field; a name is at most 200 characters (account.py)

TEMPLATE = (
    "email,name,sync_user,client,services\r\n"
    'jane.doe@example.ch,Jane Doe,{sync},apple,"mail,caldav,carddav"\r\n'
    "info@example.ch,Info Example,{sync},thunderbird,mail\r\n"
    'john.smith@example.ch,"Smith, John",,,\r\n'
)
"""``profile --csv-template``: the header and three example rows (comma, CRLF, quoting);
``{sync}`` is the provider's sync-username example (empty for a provider without one)."""


def template(sync_user_example: str = "") -> str:
    """The template with the provider's own sync-username example, never another's."""
    return TEMPLATE.format(sync=sync_user_example)


_FIX_ENCODING = (
    "save it again as 'CSV UTF-8' (Excel) or with character set 'Unicode (UTF-8)' "
    "(LibreOffice), or convert it: iconv -f WINDOWS-1252 -t UTF-8 {name} > utf8-{name}"
)


@dataclass(frozen=True)
class Row:
    """One mailbox row as written in the file; validation happens later, per row."""

    number: int  # spreadsheet row: the header is 1
    email: str
    name: str | None = None
    sync_user: str | None = None
    client: str | None = None
    services: str | None = None
    problem: str | None = None  # a fault of the row's shape (too many fields)


def _column(raw: str) -> str:
    return raw.strip().lower().replace("-", "_").replace(" ", "_")


def _delimiter(header_line: str) -> str:
    """The delimiter of the header line: the candidate that occurs most (comma if none)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _encoding_error(path: Path, data: bytes, position: int, lines_before: int = 0) -> BadInput:
    """The one-line error for a file that is not UTF-8: which encoding it looks like, where.

    ``data`` is the block holding the fault at ``position``; ``lines_before`` the line breaks
    in the file before that block.
    """
    name = path.name
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return BadInput(
            f"{name} is UTF-16 text ('Unicode text'), not UTF-8",
            "save it again as 'CSV UTF-8' or convert it: "
            f"iconv -f UTF-16 -t UTF-8 {name} > utf8-{name}",
        )
    position = max(0, min(position, len(data) - 1))
    line = lines_before + data.count(b"\n", 0, position) + 1
    start = data.rfind(b"\n", 0, position) + 1
    end = data.find(b"\n", position)
    sample = data[start : end if end >= 0 else len(data)].decode("cp1252", "replace")
    return BadInput(
        f"{name} is not UTF-8: line {line} looks like Windows-1252/Latin-1 text "
        f"({clean_text(sample, 60)!r})",
        _FIX_ENCODING.format(name=name),
    )


def _check_utf8(path: Path) -> None:
    """Raise the encoding error for the first byte that is not UTF-8, before any row is used.

    A pass of its own (milliseconds for 10,000 rows, one block in memory at a time), so that a
    stray Latin-1 byte in row 9,000 stops the run before row 2 is written, not half way.
    """
    lines_before = 0
    with path.open("rb") as fh:
        first = True
        carry = b""  # an incomplete character at the end of the previous block
        while block := fh.read(1 << 16):
            if first and block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise _encoding_error(path, block, 0)
            first = False
            data = carry + block
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if exc.reason == "unexpected end of data" and len(data) - exc.start < 4:
                    carry = data[exc.start :]  # finished by the next block
                else:
                    raise _encoding_error(path, data, exc.start, lines_before) from None
            lines_before += data.count(b"\n") - carry.count(b"\n")
        if carry:
            raise _encoding_error(path, carry, 0, lines_before)


def _open(path: Path) -> io.TextIOWrapper:
    try:
        _check_utf8(path)
        raw = path.open("rb")
    except FileNotFoundError:
        raise BadInput(f"the CSV file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise BadInput(f"{str(path)!r} is a folder, not a CSV file") from None
    except OSError as exc:
        raise BadInput(f"cannot read {str(path)!r}: {exc.strerror}") from None
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")


def read_rows(path: Path) -> Iterator[Row]:
    """The rows of ``path``, streamed; whole-file faults raise :class:`BadInput` (exit 2).

    A fault of the file (not UTF-8, no header, no ``email`` column, an unknown column, a NUL
    byte) stops the run before anything is written when it is in the header, and where it is
    found otherwise; a fault of one row is left to the caller (``Row.problem``) so that the
    good rows are still written.
    """
    fh = _open(path)
    name = path.name
    try:
        header_line = fh.readline()
        if not header_line.strip():
            raise BadInput(
                f"{name} is empty",
                "the first row names the columns: email,name,sync_user "
                "(mailsetup profile --csv-template writes an example)",
            )
        delimiter = _delimiter(header_line)
        header = next(csv.reader([header_line], delimiter=delimiter))
        columns = [_column(c) for c in header]
        unknown = [c for c in columns if c and c not in COLUMNS]
        if unknown:
            raise BadInput(
                f"{name}: unknown column {clean_text(unknown[0], 40)!r} in the header row",
                f"known columns: {', '.join(COLUMNS)}",
            )
        if "email" not in columns:
            raise BadInput(
                f"{name}: the header row has no 'email' column",
                "the first row names the columns, e.g. email,name,sync_user",
            )
        doubled = sorted({c for c in columns if c and columns.count(c) > 1})
        if doubled:
            raise BadInput(f"{name}: the column {doubled[0]!r} appears twice in the header row")
        reader = csv.reader(fh, delimiter=delimiter, strict=False)
        number = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise BadInput(
                    f"{name}: row {number + 1} cannot be read as CSV: {exc}",
                    "save the file again from the spreadsheet program",
                ) from None
            number += 1
            if not any(f.strip() for f in fields):
                continue
            yield _row(number, columns, fields)
    finally:
        fh.close()


def _row(number: int, columns: list[str], fields: list[str]) -> Row:
    values: dict[str, str | None] = dict.fromkeys(COLUMNS)
    problem = None
    if len(fields) > len(columns) and any(f.strip() for f in fields[len(columns) :]):
        problem = (
            f"{len(fields)} fields but the header names {len(columns)} columns "
            "(a name with the delimiter in it needs quotes)"
        )
    for column, value in zip(columns, fields, strict=False):
        if not column:
            continue
        if len(value.encode("utf-8", "surrogatepass")) > MAX_FIELD:
            problem = problem or f"the {column} field is longer than {MAX_FIELD} bytes"
            value = ""
        values[column] = value if value.strip() else None
    return Row(
        number=number,
        email=(values["email"] or "").strip(),
        name=values["name"],
        sync_user=values["sync_user"],
        client=values["client"].strip().lower() if values["client"] else None,
        services=values["services"],
        problem=problem,
    )


def count_rows(path: Path) -> int | None:
    """Number of mailbox rows, for a progress bar; ``None`` if the file cannot be counted
    cheaply (the real reader reports the fault)."""
    try:
        return sum(1 for _ in read_rows(path))
    except BadInput:
        return None
