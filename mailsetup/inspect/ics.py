"""Pre-flight of an iCalendar file (RFC 5545) before it is uploaded to the calendar web app.

The web app takes one ``.ics`` of at most ``Provider.ics_max_bytes``; VEVENTs become events
and VTODOs tasks (provider facts in profiles/*.toml and docs/calendars-contacts.md). We read the
file once, one component at a time (see :mod:`mailsetup.inspect.contentlines`), so memory stays
bounded whatever the size, and collect what ``--split`` needs on the way: the calendar's own
properties, each VTIMEZONE's bytes, and each event's byte range, UID and time zones.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mailsetup.inspect.contentlines import Block, Logical, blocks, logical_lines
from mailsetup.inspect.report import FileReport, Problems
from mailsetup.inspect.vparse import build

IMPORTED = {"VEVENT": "events", "VTODO": "todos"}


@dataclass
class SplitPlan:
    """What ``--split`` needs from the inspection pass: byte ranges, never the bytes of events."""

    header: list[bytes] = field(default_factory=list)  # VCALENDAR properties, verbatim
    timezones: dict[str, bytes] = field(default_factory=dict)  # TZID -> VTIMEZONE block bytes
    # Units: byte ranges that must stay in one file (one UID: master + RECURRENCE-ID overrides).
    units: list[list[tuple[int, int]]] = field(default_factory=list)
    # Interned: 50,000 events usually share one or two sets of time zones.
    unit_tzids: list[frozenset[str]] = field(default_factory=list)
    interned: dict[frozenset[str], frozenset[str]] = field(default_factory=dict)
    unit_line: list[int] = field(default_factory=list)
    by_uid: dict[str, int] = field(default_factory=dict)


def _sort_key(value: date) -> datetime:
    """Comparable instant: dates at midnight, aware times in UTC, floating times as they are."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                return value.astimezone(UTC).replace(tzinfo=None)
            except (ValueError, OverflowError):
                return value.replace(tzinfo=None)
        return value
    return datetime(value.year, value.month, value.day)


_DATE_PROPS = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID")
# RFC 5545 3.3.4 DATE and 3.3.5 DATE-TIME: vobject reads "2024013" as 3 January, an importer
# following the RFC refuses it, so the form is checked here.
_DATE_VALUE = re.compile(r"\d{8}(T\d{6}Z?)?")


def _scan(block: Block, problems: Problems) -> tuple[dict[str, int], set[str]]:
    """TZIDs named by the block (with the line of first use), read before vobject turns them
    into tzinfo objects; and the form of its date values."""
    found: dict[str, int] = {}
    bad: set[str] = set()
    for lg in block.lines:
        text = lg.text
        # Cheap filter first: this runs on every line of files with 100,000s of lines.
        if text[0] not in "DdRr" and "TZID=" not in text and "tzid=" not in text:
            continue
        head, _, value = text.partition(":")
        name = head.split(";", 1)[0].upper()
        if name in _DATE_PROPS and not _DATE_VALUE.fullmatch(value.strip()):
            bad.add(name)
            problems.error(
                "bad-date",
                f"{name} {value.strip()[:40]!r} is not a date (YYYYMMDD) or date-time"
                " (YYYYMMDDTHHMMSS[Z]), RFC 5545 3.3.4/3.3.5",
                lg.line,
            )
        if "TZID=" in head.upper():
            for part in head.split(";")[1:]:
                key, _, param = part.partition("=")
                if key.upper() == "TZID":
                    found.setdefault(param.strip('"'), lg.line)
    return found, bad


def _uid(block: Block) -> str | None:
    """The component's own UID (depth 1 of the block, not one of a nested VALARM)."""
    depth = 0
    for lg in block.lines:
        key = lg.text[:6].upper()
        if key.startswith("BEGIN:"):
            depth += 1
        elif key.startswith("END:"):
            depth -= 1
        elif depth == 1 and (key.startswith("UID:") or key.startswith("UID;")):
            return lg.text.partition(":")[2].strip()
    return None


def _known_zone(tzid: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tzid.lstrip("/"))
    except (ValueError, KeyError, OSError):
        return False
    return True


