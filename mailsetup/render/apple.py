"""Apple configuration profile (``.mobileconfig``) for macOS and iOS.

Payloads (Apple device-management schemas, ``mdm/profiles``): ``com.apple.mail.managed`` for
IMAP + SMTP, ``com.apple.caldav.account`` and ``com.apple.carddav.account`` for sync. Keys and
allowed values are checked against Apple's own YAML in the tests, not restated here.

Choices:
- No password by default: without ``IncomingPassword`` the device asks for it while installing
  the profile; ``OutgoingPasswordSameAsIncomingPassword`` makes it ask once for both servers.
  With ``--embed-password`` both ``IncomingPassword`` and ``OutgoingPassword`` are written:
  Apple's schema says the "same as incoming" flag is honoured only by interactive installs,
  so an MDM install would otherwise have no SMTP password.
- ``EmailAccountName`` (the sender name) only when ``--name`` was given: without it the device
  asks, rather than sending as the local part of the address.
- ``OutgoingMailServerUseSSL`` true on a STARTTLS port (587) means STARTTLS for Apple Mail.
- PayloadUUIDs are uuid5 over (provider, address, payload type) and PayloadIdentifiers a stable
  reverse-DNS name, so installing a newer profile for the same address replaces the old one.
  The address is taken in one normalised form (:attr:`Account.identity`, lower-cased), so the
  same mailbox typed in other letter case still replaces the profile.
- One identifier per (address, set of services): the full set keeps the plain identifier;
  a subset (``--services mail``, the DAV-only profile of ``--client dav``) adds the set as a
  suffix, so installing one subset never silently removes a profile with another
  (docs/apple.md, "Which profile replaces which").
"""

from __future__ import annotations

import plistlib
import re
from typing import Any

from mailsetup.account import Account
from mailsetup.errors import BadInput, ProviderError
from mailsetup.model import OutputFile
from mailsetup.provider import DavService, Provider
from mailsetup.render import SERVICES, Rendered, RenderOptions, stable_uuid

# Noncharacters XML 1.0 (section 2.2) excludes and plistlib does not check for.
_NOT_XML = re.compile("[\ufffe\uffff]")
# The same two in a profile's UTF-8 bytes: searched without decoding (a tenth of the time of
# decoding 4 KB and searching the text, per row of ``--csv``). 0xEF only ever starts a
# character in UTF-8, so a match is always one of the two, never the middle of another.
_NOT_XML_UTF8 = re.compile(b"\xef\xbf[\xbe\xbf]")


def service_set(options: RenderOptions) -> tuple[str, ...]:
    """The services of this profile when they are a subset, else ``()`` (the full set)."""
    chosen = tuple(s for s in SERVICES if s in options.services)
    return () if chosen == SERVICES else chosen


def _common(
    account: Account, provider: Provider, options: RenderOptions, payload_type: str, name: str
) -> dict[str, Any]:
    uid = stable_uuid(provider.id, account.identity, *service_set(options), payload_type)
    return {
        "PayloadType": payload_type,
        "PayloadVersion": 1,
        "PayloadUUID": uid,
        "PayloadIdentifier": f"{_profile_identifier(account, provider, options)}.{payload_type}",
        "PayloadDisplayName": name,
    }


def _profile_identifier(account: Account, provider: Provider, options: RenderOptions) -> str:
    # Addresses may hold characters that reverse-DNS names do not; a derived UUID keeps the
    # identifier stable and valid for any address. A subset of services gets its own suffix.
    base = f"{provider.identifier_prefix}.{stable_uuid(provider.id, account.identity).lower()}"
    subset = service_set(options)
    return f"{base}.{'-'.join(subset)}" if subset else base


