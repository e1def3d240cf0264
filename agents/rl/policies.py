"""Schedules as policies: one interface for the paper's schedule, baselines and agents.

A policy sees what an agent sees — the observation and ``info`` — and returns
an action of the environment's space. :class:`PaperPolicy` is the paper's
schedule, the only implementation of it in the library (the tests check it
epoch for epoch against a per-iteration driver): it issues the decisions of
the constants in :class:`~tnf_env.transform.schedule.PaperSchedule` as actions, placing
the first clustering and the start of cluster pruning at their epochs with
the onset components, and leaves the per-epoch rules (loss gate, settle test,
growth of the cluster-pruning fraction) to the environment, which applies
them as the schedule does. The :class:`~tnf_env.rollout.Policy` protocol and the one
episode loop, :func:`~tnf_env.rollout.rollout`, live in ``tnf_env``; :func:`run_episode`,
:func:`run_episodes` and :func:`evaluate_policy` are its common calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from tnf_env.actions import DecodedAction
from tnf_env.env import episode_of
from tnf_env.episode import Episode
from tnf_env.rollout import EpisodeResult, Policy, rollout  # the one episode loop


def session(env: gym.Env | Episode) -> Episode:
    """The episode a policy acts in: ``env`` itself when :func:`~tnf_env.rollout.rollout`
    hands a bare :class:`~tnf_env.episode.Episode`, else the one behind the environment.

    :raises TypeError: ``env`` is neither an Episode nor a (wrapped) TraNNsformer env.
    """
    return env if isinstance(env, Episode) else episode_of(env)


class ScheduleFollower:
    """Issues the decisions of a :class:`PaperSchedule` as environment actions.

    :param clustering: False gives the pruning-only baseline (same thresholds, no clusters).
    :param crossbar_size: the chip's crossbar size (default: the environment's reference).
    """

    def __init__(self, clustering: bool = True, crossbar_size: int | None = None) -> None:
        self.clustering = clustering
        self.crossbar_size = crossbar_size
        self.name = "paper" if clustering else "pruning"

    def reset(self, env: gym.Env | Episode) -> None:
        self.episode = ep = session(env)
        if ep.config.prune_unit != "paper":
            raise ValueError(
                f"the {self.name} schedule needs the setting prune_unit='paper' "
                f"(this environment has {ep.config.prune_unit!r})"
            )
        self.schedule = ep.task.paper_schedule().with_(clustering=self.clustering)
        self.size = self.crossbar_size or ep.task.reference_size
        self.steps = 0

    def prune_levels(self, n_layers: int) -> list[float]:
        """Prune level of every layer: 1, the paper's unit rate (``prune_unit="paper"``)."""
        return [1.0] * n_layers

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        k = len(self.episode.task.sub_epochs)
        first, n = self.steps * k, self.episode.task.n_layers  # the step's first iteration
        self.steps += 1
        s = self.schedule
        option, onset = "none", 0
        if s.clustering and first <= s.first_cluster_iteration < first + k:
            option, onset = "scic", s.first_cluster_iteration - first
        elif s.clustering and first > s.first_cluster_iteration:
            option = "settled"  # the environment applies the settle test per epoch
        cprune: float | None = None
        prune_onset = 0
        if s.clustering and s.first_cluster_prune_iteration < first + k:
            cprune = s.cluster_prune_initial
            prune_onset = max(0, s.first_cluster_prune_iteration - first)
        action = DecodedAction(
            prune_levels=self.prune_levels(n),
            cluster_options=[option] * n,
            cluster_prune=[cprune] * n,
            crossbar_sizes=[self.size] * n,
            cluster_onset=onset,
            cluster_prune_onset=prune_onset,
        )
        return self.episode.codec.encode(action)


class PaperPolicy(ScheduleFollower):
    """The paper's fixed schedule as a policy.

    :param crossbar_size: the chip's crossbar size (default: the environment's reference).
    """

    def __init__(self, crossbar_size: int | None = None) -> None:
        super().__init__(True, crossbar_size)


class PruningPolicy(ScheduleFollower):
    """The pruning-only baseline as a policy: the paper's thresholds, no clusters.

    :param crossbar_size: the chip's crossbar size (default: the environment's reference).
    """

    def __init__(self, crossbar_size: int | None = None) -> None:
        super().__init__(False, crossbar_size)


class RandomPolicy:
    """Uniformly random actions, never choosing to stop (so episodes use their budget).

    :param seed: seed of the action sampler.
    """

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, env: gym.Env | Episode) -> None:
        self.codec = session(env).codec

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray:
        return self.codec.with_group(self.rng.integers(0, self.codec.nvec), "stop", 0)


def fixed_policy(kind: str, crossbar_size: int | None = None, seed: int = 0) -> Policy:
    """The schedule of ``kind``: ``paper``, ``pruning`` (at ``crossbar_size``, None: the
    environment's reference) or ``random`` (actions seeded by ``seed``).

    :raises ValueError: another kind, naming the allowed ones.
    """
    if kind == "paper":
        return PaperPolicy(crossbar_size)
    if kind == "pruning":
        return PruningPolicy(crossbar_size)
    if kind == "random":
        return RandomPolicy(seed=seed)
    raise ValueError(f"unknown schedule kind {kind!r}: allowed paper, pruning, random")


