"""PPO on the TraNNsformer environment: training, checkpoints, evaluation, best schedule.

A run directory holds ``config.yaml`` (the resolved configuration),
``checkpoints/`` (every ``checkpoint_every`` steps), ``tb/`` (TensorBoard),
``best_model.zip`` and ``best_schedule.json`` (the best deterministic episode
seen by the periodic evaluation). The environment's observations are already
normalised to [-1, 1], so there are no normalisation statistics to save.

A process that writes a run directory holds its ``.lock`` (a second process
fails at once). Models are read back weights only (:func:`load_weights`): SB3's
``PPO.load`` unpickles parts of the zip, so a crafted file could run code.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pickle
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
import yaml
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
)
from stable_baselines3.common.utils import configure_logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

import tnf_env
from hwmodel.safeload import DocumentError, load_document
from tnf_env.state import STATE_METRICS, plain  # what replay checks, as get_state() records

from ..common.outputs import OutputError, atomic_write, dir_lock
from .config import ConfigError, TrainConfig, config_from_dict
from .policies import EpisodeResult
from .spaces import SPACES_FILE, spaces_document, stored_spaces

EPISODE_KEYS = (
    "accuracy",
    "cost",
    "area_ratio",
    "energy_ratio",
    "crossbars",
    "utilization",
    "is_success",
)
EVAL_SEED = 10_000  # evaluation episodes use seeds EVAL_SEED + k, never seen in training
LOCK_NAME = ".lock"  # held by the process that writes a run directory


class RunError(ValueError):
    """A run directory that cannot be used as asked."""


class MisfitError(RunError):
    """A saved model whose spaces or networks differ from the environment's."""


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


def _write_monitor(venv: VecMonitor, run: Path) -> None:
    """Have ``venv`` write its episodes to ``run/monitor/N.monitor.csv``, one file per
    training session (``VecMonitor`` overwrites its file), as SB3's ``load_results`` and
    the Zoo's plot scripts read them. Called with the run directory locked."""
    from stable_baselines3.common.monitor import ResultsWriter

    folder = run / "monitor"
    folder.mkdir(exist_ok=True)
    n = len(list(folder.glob("*.monitor.csv")))
    venv.results_writer = ResultsWriter(
        str(folder / str(n)),
        header={"t_start": venv.t_start, "env_id": tnf_env.ENV_ID},
        extra_keys=EPISODE_KEYS,
    )


class EpisodeMetricsCallback(BaseCallback):
    """Logs each finished episode's accuracy, cost, area, energy, crossbars, success to
    TensorBoard, from the record ``VecMonitor`` adds to the last step's info."""

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            for key in EPISODE_KEYS:
                if key in info.get("episode", ()):
                    self.logger.record_mean(f"episode/{key}", float(info["episode"][key]))
        return True


