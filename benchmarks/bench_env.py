"""Environment speed: a whole paper-schedule episode, with and without compaction.

Run: ``.venv/bin/python benchmarks/bench_env.py [--configs digits mnist-10k] [--device cpu]``

For each config a paper-schedule episode (the release's E epochs: digits 10 x 1,
mnist-10k 12 x 5 = 60) runs with the live sub-network compacted (the default)
and with ``compact=False`` (dense masked products), alternating in one process
``--repeats`` times (medians), so the ratio holds on a noisy machine.
Reported: reset time, the first and the last step (the network is dense at
the start and sparse at the end), the episode's wall time, the share of step
time outside retraining (clustering, mapping, costing, measuring), and whether
both modes delivered the same network. ``--vec`` adds the subprocess vector-env speed-up of issue 5.

Targets (issue 15): the mnist-10k episode at most 0.5x the time before compaction;
outside retraining at most 50% of a step on digits and 20% on mnist-10k.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

import tnf_env
from agents.policies import PaperPolicy

CONFIGS = {
    "digits": dict(dataset="digits", max_steps=10, retrain_epochs=1.0),
    "mnist-10k": dict(
        dataset="mnist-10k",
        topology="784-1200-1200-10",
        max_steps=12,
        retrain_epochs=5.0,
        crossbar_sizes=[64],
    ),
}


def time_episode(settings: dict, seed: int = 0) -> dict:
    """One paper-schedule episode; step times, retraining share and what it delivered."""
    env = tnf_env.make(**settings)
    t0 = time.perf_counter()
    obs, info = env.reset(seed=seed)
    reset_s = time.perf_counter() - t0
    policy = PaperPolicy()
    policy.reset(env)
    steps, retrain = [], []
    done = False
    t0 = time.perf_counter()
    while not done:
        obs, _, term, trunc, info = env.step(policy.act(obs, info))
        timing = env.unwrapped.last_step_timing
        steps.append(timing["step"])
        retrain.append(timing["retrain"])
        done = term or trunc
    wall = time.perf_counter() - t0
    masks = env.unwrapped.transformation.masks()
    env.close()
    return {
        "reset_s": reset_s,
        "first_step_s": steps[0],
        "last_step_s": steps[-1],
        "episode_s": wall,
        "outside_retrain_share": 1 - sum(retrain) / sum(steps),
        "accuracy": info["accuracy"],
        "area_ratio": info["area_ratio"],
        "nnz": int(sum(m.sum() for m in masks)),
    }


def vec_throughput(settings: dict, n_envs: int, steps: int) -> float:
    """Environment steps per second with ``n_envs`` subprocess workers (1 torch thread each)."""
    from stable_baselines3.common.vec_env import SubprocVecEnv

    def factory():
        return tnf_env.make(**{**settings, "max_steps": steps, "torch_threads": 1})

    venv = SubprocVecEnv([factory for _ in range(n_envs)], start_method="spawn")
    venv.seed(0)
    venv.reset()
    nvec = venv.action_space.nvec
    rng = np.random.default_rng(0)
    actions = [np.stack([rng.integers(0, nvec) for _ in range(n_envs)]) for _ in range(steps)]
    venv.step(actions[0])  # warm-up: first step pays for imports in the workers
    t0 = time.perf_counter()
    for a in actions[1:]:
        venv.step(a)
    elapsed = time.perf_counter() - t0
    venv.close()
    return n_envs * (len(actions) - 1) / elapsed


def _median(runs: list[dict]) -> dict:
    """Per key, the median over the runs (numbers); whether every run delivered alike."""
    out = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
    out["nnz"] = runs[0]["nnz"] if len({run["nnz"] for run in runs}) == 1 else -1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--device", default="cpu", help="cpu, cuda[:k], mps or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: a worker)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="episodes per mode (default: digits 5, mnist-10k 1)")
    parser.add_argument(
        "--nonideal", choices=["default", "on", "off"], default="default",
        help="accuracy on non-ideal crossbars (default: the environment's default, on)",
    )
    parser.add_argument("--vec", action="store_true", help="also time 1 vs 2 subprocess workers")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    for name in args.configs:
        base = {**CONFIGS[name], "device": args.device}
        if args.nonideal != "default":
            base["nonideal"] = args.nonideal == "on"
        repeats = args.repeats or (5 if name == "digits" else 1)
        runs: dict[str, list[dict]] = {"compact": [], "dense": []}
        for _ in range(repeats):
            for mode in runs:
                runs[mode].append(time_episode({**base, "compact": mode == "compact"}))
        r: dict = {mode: _median(rs) for mode, rs in runs.items()}
        r["episode_ratio"] = r["compact"]["episode_s"] / r["dense"]["episode_s"]
        r["same_network"] = r["compact"]["nnz"] == r["dense"]["nnz"]
        if args.vec:
            one = vec_throughput(base, 1, 12)
            two = vec_throughput(base, 2, 12)
            r["vec_speedup_2_over_1"] = two / one
        results[name] = r
        for mode in ("compact", "dense"):
            m = r[mode]
            print(
                f"{name:9s} {mode:7s} reset {m['reset_s']:.2f} s  "
                f"first step {m['first_step_s']:.2f}"
                f" s  last step {m['last_step_s']:.2f} s  episode {m['episode_s']:.1f} s  "
                f"outside retraining {100 * m['outside_retrain_share']:.0f}%  "
                f"val acc {m['accuracy']:.4f}  area {m['area_ratio']:.3f}",
                flush=True,
            )
        print(
            f"{name:9s} episode compact/dense = {r['episode_ratio']:.2f}; "
            f"same delivered masks: {r['same_network']}",
            flush=True,
        )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
