"""Who is who: addresses mapped to display names and sync usernames (``--users`` / ``--db``).

A CSV file (``email,name,sync_user``, header required) is read once at start, validated with
the same rules as ``mailsetup profile`` (so a bad row stops the start, naming its line, instead
of producing broken profiles later), kept in memory for the hot paths and copied into the
database's users table, so that other workers and machines sharing a PostgreSQL database see
the same directory without a copy of the file. Without a CSV file, the database's table is the
directory.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from mailsetup.account import make_account
from mailsetup.errors import BadInput, MailsetupError
from mailsetup.serve.store import Store, UserRow

MAX_USERS_FILE = 50 * 1024 * 1024


def read_users_csv(path: Path) -> dict[str, UserRow]:
    """The rows of ``path`` by normalised address; :class:`BadInput` names a bad line."""
    try:
        if path.stat().st_size > MAX_USERS_FILE:
            raise BadInput(f"--users {str(path)!r} is larger than 50 MB")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read --users {str(path)!r}: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "email" not in fields:
        raise BadInput(
            f"--users {str(path)!r} has no 'email' column",
            "the first line must be a header such as: email,name,sync_user",
        )
    rows: dict[str, UserRow] = {}
    for line_no, raw in enumerate(reader, start=2):
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(record.values()):
            continue
        try:
            account = make_account(
                record.get("email", ""), record.get("name") or None, record.get("sync_user")
            )
        except MailsetupError as err:
            raise BadInput(f"--users {str(path)!r} line {line_no}: {err}") from None
        rows[account.email] = UserRow(
            email=account.email,
            name=account.display_name if record.get("name") else None,
            sync_user=account.sync_user,
        )
    return rows


class Directory:
    """The directory in memory: a CSV file's rows, or a snapshot of the database's table.

    A snapshot rather than a query per request: a lookup is then a dictionary access on the
    event loop, and the database sees one ``SELECT`` per worker and ``refresh_after`` seconds
    instead of one per client. Changes made in the database (by another machine's ``--users``)
    are seen after at most that long; :meth:`stale` tells the app when to reload, which it
    does in a worker thread.
    """

    def __init__(
        self, store: Store, rows: dict[str, UserRow] | None, refresh_after: float = 60.0
    ) -> None:
        self._store = store
        self._fixed = rows is not None
        self._rows: dict[str, UserRow] = rows or {}
        self._loaded = 0.0
        self.refresh_after = refresh_after

    def stale(self) -> bool:
        return not self._fixed and time.monotonic() - self._loaded > self.refresh_after

    def refresh(self) -> None:
        if self.stale():
            # Stamped first: when the database is away, the next attempt waits its turn too.
            self._loaded = time.monotonic()
            self._rows = {row.email: row for row in self._store.all_users()}

    def lookup(self, email: str) -> UserRow | None:
        return self._rows.get(email)


def open_directory(store: Store, users_csv: Path | None) -> Directory:
    if users_csv is None:
        directory = Directory(store, None)
        directory.refresh()
        return directory
    rows = read_users_csv(users_csv)
    store.put_users(rows.values())
    return Directory(store, rows)
