"""Iso-accuracy comparison: each tuned method's frontier of cost against test accuracy.

Tuning a fixed schedule passes through many more networks than it delivers: every
grid point's episode holds one network per step. :class:`StepRecorder` wraps a
policy and records, at every step, the network's test accuracy and its area and
energy (``best`` accounting with expected activity, the validation-side cost that
tuning also uses) at each crossbar size asked for. The episode's last network is
recorded only when it is the one delivered: a last step that misses the floor on
validation is restored away before a policy wrapper can see it.

A method's frontier at crossbar size N is the envelope of its points over grid
points and steps: the least area (or energy) among networks reaching each test
accuracy. :func:`iso_accuracy` reads every method's area and energy at the matched
accuracy (the seed's dense test accuracy minus the floor's tolerance), linearly
interpolated between the two frontier points around it, and summarises the seeds
with ``scipy.stats.bootstrap`` intervals (percentile, 95%).

>>> cost_at([0.9, 0.95, 0.97], [1.0, 2.0, 4.0], 0.96)
3.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

import tnf_env
from tnf_env.measure.scoring import network_cost
from tnf_env.model.training import evaluate

FRONTIER_METHODS = ("pruning", "paper")  # the tuned methods whose runs are recorded


class StepRecorder:
    """A policy wrapper that records every step's network into ``points``.

    :param policy: the policy to run.
    :param sizes: crossbar sizes to cost each network at.
    :param fields: entries written into every point (method, seed, ...).
    :param points: the list the points are appended to.
    """

    def __init__(self, policy, sizes: Sequence[int], points: list[dict], **fields: Any) -> None:
        self.policy, self.sizes, self.points, self.fields = policy, list(sizes), points, fields
        self.name = policy.name

    def reset(self, env) -> None:
        self.policy.reset(env)
        self.session, self.step = tnf_env.episode_of(env), 0

    def act(self, obs, info):
        self.record()
        self.step += 1
        return self.policy.act(obs, info)

    def finish(self, delivered_step: int) -> None:
        """After the episode: record the delivered network if it is the last step's."""
        if delivered_step == self.step:
            self.record()

    def record(self) -> None:
        session = self.session
        tr, task = session.network, session.task
        accuracy = evaluate(tr.net, task.x_test, task.y_test)[0]
        masks = tr.masks()
        for n in self.sizes:
            cost = network_cost(masks, [n] * task.n_layers, task.technology, "best", tr.clusters)
            self.points.append({
                **self.fields, "crossbar_size": n, "rate_scale": session.config.rate_scale,
                "step": self.step, "accuracy_test": accuracy, "area_mm2": cost.area_mm2,
                "energy_nj": cost.energy_nj,
            })


