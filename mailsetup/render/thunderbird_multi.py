"""One Thunderbird ``user.js`` with several mailboxes: every account and identity at once.

Built from :func:`mailsetup.render.thunderbird.user_prefs`, the single-mailbox prefs, so both
follow the same rules (keys ``mailsetup_<hash>`` per address, no password, the pre-configured
accounts hook). What differs is only what is one per profile:

- ``mail.accountmanager.appendaccounts`` lists every account key, comma-separated (the hook
  reads a list), and ``mail.smtpservers`` every outgoing server key; each identity keeps its
  own SMTP server.
- CalDAV and CardDAV once per distinct sync user, as in the combined Apple profile
  (:mod:`mailsetup.render.apple_multi`); a mailbox without a sync user stands for itself.

Files: ``user.js`` and ``README.txt``. No ``config-v1.1.xml``: it describes a domain for its
owner, not a person's set of mailboxes (``--client thunderbird`` with one address writes it).
"""

from __future__ import annotations

from mailsetup.account import Account
from mailsetup.model import OutputFile
from mailsetup.provider import Provider
from mailsetup.render import Rendered, RenderOptions
from mailsetup.render.apple_multi import check_accounts, dav_group
from mailsetup.render.templating import render_template
from mailsetup.render.thunderbird import PrefValue, account_key, user_prefs

# Prefs that exist once per profile: user_prefs writes them for one account.
_PER_PROFILE = (
    "mail.accountmanager.appendaccounts",
    "mailnews.append_preconfig_accounts.version",
    "mail.smtpservers",
)
Sections = list[tuple[str, list[tuple[str, PrefValue]]]]


def multi_prefs(
    accounts: list[Account], provider: Provider, options: RenderOptions
) -> tuple[Sections, list[tuple[str, str]]]:
    """The sections of the combined ``user.js``, and ``(sync user, key)`` of each DAV set."""
    check_accounts(accounts)
    keys = [account_key(a, provider) for a in accounts]
    mail = "mail" in options.services
    sections: Sections = []
    if mail:
        sections.append(
            (
                "Add the accounts to the ones already in the profile (appended once), and their\n"
                "outgoing servers. Profile with accounts already? Put its mail.smtpservers\n"
                'first, e.g. "smtp1,' + ",".join(keys) + '".',
                [
                    ("mail.accountmanager.appendaccounts", ",".join(keys)),
                    ("mailnews.append_preconfig_accounts.version", 1),
                    ("mail.smtpservers", ",".join(keys)),
                ],
            )
        )
    dav_seen: set[str] = set()
    dav_keys: list[tuple[str, str]] = []
    dav = options.services & {"caldav", "carddav"}
    for account, key in zip(accounts, keys, strict=True):
        group = dav_group(account)
        services = options.services - dav
        if dav and group not in dav_seen:
            dav_seen.add(group)
            dav_keys.append((account.sync_user or account.email_display, key))
            services = options.services
        if not services:
            continue
        own = RenderOptions(services=frozenset(services), smtp_port=options.smtp_port)
        for comment, prefs in user_prefs(account, provider, own):
            kept = [(name, value) for name, value in prefs if name not in _PER_PROFILE]
            if kept:
                # The first sentence: the rest of the single-account comments is about the
                # per-profile prefs handled above.
                first = comment.splitlines()[0].split(". ")[0].rstrip(".")
                sections.append((f"{account.email_display}: {first}.", kept))
    return sections, dav_keys


def render_multi(accounts: list[Account], provider: Provider, options: RenderOptions) -> Rendered:
    provider.require(options.services)
    sections, dav_keys = multi_prefs(accounts, provider, options)
    keys = [account_key(a, provider) for a in accounts]
    dav_urls = []
    if "caldav" in options.services:
        dav_urls.append(provider.caldav.url + "/")
    if "carddav" in options.services:
        dav_urls.append(provider.carddav.url + "/")
    ctx = {
        "accounts": accounts,
        "provider": provider,
        "keys": keys,
        "dav_keys": dav_keys,
        "dav_urls": list(dict.fromkeys(dav_urls)),
        "services": options.services,
    }
    files = [
        OutputFile(
            "user.js",
            render_template("thunderbird/user-multi.js.j2", sections=sections, **ctx),
        ),
        OutputFile("README.txt", render_template("thunderbird/README-multi.txt.j2", **ctx)),
    ]
    warnings = [w for a in accounts for w in provider.missing_sync_user(a, options.services)]
    return Rendered(
        files=files,
        warnings=list(dict.fromkeys(warnings)),
        instructions=[
            "Thunderbird: copy user.js into a profile folder while Thunderbird is closed, then"
            " start it (see README.txt).",
        ],
    )
