"""The episode state document: what ``get_state`` records and ``set_state`` checks.

Steps cost seconds, so lookahead and tree search over copies of an episode are natural
baselines (CompilerGym's ``env.fork()`` and ``env.state``). The state is the schedule
document ``replay`` reads (``best_schedule.json``): the settings, the episode seed and the
actions taken, which reproduce the episode bit for bit on the CPU.
:meth:`tnf_env.episode.Episode.get_state` writes it and
:meth:`~tnf_env.episode.Episode.set_state` restores it; this module holds what the
document's writers and readers share.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

# The metrics a state (and best_schedule.json) records; replay checks each of them.
STATE_METRICS = (
    "accuracy",
    "accuracy_floor",
    "is_success",
    "cost",
    "area_mm2",
    "energy_nj",
    "crossbars",
    "utilization",
    "sparsity",
    "clusters",
    "crossbar_sizes",
    "delivered_step",
)


def check_actions(actions: Any, nvec: Sequence[int] | np.ndarray) -> list:
    """A state's ``actions``, each checked against the action space's ``nvec``.

    :raises ValueError: naming the first bad action and what is allowed.
    """
    nvec = [int(n) for n in np.asarray(nvec).ravel()]
    if not isinstance(actions, list):
        raise ValueError(f"invalid state actions={actions!r:.80}: allowed a list of actions")
    for k, a in enumerate(actions):
        ok = (
            isinstance(a, (list, tuple))
            and len(a) == len(nvec)
            and all(
                isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))
                and 0 <= x < n for x, n in zip(a, nvec, strict=False)
            )
        )
        if not ok:
            raise ValueError(
                f"invalid state actions[{k}]={a!r:.80}: allowed {len(nvec)} integers, "
                f"component i in [0, {nvec}[i])"
            )
    return actions


def plain(v: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, tuples as lists, mappings recursed."""
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return v
