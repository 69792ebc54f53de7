"""``check`` probes what the provider has and speaks in the provider's words, not Infomaniak's.

Issue 9 §1 (last bullet): a mail-only provider gets no DAV rows, a DAV-only one no IMAP/SMTP
rows. Issue 10 §4: with another provider's file ("Acme Mail"), check's table, hints and JSON
mention neither Infomaniak, nor its products, nor its sync-id format.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import email_validator
import pytest

from mailsetup.account import make_account
from mailsetup.check.faults import CATALOGUE, FaultName
from mailsetup.check.hints import hint_for
from mailsetup.check.plan import CheckOptions, run_check
from mailsetup.check.report import ProbeResult
from mailsetup.check.table import format_json, format_plain
from mailsetup.provider import Provider, load_provider, parse_provider
from tests.check_cli import RUN_CLI, CheckEnv, clean_env
from tests.servers.ca import CertAuthority
from tests.servers.dns import NO_SPF_DOMAIN, DnsServer
from tests.servers.dovecot import DovecotServer
from tests.servers.provider import ProviderSettings
from tests.test_provider_neutral import FOREIGN

pytestmark = pytest.mark.servers

# Infomaniak, its products, and its sync-id format (two letters, five digits).
ACME_SYNC_HINT = "use the sync name from the Acme Mail dashboard and its app password"


def acme_toml(settings: ProviderSettings) -> str:
    """The test servers' provider file, as another provider ("Acme Mail") would write it."""
    text = settings.replace(name="Acme Mail", provider_id="acme").toml()
    text = re.sub(
        r"(?m)^sync_password_hint = .*$", f'sync_password_hint = "{ACME_SYNC_HINT}"', text
    )
    assert not FOREIGN.search(text), "the Acme file itself must be neutral"
    return text


@pytest.fixture
def acme(provider_settings: ProviderSettings, tmp_path: Path) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text(acme_toml(provider_settings), encoding="utf-8")
    return path


@pytest.fixture
def test_domains(monkeypatch: pytest.MonkeyPatch) -> None:
    """Allow the reserved ``.test`` domain in-process, as tests/check_cli.py does for the CLI."""
    monkeypatch.setattr(email_validator, "TEST_ENVIRONMENT", True)


def _run(provider: Provider, dns_server: DnsServer, test_ca: CertAuthority) -> list[str]:
    from mailsetup.check.dns import parse_nameserver

    account = make_account("jane.doe@example.test", sync_user="acme-jane")
    options = CheckOptions(
        timeout=5, nameserver=parse_nameserver(dns_server.resolver_arg), ca_file=test_ca.pem_path
    )
    report = run_check(account, provider, options)
    assert report.notices == ()
    return [p.name for p in report.probes]


# --- only the services the provider has --------------------------------------------------------


def test_mail_only_provider_has_no_dav_rows(
    acme: Path, dns_server: DnsServer, test_ca: CertAuthority, test_domains: None
) -> None:
    provider = load_provider(path=acme)
    mail_only = dataclasses.replace(
        provider, caldav_service=None, carddav_service=None
    )  # no [caldav]/[carddav]
    names = _run(mail_only, dns_server, test_ca)
    assert "caldav" not in names and "carddav" not in names
    assert {"dns.mx", "dns.spf", "imap", "smtp"} <= set(names)


def test_dav_only_provider_has_no_mail_rows(
    acme: Path, dns_server: DnsServer, test_ca: CertAuthority, test_domains: None
) -> None:
    provider = load_provider(path=acme)
    dav_only = dataclasses.replace(
        provider, imap_endpoint=None, smtp_endpoint=None, smtp_alternatives=()
    )
    assert _run(dav_only, dns_server, test_ca) == ["dns.discovery", "caldav", "carddav"]


