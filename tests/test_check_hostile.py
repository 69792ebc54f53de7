"""``check`` against hostile servers on loopback: bounded memory, named faults, clean text.

Issue 9 §4: a server that never stops talking must not take the checker's memory, anything it
says must reach a person through the one cleaning rule, and every fault it provokes has a name
(``unexpected error`` is a bug report, never a result).
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from dnslib import QTYPE, RR, TXT  # type: ignore[import-untyped]

from mailsetup.check.imap import probe_imap
from mailsetup.check.runner import Probe, clean_evidence, run_probes
from mailsetup.check.smtp import probe_smtp
from mailsetup.provider import Endpoint
from mailsetup.untrusted import has_unsafe
from tests.check_cli import RUN_CLI, Checked, CheckEnv, clean_env
from tests.peak_rss import run_measured
from tests.servers.ca import CertAuthority
from tests.servers.dns import GOOD_DOMAIN, DnsServer
from tests.servers.dovecot import DovecotServer
from tests.servers.faults import (
    Reply,
    TalkServer,
    UdpResolver,
    endless_smtp_greeting,
    endless_smtp_line,
    imap_endless_untagged,
    imap_huge_literal,
    imap_not_ascii,
    multistatus,
)
from tests.servers.provider import ProviderSettings
from tests.servers.radicale import RadicaleServer

pytestmark = pytest.mark.servers

TalkFactory = Callable[[Callable[..., None]], TalkServer]
# Peak Python memory a probe may allocate while a hostile server streams at it. Before the
# bounds, the same servers made the probe take 275 MB to 2.5 GB.
PEAK_LIMIT = 8 * 1024 * 1024
# The whole `mailsetup check` process, interpreter included: ~37 MiB against these servers.
RSS_LIMIT_KB = 100 * 1024


@pytest.fixture
def env(provider_file: Path, test_ca: CertAuthority, dns_server: DnsServer) -> CheckEnv:
    return CheckEnv(provider_file, test_ca.pem_path, dns_server.resolver_arg)


def _run_measured(args: list[str]) -> tuple[Checked, int]:
    """``mailsetup check`` as a user runs it, and its own peak resident memory in KiB.

    Not ``wait4``'s ``ru_maxrss``: that counts this pytest process's past peak too (see
    tests/peak_rss.py), which once failed this test at 277 MiB for a 37 MiB check.
    """
    done, peak_kb = run_measured(RUN_CLI, ["check", *args], env=clean_env())
    assert "Traceback" not in done.stderr, done.stderr
    return Checked(done, json.loads(done.stdout)), peak_kb


@pytest.mark.parametrize(
    ("protocol", "talk"),
    [
        ("smtp", endless_smtp_greeting),
        ("smtp", endless_smtp_line),
        ("imap", imap_huge_literal),
        ("imap", imap_endless_untagged),
    ],
    ids=["smtp-endless-greeting", "smtp-endless-line", "imap-4GB-literal", "imap-untagged"],
)
def test_a_server_that_never_stops_talking_is_named_and_memory_stays_flat(
    talk_server: TalkFactory, protocol: str, talk: Callable[..., None]
) -> None:
    server = talk_server(talk)
    endpoint = Endpoint(server.host, server.port, "starttls")
    run = probe_smtp if protocol == "smtp" else probe_imap
    probe = Probe(
        protocol,
        protocol,
        f"{server.host}:{server.port}",
        partial(run, endpoint=endpoint, tls=ssl.create_default_context()),
        10,
    )
    tracemalloc.start()
    try:
        (result,) = run_probes([probe])
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.status, result.fault) == ("fail", "server reply too long"), result
    assert result.elapsed_ms < 10_000
    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB"


def test_hostile_imap_and_smtp_through_the_cli(
    env: CheckEnv,
    make_provider_file: Callable[..., Path],
    talk_server: TalkFactory,
) -> None:
    """The same servers behind a provider file: named rows, and the process stays small."""
    imap = talk_server(imap_huge_literal)
    smtp = talk_server(endless_smtp_greeting)
    untagged = talk_server(imap_endless_untagged)
    pf = make_provider_file(
        imap_port=imap.port,
        imap_security="starttls",
        smtp_port=smtp.port,
        smtp_alternatives=((untagged.port, "ssl"),),
    )
    run, rss_kb = _run_measured(env.args("--json", "--timeout", "10", provider_file=pf))
    assert run.probe("imap")["fault"] == "server reply too long"
    assert run.probe("smtp")["fault"] == "server reply too long"
    assert rss_kb < RSS_LIMIT_KB, f"peak RSS {rss_kb / 1024:.0f} MiB"
    assert all(p["fault"] != "unexpected error" for p in run.doc["probes"]), run.doc


def test_non_ascii_imap_greeting_is_named(
    env: CheckEnv, make_provider_file: Callable[..., Path], talk_server: TalkFactory
) -> None:
    server = talk_server(imap_not_ascii)
    pf = make_provider_file(imap_port=server.port, imap_security="starttls")
    run = env.json("--timeout", "5", provider_file=pf)
    probe = run.probe("imap")
    assert (probe["status"], probe["fault"]) == ("fail", "server reply not ASCII"), probe
    assert probe["hint"]


def test_dav_header_flood_is_named(
    env: CheckEnv, make_provider_file: Callable[..., Path], https_responder: Callable[..., object]
) -> None:
    """http.client's own header limits are ours too: named, not 'bad HTTP'."""
    headers = {f"X-Junk-{i}": "y" * 100 for i in range(150)}
    responder = https_responder(status=200, headers=headers)
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    run = env.json("--timeout", "5", provider_file=pf)
    assert run.probe("caldav")["fault"] == "server reply too long"


