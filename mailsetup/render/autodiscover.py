"""Outlook-style Autodiscover response (``autodiscover.xml``), the "POX" schema of MS-OXDSCLI.

Structure ([MS-OXDSCLI] §2.2.4, Microsoft's "POX Autodiscover XML elements" reference):
``Autodiscover`` (namespace ``.../autodiscover/responseschema/2006``) → ``Response`` (namespace
``.../autodiscover/outlook/responseschema/2006a``) → ``User`` (``DisplayName``,
``AutoDiscoverSMTPAddress``) and ``Account`` (``AccountType`` email, ``Action`` settings, one
``Protocol`` per server). A ``Protocol`` of ``Type`` IMAP or SMTP carries ``Server``, ``Port``,
``LoginName``, ``DomainRequired``, ``SPA`` (off: no NTLM), ``SSL`` (on: TLS required),
``Encryption`` (SSL = implicit TLS, TLS = STARTTLS, None; it overrides ``SSL`` where both are
present), ``AuthRequired``, and for SMTP ``UsePOPAuth`` on (same credentials as incoming) and
``SMTPLast``.

CalDAV and CardDAV: not part of MS-OXDSCLI. eM Client reads extra ``Protocol`` entries of
``Type`` CalDAV / CardDAV with the service URL in ``Server`` and the login in ``LoginName``, and
Outlook ignores unknown types (as deployed by mailcow and automx for eM Client). The login
follows :meth:`Provider.dav_login`: the sync username when known, the address when the
provider logs in with it, and no ``LoginName`` at all (the client asks, and mailsetup warns)
when the provider needs a separate sync user that was not given.

The response names one mailbox (``LoginName``): a domain owner serving it for many people
renders it per request; docs/autodiscover.md says how.
"""

from __future__ import annotations

from typing import Any

from mailsetup.account import Account
from mailsetup.model import OutputFile
from mailsetup.provider import Endpoint, Provider
from mailsetup.render import Rendered, RenderOptions
from mailsetup.render.templating import render_template

ENCRYPTION = {"ssl": "SSL", "starttls": "TLS", "none": "None"}


def _mail_protocol(kind: str, endpoint: Endpoint, account: Account) -> dict[str, Any]:
    return {
        "type": kind,
        "server": endpoint.host,
        "port": endpoint.port,
        "login": endpoint.login(account),
        "ssl": "off" if endpoint.security == "none" else "on",
        "encryption": ENCRYPTION[endpoint.security],
    }


def protocols(account: Account, provider: Provider, options: RenderOptions) -> list[dict[str, Any]]:
    """The ``Protocol`` entries in order: IMAP, SMTP, then CalDAV, CardDAV (as chosen).

    IMAP and SMTP are always there: an ``Account`` of ``AccountType`` email holds "settings for
    an e-mail server" (Microsoft's AccountType (POX) reference), and an answer without them
    configures nothing in Outlook; ``--services`` chooses only the DAV entries.
    """
    result = []
    if "mail" in provider.services:  # a DAV-only provider file has no mail servers
        result += [
            _mail_protocol("IMAP", provider.imap, account),
            _mail_protocol("SMTP", provider.smtp_on_port(options.smtp_port), account),
        ]
    dav_login = provider.dav_login(account)
    for kind, service in (
        ("CalDAV", provider.caldav_service),
        ("CardDAV", provider.carddav_service),
    ):
        if service is not None and kind.lower() in options.services:
            # The URL carries port and TLS, so no Port/SSL/Encryption elements.
            result.append(
                {
                    "type": kind,
                    "server": service.url + "/",
                    "port": None,
                    "login": dav_login,
                    "ssl": None,
                    "encryption": None,
                }
            )
    return result


def render_xml(account: Account, provider: Provider, options: RenderOptions) -> bytes:
    return render_template(
        "autodiscover/autodiscover.xml.j2",
        display_name=account.display_name,
        email=account.email,
        protocols=protocols(account, provider, options),
    )


def render(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    return Rendered(
        warnings=provider.missing_sync_user(account, options.services),
        files=[OutputFile("autodiscover.xml", render_xml(account, provider, options))],
        instructions=[
            f"Serve it at https://autodiscover.{account.domain}/autodiscover/autodiscover.xml"
            f" (or https://{account.domain}/autodiscover/autodiscover.xml); see"
            " docs/autodiscover.md.",
        ],
    )
