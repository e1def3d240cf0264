"""Equal-compute comparison: learned schedule vs tuned fixed schedules vs black-box search.

``train_agent.py compare`` answers "does the learned schedule beat the strongest fixed
schedules, and a black-box search, on equal compute?" for one configuration:

1. PPO trains (``agents.rl.ppo.train``) on the dense baselines of the training seeds (worker
   ``k`` on seed ``train_seeds[k % len]``), cold and, with ``--warm-start``, warm-started.
   Its compute is every retraining epoch of its training episodes, in-training
   evaluations and warm-start demonstrations.
2. Black-box search (Optuna TPE) and random search over the fixed schedule's constants
   (:mod:`agents.rl.blackbox`) run on the same training seeds with PPO's epochs as budget.
3. On each held-out seed (one study of :mod:`agents.experiments`, resumable seed by
   seed), ``pruning`` and ``paper`` are tuned on that network's validation split
   (:func:`agents.experiments.episodes.tune` over the rate grid, every crossbar size, the size of
   least validation cost kept; all grid epochs count), next to their release-constant
   rows; the searches' best schedules and the PPO policies run once.
4. Every delivered network is scored by :func:`tnf_env.measure.scoring.score_network`; per
   method: area, energy and cost ratios per seed to the best tuned fixed method with 95%
   bootstrap intervals, the probability of improvement over it, floor met, epochs and
   wall time (:mod:`agents.experiments.compare_report`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tnf_env
from tnf_env.model.spiking import SNN_TIMESTEPS, SNNSettings

from ..common.outputs import atomic_write
from ..rl.blackbox import ScheduleParams, run_search
from ..rl.config import TrainConfig, is_warm_start
from . import methods as em
from .configs import RATE_GRID
from .episodes import Experiment
from .study import JOURNAL, Lab, Study

WARM_STARTS = ("none", "paper", "pruning")
FIXED = ("pruning", "paper")


class CompareError(ValueError):
    """A comparison that cannot run as asked."""


@dataclass
class CompareConfig:
    """Settings of one ``compare`` run (each a command-line flag)."""

    train: TrainConfig  # PPO's configuration; its env settings are the environment's
    out: Path  # results.json, results.md, learning_curves.png, ppo/, search/
    train_seeds: tuple[int, ...] = (0, 1)  # baselines PPO trains and the searches tune on
    eval_seeds: tuple[int, ...] = (2, 3, 4)  # held-out baselines every method is scored on
    warm_start: str = "none"  # also train PPO warm-started from this schedule ("none": not)
    search_budget: float | None = None  # each search's budget, in its unit (None: cold PPO's)
    search_budget_unit: str = "epochs"  # "epochs" (retraining) or "cpu" (CPU-seconds: equal
    # compute where an epoch's cost differs, as at a fidelity level)
    rate_grid: tuple[float, ...] = RATE_GRID  # multiples of rate_scale the fixed tune tries
    snn_timesteps: int = SNN_TIMESTEPS  # SNN length of the scoring path
    search_seed: int = 0  # seed of the Optuna samplers
    reps: int = 2000  # bootstrap resamples
    batch: int = 1  # episodes run at once, retrained as one batch: B search trials drawn
    # together, a held-out seed's scoring episodes (1: one after the other)
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in results.json

    def identity(self) -> dict[str, Any]:
        """What a resumed comparison must share with the one it continues (``compare.json``)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
             if f.name not in ("out", "extra", "reps", "batch")}
        d["train"] = self.train.to_dict()
        if d["search_budget_unit"] == "epochs":  # as comparisons before the unit recorded it
            del d["search_budget_unit"]
        return json.loads(json.dumps(d))

    def __post_init__(self) -> None:
        for name in ("train_seeds", "eval_seeds"):
            seeds = getattr(self, name)
            if not seeds or len(set(seeds)) != len(seeds) or any(
                not isinstance(s, int) or s < 0 for s in seeds
            ):
                raise CompareError(f"{name} must be distinct integers >= 0, got {seeds!r}")
        if set(self.train_seeds) & set(self.eval_seeds):
            raise CompareError(
                f"held-out seeds {self.eval_seeds} overlap the training seeds {self.train_seeds}"
            )
        if self.train.n_envs % len(self.train_seeds):
            raise CompareError(
                f"PPO trains worker k on seed train_seeds[k % {len(self.train_seeds)}]: n_envs "
                f"({self.train.n_envs}) must be a multiple of the {len(self.train_seeds)} "
                "training seeds"
            )
        if not is_warm_start(self.warm_start):
            raise CompareError(f"warm_start must be one of {WARM_STARTS} or 'policy:DIR' (a "
                               f"trained policy's directory), got {self.warm_start!r}")
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise CompareError(f"batch must be an integer >= 1, got {self.batch!r}")
        if self.search_budget_unit not in ("epochs", "cpu"):
            raise CompareError("search_budget_unit must be 'epochs' or 'cpu', got "
                               f"{self.search_budget_unit!r}")
        if self.search_budget is not None and not self.search_budget > 0:
            raise CompareError(f"search_budget must be > 0 {self.search_budget_unit}, got "
                               f"{self.search_budget!r}")
        if not self.rate_grid or any(not g > 0 for g in self.rate_grid):
            raise CompareError(f"rate_grid must be numbers > 0, got {self.rate_grid!r}")
        if self.snn_timesteps < 1 or self.reps < 100:
            raise CompareError("snn_timesteps must be >= 1 and reps >= 100")


