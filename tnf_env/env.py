"""``tnf_env/TraNNsformer-v0``: transform a trained network into cheap crossbar hardware.

An episode starts from the cached dense baseline network. Each step is one
TraNNsformer iteration chosen by the action (see :mod:`tnf_env.actions`):
raise per-layer pruning thresholds, (re)cluster, prune clusters, pick the
crossbar size, then retrain for ``retrain_epochs``; the network is then
scored on the validation split, mapped onto crossbars and costed with
:mod:`hwmodel`. The reward is the step's decrease of the normalised hardware
cost, with a penalty below the accuracy floor (:mod:`tnf_env.reward`).

>>> import tnf_env
>>> env = tnf_env.make(max_steps=3)  # gymnasium.make plus a matching TimeLimit
>>> obs, info = env.reset(seed=0)
>>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
>>> sorted(k for k in ("accuracy", "area_mm2", "energy_nj", "is_success") if k in info)
['accuracy', 'area_mm2', 'energy_nj', 'is_success']
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from .actions import ActionCodec
from .measure.assessment import Assessment
from .measure.nonideal import HardwareWeights, hardware_net
from .measure.selection import clears_floor
from .model.network import MaskedMLP
from .model.spiking import SNNSettings, snn_evaluate
from .model.training import evaluate
from .observation import LayerView, build_observation, feature_names, observation_size
from .reward import final_adjustment, normalized_cost, step_reward
from .settings import EnvConfig
from .state import STATE_METRICS, EpisodeState, plain  # noqa: F401 (STATE_METRICS re-exported)
from .task import DEFAULT_MAX_STEPS, Task  # noqa: F401 (DEFAULT_MAX_STEPS re-exported)
from .transform.clustering import load_kernels
from .transform.schedule import PaperSchedule
from .transform.step_plan import PlanState, StepPlan, run_plan
from .transform.transformation import StepReport, Transformation
from .validation import check_seed


def _from_task(name: str) -> property:
    return property(lambda self: getattr(self.task, name), doc=f"The task's ``{name}``.")


class TraNNsformerEnv(EpisodeState, gym.Env):
    """Gymnasium environment of the TraNNsformer prune-cluster-retrain loop.

    Every keyword is a setting of :class:`~tnf_env.settings.EnvConfig`. The episode
    length is the ``max_steps`` setting (default 10): the environment truncates there
    itself, and is registered without a ``TimeLimit``, so ``gymnasium.make``,
    ``gymnasium.make_vec`` and SB3's ``make_vec_env`` keep its horizon. (Passing
    ``max_episode_steps`` below ``max_steps`` cuts episodes before the environment
    delivers its network: set ``max_steps`` instead.)

    :param render_mode: ``None``, ``"ansi"`` (a per-layer text table) or ``"rgb_array"``
        (connectivity matrices with clusters outlined).
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
        self.settings = plain(settings)  # as given: the "env" of get_state()
        if cfg.torch_threads is not None:  # before the task: its baseline may train here
            torch.set_num_threads(cfg.torch_threads)
        self.task = task = task if task is not None else Task(cfg)
        load_kernels()  # the compiled SCIC, once per process, before the first step
        # Per environment: its cache holds this episode's layers (a shared one would thrash).
        self._hardware = (
            HardwareWeights(task.technology.device, seed=cfg.seed) if task.nonideal else None
        )
        self._hw_net: MaskedMLP | None = None  # the non-ideal copy, rewritten each step
        self.codec = ActionCodec(
            task.n_layers,
            cfg.crossbar_sizes,
            cfg.per_layer_crossbar,
            cfg.allow_stop,
            cfg.prune_levels,
            len(task.sub_epochs),
        )
        self.action_space = self.codec.space
        n_obs = observation_size(task.n_layers, len(self.codec.nvec))
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(n_obs,), dtype=np.float32)
        self.observation_names = feature_names(task.n_layers, self.codec.names())
        self.transformation: Transformation | None = None
        self._done = True

    # The task's read-only parts, under the names the environment always had.
    device = _from_task("device")
    technology = _from_task("technology")
    nonideal = _from_task("nonideal")
    data = _from_task("data")
    topology = _from_task("topology")
    recipe = _from_task("recipe")
    baseline = _from_task("baseline")
    n_layers = _from_task("n_layers")
    x_train = _from_task("x_train")
    y_train = _from_task("y_train")
    x_val = _from_task("x_val")
    y_val = _from_task("y_val")
    x_test = _from_task("x_test")
    y_test = _from_task("y_test")
    baseline_accuracy = _from_task("baseline_accuracy")
    floor = _from_task("floor")
    weight_scale = _from_task("weight_scale")
    sub_epochs = _from_task("sub_epochs")
    reference_size = _from_task("reference_size")
    reference = _from_task("reference")
    horizon = _from_task("horizon")

    @property
    def assessment(self) -> Assessment | None:
        """The current network's assessment (after an episode: the delivered one's)."""
        return self._metrics["assessment"] if self.transformation is not None else None

    def dense_cost(self, crossbar_size: int):
        """The dense network's cost at ``crossbar_size`` (one of the allowed sizes; cached)."""
        return self.task.dense_cost(crossbar_size)

    def meets_floor(self, accuracy: float) -> bool:
        """Whether a validation ``accuracy`` counts as meeting the floor for selection: it
        clears it by ``selection_margin`` standard errors (:mod:`tnf_env.measure.selection`)."""
        return clears_floor(accuracy, self.floor, len(self.y_val), self.config.selection_margin)

    def paper_schedule(self, horizon: int | None = None) -> PaperSchedule:
        """The paper's fixed schedule over ``horizon`` steps (default: the episode's)."""
        return self.task.paper_schedule(horizon)

    def unit_rates(self) -> list[float]:
        """Threshold increase per layer of prune level 1 (see :meth:`Task.unit_rates`)."""
        return self.task.unit_rates()

    def selection_accuracy(self) -> float:
        """The validation accuracy the current network is selected on: on the technology's
        non-ideal crossbars when the task models them (what :meth:`meets_floor` reads)."""
        return self._measure()["accuracy"]

    def _measure(self) -> dict[str, Any]:
        """Assess the network once: every reader of this step uses the result."""
        tr = self.transformation
        t0 = time.perf_counter()
        a = Assessment.of(
            tr.net, tr.clusters, tr.crossbar_sizes, self.technology,
            [tr.cmap(i) for i in range(self.n_layers)],
        )
        cost = a.cost(self.config.accounting)
        t1 = time.perf_counter()
        acc = evaluate(tr.net, self.x_val, self.y_val)[0]
        t2 = time.perf_counter()
        norm = normalized_cost(
            cost.area_mm2, cost.energy_nj, self.reference, self.config.area_weight
        )
        m = {"accuracy": acc, "accuracy_ideal": acc, "cost_obj": cost, "cost": norm,
             "assessment": a}
        if self._hardware is not None:
            weights = a.hardware_weights(tr.net, self._hardware, self.config.accounting)
            self._hw_net = hardware_net(tr.net, weights, into=self._hw_net)
            m["accuracy"] = evaluate(self._hw_net, self.x_val, self.y_val)[0]
        self._measure_timing = {
            "mapping": t1 - t0, "validation": t2 - t1, "nonideal": time.perf_counter() - t2
        }
        return m

    def _info(self, m: dict[str, Any]) -> dict[str, Any]:
        tr, cost, a = self.transformation, m["cost_obj"], m["assessment"]
        return {
            "accuracy": m["accuracy"],
            "accuracy_ideal": m["accuracy_ideal"],
            "accuracy_floor": self.floor,
            "baseline_accuracy": self.baseline_accuracy,
            "is_success": self.meets_floor(m["accuracy"]),
            "cost": m["cost"],
            "area_mm2": cost.area_mm2,
            "energy_nj": cost.energy_nj,
            "area_ratio": cost.area_mm2 / self.reference.area_mm2,
            "energy_ratio": cost.energy_nj / self.reference.energy_nj,
            "crossbars": cost.n_crossbars,
            "utilization": cost.utilization,
            "layer_crossbars": [lc.n_crossbars for lc in cost.layers],
            "sparsity": a.sparsity,
            "unclustered": a.unclustered,
            "clusters": [len(c) for c in a.clusters],
            "crossbar_sizes": list(a.crossbar_sizes),
            "loss_fell": self._loss_fell,
            "step": self._steps,
            "epochs_trained": tr.epochs_trained,
            "fidelity": self.config.fidelity,
        }

    def _observation(self, m: dict[str, Any]) -> np.ndarray:
        tr, cost, a = self.transformation, m["cost_obj"], m["assessment"]
        views = []
        sparsity, unclustered, in_clusters = a.sparsity, a.unclustered, a.in_clusters
        for i, mask in enumerate(a.masks):
            kept = max(1, int(np.count_nonzero(mask)))
            n = a.crossbar_sizes[i]
            dense = -(-mask.shape[0] // n) * -(-mask.shape[1] // n)
            views.append(
                LayerView(
                    sparsity=sparsity[i],
                    clustered=in_clusters[i] / kept,
                    unclustered=unclustered[i],
                    crossbars=cost.layers[i].n_crossbars,
                    dense_crossbars=dense,
                    utilization=cost.layers[i].utilization,
                    threshold=tr.thresholds[i],
                    weight_scale=self.weight_scale[i],
                    crossbar_size=n,
                )
            )
        return build_observation(
            views,
            self.config.crossbar_sizes,
            m["accuracy"] - self.floor,
            m["cost"],
            cost.area_mm2 / self.reference.area_mm2,
            cost.energy_nj / self.reference.energy_nj,
            self._steps / self.horizon,
            self._loss_fell,
            self._last_action,
            self.codec.nvec,
        )

    # -- Gymnasium API -----------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode from the dense baseline.

        :param seed: seeds the episode (retraining order, dropout, clustering): None or
            an integer in [0, 2**63).
        :param options: ``{"state": doc}`` restores a state of :meth:`get_state` (the
            seed is then the state's); other options are ignored.
        """
        self._check_open()
        if options and options.get("state") is not None:
            return self.set_state(options["state"])
        if seed is not None:
            seed = check_seed(seed)
        super().reset(seed=seed)
        episode_seed = int(seed) if seed is not None else int(self.np_random.integers(2**31 - 1))
        self.transformation = Transformation(
            self.baseline.net,
            self.task.x_retrain,  # the images retraining visits (train_images)
            self.task.y_retrain,
            [self.reference_size] * self.n_layers,
            self.recipe,
            seed=episode_seed,
            initial_loss=self.task.start_loss,
            gate_data=(self.task.x_gate, self.task.y_gate),
            epoch_share=self.task.epoch_share,
        )
        self.transformation.net.compact = self.config.compact
        self._steps, self._loss_fell, self._last_action, self._done = 0, False, None, False
        self._plan_state = PlanState()
        self._episode_seed, self._actions, self._return = episode_seed, [], 0.0
        # Every episode starts from the same network: measure it once.
        if self.task.start_metrics is None:
            self.task.start_metrics = self._measure()
        self._metrics = self.task.start_metrics
        self._initial_cost = self._metrics["cost"]
        # The start is the fallback delivery. On non-ideal crossbars it may miss the floor
        # (set on the ideal baseline); info's is_success then says so at the end.
        self._delivered = (0, self.transformation.snapshot(), self._metrics)
        info = self._info(self._metrics)
        info["episode_seed"] = episode_seed
        return self._observation(self._metrics), info

    def step(self, action):
        plan = self._begin_step(action)
        return self._end_step(None if plan is None else self._run_plan(plan))

    def _run_plan(self, plan: StepPlan) -> tuple[list[StepReport] | None, float, str | None]:
        """Retrain under ``plan``: the reports, seconds retraining and the error if any."""
        try:
            reports, retrain_s = run_plan(self.transformation, plan, self._plan_state)
        except Exception as exc:  # noqa: BLE001
            # A failed step (NaN loss, a solver failure) ends the episode, never a long
            # training run; the error is reported in info["error"].
            return None, 0.0, f"{type(exc).__name__}: {exc}"
        return reports, retrain_s, None

    def _begin_step(self, action) -> StepPlan | None:
        """Check and apply ``action`` up to its retraining; the plan to run (None: stop).

        The batched environment runs the plans of many episodes together between this
        and :meth:`_end_step`.
        """
        self._check_open()
        if self.transformation is None or self._done:
            raise RuntimeError(
                "step() called on a finished episode: call reset() before stepping again"
            )
        a = self.codec.check(action)
        act = self.codec.decode(a)
        self._actions.append([int(x) for x in a])
        self._step_started = time.perf_counter()
        tr = self.transformation
        self._step_counters = (tr.cluster_seconds, tr.scic_runs, tr.scic_skipped)
        self._last_action = a
        if act.stop:
            return None
        cfg = self.config
        self.transformation.crossbar_sizes = list(act.crossbar_sizes)
        return act.plan(
            self.unit_rates(),
            self.sub_epochs,
            cfg.gate_on_loss,
            cfg.settle_tolerance,
            cfg.cluster_prune_growth,
        )

    def _end_step(self, outcome: tuple[list[StepReport] | None, float, str | None] | None):
        """Measure, reward and end the step begun by :meth:`_begin_step` (``outcome``: what
        its plan's retraining gave, None for a stop); the five values of ``step``."""
        before = self._metrics["cost"]
        error, terminated = None, False
        retrain_s = 0.0
        self._measure_timing = {}
        if outcome is None:
            terminated = True
        else:
            reports, retrain_s, error = outcome
            if error is None:
                self._loss_fell = reports[-1].loss_fell
            else:
                terminated = True
            self._steps += 1
            try:
                self._metrics = self._measure()
            except Exception as exc:  # noqa: BLE001 - keep the last good metrics
                error, terminated = error or f"{type(exc).__name__}: {exc}", True
            else:
                if error is None and self.meets_floor(self._metrics["accuracy"]):
                    self._delivered = (
                        self._steps, self.transformation.snapshot(), self._metrics
                    )
        m = self._metrics
        reward = step_reward(
            before, m["cost"], m["accuracy"], self.floor, self.config.step_penalty_weight
        )
        if m["accuracy"] < self.floor - self.config.collapse_margin:
            terminated = True
        truncated = not terminated and self._steps >= self.horizon
        last = m
        if terminated or truncated:
            self._done = True
            if self.config.select_on_validation:
                m = self._deliver()
                # Rewards telescope to the delivered network's saving.
                reward += last["cost"] - m["cost"]
            else:
                reward += final_adjustment(
                    self._initial_cost,
                    m["cost"],
                    m["accuracy"],
                    self.floor,
                    self.config.penalty_weight,
                    self.config.floor_give_back,
                )
        info = self._info(m)
        if terminated or truncated:
            info["delivered_step"] = self._delivered[0] if self.config.select_on_validation else (
                self._steps
            )
            # True when the last step missed the floor and an earlier network (the start's,
            # at step 0) was handed back: the steps after the delivered one were wasted.
            info["fell_back"] = info["delivered_step"] != self._steps
            info["last_accuracy"], info["last_cost"] = last["accuracy"], last["cost"]
            if self.config.snn_at_end and error is None:
                try:
                    info.update(self._snn_metrics())
                except Exception as exc:  # noqa: BLE001
                    error = f"{type(exc).__name__}: {exc}"
        if error is not None:
            info["error"] = error
        self._return += float(reward)
        # Timings stay out of info: info must be identical for identical seeds and actions.
        tr = self.transformation
        cluster_s, runs, skipped = self._step_counters
        self.last_step_timing = {
            "step": time.perf_counter() - self._step_started,
            "retrain": retrain_s,
            "cluster": tr.cluster_seconds - cluster_s,
            **self._measure_timing,
            "scic_runs": tr.scic_runs - runs,
            "scic_skipped": tr.scic_skipped - skipped,
        }
        return self._observation(m), float(reward), terminated, truncated, info

    def close(self) -> None:
        """Close the environment: ``reset`` and ``step`` refuse to run afterwards."""
        self._closed = True
        super().close()

    def _check_open(self) -> None:
        if getattr(self, "_closed", False):
            raise RuntimeError("the environment is closed: make a new one to run episodes")

    def _deliver(self) -> dict[str, Any]:
        """Restore the latest step that met the floor on validation; its metrics."""
        step, snap, metrics = self._delivered
        if step != self._steps:
            self.transformation.restore(snap)
            self._metrics = metrics
        return self._metrics

    def _snn_metrics(self) -> dict[str, Any]:
        tr, a = self.transformation, self._metrics["assessment"]
        xs, ys = self.x_test, self.y_test
        settings = SNNSettings(timesteps=self.config.snn_timesteps)
        snn = snn_evaluate(tr.net, self.x_train, xs, ys, settings)
        cost = a.cost(self.config.accounting, snn.input_spikes)
        out = {"snn_accuracy_test": snn.accuracy, "snn_energy_nj": cost.energy_nj}
        if self._hardware is not None:
            weights = a.hardware_weights(tr.net, self._hardware, self.config.accounting)
            hw = hardware_net(tr.net, weights)
            out["snn_accuracy_test_hw"] = snn_evaluate(
                hw, self.x_train, xs, ys, settings, record=False
            ).accuracy
        return out

    def render(self):
        if self.render_mode is None or self.transformation is None:
            return None
        from .render import connectivity_rgb, layer_table

        if self.render_mode == "ansi":
            return layer_table(self.transformation, self._info(self._metrics))
        return connectivity_rgb(self.transformation)

    def describe(self) -> str:
        """One line naming the network this environment transforms."""
        return self.task.describe()
