"""Summaries of experiment rows: mean and spread over seeds, ratios to reference methods."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MEANED = (
    "accuracy_val",
    "accuracy_test",
    "accuracy_test_snn",
    "area_mm2",
    "energy_nj",
    "crossbars",
    "lower_bound",
    "utilization",
    "sparsity",
    "epochs",
)


def summarize(
    rows: Sequence[dict], methods: Sequence[str], references: Sequence[str]
) -> list[dict]:
    """One entry per (crossbar size, method): mean and std over seeds of every measured
    field, and per-seed ratios of area and energy to each reference method at that size.

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
                for k in ("area_mm2", "energy_nj"):
                    ratios = [r[k] / ref[r["seed"]][k] for r in rs]
                    e[f"{k}_vs_{ref_name}"] = float(np.mean(ratios))
                    e[f"{k}_vs_{ref_name}_std"] = float(np.std(ratios))
            e["meets_floor"] = f"{sum(r['meets_floor'] for r in rs)}/{len(rs)}"
            out.append(e)
    return out
