"""Real Thunderbird, one generated user.js with two mailboxes: both accounts log in.

``mailsetup profile --client thunderbird -e A -e B`` for a provider file pointing at a Dovecot
of the test's own (both mailboxes), aiosmtpd and Radicale. The same steps as the
single-account end-to-end test (tests/test_thunderbird_e2e.py, whose helpers are reused):
passwords saved first in a profile without accounts, then the user.js copied in unchanged and
Thunderbird started again. Dovecot's log must show a TLS login of each address, and
Thunderbird must report two accounts with their own identity and SMTP server, and one calendar
and one address book for the shared sync user.
"""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from tests.prefs_js import parse_user_js
from tests.test_thunderbird_e2e import (
    RADICALE_REALM,
    SAVE_LOGINS,
    make_profile,
    marionette,
    thunderbird,
)

pytestmark = [pytest.mark.slow, pytest.mark.servers, pytest.mark.timeout(240)]

USERS = {
    "jane.doe@example.org": "jane-device-password-5Hq",
    "info@example.org": "info-device-password-8Wn",
}
NAMES = ["Jane Doe", 'Info "Desk"']

READ_ACCOUNTS = """
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const { cal } = ChromeUtils.importESModule("resource:///modules/calendar/calUtils.sys.mjs");
const keys = arguments[0];
const found = keys.map(key => {
  const account = MailServices.accounts.getAccount(key);
  if (!account) return null;
  const identity = account.defaultIdentity;
  const smtp = MailServices.outgoingServer.getServerByIdentity(identity);
  return [account.incomingServer.username, identity.email, identity.fullName,
          smtp ? smtp.key : null];
});
const books = MailServices.ab.directories.filter(
  d => d.dirPrefId.startsWith("ldap_2.servers.mailsetup_"));
const calendars = cal.manager.getCalendars().filter(c => c.id.startsWith("mailsetup_"));
return {found, books: books.length, calendars: calendars.length};
"""


def test_thunderbird_logs_in_both_accounts_of_one_user_js(
    tmp_path, dovecot_factory, make_provider_file, radicale, smtp_server, test_ca
):
    imap = dovecot_factory(extra_users=USERS)
    smtp_server.extra_users.update(USERS)
    try:
        provider_file = make_provider_file(
            imap_port=imap.imaps_port,
            caldav_url=radicale.calendar_url.rstrip("/"),
            carddav_url=radicale.addressbook_url.rstrip("/"),
        )
        out = tmp_path / "out"
        args = ["profile", "--client", "thunderbird", "--sync-user", radicale.user]
        for email, name in zip(USERS, NAMES, strict=True):
            args += ["-e", email, "-n", name]
        subprocess.run(
            [sys.executable, "-m", "mailsetup", *args, "--provider-file", str(provider_file),
             "-o", str(out)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        user_js = (out / "user.js").read_text()
        keys = dict(parse_user_js(user_js))["mail.accountmanager.appendaccounts"].split(",")
        assert len(keys) == 2

        profile = make_profile(tmp_path, test_ca.pem_path)
        dav = urlsplit(radicale.base_url)
        logins = [
            [f"{scheme}://localhost", f"{scheme}://localhost", email, password]
            for email, password in USERS.items()
            for scheme in ("imap", "smtp")
        ] + [
            [f"https://{dav.hostname}:{dav.port}", RADICALE_REALM, radicale.user, radicale.password]
        ]
        with thunderbird(profile) as process, marionette(profile) as client:
            assert client.run(SAVE_LOGINS, logins) == len(logins)
            client.quit()
            process.wait(30)

        (profile / "user.js").write_text(user_js)
        mark = imap.log_mark()
        with thunderbird(profile), marionette(profile) as client:
            seen = []
            for email in USERS:
                login = imap.wait_for_log(
                    rf"imap-login: (?:Info: )?Login: user=<{re.escape(email)}>[^\n]*TLS",
                    timeout=60,
                    since=mark,
                )
                assert login, imap.log_since(mark)[-2000:]
                seen.append(login.group(0))
            state = client.run(READ_ACCOUNTS, keys)
            client.quit()
        assert state["found"] == [
            [email, email, name, key]
            for (email, name), key in zip(zip(USERS, NAMES, strict=True), keys, strict=True)
        ]
        assert (state["books"], state["calendars"]) == (1, 1)  # one sync user: once
        for line in seen:
            print(line)
    finally:
        for email in USERS:
            smtp_server.extra_users.pop(email, None)
