"""Benchmark schedules on one environment configuration: learned vs fixed vs search.

For each seed ``s`` (dense baseline and transformation seeded with ``s``; one
environment per baseline seed) and crossbar size, every method transforms
the same dense network with the same retraining budget per transformation,
through one study (:mod:`agents.experiments`: same sub-iterations, same
selection on validation, same scoring path):

- ``original``: the dense network, untouched;
- ``pruning`` / ``paper``: the pruning-only and the paper's schedule, each with
  its rate scale tuned on validation over ``rate_grid``; ``pruning (release)``
  and ``paper (release)`` keep the release's constants;
- ``random``: random search, ``random_candidates`` random schedules whose
  retraining adds up to one episode's budget, the cheapest on validation kept;
- ``ppo`` (or the run's other learner, ``a2c``...): the trained policy of ``--run``,
  deterministic;
- any other registered method asked for with ``--methods``.

Each method's chip is held at the row's crossbar size, so rows compare
schedules, not sizes. Choices are made on validation; the delivered networks
are scored on the test split, as ReLU and spiking networks, and costed with
the spikes they measure, in both accountings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tnf_env.model.spiking import SNNSettings
from tnf_env.settings import EnvConfig
from tnf_env.task import DEFAULT_MAX_STEPS

from . import methods as m
from .configs import BenchmarkConfig
from .episodes import EpisodeRunner
from .report import markdown, method_order, network_fields
from .report import write_outputs as write_report
from .results import results_table, spread_text
from .results import summarize as summarize_rows
from .study import Study, StudyContext

METHODS = (
    "original", "pruning (release)", "pruning", "paper (release)", "paper", "random", "ppo"
)
REFERENCES = ("original", "pruning", "paper")


def benchmark_methods(cfg: BenchmarkConfig, horizon: int, policy=None) -> list[m.Method]:
    """The study's methods: the defaults with this run's constants, then ``cfg.methods``.

    :param cfg: the benchmark.
    :param horizon: steps per episode.
    :param policy: a trained policy (``--run``), its rows named after its learner.
    """
    defaults: dict[str, m.Method] = {
        "original": m.Original(),
        "pruning (release)": m.PruningRelease.of_release(horizon, cfg.pruning_rate_scale),
        "pruning": m.PruningTuned(),
        "paper (release)": m.PaperRelease(),
        "paper": m.PaperTuned(),
        "random": m.RandomSearch(cfg.random_candidates),
    }
    if policy is not None:
        defaults[policy.name] = m.LearnedPolicy(policy, policy.name)
    names = cfg.methods or sorted(defaults, key=lambda k: METHODS.index(k) if k in METHODS
                                  else len(METHODS))
    return [defaults.get(k) or m.create(k) for k in names]


def run_benchmark(cfg: BenchmarkConfig, log: Callable[[str], None] = print,
                  journal: Path | None = None, resume: bool = False,
                  progress: bool = False) -> dict:
    """Run every method for every seed and crossbar size; returns the results document.

    :param journal: where finished seeds are recorded (``--resume`` continues after them).
    :param resume: continue the study the journal holds.
    :param progress: a bar on stderr over the rows, with an ETA (off with ``--quiet``).
    """
    # The settings alone: the tasks (data, baselines) are built per seed by the runners.
    config = EnvConfig.from_kwargs(**cfg.env)
    sizes = tuple(cfg.crossbar_sizes or config.crossbar_sizes)
    for n in sizes:
        if n not in config.crossbar_sizes:
            raise ValueError(
                f"crossbar size {n} is not among the environment's {config.crossbar_sizes}"
            )
    horizon, rate_scale = config.max_steps or DEFAULT_MAX_STEPS, config.rate_scale
    per_episode = cfg.budget or horizon * config.retrain_epochs
    step_epochs = per_episode / horizon
    snn = SNNSettings(timesteps=cfg.snn_timesteps)
    policy = None
    if cfg.run_dir:
        from ..rl.sb3_policy import SB3Policy

        policy = SB3Policy.load(cfg.run_dir)
    methods = benchmark_methods(cfg, horizon, policy)
    # The fixed schedules need the paper's pruning unit; a policy keeps the one it learned
    # with.
    # the settings validated above: each EpisodeRunner reads only what it overrides
    fixed_env = {"retrain_epochs": step_epochs, "prune_unit": "paper", "max_steps": horizon}
    fixed = EpisodeRunner({**cfg.env, **fixed_env}, snn, config.with_overrides(**fixed_env))
    learned = EpisodeRunner(
        {**cfg.env, "retrain_epochs": step_epochs}, snn,
        config.with_overrides(retrain_epochs=step_epochs),
    ) if policy else None
    grid = [rate_scale * g for g in cfg.rate_grid]
    context = StudyContext(fixed, sizes, grid, rate_scale, horizon, step_epochs,
                           learned=learned, batch=cfg.batch)
    t0 = time.perf_counter()
    study = Study(context, methods, cfg.seeds, sizes, log, identity={"benchmark": cfg.identity()},
                  advice="raise --budget (more retraining per step) or lower the rate "
                  "(--set env.rate_scale=...)", progress=progress)
    done = study.finish(journal, resume)
    first, rows = done.task, done.rows
    return {
        **network_fields(first),
        "seeds": list(cfg.seeds),
        "env": cfg.env,
        "tolerance": first.config.accuracy_tolerance,
        "budget_epochs_per_transformation": per_episode,
        "steps": horizon,
        "rate_grid": grid,
        "random_candidates": cfg.random_candidates,
        "run_dir": cfg.run_dir,
        "baseline": {
            "accuracy_val": first.baseline_accuracy,
            "accuracy_test": first.baseline.accuracy_test,
        },
        "rows": rows,
        "summary": summarize(rows),
        "wall_seconds": time.perf_counter() - t0,
        "budgets": done.budgets,
        **cfg.extra,
    }


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Mean and spread over seeds per (method, N), ratios to original, pruning and paper."""
    entries = summarize_rows(rows, method_order(rows, METHODS), REFERENCES)
    for e in entries:
        e["agent"] = e["method"]
    return entries


