"""Where an environment step's time goes, and how it compares with an earlier commit.

Run: ``.venv/bin/python benchmarks/bench_env.py [--configs digits mnist-10k]
[--device cpu] [--against abe78da] [--repeats 1]``

For each config one paper-schedule episode (seed 0; digits 10 x 1 epoch, mnist-10k
12 x 5 = the release's 60 epochs) runs on one torch thread. Each step's time is split
into retraining (epochs and the loss gate's full training loss), clustering (SCIC),
mapping + costing, non-ideal evaluation (effective weights and the non-ideal
validation pass), validation (the ideal pass) and other, and summed per step kind:
``prune`` (no SCIC ran), ``onset`` (the episode's first SCIC) and ``recluster``.

The roofline: every retraining call's multiply-adds of the live sub-network (forward, weight
gradient and, past the first layer, input gradient; counted over the live blocks as dense,
and over the kept weights alone) over its seconds, against this process's measured
single-thread fp32 matmul rate (a 400 x 1200 x 1200 product, forward and backward).

``--fidelity full low`` times the episode at each fidelity level (tnf_env.fidelity), one
after the other, and prints each level's episode, retraining and outside-retraining
seconds as a ratio to ``full``'s.

``--against REF`` also runs the same episode with the code of commit REF (a temporary
git worktree, in a subprocess), alternating with this checkout ``--repeats`` times,
and prints the ratios of the medians: the machine may be noisy, the ratio holds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
PARTS = ("retrain", "cluster", "mapping", "nonideal", "validation")


def matmul_rate(repeats: int = 20) -> float:
    """FLOP/s of one thread on a 400 x 1200 x 1200 fp32 product, forward and backward."""
    import torch
    from torch.nn import functional as F

    g = torch.Generator().manual_seed(0)
    x = torch.rand(400, 1200, generator=g, requires_grad=True)
    w = torch.rand(1200, 1200, generator=g, requires_grad=True)
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        F.linear(x, w).sum().backward()
        times.append(time.perf_counter() - t0)
    return 3 * 2 * 400 * 1200 * 1200 / statistics.median(times[1:])


def retrain_flops(net, images: float) -> tuple[float, float]:
    """FLOPs of training ``net`` on ``images`` images: over its live blocks as dense, and
    over its kept weights alone (forward, weight gradient, and the input gradient of every
    layer but the first)."""
    plan = net.live_plan() if hasattr(net, "live_plan") else None
    dense = kept = 0.0
    for i in range(net.n_layers):
        mask = net.mask(i)
        rows = cols = None
        if plan is not None:
            rows, cols = plan.layers[i].rows, plan.layers[i].cols
        r = mask.shape[0] if rows is None else len(rows)
        c = mask.shape[1] if cols is None else len(cols)
        passes = 2 if i == 0 else 3
        dense += 2 * passes * r * c
        kept += 2 * passes * float(mask.sum())
    return dense * images, kept * images


def episode(settings: dict, seed: int = 0) -> dict:
    """One paper-schedule episode; per step its timing parts, and what it delivered."""
    import torch

    import tnf_env

    try:
        from tnf_env.transform.transformation import Transformation
    except ImportError:  # a commit before tnf_env/ was split into subpackages
        from tnf_env.transform import Transformation

    if (Path(tnf_env.__file__).parents[1] / "agents" / "rl").is_dir():
        from agents.rl.policies import PaperPolicy
    else:  # a commit before the agents/ layout split
        from agents.policies import PaperPolicy

    torch.set_num_threads(1)
    rate = matmul_rate()
    calls: list[tuple[float, float, float]] = []  # per retraining call: s, dense, kept FLOPs
    plain = Transformation.retrain

    def retrain(tr, epochs):
        share = getattr(tr, "epoch_share", 1.0)  # the images an epoch visits at its level
        flops = retrain_flops(tr.net, epochs * tr.x_train.shape[0] * share)
        t = time.perf_counter()
        out = plain(tr, epochs)
        calls.append((time.perf_counter() - t, *flops))
        return out

    Transformation.retrain = retrain
    env = tnf_env.make(**settings)
    t0 = time.perf_counter()
    obs, info = env.reset(seed=seed)
    reset_s = time.perf_counter() - t0
    policy = PaperPolicy()
    policy.reset(env)
    steps, done = [], False
    t0 = time.perf_counter()
    while not done:
        obs, _, term, trunc, info = env.step(policy.act(obs, info))
        steps.append(dict(tnf_env.episode_of(env).last_step_timing))
        done = term or trunc
    wall = time.perf_counter() - t0
    env.close()
    return {
        "module": tnf_env.__file__,
        "reset_s": reset_s,
        "episode_s": wall,
        "steps": steps,
        "accuracy": info["accuracy"],
        "area_ratio": info["area_ratio"],
        "delivered_step": info.get("delivered_step"),
        "matmul_flops": rate,
        "retrain_calls_s": sum(c[0] for c in calls),
        "retrain_dense_flops": sum(c[1] for c in calls),
        "retrain_kept_flops": sum(c[2] for c in calls),
    }


def step_kinds(steps: list[dict]) -> list[str]:
    kinds, seen = [], False
    for s in steps:
        ran = s.get("scic_runs", 0) + s.get("scic_skipped", 0) > 0
        kinds.append("prune" if not ran else "recluster" if seen else "onset")
        seen |= ran
    return kinds


def breakdown(run: dict, kinds: list[str]) -> dict[str, dict[str, float]]:
    """Seconds per step kind and part (``other``: the rest of the step)."""
    out: dict[str, dict[str, float]] = {}
    for s, kind in zip(run["steps"], kinds, strict=True):
        row = out.setdefault(kind, {p: 0.0 for p in (*PARTS, "other", "step", "n")})
        for p in PARTS:
            row[p] += s.get(p, 0.0)
        row["other"] += s["step"] - sum(s.get(p, 0.0) for p in PARTS)
        row["step"] += s["step"]
        row["n"] += 1
    return out


def run_at(ref_tree: Path | None, config: str, device: str, seed: int,
           level: str = "full") -> dict:
    """The episode in a subprocess, importing the project from ``ref_tree`` (or here), at
    fidelity ``level`` (``full``: the setting left out, as a commit before it knew it)."""
    tree = ref_tree or ROOT
    env = {**os.environ, "PYTHONPATH": str(tree)}
    shared = ROOT.parent / "shared" / "data"  # a temporary tree has no ../shared beside it
    if "TNF_DATA" not in env and shared.is_dir():
        env["TNF_DATA"] = str(shared)
    cmd = [sys.executable, __file__, "--worker", config, "--device", device, "--seeds", str(seed),
           "--fidelity", level]
    out = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"episode at {tree} failed:\n{out.stderr[-2000:]}")
    run = json.loads(out.stdout.strip().splitlines()[-1])
    if not run["module"].startswith(str(tree)):
        raise SystemExit(f"expected tnf_env from {tree}, imported {run['module']}")
    return run


def _share(parts: dict[str, float], keys) -> float:
    return sum(parts[k] for k in keys) / parts["step"] if parts["step"] else float("nan")


def report(name: str, runs: list[dict], old: list[dict]) -> dict:
    kinds = step_kinds(runs[0]["steps"])
    per = [breakdown(r, kinds) for r in runs]
    table = {
        k: {p: statistics.median(b[k][p] for b in per) for p in per[0][k]} for k in per[0]
    }
    total = {p: sum(t[p] for t in table.values()) for p in (*PARTS, "other", "step")}
    print(f"\n{name}: {len(runs)} episode(s); seconds summed over the steps of each kind")
    print(f"{'kind':10s} {'steps':>5s} " + " ".join(f"{p:>10s}" for p in (*PARTS, "other"))
          + f" {'step':>8s}")
    for kind, row in [*table.items(), ("all", {**total, "n": len(kinds)})]:
        print(f"{kind:10s} {int(row['n']):5d} "
              + " ".join(f"{row[p]:10.2f}" for p in (*PARTS, "other")) + f" {row['step']:8.2f}")
    scic = sum(s.get("scic_runs", 0) for s in runs[0]["steps"])
    skipped = sum(s.get("scic_skipped", 0) for s in runs[0]["steps"])
    out = {
        "episode_s": statistics.median(r["episode_s"] for r in runs),
        "outside_retrain_share": 1 - total["retrain"] / total["step"],
        "cluster_map_nonideal_share": _share(total, ("cluster", "mapping", "nonideal")),
        "scic_runs": scic,
        "scic_skipped": skipped,
        "breakdown": table,
        "accuracy": runs[0]["accuracy"],
        "area_ratio": runs[0]["area_ratio"],
    }
    print(f"episode {out['episode_s']:.1f} s; outside retraining "
          f"{100 * out['outside_retrain_share']:.1f}%; clustering + mapping + non-ideal "
          f"{100 * out['cluster_map_nonideal_share']:.1f}%; SCIC runs {scic}, skipped calls "
          f"{skipped}; val acc {out['accuracy']:.4f}, area ratio {out['area_ratio']:.3f}")
    r = runs[0]
    if r.get("retrain_calls_s"):
        sec, rate = r["retrain_calls_s"], r["matmul_flops"]
        dense, kept = r["retrain_dense_flops"] / sec, r["retrain_kept_flops"] / sec
        out["roofline"] = {"matmul_gflops": rate / 1e9, "live_dense_gflops": dense / 1e9,
                           "kept_gflops": kept / 1e9, "retrain_calls_s": sec}
        print(f"roofline: retraining {sec:.1f} s (epochs only, not the gate's loss) at "
              f"{dense / 1e9:.1f} GFLOP/s over the live blocks as dense "
              f"({100 * dense / rate:.0f}% of the measured single-thread fp32 matmul rate, "
              f"{rate / 1e9:.1f} GFLOP/s) and {kept / 1e9:.1f} GFLOP/s over the kept weights "
              f"({100 * kept / rate:.0f}%)")
    if old:
        o_ep = statistics.median(r["episode_s"] for r in old)
        o_re = statistics.median(sum(s["retrain"] for s in r["steps"]) for r in old)
        o_out = statistics.median(sum(s["step"] - s["retrain"] for s in r["steps"]) for r in old)
        n_out = total["step"] - total["retrain"]
        out["against"] = {"episode_s": o_ep, "retrain_s": o_re, "outside_s": o_out,
                          "accuracy": old[0]["accuracy"], "area_ratio": old[0]["area_ratio"]}
        print(f"against the reference: episode {o_ep:.1f} -> {out['episode_s']:.1f} s "
              f"(x{out['episode_s'] / o_ep:.2f}); retraining {o_re:.1f} -> "
              f"{total['retrain']:.1f} s (x{total['retrain'] / o_re:.2f}); outside retraining "
              f"{o_out:.1f} -> {n_out:.1f} s (x{n_out / o_out:.2f}); reference delivered val acc "
              f"{old[0]['accuracy']:.4f}, area ratio {old[0]['area_ratio']:.3f}")
    return out


def delivered(name, args, ref_tree, first: dict, first_old: dict | None) -> list[dict]:
    """Per seed, the validation accuracy and area ratio each version delivered."""
    rows = []
    for seed in args.seeds:
        new = first if seed == args.seeds[0] else run_at(None, name, args.device, seed)
        row = {"seed": seed, "accuracy": new["accuracy"], "area_ratio": new["area_ratio"]}
        if ref_tree is not None:
            old = first_old if seed == args.seeds[0] else run_at(ref_tree, name, args.device, seed)
            row.update(accuracy_ref=old["accuracy"], area_ratio_ref=old["area_ratio"])
        rows.append(row)
        ref = (f"; reference: val acc {row['accuracy_ref']:.4f}, area ratio "
               f"{row['area_ratio_ref']:.3f}") if ref_tree is not None else ""
        print(f"{name} seed {seed}: val acc {row['accuracy']:.4f}, area ratio "
              f"{row['area_ratio']:.3f}{ref}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--device", default="cpu", help="cpu, cuda[:k], mps or auto")
    parser.add_argument("--repeats", type=int, default=1, help="episodes per code version")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="episode seeds; timings are of the first, the delivered "
                             "network is reported for each")
    parser.add_argument("--against", metavar="REF", help="also time the code of this commit")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--fidelity", nargs="+", default=["full"],
                        help="fidelity levels to time, each against full's (tnf_env.fidelity)")
    parser.add_argument("--worker", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against and args.fidelity != ["full"]:
        parser.error("--against times full fidelity only (an earlier commit has no levels)")
    if args.worker:
        level = args.fidelity[0]
        settings = {**CONFIGS[args.worker], "device": args.device,
                    **({"fidelity": level} if level != "full" else {})}
        print(json.dumps(episode(settings, args.seeds[0])))
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        ref_tree = None
        if args.against:
            ref_tree = Path(tmp) / "ref"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                            str(ref_tree), args.against], check=True)
        try:
            for name in args.configs:
                levels = list(dict.fromkeys(["full", *args.fidelity]))
                for level in levels:
                    key = name if level == "full" else f"{name}@{level}"
                    runs, old = [], []
                    for _ in range(args.repeats):
                        if ref_tree is not None:
                            old.append(run_at(ref_tree, name, args.device, args.seeds[0]))
                        runs.append(run_at(None, name, args.device, args.seeds[0], level))
                    results[key] = report(key, runs, old)
                    if level == "full":
                        results[key]["delivered"] = delivered(
                            name, args, ref_tree, runs[0], old[0] if old else None
                        )
                for level in levels[1:]:
                    full, low = results[name], results[f"{name}@{level}"]
                    parts = [(p, sum(r[p] for r in x["breakdown"].values()))
                             for x in (full, low) for p in ("retrain", "step")]
                    f_re, f_st, l_re, l_st = (v for _, v in parts)
                    ratio = low["episode_s"] / full["episode_s"]
                    print(f"{name} at {level} vs full: episode x{ratio:.2f}; retraining "
                          f"x{l_re / f_re:.2f}; outside retraining "
                          f"x{(l_st - l_re) / (f_st - f_re):.2f}")
        finally:
            if ref_tree is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(ref_tree)], check=False)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
