"""Which probes ``check`` runs for an account at a provider, and the whole check as a function.

This is the library entry point (``run_check``): the CLI only turns options into
:class:`CheckOptions` and prints the :class:`~mailsetup.check.report.Report` it gets back.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from mailsetup.account import Account
from mailsetup.check.dns import (
    Nameserver,
    probe_discovery,
    probe_dkim,
    probe_dmarc,
    probe_mx,
    probe_resolver,
    probe_spf,
)
from mailsetup.check.faults import FaultName
from mailsetup.check.hints import hint_for, validate_hints
from mailsetup.check.probe import Credentials, Outcome
from mailsetup.check.report import ProbeResult, Report
from mailsetup.check.runner import Probe, run_probes
from mailsetup.check.services import offered
from mailsetup.provider import Endpoint, Provider

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class CheckOptions:
    """Everything that changes what ``check`` does; passwords only with ``login``."""

    timeout: float = DEFAULT_TIMEOUT
    nameserver: Nameserver | None = None
    ca_file: Path | None = None
    mail_password: str | None = field(default=None, repr=False)
    sync_password: str | None = field(default=None, repr=False)

    @property
    def login(self) -> bool:
        return self.mail_password is not None


def _where(endpoint: Endpoint) -> str:
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    return f"{host}:{endpoint.port}"


def _dns_probes(account: Account, provider: Provider, options: CheckOptions) -> list[Probe]:
    """Mail DNS rows only for a provider with mail; discovery for whatever it has."""
    domain = account.domain
    expect = provider.dns
    checks: list[tuple[str, str, Callable[..., Outcome]]] = []
    if offered(provider).mail:
        checks += [
            ("dns.mx", domain, partial(probe_mx, expect=expect)),
            ("dns.spf", domain, partial(probe_spf, expect=expect)),
            ("dns.dmarc", f"_dmarc.{domain}", probe_dmarc),
            ("dns.dkim", domain, partial(probe_dkim, expect=expect)),
        ]
    checks.append(("dns.discovery", domain, partial(probe_discovery, provider=provider)))
    ns = options.nameserver
    return [
        Probe(name, "dns", target, partial(run, domain=domain, nameserver=ns), options.timeout)
        for name, target, run in checks
    ]


def plan_probes(
    account: Account, provider: Provider, options: CheckOptions, tls: ssl.SSLContext
) -> list[Probe]:
    """One :class:`Probe` per row, in the order they are shown; only services the provider has."""
    from mailsetup.check.dav import probe_dav
    from mailsetup.check.imap import probe_imap
    from mailsetup.check.smtp import probe_smtp

    t = options.timeout
    have = offered(provider)
    probes = _dns_probes(account, provider, options)

    def creds(endpoint: Endpoint) -> Credentials | None:
        if options.mail_password is None:
            return None
        return Credentials(endpoint.login(account), options.mail_password)

    if have.imap is not None:
        imap = have.imap
        run_imap = partial(probe_imap, endpoint=imap, tls=tls, login=creds(imap))
        probes.append(Probe("imap", "imap", _where(imap), run_imap, t))
    for i, endpoint in enumerate(have.smtp):
        name = "smtp" if i == 0 else f"smtp.{endpoint.port}"
        run_smtp = partial(probe_smtp, endpoint=endpoint, tls=tls, login=creds(endpoint))
        probes.append(Probe(name, "smtp", _where(endpoint), run_smtp, t))
    dav_login: Credentials | None = None
    if options.mail_password is not None:
        # The sync login: its own user and password when given, else the mail one.
        dav_login = Credentials(
            account.sync_user or account.email, options.sync_password or options.mail_password
        )
    for kind, service in have.dav:
        run_dav = partial(probe_dav, kind=kind, service=service, tls=tls, login=dav_login)
        probes.append(Probe(kind, kind, service.url, run_dav, t))
    return probes


def resolver_probe(account: Account, options: CheckOptions) -> Probe:
    """The probe that asks whether any resolver answers at all (``check`` and ``check --csv``)."""
    where = str(options.nameserver) if options.nameserver else "system resolver"
    run = partial(probe_resolver, domain=account.domain, nameserver=options.nameserver)
    return Probe("dns.resolver", "dns", where, run, options.timeout)


def not_checked(row: ProbeResult, resolver: ProbeResult) -> ProbeResult:
    """A DNS row when no resolver works: one fault, said the same way on every row."""
    return replace(
        row,
        status="fail",
        fault=FaultName.NO_WORKING_RESOLVER.value,
        detail="no working resolver: not checked (see the notice above the table)",
        evidence={},
        elapsed_ms=max(row.elapsed_ms, resolver.elapsed_ms),
    )


def run_check(
    account: Account,
    provider: Provider,
    options: CheckOptions,
    tls: ssl.SSLContext | None = None,
) -> Report:
    """Run every probe in parallel and return the report, hints attached.

    The resolver is asked once, alongside the probes: if it does not answer at all, the report
    says so once at the top and the DNS rows say "not checked" instead of each failing in its
    own misleading way (NXDOMAIN, "add a TXT record").
    """
    from mailsetup.check.tls import make_context

    validate_hints(provider)
    if tls is None:  # the command passes the one it built to validate --ca-file
        tls = make_context(options.ca_file)
    started = time.monotonic()
    planned = plan_probes(account, provider, options, tls)
    resolver, *results = run_probes([resolver_probe(account, options), *planned])
    elapsed = int((time.monotonic() - started) * 1000)
    notices: list[str] = []
    if resolver.status == "fail":
        notices.append(
            f"{resolver.detail}. This computer seems offline, or the resolver does not work: "
            "DNS was not checked"
        )
        results = [not_checked(r, resolver) if r.protocol == "dns" else r for r in results]
    with_hints = tuple(replace(r, hint=hint_for(r, provider, account)) for r in results)
    return Report(
        email=account.email,
        provider=provider.id,
        login=options.login,
        probes=with_hints,
        elapsed_ms=elapsed,
        notices=tuple(notices),
    )
