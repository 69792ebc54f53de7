"""What ``inspect`` found in one file, in a shape for people (a table) and scripts (JSON).

Problems carry a stable ``code`` (documented in docs/calendars-contacts.md) so that scripts can
match on it, the physical line number where it starts (1-based, as an editor shows it), and a
severity: an ``error`` means the importer will refuse the file or lose data from it; a
``warning`` means it will import, but maybe not as the person expects.

A broken file can hold a problem on every line: the report keeps the first
:data:`MAX_PER_CODE` of each code and counts the rest, so memory and output stay bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from mailsetup.inspect.codes import Code, Severity
from mailsetup.untrusted import clean_text

MAX_PER_CODE = 20
# A message quotes text from the file (a value, a component name): long enough for a UID or
# an RRULE, short enough for one terminal line.
MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class Problem:
    severity: Severity
    code: str
    message: str
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "line": self.line,
            "message": clean_text(self.message, MESSAGE_LIMIT),
        }


@dataclass
class Problems:
    """A bounded collector: every problem is counted, the first few of each code are kept."""

    kept: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    severities: dict[str, Severity] = field(default_factory=dict)

    def add(
        self, code: Code, message: str, line: int | Callable[[], int | None] | None = None
    ) -> None:
        """Count ``code``; keep it (with its line) while fewer than :data:`MAX_PER_CODE` are.

        ``line`` may be a function: the streaming reader finds a line number only on demand,
        so a file with a problem on every line does not pay for numbers nobody will see.
        """
        n = self.counts.get(code.name, 0) + 1
        self.counts[code.name] = n
        self.severities[code.name] = code.severity
        if n <= MAX_PER_CODE:
            where = line() if callable(line) else line
            self.kept.append(Problem(code.severity, code.name, message, where))

    def errors(self, ignore: frozenset[str] = frozenset()) -> int:
        return sum(
            n
            for code, n in self.counts.items()
            if self.severities[code] == "error" and code not in ignore
        )


@dataclass
class FileReport:
    """The verdict on one file: ``will_import`` is what the exit code is made of."""

    path: str
    kind: Literal["ics", "vcf"] | None  # None: the file could not be read at all
    size: int
    limit: int | None
    stats: dict[str, Any]
    problems: Problems
    split_into: list[str] = field(default_factory=list)
    note: str = ""  # the provider's line on where imported entries go (table only)

    @property
    def will_import(self) -> bool:
        # A file that was too large but has been split: the parts will import.
        resolved = frozenset({"too-large"}) if self.split_into else frozenset()
        return self.problems.errors(resolved) == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": clean_text(self.path, MESSAGE_LIMIT),
            "kind": self.kind,
            "size": self.size,
            "limit": self.limit,
            "will_import": self.will_import,
            "stats": _clean(self.stats),
            "problem_counts": dict(sorted(self.problems.counts.items())),
            "problems": [
                p.as_dict() for p in sorted(self.problems.kept, key=lambda p: (p.line or 0, p.code))
            ],
            "split_into": self.split_into,
        }


def _clean(value: Any) -> Any:
    """Every string in ``value`` (time zone names, vCard versions: text from the file) through
    the one cleaning rule, keys included, so JSON carries no control character either."""
    if isinstance(value, str):
        return clean_text(value, MESSAGE_LIMIT)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def human_size(n: int) -> str:
    """Sizes as calendar apps state their limits: 1 MB = 1024 * 1024 bytes."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _stat_lines(report: FileReport) -> list[str]:
    s = _clean(report.stats)
    if report.kind == "ics":
        lines = [
            f"events {s['events']} ({s['recurring_events']} recurring,"
            f" {s['all_day_events']} all-day), tasks {s['todos']}"
            + (f", journal entries {s['journals']} (not imported)" if s["journals"] else ""),
        ]
        if s["first_start"]:
            lines.append(f"dates {s['first_start']} … {s['last_start']}")
        zones = [
            f"{z['tzid']} ({'defined' if z['defined'] else 'NOT defined'})" for z in s["timezones"]
        ]
        lines.append(
            "time zones: " + (", ".join(zones) if zones else "none (UTC or floating times)")
        )
        return lines
    versions = ", ".join(f"{v}: {n}" for v, n in sorted(s["versions"].items())) or "none"
    return [
        f"cards {s['cards']} (vCard {versions})",
        f"without FN {s['without_fn']}, without N {s['without_n']},"
        f" duplicate UIDs {s['duplicate_uids']}",
        f"photos {s['photos']} embedded ({human_size(s['photo_bytes'])}),"
        f" {s['photo_links']} linked",
    ]


def format_table(reports: list[FileReport]) -> str:
    """Plain text for a terminal or a pipe: one block per file, problems by line."""
    out: list[str] = []
    for r in reports:
        if r.kind is None:  # could not be read at all: the problem says why
            out.append(f"{clean_text(r.path, MESSAGE_LIMIT)}: will NOT import")
            for p in r.problems.kept:
                out.append(
                    f"  file: {p.severity} [{p.code}] {clean_text(p.message, MESSAGE_LIMIT)}"
                )
            out.append("")
            continue
        verdict = "will import" if r.will_import else "will NOT import"
        if r.split_into and r.will_import:
            verdict = f"too large as it is; the {len(r.split_into)} parts written will import"
        limit = f" (limit {human_size(r.limit)})" if r.limit else ""
        out.append(
            f"{clean_text(r.path, MESSAGE_LIMIT)}: {r.kind}, {human_size(r.size)}{limit}: {verdict}"
        )
        out += [f"  {line}" for line in _stat_lines(r)]
        if r.note:
            out.append(f"  import: {clean_text(r.note, MESSAGE_LIMIT)}")
        for p in sorted(r.problems.kept, key=lambda p: (p.line or 0, p.code)):
            where = f"line {p.line}" if p.line else "file"
            out.append(f"  {where}: {p.severity} [{p.code}] {clean_text(p.message, MESSAGE_LIMIT)}")
        for code, n in sorted(r.problems.counts.items()):
            if n > MAX_PER_CODE:
                out.append(f"  … and {n - MAX_PER_CODE} more [{code}]")
        for path in r.split_into:
            out.append(f"  wrote {clean_text(path, MESSAGE_LIMIT)}")
        out.append("")
    return "\n".join(out)
