"""A real DNS server on loopback (dnslib's UDP and TCP servers) serving a test zone.

``dns_server.port`` answers on UDP and TCP at 127.0.0.1; point a resolver at it with
``--resolver 127.0.0.1:PORT`` (``dns_server.resolver_arg``). The default zone models a domain
hosted at a provider whose mail exchangers and SPF include live under ``mail.test`` (the
``[dns]`` section that :mod:`tests.servers.provider` writes), plus one domain per fault
``check`` must name: no SPF/DMARC, two SPF records (RFC 7208 section 4.5: permerror), SERVFAIL,
NXDOMAIN and a name that is never answered (timeout).

Tests change records through ``dns_server.zone`` (``add``, ``remove``, ``servfail``, ``drop``);
the function-scoped ``dns_server`` fixture restores the default zone around each test.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from dnslib import QTYPE, RCODE, RR, DNSError, DNSRecord  # type: ignore[import-untyped]
from dnslib.server import (  # type: ignore[import-untyped]
    DNSHandler,
    DNSLogger,
    DNSServer,
    TCPServer,
    UDPServer,
)

from tests.servers.runtime import LOOPBACK

# The domain of the test user (jane.doe@example.test), correctly set up for the test provider.
GOOD_DOMAIN = "example.test"
PROVIDER_MX_SUFFIX = "mail.test"
PROVIDER_SPF_INCLUDE = "spf.mail.test"
DKIM_SELECTOR = "mail"
DMARC_RECORD = "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"
SPF_RECORD = f"v=spf1 include:{PROVIDER_SPF_INCLUDE} -all"
# Fault domains.
NO_SPF_DOMAIN = "nospf.test"  # MX only: no SPF, no DMARC, no DKIM
TWO_SPF_DOMAIN = "twospf.test"  # two v=spf1 records
WRONG_MX_DOMAIN = "othermx.test"  # MX and SPF of another provider
SERVFAIL_DOMAIN = "servfail.test"  # every name under it answers SERVFAIL
TIMEOUT_DOMAIN = "timeout.test"  # every query under it is silently dropped
NXDOMAIN_DOMAIN = "nxdomain.test"  # does not exist (nor does anything not listed here)
NO_MX_DOMAIN = "nomx.test"  # SPF and DMARC but no MX (NODATA)
MANY_LOOKUPS_DOMAIN = "manylookups.test"  # SPF needing 12 lookups (RFC 7208 4.6.4: max 10)

_DKIM_KEY = (
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDmailsetupTestKeyNotRealAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIDAQAB"
)

_MANY_INCLUDES = " ".join(f"include:l{i}.{MANY_LOOKUPS_DOMAIN}" for i in range(1, 12))
_MANY_SPF_TEXT = f"v=spf1 include:{PROVIDER_SPF_INCLUDE} {_MANY_INCLUDES} -all"
# Longer than one 255-byte character-string: published as several, which SPF joins (RFC 7208
# section 3.3) -- a realistic case for a checker.
_MANY_SPF = " ".join(f'"{_MANY_SPF_TEXT[i : i + 200]}"' for i in range(0, len(_MANY_SPF_TEXT), 200))
_MANY_TARGETS = "".join(
    f'l{i}.{MANY_LOOKUPS_DOMAIN}. IN TXT "v=spf1 ip4:192.0.2.{i} -all"\n' for i in range(1, 12)
)

DEFAULT_ZONE = f"""\
$TTL 300
{GOOD_DOMAIN}.                    IN MX  10 mx1.{PROVIDER_MX_SUFFIX}.
{GOOD_DOMAIN}.                    IN MX  20 mx2.{PROVIDER_MX_SUFFIX}.
{GOOD_DOMAIN}.                    IN TXT "{SPF_RECORD}"
{GOOD_DOMAIN}.                    IN TXT "google-site-verification=not-an-spf-record"
_dmarc.{GOOD_DOMAIN}.             IN TXT "{DMARC_RECORD}"
{DKIM_SELECTOR}._domainkey.{GOOD_DOMAIN}. IN TXT "v=DKIM1; k=rsa; p={_DKIM_KEY}"
_imaps._tcp.{GOOD_DOMAIN}.        IN SRV 0 1 993 imap.{PROVIDER_MX_SUFFIX}.
_imap._tcp.{GOOD_DOMAIN}.         IN SRV 0 0 0 .
_submission._tcp.{GOOD_DOMAIN}.   IN SRV 0 1 587 smtp.{PROVIDER_MX_SUFFIX}.
_submissions._tcp.{GOOD_DOMAIN}.  IN SRV 0 1 465 smtp.{PROVIDER_MX_SUFFIX}.
_caldavs._tcp.{GOOD_DOMAIN}.      IN SRV 0 1 443 sync.{PROVIDER_MX_SUFFIX}.
_caldavs._tcp.{GOOD_DOMAIN}.      IN TXT "path=/.well-known/caldav"
_carddavs._tcp.{GOOD_DOMAIN}.     IN SRV 0 1 443 sync.{PROVIDER_MX_SUFFIX}.
_carddavs._tcp.{GOOD_DOMAIN}.     IN TXT "path=/.well-known/carddav"
autoconfig.{GOOD_DOMAIN}.         IN A   127.0.0.1
autodiscover.{GOOD_DOMAIN}.       IN A   127.0.0.1
mx1.{PROVIDER_MX_SUFFIX}.         IN A   127.0.0.1
mx2.{PROVIDER_MX_SUFFIX}.         IN A   127.0.0.1
imap.{PROVIDER_MX_SUFFIX}.        IN A   127.0.0.1
smtp.{PROVIDER_MX_SUFFIX}.        IN A   127.0.0.1
sync.{PROVIDER_MX_SUFFIX}.        IN A   127.0.0.1
{PROVIDER_SPF_INCLUDE}.           IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
{NO_SPF_DOMAIN}.                  IN MX  10 mx1.{PROVIDER_MX_SUFFIX}.
{TWO_SPF_DOMAIN}.                 IN MX  10 mx1.{PROVIDER_MX_SUFFIX}.
{TWO_SPF_DOMAIN}.                 IN TXT "{SPF_RECORD}"
{TWO_SPF_DOMAIN}.                 IN TXT "v=spf1 include:spf.other.test ~all"
_dmarc.{TWO_SPF_DOMAIN}.          IN TXT "v=DMARC1; p=none"
{WRONG_MX_DOMAIN}.                IN MX  10 mx.other.test.
{WRONG_MX_DOMAIN}.                IN TXT "v=spf1 include:spf.other.test -all"
_dmarc.{WRONG_MX_DOMAIN}.         IN TXT "v=DMARC1; p=reject"
mx.other.test.                    IN A   127.0.0.1
spf.other.test.                   IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
{NO_MX_DOMAIN}.                   IN TXT "{SPF_RECORD}"
{NO_MX_DOMAIN}.                   IN A   127.0.0.1
_dmarc.{NO_MX_DOMAIN}.            IN TXT "v=DMARC1; p=reject"
{MANY_LOOKUPS_DOMAIN}.            IN MX  10 mx1.{PROVIDER_MX_SUFFIX}.
{MANY_LOOKUPS_DOMAIN}.            IN TXT {_MANY_SPF}
_dmarc.{MANY_LOOKUPS_DOMAIN}.     IN TXT "v=DMARC1; p=quarantine"
{_MANY_TARGETS}"""


class _Drop(DNSError):  # type: ignore[misc]
    """Raised to send no reply at all; dnslib's handler swallows DNSError and sends nothing."""


