"""One hint per fault: what a person can do about it, in the provider's own words.

Hints are attached after the probes ran (probes name faults, they do not advise). The text is
the fault's hint template from :mod:`mailsetup.check.faults`, or the provider file's own for
that fault (its ``[check.hints]`` table), with ``{fields}`` filled from the account, the
provider and the row. The provider's ``password_hint`` / ``sync_password_hint`` reach the user
exactly where authentication failed. Every filled hint goes through the cleaning rule, since
it quotes the provider file and the row's target.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mailsetup.account import Account
from mailsetup.check.faults import CATALOGUE, FaultName
from mailsetup.check.report import ProbeResult
from mailsetup.check.services import offered
from mailsetup.errors import ProviderError
from mailsetup.provider import Provider
from mailsetup.shellwords import password_set_command
from mailsetup.untrusted import clean_text

_DAV = ("caldav", "carddav")
FIELD = re.compile(r"\{(\w+)\}")
# The fields a hint template may use (docs/check.md lists them).
FIELDS = (
    "domain",
    "email",
    "target",
    "provider",
    "mx_suffixes",
    "spf_include",
    "spf_record",
    "password_hint",
    "password_source",
    "tls_port",
)
MAX_HINT = 600


def validate_hints(provider: Provider) -> None:
    """A provider file's ``[check.hints]`` names known faults and known fields only (exit 3)."""
    known = {f.value for f in FaultName}
    for fault, template in provider.check_hints.items():
        if fault not in known:
            raise ProviderError(
                f"provider {provider.id!r}: check.hints: {fault!r} is not a fault of "
                "`mailsetup check`",
                "see the fault table in docs/check.md",
            )
        for name in FIELD.findall(template):
            if name not in FIELDS:
                raise ProviderError(
                    f"provider {provider.id!r}: check.hints.{fault}: unknown field {{{name}}}",
                    f"use {', '.join('{' + f + '}' for f in FIELDS)}",
                )


def _password_fields(result: ProbeResult, provider: Provider, account: Account) -> dict[str, str]:
    if result.protocol in _DAV:
        hint = provider.sync_password_hint or "check the sync username and password"
        if account.sync_user is None:
            source = (
                "this check logged in with the address and the mail password: pass --sync-user "
                "(its password from MAILSETUP_SYNC_PASSWORD or the keyring)"
            )
        else:
            command = password_set_command(account.email, account.sync_user)
            source = f"MAILSETUP_SYNC_PASSWORD or `{command}` sets the sync password"
        return {"password_hint": hint, "password_source": source}
    return {
        "password_hint": provider.password_hint or "check the address and the mail password",
        "password_source": f"MAILSETUP_PASSWORD or `{password_set_command(account.email)}` sets it",
    }


def _tls_port(result: ProbeResult, provider: Provider) -> str:
    """The implicit-TLS port(s) the provider lists for this protocol, else the standard one."""
    have = offered(provider)
    if result.protocol == "smtp":
        ports = [str(e.port) for e in have.smtp if e.security == "ssl"]
        return ", ".join(ports) or "465, RFC 8314"
    if have.imap is not None and have.imap.security == "ssl":
        return str(have.imap.port)
    return "993, RFC 8314"


def _fields(result: ProbeResult, provider: Provider, account: Account) -> Mapping[str, str]:
    expect = provider.dns
    include = expect.spf_include
    return {
        "domain": account.domain,
        "email": account.email,
        "target": result.target,
        "provider": provider.name,
        "mx_suffixes": ", ".join(expect.mx_suffixes) or "as it documents",
        "spf_include": include or "the provider's SPF domain",
        "spf_record": f"v=spf1 include:{include} -all" if include else "v=spf1 ... -all",
        "tls_port": _tls_port(result, provider),
        **_password_fields(result, provider, account),
    }


def fill(template: str, fields: Mapping[str, str]) -> str:
    """``{name}`` replaced from ``fields``; nothing else is interpreted (no str.format)."""
    return FIELD.sub(lambda m: fields.get(m.group(1), m.group(0)), template)


def hint_for(result: ProbeResult, provider: Provider, account: Account) -> str | None:
    """The hint for ``result``'s fault, or ``None`` when there is nothing to add."""
    if result.fault is None or result.status in ("pass", "skip"):
        return None
    fault = FaultName(result.fault)
    template = provider.check_hints.get(fault.value) or CATALOGUE[fault].hint
    if template is None:
        return None
    return clean_text(fill(template, _fields(result, provider, account)), MAX_HINT)
