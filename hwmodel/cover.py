"""Covers of scattered connections by N x N crossbars.

The connections of a layer left outside every cluster are scattered, so they
must be packed into crossbars by some cover. Two covers live here:

``greedy_window_cover``
    The released TraNNsformer code's scan (``map_unclustered.m``): walk the
    matrix in row-major order and, at the first uncovered connection
    ``(j, k)``, open a crossbar on the contiguous window ``j..j+N-1`` x
    ``k..k+N-1``; it takes every uncovered connection in that window. It is
    kept as the baseline the better cover is measured against.

``band_cover``
    Group rows, then pack columns: the non-empty rows are cut, in some order,
    into bands of N rows; each band keeps only the columns it uses and cuts
    them into groups of N. A band using ``u`` columns costs ``ceil(u / N)``
    crossbars, so the count is ``sum_b ceil(u_b / N)``. Several row orders
    (index order, by degree, and a barycentric co-ordering that brings rows
    and columns of the same dense block together) are scored on rows and on
    columns (the transposed problem), and the cheapest is built. Scoring an
    order is one ``any`` over a reshaped boolean matrix, so trying several is
    cheap. With the index order it never needs more crossbars than tiling
    the compacted matrix (a band's non-empty tiles hold at most N of its
    columns each), and it is usually well below the window scan.

Both return a :class:`Cover`: per crossbar its output and input indices and,
for every connection, the crossbar that holds it. A crossbar lists only the
rows and columns its own connections use (unused lines are left unwired, so
a spike on them never triggers a read). Blocks of different crossbars may
overlap; a cell holding a connection owned by another crossbar is simply
programmed off, which is why the owner of every connection is explicit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from hwmodel._ragged import sort_within_segments
from hwmodel.crossbar_size import check_crossbar_size

#: Sweeps of the barycentric co-ordering; it settles within a handful.
_COORDER_SWEEPS = 6
#: Above this density (connections / non-empty rows x columns) every band of N rows
#: uses nearly all columns whatever the order, so the co-ordering is not tried.
_COORDER_MAX_DENSITY = 0.4
#: Elements scanned at a time when the window scan looks for its next start.
_SCAN_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class Cover:
    """Crossbars covering the connections of a boolean matrix.

    :param method: ``"band"`` or ``"greedy"``.
    :param output_sizes: number of output indices of each crossbar.
    :param output_idx: the crossbars' output indices, concatenated, sorted within each.
    :param input_sizes: number of input indices of each crossbar.
    :param input_idx: the crossbars' input indices, concatenated, sorted within each.
    :param owner: int32 matrix of the covered matrix's shape: the crossbar holding each
        connection, -1 where there is none.
    """

    method: str
    output_sizes: np.ndarray
    output_idx: np.ndarray
    input_sizes: np.ndarray
    input_idx: np.ndarray
    owner: np.ndarray

    @property
    def n_crossbars(self) -> int:
        return int(self.output_sizes.size)

    def transposed(self) -> Cover:
        """The same cover seen from the transposed matrix (outputs and inputs swapped)."""
        return Cover(
            self.method,
            self.input_sizes,
            self.input_idx,
            self.output_sizes,
            self.output_idx,
            self.owner.T,
        )


def _check(matrix: np.ndarray, crossbar_size: int) -> np.ndarray:
    check_crossbar_size(crossbar_size)
    m = np.asarray(matrix)
    if m.ndim != 2:
        raise ValueError(f"expected a 2-D connectivity matrix, got shape {m.shape}")
    return m if m.dtype == bool else m != 0


def _empty_cover(method: str, shape: tuple[int, int]) -> Cover:
    z = np.zeros(0, dtype=np.int64)
    return Cover(method, z, z, z, z, np.full(shape, -1, dtype=np.int32))


# --------------------------------------------------------------------------- band cover


def band_count(matrix: np.ndarray, crossbar_size: int, row_order: np.ndarray) -> int:
    """Crossbars the band cover needs when rows are banded in ``row_order``.

    :param matrix: boolean connectivity matrix.
    :param crossbar_size: N.
    :param row_order: the non-empty rows, in the order they are cut into bands of N.
    """
    usage = _band_usage(matrix[row_order], crossbar_size)
    return int(((usage.sum(axis=1) + crossbar_size - 1) // crossbar_size).sum())


def _band_usage(ordered_rows: np.ndarray, n: int) -> np.ndarray:
    """Boolean (bands x columns): which columns each band of ``n`` consecutive rows uses."""
    r, width = ordered_rows.shape
    n_bands = -(-r // n)
    padded = np.zeros((n_bands * n, width), dtype=bool)
    padded[:r] = ordered_rows
    return np.any(padded.reshape(n_bands, n, width), axis=1)


def coorder(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric co-ordering of rows and columns (all of them), as two permutations.

    Each sweep places every row at the mean rank of its columns and every column at
    the mean rank of its rows, then re-ranks. Rows (columns) sharing a dense block get
    equal positions and end up adjacent, which is what banding wants. Sparse products
    keep the cost proportional to the connections.

    :param matrix: boolean connectivity matrix.
    """
    a = sparse.csr_array(matrix, dtype=np.float64)
    at = a.T.tocsr()
    row_deg = np.maximum(a.sum(axis=1), 1.0)
    col_deg = np.maximum(at.sum(axis=1), 1.0)
    ramp_r = np.arange(a.shape[0], dtype=np.float64)
    ramp_c = np.arange(a.shape[1], dtype=np.float64)
    row_rank = ramp_r.copy()
    col_rank = ramp_c.copy()
    for _ in range(_COORDER_SWEEPS):
        row_rank[np.argsort((a @ col_rank) / row_deg, kind="stable")] = ramp_r
        col_rank[np.argsort((at @ row_rank) / col_deg, kind="stable")] = ramp_c
    return np.argsort(row_rank, kind="stable"), np.argsort(col_rank, kind="stable")


