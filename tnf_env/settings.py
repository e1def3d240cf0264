"""Settings of the TraNNsformer environment: every ``gymnasium.make`` keyword.

:class:`EnvConfig` is a pydantic model: each field holds its default, its one-line
meaning and what it allows (:meth:`EnvConfig.describe`). :meth:`EnvConfig.from_kwargs`
checks the types (strictly: ``"false"`` is not a boolean, ``2.5`` not an integer, NaN
and infinity not numbers) and :meth:`EnvConfig.validate` the ranges; either error is a
one-line ``ValueError`` naming the setting, the value and what is allowed. Settings
already validated change through :meth:`EnvConfig.with_overrides`, which reads only
what changes.

A leaf: this module imports only pydantic, the standard library and
:mod:`tnf_env.validation`. The registries behind some settings (datasets, fidelity
levels, hwmodel's technologies and accountings) tell it their names and checks at their
own import (:func:`provide`); it imports them (:data:`PROVIDERS`) only when a value is
first checked or described, so reading the settings (``--help``) costs no torch.
"""

from __future__ import annotations

import copy
import importlib
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from .validation import (
    SEED_LIMIT,
    Bool,
    Int,
    IntTuple,
    Number,
    NumberTuple,
    PathStr,
    Str,
    is_valid_device_name,
    parse_topology,
    seed_range,
    short_repr,
    validate_fields,
)

# Defaults of settings, named here (the modules that use them import them from here).
#: The dataset of every command and the environment unless told otherwise (offline).
DEFAULT_DATASET = "digits"
#: hwmodel.technology.DEFAULT_TECHNOLOGY (hwmodel imports nothing of ours; the test of
#: the registries' names keeps the two equal, tests/agents/test_config_spine.py).
DEFAULT_TECHNOLOGY = "resparc"
#: The prune levels an action chooses from (multiples of the paper's rate).
PRUNE_LEVELS = (0.0, 0.5, 1.0, 2.0, 4.0)
#: Simulation length T of the spiking network, in 1 ms steps: Diehl et al.'s
#: reference (35 ms). Every default of an SNN length in the gym is this name.
SNN_TIMESTEPS = 35
DEFAULT_SELECTION_MARGIN = 1.0  # k: standard errors a validation accuracy must clear the floor by

#: The modules whose import tells the settings what the registries allow (:func:`provide`):
#: imported when first needed, not by importing this module.
PROVIDERS = ("tnf_env.data.datasets", "tnf_env.fidelity", "tnf_env.hardware_names")
_PROVIDED: dict[str, Any] = {}


def provide(**hooks: Any) -> None:
    """Called by a registry at its import: what some settings allow, by key
    (``dataset_names``, ``canonical_dataset``, ``default_tolerance``; ``fidelities``;
    ``preset_names``, ``get_technology``, ``technology_error``, ``is_technology``,
    ``accountings``, ``accounting_names``).

    :param hooks: the names (a tuple, or a function giving them as one line) and checks.
    """
    _PROVIDED.update(hooks)


def provided(key: str) -> Any:
    """What a registry told the settings under ``key`` (:func:`provide`), importing the
    :data:`PROVIDERS` the first time one is needed."""
    if key not in _PROVIDED:
        for module in PROVIDERS:
            importlib.import_module(module)
    return _PROVIDED[key]


#: The loss gate's images: the standard error of a mean loss depends on how many images it
#: averages, not on the split's size. On mnist-10k 1,000 change 7-10 of a paper episode's
#: 60 decisions (near-ties; 2,000 still change 6-9), and the delivered networks are
#: indistinguishable from the whole set's across seeds and float32 rounding draws
#: (docs/results/speed.md); digits' 899 training images are all used.
GATE_IMAGES = 1000
MAX_RETRAIN_EPOCHS = 1000  # a step runs one sub-iteration per epoch: keep it bounded
# A step's retraining visits this share of an epoch at least: below it a step rounds to a
# handful of images (one at 1e-300), which retrains nothing a step could be told from.
MIN_RETRAIN_EPOCHS = 0.01
# Upper bounds of integer settings: larger values pass the types and then spin or fail deep
# inside torch (an SNN of 10**12 timesteps, an episode of 10**12 steps, a layer of 10**10).
MAX_WIDTH = 100_000
MAX_LAYERS = 64
MAX_STEPS = 10_000
MAX_SNN_TIMESTEPS = 100_000
MAX_VAL_SIZE = 10**8
MAX_THREADS = 1024
MAX_LEVELS = 64
MAX_SIZES = 64  # crossbar sizes an action chooses from (every size is costed each step)


