"""``check --csv``: a whole team's mailboxes, without asking any server the same thing twice.

The probes are the single-address check's (:func:`mailsetup.check.plan.plan_probes`, run by
:func:`mailsetup.check.runner.run_probes`); what this module adds is who runs which, once:

- **DNS once per domain**: the five DNS rows (MX, SPF, DMARC, DKIM, discovery) depend on the
  domain only, so they run for one address of each domain and are shared by every row there.
- **Servers once per host**: the IMAP, SMTP and CalDAV/CardDAV rows without a login (connect,
  TLS, certificate, capabilities) depend on the provider only, so they run once.
- **Logins per row** (``login``): IMAP, SMTP and DAV log in with that row's passwords. A row
  whose server already failed without a login is not sent there again: the row shows that
  server's fault, so a server that is down is not hammered with every row's password.
- **Bounded concurrency**: at most ``parallel`` units (one domain's DNS, the servers, one row's
  logins) run at a time, each with its probes in parallel as in the single check. The default
  (:data:`DEFAULT_PARALLEL`) keeps a provider's per-address rate limits and login throttling
  in mind: four logins at a time finish a team of 100 in well under a minute.

Each row gets an ordinary :class:`~mailsetup.check.report.Report`, so its table and its JSON
are the single check's.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mailsetup.account import Account
from mailsetup.check.dns import Nameserver
from mailsetup.check.plan import (
    DEFAULT_TIMEOUT,
    CheckOptions,
    not_checked,
    plan_probes,
    resolver_probe,
)
from mailsetup.check.report import ProbeResult, Report
from mailsetup.check.runner import Probe, run_probes
from mailsetup.provider import Provider
from mailsetup.team import DEFAULT_PARALLEL
from mailsetup.team.passwords import Passwords
from mailsetup.team.rows import Member

LOGIN_PROBES = ("imap", "smtp", "caldav", "carddav")


@dataclass(frozen=True)
class TeamCheckOptions:
    timeout: float = DEFAULT_TIMEOUT
    nameserver: Nameserver | None = None
    ca_file: Path | None = None
    login: bool = False
    parallel: int = DEFAULT_PARALLEL


@dataclass(frozen=True)
class RowCheck:
    """One row's outcome: its report, or why it could not be checked."""

    number: int
    email: str
    report: Report | None = None
    problem: str | None = None


@dataclass
class TeamResult:
    rows: list[RowCheck] = field(default_factory=list)
    domains: int = 0
    elapsed_ms: int = 0

    @property
    def failed(self) -> list[RowCheck]:
        return [r for r in self.rows if r.report is not None and r.report.verdict == "fail"]

    @property
    def unchecked(self) -> list[RowCheck]:
        return [r for r in self.rows if r.report is None]


def _options(
    opts: TeamCheckOptions, mail: str | None = None, sync: str | None = None
) -> CheckOptions:
    return CheckOptions(
        timeout=opts.timeout,
        nameserver=opts.nameserver,
        ca_file=opts.ca_file,
        mail_password=mail,
        sync_password=sync,
    )


def check_team(
    members: list[Member],
    provider: Provider,
    opts: TeamCheckOptions,
    passwords: Passwords | None = None,
    on_unit_done: Callable[[], None] | None = None,
    tls: ssl.SSLContext | None = None,
) -> TeamResult:
    """Check every member; ``on_unit_done`` is called after each unit (for a progress bar)."""
    from mailsetup.check.hints import validate_hints
    from mailsetup.check.tls import make_context

    validate_hints(provider)  # as the single check: a bad hint template is provider data
    started = time.monotonic()
    if tls is None:  # the command passes the one it built to validate --ca-file
        tls = make_context(opts.ca_file)
    by_domain: dict[str, Account] = {}
    for m in members:
        by_domain.setdefault(m.account.domain, m.account)

    results = _run_units(
        _shared_units(members, by_domain, provider, opts, tls), opts.parallel, on_unit_done
    )
    notices = _offline(results, by_domain)
    problems: dict[int, str] = {}
    if opts.login:
        units, problems = _login_units(
            members, provider, opts, tls, passwords or Passwords(), results
        )
        results.update(_run_units(units, opts.parallel, on_unit_done))
    team = TeamResult(domains=len(by_domain))
    for m in members:
        if m.number in problems:
            team.rows.append(RowCheck(m.number, m.account.email, problem=problems[m.number]))
        else:
            report = _report(m, provider, opts, results, notices)
            team.rows.append(RowCheck(m.number, m.account.email, report=report))
    team.elapsed_ms = int((time.monotonic() - started) * 1000)
    return team


def _shared_units(
    members: list[Member],
    by_domain: dict[str, Account],
    provider: Provider,
    opts: TeamCheckOptions,
    tls: ssl.SSLContext,
) -> dict[str, list[Probe]]:
    """The resolver once, each domain's DNS rows once, the servers once (no login)."""
    units: dict[str, list[Probe]] = {}
    if not members:
        return units
    # As the single check: the resolver is asked once; if it does not answer at all, the
    # reports say so once instead of every DNS row failing in its own misleading way.
    units["resolver"] = [resolver_probe(members[0].account, _options(opts))]
    for domain, account in by_domain.items():
        planned = plan_probes(account, provider, _options(opts), tls)
        units[f"dns:{domain}"] = [p for p in planned if p.protocol == "dns"]
    planned = plan_probes(members[0].account, provider, _options(opts), tls)
    units["servers"] = [p for p in planned if p.protocol != "dns"]
    return units


