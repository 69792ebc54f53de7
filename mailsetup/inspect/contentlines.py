"""Stream a calendar or vCard file as logical lines and components, with physical line numbers.

RFC 5545 section 3.1 (and RFC 6350 section 3.2 for vCard): a long content line is folded by
inserting CRLF followed by one space or tab; unfolding removes exactly that. vCard 2.1 also
continues a quoted-printable value after a trailing ``=`` (soft line break, RFC 2045 6.7).

We unfold ourselves instead of letting vobject read the whole file, because we need to:
- read bounded memory: the file is read line by line, one component at a time is held;
- know the physical line where each logical line starts, for error messages;
- know the byte range of each component, so ``--split`` can copy it verbatim;
- report invalid UTF-8 and folds that lost their leading space, which a plain parser either
  rejects for the whole file or silently misreads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from mailsetup.inspect import codes
from mailsetup.inspect.report import Problems

# A content line starts with a name (iana-token or x-name, optionally group-prefixed in vCard)
# followed by ';' (parameters) or ':' (value).
_NAME = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)?[;:]")
_QP = re.compile(r"quoted-printable", re.IGNORECASE)


@dataclass(slots=True)
class Logical:
    text: str
    line: int  # physical line number where it starts (1-based)
    start: int  # byte offset of its first byte
    end: int  # byte offset just after its last line ending


# Longest logical line we hold. RFC 5545 3.1 folds at 75 octets, so only an embedded
# attachment or photo comes near; a line longer than the provider's whole-file limit could never
# import anyway. Without a bound, one 200 MB line (or /dev/zero-like content) took ~10x its size
# in memory.
MAX_LINE_BYTES = 16 * 1024 * 1024
_CHUNK = 1024 * 1024
_KEEP = 4096  # of a line over the limit: enough to name the property in reports


class LineSource(Protocol):
    """What the reader needs of a file: ``readline`` with a size bound (files, stdin)."""

    def readline(self, limit: int = -1, /) -> bytes: ...


def _physical_lines(fh: LineSource, limit: int) -> Iterator[tuple[bytes, int, bool]]:
    """``(kept bytes, bytes consumed, cut)`` per physical line; of a line over ``limit`` bytes
    only the start is kept, the rest is read in chunks and dropped so offsets stay right."""
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        size = len(raw)
        if size <= limit or raw.endswith(b"\n"):
            yield raw, size, False
            continue
        while True:
            more = fh.readline(_CHUNK)
            size += len(more)
            if not more or more.endswith(b"\n"):
                break
        yield raw[:_KEEP], size, True


def logical_lines(
    fh: LineSource, problems: Problems, max_line: int = MAX_LINE_BYTES
) -> Iterator[Logical]:
    """Unfold ``fh`` (opened in binary) into logical lines, reporting encoding and fold damage.

    A logical line longer than ``max_line`` bytes is reported (``line-too-long``) and only its
    start is kept, so memory stays bounded whatever the file holds.
    """
    parts: list[str] = []
    held = 0  # characters in ``parts``
    first = start = end = 0
    qp_soft = False
    n = pos = 0

    def too_long(line: int) -> None:
        problems.add(
            codes.LINE_TOO_LONG,
            f"a content line longer than {max_line} bytes: no importer takes it; only its"
            " start was read",
            line,
        )

    def keep(piece: str) -> None:
        nonlocal held
        if held > max_line:
            return  # already reported for this logical line
        held += len(piece)
        if held > max_line:
            too_long(first)
            parts[:] = ["".join(parts)[:_KEEP]]  # the start names the property; drop the rest
            return
        parts.append(piece)

    for raw, size, cut in _physical_lines(fh, max_line):
        n += 1
        off = pos
        pos += size
        body = raw.rstrip(b"\r\n")
        if cut:
            too_long(n)
            text = body.decode("utf-8", "replace")  # cut anywhere, maybe inside a character
        else:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.add(
                    codes.INVALID_UTF8,
                    f"byte {exc.start + 1} of the line is not UTF-8 (the file must be saved as"
                    " UTF-8)",
                    n,
                )
                text = body.decode("utf-8", "replace")
        if n == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if qp_soft and parts:
            keep("\n" + text)
            end = pos
            qp_soft = text.endswith("=")
            continue
        if not text.strip(" \t"):
            if text and parts:
                keep(text[1:])  # a fold whose continuation is blank: the spaces are content
                end = pos
            continue  # blank lines are not content lines; every reader skips them
        head = text[0]
        if head == " " or head == "\t":
            if parts:
                keep(text[1:])
                end = pos
            else:
                problems.add(codes.BROKEN_FOLD, "a continuation line with nothing to continue", n)
            continue
        if parts and not _NAME.match(text):
            problems.add(
                codes.BROKEN_FOLD,
                "this line is neither indented nor a property: a folded line lost its leading"
                " space (RFC 5545 3.1)",
                n,
            )
            keep(text)
            end = pos
            continue
        if parts:
            yield Logical("".join(parts), first, start, end)
        parts = [text]
        held = len(text)
        first, start, end = n, off, pos
        qp_soft = text.endswith("=") and _QP.search(text.split(":", 1)[0]) is not None
    if parts:
        yield Logical("".join(parts), first, start, end)


@dataclass(slots=True)
class Block:
    """One component (with its sub-components) as logical lines, and where it sits in the file."""

    name: str  # upper-case component name, e.g. VEVENT
    lines: list[Logical]
    depth: int  # 1 for top-level (VCARD), 2 for a child of VCALENDAR

    @property
    def line(self) -> int:
        return self.lines[0].line

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end


def _begin_end(text: str) -> tuple[str, str] | None:
    """``("BEGIN", "VEVENT")`` for a BEGIN/END line, else ``None`` (cheap prefix test first)."""
    c = text[0]
    if c not in "BbEe":
        return None
    name, sep, value = text.partition(":")
    key = name.upper()
    if sep and key in ("BEGIN", "END"):
        return key, value.strip().upper()
    return None


# Real files nest three deep (VCALENDAR > VEVENT > VALARM, VTIMEZONE > STANDARD; a vCard 2.1
# AGENT holds one more card). A hostile file nesting 1,000 deep made vobject recurse until
# RecursionError; past this depth the component is reported and dropped instead.
MAX_DEPTH = 16


def blocks(
    lines: Iterator[Logical], problems: Problems, *, container: str | None
) -> Iterator[Block | Logical]:
    """Group logical lines into components.

    With ``container="VCALENDAR"`` the children of each VCALENDAR are yielded as blocks and the
    calendar's own properties as bare :class:`Logical` lines; with ``None`` (vCard) each
    top-level component is a block.
    """
    base = 1 if container else 0  # depth at which yielded blocks begin
    stack: list[tuple[str, int]] = []  # (name, line)
    current: list[Logical] = []
    too_deep = False  # the block being read went past MAX_DEPTH: it is dropped
    for lg in lines:
        be = _begin_end(lg.text)
        depth = len(stack)
        if be is not None and be[0] == "BEGIN" and depth >= MAX_DEPTH:
            if not too_deep:
                problems.add(
                    codes.TOO_DEEP,
                    f"components nested more than {MAX_DEPTH} deep: this one is not read",
                    lg.line,
                )
            too_deep = True
            stack.append((be[1], lg.line))
            continue
        if be is not None and be[0] == "BEGIN":
            if depth == 0 and container and be[1] != container:
                problems.add(
                    codes.NOT_A_CALENDAR,
                    f"BEGIN:{be[1]} where BEGIN:{container} was expected",
                    lg.line,
                )
            if depth >= base:
                if not too_deep:
                    current.append(lg)
            elif container and be[1] == container:
                yield lg  # BEGIN of the container itself: lets the caller count calendars
            stack.append((be[1], lg.line))
            continue
        if be is not None:  # END
            if not stack:
                problems.add(codes.UNBALANCED, f"END:{be[1]} without a matching BEGIN", lg.line)
                continue
            name, opened = stack[-1]
            if name != be[1]:
                problems.add(
                    codes.UNBALANCED, f"END:{be[1]} closes BEGIN:{name} of line {opened}", lg.line
                )
                # Recover: close up to the component this END names, if it is open.
                if not any(s[0] == be[1] for s in stack):
                    continue
                while stack[-1][0] != be[1]:
                    stack.pop()
            stack.pop()
            if depth > base:
                if not too_deep:
                    current.append(lg)
                if len(stack) == base and too_deep:
                    current, too_deep = [], False
                elif len(stack) == base:
                    yield Block(
                        current[0].text.partition(":")[2].strip().upper(), current, base + 1
                    )
                    current = []
            continue
        if depth > base:
            if not too_deep:
                current.append(lg)
        elif depth == base and container and depth > 0:
            yield lg  # a property of the VCALENDAR itself
        else:
            problems.add(
                codes.OUTSIDE_COMPONENT,
                "content outside "
                + (f"BEGIN:{container} … END:{container}" if container else "BEGIN … END"),
                lg.line,
            )
    if stack:
        # The incomplete component is not yielded: an importer drops it or the whole file.
        name, opened = stack[-1]
        problems.add(codes.UNBALANCED, f"BEGIN:{name} is never closed (file cut short?)", opened)
