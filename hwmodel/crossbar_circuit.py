"""What a memristive crossbar really computes: equivalent weights with wire resistance.

Geometry and conventions (one physical N x N array)
---------------------------------------------------
``G[i, j]`` is the conductance of the cell joining row ``i`` (an input line) and
column ``j`` (an output line). Row ``i`` is driven at ``V_i`` by a driver on its
``j = 0`` end, through one wire segment before the first cell and one between each
pair of neighbouring cells (``wire_row_ohm`` each). Column ``j`` is read by a
sensing circuit held at virtual ground on its ``i = 0`` end, through one segment
after the first cell and one between neighbours (``wire_col_ohm``). Undriven rows
are held at 0 V. A crossbar of the mapping holding ``ki`` inputs and ``ko`` outputs
uses rows ``0..ki-1`` and columns ``0..ko-1`` (the lines nearest the drivers and
sensing circuits); every other cell is at ``r_off_ohm``.

With linear cells the array is a linear circuit, so the output currents are
``I = V @ E`` for an N x N *equivalent conductance matrix* ``E``: ``E[i, j]`` is the
current out of column ``j`` per volt on row ``i`` alone. Without wire resistance
``E = G``; with it, cells far from the driver and the sensing circuit see less
voltage, and more so the more current the lines carry, so a block full of large
weights drifts more than a sparse one whose zero cells sit at ``r_off``.

* :func:`exact_equivalent`: the reference. Nodal analysis of the whole circuit
  (2 N^2 nodes), one sparse LU factorisation, N right-hand sides (one per row).
* :func:`fast_equivalent`: the approximation used in the loop, vectorised over a
  batch of arrays. Each driven row is a resistive ladder whose cells lead to
  columns at 0 V; each column is a ladder whose cells lead to rows at 0 V except
  the driven one. Both ladders are solved exactly (tridiagonal, one right-hand
  side each, by the transfer-resistance symmetry of the column ladder), so the
  model keeps every order of the row and of the column IR drop and the sneak
  currents of the column into undriven rows, and neglects only how the column's
  rise feeds back on the row (a cross term of order ``(r_row G N^2) (r_col G N^2)``).
  Its error against the exact solve is measured in
  ``scripts/nonideal_accuracy.py --circuit`` and bounded in the tests.

Signed weights use a differential pair of arrays: ``G+`` and ``G-``, each
``g_off + (g_on - g_off) * max(+-w, 0) / w_max``, so a zero weight (and every unused
cell) is at ``g_off`` in both; the weight read back is
``(E+ - E-) * w_max / (g_on - g_off)``, exactly ``w`` on ideal wires.
:func:`layer_equivalent_weights` does this for every crossbar of a
:class:`~hwmodel.layer_mapping.LayerMapping` at once (numpy only).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from hwmodel.devices import DeviceModel
from hwmodel.layer_mapping import LayerMapping

__all__ = [
    "exact_equivalent",
    "fast_equivalent",
    "layer_equivalent_weights",
    "program_conductances",
]


# ------------------------------------------------------------------------- exact solve


def exact_equivalent(g: np.ndarray, wire_row_ohm: float, wire_col_ohm: float) -> np.ndarray:
    """Equivalent conductance matrix of one array by a sparse nodal solve.

    :param g: cell conductances ``(n_rows, n_cols)``, S (rows are inputs).
    :param wire_row_ohm: resistance of one row segment (0: ideal row wires).
    :param wire_col_ohm: resistance of one column segment (0: ideal column wires).
    :return: ``E`` of ``g``'s shape: ``E[i, j]`` = current out of column ``j`` per volt
        on row ``i`` (all other rows at 0 V).
    """
    g = np.asarray(g, dtype=np.float64)
    m, n = g.shape
    if wire_row_ohm == 0 and wire_col_ohm == 0:
        return g.copy()
    cells = np.arange(m * n).reshape(m, n)
    rows, cols, vals = [], [], []

    def add(r, c, v):
        rows.append(np.ravel(r))
        cols.append(np.ravel(c))
        vals.append(np.broadcast_to(v, np.shape(r)).ravel())

    def ladder(node, along_axis, conductance, offset):
        """Line segments: one from the end at index 0 to a fixed potential, one between
        each pair of neighbours along ``along_axis``."""
        idx = node + offset
        first = idx[:, 0] if along_axis == 1 else idx[0, :]
        add(first, first, conductance)  # segment to the driver / sensing circuit
        a = idx[:, :-1] if along_axis == 1 else idx[:-1, :]
        b = idx[:, 1:] if along_axis == 1 else idx[1:, :]
        add(a, a, conductance)
        add(b, b, conductance)
        add(a, b, -conductance)
        add(b, a, -conductance)

    if wire_row_ohm == 0:
        # Row nodes sit at their drivers' voltages: unknowns are the column nodes only.
        gc = 1.0 / wire_col_ohm
        ladder(cells, 0, gc, 0)
        add(cells, cells, g)
        a = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (m * n, m * n)
        )
        rhs = np.zeros((m * n, m))
        rhs[cells.ravel(), np.repeat(np.arange(m), n)] = g.ravel()
        x = spla.splu(a).solve(rhs)
        return (gc * x[cells[0, :], :]).T  # current through the first segment
    if wire_col_ohm == 0:
        # Column nodes are at virtual ground: unknowns are the row nodes only.
        gr = 1.0 / wire_row_ohm
        ladder(cells, 1, gr, 0)
        add(cells, cells, g)
        a = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (m * n, m * n)
        )
        rhs = np.zeros((m * n, m))
        rhs[cells[:, 0], np.arange(m)] = gr
        x = spla.splu(a).solve(rhs)  # (m n, m): row node voltages per driven row
        return np.einsum("ijk,ij->kj", x.reshape(m, n, m), g)
    gr, gc = 1.0 / wire_row_ohm, 1.0 / wire_col_ohm
    col = m * n  # column node (i, j) is unknown col + i n + j
    ladder(cells, 1, gr, 0)
    ladder(cells, 0, gc, col)
    add(cells, cells, g)
    add(cells + col, cells + col, g)
    add(cells, cells + col, -g)
    add(cells + col, cells, -g)
    size = 2 * m * n
    a = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (size, size)
    )
    rhs = np.zeros((size, m))
    rhs[cells[:, 0], np.arange(m)] = gr
    x = spla.splu(a).solve(rhs)
    return (gc * x[col + cells[0, :], :]).T


# ---------------------------------------------------------------------- fast model


@numba.njit(cache=True, nogil=True)
def _thomas_first_column(dg, g, along_rows):  # pragma: no cover - compiled; tested via callers
    """Thomas algorithm on every ladder of ``dg`` ``(batch, rows, cols)``: each ladder
    runs along the last axis (``along_rows`` False: one per row) or the middle one (True:
    one per column) and holds the diagonal of a symmetric tridiagonal ``T`` (off-diagonal
    ``-g``); returns ``x`` of ``dg``'s shape with ``T x = g e_0`` per ladder. Every
    ladder takes the same operations in the same order as a numpy sweep would; the batch
    is read in place, not copied into ladder-major order and back."""
    nb, nr, nc = dg.shape
    x = np.empty_like(dg)
    q = np.empty((nr, nc), dg.dtype)  # one array's pivots (columns case)
    qs = np.empty((nc, nr), dg.dtype)  # one array's ladders, ladder-major (rows case)
    xs = np.empty((nc, nr), dg.dtype)
    mg = -g
    for b in range(nb):
        if along_rows:  # ladders are columns: sweep down the rows, columns innermost
            for j in range(nc):
                q[0, j] = g / dg[b, 0, j]
                x[b, 0, j] = q[0, j]
            for k in range(1, nr):
                for j in range(nc):
                    piv = q[k - 1, j] * mg
                    piv += dg[b, k, j]
                    q[k, j] = g / piv
                    x[b, k, j] = x[b, k - 1, j] * q[k, j]
            for k in range(nr - 2, -1, -1):
                for j in range(nc):
                    x[b, k, j] += q[k, j] * x[b, k + 1, j]
        else:  # ladders are rows: sweep along them in a block of the batch held
            # ladder-major (one array's block fits the cache), rows innermost
            for i in range(nr):
                qs[0, i] = g / dg[b, i, 0]
                xs[0, i] = qs[0, i]
            for k in range(1, nc):
                for i in range(nr):
                    piv = qs[k - 1, i] * mg
                    piv += dg[b, i, k]
                    qs[k, i] = g / piv
                    xs[k, i] = xs[k - 1, i] * qs[k, i]
            for k in range(nc - 2, -1, -1):
                for i in range(nr):
                    xs[k, i] += qs[k, i] * xs[k + 1, i]
            for i in range(nr):
                for k in range(nc):
                    x[b, i, k] = xs[k, i]
    return x


def _ladder_first_column(diag: np.ndarray, g: float, axis: int) -> np.ndarray:
    """Solve ``T x = g e_0`` for a batch of symmetric tridiagonal ``T`` along ``axis``
    (-1 or -2; off-diagonal ``-g``, diagonal ``diag``), vectorised over the other axes;
    returns ``x`` with ``diag``'s layout."""
    if axis not in (-1, -2):
        raise ValueError(f"axis must be -1 or -2, got {axis}")
    shape = diag.shape
    flat = np.ascontiguousarray(diag).reshape((-1, *shape[-2:]))
    x = _thomas_first_column(flat, flat.dtype.type(g), axis == -2)
    return x.reshape(shape)


