"""Plain coercion for simple CLI parameters, so a command does not import pydantic.

typer 0.29 coerces every non-flag parameter through a pydantic ``TypeAdapter``, built lazily on
first use; for a command with a single ``str`` option that import alone costs ~150 ms, more than
everything mailsetup itself does (measured with ``python -X importtime``; see
``benchmarks/startup.py``). Our options are only ``str``, ``int``, ``bool`` flags and ``Path``
(optionally ``None``), which need no schema machinery: this module pre-fills typer's lazily
built runtime parameter with a converter for exactly those types and leaves every other
annotation to typer.

It relies on typer internals (``typer._coercion.RuntimeParam`` and the ``_runtime_param`` slot),
so it is defensive: if they are not there, nothing is changed and typer works as usual, only
slower. pyproject.toml pins typer to 0.29.x; a test asserts the fast path stays in use.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union, get_args, get_origin

_TRUTH = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def _to_bool(text: str) -> bool:
    """Flags already arrive as bools; this only serves a string from an env var or default."""
    try:
        return _TRUTH[text.strip().lower()]
    except KeyError:
        raise ValueError(text) from None


_CONVERTERS: dict[Any, Callable[[str], Any]] = {str: str, int: int, Path: Path, bool: _to_bool}


def _converter_for(annotation: Any) -> Callable[[str], Any] | None:
    """The converter for ``T`` or ``T | None`` with ``T`` in str/int/bool/Path, else ``None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation = args[0]
    return _CONVERTERS.get(annotation)


def install(command: Any) -> None:
    """Pre-fill plain converters on every parameter of ``command`` and its sub-commands."""
    try:
        from typer._click import Context
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam
    except ImportError:  # another typer: keep its own behaviour
        return

    class PlainRuntimeParam(RuntimeParam):
        """Convert a command-line string with a plain callable; same error shape as typer."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            convert = _converter_for(self.annotation)
            if convert is None or not isinstance(value, str):
                return value
            try:
                return convert(value)
            except ValueError:
                name = getattr(self.annotation, "__name__", "value")
                message = f"{value!r} is not a valid {name}."
                raise BadParameter(message, ctx=ctx, param=param) from None

    def visit(cmd: Any) -> None:
        params = list(getattr(cmd, "params", []))
        # The --help option is made (and cached) per command on first use; make it now.
        help_option = cmd.get_help_option(Context(cmd)) if hasattr(cmd, "get_help_option") else None
        for param in [*params, help_option] if help_option is not None else params:
            desc = getattr(param, "type_descriptor", None)
            if desc is None or getattr(param, "_runtime_param", "absent") is not None:
                continue
            if desc.file_annotation is None and _converter_for(desc.annotation) is not None:
                annotation = desc.annotation
                if get_origin(annotation) in (Union, types.UnionType):
                    annotation = next(a for a in get_args(annotation) if a is not type(None))
                param._runtime_param = PlainRuntimeParam(
                    parameter_info=desc.parameter_info, annotation=annotation
                )
        for sub in getattr(cmd, "commands", {}).values():
            visit(sub)

    visit(command)