def _offline(
    results: dict[str, list[ProbeResult]], by_domain: dict[str, Account]
) -> tuple[str, ...]:
    """When the resolver did not answer: every DNS row "not checked", and the one notice."""
    resolver = results.get("resolver", [])
    if not resolver or resolver[0].status != "fail":
        return ()
    for domain in by_domain:
        key = f"dns:{domain}"
        results[key] = [not_checked(r, resolver[0]) for r in results.get(key, [])]
    return (
        f"{resolver[0].detail}. This computer seems offline, or the resolver does not work: "
        "DNS was not checked",
    )


def _login_units(
    members: list[Member],
    provider: Provider,
    opts: TeamCheckOptions,
    tls: ssl.SSLContext,
    passwords: Passwords,
    results: dict[str, list[ProbeResult]],
) -> tuple[dict[str, list[Probe]], dict[int, str]]:
    """Each row's login probes (none to a server that already failed), and the rows without
    a password."""
    servers = {r.name: r for r in results.get("servers", [])}
    down = {name for name, r in servers.items() if r.status == "fail"}
    units: dict[str, list[Probe]] = {}
    problems: dict[int, str] = {}
    for m in members:
        mail = passwords.mail(m.account.email)
        if mail is None:
            problems[m.number] = (
                f"no password for {m.account.email} in the password file or the keyring"
            )
            continue
        row_opts = _options(opts, mail, passwords.sync(m.account.sync_user))
        planned = [
            p for p in plan_probes(m.account, provider, row_opts, tls) if p.name in LOGIN_PROBES
        ]
        # A server that failed without a login is not sent every row's password too: the
        # row shows that server's fault instead.
        units[f"row:{m.number}"] = [p for p in planned if p.name not in down]
    return units, problems


def _report(
    m: Member,
    provider: Provider,
    opts: TeamCheckOptions,
    results: dict[str, list[ProbeResult]],
    notices: tuple[str, ...],
) -> Report:
    """One row's report: its domain's DNS rows, the servers' rows (its logins in their place)."""
    from mailsetup.check.hints import hint_for

    account = m.account
    own = {r.name: r for r in results.get(f"row:{m.number}", [])}
    rows = list(results.get(f"dns:{account.domain}", []))
    rows += [own.get(r.name, r) for r in results.get("servers", [])]
    with_hints = tuple(replace(r, hint=_team_hint(hint_for(r, provider, account))) for r in rows)
    return Report(
        email=account.email,
        provider=provider.id,
        login=opts.login,
        probes=with_hints,
        elapsed_ms=max((r.elapsed_ms for r in rows), default=0),
        notices=notices,
    )


def _team_hint(hint: str | None) -> str | None:
    """The single check's hint, with this command's password sources: ``check --csv`` reads
    ``MAILSETUP_PASSWORD_FILE`` and the keyring, never ``MAILSETUP_PASSWORD``."""
    if hint is None:
        return None
    return hint.replace(
        "MAILSETUP_SYNC_PASSWORD or ", "a sync:<id> line in MAILSETUP_PASSWORD_FILE or "
    ).replace("MAILSETUP_PASSWORD or ", "MAILSETUP_PASSWORD_FILE or ")


def _run_units(
    units: dict[str, list[Probe]], parallel: int, on_done: Callable[[], None] | None
) -> dict[str, list[ProbeResult]]:
    """Run each unit's probes (in parallel within the unit), at most ``parallel`` units at once.

    Daemon worker threads, as the runner's probe threads: Ctrl-C returns at once instead of
    waiting for the units in flight (each of which stops by itself within its timeout).
    """
    out: dict[str, list[ProbeResult]] = {}
    pending = [(key, probes) for key, probes in units.items() if probes]
    for key, probes in units.items():
        if not probes:
            out[key] = []
    if not pending:
        return out
    queue = iter(pending)
    lock = threading.Lock()
    finished = threading.Condition(lock)
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            key, probes = item
            try:
                result = run_probes(probes)
            except BaseException as exc:  # a bug in a unit must not hang the others
                with lock:
                    errors.append(exc)
                    finished.notify_all()
                return
            with lock:
                out[key] = result
                finished.notify_all()

    workers = [
        threading.Thread(target=worker, name=f"team-check-{i}", daemon=True)
        for i in range(max(1, min(parallel, len(pending))))
    ]
    for thread in workers:
        thread.start()
    reported = 0
    with lock:
        while len(out) < len(units) and not errors:
            finished.wait(0.2)  # short waits keep Ctrl-C responsive
            while on_done is not None and reported < len(out):
                reported += 1
                lock.release()
                try:
                    on_done()
                finally:
                    lock.acquire()
        if errors:
            raise errors[0]
    return out