def ppo_epochs(timesteps: int, cfg: TrainConfig, horizon: int, step_epochs: float) -> float:
    """Retraining epochs of a PPO run: its training steps, its evaluations (every
    ``eval_every`` steps and once at the end) and its warm-start demonstrations.

    :param timesteps: environment steps the run took.
    :param cfg: the run's configuration.
    :param horizon: steps per episode.
    :param step_epochs: retraining epochs per step.
    """
    evals = timesteps // cfg.eval_every + 1
    demos = cfg.warm_start_episodes if cfg.warm_start != "none" else 0
    return float((timesteps + (evals * cfg.eval_episodes + demos) * horizon) * step_epochs)


def _train_ppo(cfg: CompareConfig, warm: str, horizon: int, step_epochs: float,
               log: Callable[[str], None], progress: bool = False) -> dict:
    from ..rl.ppo import train

    name = "ppo" if warm == "none" else f"ppo (warm {warm})"
    label = f"policy-{Path(warm.removeprefix('policy:')).name}" if warm.startswith(
        "policy:") else warm
    run = cfg.out / "ppo" / ("cold" if warm == "none" else f"warm-{label}")
    tc = dataclasses.replace(
        cfg.train, warm_start=warm, baseline_seeds=list(cfg.train_seeds),
        env={**cfg.train.env, "seed": cfg.train_seeds[0]},
    ).validate()
    t0, c0 = time.perf_counter(), _cpu_seconds()
    # a compare started again (--resume) continues a run a kill cut short, from its last
    # checkpoint, and a finished one from its end (no further steps)
    model = train(tc, run, resume=(run / "config.yaml").is_file(), progress_bar=progress)
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    steps = int(model.num_timesteps)
    log(f"{name}: {steps} steps in {wall:.0f} s")
    return {"method": name, "run_dir": str(run), "timesteps": steps, "wall_seconds": wall,
            "cpu_seconds": cpu, "epochs": ppo_epochs(steps, tc, horizon, step_epochs)}


