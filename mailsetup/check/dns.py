"""DNS probes of the address's domain, with dnspython: MX, SPF, DMARC, DKIM, client discovery.

What the provider expects (its MX host names, its SPF include, its DKIM selectors) comes from
the ``[dns]`` table of its profiles/ file, never from this module. DNS faults are named as a
person would search for them: ``NXDOMAIN``, ``SERVFAIL``, ``no answer``, ``timeout``.

References: RFC 7208 (SPF: one record, §4.5; ten DNS-querying terms at most, §4.6.4), RFC 7489
(DMARC: ``_dmarc`` TXT, ``v=DMARC1`` first, §6.4 and §6.6.3), RFC 6376 §3.6.2 (DKIM keys at
``<selector>._domainkey``), RFC 7505 (null MX), RFC 6186 and RFC 8314 (``_imaps``,
``_submission(s)`` SRV), RFC 6764 (``_caldavs``/``_carddavs`` SRV).
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from mailsetup.check.faults import FaultName as F
from mailsetup.check.probe import Fault, Outcome, ProbeContext
from mailsetup.check.report import JSONValue
from mailsetup.errors import BadInput
from mailsetup.provider import DnsExpectations, Provider
from mailsetup.untrusted import clean_text

SPF_LOOKUP_LIMIT = 10  # RFC 7208 §4.6.4


@dataclass(frozen=True)
class Nameserver:
    """``--resolver IP[:PORT]``: ask this server instead of the system's resolvers."""

    ip: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """``127.0.0.1``, ``127.0.0.1:5353``, ``::1`` or ``[::1]:5353``; anything else is BadInput."""
    raw = text.strip()
    host, port_text = raw, ""
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise BadInput(f"--resolver {text!r}: expected [IPv6]:PORT")
        port_text = rest[1:]
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise BadInput(
            f"--resolver {text!r} is not an IP address", "give IP or IP:PORT, e.g. 127.0.0.1:53"
        ) from None
    port = 53
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise BadInput(f"--resolver {text!r}: the port must be 1-65535")
        port = int(port_text)
    return Nameserver(str(ip), port)


def _resolver(nameserver: Nameserver | None) -> Any:
    import dns.resolver

    if nameserver is None:
        try:
            res = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise Fault(
                F.NO_RESOLVER, "no resolver: this system has no DNS server configured"
            ) from None
    else:
        res = dns.resolver.Resolver(configure=False)
        res.nameservers = [nameserver.ip]
        res.port = nameserver.port
    res.cache = None
    res.retry_servfail = False
    return res


def _no_nameserver_fault(exc: Any, qname: str, rdtype: str) -> Fault:
    """Name what went wrong when no server gave a usable answer (SERVFAIL, REFUSED, refused)."""
    errors = exc.kwargs.get("errors") or []
    for entry in errors:
        err = entry[3] if len(entry) > 3 else None
        text = str(err)
        if "SERVFAIL" in text:
            return Fault(
                F.SERVFAIL, f"SERVFAIL: the name servers failed to answer {qname} {rdtype}"
            )
        if "REFUSED" in text:
            return Fault(
                F.DNS_REFUSED, f"REFUSED: the DNS server refused to answer {qname} {rdtype}"
            )
        if isinstance(err, ConnectionRefusedError):
            return Fault(F.REFUSED, f"refused: no DNS server listens at {entry[0]}:{entry[2]}")
    return Fault(F.SERVFAIL, f"SERVFAIL: no name server answered {qname} {rdtype}")