class _Calendar:
    def __init__(self, problems: Problems, plan: SplitPlan | None) -> None:
        self.problems = problems
        self.plan = plan
        self.counts = {"events": 0, "todos": 0, "journals": 0, "other": 0}
        self.recurring = 0
        self.all_day = 0
        self.first: tuple[datetime, date] | None = None
        self.last: tuple[datetime, date] | None = None
        self.tz_defined: set[str] = set()
        self.tz_used: dict[str, int] = {}  # tzid -> first line using it
        self.calendars = 0
        self.behavior: Any = None

    def property(self, raw: bytes | None) -> None:
        # The first calendar's own properties (VERSION, PRODID, CALSCALE, METHOD, X-WR-...)
        # head every part of a split.
        if self.plan is not None and raw is not None and self.calendars == 1:
            self.plan.header.append(raw)

    def component(self, block: Block, raw: bytes | None) -> None:
        p = self.problems
        if self.behavior is None:
            from vobject.base import getBehavior

            self.behavior = getBehavior("VCALENDAR", "2.0")
        tzids, bad_dates = _scan(block, p) if block.name != "VTIMEZONE" else ({}, set())
        if self.plan is not None and block.name != "VTIMEZONE":
            # Planned from the raw lines, so that even a component vobject cannot read is
            # carried into a part: the importer, not the split, decides about it.
            self._plan_unit(_uid(block), block, frozenset(tzids))
        comp = build(block, p, self.behavior)
        if comp is None:
            p.error("unreadable-component", f"{block.name} cannot be read", block.line)
            return
        if block.name == "VTIMEZONE":
            tzid = comp.contents.get("tzid")
            name = str(tzid[0].value) if tzid else ""
            if not name:
                p.error("bad-timezone", "VTIMEZONE without TZID", block.line)
            else:
                self.tz_defined.add(name)
                if self.plan is not None and raw is not None:
                    self.plan.timezones.setdefault(name, raw)
            return
        for tzid, line in tzids.items():
            self.tz_used.setdefault(tzid, line)
        if block.name == "VEVENT":
            self.counts["events"] += 1
            self._event(comp, block, "DTSTART" in bad_dates)
        elif block.name == "VTODO":
            self.counts["todos"] += 1
            self._recurrence(comp, block)
        elif block.name == "VJOURNAL":
            self.counts["journals"] += 1
            p.warning("journal-ignored", "VJOURNAL entries are not imported", block.line)
        else:
            self.counts["other"] += 1
            p.warning("component-ignored", f"{block.name} is not imported", block.line)
        if block.name in IMPORTED and "uid" not in comp.contents:
            p.warning("missing-uid", f"{block.name} has no UID (RFC 5545 3.8.4.7)", block.line)

    def _plan_unit(self, uid: str | None, block: Block, tzids: frozenset[str]) -> None:
        plan = self.plan
        assert plan is not None
        index = plan.by_uid.get(uid) if uid else None
        if index is None:
            index = len(plan.units)
            plan.units.append([])
            plan.unit_tzids.append(frozenset())
            plan.unit_line.append(block.line)
            if uid:
                plan.by_uid[uid] = index
        plan.units[index].append((block.start, block.end))
        merged = plan.unit_tzids[index] | tzids
        plan.unit_tzids[index] = plan.interned.setdefault(merged, merged)

    def _event(self, comp: Any, block: Block, bad_start: bool) -> None:
        dtstart = comp.contents.get("dtstart")
        if not dtstart:
            self.problems.error(
                "missing-dtstart",
                "VEVENT has no DTSTART (required by RFC 5545 3.6.1 without a METHOD)",
                block.line,
            )
        elif not bad_start:
            value = dtstart[0].value
            if isinstance(value, date):
                if not isinstance(value, datetime):
                    self.all_day += 1
                key = _sort_key(value)
                if self.first is None or key < self.first[0]:
                    self.first = (key, value)
                if self.last is None or key > self.last[0]:
                    self.last = (key, value)
        self._recurrence(comp, block)

    def _recurrence(self, comp: Any, block: Block) -> None:
        rrules = comp.contents.get("rrule")
        if not rrules and "rdate" not in comp.contents:
            return
        self.recurring += 1
        if not rrules:
            return
        from dateutil import rrule

        start = comp.contents.get("dtstart")
        anchor = start[0].value if start else None
        if isinstance(anchor, date) and not isinstance(anchor, datetime):
            anchor = datetime(anchor.year, anchor.month, anchor.day)
        for line in rrules:
            text = str(line.value)
            try:
                rule = rrule.rrulestr(
                    text, dtstart=anchor if isinstance(anchor, datetime) else None
                )
                if isinstance(anchor, datetime) and anchor.tzinfo is not None:
                    until = getattr(rule, "_until", None)
                    if until is not None and until.tzinfo is None:
                        raise ValueError("UNTIL must be in UTC when DTSTART has a time zone")
            except (ValueError, TypeError, KeyError) as exc:
                self.problems.error(
                    "bad-rrule",
                    f"RRULE {text[:80]!r} is not valid (RFC 5545 3.3.10): {exc}",
                    getattr(line, "lineNumber", None) or block.line,
                )

    def stats(self) -> dict[str, Any]:
        def iso(v: tuple[datetime, date] | None) -> str | None:
            return None if v is None else v[1].isoformat()

        return {
            "events": self.counts["events"],
            "todos": self.counts["todos"],
            "journals": self.counts["journals"],
            "other_components": self.counts["other"],
            "recurring_events": self.recurring,
            "all_day_events": self.all_day,
            "first_start": iso(self.first),
            "last_start": iso(self.last),
            "timezones": [
                {"tzid": t, "defined": t in self.tz_defined, "used": t in self.tz_used}
                for t in sorted(self.tz_defined | set(self.tz_used))
            ],
            "calendars": self.calendars,
        }

    def finish(self) -> None:
        p = self.problems
        for tzid, line in sorted(self.tz_used.items(), key=lambda kv: kv[1]):
            if tzid in self.tz_defined:
                continue
            if _known_zone(tzid):
                p.warning(
                    "timezone-not-defined",
                    f"TZID {tzid!r} has no VTIMEZONE in the file (RFC 5545 3.2.19); importers"
                    " usually read it as the IANA zone of that name",
                    line,
                )
            else:
                p.error(
                    "timezone-unknown",
                    f"TZID {tzid!r} has no VTIMEZONE and is no known zone: times using it"
                    " cannot be placed",
                    line,
                )
        if self.calendars == 0:
            p.error("not-a-calendar", "no BEGIN:VCALENDAR in the file")
        elif self.calendars > 1:
            p.warning(
                "several-calendars",
                f"{self.calendars} VCALENDAR objects in one file; some importers read only"
                " the first",
            )
        if self.calendars and not (self.counts["events"] or self.counts["todos"]):
            p.warning("empty", "no VEVENT or VTODO: nothing would be imported")


def inspect_ics(path: Path, limit: int, *, plan: SplitPlan | None = None) -> FileReport:
    """Inspect ``path`` in one streaming pass; fill ``plan`` (when given) for :mod:`split`."""
    problems = Problems()
    size = path.stat().st_size
    if size > limit:
        problems.error(
            "too-large",
            f"{size} bytes, over the import limit of {limit} bytes (use --split)",
        )
    cal = _Calendar(problems, plan)
    with path.open("rb") as fh:
        fd = fh.fileno()

        def raw(start: int, end: int) -> bytes | None:
            # Only the small pieces a split needs (header lines, VTIMEZONEs) are read again.
            return os.pread(fd, end - start, start) if plan is not None else None

        for item in blocks(logical_lines(fh, problems), problems, container="VCALENDAR"):
            if isinstance(item, Logical):
                if item.text.upper().startswith("BEGIN:"):
                    cal.calendars += 1
                else:
                    cal.property(raw(item.start, item.end))
            elif item.name == "VTIMEZONE":
                cal.component(item, raw(item.start, item.end))
            else:
                cal.component(item, None)
    cal.finish()
    return FileReport(str(path), "ics", size, limit, cal.stats(), problems)
