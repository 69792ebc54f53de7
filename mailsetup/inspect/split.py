"""``inspect --split``: cut a too-large .ics into files the importer accepts.

Each part is a complete VCALENDAR: the original calendar properties (VERSION, PRODID, ...),
every VTIMEZONE its events name (RFC 5545 3.6.5: a TZID must have its VTIMEZONE in the same
object), then events and tasks copied byte for byte. Components sharing a UID (a recurring
event and its RECURRENCE-ID exceptions, RFC 5545 3.8.4.4) go to the same part, or the
exceptions would turn into stray events.

Memory: the plan holds byte ranges only; each part is assembled from ``pread`` of those ranges
and is never larger than the limit, so a 200 MB file needs at most one part in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

from mailsetup.errors import OutputError
from mailsetup.inspect.ics import SplitPlan
from mailsetup.output import StagedWrites

BEGIN = b"BEGIN:VCALENDAR\r\n"
END = b"END:VCALENDAR\r\n"


def plan_parts(plan: SplitPlan, limit: int) -> list[list[int]]:
    """Group unit indexes into parts whose assembled size stays within ``limit`` bytes."""
    fixed = len(BEGIN) + sum(map(len, plan.header)) + len(END)
    parts: list[list[int]] = []
    current: list[int] = []
    size = fixed
    zones: set[str] = set()
    for i, ranges in enumerate(plan.units):
        body = sum(end - start for start, end in ranges)
        wanted = {z for z in plan.unit_tzids[i] if z in plan.timezones}
        if fixed + body + sum(len(plan.timezones[z]) for z in wanted) > limit:
            raise OutputError(
                f"the component at line {plan.unit_line[i]} alone is larger than the limit of"
                f" {limit} bytes; no part could hold it"
            )
        extra = body + sum(len(plan.timezones[z]) for z in wanted - zones)
        if current and size + extra > limit:
            parts.append(current)
            current, size, zones = [], fixed, set()
            extra = body + sum(len(plan.timezones[z]) for z in wanted)
        current.append(i)
        size += extra
        zones |= wanted
    if current:
        parts.append(current)
    return parts


def part_names(source: Path, folder: Path, count: int) -> list[Path]:
    width = len(str(count))
    return [folder / f"{source.stem}-part{i:0{width}d}{source.suffix}" for i in range(1, count + 1)]


def existing_parts(source: Path, folder: Path) -> list[Path]:
    """Part files of an earlier split of ``source`` in ``folder`` (any count): checked before
    the file is read, so a refusal comes at once rather than after a long pass."""
    import glob

    pattern = f"{glob.escape(source.stem)}-part*{glob.escape(source.suffix)}"
    return sorted(p for p in folder.glob(pattern) if p.name[len(source.stem) + 5 :][:1].isdigit())


def split(
    source: Path, plan: SplitPlan, limit: int, folder: Path, *, force: bool = False
) -> list[Path]:
    """Write the parts next to each other in ``folder``; the source is only ever read."""
    parts = plan_parts(plan, limit)
    paths = part_names(source, folder, len(parts))
    src = source.resolve()
    for path in paths:
        if path.resolve() == src:
            raise OutputError(f"{str(path)!r} is the input file", "choose another --output-dir")
    if not force:
        existing = [str(p) for p in paths if p.exists()]
        if existing:
            raise OutputError(f"{existing[0]!r} already exists", "pass --force to replace it")
    header = b"".join(plan.header)
    # Keep the input's line endings (a file with bare LF gets LF BEGIN/END lines too).
    lf_only = bool(plan.header) and not plan.header[0].endswith(b"\r\n")
    begin, end_line, newline = (
        (BEGIN.replace(b"\r", b""), END.replace(b"\r", b""), b"\n")
        if lf_only
        else (BEGIN, END, b"\r\n")
    )
    fd = os.open(source, os.O_RDONLY)
    # Staged: every part is on disk before any appears, so a failure leaves no partial split.
    try:
        with StagedWrites(force=force) as batch:
            for path, units in zip(paths, parts, strict=True):
                zones: list[str] = []
                for i in units:
                    for z in sorted(plan.unit_tzids[i]):
                        if z in plan.timezones and z not in zones:
                            zones.append(z)
                chunks = [begin, header, *(plan.timezones[z] for z in zones)]
                for i in units:
                    for start, end in plan.units[i]:
                        data = os.pread(fd, end - start, start)
                        chunks.append(data if data.endswith(b"\n") else data + newline)
                chunks.append(end_line)
                batch.add(path, b"".join(chunks))
            return batch.commit()
    finally:
        os.close(fd)
