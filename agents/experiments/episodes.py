"""Run schedules as ``reproduce`` and ``benchmark`` do, through one path.

Every method is a policy run on the environment (the same sub-iterations,
the same selection on validation), and every finished network is scored by
:func:`tnf_env.measure.scoring.score_network`. So for one method, seed, crossbar size
and budget both commands produce the same row.

Seed ``s`` means: the dense baseline trained with seed ``s`` (the environment
setting ``seed``) and the transformation seeded with ``s`` (``reset(seed=s)``).

Fixed schedules are tuned on validation (:func:`tune`): each grid point of the threshold
rate scale runs once; the tuned method is the point whose delivered network
(the latest step meeting the floor on validation by the selection margin,
:mod:`tnf_env.measure.selection`) costs least under the
``best`` accounting at the row's crossbar size (:mod:`agents.search.baseline`, the
criterion ``search --target`` uses too); its row reports the retraining every grid point
spent.

The nouns: an :class:`EpisodeRunner` (tasks and environments of one set of settings, per
baseline seed) runs a policy, or an :class:`EpisodeJob` (a policy, a chip size, overrides)
batched, and hands back a :class:`DeliveredNetwork`; methods ask their study for schedule
episodes by name (:class:`ScheduleRequest`); :func:`tune` gives a :class:`TunedGrid`.
It reads environments through :func:`tnf_env.episode_of` (the Episode session), never an
environment's own attributes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import tnf_env
from tnf_env.measure.assessment import Assessment
from tnf_env.measure.scoring import ScoringData, score_network
from tnf_env.model.network import MaskedMLP
from tnf_env.model.spiking import SNNSettings
from tnf_env.rollout import EpisodeResult, Policy, rollout
from tnf_env.settings import EnvConfig
from tnf_env.transform.schedule import offline_clustering
from tnf_env.transform.transformation import Transformation

from ..rl.policies import fixed_policy
from ..search.baseline import tuning_key, validation_cost


@dataclass
class DeliveredNetwork:
    """The network one run handed back (an episode, a tile-pruning run, or a network made
    from another without retraining) and what that run spent."""

    net: MaskedMLP
    clusters: list[list]
    epochs: float  # retraining epochs the episode spent (all its steps)
    delivered_step: int
    rate_scale: float
    actions: list[list[int]] = field(default_factory=list)
    crossbar_size: int | None = None  # the chip's crossbar size at the end of the episode
    assessment: Assessment | None = None  # the delivered network as the episode measured it
    meets_floor: bool = True  # clears the floor with the selection margin on validation
    last_step: int | None = None  # the episode's last step (None: no episode made it)


class FixedSizePolicy:
    """A policy whose chip's crossbar-size components are always ``index``."""

    def __init__(self, policy: Policy, index: int) -> None:
        self.policy, self.index = policy, index
        self.name = policy.name

    def reset(self, env) -> None:
        self.policy.reset(env)
        self.codec = tnf_env.episode_of(env).codec

    def act(self, obs, info):
        return self.codec.with_size(self.policy.act(obs, info), self.index)


@dataclass
class EpisodeJob:
    """One episode to run (:meth:`EpisodeRunner.transform_many`): ``policy`` with the chip
    held at ``crossbar_size`` (None: the policy chooses) under the environment
    ``overrides``."""

    policy: Policy
    crossbar_size: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleRequest:
    """A schedule's episode that a method asks its study for, by name (run once per seed
    however many methods ask: :meth:`agents.experiments.study.StudyContext.episode`).

    :param kind: the policy: ``"paper"`` or ``"pruning"`` (the fixed schedules) or
        ``"random"`` (:class:`agents.rl.policies.RandomPolicy` seeded with ``policy_seed``).
    :param chip: the crossbar size the chip is held at (None: the policy's choice).
    :param overrides: environment settings of the episode (``rate_scale``, ``max_steps``...).
    :param record: record every step into the study's points (the fixed schedules).
    :param policy_seed: the random policy's seed.
    """

    kind: str
    chip: int | None
    overrides: dict[str, Any] = field(default_factory=dict)
    record: bool = False
    policy_seed: int = 0

    @property
    def key(self) -> tuple:
        """What makes two requests the same episode (``record`` does not)."""
        return ("episode", self.kind, self.chip, self.policy_seed,
                tuple(sorted(self.overrides.items())))

    def policy(self) -> Policy:
        """A fresh policy of the request's kind."""
        return fixed_policy(self.kind, self.chip, self.policy_seed)


