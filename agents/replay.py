"""Replay a saved schedule (``best_schedule.json``) on a fresh environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

import tnf_env

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


def load_schedule(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ScheduleFileError(f"schedule file {p} not found")
    try:
        doc = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ScheduleFileError(f"schedule file {p} is not valid JSON: {exc}") from None
    missing = [k for k in ("env", "seed", "actions", "metrics") if k not in doc]
    if missing:
        raise ScheduleFileError(f"schedule file {p} lacks {missing}")
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
    compared = {key: (rec, _plain(info.get(key))) for key, rec in doc["metrics"].items()}
    return result, compared


def _plain(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _save_frame(frame: np.ndarray, path: Path) -> None:
    from matplotlib import pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, frame)
