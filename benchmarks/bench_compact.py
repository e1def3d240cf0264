"""Where the CSR kernel beats the dense one: one training batch of a masked layer.

Run: ``.venv/bin/python benchmarks/bench_compact.py [--size 1200] [--batch 400] [--device cpu]
[--input-grad]``

Times forward + backward (the weight gradient, and with ``--input-grad`` the input's too,
as a hidden layer needs; the first layer's input needs none) of one ``size x size``
masked layer at several densities, with the dense masked product and with the
CSR kernel of :mod:`tnf_env.model.compact`, in the same run. ``tnf_env.model.compact.SPARSE_BELOW``
is set from the crossover this prints (ratios, so a noisy machine still answers).
"""

from __future__ import annotations

import argparse
import time

import torch

from tnf_env.model.compact import LivePlan
from tnf_env.model.torch_device import resolve_device


def time_batch(plan: LivePlan, w: torch.Tensor, x: torch.Tensor, repeats: int) -> float:
    """Median seconds of one forward + backward through ``plan``."""
    times = []
    for _ in range(repeats + 1):
        w.grad = x.grad = None
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = plan.forward([w], x, 0.0, True, None)
        out.sum().backward()
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    times = sorted(times[1:])  # the first call pays for allocation
    return times[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=400)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--densities", type=float, nargs="+",
        default=[0.5, 0.3, 0.25, 0.2, 0.15, 0.12, 0.08, 0.05, 0.02, 0.01],
    )
    parser.add_argument("--input-grad", action="store_true", help="the input needs a gradient")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.batch, args.size, generator=g).to(device).requires_grad_(args.input_grad)
    grads = "weight and input" if args.input_grad else "weight"
    print(f"{args.size}x{args.size} layer, batch {args.batch}, {device}, {args.threads} "
          f"thread(s), {grads} gradients")
    print("density  dense ms  csr ms  csr/dense")
    for d in args.densities:
        mask = (torch.rand(args.size, args.size, generator=g) < d).float().to(device)
        w = (torch.randn(args.size, args.size, generator=g).to(device) * mask).requires_grad_()
        dense = time_batch(LivePlan([mask], sparse_below=0.0), w, x, args.repeats)
        csr = time_batch(LivePlan([mask], sparse_below=1.0), w, x, args.repeats)
        print(f"{d:7.3f}  {1e3 * dense:8.1f}  {1e3 * csr:6.1f}  {csr / dense:9.2f}", flush=True)


if __name__ == "__main__":
    main()
