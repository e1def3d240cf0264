"""Summary, tables and learning-curve figure of a ``compare`` run (:mod:`.compare`).

Per method and held-out seed, ratios to the best tuned fixed method on the same seed
(``best`` accounting, energy with the spikes the SNN measured): area, energy and cost
(``area_weight`` x area ratio + the rest x energy ratio). The best tuned fixed method is
the one of ``pruning``, ``paper`` and ``tiles`` (where run) whose mean cost relative to
the original network
is lower (chosen on test: the strongest reference). Means carry 95% stratified-
bootstrap intervals and the probability of improvement over that method
(:mod:`agents.experiments.stats`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from hwmodel.safeload import load_document

from ..search.blackbox import penalized_cost
from . import methods as em
from .delivery import delivery_cell, flag, table_notes
from .results import write_results
from .stats import backend, mean_interval, poi_interval

ACC = "best"
BLACK_BOX = "black-box (TPE)"
ORDER = ("original", "pruning (release)", "pruning", "paper (release)", "paper", "tiles",
         "black-box (TPE)", "random search")
# the candidates for the reference row: the registered fixed schedules tuned on validation
TUNED_FIXED = tuple(name for name, cls in em.REGISTRY.items() if cls.tuned_fixed)


def ppo_curve(run_dir: Path, step_epochs: float) -> list[list[float]]:
    """PPO's training episodes as ``[epochs spent so far, penalized cost]`` pairs, from
    the run's ``monitor/*.monitor.csv`` (in-training evaluations not counted on the axis).

    :param run_dir: the training run.
    :param step_epochs: retraining epochs per environment step.
    """
    eps = []
    for path in sorted(Path(run_dir).glob("monitor/*.monitor.csv")):
        with open(path) as fh:
            fh.readline()  # the JSON header line
            for r in csv.DictReader(fh):
                ok = r["is_success"].strip() in ("True", "1", "1.0")
                eps.append((float(r["t"]), int(r["l"]), penalized_cost(float(r["cost"]), ok)))
    eps.sort()
    spent = np.cumsum([n for _, n, _ in eps]) * step_epochs
    return [[float(s), float(c)] for s, (_, _, c) in zip(spent, eps, strict=True)]


def _cost(row: dict, ref: dict, w: float) -> float:
    return (w * row[f"area_mm2_{ACC}"] / ref[f"area_mm2_{ACC}"]
            + (1 - w) * row[f"energy_nj_{ACC}"] / ref[f"energy_nj_{ACC}"])


def summarize(doc: dict, reps: int = 2000) -> dict:
    """Per-method entries of :mod:`.compare`'s document (see the module docstring).

    :param doc: the results document (``rows``, ``training``, ``eval_wall_seconds``, ...).
    :param reps: bootstrap resamples.
    """
    w, rows = doc["area_weight"], doc["rows"]
    by: dict[str, dict[int, dict]] = {}
    for r in rows:
        by.setdefault(r["method"], {})[r["seed"]] = r
    seeds = sorted(by["original"])
    vs_orig = {m: {s: _cost(by[m][s], by["original"][s], w) for s in seeds} for m in by}
    best_fixed = min((m for m in TUNED_FIXED if m in by),
                     key=lambda m: np.mean(list(vs_orig[m].values())))
    ref = by[best_fixed]
    methods = [m for m in ORDER if m in by] + sorted(m for m in by if m not in ORDER)
    bb_cost = [_cost(by[BLACK_BOX][s], ref[s], w) for s in seeds] if BLACK_BOX in by else []
    entries = []
    for m in methods:
        rs = [by[m][s] for s in seeds]
        ratio = {
            "area": [r[f"area_mm2_{ACC}"] / ref[r["seed"]][f"area_mm2_{ACC}"] for r in rs],
            "energy": [r[f"energy_nj_{ACC}"] / ref[r["seed"]][f"energy_nj_{ACC}"] for r in rs],
            "cost": [_cost(r, ref[r["seed"]], w) for r in rs],
        }
        train = doc["training"].get(m, {})
        eval_epochs = float(sum(r["epochs"] + r.get("tuning_epochs", 0.0) for r in rs))
        if m in TUNED_FIXED:  # tuning is part of the evaluation episodes
            eval_epochs = float(sum(r.get("tuning_epochs", r["epochs"]) for r in rs))
        e = {
            "method": m,
            "crossbar_sizes": [r["crossbar_size"] for r in rs],
            **{f"{k}_vs_best_fixed": mean_interval(v, reps).__dict__ for k, v in ratio.items()},
            "cost_vs_original": mean_interval([vs_orig[m][s] for s in seeds], reps).__dict__,
            "poi_vs_best_fixed": poi_interval(
                [-c for c in ratio["cost"]], [-1.0] * len(seeds), reps
            ).__dict__ if m != best_fixed else None,
            "poi_vs_black_box": poi_interval(
                [-c for c in ratio["cost"]], [-c for c in bb_cost], reps
            ).__dict__ if bb_cost and m != BLACK_BOX else None,
            "accuracy_test": float(np.mean([r["accuracy_test"] for r in rs])),
            "accuracy_test_snn_hw": float(np.mean([r.get("accuracy_test_snn_hw", np.nan)
                                                   for r in rs])),
            "floor_val": f"{sum(r['meets_floor'] for r in rs)}/{len(rs)}",
            "floor_test": f"{sum(r['meets_floor_test'] for r in rs)}/{len(rs)}",
            "train_epochs": float(train.get("epochs", 0.0)),
            "train_wall_seconds": float(train.get("wall_seconds", 0.0)),
            "eval_epochs": eval_epochs,
            "eval_wall_seconds": float(doc["eval_wall_seconds"].get(m, 0.0)),
            "train_cpu_seconds": float(train.get("cpu_seconds", 0.0)),
            "eval_cpu_seconds": float(doc.get("eval_cpu_seconds", {}).get(m, 0.0)),
            "delivered": delivery_cell(rs),
            "delivery_flags": sorted({flag(r) for r in rs} - {""}),
        }
        if "model_trials" in train:  # a search: did TPE get past its random start-up?
            e["startup_only"] = train["startup_trials"] is not None and not train["model_trials"]
        entries.append(e)
    return {"best_fixed": best_fixed, "stats_backend": backend(), "seeds": seeds,
            "methods": entries}


def _iv(d: dict | None, n: int) -> str:
    """An interval cell: ``mean [low, high]``; with one seed the mean alone."""
    if d is None:
        return "-"
    if n < 2:
        return f"{d['mean']:.3f}"
    return f"{d['mean']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"


def _cpu_h(e: dict) -> str:
    """The method's CPU-hours: its training or search, plus its held-out episodes and
    scoring (tuning included for the fixed schedules)."""
    t, v = e.get("train_cpu_seconds", 0.0), e.get("eval_cpu_seconds", 0.0)
    return f"{(t + v) / 3600:.2f}" if t or v else "-"


def _poi(d: dict | None, n: int) -> str:
    """A P(improve) cell: over one seed it is 0, 1/2 or 1, a certainty it does not have,
    so only ``n = 1`` is printed."""
    if d is None:
        return "-"
    return "n = 1" if n < 2 else _iv(d, n)


def _notes(doc: dict) -> list[str]:
    """Under the table: the delivered-step column, rows that fell back, TPE's start-up."""
    s = doc["summary"]
    lines = ["", *table_notes([f"`{e['method']}`: {', '.join(e['delivery_flags'])}"
                               for e in s["methods"] if e.get("delivery_flags")])]
    for e in s["methods"]:
        if e.get("startup_only"):
            t = doc["training"][e["method"]]
            lines += ["", f"*start-up only*: all {t['trials']} trials of `{e['method']}` "
                      f"were TPE's random start-up trials (the first {t['startup_trials']}), "
                      "so the row is a random search: raise --timesteps or --search-budget."]
    return lines


