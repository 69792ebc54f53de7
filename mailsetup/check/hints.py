"""One hint per fault: what a person can do about it, with the provider's own words.

Hints are attached after the probes ran (probes name faults, they do not advise), so the
wording lives in one place and the provider's ``password_hint`` / ``sync_password_hint`` from
its profiles/ file reach the user exactly where authentication failed.
"""

from __future__ import annotations

from mailsetup.account import Account
from mailsetup.check.report import ProbeResult
from mailsetup.provider import Provider

_DAV = ("caldav", "carddav")


def hint_for(result: ProbeResult, provider: Provider, account: Account) -> str | None:
    """The hint for ``result``'s fault, or ``None`` when there is nothing to add."""
    fault = result.fault
    if fault is None or result.status in ("pass", "skip"):
        return None
    domain = account.domain
    expect = provider.dns
    proto = result.protocol
    if fault == "authentication failed":
        if proto in _DAV:
            first = provider.sync_password_hint or "check the sync username and password"
            if account.sync_user is None:
                return (
                    f"{first}; this check logged in with the address and the mail password: "
                    "pass --sync-user (its password from MAILSETUP_SYNC_PASSWORD or the keyring)"
                )
            return (
                f"{first}; MAILSETUP_SYNC_PASSWORD or `mailsetup password set --email "
                f"{account.email} --sync-user {account.sync_user}` sets the sync password"
            )
        return (
            provider.password_hint or "check the address and the mail password"
        ) + f"; MAILSETUP_PASSWORD or `mailsetup password set --email {account.email}` sets it"
    table: dict[str, str] = {
        "refused": f"nothing listens on {result.target}: check host and port in the provider "
        "file, or a firewall on this network",
        "timeout": "no answer in time: a firewall may drop this port, or the server is "
        "overloaded; try again with a larger --timeout",
        "host not found": "the server's name does not resolve: check the provider file and "
        "this computer's DNS",
        "certificate name mismatch": "the certificate is for another name: check the host name; "
        "a TLS-inspecting proxy or antivirus can cause this",
        "certificate expired": "the server's certificate has expired: tell the provider; check "
        "also that this computer's clock is right",
        "certificate not yet valid": "check that this computer's clock is right",
        "untrusted certificate": "the certificate is not from a CA this system trusts: a "
        "TLS-inspecting proxy or antivirus may be in between; for a private CA pass --ca-file",
        "STARTTLS not offered": "the server, or something in between, offers no encryption on "
        "this port; use the implicit-TLS port if the provider lists one (e.g. 465)",
        "no TLS": "this port does not speak TLS: check the port and security mode in the "
        "provider file",
        "not IMAP": "another service answers on this port: check the IMAP port in the provider "
        "file (IMAP with implicit TLS is 993)",
        "not SMTP": "another service answers on this port: check the SMTP port in the provider "
        "file (submission is 587, or 465 with implicit TLS)",
        "NXDOMAIN": f"{domain} does not exist in DNS: check the spelling of the address",
        "SERVFAIL": f"the name servers of {domain} fail to answer (often broken DNSSEC): ask "
        "whoever manages the domain's DNS",
        "no answer": f"{domain} has no such record: add it in the domain's DNS zone",
        "MX not at provider": f"point the MX records of {domain} at {provider.name}'s mail "
        f"exchangers ({', '.join(expect.mx_suffixes)}), or mail will not reach this mailbox",
        "missing SPF": f'add a TXT record at {domain}: "v=spf1 include:{expect.spf_include} -all"'
        if expect.spf_include
        else f'add an SPF TXT record at {domain} ("v=spf1 ... -all")',
        "SPF without provider include": f"add include:{expect.spf_include} to the SPF record, "
        f"or mail sent through {provider.name} fails SPF",
        "more than one SPF record": "merge them into one v=spf1 record (RFC 7208 §3.2)",
        "too many SPF lookups": "flatten includes: receivers stop after 10 DNS lookups",
        "missing DMARC": f'add a TXT record at _dmarc.{domain}, e.g. "v=DMARC1; p=quarantine"',
        "DMARC p=none": "once reports look clean, move to p=quarantine or p=reject",
        "missing DKIM": f"enable DKIM for {domain} in {provider.name}'s Mail Service and publish "
        "the key it shows",
        "DAV 404": "the URL in the provider file is wrong, or there is no DAV service there",
        "AUTH not offered": "the server accepts no login here: check the port (submission is "
        "587 or 465)",
        "response too large": "the server sent more than mailsetup reads; report it",
    }
    if fault == "no answer" and result.name == "dns.mx":
        return (
            f"{domain} has no MX records, so mail to it goes nowhere useful: add MX records "
            f"pointing at {provider.name}'s mail exchangers"
        )
    if fault.startswith("DAV 5"):
        return "the server failed: try again later; if it lasts, tell the provider"
    return table.get(fault)
