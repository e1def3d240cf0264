"""Training configuration: a pydantic model, one described field per key, read from YAML.

``configs/NAME.yaml`` holds any subset of the fields; command-line flags
override it. Unknown keys and bad values are errors that name the key. The named
configurations ship inside the package (``agents/configs/``, package data read
with :mod:`importlib.resources`), so an installed wheel finds them as the
repository does.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hwmodel.safeload import DocumentError, parse_document, regular_file
from tnf_env.actions import ACTION_GROUPS
from tnf_env.data.datasets import DEFAULT_DATASET
from tnf_env.settings import EnvConfig
from tnf_env.validation import (
    MAX_ENVS,
    NUMPY_SEED_LIMIT,
    SEED_LIMIT,
    Int,
    Number,
    Str,
    seed_range,
)

from ..common.configs import CommandConfig, first_error, kept
from ..common.overrides import OverrideError, apply_overrides
from .learners import DEFAULT_LEARNER, get_learner, learner_names

CONFIDENCE_KEYS = (*ACTION_GROUPS, "default")
CONFIG_DIR = files("agents") / "configs"  # the named configurations
# A run name becomes one directory under runs/: a single component that cannot climb out.
SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


MAX_WIDTH = 65_536  # a policy layer wider than this does not fit any sensible memory
MAX_LIST = 1024
# Integer keys: at least 1, at most this (larger values pass and then spin for days or fail
# deep inside numpy or torch).
INT_LIMITS = {
    "timesteps": 10**9,
    "n_envs": MAX_ENVS,
    "n_steps": 10**6,
    "batch_size": 10**6,
    "n_epochs": 10_000,
    "checkpoint_every": 10**9,
    "eval_every": 10**9,
    "eval_episodes": 10_000,
    "compare_episodes": 10_000,
    "warm_start_episodes": 10_000,
}


# Number keys: (low, high, whether low itself is refused).
NUMBER_RANGES = {
    "learning_rate": (0, 1, True),
    "gamma": (0, 1, False),
    "gae_lambda": (0, 1, False),
    "ent_coef": (0, 1, False),
    "clip_range": (0, 1, True),
}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ConfigError(ValueError):
    """A configuration file or value that cannot be used."""


# What each key allows, for the errors of values of the wrong type (strict: no "1" for 1,
# no 2.5 for an integer, no "false" for a boolean, no NaN or infinity).
ALLOWED = {
    "name": "a single path component of letters, digits, '.', '_' or '-'",
    "env": "a mapping of environment settings",
    "learner": f"one of {', '.join(learner_names())} (the modules of agents/rl/learners)",
    # SB3 seeds numpy's global generator
    "seed": f"an integer in {seed_range(NUMPY_SEED_LIMIT)}",
    "device": "'cpu', 'cuda' or 'auto'",
    "learning_rate": "a number in (0, 1]",
    "gamma": "a number in [0, 1]",
    "gae_lambda": "a number in [0, 1]",
    "ent_coef": "a number in [0, 1]",
    "clip_range": "a number in (0, 1]",
    "net_arch": f"a list of 1 to 16 integer widths in [1, {MAX_WIDTH}]",
    "warm_start": "'none', 'paper', 'pruning' or 'policy:DIR' (a run or shipped policy)",
    "baseline_seeds": f"None or a non-empty list of distinct integers in {seed_range()}",
    "warm_start_confidence": "a number in (0, 1) or a mapping from action groups "
    f"{list(CONFIDENCE_KEYS)} to such numbers",
}


def is_warm_start(value: str) -> bool:
    """A warm start a run can use: a fixed schedule's name, or ``policy:DIR`` where DIR holds
    a trained policy (its ``config.yaml`` and ``best_model.zip``)."""
    if value in ("none", "paper", "pruning"):
        return True
    if not value.startswith("policy:"):
        return False
    d = Path(value.removeprefix("policy:"))
    return (d / "config.yaml").is_file() and (d / "best_model.zip").is_file()


def require_train_config(value: Any, key: str) -> Any:
    """``value`` when it is a :class:`TrainConfig` (a field of another command's config
    that holds one), else a one-line refusal naming ``key``."""
    if not isinstance(value, TrainConfig):
        raise ValueError(f"{key} must be a TrainConfig, got {type(value).__name__}")
    return value


def check_policy_spec(value: str, key: str) -> None:
    """Refuse ``policy:DIR`` unless every file of DIR's policy is usable, before any work
    (:func:`.policy_dir.check_policy_spec`; imported here, as it reads run directories).

    :param value: the warm start or method.
    :param key: the key or flag to name in the error.
    """
    from .policy_dir import check_policy_spec as check

    check(value, key)


class TrainConfig(CommandConfig):
    """Everything a ``train`` run depends on; saved as ``config.yaml`` in the run directory.

    A :class:`~agents.common.configs.CommandConfig`: each field holds its default and its
    one-line meaning (:meth:`describe`) and is checked by its validator when the
    configuration is built or copied with changes (``model_copy(update=...)``). A bad
    value raises :class:`ConfigError`, one line.
    """

    error = ConfigError
    # env validated: (the settings it was read from, their EnvConfig)
    _env_config: tuple[dict[str, Any], EnvConfig] | None = PrivateAttr(None)

    name: Str = Field(
        "digits", description="run name prefix (letters, digits, ._-): runs are named NAME-sSEED")
    env: dict[Str, Any] = Field(
        default_factory=lambda: {"dataset": DEFAULT_DATASET},
        description="environment settings as given (the typed, validated form: env_config)")
    learner: Str = Field(
        DEFAULT_LEARNER, description="the SB3 algorithm that learns: the name of "
        "a module of agents/rl/learners")
    timesteps: Int = Field(12_000, description="total environment steps of training")
    n_envs: Int = Field(
        2, description="parallel environment workers (subprocesses when > 1)")
    vectorization: Str = Field(
        "subprocess", description='"subprocess": one process per worker; "batched": n_envs '
        "episodes in this process, their networks retrained as one batched computation "
        "(the way to use a GPU)")
    seed: Int = Field(
        0, description="seed of the learner, the environments' episodes and the evaluation")
    device: Str = Field("cpu", description="torch device of the learner's networks")
    n_steps: Int = Field(
        40, description="rollout steps per worker between updates (4 episodes of 10 steps)")
    batch_size: Int = Field(40, description="PPO minibatch size (other learners ignore it)")
    n_epochs: Int = Field(
        10, description="PPO passes over each rollout (other learners ignore it)")
    learning_rate: Number = Field(3e-4, description="Adam learning rate")
    gamma: Number = Field(0.99, description="discount; episodes are short, so close to 1")
    gae_lambda: Number = Field(0.95, description="GAE smoothing")
    ent_coef: Number = Field(
        0.01, description="entropy bonus: keeps exploring the many discrete choices")
    clip_range: Number = Field(
        0.2, description="PPO clipping (other learners ignore it)")
    net_arch: list[Int] = Field(
        default_factory=lambda: [64, 64], description="policy and value MLP widths")
    checkpoint_every: Int = Field(
        1_000, description="timesteps between checkpoints (a kill loses at most this)")
    eval_every: Int = Field(
        2_000, description="timesteps between evaluations of the deterministic policy")
    eval_episodes: Int = Field(
        2, description="episodes per evaluation (seeds 10_000 + k, never trained on)")
    compare_episodes: Int = Field(
        3, description="episodes per policy in the final comparison table")
    warm_start: Str = Field(
        "none", description='"paper" or "pruning": behaviour-clone that fixed schedule first; '
        '"policy:DIR": clone a trained policy (a run, or policies/digits: another task\'s '
        'policy acts through a menu adapter)')
    warm_start_episodes: Int = Field(
        2, description="demonstration episodes of the cloned schedule")
    warm_start_confidence: Number | dict[Str, Number] = Field(
        0.8, description="cloning stops when the schedule's choices get this probability: "
        "one number, or one per action group (prune, cluster, cluster_prune, crossbar, stop, "
        "default) to explore some more")
    baseline_seeds: list[Int] | None = Field(
        None, description="dense baselines trained on: worker k transforms the baseline of "
        "seed baseline_seeds[k % len] (None: every worker the env's own seed)")

    # pydantic's BaseModel.validate is a deprecated classmethod; this instance method
    # replaces it.
    def validate(self) -> TrainConfig:  # type: ignore[override]
        """``self``, validated: every field was checked when it was built (or copied with
        ``model_copy(update=...)``); only ``env`` can have changed in place since.

        :raises ConfigError: a bad environment setting.
        """
        self.env_config  # noqa: B018 (read again only if env changed; raises ConfigError)
        return self

    # Each field's check; pydantic has checked the types first (strictly). A refusal is
    # one line naming the key, what it allows and the value (config_from_dict, CommandConfig).
    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SAFE_NAME.fullmatch(value):
            raise ValueError(
                "config key 'name' must be a single path component of letters, digits, "
                f"'.', '_' or '-', not starting with '.', got {value!r}")
        return value

    @field_validator("seed")
    @classmethod
    def _seed(cls, value: int) -> int:
        if not 0 <= value < NUMPY_SEED_LIMIT:
            raise ValueError(f"config key 'seed' must be {ALLOWED['seed']}, got {value!r}")
        return value

    @field_validator(*INT_LIMITS)
    @classmethod
    def _count(cls, value: int, info: ValidationInfo) -> int:
        high = INT_LIMITS[str(info.field_name)]
        if not 1 <= value <= high:
            raise ValueError(
                f"config key {info.field_name!r} must be an integer in [1, {high}], "
                f"got {value!r}")
        return value

    @field_validator(*NUMBER_RANGES)
    @classmethod
    def _number(cls, value: float, info: ValidationInfo) -> float:
        low, high, open_low = NUMBER_RANGES[str(info.field_name)]
        if not (low < value if open_low else low <= value) or not value <= high:
            raise ValueError(
                f"config key {info.field_name!r} must be {ALLOWED[str(info.field_name)]}, "
                f"got {value!r}")
        return value

    @field_validator("learner")
    @classmethod
    def _learner(cls, value: str) -> str:
        if value not in learner_names():
            raise ValueError(f"config key 'learner' must be one of "
                             f"{', '.join(learner_names())}, got {value!r}")
        return value

    @field_validator("vectorization")
    @classmethod
    def _vectorization(cls, value: str) -> str:
        if value not in ("subprocess", "batched"):
            raise ValueError("config key 'vectorization' must be 'subprocess' or 'batched', "
                             f"got {value!r}")
        return value

    @field_validator("warm_start")
    @classmethod
    def _warm_start(cls, value: str) -> str:
        if not is_warm_start(value):
            raise ValueError(
                "config key 'warm_start' must be 'none', 'paper', 'pruning' or 'policy:DIR' "
                f"(DIR a directory holding config.yaml and best_model.zip), got {value!r}")
        check_policy_spec(value, "config key 'warm_start'")
        return value

    @field_validator("warm_start_confidence")
    @classmethod
    def _confidence(cls, conf: float | dict[str, float]) -> float | dict[str, float]:
        values = list(conf.values()) if isinstance(conf, dict) else [conf]
        unknown = sorted(set(conf) - set(CONFIDENCE_KEYS)) if isinstance(conf, dict) else []
        if unknown or not values or not all(0 < v < 1 for v in values):
            raise ValueError(
                "config key 'warm_start_confidence' must be a number in (0, 1) or a mapping "
                f"from action groups {list(CONFIDENCE_KEYS)} to such numbers, got {conf!r}")
        return conf

    @field_validator("baseline_seeds")
    @classmethod
    def _baseline_seeds(cls, seeds: list[int] | None) -> list[int] | None:
        if seeds is not None and (
            not seeds or len(seeds) > MAX_LIST or len(set(seeds)) != len(seeds)
            or any(not 0 <= s < SEED_LIMIT for s in seeds)
        ):
            raise ValueError(
                "config key 'baseline_seeds' must be None or a non-empty list of at most "
                f"{MAX_LIST} distinct integers in {seed_range()}, got {_short(seeds)}")
        return seeds

    @field_validator("net_arch")
    @classmethod
    def _net_arch(cls, widths: list[int]) -> list[int]:
        if not widths or len(widths) > 16 or not all(0 < w <= MAX_WIDTH for w in widths):
            raise ValueError(
                f"config key 'net_arch' must be a list of 1 to 16 widths in [1, {MAX_WIDTH}], "
                f"got {_short(widths)}")
        return widths

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if value not in ("cpu", "auto") and not value.startswith("cuda"):
            raise ValueError(
                f"config key 'device' must be 'cpu', 'cuda' or 'auto', got {value!r}")
        return value

    @model_validator(mode="after")
    def _rollout(self) -> TrainConfig:
        check_minibatches(self.learner, self.n_steps, self.n_envs, self.batch_size)
        return self

    @model_validator(mode="after")
    def _env(self) -> TrainConfig:
        """The environment settings, validated once here (kept: :attr:`env_config`); a
        copy whose ``env`` did not change keeps its original's (:meth:`_kept`)."""
        reused = kept().get("env_config")
        if reused is not None and reused[0] == self.env:
            self._env_config = reused
        self.env_config  # noqa: B018 (raises ConfigError)
        return self

    def _kept(self, update: Mapping[str, Any]) -> dict[str, Any]:
        return {"env_config": self._env_config} if "env" not in update else {}

    @classmethod
    def refusal(cls, exc: ValidationError, data: Mapping[str, Any]) -> str:
        """A validator's own line, else the key, what it allows and the value given."""
        err = exc.errors()[0]
        if (err.get("ctx") or {}).get("error") is not None:
            return first_error(exc)
        key = str(err["loc"][0]) if err["loc"] else "?"
        default = f"an integer in [1, {INT_LIMITS[key]}]" if key in INT_LIMITS else "valid"
        return f"config key {key!r} must be {ALLOWED.get(key, default)}, got " \
            f"{_short(data.get(key))}"

    @property
    def env_config(self) -> EnvConfig:
        """``env`` as the typed, validated :class:`EnvConfig` (every default filled in).

        Validated once when the configuration is loaded and kept; read again only if
        ``env`` has changed since.

        :raises ConfigError: a bad environment setting.
        """
        cached = self._env_config
        if cached is not None and cached[0] == self.env:
            return cached[1]
        try:
            config = EnvConfig.from_kwargs(**self.env)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config key 'env': {exc}") from None
        self._env_config = (copy.deepcopy(self.env), config)
        return config

    @property
    def run_name(self) -> str:
        return f"{self.name}-s{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump()
        if d.get("learner") == "ppo":  # as runs recorded before learners were named
            del d["learner"]
        return d


