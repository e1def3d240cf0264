"""The paper's experiment: original vs pruning vs offline clustering vs TraNNsformer.

For each seed the dense baseline is loaded (or trained) from the cache; the
pruning-only baseline runs once (it does not depend on the crossbar size);
offline clustering clusters that pruned network at each size without
retraining; TraNNsformer runs the paper's schedule at each size. Every
network is scored on validation and test (ReLU), converted to a spiking
network whose measured test spikes drive the energy model, mapped and costed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwmodel import get_technology
from tnf_env.baseline import get_baseline
from tnf_env.datasets import load_dataset
from tnf_env.evaluation import SNNSettings, hardware_cost, snn_evaluate
from tnf_env.network import default_topology, format_topology, parse_topology
from tnf_env.schedule import PaperSchedule, ValidationSelector, offline_clustering, run_schedule
from tnf_env.training import default_recipe, evaluate, to_tensors
from tnf_env.transform import Transformation

from .results import summarize as summarize_rows

METHODS = ("original", "pruning", "offline", "trannsformer")
STRATEGY = {
    "original": "dense",
    "pruning": "pruned",
    "offline": "clustered",
    "trannsformer": "clustered",
}


@dataclass
class ReproduceConfig:
    """Settings of one ``reproduce`` run (each a command-line flag)."""

    dataset: str = "digits"  # dataset name
    data_dir: str | None = None  # directory of the dataset files
    topology: str | None = None  # layer widths (None: the dataset's default)
    crossbar_sizes: tuple[int, ...] = (16, 32, 64, 128)  # crossbar sizes N to evaluate
    technology: str = "resparc"  # hwmodel technology preset or file
    seeds: tuple[int, ...] = (0,)  # baseline and transformation seeds
    epochs: int = 60  # TraNNsformer iterations E (one epoch each)
    pruning_epochs: int | None = None  # pruning-only epochs (None: 2/3 E, the release's 40/60)
    rate_scale: float = 10.0  # multiplies the paper's threshold rates (10: tuned on mnist-10k val)
    pruning_rate_scale: float = 0.7  # the release's pruning-only rate factor
    tolerance: float = 0.005  # accuracy floor = baseline validation accuracy - tolerance
    snn_timesteps: int = 35  # SNN simulation length for accuracy and measured energy
    cache_dir: str | None = None  # baseline cache directory


@dataclass
class MethodNet:
    """A finished network of one method: its transformation state and scores."""

    method: str
    tr: Transformation
    epochs: float
    scores: dict = field(default_factory=dict)
    selected_iteration: int | None = None  # iterations kept after selection on validation


def _score(net, data_t: dict, snn: SNNSettings, seed: int) -> dict:
    acc_val = evaluate(net, data_t["xv"], data_t["yv"])[0]
    acc_test = evaluate(net, data_t["xs"], data_t["ys"])[0]
    res = snn_evaluate(net, data_t["xt"], data_t["xs"], data_t["ys"], snn, seed=seed)
    return {
        "accuracy_val": acc_val,
        "accuracy_test": acc_test,
        "accuracy_test_snn": res.accuracy,
        "spikes": res.input_spikes,
    }


@dataclass
class ReproduceResult:
    """The ``results.json`` document and, for figures, the first seed's connectivity:
    per crossbar size, (original masks, TraNNsformer masks, TraNNsformer clusters)."""

    doc: dict
    connectivity: dict = field(default_factory=dict)


def _run_selected(
    m: MethodNet, schedule: PaperSchedule, t: dict, floor: float, desc: str, progress: bool
) -> None:
    """Run ``schedule``; keep the latest iteration that meets the floor on validation."""
    selector = ValidationSelector(m.tr, t["xv"], t["yv"], floor)
    bar = _progress_bar(schedule.epochs, desc, progress)

    def callback(i: int, report) -> None:
        selector(i, report)
        if bar is not None:
            bar(i, report)

    run_schedule(m.tr, schedule, callback)
    m.selected_iteration = selector.finish(schedule.epochs)


def _progress_bar(total: int, desc: str, enabled: bool):
    """A schedule progress callback drawing a tqdm bar (None when disabled)."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, leave=False)

    def update(i: int, report) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{report.train_loss:.3f}", sparsity=f"{np.mean(report.sparsity):.2f}")
        if i == total - 1:
            bar.close()

    return update


