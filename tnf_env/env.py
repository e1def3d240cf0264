"""``tnf_env/TraNNsformer-v0``: transform a trained network into cheap crossbar hardware.

An episode starts from the cached dense baseline network. Each step is one TraNNsformer
iteration chosen by the action (see :mod:`tnf_env.actions`): raise per-layer pruning
thresholds, (re)cluster, prune clusters, pick the crossbar size, then retrain for
``retrain_epochs``; the network is then scored on the validation split, mapped onto
crossbars and costed with :mod:`hwmodel`. The reward is the step's decrease of the
normalised hardware cost, with a penalty below the accuracy floor (:mod:`tnf_env.reward`).

>>> import tnf_env
>>> env = tnf_env.make(max_steps=3)  # gymnasium.make plus a matching TimeLimit
>>> obs, info = env.reset(seed=0)
>>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
>>> sorted(k for k in ("accuracy", "area_mm2", "energy_nj", "is_success") if k in info)
['accuracy', 'area_mm2', 'energy_nj', 'is_success']
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from .episode import Episode, StepResult
from .measure.assessment import Assessment
from .observation import feature_names, observation_size, observe
from .settings import EnvConfig
from .state import check_reset_options
from .task import Task
from .transform.schedule import PaperSchedule
from .transform.transformation import Transformation
from .validation import check_seed


class TraNNsformerEnv(gym.Env):
    """Gymnasium environment of the TraNNsformer prune-cluster-retrain loop: the spaces
    and observation of an :class:`~tnf_env.episode.Episode` (the session that steps,
    measures, rewards and delivers) over a shared :class:`~tnf_env.task.Task`.

    Every keyword is a setting of :class:`~tnf_env.settings.EnvConfig`. The episode
    length is the ``max_steps`` setting (default 10): the environment truncates there
    itself, and is registered without a ``TimeLimit``, so ``gymnasium.make``,
    ``gymnasium.make_vec`` and SB3's ``make_vec_env`` keep its horizon. (Passing
    ``max_episode_steps`` below ``max_steps`` cuts episodes before the environment
    delivers its network: set ``max_steps`` instead.)

    :param render_mode: ``None``, ``"ansi"`` (a per-layer text table) or ``"rgb_array"``
        (connectivity matrices with clusters outlined).
    :ivar task: the shared problem instance (data, baseline, floor, references).
    :ivar episode: the episode this environment presents.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 1}

    def __init__(
        self, render_mode: str | None = None, *, task: Task | None = None, **settings: Any
    ) -> None:
        """:param task: a :class:`~tnf_env.task.Task` to share (built from the settings
        when None); settings given with it must be the task's own (those left out are
        the task's, except ``torch_threads``, ``cache_dir`` and ``data_dir``)."""
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"invalid setting render_mode={render_mode!r}: allowed None, 'ansi', 'rgb_array'"
            )
        self.render_mode = render_mode
        if task is not None and not isinstance(task, Task):
            raise ValueError(f"invalid setting task={task!r}: allowed None or a tnf_env.Task")
        if task is None:
            self.config = cfg = EnvConfig.from_kwargs(**settings)
        else:
            self.config = cfg = task.config_of(settings)  # reads only what differs
            settings = settings or task.config.to_dict()
        if cfg.torch_threads is not None:  # before the task: its baseline may train here
            torch.set_num_threads(cfg.torch_threads)
        self.task = task = task if task is not None else Task(cfg)
        self.episode = Episode(task, cfg, settings=settings)  # as given: get_state()'s "env"
        self.codec = self.episode.codec
        self.action_space = self.codec.space
        n_obs = observation_size(task.n_layers, len(self.codec.nvec))
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(n_obs,), dtype=np.float32)
        self.observation_names = feature_names(task.n_layers, self.codec.names())

    @property
    def transformation(self) -> Transformation | None:
        """The episode's network being transformed (None before the first reset)."""
        return self.episode.transformation

    @property
    def assessment(self) -> Assessment | None:
        """The current network's assessment (after an episode: the delivered one's)."""
        return self.episode.metrics["assessment"] if self.transformation is not None else None

    def paper_schedule(self, horizon: int | None = None) -> PaperSchedule:
        """The paper's fixed schedule over ``horizon`` steps (:meth:`Task.paper_schedule`)."""
        return self.task.paper_schedule(horizon)

    def observation(self) -> np.ndarray:
        """The observation of the episode's current network."""
        return observe(self.episode)

    # -- Gymnasium API -----------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode from the dense baseline.

        :param seed: seeds the episode (retraining order, dropout, clustering): None or
            an integer in [0, 2**63).
        :param options: None, or ``{"state": doc}``: restore a state of :meth:`get_state`
            (the seed is then the state's); anything else is refused
            (:func:`~tnf_env.state.check_reset_options`: a misspelt ``state`` would start
            a fresh episode without a word).
        """
        check_reset_options(options)
        if options and options.get("state") is not None:
            return self.set_state(options["state"])
        if seed is not None:
            seed = check_seed(seed)
        super().reset(seed=seed)
        episode_seed = int(seed) if seed is not None else int(self.np_random.integers(2**31 - 1))
        info = self.episode.start(episode_seed)
        return self.observation(), info

    def step(self, action):
        """One step of the episode (:meth:`Episode.step`): Gymnasium's five values."""
        return self.transition(self.episode.step(action))

    def transition(self, result: StepResult) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Gymnasium's five values of a step the episode ended with ``result``."""
        return self.observation(), result.reward, result.terminated, result.truncated, result.info

    def close(self) -> None:
        """Close the environment: ``reset`` and ``step`` refuse to run afterwards."""
        self.episode.close()
        super().close()

    # -- the episode's state -----------------------------------------------
    def fork(self) -> TraNNsformerEnv:
        """An independent copy of this environment, mid-episode (:meth:`Episode.fork`):
        stepping it with the same actions gives what this one would give, bit for bit on
        the CPU. On a wrapped environment use :func:`tnf_env.fork` (keeps the wrappers)."""
        episode = self.episode.fork()  # the copy's own parts are the forked episode's
        pairs = [(self.task, self.task), (self.config, self.config), (self.episode, episode),
                 (self.codec, episode.codec), (self.action_space, episode.codec.space)]
        return copy.deepcopy(self, {id(mine): theirs for mine, theirs in pairs})

    def get_state(self) -> dict[str, Any]:
        """The episode so far as the schedule document ``replay`` reads
        (:meth:`Episode.get_state`); :meth:`set_state` restores it."""
        return self.episode.get_state()

    def set_state(
        self, state: dict[str, Any], *, on_step: Callable[[int, int], object] | None = None,
        to_end: bool = False,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Restore a :meth:`get_state` document (:meth:`Episode.set_state`, whose keywords
        these are); the observation and info after its last action (of the reset when
        there is none).

        :raises ValueError: the state is malformed or was taken on different settings.
        """
        info = self.episode.set_state(state, on_step=on_step, to_end=to_end)
        super().reset(seed=self.episode.seed)  # as reset(seed=...) seeds the generator
        return self.observation(), info

    def render(self):
        if self.render_mode is None or self.transformation is None:
            return None
        from .render import connectivity_rgb, layer_table

        if self.render_mode == "ansi":
            return layer_table(self.transformation, self.episode.info(self.episode.metrics))
        return connectivity_rgb(self.transformation)

    def describe(self) -> str:
        """One line naming the network this environment transforms."""
        return self.task.describe()


def episode_of(env: gym.Env | gym.Wrapper) -> Episode:
    """The :class:`~tnf_env.episode.Episode` session a TraNNsformer env presents, under
    any wrappers: what code outside the environment reads (its codec, settings, network,
    step timing), never the env's own attributes.

    :raises TypeError: ``env`` does not wrap a :class:`TraNNsformerEnv`.
    """
    inner = getattr(env, "unwrapped", None)
    if not isinstance(inner, TraNNsformerEnv):
        raise TypeError("expected a TraNNsformer environment (tnf_env/TraNNsformer-v0, "
                        f"possibly wrapped), got {env}")
    return inner.episode


def task_of(env: gym.Env | gym.Wrapper) -> Task:
    """The shared :class:`~tnf_env.task.Task` of a TraNNsformer env, under any wrappers
    (a :class:`TypeError` for any other env, as :func:`episode_of`)."""
    return episode_of(env).task
