"""``mailsetup check --csv`` against the real test servers: DNS once per domain, servers once,
a login per row with that row's password, one report per address.

Three mailboxes at the test domain on a Dovecot of the test's own (two with the right device
password, one with a wrong one), the session's aiosmtpd taught the same users, Radicale's sync
user shared by all three. The DNS test server counts every query it receives.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.check_cli import RUN_CLI, clean_env
from tests.servers.dns import GOOD_DOMAIN, DnsServer
from tests.servers.dovecot import IMAP_PASSWORD, IMAP_USER
from tests.servers.provider import ProviderSettings
from tests.servers.radicale import RadicaleServer
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.servers

INFO = f"info@{GOOD_DOMAIN}"
INFO_PASSWORD = "info-device-password-2Lm"
BOB = f"bob@{GOOD_DOMAIN}"
BOB_PASSWORD = "bob-device-password-9Zt"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def team(
    tmp_path: Path,
    dovecot_factory,
    smtp_server: SmtpServer,
    radicale: RadicaleServer,
    make_provider_file,
    provider_settings: ProviderSettings,
    dns_server: DnsServer,
    test_ca,
) -> Iterator[dict[str, object]]:
    imap = dovecot_factory(extra_users={INFO: INFO_PASSWORD, BOB: BOB_PASSWORD})
    smtp_server.extra_users.update({INFO: INFO_PASSWORD, BOB: BOB_PASSWORD})
    s = provider_settings
    for label, port in [
        ("_imaps._tcp", imap.imaps_port),
        ("_submission._tcp", s.smtp_port),
        ("_submissions._tcp", s.smtp_alternatives[0][0]),
        ("_caldavs._tcp", int(s.caldav_url.rsplit(":", 1)[1])),
        ("_carddavs._tcp", int(s.carddav_url.rsplit(":", 1)[1])),
    ]:
        name = f"{label}.{GOOD_DOMAIN}."
        dns_server.zone.remove(name, "SRV")
        dns_server.zone.add(f"{name} IN SRV 0 1 {port} localhost.")
    csv_path = tmp_path / "team.csv"
    csv_path.write_text(
        "email;name;sync_user\r\n"
        f"{IMAP_USER};Jane Doe;{radicale.user}\r\n"
        f"{INFO};Info;{radicale.user}\r\n"
        f"{BOB};Bob;{radicale.user}\r\n",
        encoding="utf-8",
    )
    secrets = tmp_path / "passwords.tsv"
    secrets.write_text(
        f"# test passwords\n{IMAP_USER}\t{IMAP_PASSWORD}\n{INFO}\t{INFO_PASSWORD}\n"
        f"{BOB}\tnot-bobs-password\nsync:{radicale.user}\t{radicale.password}\n"
    )
    secrets.chmod(0o600)
    args = [
        "check",
        "--csv",
        str(csv_path),
        "--provider-file",
        str(make_provider_file(imap_port=imap.imaps_port)),
        "--ca-file",
        str(test_ca.pem_path),
        "--resolver",
        dns_server.resolver_arg,
    ]
    yield {"args": args, "secrets": secrets, "imap": imap, "csv": csv_path}
    for user in (INFO, BOB):
        smtp_server.extra_users.pop(user, None)


def test_one_wrong_password_fails_one_row_and_dns_is_asked_once(team, dns_server, radicale):
    dns_server.queries.clear()
    env = {"MAILSETUP_PASSWORD_FILE": str(team["secrets"])}
    proc = run_cli(*team["args"], "--login", "--json", env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1, (proc.stderr, doc["summary"])
    verdicts = {r["email"]: r["verdict"] for r in doc["reports"]}
    assert verdicts == {IMAP_USER: "pass", INFO: "pass", BOB: "fail"}, doc
    assert [r["row"] for r in doc["reports"]] == [2, 3, 4]
    bob = next(r for r in doc["reports"] if r["email"] == BOB)
    failed = {p["name"]: p["fault"] for p in bob["probes"] if p["status"] == "fail"}
    assert failed == {"imap": "authentication failed", "smtp": "authentication failed"}
    imap_hint = next(p for p in bob["probes"] if p["name"] == "imap")["hint"]
    assert "MAILSETUP_PASSWORD_FILE or `mailsetup password set --email" in imap_hint
    info = next(r for r in doc["reports"] if r["email"] == INFO)
    assert next(p for p in info["probes"] if p["name"] == "imap")["evidence"]["login"] == INFO
    assert doc["summary"] == {
        "rows": 3, "pass": 2, "warn": 0, "fail": 1, "unchecked": 0,
    }  # fmt: skip
    assert doc["domains"] == 1

    # Every DNS question was asked once for the whole team, not once per row.
    asked = collections.Counter((q.name, q.qtype) for q in dns_server.queries)
    assert asked, "no DNS query reached the test server"
    assert max(asked.values()) == 1, asked
    assert (f"{GOOD_DOMAIN}.", "MX") in asked or (GOOD_DOMAIN, "MX") in asked

    # Logins per row, each with its own password; nothing secret in the output.
    imap_log = team["imap"].log_text()
    for user in (IMAP_USER, INFO):
        assert f"Login: user=<{user}>" in imap_log
    for secret in (IMAP_PASSWORD, INFO_PASSWORD, radicale.password, "not-bobs-password"):
        assert secret not in proc.stdout and secret not in proc.stderr


def test_table_per_row_and_summary(team):
    env = {"MAILSETUP_PASSWORD_FILE": str(team["secrets"])}
    proc = run_cli(*team["args"], "--login", "--parallel", "2", env=env)
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    for number, email in ((2, IMAP_USER), (3, INFO), (4, BOB)):
        assert f"Row {number}: {email}" in out
    summary = out[out.index("\nSummary\n") :]
    assert f"row 4     {BOB}" in summary and "FAIL" in summary
    assert "3 rows: 2 pass, 0 warn, 1 fail, 0 not checked" in summary
    assert "\x1b[" not in out


def test_a_readable_password_file_is_refused(team):
    os.chmod(team["secrets"], 0o644)
    proc = run_cli(*team["args"], "--login", env={"MAILSETUP_PASSWORD_FILE": str(team["secrets"])})
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.startswith("mailsetup: error: MAILSETUP_PASSWORD_FILE")
    assert "chmod 600" in proc.stderr
    assert proc.stdout == ""


def test_a_row_without_a_password_is_not_checked_and_exit_6(team, tmp_path):
    partial = tmp_path / "partial.tsv"
    partial.write_text(f"{IMAP_USER}\t{IMAP_PASSWORD}\n")
    partial.chmod(0o600)
    proc = run_cli(
        *team["args"], "--login", "--json", env={"MAILSETUP_PASSWORD_FILE": str(partial)}
    )
    assert proc.returncode == 6, proc.stderr
    doc = json.loads(proc.stdout)
    assert [u["row"] for u in doc["unchecked"]] == [3, 4]
    assert "no password" in doc["unchecked"][0]["reason"]


def test_without_login_every_row_shares_the_same_probes(team, dns_server):
    dns_server.queries.clear()
    proc = run_cli(*team["args"], "--json")
    assert proc.returncode == 0, proc.stdout
    doc = json.loads(proc.stdout)
    assert {r["verdict"] for r in doc["reports"]} == {"pass"}
    names = [p["name"] for p in doc["reports"][0]["probes"]]
    assert names[:5] == ["dns.mx", "dns.spf", "dns.dmarc", "dns.dkim", "dns.discovery"]
    asked = collections.Counter((q.name, q.qtype) for q in dns_server.queries)
    assert max(asked.values()) == 1, asked


def test_invalid_rows_are_named_and_the_others_checked(team, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"email\n{IMAP_USER}\nnot an address\n{IMAP_USER.upper()}\n")
    args = list(team["args"])
    args[args.index("--csv") + 1] = str(bad)
    proc = run_cli(*args, "--json")
    assert proc.returncode == 6
    assert "row 3 (not an address)" in proc.stderr
    assert "row 4" in proc.stderr and "duplicate address: already in row 2" in proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["email"] for r in doc["reports"]] == [IMAP_USER]


def test_offline_is_said_once_and_dns_rows_are_not_checked(team, dns_blackhole):
    args = list(team["args"])
    args[args.index("--resolver") + 1] = dns_blackhole.resolver_arg
    proc = run_cli(*args, "--json", "--timeout", "2")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    for report in doc["reports"]:
        assert len(report["notices"]) == 1 and "DNS was not checked" in report["notices"][0]
        dns = [p for p in report["probes"] if p["protocol"] == "dns"]
        assert {p["fault"] for p in dns} == {"no working resolver"}
        assert {p["status"] for p in report["probes"] if p["protocol"] != "dns"} == {"pass"}


def test_a_server_that_is_down_gets_no_row_passwords(team, make_provider_file, refused_port):
    args = list(team["args"])
    args[args.index("--provider-file") + 1] = str(make_provider_file(imap_port=refused_port))
    env = {"MAILSETUP_PASSWORD_FILE": str(team["secrets"])}
    proc = run_cli(*args, "--login", "--json", env=env)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    for report in doc["reports"]:
        imap = next(p for p in report["probes"] if p["name"] == "imap")
        assert (imap["status"], imap["fault"]) == ("fail", "refused"), imap
        assert report["verdict"] == "fail"
    # SMTP still logged in per row: jane and info pass, bob fails.
    smtp = {r["email"]: next(p for p in r["probes"] if p["name"] == "smtp") for r in doc["reports"]}
    assert [smtp[e]["status"] for e in (IMAP_USER, INFO, BOB)] == ["pass", "pass", "fail"]
