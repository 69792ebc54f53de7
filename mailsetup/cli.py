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


@app.command()
@handles_errors
def profile(
    email: EmailOpt,
    name: Annotated[str | None, typer.Option("--name", "-n", help="Display name.")] = None,
    sync_user: SyncUserOpt = None,
    client: Annotated[
        str,
        typer.Option(
            "--client",
            "-c",
            help="apple, thunderbird, emclient, autodiscover or dav.",
        ),
    ] = "apple",
    services: Annotated[
        str, typer.Option("--services", help="Comma list of mail,caldav,carddav.")
    ] = "mail,caldav,carddav",
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="For --client dav: json, vdirsyncer, davx5 or mobileconfig."),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="File or folder to write; '-' for stdout."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    smtp_port: Annotated[
        int | None, typer.Option("--smtp-port", help="Another SMTP port the provider lists.")
    ] = None,
    embed_password: Annotated[
        bool,
        typer.Option(
            "--embed-password",
            help="Put the mail password in the file (from MAILSETUP_PASSWORD, the keyring or "
            "a prompt); the file is written 0600.",
        ),
    ] = False,
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


@app.command()
@handles_errors
def serve(
    domain: Annotated[
        list[str],
        typer.Option(
            "--domain", "-d", metavar="DOMAIN", help="A mail domain to serve; repeat for more."
        ),
    ],
    provider_file: ProviderFileOpt = None,
    users: Annotated[
        Path | None,
        typer.Option(
            "--users", metavar="CSV", help="CSV with email,name,sync_user (copied into --db)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="sqlite:///PATH or postgresql://... (default: SQLite in the state folder).",
        ),
    ] = None,
    sign_cert: Annotated[
        Path | None,
        typer.Option("--sign-cert", metavar="PEM", help="Certificate (PEM) to sign profiles."),
    ] = None,
    sign_key: Annotated[
        Path | None, typer.Option("--sign-key", metavar="PEM", help="Its private key (PEM).")
    ] = None,
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option("--workers", metavar="N", help="Worker processes.")] = 1,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            metavar="URL",
            help="Base URL of one-time links, e.g. https://autoconfig.example.ch.",
        ),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            metavar="ADDRESSES",
            help="Trust X-Forwarded-For/-Proto from these proxy addresses (comma list).",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", metavar="LEVEL", help="debug, info, warning or error.")
    ] = "info",
) -> None:
    """Serve autoconfig, autodiscover, profiles and an onboarding page for whole domains.

    See docs/serve.md for DNS records, a TLS reverse proxy, systemd and scaling out.
    """
    from mailsetup.serve.command import ServeRequest, run_serve

    run_serve(
        ServeRequest(
            domains=domain,
            provider_file=provider_file,
            users=users,
            db=db,
            sign_cert=sign_cert,
            sign_key=sign_key,
            host=host,
            port=port,
            workers=workers,
            public_url=public_url,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level=log_level,
        )
    )


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
