"""Crossbar-aware structured pruning: the dense mapping's tiles, pruned by norm, kept pruned."""

import doctest

import numpy as np
import pytest
import torch

import tnf_env.transform.tiles
from hwmodel.mapping import map_layer
from tnf_env.data.datasets import load_dataset
from tnf_env.model.baseline import get_baseline
from tnf_env.model.training import TrainingRecipe, to_tensors
from tnf_env.transform.tiles import (
    live_tiles,
    prune_tiles,
    run_rounds,
    tile_grid,
    tile_norms,
    tiles_kept,
)
from tnf_env.transform.transformation import Transformation

RECIPE = TrainingRecipe(batch_size=50, epochs=20)


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    data = load_dataset("digits")
    base = get_baseline(data, "64-40-10", seed=0, recipe=RECIPE)
    xt, yt = to_tensors(data.x_train, data.y_train)
    return base, xt, yt


def _tr(setup, n: int) -> Transformation:
    base, xt, yt = setup
    return Transformation(base.net, xt, yt, [n, n], RECIPE, seed=0)


@pytest.mark.parametrize("shape", [(40, 64), (10, 40), (37, 23), (5, 3)])
@pytest.mark.parametrize("n", [1, 7, 16, 64])
def test_tiles_are_the_dense_mappings_crossbars(shape, n):
    grid = tile_grid(shape, n)
    dense = map_layer(np.ones(shape, bool), n, "dense")
    assert grid.max() + 1 == dense.n_crossbars
    for k, xbar in enumerate(dense.crossbars):  # every crossbar's block is exactly one tile
        block = np.zeros(shape, bool)
        block[np.ix_(xbar.outputs, xbar.inputs)] = True
        assert np.array_equal(grid == k, block)


def test_norms_and_liveness_count_only_kept_weights():
    w = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    mask = np.ones((3, 4), bool)
    mask[:2, :2] = False  # tile 0 empty
    mask[2, 3] = False
    assert live_tiles(mask, 2).tolist() == [False, True, True, True]
    expected = [0.0, np.sqrt(3**2 + 4**2 + 7**2 + 8**2), np.sqrt(9**2 + 10**2), 11.0]
    assert np.allclose(tile_norms(w, mask, 2), expected)


def test_rounds_keep_a_geometric_share_and_never_a_whole_layer():
    assert [tiles_kept(100, 0.1, k) for k in range(4)] == [100, 90, 81, 73]
    assert [tiles_kept(4, 0.5, k) for k in range(4)] == [4, 2, 1, 1]
    assert tiles_kept(6, 1.0, 1) == 1
    assert tiles_kept(10, 0.0, 12) == 10


def test_a_round_removes_the_least_norm_tiles_and_retraining_keeps_them_removed(setup):
    tr = _tr(setup, 8)
    norms = [tile_norms(tr.weight(i), tr.mask(i), 8) for i in range(2)]
    removed = prune_tiles(tr, 0.25, 1)
    for i in range(2):
        total = len(norms[i])
        assert removed[i] == total - tiles_kept(total, 0.25, 1) > 0
        live = live_tiles(tr.mask(i), 8)
        assert (~live).sum() == removed[i]
        assert norms[i][~live].max() <= norms[i][live].min()  # the weakest tiles went
        grid = tile_grid(tr.mask(i).shape, 8)
        assert tr.mask(i)[np.isin(grid, np.flatnonzero(live))].all()  # whole tiles only
    gone = [~live_tiles(tr.mask(i), 8) for i in range(2)]
    tr.retrain(1.0)
    for i in range(2):
        grid = tile_grid(tr.mask(i).shape, 8)
        assert not tr.weight(i)[np.isin(grid, np.flatnonzero(gone[i]))].any()
        assert np.array_equal(~live_tiles(tr.mask(i), 8), gone[i])


def test_run_hands_back_the_latest_accepted_round(setup):
    tr = _tr(setup, 8)
    seen: list[int] = []

    def judge(t, k):  # accepts rounds 0 and 2 only, stops after round 3
        seen.append(k)
        return k in (0, 2), k >= 3

    state = {}

    def keep_round_two(t, k):
        ok, stop = judge(t, k)
        if k == 2:
            state["masks"] = t.masks()
        return ok, stop

    run = run_rounds(tr, 0.3, 5, 0.5, keep_round_two)
    assert seen == [0, 1, 2, 3]
    assert (run.delivered_round, run.last_round, run.meets_floor) == (2, 3, True)
    assert len(run.removed) == 3 and tr.epochs_trained == 1.5
    assert all(np.array_equal(a, b) for a, b in zip(tr.masks(), state["masks"], strict=True))
    # nothing accepted: the start network, marked as missing the floor
    tr = _tr(setup, 8)
    run = run_rounds(tr, 0.3, 2, 0.5, lambda t, k: (False, False))
    assert (run.delivered_round, run.last_round, run.meets_floor) == (0, 2, False)
    assert all(m.all() for m in tr.masks())


def test_bad_round_settings_are_refused(setup):
    tr = _tr(setup, 8)
    with pytest.raises(ValueError, match="tile fraction must be in"):
        run_rounds(tr, 1.5, 2, 1.0, lambda t, k: (True, False))
    with pytest.raises(ValueError, match="rounds must be >= 0"):
        run_rounds(tr, 0.1, -1, 1.0, lambda t, k: (True, False))


def test_docstring_examples():
    assert doctest.testmod(tnf_env.transform.tiles).failed == 0
