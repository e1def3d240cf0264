"""The result of mapping one layer: its crossbars, who holds each connection, checks.

A :class:`LayerMapping` stores its crossbars flat (CSR-like offsets and indices)
so that layers with thousands of crossbars stay cheap to build and to cost;
:attr:`LayerMapping.crossbars` gives them as ``(outputs, inputs)`` pairs.
:meth:`LayerMapping.verify` checks the invariants every strategy must keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from hwmodel._ragged import ptr_from_sizes, ragged_arange, segment_ids
from hwmodel.routing import pairs_from_blocks, pairs_from_grid, partial_sum_pairs


class InvariantError(ValueError):
    """A mapping breaks one of the invariants :meth:`LayerMapping.verify` checks."""


class Crossbar(NamedTuple):
    """One crossbar of a mapping: its output (column) and input (row) indices, sorted."""

    outputs: np.ndarray
    inputs: np.ndarray


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class LayerMapping:
    """Crossbars of one layer, stored flat (CSR-like) so large layers stay cheap.

    Crossbar ``k`` has outputs ``output_idx[output_ptr[k]:output_ptr[k + 1]]`` and inputs
    ``input_idx[input_ptr[k]:input_ptr[k + 1]]``; :attr:`crossbars` gives them as
    :class:`Crossbar` pairs.

    :param strategy: the strategy that built it (one of :data:`STRATEGIES`).
    :param crossbar_size: N.
    :param mask: the layer's kept connections, boolean ``(n_outputs, n_inputs)``.
    :param output_ptr: offsets into ``output_idx``, one more than there are crossbars.
    :param output_idx: concatenated output indices.
    :param input_ptr: offsets into ``input_idx``.
    :param input_idx: concatenated input indices.
    :param cluster_index: per crossbar, the cluster it belongs to, or -1.
    :param owner_matrix: int matrix of the mask's shape giving, for each kept connection,
        the crossbar holding it (-1 elsewhere); ``None`` when the crossbars' blocks are
        disjoint, so that a connection belongs to the block containing it.
    :param leftover: the cover used for connections outside clusters (``clustered`` only).
    """

    strategy: str
    crossbar_size: int
    mask: np.ndarray
    output_ptr: np.ndarray
    output_idx: np.ndarray
    input_ptr: np.ndarray
    input_idx: np.ndarray
    cluster_index: np.ndarray
    owner_matrix: np.ndarray | None = None
    leftover: str = "band"

    def __post_init__(self) -> None:
        for name in ("mask", "output_ptr", "output_idx", "input_ptr", "input_idx",
                     "cluster_index", "owner_matrix"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _frozen(getattr(self, name)))

    @cached_property
    def nnz(self) -> int:
        """Kept connections."""
        return int(np.count_nonzero(self.mask))

    @cached_property
    def owner(self) -> np.ndarray:
        """For each kept connection, in row-major order of the mask, the crossbar holding it.

        Connections no block holds get -1 (a broken mapping, which :meth:`verify` reports).
        """
        if self.owner_matrix is not None:
            return self.owner_matrix[self.mask].astype(np.int64)
        xbar, out, inp = self._cells()
        painted = np.full(self.shape, -1, dtype=np.int64)
        painted[out, inp] = xbar
        return painted[self.mask]

    @cached_property
    def _partial_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.strategy == "clustered":
            rows, xbars = pairs_from_blocks(self.mask, self.output_ptr, self.output_idx,
                                            self.input_ptr, self.input_idx,
                                            self.cluster_index >= 0)
        else:
            rows, xbars = pairs_from_grid(self.mask, self.output_ptr, self.output_idx,
                                          self.input_ptr, self.input_idx)
        per_output, sender, receiver = partial_sum_pairs(self.shape[0], rows, xbars)
        for a in (per_output, sender, receiver):
            a.setflags(write=False)
        return per_output, sender, receiver

    @property
    def partial_sums(self) -> np.ndarray:
        """Per output neuron, the partial sums it is computed from: the crossbars holding
        its kept connections (1 for an output held whole by one crossbar, 0 for none)."""
        return self._partial_sums[0]

    @property
    def partial_sum_transfers(self) -> tuple[np.ndarray, np.ndarray]:
        """``(sender, receiver)`` crossbar of every partial sum sent to an output's home
        crossbar (:mod:`hwmodel.routing`); ``sum(max(partial_sums - 1, 0))`` of them."""
        return self._partial_sums[1], self._partial_sums[2]

    @property
    def split_outputs(self) -> int:
        """Outputs whose connections span more than one crossbar."""
        return int(np.count_nonzero(self.partial_sums > 1))

    def _cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every cell of every block as (crossbar, output, input); for verification."""
        n_o, n_i = np.diff(self.output_ptr), np.diff(self.input_ptr)
        cells = n_o * n_i
        xbar = segment_ids(ptr_from_sizes(cells))
        t = ragged_arange(np.zeros_like(cells), cells)
        out = self.output_idx[self.output_ptr[xbar] + t // n_i[xbar]]
        inp = self.input_idx[self.input_ptr[xbar] + t % n_i[xbar]]
        return xbar, out, inp

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_outputs, n_inputs)`` of the layer."""
        return int(self.mask.shape[0]), int(self.mask.shape[1])

    @property
    def n_crossbars(self) -> int:
        return int(self.output_ptr.size - 1)

    @property
    def n_cells(self) -> int:
        """Cells of all crossbars, ``n_crossbars * N^2``."""
        return self.n_crossbars * self.crossbar_size**2

    @property
    def lower_bound(self) -> int:
        """``ceil(nnz / N^2)``: no mapping of this layer can use fewer crossbars."""
        return -(-self.nnz // self.crossbar_size**2)

    @property
    def utilization(self) -> float:
        """Kept connections / (crossbars * N^2); 0 for a mapping without crossbars."""
        return self.nnz / self.n_cells if self.n_crossbars else 0.0

    @property
    def n_cluster_crossbars(self) -> int:
        """Crossbars that hold a cluster (the rest cover leftovers or tile the layer)."""
        return int(np.count_nonzero(self.cluster_index >= 0))

    @cached_property
    def connections_per_crossbar(self) -> np.ndarray:
        """Kept connections held by each crossbar."""
        return np.bincount(self.owner, minlength=self.n_crossbars)

    @property
    def crossbar_utilization(self) -> np.ndarray:
        """Per crossbar, its connections / N^2."""
        return self.connections_per_crossbar / self.crossbar_size**2

    @property
    def input_counts(self) -> np.ndarray:
        """Wired input rows of each crossbar."""
        return np.diff(self.input_ptr)

    @property
    def output_counts(self) -> np.ndarray:
        """Wired output columns of each crossbar."""
        return np.diff(self.output_ptr)

    def crossbar(self, k: int) -> Crossbar:
        """Crossbar ``k`` (views into the flat arrays).

        :param k: crossbar index, ``0 <= k < n_crossbars``.
        """
        o = self.output_idx[self.output_ptr[k] : self.output_ptr[k + 1]]
        i = self.input_idx[self.input_ptr[k] : self.input_ptr[k + 1]]
        return Crossbar(o, i)

    @cached_property
    def crossbars(self) -> tuple[Crossbar, ...]:
        """All crossbars as ``(outputs, inputs)`` pairs."""
        return tuple(self.crossbar(k) for k in range(self.n_crossbars))

    def verify(self) -> None:
        """Check the mapping's invariants; raise :class:`InvariantError` naming the first broken.

        Every kept connection sits in exactly one crossbar cell (its owner's block
        contains it), no crossbar exceeds N x N, index lists are sorted, unique and in
        range, and the count is at least ``ceil(nnz / N^2)``.
        """
        n, (n_out, n_in), nx = self.crossbar_size, self.shape, self.n_crossbars
        for side, ptr, idx, limit in (
            ("output", self.output_ptr, self.output_idx, n_out),
            ("input", self.input_ptr, self.input_idx, n_in),
        ):
            sizes = np.diff(ptr)
            if ptr.size != nx + 1 or ptr[0] != 0 or ptr[-1] != idx.size or (sizes < 0).any():
                raise InvariantError(f"{side} offsets do not describe {nx} crossbars")
            if (sizes > n).any():
                k = int(np.argmax(sizes > n))
                raise InvariantError(f"crossbar {k} has {sizes[k]} {side}s, more than N = {n}")
            if idx.size and (idx.min() < 0 or idx.max() >= limit):
                raise InvariantError(f"an {side} index is outside 0..{limit - 1}")
            seg = segment_ids(ptr)
            if (np.diff(idx)[seg[1:] == seg[:-1]] <= 0).any():
                raise InvariantError(f"{side} indices of a crossbar are not sorted and unique")
        if self.cluster_index.size != nx:
            raise InvariantError("cluster_index must have one entry per crossbar")
        rows, cols = np.nonzero(self.mask)
        if self.owner_matrix is None and rows.size:
            # Implicit owners need each connection inside exactly one block.
            _, out, inp = self._cells()
            hits = np.bincount(out * n_in + inp, minlength=n_out * n_in)[rows * n_in + cols]
            if (hits != 1).any():
                c = int(np.argmax(hits != 1))
                raise InvariantError(
                    f"connection (output {rows[c]}, input {cols[c]}) lies in {hits[c]} "
                    "crossbar blocks instead of exactly one"
                )
        elif self.owner_matrix is not None and self.owner_matrix.shape != self.mask.shape:
            raise InvariantError("owner_matrix must have the mask's shape")
        if rows.size:
            if self.owner.min() < 0 or self.owner.max() >= nx:
                raise InvariantError("a connection's owner is not one of the crossbars")
            for side, ptr, idx, line, width in (
                ("output", self.output_ptr, self.output_idx, rows, n_out),
                ("input", self.input_ptr, self.input_idx, cols, n_in),
            ):
                # Crossbar-major keys are sorted, so membership is one searchsorted.
                keys = segment_ids(ptr) * width + idx
                want = self.owner * width + line
                at = np.minimum(np.searchsorted(keys, want), max(keys.size - 1, 0))
                bad = keys.size == 0 or keys[at] != want
                if np.any(bad):
                    c = int(np.argmax(np.broadcast_to(bad, want.shape)))
                    raise InvariantError(
                        f"connection (output {rows[c]}, input {cols[c]}) is owned by crossbar "
                        f"{self.owner[c]}, which lacks that {side}"
                    )
        if nx < self.lower_bound:
            raise InvariantError(f"{nx} crossbars is below the lower bound {self.lower_bound}")

    def to_dict(self, layer: int | None = None) -> dict:
        """JSON-ready description: per crossbar its inputs, outputs and utilisation.

        :param layer: layer index written into each crossbar's record, if given.
        """
        util = self.crossbar_utilization
        xbars = []
        for k, (outs, ins) in enumerate(self.crossbars):
            rec: dict = {"index": k}
            if layer is not None:
                rec["layer"] = layer
            rec["inputs"] = ins.tolist()
            rec["outputs"] = outs.tolist()
            rec["connections"] = int(self.connections_per_crossbar[k])
            rec["utilization"] = float(util[k])
            rec["cluster"] = int(self.cluster_index[k])
            xbars.append(rec)
        return {
            "layer": layer,
            "strategy": self.strategy,
            "leftover": self.leftover if self.strategy == "clustered" else None,
            "crossbar_size": self.crossbar_size,
            "shape": list(self.shape),
            "nnz": self.nnz,
            "n_crossbars": self.n_crossbars,
            "lower_bound": self.lower_bound,
            "utilization": self.utilization,
            "split_outputs": self.split_outputs,
            "partial_sum_transfers": int(self.partial_sum_transfers[0].size),
            "partial_sums": self.partial_sums.tolist(),
            "crossbars": xbars,
        }
