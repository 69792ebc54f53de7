"""``mailsetup check``: validate options, get passwords if asked, run the probes, print.

Returns the exit code instead of exiting, so tests and library users can call it directly:
0 when nothing needed failed, 1 when a probe failed. Bad options raise ``BadInput`` (2), a bad
provider file ``ProviderError`` (3), a missing password ``SecretError`` (5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from mailsetup.account import make_account
from mailsetup.errors import BadInput

MAX_TIMEOUT = 300.0


@dataclass(frozen=True)
class CheckRequest:
    email: str
    sync_user: str | None = None
    login: bool = False
    as_json: bool = False
    provider: str | None = None  # a bundled provider id; None: the default one
    provider_file: Path | None = None
    timeout: float | str = 10.0
    resolver: str | None = None
    ca_file: Path | None = None


def parse_timeout(raw: float | str) -> float:
    """``--timeout``: seconds, more than 0 and at most :data:`MAX_TIMEOUT`."""
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"--timeout {raw!r} is not a number of seconds") from None
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise BadInput(f"--timeout {raw}: give seconds more than 0 and at most {MAX_TIMEOUT:g}")
    return value


def _sync_password(email: str, sync_user: str) -> str:
    """The sync password; when there is none, say which variable and option give it."""
    from mailsetup.errors import SecretError
    from mailsetup.secret_store import ENV_SYNC, get_password

    try:
        return get_password(email, sync_user=sync_user)
    except SecretError as exc:
        if not exc.message.startswith("no password"):
            raise
        raise SecretError(
            f"no sync password for --sync-user {sync_user}",
            f"set {ENV_SYNC}, or run `mailsetup password set --email {email} --sync-user "
            f"{sync_user}` first",
        ) from None


def run_check_command(req: CheckRequest) -> int:
    """Do the whole command; return its exit code."""
    from mailsetup.check.dns import parse_nameserver
    from mailsetup.check.plan import CheckOptions, run_check
    from mailsetup.check.table import print_report
    from mailsetup.check.tls import make_context
    from mailsetup.provider import load_provider

    account = make_account(req.email, sync_user=req.sync_user)
    timeout = parse_timeout(req.timeout)
    nameserver = parse_nameserver(req.resolver) if req.resolver is not None else None
    make_context(req.ca_file)  # an unreadable --ca-file is bad input, before any prompt
    provider = load_provider(req.provider, path=req.provider_file)
    mail_password = sync_password = None
    if req.login:
        from mailsetup.secret_store import get_password

        mail_password = get_password(account.email)
        if account.sync_user:
            sync_password = _sync_password(account.email, account.sync_user)
    options = CheckOptions(
        timeout=timeout,
        nameserver=nameserver,
        ca_file=req.ca_file,
        mail_password=mail_password,
        sync_password=sync_password,
    )
    report = run_check(account, provider, options)
    print_report(report, as_json=req.as_json)
    return report.exit_code
