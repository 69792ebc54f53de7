"""Files a person names on the command line, opened for reading, and only when regular.

``inspect`` reads calendars, address books and Apple profiles from paths it is given, and
each reader needs the same guard: a FIFO must not block the command waiting for a writer, an
endless device (``/dev/zero`` behind a ``.ics`` name) must not be read, and a missing file or a
folder must be one clear sentence. This module has no notion of what the file holds, so each
reader turns :class:`NotReadable` into its own report.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

STDIN = "-"  # the path that means standard input


class NotReadable(Exception):
    """The path cannot be read as a regular file; the message says why, for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def open_regular(path: Path, hint: str) -> BinaryIO:
    """A regular file opened for reading; anything else raises :class:`NotReadable` (``hint``
    ends the message for a folder or a device)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; then only regular files pass,
        # so neither a FIFO nor an endless device is read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise NotReadable("no such file") from None
    except IsADirectoryError:
        raise NotReadable("a folder, not a file") from None
    except OSError as exc:
        raise NotReadable(f"cannot read: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise NotReadable(f"{what}: {hint}")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")
