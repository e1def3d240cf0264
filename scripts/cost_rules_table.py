"""Re-cost saved ``reproduce`` networks under the old and the new hardware rules.

Reads a directory written by ``train_agent.py reproduce --save-networks DIR``
(``manifest.json`` + one ``.npz`` and clusters JSON per network), simulates each
network's spiking version on the test split once (the same SNN settings and
seed the scoring path uses) and costs the original, the tuned pruning and the
TraNNsformer (``paper``) network at every crossbar size under the ``best``
accounting with ``resparc`` / ``isaac`` (the simulators' rules) and
``resparc-legacy`` / ``isaac-legacy`` (the rules of the first model).

Run::

    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python scripts/cost_rules_table.py \\
        --nets /work/nets/mnist10k-s0 --dataset mnist-10k \\
        --data-dir /work/shared/data/mnist-10k --out runs/cost_rules

Prints Markdown tables (area mm^2 and energy nJ per inference per N, cheapest N;
share of energy in partial-sum traffic) and writes them with a JSON copy to --out.
The ``resparc-legacy`` rows are checked against the costs the run recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from agents.common.netstore import load_saved_network
from hwmodel.accounting import cost_accounted
from tnf_env.data.datasets import load_dataset
from tnf_env.model.network import MaskedMLP
from tnf_env.model.spiking import SNN_TIMESTEPS, SNNSettings, snn_evaluate
from tnf_env.model.training import to_tensors

METHODS = ("original", "pruning", "paper")
TECHS = (("resparc", "resparc-legacy"), ("isaac", "isaac-legacy"))


def build_net(saved) -> MaskedMLP:
    widths = [saved.weights[0].shape[1]] + [w.shape[0] for w in saved.weights]
    net = MaskedMLP(widths)
    with torch.no_grad():
        for i, (w, m) in enumerate(zip(saved.weights, saved.masks, strict=True)):
            net.layers[i].weight.copy_(torch.from_numpy(w))
            net.set_mask(i, m)
    net.eval()
    return net


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nets", required=True, help="directory of reproduce --save-networks")
    p.add_argument("--dataset", default="mnist-10k")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--snn-timesteps", type=int, default=SNN_TIMESTEPS,
                   help=f"SNN simulation length T in 1 ms steps (default {SNN_TIMESTEPS})")
    p.add_argument("--out", default=None, help="directory for cost_rules.md / .json")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    root = Path(args.nets)
    entries = [e for e in json.loads((root / "manifest.json").read_text())["networks"]
               if e["seed"] == args.seed and e["method"] in METHODS]
    sizes = sorted({e["crossbar_size"] for e in entries})
    data = load_dataset(args.dataset, args.data_dir)
    x_train = to_tensors(data.x_train, data.y_train)[0]
    x_test, y_test = to_tensors(data.x_test, data.y_test)
    snn = SNNSettings(timesteps=args.snn_timesteps)
    spikes: dict[str, list] = {}
    rows = []
    for e in entries:
        saved = load_saved_network(root / e["file"])
        if e["file"] not in spikes:
            res = snn_evaluate(build_net(saved), x_train, x_test, y_test, snn, seed=args.seed)
            spikes[e["file"]] = res.input_spikes
            print(f"simulated {e['file']}: SNN accuracy {res.accuracy:.4f}", file=sys.stderr)
        for pair in TECHS:
            for tech in pair:
                c = cost_accounted(saved.masks, e["crossbar_size"], tech, "best",
                                   saved.clusters, spikes[e["file"]])
                rows.append({
                    "method": e["method"], "crossbar_size": e["crossbar_size"],
                    "technology": tech, "area_mm2": c.area_mm2, "energy_nj": c.energy_nj,
                    "crossbars": c.n_crossbars,
                    "partial_sum_share": c.energy_breakdown.get("partial_sums", 0.0)
                    / c.energy_nj,
                    "split_outputs": sum(layer.split_outputs for layer in c.layers),
                    "partial_sums": sum(layer.partial_sums for layer in c.layers),
                })
                if tech == "resparc-legacy":  # the run recorded costs under the old rules
                    rec = e["row"]
                    assert np.isclose(c.area_mm2, rec["area_mm2_best"], rtol=1e-9), e
                    assert np.isclose(c.energy_nj, rec["energy_nj_best"], rtol=1e-6), e
    text = tables(rows, sizes)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "cost_rules.md").write_text(text)
        (out / "cost_rules.json").write_text(json.dumps(rows, indent=1))
    return 0


def _get(rows, method, tech, n):
    (r,) = [r for r in rows if (r["method"], r["technology"], r["crossbar_size"]) ==
            (method, tech, n)]
    return r


def tables(rows: list[dict], sizes: list[int]) -> str:
    head = " | ".join(f"N={n} area / energy" for n in sizes)
    lines = [
        "Area (mm^2) / energy (nJ per inference), `best` accounting, measured spikes; "
        "cheapest N by area and by energy.",
        "",
        f"| network | technology | {head} | cheapest N (area, energy) |",
        "|---|---|" + "---|" * len(sizes) + "---|",
    ]
    for method in METHODS:
        for pair in TECHS:
            for tech in pair:
                rs = [_get(rows, method, tech, n) for n in sizes]
                cells = " | ".join(f"{r['area_mm2']:.3f} / {r['energy_nj']:.1f}" for r in rs)
                best_a = min(rs, key=lambda r: r["area_mm2"])["crossbar_size"]
                best_e = min(rs, key=lambda r: r["energy_nj"])["crossbar_size"]
                lines.append(f"| {method} | {tech} | {cells} | {best_a}, {best_e} |")
    lines += [
        "",
        "Share of energy in partial-sum traffic (new rules), and outputs split over "
        "several crossbars / partial sums per evaluation.",
        "",
        "| network | technology | " + " | ".join(f"N={n}" for n in sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    for method in METHODS:
        for tech in ("resparc", "isaac"):
            rs = [_get(rows, method, tech, n) for n in sizes]
            cells = " | ".join(
                f"{100 * r['partial_sum_share']:.1f}% ({r['split_outputs']}/{r['partial_sums']})"
                for r in rs)
            lines.append(f"| {method} | {tech} | {cells} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
