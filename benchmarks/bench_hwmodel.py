"""Benchmark and sanity report of the hardware model (``hwmodel``).

Run: ``.venv/bin/python benchmarks/bench_hwmodel.py``. Prints

1. dense crossbar counts of 784-1200-1200-10 at N = 16, 32, 64, 128;
2. the time to map and cost that network at 50% random sparsity with all four
   strategies at the four sizes (target: under 1 s in total on 2 cores);
3. area and energy per inference of the dense network for every preset (the
   simulators' rules and the ``*-legacy`` rules of the first model), and the
   cheapest N of each;
4. the sparsity side of the trade-off: random 90% sparsity and block-structured
   sparsity, with the default and a sparse spike probability;
5. leftover-cover counts: the band cover against the released code's greedy
   window scan on the same masks (random and block-structured);
6. the time to cost one layer from a measured spike raster of (2000, 35, 1200).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from hwmodel import PRESETS, band_cover, cost_layer, cost_network, greedy_window_cover, map_layer

SIZES = (16, 32, 64, 128)
TOPOLOGY = (784, 1200, 1200, 10)
SHAPES = [(TOPOLOGY[i + 1], TOPOLOGY[i]) for i in range(len(TOPOLOGY) - 1)]


def random_masks(density: float, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random(s) < density for s in SHAPES]


def block_mask(shape: tuple[int, int], block: int, density: float, noise: float,
               rng: np.random.Generator, permute: bool = True) -> np.ndarray:
    """Diagonal ``block`` x ``block`` blocks of the given density plus uniform noise,
    rows and columns shuffled (structure a clustering would find)."""
    n_out, n_in = shape
    rows = np.arange(n_out) * max(n_in // block, 1) // max(n_out // block, 1)
    m = (rows[:, None] // block == np.arange(n_in)[None, :] // block)
    m &= rng.random(shape) < density
    m |= rng.random(shape) < noise
    if permute:
        m = m[rng.permutation(n_out)][:, rng.permutation(n_in)]
    return m


def section(title: str) -> None:
    print(f"\n== {title}")


def dense_counts() -> None:
    section("dense crossbar counts, 784-1200-1200-10")
    masks = [np.ones(s, dtype=bool) for s in SHAPES]
    for n in SIZES:
        counts = [map_layer(m, n, "dense").n_crossbars for m in masks]
        print(f"N={n:<4} {sum(counts):>6}  (per layer {counts})")


def timing() -> None:
    section("map + cost, 4 strategies x N in {16,32,64,128}, 50% random sparsity")
    masks = random_masks(0.5)
    for tech in ("resparc", "isaac"):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            for strategy in ("dense", "pruned", "tiles", "clustered"):
                for n in SIZES:
                    cost_network(masks, n, tech, strategy)
            runs.append(time.perf_counter() - t0)
        print(f"{tech}: total per sweep: min {min(runs):.3f} s, median "
              f"{statistics.median(runs):.3f} s over {len(runs)} sweeps (target < 1 s)")


def cost_table(masks, strategies, techs, sizes_by_tech=None) -> None:
    print(f"{'tech':<16}{'strategy':<10}{'N':>5}{'xbars':>7}{'util':>7}{'area mm2':>10}"
          f"{'energy nJ':>11}   area | energy shares (arrays drv col buf ctl route [psum])")
    for tech in techs:
        for strategy in strategies:
            results = []
            for n in (sizes_by_tech or {}).get(tech.name, SIZES):
                c = cost_network(masks, n, tech, strategy)
                results.append((n, c))
                a, e = c.area_breakdown, c.energy_breakdown
                sa = " ".join(f"{v / c.area_mm2:4.0%}" for v in a.values())
                se = " ".join(f"{v / c.energy_nj:4.0%}" for v in e.values())
                print(f"{tech.name:<16}{strategy:<10}{n:>5}{c.n_crossbars:>7}{c.utilization:>7.3f}"
                      f"{c.area_mm2:>10.3f}{c.energy_nj:>11.1f}   {sa} | {se}")
            best_a = min(results, key=lambda r: r[1].area_mm2)[0]
            best_e = min(results, key=lambda r: r[1].energy_nj)[0]
            print(f"{'':16}{'':10}-> cheapest area at N={best_a}, energy at N={best_e}")


def dense_costs() -> None:
    section("dense 784-1200-1200-10: area and energy per inference")
    cost_table([np.ones(s, dtype=bool) for s in SHAPES], ["dense"], PRESETS.values())


def sparse_tradeoff() -> None:
    resparc = PRESETS["resparc"]
    quiet = resparc.replace(name="resparc-p0.05", spike_probability=0.05)
    section("random 90% sparsity (tiles vs clustered = band cover of all connections)")
    cost_table(random_masks(0.1), ["tiles", "clustered"], [resparc, quiet])
    rng = np.random.default_rng(3)
    masks = [block_mask(s, 12, 0.9, 0.002, rng) for s in SHAPES]
    nnz = sum(int(m.sum()) for m in masks)
    section(f"block-structured sparsity: 12x12 blocks at 90% + 0.2% noise, shuffled "
            f"({nnz} connections, {1 - nnz / sum(a * b for a, b in SHAPES):.1%} sparse)")
    cost_table(masks, ["tiles", "clustered"], [resparc, quiet, PRESETS["isaac"]])


def cover_comparison() -> None:
    section("leftover cover: band cover vs the released greedy window scan (same masks)")
    rng = np.random.default_rng(7)
    cases = [(f"random {d:.0%}", rng.random((1200, 1200)) < d) for d in (0.5, 0.1, 0.02)]
    cases.append(("blocks 40x40 @80% shuffled +1%",
                  block_mask((1200, 1200), 40, 0.8, 0.01, rng)))
    cases.append(("blocks 40x40 @80% in place +1%",
                  block_mask((1200, 1200), 40, 0.8, 0.01, rng, permute=False)))
    print(f"{'mask':<32}{'N':>5}{'bound':>7}{'greedy':>8}{'band':>7}{'band/greedy':>12}"
          f"{'t_greedy':>10}{'t_band':>8}")
    for name, m in cases:
        for n in SIZES:
            t0 = time.perf_counter()
            g = greedy_window_cover(m, n).n_crossbars
            t1 = time.perf_counter()
            b = band_cover(m, n).n_crossbars
            t2 = time.perf_counter()
            bound = -(-int(m.sum()) // n**2)
            print(f"{name:<32}{n:>5}{bound:>7}{g:>8}{b:>7}{b / g:>12.2f}"
                  f"{t1 - t0:>9.3f}s{t2 - t1:>7.3f}s")


def spike_costing() -> None:
    section("cost one 1200x1200 layer from a measured raster (2000, 35, 1200), 5% rate")
    rng = np.random.default_rng(11)
    spikes = rng.random((2000, 35, 1200)) < 0.05
    mask = rng.random((1200, 1200)) < 0.1
    for strategy in ("dense", "clustered"):
        for n in (16, 128):
            m = map_layer(mask, n, strategy)
            t0 = time.perf_counter()
            c = cost_layer(m, "resparc", spikes)
            dt = time.perf_counter() - t0
            e = cost_layer(m, "resparc")
            print(f"{strategy:<10} N={n:<4} {m.n_crossbars:>5} crossbars: {dt:.3f} s; reads/inf "
                  f"{c.reads:,.0f} measured vs {e.reads:,.0f} at p=0.7; energy "
                  f"{c.energy_nj:.1f} vs {e.energy_nj:.1f} nJ")


def main() -> None:
    dense_counts()
    timing()
    dense_costs()
    sparse_tradeoff()
    cover_comparison()
    spike_costing()


if __name__ == "__main__":
    main()