def _norm(name: str) -> str:
    return name.lower().rstrip(".") + "."


@dataclass
class Zone:
    """Mutable records served by :class:`DnsServer` (thread-safe; the server reads it live)."""

    records: list[RR] = field(default_factory=list)
    servfail_names: set[str] = field(default_factory=set)
    dropped_names: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """Back to the default test zone."""
        with self._lock:
            self.records = RR.fromZone(DEFAULT_ZONE)
            self.servfail_names = {_norm(SERVFAIL_DOMAIN)}
            self.dropped_names = {_norm(TIMEOUT_DOMAIN)}

    def add(self, zone_text: str) -> None:
        """Add records in zone-file syntax, e.g. ``'x.test. 300 IN TXT "v=spf1 -all"'``."""
        new = RR.fromZone(zone_text, ttl=300)
        with self._lock:
            self.records.extend(new)

    def remove(self, name: str, rtype: str | None = None) -> None:
        """Remove all records of ``name`` (of type ``rtype`` only, if given)."""
        target = _norm(name)
        with self._lock:
            self.records = [
                rr
                for rr in self.records
                if not (
                    _norm(str(rr.rname)) == target
                    and (rtype is None or QTYPE[rr.rtype] == rtype.upper())
                )
            ]

    def servfail(self, name: str) -> None:
        """``name`` and every name under it answer SERVFAIL."""
        with self._lock:
            self.servfail_names.add(_norm(name))

    def drop(self, name: str) -> None:
        """Queries for ``name`` and below get no reply, so resolvers time out."""
        with self._lock:
            self.dropped_names.add(_norm(name))

    def lookup(self, qname: str, qtype: str) -> tuple[int, list[RR]]:
        """(rcode, answers) for one question; ``_Drop`` when it must not be answered."""
        name = _norm(qname)
        with self._lock:
            if any(name == n or name.endswith("." + n) for n in self.dropped_names):
                raise _Drop(f"dropped {name}")
            if any(name == n or name.endswith("." + n) for n in self.servfail_names):
                return RCODE.SERVFAIL, []
            owned = [rr for rr in self.records if _norm(str(rr.rname)) == name]
            answers = [rr for rr in owned if qtype == "ANY" or QTYPE[rr.rtype] == qtype]
            exists = bool(owned) or any(
                _norm(str(rr.rname)).endswith("." + name) for rr in self.records
            )
        # A name that exists with other types (or only below it) is NODATA, not NXDOMAIN
        # (RFC 8020: NXDOMAIN means nothing exists at or below the name).
        return (RCODE.NOERROR if exists else RCODE.NXDOMAIN), answers


