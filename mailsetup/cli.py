"""Command-line layer: parse options, build the model, call one function, print, map errors.

Kept thin on purpose (pipx's ``main.py`` over ``commands/``): everything a library user would
want lives in the modules it calls. Imports of our own modules and of heavy libraries happen
inside each command so that ``mailsetup --help`` costs no more than typer itself.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from mailsetup.errors import EXIT_CODES, MailsetupError

F = TypeVar("F", bound=Callable[..., Any])

_EXIT_HELP = "Exit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items())

app = typer.Typer(
    name="mailsetup",
    help="Set up mail, calendar and contacts clients for an Infomaniak account, and check them.",
    epilog=_EXIT_HELP,
    no_args_is_help=True,
    add_completion=False,
    # Rich help and pretty tracebacks cost ~65 ms at every start (FACTS.md); plain click
    # help is just as readable for a handful of options.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
password_app = typer.Typer(
    help="Store the mail or sync password in the system keyring.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(password_app, name="password")


def fail(err: MailsetupError) -> typer.Exit:
    """Print one line to stderr and return the Exit carrying the documented code."""
    print(f"mailsetup: error: {err}", file=sys.stderr)
    return typer.Exit(err.exit_code)


def handles_errors(func: F) -> F:
    """Turn :class:`MailsetupError` into one stderr line and its exit code; bugs keep tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MailsetupError as err:
            raise fail(err) from None

    return wrapper  # type: ignore[return-value]


EmailOpt = Annotated[str, typer.Option("--email", "-e", help="The mailbox address.")]
ProviderFileOpt = Annotated[
    Path | None,
    typer.Option("--provider-file", help="Provider data (TOML, schema of profiles/*.toml)."),
]
SyncUserOpt = Annotated[
    str | None,
    typer.Option("--sync-user", help="CalDAV/CardDAV username, e.g. AB12345."),
]

# The rendering options, declared once: `profile` and `share` render the same files.
NameOpt = Annotated[str | None, typer.Option("--name", "-n", help="Display name.")]
ClientOpt = Annotated[
    str, typer.Option("--client", "-c", help="apple, thunderbird, emclient, autodiscover or dav.")
]
ServicesOpt = Annotated[str, typer.Option("--services", help="Comma list of mail,caldav,carddav.")]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", help="For --client dav: json, vdirsyncer, davx5 or mobileconfig."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing file.")]
SmtpPortOpt = Annotated[
    int | None, typer.Option("--smtp-port", help="Another SMTP port the provider lists.")
]
EmbedPasswordOpt = Annotated[
    bool,
    typer.Option(
        "--embed-password",
        help="Put the mail password in the file (from MAILSETUP_PASSWORD, the keyring or "
        "a prompt); the file is written 0600.",
    ),
]


@app.command()
@handles_errors
def profile(
    email: EmailOpt,
    name: NameOpt = None,
    sync_user: SyncUserOpt = None,
    client: ClientOpt = "apple",
    services: ServicesOpt = "mail,caldav,carddav",
    fmt: FormatOpt = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="File or folder to write; '-' for stdout."),
    ] = None,
    force: ForceOpt = False,
    smtp_port: SmtpPortOpt = None,
    embed_password: EmbedPasswordOpt = False,
    provider_file: ProviderFileOpt = None,
) -> None:
    """Write a ready-to-import configuration (default: an Apple .mobileconfig)."""
    from mailsetup.commands.profile import ProfileRequest, run_profile

    run_profile(
        ProfileRequest(
            email=email,
            name=name,
            sync_user=sync_user,
            client=client,
            services=services,
            format=fmt,
            output=output,
            force=force,
            smtp_port=smtp_port,
            embed_password=embed_password,
            provider_file=provider_file,
        )
    )


