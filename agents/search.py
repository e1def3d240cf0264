"""Schedule search on Ray: many stable-baselines3 trials spread over a Ray cluster.

``train_agent.py search`` runs one PPO training per point of a grid (seeds x
crossbar sizes x learning rates x entropy coefficients) as Ray Tune trials.
Each trial is an ordinary ``train`` run in ``OUT/trials/NAME``, so ``replay``
and ``benchmark --run`` read it as they read a single-machine run; ``OUT``
itself gets ``results.json`` and ``results.md`` (every trial, best first) and
the best trial's ``best_schedule.json``.

- The environment is registered with :func:`ray.tune.register_env`, so every
  Ray worker builds it from the cluster's registry; the dense baseline comes
  from each machine's baseline cache (trained once per machine, file-locked).
- A trial whose process dies is restarted by Tune (``max_failures``) and
  resumes from its run directory's latest checkpoint, losing at most
  ``checkpoint_every`` steps.
- Without ``address`` a local Ray instance is started on this machine.

Ray is an optional dependency: ``pip install -e .[distributed]``.
"""

from __future__ import annotations

import builtins
import itertools
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import TrainConfig, config_from_dict
from .ppo import make_env, train

ENV_ID = "tnf_env/TraNNsformer-v0"


class SearchError(ValueError):
    """A search that cannot run as asked."""


@dataclass
class SearchConfig:
    """What one ``search`` explores and where it runs (each a command-line flag)."""

    base: TrainConfig  # the training configuration every trial starts from
    out: Path  # search directory: trials/, results.json, results.md, best_schedule.json
    seeds: tuple[int, ...] = (0,)  # PPO seeds
    crossbar_sizes: tuple[int, ...] | None = None  # one trial per chip size (None: config's)
    learning_rates: tuple[float, ...] | None = None  # PPO learning rates (None: config's)
    ent_coefs: tuple[float, ...] | None = None  # entropy coefficients (None: config's)
    address: str | None = None  # Ray cluster address (None: start a local instance)
    num_cpus: int | None = None  # CPUs of the local instance (None: all)
    max_failures: int = 3  # restarts of a trial whose process dies
    resume: bool = False  # continue a stopped search in ``out``


def _require_ray():
    try:
        import ray
        from ray import tune
    except ImportError:
        raise SearchError(
            "search needs Ray: install the optional extra with pip install -e '.[distributed]'"
        ) from None
    return ray, tune


def trial_configs(cfg: SearchConfig) -> list[TrainConfig]:
    """One training configuration per grid point, named after what it varies."""
    base = cfg.base.to_dict()
    sizes = cfg.crossbar_sizes or (None,)
    lrs = cfg.learning_rates or (None,)
    ents = cfg.ent_coefs or (None,)
    out = []
    for seed, n, lr, ent in itertools.product(cfg.seeds, sizes, lrs, ents):
        d = {**base, "seed": int(seed), "env": dict(base["env"])}
        parts = [base["name"]]
        if n is not None:
            d["env"]["crossbar_sizes"] = [int(n)]
            parts.append(f"N{n}")
        if lr is not None:
            d["learning_rate"] = float(lr)
            parts.append(f"lr{lr:g}")
        if ent is not None:
            d["ent_coef"] = float(ent)
            parts.append(f"ent{ent:g}")
        d["name"] = "-".join(parts)
        out.append(config_from_dict(d))
    names = [c.run_name for c in out]
    if len(set(names)) != len(names):
        raise SearchError("the grid repeats a point: give distinct seeds and values")
    return out


def run_trial(params: dict) -> None:
    """Tune trainable: one PPO training in its own run directory, resumed after a restart."""
    import torch
    from ray import tune
    from stable_baselines3.common.callbacks import BaseCallback

    params = params["trial"]
    out = Path(params["run_dir"])
    out.mkdir(parents=True, exist_ok=True)
    resume = (out / "config.yaml").is_file()
    with open(out / "attempts.log", "a") as fh:  # one line per start: restarts are visible
        fh.write(f"{time.time():.3f} pid {os.getpid()} resume {resume}\n")
    cfg = config_from_dict(params["config"])
    cores = max(1, int(params["cpus"]))
    torch.set_num_threads(cores)  # PPO updates and evaluation stay within the trial's CPUs
    env_creator = _global_env_creator()
    t0 = time.perf_counter()

    class Report(BaseCallback):
        """Reports progress to Tune after every rollout."""

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            eps = list(self.model.ep_info_buffer)
            tune.report(
                {
                    "timesteps": self.num_timesteps,
                    "ep_return_mean": sum(e["r"] for e in eps) / len(eps) if eps else 0.0,
                    "trial_seconds": time.perf_counter() - t0,
                }
            )

    model = train(
        cfg,
        out,
        resume=resume,
        progress_bar=False,
        cores=cores,
        env_fn=env_creator,
        callbacks=[Report()],
    )
    best = _read_json(out / "best_schedule.json")
    tune.report(
        {
            "timesteps": model.num_timesteps,
            "best_return": best.get("mean_eval_return", float("nan")),
            "trial_seconds": time.perf_counter() - t0,
            "done": True,
        }
    )


def _global_env_creator() -> Callable[[dict], Any]:
    """The creator registered with ``tune.register_env``, looked up as RLlib's workers do."""
    from ray.tune.registry import ENV_CREATOR, _global_registry

    return _global_registry.get(ENV_CREATOR, ENV_ID)