def mail_payload(account: Account, provider: Provider, options: RenderOptions) -> dict[str, Any]:
    smtp = provider.smtp_on_port(options.smtp_port)
    imap = provider.imap
    payload = _common(
        account, provider, options, "com.apple.mail.managed", f"Mail ({account.email_display})"
    )
    payload.update(
        {
            "EmailAccountType": "EmailTypeIMAP",
            "EmailAccountDescription": f"{provider.name} ({account.email_display})",
            "EmailAddress": account.email,
            "IncomingMailServerHostName": imap.host,
            "IncomingMailServerPortNumber": imap.port,
            "IncomingMailServerUseSSL": imap.security != "none",
            "IncomingMailServerAuthentication": "EmailAuthPassword",
            "IncomingMailServerUsername": imap.login(account),
            "OutgoingMailServerHostName": smtp.host,
            "OutgoingMailServerPortNumber": smtp.port,
            "OutgoingMailServerUseSSL": smtp.security != "none",
            "OutgoingMailServerAuthentication": "EmailAuthPassword",
            "OutgoingMailServerUsername": smtp.login(account),
            "OutgoingPasswordSameAsIncomingPassword": True,
        }
    )
    if account.name is not None:
        payload["EmailAccountName"] = account.name
    if options.password is not None:
        # A plist is XML 1.0: no C0 control character but tab, LF, CR, and no U+FFFE/U+FFFF
        # (XML 1.0 §2.2).
        if any(
            (ord(c) < 0x20 and c not in "\t\n\r") or _NOT_XML.match(c) for c in options.password
        ):
            raise BadInput(
                "the password holds a control character or a noncharacter (U+FFFE, U+FFFF),"
                " which a profile cannot carry",
                "leave out --embed-password; the device then asks for the password",
            )
        payload["IncomingPassword"] = options.password
        # Non-interactive installs (MDM) ignore OutgoingPasswordSameAsIncomingPassword.
        payload["OutgoingPassword"] = options.password
    return payload


def _dav_payload(
    account: Account, provider: Provider, options: RenderOptions, service: DavService, kind: str
) -> dict[str, Any]:
    """CalDAV (``kind="CalDAV"``) or CardDAV (``"CardDAV"``) account payload."""
    payload_type = f"com.apple.{kind.lower()}.account"
    label = "Calendars" if kind == "CalDAV" else "Contacts"
    payload = _common(
        account, provider, options, payload_type, f"{label} ({account.email_display})"
    )
    payload.update(
        {
            f"{kind}AccountDescription": f"{provider.name} {label}",
            f"{kind}HostName": service.host,
            f"{kind}Port": service.port,
            f"{kind}UseSSL": service.use_ssl,
        }
    )
    login = provider.dav_login(account)  # None: the device asks (one rule, see Provider)
    if login:
        payload[f"{kind}Username"] = login
    if service.path != "/":
        # A service below a path cannot be found by RFC 6764 discovery on the host alone.
        payload[f"{kind}PrincipalURL"] = service.url
    return payload


def build_profile(account: Account, provider: Provider, options: RenderOptions) -> dict[str, Any]:
    """The profile as a plist dictionary (exposed for tests and for other renderers)."""
    content: list[dict[str, Any]] = []
    if "mail" in options.services:
        content.append(mail_payload(account, provider, options))
    if "caldav" in options.services:
        content.append(_dav_payload(account, provider, options, provider.caldav, "CalDAV"))
    if "carddav" in options.services:
        content.append(_dav_payload(account, provider, options, provider.carddav, "CardDAV"))
    what = ", ".join(s for s in ("mail", "caldav", "carddav") if s in options.services)
    asks = (
        ""
        if options.password is not None
        else " The device asks for the password while installing."
    )
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadUUID": stable_uuid(
            provider.id, account.identity, *service_set(options), "Configuration"
        ),
        "PayloadIdentifier": _profile_identifier(account, provider, options),
        "PayloadDisplayName": f"{provider.name}: {account.email_display}",
        "PayloadDescription": f"Sets up {what} for {account.email_display}.{asks}",
        "PayloadOrganization": provider.name,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": content,
    }


INSTRUCTIONS = [
    "macOS: open the file, then System Settings → General → Device Management → Install.",
    "iOS/iPadOS: AirDrop or mail it to the device, then Settings → Profile Downloaded → Install.",
]


def profile_bytes(profile: dict[str, Any]) -> bytes:
    """The ``.mobileconfig`` bytes of ``profile``; a string XML 1.0 cannot hold is refused."""
    try:
        data = plistlib.dumps(profile, sort_keys=True)
    except ValueError as exc:  # a character a plist (XML 1.0) cannot hold; the loader refuses it
        raise ProviderError(f"cannot write the profile: {exc}") from None
    if _NOT_XML_UTF8.search(data):
        # plistlib refuses C0 controls but writes U+FFFE/U+FFFF, which XML 1.0 cannot hold:
        # the profile would not parse on any device.
        raise ProviderError("cannot write the profile: a string holds U+FFFE or U+FFFF")
    return data


def render(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    data = profile_bytes(build_profile(account, provider, options))
    return Rendered(
        warnings=provider.missing_sync_user(account, options.services),
        files=[
            OutputFile(f"{account.email}.mobileconfig", data, secret=options.password is not None)
        ],
        instructions=list(INSTRUCTIONS),
    )
