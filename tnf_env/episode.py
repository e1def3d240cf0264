"""One episode of the TraNNsformer loop over a shared Task: the session an environment adapts.

CompilerGym splits a compiler session (state, stepping, forking, a state document) from
the Gymnasium environment that presents it (spaces, observation). :class:`Episode` is
that session: it owns the network being transformed, the step counter, the measurement
of each step, the reward, the network the episode delivers and the state document.
:class:`~tnf_env.env.TraNNsformerEnv` and the batched
:class:`~tnf_env.vector_env.BatchedTraNNsformerEnv` only present it.

A step is three calls, so that many episodes can retrain their networks together in
between (:func:`tnf_env.vector_env.step_together`): :meth:`Episode.begin` checks and
applies an action up to its retraining, :meth:`Episode.retrain` retrains, and
:meth:`Episode.finish` measures, rewards and, at the end, delivers.

>>> from tnf_env.task import Task
>>> episode = Episode(Task.build(max_steps=2))
>>> info = episode.start(seed=0)
>>> result = episode.step(episode.codec.nvec * 0)  # prunes nothing
>>> result.truncated, episode.steps, episode.get_state()["seed"]
(False, 1, 0)
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .actions import ActionCodec
from .model.training import TrainingDiverged
from .reward import final_adjustment, step_reward
from .settings import EnvConfig
from .state import check_state, plain, state_document
from .step_metrics import StepMeter
from .task import Task
from .transform.clustering import load_kernels
from .transform.step_plan import PlanState, StepPlan, run_plans
from .transform.transformation import StepReport, Transformation
from .validation import check_seed

#: What a step may raise and still end as an episode with ``info["error"]``: the loss
#: diverged (NaN or infinite), or a numerical routine gave up on a degenerate network.
#: Anything else is a bug and propagates.
STEP_FAILURES: tuple[type[Exception], ...] = (
    TrainingDiverged, FloatingPointError, np.linalg.LinAlgError,
)


def failure(exc: Exception) -> str:
    """How ``info["error"]`` names an expected failure."""
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Retrained:
    """What a step's retraining gave: the sub-iterations' reports and the seconds spent,
    or the expected failure that stopped it (then ``reports`` is empty)."""

    reports: list[StepReport]
    seconds: float = 0.0
    error: str | None = None

    @classmethod
    def of(cls, result: tuple[list[StepReport], float] | Exception) -> Retrained:
        """One result of :func:`~tnf_env.transform.step_plan.run_plans`.

        :raises Exception: ``result`` itself when it is not one of :data:`STEP_FAILURES`.
        """
        if isinstance(result, STEP_FAILURES):
            return cls([], 0.0, failure(result))
        if isinstance(result, BaseException):
            raise result
        reports, seconds = result
        return cls(list(reports), float(seconds))


@dataclass
class StepResult:
    """The end of a step: what an environment returns besides the observation.

    :ivar metrics: the measurement of the network the observation describes (after the
        last step: the delivered network's).
    """

    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]
    metrics: dict[str, Any] = field(repr=False)


class Episode:
    """An episode of transforming the task's dense network, step by step.

    :param task: the shared, read-only problem instance.
    :param config: the episode's settings (default: the task's); they must be settings
        the task serves (:meth:`Task.serves`).
    :param settings: the settings as given, recorded in :meth:`get_state` (default: all
        of ``config``).
    :ivar codec: the action space and the decoding of its actions.
    :ivar meter: measures each step's network (:class:`~tnf_env.step_metrics.StepMeter`).
    :ivar transformation: the network being transformed (None before :meth:`start`).
    :ivar steps: steps taken.
    :ivar seed: the episode seed.
    :ivar actions: the actions taken, as lists of integers.
    :ivar last_action: the last action, checked (None at the start).
    :ivar loss_fell: whether the last step's training loss fell.
    :ivar plan_state: what the per-epoch rules remember across steps.
    :ivar metrics: the current network's measurement (:meth:`StepMeter.measure`).
    :ivar delivered: ``(step, snapshot, metrics)`` of the latest network that met the floor.
    :ivar done: whether the episode ended (or has not started).
    :ivar episode_return: the rewards so far, summed.
    :ivar last_step_timing: seconds of the last step's parts (kept out of ``info``, which
        must be identical for identical seeds and actions).
    """

    def __init__(
        self, task: Task, config: EnvConfig | None = None, *,
        settings: dict[str, Any] | None = None,
    ) -> None:
        if config is None:
            config = task.config
        elif config is not task.config:
            task.serves(config)
        self.task, self.config = task, config
        self.settings = plain(settings if settings is not None else config.to_dict())
        load_kernels()  # the compiled SCIC, once per process, before the first step
        self.meter = StepMeter(task, config)
        self.codec = ActionCodec(
            task.n_layers, config.crossbar_sizes, config.per_layer_crossbar,
            config.allow_stop, config.prune_levels, len(task.sub_epochs),
        )
        self.transformation: Transformation | None = None
        self.done, self.steps, self.loss_fell = True, 0, False
        self.seed: int | None = None
        self.actions: list[list[int]] = []
        self.episode_return, self.initial_cost = 0.0, 0.0
        self.last_action: np.ndarray | None = None
        self.plan_state = PlanState()
        self.metrics: dict[str, Any] = {}
        self.delivered: tuple[int, dict[str, Any], dict[str, Any]] | None = None
        self.last_step_timing: dict[str, float] = {}
        self.closed = False

    # -- lifecycle ---------------------------------------------------------
    def start(self, seed: int) -> dict[str, Any]:
        """Start from the dense baseline; the start's ``info`` (with ``episode_seed``).

        :param seed: seeds retraining order, dropout and clustering: an integer in [0, 2**63).
        """
        self._check_open()
        seed = check_seed(seed)
        task = self.task
        self.transformation = tr = Transformation(
            task.baseline.net,
            task.x_retrain,  # the images retraining visits (train_images)
            task.y_retrain,
            [task.reference_size] * task.n_layers,
            task.recipe,
            seed=seed,
            initial_loss=task.start_loss,
            gate_data=(task.x_gate, task.y_gate),
            epoch_share=task.epoch_share,
        )
        tr.net.compact = self.config.compact
        self.steps, self.loss_fell, self.last_action, self.done = 0, False, None, False
        self.plan_state = PlanState()
        self.seed, self.actions, self.episode_return = seed, [], 0.0
        # Every episode starts from the same network: measure it once.
        if task.start_metrics is None:
            task.start_metrics = self.meter.measure(tr)
        self.metrics = task.start_metrics
        self.initial_cost = self.metrics["cost"]
        # The start is the fallback delivery. On non-ideal crossbars it may miss the floor
        # (set on the ideal baseline); info's is_success then says so at the end.
        self.delivered = (0, tr.snapshot(), self.metrics)
        info = self.info(self.metrics)
        info["episode_seed"] = seed
        return info

    def step(self, action: np.ndarray) -> StepResult:
        """One step: :meth:`begin`, :meth:`retrain`, :meth:`finish`."""
        plan = self.begin(action)
        return self.finish(None if plan is None else self.retrain(plan))

    def begin(self, action: np.ndarray) -> StepPlan | None:
        """Check ``action`` and apply it up to its retraining; the plan to retrain under
        (None: the stop action).

        :raises ValueError: the action is not one of the action space.
        :raises RuntimeError: the episode has ended (or not started).
        """
        self._check_open()
        if self.transformation is None or self.done:
            raise RuntimeError(
                "step() called on a finished episode: call reset() before stepping again"
            )
        a = self.codec.check(action)
        act = self.codec.decode(a)
        self.actions.append([int(x) for x in a])
        self._started = time.perf_counter()
        tr = self.network
        self._counters = (tr.cluster_seconds, tr.scic_runs, tr.scic_skipped)
        self.last_action = a
        if act.stop:
            return None
        cfg = self.config
        tr.crossbar_sizes = list(act.crossbar_sizes)
        return act.plan(
            self.task.unit_rates(), self.task.sub_epochs, cfg.gate_on_loss,
            cfg.settle_tolerance, cfg.cluster_prune_growth,
        )

    @property
    def network(self) -> Transformation:
        """The started episode's transformation (:meth:`start` first)."""
        if self.transformation is None:
            raise RuntimeError("no episode started: call start() (reset()) first")
        return self.transformation

    def _delivery(self) -> tuple[int, dict[str, Any], dict[str, Any]]:
        if self.delivered is None:
            raise RuntimeError("no episode started: call start() (reset()) first")
        return self.delivered

    def retrain(self, plan: StepPlan) -> Retrained:
        """Retrain the network under ``plan`` (a failure in :data:`STEP_FAILURES` is
        returned, anything else raised)."""
        (result,) = run_plans([self.network], [plan], [self.plan_state])
        return Retrained.of(result)

    def finish(self, outcome: Retrained | None) -> StepResult:
        """Measure, reward and end the step :meth:`begin` started.

        :param outcome: what its plan's retraining gave (None: it was the stop action).
        """
        tr, cfg, floor = self.network, self.config, self.task.floor
        before = self.metrics["cost"]
        error, terminated, retrain_s = None, False, 0.0
        self.meter.timing = {}
        if outcome is None:
            terminated = True
        else:
            error, retrain_s = outcome.error, outcome.seconds
            if error is None:
                self.loss_fell = outcome.reports[-1].loss_fell
            else:
                terminated = True
            self.steps += 1
            try:
                self.metrics = self.meter.measure(tr)
            except STEP_FAILURES as exc:  # keep the last good metrics
                error, terminated = error or failure(exc), True
            else:
                if error is None and self.meter.meets_floor(self.metrics["accuracy"]):
                    self.delivered = (self.steps, tr.snapshot(), self.metrics)
        m = self.metrics
        reward = step_reward(before, m["cost"], m["accuracy"], floor, cfg.step_penalty_weight)
        if m["accuracy"] < floor - cfg.collapse_margin:
            terminated = True
        truncated = not terminated and self.steps >= self.task.horizon
        last = m
        if terminated or truncated:
            self.done = True
            if cfg.select_on_validation:
                m = self._deliver()
                reward += last["cost"] - m["cost"]  # rewards telescope to the delivered saving
            else:
                reward += final_adjustment(
                    self.initial_cost, m["cost"], m["accuracy"], floor,
                    cfg.penalty_weight, cfg.floor_give_back,
                )
        info = self.info(m)
        if terminated or truncated:
            # fell_back: the last step missed the floor and an earlier network (the
            # start's, at step 0) was handed back; the steps after it were wasted.
            info["fell_back"] = info["delivered_step"] != self.steps
            info["last_accuracy"], info["last_cost"] = last["accuracy"], last["cost"]
            if cfg.snn_at_end and error is None:
                try:
                    info.update(self.meter.snn(tr, m))
                except STEP_FAILURES as exc:
                    error = failure(exc)
        if error is not None:
            info["error"] = error
        self.episode_return += float(reward)
        cluster_s, runs, skipped = self._counters
        self.last_step_timing = {
            "step": time.perf_counter() - self._started,
            "retrain": retrain_s,
            "cluster": tr.cluster_seconds - cluster_s,
            **self.meter.timing,
            "scic_runs": tr.scic_runs - runs,
            "scic_skipped": tr.scic_skipped - skipped,
        }
        return StepResult(float(reward), terminated, truncated, info, m)

    def _deliver(self) -> dict[str, Any]:
        """Restore the latest step that met the floor on validation; its metrics."""
        step, snap, metrics = self._delivery()
        if step != self.steps:
            self.network.restore(snap)
            self.metrics = metrics
        return self.metrics

    def close(self) -> None:
        """End this session: :meth:`start`, :meth:`begin`, :meth:`fork` and
        :meth:`set_state` refuse to run afterwards."""
        self.closed = True

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("the environment is closed: make a new one to run episodes")

    # -- what readers ask --------------------------------------------------
    def info(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """The ``info`` of the current network measured ``metrics`` (once the episode has
        ended, with the ``delivered_step``)."""
        info = self.meter.info(self.network, metrics, self.steps, self.loss_fell)
        if self.done:
            sel = self.config.select_on_validation
            info["delivered_step"] = self._delivery()[0] if sel else self.steps
        return info

    def fork(self) -> Episode:
        """An independent copy, mid-episode: stepping it with the same actions gives what
        this one would give, bit for bit on the CPU. The task and settings are shared
        read-only; the network, optimiser, generators, masks, clusters and history are
        copied."""
        self._check_open()
        return copy.deepcopy(self, {id(self.task): self.task, id(self.config): self.config})

    # -- the state document ------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The episode so far as the state document (:func:`~tnf_env.state.state_document`,
        what ``best_schedule.json`` holds and ``replay`` reads): ``env`` (the settings),
        ``seed``, ``actions`` (taken so far), ``torch_threads``, ``episode_return`` and
        ``metrics`` (of the current network). JSON-serialisable; :meth:`set_state`
        restores it.
        """
        if self.transformation is None or self.seed is None:
            raise RuntimeError("get_state() before reset(): there is no episode yet")
        return state_document(copy.deepcopy(self.settings), self.seed, self.actions,
                              self.episode_return, self.info(self.metrics))

    def set_state(
        self, state: dict[str, Any], *, on_step: Callable[[int, int], object] | None = None,
        to_end: bool = False,
    ) -> dict[str, Any]:
        """Restore a state document (:meth:`get_state`): start with its seed and replay its
        actions (one retraining per action, as the original took) through
        :func:`~tnf_env.rollout.rollout`; the ``info`` after the last action (of the start
        when there is none).

        :param on_step: called after each action as ``(0, actions taken)`` (a frame).
        :param to_end: an episode that ends before the state's last action stops there (the
            actions re-run under other settings); by default that is an error.
        :raises ValueError: the state is malformed or was taken on other settings.
        """
        from .rollout import FixedActions, rollout  # the loop module steps episodes

        self._check_open()
        try:
            checked = check_state(state, self.codec)  # before touching anything
        except ValueError as exc:
            raise ValueError(f"invalid state: {exc}") from None
        local = {"torch_threads": None, "cache_dir": None, "data_dir": None}
        mine = self.config.model_copy(update=local)
        theirs = checked.settings().model_copy(update=local)
        if mine != theirs:
            diff = sorted(
                name for name in EnvConfig.model_fields
                if getattr(mine, name) != getattr(theirs, name)
            )
            raise ValueError(f"the state was taken on other settings (they differ in {diff})")
        (result,) = rollout([self], [FixedActions(checked.actions)], [checked.seed],
                            on_step=on_step)
        if result.steps < len(checked.actions) and not to_end:
            raise ValueError(f"the state's episode ended before its action {result.steps}")
        return result.final_info
