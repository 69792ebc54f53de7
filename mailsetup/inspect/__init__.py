"""Import pre-flight: will this ``.ics`` or ``.vcf`` file import, and if not, why.

``inspect_file`` picks the reader by content (``BEGIN:VCALENDAR`` / ``BEGIN:VCARD``), falling back
to the extension, streams the file once and returns a :class:`~mailsetup.inspect.report.FileReport`.
Input files are only ever opened for reading.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mailsetup.errors import BadInput
from mailsetup.inspect.report import FileReport

ICS_SUFFIXES = (".ics", ".ical", ".icalendar", ".ifb")
VCF_SUFFIXES = (".vcf", ".vcard")


def detect_kind(path: Path) -> str:
    """``"ics"`` or ``"vcf"``: the first content line decides, then the file name."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; then only regular files pass,
        # so neither a FIFO nor an endless device (/dev/zero behind a .ics name) is read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                if stat.S_ISDIR(mode):
                    raise IsADirectoryError
                raise BadInput(f"{str(path)!r} is not a regular file", "give .ics or .vcf files")
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    except IsADirectoryError:
        raise BadInput(f"{str(path)!r} is a folder", "give .ics or .vcf files") from None
    except FileNotFoundError:
        raise BadInput(f"{str(path)!r}: no such file") from None
    except OSError as exc:
        raise BadInput(f"{str(path)!r}: cannot read: {exc.strerror}") from None
    if head.startswith(b"BEGIN:VCALENDAR"):
        return "ics"
    if head.startswith(b"BEGIN:VCARD"):
        return "vcf"
    suffix = path.suffix.lower()
    if suffix in ICS_SUFFIXES:
        return "ics"
    if suffix in VCF_SUFFIXES:
        return "vcf"
    raise BadInput(
        f"{str(path)!r} is neither a calendar (.ics) nor a vCard (.vcf) file",
        "it must start with BEGIN:VCALENDAR or BEGIN:VCARD",
    )


def inspect_file(
    path: Path,
    ics_limit: int,
    *,
    split_dir: Path | None = None,
    force: bool = False,
) -> FileReport:
    """Inspect one file; with ``split_dir``, split a too-large calendar into that folder."""
    kind = detect_kind(path)
    if kind == "vcf":
        from mailsetup.inspect.vcf import inspect_vcf

        return inspect_vcf(path)
    from mailsetup.inspect.ics import SplitPlan, inspect_ics

    plan = SplitPlan() if split_dir is not None else None
    report = inspect_ics(path, ics_limit, plan=plan)
    if plan is not None and split_dir is not None and report.size > ics_limit:
        from mailsetup.inspect.split import split

        written = split(path, plan, ics_limit, split_dir, force=force)
        report.split_into = [str(p) for p in written]
    return report
