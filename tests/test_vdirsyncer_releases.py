"""The generated vdirsyncer config works with every release the package claims, and its
``password.fetch`` command works from an install whose ``bin`` is not on PATH.

Oldest claimed: 0.19.3, in its own venv made by ``scripts/install-vdirsyncer-oldest``
(``.tools/vdirsyncer-0.19``); newest: the one in the project venv. Both run the step the
config's comment tells people to run, ``vdirsyncer discover``, against Radicale on loopback
with PATH holding only the system folders, so ``keyring`` can only be reached through the
absolute interpreter path written into the config.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.test_render_dav import ROOT, keyring_env
from tests.test_vdirsyncer_sync import _provider

VENV_BIN = Path(sys.executable).parent
OLDEST = ROOT / ".tools" / "vdirsyncer-0.19" / "bin" / "vdirsyncer"


def _release(which: str) -> Path:
    if which == "newest":
        return VENV_BIN / "vdirsyncer"
    if not OLDEST.exists():
        message = "vdirsyncer 0.19 is not installed (run scripts/install-vdirsyncer-oldest)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return OLDEST


@pytest.mark.slow
@pytest.mark.servers
@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_config_is_read_and_discovers_with_each_claimed_release(tmp_path, radicale, test_ca, which):
    vdirsyncer = _release(which)
    home = tmp_path / "home"
    home.mkdir()
    env = {**keyring_env(tmp_path), "HOME": str(home), "SSL_CERT_FILE": str(test_ca.pem_path)}
    env.pop("VDIRSYNCER_CONFIG", None)
    mailsetup = str(VENV_BIN / "mailsetup")
    stored = subprocess.run(
        [mailsetup, "password", "set", "-e", "anna@example.ch", "--sync-user", radicale.user],
        input=radicale.password + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stored.returncode == 0, stored.stderr
    config = tmp_path / "vdirsyncer.conf"
    provider = str(_provider(tmp_path, radicale.base_url))
    made = subprocess.run(
        [
            *(mailsetup, "profile", "-e", "anna@example.ch", "--sync-user", radicale.user),
            *("-c", "dav", "--format", "vdirsyncer", "--provider-file", provider),
            *("-o", str(config)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert "implicit" not in config.read_text()
    # An install that is not on PATH: only system folders, no venv, no pipx bin.
    env["PATH"] = "/usr/bin:/bin"
    mark = radicale.log_mark()
    result = subprocess.run(
        [str(vdirsyncer), "-c", str(config), "discover"],
        input="y\n" * 10,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Unknown options" not in result.stderr
    # The password came through the config's fetch command: the server saw the login.
    log = radicale.log_since(mark)
    assert f"Successful login: '{radicale.user}'" in log
    assert "Failed login" not in log
