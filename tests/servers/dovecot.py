"""Real Dovecot IMAP servers on loopback (Debian's ``dovecot-imapd``).

Each instance gets its own folder under /tmp (0755 on the whole path: Dovecot's login and
internal processes run as ``dovenull``/``dovecot``, not root, FACTS.md), a passwd-file with the
test user, one listener with implicit TLS (IMAPS, RFC 8314) and one plain listener that offers
STARTTLS (RFC 3501 section 6.2.1) and refuses LOGIN before it (``disable_plaintext_auth``).
Dovecot logs to ``log_path`` with ``auth_verbose``, so tests can see logins, password
mismatches and TLS handshake failures in the server's own words.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import require_binary
from tests.servers.ca import CertAuthority, CertPair
from tests.servers.runtime import (
    HOST,
    LOOPBACK,
    ServerLog,
    die_with_parent,
    free_port,
    remove_dir,
    scratch_dir,
    stop_process,
    stop_process_soon,
    wait_until,
)

IMAP_USER = "jane.doe@example.test"
IMAP_PASSWORD = "device-password-7Qx!"  # what the device password of the test user is

_CONFIG = """\
# Written by tests/servers/dovecot.py: a throw-away instance for one test session.
instance_name = mailsetup-test-{imaps_port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S "
protocols = imap
listen = {loopback}
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:~/Maildir

ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
verbose_ssl = {verbose_ssl}

disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
shutdown_clients = yes

passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
}}
# No auth penalty: Dovecot's anvil would otherwise slow every login from 127.0.0.1 for a while
# after a test's wrong password (up to 15 s), making tests depend on their order.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {loopback}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {loopback}
    port = {imaps_port}
    ssl = yes
  }}
}}
"""

_WELCOME = """\
From: Mailsetup Tests <tests@example.test>
To: {user}
Subject: Welcome
Date: Thu, 01 Jan 2026 00:00:00 +0000
Message-ID: <welcome@example.test>

This message sits in INBOX so that clients have something to list.
"""


@dataclass
class DovecotServer(ServerLog):
    """A running Dovecot; ``host`` is ``localhost`` (the name the certificate carries)."""

    root: Path
    imaps_port: int
    imap_port: int
    cert: CertPair
    ca_pem: Path
    process: subprocess.Popen[bytes] | None = None
    host: str = HOST
    user: str = IMAP_USER
    password: str = IMAP_PASSWORD
    extra_users: dict[str, str] = field(default_factory=dict)

    @property
    def log_path(self) -> Path:
        return self.root / "dovecot.log"

    @property
    def maildir(self) -> Path:
        """The test user's Maildir (INBOX holds one welcome message)."""
        return self.root / "home" / self.user / "Maildir"

    def stop(self) -> None:
        """Stop and wait (bounded: SIGTERM, then SIGKILL of its process group after 3 s)."""
        if self.process is not None:
            stop_process(self.process, timeout=3)

    def close(self) -> None:
        """Stop, then delete its folder (config, log, storage). For code that calls
        ``start_*`` itself rather than using the fixtures, which do this already."""
        self.stop()
        remove_dir(self.root)

    def stop_soon(self, remove: bool = True) -> None:
        """Stop in the background (and remove its folder), so a test's teardown is instant."""
        if self.process is not None:
            stop_process_soon(self.process, (lambda: remove_dir(self.root)) if remove else None)


def start_dovecot(
    cert: CertPair,
    ca_pem: Path,
    *,
    verbose_ssl: bool = False,
    extra_users: dict[str, str] | None = None,
) -> DovecotServer:
    """Write a config for a fresh instance serving ``cert`` and start it in the foreground."""
    binary = require_binary("dovecot")
    root = scratch_dir("dovecot")
    account = pwd.getpwnam("dovecot")
    users = {IMAP_USER: IMAP_PASSWORD, **(extra_users or {})}
    server = DovecotServer(
        root, free_port(), free_port(), cert, ca_pem, extra_users=dict(extra_users or {})
    )
    for sub in ("run", "state", "home"):
        (root / sub).mkdir(mode=0o755)
    os.chown(root / "home", account.pw_uid, account.pw_gid)
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in users.items()))
    (root / "passwd").chmod(0o644)
    _seed_inbox(server.maildir, account.pw_uid, account.pw_gid)
    (root / "dovecot.conf").write_text(
        _CONFIG.format(
            root=root,
            loopback=LOOPBACK,
            imap_port=server.imap_port,
            imaps_port=server.imaps_port,
            cert=cert.cert_path,
            key=cert.key_path,
            uid=account.pw_uid,
            gid=account.pw_gid,
            verbose_ssl="yes" if verbose_ssl else "no",
        )
    )
    with (root / "stderr.log").open("wb") as stderr:
        server.process = subprocess.Popen(
            [binary, "-F", "-c", str(root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
    # The master binds every listener before it logs "starting up"; waiting for that line
    # instead of probing the ports keeps the log free of test-made connections.
    process = server.process
    started = wait_until(
        lambda: "starting up" in server.log_text() or process.poll() is not None,
        timeout=10,
        interval=0.01,
    )
    if not started or process.poll() is not None:
        server.stop()
        errors = (root / "stderr.log").read_text(errors="replace")
        raise RuntimeError(
            f"dovecot did not start (config {root}/dovecot.conf):\n{errors}\n{server.log_text()}"
        )
    return server


def _seed_inbox(maildir: Path, uid: int, gid: int) -> None:
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (maildir / "new" / f"{int(time.time())}.welcome.mailsetup").write_text(
        _WELCOME.format(user=IMAP_USER).replace("\n", "\r\n")
    )
    for path in (maildir.parent, *maildir.parent.rglob("*")):
        os.chown(path, uid, gid)


@pytest.fixture(scope="session")
def dovecot(test_ca: CertAuthority) -> Iterator[DovecotServer]:
    """The shared Dovecot with a valid certificate for localhost/127.0.0.1 from ``test_ca``."""
    server = start_dovecot(test_ca.issue(), test_ca.pem_path)
    yield server
    server.close()


DovecotFactory = Callable[..., DovecotServer]


@pytest.fixture
def dovecot_factory(test_ca: CertAuthority) -> Iterator[DovecotFactory]:
    """Start extra Dovecots, e.g. ``dovecot_factory(cert=test_ca.issue(["wrong.test"]))``.

    Keywords: ``cert`` (default: a valid one), ``verbose_ssl``, ``extra_users`` ({user: pw}).
    All are stopped when the test ends.
    """
    started: list[DovecotServer] = []

    def make(cert: CertPair | None = None, **options: object) -> DovecotServer:
        server = start_dovecot(cert or test_ca.issue(), test_ca.pem_path, **options)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop_soon()
