"""Mapping one layer's connectivity onto N x N crossbars (docs/design.md section 4).

A layer is a binary mask ``(n_outputs, n_inputs)``, like a torch ``nn.Linear``
weight; a non-zero entry is a kept connection. A crossbar has N rows (inputs)
and N columns (outputs); one cell holds one connection. Strategies:

``dense``
    The original network: ``ceil(n_in/N) * ceil(n_out/N)`` crossbars tiling the
    whole matrix, whatever the mask holds.
``pruned``
    The paper's pruning baseline: drop all-zero rows and columns, tile the rest
    densely (empty tiles of the compacted matrix still count).
``tiles``
    A stronger pruning baseline: only the non-empty tiles of the compacted matrix,
    in its natural order.
``clustered``
    Each cluster gets the crossbars its whole block needs (a block larger than N
    is tiled into ``ceil(n_out/N) * ceil(n_in/N)`` crossbars, cells that are zero in
    the mask included); the connections outside all cluster blocks are packed by a
    cover (:mod:`hwmodel.cover`): the band cover by default, or the released code's
    greedy window scan with ``leftover="greedy"``.

Every strategy puts each kept connection in exactly one crossbar cell. The
tiles of ``dense``, ``pruned`` and ``tiles`` are disjoint blocks, so a
connection belongs to the block holding it; ``clustered`` records the owner of
every connection explicitly, since a leftover crossbar's block may overlap a
cluster's block on cells it leaves programmed off. Tiles and cluster crossbars
list every row and column of their block; leftover crossbars list only the
lines their connections use.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hwmodel._ragged import ptr_from_sizes, ragged_arange
from hwmodel.clusters import Cluster, cluster_labels
from hwmodel.cover import COVERS
from hwmodel.crossbar_size import check_crossbar_size
from hwmodel.layer_mapping import Crossbar, InvariantError, LayerMapping

__all__ = [
    "LEFTOVER_COVERS",
    "STRATEGIES",
    "Crossbar",
    "InvariantError",
    "LayerMapping",
    "as_mask",
    "check_chain",
    "check_crossbar_size",
    "map_layer",
    "map_network",
    "per_layer",
]

STRATEGIES = ("dense", "pruned", "tiles", "clustered")
LEFTOVER_COVERS = tuple(COVERS)


# ------------------------------------------------------------------------------ building


class _Parts:
    """Accumulates crossbars given as flat (sizes, idx) pieces, then concatenates them."""

    def __init__(self) -> None:
        self.pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.count = 0

    def add(self, out_sizes, out_idx, in_sizes, in_idx, cluster: int = -1) -> int:
        """Append crossbars; return the index of the first one."""
        first = self.count
        k = len(out_sizes)
        self.pieces.append(
            (out_sizes, out_idx, in_sizes, in_idx, np.full(k, cluster, dtype=np.int64))
        )
        self.count += k
        return first

    def build(self, strategy, n, mask, owner_matrix=None, leftover="band") -> LayerMapping:
        cat = [
            np.concatenate([p[j] for p in self.pieces]).astype(np.int64)
            if self.pieces
            else np.zeros(0, dtype=np.int64)
            for j in range(5)
        ]
        return LayerMapping(
            strategy=strategy,
            crossbar_size=n,
            mask=mask,
            output_ptr=ptr_from_sizes(cat[0]),
            output_idx=cat[1],
            input_ptr=ptr_from_sizes(cat[2]),
            input_idx=cat[3],
            cluster_index=cat[4],
            owner_matrix=owner_matrix,
            leftover=leftover,
        )


def _tiles(
    rows: np.ndarray, cols: np.ndarray, n: int, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flat pieces of the tiles ``(a[k], b[k])`` of ``rows x cols`` cut into chunks of n."""
    out_sizes = np.minimum(n, len(rows) - a * n)
    in_sizes = np.minimum(n, len(cols) - b * n)
    return (
        out_sizes,
        rows[ragged_arange(a * n, out_sizes)],
        in_sizes,
        cols[ragged_arange(b * n, in_sizes)],
    )


