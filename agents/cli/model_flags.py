"""Command-line flags generated from a configuration's fields.

A command's configuration (a :class:`~agents.common.configs.CommandConfig`) declares
each setting once: its type, default and one-line meaning (``Field(description=...)``).
:func:`add_config_flags` turns the fields into argparse flags (``rate_grid`` becomes
``--rate-grid``, a tuple takes one or more values, an optional number ``None`` by
default, a ``Literal`` its choices), and :func:`config_from_args` builds the
configuration from the parsed flags. A new setting is then one field: its flag,
``--help`` line and copy follow from it.
"""

from __future__ import annotations

import argparse
import types
import typing
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

_SCALARS = (int, float, str)


def _plain(annotation: Any) -> Any:
    """``Annotated[int, Strict()]`` as ``int`` (the flag's type; pydantic checks the rest)."""
    if typing.get_origin(annotation) is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def _flag_type(annotation: Any) -> tuple[type, bool, tuple[str, ...] | None]:
    """The scalar type of a field's flag, whether it takes several values and its choices
    (those of a ``Literal`` field, else None)."""
    annotation = _plain(annotation)
    args = [_plain(a) for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return str, False, tuple(args)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _flag_type(args[0])
    if origin in (tuple, list) and args and args[0] in _SCALARS:
        return args[0], True, None
    if annotation in _SCALARS:
        return annotation, False, None
    raise TypeError(f"no command-line flag for a field of type {annotation!r}")


def _shown(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def add_config_flags(
    p: argparse.ArgumentParser,
    cls: type[BaseModel],
    *,
    skip: Collection[str] = (),
    aliases: Mapping[str, Sequence[str]] | None = None,
    metavars: Mapping[str, str] | None = None,
    fill: Mapping[str, str] | None = None,
) -> None:
    """One flag per field of the pydantic model ``cls``, its help the field's
    description and default.

    :param skip: fields that have no flag (set otherwise, e.g. by ``--set``).
    :param aliases: more spellings of a field's flag (``{"seeds": ["--seed"]}``).
    :param metavars: a field's metavar, where the flag's name says too little.
    :param fill: values of ``{name}`` placeholders in descriptions, read when the parser
        is built (registries such as the technology presets may have grown since import).
    """
    aliases, metavars = aliases or {}, metavars or {}
    for name, f in cls.model_fields.items():
        if name in skip:
            continue
        kind, several, choices = _flag_type(f.annotation)
        default = f.get_default(call_default_factory=True)
        help_text = (f.description or "").format_map(fill or {})
        if default not in (None, ()) and f"default {_shown(default)}" not in help_text:
            help_text += f" (default {_shown(default)})"
        flags = [*aliases.get(name, ()), "--" + name.replace("_", "-")]
        extra: dict[str, Any] = {"nargs": "+"} if several else {}
        if name in metavars:
            extra["metavar"] = metavars[name]
        if choices is not None:
            extra["choices"] = choices
        p.add_argument(*flags, dest=name, type=kind, help=help_text,
                       default=list(default) if several and default is not None else default,
                       **extra)


class DefaultsFormatter(argparse.HelpFormatter):
    """``--help`` with every flag's default: appended as ``(default X)`` unless the help
    already says its default, the default is None (nothing given: the help says what
    applies) or the flag is a switch."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default is None or default is argparse.SUPPRESS
                or isinstance(default, bool) or not action.option_strings):
            return text
        # argparse formats the help: a % in the value must be doubled
        return text + f" (default {_shown(default)})".replace("%", "%%")


def config_from_args(cls: type[BaseModel], args: argparse.Namespace, **values: Any) -> Any:
    """``cls`` from the parsed flags of its fields (several values as a tuple), with
    ``values`` over them."""
    kw: dict[str, Any] = {}
    for name in cls.model_fields:
        if hasattr(args, name):
            v = getattr(args, name)
            kw[name] = tuple(v) if isinstance(v, list) else v
    return cls(**{**kw, **values})
