"""SCIC (tnf_env.transform.clustering) against an earlier commit's: time, identity and quality.

Run: ``.venv/bin/python benchmarks/bench_clustering.py [--against abe78da]
[--episode digits|mnist-10k [--calls FILE.npz]] [--quality] [--probe] [--repeats 3]``

Cases, each at crossbar sizes 16, 32, 64, 128:
- ``random``: 1200 x 1200 and 1200 x 784 layers at 20% random density;
- ``planted``: 1200 x 1200 with 30 full 32 x 32 blocks, rows and columns permuted,
  plus 2% noise (``recovery``: the share of planted cells that end up in a cluster);
- ``hetero``: 1200 x 784 at ~17% density with lognormal degrees, a stand-in for a
  pruned trained layer;
- ``--episode NAME``: every SCIC call of a paper-schedule episode on NAME (seed 0),
  recorded with this checkout and replayed by both versions: real pruned layers.

Both versions run interleaved in one process (the reference is loaded from git), so
the time ratio holds on a noisy machine. ``same`` says whether both found the same
clusters. This version differs from ``abe78da`` in two choices only -- a compiled
k-means instead of scikit-learn's, and ties between equal trimming scores broken
towards the lower index -- so where k-means never runs the clusters are identical.
``--quality`` measures what those choices move on the episode's real layers: for the
first SCIC call of each layer, at N = 16, 32, 64, 128 and seeds 0-2, the layer's
crossbars under the ``best`` accounting and its unclustered share, old and new, next
to the seed-to-seed spread of the old version (run-to-run noise). ``--probe`` counts
the reclustering calls whose result ``scic_multi``'s lowest-quality probe changes against
trying the qualities in order (on digits also for seeds 0-4 at every N).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
import types
from pathlib import Path

import numpy as np

from hwmodel import get_technology
from hwmodel.clusters import clusters_mask
from tnf_env.measure.scoring import network_cost
from tnf_env.transform import clustering

ROOT = Path(__file__).resolve().parents[1]
SIZES = (16, 32, 64, 128)


def reference(ref: str) -> types.ModuleType:
    """SCIC's module as it was at commit ``ref`` (``tnf_env/transform/clustering.py``, before
    the package was split by concern ``tnf_env/clustering.py``); a commit whose SCIC had
    compiled kernels runs with this checkout's (``scic_kernels``)."""
    for path in ("tnf_env/transform/clustering.py", "tnf_env/clustering.py"):
        got = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:{path}"],
                             capture_output=True, text=True)
        if got.returncode == 0:
            break
    got.check_returncode()
    src = got.stdout
    module = types.ModuleType(f"clustering_{ref}")
    # A module of the package imports its compiled kernels relatively: from this checkout.
    module.__package__ = "tnf_env.transform"
    exec(compile(src, f"clustering_{ref}.py", "exec"), module.__dict__)  # our own history
    return module


def random_mask(n_out, n_in, density, seed=0):
    return np.random.default_rng(seed).random((n_out, n_in)) < density


def planted_mask(n=1200, n_blocks=30, b=32, noise=0.02, seed=0):
    """(mask, planted cells): full b x b blocks plus noise, rows/cols permuted."""
    rng = np.random.default_rng(seed)
    blocks = np.zeros((n, n), dtype=bool)
    for i in range(n_blocks):
        blocks[i * b : (i + 1) * b, i * b : (i + 1) * b] = True
    mask = blocks | (rng.random((n, n)) < noise)
    pr, pc = rng.permutation(n), rng.permutation(n)
    return mask[pr][:, pc], blocks[pr][:, pc]


def hetero_mask(n_out=1200, n_in=784, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    p = np.outer(rng.lognormal(0, 1, n_out), rng.lognormal(0, 1, n_in))
    return rng.random(p.shape) < np.clip(p * density / p.mean(), 0, 1)


def record_episode(name: str, seed: int = 0, crossbar_size: int | None = None) -> list[dict]:
    """The inputs of every SCIC call of a paper-schedule episode (this checkout)."""
    import torch

    import tnf_env
    import tnf_env.transform.transformation as transform
    from agents.rl.policies import PaperPolicy

    configs = {
        "digits": dict(dataset="digits", max_steps=10, retrain_epochs=1.0),
        "mnist-10k": dict(dataset="mnist-10k", topology="784-1200-1200-10", max_steps=12,
                          retrain_epochs=5.0, crossbar_sizes=[64]),
    }
    calls, original = [], transform.scic_multi

    def recording(mask, n, qualities, **kwargs):
        calls.append(dict(mask=mask.copy(), n=n, qualities=tuple(qualities),
                          seed=kwargs["seed"], exclude=kwargs["exclude"].copy()))
        return original(mask, n, qualities, **kwargs)

    torch.set_num_threads(1)
    transform.scic_multi = recording
    try:
        settings = dict(configs[name])
        if crossbar_size is not None:
            settings["crossbar_sizes"] = [crossbar_size]
        env = tnf_env.make(**settings)
        obs, info = env.reset(seed=seed)
        policy = PaperPolicy()
        policy.reset(env)
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(policy.act(obs, info))
            done = term or trunc
        env.close()
    finally:
        transform.scic_multi = original
    return calls


def save_calls(path: Path, calls: list[dict]) -> None:
    """Recorded SCIC calls as one ``.npz`` (no pickles): replayed later without the episode."""
    arrays = {}
    for i, c in enumerate(calls):
        arrays[f"mask{i}"], arrays[f"exclude{i}"] = c["mask"], c["exclude"]
        arrays[f"meta{i}"] = np.array([c["n"], c["seed"], *c["qualities"]], dtype=np.float64)
    np.savez_compressed(path, **arrays)


def load_calls(path: Path) -> list[dict]:
    with np.load(path, allow_pickle=False) as f:
        count = sum(1 for k in f.files if k.startswith("meta"))
        calls = []
        for i in range(count):
            meta = f[f"meta{i}"]
            calls.append(dict(mask=f[f"mask{i}"], exclude=f[f"exclude{i}"], n=int(meta[0]),
                              seed=int(meta[1]), qualities=tuple(float(q) for q in meta[2:])))
    return calls


def same(a, b) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x.outputs, y.outputs) and np.array_equal(x.inputs, y.inputs)
        for x, y in zip(a, b, strict=True)
    )


