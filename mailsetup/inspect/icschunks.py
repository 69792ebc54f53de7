"""An iCalendar file as unfolded chunks, and the checks made on every line of a chunk.

The hot path of ``inspect``: a 20 MB calendar has 750,000 lines, too many for a Python loop per
line within the second a person should wait. So the file is read in chunks of 16 KiB, each cut
just after a component ends (``END:V...``) while components are small; RFC 5545 3.1 unfolding is
three ``bytes.replace`` calls, and compiled regular expressions check every logical line of the
chunk in C, yielding only the lines that fail:

- the content-line grammar, ``name *(";" param) ":" value`` with quoted parameter values (3.1);
- DATE and DATE-TIME values (3.3.4, 3.3.5) of the properties that hold them, UTC offsets
  (3.3.14) and durations (3.3.6);
- invalid UTF-8 (3.1: the default charset is UTF-8).

A chunk keeps the way back from an offset in the unfolded text to the file's physical line, so a
problem gets its line number only when it is kept.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import BinaryIO

from mailsetup.inspect import codes
from mailsetup.inspect.contentlines import MAX_LINE_BYTES
from mailsetup.inspect.report import Problems

# Small enough that memory stays flat (a few chunks' worth), large enough that the per-chunk
# cost in Python is noise next to the regular expressions' work.
CHUNK = 16 * 1024
# A chunk ends after a component while components are smaller than this (so a VTIMEZONE or an
# event is seen whole); a larger one is cut between lines.
COMPONENT_BOUND = 256 * 1024
# The grammar, as patterns over an unfolded chunk that starts with "\n".
# Every pattern starts with the literal "\n", which lets the regex engine jump from line to
# line instead of trying every byte.

_NAME = rb"[A-Za-z0-9-]+"
_PVALUE = rb'(?:"[^"\r\n]*"|[^";:,\r\n]*)'
_PARAM = rb";" + _NAME + rb"(?:=" + _PVALUE + rb"(?:," + _PVALUE + rb")*)?"
# A logical line that is not ``name *(";" param) ":" value`` (blank lines are skipped).
# Property names are case-insensitive (3.1) but written in capitals by every exporter.
_LOWER_NAME = re.compile(rb"\n[A-Z0-9-]*[a-z][A-Za-z0-9-]*[;:]")
_BAD_LINE = re.compile(rb"\n(?!" + _NAME + rb"(?:" + _PARAM + rb")*:)([^\r\n]+)")
NAME_START = re.compile(_NAME + rb"[;:]")
_DATE = rb"\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_TIME = rb"T(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d|60)Z?"
_DT = _DATE + rb"(?:" + _TIME + rb")?"
_END_OF_VALUE = rb"[ \t]*\r?(?:\n|\Z)"
_DUR_TIME = rb"T(?:\d+H(?:\d+M)?(?:\d+S)?|\d+M(?:\d+S)?|\d+S)"
_DURATION = rb"[+-]?P(?:\d+W|\d+D(?:" + _DUR_TIME + rb")?|" + _DUR_TIME + rb")"
_OFFSET = rb"[+-](?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?"
_HEAD = rb"((?:;[^:\r\n]*)?):[ \t]*"


def _failing(names: bytes, valid: bytes) -> bytes:
    return rb"(?:" + names + rb")" + _HEAD + rb"(?!(?:" + valid + rb")" + _END_OF_VALUE + rb")"


# One pass finds every typed value that fails its type; groups 1, 3, 5, 7 say which family,
# group 9 is the whole line.
_BAD_VALUE_SOURCE = (
    rb"\n(?="
    + _failing(rb"(DTEND|DUE|RECURRENCE-ID)", _DT)
    + rb"|"
    + _failing(rb"(DTSTAMP|CREATED|LAST-MODIFIED|COMPLETED|EXDATE)", _DT + rb"(?:," + _DT + rb")*")
    + rb"|"
    + _failing(rb"(TZOFFSETFROM|TZOFFSETTO)", _OFFSET)
    + rb"|"
    + _failing(rb"(DURATION|TRIGGER)", _DURATION + rb"|" + _DATE + _TIME)
    + rb")([^\r\n]*)"
)
_BAD_VALUE = re.compile(_BAD_VALUE_SOURCE)
_BAD_VALUE_ANYCASE = re.compile(_BAD_VALUE_SOURCE, re.IGNORECASE)
FORM = re.compile(rb"\d{8}(?:T\d{6}Z?)?")  # the shape alone (bad-date), ranges aside
VALID_DT = re.compile(_DT)
_WHEN_PROPS = (b"DTEND", b"DUE", b"RECURRENCE-ID")


def excerpt(raw: bytes, limit: int = 80) -> str:
    return raw.decode("utf-8", "replace").strip()[:limit]


class Chunk:
    """One chunk of the file: its bytes, the unfolded text, and offsets back to file lines.

    ``u`` is ``"\\n"`` + the chunk with folds removed; :meth:`raw` maps an offset in ``u``
    back to the chunk's bytes through a table of the folds, built the first time it is needed
    (a clean file without ``--split`` never needs it); :meth:`line` gives the physical line.
    """

    __slots__ = ("_fold_r", "_fold_u", "_ll", "_lr", "anycase", "data", "line0", "off", "u")

    def __init__(self, data: bytes, off: int, line0: int) -> None:
        self.data = data
        self.off = off  # file offset of data[0]
        self.line0 = line0  # physical line number of data[0]
        u = data.replace(b"\r\n ", b"")
        # The other three fold forms are rare: looked for (fast) before being replaced.
        for fold in (b"\r\n\t", b"\n ", b"\n\t"):
            if fold in u:
                u = u.replace(fold, b"")
        self.u = b"\n" + u
        # A name in lower case somewhere: the case-insensitive patterns are needed here.
        self.anycase = _LOWER_NAME.search(self.u) is not None
        self._fold_u: list[int] | None = None
        self._fold_r: list[int] = []
        self._lr, self._ll = 0, line0

    def _folds(self) -> list[int]:
        """``_fold_u[i]``: where in ``u`` fold i was taken out; ``_fold_r[i]``: the offset in
        ``data`` just after it (the same byte)."""
        data = self.data
        fold_u: list[int] = []
        fold_r: list[int] = []
        removed = 0
        for m in _FOLD.finditer(data):
            start = m.start()
            if start > 0 and data[start - 1] == 13:
                start -= 1
            fold_u.append(1 + start - removed)
            removed += m.end() - start
            fold_r.append(m.end())
        self._fold_u, self._fold_r = fold_u, fold_r
        return fold_u

    def raw(self, upos: int) -> int:
        """Offset in ``data`` of the byte at ``u[upos]``."""
        fold_u = self._fold_u if self._fold_u is not None else self._folds()
        i = bisect_right(fold_u, upos)
        r = upos - 1 if i == 0 else self._fold_r[i - 1] + (upos - fold_u[i - 1])
        return min(max(r, 0), len(self.data))

    def line(self, upos: int) -> int:
        """Physical line number (1-based) of the byte at ``u[upos]``."""
        r = self.raw(upos)
        if r < self._lr:
            self._lr, self._ll = 0, self.line0
        self._ll += self.data.count(b"\n", self._lr, r)
        self._lr = r
        return self._ll

    def at(self, upos: int) -> Callable[[], int]:
        return lambda: self.line(upos)


_FOLD = re.compile(rb"\n[ \t]")
_CUT = re.compile(rb"\nEND:V[A-Z]+\r?\n(?![ \t])")


def _cut(data: bytes, whole: bool) -> int:
    """Where to end a chunk: just after the last END:V... line (a component boundary, so
    nothing but the VCALENDAR is open across chunks), else after the last complete logical
    line; 0 when the chunk is one logical line in progress."""
    pos = len(data)
    for _ in range(64):
        pos = data.rfind(b"\nEND:V", 0, pos)
        if pos < 0:
            break
        m = _CUT.match(data, pos)
        if m is not None and m.end() < len(data):
            return m.end()
    if whole:
        return 0  # read on: a component is kept in one chunk while it is small
    pos = len(data) - 1
    while True:
        pos = data.rfind(b"\n", 0, pos)
        if pos < 0:
            return 0
        if data[pos + 1] not in b" \t":
            return pos + 1


def _first_boundary(data: bytes) -> int:
    """Just after the first line ending that starts a new logical line (0: none yet)."""
    pos = 0
    while True:
        pos = data.find(b"\n", pos)
        if pos < 0 or pos + 1 >= len(data):
            return 0
        if data[pos + 1] not in b" \t":
            return pos + 1
        pos += 1


def chunks(
    fh: BinaryIO, problems: Problems, progress: Callable[[int], None] | None = None
) -> Iterator[Chunk]:
    """The file as chunks that each end at a logical line boundary; a logical line longer
    than :data:`MAX_LINE_BYTES` is reported and skipped, so memory stays bounded."""
    carry = b""
    off, line = 0, 1
    done = 0
    first = True
    skipping = False
    while True:
        block = fh.read(CHUNK)
        done += len(block)
        if progress is not None:
            progress(done)
        if first:
            first = False
            if block.startswith(b"\xef\xbb\xbf"):
                block, off = block[3:], 3
        data = carry + block if carry else block
        if not block:
            if data and not skipping:
                yield Chunk(data, off, line)
            return
        cut = _first_boundary(data) if skipping else _cut(data, len(data) < COMPONENT_BOUND)
        if skipping:
            if cut == 0:
                line += data.count(b"\n")
                off += len(data)
                carry = b""
                continue
            line += data.count(b"\n", 0, cut)
            off += cut
            carry = data[cut:]
            skipping = False
            continue
        if cut == 0:
            if len(data) > MAX_LINE_BYTES:
                problems.add(
                    codes.LINE_TOO_LONG,
                    f"a content line longer than {MAX_LINE_BYTES} bytes: no importer takes it;"
                    " it was skipped",
                    line,
                )
                skipping = True
                line += data.count(b"\n")
                off += len(data)
                carry = b""
                continue
            carry = data
            continue
        yield Chunk(data[:cut], off, line)
        line += data.count(b"\n", 0, cut)
        off += cut
        carry = data[cut:]


def check_utf8(ch: Chunk, problems: Problems) -> None:
    data = ch.data
    if data.isascii():
        return
    # Decoded in pieces: one decode of the chunk would build a string up to 4x its size.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for i in range(0, len(data), 8192):
            decoder.decode(data[i : i + 8192])
        decoder.decode(b"", final=True)
        return
    except UnicodeDecodeError:
        pass
    for i, raw in enumerate(ch.data.split(b"\n")):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.add(
                codes.INVALID_UTF8,
                f"byte {exc.start + 1} of the line is not UTF-8 (the file must be saved as UTF-8)",
                ch.line0 + i,
            )


def check_lines(ch: Chunk, problems: Problems, anycase: bool) -> None:
    """Every logical line that is not a content line (RFC 5545 3.1)."""
    u = ch.u
    for m in _BAD_LINE.finditer(u):
        text = m.group(1)
        at = ch.at(m.start() + 1)
        if text[:1] in (b" ", b"\t"):
            problems.add(codes.BROKEN_FOLD, "a continuation line with nothing to continue", at)
        elif NAME_START.match(text):
            problems.add(
                codes.UNREADABLE_LINE,
                f"{excerpt(text.split(b';')[0].split(b':')[0], 40)}: this line is not"
                " NAME;PARAM=VALUE:VALUE (RFC 5545 3.1; a quote left open?)",
                at,
            )
        else:
            problems.add(
                codes.BROKEN_FOLD,
                "this line is neither indented nor a property: a folded line lost its leading"
                " space (RFC 5545 3.1)",
                at,
            )
    for m in (_BAD_VALUE_ANYCASE if anycase else _BAD_VALUE).finditer(u):
        when, stamp, offset, duration = m.group(1), m.group(3), m.group(5), m.group(7)
        value = m.group(9).partition(b":")[2].strip()
        at = ch.at(m.start() + 1)
        if when is not None and not FORM.fullmatch(value):
            name = when.upper().decode()
            problems.add(
                codes.BAD_DATE,
                f"{name} {excerpt(value, 40)!r} is not a date (YYYYMMDD) or date-time"
                " (YYYYMMDDTHHMMSS[Z]), RFC 5545 3.3.4/3.3.5",
                at,
            )
            continue
        name = (when or stamp or offset or duration or b"").upper().decode()
        kind = (
            "a date or date-time"
            if when or stamp
            else "a UTC offset (+HHMM)"
            if offset
            else "a duration (RFC 5545 3.3.6)"
        )
        problems.add(codes.BAD_VALUE, f"{name}: the value {excerpt(value, 40)!r} is not {kind}", at)
