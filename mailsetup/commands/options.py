"""Declare a command-line option once: on the field of the command's request dataclass.

Before, each option existed three times (the CLI function's parameter, the request field, the
keyword in the constructor call). Now the request field is the only declaration: its name, type
and default come from the dataclass, its flags, help, metavar, choices and bounds from
:func:`option`. ``cli.py`` builds the typer command from these fields, so the parser (not
``commands/``) refuses a value out of bounds or not among the choices. This module imports
nothing heavy and nothing from typer: library callers build requests without the CLI.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cli:
    """How one request field appears on the command line."""

    flags: tuple[str, ...]
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    argument: bool = False  # a positional argument (its flags are empty)


def option(
    *flags: str,
    help: str,
    default: Any = dataclasses.MISSING,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    min: float | None = None,
    max: float | None = None,
    argument: bool = False,
) -> Any:
    """A dataclass field that is also a command-line option (no default: required), or with
    ``argument=True`` a positional argument."""
    cli = Cli(flags, help, metavar, choices, min, max, argument)
    return dataclasses.field(default=default, metadata={"cli": cli})


# Options several commands share, declared once here (a field builder each, since a dataclass
# field object cannot be reused).


def email_option() -> Any:
    return option("--email", "-e", help="The mailbox address.", metavar="ADDRESS")


def sync_user_option() -> Any:
    # Help may name the default provider; its sync-id format only next to its name.
    return option(
        "--sync-user",
        default=None,
        metavar="TEXT",
        help="CalDAV/CardDAV username, when the provider has a separate one "
        "(Infomaniak: e.g. AB12345).",
    )


def provider_option() -> Any:
    return option(
        "--provider",
        default=None,
        metavar="NAME",
        help="A bundled provider by id (default: the bundled default; list: mailsetup providers).",
    )


def provider_file_option() -> Any:
    return option(
        "--provider-file",
        default=None,
        metavar="PATH",
        help="Provider data (TOML, schema of profiles/*.toml).",
    )


def same_as(request: type, name: str, help: str | None = None) -> Any:
    """A copy of ``request``'s declaration of field ``name``, for a command that takes the same
    option with the same meaning (``share`` and ``serve`` sign and render like ``profile``).
    ``help`` replaces the text where the option means something else there."""
    (f,) = (f for f in dataclasses.fields(request) if f.name == name)
    cli = f.metadata["cli"]
    if help is not None:
        cli = dataclasses.replace(cli, help=help)
    return dataclasses.field(default=f.default, metadata={**f.metadata, "cli": cli})


def cli_fields(request: type) -> list[tuple[dataclasses.Field[Any], Cli]]:
    """The fields of ``request`` with their :class:`Cli` declaration, in order."""
    return [(f, f.metadata["cli"]) for f in dataclasses.fields(request)]