def summary(mask, clusters, n, planted=None) -> dict:
    cmap = clusters_mask(mask.shape, clusters)
    row = {"clusters": len(clusters), "clustered": (cmap & mask).sum() / max(1, mask.sum())}
    if planted is not None:
        row["recovery"] = (cmap & planted).sum() / planted.sum()
    return row


def cases_table(old, repeats: int) -> None:
    planted, blocks = planted_mask()
    cases = [
        ("random 1200x1200 d=0.20", random_mask(1200, 1200, 0.2), None),
        ("random 1200x784  d=0.20", random_mask(1200, 784, 0.2), None),
        ("planted 1200x1200 30x32^2", planted, blocks),
        ("hetero 1200x784  d~0.17", hetero_mask(), None),
    ]
    print(f"{'case':27s} {'N':>4s} {'old ms':>8s} {'new ms':>8s} {'new/old':>7s} {'same':>5s} "
          f"{'clusters':>8s} {'clustered':>9s} {'recovery':>8s}")
    for name, mask, cells in cases:
        for n in SIZES:
            t_old, t_new = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                a = old.scic(mask, n)
                t1 = time.perf_counter()
                b = clustering.scic(mask, n)
                t_new.append(time.perf_counter() - t1)
                t_old.append(t1 - t0)
            r = summary(mask, b, n, cells)
            rec = f"{r['recovery']:8.3f}" if "recovery" in r else f"{'':8s}"
            mo, mn = 1000 * statistics.median(t_old), 1000 * statistics.median(t_new)
            print(f"{name:27s} {n:4d} {mo:8.1f} {mn:8.1f} {mn / mo:7.3f} {str(same(a, b)):>5s} "
                  f"{r['clusters']:8d} {r['clustered']:9.3f} {rec}")


def replay(old, calls: list[dict]) -> None:
    t_old = t_new = 0.0
    identical = 0
    for c in calls:
        kw = dict(seed=c["seed"], exclude=c["exclude"])
        t0 = time.perf_counter()
        a = old.scic_multi(c["mask"], c["n"], c["qualities"], **kw)
        t1 = time.perf_counter()
        b = clustering.scic_multi(c["mask"], c["n"], c["qualities"], **kw)
        t_new += time.perf_counter() - t1
        t_old += t1 - t0
        identical += same(a, b)
    print(f"episode replay: {len(calls)} SCIC calls, same clusters in {identical}; "
          f"old {t_old:.2f} s, new {t_new:.2f} s, new/old {t_new / t_old:.3f} "
          f"({t_old / t_new:.1f}x less time)")


def in_order(c: dict) -> tuple[list, list[bool]]:
    """Reclustering as it ran before the lowest-quality probe: each quality in the given
    order (splits shared), first non-empty wins; and which qualities found clusters."""
    memo, found, first = {}, [], []
    for q in c["qualities"]:
        got = clustering.scic(c["mask"], c["n"], q, seed=c["seed"], exclude=c["exclude"],
                              _memo=memo)
        found.append(bool(got))
        if got and not first:
            first = got
    return first, found


