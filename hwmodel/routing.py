"""Partial sums between crossbars, and the router hops they travel.

An output neuron whose kept connections sit in k > 1 crossbars is computed in
pieces: each of those crossbars produces a partial sum (a partial membrane
potential in a spiking design, a partial dot product in an ADC design) that
must reach one place to be added. RESPARC-plc
(``src/compute_energy_latency_mlp.py``) sends these "intra-layer" partial sums
(4-bit membrane potentials) through the routers; ISAAC adds them in shift-and-
add units after moving them over the tile bus. Here:

* an output's partial sums are collected at its *home* crossbar, the lowest-
  numbered crossbar holding one of its connections; each of the other k - 1
  crossbars sends one partial sum (a reduction tree of k leaves has k - 1
  edges, whatever its shape);
* crossbars are placed in mapping order, ``group`` consecutive crossbars per
  router (the fixed router concentration of RESPARC-plc, ISAAC and PUMAsim), and
  each layer's routers on a square mesh in row-major order;
* a partial sum costs one hop through its own router plus one per mesh step to
  the home crossbar's router (Manhattan distance), so partial sums that stay
  under one router cost one hop, as RESPARC-plc assumes for all of them.

A crossbar's outputs held by no other crossbar send nothing. The order the
mapping lists crossbars therefore matters: tiles of the same outputs are
consecutive in the grid strategies (RESPARC-plc co-locates them too); the
clustered strategy lists clusters, then the leftover cover.
"""

from __future__ import annotations

import math

import numpy as np

from hwmodel._ragged import ragged_arange, segment_ids


def partial_sum_pairs(
    n_outputs: int, rows: np.ndarray, crossbars: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output, the crossbars holding its connections; and every partial-sum transfer.

    :param n_outputs: outputs of the layer.
    :param rows: output of each distinct (output, crossbar) pair in which the crossbar
        holds at least one of the output's connections, sorted by output, then crossbar.
    :param crossbars: the crossbar of each pair.
    :return: ``(per_output, sender, receiver)``: crossbars holding each output's
        connections (0 for an output without any), and for each transfer the sending
        crossbar and the home crossbar receiving it.

    >>> per_output, sender, receiver = partial_sum_pairs(
    ...     3, np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 2, 3, 4, 5]))
    >>> per_output.tolist(), sender.tolist(), receiver.tolist()
    ([2, 1, 3], [1, 4, 5], [0, 3, 3])
    """
    rows = np.asarray(rows, dtype=np.int64)
    crossbars = np.asarray(crossbars, dtype=np.int64)
    per_output = np.bincount(rows, minlength=n_outputs).astype(np.int64)
    if rows.size == 0:
        return per_output, crossbars, crossbars
    first = np.ones(rows.size, dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    home = crossbars[first][np.cumsum(first) - 1]
    return per_output, crossbars[~first], home[~first]


def pairs_from_owner(mask: np.ndarray, owner: np.ndarray, n_crossbars: int,
                     dense_limit: int = 1 << 26) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (output, crossbar) pairs, sorted, from each kept connection's crossbar.

    :param mask: the layer's kept connections.
    :param owner: crossbar of each kept connection, row-major order of ``mask``.
    """
    rows = np.nonzero(mask)[0]
    if mask.shape[0] * n_crossbars <= dense_limit:
        seen = np.zeros((mask.shape[0], n_crossbars), dtype=bool)
        seen[rows, owner] = True
        outputs, crossbars = np.nonzero(seen)
        return outputs, crossbars
    keys = np.unique(rows.astype(np.int64) * n_crossbars + owner)
    return keys // n_crossbars, keys % n_crossbars


