"""The account model: a validated address, a display name and an optional sync username.

Address syntax and internationalised domains are handled by ``email-validator`` (RFC 5321/5322
syntax, IDNA 2008 via the ``idna`` package) instead of a home-made pattern: it knows the length
limits, quoting and the IDNA rules we would otherwise get wrong.

Choice for internationalised addresses (documented in docs/apple.md): the domain is kept in
Unicode for what people read (descriptions) and converted to its ASCII form (``xn--...``,
RFC 5891) for every machine field: login names, EmailAddress, file names. IMAP LOGIN and SMTP
AUTH only carry non-ASCII with optional extensions (RFC 6855, RFC 6531) that clients and servers
may lack, so the ASCII form is the one that always works. A non-ASCII *local part* needs SMTPUTF8
end to end and is refused with a clear error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailsetup.errors import BadInput

if TYPE_CHECKING:
    from email_validator import ValidatedEmail

# Sync usernames are short ids; allow what a DAV login name can reasonably be
# without quoting in URLs and config files.
_SYNC_USER = re.compile(r"^[A-Za-z0-9._@+-]{1,128}$")
_MAX_NAME = 200


@dataclass(frozen=True)
class Account:
    """Everything about the person that a renderer needs; no secrets here."""

    email: str  # ASCII form, domain lower-case: used in every machine field
    email_display: str  # Unicode form for people
    display_name: str
    sync_user: str | None = None
    # The name as given with --name, or None: Apple's EmailAccountName is then left out so the
    # device asks, instead of sending mail as "jane.doe".
    name: str | None = None

    @property
    def identity(self) -> str:
        """The form every derived identifier is made from: the whole address lower-cased.

        The address itself keeps its local part as typed (RFC 5321 §2.4 lets a server treat
        the local part case-sensitively, so logins are not altered), but ``JANE.Doe@EXAMPLE.CH``
        and ``jane.doe@example.ch`` name one mailbox at every provider we know of, and a
        re-import must replace the profile, not add a second account (docs/apple.md).
        """
        return self.email.lower()

    @property
    def local_part(self) -> str:
        return self.email.rsplit("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1]


# RFC 5321 §4.5.3.1.3 as email-validator applies it: every form of the address, in octets.
_MAX_ADDRESS = 254
# A short domain email-validator accepts, to check a local part on its own (see KnownDomains).
_STAND_IN = "a.ch"
# Quoting, escapes and "Name <address>": the cases where the address is not simply split at
# its one @; left to the full check.
_NOT_PLAIN = re.compile(r'["<>\\]')


def _validate(text: str) -> ValidatedEmail:
    """email-validator's verdict on ``text`` with our options (raises ``EmailNotValidError``)."""
    from email_validator import validate_email

    return validate_email(
        text,
        check_deliverability=False,
        allow_smtputf8=False,
        allow_quoted_local=False,
        allow_domain_literal=False,
        # strict: also the 64-octet limit of the local part (RFC 5321 §4.5.3.1.1), which
        # email-validator checks only when asked; the 254-octet total it always checks.
        strict=True,
    )


