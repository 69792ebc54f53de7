"""``mailsetup inspect FILE.mobileconfig``: read, check the signature, lint, summarise.

One :class:`ProfileReport` per file, in the shape ``inspect`` prints (a block of text) and
``--json`` carries. The payload table shows what the profile sets up (type, display name,
identifier, the account: host, port, TLS, username); the findings say why it would not install
or not work. A file that cannot be read is a finding too, so one bad file never hides the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mailsetup.inputs import NotReadable, open_regular
from mailsetup.mobileconfig.findings import Finding
from mailsetup.mobileconfig.lint import DAV_KINDS, MAIL, KnownProvider, lint_across, lint_profile
from mailsetup.mobileconfig.read import MAX_BYTES, ReadProfile, read_profile
from mailsetup.untrusted import clean_text

if TYPE_CHECKING:
    from mailsetup.mobileconfig.certs import Cert
    from mailsetup.mobileconfig.cms import Signature
    from mailsetup.provider import Provider


class ProfileReport(NamedTuple):
    """What ``inspect`` says of one profile (``findings`` grows with the rules across files)."""

    path: str
    container: str
    size: int
    signature: Signature | None
    payloads: list[dict[str, Any]]
    findings: list[Finding]

    @property
    def will_install(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": "mobileconfig",
            "container": self.container,
            "size": self.size,
            "will_import": self.will_install,
            "signature": self.signature.as_dict() if self.signature else None,
            "payloads": self.payloads,
            "findings": [_clean_finding(f).as_dict() for f in self.findings],
        }


def known_provider(provider: Provider) -> KnownProvider:
    """The facts the linter compares against, from the provider file (nothing hard-coded).

    A provider file may have no mail or no DAV tables; whether the sync login is a separate id
    is its ``[texts] sync_user = "separate"``.
    """
    imap, smtp = provider.imap_endpoint, provider.smtp_endpoint
    davs = [d for d in (provider.caldav_service, provider.carddav_service) if d is not None]
    smtp_ports = {e.port for e in (smtp, *provider.smtp_alternatives) if e is not None}
    return KnownProvider(
        name=provider.name,
        mail_hosts=frozenset(e.host.lower() for e in (imap, smtp) if e is not None),
        imap_ports=frozenset({imap.port} if imap is not None else ()),
        smtp_ports=frozenset(smtp_ports),
        dav_hosts=frozenset(d.host.lower() for d in davs),
        separate_sync_user=provider.texts.sync_user == "separate",
        sync_user_example=provider.texts.sync_user_example,
    )


def read_file(path: Path) -> bytes:
    """The file's bytes (at most one over the limit), opened as ``inspect`` opens every file:
    a missing or unreadable file, a folder or a device gets its own report."""
    with open_regular(path, "give .mobileconfig files") as fh:
        try:
            return fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise NotReadable(f"cannot read: {exc.strerror}") from None


def inspect_profiles(
    paths: list[Path], *, provider: Provider | None, ca_file: Path | None = None
) -> list[ProfileReport]:
    """Read, verify and lint every profile in ``paths``; rules across files come last."""
    roots: tuple[list[Cert], str] | None = None
    if ca_file is not None:
        from mailsetup.mobileconfig.trust import MAX_BUNDLE_CERTS, read_pem_certificates

        certs = read_pem_certificates(ca_file, "--ca-file", MAX_BUNDLE_CERTS)
        roots = (certs, f"--ca-file {ca_file}")
    data: list[tuple[Path, bytes | str]] = []
    for path in paths:
        try:
            data.append((path, read_file(path)))
        except NotReadable as exc:
            data.append((path, exc.message))
    known = known_provider(provider) if provider is not None else None
    done = [
        _one(str(path), raw, roots, known)
        if isinstance(raw, bytes)
        else (_unreadable(str(path), raw), None)
        for path, raw in data
    ]
    across = lint_across([(r.path, plist) for r, plist in done if plist is not None])
    for report, _ in done:
        report.findings.extend(across.get(report.path, []))
    return [report for report, _ in done]


def _one(
    name: str,
    raw: bytes,
    roots: tuple[list[Cert], str] | None,
    known: KnownProvider | None,
) -> tuple[ProfileReport, dict[str, Any] | None]:
    read: ReadProfile = read_profile(raw, name, roots=roots)
    findings = list(read.findings)
    sig = read.signature
    if sig is not None:
        findings.extend(_signature_findings(sig))
    payloads: list[dict[str, Any]] = []
    if read.plist is not None:
        findings.extend(
            lint_profile(read.plist, signed=sig is not None and bool(sig.valid), provider=known)
        )
        payloads = payload_rows(read.plist)
    return ProfileReport(name, read.container, read.size, sig, payloads, findings), read.plist


def _unreadable(name: str, why: str) -> ProfileReport:
    return ProfileReport(name, "unknown", 0, None, [], [Finding("error", "cannot-read", "", why)])


def _signature_findings(sig: Signature) -> list[Finding]:
    out = []
    if sig.valid is False:
        out.append(
            Finding(
                "error",
                "signature-invalid",
                "",
                f"{sig.detail}: the device refuses a profile whose signature does not verify",
            )
        )
    elif sig.valid is None:
        out.append(Finding("warning", "signature-unchecked", "", sig.detail))
    if sig.signer is not None:
        import datetime as dt

        if sig.signer.not_after < dt.datetime.now(dt.UTC):
            out.append(
                Finding(
                    "warning",
                    "signer-expired",
                    "",
                    "the signing certificate has expired: the device shows the profile as not"
                    " verified",
                )
            )
        if sig.trust is not None and not sig.trust.verified:
            reason = sig.trust.detail.removeprefix("not verified: ")
            out.append(
                Finding(
                    "warning",
                    "signer-not-trusted",
                    "",
                    # A rule mailsetup does not apply (name constraints, say): the chain may
                    # well be there, so say what stopped the check, not that it is missing.
                    f"mailsetup cannot tell whether the device shows it as Verified: {reason}"
                    f" (checked against the {sig.trust.roots})"
                    if reason != sig.trust.detail
                    else f"the device installs it but shows it as Unverified: {reason}"
                    f" (checked against the {sig.trust.roots})",
                )
            )
    return out


def _tls_word(use_ssl: Any, port: Any) -> str:
    if use_ssl is True:
        # Apple Mail: SSL on a submission/plain port means STARTTLS.
        return "STARTTLS" if port in (25, 143, 587) else "SSL"
    return "no TLS" if use_ssl is False else "TLS ?"


def payload_rows(plist: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per payload: what it is and the account it sets up (text cleaned)."""
    rows: list[dict[str, Any]] = []
    content = plist.get("PayloadContent")
    if not isinstance(content, list):
        return rows
    for payload in content[:100]:
        if not isinstance(payload, dict):
            continue
        ptype = payload.get("PayloadType")
        servers: list[dict[str, Any]] = []
        if ptype == MAIL:
            for side, label in (("Incoming", "incoming"), ("Outgoing", "outgoing")):
                port = payload.get(f"{side}MailServerPortNumber")
                servers.append(
                    {
                        "role": label,
                        "host": _text(payload.get(f"{side}MailServerHostName")),
                        "port": _text(port),
                        "tls": _tls_word(payload.get(f"{side}MailServerUseSSL"), port),
                        "username": _text(payload.get(f"{side}MailServerUsername")),
                    }
                )
        elif isinstance(ptype, str) and ptype in DAV_KINDS:
            kind = DAV_KINDS[str(ptype)]
            use_ssl = payload.get(f"{kind}UseSSL", True)
            servers.append(
                {
                    "role": kind.lower(),
                    "host": _text(payload.get(f"{kind}HostName")),
                    "port": _text(payload.get(f"{kind}Port")),
                    "tls": "SSL" if use_ssl is True else _tls_word(use_ssl, None),
                    "username": _text(payload.get(f"{kind}Username")),
                }
            )
        rows.append(
            {
                "type": _text(ptype),
                "display_name": _text(payload.get("PayloadDisplayName")),
                "identifier": _text(payload.get("PayloadIdentifier")),
                "servers": servers,
            }
        )
    return rows


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return clean_text(value if isinstance(value, str) else repr(value), limit=120)


