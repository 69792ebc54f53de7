"""Run probes in parallel, each with its own timeout.

Threads rather than asyncio, on purpose:

* The protocol clients we trust are the standard library's blocking ones (``imaplib``,
  ``smtplib``, ``http.client``, dnspython's stub resolver). With asyncio we would have to
  re-implement IMAP, SMTP submission with STARTTLS and a DAV client on raw streams, or push the
  same blocking calls into an executor, which is threads again with more machinery.
* A check runs about ten probes that spend their time waiting on sockets: the GIL is released
  while waiting, so threads overlap all the waiting (the benchmark measures ~1.0x the slowest
  probe, see benchmarks/check_parallel.py).
* Timeouts hold without cancellation: every probe step gives its socket the time it has left
  (:meth:`ProbeContext.enter`), so it stops by itself. The runner waits for each probe until its
  deadline plus a short grace and reports ``timeout`` itself if a probe is still stuck (say in
  a C call that ignores the socket timeout). Such a thread is a daemon, so it can never keep
  the process alive after the report is printed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mailsetup.check.faults import CATALOGUE, FaultName
from mailsetup.check.probe import Outcome, ProbeContext, outcome_from_exception
from mailsetup.check.report import Evidence, JSONValue, ProbeResult
from mailsetup.check.tls import expiry_warning
from mailsetup.untrusted import clean_text

# Extra time the runner gives a probe past its deadline to report its own fault (its own
# timeout message says during which step it happened, which is more useful than ours).
GRACE_SECONDS = 0.3
MAX_DETAIL = 2000
MAX_EVIDENCE_TEXT = 1000  # per string; evidence lists are bounded by the probes


def clean_evidence(value: JSONValue) -> JSONValue:
    """Every string in the evidence (keys too) through the one cleaning rule.

    Evidence quotes servers and DNS (greetings, SPF and DMARC records, AUTH mechanisms, DAV
    principals, certificate names): JSON escaping keeps the document valid, but a script that
    prints a value would still pass a terminal escape or a bidi override on to a person.
    """
    if isinstance(value, str):
        return clean_text(value, MAX_EVIDENCE_TEXT)
    if isinstance(value, list):
        return [clean_evidence(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k, 200): clean_evidence(v) for k, v in value.items()}
    return value


def with_expiry(outcome: Outcome, evidence: Evidence) -> Outcome:
    """The one place a certificate close to expiry turns a row into a warning.

    Every TLS probe leaves its certificate in ``evidence["tls"]``; a probe that otherwise
    passed warns (``certificate expires soon``), one that warned already keeps its own fault
    and says it too; a failure stays a failure.
    """
    tls = evidence.get("tls")
    warning = expiry_warning(tls) if isinstance(tls, dict) else None
    if warning is None or outcome.status in ("fail", "skip"):
        return outcome
    if outcome.status == "pass":
        return Outcome.of(FaultName.CERT_EXPIRES_SOON, f"{warning}; {outcome.detail}")
    return Outcome(outcome.status, f"{outcome.detail}; {warning}", outcome.fault)


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
        self.result = self._result(with_expiry(outcome, self.ctx.evidence))
        self.done.set()

    def _result(self, outcome: Outcome) -> ProbeResult:
        elapsed = int((time.monotonic() - self.ctx.started) * 1000)
        status = outcome.status
        if outcome.fault is not None:
            status = CATALOGUE[outcome.fault].status  # the catalogue decides, not the probe
        # Details quote server data (TXT records, greetings, names): one line, no terminal
        # escapes, bounded, whichever probe built it.
        detail = clean_text(outcome.detail, MAX_DETAIL)
        if outcome.fault and outcome.fault.lower() not in detail.lower():
            detail = f"{outcome.fault}: {detail}"  # the detail always names the fault
        return ProbeResult(
            name=self.probe.name,
            protocol=self.probe.protocol,
            target=clean_text(self.probe.target, 300),  # provider data: validated, cleaned anyway
            status=status,
            detail=detail,
            fault=str(outcome.fault) if outcome.fault else None,
            elapsed_ms=elapsed,
            evidence={
                clean_text(k, 200): clean_evidence(v) for k, v in dict(self.ctx.evidence).items()
            },
        )

    def overdue(self) -> ProbeResult:
        return self._result(Outcome.of(FaultName.TIMEOUT, self.ctx.timeout_detail()))


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