def probe_check(calls: list[dict], label: str) -> tuple[int, int]:
    """Calls whose result the lowest-quality probe of ``scic_multi`` changes, against
    trying the qualities in order: ``(calls checked, calls changed)``; prints the
    patterns of which qualities found clusters and the time of both orders."""
    patterns, changed, t_order, t_probe, checked = {}, 0, 0.0, 0.0, 0
    for c in calls:
        if len(c["qualities"]) < 2:
            continue
        checked += 1
        t0 = time.perf_counter()
        first, found = in_order(c)
        t1 = time.perf_counter()
        got = clustering.scic_multi(c["mask"], c["n"], c["qualities"], seed=c["seed"],
                                    exclude=c["exclude"])
        t_probe += time.perf_counter() - t1
        t_order += t1 - t0
        key = "".join("x" if f else "." for f in found)
        patterns[key] = patterns.get(key, 0) + 1
        changed += not same(first, got)
    pats = ", ".join(f"{k}: {v}" for k, v in sorted(patterns.items()))
    print(f"{label}: {checked} reclustering calls, result changed by the probe in {changed}; "
          f"found at (0.7 0.6 0.5 0.4) {pats}; every quality run {t_order:.2f} s, "
          f"scic_multi {t_probe:.2f} s")
    return checked, changed


def quality(old, calls: list[dict], seeds=(0, 1, 2)) -> None:
    tech = get_technology("resparc")
    firsts = {}
    for c in calls:  # the first SCIC call of each layer: the clustering onset
        firsts.setdefault(c["mask"].shape, c)
    print(f"\n{'layer':>10s} {'N':>4s} {'xbars old':>10s} {'xbars new':>10s} "
          f"{'seed spread':>11s} {'unclust old':>11s} {'unclust new':>11s} {'spread':>7s}")
    shifts = []
    for shape, c in firsts.items():
        if min(shape) < 16:
            continue
        mask = c["mask"]
        for n in SIZES:
            rows = {}
            for name, mod in (("old", old), ("new", clustering)):
                xb, un = [], []
                for s in seeds:
                    found = mod.scic(mask, n, 0.7, seed=s)
                    xb.append(network_cost([mask], [n], tech, "best", [found]).n_crossbars)
                    cmap = clusters_mask(mask.shape, found)
                    un.append(float((mask & ~cmap).sum() / mask.sum()))
                rows[name] = (xb, un)
            (xo, uo), (xn, un) = rows["old"], rows["new"]
            spread_x, spread_u = max(xo) - min(xo), max(uo) - min(uo)
            shifts.append((abs(np.mean(xn) - np.mean(xo)), spread_x,
                           abs(np.mean(un) - np.mean(uo)), spread_u,
                           max(abs(a - b) for a, b in zip(xn, xo, strict=True))))
            print(f"{'x'.join(map(str, shape)):>10s} {n:4d} {np.mean(xo):10.1f} "
                  f"{np.mean(xn):10.1f} {spread_x:11d} {np.mean(uo):11.4f} {np.mean(un):11.4f} "
                  f"{spread_u:7.4f}")
    sx = np.array(shifts)
    print(f"|mean shift| in crossbars: mean {sx[:, 0].mean():.2f}, worst {sx[:, 0].max():.2f} "
          f"(old seed spread: mean {sx[:, 1].mean():.2f}, worst {sx[:, 1].max():.0f}); "
          f"worst same-seed difference {sx[:, 4].max():.0f}")
    print(f"|mean shift| in unclustered share: mean {sx[:, 2].mean():.4f}, worst "
          f"{sx[:, 2].max():.4f} (old seed spread: mean {sx[:, 3].mean():.4f}, "
          f"worst {sx[:, 3].max():.4f})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--against", default="abe78da", help="reference commit (default abe78da)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per case; medians shown")
    ap.add_argument("--episode", choices=["digits", "mnist-10k"],
                    help="also replay the SCIC calls of a paper episode on this dataset")
    ap.add_argument("--quality", action="store_true",
                    help="with --episode: crossbars and unclustered share, old vs new")
    ap.add_argument("--no-cases", action="store_true", help="skip the synthetic cases")
    ap.add_argument("--calls", type=Path, metavar="FILE.npz",
                    help="with --episode: replay the calls saved in FILE, or record them there")
    ap.add_argument("--probe", action="store_true",
                    help="with --episode: calls whose result the lowest-quality probe changes "
                         "(digits: also seeds 0-4 at N = 16, 32, 64, 128)")
    args = ap.parse_args()
    old = reference(args.against)
    clustering.kmeans(np.random.default_rng(0).random((20, 2)), 2, 0)  # compile/load first
    clustering.scic(random_mask(64, 64, 0.3), 8)
    if not args.no_cases:
        cases_table(old, args.repeats)
    if args.episode:
        if args.calls is not None and args.calls.exists():
            calls = load_calls(args.calls)
        else:
            calls = record_episode(args.episode)
            if args.calls is not None:
                save_calls(args.calls, calls)
        replay(old, calls)
        if args.quality:
            quality(old, calls)
        if args.probe:
            probe_check(calls, f"{args.episode} seed 0")
            if args.episode == "digits":
                total = [0, 0]
                for seed in range(5):
                    for n in SIZES:
                        got = probe_check(record_episode("digits", seed, n),
                                          f"digits seed {seed} N={n}")
                        total = [total[0] + got[0], total[1] + got[1]]
                print(f"digits, 5 seeds x 4 sizes: {total[1]} of {total[0]} calls changed")


if __name__ == "__main__":
    main()
