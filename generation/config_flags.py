"""Command-line flags from config dataclasses: each default, choice and help text is stated once, on its field.

Every field of a config dataclass (``SynthOptions``, ``GeneratorConfig``, ``FilterConfig``, ...) becomes one flag,
``--field-name`` unless ``flags`` renames it: typed from the annotation (``int``, ``float``, ``str``, ``bool``,
``X | None``), with the field's default, ``metadata["help"]`` and ``metadata["choices"]`` (shown in ``--help``,
default appended). :func:`from_flags` builds the dataclass back from the parsed namespace; a value the dataclass
rejects (its ``__post_init__`` ``ValueError``) comes out as one line that names the flag. Like TRL's use of
``transformers.HfArgumentParser``, but keeping our flag names (``--points`` for ``n_points``) and loading nothing.

Example:
    >>> import argparse
    >>> from dataclasses import dataclass, field
    >>> @dataclass(frozen=True)
    ... class Opts:
    ...     n_points: int = field(default=1000, metadata={"help": "mesh vertices"})
    ...     mode: str = field(default="a", metadata={"help": "procedure", "choices": ("a", "b")})
    ...     def __post_init__(self):
    ...         if self.n_points < 10:
    ...             raise ValueError(f"n_points must be >= 10, got {self.n_points}")
    >>> parser = argparse.ArgumentParser()
    >>> add_dataclass_flags(parser, Opts, flags={"n_points": "--points"})
    >>> from_flags(Opts, parser.parse_args(["--points", "20", "--mode", "b"]))
    Opts(n_points=20, mode='b')
    >>> from_flags(Opts, parser.parse_args(["--points", "5"]), flags={"n_points": "--points"})
    Traceback (most recent call last):
    ...
    ValueError: --points: n_points must be >= 10, got 5
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["add_dataclass_flags", "dataclass_fields", "flag_name", "from_flags"]

_SCALARS = (int, float, str)
_METAVARS = {int: "N", float: "X", str: "TEXT"}


def dataclass_fields(
    cls: type, only: Iterable[str] | None = None, exclude: Iterable[str] = ()
) -> list[dataclasses.Field]:
    """The init fields of ``cls`` to expose as flags (``only``: these, in this order; minus ``exclude``).

    Raises:
        ValueError: when ``only`` or ``exclude`` names a field ``cls`` does not have.
    """
    by_name = {f.name: f for f in dataclasses.fields(cls) if f.init}
    names = list(only) if only is not None else list(by_name)
    unknown = sorted((set(names) | set(exclude)) - set(by_name))
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(unknown)}")
    return [by_name[n] for n in names if n not in set(exclude)]


def flag_name(name: str, flags: Mapping[str, str] | None = None) -> str:
    """The flag of field ``name``: ``flags[name]`` or ``--name-with-dashes``.

    >>> flag_name("min_pixels"), flag_name("n_points", {"n_points": "--points"})
    ('--min-pixels', '--points')
    """
    return (flags or {}).get(name) or "--" + name.replace("_", "-")


def _scalar_type(cls: type, f: dataclasses.Field) -> tuple[type, bool]:
    """(scalar type, optional) of a field's annotation; ``ValueError`` for a type a flag cannot carry."""
    hint = typing.get_type_hints(cls)[f.name]
    args = typing.get_args(hint)
    optional = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    if optional:
        rest = [a for a in args if a is not type(None)]
        hint = rest[0] if len(rest) == 1 else hint
    if hint is bool or hint in _SCALARS:
        return hint, optional
    raise ValueError(f"{cls.__name__}.{f.name}: a {hint!r} field cannot be a command-line flag")


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def add_dataclass_flags(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    *,
    flags: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    defaults: Mapping[str, Any] | None = None,
) -> None:
    """Add one flag per field of the dataclass ``cls`` to ``parser`` (an argument group works too).

    Args:
        parser: The parser or argument group.
        cls: A dataclass whose fields carry ``metadata={"help": ..., "choices": ...}``.
        flags: Field name -> flag (default ``--field-name``).
        only: Expose only these fields (in this order).
        exclude: Fields not to expose.
        defaults: Field name -> default of the flag, where the command's default differs from the field's.

    The parsed value lands in ``args.<field name>``. A field without help metadata is an error (every flag is
    documented).
    """
    defaults = defaults or {}
    for f in dataclass_fields(cls, only, exclude):
        help_text = f.metadata.get("help")
        if not help_text:
            raise ValueError(f"{cls.__name__}.{f.name}: no metadata['help'] for its flag")
        kind, optional = _scalar_type(cls, f)
        default = defaults.get(f.name, _default(f))
        kwargs: dict[str, Any] = {"dest": f.name, "default": default}
        shown = "none" if default is None else default
        kwargs["help"] = f"{help_text} (default: {shown})".replace("%", "%%")
        if kind is bool and not optional:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = kind
            if "choices" in f.metadata:
                kwargs["choices"] = tuple(f.metadata["choices"])
            else:
                kwargs["metavar"] = _METAVARS[kind]
        parser.add_argument(flag_name(f.name, flags), **kwargs)


def from_flags(
    cls: type,
    args: argparse.Namespace,
    *,
    flags: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    **overrides: Any,
) -> Any:
    """Build ``cls`` from the flags :func:`add_dataclass_flags` added (plus ``overrides``).

    Fields without a flag in ``args`` keep their defaults. A ``ValueError`` of the dataclass's checks is raised
    again as one line starting with the flag(s) of the field(s) it names (``--points: n_points must be ...``).
    """
    chosen = dataclass_fields(cls, only, exclude)
    values = {f.name: getattr(args, f.name) for f in chosen if hasattr(args, f.name)}
    values.update(overrides)
    try:
        return cls(**values)
    except ValueError as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        named = [flag_name(f.name, flags) for f in chosen if re.search(rf"\b{re.escape(f.name)}\b", msg)]
        raise ValueError(f"{', '.join(named)}: {msg}" if named else msg) from None
