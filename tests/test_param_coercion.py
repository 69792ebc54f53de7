"""The fast parameter path must parse exactly like typer's own (pydantic) path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import typer

from mailsetup.param_coercion import install


def build() -> tuple[typer.Typer, list[Any]]:
    seen: list[Any] = []
    app = typer.Typer()

    @app.command()
    def main(
        files: Annotated[list[Path], typer.Argument()],
        name: str | None = None,
        port: int | None = None,
        timeout: float = 10.0,
        flag: bool = False,
        out: Path | None = None,
        tags: Annotated[list[str] | None, typer.Option("--tag")] = None,
        level: Annotated[int, typer.Option(min=1, max=5)] = 3,
        color: Annotated[Literal["red", "blue"], typer.Option(case_sensitive=False)] = "red",
        shape: Literal["round", "square"] | None = None,
    ) -> None:
        seen.append((files, name, port, timeout, flag, out, tags, level, color, shape))

    return app, seen


CASES = [
    ["a.ics"],
    ["a.ics", "b.vcf", "--name", "x", "--port", "465", "--timeout", "2.5", "--flag"],
    ["a", "--out", "dir/f", "--tag", "t1", "--tag", "t2", "--level", "5"],
    ["a", "--port", "abc"],
    ["a", "--timeout", "fast"],
    ["a", "--level", "9"],
    ["a", "--level", "0"],
    ["a", "--color", "blue", "--shape", "square"],
    ["a", "--color", "BLUE"],
    ["a", "--color", "green"],
    ["a", "--shape", "Round"],
    [],
]


@pytest.mark.parametrize("args", CASES)
def test_same_values_and_exit_codes_as_typer(args: list[str]) -> None:
    outcomes = []
    for fast in (False, True):
        app, seen = build()
        command = typer.main.get_command(app)
        if fast:
            install(command)
        try:
            command(args, standalone_mode=False)
            code = 0
        except typer._click.exceptions.UsageError as err:  # type: ignore[attr-defined]
            code = err.exit_code
        outcomes.append((code, seen))
    assert outcomes[0] == outcomes[1]
