"""The settings of the ``reproduce`` and ``benchmark`` studies, and the tuning constants
they default to.

Kept apart from the studies and free of torch: the command line builds its flags from
these fields (:func:`agents.cli.model_flags.add_config_flags`) before it imports what
runs them, so ``--help`` answers at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from hwmodel.technology import DEFAULT_TECHNOLOGY
from tnf_env.data.datasets import DEFAULT_DATASET
from tnf_env.measure.selection import DEFAULT_SELECTION_MARGIN
from tnf_env.model import SNN_TIMESTEPS

__all__ = ["RATE_GRID", "RELEASE_PRUNING_RATE", "BenchmarkConfig", "ReproduceConfig"]

RATE_GRID = (0.5, 1.0, 2.0)  # multiples of the environment's rate_scale tried when tuning
RELEASE_PRUNING_RATE = 0.7  # the release's pruning-only run: this x the rate scale


@pydantic_dataclass
class ReproduceConfig:
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
        return {k: v for k, v in vars(self).items() if k not in skip}


@pydantic_dataclass
class BenchmarkConfig:
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

    def identity(self) -> dict[str, Any]:
        """What a resumed benchmark must share with the one it continues."""
        # how episodes are grouped is not what they compute: a resume may change it
        return {k: v for k, v in vars(self).items() if k not in ("extra", "batch")}
