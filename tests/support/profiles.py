"""Configuration profiles shaped like those other generators serve, built here from the shapes
their projects document and their users posted (no code of theirs is used).

- automx2: one mail payload per request, a profile identifier derived from the domain only, so
  every account of the domain gets the same identifier; PayloadUUIDs random per request.
- mailcow (``mobileconfig.php``): mail + CalDAV + CardDAV; identifier = reversed domain plus a
  fixed suffix; DAV principal URLs pinned to SOGo paths; a 2018-2019 release wrote empty
  ``<real></real>`` ports, which made the profile uninstallable.
- Mail-in-a-Box (``setup/mobileconfig.sh``): one static profile for the whole box, written at
  setup time, no address or username (the device asks), identifier = the box's host name.
"""

from __future__ import annotations

import plistlib
from typing import Any

V4 = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"  # version nibble 4: what uuidgen makes


def _uuid(n: int) -> str:
    return f"6B29FC40-CA47-4{n:03d}-B31D-00DD010662DA"


def automx2_shape() -> dict[str, Any]:
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": "ch.example.automx2",
        "PayloadUUID": _uuid(1),
        "PayloadDisplayName": "Mail account example.ch",
        "PayloadContent": [
            {
                "PayloadType": "com.apple.mail.managed",
                "PayloadVersion": 1,
                "PayloadIdentifier": "ch.example.automx2.com.apple.mail.managed",
                "PayloadUUID": _uuid(2),
                "EmailAccountType": "EmailTypeIMAP",
                "EmailAddress": "jane@example.ch",
                "IncomingMailServerHostName": "imap.example.ch",
                "IncomingMailServerPortNumber": 993,
                "IncomingMailServerUseSSL": True,
                "IncomingMailServerAuthentication": "EmailAuthPassword",
                "IncomingMailServerUsername": "jane@example.ch",
                "OutgoingMailServerHostName": "smtp.example.ch",
                "OutgoingMailServerPortNumber": 587,
                "OutgoingMailServerUseSSL": True,
                "OutgoingMailServerAuthentication": "EmailAuthPassword",
                "OutgoingMailServerUsername": "jane@example.ch",
            }
        ],
    }


def _dav(kind: str, n: int, **extra: Any) -> dict[str, Any]:
    folder = "Calendar" if kind == "CalDAV" else "Contacts"
    payload = {
        "PayloadType": f"com.apple.{kind.lower()}.account",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"email.plein.iphoneprofile.mailcow.{kind}",
        "PayloadUUID": _uuid(n),
        f"{kind}AccountDescription": "plein.email",
        f"{kind}HostName": "mail.plein.email",
        f"{kind}Port": 443,
        f"{kind}PrincipalURL": f"/SOGo/dav/test@plein.email/{folder}",
        f"{kind}UseSSL": True,
        f"{kind}Username": "test@plein.email",
    }
    payload.update(extra)
    return payload


def mailcow_shape() -> dict[str, Any]:
    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": "email.plein.iphoneprofile.mailcow",
        "PayloadUUID": _uuid(10),
        "PayloadDisplayName": "plein.email",
        "PayloadContent": [
            _dav("CalDAV", 11),
            {
                "PayloadType": "com.apple.mail.managed",
                "PayloadVersion": 1,
                "PayloadIdentifier": "email.plein.iphoneprofile.mailcow.email",
                "PayloadUUID": _uuid(12),
                "EmailAccountType": "EmailTypeIMAP",
                "EmailAccountName": "test mailbox",
                "EmailAddress": "test@plein.email",
                "IncomingMailServerHostName": "mail.plein.email",
                "IncomingMailServerPortNumber": 993,
                "IncomingMailServerUseSSL": True,
                "IncomingMailServerAuthentication": "EmailAuthPassword",
                "IncomingMailServerUsername": "test@plein.email",
                "OutgoingMailServerHostName": "mail.plein.email",
                "OutgoingMailServerPortNumber": 587,
                "OutgoingMailServerUseSSL": True,
                "OutgoingMailServerAuthentication": "EmailAuthPassword",
                "OutgoingMailServerUsername": "test@plein.email",
                "OutgoingPasswordSameAsIncomingPassword": True,
            },
            _dav("CardDAV", 13),
        ],
    }


def mailcow_empty_port_xml() -> bytes:
    """The broken release: ``<real></real>`` where the CalDAV port belongs."""
    data = plistlib.dumps(mailcow_shape())
    return data.replace(b"<integer>443</integer>", b"<real></real>", 1)


def mailinabox_shape() -> dict[str, Any]:
    def dav(kind: str, n: int) -> dict[str, Any]:
        return {
            "PayloadType": f"com.apple.{kind.lower()}.account",
            "PayloadVersion": 1,
            "PayloadIdentifier": f"box.example.ch.mailinabox.{kind.lower()}",
            "PayloadUUID": _uuid(n),
            f"{kind}AccountDescription": f"{kind} box.example.ch",
            f"{kind}HostName": "box.example.ch",
            f"{kind}Port": 443,
            f"{kind}PrincipalURL": "/cloud/remote.php/dav",
            f"{kind}UseSSL": True,
        }

    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": "box.example.ch.mailinabox",
        "PayloadUUID": _uuid(20),
        "PayloadDisplayName": "box.example.ch",
        "PayloadContent": [
            {
                "PayloadType": "com.apple.mail.managed",
                "PayloadVersion": 1,
                "PayloadIdentifier": "box.example.ch.mailinabox.email",
                "PayloadUUID": _uuid(21),
                "EmailAccountType": "EmailTypeIMAP",
                "EmailAccountDescription": "box.example.ch",
                "IncomingMailServerHostName": "box.example.ch",
                "IncomingMailServerPortNumber": 993,
                "IncomingMailServerUseSSL": True,
                "IncomingMailServerAuthentication": "EmailAuthPassword",
                "OutgoingMailServerHostName": "box.example.ch",
                "OutgoingMailServerPortNumber": 587,
                "OutgoingMailServerUseSSL": True,
                "OutgoingMailServerAuthentication": "EmailAuthPassword",
            },
            dav("CalDAV", 22),
            dav("CardDAV", 23),
        ],
    }
