"""The fidelity study: does a cheaper level rank schedules as a full episode does?

Every schedule of :func:`schedules` runs one episode per baseline seed at ``full`` and
at each level asked for, on the same Task settings otherwise (a config's ``env``); the
study then compares, per level, the level's returns and delivered areas with full's:
Kendall's tau and Spearman's rho over the schedules of each seed, pooled, with
``scipy.stats.bootstrap`` intervals (resampling schedules, pairs kept); the regret of
keeping the level's top-1 and top-3 schedules; and the CPU-seconds per episode.

Episodes are written to ``episodes.jsonl`` in the output directory as they end, so
a cut run goes on with ``--resume`` where it stopped.

Example::

    python -m agents.experiments.fidelity --out runs/fidelity --workers 2
    python -m agents.experiments.fidelity --out runs/fidelity --report docs/results/fidelity.md
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_CONFIG = "mnist10k"
DIGITS_POLICY = Path(__file__).resolve().parents[2] / "policies" / "digits"
EPISODE_SEED = 100  # reset(seed=EPISODE_SEED + baseline seed): the same draws at each level
#: A pseudo-level: full fidelity from another episode seed (EPISODE_SEED + 1000 + seed). Its
#: agreement with full is the ceiling of any proxy's: how well full ranks against itself.
REPLICATE = "full-reseed"


@dataclass(frozen=True)
class Schedule:
    """One schedule of the study: a policy and the settings it runs under.

    :ivar name: unique name, also its key in ``episodes.jsonl``.
    :ivar kind: ``paper``, ``pruning``, ``random`` or ``digits`` (the shipped policy).
    :ivar rate_scale: the environment's ``rate_scale`` (the paper's rates times this).
    :ivar size: the crossbar size of a fixed schedule (None: the policy picks).
    :ivar seed: the random schedule's action seed.
    """

    name: str
    kind: str
    rate_scale: float = 10.0
    size: int | None = None
    seed: int = 0


def schedules(n_random: int = 9) -> list[Schedule]:
    """The study's schedules: the paper's schedule over the rate grid at N = 32, 64, 128,
    magnitude pruning over the grid at 64 (and at 32 and 128 at the tuned rate), random
    schedules over the whole action space, and the shipped digits policy zero-shot."""
    out = [Schedule(f"paper-r{r:g}-N{n}", "paper", r, n)
           for r in (5, 10, 20) for n in (32, 64, 128)]
    out += [Schedule(f"pruning-r{r:g}-N64", "pruning", r, 64) for r in (5, 10, 20)]
    out += [Schedule(f"pruning-r10-N{n}", "pruning", 10.0, n) for n in (32, 128)]
    out += [Schedule(f"random-{k}", "random", seed=k) for k in range(n_random)]
    out.append(Schedule("digits-policy", "digits"))
    return out


def make_policy(s: Schedule) -> Any:
    """The policy of schedule ``s``."""
    from agents.rl.policies import fixed_policy

    return digits_policy() if s.kind == "digits" else fixed_policy(s.kind, s.size, s.seed)


def digits_policy() -> Any:
    """The shipped digits policy; on another action menu it acts through a menu adapter
    (:class:`agents.rl.sb3_policy.SB3Policy`)."""
    from agents.rl.sb3_policy import SB3Policy

    return SB3Policy.load(DIGITS_POLICY)


def config_env(name: str) -> dict[str, Any]:
    """The environment settings of the named training config, less its thread count (each
    study worker sets one thread)."""
    from agents.rl.config import load_config

    env = dict(load_config(name).env)
    env.pop("torch_threads", None)
    return env


@dataclass
class LevelRun:
    """One episode of the study: a schedule at a fidelity level on one baseline seed."""

    schedule: Schedule
    level: str
    seed: int
    env: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.schedule.name}|{self.level}|{self.seed}"


_ENVS: dict[tuple, Any] = {}  # per worker process: one environment per settings


def run_job(job: LevelRun) -> dict[str, Any]:
    """Run ``job``'s episode in this process (one torch thread); its row for the log."""
    import torch

    import tnf_env
    from tnf_env.rollout import rollout

    torch.set_num_threads(1)
    replicate = job.level == REPLICATE
    settings = {**job.env, "seed": job.seed, "fidelity": "full" if replicate else job.level,
                "rate_scale": job.schedule.rate_scale}
    key = tuple(sorted((k, repr(v)) for k, v in settings.items()))
    if key not in _ENVS:
        _ENVS[key] = tnf_env.make(**settings)
    env = _ENVS[key]
    policy = make_policy(job.schedule)
    t0, w0 = time.process_time(), time.perf_counter()
    (result,) = rollout([env], [policy], [EPISODE_SEED + job.seed + (1000 if replicate else 0)])
    info = result.final_info
    return {
        "key": job.key, "schedule": job.schedule.name, "kind": job.schedule.kind,
        "level": job.level, "seed": job.seed, "return": result.episode_return,
        "area_ratio": info["area_ratio"], "energy_ratio": info["energy_ratio"],
        "accuracy": info["accuracy"], "floor": info["accuracy_floor"],
        "is_success": bool(info["is_success"]), "delivered_step": info.get("delivered_step"),
        "last_step": info["step"], "crossbar_size": info["crossbar_sizes"][0],
        "cpu_seconds": time.process_time() - t0, "wall_seconds": time.perf_counter() - w0,
        "fidelity": info["fidelity"],
    }