def _technology(value: Any) -> Any:
    """A preset name or a file path (str or os.PathLike), or a Technology itself."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if not isinstance(value, str) and not provided("is_technology")(value):
        raise ValueError("expected a name or a path")
    return value


def _topology(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    if not isinstance(value, str):
        raise ValueError("expected a string or a sequence of widths")
    return value


def _directory_or_new(path: str) -> bool:
    """Whether ``path`` is a directory, or can become one: its nearest existing ancestor is
    a directory (a regular file there, or on the way, cannot hold a cache)."""
    for p in (Path(path), *Path(path).parents):
        if p.exists():
            return p.is_dir()
    return True


Topology = Annotated[str | IntTuple, AfterValidator(_topology)]
TechnologySpec = Annotated[Any, AfterValidator(_technology)]


@dataclass(frozen=True)
class Rule:
    """The range of a setting, in its annotation: ``Annotated[Number, Rule(lambda v: v > 0)]``.

    :meth:`EnvConfig.validate` checks it after the types, field by field; a value it
    refuses is the one-line error :func:`invalid`.
    """

    ok: Callable[[Any], bool]


def setting(default: Any, meaning: str, allowed: str, *, instance: bool = False,
            data: bool = False, local: bool = False) -> Any:
    """A setting's field: its default, what it means (one line, the docs' table) and what
    it allows (the error messages; ``{key}`` is what a registry provides under ``key``,
    read when the message is written).

    :param instance: it defines the problem instance (a :class:`~tnf_env.task.Task` built
        with another value cannot serve it).
    :param data: it decides the data tensors (tasks that agree on these share them).
    :param local: it changes only how this process runs episodes (a task built with
        another value still serves it).
    """
    marks = {"instance": instance, "data": data, "local": local}
    return Field(default, description=meaning, json_schema_extra={"allowed": allowed, **marks})


def settings_marked(mark: str) -> tuple[str, ...]:
    """The settings a :func:`setting` mark (``instance``, ``data``, ``local``) is set on, in
    their order."""
    return tuple(name for name, field in EnvConfig.model_fields.items()
                 if isinstance(field.json_schema_extra, dict) and field.json_schema_extra[mark])


class _Names(dict):
    """``{key}`` placeholders of the allowed texts: a registry's names, as one line."""

    def __missing__(self, key: str) -> str:
        names = provided(key)
        return names() if callable(names) else ", ".join(repr(n) for n in names)


def _allowed(field: FieldInfo) -> str:
    """What a :func:`setting` field allows."""
    extra = field.json_schema_extra
    assert isinstance(extra, dict)  # setting() always gives the field one
    return str(extra["allowed"]).format_map(_Names())


