"""Command-line layer: parse options, build the model, call one function, print, map errors.

Kept thin on purpose (pipx's ``main.py`` over ``commands/``): everything a library user would
want lives in the modules it calls. Imports of our own modules and of heavy libraries happen
inside each command so that ``mailsetup --help`` costs no more than typer itself.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect as pyinspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_type_hints

import typer

from mailsetup.commands.options import cli_fields
from mailsetup.commands.profile import ProfileRequest
from mailsetup.errors import EXIT_CODES, MailsetupError
from mailsetup.serve.command import ServeRequest

F = TypeVar("F", bound=Callable[..., Any])

_EXIT_HELP = "Exit codes: " + "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items())

app = typer.Typer(
    name="mailsetup",
    help="Set up mail, calendar and contacts clients for an Infomaniak account, and check them.",
    epilog=_EXIT_HELP,
    no_args_is_help=True,
    # Shell completion (--install-completion, --show-completion) is typer's; it loads only
    # when asked for, so it costs nothing at start-up (benchmarks/startup.py).
    add_completion=True,
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
            try:
                return func(*args, **kwargs)
            finally:  # a full disk or closed pipe on stdout is an error (exit 4), not success
                sys.stdout.flush()
        except MailsetupError as err:
            raise fail(err) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"mailsetup {version('mailsetup')}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Show the version."),
    ] = False,
) -> None:
    """Set up mail, calendar and contacts clients, and check them."""


def from_request(request: type, run: Callable[[Any], Any]) -> Callable[..., Any]:
    """A typer command whose options are the fields of ``request`` (commands/options.py).

    Each option is declared once, on its request field; this builds the function signature
    typer reads (name, type, default from the field; flags, help, choices, bounds from its
    declaration) and calls ``run(request(**values))``.
    """
    hints = get_type_hints(request)
    params = []
    for f, cli in cli_fields(request):
        annotation: Any = hints[f.name]
        if cli.choices:
            choice: Any = Literal[cli.choices]
            annotation = choice | None if f.default is None else choice
        info = typer.Option(
            *cli.flags,
            help=cli.help,
            metavar=cli.metavar,
            min=cli.min,
            max=cli.max,
            case_sensitive=not cli.choices,
        )
        default = pyinspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        params.append(
            pyinspect.Parameter(
                f.name,
                pyinspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=Annotated[annotation, info],
            )
        )

    def command(**values: Any) -> Any:
        return run(request(**values))

    command.__signature__ = pyinspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = run.__doc__
    command.__name__ = run.__name__
    return command


EmailOpt = Annotated[
    str, typer.Option("--email", "-e", metavar="ADDRESS", help="The mailbox address.")
]
ProviderFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--provider-file", metavar="PATH", help="Provider data (TOML, schema of profiles/*.toml)."
    ),
]
ProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--provider",
        metavar="NAME",
        help="A bundled provider by id (default: the bundled default; list: mailsetup providers).",
    ),
]
SyncUserOpt = Annotated[
    str | None,
    typer.Option("--sync-user", metavar="TEXT", help="CalDAV/CardDAV username, e.g. AB12345."),
]

_PROFILE_EPILOG = (
    "Examples: mailsetup profile -e jane.doe@example.ch -n 'Jane Doe' (an Apple profile in "
    "this folder); mailsetup profile -e jane.doe@example.ch -c thunderbird -o jane/ ; "
    "mailsetup profile -e jane.doe@example.ch -c dav --format vdirsyncer -o - | less. " + _EXIT_HELP
)


def _profile(request: ProfileRequest) -> None:
    """Write a ready-to-import configuration (default: an Apple .mobileconfig)."""
    from mailsetup.commands.profile import run_profile

    run_profile(request)


app.command("profile", epilog=_PROFILE_EPILOG)(
    handles_errors(from_request(ProfileRequest, _profile))
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
    provider: ProviderOpt = None,
    provider_file: ProviderFileOpt = None,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="Time each probe may take.")
    ] = 10.0,
    resolver: Annotated[
        str | None,
        typer.Option(
            "--resolver",
            metavar="IP[:PORT]",
            help="DNS server to ask (default: the system's).",
        ),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            metavar="PATH",
            help="Trust these CA certificates (PEM) instead of the system's.",
        ),
    ] = None,
) -> None:
    """Check DNS, IMAP, SMTP, CalDAV and CardDAV for an address; exit 1 if something fails.

    TLS certificates are always verified.
    """
    params = dict(locals())  # first statement: exactly the parameters, the request's fields
    from mailsetup.commands.check import CheckRequest, run_check_command

    request = CheckRequest(**params)
    try:
        code = run_check_command(request)
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
        list[Path],
        typer.Argument(metavar="FILE", help=".ics and .vcf files to check (- for stdin)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report.")] = False,
    split: Annotated[
        bool,
        typer.Option("--split", help="Write a too-large .ics as several files under the limit."),
    ] = False,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            metavar="PATH",
            help="Folder for --split parts (default: beside the input).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing part files.")] = False,
    provider: ProviderOpt = None,
    provider_file: ProviderFileOpt = None,
) -> None:
    """Check calendar (.ics) and contact (.vcf) files before importing them.

    Every file is reported, even when another is missing. Exit 0 when every file will
    import, 1 when one will not (or is missing or unreadable), 2 for bad input (a FIFO or
    device, --split of stdin), 4 when --split cannot write its parts. See
    docs/calendars-contacts.md.
    """
    from mailsetup.commands.inspect import InspectRequest, run_inspect

    ok = run_inspect(
        InspectRequest(
            files=files,
            as_json=as_json,
            split=split,
            output_dir=output_dir,
            force=force,
            provider=provider,
            provider_file=provider_file,
        )
    )
    if not ok:
        raise typer.Exit(1)


@app.command()
@handles_errors
def providers() -> None:
    """List the bundled providers (id, name, services) for --provider NAME."""
    from mailsetup.commands.providers import run_providers

    run_providers()


def _serve(request: ServeRequest) -> None:
    """Serve autoconfig, autodiscover, profiles and an onboarding page for whole domains.

    See docs/serve.md for DNS records, a TLS reverse proxy, systemd and scaling out.
    """
    from mailsetup.serve.command import run_serve

    run_serve(request)


app.command("serve", epilog=_EXIT_HELP)(handles_errors(from_request(ServeRequest, _serve)))


def main(argv: list[str] | None = None) -> None:
    """Entry point: typer's click command, plain parameter coercion, one-line usage errors.

    Usage errors (a missing option, a value not among the choices or out of bounds) are
    printed like every other error: one ``mailsetup: error:`` line naming the help to read,
    exit 2. ``mailsetup`` alone still prints the help.
    """
    # typer re-exports neither UsageError nor NoArgsIsHelpError; like param_coercion, this
    # leans on typer 0.29's vendored click (pinned in pyproject.toml).
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    from mailsetup.clients import suggestion
    from mailsetup.output import guard_stdout
    from mailsetup.param_coercion import install

    # Paths from argv that are not UTF-8 arrive with surrogate escapes (PEP 383); printing
    # them ("Wrote ...", inspect's report) must give back the same bytes, not a traceback.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    guard_stdout()
    command = typer.main.get_command(app)
    install(command, hints={"client": suggestion})
    try:
        code = command.main(args=argv, prog_name="mailsetup", standalone_mode=False)
    except NoArgsIsHelpError as err:
        err.show()
        code = err.exit_code
    except UsageError as err:
        where = err.ctx.command_path if err.ctx else "mailsetup"
        message = " ".join(err.format_message().split())
        print(f"mailsetup: error: {message} (see '{where} --help')", file=sys.stderr)
        code = err.exit_code
    except typer.Abort:
        print("mailsetup: interrupted", file=sys.stderr)
        code = 130
    except MailsetupError as err:  # raised outside a command (stdout failing after --help)
        fail(err)
        code = err.exit_code
    sys.exit(code if isinstance(code, int) else 0)
