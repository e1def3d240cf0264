"""A cluster: a dense block of one layer's connectivity, outputs x inputs.

Layers follow torch's ``nn.Linear`` convention: a weight or mask matrix is
``(n_outputs, n_inputs)``, so a cluster names its rows (``outputs``) and its
columns (``inputs``). Both index arrays are sorted, unique and non-negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CLUSTER_KEYS = frozenset({"outputs", "inputs"})  # a cluster object's keys, exactly
# Indices a cluster may hold: no layer the project maps is nearly this wide, and a larger
# integer (one beyond int64 above all) would fail inside numpy's conversion, not here.
INDEX_LIMIT = 2**31


@dataclass(frozen=True, eq=False)
class Cluster:
    """A block ``outputs x inputs`` of a layer's mask, mapped as one unit.

    :param outputs: row indices (output neurons) of the block.
    :param inputs: column indices (input neurons) of the block.

    >>> c = Cluster([3, 1], [0, 2])
    >>> c.outputs.tolist(), c.inputs.tolist(), c.shape
    ([1, 3], [0, 2], (2, 2))
    """

    outputs: np.ndarray
    inputs: np.ndarray

    def __post_init__(self) -> None:
        for name in ("outputs", "inputs"):
            try:
                idx = np.unique(np.asarray(getattr(self, name), dtype=np.int64).ravel())
            except (OverflowError, TypeError, ValueError):
                raise ValueError(
                    f"Cluster.{name} must hold integer indices in [0, 2**31), got "
                    f"{' '.join(repr(getattr(self, name)).split())[:120]}"
                ) from None
            if idx.size == 0:
                raise ValueError(f"Cluster.{name} is empty: a cluster needs at least one index")
            if idx[0] < 0 or idx[-1] >= INDEX_LIMIT:
                raise ValueError(
                    f"Cluster.{name} has the index {idx[0] if idx[0] < 0 else idx[-1]} "
                    "(allowed: integers in [0, 2**31))"
                )
            idx.setflags(write=False)
            object.__setattr__(self, name, idx)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.outputs.size), int(self.inputs.size)

    @property
    def size(self) -> int:
        return int(self.outputs.size * self.inputs.size)

    def block(self, matrix: np.ndarray) -> np.ndarray:
        """The sub-matrix of ``matrix`` (outputs x inputs) this cluster covers."""
        return matrix[np.ix_(self.outputs, self.inputs)]

    def density(self, mask: np.ndarray) -> float:
        """Fraction of the block's cells that are non-zero in ``mask`` (the quality Q)."""
        return float(np.count_nonzero(self.block(mask))) / self.size

    def to_dict(self) -> dict:
        return {"outputs": self.outputs.tolist(), "inputs": self.inputs.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Cluster:
        """The cluster a JSON object ``{"outputs": [...], "inputs": [...]}`` describes.

        :param d: the object, exactly the keys ``outputs`` and ``inputs``; each list must
            hold distinct whole numbers (JSON ``0.5`` or ``true`` would otherwise be
            silently cast to an index, a repeated one silently dropped).
        :raises ValueError: one line naming the key or index and what is allowed.
        """
        if not isinstance(d, dict):
            raise ValueError(f'a cluster is an object {{"outputs": [...], "inputs": [...]}}, '
                             f"got {_short(d)}")
        keys = set(d)
        if keys != CLUSTER_KEYS:
            extra, lacking = sorted(map(str, keys - CLUSTER_KEYS)), sorted(CLUSTER_KEYS - keys)
            what = f"unknown key {extra[0]!r}" if extra else f"lacks key {lacking[0]!r}"
            raise ValueError(f"{what} (a cluster has exactly the keys inputs and outputs)")
        for name in ("outputs", "inputs"):
            values = d[name]
            if not isinstance(values, list):
                raise ValueError(f"{name} must be a list of integer indices, got {_short(values)}")
            bad = [
                v for v in values
                if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < INDEX_LIMIT
            ]
            if bad:
                raise ValueError(
                    f"{name} must hold integer indices in [0, 2**31), got {bad[0]!r} in "
                    f"{_short(values)}"
                )
            seen: set[int] = set()
            for v in values:
                if v in seen:
                    raise ValueError(f"{name} holds index {v} twice (allowed: distinct indices)")
                seen.add(v)
        return cls(d["outputs"], d["inputs"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cluster):
            return NotImplemented
        return np.array_equal(self.outputs, other.outputs) and np.array_equal(
            self.inputs, other.inputs
        )

    def __hash__(self) -> int:
        return hash((self.outputs.tobytes(), self.inputs.tobytes()))


def clusters_from_document(data: object, n_layers: int) -> list[list[Cluster]]:
    """Per-layer clusters from a clusters document: ``{"clusters": [...]}`` (no other key)
    or the bare list, one list of cluster objects (:meth:`Cluster.from_dict`) per layer.

    :param data: the parsed JSON.
    :param n_layers: the network's layers: the document holds exactly that many lists.
    :raises ValueError: one line naming the key, the layer or the cluster and what is
        allowed (the caller adds the file).
    """
    if isinstance(data, dict):
        unknown = sorted(str(k) for k in data if k != "clusters")
        if unknown or "clusters" not in data:
            what = f"unknown key {unknown[0]!r}" if unknown else "no key 'clusters'"
            raise ValueError(f'{what} (allowed: {{"clusters": [per-layer lists]}} or the list)')
        data = data["clusters"]
    if not isinstance(data, list) or len(data) != n_layers:
        got = f"{len(data)} lists" if isinstance(data, list) else f"a {type(data).__name__}"
        raise ValueError(f"expected a list of {n_layers} per-layer cluster lists (one per "
                         f"layer of the network), got {got}")
    layers = []
    for i, layer in enumerate(data):
        if not isinstance(layer, list):
            raise ValueError(f"layer {i}: expected a list of clusters, got {_short(layer)}")
        clusters = []
        for k, c in enumerate(layer):
            try:
                clusters.append(Cluster.from_dict(c))
            except ValueError as exc:
                raise ValueError(f"layer {i}: bad cluster {k} ({exc})") from None
        layers.append(clusters)
    return layers


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def clusters_mask(shape: tuple[int, int], clusters: Sequence[Cluster]) -> np.ndarray:
    """Boolean ``shape`` matrix that is True on every cluster's whole block (the cmap)."""
    cmap = np.zeros(shape, dtype=bool)
    for c in clusters:
        if c.outputs[-1] >= shape[0] or c.inputs[-1] >= shape[1]:
            raise ValueError(f"cluster {c.shape} indexes outside a layer of shape {shape}")
        cmap[np.ix_(c.outputs, c.inputs)] = True
    return cmap


def cluster_labels(shape: tuple[int, int], clusters: Sequence[Cluster]) -> np.ndarray:
    """Int matrix of ``shape`` holding, per cell, the index of the cluster whose block covers it.

    Cells outside every cluster hold -1. Clusters of one layer must be disjoint:
    two clusters sharing a cell raise ``ValueError`` naming both and the cell.

    :param shape: ``(n_outputs, n_inputs)`` of the layer.
    :param clusters: the layer's clusters.
    """
    labels = np.full(shape, -1, dtype=np.int64)
    for k, c in enumerate(clusters):
        if c.outputs[-1] >= shape[0] or c.inputs[-1] >= shape[1]:
            raise ValueError(f"cluster {k} {c.shape} indexes outside a layer of shape {shape}")
        block = labels[np.ix_(c.outputs, c.inputs)]
        taken = np.argwhere(block >= 0)
        if taken.size:
            r, q = taken[0]
            raise ValueError(
                f"clusters {int(block[r, q])} and {k} overlap at cell "
                f"(output {int(c.outputs[r])}, input {int(c.inputs[q])}); "
                "clusters of one layer must be disjoint"
            )
        labels[np.ix_(c.outputs, c.inputs)] = k
    return labels
