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
from typing import Annotated, Any, Literal, TypeVar, get_type_hints

import typer

from mailsetup.commands.check_team import CheckCommand
from mailsetup.commands.inspect import InspectRequest
from mailsetup.commands.options import (
    Cli,
    cli_fields,
    email_option,
    sync_user_option,
)
from mailsetup.commands.share import ShareRequest
from mailsetup.commands.team import ProfileCommand
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
    # Rich help and pretty tracebacks cost ~65 ms at every start (python -X importtime,
    # benchmarks/startup.py); plain click
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
    """Turn :class:`MailsetupError` into one stderr line and its exit code; bugs keep tracebacks.

    Ctrl-C in any command is one line too ("mailsetup: interrupted") and exit 130.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            try:
                return func(*args, **kwargs)
            finally:  # a full disk or closed pipe on stdout is an error (exit 4), not success
                sys.stdout.flush()
        except MailsetupError as err:
            raise fail(err) from None
        except KeyboardInterrupt:  # Ctrl-C (waiting on the network or a phone): no traceback
            print("mailsetup: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

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


def _typer_option(cli: Cli) -> Any:
    """The typer declaration of one option declared with ``commands/options.option``."""
    if cli.argument:
        # Hidden from the Arguments list, where typer would show its Python type
        # ("FILE <list[Path]>"); the usage line shows the metavar and the command's help
        # says what it is.
        return typer.Argument(metavar=cli.metavar, hidden=True)
    return typer.Option(
        *cli.flags,
        help=cli.help,
        metavar=cli.metavar,
        min=cli.min,
        max=cli.max,
        case_sensitive=not cli.choices,
    )


def _shared(field: Any) -> Any:
    """A shared option (``commands/options.email_option()``...) for a command without a request."""
    return _typer_option(field.metadata["cli"])


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
        info = _typer_option(cli)
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


# The same shared declarations for ``password set``, which has no request dataclass.
EmailOpt = Annotated[str, _shared(email_option())]
SyncUserOpt = Annotated[str | None, _shared(sync_user_option())]

_PROFILE_EPILOG = (
    "Examples: mailsetup profile -e jane.doe@example.ch -n 'Jane Doe' (an Apple profile in "
    "this folder); mailsetup profile -e jane.doe@example.ch -c thunderbird -o jane/ ; "
    "mailsetup profile -e jane.doe@example.ch -c dav --format vdirsyncer -o - | less ; "
    "mailsetup profile --csv team.csv -o out/ (a whole team). " + _EXIT_HELP
)


def _profile(request: ProfileCommand) -> None:
    """Write a ready-to-import configuration (default: an Apple .mobileconfig).

    With --csv, one per row of a team's CSV file; with --email repeated, several mailboxes in
    one profile (docs/organisations.md; exit 6 when some rows of a --csv file failed).
    """
    from mailsetup.commands.team import run_profile_command

    run_profile_command(request)


app.command("profile", epilog=_PROFILE_EPILOG)(
    handles_errors(from_request(ProfileCommand, _profile))
)


def _share(request: ShareRequest) -> None:
    """Send the profile to a phone on the same network: a one-time link and its QR code.

    Renders what profile renders (same options), serves it once over HTTP on the local network
    to the first request carrying the link's random token, then exits; exit 1 if the link
    expires unused. See docs/share.md.
    """
    from mailsetup.commands.share import run_share

    run_share(request)


app.command("share", epilog=_EXIT_HELP)(handles_errors(from_request(ShareRequest, _share)))


def _check(request: CheckCommand) -> None:
    """Check DNS, IMAP, SMTP, CalDAV and CardDAV for an address; exit 1 if something fails.

    TLS certificates are always verified. With --csv, every row of a team's CSV file; exit 6
    when a row could not be checked (docs/organisations.md).
    """
    from mailsetup.commands.check import run_check_command
    from mailsetup.commands.check_team import run_team_check_command

    code = run_team_check_command(request) if request.team else run_check_command(request.single())
    if code:
        raise typer.Exit(code)


app.command("check", epilog=_EXIT_HELP)(handles_errors(from_request(CheckCommand, _check)))


@password_app.command("set")
@handles_errors
def password_set(email: EmailOpt, sync_user: SyncUserOpt = None) -> None:
    """Store a password in the keyring (asked on the terminal, or read from standard input)."""
    from mailsetup.commands.password import set_password

    set_password(email, sync_user)


def _inspect(request: InspectRequest) -> None:
    """Check calendar (.ics) and contact (.vcf) files before importing them, and lint Apple
    profiles (.mobileconfig, signed or not).

    FILE: one or more .ics, .vcf and .mobileconfig files to check ("-" reads standard input).

    Every file is reported, even when another is missing. Exit 0 when every file will
    import (or install), 1 when one will not (or is missing or unreadable), 2 for bad input
    (a FIFO or device, --split of stdin), 4 when --split cannot write its parts. See
    docs/calendars-contacts.md and docs/apple.md.
    """
    from mailsetup.commands.inspect import run_inspect

    if not run_inspect(request):
        raise typer.Exit(1)


app.command("inspect")(handles_errors(from_request(InspectRequest, _inspect)))


@app.command()
@handles_errors
def providers() -> None:
    """List the bundled providers (--provider NAME) and the clients with their formats."""
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
    from mailsetup.output import guard_stdout, stdout_failure
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
    lost = stdout_failure()
    if lost is not None and code in (0, 1, None):
        # Standard output failed where a library caught the error and went on (click's probe
        # of the stream before --help): the result printed is lost, so this is exit 4. (Any
        # other code already printed its own one-line error.)
        fail(lost)
        code = lost.exit_code
    sys.exit(code if isinstance(code, int) else 0)
