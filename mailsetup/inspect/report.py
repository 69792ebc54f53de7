"""What ``inspect`` found in one file, in a shape for people (a table) and scripts (JSON).

Problems carry a stable ``code`` (documented in docs/calendars-contacts.md) so that scripts can
match on it, the physical line number where it starts (1-based, as an editor shows it), and a
severity: an ``error`` means the web app will refuse the file or lose data from it; a
``warning`` means it will import, but maybe not as the person expects.

A broken file can hold a problem on every line: the report keeps the first
:data:`MAX_PER_CODE` of each code and counts the rest, so memory and output stay bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
MAX_PER_CODE = 20


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
            "message": self.message,
        }


@dataclass
class Problems:
    """A bounded collector: every problem is counted, the first few of each code are kept."""

    kept: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    severities: dict[str, Severity] = field(default_factory=dict)

    def add(self, severity: Severity, code: str, message: str, line: int | None = None) -> None:
        n = self.counts.get(code, 0) + 1
        self.counts[code] = n
        self.severities[code] = severity
        if n <= MAX_PER_CODE:
            self.kept.append(Problem(severity, code, message, line))

    def error(self, code: str, message: str, line: int | None = None) -> None:
        self.add("error", code, message, line)

    def warning(self, code: str, message: str, line: int | None = None) -> None:
        self.add("warning", code, message, line)

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
    kind: Literal["ics", "vcf"]
    size: int
    limit: int | None
    stats: dict[str, Any]
    problems: Problems
    split_into: list[str] = field(default_factory=list)

    @property
    def will_import(self) -> bool:
        # A file that was too large but has been split: the parts will import.
        resolved = frozenset({"too-large"}) if self.split_into else frozenset()
        return self.problems.errors(resolved) == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "size": self.size,
            "limit": self.limit,
            "will_import": self.will_import,
            "stats": self.stats,
            "problem_counts": dict(sorted(self.problems.counts.items())),
            "problems": [
                p.as_dict() for p in sorted(self.problems.kept, key=lambda p: (p.line or 0, p.code))
            ],
            "split_into": self.split_into,
        }


def human_size(n: int) -> str:
    """Sizes as the web app states its limit: 20 MB = 20 * 1024 * 1024 bytes."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _stat_lines(report: FileReport) -> list[str]:
    s = report.stats
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
        verdict = "will import" if r.will_import else "will NOT import"
        if r.split_into and r.will_import:
            verdict = f"too large as it is; the {len(r.split_into)} parts written will import"
        limit = f" (limit {human_size(r.limit)})" if r.limit else ""
        out.append(f"{r.path}: {r.kind}, {human_size(r.size)}{limit}: {verdict}")
        out += [f"  {line}" for line in _stat_lines(r)]
        for p in sorted(r.problems.kept, key=lambda p: (p.line or 0, p.code)):
            where = f"line {p.line}" if p.line else "file"
            out.append(f"  {where}: {p.severity} [{p.code}] {p.message}")
        for code, n in sorted(r.problems.counts.items()):
            if n > MAX_PER_CODE:
                out.append(f"  … and {n - MAX_PER_CODE} more [{code}]")
        for path in r.split_into:
            out.append(f"  wrote {path}")
        out.append("")
    return "\n".join(out)
