"""Schedule search on Ray: many trials spread over a Ray cluster, by grid or by Optuna.

``train_agent.py search`` runs one trial per point of a search space as Ray Tune
trials. A trial is either one PPO training (``--target ppo``: an ordinary
``train`` run in ``OUT/trials/NAME``, so ``replay`` and ``benchmark --run`` read it
as they read a single-machine run) or, to tune a baseline with the same machinery,
episodes of a fixed schedule (``--target paper`` or ``pruning``) whose own
constants (``env.rate_scale``, ``env.settle_tolerance``, ...) are the space.
``OUT`` gets ``results.json`` and ``results.md`` (every trial, best first) and the
best trial's ``best_schedule.json``.

A fixed schedule is tuned as the studies tune it (:mod:`.baseline`): each episode's
delivered network is judged by its validation cost at the episode's crossbar size, floor
met first; a trial reports the mean ``tuning_cost`` of its episodes (lower is better,
what ASHA and Optuna read for these targets) and keeps its best-judged episode; trials
rank by episodes missing the floor, then mean tuning cost. PPO trials rank by return.

- ``--search-alg grid`` (default): every point of a grid (seeds x crossbar sizes x
  learning rates x entropy coefficients x ``--space KEY=v1,v2`` lists).
  ``--search-alg optuna``: ``--num-samples`` points drawn by Optuna's TPE sampler
  from ``--space`` ranges (``KEY=LOW:HIGH``, ``KEY=LOW:HIGH:log``, ``KEY=LOW:HIGH:int``
  or a list).
- Every trial reports its episode return as it goes (PPO: the mean return of the
  latest training episodes after each rollout; fixed schedules: the running mean
  after each episode), so ``--scheduler asha`` (Tune's ASHAScheduler) stops weak
  trials early; ``fifo`` runs every trial to its end.
- The environment is registered with :func:`ray.tune.register_env`, so every
  Ray worker builds it from the cluster's registry; the dense baseline comes
  from each machine's baseline cache (trained once per machine, file-locked).
- A trial whose process dies is restarted by Tune (``max_failures``) and
  resumes from its run directory's latest checkpoint, losing at most
  ``checkpoint_every`` steps.
- Without ``address`` a local Ray instance is started on this machine.

Ray is an optional dependency: ``pip install -e .[distributed]`` (Optuna is a core one).
"""

from __future__ import annotations

import builtins
import itertools
import json
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hwmodel.safeload import DocumentError, load_document

from ..common.outputs import atomic_write, claim_dir, mark_started
from ..rl.callbacks import EVAL_SEED, schedule_document
from ..rl.config import TrainConfig, config_from_dict
from ..rl.run_dir import run_dir_lock
from ..rl.training import make_env, train
from .baseline import tuning_key, validation_cost
from .config import (  # noqa: F401 (SearchError, parse_dimension: public here too)
    SearchConfig,
    SearchError,
    parse_dimension,
)

ENV_ID = "tnf_env/TraNNsformer-v0"
METRIC = "episode_return"  # what every trial reports as it goes (ASHA and Optuna read it)
TUNING_METRIC = "tuning_cost"  # a fixed schedule's trial: what the studies tune on


def objective(target: str) -> tuple[str, str]:
    """The metric ASHA and Optuna read for ``target``, and whether to maximise it: a
    PPO trial's episode return; a fixed schedule's mean tuning cost (:mod:`.baseline`)."""
    return (METRIC, "max") if target == "ppo" else (TUNING_METRIC, "min")