def results_markdown(doc: dict) -> str:
    grid = ", ".join(f"{g:g}" for g in doc["rate_grid"])
    return markdown(
        f"Benchmark on {doc['dataset']} {doc['topology']} ({doc['technology']}), "
        f"seeds {doc['seeds']}",
        f"Budget: {doc['budget_epochs_per_transformation']:g} retraining epochs per "
        f"transformation in {doc['steps']} steps; `pruning` and `paper` tune the rate scale "
        f"over {{{grid}}} on validation, random search runs {doc['random_candidates']} "
        "candidates sharing one budget (all their epochs under 'tuning'). Every network is "
        "the latest step of its episode meeting the floor (baseline - "
        f"{100 * doc['tolerance']:.1f} points) on validation; accuracies on the test split. "
        "Area and energy are ratios per seed to the reference method at the same crossbar "
        f"size, {spread_text(len(doc['seeds']))}.",
        results_table(doc["summary"], REFERENCES),
        f"Wall time {doc['wall_seconds']:.0f} s.",
    )


def _ppo_curve(doc: dict, path: Path) -> Path | None:
    from ..rl.learning_curve import learning_curve_figure

    return learning_curve_figure(Path(doc["run_dir"]), path) if doc.get("run_dir") else None


def write_outputs(doc: dict, out: Path) -> list[Path]:
    from .figures import cost_figure, pareto_figure

    return write_report(doc, results_markdown(doc), out, [
        ("cost_per_crossbar_size.png", cost_figure), ("pareto.png", pareto_figure),
        ("ppo_learning_curve.png", _ppo_curve),
    ])
