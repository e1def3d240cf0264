"""The paper's experiment: original vs pruning vs offline clustering vs TraNNsformer.

Every method runs through :mod:`agents.experiment` (the environment, its
sub-iterations and its selection on validation) and is scored by the one
scoring path, in both accountings. For each seed ``s`` (dense baseline and
transformation seeded with ``s``) and crossbar size:

- ``original``: the dense network;
- ``pruning``: the pruning-only schedule, its rate scale tuned on validation;
- ``pruning (release)``: the release's pruning run (2/3 of the epochs, 0.7x the rate);
- ``offline``: SCIC once on the tuned pruning network, without retraining;
- ``paper``: TraNNsformer, the paper's schedule with its rate scale tuned on validation;
- ``paper (release)``: the paper's schedule at the project's rate scale
  (docs/design.md, section 3).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tnf_env.evaluation import SNNSettings
from tnf_env.network import format_topology
from tnf_env.selection import DEFAULT_SELECTION_MARGIN

from .experiment import RATE_GRID, Delivered, Experiment, tune
from .frontier import StepRecorder, floor_rates, iso_accuracy, iso_figure, iso_table
from .netstore import NetworkStore
from .policies import PaperPolicy, PruningPolicy
from .results import results_table, write_results
from .results import summarize as summarize_rows

METHODS = ("original", "pruning (release)", "pruning", "offline", "paper (release)", "paper")


@dataclass
class ReproduceConfig:
    """Settings of one ``reproduce`` run (each a command-line flag)."""

    dataset: str = "digits"  # dataset name
    data_dir: str | None = None  # directory of the dataset files
    topology: str | None = None  # layer widths (None: the dataset's default)
    crossbar_sizes: tuple[int, ...] = (16, 32, 64, 128)  # crossbar sizes N to evaluate
    technology: str = "resparc"  # hwmodel technology preset or file
    seeds: tuple[int, ...] = (0,)  # baseline and transformation seeds
    epochs: int = 60  # retraining epochs of a transformation (the release's E)
    steps: int = 12  # environment steps the epochs are split into (selection granularity)
    pruning_epochs: int | None = None  # release pruning epochs (None: 2/3 E, the release's 40/60)
    rate_scale: float = 10.0  # multiplies the paper's threshold rates (10: tuned on mnist-10k val)
    rate_grid: tuple[float, ...] = RATE_GRID  # multiples of rate_scale tried when tuning
    pruning_rate_scale: float = 0.7  # the release's pruning-only rate factor
    tolerance: float | None = None  # floor = baseline val accuracy - this (None: dataset's)
    selection_margin: float = DEFAULT_SELECTION_MARGIN  # k: validation accuracy - k SE >= floor
    snn_timesteps: int = 35  # SNN simulation length for accuracy and measured energy
    cache_dir: str | None = None  # baseline cache directory
    device: str = "cpu"  # torch device of retraining and evaluation (cpu, cuda, mps, auto)
    save_networks: str | None = None  # directory to save every delivered network in

    def env_settings(self) -> dict:
        """The environment every method of the run steps."""
        if self.epochs % self.steps:
            raise ValueError(f"epochs ({self.epochs}) must be a multiple of steps ({self.steps})")
        return {
            "dataset": self.dataset,
            "data_dir": self.data_dir,
            "topology": self.topology,
            "crossbar_sizes": tuple(self.crossbar_sizes),
            "technology": self.technology,
            "accuracy_tolerance": self.tolerance,
            "selection_margin": self.selection_margin,
            "retrain_epochs": self.epochs // self.steps,
            "max_steps": self.steps,
            "rate_scale": self.rate_scale,
            "prune_unit": "paper",
            "allow_stop": False,
            "cache_dir": self.cache_dir,
            "device": self.device,
        }


@dataclass
class ReproduceResult:
    """The ``results.json`` document and, for figures, the first seed's connectivity:
    per crossbar size, (original masks, TraNNsformer masks, TraNNsformer clusters)."""

    doc: dict
    connectivity: dict = field(default_factory=dict)


def run_reproduce(
    cfg: ReproduceConfig, log: Callable[[str], None] = print, progress: bool = True
) -> ReproduceResult:
    """Run the experiment; returns the ``results.json`` document and figure data.

    :param log: receives one line per finished phase.
    :param progress: unused (kept for the command line's ``--quiet``).
    """
    settings = cfg.env_settings()
    store = NetworkStore(cfg.save_networks) if cfg.save_networks else None
    step_epochs = cfg.epochs // cfg.steps
    release_epochs = cfg.pruning_epochs or max(1, round(cfg.epochs * 2 / 3))
    release_steps = max(1, round(release_epochs / step_epochs))
    exp = Experiment(settings, SNNSettings(timesteps=cfg.snn_timesteps))
    sizes = tuple(cfg.crossbar_sizes)
    rows, baselines, connectivity = [], [], {}
    points: list[dict] = []  # every step of the tuned methods' runs (agents.frontier)
    t_start = time.perf_counter()
    try:
        for seed in cfg.seeds:
            u = exp.task(seed)
            baselines.append(
                {"seed": seed, "accuracy_val": u.baseline_accuracy,
                 "accuracy_test": u.baseline.accuracy_test}
            )
            log(f"seed {seed}: {u.describe()}")
            original = exp.original(seed)
            t0 = time.perf_counter()

            def pruning_run(scale: float, seed: int = seed) -> Delivered:
                rec = StepRecorder(PruningPolicy(sizes[0]), sizes, points, method="pruning",
                                   seed=seed)
                d = exp.transform(rec, seed, sizes[0], rate_scale=scale)
                rec.finish(d.delivered_step)
                return d

            grid = [cfg.rate_scale * g for g in cfg.rate_grid]
            pruning = tune(exp, pruning_run, grid, seed, sizes)
            release_pruning = exp.transform(
                PruningPolicy(sizes[0]), seed, sizes[0], max_steps=release_steps,
                rate_scale=cfg.pruning_rate_scale * cfg.rate_scale,
            )
            log(f"  pruning: {len(grid) + 1} runs in {time.perf_counter() - t0:.0f} s")
            for n in sizes:
                t0 = time.perf_counter()

                def paper_run(scale: float, n: int = n, seed: int = seed) -> Delivered:
                    rec = StepRecorder(PaperPolicy(n), [n], points, method="paper", seed=seed)
                    d = exp.transform(rec, seed, n, rate_scale=scale)
                    rec.finish(d.delivered_step)
                    return d

                tuned = tune(exp, paper_run, grid, seed, [n])
                paper, paper_spent = tuned.chosen[n], tuned.epochs
                release_paper = tuned.runs.get(cfg.rate_scale) or paper_run(cfg.rate_scale)
                pruned, pruning_spent = pruning.chosen[n], pruning.epochs
                offline = exp.offline(pruned, seed, n)
                log(
                    f"  N={n}: paper {len(grid)} runs in {time.perf_counter() - t0:.0f} s, "
                    f"tuned rate scale {paper.rate_scale:g} (kept step {paper.delivered_step}), "
                    f"clusters {[len(c) for c in paper.clusters]}"
                )
                for method, d, extra in (
                    ("original", original, {}),
                    ("pruning (release)", release_pruning, {}),
                    ("pruning", pruned, {"tuning_epochs": pruning_spent}),
                    ("offline", offline, {"tuning_epochs": pruning_spent}),
                    ("paper (release)", release_paper, {}),
                    ("paper", paper, {"tuning_epochs": paper_spent}),
                ):
                    rows.append(exp.score(d, seed, n, method=method, **extra))
                    if store is not None:
                        store.add(d, seed, method, n, rows[-1])
                if seed == cfg.seeds[0]:
                    connectivity[n] = (
                        original.net.masks_numpy(), paper.net.masks_numpy(), paper.clusters
                    )
        u = exp.task(cfg.seeds[0])
        doc = {
            "dataset": u.data.name,
            "topology": format_topology(u.topology),
            "seeds": list(cfg.seeds),
            "technology": u.technology.name,
            "tolerance": u.config.accuracy_tolerance,
            "epochs": cfg.epochs,
            "steps": cfg.steps,
            "rate_scale": cfg.rate_scale,
            "rate_grid": [cfg.rate_scale * g for g in cfg.rate_grid],
            "pruning_release": {"epochs": release_steps * step_epochs,
                                "rate_scale": cfg.pruning_rate_scale * cfg.rate_scale},
            "baseline": {
                "accuracy_val": float(np.mean([b["accuracy_val"] for b in baselines])),
                "accuracy_test": float(np.mean([b["accuracy_test"] for b in baselines])),
                "per_seed": baselines,
            },
            "rows": rows,
            "summary": summarize(rows),
            "selection_margin": u.config.selection_margin,
            "frontier_points": points,
            "wall_seconds": time.perf_counter() - t_start,
        }
        doc["iso_accuracy"] = iso_accuracy(doc)
    finally:
        exp.close()
    return ReproduceResult(doc, connectivity)


def summarize(rows: list[dict]) -> list[dict]:
    """Mean and spread over seeds per (method, crossbar size), ratios to original and pruning."""
    return summarize_rows(rows, METHODS, ("original", "pruning"))


def results_markdown(doc: dict) -> str:
    """The paper-style tables of a ``results.json`` document."""
    grid = ", ".join(f"{g:g}" for g in doc["rate_grid"])
    rel = doc["pruning_release"]
    lines = [
        f"# TraNNsformer on {doc['dataset']} {doc['topology']} ({doc['technology']}), "
        f"seeds {doc['seeds']}",
        "",
        f"Dense baseline: validation {100 * doc['baseline']['accuracy_val']:.2f}%, "
        f"test {100 * doc['baseline']['accuracy_test']:.2f}%. Floor: accuracy >= baseline - "
        f"{100 * doc['tolerance']:.1f} points (judged on validation; the test column is "
        "reported only). Every network is the latest step of its schedule meeting the floor "
        f"on validation. Budget: {doc['epochs']} retraining epochs per transformation in "
        f"{doc['steps']} steps; `pruning` and `paper` tune the rate scale over {{{grid}}} on "
        "validation (least `best` cost; all grid points' epochs under 'tuning'); "
        f"`pruning (release)`: {rel['epochs']} epochs at rate scale {rel['rate_scale']:g}; "
        f"`paper (release)`: rate scale {doc['rate_scale']:g}. Area and energy are ratios "
        "per seed to the reference method at the same crossbar size, mean ± std over seeds.",
        "",
        results_table(doc["summary"], ("original", "pruning")),
        floor_rates(doc["rows"], METHODS),
        "",
        f"Wall time {doc['wall_seconds']:.0f} s.",
    ]
    if doc.get("iso_accuracy"):
        lines += [
            "",
            "## At iso-accuracy",
            "",
            "Each tuned method's frontier over every network its tuning produced (rate grid "
            "points x steps; `best` accounting, expected activity): its area and energy at "
            "the matched test accuracy (each seed's dense test accuracy - "
            f"{100 * doc['tolerance']:.1f} points), interpolated on the frontier; mean over "
            "seeds [95% percentile bootstrap, scipy.stats.bootstrap]; ratios paired by seed. "
            f"Selection margin k = {doc.get('selection_margin', 0):g} standard errors.",
            "",
            iso_table(doc["iso_accuracy"]),
        ]
    return "\n".join(lines) + "\n"


def write_outputs(result: ReproduceResult, out: Path) -> list[Path]:
    """Write results.json, results.md and the PNG figures into ``out``."""
    from .figures import connectivity_figure, cost_figure

    paths = write_results(result.doc, results_markdown(result.doc), out)
    paths.append(cost_figure(result.doc, out / "cost_per_crossbar_size.png"))
    for e in result.doc.get("iso_accuracy", []):
        n = e["crossbar_size"]
        paths.append(iso_figure(result.doc, n, out / f"iso_accuracy_N{n}.png"))
    for n, (before, after, clusters) in result.connectivity.items():
        paths.append(
            connectivity_figure(before, after, clusters, n, out / f"connectivity_N{n}.png")
        )
        # The transformed network in hwmodel's formats: python -m hwmodel FILE.npz --masks
        # --strategy clustered --clusters FILE_clusters.json
        net = out / f"trannsformer_N{n}.npz"
        np.savez_compressed(net, **{f"layer{i}": m.astype(np.uint8) for i, m in enumerate(after)})
        clus = out / f"trannsformer_N{n}_clusters.json"
        clus.write_text(
            json.dumps({"clusters": [[c.to_dict() for c in layer] for layer in clusters]})
        )
        paths += [net, clus]
    return paths
