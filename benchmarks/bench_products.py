"""Which product a retraining batch should use, layer by layer, along a paper episode.

Run: ``.venv/bin/python benchmarks/bench_products.py [--dataset mnist-10k] [--seed 0]
[--every 2] [--batch 400] [--repeats 5]``

Runs one paper-schedule episode (mnist-10k: 12 x 5 epochs, N = 64, one torch thread) and,
after every ``--every``-th step, times one training batch (forward, weight gradient and,
past the first layer, input gradient) of each layer's live block three ways, in the same
process:

- ``dense``: the live block as one dense masked product (``LivePlan``, CSR off);
- ``csr``: the kept weights as one CSR product (``LivePlan``, CSR on);
- ``blocks``: every cluster as a dense N x N block (one batched product over the
  clusters, inputs gathered, outputs scattered back with ``index_add``) plus the
  connections outside clusters as a CSR product.

It prints each layer's live shape, density (kept / live cells), cluster coverage (share of
the kept weights inside cluster blocks), which kernel today's rule picks and the three
times, so the rule can be read off: the fastest product by density and coverage.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import tnf_env
from agents.rl.policies import PaperPolicy
from tnf_env.model.compact import LivePlan

SETTINGS = {
    "mnist-10k": dict(dataset="mnist-10k", max_steps=12, retrain_epochs=5.0, crossbar_sizes=[64]),
    "digits": dict(dataset="digits", max_steps=10, retrain_epochs=1.0, crossbar_sizes=[16]),
}


def timed(fn, repeats: int) -> float:
    fn()  # the first call pays for allocation
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def block_product(mask: np.ndarray, clusters, n: int):
    """A training batch's product over ``clusters`` as N x N blocks plus a CSR remainder;
    returns ``fn(x, grad_input)`` running forward and backward once."""
    k = len(clusters)
    outs = np.zeros((k, n), np.int64)
    ins = np.zeros((k, n), np.int64)
    valid_o = np.zeros((k, n), bool)
    valid_i = np.zeros((k, n), bool)
    rest = mask.copy()
    for j, c in enumerate(clusters):
        outs[j, : len(c.outputs)], valid_o[j, : len(c.outputs)] = c.outputs, True
        ins[j, : len(c.inputs)], valid_i[j, : len(c.inputs)] = c.inputs, True
        rest[np.ix_(c.outputs, c.inputs)] = False
    g = torch.Generator().manual_seed(0)
    w_blocks = (torch.randn(k, n, n, generator=g)
                * torch.as_tensor(valid_o[:, :, None] & valid_i[:, None, :])).requires_grad_()
    rest_t = torch.as_tensor(rest, dtype=torch.float32)
    w_rest = torch.randn(*mask.shape, generator=g).requires_grad_()
    plan = LivePlan([rest_t], sparse_below=1.0, min_saved_cells=0)
    out_idx = torch.as_tensor(outs.reshape(-1))
    in_idx = torch.as_tensor(ins.reshape(-1))
    keep_o = torch.as_tensor(valid_o.reshape(-1), dtype=torch.float32)

    def run(x: torch.Tensor) -> None:
        xb = x.index_select(1, in_idx).view(x.shape[0], k, n).transpose(0, 1)  # (k, b, n)
        yb = torch.bmm(xb, w_blocks.transpose(1, 2)).transpose(0, 1).reshape(x.shape[0], -1)
        y = plan.forward([w_rest], x, 0.0, True, None)
        y = y.index_add(1, out_idx, yb * keep_o)
        y.sum().backward()

    return run


def layer_times(tr, i: int, batch: int, repeats: int, n: int) -> dict:
    net = tr.net
    live = net.live_plan()
    lay = live.layers[i]
    mask = net.mask(i)
    rows = lay.rows if lay.rows is not None else torch.arange(mask.shape[0])
    cols = lay.cols if lay.cols is not None else torch.arange(mask.shape[1])
    sub = mask.index_select(0, rows).index_select(1, cols)
    kept = float(sub.sum())
    r_of = {int(r): j for j, r in enumerate(rows.tolist())}
    c_of = {int(c): j for j, c in enumerate(cols.tolist())}
    clusters = []
    inside = 0
    for c in tr.clusters[i]:
        o = [r_of[x] for x in c.outputs.tolist() if x in r_of]
        p = [c_of[x] for x in c.inputs.tolist() if x in c_of]
        if o and p:
            clusters.append(type(c)(np.array(o), np.array(p)))
            inside += float(sub[np.ix_(o, p)].sum())
    g = torch.Generator().manual_seed(1)
    x = torch.rand(batch, sub.shape[1], generator=g).requires_grad_(i > 0)
    w = torch.randn(*sub.shape, generator=g).requires_grad_()
    out = {"layer": i, "shape": tuple(sub.shape), "density": kept / sub.numel(),
           "coverage": inside / kept if kept else 0.0, "rule": live.kernels[i]}
    for name, below in (("dense", 0.0), ("csr", 1.0)):
        plan = LivePlan([sub], sparse_below=below, min_saved_cells=0)
        out[name] = timed(lambda p=plan: p.forward([w], x, 0.0, True, None).sum().backward(),
                          repeats)
    if clusters:
        run = block_product(sub.numpy() != 0, clusters, n)
        out["blocks"] = timed(lambda: run(x), repeats)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist-10k", choices=list(SETTINGS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=2, help="time after every k-th step")
    parser.add_argument("--batch", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = SETTINGS[args.dataset]
    env = tnf_env.make(**settings)
    obs, info = env.reset(seed=args.seed)
    policy = PaperPolicy()
    policy.reset(env)
    n = settings["crossbar_sizes"][0]
    print("step layer  live shape   density coverage rule   dense ms  csr ms  blocks ms")
    step, done = 0, False
    while not done:
        obs, _, term, trunc, info = env.step(policy.act(obs, info))
        step += 1
        done = term or trunc
        if step % args.every and not done:
            continue
        tr = tnf_env.episode_of(env).network
        for i in range(tr.n_layers):
            t = layer_times(tr, i, args.batch, args.repeats, n)
            blocks = f"{1e3 * t['blocks']:9.2f}" if "blocks" in t else "        -"
            print(f"{step:4d} {i:5d} {str(t['shape']):>12s} {t['density']:8.3f} "
                  f"{t['coverage']:8.2f} {t['rule']:5s} {1e3 * t['dense']:9.2f} "
                  f"{1e3 * t['csr']:7.2f} {blocks}", flush=True)


if __name__ == "__main__":
    main()
