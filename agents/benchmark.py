"""Benchmark schedules on one environment configuration: learned vs the paper's heuristic.

For each seed and crossbar size every method transforms the same dense
network with the same per-episode retraining budget:

- ``original``: the dense network, untouched;
- ``pruning``: the pruning-only schedule (the paper's threshold rule, no clusters);
- ``paper``: the paper's fixed schedule as a policy;
- ``random``: random search, ``random_candidates`` random schedules whose
  retraining adds up to one episode's budget, the best chosen on validation;
- ``ppo``: a trained PPO policy (``--run``), deterministic.

Each method's chip is held at the row's crossbar size (the size component of
every action is fixed to it), so rows compare schedules, not sizes. Choices are
made on the validation split; the final networks are scored on the test split,
as ReLU and as spiking networks, and costed with the spikes they measure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tnf_env
from tnf_env.evaluation import SNNSettings, hardware_cost, snn_evaluate
from tnf_env.training import evaluate, to_tensors

from .policies import PaperPolicy, Policy, PruningPolicy, RandomPolicy, run_episode
from .results import summarize as summarize_rows

METHODS = ("original", "pruning", "paper", "random", "ppo")


@dataclass
class BenchmarkConfig:
    """Settings of one ``benchmark`` run (each a command-line flag)."""

    env: dict[str, Any]  # environment settings (from a training config)
    seeds: tuple[int, ...] = (0, 1, 2)  # episode seeds; the mean and spread are reported
    crossbar_sizes: tuple[int, ...] | None = None  # sizes to compare at (None: the env's)
    budget: float | None = None  # retraining epochs per transformation (None: the env's)
    random_candidates: int = 4  # random schedules sharing one episode's budget
    snn_timesteps: int = 35  # SNN length for test accuracy and measured energy
    run_dir: str | None = None  # trained PPO run to evaluate (None: no ppo rows)
    extra: dict[str, Any] = field(default_factory=dict)  # recorded in results.json


class FixedSize:
    """Wraps a policy so the chip's crossbar-size component is always ``index``."""

    def __init__(self, policy: Policy, index: int, slots: slice) -> None:
        self.policy, self.index, self.slots = policy, index, slots
        self.name = policy.name

    def reset(self, env) -> None:
        self.policy.reset(env)

    def act(self, obs, info):
        a = np.array(self.policy.act(obs, info), dtype=np.int64)
        a[self.slots] = self.index
        return a


def _episode_env(cfg: BenchmarkConfig, retrain_epochs: float, **overrides: Any) -> Any:
    settings = {**cfg.env, "retrain_epochs": retrain_epochs, **overrides}
    return tnf_env.make(**settings)


def _test_row(env, method: str, seed: int, n: int, snn: SNNSettings, info: dict) -> dict:
    """Score the episode's final network on the test split and cost it with its spikes."""
    u = env.unwrapped
    tr = u.transformation
    xs, ys = to_tensors(u.data.x_test, u.data.y_test)
    res = snn_evaluate(tr.net, u.x_train, xs, ys, snn, seed=seed)
    cost = hardware_cost(
        tr.masks(),
        tr.crossbar_sizes,
        u.technology,
        u.config.strategy,
        tr.clusters,
        res.input_spikes,
    )
    masks = tr.masks()
    return {
        "method": method,
        "agent": method,
        "seed": seed,
        "crossbar_size": n,
        "accuracy_val": info["accuracy"],
        "accuracy_test": evaluate(tr.net, xs, ys)[0],
        "accuracy_test_snn": res.accuracy,
        "meets_floor": bool(info["accuracy"] >= info["accuracy_floor"]),
        "area_mm2": cost.area_mm2,
        "energy_nj": cost.energy_nj,
        "crossbars": cost.n_crossbars,
        "utilization": cost.utilization,
        "sparsity": 1 - sum(int(m.sum()) for m in masks) / sum(m.size for m in masks),
        "epochs": tr.epochs_trained,
        "env_cost": info["cost"],
    }


def _original_row(env, seed: int, n: int, snn: SNNSettings) -> dict:
    obs, info = env.reset(seed=seed)
    u = env.unwrapped
    u.transformation.crossbar_sizes = [n] * u.n_layers
    info = dict(info, cost=float("nan"))
    return _test_row(env, "original", seed, n, snn, info)


