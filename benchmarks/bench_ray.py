"""Throughput of ``search`` on a local Ray instance against the single-machine ``train``.

Runs the same training configuration three ways and reports environment steps
per second: plainly in this process (1 core), as 1 Ray trial on a 1-CPU local
instance, and as 2 concurrent Ray trials on a 2-CPU instance. Ray's overhead
per step is the difference of the trials' own training time and the plain
run's, divided by the steps; Ray's start-up is reported separately.

    python benchmarks/bench_ray.py --config digits --timesteps 400
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from agents.rl.config import load_config
from agents.rl.training import train
from agents.search.tune import SearchConfig, run_search


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="digits")
    ap.add_argument("--timesteps", type=int, default=400, help="steps per run (per trial)")
    args = ap.parse_args()
    cfg = load_config(args.config, timesteps=args.timesteps, n_envs=1)
    tmp = Path(tempfile.mkdtemp(prefix="bench_ray_"))

    t0 = time.perf_counter()
    train(cfg, tmp / "plain", progress_bar=False, cores=1)
    plain = time.perf_counter() - t0
    rows = [("train (no Ray, 1 core)", 1, plain, plain, args.timesteps)]
    for workers in (1, 2):
        doc = run_search(
            SearchConfig(cfg, tmp / f"ray{workers}", seeds=tuple(range(workers)), num_cpus=workers),
            log=lambda s: None,
        )
        trial_s = max(t["trial_seconds"] for t in doc["trials"])
        rows.append(
            (
                f"search, {workers} Ray worker(s)",
                workers,
                doc["wall_seconds"],
                trial_s,
                workers * args.timesteps,
            )
        )
    print(f"config {cfg.name}, {args.timesteps} steps per run (output in {tmp})\n")
    print("| run | workers | wall s (Tune) | training s | steps/s (wall) | steps/s (training) |")
    print("|---|---|---|---|---|---|")
    for name, w, wall, trial_s, steps in rows:
        print(
            f"| {name} | {w} | {wall:.1f} | {trial_s:.1f} | {steps / wall:.2f} | "
            f"{steps / trial_s:.2f} |"
        )
    one = rows[1]
    print(
        f"\nRay overhead per step (1 worker, training time): "
        f"{1000 * (one[3] - plain) / args.timesteps:.1f} ms; "
        f"Tune start-up and scheduling: {one[2] - one[3]:.1f} s per search; "
        f"starting local Ray: {doc['ray_start_seconds']:.1f} s"
    )


if __name__ == "__main__":
    main()
