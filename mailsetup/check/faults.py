"""Every fault ``check`` can name: one catalogue that probes raise, hints read and docs mirror.

A fault is what a script matches on (``probes[].fault`` in the JSON) and what a person searches
for, so its name is part of the stable interface of docs/check.md. Each entry says which status
it gives the row (a fault never passes), what it means in one line, and the default hint: a
template whose ``{fields}`` are filled per row by :mod:`mailsetup.check.hints` from the account,
the provider file and the row (``{domain}``, ``{target}``, ``{provider}``, ...). A provider file
may replace any hint in its ``[check.hints]`` table, keyed by fault name.

Probes refer to faults as :class:`FaultName` members, never as string literals, so a typo is a
type error and ``tests/test_check_faults.py`` can compare this table with docs/check.md both ways.
``unexpected error`` is the one fault no probe raises: it marks an exception nobody named, which is
a bug in mailsetup to report, never a result about a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

Severity = Literal["warn", "fail"]


class FaultName(StrEnum):
    """The fault names of docs/check.md; the value is what the JSON and the table show."""

    # connection
    REFUSED = "refused"
    TIMEOUT = "timeout"
    HOST_NOT_FOUND = "host not found"
    UNREACHABLE = "unreachable"
    NETWORK_ERROR = "network error"
    CONNECTION_CLOSED = "connection closed"
    REPLY_TOO_LONG = "server reply too long"
    # TLS
    CERT_NAME_MISMATCH = "certificate name mismatch"
    CERT_EXPIRED = "certificate expired"
    CERT_NOT_YET_VALID = "certificate not yet valid"
    CERT_UNTRUSTED = "untrusted certificate"
    CERT_REVOKED = "certificate revoked"
    CERT_REJECTED = "certificate rejected"
    CERT_EXPIRES_SOON = "certificate expires soon"
    NO_TLS = "no TLS"
    TLS_OFF = "TLS off"
    OLD_TLS = "old TLS"
    TLS_HANDSHAKE_FAILED = "TLS handshake failed"
    # IMAP and SMTP
    NOT_IMAP = "not IMAP"
    REPLY_NOT_ASCII = "server reply not ASCII"
    NO_IMAP4REV1 = "no IMAP4rev1"
    NOT_SMTP = "not SMTP"
    GREETING_REFUSED = "greeting refused"
    EHLO_REFUSED = "EHLO refused"
    STARTTLS_NOT_OFFERED = "STARTTLS not offered"
    STARTTLS_REFUSED = "STARTTLS refused"
    AUTH_NOT_OFFERED = "AUTH not offered"
    NO_USABLE_AUTH = "no usable AUTH mechanism"
    AUTH_FAILED = "authentication failed"
    SERVER_UNAVAILABLE = "server unavailable"
    NO_INBOX = "no INBOX"
    # DNS answers
    NO_RESOLVER = "no resolver"
    NO_WORKING_RESOLVER = "no working resolver"
    NXDOMAIN = "NXDOMAIN"
    SERVFAIL = "SERVFAIL"
    DNS_REFUSED = "REFUSED"
    NO_ANSWER = "no answer"
    DNS_ERROR = "DNS error"
    # DNS content
    NO_MX = "no MX"
    NULL_MX = "null MX"
    MX_NOT_AT_PROVIDER = "MX not at provider"
    MX_PARTLY_ELSEWHERE = "MX partly elsewhere"
    MISSING_SPF = "missing SPF"
    MORE_THAN_ONE_SPF = "more than one SPF record"
    SPF_WITHOUT_INCLUDE = "SPF without provider include"
    TOO_MANY_SPF_LOOKUPS = "too many SPF lookups"
    SPF_PLUS_ALL = "SPF +all"
    SPF_INCLUDE_BROKEN = "SPF include broken"
    MISSING_DMARC = "missing DMARC"
    MORE_THAN_ONE_DMARC = "more than one DMARC record"
    INVALID_DMARC = "invalid DMARC"
    DMARC_P_NONE = "DMARC p=none"
    MISSING_DKIM = "missing DKIM"
    DKIM_REVOKED = "DKIM key revoked"
    SRV_MISMATCH = "SRV mismatch"
    # DAV
    DAV_404 = "DAV 404"
    DAV_4XX = "DAV 4xx"
    DAV_5XX = "DAV 5xx"
    FORBIDDEN = "forbidden"
    UNSUPPORTED_AUTH = "unsupported authentication"
    NO_WELL_KNOWN = "no well-known redirect"
    NOT_DAV = "not DAV"
    NOT_CALDAV = "not a CalDAV server"
    NOT_CARDDAV = "not a CardDAV server"
    NO_PRINCIPAL = "no principal"
    NO_CALENDAR_HOME = "no calendar-home-set"
    NO_ADDRESSBOOK_HOME = "no addressbook-home-set"
    NO_CALENDARS = "no calendars"
    NO_ADDRESS_BOOKS = "no address books"
    FOREIGN_HREF = "foreign href"
    BAD_XML = "bad XML"
    BAD_HTTP = "bad HTTP"
    # mailsetup itself
    UNEXPECTED = "unexpected error"


@dataclass(frozen=True)
class FaultSpec:
    """One catalogue entry: the status it gives, what it means, what to do (a template)."""

    name: FaultName
    status: Severity
    meaning: str
    hint: str | None


_F = FaultName
_CERT_PROXY = "a TLS-inspecting proxy or antivirus can cause this"
_CLOCK = "check also that this computer's clock is right"


def _entries() -> tuple[FaultSpec, ...]:
    def fail(name: FaultName, meaning: str, hint: str | None) -> FaultSpec:
        return FaultSpec(name, "fail", meaning, hint)

    def warn(name: FaultName, meaning: str, hint: str | None) -> FaultSpec:
        return FaultSpec(name, "warn", meaning, hint)

    return (
        fail(
            _F.REFUSED,
            "nothing accepts connections on that host and port",
            "nothing listens on {target}: check host and port in the provider file, or a "
            "firewall on this network",
        ),
        fail(
            _F.TIMEOUT,
            "no answer within --timeout seconds; the detail says during which step",
            "no answer in time: a firewall may drop this port, or the server is overloaded; "
            "try again with a larger --timeout",
        ),
        fail(
            _F.HOST_NOT_FOUND,
            "the server's own name does not resolve",
            "the server's name does not resolve: check the provider file and this computer's DNS",
        ),
        fail(
            _F.UNREACHABLE,
            "no route to the server's network",
            "this computer has no route to {target}: check its network connection",
        ),
        fail(
            _F.NETWORK_ERROR,
            "the operating system reported another network error",
            "check this computer's network connection, then try again",
        ),
        fail(
            _F.CONNECTION_CLOSED,
            "the server hung up in the middle",
            "the server closed the connection: try again; if it lasts, tell {provider}",
        ),
        fail(
            _F.REPLY_TOO_LONG,
            "the server sent more (a longer line, more lines, a larger literal or body) than "
            "mailsetup reads; the reading stopped there",
            "no real server of this kind answers like that: check host and port in the provider "
            "file, or tell {provider}",
        ),
        fail(
            _F.CERT_NAME_MISMATCH,
            "the certificate is valid but for another name",
            f"the certificate is for another name: check the host name; {_CERT_PROXY}",
        ),
        fail(
            _F.CERT_EXPIRED,
            "the certificate is past its validity dates",
            f"the server's certificate has expired: tell {{provider}}; {_CLOCK}",
        ),
        fail(
            _F.CERT_NOT_YET_VALID,
            "the certificate is not valid yet",
            "check that this computer's clock is right",
        ),
        fail(
            _F.CERT_UNTRUSTED,
            "not signed by a trusted CA (self-signed, private CA without --ca-file, TLS "
            "interception)",
            f"the certificate is not from a CA this system trusts: {_CERT_PROXY}; for a private "
            "CA pass --ca-file",
        ),
        fail(
            _F.CERT_REVOKED,
            "the certificate was revoked by its CA",
            "the server's certificate was revoked: tell {provider}",
        ),
        fail(
            _F.CERT_REJECTED,
            "the certificate failed verification for another reason (the detail names it)",
            f"the certificate does not verify: {_CERT_PROXY}",
        ),
        warn(
            _F.CERT_EXPIRES_SOON,
            "valid, but expires within 14 days: renewals normally happen 30 days ahead, so "
            "renewal is failing",
            "the certificate's renewal seems to fail: tell {provider}",
        ),
        fail(
            _F.NO_TLS,
            "the port does not speak TLS where the provider file says it should",
            "this port does not speak TLS: check the port and security mode in the provider file",
        ),
        warn(
            _F.TLS_OFF,
            "the provider file turns TLS off (security = none, or an http:// URL): nothing is "
            "encrypted and no password is sent",
            "use the TLS port or https:// URL the provider lists",
        ),
        fail(
            _F.OLD_TLS,
            "the server offers only TLS older than 1.2 (RFC 8996)",
            "the server offers only outdated TLS: tell {provider}",
        ),
        fail(
            _F.TLS_HANDSHAKE_FAILED,
            "the TLS handshake broke",
            f"the TLS handshake failed: {_CERT_PROXY}; check the port",
        ),
        fail(
            _F.NOT_IMAP,
            "another service answers on the IMAP port",
            "another service answers on this port: check the IMAP port in the provider file "
            "(IMAP with implicit TLS is 993)",
        ),
        fail(
            _F.REPLY_NOT_ASCII,
            "the IMAP server sent bytes that are not ASCII where IMAP allows only ASCII (its "
            "greeting, capabilities or status lines)",
            "clients may fail on this server: check the IMAP port in the provider file, or tell "
            "{provider}",
        ),
        warn(
            _F.NO_IMAP4REV1,
            "the server claims neither IMAP4rev1 nor IMAP4rev2",
            "clients may refuse this server: tell {provider}",
        ),
        fail(
            _F.NOT_SMTP,
            "another service answers on the SMTP port",
            "another service answers on this port: check the SMTP port in the provider file "
            "(submission is 587, or 465 with implicit TLS)",
        ),
        fail(
            _F.GREETING_REFUSED,
            "the SMTP server greeted with an error code (it refuses service)",
            "the server refuses connections from this network just now: try again later, or "
            "tell {provider}",
        ),
        fail(
            _F.EHLO_REFUSED,
            "the SMTP server rejected the client's EHLO",
            "the server refuses to talk to this client: tell {provider}",
        ),
        fail(
            _F.STARTTLS_NOT_OFFERED,
            "the server (or something in between) offers no STARTTLS",
            "the server, or something in between, offers no encryption on this port; use "
            "implicit TLS instead (port {tls_port})",
        ),
        fail(
            _F.STARTTLS_REFUSED,
            "the server refused STARTTLS",
            "the server refuses encryption on this port: use implicit TLS instead (port "
            "{tls_port})",
        ),
        fail(
            _F.AUTH_NOT_OFFERED,
            "no SMTP AUTH after TLS",
            "the server accepts no login here: check the port (submission is 587 or 465)",
        ),
        fail(
            _F.NO_USABLE_AUTH,
            "only AUTH mechanisms mailsetup cannot use (it uses PLAIN, LOGIN and CRAM-MD5)",
            "the server offers no login method mailsetup can test: tell {provider}",
        ),
        fail(
            _F.AUTH_FAILED,
            "the server refused the user name or password",
            "{password_hint}; {password_source}",
        ),
        fail(
            _F.SERVER_UNAVAILABLE,
            "IMAP [UNAVAILABLE]: the server could not check the login just now",
            "the server could not check the login just now: try again later",
        ),
        fail(
            _F.NO_INBOX,
            'logged in, but LIST "" INBOX shows nothing',
            "the login works but shows no INBOX: tell {provider}",
        ),
        fail(
            _F.NO_RESOLVER,
            "this system has no DNS server configured",
            "configure a DNS server on this computer, or pass --resolver IP",
        ),
        fail(
            _F.NO_WORKING_RESOLVER,
            "no DNS server answered at all (offline, or --resolver points at nothing): the DNS "
            "rows were not checked, the notice at the top says so once",
            "check this computer's network connection and DNS settings, or pass --resolver IP",
        ),
        fail(
            _F.NXDOMAIN,
            "the name does not exist in DNS",
            "{domain} does not exist in DNS: check the spelling of the address",
        ),
        fail(
            _F.SERVFAIL,
            "the name servers failed to answer",
            "the name servers of {domain} fail to answer (often broken DNSSEC): ask whoever "
            "manages the domain's DNS",
        ),
        fail(
            _F.DNS_REFUSED,
            "the DNS server refused to answer",
            "the DNS server refuses this question: use another resolver (--resolver IP)",
        ),
        fail(
            _F.NO_ANSWER,
            "the name exists but has no record of the type asked",
            "{domain} has no such record: add it in the domain's DNS zone",
        ),
        warn(
            _F.DNS_ERROR,
            "some optional look-ups failed (the detail lists them)",
            "try again; if it lasts, check this computer's DNS",
        ),
        fail(
            _F.NO_MX,
            "the domain has no MX records, so mail to it goes nowhere useful",
            "add MX records for {domain} pointing at {provider}'s mail exchangers ({mx_suffixes})",
        ),
        fail(
            _F.NULL_MX,
            "the domain says it accepts no mail (RFC 7505)",
            "remove the null MX of {domain} and point its MX records at {provider}",
        ),
        fail(
            _F.MX_NOT_AT_PROVIDER,
            "every MX points outside the provider's mail exchangers",
            "point the MX records of {domain} at {provider}'s mail exchangers ({mx_suffixes}), "
            "or mail will not reach this mailbox",
        ),
        warn(
            _F.MX_PARTLY_ELSEWHERE,
            "some MX records point outside the provider",
            "mail delivered to the other exchangers may not reach this mailbox: keep only "
            "{provider}'s ({mx_suffixes})",
        ),
        fail(
            _F.MISSING_SPF,
            "the domain has no v=spf1 TXT record",
            'add a TXT record at {domain}: "{spf_record}"',
        ),
        fail(
            _F.MORE_THAN_ONE_SPF,
            "more than one v=spf1 record: receivers treat this as an error (RFC 7208 §4.5)",
            "merge them into one v=spf1 record (RFC 7208 §3.2)",
        ),
        fail(
            _F.SPF_WITHOUT_INCLUDE,
            "the SPF record does not include the provider's",
            "add include:{spf_include} to the SPF record, or mail sent through {provider} "
            "fails SPF",
        ),
        fail(
            _F.TOO_MANY_SPF_LOOKUPS,
            "more than 10 DNS-querying SPF terms (RFC 7208 §4.6.4)",
            "flatten includes: receivers stop after 10 DNS lookups",
        ),
        warn(
            _F.SPF_PLUS_ALL,
            "the SPF record ends in +all, which lets every sender pass",
            'end the SPF record with "-all" or "~all"',
        ),
        warn(
            _F.SPF_INCLUDE_BROKEN,
            "an include: names no valid domain, or one without exactly one SPF record",
            "fix or remove the broken include: receivers fail SPF on it (RFC 7208 §5.2)",
        ),
        warn(
            _F.MISSING_DMARC,
            "no v=DMARC1 record; mail works, but large receivers junk or reject such mail",
            'add a TXT record at _dmarc.{domain}, e.g. "v=DMARC1; p=quarantine"',
        ),
        fail(
            _F.MORE_THAN_ONE_DMARC,
            "more than one DMARC record: receivers ignore them all (RFC 7489 §6.6.3)",
            "keep one v=DMARC1 record at _dmarc.{domain}",
        ),
        warn(
            _F.INVALID_DMARC,
            "the DMARC record has no valid p= policy",
            "give the record a policy: p=none, p=quarantine or p=reject",
        ),
        warn(
            _F.DMARC_P_NONE,
            "DMARC is in monitoring mode only",
            "once reports look clean, move to p=quarantine or p=reject",
        ),
        fail(
            _F.MISSING_DKIM,
            "no DKIM key at the provider's selectors",
            "enable DKIM for {domain} at {provider} and publish the key it shows",
        ),
        fail(
            _F.DKIM_REVOKED,
            "the DKIM key is revoked (empty p=, RFC 6376 §3.6.1)",
            "publish the current DKIM key from {provider}",
        ),
        warn(
            _F.SRV_MISMATCH,
            "a discovery record points at another host or port than the provider file",
            "clients that use these records are set up wrongly: fix or remove them",
        ),
        fail(
            _F.DAV_404,
            "the DAV server answered 404 Not Found",
            "the URL in the provider file is wrong, or there is no DAV service there",
        ),
        fail(
            _F.DAV_4XX,
            "the DAV server refused the request with another 4xx status (in the detail)",
            "check the DAV URL in the provider file",
        ),
        fail(
            _F.DAV_5XX,
            "the DAV server failed with a 5xx status (in the detail)",
            "the server failed: try again later; if it lasts, tell {provider}",
        ),
        fail(
            _F.FORBIDDEN,
            "the DAV server answered 403: the login is known but not allowed there",
            "this login may not use the service: check the sync user name",
        ),
        fail(
            _F.UNSUPPORTED_AUTH,
            "the DAV server asks for another scheme than Basic",
            "mailsetup tests Basic authentication only; clients may still work",
        ),
        warn(
            _F.NO_WELL_KNOWN,
            "no /.well-known redirect (RFC 6764 §5): clients that discover must be given the URL",
            "clients must be given the full DAV URL; the generated profiles do that",
        ),
        fail(
            _F.NOT_DAV,
            "no DAV header, or no 207 Multi-Status answer",
            "no DAV service answers there: check the URL in the provider file",
        ),
        fail(
            _F.NOT_CALDAV,
            "the DAV header lacks calendar-access (RFC 4791 §5.1)",
            "this DAV server serves no calendars: check the CalDAV URL in the provider file",
        ),
        fail(
            _F.NOT_CARDDAV,
            "the DAV header lacks addressbook (RFC 6352 §6.1)",
            "this DAV server serves no contacts: check the CardDAV URL in the provider file",
        ),
        fail(
            _F.NO_PRINCIPAL,
            "discovery stopped: no current-user-principal (RFC 5397)",
            "the server does not say who is logged in: check the URL in the provider file",
        ),
        fail(
            _F.NO_CALENDAR_HOME,
            "discovery stopped: no calendar-home-set on the principal",
            "the account has no calendar home: check the sync user name",
        ),
        fail(
            _F.NO_ADDRESSBOOK_HOME,
            "discovery stopped: no addressbook-home-set on the principal",
            "the account has no address book home: check the sync user name",
        ),
        warn(
            _F.NO_CALENDARS,
            "logged in, but the calendar home holds no calendar",
            "create a calendar in the provider's web interface, or let the client create one",
        ),
        warn(
            _F.NO_ADDRESS_BOOKS,
            "logged in, but the address book home holds no address book",
            "create an address book in the provider's web interface",
        ),
        fail(
            _F.FOREIGN_HREF,
            "the server pointed at another host; the password is not sent there",
            "the server sends clients elsewhere: check the DAV URL in the provider file",
        ),
        fail(
            _F.BAD_XML,
            "the DAV answer was not well-formed XML, or used entities (refused by defusedxml)",
            "the server's answer cannot be read: tell {provider}",
        ),
        fail(
            _F.BAD_HTTP,
            "the answer was not valid HTTP, or a Location or href in it is no usable URL",
            "something that is not a web server answers there: check the DAV URL",
        ),
        fail(
            _F.UNEXPECTED,
            "a bug in mailsetup, not a result about the server: please report it with the detail",
            "this is a bug in mailsetup: please report it with the detail above",
        ),
    )


CATALOGUE: Mapping[FaultName, FaultSpec] = MappingProxyType({e.name: e for e in _entries()})
