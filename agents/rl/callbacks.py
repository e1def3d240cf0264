"""The SB3 callbacks of a PPO run: episode metrics in TensorBoard, the periodic
deterministic evaluation on seeds never trained on, and, on each new best, the model and
its schedule saved (``best_model.zip``, ``best_schedule.json``: :func:`schedule_document`,
what ``replay`` re-runs).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

import tnf_env
from tnf_env.rollout import EpisodeResult
from tnf_env.state import state_document  # the one episode-state document

from ..common.outputs import atomic_write
from .config import TrainConfig

EPISODE_KEYS = (
    "accuracy",
    "cost",
    "area_ratio",
    "energy_ratio",
    "crossbars",
    "utilization",
    "is_success",
)


class StepsBar(BaseCallback):
    """Training progress on stderr: environment steps of the run, with an ETA, through the
    project's bar (:func:`agents.common.progress.progress_bar`: in place on a terminal, a
    line at most every 30 s in a log file, where SB3's own rich bar writes nothing).

    :param total: the run's environment steps.
    :param done: steps already taken (a resumed run).
    :param label: the bar's name.
    """

    def __init__(self, total: int, done: int = 0, label: str = "training") -> None:
        super().__init__()
        self.total, self.done, self.label = total, done, label
        self.bar: Any = None

    def _on_training_start(self) -> None:
        from ..common.progress import progress_bar

        self.bar = progress_bar(self.total, self.label, unit="step")
        self.bar.update(self.done)

    def _on_step(self) -> bool:
        self.bar.update(self.training_env.num_envs)
        return True

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


EVAL_SEED = 10_000  # evaluation episodes use seeds EVAL_SEED + k, never seen in training


class EpisodeMetricsCallback(BaseCallback):
    """Logs each finished episode's accuracy, cost, area, energy, crossbars, success to
    TensorBoard, from the record ``VecMonitor`` adds to the last step's info."""

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            for key in EPISODE_KEYS:
                if key in info.get("episode", ()):
                    self.logger.record_mean(f"episode/{key}", float(info["episode"][key]))
        return True


def schedule_document(result: EpisodeResult, cfg: TrainConfig, timesteps: int) -> dict:
    """``best_schedule.json``: the state document of ``result``'s episode
    (:func:`tnf_env.state.state_document`, what ``replay`` re-runs), with the run's
    configuration and the timesteps it was found at."""
    return state_document(cfg.env, result.seed, result.actions, result.episode_return,
                          result.final_info, config=cfg.to_dict(), timesteps=timesteps)


class _EvalEpisodes(gymnasium.Wrapper):
    """The evaluation environment: episode k after :meth:`restart` runs on seed
    ``EVAL_SEED + k`` (never trained on), and each finished episode is kept with its
    seed and actions, for ``best_schedule.json``; ``on_episode`` (if set) is called as each
    one ends."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        self.on_episode: Callable[[], object] | None = None
        self.restart()

    def restart(self) -> None:
        self.k = 0
        self.episodes: list[EpisodeResult] = []

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
            if self.on_episode is not None:
                self.on_episode()
        return obs, reward, terminated, truncated, info


class _SaveBestSchedule(BaseCallback):
    """``callback_on_new_best``: write ``best_model.zip`` (atomically: a kill mid-save keeps
    the old best) and ``best_schedule.json`` (the best episode: seed, actions, metrics)."""

    def __init__(self, cfg: TrainConfig, run_dir: Path) -> None:
        super().__init__()
        self.cfg, self.run_dir = cfg, run_dir

    def _on_step(self) -> bool:
        if not isinstance(self.parent, ScheduleEvalCallback):  # it reads the evaluator's record
            raise TypeError("_SaveBestSchedule is a ScheduleEvalCallback's callback_on_new_best")
        episodes = self.parent.recorder.episodes
        tmp = self.run_dir / "best_model.tmp.zip"
        self.model.save(tmp)
        os.replace(tmp, self.run_dir / "best_model.zip")
        top = max(episodes, key=lambda r: r.episode_return)
        doc = schedule_document(top, self.cfg, self.num_timesteps)
        doc["mean_eval_return"] = float(np.mean([r.episode_return for r in episodes]))
        atomic_write(self.run_dir / "best_schedule.json", json.dumps(doc, indent=2))
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