@dataclass(frozen=True)
class DnsQuery:
    name: str
    qtype: str
    protocol: str


class _Resolver:
    def __init__(self, zone: Zone, queries: list[DnsQuery]) -> None:
        self.zone = zone
        self.queries = queries

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        question = request.q
        qname, qtype = str(question.qname), QTYPE[question.qtype]
        self.queries.append(DnsQuery(_norm(qname), qtype, handler.protocol))
        rcode, answers = self.zone.lookup(qname, qtype)
        reply = request.reply(aa=1)
        reply.header.rcode = rcode
        for rr in answers:
            reply.add_answer(rr)
        return reply


class _QuietLogger(DNSLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(log="-recv,-send,-request,-reply,-truncated,-error,-data", prefix=False)


@dataclass
class DnsServer:
    """dnslib UDP+TCP servers on one port of 127.0.0.1, answering from ``zone``."""

    host: str
    port: int
    zone: Zone
    queries: list[DnsQuery]
    _servers: list[DNSServer]

    @property
    def resolver_arg(self) -> str:
        """The value for ``mailsetup check --resolver``."""
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()


def start_dns() -> DnsServer:
    zone = Zone()
    zone.reset()
    queries: list[DnsQuery] = []
    resolver = _Resolver(zone, queries)
    logger = _QuietLogger()
    for _attempt in range(20):
        udp = DNSServer(resolver, address=LOOPBACK, port=0, logger=logger, server=UDPServer)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, address=LOOPBACK, port=port, logger=logger, server=TCPServer)
        except OSError:  # that port is taken for TCP: try another pair
            udp.server.server_close()
            continue
        for server in (udp, tcp):
            # dnslib's start_thread() polls every 0.5 s, which is what stop() then waits for.
            server.thread = threading.Thread(
                target=server.server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"dns-{port}",
                daemon=True,
            )
            server.thread.start()
        return DnsServer(LOOPBACK, port, zone, queries, [udp, tcp])
    raise RuntimeError("no free port for both UDP and TCP")


@dataclass
class Blackhole:
    """A UDP and TCP port on 127.0.0.1 that never answers: DNS queries to it time out."""

    host: str
    port: int
    _sockets: list[socket.socket]

    @property
    def resolver_arg(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        for sock in self._sockets:
            sock.close()


def start_blackhole() -> Blackhole:
    for _attempt in range(20):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((LOOPBACK, 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind((LOOPBACK, port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)  # the kernel completes handshakes; nobody ever reads
        return Blackhole(LOOPBACK, port, [udp, tcp])
    raise RuntimeError("no free port for both UDP and TCP")


@pytest.fixture(scope="session")
def dns_server_session() -> Iterator[DnsServer]:
    """The one DNS server of the session; use ``dns_server`` in tests (it resets the zone)."""
    server = start_dns()
    yield server
    server.stop()


@pytest.fixture
def dns_server(dns_server_session: DnsServer) -> Iterator[DnsServer]:
    """The DNS server with the default zone; changes a test makes are undone afterwards."""
    dns_server_session.zone.reset()
    dns_server_session.queries.clear()
    yield dns_server_session
    dns_server_session.zone.reset()


@pytest.fixture(scope="session")
def dns_blackhole() -> Iterator[Blackhole]:
    """A resolver address that never answers (UDP or TCP): for the DNS timeout fault."""
    hole = start_blackhole()
    yield hole
    hole.stop()
