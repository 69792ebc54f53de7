"""The typed result of ``mailsetup check``: one :class:`ProbeResult` per row, one :class:`Report`.

Probes produce results; the printers of ``check/table.py`` only read them. The JSON form produced by
:meth:`Report.to_json` is a documented, stable interface (docs/check.md): keys are only ever
added, never renamed or removed, and ``schema`` changes if that promise is ever broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Status = Literal["pass", "warn", "fail", "skip"]
STATUSES: tuple[Status, ...] = ("pass", "warn", "fail", "skip")

JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]
Evidence: TypeAlias = dict[str, JSONValue]

SCHEMA = "mailsetup.check/1"


@dataclass(frozen=True)
class ProbeResult:
    """One row of the report.

    ``detail`` is for people; ``fault`` is the fault class in words (``"refused"``,
    ``"timeout"``, ``"certificate name mismatch"``, ``"authentication failed"``, ...) for
    scripts, ``None`` when nothing went wrong. ``evidence`` is what the probe saw (TLS version,
    certificate subject and expiry, capabilities, records): JSON values only, never a secret.
    """

    name: str
    protocol: str
    target: str
    status: Status
    detail: str
    elapsed_ms: int = 0
    fault: str | None = None
    evidence: Evidence = field(default_factory=dict)
    hint: str | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "protocol": self.protocol,
            "target": self.target,
            "status": self.status,
            "detail": self.detail,
            "fault": self.fault,
            "elapsed_ms": self.elapsed_ms,
            "hint": self.hint,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Report:
    """Everything ``check`` found, in the order the probes were planned."""

    email: str
    provider: str
    login: bool
    probes: tuple[ProbeResult, ...]
    elapsed_ms: int = 0
    # Said once, above the rows: e.g. no working resolver (so the DNS rows were not checked).
    notices: tuple[str, ...] = ()

    def count(self, status: Status) -> int:
        return sum(1 for p in self.probes if p.status == status)

    @property
    def verdict(self) -> Status:
        """``fail`` if any probe failed, else ``warn`` if any warned, else ``pass``."""
        for status in ("fail", "warn"):
            if self.count(status):
                return status
        return "pass"

    @property
    def exit_code(self) -> int:
        """0 when nothing needed failed (warnings and skips do not fail), 1 otherwise."""
        return 1 if self.verdict == "fail" else 0

    @property
    def failed(self) -> list[ProbeResult]:
        return [p for p in self.probes if p.status == "fail"]

    def summary_line(self) -> str:
        """The one-line verdict shown under the table."""
        total = len(self.probes)
        counts = ", ".join(f"{self.count(s)} {s}" for s in STATUSES if self.count(s))
        if self.verdict == "fail":
            names = ", ".join(p.name for p in self.failed)
            return f"FAIL: {names} failed ({counts}; {total} probes)"
        if self.verdict == "warn":
            return f"OK with warnings ({counts}; {total} probes)"
        return f"OK: everything checked works ({counts}; {total} probes)"

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "schema": SCHEMA,
            "email": self.email,
            "provider": self.provider,
            "login": self.login,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "elapsed_ms": self.elapsed_ms,
            "summary": {s: self.count(s) for s in STATUSES},
            "notices": list(self.notices),
            "probes": [p.to_json() for p in self.probes],
        }
