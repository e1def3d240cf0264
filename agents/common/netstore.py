"""Save and load the networks a ``reproduce`` run delivers (``--save-networks DIR``).

Plain files, no pickles, so a saved network can be re-costed or re-evaluated
later (for example under another hardware model) without retraining:

- ``s{seed}_{tag}.npz``: ``weight{i}`` (float32, outputs x inputs, already
  masked) and ``mask{i}`` (uint8 0/1) per weight layer, input layer first;
- ``s{seed}_{tag}_clusters.json``: ``{"clusters": [[{"outputs": [...],
  "inputs": [...]}, ...] per layer]}``;
- ``manifest.json``: per row of the run (seed, method, crossbar size) the file
  stem holding its network and the row itself (accuracies, costs at save time).

A network several rows share (the original, and pruning or paper runs that
tuning chose for several crossbar sizes) is written once.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hwmodel.arrayfile import ArrayFileError, check_npz
from hwmodel.clusters import Cluster, clusters_from_document
from hwmodel.safeload import DocumentError, confined, load_document

from .outputs import atomic_write


@dataclass
class SavedNetwork:
    """A network read back from a store: weights, masks and clusters per layer."""

    weights: list[np.ndarray]
    masks: list[np.ndarray]
    clusters: list[list[Cluster]]


class NetworkStore:
    """Writes delivered networks and a manifest into ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._written: dict[int, str] = {}  # id(delivered) -> file stem
        self.entries: list[dict[str, Any]] = []

    def keep_seeds(self, seeds: set[int]) -> None:
        """Continue a store a stopped run left: keep its manifest's entries of ``seeds``
        (the finished ones; a seed cut short runs again and is written again)."""
        path = self.root / "manifest.json"
        if path.is_file():
            entries = load_document(path, "json").get("networks", [])
            self.entries = [e for e in entries if e.get("seed") in seeds]

    def add(self, delivered, seed: int, method: str, crossbar_size: int | None,
            row: dict) -> str:
        """Record the network of one result row; write it unless already written."""
        key = id(delivered)
        stem = self._written.get(key)
        if stem is None:
            tag = re.sub(r"[^a-z0-9]+", "-", method.lower()).strip("-")
            stem = f"s{seed}_{tag}_N{crossbar_size}"
            save_network(self.root / stem, delivered.net.weights_numpy(),
                         delivered.net.masks_numpy(), delivered.clusters)
            self._written[key] = stem
        self.entries.append(
            {"seed": seed, "method": method, "crossbar_size": crossbar_size, "file": stem,
             "row": row}
        )
        atomic_write(self.root / "manifest.json", json.dumps({"networks": self.entries},
                                                              indent=1))
        return stem


def save_network(stem: Path, weights, masks, clusters) -> None:
    """Write ``stem.npz`` and ``stem_clusters.json``."""
    arrays: dict[str, Any] = {}  # numpy's stubs type ``**arrays`` against ``allow_pickle``
    for i, (w, m) in enumerate(zip(weights, masks, strict=True)):
        arrays[f"weight{i}"] = np.asarray(w, dtype=np.float32)
        arrays[f"mask{i}"] = np.asarray(m).astype(np.uint8)
    np.savez_compressed(stem.with_suffix(".npz"), **arrays)
    doc = {"clusters": [[c.to_dict() for c in layer] for layer in clusters]}
    Path(f"{stem}_clusters.json").write_text(json.dumps(doc))


class SavedNetworkError(ValueError):
    """A saved network that cannot be used: the message names the file, the entry and why."""


MAX_LAYERS = 64
MAX_NETWORK_BYTES = 2**31  # the npz is read into memory


