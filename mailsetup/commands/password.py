"""``mailsetup password set``: put a password in the system keyring."""

from __future__ import annotations

import sys

from mailsetup.account import make_account, normalize_sync_user
from mailsetup.errors import BadInput, SecretError
from mailsetup.secret_store import keyring_user, require_keyring, store_in_keyring, text_password

_EMPTY = ("the password is empty", "type the password, or pipe it in: pass show x | mailsetup ...")


def read_new_password(label: str) -> str:
    """Ask on a terminal, then once more to confirm (a typo would be stored unseen); read one
    line from a pipe (``pass show x | mailsetup ...``). An empty password is bad input (exit 2):
    storing one would only make every later login fail."""
    if not sys.stdin.isatty():
        # Bytes, decoded here: a strict text stdin would raise with the offending byte in
        # its message, that is, a piece of the password in a traceback.
        raw = sys.stdin.buffer.readline().rstrip(b"\r\n")
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretError(
                "the password on standard input is not UTF-8 text", "give it in UTF-8"
            ) from None
        if not value:
            raise BadInput(*_EMPTY)
        return value
    import getpass

    try:
        first = getpass.getpass(f"New password for {label}: ")
        second = getpass.getpass("Repeat it: ")
    except (EOFError, KeyboardInterrupt):
        raise SecretError("no password entered") from None
    if not first:
        raise BadInput(*_EMPTY)
    if first != second:
        raise SecretError("the two passwords differ", "run the command again")
    return text_password(first, "the terminal")


def set_password(email: str, sync_user: str | None = None) -> str:
    """Store the mail password (or the sync password with ``sync_user``); return the key user."""
    account = make_account(email)
    user = keyring_user(account.email, normalize_sync_user(sync_user))
    backend = require_keyring()  # no backend: say so before anyone types a password
    store_in_keyring(user, read_new_password(user))
    # Name the backend that holds it: "the system keyring" would be untrue for a file-based
    # backend (keyrings.alt's plain-text file, for instance) that a user may have configured.
    where = type(backend).__name__
    print(f"Stored the password for {user} in the keyring backend {where} (service 'mailsetup').")
    return user