def apply_params(base: TrainConfig, params: dict[str, Any], name: str | None = None) -> TrainConfig:
    """``base`` with searched values set (``env.KEY`` for an environment setting); validated."""
    d = {**base.to_dict(), "env": dict(base.env)}
    for key, value in params.items():
        if key.startswith("env."):
            d["env"][key.removeprefix("env.")] = value
        else:
            d[key] = value
    if name is not None:
        d["name"] = name
    try:
        return config_from_dict(d)
    except ValueError as exc:
        raise SearchError(f"search space: {exc}") from None


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
    base = cfg.base
    sizes = cfg.crossbar_sizes or (None,)
    lrs = cfg.learning_rates or (None,)
    ents = cfg.ent_coefs or (None,)
    extra = [[(d, v) for v in d.choices] for d in cfg.dimensions]
    out = []
    for seed, n, lr, ent, *more in itertools.product(cfg.seeds, sizes, lrs, ents, *extra):
        params: dict[str, Any] = {"seed": int(seed)}
        parts = [base.name]
        if n is not None:
            params["env.crossbar_sizes"] = [int(n)]
            parts.append(f"N{n}")
        if lr is not None:
            params["learning_rate"] = float(lr)
            parts.append(f"lr{lr:g}")
        if ent is not None:
            params["ent_coef"] = float(ent)
            parts.append(f"ent{ent:g}")
        for d, v in more:
            params[d.key] = v
            parts.append(f"{d.short}{v:g}" if isinstance(v, (int, float)) else f"{d.short}{v}")
        out.append(apply_params(base, params, "-".join(parts)))
    names = [c.run_name for c in out]
    if len(set(names)) != len(names):
        raise SearchError("the grid repeats a point: give distinct seeds and values")
    return out


def run_trial(config: dict) -> None:
    """Tune trainable: one trial in its own run directory, resumed after a restart."""
    import torch
    from ray import tune

    trial, params = config["trial"], config.get("params") or {}
    cfg = config_from_dict(trial["config"])
    if params:  # an Optuna trial: named after Tune's trial id
        cfg = apply_params(cfg, params, f"{cfg.name}-{tune.get_context().get_trial_id()}")
    out = Path(trial["trials_dir"]) / cfg.run_name
    out.mkdir(parents=True, exist_ok=True)
    resume = (out / "config.yaml").is_file()

    def log_start(resumed: bool) -> None:  # one line per start, under the run's lock
        with open(out / "attempts.log", "a") as fh:
            fh.write(f"{time.time():.3f} pid {os.getpid()} resume {resumed}\n")

    cores = max(1, int(trial["cpus"]))
    torch.set_num_threads(cores)  # PPO updates and evaluation stay within the trial's CPUs
    env_creator = _global_env_creator()
    t0 = time.perf_counter()

    def report(metrics: dict) -> None:
        tune.report({**metrics, "run_dir": str(out), "trial_seconds": time.perf_counter() - t0})

    if trial["target"] != "ppo":
        with run_dir_lock(out):
            log_start(resume)
            _schedule_trial(cfg, out, trial["target"], int(trial["episodes"]), env_creator,
                            report)
        return
    from stable_baselines3.common.callbacks import BaseCallback

    last = {METRIC: math.nan}

    class Report(BaseCallback):
        """Reports the latest training episodes' mean return to Tune after every rollout."""

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            eps = list(self.model.ep_info_buffer or ())  # None: before the first rollout
            if eps:  # no finished episode yet: nothing to judge the trial by
                last[METRIC] = float(sum(e["r"] for e in eps) / len(eps))
                report({"timesteps": self.num_timesteps, METRIC: last[METRIC]})

    model = train(
        cfg,
        out,
        resume=resume,
        progress_bar=False,
        cores=cores,
        env_fn=env_creator,
        callbacks=[Report()],
        on_start=log_start,
    )
    best = _read_json(out / "best_schedule.json")
    report(
        {
            "timesteps": model.num_timesteps,
            METRIC: last[METRIC],
            "best_return": best.get("mean_eval_return", math.nan),
            "done": True,
        }
    )


