"""eM Client: ``autodiscover.xml`` plus a printable setup sheet (Markdown and HTML).

eM Client has no importable settings file. Its automatic set-up asks the domain's
Autodiscover service (eM Client knowledge base, "How does Autodiscover work?": registry, SCP,
SRV, then ``https://<domain>/autodiscover/autodiscover.xml`` and
``https://autodiscover.<domain>/...``), so the same POX response as ``--client autodiscover``
is written for a domain owner to serve; see :mod:`mailsetup.render.autodiscover`.

For everyone else the sheet lists exactly the fields of eM Client's manual wizard, in the
order the wizard shows them: incoming IMAP server, port, security, username; outgoing SMTP
server, port, security, "same as incoming" credentials; then the CalDAV step (account
address, sync username, password). What the password is, where the sync username is found and
whether one CalDAV set-up also brings the contacts are provider facts from the provider file
(``[texts]``), never written here.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailsetup.account import Account
from mailsetup.model import OutputFile
from mailsetup.provider import Endpoint, Provider
from mailsetup.render import Rendered, RenderOptions
from mailsetup.render.autodiscover import render_xml
from mailsetup.render.templating import render_template

# What to pick in eM Client's "Security policy" list for each provider security mode.
SECURITY = {
    "ssl": "SSL/TLS on its own port (implicit TLS)",
    "starttls": "STARTTLS (upgrade to TLS, required)",
    "none": "none",
}


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Step:
    title: str
    where: str  # how to reach this screen in eM Client
    fields: tuple[Field, ...]
    note: str = ""


def _server_fields(kind: str, endpoint: Endpoint) -> list[Field]:
    return [
        Field(f"{kind} server", endpoint.host),
        Field("Port", str(endpoint.port)),
        Field("Security", SECURITY[endpoint.security]),
    ]


def wizard_steps(account: Account, provider: Provider, options: RenderOptions) -> list[Step]:
    """The wizard's screens and fields in eM Client's order (exposed for tests)."""
    steps = []
    if "mail" in options.services:
        smtp = provider.smtp_on_port(options.smtp_port)
        steps.append(
            Step(
                "Mail (IMAP and SMTP)",
                "Menu > Accounts > Add account > Mail > Other, enter the address, then"
                " choose manual set-up",
                (
                    *_server_fields("IMAP", provider.imap),
                    Field("Username", provider.imap.login(account)),
                    *_server_fields("SMTP", smtp),
                    Field("Same as incoming", "yes (the same username and password)"),
                ),
                note=f"Password: {provider.password_hint}." if provider.password_hint else "",
            )
        )
    texts = provider.texts
    together = texts.caldav_brings_contacts and "caldav" in options.services
    dav_kinds = (
        ("caldav",)
        if together
        else tuple(k for k in ("caldav", "carddav") if k in options.services)
    )
    for kind in dav_kinds:
        service = provider.caldav if kind == "caldav" else provider.carddav
        label = "CalDAV" if kind == "caldav" else "CardDAV"
        login = provider.dav_login(account)
        if login is None:
            where = f" ({texts.sync_user_where})" if texts.sync_user_where else ""
            example = f", such as {texts.sync_user_example}" if texts.sync_user_example else ""
            login = f"your sync username{example}{where}"
        steps.append(
            Step(
                "Calendars and contacts (CalDAV)"
                if together
                else ("Calendars (CalDAV)" if kind == "caldav" else "Contacts (CardDAV)"),
                f"Menu > Accounts > Add account > {'Calendar' if kind == 'caldav' else 'Contacts'}"
                f" > {label}",
                (
                    Field("Account address", service.url),
                    Field("Username", login),
                    Field("Password", texts.app_password_hint or "the sync password"),
                ),
                note="This one CalDAV set-up also brings the contacts (CardDAV)."
                if together
                else "",
            )
        )
    return steps


def render(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    ctx = {
        "account": account,
        "provider": provider,
        "steps": wizard_steps(account, provider, options),
    }
    return Rendered(
        files=[
            OutputFile("autodiscover.xml", render_xml(account, provider, options)),
            OutputFile("setup-sheet.md", render_template("emclient/setup-sheet.md.j2", **ctx)),
            OutputFile("setup-sheet.html", render_template("emclient/setup-sheet.html.j2", **ctx)),
        ],
        instructions=[
            "eM Client: follow setup-sheet.html (or .md) field by field; autodiscover.xml is"
            " for the owner of the domain to serve (docs/em-client.md).",
        ],
        warnings=provider.missing_sync_user(account, options.services),
    )
