"""Environment speed: seconds per reset and step, time outside retraining, vector speed-up.

Run: ``.venv/bin/python benchmarks/bench_env.py [--configs digits mnist-10k] [--steps 10]``

Steps follow the paper's schedule (so they include clustering, mapping and
costing as well as retraining). Targets on a 2-core CPU (issue 5): digits step
<= 0.5 s; mnist-10k (784-1200-1200-10, one epoch per step) step <= 6 s; time
outside retraining <= 35% of the step; 2 subprocess workers >= 1.6x one.
The speed-up is measured in the same run as the single-worker baseline.
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
    "digits": dict(dataset="digits"),
    "mnist-10k": dict(dataset="mnist-10k", topology="784-1200-1200-10", retrain_epochs=1.0),
}


def time_episodes(settings: dict, steps: int, episodes: int) -> dict:
    env = tnf_env.make(max_steps=steps, **settings)
    resets, step_s, retrain_s = [], [], []
    for ep in range(episodes):
        t0 = time.perf_counter()
        obs, info = env.reset(seed=ep)
        resets.append(time.perf_counter() - t0)
        policy = PaperPolicy()
        policy.reset(env)
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(policy.act(obs, info))
            timing = env.unwrapped.last_step_timing
            step_s.append(timing["step"])
            retrain_s.append(timing["retrain"])
            done = term or trunc
    outside = [(s - r) / s for s, r in zip(step_s, retrain_s, strict=True)]
    return {
        "reset_median_s": statistics.median(resets),
        "step_median_s": statistics.median(step_s),
        "outside_retrain_share_median": statistics.median(outside),
        "outside_retrain_share_total": 1 - sum(retrain_s) / sum(step_s),
        "steps_timed": len(step_s),
    }


def vec_throughput(settings: dict, n_envs: int, steps: int) -> float:
    """Environment steps per second with ``n_envs`` subprocess workers (1 torch thread each)."""
    from stable_baselines3.common.vec_env import SubprocVecEnv

    def factory():
        return tnf_env.make(max_steps=steps, torch_threads=1, **settings)

    venv = SubprocVecEnv([factory for _ in range(n_envs)], start_method="spawn")
    venv.seed(0)
    venv.reset()
    nvec = venv.action_space.nvec
    rng = np.random.default_rng(0)
    actions = [
        np.stack([np.r_[rng.integers(0, nvec[:-1]), 0] for _ in range(n_envs)])
        for _ in range(steps)
    ]
    venv.step(actions[0])  # warm-up: first step pays for imports in the workers
    t0 = time.perf_counter()
    for a in actions[1:]:
        venv.step(a)
    elapsed = time.perf_counter() - t0
    venv.close()
    return n_envs * (len(actions) - 1) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--steps", type=int, default=10, help="steps per episode")
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--vec-steps", type=int, default=12, help="steps for the vector test")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    results = {}
    for name in args.configs:
        r = time_episodes(CONFIGS[name], args.steps, args.episodes)
        one = vec_throughput(CONFIGS[name], 1, args.vec_steps)
        two = vec_throughput(CONFIGS[name], 2, args.vec_steps)
        r.update(steps_per_s_1_worker=one, steps_per_s_2_workers=two, speedup_2_over_1=two / one)
        results[name] = r
        print(
            f"{name:10s} reset {r['reset_median_s']:.3f} s  step {r['step_median_s']:.3f} s  "
            f"outside retraining {100 * r['outside_retrain_share_total']:.0f}% "
            f"(median step {100 * r['outside_retrain_share_median']:.0f}%)  "
            f"1 worker {one:.2f} steps/s  2 workers {two:.2f} steps/s  x{two / one:.2f}",
            flush=True,
        )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
