"""Black-box search over the fixed schedule's constants, counted in retraining epochs.

A point of the space is a :class:`ScheduleParams`: whether to cluster, the chip's
crossbar size, the threshold rate scale, one prune level (rate multiplier) per layer,
when clustering starts, when cluster pruning starts and its initial fraction, the
settle tolerance of reclustering and the growth of the cluster-pruning fraction. The
recluster qualities are the environment's own (no action or setting exposes them).

A trial runs the schedule once on each training baseline seed (fresh environments,
``reset(seed=s)``) and scores it by the mean of :func:`penalized_cost` of the
episodes' end (the environment's validation-side cost of the delivered network, plus
one when it misses the floor). Trials run until the next one would exceed the budget
of retraining epochs; every trial's epochs count.

This runs in-process with Optuna's ask-and-tell interface (TPE, or its random
sampler), not on Ray Tune like ``search --target paper``: the budget is counted
exactly in epochs across trials, a digits trial takes about 2 s so Ray's per-trial
overhead would be of the same order, and ``search``'s trials vary environment settings
on one baseline, not per-layer rates, onsets and chip size over several baselines.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

import tnf_env
from tnf_env.rollout import rollout

from ..common.outputs import Journal
from ..common.progress import progress_bar
from ..rl.policies import ScheduleFollower

SAMPLERS = ("tpe", "random")
INFEASIBLE = 1.0  # added to the cost of an episode that misses the accuracy floor
# TPE draws its first trials at random (Optuna's n_startup_trials, whose default this is):
# a search that ends within them is a random search
TPE_STARTUP = 10


@dataclass(frozen=True)
class ScheduleParams:
    """The fixed schedule's constants searched over (one point of the space)."""

    clustering: bool = True  # False: pruning only
    crossbar_size: int = 64  # the chip's crossbar size
    rate_scale: float = 10.0  # multiplies the paper's threshold rates (env setting)
    levels: tuple[float, ...] = (1.0, 1.0, 1.0)  # prune level per layer (rate multipliers)
    cluster_start: float = 0.2  # first SCIC at this fraction of the episode
    cluster_prune_start: float = 0.8  # cluster pruning from this fraction
    cluster_prune_initial: float = 0.005  # initial cluster-pruning fraction f
    settle_tolerance: float = 0.05  # recluster once the unclustered share settles (env)
    cluster_prune_growth: float = 0.01  # growth of f per improving epoch (env)

    def env_overrides(self) -> dict[str, Any]:
        """The environment settings this point sets (validated by ``tnf_env.make``)."""
        return {
            "prune_unit": "paper",
            "rate_scale": float(self.rate_scale),
            "settle_tolerance": float(self.settle_tolerance),
            "cluster_prune_growth": float(self.cluster_prune_growth),
        }

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["levels"] = list(self.levels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScheduleParams:
        """From JSON (``best_params.json``); unknown keys are an error."""
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown schedule parameter(s) {unknown}")
        return cls(**{**d, "levels": tuple(float(v) for v in d.get("levels", (1.0,) * 3))})


class ParamSchedule(ScheduleFollower):
    """The paper's schedule (or pruning only) with the constants of ``params``.

    :param params: the point of the search space to follow.
    """

    def __init__(self, params: ScheduleParams) -> None:
        super().__init__(params.clustering, params.crossbar_size)
        self.params = params
        self.name = "schedule"

    def reset(self, env) -> None:
        super().reset(env)
        p = self.params
        if len(p.levels) != self.episode.task.n_layers:
            raise ValueError(
                f"{len(p.levels)} prune levels for a network of {self.episode.task.n_layers} layers"
            )
        self.schedule = self.schedule.with_(
            cluster_start=p.cluster_start,
            cluster_prune_start=p.cluster_prune_start,
            cluster_prune_initial=p.cluster_prune_initial,
        )

    def prune_levels(self, n_layers: int) -> list[float]:
        return [float(v) for v in self.params.levels]


def penalized_cost(cost: float, success: bool) -> float:
    """The search objective of one episode: its cost, plus :data:`INFEASIBLE` below the floor."""
    return float(cost) + (0.0 if success else INFEASIBLE)


def space(sizes: Sequence[int], levels: Sequence[float], n_layers: int,
          rate_scale: float) -> dict[str, Any]:
    """The search space as Optuna distributions (what a trial draws, and what a resumed
    search declares its logged trials with).

    :param sizes: the crossbar sizes the chip may use.
    :param levels: the environment's prune levels (each layer picks one).
    :param n_layers: layers of the network.
    :param rate_scale: the environment's rate scale; searched over 0.2x to 5x of it.
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {
        "clustering": CategoricalDistribution([True, False]),
        "crossbar_size": CategoricalDistribution([int(n) for n in sizes]),
        "rate_scale": FloatDistribution(rate_scale / 5, rate_scale * 5, log=True),
        **{f"level_{i}": CategoricalDistribution([float(v) for v in levels])
           for i in range(n_layers)},
        "cluster_start": FloatDistribution(0.0, 1.0),
        "cluster_prune_start": FloatDistribution(0.0, 1.0),
        "cluster_prune_initial": FloatDistribution(1e-3, 0.05, log=True),
        "settle_tolerance": FloatDistribution(0.01, 0.2),
        "cluster_prune_growth": FloatDistribution(1e-3, 0.05, log=True),
    }


def params_of(raw: dict[str, Any], n_layers: int) -> ScheduleParams:
    """The point of a trial's raw Optuna parameters (``trial.params``)."""
    return ScheduleParams(
        clustering=bool(raw["clustering"]),
        crossbar_size=int(raw["crossbar_size"]),
        rate_scale=float(raw["rate_scale"]),
        levels=tuple(float(raw[f"level_{i}"]) for i in range(n_layers)),
        cluster_start=float(raw["cluster_start"]),
        cluster_prune_start=float(raw["cluster_prune_start"]),
        cluster_prune_initial=float(raw["cluster_prune_initial"]),
        settle_tolerance=float(raw["settle_tolerance"]),
        cluster_prune_growth=float(raw["cluster_prune_growth"]),
    )


def _episode_env(task: tnf_env.Task, settings: dict[str, Any], params: ScheduleParams,
                 seed: int) -> tnf_env.TraNNsformerEnv:
    """The environment of ``params``' episode on baseline ``seed``, sharing ``task``'s data."""
    overrides = {**params.env_overrides(), "seed": seed}
    return tnf_env.TraNNsformerEnv(task=task.with_settings(**overrides),
                                   **{**settings, **overrides})


def trial_objective(
    params: ScheduleParams, task: tnf_env.Task, settings: dict[str, Any], seeds: Sequence[int]
) -> dict:
    """One trial: one episode of ``params`` per baseline seed; the search's
    objective, costs and epochs spent.

    :param params: the schedule's constants.
    :param task: the task of ``settings`` (its data is shared by every episode).
    :param settings: environment settings (``seed`` replaced by each of ``seeds``).
    :param seeds: baseline seeds, each also seeding its episode.
    """
    costs, success, epochs = [], [], 0.0
    for s in seeds:  # one environment at a time: each is closed before the next is built
        env = _episode_env(task, settings, params, s)
        try:
            (result,) = rollout([env], [ParamSchedule(params)], [s])
            epochs += float(env.transformation.epochs_trained)
        finally:
            env.close()
        costs.append(float(result.final_info["cost"]))
        success.append(bool(result.final_info["is_success"]))
    return _result(costs, success, epochs)


def _result(costs: list[float], success: list[bool], epochs: float) -> dict:
    pairs = zip(costs, success, strict=True)
    objective = float(np.mean([penalized_cost(c, ok) for c, ok in pairs]))
    return {"objective": objective, "costs": costs, "success": success, "epochs": epochs}


def trial_objectives(
    group: Sequence[ScheduleParams], task: tnf_env.Task, settings: dict[str, Any],
    seeds: Sequence[int],
) -> list[dict]:
    """:func:`trial_objective` of several trials, all their episodes run at once (their
    networks retrained as one batched computation; equal in float64, in float32 another
    draw of the rounding).

    :param task: the task of ``settings`` (its data is shared by every episode).
    """
    envs = [_episode_env(task, settings, p, s) for p in group for s in seeds]
    policies = [ParamSchedule(p) for p in group for _ in seeds]
    episode_seeds = [s for _ in group for s in seeds]
    try:
        # one batch, a single episode too (as the float32 rounding of a group is drawn)
        results = rollout(envs, policies, episode_seeds, batch=max(2, len(envs)))
        epochs = [float(env.transformation.epochs_trained) for env in envs]
    finally:
        for env in envs:
            env.close()
    out, n = [], len(seeds)
    for i in range(len(group)):
        infos = [r.final_info for r in results[i * n:(i + 1) * n]]
        out.append(_result([float(x["cost"]) for x in infos],
                           [bool(x["is_success"]) for x in infos], sum(epochs[i * n:(i + 1) * n])))
    return out


def run_search(
    settings: dict[str, Any],
    seeds: Sequence[int],
    budget_epochs: float | None,
    sampler: str = "tpe",
    seed: int = 0,
    log: Callable[[str], None] = print,
    journal: str | Path | None = None,
    batch: int = 1,
    progress: bool = False,
    budget_seconds: float | None = None,
    log_every: int = 25,
) -> dict:
    """Search the schedule's constants with Optuna until ``budget_epochs`` are spent.

    Trial ``k`` draws its point with a sampler seeded by ``(seed, k)`` from the trials
    before it, so with a ``journal`` a search killed at any moment and started again with
    the same arguments goes on from its last finished trial and draws exactly what an
    uninterrupted search would: no trial lost or run twice, every epoch counted once
    (the epochs of the trial cut short are not counted: it runs again in full).

    :param settings: environment settings of the runs.
    :param seeds: training baseline seeds every trial runs on.
    :param budget_epochs: retraining epochs all trials may spend together.
    :param sampler: ``"tpe"`` (Optuna's TPE sampler) or ``"random"``.
    :param seed: seed of the sampler.
    :param log: progress lines.
    :param journal: a JSON-lines file: one line per finished trial, appended and synced
        as it finishes; an existing one (of the same search) is resumed.
    :param batch: trials drawn together (each from the trials of the groups before) whose
        episodes run at once, their networks retrained as one batched computation
        (:func:`trial_objectives`); 1: one trial after the other.
    :param progress: a bar on stderr over the budget's epochs, with an ETA.
    :param budget_seconds: instead of ``budget_epochs``: trials run until they have spent
        this many CPU-seconds of this process (``time.process_time``; the trial that
        crosses it counts whole, and the result says what was spent). For comparisons at
        equal CPU time, where an epoch's cost differs between the methods (a fidelity level).
    :param log_every: a progress line every this many trials (the bar's stand-in where
        there is none, as in a worker process).
    :returns: ``{"sampler", "budget_epochs", "epochs", "wall_seconds", "trials", "best",
        "startup_trials", "model_trials"}``; each trial records its parameters, objective
        and the epochs spent up to its end; ``model_trials`` counts the trials TPE drew
        from its model, after its ``startup_trials`` random ones (0 for random search).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if not seeds:
        raise ValueError("need at least one training seed")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
    if (budget_epochs is None) == (budget_seconds is None):
        raise ValueError("give one budget: budget_epochs or budget_seconds")
    for name, value in (("budget_epochs", budget_epochs), ("budget_seconds", budget_seconds)):
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    import optuna  # imported here: the command line's --help stays fast
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    task = tnf_env.Task.build(**settings)
    per_trial = len(seeds) * task.horizon * task.config.retrain_epochs
    n_layers = task.n_layers
    config = task.config
    dists = space(config.crossbar_sizes, config.prune_levels, n_layers, config.rate_scale)
    if budget_epochs is not None and budget_epochs < per_trial:
        raise ValueError(f"a budget of {budget_epochs:g} epochs is less than one trial "
                         f"({per_trial:g} epochs)")
    header = {"search": "blackbox", "settings": settings, "seeds": [int(s) for s in seeds],
              "budget_epochs": budget_epochs, "sampler": sampler, "seed": seed}
    if budget_seconds is not None:  # an epoch budget's header stays as journals had it
        header["budget_seconds"] = budget_seconds
    if batch > 1:  # one trial at a time keeps the header of journals written before
        header["batch"] = batch
    study = optuna.create_study(direction="minimize")
    with ExitStack() as stack:
        done: list[dict] = []
        book = None
        if journal is not None:
            book = stack.enter_context(Journal(
                Path(journal), header, "search", "settings, seeds, budget and sampler",
                lambda doc: isinstance(doc.get("raw"), dict)))
            done = book.trials
            if done:
                log(f"{sampler}: resuming after {len(done)} trials from {journal}")
        # Groups are trials [g * batch, (g + 1) * batch): the sampler sees the groups
        # before. A group cut short is drawn again (the same points) and only its
        # unfinished trials run.
        first = len(done) - len(done) % batch
        for t in done[:first]:  # the finished groups, as the sampler saw them
            study.add_trial(optuna.trial.create_trial(
                params=t["raw"], distributions=dists, value=t["objective"]))
        trials = done[:first]
        spent = trials[-1]["epochs_spent"] if trials else 0.0
        cpu = trials[-1].get("cpu_spent", 0.0) if trials else 0.0
        t0 = time.perf_counter() - (done[-1]["wall_seconds"] if done else 0.0)
        by_cpu = budget_seconds is not None
        budget = budget_seconds if budget_seconds is not None else budget_epochs
        assert budget is not None  # exactly one of the two, checked above
        bar = stack.enter_context(progress_bar(
            budget, f"{sampler} search", progress,
            unit="CPU-s" if by_cpu else "epoch"))
        bar.update(cpu if by_cpu else spent)

        def next_group() -> int:
            if by_cpu:
                return batch if cpu < budget else 0
            return min(batch, int((budget + 1e-9 - spent) // per_trial))

        while (n := next_group()) >= 1:
            asked = []
            for k in range(len(trials), len(trials) + n):
                study.sampler = _sampler(optuna, sampler, seed, k)
                asked.append(study.ask(dists))
            known = done[len(trials):len(trials) + n]
            for trial, old in zip(asked, known, strict=False):  # known: a cut group
                if trial.params != old["raw"]:
                    raise ValueError(f"{journal}: trial {old['number']} was drawn at another "
                                     "point: the journal is not this search's")
            group = [params_of(t.params, n_layers) for t in asked[len(known):]]
            c0 = time.process_time()
            if batch == 1:
                fresh = [trial_objective(p, task, settings, seeds) for p in group]
            else:
                fresh = trial_objectives(group, task, settings, seeds)
            for res in fresh:  # a group's trials ran together: each its share
                res["cpu_seconds"] = (time.process_time() - c0) / max(1, len(fresh))
            for trial, res in zip(asked, [*known, *fresh], strict=True):
                study.tell(trial, res["objective"])
                if len(trials) < len(done):  # finished before the search was stopped
                    trials.append(res)
                    bar.update(res.get("cpu_spent", cpu) - cpu if by_cpu
                               else res["epochs_spent"] - spent)
                    spent, cpu = res["epochs_spent"], res.get("cpu_spent", cpu)
                    continue
                spent += res["epochs"]
                cpu += res["cpu_seconds"]
                bar.update(res["cpu_seconds"] if by_cpu else res["epochs"])
                trials.append({"number": len(trials), "raw": trial.params,
                               "params": params_of(trial.params, n_layers).to_dict(), **res,
                               "epochs_spent": spent, "cpu_spent": cpu,
                               "wall_seconds": time.perf_counter() - t0})
                if book is not None:
                    book.append(trials[-1])
                if len(trials) % log_every == 0:
                    log(f"{sampler}: {len(trials)} trials, {spent:g} epochs, best "
                        f"{min(t['objective'] for t in trials):.4f}")
    best = min(trials, key=lambda t: t["objective"])
    return {"sampler": sampler, "budget_epochs": budget_epochs,
            "budget_seconds": budget_seconds, "cpu_seconds": cpu, "epochs": spent,
            "wall_seconds": time.perf_counter() - t0, "trials": trials, "best": best,
            "startup_trials": TPE_STARTUP if sampler == "tpe" else None,
            "model_trials": model_trials(len(trials), batch, sampler)}


def model_trials(n_trials: int, batch: int, sampler: str) -> int:
    """How many of a search's ``n_trials`` TPE drew from its model: trial ``k`` is drawn
    with the finished groups of ``batch`` trials before it, and TPE samples at random
    until :data:`TPE_STARTUP` trials have finished (none for the random sampler).

    >>> model_trials(12, 1, "tpe"), model_trials(12, 4, "tpe"), model_trials(12, 1, "random")
    (2, 0, 0)
    """
    if sampler != "tpe":
        return 0
    return sum(1 for k in range(n_trials) if (k // batch) * batch >= TPE_STARTUP)


def _sampler(optuna, kind: str, seed: int, k: int):
    """Trial ``k``'s sampler: its seed depends only on ``(seed, k)``, so a resumed search
    draws as an uninterrupted one does."""
    s = int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=s, n_startup_trials=TPE_STARTUP)
    return optuna.samplers.RandomSampler(seed=s)
