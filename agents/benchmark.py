"""Benchmark schedules on one environment configuration: learned vs fixed vs search.

For each seed ``s`` (dense baseline and transformation seeded with ``s``; one
environment per baseline seed) and crossbar size, every method transforms
the same dense network with the same retraining budget per transformation,
through :mod:`agents.experiment` (same sub-iterations, same selection on
validation, same scoring path):

- ``original``: the dense network, untouched;
- ``pruning`` / ``paper``: the pruning-only and the paper's schedule, each with
  its rate scale tuned on validation over ``rate_grid``; ``pruning (release)``
  and ``paper (release)`` keep the release's constants;
- ``random``: random search, ``random_candidates`` random schedules whose
  retraining adds up to one episode's budget, the cheapest on validation kept;
- ``ppo``: a trained PPO policy (``--run``), deterministic.

Each method's chip is held at the row's crossbar size, so rows compare
schedules, not sizes. Choices are made on validation; the delivered networks
are scored on the test split, as ReLU and spiking networks, and costed with
the spikes they measure, in both accountings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tnf_env
from tnf_env.evaluation import SNNSettings

from .experiment import RATE_GRID, Delivered, Experiment, tune
from .policies import PaperPolicy, PruningPolicy, RandomPolicy
from .results import results_table, write_results
from .results import summarize as summarize_rows

METHODS = (
    "original", "pruning (release)", "pruning", "paper (release)", "paper", "random", "ppo"
)


@dataclass
class BenchmarkConfig:
    """Settings of one ``benchmark`` run (each a command-line flag)."""

    env: dict[str, Any]  # environment settings (from a training config)
    seeds: tuple[int, ...] = (0, 1, 2)  # baseline seeds, each also seeding its transformation
    crossbar_sizes: tuple[int, ...] | None = None  # sizes to compare at (None: the env's)
    budget: float | None = None  # retraining epochs per transformation (None: the env's)
    random_candidates: int = 4  # random schedules sharing one episode's budget
    rate_grid: tuple[float, ...] = RATE_GRID  # multiples of rate_scale tried when tuning
    pruning_rate_scale: float = 0.7  # the release's pruning-only rate factor (2/3 the epochs)
    snn_timesteps: int = 35  # SNN length for test accuracy and measured energy
    run_dir: str | None = None  # trained PPO run to evaluate (None: no ppo rows)
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in results.json


def run_benchmark(cfg: BenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """Run every method for every seed and crossbar size; returns the results document."""
    u = tnf_env.Task.build(**cfg.env)
    sizes = tuple(cfg.crossbar_sizes or u.config.crossbar_sizes)
    for n in sizes:
        if n not in u.config.crossbar_sizes:
            raise ValueError(
                f"crossbar size {n} is not among the environment's {u.config.crossbar_sizes}"
            )
    if cfg.random_candidates < 1:
        raise ValueError(f"random_candidates must be >= 1, got {cfg.random_candidates}")
    horizon, rate_scale = u.horizon, u.config.rate_scale
    per_episode = cfg.budget or horizon * u.config.retrain_epochs
    step_epochs = per_episode / horizon
    snn = SNNSettings(timesteps=cfg.snn_timesteps)
    # The fixed schedules need the paper's pruning unit; PPO keeps the one it learned with.
    fixed = Experiment(
        {**cfg.env, "retrain_epochs": step_epochs, "prune_unit": "paper", "max_steps": horizon},
        snn,
    )
    ppo, learned = None, None
    if cfg.run_dir:
        from .ppo import PPOPolicy

        ppo = PPOPolicy.load(cfg.run_dir)
        learned = Experiment({**cfg.env, "retrain_epochs": step_epochs}, snn)
    grid = [rate_scale * g for g in cfg.rate_grid]
    release_steps = max(1, round(horizon * 2 / 3))
    rows: list[dict] = []
    t0 = time.perf_counter()
    try:
        for seed in cfg.seeds:
            pruning = tune(
                fixed,
                lambda r, seed=seed: fixed.transform(
                    PruningPolicy(sizes[0]), seed, sizes[0], rate_scale=r
                ),
                grid,
                seed,
                sizes,
            )
            release_pruning = fixed.transform(
                PruningPolicy(sizes[0]), seed, sizes[0], max_steps=release_steps,
                rate_scale=cfg.pruning_rate_scale * rate_scale,
            )
            for n in sizes:
                paper = tune(
                    fixed,
                    lambda r, seed=seed, n=n: fixed.transform(
                        PaperPolicy(n), seed, n, rate_scale=r
                    ),
                    grid,
                    seed,
                    [n],
                )
                release_paper = paper.runs.get(rate_scale) or fixed.transform(
                    PaperPolicy(n), seed, n
                )
                chosen: list[tuple[str, Experiment, Delivered, dict]] = [
                    ("original", fixed, fixed.original(seed), {}),
                    ("pruning (release)", fixed, release_pruning, {}),
                    ("pruning", fixed, pruning.chosen[n], {"tuning_epochs": pruning.epochs}),
                    ("paper (release)", fixed, release_paper, {}),
                    ("paper", fixed, paper.chosen[n], {"tuning_epochs": paper.epochs}),
                    ("random", fixed, *_random_search(fixed, cfg, seed, n, step_epochs)),
                ]
                if ppo is not None:
                    chosen.append(("ppo", learned, learned.transform(ppo, seed, n), {}))
                for method, exp, d, extra in chosen:
                    rows.append(exp.score(d, seed, n, method=method, **extra))
                log(
                    f"seed {seed} N={n}: "
                    + ", ".join(
                        f"{r['method']} {r['area_mm2_best']:.4f} mm2"
                        for r in rows[-len(chosen):]
                    )
                )
        first = fixed.task(cfg.seeds[0])
    finally:
        fixed.close()
        if learned is not None:
            learned.close()
    return {
        "dataset": first.data.name,
        "topology": "-".join(map(str, first.topology)),
        "seeds": list(cfg.seeds),
        "technology": first.technology.name,
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
        **cfg.extra,
    }


def _random_search(
    exp: Experiment, cfg: BenchmarkConfig, seed: int, n: int, step_epochs: float
) -> tuple[Delivered, dict]:
    """The cheapest on validation of ``random_candidates`` random schedules that share one
    episode's retraining; its row reports what all candidates spent."""
    candidates = [
        exp.transform(
            RandomPolicy(seed=1000 * seed + k), seed, n,
            retrain_epochs=step_epochs / cfg.random_candidates,
        )
        for k in range(cfg.random_candidates)
    ]
    best = min(candidates, key=lambda d: exp.selection_key(d, seed, n))
    return best, {"tuning_epochs": float(sum(d.epochs for d in candidates))}


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Mean and spread over seeds per (method, N), ratios to original, pruning and paper."""
    entries = summarize_rows(rows, METHODS, ("original", "pruning", "paper"))
    for e in entries:
        e["agent"] = e["method"]
    return entries


def results_markdown(doc: dict) -> str:
    grid = ", ".join(f"{g:g}" for g in doc["rate_grid"])
    lines = [
        f"# Benchmark on {doc['dataset']} {doc['topology']} ({doc['technology']}), "
        f"seeds {doc['seeds']}",
        "",
        f"Budget: {doc['budget_epochs_per_transformation']:g} retraining epochs per "
        f"transformation in {doc['steps']} steps; `pruning` and `paper` tune the rate scale "
        f"over {{{grid}}} on validation, random search runs {doc['random_candidates']} "
        "candidates sharing one budget (all their epochs under 'tuning'). Every network is "
        "the latest step of its episode meeting the floor (baseline - "
        f"{100 * doc['tolerance']:.1f} points) on validation; accuracies on the test split. "
        "Area and energy are ratios per seed to the reference method at the same crossbar "
        "size, mean ± std over seeds.",
        "",
        results_table(doc["summary"], ("original", "pruning", "paper")),
        f"Wall time {doc['wall_seconds']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def write_outputs(doc: dict, out: Path) -> list[Path]:
    from .figures import cost_figure, learning_curve_figure, pareto_figure

    paths = write_results(doc, results_markdown(doc), out)
    paths.append(cost_figure(doc, out / "cost_per_crossbar_size.png"))
    paths.append(pareto_figure(doc, out / "pareto.png"))
    if doc.get("run_dir"):
        curve = learning_curve_figure(Path(doc["run_dir"]), out / "ppo_learning_curve.png")
        if curve is not None:
            paths.append(curve)
    return paths
