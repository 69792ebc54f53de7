"""Lint a configuration profile: Apple's schemas, then the failures seen in the field.

When a profile does not install, the device says only "The profile is invalid"; when an
account in it does not work, it says nothing. Each rule here names one cause, with the key path
and, where Apple's schema describes the key, Apple's own words. The rules (docs/apple.md lists
them with their codes):

Schema (``schemas/``, Apple's device-management YAML): required keys, value types, allowed
values, unknown keys, unique PayloadUUIDs and PayloadIdentifiers across the payloads.

Field failures, each seen in profiles that other generators served:

- ports that are empty, text (``<string>993</string>``) or ``<real>`` instead of ``<integer>``
  (an empty ``<real></real>`` CalDAVPort made mailcow's profiles uninstallable; that one is
  found while reading, :func:`mailsetup.mobileconfig.read.diagnose_xml`);
- no top-level ``PayloadVersion`` (iOS refuses the profile);
- no ``EmailAccountType`` (the mail payload silently does not deploy);
- a top-level PayloadIdentifier that names no account: the same for every address, so
  installing the profile for a second account removes the first (a profile with the same
  PayloadIdentifier replaces the installed one);
- a random PayloadIdentifier: a new one at every download, so installing again adds a second,
  duplicate account instead of replacing. Heuristic: the identifier holds a version-4 UUID
  (RFC 9562 §5.4, the random kind ``uuidgen`` and most libraries make); a derived identifier
  (UUIDv5 over the address, as mailsetup writes, or the address itself) is stable. A v4 UUID
  stored once per user is stable too, hence a warning, not an error;
- a password in a profile that is not encrypted (signed or not, it can be read);
- CalDAV/CardDAV without TLS, or an ``http://`` principal URL;
- a ``CalDAVPrincipalURL``/``CardDAVPrincipalURL`` pinned to a path: it breaks when the server
  moves it, where discovery from the host (RFC 6764) keeps working;
- for a known provider (matched by host name from its provider file), values the provider does
  not accept: a DAV username that is an email address where the provider's data says the sync
  login is a separate id, a mail port it does not list.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from mailsetup.mobileconfig.findings import Finding, Severity
from mailsetup.mobileconfig.schema import keys_for, top_level_keys

_TYPES: dict[str, tuple[type, ...]] = {
    "<string>": (str,),
    "<integer>": (int,),
    "<boolean>": (bool,),
    "<array>": (list,),
    "<dictionary>": (dict,),
    "<data>": (bytes,),
    "<date>": (dt.datetime,),
    "<real>": (float, int),
}
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-([0-9a-fA-F])[0-9a-fA-F]{3}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_HEX_TOKEN = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{12,}(?![0-9a-fA-F])")
MAIL = "com.apple.mail.managed"
DAV_KINDS = {"com.apple.caldav.account": "CalDAV", "com.apple.carddav.account": "CardDAV"}
MAX_FINDINGS = 200


class KnownProvider(NamedTuple):
    """What the linter needs to know about a provider, taken from its provider file."""

    name: str
    mail_hosts: frozenset[str]
    imap_ports: frozenset[int]
    smtp_ports: frozenset[int]
    dav_hosts: frozenset[str]
    separate_sync_user: bool
    sync_user_example: str = ""


def is_port_key(key: str) -> bool:
    return key.endswith(("Port", "PortNumber"))


class _Linter:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(
        self, severity: Severity, code: str, path: str, message: str, apple: str | None = None
    ) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(severity, code, path, message, apple))

    def keys(self, where: str, payload: dict[str, Any], specs: dict[str, dict[str, Any]]) -> None:
        for key, spec in specs.items():
            if spec.get("presence") == "required" and key not in payload:
                code, message = "missing-key", f"required key {key} is missing"
                if key == "PayloadVersion" and not where:
                    code = "missing-payload-version"
                    message = "no top-level PayloadVersion: iOS refuses to install the profile"
                elif key == "EmailAccountType":
                    code = "missing-email-account-type"
                    message = (
                        "no EmailAccountType: the mail payload is silently not deployed"
                        " (EmailTypeIMAP for IMAP)"
                    )
                self.add("error", code, _join(where, key), message, spec.get("apple"))
        for key, value in payload.items():
            path = _join(where, str(key))
            found = specs.get(str(key))
            if found is None:
                self.add(
                    "warning",
                    "unknown-key",
                    path,
                    f"{_show(key)} is not a key of this payload in Apple's schema; it is ignored",
                )
                continue
            self.value(path, str(key), found, value)

    def value(self, path: str, key: str, spec: dict[str, Any], value: Any) -> None:
        kind = spec["type"]
        apple = spec.get("apple")
        if kind == "<integer>" and is_port_key(key):
            self.port(path, value, apple)
            return
        allowed = _TYPES.get(kind)
        if allowed is not None:
            wrong_bool = kind in ("<integer>", "<real>") and isinstance(value, bool)
            if not isinstance(value, allowed) or wrong_bool:
                self.add(
                    "error",
                    "wrong-type",
                    path,
                    f"is {_plist_type(value)}, Apple expects {kind}",
                    apple,
                )
                return
        if "rangelist" in spec and value not in spec["rangelist"]:
            choices = ", ".join(str(v) for v in spec["rangelist"])
            self.add(
                "error", "not-allowed", path, f"{_show(value)} is not one of: {choices}", apple
            )

    def port(self, path: str, value: Any, apple: str | None) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 < value < 65536:
                self.add("error", "port-out-of-range", path, f"port {value} is not 1-65535")
            return
        if isinstance(value, str) and not value.strip():
            self.add("error", "port-empty", path, "the port is empty", apple)
        elif isinstance(value, str):
            self.add(
                "error",
                "port-is-string",
                path,
                f"the port is text (<string>{_show(value)}</string>); Apple expects <integer>",
                apple,
            )
        else:
            self.add(
                "error",
                "port-wrong-type",
                path,
                f"the port is {_plist_type(value)}; Apple expects <integer>",
                apple,
            )


def lint_profile(
    plist: dict[str, Any], *, signed: bool, provider: KnownProvider | None = None
) -> list[Finding]:
    """Every finding for one parsed profile, errors and warnings, in document order."""
    lint = _Linter()
    encrypted = plist.get("IsEncrypted") is True or "EncryptedPayloadContent" in plist
    top = top_level_keys()
    if encrypted:  # Apple: "If 'IsEncrypted' is 'true', this array isn't needed."
        top = {**top, "PayloadContent": {**top["PayloadContent"], "presence": "optional"}}
    lint.keys("", plist, top)
    content = plist.get("PayloadContent", [])
    uuids: dict[str, str] = {}
    identifiers: dict[str, str] = {}
    _remember(lint, uuids, "PayloadUUID", "", plist.get("PayloadUUID"))
    _remember(lint, identifiers, "PayloadIdentifier", "", plist.get("PayloadIdentifier"))
    payloads: list[tuple[str, dict[str, Any]]] = []
    if isinstance(content, list):
        for i, payload in enumerate(content):
            where = f"PayloadContent[{i}]"
            if not isinstance(payload, dict):
                lint.add("error", "wrong-type", where, "a payload must be a dictionary")
                continue
            payloads.append((where, payload))
            ptype = payload.get("PayloadType")
            specs = keys_for(ptype) if isinstance(ptype, str) else None
            if specs is None:
                lint.add(
                    "warning",
                    "no-schema",
                    where,
                    f"payload type {_show(ptype)} is not one mailsetup has Apple's schema for;"
                    " its keys are not checked",
                )
            else:
                lint.keys(where, payload, specs)
            _remember(lint, uuids, "PayloadUUID", where, payload.get("PayloadUUID"))
            _remember(
                lint, identifiers, "PayloadIdentifier", where, payload.get("PayloadIdentifier")
            )
    _identifier_rules(lint, plist, payloads)
    for where, payload in payloads:
        _password_rule(lint, where, payload, signed=signed, encrypted=encrypted)
        _dav_rules(lint, where, payload)
        if provider is not None:
            _provider_rules(lint, where, payload, provider)
    return lint.findings


def _remember(lint: _Linter, seen: dict[str, str], key: str, where: str, value: Any) -> None:
    if not isinstance(value, str):
        return
    path = _join(where, key)
    if key == "PayloadUUID":
        try:
            uuid.UUID(value)
        except ValueError:
            lint.add("warning", "uuid-syntax", path, f"{_show(value)} is not a UUID")
    if value in seen:
        code = "duplicate-uuid" if key == "PayloadUUID" else "duplicate-identifier"
        lint.add(
            "error",
            code,
            path,
            f"the same {key} as {seen[value] or 'the profile'}: each must be unique in the profile",
        )
    else:
        seen[value] = where


def _account_tokens(payloads: list[tuple[str, dict[str, Any]]]) -> set[str]:
    """Strings that identify the account(s) a profile sets up, lower-cased."""
    tokens: set[str] = set()
    for _, payload in payloads:
        for key in (
            "EmailAddress",
            "IncomingMailServerUsername",
            "CalDAVUsername",
            "CardDAVUsername",
        ):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                text = value.strip().lower()
                tokens.add(text)
                local = text.partition("@")[0]
                if len(local) >= 3:
                    tokens.add(local)
    return tokens


def _identifier_rules(
    lint: _Linter, plist: dict[str, Any], payloads: list[tuple[str, dict[str, Any]]]
) -> None:
    ident = plist.get("PayloadIdentifier")
    if not isinstance(ident, str):
        return
    accounts = [p for _, p in payloads if p.get("PayloadType") in (MAIL, *DAV_KINDS)]
    random_ids = [m for m in _UUID.finditer(ident) if m.group(1) == "4"]
    if random_ids:
        lint.add(
            "warning",
            "random-identifier",
            "PayloadIdentifier",
            "holds a random (version 4) UUID: if the generator makes a new one at every"
            " download, installing again adds a duplicate account instead of replacing it",
        )
        return
    if not accounts:
        return
    lowered = ident.lower()
    tokens = _account_tokens(payloads)
    specific = any(t in lowered for t in tokens) or bool(
        _UUID.search(ident) or _HEX_TOKEN.search(ident)
    )
    if not specific:
        lint.add(
            "warning",
            "shared-identifier",
            "PayloadIdentifier",
            f"{_show(ident)} names no account: a profile for another address gets the same"
            " identifier, and installing one removes the other",
            _apple(None, "PayloadIdentifier"),
        )


_PASSWORD_KEYS = ("IncomingPassword", "OutgoingPassword", "CalDAVPassword", "CardDAVPassword")


def _password_rule(
    lint: _Linter, where: str, payload: dict[str, Any], *, signed: bool, encrypted: bool
) -> None:
    if encrypted:
        return
    for key in _PASSWORD_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and value:
            how = (
                "the signature does not hide it: anyone with the file can read it"
                if signed
                else "the profile is neither signed nor encrypted: anyone with the file can read it"
            )
            lint.add(
                "warning",
                "embedded-password",
                _join(where, key),
                f"a password in clear text; {how}",
                _apple(str(payload.get("PayloadType")), key),
            )


def _dav_rules(lint: _Linter, where: str, payload: dict[str, Any]) -> None:
    kind = DAV_KINDS.get(str(payload.get("PayloadType")))
    if kind is None:
        return
    if payload.get(f"{kind}UseSSL") is False:
        lint.add(
            "warning",
            "dav-without-tls",
            _join(where, f"{kind}UseSSL"),
            f"{kind} without TLS: the password and every event or contact cross the network"
            " in clear text",
        )
    principal = payload.get(f"{kind}PrincipalURL")
    if not isinstance(principal, str) or not principal.strip():
        return
    path = _join(where, f"{kind}PrincipalURL")
    try:
        parts = urlsplit(principal.strip())
    except ValueError:
        lint.add("error", "bad-url", path, f"{_show(principal)} is not a URL")
        return
    if parts.scheme.lower() == "http":
        lint.add(
            "warning",
            "dav-without-tls",
            path,
            "an http:// principal URL: the password crosses the network in clear text",
        )
    if parts.path not in ("", "/") and not parts.path.startswith("/.well-known/"):
        lint.add(
            "warning",
            "principal-url-pinned",
            path,
            f"pinned to the path {_show(parts.path)}: the account breaks when the server moves"
            f" it; leave it out and let the device discover it from {kind}HostName (RFC 6764)",
            _apple(str(payload.get("PayloadType")), f"{kind}PrincipalURL"),
        )


def _provider_rules(
    lint: _Linter, where: str, payload: dict[str, Any], provider: KnownProvider
) -> None:
    ptype = payload.get("PayloadType")
    kind = DAV_KINDS.get(str(ptype))
    if kind is not None:
        host = str(payload.get(f"{kind}HostName", "")).strip().lower()
        user = payload.get(f"{kind}Username")
        if (
            host in provider.dav_hosts
            and provider.separate_sync_user
            and isinstance(user, str)
            and "@" in user
        ):
            example = (
                f" (such as {provider.sync_user_example})" if provider.sync_user_example else ""
            )
            lint.add(
                "error",
                "provider-dav-username",
                _join(where, f"{kind}Username"),
                f"{provider.name} expects its separate sync username{example} here, not the"
                " email address: the account will not log in",
            )
        return
    if ptype != MAIL:
        return
    for side, ports in (("Incoming", provider.imap_ports), ("Outgoing", provider.smtp_ports)):
        host = str(payload.get(f"{side}MailServerHostName", "")).strip().lower()
        port = payload.get(f"{side}MailServerPortNumber")
        if host in provider.mail_hosts and isinstance(port, int) and port not in ports:
            listed = ", ".join(str(p) for p in sorted(ports))
            lint.add(
                "error",
                "provider-port",
                _join(where, f"{side}MailServerPortNumber"),
                f"{provider.name} does not offer port {port} here (it lists {listed})",
            )


def lint_across(profiles: list[tuple[str, dict[str, Any]]]) -> dict[str, list[Finding]]:
    """Rules between files given together. The same top-level PayloadIdentifier for two
    different accounts: installing one removes the other. Different identifiers for the same
    account (two downloads of one generator): installing both adds the account twice, which is
    what a random identifier does."""
    accounts: list[tuple[str, str, frozenset[str]]] = []
    for name, plist in profiles:
        ident = plist.get("PayloadIdentifier")
        content = plist.get("PayloadContent")
        if isinstance(ident, str) and isinstance(content, list):
            payloads = [("", p) for p in content if isinstance(p, dict)]
            tokens = frozenset(t for t in _account_tokens(payloads) if "@" in t)
            accounts.append((name, ident, tokens))
    out: dict[str, list[Finding]] = {}
    for name, ident, tokens in accounts:
        for other, other_ident, other_tokens in accounts:
            if other == name:
                continue
            if other_ident == ident and other_tokens != tokens:
                finding = Finding(
                    "error",
                    "shared-identifier",
                    "PayloadIdentifier",
                    f"{_show(ident)} is also the identifier of {_show(other)}, for another"
                    " account: installing one removes the other",
                )
            elif other_ident != ident and tokens and tokens == other_tokens:
                finding = Finding(
                    "error",
                    "random-identifier",
                    "PayloadIdentifier",
                    f"{_show(other)} sets up the same account under another identifier"
                    f" ({_show(other_ident)}): installing both adds the account twice",
                )
            else:
                continue
            out.setdefault(name, []).append(finding)
            break
    return out


def _apple(payload_type: str | None, key: str) -> str | None:
    """Apple's description of ``key`` from the shipped schema (``None``: the top level)."""
    specs = top_level_keys() if payload_type is None else keys_for(payload_type)
    spec = (specs or {}).get(key)
    return spec.get("apple") if spec else None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _show(value: Any) -> str:
    from mailsetup.untrusted import clean_text

    return clean_text(repr(value) if not isinstance(value, str) else value, limit=80)


def _plist_type(value: Any) -> str:
    if isinstance(value, bool):  # before <integer>: a bool is an int
        return "<boolean>"
    for name, kinds in _TYPES.items():
        if isinstance(value, kinds):
            return name
    return type(value).__name__
