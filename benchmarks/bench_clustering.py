"""Timing and recovery of SCIC (tnf_env.clustering.scic).

Cases, each for crossbar sizes 16, 32, 64, 128:
- ``random``: a 1200 x 1200 layer at 80% random sparsity (20% density);
- ``random784``: the same for a 784-input layer (1200 x 784);
- ``planted``: 1200 x 1200 with 30 full 32 x 32 blocks, rows and columns
  randomly permuted, plus 2% noise; also reports the recovery (fraction of
  planted connections that end up in a cluster);
- ``hetero``: 1200 x 784 at ~17% density with lognormal row/column degrees
  (connection probability ~ a_i * b_j), a stand-in for a pruned trained layer.

Run: ``.venv/bin/python benchmarks/bench_clustering.py [--repeats 5]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from hwmodel.clusters import clusters_mask
from tnf_env.clustering import scic

SIZES = (16, 32, 64, 128)


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


def bench(mask, n, repeats, blocks=None):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        clusters = scic(mask, n)
        times.append(time.perf_counter() - t0)
    cmap = clusters_mask(mask.shape, clusters)
    nnz = int(mask.sum())
    row = {
        "ms": 1000 * statistics.median(times),
        "clusters": len(clusters),
        "clustered": (cmap & mask).sum() / nnz,
        # Fill of the crossbars the clusters occupy (one N x N each).
        "fill": (cmap & mask).sum() / (len(clusters) * n * n) if clusters else float("nan"),
    }
    if blocks is not None:
        row["recovery"] = (cmap & blocks).sum() / blocks.sum()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="runs per case; the median is shown")
    args = ap.parse_args()
    planted, blocks = planted_mask()
    cases = [
        ("random 1200x1200 d=0.20", random_mask(1200, 1200, 0.2), None),
        ("random 1200x784  d=0.20", random_mask(1200, 784, 0.2), None),
        ("planted 1200x1200 30x32^2", planted, blocks),
        ("hetero 1200x784  d~0.17", hetero_mask(), None),
    ]
    print(
        f"{'case':27s} {'N':>4s} {'median ms':>10s} {'clusters':>8s} {'clustered':>9s} "
        f"{'fill':>6s} {'recovery':>8s}"
    )
    for name, mask, planted_cells in cases:
        for n in SIZES:
            r = bench(mask, n, args.repeats, planted_cells)
            rec = f"{r['recovery']:8.3f}" if "recovery" in r else f"{'':8s}"
            print(
                f"{name:27s} {n:4d} {r['ms']:10.1f} {r['clusters']:8d} "
                f"{r['clustered']:9.3f} {r['fill']:6.3f} {rec}"
            )


if __name__ == "__main__":
    main()
