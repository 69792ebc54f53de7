"""Passwords for ``check --csv --login``: one per address, never on the command line.

Two sources, in this order, per row:

1. ``MAILSETUP_PASSWORD_FILE``: the path of a file of ``email<TAB>password`` lines (and
   ``sync:<id><TAB>password`` lines for sync passwords, the keyring's naming), blank lines
   and lines starting with ``#`` ignored. The file must be private: a regular file owned by
   the user running mailsetup that neither group nor others may read or write (``chmod 600``),
   as ssh refuses a readable private key; anything else is refused (exit 5) before a
   connection is made. A faulty line is named by its number, never by its content.
2. The keyring entry of the address (``mailsetup password set --email ...``), and
   ``sync:<id>`` for the sync password.

``MAILSETUP_PASSWORD`` is not used with ``--csv`` (one password for every mailbox is almost
never right), and there is no prompt (a team has too many).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mailsetup.errors import SecretError

ENV_FILE = "MAILSETUP_PASSWORD_FILE"
MAX_FILE_BYTES = 1 << 20


def _read_private(path: Path) -> str:
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except FileNotFoundError:
        raise SecretError(f"{ENV_FILE}: {str(path)!r} does not exist") from None
    except OSError as exc:
        raise SecretError(
            f"{ENV_FILE}: cannot open {str(path)!r}: {exc.strerror}",
            "give a regular file, not a symbolic link",
        ) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise SecretError(f"{ENV_FILE}: {str(path)!r} is not a regular file")
        if st.st_mode & 0o077:
            raise SecretError(
                f"{ENV_FILE}: {str(path)!r} can be read or changed by others "
                f"(mode {stat.S_IMODE(st.st_mode):04o})",
                f"chmod 600 {path}",
            )
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise SecretError(f"{ENV_FILE}: {str(path)!r} belongs to another user")
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SecretError(f"{ENV_FILE}: {str(path)!r} is larger than 1 MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SecretError(f"{ENV_FILE}: {str(path)!r} is not UTF-8 text") from None


def parse_password_file(text: str) -> dict[str, str]:
    """``{address or sync:<id> (case-folded): password}``; faults name the line only."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        who, sep, password = line.partition("\t")
        if not sep or not who.strip() or not password:
            raise SecretError(
                f"{ENV_FILE}: line {number} is not 'email<TAB>password'",
                "one address, one tab, the password",
            )
        entries[who.strip().casefold()] = password
    return entries


class Passwords:
    """Where each row's passwords come from; :meth:`mail` and :meth:`sync` return ``None``
    when there is none (the row then says so)."""

    def __init__(self, entries: dict[str, str] | None = None, use_keyring: bool = True) -> None:
        self.entries = entries or {}
        self.use_keyring = use_keyring

    @classmethod
    def from_environment(cls) -> Passwords:
        path = os.environ.get(ENV_FILE)
        if not path:
            return cls()
        return cls(parse_password_file(_read_private(Path(path))))

    def _lookup(self, key: str, keyring_name: str) -> str | None:
        value = self.entries.get(key.casefold())
        if value:
            return value
        if not self.use_keyring:
            return None
        from mailsetup.secret_store import from_keyring

        return from_keyring(keyring_name)

    def mail(self, email: str) -> str | None:
        from mailsetup.model import keyring_user

        return self._lookup(email, keyring_user(email))

    def sync(self, sync_user: str | None) -> str | None:
        if not sync_user:
            return None
        from mailsetup.model import keyring_user

        return self._lookup(f"sync:{sync_user}", keyring_user("", sync_user))
