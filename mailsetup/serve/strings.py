"""Every sentence the onboarding page and the HTTP error bodies show, in one place.

English first; French and German are added as further dictionaries with the same keys (a test
checks that every language has every key). Templates read them as ``t.<key>``; nothing a person
reads is written inside a template or the application code.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

EN: Final = MappingProxyType(
    {
        "lang": "en",
        "title": "Set up your mailbox",
        "intro": "Type your address and choose your device. You get a file or a link that sets "
        "up mail, calendars and contacts. No password is asked here: your device asks for it "
        "while installing.",
        "email_label": "Email address",
        "email_help": "For example jane.doe@{domain}.",
        "name_label": "Your name (optional)",
        "name_help": "Shown as the sender of your messages.",
        "sync_label": "Sync username (optional)",
        "sync_help": "The calendar and contacts username, if it is not your address.",
        "sync_help_example": "The calendar and contacts username, such as {example}.",
        "device_legend": "Your device",
        "device_apple": "iPhone, iPad or Mac",
        "device_android": "Android (DAVx5 for calendars and contacts)",
        "device_thunderbird": "Thunderbird",
        "device_emclient": "eM Client",
        "action_download": "Get it on this device",
        "action_qr": "Show a QR code for my phone",
        "csrf_error": "The form has expired. Reload the page and send it again.",
        "rate_error": "Too many requests from your network. Wait a minute and try again.",
        "not_served": "This server sets up addresses at {domains} only.",
        "error_prefix": "Please correct:",
        "qr_title": "Scan this code with your phone",
        "qr_text": "Open your phone's camera and point it at the code. The link works once and "
        "expires in {minutes} minutes.",
        "qr_alt": "QR code of a one-time link to your settings",
        "qr_link_label": "The same link as text:",
        "android_title": "Set up calendars and contacts in DAVx5",
        "android_text": "With DAVx5 installed, open each link on the phone; DAVx5 opens its "
        "login screen filled in. Enter your password there.",
        "android_mail": "For mail, type your address into your mail app: it finds the "
        "settings by itself.",
        "caldav_link": "Calendars (CalDAV)",
        "carddav_link": "Contacts (CardDAV)",
        "back": "Back to the form",
        "link_gone": "This link was already used or has expired. Make a new one on the set-up "
        "page.",
        "not_found": "Not found.",
        "bad_address": "The email address is missing or not valid.",
        "bad_form": "The form could not be read.",
        "bad_xml": "The Autodiscover request could not be read: {reason}.",
        "too_large": "The request is too large.",
        "too_long": "The request address is too long.",
        "unsupported_type": "Send the form as application/x-www-form-urlencoded.",
        "wrong_schema": "Only the Outlook response schema is served here.",
        "healthy": "ok",
        "unhealthy": "the database does not answer",
    }
)

LANGUAGES: Final = {"en": EN}


def strings(lang: str = "en") -> MappingProxyType[str, str]:
    return LANGUAGES.get(lang, EN)
