"""Whole-episode throughput: B episodes batched in one process vs one env vs subprocesses.

Run: ``.venv/bin/python benchmarks/bench_vec.py [--configs digits mnist-10k]
[--device cpu|cuda] [--batch-sizes 1 8 32 64] [--workers 2] [--json out.json]``

Every episode follows the paper's fixed schedule (digits 10 steps x 1 epoch,
mnist-10k 12 x 5 = the release's 60 epochs), so every mode does the same work.
Reported in network-epochs per second (retraining epochs of all networks / wall
time from reset to the last step):

- ``single``: one :class:`tnf_env.TraNNsformerEnv`, one episode;
- ``subproc-W``: W episodes in SB3 ``SubprocVecEnv`` workers (cores / W threads each);
- ``batched-B``: :class:`tnf_env.BatchedTraNNsformerEnv` with B episodes (``-tT``: T
  threads for the episodes' own work);
- ``subproc-WxB`` (``--split B``): W processes, each a batched env of B episodes;
- ``bare-B``: the bare limit, one epoch of B stacked dense networks
  (:func:`tnf_env.transform.batched.stacked_train_epoch`), no pruning, clustering or costing.

Every mode runs one untimed step first (warm-up: kernels compiled and loaded, first
allocations), then the timed episode from its reset.

Also: whether batched sub-episode 0 delivered what the single episode (same seed)
delivered, and on CUDA the peak GPU memory per network.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
from bench_env import CONFIGS  # the same episodes as the step benchmark (this folder)

import tnf_env
from agents.rl.batched_vec import unbatch_info
from agents.rl.policies import PaperPolicy
from tnf_env.transform.batched import StackedNets, stacked_train_epoch
from tnf_env.transform.transformation import Transformation


def paper_actions(task: tnf_env.Task) -> list[np.ndarray]:
    """The paper schedule's actions for a whole episode (they depend on the step only)."""
    policy = PaperPolicy()
    policy.reset(tnf_env.TraNNsformerEnv(task=task))
    return [policy.act(None, {}) for _ in range(task.horizon)]


def _epochs(task: tnf_env.Task) -> float:
    return task.horizon * float(task.config.retrain_epochs)


def run_single(task: tnf_env.Task, actions: list[np.ndarray]) -> dict:
    env = tnf_env.TraNNsformerEnv(task=task)
    env.reset(seed=0)
    env.step(actions[0])  # warm-up, as every mode has one
    t0 = time.perf_counter()
    env.reset(seed=0)
    for a in actions:
        _, _, term, trunc, info = env.step(a)
        if term or trunc:
            break
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "net_epochs_per_s": env.transformation.epochs_trained / wall,
            "area_ratio": info["area_ratio"], "accuracy": info["accuracy"]}


def run_batched(
    task: tnf_env.Task, actions: list[np.ndarray], b: int, threads: int = 1
) -> dict:
    venv = tnf_env.BatchedTraNNsformerEnv(num_envs=b, task=task, threads=threads)
    venv.reset(seed=list(range(b)))
    venv.step(np.stack([actions[0]] * b))  # warm-up, as every mode has one
    if task.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(task.device)
    t0 = time.perf_counter()
    venv.reset(seed=list(range(b)))
    epochs = 0.0
    for a in actions:  # an episode that ends early restarts (autoreset) and trains on
        before = [(e.transformation, e.transformation.epochs_trained) for e in venv.envs]
        _, _, term, trunc, info = venv.step(np.stack([a] * b))
        for e, (tr, n) in zip(venv.envs, before, strict=True):
            epochs += e.transformation.epochs_trained - (n if e.transformation is tr else 0.0)
    wall = time.perf_counter() - t0
    first = unbatch_info(info, b)[0]
    out = {"wall_s": wall, "net_epochs_per_s": epochs / wall,
           "all_ended": bool((term | trunc).all()),
           "area_ratio": first["area_ratio"], "accuracy": first["accuracy"]}
    if task.device.type == "cuda":
        out["gpu_mib_per_network"] = torch.cuda.max_memory_allocated(task.device) / b / 2**20
    venv.close()
    return out