class PPOPolicy:
    """A trained PPO model behind the :class:`~agents.rl.policies.Policy` interface."""

    def __init__(self, model: PPO, deterministic: bool = True, name: str = "ppo") -> None:
        self.model, self.deterministic, self.name = model, deterministic, name

    @classmethod
    def load(cls, run_dir: str | Path, which: str = "best") -> PPOPolicy:
        """The run's best (or latest checkpointed) policy, rebuilt from its ``config.yaml``.

        Only weights are read from the model zip (:func:`load_weights`): no code runs.

        :param run_dir: a training run, or a search directory (its best trial).
        :param which: ``"best"`` (``best_model.zip``) or ``"latest"`` (newest checkpoint).
        """
        run = resolve_run_dir(run_dir)
        path = run / "best_model.zip" if which == "best" else latest_checkpoint(run)
        if path is None or not path.exists():
            raise RunError(f"no {which} model in {run}: train first (train_agent.py train)")
        root = Path(run_dir).resolve()  # a search's trial, or the run itself
        for p in (run, path):
            if not _inside(p, root):
                raise RunError(
                    f"{p} leads outside {root} (a link out of the directory): refusing to "
                    "read it"
                )
        cfg = load_run_config(run)
        # the policy's spaces as stored with the run: no environment (nor its baseline) built
        stand_in = partial(_SpacesOnly, *stored_spaces(run, path))
        # one stand-in per training worker: the (unused) rollout buffer fits the batch size
        model = build_model(cfg, DummyVecEnv([stand_in] * cfg.n_envs), device="cpu")
        load_weights(model, path)
        return cls(model)

    def reset(self, env) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        if not self.deterministic:
            action, _ = self.model.predict(obs, deterministic=False)
            return action
        return self.greedy(obs)

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """The most probable action (or one per row of a 2-D ``obs``), computed in float64
        from a float64 copy of the weights: float32 kernels differ between processors in
        the last bits, which can flip the choice between two near-equal logits."""
        x = np.asarray(obs, dtype=np.float64)
        actions = np.stack([p.argmax(1).numpy() for p in self.logits(x.reshape(-1, x.shape[-1]))],
                           axis=1)
        return actions.reshape(-1) if x.ndim == 1 else actions

    def logits(self, obs: np.ndarray) -> list[torch.Tensor]:
        """Per action component, the float64 logits (rows: observations) of a 2-D ``obs``.

        SB3's own path casts the observation to float32 (``preprocess_obs``), so this one
        runs the actor's layers directly: features, the actor's MLP, the action head."""
        if getattr(self, "_policy64", None) is None:
            import copy

            self._policy64 = copy.deepcopy(self.model.policy).to(torch.float64).eval()
        pi = self._policy64
        with torch.no_grad():
            x = torch.as_tensor(np.asarray(obs, dtype=np.float64))
            latent = pi.mlp_extractor.forward_actor(pi.pi_features_extractor(x))
            logits = pi.action_net(latent)
        return list(torch.split(logits, [int(n) for n in pi.action_space.nvec], dim=1))


def schedule_document(result: EpisodeResult, cfg: TrainConfig, timesteps: int) -> dict:
    """``best_schedule.json``: what to replay, and what it gave."""
    info = result.final_info
    return {
        "config": cfg.to_dict(),
        "env": cfg.env,
        "seed": result.seed,
        "timesteps": timesteps,
        "torch_threads": torch.get_num_threads(),  # replay uses the same summation order
        "actions": result.actions,
        "episode_return": result.episode_return,
        "metrics": {k: plain(info[k]) for k in STATE_METRICS if k in info},
    }