def load_saved_network(stem: str | Path) -> SavedNetwork:
    """Read a network :func:`save_network` wrote (``stem`` without extension), checked:
    finite float weights, 0/1 masks of the same shapes, consecutive layers that chain, and
    clusters whose rows and columns lie inside their layer. Object arrays (pickles) in the
    npz are refused, never loaded.

    :param stem: the files' path without extension.
    :raises SavedNetworkError: one line naming the file, the entry and what is allowed.
    """
    stem = Path(stem)
    npz = stem.with_suffix(".npz")
    try:
        check_npz(npz)  # a regular file whose headers fit the limits, before any allocation
        if npz.stat().st_size > MAX_NETWORK_BYTES:
            raise SavedNetworkError(f"{npz}: larger than {MAX_NETWORK_BYTES} bytes")
        with np.load(npz, allow_pickle=False) as z:
            names = set(z.files)
            n = len([k for k in names if k.startswith("weight")])
            expected = {f"{k}{i}" for i in range(n) for k in ("weight", "mask")}
            if not 1 <= n <= MAX_LAYERS or names != expected:
                raise SavedNetworkError(
                    f"{npz}: holds {sorted(names)[:8]}; allowed: weight0, mask0, ... weight<k>, "
                    f"mask<k> for 1 to {MAX_LAYERS} layers"
                )
            weights = [z[f"weight{i}"] for i in range(n)]
            masks = [z[f"mask{i}"] for i in range(n)]
    except SavedNetworkError:
        raise
    except ArrayFileError as exc:
        raise SavedNetworkError(str(exc)) from None
    except ValueError as exc:  # numpy: "Object arrays cannot be loaded when allow_pickle=False"
        raise SavedNetworkError(
            f"{npz}: {' '.join(str(exc).split())} (allowed: numeric arrays only)"
        ) from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise SavedNetworkError(f"{npz}: unreadable ({type(exc).__name__}: {exc})") from None
    for i, (w, m) in enumerate(zip(weights, masks, strict=True)):
        if w.ndim != 2 or w.dtype.kind != "f":
            raise SavedNetworkError(f"{npz}: weight{i} must be a 2-d float array, got "
                                   f"{w.dtype} of shape {w.shape}")
        if not np.isfinite(w).all():
            raise SavedNetworkError(f"{npz}: weight{i} holds NaN or infinite values "
                                   "(allowed: finite numbers)")
        if m.shape != w.shape or m.dtype.kind not in "biu" or not np.isin(m, (0, 1)).all():
            raise SavedNetworkError(
                f"{npz}: mask{i} must be a 0/1 array of weight{i}'s shape {w.shape}, got "
                f"{m.dtype} of shape {m.shape}"
            )
        if i and w.shape[1] != weights[i - 1].shape[0]:
            raise SavedNetworkError(
                f"{npz}: weight{i} takes {w.shape[1]} inputs but weight{i - 1} gives "
                f"{weights[i - 1].shape[0]} outputs"
            )
    clusters_file = Path(f"{stem}_clusters.json")
    try:
        doc = load_document(clusters_file, "json")
        if not isinstance(doc, dict):  # save_network writes the mapping, never the bare list
            raise ValueError(f"expected a mapping, got a {type(doc).__name__}")
        clusters = clusters_from_document(doc, len(weights))
    except ValueError as exc:  # DocumentError is one
        raise SavedNetworkError(
            f"{clusters_file}: not a clusters file ({' '.join(str(exc).split())[:200]}); "
            'allowed: {"clusters": [[{"outputs": [...], "inputs": [...]}, ...] per layer]}'
        ) from None
    for i, (layer, w) in enumerate(zip(clusters, weights, strict=True)):
        for c in layer:
            if (c.outputs.size and c.outputs.max() >= w.shape[0]) or (
                c.inputs.size and c.inputs.max() >= w.shape[1]
            ):
                raise SavedNetworkError(
                    f"{clusters_file}: a cluster of layer {i} lies outside the layer (allowed: "
                    f"outputs < {w.shape[0]}, inputs < {w.shape[1]})"
                )
    return SavedNetwork(weights, [m.astype(bool) for m in masks], clusters)


ENTRY_KEYS = ("seed", "method", "crossbar_size", "file", "row")  # a manifest entry's keys


def load_manifest(root: str | Path) -> list[dict[str, Any]]:
    """The entries of ``root/manifest.json``, each ``file`` confined to ``root``.

    :param root: a ``--save-networks`` directory.
    :raises SavedNetworkError: an unreadable manifest, or an entry naming a file outside.
    """
    root = Path(root)
    try:
        doc = load_document(root / "manifest.json", "json")
        if isinstance(doc, dict) and set(doc) - {"networks"}:
            extra = sorted(map(str, set(doc) - {"networks"}))[0]
            raise TypeError(f"unknown key {extra!r} (allowed: networks)")
        entries = doc["networks"]
        if not isinstance(entries, list):
            raise TypeError("'networks' is not a list")
        for k, e in enumerate(entries):
            if isinstance(e, dict) and set(e) - set(ENTRY_KEYS):
                extra = sorted(map(str, set(e) - set(ENTRY_KEYS)))[0]
                raise TypeError(f"entry {k}: unknown key {extra!r} (allowed: "
                                f"{', '.join(ENTRY_KEYS)})")
            for key, kind in (("file", str), ("method", str), ("crossbar_size", int)):
                if not isinstance(e.get(key), kind):
                    raise TypeError(f"entry {k}: {key}={e.get(key)!r} is not a {kind.__name__}")
            confined(root, e["file"] + ".npz", f"entry {k}: file")
    except (DocumentError, KeyError, TypeError, AttributeError) as exc:
        raise SavedNetworkError(f"{root / 'manifest.json'}: {exc}") from None
    return entries
