"""The vdirsyncer config from ``profile --client dav`` syncs with a real CalDAV/CardDAV server.

Radicale on loopback over TLS (tests/servers/radicale.py), the generated file used as it is:
discovery from the service root, the password fetched from the keyring by vdirsyncer's
``password.fetch`` command after ``mailsetup password set --sync-user`` stored it. Only the test
CA is added (``SSL_CERT_FILE``, which Python's default TLS context reads) and HOME points at a
temporary folder so the ``~`` paths of the config land there.
"""

from __future__ import annotations

import base64
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.test_render_dav import ROOT, keyring_env

VENV_BIN = Path(sys.executable).parent
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailsetup tests//EN\r\nBEGIN:VEVENT\r\n"
    "UID:local-event-1@example.ch\r\nDTSTAMP:20240101T120000Z\r\nDTSTART:20240301T090000Z\r\n"
    "DTEND:20240301T100000Z\r\nSUMMARY:Made on the laptop\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
CARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:server-card-1\r\nFN:Made On The Server\r\n"
    "N:Server;Made;;;\r\nEND:VCARD\r\n"
)


def _provider(tmp_path: Path, base_url: str) -> Path:
    text = (ROOT / "profiles" / "infomaniak.toml").read_text()
    text = text.replace('url = "https://sync.infomaniak.com"', f'url = "{base_url}"')
    assert text.count(base_url) == 2
    path = tmp_path / "provider.toml"
    path.write_text(text)
    return path


def _run(args: list[str], env: dict[str, str], stdin: str | None = None):
    result = subprocess.run(args, input=stdin, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def _put(url: str, body: str, user: str, password: str, ca: Path, kind: str) -> None:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    req = urllib.request.Request(
        url,
        data=body.encode(),
        method="PUT",
        headers={"Authorization": f"Basic {token}", "Content-Type": f"{kind}; charset=utf-8"},
    )
    ctx = ssl.create_default_context(cafile=str(ca))
    with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
        assert resp.status in (200, 201, 204)


@pytest.mark.slow
@pytest.mark.servers
def test_generated_vdirsyncer_config_syncs_both_ways(tmp_path, radicale, test_ca):
    home = tmp_path / "home"
    home.mkdir()
    env = {**keyring_env(tmp_path), "HOME": str(home), "SSL_CERT_FILE": str(test_ca.pem_path)}
    env.pop("VDIRSYNCER_CONFIG", None)
    mailsetup = str(VENV_BIN / "mailsetup")
    email = "anna@example.ch"

    # 1. The person stores the sync password, then writes the config.
    _run(
        [mailsetup, "password", "set", "-e", email, "--sync-user", radicale.user],
        env,
        stdin=radicale.password + "\n",
    )
    config = tmp_path / "vdirsyncer.conf"
    provider = str(_provider(tmp_path, radicale.base_url))
    profile = [mailsetup, "profile", "-e", email, "--sync-user", radicale.user, "-c", "dav"]
    _run([*profile, "--format", "vdirsyncer", "--provider-file", provider, "-o", str(config)], env)
    assert radicale.password not in config.read_text()

    # 2. Something exists on the server before the first sync.
    _put(
        radicale.addressbook_url + "server-card-1.vcf",
        CARD,
        radicale.user,
        radicale.password,
        test_ca.pem_path,
        "text/vcard",
    )

    vdirsyncer = [str(VENV_BIN / "vdirsyncer"), "-c", str(config)]
    mark = radicale.log_mark()
    # No `implicit` (0.19/0.20 reject it): discover asks before creating a collection.
    _run([*vdirsyncer, "discover"], env, stdin="y\n" * 10)
    _run([*vdirsyncer, "sync"], env)

    local = home / ".local" / "share" / "vdirsyncer" / "infomaniak"
    cards = list((local / "contacts" / "contacts").glob("*.vcf"))
    assert [c.read_text().count("FN:Made On The Server") for c in cards] == [1]
    assert (local / "calendars" / "calendar").is_dir()

    # 3. A local event goes up on the next sync.
    (local / "calendars" / "calendar" / "local-event-1.ics").write_text(EVENT)
    _run([*vdirsyncer, "sync"], env)
    stored = radicale.root / "collections" / "collection-root" / radicale.user / "calendar"
    uploaded = [p for p in stored.glob("*.ics") if "Made on the laptop" in p.read_text()]
    assert len(uploaded) == 1

    # Radicale saw the sync user log in (the keyring password was right) and no failed login.
    log = radicale.log_since(mark)
    assert f"Successful login: '{radicale.user}'" in log
    assert "Failed login" not in log
