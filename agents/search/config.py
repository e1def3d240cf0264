"""What one ``search`` explores: :class:`SearchConfig` and its space's items.

Kept apart from the search (:mod:`agents.search.tune`) and free of torch: the command line
builds its flags from these fields before it imports what runs them.
"""

from __future__ import annotations

import math
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from hwmodel.safeload import DocumentError, parse_document
from tnf_env.validation import NUMPY_SEED_LIMIT, Int, Str, seed_range

from ..common.configs import CommandConfig

SearchAlg = Literal["grid", "optuna"]
Scheduler = Literal["fifo", "asha"]
Target = Literal["ppo", "paper", "pruning"]
SEARCH_ALGS, SCHEDULERS, TARGETS = (typing.get_args(t) for t in (SearchAlg, Scheduler, Target))
# Optuna's space when --space gives none: PPO's two most sensitive knobs, or the fixed
# schedule's own constants (the rate multiplier and the paper's clustering rules).
DEFAULT_SPACES = {
    "ppo": ("learning_rate=1e-4:3e-3:log", "ent_coef=1e-4:0.05:log"),
    "paper": (
        "env.rate_scale=2:50:log",
        "env.settle_tolerance=0.01:0.2",
        "env.cluster_prune_growth=0.001:0.05:log",
    ),
    "pruning": ("env.rate_scale=2:50:log",),
}


MAX_SAMPLES = 100_000  # trials of an Optuna search, episodes of a fixed-schedule trial
MAX_FAILURES = 100  # restarts of a dying trial (Tune's -1, restart forever, is refused)
MAX_CPUS = 65_536  # CPUs a local Ray may claim: more than any one machine has


class SearchError(ValueError):
    """A search that cannot run as asked."""


