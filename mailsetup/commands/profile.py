"""``mailsetup profile``: validate input, render the client's files, write them safely."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from mailsetup.account import make_account
from mailsetup.errors import BadInput
from mailsetup.output import write_atomic, write_files, write_stdout
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, embed_policy, get_renderer, parse_services, render


@dataclass(frozen=True)
class ProfileRequest:
    email: str
    name: str | None = None
    sync_user: str | None = None
    client: str = "apple"
    services: str = "mail,caldav,carddav"
    format: str | None = None
    output: str | None = None
    force: bool = False
    smtp_port: int | None = None
    embed_password: bool = False
    provider: str | None = None  # a bundled provider id; None: the default one
    provider_file: Path | None = None


def run_profile(req: ProfileRequest) -> list[Path]:
    """Do the whole command; return the paths written (empty for stdout)."""
    get_renderer(req.client, req.format)  # unknown client, stray --format: before anything else
    policy = embed_policy(req.client)
    if req.embed_password and policy == "refuse":
        raise BadInput(
            f"--client {req.client} writes no password; --embed-password does not apply",
            "leave it out: the app asks for the password itself",
        )
    account = make_account(req.email, req.name, req.sync_user)
    provider = load_provider(req.provider, path=req.provider_file)
    services = parse_services(req.services)
    provider.smtp_on_port(req.smtp_port)  # reject an unlisted port before asking for a secret
    password = None
    # The password to embed is the mail password: without the mail service there is no place
    # for it, so it is not asked for.
    if req.embed_password and policy == "embed" and "mail" in services:
        from mailsetup.secret_store import get_password

        password = get_password(account.email)
    options = RenderOptions(
        services=services, smtp_port=req.smtp_port, password=password, format=req.format
    )
    result = render(req.client, account, provider, options)

    if req.output == "-":
        write_stdout(result.files)
        _warn(result.warnings)
        return []
    if result.into_folder:
        target = Path(req.output) if req.output else Path(f"{account.email}-{req.client}")
        paths = write_files(target, result.files, force=req.force, make_dir=True)
    else:
        (only,) = result.files
        path = Path(req.output) if req.output else Path(only.name)
        if path.is_dir():
            path = path / only.name
        write_atomic(path, only.data, force=req.force, secret=only.secret)
        paths = [path]
    for p in paths:
        print(f"Wrote {p}")
    if any(f.secret for f in result.files):
        print(
            "The file holds your password: it is readable only by you (0600); delete it after use."
        )
    for line in result.instructions:
        print(line)
    sys.stdout.flush()
    _warn(result.warnings)
    return paths


def _warn(warnings: list[str]) -> None:
    """The renderer's warnings, on stderr, once the files are written (a failed write says
    only why it failed, in one line)."""
    for warning in warnings:
        print(f"mailsetup: warning: {warning}", file=sys.stderr)
