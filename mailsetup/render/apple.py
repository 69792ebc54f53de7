"""Apple configuration profile (``.mobileconfig``) for macOS and iOS.

Payloads (Apple device-management schemas, ``mdm/profiles``): ``com.apple.mail.managed`` for
IMAP + SMTP, ``com.apple.caldav.account`` and ``com.apple.carddav.account`` for sync. Keys and
allowed values are checked against Apple's own YAML in the tests, not restated here.

Choices:
- No password by default: without ``IncomingPassword`` the device asks for it while installing
  the profile, as the provider's own profile does; ``OutgoingPasswordSameAsIncomingPassword``
  makes it ask once for both servers.
- ``OutgoingMailServerUseSSL`` true on a STARTTLS port (587) means STARTTLS for Apple Mail.
- PayloadUUIDs are uuid5 over (provider, address, payload type) and PayloadIdentifiers a stable
  reverse-DNS name, so installing a newer profile for the same address replaces the old one.
"""

from __future__ import annotations

import plistlib
from typing import Any

from mailsetup.account import Account
from mailsetup.errors import BadInput
from mailsetup.model import OutputFile
from mailsetup.provider import DavService, Provider
from mailsetup.render import Rendered, RenderOptions, stable_uuid

# --embed-password puts the mail password in the profile (IncomingPassword; SMTP reuses it).
EMBED_FLAG_USE = "embed"


def _common(account: Account, provider: Provider, payload_type: str, name: str) -> dict[str, Any]:
    uid = stable_uuid(provider.id, account.email, payload_type)
    return {
        "PayloadType": payload_type,
        "PayloadVersion": 1,
        "PayloadUUID": uid,
        "PayloadIdentifier": f"{_profile_identifier(account, provider)}.{payload_type}",
        "PayloadDisplayName": name,
    }


def _profile_identifier(account: Account, provider: Provider) -> str:
    # Addresses may hold characters that reverse-DNS names do not; a derived UUID keeps the
    # identifier stable and valid for any address.
    return f"{provider.identifier_prefix}.{stable_uuid(provider.id, account.email).lower()}"


def mail_payload(account: Account, provider: Provider, options: RenderOptions) -> dict[str, Any]:
    smtp = provider.smtp_on_port(options.smtp_port)
    imap = provider.imap
    payload = _common(
        account, provider, "com.apple.mail.managed", f"Mail ({account.email_display})"
    )
    payload.update(
        {
            "EmailAccountType": "EmailTypeIMAP",
            "EmailAccountDescription": f"{provider.name} ({account.email_display})",
            "EmailAccountName": account.display_name,
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
    if options.password is not None:
        # A plist is XML 1.0: no C0 control character but tab, LF, CR (XML 1.0 §2.2).
        if any(ord(c) < 0x20 and c not in "\t\n\r" for c in options.password):
            raise BadInput(
                "the password holds a control character, which a profile cannot carry",
                "leave out --embed-password; the device then asks for the password",
            )
        payload["IncomingPassword"] = options.password
    return payload


def _dav_payload(
    account: Account, provider: Provider, service: DavService, kind: str
) -> dict[str, Any]:
    """CalDAV (``kind="CalDAV"``) or CardDAV (``"CardDAV"``) account payload."""
    payload_type = f"com.apple.{kind.lower()}.account"
    label = "Calendars" if kind == "CalDAV" else "Contacts"
    payload = _common(account, provider, payload_type, f"{label} ({account.email_display})")
    payload.update(
        {
            f"{kind}AccountDescription": f"{provider.name} {label}",
            f"{kind}HostName": service.host,
            f"{kind}Port": service.port,
            f"{kind}UseSSL": service.use_ssl,
        }
    )
    if account.sync_user:
        payload[f"{kind}Username"] = account.sync_user
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
        content.append(_dav_payload(account, provider, provider.caldav, "CalDAV"))
    if "carddav" in options.services:
        content.append(_dav_payload(account, provider, provider.carddav, "CardDAV"))
    what = ", ".join(s for s in ("mail", "caldav", "carddav") if s in options.services)
    asks = (
        ""
        if options.password is not None
        else " The device asks for the password while installing."
    )
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadUUID": stable_uuid(provider.id, account.email, "Configuration"),
        "PayloadIdentifier": _profile_identifier(account, provider),
        "PayloadDisplayName": f"{provider.name}: {account.email_display}",
        "PayloadDescription": f"Sets up {what} for {account.email_display}.{asks}",
        "PayloadOrganization": provider.name,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": content,
    }


def render(account: Account, provider: Provider, options: RenderOptions) -> Rendered:
    data = plistlib.dumps(build_profile(account, provider, options), sort_keys=True)
    return Rendered(
        files=[
            OutputFile(f"{account.email}.mobileconfig", data, secret=options.password is not None)
        ],
        instructions=[
            "macOS: open the file, then System Settings → General → Device Management → Install.",
            "iOS/iPadOS: AirDrop or mail it to the device, then Settings → Profile Downloaded"
            " → Install.",
        ],
    )
