"""The settings of the ``reproduce``, ``benchmark`` and ``compare`` studies, and the tuning
constants they default to.

Kept apart from the studies and free of torch: the command line builds its flags from
these fields (:func:`agents.cli.model_flags.add_config_flags`) before it imports what
runs them, so ``--help`` answers at once.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from tnf_env.settings import (
    DEFAULT_DATASET,
    DEFAULT_SELECTION_MARGIN,
    DEFAULT_TECHNOLOGY,
    MAX_SIZES,
    MAX_SNN_TIMESTEPS,
    MAX_WIDTH,
    SNN_TIMESTEPS,
)
from tnf_env.validation import MAX_ENVS, Int, Str, short_repr

from ..common.configs import CommandConfig

__all__ = ["RATE_GRID", "RELEASE_PRUNING_RATE", "WARM_STARTS", "BenchmarkConfig",
           "CompareConfig", "CompareError", "ReproduceConfig"]

RATE_GRID = (0.5, 1.0, 2.0)  # multiples of the environment's rate_scale tried when tuning
RELEASE_PRUNING_RATE = 0.7  # the release's pruning-only run: this x the rate scale
WARM_STARTS = ("none", "paper", "pruning")  # compare's schedules (or a policy:DIR)
MAX_SCALE = 10**6  # a rate multiplier beyond this prunes every weight at the first step


def check_scale(value: float, info: ValidationInfo) -> float:
    """A multiplier of the paper's threshold rates: a finite number > 0 (0 would prune
    nothing, a NaN compare false everywhere).

    :param value: the value given.
    :param info: the field's (its flag is named).
    :raises ValueError: one line naming the flag, the value and what is allowed.
    """
    if not (math.isfinite(value) and 0 < value <= MAX_SCALE):
        flag = "--" + str(info.field_name).replace("_", "-")
        raise ValueError(f"{flag} must be a finite number in (0, {MAX_SCALE}], got {value!r}")
    return value


class CompareError(ValueError):
    """A comparison that cannot run as asked."""


class ReproduceConfig(CommandConfig):
    """Settings of one ``reproduce`` run: each field is a command-line flag
    (:func:`agents.cli.model_flags.add_config_flags`) with its meaning as its help."""

    # {datasets}, {presets}, {tolerances}: read from their registries when flags are made
    dataset: str = Field(DEFAULT_DATASET, description="one of {datasets}")
    data_dir: str | None = Field(None, description="directory holding the dataset files")
    topology: str | None = Field(
        None, description="layer widths, e.g. 784-1200-1200-10 (None: the dataset's default)")
    crossbar_sizes: tuple[int, ...] = Field((16, 32, 64, 128),
                                            description="crossbar sizes N to evaluate")
    technology: str = Field(DEFAULT_TECHNOLOGY,
                            description="a preset ({presets}) or a YAML/JSON file")
    seeds: tuple[int, ...] = Field(
        (0,), description="one or more seeds, each the dense baseline's and its "
        "transformations' (mean and spread are reported)")
    epochs: int = Field(60, description="retraining epochs per transformation (the release's E)")
    steps: int = Field(
        12, description="environment steps the epochs are split into (selection granularity)")
    pruning_epochs: int | None = Field(
        None, description="release pruning epochs (None: 2/3 --epochs, the release's 40 of 60)")
    rate_scale: float = Field(
        10.0, description="multiplies the paper's threshold rates (10: tuned on mnist-10k "
        "validation; the release's constants are 1)")
    rate_grid: tuple[float, ...] = Field(
        RATE_GRID, description="multiples of --rate-scale the tuned pruning and paper rows try "
        "(validation)")
    pruning_rate_scale: float = Field(
        RELEASE_PRUNING_RATE, description="the release's pruning-only rate factor")
    tolerance: float | None = Field(
        None, description="accuracy floor tolerance (None: the dataset's: {tolerances})")
    selection_margin: float = Field(
        DEFAULT_SELECTION_MARGIN, description="a step meets the floor for selection when its "
        "validation accuracy minus K standard errors clears it (0: the plain floor)")
    snn_timesteps: int = Field(
        SNN_TIMESTEPS, description="SNN simulation length T in 1 ms steps, for test accuracy "
        "and measured energy")
    cache_dir: str | None = Field(None, description="baseline cache directory")
    device: str = Field(
        "cpu", description="torch device of retraining and evaluation: cpu, cuda[:k], mps or auto")
    save_networks: str | None = Field(
        None, description="save every delivered network (weights, masks, clusters; .npz + "
        "JSON) in DIR")
    methods: tuple[str, ...] | None = Field(None, description="rows' methods (None: METHODS)")
    batch: int = Field(
        1, description="episodes of a seed run at once, retrained as one batch (1: in turn)")
    env: dict = Field(default_factory=dict,
                      description="env settings over the ones above (--set env.X=)")

    @field_validator("rate_scale", "pruning_rate_scale")
    @classmethod
    def _scale(cls, value: float, info: ValidationInfo) -> float:
        return check_scale(value, info)

    def env_settings(self) -> dict:
        """The environment every method of the run steps."""
        if self.epochs % self.steps:
            raise ValueError(f"epochs ({self.epochs}) must be a multiple of steps ({self.steps})")
        return {
            "dataset": self.dataset,
            "data_dir": self.data_dir,
            "topology": self.topology,
            "crossbar_sizes": tuple(self.crossbar_sizes),
            "technology": self.technology,
            "accuracy_tolerance": self.tolerance,
            "selection_margin": self.selection_margin,
            "retrain_epochs": self.epochs // self.steps,
            "max_steps": self.steps,
            "rate_scale": self.rate_scale,
            "prune_unit": "paper",
            "allow_stop": False,
            "cache_dir": self.cache_dir,
            "device": self.device,
            **self.env,
        }

    def identity(self) -> dict:
        """What a resumed run must share with the one it continues."""
        # no env overrides: the identity runs journalled before --set had
        # how episodes are grouped is not what they compute: a resume may change it
        skip = {"save_networks", "batch"} | ({"env"} if not self.env else set())
        return {k: v for k, v in self if k not in skip}


class BenchmarkConfig(CommandConfig):
    """Settings of one ``benchmark`` run: the fields but ``env``, ``run_dir`` and ``extra``
    are command-line flags (:func:`agents.cli.model_flags.add_config_flags`)."""

    env: dict[str, Any] = Field(description="environment settings (from a training config)")
    seeds: tuple[int, ...] = Field(
        (0, 1, 2), description="baseline seeds, each also seeding its transformations")
    crossbar_sizes: tuple[int, ...] | None = Field(
        None, description="sizes to compare at (default: the environment's)")
    budget: float | None = Field(
        None, description="retraining epochs per transformation (default: the environment's)")
    random_candidates: int = Field(
        4, description="random schedules sharing one episode's retraining")
    rate_grid: tuple[float, ...] = Field(
        RATE_GRID, description="multiples of the env's rate_scale the tuned pruning and paper "
        "rows try")
    pruning_rate_scale: float = Field(
        RELEASE_PRUNING_RATE, description="the release's pruning-only rate factor (its run "
        "has 2/3 of the epochs)")
    snn_timesteps: int = Field(
        SNN_TIMESTEPS, description="SNN simulation length T in 1 ms steps, for test accuracy "
        "and measured energy")
    run_dir: str | None = Field(None, description="trained PPO run to evaluate (None: no ppo rows)")
    methods: tuple[str, ...] | None = Field(
        None, description="rows' methods (None: METHODS; ppo with run_dir)")
    batch: int = Field(
        1, description="episodes of a seed run at once, retrained as one batch (1: in turn)")
    extra: dict[str, Any] = Field(default_factory=dict, description="recorded in results.json")

    @field_validator("pruning_rate_scale")
    @classmethod
    def _scale(cls, value: float, info: ValidationInfo) -> float:
        return check_scale(value, info)

    @field_validator("crossbar_sizes")
    @classmethod
    def _sizes(cls, sizes: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if sizes is not None and (not sizes or len(sizes) > MAX_SIZES
                                  or any(not 2 <= n <= MAX_WIDTH for n in sizes)
                                  or len(set(sizes)) != len(sizes)):
            raise ValueError(
                f"--crossbar-sizes must be at most {MAX_SIZES} distinct integers in [2, "
                f"{MAX_WIDTH}] (the environment's sizes), got {short_repr(list(sizes))}")
        return sizes

    def identity(self) -> dict[str, Any]:
        """What a resumed benchmark must share with the one it continues."""
        # how episodes are grouped is not what they compute: a resume may change it
        return {k: v for k, v in self if k not in ("extra", "batch")}


class CompareConfig(CommandConfig):
    """Settings of one ``compare`` run: every field but ``train``, ``out``, ``cold`` and
    ``extra`` is a command-line flag (:func:`agents.cli.model_flags.add_config_flags`)
    with its meaning as its help. A bad value raises :class:`CompareError`, one line."""

    error = CompareError

    # a TrainConfig (agents.rl.config imports torch; this module must not: --help)
    train: Any = Field(
        description="the learner's configuration; its env settings are the environment's")
    out: Path = Field(
        description="results.json, results.md, learning_curves.png, LEARNER/ (ppo/), search/")
    train_seeds: tuple[Int, ...] = Field(
        (0, 1), description="baseline seeds PPO and the searches train on")
    eval_seeds: tuple[Int, ...] = Field(
        (2, 3, 4), description="held-out baseline seeds every method is scored on")
    warm_start: Str = Field(
        "none", description="also train PPO warm-started from this schedule, or from a "
        "trained policy (policy:policies/digits)")
    search_budget: float | None = Field(
        None, description="each search's budget, in --search-budget-unit (default: cold PPO's)")
    search_budget_unit: Literal["epochs", "cpu"] = Field(
        "epochs", description="what the searches' budget counts: retraining epochs, or "
        "CPU-seconds (equal compute where an epoch's cost differs, as at a fidelity level)")
    rate_grid: tuple[float, ...] = Field(
        RATE_GRID, description="multiples of the config's rate_scale the tuned fixed "
        "schedules try")
    snn_timesteps: Int = Field(
        SNN_TIMESTEPS, description="SNN simulation length T in 1 ms steps, of the scoring path")
    search_seed: Int = Field(0, description="seed of the searches' samplers")
    reps: Int = Field(2000, description="bootstrap resamples")
    batch: Int = Field(
        1, description="run up to B episodes at once, their networks retrained as one "
        "batched computation: the searches draw B trials together, and a held-out seed's "
        "scoring episodes run B at a time (default 1: one after the other)")
    cold: bool = Field(
        True, description="train PPO cold (False: only the warm-started run, which then "
        "sets the searches' budget)")
    methods: tuple[Str, ...] = Field(
        (), description="extra rows: registered baselines (tiles) and trained policies run "
        "zero-shot (policy:policies/digits); default none")
    fixed_sizes: tuple[Int, ...] | None = Field(
        None, description="crossbar sizes the tuned fixed schedules try (default: the "
        "config's)")
    workers: Int = Field(
        1, description="processes of one thread each: the two searches side by side, the "
        "held-out seeds as jobs of one seed and method group")
    extra: dict[str, Any] = Field(default_factory=dict, description="recorded in results.json")

    def identity(self) -> dict[str, Any]:
        """What a resumed comparison must share with the one it continues (``compare.json``)."""
        d = {k: v for k, v in self if k not in ("out", "extra", "reps", "batch", "workers")}
        d["train"] = self.train.to_dict()
        # as comparisons recorded before these fields existed
        for name, default in (("search_budget_unit", "epochs"), ("cold", True),
                              ("methods", ()), ("fixed_sizes", None)):
            if d[name] == default:
                del d[name]
        return json.loads(json.dumps(d))

    @field_validator("train")
    @classmethod
    def _train(cls, value: Any) -> Any:
        from ..rl.config import require_train_config

        return require_train_config(value, "train")

    @field_validator("train_seeds", "eval_seeds")
    @classmethod
    def _seeds(cls, seeds: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        if not seeds or len(set(seeds)) != len(seeds) or any(s < 0 for s in seeds):
            raise ValueError(f"{info.field_name} must be distinct integers >= 0, got {seeds!r}")
        return seeds

    @field_validator("warm_start")
    @classmethod
    def _warm_start(cls, value: str) -> str:
        from ..rl.config import check_policy_spec, is_warm_start

        if not is_warm_start(value):
            raise ValueError(f"warm_start must be one of {WARM_STARTS} or 'policy:DIR' (a "
                             f"trained policy's directory), got {value!r}")
        check_policy_spec(value, "warm_start")
        return value

    @field_validator("batch")
    @classmethod
    def _batch(cls, value: int) -> int:
        if not 1 <= value <= MAX_ENVS:
            raise ValueError(f"batch must be an integer in [1, {MAX_ENVS}], got {value!r}")
        return value

    @field_validator("rate_grid")
    @classmethod
    def _rate_grid(cls, grid: tuple[float, ...]) -> tuple[float, ...]:
        if not grid or any(not g > 0 for g in grid):
            raise ValueError(f"rate_grid must be numbers > 0, got {grid!r}")
        return grid

    @field_validator("snn_timesteps", "reps")
    @classmethod
    def _counts(cls, value: int, info: ValidationInfo) -> int:
        low, high = (100, 10**6) if info.field_name == "reps" else (1, MAX_SNN_TIMESTEPS)
        if not low <= value <= high:
            raise ValueError(
                f"{info.field_name} must be an integer in [{low}, {high}], got {value!r}")
        return value

    @field_validator("workers")
    @classmethod
    def _workers(cls, value: int) -> int:
        if not 1 <= value <= 64:
            raise ValueError(f"workers must be an integer in [1, 64], got {value!r}")
        return value

    @field_validator("methods")
    @classmethod
    def _methods(cls, methods: tuple[str, ...]) -> tuple[str, ...]:
        from . import methods as em

        for m in methods:
            if not (m.startswith("policy:") and len(m) > 7) and m not in em.REGISTRY:
                raise ValueError(
                    f"unknown extra method {m!r}: allowed 'policy:DIR' (a trained policy, "
                    f"zero-shot) or a registered baseline: {', '.join(sorted(em.REGISTRY))}")
        if len(set(methods)) != len(methods):
            raise ValueError(f"methods must be distinct, got {methods!r}")
        if any(m.startswith("policy:") for m in methods):
            from ..rl.config import check_policy_spec

            for m in methods:
                check_policy_spec(m, "methods")
        return methods

    @field_validator("fixed_sizes")
    @classmethod
    def _fixed_sizes(cls, sizes: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if sizes is not None and (not sizes or any(n < 1 for n in sizes)
                                  or len(set(sizes)) != len(sizes)):
            raise ValueError(f"fixed_sizes must be distinct integers >= 1, got {sizes!r}")
        return sizes

    @model_validator(mode="after")
    def _together(self) -> CompareConfig:
        """The rules between fields."""
        if set(self.train_seeds) & set(self.eval_seeds):
            raise ValueError(
                f"held-out seeds {self.eval_seeds} overlap the training seeds {self.train_seeds}"
            )
        if self.train.n_envs % len(self.train_seeds):
            raise ValueError(
                f"PPO trains worker k on seed train_seeds[k % {len(self.train_seeds)}]: n_envs "
                f"({self.train.n_envs}) must be a multiple of the {len(self.train_seeds)} "
                "training seeds"
            )
        if self.search_budget is not None and not self.search_budget > 0:
            raise ValueError(f"search_budget must be > 0 {self.search_budget_unit}, got "
                             f"{self.search_budget!r}")
        if not self.cold and self.warm_start == "none":
            raise ValueError("cold=False trains no PPO at all without a warm_start: give "
                             "a warm_start (a schedule or policy:DIR) or keep cold")
        return self
