"""Equal-compute comparison: learned schedule vs tuned fixed schedules vs black-box search.

``train_agent.py compare`` answers "does the learned schedule beat the strongest fixed
schedules, and a black-box search, on equal compute?" for one configuration:

1. PPO (or the config's other ``learner``) trains (``agents.rl.training.train``) on the
   dense baselines of the training seeds (worker ``k`` on seed ``train_seeds[k % len]``),
   cold and, with ``--warm-start``, warm-started.
   Its compute is every retraining epoch of its training episodes, in-training
   evaluations and warm-start demonstrations.
2. Black-box search (Optuna TPE) and random search over the fixed schedule's constants
   (:mod:`agents.search.blackbox`) run on the same training seeds with PPO's epochs as budget.
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

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tnf_env
from tnf_env.model.spiking import SNNSettings

from ..common.outputs import atomic_write
from ..rl.config import TrainConfig
from ..search.blackbox import ScheduleParams, run_search
from . import methods as em
from .configs import CompareConfig, CompareError
from .episodes import EpisodeRunner
from .study import JOURNAL, Study, StudyContext

FIXED = ("pruning", "paper")


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
    """Train the configuration's learner (PPO by default) cold or warm-started from
    ``warm``; its rows and its directory under ``out`` are named after the learner."""
    from ..rl.training import train

    learner = cfg.train.learner
    name = learner if warm == "none" else f"{learner} (warm {warm})"
    label = f"policy-{Path(warm.removeprefix('policy:')).name}" if warm.startswith(
        "policy:") else warm
    run = cfg.out / learner / ("cold" if warm == "none" else f"warm-{label}")
    tc = cfg.train.model_copy(update=dict(
        warm_start=warm, baseline_seeds=list(cfg.train_seeds),
        env={**cfg.train.env, "seed": cfg.train_seeds[0]},
    ))
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


FIXED_GROUP = ("original", "pruning", "pruning (release)", "paper", "paper (release)")


def compare_methods(cfg: CompareConfig, horizon: int, searches: dict[str, dict],
                    learners: list[dict]) -> list[em.Method]:
    """The rows of a comparison, in order: the original network, the tuned and release
    fixed schedules, the extra baselines, the searches' best schedules, the trained PPO
    policies and the policies run zero-shot.

    :param cfg: the comparison.
    :param horizon: steps per episode.
    :param searches: per search row name, its best constants (``ScheduleParams`` as a dict).
    :param learners: PPO's runs (``method`` and ``run_dir`` each).
    """
    from ..rl.sb3_policy import SB3Policy

    methods = [em.Original(), em.PruningTuned(), em.PruningRelease.of_release(horizon),
               em.PaperTuned(), em.PaperRelease()]
    methods += [em.create(m) for m in cfg.methods if not m.startswith("policy:")]
    methods += [em.SearchedSchedule(ScheduleParams.from_dict(params), name)
                for name, params in searches.items()]
    methods += [em.LearnedPolicy(SB3Policy.load(m["run_dir"]), m["method"]) for m in learners]
    methods += [em.LearnedPolicy(SB3Policy.load(m.removeprefix("policy:")),
                                 f"{Path(m.removeprefix('policy:')).name} (zero-shot)")
                for m in cfg.methods if m.startswith("policy:")]
    return methods


def eval_study(cfg: CompareConfig, seeds: list[int], names: list[str] | None,
               searches: dict[str, dict], learners: list[dict], journal: Path, resume: bool,
               log: Callable[[str], None] = print, progress: bool = False,
               log_methods: bool = False) -> dict:
    """Score the methods ``names`` (None: all) on the held-out ``seeds``, journalled in
    ``journal``; returns ``{"entries", "budgets", "baseline_accuracy_test"}``.

    Fixed schedules tune on each held-out network and keep their crossbar size of least
    validation cost; the searches' best schedules and the policies choose their own.
    """
    from ..rl.full_delivery import at_full

    env = at_full(dict(cfg.train.env))
    task = tnf_env.Task.build(**env)
    horizon, step_epochs = task.horizon, float(task.config.retrain_epochs)
    sizes = cfg.fixed_sizes or tuple(task.config.crossbar_sizes)
    snn = SNNSettings(timesteps=cfg.snn_timesteps)
    methods = [m for m in compare_methods(cfg, horizon, searches, learners)
               if names is None or m.name in names]
    grid = [float(task.config.rate_scale) * g for g in cfg.rate_grid]
    fixed = EpisodeRunner({**env, "prune_unit": "paper"}, snn,
                          task.config.with_overrides(prune_unit="paper"))
    context = StudyContext(fixed, sizes, grid, float(task.config.rate_scale), horizon,
                           step_epochs, learned=EpisodeRunner(env, snn, task.config),
                           batch=cfg.batch)
    study = Study(context, methods, seeds, None, log, identity={"compare": cfg.identity()},
                  advice="raise the retraining per step (--set env.retrain_epochs=...) or "
                  "lower the rate (--set env.rate_scale=...)", progress=progress,
                  log_methods=log_methods)
    done = study.finish(journal, resume)
    return {"entries": done.entries, "budgets": done.budgets,
            "baseline_accuracy_test": done.task.baseline.accuracy_test}


def _searches(cfg: CompareConfig, train_env: dict, budget: float,
              log: Callable[[str], None], progress: bool) -> dict[str, dict]:
    """TPE and random search on the training seeds, ``budget`` each (side by side in two
    processes when ``cfg.workers`` > 1)."""
    from .workers import pool, search_job

    by_cpu = cfg.search_budget_unit == "cpu"
    (cfg.out / "search").mkdir(exist_ok=True)
    kwargs: list[dict[str, Any]] = [
        dict(settings={**train_env, "prune_unit": "paper"}, seeds=cfg.train_seeds,
             budget_epochs=None if by_cpu else budget, sampler=sampler,
             seed=cfg.search_seed, journal=cfg.out / "search" / f"{sampler}.jsonl",
             batch=cfg.batch, budget_seconds=budget if by_cpu else None)
        for sampler in ("tpe", "random")]
    if cfg.workers > 1:
        with pool(min(2, cfg.workers)) as ex:
            results = list(ex.map(search_job, kwargs))
    else:
        results = [run_search(log=log, progress=progress, **k) for k in kwargs]
    searches = {}
    for k, res, name in zip(kwargs, results, ("black-box (TPE)", "random search"),
                            strict=True):
        atomic_write(cfg.out / "search" / f"{k['sampler']}.json", json.dumps(res, indent=2))
        log(f"{name}: {len(res['trials'])} trials, {res['epochs']:g} epochs, "
            f"{res['cpu_seconds']:.0f} CPU-s in {res['wall_seconds']:.0f} s, best objective "
            f"{res['best']['objective']:.4f}")
        if k["sampler"] == "tpe" and not res["model_trials"]:
            log(f"warning: {name} ended within TPE's {res['startup_trials']} random start-up "
                "trials, so its row is a random search: raise --timesteps or --search-budget")
        searches[name] = res
    return searches


def _evaluate(cfg: CompareConfig, names: list[str], searches: dict[str, dict],
              learners: list[dict], resume: bool, log: Callable[[str], None],
              progress: bool) -> dict:
    """Every method on every held-out seed: in this process (one journal,
    ``study.jsonl``), or with ``cfg.workers`` > 1 as jobs of one seed and one group of
    methods each (the fixed schedules; the rest), ``eval/<job>.jsonl`` each."""
    from .workers import eval_job, pool

    best = {n: r["best"]["params"] for n, r in searches.items()}
    if cfg.workers == 1:
        return eval_study(cfg, list(cfg.eval_seeds), None, best, learners,
                          cfg.out / JOURNAL, resume, log, progress)
    rest = [n for n in names if n not in FIXED_GROUP]
    groups = {"fixed": list(FIXED_GROUP), **({"other": rest} if rest else {})}
    (cfg.out / "eval").mkdir(exist_ok=True)
    jobs = [dict(cfg=cfg, seeds=[s], names=g, searches=best, learners=learners,
                 journal=cfg.out / "eval" / f"seed{s}-{label}.jsonl", resume=resume)
            for s in cfg.eval_seeds for label, g in groups.items()]
    log(f"held-out seeds: {len(jobs)} jobs on {cfg.workers} processes")
    with pool(cfg.workers) as ex:
        done = list(ex.map(eval_job, jobs))
    merged: dict[int, dict] = {}
    for d in done:
        for e in d["entries"]:
            m = merged.setdefault(e["seed"], {"seed": e["seed"], "rows": [], "walls": {},
                                              "cpu": {}})
            m["rows"] += e["rows"]
            m["walls"].update(e["walls"])
            m["cpu"].update(e.get("cpu", {}))
    order = {n: k for k, n in enumerate(names)}
    entries = []
    for s in cfg.eval_seeds:
        e = merged[s]
        e["rows"].sort(key=lambda r: order[r["method"]])
        entries.append(e)
    return {"entries": entries,
            "budgets": {k: v for d in done for k, v in d["budgets"].items()},
            "baseline_accuracy_test": done[0]["baseline_accuracy_test"]}


def run_compare(cfg: CompareConfig, log: Callable[[str], None] = print,
                resume: bool = False, progress: bool = False) -> dict:
    """Run every method; returns the results document (see :mod:`.compare_report`).

    :param cfg: what to compare and where to write.
    :param log: progress lines.
    :param resume: continue the held-out seeds already scored (``cfg.out/study.jsonl``,
        or per job ``cfg.out/eval/``).
    :param progress: a bar on stderr over the held-out rows, with an ETA (off with
        ``--quiet``; worker processes print their lines only).
    """
    from ..rl.full_delivery import at_full
    from .compare_report import ppo_curve, summarize

    # PPO and the searches learn at the config's fidelity; every row is measured at full.
    train_env = dict(cfg.train.env)
    env = at_full(train_env)
    task = tnf_env.Task.build(**env)
    horizon, step_epochs = task.horizon, float(task.config.retrain_epochs)
    sizes, rate_scale = tuple(task.config.crossbar_sizes), float(task.config.rate_scale)
    if cfg.fixed_sizes is not None and not set(cfg.fixed_sizes) <= set(sizes):
        raise CompareError(f"fixed_sizes {list(cfg.fixed_sizes)} must be among the "
                           f"config's crossbar sizes {list(sizes)}")
    dataset, topology = task.data.name, "-".join(map(str, task.topology))
    technology = task.technology.name
    cfg.out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    learners = [_train_ppo(cfg, "none", horizon, step_epochs, log, progress)] if cfg.cold else []
    if cfg.warm_start != "none":
        learners.append(_train_ppo(cfg, cfg.warm_start, horizon, step_epochs, log, progress))
    by_cpu = cfg.search_budget_unit == "cpu"
    budget = cfg.search_budget or learners[0]["cpu_seconds" if by_cpu else "epochs"]
    searches = _searches(cfg, train_env, budget, log, progress)
    names = [m.name for m in compare_methods(cfg, horizon, {n: r["best"]["params"]
                                                            for n, r in searches.items()},
                                             learners)]
    done = _evaluate(cfg, names, searches, learners, resume, log, progress)
    rows = [r for e in done["entries"] for r in e["rows"]]
    eval_wall: dict[str, float] = {}
    eval_cpu: dict[str, float] = {}
    for e in done["entries"]:
        for name, wall in e["walls"].items():
            eval_wall[name] = eval_wall.get(name, 0.0) + wall
        for name, cpu in e.get("cpu", {}).items():
            eval_cpu[name] = eval_cpu.get(name, 0.0) + cpu
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
        "crossbar_sizes": list(sizes), "fixed_sizes": list(cfg.fixed_sizes or sizes),
        "steps": horizon, "retrain_epochs_per_step": step_epochs,
        "train_seeds": list(cfg.train_seeds), "eval_seeds": list(cfg.eval_seeds),
        "rate_grid": [rate_scale * g for g in cfg.rate_grid], "search_budget_epochs": budget,
        "search_budget_unit": cfg.search_budget_unit, "area_weight": task.config.area_weight,
        "baseline_accuracy_test": done["baseline_accuracy_test"], "training": training,
        "eval_wall_seconds": eval_wall, "eval_cpu_seconds": eval_cpu, "rows": rows,
        "curves": curves, "ppo_config": cfg.train.to_dict(), "workers": cfg.workers,
        "wall_seconds": time.perf_counter() - t_all, "budgets": done["budgets"], **cfg.extra,
    }
    doc["summary"] = summarize(doc, cfg.reps)
    return doc
