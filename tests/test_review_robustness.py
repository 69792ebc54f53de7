"""Odd inputs found in review: each gets one stderr line and its documented code, never a
traceback, a hang or a leaked secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run


def test_inspect_refuses_a_fifo_at_once_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "calendar.ics"
    os.mkfifo(fifo)
    proc = run("inspect", str(fifo), timeout=20)
    assert_one_line_error(proc, 2, "not a regular file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_inspect_refuses_a_device_behind_an_ics_name(tmp_path: Path) -> None:
    """An endless device must not be read until memory runs out."""
    link = tmp_path / "calendar.ics"
    link.symlink_to("/dev/zero")
    proc = run("inspect", str(link), timeout=20)
    assert_one_line_error(proc, 2, "not a regular file")