def read_log(path: Path) -> dict[str, dict[str, Any]]:
    """The episodes of ``episodes.jsonl`` by key (a torn last line, from a kill, is dropped)."""
    rows: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "key" in row:
                rows[row["key"]] = row
    return rows


def run_study(
    out: Path, levels: Sequence[str], seeds: Sequence[int], env: dict[str, Any],
    workers: int = 2, resume: bool = False, on_row: Callable[[dict], object] | None = None,
    plan: Sequence[Schedule] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every schedule at ``full`` and each of ``levels`` on each seed (the episodes
    already in ``out`` are kept when ``resume``); returns all rows by key.

    :param plan: the schedules (default: :func:`schedules`).
    """
    from filelock import FileLock

    out.mkdir(parents=True, exist_ok=True)
    log = out / "episodes.jsonl"
    with FileLock(str(out / ".lock"), timeout=0):
        if log.exists() and not resume:
            raise SystemExit(f"{log} exists: pass --resume to go on with it, or another --out")
        (out / "study.json").write_text(json.dumps(
            {"levels": list(levels), "seeds": list(seeds), "env": env}, indent=1))
        done = read_log(log)
        jobs = [LevelRun(s, level, seed, env) for level in ("full", *levels) for seed in seeds
                for s in (plan or schedules())]
        todo = [j for j in jobs if j.key not in done]
        with ProcessPoolExecutor(max_workers=workers) as pool, log.open("a") as f:
            futures = [pool.submit(run_job, j) for j in todo]
            for fut in as_completed(futures):
                row = fut.result()
                f.write(json.dumps(row) + "\n")
                f.flush()
                done[row["key"]] = row
                if on_row is not None:
                    on_row(row)
    return done


# -- analysis -------------------------------------------------------------------------
def _paired(rows: dict[str, dict], level: str, seed: int, metric: str) -> tuple[list, list]:
    names = sorted({r["schedule"] for r in rows.values()})
    full, low = [], []
    for n in names:
        a, b = rows.get(f"{n}|full|{seed}"), rows.get(f"{n}|{level}|{seed}")
        if a is not None and b is not None:
            full.append(a[metric])
            low.append(b[metric])
    return full, low


def _corr(kind: str) -> Callable:
    from scipy import stats

    f = stats.kendalltau if kind == "tau" else stats.spearmanr

    def stat(x, y):
        with warnings.catch_warnings():  # constant returns (all fell back): no ranking, 0
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            value = f(x, y)[0]
        return 0.0 if np.isnan(value) else value

    return stat


def agreement(rows: dict[str, dict], level: str, seeds: Sequence[int], metric: str,
              kind: str, rng_seed: int = 0) -> dict[str, Any]:
    """Rank agreement of ``level`` with ``full`` on ``metric``: the mean over seeds of the
    per-seed coefficient, with a bootstrap interval (schedules resampled within each seed,
    pairs kept; BCa where it is defined, percentile otherwise)."""
    from scipy import stats

    stat = _corr(kind)
    paired = [_paired(rows, level, s, metric) for s in seeds]
    pairs = [(np.asarray(a), np.asarray(b)) for a, b in paired if len(a) >= 3]
    if not pairs:
        return {"value": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    value = float(np.mean([stat(a, b) for a, b in pairs]))
    # One resampling index per seed's schedules, drawn jointly: the statistic of a resample
    # is the mean of the seeds' coefficients on their resampled schedules.
    n = len(pairs[0][0])
    if any(len(a) != n for a, _ in pairs):
        return {"value": value, "low": float("nan"), "high": float("nan"), "n": len(pairs)}

    def mean_stat(idx, axis=-1):
        idx = np.asarray(idx, dtype=int)
        return np.mean([stat(a[idx], b[idx]) for a, b in pairs])

    res = stats.bootstrap((np.arange(n),), lambda i, axis=-1: mean_stat(i), vectorized=False,
                          n_resamples=999, method="percentile",
                          rng=np.random.default_rng(rng_seed))
    ci = res.confidence_interval
    return {"value": value, "low": float(ci.low), "high": float(ci.high), "n": len(pairs)}


def regret(rows: dict[str, dict], level: str, seeds: Sequence[int], top: int) -> float:
    """Mean over seeds of full's best return minus the best full return among the ``top``
    schedules the level ranks first."""
    out = []
    for s in seeds:
        names = sorted({r["schedule"] for r in rows.values()})
        pairs = [(rows[f"{n}|{level}|{s}"]["return"], rows[f"{n}|full|{s}"]["return"])
                 for n in names if f"{n}|{level}|{s}" in rows and f"{n}|full|{s}" in rows]
        if not pairs:
            continue
        ranked = sorted(pairs, key=lambda p: -p[0])
        out.append(max(p[1] for p in pairs) - max(p[1] for p in ranked[:top]))
    return float(np.mean(out)) if out else float("nan")


def cpu_per_episode(rows: dict[str, dict], level: str) -> float:
    xs = [r["cpu_seconds"] for r in rows.values() if r["level"] == level]
    return float(np.mean(xs)) if xs else float("nan")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the study's directory")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="the config whose env to use")
    parser.add_argument("--levels", nargs="+", default=["low"],
                        help=f"levels compared to full ({REPLICATE}: full from another "
                        "episode seed, the ceiling of any proxy's agreement)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="baseline seeds")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="episodes run side by side (one torch thread each)")
    parser.add_argument("--resume", action="store_true", help="go on with --out's episodes")
    parser.add_argument("--report", type=Path, help="only write the report (Markdown) and plot")
    args = parser.parse_args(argv)
    if args.report is not None:
        from .fidelity_report import write_report

        write_report(args.out, args.report)
        return
    from tnf_env.fidelity import FIDELITIES

    for level in args.levels:
        if level not in (*FIDELITIES[1:], REPLICATE):
            raise SystemExit(f"--levels {level!r}: allowed {', '.join(FIDELITIES[1:])} or "
                             f"{REPLICATE} (full from another episode seed)")
    env = config_env(args.config)
    from tqdm import tqdm

    total = len(schedules()) * len(args.seeds) * (1 + len(args.levels))
    done = len(read_log(args.out / "episodes.jsonl")) if args.resume else 0
    bar = tqdm(total=total, initial=done, desc="fidelity study", unit="episode")
    run_study(args.out, args.levels, args.seeds, env, args.workers, args.resume,
              on_row=lambda row: bar.update(1))
    bar.close()
    print(f"episodes in {args.out / 'episodes.jsonl'}; report: --report FILE")


if __name__ == "__main__":
    main()