def _all_tiles(n_rows: int, n_cols: int, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    n_col_chunks = -(-n_cols // n)
    a, b = np.divmod(np.arange(-(-n_rows // n) * n_col_chunks, dtype=np.int64), n_col_chunks)
    return a, b, n_col_chunks


def _map_grid(mask: np.ndarray, n: int, strategy: str) -> LayerMapping:
    """``dense``, ``pruned`` and ``tiles``: a grid over all rows or over the non-empty ones."""
    n_out, n_in = mask.shape
    if strategy == "dense":
        rows, cols = np.arange(n_out), np.arange(n_in)
    else:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    a, b, n_col_chunks = _all_tiles(len(rows), len(cols), n)
    if strategy == "tiles" and a.size:
        # Occupancy of every tile of the compacted matrix, by reshaping it into tiles.
        n_row_chunks = a.size // n_col_chunks
        padded = np.zeros((n_row_chunks * n, n_col_chunks * n), dtype=bool)
        padded[: len(rows), : len(cols)] = mask[np.ix_(rows, cols)]
        used = padded.reshape(n_row_chunks, n, n_col_chunks, n).any(axis=(1, 3)).ravel()
        a, b = a[used], b[used]
    parts = _Parts()
    parts.add(*_tiles(rows, cols, n, a, b))
    return parts.build(strategy, n, mask)


def _map_clustered(
    mask: np.ndarray, n: int, clusters: Sequence[Cluster], leftover: str
) -> LayerMapping:
    parts = _Parts()
    if clusters:
        labels = cluster_labels(mask.shape, clusters)  # validates range and disjointness
        rest = mask & (labels < 0)
    else:
        rest = mask
    n_cluster_xbars = sum(
        -(-c.outputs.size // n) * -(-c.inputs.size // n) for c in clusters
    )
    cover = COVERS[leftover](rest, n)
    # Leftover crossbars come after the cluster crossbars.
    owner = np.where(cover.owner >= 0, cover.owner + np.int32(n_cluster_xbars), np.int32(-1))
    for k, c in enumerate(clusters):
        a, b, n_col_chunks = _all_tiles(c.outputs.size, c.inputs.size, n)
        first = parts.add(*_tiles(c.outputs, c.inputs, n, a, b), cluster=k)
        pr, pc = np.nonzero(mask[np.ix_(c.outputs, c.inputs)])
        owner[c.outputs[pr], c.inputs[pc]] = first + (pr // n) * n_col_chunks + pc // n
    parts.add(cover.output_sizes, cover.output_idx, cover.input_sizes, cover.input_idx)
    return parts.build("clustered", n, mask, owner, leftover)


def as_mask(mask: np.ndarray, name: str = "mask") -> np.ndarray:
    """``mask`` as a boolean 2-D array (non-zero = kept); raise ``ValueError`` if it is not 2-D."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n_outputs, n_inputs) matrix, got shape {m.shape}")
    if m.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric or boolean, got dtype {m.dtype}")
    return m.astype(bool, copy=True) if m.dtype == bool else m != 0


def map_layer(
    mask: np.ndarray,
    crossbar_size: int,
    strategy: str,
    clusters: Sequence[Cluster] | None = None,
    *,
    leftover: str = "band",
) -> LayerMapping:
    """Map one layer onto ``crossbar_size`` x ``crossbar_size`` crossbars.

    :param mask: ``(n_outputs, n_inputs)`` connectivity; any non-zero entry is kept.
    :param crossbar_size: N, any positive integer (not only powers of two).
    :param strategy: one of :data:`STRATEGIES`.
    :param clusters: the layer's disjoint clusters; used by ``clustered`` only.
    :param leftover: cover for connections outside clusters: ``"band"`` (default) or
        ``"greedy"`` (the released code's window scan, kept for comparison).
    :raises ValueError: bad mask, size, strategy or clusters (out of range, overlapping).

    >>> m = map_layer(np.ones((3, 5)), 2, "dense")
    >>> m.n_crossbars, m.lower_bound, round(m.utilization, 3)
    (6, 4, 0.625)
    """
    n = check_crossbar_size(crossbar_size)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if leftover not in COVERS:
        raise ValueError(f"unknown leftover cover {leftover!r}; choose one of {LEFTOVER_COVERS}")
    m = as_mask(mask)
    if strategy == "clustered":
        return _map_clustered(m, n, list(clusters or ()), leftover)
    return _map_grid(m, n, strategy)


def check_chain(shapes: Sequence[tuple[int, ...]], names: Sequence[str] | None = None) -> None:
    """Raise ``ValueError`` unless each layer's inputs match the previous layer's outputs.

    :param shapes: ``(n_outputs, n_inputs)`` per layer, in forward order.
    :param names: layer names for the message (default ``layer 0``, ``layer 1``, ...).
    """
    names = list(names) if names is not None else [f"layer {i}" for i in range(len(shapes))]
    for i in range(1, len(shapes)):
        if shapes[i][1] != shapes[i - 1][0]:
            raise ValueError(
                f"shape mismatch: {names[i]} {tuple(shapes[i])} has {shapes[i][1]} inputs but "
                f"{names[i - 1]} {tuple(shapes[i - 1])} has {shapes[i - 1][0]} outputs"
            )


def map_network(
    masks: Sequence[np.ndarray],
    crossbar_size: int | Sequence[int],
    strategy: str,
    clusters: Sequence[Sequence[Cluster] | None] | None = None,
    *,
    leftover: str = "band",
) -> list[LayerMapping]:
    """Map every layer of a network (consecutive layers must chain).

    :param masks: per layer ``(n_outputs, n_inputs)`` connectivity, in forward order.
    :param crossbar_size: one N for the chip, or one per layer.
    :param strategy: one of :data:`STRATEGIES`.
    :param clusters: per layer its clusters (or None).
    :param leftover: cover for connections outside clusters.
    """
    sizes = per_layer(crossbar_size, len(masks), "crossbar_size")
    layer_clusters = per_layer(clusters, len(masks), "clusters") if clusters is not None else None
    mats = [as_mask(m, f"layer {i} mask") for i, m in enumerate(masks)]
    check_chain([m.shape for m in mats])
    return [
        map_layer(m, sizes[i], strategy, layer_clusters[i] if layer_clusters else None,
                  leftover=leftover)
        for i, m in enumerate(mats)
    ]


def per_layer(value, n_layers: int, name: str) -> list:
    """``value`` repeated per layer if scalar, else checked to have one entry per layer."""
    if value is None or isinstance(value, (int, np.integer)):
        return [value] * n_layers
    seq = list(value)
    if len(seq) != n_layers:
        raise ValueError(f"{name} has {len(seq)} entries for {n_layers} layers")
    return seq