def _candidate_orders(matrix: np.ndarray, row_perm: np.ndarray | None) -> list[np.ndarray]:
    """Row orders worth scoring: index order, by falling degree, barycentric (if given)."""
    degree = np.count_nonzero(matrix, axis=1)
    active = np.flatnonzero(degree)
    orders = [active, active[np.argsort(-degree[active], kind="stable")]]
    if row_perm is not None:
        orders.append(row_perm[degree[row_perm] > 0])
    return orders


def band_cover(matrix: np.ndarray, crossbar_size: int) -> Cover:
    """Cover the connections of ``matrix`` by banding rows (or columns) and packing the rest.

    :param matrix: ``(n_outputs, n_inputs)`` connectivity; non-zero = a connection.
    :param crossbar_size: N, the crossbar's rows and columns.
    :return: the cheapest of the scored band covers (ties go to the first scored).
    """
    m = _check(matrix, crossbar_size)
    n = int(crossbar_size)
    nnz = np.count_nonzero(m)
    if nnz == 0:
        return _empty_cover("band", m.shape)
    row_perm = col_perm = None
    n_rows, n_cols = np.count_nonzero(m.any(axis=1)), np.count_nonzero(m.any(axis=0))
    if nnz < _COORDER_MAX_DENSITY * n_rows * n_cols:
        row_perm, col_perm = coorder(m)
    mt = np.ascontiguousarray(m.T)
    best: tuple[int, bool, np.ndarray] | None = None
    for transpose, mat, perm in ((False, m, row_perm), (True, mt, col_perm)):
        for order in _candidate_orders(mat, perm):
            count = band_count(mat, n, order)
            if best is None or count < best[0]:
                best = (count, transpose, order)
    assert best is not None
    _, transpose, order = best
    if transpose:
        return _build_bands(mt, order, row_perm, n).transposed()
    return _build_bands(m, order, col_perm, n)


