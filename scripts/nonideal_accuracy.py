"""Crossbar non-idealities: circuit-model error, accuracy against N, step time.

Run (single-threaded, from the repository root)::

    OMP_NUM_THREADS=1 .venv/bin/python scripts/nonideal_accuracy.py --circuit
    OMP_NUM_THREADS=1 .venv/bin/python scripts/nonideal_accuracy.py --accuracy \\
        [--nets /work/nets/mnist10k-s0] [--figure docs/nonideal_accuracy.png]
    OMP_NUM_THREADS=1 .venv/bin/python scripts/nonideal_accuracy.py --env-time

``--circuit``: the fast model (:func:`hwmodel.crossbar_circuit.fast_equivalent`)
against the exact sparse solve, on a differential pair programmed with a block of
the dense mnist-10k seed-0 network's first layer, for N = 16..256: the largest and
the mean error of the read-back weights (relative to the layer's largest |w|), the
drift of the exact weights from the ideal ones, the time of one exact solve and of
the fast model on the whole 784 x 1200 layer.

``--accuracy``: test accuracy (ReLU network, mnist-10k seed 0) on ideal and on
non-ideal crossbars of each preset for N = 16..256 (the presets allow N <= 128;
256 is evaluated as an extrapolation), for the dense baseline and the pruning and
TraNNsformer (``paper``) networks found in ``--nets`` (``reproduce``'s delivered
networks with their weights, see ``_load_nets``), and the figure.

``--env-time``: seconds per environment step with and without the non-ideal
evaluation (``nonideal`` setting), on digits and mnist-10k (one epoch per step),
and the share of the step the non-ideal measurement takes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

SIZES = (16, 32, 64, 128, 256)


def _dense_baseline(dataset: str = "mnist-10k", seed: int = 0):
    from tnf_env.data.datasets import load_dataset
    from tnf_env.model.baseline import get_baseline
    from tnf_env.model.network import default_topology
    from tnf_env.model.training import default_recipe

    data = load_dataset(dataset)
    base = get_baseline(data, default_topology(data.name), seed, default_recipe(data.name))
    return data, base


def circuit(sizes=SIZES) -> list[dict]:
    from hwmodel.crossbar_circuit import (
        layer_equivalent_weights,
    )
    from hwmodel.devices import PRESET_DEVICES
    from hwmodel.mapping import map_layer

    _, base = _dense_baseline()
    w = base.net.weights_numpy()[0].astype(np.float64)  # (1200, 784)
    w_max = np.abs(w).max()
    rows = []
    rng = np.random.default_rng(0)
    for preset, dev in PRESET_DEVICES.items():
        for n in sizes:
            # "mnist": the weights of the first n hidden neurons from the n central pixels;
            # "random": a stress case, half the cells at uniform random weights in [-1, 1].
            mid = w.shape[1] // 2 - n // 2
            random = rng.uniform(-1, 1, (n, n)) * (rng.random((n, n)) < 0.5) * w_max
            for kind, block in (("mnist", w[:n, mid:mid + n].T), ("random", random)):
                rows.append(_circuit_row(preset, dev, kind, n, block, w_max))
                print(json.dumps(rows[-1]), flush=True)
            mapping = map_layer(np.ones_like(w, bool), n, "dense")
            t0 = time.perf_counter()
            layer_equivalent_weights(w, mapping, dev)
            rows[-1]["fast_s_per_layer_784x1200"] = time.perf_counter() - t0
            print(json.dumps({"preset": preset, "N": n,
                              "fast_s_per_layer_784x1200": rows[-1]["fast_s_per_layer_784x1200"]}),
                  flush=True)
    return rows


def _circuit_row(preset, dev, kind, n, block, w_max) -> dict:
    """Fast model against the exact solve on one block (rows = inputs) as a pair."""
    from hwmodel.crossbar_circuit import exact_equivalent, fast_equivalent, program_conductances

    x = block / w_max
    gp = program_conductances(np.maximum(x, 0), dev)
    gm = program_conductances(np.maximum(-x, 0), dev)
    scale = w_max / (dev.g_on - dev.g_off)
    t0 = time.perf_counter()
    exact = [exact_equivalent(g, dev.wire_row_ohm, dev.wire_col_ohm) for g in (gp, gm)]
    t_exact = (time.perf_counter() - t0) / 2
    t0 = time.perf_counter()
    fast = fast_equivalent(np.stack([gp, gm]), dev.wire_row_ohm, dev.wire_col_ohm, np.float32)
    t_fast = (time.perf_counter() - t0) / 2
    we, wf = (exact[0] - exact[1]) * scale, (fast[0] - fast[1]) * scale
    return {
        "preset": preset,
        "block": kind,
        "N": n,
        "fast_max_err": float(np.abs(wf - we).max() / w_max),
        "fast_mean_err": float(np.abs(wf - we).mean() / w_max),
        "exact_drift_max": float(np.abs(we - block).max() / w_max),
        "exact_drift_mean": float(np.abs(we - block).mean() / w_max),
        "exact_s_per_array": t_exact,
        "fast_s_per_array": t_fast,
    }


def _load_nets(nets_dir: Path | None, base_net, methods=("pruning", "paper")):
    """Networks to sweep: the dense baseline, and from ``nets_dir`` (``reproduce``'s
    delivered networks: ``manifest.json`` listing ``{method, crossbar_size, file}``,
    ``FILE.npz`` with ``weight{i}``/``mask{i}``, ``FILE_clusters.json``) those of
    ``methods``, named ``"{method} N={n}"`` by the crossbar size they were made for."""
    import copy

    from agents.common.netstore import load_manifest, load_saved_network

    nets = {"dense": (base_net, [[] for _ in base_net.layers])}
    if nets_dir is None or not (nets_dir / "manifest.json").is_file():
        return nets
    for entry in load_manifest(nets_dir):  # each file checked to lie inside nets_dir
        if entry["method"] not in methods:
            continue
        saved = load_saved_network(nets_dir / entry["file"])  # finite, shapes that agree
        net = copy.deepcopy(base_net)
        for i in range(net.n_layers):
            with torch.no_grad():
                net.layers[i].weight.copy_(torch.from_numpy(saved.weights[i]))
            net.set_mask(i, saved.masks[i])
        nets[f"{entry['method']} N={entry['crossbar_size']}"] = (net, saved.clusters)
    return nets


def accuracy(nets_dir: Path | None, figure: Path | None, sizes=SIZES) -> list[dict]:
    from hwmodel import PRESETS
    from hwmodel.accounting import map_accounted
    from tnf_env.data.datasets import default_tolerance
    from tnf_env.measure.nonideal import HardwareWeights, hardware_net
    from tnf_env.model.training import evaluate, to_tensors

    data, base = _dense_baseline()
    xs, ys = to_tensors(data.x_test, data.y_test)
    floor = base.accuracy_test - default_tolerance(data.name)
    nets = _load_nets(nets_dir, base.net)
    rows = []
    for name, (net, clusters) in nets.items():
        ideal = evaluate(net, xs, ys)[0]
        for preset, tech in PRESETS.items():
            for n in sizes:
                t0 = time.perf_counter()
                # Beyond max_crossbar (128) as an extrapolation: the cost model only
                # decides, under `best`, between two candidate mappings.
                wide = tech.replace(max_crossbar=max(tech.max_crossbar, max(sizes)))
                mappings = map_accounted(
                    net.masks_numpy(), [n] * net.n_layers, "best", clusters, wide
                )
                hw = hardware_net(net, HardwareWeights(tech.device, 0)(net, mappings))
                acc = evaluate(hw, xs, ys)[0]
                row = {"net": name, "preset": preset, "N": n, "ideal": ideal, "nonideal": acc,
                       "floor_test": floor, "below_floor": acc < floor,
                       "seconds": time.perf_counter() - t0}
                rows.append(row)
                print(json.dumps(row), flush=True)
    if figure is not None:
        _figure(rows, figure, floor)
    return rows


def _figure(rows: list[dict], path: Path, floor: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    presets = sorted({r["preset"] for r in rows}, key=lambda p: p != "resparc")
    fig, axes = plt.subplots(1, len(presets), figsize=(5.2 * len(presets), 4), sharey=True)
    for ax, preset in zip(np.atleast_1d(axes), presets, strict=True):
        names = sorted({r["net"] for r in rows if r["net"] == "dense" or "paper" in r["net"]},
                       key=lambda s: s != "dense")  # the table has the pruning rows too
        for k, name in enumerate(names):
            rs = [r for r in rows if r["net"] == name and r["preset"] == preset]
            ns = [r["N"] for r in rs]
            color = f"C{k}"
            label = name.replace("paper", "TraNNsformer")
            ax.plot(ns, [100 * r["ideal"] for r in rs], ls="--", color=color, alpha=0.6,
                    label=f"{label}, ideal")
            ax.plot(ns, [100 * r["nonideal"] for r in rs], marker="o", color=color,
                    label=f"{label}, non-ideal")
        ax.axhline(100 * floor, color="k", lw=0.8, ls=":", label="floor (test)")
        ax.axvspan(181, 256, color="0.9", zorder=0)
        ax.set_xscale("log", base=2)
        ax.set_xticks(SIZES, [str(n) for n in SIZES])
        ax.set_xlabel("crossbar size N (shaded: beyond the preset's max_crossbar)")
        ax.set_title(f"{preset}: wires {PRESETS_WIRE[preset]}")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("mnist-10k test accuracy (%)")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle("Test accuracy on ideal and non-ideal crossbars (seed 0)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def _wire(preset: str) -> str:
    from hwmodel import PRESETS

    d = PRESETS[preset].device
    return f"{d.wire_row_ohm:.2f} Ohm/segment, {d.r_on_ohm / 1e3:g}-{d.r_off_ohm / 1e3:g} kOhm"


class _Wires(dict):
    def __missing__(self, key):
        return _wire(key)


PRESETS_WIRE = _Wires()


def env_time(steps: int = 3) -> list[dict]:
    import tnf_env
    from agents.rl.policies import PaperPolicy

    rows = []
    for dataset in ("digits", "mnist-10k"):
        for nonideal in (False, True):
            env = tnf_env.make(dataset=dataset, max_steps=steps, nonideal=nonideal)
            episode = tnf_env.episode_of(env)
            obs, info = env.reset(seed=0)
            policy = PaperPolicy()
            policy.reset(env)
            step_s, hw_s = [], []
            for _ in range(steps):
                obs, _, term, trunc, info = env.step(policy.act(obs, info))
                step_s.append(episode.last_step_timing["step"])
                if nonideal:  # the non-ideal part of a measurement, uncached
                    from tnf_env.measure.nonideal import HardwareWeights, hardware_net
                    from tnf_env.model.training import evaluate

                    task, net = episode.task, episode.network.net
                    fresh = HardwareWeights(task.technology.device, seed=episode.config.seed)
                    assessment = episode.metrics["assessment"]
                    mappings = assessment.mappings(episode.config.accounting)
                    t0 = time.perf_counter()
                    hw = fresh(net, mappings)
                    evaluate(hardware_net(net, hw), task.x_val, task.y_val)
                    hw_s.append(time.perf_counter() - t0)
                if term or trunc:
                    break
            env.close()
            row = {"dataset": dataset, "nonideal": nonideal,
                   "step_s_median": statistics.median(step_s), "steps": step_s,
                   "ended": {"terminated": term, "truncated": trunc,
                             "error": info.get("error"), "accuracy": info["accuracy"],
                             "crossbars": info["crossbars"]}}
            if hw_s:
                row["nonideal_eval_s_median"] = statistics.median(hw_s)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--circuit", action="store_true")
    p.add_argument("--accuracy", action="store_true")
    p.add_argument("--env-time", action="store_true")
    p.add_argument("--nets", type=Path, default=None)
    p.add_argument("--figure", type=Path, default=Path("docs/nonideal_accuracy.png"))
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = p.parse_args()
    torch.set_num_threads(1)
    out = {}
    if args.circuit:
        out["circuit"] = circuit()
    if args.accuracy:
        out["accuracy"] = accuracy(args.nets, args.figure)
    if args.env_time:
        out["env_time"] = env_time(args.steps)
    if args.out:
        args.out.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