@dataclass(frozen=True)
class Dimension:
    """One searched key: a list of values, or a range (uniform, log-uniform or integer)."""

    key: str  # a TrainConfig field, or env.SETTING
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    kind: str = "uniform"  # uniform, log or int

    @property
    def short(self) -> str:
        return self.key.removeprefix("env.")

    @property
    def choices(self) -> tuple[Any, ...]:
        """The values of a list dimension.

        :raises SearchError: a range.
        """
        if self.values is None:
            raise SearchError(f"--space {self.key}: a range, where a list of values is needed")
        return self.values

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a range dimension.

        :raises SearchError: a list of values.
        """
        if self.low is None or self.high is None:
            raise SearchError(f"--space {self.key}: a list of values, where a range is needed")
        return self.low, self.high


def parse_dimension(item: str) -> Dimension:
    """``KEY=v1,v2,...`` (a list), or ``KEY=LOW:HIGH`` (uniform), ``:log``, ``:int``."""
    key, sep, spec = item.partition("=")
    if not sep or not key or not spec:
        raise SearchError(f"--space takes KEY=v1,v2 or KEY=LOW:HIGH[:log|:int], got {item!r}")
    if ":" in spec:
        parts = spec.split(":")
        kind = parts[2] if len(parts) == 3 else "uniform"
        try:
            low, high = float(parts[0]), float(parts[1])
        except ValueError:
            low = high = math.nan
        if (
            len(parts) not in (2, 3)
            or kind not in ("uniform", "log", "int")
            or not (math.isfinite(low) and math.isfinite(high) and low < high)
            or (kind == "log" and low <= 0)
        ):
            raise SearchError(
                f"--space {item}: a range is LOW:HIGH, LOW:HIGH:log (LOW > 0) or LOW:HIGH:int, "
                "with LOW < HIGH"
            )
        return Dimension(key, low=low, high=high, kind=kind)
    try:
        values = tuple(parse_document(v, f"--space {key}") for v in spec.split(","))
    except DocumentError as exc:
        raise SearchError(str(exc)) from None
    return Dimension(key, values=values)


class SearchConfig(CommandConfig):
    """What one ``search`` explores and where it runs: every field but ``base``, ``out``
    and ``resume`` is a command-line flag (:func:`agents.cli.model_flags.add_config_flags`)
    with its meaning as its help. A bad value raises :class:`SearchError`, one line."""

    error = SearchError

    # a TrainConfig (agents.rl.config imports torch; this module must not: --help)
    base: Any = Field(description="the training configuration every trial starts from")
    out: Path = Field(
        description="search directory: trials/, results.json, results.md, best_schedule.json")
    seeds: tuple[Int, ...] = Field((0,), description="PPO seeds")
    crossbar_sizes: tuple[Int, ...] | None = Field(
        None, description="one trial per chip size (default: the config's)")
    learning_rates: tuple[float, ...] | None = Field(
        None, description="PPO learning rates of the grid (default: the config's)")
    ent_coefs: tuple[float, ...] | None = Field(
        None, description="entropy coefficients of the grid (default: the config's)")
    address: Str | None = Field(
        None, description="Ray cluster, e.g. HEAD_IP:6379 (default: local Ray)")
    num_cpus: Int | None = Field(
        None, description="CPUs of a local Ray instance (default: all)")
    max_failures: Int = Field(3, description="restarts of a dying trial")
    resume: bool = Field(False, description="continue the search in --out")
    search_alg: SearchAlg = Field(
        "grid", description="grid: every point; optuna: --num-samples points by TPE")
    scheduler: Scheduler = Field(
        "fifo", description="asha: stop trials whose reported episode return lags (Tune's "
        "ASHAScheduler)")
    target: Target = Field(
        "ppo", description="what a trial runs: PPO training, or episodes of a fixed schedule "
        "whose constants the space sets (e.g. --space env.rate_scale=2:50:log)")
    space: tuple[Str, ...] = Field(
        (), description="a searched key (a config field or env.SETTING): v1,v2,... (grid or "
        "choice) or LOW:HIGH, LOW:HIGH:log, LOW:HIGH:int (optuna); repeatable")
    num_samples: Int = Field(8, description="trials of an Optuna search")
    episodes: Int = Field(4, description="episodes per fixed-schedule trial")

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        """The searched keys: ``space``, or with Optuna and no space the target's default."""
        items = self.space or (DEFAULT_SPACES[self.target] if self.search_alg == "optuna" else ())
        return tuple(parse_dimension(i) for i in items)

    @field_validator("base")
    @classmethod
    def _base(cls, value: Any) -> Any:
        from ..rl.config import require_train_config

        return require_train_config(value, "base")

    @field_validator("num_samples", "episodes")
    @classmethod
    def _counts(cls, value: int, info: ValidationInfo) -> int:
        if not 1 <= value <= MAX_SAMPLES:
            flag = "--" + str(info.field_name).replace("_", "-")
            raise ValueError(f"{flag} must be an integer in [1, {MAX_SAMPLES}], got {value}")
        return value

    @field_validator("max_failures")
    @classmethod
    def _max_failures(cls, value: int) -> int:
        if not 0 <= value <= MAX_FAILURES:
            raise ValueError(
                f"--max-failures must be an integer in [0, {MAX_FAILURES}], got {value}")
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, seeds: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"--seeds must be distinct, got {list(seeds)}")
        bad = [s for s in seeds if not 0 <= s < NUMPY_SEED_LIMIT]
        if bad:  # a PPO seed goes to numpy's global generator
            raise ValueError(
                f"--seeds must be integers in {seed_range(NUMPY_SEED_LIMIT)}, got {bad[0]}")
        return seeds

    @model_validator(mode="after")
    def _together(self) -> SearchConfig:
        """The CPUs a trial needs, and the space: a bad key or value fails now, not in a
        trial."""
        if self.num_cpus is not None and self.address is None:
            if not 1 <= self.num_cpus <= MAX_CPUS:
                raise ValueError(
                    f"--num-cpus must be an integer in [1, {MAX_CPUS}], got {self.num_cpus}")
            if self.base.n_envs > self.num_cpus:  # Ray would wait forever for the CPUs
                raise ValueError(
                    f"a trial needs one CPU per environment worker: --n-envs "
                    f"{self.base.n_envs} exceeds --num-cpus {self.num_cpus} (allowed: at most "
                    f"{self.num_cpus})"
                )
        elif self.address is None and self.base.n_envs > (os.cpu_count() or 1):
            raise ValueError(
                f"a trial needs one CPU per environment worker: --n-envs {self.base.n_envs} "
                f"exceeds this machine's {os.cpu_count()} CPUs (allowed: at most "
                f"{os.cpu_count()}, or --address of a larger cluster)"
            )
        dimensions = self.dimensions
        keys = [d.key for d in dimensions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"--space names a key twice: {keys}")
        if self.search_alg == "grid":
            ranges = [d.key for d in dimensions if d.values is None]
            if ranges:
                raise ValueError(
                    f"--search-alg grid needs lists of values (KEY=v1,v2), not ranges: {ranges}"
                )
        elif self.resume:
            raise ValueError("--resume continues grid searches only: start a new Optuna search")
        from .tune import apply_params

        for d in dimensions:
            sample = d.values[0] if d.values is not None else _range_sample(d)
            apply_params(self.base, {d.key: sample})
        # every grid value is a trial's configuration: each is checked as one, now
        for flag, key, values in (
            ("--crossbar-sizes", "env.crossbar_sizes", self.crossbar_sizes),
            ("--learning-rates", "learning_rate", self.learning_rates),
            ("--ent-coefs", "ent_coef", self.ent_coefs),
        ):
            for value in values or ():
                try:
                    apply_params(self.base, {key: [value] if key.startswith("env.") else value})
                except SearchError as exc:
                    raise ValueError(
                        f"{flag} {value!r}: {str(exc).removeprefix('search space: ')}") from None
        return self


def _range_sample(d: Dimension) -> Any:
    low, _ = d.bounds
    return int(low) if d.kind == "int" else float(low)