def known_configs() -> list[str]:
    """Names of the configurations shipped with the package (``digits``, ``mnist10k``, ...)."""
    return sorted(p.name[: -len(".yaml")] for p in CONFIG_DIR.iterdir() if p.name.endswith(".yaml"))


def resolve_config_path(spec: str) -> Any:
    """``digits`` → the packaged ``configs/digits.yaml`` (a Path or, in a zipped install,
    an importlib.resources Traversable); a path is used as given."""
    path: Any = Path(spec)
    if path.suffix not in (".yaml", ".yml"):
        path = CONFIG_DIR / f"{spec}.yaml"
    if isinstance(path, Path) and path.exists():
        try:
            regular_file(path)  # a directory or a FIFO is not "not found"
        except DocumentError as exc:
            raise ConfigError(f"config {exc}") from None
    if not path.is_file():
        known = known_configs()
        raise ConfigError(f"config {spec!r} not found (looked for {path}); known: {known}")
    return path


def apply_settings(data: dict[str, Any], items: Sequence[str]) -> dict[str, Any]:
    """``data`` with ``--set KEY=VALUE`` items applied (``env.KEY=VALUE`` for an environment
    setting); each value is read as YAML (``n_steps=8``, ``env.crossbar_sizes=[16, 32]``).

    :raises ConfigError: an item without ``=``, or a key that is neither a field nor
        ``env.SETTING`` (the message names what is allowed).
    """
    top = [name for name in TrainConfig.model_fields if name != "env"]
    try:
        return apply_overrides(data, items, top=top)
    except OverrideError as exc:
        raise ConfigError(str(exc)) from None


