"""An episode's state: fork an environment, save and restore where it stands.

Steps cost seconds, so lookahead and tree search over copies of an environment
are natural baselines (CompilerGym's ``env.fork()`` and ``env.state``). The state
is the schedule document ``replay`` reads (``best_schedule.json``): the settings,
the episode seed and the actions taken, which reproduce the episode bit for bit
on the CPU. :class:`EpisodeState` adds these methods to
:class:`~tnf_env.env.TraNNsformerEnv`.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
import torch

from .settings import EnvConfig, earlier_settings, explicit_settings
from .validation import check_seed

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


class EpisodeState:
    """``fork``, ``get_state`` and ``set_state`` of the TraNNsformer environment."""

    def fork(self) -> Any:
        """An independent copy of this environment, mid-episode: stepping it with the same
        actions gives what this one would give, bit for bit on the CPU; neither affects the
        other. The task (dataset, dense baseline, cost references) is shared read-only; the
        episode (network, optimiser, generators, masks, clusters, history) is copied.
        On a wrapped environment use :func:`tnf_env.fork` (keeps the wrappers) or
        ``env.unwrapped.fork()``.
        """
        self._check_open()
        # The task (data, baseline, references) is shared read-only; the episode is copied.
        shared = (self.task, self.config)
        return copy.deepcopy(self, {id(o): o for o in shared})

    def get_state(self) -> dict[str, Any]:
        """The episode so far as the schedule document ``replay`` reads (``best_schedule.json``
        keys): ``env`` (the settings), ``seed`` (the episode's), ``actions`` (taken so far),
        ``torch_threads``, ``episode_return`` and ``metrics`` (of the current network).
        JSON-serialisable; :meth:`set_state` (or ``reset(options={"state": doc})``) restores it.
        """
        if self.transformation is None:
            raise RuntimeError("get_state() before reset(): there is no episode yet")
        info = self._info(self._metrics)
        if self._done:
            sel = self.config.select_on_validation
            info["delivered_step"] = self._delivered[0] if sel else self._steps
        return {
            "env": explicit_settings(copy.deepcopy(self.settings)),
            "seed": self._episode_seed,
            "actions": [list(a) for a in self._actions],
            "torch_threads": torch.get_num_threads(),
            "episode_return": self._return,
            "metrics": {k: plain(info[k]) for k in STATE_METRICS if k in info},
        }

    def set_state(self, state: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        """Restore a :meth:`get_state` document: reset with its seed and replay its actions
        (one retraining per action, as the original took). Returns the observation and info
        after the last action (of the reset when there is none).

        :raises ValueError: the state is malformed or was taken on different settings.
        """
        if not isinstance(state, dict) or not {"env", "seed", "actions"} <= set(state):
            raise ValueError("a state is a mapping with 'env', 'seed' and 'actions' (get_state())")
        local = {"torch_threads": None, "cache_dir": None, "data_dir": None}
        mine = self.config.model_copy(update=local)
        # a setting whose default changed since the state was taken keeps its old one
        theirs = EnvConfig.from_kwargs(**earlier_settings(state["env"])).model_copy(update=local)
        if mine != theirs:
            diff = sorted(
                name for name in EnvConfig.model_fields
                if getattr(mine, name) != getattr(theirs, name)
            )
            raise ValueError(f"the state was taken on other settings (they differ in {diff})")
        seed = check_seed(state["seed"])
        actions = state["actions"]  # every action checked before the episode is touched
        nvec = [int(n) for n in np.asarray(self.action_space.nvec).ravel()]
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
        obs, info = self.reset(seed=seed)
        for k, action in enumerate(actions):
            if self._done:
                raise ValueError(f"the state's episode ended before its action {k}")
            obs, _, _, _, info = self.step(np.asarray(action, dtype=np.int64))
        return obs, info


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
