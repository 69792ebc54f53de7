"""The loopback servers really work: each fixture answers a stock client the way a real one would.

These tests use the standard library's clients and dnspython (test clients, not mailsetup code),
so a failure here points at the fixture, not at the code under test.
"""

from __future__ import annotations

import base64
import http.client
import imaplib
import smtplib
import socket
import ssl
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import dns.exception
import dns.resolver
import pytest

from mailsetup.provider import load_provider
from tests.servers.ca import CertAuthority
from tests.servers.dns import Blackhole, DnsServer
from tests.servers.dovecot import DovecotServer
from tests.servers.faults import HangingServer, HttpsResponder, Reply
from tests.servers.radicale import RadicaleServer
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.servers


def _resolver(server: DnsServer | Blackhole, lifetime: float = 2.0) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    resolver.lifetime = lifetime
    return resolver


# --- CA ---------------------------------------------------------------------------------------


def test_ca_issues_valid_expired_and_untrusted_certificates(
    test_ca: CertAuthority,
    untrusted_ca: CertAuthority,
    https_responder: Callable[..., HttpsResponder],
) -> None:
    def handshake(responder: HttpsResponder) -> str:
        try:
            with (
                socket.create_connection((responder.host, responder.port), 5) as raw,
                test_ca.client_context().wrap_socket(raw, server_hostname="localhost"),
            ):
                return "ok"
        except ssl.SSLCertVerificationError as exc:
            return exc.verify_message

    assert handshake(https_responder()) == "ok"
    assert handshake(https_responder(cert=test_ca.issue(expired=True))) == "certificate has expired"
    assert "Hostname mismatch" in handshake(https_responder(cert=test_ca.issue(["wrong.test"])))
    assert (
        handshake(https_responder(cert=untrusted_ca.issue()))
        == "unable to get local issuer certificate"
    )


# --- Dovecot ----------------------------------------------------------------------------------


def test_dovecot_imaps_login_and_inbox(dovecot: DovecotServer, test_ca: CertAuthority) -> None:
    mark = dovecot.log_mark()
    with imaplib.IMAP4_SSL(
        dovecot.host, dovecot.imaps_port, ssl_context=test_ca.client_context(), timeout=5
    ) as imap:
        assert "AUTH=PLAIN" in imap.capabilities
        imap.login(dovecot.user, dovecot.password)
        status, data = imap.select("INBOX", readonly=True)
        assert status == "OK" and int(data[0] or 0) == 1
        imap.logout()
    assert dovecot.wait_for_log(rf"Login: user=<{dovecot.user}>.*TLS", since=mark)


def test_dovecot_plain_port_offers_starttls(dovecot: DovecotServer, test_ca: CertAuthority) -> None:
    # Dovecot counts a connection whose remote IP equals its local IP as secured, so on loopback
    # it does not announce LOGINDISABLED before STARTTLS; the STARTTLS upgrade itself is real.
    with imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=5) as imap:
        assert "STARTTLS" in imap.capabilities
        imap.starttls(ssl_context=test_ca.client_context())
        imap.login(dovecot.user, dovecot.password)
        imap.logout()


def test_dovecot_wrong_password_is_logged(dovecot: DovecotServer, test_ca: CertAuthority) -> None:
    mark = dovecot.log_mark()
    with imaplib.IMAP4_SSL(
        dovecot.host, dovecot.imaps_port, ssl_context=test_ca.client_context(), timeout=5
    ) as imap:
        started = time.monotonic()
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            imap.login(dovecot.user, "not-the-password")
        assert time.monotonic() - started < 1.5  # auth_failure_delay = 0 keeps tests fast
    assert dovecot.wait_for_log("Password mismatch", since=mark)
    # No auth penalty: the next good login from the same address is not delayed.
    started = time.monotonic()
    with imaplib.IMAP4_SSL(
        dovecot.host, dovecot.imaps_port, ssl_context=test_ca.client_context(), timeout=5
    ) as imap:
        imap.login(dovecot.user, dovecot.password)
    assert time.monotonic() - started < 1.0


def test_dovecot_factory_serves_the_given_certificate(
    dovecot_factory: Callable[..., DovecotServer], test_ca: CertAuthority
) -> None:
    server = dovecot_factory(
        cert=test_ca.issue(["wrong.test"]), extra_users={"bob@x.test": "pw"}, verbose_ssl=True
    )
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        imaplib.IMAP4_SSL(
            server.host, server.imaps_port, ssl_context=test_ca.client_context(), timeout=5
        )
    # The server's side of the story, for tests that want to show it.
    assert server.wait_for_log(r"SSL_accept\(\) failed: .*bad certificate")
    # Same CA, name check off: the extra user can log in to this instance.
    context = test_ca.client_context()
    context.check_hostname = False
    with imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=context, timeout=5) as imap:
        imap.login("bob@x.test", "pw")