def _budget(doc: dict) -> str:
    """The searches' budget, in its unit, and whose it is."""
    first = next(iter(doc["training"]), "ppo")
    if doc.get("search_budget_unit") == "cpu":
        return (f"{doc['search_budget_epochs']:.0f} CPU-seconds (`{first}`'s training, its "
                "evaluations and worker processes included).")
    return (f"{doc['search_budget_epochs']:g} retraining epochs (`{first}`'s training, its "
            "evaluations included).")


def results_markdown(doc: dict) -> str:
    """The comparison table with its budget, seeds and accounting."""
    s = doc["summary"]
    n = len(s["seeds"])
    lines = [
        f"# Equal-compute comparison on {doc['dataset']} {doc['topology']} "
        f"({doc['technology']}), crossbar sizes {doc['crossbar_sizes']}",
        "",
        f"{doc['steps']} steps x {doc['retrain_epochs_per_step']:g} retraining epoch(s) per "
        f"episode. PPO and the searches train/tune on baseline seeds {doc['train_seeds']}; "
        f"every method is scored on held-out seeds {doc['eval_seeds']}. Each search's budget: "
        + _budget(doc) + " Fixed schedules are tuned on the validation split of each "
        f"held-out network (rate grid {[round(g, 3) for g in doc['rate_grid']]}, crossbar "
        f"sizes {doc.get('fixed_sizes', doc['crossbar_sizes'])}). Ratios per seed to the "
        "best tuned fixed method "
        f"(**{s['best_fixed']}**), `best` accounting, energy with measured spikes, cost = "
        f"{doc['area_weight']:g} x area + {1 - doc['area_weight']:g} x energy; "
        + (f"mean [95% bootstrap interval, {s['stats_backend']}] over {n} seeds. P(improve): "
           "probability that the method's cost ratio is below the best fixed method's (or "
           "the black-box search's). " if n > 1 else "n = 1 (one held-out seed: single "
           "values, no interval, no P(improve)). ")
        + "Fixed schedules tune on each held-out network, so their "
        "epochs are all under 'eval epochs'.",
        "",
        "| method | N chosen | area vs best fixed | energy vs best fixed | cost vs best fixed "
        "| cost vs original | P(improve) | P(improve) vs black-box | test acc. "
        "| floor met val / test | train/tune epochs | eval epochs | train wall s "
        "| eval wall s | CPU-h train + eval | delivered step |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in s["methods"]:
        name = e["method"] + (" (start-up only)" if e.get("startup_only") else "")
        lines.append(
            f"| {name} | {','.join(map(str, e['crossbar_sizes']))} | "
            f"{_iv(e['area_vs_best_fixed'], n)} | {_iv(e['energy_vs_best_fixed'], n)} | "
            f"{_iv(e['cost_vs_best_fixed'], n)} | {_iv(e['cost_vs_original'], n)} | "
            f"{_poi(e['poi_vs_best_fixed'], n)} | {_poi(e.get('poi_vs_black_box'), n)} | "
            f"{100 * e['accuracy_test']:.2f}% | "
            f"{e['floor_val']} / {e['floor_test']} | {e['train_epochs']:.0f} | "
            f"{e['eval_epochs']:.0f} | {e['train_wall_seconds']:.0f} | "
            f"{e['eval_wall_seconds']:.0f} | {_cpu_h(e)} | {e.get('delivered', '-')} |"
        )
    lines += _notes(doc)
    lines += ["", f"Baseline test accuracy (seed {doc['eval_seeds'][0]}): "
              f"{100 * doc['baseline_accuracy_test']:.2f}%. Total wall time "
              f"{doc['wall_seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def curves_figure(doc: dict, path: Path) -> Path:
    """Best-so-far penalized cost (validation side, training seeds) against retraining
    epochs spent, for PPO and the searches, with each episode/trial as a faint point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, pts in doc["curves"].items():
        if not pts:
            continue
        x, y = np.array(pts).T
        line, = ax.step(x, np.minimum.accumulate(y), where="post", label=f"{name} (best so far)")
        ax.scatter(x, y, s=4, alpha=0.15, color=line.get_color())
    ax.set_xlabel("retraining epochs spent (training seeds)")
    ax.set_ylabel("cost of the delivered network (+1 below the floor)")
    ax.set_ylim(top=min(2.2, ax.get_ylim()[1]))
    ax.set_title(f"{doc['dataset']} {doc['topology']}: learning curves on equal compute",
                 fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def accuracy_figure(doc: dict, path: Path) -> Path:
    """Area (``best`` accounting) against test accuracy: one marker per method and held-out
    seed, the method's mean as a larger one; the baseline floor as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    markers = "os^vD<>phX*P"
    names = [e["method"] for e in doc["summary"]["methods"]]
    for k, name in enumerate(names):
        rs = [r for r in doc["rows"] if r["method"] == name]
        x = 100 * np.array([r["accuracy_test"] for r in rs])
        y = np.array([r[f"area_mm2_{ACC}"] for r in rs])
        pts = ax.scatter(x, y, s=18, alpha=0.45, marker=markers[k % len(markers)])
        ax.scatter([x.mean()], [y.mean()], s=70, marker=markers[k % len(markers)],
                   color=pts.get_facecolor()[0], alpha=1.0, edgecolors="black", label=name)
    floor = [r["floor_test"] for r in doc["rows"] if "floor_test" in r]
    if floor:
        ax.axvline(100 * float(np.mean(floor)), color="grey", lw=0.8, ls="--",
                   label="test floor (mean over seeds)")
    ax.set_xlabel("test accuracy (%)")
    ax.set_ylabel("crossbar area (mm$^2$, best accounting)")
    ax.set_yscale("log")
    ax.set_title(f"{doc['dataset']} {doc['topology']}: area vs test accuracy, held-out "
                 f"seeds {doc['eval_seeds']}", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def resummarize(out: Path, reps: int = 2000) -> dict:
    """Recompute the summary of ``out/results.json`` from its rows (no run); rewrite it.

    :param out: a ``compare`` output directory.
    :param reps: bootstrap resamples.
    """
    try:
        doc = load_document(out / "results.json", "json")
        doc["summary"] = summarize(doc, reps)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{out}/results.json is not a compare result: {exc}") from None
    write_outputs(doc, out)
    return doc


def write_outputs(doc: dict, out: Path) -> list[Path]:
    """``results.json``, ``results.md`` and ``learning_curves.png`` under ``out``."""
    paths = write_results(doc, results_markdown(doc), out)
    paths.append(curves_figure(doc, out / "learning_curves.png"))
    paths.append(accuracy_figure(doc, out / "area_accuracy.png"))
    return paths