class EpisodeRunner:
    """Runs policies' episodes on the tasks of one set of environment settings, one task
    per baseline seed (environments cached per seed and overrides), and scores the networks
    they deliver through the one scoring path.

    :param settings: environment settings (``seed`` is replaced per baseline seed).
    :param snn: spiking simulation used for test accuracy and measured energy.
    :param config: ``settings`` validated already (a command's check of them), so that
        they are validated once: a baseline seed's task reads only its seed again.
    """

    def __init__(self, settings: dict[str, Any], snn: SNNSettings | None = None,
                 config: EnvConfig | None = None) -> None:
        self.settings = dict(settings)
        self.snn = snn or SNNSettings()
        self._config = config
        self._envs: dict[str, Any] = {}
        self._tasks: dict[int, tnf_env.Task] = {}

    @property
    def config(self) -> EnvConfig:
        """The settings, validated (once: when first asked, unless given)."""
        if self._config is None:
            self._config = EnvConfig.from_kwargs(**self.settings)
        return self._config

    def task(self, seed: int) -> tnf_env.Task:
        """The task of baseline ``seed`` (built once; environments of every override
        share its data, baseline and references)."""
        if seed not in self._tasks:
            self._tasks[seed] = tnf_env.Task(self.config.with_overrides(seed=seed))
        return self._tasks[seed]

    def env(self, seed: int, **overrides: Any):
        """The environment for baseline ``seed`` with ``overrides`` (built once, then reused)."""
        settings = {**self.settings, **overrides, "seed": seed}
        key = repr(sorted(settings.items()))
        if key not in self._envs:
            task = self.task(seed).with_settings(**overrides)
            self._envs[key] = tnf_env.make(task=task, **settings)
        return self._envs[key]

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()
        self._tasks.clear()

    def episode(self, seed: int) -> tnf_env.Episode:
        """The episode session of baseline ``seed``'s environment without overrides: its
        task and settings are what the seed's networks are judged and scored by."""
        return tnf_env.episode_of(self.env(seed))

    def scoring_data(self, seed: int) -> ScoringData:
        session = self.episode(seed)
        task, cfg = session.task, session.config
        return ScoringData(
            task.x_train, task.x_val, task.y_val, task.x_test, task.y_test, task.floor,
            task.baseline.accuracy_test - cfg.accuracy_tolerance, self.snn,
            cfg.selection_margin,
        )

    def transform(
        self, policy: Policy, seed: int, crossbar_size: int | None, **overrides
    ) -> DeliveredNetwork:
        """One episode of ``policy`` on baseline ``seed`` with the chip held at
        ``crossbar_size`` (None: the policy chooses it); the network it delivers."""
        env = self.env(seed, **overrides)
        policy = self._sized(policy, env, crossbar_size)
        (result,) = rollout([env], [policy], [seed])
        return self._delivered(env, result)

    def transform_many(self, jobs: Sequence[EpisodeJob], seed: int, batch: int,
                       threads: int = 1) -> list[DeliveredNetwork]:
        """:meth:`transform` for each job, ``batch`` episodes at a time: their networks
        retrain as one batched computation (:func:`tnf_env.rollout.rollout` with ``batch``,
        whose ``threads`` overlap the episodes' own work).
        Each result is the job's :meth:`transform` in float64; in float32 the stacked
        products round differently from plain retraining, so results differ from
        :meth:`transform`'s (but not between batch sizes >= 2)."""
        if batch < 1:
            raise ValueError(f"episode batch must be >= 1, got {batch}")
        out: list[DeliveredNetwork] = []
        for start in range(0, len(jobs), batch):
            chunk = jobs[start:start + batch]
            envs = [self._fresh_env(seed, **job.overrides) for job in chunk]
            try:
                policies = [self._sized(job.policy, env, job.crossbar_size)
                            for job, env in zip(chunk, envs, strict=True)]
                results = rollout(envs, policies, [seed] * len(chunk), batch=max(2, batch),
                                  threads=threads)
                out += [self._delivered(e, r) for e, r in zip(envs, results, strict=True)]
            finally:
                for env in envs:
                    env.close()
        return out

    def _fresh_env(self, seed: int, **overrides: Any) -> tnf_env.TraNNsformerEnv:
        settings = {**self.settings, **overrides, "seed": seed}
        return tnf_env.TraNNsformerEnv(task=self.task(seed).with_settings(**overrides),
                                       **settings)

    @staticmethod
    def _sized(policy: Policy, env, crossbar_size: int | None) -> Policy:
        if crossbar_size is None:
            return policy
        sizes = tnf_env.episode_of(env).config.crossbar_sizes
        return FixedSizePolicy(policy, sizes.index(crossbar_size))

    @staticmethod
    def _delivered(env, res: EpisodeResult) -> DeliveredNetwork:
        session = tnf_env.episode_of(env)
        tr = session.network
        return DeliveredNetwork(
            net=copy.deepcopy(tr.net),
            clusters=[list(c) for c in tr.clusters],
            epochs=tr.epochs_trained,
            delivered_step=int(res.final_info.get("delivered_step", res.steps)),
            rate_scale=session.config.rate_scale,
            actions=res.actions,
            crossbar_size=int(tr.crossbar_sizes[0]),
            assessment=session.metrics["assessment"],
            meets_floor=bool(res.final_info.get("is_success", True)),
            last_step=int(res.final_info.get("step", res.steps)),
        )

    def original(self, seed: int) -> DeliveredNetwork:
        session = self.episode(seed)
        task = session.task
        return DeliveredNetwork(copy.deepcopy(task.baseline.net),
                                [[] for _ in range(task.n_layers)], 0.0, 0,
                                session.config.rate_scale)

    def offline(self, pruned: DeliveredNetwork, seed: int,
                crossbar_size: int) -> DeliveredNetwork:
        """SCIC once (quality 0.7) on a pruned network at ``crossbar_size``, no retraining."""
        task = self.episode(seed).task
        tr = Transformation(pruned.net, task.x_train, task.y_train,
                            [crossbar_size] * task.n_layers, task.recipe, seed=seed,
                            initial_loss=0.0)
        offline_clustering(tr)
        return DeliveredNetwork(copy.deepcopy(tr.net), [list(c) for c in tr.clusters],
                                pruned.epochs, pruned.delivered_step, pruned.rate_scale,
                                last_step=pruned.last_step)

    def selection_cost(self, d: DeliveredNetwork, seed: int, crossbar_size: int) -> float:
        """Validation-side cost used to tune (:func:`agents.search.baseline.validation_cost`):
        ``best`` accounting, expected activity, relative to the dense network at the same
        crossbar size."""
        session = self.episode(seed)
        return validation_cost(session.task, d.net, d.clusters, crossbar_size,
                               session.config.area_weight, d.assessment)

    def selection_key(self, d: DeliveredNetwork, seed: int,
                      crossbar_size: int) -> tuple[bool, float]:
        """What tuning minimises (:func:`agents.search.baseline.tuning_key`): networks that
        clear the floor with the selection margin first (an episode delivers its start when
        no step does), then validation cost."""
        return tuning_key(d.meets_floor, self.selection_cost(d, seed, crossbar_size))

    def score(self, d: DeliveredNetwork, seed: int, crossbar_size: int, **fields: Any) -> dict:
        task = self.episode(seed).task
        # the episode's last step: the row says when an earlier network was handed back
        last = {} if d.last_step is None else {"last_step": d.last_step}
        return score_network(
            d.net,
            d.clusters,
            [crossbar_size] * task.n_layers,
            task.technology,
            self.scoring_data(seed),
            seed,
            seed=seed,
            crossbar_size=crossbar_size,
            epochs=d.epochs,
            delivered_step=d.delivered_step,
            **last,
            rate_scale=d.rate_scale,
            **fields,
        )


@dataclass
class TunedGrid:
    """A fixed schedule tuned over a grid: every grid point's run and, per crossbar size,
    the one tuning chose."""

    runs: dict[float, DeliveredNetwork]  # by rate scale
    chosen: dict[int, DeliveredNetwork]  # by crossbar size
    epochs: float  # retraining all grid points spent


def tune(
    runner: EpisodeRunner,
    run: Callable[[float], DeliveredNetwork],
    grid: Sequence[float],
    seed: int,
    sizes: Sequence[int],
) -> TunedGrid:
    """Tune a fixed baseline on baseline ``seed``: run ``run(rate_scale)`` for each rate
    scale of ``grid``; per crossbar size choose the delivered network of least
    :meth:`EpisodeRunner.selection_key` (the one criterion of
    :mod:`agents.search.baseline`, which ``search --target`` applies too)."""
    runs = {r: run(r) for r in grid}

    def best(n: int) -> DeliveredNetwork:
        return min(runs.values(), key=lambda d: runner.selection_key(d, seed, n))

    chosen = {n: best(n) for n in sizes}
    return TunedGrid(runs, chosen, float(sum(d.epochs for d in runs.values())))