class KnownDomains:
    """Domains already checked during one run over many addresses (``--csv``).

    email-validator checks the domain of every address it is given, and for a team's CSV
    that is the same domain row after row: more than half of the time of a row's check
    (IDNA and Unicode rules per character). With this, the domain is checked once per run
    (``a@domain``) and each row's local part is checked alone (``local@a.ch``); both are
    email-validator's own public check, and the address is accepted only if both pass and
    every form of the whole address fits in 254 octets. email-validator checks the local
    part and the domain independently, then the lengths, so this accepts exactly what it
    would; anything else (a failure, quoting, a display name, two @) goes to the full check,
    which gives the reason. tests/test_account.py compares the two on random input.

    Bounded (:data:`LIMIT` domains), so memory stays flat however many domains a file has.
    One object per run: email-validator's settings cannot change under it.
    """

    LIMIT = 1024

    def __init__(self) -> None:
        self._forms: dict[str, tuple[str, str] | None] = {}

    def forms(self, domain: str) -> tuple[str, str] | None:
        """``(unicode, ascii)`` forms of ``domain`` if email-validator accepts it, else ``None``."""
        try:
            return self._forms[domain]
        except KeyError:
            pass
        from email_validator import EmailNotValidError

        try:
            info = _validate(f"a@{domain}")
            found: tuple[str, str] | None = (info.domain, info.ascii_domain)
        except EmailNotValidError:
            found = None
        if len(self._forms) < self.LIMIT:
            self._forms[domain] = found
        return found

    def normalize(self, text: str) -> tuple[str, str] | None:
        """What :func:`normalize_email` returns for the stripped ``text``, when the domain is
        known and the address valid; ``None`` when only the full check can tell."""
        local, at, domain = text.partition("@")
        if not at or "@" in domain or _NOT_PLAIN.search(text):
            return None
        forms = self.forms(domain)
        if forms is None:
            return None
        from email_validator import EmailNotValidError

        try:
            info = _validate(f"{local}@{_STAND_IN}")
        except EmailNotValidError:
            return None
        if info.ascii_local_part is None:
            return None
        unicode_domain, ascii_domain = forms
        normalized = f"{info.local_part}@{unicode_domain}"
        ascii_email = f"{info.ascii_local_part}@{ascii_domain.lower()}"
        if any(len(form.encode()) > _MAX_ADDRESS for form in (text, normalized, ascii_email)):
            return None
        return ascii_email, normalized


def normalize_email(raw: str, known: KnownDomains | None = None) -> tuple[str, str]:
    """Return ``(ascii_form, unicode_form)`` of ``raw`` or raise :class:`BadInput`.

    ``known``: the domains checked so far in a run over many addresses (:class:`KnownDomains`).
    """
    from email_validator import EmailNotValidError

    text = raw.strip()
    if known is not None and (found := known.normalize(text)) is not None:
        return found
    shown = text if len(text) <= 60 else text[:57] + "..."
    if not text:
        raise BadInput("the email address is empty", "pass --email you@example.ch")
    try:
        info = _validate(text)
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        if "SMTPUTF8" in reason or "internationalized" in reason.lower():
            raise BadInput(
                f"{shown!r} has non-ASCII characters before the @",
                "such addresses need SMTPUTF8 end to end; use the ASCII address of the mailbox",
            ) from None
        raise BadInput(f"{shown!r} is not a valid email address: {reason}") from None
    ascii_email = info.ascii_email or info.normalized
    local, _, domain = ascii_email.rpartition("@")
    return f"{local}@{domain.lower()}", info.normalized


def normalize_display_name(raw: str | None, fallback: str) -> str:
    """Clean a display name: NFC, whitespace runs (tabs, newlines) folded to one space.

    Newlines are folded rather than kept because the name ends up in a From: header, where a
    line break would be header injection; other control characters cannot be represented in
    XML 1.0 or a mail header at all, so they are refused.
    """
    if raw is None or not raw.strip():
        return fallback
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput("the display name is not valid Unicode text") from None
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    bad = [c for c in name if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn")]
    if bad:
        raise BadInput(
            f"the display name contains a control or unassigned character {bad[0]!r}",
            "use printable characters only",
        )
    if len(name) > _MAX_NAME:
        raise BadInput(f"the display name is longer than {_MAX_NAME} characters")
    return name


def normalize_sync_user(raw: str | None) -> str | None:
    """Validate the CalDAV/CardDAV username; ``None`` lets the device ask."""
    if raw is None or not raw.strip():
        return None
    user = raw.strip()
    if not _SYNC_USER.match(user):
        raise BadInput(
            f"{user!r} is not a valid sync username",
            "use the CalDAV/CardDAV login your provider shows (letters, digits, . _ @ + -)",
        )
    return user


def make_account(
    email: str,
    name: str | None = None,
    sync_user: str | None = None,
    known: KnownDomains | None = None,
) -> Account:
    """Build an :class:`Account` from user input, raising :class:`BadInput` on any problem.

    ``known``: shared by the rows of one ``--csv`` run (:class:`KnownDomains`)."""
    ascii_email, unicode_email = normalize_email(email, known)
    given = normalize_display_name(name, fallback="")
    return Account(
        email=ascii_email,
        email_display=unicode_email,
        display_name=given or unicode_email.split("@")[0],
        sync_user=normalize_sync_user(sync_user),
        name=given or None,
    )
