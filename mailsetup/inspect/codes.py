"""The catalogue of ``inspect``'s problem codes: one entry per code, used by name.

A code is part of the JSON interface (scripts match on it), so each one is declared here once,
with its severity and a one-line meaning; the readers report ``codes.MISSING_DTSTART`` rather
than a string typed in place, and a test compares this table with the one in
docs/calendars-contacts.md both ways, so neither can grow a code the other lacks.

Severity: an ``error`` means the importer refuses the file or loses data from it; a
``warning`` means it imports, but maybe not as the person expects. ``empty`` is the one code
whose severity depends on the kind of file (an empty calendar is odd, an empty address book
imports nothing at all), so it has two entries with the same name.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Severity = Literal["error", "warning"]


class Code(NamedTuple):
    name: str
    severity: Severity
    meaning: str


def _e(name: str, meaning: str) -> Code:
    return Code(name, "error", meaning)


def _w(name: str, meaning: str) -> Code:
    return Code(name, "warning", meaning)


# The file as a whole.
UNREADABLE_FILE = _e("unreadable-file", "the file is missing, a folder, or cannot be read")
UNKNOWN_KIND = _e("unknown-kind", "neither a calendar (.ics) nor a vCard (.vcf) file")
TOO_LARGE = _e("too-large", "the file is over the provider's import limit")
# Content lines (RFC 5545 3.1, RFC 6350 3.2).
INVALID_UTF8 = _e("invalid-utf8", "bytes that are not UTF-8")
BROKEN_FOLD = _e("broken-fold", "a folded line lost its leading space")
LINE_TOO_LONG = _e("line-too-long", "one content line longer than 16 MiB")
UNREADABLE_LINE = _e("unreadable-line", "a line that is not NAME;PARAMS:VALUE")
# Components.
UNBALANCED = _e("unbalanced", "a BEGIN without its END, or an END closing the wrong component")
TOO_DEEP = _e("too-deep", "components nested deeper than any real file")
OUTSIDE_COMPONENT = _e("outside-component", "content outside BEGIN … END")
NOT_A_CALENDAR = _e("not-a-calendar", "no VCALENDAR, or another component where it belongs")
NOT_A_VCARD = _e("not-a-vcard", "another component where a VCARD belongs")
UNREADABLE_COMPONENT = _e("unreadable-component", "the component as a whole cannot be read")
MISSING_PROPERTY = _e("missing-property", "a property the component requires is missing")
# Values.
BAD_VALUE = _e("bad-value", "a value that cannot be read as its type")
BAD_DATE = _e("bad-date", "DTSTART/DTEND/DUE/RECURRENCE-ID not in DATE or DATE-TIME form")
MISSING_DTSTART = _e("missing-dtstart", "an event without a start")
BAD_RRULE = _e("bad-rrule", "an invalid recurrence rule")
TIMEZONE_UNKNOWN = _e("timezone-unknown", "a TZID with no VTIMEZONE that is no IANA zone")
TIMEZONE_NOT_DEFINED = _w("timezone-not-defined", "an IANA TZID without its VTIMEZONE")
BAD_TIMEZONE = _e("bad-timezone", "a VTIMEZONE without TZID")
MISSING_UID = _w("missing-uid", "no UID: importing twice duplicates the entry")
# What the importer takes.
JOURNAL_IGNORED = _w("journal-ignored", "VJOURNAL entries are not imported")
COMPONENT_IGNORED = _w("component-ignored", "a component the importer does not take")
SEVERAL_CALENDARS = _w("several-calendars", "several VCALENDAR objects in one file")
EMPTY_CALENDAR = _w("empty", "nothing to import")
EMPTY_ADDRESS_BOOK = _e("empty", "nothing to import")
# vCards.
MISSING_VERSION = _e("missing-version", "a vCard without VERSION")
UNKNOWN_VERSION = _e("unknown-version", "a vCard version other than 2.1, 3.0, 4.0")
MISSING_FN = _w("missing-fn", "no formatted name")
MISSING_N = _w("missing-n", "no structured name")
DUPLICATE_UID = _w("duplicate-uid", "two cards share a UID")

CATALOGUE: tuple[Code, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Code))
