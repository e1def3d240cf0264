"""Run a policy trained on one task on another whose action menu differs.

Two 3-layer MLP tasks have observations of the same features (shares, ratios to the
dense network, the accuracy margin to the floor, thresholds per mean |W|): they mean
the same on digits and mnist-10k. What differs is the menu: the crossbar sizes an
action picks from (and so the ``crossbar_size`` features, which are positions on that
menu), and whether a step has onset components (steps of several epochs do). A
:class:`MenuAdapter` shows the policy the target's observation as the source's menu
would have it and turns its action into the target's: a size by its value (the
nearest the target offers), onsets at the step's first sub-iteration, as a one-epoch
step has them.

>>> from agents.rl.policies import RandomPolicy
>>> adapter = MenuAdapter(RandomPolicy(), source_sizes=(32, 64))
>>> nearest_index(40, (16, 32, 64, 128)), _menu_position(64, (32, 64))
(1, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from tnf_env.actions import ActionCodec
from tnf_env.episode import Episode
from tnf_env.observation import RESOLUTION, feature_names
from tnf_env.rollout import Policy

from .policies import session


def _menu_position(n: int, sizes: Sequence[int]) -> float:
    """The ``crossbar_size`` feature of size ``n`` on the menu ``sizes`` (clipped)."""
    lo, hi = min(sizes), max(sizes)
    if hi == lo:
        return 0.0
    return min(1.0, max(0.0, math.log2(n / lo) / math.log2(hi / lo)))


def _size_on(position: float, sizes: Sequence[int]) -> int:
    lo, hi = min(sizes), max(sizes)
    return int(round(lo * (hi / lo) ** position)) if hi > lo else lo


def nearest_index(n: int, sizes: Sequence[int]) -> int:
    """Index of the size of ``sizes`` nearest to ``n`` on a log scale (ties: the smaller)."""
    return min(range(len(sizes)), key=lambda k: (abs(math.log2(sizes[k] / n)), sizes[k]))


def menus_differ(env: gym.Env | Episode, sizes: Sequence[int], sub_iterations: int) -> bool:
    """Whether ``env``'s action menu differs from crossbar ``sizes`` with steps of
    ``sub_iterations`` (onset components, and their choices, follow from it)."""
    codec = session(env).codec
    onsets = sub_iterations if sub_iterations > 1 else 0
    mine = codec.sub_iterations if codec.n_onset_slots else 0
    return tuple(codec.sizes) != tuple(int(n) for n in sizes) or mine != onsets


class MenuAdapter:
    """``policy``, trained where actions pick from ``source_sizes`` (with onset components
    or not), acting on an environment with another menu.

    :param policy: the source task's policy.
    :param source_sizes: the crossbar sizes of the source task's action.
    :param source_sub_iterations: sub-iterations of a source step (its epochs per step):
        above 1 its action has the two onset components.
    """

    def __init__(
        self, policy: Policy, source_sizes: Sequence[int], source_sub_iterations: int = 1
    ) -> None:
        self.policy = policy
        self.source_sizes = tuple(int(n) for n in source_sizes)
        self.source_sub_iterations = int(source_sub_iterations)
        self.name = f"{getattr(policy, 'name', 'policy')}@transfer"

    def reset(self, env: gym.Env | Episode) -> None:
        self.target: ActionCodec = session(env).codec
        t = self.target
        self.source = ActionCodec(
            t.n_layers, self.source_sizes, per_layer_crossbar=t.n_size_slots > 1,
            allow_stop=t.allow_stop, prune_levels=t.prune_levels,
            sub_iterations=self.source_sub_iterations,
        )
        self.target_names = feature_names(t.n_layers, t.names())
        self.source_names = feature_names(t.n_layers, self.source.names())
        self.policy.reset(env)

    def observation(self, obs: np.ndarray) -> np.ndarray:
        """The target's observation as the source task's policy reads it."""
        by_name = dict(zip(self.target_names, np.asarray(obs, dtype=np.float64), strict=True))
        sizes, own = self.target.sizes, self.source_sizes
        out = []
        for name in self.source_names:
            if name.startswith("crossbar_size"):
                value = _menu_position(_size_on(by_name[name], sizes), own)
            elif name.startswith("last_crossbar"):
                index = round(by_name[name] * max(len(sizes) - 1, 1))
                value = nearest_index(sizes[index], own) / max(len(own) - 1, 1)
            else:
                value = by_name.get(name, 0.0)
            out.append(value)
        return (np.round(np.asarray(out) / RESOLUTION) * RESOLUTION).astype(np.float32)

    def action(self, source_action: np.ndarray) -> np.ndarray:
        """The source's action as the target's: sizes by value, onsets at the first
        sub-iteration."""
        a = np.asarray(source_action, dtype=np.int64)
        s, t = self.source, self.target
        out = np.zeros(len(t.nvec), dtype=np.int64)
        for group in ("prune", "cluster", "cluster_prune", "stop"):
            out[t.slots(group)] = a[s.slots(group)]
        for k_t, k_s in zip(range(*t.slots("crossbar").indices(len(t.nvec))),
                            range(*s.slots("crossbar").indices(len(s.nvec))), strict=True):
            out[k_t] = nearest_index(s.sizes[a[k_s]], t.sizes)
        if s.n_onset_slots and t.n_onset_slots:
            for group in ("cluster_onset", "cluster_prune_onset"):
                out[t.slots(group)] = np.minimum(a[s.slots(group)], t.sub_iterations - 1)
        return out

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray | None:
        source = self.policy.act(self.observation(obs), info)
        return None if source is None else self.action(source)  # None: the episode stays
