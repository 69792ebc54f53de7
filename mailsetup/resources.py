"""Locate the data shipped with the package: ``profiles/`` and ``templates/``.

In the wheel both sit inside the package (hatch ``force-include``); in a source checkout they
stay at the top of the repository. Looking in both places keeps one source of truth without
copying files around during development.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder ``name`` (``"profiles"`` or ``"templates"``), wheel or checkout."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mailsetup data folder {name!r} is missing from the installation")