def run_benchmark(cfg: BenchmarkConfig, log: Callable[[str], None] = print) -> dict:
    """Run every method for every seed and crossbar size; returns the results document."""
    base_env = tnf_env.make(**cfg.env)
    u = base_env.unwrapped
    sizes = tuple(cfg.crossbar_sizes or u.config.crossbar_sizes)
    for n in sizes:
        if n not in u.config.crossbar_sizes:
            raise ValueError(
                f"crossbar size {n} is not among the environment's {u.config.crossbar_sizes}"
            )
    per_episode = cfg.budget or u.horizon * u.config.retrain_epochs
    step_epochs = per_episode / u.horizon
    slots = slice(3 * u.n_layers, 3 * u.n_layers + u.codec.n_size_slots)
    snn = SNNSettings(timesteps=cfg.snn_timesteps)
    ppo = None
    if cfg.run_dir:
        from .ppo import PPOPolicy

        ppo = PPOPolicy.load(cfg.run_dir)
    # The fixed schedules need the paper's pruning unit; PPO keeps the one it learned with.
    env = _episode_env(cfg, step_epochs, prune_unit="paper")
    ppo_env = _episode_env(cfg, step_epochs) if ppo is not None else None
    rows: list[dict] = []
    t0 = time.perf_counter()
    for seed in cfg.seeds:
        for n in sizes:
            idx = u.config.crossbar_sizes.index(n)
            rows.append(_original_row(env, seed, n, snn))
            methods: list[tuple[str, Policy, Any]] = [
                ("pruning", PruningPolicy(n), env),
                ("paper", PaperPolicy(n), env),
            ]
            if ppo is not None:
                methods.append(("ppo", FixedSize(ppo, idx, slots), ppo_env))
            for name, policy, method_env in methods:
                res = run_episode(method_env, policy, seed)
                rows.append(_test_row(method_env, name, seed, n, snn, res.final_info))
            rows.append(_random_search(cfg, seed, n, idx, slots, step_epochs, snn))
            log(
                f"seed {seed} N={n}: "
                + ", ".join(
                    f"{r['method']} {r['env_cost'] if r['method'] != 'original' else 1:.3f}"
                    for r in rows[-(len(methods) + 2) :]
                )
            )
    return {
        "dataset": u.data.name,
        "topology": "-".join(map(str, u.topology)),
        "seed": list(cfg.seeds),
        "seeds": list(cfg.seeds),
        "technology": u.technology.name,
        "env": cfg.env,
        "budget_epochs_per_transformation": per_episode,
        "random_candidates": cfg.random_candidates,
        "run_dir": cfg.run_dir,
        "baseline": {
            "accuracy_val": u.baseline_accuracy,
            "accuracy_test": u.baseline.accuracy_test,
        },
        "rows": rows,
        "summary": summarize(rows),
        "wall_seconds": time.perf_counter() - t0,
        **cfg.extra,
    }


def _random_search(
    cfg: BenchmarkConfig,
    seed: int,
    n: int,
    idx: int,
    slots: slice,
    step_epochs: float,
    snn: SNNSettings,
) -> dict:
    """Best of ``random_candidates`` random schedules sharing one episode's retraining."""
    env = _episode_env(cfg, step_epochs / cfg.random_candidates, prune_unit="paper")
    best, spent = None, 0.0
    for k in range(cfg.random_candidates):
        policy = FixedSize(RandomPolicy(seed=1000 * seed + k), idx, slots)
        res = run_episode(env, policy, seed)
        spent += env.unwrapped.transformation.epochs_trained  # an early end spends less
        key = (res.final_info["is_success"], -res.final_info["cost"])  # validation only
        if best is None or key > best[0]:
            best = (key, res.actions)
    # Replay the chosen schedule to score its network on the test split.
    from .replay import ReplayPolicy

    res = run_episode(env, ReplayPolicy(best[1]), seed)
    row = _test_row(env, "random", seed, n, snn, res.final_info)
    row["epochs"] = spent  # what the search spent in total (the replay only scores)
    return row


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Mean and spread over seeds per (method, N), ratios to original and to the paper."""
    entries = summarize_rows(rows, METHODS, ("original", "paper"))
    for e in entries:
        e["agent"] = e["method"]
    return entries


def results_markdown(doc: dict) -> str:
    lines = [
        f"# Benchmark on {doc['dataset']} {doc['topology']} ({doc['technology']}), "
        f"seeds {doc['seeds']}",
        "",
        f"Retraining budget per transformation: {doc['budget_epochs_per_transformation']:g} "
        f"epochs (random search: {doc['random_candidates']} candidates sharing it). "
        "Ratios are per seed against the original network and the paper's schedule at the "
        "same crossbar size; accuracies on the test split; floor judged on validation.",
        "",
        "| N | method | area vs original | energy vs original | area vs paper | "
        "energy vs paper | test acc. | SNN test acc. | floor met | crossbars | epochs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in doc["summary"]:

        def r(k: str, e: dict = e) -> str:
            return f"{e[k]:.3f} ± {e[k + '_std']:.3f}" if k in e else "-"

        lines.append(
            f"| {e['crossbar_size']} | {e['method']} | {r('area_mm2_vs_original')} | "
            f"{r('energy_nj_vs_original')} | {r('area_mm2_vs_paper')} | "
            f"{r('energy_nj_vs_paper')} | {100 * e['accuracy_test']:.2f}% | "
            f"{100 * e['accuracy_test_snn']:.2f}% | {e['meets_floor']} | "
            f"{e['crossbars']:.0f} | {e['epochs']:.1f} |"
        )
    lines.append(f"\nWall time {doc['wall_seconds']:.0f} s.")
    return "\n".join(lines) + "\n"


def write_outputs(doc: dict, out: Path) -> list[Path]:
    from .figures import cost_figure, learning_curve_figure, pareto_figure

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "results.md"]
    paths[0].write_text(json.dumps(doc, indent=2))
    paths[1].write_text(results_markdown(doc))
    paths.append(cost_figure(doc, out / "cost_per_crossbar_size.png"))
    paths.append(pareto_figure(doc, out / "pareto.png"))
    if doc.get("run_dir"):
        curve = learning_curve_figure(Path(doc["run_dir"]), out / "ppo_learning_curve.png")
        if curve is not None:
            paths.append(curve)
    return paths
