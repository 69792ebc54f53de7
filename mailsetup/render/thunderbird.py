"""Thunderbird: ``config-v1.1.xml`` (Mozilla autoconfig), ``user.js`` (a complete account) and
``README.txt``.

``config-v1.1.xml`` follows Mozilla's autoconfig format, clientConfig version 1.1
(https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat; the same format is
being written up as draft-ietf-mailmaint-autoconfig): one ``emailProvider`` with ``domain``,
``displayName``, ``displayShortName``, ``incomingServer type="imap"`` and ``outgoingServer
type="smtp"`` (``hostname``, ``port``, ``socketType`` SSL/STARTTLS/plain, ``username`` with the
``%EMAILADDRESS%`` placeholders, ``authentication`` password-cleartext), and, beside the
provider, ``addressBook type="carddav"`` and ``calendar type="caldav"`` (``username``,
``authentication`` http-basic, ``serverURL``). Thunderbird itself ignores those two today and
finds DAV servers by RFC 6764 instead, which is why ``user.js`` sets them up directly.
The mail servers are always in the file, whatever ``--services`` says: it describes the domain,
and Thunderbird's reader (comm-central ``readFromXML``) rejects an ``emailProvider`` without an
``incomingServer`` and an ``outgoingServer``; ``--services`` picks the DAV elements only.

``user.js`` holds Thunderbird preferences; Thunderbird reads it at every start and its values
win over ``prefs.js``. Choices, all driven by not breaking a profile that already has accounts:

- Every key is ``mailsetup_<hash>``, the hash over provider id and address
  (:func:`account_key`). Thunderbird names its own ``account1``, ``server1``, ``id1``,
  ``smtp1``, so they cannot collide, and a second address gets a second key.
- The account is added with ``mail.accountmanager.appendaccounts`` (the "pre-configured
  accounts" hook of ``nsMsgAccountManager::LoadAccounts``) instead of overwriting
  ``mail.accountmanager.accounts``: Thunderbird appends it to the accounts already there, once
  (duplicates are skipped), and writes the merged list to ``prefs.js``.
  ``mailnews.append_preconfig_accounts.version`` is pinned to 1 so the hook runs on a profile
  that used it before.
- Outgoing servers have no such hook in Thunderbird 153 (``OutgoingServerService`` reads only
  ``mail.smtpservers``), so ``user.js`` sets that list; README.txt and docs/thunderbird.md say
  how to keep an existing profile's servers in it (one line to edit).
- The default account and default SMTP server are left alone.
- No password: Thunderbird keeps saved passwords encrypted (NSS), so it asks at first use.

CalDAV/CardDAV: a ``calendar.registry.<id>.uri`` and an ``ldap_2.servers.<id>.carddav.url``
each name one collection. Without credentials the collections cannot be discovered, and the
provider's collection paths are not officially documented, so both are set to the provider's
DAV service URL from the provider file, and README.txt says plainly that the user still has to
pick the calendar and the address book (or that a provider file may point at a collection).
"""

from __future__ import annotations

import hashlib
from typing import Any

from mailsetup.account import Account
from mailsetup.model import OutputFile
from mailsetup.provider import Endpoint, Provider
from mailsetup.render import Rendered, RenderOptions
from mailsetup.render.templating import render_template

# Autoconfig socketType values and Thunderbird's nsMsgSocketType numbers, by provider security.
AUTOCONFIG_SOCKET = {"ssl": "SSL", "starttls": "STARTTLS", "none": "plain"}
TB_SOCKET = {"ssl": 3, "starttls": 2, "none": 0}
TB_AUTH_PASSWORD_CLEARTEXT = 3  # nsMsgAuthMethod.passwordCleartext

PrefValue = str | int | bool


def account_key(account: Account, provider: Provider) -> str:
    """``mailsetup_<12 hex>``: stable per (provider, address), never like Thunderbird's keys.

    No dot (a ``calendar.registry`` id must not contain one) and only ``[a-z0-9_]``, so it is
    safe inside every pref name.
    """
    digest = hashlib.sha256(f"{provider.id}\x1f{account.identity}".encode()).hexdigest()
    return f"mailsetup_{digest[:12]}"


def _endpoint(endpoint: Endpoint) -> dict[str, Any]:
    """An Endpoint as autoconfig fields; ``username`` keeps its placeholders (the spec's)."""
    return {
        "hostname": endpoint.host,
        "port": endpoint.port,
        "socket": AUTOCONFIG_SOCKET[endpoint.security],
        "username": endpoint.username,
    }


def autoconfig_context(
    account: Account, provider: Provider, options: RenderOptions
) -> dict[str, Any]:
    smtp = provider.smtp_on_port(options.smtp_port)
    others = [e for e in (provider.smtp, *provider.smtp_alternatives) if e.port != smtp.port]
    return {
        "provider": provider,
        "domain": account.domain,
        "imap": _endpoint(provider.imap),
        "smtps": [_endpoint(e) for e in (smtp, *others)],
        "carddav": provider.carddav.url if "carddav" in options.services else None,
        "caldav": provider.caldav.url if "caldav" in options.services else None,
        "sync_user": provider.dav_login(account),
    }


