"""Learn at a cheap fidelity, deliver at full: re-run a schedule found at a level.

A run trained at ``fidelity=low`` (or with any of the level's knobs set) finds its
best schedule on cheaper episodes; what it delivers, and what every table reports, is
that schedule's actions re-run from the same seed at ``full``. The re-run replaces
``best_schedule.json`` (so ``replay`` reproduces the full-fidelity metrics) and keeps
what the level measured under ``trained_at``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tnf_env.fidelity import KNOBS
from tnf_env.state import state_document

from ..common.outputs import atomic_write
from .replay import load_schedule, replay

SCHEDULE_FILE = "best_schedule.json"


def at_full(env: dict[str, Any]) -> dict[str, Any]:
    """``env`` at ``full`` fidelity: the level and its knobs dropped."""
    return {k: v for k, v in env.items() if k != "fidelity" and k not in KNOBS}


def is_full(env: dict[str, Any]) -> bool:
    """Whether ``env`` runs full-fidelity episodes (no level, no knob set)."""
    return env.get("fidelity", "full") == "full" and all(env.get(k) is None for k in KNOBS)


def deliver_at_full(run: Path) -> dict[str, Any] | None:
    """Re-run the best schedule of ``run`` at full fidelity and make it the run's
    ``best_schedule.json``; None when it was found at full already (nothing to do) or
    the run has no schedule yet.

    :return: the new document.
    """
    path = Path(run) / SCHEDULE_FILE
    if not path.is_file():
        return None
    doc = load_schedule(path)
    if is_full(doc["env"]) or "trained_at" in doc:
        return None
    full_env = at_full(doc["env"])
    # the same actions from the same seed; an episode that ends sooner keeps what it took
    result, _ = replay({**doc, "env": full_env}, to_end=True)
    kept = {k: v for k, v in doc.items() if k in ("config", "timesteps", "mean_eval_return",
                                                  "episodes")}
    new = state_document(full_env, doc["seed"], result.actions, result.episode_return,
                         result.final_info, **kept, trained_at={
                             "env": doc["env"], "episode_return": doc.get("episode_return"),
                             "metrics": doc["metrics"], "actions": doc["actions"]})
    atomic_write(path, json.dumps(new, indent=2))
    return new
