"""Strict-ish value types for settings read from keywords, YAML and JSON (pydantic v2).

No coercion that could misread a value: a string is never a boolean or a number, a
float is never truncated to an integer, NaN and infinity are refused. Integers stay
integers where a number is allowed (``1`` is not turned into ``1.0``), and numpy
scalars are taken as the Python numbers they hold.

:func:`validate_fields` validates a dataclass's keywords and turns pydantic's multi-line
``ValidationError`` into one line naming the field, the value given and what is allowed.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Sequence
from functools import cache
from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, Strict, TypeAdapter, ValidationError

# Two meanings of a seed, so two limits. A seed of the environment (the dense baseline,
# an episode's retraining and clustering) goes to torch generators (< 2**64, and a
# baseline seeds one with seed + 1), numpy's Generator and Gymnasium (>= 0).
SEED_LIMIT = 2**63
# A seed of numpy's global (legacy) generator, which takes < 2**32: a learner's (SB3's
# set_random_seed) and the search samplers' (Optuna's). Every seed given on a command line
# keeps to it as well: studies derive episode and policy seeds from theirs (1000 * seed + k,
# EPISODE_SEED + 1000 + seed), which then stay below SEED_LIMIT.
NUMPY_SEED_LIMIT = 2**32


# The largest magnitude any integer (a count, a size, an index, a step) may have when it is
# compared with its own range: numpy and torch hold integers in int64, and a Python int
# beyond it fails inside the conversion (OverflowError) instead of at the range check.
INT_LIMIT = 2**63
# Episodes one vector environment runs at once: each holds its own network copies and
# dataset views, so far fewer fit any machine (training configurations keep n_envs to it).
MAX_ENVS = 256


def check_int(value: Any, name: str, low: int = 0, high: int = INT_LIMIT - 1) -> int:
    """An integer in ``[low, high]`` as a Python int, checked before any conversion.

    Python and numpy integers are taken; booleans, floats (even whole ones), strings and
    integers of any magnitude outside the range are refused by the range check itself, so
    nothing reaches ``float()``, ``np.int64`` or torch unchecked.

    :param value: the value given.
    :param name: the setting, flag or field to name in the error.
    :param low: the smallest value allowed.
    :param high: the largest value allowed (at most ``INT_LIMIT - 1``).
    :raises ValueError: ``invalid NAME=VALUE: allowed an integer in [LOW, HIGH]``.
    """
    ok = not isinstance(value, (bool, np.bool_))
    try:
        number = operator.index(value) if ok else low - 1
    except TypeError:
        ok = False
    if not ok or not low <= number <= high:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise ValueError(f"invalid {name}={shown}: allowed an integer in [{low}, {high}]")
    return number


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters, with the length of a long
    sequence: an error line names a value without quoting all of it.

    >>> short_repr(list(range(100)), 20)
    '[0, 1, 2, 3, 4, 5, 6... (100 items)'
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    count = f" ({len(value)} items)" if isinstance(value, (list, tuple, dict, set)) else ""
    return text[:limit] + "..." + count


def seed_range(limit: int = SEED_LIMIT) -> str:
    """The interval a seed below ``limit`` lies in, as every refusal writes it.

    :param limit: :data:`SEED_LIMIT` or :data:`NUMPY_SEED_LIMIT`.
    """
    return f"[0, 2**{limit.bit_length() - 1})"


def _scalar(value: Any) -> Any:
    """numpy scalars (np.int64, np.float32, np.bool_) as the Python values they hold."""
    return value.item() if isinstance(value, np.generic) else value


def _path(value: Any) -> Any:
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def _list_or_tuple(value: Any) -> Any:
    """A sequence setting is a list or a tuple (not a set, whose order is arbitrary)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ValueError("expected a list or a tuple")
    return value


Int = Annotated[int, Strict(), BeforeValidator(_scalar)]
FiniteFloat = Annotated[float, Strict(), Field(allow_inf_nan=False), BeforeValidator(_scalar)]
# A finite number: an int stays an int, a float must be finite.
Number = Annotated[Int | FiniteFloat, BeforeValidator(_scalar)]
Bool = Annotated[bool, Strict(), BeforeValidator(_scalar)]
Str = Annotated[str, Strict()]
PathStr = Annotated[str, Strict(), BeforeValidator(_path)]  # a str or an os.PathLike
IntTuple = Annotated[tuple[Int, ...], BeforeValidator(_list_or_tuple)]
NumberTuple = Annotated[tuple[Number, ...], BeforeValidator(_list_or_tuple)]


@cache
def _adapter(cls: type) -> TypeAdapter:
    return TypeAdapter(cls)


def validate_fields(cls: type, values: dict[str, Any], message: Callable[[str], str]) -> Any:
    """``cls(**values)`` with every field checked against its annotated type.

    :param cls: a dataclass whose field annotations use the types of this module.
    :param values: the keywords (unknown ones must be refused before).
    :param message: the one-line error for a field name, e.g. ``invalid setting X=...``.
    :raises ValueError: ``message(name)`` of the first field whose value has the wrong type.
    """
    try:
        return _adapter(cls).validate_python(values)
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        name = str(loc[0]) if loc else "?"
        raise ValueError(message(name)) from None


def check_seed(seed: Any, name: str = "seed", limit: int = SEED_LIMIT) -> int:
    """An integer seed in ``[0, limit)`` (numpy integers allowed), as an int.

    :param limit: :data:`SEED_LIMIT`, or :data:`NUMPY_SEED_LIMIT` for a seed numpy's
        legacy generators take.
    :raises ValueError: naming ``name``, the value and the allowed range.
    """
    ok = not isinstance(seed, (bool, np.bool_))
    try:
        value = operator.index(seed) if ok else -1
    except TypeError:
        ok = False
    if not ok or not 0 <= value < limit:
        raise ValueError(f"invalid {name}={short_repr(seed)}: allowed an integer in "
                         f"{seed_range(limit)}")
    return value


def parse_topology(topology: str | Sequence[int]) -> tuple[int, ...]:
    """Turn ``"784-1200-1200-10"`` or a sequence into a tuple of layer widths.

    :param topology: widths from input to output, at least two, all positive.
    :return: the widths as a tuple of ints.

    >>> parse_topology("64-128-10")
    (64, 128, 10)
    """
    if isinstance(topology, str):
        parts = [w.strip() for w in topology.replace(",", "-").split("-")]
        if not all(w.isascii() and w.isdigit() for w in parts):  # "64--10", "64-1.5-10"
            raise ValueError(
                f"topology {topology!r} is not a '-'-separated list of integers, "
                "e.g. '784-1200-1200-10'"
            )
        widths = tuple(int(w) for w in parts)
    else:
        try:  # integers only: 64.5 is not a width
            widths = tuple(operator.index(w) for w in topology)
        except TypeError:
            raise ValueError(
                f"topology {topology!r} is not a sequence of integer widths"
            ) from None
    if len(widths) < 2 or any(w <= 0 for w in widths):
        raise ValueError(
            f"topology {topology!r} needs at least two positive widths (inputs ... classes)"
        )
    return widths


def is_valid_device_name(name: str) -> bool:
    """Whether ``name`` is spelled like a device (available or not)."""
    text = str(name).strip().lower()
    return text in ("cpu", "cuda", "mps", "auto") or (
        text.startswith("cuda:") and text[5:].isdigit()
    )
