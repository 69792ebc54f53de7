"""Where passwords come from: environment, system keyring, or a hidden prompt. Never argv.

Order: ``MAILSETUP_PASSWORD`` (or ``MAILSETUP_SYNC_PASSWORD``) for scripts, then the keyring
(service ``mailsetup``, user = the address or ``sync:<user>``), then ``getpass`` on a terminal.
The keyring library is imported only here, inside functions: it is slow to import and probes
backends (Secret Service over D-Bus, macOS Keychain) that the common path never needs.
"""

from __future__ import annotations

import os
import sys

from mailsetup.errors import SecretError
from mailsetup.model import KEYRING_SERVICE as SERVICE
from mailsetup.model import keyring_user

__all__ = ["SERVICE", "get_password", "keyring_user", "require_keyring", "store_in_keyring"]
ENV_MAIL = "MAILSETUP_PASSWORD"
ENV_SYNC = "MAILSETUP_SYNC_PASSWORD"


def _usable_keyring() -> object | None:
    """The active keyring backend, or ``None`` when only the 'fail' or null backend exists."""
    try:
        import keyring
        from keyring.backends import fail, null
    except Exception:  # a broken keyring install must not break the CLI
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    return backend


def from_keyring(user: str) -> str | None:
    """The stored password for ``user``, or ``None`` (no backend is not an error when reading)."""
    backend = _usable_keyring()
    if backend is None:
        return None
    try:
        value = backend.get_password(SERVICE, user)  # type: ignore[attr-defined]
    except Exception:
        return None
    return value if isinstance(value, str) and value else None


def require_keyring() -> object:
    """The usable keyring backend; none is a :class:`SecretError` (exit 5)."""
    backend = _usable_keyring()
    if backend is None:
        raise SecretError(
            "no usable keyring backend on this system",
            f"install a Secret Service such as GNOME Keyring or KWallet, or set {ENV_MAIL} instead",
        )
    return backend


def store_in_keyring(user: str, password: str) -> None:
    """Save ``password``; a missing backend is a :class:`SecretError` (exit 5)."""
    backend = require_keyring()
    try:
        backend.set_password(SERVICE, user, password)  # type: ignore[attr-defined]
    except Exception as exc:
        raise SecretError(
            f"the keyring refused to store the password: {type(exc).__name__}"
        ) from None


def prompt(label: str, fix: str, what: str = "password") -> str:
    """Ask on the terminal without echo; refuse when there is no terminal to ask on.

    ``fix`` says where this secret could come from instead (its variable, its
    ``password set`` command), so a missing sync password does not send people to the
    mail password's variable. ``what`` names the secret ("passphrase" for a signing key).
    """
    if not sys.stdin.isatty():
        raise SecretError(f"no {what} available for {label} and no terminal to ask on", fix)
    import getpass

    try:
        value = getpass.getpass(f"{what.capitalize()} for {label}: ")
    except (EOFError, KeyboardInterrupt):
        raise SecretError(f"no {what} entered") from None
    if not value:
        raise SecretError(f"no {what} entered")
    return value


def text_password(value: str, source: str) -> str:
    """``value`` if it is Unicode text; bytes that are not UTF-8 (an environment variable or a
    terminal in another charset) arrive as surrogate escapes, which no file or protocol can
    carry. The message names the source, never the value or where in it the fault is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise SecretError(
            f"the password from {source} is not valid UTF-8 text",
            "set it again in UTF-8",
        ) from None
    return value


def get_password(email: str, *, sync_user: str | None = None) -> str:
    """Resolve a password: env var, then keyring, then a hidden prompt on a terminal."""
    env_name = ENV_SYNC if sync_user else ENV_MAIL
    value = os.environ.get(env_name)
    if value:
        return text_password(value, env_name)
    user = keyring_user(email, sync_user)
    stored = from_keyring(user)
    if stored:
        return text_password(stored, "the keyring")
    from mailsetup.shellwords import password_set_command

    fix = f"set {env_name} or run `{password_set_command(email, sync_user)}` first"
    return text_password(prompt(user, fix), "the terminal")
