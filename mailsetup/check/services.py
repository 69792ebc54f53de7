"""Which services a provider file has, so ``check`` probes those and no others.

A provider may offer mail only (no ``[caldav]``/``[carddav]``), or calendars and contacts only
(no ``[imap]``/``[smtp]``). ``check`` then runs only the rows that apply: no DAV rows for a
mail-only provider; no IMAP, SMTP or mail DNS rows (MX, SPF, DMARC, DKIM) for a DAV-only one.
This is the one place that decides it; the probe plan and the discovery records both ask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mailsetup.provider import DavService, Endpoint, Provider

DavKind = Literal["caldav", "carddav"]


@dataclass(frozen=True)
class Offered:
    imap: Endpoint | None
    smtp: tuple[Endpoint, ...]  # the default submission endpoint first, then alternatives
    dav: tuple[tuple[DavKind, DavService], ...]

    @property
    def mail(self) -> bool:
        return self.imap is not None or bool(self.smtp)


def offered(provider: Provider) -> Offered:
    """The services ``provider`` has; a table left out of its file is ``None`` there."""
    smtp: tuple[Endpoint, ...] = ()
    if provider.smtp_endpoint is not None:
        smtp = (provider.smtp_endpoint, *provider.smtp_alternatives)
    dav: list[tuple[DavKind, DavService]] = []
    if provider.caldav_service is not None:
        dav.append(("caldav", provider.caldav_service))
    if provider.carddav_service is not None:
        dav.append(("carddav", provider.carddav_service))
    return Offered(provider.imap_endpoint, smtp, tuple(dav))