# -- whole-document checks (kept apart from the fields' validators) -----------------------


def check_not_empty(data: Any, origin: str) -> None:
    """Refuse a configuration document with no keys: an empty file, one of only comments,
    ``null`` or ``{}`` would otherwise run as every default, which no one asked for.

    :param data: the parsed document.
    :param origin: what to name in the error (``config PATH``).
    :raises ConfigError: one line naming ``origin`` and how to run the defaults instead.
    """
    if data is None or data == {}:
        raise ConfigError(
            f"{origin} is empty (no keys; allowed: a mapping of config keys to values); to "
            "run the default config, leave --config out (it is digits) or name a shipped one "
            f"({', '.join(known_configs())})")


def check_rollout(timesteps: int, n_steps: int, n_envs: int) -> None:
    """Refuse a training shorter than one rollout (``n_steps * n_envs``): SB3 collects a
    whole rollout before its first update, so it would train more steps than asked.
    Checked where a run is configured (:func:`load_config`: files, flags and ``--set``),
    not when a saved run's configuration is read back.

    :param timesteps: the total environment steps of training.
    :param n_steps: rollout steps per worker.
    :param n_envs: workers.
    :raises ValueError: one line naming the three values.
    """
    rollout = n_steps * n_envs
    if timesteps < rollout:
        raise ValueError(
            f"config key 'timesteps' must be at least one rollout, n_steps * n_envs = "
            f"{n_steps} * {n_envs} = {rollout} (or lower n_steps), got timesteps={timesteps}")