def _schedule_trial(
    cfg: TrainConfig,
    out: Path,
    target: str,
    episodes: int,
    env_creator: Callable[[dict], Any],
    report: Callable[[dict], None],
) -> None:
    """Episodes of a fixed schedule on seeds ``EVAL_SEED + k``, each judged as the studies
    tune a baseline (:func:`.baseline.tuning_key` of its delivered network); reports the
    running mean tuning cost and return after each and keeps the best-judged episode as
    ``best_schedule.json``. With ``vectorization: batched`` the episodes run at once, their
    networks retrained as one batched computation (the same results in float64), and are
    reported when all end."""
    import numpy as np

    import tnf_env
    from tnf_env.rollout import rollout

    from ..rl.policies import PaperPolicy, PruningPolicy

    cfg = apply_params(cfg, {"env.prune_unit": "paper"})  # the schedules' unit
    seeds = [EVAL_SEED + k for k in range(episodes)]
    results, keys, steps = [], [], 0
    envs: list[Any] = []

    def finished(res) -> None:
        """Judge an episode's delivered network (its environment still holds it), record
        its end (in seed order) and report the running means."""
        nonlocal steps
        env = envs[0] if len(envs) == 1 else envs[seeds.index(res.seed)]
        results.append(res)
        keys.append(delivered_key(tnf_env.episode_of(env),
                                  bool(res.final_info.get("is_success", True))))
        steps += res.steps
        mean = float(np.mean([r.episode_return for r in results]))
        cost = float(np.mean([k[1] for k in keys]))
        missed = sum(k[0] for k in keys)
        best = min(range(len(results)), key=keys.__getitem__)
        doc = schedule_document(results[best], cfg, steps)
        doc["mean_eval_return"], doc["episodes"] = mean, len(results)
        atomic_write(out / "best_schedule.json", json.dumps(doc, indent=2))
        report({"timesteps": steps, "episodes": len(results), METRIC: mean, "best_return": mean,
                TUNING_METRIC: cost, "floor_missed": missed})

    policies = [PaperPolicy() if target == "paper" else PruningPolicy() for _ in seeds]
    if cfg.vectorization == "batched":  # one task: the episodes share its data, stack
        task = tnf_env.Task.build(**cfg.env)
        envs += [tnf_env.TraNNsformerEnv(task=task) for _ in seeds]
        try:
            rollout(envs, policies, seeds, batch=max(2, len(seeds)), on_episode=finished)
        finally:
            for env in envs:
                env.close()
        return
    envs.append(env_creator(cfg.env))
    try:
        rollout(envs * len(seeds), policies, seeds, on_episode=finished)
    finally:
        envs[0].close()


def delivered_key(episode, meets_floor: bool) -> tuple[bool, float]:
    """The tuning key (:func:`.baseline.tuning_key`) of the network an ended episode
    delivered, at the crossbar size its chip ended at.

    :param episode: the ended :class:`tnf_env.episode.Episode` (it holds the delivered
        network and its measurement).
    :param meets_floor: whether that network clears the floor with the selection margin
        (the episode's last ``info["is_success"]``).
    """
    tr = episode.network
    cost = validation_cost(episode.task, tr.net, tr.clusters, int(tr.crossbar_sizes[0]),
                           episode.config.area_weight, episode.metrics["assessment"])
    return tuning_key(meets_floor, cost)


def _global_env_creator() -> Callable[[dict], Any]:
    """The creator registered with ``tune.register_env``, looked up as RLlib's workers do."""
    from ray.tune.registry import ENV_CREATOR, _global_registry

    return _global_registry.get(ENV_CREATOR, ENV_ID)


def _trial_dirname(trial) -> str:
    c = trial.config["trial"]["config"]
    if trial.config.get("params"):
        return f"{c['name']}-{trial.trial_id}-s{c['seed']}"
    return f"{c['name']}-s{c['seed']}"  # TrainConfig.run_name


def _read_json(path: Path) -> dict:
    try:
        doc = load_document(path, "json")
    except DocumentError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _optuna(cfg: SearchConfig, tune):
    try:
        from optuna.samplers import TPESampler
        from ray.tune.search.optuna import OptunaSearch
    except ImportError:
        raise SearchError(
            "--search-alg optuna needs Ray Tune's Optuna searcher: pip install -e '.[distributed]'"
        ) from None
    space = {}
    for d in cfg.dimensions:
        if d.values is not None:
            space[d.key] = tune.choice(list(d.values))
        elif d.kind == "log":
            space[d.key] = tune.loguniform(*d.bounds)
        elif d.kind == "int":
            low, high = d.bounds
            space[d.key] = tune.randint(int(low), int(high) + 1)
        else:
            space[d.key] = tune.uniform(*d.bounds)
    seed = cfg.base.seed
    metric, mode = objective(cfg.target)
    return space, OptunaSearch(metric=metric, mode=mode, sampler=TPESampler(seed=seed))


