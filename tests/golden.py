"""THE golden-file check: byte-for-byte against a reviewed file under tests/golden/.

After an intended change, ``UPDATE_GOLDEN=1 pytest`` rewrites the files (the only switch);
review the diff with ``git diff tests/golden`` before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def assert_golden(relative: str, data: bytes) -> None:
    """``data`` equals ``tests/golden/<relative>``; with ``UPDATE_GOLDEN=1``, write it first."""
    path = GOLDEN / relative
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{relative} differs; UPDATE_GOLDEN=1 and review the diff"
