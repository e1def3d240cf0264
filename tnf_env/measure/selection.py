"""When a network counts as meeting the accuracy floor, for selection.

The floor is judged on a finite validation split, so a network measured at the floor
meets it on new images about half the time; choosing the cheapest network that
meets it picks exactly those. For selection (the environment's delivered network,
``is_success``, and through them every tuning of fixed schedules and the black-box
search) a network counts only when its validation accuracy clears the floor by
``k`` standard errors of that accuracy: ``p - k * sqrt(p (1 - p) / n) >= floor`` for
accuracy ``p`` on ``n`` images (a one-sided binomial bound; ``k = 1`` puts the floor
at the bound of a 84% one-sided interval). ``k = 0`` is the plain floor.

>>> clears_floor(0.96, 0.955, 400, 0.0), clears_floor(0.96, 0.955, 400, 1.0)
(True, False)
"""

from __future__ import annotations

import math


def standard_error(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on ``n`` images.

    :param accuracy: the measured accuracy, in [0, 1].
    :param n: images it was measured on (>= 1).
    """
    p = min(max(float(accuracy), 0.0), 1.0)
    return math.sqrt(p * (1.0 - p) / max(1, int(n)))


def clears_floor(accuracy: float, floor: float, n: int, k: float) -> bool:
    """Whether ``accuracy`` (on ``n`` images) clears ``floor`` by ``k`` standard errors.

    :param accuracy: validation accuracy of the network.
    :param floor: the accuracy floor (baseline - tolerance).
    :param n: validation images the accuracy was measured on.
    :param k: the margin in standard errors (>= 0; 0 is the plain floor).
    """
    return bool(accuracy - k * standard_error(accuracy, n) >= floor)
