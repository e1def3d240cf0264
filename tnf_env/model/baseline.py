"""The dense baseline network: trained once per setting, then cached on disk.

The cache key hashes everything that changes the trained weights: dataset
name and a fingerprint of its training data, topology, seed and the training
recipe. Writes are atomic (temporary file + ``os.replace``) and guarded by a
file lock so parallel environment workers train a missing baseline once. A
cache entry that cannot be read or whose checksum does not match is reported
with a warning and retrained.

Training reports on the ``tnf_env.model.baseline`` logger at INFO (a start line, then one
line per epoch): silent unless a handler shows it, as the command line does
(:func:`agents.common.progress.library_progress`) when not ``--quiet``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock

from hwmodel.safeload import open_regular

from ..data.datasets import Dataset
from .network import MaskedMLP, format_topology, parse_topology
from .torch_device import generator_on, resolve_device
from .training import TrainingRecipe, evaluate, make_optimizer, to_tensors, train_epoch

CACHE_FORMAT = 1
_log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$TNF_CACHE`` if set, else platformdirs' user cache ``tnf_env`` (Linux:
    ``$XDG_CACHE_HOME/tnf_env``, default ``~/.cache/tnf_env``)."""
    from platformdirs import user_cache_path

    if os.environ.get("TNF_CACHE"):
        return Path(os.environ["TNF_CACHE"]).expanduser()
    return user_cache_path("tnf_env")


