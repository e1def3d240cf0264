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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hwmodel.clusters import Cluster


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

    def add(self, delivered, seed: int, method: str, crossbar_size: int, row: dict) -> str:
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
        (self.root / "manifest.json").write_text(json.dumps({"networks": self.entries},
                                                            indent=1))
        return stem


def save_network(stem: Path, weights, masks, clusters) -> None:
    """Write ``stem.npz`` and ``stem_clusters.json``."""
    arrays = {}
    for i, (w, m) in enumerate(zip(weights, masks, strict=True)):
        arrays[f"weight{i}"] = np.asarray(w, dtype=np.float32)
        arrays[f"mask{i}"] = np.asarray(m).astype(np.uint8)
    np.savez_compressed(stem.with_suffix(".npz"), **arrays)
    doc = {"clusters": [[c.to_dict() for c in layer] for layer in clusters]}
    Path(f"{stem}_clusters.json").write_text(json.dumps(doc))


def load_network(stem: str | Path) -> SavedNetwork:
    """Read a network :func:`save_network` wrote (``stem`` without extension)."""
    stem = Path(stem)
    with np.load(stem.with_suffix(".npz"), allow_pickle=False) as z:
        n = len([k for k in z.files if k.startswith("weight")])
        weights = [z[f"weight{i}"] for i in range(n)]
        masks = [z[f"mask{i}"].astype(bool) for i in range(n)]
    doc = json.loads(Path(f"{stem}_clusters.json").read_text())
    clusters = [[Cluster.from_dict(c) for c in layer] for layer in doc["clusters"]]
    return SavedNetwork(weights, masks, clusters)