def run_subproc(settings: dict, actions: list[np.ndarray], workers: int, cores: int) -> dict:
    from stable_baselines3.common.vec_env import SubprocVecEnv

    threads = max(1, cores // workers)
    fns = [lambda: tnf_env.make(**{**settings, "torch_threads": threads})] * workers
    venv = SubprocVecEnv(fns, start_method="spawn")  # workers build their tasks here
    venv.seed(0)
    venv.reset()
    venv.step(np.stack([actions[0]] * workers))  # warm-up, as every mode has one
    venv.seed(0)
    t0 = time.perf_counter()
    venv.reset()
    for a in actions:
        venv.step(np.stack([a] * workers))
    wall = time.perf_counter() - t0
    venv.close()
    n = workers * len(actions) * float(settings["retrain_epochs"])
    return {"wall_s": wall, "net_epochs_per_s": n / wall}


def _batched_worker(args: tuple) -> tuple[float, float, float]:
    """One process of ``run_split``: its own task, B episodes batched; (start, end, epochs)."""
    settings, b, threads, start_at = args
    torch.set_num_threads(threads)
    task = tnf_env.Task.build(**settings)
    actions = paper_actions(task)
    venv = tnf_env.BatchedTraNNsformerEnv(num_envs=b, task=task)
    venv.reset(seed=list(range(b)))
    venv.step(np.stack([actions[0]] * b))  # warm-up, as every mode has one
    while time.time() < start_at:  # every process starts its timed episode together
        time.sleep(0.001)
    t0 = time.time()
    venv.reset(seed=list(range(b)))
    for a in actions:
        venv.step(np.stack([a] * b))
    epochs = sum(e.transformation.epochs_trained for e in venv.envs)
    venv.close()
    return t0, time.time(), epochs


def run_split(settings: dict, workers: int, b: int, cores: int) -> dict:
    """``workers`` processes, each batching ``b`` episodes (cores / workers threads each)."""
    import multiprocessing as mp

    threads = max(1, cores // workers)
    with mp.get_context("spawn").Pool(workers) as pool:
        start_at = time.time() + 60.0  # after every worker has built its task and warmed up
        res = pool.map(_batched_worker, [(settings, b, threads, start_at)] * workers)
    wall = max(r[1] for r in res) - min(r[0] for r in res)
    return {"wall_s": wall, "net_epochs_per_s": sum(r[2] for r in res) / wall}


def run_bare(task: tnf_env.Task, b: int, epochs: int = 2) -> dict:
    trs = [Transformation(task.dense_net, task.x_train, task.y_train,
                          [task.reference_size] * task.n_layers, task.recipe, seed=k,
                          initial_loss=0.0) for k in range(b)]
    nets = StackedNets(trs)
    gens = [tr.generator for tr in trs]
    args = (task.x_train, task.y_train, task.recipe.batch_size, gens, 1.0,
            task.recipe.augment_shift)
    stacked_train_epoch(nets, *args)  # warm-up
    if task.device.type == "cuda":
        torch.cuda.synchronize(task.device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        stacked_train_epoch(nets, *args)
    if task.device.type == "cuda":
        torch.cuda.synchronize(task.device)
    return {"net_epochs_per_s": b * epochs / (time.perf_counter() - t0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["digits"], choices=list(CONFIGS))
    parser.add_argument("--device", default="cpu", help="cpu, cuda[:k], mps or auto")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8, 32, 64])
    parser.add_argument("--workers", type=int, default=2, help="subprocess workers (0: skip)")
    parser.add_argument("--max-steps", type=int, default=None, help="shorter episodes")
    parser.add_argument("--no-single", action="store_true", help="skip the single env")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare limit")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of this process (default: all cores; on a "
                        "crowded machine 1 avoids thread contention)")
    parser.add_argument("--episode-threads", type=int, default=1,
                        help="also run the batched env with this many threads for the "
                        "episodes' own work (clustering, costing)")
    parser.add_argument("--split", type=int, nargs="+", default=[], metavar="B",
                        help="also --workers processes each batching B episodes (CPU)")
    parser.add_argument("--threaded-only", action="store_true",
                        help="with --episode-threads: skip the batched env on one thread")
    parser.add_argument("--data-dir", default=None, help="directory of the dataset's files")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    torch.set_num_threads(args.threads or cores)
    results: dict = {"device": args.device, "cores": cores, "threads": torch.get_num_threads()}
    for name in args.configs:
        settings = {**CONFIGS[name], "device": args.device}
        if args.max_steps:
            settings["max_steps"] = args.max_steps
        if args.data_dir:
            settings["data_dir"] = args.data_dir
        task = tnf_env.Task.build(**settings)
        actions = paper_actions(task)
        rows: dict = {}
        if not args.no_single:
            rows["single"] = run_single(task, actions)
        if args.workers and task.device.type == "cpu":
            rows[f"subproc-{args.workers}"] = run_subproc(
                settings, actions, args.workers, args.threads or cores
            )
        for b in args.batch_sizes:
            if not (args.threaded_only and args.episode_threads > 1):
                rows[f"batched-{b}"] = run_batched(task, actions, b)
            if args.episode_threads > 1:
                rows[f"batched-{b}-t{args.episode_threads}"] = run_batched(
                    task, actions, b, args.episode_threads
                )
            if not args.no_bare:
                rows[f"bare-{b}"] = run_bare(task, b)
        for b in args.split:
            if args.workers and task.device.type == "cpu":
                rows[f"subproc-{args.workers}x{b}"] = run_split(
                    settings, args.workers, b, args.threads or cores)
        results[name] = rows
        for mode, r in rows.items():
            extra = "".join(
                f"  {k} {v:.4f}" if isinstance(v, float) else f"  {k} {v}"
                for k, v in r.items() if k != "net_epochs_per_s"
            )
            print(f"{name:9s} {mode:12s} {r['net_epochs_per_s']:8.2f} network-epochs/s{extra}",
                  flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
