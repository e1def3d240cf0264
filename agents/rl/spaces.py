"""A policy's spaces stored with its run, so it is rebuilt without its environment.

Loading a policy for prediction needs only its observation and action spaces; building
the run's environment to learn them would load (or, on a machine without it cached,
silently train) the dense baseline. ``train`` writes ``spaces.json`` next to
``config.yaml``; runs written before it are read from the plain JSON SB3 keeps in
the model zip (never its pickled entries).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

from hwmodel.arrayfile import read_member
from hwmodel.safeload import MAX_BYTES, load_document, regular_file


class SpacesError(ValueError):
    """Spaces that cannot be read: the message names the file."""


SPACES_FILE = "spaces.json"  # the policy's observation and action spaces, beside config.yaml
MAX_SPACE = 100_000  # observation features or action components


def box_of(space: gymnasium.Space) -> gymnasium.spaces.Box:
    """``space``, the ``Box`` of observations every environment here has.

    :raises TypeError: another kind of space.
    """
    if not isinstance(space, gymnasium.spaces.Box):
        raise TypeError(f"observation space {space}: allowed a gymnasium Box")
    return space


def multi_discrete_of(space: gymnasium.Space) -> gymnasium.spaces.MultiDiscrete:
    """``space``, the ``MultiDiscrete`` actions every environment here has.

    :raises TypeError: another kind of space.
    """
    if not isinstance(space, gymnasium.spaces.MultiDiscrete):
        raise TypeError(f"action space {space}: allowed a gymnasium MultiDiscrete")
    return space


def spaces_document(observation_space: gymnasium.Space, action_space: gymnasium.Space) -> dict:
    """``spaces.json``: what a policy needs to be rebuilt without its environment.

    :param observation_space: the environment's ``Box`` of observations.
    :param action_space: its ``MultiDiscrete`` actions.
    :raises TypeError: other kinds of spaces.
    """
    observation_space, action_space = box_of(observation_space), multi_discrete_of(action_space)
    return {
        "observation": {
            "shape": [int(n) for n in observation_space.shape],
            "low": float(np.min(observation_space.low)),
            "high": float(np.max(observation_space.high)),
        },
        "action": {"nvec": [int(n) for n in np.asarray(action_space.nvec).ravel()]},
    }


def _numbers(text: Any) -> list[float] | None:
    """A list of numbers from JSON, or from numpy's printout of an array (SB3's ``data``)."""
    if isinstance(text, list):
        return text
    if not isinstance(text, str):
        return None
    try:
        return [float(x) for x in text.replace("[", " ").replace("]", " ").split()]
    except ValueError:
        return None


def stored_spaces(run: Path, model_zip: Path) -> tuple[gymnasium.Space, gymnasium.Space]:
    """The spaces of the run's policy: ``run/spaces.json``, or (runs written before it
    existed) the plain JSON SB3 keeps in the model zip. Nothing is unpickled or built.

    :param run: the run directory.
    :param model_zip: the model the policy is loaded from.
    :raises RunError: neither holds usable spaces.
    """
    low: list[Any] | None
    high: list[Any] | None
    try:
        if (run / SPACES_FILE).is_file():
            doc = load_document(run / SPACES_FILE, "json")
            obs, act = doc["observation"], doc["action"]
            shape, low, high, nvec = obs["shape"], [obs["low"]], [obs["high"]], act["nvec"]
            where = run / SPACES_FILE
        else:
            with zipfile.ZipFile(regular_file(model_zip)) as zf:
                data = json.loads(read_member(zf, "data", MAX_BYTES))
            obs, act = data["observation_space"], data["action_space"]
            shape, low, high = obs["_shape"], _numbers(obs["low"]), _numbers(obs["high"])
            nvec, where = _numbers(act["nvec"]), model_zip
    except (OSError, KeyError, TypeError, ValueError, RecursionError,
            zipfile.BadZipFile) as exc:
        raise SpacesError(f"{run}: the policy's spaces are unreadable ({exc})") from None
    if not (
        isinstance(shape, list) and len(shape) == 1
        and all(isinstance(n, int) and 1 <= n <= MAX_SPACE for n in shape)
        and low and high and all(isinstance(x, (int, float)) for x in (*low, *high))
        and min(low) < max(high)
        and isinstance(nvec, list) and 1 <= len(nvec) <= MAX_SPACE
        and all(float(n).is_integer() and 1 <= n <= MAX_SPACE for n in nvec)
    ):
        raise SpacesError(
            f"{where}: the policy's spaces are not a 1-d observation box and a list of action "
            f"choices (allowed: 1 to {MAX_SPACE} features and components)"
        )
    box = gymnasium.spaces.Box(min(low), max(high), shape=(shape[0],), dtype=np.float32)
    return box, gymnasium.spaces.MultiDiscrete([int(n) for n in nvec])