def test_mail_only_provider_file_through_the_cli(
    acme: Path, dns_server: DnsServer, test_ca: CertAuthority, tmp_path: Path
) -> None:
    """The same from a file without [caldav]/[carddav]."""
    text = re.sub(r"(?ms)^\[(caldav|carddav)\]\n.*?\n\n", "", acme.read_text(encoding="utf-8"))
    assert "[caldav]" not in text
    mail_only = tmp_path / "mail-only.toml"
    mail_only.write_text(text, encoding="utf-8")
    env = CheckEnv(mail_only, test_ca.pem_path, dns_server.resolver_arg)
    proc = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "check", *env.args("--json")],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert '"name": "caldav"' not in proc.stdout and '"name": "imap"' in proc.stdout


# --- no Infomaniak wording with another provider -----------------------------------------------


def test_every_hint_is_neutral_for_another_provider(acme: Path) -> None:
    provider = load_provider(path=acme)
    account = make_account("jane.doe@example.ch", sync_user="acme-jane")
    for fault in FaultName:
        for protocol in ("dns", "imap", "smtp", "caldav"):
            row = ProbeResult(
                "row", protocol, "host.example.net:993", CATALOGUE[fault].status, "d", 0, fault
            )
            hint = hint_for(row, provider, account) or ""
            assert not FOREIGN.search(hint), (fault, hint)


def test_infomaniak_words_its_own_dkim_hint() -> None:
    provider = load_provider()
    account = make_account("jane.doe@example.ch")
    row = ProbeResult("dns.dkim", "dns", "example.ch", "fail", "d", 0, FaultName.MISSING_DKIM)
    assert "Infomaniak's Mail Service" in str(hint_for(row, provider, account))


def test_check_output_for_acme_names_no_infomaniak(
    acme: Path, test_ca: CertAuthority, dns_server: DnsServer, dovecot: DovecotServer
) -> None:
    """Table and JSON with faults that carry hints: wrong passwords, missing SPF/DMARC/DKIM."""
    env = CheckEnv(acme, test_ca.pem_path, dns_server.resolver_arg)
    wrong = clean_env({"MAILSETUP_PASSWORD": "wrong", "MAILSETUP_SYNC_PASSWORD": "wrong"})
    outputs = []
    for extra in (["--json"], []):
        for login in ([], ["--login", "--sync-user", "acme-jane"]):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    RUN_CLI,
                    "check",
                    *env.args(*extra, *login, email=f"jane@{NO_SPF_DOMAIN}"),
                ],
                env=wrong,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert proc.returncode == 1, proc.stderr
            outputs.append(proc.stdout + proc.stderr)
    text = "\n".join(outputs)
    assert "authentication failed" in text and "missing SPF" in text and "hint" in text
    assert ACME_SYNC_HINT in text and "Acme Mail" in text
    assert not FOREIGN.search(text), FOREIGN.findall(text)


def test_provider_hint_table_is_validated(acme: Path) -> None:
    from mailsetup.check.hints import validate_hints
    from mailsetup.errors import ProviderError

    base = acme.read_text(encoding="utf-8")
    for bad in ('"no such fault" = "x"', '"missing DKIM" = "see {secret_field}"'):
        provider = parse_provider(base + f"\n[check.hints]\n{bad}\n", "acme.toml")
        with pytest.raises(ProviderError) as caught:
            validate_hints(provider)
        assert caught.value.exit_code == 3


def test_provider_hint_replaces_the_catalogue_one(acme: Path) -> None:
    base = acme.read_text(encoding="utf-8")
    provider = parse_provider(
        base + '\n[check.hints]\n"refused" = "Acme: is {target} blocked? {email}"\n', "acme.toml"
    )
    account = make_account("jane.doe@example.ch")
    row = ProbeResult("imap", "imap", "imap.acme.example:993", "fail", "d", 0, "refused")
    assert hint_for(row, provider, account) == (
        "Acme: is imap.acme.example:993 blocked? jane.doe@example.ch"
    )
    # Plain and JSON tables quote it as it is.
    from mailsetup.check.report import Report

    report = Report("jane.doe@example.ch", "acme", False, (dataclasses.replace(row, hint="h"),))
    assert "hint: imap: h" in format_plain(report) and '"hint": "h"' in format_json(report)
