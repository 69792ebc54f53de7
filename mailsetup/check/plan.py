"""Which probes ``check`` runs for an account at a provider, and the whole check as a function.

This is the library entry point (``run_check``): the CLI only turns options into
:class:`CheckOptions` and prints the :class:`~mailsetup.check.report.Report` it gets back.
"""

from __future__ import annotations

import ssl
import time
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
    probe_spf,
)
from mailsetup.check.hints import hint_for
from mailsetup.check.probe import Credentials
from mailsetup.check.report import Report
from mailsetup.check.runner import Probe, run_probes
from mailsetup.provider import Endpoint, Provider
from mailsetup.render import login_for

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
    probes = [
        Probe(
            "dns.mx",
            "dns",
            domain,
            partial(probe_mx, domain=domain, expect=expect, nameserver=ns),
            t,
        ),
        Probe(
            "dns.spf",
            "dns",
            domain,
            partial(probe_spf, domain=domain, expect=expect, nameserver=ns),
            t,
        ),
        Probe(
            "dns.dmarc",
            "dns",
            f"_dmarc.{domain}",
            partial(probe_dmarc, domain=domain, nameserver=ns),
            t,
        ),
        Probe(
            "dns.dkim",
            "dns",
            domain,
            partial(probe_dkim, domain=domain, expect=expect, nameserver=ns),
            t,
        ),
        Probe(
            "dns.discovery",
            "dns",
            domain,
            partial(probe_discovery, domain=domain, provider=provider, nameserver=ns),
            t,
        ),
    ]

    def creds(endpoint: Endpoint) -> Credentials | None:
        if options.mail_password is None:
            return None
        return Credentials(login_for(endpoint, account), options.mail_password)

    imap = provider.imap
    probes.append(
        Probe(
            "imap",
            "imap",
            _where(imap),
            partial(probe_imap, endpoint=imap, tls=tls, login=creds(imap)),
            t,
        )
    )
    for endpoint in (provider.smtp, *provider.smtp_alternatives):
        name = "smtp" if endpoint is provider.smtp else f"smtp.{endpoint.port}"
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
    probes.append(
        Probe(
            "caldav",
            "caldav",
            provider.caldav.url,
            partial(probe_dav, kind="caldav", service=provider.caldav, tls=tls, login=dav_login),
            t,
        )
    )
    probes.append(
        Probe(
            "carddav",
            "carddav",
            provider.carddav.url,
            partial(probe_dav, kind="carddav", service=provider.carddav, tls=tls, login=dav_login),
            t,
        )
    )
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
