"""The fidelity study's report: its table (Markdown) and its scatter plot."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from .fidelity import agreement, cpu_per_episode, read_log, regret

KINDS = {"paper": "C0", "pruning": "C1", "random": "C2", "digits": "C3"}


def _ci(a: dict) -> str:
    if np.isnan(a["value"]):
        return "n/a"
    if np.isnan(a["low"]):
        return f"{a['value']:+.2f}"
    return f"{a['value']:+.2f} [{a['low']:+.2f}, {a['high']:+.2f}]"


def summary(out: Path, kinds: tuple[str, ...] | None = None) -> tuple[dict, list[dict]]:
    """The study's settings and one row of figures per level (full first).

    :param kinds: only the schedules of these kinds (None: all).
    """
    study = json.loads((out / "study.json").read_text())
    rows = {k: r for k, r in read_log(out / "episodes.jsonl").items()
            if kinds is None or r["kind"] in kinds}
    seeds = study["seeds"]
    full_cpu = cpu_per_episode(rows, "full")
    table = []
    for level in ("full", *study["levels"]):
        own = [r for r in rows.values() if r["level"] == level]
        row = {
            "level": level, "episodes": len(own),
            "cpu": cpu_per_episode(rows, level),
            "cost": cpu_per_episode(rows, level) / full_cpu,
            "delivered": float(np.mean([(r["delivered_step"] or 0) > 0 for r in own]))
            if own else float("nan"),
        }
        if level != "full":
            for metric, name in (("return", "return"), ("area_ratio", "area")):
                for kind in ("tau", "rho"):
                    row[f"{kind}_{name}"] = agreement(rows, level, seeds, metric, kind)
            row["regret1"] = regret(rows, level, seeds, 1)
            row["regret3"] = regret(rows, level, seeds, 3)
        table.append(row)
    return study, table


def plot(out: Path, figure: Path, levels: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_log(out / "episodes.jsonl")
    fig, axes = plt.subplots(1, len(levels), figsize=(5 * len(levels), 4.5), squeeze=False)
    for ax, level in zip(axes[0], levels, strict=True):
        for kind, colour in KINDS.items():
            xs, ys = [], []
            for r in rows.values():
                if r["level"] != level or r["kind"] != kind:
                    continue
                f = rows.get(f"{r['schedule']}|full|{r['seed']}")
                if f is not None:
                    xs.append(f["return"])
                    ys.append(r["return"])
            ax.scatter(xs, ys, s=18, c=colour, label=kind, alpha=0.8)
        lims = [min(ax.get_xlim()[0], ax.get_ylim()[0]), max(ax.get_xlim()[1], ax.get_ylim()[1])]
        ax.plot(lims, lims, "k:", lw=0.8)
        # a few delivered networks cost many times the original: linear within +-1 only
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_xlabel("return at full fidelity (symlog)")
        ax.set_ylabel(f"return at {level} (symlog)")
        ax.set_title(f"{level} vs full (one point per schedule and seed)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    plt.close(fig)


def table_text(table: list[dict]) -> str:
    """One summary's rows as a Markdown table."""
    lines = [
        "| level | episodes | CPU s / episode | × full | delivered a pruned step | "
        "τ return | ρ return | τ area | ρ area | regret top-1 | regret top-3 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        if r["level"] == "full":
            lines.append(f"| full | {r['episodes']} | {r['cpu']:.1f} | 1.00 | "
                         f"{r['delivered']:.0%} | | | | | | |")
            continue
        lines.append(
            f"| {r['level']} | {r['episodes']} | {r['cpu']:.1f} | {r['cost']:.2f} | "
            f"{r['delivered']:.0%} | {_ci(r['tau_return'])} | {_ci(r['rho_return'])} | "
            f"{_ci(r['tau_area'])} | {_ci(r['rho_area'])} | {r['regret1']:.3f} | "
            f"{r['regret3']:.3f} |"
        )
    return "\n".join(lines)


def write_report(out: Path, report: Path) -> None:
    """Write the tables (all schedules; the fixed ones only) into ``report`` (Markdown,
    between its fidelity-table markers when it has them) and the figure next to it."""
    study, every = summary(out)
    fixed = summary(out, ("paper", "pruning"))[1]
    figure = report.with_suffix(".png")
    plot(out, figure, study["levels"])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    caption = (f"*Table: commit {commit}, `python -m agents.experiments.fidelity --out "
               f"{out} --levels {' '.join(study['levels'])} --seeds "
               f"{' '.join(map(str, study['seeds']))}`, then `--report {report}`*")
    n_all = len({r["schedule"] for r in read_log(out / "episodes.jsonl").values()})
    text = (f"All {n_all} schedules:\n\n{table_text(every)}\n\n{caption}\n\n"
            f"The fixed schedules only (paper and pruning):\n\n{table_text(fixed)}\n\n"
            f"{caption}")
    report.parent.mkdir(parents=True, exist_ok=True)
    marker_start, marker_end = "<!-- fidelity-table -->", "<!-- /fidelity-table -->"
    block = f"{marker_start}\n{text}\n{marker_end}"
    if report.exists() and marker_start in report.read_text():
        old = report.read_text()
        head, rest = old.split(marker_start, 1)
        tail = rest.split(marker_end, 1)[1] if marker_end in rest else ""
        report.write_text(head + block + tail)
    else:
        report.write_text(f"# Fidelity study\n\n{block}\n\n![scatter]({figure.name})\n")
    print(text)
