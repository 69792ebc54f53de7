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

from mailsetup.check.faults import CATALOGUE, FaultName
from mailsetup.check.report import Evidence, Status
from mailsetup.untrusted import clean_text


@dataclass(frozen=True)
class Credentials:
    """A login for ``--login``. The password never appears in ``repr`` or in any output."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Outcome:
    """What a probe concluded; the runner adds name, target and elapsed time.

    A row with a fault takes its status from the catalogue (:func:`Outcome.of`), so one fault
    never warns in one probe and fails in another.
    """

    status: Status
    detail: str
    fault: FaultName | None = None

    @classmethod
    def of(cls, fault: FaultName, detail: str) -> Outcome:
        return cls(CATALOGUE[fault].status, detail, fault)


class Fault(Exception):
    """A recognised problem: ``fault`` names it (see faults.py), ``detail`` says what was seen."""

    def __init__(self, fault: FaultName, detail: str | None = None) -> None:
        super().__init__(detail or fault.value)
        self.fault = fault
        self.detail = detail or fault.value

    @property
    def outcome(self) -> Outcome:
        return Outcome.of(self.fault, self.detail)


class ProbeContext:
    """Deadline and evidence of one probe run.

    Every step starts with :meth:`enter`, which names it and gives the socket the time that is
    left, so a probe stops on its own when its time is up (the runner's own wait is only a
    backstop) and a timeout says where it happened ("timeout during LOGIN").
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
            raise Fault(FaultName.TIMEOUT, self.timeout_detail())
        return left

    def enter(self, step: str, sock: socket.socket | None = None) -> float:
        """Start ``step``: name it (for a timeout's detail) and give ``sock`` the time left.

        Returns the seconds left, for calls that take a timeout instead of a socket; raises the
        ``timeout`` fault when none are.
        """
        self.step = step
        left = self.remaining()
        if sock is not None:
            sock.settimeout(left)
        return left

    def timeout_detail(self) -> str:
        return f"timeout: no answer within {self.timeout:g} s (during {self.step})"


def closed_fault(exc: BaseException, ctx: ProbeContext) -> Fault:
    """A client library's "connection lost" exception, told apart from a read timeout again.

    imaplib (``abort``) and smtplib (``SMTPServerDisconnected``) both report a timed-out read
    as a lost connection; the ``TimeoutError`` survives only as ``__context__``.
    """
    if isinstance(exc.__context__, TimeoutError):
        return Fault(FaultName.TIMEOUT, ctx.timeout_detail())
    return Fault(FaultName.CONNECTION_CLOSED, f"connection closed by the server during {ctx.step}")


def outcome_from_exception(exc: BaseException, ctx: ProbeContext, target: str) -> Outcome:
    """Name the fault behind ``exc``; anything unknown is reported, not raised, per row."""
    from mailsetup.check.tls import classify_tls_error

    f = FaultName
    if isinstance(exc, Fault):
        return exc.outcome
    if isinstance(exc, TimeoutError | socket.timeout):
        return Outcome.of(f.TIMEOUT, ctx.timeout_detail())
    if isinstance(exc, ssl.SSLError):
        fault, detail = classify_tls_error(exc)
        return Outcome.of(fault, detail)
    if isinstance(exc, ConnectionRefusedError):
        return Outcome.of(f.REFUSED, f"refused: nothing accepts connections on {target}")
    if isinstance(exc, socket.gaierror):
        return Outcome.of(f.HOST_NOT_FOUND, f"host not found: {target} ({exc.strerror})")
    if isinstance(exc, ConnectionResetError | BrokenPipeError | EOFError):
        return Outcome.of(f.CONNECTION_CLOSED, f"connection closed by the server during {ctx.step}")
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return Outcome.of(f.UNREACHABLE, f"unreachable: {target} ({exc.strerror})")
    if isinstance(exc, OSError):
        reason = exc.strerror or clean_text(str(exc)) or type(exc).__name__
        return Outcome.of(f.NETWORK_ERROR, f"network error during {ctx.step}: {reason}")
    return Outcome.of(
        f.UNEXPECTED,
        f"unexpected error during {ctx.step}: {type(exc).__name__}: {clean_text(str(exc))}",
    )
