"""``mailsetup profile``: validate input, render the client's files, write them safely."""

# ruff: noqa: RUF009 - option() is dataclasses.field with command-line metadata

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailsetup.clients import CLIENTS, DEFAULT_CLIENT, all_format_names, client_help, format_help
from mailsetup.commands.options import (
    email_option,
    option,
    provider_file_option,
    provider_option,
    sync_user_option,
)
from mailsetup.errors import BadInput, OutputError

if TYPE_CHECKING:
    from mailsetup.model import OutputFile

# The request is also the command line's declaration (see commands/options.py); the heavy
# modules (account, provider, renderers, output) load inside run_profile, so that building
# the parser for ``--help`` costs nothing.


@dataclass(frozen=True)
class ProfileRequest:
    email: str = email_option()
    name: str | None = option(
        "--name", "-n", default=None, metavar="TEXT", help="Display name (sender name)."
    )
    sync_user: str | None = sync_user_option()
    client: str = option(
        "--client", "-c", default=DEFAULT_CLIENT, choices=tuple(CLIENTS), help=client_help()
    )
    services: str = option(
        "--services",
        default="mail,caldav,carddav",
        metavar="LIST",
        help="Comma list of mail,caldav,carddav.",
    )
    format: str | None = option(
        "--format", default=None, choices=all_format_names(), help=format_help()
    )
    output: str | None = option(
        "--output",
        "-o",
        default=None,
        metavar="PATH",
        help="File or folder to write ('-' for standard output; a trailing '/' or a client "
        "that writes several files means a folder, created if missing).",
    )
    force: bool = option("--force", default=False, help="Replace an existing regular file.")
    smtp_port: int | None = option(
        "--smtp-port",
        default=None,
        metavar="PORT",
        min=1,
        max=65535,
        help="Another SMTP port the provider lists.",
    )
    embed_password: bool = option(
        "--embed-password",
        default=False,
        help="Put the mail password in the file (from MAILSETUP_PASSWORD, the keyring or a "
        "prompt); the file is written 0600. Refused with -o - on a terminal.",
    )
    provider: str | None = provider_option()
    provider_file: Path | None = provider_file_option()
    # Signing every Apple profile (docs/signing.md); checked in mobileconfig.sign.
    sign_cert: Path | None = option(
        "--sign-cert",
        default=None,
        metavar="PATH",
        help="Sign Apple profiles with this certificate (PEM; may hold the chain after it). "
        "See docs/signing.md.",
    )
    sign_key: Path | None = option(
        "--sign-key",
        default=None,
        metavar="PATH",
        help="Its private key (PEM; passphrase from MAILSETUP_SIGN_PASSPHRASE, the keyring or "
        "a prompt).",
    )
    sign_chain: Path | None = option(
        "--sign-chain", default=None, metavar="PATH", help="Intermediate certificates (PEM)."
    )


def _refuse_secret_on_terminal(req: ProfileRequest, policy: str) -> None:
    """``-o - --embed-password`` on a terminal would show the password on screen: refuse.

    Refused rather than warned: a warning comes after the password is already visible (and in
    the terminal's scroll-back). A pipe or a redirect is fine: that is what ``-o -`` is for.
    """
    if req.output == "-" and req.embed_password and policy == "embed" and sys.stdout.isatty():
        raise BadInput(
            "--embed-password with -o - would print the password on this terminal",
            "redirect standard output to a file or a pipe, or write a file with -o FILE",
        )


def run_profile(req: ProfileRequest) -> list[Path]:
    """Do the whole command; return the paths written (empty for stdout).

    Where ``-o`` writes (see README.md): ``-`` is standard output; a client that writes several
    files (or ``-o`` ending in ``/``) takes a folder, created with its parents if missing; any
    other ``-o`` is a file, whose folder must exist. Without ``-o`` the registry's default
    name is used, made file-name safe from the address.
    """
    from mailsetup.account import make_account
    from mailsetup.output import write_stdout
    from mailsetup.provider import load_provider
    from mailsetup.render import (
        RenderOptions,
        check_embed,
        client_spec,
        default_name,
        parse_services,
        render,
    )

    # Unknown client, stray or missing --format, --embed-password where it cannot apply,
    # -o - with a secret on a terminal: all before a password is asked for.
    spec, fmt = client_spec(req.client, req.format)
    policy = check_embed(spec.name, req.embed_password)
    _refuse_secret_on_terminal(req, policy)
    sign = None
    if req.sign_cert or req.sign_key or req.sign_chain:  # usage errors before any secret
        from mailsetup.mobileconfig.sign import sign_request

        sign = sign_request(
            req.sign_cert, req.sign_key, req.sign_chain, None if fmt.folder else fmt.default_name
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
    result = render(spec.name, account, provider, options)
    files = result.files
    if sign is not None:  # every Apple profile among the outputs, before anything is written
        from mailsetup.mobileconfig.sign import sign_outputs

        files = sign_outputs(files, sign, sys.stderr if req.output == "-" else sys.stdout)

    if req.output == "-":
        write_stdout(files)
        _warn(result.warnings)
        return []
    folder = default_name(fmt, account) if fmt.folder else None
    paths = write_output(req.output, files, folder=folder, force=req.force)
    for p in paths:
        print(f"Wrote {p}")
    if any(f.secret for f in files):
        print(
            "The file holds your password: it is readable only by you (0600); delete it after use."
        )
    for line in result.instructions:
        print(line)
    sys.stdout.flush()
    _warn(result.warnings)
    return paths


def write_output(
    output: str | None, files: list[OutputFile], *, folder: str | None, force: bool
) -> list[Path]:
    """Write ``files`` where ``-o`` says (README.md); shared by every one-output command.

    ``folder`` is the default folder of a client that writes several files (``None``: one
    file, whose default name is its own). ``-o`` ending in ``/`` names a folder, created if
    missing; an existing file there is never written in place of the folder.
    """
    from mailsetup.output import make_folder, write_atomic, write_files

    if folder is not None:
        return write_files(Path(output or folder), files, force=force, make_dir=True)
    (only,) = files
    path = Path(output) if output else Path(only.name)
    if output and output.endswith(("/", "\\")):  # a trailing slash means a folder
        make_folder(path)
        if not path.is_dir():
            raise OutputError(
                f"{output!r} names a folder, but {str(path)!r} is not one",
                "remove the trailing / to write that file, or choose a folder",
            )
    if path.is_dir():
        path = path / only.name
    write_atomic(path, only.data, force=force, secret=only.secret)
    return [path]


def _warn(warnings: list[str]) -> None:
    """The renderer's warnings, on stderr, once the files are written (a failed write says
    only why it failed, in one line)."""
    for warning in warnings:
        print(f"mailsetup: warning: {warning}", file=sys.stderr)
