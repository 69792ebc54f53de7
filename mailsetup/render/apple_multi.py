"""One Apple profile for several mailboxes (``profile -e jane@x.ch -e info@x.ch``).

Built from the single-mailbox payloads of :mod:`mailsetup.render.apple` (same keys, same
rules), so the two can never drift apart; only the identifiers and the profile's own names
are the combined profile's:

- One ``com.apple.mail.managed`` payload per mailbox.
- CalDAV and CardDAV once per distinct sync user: two mailboxes of one person share one sync
  login (a provider's separate sync id belongs to the user, not the mailbox), and a second, equal
  CalDAV account would show every calendar twice. A mailbox without a sync user stands for
  itself (the device asks, and the login may be the address).
- Identifiers (docs/organisations.md, "Several mailboxes in one profile"): the profile's
  PayloadIdentifier and PayloadUUID derive from the provider and the *first* address, with
  the word ``multi`` so they never equal that mailbox's single profile, and a subset of
  services adds its suffix as in a single profile (docs/apple.md). Installing a newer
  combined profile with the same first address therefore replaces the older one, also when
  mailboxes were added or removed; it does not replace the single-mailbox profiles of its
  addresses (remove those first, or Mail shows the accounts twice). Each payload's identifier
  and UUID derive from (first address, its own address or sync user, payload type): unique
  within the profile and the same at every run.
- The display name lists the addresses.
"""

from __future__ import annotations

from typing import Any

from mailsetup.account import Account
from mailsetup.errors import BadInput
from mailsetup.model import OutputFile
from mailsetup.provider import Provider
from mailsetup.render import Rendered, RenderOptions, stable_uuid
from mailsetup.render.apple import INSTRUCTIONS, build_profile, profile_bytes, service_set

MAIL = "com.apple.mail.managed"


def check_accounts(accounts: list[Account]) -> None:
    """At least one mailbox, each once (compared as the device would: without case)."""
    if not accounts:
        raise BadInput("no mailbox given", "pass --email at least once")
    seen: set[str] = set()
    for account in accounts:
        key = account.identity
        if key in seen:
            raise BadInput(f"{account.email} is given twice", "name each mailbox once")
        seen.add(key)


def dav_group(account: Account) -> str:
    """Which CalDAV/CardDAV account a mailbox belongs to: its sync login, or itself."""
    return f"sync:{account.sync_user}" if account.sync_user else account.identity


def _root_identifier(owner: Account, provider: Provider, options: RenderOptions) -> str:
    uid = stable_uuid(provider.id, owner.identity, "multi").lower()
    subset = service_set(options)
    base = f"{provider.identifier_prefix}.multi.{uid}"
    return f"{base}.{'-'.join(subset)}" if subset else base


def build_multi_profile(
    accounts: list[Account], provider: Provider, options: RenderOptions
) -> dict[str, Any]:
    """The combined profile as a plist dictionary."""
    check_accounts(accounts)
    if options.password is not None:
        raise BadInput(
            "--embed-password holds one password; several mailboxes have one each",
            "leave it out: the device asks for each password while installing",
        )
    owner = accounts[0]
    root = _root_identifier(owner, provider, options)
    subset = service_set(options)
    single_options = RenderOptions(services=options.services, smtp_port=options.smtp_port)
    content: list[dict[str, Any]] = []
    dav_groups: set[tuple[str, str]] = set()
    for account in accounts:
        for payload in build_profile(account, provider, single_options)["PayloadContent"]:
            kind = payload["PayloadType"]
            who = account.identity
            if kind != MAIL:
                # One CalDAV/CardDAV account per sync login (or per mailbox without one).
                who = dav_group(account)
                if (kind, who) in dav_groups:
                    continue
                dav_groups.add((kind, who))
            uid = stable_uuid(provider.id, owner.identity, "multi", *subset, who, kind)
            content.append(
                {**payload, "PayloadUUID": uid, "PayloadIdentifier": f"{root}.{uid.lower()}"}
            )
    shown = ", ".join(a.email_display for a in accounts)
    what = ", ".join(s for s in ("mail", "caldav", "carddav") if s in options.services)
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadUUID": stable_uuid(provider.id, owner.identity, "multi", *subset, "Configuration"),
        "PayloadIdentifier": root,
        "PayloadDisplayName": f"{provider.name}: {shown}",
        "PayloadDescription": (
            f"Sets up {what} for {shown}. The device asks for each password while installing."
        ),
        "PayloadOrganization": provider.name,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": content,
    }


def render_multi(accounts: list[Account], provider: Provider, options: RenderOptions) -> Rendered:
    """``<first address>+<n>.mobileconfig`` holding every mailbox."""
    provider.require(options.services)
    data = profile_bytes(build_multi_profile(accounts, provider, options))
    name = f"{accounts[0].email}+{len(accounts) - 1}.mobileconfig"
    warnings = [w for a in accounts for w in provider.missing_sync_user(a, options.services)]
    return Rendered(
        files=[OutputFile(name, data)],
        instructions=list(INSTRUCTIONS),  # the single profile's install steps
        warnings=list(dict.fromkeys(warnings)),
    )