def data_fingerprint(data: Dataset) -> str:
    h = hashlib.sha256()
    for arr in (data.x_train, data.y_train):
        h.update(str(arr.shape).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


@dataclass
class Baseline:
    """A trained dense network and how well it does.

    :ivar net: the trained :class:`MaskedMLP` (all masks ones).
    :ivar spec: the settings that produced it (the cache key's contents).
    :ivar accuracy_val: accuracy on the validation split.
    :ivar accuracy_test: accuracy on the test split.
    :ivar train_seconds: wall time of the training that produced it.
    :ivar from_cache: whether this call loaded it rather than trained it.
    """

    net: MaskedMLP
    spec: dict
    accuracy_val: float
    accuracy_test: float
    train_seconds: float
    from_cache: bool = False

    @property
    def key(self) -> str:
        return spec_key(self.spec)


def spec_key(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


def _state_checksum(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode())
        h.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def atomic_torch_save(obj: object, path: Path) -> None:
    """Write ``obj`` to ``path`` so a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def train_baseline(
    data: Dataset,
    topology: Sequence[int],
    seed: int = 0,
    recipe: TrainingRecipe | None = None,
    progress: Callable[[int, float, float], None] | None = None,
    device: torch.device | str = "cpu",
) -> Baseline:
    """Train a dense :class:`MaskedMLP` on ``data`` with ``recipe`` (no cache).

    :param progress: called after every epoch with (epoch, train loss, val accuracy).
    :param device: torch device to train on (the network is returned on it).
    """
    device = resolve_device(device)
    recipe = recipe or TrainingRecipe()
    topology = parse_topology(topology)
    _check_topology(data, topology)
    net = MaskedMLP(topology, dropout=recipe.dropout, init_scale=recipe.init_scale, seed=seed)
    net.to(device)
    xt, yt = to_tensors(data.x_train, data.y_train, device)
    xv, yv = to_tensors(data.x_val, data.y_val, device)
    xs, ys = to_tensors(data.x_test, data.y_test, device)
    gen = generator_on(device, int(seed) + 1)
    opt = make_optimizer(net, recipe)
    t0 = time.perf_counter()
    for epoch in range(recipe.epochs):
        loss = train_epoch(
            net, opt, xt, yt, recipe.batch_size, gen, augment_shift=recipe.augment_shift
        )
        if progress is not None:
            progress(epoch, loss, evaluate(net, xv, yv)[0])
        else:  # no validation pass here: the log must not add work
            _log.info("  dense baseline epoch %d/%d: loss %.4f", epoch + 1, recipe.epochs, loss)
    seconds = time.perf_counter() - t0
    return Baseline(
        net=net,
        spec=baseline_spec(data, topology, seed, recipe, device),
        accuracy_val=evaluate(net, xv, yv)[0],
        accuracy_test=evaluate(net, xs, ys)[0],
        train_seconds=seconds,
    )


def baseline_spec(
    data: Dataset,
    topology: Sequence[int],
    seed: int,
    recipe: TrainingRecipe,
    device: torch.device | str = "cpu",
) -> dict:
    spec = {
        "format": CACHE_FORMAT,
        "dataset": data.name,
        "data": data_fingerprint(data),
        "topology": format_topology(topology),
        "seed": int(seed),
        "recipe": recipe.to_dict(),
    }
    kind = torch.device(device).type
    if kind != "cpu":
        # Another device's kernels round differently: its networks are other networks.
        spec["device"] = kind
    return spec


def _check_topology(data: Dataset, topology: Sequence[int]) -> None:
    if topology[0] != data.n_inputs or topology[-1] != data.n_classes:
        raise ValueError(
            f"topology {format_topology(topology)} does not fit dataset {data.name!r}: "
            f"it needs {data.n_inputs} inputs and {data.n_classes} outputs"
        )


def _load_entry(path: Path, spec: dict) -> Baseline | None:
    """The cached baseline at ``path``, or None (with a warning) if it is unusable."""
    try:
        with open_regular(path) as fh:  # a FIFO in the cache would block a plain open
            entry = torch.load(fh, map_location="cpu", weights_only=True)
        if entry.get("spec") != spec:
            raise ValueError("its settings do not match the requested ones")
        if _state_checksum(entry["state_dict"]) != entry["checksum"]:
            raise ValueError("its weights do not match their checksum")
        recipe = TrainingRecipe(**spec["recipe"])
        net = MaskedMLP(
            parse_topology(spec["topology"]), dropout=recipe.dropout, init_scale=recipe.init_scale
        )
        net.load_state_dict(entry["state_dict"])
        net.eval()
        m = entry["metrics"]
        return Baseline(
            net, spec, m["accuracy_val"], m["accuracy_test"], m["train_seconds"], from_cache=True
        )
    except Exception as exc:  # any unreadable entry is retrained, never fatal
        warnings.warn(
            f"baseline cache entry {path} is corrupt or stale ({type(exc).__name__}: {exc}); "
            "retraining it",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


def get_baseline(
    data: Dataset,
    topology: Sequence[int] | str,
    seed: int = 0,
    recipe: TrainingRecipe | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: Callable[[int, float, float], None] | None = None,
    device: torch.device | str = "cpu",
) -> Baseline:
    """Load the dense baseline for these settings from the cache, training it if needed.

    :param data: the dataset (its training split is fingerprinted into the key).
    :param topology: layer widths, e.g. ``"784-1200-1200-10"``.
    :param seed: seed of initialisation, shuffling and dropout.
    :param recipe: training recipe (default: the paper's).
    :param cache_dir: where entries live (default :func:`default_cache_dir`).
    :param progress: per-epoch callback, only called when training.
    :param device: torch device to train on and to return the network on; a baseline
        trained on a GPU is cached apart from the CPU one.

    >>> from tnf_env.data.datasets import load_dataset
    >>> b = get_baseline(load_dataset("digits"), "64-10", recipe=TrainingRecipe(epochs=1))
    >>> 0.0 <= b.accuracy_test <= 1.0
    True
    """
    recipe = recipe or TrainingRecipe()
    topology = parse_topology(topology)
    _check_topology(data, topology)
    device = resolve_device(device)
    spec = baseline_spec(data, topology, seed, recipe, device)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = root / "baselines" / f"{spec_key(spec)}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.with_suffix(".lock")):  # portable (fcntl on POSIX, msvcrt on Windows)
        if path.exists():
            cached = _load_entry(path, spec)
            if cached is not None:
                cached.net.to(device)
                return cached
        _log.info("training the dense baseline (%s %s, seed %d, %d epochs); cached in %s",
                  data.name, format_topology(topology), seed, recipe.epochs, path.parent)
        base = train_baseline(data, topology, seed, recipe, progress, device)
        _log.info("dense baseline trained in %.0f s: validation accuracy %.4f",
                  base.train_seconds, base.accuracy_val)
        state = {k: v.detach().cpu().clone() for k, v in base.net.state_dict().items()}
        entry = {
            "spec": spec,
            "state_dict": state,
            "checksum": _state_checksum(state),
            "metrics": {
                "accuracy_val": base.accuracy_val,
                "accuracy_test": base.accuracy_test,
                "train_seconds": base.train_seconds,
            },
        }
        atomic_torch_save(entry, path)
        return base