def frontier(accuracy: Sequence[float], cost: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The points no other point beats in both test accuracy and cost, by rising accuracy.

    :param accuracy: test accuracy of each network.
    :param cost: its area or energy.
    """
    order = sorted(range(len(cost)), key=lambda i: (-accuracy[i], cost[i]))
    keep, best = [], np.inf
    for i in order:
        if cost[i] < best:
            keep.append(i)
            best = cost[i]
    keep.reverse()
    return np.asarray(accuracy, float)[keep], np.asarray(cost, float)[keep]


def cost_at(accuracy: Sequence[float], cost: Sequence[float], target: float) -> float:
    """The frontier's cost at test accuracy ``target``, interpolated linearly between the
    frontier points around it; NaN when no network reaches ``target``.

    :param accuracy: test accuracy of each network.
    :param cost: its area or energy.
    :param target: the matched accuracy.
    """
    acc, c = frontier(accuracy, cost)
    if len(acc) == 0 or target > acc[-1]:
        return float("nan")
    return float(np.interp(target, acc, c))


def _interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap interval over seeds (NaN interval with one seed)."""
    v = np.asarray([x for x in values if np.isfinite(x)], float)
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    if len(v) < 2:
        return float(v.mean()), float("nan"), float("nan")
    if np.ptp(v) == 0:  # bootstrap needs spread
        return float(v[0]), float(v[0]), float(v[0])
    res = stats.bootstrap((v,), np.mean, confidence_level=0.95, method="percentile",
                          n_resamples=9999, random_state=np.random.default_rng(0))
    ci = res.confidence_interval
    return float(v.mean()), float(ci.low), float(ci.high)


def iso_accuracy(doc: dict, methods: Sequence[str] = FRONTIER_METHODS) -> list[dict]:
    """Per crossbar size: each method's area and energy at the matched accuracy, per seed
    and summarised, and the ratios of the second method to the first (paired by seed).

    :param doc: a ``results.json`` document with ``frontier_points``, ``baseline`` and
        ``tolerance``.
    :param methods: the methods compared; ratios are ``methods[1] / methods[0]``.
    """
    points = [p for p in doc.get("frontier_points", []) if p["method"] in methods]
    target = {b["seed"]: b["accuracy_test"] - doc["tolerance"] for b in doc["baseline"]["per_seed"]}
    out = []
    for n in sorted({p["crossbar_size"] for p in points}):
        entry: dict[str, Any] = {"crossbar_size": n, "per_seed": []}
        for seed, acc in sorted(target.items()):
            per: dict[str, Any] = {"seed": seed, "matched_accuracy": acc}
            for m in methods:
                pts = [p for p in points
                       if p["method"] == m and p["seed"] == seed and p["crossbar_size"] == n]
                a = [p["accuracy_test"] for p in pts]
                per[m] = {k: cost_at(a, [p[f"{k}_mm2" if k == "area" else f"{k}_nj"]
                                         for p in pts], acc) for k in ("area", "energy")}
            entry["per_seed"].append(per)
        seeds = entry["per_seed"]
        for m in methods:
            for k in ("area", "energy"):
                entry[f"{m}_{k}"] = _interval([s[m][k] for s in seeds])
            entry[f"{m}_reached"] = int(sum(np.isfinite(s[m]["area"]) for s in seeds))
        if len(methods) == 2:
            first, second = methods
            for k in ("area", "energy"):
                entry[f"ratio_{k}"] = _interval([s[second][k] / s[first][k] for s in seeds])
        entry["seeds"] = len(entry["per_seed"])
        out.append(entry)
    return out


def floor_rates(rows: Sequence[dict], methods: Sequence[str]) -> str:
    """One line: per method, the (seed, N) cases whose delivered network meets the test
    floor, e.g. ``pruning 11/12``.

    :param rows: result rows with ``method`` and ``meets_floor_test``.
    :param methods: the methods, in order (absent ones are left out).
    """
    parts = []
    for m in methods:
        rs = [r for r in rows if r["method"] == m]
        if rs:
            parts.append(f"`{m}` {sum(bool(r['meets_floor_test']) for r in rs)}/{len(rs)}")
    return "Test floor met, (seed, N) cases per method: " + ", ".join(parts) + "."


def _fmt(t: Sequence[float], digits: int = 3) -> str:
    mean, lo, hi = t
    if not np.isfinite(mean):
        return "not reached"
    if not np.isfinite(lo):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def iso_table(entries: list[dict], methods: Sequence[str] = FRONTIER_METHODS) -> str:
    """The Markdown table of :func:`iso_accuracy`."""
    a, b = methods
    lines = [
        f"| N | {a} area mm² | {b} area mm² | {b} / {a} area | {a} energy nJ | {b} energy nJ "
        f"| {b} / {a} energy | seeds reaching the matched accuracy ({a} / {b}) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| {e['crossbar_size']} | {_fmt(e[f'{a}_area'], 4)} | {_fmt(e[f'{b}_area'], 4)} | "
            f"{_fmt(e['ratio_area'])} | {_fmt(e[f'{a}_energy'], 1)} | "
            f"{_fmt(e[f'{b}_energy'], 1)} | {_fmt(e['ratio_energy'])} | "
            f"{e[f'{a}_reached']}/{e['seeds']} / {e[f'{b}_reached']}/{e['seeds']} |"
        )
    return "\n".join(lines) + "\n"


def iso_figure(doc: dict, crossbar_size: int, path, methods: Sequence[str] = FRONTIER_METHODS):
    """Area and energy against test accuracy: every recorded network (dots) and each
    seed's frontier (lines) per method at ``crossbar_size``; dashed: the matched accuracy.

    :param doc: a ``results.json`` document with ``frontier_points``.
    :param crossbar_size: N of the figure.
    :param path: the PNG to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [p for p in doc["frontier_points"] if p["crossbar_size"] == crossbar_size]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "area_mm2", "area (mm²)"),
                           (axes[1], "energy_nj", "energy (nJ, expected activity)")):
        for colour, m in zip(("tab:blue", "tab:red"), methods, strict=False):
            pts = [p for p in points if p["method"] == m]
            ax.scatter([100 * p["accuracy_test"] for p in pts], [p[key] for p in pts], s=6,
                       color=colour, alpha=0.25)
            for i, seed in enumerate(sorted({p["seed"] for p in pts})):
                sp = [p for p in pts if p["seed"] == seed]
                acc, c = frontier([p["accuracy_test"] for p in sp], [p[key] for p in sp])
                ax.plot(100 * acc, c, color=colour, alpha=0.8,
                        label=m if i == 0 else None)
        for b in doc["baseline"]["per_seed"]:
            ax.axvline(100 * (b["accuracy_test"] - doc["tolerance"]), color="grey", ls="--", lw=1)
        ax.set_xlabel("test accuracy (%)")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.legend()
    fig.suptitle(f"{doc['dataset']}, N = {crossbar_size}: every network tuning produced, "
                 "frontier per seed; dashed: dense test accuracy - tolerance")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
