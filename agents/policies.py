"""Schedules as policies: one interface for the paper's schedule, baselines and agents.

A policy sees what an agent sees — the observation and ``info`` — and returns
an action of the environment's space. :class:`PaperPolicy` reproduces
:func:`tnf_env.schedule.run_schedule` step for step: it issues the decisions
of :class:`~tnf_env.schedule.PaperSchedule` as actions, reading the same
quantities (unclustered share, whether the loss fell) from ``info``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from tnf_env.env import TraNNsformerEnv
from tnf_env.transform import StepReport


class Policy(Protocol):
    """What every schedule offers: a name, a per-episode reset and an action per step."""

    name: str

    def reset(self, env: gym.Env) -> None: ...

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray: ...


def _unwrap(env: gym.Env) -> TraNNsformerEnv:
    inner = env.unwrapped
    if not isinstance(inner, TraNNsformerEnv):
        raise TypeError(f"expected a TraNNsformer environment, got {type(inner).__name__}")
    return inner


class ScheduleFollower:
    """Issues the decisions of a :class:`PaperSchedule` as environment actions.

    :param clustering: False gives the pruning-only baseline (same thresholds, no clusters).
    :param crossbar_size: the chip's crossbar size (default: the environment's reference).
    """

    def __init__(self, clustering: bool = True, crossbar_size: int | None = None) -> None:
        self.clustering = clustering
        self.crossbar_size = crossbar_size
        self.name = "paper" if clustering else "pruning"

    def reset(self, env: gym.Env) -> None:
        self.env = _unwrap(env)
        if self.env.config.prune_unit != "paper":
            raise ValueError(
                f"the {self.name} schedule needs the setting prune_unit='paper' "
                f"(this environment has {self.env.config.prune_unit!r})"
            )
        self.schedule = self.env.paper_schedule().with_(clustering=self.clustering)
        self.history: list[StepReport] = []
        self.size = self.crossbar_size or self.env.reference_size
        self._started = False

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        if self._started:  # the info of a step, not of reset, joins the history
            self.history.append(
                StepReport(
                    train_loss=math.nan,
                    loss_fell=bool(info["loss_fell"]),
                    thresholds=[],
                    new_clusters=[],
                    dropped_clusters=[],
                    sparsity=list(info["sparsity"]),
                    unclustered=list(info["unclustered"]),
                )
            )
        self._started = True
        n = self.env.n_layers
        decision = self.schedule.decide(len(self.history), self.history, n)
        return self.env.codec.encode(decision, self.env.unit_rates(), [self.size] * n)


def PaperPolicy(crossbar_size: int | None = None) -> ScheduleFollower:  # noqa: N802
    """The paper's fixed schedule as a policy."""
    return ScheduleFollower(True, crossbar_size)


def PruningPolicy(crossbar_size: int | None = None) -> ScheduleFollower:  # noqa: N802
    """The pruning-only baseline as a policy."""
    return ScheduleFollower(False, crossbar_size)


class RandomPolicy:
    """Uniformly random actions, never choosing to stop (so episodes use their budget).

    :param seed: seed of the action sampler.
    """

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, env: gym.Env) -> None:
        codec = _unwrap(env).codec
        self.nvec, self.allow_stop = codec.nvec, codec.allow_stop

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        a = self.rng.integers(0, self.nvec)
        if self.allow_stop:
            a[-1] = 0
        return a


@dataclass
class EpisodeResult:
    """The end of one episode under a policy."""

    policy: str
    seed: int
    episode_return: float
    steps: int
    actions: list[list[int]]
    final_info: dict[str, Any]


def run_episode(env: gym.Env, policy: Policy, seed: int) -> EpisodeResult:
    """Run one episode of ``policy`` on ``env`` from ``reset(seed=seed)``."""
    obs, info = env.reset(seed=seed)
    policy.reset(env)
    total, actions = 0.0, []
    while True:
        action = np.asarray(policy.act(obs, info))
        actions.append([int(a) for a in action])
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        if terminated or truncated:
            break
    return EpisodeResult(policy.name, seed, total, len(actions), actions, info)


def evaluate_policy(env: gym.Env, policy: Policy, seeds: Sequence[int]) -> list[EpisodeResult]:
    """One episode per seed; returns their results."""
    return [run_episode(env, policy, s) for s in seeds]


def summarize(results: Sequence[EpisodeResult]) -> dict[str, float]:
    """Mean (and std of the return) over episodes of one policy."""
    infos = [r.final_info for r in results]
    out = {
        "episodes": len(results),
        "return": float(np.mean([r.episode_return for r in results])),
        "return_std": float(np.std([r.episode_return for r in results])),
    }
    for key in ("accuracy", "cost", "area_ratio", "energy_ratio", "crossbars", "utilization"):
        out[key] = float(np.mean([i[key] for i in infos]))
    out["success"] = float(np.mean([i["is_success"] for i in infos]))
    return out


def comparison_table(rows: dict[str, dict[str, float]]) -> str:
    """A Markdown table of :func:`summarize` results, one row per policy."""
    lines = [
        "| policy | return (fraction saved) | accuracy | cost | area | energy | crossbars "
        "| floor met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in rows.items():
        lines.append(
            f"| {name} | {s['return']:.3f} ± {s['return_std']:.3f} | {s['accuracy']:.4f} | "
            f"{s['cost']:.3f} | {s['area_ratio']:.3f} | {s['energy_ratio']:.3f} | "
            f"{s['crossbars']:.0f} | {100 * s['success']:.0f}% |"
        )
    return "\n".join(lines)
