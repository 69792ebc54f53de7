"""``mailsetup check``: validate options, get passwords if asked, run the probes, print.

Returns the exit code instead of exiting, so tests and library users can call it directly:
0 when nothing needed failed, 1 when a probe failed. Bad options raise ``BadInput`` (2), a bad
provider file ``ProviderError`` (3), a missing password ``SecretError`` (5).
"""

# ruff: noqa: RUF009 - option() is dataclasses.field with command-line metadata

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailsetup.commands.options import (
    email_option,
    option,
    provider_file_option,
    provider_option,
    sync_user_option,
)

# --timeout's bounds, checked by the parser (commands/options.py): a probe needs a round trip
# or two, and five minutes is longer than anyone waits for a check.
MIN_TIMEOUT = 0.1
MAX_TIMEOUT = 300.0


# The request is also the command line's declaration (see commands/options.py); everything
# heavy loads inside run_check_command, so that building the parser costs nothing.
@dataclass(frozen=True)
class CheckRequest:
    email: str = email_option()
    sync_user: str | None = sync_user_option()
    login: bool = option(
        "--login",
        default=False,
        help="Also log in (IMAP, SMTP AUTH, DAV discovery). Passwords come from "
        "MAILSETUP_PASSWORD / MAILSETUP_SYNC_PASSWORD, the keyring, or a prompt.",
    )
    as_json: bool = option(
        "--json", default=False, help="Print the report as JSON (see docs/check.md)."
    )
    provider: str | None = provider_option()
    provider_file: Path | None = provider_file_option()
    timeout: float = option(
        "--timeout",
        default=10.0,
        metavar="SECONDS",
        min=MIN_TIMEOUT,
        max=MAX_TIMEOUT,
        help="Time each probe may take.",
    )
    resolver: str | None = option(
        "--resolver",
        default=None,
        metavar="IP[:PORT]",
        help="DNS server to ask (default: the system's).",
    )
    ca_file: Path | None = option(
        "--ca-file",
        default=None,
        metavar="PATH",
        help="Trust these CA certificates (PEM) instead of the system's.",
    )


def run_check_command(req: CheckRequest) -> int:
    """Do the whole command; return its exit code."""
    from mailsetup.account import make_account
    from mailsetup.check.dns import parse_nameserver
    from mailsetup.check.plan import CheckOptions, run_check
    from mailsetup.check.table import print_report
    from mailsetup.check.tls import make_context
    from mailsetup.provider import load_provider

    account = make_account(req.email, sync_user=req.sync_user)
    nameserver = parse_nameserver(req.resolver) if req.resolver is not None else None
    tls = make_context(req.ca_file)  # an unreadable --ca-file is bad input, before any prompt
    provider = load_provider(req.provider, path=req.provider_file)
    mail_password = sync_password = None
    if req.login:
        from mailsetup.secret_store import get_password

        mail_password = get_password(account.email)
        if account.sync_user:
            sync_password = get_password(account.email, sync_user=account.sync_user)
    options = CheckOptions(
        timeout=req.timeout,
        nameserver=nameserver,
        ca_file=req.ca_file,
        mail_password=mail_password,
        sync_password=sync_password,
    )
    report = run_check(account, provider, options, tls)
    print_report(report, as_json=req.as_json)
    return report.exit_code
