"""One override syntax for every command: ``--set a.b=value``.

``KEY`` is a configuration field (``n_steps``) or a dotted path into one of its
mappings (``env.max_steps``, an environment setting); ``VALUE`` is read as YAML
(``8``, ``[16, 32]``, ``null``, ``true``). :func:`parse_override` reads one item and
:func:`apply_overrides` applies a list of them to a plain mapping, checking each key
against what the command allows so that a typo is named before any work starts.

The flags older versions took (``benchmark --env KEY=VALUE``) stay as aliases:
:class:`DeprecatedOverride` rewrites them to ``--set PREFIX.KEY=VALUE`` and says so
on stderr, once per flag.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

from hwmodel.safeload import DocumentError, parse_document

__all__ = [  # and ENV_SETTINGS (env_settings(), read on first use)
    "DeprecatedOverride",
    "OverrideError",
    "add_set_flag",
    "apply_overrides",
    "parse_override",
]



@cache
def env_settings() -> tuple[str, ...]:
    """The environment settings ``--set env.NAME=`` may name (``ENV_SETTINGS``), read on
    first use: their module imports torch, which the command line's parser does without."""
    from tnf_env.settings import EnvConfig

    return tuple(EnvConfig.model_fields)


def __getattr__(name: str) -> Any:
    if name == "ENV_SETTINGS":
        return env_settings()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class OverrideError(ValueError):
    """A ``--set`` item that is malformed or names a key the command does not take."""


def parse_override(item: str, flag: str = "--set") -> tuple[tuple[str, ...], Any]:
    """``"env.max_steps=3"`` → ``(("env", "max_steps"), 3)``.

    :raises OverrideError: no ``=``, an empty key or path part, or a value that is not
        a YAML document.
    """
    key, sep, text = item.partition("=")
    path = tuple(key.strip().split("."))
    if not sep or not all(path):
        raise OverrideError(f"{flag} takes KEY=VALUE (or a.b=VALUE), got {item!r}")
    try:
        value = parse_document(text, f"{flag} {key}")
    except DocumentError as exc:
        raise OverrideError(str(exc)) from None
    return path, value


def _allowed_text(top: Collection[str] | None, nested: Mapping[str, Collection[str]]) -> str:
    parts = [] if top is None else sorted(top)
    parts += [f"{name}.SETTING" for name in sorted(nested)]
    return ", ".join(parts)


def apply_overrides(
    data: Mapping[str, Any],
    items: Sequence[str],
    *,
    top: Collection[str] | None = None,
    nested: Mapping[str, Collection[str]] | None = None,
    flag: str = "--set",
) -> dict[str, Any]:
    """``data`` with each ``KEY=VALUE`` item of ``items`` applied, in order (a copy).

    :param top: the plain keys allowed (``None``: any; their values are checked later).
    :param nested: for each mapping key (``"env"``), the names allowed under it
        (default: ``env`` with the environment's settings).
    :raises OverrideError: a malformed item, or a key not allowed, naming what is.
    """
    nested = {"env": env_settings()} if nested is None else nested
    out = dict(data)
    for item in items:
        path, value = parse_override(item, flag)
        key = ".".join(path)
        head = path[0]
        if len(path) == 1:
            if head in nested:
                raise OverrideError(
                    f"{flag} {key}: {head} is a mapping, set one of its keys "
                    f"({head}.SETTING); allowed: {_allowed_text(top, nested)}"
                )
            if top is not None and head not in top:
                raise OverrideError(
                    f"{flag} {key}: unknown key; allowed: {_allowed_text(top, nested)}"
                )
            out[head] = value
            continue
        if head not in nested:
            raise OverrideError(
                f"{flag} {key}: unknown key; allowed: {_allowed_text(top, nested)}"
            )
        if len(path) > 2 or path[1] not in nested[head]:
            raise OverrideError(
                f"{flag} {key}: unknown {head} setting {'.'.join(path[1:])!r}; allowed: "
                f"{', '.join(nested[head])}"
            )
        inner = out.get(head) or {}
        if not isinstance(inner, Mapping):
            raise OverrideError(f"config key {head!r} must be a mapping of settings")
        out[head] = {**inner, path[1]: value}
    return out


class DeprecatedOverride(argparse.Action):
    """An old override flag kept as an alias: ``--env KEY=VALUE`` appends
    ``PREFIX.KEY=VALUE`` to ``--set``'s list and prints a one-line note to stderr."""

    def __init__(self, option_strings, dest, prefix: str = "", **kwargs):
        self.prefix = prefix
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if not getattr(namespace, f"_noted_{self.dest}{option_string}", False):
            setattr(namespace, f"_noted_{self.dest}{option_string}", True)
            print(
                f"note: {option_string} KEY=VALUE is deprecated; use --set "
                f"{self.prefix}KEY=VALUE",
                file=sys.stderr,
            )
        items = list(getattr(namespace, self.dest, None) or [])
        items.append(f"{self.prefix}{values}")
        setattr(namespace, self.dest, items)


def add_set_flag(p: argparse.ArgumentParser, what: str) -> None:
    """Register ``--set KEY=VALUE`` (repeatable) on ``p``; ``what`` says what it sets."""
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help=f"override {what}; repeatable, values read as YAML "
        "(e.g. --set env.max_steps=3 --set 'env.crossbar_sizes=[16, 32]')",
    )
