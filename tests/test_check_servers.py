"""``mailsetup check`` against real servers on loopback: Dovecot, aiosmtpd, Radicale, dnslib.

Every fault class of issue 4 is provoked on a real socket and must come back on its own row,
named in words, within its timeout; the other rows of the same run keep working.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.check_cli import Checked, CheckEnv, run_check
from tests.servers.ca import CertAuthority
from tests.servers.dns import (
    GOOD_DOMAIN,
    NO_SPF_DOMAIN,
    NXDOMAIN_DOMAIN,
    SERVFAIL_DOMAIN,
    TIMEOUT_DOMAIN,
    TWO_SPF_DOMAIN,
    WRONG_MX_DOMAIN,
    Blackhole,
    DnsServer,
)
from tests.servers.dovecot import DovecotServer
from tests.servers.faults import HangingServer, Reply, multistatus
from tests.servers.provider import ProviderSettings
from tests.servers.radicale import RadicaleServer
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.servers

ALL_PROBES = [
    "dns.mx",
    "dns.spf",
    "dns.dmarc",
    "dns.dkim",
    "dns.discovery",
    "imap",
    "smtp",
    "smtp.{smtps}",
    "caldav",
    "carddav",
]


@pytest.fixture
def servers(
    provider_file: Path,
    provider_settings: ProviderSettings,
    test_ca: CertAuthority,
    dns_server: DnsServer,
) -> CheckEnv:
    """The session's servers, with the test zone's discovery records pointing at them."""
    s = provider_settings
    smtps_port = s.smtp_alternatives[0][0]
    for label, port in [
        ("_imaps._tcp", s.imap_port),
        ("_submission._tcp", s.smtp_port),
        ("_submissions._tcp", smtps_port),
        ("_caldavs._tcp", int(s.caldav_url.rsplit(":", 1)[1])),
        ("_carddavs._tcp", int(s.carddav_url.rsplit(":", 1)[1])),
    ]:
        name = f"{label}.{GOOD_DOMAIN}."
        dns_server.zone.remove(name, "SRV")
        dns_server.zone.add(f"{name} IN SRV 0 1 {port} localhost.")
    return CheckEnv(provider_file, test_ca.pem_path, dns_server.resolver_arg)


@pytest.fixture
def login_env(dovecot: DovecotServer, radicale: RadicaleServer) -> dict[str, str]:
    return {"MAILSETUP_PASSWORD": dovecot.password, "MAILSETUP_SYNC_PASSWORD": radicale.password}


def assert_within(probe: dict[str, object], timeout: float) -> None:
    """A fault must be reported within the probe's own timeout (plus the runner's grace)."""
    elapsed = probe["elapsed_ms"]
    assert isinstance(elapsed, int)
    assert elapsed <= timeout * 1000 + 500, probe


def assert_fault(run: Checked, name: str, fault: str, status: str = "fail") -> dict[str, object]:
    # "unexpected error" is a bug report: no fault provoked here may end as one, on any row.
    assert all(p["fault"] != "unexpected error" for p in run.doc["probes"]), run.doc["probes"]
    probe = run.probe(name)
    assert (probe["status"], probe["fault"]) == (status, fault), probe
    assert fault.lower() in str(probe["detail"]).lower(), probe
    if status == "fail":
        assert run.code == 1
        assert run.doc["verdict"] == "fail"
    return probe


# --- everything works --------------------------------------------------------------------------


def test_every_probe_passes_on_working_servers(
    servers: CheckEnv, provider_settings: ProviderSettings
) -> None:
    run = servers.json()
    smtps = provider_settings.smtp_alternatives[0][0]
    names = [n.format(smtps=smtps) for n in ALL_PROBES]
    assert [p["name"] for p in run.doc["probes"]] == names
    assert run.statuses() == dict.fromkeys(names, "pass"), run.doc
    assert run.code == 0
    assert run.doc["verdict"] == "pass"
    assert run.doc["login"] is False
    assert run.doc["schema"] == "mailsetup.check/1"
    assert run.doc["summary"] == {"pass": 10, "warn": 0, "fail": 0, "skip": 0}
    for p in run.doc["probes"]:  # the documented keys, on the real command's output
        assert set(p) == {
            "name", "protocol", "target", "status", "detail", "fault", "elapsed_ms", "hint",
            "evidence",
        }  # fmt: skip
        assert p["fault"] is None and p["hint"] is None
        assert isinstance(p["elapsed_ms"], int) and p["elapsed_ms"] >= 0
    imap = run.probe("imap")["evidence"]
    assert imap["tls"]["version"] in ("TLSv1.2", "TLSv1.3")
    assert imap["tls"]["name_match"] is True
    assert "localhost" in imap["tls"]["names"]
    assert imap["tls"]["days_left"] > 14
    assert "IMAP4REV1" in imap["capabilities"]
    smtp = run.probe("smtp")["evidence"]
    assert "starttls" in smtp["extensions_before_tls"]
    assert smtp["auth_mechanisms"]  # offered after TLS
    assert run.probe(f"smtp.{smtps}")["evidence"]["tls"]["version"].startswith("TLS")
    assert run.probe("caldav")["evidence"]["well_known"]["redirects"]
    assert "calendar-access" in run.probe("caldav")["evidence"]["dav"]
    assert "addressbook" in run.probe("carddav")["evidence"]["dav"]
    mx = run.probe("dns.mx")["evidence"]["mx"]
    assert [m["host"] for m in mx] == ["mx1.mail.test", "mx2.mail.test"]
    assert run.probe("dns.spf")["evidence"]["lookups"] == 1
    assert run.probe("dns.dmarc")["evidence"]["policy"] == "quarantine"
    assert "mail" in run.probe("dns.dkim")["evidence"]["selectors"]
    assert "_imaps._tcp" in run.probe("dns.discovery")["evidence"]["records"]


def test_login_logs_in_everywhere_and_lists_collections(
    servers: CheckEnv,
    login_env: dict[str, str],
    dovecot: DovecotServer,
    smtp_server: SmtpServer,
    radicale: RadicaleServer,
) -> None:
    mark = dovecot.log_mark()
    smtp_server.clear_events()
    run = servers.json("--login", "--sync-user", radicale.user, env=login_env)
    assert run.code == 0, run.doc
    assert run.doc["login"] is True
    assert set(run.statuses().values()) == {"pass"}
    imap = run.probe("imap")
    assert imap["evidence"]["login"] == dovecot.user
    assert "INBOX" in imap["evidence"]["inbox"]
    assert dovecot.wait_for_log(rf"Login: user=<{dovecot.user}>", 5, since=mark)
    auths = [e for e in smtp_server.events_of("auth") if e.success]
    assert {e.listener for e in auths} == {"submission", "smtps"}
    assert all(e.tls and e.login == smtp_server.user for e in auths)
    assert not smtp_server.events_of("message")  # AUTH, then QUIT: nothing is ever sent
    caldav = run.probe("caldav")["evidence"]
    assert caldav["principal"] == f"/{radicale.user}/"
    hrefs = [c["href"] for c in caldav["collections"]]
    assert radicale.calendar_url.split(str(radicale.port))[1] in hrefs
    carddav = run.probe("carddav")["evidence"]
    assert radicale.addressbook_url.split(str(radicale.port))[1] in [
        c["href"] for c in carddav["collections"]
    ]
    for secret in login_env.values():
        assert secret not in run.proc.stdout
        assert secret not in run.proc.stderr


def test_imap_with_starttls_when_the_provider_says_so(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    dovecot: DovecotServer,
    login_env: dict[str, str],
) -> None:
    pf = make_provider_file(imap_port=dovecot.imap_port, imap_security="starttls")
    run = servers.json("--login", provider_file=pf, env=login_env)
    imap = run.probe("imap")
    assert imap["status"] == "pass", imap
    assert imap["evidence"]["tls"]["version"].startswith("TLS")


def test_plain_table_when_piped(servers: CheckEnv) -> None:
    proc = run_check(*servers.args())
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["STATUS", "PROBE", "TIME", "DETAIL"]
    rows = {line.split()[1]: line.split()[0] for line in lines[1:11]}
    assert rows["imap"] == "PASS" and rows["caldav"] == "PASS"
    assert lines[-1].startswith("OK: everything checked works")
    assert "\x1b[" not in proc.stdout


def test_terminal_table_on_a_tty(servers: CheckEnv) -> None:
    from tests.cli import on_a_terminal

    code, screen = on_a_terminal("check", *servers.args(), timeout=60)
    assert code == 0, screen
    assert "✓ pass" in screen
    assert "imap" in screen and "carddav" in screen
    assert "OK: everything checked works" in screen


# --- connection and TLS faults -----------------------------------------------------------------


def test_refused(
    servers: CheckEnv, make_provider_file: Callable[..., Path], refused_port: int
) -> None:
    pf = make_provider_file(imap_port=refused_port)
    run = servers.json("--timeout", "3", provider_file=pf)
    probe = assert_fault(run, "imap", "refused")
    assert_within(probe, 3)
    assert str(refused_port) in str(probe["hint"])
    assert run.probe("smtp")["status"] == "pass"  # one broken server does not hide the others


@pytest.mark.parametrize("which", ["imap", "smtp", "caldav"])
def test_server_that_never_answers_is_a_timeout(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    hanging_server: HangingServer,
    which: str,
) -> None:
    port = hanging_server.port
    change: dict[str, object] = {
        "imap": {"imap_port": port},
        "smtp": {"smtp_port": port},
        "caldav": {"caldav_url": f"https://localhost:{port}"},
    }[which]
    pf = make_provider_file(**change)
    started = time.monotonic()
    run = servers.json("--timeout", "1.5", provider_file=pf)
    wall = time.monotonic() - started
    probe = assert_fault(run, which, "timeout")
    assert_within(probe, 1.5)
    assert "1.5 s" in str(probe["detail"])
    assert hanging_server.accepted >= 1
    assert wall < 10  # the whole run, interpreter start included


def test_certificate_name_mismatch_on_imap(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    dovecot_factory: Callable[..., DovecotServer],
    test_ca: CertAuthority,
) -> None:
    wrong = dovecot_factory(cert=test_ca.issue(["mail.other.test"]))
    pf = make_provider_file(imap_port=wrong.imaps_port)
    run = servers.json("--timeout", "5", provider_file=pf)
    probe = assert_fault(run, "imap", "certificate name mismatch")
    assert "localhost" in str(probe["detail"])
    assert "proxy" in str(probe["hint"])


def test_expired_certificate_on_smtp(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    smtp_factory: Callable[..., SmtpServer],
    test_ca: CertAuthority,
) -> None:
    expired = smtp_factory(cert=test_ca.issue(expired=True))
    pf = make_provider_file(smtp_port=expired.submission_port)
    run = servers.json("--timeout", "5", provider_file=pf)
    probe = assert_fault(run, "smtp", "certificate expired")
    assert "clock" in str(probe["hint"])


@pytest.mark.parametrize(
    ("kind", "fault"),
    [
        ("untrusted", "untrusted certificate"),
        ("expired", "certificate expired"),
        ("wrong-name", "certificate name mismatch"),
    ],
)
def test_certificate_faults_on_dav(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
    test_ca: CertAuthority,
    untrusted_ca: CertAuthority,
    kind: str,
    fault: str,
) -> None:
    cert = {
        "untrusted": untrusted_ca.issue(),
        "expired": test_ca.issue(expired=True),
        "wrong-name": test_ca.issue(["sync.other.test"]),
    }[kind]
    responder = https_responder(status=207, cert=cert)
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    run = servers.json("--timeout", "5", provider_file=pf)
    assert_fault(run, "caldav", fault)


def test_untrusted_ca_without_ca_file(
    servers: CheckEnv, make_provider_file: Callable[..., Path]
) -> None:
    """The system store does not know the test CA: every TLS probe must refuse it."""
    proc = run_check(
        "--json",
        "--email",
        servers.email,
        "--provider-file",
        str(servers.provider_file),
        "--resolver",
        servers.resolver,
        "--timeout",
        "5",
    )
    import json

    run = Checked(proc, json.loads(proc.stdout))
    for name in ("imap", "smtp", "caldav", "carddav"):
        assert run.probe(name)["fault"] == "untrusted certificate", run.probe(name)
    assert run.code == 1


def test_starttls_not_offered(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    smtp_server: SmtpServer,
    provider_settings: ProviderSettings,
) -> None:
    pf = make_provider_file(smtp_port=smtp_server.no_starttls_port)
    run = servers.json("--timeout", "3", provider_file=pf)
    probe = assert_fault(run, "smtp", "STARTTLS not offered")
    # The hint names the implicit-TLS port this provider file lists.
    assert f"port {provider_settings.smtp_alternatives[0][0]}" in str(probe["hint"])
    assert "starttls" not in probe["evidence"]["extensions_before_tls"]


# --- credentials -------------------------------------------------------------------------------


def test_wrong_mail_password(
    servers: CheckEnv, radicale: RadicaleServer, provider_settings: ProviderSettings
) -> None:
    env = {"MAILSETUP_PASSWORD": "not-the-password", "MAILSETUP_SYNC_PASSWORD": radicale.password}
    run = servers.json("--login", "--sync-user", radicale.user, env=env)
    smtps = provider_settings.smtp_alternatives[0][0]
    for name in ("imap", "smtp", f"smtp.{smtps}"):
        probe = assert_fault(run, name, "authentication failed")
        assert "use the test device password" in str(probe["hint"])  # the provider's words
    assert "AUTHENTICATIONFAILED" in run.probe("imap")["detail"]  # the server's own words
    assert "b'" not in run.probe("imap")["detail"]
    assert run.probe("caldav")["status"] == "pass"
    assert "not-the-password" not in run.proc.stdout


def test_wrong_sync_password(servers: CheckEnv, dovecot: DovecotServer) -> None:
    env = {"MAILSETUP_PASSWORD": dovecot.password, "MAILSETUP_SYNC_PASSWORD": "wrong-sync"}
    run = servers.json("--login", "--sync-user", "AB12345", env=env, timeout=90)
    for name in ("caldav", "carddav"):
        probe = assert_fault(run, name, "authentication failed")
        assert "sync username AB12345" in str(probe["hint"])
    assert run.probe("imap")["status"] == "pass"


def test_login_password_from_the_keyring(
    servers: CheckEnv, dovecot: DovecotServer, radicale: RadicaleServer, tmp_path: Path
) -> None:
    """``mailsetup password set`` stores it; ``check --login`` finds it without any variable."""
    import subprocess
    import sys

    from tests.check_cli import RUN_CLI, clean_env

    keyring_env = {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path),
    }
    for args, secret in (
        ([], dovecot.password),
        (["--sync-user", radicale.user], radicale.password),
    ):
        stored = subprocess.run(
            [sys.executable, "-c", RUN_CLI, "password", "set", "--email", servers.email, *args],
            env=clean_env(keyring_env),
            input=secret + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert stored.returncode == 0, stored.stderr
    run = servers.json("--login", "--sync-user", radicale.user, env=keyring_env)
    assert run.code == 0, run.doc
    assert run.probe("imap")["evidence"]["login"] == dovecot.user
    assert run.probe("caldav")["evidence"]["login"] == radicale.user


def test_login_without_any_password_source_is_exit_5(servers: CheckEnv) -> None:
    proc = run_check(*servers.args("--login"))
    assert proc.returncode == 5
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mailsetup: error: ")
    assert "MAILSETUP_PASSWORD" in lines[0]


# --- DNS faults --------------------------------------------------------------------------------


def test_nxdomain(servers: CheckEnv) -> None:
    run = servers.json(email=f"jane@{NXDOMAIN_DOMAIN}")
    probe = assert_fault(run, "dns.mx", "NXDOMAIN")
    assert "spelling" in str(probe["hint"])
    assert run.probe("dns.spf")["fault"] == "NXDOMAIN"


def test_servfail(servers: CheckEnv) -> None:
    run = servers.json(email=f"jane@{SERVFAIL_DOMAIN}")
    for name in ("dns.mx", "dns.spf"):
        assert_fault(run, name, "SERVFAIL")
    assert "DNSSEC" in str(run.probe("dns.mx")["hint"])


def test_dns_timeout(servers: CheckEnv) -> None:
    run = servers.json("--timeout", "1", email=f"jane@{TIMEOUT_DOMAIN}")
    for name in ("dns.mx", "dns.spf", "dns.dmarc"):
        probe = assert_fault(run, name, "timeout")
        assert_within(probe, 1)


def test_resolver_that_never_answers(servers: CheckEnv, dns_blackhole: Blackhole) -> None:
    proc = run_check(
        "--json",
        *servers.args("--timeout", "1"),
        "--resolver",
        dns_blackhole.resolver_arg,
    )
    import json

    run = Checked(proc, json.loads(proc.stdout))
    # Said once, at the top; every DNS row says the same instead of contradicting the others.
    assert len(run.doc["notices"]) == 1
    assert "no working resolver" in run.doc["notices"][0]
    for name in ("dns.mx", "dns.spf", "dns.dmarc", "dns.dkim", "dns.discovery"):
        probe = assert_fault(run, name, "no working resolver")
        assert_within(probe, 1)
    assert run.probe("imap")["status"] == "pass"


def test_no_mx(servers: CheckEnv, dns_server: DnsServer) -> None:
    dns_server.zone.remove(f"{GOOD_DOMAIN}.", "MX")
    run = servers.json()
    probe = assert_fault(run, "dns.mx", "no MX")
    assert "MX" in str(probe["detail"])


def test_missing_spf_and_dmarc(servers: CheckEnv) -> None:
    run = servers.json(email=f"jane@{NO_SPF_DOMAIN}")
    spf = assert_fault(run, "dns.spf", "missing SPF")
    assert "v=spf1 include:spf.mail.test -all" in str(spf["hint"])
    dmarc = assert_fault(run, "dns.dmarc", "missing DMARC", status="warn")
    assert f"_dmarc.{NO_SPF_DOMAIN}" in str(dmarc["hint"])
    assert run.probe("dns.dkim")["fault"] == "missing DKIM"


def test_missing_dmarc_alone_is_a_warning_not_a_failure(
    servers: CheckEnv, dns_server: DnsServer
) -> None:
    dns_server.zone.remove(f"_dmarc.{GOOD_DOMAIN}.")
    run = servers.json()
    assert_fault(run, "dns.dmarc", "missing DMARC", status="warn")
    assert run.doc["verdict"] == "warn"
    assert run.code == 0


def test_two_spf_records(servers: CheckEnv) -> None:
    run = servers.json(email=f"jane@{TWO_SPF_DOMAIN}")
    assert_fault(run, "dns.spf", "more than one SPF record")
    assert_fault(run, "dns.dmarc", "DMARC p=none", status="warn")


def test_mx_and_spf_of_another_provider(servers: CheckEnv) -> None:
    run = servers.json(email=f"jane@{WRONG_MX_DOMAIN}")
    mx = assert_fault(run, "dns.mx", "MX not at provider")
    assert "mx.other.test" in str(mx["detail"])
    assert_fault(run, "dns.spf", "SPF without provider include")


def test_spf_over_ten_lookups(servers: CheckEnv, dns_server: DnsServer) -> None:
    dns_server.zone.remove(f"{GOOD_DOMAIN}.", "TXT")
    terms = " ".join(f"a:h{i}.mail.test" for i in range(10))
    dns_server.zone.add(f'{GOOD_DOMAIN}. IN TXT "v=spf1 include:spf.mail.test {terms} -all"')
    run = servers.json()
    probe = assert_fault(run, "dns.spf", "too many SPF lookups")
    assert probe["evidence"]["lookups"] == 11


def test_discovery_records_pointing_elsewhere_warn(
    servers: CheckEnv, dns_server: DnsServer
) -> None:
    dns_server.zone.remove(f"_imaps._tcp.{GOOD_DOMAIN}.", "SRV")
    dns_server.zone.add(f"_imaps._tcp.{GOOD_DOMAIN}. IN SRV 0 1 993 imap.elsewhere.test.")
    run = servers.json()
    probe = assert_fault(run, "dns.discovery", "SRV mismatch", status="warn")
    assert "imap.elsewhere.test:993" in str(probe["detail"])
    assert run.code == 0


def test_missing_dkim(servers: CheckEnv, dns_server: DnsServer) -> None:
    dns_server.zone.remove(f"mail._domainkey.{GOOD_DOMAIN}.")
    run = servers.json()
    assert_fault(run, "dns.dkim", "missing DKIM")


# --- DAV faults --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500])
def test_dav_server_answering_an_error(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
    status: int,
) -> None:
    responder = https_responder(status=status)
    pf = make_provider_file(caldav_url=responder.url, carddav_url=responder.url)  # type: ignore[attr-defined]
    run = servers.json("--timeout", "3", provider_file=pf)
    for name in ("caldav", "carddav"):
        probe = assert_fault(run, name, "DAV 404" if status == 404 else "DAV 5xx")
        assert str(status) in str(probe["detail"])
        assert probe["hint"]


def test_dav_without_the_calendar_class(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
) -> None:
    responder = https_responder(
        routes={"/.well-known/caldav": Reply(301, b"", {"Location": "/dav/"})},
        status=200,
        headers={"DAV": "1, 2, addressbook"},
    )
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    run = servers.json("--timeout", "3", provider_file=pf)
    probe = assert_fault(run, "caldav", "not a CalDAV server")
    assert "calendar-access" in str(probe["detail"])


def test_dav_response_too_large_is_bounded(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
    radicale: RadicaleServer,
    login_env: dict[str, str],
) -> None:
    big = 3 * 1024 * 1024
    responder = https_responder(status=207, body=big, headers={"DAV": "1, calendar-access"})
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    run = servers.json(
        "--login", "--sync-user", radicale.user, "--timeout", "5", provider_file=pf, env=login_env
    )
    assert_fault(run, "caldav", "server reply too long")


def test_dav_hostile_xml_is_refused(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
    radicale: RadicaleServer,
    login_env: dict[str, str],
) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><d:multistatus xmlns:d="DAV:">&b;'
        b"</d:multistatus>"
    )
    responder = https_responder(status=207, body=bomb, headers={"DAV": "1, calendar-access"})
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    run = servers.json(
        "--login", "--sync-user", radicale.user, "--timeout", "5", provider_file=pf, env=login_env
    )
    assert_fault(run, "caldav", "bad XML")


# --- exit codes for bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "code", "word"),
    [
        (["--timeout", "0"], 2, "--timeout"),
        (["--resolver", "dns.example"], 2, "--resolver"),
        (["--ca-file", "/nonexistent/ca.pem"], 2, "--ca-file"),
        (["--provider-file", "/nonexistent/p.toml"], 3, "no such file"),
    ],
)
def test_bad_input_exit_codes(servers: CheckEnv, extra: list[str], code: int, word: str) -> None:
    proc = run_check(*servers.args(*extra))
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], proc.stderr


def test_timeout_that_is_not_a_number_is_a_usage_error(servers: CheckEnv) -> None:
    proc = run_check(*servers.args("--timeout", "soon"))
    assert proc.returncode == 2
    assert "'--timeout'" in proc.stderr and "Traceback" not in proc.stderr


def test_invalid_address_is_exit_2() -> None:
    proc = run_check("--email", "not an address")
    assert proc.returncode == 2
    assert "not a valid email address" in proc.stderr


def test_ca_file_without_certificates_is_exit_2(servers: CheckEnv, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    proc = run_check(*servers.args("--ca-file", str(junk)))
    assert proc.returncode == 2, proc.stderr
    assert "--ca-file" in proc.stderr


def test_fifo_as_ca_file_is_refused_without_blocking(servers: CheckEnv, tmp_path: Path) -> None:
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    proc = run_check(*servers.args("--ca-file", str(fifo)))
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr


def test_login_asks_for_the_passwords_on_a_terminal_without_echo(
    servers: CheckEnv, dovecot: DovecotServer, radicale: RadicaleServer
) -> None:
    """No variable, no keyring: a hidden prompt on the terminal; what is typed never shows."""
    import fcntl
    import os
    import pty
    import subprocess
    import sys
    import termios

    from tests.check_cli import RUN_CLI, clean_env

    main, child = pty.openpty()

    def own_terminal() -> None:  # the pty becomes the controlling terminal, as in a real shell
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN_CLI,
            "check",
            *servers.args("--login", "--json", "--sync-user", radicale.user),
        ],
        stdin=child,
        stdout=child,
        stderr=child,
        env=clean_env({"TERM": "dumb"}),
        preexec_fn=own_terminal,
    )
    os.close(child)
    seen = b""
    deadline = time.monotonic() + 30
    prompts = [
        (f"Password for {dovecot.user}: ".encode(), dovecot.password),
        (f"Password for sync:{radicale.user}: ".encode(), radicale.password),
    ]
    while time.monotonic() < deadline:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        seen += data
        if prompts and prompts[0][0] in seen:
            os.write(main, prompts.pop(0)[1].encode() + b"\n")
    os.close(main)
    assert proc.wait(30) == 0, seen
    screen = seen.decode("utf-8", "replace")
    assert not prompts, screen
    assert dovecot.password not in screen
    assert radicale.password not in screen
    assert '"login": true' in screen


def test_plain_port_configured_as_implicit_tls_is_no_tls(
    servers: CheckEnv, make_provider_file: Callable[..., Path], dovecot: DovecotServer
) -> None:
    """The STARTTLS port (143-like) given as ``security = "ssl"``: the greeting is not TLS."""
    pf = make_provider_file(imap_port=dovecot.imap_port, imap_security="ssl")
    run = servers.json("--timeout", "3", provider_file=pf)
    probe = assert_fault(run, "imap", "no TLS")
    assert "port" in str(probe["hint"])


def test_dav_without_well_known_redirect_warns(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
) -> None:
    responder = https_responder(
        routes={"/.well-known/caldav": Reply(404, b"", {})},
        status=200,
        headers={"DAV": "1, 2, calendar-access"},
    )
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    run = servers.json("--timeout", "3", provider_file=pf)
    probe = assert_fault(run, "caldav", "no well-known redirect", status="warn")
    assert "/.well-known/caldav" in str(probe["detail"])
    assert run.code == 0


def test_certificate_expiring_soon_warns(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
    test_ca: CertAuthority,
    tmp_path: Path,
) -> None:
    import datetime as dt

    from tests.servers.ca import CertPair

    now = dt.datetime.now(dt.UTC)
    leaf = test_ca.ca.issue_cert(
        "localhost", not_before=now - dt.timedelta(days=80), not_after=now + dt.timedelta(days=5)
    )
    pair = CertPair(tmp_path / "soon.crt", tmp_path / "soon.key")
    pair.cert_path.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(pair.key_path))
    responder = https_responder(
        status=200, headers={"DAV": "1, calendar-access", "Location": "/"}, cert=pair
    )
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    run = servers.json("--timeout", "3", provider_file=pf)
    probe = run.probe("caldav")
    assert probe["status"] == "warn", probe
    assert "certificate expires soon" in str(probe["detail"])
    assert probe["evidence"]["tls"]["days_left"] in (4, 5)


def test_another_service_on_the_port_is_named(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    smtp_server: SmtpServer,
    dovecot: DovecotServer,
) -> None:
    """A provider file with IMAP and SMTP ports swapped: each probe says what answered."""
    pf = make_provider_file(
        imap_port=smtp_server.smtps_port,
        smtp_port=dovecot.imap_port,
        smtp_alternatives=((dovecot.imaps_port, "ssl"),),
    )
    run = servers.json("--timeout", "3", provider_file=pf)
    imap = assert_fault(run, "imap", "not IMAP")
    assert "220" in str(imap["detail"])
    for name in ("smtp", f"smtp.{dovecot.imaps_port}"):
        smtp = assert_fault(run, name, "not SMTP")
        assert "Dovecot" in str(smtp["detail"]) or "OK" in str(smtp["detail"])
        assert "587" in str(smtp["hint"])


def test_dav_discovery_on_a_sabredav_like_layout(
    servers: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
    login_env: dict[str, str],
) -> None:
    """Principal and homes under other paths than Radicale's, with a redirect for a missing
    slash: the probe follows RFC 6764 discovery instead of guessing paths, and sends the
    password only to the provider's own origin."""
    dav = {"DAV": "1, 2, 3, calendar-access", "Content-Type": "application/xml"}
    routes = {
        "/.well-known/caldav": Reply(301, b"", {"Location": "/dav/"}),
        "/dav/": Reply(
            207,
            multistatus(
                (
                    "/dav/",
                    "<d:current-user-principal><d:href>/dav/principals/AB12345"
                    "</d:href></d:current-user-principal>",
                )
            ),
            dav,
        ),
        "/dav/principals/AB12345": Reply(301, b"", {"Location": "/dav/principals/AB12345/"}),
        "/dav/principals/AB12345/": Reply(
            207,
            multistatus(
                (
                    "/dav/principals/AB12345/",
                    "<c:calendar-home-set><d:href>/dav/calendars/"
                    "AB12345/</d:href></c:calendar-home-set>",
                )
            ),
            dav,
        ),
        "/dav/calendars/AB12345/": Reply(
            207,
            multistatus(
                ("/dav/calendars/AB12345/", "<d:resourcetype><d:collection/></d:resourcetype>"),
                (
                    "/dav/calendars/AB12345/team/",
                    "<d:resourcetype><d:collection/><c:calendar/>"
                    "</d:resourcetype><d:displayname>Team</d:displayname>",
                ),
                (
                    "/dav/calendars/AB12345/inbox/",
                    "<d:resourcetype><d:collection/><c:schedule-inbox/></d:resourcetype>",
                ),
            ),
            dav,
        ),
    }
    responder = https_responder(routes=routes, status=404)
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    run = servers.json("--login", "--sync-user", "AB12345", provider_file=pf, env=login_env)
    probe = run.probe("caldav")
    assert probe["status"] == "pass", probe
    ev = probe["evidence"]
    assert ev["context_url"].endswith("/dav/")
    assert ev["principal"] == "/dav/principals/AB12345"
    assert ev["home"] == "/dav/calendars/AB12345/"
    assert ev["collections"] == [{"href": "/dav/calendars/AB12345/team/", "name": "Team"}]
    seen = responder.requests  # type: ignore[attr-defined]
    propfinds = [r for r in seen if r.method == "PROPFIND"]
    assert [r.headers.get("Depth") for r in propfinds][-1] == "1"
    assert all("Authorization" in r.headers for r in propfinds)
    assert not any("Authorization" in r.headers for r in seen if r.method == "GET")


