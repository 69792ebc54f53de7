"""``mailsetup profile -e jane@x.ch -e info@x.ch`` (or ``--csv team.csv --one-profile``):
several mailboxes in one Apple profile or one Thunderbird ``user.js``.

Names and sync users are paired with the addresses in the order given: ``-e a -e b -n A -n B``
gives A to a and B to b; fewer names than addresses leave the rest without a name; one
``--sync-user`` is everyone's (one person's mailboxes share one sync login).
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mailsetup.account import Account, make_account
from mailsetup.errors import BadInput, RowsFailed
from mailsetup.render import Rendered, RenderOptions, parse_services
from mailsetup.team.rows import RowFailure, members

MULTI_CLIENTS = ("apple", "thunderbird")


@dataclass(frozen=True)
class MultiRequest:
    emails: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    sync_users: list[str] = field(default_factory=list)
    csv: Path | None = None
    client: str = "apple"
    services: str = "mail,caldav,carddav"
    output: str | None = None
    force: bool = False
    smtp_port: int | None = None
    embed_password: bool = False
    provider: str | None = None
    provider_file: Path | None = None


def _paired(values: list[str], count: int, option: str) -> list[str | None]:
    if len(values) > count:
        raise BadInput(
            f"{len(values)} {option} for {count} --email",
            f"give at most one {option} per --email, in the same order",
        )
    if option == "--sync-user" and len(values) == 1:
        return [values[0]] * count
    return [*values, *([None] * (count - len(values)))]


def accounts_from_options(req: MultiRequest) -> list[Account]:
    names = _paired(req.names, len(req.emails), "--name")
    syncs = _paired(req.sync_users, len(req.emails), "--sync-user")
    return [make_account(e, n, s) for e, n, s in zip(req.emails, names, syncs, strict=True)]


def accounts_from_csv(path: Path, services: frozenset[str]) -> list[Account]:
    """Every row of the CSV; any bad row stops the run (one profile is all or nothing)."""
    accounts: list[Account] = []
    failures: list[RowFailure] = []
    for item in members(path, "apple", services):
        if isinstance(item, RowFailure):
            failures.append(item)
            print(f"mailsetup: row {item.number} ({item.email}): {item.reason}", file=sys.stderr)
        else:
            accounts.append(item.account)
    if failures:
        raise RowsFailed(
            f"{len(failures)} rows failed; --one-profile writes nothing unless every row is good",
            "fix the rows named above and run again",
        )
    if not accounts:
        raise BadInput(f"{path.name} has a header but no mailbox rows")
    return accounts


def run_multi(req: MultiRequest) -> list[Path]:
    """Render the combined profile and write it (same output rules as a single profile)."""
    from mailsetup.output import write_stdout
    from mailsetup.provider import load_provider

    client = req.client.lower()
    if client not in MULTI_CLIENTS:
        raise BadInput(
            f"--client {req.client} takes one mailbox at a time",
            f"several mailboxes in one file: --client {' or '.join(MULTI_CLIENTS)}; "
            "one file per mailbox: --csv",
        )
    if req.embed_password:
        raise BadInput(
            "--embed-password holds one password; several mailboxes have one each",
            "leave it out: the device asks for each password",
        )
    services = parse_services(req.services)
    accounts = accounts_from_csv(req.csv, services) if req.csv else accounts_from_options(req)
    provider = load_provider(req.provider, path=req.provider_file)
    provider.smtp_on_port(req.smtp_port)
    options = RenderOptions(services=services, smtp_port=req.smtp_port)
    result: Rendered
    if client == "apple":
        from mailsetup.render.apple_multi import render_multi

        result = render_multi(accounts, provider, options)
    else:
        from mailsetup.render.thunderbird_multi import render_multi as render_tb

        result = render_tb(accounts, provider, options)
    if req.output == "-":
        write_stdout(result.files)
        return []
    from mailsetup.commands.profile import write_output
    from mailsetup.model import safe_file_name

    if client == "thunderbird":
        folder: str | None = safe_file_name(result_folder(accounts))
        files = result.files
    else:  # the renderer names the profile after the first address: made safe here
        folder = None
        files = [dataclasses.replace(f, name=safe_file_name(f.name)) for f in result.files]
    paths = write_output(req.output, files, folder=folder, force=req.force)
    for p in paths:
        print(f"Wrote {p}")
    for line in result.instructions:
        print(line)
    sys.stdout.flush()
    for warning in result.warnings:
        print(f"mailsetup: warning: {warning}", file=sys.stderr)
    return paths


def result_folder(accounts: list[Account]) -> str:
    return f"{accounts[0].email}+{len(accounts) - 1}-thunderbird"
