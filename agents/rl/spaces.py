"""A policy's spaces stored with its run, so it is rebuilt without its environment.

Loading a policy for prediction needs only its observation and action spaces; building
the run's environment to learn them would load (or, on a machine without it cached,
silently train) the dense baseline. ``train`` writes ``spaces.json`` next to
``config.yaml``; runs written before it are read from the plain JSON SB3 keeps in
the model zip (never its pickled entries).
"""

from __future__ import annotations

import json
import math
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


def spaces_document(observation_space: gymnasium.Space, action_space: gymnasium.Space) -> dict:
    """``spaces.json``: what a policy needs to be rebuilt without its environment.

    :param observation_space: the environment's ``Box`` of observations.
    :param action_space: its ``MultiDiscrete`` actions.
    """
    return {
        "observation": {
            "shape": [int(n) for n in observation_space.shape],
            "low": float(np.min(observation_space.low)),
            "high": float(np.max(observation_space.high)),
        },
        "action": {"nvec": [int(n) for n in np.asarray(action_space.nvec).ravel()]},
    }


# spaces.json's keys: each section's own keys (all required, no others)
SPACES_KEYS = {"observation": ("shape", "low", "high"), "action": ("nvec",)}


def _section(doc: Any, where: Path, name: str | None, keys: Any) -> dict:
    """``doc`` (the document, or its section ``name``) as a mapping with exactly ``keys``.

    :raises SpacesError: naming the file, the key and the keys allowed.
    """
    at = f" key {name!r}" if name else ""
    allowed = ", ".join(keys)
    if not isinstance(doc, dict):
        raise SpacesError(f"{where}:{at} must be a JSON object with keys {allowed}")
    for k in doc:
        if k not in keys:
            within = f" in {name!r}" if name else ""
            raise SpacesError(f"{where}: unknown key {k!r}{within} (allowed: {allowed})")
    for k in keys:
        if k not in doc:
            within = f" from {name!r}" if name else ""
            raise SpacesError(f"{where}: key {k!r} missing{within} (required: {allowed})")
    return doc


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


def _finite(x: Any) -> bool:
    """A number that is not a boolean, NaN or infinite (an int of any size is finite)."""
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or isinstance(x, float) and math.isfinite(x)


def _check(where: Path, key: str, values: Any, low: int, high: int, allowed: str,
           strict: bool = True) -> None:
    """``values``: a list of ``low`` to ``high`` integers in ``[1, MAX_SPACE]``.

    :param strict: only integers (not ``strict``: whole floats too, as numpy's printout of
        an array in an SB3 zip's JSON gives them).

    :raises SpacesError: naming the file, the key, the value and what is allowed.
    """
    ok = (isinstance(values, list) and low <= len(values) <= high
          and all(_finite(n) and (isinstance(n, int) or not strict and float(n).is_integer())
                  and 1 <= n <= MAX_SPACE for n in values))
    if not ok:
        shown = repr(values) if len(repr(values)) <= 60 else repr(values)[:57] + "..."
        raise SpacesError(f"{where}: key {key!r} must be a list of {allowed}, got {shown}")


def stored_spaces(run: Path, model_zip: Path) -> tuple[gymnasium.Space, gymnasium.Space]:
    """The spaces of the run's policy: ``run/spaces.json``, or (runs written before it
    existed) the plain JSON SB3 keeps in the model zip. Nothing is unpickled or built.

    :param run: the run directory.
    :param model_zip: the model the policy is loaded from.
    :raises SpacesError: neither holds usable spaces (one line naming the file and key).
    """
    if (run / SPACES_FILE).is_file():
        where = run / SPACES_FILE
        try:
            doc = load_document(where, "json")
        except (OSError, ValueError, RecursionError) as exc:
            raise SpacesError(f"{where}: unreadable ({exc})") from None
        _section(doc, where, None, SPACES_KEYS)
        obs, act = (_section(doc[k], where, k, SPACES_KEYS[k]) for k in SPACES_KEYS)
        shape, low, high, nvec = obs["shape"], [obs["low"]], [obs["high"]], act["nvec"]
    else:
        try:
            with zipfile.ZipFile(regular_file(model_zip)) as zf:
                data = json.loads(read_member(zf, "data", MAX_BYTES))
            obs, act = data["observation_space"], data["action_space"]
            shape, low, high = obs["_shape"], _numbers(obs["low"]), _numbers(obs["high"])
            nvec, where = _numbers(act["nvec"]), model_zip
        except KeyError as exc:
            raise SpacesError(f"{model_zip}: the policy's spaces are unreadable: its JSON data "
                              f"has no key {exc}") from None
        except (OSError, TypeError, ValueError, RecursionError, zipfile.BadZipFile) as exc:
            raise SpacesError(f"{model_zip}: the policy's spaces are unreadable from its JSON "
                              f"data ({type(exc).__name__}: {exc})") from None
    _check(where, "observation.shape", shape, 1, 1, f"one integer in [1, {MAX_SPACE}]")
    _check(where, "action.nvec", nvec, 1, MAX_SPACE,
           f"1 to {MAX_SPACE} integers in [1, {MAX_SPACE}]", strict=where != model_zip)
    for key, bound in (("observation.low", low), ("observation.high", high)):
        if not (isinstance(bound, list) and bound and all(_finite(x) for x in bound)):
            raise SpacesError(f"{where}: key {key!r} must be a finite number, got {bound!r:.60}")
    if not min(low) < max(high):
        raise SpacesError(f"{where}: key 'observation.low' ({min(low)}) must be below "
                          f"'observation.high' ({max(high)})")
    box = gymnasium.spaces.Box(min(low), max(high), shape=(shape[0],), dtype=np.float32)
    return box, gymnasium.spaces.MultiDiscrete([int(n) for n in nvec])
