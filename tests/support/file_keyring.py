"""A keyring backend for tests: a JSON file named by ``MAILSETUP_TEST_KEYRING``.

Selected with ``PYTHON_KEYRING_BACKEND=tests.support.file_keyring.FileKeyring`` (and the
repository on ``PYTHONPATH``), so that ``mailsetup password set`` and the ``keyring`` command
that vdirsyncer runs share one store, the way they share the desktop keyring on a real machine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @property
    def _path(self) -> Path:
        return Path(os.environ["MAILSETUP_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self._path.read_text())
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\x1f{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\x1f{username}"] = password
        self._path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}\x1f{username}", None)
        self._path.write_text(json.dumps(data))
