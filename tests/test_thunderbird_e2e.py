"""End to end with Debian's real Thunderbird: the generated user.js alone sets up the account.

A fresh profile folder, the test CA trusted in its NSS database (``certutil``) and a few
test-only prefs in ``prefs.js`` (no network beyond loopback, Marionette on a free port). Then:

1. A first start *without* any account stores the passwords in Thunderbird's own encrypted
   login store (through Marionette), as a person does by ticking "Use Password Manager": a
   ``user.js`` cannot carry a password, and a start with the account but no password stops at
   a password prompt that nobody can answer in a headless run.
2. Only then the ``user.js`` that ``mailsetup profile --client thunderbird`` wrote, for a
   provider file pointing at the local Dovecot (IMAPS) and Radicale (CalDAV/CardDAV over TLS),
   is copied in, unchanged, and Thunderbird started again. Thunderbird itself reports the
   account, identity (the display name with quotes, ``</script>``, a backslash and an emoji),
   SMTP server, address book and calendar it made of ``user.js``; with ``login_at_startup``
   Dovecot logs a real LOGIN of the configured user over TLS, and Radicale logs a successful
   login of the configured sync user and the requests for the configured collections.

Thunderbird is always stopped by its process id, with a bounded wait.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_binary
from tests.marionette import Marionette
from tests.prefs_js import parse_user_js
from tests.servers.dovecot import IMAP_PASSWORD, IMAP_USER
from tests.servers.runtime import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.servers, pytest.mark.timeout(240)]

NAME = 'Jane "JD" Doe </script> \\ 😀'
# The servers' own test user is at example.test, a special-use name the account model refuses
# (email-validator, RFC 6761); this test adds its own mailbox to a Dovecot of its own.
USER = "jane.doe@example.org"
PASSWORD = "device-password-e2e-3Rv"
KEY_PREFIX = "mailsetup_"

# Test-only prefs, written to prefs.js (user.js stays exactly as generated): keep Thunderbird
# off the internet (every HTTP(S) request not for loopback goes to a dead proxy), no first-run
# pages, Marionette on a free port.
TEST_PREFS = {
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1",
    "network.proxy.http_port": 9,
    "network.proxy.ssl": "127.0.0.1",
    "network.proxy.ssl_port": 9,
    "network.proxy.no_proxies_on": "localhost, 127.0.0.1",
    "network.proxy.allow_hijacking_localhost": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "app.update.auto": False,
    "app.update.enabled": False,
    "extensions.update.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "mailnews.start_page.enabled": False,
    "mail.provider.enabled": False,
    "mail.shell.checkDefaultClient": False,
    "marionette.port": 0,
}


def _pref_line(name: str, value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    else:
        text = '"' + str(value) + '"'
    return f'user_pref("{name}", {text});\n'


@contextlib.contextmanager
def thunderbird(profile: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run Thunderbird on ``profile``; stop it by pid (SIGTERM, 15 s, then SIGKILL)."""
    binary = require_binary("thunderbird")
    (profile / "MarionetteActivePort").unlink(missing_ok=True)
    args = [
        binary,
        "--headless",
        "--no-remote",
        "--profile",
        str(profile),
        "--marionette",
        "--remote-allow-system-access",
    ]
    log = (profile.parent / "thunderbird.log").open("ab")
    # Its own HOME (and caches) under the test's temporary folder: a test never writes
    # into the real ~/.thunderbird, ~/.cache or ~/.mozilla of whoever runs it.
    home = profile.parent / "home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "MOZ_CRASHREPORTER_DISABLE": "1",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }
    process = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    log.close()
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@contextlib.contextmanager
def marionette(profile: Path) -> Iterator[Marionette]:
    """A chrome-context Marionette session on the Thunderbird running on ``profile``."""
    port_file = profile / "MarionetteActivePort"
    assert wait_until(port_file.exists, timeout=60, interval=0.2), "Thunderbird did not start"
    client = Marionette(int(port_file.read_text()), timeout=60)
    try:
        client.start_chrome_session()
        yield client
    finally:
        client.close()


@pytest.fixture
def imap(dovecot_factory):
    return dovecot_factory(extra_users={USER: PASSWORD})


@pytest.fixture
def generated(tmp_path, make_provider_file, radicale, imap) -> tuple[Path, Path]:
    """``mailsetup profile --client thunderbird`` run as a person would, for the test servers.

    The provider file's DAV URLs name the test user's collections, so the calendar and the
    address book need no further choice (docs/thunderbird.md).
    """
    provider_file = make_provider_file(
        imap_port=imap.imaps_port,
        caldav_url=radicale.calendar_url.rstrip("/"),
        carddav_url=radicale.addressbook_url.rstrip("/"),
    )
    out = tmp_path / "out"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mailsetup",
            "profile",
            "--client",
            "thunderbird",
            "-e",
            USER,
            "-n",
            NAME,
            "--sync-user",
            radicale.user,
            "--provider-file",
            str(provider_file),
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out, provider_file


