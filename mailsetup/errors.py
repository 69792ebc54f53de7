"""One error family for everything a person can fix (vdirsyncer's ``UserError`` idea).

The CLI catches :class:`MailsetupError` once, prints ``message`` (and ``hint``) on one line to
stderr and exits with ``exit_code``. Anything else that escapes is a bug and keeps its traceback.
The codes are documented in ``docs/exit-codes.md`` and in ``mailsetup --help``.
"""

from __future__ import annotations


class MailsetupError(Exception):
    """A problem the user can fix; ``str()`` is the one line we print."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class BadInput(MailsetupError):
    """Invalid address, display name, option combination: same code click uses for usage errors."""

    exit_code = 2


class ProviderError(MailsetupError):
    """A provider file is missing, malformed or incomplete."""

    exit_code = 3


class OutputError(MailsetupError):
    """The output file or folder cannot be written, or exists and ``--force`` was not given."""

    exit_code = 4


class SecretError(MailsetupError):
    """No password could be obtained: no keyring backend, no terminal to prompt on."""

    exit_code = 5


class RowsFailed(MailsetupError):
    """A run over a CSV file (``--csv``) had rows that failed; the good rows were done."""

    exit_code = 6


class Interrupted(MailsetupError):
    """Ctrl-C during a long run: the message says how far it got."""

    exit_code = 130


EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "check found a fault (a server or credential does not work)",
    2: "bad input: invalid address, name, option or usage",
    3: "provider data: provider file missing, malformed or incomplete",
    4: "output file: folder missing or not writable, file exists without --force",
    5: "secret store: no keyring backend, or no terminal to ask for the password",
    6: "some rows of a --csv file failed (the good rows were written or checked)",
    130: "interrupted (Ctrl-C)",
}
