"""Plain data shared by the renderers and the I/O modules; this module does no I/O.

Renderers are pure (no file system, no keyring, no clock). They still need to name what they
produce (:class:`OutputFile`) and, for the vdirsyncer config, how a password is found in the
keyring (:data:`KEYRING_SERVICE`, :func:`keyring_user`). Those live here so that a renderer
imports nothing that touches the outside world; ``output.py`` and ``secret_store.py`` import
them from here too, so each fact has one home. tests/test_import_rules.py enforces the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

# The keyring "service" every mailsetup password is stored under.
KEYRING_SERVICE = "mailsetup"


def keyring_user(email: str, sync_user: str | None = None) -> str:
    """Keyring user name: the address for mail, ``sync:<id>`` for the CalDAV/CardDAV login."""
    return f"sync:{sync_user}" if sync_user else email


@dataclass(frozen=True)
class OutputFile:
    """One rendered file: its default name, its bytes, and whether it embeds a secret."""

    name: str
    data: bytes
    secret: bool = False
