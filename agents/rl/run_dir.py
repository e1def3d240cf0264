"""A training run's directory: its lock, its configuration, its checkpoints, and models read
back weights only.

A run directory holds ``config.yaml`` (the resolved configuration),
``checkpoints/`` (every ``checkpoint_every`` steps), ``tb/`` (TensorBoard),
``best_model.zip`` and ``best_schedule.json`` (the best deterministic episode
seen by the periodic evaluation). A process that writes a run directory holds its
``.lock`` (a second process fails at once). Models are read back weights only
(:func:`load_weights`): SB3's ``load`` (``PPO.load``, ``A2C.load``) unpickles parts of
the zip, so a crafted file could run code.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import yaml

from hwmodel.arrayfile import read_member
from hwmodel.safeload import MAX_BYTES, DocumentError, load_document, regular_file
from tnf_env.settings import earlier_settings, explicit_settings

from ..common.outputs import OutputError, atomic_write, dir_lock
from .config import ConfigError, TrainConfig, config_from_dict

if TYPE_CHECKING:
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm


LOCK_NAME = ".lock"  # held by the process that writes a run directory


class RunError(ValueError):
    """A run directory that cannot be used as asked."""


class MisfitError(RunError):
    """A saved model whose spaces or networks differ from the environment's."""


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint with the most timesteps in ``run_dir/checkpoints`` (None if none)."""
    found = []
    for p in (run_dir / "checkpoints").glob("rl_model_*_steps.zip"):
        m = re.fullmatch(r"rl_model_(\d+)_steps\.zip", p.name)
        if m:
            found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


@contextmanager
def run_dir_lock(run: Path) -> Iterator[None]:
    """Hold ``run/.lock`` while this process writes the run; a second process fails at once.
    Passes inside a command's claim of the same directory (:func:`agents.common.outputs.claim_dir`).

    :param run: an existing run directory.
    """
    try:
        with dir_lock(run, "run directory"):
            yield
    except OutputError as exc:
        raise RunError(str(exc)) from None


def load_run_config(run: Path, own: bool = False) -> TrainConfig:
    """The validated configuration in ``run/config.yaml``.

    :param run: a run directory.
    :param own: the run this command continues (``train --resume``): its ``env.cache_dir``
        is kept. Otherwise (a run read as input: a shipped policy, ``benchmark --run``)
        the file does not choose where this machine writes baselines: the default cache.
    """
    try:
        saved = load_document(run / "config.yaml", "yaml")
        if not isinstance(saved, dict):
            raise ConfigError("it is not a mapping of keys to values")
        env = saved.get("env")
        if isinstance(env, dict):
            # a setting whose default changed since the run was written keeps its old one
            env = earlier_settings(env)
            saved = {**saved, "env": env}
        if not own and isinstance(env, dict) and env.get("cache_dir") is not None:
            # a file handed over does not choose where this machine writes its baselines
            saved = {**saved, "env": {**env, "cache_dir": None}}
        return config_from_dict(saved)
    except (ConfigError, DocumentError) as exc:
        raise RunError(f"{run}: its config.yaml is unusable: {exc}") from None


def refuse_existing_run(out: Path) -> None:
    if (out / "config.yaml").exists() or latest_checkpoint(out) is not None:
        raise RunError(
            f"{out} already holds a run: pass --resume {out} to continue it, "
            "or choose another --out"
        )


@contextmanager
def new_run_dir(cfg: TrainConfig, out: Path) -> Iterator[None]:
    """Create and lock ``out`` for a new run and write its ``config.yaml``.

    Called only once the environment has been built, so a failed start leaves
    nothing behind. An existing empty directory (a search trial's) is taken; the
    check for a run already there is repeated under the lock, so of two
    processes starting at once exactly one gets the directory.
    """
    out.mkdir(parents=True, exist_ok=True)
    with run_dir_lock(out):
        refuse_existing_run(out)
        doc = cfg.to_dict()
        doc["env"] = explicit_settings(doc["env"])  # a later default change cannot move it
        atomic_write(out / "config.yaml", yaml.safe_dump(doc, sort_keys=False))
        yield


@contextmanager
def existing_run_dir(out: Path) -> Iterator[TrainConfig]:
    """Lock a run directory to resume it; yields its own configuration."""
    if not (out / "config.yaml").is_file():
        raise RunError(f"--resume {out}: no run there (no config.yaml)")
    with run_dir_lock(out):
        yield load_run_config(out, own=True)


def resolve_run_dir(path: str | Path) -> Path:
    """A training run directory, or the best trial of a ``search`` directory.

    A search's ``results.json`` may name only trials inside the search directory:
    one pointing elsewhere would have a command load a model from anywhere.

    :param path: the run or search directory.
    """
    run = Path(path)
    if (run / "config.yaml").is_file():
        return run
    try:
        doc = load_document(run / "results.json", "json")
    except DocumentError:
        doc = None
    doc = doc if isinstance(doc, dict) else {}
    trials = doc.get("trials") if isinstance(doc.get("trials"), list) else []
    named = [doc.get("best_run"), *(t.get("run_dir") for t in trials if isinstance(t, dict))]
    root = run.resolve()
    for p in named:
        if p is not None and (not isinstance(p, str) or not inside(root / p, root)):
            raise RunError(
                f"{run / 'results.json'} names a trial outside its search directory ({p!r}): "
                "refusing to read it"
            )
    best = doc.get("best_run")
    if best and (root / best / "config.yaml").is_file():
        return root / best
    raise RunError(f"{run}: neither a training run (config.yaml) nor a search with a best run")


def inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def best_eval_return(out: Path) -> float:
    try:
        return float(json.loads((out / "best_schedule.json").read_text())["mean_eval_return"])
    except (OSError, ValueError, KeyError):
        return -np.inf


# Counters of ``data`` restored with the weights; plain JSON integers in SB3's format.
_COUNTERS = ("num_timesteps", "_n_updates", "_episode_num")


def load_weights(model: OnPolicyAlgorithm, path: Path, optimizer: bool = False) -> None:
    """Load an SB3 model zip's weights into ``model`` without unpickling anything.

    ``policy.pth`` (and ``policy.optimizer.pth``) are read with
    ``torch.load(weights_only=True)``, which refuses every object but tensors and
    plain containers; of ``data`` only JSON is parsed (its pickled entries, such as
    ``lr_schedule``, are never decoded): the spaces are checked against
    ``model``'s and the step counters restored. Everything else comes from the
    run's ``config.yaml``, through ``model``.

    :param model: a model built by the run's learner (:meth:`.learners.Learner.build`)
        for the run's environment.
    :param path: the zip written by SB3's ``save``.
    :param optimizer: also restore Adam's state (to resume training).
    :raises RunError: the zip is unreadable or does not fit ``model``.
    """
    data, weights, adam = read_model_zip(path, model.device, optimizer)
    misfit = _spaces_misfit(data, model) if isinstance(data, dict) else "no data"
    if misfit is None:
        try:
            model.policy.load_state_dict(weights)
            if adam is not None:
                model.policy.optimizer.load_state_dict(adam)
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            misfit = str(exc).strip().splitlines()[0]
    if misfit is not None:
        raise MisfitError(f"checkpoint {path} does not fit this environment: {misfit}")
    for key in _COUNTERS:
        value = data.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RunError(f"{path}: its {key} is not a count: {value!r}")
        setattr(model, key, value)


def read_model_zip(path: Path, device: Any = "cpu", optimizer: bool = False) -> tuple[Any, ...]:
    """An SB3 model zip's JSON ``data``, its policy weights and (``optimizer``) Adam's state,
    read without unpickling anything (see :func:`load_weights`).

    :param path: the zip written by SB3's ``save``.
    :param device: where the tensors are loaded.
    :param optimizer: also read ``policy.optimizer.pth`` (else None in its place).
    :raises RunError: one line naming ``path``: not a regular file, not a zip, a member
        missing or holding anything but tensors and plain containers.
    """
    try:
        with zipfile.ZipFile(regular_file(path)) as zf:
            data = json.loads(read_member(zf, "data", MAX_BYTES))
            weights = _read_tensors(zf, "policy.pth", device)
            adam = _read_tensors(zf, "policy.optimizer.pth", device) if optimizer else None
    except DocumentError as exc:  # not a regular file
        raise RunError(str(exc)) from None
    except RecursionError:
        raise RunError(f"{path} is unreadable: its data is nested too deeply") from None
    except pickle.UnpicklingError:  # torch's own message suggests weights_only=False: no
        raise RunError(
            f"{path} is unreadable: it holds objects other than tensors, "
            "refused because loading them could run code"
        ) from None
    except (OSError, KeyError, ValueError, RuntimeError, zipfile.BadZipFile) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise RunError(f"{path} is unreadable: {type(exc).__name__}: {first}") from None
    return data, weights, adam


def _read_tensors(zf: zipfile.ZipFile, name: str, device: Any) -> Any:
    return torch.load(io.BytesIO(read_member(zf, name)), map_location=device, weights_only=True)


def _spaces_misfit(data: dict, model: OnPolicyAlgorithm) -> str | None:
    """How the spaces recorded in ``data`` (as plain JSON) differ from ``model``'s, or None."""
    obs, act = data.get("observation_space"), data.get("action_space")
    shape = obs.get("_shape") if isinstance(obs, dict) else None
    if shape is not None and list(shape) != list(model.observation_space.shape):
        current = list(model.observation_space.shape)
        return f"its observations have shape {shape}, the environment's {current}"
    nvec = act.get("nvec") if isinstance(act, dict) else None
    now = getattr(model.action_space, "nvec", None)
    if isinstance(nvec, str) and now is not None:
        try:
            saved = [int(x) for x in nvec.strip("[]").split()]
        except ValueError:  # not numpy's printout: the weights' shapes still get checked
            return None
        current = [int(x) for x in np.asarray(now).ravel()]
        if saved != current:
            return f"its actions choose among {saved}, the environment's among {current}"
    return None


def zip_steps(path: Path) -> int | None:
    """``num_timesteps`` recorded in an SB3 model zip's JSON ``data`` (None: unreadable)."""
    try:
        with zipfile.ZipFile(regular_file(path)) as zf:  # a FIFO would block
            steps = json.loads(read_member(zf, "data", MAX_BYTES)).get("num_timesteps")
    except (OSError, KeyError, ValueError, AttributeError, zipfile.BadZipFile):
        return None
    return steps if isinstance(steps, int) and not isinstance(steps, bool) else None


def intact_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(regular_file(path)) as zf:
            return zf.testzip() is None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False