def run_reproduce(
    cfg: ReproduceConfig, log: Callable[[str], None] = print, progress: bool = True
) -> ReproduceResult:
    """Run the experiment; returns the ``results.json`` document and figure data.

    :param log: receives one line per finished phase.
    :param progress: draw a progress bar over each schedule's iterations.
    """
    tech = get_technology(cfg.technology)
    for n in cfg.crossbar_sizes:
        tech.check_crossbar_size(n)
    data = load_dataset(cfg.dataset, cfg.data_dir)
    topology = parse_topology(cfg.topology or default_topology(data.name))
    recipe = default_recipe(data.name)
    t = {}
    t["xt"], t["yt"] = to_tensors(data.x_train, data.y_train)
    t["xv"], t["yv"] = to_tensors(data.x_val, data.y_val)
    t["xs"], t["ys"] = to_tensors(data.x_test, data.y_test)
    snn = SNNSettings(timesteps=cfg.snn_timesteps)
    paper = PaperSchedule(epochs=cfg.epochs, rate_scale=cfg.rate_scale)
    pruning = PaperSchedule.pruning_only(
        epochs=cfg.pruning_epochs or max(1, round(cfg.epochs * 2 / 3)),
        rate_scale=cfg.pruning_rate_scale * cfg.rate_scale,
    )
    rows, baselines, t_start = [], [], time.perf_counter()
    connectivity: dict = {}
    for seed in cfg.seeds:
        base = get_baseline(data, topology, seed, recipe, cfg.cache_dir)
        floor = base.accuracy_val - cfg.tolerance
        baselines.append(
            {"seed": seed, "accuracy_val": base.accuracy_val, "accuracy_test": base.accuracy_test}
        )
        log(f"seed {seed}: baseline val {base.accuracy_val:.4f} test {base.accuracy_test:.4f}")
        L = len(topology) - 1

        def new_tr(sizes: Sequence[int], seed: int = seed, net=base.net) -> Transformation:
            return Transformation(net, t["xt"], t["yt"], sizes, recipe, seed=seed)

        original = MethodNet("original", new_tr([cfg.crossbar_sizes[0]] * L), 0)
        original.scores = _score(original.tr.net, t, snn, seed)
        t0 = time.perf_counter()
        pruned = MethodNet("pruning", new_tr([cfg.crossbar_sizes[0]] * L), pruning.epochs)
        _run_selected(pruned, pruning, t, floor, "pruning", progress)
        pruned.scores = _score(pruned.tr.net, t, snn, seed)
        log(
            f"  pruning: {pruning.epochs} epochs in {time.perf_counter() - t0:.0f} s "
            f"(kept {pruned.selected_iteration}), "
            f"sparsity {np.round(pruned.tr.sparsity(), 3).tolist()}, "
            f"val {pruned.scores['accuracy_val']:.4f}"
        )
        for n in cfg.crossbar_sizes:
            offline_tr = new_tr([n] * L)
            offline_tr.net.load_state_dict(pruned.tr.net.state_dict())
            offline_tr.thresholds = list(pruned.tr.thresholds)
            offline_clustering(offline_tr)
            offline = MethodNet(
                "offline", offline_tr, pruning.epochs, pruned.scores, pruned.selected_iteration
            )
            t0 = time.perf_counter()
            tnf = MethodNet("trannsformer", new_tr([n] * L), paper.epochs)
            _run_selected(tnf, paper, t, floor, f"TraNNsformer N={n}", progress)
            tnf.scores = _score(tnf.tr.net, t, snn, seed)
            log(
                f"  N={n}: TraNNsformer {paper.epochs} epochs in {time.perf_counter() - t0:.0f} s"
                f" (kept {tnf.selected_iteration}), clusters {[len(c) for c in tnf.tr.clusters]}, "
                f"val {tnf.scores['accuracy_val']:.4f}"
            )
            for m in (original, pruned, offline, tnf):
                rows.append(_row(m, n, seed, tech, floor))
            if seed == cfg.seeds[0]:
                connectivity[n] = (original.tr.masks(), tnf.tr.masks(), tnf.tr.clusters)
    doc = {
        "dataset": data.name,
        "topology": format_topology(topology),
        "seed": list(cfg.seeds) if len(cfg.seeds) > 1 else cfg.seeds[0],
        "seeds": list(cfg.seeds),
        "technology": tech.name,
        "tolerance": cfg.tolerance,
        "schedule": paper.to_dict(),
        "pruning_schedule": pruning.to_dict(),
        "baseline": {
            "accuracy_val": float(np.mean([b["accuracy_val"] for b in baselines])),
            "accuracy_test": float(np.mean([b["accuracy_test"] for b in baselines])),
            "per_seed": baselines,
        },
        "rows": rows,
        "summary": summarize(rows),
        "wall_seconds": time.perf_counter() - t_start,
    }
    return ReproduceResult(doc, connectivity)