def _cpu_seconds() -> float:
    """CPU-seconds of this process and of its children that have ended (PPO's worker
    processes end with its training)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def run_compare(cfg: CompareConfig, log: Callable[[str], None] = print,
                resume: bool = False, progress: bool = False) -> dict:
    """Run every method; returns the results document (see :mod:`.compare_report`).

    :param cfg: what to compare and where to write.
    :param log: progress lines.
    :param resume: continue the held-out seeds already scored (``cfg.out/study.jsonl``).
    :param progress: a bar on stderr over the held-out rows, with an ETA (off with
        ``--quiet``).
    """
    from ..rl.full_delivery import at_full
    from .compare_report import ppo_curve, summarize

    # PPO and the searches learn at the config's fidelity; every row is measured at full.
    train_env = dict(cfg.train.env)
    env = at_full(train_env)
    task = tnf_env.Task.build(**env)
    horizon, step_epochs = task.horizon, float(task.config.retrain_epochs)
    sizes, rate_scale = tuple(task.config.crossbar_sizes), float(task.config.rate_scale)
    dataset, topology = task.data.name, "-".join(map(str, task.topology))
    technology = task.technology.name
    cfg.out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    learners = [_train_ppo(cfg, "none", horizon, step_epochs, log, progress)]
    if cfg.warm_start != "none":
        learners.append(_train_ppo(cfg, cfg.warm_start, horizon, step_epochs, log, progress))
    by_cpu = cfg.search_budget_unit == "cpu"
    budget = cfg.search_budget or learners[0]["cpu_seconds" if by_cpu else "epochs"]
    searches = {}
    for sampler, name in (("tpe", "black-box (TPE)"), ("random", "random search")):
        (cfg.out / "search").mkdir(exist_ok=True)
        res = run_search({**train_env, "prune_unit": "paper"}, cfg.train_seeds,
                         None if by_cpu else budget, sampler, cfg.search_seed, log,
                         journal=cfg.out / "search" / f"{sampler}.jsonl", batch=cfg.batch,
                         progress=progress, budget_seconds=budget if by_cpu else None)
        atomic_write(cfg.out / "search" / f"{sampler}.json", json.dumps(res, indent=2))
        log(f"{name}: {len(res['trials'])} trials, {res['epochs']:g} epochs, "
            f"{res['cpu_seconds']:.0f} CPU-s in {res['wall_seconds']:.0f} s, best objective "
            f"{res['best']['objective']:.4f}")
        if sampler == "tpe" and not res["model_trials"]:
            log(f"warning: {name} ended within TPE's {res['startup_trials']} random start-up "
                "trials, so its row is a random search: raise --timesteps or --search-budget")
        searches[name] = res
    snn = SNNSettings(timesteps=cfg.snn_timesteps)
    fixed = Experiment({**env, "prune_unit": "paper"}, snn)
    learned = Experiment(env, snn)
    from ..rl.ppo import PPOPolicy

    # Fixed schedules tune on each held-out network and keep their crossbar size of least
    # validation cost; the searches' best schedules and the policies choose their own.
    # the release rows as benchmark and reproduce run them (2/3 the epochs at 0.7x)
    methods = [em.Original(), em.PruningTuned(), em.PruningRelease.of_release(horizon),
               em.PaperTuned(), em.PaperRelease()]
    methods += [em.SearchedSchedule(ScheduleParams.from_dict(res["best"]["params"]), name)
                for name, res in searches.items()]
    methods += [em.LearnedPolicy(PPOPolicy.load(m["run_dir"]), m["method"]) for m in learners]
    grid = [rate_scale * g for g in cfg.rate_grid]
    lab = Lab(fixed, sizes, grid, rate_scale, horizon, step_epochs, learned=learned,
              batch=cfg.batch)
    study = Study(lab, methods, cfg.eval_seeds, None, log, identity={"compare": cfg.identity()},
                  advice="raise the retraining per step (--set env.retrain_epochs=...) or "
                  "lower the rate (--set env.rate_scale=...)", progress=progress)
    done = study.finish(cfg.out / JOURNAL, resume)
    baseline, rows = done.task.baseline, done.rows
    eval_wall: dict[str, float] = {}
    for e in done.entries:
        for name, wall in e["walls"].items():
            eval_wall[name] = eval_wall.get(name, 0.0) + wall
    training = {m["method"]: m for m in learners}
    for name, res in searches.items():
        training[name] = {"method": name, "epochs": res["epochs"],
                          "cpu_seconds": res["cpu_seconds"],
                          "wall_seconds": res["wall_seconds"], "trials": len(res["trials"]),
                          "best_params": res["best"]["params"],
                          "startup_trials": res["startup_trials"],
                          "model_trials": res["model_trials"]}
    curves = {m["method"]: ppo_curve(Path(m["run_dir"]), step_epochs) for m in learners}
    for name, res in searches.items():
        curves[name] = [[t["epochs_spent"], t["objective"]] for t in res["trials"]]
    doc = {
        "dataset": dataset, "topology": topology, "technology": technology, "env": env,
        "train_env": train_env,
        "crossbar_sizes": list(sizes), "steps": horizon, "retrain_epochs_per_step": step_epochs,
        "train_seeds": list(cfg.train_seeds), "eval_seeds": list(cfg.eval_seeds),
        "rate_grid": grid, "search_budget_epochs": budget, "area_weight": task.config.area_weight,
        "baseline_accuracy_test": baseline.accuracy_test, "training": training,
        "eval_wall_seconds": eval_wall, "rows": rows, "curves": curves,
        "ppo_config": cfg.train.to_dict(), "wall_seconds": time.perf_counter() - t_all,
        "budgets": done.budgets, **cfg.extra,
    }
    doc["summary"] = summarize(doc, cfg.reps)
    return doc
