"""Plain coercion for simple CLI parameters, so a command does not import pydantic.

typer 0.29 coerces every parameter (even ``--help``) through a pydantic ``TypeAdapter``, built
lazily on first use; that import alone costs ~150 ms, more than everything mailsetup itself does
for a command (measured with ``python -X importtime``; ``benchmarks/startup.py`` tracks it). Our
options are ``str``, ``int``, ``float``, ``bool`` flags, ``Path`` and lists of those, optionally
``None``: they need no schema machinery. This module pre-fills typer's lazily built runtime
parameter with a plain converter for exactly those cases, including the two constraints the
commands declare (choices as ``Literal[...]``, numeric bounds as ``min=``/``max=``), and
leaves every other parameter (path checks such as ``exists=``, custom parsers) to typer.

Why an adapter at all (docs/architecture.md, "The typer adapter"): typer 0.29 offers no
public switch; ``click_type=`` is gone since typer vendors click, and ``parser=`` still goes
through a TypeAdapter; 0.29.2 is the newest release the package index offers. The adapter
relies on typer internals (``typer._coercion.RuntimeParam`` and the ``_runtime_param`` slot),
so it is defensive: if they are not there, nothing changes and typer works as usual, only
slower. pyproject.toml pins typer to 0.29.x and tests/test_param_coercion.py checks that the
fast path gives the same values and exit codes as typer's own.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

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
    "clamp", "parser", "click_type", "exists", "file_okay", "dir_okay",
    "writable", "readable", "resolve_path", "allow_dash", "formats",
)  # fmt: skip
# typer's defaults for these (no check is done with them unless ``exists`` is asked for).
_PATH_DEFAULTS = {"file_okay": True, "dir_okay": True, "readable": True, "case_sensitive": True}


def plain_type(annotation: Any) -> tuple[Any, bool] | None:
    """``(T, is_list)`` for ``T``, ``T | None``, ``list[T]`` with ``T`` plain; else ``None``.

    ``Literal["a", "b"]`` of strings counts as ``str`` (its choices are checked separately).
    """
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return None
        annotation = args[0]
    if get_origin(annotation) is Literal:
        return (str, False) if all(isinstance(a, str) for a in get_args(annotation)) else None
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


def _choices_of(annotation: Any) -> tuple[str, ...]:
    """The choices of ``Literal[...]`` or ``Literal[...] | None``; empty for anything else."""
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        annotation = inner[0] if len(inner) == 1 else None
    if get_origin(annotation) is Literal:
        return tuple(str(a) for a in get_args(annotation))
    return ()


def _describe_range(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{low}<=x<={high}"
    return f"x>={low}" if low is not None else f"x<={high}"


def install(command: Any, hints: dict[str, Callable[[str], str]] | None = None) -> None:
    """Pre-fill plain converters on every parameter of ``command`` and its sub-commands.

    ``hints`` maps a parameter name to a function giving a hint for a value that is not
    among its choices (``--client outlook`` -> "use --client autodiscover").
    """
    suggest: dict[str, Callable[[str], str]] = hints or {}
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
            choices = _choices_of(self.annotation)
            info = self.parameter_info
            low, high = getattr(info, "min", None), getattr(info, "max", None)

            def one(item: Any) -> Any:
                if not isinstance(item, str):
                    return item
                try:
                    result = convert(item)
                except ValueError:
                    message = f"{item!r} is not a valid {kind.__name__}."
                    raise BadParameter(message, ctx=ctx, param=param) from None
                if choices:
                    fold = str.lower if not info.case_sensitive else str
                    match = [c for c in choices if fold(c) == fold(result)]
                    if not match:
                        hint = suggest[param.name](item) if param.name in suggest else ""
                        message = f"{item!r} is not a valid choice" + (f"; {hint}" if hint else "")
                        message += f" (choose one of: {', '.join(choices)})"
                        raise BadParameter(message, ctx=ctx, param=param)
                    return match[0]
                # "not >=" rather than "<": NaN compares false both ways and is out of range.
                if (low is not None and not result >= low) or (
                    high is not None and not result <= high
                ):
                    message = f"{item} is not in the range {_describe_range(low, high)}."
                    raise BadParameter(message, ctx=ctx, param=param)
                return result

            return [one(v) for v in value] if is_list else one(value)

    def visit(cmd: Any) -> None:
        params = list(getattr(cmd, "params", []))
        # The --help option is made (and cached) per command on first use; make it now.
        if hasattr(cmd, "get_help_option"):
            params.append(cmd.get_help_option(Context(cmd)))
        for param in params:
            is_argument = getattr(param, "param_type_name", "") == "argument"
            if is_argument and param.metavar and hasattr(param, "display_type_rich"):
                # A named metavar (FILE, PATH) is the word people read; typer would append the
                # Python type to an argument's (`FILE <list[Path]>`).
                param.display_type_rich = lambda ctx: None
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
