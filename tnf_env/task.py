"""The problem instance an episode transforms, built once and shared read-only.

A :class:`Task` holds everything that does not change between episodes for one
set of environment settings: the splits as tensors on the device, the cached
dense baseline, the technology, the accuracy floor, the dense reference costs,
the horizon and the crossbar sizes. The single environment and the batched
vector environment are thin adapters over a Task plus episode state; code that
only needs the horizon or the crossbar sizes asks a Task, not an environment.

>>> task = Task.build(max_steps=3)
>>> task.horizon, task.crossbar_sizes
(3, (16, 32, 64, 128))
"""

from __future__ import annotations

import copy
import dataclasses
from functools import cached_property
from typing import Any

import numpy as np
import torch

from hwmodel import get_technology
from hwmodel.crossbar_size import check_crossbar_size

from . import fidelity
from .data.datasets import Dataset, load_dataset
from .data.subset import stratified_indices
from .measure.scoring import network_cost
from .model.baseline import Baseline, get_baseline
from .model.layers import LayerSpec
from .model.network import MaskedMLP, default_topology, format_topology, parse_topology
from .model.torch_device import resolve_device
from .model.training import TrainingRecipe, default_recipe, evaluate, to_tensors
from .settings import EnvConfig, settings_marked
from .transform.schedule import PaperSchedule
from .transform.step_plan import sub_epochs

DEFAULT_MAX_STEPS = 10

#: Settings that change only how episodes run, not the problem instance: a Task built
#: with other values of these can still serve them (see :meth:`Task.serves`).
EPISODE_ONLY = settings_marked("local")

#: Settings that define the instance itself (data, baseline, references, start metrics).
INSTANCE_FIELDS = settings_marked("instance")

#: Settings that decide the data tensors.
DATA_FIELDS = settings_marked("data")


