"""Pre-flight of an iCalendar file (RFC 5545): the component stack and what is counted.

A person runs ``inspect`` before every import, so it must take well under the time a full
parser takes: building every event as objects (vobject, icalendar) costs 12-15 s and ~18x the
file in memory for 20 MB. This reader never builds an event. :mod:`~mailsetup.inspect.icschunks`
hands it the file as unfolded chunks whose every line it has already checked; here Python sees
only the lines that carry structure: BEGIN/END (a component stack with matching and a depth
limit), UID, DTSTART, RRULE/RDATE, TZID, and the properties nested components require.
Recurrence rules go to dateutil (once per distinct rule), VTIMEZONEs to vobject (only the few
that decide the first and last start). Memory holds one chunk and what ``--split`` needs (byte
ranges), whatever the file size.

Which components the importer takes is provider data (``[calendar_import]`` in the provider
file); everything else is RFC 5545.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, BinaryIO

from mailsetup.inspect import codes
from mailsetup.inspect.contentlines import MAX_DEPTH
from mailsetup.inspect.icschunks import (
    FORM,
    NAME_START,
    VALID_DT,
    Chunk,
    check_lines,
    check_utf8,
    chunks,
    excerpt,
)
from mailsetup.inspect.report import FileReport, Problems

# RFC 5545 3.6: the components a calendar importer can take. The provider file says which of
# them its importer keeps (``[calendar_import] components``); this is the neutral default.
IMPORTABLE = frozenset({"VEVENT", "VTODO"})
# VTIMEZONE texts kept to place the first and last start: a file has a handful of a few KB;
# the bounds keep a hostile file from filling memory with them.
_MAX_ZONES_KEPT = 64
_MAX_ZONE_BYTES = 64 * 1024
_RRULE_CACHE_MAX = 4096


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


# Python sees only the lines that carry structure.
_KEYS = (
    rb"(BEGIN|END|UID|DTSTART|RRULE|RDATE|TZID|ACTION|TRIGGER|TZOFFSETFROM|TZOFFSETTO)"
    rb"([;:][^\r\n]*)"
)
_KEY = re.compile(rb"\n" + _KEYS)
_KEY_ANYCASE = re.compile(rb"\n" + _KEYS, re.IGNORECASE)
# Property names are case-insensitive (3.1): the case-insensitive scans run only on a chunk
# with a name in lower case (``Chunk.anycase``).
_TZID_USE = re.compile(rb'\n[A-Za-z0-9-]+(?:;[^:\r\n]*?)?;TZID=("[^"\r\n]*"|[^;:\r\n]*)', re.I)
_TZID_PARAM = re.compile(rb';TZID=("[^"\r\n]*"|[^;:\r\n]*)')
_CONTENT = re.compile(rb"\n([^\r\n]*[^\r\n \t][^\r\n]*)")

# RFC 5545 3.6.6, 3.6.5: what a nested component cannot be read without.
REQUIRED = {
    "VALARM": ("ACTION", "TRIGGER"),
    "STANDARD": ("DTSTART", "TZOFFSETFROM", "TZOFFSETTO"),
    "DAYLIGHT": ("DTSTART", "TZOFFSETFROM", "TZOFFSETTO"),
}


@dataclass(slots=True)
class _Open:
    """An open component on the stack."""

    name: str
    ch: Chunk | None  # the chunk of its BEGIN line, while that chunk is current
    u: int  # offset of its BEGIN line in ``ch.u``
    line: int | None = None  # resolved when its chunk is left
    start: int = 0  # file offset of its BEGIN line (with a split plan)
    # Top-level components only:
    uid: str | None = None
    has_uid: bool = False
    dtstart: tuple[bytes, str | None] | None = None  # (value, TZID)
    dtstart_line: Callable[[], int] | int | None = None
    rrules: list[tuple[str, Callable[[], int] | int]] = field(default_factory=list)
    rdate: bool = False
    tzid: str | None = None  # a VTIMEZONE's own TZID
    dropped: bool = False  # nested too deep: not counted
    seen: set[bytes] | None = None  # a nested component's properties that REQUIRED names
    text: list[bytes] | None = None  # a VTIMEZONE's unfolded text, chunk by chunk

    def where(self) -> int | None:
        if self.line is None and self.ch is not None:
            self.line = self.ch.line(self.u)
        return self.line


def _rrule_kind(value: bytes | None, tzid: str | None, aware_zone: Callable[[str], bool]) -> str:
    if value is None or not VALID_DT.fullmatch(value):
        return "none"
    if len(value) == 8:
        return "naive"
    if value.endswith(b"Z") or (tzid is not None and aware_zone(tzid)):
        return "aware"
    return "naive"


def _rrule_error(text: str, kind: str) -> str | None:
    """Why dateutil refuses ``text`` (RFC 5545 3.3.10), or None; the anchor's value does not
    matter, only whether it is absent, floating or zoned (UNTIL must match)."""
    from dateutil import rrule

    anchor = {
        "none": None,
        "naive": datetime(2000, 1, 1),
        "aware": datetime(2000, 1, 1, tzinfo=UTC),
    }[kind]
    try:
        rule = rrule.rrulestr(text, dtstart=anchor)
        if anchor is not None and anchor.tzinfo is not None:
            until = getattr(rule, "_until", None)
            if until is not None and until.tzinfo is None:
                raise ValueError("UNTIL must be in UTC when DTSTART has a time zone")
    except Exception as exc:
        return str(exc) or type(exc).__name__
    return None


def _known_zone(tzid: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tzid.lstrip("/"))
    except (ValueError, KeyError, OSError):
        return False
    return True


class _Calendar:
    """The component stack and everything counted on the way."""

    def __init__(
        self, problems: Problems, plan: SplitPlan | None, fd: int | None, imported: frozenset[str]
    ) -> None:
        self.problems = problems
        self.plan = plan
        self.fd = fd
        self.imported = imported
        self.stack: list[_Open] = []
        self.overflow = 0  # BEGINs past MAX_DEPTH, not on the stack
        self.counts = {"events": 0, "todos": 0, "journals": 0, "other": 0}
        self.recurring = 0
        self.all_day = 0
        self.calendars = 0
        # DTSTART extremes per zone group: values of one zone order like their instants.
        self.extremes: dict[str | None, list[bytes]] = {}
        self.tz_defined: set[str] = set()
        self.tz_used: dict[str, int | None] = {}
        self.zone_text: dict[str, bytes] = {}
        self.rrule_cache: dict[tuple[str, str], str | None] = {}
        self.known: dict[str, bool] = {}
        self.header_from: int | None = None
        self.names: dict[bytes, str] = {}
        self.tz_seen: set[str] = set()

    # -- helpers --------------------------------------------------------------------------

    def aware_zone(self, tzid: str) -> bool:
        if tzid in self.tz_defined:
            return True
        if tzid not in self.known:
            self.known[tzid] = _known_zone(tzid)
        return self.known[tzid]

    def pread(self, start: int, end: int) -> bytes:
        assert self.fd is not None
        return os.pread(self.fd, end - start, start) if end > start else b""

    # -- per chunk ------------------------------------------------------------------------

    def _name(self, raw: bytes) -> str:
        """A component name as text; the few real names are decoded once."""
        name = self.names.get(raw)
        if name is None:
            name = raw.strip().upper().decode("utf-8", "replace")
            if len(self.names) < 1024:
                self.names[raw] = name
        return name

    def _zones_used(self, ch: Chunk, anycase: bool) -> list[tuple[int, bytes]] | None:
        """TZID parameters in the chunk: with a split plan, each with its offset (a part needs
        the VTIMEZONEs of its own events); without, only the first use of each new zone."""
        u = ch.u
        if self.plan is not None:
            pattern = _TZID_USE if anycase else _TZID_PARAM
            return [(m.start(), m.group(1)) for m in pattern.finditer(u)]
        # A literal search finds the candidates fast; the first use of a new zone is then
        # confirmed as a parameter (not text in a value) by the full pattern.
        found = _TZID_USE.findall(u) if anycase else _TZID_PARAM.findall(u)
        for raw in set(found):
            tzid = raw.strip(b'"').decode("utf-8", "replace")
            if tzid not in self.tz_used and tzid not in self.tz_seen:
                self.tz_seen.add(tzid)
                m = _TZID_USE.search(u)
                while m is not None and m.group(1) != raw:
                    m = _TZID_USE.search(u, m.end())
                if m is not None:
                    self.tz_used[tzid] = ch.line(m.start() + 1)
                else:
                    self.tz_seen.discard(tzid)  # only in a value: look again in later chunks
        return None

    def chunk(self, ch: Chunk, anycase: bool) -> None:
        u = ch.u
        tz_uses = self._zones_used(ch, anycase)
        ti = 0
        keys = _KEY_ANYCASE if anycase else _KEY
        stack = self.stack
        names = self.names
        # Where content at depth 0 (outside any component) may be: from here to the next BEGIN.
        outside_from = 0 if not stack and not self.overflow else None
        for m in keys.finditer(u):
            key, rest = m.groups()
            if anycase:
                key = key.upper()
            depth = len(stack)
            if key == b"END":
                if self.overflow:
                    self.overflow -= 1
                    continue
                raw = rest[1:] if rest[:1] == b":" else rest.partition(b":")[2]
                comp = names.get(raw) or self._name(raw)
                if depth and stack[-1].name == comp and depth != 2:
                    entry = stack.pop()
                    if depth > 2:
                        self._required(entry)
                    elif self.plan is not None and self.header_from is not None:
                        self._header(ch.off + ch.raw(m.start() + 1))
                        self.header_from = None
                else:
                    ti = self._end(ch, m, comp, tz_uses, ti)
                if not stack:
                    outside_from = m.end()
            elif key == b"BEGIN":
                raw = rest[1:] if rest[:1] == b":" else rest.partition(b":")[2]
                comp = names.get(raw) or self._name(raw)
                if outside_from is not None:
                    self._outside(ch, outside_from, m.start())
                    outside_from = None
                if depth >= MAX_DEPTH or self.overflow:
                    self._too_deep(ch, m)
                    continue
                if depth >= 2:
                    stack.append(_Open(comp, ch, m.start() + 1))
                    continue
                self._begin(ch, m, comp, depth)
            elif depth == 2:
                top = stack[1]
                head, _, value = rest.partition(b":")
                if key == b"DTSTART":
                    self._dtstart(ch, m, top, head, value.strip())
                elif key == b"UID":
                    top.has_uid = True
                    if self.plan is not None:
                        top.uid = value.strip().decode("utf-8", "replace")
                elif key == b"RRULE":
                    top.rrules.append(
                        (value.strip().decode("utf-8", "replace"), ch.at(m.start() + 1))
                    )
                elif key == b"RDATE":
                    top.rdate = True
                elif key == b"TZID" and top.name == "VTIMEZONE" and top.tzid is None:
                    top.tzid = value.strip().decode("utf-8", "replace")
            elif depth > 2:
                nested = stack[-1]
                if nested.seen is None:
                    nested.seen = set()
                nested.seen.add(key)
                if key == b"DTSTART":
                    value = rest.partition(b":")[2].strip()
                    if not VALID_DT.fullmatch(value):
                        self._bad_start(ch, m, value)
        if outside_from is not None:
            self._outside(ch, outside_from, len(u))
        # Components still open when the chunk is left keep their line number and offsets.
        if len(stack) >= 2 and stack[1].name == "VTIMEZONE":
            zone = stack[1]
            zone.text = zone.text or []
            if sum(map(len, zone.text)) < _MAX_ZONE_BYTES:
                zone.text.append(u[zone.u if zone.ch is ch else 1 :][:_MAX_ZONE_BYTES])
        for entry in stack:
            if entry.ch is ch:
                entry.where()
                entry.ch = None
        if self.plan is not None and self.header_from is not None and len(stack) == 1:
            # Calendar properties up to the end of this chunk head every part.
            end = ch.off + len(ch.data)
            self._header(end)
            self.header_from = end

    def _too_deep(self, ch: Chunk, m: re.Match[bytes]) -> None:
        stack = self.stack
        if not self.overflow and len(stack) >= 2 and not stack[1].dropped:
            top = stack[1]
            top.dropped = True
            self.problems.add(
                codes.TOO_DEEP,
                f"components nested more than {MAX_DEPTH} deep: this {top.name} is not read",
                ch.at(m.start() + 1),
            )
        self.overflow += 1

    def _outside(self, ch: Chunk, start: int, end: int) -> None:
        container = "BEGIN:VCALENDAR … END:VCALENDAR"
        for m in _CONTENT.finditer(ch.u, start, end):
            head = m.group(1)[:6].upper()
            if head.startswith((b"END:", b"END;", b"BEGIN:", b"BEGIN;")):
                continue
            if not NAME_START.match(m.group(1)):
                continue  # reported as a broken fold
            self.problems.add(
                codes.OUTSIDE_COMPONENT, f"content outside {container}", ch.at(m.start() + 1)
            )

    def _header(self, end: int) -> None:
        assert self.plan is not None and self.header_from is not None
        piece = self.pread(self.header_from, end)
        if piece.strip():
            self.plan.header.append(piece)

    def _begin(self, ch: Chunk, m: re.Match[bytes], comp: str, depth: int) -> None:
        entry = _Open(comp, ch, m.start() + 1)
        plan = self.plan
        if depth == 0:
            if comp == "VCALENDAR":
                self.calendars += 1
                if plan is not None and self.calendars == 1:
                    self.header_from = ch.off + self._line_end(ch, m.end())
            else:
                self.problems.add(
                    codes.NOT_A_CALENDAR,
                    f"BEGIN:{comp} where BEGIN:VCALENDAR was expected",
                    ch.at(m.start() + 1),
                )
        elif depth == 1 and plan is not None:
            entry.start = ch.off + ch.raw(m.start() + 1)
            if self.header_from is not None:
                self._header(entry.start)
                self.header_from = None
            if comp != "VTIMEZONE":
                entry.line = ch.line(m.start() + 1)
        self.stack.append(entry)

    @staticmethod
    def _line_end(ch: Chunk, upos: int) -> int:
        """Offset in the chunk just after the line ending that follows ``u[upos]``."""
        j = ch.raw(upos)
        data = ch.data
        if data[j : j + 1] == b"\r":
            j += 1
        if data[j : j + 1] == b"\n":
            j += 1
        return j

    def _end(
        self,
        ch: Chunk,
        m: re.Match[bytes],
        comp: str,
        tz_uses: list[tuple[int, bytes]] | None,
        ti: int,
    ) -> int:
        p = self.problems
        stack = self.stack
        if not stack:
            p.add(codes.UNBALANCED, f"END:{comp} without a matching BEGIN", ch.at(m.start() + 1))
            return ti
        top = stack[-1]
        if top.name != comp:
            p.add(
                codes.UNBALANCED,
                f"END:{comp} closes BEGIN:{top.name} of line {top.where()}",
                ch.at(m.start() + 1),
            )
            if not any(s.name == comp for s in stack):
                return ti
            while stack[-1].name != comp:
                stack.pop()
        entry = stack.pop()
        depth = len(stack)  # of the closed component: 0 calendar, 1 top-level, 2+ nested
        if depth == 1:
            # TZIDs named inside this component (any depth), in file order.
            begin_u = entry.u if entry.ch is ch else 0
            used: set[str] = set()
            while tz_uses is not None and ti < len(tz_uses) and tz_uses[ti][0] < m.start():
                pos, raw = tz_uses[ti]
                ti += 1
                if pos >= begin_u and entry.name != "VTIMEZONE":
                    tzid = raw.strip(b'"').decode("utf-8", "replace")
                    used.add(tzid)
                    if tzid not in self.tz_used:
                        self.tz_used[tzid] = ch.line(pos + 1)
            self._component(ch, m, entry, used)
            if self.plan is not None and self.calendars == 1 and stack:
                # Calendar properties after this component also head every part.
                self.header_from = ch.off + self._line_end(ch, m.end())
        elif depth >= 2:
            self._required(entry)
        elif depth == 0 and self.plan is not None and self.header_from is not None:
            self._header(ch.off + ch.raw(m.start() + 1))
            self.header_from = None
        return ti

    def _required(self, entry: _Open) -> None:
        """A nested component (VALARM, STANDARD, DAYLIGHT) has what RFC 5545 requires."""
        need = REQUIRED.get(entry.name)
        if not need or (len(self.stack) >= 2 and self.stack[1].dropped):
            return
        seen = entry.seen or set()
        for prop in need:
            if prop.encode() not in seen:
                self.problems.add(
                    codes.MISSING_PROPERTY,
                    f"{entry.name} has no {prop} (required by RFC 5545)",
                    entry.where(),
                )

    def _bad_start(self, ch: Chunk, m: re.Match[bytes], value: bytes) -> None:
        at = ch.at(m.start() + 1)
        if not FORM.fullmatch(value):
            self.problems.add(
                codes.BAD_DATE,
                f"DTSTART {excerpt(value, 40)!r} is not a date (YYYYMMDD) or date-time"
                " (YYYYMMDDTHHMMSS[Z]), RFC 5545 3.3.4/3.3.5",
                at,
            )
        else:
            self.problems.add(
                codes.BAD_VALUE,
                f"DTSTART: the value {excerpt(value, 40)!r} is not a date or date-time",
                at,
            )

    def _dtstart(
        self, ch: Chunk, m: re.Match[bytes], top: _Open, head: bytes, value: bytes
    ) -> None:
        if not VALID_DT.fullmatch(value):
            self._bad_start(ch, m, value)
            top.dtstart = (b"", None)  # present, but unusable
            return
        tzid = None
        if head[:6] == b";TZID=" and b";" not in head[6:] and b'"' not in head:
            tzid = head[6:].decode("utf-8", "replace")
        elif b"TZID=" in head.upper():
            for part in head.split(b";")[1:]:
                key, _, param = part.partition(b"=")
                if key.upper() == b"TZID":
                    tzid = param.strip(b'"').decode("utf-8", "replace")
                    break
        if value[6:8] > b"28":
            try:  # the pattern allows 31 days in every month
                date(int(value[:4]), int(value[4:6]), int(value[6:8]))
            except ValueError:
                self._bad_start(ch, m, value)
                top.dtstart = (b"", None)
                return
        top.dtstart = (value, tzid)

    def _component(self, ch: Chunk, m: re.Match[bytes], entry: _Open, used: set[str]) -> None:
        p = self.problems
        name = entry.name
        plan = self.plan
        if entry.dropped:
            return
        if name == "VTIMEZONE":
            if not entry.tzid:
                p.add(codes.BAD_TIMEZONE, "VTIMEZONE without TZID", entry.where())
                return
            self.tz_defined.add(entry.tzid)
            text = b"".join([*(entry.text or []), ch.u[entry.u if entry.ch is ch else 1 : m.end()]])
            if (
                entry.tzid not in self.zone_text
                and len(self.zone_text) < _MAX_ZONES_KEPT
                and len(text) < _MAX_ZONE_BYTES
            ):
                self.zone_text[entry.tzid] = text
            if plan is not None:
                end = ch.off + self._line_end(ch, m.end())
                plan.timezones.setdefault(entry.tzid, self.pread(entry.start, end))
            return
        if plan is not None:
            end = ch.off + self._line_end(ch, m.end())
            self._plan_unit(entry, end, frozenset(used))
        if name == "VEVENT":
            self.counts["events"] += 1
            if entry.dtstart is None:
                p.add(
                    codes.MISSING_DTSTART,
                    "VEVENT has no DTSTART (required by RFC 5545 3.6.1 without a METHOD)",
                    entry.where(),
                )
            elif entry.dtstart[0]:
                value, tzid = entry.dtstart
                if len(value) == 8:
                    self.all_day += 1
                    group: str | None = "DATE"
                elif value.endswith(b"Z"):
                    group = "Z"
                elif tzid is not None:
                    group = "TZID=" + tzid
                else:
                    group = None
                ext = self.extremes.get(group)
                if ext is None:
                    self.extremes[group] = [value, value]
                elif value < ext[0]:
                    ext[0] = value
                elif value > ext[1]:
                    ext[1] = value
            self._recurrence(entry)
        elif name == "VTODO":
            self.counts["todos"] += 1
            self._recurrence(entry)
        elif name == "VJOURNAL":
            self.counts["journals"] += 1
        else:
            self.counts["other"] += 1
        if name not in self.imported:
            if name == "VJOURNAL":
                p.add(codes.JOURNAL_IGNORED, "VJOURNAL entries are not imported", entry.where())
            else:
                p.add(codes.COMPONENT_IGNORED, f"{name} is not imported", entry.where())
        elif not entry.has_uid:
            p.add(codes.MISSING_UID, f"{name} has no UID (RFC 5545 3.8.4.7)", entry.where())

    def _plan_unit(self, entry: _Open, end: int, tzids: frozenset[str]) -> None:
        plan = self.plan
        assert plan is not None
        uid = entry.uid
        index = plan.by_uid.get(uid) if uid else None
        if index is None:
            index = len(plan.units)
            plan.units.append([])
            plan.unit_tzids.append(frozenset())
            plan.unit_line.append(entry.where() or 0)
            if uid:
                plan.by_uid[uid] = index
        plan.units[index].append((entry.start, end))
        merged = plan.unit_tzids[index] | tzids
        plan.unit_tzids[index] = plan.interned.setdefault(merged, merged)

    def _recurrence(self, entry: _Open) -> None:
        if not entry.rrules and not entry.rdate:
            return
        self.recurring += 1
        start = entry.dtstart
        kind = _rrule_kind(
            start[0] if start else None, start[1] if start else None, self.aware_zone
        )
        cache = self.rrule_cache
        for text, at in entry.rrules:
            key = (text, kind)
            if key not in cache:
                if len(cache) >= _RRULE_CACHE_MAX:
                    cache.clear()
                cache[key] = _rrule_error(text, kind)
            error = cache[key]
            if error is not None:
                self.problems.add(
                    codes.BAD_RRULE,
                    f"RRULE {text[:80]!r} is not valid (RFC 5545 3.3.10): {error[:120]}",
                    at,
                )

    # -- at the end -----------------------------------------------------------------------

    def _zone(self, tzid: str) -> tzinfo | None:
        """The time zone a TZID names: the file's VTIMEZONE (read by vobject), else IANA."""
        text = self.zone_text.get(tzid)
        if text is not None:
            try:
                import vobject

                from mailsetup.inspect.vparse import quiet_vobject

                quiet_vobject()
                cal = vobject.readOne(
                    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                    + text.decode("utf-8", "replace").strip()
                    + "\r\nEND:VCALENDAR\r\n"
                )
                zone = cal.vtimezone.gettzinfo()
                if isinstance(zone, tzinfo):
                    return zone
            except Exception:
                return None
            return None
        if self.aware_zone(tzid):
            from zoneinfo import ZoneInfo

            return ZoneInfo(tzid.lstrip("/"))
        return None

    def _instant(self, group: str | None, value: bytes) -> tuple[datetime, date] | None:
        try:
            y, mo, d = int(value[:4]), int(value[4:6]), int(value[6:8])
            if group == "DATE":
                day = date(y, mo, d)
                return datetime(y, mo, d), day
            h, mi, s = int(value[9:11]), int(value[11:13]), min(int(value[13:15]), 59)
            naive = datetime(y, mo, d, h, mi, s)
            if group == "Z":
                return naive, naive.replace(tzinfo=UTC)
            if group is not None and group.startswith("TZID="):
                zone = self._zone(group[5:])
                if zone is not None:
                    aware = naive.replace(tzinfo=zone)
                    return aware.astimezone(UTC).replace(tzinfo=None), aware
            return naive, naive
        except (ValueError, OverflowError):
            return None

    def first_last(self) -> tuple[str | None, str | None]:
        first = last = None
        for group, (low, high) in self.extremes.items():
            for value, want_first in ((low, True), (high, False)):
                got = self._instant(group, value)
                if got is None:
                    continue
                if want_first and (first is None or got[0] < first[0]):
                    first = got
                if not want_first and (last is None or got[0] > last[0]):
                    last = got
        return (
            None if first is None else first[1].isoformat(),
            None if last is None else last[1].isoformat(),
        )

    def finish(self, ch: Chunk | None) -> None:
        p = self.problems
        if self.stack:
            # The incomplete component is not counted: an importer drops it or the whole file.
            entry = self.stack[-1]
            p.add(
                codes.UNBALANCED,
                f"BEGIN:{entry.name} is never closed (file cut short?)",
                entry.where(),
            )
        for tzid, line in sorted(self.tz_used.items(), key=lambda kv: kv[1] or 0):
            if tzid in self.tz_defined:
                continue
            if self.aware_zone(tzid):
                p.add(
                    codes.TIMEZONE_NOT_DEFINED,
                    f"TZID {tzid!r} has no VTIMEZONE in the file (RFC 5545 3.2.19); importers"
                    " usually read it as the IANA zone of that name",
                    line,
                )
            else:
                p.add(
                    codes.TIMEZONE_UNKNOWN,
                    f"TZID {tzid!r} has no VTIMEZONE and is no known zone: times using it"
                    " cannot be placed",
                    line,
                )
        if self.calendars == 0:
            p.add(codes.NOT_A_CALENDAR, "no BEGIN:VCALENDAR in the file")
        elif self.calendars > 1:
            p.add(
                codes.SEVERAL_CALENDARS,
                f"{self.calendars} VCALENDAR objects in one file; some importers read only"
                " the first",
            )
        if self.calendars and not (self.counts["events"] or self.counts["todos"]):
            p.add(codes.EMPTY_CALENDAR, "no VEVENT or VTODO: nothing would be imported")

    def stats(self) -> dict[str, Any]:
        first, last = self.first_last()
        return {
            "events": self.counts["events"],
            "todos": self.counts["todos"],
            "journals": self.counts["journals"],
            "other_components": self.counts["other"],
            "recurring_events": self.recurring,
            "all_day_events": self.all_day,
            "first_start": first,
            "last_start": last,
            "timezones": [
                {"tzid": t, "defined": t in self.tz_defined, "used": t in self.tz_used}
                for t in sorted(self.tz_defined | set(self.tz_used))
            ],
            "calendars": self.calendars,
        }


def inspect_ics_stream(
    fh: BinaryIO,
    name: str,
    limit: int | None,
    *,
    plan: SplitPlan | None = None,
    imported: frozenset[str] = IMPORTABLE,
    progress: Callable[[int], None] | None = None,
) -> FileReport:
    """Inspect an open binary stream in one pass; a ``plan`` needs a real file (``pread``)."""
    problems = Problems()
    fd = fh.fileno() if plan is not None else None
    cal = _Calendar(problems, plan, fd, imported)
    last = None
    size = 0
    for ch in chunks(fh, problems, progress):
        check_utf8(ch, problems)
        anycase = ch.anycase
        check_lines(ch, problems, anycase)
        cal.chunk(ch, anycase)
        size = ch.off + len(ch.data)
        last = ch
    size = max(size, fh.tell() if fh.seekable() else size)
    cal.finish(last)
    if limit is not None and size > limit:
        problems.add(
            codes.TOO_LARGE,
            f"{size} bytes, over the import limit of {limit} bytes (use --split)",
        )
    return FileReport(name, "ics", size, limit, cal.stats(), problems)
