"""B episodes of ``tnf_env/TraNNsformer-v0`` at once, in one process on one device.

Running one small network per process leaves an accelerator idle between tiny
kernels; :class:`BatchedTraNNsformerEnv` runs B episodes over one shared
:class:`~tnf_env.task.Task` and retrains their B networks with one batched
forward/backward per minibatch (:mod:`tnf_env.transform.batched`). Everything else about an
episode (the action, thresholds, loss gate, settle test, snapshots, delivered
network, reward, info) is the single environment's own code: each sub-episode is a
:class:`~tnf_env.env.TraNNsformerEnv` whose :class:`~tnf_env.episode.Episode` steps in
three calls, begin, retrain and finish, the retraining shared.
Sub-episode k reset with seed s is the single environment's episode with seed s
(``tests/tnf_env/test_vector_env.py``: identical in float64).

>>> import gymnasium as gym, tnf_env
>>> envs = gym.make_vec("tnf_env/TraNNsformer-v0", num_envs=2,
...                     vectorization_mode="vector_entry_point", max_steps=2)
>>> obs, info = envs.reset(seed=[3, 4])
>>> obs.shape[0], info["episode_seed"].tolist()
(2, [3, 4])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from .env import TraNNsformerEnv
from .episode import Retrained
from .settings import MAX_THREADS, EnvConfig
from .task import Task
from .transform.batched import retrain_stacked
from .transform.step_plan import run_plans
from .validation import MAX_ENVS, check_int, check_seed

AUTORESET_MODES = {m.value: m for m in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)}


def step_together(
    envs: Sequence[TraNNsformerEnv], actions: Sequence[np.ndarray], map_each: Callable = map
) -> list[tuple]:
    """Step several episodes at once: their networks retrain together
    (:func:`~tnf_env.transform.batched.retrain_stacked`), each keeps its own rules
    (:meth:`Episode.begin <tnf_env.episode.Episode.begin>` and
    :meth:`~tnf_env.episode.Episode.finish` around the shared retraining).

    :param envs: the episodes (unwrapped environments, none of them ended).
    :param actions: one action per episode; all are checked
        (:meth:`~tnf_env.actions.ActionCodec.check`) before any episode begins its step, so
        a bad action changes no episode.
    :param map_each: how the episodes' own work runs (``map``, or a thread pool's ``map``).
    :return: per episode the ``(obs, reward, terminated, truncated, info)`` of its step,
        exactly as ``env.step(action)`` alone returns it (identical in float64).
    :raises ValueError: an action outside its episode's action space.
    :raises Exception: a failure of some episode that is not one a step expects
        (:data:`~tnf_env.episode.STEP_FAILURES`): a bug.
    """
    episodes = [env.episode for env in envs]
    checked = [ep.codec.check(a) for ep, a in zip(episodes, actions, strict=True)]
    plans = [ep.begin(a) for ep, a in zip(episodes, checked, strict=True)]
    running = [(k, p) for k, p in enumerate(plans) if p is not None]
    results = run_plans(
        [episodes[k].network for k, _ in running],
        [p for _, p in running],
        [episodes[k].plan_state for k, _ in running],
        retrain=retrain_stacked,
        map_each=map_each,
    )
    outcomes = dict(zip((k for k, _ in running), (Retrained.of(r) for r in results),
                        strict=True))

    def end(k: int) -> tuple:
        return envs[k].transition(episodes[k].finish(outcomes.get(k)))

    return list(map_each(end, range(len(envs))))


class BatchedTraNNsformerEnv(VectorEnv):
    """``num_envs`` TraNNsformer episodes stepped together; networks retrained batched.

    :param num_envs: episodes run at once (B), at most :data:`~tnf_env.validation.MAX_ENVS`.
    :param task: the shared :class:`~tnf_env.task.Task` (built from the settings if None).
    :param baseline_seeds: episode k transforms the dense baseline of seed
        ``baseline_seeds[k % len]`` (one task per seed, sharing the data tensors; None:
        the task's own seed).
    :param autoreset_mode: Gymnasium's ``NEXT_STEP`` (default: the step after an episode
        ends resets it) or ``SAME_STEP`` (reset at once; the last observation and info
        go to ``info["final_obs"]`` and ``info["final_info"]``).
    :param threads: threads (at most 1024) that run the episodes' own work (pruning, clustering,
        mapping, costing, evaluation) side by side between batched retrainings; 1 runs it
        one episode after the other. Results do not depend on it.
    :param settings: environment settings, as for ``gymnasium.make``.
    """

    def __init__(
        self,
        num_envs: int = 1,
        *,
        task: Task | None = None,
        baseline_seeds: Sequence[int] | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        threads: int = 1,
        **settings: Any,
    ) -> None:
        num_envs = check_int(num_envs, "setting num_envs", 1, MAX_ENVS)
        threads = check_int(threads, "setting threads", 1, MAX_THREADS)
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None
        self._map = self._pool.map if self._pool is not None else map
        mode = autoreset_mode.value if isinstance(autoreset_mode, AutoresetMode) else autoreset_mode
        if mode not in AUTORESET_MODES:
            raise ValueError(
                f"invalid setting autoreset_mode={autoreset_mode!r}: allowed "
                f"{', '.join(AUTORESET_MODES)}"
            )
        if task is None:
            task = Task(EnvConfig.from_kwargs(**settings))
        self.task = task
        tasks = [task]
        if baseline_seeds is not None:
            if not baseline_seeds:
                raise ValueError("invalid setting baseline_seeds=[]: allowed None or seeds")
            if len(baseline_seeds) > MAX_ENVS:
                raise ValueError(
                    f"invalid setting baseline_seeds: {len(baseline_seeds)} seeds, allowed "
                    f"at most {MAX_ENVS}"
                )
            tasks = [task.with_settings(seed=check_seed(s, "setting baseline_seeds"))
                     for s in baseline_seeds]
        self.envs = []
        for k in range(num_envs):
            t = tasks[k % len(tasks)]
            own = {**settings, "seed": t.config.seed} if settings else {}
            self.envs.append(TraNNsformerEnv(render_mode=render_mode, task=t, **own))
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.metadata = {
            "autoreset_mode": AUTORESET_MODES[mode],
            "render_modes": TraNNsformerEnv.metadata["render_modes"],
        }
        first = self.envs[0]
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._observations: np.ndarray = np.asarray(
            create_empty_array(self.single_observation_space, num_envs))  # a Box: an ndarray

    @property
    def horizon(self) -> int:
        """Steps per episode (the task's ``max_steps``)."""
        return self.task.horizon

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every episode.

        :param seed: None, an integer s (episode k gets s + k) or one seed per episode.
        :param options: passed to every episode's ``reset``.
        """
        if seed is None or isinstance(seed, (int, np.integer)):
            seeds = [None if seed is None else int(seed) + k for k in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(
                    f"invalid seed: {len(seeds)} seeds for {self.num_envs} environments"
                )
        obs: list[np.ndarray] = []
        infos: dict[str, Any] = {}
        for k, (env, s) in enumerate(zip(self.envs, seeds, strict=True)):
            o, info = env.reset(seed=s, options=options)
            obs.append(o)
            infos = self._add_info(infos, info, k)
        self._autoreset[:] = False
        return self._stack(obs), infos

    def step(self, actions):
        """Step every episode: their networks retrain together, each keeps its own rules."""
        actions = np.asarray(actions)
        if actions.shape[:1] != (self.num_envs,):
            raise ValueError(
                f"invalid actions: shape {actions.shape}, expected ({self.num_envs}, ...)"
            )
        results: list[tuple | None] = [None] * self.num_envs
        stepping = [k for k in range(self.num_envs) if not self._autoreset[k]]
        # First the step (it checks every action before touching any episode), so that a
        # bad action also leaves a finished episode unreset.
        stepped = step_together([self.envs[k] for k in stepping], [actions[k] for k in stepping],
                                self._map)
        for k, result in zip(stepping, stepped, strict=True):
            results[k] = result
        for k, env in enumerate(self.envs):
            if self._autoreset[k]:  # NEXT_STEP: this step only resets the finished episode
                o, info = env.reset()
                results[k] = (o, 0.0, False, False, info)
        return self._collect(results)

    def _collect(self, results: list) -> tuple:
        obs, rewards, terms, truncs = [], [], [], []
        infos: dict[str, Any] = {}
        same_step = self.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
        for k, (o, r, term, trunc, info) in enumerate(results):
            ended = bool(term or trunc)
            if same_step and ended:
                final = {"final_obs": o, "final_info": info}
                o, info = self.envs[k].reset()
                info = {**info, **final}
            obs.append(o)
            rewards.append(r)
            terms.append(term)
            truncs.append(trunc)
            infos = self._add_info(infos, info, k)
            self._autoreset[k] = ended and not same_step
        return (
            self._stack(obs),
            np.array(rewards, dtype=np.float64),
            np.array(terms, dtype=bool),
            np.array(truncs, dtype=bool),
            infos,
        )

    def _stack(self, obs: list[np.ndarray]) -> np.ndarray:
        # a Box space: gymnasium concatenates into the ndarray it was given
        self._observations = np.asarray(
            concatenate(self.single_observation_space, obs, self._observations))
        return self._observations.copy()

    def render(self) -> tuple | None:
        """Every episode's render (None without a render mode)."""
        if self.render_mode is None:
            return None
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for env in self.envs:
            env.close()
