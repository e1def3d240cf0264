"""Where is the frontier? Run fixed per-layer prune-level schedules and see which meet the floor.

Not a speed benchmark: an analysis of the environment. Each schedule prunes
every layer at a constant level (times the layer's paper rate, loss-gated like
every schedule), optionally clusters once (SCIC at 0.7 on every layer) at one
step, and is scored like an episode: final cost, validation margin to the
floor, floor met. The chip uses the config's first crossbar size. The
pruning-only schedule is ``1,1,...``. Levels need not be
in the default action set: the environment is built with the levels asked for.

Example (about a minute per schedule and seed on mnist-10k)::

    python scripts/fixed_schedules.py --config mnist10k_warm_pruning \\
        --levels 1,1,1 1.5,1,1 1,1.5,1 --seeds 0 1
    python scripts/fixed_schedules.py --config mnist10k_warm_pruning \\
        --levels 1,1,1 --cluster-at 9 --seeds 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tnf_env  # noqa: E402
from agents.rl.config import load_config  # noqa: E402
from tnf_env.actions import PRUNE_LEVELS, DecodedAction  # noqa: E402


def parse_levels(text: str) -> tuple[float, ...]:
    try:
        levels = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise SystemExit(f"--levels {text!r}: expected comma-separated numbers") from None
    if any(x < 0 for x in levels):
        raise SystemExit(f"--levels {text!r}: levels must be >= 0")
    return levels


def check_layers(schedules: list[tuple[float, ...]], n_layers: int) -> None:
    for levels in schedules:
        if len(levels) != n_layers:
            text = ",".join(f"{x:g}" for x in levels)
            raise SystemExit(f"--levels {text!r}: expected {n_layers} numbers >= 0, one per layer")


def run(env, levels: tuple[float, ...], cluster_at: int | None, seed: int) -> dict:
    codec = tnf_env.episode_of(env).codec
    L = codec.n_layers
    t0 = time.perf_counter()
    env.reset(seed=seed)
    margins, done, step = [], False, 0
    while not done:
        action = codec.encode(DecodedAction(
            prune_levels=list(levels),
            cluster_options=["scic" if step == cluster_at else "none"] * L,
            cluster_prune=[None] * L,
            crossbar_sizes=[codec.sizes[0]] * L,  # the config's first crossbar size
        ))
        _, _, terminated, truncated, info = env.step(action)
        margins.append(round(100 * (info["accuracy"] - info["accuracy_floor"]), 2))
        done, step = terminated or truncated, step + 1
    return {
        "levels": list(levels),
        "cluster_at": cluster_at,
        "seed": seed,
        "cost": info["cost"],
        "area_ratio": info["area_ratio"],
        "energy_ratio": info["energy_ratio"],
        "margin_points": margins[-1],
        "floor_met": bool(info["is_success"]),
        "steps": step,
        "sparsity": info["sparsity"],
        "margins": margins,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="mnist10k_warm_pruning", help="training config (its env)")
    p.add_argument("--levels", nargs="+", default=["1,1,1"], help="per-layer levels, e.g. 1.5,1,1")
    p.add_argument("--cluster-at", type=int, default=None, help="step of one SCIC on every layer")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--out", default=None, help="write the rows as JSON here")
    args = p.parse_args(argv)

    settings = dict(load_config(args.config).env)
    schedules = [parse_levels(s) for s in args.levels]
    extra = sorted({x for lv in schedules for x in lv} - set(PRUNE_LEVELS))
    settings["prune_levels"] = list(PRUNE_LEVELS) + extra
    settings.setdefault("torch_threads", 1)
    settings["select_on_validation"] = False  # the question is whether the last step holds
    env = tnf_env.make(**settings)  # loads the data and baseline once for every schedule
    try:
        check_layers(schedules, tnf_env.task_of(env).n_layers)
    except SystemExit:
        env.close()
        raise
    rows = []
    print("| levels | cluster at | seed | cost | area | energy | margin (points) | floor met |")
    print("|---|---|---|---|---|---|---|---|")
    for levels in schedules:
        for seed in args.seeds:
            r = run(env, levels, args.cluster_at, seed)
            rows.append(r)
            print(
                f"| {','.join(f'{x:g}' for x in levels)} | {args.cluster_at} | {seed} "
                f"| {r['cost']:.4f} | {r['area_ratio']:.4f} | {r['energy_ratio']:.4f} "
                f"| {r['margin_points']:+.2f} | {'yes' if r['floor_met'] else 'no'} |",
                flush=True,
            )
    env.close()
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
