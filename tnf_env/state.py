"""The episode state document: one format for a state, a saved schedule and a replay.

Steps cost seconds, so lookahead and tree search over copies of an episode are natural
baselines (CompilerGym's ``env.fork()`` and ``env.state``). The state is also the schedule
document ``replay`` reads (``best_schedule.json``): the settings, the episode seed and the
actions taken, which reproduce the episode bit for bit on the CPU, and the metrics they
gave, which a replay compares. :func:`state_document` writes it (for
:meth:`Episode.get_state <tnf_env.episode.Episode.get_state>`, a training run's best
episode and a schedule re-run at full fidelity), :func:`check_state` is its one
validation (:class:`EpisodeState`), and
:meth:`~tnf_env.episode.Episode.set_state` restores it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from .actions import ActionCodec, InvalidAction
from .model.network import default_topology, parse_topology
from .settings import MAX_STEPS, MAX_THREADS, EnvConfig, earlier_settings, explicit_settings
from .task import DEFAULT_MAX_STEPS
from .transform.step_plan import sub_epochs
from .validation import Int, Number, Str, check_seed, seed_range

# The metrics a state (and best_schedule.json) records; replay checks each of them.
STATE_METRICS = (
    "accuracy",
    "accuracy_floor",
    "is_success",
    "cost",
    "area_mm2",
    "energy_nj",
    "crossbars",
    "utilization",
    "sparsity",
    "clusters",
    "crossbar_sizes",
    "delivered_step",
)


def _seed(value: int) -> int:
    return check_seed(value)


def _all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, dict)):
        return all(map(_all_finite, value.values() if isinstance(value, dict) else value))
    return True


def _plain_values(value: Any) -> bool:
    """A metric's value is a JSON number, a boolean, null or a list of them (nested): a
    numeric string ``"1"`` would compare unequal to the replayed 1 and read as a mismatch."""
    if isinstance(value, list):
        return all(map(_plain_values, value))
    return value is None or isinstance(value, (bool, int, float))


def _finite(metrics: dict[str, Any]) -> dict[str, Any]:
    if not all(map(_plain_values, metrics.values())):
        raise ValueError("not a number")
    if not _all_finite(metrics):  # in lists too (sparsity per layer)
        raise ValueError("NaN or infinity")  # a NaN never compares equal: no check at all
    return metrics


def _threads(value: int | None) -> int | None:
    # bounded before it reaches torch.set_num_threads (a C long)
    if value is not None and not 1 <= value <= MAX_THREADS:
        raise ValueError(f"outside [1, {MAX_THREADS}]")
    return value


Action = list[Annotated[Int, Field(ge=0)]]  # Int is strict: 1.7 and True are not actions
Metrics = Annotated[dict[Str, Any], AfterValidator(_finite)]


class TrainedAt(BaseModel):
    """What a schedule found at a cheaper fidelity measured there (``trained_at`` of a
    schedule re-run at full fidelity): unknown keys are refused.

    :ivar env: the level's environment settings.
    :ivar episode_return: the level's return.
    :ivar metrics: the level's metrics (:data:`STATE_METRICS`).
    :ivar actions: the actions taken at the level.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: dict[Str, Any]
    episode_return: Number | None = None
    metrics: Metrics = Field(default_factory=dict)
    actions: Annotated[list[Action], Field(max_length=MAX_STEPS)] = Field(default_factory=list)