def fast_equivalent(
    g: np.ndarray, wire_row_ohm: float, wire_col_ohm: float, dtype=np.float64
) -> np.ndarray:
    """Approximate equivalent conductance matrices of a batch of arrays (see the module
    docstring): decoupled row and column ladders, each solved exactly.

    :param g: conductances ``(..., n_rows, n_cols)``, S.
    :param dtype: float type of the computation (float32 halves the time; its rounding
        is far below the model's error).
    :return: ``E`` of the same shape, ``E[..., i, j]`` per volt on row ``i``.
    """
    g = np.asarray(g, dtype=dtype)
    if wire_row_ohm == 0 and wire_col_ohm == 0:
        return g.copy()
    e = g.copy()
    if wire_row_ohm > 0:
        gr = 1.0 / wire_row_ohm
        # Row i driven alone, columns at 0 V: node j has segments to j-1 (or the driver)
        # and to j+1 (if any) and the cell to ground.
        diag = g + dtype(2 * gr)
        diag[..., -1] -= dtype(gr)
        e *= _ladder_first_column(diag, gr, -1)  # voltage at each cell, per volt
    if wire_col_ohm > 0:
        gc = 1.0 / wire_col_ohm
        # Column j with every cell leading to 0 V: the current reaching the sensing
        # circuit per unit current injected at node i is gc * (T^-1)[0, i] = u[i].
        diag = g + dtype(2 * gc)
        diag[..., -1, :] -= dtype(gc)
        e *= _ladder_first_column(diag, gc, -2)
    return e


