"""Replay a saved schedule (``best_schedule.json``, a state document) on a fresh environment.

The file is an :class:`~tnf_env.state.EpisodeState` (:func:`tnf_env.state.check_state`
validates it); :func:`replay` restores it through the Episode
(:meth:`~tnf_env.env.TraNNsformerEnv.set_state`) and compares the recorded metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

import tnf_env
from hwmodel.safeload import DocumentError, load_document
from tnf_env.rollout import EpisodeResult
from tnf_env.settings import earlier_settings
from tnf_env.state import check_state, plain

from .config import TrainConfig


class ScheduleFileError(ValueError):
    """A schedule file that is missing, unreadable or incomplete."""


def load_schedule(path: str | Path) -> dict[str, Any]:
    """Read and check a ``best_schedule.json`` (:func:`tnf_env.state.check_state`: its keys,
    their types, the settings and each action against the action space) before anything
    runs; the document, its ``env`` as the episode ran (a setting whose default changed
    since keeps its old one; ``cache_dir`` dropped).

    :raises ScheduleFileError: one line naming the file, the key, the value and what is allowed.
    """
    p = Path(path)
    if not p.exists():  # a directory or a FIFO is named as such by load_document
        raise ScheduleFileError(f"schedule file {p} not found")
    try:
        doc = load_document(p, "json")
    except DocumentError as exc:
        raise ScheduleFileError(f"schedule file {exc}") from None
    if not isinstance(doc, dict):
        kind = type(doc).__name__
        raise ScheduleFileError(f"schedule file {p} must hold a JSON object, not a {kind}")
    if isinstance(doc.get("env"), dict) and doc["env"].get("cache_dir") is not None:
        # a file handed over does not choose where this machine writes its baselines
        doc["env"] = {**doc["env"], "cache_dir": None}
    try:
        check_state(doc, replayable=True)
        check_config_keys(doc.get("config"))
    except ValueError as exc:
        raise ScheduleFileError(f"schedule file {p}: {exc}") from None
    doc["env"] = earlier_settings(doc["env"])
    return doc


def check_config_keys(config: dict[str, Any] | None) -> None:
    """Refuse a run's recorded ``config`` with a key no training configuration has. Only the
    keys: the values are a record (a ``warm_start: policy:DIR`` of another machine need not
    exist on this one) and a replay runs on ``env`` alone.

    :raises ValueError: one line naming the key and the allowed ones.
    """
    if config is None:
        return
    known = [row["name"] for row in TrainConfig.describe()]
    unknown = [k for k in config if k not in known]
    if unknown:
        raise ValueError(f"unknown key 'config.{unknown[0]}' (keys allowed in config: {known})")


def replay(
    doc: dict[str, Any], render_dir: Path | None = None, *, to_end: bool = False
) -> tuple[EpisodeResult, dict[str, tuple[Any, Any]]]:
    """Restore the state ``doc`` on a fresh environment of its settings (its seed, then its
    actions); the episode and a per-metric comparison ``{name: (recorded, replayed)}``
    (:func:`same` tells whether a pair agrees).

    :param render_dir: a frame ``step_NNN.png`` per action written there.
    :param to_end: an episode that ends before the last action stops there (actions re-run
        under other settings, e.g. at full fidelity); by default that is an error.
    """
    if not doc["actions"]:
        raise ScheduleFileError("schedule has no actions to replay")
    if doc.get("torch_threads"):
        torch.set_num_threads(int(doc["torch_threads"]))
    # The bare environment: it renders and restores a state (make() only adds the horizon).
    env = tnf_env.TraNNsformerEnv(render_mode="rgb_array" if render_dir else None, **doc["env"])

    def frame(_: int, n: int) -> None:
        if render_dir is not None:
            _save_frame(env.render(), Path(render_dir) / f"step_{n:03d}.png")

    try:
        _, info = env.set_state(doc, on_step=frame, to_end=to_end)
        ep = env.episode
        result = EpisodeResult("replay", doc["seed"], ep.episode_return, len(ep.actions),
                               [list(a) for a in ep.actions], info)
    finally:
        env.close()
    compared = {key: (rec, plain(info.get(key))) for key, rec in doc["metrics"].items()}
    return result, compared


def same(recorded: Any, replayed: Any) -> bool:
    """Whether a replayed metric agrees with the recorded one (floats within 1e-9)."""
    return recorded == replayed or (
        isinstance(recorded, float) and isinstance(replayed, float)
        and abs(recorded - replayed) <= 1e-9
    )


def _save_frame(frame: np.ndarray, path: Path) -> None:
    from matplotlib import pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, frame)
