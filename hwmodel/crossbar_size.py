"""The crossbar size N: the one check of its form.

A size travels from a study (an int N), through an environment's menu (``crossbar_sizes``,
which an action indexes) and a network's per-layer list, to the cost model (an int per
layer). Every part that takes one from outside checks it here: a positive integer, and
one of the menu where there is one. What a technology can build (its ``min_crossbar`` ..
``max_crossbar``) is :meth:`hwmodel.technology.Technology.check_crossbar_size`.

>>> check_crossbar_size(64.0), check_crossbar_size(32, allowed=(16, 32))
(64, 32)
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence


def check_crossbar_size(crossbar_size: object, allowed: Sequence[int] | None = None) -> int:
    """``crossbar_size`` as an int.

    :param crossbar_size: a crossbar size N: a positive integer (a whole float or a numpy
        integer is taken as the integer it holds; a boolean is not).
    :param allowed: the sizes it must be one of (an environment's ``crossbar_sizes``);
        None: any.
    :raises ValueError: not a positive integer, or not one of ``allowed``, naming both.
    """
    x = crossbar_size
    n = 0  # refused unless it is a whole number below
    if isinstance(x, bool):
        pass
    elif isinstance(x, numbers.Integral):
        n = operator.index(x)
    elif isinstance(x, numbers.Real) and float(x).is_integer():
        n = int(float(x))
    if n < 1:
        raise ValueError(f"crossbar size must be a positive integer, got {crossbar_size!r}")
    if allowed is not None and n not in allowed:
        raise ValueError(f"crossbar size {n} is not one of {[int(k) for k in allowed]}")
    return n