class EpisodeState(BaseModel):
    """The state document (``get_state()``, ``best_schedule.json``): unknown keys are
    refused.

    :ivar env: the environment settings as recorded (:func:`explicit_settings`).
    :ivar seed: the episode seed.
    :ivar actions: the actions taken, each a list of integers.
    :ivar metrics: what the network after the last action measured (:data:`STATE_METRICS`).
    :ivar torch_threads: torch threads of the run (a replay uses the same summation order).
    :ivar episode_return: the rewards of the actions, summed.
    :ivar config: (a run's) its training configuration.
    :ivar timesteps: (a run's) environment steps when the episode was found.
    :ivar mean_eval_return: (a run's) mean return of the evaluation it was the best of.
    :ivar episodes: (a search's) episodes it was the best of.
    :ivar trained_at: (a schedule re-run at full fidelity) the level's env, actions,
        episode_return and metrics.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: dict[Str, Any]
    seed: Annotated[Int, AfterValidator(_seed)]
    # Int is strict: 1.7 and True are not actions
    actions: Annotated[list[Action], Field(max_length=MAX_STEPS)]
    metrics: Metrics = Field(default_factory=dict)
    torch_threads: Annotated[Int | None, AfterValidator(_threads)] = None
    # strict: a JSON number ("1" is not a return), finite
    episode_return: Number | None = None
    # the run's own fields: optional, for readers of a run directory
    config: dict[Str, Any] | None = None
    timesteps: Int | None = None
    mean_eval_return: Number | None = None
    episodes: Int | None = None
    # a mapping for readers; check_state holds it to TrainedAt's keys
    trained_at: dict[Str, Any] | None = None

    def settings(self) -> EnvConfig:
        """The settings the episode ran under (a setting whose default changed since keeps
        its old one).

        :raises ValueError: a bad setting, named.
        """
        return EnvConfig.from_kwargs(**earlier_settings(self.env))


#: What each key allows, for the error messages.
ALLOWED = {
    "env": "a mapping of environment settings",
    "seed": f"an integer in {seed_range()}",
    "actions": f"a list of at most {MAX_STEPS} actions, each a list of integers >= 0",
    "metrics": f"a mapping from metric names {list(STATE_METRICS)} to finite JSON numbers, "
    "booleans, nulls or lists of them (no strings, NaN or infinity)",
    "torch_threads": f"null or an integer in [1, {MAX_THREADS}]",
    "episode_return": "null or a finite JSON number (not a string)",
    "config": "null or a mapping (a run's configuration)",
    "timesteps": "null or an integer",
    "mean_eval_return": "null or a finite JSON number (not a string)",
    "episodes": "null or an integer",
    "trained_at": "null or a mapping of env, episode_return, metrics and actions (the "
    "level's)",
}
#: What each key of ``trained_at`` allows.
ALLOWED_TRAINED_AT = {
    "env": ALLOWED["env"],
    "episode_return": ALLOWED["episode_return"],
    "metrics": ALLOWED["metrics"],
    "actions": f"a list of at most {MAX_STEPS} actions, each a list of integers >= 0",
}
REQUIRED = ("env", "seed", "actions")


def _where(loc: Sequence[Any]) -> str:
    return str(loc[0]) + "".join(f"[{x}]" for x in loc[1:])


def _present(doc: Any, loc: Sequence[Any]) -> tuple[Any, ...]:
    """The part of ``loc`` that is in ``doc``: pydantic's location may go on past the
    value (the member of a union it tried, ``("episode_return", "int")``)."""
    for n, x in enumerate(loc):
        there = (isinstance(doc, dict) and x in doc) or (
            isinstance(doc, list) and isinstance(x, int) and -len(doc) <= x < len(doc))
        if not there:
            return tuple(loc[:n])
        doc = doc[x]
    return tuple(loc)


def _at(doc: Any, loc: Sequence[Any]) -> Any:
    for x in loc:
        doc = doc[x]
    return doc


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_state(doc: Any, codec: ActionCodec | None = None, *,
                replayable: bool = False) -> EpisodeState:
    """The one validation of a state document: its keys and types, its settings, and (given
    the action space, or read from the settings) each action (:meth:`ActionCodec.check`).

    :param doc: the document (a mapping, e.g. read from JSON).
    :param codec: the action space (None: the settings' own, where the settings name a
        dataset of known topology).
    :param replayable: also require ``metrics`` and at least one action (a schedule file a
        replay checks).
    :raises ValueError: one line naming the key, the value and what is allowed.
    """
    if not isinstance(doc, dict):
        raise ValueError(f"a state is a JSON object (get_state()), not a {type(doc).__name__}")
    required = (*REQUIRED, "metrics") if replayable else REQUIRED
    missing = [k for k in required if k not in doc]
    if missing:
        raise ValueError(f"the state lacks {missing} (keys allowed: {sorted(ALLOWED)})")
    try:
        state = EpisodeState.model_validate(doc)
    except ValidationError as exc:
        raise ValueError(_message(exc, doc)) from None
    if replayable and not state.actions:
        raise ValueError(f"key 'actions' must be {ALLOWED['actions']}, non-empty, got actions=[]")
    check_metric_names(state.metrics, "metrics")
    try:
        config = state.settings()
    except ValueError as exc:
        raise ValueError(f"key 'env': {exc}") from None
    if state.trained_at is not None:
        try:
            level = TrainedAt.model_validate(state.trained_at)
        except ValidationError as exc:
            raise ValueError(_message(exc, doc, "trained_at")) from None
        check_metric_names(level.metrics, "trained_at.metrics")
        try:
            level_config = EnvConfig.from_kwargs(**earlier_settings(level.env))
        except ValueError as exc:
            raise ValueError(f"key 'trained_at.env': {exc}") from None
        check_actions(level.actions, level_config, codec_of(level_config),
                      "trained_at.actions")
    check_actions(state.actions, config, codec if codec is not None else codec_of(config))
    return state


def _message(exc: ValidationError, doc: Any, under: str | None = None) -> str:
    """The first error of ``exc`` as one line naming the key, the value and what is
    allowed; ``under``: the errors are of that key's mapping (``trained_at``)."""
    err = exc.errors()[0]
    loc = (under, *err["loc"]) if under else err["loc"]
    key = ".".join(map(str, loc[:2])) if under else str(loc[0])
    allowed = ALLOWED_TRAINED_AT if under else ALLOWED
    inside = f" in {under}" if under else ""
    if err["type"] == "extra_forbidden":
        return f"unknown key {key!r} (keys allowed{inside}: {sorted(allowed)})"
    if err["type"] == "missing" and under:  # top-level keys are checked before
        return f"key {under!r} lacks {str(loc[-1])!r} (keys allowed: {sorted(allowed)})"
    what = allowed[str(loc[1] if under else loc[0])]
    loc = _present(doc, loc) or loc[:1]
    return f"key {key!r} must be {what}, got {_where(loc)}={_short(_at(doc, loc))}"


