"""The peak-memory measure the hostile-server test relies on measures the child, only the child.

The hostile-server test once failed with 277 MiB for a ``check`` that takes ~37 MiB: ``wait4``
reported the pytest process's own earlier peak (see tests/peak_rss.py); the ~57 MiB it showed
on other runs was pytest's peak too. These tests pin both
sides: a parent's past peak does not leak into the child's figure, and a child's own
allocation does show in it (the limit in the hostile test can still fail).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.peak_rss import run_measured

MIB = 1024
ROOT = Path(__file__).resolve().parent.parent

# A parent that once held 256 MiB (touched, then freed) measures a child that does nothing.
_BIG_PARENT = (
    "import sys; sys.path.insert(0, sys.argv[1])\n"
    "held = b'x' * (256 * 1024 * 1024); del held\n"
    "from tests.peak_rss import run_measured\n"
    "print(run_measured('pass', [])[1])\n"
)


def test_a_parents_past_peak_is_not_counted_in_the_child() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _BIG_PARENT, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert int(done.stdout) < 64 * MIB, f"child measured at {int(done.stdout) // MIB} MiB"


def test_the_childs_own_allocation_is_counted() -> None:
    done, peak = run_measured("held = b'x' * (128 * 1024 * 1024); del held", [])
    assert done.returncode == 0, done.stderr
    assert peak > 128 * MIB, f"child measured at {peak // MIB} MiB"