@app.command(epilog=_EXIT_HELP)
@handles_errors
def share(
    email: EmailOpt,
    name: NameOpt = None,
    sync_user: SyncUserOpt = None,
    client: ClientOpt = "apple",
    services: ServicesOpt = "mail,caldav,carddav",
    fmt: FormatOpt = None,
    smtp_port: SmtpPortOpt = None,
    embed_password: EmbedPasswordOpt = False,
    provider_file: ProviderFileOpt = None,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to listen on (default: this machine's LAN address)."),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port to listen on (default: any free).")] = 0,
    expires: Annotated[
        str,
        typer.Option(
            "--expires", metavar="DURATION", help="Link lifetime: 30s, 10m, 1h (max 24h)."
        ),
    ] = "10m",
    qr_png: Annotated[
        Path | None, typer.Option("--qr-png", help="Also write the QR code as a PNG file.")
    ] = None,
    qr_svg: Annotated[
        Path | None, typer.Option("--qr-svg", help="Also write the QR code as an SVG file.")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Send the profile to a phone on the same network: a one-time link and its QR code.

    Serves the file once, over HTTP on the LAN, to the first request carrying the link's
    random token, then exits; exit 1 if the link expires unused. See docs/share.md.
    """
    from mailsetup.commands.share import ShareRequest, run_share

    try:
        run_share(
            ShareRequest(
                email=email,
                name=name,
                sync_user=sync_user,
                client=client,
                services=services,
                format=fmt,
                smtp_port=smtp_port,
                embed_password=embed_password,
                provider_file=provider_file,
                host=host,
                port=port,
                expires=expires,
                qr_png=qr_png,
                qr_svg=qr_svg,
                force=force,
            )
        )
    except KeyboardInterrupt:  # Ctrl-C while waiting for the phone: no traceback
        print("mailsetup: interrupted", file=sys.stderr)
        raise typer.Exit(130) from None


@app.command(epilog=_EXIT_HELP)
@handles_errors
def check(
    email: EmailOpt,
    sync_user: SyncUserOpt = None,
    login: Annotated[
        bool,
        typer.Option(
            "--login",
            help="Also log in (IMAP, SMTP AUTH, DAV discovery). Passwords come from "
            "MAILSETUP_PASSWORD / MAILSETUP_SYNC_PASSWORD, the keyring, or a prompt.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (see docs/check.md).")
    ] = False,
    provider_file: ProviderFileOpt = None,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="Time each probe may take.")
    ] = 10.0,
    resolver: Annotated[
        str | None,
        typer.Option("--resolver", help="DNS server to ask, IP[:PORT] (default: the system's)."),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file", help="Trust these CA certificates (PEM) instead of the system's."
        ),
    ] = None,
) -> None:
    """Check DNS, IMAP, SMTP, CalDAV and CardDAV for an address; exit 1 if something fails.

    TLS certificates are always verified.
    """
    from mailsetup.commands.check import CheckRequest, run_check_command

    try:
        code = run_check_command(
            CheckRequest(
                email=email,
                sync_user=sync_user,
                login=login,
                as_json=as_json,
                provider_file=provider_file,
                timeout=timeout,
                resolver=resolver,
                ca_file=ca_file,
            )
        )
    except KeyboardInterrupt:  # Ctrl-C while probes wait on the network: no traceback
        print("mailsetup: interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    if code:
        raise typer.Exit(code)


@password_app.command("set")
@handles_errors
def password_set(email: EmailOpt, sync_user: SyncUserOpt = None) -> None:
    """Store a password in the keyring (asked on the terminal, or read from standard input)."""
    from mailsetup.commands.password import set_password

    set_password(email, sync_user)


@app.command()
@handles_errors
def inspect(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE", help=".ics and .vcf files to check.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report.")] = False,
    split: Annotated[
        bool,
        typer.Option("--split", help="Write a too-large .ics as several files under the limit."),
    ] = False,
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", help="Folder for --split parts (default: beside the input)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing part files.")] = False,
    provider_file: ProviderFileOpt = None,
) -> None:
    """Check calendar (.ics) and contact (.vcf) files before importing them.

    Exit 0 when every file will import, 1 when one will not, 2 for bad input (a missing
    file), 4 when --split cannot write its parts. See docs/calendars-contacts.md.
    """
    from mailsetup.commands.inspect import InspectRequest, run_inspect

    ok = run_inspect(
        InspectRequest(
            files=files,
            as_json=as_json,
            split=split,
            output_dir=output_dir,
            force=force,
            provider_file=provider_file,
        )
    )
    if not ok:
        raise typer.Exit(1)


def main() -> None:
    """Entry point: typer's click command with plain parameter coercion (see param_coercion)."""
    from mailsetup.param_coercion import install

    # Paths from argv that are not UTF-8 arrive with surrogate escapes (PEP 383); printing
    # them ("Wrote ...", inspect's report) must give back the same bytes, not a traceback.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    command = typer.main.get_command(app)
    install(command)
    command(prog_name="mailsetup")