class EnvConfig(BaseModel):
    """Settings of ``tnf_env/TraNNsformer-v0`` (all are ``gymnasium.make`` keywords).

    Each field is one :func:`setting`: default, meaning and allowed values in one place,
    read by the error messages (:func:`invalid`), the docs' table (:func:`settings_table`)
    and ``--set env.NAME=`` (the field names).
    """

    # The types are strict on their own; assignments inside validate() normalise values.
    model_config = ConfigDict(extra="forbid")

    dataset: Str = setting(
        DEFAULT_DATASET, "dataset name, see tnf_env.DATASETS; digits needs no files",
        "one of {dataset_names}", instance=True, data=True)
    data_dir: PathStr | None = setting(  # checked last by validate(): it asks the disk
        None, "directory holding the dataset's files (None: default lookup)",
        "None or an existing directory", instance=True, data=True, local=True)
    topology: Topology | None = setting(
        None, 'layer widths "784-1200-1200-10" (None: dataset\'s default)',
        f"None or 2 to {MAX_LAYERS} integer widths in [1, {MAX_WIDTH}], e.g. "
        "'784-1200-1200-10' or [784, 1200, 10]", instance=True)
    seed: Annotated[Int, Rule(lambda v: 0 <= v < SEED_LIMIT)] = setting(
        0, "seed of the dense baseline network the episodes transform",
        f"an integer in {seed_range()}", instance=True)
    crossbar_sizes: IntTuple = setting(
        (16, 32, 64, 128), "crossbar sizes N the agent may pick",
        f"a non-empty tuple of at most {MAX_SIZES} distinct integers >= 2", instance=True)
    per_layer_crossbar: Bool = setting(
        False, "one crossbar size per layer instead of one per chip", "True or False")
    # Off by default: a uniformly random stop component ends half the episodes at step 1.
    allow_stop: Bool = setting(
        False, "the action has a stop component that ends the episode early", "True or False")
    technology: TechnologySpec = setting(
        DEFAULT_TECHNOLOGY, "hwmodel preset name or path of a YAML/JSON file",
        "a preset name ({preset_names}) or the path of a YAML/JSON technology file", instance=True)
    area_weight: Annotated[Number, Rule(lambda v: 0 <= v <= 1)] = setting(
        0.5, "cost = w * area/area_orig + (1 - w) * energy/energy_orig", "a number in [0, 1]",
        instance=True)
    accuracy_tolerance: Annotated[Number | None, Rule(lambda v: 0 <= v < 1)] = setting(
        None, "floor = baseline val. accuracy - this (None: the dataset's, about two standard "
        "errors of its validation accuracy; 0.005 on mnist)", "None or a number in [0, 1)",
        instance=True)
    retrain_epochs: Annotated[
        Number, Rule(lambda v: MIN_RETRAIN_EPOCHS <= v <= MAX_RETRAIN_EPOCHS)
    ] = setting(
        1.0, "retraining per step, in epochs (fractions allowed)",
        f"a number of epochs in [{MIN_RETRAIN_EPOCHS}, {MAX_RETRAIN_EPOCHS}]")
    val_size: Annotated[
        Int | None, Rule(lambda v: v is None or 1 <= v <= MAX_VAL_SIZE)
    ] = setting(
        None, "validation images used per step (None: the fidelity's, the whole split at "
        "full)",
        f"None or an integer in [1, {MAX_VAL_SIZE}]", instance=True, data=True)
    max_steps: Annotated[
        Int | None, Rule(lambda v: v is None or 1 <= v <= MAX_STEPS)
    ] = setting(
        None, "steps per episode (None: 10); see tnf_env.make",
        f"None or an integer in [1, {MAX_STEPS}]")
    device: Annotated[Str, Rule(is_valid_device_name)] = setting(
        "cpu", "torch device of retraining and evaluation: cpu, cuda[:k], mps, auto",
        "'cpu', 'cuda', 'cuda:<k>', 'mps' or 'auto'", instance=True, data=True)
    compact: Bool = setting(
        True, "retrain and evaluate only the live sub-network (same results)", "True or False")
    dtype: Annotated[Str, Rule(lambda v: v in ("float32", "float64"))] = setting(
        "float32", "weights and data: float32, or float64 (exact comparisons, tests)",
        "'float32' or 'float64'", instance=True, data=True)
    prune_levels: NumberTuple = setting(
        PRUNE_LEVELS, "prune levels an action chooses from",
        f"a non-empty tuple of at most {MAX_LEVELS} distinct numbers in [0, 1000]")
    prune_unit: Annotated[Str, Rule(lambda v: v in ("paper", "relative"))] = setting(
        "paper", 'prune level 1 = the paper\'s rate, or "relative" to mean |W|',
        "'paper' or 'relative'")
    relative_rate: Annotated[Number, Rule(lambda v: v > 0)] = setting(
        0.2, 'with prune_unit="relative": level 1 = this x mean |W| per step', "a number > 0")
    rate_scale: Annotated[Number, Rule(lambda v: v >= 0)] = setting(
        10.0, "multiplies the paper's threshold rates (10: tuned on mnist-10k val)",
        "a number >= 0")
    fidelity: Annotated[Str, Rule(lambda v: v in provided("fidelities"))] = setting(
        "full", "retraining as the paper (full) or cheaper (medium, low: epoch_fraction=0.5, "
        "0.25 unless set); the knobs of each level: tnf_env.fidelity",
        "one of {fidelities}", instance=True, data=True)
    epoch_fraction: Annotated[
        Number | None, Rule(lambda v: v is None or 0 < v <= 1)
    ] = setting(
        None, "share of the retraining images each epoch visits, drawn afresh every epoch "
        "(None: the fidelity's, 1 at full)", "None or a number in (0, 1]", instance=True)
    train_images: Annotated[
        Int | None, Rule(lambda v: v is None or 1 <= v <= MAX_VAL_SIZE)
    ] = setting(
        None, "training images retraining visits each epoch (a fixed, seeded, class-"
        "stratified subset; None: the fidelity's, all at full)",
        f"None or an integer in [1, {MAX_VAL_SIZE}]", instance=True, data=True)
    retrain_batch: Annotated[
        Int | None, Rule(lambda v: v is None or 1 <= v <= MAX_VAL_SIZE)
    ] = setting(
        None, "retraining's minibatch size (None: the fidelity's, the dataset's recipe at "
        "full: 400 on mnist)", f"None or an integer in [1, {MAX_VAL_SIZE}]", instance=True)
    gate_on_loss: Bool = setting(
        True, "thresholds rise only in steps whose training loss fell", "True or False")
    gate_images: Annotated[
        Int | None, Rule(lambda v: v is None or 1 <= v <= MAX_VAL_SIZE)
    ] = setting(
        GATE_IMAGES, "training images the loss gate's loss is measured on (a seeded, "
        "class-stratified subset; None: all)", f"None or an integer in [1, {MAX_VAL_SIZE}]",
        instance=True, data=True)
    accounting: Annotated[Str, Rule(lambda v: v in provided("accountings"))] = setting(
        "best", 'crossbar accounting of the cost: "best" or "paper" (scoring.py)',
        "one of {accounting_names}", instance=True)
    select_on_validation: Bool = setting(
        True, "deliver the latest step meeting the floor (validation)", "True or False")
    selection_margin: Annotated[Number, Rule(lambda v: v >= 0)] = setting(
        DEFAULT_SELECTION_MARGIN, "k: a step meets the floor for selection (and is_success) "
        "only when val. accuracy - k standard errors clears it",
        "a number >= 0 (standard errors)")
    settle_tolerance: Annotated[Number, Rule(lambda v: 0 <= v <= 1)] = setting(
        0.05, "recluster once the unclustered share moves less per epoch",
        "a number in [0, 1]")
    cluster_prune_growth: Annotated[Number, Rule(lambda v: 0 <= v <= 1)] = setting(
        0.01, "f grows by this per improving epoch of cluster pruning", "a number in [0, 1]")
    penalty_weight: Annotated[Number, Rule(lambda v: v >= 0)] = setting(
        10.0, "end-of-episode penalty per unit of accuracy below the floor", "a number >= 0")
    floor_give_back: Bool = setting(
        True, "ending below the floor also gives the savings back (reward.py)",
        "True or False")
    step_penalty_weight: Annotated[Number, Rule(lambda v: v >= 0)] = setting(
        0.0, "optional per-step penalty per unit below the floor", "a number >= 0")
    collapse_margin: Annotated[Number, Rule(lambda v: v > 0)] = setting(
        0.2, "terminate when accuracy falls this far below the floor", "a number > 0")
    snn_at_end: Bool = setting(
        False, "at episode end, simulate the SNN and cost with its spikes", "True or False")
    snn_timesteps: Annotated[
        Int, Rule(lambda v: 1 <= v <= MAX_SNN_TIMESTEPS)
    ] = setting(
        SNN_TIMESTEPS, "SNN simulation length when snn_at_end",
        f"an integer in [1, {MAX_SNN_TIMESTEPS}]")
    nonideal: Bool | None = setting(
        None, "accuracy (and the floor) measured on the non-ideal crossbars of the "
        "technology's device model (wire resistance, ...); None: on when it has one",
        "None (on when the technology has a device model, as the presets do), "
        "True (needs one) or False", instance=True)
    cache_dir: Annotated[PathStr | None, Rule(lambda v: v is None or _directory_or_new(v))] = (
        setting(None, "baseline cache directory (None: ~/.cache/tnf_env)",
                "None or the path of a directory, existing or to be created (not a file)",
                instance=True, local=True))
    torch_threads: Annotated[
        Int | None, Rule(lambda v: v is None or 1 <= v <= MAX_THREADS)
    ] = setting(
        None, "torch threads in this process (None: leave as is)",
        f"None or an integer in [1, {MAX_THREADS}]", local=True)

    # pydantic's BaseModel.validate is a deprecated classmethod; this instance method
    # replaces it (callers across the project use this name).
    def validate(self) -> EnvConfig:  # type: ignore[override]
        """Check the ranges and the rules between settings, field by field (types:
        :meth:`from_kwargs`); normalise what has several spellings.

        A field's own :class:`Rule` is checked after its rules between settings below
        (``accuracy_tolerance``'s default, for one, comes from the dataset).
        """
        return self._check(type(self).model_fields)

    def _check(self, names: Collection[str]) -> EnvConfig:
        """:meth:`validate` of the fields ``names`` only, in the fields' order."""
        for name, info in type(self).model_fields.items():
            if name not in names:
                continue
            between = getattr(self, f"_check_{name}", None)
            if between is not None:
                between()
            value = getattr(self, name)
            if not all(rule.ok(value) for rule in info.metadata if isinstance(rule, Rule)):
                raise invalid(name, value)
        if "data_dir" in names and self.data_dir is not None and not Path(
            self.data_dir
        ).is_dir():
            raise invalid("data_dir", self.data_dir)  # last: the only check asking the disk
        return self

    # Rules between settings, or more than a range: run by validate() at their field.
    def _check_dataset(self) -> None:
        try:  # the registry's names, each case and _/- spelling of them
            self.dataset = provided("canonical_dataset")(self.dataset)
        except ValueError:
            raise invalid("dataset", self.dataset) from None

    def _check_topology(self) -> None:
        if self.topology is not None:
            try:
                widths = parse_topology(self.topology)
            except (TypeError, ValueError):
                raise invalid("topology", self.topology) from None
            if len(widths) > MAX_LAYERS or max(widths) > MAX_WIDTH:
                raise invalid("topology", self.topology)

    def _check_crossbar_sizes(self) -> None:
        sizes = tuple(self.crossbar_sizes)
        if (not sizes or len(sizes) > MAX_SIZES or any(n < 2 for n in sizes)
                or len(set(sizes)) != len(sizes)):
            raise invalid("crossbar_sizes", self.crossbar_sizes)
        self.crossbar_sizes = sizes

    def _check_technology(self) -> None:
        sizes = self.crossbar_sizes
        try:  # a known technology whose range holds the sizes: checked before any training
            technology = provided("get_technology")(self.technology)
            for n in sizes:
                technology.check_crossbar_size(n)
        # an unknown name, or a file that cannot be used
        except provided("technology_error") as exc:
            is_file = isinstance(self.technology, str) and "." in self.technology
            detail = f" ({exc})" if is_file else ""
            raise ValueError(f"{invalid('technology', self.technology)}{detail}") from None
        except ValueError as exc:  # "crossbar size N is outside the range A..B allowed by ..."
            raise ValueError(
                f"invalid setting crossbar_sizes={short_repr(sizes)}: {exc}") from None
        if self.nonideal and technology.device is None:
            raise ValueError(
                f"invalid setting nonideal=True: technology '{technology.name}' has no device "
                "model (add a 'device:' mapping to its file)"
            )

    def _check_accuracy_tolerance(self) -> None:
        if self.accuracy_tolerance is None:
            self.accuracy_tolerance = provided("default_tolerance")(self.dataset)

    def _check_prune_levels(self) -> None:
        levels = tuple(float(x) for x in self.prune_levels)
        if (
            not levels
            or len(levels) > MAX_LEVELS
            or any(not 0 <= x <= 1000 for x in levels)
            or len(set(levels)) != len(levels)
        ):
            raise invalid("prune_levels", self.prune_levels)
        self.prune_levels = levels

    @classmethod
    def from_kwargs(cls, **kwargs) -> EnvConfig:
        """The settings of these keywords, every other one at its default: types, then the
        ranges and rules (:meth:`validate`).

        :raises ValueError: one line naming the first bad setting and what it allows.
        """
        _refuse_unknown(kwargs)
        config = validate_fields(
            cls, kwargs, lambda name: str(invalid(name, kwargs.get(name)))
        )
        return config.validate()

    def with_overrides(self, **overrides: Any) -> EnvConfig:
        """These (validated) settings with ``overrides``: only the values that change are
        read, and only their checks run again, with those of the settings whose rules read
        them (:data:`CHECKED_WITH`); a value equal to the one held, of the same type, is
        no change. The settings are thus validated once, when first built.

        :returns: ``self`` when nothing changes, else a new validated configuration.
        :raises ValueError: as :meth:`from_kwargs`.
        """
        _refuse_unknown(overrides)
        changed = [
            name for name in type(self).model_fields
            if name in overrides and not _same(overrides[name], getattr(self, name))
        ]
        if not changed:
            return self
        config = self.model_copy()
        for name in changed:
            try:
                type(self).__pydantic_validator__.validate_assignment(
                    config, name, overrides[name]
                )
            except ValidationError:
                raise invalid(name, overrides[name]) from None
        again = {*changed, *(k for k, reads in CHECKED_WITH.items() if set(reads) & set(changed))}
        return config._check(again)

    def to_dict(self) -> dict:
        """The settings as ``gymnasium.make`` keywords (sequences as lists)."""
        d = copy.deepcopy(dict(self.__dict__))
        d["crossbar_sizes"] = list(self.crossbar_sizes)
        d["prune_levels"] = list(self.prune_levels)
        if isinstance(self.topology, tuple):
            d["topology"] = list(self.topology)
        return d

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Every setting, in order: ``name``, ``default``, ``meaning`` and ``allowed``."""
        return [
            {"name": name, "default": f.default, "meaning": f.description,
             "allowed": _allowed(f)}
            for name, f in cls.model_fields.items()
        ]


#: The settings whose checks read other settings: checked again when one of those changes
#: (the technology's range must hold the crossbar sizes; nonideal needs its device model).
CHECKED_WITH: dict[str, tuple[str, ...]] = {"technology": ("crossbar_sizes", "nonideal")}


def _refuse_unknown(kwargs: dict[str, Any]) -> None:
    known = EnvConfig.model_fields
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}: allowed {sorted(known)}")


def _same(given: Any, held: Any) -> bool:
    """``given`` is the validated ``held`` already: equal and of the same types (``True``
    is not the integer 1, nor ``1`` the number 1.0); a list is read as the tuple held."""
    if isinstance(held, tuple) and isinstance(given, (list, tuple)):
        return len(given) == len(held) and all(map(_same, given, held))
    return type(given) is type(held) and given == held


def allowed(name: str) -> str:
    """What the setting ``name`` allows, for the error messages (the registries' names as
    they are now)."""
    return _allowed(EnvConfig.model_fields[name])


def invalid(name: str, value: Any) -> ValueError:
    """The one-line error of a setting: ``invalid setting NAME=VALUE: allowed ...``.

    Numbers are finite: NaN and infinity are refused by every numeric setting.
    """
    return ValueError(f"invalid setting {name}={short_repr(value)}: allowed {allowed(name)}")


def settings_table() -> str:
    """The Markdown table of the settings in docs/environment.md (a test keeps it equal)."""

    def default(value: Any) -> str:
        return f'"{value}"' if isinstance(value, str) else repr(value)

    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for row in EnvConfig.describe():
        meaning = row["meaning"].replace("|", "\\|")
        rows.append(f"| `{row['name']}` | `{default(row['default'])}` | {meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m tnf_env.settings: the table for docs/environment.md
    # the module the registries tell their names to, not this __main__ copy of it
    print(importlib.import_module("tnf_env.settings").settings_table())


#: Settings whose default changed, with the default that documents written before the change
#: were run under. Saved runs and schedules record only the settings a user gave, so one of
#: those documents lacking these keys means the old defaults (allow_stop changed the action
#: space, gate_images the loss gate's images); documents written now carry them explicitly
#: (:func:`explicit_settings`), so a missing key can only mean an older document.
EARLIER_DEFAULTS: dict[str, Any] = {"allow_stop": True, "gate_images": None}


#: Settings every saved run and schedule names even at their default: the fidelity level
#: its episodes ran at (a missing key in an older document is the default, ``full``).
ALWAYS_RECORDED = ("fidelity",)


def explicit_settings(env: dict[str, Any]) -> dict[str, Any]:
    """``env`` with every setting of :data:`EARLIER_DEFAULTS` and :data:`ALWAYS_RECORDED`
    written out (today's default where it was not given): what a saved run or schedule
    records."""
    defaults = {k: EnvConfig.model_fields[k].default
                for k in (*EARLIER_DEFAULTS, *ALWAYS_RECORDED)}
    return {**env, **{k: v for k, v in defaults.items() if k not in env}}


def earlier_settings(env: dict[str, Any]) -> dict[str, Any]:
    """The settings a saved run or schedule was run under: a key of
    :data:`EARLIER_DEFAULTS` it lacks takes the default of before the change."""
    return {**env, **{k: v for k, v in EARLIER_DEFAULTS.items() if k not in env}}