def user_prefs(
    account: Account, provider: Provider, options: RenderOptions
) -> list[tuple[str, list[tuple[str, PrefValue]]]]:
    """The prefs of ``user.js`` in sections ``(comment, [(name, value), ...])``.

    Exposed so tests compare the file Thunderbird reads with what was meant.
    """
    key = account_key(account, provider)
    sections: list[tuple[str, list[tuple[str, PrefValue]]]] = []
    if "mail" in options.services:
        imap = provider.imap
        smtp = provider.smtp_on_port(options.smtp_port)
        sections += [
            (
                "Add the account to the ones already in the profile (appended once).",
                [
                    ("mail.accountmanager.appendaccounts", key),
                    ("mailnews.append_preconfig_accounts.version", 1),
                    (f"mail.account.{key}.server", key),
                    (f"mail.account.{key}.identities", key),
                ],
            ),
            (
                "Incoming mail (IMAP).",
                [
                    (f"mail.server.{key}.type", "imap"),
                    (f"mail.server.{key}.name", account.email_display),
                    (f"mail.server.{key}.hostname", imap.host),
                    (f"mail.server.{key}.port", imap.port),
                    (f"mail.server.{key}.socketType", TB_SOCKET[imap.security]),
                    (f"mail.server.{key}.userName", imap.login(account)),
                    (f"mail.server.{key}.authMethod", TB_AUTH_PASSWORD_CLEARTEXT),
                    (f"mail.server.{key}.login_at_startup", True),
                ],
            ),
            (
                "Identity: the address and the name people see.",
                [
                    (f"mail.identity.{key}.useremail", account.email),
                    (f"mail.identity.{key}.fullName", account.display_name),
                    (f"mail.identity.{key}.smtpServer", key),
                    (f"mail.identity.{key}.valid", True),
                ],
            ),
            (
                "Outgoing mail (SMTP). Profile with accounts already? Put its list first:\n"
                'copy mail.smtpservers from prefs.js, e.g. "smtp1,' + key + '".',
                [
                    ("mail.smtpservers", key),
                    (f"mail.smtpserver.{key}.type", "smtp"),
                    (f"mail.smtpserver.{key}.description", provider.name),
                    (f"mail.smtpserver.{key}.hostname", smtp.host),
                    (f"mail.smtpserver.{key}.port", smtp.port),
                    (f"mail.smtpserver.{key}.try_ssl", TB_SOCKET[smtp.security]),
                    (f"mail.smtpserver.{key}.username", smtp.login(account)),
                    (f"mail.smtpserver.{key}.authMethod", TB_AUTH_PASSWORD_CLEARTEXT),
                ],
            ),
        ]
    if "carddav" in options.services:
        book: list[tuple[str, PrefValue]] = [
            (f"ldap_2.servers.{key}.description", f"{provider.name} ({account.email_display})"),
            (f"ldap_2.servers.{key}.dirType", 102),
            (f"ldap_2.servers.{key}.filename", f"{key}.sqlite"),
            (f"ldap_2.servers.{key}.carddav.url", provider.carddav.url + "/"),
        ]
        dav_login = provider.dav_login(account)
        if dav_login:
            book.append((f"ldap_2.servers.{key}.carddav.username", dav_login))
        sections.append(("Address book (CardDAV, dirType 102).", book))
    if "caldav" in options.services:
        cal: list[tuple[str, PrefValue]] = [
            (f"calendar.registry.{key}.type", "caldav"),
            (f"calendar.registry.{key}.name", f"{provider.name} ({account.email_display})"),
            (f"calendar.registry.{key}.uri", provider.caldav.url + "/"),
            (f"calendar.registry.{key}.cache.enabled", True),
        ]
        dav_login = provider.dav_login(account)
        if dav_login:
            cal.append((f"calendar.registry.{key}.username", dav_login))
        sections.append(("Calendar (CalDAV).", cal))
    return sections


def render(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    key = account_key(account, provider)
    ctx = {
        "account": account,
        "provider": provider,
        "key": key,
        "services": options.services,
        "sync_user": provider.dav_login(account),
        "dav_url": {
            kind: svc.url
            for kind, svc in (
                ("caldav", provider.caldav_service),
                ("carddav", provider.carddav_service),
            )
            if svc is not None
        },
        "autoconfig": "mail" in provider.services,
    }
    files = []
    if "mail" in provider.services:
        # Thunderbird rejects an emailProvider without servers: a DAV-only provider has none.
        files.append(
            OutputFile(
                "config-v1.1.xml",
                render_template(
                    "thunderbird/config-v1.1.xml.j2",
                    **autoconfig_context(account, provider, options),
                ),
            )
        )
    files += [
        OutputFile(
            "user.js",
            render_template(
                "thunderbird/user.js.j2",
                sections=user_prefs(account, provider, options),
                **ctx,
            ),
        ),
        OutputFile("README.txt", render_template("thunderbird/README.txt.j2", **ctx)),
    ]
    instructions = [
        "Thunderbird: copy user.js into a profile folder while Thunderbird is closed, then start"
        " it (see README.txt).",
    ]
    if options.services & {"caldav", "carddav"}:
        instructions.append(
            "The calendar and address book point at the provider's sync server: pick your own"
            " calendar and address book as README.txt explains."
        )
    return Rendered(
        files=files,
        instructions=instructions,
        warnings=provider.missing_sync_user(account, options.services),
    )
