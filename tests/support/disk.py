"""A full disk on demand: the fault every all-or-nothing write must survive."""

from __future__ import annotations

import os

import pytest


def disk_full_at_fsync(monkeypatch: pytest.MonkeyPatch, nth: int) -> None:
    """Make the ``nth`` call to ``os.fsync`` fail with ENOSPC (28); the others really sync.

    fsync is where a write meets the disk, so this is where a real full disk shows.
    """
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == nth:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
