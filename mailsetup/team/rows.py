"""From CSV rows to validated mailboxes: the same rules as ``--email``/``--name``, per row.

Every row is checked with the account model (:func:`mailsetup.account.make_account`) and the
client and service names the command line accepts; a row that fails becomes a
:class:`RowFailure` with its spreadsheet row number and the reason, and the run goes on with
the next row. Duplicates are found by the normalised address compared without regard to case
(``Jane@Example.ch`` and ``jane@example.ch`` are one mailbox at every provider we know, and
one file name on macOS and Windows): the first row wins, later ones are failures naming it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mailsetup.account import Account, KnownDomains, make_account
from mailsetup.clients import format_for
from mailsetup.errors import MailsetupError
from mailsetup.render import client_spec, parse_services
from mailsetup.team.csvfile import Row, read_rows
from mailsetup.untrusted import clean_text


@dataclass(frozen=True)
class Member:
    """A valid row: whose mailbox, and which client and services to write for it."""

    number: int
    account: Account
    client: str
    services: frozenset[str]


@dataclass(frozen=True)
class RowFailure:
    """A row that cannot be used, and why (one line, safe to print)."""

    number: int
    email: str
    reason: str


def _services(text: str | None, default: frozenset[str]) -> frozenset[str]:
    if text is None:
        return default
    # Inside a comma-separated file the list is quoted; accept the other separators people
    # type in a cell too ("mail; caldav", "mail+caldav", "mail caldav").
    for sep in ";+| ":
        text = text.replace(sep, ",")
    return parse_services(text)


def check_row(
    row: Row,
    default_client: str,
    default_services: frozenset[str],
    fmt: str | None = None,
    known: KnownDomains | None = None,
) -> Member:
    """The :class:`Member` for ``row``; raises :class:`MailsetupError` naming the problem.

    ``fmt`` (``--format``) applies to the rows whose client has formats (``dav``); ``known``
    holds the domains already checked in this file (:class:`KnownDomains`).
    """
    if row.problem:
        raise MailsetupError(row.problem)
    if not row.email:
        raise MailsetupError("the email field is empty")
    account = make_account(row.email, row.name, row.sync_user, known)
    client = row.client or default_client
    spec, _ = client_spec(client, format_for(client, fmt))
    return Member(row.number, account, spec.name, _services(row.services, default_services))


def name_key(text: str) -> int:
    """A compact key for ``text`` compared without case: 64 bits of BLAKE2b.

    Remembering every address (and every file name, :mod:`mailsetup.team.bulk`) is what lets a
    duplicate be found; as 8-byte digests instead of strings it costs about 70 bytes a row,
    the only memory that grows with the file. A false match needs a 64-bit collision.
    """
    return int.from_bytes(hashlib.blake2b(text.casefold().encode(), digest_size=8).digest())


def members(
    path: Path, default_client: str, default_services: frozenset[str], fmt: str | None = None
) -> Iterator[Member | RowFailure]:
    """Every row of ``path`` in order, validated; whole-file faults raise ``BadInput``."""
    seen: dict[int, int] = {}  # name_key(address) -> first row
    known = KnownDomains()
    for row in read_rows(path):
        try:
            member = check_row(row, default_client, default_services, fmt, known)
        except MailsetupError as err:
            yield RowFailure(row.number, clean_text(row.email, 80), clean_text(err.message, 300))
            continue
        key = name_key(member.account.identity)
        first = seen.get(key)
        if first is not None:
            shown = clean_text(row.email, 80)
            yield RowFailure(row.number, shown, f"duplicate address: already in row {first}")
            continue
        seen[key] = row.number
        yield member
