"""The one episode loop: policies act, environments step, until each episode ends.

Every caller that runs whole episodes (studies, searches, the black-box search, evaluation,
replay and :meth:`Episode.set_state <tnf_env.episode.Episode.set_state>`) goes through
:func:`rollout`. With ``batch=1`` each episode steps alone through its environment's
``step`` (wrappers included); with ``batch >= 2`` up to ``batch`` episodes step together
(:func:`~tnf_env.vector_env.step_together`: their networks retrain as one stacked
computation, each keeps its own rules), which gives the same episodes in float64.

>>> from tnf_env.task import Task
>>> task = Task.build(max_steps=2)
>>> stay = FixedActions([[0] * len(Episode(task).codec.nvec)] * 2)
>>> [r.steps for r in rollout([task], [stay], [0])]
[2]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from .env import TraNNsformerEnv
from .episode import Episode
from .observation import observe
from .task import Task
from .vector_env import step_together


class Policy(Protocol):
    """What every schedule offers: a name, a per-episode reset and an action per step.

    ``act`` may return None to leave the episode where it is (a state taken mid-episode
    replays its actions and stops there)."""

    name: str

    def reset(self, env: Any) -> None: ...

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray | None: ...


@dataclass
class EpisodeResult:
    """The end of one episode under a policy.

    :ivar actions: the actions taken, as lists of integers.
    :ivar final_info: the ``info`` of the last step (after the end: the delivered network's).
    :ivar rewards: the reward of each step.
    """

    policy: str
    seed: int
    episode_return: float
    steps: int
    actions: list[list[int]]
    final_info: dict[str, Any]
    rewards: list[float] = field(default_factory=list)


class FixedActions:
    """Plays back a fixed action sequence, then leaves the episode where it is.

    :param actions: the actions, each a sequence of integers.
    """

    name = "replay"

    def __init__(self, actions: Sequence[Sequence[int]]) -> None:
        self.actions = [np.asarray(a, dtype=np.int64) for a in actions]
        self.k = 0

    def reset(self, env: Any) -> None:
        self.k = 0

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> np.ndarray | None:
        if self.k == len(self.actions):
            return None
        self.k += 1
        return self.actions[self.k - 1]


Source = gym.Env | Episode | Task


class _Run:
    """One episode's driver: an environment (through its wrappers), a bare Episode (its
    observation read with :func:`~tnf_env.observation.observe`), or a Task (a fresh
    environment, closed at the end)."""

    def __init__(self, source: Source) -> None:
        self.owned = isinstance(source, Task)
        self.source: gym.Env | Episode = (
            TraNNsformerEnv(task=source) if isinstance(source, Task) else source)
        if isinstance(self.source, Episode):
            self.episode, self.env = self.source, None
        else:
            inner = self.source.unwrapped
            if not isinstance(inner, TraNNsformerEnv):
                raise TypeError(f"expected a TraNNsformer environment, got {type(inner).__name__}")
            self.episode, self.env = inner.episode, inner

    def start(self, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
        if isinstance(self.source, Episode):
            info = self.source.start(seed)
            return observe(self.source), info
        return self.source.reset(seed=seed)

    def step(self, action: np.ndarray) -> tuple:
        if isinstance(self.source, Episode):
            r = self.source.step(action)
            return observe(self.source), r.reward, r.terminated, r.truncated, r.info
        return self.source.step(action)

    def close(self) -> None:
        if self.owned:
            self.source.close()


def rollout(
    envs: Sequence[Source],
    policies: Sequence[Policy],
    seeds: Sequence[int],
    *,
    batch: int = 1,
    threads: int = 1,
    on_episode: Callable[[EpisodeResult], object] | None = None,
    on_step: Callable[[int, int], object] | None = None,
) -> list[EpisodeResult]:
    """Run episode k of ``policies[k]`` on ``envs[k]`` from a start with ``seeds[k]``.

    :param envs: per episode a TraNNsformer environment (wrapped or not; one may serve
        several episodes when ``batch`` is 1), a bare :class:`~tnf_env.episode.Episode`
        (``batch`` 1 only), or a :class:`~tnf_env.task.Task` (a fresh environment over
        it, closed after its episode).
    :param policies: per episode its policy (reset at the episode's start).
    :param seeds: per episode its seed.
    :param batch: 1 steps each episode alone through its environment's ``step``; B >= 2
        steps up to B episodes at a time together (their networks retrained as one
        stacked computation; a chunk of one too, so results do not depend on how the
        episodes divide): equal in float64, in float32 another draw of the rounding.
    :param threads: with ``batch >= 2``, threads that run the episodes' own work
        (pruning, clustering, costing) side by side; results do not depend on it.
    :param on_episode: called with each result in episode order once its chunk has ended
        (with ``batch`` 1: as each episode ends), e.g. a progress bar.
    :param on_step: called with ``(k, actions taken)`` after each step of episode k.
    :return: the results in episode order.
    :raises ValueError: mismatched lengths, a bad batch, or one environment for two
        episodes that step together.
    """
    n = len(envs)
    if len(policies) != n or len(seeds) != n:
        raise ValueError(
            f"rollout needs one policy and one seed per episode: got {n} environments, "
            f"{len(policies)} policies, {len(seeds)} seeds")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"invalid batch={batch!r}: allowed an integer >= 1")
    results: list[EpisodeResult] = []
    with ExitStack() as stack:
        map_each: Callable = (
            stack.enter_context(ThreadPoolExecutor(threads)).map if threads > 1 and batch > 1
            else map)
        for first in range(0, n, batch):
            chunk = range(first, min(n, first + batch))
            runs = [_Run(envs[k]) for k in chunk]
            try:
                results += _chunk(runs, [policies[k] for k in chunk], [seeds[k] for k in chunk],
                                  batch > 1, map_each, first, on_step)
            finally:
                for run in runs:
                    run.close()
            if on_episode is not None:
                for result in results[first:]:
                    on_episode(result)
    return results


def _chunk(
    runs: list[_Run], policies: Sequence[Policy], seeds: Sequence[int], together: bool,
    map_each: Callable, first: int, on_step: Callable[[int, int], object] | None,
) -> list[EpisodeResult]:
    """The episodes of one chunk: stepped together, or (``together`` False) the one
    episode of a chunk of one through its environment's ``step``."""
    if together:
        if len({id(r.episode) for r in runs}) != len(runs):
            raise ValueError("episodes stepped together need one environment per episode")
        if any(r.env is None for r in runs):
            raise ValueError("episodes stepped together need environments or tasks, "
                             "not bare episodes")
    obs: list[Any] = [None] * len(runs)
    infos: list[dict[str, Any]] = [{}] * len(runs)
    totals = [0.0] * len(runs)
    actions: list[list[list[int]]] = [[] for _ in runs]
    rewards: list[list[float]] = [[] for _ in runs]
    done = [False] * len(runs)
    for k, run in enumerate(runs):
        obs[k], infos[k] = run.start(seeds[k])
        policies[k].reset(run.env if together else run.source)  # together: unwrapped
    running = list(range(len(runs)))
    while running:
        stepping, chosen = [], []
        for k in running:
            a = policies[k].act(obs[k], infos[k])
            if a is None:
                done[k] = True
                continue
            stepping.append(k)
            chosen.append(np.asarray(a))
        if together:
            inner = [e for e in (runs[k].env for k in stepping) if e is not None]
            stepped = step_together(inner, chosen, map_each)
        else:
            stepped = [runs[k].step(a) for k, a in zip(stepping, chosen, strict=True)]
        for k, a, (o, r, term, trunc, info) in zip(stepping, chosen, stepped, strict=True):
            actions[k].append([int(x) for x in a])
            obs[k], infos[k] = o, info
            totals[k] += r
            rewards[k].append(float(r))
            if on_step is not None:
                on_step(first + k, len(actions[k]))
            done[k] = bool(term or trunc)
        running = [k for k in running if not done[k]]
    return [
        EpisodeResult(p.name, s, totals[k], len(actions[k]), actions[k], infos[k], rewards[k])
        for k, (p, s) in enumerate(zip(policies, seeds, strict=True))
    ]