def _trial_name(params: dict) -> str:
    c = params["trial"]["config"]
    return f"{c['name']}-s{c['seed']}"  # TrainConfig.run_name


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def run_search(cfg: SearchConfig, log: Callable[[str], None] = print) -> dict:
    """Run every trial of the grid on Ray and write the search directory; returns results."""
    ray, tune = _require_ray()
    out = cfg.out.resolve()
    trials_dir = out / "trials"
    if not cfg.resume and (trials_dir.exists() or (out / "results.json").exists()):
        raise SearchError(
            f"{out} already holds a search: pass --resume to continue it, or choose another --out"
        )
    if cfg.resume and not trials_dir.is_dir():
        raise SearchError(f"--resume {out}: no search there (no trials/)")
    configs = trial_configs(cfg)
    cpus = configs[0].n_envs  # each trial's environment workers get a CPU each
    out.mkdir(parents=True, exist_ok=True)
    started, t_init = False, time.perf_counter()
    if not ray.is_initialized():
        # Workers inherit the driver's environment (threads, cache location) on this node.
        ray.init(
            address=cfg.address,
            num_cpus=cfg.num_cpus if cfg.address is None else None,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        started = True
    ray_start = time.perf_counter() - t_init
    try:
        tune.register_env(ENV_ID, make_env)
        space = [
            {"config": c.to_dict(), "run_dir": str(trials_dir / c.run_name), "cpus": cpus}
            for c in configs
        ]
        tuner = tune.Tuner(
            tune.with_resources(run_trial, {"cpu": cpus}),
            param_space={"trial": tune.grid_search(space)},
            tune_config=tune.TuneConfig(
                trial_dirname_creator=lambda t: _trial_name(t.config),
            ),
            run_config=tune.RunConfig(
                name="tune",
                storage_path=str(out / "ray"),
                failure_config=tune.FailureConfig(max_failures=cfg.max_failures),
                verbose=0,
            ),
        )
        t0 = time.perf_counter()
        builtin_print = builtins.print
        try:
            grid = tuner.fit()
        finally:
            builtins.print = builtin_print  # Tune swaps in its own print; the caller gets theirs
        wall = time.perf_counter() - t0
    finally:
        if started:
            ray.shutdown()
    doc = _collect(cfg, configs, trials_dir, grid, wall)
    doc["ray_start_seconds"] = ray_start
    _write(doc, out)
    log(results_markdown(doc))
    return doc


def _collect(cfg: SearchConfig, configs: Sequence[TrainConfig], trials_dir: Path, grid, wall):
    errors, seconds = {}, {}
    for result in grid:
        name = _trial_name(result.config)
        seconds[name] = (result.metrics or {}).get("trial_seconds")
        if result.error is not None:  # the traceback's last line says what went wrong
            lines = [ln.strip() for ln in str(result.error).splitlines() if ln.strip()]
            errors[name] = (lines[-1] if lines else type(result.error).__name__)[:200]
    trials = []
    for c in configs:
        run = trials_dir / c.run_name
        best = _read_json(run / "best_schedule.json")
        attempts = (run / "attempts.log").read_text().count("\n") if run.exists() else 0
        trials.append(
            {
                "name": c.run_name,
                "run_dir": str(run),
                "seed": c.seed,
                "crossbar_sizes": c.env.get("crossbar_sizes"),
                "learning_rate": c.learning_rate,
                "ent_coef": c.ent_coef,
                "attempts": attempts,
                "trial_seconds": seconds.get(c.run_name),  # the last attempt's training time
                "error": errors.get(c.run_name),
                "best_return": best.get("mean_eval_return"),
                "metrics": best.get("metrics", {}),
            }
        )
    ok = [t for t in trials if t["best_return"] is not None and t["error"] is None]
    ok.sort(key=lambda t: -t["best_return"])
    best_run = ok[0]["run_dir"] if ok else None
    return {
        "config": cfg.base.to_dict(),
        "address": cfg.address or "local",
        "grid": {
            "seeds": list(cfg.seeds),
            "crossbar_sizes": list(cfg.crossbar_sizes or []),
            "learning_rates": list(cfg.learning_rates or []),
            "ent_coefs": list(cfg.ent_coefs or []),
        },
        "trials": ok + [t for t in trials if t not in ok],
        "best_run": best_run,
        "wall_seconds": wall,
    }


def _write(doc: dict, out: Path) -> None:
    from .ppo import _atomic_write

    _atomic_write(out / "results.json", json.dumps(doc, indent=2))
    _atomic_write(out / "results.md", results_markdown(doc))
    if doc["best_run"]:
        shutil.copyfile(Path(doc["best_run"]) / "best_schedule.json", out / "best_schedule.json")


def results_markdown(doc: dict) -> str:
    lines = [
        f"# Search: {len(doc['trials'])} trials on {doc['address']} Ray, "
        f"{doc['wall_seconds']:.0f} s",
        "",
        "| trial | best eval return | accuracy | cost | crossbars | attempts | error |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in doc["trials"]:
        m = t["metrics"]

        def f(v, fmt=".3f"):
            return "-" if v is None else format(v, fmt)

        lines.append(
            f"| {t['name']} | {f(t['best_return'])} | {f(m.get('accuracy'), '.4f')} | "
            f"{f(m.get('cost'))} | {f(m.get('crossbars'), '.0f')} | {t['attempts']} | "
            f"{t['error'] or ''} |"
        )
    if doc["best_run"]:
        lines.append(f"\nBest run: `{doc['best_run']}`")
    return "\n".join(lines) + "\n"
