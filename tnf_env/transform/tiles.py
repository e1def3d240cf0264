"""Crossbar-aware structured pruning: remove whole N x N crossbar tiles by their weight norm.

The hardware baseline of Liang et al. 2018 ("Crossbar-aware neural network pruning") and
PIM-Prune (DAC 2020): each layer's weight matrix (outputs x inputs) is cut into the
N x N tiles the ``dense`` mapping of :mod:`hwmodel.mapping` puts on crossbars (the same
tiling, taken from that mapping), and pruning removes whole tiles, the lowest L2 norm
first, so that every removed tile is a crossbar the chip no longer needs. Rounds
alternate pruning and retraining (:meth:`~.transformation.Transformation.retrain`, the
masks held); the network handed back is the latest round a caller's judge accepts
(the start network when none is).

Round ``k`` keeps ``max(1, ceil(T (1 - f)^k))`` of a layer's ``T`` tiles, so each round
removes about the fraction ``f`` of the tiles still live, small layers included, and no
layer is ever cut off whole.

>>> tile_grid((3, 5), 2)
array([[0, 0, 1, 1, 2],
       [0, 0, 1, 1, 2],
       [3, 3, 4, 4, 5]])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from hwmodel.mapping import map_layer

from ..model.training import TrainingDiverged
from .transformation import Transformation

#: What a judge says of the network after a round: (meets the floor for selection, stop).
Judge = Callable[[Transformation, int], tuple[bool, bool]]


@lru_cache(maxsize=32)
def _grid(shape: tuple[int, int], crossbar_size: int) -> np.ndarray:
    full = map_layer(np.ones(shape, dtype=bool), crossbar_size, "dense")
    grid = full.owner.reshape(shape)  # the crossbar holding each cell, row-major
    grid.setflags(write=False)
    return grid


def tile_grid(shape: tuple[int, int], crossbar_size: int) -> np.ndarray:
    """Per cell of an ``(outputs, inputs)`` weight matrix, the index of the crossbar the
    dense mapping at ``crossbar_size`` puts it on (read-only; tiles are numbered row-major).

    :param shape: the weight matrix's shape.
    :param crossbar_size: N.
    """
    return _grid((int(shape[0]), int(shape[1])), int(crossbar_size))


def tile_norms(weight: np.ndarray, mask: np.ndarray, crossbar_size: int) -> np.ndarray:
    """L2 norm of each tile's kept weights (float64, one per tile).

    :param weight: the layer's weights, ``(outputs, inputs)``.
    :param mask: its kept connections (same shape).
    :param crossbar_size: N.
    """
    grid = tile_grid(weight.shape, crossbar_size)
    kept = np.where(np.asarray(mask) != 0, np.asarray(weight, dtype=np.float64), 0.0)
    return np.sqrt(np.bincount(grid.ravel(), weights=(kept**2).ravel(), minlength=grid.max() + 1))


def live_tiles(mask: np.ndarray, crossbar_size: int) -> np.ndarray:
    """Per tile whether it holds a kept connection (a crossbar the layer still needs).

    :param mask: the layer's kept connections, ``(outputs, inputs)``.
    :param crossbar_size: N.
    """
    grid = tile_grid(mask.shape, crossbar_size)
    held = np.bincount(grid.ravel(), weights=(np.asarray(mask) != 0).ravel(),
                       minlength=grid.max() + 1)
    return held > 0


def tiles_kept(total: int, fraction: float, round_: int) -> int:
    """Tiles of a ``total``-tile layer that round ``round_`` keeps: ``max(1, ceil(total (1 -
    fraction)^round_))`` (the product rounded first, so 3.0000001 stays 3).

    :param total: the layer's tiles.
    :param fraction: share of the live tiles a round removes, in [0, 1].
    :param round_: the round (0: the start).
    """
    return max(1, math.ceil(round(total * (1.0 - fraction) ** round_, 9)))


def prune_tiles(tr: Transformation, fraction: float, round_: int) -> list[int]:
    """Round ``round_``'s pruning: in each layer, remove the live tiles of least L2 norm
    (ties: the lower tile index first) down to :func:`tiles_kept`, at the layer's crossbar
    size; the tiles removed per layer.

    :param tr: the transformation whose masks are pruned.
    :param fraction: share of the live tiles a round removes, in [0, 1].
    :param round_: the round, from 1.
    """
    removed = []
    for i in range(tr.n_layers):
        n, mask = tr.crossbar_sizes[i], tr.mask(i)
        live = np.flatnonzero(live_tiles(mask, n))
        grid = tile_grid(mask.shape, n)
        drop = len(live) - tiles_kept(int(grid.max()) + 1, fraction, round_)
        if drop > 0:
            norms = tile_norms(tr.weight(i), mask, n)[live]
            gone = live[np.lexsort((live, norms))[:drop]]
            tr.net.set_mask(i, mask & ~np.isin(grid, gone))
        removed.append(max(drop, 0))
    return removed


@dataclass
class TileRun:
    """What :func:`run_rounds` did.

    :ivar delivered_round: the round whose network the transformation holds (0: the start).
    :ivar last_round: the last round run (earlier than asked when the judge stopped it or
        training diverged).
    :ivar meets_floor: the judge accepted the delivered network.
    :ivar removed: per round, the tiles removed per layer.
    """

    delivered_round: int
    last_round: int
    meets_floor: bool
    removed: list[list[int]] = field(default_factory=list)


def run_rounds(tr: Transformation, fraction: float, rounds: int, epochs: float,
               judge: Judge) -> TileRun:
    """Prune tiles and retrain ``rounds`` times; leave ``tr`` holding the latest round the
    judge accepts (the start network when it accepts none).

    :param tr: the transformation (its crossbar sizes set the tiles).
    :param fraction: share of the live tiles each round removes, in [0, 1].
    :param rounds: rounds to run (>= 0).
    :param epochs: retraining epochs per round (>= 0).
    :param judge: called on the start (round 0) and after each round's retraining:
        whether the network meets the floor for selection, and whether to stop.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"tile fraction must be in [0, 1], got {fraction}")
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")
    meets, stop = judge(tr, 0)
    delivered, snap = 0, tr.snapshot()
    run = TileRun(0, 0, meets)
    for k in range(1, rounds + 1):
        if stop:
            break
        run.removed.append(prune_tiles(tr, fraction, k))
        run.last_round = k
        try:
            tr.retrain(epochs)
        except TrainingDiverged:  # the network is lost: hand back the last accepted one
            break
        meets, stop = judge(tr, k)
        if meets:
            delivered, snap, run.meets_floor = k, tr.snapshot(), True
    if delivered != run.last_round:
        tr.restore(snap)
    run.delivered_round = delivered
    return run