def test_ctrl_c_stops_a_waiting_check_at_once(
    servers: CheckEnv, make_provider_file: Callable[..., Path], hanging_server: HangingServer
) -> None:
    import signal
    import subprocess
    import sys

    from tests.check_cli import RUN_CLI, clean_env

    pf = make_provider_file(imap_port=hanging_server.port)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN_CLI,
            "check",
            *servers.args("--timeout", "60", provider_file=pf),
        ],
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert hanging_server.wait_for_connection(20)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=10)
    assert time.monotonic() - started < 5
    assert proc.returncode == 130
    assert err.strip() == "mailsetup: interrupted"


def test_check_with_a_long_dkim_selector_is_exit_3_naming_the_key(
    make_provider_file, test_ca, dns_server
):
    """Through the CLI: one line, exit 3, before any probe (it was 'unexpected error')."""
    from tests.check_cli import CheckEnv, run_check

    path = make_provider_file(dkim_selectors=("s" * 64,))
    env = CheckEnv(path, test_ca.pem_path, dns_server.resolver_arg)
    proc = run_check(*env.args("--json"))
    assert proc.returncode == 3, proc.stderr
    assert "dns.dkim_selectors[0]" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_of_a_domain_too_long_for_its_derived_names_names_no_unexpected_error(
    provider_file, test_ca, dns_server
):
    """A valid 250-character domain makes `_dmarc.DOMAIN` longer than DNS allows (RFC 1035
    section 2.3.4: 255 octets): every derived look-up must be a named fault."""
    from tests.check_cli import CheckEnv

    domain = ".".join(["d" * 61] * 4)[:245].rstrip(".") + ".test"
    env = CheckEnv(provider_file, test_ca.pem_path, dns_server.resolver_arg)
    proc = env.json(email=f"a@{domain}")
    faults = {p["name"]: p.get("fault") for p in proc.doc["probes"]}
    assert "unexpected error" not in faults.values(), faults