def check_metric_names(metrics: dict[str, Any], where: str) -> None:
    """Refuse a metric that is not one of :data:`STATE_METRICS` (a replay would compare it
    with nothing and report a mismatch instead of the typo).

    :param metrics: the document's metrics.
    :param where: the key to name (``metrics``, ``trained_at.metrics``).
    :raises ValueError: one line naming the metric and the allowed ones.
    """
    unknown = [k for k in metrics if k not in STATE_METRICS]
    if unknown:
        raise ValueError(f"key {where!r}: unknown metric {unknown[0]!r} (allowed: "
                         f"{list(STATE_METRICS)})")


def check_actions(actions: Sequence[Sequence[int]], config: EnvConfig,
                  codec: ActionCodec | None, key: str = "actions") -> None:
    """Refuse actions an episode of ``config`` cannot take: more than its steps, one that
    stops the episode before the last, and (given the action space) one that
    :meth:`ActionCodec.check` refuses. A surplus action would otherwise be dropped without
    a word.

    :param actions: the document's actions.
    :param config: the settings the episode runs under.
    :param codec: the action space (None: unknown, lengths and ranges unchecked).
    :param key: the document's key to name.
    :raises ValueError: one line naming the action, the value and what is allowed.
    """
    horizon = config.max_steps or DEFAULT_MAX_STEPS
    if len(actions) > horizon:
        raise ValueError(
            f"key {key!r}: {len(actions)} given, the episode has at most {horizon} steps "
            f"(env.max_steps={config.max_steps})")
    if codec is None:
        return
    for k, a in enumerate(actions):
        try:
            codec.check(a)
        except InvalidAction as exc:
            raise ValueError(
                f"key {key!r} must be actions of {codec.nvec.size} integers, got "
                f"{key}[{k}]={_short(a)}: {exc.reason}") from None
        if config.allow_stop and a[-1] == 1 and k < len(actions) - 1:
            raise ValueError(
                f"key {key!r}: {key}[{k}] stops the episode (its last component, stop, "
                f"is 1) but {len(actions) - 1 - k} more follow (allowed: stop only in the "
                "last action)")


def codec_of(config: EnvConfig) -> ActionCodec | None:
    """The action space of environments with ``config`` (None when its dataset has no
    default topology: only a built task knows the network)."""
    try:
        widths = parse_topology(config.topology or default_topology(config.dataset))
    except ValueError:
        return None
    return ActionCodec(len(widths) - 1, config.crossbar_sizes, config.per_layer_crossbar,
                       config.allow_stop, config.prune_levels,
                       len(sub_epochs(config.retrain_epochs)))


def action_space_of(config: EnvConfig) -> np.ndarray | None:
    """The choices per action component of environments with ``config`` (None when its
    dataset has no default topology)."""
    codec = codec_of(config)
    return None if codec is None else codec.nvec


def state_document(
    settings: dict[str, Any], seed: int, actions: Sequence[Sequence[int]],
    episode_return: float, info: dict[str, Any], **run: Any,
) -> dict[str, Any]:
    """The state document of an episode: ``settings`` written out
    (:func:`~tnf_env.settings.explicit_settings`: a later default change cannot move
    them), the seed, the actions, this process's torch threads, the return and the
    :data:`STATE_METRICS` of ``info``; plus the run's own fields ``run``
    (:class:`EpisodeState` lists them).

    :raises ValueError: a field the document does not allow (a bug of the writer).
    """
    doc = {
        "env": explicit_settings(settings),
        "seed": seed,
        "actions": [[int(x) for x in a] for a in actions],
        "torch_threads": torch.get_num_threads(),  # a replay uses the same summation order
        "episode_return": episode_return,
        "metrics": {k: plain(info[k]) for k in STATE_METRICS if k in info},
        **run,
    }
    EpisodeState.model_validate(doc)  # what a reader accepts, so nothing unreadable is written
    return doc


def plain(v: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, tuples as lists, mappings recursed."""
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return v


#: The keys ``reset(options=...)`` takes.
RESET_OPTIONS = ("state",)


def check_reset_options(options: Any) -> None:
    """Refuse ``reset`` options that are not None or a mapping of :data:`RESET_OPTIONS`.

    :param options: what ``reset(options=...)`` was given.
    :raises TypeError: not a mapping.
    :raises ValueError: a key it does not know, named with the allowed ones.
    """
    if options is None:
        return
    if not isinstance(options, Mapping):
        raise TypeError(f"reset(options=...) takes None or a mapping with keys "
                        f"{list(RESET_OPTIONS)}, got {type(options).__name__} {options!r:.80}")
    unknown = sorted(map(str, set(options) - set(RESET_OPTIONS)))
    if unknown:
        raise ValueError(f"reset(options=...): unknown option(s) {unknown} (allowed: "
                         f"{list(RESET_OPTIONS)})")