# --- one cleaning rule on every output path ----------------------------------------------------

HOSTILE = "v=spf1 include:spf.mail.test \x1b[2J\x9b31m\u202eevil\u2066 -all"


def test_dns_evidence_in_json_is_cleaned(env: CheckEnv, dns_server: DnsServer) -> None:
    zone = dns_server.zone
    zone.remove(f"{GOOD_DOMAIN}.", "TXT")
    zone.remove(f"_dmarc.{GOOD_DOMAIN}.", "TXT")
    with zone._lock:
        zone.records.append(RR(f"{GOOD_DOMAIN}.", QTYPE.TXT, rdata=TXT(HOSTILE.encode()), ttl=300))
        zone.records.append(
            RR(
                f"_dmarc.{GOOD_DOMAIN}.",
                QTYPE.TXT,
                rdata=TXT("v=DMARC1; p=none; rua=mailto:\x1b]0;x\x07\u202e@x".encode()),
                ttl=300,
            )
        )
    run = env.json()
    for name in ("dns.spf", "dns.dmarc"):
        probe = run.probe(name)
        text = json.dumps(probe, ensure_ascii=False)
        assert not has_unsafe(json.loads(json.dumps(probe["evidence"]))["records"][0]), probe
        assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text, probe
    plain = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "check", *env.args()],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "evil" in plain.stdout and not has_unsafe(plain.stdout.replace("\n", " "))


def test_evidence_cleaning_reaches_every_string_and_key() -> None:
    raw = {"a\x1b": ["x\u202ey", {"k": "\x9b2J"}], "n": 3, "ok": True}
    assert clean_evidence(raw) == {"a": ["x y", {"k": "2J"}], "n": 3, "ok": True}


def test_spf_include_of_an_invalid_name_is_spf_include_broken(
    env: CheckEnv, dns_server: DnsServer
) -> None:
    zone = dns_server.zone
    zone.remove(f"{GOOD_DOMAIN}.", "TXT")
    label = "a" * 64
    zone.add(
        f'{GOOD_DOMAIN}. IN TXT "v=spf1 include:spf.mail.test include:a..b include:{label}.ch -all"'
    )
    run = env.json()
    probe = run.probe("dns.spf")
    assert (probe["status"], probe["fault"]) == ("warn", "SPF include broken"), probe
    assert "a..b" in probe["detail"] and label in probe["detail"]


# --- DAV: IRIs and IPv6 -----------------------------------------------------------------------


def test_dav_hrefs_outside_ascii_are_percent_encoded(
    env: CheckEnv,
    make_provider_file: Callable[..., Path],
    https_responder: Callable[..., object],
    radicale: RadicaleServer,
) -> None:
    dav = {"DAV": "1, 2, 3, calendar-access", "Content-Type": "application/xml"}
    principal = "/dav/principals/j%C3%B6rg/"
    home = "/dav/calendars/j%C3%B6rg/"
    routes = {
        "/.well-known/caldav": Reply(301, b"", {"Location": "/dav/"}),
        "/dav/": Reply(
            207,
            multistatus(
                (
                    "/dav/",
                    "<d:current-user-principal><d:href>/dav/principals/jörg/"
                    "</d:href></d:current-user-principal>",
                )
            ),
            dav,
        ),
        principal: Reply(
            207,
            multistatus(
                (
                    principal,
                    "<c:calendar-home-set><d:href>/dav/calendars/jörg/</d:href>"
                    "</c:calendar-home-set>",
                )
            ),
            dav,
        ),
        home: Reply(
            207,
            multistatus(
                (
                    "/dav/calendars/jörg/kalender ü/",
                    "<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
                    "<d:displayname>Kalender \u202eü</d:displayname>",
                )
            ),
            dav,
        ),
    }
    responder = https_responder(routes=routes, status=404)
    pf = make_provider_file(caldav_url=responder.url)  # type: ignore[attr-defined]
    login = {"MAILSETUP_PASSWORD": "x", "MAILSETUP_SYNC_PASSWORD": "y"}
    run = env.json("--login", "--sync-user", "jorg", provider_file=pf, env=login)
    probe = run.probe("caldav")
    assert probe["status"] == "pass", probe
    assert probe["evidence"]["principal"] == principal
    (collection,) = probe["evidence"]["collections"]
    assert collection["href"] == "/dav/calendars/j%C3%B6rg/kalender%20%C3%BC/"
    assert collection["name"].split() == ["Kalender", "ü"]  # the bidi override is gone
    paths = [r.path for r in responder.requests]  # type: ignore[attr-defined]
    assert principal in paths and home in paths


