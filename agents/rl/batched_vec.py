"""SB3's ``VecEnv`` interface over :class:`tnf_env.BatchedTraNNsformerEnv`.

SB3 expects lists of per-environment infos, resets finished episodes within the
step and hands their last observation over as ``info["terminal_observation"]``;
the batched environment's ``SAME_STEP`` autoreset does the same thing in
Gymnasium's terms (``final_obs``, ``final_info``, infos as a dict of arrays), so
this adapter only translates. PPO then collects all ``n_envs`` episodes of a
rollout with one batched retraining per step, in this process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv

from tnf_env import BatchedTraNNsformerEnv


def unbatch_info(info: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Gymnasium's dict-of-arrays info as one dict per environment (masked keys left out)."""
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    for key, values in info.items():
        if key.startswith("_"):
            continue
        present = info.get(f"_{key}", np.ones(n, dtype=bool))
        per = unbatch_info(values, n) if isinstance(values, dict) else values
        for k in range(n):
            if present[k]:
                out[k][key] = per[k]
    return out


class BatchedVecEnv(VecEnv):
    """A :class:`~tnf_env.BatchedTraNNsformerEnv` (built here with ``SAME_STEP``
    autoreset) as an SB3 ``VecEnv``.

    :param num_envs: episodes run at once.
    :param baseline_seeds: see :class:`~tnf_env.BatchedTraNNsformerEnv`.
    :param settings: environment settings.
    """

    def __init__(
        self, num_envs: int, baseline_seeds: Sequence[int] | None = None, **settings: Any
    ) -> None:
        self.venv = BatchedTraNNsformerEnv(
            num_envs,
            baseline_seeds=baseline_seeds,
            autoreset_mode=AutoresetMode.SAME_STEP,
            **settings,
        )
        super().__init__(
            num_envs, self.venv.single_observation_space, self.venv.single_action_space
        )
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, info = self.venv.reset(seed=seeds)
        self.reset_infos = unbatch_info(info, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        obs, rewards, terminated, truncated, info = self.venv.step(self._actions)
        infos = unbatch_info(info, self.num_envs)
        dones = terminated | truncated
        for k in np.flatnonzero(dones):
            now = infos[k]
            infos[k] = dict(now.pop("final_info"))
            infos[k]["terminal_observation"] = now.pop("final_obs")
            self.reset_infos[k] = now  # what the reset that followed returned
        for i in range(self.num_envs):
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    def _targets(self, indices: None | int | Iterable[int]) -> list:
        return [self.venv.envs[i] for i in self._get_indices(indices)]

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(env, attr_name) for env in self._targets(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        for env in self._targets(indices):
            setattr(env, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
        return [getattr(env, method_name)(*args, **kwargs) for env in self._targets(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices=None) -> list[bool]:
        return [False for _ in self._targets(indices)]
