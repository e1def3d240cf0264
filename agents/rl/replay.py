"""Replay a saved schedule (``best_schedule.json``) on a fresh environment."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import tnf_env
from hwmodel.safeload import DocumentError, load_document
from tnf_env.settings import MAX_STEPS, EnvConfig, earlier_settings
from tnf_env.state import plain
from tnf_env.validation import Int, Str, check_seed, validate_fields

from .policies import EpisodeResult


class ScheduleFileError(ValueError):
    """A schedule file that is missing, unreadable or incomplete."""


class ReplayPolicy:
    """Plays back a fixed action sequence."""

    name = "replay"

    def __init__(self, actions: list[list[int]]) -> None:
        self.actions = [np.asarray(a, dtype=np.int64) for a in actions]

    def reset(self, env) -> None:
        self.k = 0

    def act(self, obs: np.ndarray, info: dict) -> np.ndarray:
        a = self.actions[self.k]
        self.k += 1
        return a


@dataclass
class _Schedule:
    """The keys of a schedule file that replay reads (others are kept, unchecked)."""

    env: dict[Str, Any]
    seed: Int
    actions: list[list[Int]]
    metrics: dict[Str, Any]
    torch_threads: Int | None = None


ALLOWED = {
    "env": "a mapping of environment settings",
    "seed": "an integer in [0, 2**63)",
    "actions": f"a non-empty list of at most {MAX_STEPS} actions, each a list of integers >= 0",
    "metrics": "a mapping from metric names to finite values (no NaN or infinity)",
    "torch_threads": "null or an integer >= 1",
}


def load_schedule(path: str | Path) -> dict[str, Any]:
    """Read and check a ``best_schedule.json``: its ``env``, ``seed``, ``actions`` and
    ``metrics`` (and ``torch_threads``) must have the right types before anything runs.

    :raises ScheduleFileError: one line naming the file, the key, the value and what is allowed.
    """
    p = Path(path)
    if not p.is_file():
        raise ScheduleFileError(f"schedule file {p} not found")
    try:
        doc = load_document(p, "json")
    except DocumentError as exc:
        raise ScheduleFileError(f"schedule file {exc}") from None
    if not isinstance(doc, dict):
        kind = type(doc).__name__
        raise ScheduleFileError(f"schedule file {p} must hold a JSON object, not a {kind}")
    missing = [k for k in ("env", "seed", "actions", "metrics") if k not in doc]
    if missing:
        raise ScheduleFileError(f"schedule file {p} lacks {missing}")

    def bad(key: str) -> str:
        value = repr(doc.get(key))
        value = value if len(value) <= 80 else value[:77] + "..."
        return f"schedule file {p}: key {key!r} must be {ALLOWED[key]}, got {value}"

    keys = {k: doc[k] for k in ALLOWED if k in doc}
    try:
        checked = validate_fields(_Schedule, keys, bad)
    except ValueError as exc:
        raise ScheduleFileError(str(exc)) from None
    if not checked.actions or any(not a or min(a) < 0 for a in checked.actions):
        raise ScheduleFileError(bad("actions"))
    try:
        check_seed(checked.seed)
    except ValueError:
        raise ScheduleFileError(bad("seed")) from None
    if checked.torch_threads is not None and checked.torch_threads < 1:
        raise ScheduleFileError(bad("torch_threads"))
    if any(isinstance(v, float) and not math.isfinite(v) for v in checked.metrics.values()):
        raise ScheduleFileError(bad("metrics"))  # a NaN never compares equal: no check at all
    # a setting whose default changed since the file was written keeps its old one
    doc["env"] = earlier_settings(doc["env"])
    if checked.env.get("cache_dir") is not None:
        # a file handed over does not choose where this machine writes its baselines
        doc["env"] = {**doc["env"], "cache_dir": None}
    try:
        EnvConfig.from_kwargs(**doc["env"])
    except ValueError as exc:
        raise ScheduleFileError(f"schedule file {p}: key 'env': {exc}") from None
    if len(checked.actions) > MAX_STEPS:
        raise ScheduleFileError(bad("actions"))
    return doc


def replay(doc: dict[str, Any], render_dir: Path | None = None) -> tuple[EpisodeResult, dict]:
    """Re-run the recorded actions from ``reset(seed)``; returns the episode and a
    per-metric comparison ``{name: (recorded, replayed)}``."""
    if not doc["actions"]:
        raise ScheduleFileError("schedule has no actions to replay")
    if doc.get("torch_threads"):
        torch.set_num_threads(int(doc["torch_threads"]))
    env = tnf_env.make(render_mode="rgb_array" if render_dir else None, **doc["env"])
    obs, info = env.reset(seed=doc["seed"])
    policy = ReplayPolicy(doc["actions"])
    policy.reset(env)
    total = 0.0
    for k in range(len(policy.actions)):
        obs, reward, terminated, truncated, info = env.step(policy.act(obs, info))
        total += reward
        if render_dir is not None:
            _save_frame(env.render(), Path(render_dir) / f"step_{k + 1:03d}.png")
        if terminated or truncated:
            break
    result = EpisodeResult("replay", doc["seed"], total, k + 1, doc["actions"], info)
    compared = {key: (rec, plain(info.get(key))) for key, rec in doc["metrics"].items()}
    return result, compared


def _save_frame(frame: np.ndarray, path: Path) -> None:
    from matplotlib import pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, frame)