# ------------------------------------------------------------- programming a mapping


def program_conductances(
    x: np.ndarray, device: DeviceModel, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Conductances of cells programmed to ``x`` in [0, 1] of the device's range, S.

    Levels, variation and stuck-at faults of ``device`` are applied (the random ones
    drawn from ``rng``, which must be given when the device has any).
    """
    x = np.asarray(x)
    x = np.clip(x if x.dtype.kind == "f" else x.astype(np.float64), 0.0, 1.0)
    if device.levels:
        x = np.round(x * (device.levels - 1)) / (device.levels - 1)
    g = x * (device.g_on - device.g_off)  # keeps x's float type
    g += device.g_off
    if not device.has_variation:
        return g
    if rng is None:
        raise ValueError("a device with variation or faults needs a random generator")
    if device.sigma > 0:
        z = rng.standard_normal(g.shape).astype(g.dtype, copy=False)
        if device.variation == "lognormal":
            g = g * np.exp(device.sigma * z)
        else:
            g = np.maximum(g * (1 + device.sigma * z), 0.0)
    if device.stuck_on_rate > 0 or device.stuck_off_rate > 0:
        u = rng.random(g.shape)
        g = np.where(u < device.stuck_off_rate, device.g_off, g)
        stuck_on = (u >= device.stuck_off_rate) & (
            u < device.stuck_off_rate + device.stuck_on_rate
        )
        g = np.where(stuck_on, device.g_on, g)
    return g


def _owner_full(mapping: LayerMapping) -> np.ndarray:
    owner = np.full(mapping.shape, -1, dtype=np.int64)
    owner[mapping.mask] = mapping.owner
    return owner


def layer_equivalent_weights(
    weights: np.ndarray,
    mapping: LayerMapping,
    device: DeviceModel,
    *,
    method: str = "fast",
    seed: int | np.random.SeedSequence | None = 0,
    chunk_cells: int = 4_000_000,
) -> np.ndarray:
    """The weights a layer's crossbars really apply, ``(n_outputs, n_inputs)``.

    Every crossbar of ``mapping`` is programmed as a differential pair (its own
    connections at their weights, every other cell at ``r_off``), its equivalent
    matrices are computed with the device's wires, and the read-back weights of all
    crossbars are summed where blocks overlap (both crossbars see the input and feed
    the output). Connections outside every block read 0.

    :param weights: the layer's weights ``(n_outputs, n_inputs)`` (masked or not:
        only connections the mapping holds are programmed).
    :param mapping: the layer's crossbars; its size N is the physical array size.
    :param device: cells and wires.
    :param method: ``"fast"`` (:func:`fast_equivalent`) or ``"exact"`` (one sparse
        solve per array, for validation).
    :param seed: seeds variation and faults (ignored without them).
    :param chunk_cells: crossbars are processed in groups of about this many cells.
    """
    if method not in ("fast", "exact"):
        raise ValueError(f"unknown method {method!r}: use 'fast' or 'exact'")
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != mapping.shape:
        raise ValueError(f"weights have shape {w.shape}, the mapping {mapping.shape}")
    out = np.zeros(mapping.shape, dtype=np.float64)
    n = mapping.crossbar_size
    nx = mapping.n_crossbars
    n_in = mapping.shape[1]
    w_flat = np.where(mapping.mask, w, 0.0).ravel()
    owner = _owner_full(mapping).ravel() if mapping.owner_matrix is not None else None
    w_max = float(np.abs(w_flat).max()) if w_flat.size else 0.0
    if nx == 0 or w_max == 0.0:
        return out
    rng = np.random.default_rng(seed) if device.has_variation else None
    scale = w_max / (device.g_on - device.g_off)
    per_chunk = max(1, chunk_cells // (n * n))
    itype: type[np.signedinteger] = np.int32 if out.size < 2**31 else np.int64
    ftype: type[np.floating] = np.float32 if method == "fast" else np.float64
    pos = np.arange(n)
    for start in range(0, nx, per_chunk):
        ks = np.arange(start, min(nx, start + per_chunk))
        # Per crossbar its lines, padded to N with -1: (crossbars, N) each.
        lines: list[np.ndarray] = []
        for ptr, idx in ((mapping.input_ptr, mapping.input_idx),
                         (mapping.output_ptr, mapping.output_idx)):
            first, count = ptr[ks][:, None], np.diff(ptr)[ks][:, None]
            at = np.minimum(first + pos, max(idx.size - 1, 0))
            lines.append(np.where(pos < count, idx[at] if idx.size else -1, -1))
        ins, outs = (a.astype(itype) for a in lines)
        # Physical cell (k, row, col) holds connection (outs[k, col], ins[k, row]).
        valid = (ins >= 0)[:, :, None] & (outs >= 0)[:, None, :]
        flat = np.where(valid, outs[:, None, :] * itype(n_in) + ins[:, :, None], 0)
        value = np.where(valid, w_flat[flat], 0.0).astype(ftype, copy=False)
        if owner is not None:  # blocks may overlap: a cell holds only its own connections
            value[owner[flat] != ks[:, None, None]] = 0.0
        value /= w_max
        x = np.stack([np.maximum(value, 0), np.maximum(-value, 0)])
        g = program_conductances(x, device, rng)
        if method == "fast":
            e = fast_equivalent(g, device.wire_row_ohm, device.wire_col_ohm, np.float32)
        else:
            e = np.stack([
                np.stack([exact_equivalent(g[s, k], device.wire_row_ohm, device.wire_col_ohm)
                          for k in range(ks.size)])
                for s in range(2)
            ])
        read = (e[0] - e[1])[valid] * scale
        out += np.bincount(flat[valid], read, minlength=out.size).reshape(out.shape)
    return out
