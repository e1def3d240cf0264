"""How long uniformly random actions keep an episode going, with and without a stop action.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python scripts/random_episode_length.py
[--episodes 20] [--max-steps 10] [--retrain-epochs 1.0]``

Each episode resets with seed k and steps ``env.action_space.sample()`` (the space seeded
with k) until the episode ends, once with ``allow_stop=True`` and once with
``allow_stop=False``, on digits. With the stop component each sampled action stops with
probability 1/2, so most random episodes end after a step or two and return (close to)
nothing: an exploring agent sees little of the horizon. Prints the episode lengths, their
mean, how many ended at step 1 and how the episodes ended, per setting.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

import torch

import tnf_env


def lengths(allow_stop: bool, episodes: int, settings: dict) -> tuple[list[int], Counter]:
    """Steps of ``episodes`` random-action episodes (seeds 0..episodes-1) and how they ended:
    ``stop`` (the action's stop), ``collapse`` (accuracy fell below the floor minus the
    collapse margin), ``error`` or ``horizon``."""
    env = tnf_env.make(allow_stop=allow_stop, **settings)
    codec = tnf_env.episode_of(env).codec
    out, ends = [], Counter()
    for seed in range(episodes):
        env.reset(seed=seed)
        env.action_space.seed(seed)
        steps, done = 0, False
        while not done:
            action = env.action_space.sample()
            _, _, terminated, truncated, info = env.step(action)
            steps += 1
            done = terminated or truncated
        if codec.decode(action).stop:
            ends["stop"] += 1
        elif "error" in info:
            ends["error"] += 1
        else:
            ends["collapse" if terminated else "horizon"] += 1
        out.append(steps)
    env.close()
    return out, ends


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20, help="episodes per setting")
    parser.add_argument("--max-steps", type=int, default=10, help="the horizon (max_steps)")
    parser.add_argument("--retrain-epochs", type=float, default=1.0,
                        help="retraining per step (the setting's default)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = dict(dataset="digits", max_steps=args.max_steps,
                    retrain_epochs=args.retrain_epochs)
    print(f"digits, max_steps={args.max_steps}, retrain_epochs={args.retrain_epochs}, "
          f"{args.episodes} episodes per setting, env.action_space.sample() seeded per episode")
    for allow_stop in (True, False):
        t0 = time.perf_counter()
        got, ends = lengths(allow_stop, args.episodes, settings)
        at_one = sum(n == 1 for n in got)
        print(f"allow_stop={allow_stop!s:5}: mean length {statistics.mean(got):.2f} "
              f"(median {statistics.median(got):g}, min {min(got)}, max {max(got)}); "
              f"ended at step 1: {at_one}/{len(got)}; ends {dict(ends)}; lengths {got} "
              f"[{time.perf_counter() - t0:.0f} s]")


if __name__ == "__main__":
    main()
