"""Settings of the TraNNsformer environment: every ``gymnasium.make`` keyword.

Each field has a default and a one-line explanation; :meth:`EnvConfig.validate`
names the offending setting and the allowed values.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from hwmodel.accounting import ACCOUNTINGS

from .actions import PRUNE_LEVELS
from .datasets import DATASETS, default_tolerance


@dataclass
class EnvConfig:
    """Settings of ``tnf_env/TraNNsformer-v0`` (all are ``gymnasium.make`` keywords)."""

    dataset: str = "digits"  # dataset name, see tnf_env.DATASETS; digits needs no files
    data_dir: str | None = None  # directory holding the dataset's files (None: default lookup)
    topology: str | None = None  # layer widths "784-1200-1200-10" (None: dataset's default)
    seed: int = 0  # seed of the dense baseline network the episodes transform
    crossbar_sizes: tuple[int, ...] = (16, 32, 64, 128)  # crossbar sizes N the agent may pick
    per_layer_crossbar: bool = False  # one crossbar size per layer instead of one per chip
    allow_stop: bool = True  # the action has a stop component that ends the episode early
    technology: str = "resparc"  # hwmodel preset name or path of a YAML/JSON technology file
    area_weight: float = 0.5  # cost = w * area/area_orig + (1 - w) * energy/energy_orig
    accuracy_tolerance: float | None = None  # floor = baseline val. accuracy - this (None: the
    # dataset's, about two standard errors of its validation accuracy; 0.005 on mnist)
    retrain_epochs: float = 1.0  # retraining per step, in epochs (fractions allowed)
    val_size: int | None = None  # validation images used per step (None: the whole split)
    max_steps: int | None = None  # steps per episode (None: 10); see tnf_env.make
    device: str = "cpu"  # torch device for retraining (only "cpu" is implemented)
    prune_levels: tuple[float, ...] = PRUNE_LEVELS  # prune levels an action chooses from
    prune_unit: str = "paper"  # prune level 1 = the paper's rate, or "relative" to mean |W|
    relative_rate: float = 0.2  # with prune_unit="relative": level 1 = this x mean |W| per step
    rate_scale: float = 10.0  # multiplies the paper's threshold rates (10: tuned on mnist-10k val)
    gate_on_loss: bool = True  # thresholds rise only in steps whose training loss fell
    accounting: str = "best"  # crossbar accounting of the cost: "best" or "paper" (scoring.py)
    select_on_validation: bool = True  # deliver the latest step meeting the floor (validation)
    settle_tolerance: float = 0.05  # recluster once the unclustered share moves less per epoch
    cluster_prune_growth: float = 0.01  # f grows by this per improving epoch of cluster pruning
    penalty_weight: float = 10.0  # end-of-episode penalty per unit of accuracy below the floor
    floor_give_back: bool = True  # ending below the floor also gives the savings back (reward.py)
    step_penalty_weight: float = 0.0  # optional per-step penalty per unit below the floor
    collapse_margin: float = 0.2  # terminate when accuracy falls this far below the floor
    snn_at_end: bool = False  # at episode end, simulate the SNN and cost with its spikes
    snn_timesteps: int = 35  # SNN simulation length when snn_at_end
    cache_dir: str | None = None  # baseline cache directory (None: ~/.cache/tnf_env)
    torch_threads: int | None = None  # torch threads in this process (None: leave as is)

    def validate(self) -> EnvConfig:
        def bad(name: str, allowed: str) -> ValueError:
            return ValueError(f"invalid setting {name}={getattr(self, name)!r}: allowed {allowed}")

        canonical = self.dataset.lower().replace("_", "-")
        if canonical not in DATASETS:
            raise bad("dataset", f"one of {', '.join(DATASETS)}")
        self.dataset = canonical
        sizes = tuple(int(n) for n in self.crossbar_sizes)
        if not sizes or any(n < 2 for n in sizes) or len(set(sizes)) != len(sizes):
            raise bad("crossbar_sizes", "a non-empty tuple of distinct integers >= 2")
        self.crossbar_sizes = sizes
        if not 0 <= self.area_weight <= 1:
            raise bad("area_weight", "a number in [0, 1]")
        if self.accuracy_tolerance is None:
            self.accuracy_tolerance = default_tolerance(canonical)
        if not 0 <= self.accuracy_tolerance < 1:
            raise bad("accuracy_tolerance", "None or a number in [0, 1)")
        if not self.retrain_epochs > 0:
            raise bad("retrain_epochs", "a number > 0")
        if self.val_size is not None and self.val_size < 1:
            raise bad("val_size", "None or an integer >= 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise bad("max_steps", "None or an integer >= 1")
        if self.device != "cpu" and not self.device.startswith("cuda"):
            raise bad("device", "'cpu' or 'cuda[:k]'")
        levels = tuple(float(x) for x in self.prune_levels)
        if not levels or any(x < 0 for x in levels) or len(set(levels)) != len(levels):
            raise bad("prune_levels", "a non-empty tuple of distinct numbers >= 0")
        self.prune_levels = levels
        if self.prune_unit not in ("paper", "relative"):
            raise bad("prune_unit", "'paper' or 'relative'")
        if not self.relative_rate > 0:
            raise bad("relative_rate", "a number > 0")
        if not self.rate_scale >= 0:
            raise bad("rate_scale", "a number >= 0")
        if self.accounting not in ACCOUNTINGS:
            raise bad("accounting", f"one of {', '.join(ACCOUNTINGS)}")
        if not 0 <= self.settle_tolerance <= 1:
            raise bad("settle_tolerance", "a number in [0, 1]")
        if not 0 <= self.cluster_prune_growth <= 1:
            raise bad("cluster_prune_growth", "a number in [0, 1]")
        if self.penalty_weight < 0:
            raise bad("penalty_weight", "a number >= 0")
        if self.step_penalty_weight < 0:
            raise bad("step_penalty_weight", "a number >= 0")
        if not self.collapse_margin > 0:
            raise bad("collapse_margin", "a number > 0")
        if self.snn_timesteps < 1:
            raise bad("snn_timesteps", "an integer >= 1")
        if self.torch_threads is not None and self.torch_threads < 1:
            raise bad("torch_threads", "None or an integer >= 1")
        if self.data_dir is not None and not Path(os.fspath(self.data_dir)).is_dir():
            raise bad("data_dir", "an existing directory")
        return self

    @classmethod
    def from_kwargs(cls, **kwargs) -> EnvConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}: allowed {sorted(known)}")
        return cls(**kwargs).validate()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["crossbar_sizes"] = list(self.crossbar_sizes)
        d["prune_levels"] = list(self.prune_levels)
        return d