class _EvalEpisodes(gymnasium.Wrapper):
    """The evaluation environment: episode k after :meth:`restart` runs on seed
    ``EVAL_SEED + k`` (never trained on), and each finished episode is kept with its
    seed and actions, for ``best_schedule.json``."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.restart()

    def restart(self) -> None:
        self.k, self.episodes = 0, []

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        seed = EVAL_SEED + self.k if seed is None else seed
        self.k += 1
        self._current = EpisodeResult("ppo", seed, 0.0, 0, [], {})
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        ep = self._current
        ep.actions.append([int(a) for a in np.asarray(action).ravel()])
        ep.episode_return += float(reward)
        ep.steps, ep.final_info = ep.steps + 1, info
        if terminated or truncated:
            self.episodes.append(ep)
        return obs, reward, terminated, truncated, info


class _SaveBestSchedule(BaseCallback):
    """``callback_on_new_best``: write ``best_model.zip`` (atomically: a kill mid-save keeps
    the old best) and ``best_schedule.json`` (the best episode: seed, actions, metrics)."""

    def __init__(self, cfg: TrainConfig, run_dir: Path) -> None:
        super().__init__()
        self.cfg, self.run_dir = cfg, run_dir

    def _on_step(self) -> bool:
        episodes = self.parent.recorder.episodes
        tmp = self.run_dir / "best_model.tmp.zip"
        self.model.save(tmp)
        os.replace(tmp, self.run_dir / "best_model.zip")
        top = max(episodes, key=lambda r: r.episode_return)
        doc = schedule_document(top, self.cfg, self.num_timesteps)
        doc["mean_eval_return"] = float(np.mean([r.episode_return for r in episodes]))
        _atomic_write(self.run_dir / "best_schedule.json", json.dumps(doc, indent=2))
        return True


class ScheduleEvalCallback(EvalCallback):
    """SB3's ``EvalCallback``: every ``eval_every`` steps, deterministic episodes on a
    separate environment (seeds ``EVAL_SEED + k``), ``eval/*`` in TensorBoard (SB3's
    ``mean_reward``, ``mean_ep_length``, ``success_rate`` and the means of
    :data:`EPISODE_KEYS`); on a new best, :class:`_SaveBestSchedule`.

    :param best: the best mean return so far (a resumed run's), to beat.
    """

    def __init__(self, cfg: TrainConfig, run_dir: Path, best: float = -np.inf) -> None:
        self.recorder = _EvalEpisodes(tnf_env.make(**cfg.env))
        super().__init__(
            VecMonitor(DummyVecEnv([lambda: self.recorder])),
            callback_on_new_best=_SaveBestSchedule(cfg, run_dir),
            n_eval_episodes=cfg.eval_episodes,
            eval_freq=max(1, cfg.eval_every // cfg.n_envs),
            warn=False,
            verbose=0,
        )
        self.best_mean_reward = best

    def _on_step(self) -> bool:
        if self.eval_freq > 0 and self.n_calls % self.eval_freq == 0:
            self.recorder.restart()  # the same seeds at every evaluation
        return super()._on_step()

    def _log_success_callback(self, locals_: dict[str, Any], globals_: dict[str, Any]) -> None:
        super()._log_success_callback(locals_, globals_)
        if locals_["done"]:
            for key in EPISODE_KEYS:
                self.logger.record_mean(f"eval/{key}", float(locals_["info"][key]))

    def evaluate_now(self) -> None:
        """Evaluate at once (the final policy competes for best too)."""
        self.num_timesteps, self.n_calls = self.model.num_timesteps, self.eval_freq
        self._on_step()


_atomic_write = atomic_write  # the name the rest of the package imports


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint with the most timesteps in ``run_dir/checkpoints`` (None if none)."""
    found = []
    for p in (run_dir / "checkpoints").glob("rl_model_*_steps.zip"):
        m = re.fullmatch(r"rl_model_(\d+)_steps\.zip", p.name)
        if m:
            found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


@contextmanager
def run_dir_lock(run: Path) -> Iterator[None]:
    """Hold ``run/.lock`` while this process writes the run; a second process fails at once.
    Passes inside a command's claim of the same directory (:func:`agents.common.outputs.claim_dir`).

    :param run: an existing run directory.
    """
    try:
        with dir_lock(run, "run directory"):
            yield
    except OutputError as exc:
        raise RunError(str(exc)) from None


def load_run_config(run: Path, own: bool = False) -> TrainConfig:
    """The validated configuration in ``run/config.yaml``.

    :param run: a run directory.
    :param own: the run this command continues (``train --resume``): its ``env.cache_dir``
        is kept. Otherwise (a run read as input: a shipped policy, ``benchmark --run``)
        the file does not choose where this machine writes baselines: the default cache.
    """
    try:
        saved = load_document(run / "config.yaml", "yaml")
        if not isinstance(saved, dict):
            raise ConfigError("it is not a mapping of keys to values")
        env = saved.get("env")
        if not own and isinstance(env, dict) and env.get("cache_dir") is not None:
            # a file handed over does not choose where this machine writes its baselines
            saved = {**saved, "env": {**env, "cache_dir": None}}
        return config_from_dict(saved)
    except (ConfigError, DocumentError) as exc:
        raise RunError(f"{run}: its config.yaml is unusable: {exc}") from None


def _refuse_existing_run(out: Path) -> None:
    if (out / "config.yaml").exists() or latest_checkpoint(out) is not None:
        raise RunError(
            f"{out} already holds a run: pass --resume {out} to continue it, "
            "or choose another --out"
        )


@contextmanager
def _new_run_dir(cfg: TrainConfig, out: Path) -> Iterator[None]:
    """Create and lock ``out`` for a new run and write its ``config.yaml``.

    Called only once the environment has been built, so a failed start leaves
    nothing behind. An existing empty directory (a search trial's) is taken; the
    check for a run already there is repeated under the lock, so of two
    processes starting at once exactly one gets the directory.
    """
    out.mkdir(parents=True, exist_ok=True)
    with run_dir_lock(out):
        _refuse_existing_run(out)
        _atomic_write(out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        yield


@contextmanager
def _existing_run_dir(out: Path) -> Iterator[TrainConfig]:
    """Lock a run directory to resume it; yields its own configuration."""
    if not (out / "config.yaml").is_file():
        raise RunError(f"--resume {out}: no run there (no config.yaml)")
    with run_dir_lock(out):
        yield load_run_config(out, own=True)


class _SpacesOnly(gymnasium.Env):
    """An environment that only has spaces: enough to build a PPO model for prediction."""

    def __init__(self, observation_space: gymnasium.Space, action_space: gymnasium.Space):
        self.observation_space, self.action_space = observation_space, action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        raise RuntimeError("a policy loaded for prediction has no environment to step")

    def step(self, action):
        raise RuntimeError("a policy loaded for prediction has no environment to step")


def build_model(cfg: TrainConfig, env: Any, device: str, tensorboard_log: str | None = None) -> PPO:
    """A fresh PPO model with the run's hyperparameters and network on ``env``.

    :param cfg: the run's configuration.
    :param env: the environment (or vectorised environments) whose spaces it acts in.
    :param device: torch device of the networks.
    :param tensorboard_log: TensorBoard directory (None: no logs).
    """
    return PPO(
        "MlpPolicy",
        env,
        n_steps=cfg.n_steps,
        batch_size=cfg.batch_size,
        n_epochs=cfg.n_epochs,
        learning_rate=cfg.learning_rate,
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        ent_coef=cfg.ent_coef,
        clip_range=cfg.clip_range,
        policy_kwargs={"net_arch": list(cfg.net_arch)},
        seed=cfg.seed,
        device=device,
        tensorboard_log=tensorboard_log,
        verbose=0,
    )


# Counters of ``data`` restored with the weights; plain JSON integers in SB3's format.
_COUNTERS = ("num_timesteps", "_n_updates", "_episode_num")


def load_weights(model: PPO, path: Path, optimizer: bool = False) -> None:
    """Load an SB3 model zip's weights into ``model`` without unpickling anything.

    ``policy.pth`` (and ``policy.optimizer.pth``) are read with
    ``torch.load(weights_only=True)``, which refuses every object but tensors and
    plain containers; of ``data`` only JSON is parsed (its pickled entries, such as
    ``lr_schedule``, are never decoded): the spaces are checked against
    ``model``'s and the step counters restored. Everything else comes from the
    run's ``config.yaml``, through ``model``.

    :param model: a model built by :func:`build_model` for the run's environment.
    :param path: the zip written by SB3's ``save``.
    :param optimizer: also restore Adam's state (to resume training).
    :raises RunError: the zip is unreadable or does not fit ``model``.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            data = json.loads(zf.read("data"))
            weights = _read_tensors(zf, "policy.pth", model.device)
            adam = _read_tensors(zf, "policy.optimizer.pth", model.device) if optimizer else None
    except pickle.UnpicklingError:  # torch's own message suggests weights_only=False: no
        raise RunError(
            f"{path} is unreadable: it holds objects other than tensors, "
            "refused because loading them could run code"
        ) from None
    except (OSError, KeyError, ValueError, RuntimeError, zipfile.BadZipFile) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise RunError(f"{path} is unreadable: {type(exc).__name__}: {first}") from None
    misfit = _spaces_misfit(data, model) if isinstance(data, dict) else "no data"
    if misfit is None:
        try:
            model.policy.load_state_dict(weights)
            if adam is not None:
                model.policy.optimizer.load_state_dict(adam)
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            misfit = str(exc).strip().splitlines()[0]
    if misfit is not None:
        raise MisfitError(f"checkpoint {path} does not fit this environment: {misfit}")
    for key in _COUNTERS:
        value = data.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RunError(f"{path}: its {key} is not a count: {value!r}")
        setattr(model, key, value)


def _read_tensors(zf: zipfile.ZipFile, name: str, device: Any) -> Any:
    return torch.load(io.BytesIO(zf.read(name)), map_location=device, weights_only=True)


def _spaces_misfit(data: dict, model: PPO) -> str | None:
    """How the spaces recorded in ``data`` (as plain JSON) differ from ``model``'s, or None."""
    obs, act = data.get("observation_space"), data.get("action_space")
    shape = obs.get("_shape") if isinstance(obs, dict) else None
    if shape is not None and list(shape) != list(model.observation_space.shape):
        current = list(model.observation_space.shape)
        return f"its observations have shape {shape}, the environment's {current}"
    nvec = act.get("nvec") if isinstance(act, dict) else None
    now = getattr(model.action_space, "nvec", None)
    if isinstance(nvec, str) and now is not None:
        try:
            saved = [int(x) for x in nvec.strip("[]").split()]
        except ValueError:  # not numpy's printout: the weights' shapes still get checked
            return None
        current = [int(x) for x in np.asarray(now).ravel()]
        if saved != current:
            return f"its actions choose among {saved}, the environment's among {current}"
    return None


def _load_for_resume(out: Path, cfg: TrainConfig, venv) -> PPO | None:
    ckpts = sorted(
        (out / "checkpoints").glob("rl_model_*_steps.zip"),
        key=lambda p: int(re.findall(r"\d+", p.name)[-1]),
        reverse=True,
    )
    final = _zip_steps(out / "final_model.zip")  # a finished run continues from its end
    if final is not None and (not ckpts or final > int(re.findall(r"\d+", ckpts[0].name)[-1])):
        ckpts.insert(0, out / "final_model.zip")
    if not ckpts:
        return None  # stopped before its first checkpoint: nothing to lose, start afresh
    model = build_model(cfg, venv, cfg.device, str(out / "tb"))
    errors = []
    for path in ckpts:  # a checkpoint cut short by a kill is skipped for the one before it
        if not _intact_zip(path):
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


def _zip_steps(path: Path) -> int | None:
    """``num_timesteps`` recorded in an SB3 model zip's JSON ``data`` (None: unreadable)."""
    try:
        with zipfile.ZipFile(path) as zf:
            steps = json.loads(zf.read("data")).get("num_timesteps")
    except (OSError, KeyError, ValueError, AttributeError, zipfile.BadZipFile):
        return None
    return steps if isinstance(steps, int) and not isinstance(steps, bool) else None


def _intact_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() is None
    except (zipfile.BadZipFile, OSError, EOFError):
        return False


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
) -> PPO:
    """Train (or continue training) PPO and return the model.

    :param cfg: the configuration (ignored when resuming: the run's own is used).
    :param out: the run directory.
    :param resume: continue from the latest checkpoint in ``out``.
    :param progress_bar: show a progress bar.
    :param cores: cores the environment workers share (default: all this process may use).
    :param env_fn: builds an environment from its settings (default ``tnf_env.make``).
    :param callbacks: further SB3 callbacks (for example, reporting to a tuner).
    :param timesteps: when resuming, the new total of training steps (recorded in the
        run's ``config.yaml``); None keeps the run's own.
    :param on_start: called with ``resume`` once the run directory is locked (a search
        trial records its start there).
    """
    with ExitStack() as stack:
        if resume:
            cfg = stack.enter_context(_existing_run_dir(out))
            if timesteps is not None and timesteps != cfg.timesteps:
                cfg = dataclasses.replace(cfg, timesteps=timesteps).validate()
                _atomic_write(out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        else:
            _refuse_existing_run(out)  # before anything is built; checked again under the lock
        # Built here first, in this process (workers report a bad setting as a broken pipe),
        # and before PPO seeds torch, so training draws the same numbers as ever.
        tnf_env.make(**cfg.env).close()
        venv = make_vec_env(cfg, cores, env_fn)
        stack.callback(venv.close)
        if not resume:
            stack.enter_context(_new_run_dir(cfg, out))
        if not (out / SPACES_FILE).is_file():
            doc = spaces_document(venv.observation_space, venv.action_space)
            _atomic_write(out / SPACES_FILE, json.dumps(doc))
        if on_start is not None:  # under the run's lock, before any step
            on_start(resume)
        _write_monitor(venv, out)
        model = _load_for_resume(out, cfg, venv) if resume else None
        best_prev = _best_return(out) if model is not None else -np.inf
        if model is not None:
            venv.seed(cfg.seed + model.num_timesteps)  # new episodes, not a replay of the start
        else:
            model = build_model(cfg, venv, cfg.device, str(out / "tb"))
            if cfg.warm_start != "none":
                _warm_start(model, cfg, out)
        model.tensorboard_log = str(out / "tb")
        remaining = cfg.timesteps - model.num_timesteps
        callbacks = CallbackList(
            [
                CheckpointCallback(
                    max(1, cfg.checkpoint_every // cfg.n_envs), str(out / "checkpoints")
                ),
                EpisodeMetricsCallback(),
                ScheduleEvalCallback(cfg, out, best_prev),
                *callbacks,
            ]
        )
        if remaining > 0:
            model.learn(
                remaining,
                callback=callbacks,
                reset_num_timesteps=model.num_timesteps == 0,
                tb_log_name="ppo",
                progress_bar=progress_bar,
            )
        else:  # already finished (killed during the final evaluation): only a logger is missing
            model.set_logger(configure_logger(0, str(out / "tb"), "ppo", False))
        model.save(out / "final_model.zip")
        evaluator = callbacks.callbacks[2]
        evaluator.init_callback(model)
        evaluator.evaluate_now()  # the final policy competes for best too
    return model


def _warm_start(model: PPO, cfg: TrainConfig, out: Path) -> None:
    """Clone a fixed schedule into the fresh model; the outcome goes to ``warm_start.json``."""
    from .policies import PaperPolicy, PruningPolicy
    from .warmstart import (
        WARM_START_SEED,
        behaviour_clone,
        collect_demonstrations,
        confidence_targets,
    )

    env = tnf_env.make(**cfg.env)
    try:
        seeds = [WARM_START_SEED + k for k in range(cfg.warm_start_episodes)]
        teacher = PaperPolicy() if cfg.warm_start == "paper" else PruningPolicy()
        demo = collect_demonstrations(env, teacher, seeds, cfg.gamma)
        names = env.unwrapped.codec.names()
    finally:
        env.close()
    stats = behaviour_clone(model, demo, confidence_targets(cfg.warm_start_confidence, names))
    doc = {"schedule": cfg.warm_start, **stats}
    _atomic_write(out / "warm_start.json", json.dumps(doc, indent=2))


def resolve_run_dir(path: str | Path) -> Path:
    """A training run directory, or the best trial of a ``search`` directory.

    A search's ``results.json`` may name only trials inside the search directory:
    one pointing elsewhere would have a command load a model from anywhere.

    :param path: the run or search directory.
    """
    run = Path(path)
    if (run / "config.yaml").is_file():
        return run
    try:
        doc = load_document(run / "results.json", "json")
    except DocumentError:
        doc = None
    doc = doc if isinstance(doc, dict) else {}
    trials = doc.get("trials") if isinstance(doc.get("trials"), list) else []
    named = [doc.get("best_run"), *(t.get("run_dir") for t in trials if isinstance(t, dict))]
    root = run.resolve()
    for p in named:
        if p is not None and (not isinstance(p, str) or not _inside(root / p, root)):
            raise RunError(
                f"{run / 'results.json'} names a trial outside its search directory ({p!r}): "
                "refusing to read it"
            )
    best = doc.get("best_run")
    if best and (root / best / "config.yaml").is_file():
        return root / best
    raise RunError(f"{run}: neither a training run (config.yaml) nor a search with a best run")


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _best_return(out: Path) -> float:
    try:
        return float(json.loads((out / "best_schedule.json").read_text())["mean_eval_return"])
    except (OSError, ValueError, KeyError):
        return -np.inf