def pairs_from_blocks(mask: np.ndarray, output_ptr, output_idx, input_ptr, input_idx,
                      check: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (output, crossbar) pairs, sorted, for a ``clustered`` mapping.

    A leftover crossbar lists only outputs it holds a connection of, so each listed
    output is a pair. A cluster crossbar (``check`` true) lists its block's every row;
    its block holds no other crossbar's connection, so an output is a pair when the
    mask has a connection in the block's cells on its row.
    """
    out_sizes = np.diff(output_ptr)
    xbar_of_pos = segment_ids(output_ptr)
    touched = ~np.repeat(check, out_sizes)
    ks = np.flatnonzero(check)
    if ks.size:
        n_o, n_i = out_sizes[ks], np.diff(input_ptr)[ks]
        cells = n_o * n_i
        xb = np.repeat(np.arange(ks.size), cells)
        t = ragged_arange(np.zeros_like(cells), cells)
        width = n_i[xb]
        pos = output_ptr[ks][xb] + t // width
        inp = input_idx[input_ptr[ks][xb] + t % width]
        touched[pos[mask[output_idx[pos], inp]]] = True
    pos = np.flatnonzero(touched)
    rows, xbars = output_idx[pos], xbar_of_pos[pos]
    key = np.lexsort((xbars, rows))
    return rows[key], xbars[key]


def pairs_from_grid(mask: np.ndarray, output_ptr, output_idx, input_ptr,
                    input_idx) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (output, crossbar) pairs, sorted, for a mapping whose crossbars are tiles
    of a grid: any two crossbars' output (input) sets are equal or disjoint.

    Inputs are grouped by the tile column they belong to, and an output touches a tile
    when it has a connection in that tile's columns (a reduction over column groups,
    no per-connection work).
    """
    n_out, n_in = mask.shape
    nx = output_ptr.size - 1
    if nx == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    in_sizes, out_sizes = np.diff(input_ptr), np.diff(output_ptr)
    in_first = input_idx[input_ptr[:-1]]  # identifies the tile column
    out_first = output_idx[output_ptr[:-1]]  # identifies the tile row
    col_keys, col_of_xbar = np.unique(in_first, return_inverse=True)
    row_keys, row_of_xbar = np.unique(out_first, return_inverse=True)
    tile = np.full((row_keys.size, col_keys.size), -1, dtype=np.int64)
    tile[row_of_xbar, col_of_xbar] = np.arange(nx)
    # Column group of every input and tile row of every output (-1: in no crossbar).
    col_group = np.full(n_in, -1, dtype=np.int64)
    col_group[input_idx] = np.repeat(col_of_xbar, in_sizes)
    row_group = np.full(n_out, -1, dtype=np.int64)
    row_group[output_idx] = np.repeat(row_of_xbar, out_sizes)
    cols = np.flatnonzero(col_group >= 0)
    order = cols[np.argsort(col_group[cols], kind="stable")]
    starts = np.flatnonzero(np.r_[True, np.diff(col_group[order]) != 0])
    touched = np.logical_or.reduceat(mask[:, order], starts, axis=1)  # (n_out, groups)
    touched[row_group < 0] = False
    r, g = np.nonzero(touched)
    xbar = tile[row_group[r], col_group[order[starts[g]]]]
    # The grid strategies number a tile row's crossbars in column order, so the pairs
    # come sorted; sort only if a strategy ever lists them otherwise.
    same_row = r[1:] == r[:-1]
    if np.any(same_row & (xbar[1:] <= xbar[:-1])):
        key = np.lexsort((xbar, r))
        r, xbar = r[key], xbar[key]
    return r, xbar


def transfer_hops(sender: np.ndarray, receiver: np.ndarray, group: float,
                  n_crossbars: int) -> np.ndarray:
    """Router hops of each transfer: 1 + mesh distance between the two routers.

    :param group: crossbars per router (crossbar ``k`` sits under router ``k // group``).
    :param n_crossbars: crossbars of the layer (sets the mesh width).

    >>> transfer_hops(np.array([1, 20, 40, 60]), np.zeros(4, int), 16, 64).tolist()
    [1.0, 2.0, 2.0, 3.0]
    """
    if sender.size == 0:
        return np.zeros(0)
    n_routers = max(1, math.ceil(n_crossbars / group - 1e-9))
    width = max(1, math.ceil(math.sqrt(n_routers) - 1e-9))
    rs = (sender / group + 1e-9).astype(np.int64)
    rr = (receiver / group + 1e-9).astype(np.int64)
    dist = np.abs(rs // width - rr // width) + np.abs(rs % width - rr % width)
    return 1.0 + dist


def hops_per_sender(sender: np.ndarray, hops: np.ndarray, n_crossbars: int) -> np.ndarray:
    """Per crossbar, the hops of all the partial sums it sends in one read."""
    return np.bincount(sender, weights=hops, minlength=n_crossbars).astype(np.float64)
