"""The built wheel works on its own: install it in a fresh virtual environment and run it."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import IN_CI

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        if IN_CI:
            pytest.fail("uv is missing (scripts/test installs it)")
        pytest.skip("uv is missing")
    dist = tmp_path / "dist"
    subprocess.run(
        [uv, "build", "--wheel", "-o", str(dist), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = dist.glob("mailsetup-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mailsetup/profiles/infomaniak.toml" in names
    assert any(n.startswith("mailsetup/templates/") for n in names)
    # Apple's schemas for `inspect FILE.mobileconfig`, with their licence.
    for shipped in ("LICENSE.txt", "index.json", "TopLevel.yaml", "com.apple.mail.managed.yaml"):
        assert f"mailsetup/mobileconfig/schemas/{shipped}" in names

    # Exactly the locked runtime dependencies, then the wheel itself (not editable).
    reqs = tmp_path / "requirements.txt"
    exported = subprocess.run(
        [
            uv,
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-hashes",
            "--project",
            str(REPO),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    reqs.write_text(exported.stdout)
    venv = tmp_path / "venv"
    env = {"UV_PYTHON_DOWNLOADS": "never", "PATH": "/usr/bin:/bin"}
    subprocess.run([uv, "venv", "-q", str(venv)], check=True, timeout=120, env=None)
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin/python"),
            "-r",
            str(reqs),
            str(wheel),
        ],
        check=True,
        timeout=600,
    )

    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [
            str(venv / "bin/mailsetup"),
            "profile",
            "--email",
            "jane.doe@example.ch",
            "--name",
            "Jane Doe",
            "--sync-user",
            "AB12345",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    profile = plistlib.loads((work / "jane.doe@example.ch.mobileconfig").read_bytes())
    hosts = {
        p.get("IncomingMailServerHostName") or p.get("CalDAVHostName") or p.get("CardDAVHostName")
        for p in profile["PayloadContent"]
    }
    assert hosts == {"mail.infomaniak.com", "sync.infomaniak.com"}