def test_a_silent_starttls_imap_server_is_not_said_to_hang_in_a_tls_handshake(
    make_provider_file, hanging_server, test_ca, dns_server
):
    """On a STARTTLS (or clear) port no TLS happens before the greeting: the timeout detail
    said 'during connect, TLS handshake and greeting' for every IMAP mode."""
    from tests.check_cli import CheckEnv

    path = make_provider_file(imap_port=hanging_server.port, imap_security="starttls")
    env = CheckEnv(path, test_ca.pem_path, dns_server.resolver_arg)
    imap = env.json("--timeout", "1").probe("imap")
    assert imap["fault"] == "timeout"
    assert "TLS handshake" not in imap["detail"]
    assert "greeting" in imap["detail"]


@pytest.mark.parametrize(
    "location",
    ["https://localhost:99999/dav/", "https://[::1/dav/", "https://localhost:0x1bb/dav/"],
)
@pytest.mark.parametrize("login", [False, True])
def test_a_broken_redirect_location_is_a_named_fault(
    make_provider_file, https_responder, test_ca, dns_server, location, login
):
    """A server's Location header is untrusted text: a port out of range or a broken IPv6
    bracket made urlsplit raise and the row read 'unexpected error'."""
    from tests.check_cli import CheckEnv
    from tests.servers.faults import Reply

    dav = {"DAV": "1, 2, 3, calendar-access", "Location": location}
    routes = {
        "/.well-known/caldav": Reply(301, b"", {"Location": location}),
        "/": Reply(301, b"", dav),
        "PROPFIND /": Reply(301, b"", dav),
    }
    responder = https_responder(routes=routes, status=404)
    path = make_provider_file(caldav_url=responder.url)
    env = CheckEnv(path, test_ca.pem_path, dns_server.resolver_arg)
    extra = ("--login", "--sync-user", "jorg") if login else ()
    secrets = {"MAILSETUP_PASSWORD": "x", "MAILSETUP_SYNC_PASSWORD": "y"}
    probe = env.json(*extra, env=secrets).probe("caldav")
    assert probe["fault"] != "unexpected error", probe