def lookup(
    ctx: ProbeContext,
    res: Any,
    qname: str,
    rdtype: str,
    *,
    missing_ok: bool = False,
    nxdomain_ok: bool | None = None,
) -> list[Any] | None:
    """The records of ``qname``, ``None`` when there are none (if allowed).

    Without ``missing_ok`` an empty answer is the ``no answer`` fault; without ``nxdomain_ok``
    (default: same as ``missing_ok``) a name that does not exist is ``NXDOMAIN``. Timeouts,
    SERVFAIL and REFUSED are always faults.
    """
    if nxdomain_ok is None:
        nxdomain_ok = missing_ok
    import dns.exception
    import dns.name
    import dns.resolver

    ctx.step = f"{qname} {rdtype}"
    problem = _name_problem(qname)
    if problem is not None:
        # A name DNS cannot carry (a label over 63 octets, over 255 in all: RFC 1035 section
        # 2.3.4), e.g. _dmarc. before a valid 250-character domain, cannot exist: answered as
        # a name that does not exist, with the reason, never as an unexpected error.
        if nxdomain_ok:
            return None
        raise Fault(F.NXDOMAIN, f"NXDOMAIN: {qname} cannot exist ({problem})")
    try:
        answer = res.resolve(
            dns.name.from_text(qname), rdtype, lifetime=ctx.remaining(), search=False
        )
    except dns.resolver.NXDOMAIN:
        if nxdomain_ok:
            return None
        raise Fault(F.NXDOMAIN, f"NXDOMAIN: {qname} does not exist") from None
    except dns.resolver.NoAnswer:
        if missing_ok:
            return None
        raise Fault(F.NO_ANSWER, f"no answer: {qname} has no {rdtype} record") from None
    except dns.resolver.NoNameservers as exc:
        raise _no_nameserver_fault(exc, qname, rdtype) from None
    except dns.exception.Timeout:
        raise Fault(F.TIMEOUT, ctx.timeout_detail()) from None
    return list(answer)


def _txt(rdata: Any) -> str:
    return b"".join(rdata.strings).decode("utf-8", "replace")


def _host(name: Any) -> str:
    return str(name).rstrip(".").lower()


def matches_suffix(host: str, suffixes: tuple[str, ...]) -> bool:
    """``mx1.mail.example.net`` matches ``example.net`` (whole labels only)."""
    host = host.rstrip(".").lower()
    return any(host == s.lower() or host.endswith("." + s.lower().lstrip(".")) for s in suffixes)


# --- the resolver itself ----------------------------------------------------------------------


