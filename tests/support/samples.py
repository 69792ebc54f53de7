"""Real-world shaped calendar and contact files, generated (tests and benchmarks share them).

Shapes follow what exports from common calendar apps look like: a VTIMEZONE block at the top,
events with TZID-qualified times, all-day events, weekly recurrences with exceptions, folded
long descriptions, alarms, a few tasks. Everything is deterministic (seeded), so a failure can
be reproduced byte for byte.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta
from pathlib import Path

ZURICH = """BEGIN:VTIMEZONE\r
TZID:Europe/Zurich\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
TZNAME:CEST\r
DTSTART:19810329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
TZNAME:CET\r
DTSTART:19961027T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""

WORDS = [
    "meeting",
    "review",
    "budget",
    "lunch",
    "planning",
    "call",
    "team",
    "project",
    "client",
    "school",
    "dentist",
    "birthday",
    "training",
    "quarterly",
    "report",
    "workshop",
    "café",
    "Zürich",
    "Genève",
    "résumé",
    "naïve",
    "日本",
    "会議",
]


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 section 3.1), never inside a character."""
    data = line.encode()
    if len(data) <= 75:
        return line + "\r\n"
    out, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        out.append(data[start:end].decode())
        start, limit = end, 74
    return "\r\n ".join(out) + "\r\n"


def event(i: int, rng: random.Random, start: datetime, *, tz: str | None = "Europe/Zurich") -> str:
    uid = f"{i:06d}-{rng.getrandbits(32):08x}@example.ch"
    summary = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))).capitalize()
    desc = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240101T120000Z"]
    if i % 10 == 3:  # all-day
        lines += [
            f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
            f"DTEND;VALUE=DATE:{start + timedelta(1):%Y%m%d}",
        ]
    elif tz:
        end = start + timedelta(minutes=30 * rng.randint(1, 6))
        lines += [
            f"DTSTART;TZID={tz}:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID={tz}:{end:%Y%m%dT%H%M%S}",
        ]
    else:
        lines += [f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DURATION:PT{rng.randint(1, 3)}H"]
    if i % 8 == 0:
        lines.append(f"RRULE:FREQ=WEEKLY;COUNT={rng.randint(2, 30)}")
    lines += [f"SUMMARY:{summary}", f"DESCRIPTION:{desc}", "LOCATION:Rue du Lac 12\\, Genève"]
    if i % 5 == 0:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "DESCRIPTION:Reminder",
            "TRIGGER:-PT15M",
            "END:VALARM",
        ]
    lines.append("END:VEVENT")
    return "".join(fold(line) for line in lines)


def todo(i: int, start: datetime) -> str:
    lines = [
        "BEGIN:VTODO",
        f"UID:todo-{i}@example.ch",
        "DTSTAMP:20240101T120000Z",
        f"DUE:{start:%Y%m%dT%H%M%SZ}",
        f"SUMMARY:Task {i}",
        "STATUS:NEEDS-ACTION",
        "END:VTODO",
    ]
    return "".join(f"{line}\r\n" for line in lines)


def calendar(events: int, *, todos: int = 0, seed: int = 1, tz: bool = True) -> bytes:
    """A complete VCALENDAR with ``events`` VEVENTs (and ``todos`` VTODOs)."""
    rng = random.Random(seed)
    parts = [
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailsetup tests//EN\r\nCALSCALE:GREGORIAN\r\n"
    ]
    if tz:
        parts.append(ZURICH)
    base = datetime(2020, 1, 6, 8, 0)
    for i in range(events):
        start = base + timedelta(hours=7 * i + rng.randint(0, 5))
        parts.append(event(i, rng, start, tz="Europe/Zurich" if tz else None))
    for i in range(todos):
        parts.append(todo(i, base + timedelta(days=i)))
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode()


def calendar_of_size(target_bytes: int, *, seed: int = 1) -> bytes:
    """A calendar just over ``target_bytes`` (events are ~600 bytes on average)."""
    n = max(1, target_bytes // 560)
    data = calendar(n, seed=seed)
    while len(data) < target_bytes:
        n = int(n * target_bytes / len(data)) + 10
        data = calendar(n, seed=seed)
    return data


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- vCard -------------------------------------------------------------------------------

JPEG = (
    bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + bytes(range(256)) * 4 + b"\xff\xd9"
)


def vcard21(i: int, *, photo: bool = False) -> str:
    lines = [
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"N:Müller{i};Anna;;;",
        f"FN:Anna Müller{i}",
        f"TEL;CELL:+41 79 000 {i:04d}",
        f"UID:v21-{i}",
    ]
    lines.append(
        "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:"
        "Ligne un=0D=0ALigne deux tr=C3=A8s longue =\r\nqui continue ici"
    )
    if photo:
        b64 = base64.b64encode(JPEG).decode()
        lines.append("PHOTO;ENCODING=BASE64;TYPE=JPEG:" + b64[:60] + "\r\n " + b64[60:] + "\r\n")
    lines.append("END:VCARD")
    return "\r\n".join(lines).replace("\r\n\r\n", "\r\n") + "\r\n"


def vcard30(i: int, *, photo: bool = False, uid: str | None = None, fn: bool = True) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:Dupont{i};Jean;;;"]
    if fn:
        lines.append(f"FN:Jean Dupont{i}")
    lines += [f"EMAIL;TYPE=INTERNET:jean{i}@example.ch", f"UID:{uid or f'v30-{i}'}"]
    if photo:
        lines.append("PHOTO;ENCODING=b;TYPE=JPEG:" + base64.b64encode(JPEG).decode())
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def vcard40(i: int, *, photo: bool = False) -> str:
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        f"FN:Chloé Martin{i}",
        f"N:Martin{i};Chloé;;;",
        f"EMAIL:chloe{i}@example.ch",
        f"UID:urn:uuid:00000000-0000-4000-8000-{i:012d}",
    ]
    if photo:
        lines.append("PHOTO:data:image/jpeg;base64," + base64.b64encode(JPEG).decode())
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines)


def address_book(n: int = 300) -> bytes:
    """Cards of all three versions, a few with photos."""
    parts = []
    for i in range(n):
        maker = (vcard21, vcard30, vcard40)[i % 3]
        parts.append(maker(i, photo=i % 50 == 0))
    return "".join(parts).encode()
