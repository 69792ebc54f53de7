"""Plain data shared by the renderers and the I/O modules; this module does no I/O.

Renderers are pure (no file system, no keyring, no clock). They still need to name what they
produce (:class:`OutputFile`) and, for the vdirsyncer config, how a password is found in the
keyring (:data:`KEYRING_SERVICE`, :func:`keyring_user`). Those live here so that a renderer
imports nothing that touches the outside world; ``output.py`` and ``secret_store.py`` import
them from here too, so each fact has one home. tests/test_import_rules.py enforces the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The keyring "service" every mailsetup password is stored under.
KEYRING_SERVICE = "mailsetup"


def keyring_user(email: str, sync_user: str | None = None) -> str:
    """Keyring user name: the address for mail, ``sync:<id>`` for the CalDAV/CardDAV login.

    The address lower-cased, like every identifier derived from it (``Account.identity``):
    keyrings compare names exactly, so ``JANE.Doe@example.ch`` and ``jane.doe@example.ch``
    (one mailbox) must find the same entry."""
    return f"sync:{sync_user}" if sync_user else email.lower()


@dataclass(frozen=True)
class OutputFile:
    """One rendered file: its default name, its bytes, and whether it embeds a secret."""

    name: str
    data: bytes
    secret: bool = False


# Bytes, not characters: file systems limit a name to 255 bytes; room is kept for the suffix a
# client adds ("-thunderbird") and for the temporary name output.py stages under.
MAX_NAME_BYTES = 150


# Path separators, NUL and the other C0 controls, DEL. One regular expression rather than a loop
# per character: ``profile --csv`` names thousands of files (benchmarks/bulk.py).
_UNSAFE_IN_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


# What may stand in a Content-Disposition quoted-string without quoting rules (RFC 6266): a
# download name made from an address keeps its letters, digits and ``._@+-``.
_UNSAFE_IN_DOWNLOAD = re.compile(r"[^A-Za-z0-9._@+-]")


def download_name(text: str) -> str:
    """``text`` as the ``filename`` of an HTTP download (``serve`` and ``share``): anything but
    ASCII letters, digits and ``._@+-`` becomes ``_`` (no quote, backslash, control or
    non-ASCII character can break out of the header), and no leading dot."""
    return _UNSAFE_IN_DOWNLOAD.sub("_", text).lstrip(".")


def safe_file_name(text: str) -> str:
    """``text`` made into one harmless file or folder name, the same for the same input.

    Names come from data (the address: ``/`` and a leading ``.`` are legal in a local part), so
    path separators, NUL and control characters become ``_``, a leading dot becomes ``_`` (no
    hidden files, no ``..``), and the name is cut to :data:`MAX_NAME_BYTES` bytes of UTF-8,
    keeping its extension. The result never leaves the folder it is joined to.
    """
    name = _UNSAFE_IN_NAME.sub("_", text)
    if name.startswith("."):
        name = "_" + name[1:]
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 20 or not stem:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem + suffix) or "_"
