"""A cluster: a dense block of one layer's connectivity, outputs x inputs.

Layers follow torch's ``nn.Linear`` convention: a weight or mask matrix is
``(n_outputs, n_inputs)``, so a cluster names its rows (``outputs``) and its
columns (``inputs``). Both index arrays are sorted, unique and non-negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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

        :param d: the object; each list must hold whole numbers (JSON ``0.5`` or
            ``true`` would otherwise be silently cast to an index).
        """
        for name in ("outputs", "inputs"):
            values = d[name]
            if not isinstance(values, list):
                raise ValueError(f"{name} must be a list of integer indices, got {values!r}")
            bad = [
                v for v in values
                if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < INDEX_LIMIT
            ]
            if bad:
                shown = repr(values) if len(repr(values)) <= 120 else repr(values)[:117] + "..."
                raise ValueError(
                    f"{name} must hold integer indices in [0, 2**31), got {bad[0]!r} in {shown}"
                )
        return cls(d["outputs"], d["inputs"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cluster):
            return NotImplemented
        return np.array_equal(self.outputs, other.outputs) and np.array_equal(
            self.inputs, other.inputs
        )

    def __hash__(self) -> int:
        return hash((self.outputs.tobytes(), self.inputs.tobytes()))


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
