"""Command lines shown to a person to copy into a shell.

An address may legally hold characters a POSIX shell acts on: RFC 5322 ``atext`` includes
``|``, ``&``, `````, ``$``, ``{``, ``}`` and ``'`` (``a|touch${IFS}x@example.ch`` is a valid
address). A hint such as ``mailsetup password set --email ADDRESS`` is meant to be pasted, so
every word is quoted with :func:`shlex.join` (POSIX sh rules); a plain address stays as it is.
"""

from __future__ import annotations

import shlex


def password_set_command(email: str, sync_user: str | None = None) -> str:
    """``mailsetup password set`` for ``email`` (and ``sync_user``), safe to paste into sh."""
    words = ["mailsetup", "password", "set", "--email", email]
    if sync_user is not None:
        words += ["--sync-user", sync_user]
    return shlex.join(words)
