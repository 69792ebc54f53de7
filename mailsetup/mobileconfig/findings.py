"""One finding about a profile: what ``inspect`` reports and ``--json`` carries.

``severity``: ``error`` when the profile will not install or the account will not work,
``warning`` when it works but is risky. ``code`` is stable for scripts (docs/apple.md lists
them), ``path`` is the key path inside the plist (``PayloadContent[0].CalDAVPort``), ``apple``
is Apple's own wording for the key from its schema, where there is one.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

Severity = Literal["error", "warning"]


class Unreadable(ValueError):
    """The file is not a profile we can read; the message says why, for a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Finding(NamedTuple):
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


# Every code a finding can carry, with its severity; docs/apple.md lists the same (a test
# compares both ways). ``shared-identifier`` and ``random-identifier`` are warnings for one
# file (a heuristic) and errors when files given together prove them.
CODES: dict[str, str] = {
    # reading the file
    "cannot-read": "error",
    "too-large": "error",
    "not-a-profile": "error",
    "not-a-plist": "error",
    "too-deep": "error",
    "detached-signature": "error",
    "corrupt-signature": "error",
    "empty-value": "error",
    "bad-number": "error",
    # the signature
    "signature-invalid": "error",
    "signature-unchecked": "warning",
    "signer-expired": "warning",
    "signer-not-trusted": "warning",
    # Apple's schema
    "missing-key": "error",
    "missing-payload-version": "error",
    "missing-email-account-type": "error",
    "wrong-type": "error",
    "not-allowed": "error",
    "unknown-key": "warning",
    "no-schema": "warning",
    "uuid-syntax": "warning",
    "duplicate-uuid": "error",
    "duplicate-identifier": "error",
    # failures seen in the field
    "port-empty": "error",
    "port-is-string": "error",
    "port-wrong-type": "error",
    "port-out-of-range": "error",
    "shared-identifier": "warning",
    "random-identifier": "warning",
    "embedded-password": "warning",
    "dav-without-tls": "warning",
    "bad-url": "error",
    "principal-url-pinned": "warning",
    "provider-dav-username": "error",
    "provider-port": "error",
}
