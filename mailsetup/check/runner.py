"""Run probes in parallel, each with its own timeout.

Threads rather than asyncio, on purpose:

* The protocol clients we trust are the standard library's blocking ones (``imaplib``,
  ``smtplib``, ``http.client``, dnspython's stub resolver). With asyncio we would have to
  re-implement IMAP, SMTP submission with STARTTLS and a DAV client on raw streams, or push the
  same blocking calls into an executor, which is threads again with more machinery.
* A check runs about ten probes that spend their time waiting on sockets: the GIL is released
  while waiting, so threads overlap all the waiting (the benchmark measures ~1.0x the slowest
  probe, see benchmarks/check_parallel.py).
* Timeouts hold without cancellation: every probe arms each socket with the time it has left
  (:meth:`ProbeContext.arm`), so it stops by itself. The runner waits for each probe until its
  deadline plus a short grace and reports ``timeout`` itself if a probe is still stuck (say in
  a C call that ignores the socket timeout). Such a thread is a daemon, so it can never keep
  the process alive after the report is printed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mailsetup.check.probe import Outcome, ProbeContext, outcome_from_exception
from mailsetup.check.report import ProbeResult
from mailsetup.untrusted import clean_text

# Extra time the runner gives a probe past its deadline to report its own fault (its own
# timeout message says during which step it happened, which is more useful than ours).
GRACE_SECONDS = 0.3
MAX_DETAIL = 2000


@dataclass(frozen=True)
class Probe:
    """One planned row: what to run, against what, with how much time."""

    name: str
    protocol: str
    target: str
    run: Callable[[ProbeContext], Outcome]
    timeout: float


class _Slot:
    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.ctx = ProbeContext(probe.timeout)
        self.done = threading.Event()
        self.result: ProbeResult | None = None

    def work(self) -> None:
        try:
            outcome = self.probe.run(self.ctx)
        except BaseException as exc:  # every failure becomes a row, never a crash of the check
            outcome = outcome_from_exception(exc, self.ctx, self.probe.target)
        self.result = self._result(outcome)
        self.done.set()

    def _result(self, outcome: Outcome) -> ProbeResult:
        elapsed = int((time.monotonic() - self.ctx.started) * 1000)
        # Details quote server data (TXT records, greetings, names): one line, no terminal
        # escapes, bounded, whichever probe built it.
        detail = clean_text(outcome.detail, MAX_DETAIL)
        if outcome.fault and outcome.fault.lower() not in detail.lower():
            detail = f"{outcome.fault}: {detail}"  # the detail always names the fault
        return ProbeResult(
            name=self.probe.name,
            protocol=self.probe.protocol,
            target=self.probe.target,
            status=outcome.status,
            detail=detail,
            fault=outcome.fault,
            elapsed_ms=elapsed,
            evidence=dict(self.ctx.evidence),
        )

    def overdue(self) -> ProbeResult:
        return self._result(Outcome("fail", self.ctx.timeout_detail(), "timeout"))


def run_probes(probes: list[Probe]) -> list[ProbeResult]:
    """Start every probe at once; return their results in the order given."""
    slots = [_Slot(p) for p in probes]
    for slot in slots:
        thread = threading.Thread(target=slot.work, name=f"probe-{slot.probe.name}", daemon=True)
        thread.start()
    results: list[ProbeResult] = []
    for slot in slots:
        wait = slot.ctx.deadline + GRACE_SECONDS - time.monotonic()
        if slot.done.wait(max(wait, 0.0)) and slot.result is not None:
            results.append(slot.result)
        else:
            results.append(slot.overdue())
    return results