def run_episode(env: gym.Env, policy: Policy, seed: int) -> EpisodeResult:
    """One episode of ``policy`` on ``env`` from ``reset(seed=seed)``
    (:func:`tnf_env.rollout.rollout` of one episode)."""
    return rollout([env], [policy], [seed])[0]


def run_episodes(
    envs: Sequence[gym.Env], policies: Sequence[Policy], seeds: Sequence[int], threads: int = 1
) -> list[EpisodeResult]:
    """Episode k of ``policies[k]`` on ``envs[k]`` from ``reset(seed=seeds[k])``, all at
    once (:func:`tnf_env.rollout.rollout` with every episode in one batch, a single one
    too): each result is :func:`run_episode`'s in float64. In float32 the stacked products
    round differently from one network's, and long episodes drift apart as another draw
    of the rounding.

    :param envs: distinct TraNNsformer environments (wrapped or not), one per episode.
    :param threads: threads that run the episodes' own work (pruning, clustering, costing)
        side by side between batched retrainings; results do not depend on it.
    """
    return rollout(envs, policies, seeds, batch=max(2, len(envs)), threads=threads)


def evaluate_policy(
    env: gym.Env,
    policy: Policy,
    seeds: Sequence[int],
    on_episode: Callable[[EpisodeResult], object] | None = None,
) -> list[EpisodeResult]:
    """One episode per seed on ``env``, one after the other; returns their results.

    :param on_episode: called with each episode's result as it ends (a progress bar).
    """
    return rollout([env] * len(seeds), [policy] * len(seeds), seeds, on_episode=on_episode)


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
    flags = [delivery_flag(i.get("delivered_step"), i.get("step")) for i in infos]
    out["untouched"] = float(np.mean([f == UNTOUCHED for f in flags]))
    out["fell_back"] = float(np.mean([f == FELL_BACK for f in flags]))
    return out


UNTOUCHED, FELL_BACK = "untouched", "fell back"


def delivery_flag(delivered_step: int | None, last_step: int | None) -> str:
    """What an episode's delivery says that its row alone does not: ``"untouched"`` (the
    dense start came back), ``"fell back"`` (an earlier step's network came back: the last
    step broke the floor) or ``""`` (its last step's network, or no episode at all).

    :param delivered_step: the step whose network the episode delivered.
    :param last_step: the episode's last step (None: the network came from no episode).
    """
    if last_step is None or delivered_step is None:
        return ""
    if delivered_step == 0:
        return UNTOUCHED
    return FELL_BACK if delivered_step < last_step else ""


def delivery_text(s: dict[str, float]) -> str:
    """The table's delivery cell of a :func:`summarize` result: what share of episodes
    delivered their last step's network, fell back to an earlier one, or to the start."""
    n = int(s.get("episodes", 1))
    untouched = round(s.get("untouched", 0.0) * n)
    fell = round(s.get("fell_back", 0.0) * n)
    parts = [f"last step {n - untouched - fell}/{n}"]
    parts += [f"fell back {fell}/{n}"] if fell else []
    parts += [f"untouched {untouched}/{n}"] if untouched else []
    return ", ".join(parts)


def delivery_warnings(rows: dict[str, dict[str, float]]) -> list[str]:
    """One console line per policy whose delivered networks did little or nothing."""
    out = []
    for name, s in rows.items():
        if s.get("untouched", 0.0) > 0 or s.get("fell_back", 0.0) > 0:
            out.append(f"warning: {name}: {delivery_text(s)}: episodes handed back an earlier "
                       "network than their last (fell back: the last step broke the floor; "
                       "untouched: the dense start); raise env.retrain_epochs or lower "
                       "env.rate_scale")
        if s["cost"] > 1.0:
            out.append(f"warning: {name}: its delivered networks cost {s['cost']:.2f}x the "
                       "original network's hardware: worse than not transforming it")
    return out


def comparison_table(rows: dict[str, dict[str, float]]) -> str:
    """A Markdown table of :func:`summarize` results, one row per policy."""
    lines = [
        "| policy | return (fraction saved) | accuracy | cost | area | energy | crossbars "
        "| floor met | delivered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in rows.items():
        # a spread over one episode says nothing
        spread = f" ± {s['return_std']:.3f}" if s.get("episodes", 2) > 1 else " (n = 1)"
        lines.append(
            f"| {name} | {s['return']:.3f}{spread} | {s['accuracy']:.4f} | "
            f"{s['cost']:.3f} | {s['area_ratio']:.3f} | {s['energy_ratio']:.3f} | "
            f"{s['crossbars']:.0f} | {100 * s['success']:.0f}% | {delivery_text(s)} |"
        )
    return "\n".join(lines)
