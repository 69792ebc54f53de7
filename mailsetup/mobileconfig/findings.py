"""One finding about a profile: what ``inspect`` reports and ``--json`` carries.

``severity``: ``error`` when the profile will not install or the account will not work,
``warning`` when it works but is risky. ``code`` is stable for scripts (docs/apple.md lists
them), ``path`` is the key path inside the plist (``PayloadContent[0].CalDAVPort``), ``apple``
is Apple's own wording for the key from its schema, where there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    path: str
    message: str
    apple: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "path": self.path,
            "message": self.message,
            "apple": self.apple,
        }
