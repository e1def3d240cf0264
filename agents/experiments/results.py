"""Summaries of experiment rows: mean and spread over seeds, ratios to reference methods."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..common.outputs import atomic_write
from .delivery import delivery_cell, flag, table_notes

ACCOUNTINGS = ("paper", "best")
COSTS = ("area_mm2", "energy_nj")
MEANED = (
    "accuracy_val",
    "accuracy_test",
    "accuracy_test_snn",
    "accuracy_test_hw",
    "accuracy_test_snn_hw",
    *(f"{k}_{a}" for a in ACCOUNTINGS for k in (*COSTS, "crossbars", "lower_bound", "utilization")),
    "sparsity",
    "epochs",
    "tuning_epochs",
    "rate_scale",
)


def summarize(
    rows: Sequence[dict], methods: Sequence[str], references: Sequence[str]
) -> list[dict]:
    """One entry per (crossbar size, method): mean and std over seeds of every measured
    field, and per-seed ratios of area and energy, in both accountings, to each reference
    method at that size (``area_mm2_best_vs_pruning``, ...).

    :param rows: one dict per (method, seed, crossbar size), as ``results.json`` holds.
    :param methods: the methods, in the order the table lists them.
    :param references: methods to divide by (``{key}_vs_{reference}`` entries).
    """
    by: dict[tuple[int, str], list[dict]] = {}
    for r in rows:
        by.setdefault((r["crossbar_size"], r["method"]), []).append(r)
    out = []
    for n in sorted({r["crossbar_size"] for r in rows}):
        for method in methods:
            rs = by.get((n, method))
            if not rs:
                continue
            e: dict = {"method": method, "crossbar_size": n, "n_seeds": len(rs)}
            for k in MEANED:
                if k in rs[0]:
                    e[k] = float(np.mean([r[k] for r in rs]))
                    e[k + "_std"] = float(np.std([r[k] for r in rs]))
            for ref_name in references:
                ref = {r["seed"]: r for r in by.get((n, ref_name), [])}
                if not ref:
                    continue
                for k in (f"{c}_{a}" for c in COSTS for a in ACCOUNTINGS):
                    ratios = [r[k] / ref[r["seed"]][k] for r in rs if r["seed"] in ref]
                    if not ratios:
                        continue
                    e[f"{k}_vs_{ref_name}"] = float(np.mean(ratios))
                    e[f"{k}_vs_{ref_name}_std"] = float(np.std(ratios))
            e["meets_floor"] = f"{sum(r['meets_floor'] for r in rs)}/{len(rs)}"
            by_seed = sorted(rs, key=lambda r: r["seed"])
            e["delivered"] = delivery_cell(by_seed)
            e["delivery_flags"] = sorted({flag(r) for r in by_seed} - {""})
            if "meets_floor_test" in rs[0]:
                e["meets_floor_test"] = f"{sum(r['meets_floor_test'] for r in rs)}/{len(rs)}"
            out.append(e)
    return out


def spread_text(n_seeds: int) -> str:
    """How a table states its seeds: ``mean ± std over seeds``, or with one seed ``n = 1``
    (a spread of one value says nothing)."""
    return "mean ± std over seeds" if n_seeds > 1 else "n = 1 (one seed: no spread)"


def _ratio(e: dict, key: str) -> str:
    if key not in e:
        return "-"
    if e.get("n_seeds", 2) < 2:
        return f"{e[key]:.3f}"
    return f"{e[key]:.3f} ± {e[key + '_std']:.3f}"


def delivery_notes(summary: Sequence[dict]) -> list[str]:
    """The lines under a table: what its delivered-step column means, and a warning when
    a row fell back or delivered the untouched network."""
    return table_notes([f"`{e['method']}` (N = {e['crossbar_size']}): "
                        f"{', '.join(e['delivery_flags'])}"
                        for e in summary if e.get("delivery_flags")])


def _hw_cell(e: dict) -> str:
    if "accuracy_test_hw" not in e:
        return "- | "
    return f"{100 * e['accuracy_test_hw']:.2f}% / {100 * e['accuracy_test_snn_hw']:.2f}% | "


def results_table(summary: Sequence[dict], references: Sequence[str]) -> str:
    """Markdown tables of a summary, one per accounting: area and energy relative to each
    reference method (per seed, then averaged), crossbars, accuracy, floor and budget."""
    lines: list[str] = []
    # Test accuracy on the technology's non-ideal crossbars, when it was measured.
    hw = any("accuracy_test_hw" in e for e in summary)
    for acc in ("best", "paper"):
        head = "".join(f" area vs {r} | energy vs {r} |" for r in references)
        lines += [
            f"**{acc} accounting**",
            "",
            f"| N | method |{head} crossbars (lower bound) | utilisation | test acc. | "
            "SNN test acc. | "
            + ("non-ideal test acc. (ANN / SNN) | " if hw else "")
            + "floor met (val / test) | epochs (tuning) | delivered step |",
            "|---|---|" + "---|---|" * len(references) + "---|---|---|---|---|---|---|"
            + ("---|" if hw else ""),
        ]
        for e in summary:
            cells = "".join(
                f" {_ratio(e, f'area_mm2_{acc}_vs_{r}')} | {_ratio(e, f'energy_nj_{acc}_vs_{r}')} |"
                for r in references
            )
            tuning = f" ({e['tuning_epochs']:.0f})" if "tuning_epochs" in e else ""
            lines.append(
                f"| {e['crossbar_size']} | {e['method']} |{cells} "
                f"{e[f'crossbars_{acc}']:.0f} ({e[f'lower_bound_{acc}']:.0f}) | "
                f"{e[f'utilization_{acc}']:.2f} | {100 * e['accuracy_test']:.2f}% | "
                f"{100 * e['accuracy_test_snn']:.2f}% | "
                + (_hw_cell(e) if hw else "")
                + f"{e['meets_floor']} / {e.get('meets_floor_test', '-')} | "
                f"{e['epochs']:.0f}{tuning} | {e.get('delivered', '-')} |"
            )
        lines.append("")
    return "\n".join([*lines, *delivery_notes(summary), ""])


def write_results(doc: dict, markdown: str, out: Path) -> list[Path]:
    """``results.json`` (the document) and ``results.md`` (its tables) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "results.md"]
    atomic_write(paths[0], json.dumps(doc, indent=2))  # a kill never leaves half a document
    atomic_write(paths[1], markdown)
    return paths