def probe_resolver(ctx: ProbeContext, domain: str, nameserver: Nameserver | None) -> Outcome:
    """Whether the resolver answers at all, asked once for the whole report.

    Offline, every DNS row fails in its own way (a stub resolver may even say NXDOMAIN), and a
    report that says "MX does not exist" next to "add a TXT record" sends a person the wrong
    way. Any DNS answer (NOERROR, NXDOMAIN) to the root's NS or the domain's SOA shows the
    resolver works; timeouts, REFUSED, SERVFAIL or nothing listening for both show it does not.
    """
    import dns.exception
    import dns.name
    import dns.resolver

    res = _resolver(nameserver)
    failures: list[str] = []
    questions = ((".", "NS"), (domain, "SOA"))
    for i, (qname, rdtype) in enumerate(questions):
        left = ctx.enter(f"{qname} {rdtype}")
        try:
            res.resolve(
                dns.name.from_text(qname),
                rdtype,
                lifetime=left / (len(questions) - i),
                search=False,
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            pass
        except dns.resolver.NoNameservers as exc:
            failures.append(_no_nameserver_fault(exc, qname, rdtype).detail)
            continue
        except dns.exception.Timeout:
            failures.append(f"no answer to {qname} {rdtype} in time")
            continue
        return Outcome("pass", f"the resolver answers ({qname} {rdtype})")
    where = f"at {nameserver}" if nameserver else "configured on this system"
    raise Fault(
        F.NO_WORKING_RESOLVER,
        f"no working resolver: no DNS server {where} answers ({'; '.join(failures)})",
    )


# --- MX ----------------------------------------------------------------------------------------


def probe_mx(
    ctx: ProbeContext, domain: str, expect: DnsExpectations, nameserver: Nameserver | None
) -> Outcome:
    """The domain's MX records, and whether they lead to the provider's mail exchangers."""
    res = _resolver(nameserver)
    records = lookup(ctx, res, domain, "MX", missing_ok=True, nxdomain_ok=False)
    if records is None:
        raise Fault(F.NO_MX, f"no MX: {domain} has no MX records")
    mx = sorted((r.preference, _host(r.exchange)) for r in records)
    ctx.evidence["mx"] = [{"preference": p, "host": h} for p, h in mx]
    hosts = [h for _, h in mx]
    if hosts in (["."], [""]):
        raise Fault(F.NULL_MX, f"null MX: {domain} says it accepts no mail (RFC 7505)")
    shown = ", ".join(f"{p} {h}" for p, h in mx)
    if not expect.mx_suffixes:
        return Outcome("pass", f"MX {shown}")
    ctx.evidence["expected_suffixes"] = list(expect.mx_suffixes)
    outside = [h for h in hosts if not matches_suffix(h, expect.mx_suffixes)]
    if len(outside) == len(hosts):
        raise Fault(
            F.MX_NOT_AT_PROVIDER,
            f"MX not at provider: {shown} (expected hosts under {', '.join(expect.mx_suffixes)})",
        )
    if outside:
        return Outcome.of(F.MX_PARTLY_ELSEWHERE, f"MX partly elsewhere: {', '.join(outside)}")
    return Outcome("pass", f"MX {shown}")


# --- SPF ---------------------------------------------------------------------------------------


def _spf_records(ctx: ProbeContext, res: Any, name: str, *, nxdomain_ok: bool) -> list[str]:
    records = lookup(ctx, res, name, "TXT", missing_ok=True, nxdomain_ok=nxdomain_ok) or []
    texts = [_txt(r) for r in records]
    # "v=spf1" followed by a space or the end (RFC 7208 §4.5); case-insensitive.
    return [t for t in texts if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot be looked up (``a..b``, a label over 63 octets), or ``None``."""
    import dns.exception
    import dns.name

    try:
        dns.name.from_text(name)
    except dns.exception.DNSException as exc:
        return clean_text(str(exc) or type(exc).__name__, 80)
    except ValueError:
        return "not a valid name"
    return None


class _SpfWalk:
    """Count DNS-querying terms through includes and redirects (RFC 7208 §4.6.4)."""

    def __init__(self, ctx: ProbeContext, res: Any) -> None:
        self.ctx = ctx
        self.res = res
        self.lookups = 0
        self.includes: list[str] = []
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def walk(self, record: str, depth: int = 0) -> None:
        for term in record.split()[1:]:
            if self.lookups > SPF_LOOKUP_LIMIT:
                return
            bare = term.lower().lstrip("+-~?")
            target = ""
            if bare.startswith("include:"):
                target = bare[len("include:") :]
            elif bare.startswith("redirect="):
                target = bare[len("redirect=") :]
            elif bare in ("a", "mx", "ptr") or bare.startswith(
                ("a:", "a/", "mx:", "mx/", "ptr:", "exists:")
            ):
                self.lookups += 1
                continue
            else:
                continue
            self.lookups += 1
            self.includes.append(target)
            if "%" in target or target in self.seen or depth >= SPF_LOOKUP_LIMIT:
                continue  # macros expand per message; loops are the publisher's problem
            self.seen.add(target)
            problem = _name_problem(target)
            if problem:
                self.problems.append(f"{clean_text(target, 80)} is not a domain name ({problem})")
                continue
            found = _spf_records(self.ctx, self.res, target, nxdomain_ok=True)
            if len(found) != 1:
                self.problems.append(f"{target} has {'no' if not found else 'several'} SPF records")
                continue
            self.walk(found[0], depth + 1)


def probe_spf(
    ctx: ProbeContext, domain: str, expect: DnsExpectations, nameserver: Nameserver | None
) -> Outcome:
    """One SPF record, with the provider's include, within ten DNS lookups."""
    res = _resolver(nameserver)
    spf = _spf_records(ctx, res, domain, nxdomain_ok=False)
    ctx.evidence["records"] = list(spf)
    if not spf:
        raise Fault(F.MISSING_SPF, f"missing SPF: {domain} has no v=spf1 TXT record")
    if len(spf) > 1:
        raise Fault(
            F.MORE_THAN_ONE_SPF,
            f"more than one SPF record at {domain} ({len(spf)}): receivers treat this as an error",
        )
    record = spf[0]
    walk = _SpfWalk(ctx, res)
    walk.walk(record)
    ctx.evidence["lookups"] = walk.lookups
    ctx.evidence["includes"] = list(walk.includes)
    if walk.problems:
        ctx.evidence["problems"] = list(walk.problems)
    shown = clean_text(record, 120)
    wanted = expect.spf_include
    if wanted and wanted.lower() not in walk.includes:
        raise Fault(
            F.SPF_WITHOUT_INCLUDE,
            f"SPF without provider include: no include:{wanted} in {shown}",
        )
    if walk.lookups > SPF_LOOKUP_LIMIT:
        raise Fault(
            F.TOO_MANY_SPF_LOOKUPS,
            f"too many SPF lookups: more than {SPF_LOOKUP_LIMIT} DNS-querying terms",
        )
    terms = record.lower().split()
    if "+all" in terms or "all" in terms:
        return Outcome.of(F.SPF_PLUS_ALL, f"SPF +all lets every sender pass: {shown}")
    if walk.problems:
        return Outcome.of(F.SPF_INCLUDE_BROKEN, f"SPF include broken: {'; '.join(walk.problems)}")
    plural = "" if walk.lookups == 1 else "s"
    return Outcome("pass", f"{shown} ({walk.lookups} DNS lookup{plural} of 10)")


# --- DMARC -------------------------------------------------------------------------------------


def parse_tags(record: str) -> dict[str, str]:
    """``v=DMARC1; p=reject`` -> ``{"v": "DMARC1", "p": "reject"}`` (RFC 7489 §6.4)."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


def probe_dmarc(ctx: ProbeContext, domain: str, nameserver: Nameserver | None) -> Outcome:
    """A DMARC record at ``_dmarc.<domain>`` and its policy.

    Missing DMARC is a warning, not a failure: the mailbox works without it, but large
    receivers increasingly reject or junk mail from domains without it.
    """
    res = _resolver(nameserver)
    name = f"_dmarc.{domain}"
    texts = [_txt(r) for r in lookup(ctx, res, name, "TXT", missing_ok=True) or []]
    records = [t for t in texts if t.replace(" ", "").lower().startswith("v=dmarc1")]
    ctx.evidence["records"] = list(records)
    if not records:
        return Outcome.of(F.MISSING_DMARC, f"missing DMARC: no v=DMARC1 TXT record at {name}")
    if len(records) > 1:
        raise Fault(
            F.MORE_THAN_ONE_DMARC,
            f"more than one DMARC record at {name}: receivers ignore them all",
        )
    tags = parse_tags(records[0])
    policy = tags.get("p", "").lower()
    ctx.evidence["policy"] = policy or None
    for key in ("sp", "pct", "rua", "adkim", "aspf"):
        if key in tags:
            ctx.evidence[key] = tags[key]
    shown = clean_text(records[0], 120)
    if policy not in ("none", "quarantine", "reject"):
        return Outcome.of(F.INVALID_DMARC, f"invalid DMARC: no valid p= policy in {shown}")
    if policy == "none":
        return Outcome.of(F.DMARC_P_NONE, f"DMARC p=none: monitoring only, {shown}")
    return Outcome("pass", f"DMARC p={policy}: {shown}")


# --- DKIM --------------------------------------------------------------------------------------


def probe_dkim(
    ctx: ProbeContext, domain: str, expect: DnsExpectations, nameserver: Nameserver | None
) -> Outcome:
    """The provider's DKIM selectors, when its profiles/ file names them."""
    if not expect.dkim_selectors:
        return Outcome("skip", "no DKIM selector known for this provider")
    res = _resolver(nameserver)
    found: dict[str, JSONValue] = {}
    revoked: list[str] = []
    for selector in expect.dkim_selectors:
        name = f"{selector}._domainkey.{domain}"
        texts = [_txt(r) for r in lookup(ctx, res, name, "TXT", missing_ok=True) or []]
        keys = [t for t in texts if "p=" in t.replace(" ", "")]
        if not keys:
            continue
        tags = parse_tags(keys[0])
        if not tags.get("p"):
            revoked.append(selector)  # empty p= means the key was revoked (RFC 6376 §3.6.1)
        found[selector] = {"key_type": tags.get("k", "rsa"), "revoked": not tags.get("p")}
    ctx.evidence["selectors"] = found
    good = [s for s in found if s not in revoked]
    if good:
        return Outcome("pass", f"DKIM key published for selector {', '.join(good)}")
    if revoked:
        raise Fault(F.DKIM_REVOKED, f"DKIM key revoked (empty p=) for {', '.join(revoked)}")
    tried = ", ".join(f"{s}._domainkey.{domain}" for s in expect.dkim_selectors)
    raise Fault(F.MISSING_DKIM, f"missing DKIM: no key at {tried}")


# --- client discovery --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Service:
    label: str  # "_imaps._tcp"
    host: str  # what the provider file says
    port: int


def discovery_services(provider: Provider) -> list[_Service]:
    """The SRV names a client may look up, with what the provider file says they should be."""
    from mailsetup.check.services import offered

    have = offered(provider)
    submission = next((e for e in have.smtp if e.security == "starttls"), None)
    submissions = next((e for e in have.smtp if e.security == "ssl"), None)
    out = []
    if have.imap is not None:
        label = "_imaps._tcp" if have.imap.security == "ssl" else "_imap._tcp"
        out.append(_Service(label, have.imap.host, have.imap.port))
    if submission:
        out.append(_Service("_submission._tcp", submission.host, submission.port))
    if submissions:
        out.append(_Service("_submissions._tcp", submissions.host, submissions.port))
    for kind, service in have.dav:
        out.append(_Service(f"_{kind}s._tcp", service.host, service.port))
    return out


def _parallel(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run small DNS look-ups at once (each bounded by the probe's deadline)."""
    results: dict[str, Any] = {}

    def run(key: str, job: Callable[[], Any]) -> None:
        try:
            results[key] = job()
        except BaseException as exc:
            results[key] = exc

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _by_priority(records: list[Any]) -> list[Any]:
    return sorted(records, key=lambda r: (r.priority, -r.weight))


def _srv_evidence(records: list[Any]) -> list[JSONValue]:
    return [
        {"priority": r.priority, "weight": r.weight, "port": r.port, "target": _host(r.target)}
        for r in _by_priority(records)
    ]


def _srv_mismatch(service: _Service, records: list[Any]) -> str | None:
    """Where the first SRV record points, when that is not where the provider file says."""
    first = _by_priority(records)[0]
    target = _host(first.target)
    if target in ("", "."):
        return None  # "service not offered here" (RFC 2782)
    if target != service.host.lower() or first.port != service.port:
        return f"{service.label} -> {target}:{first.port} (expected {service.host}:{service.port})"
    return None


def probe_discovery(
    ctx: ProbeContext, domain: str, provider: Provider, nameserver: Nameserver | None
) -> Outcome:
    """RFC 6186/8314/6764 SRV records and ``autoconfig.<domain>``, where they exist.

    None of them is required (clients are configured from the provider's data); records that
    exist but point elsewhere than the provider file says are a warning, because clients that
    use them would be set up wrongly.
    """
    services = discovery_services(provider)
    res = _resolver(nameserver)
    jobs: dict[str, Callable[[], Any]] = {
        s.label: partial(lookup, ctx, res, f"{s.label}.{domain}", "SRV", missing_ok=True)
        for s in services
    }
    jobs["autoconfig"] = partial(lookup, ctx, res, f"autoconfig.{domain}", "A", missing_ok=True)
    results = _parallel(jobs)
    for value in results.values():
        if isinstance(value, Fault) and value.fault is F.TIMEOUT:
            raise value
    found: dict[str, JSONValue] = {}
    mismatched: list[str] = []
    errors: list[str] = []
    for s in services:
        value = results.get(s.label)
        if isinstance(value, BaseException):
            errors.append(f"{s.label}: {value}")
        elif value:
            found[s.label] = _srv_evidence(value)
            mismatch = _srv_mismatch(s, value)
            if mismatch:
                mismatched.append(mismatch)
    auto = results.get("autoconfig")
    if isinstance(auto, BaseException):
        errors.append(f"autoconfig: {auto}")
    elif auto:
        found["autoconfig"] = [str(r) for r in auto]
    ctx.evidence["records"] = found
    if errors:
        ctx.evidence["errors"] = list(errors)
    return _discovery_outcome(found, mismatched, errors)


def _discovery_outcome(
    found: dict[str, JSONValue], mismatched: list[str], errors: list[str]
) -> Outcome:
    if mismatched:
        return Outcome.of(F.SRV_MISMATCH, f"SRV mismatch: {'; '.join(mismatched)}")
    if errors:
        return Outcome.of(F.DNS_ERROR, f"DNS error: {'; '.join(errors)}")
    if not found:
        return Outcome("pass", "no discovery records published (optional)")
    return Outcome("pass", f"published: {', '.join(found)}")