def _reports_per_trial(cfg: SearchConfig) -> int:
    """The most reports a trial makes: ASHA's max_t (a trial reaching it is finished)."""
    if cfg.target != "ppo":
        return cfg.episodes
    per_rollout = cfg.base.n_steps * cfg.base.n_envs
    return -(-cfg.base.timesteps // per_rollout) + 1  # rollouts, then the final report


def run_search(cfg: SearchConfig, log: Callable[[str], None] = print) -> dict:
    """Run every trial of the search on Ray and write the search directory; returns results."""
    ray, tune = _require_ray()
    with claim_dir(cfg.out, "--out", products=()):  # locked before Ray starts, to the end
        return _run_search(cfg, ray, tune, log)


def _run_search(cfg: SearchConfig, ray, tune, log: Callable[[str], None]) -> dict:
    out = cfg.out.resolve()
    trials_dir = out / "trials"
    if not cfg.resume and (trials_dir.exists() or (out / "results.json").exists()):
        raise SearchError(
            f"{out} already holds a search: pass --resume to continue it, or choose another --out"
        )
    if cfg.resume and not trials_dir.is_dir():
        raise SearchError(f"--resume {out}: no search there (no trials/)")
    static = {
        "trials_dir": str(trials_dir),
        "cpus": cfg.base.n_envs,  # each trial's environment workers get a CPU each
        "target": cfg.target,
        "episodes": cfg.episodes,
    }
    searcher, num_samples = None, 1
    if cfg.search_alg == "grid":
        configs = trial_configs(cfg)
        param_space = {
            "trial": tune.grid_search([{**static, "config": c.to_dict()} for c in configs])
        }
    else:
        space, searcher = _optuna(cfg, tune)
        param_space = {"trial": {**static, "config": cfg.base.to_dict()}, "params": space}
        num_samples = cfg.num_samples
    scheduler = None
    if cfg.scheduler == "asha":
        from ray.tune.schedulers import ASHAScheduler

        max_t = _reports_per_trial(cfg)
        metric, mode = objective(cfg.target)
        scheduler = ASHAScheduler(
            time_attr="training_iteration",  # one report per rollout (or episode)
            metric=metric,
            mode=mode,
            max_t=max_t,
            grace_period=max(1, max_t // 4),
            reduction_factor=2,
        )
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
        tuner = tune.Tuner(
            tune.with_resources(run_trial, {"cpu": static["cpus"]}),
            param_space=param_space,
            tune_config=tune.TuneConfig(
                search_alg=searcher,
                scheduler=scheduler,
                num_samples=num_samples,
                trial_dirname_creator=_trial_dirname,
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
        mark_started()  # trials write from here on: a failure keeps them to --resume
        try:
            grid = tuner.fit()
        finally:
            builtins.print = builtin_print  # Tune swaps in its own print; the caller gets theirs
        wall = time.perf_counter() - t0
    finally:
        if started:
            ray.shutdown()
    doc = _collect(cfg, trials_dir, grid, wall)
    doc["ray_start_seconds"] = ray_start
    _write(doc, out)
    log(results_markdown(doc))
    return doc


def _collect(cfg: SearchConfig, trials_dir: Path, grid, wall: float) -> dict:
    trials = []
    for result in grid:
        name = Path(result.path).name if result.path else "?"
        run = trials_dir / name
        metrics = result.metrics or {}
        error = None
        if result.error is not None:  # the traceback's last line says what went wrong
            lines = [ln.strip() for ln in str(result.error).splitlines() if ln.strip()]
            error = (lines[-1] if lines else type(result.error).__name__)[:200]
        c = apply_params(
            config_from_dict(result.config["trial"]["config"]), result.config.get("params") or {}
        )
        best = _read_json(run / "best_schedule.json")
        attempts = (run / "attempts.log").read_text().count("\n") if run.exists() else 0
        if cfg.target == "ppo":
            complete = (run / "final_model.zip").exists()
        else:
            complete = best.get("episodes") == cfg.episodes
        trials.append(
            {
                "name": name,
                "run_dir": str(run.relative_to(cfg.out.resolve())),  # the directory may move
                "seed": c.seed,
                "crossbar_sizes": c.env.get("crossbar_sizes"),
                "learning_rate": c.learning_rate,
                "ent_coef": c.ent_coef,
                "params": {d.key: _lookup(c, d.key) for d in cfg.dimensions},
                "attempts": attempts,
                "trial_seconds": _num(metrics.get("trial_seconds")),  # the last attempt
                "timesteps": _num(metrics.get("timesteps")),
                "last_return": _num(metrics.get(METRIC)),  # the last reported episode return
                "complete": complete,  # False: stopped early by the scheduler (or failed)
                "error": error,
                "best_return": best.get("mean_eval_return"),
                # fixed schedules: what ranks them (the last report: the mean of every episode)
                TUNING_METRIC: _num(metrics.get(TUNING_METRIC)),
                "floor_missed": _num(metrics.get("floor_missed")),
                "metrics": best.get("metrics", {}),
            }
        )
    ok = [t for t in trials if t["best_return"] is not None and t["error"] is None]
    if cfg.target == "ppo":
        ok.sort(key=lambda t: (not t["complete"], -t["best_return"]))  # finished trials first
    else:  # as the studies tune a baseline: floor met first, then validation cost
        ok.sort(key=lambda t: (not t["complete"], t["floor_missed"] or 0,
                               math.inf if t[TUNING_METRIC] is None else t[TUNING_METRIC]))
    best_run = ok[0]["run_dir"] if ok else None
    return {
        "config": cfg.base.to_dict(),
        "address": cfg.address or "local",
        "search_alg": cfg.search_alg,
        "scheduler": cfg.scheduler,
        "target": cfg.target,
        "grid": {
            "seeds": list(cfg.seeds),
            "crossbar_sizes": list(cfg.crossbar_sizes or []),
            "learning_rates": list(cfg.learning_rates or []),
            "ent_coefs": list(cfg.ent_coefs or []),
        },
        "space": list(cfg.space) or [f"{d.key} (default)" for d in cfg.dimensions],
        "trials": ok + [t for t in trials if t not in ok],
        "best_run": best_run,
        "wall_seconds": wall,
    }


def _lookup(c: TrainConfig, key: str) -> Any:
    return c.env.get(key.removeprefix("env.")) if key.startswith("env.") else getattr(c, key)


def _write(doc: dict, out: Path) -> None:
    atomic_write(out / "results.json", json.dumps(doc, indent=2))
    atomic_write(out / "results.md", results_markdown(doc))
    if doc["best_run"]:
        shutil.copyfile(out / doc["best_run"] / "best_schedule.json", out / "best_schedule.json")


def results_markdown(doc: dict) -> str:
    lines = [
        f"# Search: {len(doc['trials'])} trials ({doc.get('search_alg', 'grid')}, "
        f"{doc.get('scheduler', 'fifo')}, target {doc.get('target', 'ppo')}) on "
        f"{doc['address']} Ray, {doc['wall_seconds']:.0f} s",
        "",
        "| trial | best eval return | last reported return | tuning cost | steps | complete | "
        "accuracy | cost | crossbars | attempts | error |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in doc["trials"]:
        m = t["metrics"]

        def f(v, fmt=".3f"):
            return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)

        lines.append(
            f"| {t['name']} | {f(t['best_return'])} | {f(t.get('last_return'))} | "
            f"{f(t.get(TUNING_METRIC), '.4f')} | {f(t.get('timesteps'), 'd')} | "
            f"{'yes' if t.get('complete') else 'stopped'} | "
            f"{f(m.get('accuracy'), '.4f')} | {f(m.get('cost'))} | "
            f"{f(m.get('crossbars'), '.0f')} | {t['attempts']} | {t['error'] or ''} |"
        )
    if doc["best_run"]:
        lines.append(f"\nBest run: `{doc['best_run']}`")
    return "\n".join(lines) + "\n"


def _num(v: Any) -> Any:
    """A reported number as plain JSON (None when absent)."""
    return None if v is None else v.item() if hasattr(v, "item") else v