def make_profile(tmp_path: Path, ca_pem: Path) -> Path:
    certutil = require_binary("certutil")
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "prefs.js").write_text("".join(_pref_line(k, v) for k, v in TEST_PREFS.items()))
    db = f"sql:{profile}"
    subprocess.run([certutil, "-N", "-d", db, "--empty-password"], check=True, timeout=30)
    subprocess.run(
        [certutil, "-A", "-d", db, "-t", "C,,", "-n", "mailsetup-test-ca", "-i", str(ca_pem)],
        check=True,
        timeout=30,
    )
    return profile


RADICALE_REALM = "Radicale - Password Required"  # Radicale 3's default [auth] realm

READ_BACK = """
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const { cal } = ChromeUtils.importESModule("resource:///modules/calendar/calUtils.sys.mjs");
const key = arguments[0];
const account = MailServices.accounts.getAccount(key);
if (!account) return null;
const server = account.incomingServer;
const identity = account.defaultIdentity;
const smtp = MailServices.outgoingServer.getServerByIdentity(identity);
const book = MailServices.ab.directories.find(d => d.dirPrefId == "ldap_2.servers." + key);
const calendar = cal.manager.getCalendarById(key);
return {
  accounts: MailServices.accounts.accounts.map(a => a.key),
  server: [server.type, server.hostname, server.port, server.socketType, server.username],
  identity: [identity.email, identity.fullName],
  smtp: smtp ? [smtp.key, smtp.serverURI.host, smtp.serverURI.port] : null,
  book: book ? [book.dirType, book.getStringValue("carddav.url", ""),
                book.getStringValue("carddav.username", "")] : null,
  calendar: calendar ? [calendar.type, calendar.uri.spec,
                        calendar.getProperty("username")] : null,
};
"""

SAVE_LOGINS = """
const [logins] = arguments;
return (async () => {
  for (const [origin, realm, user, password] of logins) {
    const info = Cc["@mozilla.org/login-manager/loginInfo;1"].createInstance(Ci.nsILoginInfo);
    info.init(origin, null, realm, user, password, "", "");
    await Services.logins.addLoginAsync(info);
  }
  return (await Services.logins.getAllLogins()).length;
})();
"""


def save_passwords(profile: Path, radicale, extra: list[list[str]] = ()) -> None:
    """Store the test passwords in Thunderbird's login store (a start without accounts)."""
    dav = urlsplit(radicale.base_url)
    logins = [
        ["imap://localhost", "imap://localhost", USER, PASSWORD],
        ["smtp://localhost", "smtp://localhost", USER, PASSWORD],
        [f"https://{dav.hostname}:{dav.port}", RADICALE_REALM, radicale.user, radicale.password],
        *extra,
    ]
    with thunderbird(profile) as process, marionette(profile) as client:
        assert client.run(SAVE_LOGINS, logins) == len(logins)
        client.quit()
        process.wait(30)


def test_thunderbird_uses_the_generated_user_js(
    tmp_path, generated, imap, radicale, smtp_server, test_ca
):
    out, _ = generated
    prefs = dict(parse_user_js((out / "user.js").read_text()))
    key = prefs["mail.accountmanager.appendaccounts"]
    assert key.startswith(KEY_PREFIX)
    profile = make_profile(tmp_path, test_ca.pem_path)

    # 1. Passwords first, in a profile without accounts.
    save_passwords(profile, radicale)

    # 2. The generated user.js, unchanged; Thunderbird started again.
    (profile / "user.js").write_bytes((out / "user.js").read_bytes())
    imap_mark, dav_mark = imap.log_mark(), radicale.log_mark()
    calendar_path = urlsplit(radicale.calendar_url).path
    book_path = urlsplit(radicale.addressbook_url).path
    with thunderbird(profile), marionette(profile) as client:
        seen: dict[str, object] = {}

        def loaded() -> bool:
            state = seen["state"] = client.run(READ_BACK, key)
            return bool(state) and state["book"] is not None and state["calendar"] is not None

        assert wait_until(loaded, timeout=30, interval=0.5), seen
        state = seen["state"]
        assert key in state["accounts"]
        assert state["server"] == ["imap", "localhost", imap.imaps_port, 3, USER]
        assert state["identity"] == [USER, NAME]
        assert state["smtp"] == [key, "localhost", smtp_server.submission_port]
        assert state["book"] == [102, radicale.addressbook_url, radicale.user]
        assert state["calendar"] == ["caldav", radicale.calendar_url, radicale.user]

        # The servers' own logs: a real IMAP login over TLS ...
        login = imap.wait_for_log(
            r"imap-login: (?:Info: )?Login: user=<jane\.doe@example\.org>[^\n]*",
            timeout=60,
            since=imap_mark,
        )
        assert login, imap.log_since(imap_mark)[-2000:]
        assert "TLS" in login.group(0)

        # ... and the configured collections, fetched as the configured sync user.
        def dav_done() -> bool:
            log = radicale.log_since(dav_mark)
            answered = [
                path
                for path in (calendar_path, book_path)
                if re.search(rf"response status for '{re.escape(path)}'[^\n]*: 20[07]", log)
            ]
            return len(answered) == 2 and f"Successful login: '{radicale.user}'" in log

        assert wait_until(dav_done, timeout=60, interval=0.5), radicale.log_since(dav_mark)[-3000:]
        client.quit()
    # The evidence, for a person reading the test output (pytest -s, or on failure).
    print(login.group(0))
    for line in radicale.log_since(dav_mark).splitlines():
        if "Successful login" in line or any(f"'{p}'" in line for p in (calendar_path, book_path)):
            print(line)


