"""Figures of experiment results (matplotlib, written as PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from hwmodel.clusters import Cluster  # noqa: E402
from tnf_env.render import draw_panel  # noqa: E402

METHOD_COLOURS = {
    "original": "0.6",
    "pruning (release)": "lightsteelblue",
    "pruning": "tab:blue",
    "offline": "tab:orange",
    "paper (release)": "lightsalmon",
    "paper": "tab:red",
    "random": "tab:purple",
    "ppo": "tab:green",
    "tiles": "tab:brown",
}
ACCOUNTING = "best"  # the figures show the best accounting (the tables show both)


def _methods(present: list[str]) -> dict[str, str]:
    """Colour of each method present: the known ones in their order, then any other
    (a baseline a study was asked to add) in a colour of its own."""
    known = {m: c for m, c in METHOD_COLOURS.items() if m in present}
    others = [m for m in dict.fromkeys(present) if m not in METHOD_COLOURS]
    return {**known, **{m: f"C{(k + 5) % 10}" for k, m in enumerate(others)}}


def cost_figure(doc: dict, path: Path) -> Path:
    """Normalised area and energy (vs the original network, ``best`` accounting) per
    crossbar size and method."""
    summary = doc["summary"]
    sizes = sorted({e["crossbar_size"] for e in summary})
    colours = _methods([e["method"] for e in summary])
    methods = list(colours)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    width = 0.8 / len(methods)
    for ax, key, title in ((axes[0], "area_mm2", "area"), (axes[1], "energy_nj", "energy")):
        for k, m in enumerate(methods):
            vals, errs = [], []
            for n in sizes:
                e = next(e for e in summary if e["method"] == m and e["crossbar_size"] == n)
                vals.append(e[f"{key}_{ACCOUNTING}_vs_original"])
                errs.append(e[f"{key}_{ACCOUNTING}_vs_original_std"])
            x = np.arange(len(sizes)) + (k - (len(methods) - 1) / 2) * width
            ax.bar(x, vals, width, yerr=errs, label=m, color=colours[m])
        ax.set_xticks(np.arange(len(sizes)), [f"N={n}" for n in sizes])
        ax.set_title(f"normalised {title}")
        ax.axhline(1.0, color="k", linewidth=0.6)
    axes[0].set_ylabel("relative to the original network")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"{doc['dataset']} {doc['topology']} ({doc['technology']})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def connectivity_figure(
    before: Sequence[np.ndarray],
    after: Sequence[np.ndarray],
    clusters: Sequence[Sequence[Cluster]],
    crossbar_size: int,
    path: Path,
) -> Path:
    """Each layer's connectivity before (top) and after (bottom), clusters outlined.

    After the transformation, rows and columns are reordered so clusters show as
    blocks; each outlined block occupies its own N x N crossbar(s).
    """
    n = len(before)
    fig, axes = plt.subplots(2, n, figsize=(3.6 * n, 7), squeeze=False)
    for i in range(n):
        draw_panel(axes[0, i], before[i], [], f"layer {i} before: {before[i].mean():.0%} kept")
        draw_panel(
            axes[1, i],
            after[i],
            clusters[i],
            f"after (N={crossbar_size}): {after[i].mean():.1%} kept, {len(clusters[i])} clusters",
        )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pareto_figure(doc: dict, path: Path) -> Path:
    """Test accuracy against normalised hardware cost (mean of area and energy ratios to
    the original network), one point per method, seed and crossbar size."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    rows = doc["rows"]
    orig = {(r["seed"], r["crossbar_size"]): r for r in rows if r["method"] == "original"}
    sizes = sorted({r["crossbar_size"] for r in rows})
    markers = dict(zip(sizes, "osD^v<>", strict=False))
    colours = _methods([r["method"] for r in rows])
    for method in colours:
        pts = [r for r in rows if r["method"] == method]
        for r in pts:
            o = orig[(r["seed"], r["crossbar_size"])]
            a, e = f"area_mm2_{ACCOUNTING}", f"energy_nj_{ACCOUNTING}"
            cost = 0.5 * (r[a] / o[a] + r[e] / o[e])
            ax.scatter(
                cost,
                100 * r["accuracy_test"],
                color=colours[method],
                marker=markers[r["crossbar_size"]],
                s=28,
                alpha=0.8,
            )
        if pts:
            ax.scatter([], [], color=colours[method], label=method)
    for n, m in markers.items():
        ax.scatter([], [], color="k", marker=m, label=f"N={n}")
    ax.axhline(100 * doc["baseline"]["accuracy_test"], color="0.5", linewidth=0.6)
    ax.set_xlabel(
        f"hardware cost relative to the original network (mean of area, energy; {ACCOUNTING})"
    )
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
