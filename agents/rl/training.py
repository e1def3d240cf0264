"""Training on the TraNNsformer environment, by any learner: a run built or resumed.

:func:`train` builds (or resumes) a run in a directory (:mod:`.run_dir`: lock,
configuration, checkpoints, weights-only loading) with the callbacks of
:mod:`.callbacks` (metrics, evaluation, best model and schedule); the configuration's
``learner`` (:mod:`.learners`) makes the model, :class:`.sb3_policy.SB3Policy` acts with
it. The environment's observations are already normalised to [-1, 1], so there are no
normalisation statistics to save.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
)
from stable_baselines3.common.utils import configure_logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

import tnf_env

from ..common.outputs import atomic_write, mark_started
from ..common.progress import progress_bar as make_bar
from .callbacks import EPISODE_KEYS, EpisodeMetricsCallback, ScheduleEvalCallback, StepsBar
from .config import TrainConfig
from .full_delivery import deliver_at_full
from .learners import get_learner
from .learning_curve import LEARNING_CURVE, learning_curve_figure
from .run_dir import (
    MisfitError,
    RunError,
    best_eval_return,
    existing_run_dir,
    intact_zip,
    load_weights,
    new_run_dir,
    refuse_existing_run,
    zip_steps,
)
from .spaces import SPACES_FILE, spaces_document

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm


def make_env(settings: dict) -> Any:
    """The environment with these settings (``tnf_env.make``); picklable for workers."""
    return tnf_env.make(**settings)


def make_vec_env(
    cfg: TrainConfig,
    cores: int | None = None,
    env_fn: Callable[..., Any] | None = None,
):
    """``n_envs`` workers (subprocesses when more than one), each with its share of cores,
    behind SB3's ``VecMonitor``, which adds :data:`EPISODE_KEYS` to each episode's record.
    Worker ``k`` transforms the dense baseline of seed ``cfg.baseline_seeds[k % len]``
    (all workers the env's ``seed`` when ``baseline_seeds`` is None).

    :param cores: cores to share (default: all this process may use).
    :param env_fn: builds an environment from its settings (default ``tnf_env.make``).
    """
    cores = cores or len(os.sched_getaffinity(0))
    if cfg.vectorization == "batched" and env_fn is None:
        from .batched_vec import BatchedVecEnv

        venv = BatchedVecEnv(
            cfg.n_envs, cfg.baseline_seeds, **{"torch_threads": cores, **cfg.env}
        )
        venv.seed(cfg.seed)
        return VecMonitor(venv, info_keywords=EPISODE_KEYS)
    threads = max(1, cores // cfg.n_envs)
    build = env_fn or make_env
    seeds = cfg.baseline_seeds
    fns = [
        partial(
            build,
            {"torch_threads": threads, **cfg.env}
            | ({"seed": seeds[k % len(seeds)]} if seeds else {}),
        )
        for k in range(cfg.n_envs)
    ]
    venv = DummyVecEnv(fns) if cfg.n_envs == 1 else SubprocVecEnv(fns, start_method="spawn")
    venv.seed(cfg.seed)
    return VecMonitor(venv, info_keywords=EPISODE_KEYS)


def _write_monitor(venv: VecMonitor, run: Path, start_timesteps: int = 0) -> None:
    """Have ``venv`` write its episodes to ``run/monitor/N.monitor.csv``, one file per
    training session (``VecMonitor`` overwrites its file), as SB3's ``load_results`` and
    the Zoo's plot scripts read them; the header records the timesteps the session starts
    at (a resumed run restarts from its checkpoint's). Called with the run directory
    locked."""
    from stable_baselines3.common.monitor import ResultsWriter

    folder = run / "monitor"
    folder.mkdir(exist_ok=True)
    n = len(list(folder.glob("*.monitor.csv")))
    venv.results_writer = ResultsWriter(
        str(folder / str(n)),
        header={"t_start": venv.t_start, "env_id": tnf_env.ENV_ID,
                "start_timesteps": start_timesteps},
        extra_keys=EPISODE_KEYS,
    )


def _resume_candidates(out: Path) -> list[Path]:
    """The models a resume may continue from, newest first: the checkpoints, and
    ``final_model.zip`` first when it is further on (a finished run continues from its end)."""
    ckpts = sorted(
        (out / "checkpoints").glob("rl_model_*_steps.zip"),
        key=lambda p: int(re.findall(r"\d+", p.name)[-1]),
        reverse=True,
    )
    final = zip_steps(out / "final_model.zip")
    if final is not None and (not ckpts or final > int(re.findall(r"\d+", ckpts[0].name)[-1])):
        ckpts.insert(0, out / "final_model.zip")
    return ckpts


def _refuse_fewer_steps(out: Path, timesteps: int, done: int) -> None:
    """A resume given a new total below the steps the run has already trained would
    overwrite its final model and curve: refused, before anything is written. (Without a
    new total, a finished run whose last rollout overshot its own total is only evaluated.)"""
    if timesteps < done:
        raise RunError(
            f"--resume {out}: timesteps={timesteps} is fewer than the {done} steps the run "
            f"has already trained (allowed: at least {done})"
        )


def _load_for_resume(out: Path, cfg: TrainConfig, venv) -> OnPolicyAlgorithm | None:
    ckpts = _resume_candidates(out)
    if not ckpts:
        return None  # stopped before its first checkpoint: nothing to lose, start afresh
    model = get_learner(cfg.learner).build(cfg, venv, cfg.device, str(out / "tb"))
    errors = []
    for path in ckpts:  # a checkpoint cut short by a kill is skipped for the one before it
        if not intact_zip(path):
            errors.append(f"{path.name}: truncated")
            continue
        try:
            load_weights(model, path, optimizer=True)
            return model
        except MisfitError:  # a different environment: no older checkpoint fits either
            raise
        except RunError as exc:
            errors.append(f"{path.name}: {exc}")
    raise RunError(f"--resume {out}: no readable checkpoint ({'; '.join(errors)})")


def train(
    cfg: TrainConfig,
    out: Path,
    resume: bool = False,
    progress_bar: bool = True,
    cores: int | None = None,
    env_fn: Callable[..., Any] | None = None,
    callbacks: Sequence[BaseCallback] = (),
    timesteps: int | None = None,
    on_start: Callable[[bool], None] | None = None,
) -> OnPolicyAlgorithm:
    """Train (or continue training) the configuration's learner and return the model; at
    the end, the final evaluation, the best schedule re-run at full fidelity when the
    episodes were cheaper (:mod:`.full_delivery`) and the run's ``learning_curve.png``
    (:mod:`.learning_curve`).

    :param cfg: the configuration (ignored when resuming: the run's own is used).
    :param out: the run directory.
    :param resume: continue from the latest checkpoint in ``out``.
    :param progress_bar: show a bar over the training steps (:class:`.callbacks.StepsBar`),
        then one over the final evaluation's episodes.
    :param cores: cores the environment workers share (default: all this process may use).
    :param env_fn: builds an environment from its settings (default ``tnf_env.make``).
    :param callbacks: further SB3 callbacks (for example, reporting to a tuner).
    :param timesteps: when resuming, the new total of training steps (recorded in the
        run's ``config.yaml`` once its checkpoint has loaded), at least the steps already
        trained; None keeps the run's own.
    :param on_start: called with ``resume`` once the run directory is locked (a search
        trial records its start there).
    """
    with ExitStack() as stack:
        # A resume writes nothing (config.yaml included) until its checkpoint has loaded.
        new_timesteps = False
        if resume:
            cfg = stack.enter_context(existing_run_dir(out))
            if timesteps is not None and timesteps != cfg.timesteps:
                cfg = cfg.model_copy(update={"timesteps": timesteps})
                new_timesteps = True
                # cheap first: the steps recorded in the newest intact model's JSON
                done = next((zip_steps(p) for p in _resume_candidates(out) if intact_zip(p)), 0)
                _refuse_fewer_steps(out, cfg.timesteps, done or 0)
        else:
            refuse_existing_run(out)  # before anything is built; checked again under the lock
        # Built here first, in this process (workers report a bad setting as a broken pipe),
        # and before the learner seeds torch, so training draws the same numbers as ever.
        tnf_env.make(**cfg.env).close()
        venv = make_vec_env(cfg, cores, env_fn)
        stack.callback(venv.close)
        if not resume:
            stack.enter_context(new_run_dir(cfg, out))
        model = _load_for_resume(out, cfg, venv) if resume else None
        if model is not None and new_timesteps:
            _refuse_fewer_steps(out, cfg.timesteps, model.num_timesteps)
        if new_timesteps:
            atomic_write(out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        if not (out / SPACES_FILE).is_file():
            doc = spaces_document(venv.observation_space, venv.action_space)
            atomic_write(out / SPACES_FILE, json.dumps(doc))
        if on_start is not None:  # under the run's lock, before any step
            on_start(resume)
        _write_monitor(venv, out, model.num_timesteps if model is not None else 0)
        best_prev = best_eval_return(out) if model is not None else -np.inf
        if model is not None:
            venv.seed(cfg.seed + model.num_timesteps)  # new episodes, not a replay of the start
        else:
            model = get_learner(cfg.learner).build(cfg, venv, cfg.device, str(out / "tb"))
            if cfg.warm_start != "none":
                _warm_start(model, cfg, out)
        model.tensorboard_log = str(out / "tb")
        mark_started()  # a failure from here on keeps the run (its checkpoints) to resume
        remaining = cfg.timesteps - model.num_timesteps
        callbacks = CallbackList(
            [
                CheckpointCallback(
                    max(1, cfg.checkpoint_every // cfg.n_envs), str(out / "checkpoints")
                ),
                EpisodeMetricsCallback(),
                ScheduleEvalCallback(cfg, out, best_prev),
                *callbacks,
                *([StepsBar(cfg.timesteps, model.num_timesteps, f"{cfg.learner.upper()} training")]
                  if progress_bar else []),
            ]
        )
        if remaining > 0:
            model.learn(
                remaining,
                callback=callbacks,
                reset_num_timesteps=model.num_timesteps == 0,
                tb_log_name=cfg.learner,
            )
        else:  # already finished (killed during the final evaluation): only a logger is missing
            model.set_logger(configure_logger(0, str(out / "tb"), cfg.learner, False))
        model.save(out / "final_model.zip")
        evaluator = callbacks.callbacks[2]
        evaluator.init_callback(model)
        with make_bar(cfg.eval_episodes, "final evaluation", progress_bar) as bar:
            evaluator.recorder.on_episode = bar.update
            evaluator.evaluate_now()  # the final policy competes for best too
            evaluator.recorder.on_episode = None
        # found at a cheaper fidelity: the delivered schedule is its re-run at full
        deliver_at_full(out)
        learning_curve_figure(out, out / LEARNING_CURVE, cfg.env.get("fidelity", "full"))
    return model


def _warm_start(model: OnPolicyAlgorithm, cfg: TrainConfig, out: Path) -> None:
    """Clone a fixed schedule (or a trained policy) into the fresh model; the outcome goes
    to ``warm_start.json``."""
    from .policies import PaperPolicy, PruningPolicy
    from .sb3_policy import SB3Policy
    from .warmstart import (
        WARM_START_SEED,
        behaviour_clone,
        collect_demonstrations,
        confidence_targets,
    )

    env = tnf_env.make(**cfg.env)
    try:
        seeds = [WARM_START_SEED + k for k in range(cfg.warm_start_episodes)]
        if cfg.warm_start.startswith("policy:"):  # on another menu it adapts by itself
            teacher: Any = SB3Policy.load(cfg.warm_start.removeprefix("policy:"))
        else:
            teacher = PaperPolicy() if cfg.warm_start == "paper" else PruningPolicy()
        demo = collect_demonstrations(env, teacher, seeds, cfg.gamma)
        names = tnf_env.episode_of(env).codec.names()
    finally:
        env.close()
    stats = behaviour_clone(model, demo, confidence_targets(cfg.warm_start_confidence, names))
    doc = {"schedule": cfg.warm_start, **stats}
    atomic_write(out / "warm_start.json", json.dumps(doc, indent=2))


