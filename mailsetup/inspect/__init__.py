"""Import pre-flight: will this ``.ics`` or ``.vcf`` file import, and if not, why.

:func:`inspect_file` opens one input (a path, or ``-`` for standard input), tells its kind from
its first bytes (``BEGIN:VCALENDAR`` / ``BEGIN:VCARD``, else the extension), streams it once
through that kind's reader and returns a :class:`~mailsetup.inspect.report.FileReport`. A file
that cannot be read at all (missing, a folder, a device, neither kind) also gets a report, with
the reason as its one problem, so that one bad argument never hides the verdict on the others.
Input files are only ever opened for reading.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from mailsetup import inputs
from mailsetup.inputs import STDIN
from mailsetup.inspect import codes
from mailsetup.inspect.codes import Code

if TYPE_CHECKING:
    # Loaded by the functions that build reports: ``inspect x.mobileconfig`` opens its files
    # with :func:`open_regular` and never needs the calendar and contact reports.
    from mailsetup.inspect.report import FileReport

ICS_SUFFIXES = (".ics", ".ical", ".icalendar", ".ifb")
VCF_SUFFIXES = (".vcf", ".vcard")
_HEAD = 4096


class Unreadable(Exception):
    """This input cannot be inspected; ``code`` and the message say why."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# How a kind is told: the first content line, else the file name's suffix. A new kind of file
# adds a row here and a branch in ``inspect_file``.
FIRST_LINES: tuple[tuple[bytes, str], ...] = (
    (b"BEGIN:VCALENDAR", "ics"),
    (b"BEGIN:VCARD", "vcf"),
)
SUFFIX_KINDS: dict[str, str] = {
    **dict.fromkeys(ICS_SUFFIXES, "ics"),
    **dict.fromkeys(VCF_SUFFIXES, "vcf"),
}


def sniff(head: bytes, suffix: str) -> str | None:
    """The kind of file: the first content line decides, then the file name's suffix."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].upper()
    for prefix, kind in FIRST_LINES:
        if start.startswith(prefix):
            return kind
    return SUFFIX_KINDS.get(suffix)


class _Prefixed(io.RawIOBase):
    """A non-seekable stream (standard input) with the bytes already read for sniffing put
    back in front."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def open_regular(path: Path, hint: str = "give .ics or .vcf files") -> BinaryIO:
    """A regular file opened for reading (:func:`mailsetup.inputs.open_regular`); anything
    else raises :class:`Unreadable` with the ``unreadable-file`` code."""
    try:
        return inputs.open_regular(path, hint)
    except inputs.NotReadable as exc:
        raise Unreadable(codes.UNREADABLE_FILE, exc.message) from None


@contextmanager
def open_input(path: Path) -> Iterator[tuple[str, BinaryIO]]:
    """``(kind, binary stream)`` for a path or ``-``; raises :class:`Unreadable`."""
    if str(path) == STDIN:
        raw = sys.stdin.buffer
        head = raw.read(_HEAD)
        kind = sniff(head, "")
        if kind is None:
            raise Unreadable(codes.UNKNOWN_KIND, _UNKNOWN)
        yield kind, io.BufferedReader(_Prefixed(head, raw), io.DEFAULT_BUFFER_SIZE)
        return
    fh = open_regular(path)
    with fh:
        try:
            head = fh.read(_HEAD)
        except OSError as exc:
            raise Unreadable(codes.UNREADABLE_FILE, f"cannot read: {exc.strerror}") from None
        kind = sniff(head, path.suffix.lower())
        if kind is None:
            raise Unreadable(codes.UNKNOWN_KIND, _UNKNOWN)
        fh.seek(0)
        yield kind, fh


_UNKNOWN = (
    "neither a calendar (.ics) nor a vCard (.vcf) file: it must start with BEGIN:VCALENDAR"
    " or BEGIN:VCARD"
)


def kind_of(path: Path) -> str | None:
    """The kind of a file on disk, without reading more than its head (None: unknown or
    unreadable; :func:`inspect_file` reports why)."""
    if str(path) == STDIN:
        return None
    try:
        with open_input(path) as (kind, _):
            return kind
    except Unreadable:
        return None


def unreadable_report(path: Path, code: Code, message: str) -> FileReport:
    from mailsetup.inspect.report import FileReport, Problems

    problems = Problems()
    problems.add(code, message)
    return FileReport(str(path), None, 0, None, {}, problems)


def inspect_file(
    path: Path,
    ics_limit: int | None,
    *,
    split_dir: Path | None = None,
    force: bool = False,
    imported: frozenset[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileReport:
    """Inspect one input; with ``split_dir``, split a too-large calendar into that folder.

    ``imported``: the components the provider's calendar importer takes (default: events and
    tasks). Never raises for a bad input: the report says what is wrong with it.
    """
    from mailsetup.inspect.ics import IMPORTABLE, SplitPlan, inspect_ics_stream

    try:
        with open_input(path) as (kind, fh):
            if kind == "vcf":
                from mailsetup.inspect.vcf import inspect_vcf_stream

                return inspect_vcf_stream(fh, str(path))
            plan = SplitPlan() if split_dir is not None else None
            report = inspect_ics_stream(
                fh,
                str(path),
                ics_limit,
                plan=plan,
                imported=IMPORTABLE if imported is None else imported,
                progress=progress,
            )
    except Unreadable as exc:
        return unreadable_report(path, exc.code, exc.message)
    except OSError as exc:  # a read failing half-way (EIO, a vanished network share)
        return unreadable_report(path, codes.UNREADABLE_FILE, f"cannot read: {exc.strerror}")
    if (
        plan is not None
        and split_dir is not None
        and ics_limit is not None
        and report.size > ics_limit
    ):
        from mailsetup.inspect.split import split

        written = split(path, plan, ics_limit, split_dir, force=force)
        report.split_into = [str(p) for p in written]
    return report
