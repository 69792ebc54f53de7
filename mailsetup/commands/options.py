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


def option(
    *flags: str,
    help: str,
    default: Any = dataclasses.MISSING,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    min: float | None = None,
    max: float | None = None,
) -> Any:
    """A dataclass field that is also a command-line option (no default: required)."""
    cli = Cli(flags, help, metavar, choices, min, max)
    return dataclasses.field(default=default, metadata={"cli": cli})


def cli_fields(request: type) -> list[tuple[dataclasses.Field[Any], Cli]]:
    """The fields of ``request`` with their :class:`Cli` declaration, in order."""
    return [(f, f.metadata["cli"]) for f in dataclasses.fields(request)]