# --- SMTP -------------------------------------------------------------------------------------


def test_smtp_submission_starttls_then_auth(
    smtp_server: SmtpServer, test_ca: CertAuthority
) -> None:
    smtp_server.clear_events()
    with smtplib.SMTP(smtp_server.host, smtp_server.submission_port, timeout=5) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls") and not smtp.has_extn("auth")
        smtp.starttls(context=test_ca.client_context())
        smtp.ehlo()
        assert set(smtp.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login(smtp_server.user, "wrong")
        smtp.login(smtp_server.user, smtp_server.password)
    ok = smtp_server.wait_for("auth", success=True)
    assert ok is not None and ok.tls and ok.login == smtp_server.user
    assert smtp_server.events_of("starttls", "submission")


def test_smtp_factory_with_an_untrusted_certificate(
    smtp_factory: Callable[..., SmtpServer], untrusted_ca: CertAuthority, test_ca: CertAuthority
) -> None:
    server = smtp_factory(cert=untrusted_ca.issue())
    with smtplib.SMTP(server.host, server.submission_port, timeout=5) as smtp:
        smtp.ehlo()
        with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
            smtp.starttls(context=test_ca.client_context())


def test_smtp_implicit_tls_and_no_starttls_listeners(
    smtp_server: SmtpServer, test_ca: CertAuthority
) -> None:
    with smtplib.SMTP_SSL(
        smtp_server.host, smtp_server.smtps_port, timeout=5, context=test_ca.client_context()
    ) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("auth")
        smtp.login(smtp_server.user, smtp_server.password)
    with smtplib.SMTP(smtp_server.host, smtp_server.no_starttls_port, timeout=5) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("starttls") and not smtp.has_extn("auth")


# --- Radicale ---------------------------------------------------------------------------------


def _dav(
    radicale: RadicaleServer,
    ca: CertAuthority,
    method: str,
    path: str,
    user: str,
    password: str,
    body: str = "",
    depth: str = "0",
) -> tuple[int, str, str]:
    conn = http.client.HTTPSConnection(
        radicale.host, radicale.port, timeout=5, context=ca.client_context()
    )
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    conn.request(
        method,
        path,
        body=body.encode(),
        headers={
            "Authorization": f"Basic {token}",
            "Depth": depth,
            "Content-Type": "application/xml",
        },
    )
    response = conn.getresponse()
    result = response.status, response.getheader("Location") or "", response.read().decode()
    conn.close()
    return result


def test_radicale_has_the_calendar_and_address_book(
    radicale: RadicaleServer, test_ca: CertAuthority
) -> None:
    mark = radicale.log_mark()
    body = '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'
    status, _, xml = _dav(
        radicale,
        test_ca,
        "PROPFIND",
        f"/{radicale.user}/",
        radicale.user,
        radicale.password,
        body,
        depth="1",
    )
    assert status == 207
    assert radicale.calendar_url.removeprefix(radicale.base_url) in xml
    assert radicale.addressbook_url.removeprefix(radicale.base_url) in xml
    assert "calendar" in xml and "addressbook" in xml
    status, location, _ = _dav(radicale, test_ca, "GET", "/.well-known/carddav", "", "")
    assert (status, location) == (301, "/")
    assert _dav(radicale, test_ca, "PROPFIND", "/", radicale.user, "wrong")[0] == 401
    assert radicale.wait_for_log(f"Successful login: '{radicale.user}'", since=mark)
    assert ("PROPFIND", f"/{radicale.user}/") in radicale.requests(mark)


def test_radicale_supports_rfc6764_discovery(
    radicale: RadicaleServer, test_ca: CertAuthority
) -> None:
    """current-user-principal -> calendar/addressbook home sets -> collections, as check does."""
    import defusedxml.ElementTree as ET

    ns = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav", "r": "urn:ietf:params:xml:ns:carddav"}
    user, password = radicale.user, radicale.password
    propfind = '<propfind xmlns="DAV:" xmlns:c="{c}" xmlns:r="{r}"><prop>{props}</prop></propfind>'
    body = propfind.format(props="<current-user-principal/>", **{k: ns[k] for k in ("c", "r")})
    status, location, _ = _dav(radicale, test_ca, "GET", "/.well-known/caldav", "", "")
    status, _, xml = _dav(radicale, test_ca, "PROPFIND", location, user, password, body)
    assert status == 207
    principal = ET.fromstring(xml).findtext(".//d:current-user-principal/d:href", namespaces=ns)
    assert principal == f"/{user}/"
    body = propfind.format(
        props="<c:calendar-home-set/><r:addressbook-home-set/>",
        **{k: ns[k] for k in ("c", "r")},
    )
    status, _, xml = _dav(radicale, test_ca, "PROPFIND", principal, user, password, body)
    tree = ET.fromstring(xml)
    assert tree.findtext(".//c:calendar-home-set/d:href", namespaces=ns) == principal
    assert tree.findtext(".//r:addressbook-home-set/d:href", namespaces=ns) == principal


def test_radicale_factory_with_an_expired_certificate(
    radicale_factory: Callable[..., RadicaleServer], test_ca: CertAuthority
) -> None:
    server = radicale_factory(cert=test_ca.issue(expired=True))
    conn = http.client.HTTPSConnection(
        server.host, server.port, timeout=5, context=test_ca.client_context()
    )
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        conn.request("OPTIONS", "/")
    conn.close()


# --- DNS --------------------------------------------------------------------------------------


def test_dns_serves_the_test_zone_over_udp_and_tcp(dns_server: DnsServer) -> None:
    resolver = _resolver(dns_server)
    mx = sorted(r.to_text() for r in resolver.resolve("example.test", "MX"))
    assert mx == ["10 mx1.mail.test.", "20 mx2.mail.test."]
    txt = [r.to_text() for r in resolver.resolve("example.test", "TXT", tcp=True)]
    assert '"v=spf1 include:spf.mail.test -all"' in txt
    assert resolver.resolve("_dmarc.example.test", "TXT")[0].to_text().startswith('"v=DMARC1')
    assert resolver.resolve("_imaps._tcp.example.test", "SRV")[0].port == 993
    assert resolver.resolve("_carddavs._tcp.example.test", "SRV")[0].port == 443
    assert {q.protocol for q in dns_server.queries} == {"udp", "tcp"}


def test_dns_faults(dns_server: DnsServer, dns_blackhole: Blackhole) -> None:
    resolver = _resolver(dns_server, lifetime=1.0)
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("nxdomain.test", "MX")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("nospf.test", "TXT")
    with pytest.raises(dns.resolver.NoNameservers, match="SERVFAIL"):
        resolver.resolve("servfail.test", "MX")
    assert len([r for r in resolver.resolve("twospf.test", "TXT") if "v=spf1" in r.to_text()]) == 2
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("nomx.test", "MX")
    spf = b"".join(resolver.resolve("manylookups.test", "TXT")[0].strings).decode()
    assert spf.startswith("v=spf1 ") and spf.count("include:") == 12
    assert resolver.resolve("l11.manylookups.test", "TXT")[0].to_text().startswith('"v=spf1')
    with pytest.raises(dns.exception.Timeout):
        resolver.resolve("timeout.test", "MX")
    with pytest.raises(dns.exception.Timeout):
        _resolver(dns_blackhole, lifetime=0.5).resolve("example.test", "MX")


def test_dns_zone_is_editable_per_test(dns_server: DnsServer) -> None:
    dns_server.zone.add('extra.test. IN TXT "v=spf1 -all"')
    dns_server.zone.remove("example.test", "MX")
    resolver = _resolver(dns_server)
    assert resolver.resolve("extra.test", "TXT")[0].to_text() == '"v=spf1 -all"'
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("example.test", "MX")


def test_dns_zone_changes_do_not_leak(dns_server_session: DnsServer) -> None:
    """A change made under one ``dns_server`` fixture is gone under the next, whatever ran
    before: this test makes the change itself instead of relying on test order."""
    from tests.servers import dns as dns_fixtures

    fixture = dns_fixtures.dns_server.__wrapped__  # type: ignore[attr-defined]
    first = fixture(dns_server_session)
    server = next(first)
    server.zone.remove("example.test", "MX")
    with pytest.raises(dns.resolver.NoAnswer):
        _resolver(server).resolve("example.test", "MX")
    next(first, None)  # the fixture's teardown
    second = fixture(dns_server_session)
    assert len(_resolver(next(second)).resolve("example.test", "MX")) == 2
    next(second, None)


# --- Faults -----------------------------------------------------------------------------------


def test_refused_port_refuses(refused_port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", refused_port), timeout=2)


def test_hanging_server_accepts_and_stays_silent(hanging_server: HangingServer) -> None:
    with socket.create_connection((hanging_server.host, hanging_server.port), timeout=0.3) as sock:
        sock.sendall(b"a001 CAPABILITY\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1)
    assert hanging_server.wait_for_connection()


def test_https_responder_status_body_and_routes(
    https_responder: Callable[..., HttpsResponder], test_ca: CertAuthority
) -> None:
    server = https_responder(
        500,
        b"oops",
        routes={
            "/.well-known/caldav": Reply(301, headers={"Location": "/dav/"}),
            "/huge": Reply(207, 3_000_000, {"Content-Type": "application/xml"}),
            "OPTIONS /dav/": Reply(200, headers={"DAV": "1, 2, calendar-access"}),
        },
    )
    conn = http.client.HTTPSConnection(
        server.host, server.port, timeout=5, context=test_ca.client_context()
    )
    conn.request("PROPFIND", "/dav/")
    response = conn.getresponse()
    assert (response.status, response.read()) == (500, b"oops")
    conn.request("GET", "/.well-known/caldav")
    response = conn.getresponse()
    response.read()
    assert (response.status, response.getheader("Location")) == (301, "/dav/")
    conn.request("REPORT", "/huge")
    response = conn.getresponse()
    assert response.status == 207 and len(response.read()) == 3_000_000
    conn.request("OPTIONS", "/dav/")
    response = conn.getresponse()
    response.read()
    assert (response.status, response.getheader("DAV")) == (200, "1, 2, calendar-access")
    conn.close()
    assert [(r.method, r.path) for r in server.requests][:2] == [
        ("PROPFIND", "/dav/"),
        ("GET", "/.well-known/caldav"),
    ]


# --- Provider file ----------------------------------------------------------------------------


def test_provider_file_points_at_the_servers(
    provider_file: Path,
    dovecot: DovecotServer,
    smtp_server: SmtpServer,
    radicale: RadicaleServer,
    make_provider_file: Callable[..., Path],
    hanging_server: HangingServer,
) -> None:
    provider = load_provider(path=provider_file)
    assert (provider.imap.host, provider.imap.port, provider.imap.security) == (
        "localhost",
        dovecot.imaps_port,
        "ssl",
    )
    assert (provider.smtp.port, provider.smtp.security) == (smtp_server.submission_port, "starttls")
    assert provider.smtp_on_port(smtp_server.smtps_port).security == "ssl"
    assert provider.caldav.url == radicale.base_url == provider.carddav.url
    assert provider.dns.spf_include == "spf.mail.test"
    variant = load_provider(path=make_provider_file(imap_port=hanging_server.port))
    assert variant.imap.port == hanging_server.port
    assert tomllib.loads(provider_file.read_text())["dns"]["mx_suffixes"] == ["mail.test"]


# --- Latency proxy (benchmarks/) ------------------------------------------------------------


def test_latency_proxy_delays_each_direction(
    dovecot: DovecotServer, test_ca: CertAuthority
) -> None:
    from benchmarks.latency_proxy import LatencyProxy

    def login(port: int) -> float:
        started = time.monotonic()
        with imaplib.IMAP4_SSL(
            dovecot.host, port, ssl_context=test_ca.client_context(), timeout=10
        ) as imap:
            imap.login(dovecot.user, dovecot.password)
            imap.logout()
        return time.monotonic() - started

    direct = login(dovecot.imaps_port)
    with LatencyProxy("127.0.0.1", dovecot.imaps_port, delay_ms=100) as proxy:
        slowed = login(proxy.port)
    # connect + TLS 1.3 handshake + greeting + LOGIN + LOGOUT: several 200 ms round trips
    assert slowed - direct > 0.5
    assert proxy.connections == 1


def test_latency_proxy_relays_dns_over_udp_and_tcp(dns_server: DnsServer) -> None:
    from benchmarks.latency_proxy import LatencyProxy

    with LatencyProxy(dns_server.host, dns_server.port, delay_ms=150, udp=True) as proxy:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [dns_server.host]
        resolver.port = proxy.port
        resolver.lifetime = 3
        for tcp in (False, True):
            started = time.monotonic()
            assert len(resolver.resolve("example.test", "MX", tcp=tcp)) == 2
            assert time.monotonic() - started >= 0.3  # 150 ms each way
