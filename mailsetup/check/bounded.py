"""Bounded reading of server replies: every probe connection reads through one budget.

The standard library's protocol clients trust the server's lengths: ``smtplib`` keeps every
line of a multi-line reply (an endless ``220-`` greeting grows without end), ``imaplib`` reads a
literal of whatever size ``{N}`` announces and keeps every untagged line, ``http.client`` reads
header lines until the server stops. A hostile or broken server can make such a client take
gigabytes. Each probe connection therefore reads through a :class:`BoundedReader` that counts
the bytes and lines of the whole conversation and the length of each line, re-arms the socket
with the probe's remaining time before every read (so a server trickling bytes cannot outlast
the deadline), and stops with the named fault ``server reply too long`` once a limit is passed.
Memory stays flat whatever the server sends.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

from mailsetup.check.faults import FaultName
from mailsetup.check.probe import Fault, ProbeContext

# What a check reads over IMAP or SMTP (greeting, CAPABILITY or EHLO, LIST INBOX) is a few KiB.
MAIL_MAX_BYTES = 1024 * 1024
MAIL_MAX_LINES = 5000
# RFC 5321 §4.5.3.1.5 allows 512 octets per SMTP reply line; IMAP sets no limit, real
# CAPABILITY lines stay under 2 KiB.
MAX_LINE = 32 * 1024
MAX_LITERAL = 64 * 1024  # no literal a check reads (greeting, LIST) comes near this


class _RawFile(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...

    def readinto(self, buffer: Any, /) -> int | None: ...

    def close(self) -> None: ...


class ReadBudget:
    """What one connection may still read: bytes and lines in all, bytes per line."""

    def __init__(
        self,
        ctx: ProbeContext,
        max_bytes: int = MAIL_MAX_BYTES,
        max_lines: int = MAIL_MAX_LINES,
        max_line: int = MAX_LINE,
    ) -> None:
        self.ctx = ctx
        self.max_bytes = max_bytes
        self.max_lines = max_lines
        self.max_line = max_line
        self.bytes = 0
        self.lines = 0

    def too_long(self, what: str) -> Fault:
        return Fault(
            FaultName.REPLY_TOO_LONG,
            f"server reply too long: {what} during {self.ctx.step}; mailsetup stopped reading",
        )

    def left(self) -> int:
        return self.max_bytes - self.bytes

    def take(self, data: bytes, *, line: bool = False) -> bytes:
        self.bytes += len(data)
        if self.bytes > self.max_bytes:
            raise self.too_long(f"more than {self.max_bytes} bytes in all")
        if line:
            self.lines += 1
            if self.lines > self.max_lines:
                raise self.too_long(f"more than {self.max_lines} lines")
        return data


class BoundedReader:
    """A file-like reader over ``raw`` (a socket's ``makefile("rb")``) that obeys ``budget``."""

    def __init__(self, raw: _RawFile, budget: ReadBudget, sock: socket.socket | None) -> None:
        self.raw = raw
        self.budget = budget
        self.sock = sock

    def _arm(self) -> None:
        timeout = self.budget.ctx.remaining()  # the timeout fault once the deadline passed
        if self.sock is not None:
            self.sock.settimeout(timeout)

    def readline(self, size: int = -1) -> bytes:
        """One line; longer than our limit (or than the caller's ``size - 1``) is the fault."""
        self._arm()
        limit = self.budget.max_line if size < 0 else min(self.budget.max_line, size - 1)
        room = self.budget.left()
        line = self.raw.readline(min(limit, room) + 1)
        if len(line) > limit:
            raise self.budget.too_long(f"a line longer than {limit} bytes")
        if len(line) > room:
            raise self.budget.too_long(f"more than {self.budget.max_bytes} bytes in all")
        return self.budget.take(line, line=True)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.budget.left():
            want = "everything" if size is None or size < 0 else f"{size} bytes"
            raise self.budget.too_long(f"the server announced {want} to read")
        self._arm()
        return self.budget.take(self.raw.read(size))

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if len(view) > self.budget.left():
            raise self.budget.too_long(f"more than {self.budget.max_bytes} bytes in all")
        self._arm()
        n = self.raw.readinto(view) or 0
        self.budget.bytes += n
        return n

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.raw.close()


def with_budget(base: type[Any], reads: type[Any]) -> type[Any]:
    """``base`` (a standard-library protocol client) reading through ``reads``, a mixin that
    overrides its read methods; the constructor takes the connection's :class:`ReadBudget`
    first and keeps it as ``self.budget`` before the client reads its greeting."""

    def __init__(self: Any, budget: ReadBudget, *args: Any, **kwargs: Any) -> None:
        self.budget = budget
        base.__init__(self, *args, **kwargs)

    return type(f"Bounded{base.__name__}", (reads, base), {"__init__": __init__})
