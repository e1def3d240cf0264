"""Strict, bounded numbers: how every number of a technology or device file is checked.

A field's :class:`Bound` says whether it takes an integer or any real number, the
closed range ``[low, high]`` it must lie in, and whether 0 is also allowed (a switch
that turns a rule off). :func:`check_number` checks the type first (no booleans, no
strings, no other objects), then finiteness, then the range, comparing Python
integers exactly so that an integer beyond a float's range is refused rather than
converted. :func:`check_derived` checks a quantity computed from checked fields
where it is used (a scaling term, a table ratio, a per-crossbar cost): finite, and
positive or, where 0 means something, >= 0.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple


class Bound(NamedTuple):
    """What a numeric field may hold.

    :param integer: the field takes an integer (a Python or numpy integer, not 3.0).
    :param low: smallest allowed value, other than 0 when ``zero`` is set.
    :param high: largest allowed value.
    :param zero: 0 is allowed too (it switches the field's rule off).
    """

    integer: bool
    low: float
    high: float
    zero: bool = False

    def describe(self) -> str:
        """The allowed values in words, e.g. ``"an integer in [1, 4096]"``."""
        kind = "an integer" if self.integer else "a number"
        span = f"in [{_fmt(self.low)}, {_fmt(self.high)}]"
        return f"{kind} {span}" + (" or 0" if self.zero and self.low > 0 else "")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e7 else f"{x:g}"


def integer_valued(value: Any) -> bool:
    """Whether ``value`` is an integer, or a finite float with an integer value (no bool).

    :param value: anything.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return isinstance(value, numbers.Integral) or (
        math.isfinite(value) and float(value).is_integer()
    )


def check_number(name: str, value: Any, bound: Bound, error: type[ValueError],
                 subject: str | None = None) -> None:
    """Raise ``error`` naming ``name``, ``value`` and ``bound`` unless ``value`` fits.

    :param name: the field, as the message names it (``"timesteps"``).
    :param value: what was given.
    :param bound: what is allowed.
    :param error: the exception class to raise (one line message).
    :param subject: how the message starts instead of ``field '<name>'`` (a table cell).
    """
    allowed = bound.describe()
    what = subject or f"field '{name}'"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = _string_hint(value)
        raise error(f"{what} must be {allowed}, got {show(value)}{hint}")
    if bound.integer and not isinstance(value, numbers.Integral):
        raise error(f"{what} must be {allowed}, got {show(value)}")
    if not isinstance(value, numbers.Integral) and not math.isfinite(value):
        raise error(f"{what} must be finite (allowed: {allowed}), got {show(value)}")
    x: Any = value  # a real number from here on; ints compare exactly, never converted
    if x > bound.high:
        raise error(f"{what} must be at most {_fmt(bound.high)} (allowed: {allowed}), "
                    f"got {show(x)}")
    if x == 0 and bound.zero:
        return
    if x < bound.low:
        if x < 0 and (bound.zero or bound.low == 0):
            word = "must be >= 0"
        elif x <= 0 < bound.low:
            word = "must be positive"
        else:
            word = f"must be at least {_fmt(bound.low)}"
        raise error(f"{what} {word} (allowed: {allowed}), got {show(x)}")


def show(value: object, limit: int = 60) -> str:
    """``repr(value)``, shortened past ``limit`` characters (a 400-digit integer, a long
    string) so that an error stays one short line."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**limit else (
        f"an integer of {len(str(abs(value)))} digits")
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


def _string_hint(value: object) -> str:
    """Why a number came as text, for strings that spell one (YAML 1.1 reads ``1e3``,
    without a dot and an exponent sign, as text)."""
    if not isinstance(value, str) or len(value) > 40:
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    if not math.isfinite(number):
        return ""
    if "e" in value.lower():
        return " (text, not a number: YAML reads an exponent as a number only with a dot " \
            "and a sign, e.g. 1.0e+3)"
    return " (text, not a number: write it without quotes)"


def check_derived(owner: str, quantity: str, value: float, error: type[ValueError],
                  zero: bool = False) -> float:
    """Return ``value`` if it is finite and positive (``>= 0`` with ``zero``); else raise.

    :param owner: what the quantity belongs to, e.g. ``"technology 'mine'"``.
    :param quantity: what was computed, e.g. ``"arrays area at N=16"``.
    :param value: the computed value.
    :param error: the exception class to raise.
    :param zero: 0 is a meaningful value here (no reads, no partial sums).
    """
    if math.isfinite(value) and (value > 0 or zero and value == 0):
        return value
    need = "finite and >= 0" if zero else "finite and positive"
    raise error(f"{owner}: {quantity} is {value!r}, must be {need} (a constant or a scaling "
                "exponent of the technology puts it out of range)")
