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

from hwmodel import get_technology
from hwmodel.accounting import map_accounted
from hwmodel.cost import cost_mappings

from .actions import ActionCodec
from .baseline import get_baseline
from .datasets import load_dataset
from .devices import resolve_device
from .evaluation import SNNSettings, normalized_cost, snn_evaluate
from .hardware import HardwareWeights, hardware_net
from .network import default_topology, format_topology, parse_topology
from .observation import LayerView, build_observation, feature_names, observation_size
from .reward import final_adjustment, step_reward
from .schedule import PaperSchedule
from .scoring import network_cost
from .selection import clears_floor
from .settings import EnvConfig
from .state import STATE_METRICS, EpisodeState, plain  # noqa: F401 (STATE_METRICS re-exported)
from .step_plan import PlanState, run_plan, sub_epochs
from .training import default_recipe, evaluate, to_tensors
from .transform import Transformation
from .validation import check_seed

DEFAULT_MAX_STEPS = 10

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

    def __init__(self, render_mode: str | None = None, **settings: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"invalid setting render_mode={render_mode!r}: allowed None, 'ansi', 'rgb_array'"
            )
        self.render_mode = render_mode
        self.config = cfg = EnvConfig.from_kwargs(**settings)
        self.settings = plain(settings)  # as given: the "env" of get_state()
        if cfg.torch_threads is not None:
            torch.set_num_threads(cfg.torch_threads)
        try:
            self.device = resolve_device(cfg.device)
        except ValueError as exc:
            raise ValueError(f"invalid setting device={cfg.device!r}: {exc}") from None
        self.technology = get_technology(cfg.technology)
        for n in cfg.crossbar_sizes:
            self.technology.check_crossbar_size(n)
        # Accuracy on the technology's non-ideal crossbars (the floor is checked on it).
        self.nonideal = (
            cfg.nonideal if cfg.nonideal is not None else self.technology.device is not None
        )
        self._hardware = (
            HardwareWeights(self.technology.device, seed=cfg.seed) if self.nonideal else None
        )
        self.data = load_dataset(cfg.dataset, cfg.data_dir)
        self.topology = parse_topology(cfg.topology or default_topology(self.data.name))
        self.recipe = default_recipe(self.data.name)
        self.baseline = get_baseline(
            self.data, self.topology, cfg.seed, self.recipe, cfg.cache_dir, device=self.device
        )
        self.n_layers = len(self.topology) - 1
        # Data lives on the device for the whole life of the environment.
        self.x_train, self.y_train = to_tensors(self.data.x_train, self.data.y_train, self.device)
        n_val = cfg.val_size or len(self.data.y_val)
        self.x_val, self.y_val = to_tensors(
            self.data.x_val[:n_val], self.data.y_val[:n_val], self.device
        )
        self.x_test, self.y_test = to_tensors(self.data.x_test, self.data.y_test, self.device)
        self.baseline_accuracy = evaluate(self.baseline.net, self.x_val, self.y_val)[0]
        self.floor = self.baseline_accuracy - cfg.accuracy_tolerance
        # float64 sums: a float32 reduction's order (and result) varies between processors
        self.weight_scale = [float(w.abs().double().mean()) for w in self._dense_weights()]
        self.sub_epochs = sub_epochs(cfg.retrain_epochs)

        self.codec = ActionCodec(
            self.n_layers,
            cfg.crossbar_sizes,
            cfg.per_layer_crossbar,
            cfg.allow_stop,
            cfg.prune_levels,
            len(self.sub_epochs),
        )
        self.action_space = self.codec.space
        n_obs = observation_size(self.n_layers, len(self.codec.nvec))
        self.observation_space = spaces.Box(-1.0, 1.0, shape=(n_obs,), dtype=np.float32)
        self.observation_names = feature_names(self.n_layers, self.codec.names())

        shapes = zip(self.topology[1:], self.topology[:-1], strict=True)
        self._dense_masks = [np.ones(shape, bool) for shape in shapes]
        self._dense_cost = {
            # The release's accounting tiles an all-ones mask exactly as the dense mapping.
            n: network_cost(self._dense_masks, [n] * self.n_layers, self.technology, "paper")
            for n in cfg.crossbar_sizes
        }
        self.reference_size = self._cheapest_dense_size()
        self.reference = self._dense_cost[self.reference_size]
        self.transformation: Transformation | None = None
        self._done = True
        self._start_loss = evaluate(self.baseline.net, self.x_train, self.y_train)[1]
        self._start_metrics: dict[str, Any] | None = None

    # -- helpers -----------------------------------------------------------
    def _dense_weights(self) -> list[torch.Tensor]:
        return [layer.weight.detach() for layer in self.baseline.net.layers]

    def dense_cost(self, crossbar_size: int):
        """The dense network's cost at ``crossbar_size`` (one of the allowed sizes; cached)."""
        return self._dense_cost[crossbar_size]

    def meets_floor(self, accuracy: float) -> bool:
        """Whether a validation ``accuracy`` counts as meeting the floor for selection: it
        clears it by ``selection_margin`` standard errors (:mod:`tnf_env.selection`)."""
        return clears_floor(accuracy, self.floor, len(self.y_val), self.config.selection_margin)

    def _cheapest_dense_size(self) -> int:
        costs = self._dense_cost
        min_a = min(c.area_mm2 for c in costs.values())
        min_e = min(c.energy_nj for c in costs.values())
        w = self.config.area_weight
        return min(
            costs,
            key=lambda n: w * costs[n].area_mm2 / min_a + (1 - w) * costs[n].energy_nj / min_e,
        )

    @property
    def horizon(self) -> int:
        """Steps per episode (the ``max_steps`` setting); the environment truncates there."""
        return self.config.max_steps or DEFAULT_MAX_STEPS

    def paper_schedule(self, horizon: int | None = None) -> PaperSchedule:
        """The paper's fixed schedule over ``horizon`` steps (default: the episode's), one
        iteration per sub-iteration: 12 steps of 5 epochs give the release's E = 60."""
        subs = self.sub_epochs
        return PaperSchedule(
            epochs=(horizon or self.horizon) * len(subs),
            epochs_per_iteration=subs[0] if len(subs) == 1 else 1.0,
            rate_scale=self.config.rate_scale,
            gate_on_loss=self.config.gate_on_loss,
            settle_tolerance=self.config.settle_tolerance,
            cluster_prune_growth=self.config.cluster_prune_growth,
        )

    def unit_rates(self) -> list[float]:
        """Threshold increase per layer of prune level 1.

        ``prune_unit="paper"``: the paper's absolute rates (so its schedule is a policy).
        ``"relative"``: ``relative_rate x mean |W|`` of each dense layer, a unit that means
        the same on networks whose weights differ in scale (policies transfer).
        """
        if self.config.prune_unit == "relative":
            return [self.config.relative_rate * s for s in self.weight_scale]
        return self.paper_schedule().rates(self.n_layers)

    def _measure(self) -> dict[str, Any]:
        tr = self.transformation
        acc = evaluate(tr.net, self.x_val, self.y_val)[0]
        mappings = map_accounted(
            tr.masks(), tr.crossbar_sizes, self.config.accounting, tr.clusters, self.technology
        )
        cost = cost_mappings(mappings, self.technology)
        norm = normalized_cost(
            cost.area_mm2, cost.energy_nj, self.reference, self.config.area_weight
        )
        m = {"accuracy": acc, "accuracy_ideal": acc, "cost_obj": cost, "cost": norm}
        if self._hardware is not None:
            hw = hardware_net(tr.net, self._hardware(tr.net, mappings))
            m["accuracy"] = evaluate(hw, self.x_val, self.y_val)[0]
            m["mappings"] = mappings
        return m

    def _info(self, m: dict[str, Any]) -> dict[str, Any]:
        tr, cost = self.transformation, m["cost_obj"]
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
            "sparsity": tr.sparsity(),
            "unclustered": [tr.unclustered_fraction(i) for i in range(self.n_layers)],
            "clusters": [len(c) for c in tr.clusters],
            "crossbar_sizes": list(tr.crossbar_sizes),
            "loss_fell": self._loss_fell,
            "step": self._steps,
            "epochs_trained": tr.epochs_trained,
        }

    def _observation(self, m: dict[str, Any]) -> np.ndarray:
        tr, cost = self.transformation, m["cost_obj"]
        views = []
        for i in range(self.n_layers):
            mask = tr.mask(i)
            kept = max(1, int(mask.sum()))
            in_clusters = int((mask & tr.cmap(i)).sum())
            n = tr.crossbar_sizes[i]
            dense = -(-mask.shape[0] // n) * -(-mask.shape[1] // n)
            views.append(
                LayerView(
                    sparsity=1 - mask.mean(),
                    clustered=in_clusters / kept,
                    unclustered=tr.unclustered_fraction(i),
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
            self.x_train,
            self.y_train,
            [self.reference_size] * self.n_layers,
            self.recipe,
            seed=episode_seed,
            initial_loss=self._start_loss,
        )
        self.transformation.net.compact = self.config.compact
        self._steps, self._loss_fell, self._last_action, self._done = 0, False, None, False
        self._plan_state = PlanState()
        self._episode_seed, self._actions, self._return = episode_seed, [], 0.0
        # Every episode starts from the same network: measure it once.
        if self._start_metrics is None:
            self._start_metrics = self._measure()
        self._metrics = self._start_metrics
        self._initial_cost = self._metrics["cost"]
        # The start meets the floor (floor = its accuracy - tolerance): deliverable.
        self._delivered = (0, self.transformation.snapshot(), self._metrics)
        info = self._info(self._metrics)
        info["episode_seed"] = episode_seed
        return self._observation(self._metrics), info

    def step(self, action):
        self._check_open()
        if self.transformation is None or self._done:
            raise RuntimeError(
                "step() called on a finished episode: call reset() before stepping again"
            )
        a = self.codec.check(action)
        act = self.codec.decode(a)
        self._actions.append([int(x) for x in a])
        t0 = time.perf_counter()
        before = self._metrics["cost"]
        self._last_action = a
        error, terminated = None, False
        retrain_s = 0.0
        if act.stop:
            terminated = True
        else:
            cfg = self.config
            self.transformation.crossbar_sizes = list(act.crossbar_sizes)
            plan = act.plan(
                self.unit_rates(),
                self.sub_epochs,
                cfg.gate_on_loss,
                cfg.settle_tolerance,
                cfg.cluster_prune_growth,
            )
            try:
                reports, retrain_s = run_plan(self.transformation, plan, self._plan_state)
                self._loss_fell = reports[-1].loss_fell
            except Exception as exc:  # noqa: BLE001
                # A failed step (NaN loss, a solver failure) ends the episode, never a long
                # training run; the error is reported in info["error"].
                error, terminated = f"{type(exc).__name__}: {exc}", True
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
        self.last_step_timing = {"step": time.perf_counter() - t0, "retrain": retrain_s}
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
        tr = self.transformation
        xs, ys = self.x_test, self.y_test
        settings = SNNSettings(timesteps=self.config.snn_timesteps)
        snn = snn_evaluate(tr.net, self.x_train, xs, ys, settings)
        cost = network_cost(
            tr.masks(),
            tr.crossbar_sizes,
            self.technology,
            self.config.accounting,
            tr.clusters,
            snn.input_spikes,
        )
        out = {"snn_accuracy_test": snn.accuracy, "snn_energy_nj": cost.energy_nj}
        if self._hardware is not None:
            hw = hardware_net(tr.net, self._hardware(tr.net, self._metrics["mappings"]))
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
        return (
            f"{self.data.name} {format_topology(self.topology)} seed {self.config.seed}, "
            f"baseline val accuracy {self.baseline_accuracy:.4f}, floor {self.floor:.4f}"
        )