def _row(m: MethodNet, n: int, seed: int, tech, floor: float) -> dict:
    tr = m.tr
    masks = tr.masks()
    clusters = tr.clusters if STRATEGY[m.method] == "clustered" else None
    cost = hardware_cost(
        masks, [n] * tr.n_layers, tech, STRATEGY[m.method], clusters, m.scores["spikes"]
    )
    nnz = sum(int(k.sum()) for k in masks)
    lower = sum(int(-(-int(k.sum()) // (n * n))) for k in masks)
    return {
        "method": m.method,
        "seed": seed,
        "crossbar_size": n,
        "accuracy_val": m.scores["accuracy_val"],
        "accuracy_test": m.scores["accuracy_test"],
        "accuracy_test_snn": m.scores["accuracy_test_snn"],
        "meets_floor": bool(m.scores["accuracy_val"] >= floor),
        "area_mm2": cost.area_mm2,
        "energy_nj": cost.energy_nj,
        "crossbars": cost.n_crossbars,
        "lower_bound": lower,
        "utilization": cost.utilization,
        "sparsity": 1 - nnz / sum(k.size for k in masks),
        "clusters": sum(len(c) for c in tr.clusters) if clusters is not None else 0,
        "epochs": m.epochs,
        "selected_iterations": m.selected_iteration,
    }


def summarize(rows: list[dict]) -> list[dict]:
    """Mean and spread over seeds per (method, crossbar size), ratios to original and pruning."""
    return summarize_rows(rows, METHODS, ("original", "pruning"))


def results_markdown(doc: dict) -> str:
    """The paper-style table of a ``results.json`` document."""
    lines = [
        f"# TraNNsformer on {doc['dataset']} {doc['topology']} ({doc['technology']}), "
        f"seeds {doc['seeds']}",
        "",
        f"Dense baseline: validation {100 * doc['baseline']['accuracy_val']:.2f}%, "
        f"test {100 * doc['baseline']['accuracy_test']:.2f}%. Floor: validation accuracy "
        f">= baseline - {100 * doc['tolerance']:.1f} points. Area and energy are "
        "normalised to the original network at the same crossbar size; savings are "
        "1 - ratio. Mean (± std) over seeds.",
        "",
        "| N | method | area | energy | area saved vs orig. | energy saved vs orig. | "
        "area saved vs pruning | energy saved vs pruning | test acc. | SNN test acc. | "
        "floor met | crossbars (lower bound) | utilisation | sparsity |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in doc["summary"]:

        def pct(k: str, e: dict = e) -> str:
            return f"{100 * (1 - e[k]):.1f}% ± {100 * e[k + '_std']:.1f}"

        lines.append(
            f"| {e['crossbar_size']} | {e['method']} | {e['area_mm2_vs_original']:.3f} | "
            f"{e['energy_nj_vs_original']:.3f} | {pct('area_mm2_vs_original')} | "
            f"{pct('energy_nj_vs_original')} | {pct('area_mm2_vs_pruning')} | "
            f"{pct('energy_nj_vs_pruning')} | {100 * e['accuracy_test']:.2f}% | "
            f"{100 * e['accuracy_test_snn']:.2f}% | {e['meets_floor']} | "
            f"{e['crossbars']:.0f} ({e['lower_bound']:.0f}) | {e['utilization']:.2f} | "
            f"{100 * e['sparsity']:.1f}% |"
        )
    s = doc["schedule"]
    lines += [
        "",
        f"TraNNsformer: {s['epochs']} iterations of one epoch, threshold rate scale "
        f"{s['rate_scale']}; pruning only: {doc['pruning_schedule']['epochs']} epochs at rate "
        f"scale {doc['pruning_schedule']['rate_scale']}. Each schedule keeps its latest "
        "iteration whose validation accuracy meets the floor (model selection on validation; "
        "the test split is only reported). A row whose final network still misses the floor "
        f"says so under 'floor met'. Wall time {doc['wall_seconds']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def write_outputs(result: ReproduceResult, out: Path) -> list[Path]:
    """Write results.json, results.md and the PNG figures into ``out``."""
    from .figures import connectivity_figure, cost_figure

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "results.md"]
    paths[0].write_text(json.dumps(result.doc, indent=2))
    paths[1].write_text(results_markdown(result.doc))
    paths.append(cost_figure(result.doc, out / "cost_per_crossbar_size.png"))
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