def _build_bands(
    matrix: np.ndarray, row_order: np.ndarray, col_order: np.ndarray | None, n: int
) -> Cover:
    """Build the band cover: rows banded in ``row_order``, columns packed in ``col_order``."""
    r, width = len(row_order), matrix.shape[1]
    n_bands = -(-r // n)
    rows = np.zeros((n_bands * n, width), dtype=bool)
    rows[:r] = matrix[row_order]  # band-ordered, padded to whole bands
    if col_order is not None:
        rows = rows[:, col_order]  # from here on, columns are in packing order
    usage = rows.reshape(n_bands, n, width).any(axis=1)
    rank = np.cumsum(usage, axis=1, dtype=np.int64) - 1  # column's position in its band
    n_chunks = (rank[:, -1] + n) // n  # ceil(u / n) with u = rank[-1] + 1
    first = np.concatenate(([0], np.cumsum(n_chunks)[:-1]))
    total = int(n_chunks.sum())
    crossbar_of = (first[:, None] + rank // n).astype(np.int32)  # (band, column) -> crossbar

    # Inputs: the used columns of each band, in packing order, cut into groups of n.
    band, j = np.nonzero(usage)
    cols = j if col_order is None else col_order[j]
    xin, cols = sort_within_segments(crossbar_of[band, j].astype(np.int64), cols)

    # Owner of every connection: its band's crossbar for its column.
    per_cell = np.repeat(crossbar_of, n, axis=0)[:r]
    owner = np.full(matrix.shape, -1, dtype=np.int32)
    placed = np.where(rows[:r], per_cell, -1)
    if col_order is None:
        owner[row_order] = placed
    else:
        owner[np.ix_(row_order, col_order)] = placed

    # Outputs: a row is wired to a crossbar when it has a connection in that crossbar's
    # columns. One OR-reduction over each crossbar's column span does all bands at once:
    # lay bands side by side; a span running past its band's last used column only meets
    # columns its rows do not use.
    side_by_side = rows.reshape(n_bands, n, width).transpose(1, 0, 2).reshape(n, -1)
    starts = band * width + j  # flat position of every used column...
    starts = starts[rank[band, j] % n == 0]  # ...keeping the first of each crossbar
    touched = np.logical_or.reduceat(side_by_side, starts, axis=1)  # (n, total)
    xout, q = np.nonzero(touched.T)
    band_of_crossbar = np.repeat(np.arange(n_bands), n_chunks)
    xout, out_rows = sort_within_segments(xout, row_order[band_of_crossbar[xout] * n + q])

    return Cover(
        "band",
        np.bincount(xout, minlength=total),
        out_rows,
        np.bincount(xin, minlength=total),
        cols,
        owner,
    )


# --------------------------------------------------------------------- greedy window scan


def greedy_window_cover(matrix: np.ndarray, crossbar_size: int) -> Cover:
    """The released code's first-come window scan (the baseline to beat).

    In row-major order, the first connection not yet covered opens a crossbar on the
    window of N consecutive rows and N consecutive columns starting at it; the crossbar
    takes every uncovered connection inside. The loop runs once per crossbar, and each
    pass is vectorised over the N rows of its window.

    :param matrix: ``(n_outputs, n_inputs)`` connectivity; non-zero = a connection.
    :param crossbar_size: N, the crossbar's rows and columns.
    """
    m = _check(matrix, crossbar_size)
    n = int(crossbar_size)
    rows, cols = np.nonzero(m)
    nnz = rows.size
    if nnz == 0:
        return _empty_cover("greedy", m.shape)
    row_ptr = np.searchsorted(rows, np.arange(m.shape[0] + 1))
    covered = np.zeros(nnz, dtype=bool)
    window = np.empty(nnz, dtype=np.int64)
    n_windows = 0
    ptr = 0
    while ptr < nnz:
        if covered[ptr]:  # skip to the next uncovered connection, a chunk at a time
            chunk = covered[ptr : ptr + _SCAN_CHUNK]
            first = int(np.argmin(chunk))
            ptr += chunk.size if chunk[first] else first
            continue
        j, k = rows[ptr], cols[ptr]
        lo, hi = row_ptr[j], row_ptr[min(j + n, m.shape[0])]
        seg_cols = cols[lo:hi]
        take = lo + np.flatnonzero(~covered[lo:hi] & (seg_cols >= k) & (seg_cols < k + n))
        covered[take] = True
        window[take] = n_windows
        n_windows += 1

    owner = np.full(m.shape, -1, dtype=np.int32)
    owner[rows, cols] = window
    # Each window is trimmed to the rows and columns of the connections it took.
    out_keys = np.unique(window * m.shape[0] + rows)
    in_keys = np.unique(window * m.shape[1] + cols)
    return Cover(
        "greedy",
        np.bincount(out_keys // m.shape[0], minlength=n_windows),
        out_keys % m.shape[0],
        np.bincount(in_keys // m.shape[1], minlength=n_windows),
        in_keys % m.shape[1],
        owner,
    )


COVERS = {"band": band_cover, "greedy": greedy_window_cover}