class Task:
    """One problem instance: data, dense baseline, technology, floor and references.

    Build it with :meth:`build` (settings as keywords) or from an
    :class:`~tnf_env.settings.EnvConfig`. Everything it holds is read-only for the
    episodes that share it.

    :param config: validated environment settings.
    :param data_from: a task whose data tensors to share when they are the same split
        (same dataset, files, validation size, device and dtype): tasks of several
        baseline seeds then retrain together.
    """

    def __init__(self, config: EnvConfig, data_from: Task | None = None) -> None:
        self.config = cfg = config
        try:
            self.device = resolve_device(cfg.device)
        except ValueError as exc:
            raise ValueError(f"invalid setting device={cfg.device!r}: {exc}") from None
        self.dtype = torch.float64 if cfg.dtype == "float64" else torch.float32
        self.technology = get_technology(cfg.technology)  # holds the sizes: cfg is validated
        # Accuracy on the technology's non-ideal crossbars (the floor is checked on it).
        self.nonideal = (
            cfg.nonideal if cfg.nonideal is not None else self.technology.device is not None
        )
        donor = data_from if data_from is not None and all(
            getattr(data_from.config, f) == getattr(cfg, f) for f in DATA_FIELDS
        ) else None
        self.data: Dataset = (
            donor.data if donor is not None else load_dataset(cfg.dataset, cfg.data_dir)
        )
        self.topology = parse_topology(cfg.topology or default_topology(self.data.name))
        #: the fidelity level's knobs, explicit settings over the level's values
        self.knobs = fidelity.resolve(cfg.fidelity, {k: getattr(cfg, k) for k in fidelity.KNOBS})
        recipe = default_recipe(self.data.name)
        self.baseline: Baseline = get_baseline(
            self.data, self.topology, cfg.seed, recipe, cfg.cache_dir, device=self.device
        )
        #: how episodes retrain: the baseline's recipe at the level's minibatch size
        self.recipe: TrainingRecipe = (
            recipe if self.knobs["retrain_batch"] is None
            else dataclasses.replace(recipe, batch_size=self.knobs["retrain_batch"])
        )
        if self.dtype != torch.float32:
            # A copy: the cached baseline may be shared by other tasks.
            net = copy.deepcopy(self.baseline.net).to(self.dtype)
            self.baseline = dataclasses.replace(self.baseline, net=net)
        #: what each weight layer is (the network's), and how many there are
        self.layer_specs: tuple[LayerSpec, ...] = self.baseline.net.layer_specs
        self.n_layers = len(self.layer_specs)
        # Data lives on the device for the whole life of the task.
        self.x_train: torch.Tensor
        self.y_train: torch.Tensor
        self.x_val: torch.Tensor
        self.y_val: torch.Tensor
        self.x_test: torch.Tensor
        self.y_test: torch.Tensor
        self.x_gate: torch.Tensor
        self.y_gate: torch.Tensor
        self.x_retrain: torch.Tensor
        self.y_retrain: torch.Tensor
        if donor is not None:
            self.x_train, self.y_train = donor.x_train, donor.y_train
            self.x_val, self.y_val = donor.x_val, donor.y_val
            self.x_test, self.y_test = donor.x_test, donor.y_test
            self.x_gate, self.y_gate = donor.x_gate, donor.y_gate
            self.x_retrain, self.y_retrain = donor.x_retrain, donor.y_retrain
        else:
            self.x_train, self.y_train = self._tensors(self.data.x_train, self.data.y_train)
            n_val = self.knobs["val_size"] or len(self.data.y_val)
            self.x_val, self.y_val = self._tensors(
                self.data.x_val[:n_val], self.data.y_val[:n_val]
            )
            self.x_test, self.y_test = self._tensors(self.data.x_test, self.data.y_test)
            # Fixed subsets of the training split, the same for every episode and seed: the
            # images retraining visits and those the loss gate measures (the smaller of the
            # two lies inside the larger: one seeded draw per class, cut at two lengths).
            self.x_retrain, self.y_retrain = self._train_subset(self.knobs["train_images"])
            self.x_gate, self.y_gate = self._train_subset(cfg.gate_images)
        #: share of the retraining images an epoch visits (epoch_fraction)
        share = self.knobs["epoch_fraction"]
        self.epoch_share = 1.0 if share is None else float(share)
        self.baseline_accuracy = evaluate(self.baseline.net, self.x_val, self.y_val)[0]
        # validate() replaced a None tolerance by the dataset's
        assert cfg.accuracy_tolerance is not None
        self.floor = self.baseline_accuracy - cfg.accuracy_tolerance
        # float64 sums: a float32 reduction's order (and result) varies between processors
        self.weight_scale = [float(w.abs().double().mean()) for w in self.dense_weights()]
        self.start_loss = evaluate(self.baseline.net, self.x_gate, self.y_gate)[1]
        self.dense_masks = [np.ones(spec.matrix_shape, bool) for spec in self.layer_specs]
        self.dense_costs = {
            # The release's accounting tiles an all-ones mask exactly as the dense mapping.
            n: network_cost(self.dense_masks, [n] * self.n_layers, self.technology, "paper")
            for n in cfg.crossbar_sizes
        }
        self.reference_size = self._cheapest_dense_size()
        self.reference = self.dense_costs[self.reference_size]
        # Every episode starts from the same network: environments measure it once and
        # store it here (read-only afterwards).
        self.start_metrics: dict[str, Any] | None = None

    def __deepcopy__(self, memo: dict) -> Task:
        # Read-only and shared by design: copies of an environment (fork, gymnasium.make's
        # spec kwargs) keep the one task instead of copying its data and baseline.
        return self

    @classmethod
    def build(cls, **settings: Any) -> Task:
        """The Task of these environment settings (``gymnasium.make`` keywords)."""
        return cls(EnvConfig.from_kwargs(**settings))

    def _train_subset(self, n: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` training images, seeded and class-stratified (None or more: all of them)."""
        if n is None or n >= len(self.data.y_train):
            return self.x_train, self.y_train
        pick = stratified_indices(self.data.y_train, n)
        return self._tensors(self.data.x_train[pick], self.data.y_train[pick])

    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        xt, yt = to_tensors(x, y, self.device)
        return xt.to(self.dtype), yt

    def _cheapest_dense_size(self) -> int:
        costs = self.dense_costs
        min_a = min(c.area_mm2 for c in costs.values())
        min_e = min(c.energy_nj for c in costs.values())
        w = self.config.area_weight
        return min(
            costs,
            key=lambda n: w * costs[n].area_mm2 / min_a + (1 - w) * costs[n].energy_nj / min_e,
        )

    def serves(self, config: EnvConfig) -> None:
        """Check that ``config`` is this task's settings (up to :data:`EPISODE_ONLY`).

        :raises ValueError: naming the settings that differ.
        """
        mine = self.config.model_copy(update={k: None for k in EPISODE_ONLY})
        theirs = config.model_copy(update={k: None for k in EPISODE_ONLY})
        if mine != theirs:
            diff = sorted(
                name for name in EnvConfig.model_fields
                if getattr(mine, name) != getattr(theirs, name)
            )
            raise ValueError(
                f"invalid setting task: it was built with other settings (they differ in {diff})"
            )

    def config_of(self, settings: dict[str, Any]) -> EnvConfig:
        """The validated settings of an environment that serves this task, given as
        keywords (none: the task's own). The task's are validated already: only those
        given that differ are read; those left out are the task's, except
        :data:`EPISODE_ONLY`, which take their defaults as they would without a task.

        :raises ValueError: a bad value, or settings this task cannot serve.
        """
        if not settings:
            return self.config
        local = {k: EnvConfig.model_fields[k].default for k in EPISODE_ONLY}
        config = self.config.with_overrides(**{**local, **settings})
        self.serves(config)
        return config

    def with_settings(self, **overrides: Any) -> Task:
        """This task under other settings: the data, baseline and references are shared
        when ``overrides`` change only how episodes run, rebuilt otherwise. Only the
        overrides are read again (:meth:`EnvConfig.with_overrides`): ``self`` when none
        changes anything."""
        config = self.config.with_overrides(**overrides)
        if config is self.config:
            return self
        if any(getattr(config, f) != getattr(self.config, f) for f in INSTANCE_FIELDS):
            return Task(config, data_from=self)
        task = copy.copy(self)
        task.config = config
        task.__dict__.pop("sub_epochs", None)  # cached from the old settings
        return task

    # -- what consumers ask ------------------------------------------------
    @property
    def horizon(self) -> int:
        """Steps per episode (the ``max_steps`` setting)."""
        return self.config.max_steps or DEFAULT_MAX_STEPS

    @property
    def crossbar_sizes(self) -> tuple[int, ...]:
        """The crossbar sizes an action may pick."""
        return tuple(self.config.crossbar_sizes)

    @cached_property
    def sub_epochs(self) -> tuple[float, ...]:
        """Retraining epochs of each sub-iteration of a step."""
        return sub_epochs(self.config.retrain_epochs)

    def dense_weights(self) -> list[torch.Tensor]:
        """The dense baseline's weights as crossbar matrices (outputs x inputs)."""
        net = self.baseline.net
        pairs = zip(net.layer_specs, net.layers, strict=True)
        return [spec.as_matrix(layer.weight.detach()) for spec, layer in pairs]

    @property
    def dense_net(self) -> MaskedMLP:
        """The dense baseline network (shared: copy before changing it)."""
        return self.baseline.net

    def dense_cost(self, crossbar_size: int):
        """The dense network's cost at ``crossbar_size``.

        :raises ValueError: ``crossbar_size`` is not one of :attr:`crossbar_sizes`.
        """
        return self.dense_costs[check_crossbar_size(crossbar_size, self.crossbar_sizes)]

    def paper_schedule(self, horizon: int | None = None) -> PaperSchedule:
        """The paper's fixed schedule over ``horizon`` steps (default: the episode's), one
        iteration per sub-iteration: 12 steps of 5 epochs give the release's E = 60."""
        subs = self.sub_epochs
        cfg = self.config
        return PaperSchedule(
            epochs=(horizon or self.horizon) * len(subs),
            epochs_per_iteration=subs[0] if len(subs) == 1 else 1.0,
            rate_scale=cfg.rate_scale,
            gate_on_loss=cfg.gate_on_loss,
            settle_tolerance=cfg.settle_tolerance,
            cluster_prune_growth=cfg.cluster_prune_growth,
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

    def describe(self) -> str:
        """One line naming the network this task transforms."""
        return (
            f"{self.data.name} {format_topology(self.topology)} seed {self.config.seed}, "
            f"baseline val accuracy {self.baseline_accuracy:.4f}, floor {self.floor:.4f}"
        )
