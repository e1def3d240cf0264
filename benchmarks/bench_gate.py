"""What the loss gate's decisions and an episode's delivered network owe to the images the
gate's loss is measured on.

Run: ``.venv/bin/python benchmarks/bench_gate.py [--dataset mnist-10k] [--seeds 0 1 2]
[--sizes 250 500 1000 2000] [--gate 1000] [--json FILE]``

Per seed, one paper-schedule episode (mnist-10k: 12 x 5 epochs, N = 64; one torch thread)
runs with the gate on the whole training set, and at every one-epoch sub-iteration also
measures the loss on seeded, class-stratified subsets of ``--sizes`` images and the mean of
the epoch's own minibatch losses (dropout on, weights moving): for each proxy, how many of
the gate's decisions ("the loss fell since the last sub-iteration") it would have taken
otherwise. A second episode then runs with the gate on ``--gate`` images (the default
setting), and both delivered networks are printed: delivered step, validation and test
accuracy, area ratio, and the seconds each episode took.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import tnf_env
from agents.rl.policies import PaperPolicy, run_episode
from tnf_env.data.subset import stratified_indices
from tnf_env.model.training import evaluate
from tnf_env.transform.transformation import Transformation

SETTINGS = {
    "mnist-10k": dict(dataset="mnist-10k", max_steps=12, retrain_epochs=5.0,
                      crossbar_sizes=[64]),
    "digits": dict(dataset="digits", max_steps=10, retrain_epochs=1.0),
}


def recorded_episode(settings: dict, seed: int, sizes: list[int]) -> tuple[dict, dict]:
    """The whole-set gate's episode; per proxy its losses, and the episode's summary."""
    env = tnf_env.make(**settings, gate_images=None)
    episode = tnf_env.episode_of(env)
    task = episode.task
    y = task.y_train.cpu().numpy()
    subsets = {n: stratified_indices(y, n) for n in sizes if n < len(y)}
    trace: dict[str, list[float]] = {"all": [], "epoch mean": []}
    trace |= {f"{n} images": [] for n in subsets}
    plain_loss, plain_retrain = Transformation.train_loss, Transformation.retrain

    def train_loss(tr: Transformation) -> float:
        loss = plain_loss(tr)
        trace["all"].append(loss)
        for n, pick in subsets.items():
            idx = torch.as_tensor(pick, device=tr.x_train.device)
            sub = evaluate(tr.net, tr.x_train[idx], tr.y_train[idx])[1]
            trace[f"{n} images"].append(sub)
        return loss

    def retrain(tr: Transformation, epochs: float) -> float:
        mean = plain_retrain(tr, epochs)
        trace["epoch mean"].append(mean)
        return mean

    Transformation.train_loss, Transformation.retrain = train_loss, retrain
    try:
        env.reset(seed=seed)  # the start's losses, the first reference of each proxy
        tr = episode.network
        trace["all"].insert(0, task.start_loss)
        for n, pick in subsets.items():
            idx = torch.as_tensor(pick, device=tr.x_train.device)
            trace[f"{n} images"].insert(0, evaluate(tr.net, tr.x_train[idx], tr.y_train[idx])[1])
        trace["epoch mean"].insert(0, float("inf"))  # no epoch yet: the first one "fell"
        t0 = time.perf_counter()
        res = run_episode(env, PaperPolicy(), seed)
        seconds = time.perf_counter() - t0
    finally:
        Transformation.train_loss, Transformation.retrain = plain_loss, plain_retrain
    fell = {k: np.diff(np.asarray(v)) < 0 for k, v in trace.items()}
    flips = {k: int((f != fell["all"]).sum()) for k, f in fell.items() if k != "all"}
    return {"decisions": int(fell["all"].size), "fell": int(fell["all"].sum()),
            "disagreements": flips}, summary(res, seconds)


def summary(res, seconds: float) -> dict:
    i = res.final_info
    return {"delivered_step": i["delivered_step"], "accuracy_val": i["accuracy"],
            "area_ratio": i["area_ratio"], "energy_ratio": i["energy_ratio"],
            "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist-10k", choices=list(SETTINGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--gate", type=int, default=1000, help="the gate's images, run 2")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = SETTINGS[args.dataset]
    out = []
    for seed in args.seeds:
        decisions, whole = recorded_episode(settings, seed, args.sizes)
        env = tnf_env.make(**settings, gate_images=args.gate)
        t0 = time.perf_counter()
        res = run_episode(env, PaperPolicy(), seed)
        subset = summary(res, time.perf_counter() - t0)
        out.append({"seed": seed, **decisions, "whole": whole, f"gate {args.gate}": subset})
        print(f"seed {seed}: {decisions['decisions']} gate decisions "
              f"({decisions['fell']} 'fell'); changed by: "
              + ", ".join(f"{k} {v}" for k, v in decisions["disagreements"].items()))
        for name, s in (("whole set", whole), (f"gate {args.gate}", subset)):
            print(f"  {name:>10}: delivered step {s['delivered_step']}, val acc "
                  f"{s['accuracy_val']:.4f}, area ratio {s['area_ratio']:.4f}, energy ratio "
                  f"{s['energy_ratio']:.4f}, episode {s['seconds']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
