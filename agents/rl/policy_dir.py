"""A trained policy's directory, checked whole before any work uses it.

``compare --warm-start/--methods policy:DIR``, a training configuration's
``warm_start: policy:DIR`` and ``benchmark --run DIR`` name a directory that a command
loads only later, after it has claimed its output directory and perhaps trained for
hours. :func:`check_policy_dir` reads everything loading will read, the way loading
reads it (``config.yaml`` validated, the spaces, the model zip's JSON and weights with
``torch.load(weights_only=True)``), so a missing or unreadable file is refused in one
line up front; nothing is unpickled and no environment is built.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path

from .run_dir import (
    RunError,
    inside,
    latest_checkpoint,
    load_run_config,
    read_model_zip,
    resolve_run_dir,
)
from .spaces import SpacesError, stored_spaces

POLICY_PREFIX = "policy:"

# Set while a policy's own config.yaml is validated: its warm_start is a record of how it
# was trained (checked only for its form), and a policy naming itself must not recurse.
_NESTED: ContextVar[bool] = ContextVar("_nested_policy_check", default=False)


def policy_model(run_dir: str | Path, which: str = "best") -> tuple[Path, Path]:
    """The run a policy directory holds and the model zip a policy is loaded from.

    :param run_dir: a training run, or a search directory (its best trial).
    :param which: ``"best"`` (``best_model.zip``) or ``"latest"`` (newest checkpoint).
    :raises RunError: no run there, no such model, or a path leading out of ``run_dir``.
    """
    run = resolve_run_dir(run_dir)
    path = run / "best_model.zip" if which == "best" else latest_checkpoint(run)
    if path is None or not path.exists():
        name = "best_model.zip" if which == "best" else "checkpoint"
        raise RunError(f"no {which} model in {run} (no {name}): train first "
                       "(train_agent.py train)")
    root = Path(run_dir).resolve()  # a search's trial, or the run itself
    for p in (run, path):
        if not inside(p, root):
            raise RunError(
                f"{p} leads outside {root} (a link out of the directory): refusing to read it"
            )
    return run, path


def check_policy_dir(run_dir: str | Path) -> Path:
    """The run whose best policy ``run_dir`` holds, once every file loading reads is usable:
    ``config.yaml`` (validated), the spaces (``spaces.json`` or the zip's JSON) and
    ``best_model.zip`` (its JSON ``data`` and weights, read weights only).

    :param run_dir: a training run, a shipped policy or a search directory.
    :raises RunError: one line naming the file and what is wrong with it.
    """
    run, path = policy_model(run_dir)
    token = _NESTED.set(True)
    try:
        load_run_config(run)
    finally:
        _NESTED.reset(token)
    data, _, _ = read_model_zip(path)
    if not isinstance(data, dict):
        raise RunError(f"{path} is unreadable: its data is not a JSON object")
    try:
        stored_spaces(run, path)
    except SpacesError as exc:
        raise RunError(str(exc)) from None
    return run


def check_policy_spec(value: str, key: str) -> None:
    """Refuse ``policy:DIR`` (the value of ``key``) unless DIR holds a usable policy
    (:func:`check_policy_dir`); other values are left to the caller's own check.

    :param value: a warm start or method, e.g. ``policy:policies/digits``.
    :param key: the configuration key or flag to name in the error.
    :raises ValueError: ``KEY: 'VALUE' is not a usable policy: WHY`` on one line.
    """
    if not value.startswith(POLICY_PREFIX):
        return
    if _NESTED.get():  # a policy's record of its own warm start: only its form
        return
    try:
        check_policy_dir(value.removeprefix(POLICY_PREFIX))
    except RunError as exc:
        raise ValueError(f"{key}: {value!r} is not a usable policy: {exc}") from None