def check_minibatches(learner: str, n_steps: int, n_envs: int, batch_size: int) -> None:
    """Refuse a minibatch size that does not split the rollout (``n_steps * n_envs``) into
    whole minibatches: SB3 only warns, then trains on a short last minibatch (or, when it
    exceeds the rollout, on the whole rollout as one); and a minibatch of one sample, whose
    normalised advantages are NaN. Learners that read no
    ``batch_size`` (A2C) are never refused for it.

    :param learner: the learner's name (:func:`~agents.rl.learners.learner_names`).
    :param n_steps: rollout steps per worker.
    :param n_envs: workers.
    :param batch_size: the minibatch size.
    :raises ValueError: one line naming both values.
    """
    if learner not in learner_names() or "batch_size" not in get_learner(learner).own_fields:
        return  # an unknown learner is the learner key's own refusal
    rollout = n_steps * n_envs
    fits = [b for b in (rollout // 4, rollout // 2, rollout) if b > 1 and rollout % b == 0]
    if batch_size < 2:  # SB3 normalises a minibatch's advantages: one sample gives NaN
        raise ValueError(
            "config key 'batch_size' must be at least 2 (the advantages of a minibatch are "
            f"normalised by their spread; e.g. {', '.join(map(str, dict.fromkeys(fits)))}), "
            f"got batch_size={batch_size}")
    if batch_size > rollout or rollout % batch_size:
        raise ValueError(
            f"config key 'batch_size' must divide the rollout n_steps * n_envs = {n_steps} * "
            f"{n_envs} = {rollout} (e.g. {', '.join(map(str, dict.fromkeys(fits)))}), "
            f"got batch_size={batch_size}")


def load_config(
    spec: str | None = None, settings: Sequence[str] = (), **overrides: Any
) -> TrainConfig:
    """Read a YAML configuration (default ``configs/digits.yaml``) and apply overrides.

    :param spec: a name under ``configs/`` or a path to a YAML file.
    :param settings: ``KEY=VALUE`` items (``--set``), applied over the file.
    :param overrides: field values that win over both (``None`` values are ignored).
    """
    data: dict[str, Any] = {}
    if spec is not None and not spec.strip():  # not the default config, unasked
        raise ConfigError(f"config {spec!r} is an empty name (allowed: a name of "
                          f"{', '.join(known_configs())} or a YAML path; leave --config out "
                          "for digits)")
    if spec is not None or CONFIG_DIR.joinpath("digits.yaml").is_file():
        path = resolve_config_path(spec or "digits")
        try:
            data = parse_document(path.read_text(), f"config {path}")
        except DocumentError as exc:
            raise ConfigError(str(exc)) from None
        check_not_empty(data, f"config {path}")
        if not isinstance(data, dict):
            raise ConfigError(f"config {path} must be a mapping of keys to values")
    data = apply_settings(data, settings)
    cfg = config_from_dict({**data, **{k: v for k, v in overrides.items() if v is not None}})
    try:  # a new run's: a saved run (load_run_config) trained what it trained
        check_rollout(cfg.timesteps, cfg.n_steps, cfg.n_envs)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return cfg


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """The configuration of ``data`` (a YAML file's keys), validated.

    :raises ConfigError: an unknown key, or a value of the wrong type or out of range
        (one line naming the key, what it allows and the value).
    """
    known = set(TrainConfig.model_fields)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown config key(s) {unknown}; allowed: {sorted(known)}")
    return TrainConfig(**data)  # a refusal is one ConfigError line (TrainConfig.refusal)
