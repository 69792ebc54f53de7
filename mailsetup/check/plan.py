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
from typing import TYPE_CHECKING

from mailsetup.account import Account
from mailsetup.check.dns import (
    Nameserver,
    probe_discovery,
    probe_dkim,
    probe_dmarc,
    probe_mx,
    probe_spf,
)
from mailsetup.check.hints import hint_for
from mailsetup.check.probe import Credentials, Outcome
from mailsetup.check.report import Report
from mailsetup.check.runner import Probe, run_probes
from mailsetup.provider import DavService, Endpoint, Provider

if TYPE_CHECKING:
    from mailsetup.check.dav import Kind

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
    return f"{endpoint.host}:{endpoint.port}"


def plan_probes(
    account: Account, provider: Provider, options: CheckOptions, tls: ssl.SSLContext
) -> list[Probe]:
    """One :class:`Probe` per row, in the order they are shown."""
    from mailsetup.check.dav import probe_dav
    from mailsetup.check.imap import probe_imap
    from mailsetup.check.smtp import probe_smtp

    t = options.timeout
    ns = options.nameserver
    domain = account.domain
    expect = provider.dns
    dns_checks: list[tuple[str, str, Callable[..., Outcome]]] = [
        ("dns.mx", domain, partial(probe_mx, expect=expect)),
        ("dns.spf", domain, partial(probe_spf, expect=expect)),
        ("dns.dmarc", f"_dmarc.{domain}", probe_dmarc),
        ("dns.dkim", domain, partial(probe_dkim, expect=expect)),
        ("dns.discovery", domain, partial(probe_discovery, provider=provider)),
    ]
    probes = [
        Probe(name, "dns", target, partial(check, domain=domain, nameserver=ns), t)
        for name, target, check in dns_checks
    ]

    def creds(endpoint: Endpoint) -> Credentials | None:
        if options.mail_password is None:
            return None
        return Credentials(endpoint.login(account), options.mail_password)

    # Only the probes the provider has: a DAV-only file has no [imap]/[smtp] and so on.
    for imap in (provider.imap_endpoint,) if provider.imap_endpoint else ():
        probes.append(
            Probe(
                "imap",
                "imap",
                _where(imap),
                partial(probe_imap, endpoint=imap, tls=tls, login=creds(imap)),
                t,
            )
        )
    smtp = provider.smtp_endpoint
    for endpoint in (smtp, *provider.smtp_alternatives) if smtp else ():
        name = "smtp" if endpoint is smtp else f"smtp.{endpoint.port}"
        probes.append(
            Probe(
                name,
                "smtp",
                _where(endpoint),
                partial(probe_smtp, endpoint=endpoint, tls=tls, login=creds(endpoint)),
                t,
            )
        )
    dav_login: Credentials | None = None
    if options.mail_password is not None:
        # The sync login: its own user and password when given (Infomaniak), else the mail one.
        dav_login = Credentials(
            account.sync_user or account.email, options.sync_password or options.mail_password
        )
    offered: tuple[tuple[Kind, DavService | None], ...] = (
        ("caldav", provider.caldav_service),
        ("carddav", provider.carddav_service),
    )
    dav_services = [(kind, service) for kind, service in offered if service is not None]
    for kind, service in dav_services:
        dav_check = partial(probe_dav, kind=kind, service=service, tls=tls, login=dav_login)
        probes.append(Probe(kind, kind, service.url, dav_check, t))
    return probes


def run_check(account: Account, provider: Provider, options: CheckOptions) -> Report:
    """Run every probe in parallel and return the report, hints attached."""
    from mailsetup.check.tls import make_context

    tls = make_context(options.ca_file)
    started = time.monotonic()
    results = run_probes(plan_probes(account, provider, options, tls))
    elapsed = int((time.monotonic() - started) * 1000)
    with_hints = tuple(replace(r, hint=hint_for(r, provider, account)) for r in results)
    return Report(
        email=account.email,
        provider=provider.id,
        login=options.login,
        probes=with_hints,
        elapsed_ms=elapsed,
    )
