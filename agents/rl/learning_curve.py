"""A run's learning curve: episode return against environment steps, as a PNG.

Three sources of a run directory, each drawn when present: every training episode's
return from the monitor CSV (``monitor/N.monitor.csv``, one file per training session),
SB3's running mean of the last 100 (TensorBoard ``rollout/ep_rew_mean``) and the
deterministic evaluations on held-out seeds (``eval/mean_reward``). ``train`` writes it as
``learning_curve.png`` in every run directory; ``benchmark --run`` draws the same figure.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

LEARNING_CURVE = "learning_curve.png"  # in every run directory, written at the end of train

# Scalars to draw: (tag, label, marker); the last is for runs written before SB3's EvalCallback.
_SCALARS = (
    ("rollout/ep_rew_mean", "training, running mean (SB3)", None),
    ("eval/mean_reward", "evaluation, held-out seeds", "o"),
    ("eval/mean_return", "evaluation, held-out seeds", "o"),
)


def monitor_episodes(run_dir: Path) -> tuple[list[int], list[float]]:
    """Training episodes from ``run_dir/monitor/*.monitor.csv``: the environment steps
    taken when each ended (summed episode lengths from the timesteps its session started
    at, which a resumed session records: it restarts from its checkpoint) and its return.

    :param run_dir: a ``train`` run directory.
    """
    files = sorted((Path(run_dir) / "monitor").glob("*.monitor.csv"),
                   key=lambda p: int(p.name.split(".")[0]) if p.name[0].isdigit() else -1)
    steps, returns, total = [], [], 0
    for path in files:
        with path.open(newline="") as fh:
            first = fh.readline()
            if not first.startswith("#"):  # SB3's header: the session's JSON
                raise ValueError(f"{path}: not a monitor file (no '#' header line)")
            try:
                header = json.loads(first[1:])
            except json.JSONDecodeError:
                raise ValueError(f"{path}: its '#' header line is not JSON") from None
            start = header.get("start_timesteps") if isinstance(header, dict) else None
            if isinstance(start, int) and not isinstance(start, bool) and start >= 0:
                total = start  # files written before sessions recorded it: summed on
            for row in csv.DictReader(fh):
                total += int(row["l"])
                steps.append(total)
                returns.append(float(row["r"]))
    return steps, returns


def _scalars(run_dir: Path) -> list[tuple[str, str | None, list[int], list[float]]]:
    """(label, marker, steps, values) of each of :data:`_SCALARS` in the run's TensorBoard."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = []
    for events in sorted(Path(run_dir).rglob("events.out.tfevents*")):
        acc = EventAccumulator(str(events)).Reload()
        tags = acc.Tags()["scalars"]
        for tag, label, marker in _SCALARS:
            if tag in tags:
                ev = acc.Scalars(tag)
                out.append((label, marker, [e.step for e in ev], [e.value for e in ev]))
    return out


def learning_curve_figure(run_dir: Path, path: Path, fidelity: str = "full") -> Path | None:
    """Draw the run's episode returns against environment steps into ``path`` (PNG).

    :param run_dir: a ``train`` run directory.
    :param path: the PNG to write.
    :param fidelity: the level the episodes ran at (named in the title).
    :return: ``path``, or None when the run has no episode yet (nothing is written).
    """
    from matplotlib.figure import Figure  # no pyplot: no global backend, safe in threads

    steps, returns = monitor_episodes(run_dir)
    scalars = _scalars(run_dir)
    if not steps and not scalars:
        return None
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    ax.axhline(0.0, color="0.5", linewidth=0.8, label="0: the start network, nothing saved")
    if steps:
        ax.scatter(steps, returns, s=9, color="tab:blue", alpha=0.35, linewidths=0,
                   label=f"training episodes ({len(steps)})")
    seen = set()
    for label, marker, x, y in scalars:
        colour = "tab:green" if marker else "tab:blue"
        ax.plot(x, y, marker=marker, color=colour, label=None if label in seen else label)
        seen.add(label)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return (fraction of cost saved)")
    ax.set_title(f"learning curve: {Path(run_dir).resolve().name} (episodes at {fidelity} "
                 "fidelity)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)