def _has_ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_dav_on_an_ipv6_url_keeps_its_brackets(
    env: CheckEnv, make_provider_file: Callable[..., Path], https_responder: Callable[..., object]
) -> None:
    responder = https_responder(
        routes={"/.well-known/caldav": Reply(301, b"", {"Location": "/dav/"})},
        status=200,
        headers={"DAV": "1, 2, calendar-access"},
        ipv6=True,
    )
    url = responder.url  # type: ignore[attr-defined]
    assert url.startswith("https://[::1]:")
    pf = make_provider_file(caldav_url=url)
    run = env.json("--timeout", "5", provider_file=pf)
    probe = run.probe("caldav")
    assert probe["status"] == "pass", probe
    assert probe["evidence"]["well_known"]["url"] == f"{url}/.well-known/caldav"


# --- no working resolver ------------------------------------------------------------------------


def _offline_rows(run: Checked) -> None:
    assert len(run.doc["notices"]) == 1, run.doc["notices"]
    assert "no working resolver" in run.doc["notices"][0]
    dns_rows = [p for p in run.doc["probes"] if p["protocol"] == "dns"]
    assert dns_rows and all(p["fault"] == "no working resolver" for p in dns_rows)
    hints = {p["hint"] for p in dns_rows}
    assert len(hints) == 1 and "TXT" not in str(hints)  # no "add a record" advice


def test_a_resolver_where_nothing_answers_is_said_once(env: CheckEnv, dead_resolver: int) -> None:
    env.resolver = f"127.0.0.1:{dead_resolver}"
    run = env.json("--timeout", "2")
    _offline_rows(run)
    assert run.probe("imap")["status"] == "pass"
    assert run.code == 1


def test_a_resolver_that_refuses_is_said_once(
    env: CheckEnv, refusing_resolver: UdpResolver
) -> None:
    env.resolver = refusing_resolver.resolver_arg
    run = env.json("--timeout", "2")
    _offline_rows(run)
    plain = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "check", *env.args("--timeout", "2")],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plain.stdout.startswith("NOTICE: no working resolver"), plain.stdout


def test_a_working_resolver_gives_no_notice(env: CheckEnv) -> None:
    run = env.json()
    assert run.doc["notices"] == []


# --- the sync password ------------------------------------------------------------------------


def test_missing_sync_password_names_its_variable_and_option(
    env: CheckEnv, provider_settings: ProviderSettings
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "check", *env.args("--login", "--sync-user", "AB1")],
        env=clean_env({"MAILSETUP_PASSWORD": "mail"}),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 5
    assert "MAILSETUP_SYNC_PASSWORD" in proc.stderr and "--sync-user" in proc.stderr
    assert "MAILSETUP_PASSWORD " not in proc.stderr.replace("MAILSETUP_SYNC_PASSWORD", "")


# --- TLS turned off by the provider file --------------------------------------------------------


def test_security_none_is_a_warning_and_no_password_is_sent(
    env: CheckEnv, make_provider_file: Callable[..., Path], dovecot: DovecotServer
) -> None:
    pf = make_provider_file(imap_port=dovecot.imap_port, imap_security="none")
    login = {"MAILSETUP_PASSWORD": dovecot.password, "MAILSETUP_SYNC_PASSWORD": "x"}
    proc = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "check", *env.args("--json", "--login", provider_file=pf)],
        env=clean_env(login),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 3, proc.stderr  # make_provider_file opts in: never a refusal
    probe = Checked(proc, json.loads(proc.stdout)).probe("imap")
    assert (probe["status"], probe["fault"]) == ("warn", "TLS off"), probe
    assert "login not tried" in probe["detail"] and "login" not in probe["evidence"]
