"""What every probe shares: its deadline, the evidence it gathers, its outcome and its faults.

A probe is a plain function ``(ProbeContext) -> Outcome``. It raises :class:`Fault` for a
problem it recognises, or lets a socket/TLS exception escape: :func:`outcome_from_exception`
turns those into the fault classes named in docs/check.md (refused, timeout, certificate name
mismatch, ...). Evidence goes into ``ctx.evidence`` as soon as it is known, so a probe cut short
by its deadline still reports what it had seen (for example the TLS certificate before LOGIN).
"""

from __future__ import annotations

import errno
import socket
import ssl
import time
from dataclasses import dataclass, field

from mailsetup.check.report import Evidence, Status
from mailsetup.untrusted import clean_text


@dataclass(frozen=True)
class Credentials:
    """A login for ``--login``. The password never appears in ``repr`` or in any output."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Outcome:
    """What a probe concluded; the runner adds name, target and elapsed time."""

    status: Status
    detail: str
    fault: str | None = None


class Fault(Exception):
    """A recognised problem: ``fault`` is its class in words, ``detail`` what exactly was seen."""

    def __init__(self, fault: str, detail: str | None = None, status: Status = "fail") -> None:
        super().__init__(detail or fault)
        self.fault = fault
        self.detail = detail or fault
        self.status = status


class ProbeContext:
    """Deadline and evidence of one probe run.

    Every blocking call takes its timeout from :meth:`remaining`, so a probe stops on its own
    when its time is up (the runner's own wait is only a backstop). ``step`` names what the
    probe is doing, so that a timeout says where it happened ("timeout during LOGIN").
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.evidence: Evidence = {}
        self.step = "start"

    def remaining(self) -> float:
        """Seconds left; raises the ``timeout`` fault when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Fault("timeout", self.timeout_detail())
        return left

    def arm(self, sock: socket.socket | None) -> None:
        """Give ``sock`` the time that is left, before the next blocking call on it."""
        if sock is not None:
            sock.settimeout(self.remaining())

    def timeout_detail(self) -> str:
        return f"timeout: no answer within {self.timeout:g} s (during {self.step})"


def outcome_from_exception(exc: BaseException, ctx: ProbeContext, target: str) -> Outcome:
    """Name the fault behind ``exc``; anything unknown is reported, not raised, per row."""
    from mailsetup.check.tls import classify_tls_error

    if isinstance(exc, Fault):
        return Outcome(exc.status, exc.detail, exc.fault)
    if isinstance(exc, TimeoutError | socket.timeout):
        return Outcome("fail", ctx.timeout_detail(), "timeout")
    if isinstance(exc, ssl.SSLError):
        fault, detail = classify_tls_error(exc)
        return Outcome("fail", detail, fault)
    if isinstance(exc, ConnectionRefusedError):
        return Outcome("fail", f"refused: nothing accepts connections on {target}", "refused")
    if isinstance(exc, socket.gaierror):
        return Outcome("fail", f"host not found: {target} ({exc.strerror})", "host not found")
    if isinstance(exc, ConnectionResetError | BrokenPipeError | EOFError):
        return Outcome(
            "fail", f"connection closed by the server during {ctx.step}", "connection closed"
        )
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return Outcome("fail", f"unreachable: {target} ({exc.strerror})", "unreachable")
    if isinstance(exc, OSError):
        reason = exc.strerror or clean_text(str(exc)) or type(exc).__name__
        return Outcome("fail", f"network error during {ctx.step}: {reason}", "network error")
    return Outcome(
        "fail",
        f"unexpected error during {ctx.step}: {type(exc).__name__}: {clean_text(str(exc))}",
        "unexpected error",
    )