def _clean_finding(f: Finding) -> Finding:
    return Finding(
        f.severity,
        f.code,
        clean_text(f.path, limit=160),
        clean_text(f.message, limit=400),
        f.apple,
    )


def _device_verdict(sig: Signature) -> str:
    """What the device does with a signed profile: Verified needs both a signature that
    matches and a chain to a trusted root; a chain alone says nothing about this file."""
    if sig.valid is False:
        return "the device refuses the profile (its signature does not verify)"
    if sig.valid is None:
        return "the device's verdict is unknown (the signature was not checked)"
    return "device shows " + ("Verified" if sig.trust and sig.trust.verified else "Unverified")


def format_reports(reports: list[ProfileReport]) -> str:
    """Plain text: per file the verdict, the signer, the payload table, then the findings."""
    out: list[str] = []
    for r in reports:
        verdict = "will install" if r.will_install else "will NOT install"
        out.append(f"{clean_text(r.path)}: Apple profile ({r.container}, {r.size} B): {verdict}")
        sig = r.signature
        if sig is None and r.container != "signed":
            out.append("  not signed: the device shows it as Unverified")
        elif sig is not None:
            d = sig.as_dict()
            if d["subject"]:
                out.append(f"  signed by {d['subject']}")
                out.append(f"    issuer {d['issuer']}")
                if d["not_before"]:
                    out.append(f"    valid {d['not_before'][:10]} to {d['not_after'][:10]}")
            out.append(f"    {d['signature_detail']}")
            if sig.trust is not None:
                out.append(f"    {sig.trust.detail} ({sig.trust.roots}): {_device_verdict(sig)}")
        for row in r.payloads:
            name = row["display_name"] or ""
            out.append(f"  {row['type']}  {name!s}  [{row['identifier']}]")
            for s in row["servers"]:
                user = f" user {s['username']}" if s["username"] else " user (asked)"
                out.append(f"    {s['role']}: {s['host']}:{s['port']} {s['tls']}{user}")
        for f in r.findings:
            c = _clean_finding(f)
            where = c.path or "file"
            out.append(f"  {c.severity} [{c.code}] {where}: {c.message}")
            if c.apple:
                out.append(f"    Apple: {c.apple}")
        out.append("")
    return "\n".join(out)
