"""Plain coercion for simple CLI parameters, so a command does not import pydantic.

typer 0.29 coerces every parameter (even ``--help``) through a pydantic ``TypeAdapter``, built
lazily on first use; that import alone costs ~150 ms, more than everything mailsetup itself does
for a command (measured with ``python -X importtime``; ``benchmarks/startup.py`` tracks it). Our
options are ``str``, ``int``, ``float``, ``bool`` flags, ``Path`` and lists of those, optionally
``None``: they need no schema machinery. This module pre-fills typer's lazily built runtime
parameter with a plain converter for exactly those cases and leaves every other parameter
(constraints such as ``min=``, path checks such as ``exists=``, custom parsers) to typer.

It relies on typer internals (``typer._coercion.RuntimeParam`` and the ``_runtime_param`` slot),
so it is defensive: if they are not there, nothing changes and typer works as usual, only
slower. pyproject.toml pins typer to 0.29.x and a test asserts the fast path stays in use.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union, get_args, get_origin

_TRUTH = {"1": True, "true": True, "yes": True, "on": True}
_FALSE = {"0": False, "false": False, "no": False, "off": False}


def _to_bool(text: str) -> bool:
    """Flags arrive as bools already; this only serves a string (an env var, a default)."""
    try:
        return {**_TRUTH, **_FALSE}[text.strip().lower()]
    except KeyError:
        raise ValueError(text) from None


_CONVERTERS: dict[Any, Callable[[str], Any]] = {
    str: str,
    int: int,
    float: float,
    Path: Path,
    bool: _to_bool,
}
# ParameterInfo fields that ask typer for validation our converters do not do.
_NEEDS_TYPER = (
    "min", "max", "clamp", "parser", "click_type", "exists", "file_okay", "dir_okay",
    "writable", "readable", "resolve_path", "allow_dash", "formats", "case_sensitive",
)  # fmt: skip
# typer's defaults for these (no check is done with them unless ``exists`` is asked for).
_PATH_DEFAULTS = {"file_okay": True, "dir_okay": True, "readable": True, "case_sensitive": True}


def plain_type(annotation: Any) -> tuple[Any, bool] | None:
    """``(T, is_list)`` for ``T``, ``T | None``, ``list[T]`` with ``T`` plain; else ``None``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation = args[0]
    if get_origin(annotation) is list:
        (inner,) = get_args(annotation) or (None,)
        return (inner, True) if inner in _CONVERTERS else None
    return (annotation, False) if annotation in _CONVERTERS else None


def _is_plain(parameter_info: Any) -> bool:
    for name in _NEEDS_TYPER:
        value = getattr(parameter_info, name, None)
        if value not in (None, False, _PATH_DEFAULTS.get(name)):
            return False
    return True


def install(command: Any) -> None:
    """Pre-fill plain converters on every parameter of ``command`` and its sub-commands."""
    try:
        from typer._click import Context
        from typer._click.exceptions import BadParameter
        from typer._coercion import RuntimeParam
    except ImportError:  # another typer: keep its own behaviour
        return

    class PlainRuntimeParam(RuntimeParam):
        """Convert command-line strings with a plain callable; same error shape as typer."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind, is_list = plain_type(self.annotation) or (str, False)
            convert = _CONVERTERS[kind]

            def one(item: Any) -> Any:
                if not isinstance(item, str):
                    return item
                try:
                    return convert(item)
                except ValueError:
                    message = f"{item!r} is not a valid {kind.__name__}."
                    raise BadParameter(message, ctx=ctx, param=param) from None

            return [one(v) for v in value] if is_list else one(value)

    def visit(cmd: Any) -> None:
        params = list(getattr(cmd, "params", []))
        # The --help option is made (and cached) per command on first use; make it now.
        if hasattr(cmd, "get_help_option"):
            params.append(cmd.get_help_option(Context(cmd)))
        for param in params:
            desc = getattr(param, "type_descriptor", None)
            if desc is None or getattr(param, "_runtime_param", "absent") is not None:
                continue
            if (
                desc.file_annotation is None
                and plain_type(desc.annotation) is not None
                and _is_plain(desc.parameter_info)
            ):
                param._runtime_param = PlainRuntimeParam(
                    parameter_info=desc.parameter_info, annotation=desc.annotation
                )
        for sub in getattr(cmd, "commands", {}).values():
            visit(sub)

    visit(command)
