"""Peak resident memory of a child Python process, as the child itself had it.

``wait4``'s ``ru_maxrss`` cannot be used for this: CPython starts children with ``vfork`` (and
``posix_spawn`` does the same), so until ``exec`` the child runs in the parent's address space,
and at ``exec`` Linux folds that address space's high-water mark into the child's ``maxrss``
(``exec_mmap`` calls ``setmax_mm_hiwater_rss``). A child of a pytest process that once peaked at
277 MiB reports at least 277 MiB, whatever the child did. That happens whenever ``.hypothesis/``
is fresh: the first ``st.text()`` test builds Hypothesis's Unicode table and takes pytest to
~270 MiB. The child's own ``VmHWM`` (proc(5)) counts only the memory mapped since ``exec``; the
child reads it at exit and hands it back in a file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path


def _prelude(report: Path) -> str:
    """Python run in the child before ``code``: write ``VmHWM`` (KiB) to ``report`` at exit."""
    return (
        "import atexit\n"
        "def _peak_rss_report():\n"
        "    with open('/proc/self/status') as status:\n"
        "        hwm = [l.split()[1] for l in status if l.startswith('VmHWM:')]\n"
        f"    with open({str(report)!r}, 'w') as out:\n"
        "        out.write(hwm[0])\n"
        "atexit.register(_peak_rss_report)\n"
    )


def run_measured(
    code: str, args: list[str], env: Mapping[str, str] | None = None, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], int]:
    """``python -c CODE ARGS``, and the child's own peak resident memory in KiB."""
    with tempfile.TemporaryDirectory(prefix="peak-rss-") as tmp:
        report = Path(tmp) / "vmhwm"
        done = subprocess.run(
            [sys.executable, "-c", _prelude(report) + code, *args],
            env=None if env is None else dict(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        assert report.exists(), f"the child wrote no peak (exit {done.returncode}): {done.stderr}"
        return done, int(report.read_text())