# An account Thunderbird itself made earlier (its own key names), on the servers' test user.
EXISTING = {
    "mail.accountmanager.accounts": "account1",
    "mail.accountmanager.defaultaccount": "account1",
    "mail.account.account1.server": "server1",
    "mail.account.account1.identities": "id1",
    "mail.server.server1.type": "imap",
    "mail.server.server1.hostname": "localhost",
    "mail.server.server1.socketType": 3,
    "mail.server.server1.userName": IMAP_USER,
    "mail.server.server1.authMethod": 3,
    "mail.server.server1.login_at_startup": True,
    "mail.identity.id1.useremail": IMAP_USER,
    "mail.identity.id1.fullName": "Existing Account",
    "mail.identity.id1.smtpServer": "smtp1",
    "mail.identity.id1.valid": True,
    "mail.smtpservers": "smtp1",
    "mail.smtpserver.smtp1.hostname": "localhost",
    "mail.smtpserver.smtp1.try_ssl": 2,
    "mail.smtpserver.smtp1.username": IMAP_USER,
}

READ_MERGED = """
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const key = arguments[0];
const smtpOf = id => MailServices.outgoingServer.getServerByIdentity(
  MailServices.accounts.getIdentity(id))?.key ?? null;
return {
  accounts: MailServices.accounts.accounts.map(a => a.key),
  default: MailServices.accounts.defaultAccount?.key ?? null,
  smtp: MailServices.outgoingServer.servers.map(s => s.key),
  existing_smtp: smtpOf("id1"),
  our_smtp: smtpOf(key),
};
"""


def test_merging_into_a_profile_with_an_account_keeps_it_working(
    tmp_path, generated, imap, radicale, smtp_server, test_ca
):
    """README.txt's "Profile with accounts" steps, done literally, on a profile that has one.

    Both accounts log in afterwards (Dovecot's log), the existing one keeps its SMTP server and
    stays the default account.
    """
    out, _ = generated
    user_js = (out / "user.js").read_text()
    key = dict(parse_user_js(user_js))["mail.accountmanager.appendaccounts"]
    profile = make_profile(tmp_path, test_ca.pem_path)
    save_passwords(
        profile, radicale, [["imap://localhost", "imap://localhost", IMAP_USER, IMAP_PASSWORD]]
    )
    existing = dict(EXISTING)
    existing["mail.server.server1.port"] = imap.imaps_port
    existing["mail.smtpserver.smtp1.port"] = smtp_server.submission_port
    with (profile / "prefs.js").open("a") as prefs:
        prefs.write("".join(_pref_line(k, v) for k, v in existing.items()))

    # README.txt: copy mail.smtpservers from prefs.js in front of our key.
    current = dict(parse_user_js((profile / "prefs.js").read_text()))["mail.smtpservers"]
    ours = f'user_pref("mail.smtpservers", "{key}");'
    assert ours in user_js
    user_js = user_js.replace(ours, f'user_pref("mail.smtpservers", "{current},{key}");')
    (profile / "user.js").write_text(user_js)

    mark = imap.log_mark()
    with thunderbird(profile), marionette(profile) as client:
        for user in (IMAP_USER, USER):
            login = imap.wait_for_log(
                rf"imap-login: (?:Info: )?Login: user=<{re.escape(user)}>[^\n]*TLS",
                timeout=60,
                since=mark,
            )
            assert login, imap.log_since(mark)[-2000:]
        state = client.run(READ_MERGED, key)
        client.quit()
    assert state["accounts"][0] == "account1" and key in state["accounts"]
    assert state["default"] == "account1"
    assert state["smtp"][:2] == ["smtp1", key]
    assert (state["existing_smtp"], state["our_smtp"]) == ("smtp1", key)
